"""How values are written for people: numbers, units, shapes, receptive fields, names, totals.

The table and Markdown renderers show the same columns and the same totals; both read them
from here so the two cannot drift apart. Nothing here imports rich.

Names are data: a layer or model name comes from the user's file and may hold anything, so
every name, type and sentence shown to a person passes through :func:`safe` first.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import NamedTuple

from .._report import Field, LayerRow, Report

_SI_PREFIXES = ("K", "M", "G", "T", "P", "E")
_BINARY_PREFIXES = ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB")

WHOLE_INPUT = "whole"
"""What the receptive field column shows once an output sees the whole input."""

ELLIPSIS = "…"
"""Marks where a name too long for its column was cut."""


# --- text that is safe to show --------------------------------------------------------------

_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    named = _NAMED_ESCAPES.get(char)
    if named is not None:
        return named
    code = ord(char)
    return (
        f"\\x{code:02x}"
        if code < 0x100
        else f"\\u{code:04x}"
        if code < 0x10000
        else f"\\U{code:08x}"
    )


def safe(text: str) -> str:
    """``text`` with every character Unicode calls other or a separator (but the space)
    written as an escape: controls that move the cursor, recolour the terminal or end a line
    (ESC -> ``\\x1b``, newline -> ``\\n``), U+2028 and U+2029, bidi overrides and isolates
    (``\\u202e``), zero-width and other invisible characters, lone surrogates. Everything
    else, backslashes included, is unchanged."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escape(char) for char in text)


def _char_width(char: str) -> int:
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def text_width(text: str) -> int:
    """Columns ``text`` takes on a terminal: wide (CJK) characters count two, marks none."""
    if text.isascii():
        return len(text)
    return sum(_char_width(char) for char in text)


