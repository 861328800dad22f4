"""A fresh server's first Explore run imports only what it draws with, and after the warm-up almost nothing
(bench/cold_start.py times it).

Exports, decks, reports, maps and matplotlib are imported when first used, not on the way to the first chart:
each is tenths of a second of a cold start, spent under the interpreter lock the browser's first requests wait on.
"""

import json
import subprocess
import sys

# Imported by no page until a user asks for what they make; matplotlib by none at all (pandas' Styler would
# import it for colour gradients no page draws: app.py imports the Styler without it).
DEFERRED = ("matplotlib", "fpdf", "pptx", "vl_convert", "pydeck", "openpyxl", "xlsxwriter", "pyreadstat", "psycopg",
            "statsmodels", "sklearn", "pypdf")

# A fresh process's first Explore run, after `{warm}`: the top-level packages it holds at the end, and the
# modules and packages that run itself imported.
FIRST_RUN = """
import json, sys
from streamlit.testing.v1 import AppTest
{warm}
before = set(sys.modules)
at = AppTest.from_file(sys.argv[1], default_timeout=120)
at.switch_page("app_pages/explore.py")
at.query_params.update({{"rows": "simd", "wave": "2019"}})
at.run()
assert not at.exception, at.exception
assert at.dataframe and at.get("vega_lite_chart"), "the first run drew no table or no chart"
new = set(sys.modules) - before
print(json.dumps({{"all": sorted({{m.split(".")[0] for m in sys.modules}}), "modules": sorted(new),
                  "packages": sorted({{m.split(".")[0] for m in new}} - {{m.split(".")[0] for m in before}})}}))
"""


def first_run(root, warm: str = "") -> dict:
    done = subprocess.run([sys.executable, "-c", FIRST_RUN.format(warm=warm), str(root / "app.py")], cwd=root,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_first_explore_run_imports_no_export_deck_report_map_or_matplotlib(root):
    imported = set(first_run(root)["all"])
    assert "pandas" in imported and "altair" in imported  # the run did draw with them
    assert not imported & set(DEFERRED), sorted(imported & set(DEFERRED))


def test_after_the_warm_up_the_first_explore_run_imports_no_new_package(root):
    """The warm-up a server's lifespan starts (rcs_viz.ui.warm) leaves the first page run a few lazy modules of
    packages already imported: without it that run imports some 1,600 modules (pandas, Altair, DuckDB, SQLAlchemy)."""
    # what a server's lifespan starts in a thread, here to its end
    imported = first_run(root, "from rcs_viz.ui import warm\nwarm.warm()")
    assert imported["packages"] == [], imported["packages"]
    assert len(imported["modules"]) < 100, imported["modules"]
