"""The data dictionary: what each column means, read from YAML beside the data.

The dictionary is the app's allowlist. A column the dictionary does not name
cannot be queried, so everything downstream (queries, URLs, the CLI) checks
names here and nowhere else. The YAML format is documented in
`docs/dictionary.md`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TYPES = ("categorical", "ordinal", "flag", "numeric")
ROLES = ("id", "cpp", "cluster", "school", "stage", "wave", "weight", "x", "y")
POLARITIES = ("higher_is_better", "lower_is_better", "neutral")
MISSING = "\u2205"  # the key of the "No answer" category in aggregated cells
MISSING_LABEL = "No answer"
# Texts that mean "no answer" in a text file (CSV, Excel), after trimming spaces; a
# dictionary's top-level `missing_text` replaces the list ([] turns it off).
MISSING_TEXT = ("NA", "N/A", "n/a", "NULL", "null", "-", ".", "#N/A")
MISSING_TEXT_MAX = 60


class YamlLoader(yaml.SafeLoader):
    """``yaml.SafeLoader``, except that only true/false are booleans (as in YAML 1.2).

    YAML 1.1 also reads yes/no/on/off as booleans, so ``values: {0: No, 1: Yes}``
    would label the codes "False" and "True", and a code ``yes`` would become 1.
    Nothing else differs: no Python objects, no tags beyond the safe ones.
    """


YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_yaml(text: str) -> Any:
    """Parse a dictionary's YAML safely, with YAML 1.2 booleans (see ``YamlLoader``)."""
    return yaml.load(text, Loader=YamlLoader)  # noqa: S506 - YamlLoader is a SafeLoader


class DictionaryError(ValueError):
    """A dictionary that cannot be used; the message names the file and entry."""


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    type: str
    group: str = "Other"
    question: str = ""
    role: str | None = None
    values: tuple[tuple[str, str], ...] = ()  # (code as text, label), in display order
    polarity: str = "neutral"
    positive: tuple[str, ...] = ()  # codes that count as "has the indicator"
    missing: tuple[str, ...] = ()  # codes that mean no answer (e.g. -9)
    # Why the role is only a guess (e.g. "named 'wt'"); "" when the role is declared.
    # A guessed weight is never used for weighting; see docs/dictionary.md.
    guessed: str = ""
    values_defaulted: bool = False  # a flag's {0: No, 1: Yes}, given by default rather than declared
    # The stage codes a question is asked at (the questionnaire's routing, e.g. substance use at S2-S4 only);
    # () when every stage is asked. Public, like the questionnaire: docs/disclosure.md, "Structural zeros".
    asked_at: tuple[str, ...] = ()

    @property
    def is_categorical(self) -> bool:
        return self.type != "numeric"

    @property
    def role_guessed(self) -> bool:
        """True when the role was guessed (from the column's name) and not yet confirmed."""
        return self.role is not None and bool(self.guessed)

    @property
    def value_labels(self) -> dict[str, str]:
        return dict(self.values)

    def label_of(self, code: str | None) -> str:
        """Display label of an aggregated key; None is the margin."""
        if code is None:
            return "All"
        if code == MISSING:
            return MISSING_LABEL
        return self.value_labels.get(code, code)

    def code_of(self, label: str) -> str:
        """The code a displayed label stands for (the CLI and URLs speak labels)."""
        if label == MISSING_LABEL:
            return MISSING
        for code, lab in self.values:
            if lab == label or code == label:
                return code
        raise KeyError(label)


