"""One layer, or one merge, on the tensors that reach it: its output, weights, MACs and
receptive field; and the totals of a run.

Pure arithmetic on the standard library only. The model language (``_model``) walks a model
and calls :func:`apply` for each layer and :func:`merge_row` for each merge, in order; this
module knows nothing of blocks or names.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from . import _window as sliding
from ._catalogue import family_member, find_kind
from ._errors import ShapeError
from ._kind import Call, Geometry, LayerKind, Receptive, Shape, Weights, keeps_input
from ._layer import INPUT_SHAPE, TORCH_READING, LayerSpec, TorchReading, read_values
from ._report import INPUT_SOURCE, Field, LayerRow, Report, Rows, Totals, Training
from ._settings import Framework, Layout, Merge, Settings, assert_never
from ._values import LARGEST, Invalid, WholeNumber, axes_word, show, show_shape

INPUT_NAME = INPUT_SOURCE
"""The walk's name for the model's input, as a tensor's source."""

_DATA_KINDS = {
    0: "a flat vector",
    1: "1-D data (L C)",
    2: "2-D data (H W C)",
    3: "3-D data (D H W C)",
}


class RunState:
    """What one analysis carries from layer to layer besides the shape."""

    def __init__(self, settings: Settings, model_input: Shape = ()) -> None:
        self.settings = settings
        self.model_input = model_input
        """The shape the user typed: a rank-free layer that meets it must not guess a batch."""
        self.rows = Rows()
        """Every row so far, in order (past a point, in a temporary file)."""
        self.sums = [0, 0, 0, 0, 0]
        """Running totals: trainable, non-trainable, buffers, MACs, activation elements."""
        self.memo: Memo = {}
        self.remarks: dict[str, str] = {}
        """The report's notes, by key (a note is made once however many layers make it)."""
        self.reread: dict[tuple[int, int], LayerSpec] = {}
        """(id of a family layer's raw parameters, rank) -> the layer read at that rank."""
        self.training = Autograd(model_input) if settings.train is not None else None
        """With --train: which tensors need a gradient and which are kept for the backward."""

    def emit(self, row: LayerRow) -> None:
        """Record a row and add it to the totals."""
        self.rows.append(row)
        sums = self.sums
        sums[0] += row.trainable_params
        sums[1] += row.non_trainable_params
        sums[2] += row.buffers
        sums[3] += row.macs
        sums[4] += math.prod(row.output_shape)

    def totals(self) -> Totals:
        trainable, frozen, buffers, macs, activations = self.sums
        size = self.settings.dtype.bytes
        training = None
        if self.training is not None and self.settings.train is not None:
            wide = self.settings.weight_bytes
            training = Training(
                weights=(trainable + frozen) * wide,
                buffers=buffers * wide,
                gradients=trainable * wide,
                optimizer_state=trainable * wide * self.settings.train.state_per_param,
                saved_activations=self.training.saved,
                macs=macs + self.training.backward_macs,
            )
        return Totals(
            params=trainable + frozen,
            trainable_params=trainable,
            non_trainable_params=frozen,
            macs=macs,
            param_bytes=(trainable + frozen + buffers) * size,
            activation_bytes=activations * (self.settings.batch or 1) * size,
            training=training,
            buffers=buffers,
        )


