"""The ``table`` format: a summary in the spirit of Keras' ``model.summary()`` and torchinfo.

The layout is ours, in plain strings: one pass over the rows measures every column, a second
writes the lines, one at a time (:func:`table_lines` is a generator), so a model of 100,000
layers costs about what its JSON does and never holds more than the report and one line.

The width to fit is chosen by the caller: :func:`render_table` takes it (None: as wide as the
table is), :func:`print_table` finds it (``COLUMNS``, else the terminal's, else unlimited). A
table wider than that degrades in steps that keep every number whole: shorter shapes
(``26x26x32``) and headers, a shorter receptive field (``3/1``), names cut in the middle, and
last a stacked layout of two lines per layer. Nothing here imports rich; colour is a few
ANSI codes, written only when asked for.
"""

from __future__ import annotations

import enum
import os
import sys
from collections.abc import Iterable, Iterator
from typing import NamedTuple, TextIO

from .._report import LayerRow, Report
from .._settings import Measure, assert_never
from .._terminal import MAX_WIDTH, MIN_WIDTH, is_terminal, output_width
from . import _units

GAP = "  "
"""Between two columns."""
LABEL_CAP = 72
"""The widest the Layer column grows, even with no width to fit: longer names are cut."""
LABEL_MIN = 24
"""The narrowest the Layer column is squeezed to before the layout turns stacked."""
INDENT = "  "
"""Before a nested layer's name, per level of depth."""
RULE = "─"

_BOLD, _DIM, _UNDERLINE, _RESET = "\x1b[1m", "\x1b[2m", "\x1b[4m", "\x1b[0m"


# --- choosing the width and the colour --------------------------------------------------------


def wants_color(file: TextIO) -> bool:
    """Colour only on a terminal, and not when ``NO_COLOR`` is set or the terminal is dumb."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return is_terminal(file)


# --- measuring ---------------------------------------------------------------------------------


class _Widths(NamedTuple):
    """Each column's widest cell, in every form a layout may choose."""

    number: int
    label: int
    header: str
    """``Layer (type)`` when some row shows its type, else ``Layer``."""
    shape: int
    compact_shape: int
    params: int
    non_trainable: int
    has_non_trainable: bool
    """Whether any layer has non-trainable parameters (only then is that column shown)."""
    macs: int
    field: int
    compact_field: int
    params_share: int = 0
    """With --percent: the widest share of the parameters (``12.3``)."""
    macs_share: int = 0
    memory: int = 0
    """With --sort memory: the widest memory (``1.53 MiB``)."""


def _measure(report: Report) -> _Widths:
    """One pass over the rows; nothing is kept but the widths."""
    settings = report.settings
    batch_length = len(str(settings.batch))
    label = shape = compact_shape = params = non_trainable = macs = field = compact_field = 0
    params_share = macs_share = memory = 0
    typed = frozen = False
    percent, by_memory = settings.view.percent, settings.view.sort is Measure.MEMORY
    if percent or by_memory:  # the hotspot columns: only then is _hotspots loaded
        from .._hotspots import row_memory, share_text, shares
    # Rows in execution order are indented by depth; ranked rows are not (see _choose).
    indent = len(INDENT) if settings.view.sort is None else 0
    label_parts, text_width, summary = _units.label_parts, _units.text_width, _units.field_summary
    for row in report.layers:
        name, suffix = label_parts(row)
        if suffix:
            typed = True
        width = text_width(name + suffix) + indent * row.depth
        if width > label:
            label = width
        dims = row.output_shape
        width = len(_units.compact_shape(dims))
        if width > compact_shape:
            compact_shape = width
        # "(None, 26, 26, 32)" is "26x26x32" with the batch, parentheses and ", " for "x".
        width += len(dims) - 1 + batch_length + 4 if dims else batch_length + 2
        if width > shape:
            shape = width
        width = len(f"{row.params:,}")
        if width > params:
            params = width
        if row.non_trainable_params:
            frozen = True
        width = len(f"{row.non_trainable_params:,}")
        if width > non_trainable:
            non_trainable = width
        width = len(f"{row.macs:,}")
        if width > macs:
            macs = width
        if row.receptive_field is None:
            field = max(field, len(_units.WHOLE_INPUT))
            compact_field = max(compact_field, len(_units.WHOLE_INPUT))
        else:
            width = len(summary(row.receptive_field))
            if width > field:
                field = width
            width = len(summary(row.receptive_field, compact=True))
            if width > compact_field:
                compact_field = width
        if percent:
            of_params, of_macs = shares(row, report)
            params_share = max(params_share, len(share_text(of_params)))
            macs_share = max(macs_share, len(share_text(of_macs)))
        if by_memory:
            memory = max(memory, len(_units.human_bytes(row_memory(row, settings))))
    number = len(str(max((row.number for row in report.layers), default=0)))
    header = _units.header_for(typed)
    return _Widths(
        number,
        label,
        header,
        shape,
        compact_shape,
        params,
        non_trainable,
        frozen,
        macs,
        field,
        compact_field,
        params_share,
        macs_share,
        memory,
    )


