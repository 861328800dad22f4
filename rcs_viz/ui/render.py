"""How every page draws data in Streamlit: tables, charts, chips, the download row, the link to a view.

Pages and their sections (`ui/sections`) lay these out; only `rcs_viz.ui`
draws at all (tests/unit/test_layers.py).

Everything it receives is already protected; it decides how things look,
never what may be shown. Text from the data, its dictionary or a link is
plain text here and is escaped (`output.markdown.escape`) wherever it meets
Streamlit's Markdown, st.table cells included.
"""

from __future__ import annotations

import functools
import itertools
import urllib.parse

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from rcs_viz.ui import access, presenter, session
from rcs_viz.output import figures
from rcs_viz.features.compare import tables as compare_tables
from rcs_viz.output import export, tables
from rcs_viz.output.markdown import escape, escape_frame
from rcs_viz.engine.load import Dataset
from rcs_viz.engine.service import Base, Protected

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SYNTHETIC_BADGE = "Synthetic sample — fictional places and pupils, not real statistics"


# Streamlit's own toolbar downloads (a grid's CSV, a chart's PNG/SVG) carry no title, source or rules:
# they are hidden, and the download row under each view gives files that do.
_NO_BARE_DOWNLOADS = """<style>
[data-testid="stElementToolbarButton"]:has(button[aria-label^="Download"]) { display: none !important; }
</style>"""


def dataset_header(ds: Dataset, title: str | None = None) -> None:
    """Title, and the synthetic label wherever synthetic data is shown."""
    presenter.style()
    st.html(_NO_BARE_DOWNLOADS)
    head, switch = st.columns([4, 1], vertical_alignment="bottom")
    head.title(title or escape(ds.dictionary.title))
    with switch:
        presenter.switch()
    if ds.dictionary.synthetic and presenter.active():  # as large as the rest, for the back of the room
        st.markdown(f":orange-background[:material/science: {SYNTHETIC_BADGE}]")
    elif ds.dictionary.synthetic:
        st.badge(SYNTHETIC_BADGE, icon=":material/science:", color="orange")


def link_notes(notes: list[str]) -> None:
    """What a stale or tampered link asked for that could not be shown."""
    if notes:
        st.warning("Parts of this link could not be used, so defaults were shown instead:\n\n"
                   + "\n".join(f"- {escape(n)}" for n in notes), icon=":material/link_off:")


def _base_text(base: Base) -> str:
    return f"{base.count:,} respondents" if not base.too_small else "too few to show"


def _chip(where, name: str, text: str, left: Base, on_remove, args) -> None:
    """One filter as a button in `where` (a column, or `st`): its words and the base it leaves; ✕ removes it."""
    where.button(escape(f"✕ {text} · {_base_text(left)}"), key=f"chip_{name}", on_click=on_remove,
                 args=(name, *args), help="Remove this filter")


def filter_chips(chips, base: Base, on_remove, args=(), within: tuple[str, ...] = (), edit=None) -> None:
    """Active filters as removable chips, each with the base it leaves.

    `within` names, in words, the place and wave a chart is drawn for (not removable here): the base is counted
    within them too, so it is the base of what is drawn. `edit` draws the page's filter widgets: while
    presenting, an explorer gets the chips and those widgets in a compact bar (`presenter_filters`); anyone
    else, the filters in words.
    """
    where = "; ".join(within)
    if presenter.active():
        if edit is not None and access.may_build():
            presenter_filters(chips, base, on_remove, args, within, edit)
        else:
            presenter.filters_in_words([*within, *[text for _, text, _ in chips]], _base_text(base))
        return
    if not chips:
        st.caption(escape((f"{where} · no other filters" if where else "No filters") + f" · base {_base_text(base)}"))
        return
    if where:
        st.caption(escape(f"Drawn for {where}, and:"))
    columns = st.columns(min(len(chips), 4) + 1)
    for i, (name, text, left) in enumerate(chips):
        _chip(columns[i % 4], name, text, left, on_remove, args)
    columns[-1].markdown(f"**Base: {escape(_base_text(base))}**")


