"""``convcalc sizes``: the input sizes a model accepts, per spatial axis, in every format."""

from __future__ import annotations

import csv
import io
import json
import textwrap

from .._errors import escape
from .._settings import OutputFormat, assert_never
from .._sizes import AxisSizes
from . import not_drawn


def render_sizes(
    title: str,
    axes: list[AxisSizes],
    low: int,
    high: int,
    fmt: OutputFormat,
    *,
    explain: bool = False,
    width: int | None = None,
) -> str:
    """The sizes each axis accepts, as text in ``fmt``; ``width`` only affects the table."""
    if fmt is OutputFormat.JSON:
        listed = ",\n".join("    " + json.dumps(axis.to_dict(), ensure_ascii=True) for axis in axes)
        return (
            f'{{\n  "model": {json.dumps(title, ensure_ascii=True)},\n'
            f'  "range": [{low}, {high}],\n  "axes": [\n{listed}\n  ]\n}}\n'
        )
    if fmt is OutputFormat.CSV:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["axis", "input", "output_shape"])
        for axis in axes:
            for size, shape in axis.outputs:
                writer.writerow([axis.axis, size, "x".join(map(str, shape))])
        return buffer.getvalue()
    if fmt is OutputFormat.MARKDOWN:
        lines = [f"**{escape(title)}** · sizes {low}-{high}", "", "| axis | min | accepted |"]
        lines.append("|---|---:|---|")
        for axis in axes:
            lines.append(f"| {axis.axis} | {axis.minimum or ''} | {axis.summary} |")
        if explain:
            lines += _why(axes, "> ")
        return "\n".join(lines) + "\n"
    if fmt is OutputFormat.TABLE:
        return _table(title, axes, low, high, explain, width)
    if (
        fmt is OutputFormat.SVG
        or fmt is OutputFormat.HTML
        or fmt is OutputFormat.MERMAID
        or fmt is OutputFormat.DOT
    ):
        not_drawn(fmt, "a list of input sizes")
    assert_never(fmt)


def _table(
    title: str, axes: list[AxisSizes], low: int, high: int, explain: bool, width: int | None
) -> str:
    wrap = max(width or 80, 40)
    lines = [f"{escape(title)} · input sizes tried {low}-{high}, one axis at a time"]
    for axis in axes:
        head = f"{axis.axis}: {axis.summary}"
        lines += textwrap.wrap(head, wrap, subsequent_indent="    ")
        shown = [f"{size} -> {'x'.join(map(str, shape))}" for size, shape in _some(axis)]
        if shown:
            lines += textwrap.wrap(
                "    e.g. " + ", ".join(shown), wrap, subsequent_indent="         "
            )
    if explain:
        for line in _why(axes, ""):
            lines += textwrap.wrap(line, wrap, subsequent_indent="    ") or [""]
    return "\n".join(lines) + "\n"


def _some(axis: AxisSizes) -> list[tuple[int, tuple[int, ...]]]:
    outputs = axis.outputs
    if len(outputs) <= 4:
        return list(outputs)
    step = (len(outputs) - 1) / 3
    return [outputs[round(i * step)] for i in range(4)]


def _why(axes: list[AxisSizes], indent: str) -> list[str]:
    lines = ["", "Why sizes are refused (the walk's own message):"]
    for axis in axes:
        for size, reason in axis.refusals:
            lines.append(f"{indent}{axis.axis} = {size}: {escape(reason)}")
    return lines