# --- choosing a layout -----------------------------------------------------------------------


class _Key(enum.Enum):
    """What a figure column shows."""

    SHAPE = "shape"
    PARAMS = "params"
    PARAMS_SHARE = "params_share"
    """With --percent: the row's share of the parameters."""
    NON_TRAINABLE = "non_trainable"
    MACS = "macs"
    MACS_SHARE = "macs_share"
    MEMORY = "memory"
    """With --sort memory: the row's memory."""
    FIELD = "field"
    """The receptive field."""


_SHARES = (_Key.PARAMS_SHARE, _Key.MACS_SHARE)


class _Column(NamedTuple):
    key: _Key
    """What it shows."""
    header: str
    width: int
    numeric: bool


class _Layout(NamedTuple):
    """How the layer table is drawn."""

    columns: tuple[_Column, ...]
    """Every column after the number and the name, in order."""
    header: str
    """The name column's header."""
    number: int
    label: int
    """The Layer column's width (stacked: the widest name line's name)."""
    compact: bool
    """Shapes as ``26x26x32`` (without the batch) and short headers."""
    compact_field: bool
    """Receptive fields as ``3/1`` when every axis agrees."""
    stacked: bool
    """Two lines per layer: number and name, then its figures."""
    gap: str = GAP
    """Between the figure columns."""
    loose: bool = False
    """Stacked, with figures labelled and wrapped rather than in columns."""
    indent: str = INDENT
    """Before a nested name, per level; one space once names are cut to fit; none when the
    rows are ranked, not in execution order."""
    number_header: str = "#"
    """The first column's header: ``Count`` when each row is a group."""

    @property
    def non_trainable(self) -> bool:
        """Whether the non-trainable column is shown."""
        return any(column.key is _Key.NON_TRAINABLE for column in self.columns)


def _figure_columns(
    report: Report,
    widths: _Widths,
    compact_shape: bool,
    compact_field: bool,
    non_trainable: bool = True,
    field: bool = True,
    shape: bool = True,
) -> tuple[_Column, ...]:
    """The columns after the name: a group (--group-by) has no shape or receptive field; each
    share (--percent, headed ``%``) follows its figure; memory shows when it ranks the rows."""
    view = report.settings.view
    grouped = view.group_by is not None
    columns = []
    if shape and not grouped:
        width = widths.compact_shape if compact_shape else widths.shape
        header = "Output" if compact_shape else "Output shape"
        columns.append(_Column(_Key.SHAPE, header, width, False))
    columns.append(_Column(_Key.PARAMS, "Params", widths.params, True))
    if view.percent:
        columns.append(_Column(_Key.PARAMS_SHARE, "%", widths.params_share, True))
    if non_trainable and widths.has_non_trainable:
        frozen = "Non-train" if compact_shape else "Non-trainable"
        columns.append(_Column(_Key.NON_TRAINABLE, frozen, widths.non_trainable, True))
    columns.append(_Column(_Key.MACS, _units.macs_header(report.settings.batch), widths.macs, True))
    if view.percent:
        columns.append(_Column(_Key.MACS_SHARE, "%", widths.macs_share, True))
    if view.sort is Measure.MEMORY:
        columns.append(_Column(_Key.MEMORY, "Memory", widths.memory, True))
    if field and not grouped:
        width = widths.compact_field if compact_field else widths.field
        columns.append(_Column(_Key.FIELD, "RF", width, False))
    return tuple(column._replace(width=max(column.width, len(column.header))) for column in columns)


def _span(columns: Iterable[_Column], gap: str) -> int:
    """Width of the figure columns side by side."""
    return sum(len(gap) + column.width for column in columns)


