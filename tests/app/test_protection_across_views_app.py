"""Protection across views through the page layer: links opened one after another on one server.

Presented views (a room, or a viewer who signed in) are always judged across
views; an explorer's desk is judged only where the data owner's rules ask for it.
"""

import pytest

from rcs_viz import config

PAGE = "explore.py"
TIMEOUT = 90

CASES = {  # (configured across_views, presenting, listening beyond this machine): judged across views?
    "desk, configured on": (True, False, False, True),
    "desk, default": (None, False, False, False),
    "presenting, default": (None, True, False, True),
    "presenting, configured off": (False, True, False, True),
    "no sign-in, listening to others": (None, False, True, True),
}


@pytest.fixture(params=list(CASES), ids=list(CASES))
def case(request, tmp_path, monkeypatch):
    configured, presenting, shared, judged = CASES[request.param]
    if shared:  # server.address unset or a network address: Streamlit listens beyond this machine
        import streamlit

        monkeypatch.setattr(streamlit, "get_option",
                            lambda key, real=streamlit.get_option: "0.0.0.0" if key == "server.address" else real(key))
    text = f"store: sqlite:///{tmp_path / 'store.sqlite'}\n"
    if configured is not None:
        text += f"disclosure: {{across_views: {str(configured).lower()}}}\n"
    cfg = tmp_path / "rcs_explorer.yaml"
    cfg.write_text(text, encoding="utf-8")
    monkeypatch.setenv(config.ENV_VAR, str(cfg))
    return ({"present": "1"} if presenting else {}), judged


def test_a_second_link_that_differs_by_a_small_group_shows_nothing(case, ds, run, small_group):
    mode, judged = case
    school, sex = small_group(ds)
    first = run({"rows": "simd", "wave": "2019", "f.school": school, **mode})
    assert not first.warning, "the school alone is shown"
    others = [s for s in ("1", "2", "∅") if s != sex]
    second = run({"rows": "simd", "wave": "2019", "f.school": school, "f.sex": others, **mode})
    too_few = any("too few" in w.value for w in second.warning)
    assert too_few == judged, "judged across views, the second link, which differs by the small group, " \
                              "shows nothing; view by view, it is shown"


def test_without_its_store_a_server_still_explores_at_the_desk_and_shows_no_presented_view(tmp_path, monkeypatch,
                                                                                           open_page):
    cfg = tmp_path / "rcs_explorer.yaml"
    cfg.write_text("store: sqlite:////nonexistent/dir/store.sqlite\n", encoding="utf-8")
    monkeypatch.setenv(config.ENV_VAR, str(cfg))
    desk = open_page("app.py", {"rows": "simd", "wave": "2019"})
    assert desk.table or desk.dataframe, "the desk is not judged across views, so it needs no store"
    presented = open_page("app.py", {"rows": "simd", "wave": "2019", "present": "1"})
    assert not presented.table and not presented.dataframe, "no figure is shown unjudged"
    assert any("server store cannot be opened" in e.value for e in presented.error)
    working = tmp_path / "working.yaml"
    working.write_text(f"store: sqlite:///{tmp_path / 'store.sqlite'}\n", encoding="utf-8")
    monkeypatch.setenv(config.ENV_VAR, str(working))
    shown = open_page("app.py", {"rows": "simd", "wave": "2019", "present": "1"})
    assert (shown.table or shown.dataframe) and not shown.error, "with its store, the same presented view is shown"
