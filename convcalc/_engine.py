"""Carrying a shape through a model: each layer's output, weights, MACs and receptive field.

Pure arithmetic on the standard library only. ``analyze`` is the public entry point; it reads
the model mapping (``_spec``), applies each layer's rules from the catalogue in order, and
returns a :class:`Report`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from ._errors import ShapeError
from ._kind import Call, Geometry, Receptive, Shape
from ._report import Field, LayerRow, Report, Totals
from ._settings import Layout, Settings
from ._spec import LayerSpec, ModelSpec, read_model

_DATA_KINDS = {
    0: "a flat vector",
    1: "1-D data (L C)",
    2: "2-D data (H W C)",
    3: "3-D data (D H W C)",
}


def analyze(spec: Mapping[str, object]) -> Report:
    """Analyse a model given as the mapping of CONTRACT section 3; raises ConvCalcError."""
    return run(read_model(spec))


def run(model: ModelSpec) -> Report:
    """Apply every layer of a checked model, in order."""
    settings = model.settings
    shape = model.input
    field = _initial_field(shape)
    rows: list[LayerRow] = []
    for index, layer in enumerate(model.layers, start=1):
        row = apply(layer, index, shape, field, settings)
        rows.append(row)
        shape, field = row.output_shape, row.receptive_field
    return Report(model.name, settings, model.input, shape, tuple(rows), _totals(rows, settings))


def _initial_field(shape: Shape) -> Field | None:
    rank = max(len(shape) - 1, 0)
    if rank == 0:
        return None
    return Field((1,) * rank, (1,) * rank, (0.5,) * rank)


def apply(
    layer: LayerSpec,
    index: int,
    shape: Shape,
    field: Field | None,
    settings: Settings,
    depth: int = 0,
) -> LayerRow:
    """One layer on one input shape: its report row."""
    kind = layer.kind
    notes: list[str] | None = [] if settings.explain else None
    call = Call(kind, index, layer.name, layer.values, layer.given, shape, settings, notes)
    spatial_rank = max(len(shape) - 1, 0)
    if kind.rank is not None and spatial_rank != kind.rank:
        raise ShapeError(
            f"{call.where}: {kind.name} needs {_data(kind.rank, settings)} but its "
            f"input {shape} is {_data(spatial_rank, settings)}; "
            f"{_rank_fix(kind.name, kind.rank, spatial_rank)}"
        )
    geometry = kind.shape(call)
    weights = kind.weights(call, geometry)
    macs = kind.macs(call, geometry)
    trainable, frozen = weights.trainable, weights.non_trainable
    if not layer.trainable:
        trainable, frozen = 0, trainable + frozen
    return LayerRow(
        index=index,
        name=layer.name,
        type=kind.name,
        input_shape=shape,
        output_shape=geometry.output,
        trainable_params=trainable,
        non_trainable_params=frozen,
        macs=macs,
        receptive_field=_next_field(call, kind.receptive, geometry, field),
        depth=depth,
        buffers=weights.buffers,
        explain=tuple(notes) if notes is not None else (),
    )


def _data(rank: int, settings: Settings) -> str:
    text = _DATA_KINDS[rank]
    if settings.layout is Layout.CHW and rank:
        text = text.replace("(L C)", "(C L)").replace("(H W C)", "(C H W)")
        text = text.replace("(D H W C)", "(C D H W)")
    return text


def _rank_fix(name: str, wanted: int, rank: int) -> str:
    if rank == 0:
        return "give the input its spatial axes and channels, or use dense"
    base = name.rstrip("0123456789d") if name[-2:-1].isdigit() else name
    if base != name:
        axes = "axis" if wanted == 1 else "axes"
        return f"use {base}{rank}d, or give the input {wanted} spatial {axes}"
    return "check the input shape"


def _next_field(
    call: Call, receptive: Receptive, geometry: Geometry, field: Field | None
) -> Field | None:
    """The receptive field after this layer (CONTRACT section 6)."""
    if receptive is Receptive.WHOLE or field is None:
        return None
    if receptive is Receptive.POINTWISE:
        return field
    sizes, jumps, starts = list(field.size), list(field.jump), list(field.start)
    for axis, window in enumerate(geometry.windows):
        grow = window.kernel - 1
        size, jump, start = sizes[axis], jumps[axis], starts[axis]
        sizes[axis] = size + grow * jump
        starts[axis] = start + (grow / 2 - window.pad_before) * jump
        jumps[axis] = jump * window.stride
        if call.notes is not None:
            label = call.axis_labels()[axis]
            call.note(
                f"RF {label}: size {size} + ({window.kernel}-1)*{jump} = {sizes[axis]}; "
                f"jump {jump}*{window.stride} = {jumps[axis]}; start {start:g} + "
                f"(({window.kernel}-1)/2 - {window.pad_before})*{jump} = {starts[axis]:g}"
            )
    return Field(tuple(sizes), tuple(jumps), tuple(starts))


def _totals(rows: list[LayerRow], settings: Settings) -> Totals:
    size = settings.dtype.bytes
    trainable = sum(row.trainable_params for row in rows)
    frozen = sum(row.non_trainable_params for row in rows)
    buffers = sum(row.buffers for row in rows)
    batch = settings.batch or 1
    activations = sum(math.prod(row.output_shape) for row in rows)
    return Totals(
        params=trainable + frozen,
        trainable_params=trainable,
        non_trainable_params=frozen,
        macs=sum(row.macs for row in rows),
        param_bytes=(trainable + frozen + buffers) * size,
        activation_bytes=activations * batch * size,
    )
