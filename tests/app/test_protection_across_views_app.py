"""Protection across views through the page layer: links opened one after another on a server whose rules ask for it."""

import pytest

from rcs_viz import config

PAGE = "explore.py"
TIMEOUT = 90


@pytest.fixture(params=[True, False], ids=["across views", "view by view"])
def across(request, tmp_path, monkeypatch):
    cfg = tmp_path / "rcs_explorer.yaml"
    cfg.write_text(f"store: sqlite:///{tmp_path / 'store.sqlite'}\n"
                   f"disclosure: {{across_views: {str(request.param).lower()}}}\n", encoding="utf-8")
    monkeypatch.setenv(config.ENV_VAR, str(cfg))
    return request.param


def test_a_second_link_that_differs_by_a_small_group_shows_nothing(across, ds, run, small_group):
    school, sex = small_group(ds)
    first = run({"rows": "simd", "wave": "2019", "f.school": school})
    assert not first.warning, "the school alone is shown"
    others = [s for s in ("1", "2", "∅") if s != sex]
    second = run({"rows": "simd", "wave": "2019", "f.school": school, "f.sex": others})
    too_few = any("too few" in w.value for w in second.warning)
    assert too_few == across, "with protection across views the second link, which differs by the small group, " \
                              "shows nothing; without it, it is shown"
