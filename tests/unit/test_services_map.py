"""rcs_viz.features.need.services: reading and checking a services table, its summaries, and small counts kept safe."""

from __future__ import annotations

import io
import math
import os
import random
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from scipy.optimize import linprog

from rcs_viz.engine.disclosure.gate import Rules
from rcs_viz.features.need import services as sm
from rcs_viz.features.need.services import ALL_CPPS, ALL_SECTORS, ALL_TIERS, NAMES, TIERS, ServicesError

U, E, I, S = TIERS


def service(sid, tier, sector, children, spend, cpp="Ardmore", funder="Council core", ages=(5, 16)):
    return {"service_id": sid, "cpp": cpp, "name": f"Service {sid}", "sector": sector, "provider_type": "Council",
            "tier": tier, "age_min": ages[0], "age_max": ages[1], "children_served": children,
            "annual_spend_gbp": spend, "funding_source": funder}


def frame(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(NAMES))


# A three-tier partnership small enough to work out by hand (no Intensive services).
HAND = [
    service("U1", U, "Education", 100, 10_000),
    service("U2", U, "Health", 300, 20_000, funder="NHS"),
    service("E1", E, "Education", 40, 40_000),
    service("E2", E, "Social work", 60, 20_000, funder="Lottery"),
    service("S1", S, "Social work", 20, 200_000),
    service("S2", S, "Health", 30, 100_000, funder="NHS"),
]


def write_csv(tmp_path: Path, rows, name="services.csv") -> Path:
    path = tmp_path / name
    frame(rows).to_csv(path, index=False)
    return path


def hand_table(tmp_path) -> pd.DataFrame:
    return sm.load_services(write_csv(tmp_path, HAND)).table


# --------------------------------------------------------------------------- reading

def test_sample_loads_with_the_four_tiers(sample_dir):
    s = sm.load_services(sample_dir / "services.csv")
    assert s.source == "services.csv" and s.notes == ()
    assert len(s.table) == 200 and list(s.table.columns) == list(NAMES)
    assert set(s.table["tier"]) == set(TIERS)
    assert sorted(s.table["cpp"].unique()) == ["Firthmuir", "Glenvarrow", "Kinmorven"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_the_source_file_is_never_changed(tmp_path, suffix):
    path = tmp_path / f"services{suffix}"
    df = frame(HAND)
    df.to_csv(path, index=False) if suffix == ".csv" else df.to_excel(path, index=False)
    before, stamp = path.read_bytes(), os.stat(path).st_mtime_ns
    sm.load_services(path)
    assert path.read_bytes() == before and os.stat(path).st_mtime_ns == stamp
    assert sorted(os.listdir(tmp_path)) == [path.name]


def test_excel_and_upload_bytes_read_the_same_as_csv(tmp_path):
    csv_path = write_csv(tmp_path, HAND)
    xlsx = io.BytesIO()
    frame(HAND).to_excel(xlsx, index=False)
    a = sm.load_services(csv_path).table
    b = sm.load_services(xlsx.getvalue(), name="ours.xlsx").table
    c = sm.load_services(csv_path.read_bytes(), name="upload.csv").table
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, c)


def test_headings_match_whatever_their_case_spacing_or_punctuation(tmp_path):
    df = frame(HAND).rename(columns={"service_id": " Service ID ", "annual_spend_gbp": "Annual spend (£)",
                                     "children_served": "CHILDREN SERVED", "age_min": "Min age",
                                     "funding_source": "Funder"})
    df["tier"] = ["universal", "UNIVERSAL", "early help/targeted", "Targeted", "specialist", "Crisis"]
    df["annual_spend_gbp_note"] = "x"
    path = tmp_path / "theirs.csv"
    df.to_csv(path, index=False)
    s = sm.load_services(path)
    assert list(s.table["tier"]) == [U, U, E, E, S, S]
    assert s.table["annual_spend_gbp"].sum() == 390_000
    assert any("annual_spend_gbp_note" in n for n in s.notes)


