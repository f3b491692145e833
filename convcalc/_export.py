"""An export plan: a checked model as the layers a framework builds, in execution order.

``convcalc export`` writes a model as framework code (``_render/_pytorch.py``,
``_render/_keras.py``). What the code must contain is decided here, once, from the walk itself
(:meth:`Walker.record`): every row's layer with its checked values, its kind read at the rank
its input really has, its shapes and counts, and the data flow between them as numbered
tensors (0: the input). The renderers only spell it.

A model exported to the framework it is written for is the model convcalc analyses. Exported
to the other framework, it is analysed again under that framework's rules (a batchnorm counts
4*C in Keras, 2*C in PyTorch), and the plan says so in its notes; what the other framework's
rules refuse is refused here, with convcalc's own message. PyTorch holds data channels first:
a channels-last model exported to PyTorch is walked again channels first, and every row is
checked to compute the same with its channels moved (a layer that depends on the axis order,
a reshape or a dense layer on a spatial axis, stops the export, naming it).
"""

from __future__ import annotations

import keyword
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from ._catalogue import family_member
from ._engine import RunState, channel_axis, check_size, initial_field
from ._errors import ConvCalcError, SpecError
from ._kind import LayerKind, Shape
from ._layer import LayerSpec, read_values
from ._model import (
    ApplyOp,
    MergeOp,
    ModelSpec,
    PartOp,
    Tensor,
    Walker,
    check_min_input,
    run,
)
from ._settings import Framework, Layout, Merge
from ._values import show, show_shape

MAX_EXPORT_ROWS = 100_000
"""Rows an exported module may have: past this, the code would be megabytes no one reads."""


class ExportError(SpecError):
    """A model, or one of its layers, that cannot be written as the framework's code."""


class LayerStep(NamedTuple):
    """One row's layer, applied to the tensor numbered ``source``, making ``output``."""

    output: int
    source: int
    layer: LayerSpec
    """Checked, its kind the one for its input's rank (``conv`` on 1-D data is conv1d)."""
    input_shape: Shape
    output_shape: Shape
    trainable_params: int
    non_trainable_params: int

    @property
    def kind(self) -> LayerKind:
        return self.layer.kind

    @property
    def name(self) -> str:
        return self.layer.name

    @property
    def frozen(self) -> bool:
        """Written ``trainable: false`` (or inside a block that is)."""
        return not self.layer.trainable

    @property
    def values(self) -> Mapping[str, object]:
        return self.layer.values

    @property
    def row(self) -> int:
        return self.layer.row

    @property
    def where(self) -> str:
        """How messages name it: ``layer 3 (conv2d_1)``."""
        return f"layer {self.layer.row} ({self.layer.name})"


class MergeStep(NamedTuple):
    """A merge row: the tensors ``sources`` joined into ``output``."""

    output: int
    sources: tuple[int, ...]
    how: Merge
    name: str
    row: int
    input_shapes: tuple[Shape, ...]
    output_shape: Shape
    axis: int
    """For concat: the axis joined, counted without the batch (the layout's channels)."""


class SplitStep(NamedTuple):
    """A ``split``: the tensor ``source`` cut on ``axis`` (without the batch) into consecutive
    parts of ``sizes``, numbered ``outputs``; no row of its own."""

    outputs: tuple[int, ...]
    source: int
    axis: int
    sizes: tuple[int, ...]
    input_shape: Shape


Step = LayerStep | MergeStep | SplitStep


class ExportPlan(NamedTuple):
    """Everything a renderer writes: the model's layers in order and where each tensor goes."""

    name: str | None
    framework: Framework
    """The framework the code is for (whose rules the figures follow)."""
    source_framework: Framework
    """The framework the model was written for."""
    layout: Layout
    input_shape: Shape
    output: int
    """The number of the tensor the model returns."""
    output_shape: Shape
    steps: tuple[Step, ...]
    params: int
    trainable_params: int
    notes: tuple[str, ...] = ()
    """Sentences on how the model was carried over (another framework, another layout)."""

    @property
    def layers(self) -> Iterable[LayerStep]:
        return (step for step in self.steps if isinstance(step, LayerStep))

    @property
    def kinds(self) -> set[str]:
        """The kinds of its layers, by name."""
        return {step.kind.name for step in self.layers}

    def last_use(self) -> dict[int, int]:
        """Tensor -> the index of the last step that reads it (the output: one past the end)."""
        last: dict[int, int] = {}
        for index, step in enumerate(self.steps):
            for tensor in sources_of(step):
                last[tensor] = index
        last[self.output] = len(self.steps)
        return last

    def shapes(self) -> dict[int, Shape]:
        """Tensor -> its shape without the batch."""
        found: dict[int, Shape] = {0: self.input_shape}
        for step in self.steps:
            if isinstance(step, SplitStep):
                for number, size in zip(step.outputs, step.sizes, strict=True):
                    shape = step.input_shape
                    found[number] = shape[: step.axis] + (size,) + shape[step.axis + 1 :]
            else:
                found[step.output] = step.output_shape
        return found


