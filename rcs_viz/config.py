"""The data owner's configuration: which data to open and which rules protect it.

Disclosure settings live here (a file the data owner controls, or CLI flags),
never in a widget a viewer can touch. With no file the app opens the bundled
synthetic sample under the default rules.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from rcs_viz.engine.disclosure.gate import Rules

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = PROJECT_ROOT / "data_samples"
ENV_VAR = "RCS_EXPLORER_CONFIG"
DEFAULT_FILE = "rcs_explorer.yaml"
# The bundled synthetic sample's salt: published, since there is nothing real to protect, and fixed so that
# a link to the sample shows the same figures on every machine (demos, tests, the README's numbers).
SAMPLE_SALT = "synthetic-sample"
SALT_FILE = "record_key.salt"


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names the file and key."""


@dataclass(frozen=True)
class Access:
    """Who may use a server with sign-in, and as what (the `access:` setting; see README, "Sign-in and roles").

    Each list holds e-mail addresses (``ana@council.gov.uk``), whole domains
    (``@council.gov.uk``) and, when `group_claim` names the identity
    provider's claim that lists a user's groups, group names. Addresses and
    domains are kept in lower case and compared without case; group names
    exactly as the provider sends them. Someone in both lists is an explorer.
    """

    explorers: tuple[str, ...] = ()
    viewers: tuple[str, ...] = ()
    group_claim: str | None = None


@dataclass(frozen=True)
class Config:
    data: Path = SAMPLE_DIR / "respondents.parquet"
    dictionary: Path | None = SAMPLE_DIR / "dictionary.yaml"
    services: Path | None = SAMPLE_DIR / "services.csv"
    comparators: Path | None = SAMPLE_DIR / "comparators.csv"
    rules: Rules = field(default_factory=Rules)
    cache_dir: Path = PROJECT_ROOT / ".cache" / "db"
    record_key_salt: str | None = field(default=None, repr=False)  # None: generated (see `salt`)
    store: str | None = field(default=None, repr=False)  # a database URL, which may hold a password
    access: Access | None = None  # None: no sign-in asked for by this file (see rcs_viz.ui.access)
    source: str = "built-in defaults (synthetic sample)"

    def salt(self, data: Path | None = None) -> str:
        """The secret mixed into the perturbation keys of `data`'s records (the configured data if None); never empty.

        Configured, it is used as given. Otherwise the bundled sample uses its
        published salt, and any other data a salt generated on first use and
        kept in `record_key.salt` beside the data cache (readable by the owner
        only), so every server process sharing the cache uses the same one.
        Changing it changes every perturbed figure: an attacker holding the
        same table under two salts has two independent draws to average.
        """
        if self.record_key_salt is not None:
            return self.record_key_salt
        if Path(data or self.data).resolve() == Config.data.resolve():
            return SAMPLE_SALT
        return _generated_salt(self.cache_dir.parent / SALT_FILE)

    @property
    def store_path(self) -> Path:
        """The server store's SQLite file when no ``store`` URL is configured: beside the data cache."""
        return self.cache_dir.parent / "store.sqlite"


KEYS = {"data", "dictionary", "services", "comparators", "disclosure", "cache_dir", "record_key_salt", "store",
        "access"}
ACCESS_KEYS = ("explorers", "viewers", "group_claim")


def load(path: str | Path | None = None) -> Config:
    """Read the configuration named by the argument, $RCS_EXPLORER_CONFIG, or ./rcs_explorer.yaml."""
    if path is None:
        path = os.environ.get(ENV_VAR) or (DEFAULT_FILE if Path(DEFAULT_FILE).exists() else None)
    if path is None:
        return Config()
    path = Path(path)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration ({exc})") from None
    return _read(path, stamp)