class Autograd:
    """What a training-mode forward pass leaves for the backward, followed row by row as
    PyTorch's autograd keeps it: a tensor needs a gradient once a trainable parameter is
    behind it (the input needs none); an operation no gradient flows through keeps nothing;
    a tensor kept by several operations (a conv's input is the ReLU's output it keeps) is one
    storage, counted once. Tensors are named by the row that made them (the input by the
    walk's name for it); a view or an in-place row's output is its input's storage."""

    def __init__(self, model_input: Shape) -> None:
        self.grad: dict[str, bool] = {}
        """Tensor (the row that made it) -> whether it needs a gradient."""
        self.storage: dict[str, str] = {}
        """Tensor -> the tensor whose storage it is (itself unless a view or in place)."""
        self.elements: dict[str, int] = {INPUT_NAME: math.prod(model_input)}
        """Storage -> its elements per sample."""
        self.kept: set[str] = set()
        """Storages already counted as saved."""
        self.saved = 0
        """Bytes saved so far, the whole batch."""
        self.backward_macs = 0
        """MACs of the backward so far, per sample."""

    def layer(
        self, call: Call, kind: LayerKind, geometry: Geometry, row: LayerRow, source: str
    ) -> int:
        """Follow one layer applied to the tensor ``source``: the bytes it adds to the saved
        tensors, after counting its backward MACs."""
        settings = call.settings
        flows_in = self.grad.get(source, False)
        learns = row.trainable_params > 0
        store = self.storage.get(source, source)
        saved = (kind.saved or keeps_input)(call, geometry)
        out = store if saved.alias else row.name
        self.grad[row.name] = flows_in or learns
        self.storage[row.name] = out
        if not saved.alias:
            self.elements[out] = math.prod(geometry.output)
        # The backward of a layer that multiplies: one forward's MACs for the input's gradient
        # (where it needs one), one for the weights' (where they learn).
        backward = row.macs * (int(flows_in) + int(learns))
        self.backward_macs += backward
        if not (flows_in or learns):
            if call.notes is not None:
                call.note(
                    "training: no gradient flows here (no trainable parameter before it, none "
                    "of its own): autograd keeps nothing for it"
                )
            return 0
        batch = settings.batch or 1
        size = settings.saved_bytes
        added = 0
        tensors = []
        if saved.input or (saved.input_for_weights and learns):
            tensors.append(store)
        if saved.output:
            tensors.append(out)
        fresh = set()
        for tensor in tensors:
            if tensor not in self.kept:
                self.kept.add(tensor)
                fresh.add(tensor)
                added += self.elements.get(tensor, math.prod(call.input)) * batch * size
        elements = saved.elements + (saved.elements_for_weights if learns else 0)
        own = (elements * size + saved.raw_bytes) * batch
        statistics = saved.statistics * max(size, 4)
        if call.notes is not None:
            kept = [
                ("its input" if tensor == store else "its output")
                + ("" if tensor in fresh else ", kept already")
                for tensor in tensors
            ]
            parts = [f"{', '.join(kept) or 'no activation'} ({added:,} B new)"]
            if own:
                parts.append(f"{own:,} B of its own (indices, masks)")
            if statistics:
                parts.append(f"{statistics:,} B of per-channel statistics")
            call.note(f"training: saved for the backward: {' + '.join(parts)}")
            if row.macs:
                call.note(
                    f"training: backward MACs = {row.macs:,} x ({int(flows_in)} for the input's "
                    f"gradient + {int(learns)} for the weights') = {backward:,}"
                )
        added += own + statistics
        self.saved += added
        return added

    def merge(self, how: Merge, row: LayerRow, sources: list[str], settings: Settings) -> int:
        """Follow one merge: sums, means and concatenations keep nothing; a product keeps
        its factors, a maximum or minimum its inputs."""
        flows = any(self.grad.get(source, False) for source in sources)
        self.grad[row.name] = flows
        self.storage[row.name] = row.name
        self.elements[row.name] = math.prod(row.output_shape)
        if not flows or how not in (Merge.MULTIPLY, Merge.MAXIMUM, Merge.MINIMUM):
            return 0
        added = 0
        for source, shape in zip(sources, row.input_shapes, strict=True):
            store = self.storage.get(source, source)
            if store not in self.kept:
                self.kept.add(store)
                added += (
                    self.elements.get(store, math.prod(shape))
                    * (settings.batch or 1)
                    * settings.saved_bytes
                )
        self.saved += added
        return added


def report_of(
    state: RunState,
    name: str | None,
    model_input: Shape,
    output: Shape,
    scopes: Mapping[str, str],
    hint: str | None,
) -> Report:
    """The report of a finished run: its rows, totals and notes (the layout hint first)."""
    notes = ([hint + "."] if hint else []) + list(state.remarks.values())
    return Report(
        name,
        state.settings,
        model_input,
        output,
        state.rows.frozen(),
        state.totals(),
        dict(scopes),
        tuple(notes),
    )


def check_size(what: str, shape: Shape, settings: Settings) -> None:
    """Refuse a computed shape past the sizes any network has (2**62 elements, batch
    included): its figures would no longer be numbers worth printing."""
    if math.prod(shape) * (settings.batch or 1) > LARGEST:
        sizes = [show(size) for size in shape[:4]]
        raise ShapeError(
            f"{what} [{', '.join(sizes)}{', ...' if len(shape) > 4 else ''}] "
            f"{'times the batch ' if settings.batch else ''}passes 2**62 elements; no network "
            "comes near that: check the sizes that lead to it"
        )


