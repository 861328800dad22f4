"""Every page runs on the synthetic sample without an exception (AppTest)."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent.parent
PAGES = sorted(p.name for p in (ROOT / "app_pages").glob("*.py"))


def test_router_opens_the_default_page():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert any("Synthetic sample" in b.value for b in at.markdown) or at.get("badge")


@pytest.mark.parametrize("page", PAGES)
def test_page_runs(page):
    at = AppTest.from_file(str(ROOT / "app_pages" / page), default_timeout=60).run()
    assert not at.exception, at.exception
