"""Shared by every level (unit, app, browser): the repo's root, the --full option, and a small group to protect.

Each level keeps its own fixtures in its own conftest.py: tests/unit/conftest.py (the
committed synthetic sample), tests/app/conftest.py (the configured dataset and the
AppTest runners), tests/browser/conftest.py (the server and the browser). The markers
are registered in pyproject.toml.
"""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser):
    parser.addoption("--full", action="store_true", help="run the long property and load suites in full")


@pytest.fixture(scope="session")
def full(request) -> bool:
    return request.config.getoption("--full")


@pytest.fixture(scope="session")
def root() -> Path:
    """The repo's root folder (app.py, app_pages/, data_samples/)."""
    return ROOT


@pytest.fixture(scope="session")
def small_group():
    """small_group(dataset) -> (school, sex): 1–9 pupils of one sex in one school in 2019, the group a pair of
    views or links differing by it would give away (read with threshold 1, no noise: the test's privilege)."""
    from rcs_viz.engine import service
    from rcs_viz.engine.disclosure.gate import Rules
    from rcs_viz.engine.sql.views import CrossTab

    def find(ds) -> tuple[str, str]:
        q = CrossTab(rows="school", cols="sex", filters=(("wave", ("2019",)),))
        cells = service.crosstab(ds, q, "count", Rules(threshold=1, secondary=False, perturbation=False)).cells
        inner = cells[cells["row"].notna() & cells["col"].isin(["1", "2"])]
        pick = inner[(inner["count"] >= 1) & (inner["count"] <= 9)].iloc[0]
        return pick["row"], pick["col"]

    return find