@dataclass(frozen=True)
class Dictionary:
    variables: tuple[Variable, ...]
    title: str = "Untitled dataset"
    synthetic: bool = False
    source: str = ""  # where the dictionary came from: a path, or "inferred"
    notes: tuple[str, ...] = field(default=())  # what was inferred, in plain words
    missing_text: tuple[str, ...] = MISSING_TEXT  # texts that mean no answer in a CSV or Excel file

    def __post_init__(self):
        names = [v.name for v in self.variables]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise DictionaryError(f"{self.source}: variable(s) listed twice: {', '.join(dupes)}")
        routed = [v for v in self.variables if v.asked_at]
        stage = self.by_role("stage")
        if routed and stage is None:
            raise DictionaryError(f"{self.source}: variable '{routed[0].name}' has 'asked_at' stages, but no "
                                  "variable has the role 'stage'")
        for v in routed:
            unknown = [c for c in v.asked_at if c not in stage.value_labels]
            if unknown:
                raise DictionaryError(f"{self.source}: variable '{v.name}': 'asked_at' names stage codes that "
                                      f"'{stage.name}' does not label: {', '.join(unknown)}")

    def __contains__(self, name: object) -> bool:
        return any(v.name == name for v in self.variables)

    def __getitem__(self, name: str) -> Variable:
        for v in self.variables:
            if v.name == name:
                return v
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [v.name for v in self.variables]

    def by_role(self, role: str) -> Variable | None:
        return next((v for v in self.variables if v.role == role), None)

    def guesses(self) -> list[Variable]:
        """Variables whose role was guessed and is not yet confirmed."""
        return [v for v in self.variables if v.role_guessed]

    def groups(self) -> dict[str, list[Variable]]:
        """Analysis variables by group, in file order.

        Never the id; the weight and coordinates only while their role is a
        guess (until then a column named 'weight' is just a number, such as a
        body weight, and may be averaged like any other).
        """
        out: dict[str, list[Variable]] = {}
        for v in self.variables:
            if v.role == "id" or (v.role in ("weight", "x", "y") and not v.role_guessed):
                continue
            out.setdefault(v.group, []).append(v)
        return out

    def to_mapping(self) -> dict[str, Any]:
        out: dict[str, Any] = {"dataset": {"title": self.title, "synthetic": self.synthetic}}
        if self.missing_text != MISSING_TEXT:
            out["missing_text"] = list(self.missing_text)
        out["variables"] = [_variable_to_mapping(v) for v in self.variables]
        return out


def _variable_to_mapping(v: Variable) -> dict[str, Any]:
    out: dict[str, Any] = {"name": v.name, "label": v.label, "type": v.type, "group": v.group}
    if v.question:
        out["question"] = v.question
    if v.role:
        out["role"] = v.role
        if v.guessed:
            out["guessed"] = v.guessed
    if v.values and not v.values_defaulted:
        out["values"] = {_yaml_key(c): lab for c, lab in v.values}
    if v.polarity != "neutral":
        out["polarity"] = v.polarity
    if v.positive:
        out["positive"] = [_yaml_key(c) for c in v.positive]
    if v.missing:
        out["missing"] = [_yaml_key(c) for c in v.missing]
    if v.asked_at:
        out["asked_at"] = [_yaml_key(c) for c in v.asked_at]
    return out


def _yaml_key(code: str) -> int | str:
    """Write integer codes as YAML integers so the file reads naturally."""
    try:
        return int(code) if str(int(code)) == code else code
    except ValueError:
        return code


def code_text(value: Any) -> str:
    """Codes are compared as text: 1, 1.0 and "1" are the same code."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse(mapping: Any, source: str = "dictionary") -> Dictionary:
    """Build a Dictionary from parsed YAML, naming the entry at fault on error."""
    if not isinstance(mapping, dict) or not isinstance(mapping.get("variables"), list):
        raise DictionaryError(f"{source}: expected a mapping with a 'variables' list")
    dataset = mapping.get("dataset") or {}
    if not isinstance(dataset, dict):
        raise DictionaryError(f"{source}: 'dataset' must be a mapping")
    variables = tuple(_parse_variable(entry, i, source) for i, entry in enumerate(mapping["variables"], 1))
    synthetic = _yes_no(dataset.get("synthetic", False))
    if synthetic is None:
        raise DictionaryError(f"{source}: 'synthetic' must be true or false")
    return Dictionary(
        variables=variables,
        title=str(dataset.get("title", "Untitled dataset")),
        synthetic=synthetic,
        source=source,
        missing_text=_missing_text(mapping.get("missing_text", MISSING_TEXT), source),
    )


def _yes_no(value: Any) -> bool | None:
    """A setting's true/false, also written yes/no or on/off (YAML 1.1 habits); None when neither."""
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0", ""):
        return False
    return None


