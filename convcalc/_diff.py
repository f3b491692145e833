"""Two reports compared: settings and totals side by side, and the rows that differ.

``convcalc diff A B`` (two models) and ``convcalc diff A --vs-input 320x320`` (one model at two
settings) both come here as two finished reports. Totals are compared figure by figure (B − A
and B / A); rows are matched by name (names are unique dotted paths), and a row is listed when
it is only in A, only in B, or in both with a different type, output shape, parameter count,
MACs or memory. A row's memory is :func:`._hotspots.row_memory`'s, as ``--sort memory`` counts
it. Renderers read a :class:`Diff` and compute nothing of their own.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple

from ._hotspots import row_memory
from ._kind import Shape
from ._report import LayerRow, Report, Training, fold
from ._settings import Settings


class Side(NamedTuple):
    """One of the two things compared: where it came from, its settings, its input and output."""

    label: str
    """What the user gave for it (``zoo:resnet50``, a path, ``standard input``), or A / B."""
    name: str | None
    """The model's own name, when it has one."""
    settings: Settings
    input_shape: Shape
    output_shape: Shape

    def values(self) -> dict[str, object]:
        """The compared settings, JSON-ready, in the order they are shown."""
        settings = self.settings
        return {
            "framework": settings.framework.value,
            "layout": settings.layout.value,
            "batch": settings.batch,
            "dtype": settings.dtype.value,
            "train": None if settings.train is None else settings.train.value,
            "amp": settings.amp,
            "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
        }

    def to_dict(self) -> dict[str, object]:
        return {"label": self.label, "name": self.name, **self.values()}


class Figure(NamedTuple):
    """One total in A and in B (None on a side that has no such figure: training without
    ``--train``)."""

    key: str
    """The JSON key: ``params``, ``macs``, ``activation_bytes``, ..."""
    a: int | None
    b: int | None

    @property
    def difference(self) -> int | None:
        """B − A; None when a side lacks the figure."""
        if self.a is None or self.b is None:
            return None
        return self.b - self.a

    @property
    def ratio(self) -> float | None:
        """B / A; None when a side lacks the figure or A is 0."""
        if self.a is None or self.b is None or self.a == 0:
            return None
        return self.b / self.a

    def to_dict(self) -> dict[str, object]:
        return {"a": self.a, "b": self.b, "difference": self.difference, "ratio": self.ratio}


TOTALS = (
    "params",
    "trainable_params",
    "non_trainable_params",
    "macs",
    "flops",
    "param_bytes",
    "activation_bytes",
)
"""The totals every report has, as ``Totals.to_dict`` names them."""

TRAINING = ("training_memory", "saved_activations", "training_macs")
"""The totals of a training step (``--train``): its memory, what autograd keeps, its MACs."""


class RowFigures(NamedTuple):
    """What is compared of one row."""

    number: int
    """Its position in its own report, from 1 (the JSON's ``index``)."""
    type: str
    output_shape: Shape
    params: int
    trainable_params: int
    macs: int
    memory_bytes: int
    """Its memory as ``--sort memory`` counts it (:func:`._hotspots.row_memory`): its
    parameters and buffers and its output, the whole batch, in bytes; with ``--train``, its
    part of the training step. Over every layer, the rows' sum is the parameter and activation
    memory (with ``--train``, the training memory, at any depth)."""
    saved_bytes: int | None
    """With ``--train``: what autograd keeps for it; else None."""

    def to_dict(self) -> dict[str, object]:
        found: dict[str, object] = {
            "index": self.number,
            "type": self.type,
            "output_shape": list(self.output_shape),
            "params": self.params,
            "trainable_params": self.trainable_params,
            "macs": self.macs,
            "memory_bytes": self.memory_bytes,
        }
        if self.saved_bytes is not None:
            found["saved_bytes"] = self.saved_bytes
        return found


COMPARED = RowFigures._fields[1:]
"""The fields of a row that make it differ (its number does not: a row may move)."""


def row_figures(row: LayerRow, settings: Settings) -> RowFigures:
    return RowFigures(
        number=row.number,
        type=row.type,
        output_shape=row.output_shape,
        params=row.params,
        trainable_params=row.trainable_params,
        macs=row.macs,
        memory_bytes=row_memory(row, settings),
        saved_bytes=row.saved_bytes,
    )


class RowStatus(str, enum.Enum):
    """How a row differs."""

    ONLY_A = "only_a"
    """No row of B has its name."""
    ONLY_B = "only_b"
    """No row of A has its name."""
    CHANGED = "changed"
    """In both, with some figure different."""


class RowDiff(NamedTuple):
    """A row that differs: its name, its figures in A and in B, and which of them differ."""

    name: str
    a: RowFigures | None
    b: RowFigures | None
    differs: tuple[str, ...]
    """The fields of :class:`RowFigures` that differ (none for a row on one side only: its
    status says it)."""

    @property
    def status(self) -> RowStatus:
        if self.b is None:
            return RowStatus.ONLY_A
        if self.a is None:
            return RowStatus.ONLY_B
        return RowStatus.CHANGED

    def change(self, key: str) -> int:
        """B − A of a numeric field, a missing row counting 0: the sums over the rows listed
        are the totals' differences."""
        after = 0 if self.b is None else getattr(self.b, key) or 0
        before = 0 if self.a is None else getattr(self.a, key) or 0
        return int(after) - int(before)

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "status": self.status.value,
            "differs": list(self.differs),
            "a": None if self.a is None else self.a.to_dict(),
            "b": None if self.b is None else self.b.to_dict(),
        }