def presenter_filters(chips, base: Base, on_remove, args, within, edit) -> None:
    """The filter bar while presenting: one row of large chips (✕ removes), a *Filter* popover holding the page's
    own filter widgets, and the base, so a filter changes without leaving presenter mode.

    The widgets rewrite the URL through the page's binding, which keeps `present=1` (`presenter.carried`): the
    new view is presented, under full protection, like any other. The chips have a container of their own so the
    popover keeps its place in the bar when a filter is added: moved, it was drawn afresh whenever the run's
    chip reached the browser before the popover did, and the field being typed in lost the focus.
    """
    with st.container(horizontal=True, vertical_alignment="center", key="present_filter_bar"):
        st.markdown("**Filters:**" + (f" {escape('; '.join(within))}" if within else ""), width="content")
        with st.container(horizontal=True, vertical_alignment="center", width="content", key="present_chips"):
            for name, text, left in chips:
                _chip(st, name, text, left, on_remove, args)
        with st.popover("Filter", icon=":material/filter_alt:", help="Add, change or remove a filter",
                        key="present_filter"):
            edit()
        st.markdown(f"**Base:** {escape(_base_text(base))}", width="content")


def protected_table(result: Protected, show_ci: bool = False, key: str | None = None) -> None:
    """A protected table with its markers explained and its rules stated.

    At a desk a sortable grid: the numbers are numbers (a click on a column sorts 22,198 above 994), shown as
    the text the table writes (intervals), and the All row stays below in a grid of its own whatever the order.
    A cell with no figure is empty (see `tables.Grid`): drawn as its marker where the table has one kind, else
    blank, and its row's "Not shown" column names the markers. On a projector the plain table, in its order.
    """
    laid = session.table(result, show_ci)
    used = laid.used
    if presenter.active():
        table(laid.wide.reset_index(), key)
    else:
        grid(laid.grid, tables.number_format(result.measure), key, placeholder=used[0] if len(used) == 1 else "",
             alt=f"{tables.name(result)}; a cell without a figure is empty, and the row's {tables.NOT_SHOWN} "
                 "column says why")
    legend = " · ".join(f"{m} {tables.MARKERS[m]}" for m in used)
    st.caption(escape(tables.caption(result)) + (f"  \n{escape(legend)}" if legend else ""))
    if result.summary.get("mostly_protected"):
        st.info(escape(result.summary["advice"]), icon=":material/visibility_off:")
    for note in result.notes:
        st.caption(escape(note))


def table(frame, key: str | None = None, **kwargs) -> None:
    """An interactive grid at a desk; a plain table, which scales with the type, on a projector.

    st.table reads every cell, column header and index label as Markdown, so
    its text is escaped; a Styler keeps its styling, and a frame's first
    column becomes its index.
    """
    if presenter.active():
        if isinstance(frame, Styler):
            # hide_index: st.table ignores the Styler's own hiding, and escaping gives the frame an index of its
            # own that Streamlit no longer recognises as the default one (it drew 0, 1, … down the left)
            st.table(escape_frame(frame.data).style.use(frame.export()), hide_index=True)
        else:
            st.table(escape_frame(frame.set_index(frame.columns[0])))
    else:
        st.dataframe(frame, width="stretch", hide_index=True, key=key, **kwargs)


def _styled(values: pd.DataFrame, text: pd.DataFrame, fmt: str) -> Styler:
    """Numbers that sort as numbers and read as the table's text: every number cell shows its cell of `text`.

    `text` writes each number as `fmt` does, with its markers and intervals; a cell's text is given to the Styler
    directly, cell by cell (its display functions): one Styler.format per cell that differed from `fmt` took 136 ms
    on a 500-cell table with intervals, and every page run draws its table again.
    """
    numeric = [c for c in values.columns if pd.api.types.is_float_dtype(values[c])]
    # A cell without a figure ([c], [b], [z]) stays a missing value, which the grid draws as its placeholder and its
    # accessible table reads as an empty cell: any number there would be read out (-inf as "-Infinity"), and a
    # missing value is drawn as the placeholder whatever text it is given.
    # The grid's accessible table reads a cell's number, not its drawn text: rounded as drawn, it reads 50.3, not
    # 50.33333333333333.
    digits = {"{:,.0f}": 0, "{:.1f}": 1}.get(fmt)
    values = values.round({c: digits for c in numeric}) if digits is not None else values
    styler = values.style
    for c in numeric:
        column = values.columns.get_loc(c)
        for row, written in enumerate(text[c].to_numpy()):
            styler._display_funcs[(row, column)] = functools.partial(_as_text, written)
    return styler.hide(axis="index")


