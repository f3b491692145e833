"""The ``svg`` format: a diagram of the network, drawn by convcalc itself (no Graphviz).

One box per row of the report, at the depth it was folded to, under a box for the model's
input: the row's name, its type and output shape, its parameters and MACs, shaded by its
share of the model's MACs (or parameters, or memory). Edges are the rows' ``sources``, drawn
as arrows from the bottom of one box to the top of another; a merge's inputs arrive side by
side on its top edge, and a skip or shortcut runs beside the main column (see
:mod:`._layout`). The picture sizes itself to its content and reads in any browser, or as an
image in a README.

Every box carries ``data-name``, ``data-type`` and ``data-index``, and every edge
``data-from`` and ``data-to`` (the rows' names; the input is ``the model's input``), so a
program can check the picture. Names are data: control characters are written as escapes
(:func:`._units.safe`) and ``<&"`` as XML entities.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple
from xml.sax.saxutils import escape

from .. import _hotspots
from .._errors import SpecError
from .._report import INPUT_SOURCE, SCOPED, LayerRow, Report
from .._settings import ColorBy, Merge
from . import _units
from ._layout import Layout, Route, Spacing, layout

MAX_BOXES = 5_000
"""The most rows a diagram draws: more is no picture anyone can read (fold with --depth)."""

FONT = (
    "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, "
    "'Liberation Sans', 'DejaVu Sans', sans-serif"
)
"""The system's sans-serif, whichever it has."""

NAME_SIZE = 12.5
INFO_SIZE = 11.0
PAD = 10.0
"""Inside a box, left and right of its text."""
BOX_HEIGHT = 56.0
MIN_WIDTH, MAX_WIDTH = 170.0, 330.0
"""The narrowest and widest a box is: as wide as its lines need, names cut beyond."""
LOOP_INSET = 14.0
"""Room a folded residual's loop takes from its text, on either side (the text is centred)."""
FOLD_OFFSET = 4.0
"""How far the box behind a folded block's box shows, right and down."""
MARGIN = 16.0
HEADER = 78.0
"""Room above the diagram for the title, the totals and the legend."""

LOW, HIGH = (255, 255, 255), (236, 112, 60)
"""The fill of a box with no share and of the box with the largest."""
EDGE, SKIP = "#6b6b6b", "#2f6db5"
"""The colour of an edge between neighbouring layers, and of a longer one."""

MERGES = frozenset(merge.value for merge in Merge)


def render_svg(report: Report, color_by: ColorBy = ColorBy.MACS) -> str:
    """The report as a standalone SVG document, ending with a newline."""
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + diagram(report, color_by) + "\n"


def diagram(report: Report, color_by: ColorBy = ColorBy.MACS, *, standalone: bool = True) -> str:
    """The ``<svg>`` element. ``standalone``: with its namespace, as a file needs (inline in
    HTML, the parser supplies it)."""
    _hotspots.check_drawable(report)
    if len(report.layers) > MAX_BOXES:
        raise SpecError(
            f"a diagram draws at most {MAX_BOXES:,} boxes, and this report has "
            f"{len(report.layers):,} rows; fold blocks with a smaller --depth, or use --format "
            "table, json, markdown or csv"
        )
    rows = list(report.layers)
    # A share is of the model's total, as --percent's are (the rows shown may not sum to it:
    # a folded block's memory counts its output, not the tensors inside it).
    figure = _hotspots.measure(color_by, report.settings)
    largest = max((figure(row) for row in rows), default=0)
    shading = _Shading(color_by, _hotspots.total(color_by, report), largest)
    width = _box_width(report, rows)
    spacing = Spacing(box_width=width, box_height=BOX_HEIGHT)
    placed = layout(_sources(rows), spacing)
    full_width = max(placed.width, _header_width(report, color_by)) + 2 * MARGIN
    full_height = HEADER + placed.height + 2 * MARGIN
    # The diagram is centred under the header when the header is the wider.
    left = MARGIN + (full_width - 2 * MARGIN - placed.width) / 2
    frame = _Frame(placed, left, MARGIN + HEADER)
    namespace = ' xmlns="http://www.w3.org/2000/svg"' if standalone else ""
    title = _units.title(report)
    parts = [
        f'<svg{namespace} width="{_n(full_width)}" height="{_n(full_height)}" '
        f'viewBox="0 0 {_n(full_width)} {_n(full_height)}" role="img" '
        f'aria-label="{_attr(f"diagram of {title}")}" class="convcalc-diagram" '
        f'font-family="{_attr(FONT)}">',
        f"<title>{_text(title)}</title>",
        _STYLE,
        _DEFS,
        f'<rect class="page" width="{_n(full_width)}" height="{_n(full_height)}"/>',
        *_header(report, shading),
        '<g class="edges">',
        *_edges(rows, frame),
        "</g>",
        '<g class="boxes">',
        _input_box(report, frame),
        *(_box(report, row, index + 1, frame, shading) for index, row in enumerate(rows)),
        "</g>",
        "</svg>",
    ]
    return "\n".join(parts)


