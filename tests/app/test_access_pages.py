"""Sign-in and roles through the router (AppTest): who sees the sign-in screen, a refusal, or the page.

AppTest's `at.user` is what the app reads as `st.user` (Streamlit fills it from
its signed identity cookie on a real server; tests/browser/test_sign_in.py
signs in for real). `{"is_logged_in": False}` is someone not yet signed in.
"""

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rcs_viz import config
from rcs_viz.engine.store import Store
from rcs_viz.features.story import kept
from rcs_viz.features.story.model import SavedView
from rcs_viz.output.markdown import JOINER
from rcs_viz.ui.pages import ALL, SAVEABLE as PAGES

TIMEOUT = 90
EXPLORE = SavedView("Deprivation by sex", "explore", (("rows", ("simd",)), ("cols", ("sex",))))
SPINE = SavedView("Cluster spine", "compare", (("view", ("spine",)), ("unit", ("102",))))
SID = "storyOfTheExplorer01"
EXPLORER = {"is_logged_in": True, "email": "ana@council.gov.uk", "name": "Ana"}
VIEWER = {"is_logged_in": True, "email": "bo@council.gov.uk", "name": "Bo"}


@pytest.fixture(autouse=True)
def signed_in_server(tmp_path, monkeypatch, server_store):
    """A configuration with access lists (Ana explores, the council's domain views) and a story Ana kept."""
    cfg = tmp_path / "rcs_explorer_access.yaml"
    cfg.write_text(f"store: sqlite:///{server_store}\n"
                   "access:\n  explorers: [ana@council.gov.uk]\n  viewers: ['@council.gov.uk']\n", encoding="utf-8")
    monkeypatch.setenv(config.ENV_VAR, str(cfg))
    kept.keep(Store.open(f"sqlite:///{server_store}", Path(server_store)), SID, "user_ana", (EXPLORE, SPINE))


def texts(at: AppTest) -> str:
    """Everything the page says, as a reader sees it (the app's escaping taken off)."""
    said = "\n".join(str(e.value) for kind in ("title", "markdown", "warning", "error", "info", "caption")
                     for e in getattr(at, kind))
    return re.sub(r"\\(.)", r"\1", said).replace(JOINER, "")


def as_user(app_test, user: dict) -> AppTest:
    at = app_test("app.py")
    at.user = user
    at.run()
    assert not at.exception, at.exception
    return at


def open_link(at: AppTest, page: str, params: dict) -> AppTest:
    """Open a link to `page` (a url path) with `params` in the same session, as a pasted link reruns the router."""
    at.query_params.clear()
    for k, v in params.items():
        at.query_params[k] = v
    at.switch_page(next(p.file for p in ALL if p.url_path == page)).run()
    assert not at.exception, at.exception
    return at


def test_someone_not_signed_in_sees_a_sign_in_button_and_nothing_else(app_test):
    at = as_user(app_test, {"is_logged_in": False})
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.dataframe and not at.table and not at.selectbox and not at.sidebar.children
    assert "Synthetic sample" not in texts(at)


def test_access_configured_without_sign_in_set_up_opens_nothing(app_test):
    at = as_user(app_test, {"email": "ana@council.gov.uk"})  # no [auth]: st.user has no is_logged_in
    assert "sign-in is not set up" in texts(at)
    assert not at.button and not at.dataframe


def test_someone_signed_in_but_on_neither_list_is_refused(app_test):
    at = as_user(app_test, {"is_logged_in": True, "email": "cy@charity.org"})
    assert "not on this server's lists" in texts(at) and "cy@charity.org" in texts(at)
    assert [b.label for b in at.button] == ["Sign out"]
    assert not at.dataframe


def test_an_explorer_opens_the_query_builder(app_test):
    at = as_user(app_test, EXPLORER)
    assert "Synthetic sample" in texts(at) or at.get("badge")  # the overview
    at = open_link(at, "explore", {"rows": "simd", "cols": "sex"})
    assert at.title[0].value == "Explore" and at.sidebar.selectbox
    assert "Signed in as ana@council.gov.uk (explorer)" in texts(at)


