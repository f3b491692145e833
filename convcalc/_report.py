"""What an analysis returns: one row per layer and the totals, as frozen values.

``Report.to_dict()`` is exactly the JSON of CONTRACT section 6; renderers read these values and
never compute anything of their own.
"""

from __future__ import annotations

import pickle
import tempfile
import weakref
from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import IO, NamedTuple, overload

from ._kind import Shape
from ._settings import Settings


class Field(NamedTuple):
    """The receptive field of one output position, per spatial axis."""

    size: tuple[int, ...]
    """How many input positions it sees."""
    jump: tuple[int, ...]
    """Input positions between neighbouring outputs."""
    start: tuple[float, ...]
    """Centre of the first output's field, in input coordinates (the first pixel spans 0..1)."""
    axes: tuple[int, ...] = ()
    """Where each of its axes is in the tensor now, when a permute has moved them (empty: at
    the layout's spatial positions, C H W's 1, 2 or H W C's 0, 1)."""

    def to_dict(self) -> dict[str, list[int] | list[float]]:
        return {"size": list(self.size), "jump": list(self.jump), "start": list(self.start)}


INPUT_SOURCE = "the model's input"
"""The source of a row that takes the model's input (see ``LayerRow.sources``)."""


class LayerRow(NamedTuple):
    """One reported layer."""

    number: int
    """Position in execution order, from 1 (the JSON's ``index``)."""
    name: str
    type: str
    input_shape: Shape
    output_shape: Shape
    trainable_params: int
    non_trainable_params: int
    macs: int
    receptive_field: Field | None
    """None once an output may see the whole input (after flatten or dense)."""
    depth: int = 0
    """Nesting level: 0 at the top."""
    buffers: int = 0
    """Elements stored beside the parameters (PyTorch batchnorm running statistics)."""
    explain: tuple[str, ...] = ()
    """The working, when asked for."""
    input_shapes: tuple[Shape, ...] = ()
    """A merge's inputs, one per path (empty for a layer)."""
    saved_bytes: int | None = None
    """With --train: bytes this row adds to what autograd keeps for the backward pass (the
    whole batch); a tensor kept by several rows counts at the first. None without --train."""
    sources: tuple[str, ...] = ()
    """The names of the rows whose outputs it takes, in order (``INPUT_SOURCE`` for the model's
    input): the edges of a diagram of the network."""

    @property
    def params(self) -> int:
        return self.trainable_params + self.non_trainable_params

    def to_dict(self, explain: bool = False) -> dict[str, object]:
        row: dict[str, object] = {
            "index": self.number,
            "name": self.name,
            "type": self.type,
            "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
            "params": self.params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
            "macs": self.macs,
            "receptive_field": self.receptive_field.to_dict() if self.receptive_field else None,
            "depth": self.depth,
        }
        if self.input_shapes:
            row["input_shapes"] = [list(shape) for shape in self.input_shapes]
        if self.saved_bytes is not None:
            row["saved_bytes"] = self.saved_bytes
        if explain:
            row["explain"] = list(self.explain)
        return row


class Fit(NamedTuple):
    """The answer to ``--fit``: the largest batch whose memory fits a budget."""

    budget: int
    """Bytes."""
    batch: int
    """The largest batch that fits (0: not even one sample)."""
    total: int
    """Bytes at that batch (at batch 1 when none fits)."""
    training: bool = False
    """Whether the memory is a training step's (--train), else inference's."""

    def to_dict(self) -> dict[str, int]:
        return {"budget": self.budget, "batch": self.batch, "total": self.total}


class Training(NamedTuple):
    """What a training step holds and computes (``--train``): bytes, and MACs per sample."""

    weights: int
    """Parameters, trainable or not."""
    buffers: int
    """PyTorch's buffers (batchnorm running statistics)."""
    gradients: int
    """One gradient per trainable parameter."""
    optimizer_state: int
    saved_activations: int
    """What autograd keeps for the backward pass, the whole batch."""
    macs: int
    """Forward and backward MACs, per sample."""

    @property
    def total(self) -> int:
        return (
            self.weights
            + self.buffers
            + self.gradients
            + self.optimizer_state
            + self.saved_activations
        )

    def to_dict(self) -> dict[str, int]:
        return {
            "weights": self.weights,
            "buffers": self.buffers,
            "gradients": self.gradients,
            "optimizer_state": self.optimizer_state,
            "saved_activations": self.saved_activations,
            "total": self.total,
            "macs": self.macs,
        }