# --- writing XML ------------------------------------------------------------------------------


def _text(text: str) -> str:
    """Text content: made safe to show, then ``<&>`` escaped."""
    return escape(_units.safe(text))


def _attr(text: str) -> str:
    """An attribute's value inside double quotes."""
    return escape(_units.safe(text), {'"': "&quot;"})


def _n(value: float) -> str:
    """A coordinate: at most one decimal, none when whole."""
    rounded = round(value, 1)
    return str(int(rounded)) if rounded == int(rounded) else f"{rounded:.1f}"


def _hex(rgb: Sequence[int]) -> str:
    return "#" + "".join(f"{part:02x}" for part in rgb)


_STYLE = f"""<style>
.page {{ fill: #ffffff; }}
.heading {{ font-size: 16px; font-weight: 700; fill: #1a1a1a; }}
.summary, .legend {{ font-size: 11.5px; fill: #444444; }}
.box rect {{ stroke: #4d4d4d; stroke-width: 1; }}
.box.merge rect {{ stroke: #1f1f1f; stroke-width: 1.6; }}
.box.input rect {{ stroke: #4d6480; }}
.name {{ font-size: {NAME_SIZE}px; font-weight: 600; fill: #111111; }}
.info {{ font-size: {INFO_SIZE:g}px; fill: #333333; }}
.edge {{ fill: none; stroke: {EDGE}; stroke-width: 1.4; }}
.edge.skip, .trunk {{ fill: none; stroke: {SKIP}; stroke-width: 1.6; }}
.loop {{ fill: none; stroke: {SKIP}; stroke-width: 1.4; }}
</style>"""

_DEFS = (
    "<defs>"
    '<marker id="convcalc-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
    f'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{EDGE}"/></marker>'
    '<marker id="convcalc-arrow-skip" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
    f'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{SKIP}"/></marker>'
    '<marker id="convcalc-arrow-small" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" '
    f'markerHeight="6" markerUnits="userSpaceOnUse" orient="auto"><path d="M0,0 L10,5 L0,10 z" '
    f'fill="{SKIP}"/></marker>'
    '<linearGradient id="convcalc-shade">'
    f'<stop offset="0" stop-color="{_hex(LOW)}"/><stop offset="1" stop-color="{_hex(HIGH)}"/>'
    "</linearGradient>"
    "</defs>"
)


# --- what a box says --------------------------------------------------------------------------


def folded(report: Report, row: LayerRow) -> bool:
    """Whether a row stands for a folded block or construct (``--depth``), not one layer."""
    return row.name in report.scopes or row.type in SCOPED


def _loops(report: Report, row: LayerRow) -> bool:
    """Whether a row's box shows a shortcut's loop: a folded residual."""
    return row.type == "residual" and folded(report, row)