@pytest.mark.parametrize("page,params", [
    ("explore", {"rows": "simd", "cols": "sex"}),
    ("compare", {"view": "spine", "unit": "102"}),
    ("need", {}),
    ("explore", {"rows": "simd", "cols": "sex", "present": "1"}),  # presenter mode alone is not a saved view
    ("explore", {"rows": "school", "cols": "sex", "present": "1", "story": "1", "sid": SID}),  # not as saved
    ("compare", {"view": "spine", "unit": "103", "present": "1", "story": "2", "sid": SID}),
    ("explore", {"rows": "simd", "cols": "sex", "present": "1", "story": "1", "sid": "noSuchStoryHere0001"}),
    ("dictionary", {}),
])
def test_a_viewers_link_to_the_query_builder_is_refused(app_test, page, params):
    at = open_link(as_user(app_test, VIEWER), page, params)
    assert [t.value for t in at.title] == ["Not open to viewers"]
    assert "Your role on this server is **viewer**" in texts(at)
    assert not at.dataframe and not at.table and not at.selectbox and not at.multiselect
    assert "story-step" not in texts(at)


def test_a_viewer_lands_on_the_story_page_and_opens_a_shared_story(app_test):
    at = as_user(app_test, VIEWER)
    assert at.title[0].value == "Saved views and story"  # the app's address takes a viewer to the stories
    at = open_link(at, "story", {"id": SID})
    assert "A shared story of 2 view(s)" in texts(at)
    assert "Signed in as bo@council.gov.uk (viewer)" in texts(at)


@pytest.mark.parametrize("page,params,step", [
    ("explore", {"rows": "simd", "cols": "sex", "present": "1", "story": "1", "sid": SID}, "Step 1 of 2"),
    ("compare", {"view": "spine", "unit": "102", "present": "1", "story": "2", "sid": SID}, "Step 2 of 2"),
])
def test_a_viewer_plays_a_saved_step_in_presenter_mode(app_test, page, params, step):
    at = open_link(as_user(app_test, VIEWER), page, params)
    assert at.title[0].value == PAGES[page].title.split(" ")[0]
    assert any(step in str(h.proto) for h in at.get("html"))
    assert not at.sidebar.selectbox  # presenter mode: no controls


def test_a_broken_access_setting_opens_nothing_and_shows_no_details(app_test, tmp_path, monkeypatch):
    cfg = tmp_path / "rcs_explorer_broken.yaml"
    cfg.write_text("access:\n  explorers: [not an address]\n", encoding="utf-8")
    monkeypatch.setenv(config.ENV_VAR, str(cfg))
    at = as_user(app_test, EXPLORER)
    assert "configuration cannot be used" in texts(at)
    assert str(tmp_path) not in texts(at) and not at.dataframe and not at.button


def test_a_viewers_own_list_is_never_kept_so_cannot_publish_a_view(app_test, server_store):
    at = open_link(as_user(app_test, VIEWER), "story", {"id": SID})
    at.button(key="sh_copy").click().run()  # a list of their own: it could as well be imported from any file
    assert not at.exception, at.exception
    where = Store.open(f"sqlite:///{server_store}", Path(server_store))
    assert kept.latest(where, at.session_state["rcs_browser_id"], PAGES) == (None, ())
    assert "not kept on the server" in texts(at)


FILTERED = SavedView("Girls by deprivation", "explore", (("rows", ("simd",)), ("f.sex", ("2",))))
FILTERED_SID = "storyWithAFilter0001"


@pytest.mark.parametrize("user, builds", [(VIEWER, False), (EXPLORER, True)])
def test_only_an_explorer_gets_the_filter_bar_while_a_step_plays(app_test, server_store, user, builds):
    """A viewer sees a kept step as saved, its filters in words; an explorer may change them without leaving."""
    kept.keep(Store.open(f"sqlite:///{server_store}", Path(server_store)), FILTERED_SID, "user_ana", (FILTERED,))
    at = open_link(as_user(app_test, user), "explore",
                   {"rows": "simd", "f.sex": "2", "present": "1", "story": "1", "sid": FILTERED_SID})
    assert at.title[0].value == "Explore" and at.table
    chip = [b for b in at.button if b.key == "chip_sex"]
    assert bool(at.multiselect) is builds and bool(chip) is builds
    if builds:
        assert [m.label for m in at.multiselect][0] == "Filter on"
        chip[0].click().run()
        assert not at.exception, at.exception
        assert at.query_params["present"] == "1" and "f.sex" not in at.query_params
    else:
        assert "**Filters:** Sex: Girl" in texts(at)
