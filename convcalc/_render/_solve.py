"""``convcalc solve``'s output: the solutions as a table, JSON, Markdown or CSV.

Every format reads :class:`~convcalc._solve.Solutions` and computes nothing of its own. The
table is plain text: a title line, what was searched, one row per solution (one value for
every axis, ``3``, or one per axis, ``3x5``; when the axes differ a line before each group says
how many parameters differ between them), the count, the notes, and with explain each
solution's working. Rows never exceed the width asked for (80 columns are enough for three
axes); headers shorten first, and the sentences wrap.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import textwrap
from collections.abc import Iterator
from typing import TextIO

from .._settings import OutputFormat, assert_never
from .._solve import PARAMS, Solution, Solutions
from .._terminal import MAX_WIDTH, MIN_WIDTH, output_width
from . import not_drawn
from ._units import SEPARATOR

RULE = "─"
GAP = "  "
SHORT = {
    "kernel": "kern",
    "stride": "str",
    "padding": "pad",
    "dilation": "dil",
    "output_padding": "out_pad",
}
"""Headers when the full ones do not fit."""
CSV_HEADER = ("index", *PARAMS, "differing")


def render_solutions(found: Solutions, fmt: OutputFormat, *, width: int | None = None) -> str:
    """The solutions as text in ``fmt``; ``width`` (None: as wide as it needs) only affects
    the table."""
    if fmt is OutputFormat.TABLE:
        return "\n".join(table_lines(found, width=width)) + "\n"
    elif fmt is OutputFormat.JSON:
        return render_json(found)
    elif fmt is OutputFormat.MARKDOWN:
        return render_markdown(found)
    elif fmt is OutputFormat.CSV:
        return render_csv(found)
    elif (
        fmt is OutputFormat.SVG
        or fmt is OutputFormat.HTML
        or fmt is OutputFormat.MERMAID
        or fmt is OutputFormat.DOT
    ):
        not_drawn(fmt, "a list of solutions")
    else:
        assert_never(fmt)


def print_solutions(found: Solutions, file: TextIO | None = None) -> None:
    """Write the table to ``file`` (stdout), fitted to :func:`output_width`."""
    out = sys.stdout if file is None else file
    for line in table_lines(found, width=output_width(out)):
        out.write(line + "\n")


# -- words shared by the formats -------------------------------------------------------------------


def title(found: Solutions) -> str:
    """``conv2d · pytorch · 224x160 -> 112x80``."""
    sizes = f"{_axes(found.inputs)} -> {_axes(found.outputs)}"
    return SEPARATOR.join([found.kind, found.framework.value, sizes])


def _axes(sizes: tuple[int, ...]) -> str:
    return "x".join(str(size) for size in sizes)


def count_line(found: Solutions) -> str:
    """``41 solutions``, or ``20 of 1,525 solutions listed``."""
    noun = "solution" if found.total == 1 else "solutions"
    if found.complete:
        return f"{found.total:,} {noun}" if found.total else "no solution"
    return f"{len(found.solutions):,} of {found.total:,} {noun} listed"


def group_line(differing: int) -> str:
    """The line over a group of per-axis solutions."""
    if differing == 0:
        return "the same on every axis:"
    verb = "parameter differs" if differing == 1 else "parameters differ"
    return f"{differing} {verb} between axes:"


def heading(found: Solutions, number: int, row: Solution) -> str:
    """The line over one solution's working: ``#1  kernel 3, stride 2, padding 1``."""
    values = ", ".join(f"{name} {row.shown(name)}" for name in found.columns)
    return f"#{number}  {values}"


def _cells(found: Solutions, number: int, row: Solution) -> list[str]:
    return [str(number), *(row.shown(name) for name in found.columns)]


# -- table -----------------------------------------------------------------------------------------


def table_lines(found: Solutions, *, width: int | None = None) -> Iterator[str]:
    """The table a line at a time, no line wider than ``width`` (None: unlimited)."""
    if width is not None:
        width = min(max(width, MIN_WIDTH), MAX_WIDTH)
    yield from _wrap(title(found), width, 4)
    for line in found.search_lines():
        yield from _wrap(line, width, 4)
    if found.solutions:
        yield from _rows(found, width)
    yield count_line(found)
    for note in found.notes:
        yield from _wrap(note, width, len("Note: "), first="Note: ")
    if found.explain and found.solutions:
        yield ""
        yield "Working"
        for number, row in enumerate(found.solutions, 1):
            yield from _wrap(heading(found, number, row), width, 4)
            for line in row.explain:
                yield from _wrap(line, width, 10, first="    ")


