"""Which input sizes a model accepts: ``convcalc sizes``.

For each spatial axis, the model is walked at every size of a range with the other axes held at
its input's, exactly as ``convcalc model --input`` would walk it (the same walker, which
remembers what it read, so only the arithmetic is redone): a size is listed if and only if the
model accepts it. Merges count as everywhere else: a UNet whose skips are concatenated accepts
only the sizes at which every merge's inputs agree.
"""

from __future__ import annotations

from typing import NamedTuple

from ._engine import Memo, RunState, initial_field
from ._errors import ConvCalcError, SpecError
from ._kind import Shape
from ._model import SPATIAL_NAMES, ModelSpec, Tensor, Walker, check_min_input, replay
from ._settings import Layout

MAX_SPAN = 100_000
"""Sizes tried per axis at most: a range wider than this is refused."""

MAX_WORK = 4_000_000
"""Layers applied in all (sizes tried, times axes, times the model's rows) at most: some
seconds of work; a wider range on a bigger model is refused with the range that fits."""


class AxisSizes(NamedTuple):
    """What one spatial axis accepts over the range tried."""

    axis: str
    """``H``, ``W``, ``L`` or ``D``."""
    position: int
    """Its position in the input shape (the layout's order)."""
    valid: tuple[int, ...]
    """Every size accepted, in order."""
    outputs: tuple[tuple[int, Shape], ...]
    """(size, the model's output shape) for each accepted size."""
    summary: str
    """The set as a person would say it: "every multiple of 32 from 32", "from 29"."""
    refusals: tuple[tuple[int, str], ...] = ()
    """Why some sizes are refused, for --explain: the largest below the smallest accepted,
    and the first refused above it (each with the walk's own message)."""

    @property
    def minimum(self) -> int | None:
        return self.valid[0] if self.valid else None

    def to_dict(self, examples: int = 5) -> dict[str, object]:
        return {
            "axis": self.axis,
            "position": self.position,
            "min": self.minimum,
            "valid": list(self.valid),
            "summary": self.summary,
            "outputs": [
                {"input": size, "output_shape": list(shape)}
                for size, shape in _examples(self.outputs, examples)
            ],
            "refusals": [{"input": size, "reason": reason} for size, reason in self.refusals],
        }