def layout_hint(shape: Shape, settings: Settings) -> str | None:
    """A word when a shape looks written in the other layout than the one it is read in: a
    small axis (at most 4, an image's channels) at the channel end, a large one at the other
    end, means C H W read as H W C, or the reverse."""
    if len(shape) < 3:
        return None
    first, last = shape[0], shape[-1]
    framework = settings.framework.value
    if settings.layout is Layout.CHW and last <= 4 < first:
        return (
            f"{framework} reads the shape as C H W, its default layout, so this input has "
            f"{first} channels; for H W C add --layout hwc"
        )
    if settings.layout is Layout.HWC and first <= 4 < last:
        spatial = "x".join(str(size) for size in shape[:-1])
        return (
            f"{framework} reads the shape as H W C, its default layout, so this input is "
            f"{spatial} with {last} channels; for C H W add --layout chw"
        )
    return None


def merge_row(
    how: Merge,
    name: str,
    number: int,
    depth: int,
    subject: str,
    labels: tuple[str, ...],
    outcomes: list[tuple[Shape, Field | None, str]],
    settings: Settings,
    state: RunState | None = None,
) -> LayerRow:
    """The row of a merge of ``outcomes`` (shape, field, the row that made it), one per input
    or path; ShapeError, naming each by its label, when they do not fit it. ``subject`` says
    what could not merge (``residual 'b1' cannot add its paths``)."""
    shapes = [shape for shape, _, _ in outcomes]
    if (
        how is Merge.MULTIPLY
        and settings.framework is Framework.PYTORCH
        and len({len(shape) for shape in shapes}) > 1
    ):
        ranks = ", ".join(
            f"{label} {show_shape(shape)}" for label, shape in zip(labels, shapes, strict=True)
        )
        raise ShapeError(
            f"layer {number} ({name}): {subject}: {ranks} have different ranks, and PyTorch "
            "broadcasts with the batch axis in front, so the result would depend on the batch; "
            "give them the same rank (keepdims: true on a global pool, or a reshape)"
        )
    output = _merged_shape(how, shapes, settings.layout)
    if output is None:
        described = "; ".join(
            f"{label} -> {show_shape(shape)} from {source}"
            for label, (shape, _, source) in zip(labels, outcomes, strict=True)
        )
        raise ShapeError(f"layer {number} ({name}): {subject}: {described}. {_MERGE_NEEDS[how]}")
    check_size(f"layer {number} ({name}): its output", output, settings)
    explain: tuple[str, ...] = ()
    if settings.explain:
        joined = _MERGE_SIGNS[how].join(show_shape(s) for s in shapes)
        explain = (f"{how.value}: {joined} -> {show_shape(output)}",)
    row = LayerRow(
        number=number,
        name=name,
        type=how.value,
        input_shape=shapes[0],
        output_shape=output,
        trainable_params=0,
        non_trainable_params=0,
        macs=0,
        receptive_field=_largest([field for _, field, _ in outcomes]),
        depth=depth,
        explain=explain,
        input_shapes=tuple(shapes),
        sources=tuple(source for _, _, source in outcomes),
    )
    if state is not None and state.training is not None:
        sources = [source for _, _, source in outcomes]
        row = row._replace(saved_bytes=state.training.merge(how, row, sources, settings))
    return row


_MERGE_SIGNS = {
    Merge.ADD: " + ",
    Merge.SUBTRACT: " - ",
    Merge.MULTIPLY: " * ",
    Merge.AVERAGE: " avg ",
    Merge.MAXIMUM: " max ",
    Merge.MINIMUM: " min ",
    Merge.CONCAT: " ++ ",
}

_EQUAL = "needs equal shapes: change the layers (or give the shortcut a conv) so they match"
_MERGE_NEEDS = {
    Merge.ADD: f"add {_EQUAL}",
    Merge.SUBTRACT: f"subtract {_EQUAL}",
    Merge.AVERAGE: f"average {_EQUAL}",
    Merge.MAXIMUM: f"maximum {_EQUAL}",
    Merge.MINIMUM: f"minimum {_EQUAL}",
    Merge.CONCAT: "concat needs equal sizes on every axis but the channels",
    Merge.MULTIPLY: "multiply needs shapes that broadcast: on each axis, from the right, equal "
    "sizes or 1",
}


