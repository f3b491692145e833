"""``--fit 24GiB``: the largest batch whose memory fits a budget.

With ``--train`` the memory is the training step's (weights, buffers, gradients, optimizer
state and saved activations); without, inference's: the parameters (and buffers) plus the most
activation memory live at once during a forward pass. Both grow linearly with the batch (a
batchnorm's saved statistics do not grow, which the line through batch 1 and 2 accounts for),
so the batch is worked out, then checked by analysing the model at it and at one more.

Live activations are followed on the walk's recorded program (``Walker.record``): every layer's
output is a new tensor, alive from the layer that makes it to the last that reads it (the
model's output to the end); the peak is the largest sum of live tensors while a layer runs,
its inputs and its output together.
"""

from __future__ import annotations

import math
import re

from ._engine import RunState, initial_field
from ._errors import SpecError
from ._model import MergeOp, ModelSpec, Program, Tensor, Walker, run
from ._report import Fit
from ._values import LARGEST, show

_UNITS = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
_BUDGET = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*")
MAX_BATCH = 2**31
"""Batches beyond this are past any accelerator; a budget that allows more says so."""


def parse_budget(text: str) -> int:
    """``24GiB``, ``24GB``, ``8000MiB``, ``512mb``, ``1e9`` is not taken: bytes as an int."""
    found = _BUDGET.fullmatch(text)
    unit = found.group(2).lower() if found else ""
    if found is None or unit not in _UNITS:
        raise SpecError(
            f"--fit {show(text)} is not valid: give a memory size such as 24GiB, 24GB or "
            "8000MiB (KiB, MiB, GiB, TiB are powers of 1024; KB, MB, GB, TB of 1000)"
        )
    number = float(found.group(1)) if "." in found.group(1) else int(found.group(1))
    budget = int(number * _UNITS[unit])
    if not 0 < budget <= LARGEST:
        raise SpecError(f"--fit {show(text)} is not valid: give a size above 0 and below 2**62")
    return budget


def memory(model: ModelSpec, batch: int, peak: int | None = None) -> int:
    """Bytes at ``batch``: training's total with --train, else inference's (``peak``: the
    live activation elements per sample, worked out once by :func:`peak_live`)."""
    settings = model.settings._replace(batch=batch)
    report = run(model._replace(settings=settings))
    training = report.totals.training
    if training is not None:
        return training.total
    live = peak_live(model) if peak is None else peak
    return report.totals.param_bytes + live * batch * settings.dtype.bytes


def peak_live(model: ModelSpec) -> int:
    """The most activation elements alive at once in a forward pass, per sample."""
    shape = model.input
    walker = Walker(
        model.blocks, max(len(shape) - 1, 0), RunState(model.settings, shape), model.params
    )
    program = walker.record(model.layers, Tensor(shape, initial_field(shape), "input"))
    return _peak(program, [math.prod(each) for each in program.shapes])


def _peak(program: Program, sizes: list[int]) -> int:
    """The largest sum of live tensors while an operation runs: tensor t is alive from the
    operation that makes it (t) to the last that reads it."""
    count = len(program.ops)
    last = list(range(count + 1))
    for number, op in enumerate(program.ops, 1):
        sources = op.sources if isinstance(op, MergeOp) else (op.source,)
        for source in sources:
            last[source] = max(last[source], number)
    last[program.output] = count
    change = [0] * (count + 2)
    for tensor, size in enumerate(sizes):
        change[tensor] += size
        change[last[tensor] + 1] -= size
    live = peak = 0
    for number in range(count + 1):
        live += change[number]
        if number:
            peak = max(peak, live)
    return peak


def fit(model: ModelSpec, budget: int) -> Fit:
    """The largest batch whose memory fits ``budget``."""
    peak = None if model.settings.train is not None else peak_live(model)

    def at(batch: int) -> int:
        return memory(model, batch, peak)

    one, two = at(1), at(2)
    training = model.settings.train is not None
    if one > budget:
        return Fit(budget, 0, one, training)
    step = two - one
    batch = MAX_BATCH if step <= 0 else min(MAX_BATCH, 1 + (budget - one) // step)
    # the line is exact but for rounding; check it, and step back if needed
    while batch > 1 and at(batch) > budget:
        batch -= 1
    while batch < MAX_BATCH and at(batch + 1) <= budget:
        batch += 1
    return Fit(budget, batch, at(batch), training)