def _as_text(text, _value):
    return text


def _as_written(values: pd.DataFrame, text: pd.DataFrame) -> Styler:
    """Numbers parsed from a table's text (`tables.sortable`) drawn as that text: "1,273", "+0.4", not 1273.0."""
    numeric = [c for c in values.columns if pd.api.types.is_float_dtype(values[c])]
    written = {c: dict(zip(values[c], text[c])) for c in numeric}
    return values.style.format({c: (lambda v, w=written[c]: w.get(v, "")) for c in numeric}).hide(axis="index")


# The grid's own number formats (printf, which the browser applies) for each of the table's (`tables.number_format`),
# with what each writes, in Python: Streamlit's sprintf-js writes "%,d" with thousands separators and "%g" as
# JavaScript writes a number (no ".0", no exponent below 1e21).
_PRINTF = {
    "{:,.0f}": ("%,d", lambda x: f"{int(x):,}"),
    "{:.1f}": ("%.1f", lambda x: ("-" if x < 0 else "") + f"{abs(x):.1f}"),
    "{:g}": ("%g", lambda x: repr(x).removesuffix(".0")),
}


def _as_numbers(values: pd.DataFrame, text: pd.DataFrame, fmt: str) -> tuple[pd.DataFrame, str] | None:
    """The grid's numbers for the browser to write itself, and the printf format that writes them as `text` does:
    each figure is its text read as a number ("49.2", not 49.2333, so its accessible table reads what is drawn),
    a marker stays a missing value (drawn as the placeholder).

    A grid of plain numbers costs the server a fraction of a Styler of display texts (`_styled`, a third of a
    rerun's own work). None where some figure's text is not a number (an interval) or would be written otherwise
    ("-0.0", an exponent): the Styler then writes the text itself.
    """
    printf, write = _PRINTF.get(fmt, (None, None))
    if printf is None:
        return None
    out = values.copy()
    for c in [c for c in values.columns if pd.api.types.is_float_dtype(values[c])]:
        numbers = []
        for value, written in zip(values[c].to_numpy(), text[c].to_numpy()):
            if value != value:  # NaN: no figure, a marker
                numbers.append(value)
                continue
            try:
                number = float(written.replace(",", ""))
            except ValueError:
                return None
            if write(number) != written:
                return None
            numbers.append(number)
        out[c] = numbers
    return out, printf


def grid(g: tables.Grid, fmt: str | None, key: str | None = None, alt: str | None = None,
         placeholder: str = tables.SUPPRESSED) -> None:
    """A sortable grid of a table's body, then its margins (All) in a grid of their own that no sort moves.

    `fmt` writes the numbers (`tables.number_format`), or None where `g.text` already writes them (Compare's tables,
    `tables.sortable`). The leading text columns (the row's labels) stay in view as the grid scrolls sideways.
    `alt` names the grid for a screen reader; a missing value is drawn as `placeholder` (see `_styled`)."""
    numeric = [c for c in g.values.columns if pd.api.types.is_float_dtype(g.values[c])]
    labels = list(itertools.takewhile(lambda c: c not in numeric and c != tables.NOT_SHOWN, g.values.columns))
    numbers = _as_numbers(g.values, g.text, fmt) if fmt is not None else None
    if fmt is None:  # columns as wide as their text, as Compare's tables were as text: a spine fits its column
        config = {c: st.column_config.TextColumn(pinned=True) for c in labels}
        config.update({c: st.column_config.NumberColumn() for c in numeric})
    else:
        longest = {c: max([len(str(c))] + [len(str(v)) for v in g.values[c]]) for c in labels}
        config = {c: st.column_config.TextColumn(pinned=True, width=min(420, 24 + 8 * n)) for c, n in longest.items()}
        printf = numbers[1] if numbers is not None else None
        config.update({c: st.column_config.NumberColumn(width="small", format=printf) for c in numeric})

    def shown(rows):
        if numbers is not None:
            return numbers[0].iloc[rows].reset_index(drop=True)
        values, text = g.values.iloc[rows].reset_index(drop=True), g.text.iloc[rows].reset_index(drop=True)
        return _styled(values, text, fmt) if fmt is not None else _as_written(values, text)

    st.dataframe(shown(g.body), width="stretch", hide_index=True, key=key, column_config=config,
                 placeholder=placeholder, alt=alt)
    if g.margins:
        st.dataframe(shown(g.margins), width="stretch", hide_index=True, column_config=config,
                     key=f"{key}_margins" if key else None, placeholder=placeholder,
                     alt=f"{alt}: all rows together" if alt else None)


