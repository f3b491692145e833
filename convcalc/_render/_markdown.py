"""The ``markdown`` format: GitHub-flavoured tables of the layers and the totals.

A line naming the model and its settings, the layer table (numbers right-aligned), a blank
line, the totals as a two-column table, the notes as quoted lines and, with explain, a
``### Working`` section. Every name is data: control characters are written escaped
(``\\x1b``) and a ``|`` cannot end a cell.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from .._report import Report
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
    columns = _units.columns(report)
    yield _line([column.header for column in columns])
    yield _separator([column.numeric for column in columns])
    batch = report.settings.batch
    for row in report.layers:
        yield _line(_units.cells(row, batch, non_trainable, _INDENT))


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