class Totals(NamedTuple):
    """Sums over the whole model."""

    params: int
    trainable_params: int
    non_trainable_params: int
    macs: int
    param_bytes: int
    """Parameters, plus PyTorch batchnorm buffers, times bytes per element."""
    activation_bytes: int
    """Every layer's output elements, times the batch (1 when none), times bytes per element."""
    training: Training | None = None
    """With --train: a training step's memory and MACs."""
    buffers: int = 0
    """Elements stored beside the parameters (PyTorch batchnorm running statistics), whose
    bytes ``param_bytes`` includes."""

    @property
    def flops(self) -> int:
        return 2 * self.macs

    def to_dict(self) -> dict[str, object]:
        found: dict[str, object] = {
            "params": self.params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
            "macs": self.macs,
            "flops": self.flops,
            "param_bytes": self.param_bytes,
            "activation_bytes": self.activation_bytes,
        }
        if self.training is not None:
            found["training"] = self.training.to_dict()
        return found


class Report(NamedTuple):
    """A whole analysis: settings, every layer in execution order, and totals."""

    name: str | None
    settings: Settings
    input_shape: Shape
    output_shape: Shape
    layers: Sequence[LayerRow]
    totals: Totals
    scopes: Mapping[str, str] = MappingProxyType({})
    """Dotted path of every block use and construct -> its type (``basic``, ``residual``)."""
    notes: tuple[str, ...] = ()
    """Things the user should know about how the input was read (a layout that looks swapped,
    a rank chosen from the shape, a dense layer on a non-flat input): one sentence each."""
    fit: Fit | None = None
    """With --fit: the largest batch whose memory fits the budget (the report is at it)."""

    def to_dict(self) -> dict[str, object]:
        """The JSON object of CONTRACT section 6 (keys may be added, never renamed)."""
        settings = self.settings
        return {
            "name": self.name,
            "framework": settings.framework.value,
            "layout": settings.layout.value,
            "batch": settings.batch,
            "dtype": settings.dtype.value,
            "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
            "layers": [row.to_dict(settings.explain) for row in self.layers],
            "totals": self.totals.to_dict(),
            "notes": list(self.notes),
            **({"fit": self.fit.to_dict()} if self.fit is not None else {}),
        }


def fold(report: Report, depth: int) -> Report:
    """The report with rows nested deeper than ``depth`` folded into their block's row.

    A folded row takes the block's dotted name and type, the first row's input, the last row's
    output and receptive field, and the sums of parameters, MACs and buffers. Totals are the
    same: folding changes what is shown, not what is counted.
    """
    rows = Rows()
    group: list[LayerRow] = []
    prefix = ""

    def flush() -> None:
        if group:
            rows.append(_folded(group, prefix, _scope_type(report.scopes, prefix), depth))
            group.clear()

    for row in report.layers:
        if row.depth <= depth:
            flush()
            rows.append(row._replace(sources=_sources_at(row.sources, depth)))
            continue
        head = ".".join(row.name.split(".")[: depth + 1])
        if head != prefix:
            flush()
            prefix = head
        group.append(row)
    flush()
    return report._replace(layers=rows.frozen())


SCOPED = ("residual", "branches", "split", "shortcut")
"""The constructs (and the residual's shortcut) a row can be nested in, besides blocks."""


def _scope_type(scopes: Mapping[str, str], path: str) -> str:
    """What a folded path is: as recorded, else a construct by its default name
    (``residual_12``: the model language keeps only so many construct paths), else a block."""
    found = scopes.get(path)
    if found is not None:
        return found
    label = path.rpartition(".")[2]
    base, _, number = label.rpartition("_")
    if label in SCOPED or (number.isdigit() and base in SCOPED):
        return base if number.isdigit() and base in SCOPED else label
    return "block"