class Diff(NamedTuple):
    """Two reports compared."""

    a: Side
    b: Side
    totals: tuple[Figure, ...]
    """:data:`TOTALS`, then (when either side trains) :data:`TRAINING`."""
    rows: tuple[RowDiff, ...]
    """The rows that differ, in execution order (A's rows where B has none, in A's place)."""
    a_rows: int
    """Rows A has, at the depth compared."""
    b_rows: int
    depth: int | None = None
    """The depth both were folded to (None: every layer compared)."""
    notes: tuple[str, ...] = ()
    """The reports' notes (``A: ``, ``B: `` before one only one side has), and the caller's."""

    @property
    def settings_differ(self) -> tuple[str, ...]:
        """The compared settings (``Side.values``) whose values differ."""
        a, b = self.a.values(), self.b.values()
        return tuple(key for key in a if a[key] != b[key])

    @property
    def same(self) -> bool:
        """Whether nothing differs: settings, totals and every row (labels and names aside)."""
        return (
            not self.rows
            and not self.settings_differ
            and all(figure.a == figure.b for figure in self.totals)
        )

    def to_dict(self) -> dict[str, object]:
        """The JSON of ``convcalc diff --format json``."""
        return {
            "a": self.a.to_dict(),
            "b": self.b.to_dict(),
            "same": self.same,
            "settings_differ": list(self.settings_differ),
            "totals": {figure.key: figure.to_dict() for figure in self.totals},
            "a_rows": self.a_rows,
            "b_rows": self.b_rows,
            "depth": self.depth,
            "rows": [row.to_dict() for row in self.rows],
            "notes": list(self.notes),
        }


def diff(
    a: Report,
    b: Report,
    *,
    labels: tuple[str, str] = ("A", "B"),
    depth: int | None = None,
    notes: Sequence[str] = (),
) -> Diff:
    """``a`` and ``b`` compared, both folded to ``depth`` first when it is given (totals do not
    change with folding; rows are matched by their names at that depth)."""
    if depth is not None and depth >= 0:
        a, b = fold(a, depth), fold(b, depth)
    else:
        depth = None
    rows = tuple(_differing(a, b))
    return Diff(
        a=_side(a, labels[0]),
        b=_side(b, labels[1]),
        totals=_totals(a, b),
        rows=rows,
        a_rows=len(a.layers),
        b_rows=len(b.layers),
        depth=depth,
        notes=(*_merged_notes(a.notes, b.notes), *notes),
    )


def fitting_depth(a: Report, b: Report, limit: int) -> int | None:
    """The deepest depth at which at most ``limit`` rows differ; None when they already fit
    unfolded (or nothing is nested), 0 when none fits."""
    if len(tuple(_differing(a, b))) <= limit:
        return None
    deepest = max((row.depth for report in (a, b) for row in report.layers), default=0)
    for depth in range(deepest - 1, -1, -1):
        if len(tuple(_differing(fold(a, depth), fold(b, depth)))) <= limit:
            return depth
    return 0 if deepest else None


def _side(report: Report, label: str) -> Side:
    return Side(label, report.name, report.settings, report.input_shape, report.output_shape)


def _totals(a: Report, b: Report) -> tuple[Figure, ...]:
    first, second = a.totals.to_dict(), b.totals.to_dict()
    figures = [Figure(key, _int(first[key]), _int(second[key])) for key in TOTALS]
    if a.totals.training is not None or b.totals.training is not None:
        pairs = zip(_training(a.totals.training), _training(b.totals.training), strict=True)
        figures += [Figure(key, x, y) for key, (x, y) in zip(TRAINING, pairs, strict=True)]
    return tuple(figures)


def _training(training: Training | None) -> tuple[int | None, ...]:
    """:data:`TRAINING`'s figures of one side (None each without ``--train``)."""
    if training is None:
        return (None,) * len(TRAINING)
    return (training.total, training.saved_activations, training.macs)


def _int(value: object) -> int:
    assert isinstance(value, int)
    return value


def _differing(a: Report, b: Report) -> Iterator[RowDiff]:
    """The rows that differ, A's and B's matched by name, in B's order with each row only in
    A placed before the first row after it that both have."""
    theirs = {row.name: row for row in b.layers}
    order = {row.name: number for number, row in enumerate(a.layers)}
    mine = list(a.layers)
    done = 0  # A's rows before this one have been placed

    def only_a(upto: int) -> Iterator[RowDiff]:
        for row in mine[done:upto]:
            if row.name not in theirs:
                yield RowDiff(row.name, row_figures(row, a.settings), None, ())

    for row in b.layers:
        position = order.get(row.name)
        after = row_figures(row, b.settings)
        if position is None:
            yield RowDiff(row.name, None, after, ())
            continue
        if position >= done:
            yield from only_a(position)
            done = position + 1
        before = row_figures(mine[position], a.settings)
        differs = tuple(key for key in COMPARED if getattr(before, key) != getattr(after, key))
        if differs:
            yield RowDiff(row.name, before, after, differs)
    yield from only_a(len(mine))


def _merged_notes(first: Iterable[str], second: Iterable[str]) -> list[str]:
    """Notes both reports make, once; then those of one side, saying which."""
    a, b = list(dict.fromkeys(first)), list(dict.fromkeys(second))
    both = [note for note in a if note in b]
    return [
        *both,
        *(f"A: {note}" for note in a if note not in both),
        *(f"B: {note}" for note in b if note not in both),
    ]
