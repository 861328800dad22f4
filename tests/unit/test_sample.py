"""The committed synthetic sample (data_samples/) and its generator (rcs_viz.data.sample).

Realism checks run on the committed files; each test's tolerance is in its name
or a comment. Generator checks use small row counts so the file stays fast.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from rcs_viz.data import dictionary as dd, sample


@pytest.fixture(scope="module")
def df(sample_dir) -> pd.DataFrame:
    return pd.read_parquet(sample_dir / "respondents.parquet")


@pytest.fixture(scope="module")
def services(sample_dir) -> pd.DataFrame:
    return pd.read_csv(sample_dir / "services.csv")


@pytest.fixture(scope="module")
def comparators(sample_dir) -> pd.DataFrame:
    return pd.read_csv(sample_dir / "comparators.csv", dtype={"positive": str})


def pct(x: pd.Series, positive=(1,)) -> float:
    """Percentage with a positive code, among non-missing answers."""
    x = x.dropna()
    return 100 * x.isin(positive).mean()


# --------------------------------------------------------------------------- files and shape

def test_committed_files_present_under_5_mb_and_40k_to_60k_rows(df, sample_dir):
    for name in (*sample.FILES.values(), "README.md"):
        assert (sample_dir / name).is_file(), name
    total = sum(p.stat().st_size for p in sample_dir.iterdir())
    assert total < 5_000_000
    assert 40_000 <= len(df) <= 60_000
    assert len(df) == sample.DEFAULT_ROWS
    assert pq.ParquetFile(sample_dir / "respondents.parquet").metadata.row_group(0).column(0).compression == "ZSTD"


def test_committed_sample_is_what_the_generator_makes(df, services, comparators, dic):
    # regenerate with: python -m rcs_viz sample --out data_samples
    pd.testing.assert_frame_equal(df, sample.generate_respondents())
    pd.testing.assert_frame_equal(services, pd.read_csv(_roundtrip_csv(sample.generate_services())))
    pd.testing.assert_frame_equal(comparators,
                                  pd.read_csv(_roundtrip_csv(sample.generate_comparators()), dtype={"positive": str}))
    assert dic.to_mapping() == sample.dictionary().to_mapping()


def _roundtrip_csv(frame: pd.DataFrame):
    import io

    return io.StringIO(frame.to_csv(index=False))


def test_codes_are_small_integers_like_an_spss_extract(df, dic):
    for v in dic.variables:
        if v.is_categorical:
            assert df[v.name].dtype.kind == "i" or str(df[v.name].dtype) in ("Int8", "Int16"), v.name
            assert df[v.name].dtype.itemsize <= 2, v.name


def test_three_cpps_each_with_4_to_8_clusters(df):
    assert df["cpp"].nunique() == 3
    per_cpp = df.groupby("cpp")["cluster"].nunique()
    assert per_cpp.between(4, 8).all(), per_cpp.to_dict()


def test_each_cluster_has_one_secondary_and_3_to_8_primaries(df):
    schools = df.drop_duplicates("school")
    counts = schools.groupby(["cluster", "sector"]).size().unstack(fill_value=0)
    assert (counts[2] == 1).all()
    assert counts[1].between(3, 8).all(), counts[1].to_dict()
    assert (schools.groupby("school")["cluster"].nunique() == 1).all()


def test_school_sizes_from_under_10_to_over_600_per_wave(df):
    per = df.groupby(["wave", "school"]).size()
    assert per.min() < 10
    assert per.max() > 600
    assert per.max() <= 1000  # secondaries up to ~900


def test_stages_match_sector_and_waves_are_2016_and_2019(df):
    assert sorted(df["wave"].unique()) == [2016, 2019]
    assert set(df.loc[df["sector"] == 1, "stage"]) == {1, 2, 3, 4}  # P4-P7
    assert set(df.loc[df["sector"] == 2, "stage"]) == {5, 6, 7, 8}  # S1-S4


def test_respondent_id_unique_within_wave(df):
    assert not df.duplicated(["wave", "respondent_id"]).any()


def test_coordinates_on_mainland_scotland_with_compact_clusters(df):
    # a generous box round the mainland central belt to the Highlands; cluster schools within 0.25 degrees
    assert df["lon"].between(-5.5, -2.0).all() and df["lat"].between(55.3, 58.0).all()
    spread = df.groupby("cluster")[["lon", "lat"]].agg(lambda s: s.max() - s.min())
    assert (spread.max(axis=1) < 0.25).all()
    centres = df.groupby("cpp")[["lon", "lat"]].mean()
    assert centres["lat"].max() - centres["lat"].min() > 0.5  # CPPs in different areas


def test_sex_has_about_2_pct_other_or_prefer_not_to_say_and_young_carer_code_9(df):
    assert 1.0 <= pct(df["sex"], (3,)) <= 3.0
    assert 1.0 <= pct(df["young_carer"], (9,)) <= 5.0


def test_weight_mean_within_0_02_of_1_with_mild_variation(df):
    assert abs(df["weight"].mean() - 1) < 0.02
    assert 0.5 < df["weight"].min() and df["weight"].max() < 2.0 and df["weight"].std() > 0.03


# --------------------------------------------------------------------------- prevalences

def test_sdq_total_is_sum_of_four_subscales_and_bands_follow_cut_offs(df):
    parts = df[["sdq_emotional", "sdq_conduct", "sdq_hyperactivity", "sdq_peer"]].sum(axis=1, skipna=False)
    assert (parts.astype("Int16") == df["sdq_total"].astype("Int16")).fillna(True).all()
    assert df["sdq_total"].isna().equals(df["sdq_emotional"].isna())
    t, band = df["sdq_total"].dropna(), df["sdq_total_band"].dropna()
    assert t.between(0, 40).all()
    expected = np.select([t <= 13, t <= 16], [1, 2], 3)  # 0-13 / 14-16 / 17-40
    assert (band.to_numpy() == expected).all()
    for col in ("sdq_emotional", "sdq_conduct", "sdq_hyperactivity", "sdq_peer", "sdq_prosocial"):
        assert df[col].dropna().between(0, 10).all()


def test_sdq_abnormal_overall_7_to_13_pct(df):
    assert 7 <= pct(df["sdq_total_band"], (3,)) <= 13


@pytest.mark.parametrize("column, low, high", [
    ("looked_after_ever", 0.8, 2.5),
    ("cp_register", 0.1, 0.8),
    ("sw_contact", 4.0, 8.0),
    ("asn", 25.0, 35.0),
    ("fsm", 13.0, 21.0),
])
def test_linked_prevalence_within_range(df, column, low, high):
    assert low <= pct(df[column]) <= high


def test_linked_fields_complete_0_or_1_and_attendance_near_92(df):
    for col in ("looked_after_ever", "cp_register", "sw_contact", "asn", "fsm"):
        assert df[col].notna().all() and set(df[col].unique()) <= {0, 1}
    assert (df["cp_register"] <= df["sw_contact"]).all() and (df["looked_after_ever"] <= df["sw_contact"]).all()
    assert 90 <= df["attendance_pct"].mean() <= 94  # ~92
    assert df["attendance_pct"].between(0, 100).all()
    assert pct(df["exclusions"] > 0, (True,)) < 5  # mostly 0


def test_wemwbs_mean_46_to_50_and_secondary_only(df):
    sec = df["sector"] == 2
    assert df.loc[~sec, "wemwbs"].isna().all()
    assert 46 <= df.loc[sec, "wemwbs"].mean() <= 50
    assert df["wemwbs"].dropna().between(14, 70).all()
    assert df.loc[sec, "primary_wellbeing"].isna().all()
    assert df["primary_wellbeing"].dropna().between(12, 60).all()


def test_wemwbs_lower_for_girls_s3_s4_and_simd1_by_at_least_1_point(df):
    late = df[df["stage"] >= 7]
    assert late.loc[late["sex"] == 1, "wemwbs"].mean() - late.loc[late["sex"] == 2, "wemwbs"].mean() >= 1
    assert df.loc[df["simd"] == 5, "wemwbs"].mean() - df.loc[df["simd"] == 1, "wemwbs"].mean() >= 1


def test_substance_use_only_s2_to_s4(df):
    eligible = df["stage"].isin([6, 7, 8])
    for col in ("alcohol_last_week", "smoked_vaped_last_month", "drugs_ever"):
        assert df.loc[~eligible, col].isna().all(), col
        assert df.loc[eligible, col].notna().mean() > 0.9, col


@pytest.mark.parametrize("item", sorted(sample.SURVEY_ITEMS))
def test_item_missing_2_to_5_pct(df, item):
    stages = sample.SURVEY_ITEMS[item]
    asked = df if stages is None else df[df["stage"].isin(stages)]
    assert 2.0 <= 100 * asked[item].isna().mean() <= 5.0


# --------------------------------------------------------------------------- correlations

def test_sdq_abnormal_in_simd1_over_1_5_times_simd5(df):
    by = {q: pct(df.loc[df["simd"] == q, "sdq_total_band"], (3,)) for q in (1, 5)}
    assert by[1] > 1.5 * by[5], by


def test_fsm_and_asn_more_common_in_simd1(df):
    fsm = {q: pct(df.loc[df["simd"] == q, "fsm"]) for q in (1, 5)}
    asn = {q: pct(df.loc[df["simd"] == q, "asn"]) for q in (1, 5)}
    assert fsm[1] > 4 * fsm[5], fsm  # FSM strongly tied to SIMD
    assert asn[1] > 1.2 * asn[5], asn


def test_sw_contact_rises_with_need_over_2x_but_at_least_half_of_need_unmet(df):
    abnormal = df.loc[df["sdq_total_band"] == 3, "sw_contact"]
    normal = df.loc[df["sdq_total_band"] == 1, "sw_contact"]
    assert abnormal.mean() > 2 * normal.mean()
    assert (abnormal == 0).mean() >= 0.5


def test_girls_s3_s4_emotional_abnormal_above_boys_by_5_points(df):
    late = df[df["stage"] >= 7]
    girls = pct(late.loc[late["sex"] == 2, "sdq_emotional_band"], (3,))
    boys = pct(late.loc[late["sex"] == 1, "sdq_emotional_band"], (3,))
    assert girls > boys + 5


def test_at_least_two_indicators_change_by_2_points_between_waves(df):
    checks = {
        "sdq_emotional_band": (3,), "sdq_total_band": (3,), "alcohol_last_week": (1,),
        "smoked_vaped_last_month": (1,), "bullied": (3, 4), "safe_area": (1, 2),
    }
    changes = {col: pct(df.loc[df["wave"] == 2019, col], pos) - pct(df.loc[df["wave"] == 2016, col], pos)
               for col, pos in checks.items()}
    assert sum(abs(c) >= 2 for c in changes.values()) >= 2, changes
    assert changes["sdq_emotional_band"] > 0 and changes["alcohol_last_week"] < 0  # up and down


# --------------------------------------------------------------------------- services, comparators

def test_services_60_to_100_per_cpp_with_expected_columns(services, df, dic):
    assert list(services.columns) == ["service_id", "cpp", "name", "sector", "provider_type", "tier", "age_min",
                                      "age_max", "children_served", "annual_spend_gbp", "funding_source"]
    assert services["service_id"].is_unique
    assert services.groupby("cpp").size().between(60, 100).all()
    assert set(services["cpp"]) == set(dic["cpp"].value_labels.values())
    assert set(services["sector"]) == {"Education", "Social work", "Health", "Leisure and culture", "Third sector"}
    assert set(services["tier"]) == {"Universal", "Early help / targeted", "Intensive", "Specialist / crisis"}
    assert (services["age_min"] <= services["age_max"]).all()
    assert (services["children_served"] < 10).any()


def test_services_spend_over_50_pct_intensive_specialist_children_over_50_pct_universal(services):
    by = services.groupby("tier")[["children_served", "annual_spend_gbp"]].sum()
    share = by / by.sum()
    assert share.loc[["Intensive", "Specialist / crisis"], "annual_spend_gbp"].sum() > 0.5
    assert share.loc["Universal", "children_served"] > 0.5


def test_comparators_cover_15_to_25_indicators_in_the_dictionary(comparators, dic):
    assert list(comparators.columns) == ["indicator", "indicator_label", "statistic", "positive", "stage",
                                         "wave", "value", "note"]
    assert 15 <= comparators["indicator"].nunique() <= 25
    assert (comparators["note"] == "Illustrative national figure (synthetic) — not a real statistic").all()
    assert set(comparators["wave"]) == {2016, 2019}
    for row in comparators.itertuples():
        v = dic[row.indicator]
        assert row.indicator_label == v.label
        if row.statistic == "pct":
            assert set(row.positive.split(";")) <= set(v.value_labels)
            assert 0 <= row.value <= 100
        else:
            assert row.statistic == "mean" and not v.is_categorical and pd.isna(row.positive)


# --------------------------------------------------------------------------- dictionary

def test_dictionary_reads_synthetic_and_names_every_column(df, dic):
    assert dic.synthetic and dic.title == "Synthetic sample (fictional CPPs)"
    assert dic.names == list(df.columns)
    roles = {v.role: v.name for v in dic.variables if v.role}
    assert roles == {"id": "respondent_id", "wave": "wave", "cpp": "cpp", "cluster": "cluster", "school": "school",
                     "stage": "stage", "weight": "weight", "x": "lon", "y": "lat"}
    assert [lab for _, lab in dic["stage"].values] == ["P4", "P5", "P6", "P7", "S1", "S2", "S3", "S4"]


def test_every_categorical_code_in_the_data_has_a_label(df, dic):
    for v in dic.variables:
        if v.is_categorical:
            codes = {dd.code_text(int(c)) for c in df[v.name].dropna().unique()}
            assert codes <= set(v.value_labels), (v.name, codes - set(v.value_labels))
            assert v.values, v.name


def test_every_variable_has_label_group_and_survey_items_a_question(dic):
    groups = set()
    for v in dic.variables:
        assert v.label and v.group != "Other", v.name
        groups.add(v.group)
        if v.name in sample.SURVEY_ITEMS or v.name.startswith("sdq_"):
            assert v.question, v.name
        if v.type in ("ordinal", "flag") and v.polarity != "neutral":
            assert v.positive, v.name
    assert {"Where", "About the pupil", "Wellbeing (SDQ)", "Wellbeing", "Safe", "Healthy", "Active", "Included",
            "Bullying", "Substance use", "Caring", "Linked: social work", "Linked: education"} <= groups
    assert dic["safe_home"].positive == ("1", "2") and dic["safe_home"].polarity == "higher_is_better"
    assert dic["bullied"].positive == ("3", "4") and dic["bullied"].polarity == "lower_is_better"


# --------------------------------------------------------------------------- the generator

def test_same_seed_gives_identical_frame_and_another_seed_differs():
    a = sample.generate_respondents(3_000, seed=7)
    pd.testing.assert_frame_equal(a, sample.generate_respondents(3_000, seed=7))
    assert len(a) == 3_000
    b = sample.generate_respondents(3_000, seed=8)
    assert not a["sdq_total"].equals(b["sdq_total"])


def test_chunked_write_equals_in_memory_frame(tmp_path):
    paths = sample.write_sample(tmp_path, rows=5_000, seed=11, chunk_rows=1_200)
    assert set(paths) == {"respondents", "dictionary", "services", "comparators"}
    assert pq.ParquetFile(paths["respondents"]).num_row_groups == 5
    written = pd.read_parquet(paths["respondents"])
    pd.testing.assert_frame_equal(written, sample.generate_respondents(5_000, seed=11))
    assert dd.read(paths["dictionary"]).names == list(written.columns)


def test_school_structure_identical_at_every_size(df):
    big = sample.generate_respondents(120_000)
    assert set(big["school"]) == set(df["school"])
    small, large = df.groupby("school").size(), big.groupby("school").size()
    ratio = (large / small)[small >= 100]
    assert ratio.between(120_000 / len(df) * 0.9, 120_000 / len(df) * 1.1).all()  # schools just get bigger
    assert big.drop_duplicates("school").set_index("school")[["lon", "lat", "cluster"]].sort_index().equals(
        df.drop_duplicates("school").set_index("school")[["lon", "lat", "cluster"]].sort_index())
