"""Opening your own file in the app: a bad one is named and refused, a good one is opened."""

import hashlib

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.browser


def open_file(page, path, wait_for_app):
    page.locator("[data-testid='stFileUploader'] input[type='file']").first.set_input_files(str(path))
    page.get_by_text(path.name).first.wait_for()
    page.get_by_role("button", name="Open", exact=True).click()
    wait_for_app(page)


def test_bad_file_gets_a_message_and_the_data_stays(app_server, page, wait_for_app, tmp_path, artifacts):
    bad = tmp_path / "pupils.csv"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))  # an image saved with a .csv name
    digest = hashlib.sha256(bad.read_bytes()).hexdigest()
    page.goto(app_server)
    wait_for_app(page)
    open_file(page, bad, wait_for_app)
    alert = page.locator("[data-testid='stAlert']").filter(has_text="pupils.csv").first
    alert.wait_for()
    assert "pupils.csv" in alert.inner_text()
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.get_by_text("Synthetic sample (fictional CPPs)").count() > 0  # still the sample
    assert hashlib.sha256(bad.read_bytes()).hexdigest() == digest
    page.screenshot(path=str(artifacts / "open_bad_file.png"), full_page=True)


def test_good_file_opens_with_an_inferred_dictionary(app_server, page, wait_for_app, tmp_path):
    rng = np.random.default_rng(5)
    good = tmp_path / "my_cpp.csv"
    pd.DataFrame({"pupil_id": range(300), "school": rng.choice(["Hill", "Glen", "Burn"], 300),
                  "fsm": rng.integers(0, 2, 300), "attendance": rng.normal(92, 4, 300).round(1)}).to_csv(good, index=False)
    page.goto(app_server)
    wait_for_app(page)
    open_file(page, good, wait_for_app)
    # The file's name is on screen as soon as it is chosen; wait for what only the load brings.
    page.get_by_text("a dictionary inferred from the data").first.wait_for(timeout=60_000)
    body = page.locator("body").inner_text()
    assert "From my_cpp.csv" in body
    assert "Synthetic sample —" not in body  # the label belongs to the sample only
    page.get_by_role("button", name="Back to the configured data").click()
    wait_for_app(page)
    page.get_by_text("Synthetic sample (fictional CPPs)").first.wait_for()