def sources_of(step: Step) -> tuple[int, ...]:
    """The tensors a step reads."""
    if isinstance(step, MergeStep):
        return step.sources
    return (step.source,)


def outputs_of(step: Step) -> tuple[int, ...]:
    """The tensors a step makes."""
    if isinstance(step, SplitStep):
        return step.outputs
    return (step.output,)


# -- the plan -----------------------------------------------------------------------------------


def export_plan(model: ModelSpec, to: Framework | None = None) -> ExportPlan:
    """The plan of ``model`` for framework ``to`` (default: the model's own); raises
    ConvCalcError where the model does not run under that framework's rules, or cannot be
    carried to its layout."""
    source = model.settings.framework
    target = source if to is None else to
    notes: list[str] = []
    settings = model.settings._replace(framework=target, explain=False, train=None, amp=False)
    work = model._replace(settings=settings)
    if target is not source:
        work = _under(work, target, source)
    if target is Framework.PYTORCH and settings.layout is Layout.HWC:
        work = _channels_first(work, _plan(work))
        moved = "" if work.input == model.input else f" (its input {show_shape(work.input)})"
        notes.append(
            "PyTorch holds data channels first: the model, written channels last, is exported "
            f"channels first{moved}, every row checked to compute the same with its channels "
            "moved"
        )
    plan = _plan(work)
    if target is not source:
        original = run(model._replace(settings=model.settings._replace(explain=False)))
        theirs = (original.totals.params, original.totals.trainable_params)
        ours = (plan.params, plan.trainable_params)
        if theirs != ours:
            notes.append(
                f"written for {source.value}, exported to {target.value}: {target.value} counts "
                f"{ours[0]:,} parameters ({ours[1]:,} trainable) where {source.value} counts "
                f"{theirs[0]:,} ({theirs[1]:,} trainable){_why_counts_differ(plan)}; the code "
                f"builds what {target.value} counts"
            )
        else:
            notes.append(
                f"written for {source.value}, exported to {target.value}: both count "
                f"{ours[0]:,} parameters ({ours[1]:,} trainable)"
            )
    return plan._replace(source_framework=source, notes=tuple(notes))


def _why_counts_differ(plan: ExportPlan) -> str:
    kinds = plan.kinds
    if "batchnorm" in kinds:
        return (
            " (batchnorm: Keras counts its moving mean and variance as non-trainable weights, "
            "PyTorch keeps them as buffers)"
        )
    return ""


def _under(model: ModelSpec, target: Framework, source: Framework) -> ModelSpec:
    """The model under ``target``'s rules, refused with convcalc's message where they refuse
    a layer."""
    try:
        _plan(model)
    except ConvCalcError as problem:
        raise ExportError(
            f"the model is written for {source.value}; under {target.value}'s rules {problem}. "
            f"Export it to {source.value} (--to {source.value}), or change that layer"
        ) from None
    return model


def _channels_first(model: ModelSpec, before: ExportPlan) -> ModelSpec:
    """The channels-last ``model`` walked channels first, checked row by row against
    ``before`` (its walk channels last): every shape the same with its channels moved, every
    count the same."""
    moved = model._replace(
        input=_moved(model.input),
        settings=model.settings._replace(layout=Layout.CHW),
        layout_given=True,
        min_input=model.min_input,
    )
    hint = (
        "PyTorch holds data channels first, so the model is exported channels first (C H W); "
        "write that layer for channels-first data, or export to keras (--to keras), whose "
        "layers take data_format channels_last"
    )
    try:
        after = _plan(moved)
    except ConvCalcError as problem:
        raise ExportError(f"{problem}. {hint}") from None
    if len(before.steps) != len(after.steps):
        raise ExportError(f"the model walks differently channels first. {hint}")
    for first, second in zip(before.steps, after.steps, strict=True):
        if isinstance(first, LayerStep) and isinstance(second, LayerStep):
            _same_moved(first, second, hint)
        elif isinstance(first, MergeStep) and isinstance(second, MergeStep):
            if _moved(first.output_shape) != second.output_shape:
                raise ExportError(
                    f"layer {first.row} ({first.name}): {first.how.value} gives "
                    f"{show_shape(first.output_shape)}; channels first it would give "
                    f"{show_shape(second.output_shape)}, not the same with its channels moved. "
                    f"{hint}"
                )
    return moved