def _lines(report: Report, row: LayerRow) -> tuple[str, str, str]:
    """A box's three lines, safe to show: its name, type and output shape, and figures (with
    ``--percent``, each followed by its share of the model's, as the table writes it)."""
    params, macs = _units.human_count(row.params), _units.human_count(row.macs)
    if report.settings.view.percent:
        from .._hotspots import share_text, shares

        of_params, of_macs = shares(row, report)
        params += f" ({share_text(of_params)}%)"
        macs += f" ({share_text(of_macs)}%)"
    return (
        _units.safe(row.name),
        f"{_units.safe(row.type)} · {_units.compact_shape(row.output_shape)}",
        f"{params} params · {macs} MACs",
    )


def _sources(rows: Sequence[LayerRow]) -> list[list[int]]:
    """Each node's sources as node numbers: node 0 is the input, row i is node i + 1."""
    number = {row.name: index + 1 for index, row in enumerate(rows)}
    number[INPUT_SOURCE] = 0
    return [[], *([number.get(source, -1) for source in row.sources] for row in rows)]


# --- measuring text ---------------------------------------------------------------------------

_EM = 0.58
"""A column of text (:func:`._units.text_width`) in ems, a little over the average of the
common sans-serifs' (DejaVu Sans, the widest, about 0.55 for names and figures), so text
measured so fits in any of them."""
_BOLD_EM = 0.62


def _em(bold: bool) -> float:
    return _BOLD_EM if bold else _EM


def _px(text: str, size: float, bold: bool = False) -> float:
    return _units.text_width(text) * size * _em(bold)


def _fit(text: str, room: float, size: float, bold: bool = False) -> str:
    """``text`` cut in the middle to ``room`` pixels."""
    if _px(text, size, bold) <= room:
        return text
    return _units.cut_middle(text, max(int(room / (size * _em(bold))), 1))


def _box_width(report: Report, rows: Sequence[LayerRow]) -> float:
    """As wide as the widest box's lines need, within MIN_WIDTH and MAX_WIDTH."""
    needed = _px(_units.compact_shape(report.input_shape), INFO_SIZE)
    for row in rows:
        name, kind, figures = _lines(report, row)
        widest = max(_px(name, NAME_SIZE, bold=True), _px(kind, INFO_SIZE), _px(figures, INFO_SIZE))
        needed = max(needed, widest + (2 * LOOP_INSET if _loops(report, row) else 0))
    return min(max(needed + 2 * PAD, MIN_WIDTH), MAX_WIDTH)


# --- the header -------------------------------------------------------------------------------


def _summary(report: Report) -> str:
    totals = report.totals
    macs = "MACs" if report.settings.batch is None else "MACs per sample"
    return _units.SEPARATOR.join(
        [
            f"{_units.exact(totals.params)} params",
            f"{_units.human_count(totals.macs)} {macs}",
            *_units.settings_items(report),
        ]
    )


def _legend(color_by: ColorBy, total: int, largest: int) -> tuple[str, str]:
    """The legend's words either side of its colour bar."""
    share = 0.0 if total == 0 else 100 * largest / total
    return f"shade: share of {_hotspots.WHAT[color_by]}, 0%", f"{share:.1f}% (the largest)"


def _header_width(report: Report, color_by: ColorBy) -> float:
    before, after = _legend(color_by, 1, 1)
    return max(
        _px(_units.title(report), 16, bold=True),
        _px(_summary(report), 11.5),
        _px(before, 11.5) + 130 + _px(after, 11.5),
    )


def _header(report: Report, shading: _Shading) -> Iterator[str]:
    top, left = MARGIN, _n(MARGIN)
    heading, summary = _text(_units.title(report)), _text(_summary(report))
    yield f'<text class="heading" x="{left}" y="{_n(top + 16)}">{heading}</text>'
    yield f'<text class="summary" x="{left}" y="{_n(top + 36)}">{summary}</text>'
    before, after = _legend(*shading)
    bar = MARGIN + _px(before, 11.5) + 8
    yield f'<text class="legend" x="{left}" y="{_n(top + 57)}">{_text(before)}</text>'
    yield (
        f'<rect x="{_n(bar)}" y="{_n(top + 47)}" width="114" height="12" '
        'fill="url(#convcalc-shade)" stroke="#999999" stroke-width="0.6"/>'
    )
    yield f'<text class="legend" x="{_n(bar + 122)}" y="{_n(top + 57)}">{_text(after)}</text>'