def _merged_shape(how: Merge, shapes: list[Shape], layout: Layout) -> Shape | None:
    """The shape a merge gives its paths' shapes; None when they do not fit it."""
    first = shapes[0]
    if (
        how is Merge.ADD
        or how is Merge.SUBTRACT
        or how is Merge.AVERAGE
        or how is Merge.MAXIMUM
        or how is Merge.MINIMUM
    ):
        return first if all(shape == first for shape in shapes) else None
    if how is Merge.CONCAT:
        if any(len(shape) != len(first) for shape in shapes):
            return None
        axis = channel_axis(first, layout)
        rest = [shape[:axis] + shape[axis + 1 :] for shape in shapes]
        if any(other != rest[0] for other in rest):
            return None
        channels = sum(shape[axis] for shape in shapes)
        return first[:axis] + (channels,) + first[axis + 1 :]
    if how is Merge.MULTIPLY:
        return _broadcast(shapes)
    assert_never(how)


def channel_axis(shape: Shape, layout: Layout) -> int:
    """Where a shape's channels are: first in C H W (and in a flat vector), else last."""
    return 0 if layout is Layout.CHW or len(shape) == 1 else len(shape) - 1


def _broadcast(shapes: list[Shape]) -> Shape | None:
    """NumPy broadcasting, as both frameworks multiply."""
    rank = max(len(shape) for shape in shapes)
    padded = [(1,) * (rank - len(shape)) + shape for shape in shapes]
    result: list[int] = []
    for sizes in zip(*padded, strict=True):
        big = max(sizes)
        if any(size not in (1, big) for size in sizes):
            return None
        result.append(big)
    return tuple(result)


def _largest(fields: list[Field | None]) -> Field | None:
    """The receptive field after a merge: the largest of its paths' (CONTRACT section 9)."""
    if any(field is None for field in fields):
        return None
    present = [field for field in fields if field is not None]
    return max(present, key=lambda field: (math.prod(field.size), field.size))


def initial_field(shape: Shape) -> Field | None:
    rank = max(len(shape) - 1, 0)
    if rank == 0:
        return None
    return Field((1,) * rank, (1,) * rank, (0.5,) * rank)


Memo = dict[tuple[int, Shape], tuple[object, Geometry, Weights, int]]
"""(id of a layer's values, input shape) -> (those values, geometry, weights, MACs)."""


def apply(
    layer: LayerSpec,
    index: int,
    shape: Shape,
    field: Field | None,
    settings: Settings,
    depth: int = 0,
    state: RunState | None = None,
    source: str = INPUT_NAME,
) -> LayerRow:
    """One layer on one input shape: its report row. ``source`` names the tensor it is
    applied to (the row that made it), which a training estimate follows.

    The copies of a repeated layer share one values mapping; on the same input shape they
    give the same results, so the run's memo computes them once (not with --explain, which
    records the working of every row).
    """
    spatial_rank = max(len(shape) - 1, 0)
    if layer.family is not None:
        layer = _at_rank(layer, shape, spatial_rank, settings, state)
    kind = layer.kind
    notes: list[str] | None = [] if settings.explain else None
    memo = state.memo if state is not None else None
    call = Call(
        kind,
        index,
        layer.name,
        layer.values,
        layer.given,
        shape,
        settings,
        notes,
        state.remarks if state is not None else None,
    )
    if kind.rank is not None and spatial_rank != kind.rank:
        batch = ""
        if spatial_rank == kind.rank + 1 and state is not None and shape == state.model_input:
            batch = (
                f" (if {shape[0]} is the batch size, leave it out of the shape and give "
                f"--batch {shape[0]})"
            )
        raise ShapeError(
            f"{call.where}: {kind.name} needs {_data(kind.rank, settings)} but its "
            f"input {show_shape(shape)} is {_data(spatial_rank, settings)}; "
            f"{_rank_fix(kind.name, kind.rank, spatial_rank)}{batch}"
        )
    _check_reading(call)
    key = (id(layer.values), shape)
    found = memo.get(key) if memo is not None and notes is None else None
    if found is not None and found[0] is layer.values:
        _, geometry, weights, macs = found
    else:
        geometry = kind.shape(call)
        check_size(f"{call.where}: its output", geometry.output, settings)
        weights = kind.weights(call, geometry)
        macs = kind.macs(call, geometry)
        if max(weights.trainable, weights.non_trainable, weights.buffers, macs) > LARGEST:
            raise call.fail(
                f"its parameters or MACs pass 2**62 (from the input {show_shape(shape)}); no "
                "network comes near that: check the sizes before it"
            )
        if memo is not None:
            memo[key] = (layer.values, geometry, weights, macs)
    trainable, frozen = weights.trainable, weights.non_trainable
    if not layer.trainable:
        trainable, frozen = 0, trainable + frozen
    row = LayerRow(
        number=index,
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
        sources=(source,),
    )
    if state is not None and state.training is not None:
        saved = state.training.layer(call, kind, geometry, row, source)
        row = row._replace(saved_bytes=saved, explain=tuple(notes) if notes is not None else ())
    return row


