"""The app's pages, listed once: the router draws them and saved views name them by their URL path.

A saved view stores its page's URL path, which travels in exported files and
links, so each path is written here explicitly rather than derived from a
file name that a refactor might change.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import streamlit as st


@dataclass(frozen=True)
class Page:
    url_path: str  # "" for the home page
    file: str
    title: str
    icon: str
    saveable: bool = True  # a view of it can be saved and played in a story


ALL = (
    Page("", "app_pages/overview.py", "Overview", ":material/dataset:"),
    Page("explore", "app_pages/explore.py", "Explore", ":material/table_chart:"),
    Page("compare", "app_pages/compare.py", "Compare", ":material/leaderboard:"),
    Page("need", "app_pages/need.py", "Need and services", ":material/diversity_3:"),
    Page("story", "app_pages/story.py", "Saved views and story", ":material/slideshow:", saveable=False),
    Page("dictionary", "app_pages/dictionary.py", "Data dictionary", ":material/menu_book:", saveable=False),
)
SAVEABLE = {p.url_path: p for p in ALL if p.saveable}
STORY = next(p for p in ALL if p.url_path == "story")


def navigation(visible: frozenset[str] | None = None):
    """The router over every page; the first is the home page. Every page keeps its URL, so a link always reaches
    the router's gate (`rcs_viz.ui.access`); only those in `visible` (url paths; None: all) are in the menu."""
    shown = [p.url_path for p in ALL] if visible is None else visible
    return st.navigation([st.Page(p.file, title=p.title, icon=p.icon, url_path=p.url_path or None, default=i == 0,
                                  visibility="visible" if p.url_path in shown else "hidden")
                          for i, p in enumerate(ALL)], position="sidebar" if shown else "hidden")


_runs = threading.Lock()
_ran = False


def first_run() -> bool:
    """True for this process's first page run only (the router holds the cycle collector off through it)."""
    global _ran
    with _runs:
        first, _ran = not _ran, True
    return first
