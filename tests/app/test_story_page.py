"""Saved views and story via AppTest on the router: edits through the widgets, file round trips, the story bar.

AppTest keeps the page given to `switch_page` as the page of every later run,
so after the app itself switches page (Open, Play, Next) a test names the page
it is now on with `on(at, ...)` before touching that page's widgets.
"""

import json

import pytest
from streamlit.testing.v1 import AppTest

from rcs_viz.features.story import model as sv
from rcs_viz.features.story.model import SavedView
from rcs_viz.output.markdown import escape
from rcs_viz.ui.pages import SAVEABLE as PAGES

TIMEOUT = 90
EXPLORE = SavedView("Deprivation by sex", "explore", (("rows", ("simd",)), ("cols", ("sex",))))
SPINE = SavedView("Cluster spine", "compare", (("view", ("spine",)), ("unit", ("102",))),
                  title="Dunyarrow at a glance", note="Green is better than the CPP.")
HOSTILE = SavedView("<img src=x onerror=alert(1)> **bold**", "explore", (("rows", ("stage",)),),
                    title="<script>alert('t')</script>", note="[click](javascript:alert(1))\n<b>not bold</b>")


@pytest.fixture
def app(app_test):
    """app(views=()): the router run, holding `views` as the saved views, then this page."""

    def make(views=()) -> AppTest:
        at = app_test("app.py").run()
        at.session_state["saved_views"] = tuple(views)
        return on(at, "story")

    return make


def on(at: AppTest, page: str) -> AppTest:
    """Run the given page (a url path, "story" for this page) as the next run."""
    at.switch_page("app_pages/story.py" if page == "story" else PAGES[page].file).run()
    assert not at.exception, at.exception
    return at


def saved(at) -> tuple[SavedView, ...]:
    return tuple(at.session_state["saved_views"])


def names(at) -> list[str]:
    return [at.text_input(key=f"sv_name_{i}").value for i in range(len(saved(at)))]


def test_an_empty_list_says_how_to_save_and_cannot_be_played(app):
    at = app()
    assert at.title[0].value == "Saved views and story"
    assert "No saved views yet" in at.info[0].value
    assert at.button(key="sv_play").disabled


def test_each_view_shows_its_page_settings_title_and_note(app):
    at = app([EXPLORE, SPINE])
    assert names(at) == ["Deprivation by sex", "Cluster spine"]
    captions = " ".join(c.value for c in at.caption)
    assert "**Explore** · " + escape("rows: SIMD quintile · columns: Sex") in captions  # dictionary labels, escaped
    assert "/compare?view\\=spine\\&unit\\=102" in captions
    assert at.text_input(key="sv_title_1").value == SPINE.title
    assert at.text_area(key="sv_note_1").value == SPINE.note


def test_rename_reorder_delete_through_the_widgets(app):
    at = app([EXPLORE, SPINE])
    at.text_input(key="sv_name_0").input("SIMD by sex").run()
    assert names(at) == ["SIMD by sex", "Cluster spine"]
    at.button(key="sv_down_0").click().run()
    assert names(at) == ["Cluster spine", "SIMD by sex"]
    assert saved(at)[1].params == EXPLORE.params
    at.button(key="sv_up_1").click().run()
    assert names(at) == ["SIMD by sex", "Cluster spine"]
    assert at.button(key="sv_up_0").disabled and at.button(key="sv_down_1").disabled
    at.button(key="sv_delete_0").click().run()
    assert saved(at) == (SPINE,)
    assert names(at) == ["Cluster spine"]


def test_titles_and_notes_are_edited_and_a_blank_name_is_refused(app):
    at = app([EXPLORE, SPINE])
    at.text_input(key="sv_title_0").input("Step one").run()
    at.text_area(key="sv_note_0").input("Look at the most deprived.\nThen the least.").run()
    assert saved(at)[0].title == "Step one" and saved(at)[0].note == "Look at the most deprived.\nThen the least."
    at.text_input(key="sv_name_1").input("   ").run()
    assert "empty" in at.error[0].value
    assert names(at) == ["Deprivation by sex", "Cluster spine"]  # the widget shows the kept name again