def _at_rank(
    layer: LayerSpec, shape: Shape, rank: int, settings: Settings, state: RunState | None
) -> LayerSpec:
    """A layer written with a rank-free name (``conv``) as its family's kind for ``rank``
    spatial axes, read again at that rank when it was read at another; a note says which
    kind was chosen when it is not the 2-D one."""
    assert layer.family is not None
    member = family_member(layer.family, rank) if rank else None
    if member is None:
        if rank == 0:
            raise ShapeError(
                f"layer {layer.row} ({layer.name}): {layer.family} needs spatial axes, but its "
                f"input {show_shape(shape)} is a flat vector; give the input its spatial "
                "axes and channels, e.g. 28 28 1 (a reshape layer does that)"
            )
        return layer  # the rank check names the kinds that exist
    if state is not None and shape == state.model_input:
        _check_typed_rank(layer, shape, rank, member.name, settings)
    if member is not layer.kind:
        key = (id(layer.raw), rank)
        cached = state.reread.get(key) if state is not None else None
        if cached is None:
            located = f"layer {layer.row} ({layer.name})"
            values, given = read_values(member, layer.raw or {}, located)
            cached = layer._replace(kind=member, values=values, given=frozenset(given))
            if state is not None:
                state.reread[key] = cached
        layer = cached
    if rank != 2 and state is not None:
        state.remarks.setdefault(
            f"rank {layer.family} {rank}",
            f"{layer.family} on the input {show_shape(shape)}, which is "
            f"{_data(rank, settings)}, is {member.name}",
        )
    return layer


def _check_typed_rank(
    layer: LayerSpec, shape: Shape, rank: int, chosen: str, settings: Settings
) -> None:
    """Refuse a rank-free layer on the typed input when the number of values reads two ways:
    four values are 3-D data or an image with its batch (a tutorial's (10, 8, 16, 3)); two
    values with more than 4 channels are 1-D data or an image without its channels (28 28)."""
    where = f"layer {layer.row} ({layer.name})"
    typed = " ".join(map(str, shape))
    if rank == 3:
        rest = " ".join(map(str, shape[1:]))
        raise ShapeError(
            f"{where}: {layer.family} on the input {typed} reads two ways: as {chosen} over "
            f"{_data(3, settings)}, or as a 2-D {layer.family} on a batch of {shape[0]}. "
            f"Without the batch, give {rest} (and --batch {shape[0]}); for {chosen}, use that "
            f"type: convcalc chain {typed} {chosen}:..."
        )
    if rank == 1 and shape[-1 if settings.layout is Layout.HWC else 0] > 4:
        image = f"{typed} 1" if settings.layout is Layout.HWC else f"1 {typed}"
        raise ShapeError(
            f"{where}: {layer.family} on the input {typed} reads two ways: as {chosen} over "
            f"{_data(1, settings)}, or as a {typed.replace(' ', 'x')} image whose channels "
            f"are missing. For an image give its channels ({image}); for {chosen}, use that "
            f"type: convcalc chain {typed} {chosen}:..."
        )


def _check_reading(call: Call) -> None:
    """What a layer's values mean that only its input can tell: the layout its data_format
    names, and whether positional values read as a PyTorch call too."""
    data_format = call.values.get("data_format")
    if data_format is not None and len(call.input) > 1:
        wanted = "channels_last" if call.channels_last else "channels_first"
        if data_format != wanted:
            layout = "chw" if data_format == "channels_first" else "hwc"
            raise call.fail(
                f"data_format {data_format} does not match the model's layout "
                f"{call.settings.layout.value} ({wanted}); convcalc reads a whole model in "
                f"one layout: set layout: {layout} in the file or --layout {layout} (and "
                "write the input in that order), or drop data_format"
            )
    stated = call.values.get(INPUT_SHAPE)
    if stated is not None and stated != call.input:
        raise call.fail(
            f"input_shape {show_shape(stated)} (typed on the layer) is not its input "  # type: ignore[arg-type]
            f"{show_shape(call.input)}: the layer takes only that shape (a model built for one "
            "input size, as a ViT is, says so there); give the model that input (the chain's "
            "SHAPE, the file's input:, --input), without the batch, or drop input_shape if it "
            "only repeats the input"
        )
    reading = call.values.get(TORCH_READING)
    if isinstance(reading, TorchReading) and call.framework is Framework.PYTORCH:
        try:
            first = WholeNumber().parse(reading.in_channels, 0)
        except Invalid:
            return
        if first == call.channels:
            raise call.fail(
                reading.message.replace(
                    " reads two ways",
                    ", whose first is the input's channel count, reads two ways",
                    1,
                )
            )


