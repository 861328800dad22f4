"""Saved views and story: the list of named views, their order, titles and notes, a file to carry it, and Play."""

import streamlit as st

from rcs_viz.features.story import model as sv
from rcs_viz.ui import pages, session, story
from rcs_viz.features.story.model import SavedViewsError
from rcs_viz.output.markdown import escape

ss = st.session_state
d = session.dataset().dictionary
ROLE_KEYS = {"cpp": "cpp", "cluster": "cluster", "school": "school", "wave": "wave"}


def label(key: str, value: str) -> str:
    """Words for a setting's value where the dictionary has them; the code itself otherwise."""
    name = key[2:] if key.startswith("f.") else None
    var = d[name] if name in d else d.by_role(ROLE_KEYS[key]) if key in ROLE_KEYS else None
    if var is not None:
        return var.label_of(value)
    return d[value].label if value in d else value


def edit(op, *args, **kwargs) -> None:
    """Apply a list operation; a refused edit is said in words and the list stays as it was."""
    try:
        story.store(op(story.saved(), *args, **kwargs))
    except SavedViewsError as err:
        ss["sv_error"] = str(err)


def import_list() -> None:
    file = ss.get("sv_import")
    if file is None:
        return
    try:
        new = sv.from_json(file.getvalue(), pages.SAVEABLE)
        old = story.saved()
        if ss.get("sv_import_mode") == "add":
            if len(old) + len(new) > sv.MAX_VIEWS:
                raise SavedViewsError(f"Adding {len(new)} views to {len(old)} would pass the limit of "
                                      f"{sv.MAX_VIEWS}.")
            new = old + new
    except SavedViewsError as err:
        ss["sv_import_error"] = f"{file.name} was not imported: {err} The list is as it was."
        return
    story.store(new)
    ss["sv_import_done"] = f"Imported {file.name}: the list now holds {len(new)} views."


st.title("Saved views and story")
story.remember_browser()
story.saved()  # first: this browser's own list (or why it cannot be read), which a link may replace
linked = st.query_params.get("id")
found = story.open_link(linked) if linked is not None else None
story.problem()
if linked is not None and found is None:
    st.warning("This story link opens nothing on this server: the story may have been deleted, or the link is "
               "incomplete. Below is your own list.", icon=":material/link_off:")
if found is not None and not found[1]:
    if "sv_error" in ss:
        st.error(escape(ss.pop("sv_error")), icon=":material/error:")
    story.shared(linked, found[0], label)
    st.stop()
st.caption("Save a view from any page with *Save this view*. Here you can put the views in order, give each a "
           "title and a note for the room, share the story by its link, carry it to another machine as a file, "
           "and play it: full screen, ← and → to move between steps. The list is kept on the server for this "
           "browser, so it is there after a reload.")
views = story.saved()
play, export, _ = st.columns([1, 1, 2], vertical_alignment="bottom")
if play.button("Play story", key="sv_play", type="primary", icon=":material/slideshow:", disabled=not views,
               width="stretch"):
    story.go(views[0], 1, story.story_id())
export.download_button("Export the list", data=sv.to_json(views), file_name="rcs_views.json",
                       mime="application/json", icon=":material/download:", on_click="ignore",
                       disabled=not views, key="sv_export", width="stretch")
story.deck_downloads(views, "sv")

with st.expander("Import a list", icon=":material/upload:", expanded="sv_import_error" in ss):
    st.radio("The imported views", ["replace", "add"], key="sv_import_mode", horizontal=True,
             format_func={"replace": "replace this list", "add": "go at the end of this list"}.get)
    st.file_uploader("A saved-views file (rcs_views.json)", type=["json"], key="sv_import", on_change=import_list)
if "sv_import_error" in ss:
    st.error(escape(ss.pop("sv_import_error")), icon=":material/error:")
if "sv_import_done" in ss:
    st.success(escape(ss.pop("sv_import_done")), icon=":material/check_circle:")
if "sv_error" in ss:
    st.error(escape(ss.pop("sv_error")), icon=":material/error:")

if views and story.story_id():
    st.caption("This story's link, to open it on another machine or send to a colleague (who can play it or "
               "copy it, not change it):")
    st.code(story.link(story.story_id()), language=None)
if not views:
    st.info("No saved views yet. Open Explore, Compare or another page, set it up, and use *Save this view*.",
            icon=":material/bookmark:")

for i, view in enumerate(views):
    ss[f"sv_name_{i}"], ss[f"sv_title_{i}"], ss[f"sv_note_{i}"] = view.name, view.title, view.note
    with st.container(border=True, key=f"sv_view_{i}"):
        left, right = st.columns([2, 3])
        left.text_input(f"View {i + 1}", key=f"sv_name_{i}", max_chars=sv.MAX_NAME,
                        on_change=lambda i=i: edit(sv.rename, i, ss[f"sv_name_{i}"]))
        right.caption(f"**{pages.SAVEABLE[view.page].title}** · " + escape(sv.describe(view, label)))
        right.caption(escape(sv.url(view)))
        left.text_input("Step title (optional)", key=f"sv_title_{i}", max_chars=sv.MAX_NAME,
                        on_change=lambda i=i: edit(sv.set_text, i, title=ss[f"sv_title_{i}"]))
        right.text_area("Note for the audience (optional)", key=f"sv_note_{i}", max_chars=sv.MAX_NOTE, height=90,
                        on_change=lambda i=i: edit(sv.set_text, i, note=ss[f"sv_note_{i}"]))
        buttons = st.columns(5)
        buttons[0].button("Up", key=f"sv_up_{i}", icon=":material/arrow_upward:", disabled=i == 0,
                          on_click=edit, args=(sv.move, i, -1), width="stretch")
        buttons[1].button("Down", key=f"sv_down_{i}", icon=":material/arrow_downward:", disabled=i == len(views) - 1,
                          on_click=edit, args=(sv.move, i, 1), width="stretch")
        if buttons[2].button("Open", key=f"sv_open_{i}", icon=":material/open_in_new:", width="stretch"):
            story.go(view)
        if buttons[3].button("Play from here", key=f"sv_play_{i}", icon=":material/play_arrow:", width="stretch"):
            story.go(view, i + 1, story.story_id())
        buttons[4].button("Delete", key=f"sv_delete_{i}", icon=":material/delete:", on_click=edit,
                          args=(sv.delete, i), width="stretch")
