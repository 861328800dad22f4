"""The one escaper (`rcs_viz.output.markdown.escape`), read back with a real Markdown parser.

For every hostile string: markdown-it (GFM-like, with linkify) makes no link, image or HTML of the escaped
text, and the text a reader sees is the original, character for character (the invisible WORD JOINERs
aside). Streamlit's renderer then rewrites the plain text the parser leaves (remark-gfm links URLs and
e-mail addresses there, Streamlit draws icons, its logo, arrows and dashes): the same patterns, taken from
Streamlit 1.67's frontend bundle, find nothing in it either.
"""

import html.parser
import re

import pytest
from markdown_it import MarkdownIt

from rcs_viz.output.markdown import JOINER, escape

MD = MarkdownIt("gfm-like")
MD.linkify.tlds(["example"], True)  # linkify-it knows only real top-level domains

HOSTILE = [
    "[Sign in again](https://evil.example/x)", "![x](https://evil.example/i.png)", "https://evil.example/y",
    "www.evil.example", "WWW.EVIL.EXAMPLE", "HTTPS://EVIL.EXAMPLE/Y", "http://evil.example", "x@evil.example",
    "see https://evil.example/y, then www.evil.example.", "(https://evil.example)", "<https://evil.example/q>",
    "<img src=https://evil.example/z>", "<a href=https://evil.example/a>x</a>", "<script>alert(1)</script>",
    "x<!-- c -->y", "<b>bold</b>", "&lt;img src=x&gt;", "&#x3C;img&#62;", "&amp; &copy; &#169;",
    "[x](javascript:alert(1))", "![](data:image/png;base64,AAAA)", "[ref]: https://evil.example/r", "[x][ref]",
    "[^1]", "**bold** __bold__ *it* _it_ ~~gone~~ `code`", "# Heading", "## Heading ##", "> quote", "1. item",
    "1) item", "- item", "+ item", "* item", "---", "===", "***", "| a | b |", "```", "~~~", "$x^2$", "$$x$$",
    ":red[x]", ":orange-background[x]", ":material/warning:", ":material_warning:", ":streamlit:", ":smile:",
    ":+1:", "a -> b <- c <-> d -- e >= f <= g ~= h", "\\[not a link\\]", "ends with a backslash \\",
    "a_b_c __init__ snake_case", "\"double\" 'single' `tick`", "{braces} =equals= @at #hash !bang |pipe",
    "100% of 1,234 (5.6) — ok", "Ünïcödé ✓ 🙂 ｗｗｗ．ｅｖｉｌ．ｅｘａｍｐｌｅ", "tab\there", "two  spaces",
    "x" * 300, "wwwww.evil.example", "www.evil.example/path?q=1&r=2#frag", "mailto:x@evil.example",
    "ftp://evil.example/f", "xmpp:x@evil.example", "https://evil.example/a_(b)", "[a](<https://evil.example>)",
    "[a]( https://evil.example 'title')", "\\", "", " ", "www.", "https://", "@", ":",
]

# What Streamlit's renderer does to the text a parser leaves as plain text (Streamlit 1.67's bundle:
# mdast-util-gfm-autolink-literal's transform, and Streamlit's own icon, logo and typography plugins).
REWRITES = [
    re.compile(r"(https?://|www(?=\.))([-.\w]+)", re.I | re.ASCII),  # linked by remark-gfm
    re.compile(r"([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)", re.ASCII),  # linked as mailto:
    re.compile(r":material_(\w+):"), re.compile(r":streamlit:"),  # icons, logo
    re.compile(r":(?!material/|streamlit:)[\w+-][\w_+-]*:"),  # emoji shortcodes
    re.compile(r"(^|\s)(<->|->|<-|--|>=|<=|~=)(\s|$)"),  # arrows, dashes, ≥ ≤ ≈
]


class _Text(html.parser.HTMLParser):
    """The text of rendered HTML, and every tag in it."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def rendered(markdown: str) -> _Text:
    out = _Text()
    out.feed(MD.render(markdown))
    out.close()
    return out


def plain_texts(markdown: str) -> list[str]:
    """The text runs markdown-it leaves as plain text (what remark's text nodes hold)."""
    return [t.content for block in MD.parse(markdown) for t in (block.children or []) if t.type == "text"]


@pytest.mark.parametrize("text", HOSTILE)
def test_escaped_text_is_read_as_the_same_characters_and_nothing_else(text):
    escaped = escape(text)
    tokens = [t for block in MD.parse(escaped) for t in [block, *(block.children or [])]]
    kinds = {t.type for t in tokens}
    assert not kinds & {"link_open", "image", "html_inline", "html_block", "code_inline", "fence", "code_block",
                        "em_open", "strong_open", "s_open", "heading_open", "blockquote_open", "bullet_list_open",
                        "ordered_list_open", "table_open", "hr"}, kinds
    out = rendered(escaped)
    assert set(out.tags) <= {"p"}, out.tags
    assert "".join(out.text).replace(JOINER, "").strip() == text.strip()


@pytest.mark.parametrize("text", HOSTILE)
def test_streamlit_rewrites_nothing_in_escaped_text(text):
    for run in plain_texts(escape(text)):
        for pattern in REWRITES:
            assert not pattern.search(run), (pattern.pattern, run)


@pytest.mark.parametrize("text", ["https://evil.example/y", "www.evil.example", "x@evil.example", ":streamlit:",
                                  ":material_warning:", "a -> b"])
def test_backslashes_alone_would_not_do(text):
    """Why the joiners: with backslash escapes only, the text left after parsing still matches."""
    backslashed = "".join("\\" + ch if not ch.isalnum() and not ch.isspace() else ch for ch in text)
    assert any(p.search(run) for run in plain_texts(backslashed) for p in REWRITES)


def test_escaped_text_inside_the_apps_own_markdown_stays_text():
    """Escaped pieces interpolated into bold markers and list items: the app's Markdown works, theirs does not."""
    name = "[Sign in again](https://evil.example/x)"
    out = rendered(f"**Need:** {escape(name)}\n\n- {escape('**not bold** www.evil.example')}")
    assert out.tags == ["p", "strong", "ul", "li"]
    text = "".join(out.text).replace(JOINER, "")
    assert "Need: [Sign in again](https://evil.example/x)" in text and "**not bold** www.evil.example" in text


def test_a_frame_is_escaped_in_its_cells_headers_and_index():
    import pandas as pd

    from rcs_viz.output.markdown import escape_frame

    frame = pd.DataFrame({"[x](y)": ["*a*", 3]}, index=pd.Index(["<b>", "ok"], name="_i_"))
    out = escape_frame(frame)
    assert out.columns[0] == escape("[x](y)") and out.index.name == escape("_i_")
    assert out.index[0] == escape("<b>") and out.iloc[0, 0] == escape("*a*") and out.iloc[1, 0] == 3
