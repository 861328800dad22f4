"""Presenter mode: a page made for a projector and a room that may include anyone.

One URL switch (`present=1`) that every page honours: large type and charts,
no editing controls or sidebar, filters stated in words, and the strictest
protection whatever the data owner configured for desk use. Full protection
is forced here, in the one place every page gets its rules from
(`session.rules`), so no page can forget it.
"""

from __future__ import annotations

import dataclasses

import streamlit as st

from rcs_viz.engine.disclosure.gate import Rules
from rcs_viz.features.link import MODE_KEYS
from rcs_viz.output.markdown import escape

KEY = "present"
CARRIED = MODE_KEYS  # kept by every page when its widgets rewrite the URL
SCALE = 1.5  # charts and type, for the back of the room

_STYLE = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stSidebarNav"],
[data-testid="stToolbar"], [data-testid="stHeader"] { display: none !important; }
[data-testid="stMain"] { margin-left: 0 !important; }
.stMainBlockContainer { max-width: 100% !important; padding: 1.5rem 3rem !important; }
[data-testid="stMain"] p, [data-testid="stMain"] li, [data-testid="stMain"] td, [data-testid="stMain"] th,
[data-testid="stCaptionContainer"], [data-testid="stMarkdownContainer"] { font-size: 1.45rem !important; }
[data-testid="stMain"] h1 { font-size: 3.2rem !important; }
[data-testid="stMain"] h2, [data-testid="stMain"] h3 { font-size: 2.3rem !important; }
[data-testid="stTable"] td, [data-testid="stTable"] th { padding: 0.5rem 0.9rem !important; }
[data-testid="stMain"] [data-testid="stMetricValue"], [data-testid="stMain"] [data-testid="stMetricValue"] p {
  font-size: 3.4rem !important; line-height: 1.2 !important; }
[data-testid="stMain"] [data-testid="stMetricLabel"] p { font-size: 1.45rem !important; }
[data-testid="stMain"] .stMarkdownBadge { font-size: 1.25rem !important; }
[data-testid="stPopoverBody"] [data-tag], [data-testid="stPopoverBody"] [data-tag] span,
[data-testid="stPopoverBody"] input, [role="listbox"] [role="option"], [role="listbox"] [role="option"] * {
  font-size: 1.3rem !important; }
</style>
"""


# Keys, through one listener on the page, added once per browser tab (in the capture phase, before a popover or
# list closes itself on the same key):
# - a popover opened from the keyboard (Enter or Space on its button) takes the focus to its first field, since
#   Streamlit draws the popover at the end of the page and Tab would reach it only after every other control (a
#   busy browser may draw it later than 300 ms: it is looked for again for up to 5 s);
# - presenting, Escape leaves presenter mode and F toggles the browser's full screen. Streamlit's own button
#   shortcut would fire Escape inside a text field or an open filter popover too (it ignores only letters and
#   arrows there), so these keys are ignored when typed into a field, with a modifier, or while a popover, list
#   or dialog is open (that Escape closes it) or the page is full screen (the browser leaves full screen first).
# ← and → are the story bar's own button shortcuts (rcs_viz.ui.story.bar), which fields already ignore.
_KEYS = """<script>
(() => {
  if (window.rcsKeys) return;
  window.rcsKeys = true;
  // a field counts only while it can be seen: a closed popover may leave the focus in one of its hidden fields
  const typing = (el) => !!el && el.getClientRects().length > 0
    && (el.isContentEditable || ["input", "textarea", "select"].includes(el.tagName.toLowerCase()));
  const shown = (sel) => [...document.querySelectorAll(sel)].some((el) => el.getClientRects().length > 0);
  const open = () => shown('[data-testid="stPopoverBody"], [role="listbox"], [role="dialog"], [role="menu"]');
  const FIELD = "input, textarea, select, button, [tabindex]:not([tabindex='-1'])";
  window.addEventListener("keydown", (e) => {
    if ((e.key === "Enter" || e.key === " ") && e.target.closest && e.target.closest('[data-testid="stPopover"]')) {
      const asked = Date.now();
      const focusFirst = () => {
        const body = [...document.querySelectorAll('[data-testid="stPopoverBody"]')].pop();
        const first = body && body.querySelector(FIELD);
        if (first) first.focus();
        else if (Date.now() - asked < 5000) setTimeout(focusFirst, 100);
      };
      setTimeout(focusFirst, 300);
      return;
    }
    if (new URLSearchParams(location.search).get("present") !== "1") return;
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.repeat || typing(e.target)) return;
    if (e.key === "Escape" && !document.fullscreenElement && !open()) {
      const off = document.querySelector(".st-key-present_off button");
      if (off) { e.preventDefault(); off.click(); }
    } else if ((e.key === "f" || e.key === "F") && !open()) {
      e.preventDefault();
      if (document.fullscreenElement) document.exitFullscreen();
      else document.documentElement.requestFullscreen().catch(() => {});
    }
  }, true);
})();
</script>"""


def active() -> bool:
    return st.query_params.get(KEY) == "1"


def protect(configured: Rules) -> Rules:
    """Full protection: at least the default thresholds, secondary suppression, perturbation, and protection
    across views.

    A room, or a viewer (who sees only presented stories), may hold no data
    rights and sees views one after another: every presented view is judged
    against every view the server presented before, in any session or process.
    """
    default = Rules()
    return dataclasses.replace(configured, threshold=max(configured.threshold, default.threshold),
                               min_base=max(configured.min_base, default.min_base),
                               secondary=True, perturbation=True, across_views=True)


def carried() -> dict[str, list[str]]:
    """The mode keys a widget keeps when it rewrites the URL: a view changed while presenting stays presented."""
    return {k: st.query_params.get_all(k) for k in CARRIED if k in st.query_params}


def style() -> None:
    """Large type, no sidebar or toolbar while presenting, and the keys (`_KEYS`); call once per page run, first."""
    if active():
        st.html(_STYLE)
    st.html(_KEYS, unsafe_allow_javascript=True, width="content")


def _switch(on: bool) -> None:
    if on:
        st.query_params[KEY] = "1"
    else:
        st.query_params.pop(KEY, None)
        st.query_params.pop("story", None)
        st.query_params.pop("sid", None)


def switch() -> None:
    """The one button in and out of presenter mode (Escape leaves it, F is full screen: `_KEYS`)."""
    if active():
        st.button("Stop presenting", icon=":material/close_fullscreen:", on_click=_switch, args=(False,),
                  help="Esc leaves presenter mode; F fills the screen", type="tertiary", key="present_off")
    else:
        st.button("Present", icon=":material/present_to_all:", on_click=_switch, args=(True,),
                  help="Large type for a projector, no controls, full protection", key="present_on")


def filters_in_words(texts: tuple[str, ...] | list[str], base_text: str) -> None:
    """What the room is looking at, in words, in place of the removable chips."""
    words = "; ".join(escape(t) for t in texts) if texts else "none"
    st.markdown(f"**Filters:** {words} · **Base:** {escape(base_text)}")
