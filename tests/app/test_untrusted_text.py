"""Untrusted text is never markup: no page turns a link's settings, a data file's labels or a saved view's text
into a link, an image or HTML.

Every piece of text the app hands to Streamlit's Markdown (st.markdown, captions, alerts, toasts, headings,
metrics, widget labels and tooltips, radio and segmented-control options, expander, popover and tab labels,
column tooltips, st.table cells) is collected from the AppTest tree and read with a real Markdown parser
(markdown-it-py, GFM-like, with linkify). Streamlit's own renderer (remark-gfm) also turns URLs and e-mail
addresses found in a text node into links *after* backslash escapes are resolved, so the text the parser
leaves as plain text is run through the same rule (`_remark_autolinks`, a port of
mdast-util-gfm-autolink-literal's transform as bundled in Streamlit 1.67). Anything pointing at FOREIGN is
counted. st.html is read as HTML; selectbox and multiselect options are plain text in the browser and are
left out; Vega-Lite titles and tooltips are plain text as well.
"""

import html.parser
import json
import re
import shutil
import unicodedata

import pandas as pd
import pytest
import yaml
from markdown_it import MarkdownIt

from rcs_viz import config
from rcs_viz.features.story.model import SavedView

TIMEOUT = 120
FOREIGN = "evil.example"
PAYLOADS = [
    "[Sign in again](https://evil.example/x)",
    "![x](https://evil.example/i.png)",
    "https://evil.example/y",
    "www.evil.example",
    "<img src=https://evil.example/z>",
    "<a href=https://evil.example/a>x</a>",
    ":red[x] :material/warning:",
    "x@evil.example",
]

# ------------------------------------------------------------------------------------------ reading as Markdown

MD = MarkdownIt("gfm-like")
MD.linkify.tlds(["example"], True)  # linkify-it knows only real top-level domains; remark-gfm links any www.
_URL = re.compile(r"(https?://|www(?=\.))([-.\w]+)([^ \t\r\n]*)", re.I | re.ASCII)
_EMAIL = re.compile(r"([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)", re.ASCII)


def _after_boundary(text: str, i: int, no_slash: bool = False) -> bool:
    """remark-gfm links a literal only at the start, or after whitespace or punctuation (and, for e-mail, not '/')."""
    if i == 0:
        return True
    ch = text[i - 1]
    return (ch.isspace() or unicodedata.category(ch)[0] in "PS") and not (no_slash and ch == "/")


def _remark_autolinks(text: str) -> list[str]:
    """The URLs and e-mail addresses remark-gfm would link in a text node (escapes already resolved)."""
    found = [m.group(0) for m in _URL.finditer(text) if _after_boundary(text, m.start())]
    return found + [m.group(0) for m in _EMAIL.finditer(text) if _after_boundary(text, m.start(), no_slash=True)]


def foreign(markdown: str) -> list[str]:
    """Each link, image or piece of HTML pointing at FOREIGN that `markdown` becomes in Streamlit."""
    out = []
    for block in MD.parse(markdown):
        if block.type == "html_block" and FOREIGN in block.content:
            out.append(f"html {block.content.strip()}")
        text, depth = [], 0
        for tok in block.children or []:
            if tok.type == "link_open":
                depth += 1
                if FOREIGN in str(tok.attrGet("href")):
                    out.append(f"link {tok.attrGet('href')}")
            elif tok.type == "link_close":
                depth -= 1
            elif tok.type == "image" and FOREIGN in str(tok.attrGet("src")):
                out.append(f"image {tok.attrGet('src')}")
            elif tok.type == "html_inline" and FOREIGN in tok.content:
                out.append(f"html {tok.content}")
            if tok.type == "text" and depth == 0:
                text.append(tok.content)
            elif tok.type in ("softbreak", "hardbreak"):
                text.append("\n")
            else:
                text.append("\x00")  # another node: remark's text nodes end here
        out += [f"autolink {u}" for u in _remark_autolinks("".join(text)) if FOREIGN in u]
    return out