# --- boxes and edges --------------------------------------------------------------------------


class _Frame(NamedTuple):
    """The layout, placed on the page."""

    layout: Layout
    left: float
    top: float

    def x(self, node: int) -> float:
        return self.left + self.layout.x[node]

    def y(self, layer: int) -> float:
        return self.top + self.layout.top(layer)

    def box_top(self, node: int) -> float:
        return self.y(self.layout.layer[node])


def _shade(value: int, largest: int) -> str:
    share = 0.0 if largest <= 0 else max(value, 0) / largest
    return _hex(
        tuple(round(low + (high - low) * share) for low, high in zip(LOW, HIGH, strict=True))
    )


def _rect(frame: _Frame, node: int, fill: str, radius: float, offset: float = 0.0) -> str:
    spacing = frame.layout.spacing
    left = frame.x(node) - spacing.box_width / 2 + offset
    return (
        f'<rect x="{_n(left)}" y="{_n(frame.box_top(node) + offset)}" '
        f'width="{_n(spacing.box_width)}" height="{_n(spacing.box_height)}" rx="{_n(radius)}" '
        f'fill="{fill}"/>'
    )


def _texts(frame: _Frame, node: int, lines: tuple[str, str, str], inset: float = 0.0) -> str:
    """Three lines centred in the box, each cut to fit (``inset``: room kept free on both
    sides, beyond the padding)."""
    room = frame.layout.spacing.box_width - 2 * (PAD + inset)
    x, top = _n(frame.x(node)), frame.box_top(node)
    name, kind, figures = lines
    return (
        f'<text class="name" x="{x}" y="{_n(top + 18)}" text-anchor="middle">'
        f"{_text(_fit(name, room, NAME_SIZE, bold=True))}</text>"
        f'<text class="info" x="{x}" y="{_n(top + 34)}" text-anchor="middle">'
        f"{_text(_fit(kind, room, INFO_SIZE))}</text>"
        f'<text class="info" x="{x}" y="{_n(top + 48)}" text-anchor="middle">'
        f"{_text(_fit(figures, room, INFO_SIZE))}</text>"
    )


def _input_box(report: Report, frame: _Frame) -> str:
    shape = _units.compact_shape(report.input_shape)
    settings = report.settings
    lines = ("input", shape, f"{settings.framework.value} · {settings.layout.value}")
    tip = _text(f"{INPUT_SOURCE}: {shape}")
    return (
        f'<g class="box input" data-name="{_attr(INPUT_SOURCE)}" data-type="input" '
        f'data-index="0"><title>{tip}</title>'
        f"{_rect(frame, 0, '#eef2f7', 6)}{_texts(frame, 0, lines)}</g>"
    )


class _Shading(NamedTuple):
    """What shades the boxes, and the figures a box's shade is read against."""

    color_by: ColorBy
    total: int
    largest: int


def _box(report: Report, row: LayerRow, node: int, frame: _Frame, shading: _Shading) -> str:
    color_by, total, largest = shading
    value = _hotspots.measure(color_by, report.settings)(row)
    merge = len(row.sources) > 1 or row.type in MERGES
    share = 0.0 if total == 0 else 100 * value / total
    tip = "\n".join(
        _text(part)
        for part in [
            f"{row.name} ({row.type})",
            f"{_units.compact_shape(row.input_shape)} -> {_units.compact_shape(row.output_shape)}",
            f"params {_units.exact(row.params)}",
            f"MACs {_units.exact(row.macs)}",
            f"{share:.2f}% of the model's {_hotspots.WHAT[color_by]}",
        ]
    )
    stack = folded(report, row)
    kind = "box" + (" merge" if merge else "") + (" folded" if stack else "")
    # A folded block is a stack of boxes; a folded residual shows its shortcut as a loop.
    behind = _rect(frame, node, "#ffffff", 5, offset=FOLD_OFFSET) if stack else ""
    loop = _loop(frame, node) if _loops(report, row) else ""
    return (
        f'<g class="{kind}" data-name="{_attr(row.name)}" data-type="{_attr(row.type)}" '
        f'data-index="{row.number}"><title>{tip}</title>{behind}'
        f"{_rect(frame, node, _shade(value, largest), 14 if merge else 5)}{loop}"
        f"{_texts(frame, node, _lines(report, row), LOOP_INSET if loop else 0)}</g>"
    )


