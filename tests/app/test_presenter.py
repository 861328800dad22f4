"""Presenter mode: no controls, filters in words, and full protection even when the owner loosened it."""

import pytest
from grids import shown_text

from rcs_viz import config

TIMEOUT = 90
CFG = config.load()
THRESHOLD = 10
EXPLORE = {"rows": "school", "cols": "sex", "f.stage": ["1"], "f.cpp": ["1"]}


@pytest.fixture
def loose(tmp_path, monkeypatch):
    """A desk configuration with the protection turned down: threshold 3, no secondary, no noise."""
    path = tmp_path / "loose.yaml"
    path.write_text(f"data: {CFG.data}\ndictionary: {CFG.dictionary}\ncache_dir: {CFG.cache_dir}\n"
                    "disclosure: {threshold: 3, min_base: 3, secondary: false, perturbation: false}\n")
    monkeypatch.setenv("RCS_EXPLORER_CONFIG", str(path))
    return path


def counts(frames) -> list[int]:
    out = []
    for frame in frames:
        for text in shown_text(frame).astype(str).to_numpy().ravel():
            plain = text.replace(",", "")
            if plain.isdigit():
                out.append(int(plain))
    return out


def test_the_loose_desk_configuration_really_shows_small_counts(loose, open_page):
    at = open_page("explore.py", EXPLORE)
    assert any(0 < c < THRESHOLD for c in counts(at.dataframe)), "the test needs a view with small cells"
    assert "Counts below 3" in " ".join(c.value for c in at.caption)


def test_presenting_forces_full_protection_whatever_the_configuration(loose, open_page, plain):
    at = open_page("explore.py", {**EXPLORE, "present": "1"})
    shown = counts(at.table)
    assert shown and not any(c < THRESHOLD for c in shown)
    captions = " ".join(c.value for c in at.caption)
    assert "Counts below 10 are suppressed" in captions and "random adjustments" in captions
    assert "[c]" in [plain(v) for v in at.table[0].value.to_numpy().ravel()]  # st.table cells are escaped Markdown


def test_presenting_forces_protection_on_compare_too(loose, open_page):
    desk = open_page("compare.py", {"level": "school", "cluster": "101", "ind": "cp_register"})
    present = open_page("compare.py", {"level": "school", "cluster": "101", "ind": "cp_register", "present": "1"})
    assert "Counts below 3" in " ".join(c.value for c in desk.caption)
    assert "Counts below 10" in " ".join(c.value for c in present.caption)
    column = present.table[0].value.iloc[:, 0]  # respondents (the unit is the index)
    assert not any(c < THRESHOLD for c in counts([type("F", (), {"value": column.to_frame()})]))


@pytest.mark.parametrize("page, params", [
    ("explore.py", {"rows": "simd", "cols": "sex", "f.sex": ["1", "2"]}),
    ("compare.py", {"view": "spine", "f.sex": ["2"]}),
    ("overview.py", {}),
    ("need.py", {"f.sex": ["2"]}),
    ("need.py", {"sec": "services"}),
    ("need.py", {"sec": "whatif", "shift": "20"}),
])
def test_presenting_hides_every_control_and_states_filters_in_words(page, params, open_page):
    at = open_page(page, {**params, "present": "1"})
    for kind in ("selectbox", "multiselect", "radio", "toggle", "text_input"):
        assert len(getattr(at, kind)) == 0, kind
    assert not at.get("download_button") and not at.get("file_uploader")
    assert [b.key for b in at.button] == ["present_off"]
    assert not at.dataframe  # plain tables that scale with the type
    if params.get("f.sex"):
        words = " ".join(m.value for m in at.markdown)
        assert "**Filters:**" in words and "Sex:" in words.replace("\\", "")  # labels are escaped Markdown


def test_one_button_in_and_out(open_page):
    at = open_page("explore.py", {"rows": "simd"})
    at.button(key="present_on").click().run()
    assert at.query_params["present"] == "1" and at.query_params["rows"] == "simd"
    assert not at.selectbox
    at.button(key="present_off").click().run()
    assert "present" not in at.query_params and at.selectbox


@pytest.mark.parametrize("page, params", [
    ("app_pages/explore.py", {"rows": "simd"}),
    ("app_pages/compare.py", {"view": "rank"}),
    ("app_pages/need.py", {}),
])
def test_the_filter_bar_changes_a_filter_and_keeps_presenting(app_test, page, params):
    """Through the router, without sign-in (everyone builds views): the bar's widgets add a filter, its chip removes it."""
    at = app_test("app.py")
    at.run()
    for k, v in {**params, "present": "1"}.items():
        at.query_params[k] = v
    at.switch_page(page).run()
    assert not at.exception, at.exception
    assert [m.label for m in at.multiselect] == ["Filter on"]  # the bar's popover; no sidebar, no other control
    at.multiselect(key=next(m.key for m in at.multiselect)).select("sex").run()
    values = [m for m in at.multiselect if m.label != "Filter on"]
    assert len(values) == 1 and "present" in at.query_params  # the variable waits for its values
    values[0].select("2").run()
    assert not at.exception, at.exception
    assert at.query_params["present"] == "1" and at.query_params["f.sex"] == "2"
    assert "Counts below 10" in " ".join(c.value for c in at.caption)  # still fully protected
    at.button(key="chip_sex").click().run()
    assert at.query_params["present"] == "1" and "f.sex" not in at.query_params
