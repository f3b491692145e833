"""The ``markdown`` format: GitHub-flavoured tables of the layers and the totals.

A line naming the model and its settings, the layer table (numbers right-aligned), a blank
line, the totals as a two-column table, the notes as quoted lines and, with explain, a
``### Working`` section. Every name is data: control characters are written escaped
(``\\x1b``) and a ``|`` cannot end a cell.

The hotspot options add columns: ``Params %`` and ``MACs %`` after their figures
(``--percent``), ``Memory`` (``--sort memory``); a table of ``--group-by`` has a row per group,
its type and count, and no shapes or receptive fields.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence

from .._report import LayerRow, Report
from .._settings import SortBy, View
from . import _units

# Markdown collapses leading spaces in a cell; non-breaking ones keep the depth visible.
_INDENT = "&nbsp;&nbsp;"


def _escape(cell: str) -> str:
    """A cell's text with the one character that would end the cell escaped."""
    return cell.replace("|", "\\|")


def _line(cells: Sequence[str]) -> str:
    return "| " + " | ".join(_escape(cell) for cell in cells) + " |"


def _separator(numeric: Sequence[bool]) -> str:
    return "|" + "|".join("---:" if right else "---" for right in numeric) + "|"


def _layers(report: Report) -> Iterator[str]:
    non_trainable = _units.has_non_trainable(report)
    view = report.settings.view
    if view != View():
        yield from _viewed(report, non_trainable)
        return
    columns = _units.columns(report)
    yield _line([column.header for column in columns])
    yield _separator([column.numeric for column in columns])
    batch = report.settings.batch
    for row in report.layers:
        yield _line(_units.cells(row, batch, non_trainable, _INDENT))


def _viewed(report: Report, non_trainable: bool) -> Iterator[str]:
    """The layer table as the hotspot options ask: shares after their figures, memory, groups
    (count and type, no shapes or fields); ranked rows are not indented."""
    from .._hotspots import row_memory, share_text, shares

    settings = report.settings
    view = settings.view
    grouped = view.group_by is not None
    indent = _INDENT if view.sort is None else ""
    Column = _units.Column
    shown: list[tuple[_units.Column, Callable[[LayerRow], str]]] = []
    if grouped:
        shown.append((Column("Count", True), lambda row: str(row.number)))
        shown.append((Column("Type", False), _units.layer_label))
    else:
        shown.append((Column("#", True), lambda row: str(row.number)))
        shown.append(
            (
                Column(_units.layer_header(report), False),
                lambda row: indent * row.depth + _units.layer_label(row),
            )
        )
        shown.append(
            (
                Column("Output shape", False),
                lambda row: _units.batched_shape(row.output_shape, settings.batch),
            )
        )
    shown.append((Column("Params", True), lambda row: _units.exact(row.params)))
    if view.percent:
        shown.append((Column("Params %", True), lambda row: share_text(shares(row, report)[0])))
    if non_trainable:
        frozen = Column("Non-trainable", True)
        shown.append((frozen, lambda row: _units.exact(row.non_trainable_params)))
    shown.append(
        (Column(_units.macs_header(settings.batch), True), lambda row: _units.exact(row.macs))
    )
    if view.percent:
        shown.append((Column("MACs %", True), lambda row: share_text(shares(row, report)[1])))
    if view.sort is SortBy.MEMORY:
        memory = Column("Memory", True)
        shown.append((memory, lambda row: _units.human_bytes(row_memory(row, settings))))
    if not grouped:
        field = Column("RF", False)
        shown.append((field, lambda row: _units.field_summary(row.receptive_field)))
    yield _line([column.header for column, _ in shown])
    yield _separator([column.numeric for column, _ in shown])
    for row in report.layers:
        yield _line([cell(row) for _, cell in shown])


def _totals(report: Report) -> list[str]:
    lines = [_line(["Totals", ""]), _separator([False, True])]
    for total in _units.totals(report):
        value = f"{total.value} ({total.detail})" if total.detail else total.value
        lines.append(_line([total.label, value]))
    return lines


def _notes(report: Report) -> list[str]:
    # A blank line between them: consecutive quoted lines would join into one paragraph.
    lines: list[str] = []
    for note in _units.notes(report):
        lines += ["", f"> **Note:** {note}"]
    return lines


def _fence(lines: Sequence[str]) -> str:
    """Backticks enough to open a code block that none of ``lines`` can close."""
    longest = max((len(run) for line in lines for run in re.findall("`+", line)), default=0)
    return "`" * max(3, longest + 1)


def _working(report: Report) -> Iterator[str]:
    # A code block per layer: the formulas are full of '*', which Markdown would eat.
    yield from ("", "### Working")
    for row in report.layers:
        working = _units.explain_lines(row)
        fence = _fence(working)
        yield from ("", f"**{_units.explain_heading(row)}**", "", fence + "text", *working, fence)


def markdown_chunks(report: Report) -> Iterator[str]:
    """The Markdown a few hundred lines at a time, each line ending with a newline."""
    heading = f"**{_units.title(report)}** · {_units.settings_line(report)}"
    parts: list[Iterable[str]] = [[heading, ""], _layers(report), [""], _totals(report)]
    parts.append(_notes(report))
    if report.settings.explain:
        parts.append(_working(report))
    lines: list[str] = []
    for part in parts:
        for line in part:
            lines.append(line)
            if len(lines) == 512:
                yield "\n".join(lines) + "\n"
                lines.clear()
    if lines:
        yield "\n".join(lines) + "\n"


def render_markdown(report: Report) -> str:
    """The report as GitHub-flavoured Markdown, ending with a newline."""
    return "".join(markdown_chunks(report))
