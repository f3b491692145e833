"""Renderers: a report in, text out; the CLI decides where the text goes.

``render`` handles every ``OutputFormat`` and returns a string; ``print_table`` is the one
function here with a side effect: it writes the table to a file (stdout) line by line, fitted
to the width it finds there (``COLUMNS``, else the terminal's, else none). Each format's
module is imported when asked for; none of them imports rich.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NoReturn

from .._report import Report
from .._settings import ColorBy, OutputFormat, assert_never

if TYPE_CHECKING:
    from ._table import print_table

__all__ = ["chunks", "not_drawn", "print_table", "render"]


def __getattr__(name: str) -> Any:
    # The table helpers load on first use, so JSON, Markdown and CSV never import them.
    if name == "print_table":
        from . import _table

        return _table.print_table
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def render(
    report: Report,
    fmt: OutputFormat,
    *,
    color: bool = False,
    width: int | None = None,
    color_by: ColorBy = ColorBy.MACS,
) -> str:
    """The report as text in ``fmt``. ``color`` (ANSI codes or none) and ``width`` (the columns
    to fit; None: as wide as it needs) only affect the table; ``color_by`` (what shades the
    boxes) only the diagram of SVG and HTML."""
    if fmt is OutputFormat.TABLE:
        from ._table import render_table

        return render_table(report, color=color, width=width)
    # Each format's module is imported when asked for: start-up pays only for the one used.
    elif fmt is OutputFormat.JSON:
        from ._json import render_json

        return render_json(report)
    elif fmt is OutputFormat.MARKDOWN:
        from ._markdown import render_markdown

        return render_markdown(report)
    elif fmt is OutputFormat.CSV:
        from ._csv import render_csv

        return render_csv(report)
    elif fmt is OutputFormat.SVG:
        from ._svg import render_svg

        return render_svg(report, color_by=color_by)
    elif fmt is OutputFormat.HTML:
        from ._html import render_html

        return render_html(report, color_by=color_by)
    elif fmt is OutputFormat.MERMAID:
        from ._graphtext import render_mermaid

        return render_mermaid(report)
    elif fmt is OutputFormat.DOT:
        from ._graphtext import render_dot

        return render_dot(report)
    else:
        assert_never(fmt)


def not_drawn(fmt: OutputFormat, what: str) -> NoReturn:
    """Refuse a drawing format for output that is not a report of layers (``what`` says what
    it is: a sweep, a list of solutions, ...)."""
    from .._errors import SpecError

    raise SpecError(
        f"--format {fmt.value} draws a network's layers, and {what} has none to draw; use "
        "table, json, markdown or csv"
    )


def chunks(report: Report, fmt: OutputFormat) -> Iterator[str]:
    """The report in ``fmt`` (not the table, which :func:`print_table` writes) in pieces, to be
    written one after the other: a model of a million rows is never held as one text."""
    if fmt is OutputFormat.JSON:
        from ._json import json_chunks

        return json_chunks(report)
    if fmt is OutputFormat.MARKDOWN:
        from ._markdown import markdown_chunks

        return markdown_chunks(report)
    if fmt is OutputFormat.CSV:
        from ._csv import csv_chunks

        return csv_chunks(report)
    return iter([render(report, fmt)])
