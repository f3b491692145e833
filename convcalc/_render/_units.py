"""How values are written for people: numbers, units, shapes, receptive fields, totals.

The table and Markdown renderers show the same columns and the same totals; both read them
from here so the two cannot drift apart. Nothing here imports rich.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from .._report import Field, LayerRow, Report

_SI_PREFIXES = ("K", "M", "G", "T", "P", "E")
_BINARY_PREFIXES = ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB")

WHOLE_INPUT = "whole"
"""What the receptive field column shows once an output sees the whole input."""


def exact(number: int) -> str:
    """An exact integer with thousands separators: ``194,688``."""
    return f"{number:,}"


def _scaled(number: int, base: int, prefixes: Sequence[str]) -> str:
    """``number`` in the largest unit that keeps it at or above 1, with two decimals."""
    value = float(number)
    for prefix in prefixes:
        value /= base
        # Decide on the rounded figure, so 999,999 reads "1.00 M", never "1000.00 K".
        if round(abs(value), 2) < base or prefix == prefixes[-1]:
            return f"{value:.2f} {prefix}"
    raise AssertionError("unreachable: the last prefix always returns")


def human_count(number: int) -> str:
    """A count in SI units with two decimals (``194.69 K``, ``4.09 G``); below 1000, exact."""
    if abs(number) < 1000:
        return str(number)
    return _scaled(number, 1000, _SI_PREFIXES)


def human_bytes(number: int) -> str:
    """A size in binary units (``84.50 KiB``, ``1.00 GiB``); below 1024, exact (``320 B``)."""
    if abs(number) < 1024:
        return f"{number} B"
    return _scaled(number, 1024, _BINARY_PREFIXES)


def _number(value: float) -> str:
    """An int as itself, a float without a needless ``.0`` (``2.0`` -> ``2``, ``1.5`` stays)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def per_axis(values: Sequence[float]) -> str:
    """Per-axis values joined by ``x``: ``3x3``, ``26x26x32``, ``1.5x0.5``."""
    return "x".join(_number(value) for value in values)


def batched_shape(shape: Sequence[int], batch: int | None) -> str:
    """A shape with the batch first, as Keras shows it: ``(None, 26, 26, 32)``."""
    return "(" + ", ".join([str(batch), *(str(size) for size in shape)]) + ")"


def _compact(values: Sequence[int]) -> str:
    """One number when every axis agrees (``1``), else one per axis (``2x1``)."""
    if len(set(values)) == 1:
        return str(values[0])
    return per_axis(values)


def field_summary(field: Field | None) -> str:
    """A receptive field as ``size / jump``: ``3x3 / 1``, ``5x5 / 2x1``; ``whole`` for None."""
    if field is None or not field.size:
        return WHOLE_INPUT
    return f"{per_axis(field.size)} / {_compact(field.jump)}"


def settings_line(report: Report) -> str:
    """The model-wide choices, for under the title: framework, layout, dtype, batch."""
    settings = report.settings
    return (
        f"framework {settings.framework.value} · layout {settings.layout.value} · "
        f"dtype {settings.dtype.value} · batch {settings.batch}"
    )


def title(report: Report) -> str:
    """The model's name, or the program's when it has none."""
    return report.name or "convcalc"


class Column(NamedTuple):
    """One column of the layer table."""

    header: str
    numeric: bool
    """Right-aligned when true."""


def has_non_trainable(report: Report) -> bool:
    """Whether any layer has non-trainable parameters (only then is that column shown)."""
    return any(row.non_trainable_params for row in report.layers)


def columns(non_trainable: bool) -> list[Column]:
    """The layer table's columns, in order."""
    shown = [
        Column("#", True),
        Column("Layer", False),
        Column("Type", False),
        Column("Output shape", False),
        Column("Params", True),
    ]
    if non_trainable:
        shown.append(Column("Non-trainable", True))
    shown += [Column("MACs", True), Column("RF size / jump", False)]
    return shown


def cells(row: LayerRow, batch: int | None, non_trainable: bool, indent: str = "  ") -> list[str]:
    """One layer's cells, matching ``columns(non_trainable)``; the name indented by depth."""
    shown = [
        str(row.number),
        indent * row.depth + row.name,
        row.type,
        batched_shape(row.output_shape, batch),
        exact(row.params),
    ]
    if non_trainable:
        shown.append(exact(row.non_trainable_params))
    shown += [exact(row.macs), field_summary(row.receptive_field)]
    return shown


class Total(NamedTuple):
    """One line of the totals: a label, a readable value, and the exact figure behind it."""

    label: str
    value: str
    detail: str = ""


def _memory_detail(number: int, *notes: str) -> str:
    """Exact bytes (when the readable value is rounded) followed by what the figure assumes."""
    exact_bytes = [f"{exact(number)} bytes"] if abs(number) >= 1024 else []
    return ", ".join([*exact_bytes, *notes])


def _count_detail(number: int) -> str:
    """The exact count, unless the readable value already is exact."""
    return exact(number) if abs(number) >= 1000 else ""


def totals(report: Report) -> list[Total]:
    """The totals block: parameters exact; compute and memory readable, with exact figures."""
    sums, settings = report.totals, report.settings
    batch = f"per batch of {settings.batch}" if settings.batch else "batch 1"
    buffers = sum(row.buffers for row in report.layers)
    param_notes = [settings.dtype.value]
    if buffers:
        # PyTorch batchnorm running statistics count towards memory but not parameters.
        param_notes.append(f"incl. {exact(buffers)} buffer elements")
    return [
        Total("Total params", exact(sums.params)),
        Total("Trainable params", exact(sums.trainable_params)),
        Total("Non-trainable params", exact(sums.non_trainable_params)),
        Total("MACs", human_count(sums.macs), _count_detail(sums.macs)),
        Total("FLOPs", human_count(sums.flops), _count_detail(sums.flops)),
        Total(
            "Parameter memory",
            human_bytes(sums.param_bytes),
            _memory_detail(sums.param_bytes, *param_notes),
        ),
        Total(
            "Activation memory",
            human_bytes(sums.activation_bytes),
            _memory_detail(sums.activation_bytes, settings.dtype.value, batch),
        ),
        Total("Output shape", batched_shape(report.output_shape, settings.batch)),
    ]


def explain_heading(row: LayerRow) -> str:
    """The heading over one layer's working: ``1  conv2d  (conv2d)``."""
    return f"{row.number}  {row.name}  ({row.type})"


NOTHING_TO_EXPLAIN = "(no formulas: nothing is computed here)"
"""Shown under a layer whose rule records no working (dropout, an activation)."""