@lru_cache(maxsize=8)
def _read(path: Path, stamp: int) -> Config:
    """Parse a configuration file once per version of it (every page run asks for it)."""
    try:
        mapping = yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the configuration ({exc})") from None
    if not isinstance(mapping, dict):
        raise ConfigError(f"{path}: expected a mapping of settings")
    unknown = sorted(set(mapping) - KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(KEYS))}")
    base = path.parent

    def resolve(key: str, default: Path | None) -> Path | None:
        if key not in mapping:
            return default
        return None if mapping[key] is None else (base / str(mapping[key])).resolve()

    try:
        rules = Rules.from_mapping(mapping.get("disclosure") or {})
    except ValueError as exc:
        raise ConfigError(f"{path}: disclosure: {exc}") from None
    store = mapping.get("store")
    if store is not None and not (isinstance(store, str) and store.strip()):
        raise ConfigError(f"{path}: store: expected a database URL, e.g. postgresql://rcs@dbhost/rcs")
    data = resolve("data", Config.data)
    same_sample = data == Config.data
    return Config(
        data=data,
        dictionary=resolve("dictionary", Config.dictionary if same_sample else None),
        services=resolve("services", Config.services if same_sample else None),
        comparators=resolve("comparators", Config.comparators if same_sample else None),
        rules=rules,
        cache_dir=resolve("cache_dir", Config.cache_dir),
        record_key_salt=_salt_setting(path, mapping),
        store=store,
        access=_access_setting(path, mapping),
        source=str(path),
    )


def _salt_setting(path: Path, mapping: dict) -> str | None:
    if "record_key_salt" not in mapping or mapping["record_key_salt"] is None:
        return None
    salt = str(mapping["record_key_salt"])
    if not salt.strip():
        raise ConfigError(f"{path}: record_key_salt is empty; leave it out to have a secret one generated and kept "
                          "beside the data cache, or set a long random text")
    return salt


def _access_setting(path: Path, mapping: dict) -> Access | None:
    """The `access:` setting, checked: a list of whom may explore, a list of whom may view, and the group claim."""
    if "access" not in mapping:
        return None
    access = mapping["access"]
    example = "e.g. access: {explorers: [ana@council.gov.uk], viewers: ['@council.gov.uk']}"
    if not isinstance(access, dict):
        raise ConfigError(f"{path}: access: expected the lists explorers and viewers, {example}")
    unknown = sorted(set(access) - set(ACCESS_KEYS))
    if unknown:
        raise ConfigError(f"{path}: access: unknown setting(s) {', '.join(map(str, unknown))}; "
                          f"known: {', '.join(ACCESS_KEYS)}")
    claim = access.get("group_claim")
    if claim is not None and not (isinstance(claim, str) and claim.strip()):
        raise ConfigError(f"{path}: access: group_claim: expected the name of the identity provider's claim that "
                          "lists a user's groups, e.g. groups")
    claim = claim.strip() if claim is not None else None
    lists = {}
    for key in ("explorers", "viewers"):
        entries = access.get(key) or []
        if isinstance(entries, str):
            entries = [entries]
        if not isinstance(entries, list):
            raise ConfigError(f"{path}: access: {key}: expected a list of e-mail addresses, @domains or groups")
        lists[key] = tuple(_access_entry(path, key, entry, claim) for entry in entries)
    if not lists["explorers"] and not lists["viewers"]:
        raise ConfigError(f"{path}: access: names nobody, so nobody could use the app; list the explorers and "
                          f"viewers, {example}")
    return Access(explorers=lists["explorers"], viewers=lists["viewers"], group_claim=claim)


def _access_entry(path: Path, key: str, entry, claim: str | None) -> str:
    text = entry.strip() if isinstance(entry, str) else ""
    where = f"{path}: access: {key}: {str(entry)[:60]!r}"
    if not text or any(ch.isspace() for ch in text):
        raise ConfigError(f"{where} is not an e-mail address, an @domain or a group name")
    if "@" in text:
        local, _, domain = text.rpartition("@")
        if "@" in local or "." not in domain or domain.startswith(".") or domain.endswith("."):
            raise ConfigError(f"{where} is not an e-mail address (name@council.gov.uk) or a domain (@council.gov.uk)")
        return text.lower()
    if claim is None:
        raise ConfigError(f"{where} is neither an e-mail address nor an @domain; to name a group, set "
                          "access: group_claim to the identity provider's claim that lists a user's groups")
    return text  # a group name, compared exactly as the identity provider sends it


def _generated_salt(path: Path) -> str:
    """Read the generated salt, making it first if there is none; processes racing to make it agree on one."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(secrets.token_hex(32) + "\n")
        try:
            os.link(tmp, path)  # atomic: whole file or nothing, and only the first process's
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text(encoding="utf-8").strip() or _raise_empty(path)


def _raise_empty(path: Path) -> str:
    raise ConfigError(f"{path}: the record-key salt file is empty; restore it from a backup (a new salt changes "
                      "every perturbed figure already published)")