def _rows(found: Solutions, width: int | None) -> Iterator[str]:
    rows = [_cells(found, number, row) for number, row in enumerate(found.solutions, 1)]
    headers = ["#", *found.columns]
    widths = _widths(headers, rows)
    if width is not None and _total(widths) > width:
        headers = ["#", *(SHORT[name] for name in found.columns)]
        widths = _widths(headers, rows)
    yield _line(headers, widths)
    yield RULE * _total(widths)
    group = -1
    for row, cells in zip(found.solutions, rows, strict=True):
        if found.per_axis and row.differing != group:
            group = row.differing
            yield group_line(group)
        yield _line(cells, widths)
    yield RULE * _total(widths)


def _widths(headers: list[str], rows: list[list[str]]) -> list[int]:
    return [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]


def _total(widths: list[int]) -> int:
    return sum(widths) + len(GAP) * (len(widths) - 1)


def _line(cells: list[str], widths: list[int]) -> str:
    number, *rest = cells
    parts = [number.rjust(widths[0])]
    parts += [cell.ljust(size) for cell, size in zip(rest, widths[1:], strict=True)]
    return GAP.join(parts).rstrip()


def _wrap(text: str, width: int | None, hang: int, *, first: str = "") -> list[str]:
    """``text`` after ``first``, wrapped at spaces to ``width`` with a hanging indent."""
    if width is None or len(first) + len(text) <= width:
        return [first + text]
    lead = len(text) - len(text.lstrip(" "))
    return textwrap.wrap(
        text.lstrip(" "),
        width=max(width, hang + lead + 1),
        initial_indent=first + " " * lead,
        subsequent_indent=" " * (hang + lead),
        break_long_words=False,
        break_on_hyphens=False,
    ) or [first.rstrip()]


# -- JSON ------------------------------------------------------------------------------------------


def render_json(found: Solutions) -> str:
    """``Solutions.to_dict()``: the top level indented, each solution on one line."""
    head = found.to_dict()
    keys = list(head)
    parts = ["{\n"]
    for position, key in enumerate(keys):
        comma = "," if position < len(keys) - 1 else ""
        value = head[key]
        if key == "solutions" and isinstance(value, list) and value:
            parts.append(f"  {json.dumps(key)}: [\n")
            last = len(value) - 1
            for index, row in enumerate(value):
                parts.append(f"    {json.dumps(row)}{',' if index < last else ''}\n")
            parts.append(f"  ]{comma}\n")
        else:
            parts.append(f"  {json.dumps(key)}: {json.dumps(value)}{comma}\n")
    parts.append("}\n")
    return "".join(parts)


# -- Markdown --------------------------------------------------------------------------------------


def render_markdown(found: Solutions) -> str:
    """A GitHub-flavoured table, the notes quoted, the working in code blocks."""
    lines = [f"**{found.kind}** · {found.framework.value} · {title(found).split(SEPARATOR)[-1]}"]
    lines += ["", *(f"{line}  " for line in found.search_lines())]
    if found.solutions:
        headers = ["#", *found.columns, *(["differing"] if found.per_axis else [])]
        lines += ["", "| " + " | ".join(headers) + " |"]
        lines.append("|" + "|".join(["---:"] + ["---"] * (len(headers) - 1)) + "|")
        for number, row in enumerate(found.solutions, 1):
            cells = _cells(found, number, row)
            if found.per_axis:
                cells.append(str(row.differing))
            lines.append("| " + " | ".join(cells) + " |")
    lines += ["", count_line(found)]
    for note in found.notes:
        lines += ["", f"> **Note:** {note}"]
    if found.explain and found.solutions:
        lines += ["", "### Working"]
        for number, row in enumerate(found.solutions, 1):
            lines += ["", f"**{heading(found, number, row)}**", "", "```text", *row.explain, "```"]
    return "\n".join(lines) + "\n"


# -- CSV -------------------------------------------------------------------------------------------


def render_csv(found: Solutions) -> str:
    """One header line, then one row per solution: ``3`` or ``3x5``; an unset (or absent)
    output_padding is empty; ``differing`` counts the parameters that differ between axes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for number, row in enumerate(found.solutions, 1):
        cells = [row.shown(name) for name in PARAMS]
        if row.output_padding[0] is None:
            cells[-1] = ""
        writer.writerow([number, *cells, row.differing])
    return buffer.getvalue()