def _choose(report: Report, widths: _Widths, width: int | None) -> _Layout:
    """The fullest layout that fits ``width``: first shorter shapes and fields, then names cut
    (and the non-trainable column left out), then two lines per layer, their figures in
    columns or, narrower still, labelled and wrapped. With shares or memory (the hotspot
    columns), the receptive field gives way before names are cut."""
    view = report.settings.view
    grouped = view.group_by is not None
    number_header = "Count" if grouped else "#"
    number = max(widths.number, len(number_header))
    header = "Type" if grouped else widths.header
    label = min(max(widths.label, len(header)), LABEL_CAP)
    ordered = view.sort is None  # ranked rows are not indented: their order is not the tree's
    extras = view.percent or view.sort is Measure.MEMORY

    def layout(
        columns: tuple[_Column, ...],
        label: int,
        *,
        compact_field: bool,
        stacked: bool,
        gap: str = GAP,
        loose: bool = False,
        indent: str = INDENT,
    ) -> _Layout:
        compact = columns[0].header != "Output shape"
        indent = indent if ordered else ""
        return _Layout(
            columns,
            header,
            number,
            label,
            compact,
            compact_field,
            stacked,
            gap,
            loose,
            indent,
            number_header,
        )

    if width is None:
        columns = _figure_columns(report, widths, False, False)
        return layout(columns, label, compact_field=False, stacked=False)
    for compact_shape, compact_field in ((False, False), (True, False), (True, True)):
        columns = _figure_columns(report, widths, compact_shape, compact_field)
        if number + 1 + label + _span(columns, GAP) <= width:
            return layout(columns, label, compact_field=compact_field, stacked=False)
    # With the hotspot columns, the receptive field makes room first; ranked rows, told apart
    # by their whole names, not by their place in the tree, then give up the output shape.
    for shape in ((True,) if ordered else (True, False)) if extras else ():
        columns = _figure_columns(report, widths, True, True, field=False, shape=shape)
        if number + 1 + label + _span(columns, GAP) <= width:
            return layout(columns, label, compact_field=True, stacked=False)
    # Names cut in the middle; then without the non-trainable column (the totals keep it);
    # with the hotspot columns, then without the output shape too.
    for shape in (True, False) if extras else (True,):
        for non_trainable in (True, False):
            columns = _figure_columns(
                report, widths, True, True, non_trainable, field=not extras, shape=shape
            )
            room = width - number - 1 - _span(columns, GAP)
            if room >= min(label, LABEL_MIN):
                return layout(columns, room, compact_field=True, stacked=False, indent=" ")
    # Stacked: the figures go on a line of their own, under the name.
    columns = _figure_columns(report, widths, True, True, field=not extras)
    label = width - number - 1
    for gap in (GAP, " "):
        if number + 3 + _span(columns, gap) - len(gap) <= width:
            return layout(columns, label, compact_field=True, stacked=True, gap=gap)
    return layout(columns, label, compact_field=True, stacked=True, loose=True)


# --- drawing -----------------------------------------------------------------------------------


def _pad(text: str, width: int) -> str:
    """``text`` padded with spaces to ``width`` terminal columns."""
    return text + " " * (width - _units.text_width(text))