def cut_middle(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` columns, its middle replaced by an ellipsis when too long:
    ``layer1.…l.shortcut.batchnorm``. Both ends survive: a name's block and its leaf."""
    if text_width(text) <= limit:
        return text
    if limit <= 1:
        return ELLIPSIS[:limit]
    room = limit - 1
    # A dotted name keeps its first part (the block) and as much of its end as fits.
    head_room = min(text.find(".") + 1 or room // 2, room // 2)
    if text.isascii():
        return text[:head_room] + ELLIPSIS + text[len(text) - (room - head_room) :]
    head = used = 0
    while head < len(text) and used + _char_width(text[head]) <= head_room:
        used += _char_width(text[head])
        head += 1
    tail, left = len(text), room - used
    while tail > head and _char_width(text[tail - 1]) <= left:
        left -= _char_width(text[tail - 1])
        tail -= 1
    return text[:head] + ELLIPSIS + text[tail:]


# --- numbers ----------------------------------------------------------------------------------


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


# --- shapes and receptive fields --------------------------------------------------------------


def batched_shape(shape: Sequence[int], batch: int | None) -> str:
    """A shape with the batch first, as Keras shows it: ``(None, 26, 26, 32)``."""
    return "(" + ", ".join([str(batch), *(str(size) for size in shape)]) + ")"


def compact_shape(shape: Sequence[int]) -> str:
    """A shape without the batch, as JSON and CSV give it: ``26x26x32``."""
    return "x".join(str(size) for size in shape)


def _compact(values: Sequence[int]) -> str:
    """One number when every axis agrees (``1``), else one per axis (``2x1``)."""
    if len(set(values)) == 1:
        return str(values[0])
    return per_axis(values)


def field_summary(field: Field | None, compact: bool = False) -> str:
    """A receptive field as ``size/jump``: ``3x3/1``, ``5x3/2x1``; ``whole`` for None.

    ``compact`` writes the size once when every axis agrees too (``3/1``)."""
    if field is None or not field.size:
        return WHOLE_INPUT
    size = _compact(field.size) if compact else per_axis(field.size)
    return f"{size}/{_compact(field.jump)}"


# --- names ------------------------------------------------------------------------------------


def shows_type(name: str, kind: str) -> bool:
    """Whether a layer's type says more than its name: not for ``conv2d``, the automatic
    ``conv2d_1``, nor ``basic_1.residual.conv2d``, whose last part already is the type; yes for
    a name of the user's own, such as ``stem`` of type conv2d."""
    last = name.rpartition(".")[2]
    if last == kind:
        return False
    if last.startswith(kind) and last[len(kind) : len(kind) + 1] == "_":
        number = last[len(kind) + 1 :]
        return not (number.isascii() and number.isdigit())
    return True


def label_parts(row: LayerRow) -> tuple[str, str]:
    """The ``Layer (type)`` cell in two parts, made safe to show: the name, and `` (type)``
    when the type says more than the name (else empty)."""
    if shows_type(row.name, row.type):
        return safe(row.name), f" ({safe(row.type)})"
    return safe(row.name), ""


def layer_label(row: LayerRow) -> str:
    """The ``Layer (type)`` cell, without indentation: ``stem (conv2d)``, ``conv2d_1``."""
    name, suffix = label_parts(row)
    return name + suffix


def fit_label(row: LayerRow, limit: int) -> str:
    """``layer_label`` in at most ``limit`` columns: the name is cut in the middle before the
    type is, so ``a_very_lo…ng_name (conv2d)`` still says what the layer is."""
    name, suffix = label_parts(row)
    label = name + suffix
    if text_width(label) <= limit:
        return label
    room = limit - text_width(suffix)
    if suffix and room >= 8:
        return cut_middle(name, room) + suffix
    return cut_middle(label, limit)


def any_type_shown(report: Report) -> bool:
    """Whether some row shows its type, and so the header should say ``Layer (type)``."""
    return any(shows_type(row.name, row.type) for row in report.layers)


# --- the model-wide lines ---------------------------------------------------------------------


def settings_items(report: Report) -> list[str]:
    """The model-wide choices: framework, layout, dtype and, when one was given, the batch."""
    settings = report.settings
    items = [
        f"framework {settings.framework.value}",
        f"layout {settings.layout.value}",
        f"dtype {settings.dtype.value}",
    ]
    if settings.batch is not None:
        items.append(f"batch {settings.batch}")
    return items


SEPARATOR = " · "
"""Between the settings in the line under the title."""


def settings_line(report: Report) -> str:
    """The model-wide choices on one line, for under the title."""
    return SEPARATOR.join(settings_items(report))


def title(report: Report) -> str:
    """The model's name (made safe to show), or the program's when it has none."""
    return safe(report.name) if report.name else "convcalc"


# --- the layer table's columns ----------------------------------------------------------------


class Column(NamedTuple):
    """One column of the layer table."""

    header: str
    numeric: bool
    """Right-aligned when true."""


def has_non_trainable(report: Report) -> bool:
    """Whether any layer has non-trainable parameters (only then is that column shown)."""
    return any(row.non_trainable_params for row in report.layers)


def layer_header(report: Report) -> str:
    """``Layer (type)`` when some row shows its type, else ``Layer``."""
    return header_for(any_type_shown(report))


def header_for(typed: bool) -> str:
    return "Layer (type)" if typed else "Layer"


def macs_header(batch: int | None) -> str:
    """``MACs``, or ``MACs/sample`` when a batch is set: the figures never include it."""
    return "MACs" if batch is None else "MACs/sample"


def columns(report: Report) -> list[Column]:
    """The layer table's columns at their fullest, in order."""
    shown = [
        Column("#", True),
        Column(layer_header(report), False),
        Column("Output shape", False),
        Column("Params", True),
    ]
    if has_non_trainable(report):
        shown.append(Column("Non-trainable", True))
    shown += [Column(macs_header(report.settings.batch), True), Column("RF", False)]
    return shown


def cells(row: LayerRow, batch: int | None, non_trainable: bool, indent: str = "  ") -> list[str]:
    """One layer's cells at their fullest, matching ``columns``; the name indented by depth."""
    shown = [
        str(row.number),
        indent * row.depth + layer_label(row),
        batched_shape(row.output_shape, batch),
        exact(row.params),
    ]
    if non_trainable:
        shown.append(exact(row.non_trainable_params))
    shown += [exact(row.macs), field_summary(row.receptive_field)]
    return shown


# --- totals -----------------------------------------------------------------------------------


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


def totals(report: Report, shape: str | None = None) -> list[Total]:
    """The totals block: parameters exact; compute and memory readable, with exact figures.

    With a batch, MACs and FLOPs say they are per sample, and one more line gives the MACs of
    the whole batch. ``shape`` is the output shape as the caller writes shapes."""
    sums, settings = report.totals, report.settings
    batch = f"per batch of {settings.batch}" if settings.batch else "batch 1"
    buffers = sums.buffers  # the model's, not the rows shown (--top shows only some)
    param_notes = [settings.dtype.value]
    if buffers:
        # PyTorch batchnorm running statistics count towards memory but not parameters.
        param_notes.append(f"incl. {exact(buffers)} buffer elements")
    per_sample = "" if settings.batch is None else " per sample"
    compute = [
        Total(f"MACs{per_sample}", human_count(sums.macs), _count_detail(sums.macs)),
        Total(f"FLOPs{per_sample}", human_count(sums.flops), _count_detail(sums.flops)),
    ]
    if settings.batch is not None:
        # Presentation only: the report's figures are per sample, as every framework counts.
        whole = sums.macs * settings.batch
        label = f"MACs per batch of {settings.batch}"
        compute.insert(1, Total(label, human_count(whole), _count_detail(whole)))
    return [
        Total("Total params", exact(sums.params)),
        Total("Trainable params", exact(sums.trainable_params)),
        Total("Non-trainable params", exact(sums.non_trainable_params)),
        *compute,
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
        *_training(report),
        *_fit(report),
        Total(
            "Output shape",
            batched_shape(report.output_shape, settings.batch) if shape is None else shape,
        ),
    ]


def _fit(report: Report) -> list[Total]:
    """With --fit: the largest batch that fits, and the memory it takes."""
    fit = report.fit
    if fit is None:
        return []
    what = "training" if fit.training else "inference"
    if fit.batch == 0:
        return [
            Total(
                f"Fits {human_bytes(fit.budget)}",
                "no batch",
                f"one sample's {what} needs {human_bytes(fit.total)}",
            )
        ]
    return [
        Total(
            f"Fits {human_bytes(fit.budget)}",
            f"batch {fit.batch:,}",
            f"{human_bytes(fit.total)} for {what}",
        )
    ]


def _training(report: Report) -> list[Total]:
    """With --train: a training step's memory, part by part, and its MACs."""
    training, settings = report.totals.training, report.settings
    if training is None or settings.train is None:
        return []
    wide = "float32" if settings.amp else settings.dtype.value
    narrow = "float16" if settings.amp else settings.dtype.value
    batch = f"per batch of {settings.batch}" if settings.batch else "batch 1"
    optimizer = settings.train.value
    parts = [
        ("Training weights", training.weights, wide),
        ("Training buffers", training.buffers, wide),
        ("Gradients", training.gradients, wide),
        (f"Optimizer state ({optimizer})", training.optimizer_state, wide),
        ("Saved activations", training.saved_activations, f"{narrow}, {batch}"),
        ("Training memory", training.total, "amp" if settings.amp else ""),
    ]
    per_sample = "" if settings.batch is None else " per sample"
    return [
        *(
            Total(label, human_bytes(value), _memory_detail(value, *([note] if note else [])))
            for label, value, note in parts
            if value or label != "Training buffers"
        ),
        Total(
            f"Training MACs{per_sample}",
            human_count(training.macs),
            _count_detail(training.macs),
        ),
    ]


# --- notes and working ------------------------------------------------------------------------


def notes(report: Report) -> list[str]:
    """The report's notes, made safe to show: one sentence each."""
    return [safe(note) for note in report.notes]


def explain_heading(row: LayerRow) -> str:
    """The heading over one layer's working: ``1  conv2d  (conv2d)``."""
    return f"{row.number}  {safe(row.name)}  ({safe(row.type)})"


def explain_lines(row: LayerRow) -> list[str]:
    """One layer's working, made safe to show (a folded row's lines name its layers)."""
    return [safe(line) for line in row.explain] or [NOTHING_TO_EXPLAIN]


NOTHING_TO_EXPLAIN = "(no formulas: nothing is computed here)"
"""Shown under a layer whose rule records no working (dropout, an activation)."""
