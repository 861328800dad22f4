"""The Data dictionary page (AppTest): read-only on the configured data, corrected in place on a file the user
opened, the effect on a protected preview, and the YAML download that opens the file as corrected."""

import hashlib

import numpy as np
import pandas as pd
import pytest
from grids import shown_text

from rcs_viz.data import dictionary as dictmod
from rcs_viz.output.markdown import JOINER
from rcs_viz.ui.pages import ALL

TIMEOUT = 90
PAGE = next(p.file for p in ALL if p.url_path == "dictionary")
EDITOR = "dd_editor"


@pytest.fixture
def pupils(tmp_path):
    """A CSV with a guessed id and a guessed weight, and its bytes."""
    rng = np.random.default_rng(8)
    n = 400
    frame = pd.DataFrame({"pupil_id": range(n), "hub": rng.choice(["North", "South"], n),
                          "sleep": rng.choice([1, 2, 3, 9], n, p=[0.3, 0.3, 0.3, 0.1]),
                          "weight": rng.uniform(0.5, 2.0, n).round(3)})
    path = tmp_path / "pupils.csv"
    frame.to_csv(path, index=False)
    return path


def opened(app_test, path, yaml_bytes=None):
    """The router run, then the file opened through Overview → Open your own data, then this page."""
    at = app_test("app.py").run()
    at.switch_page("app_pages/overview.py").run()
    uploaders = at.get("file_uploader")
    uploaders[0].upload(path.name, path.read_bytes(), "text/csv")
    if yaml_bytes is not None:
        uploaders[1].upload("pupils_dictionary.yaml", yaml_bytes, "application/x-yaml")
    next(b for b in at.button if b.label == "Open").click().run()
    assert not at.exception, at.exception
    assert at.session_state["rcs_dataset"].source.name == path.name
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def edit(at, **rows):
    """Edit cells of the review table (by row number: {column: value}), as the browser's editor would."""
    at.session_state[EDITOR] = {"edited_rows": {int(i[1:]): cells for i, cells in rows.items()},
                                "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception, at.exception
    return at


def preview_grids(at) -> list[pd.DataFrame]:
    """The preview's grids, as shown: as opened (body, All row), then with the corrections (body, All row)."""
    return [shown_text(d) for d in at.dataframe if d.editing_mode == "read_only"]


def words(at) -> str:
    return " ".join(e.value for kind in ("markdown", "caption", "info", "warning", "error")
                    for e in getattr(at, kind)).replace("\\", "").replace(JOINER, "")


def test_the_configured_dictionary_is_read_only(open_page, downloads):
    at = open_page("dictionary.py")
    assert not at.data_editor, "viewers cannot edit the server's dictionary"
    (table,) = [d.value for d in at.dataframe]
    assert list(table.columns)[:4] == ["name", "label", "type", "role"]
    assert "server's dictionary" in words(at)
    assert [b.key for b in at.button] == ["present_on"]  # no "Use these corrections"
    (name,) = downloads
    assert dictmod.parse(dictmod.load_yaml(downloads[name])).names == list(table["name"])


def test_an_opened_file_shows_its_guesses_and_how_to_confirm(app_test, pupils):
    at = opened(app_test, pupils)
    assert at.data_editor(key=EDITOR).editing_mode == "fixed"
    table = at.data_editor(key=EDITOR).value.set_index("name")
    assert table.loc["weight", "evidence"] == "guessed: named 'weight'" and not table.loc["weight", "confirmed"]
    said = words(at)
    assert "'weight' is guessed to be the survey weight" in said and "Role confirmed" in said
    assert "No corrections yet" in said


def test_editing_an_opened_file_changes_the_preview(app_test, pupils):
    at = opened(app_test, pupils)
    at.selectbox(key="dd_var").set_value("sleep").run()
    assert at.query_params["var"] in ("sleep", ["sleep"])
    before = preview_grids(at)[0]
    assert "9" in before.iloc[:, 0].astype(str).tolist()  # 9 is an answer as opened
    rows = list(at.data_editor(key=EDITOR).value["name"])
    edit(at, **{f"r{rows.index('sleep')}": {"missing": "9", "label": "Hours of sleep"}})
    assert "'sleep': 9 now means no answer" in words(at)
    after = preview_grids(at)[2]  # after the first table's body and its All row
    assert "9" not in after.iloc[:, 0].astype(str).tolist() and "No answer" in after.iloc[:, 0].tolist()
    assert "Hours of sleep" in after.columns[0]
    at.button(key="dd_use").click().run()
    assert at.session_state["rcs_dataset"].dictionary["sleep"].missing == ("9",)
    assert not at.exception


def test_a_bad_edit_is_said_and_nothing_breaks(app_test, pupils):
    at = opened(app_test, pupils)
    rows = list(at.data_editor(key=EDITOR).value["name"])
    edit(at, **{f"r{rows.index('hub')}": {"role": "weight"}})
    assert "must be numeric" in at.error[0].value.replace("\\", "")
    assert at.download_button(key="dd_download").disabled
    assert "Fix the problems above" in words(at)


def test_the_downloaded_yaml_opens_the_file_as_corrected(app_test, pupils, downloads):
    digest = hashlib.sha256(pupils.read_bytes()).hexdigest()
    at = opened(app_test, pupils)
    rows = list(at.data_editor(key=EDITOR).value["name"])
    edit(at, **{f"r{rows.index('weight')}": {"confirmed": True}, f"r{rows.index('hub')}": {"role": "cluster"}})
    assert at.download_button(key="dd_download").proto.label == "Download the corrected dictionary (YAML)"
    yaml_bytes = downloads["pupils_dictionary.yaml"]
    assert b"guessed: named 'weight'" not in yaml_bytes

    again = opened(app_test, pupils, yaml_bytes)
    d = again.session_state["rcs_dataset"].dictionary
    assert d.by_role("weight").name == "weight" and not d.by_role("weight").role_guessed
    assert d.by_role("cluster").name == "hub"
    table = again.data_editor(key=EDITOR).value.set_index("name")
    assert table.loc["weight", "confirmed"] and table.loc["weight", "evidence"] == "declared"
    assert "No corrections yet" in words(again)
    assert hashlib.sha256(pupils.read_bytes()).hexdigest() == digest  # the source file is never changed

    again.switch_page("app_pages/explore.py").run()  # a confirmed weight can weight estimates
    assert not again.toggle(key="x_weighted").disabled


def test_explore_offers_no_guessed_weight(app_test, pupils):
    at = opened(app_test, pupils)
    at.switch_page("app_pages/explore.py").run()
    toggle = next(t for t in at.toggle if t.label == "Weighted")
    assert toggle.disabled and not toggle.value
    assert "only guessed to be the survey weight" in toggle.help.replace("\\", "")
    at.query_params["weighted"] = "1"
    at.run()
    assert not at.exception
    assert "estimates are unweighted until it is confirmed" in words(at)


def test_presenting_shows_no_dictionary(open_page):
    at = open_page("dictionary.py", {"present": "1"})
    assert not at.dataframe and not at.get("download_button")