def _label_cell(row: LayerRow, limit: int, unit: str = INDENT) -> str:
    """Indentation by depth, then the name (and type), in at most ``limit`` columns."""
    indent = unit * row.depth
    if len(indent) > limit // 2:
        indent = indent[: limit // 2]  # keep room for the name itself
    return indent + _units.fit_label(row, limit - len(indent))


def _figures(row: LayerRow, layout: _Layout, report: Report) -> list[str]:
    """The cells after the name, matching ``layout.columns``."""
    settings = report.settings
    cells = []
    for column in layout.columns:
        key = column.key
        if key is _Key.SHAPE:
            if layout.compact:
                cells.append(_units.compact_shape(row.output_shape))
            else:
                cells.append(_units.batched_shape(row.output_shape, settings.batch))
        elif key is _Key.PARAMS:
            cells.append(f"{row.params:,}")
        elif key is _Key.PARAMS_SHARE or key is _Key.MACS_SHARE:
            from .._hotspots import share_text, shares

            of_params, of_macs = shares(row, report)
            cells.append(share_text(of_params if key is _Key.PARAMS_SHARE else of_macs))
        elif key is _Key.NON_TRAINABLE:
            cells.append(f"{row.non_trainable_params:,}")
        elif key is _Key.MACS:
            cells.append(f"{row.macs:,}")
        elif key is _Key.MEMORY:
            from .._hotspots import row_memory

            cells.append(_units.human_bytes(row_memory(row, settings)))
        elif key is _Key.FIELD:
            cells.append(_units.field_summary(row.receptive_field, compact=layout.compact_field))
        else:
            assert_never(key)
    return cells


def _line(cells: list[str], columns: tuple[_Column, ...], gap: str, color: bool) -> str:
    """Figure cells padded to their columns; the last one (left-aligned) is not padded."""
    parts = []
    last = len(columns) - 1
    for index, (cell, column) in enumerate(zip(cells, columns, strict=True)):
        if column.numeric:
            text = cell.rjust(column.width)
            if color and cell == "0":
                text = text[:-1] + _DIM + "0" + _RESET
        else:
            text = cell if index == last else cell.ljust(column.width)
        parts.append(text)
    return gap.join(parts)


def _header(columns: tuple[_Column, ...], gap: str) -> str:
    cells = [column.header for column in columns]
    return _line(cells, columns, gap, False)


def _styled(text: str, style: str, color: bool) -> str:
    return f"{style}{text}{_RESET}" if color and text else text


def _table(report: Report, layout: _Layout, color: bool) -> Iterator[str]:
    """The header, a rule, a line per layer, a rule."""
    columns, number, label = layout.columns, layout.number, layout.label
    head = layout.number_header.rjust(number) + " " + _pad(layout.header, label) + GAP
    head += _header(columns, GAP)
    yield _styled(head, _BOLD, color)
    rule = RULE * (number + 1 + label + _span(columns, GAP))
    yield _styled(rule, _DIM, color)
    for row in report.layers:
        cells = _figures(row, layout, report)
        name = _pad(_label_cell(row, label, layout.indent), label)
        text = str(row.number).rjust(number)
        if color:
            text = _DIM + text + _RESET
        yield text + " " + name + GAP + _line(cells, columns, GAP, color)
    yield _styled(rule, _DIM, color)


_LOOSE_LABELS = {_Key.PARAMS: "params", _Key.NON_TRAINABLE: "non-train", _Key.MEMORY: "memory"}
"""A figure's label when figures are wrapped rather than in columns (else its header)."""


def _loose(cells: list[str], columns: tuple[_Column, ...], indent: int, width: int) -> list[str]:
    """Figures labelled (``params 320``, a share after its figure: ``MACs 640 (5.3%)``) and
    packed into lines of ``width``."""
    items: list[str] = []
    for cell, column in zip(cells, columns, strict=True):
        if column.key is _Key.SHAPE:
            items.append(cell)
        elif column.key in _SHARES:
            items[-1] += f" ({cell}%)" if cell != "-" else ""
        else:
            items.append(f"{_LOOSE_LABELS.get(column.key, column.header)} {cell}")
    lines, current = [], " " * indent
    for item in items:
        if current.strip() and len(current) + len(GAP) + len(item) > width:
            lines.append(current)
            current = " " * indent
        current += (GAP if current.strip() else "") + item
    lines.append(current)
    return lines


def _stacked(report: Report, layout: _Layout, width: int, color: bool) -> Iterator[str]:
    """Two lines per layer: number and name, then the figures, indented under the name."""
    columns, number, label, gap = layout.columns, layout.number, layout.label, layout.gap
    indent = number + 3
    figures = " " * indent + _header(columns, gap)
    natural = number + 1 + min(len(layout.header), label)
    rule_width = min(width, max(natural, len(figures)) if not layout.loose else width)
    yield _styled(layout.number_header.rjust(number) + " " + layout.header, _BOLD, color)
    if not layout.loose:
        yield _styled(figures, _BOLD, color)
    yield _styled(RULE * rule_width, _DIM, color)
    for row in report.layers:
        text = str(row.number).rjust(number)
        if color:
            text = _DIM + text + _RESET
        yield text + " " + _label_cell(row, label, layout.indent)
        cells = _figures(row, layout, report)
        if layout.loose:
            yield from _loose(cells, columns, indent, width)
        else:
            yield " " * indent + _line(cells, columns, gap, color)
    yield _styled(RULE * rule_width, _DIM, color)


def _wrap(
    text: str, width: int | None, hang: int, *, first: str = "", cut: bool = True
) -> list[str]:
    """``text`` wrapped at spaces to ``width`` with a hanging indent; ``cut`` lets a word
    longer than a whole line be split (never for figures)."""
    if width is None or len(first) + _units.text_width(text) <= width:
        return [first + text]
    import textwrap

    return textwrap.wrap(
        text,
        width=max(width, hang + 1),
        initial_indent=first,
        subsequent_indent=" " * hang,
        break_long_words=cut,
        break_on_hyphens=False,
    ) or [first.rstrip()]


def _settings(report: Report, width: int | None) -> list[str]:
    """The settings line, broken between settings (never inside one) when it is too wide."""
    items = _units.settings_items(report)
    lines = [items[0]]
    for item in items[1:]:
        joined = lines[-1] + _units.SEPARATOR + item
        if width is not None and len(joined) > width:
            lines.append(item)
        else:
            lines[-1] = joined
    return lines


def _totals(report: Report, width: int | None, color: bool) -> Iterator[str]:
    """Label, readable value right-aligned, exact figure; a figure too wide for the line goes
    underneath, wrapped at spaces, never inside a number."""
    full_shape = _units.batched_shape(report.output_shape, report.settings.batch)
    totals = _units.totals(report, full_shape)
    label_width = max(len(total.label) for total in totals)
    value_width = max(len(total.value) for total in totals[:-1])
    if width is not None and label_width + len(GAP) + value_width > width:
        label_width = value_width = 0  # too narrow to line up: each line as short as it can be
    # A figure that does not fit beside its value goes under the values, or when one does not
    # fit there either, under the labels, slightly indented.
    hang = label_width + len(GAP)
    if width is not None and any(hang + len(t.detail) + 2 > width for t in totals if t.detail):
        hang = 4
    for total in totals:
        if total is totals[-1]:  # the output shape: left-aligned, not a figure to line up
            value = total.value
            if width is not None and label_width + len(GAP) + len(value) > width:
                value = _units.compact_shape(report.output_shape)
        else:
            value = total.value.rjust(value_width)
        label = _styled(total.label, _BOLD, color) + " " * (label_width - len(total.label))
        head = max(label_width, len(total.label)) + len(GAP) + len(value)
        detail = f"({total.detail})" if total.detail else ""
        if width is None or head + (len(GAP) + len(detail) if detail else 0) <= width:
            yield label + GAP + value + (GAP + _styled(detail, _DIM, color) if detail else "")
            continue
        if head <= width:
            yield label + GAP + value
        else:
            yield _styled(total.label, _BOLD, color)
            yield "    " + value.strip()
        if detail:
            for line in _wrap(detail, width, hang, first=" " * hang, cut=False):
                yield _styled(line, _DIM, color)


def _notes(report: Report, width: int | None, color: bool) -> Iterator[str]:
    """``Note: ...``, one per sentence, wrapped with a hanging indent."""
    for note in _units.notes(report):
        lines = _wrap(note, width, len("Note: "), first="Note: ")
        if color:
            lines[0] = _BOLD + "Note:" + _RESET + lines[0][len("Note:") :]
        yield from lines


def _working(report: Report, width: int | None, color: bool) -> Iterator[str]:
    """Each layer's formulas under a heading, wrapped with a hanging indent."""
    yield ""
    yield _styled("Working", _BOLD + _UNDERLINE, color)
    for row in report.layers:
        heading = _units.explain_heading(row)
        if width is not None:
            heading = _units.cut_middle(heading, width)
        yield _styled(heading, _BOLD, color)
        for line in _units.explain_lines(row):
            yield from _wrap(line, width, 8, first="    ")


def table_lines(report: Report, *, width: int | None = None, color: bool = False) -> Iterator[str]:
    """The summary, a line at a time, no line wider than ``width`` unless a figure is (None:
    as wide as the table is); no ANSI codes at all unless ``color``."""
    if width is not None:
        width = min(max(width, MIN_WIDTH), MAX_WIDTH)
    title = _units.title(report)
    yield _styled(title if width is None else _units.cut_middle(title, width), _BOLD, color)
    for line in _settings(report, width):
        yield _styled(line, _DIM, color)
    layout = _choose(report, _measure(report), width)
    if layout.stacked:
        assert width is not None  # an unlimited width always fits the full table
        yield from _stacked(report, layout, width, color)
    else:
        yield from _table(report, layout, color)
    yield from _totals(report, width, color)
    yield from _notes(report, width, color)
    if report.settings.explain:
        yield from _working(report, width, color)


def render_table(report: Report, *, color: bool = False, width: int | None = None) -> str:
    """The summary as one string, ending with a newline (see :func:`table_lines`)."""
    return "\n".join(table_lines(report, width=width, color=color)) + "\n"


def print_table(report: Report, file: TextIO | None = None) -> None:
    """Write the summary to ``file`` (stdout) as it is made, fitted to :func:`output_width`,
    coloured only on a terminal (:func:`wants_color`).

    The one renderer that writes rather than returns: the CLI's sink for ``--format table``.
    """
    out = sys.stdout if file is None else file
    lines = table_lines(report, width=output_width(out), color=wants_color(out))
    chunk: list[str] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) == 512:
            out.write("\n".join(chunk) + "\n")
            chunk.clear()
    if chunk:
        out.write("\n".join(chunk) + "\n")
