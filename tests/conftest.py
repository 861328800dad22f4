"""Shared by every level (unit, app, browser): the repo's root and the --full option.

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
