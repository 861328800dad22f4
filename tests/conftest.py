"""Shared fixtures: the committed synthetic sample, loaded once per test run."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data_samples"


def pytest_addoption(parser):
    parser.addoption("--full", action="store_true", help="run the long property and load suites in full")


@pytest.fixture(scope="session")
def full(request) -> bool:
    return request.config.getoption("--full")


@pytest.fixture(scope="session")
def sample_dataset(tmp_path_factory):
    from rcs_viz.engine.load import load_dataset

    return load_dataset(SAMPLE / "respondents.parquet", SAMPLE / "dictionary.yaml",
                        cache_dir=tmp_path_factory.mktemp("db"))