def _data(rank: int, settings: Settings) -> str:
    text = _DATA_KINDS[rank]
    if settings.layout is Layout.CHW and rank:
        text = text.replace("(L C)", "(C L)").replace("(H W C)", "(C H W)")
        text = text.replace("(D H W C)", "(C D H W)")
    return text


def _rank_fix(name: str, wanted: int, rank: int) -> str:
    """How to fix a kind meeting data of another rank: its sibling for that rank, if any."""
    reshape = f"give the input {wanted} spatial {axes_word(wanted)}"
    if rank == 0:
        return f"{reshape} and channels (a reshape layer does that), or use dense"
    sibling = re.sub(rf"{wanted}d(?=$|_)", f"{rank}d", name, count=1)
    if sibling != name and find_kind(sibling) is not None:
        return f"use {sibling}, or {reshape}"
    return reshape


def _next_field(
    call: Call, receptive: Receptive, geometry: Geometry, field: Field | None
) -> Field | None:
    """The receptive field after this layer (CONTRACT section 6): per axis, the recurrence
    ``size = size_in + (kernel-1)*jump_in; jump = jump_in*stride; start = start_in +
    ((kernel-1)/2 - pad_before)*jump_in``, written once as ``_window.RF``. Its axes are
    followed through a permute, so a conv after one slides over the axes it really slides
    over, and a dense layer on the channels (at the end after a permute) keeps it."""
    if field is None or receptive is Receptive.WHOLE:
        return None
    if receptive is Receptive.POINTWISE and geometry.order is None:
        return field  # the common case first: most layers are element-wise
    positions = _positions(field, call.settings.layout)
    if receptive is Receptive.POINTWISE:
        assert geometry.order is not None
        moved = tuple(geometry.order.index(p) for p in positions)
        return field._replace(axes=() if moved == _standard(field, call.settings.layout) else moved)
    if receptive is Receptive.LAST_AXIS:
        return field if len(call.input) - 1 not in positions else None
    if receptive is not Receptive.WINDOW:
        assert_never(receptive)
    spatial = _standard(field, call.settings.layout)
    if any(p not in positions for p in spatial[: len(geometry.windows)]):
        return None  # it slides over an axis that is none of the field's: past following
    which = [positions.index(p) for p in spatial[: len(geometry.windows)]]
    sizes, jumps, starts = list(field.size), list(field.jump), list(field.start)
    if call.notes is not None and geometry.windows:
        rank = len(sizes)
        if field == Field((1,) * rank, (1,) * rank, (0.5,) * rank):
            call.note(sliding.RF_MEANING)  # the first RF lines on the input's own field
    follow = sliding.RF.axis
    for axis, window in enumerate(geometry.windows):
        k = which[axis]
        sizes[k], jumps[k], starts[k] = follow(
            call,
            axis,
            sizes[k],
            jumps[k],
            starts[k],
            window.kernel,
            window.stride,
            window.pad_before,
        )
    if max(sizes) > LARGEST or max(jumps) > LARGEST:
        # Strides beyond any input (a stride of 2**62, repeated): the field is past counting
        # in floats, and past any real input, so it is the whole input.
        return None
    return Field(tuple(sizes), tuple(jumps), tuple(starts), field.axes)


def _standard(field: Field, layout: Layout) -> tuple[int, ...]:
    """Where a field's axes are before any permute: the layout's spatial positions."""
    rank = len(field.size)
    return tuple(range(1, rank + 1)) if layout is Layout.CHW else tuple(range(rank))


def _positions(field: Field, layout: Layout) -> tuple[int, ...]:
    return field.axes or _standard(field, layout)
