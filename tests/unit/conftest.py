"""Shared by the unit modules: the committed synthetic sample (data_samples/), each part read once per run."""

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def sample_dir(root) -> Path:
    """The committed synthetic sample's folder."""
    return root / "data_samples"


@pytest.fixture(scope="session")
def sample_dataset(sample_dir, tmp_path_factory):
    """The sample loaded as the app loads it, into a cache of its own."""
    from rcs_viz.engine.load import load_dataset

    return load_dataset(sample_dir / "respondents.parquet", sample_dir / "dictionary.yaml",
                        cache_dir=tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session")
def dic(sample_dir):
    """The sample's dictionary.yaml as read, without loading the data."""
    from rcs_viz.data import dictionary

    return dictionary.read(sample_dir / "dictionary.yaml")


@pytest.fixture(scope="session")
def d(sample_dataset):
    """The loaded sample's dictionary."""
    return sample_dataset.dictionary


@pytest.fixture(scope="session")
def codes(sample_dataset):
    """The codes a variable takes in the loaded sample (within a filter): the pages' `codes` callback."""
    from rcs_viz.engine import service

    return lambda name, within=(): service.categories(sample_dataset, name, within)


@pytest.fixture(scope="session")
def sample_comparators(sample_dir):
    """The sample's national comparators (comparators.csv)."""
    from rcs_viz.data import comparators

    return comparators.read(sample_dir / "comparators.csv")