def test_export_then_import_round_trips_the_list(downloads, app):
    at = app([EXPLORE, SPINE, HOSTILE])
    assert at.download_button(key="sv_export").proto.label == "Export the list"
    data = downloads["rcs_views.json"]
    assert json.loads(data)["format"] == "rcs-explorer-views"
    assert sv.from_json(data, PAGES) == (EXPLORE, SPINE, HOSTILE)

    at.session_state["saved_views"] = ()
    at.run()
    at.file_uploader(key="sv_import").upload("rcs_views.json", data, "application/json").run()
    assert not at.exception
    assert saved(at) == (EXPLORE, SPINE, HOSTILE)
    assert "the list now holds 3 views" in at.success[0].value


def test_import_can_add_to_the_end_instead_of_replacing(app):
    at = app([SPINE])
    at.radio(key="sv_import_mode").set_value("add").run()
    at.file_uploader(key="sv_import").upload("more.json", sv.to_json((EXPLORE,)), "application/json").run()
    assert saved(at) == (SPINE, EXPLORE)


@pytest.mark.parametrize("data, words", [
    (b"not json at all", "not JSON"),
    (json.dumps({"format": "rcs-explorer-views", "version": 1,
                 "views": [{"name": "<b>x</b>", "page": "admin"}]}).encode(), "page this app does not have"),
    (b"x" * (300 * 1024), "too big"),
])
def test_a_bad_import_says_why_and_keeps_the_list(data, words, app):
    at = app([EXPLORE, SPINE])
    at.file_uploader(key="sv_import").upload("bad.json", data, "application/json").run()
    assert not at.exception
    message = at.error[0].value
    assert words in message.replace("\\", "") and "The list is as it was" in message.replace("\\", "")
    assert "<b>" not in message  # the file's text is escaped, never markup
    assert saved(at) == (EXPLORE, SPINE)
    assert names(at) == ["Deprivation by sex", "Cluster spine"]


def test_hostile_names_are_shown_as_text(app):
    at = app([HOSTILE])
    assert at.text_input(key="sv_name_0").value == HOSTILE.name  # a widget value, never rendered as markup
    for el in [*at.caption, *at.markdown, *at.error]:
        assert "<img" not in el.value and "<script" not in el.value


def test_open_switches_to_the_view_without_the_story(app):
    at = app([EXPLORE, SPINE])
    at.button(key="sv_open_1").click().run()
    assert not at.exception
    assert at.title[0].value == "Compare" and at.query_params == {"view": "spine", "unit": "102"}
    assert "Dunyarrow cluster: every indicator" in at.subheader[0].value


def step_text(at) -> str:
    return next(h.value for h in at.get("html") if "story-step" in h.value)


def test_play_steps_through_the_views_and_ends(app):
    at = app([EXPLORE, SPINE, HOSTILE])
    at.button(key="sv_play").click().run()
    assert at.title[0].value == "Explore"
    assert at.query_params == {"rows": "simd", "cols": "sex", "present": "1", "story": "1"}
    assert "Step 1 of 3 · Deprivation by sex" in step_text(at)
    on(at, "explore")
    assert at.button(key="story_prev").disabled and not at.button(key="story_next").disabled

    at.button(key="story_next").click().run()
    assert at.title[0].value == "Compare"
    assert at.query_params == {"view": "spine", "unit": "102", "present": "1", "story": "2"}
    assert "Step 2 of 3 · Dunyarrow at a glance" in step_text(at) and SPINE.note in step_text(at)
    assert "Dunyarrow cluster: every indicator" in at.subheader[0].value

    on(at, "compare").button(key="story_next").click().run()
    assert at.query_params["story"] == "3" and at.query_params["rows"] == "stage"
    shown = step_text(at)
    assert "&lt;script&gt;alert(&#x27;t&#x27;)&lt;/script&gt;" in shown and "<script" not in shown
    assert "&lt;b&gt;not bold&lt;/b&gt;" in shown
    on(at, "explore")
    assert at.button(key="story_next").disabled

    at.button(key="story_prev").click().run()
    assert at.title[0].value == "Compare" and at.query_params["story"] == "2"
    on(at, "compare").button(key="story_end").click().run()
    assert at.query_params == {"view": "spine", "unit": "102"}
    assert not any("story-step" in h.value for h in at.get("html"))


