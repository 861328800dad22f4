"""Saved views: list operations, links, and list files read in full or refused in plain words."""

import json

import pytest

from rcs_viz.ui import presenter
from rcs_viz.features.story import model as sv
from rcs_viz.features.story.model import SavedView, SavedViewsError

PAGES = ("", "explore", "compare", "need")
EXPLORE = SavedView("Deprivation by sex", "explore", (("rows", ("simd",)), ("cols", ("sex",))))
SPINE = SavedView("Cluster spine", "compare", (("view", ("spine",)), ("unit", ("102",))),
                  title="Dunyarrow at a glance", note="Green is better than the CPP.\nGrey is protected.")
STAGES = SavedView("Stages", "explore", (("rows", ("stage",)), ("f.stage", ("6", "7", "8"))))
HOME = SavedView("Home", "")


def doc(*views, **top) -> bytes:
    return json.dumps({"format": sv.FORMAT, "version": 1, "views": list(views), **top}).encode()


def view(**fields) -> dict:
    return {"name": "A view", "page": "explore", "params": {"rows": ["simd"]}, **fields}


# --- round trips ---------------------------------------------------------------------------------------------

def test_round_trip_keeps_every_field_and_the_order():
    views = (EXPLORE, SPINE, STAGES, HOME)
    data = sv.to_json(views)
    assert sv.from_json(data, PAGES) == views
    parsed = json.loads(data)
    assert parsed["format"] == "rcs-explorer-views" and parsed["version"] == 1
    assert parsed["views"][2]["params"] == {"rows": ["stage"], "f.stage": ["6", "7", "8"]}


def test_round_trip_of_unicode_and_hostile_looking_text_is_exact():
    odd = SavedView("Ùr sgoil — <b>bold</b> & \"quotes\"", "explore", (("rows", ("simd",)),),
                    title="[link](javascript:alert(1))", note="<script>alert(1)</script>\n*not italic*")
    assert sv.from_json(sv.to_json((odd,)), PAGES) == (odd,)


def test_an_empty_list_round_trips():
    assert sv.from_json(sv.to_json(()), PAGES) == ()


def test_make_drops_the_mode_keys_and_empty_settings():
    v = sv.make("Presented", "compare", {"view": ["spine"], "present": ["1"], "story": ["2"], "unit": []}, PAGES)
    assert v.params == (("view", ("spine",)),)
    assert set(sv.MODE_KEYS) == set(presenter.CARRIED)


def test_make_accepts_query_params_as_pairs_and_single_strings():
    assert sv.make("x", "explore", [("rows", "simd"), ("cols", ["sex"])], PAGES).params == EXPLORE.params


def test_url_is_relative_encoded_and_never_carries_the_mode():
    assert sv.url(EXPLORE) == "/explore?rows=simd&cols=sex"
    assert sv.url(HOME) == "/"
    assert sv.url(SPINE, present="1", story="2") == "/compare?view=spine&unit=102&present=1&story=2"
    odd = SavedView("x", "explore", (("f.school", ("a b", "c&d=é")),))
    assert sv.url(odd) == "/explore?f.school=a%20b&f.school=c%26d%3D%C3%A9"


def test_describe_says_the_settings_in_a_line():
    assert sv.describe(EXPLORE) == "rows: simd · columns: sex"
    assert sv.describe(STAGES, lambda k, v: f"S{int(v) - 5}" if k == "f.stage" else v) == \
        "rows: stage · filter stage: S1, S2, S3"
    assert sv.describe(HOME) == "default settings"


# --- list operations ----------------------------------------------------------------------------------------

def test_add_rename_delete_return_new_tuples():
    views = sv.add(sv.add((), EXPLORE), SPINE)
    assert views == (EXPLORE, SPINE)
    renamed = sv.rename(views, 1, "  The   spine ")
    assert renamed[1].name == "The spine" and renamed[1].params == SPINE.params and views[1] is SPINE
    assert sv.delete(views, 0) == (SPINE,)


def test_move_and_reorder():
    views = (EXPLORE, SPINE, STAGES)
    assert sv.move(views, 2, -1) == (EXPLORE, STAGES, SPINE)
    assert sv.move(views, 0, 1) == (SPINE, EXPLORE, STAGES)
    assert sv.move(views, 0, -1) == views and sv.move(views, 2, 1) == views
    assert sv.reorder(views, [2, 0, 1]) == (STAGES, EXPLORE, SPINE)
    for bad in ([0, 1], [0, 0, 1], [0, 1, 3]):
        with pytest.raises(SavedViewsError, match="each of the 3 views once"):
            sv.reorder(views, bad)


def test_titles_and_notes():
    views = sv.set_text((EXPLORE, SPINE), 0, title="Step one", note="Line one\r\nLine two  ")
    assert views[0].title == "Step one" and views[0].note == "Line one\nLine two"
    assert sv.set_text(views, 0, note="")[0] == SavedView(EXPLORE.name, "explore", EXPLORE.params, "Step one", "")


def test_edits_that_cannot_be_made_are_refused_in_words():
    views = (EXPLORE,)
    with pytest.raises(SavedViewsError, match="empty"):
        sv.rename(views, 0, "   ")
    with pytest.raises(SavedViewsError, match="limit is 200"):
        sv.rename(views, 0, "x" * 201)
    with pytest.raises(SavedViewsError, match="limit is 1,000"):
        sv.set_text(views, 0, note="x" * 1001)
    with pytest.raises(SavedViewsError, match="no saved view number 2"):
        sv.delete(views, 1)
    with pytest.raises(SavedViewsError, match="no saved view number 0"):
        sv.move(views, -1, 1)
    with pytest.raises(SavedViewsError, match="full"):
        sv.add((EXPLORE,) * sv.MAX_VIEWS, SPINE)
    with pytest.raises(SavedViewsError, match="page this app does not have"):
        sv.make("x", "admin", {}, PAGES)


