"""`python -m rcs_viz compare`: the funnel and the inequality measures as tables, the same figures as the app.

The data is the hand-built CPP of tests/fairdata.py under the owner's default
rules, so its small school is protected: the CLI lists it and never prints its
true rate.
"""

from __future__ import annotations

import io

import pandas as pd
import pytest

from rcs_viz import config
from rcs_viz.cli import main
from rcs_viz.engine.load import load_dataset
from rcs_viz.features.compare import funnel as funnel_mod, model, tables
from rcs_viz.features.compare.model import Scope
from tests import fairdata


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli_fair")
    _, cfg_path = fairdata.write(folder)
    cfg = config.load(cfg_path)
    ds = load_dataset(cfg.data, cfg.dictionary, cache_dir=cfg.cache_dir, salt=cfg.salt())
    return cfg_path, cfg, ds


def run(capsys, *argv):
    code = main(list(map(str, argv)))
    out, err = capsys.readouterr()
    return code, out, err


def bully(ds):
    return next(i for i in model.indicators(ds.dictionary) if i.name == "bully")


def test_funnel_table_names_the_units_outside_and_lists_the_protected_school(setup, capsys):
    cfg_path, cfg, ds = setup
    code, out, err = run(capsys, "compare", "--config", cfg_path, "--indicator", "bully", "--cpp", "Eastshire",
                         "--level", "school", "--funnel")
    assert code == 0, err
    want = funnel_mod.funnel(ds, bully(ds), "school", Scope("1", None, "2019"), "cpp", cfg.rules)
    assert tables.display(want).to_string(index=False) in out  # the screen's table, exactly
    for verdict, group in want.outside.groupby("verdict"):
        assert f"Outside the limits, {verdict}: {', '.join(group['label'])}" in out
    assert fairdata.PLANTED_LABEL in out.split("Not drawn (protected or base too small):")[1].splitlines()[0]
    assert "PHEindicatormethods" in out and "Disclosure rules:" in out
    assert not fairdata.leaks(out), fairdata.leaks(out)


def test_funnel_csv_carries_the_limits_and_flags(setup, capsys):
    cfg_path, cfg, ds = setup
    code, out, err = run(capsys, "compare", "--config", cfg_path, "--indicator", "bully", "--cpp", "1",
                         "--level", "school", "--funnel", "--format", "csv")
    assert code == 0, err
    got = pd.read_csv(io.StringIO(out))
    want = tables.tidy(funnel_mod.funnel(ds, bully(ds), "school", Scope("1", None, "2019"), "cpp", cfg.rules))
    assert list(got.columns) == list(want.columns)
    pd.testing.assert_series_equal(got["limit998_high"], want["limit998_high"].astype(float), check_names=False)
    planted = got[got["unit"].eq(fairdata.PLANTED_LABEL)].iloc[0]
    assert pd.isna(planted["value"]) and planted["flag"] == "not compared (protected)"
    assert not fairdata.leaks(out)


def test_inequality_prints_the_measures_and_their_method(setup, capsys):
    cfg_path, cfg, ds = setup
    code, out, err = run(capsys, "compare", "--config", cfg_path, "--indicator", "bully", "--cpp", "1",
                         "--inequality")
    assert code == 0, err
    g = model.gradient(ds, bully(ds), Scope("1", None, "2019"), cfg.rules)
    assert g.inequality.given
    assert tables.measures(g).to_string(index=False) in out
    assert "phe_sii" in out and "Low & Low" in out


def test_inequality_says_why_when_a_quintile_is_protected(setup, capsys):
    cfg_path, cfg, ds = setup
    code, out, err = run(capsys, "compare", "--config", cfg_path, "--indicator", "bully", "--cpp", "1",
                         "--cluster", "Birch cluster", "--inequality")
    assert code == 0, err
    assert "are not given" in out or "is not given" in out or "not given:" in out
    assert "SII (slope index" not in out
    assert not fairdata.leaks(out)


@pytest.mark.parametrize("argv, words", [
    (["--indicator", "nope", "--cpp", "1"], "not an indicator"),
    (["--indicator", "bully", "--cpp", "Westshire"], "not a cpp"),
])
def test_bad_arguments_are_one_line(setup, capsys, argv, words):
    cfg_path, _, _ = setup
    code, out, err = run(capsys, "compare", "--config", cfg_path, *argv)
    assert code == 2 and words in err.lower() and len(err.strip().splitlines()) == 1 and not out


def test_funnel_and_inequality_are_one_or_the_other(setup, capsys):
    cfg_path, _, _ = setup
    with pytest.raises(SystemExit) as stop:
        main(["compare", "--config", str(cfg_path), "--indicator", "bully", "--cpp", "1", "--funnel", "--inequality"])
    assert stop.value.code == 2 and "not allowed with" in capsys.readouterr().err
