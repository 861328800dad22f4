"""What the Data dictionary page draws: the review table, the preview of a correction, the YAML download.

The pure work (the table, reading edits back, the messages) is
`rcs_viz.features.dictionary.model`; this module lays it out with Streamlit.
The configured data's dictionary belongs to the data owner and is shown
read-only; a file the user opened in their session can be corrected here, and
a correction is tried by opening the same file again with the corrected
dictionary (the file itself is only read). Every text from the data or its
dictionary is escaped where it meets Markdown; the editor's cells are plain text.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import streamlit as st

from rcs_viz.data.dictionary import ROLES, TYPES, Dictionary, dumps
from rcs_viz.engine import service
from rcs_viz.engine.load import Dataset, LoadError, load_dataset
from rcs_viz.engine.sql.views import QueryError
from rcs_viz.features.dictionary import model
from rcs_viz.features.dictionary.state import DictionaryView
from rcs_viz.output.markdown import escape
from rcs_viz.ui import render, session
from rcs_viz.ui.binding import Binding
from rcs_viz.ui.controls import dictionary as controls

EDITOR = "dd_editor"
YAML = "application/x-yaml"


def opened() -> bool:
    """True when this session looks at a file the user opened (theirs to correct), not the configured data."""
    return session.KEY in st.session_state


def _config() -> dict:
    cfg = {c: st.column_config.TextColumn(model.TITLES[c], help=model.HELP.get(c)) for c in model.COLUMNS}
    cfg["name"] = st.column_config.TextColumn(model.TITLES["name"], pinned=True)
    cfg["type"] = st.column_config.SelectboxColumn(model.TITLES["type"], options=list(TYPES), required=True,
                                                  help=model.HELP["type"])
    cfg["role"] = st.column_config.SelectboxColumn(model.TITLES["role"], options=[model.NO_ROLE, *ROLES],
                                                  required=True, help=model.HELP["role"])
    cfg["confirmed"] = st.column_config.CheckboxColumn(model.TITLES["confirmed"], help=model.HELP["confirmed"])
    return cfg


def guesses(d: Dictionary) -> None:
    """The roles guessed from column names, each with what it means until confirmed, and how to confirm them."""
    if d.guesses():
        st.warning("Guessed from column names, not yet confirmed:\n\n"
                   + "\n".join(f"- {escape(g)}" for g in model.guesses(d)) + "\n\n" + escape(model.HOW_TO_CONFIRM),
                   icon=":material/help:")


def header(ds: Dataset) -> None:
    """Where the dictionary came from, what was guessed, and which texts mean no answer."""
    d = ds.dictionary
    source = "inferred from the data" if ds.dictionary_source == "inferred" else \
        f"read from **{escape(Path(ds.dictionary_source).name)}**"
    st.caption(f"The dictionary of **{escape(ds.source.name)}**, {source}: for each column its type, role, labels "
               "and missing codes, and why.")
    guesses(d)
    texts = ", ".join(repr(t) for t in d.missing_text) if d.missing_text else "none"
    st.caption(escape(f"Texts read as no answer in CSV and Excel files (missing_text): {texts}."))


def review(ds: Dataset) -> model.Result:
    """The review table: an editor for a file the user opened, read-only for the configured data."""
    d = ds.dictionary
    frame = pd.DataFrame(model.review_rows(d, ds.notes), columns=list(model.COLUMNS))
    if not opened():
        st.dataframe(frame, column_config=_config(), hide_index=True, width="stretch", key="dd_table")
        st.info("This is the server's dictionary, kept by the data owner: it can be read and downloaded here, not "
                "changed. To correct a dictionary, open your own file on the Overview page.",
                icon=":material/lock:")
        return model.Result(d)
    edited = st.data_editor(frame, column_config=_config(), hide_index=True, width="stretch", num_rows="fixed",
                            disabled=[c for c in model.COLUMNS if c not in model.EDITABLE], key=EDITOR)
    result = model.apply(d, edited.to_dict("records"), ds.notes)
    if result.problems:
        st.error("These corrections cannot be used yet:\n\n" + "\n".join(f"- {escape(p)}" for p in result.problems),
                 icon=":material/error:")
    elif result.changes:
        st.info("Your corrections:\n\n" + "\n".join(f"- {escape(c)}" for c in result.changes),
                icon=":material/edit_note:")
    return result


def _corrected(ds: Dataset, d: Dictionary) -> Dataset:
    """The same file opened again with the corrected dictionary (raises LoadError); cached by content on disk."""
    cfg = session.config()
    text = dumps(d)
    folder = cfg.cache_dir / "uploads" / "reviewed" / hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{ds.source.stem}_dictionary.yaml"
    if not path.exists():
        path.write_text(text, encoding="utf-8")
    with st.spinner("Trying your corrections on the file…"):
        return load_dataset(ds.source, path, cache_dir=cfg.cache_dir, salt=cfg.salt(ds.source))


def _table(ds: Dataset, name: str | None, key: str) -> None:
    asked = model.preview_question(ds.dictionary, name) if name else "There is no column to count."
    if isinstance(asked, str):
        st.caption(escape(asked))
        return
    try:
        result = service.crosstab(ds, asked[0], asked[1], session.rules())
    except QueryError as exc:
        st.caption(escape(f"Cannot count this: {exc}"))
        return
    render.protected_table(result, key=key)


def _use(ds: Dataset) -> None:
    st.session_state[session.KEY] = ds
    st.session_state.pop(EDITOR, None)


def preview(ds: Dataset, b: Binding, view: DictionaryView, result: model.Result) -> None:
    """A small protected table, as opened and with the corrections, and a button that keeps them for this session."""
    st.subheader("Preview")
    controls.preview_picker(ds, b)
    before, after = st.columns(2)
    with before:
        st.markdown("**As opened**")
        _table(ds, view.var, "dd_before")
    with after:
        st.markdown("**With your corrections**")
        if result.dictionary is None:
            st.caption("Fix the problems above to see their effect.")
            return
        if not result.changes:
            st.caption("No corrections yet: edit the table above (label, type, role, role confirmed, missing codes).")
            return
        try:
            corrected = _corrected(ds, result.dictionary)
        except LoadError as exc:
            st.error(escape(f"With these corrections the file cannot be opened: {exc}"), icon=":material/error:")
            return
        _table(corrected, view.var, "dd_after")
        st.button("Use these corrections", type="primary", on_click=_use, args=(corrected,), key="dd_use",
                  help="Explore, Compare and Need then use the corrected dictionary, for this session only")


def download(ds: Dataset, result: model.Result) -> None:
    """The dictionary as YAML, corrected when there are corrections: open the file again with it to apply them."""
    d = result.dictionary
    stem = Path(ds.source).stem
    name = f"{stem}_dictionary.yaml" if ds.dictionary_source == "inferred" or opened() else \
        Path(ds.dictionary_source).name
    label = "Download the corrected dictionary (YAML)" if result.changed else "Download the dictionary (YAML)"
    st.download_button(label, data=dumps(d or ds.dictionary), file_name=name, mime=YAML, key="dd_download",
                       disabled=d is None, icon=":material/download:",
                       help="Open the data file again with this dictionary (Overview → Open your own data) to "
                            "apply it; the data file is never changed.")
