"""Need and services: need against service contact, the services map, and a shift-upstream what-if."""

from rcs_viz.ui import binding, presenter, render, session, story
from rcs_viz.ui.controls import need as nc
from rcs_viz.ui.sections import need as sections

ds = session.dataset()
render.dataset_header(ds, title="Need and services")
story.bar("need")
bound = nc.binding(ds)
view, notes = bound.view()
bound.sync(view)
render.link_notes(notes)
if not presenter.active():
    nc.section_picker(bound)

if view.section == "fit":
    sections.need(ds, bound, view)
elif view.section == "services":
    sections.services(ds, bound, view)
else:
    sections.what_if(ds, bound, view)

story.save_control("need")
render.copy_link(binding.url_params())
