"""Every page runs on the synthetic sample without an exception (AppTest)."""


def test_router_opens_the_default_page(app_test):
    at = app_test("app.py").run()
    assert not at.exception
    assert any("Synthetic sample" in b.value for b in at.markdown) or at.get("badge")


def test_page_runs(app_test, app_page):  # app_page: every file in app_pages/ (tests/app/conftest.py)
    at = app_test(app_page).run()
    assert not at.exception, at.exception
