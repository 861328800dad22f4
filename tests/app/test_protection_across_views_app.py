"""Protection across views through the page layer: links opened one after another on a server whose rules ask for it."""

import pytest

from rcs_viz import config
from rcs_viz.engine import service
from rcs_viz.engine.disclosure.gate import Rules
from rcs_viz.engine.sql.views import CrossTab

PAGE = "explore.py"
TIMEOUT = 90


@pytest.fixture(params=[True, False], ids=["across views", "view by view"])
def across(request, tmp_path, monkeypatch):
    cfg = tmp_path / "rcs_explorer.yaml"
    cfg.write_text(f"store: sqlite:///{tmp_path / 'store.sqlite'}\n"
                   f"disclosure: {{across_views: {str(request.param).lower()}}}\n", encoding="utf-8")
    monkeypatch.setenv(config.ENV_VAR, str(cfg))
    return request.param


def small_group(ds):
    """A school with 1–9 pupils of one sex in 2019: the group a pair of links would give away."""
    q = CrossTab(rows="school", cols="sex", filters=(("wave", ("2019",)),))
    cells = service.crosstab(ds, q, "count", Rules(threshold=1, secondary=False, perturbation=False)).cells
    inner = cells[cells["row"].notna() & cells["col"].isin(["1", "2"])]
    pick = inner[(inner["count"] >= 1) & (inner["count"] <= 9)].iloc[0]
    return pick["row"], pick["col"]


def test_a_second_link_that_differs_by_a_small_group_shows_nothing(across, ds, run):
    school, sex = small_group(ds)
    first = run({"rows": "simd", "wave": "2019", "f.school": school})
    assert not first.warning, "the school alone is shown"
    others = [s for s in ("1", "2", "∅") if s != sex]
    second = run({"rows": "simd", "wave": "2019", "f.school": school, "f.sex": others})
    too_few = any("too few" in w.value for w in second.warning)
    assert too_few == across, "with protection across views the second link, which differs by the small group, " \
                              "shows nothing; without it, it is shown"