def test_figures_typed_with_pound_signs_and_commas_are_read(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text(",".join(NAMES) + "\nA1,Ardmore,Club,Leisure,Council,Universal,,,\"1,200\",\"£12,500.50\",\n",
                    encoding="utf-8")
    t = sm.load_services(path).table
    assert t.loc[0, "children_served"] == 1200 and t.loc[0, "annual_spend_gbp"] == 12_500.5
    assert pd.isna(t.loc[0, "age_min"]) and t.loc[0, "funding_source"] == sm.NOT_STATED


def test_optional_columns_may_be_left_out(tmp_path):
    path = tmp_path / "s.csv"
    frame(HAND).drop(columns=["provider_type", "funding_source", "age_min", "age_max"]).to_csv(path, index=False)
    s = sm.load_services(path)
    assert list(s.table.columns) == list(NAMES)
    assert any("no provider_type" in n for n in s.notes)


def test_windows_1252_text_is_read_with_a_note(tmp_path):
    path = tmp_path / "s.csv"
    rows = [dict(HAND[0], name="Café club")]
    path.write_bytes(frame(rows).to_csv(index=False).encode("cp1252"))
    s = sm.load_services(path)
    assert s.table.loc[0, "name"] == "Café club"
    assert any("Windows-1252" in n for n in s.notes)


def test_semicolon_separated_files_are_read(tmp_path):
    path = tmp_path / "s.csv"
    frame(HAND).to_csv(path, index=False, sep=";")
    s = sm.load_services(path)
    assert len(s.table) == 6 and any("semicolons" in n for n in s.notes)


def mutate(rows, k, **changes):
    rows = [dict(r) for r in rows]
    rows[k].update(changes)
    return rows


ROW_CASES = [  # (rows, row, column, words in the message)
    (mutate(HAND, 1, annual_spend_gbp="lots"), 3, "annual_spend_gbp", "'lots' is not a number"),
    (mutate(HAND, 0, children_served=-4), 2, "children_served", "negative"),
    (mutate(HAND, 2, children_served=12.5), 4, "children_served", "not a whole number"),
    (mutate(HAND, 3, tier="Tier 5"), 5, "tier", "use one of: Universal; Early help / targeted; Intensive;"),
    (mutate(HAND, 4, age_min=12, age_max=8), 6, "age_max", "below age_min"),
    (mutate(HAND, 4, age_max=99), 6, "age_max", "not an age"),
    (mutate(HAND, 5, service_id=""), 7, "service_id", "blank"),
    (mutate(HAND, 5, annual_spend_gbp=""), 7, "annual_spend_gbp", "blank"),
    (mutate(HAND, 0, annual_spend_gbp="nan"), 2, "annual_spend_gbp", "not a number"),
    (mutate(HAND, 0, sector="All sectors"), 2, "sector", "kept for the total"),
]


@pytest.mark.parametrize("rows,row,column,words", ROW_CASES)
def test_a_bad_value_is_named_by_file_row_and_column(tmp_path, rows, row, column, words):
    with pytest.raises(ServicesError) as err:
        sm.load_services(write_csv(tmp_path, rows, "ours.csv"))
    message = str(err.value)
    assert message.startswith("ours.csv: 1 problem: ")
    assert f"row {row}, column '{column}'" in message and words in message


def test_excel_rows_are_numbered_as_the_sheet_shows_them(tmp_path):
    path = tmp_path / "ours.xlsx"
    frame(mutate(HAND, 2, children_served="many")).to_excel(path, index=False, startrow=2)
    with pytest.raises(ServicesError, match=r"ours.xlsx: 1 problem: row 6, column 'children_served': 'many'"):
        sm.load_services(path)


def test_a_heading_spelled_differently_is_quoted_as_written(tmp_path):
    path = tmp_path / "s.csv"
    frame(mutate(HAND, 0, annual_spend_gbp="?")).rename(columns={"annual_spend_gbp": "Annual spend (GBP)"}) \
        .to_csv(path, index=False)
    with pytest.raises(ServicesError, match=r"row 2, column 'Annual spend \(GBP\)' \(annual_spend_gbp\)"):
        sm.load_services(path)


def test_duplicate_ids_name_every_row(tmp_path):
    with pytest.raises(ServicesError, match=r"rows 2, 5, column 'service_id': 'U1' is used more than once"):
        sm.load_services(write_csv(tmp_path, mutate(HAND, 3, service_id="u1")))


def test_many_problems_are_listed_first_few_then_counted(tmp_path):
    rows = [dict(r, children_served="x") for r in HAND] + [dict(HAND[0], service_id="Z", tier="?")]
    with pytest.raises(ServicesError) as err:
        sm.load_services(write_csv(tmp_path, rows))
    assert "7 problems" in err.value.message and "; and 2 more" in err.value.message
    assert len(err.value.problems) == 7
    assert all(p.startswith("services.csv, row ") for p in err.value.problems)


FILE_CASES = [  # (file name, bytes, words in the message)
    ("s.csv", b"", "the file is empty"),
    ("s.csv", b"\xef\xbb\xbf \r\n", "the file is empty"),
    ("s.csv", (",".join(NAMES) + "\n").encode(), "a header but no services"),
    ("s.csv", b"service_id,cpp,name,tier,annual_spend_gbp\nA,B,C,Universal,1\n", "missing column children_served"),
    ("s.csv", b"service_id,cpp,name,tier,children_served\nA,B,C,Universal,1\n", "missing column annual_spend_gbp"),
    ("s.csv", b"a,b\n1,2\n", "missing columns service_id, cpp, name, tier, children_served, annual_spend_gbp"),
    ("s.csv", (",".join(NAMES) + ",Service ID\n").encode(), "both give service_id"),
    ("s.csv", ",".join(NAMES).encode("utf-16-le"), "binary data"),
    ("s.csv", b"\xff\xfe" + b"\x00\xd8", "not valid UTF-16"),
    ("s.csv", (",".join(NAMES) + "\nA,\x81,x\n").encode("latin-1"), "neither UTF-8 nor Windows-1252"),
    ("s.csv", (",".join(NAMES) + '\nA,"B,C\n').encode(), "unclosed quote"),
    ("s.csv", (",".join(NAMES) + "\n" + ",".join(["1"] * 13) + "\n").encode(), "row 2: 13 values"),
    ("s.xlsx", b"PK\x03\x04 not really a workbook", "cannot be read as an Excel .xlsx"),
    ("s.xlsx", b"", "the file is empty"),
    ("s.xls", b"\xd0\xcf\x11\xe0", "old Excel .xls format"),
    ("s.pdf", b"%PDF-1.4", "cannot read '.pdf' files"),
]


@pytest.mark.parametrize("name,data,words", FILE_CASES)
def test_a_bad_file_gets_one_clear_message(name, data, words):
    with pytest.raises(ServicesError) as err:
        sm.load_services(data, name=name)
    assert err.value.message.startswith(name) and words in err.value.message


def test_a_missing_file_is_a_services_error(tmp_path):
    with pytest.raises(ServicesError, match="nope.csv: cannot be read"):
        sm.load_services(tmp_path / "nope.csv")


def test_an_empty_sheet_and_too_many_rows(tmp_path):
    wb = openpyxl.Workbook()
    buffer = io.BytesIO()
    wb.save(buffer)
    with pytest.raises(ServicesError, match="empty"):
        sm.load_services(buffer.getvalue(), name="blank.xlsx")
    big = frame([dict(HAND[0], service_id=f"X{i}") for i in range(sm.MAX_ROWS + 1)]).to_csv(index=False)
    with pytest.raises(ServicesError, match="more than 2,000 services"):
        sm.load_services(big.encode(), name="big.csv")


def test_random_bytes_never_escape_as_anything_but_a_services_error():
    rng = random.Random(6)
    good = frame(HAND).to_csv(index=False).encode()
    xlsx = io.BytesIO()
    frame(HAND).to_excel(xlsx, index=False)
    for trial in range(150):
        base = good if trial % 2 else xlsx.getvalue()
        data = bytearray(base)
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if trial % 7 == 0:
            data = data[: rng.randrange(len(data))]
        try:
            sm.load_services(bytes(data), name="fuzz.csv" if trial % 2 else "fuzz.xlsx")
        except ServicesError as exc:
            assert exc.message.startswith("fuzz.") and "Traceback" not in exc.message


# --------------------------------------------------------------------------- the template

def test_the_csv_template_is_the_header_alone():
    text = sm.template_csv().decode("utf-8")
    assert text.splitlines() == [",".join(NAMES)]
    with pytest.raises(ServicesError, match="a header but no services"):
        sm.load_services(sm.template_csv(), name="template.csv")


def test_the_excel_template_explains_itself_and_reads_back_once_filled():
    wb = openpyxl.load_workbook(io.BytesIO(sm.template_excel()))
    assert wb.sheetnames == ["Services", "About"]
    assert [c.value for c in wb["Services"][1]] == list(NAMES)
    about = "\n".join(str(c.value) for row in wb["About"].iter_rows() for c in row if c.value)
    assert all(c.name in about and c.meaning in about for c in sm.COLUMNS)
    assert all(t in about for t in TIERS)
    sheet = wb["Services"]
    for j, value in enumerate(HAND[0].values(), 1):
        sheet.cell(row=2, column=j, value=value)
    buffer = io.BytesIO()
    wb.save(buffer)
    s = sm.load_services(buffer.getvalue(), name="filled.xlsx")
    assert list(s.table["service_id"]) == ["U1"] and s.notes == ("filled.xlsx: read the sheet 'Services'.",)


def test_columns_describes_every_column():
    c = sm.columns()
    assert list(c["column"]) == list(NAMES)
    assert set(c.loc[c["required"].eq("yes"), "column"]) == set(sm.REQUIRED)
    assert c["meaning"].str.len().min() > 20


# --------------------------------------------------------------------------- summaries, worked by hand

def test_by_tier_by_hand(tmp_path):
    t = sm.by_tier(hand_table(tmp_path))
    assert list(t["tier"]) == [*TIERS, ALL_TIERS]
    assert list(t["services"]) == [2, 2, 0, 2, 6]
    assert list(t["annual_spend_gbp"]) == [30_000, 60_000, 0, 300_000, 390_000]
    assert list(t["children_served"]) == [400, 100, 0, 50, 550]
    assert t["spend_per_child"].tolist()[:2] == [75, 600] and t["spend_per_child"].iloc[3] == 6_000
    assert math.isnan(t["spend_per_child"].iloc[2])  # no children: no cost per child
    assert t["spend_pct"].round(2).tolist() == [7.69, 15.38, 0, 76.92, 100]
    assert (t["marker"] == "").all()


def test_by_tier_sector_and_by_sector_by_hand(tmp_path):
    table = hand_table(tmp_path)
    g = sm.by_tier_sector(table).set_index(["tier", "sector"])
    assert g.loc[(E, "Education"), "annual_spend_gbp"] == 40_000
    assert g.loc[(E, "Education"), "tier_spend_pct"] == pytest.approx(200 / 3)
    assert g.loc[(E, "Education"), "spend_per_child"] == 1_000
    assert g.loc[(ALL_TIERS, "Health"), "children_served"] == 330
    assert (I, "Education") not in g.index  # no such service
    s = sm.by_sector(table).set_index("sector")
    assert list(s.index) == ["Education", "Health", "Social work", ALL_SECTORS]
    assert s.loc["Social work", "annual_spend_gbp"] == 220_000 and s.loc["Social work", "children_served"] == 80
    assert s.loc["Health", "spend_per_child"] == pytest.approx(120_000 / 330)


def test_preventative_share_by_hand(tmp_path):
    p = sm.preventative_share(hand_table(tmp_path)).set_index("group")
    assert p.loc[sm.PREVENTATIVE_LABEL, "annual_spend_gbp"] == 90_000
    assert p.loc[sm.PREVENTATIVE_LABEL, "spend_pct"] == pytest.approx(100 * 90 / 390)
    assert p.loc[sm.ACUTE_LABEL, "spend_pct"] == pytest.approx(100 * 300 / 390)
    assert p.loc["Total", "services"] == 6


def test_tier_shares_say_who_carries_each_tier(tmp_path):
    f = sm.tier_shares(hand_table(tmp_path), by="funding_source")
    assert list(f.columns) == ["tier", "funding_source", "services", "annual_spend_gbp", "tier_spend_pct"]
    spec = f[f["tier"].eq(S)].set_index("funding_source")["tier_spend_pct"]
    assert spec.to_dict() == pytest.approx({"Council core": 200 / 3, "NHS": 100 / 3})
    assert f.groupby("tier")["tier_spend_pct"].sum().tolist() == pytest.approx([100, 100, 100])
    with pytest.raises(ValueError, match="by must be"):
        sm.tier_shares(hand_table(tmp_path), by="name")


def test_one_cpp_or_all(tmp_path):
    rows = HAND + [service("B1", U, "Health", 1_000, 5_000, cpp="Birkhill")]
    table = sm.load_services(write_csv(tmp_path, rows)).table
    assert sm.by_tier(table, "Birkhill")["annual_spend_gbp"].iloc[-1] == 5_000
    assert sm.by_tier(table)["annual_spend_gbp"].iloc[-1] == 395_000
    assert sm.preventative_share(table, "Ardmore")["annual_spend_gbp"].iloc[0] == 90_000
    assert set(sm.service_list(table, "Birkhill")["service_id"]) == {"B1"}
    with pytest.raises(ValueError, match="no services for CPP 'Nowhere'"):
        sm.by_tier(table, "Nowhere")


def test_the_sample_summaries_add_up(sample_dir):
    table = sm.load_services(sample_dir / "services.csv").table
    for cpp in (None, "Glenvarrow", "Firthmuir", "Kinmorven"):
        t = sm.by_tier(table, cpp)
        part = table if cpp is None else table[table["cpp"].eq(cpp)]
        assert t["annual_spend_gbp"].iloc[-1] == part["annual_spend_gbp"].sum()
        assert t["annual_spend_gbp"].iloc[:4].sum() == pytest.approx(t["annual_spend_gbp"].iloc[-1])
        assert list(t["spend_per_child"].iloc[:4]) == sorted(t["spend_per_child"].iloc[:4])  # dearer further down
        p = sm.preventative_share(table, cpp)
        assert p["spend_pct"].iloc[:2].sum() == pytest.approx(100)


# --------------------------------------------------------------------------- small counts

def attacker(table: pd.DataFrame, threshold: int = 10) -> dict[str, tuple[float, float]]:
    """What someone could work out of each small count from everything the module shows.

    Independent of the module's own check: the unknowns are the counts shown
    as protected in the service list; every total shown in ``cells`` (all CPPs,
    tiers, sectors and their margins) is an equation; hidden counts are at
    least 0 (zeros are protected like any small count, so a hidden count may be
    0). A total with no service is no one's count. Returns each small figure's
    [least, greatest].
    """
    listing = sm.service_list(table, threshold=threshold)
    shown = dict(zip(listing["service_id"], listing["children_served"]))
    hidden = [sid for sid, v in shown.items() if np.isnan(v)]
    col = {sid: j for j, sid in enumerate(hidden)}
    truth = dict(zip(table["service_id"], table["children_served"]))
    c = sm.cells(table, threshold)
    rows, rhs, small = [], [], {}
    for _, cell in c.iterrows():
        ids = table["service_id"][
            (table["cpp"].eq(cell["cpp"]) | (cell["cpp"] == ALL_CPPS))
            & (table["tier"].eq(cell["tier"]) | (cell["tier"] == ALL_TIERS))
            & (table["sector"].eq(cell["sector"]) | (cell["sector"] == ALL_SECTORS))]
        coef = np.zeros(len(hidden))
        for sid in ids:
            if sid in col:
                coef[col[sid]] = 1
        known = sum(shown[sid] for sid in ids if sid not in col)
        true_total = sum(truth[sid] for sid in ids)
        if np.isnan(cell["children_served"]):
            if len(ids) and true_total < threshold:
                small[f"cell {cell['cpp']}|{cell['tier']}|{cell['sector']}"] = (coef, known)
        elif coef.any():
            rows.append(coef)
            rhs.append(cell["children_served"] - known)
    for sid in hidden:
        if truth[sid] < threshold:
            coef = np.zeros(len(hidden))
            coef[col[sid]] = 1
            small[sid] = (coef, 0)
    ranges = {}
    for label, (coef, known) in small.items():
        ends = []
        for sign in (1, -1):
            res = linprog(sign * coef, A_eq=np.array(rows) if rows else None, b_eq=rhs or None,
                          bounds=(0, None), method="highs")
            ends.append(math.inf if res.status == 3 else sign * res.fun + known)
        ranges[label] = (ends[0], ends[1])
    return ranges


def assert_safe(table: pd.DataFrame, threshold: int = 10) -> None:
    small = table["children_served"] < threshold
    listing = sm.service_list(table, threshold=threshold).set_index("service_id")
    assert listing.loc[table.loc[small, "service_id"], "marker"].eq("[c]").all()
    assert listing.loc[table.loc[small, "service_id"], "spend_per_child"].isna().all()
    for label, (low, high) in attacker(table, threshold).items():
        assert math.isinf(high) or math.floor(high + 1e-6) - math.ceil(low - 1e-6) >= threshold, (label, low, high)


def test_a_small_service_is_hidden_with_a_partner_so_the_total_does_not_give_it_away(tmp_path):
    rows = HAND + [service("E3", E, "Education", 6, 12_000)]
    table = sm.load_services(write_csv(tmp_path, rows)).table
    listing = sm.service_list(table).set_index("service_id")
    # E3 (6) and E1 (40) share the Early help x Education total (46): hiding E3 alone would leave 46 - 40 = 6.
    assert listing.loc["E3", "marker"] == "[c]" and listing.loc["E1", "marker"] == "[c]"
    assert np.isnan(listing.loc["E3", "spend_per_child"]) and np.isnan(listing.loc["E1", "spend_per_child"])
    assert listing.loc["E3", "annual_spend_gbp"] == 12_000  # spend is about services: always shown
    g = sm.by_tier_sector(table).set_index(["tier", "sector"])
    shown_total = g.loc[(E, "Education"), "children_served"]
    assert shown_total == 46
    assert shown_total - np.nansum(listing.loc[["E1", "E3"], "children_served"]) != 6
    assert_safe(table)


def test_a_small_total_and_the_totals_beside_it_are_protected(tmp_path):
    # The only Intensive service serves 6: the Intensive tier total is itself small, and
    # the all-tiers total minus the other tiers would give it back unless another tier is hidden too.
    rows = HAND + [service("I1", I, "Social work", 6, 50_000)]
    table = sm.load_services(write_csv(tmp_path, rows)).table
    t = sm.by_tier(table).set_index("tier")
    assert t.loc[I, "marker"] == "[c]" and np.isnan(t.loc[I, "children_served"])
    assert np.isnan(t.loc[I, "spend_per_child"]) and t.loc[I, "annual_spend_gbp"] == 50_000
    shown = t.loc[list(TIERS), "children_served"]
    total = t.loc[ALL_TIERS, "children_served"]
    # subtracting what is shown from the total never isolates the 6
    assert np.isnan(total) or shown.isna().sum() >= 2
    assert_safe(table)


def test_small_counts_across_two_cpps_cannot_be_differenced(tmp_path):
    rows = HAND + [service("I1", I, "Social work", 3, 50_000),
                   service("B1", U, "Health", 500, 5_000, cpp="Birkhill"),
                   service("B2", I, "Social work", 8, 40_000, cpp="Birkhill"),
                   service("B3", I, "Health", 25, 90_000, cpp="Birkhill"),
                   service("B4", S, "Health", 0, 1_000, cpp="Birkhill")]
    table = sm.load_services(write_csv(tmp_path, rows)).table
    assert_safe(table)
    listing = sm.service_list(table).set_index("service_id")
    # a zero is protected like any small count (the gate's rule): "nobody was served" is a count too
    assert np.isnan(listing.loc["B4", "children_served"]) and listing.loc["B4", "marker"] == "[c]"
    assert np.isnan(listing.loc["B4", "spend_per_child"])


def test_the_sample_is_safe_and_only_its_small_services_and_a_few_partners_are_hidden(sample_dir):
    table = sm.load_services(sample_dir / "services.csv").table
    assert_safe(table)
    listing = sm.service_list(table)
    small = int((table["children_served"] < 10).sum())
    assert small == 24 and small <= int(listing["marker"].eq("[c]").sum()) <= small + 10


@pytest.mark.parametrize("seed", range(6))
def test_random_tables_are_safe(seed):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(int(rng.integers(5, 40))):
        n = int(rng.choice([0, 1, 3, 6, 9, 12, 40, 300]))
        rows.append(service(f"R{i}", TIERS[rng.integers(4)], ["Education", "Health", "Social work"][rng.integers(3)],
                            n, float(rng.integers(1, 100)) * 1000, cpp=["Ardmore", "Birkhill"][rng.integers(2)]))
    assert_safe(frame(rows))


def test_the_threshold_is_an_argument():
    table = frame(HAND + [service("E3", E, "Education", 6, 12_000)])
    assert sm.service_list(table, threshold=5)["marker"].eq("").all()
    assert sm.service_list(table, threshold=10)["marker"].eq("[c]").sum() == 2
    with pytest.raises(ValueError, match="threshold"):
        sm.cells(table, threshold=0)


def test_grid_lays_out_tier_by_sector_with_markers():
    table = frame(HAND + [service("I1", I, "Social work", 6, 50_000)])
    g = sm.grid(sm.by_tier_sector(table), "children_served")
    assert list(g.index) == [U, E, I, S, ALL_TIERS]
    assert list(g.columns) == ["Education", "Health", "Social work", ALL_SECTORS]
    assert g.loc[I, "Social work"] == "[c]" and g.loc[U, "Health"] == 300
    spend = sm.grid(sm.by_tier_sector(table))
    assert spend.loc[I, "Social work"] == 50_000


def test_the_marker_is_the_apps_marker():
    from rcs_viz.output import tables

    assert sm.SUPPRESSED == tables.SUPPRESSED


# --------------------------------------------------------------------------- differencing across views

def public_figures(table: pd.DataFrame, threshold: int = 10) -> dict[tuple, float | None]:
    """Every children-served figure a viewer can get, from every view: each CPP alone and all CPPs, by tier,
    by sector, tier x sector and the service list. Key: ("service", id) or (cpp, tier, sector); None if protected.
    A total with no service is absent from tier x sector and reads 0 in by_tier: no one's count."""
    seen: dict[tuple, float | None] = {}

    def put(key, value, marker):
        figure = None if marker == "[c]" else float(value)
        assert seen.setdefault(key, figure) == figure, key  # one figure reads the same in every view

    for cpp in [None, *sorted(set(table["cpp"]))]:
        where = cpp or ALL_CPPS
        for r in sm.by_tier_sector(table, cpp, threshold).itertuples():
            put((where, r.tier, r.sector), r.children_served, r.marker)
        for r in sm.by_tier(table, cpp, threshold).itertuples():
            if r.services:
                put((where, r.tier, ALL_SECTORS), r.children_served, r.marker)
        for r in sm.by_sector(table, cpp, threshold).itertuples():
            put((where, ALL_TIERS, r.sector), r.children_served, r.marker)
        for r in sm.service_list(table, cpp, threshold).itertuples():
            put(("service", r.service_id), r.children_served, r.marker)
    return seen


def differencing(table: pd.DataFrame, threshold: int = 10) -> tuple[dict, list]:
    """Totals minus shown parts, over and over: (figures worked out exactly, lines that box hidden ones in).

    The lines are what the service list tells anyone: each cpp x tier x sector figure is the sum of its
    services, and every 'all' the sum of the figures along that dimension (one CPP's views against the
    all-CPP views included)."""
    seen = public_figures(table, threshold)
    lines = []
    for key in [k for k in seen if k[0] != "service"]:
        cpp, tier, sector = key
        if ALL_CPPS != cpp and ALL_TIERS != tier and ALL_SECTORS != sector:
            ids = table.loc[table["cpp"].eq(cpp) & table["tier"].eq(tier) & table["sector"].eq(sector), "service_id"]
            lines.append((key, [("service", i) for i in ids]))
        for a, every in enumerate((ALL_CPPS, ALL_TIERS, ALL_SECTORS)):
            if key[a] == every:
                parts = [k for k in seen if k[0] != "service" and k[a] != every
                         and all(k[b] == key[b] for b in range(3) if b != a)]
                lines.append((key, parts))
    known = {k: v for k, v in seen.items() if v is not None}
    found, changed = {}, True
    while changed:
        changed = False
        for total, parts in lines:
            unknown = [k for k in [total, *parts] if k not in known]
            if len(unknown) == 1:
                k = unknown[0]
                known[k] = found[k] = (sum(known[p] for p in parts) if k == total
                                       else known[total] - sum(known[p] for p in parts if p != k))
                changed = True
    boxed = [(total, known[total] - sum(known[p] for p in parts if p in known)) for total, parts in lines
             if total in known and any(p not in known for p in parts)
             and known[total] - sum(known[p] for p in parts if p in known) < threshold]
    return found, boxed


def test_one_cpp_against_all_cpps_gives_no_small_count_away(tmp_path):
    # Birkhill's only Intensive Health service serves 4; Ardmore's serves 30. The all-CPP Intensive x Health
    # total minus Ardmore's would be Birkhill's 4, and Birkhill's tier total minus its other tiers too.
    rows = HAND + [service("I1", I, "Health", 30, 50_000),
                   service("B1", U, "Health", 500, 5_000, cpp="Birkhill"),
                   service("B2", I, "Health", 4, 40_000, cpp="Birkhill"),
                   service("B3", S, "Health", 25, 90_000, cpp="Birkhill")]
    table = sm.load_services(write_csv(tmp_path, rows)).table
    seen = public_figures(table)
    assert seen[("service", "B2")] is None and seen[("Birkhill", I, "Health")] is None
    assert seen[(ALL_CPPS, I, "Health")] is None or seen[("Ardmore", I, "Health")] is None
    assert differencing(table) == ({}, [])
    assert_safe(table)


@pytest.mark.parametrize("seed", range(6))
def test_differencing_across_every_view_recovers_nothing(seed):
    rng = np.random.default_rng(100 + seed)
    rows = []
    for i in range(int(rng.integers(8, 50))):
        n = int(rng.choice([0, 1, 2, 4, 7, 9, 11, 25, 60, 300]))
        rows.append(service(f"R{i}", TIERS[rng.integers(4)], ["Education", "Health", "Social work"][rng.integers(3)],
                            n, float(rng.integers(1, 100)) * 1000, cpp=["Ardmore", "Birkhill", "Carse"][rng.integers(3)]))
    table = frame(rows)
    found, boxed = differencing(table)
    assert found == {} and boxed == []
    assert_safe(table)


def test_the_sample_gives_nothing_away_by_differencing(sample_dir):
    assert differencing(sm.load_services(sample_dir / "services.csv").table) == ({}, [])


# --------------------------------------------------------------------------- the gate's rules

def test_the_data_owners_rules_are_taken_whole():
    table = frame(HAND + [service("E3", E, "Education", 6, 12_000)])
    assert sm.service_list(table, threshold=Rules(threshold=10))["marker"].eq("[c]").sum() == 2
    assert sm.service_list(table, threshold=Rules(threshold=5, min_base=30))["marker"].eq("").all()
    primary_only = sm.service_list(table, threshold=Rules(secondary=False)).set_index("service_id")["marker"]
    assert primary_only[primary_only.eq("[c]")].index.tolist() == ["E3"]  # as the gate does with secondary off


def test_a_zero_is_protected_like_any_small_count():
    # One Intensive service served no one this year: the gate hides zeros (a 0 says "nobody"), and the
    # all-tiers total minus the other tiers must not give it back.
    table = frame(HAND + [service("I0", I, "Social work", 0, 8_000)])
    t = sm.by_tier(table).set_index("tier")
    assert t.loc[I, "marker"] == "[c]" and np.isnan(t.loc[I, "children_served"])
    assert t.loc[I, "annual_spend_gbp"] == 8_000
    assert_safe(table)
    assert differencing(table) == ({}, [])


def test_a_tier_with_no_service_reads_zero():
    # no Intensive service at all: the services column says so, and the count is no one's
    t = sm.by_tier(frame(HAND)).set_index("tier")
    assert t.loc[I, "services"] == 0 and t.loc[I, "children_served"] == 0 and t.loc[I, "marker"] == ""


def test_protection_is_cached_per_table_and_callers_cannot_change_it():
    table = frame(HAND + [service("E3", E, "Education", 6, 12_000)])
    first = sm.cells(table)
    first.loc[:, "children_served"] = 1
    again = sm.cells(table.copy())
    assert again["children_served"].ne(1).any()
    assert sm._protect.cache_info().hits >= 1