def test_a_story_link_without_the_list_says_so(app_test):
    at = app_test("app.py").run()
    at.query_params.update({"rows": "simd", "present": "1", "story": "4"})
    on(at, "explore")
    assert "holds no such step" in at.warning[0].value
    at.button(key="story_end").click().run()
    assert at.query_params == {"rows": "simd"}


def test_save_this_view_keeps_the_page_and_its_settings_but_not_the_mode(app_test):
    at = app_test("app.py").run()
    at.query_params.update({"rows": "simd", "cols": "sex"})
    on(at, "explore")
    at.text_input(key="save_view_name").input("Deprivation by sex")
    at.button(key="FormSubmitter:save_view_form-Save").click().run()
    assert not at.exception
    assert saved(at) == (EXPLORE,)
    at.button(key="FormSubmitter:save_view_form-Save").click().run()  # no name: the page and its settings
    assert saved(at)[1].name == "Explore: rows: simd · columns: sex"
    at.query_params.update({"present": "1"})
    on(at, "explore")
    assert not [t for t in at.text_input if t.key == "save_view_name"]  # no editing controls while presenting


# --- kept on the server: reload, restart, a colleague's link ----------------------------------------------------

BROWSER, OTHER = "b" * 22, "c" * 22


@pytest.fixture
def browser_cookie(monkeypatch):
    """browser_cookie(id): the rcs_browser cookie the next sessions' requests carry (AppTest sends none itself)."""
    from rcs_viz.ui import story

    def use(value):
        monkeypatch.setattr(story, "_cookie", lambda: value)

    return use


def fresh(app_test, page: str = "story", params: dict | None = None) -> AppTest:
    """A new session (a reload, or a restarted server's first run): the router, then `page` on `params`."""
    at = app_test("app.py").run()
    at.query_params.update(params or {})
    return on(at, page)


def test_saved_views_survive_a_reload(browser_cookie, app_test, server_store):
    browser_cookie(BROWSER)
    at = fresh(app_test, "explore", {"rows": "simd", "cols": "sex"})
    at.text_input(key="save_view_name").input("Deprivation by sex")
    at.button(key="FormSubmitter:save_view_form-Save").click().run()
    assert saved(at) == (EXPLORE,)
    assert server_store.exists()

    again = fresh(app_test)  # F5: a new session, the same browser (cookie)
    assert names(again) == ["Deprivation by sex"]
    assert not again.info or "No saved views yet" not in again.info[0].value
    again.text_input(key="sv_title_0").input("Step one").run()

    browser_cookie(OTHER)  # another browser has its own list
    other = fresh(app_test)
    assert saved(other) == () and "No saved views yet" in other.info[0].value

    browser_cookie(BROWSER)
    assert saved(fresh(app_test))[0].title == "Step one"


def test_a_browser_without_the_cookie_is_given_one(app_test):
    at = app_test("app.py").run()  # the first page this browser opens sets the cookie
    scripts = [h.value for h in at.get("html") if "document.cookie" in h.value]
    assert len(scripts) == 1 and "rcs_browser=" in scripts[0] and "SameSite=Strict" in scripts[0]
    assert at.session_state["rcs_browser_id"] in scripts[0]


def test_a_story_has_a_link_a_colleague_opens_plays_and_copies(browser_cookie, app_test):
    browser_cookie(BROWSER)
    at = fresh(app_test)
    at.file_uploader(key="sv_import").upload("v.json", sv.to_json((EXPLORE, SPINE)), "application/json").run()
    sid = at.session_state["story_id"]
    assert f"/story?id={sid}" in at.code[0].value  # the story's own link, shown to copy

    browser_cookie(OTHER)
    colleague = fresh(app_test, params={"id": sid})
    assert "shared story of 2 view" in colleague.info[0].value
    assert not [t for t in colleague.text_input if t.key.startswith("sv_name_")]  # nothing to edit
    colleague.button(key="sh_play").click().run()
    assert colleague.query_params == {"rows": "simd", "cols": "sex", "present": "1", "story": "1", "sid": sid}
    assert "Step 1 of 2 · Deprivation by sex" in step_text(colleague)
    on(colleague, "explore").button(key="story_next").click().run()
    assert colleague.query_params["sid"] == sid and "Step 2 of 2" in step_text(colleague)

    copy = fresh(app_test, params={"id": sid})
    copy.button(key="sh_copy").click().run()
    assert "Copied 2 view(s)" in copy.success[0].value
    mine = fresh(app_test)
    assert saved(mine) == (EXPLORE, SPINE) and mine.session_state["story_id"] != sid  # a copy, its own story

    browser_cookie(BROWSER)  # the owner's story is unchanged by the colleague
    assert saved(fresh(app_test, params={"id": sid})) == (EXPLORE, SPINE)


