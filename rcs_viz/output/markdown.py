"""Untrusted text made safe for Streamlit's Markdown: the one escaper.

Streamlit renders Markdown (and some HTML) in st.markdown, st.caption,
st.warning and the like, widget labels, `help=` tooltips and toasts. Text
that comes from outside the app — link parameters, file and column names,
labels from a data file or dictionary, notes a user types — must reach a
reader as the same characters, never as a link, an image, emphasis or HTML.
Every Markdown and HTML character is backslash-escaped; escaping `:` and `.`
also stops bare URLs and `www.` names from being turned into links, and
`:material/...:` or `:red[...]` directives from being read.
"""

from __future__ import annotations

SPECIAL = frozenset("\\`*_{}[]()<>#+-.!|~$&:\"'=@/")


def escape(text) -> str:
    """`text` as literal characters in any Streamlit Markdown."""
    return "".join("\\" + ch if ch in SPECIAL else ch for ch in str(text))
