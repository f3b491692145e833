"""A sweep: one row of totals per input and batch (``--input 224,320 --batch 1,8``)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence

from .._report import Report
from .._settings import OutputFormat, assert_never
from . import not_drawn
from ._units import human_bytes, human_count

_HEADER = ("input", "batch", "params", "MACs", "FLOPs", "param memory", "activation memory")


_TRAINING = ("input", "batch", "params", "MACs", "activations", "training memory", "train MACs")
"""With --train: FLOPs (twice the MACs) and parameter memory (in the training memory) give way
to the training figures, so the table still fits 80 columns."""


def _training(reports: Sequence[Report]) -> bool:
    return any(report.totals.training is not None for report in reports)


def _header(reports: Sequence[Report]) -> list[str]:
    return list(_TRAINING if _training(reports) else _HEADER)


def _cells(report: Report) -> list[str]:
    totals = report.totals
    first = [
        "x".join(map(str, report.input_shape)),
        str(report.settings.batch or 1),
        f"{totals.params:,}",
        human_count(totals.macs),
    ]
    training = totals.training
    if training is not None:
        return [
            *first,
            human_bytes(totals.activation_bytes),
            human_bytes(training.total),
            human_count(training.macs),
        ]
    return [
        *first,
        human_count(2 * totals.macs),
        human_bytes(totals.param_bytes),
        human_bytes(totals.activation_bytes),
    ]


def render_sweep(reports: Sequence[Report], fmt: OutputFormat, *, width: int | None = None) -> str:
    """The totals of each run, in ``fmt``; the table fits ``width`` when it can."""
    if fmt is OutputFormat.JSON:
        rows = [
            json.dumps(
                {
                    "input_shape": list(report.input_shape),
                    "batch": report.settings.batch,
                    "totals": report.totals.to_dict(),
                },
                ensure_ascii=True,
            )
            for report in reports
        ]
        return '{\n  "sweep": [\n    ' + ",\n    ".join(rows) + "\n  ]\n}\n"
    if fmt is OutputFormat.CSV:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(
            ["input", "batch", "params", "macs", "flops", "param_bytes", "activation_bytes"]
        )
        for report in reports:
            totals = report.totals
            writer.writerow(
                [
                    "x".join(map(str, report.input_shape)),
                    report.settings.batch or 1,
                    totals.params,
                    totals.macs,
                    2 * totals.macs,
                    totals.param_bytes,
                    totals.activation_bytes,
                ]
            )
        return buffer.getvalue()
    if fmt is OutputFormat.MARKDOWN:
        header = _header(reports)
        lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
        lines += ["| " + " | ".join(_cells(report)) + " |" for report in reports]
        return "\n".join(lines) + "\n"
    if fmt is OutputFormat.TABLE:
        table = [_header(reports), *(_cells(report) for report in reports)]
        widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
        lines = []
        for number, row in enumerate(table):
            cells = [
                cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
                for i, cell in enumerate(row)
            ]
            lines.append("  ".join(cells).rstrip())
            if number == 0:
                lines.append("─" * len(lines[0]))
        return "\n".join(lines) + "\n"
    if (
        fmt is OutputFormat.SVG
        or fmt is OutputFormat.HTML
        or fmt is OutputFormat.MERMAID
        or fmt is OutputFormat.DOT
    ):
        not_drawn(fmt, "a sweep (one row of totals per setting)")
    assert_never(fmt)