AXIS_BOUND = frozenset(
    (
        "dense",
        "layernorm",
        "softmax",
        "log_softmax",
        "sparsemax",
        "reshape",
        "permute",
        "multihead_attention",
    )
)
"""Kinds that act on the last axis (or on the axes in their order): channels last that is the
channels, channels first it is not, so on data with more than one axis they do not carry over
to PyTorch's order, whatever their shapes (so do ``rescaling`` and ``normalization`` with lists
of values, and a softmax)."""


def _same_moved(first: LayerStep, second: LayerStep, hint: str) -> None:
    """Refuse a row that does not compute the same channels first."""
    kind = first.kind.name
    function = first.values.get("activation") or first.values.get("function")
    lists = kind in ("rescaling", "normalization") and any(
        isinstance(first.values.get(name), tuple) for name in ("scale", "offset", "mean")
    )  # values along the last axis
    if len(first.input_shape) >= 2 and (
        kind in AXIS_BOUND or lists or function in ("softmax", "log_softmax", "sparsemax")
    ):
        what = (
            "names its axes in the layout's order"
            if kind in ("reshape", "permute")
            else "acts on its last axis, which channels last is the channels and channels "
            "first is not"
        )
        raise ExportError(
            f"{first.where}: {kind} on {show_shape(first.input_shape)} {what}: it depends on "
            f"the axis order. {hint}"
        )
    same = (
        _moved(first.output_shape) == second.output_shape
        and first.trainable_params == second.trainable_params
        and first.non_trainable_params == second.non_trainable_params
    )
    if not same:
        raise ExportError(
            f"{first.where}: {kind} on {show_shape(first.input_shape)} gives "
            f"{show_shape(first.output_shape)} ({first.trainable_params:,} parameters); "
            f"channels first, on {show_shape(second.input_shape)}, it would give "
            f"{show_shape(second.output_shape)} ({second.trainable_params:,}), not the "
            f"same with its channels moved: it depends on the axis order. {hint}"
        )


def _moved(shape: Shape) -> Shape:
    """A channels-last shape with its channels first (a flat vector as it is)."""
    return shape if len(shape) < 2 else (shape[-1], *shape[:-1])


def _plan(model: ModelSpec) -> ExportPlan:
    """Walk ``model`` once, recording it; its plan."""
    settings = model.settings
    check_size("the input", model.input, settings)
    check_min_input(model, model.input)
    state = RunState(settings, model.input)
    walker = Walker(model.blocks, max(len(model.input) - 1, 0), state, model.params)
    start = Tensor(model.input, initial_field(model.input), "the model's input")
    try:
        program = walker.record(model.layers, start)
    except RecursionError:
        raise SpecError("the model nests blocks or constructs too deeply to follow") from None
    if len(state.rows) > MAX_EXPORT_ROWS:
        raise ExportError(
            f"the model has {len(state.rows):,} rows; convcalc exports at most "
            f"{MAX_EXPORT_ROWS:,} (the code would be megabytes): lower its repeat counts"
        )
    rows = iter(state.rows)
    shapes = program.shapes
    steps: list[Step] = []
    parts: list[tuple[int, PartOp]] = []

    def close_parts() -> None:
        if parts:
            first = parts[0][1]
            steps.append(
                SplitStep(
                    tuple(number for number, _ in parts),
                    first.source,
                    first.axis,
                    tuple(op.size for _, op in parts),
                    shapes[first.source],
                )
            )
            parts.clear()

    for number, op in enumerate(program.ops, 1):
        if isinstance(op, PartOp):
            if parts:
                first = parts[0][1]
                taken = sum(part.size for _, part in parts)
                whole = shapes[first.source][first.axis]
                if op.source != first.source or op.axis != first.axis or taken >= whole:
                    close_parts()
            parts.append((number, op))
            continue
        close_parts()
        row = next(rows)
        if isinstance(op, ApplyOp):
            shape = shapes[op.source]
            steps.append(
                LayerStep(
                    number,
                    op.source,
                    _at_rank(op.layer, shape),
                    shape,
                    row.output_shape,
                    row.trainable_params,
                    row.non_trainable_params,
                )
            )
        else:
            assert isinstance(op, MergeOp)
            first_shape = shapes[op.sources[0]]
            steps.append(
                MergeStep(
                    number,
                    op.sources,
                    op.how,
                    row.name,
                    row.number,
                    tuple(shapes[source] for source in op.sources),
                    row.output_shape,
                    channel_axis(first_shape, settings.layout),
                )
            )
    close_parts()
    totals = state.totals()
    return ExportPlan(
        model.name,
        settings.framework,
        settings.framework,
        settings.layout,
        model.input,
        program.output,
        shapes[program.output],
        tuple(steps),
        totals.params,
        totals.trainable_params,
    )