def sorted_table(frame: pd.DataFrame, key: str | None = None, pinned=(), alt: str | None = None) -> None:
    """A table of text (Compare's) whose numbers sort as numbers at a desk, `pinned` rows (comparators) kept below
    in a grid of their own; on a projector the plain table as written.

    A blank cell of a number column is blank to everyone; the row's `tables.NOT_SHOWN` cell says which marker it
    stands for, in text a screen reader reads out."""
    if presenter.active():
        table(frame, key)
    else:
        grid(tables.sortable(frame, pinned), None, key, alt, placeholder="")


def _width(c) -> str:
    """As wide as its column for a chart drawn to fit one (width "container"); else its own width."""
    return "stretch" if getattr(c, "width", None) == "container" else "content"


def draw(c, height: int | str = "content", **kwargs):
    """One chart as wide as its column when it is drawn to fit one (width "container"), at its own height.

    Drawn from the spec `figures.finish` made of it (`figures.screen_spec`), where it has one: Streamlit makes a
    chart's spec again from the Altair chart on every page run that draws it (a few ms a chart), and a chart that
    `finish` left has had it made once already, for its description. Any other chart as Streamlit makes it.
    """
    spec = figures.screen_spec(c)
    if spec is None:
        return st.altair_chart(_unchecked(c), width=_width(c), height=height, **kwargs)
    return st.vega_lite_chart(spec=spec, width=_width(c), height=height, **kwargs)


@functools.cache
def _unchecked_class(cls: type) -> type:
    def to_dict(self, validate: bool = False, **kwargs):
        return figures.on_screen(cls.to_dict(self, validate, **kwargs))

    return type(cls.__name__, (cls,), {"to_dict": to_dict})


def _unchecked(c):
    """`c` as Streamlit draws it, without checking its whole spec against the Vega-Lite schema on every draw.

    st.altair_chart calls the chart's to_dict() with its default, validation on: about 10 ms a chart in every page
    run, spent under a lock that Streamlit holds for every session's charts. The spec is the same either way (the
    check only raises); the tests check every kind of chart the pages build (`to_dict()`, `figures.spec_of`).
    Its subtitle lines are chosen by the container's width (`figures.on_screen`), which Vega-Lite draws but Altair's
    validation would refuse. A shallow copy, so the cached chart itself is unchanged.
    """
    out = c.copy(deep=False)
    object.__setattr__(out, "__class__", _unchecked_class(type(c)))
    return out