def test_a_step_link_plays_after_a_reload_and_on_another_machine(browser_cookie, app_test):
    browser_cookie(BROWSER)
    at = fresh(app_test)
    at.file_uploader(key="sv_import").upload("v.json", sv.to_json((EXPLORE, SPINE)), "application/json").run()
    sid = at.session_state["story_id"]
    browser_cookie(None)  # no cookie at all: the link alone
    step = fresh(app_test, "compare", {"view": "spine", "unit": "102", "present": "1", "story": "2", "sid": sid})
    assert "Step 2 of 2 · Dunyarrow at a glance" in step_text(step)


def test_an_unknown_story_link_says_so_and_shows_ones_own_list(browser_cookie, app_test):
    browser_cookie(BROWSER)
    at = fresh(app_test, params={"id": "x" * 22})
    assert "opens nothing on this server" in at.warning[0].value
    assert "No saved views yet" in at.info[0].value
    bad = fresh(app_test, params={"id": "<b>x</b>"})
    assert "opens nothing on this server" in bad.warning[0].value


def test_a_store_that_cannot_be_opened_keeps_the_list_in_the_session_and_says_so(tmp_path, monkeypatch, app_test):
    cfg = tmp_path / "broken.yaml"
    cfg.write_text("store: mysql://nobody@nowhere/x\n", encoding="utf-8")
    monkeypatch.setenv("RCS_EXPLORER_CONFIG", str(cfg))
    at = fresh(app_test, "explore", {"rows": "simd", "cols": "sex"})
    at.text_input(key="save_view_name").input("Deprivation by sex")
    at.button(key="FormSubmitter:save_view_form-Save").click().run()
    assert not at.exception and saved(at) == (EXPLORE,)
    on(at, "story")
    assert "kept in this browser session only" in at.warning[0].value


@pytest.fixture
def deferred(monkeypatch):
    """The files a deferred download button would build when clicked, by file name (their callables)."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    got = {}
    real = MediaFileManager.add_deferred

    def keep(self, data, mimetype, coordinates, file_name=None, **kwargs):
        got[file_name] = data
        return real(self, data, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", keep)
    return got


def test_the_story_page_offers_the_story_as_a_deck_in_both_formats(app, deferred):
    import datetime as dt
    import io

    from pptx import Presentation
    from pypdf import PdfReader

    at = app([EXPLORE, HOSTILE])
    assert at.text_input(key="sv_deck_title").value == "Story: Deprivation by sex"
    at.text_input(key="sv_deck_title").input("Workshop, March").run()
    stem = f"rcs_deck_workshop-march_{dt.date.today().isoformat()}"
    assert {f"{stem}.pptx", f"{stem}.pdf"} <= set(deferred)
    prs = Presentation(io.BytesIO(deferred[f"{stem}.pptx"]()))
    firsts = [next(s.text_frame.text for s in slide.shapes if s.has_text_frame) for slide in prs.slides]
    charts = [t for t in firsts if t.startswith("Chart: ")]  # a chart too small beside its figures, enlarged
    assert len(prs.slides) == 3 + len(charts)
    text = " ".join(s.text_frame.text for slide in prs.slides for s in slide.shapes if s.has_text_frame)
    assert "Workshop, March" in text and "Synthetic sample" in text and HOSTILE.title in text
    pages = PdfReader(io.BytesIO(deferred[f"{stem}.pdf"]())).pages
    assert len(pages) == len(prs.slides) and "Workshop, March" in pages[0].extract_text()
