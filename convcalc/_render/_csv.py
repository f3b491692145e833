"""The ``csv`` format: one header line, then one row per layer; no totals (a CSV is one table).

Shapes are written ``26x26x32`` (without the batch, as in JSON), receptive-field values ``3x3``,
and a field that does not apply (the receptive field after ``flatten``) is left empty. Names
and types are written with control characters escaped (``\x1b``, ``\n``, ``\u202e``), as
everywhere text reaches a person; the report's notes have no place here.

The hotspot options add columns at the end, so that the others keep their places:
``params_percent`` and ``macs_percent`` (``--percent``), ``memory_bytes`` (``--sort memory``).
A row of ``--group-by`` is its ``type``, its ``count`` of rows and their sums.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator

from .._report import LayerRow, Report
from .._settings import SortBy, View
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

GROUP_HEADER = (
    "type",
    "count",
    "params",
    "trainable_params",
    "non_trainable_params",
    "macs",
)
"""The columns of a row of ``--group-by``: its sums."""


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


def _group(row: LayerRow) -> list[object]:
    return [
        safe(row.name),
        row.number,
        row.params,
        row.trainable_params,
        row.non_trainable_params,
        row.macs,
    ]


def _columns(report: Report) -> tuple[list[str], Callable[[LayerRow], list[object]]]:
    """The header, and how a row's cells are made, as the view asks."""
    settings = report.settings
    view = settings.view
    if view == View():
        return list(HEADER), _row
    from .._hotspots import row_memory, share_figure, shares

    grouped = view.group_by is not None
    header = list(GROUP_HEADER if grouped else HEADER)
    base = _group if grouped else _row
    if view.percent:
        header += ["params_percent", "macs_percent"]
    by_memory = view.sort is SortBy.MEMORY
    if by_memory:
        header.append("memory_bytes")

    def cells(row: LayerRow) -> list[object]:
        found = base(row)
        if view.percent:
            found += [share_figure(share) for share in shares(row, report)]
        if by_memory:
            found.append(row_memory(row, settings))
        return found

    return header, cells


def csv_chunks(report: Report) -> Iterator[str]:
    """The CSV a few hundred rows at a time: a model of a million rows is never held whole."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header, cells = _columns(report)
    writer.writerow(header)
    for number, row in enumerate(report.layers, 1):
        writer.writerow(cells(row))
        if number % 512 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def render_csv(report: Report) -> str:
    """The layers as CSV, lines ending in ``\\n`` on every platform."""
    return "".join(csv_chunks(report))
