"""Untrusted text made safe for Streamlit's Markdown: the one escaper.

Streamlit renders Markdown (and some HTML) in st.markdown, st.caption,
st.warning and the like, st.table cells, widget labels, radio and
segmented-control options, `help=` tooltips and toasts. Text that comes from
outside the app — link parameters, file and column names, labels from a data
file or dictionary, notes a user types — must reach a reader as the same
characters, never as a link, an image, emphasis or HTML.

Two steps, because Streamlit's renderer (remark-gfm and its own plugins)
works at two levels:

* Every Markdown and HTML character is backslash-escaped, so the parser
  reads no link, image, emphasis, HTML, heading, list, table, `:red[...]`
  directive or `$` maths.
* Some rewriting happens afterwards, on the plain text the parser leaves,
  where backslashes are gone: remark-gfm links any `http://`, `https://` or
  `www.` URL and any e-mail address it finds there, and Streamlit turns
  `:material_icon:` and `:streamlit:` into icons and `->`, `<=`, `--` and the
  like into arrows and dashes. So a WORD JOINER (U+2060: no width, no line
  break) goes after every `:` and `@`, before the `.` of `www.`, and between
  the two characters of each of those pairs. A reader sees the same
  characters; a copy of the text holds the invisible joiners too.
"""

from __future__ import annotations

SPECIAL = frozenset("\\`*_{}[]()<>#+-.!|~$&:\"'=@/")
JOINER = "\u2060"  # WORD JOINER: invisible, and no line break at it
PAIRS = frozenset({"->", "<-", "--", ">=", "<=", "~="})  # typeset as arrows, dashes and ≥ ≤ ≈ by Streamlit


def escape(text) -> str:
    """`text` as literal characters in any Streamlit Markdown."""
    text = str(text)
    out = []
    for i, ch in enumerate(text):
        if ch == "." and text[max(i - 3, 0):i].lower() == "www":
            out.append(JOINER)
        out.append("\\" + ch if ch in SPECIAL else ch)
        if ch in ":@" or text[i:i + 2] in PAIRS:
            out.append(JOINER)
    return "".join(out)


def escape_frame(frame):
    """A copy of a pandas DataFrame whose text (cells, headers, index labels and their names) is escaped: st.table
    reads every one of them as Markdown."""
    def text(value):
        return escape(value) if isinstance(value, str) else value

    out = frame.map(text).rename(index=text, columns=text)
    out.index = out.index.set_names([text(n) for n in out.index.names])
    out.columns = out.columns.set_names([text(n) for n in out.columns.names])
    return out
