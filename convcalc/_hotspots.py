"""Hotspots: which rows hold the parameters, the MACs and the memory.

Each row's share of the model's parameters and MACs (``--percent``), the rows ranked largest
first (``--sort``), the first few (``--top``), and the rows summed per type (``--group-by``).
The functions take a report as it is shown (already folded to its depth: a folded block is one
row, ranked and grouped as one) and return a new report: its rows changed, its settings'
``view`` saying how they are shown, its notes saying what was done, so that the Python API
sees what the command line shows. Totals never change: a share is of the whole model.

Bounded memory: grouping keeps one sum per group, ``top`` at most that many rows; a full sort
of more than :data:`RUN` rows (a model of a million rows) sorts runs of RUN rows, writes them
to a temporary file and merges them, so it never holds more than a few runs' worth.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import IO

from ._report import LayerRow, Report, Rows
from ._settings import GroupBy, Measure, Settings, View, assert_never

RUN = 20_000
"""Rows sorted in memory at once; more are sorted in runs and merged."""

BLOCK = 512
"""Rows a run writes (and reads back) together."""


def percent(part: int, whole: int) -> float | None:
    """``part`` as a percentage of ``whole``, unrounded; None when the whole is 0 (a model
    without MACs has no shares of them)."""
    return None if whole == 0 else 100 * part / whole


def shares(row: LayerRow, report: Report) -> tuple[float | None, float | None]:
    """A row's share of the model's parameters and of its MACs, in percent."""
    totals = report.totals
    return percent(row.params, totals.params), percent(row.macs, totals.macs)


def row_memory(row: LayerRow, settings: Settings) -> int:
    """Bytes a row accounts for: its parameters and buffers and its output for the whole batch
    (over every layer, the totals' parameter and activation memory); with ``--train`` its part
    of the training step instead: weights, buffers, gradients and optimizer state of its
    parameters and the activations saved for it (over every layer, the training memory).

    A folded block counts its output, not the outputs inside it (with ``--train``, everything:
    what its layers save is summed into it)."""
    if settings.train is not None:
        state = settings.train.state_per_param
        weights = row.params + row.buffers + row.trainable_params * (1 + state)
        return weights * settings.weight_bytes + (row.saved_bytes or 0)
    output = math.prod(row.output_shape) * (settings.batch or 1)
    return (row.params + row.buffers + output) * settings.dtype.bytes


def total_memory(report: Report) -> int:
    """The model's memory, of which :func:`row_memory` is each row's part: parameter and
    activation memory; with ``--train``, the training step's."""
    totals = report.totals
    if report.settings.train is not None and totals.training is not None:
        return totals.training.total
    return totals.param_bytes + totals.activation_bytes


def measure(by: Measure, settings: Settings) -> Callable[[LayerRow], int]:
    """The figure rows are ranked (``--sort``) or shaded (``--color-by``) by."""
    if by is Measure.PARAMS:
        return lambda row: row.params
    elif by is Measure.MACS:
        return lambda row: row.macs
    elif by is Measure.MEMORY:
        return lambda row: row_memory(row, settings)
    else:
        assert_never(by)


def total(by: Measure, report: Report) -> int:
    """The model's total of what ``by`` measures: a row's share is of this."""
    if by is Measure.PARAMS:
        return report.totals.params
    elif by is Measure.MACS:
        return report.totals.macs
    elif by is Measure.MEMORY:
        return total_memory(report)
    else:
        assert_never(by)


WHAT = {Measure.PARAMS: "parameters", Measure.MACS: "MACs", Measure.MEMORY: "memory"}
"""How notes and legends name what a :class:`Measure` measures."""


def hotspots(report: Report, view: View) -> Report:
    """The report shown as ``view`` asks: grouped, then ranked, then cut to the top rows (top
    alone ranks by MACs). Its settings' ``view`` records it, for the renderers."""
    if view.group_by is not None:
        report = grouped(report, view.group_by)
    sort = view.sort or (Measure.MACS if view.top is not None else None)
    if sort is not None:
        report = ranked(report, sort, view.top)
    return _viewed(report, report.settings.view._replace(percent=view.percent))


def check_drawable(report: Report) -> None:
    """Refuse to draw a report whose rows are not the network's in execution order: groups
    and ranked rows have no edges between them (every diagram format checks this)."""
    view = report.settings.view
    if view.group_by is not None or view.sort is not None or view.top is not None:
        from ._errors import SpecError

        raise SpecError(
            "a diagram draws the network's rows in order, with their edges; these rows are "
            "grouped or ranked (--group-by, --sort, --top): leave those out to draw it"
        )


def _viewed(report: Report, view: View) -> Report:
    """The report shown as ``view``."""
    return report._replace(settings=report.settings._replace(view=view))


def ranked(report: Report, by: Measure, top: int | None = None) -> Report:
    """The rows largest first by ``by`` (rows that tie keep their order), only the first
    ``top`` when given, and a note saying so: with ``top``, the share the rows kept hold."""
    count = len(report.layers)
    rows = _largest(report.layers, measure(by, report.settings), top)
    notes = [f"rows sorted by {WHAT[by]}, largest first"]
    if by is Measure.MEMORY:
        memory = (
            "weights, buffers, gradients and optimizer state of its parameters and the "
            "activations saved for it"
            if report.settings.train is not None
            else "its parameters and buffers and its output"
        )
        notes[0] += f" (a row's memory: {memory})"
    if top is not None and top < count:
        held = _held(rows, report, by)
        notes.append(f"the top {len(rows):,} of {count:,} rows by {WHAT[by]}{held}")
    report = report._replace(layers=rows, notes=(*report.notes, *notes))
    return _viewed(report, report.settings.view._replace(sort=by, top=top))


def _held(rows: Iterable[LayerRow], report: Report, by: Measure) -> str:
    """`` hold 81.2% of the MACs and 40.3% of the parameters``: the shares some rows hold,
    first of what they were ranked by (by memory: `` hold 35.0% of the memory, 2.1% of the
    MACs and 60.3% of the parameters``)."""
    params = macs = memory = 0
    for row in rows:
        params += row.params
        macs += row.macs
        if by is Measure.MEMORY:
            memory += row_memory(row, report.settings)
    parts = [
        (percent(macs, report.totals.macs), "MACs"),
        (percent(params, report.totals.params), "parameters"),
    ]
    if by is Measure.PARAMS:
        parts.reverse()
    elif by is Measure.MEMORY:
        parts.insert(0, (percent(memory, total_memory(report)), "memory"))
    said = [f"{share_text(share)}% of the {what}" for share, what in parts if share is not None]
    if not said:
        return ""
    listed = said[0] if len(said) == 1 else f"{', '.join(said[:-1])} and {said[-1]}"
    return f" hold {listed}"


def share_text(share: float | None) -> str:
    """A share as people read it: one decimal, never a rounded-up 100 or a rounded-down 0
    (``99.9``, ``<0.1``), ``0`` for nothing and ``-`` for no share at all (a whole of 0)."""
    if share is None:
        return "-"
    if share == 0:
        return "0"
    text = f"{share:.1f}"
    if text == "100.0" and share < 100:
        return "99.9"
    if text == "0.0":
        return "<0.1"
    return text


def share_figure(share: float | None) -> float | None:
    """A share for JSON and CSV: four decimals (a thousandth of a percent would not change a
    decision), None for no share at all."""
    return None if share is None else round(share, 4)


def grouped(report: Report, by: GroupBy) -> Report:
    """One row per group, in the order each first appears, summing its rows' parameters,
    MACs, buffers, saved activations and output elements, and a note saying so.

    A group is a :class:`LayerRow` named by its group (the type), whose ``number`` is how many
    rows it sums and whose ``output_shape`` is one axis, its rows' output elements (so that
    :func:`row_memory` sums as the rows do); it has no input, receptive field or sources."""
    sums: dict[str, list[int]] = {}
    count = 0
    for row in report.layers:
        count += 1
        group = sums.setdefault(_key(row, by), [0, 0, 0, 0, 0, 0, 0])
        group[0] += 1
        group[1] += row.trainable_params
        group[2] += row.non_trainable_params
        group[3] += row.macs
        group[4] += row.buffers
        group[5] += math.prod(row.output_shape)
        group[6] += row.saved_bytes or 0
    training = report.settings.train is not None
    rows = tuple(
        LayerRow(
            number=members,
            name=key,
            type=key,
            input_shape=(),
            output_shape=(elements,),
            trainable_params=trainable,
            non_trainable_params=frozen,
            macs=macs,
            receptive_field=None,
            buffers=buffers,
            saved_bytes=saved if training else None,
        )
        for key, (members, trainable, frozen, macs, buffers, elements, saved) in sums.items()
    )
    note = (
        f"{count:,} rows grouped by {by.value} into {len(rows):,}, each with the count of rows "
        "it sums"
    )
    report = report._replace(layers=rows, notes=(*report.notes, note))
    return _viewed(report, report.settings.view._replace(group_by=by))


def _key(row: LayerRow, by: GroupBy) -> str:
    if by is GroupBy.TYPE:
        return row.type
    else:
        assert_never(by)


# -- sorting in bounded memory ------------------------------------------------------------------


def _largest(
    rows: Iterable[LayerRow], key: Callable[[LayerRow], int], top: int | None
) -> Sequence[LayerRow]:
    """The rows largest first by ``key``, ties in their order; the first ``top`` only when
    given. A few rows are sorted in memory; past RUN, runs of RUN rows are sorted, written to
    a temporary file and merged, and the result is a :class:`Rows` (which spills in turn)."""
    if top is not None and top <= RUN:
        return tuple(heapq.nlargest(top, rows, key=key))  # as sorted(reverse=True)[:top]: stable
    stream = iter(rows)
    run = list(itertools.islice(stream, RUN))
    run.sort(key=key, reverse=True)
    if len(run) < RUN:
        return tuple(run[:top])
    import tempfile  # only a long sort spills

    with tempfile.TemporaryFile() as file:
        runs = [_write(file, run)]
        while run := list(itertools.islice(stream, RUN)):
            runs.append(_write(file, sorted(run, key=key, reverse=True)))
        del run
        merged = heapq.merge(*(_read(file, starts) for starts in runs), key=key, reverse=True)
        found = Rows()
        for row in itertools.islice(merged, top):  # merge takes the earlier run first on ties
            found.append(row)
        return found.frozen()


def _write(file: IO[bytes], run: list[LayerRow]) -> list[int]:
    """Write one sorted run at the end of ``file`` in blocks; where each block starts."""
    import pickle

    file.seek(0, 2)
    starts = []
    for start in range(0, len(run), BLOCK):
        starts.append(file.tell())
        pickle.dump(run[start : start + BLOCK], file, protocol=pickle.HIGHEST_PROTOCOL)
    return starts


def _read(file: IO[bytes], starts: list[int]) -> Iterator[LayerRow]:
    """One run back, a block at a time (each read seeks: the merge interleaves the runs)."""
    import pickle

    for start in starts:
        file.seek(start)
        block: list[LayerRow] = pickle.load(file)
        yield from block