def test_hidden_characters_are_taken_out_of_names_and_notes():
    v = sv.make("Bad\u202eeman\x00\n\tname", "explore", {}, PAGES, note="a\x07b\n\nc\u2066d")
    assert v.name == "Bademan name" and v.note == "ab\n\ncd"


# --- hostile files: refused whole, with a message, never another exception ----------------------------------

HOSTILE = {
    "not JSON": (b"rows=simd&cols=sex", "not JSON"),
    "binary": (bytes(range(256)) * 4, "not text"),
    "empty": (b"", "not JSON"),
    "JSON but a list": (b"[1, 2, 3]", "not a saved-views list"),
    "another format": (json.dumps({"format": "tableau", "version": 1, "views": []}).encode(), "lacks"),
    "no format": (json.dumps({"version": 1, "views": []}).encode(), "lacks"),
    "a later version": (doc(version=2), "version is 2;"),
    "version as text": (doc(version="1"), 'version is "1";'),
    "version true": (doc(version=True), "version is true;"),
    "views not a list": (json.dumps({"format": sv.FORMAT, "version": 1, "views": {"a": 1}}).encode(),
                         "must be a list"),
    "huge": (doc(view(note="x" * 300_000)), "too big"),
    "too many": (doc(*[view(name=f"v{i}") for i in range(201)]), "201 views"),
    "unknown page": (doc(view(), view(page="admin")), "View 2 .* page this app does not have: 'admin'"),
    "page not text": (doc(view(page=["explore"])), "page this app does not have"),
    "no name": (doc({"page": "explore"}), "View 1 has no name"),
    "blank name": (doc(view(name=" \n ")), "View 1's name is empty"),
    "name too long": (doc(view(name="x" * 201)), "201 characters long; the limit is 200"),
    "note too long": (doc(view(note="x" * 1001)), "the note is 1,001 characters"),
    "title too long": (doc(view(title="y" * 250)), "the title is 250 characters"),
    "name a number": (doc(view(name=12)), "name must be text, not a number"),
    "param a number": (doc(view(params={"rows": [3]})), "setting 'rows' must be text, not a number"),
    "param null": (doc(view(params={"rows": None})), "setting 'rows' must be text or a list of text"),
    "param nested": (doc(view(params={"rows": [["simd"]]})), "setting 'rows' must be text, not a list"),
    "params a list": (doc(view(params=["rows", "simd"])), "must be a group of named values"),
    "params junk object": (doc(view(params={"rows": {"$gt": ""}})), "must be text or a list of text"),
    "view not an object": (doc("explore?rows=simd"), "View 1 must be a group of fields, not text"),
    "unknown field": (doc(view(script="alert(1)")), "unknown|does not know: 'script'"),
    "NaN": (b'{"format": "rcs-explorer-views", "version": NaN, "views": []}', "not JSON"),
    "deep nesting": (b'{"format": "rcs-explorer-views", "version": 1, "views": ' + b"[" * 100_000
                     + b"]" * 100_000 + b"}", "nested too deeply|not JSON"),
    "too many settings": (doc(view(params={f"k{i}": "v" for i in range(61)})), "61 settings"),
    "too many values": (doc(view(params={"f.school": [str(i) for i in range(101)]})), "101 values"),
    "control chars in a value": (doc(view(params={"rows": "simd\x00"})), "unusable value"),
    "empty key": (doc(view(params={"": "x"})), "unusable name"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_files_are_refused_with_a_plain_message(name):
    data, message = HOSTILE[name]
    with pytest.raises(SavedViewsError, match=message) as err:
        sv.from_json(data, PAGES)
    assert "Traceback" not in str(err.value) and len(str(err.value)) < 400


def test_the_hostile_set_is_large():
    assert len(HOSTILE) >= 12


def test_html_and_script_in_names_are_kept_as_text_not_refused():
    data = doc(view(name="<img src=x onerror=alert(1)>", title="<script>alert('t')</script>",
                    note="[click](javascript:alert(1)) **bold** $x$"))
    (v,) = sv.from_json(data, PAGES)
    assert v.name == "<img src=x onerror=alert(1)>" and v.title == "<script>alert('t')</script>"
    assert v.note == "[click](javascript:alert(1)) **bold** $x$"


def test_a_byte_order_mark_and_missing_optional_fields_are_fine():
    data = b"\xef\xbb\xbf" + doc({"name": "Home", "page": ""})
    assert sv.from_json(data, PAGES) == (HOME,)


def test_stored_mode_keys_in_a_file_are_dropped():
    (v,) = sv.from_json(doc(view(params={"rows": "simd", "present": "1", "story": "3"})), PAGES)
    assert v.params == (("rows", ("simd",)),)


def test_random_mutations_never_raise_anything_else():
    import random

    rng = random.Random(7)
    good = bytearray(sv.to_json((EXPLORE, SPINE, STAGES)))
    for _ in range(400):
        data = bytearray(good)
        for _ in range(rng.randint(1, 6)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            sv.from_json(bytes(data), PAGES)
        except SavedViewsError:
            pass
