"""The Data dictionary page in chromium: read-only on the configured data; a file opened in the session shows its
guesses and is corrected in the editor, with the preview changing. Screenshots are kept under artifacts/."""

import hashlib
import re

import numpy as np
import pandas as pd
import pyreadstat
import pytest

pytestmark = pytest.mark.browser


@pytest.fixture
def survey(tmp_path):
    """A haven-style .sav: a guessed id, wave and weight, and 9999 "Don't know" proposed as missing."""
    rng = np.random.default_rng(21)
    n = 600
    df = pd.DataFrame({
        "id": np.arange(n) + 1.0,
        "year": rng.choice([2021.0, 2023.0], n),
        "sex": rng.choice([1.0, 2.0], n),
        "like_school": rng.choice([1.0, 2, 3, 4, 5, 9999], n, p=[0.1, 0.2, 0.3, 0.2, 0.1, 0.1]),
        "weight": rng.uniform(40, 90, n).round(1),  # body weight in kg, not a survey weight
    })
    path = tmp_path / "wellbeing.sav"
    pyreadstat.write_sav(
        df, str(path), column_labels={"sex": "Sex", "like_school": "Likes school", "year": "Survey year",
                                      "weight": "Body weight (kg)"},
        variable_value_labels={"sex": {1.0: "Female", 2.0: "Male"},
                               "like_school": {1.0: "Not at all", 5.0: "Very much", 9999.0: "Don't know"}},
        variable_measure={c: "scale" for c in df.columns})
    return path


def open_file(page, path, wait_for_app):
    page.locator("[data-testid='stFileUploader'] input[type='file']").first.set_input_files(str(path))
    page.get_by_text(path.name).first.wait_for()
    page.get_by_role("button", name="Open", exact=True).click()
    wait_for_app(page)


def test_the_configured_dictionary_is_read_only(app_server, page, wait_for_app, artifacts):
    page.goto(app_server + "/dictionary")
    wait_for_app(page)
    page.get_by_text("server's dictionary").first.wait_for()
    assert page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=str(artifacts / "dictionary_configured.png"), full_page=True)


def test_an_opened_file_is_reviewed_and_corrected(app_server, page, wait_for_app, survey, artifacts):
    digest = hashlib.sha256(survey.read_bytes()).hexdigest()
    page.goto(app_server)
    wait_for_app(page)
    open_file(page, survey, wait_for_app)
    page.get_by_text("Guessed from column names").first.wait_for(timeout=60_000)
    page.screenshot(path=str(artifacts / "dictionary_overview_guesses.png"), full_page=True)

    page.get_by_role("link", name="Data dictionary").click()
    wait_for_app(page)
    page.get_by_text("No corrections yet").first.wait_for()
    assert page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=str(artifacts / "dictionary_review.png"), full_page=True)

    # Take 9999 "Don't know" out of the missing codes of 'like_school' in the editor, then preview it.
    grid = page.locator("[data-testid='stDataFrame']").first
    box = grid.bounding_box()
    # The 'Missing codes' cell of 'like_school' (the 4th row under a 35 px header) in the 1400 px window; the
    # grid is a canvas, and a double click opens the cell's text editor.
    page.mouse.dblclick(box["x"] + 707, box["y"] + 35 + 35 * 3 + 17)
    page.wait_for_timeout(500)  # the editor opens with the cell's text
    page.locator("textarea.gdg-input").fill("")
    page.locator("textarea.gdg-input").press("Enter")
    page.wait_for_timeout(1500)  # the edit reaches the server, which runs the page again
    wait_for_app(page)
    page.get_by_text("now counts as an answer").first.wait_for(timeout=30_000)
    page.get_by_test_id("stSelectbox").filter(has_text="Count").click()
    page.get_by_role("option", name=re.compile("Likes school")).first.click()
    wait_for_app(page)
    page.get_by_role("button", name="Use these corrections").wait_for()
    assert page.locator("[role='gridcell']", has_text="Don't know").count() >= 1  # a row of the corrected preview
    page.screenshot(path=str(artifacts / "dictionary_corrected.png"))
    page.get_by_role("button", name="Use these corrections").scroll_into_view_if_needed()  # the app scrolls inside
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts / "dictionary_corrected_preview.png"))
    with page.expect_download() as got:
        page.get_by_role("button", name="Download the corrected dictionary (YAML)").click()
    text = open(got.value.path(), encoding="utf-8").read()
    assert "9999: Don't know" in text or "9999: \"Don't know\"" in text or "9999: 'Don''t know'" in text
    assert hashlib.sha256(survey.read_bytes()).hexdigest() == digest
