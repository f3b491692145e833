"""The ``csv`` format: one header line, then one row per layer; no totals (a CSV is one table).

Shapes are written ``26x26x32`` (without the batch, as in JSON), receptive-field values ``3x3``,
and a field that does not apply (the receptive field after ``flatten``) is left empty. Names
and types are written with control characters escaped (``\x1b``, ``\n``, ``\u202e``), as
everywhere text reaches a person; the report's notes have no place here.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from .._report import LayerRow, Report
from ._units import per_axis, safe

HEADER = (
    "index",
    "name",
    "type",
    "depth",
    "input_shape",
    "output_shape",
    "params",
    "trainable_params",
    "non_trainable_params",
    "macs",
    "rf_size",
    "rf_jump",
    "rf_start",
)


def _row(row: LayerRow) -> list[object]:
    field = row.receptive_field
    rf = [per_axis(field.size), per_axis(field.jump), per_axis(field.start)] if field else []
    return [
        row.number,
        safe(row.name),
        safe(row.type),
        row.depth,
        per_axis(row.input_shape),
        per_axis(row.output_shape),
        row.params,
        row.trainable_params,
        row.non_trainable_params,
        row.macs,
        *(rf or ["", "", ""]),
    ]


def csv_chunks(report: Report) -> Iterator[str]:
    """The CSV a few hundred rows at a time: a model of a million rows is never held whole."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    for number, row in enumerate(report.layers, 1):
        writer.writerow(_row(row))
        if number % 512 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def render_csv(report: Report) -> str:
    """The layers as CSV, lines ending in ``\\n`` on every platform."""
    return "".join(csv_chunks(report))