def _missing_text(value: Any, source: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, int, float)):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise DictionaryError(f"{source}: 'missing_text' must be a list of texts, e.g. [NA, \"N/A\", \"-\"]")
    out: list[str] = []
    for item in value:
        if item is None:  # NULL, null or ~ unquoted: YAML reads them as "nothing"
            out += ["NULL", "null"]
        elif isinstance(item, (dict, list)):
            raise DictionaryError(f"{source}: 'missing_text' must be a list of texts, not {type(item).__name__}s")
        else:
            out.append(code_text(item).strip())
    out = list(dict.fromkeys(t for t in out if t))
    if len(out) > MISSING_TEXT_MAX:
        raise DictionaryError(f"{source}: 'missing_text' lists {len(out)} texts; at most {MISSING_TEXT_MAX} are allowed")
    return tuple(out)


def _parse_variable(entry: Any, index: int, source: str) -> Variable:
    where = f"{source}: variable {index}"
    if not isinstance(entry, dict) or not entry.get("name"):
        raise DictionaryError(f"{where}: each variable needs at least a 'name'")
    name = str(entry["name"])
    where = f"{source}: variable '{name}'"
    vtype = entry.get("type", "categorical")
    if vtype not in TYPES:
        raise DictionaryError(f"{where}: type '{vtype}' is not one of {', '.join(TYPES)}")
    role = entry.get("role")
    if role is not None and role not in ROLES:
        raise DictionaryError(f"{where}: role '{role}' is not one of {', '.join(ROLES)}")
    polarity = entry.get("polarity", "neutral")
    if polarity not in POLARITIES:
        raise DictionaryError(f"{where}: polarity '{polarity}' is not one of {', '.join(POLARITIES)}")
    guessed = entry.get("guessed")
    if guessed is True:
        guessed = "guessed"
    guessed = "" if guessed in (None, False) else str(guessed).strip()
    if guessed and role is None:
        raise DictionaryError(
            f"{where}: 'guessed' marks a guessed role, but the variable has no role; delete the 'guessed' line"
        )
    raw_values = entry.get("values") or {}
    defaulted = vtype == "flag" and not raw_values
    if defaulted:
        raw_values = {0: "No", 1: "Yes"}
    if not isinstance(raw_values, dict):
        raise DictionaryError(f"{where}: 'values' must map codes to labels")
    values = tuple((code_text(c), str(lab)) for c, lab in raw_values.items())
    if any(c == MISSING for c, _ in values):
        raise DictionaryError(f"{where}: the code '{MISSING}' is reserved")
    codes = {c for c, _ in values}
    positive = tuple(code_text(c) for c in entry.get("positive") or ())
    if vtype == "flag" and not positive:
        positive = ("1",) if "1" in codes else ()
    unknown = [c for c in positive if c not in codes]
    if unknown:
        raise DictionaryError(f"{where}: 'positive' names codes with no label: {', '.join(unknown)}")
    return Variable(
        name=name,
        label=str(entry.get("label") or name),
        type=vtype,
        group=str(entry.get("group") or "Other"),
        question=str(entry.get("question") or ""),
        role=role,
        values=values,
        polarity=polarity,
        positive=positive,
        missing=tuple(code_text(c) for c in entry.get("missing") or ()),
        guessed=guessed,
        values_defaulted=defaulted,
        asked_at=_asked_at(entry.get("asked_at"), where),
    )


def _asked_at(value: Any, where: str) -> tuple[str, ...]:
    """The stage codes in `asked_at` (checked against the stage variable's codes by `Dictionary`)."""
    if value is None:
        return ()
    if not isinstance(value, list) or not value or any(isinstance(c, (dict, list)) for c in value):
        raise DictionaryError(f"{where}: 'asked_at' must list the stage codes the question is asked at, "
                              "e.g. [6, 7, 8]")
    return tuple(dict.fromkeys(code_text(c) for c in value))


def read(path: str | Path) -> Dictionary:
    """Read a YAML dictionary; any problem becomes a DictionaryError naming the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DictionaryError(f"{path.name}: cannot read the dictionary ({exc})") from None
    try:
        mapping = load_yaml(text)
    except yaml.YAMLError as exc:
        raise DictionaryError(f"{path.name}: not valid YAML ({exc})") from None
    return parse(mapping, source=path.name)


def dumps(dictionary: Dictionary) -> str:
    """The dictionary as YAML text, as `write` saves it and `parse(load_yaml(...))` reads it back."""
    return yaml.safe_dump(dictionary.to_mapping(), sort_keys=False, allow_unicode=True, width=100)


def write(dictionary: Dictionary, path: str | Path) -> None:
    Path(path).write_text(dumps(dictionary), encoding="utf-8")
