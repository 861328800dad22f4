"""Every page's CSV carries its context: a header block (data, view, filters, rules, date) above the table.

The download buttons build their files only when clicked, so the test keeps what each page hands the download
row and builds the CSV itself, as the click would.
"""

import io

import pandas as pd
import pytest

from rcs_viz.ui import render

TIMEOUT = 120


@pytest.fixture
def handed(monkeypatch):
    """The (file stem, CSV builder) of every download row a page draws."""
    got = []
    real = render.downloads

    def keep(stem, csv, excel, *args, **kwargs):
        got.append((stem, csv))
        return real(stem, csv, excel, *args, **kwargs)

    monkeypatch.setattr(render, "downloads", keep)
    return got


@pytest.mark.parametrize("page, params, must", [
    ("compare.py", {"view": "rank"}, ["# Data", "# View", "# Filters", "# Disclosure rules"]),
    ("compare.py", {"view": "funnel"}, ["# Funnel", "# Disclosure rules"]),
    ("need.py", {}, ["# Disclosure rules"]),
    ("explore.py", {"rows": "simd"}, ["# Title", "# Filters", "# Disclosure rules"]),
])
def test_a_pages_csv_opens_with_its_context_and_reads_as_a_table(page, params, must, handed, open_page):
    open_page(page, params)
    assert handed, "the page drew a download row"
    for stem, build in handed:
        text = build().decode("utf-8")
        head = [line for line in text.splitlines() if line.startswith("# ")]
        assert head and all(any(line.startswith(m) for line in head) for m in must), (stem, head)
        assert "synthetic" in " ".join(head).lower()
        table = pd.read_csv(io.StringIO(text), comment="#")
        assert len(table) and not any(str(c).startswith("#") for c in table.columns)
