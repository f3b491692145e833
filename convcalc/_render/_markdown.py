"""The ``markdown`` format: GitHub-flavoured tables of the layers and the totals.

A line naming the model and its settings, the layer table (numbers right-aligned), a blank
line, the totals as a two-column table, the notes as quoted lines and, with explain, a
``### Working`` section. Every name is data: control characters are written escaped
(``\\x1b``) and a ``|`` cannot end a cell.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

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


def _layers(report: Report) -> list[str]:
    non_trainable = _units.has_non_trainable(report)
    columns = _units.columns(report)
    lines = [
        _line([column.header for column in columns]),
        _separator([column.numeric for column in columns]),
    ]
    batch = report.settings.batch
    lines += [_line(_units.cells(row, batch, non_trainable, _INDENT)) for row in report.layers]
    return lines


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


def _working(report: Report) -> list[str]:
    # A code block per layer: the formulas are full of '*', which Markdown would eat.
    lines = ["", "### Working"]
    for row in report.layers:
        working = _units.explain_lines(row)
        fence = _fence(working)
        lines += ["", f"**{_units.explain_heading(row)}**", "", fence + "text", *working, fence]
    return lines


def render_markdown(report: Report) -> str:
    """The report as GitHub-flavoured Markdown, ending with a newline."""
    heading = f"**{_units.title(report)}** · {_units.settings_line(report)}"
    lines = [heading, "", *_layers(report), "", *_totals(report), *_notes(report)]
    if report.settings.explain:
        lines += _working(report)
    return "\n".join(lines) + "\n"