def accepted_sizes(model: ModelSpec, low: int = 1, high: int = 1024) -> list[AxisSizes]:
    """Every spatial axis of ``model``'s input, each tried at every size from ``low`` to
    ``high`` (the others held)."""
    if not 1 <= low <= high or high - low + 1 > MAX_SPAN:
        raise SpecError(
            f"--range {low}-{high} is not valid: give LO-HI with 1 <= LO <= HI and at most "
            f"{MAX_SPAN:,} sizes, e.g. --range 1-1024"
        )
    shape = model.input
    rank = len(shape) - 1
    if rank not in SPATIAL_NAMES:
        raise SpecError(
            f"the model's input {list(shape)} has no spatial axes to vary: sizes needs 1-D, "
            "2-D or 3-D data (a flat vector has only its features)"
        )
    first = 1 if model.settings.layout is Layout.CHW else 0
    walker = Walker(model.blocks, rank, RunState(model.settings, shape), model.params)
    start = Tensor(shape, initial_field(shape), "the model's input")
    if walker.reads_sizes():
        program = None
        walker.read_model(model.layers, start)  # what it reads is remembered
        rows = walker.rows
    else:
        program = walker.record(model.layers, start)
        rows = len(program.ops)
    work = (high - low + 1) * rank * max(rows, 1)
    if work > MAX_WORK:
        fits = max(MAX_WORK // (rank * max(rows, 1)), 1)
        raise SpecError(
            f"--range {low}-{high} is too wide for this model: {high - low + 1:,} sizes on "
            f"{rank} axes of {rows:,} rows is {work:,} layers to apply, over the {MAX_WORK:,} "
            f"convcalc allows (some seconds); try --range {low}-{low + fits - 1}"
        )
    found = []
    memo: Memo = {}
    for number, name in enumerate(axis[0].upper() for axis in SPATIAL_NAMES[rank]):
        index = first + number
        outputs: list[tuple[int, Shape]] = []
        below: tuple[int, str] | None = None
        above: tuple[int, str] | None = None
        for size in range(low, high + 1):
            tried = shape[:index] + (size,) + shape[index + 1 :]
            state = RunState(model.settings, tried)
            state.memo = memo  # a layer meets the same shape at many sizes: worked out once
            try:
                check_min_input(model, tried)
                if program is not None:  # the model's structure is the same at every size
                    out = replay(program, tried, state)
                else:  # its blocks read their inputs' sizes: walked again
                    first_tensor = Tensor(tried, initial_field(tried), "the model's input")
                    out = walker.again(model.layers, first_tensor, state)
            except (ConvCalcError, RecursionError) as problem:
                if not outputs:
                    below = (size, str(problem))
                elif above is None:
                    above = (size, str(problem))
                continue
            outputs.append((size, out.shape))
        valid = tuple(size for size, _ in outputs)
        reasons = tuple(refusal for refusal in (below, above) if refusal is not None)
        found.append(
            AxisSizes(name, index, valid, tuple(outputs), describe(valid, low, high), reasons)
        )
    return found


def describe(valid: tuple[int, ...], low: int, high: int) -> str:
    """A set of sizes as a person would say it, within ``low``..``high``."""
    if not valid:
        return f"none from {low} to {high}"
    first = valid[0]
    if len(valid) == 1:
        return f"only {first}"
    if valid == tuple(range(first, high + 1)):
        return f"every size from {first}" if first > low else "every size"
    step = valid[1] - valid[0]
    if valid == tuple(range(first, high + 1, step)) or (
        valid == tuple(range(first, valid[-1] + 1, step)) and high - valid[-1] < step
    ):
        if first % step == 0:
            return f"every multiple of {step} from {first}"
        return f"every {_nth(step)} size from {first} ({first} + {step}k)"
    period = _period(valid)
    if period is not None:
        start, step, residues = period
        shown = ", ".join(str(r) for r in residues)
        until = f" up to {valid[-1]}" if valid[-1] + step <= high else ""
        return f"from {start}{until}, the sizes that leave {shown} when divided by {step}"
    return _ranges(valid)


def _nth(step: int) -> str:
    suffix = "th" if 10 <= step % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(step % 10, "th")
    return f"{step}{suffix}"


def _period(valid: tuple[int, ...]) -> tuple[int, int, tuple[int, ...]] | None:
    """(start, period, residues) when the whole set, from its smallest size, repeats with a
    period of at most 64 over at least two periods; else None."""
    members = set(valid)
    start, last = valid[0], valid[-1]
    for step in range(2, 65):
        if last - start < 2 * step:
            break
        residues = tuple(sorted({size % step for size in valid}))
        if all((size in members) == (size % step in residues) for size in range(start, last + 1)):
            return start, step, residues
    return None


def _ranges(valid: tuple[int, ...]) -> str:
    runs: list[tuple[int, int]] = []
    for size in valid:
        if runs and size == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], size)
        else:
            runs.append((size, size))
    parts = [f"{a}" if a == b else f"{a}-{b}" for a, b in runs]
    return ", ".join(parts[:12]) + (f", ... ({len(runs):,} runs)" if len(runs) > 12 else "")


def _examples(outputs: tuple[tuple[int, Shape], ...], count: int) -> tuple[tuple[int, Shape], ...]:
    """A few accepted sizes to show with their outputs: the smallest, then evenly spread."""
    if len(outputs) <= count:
        return outputs
    step = (len(outputs) - 1) / (count - 1)
    return tuple(outputs[round(i * step)] for i in range(count))