class _Tags(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        self.found += [f"html <{tag} {k}={v}>" for k, v in attrs if v and FOREIGN in v]


# ------------------------------------------------------------------------------------------ collecting the text

MARKDOWN_FIELDS = {"body", "label", "help", "title", "content", "delta", "delta_description", "text", "captions"}
PLAIN_FIELDS = {"Selectbox": {"options"}, "MultiSelect": {"options"}}  # plain text in the browser
MARKDOWN_OPTIONS = {"Radio"}  # radio options are Markdown (segmented controls: ButtonGroup.Option.content)
NOT_MARKDOWN = {"Code", "Json", "Exception", "Text", "VegaLiteChart", "ArrowVegaLiteChart", "DeckGlJsonChart",
                "Arrow", "ArrowData", "Html", "Dataframe", "Table"}


def _proto_texts(msg) -> list[str]:
    name = type(msg).__name__
    if name in NOT_MARKDOWN:
        return []
    out = []
    for field, value in msg.ListFields():
        if field.name in PLAIN_FIELDS.get(name, ()):
            continue
        if field.type == field.TYPE_MESSAGE:
            for sub in (value if field.is_repeated else [value]):
                out += _proto_texts(sub)
        elif field.type == field.TYPE_STRING and (field.name in MARKDOWN_FIELDS or
                                                  (field.name == "options" and name in MARKDOWN_OPTIONS)):
            out += list(value) if field.is_repeated else [value]
    return out


def _frame_texts(frame: pd.DataFrame) -> list[str]:
    """st.table renders every cell, index label and column header as Markdown."""
    labels = [*frame.index.to_flat_index(), *frame.columns.to_flat_index()]
    texts = [str(x) for label in labels for x in (label if isinstance(label, tuple) else (label,))]
    return texts + [str(v) for v in frame.to_numpy().ravel() if isinstance(v, str)]


def found_on(at) -> list[str]:
    """Every foreign link, image and piece of HTML on the page, each with the text it came from."""
    out = []

    def walk(node):
        proto = getattr(node, "proto", None)
        kind = type(node).__name__
        texts = []
        if kind == "Html":
            tags = _Tags()
            tags.feed(node.value)
            out.extend(f"{f}  ← st.html" for f in tags.found)
        elif kind == "Table":
            texts = _frame_texts(node.value)
        elif kind == "Dataframe":
            columns = json.loads(proto.columns or "{}")
            texts = [c["help"] for c in columns.values() if isinstance(c, dict) and c.get("help")]
        elif proto is not None:
            texts = _proto_texts(proto)
        for text in texts:
            out.extend(f"{f}  ← {kind}: {text[:120]!r}" for f in foreign(text))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return out


# ------------------------------------------------------------------------------------------ links with payloads

def values(keys: list[str]) -> dict:
    """Each setting given a payload as its value, the payloads taken in turn."""
    return {k: PAYLOADS[i % len(PAYLOADS)] for i, k in enumerate(keys)}


NAMES = {**{f"f.{p}": "1" for p in PAYLOADS}, **{p: "1" for p in PAYLOADS}}
FILTER_VALUES = {"f.sex": PAYLOADS, "f.stage": ["1", PAYLOADS[0]]}
LINKS = {
    "overview.py": [values(["story", "rows"]), NAMES],
    "explore.py": [values(["rows", "cols", "panel", "measure", "value", "wave", "missing", "ci", "weighted",
                           "stacked"]) | FILTER_VALUES, NAMES | {"rows": "sex"}],
    "compare.py": [values(["view", "ind", "level", "cpp", "cluster", "unit", "vs", "wave"]) | FILTER_VALUES,
                   values(["ind", "cpp", "unit", "vs", "wave"]) | {"view": "spine"},
                   NAMES | {"view": "gradient"}],
    "need.py": [values(["sec", "need", "contact", "by", "wave", "need_all", "contact_answered"]) | FILTER_VALUES,
                values(["from", "to", "shift", "avoid", "cost", "years", "need", "f.cpp"]) | {"sec": "services"},
                values(["from", "to", "shift", "avoid", "cost", "years", "contact"]) | {"sec": "whatif"},
                NAMES | {"sec": "whatif"}],
    "story.py": [values(["story", "present"]), NAMES],
    "dictionary.py": [values(["var", "rows"]), NAMES, {"var": "sex"}],
}
CASES = [(page, i, present) for page, links in LINKS.items() for i in range(len(links)) for present in (False, True)]


@pytest.mark.parametrize("page, i, present", CASES,
                         ids=[f"{p[:-3]}-{i}{'-present' if pr else ''}" for p, i, pr in CASES])
def test_a_tampered_link_shows_no_foreign_link_or_image(page, i, present, open_page):
    link = LINKS[page][i] | ({"present": "1"} if present else {})
    at = open_page(page, link)
    found = found_on(at)
    assert not found, f"{len(found)} foreign:\n" + "\n".join(found)


def test_the_check_finds_what_it_looks_for():
    """The reader itself: raw payloads are caught, escaped ones are not, and the app's own Markdown is fine."""
    from rcs_viz.output.markdown import escape

    for p in PAYLOADS:
        if p.startswith(":red"):
            continue
        assert foreign(p), p
        assert foreign(f"**Need:** {p} and more"), p
        assert not foreign(escape(p)), p
    assert foreign(r"see https\:\/\/evil\.example\/y")  # an escaped URL is still linked by remark-gfm
    assert not foreign("**Filters:** none · **Base:** 1,234 respondents")


# ------------------------------------------------------------------------------------------ a hostile data file

def _hostile(text: str, i: int) -> str:
    return f"{text} {PAYLOADS[i % len(PAYLOADS)]}"


@pytest.fixture(scope="module")
def hostile_config(tmp_path_factory, root):
    """A configuration whose data file, dictionary and services table carry the payloads in every text."""
    sample = root / "data_samples"
    tmp = tmp_path_factory.mktemp("hostile")
    data = tmp / "www.evil.example.parquet"
    shutil.copy(sample / "respondents.parquet", data)
    spec = yaml.safe_load((sample / "dictionary.yaml").read_text(encoding="utf-8"))
    spec["dataset"]["title"] = _hostile("Survey", 0)
    groups = {}
    renamed: dict[str, dict] = {}
    for i, var in enumerate(spec["variables"]):
        var["label"] = _hostile(var["label"], i)
        var["question"] = _hostile("Asked?", i + 3)
        var["group"] = groups.setdefault(var.get("group"), _hostile(str(var.get("group")), len(groups) + 5))
        if var.get("values") and var["name"] not in ("wave",):
            old = dict(var["values"])
            var["values"] = {code: _hostile(str(label), i + j) for j, (code, label) in enumerate(old.items())}
            renamed[var["name"]] = {str(old[c]): var["values"][c] for c in old}
    (tmp / "dictionary.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False),
                                         encoding="utf-8")
    services = pd.read_csv(sample / "services.csv")
    services["cpp"] = services["cpp"].map(renamed["cpp"])
    services["name"] = [_hostile(n, i) for i, n in enumerate(services["name"])]
    services["sector"] = [_hostile(s, len(s)) for s in services["sector"]]
    services["funding_source"] = [_hostile(s, len(s) + 1) for s in services["funding_source"]]
    services.to_csv(tmp / "services@evil.example.csv", index=False)
    path = tmp / "hostile.yaml"
    path.write_text(yaml.safe_dump({
        "data": str(data), "dictionary": str(tmp / "dictionary.yaml"), "services": str(tmp / "services@evil.example.csv"),
        "comparators": str(sample / "comparators.csv"), "cache_dir": str(tmp / "db"),
        "record_key_salt": "untrusted-text-test"}), encoding="utf-8")
    return path


@pytest.fixture
def hostile(hostile_config, monkeypatch):
    monkeypatch.setenv(config.ENV_VAR, str(hostile_config))
    return hostile_config


HOSTILE_VIEWS = [
    ("overview.py", {}),
    ("explore.py", {"rows": "sex", "cols": "simd", "f.stage": ["1", "2"], "f.sex": ["1"]}),
    ("explore.py", {"rows": "school", "cols": "sex", "f.cluster": ["101"], "measure": "row_pct"}),
    ("compare.py", {"level": "school", "cluster": "101"}),
    ("compare.py", {"view": "spine", "level": "school", "unit": "10101", "f.sex": ["1"]}),
    ("compare.py", {"view": "gradient"}),
    ("compare.py", {"view": "trend", "level": "cluster", "unit": "101"}),
    ("compare.py", {"view": "map"}),
    ("need.py", {"by": "sex", "f.stage": ["1"]}),
    ("need.py", {"sec": "services", "f.cpp": ["1"]}),
    ("need.py", {"sec": "whatif"}),
    ("dictionary.py", {"var": "sex"}),
]
HOSTILE_CASES = [(p, i, pr) for i, (p, _) in enumerate(HOSTILE_VIEWS) for pr in (False, True)]


@pytest.mark.parametrize("page, i, present", HOSTILE_CASES,
                         ids=[f"{p[:-3]}-{i}{'-present' if pr else ''}" for p, i, pr in HOSTILE_CASES])
def test_a_hostile_dictionary_shows_no_foreign_link_or_image(page, i, present, hostile, open_page):
    link = HOSTILE_VIEWS[i][1] | ({"present": "1"} if present else {})
    at = open_page(page, link)
    if page == "explore.py" and not present:  # the chart's table in words is drawn once opened
        at.session_state["chart_table"] = True
        at.run()
        assert at.table
    found = found_on(at)
    assert not found, f"{len(found)} foreign:\n" + "\n".join(found)


def test_the_hostile_dictionary_reaches_the_page(hostile, open_page):
    """The payloads do arrive (as text): the test above is not passing on a page that never shows them."""
    at = open_page("explore.py", {"rows": "sex", "f.sex": ["1"]})
    shown = " ".join([m.value for m in at.markdown] + [at.title[0].value] + [w.label for w in at.selectbox]
                     + [b.label for b in at.button]).replace("\\", "")
    assert "https:\u2060//evil.example/y" in shown  # a value label, escaped: the same characters, no link
    assert "Sign in again" in open_page("overview.py").title[0].value  # the dataset's title


# ------------------------------------------------------------------------------------------ saved views

HOSTILE_SAVED = tuple(
    SavedView(p, page, params, title=PAYLOADS[(i + 1) % len(PAYLOADS)], note=PAYLOADS[(i + 2) % len(PAYLOADS)])
    for i, (p, page, params) in enumerate(zip(PAYLOADS, ["explore", "compare", "need", ""] * 2, [
        (("rows", ("sex",)),), (("view", ("spine",)),), (("sec", ("services",)),), (),
        (("rows", (PAYLOADS[0],)),), (("ind", (PAYLOADS[1],)),), ((PAYLOADS[2], ("1",)),), (("f.sex", ("1",)),)])))


def test_saved_view_names_titles_and_notes_stay_text(app_test):
    at = app_test("app.py").run()
    at.session_state["saved_views"] = HOSTILE_SAVED
    at.session_state["sv_error"] = PAYLOADS[1]  # a refused edit, said in words
    at.session_state["sv_import_error"] = PAYLOADS[2]
    at.switch_page("app_pages/story.py").run()
    assert not at.exception, at.exception
    found = found_on(at)
    assert not found, f"{len(found)} foreign:\n" + "\n".join(found)
    at.session_state["save_view_done"] = PAYLOADS[0]  # the toast that confirms a save names the view
    at.session_state["save_view_error"] = PAYLOADS[3]
    at.switch_page("app_pages/explore.py").run()
    found = found_on(at)
    assert not found, f"{len(found)} foreign:\n" + "\n".join(found)


@pytest.mark.parametrize("step", [1, 2, 5, 8])
def test_a_story_step_shows_its_title_and_note_as_text(step, app_test):
    at = app_test("app.py").run()
    at.session_state["saved_views"] = HOSTILE_SAVED
    view = HOSTILE_SAVED[step - 1]
    page = {"": "overview", "explore": "explore", "compare": "compare", "need": "need"}[view.page]
    for k, vs in view.params:
        at.query_params[k] = list(vs)
    at.query_params["present"] = "1"
    at.query_params["story"] = str(step)
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, at.exception
    found = found_on(at)
    assert not found, f"{len(found)} foreign:\n" + "\n".join(found)


# ------------------------------------------------------------------------------------------ a file the user opened

@pytest.fixture
def hostile_upload(tmp_path):
    """A CSV opened in the session, with no dictionary: every column name and many values are payloads, and a
    guessed weight; loaded as Overview → Open your own data loads it."""
    from rcs_viz.engine.load import load_dataset

    n = 60
    frame = pd.DataFrame({p: [PAYLOADS[(i + j) % len(PAYLOADS)] for j in range(n)] for i, p in enumerate(PAYLOADS)})
    frame["weight"] = [1.0 + (j % 5) / 10 for j in range(n)]
    path = tmp_path / "www.evil.example.csv"
    frame.to_csv(path, index=False)
    return load_dataset(path, cache_dir=tmp_path / "db", salt="untrusted-text-test")


def test_a_hostile_file_under_review_stays_text(hostile_upload, app_test):
    at = app_test("app.py").run()
    at.session_state["rcs_dataset"] = hostile_upload
    seen = []
    for page in ("dictionary", "overview", "explore"):
        at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, at.exception
        seen += found_on(at)
    at.switch_page("app_pages/dictionary.py").run()
    edits = [  # a refused edit (its messages name the payloads), then one that is used (its changes name them)
        {0: {"label": PAYLOADS[1], "missing": PAYLOADS[2]}, 1: {"role": PAYLOADS[3]}, 2: {"type": PAYLOADS[4]}},
        {0: {"label": PAYLOADS[1], "missing": PAYLOADS[2]}, 3: {"role": "(none)"}, 5: {"missing": PAYLOADS[5]}},
    ]
    for edited, said in zip(edits, ("error", "info")):
        at.session_state["dd_editor"] = {"edited_rows": edited, "added_rows": [], "deleted_rows": []}
        at.run()
        assert not at.exception, at.exception
        assert any("evil" in e.value for e in getattr(at, said)), f"the edits' {said} names the payloads"
        seen += found_on(at)
    assert not seen, f"{len(seen)} foreign:\n" + "\n".join(seen)