def _loop(frame: _Frame, node: int) -> str:
    """A shortcut around a folded residual: a bracket on the right inside the box, from its
    top to an arrow at its bottom."""
    right = frame.x(node) + frame.layout.spacing.box_width / 2
    top = frame.box_top(node)
    bottom = top + frame.layout.spacing.box_height
    return (
        f'<path class="loop" d="M{_n(right - 20)},{_n(top + 7)} H{_n(right - 8)} '
        f'V{_n(bottom - 7)} H{_n(right - 18)}" marker-end="url(#convcalc-arrow-small)"/>'
    )


def _ports(frame: _Frame) -> dict[int, float]:
    """Where each edge (by its place among the routes) meets its target's top: one edge in
    the middle, a merge's inputs side by side, in the order they arrive from left to right."""
    arriving: dict[int, list[int]] = {}
    for index, route in enumerate(frame.layout.routes):
        arriving.setdefault(route.target, []).append(index)
    ports: dict[int, float] = {}
    width = frame.layout.spacing.box_width
    for target, found in arriving.items():
        routes = frame.layout.routes
        found.sort(key=lambda index: (_last_x(frame, routes[index]), index))
        step = 0.0 if len(found) < 2 else min(26.0, (width - 40) / (len(found) - 1))
        middle = (len(found) - 1) / 2
        for place, index in enumerate(found):
            ports[index] = frame.x(target) + (place - middle) * step
    return ports


def _last_x(frame: _Frame, route: Route) -> float:
    """Where an edge comes down from: its source, or its last waypoint."""
    if route.hops:
        return frame.left + frame.layout.trunks[route.source][route.hops - 1]
    return frame.x(route.source)


def _edges(rows: Sequence[LayerRow], frame: _Frame) -> Iterator[str]:
    """Each trunk (the line a row's long edges share) once, then every edge: from its source,
    or from where it leaves the trunk, to its port on its target."""
    names = [INPUT_SOURCE, *(row.name for row in rows)]
    layout, height = frame.layout, frame.layout.spacing.box_height
    for source, trunk in layout.trunks.items():
        layer = layout.layer[source]
        x, y = frame.x(source), frame.y(layer) + height
        path = [f"M{_n(x)},{_n(y)}"]
        for at, via in enumerate(trunk):  # into each waypoint's layer, then straight through
            top = frame.y(layer + 1 + at)
            path += [
                _bend(x, y, frame.left + via, top),
                f"L{_n(frame.left + via)},{_n(top + height)}",
            ]
            x, y = frame.left + via, top + height
        yield f'<path class="trunk" data-from="{_attr(names[source])}" d="{" ".join(path)}"/>'
    ports = _ports(frame)
    for index, route in enumerate(layout.routes):
        x = _last_x(frame, route)
        y = frame.y(layout.layer[route.source] + route.hops) + height
        skip = route.hops > 0
        bend = _bend(x, y, ports[index], frame.box_top(route.target))
        yield (
            f'<path class="edge{" skip" if skip else ""}" '
            f'data-from="{_attr(names[route.source])}" data-to="{_attr(names[route.target])}" '
            f'd="M{_n(x)},{_n(y)} {bend}" '
            f'marker-end="url(#convcalc-arrow{"-skip" if skip else ""})"/>'
        )


def _bend(x: float, y: float, to_x: float, to_y: float) -> str:
    """A curve from (x, y) down to (to_x, to_y), leaving and arriving vertically."""
    half = (to_y - y) / 2
    return f"C{_n(x)},{_n(y + half)} {_n(to_x)},{_n(to_y - half)} {_n(to_x)},{_n(to_y)}"
