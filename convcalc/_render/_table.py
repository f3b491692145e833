"""The ``table`` format: a rich summary in the spirit of Keras' ``model.summary()``.

``table_renderable`` returns a rich renderable for the CLI to print to a terminal;
``render_table`` writes the same thing to a string; ``print_table`` is the CLI's one-call sink.
rich is imported inside these functions, never at module level, so the other formats (and
start-up) do not pay for it.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, TextIO

from .._report import Report
from . import _units

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.table import Table

_WIDE = 100_000
"""A console width no report reaches, used only to measure the report's natural width."""


def _layer_table(report: Report) -> Table:
    """One row per layer, numbers right-aligned and never wrapped."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    non_trainable = _units.has_non_trainable(report)
    table = Table(box=box.HEAVY_HEAD, header_style="bold")
    for column in _units.columns(non_trainable):
        table.add_column(
            column.header,
            justify="right" if column.numeric else "left",
            no_wrap=True,
            style="dim" if column.header == "#" else None,
        )
    for row in report.layers:
        shown = _units.cells(row, report.settings.batch, non_trainable)
        # Text, not str: a name with "[...]" must not be read as rich markup.
        table.add_row(*(Text(cell, style="dim" if cell == "0" else "") for cell in shown))
    return table


def _totals_grid(report: Report) -> Table:
    """The totals as label, readable value, exact figure."""
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(justify="right", no_wrap=True)
    grid.add_column(style="dim", no_wrap=True)
    for total in _units.totals(report):
        detail = f"({total.detail})" if total.detail else ""
        grid.add_row(Text(total.label), Text(total.value), Text(detail))
    return grid


def _working(report: Report) -> list[RenderableType]:
    """Each layer's formulas under a heading, when the report was made with explain."""
    from rich.text import Text

    shown: list[RenderableType] = [Text(""), Text("Working", style="bold underline")]
    for row in report.layers:
        shown.append(Text(_units.explain_heading(row), style="bold"))
        lines = row.explain or (_units.NOTHING_TO_EXPLAIN,)
        shown.extend(Text("    " + line) for line in lines)
    return shown


def table_renderable(report: Report) -> RenderableType:
    """The whole summary (title, layers, totals, working) as one rich renderable."""
    from rich.console import Group
    from rich.text import Text

    parts: list[RenderableType] = [
        Text(_units.title(report), style="bold"),
        Text(_units.settings_line(report), style="dim"),
        _layer_table(report),
        _totals_grid(report),
    ]
    if report.settings.explain:
        parts.extend(_working(report))
    return Group(*parts)


def _natural_width(console: Console, renderable: RenderableType) -> int:
    """How wide ``renderable`` is when nothing limits it: the width at which nothing wraps."""
    from rich.measure import Measurement

    unlimited = console.options.update(width=_WIDE)
    return max(Measurement.get(console, unlimited, renderable).maximum, 1)


def render_table(report: Report, *, color: bool) -> str:
    """The summary as text, as wide as it needs to be; no ANSI codes at all unless ``color``."""
    from rich.console import Console

    renderable = table_renderable(report)
    buffer = io.StringIO()
    # Explicit terminal and colour choices, so FORCE_COLOR, NO_COLOR, COLUMNS or TERM cannot
    # change what this function returns.
    console = Console(
        file=buffer,
        color_system="standard" if color else None,
        force_terminal=color,
        force_jupyter=False,
        legacy_windows=False,
        highlight=False,
        markup=False,
        emoji=False,
    )
    console.width = _natural_width(console, renderable)
    console.print(renderable)
    # Cells are padded to their column's width; trailing blanks only make diffs noisy.
    return "\n".join(line.rstrip() for line in buffer.getvalue().split("\n"))


def print_table(report: Report, file: TextIO | None = None) -> None:
    """Print the summary to ``file`` (stdout), letting rich decide on colour from the terminal.

    The one renderer that writes rather than returns: it is the CLI's sink for ``--format
    table``. A terminal narrower than the table gets the full width anyway (the terminal
    wraps lines) rather than squeezed columns with numbers cut short.
    """
    from rich.console import Console

    console = Console(file=file, highlight=False, markup=False, emoji=False)
    if not console.is_terminal:
        # Piped or redirected: exactly the text ``render`` gives, without trailing blanks.
        console.file.write(render_table(report, color=False))
        return
    renderable = table_renderable(report)
    console.width = max(console.width, _natural_width(console, renderable))
    console.print(renderable)
