"""Sign-in end to end: a real Streamlit server with `[auth]` and `access:` configured, signing in through a
real local OpenID Connect provider (oidc-provider-mock) in chromium.

The provider runs in this process; its login form offers the test's users as
buttons (and takes any other address typed in). The server's secrets are a
file of the test's own, given with `--secrets.files`, so the repo's
.streamlit/secrets.toml (if a developer has one) is never read or written.
"""

import re
import secrets
import time

import pytest

pytestmark = [pytest.mark.server, pytest.mark.browser]

ANA, BO = "ana@council.gov.uk", "bo@council.gov.uk"


@pytest.fixture(scope="module")
def provider(serving):
    """A local OpenID Connect provider, with Ana (an explorer) and Bo (a viewer) as one-click users."""
    from oidc_provider_mock import User, run_server_in_thread

    users = [User(sub=ANA, claims={"email": ANA, "name": "Ana"}), User(sub=BO, claims={"email": BO, "name": "Bo"})]
    with run_server_in_thread(port=serving.free_port(), user_claims=users) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def signed_in_server(tmp_path_factory, serving, server_env, provider):
    """The app with sign-in through `provider` and access lists: Ana explores, the council's domain views."""
    folder = tmp_path_factory.mktemp("sign_in")
    port = serving.free_port()
    (folder / "secrets.toml").write_text(
        "[auth]\n"
        f'redirect_uri = "http://localhost:{port}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_hex(32)}"\n'
        'client_id = "rcs-explorer"\n'
        'client_secret = "not-a-secret-for-the-mock"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n', encoding="utf-8")
    cfg = folder / "rcs_explorer.yaml"
    cfg.write_text(f"store: sqlite:///{folder / 'store.sqlite'}\n"
                   f"access:\n  explorers: [{ANA}]\n  viewers: ['@council.gov.uk']\n", encoding="utf-8")
    env = {**server_env, "RCS_EXPLORER_CONFIG": str(cfg)}
    with serving(folder / "streamlit.log", env, port=port,
                  args=("--secrets.files", str(folder / "secrets.toml"))) as url:
        yield url


def signed_in_as(address: str, role: str) -> re.Pattern:
    """The sidebar's line for who is signed in (the app escapes the address, which may put joiners in it)."""
    return re.compile("Signed in as " + "\u2060?".join(map(re.escape, address)) + rf" \({role}\)")


def sign_in(page, url, wait_for_app, who: str, typed: bool = False):
    """Open the app, press Sign in, choose `who` on the provider's form (or type the address), and come back."""
    page.goto(url)
    wait_for_app(page)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/oauth2/authorize**", timeout=30_000)
    if typed:
        page.get_by_placeholder("sub").fill(who)
        page.get_by_role("button", name="Authorize").click()
    else:
        page.get_by_role("button", name=who).click()
    page.wait_for_url(url + "/**", timeout=30_000)
    time.sleep(0.5)
    wait_for_app(page)


def test_nothing_opens_before_sign_in(signed_in_server, page, wait_for_app):
    page.goto(signed_in_server + "/explore?rows=simd")
    wait_for_app(page)
    page.get_by_role("button", name="Sign in").wait_for()
    assert page.get_by_text("Synthetic sample").count() == 0
    assert page.locator("[data-testid='stDataFrame'], [data-testid='stTable']").count() == 0


def test_an_explorer_signs_in_and_builds_a_view(signed_in_server, page, wait_for_app, artifacts):
    sign_in(page, signed_in_server, wait_for_app, ANA)
    page.get_by_text(signed_in_as(ANA, "explorer")).wait_for()
    page.goto(signed_in_server + "/explore?rows=simd&cols=sex")
    wait_for_app(page)
    page.get_by_role("heading", name="Explore").wait_for()
    assert page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=str(artifacts / "sign_in_explorer.png"), full_page=True)


def test_a_viewer_signs_in_to_the_stories_and_is_refused_the_query_builder(signed_in_server, page, wait_for_app,
                                                                           artifacts):
    sign_in(page, signed_in_server, wait_for_app, BO)
    page.get_by_role("heading", name="Saved views and story").wait_for()
    page.get_by_text(signed_in_as(BO, "viewer")).wait_for()
    page.goto(signed_in_server + "/explore?rows=simd&cols=sex")
    wait_for_app(page)
    page.get_by_role("heading", name="Not open to viewers").wait_for()
    assert page.get_by_role("heading", name="Explore").count() == 0
    page.screenshot(path=str(artifacts / "sign_in_viewer_refused.png"), full_page=True)


def test_someone_not_on_the_lists_is_refused(signed_in_server, page, wait_for_app):
    sign_in(page, signed_in_server, wait_for_app, "cy@charity.org", typed=True)
    page.get_by_text("not on this server's lists").wait_for()
    assert page.get_by_text("Synthetic sample").count() == 0