def _at_rank(layer: LayerSpec, shape: Shape) -> LayerSpec:
    """A layer written with a rank-free name (``conv``) as the kind its input's rank makes it,
    as the engine read it."""
    if layer.family is None:
        return layer
    member = family_member(layer.family, max(len(shape) - 1, 0))
    if member is None or member is layer.kind:
        return layer
    values, given = read_values(member, layer.raw or {}, f"layer {layer.row} ({layer.name})")
    return layer._replace(kind=member, values=values, given=frozenset(given))


# -- what both renderers need -----------------------------------------------------------------


def identifier(name: str, taken: set[str], reserved: Iterable[str] = ()) -> str:
    """A valid, unused Python identifier made from a row's name (ASCII letters, digits and
    underscores; a dot or any other character becomes ``_``), added to ``taken``."""
    base = re.sub(r"[^0-9A-Za-z_]", "_", name) or "layer"
    if base[0].isdigit():
        base = f"_{base}"
    if base.startswith("__"):  # self.__x would be mangled to self._Class__x
        base = f"n{base}"
    blocked = set(reserved)
    if keyword.iskeyword(base) or keyword.issoftkeyword(base) or base in blocked:
        base = f"{base}_"
    found = base
    number = 2
    while found in taken or found in blocked:
        found = f"{base}_{number}"
        number += 1
    taken.add(found)
    return found


def variables(plan: ExportPlan, first: str = "x") -> dict[int, str]:
    """A local variable for every tensor, reused once its tensor is no longer read: a chain is
    ``x = ...`` throughout, and a forward keeps alive only what later layers read."""
    last = plan.last_use()
    names: dict[int, str] = {0: first}
    free: list[str] = []
    made = 1
    for index, step in enumerate(plan.steps):
        dying = [names[t] for t in dict.fromkeys(sources_of(step)) if last.get(t, -1) <= index]
        free = sorted(set(free) | set(dying), key=_variable_order)
        unread = []
        for tensor in outputs_of(step):
            if free:
                names[tensor] = free.pop(0)
            else:
                names[tensor] = f"{first}{made}"
                made += 1
            if tensor not in last:
                unread.append(names[tensor])
        free = sorted(set(free) | set(unread), key=_variable_order)
    return names


def _variable_order(name: str) -> tuple[int, str]:
    digits = name.lstrip("abcdefghijklmnopqrstuvwxyz_")
    return (int(digits) if digits else 0, name)


MODULE_NAMES = frozenset({"F", "NAME", "math", "nn", "torch", "keras", "build"})
"""Names the written modules define or import at their top level: a model is never called so
(a model named ``f`` would be ``class F``, hiding ``torch.nn.functional``)."""


def class_name(name: str | None) -> str:
    """A class name from a model's name: ``resnet50`` -> ``Resnet50``; never a keyword
    (``None``, ``True``) nor a name the written module uses (``F``)."""
    words = re.findall(r"[0-9A-Za-z]+", name or "")
    found = "".join(word[:1].upper() + word[1:] for word in words)
    if not found or found[0].isdigit():
        found = f"Model{found}"
    if keyword.iskeyword(found) or keyword.issoftkeyword(found) or found in MODULE_NAMES:
        found = f"{found}Model"
    return found


def literal(value: object) -> str:
    """Python source for a plain value (numbers, text, tuples and lists of them): repr, with
    tuples of one written ``(3,)`` and floats as floats."""
    if isinstance(value, (tuple, list)):
        inner = ", ".join(literal(item) for item in value)
        if isinstance(value, list):
            return f"[{inner}]"
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, float) and (math.isinf(value) or math.isnan(value)):
        return f"float({str(value)!r})"
    return repr(value)


def flat_pairs(pairs: Sequence[tuple[int, int]], sign: int = 1) -> tuple[int, ...]:
    """(before, after) per spatial axis as PyTorch's padding modules take them: the last axis
    first."""
    return tuple(sign * side for pair in reversed(pairs) for side in pair)


def describe(step: Step) -> str:
    """A short, escaped description for messages."""
    if isinstance(step, LayerStep):
        return step.where
    if isinstance(step, MergeStep):
        return f"layer {step.row} ({show(step.name)})"
    return "a split"