def _sources_at(sources: tuple[str, ...], depth: int) -> tuple[str, ...]:
    """Sources named as they are shown at ``depth``: a row folded into its block's row is
    that row (its dotted path cut to ``depth`` + 1 parts)."""
    if not any(source.count(".") > depth for source in sources):
        return sources
    return tuple(
        dict.fromkeys(
            source if source == INPUT_SOURCE else ".".join(source.split(".")[: depth + 1])
            for source in sources
        )
    )


def _folded(group: list[LayerRow], name: str, kind: str, depth: int) -> LayerRow:
    first, last = group[0], group[-1]
    outside = (
        source for row in group for source in _sources_at(row.sources, depth) if source != name
    )
    return LayerRow(
        number=first.number,
        name=name,
        type=kind,
        input_shape=first.input_shape,
        output_shape=last.output_shape,
        trainable_params=sum(row.trainable_params for row in group),
        non_trainable_params=sum(row.non_trainable_params for row in group),
        macs=sum(row.macs for row in group),
        receptive_field=last.receptive_field,
        depth=depth,
        buffers=sum(row.buffers for row in group),
        explain=tuple(line for row in group for line in (f"{row.name}:", *row.explain)),
        saved_bytes=None
        if first.saved_bytes is None
        else sum(row.saved_bytes or 0 for row in group),
        sources=tuple(dict.fromkeys(outside)),
    )


# -- rows in bounded memory ---------------------------------------------------------------------
# A network has a few hundred rows, and they stay in memory (a report holds a plain tuple). A
# model that expands to a million rows (the limit, ``_model.MAX_ROWS``) would hold them all
# several times over; :class:`Rows` instead writes every further CHUNK rows to an anonymous
# temporary file (pickled: the file is this process's own, and deleted when closed) and reads
# them back a chunk at a time whenever it is iterated, as often as a renderer needs (a table
# goes over its rows once for the widths and once to print them). Memory then stays near what
# KEPT rows take, whatever the model's size.

KEPT = 20_000
"""Rows kept in memory before any is written out: more than any real network has."""

CHUNK = 4_096
"""Rows written (and read back) together once past :data:`KEPT`."""


class Rows(Sequence[LayerRow]):
    """An append-only sequence of rows that spills to a temporary file past :data:`KEPT`."""

    def __init__(self) -> None:
        self._head: list[LayerRow] = []
        self._tail: list[LayerRow] = []
        """Rows past KEPT not yet written out (fewer than CHUNK)."""
        self._file: IO[bytes] | None = None
        self._offsets: list[int] = []
        """Where each written chunk starts in the file."""
        self._count = 0

    def append(self, row: LayerRow) -> None:
        self._count += 1
        if len(self._head) < KEPT:
            self._head.append(row)
            return
        self._tail.append(row)
        if len(self._tail) == CHUNK:
            self._write()

    def _write(self) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile()
            weakref.finalize(self, self._file.close)  # closed (and so deleted) with the rows
        self._file.seek(0, 2)
        self._offsets.append(self._file.tell())
        pickle.dump(self._tail, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self._tail = []

    def _chunk(self, number: int) -> list[LayerRow]:
        assert self._file is not None
        self._file.seek(self._offsets[number])  # each read seeks: iterations may interleave
        chunk: list[LayerRow] = pickle.load(self._file)
        return chunk

    @property
    def spilled(self) -> bool:
        """Whether some rows are in the file (else :meth:`frozen` is a plain tuple)."""
        return self._file is not None

    def frozen(self) -> Sequence[LayerRow]:
        """What a report holds: a tuple when everything is in memory, else this sequence."""
        return self if self.spilled else tuple(self._head + self._tail)

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[LayerRow]:
        yield from self._head
        for number in range(len(self._offsets)):
            yield from self._chunk(number)
        yield from self._tail

    @overload
    def __getitem__(self, index: int) -> LayerRow: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[LayerRow]: ...

    def __getitem__(self, index: int | slice) -> LayerRow | Sequence[LayerRow]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._count))]
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError("row index out of range")
        if index < len(self._head):
            return self._head[index]
        index -= len(self._head)
        written = len(self._offsets) * CHUNK
        if index >= written:
            return self._tail[index - written]
        return self._chunk(index // CHUNK)[index % CHUNK]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or len(other) != self._count:
            return False
        return all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        where = "partly in a temporary file" if self.spilled else "in memory"
        return f"<{self._count:,} rows, {where}>"