def chart(result: Protected, figure, on_screen: tuple[list, int] | None = None, missing: list[str] = (),
          show_ci: bool = False) -> None:
    """The chart (small multiples in columns, under their heading and legend), and a note naming what it leaves out.

    `on_screen` is `charts.on_screen`'s: the charts to draw and how many columns their panels take; without it
    the figure itself is drawn. `missing` names the cells the chart leaves out (`charts.drawable`).
    """
    drawn, columns = on_screen or ([figure], 1)
    draw(drawn[0])
    panels = drawn[1:]
    for start in range(0, len(panels), columns):
        cells = st.columns(columns) if columns > 1 else [st.container()]
        for cell, c in zip(cells, panels[start:start + columns]):
            with cell:
                draw(c)
    if missing:
        shown = ", ".join(escape(m) for m in missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
        nobody = tables.NO_PUPILS in session.table(result, show_ci).used  # a mean over a stage a school lacks
        why = "protected, base too small or no such pupils" if nobody else "protected or base too small"
        st.caption(f"Not drawn ({why}): {shown}.")
    if not presenter.active():  # the chart's figures, every cell read in words (a grid reads a protected one as empty)
        # Drawn once opened (as the link box, `copy_link`): a table whose every cell is Markdown was a twelfth of a
        # rerun's work on the server, and more in the browser, for a box that is closed unless a reader opens it.
        box = st.expander("Chart as a table", icon=":material/table_rows:", key="chart_table", on_change="rerun")
        if box.open:
            box.table(escape_frame(tables.in_words(result, show_ci)))


def downloads(stem: str, csv, excel, charts: dict[str, object] | None = None, lines=(), key: str = "") -> None:
    """The one download row: CSV and Excel of exactly the figures shown, PNG and SVG of each chart.

    `csv` and `excel` are callables, so files are built only when asked for;
    nothing is offered while presenting (a room has no use for it).
    """
    if presenter.active():
        return
    charts = {name: c for name, c in (charts or {}).items() if c is not None}

    def k(kind: str) -> str | None:
        return f"{key}_{kind}" if key else None

    cols = st.columns(4)
    cols[0].download_button("CSV", csv, f"{stem}.csv", "text/csv", icon=":material/download:", on_click="ignore",
                            key=k("csv"))
    cols[1].download_button("Excel", excel, f"{stem}.xlsx", XLSX, icon=":material/download:", on_click="ignore",
                            key=k("xlsx"))
    for i, (name, figure) in enumerate(charts.items()):
        if len(charts) > 1:  # one row per chart, named
            cols = st.columns(4)
            cols[1].caption(f"Chart: {escape(name)}")
        file = f"{stem}_{i + 1}" if len(charts) > 1 else stem
        cols[2].download_button("Chart PNG", lambda f=figure: figures.to_png(f, lines), f"{file}.png", "image/png",
                                icon=":material/image:", on_click="ignore", key=k(f"png_{i}"))
        cols[3].download_button("Chart SVG", lambda f=figure: figures.to_svg(f, lines), f"{file}.svg", "image/svg+xml",
                                icon=":material/image:", on_click="ignore", key=k(f"svg_{i}"))


def result_downloads(result: Protected, figure, source: str, wave: str | None = None) -> None:
    """Explore's downloads: the protected cross-tab as files that say what they hold, and its chart."""
    downloads(export.file_stem(result, wave), lambda: export.csv_with_context(result, source, wave),
              lambda: export.to_excel(result, source=source, wave=wave), {"chart": figure},
              figures.footer(source, result.rules))


def copy_link(params: dict[str, list[str]]) -> None:
    """The link that reproduces this view (the code box has a copy button).

    The box is drawn only once its expander is opened: a code box makes the browser load Streamlit's syntax
    highlighter (1.5 MB of script, whatever the language) with the page, a fifth of what a first view loads.
    Opening it reruns the page (`on_change="rerun"`), and it stays open, and drawn, while the user keeps it so.
    """
    if presenter.active():
        return
    box = st.expander("Link to this view", icon=":material/link:", key="copy_link", on_change="rerun")
    if box.open:
        base = st.context.url or ""
        query = urllib.parse.urlencode([(k, v) for k, vs in params.items() for v in vs])
        box.code(base + ("?" + query if query else ""), language=None, wrap_lines=True)


def comparison(result, figure, title: str, source: str, stem: str, chart_key: str | None = None):
    """A Compare view: chart, what it leaves out, the table, its rules, and downloads of the same figures.

    Returns the chart's selection event when `chart_key` is given (the spine's
    click-through).
    """
    event = None
    if figure is not None:
        kwargs = dict(key=chart_key, on_select="rerun", selection_mode="pick") if chart_key else {}
        # rank, trend, gradient: as wide as the column, at their own height; the spine: its own width and height
        height = "content" if getattr(figure, "width", None) == "container" else figure.usermeta["height"]
        event = draw(figure, height=height, **kwargs)
    hidden = getattr(result, "protected", None)
    if hidden:
        st.caption(f"Not drawn (protected or base too small): {', '.join(escape(h) for h in hidden[:12])}"
                   + (f" and {len(hidden) - 12} more." if len(hidden) > 12 else "."))
    for note in result.context.notes:
        st.caption(escape(note))
    sorted_table(compare_tables.display(result), pinned=compare_tables.pinned(result), alt=title)
    st.caption(escape(result.context.rules.describe() + " Better/worse only where the 95% interval clears the "
                      "comparator."))
    downloads(stem, lambda: export.csv_with_header(compare_tables.notes(result, title, source),
                                                   compare_tables.tidy(result)),
              lambda: export.workbook({"Table": compare_tables.tidy(result)}, compare_tables.notes(result, title, source)),
              {title: figure}, figures.footer(source, result.context.rules))
    return event
