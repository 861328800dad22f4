"""Sign-in roles: the data owner's `access:` setting, checked, and the pure policy of who may open what."""

import pytest

from rcs_viz import config
from rcs_viz.features import access
from rcs_viz.features.story.model import SavedView

EXPLORE_VIEW = SavedView("Deprivation by sex", "explore", (("rows", ("simd",)), ("cols", ("sex",))))
COMPARE_VIEW = SavedView("Spine", "compare", (("view", ("spine",)), ("unit", ("102",))))
STORY = (EXPLORE_VIEW, COMPARE_VIEW)


def _load(tmp_path, text: str) -> config.Config:
    path = tmp_path / "rcs_explorer.yaml"
    path.write_text(text, encoding="utf-8")
    return config.load(path)


def test_no_access_setting_means_no_sign_in_asked_for(tmp_path):
    assert config.Config().access is None
    assert _load(tmp_path, "disclosure: {threshold: 10}\n").access is None


def test_access_is_read_in_lower_case_with_groups_kept_as_sent(tmp_path):
    cfg = _load(tmp_path, "access:\n  explorers: [Ana@Council.gov.uk, Evidence-Team]\n"
                          "  viewers: ['@council.gov.uk']\n  group_claim: groups\n")
    assert cfg.access == config.Access(explorers=("ana@council.gov.uk", "Evidence-Team"),
                                       viewers=("@council.gov.uk",), group_claim="groups")


@pytest.mark.parametrize("text,message", [
    ("access: yes\n", "access: expected the lists explorers and viewers"),
    ("access: {explorers: [a@b.org], admins: [c@b.org]}\n", "unknown setting.*admins"),
    ("access: {explorers: []}\n", "names nobody"),
    ("access: {explorers: a@b.org, viewers: {x: 1}}\n", "viewers: expected a list"),
    ("access: {explorers: ['a @b.org']}\n", "not an e-mail address, an @domain or a group"),
    ("access: {explorers: [a@b@c.org]}\n", "not an e-mail address .* or a domain"),
    ("access: {explorers: ['@localhost']}\n", "not an e-mail address .* or a domain"),
    ("access: {explorers: [evidence-team]}\n", "set access: group_claim"),
    ("access: {explorers: [a@b.org], group_claim: ''}\n", "group_claim: expected the name"),
    ("access: {explorers: [3]}\n", "not an e-mail address"),
])
def test_a_bad_access_setting_says_what_is_wrong_and_where(tmp_path, text, message):
    with pytest.raises(config.ConfigError, match=message) as err:
        _load(tmp_path, text)
    assert str(tmp_path / "rcs_explorer.yaml") in str(err.value)


ACCESS = config.Access(explorers=("ana@council.gov.uk", "evidence"), viewers=("@council.gov.uk", "partners"),
                       group_claim="groups")


@pytest.mark.parametrize("user,role", [
    ({"email": "ana@council.gov.uk"}, access.EXPLORER),
    ({"email": " ANA@Council.gov.uk "}, access.EXPLORER),  # addresses compare without case
    ({"email": "bo@council.gov.uk"}, access.VIEWER),  # by domain
    ({"email": "bo@council.gov.uk", "groups": ["evidence"]}, access.EXPLORER),  # a group lifts a viewer
    ({"email": "cy@charity.org", "groups": "partners"}, access.VIEWER),  # one group as a string
    ({"email": "cy@charity.org", "groups": ["Partners"]}, None),  # groups compare exactly
    ({"email": "cy@charity.org"}, None),
    ({"email": "bo@evilcouncil.gov.uk"}, None),  # a domain is the whole domain, not its ending
    ({"email": "bo@sub.council.gov.uk"}, None),
    ({"email": "x@y@council.gov.uk"}, None),
    ({"groups": ["partners"]}, access.VIEWER),  # no address, but in a listed group
    ({}, None),
    ({"email": None, "groups": [None, 3]}, None),
])
def test_role_from_address_domain_or_group(user, role):
    assert access.role(ACCESS, user) == role


def test_groups_count_only_when_the_owner_named_the_claim():
    plain = config.Access(explorers=("ana@council.gov.uk",), viewers=("@council.gov.uk",))
    assert access.role(plain, {"email": "cy@charity.org", "groups": ["ana@council.gov.uk"]}) is None


@pytest.mark.parametrize("page", ["", "explore", "compare", "need", "story", "dictionary"])
def test_an_explorer_opens_every_page_and_someone_unlisted_none(page):
    assert access.may_open(access.EXPLORER, page)
    assert not access.may_open(None, page, saved_step=True)


def test_a_viewer_opens_the_story_page_and_saved_steps_only():
    assert access.may_open(access.VIEWER, "story")
    for page in ("explore", "compare", "need"):
        assert not access.may_open(access.VIEWER, page)
        assert access.may_open(access.VIEWER, page, saved_step=True)
    for page in ("", "dictionary"):  # the overview opens files; the dictionary edits them
        assert not access.may_open(access.VIEWER, page, saved_step=True)


def _step(k, **extra):
    params = {"rows": ["simd"], "cols": ["sex"], "present": ["1"], "story": [str(k)], "sid": ["x" * 22]}
    return {**params, **extra}


def test_a_saved_step_is_exactly_the_saved_view_in_presenter_mode():
    assert access.is_saved_step("explore", _step(1), STORY)
    assert access.is_saved_step("compare", {"view": ["spine"], "unit": ["102"], "present": ["1"], "story": ["2"]},
                                STORY)


@pytest.mark.parametrize("page,params", [
    ("explore", _step(1, present=[])),  # not presenting: the widgets would be there
    ("explore", _step(1, present=["0"])),
    ("explore", _step(1, rows=["school"])),  # another view than the one saved
    ("explore", _step(1, cols=["sex", "stage"])),
    ("explore", _step(1, **{"f.sex": ["1"]})),  # a filter added
    ("explore", {k: v for k, v in _step(1).items() if k != "cols"}),  # a setting taken away
    ("compare", _step(1)),  # step 1 is an Explore view
    ("explore", _step(2)),
    ("explore", _step(3)),  # no such step
    ("explore", _step(0)),
    ("explore", _step("1a")),
    ("explore", _step(1, story=["1", "1"])),
])
def test_anything_but_the_saved_step_is_not_one(page, params):
    assert not access.is_saved_step(page, params, STORY)


def test_setting_order_matters_within_a_setting_not_across_settings():
    view = SavedView("Two rows", "explore", (("rows", ("simd", "sex")), ("measure", ("pct",))))
    link = {"measure": ["pct"], "rows": ["simd", "sex"], "present": ["1"], "story": ["1"]}
    assert access.is_saved_step("explore", link, (view,))
    assert not access.is_saved_step("explore", {**link, "rows": ["sex", "simd"]}, (view,))
