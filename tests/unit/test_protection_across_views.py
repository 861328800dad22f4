"""Protection that holds across views: the engine with the server's ledger of released figures.

On the synthetic sample, through `service.crosstab` and `service.bases` with a
ledger on a fresh store, as the app runs them.
"""

import dataclasses

import pytest

from rcs_viz.engine import service
from rcs_viz.engine.disclosure.gate import Rules
from rcs_viz.engine.disclosure.ledger import Ledger
from rcs_viz.engine.sql.views import CrossTab
from rcs_viz.engine.store import Store

RULES = Rules(across_views=True)  # as every presented view gets them (presenter.protect)
WAVE = (("wave", ("2019",)),)


@pytest.fixture
def served(sample_dataset, tmp_path):
    """The sample as a server holds it: with a ledger in a fresh store."""
    store = Store.open(None, tmp_path / "store.sqlite")
    yield dataclasses.replace(sample_dataset, ledger=Ledger(store, "sample"))
    store.close()


def shown(result, row=None, col=None):
    c = result.cells
    pick = c[(c["row"].isna() if row is None else c["row"] == row) & (c["col"].isna() if col is None else c["col"] == col)]
    return None if pick["status"].iloc[0] != "shown" else int(pick["count"].iloc[0])


def test_asking_again_gives_the_same_answer(served):
    q = CrossTab(rows="simd", cols="sex", filters=WAVE)
    first = service.crosstab(served, q, "count", RULES).cells
    again = service.crosstab(served, q, "count", RULES).cells
    assert first[["status", "count"]].equals(again[["status", "count"]])


def test_a_view_asked_again_after_others_gets_its_first_answer_in_any_process(served, tmp_path):
    """Judged afresh, a view whose own cells are now history could hide more (a cell it hid for a small one
    becomes one to protect in turn): the page's two readings of one table would disagree, and a story's step
    would change between showings."""
    q = CrossTab(rows="cluster", cols="young_carer", filters=WAVE + (("fsm", ("1",)),))
    first = service.crosstab(served, q, "row_pct", RULES).cells
    for other in ("trusted_adult", "safe_home", "bullied"):
        service.crosstab(served, CrossTab(rows="cluster", cols=other, filters=WAVE + (("fsm", ("1",)),)), "count",
                         RULES)
    again = service.crosstab(served, q, "col_pct", RULES).cells
    other_process = dataclasses.replace(served, ledger=Ledger(Store.open(None, tmp_path / "store.sqlite"), "sample"))
    elsewhere = service.crosstab(other_process, q, "count", RULES).cells
    for later in (again, elsewhere):
        assert first[["status", "count"]].equals(later[["status", "count"]])
    assert (first["status"] != "shown").any(), "a table with hidden cells: the test can fail"


def test_need_reads_its_table_twice_and_the_readings_agree_after_other_views(served):
    """Need reads one need × contact table as row % and as column %; presented, both go through the ledger.
    Before a view got its first answer again, the second reading hid cells the first showed (a cell and its
    margin holding the same records, one shown and one hidden), and the page stopped."""
    from rcs_viz.features.need import model, state

    view = state.default_view(served.dictionary, lambda name: service.categories(served, name))
    filters = view.query_filters(served.dictionary)
    for extra in ((), (("stage", ("1",)),), (("sex", ("1",)),)):
        fit = model.fit(served, view.need, view.contact, view.by, filters + extra, RULES)
        assert fit is not None


def test_two_views_that_differ_by_a_small_group_are_never_both_shown(served, sample_dataset, small_group):
    school, sex = small_group(sample_dataset)
    with_group = WAVE + (("school", (school,)),)
    without = with_group + (("sex", tuple(s for s in ("1", "2", "∅") if s != sex)),)
    a = service.crosstab(served, CrossTab(rows="simd", filters=with_group), "count", RULES)
    b = service.crosstab(served, CrossTab(rows="simd", filters=without), "count", RULES)
    assert shown(a) is not None, "the first view's total is shown"
    assert shown(b) is None, "the second total differs from it by the small group: hidden"
    # and without a ledger (one view at a time) both would be shown: the test can fail
    b_alone = service.crosstab(sample_dataset, CrossTab(rows="simd", filters=without), "count", RULES)
    assert shown(b_alone) is not None


def test_the_filter_bases_go_through_the_ledger_too(served, sample_dataset, small_group):
    school, sex = small_group(sample_dataset)
    filters = WAVE + (("school", (school,)), ("sex", tuple(s for s in ("1", "2", "∅") if s != sex)))
    counts = [b.count for b in service.bases(served, filters, RULES)]
    assert counts[2] is not None and counts[3] is None, "the school's base is shown, the one without the group hidden"


def test_a_cell_another_view_hid_stays_hidden_here(served):
    q_all = CrossTab(rows="cluster", cols="bullied", filters=WAVE)
    q_one = CrossTab(rows="cluster", cols="bullied", filters=WAVE + (("cpp", ("1",)),))
    one = service.crosstab(served, q_one, "count", RULES).cells
    every = service.crosstab(served, q_all, "count", RULES).cells
    keys = ["row", "col"]
    hidden_one = one[one["status"] != "shown"].dropna(subset=keys)[keys]
    merged = hidden_one.merge(every, on=keys)
    assert len(merged) == len(hidden_one) and (merged["status"] != "shown").all()


def _few_non_answers(ds, name: str, k: int) -> list[str]:
    """Schools whose pupils in the wave left `name` out, 1–9 of them, among at least 20 pupils (the truth, read
    for the test only)."""
    from rcs_viz.engine import db

    frame = db.run(ds.db_path, f"SELECT school, {name} FROM respondents WHERE CAST(wave AS VARCHAR) = '2019'", {})
    per = frame.assign(left_out=frame[name].isna()).groupby("school")["left_out"].agg(["sum", "size"])
    return [str(int(s)) for s, r in per.iterrows() if 1 <= r["sum"] <= 9 and r["size"] >= 20][:k]


@pytest.mark.parametrize("first", [True, False], ids=["No answer shown first", "No answer hidden first"])
def test_toggling_no_answer_shows_no_two_totals_a_few_non_answers_apart(first, served, sample_dataset):
    """The same table with "No answer" and without it: its totals differ by the school's non-answers, a small
    group. Across views at most one of the two totals is shown, whichever is asked first; view by view both are."""
    schools = _few_non_answers(sample_dataset, "bullied", 6)
    assert schools
    both_alone = 0
    for school in schools:
        filters = WAVE + (("school", (school,)),)
        totals, alone = [], []
        for missing in (first, not first):
            q = CrossTab(rows="bullied", filters=filters, include_missing=missing)
            totals.append(shown(service.crosstab(served, q, "count", RULES)))
            alone.append(shown(service.crosstab(sample_dataset, q, "count", RULES)))
        assert None in totals, f"school {school}: both totals shown across views ({totals})"
        both_alone += None not in alone
    assert both_alone, "view by view both totals are shown: the test can fail"
