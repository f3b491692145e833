"""Solving a layer backwards: every kernel, stride, padding and dilation that maps IN to OUT.

``solve((224,), (112,), Layer.CONV, Framework.PYTORCH)`` lists every combination, within the
bounds, that one layer of that type takes from the input size to the output size, under that
framework's own rules: the per-axis arithmetic is ``_window``'s and ``_kinds_transpose``'s
formulas (called, never rewritten), and every refusal is one the engine makes
(``_kinds_window``, ``_kinds_depthwise``, ``_kinds_transpose``).

**What is searched**, per spatial axis (a value given in ``fixed`` is that value only):

- kernel 1-11, stride 1-4, dilation 1-4 (:class:`Bounds`); dilation only where the layer has
  one (not avg pools, not Keras pools), and a kernel of 1 with dilation 1 only (a dilated
  1-wide kernel is the same layer) but in PyTorch's transposed convs, where a dilation lets
  output_padding grow;
- integer padding (zeros on each side) from 0 to the kernel's reach ``dilation*(kernel-1)``,
  or the bounds' padding range; PyTorch pools at most half the kernel, which PyTorch refuses
  beyond; none for Keras' transposed convs, which take ``valid``/``same`` only. Keras' other
  layers take only named padding: convcalc reads an integer there as zeros added before the
  layer (``ZeroPadding2D``), and so lists it too, with a note;
- the named paddings the framework has: ``valid`` (which stands for 0, listed instead of it,
  when 0 is in the padding range) and ``same`` for convs (PyTorch: stride 1 only) and Keras
  pools and transposed convs, ``causal`` for Keras' 1-D convs;
- transposed convs' ``output_padding``: Keras unset (which differs from 0) and 0 to
  ``stride-1``; PyTorch 0 (its default) to ``max(stride, dilation)-1``;
- PyTorch pools' ``ceil_mode`` is not searched: ``fixed={"ceil_mode": True}`` solves with it.

**Simplest first**: undilated before dilated, then the smaller kernel, the smaller stride, the
smaller dilation, named padding before integers (``valid``, ``same``, ``causal``), the smaller
padding, output_padding unset before integers and the smaller one first (:func:`axis_key`).

**Several axes.** Each axis is solved on its own. When every axis has the same problem (same
input, output and given values) the solutions are the one axis' solutions, one value for every
axis. When they differ, a solution is one per-axis solution for each axis, combined as the
frameworks allow (one named padding for all axes, output_padding unset on all or none, Keras'
stride-or-dilation across the whole layer); the product can be large, so the combinations are
listed by how many of the parameters differ between axes (none first: ``kernel 3, stride 2,
padding 1`` on every axis, then one, ...), each such group simplest first by the axes' summed
keys. All are listed when there are at most :data:`MAX_PRODUCT` to go through; past that a
group is listed only while fewer than :data:`MAX_COMBINATIONS` have been examined.
``Solutions.total`` counts them all, and ``len(solutions)`` says how many are listed.
"""

from __future__ import annotations

import enum
import itertools
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import NamedTuple

from ._catalogue import FAMILIES, family, find_kind
from ._errors import SpecError, did_you_mean
from ._formula import LABELS
from ._kinds_transpose import (
    OUT_KERAS_SAME,
    OUT_KERAS_SAME_PADDED,
    OUT_KERAS_VALID,
    OUT_TORCH,
    OUTPUT_PADDING_UNSET,
)
from ._settings import Framework, assert_never
from ._values import (
    Invalid,
    PaddingValue,
    PerAxis,
    Shape,
    count,
    join_axes,
    normalize_name,
    show,
)
from ._window import (
    LAST_START,
    OUT,
    OUT_CEIL,
    OUT_SAME,
    PAD_CAUSAL,
    PAD_SAME,
    PAD_SAME_STRIDE_1,
    PAD_SPLIT,
    SPAN,
)

# -- what is solved --------------------------------------------------------------------------------


class Layer(str, enum.Enum):
    """The layer types ``solve`` knows: each with its framework's shape rule."""

    CONV = "conv"
    DEPTHWISE_CONV = "depthwise_conv"
    SEPARABLE_CONV = "separable_conv"
    MAXPOOL = "maxpool"
    AVGPOOL = "avgpool"
    CONV_TRANSPOSE = "conv_transpose"


_KIND_NAME = re.compile(
    r"(conv|maxpool|avgpool|depthwise_conv|separable_conv)([123])d(_transpose)?"
)


def _ranks(layer: Layer) -> tuple[int, ...]:
    """The spatial ranks the catalogue has ``layer`` in."""
    return tuple(rank for rank in (1, 2, 3) if find_kind(kind_name(layer, rank)) is not None)


def _families() -> dict[str, Layer]:
    """The catalogue's rank-free names (``pool``, ``deconv``, ...) of the layers solve knows:
    the one catalogue's spellings, not a list of solve's own."""
    found = {}
    for name, template in FAMILIES.items():
        match = _KIND_NAME.fullmatch(template.format(2))
        if match is not None:
            base, _, transpose = match.groups()
            found[name] = Layer.CONV_TRANSPOSE if transpose else Layer(base)
    return found


def layer_names() -> list[str]:
    """The type names :func:`parse_layer` takes, for help and completion."""
    values = [layer.value for layer in Layer]
    return values + [name for name in _families() if name not in values]


def parse_layer(name: str | Layer) -> tuple[Layer, int | None]:
    """The layer a type name means, and the rank it names (``conv2d``: 2; ``conv``: None).

    Takes :class:`Layer` values, the short names above, and any of the catalogue's spellings of
    a conv, pool or transposed conv (``Conv2D``, ``MaxPool1d``, ``ConvTranspose2d``)."""
    if isinstance(name, Layer):
        return name, None
    key = normalize_name(name)
    for layer in Layer:
        if normalize_name(layer.value) == key:
            return layer, None
    families = _families()
    if key in families:
        return families[key], None
    kind = None if family(name) else find_kind(name)
    match = _KIND_NAME.fullmatch(kind.name) if kind is not None else None
    if match is None:
        choices = [*layer_names(), "conv2d", "maxpool2d", "conv2d_transpose"]
        raise SpecError(
            f"--type {show(name)} is not a layer solve knows{did_you_mean(name, choices)}; "
            f"use one of {', '.join(layer.value for layer in Layer)}"
        )
    base, rank, transpose = match.groups()
    layer = Layer.CONV_TRANSPOSE if transpose else Layer(base)
    return layer, int(rank)


def kind_name(layer: Layer, rank: int) -> str:
    """The catalogue's name of ``layer`` on ``rank`` spatial axes: ``conv2d_transpose``."""
    if layer is Layer.CONV_TRANSPOSE:
        return f"conv{rank}d_transpose"
    return f"{layer.value}{rank}d"


class Bounds(NamedTuple):
    """The ranges searched for the values not given: (smallest, largest), both included."""

    kernel: tuple[int, int] = (1, 11)
    stride: tuple[int, int] = (1, 4)
    dilation: tuple[int, int] = (1, 4)
    padding: tuple[int, int] | None = None
    """Zeros per side; None: 0 to the kernel's reach ``dilation*(kernel-1)``."""

    def to_dict(self) -> dict[str, object]:
        return {
            "kernel": list(self.kernel),
            "stride": list(self.stride),
            "dilation": list(self.dilation),
            "padding": None if self.padding is None else list(self.padding),
        }


DEFAULT_BOUNDS = Bounds()

MAX_CANDIDATES = 300_000
"""The most per-axis candidates a search may try, its axes together (about a third of a
second); a larger search is refused with the ranges that make it so."""
MAX_PRODUCT = 30_000
"""When the axes differ and their solutions make at most this many combinations, every one is
listed (about a quarter of a second)."""
MAX_COMBINATIONS = 60_000
"""Past :data:`MAX_PRODUCT`, the most combinations examined group by group; groups past it
are counted but not listed."""
LIMIT_RANGE = 10**6
"""The largest value a bound or a given value may have."""

PARAMS = ("kernel", "stride", "padding", "dilation", "output_padding")
"""A solution's values, in the order JSON and the tables give them."""
_MODE_ORDER = {"valid": 0, "same": 1, "causal": 2}

AxisPadding = int | str
"""Zeros on each side of one axis, or a named padding (``valid``, ``same``, ``causal``)."""


class AxisSolution(NamedTuple):
    """One axis of one solution (or candidate)."""

    kernel: int
    stride: int
    padding: AxisPadding
    dilation: int
    output_padding: int | None
    """A transposed conv's; None: unset (Keras), or not a transposed conv."""


def axis_key(axis: AxisSolution) -> tuple[int, ...]:
    """The order "simplest first" sorts one axis by: undilated first, then kernel, stride,
    dilation, named padding (valid, same, causal) before integers and the smaller first,
    output_padding unset before integers and the smaller first."""
    kernel, stride, padding, dilation, extra = axis
    named = isinstance(padding, str)
    return (
        dilation > 1,
        kernel,
        stride,
        dilation,
        0 if named else 1,
        _MODE_ORDER[padding] if isinstance(padding, str) else padding,
        0 if extra is None else 1,
        extra or 0,
    )


class Solution(NamedTuple):
    """One combination that maps the input to the output: one :class:`AxisSolution` per axis."""

    axes: tuple[AxisSolution, ...]
    differing: int = 0
    """How many parameters differ between the axes (0: the same values on every axis)."""
    explain: tuple[str, ...] = ()
    """The working, when asked for."""

    def values(self, name: str) -> tuple[object, ...]:
        """One parameter's value on each axis."""
        index = PARAMS.index(name)
        return tuple(axis[index] for axis in self.axes)

    @property
    def kernel(self) -> tuple[int, ...]:
        return tuple(axis.kernel for axis in self.axes)

    @property
    def stride(self) -> tuple[int, ...]:
        return tuple(axis.stride for axis in self.axes)

    @property
    def padding(self) -> tuple[AxisPadding, ...]:
        return tuple(axis.padding for axis in self.axes)

    @property
    def dilation(self) -> tuple[int, ...]:
        return tuple(axis.dilation for axis in self.axes)

    @property
    def output_padding(self) -> tuple[int | None, ...]:
        return tuple(axis.output_padding for axis in self.axes)

    def value(self, name: str, per_axis: bool) -> object:
        """A parameter as JSON gives it: one value for every axis (not ``per_axis``), a named
        padding or unset output_padding as itself, else a list of one value per axis."""
        values = self.values(name)
        if not per_axis or values[0] is None or isinstance(values[0], str):
            return values[0]
        return list(values)

    def shown(self, name: str) -> str:
        """A parameter as the tables give it: ``3``, ``3x5``, ``same``, ``unset``."""
        values = self.values(name)
        if values[0] is None:
            return "unset"
        if len(set(values)) == 1:
            return str(values[0])
        return join_axes(values)

    def to_dict(self, per_axis: bool, explain: bool = False) -> dict[str, object]:
        row: dict[str, object] = {name: self.value(name, per_axis) for name in PARAMS}
        if explain:
            row["explain"] = list(self.explain)
        return row


class Solutions(NamedTuple):
    """What :func:`solve` finds, and what it searched."""

    layer: Layer
    rank: int
    framework: Framework
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    fixed: Mapping[str, object]
    """The values given, as JSON shows them (a per-axis value as a list)."""
    bounds: Bounds
    ceil_mode: bool
    per_axis: bool
    """Whether the axes differ (then every value is one per axis)."""
    solutions: tuple[Solution, ...]
    total: int
    """How many solutions there are within the bounds; more than listed when cut short."""
    notes: tuple[str, ...] = ()
    explain: bool = False
    searched: int = 0
    """Per-axis candidates tried."""

    @property
    def kind(self) -> str:
        """The catalogue's name of the layer solved: ``conv2d``."""
        return kind_name(self.layer, self.rank)

    @property
    def complete(self) -> bool:
        """Whether every solution is listed."""
        return len(self.solutions) == self.total

    @property
    def transposed(self) -> bool:
        return self.layer is Layer.CONV_TRANSPOSE

    @property
    def columns(self) -> tuple[str, ...]:
        """The parameters a table shows: output_padding for transposed convs only."""
        return PARAMS if self.transposed else PARAMS[:-1]

    def search_lines(self) -> list[str]:
        """What was searched, in words: ``kernel 1-11, stride 1-4, ...``."""
        return _search_lines(self)

    def to_dict(self) -> dict[str, object]:
        """The JSON of ``convcalc solve --format json``."""
        head: dict[str, object] = {
            "type": self.kind,
            "framework": self.framework.value,
            "input": list(self.inputs),
            "output": list(self.outputs),
            "per_axis": self.per_axis,
            "fixed": dict(self.fixed),
            "bounds": self.bounds.to_dict(),
        }
        if self.layer in (Layer.MAXPOOL, Layer.AVGPOOL) and self.framework is Framework.PYTORCH:
            head["ceil_mode"] = self.ceil_mode
        head.update(
            count=len(self.solutions),
            total=self.total,
            complete=self.complete,
            solutions=[row.to_dict(self.per_axis, self.explain) for row in self.solutions],
            notes=list(self.notes),
        )
        return head


# -- each framework's rules, one axis at a time ----------------------------------------------------


class _Rules(NamedTuple):
    """One layer type in one framework on ``rank`` axes: what it takes."""

    layer: Layer
    framework: Framework
    rank: int
    ceil_mode: bool

    @property
    def keras(self) -> bool:
        return self.framework is Framework.KERAS

    @property
    def pool(self) -> bool:
        return self.layer in (Layer.MAXPOOL, Layer.AVGPOOL)

    @property
    def modes(self) -> tuple[str, ...]:
        """The named paddings searched."""
        layer = self.layer
        if layer is Layer.CONV:
            return (
                ("valid", "same", "causal") if self.keras and self.rank == 1 else ("valid", "same")
            )
        if layer in (Layer.DEPTHWISE_CONV, Layer.SEPARABLE_CONV):
            return ("valid", "same")
        if layer in (Layer.MAXPOOL, Layer.AVGPOOL, Layer.CONV_TRANSPOSE):
            return ("valid", "same") if self.keras else ()
        assert_never(layer)

    @property
    def integer_padding(self) -> bool:
        return not (self.layer is Layer.CONV_TRANSPOSE and self.keras)

    @property
    def dilation(self) -> bool:
        """Whether the layer takes a dilation."""
        if self.layer is Layer.AVGPOOL:
            return False
        return not (self.layer is Layer.MAXPOOL and self.keras)

    @property
    def stride_or_dilation(self) -> bool:
        """Keras' plain and transposed convs: stride > 1 and dilation > 1 not in one layer."""
        return self.keras and self.layer in (Layer.CONV, Layer.CONV_TRANSPOSE)

    @property
    def inert_dilation(self) -> bool:
        """Whether dilation changes nothing for a 1-wide kernel: everywhere but PyTorch's
        transposed convs, where output_padding may be below the dilation instead of the
        stride."""
        return not (self.layer is Layer.CONV_TRANSPOSE and not self.keras)

    def padding_cap(self, kernel: int) -> int | None:
        """The most padding the framework allows: PyTorch pools, half the kernel."""
        return kernel // 2 if self.pool and not self.keras else None

    def output_paddings(self, stride: int, dilation: int) -> tuple[int | None, ...]:
        """The output_paddings searched (transposed convs), each allowed with this stride."""
        if self.layer is not Layer.CONV_TRANSPOSE:
            return (None,)
        if self.keras:
            return (None, *range(stride))
        return tuple(range(max(stride, dilation)))

    def output(self, size: int, axis: AxisSolution) -> int | None:
        """The output size on one axis, or None when the framework refuses the values (or
        the window does not fit): the engine's rules, axis by axis."""
        kernel, stride, padding, dilation, extra = axis
        keras = self.keras
        layer = self.layer
        if layer is Layer.CONV_TRANSPOSE:
            return self._transposed(size, axis)
        if extra is not None:
            return None
        if self.pool:
            if keras and (dilation > 1 or self.ceil_mode or padding == "causal"):
                return None
            if not keras:
                if isinstance(padding, str):
                    return None  # pytorch pools take zeros per side only
                if 2 * padding > kernel or (layer is Layer.AVGPOOL and dilation > 1):
                    return None
                if layer is Layer.AVGPOOL and self.rank == 3 and size < kernel:
                    return None  # avg_pool3d checks the unpadded input
        else:
            if self.ceil_mode:
                return None
            if keras and layer is Layer.CONV and stride > 1 and dilation > 1:
                return None
            if not keras and padding == "same" and stride > 1:
                return None
            if padding == "causal" and (not keras or layer is not Layer.CONV or self.rank != 1):
                return None
        span = SPAN.fn(dilation, kernel)
        if padding == "same" and keras:
            return int(OUT_SAME.fn(size, stride))
        before, after = _pads(padding, kernel, dilation)
        if self.ceil_mode:
            out = int(OUT_CEIL.fn(size, before + after, dilation, kernel, stride))
            if out > 1 and LAST_START.fn(out, stride) >= size + before:
                out -= 1
            return out if out >= 1 else None
        out = int(OUT.fn(size, before + after, dilation, kernel, stride))
        if out < 1 or size + before + after - span < 0:
            return None
        return out

    def _transposed(self, size: int, axis: AxisSolution) -> int | None:
        kernel, stride, padding, dilation, extra = axis
        if self.ceil_mode:
            return None
        if self.keras:
            if not isinstance(padding, str) or padding not in ("valid", "same"):
                return None
            if stride > 1 and dilation > 1:
                return None
            if extra is not None and extra >= stride:
                return None
            if padding == "valid":
                if extra is None:
                    extra = OUTPUT_PADDING_UNSET.fn(dilation, kernel, stride)[1]
                out = int(OUT_KERAS_VALID.fn(size, stride, dilation, kernel, extra))
            elif extra is None:
                out = int(OUT_KERAS_SAME.fn(size, stride))
            else:
                out = int(OUT_KERAS_SAME_PADDED.fn(size, stride, dilation, kernel, extra))
        else:
            if not isinstance(padding, int):
                return None
            extra = extra or 0
            if extra >= stride and extra >= dilation:
                return None
            out = int(OUT_TORCH.fn(size, stride, 2 * padding, dilation, kernel, extra))
        return out if out >= 1 else None


def _pads(padding: AxisPadding, kernel: int, dilation: int) -> tuple[int, int]:
    """Zeros (before, after) for everything but Keras' ``same``: ``_window.pads``' rules."""
    if isinstance(padding, int):
        return padding, padding
    if padding == "valid":
        return 0, 0
    if padding == "causal":
        return int(PAD_CAUSAL.fn(dilation, kernel)), 0
    total = int(PAD_SAME_STRIDE_1.fn(dilation, kernel))  # pytorch same: stride 1
    before, after = PAD_SPLIT.fn(total)
    return before, after


# -- one axis --------------------------------------------------------------------------------------


class _Axis(NamedTuple):
    """One axis' problem: its sizes and the values given for it (None: searched)."""

    size: int
    out: int
    kernel: int | None
    stride: int | None
    dilation: int | None
    padding: AxisPadding | None
    output_padding: tuple[int | None] | None
    """``(value,)`` when given, ``(None,)`` for "unset"; None when searched."""


def _span(low: int, high: int) -> range:
    return range(low, high + 1)


def candidates(rules: _Rules, axis: _Axis, bounds: Bounds) -> Iterator[AxisSolution]:
    """Every combination the search tries on one axis (the module's docstring says which)."""
    kernels = _span(*bounds.kernel) if axis.kernel is None else (axis.kernel,)
    strides = _span(*bounds.stride) if axis.stride is None else (axis.stride,)
    if axis.dilation is not None:
        dilations: Sequence[int] = (axis.dilation,)
    elif rules.dilation:
        dilations = _span(*bounds.dilation)
    else:
        dilations = (1,)
    for kernel in kernels:
        for dilation in dilations:
            if kernel == 1 and dilation > 1 and axis.dilation is None and rules.inert_dilation:
                continue  # the same 1-wide window: listed once, undilated
            paddings = _paddings(rules, axis, bounds, kernel, dilation)
            for stride in strides:
                if axis.output_padding is not None:
                    extras: Sequence[int | None] = axis.output_padding
                else:
                    extras = rules.output_paddings(stride, dilation)
                for padding in paddings:
                    for extra in extras:
                        yield AxisSolution(kernel, stride, padding, dilation, extra)


def _paddings(
    rules: _Rules, axis: _Axis, bounds: Bounds, kernel: int, dilation: int
) -> list[AxisPadding]:
    if axis.padding is not None:
        return [axis.padding]
    low, high = bounds.padding if bounds.padding is not None else (0, dilation * (kernel - 1))
    cap = rules.padding_cap(kernel)
    if cap is not None:
        high = min(high, cap)
    modes = rules.modes
    found: list[AxisPadding] = [mode for mode in modes if mode != "valid" or low == 0]
    if rules.integer_padding:
        # valid stands for 0 where the framework has it: one spelling, not two
        start = max(low, 1) if "valid" in modes else low
        found += range(start, high + 1)
    return found


def solve_axis(rules: _Rules, axis: _Axis, bounds: Bounds) -> tuple[list[AxisSolution], int]:
    """One axis' solutions, simplest first, and how many candidates were tried."""
    found: list[AxisSolution] = []
    tried = 0
    output = rules.output
    size, out = axis.size, axis.out
    for candidate in candidates(rules, axis, bounds):
        tried += 1
        if output(size, candidate) == out:
            found.append(candidate)
    found.sort(key=axis_key)
    return found, tried


# -- reading the question --------------------------------------------------------------------------

_FIXED_NAMES = {
    "kernel": "kernel",
    "kernelsize": "kernel",
    "size": "kernel",
    "poolsize": "kernel",
    "stride": "stride",
    "strides": "stride",
    "padding": "padding",
    "dilation": "dilation",
    "dilationrate": "dilation",
    "outputpadding": "output_padding",
    "ceilmode": "ceil_mode",
}
_UNSET = ("none", "unset", "null")


def parse_sizes(raw: object, what: str) -> tuple[int, ...]:
    """Spatial sizes as the command line writes them: ``224``, ``224x160``, ``[224, 160]``."""
    try:
        sizes = Shape().parse(raw, 0)
    except Invalid:
        sizes = ()
    if not sizes or len(sizes) > 3:
        raise SpecError(
            f"{what} {show(raw)} is not valid: give 1 to 3 spatial sizes, positive integers, "
            "without batch or channels: 224, or 224x160"
        )
    if max(sizes) > LIMIT_RANGE:
        raise SpecError(f"{what} {show(raw)} is too large: sizes up to {LIMIT_RANGE:,} are solved")
    return sizes


def parse_range(raw: object, what: str, smallest: int = 1) -> tuple[int, int]:
    """A bound as the command line writes it: ``1-11``, ``1..11``, or ``11`` (from the
    smallest value up to 11)."""
    text = str(raw).strip()
    match = re.fullmatch(r"(\d+)\s*(?:-|\.\.|:)\s*(\d+)|(\d+)", text)
    if match is None or len(text) > 30:
        raise SpecError(
            f"{what} {show(raw)} is not a range: write LOW-HIGH (1-11) or HIGH (11, from "
            f"{smallest})"
        )
    low, high, only = match.groups()
    bound = (smallest, int(only)) if only is not None else (int(low), int(high))
    return _checked_range(bound, what, smallest)


def _checked_range(bound: tuple[int, int], what: str, smallest: int) -> tuple[int, int]:
    low, high = bound
    if isinstance(low, bool) or isinstance(high, bool):
        raise SpecError(f"{what} {show(list(bound))} is not a range of whole numbers")
    if low < smallest:
        raise SpecError(f"{what} starts at {low}; it starts at {smallest} or more")
    if high < low:
        raise SpecError(f"{what} {low}-{high} is empty: give the smaller value first")
    if high > LIMIT_RANGE:
        raise SpecError(f"{what} up to {high:,} is too large: give at most {LIMIT_RANGE:,}")
    return low, high


def _fixed_values(
    fixed: Mapping[str, object], rules: _Rules, rank: int
) -> tuple[dict[str, tuple[object, ...]], dict[str, object], bool]:
    """The given values, one per axis; as JSON shows them; and ``ceil_mode``."""
    per_axis: dict[str, tuple[object, ...]] = {}
    shown: dict[str, object] = {}
    ceil_mode = False
    for key, raw in fixed.items():
        if raw is None:
            continue  # not given (an option left out); unset output_padding is "none"
        name = _FIXED_NAMES.get(normalize_name(str(key)))
        if name is None:
            names = [*PARAMS, "ceil_mode"]
            raise SpecError(
                f"unknown value {show(str(key))}{did_you_mean(str(key), names)}; solve "
                f"takes {', '.join(names)}"
            )
        if name in per_axis or (name == "ceil_mode" and "ceil_mode" in shown):
            raise SpecError(f"{name} is given twice")
        if name == "ceil_mode":
            if not isinstance(raw, bool):
                text = normalize_name(str(raw))
                if text not in ("true", "false", "1", "0", "yes", "no"):
                    raise SpecError(f"ceil_mode {show(raw)} is not valid: give true or false")
                raw = text in ("true", "1", "yes")
            ceil_mode = bool(raw)
            shown[name] = ceil_mode
            continue
        values = _fixed_value(name, raw, rank)
        if values[0] == "valid" and "valid" not in rules.modes and rules.integer_padding:
            values = (0,) * rank  # pytorch pools and transposed convs: valid is no zeros
        per_axis[name] = values
        if name == "output_padding" and values[0] is None:
            shown[name] = None
        elif name == "padding" and isinstance(values[0], str):
            shown[name] = values[0]
        else:
            shown[name] = values[0] if len(set(values)) == 1 else list(values)
    return per_axis, shown, ceil_mode


def _fixed_value(name: str, raw: object, rank: int) -> tuple[object, ...]:
    try:
        if name == "output_padding":
            if isinstance(raw, str) and normalize_name(raw) in _UNSET:
                return (None,) * rank
            values: tuple[object, ...] = PerAxis(minimum=0).parse(raw, rank)
        elif name == "padding":
            padding = PaddingValue(("valid", "same", "causal"), pairs=True).parse(raw, rank)
            if isinstance(padding, str):
                return (padding,) * rank
            if any(before != after for before, after in padding):
                raise SpecError(
                    f"padding {show(raw)}: solve finds the same zeros on both sides of an "
                    "axis; give one value per axis (1x2)"
                )
            values = tuple(before for before, _ in padding)
        else:
            values = PerAxis().parse(raw, rank)
    except Invalid as problem:
        raise SpecError(f"{name} {show(raw)} is not valid: {problem.reason}") from None
    if any(isinstance(value, int) and value > LIMIT_RANGE for value in values):
        raise SpecError(f"{name} {show(raw)} is too large: give at most {LIMIT_RANGE:,}")
    return values


def _check_fixed(rules: _Rules, given: Mapping[str, tuple[object, ...]]) -> None:
    """Refuse values the framework refuses whatever the rest is: the engine's own checks."""
    layer, keras = rules.layer, rules.keras
    padding = given.get("padding", (None,))[0]
    stride = given.get("stride")
    dilation = given.get("dilation")
    extra = given.get("output_padding")
    if rules.ceil_mode and not (rules.pool and not keras):
        raise SpecError(
            "ceil_mode is pytorch's, for pools only; drop it"
            + (", or use --framework pytorch" if rules.pool else "")
        )
    if extra is not None and layer is not Layer.CONV_TRANSPOSE:
        raise SpecError(
            f"output_padding is a transposed conv's; {layer.value} has none: drop it, or use "
            "--type conv_transpose"
        )
    if dilation is not None and max(_ints(dilation)) > 1 and not rules.dilation:
        who = "keras pools have" if layer is Layer.MAXPOOL else "an average pool has"
        raise SpecError(
            f"dilation {join_axes(dilation)}: {who} no dilation (pytorch's MaxPool has); use "
            "dilation 1" + (" or --framework pytorch" if layer is Layer.MAXPOOL else "")
        )
    if isinstance(padding, str) and padding not in rules.modes:
        raise SpecError(f"padding {padding}: {_mode_refusal(rules, padding)}")
    if isinstance(padding, int) and not rules.integer_padding:
        raise SpecError(
            f"padding {join_axes(given['padding'])}: keras Conv{rules.rank}DTranspose takes "
            "padding valid or same, not zeros; give one of those, or use --framework pytorch"
        )
    if stride is not None and max(_ints(stride)) > 1:
        if padding == "same" and not keras and not rules.pool:
            raise SpecError(
                f"pytorch allows padding same only with stride 1, not {join_axes(stride)}; "
                "drop the padding (solve finds the zeros), or use --framework keras"
            )
        if dilation is not None and max(_ints(dilation)) > 1 and rules.stride_or_dilation:
            raise SpecError(
                f"keras does not allow stride {join_axes(stride)} together with dilation "
                f"{join_axes(dilation)} in one {layer.value}; "
                "give one of them only (pytorch allows both)"
            )
    if isinstance(padding, int):
        kernel = given.get("kernel")
        if kernel is not None and rules.padding_cap(1) is not None:
            for taps, zeros in zip(_ints(kernel), _ints(given["padding"]), strict=True):
                if 2 * zeros > taps:
                    raise SpecError(
                        f"padding {zeros} is more than half the pool size {taps}; pytorch "
                        f"refuses it: use padding {taps // 2} or less"
                    )
    if extra is not None and extra[0] is not None:
        _check_output_padding(rules, extra, stride, dilation)


def _check_output_padding(
    rules: _Rules,
    extra: tuple[object, ...],
    stride: tuple[object, ...] | None,
    dilation: tuple[object, ...] | None,
) -> None:
    if stride is None:
        return
    extras, strides = _ints(extra), _ints(stride)
    gaps = _ints(dilation) if dilation is not None else None
    for axis, (value, step) in enumerate(zip(extras, strides, strict=True)):
        if rules.keras and value >= step:
            raise SpecError(
                f"output_padding {value} is not smaller than the stride {step}; keras needs "
                f"output_padding < stride: use {step - 1} or less"
            )
        if not rules.keras and gaps is not None and value >= step and value >= gaps[axis]:
            raise SpecError(
                f"output_padding {value} is not smaller than the stride {step} or the dilation "
                f"{gaps[axis]}; pytorch needs it smaller than either: use "
                f"{max(step, gaps[axis]) - 1} or less"
            )


def _ints(values: tuple[object, ...]) -> tuple[int, ...]:
    return tuple(value for value in values if isinstance(value, int))


def _mode_refusal(rules: _Rules, mode: str) -> str:
    layer, keras = rules.layer, rules.keras
    if mode == "causal":
        if not keras:
            return "causal is keras only; in pytorch pad by hand: drop the padding"
        return "keras has causal for 1-D convs (Conv1D) only; give valid or same"
    if layer is Layer.CONV_TRANSPOSE:
        return (
            "pytorch ConvTranspose takes padding as a number of zeros; drop the padding (solve "
            "finds the zeros), or use --framework keras"
        )
    return (
        "pytorch pools take padding as zeros per side (at most half the pool size); drop the "
        "padding (solve finds the zeros), or use --framework keras"
    )


def _estimate(rules: _Rules, axes: Sequence[_Axis], bounds: Bounds) -> int:
    """How many candidates the axes try (each different axis its own), a little over rather
    than under, from closed forms: nothing is tried, however wide the ranges."""

    def chosen(value: int | None, bound: tuple[int, int]) -> tuple[int, int]:
        return (value, value) if value is not None else bound

    def total(low: int, high: int) -> int:
        return (low + high) * (high - low + 1) // 2

    found = 0
    for axis in set(axes):
        k_low, k_high = chosen(axis.kernel, bounds.kernel)
        s_low, s_high = chosen(axis.stride, bounds.stride)
        d_low, d_high = chosen(axis.dilation, bounds.dilation if rules.dilation else (1, 1))
        kernels, dilations = k_high - k_low + 1, d_high - d_low + 1
        if axis.padding is not None:
            paddings = kernels * dilations
        elif not rules.integer_padding:  # keras' transposed convs: valid, same
            paddings = 2 * kernels * dilations
        elif bounds.padding is not None:
            paddings = kernels * dilations * (bounds.padding[1] - bounds.padding[0] + 4)
        elif rules.padding_cap(1) is not None:  # pytorch pools: at most half the kernel
            paddings = dilations * (total(k_low, k_high) // 2 + kernels)
        else:  # 0 to dilation*(kernel-1), and up to three named paddings
            paddings = total(d_low, d_high) * total(k_low - 1, k_high - 1)
            paddings += 4 * kernels * dilations
        strides = s_high - s_low + 1
        if axis.output_padding is None and rules.layer is Layer.CONV_TRANSPOSE:
            # keras: unset and 0 to stride-1; pytorch: 0 to max(stride, dilation)-1
            extra = strides if rules.keras else strides * d_high
            found += paddings * (total(s_low, s_high) + extra)
        else:
            found += paddings * strides
    return found


# -- solving ---------------------------------------------------------------------------------------


def solve(
    inputs: object,
    outputs: object,
    layer: Layer | str = Layer.CONV,
    framework: Framework | str = Framework.KERAS,
    fixed: Mapping[str, object] | None = None,
    bounds: Bounds = DEFAULT_BOUNDS,
    *,
    explain: bool = False,
    limit: int | None = None,
) -> Solutions:
    """Every combination of the values not in ``fixed`` that maps ``inputs`` to ``outputs``.

    ``inputs`` and ``outputs`` are spatial sizes (``(224, 160)``, ``"224x160"``, ``224``; one
    size stands for every axis of the other). ``layer`` is a :class:`Layer` or a type name
    (``conv``, ``maxpool``, ``ConvTranspose2d``). ``fixed`` maps ``kernel``, ``stride``,
    ``padding`` (zeros per side, or ``valid``/``same``/``causal``), ``dilation``,
    ``output_padding`` (``"none"``: unset) and ``ceil_mode`` to values written as the command
    line, YAML or Python would (``3``, ``"3x5"``, ``(3, 5)``); a value None is not given.
    ``limit`` lists at most that many solutions (``total`` still counts them all). Raises
    :class:`SpecError`."""
    layer, named_rank = parse_layer(layer)
    if not isinstance(framework, Framework):
        try:
            framework = Framework(normalize_name(str(framework)))
        except ValueError:
            raise SpecError(
                f"--framework {show(framework)} is not valid: use keras or pytorch"
            ) from None
    sizes_in = parse_sizes(inputs, "the input")
    sizes_out = parse_sizes(outputs, "the output (--out)")
    rank = max(len(sizes_in), len(sizes_out))
    if len(sizes_in) not in (1, rank) or len(sizes_out) not in (1, rank):
        raise SpecError(
            f"the input {join_axes(sizes_in)} and the output {join_axes(sizes_out)} have "
            f"different numbers of axes ({len(sizes_in)} and {len(sizes_out)}); give one size "
            "per axis for both, or one size for every axis"
        )
    if named_rank is not None and rank not in (1, named_rank):
        raise SpecError(
            f"--type {kind_name(layer, named_rank)} takes {named_rank} spatial "
            f"{'axis' if named_rank == 1 else 'axes'} but the input {join_axes(sizes_in)} has "
            f"{rank}; use --type {layer.value}, or give {named_rank} sizes"
        )
    rank = named_rank or rank
    sizes_in = sizes_in * rank if len(sizes_in) == 1 else sizes_in
    sizes_out = sizes_out * rank if len(sizes_out) == 1 else sizes_out
    if rank not in _ranks(layer):
        raise SpecError(
            f"{layer.value} has no {rank}-D form in convcalc (it has "
            f"{', '.join(f'{r}-D' for r in _ranks(layer))}); give fewer sizes"
        )
    if limit is not None and limit < 1:
        raise SpecError(f"limit {limit} is not valid: give a positive number of solutions")
    bounds = Bounds(
        _checked_range(bounds.kernel, "the kernel range", 1),
        _checked_range(bounds.stride, "the stride range", 1),
        _checked_range(bounds.dilation, "the dilation range", 1),
        None if bounds.padding is None else _checked_range(bounds.padding, "the padding range", 0),
    )
    rules = _Rules(layer, framework, rank, False)
    given, shown, ceil_mode = _fixed_values(fixed or {}, rules, rank)
    rules = rules._replace(ceil_mode=ceil_mode)
    _check_fixed(rules, given)
    axes = [_axis_problem(index, sizes_in, sizes_out, given) for index in range(rank)]
    estimate = _estimate(rules, axes, bounds)
    if estimate > MAX_CANDIDATES:
        raise SpecError(
            f"this search would try about {estimate:,} combinations (more than "
            f"{MAX_CANDIDATES:,}, a third of a second): narrow the kernel, stride, dilation or "
            "padding range, or give a value (--kernel 3)"
        )
    uniform = len(set(axes)) == 1
    per_axis_found: dict[_Axis, list[AxisSolution]] = {}
    searched = 0
    for axis in axes:
        if axis not in per_axis_found:
            per_axis_found[axis], tried = solve_axis(rules, axis, bounds)
            searched += tried
    lists = [per_axis_found[axis] for axis in axes]
    if uniform:
        combos = [Solution((found,) * rank) for found in lists[0]]
        total = len(combos)
    else:
        combos, total = _combine(rules, lists, limit)
    cut = len(combos) < total  # by MAX_COMBINATIONS, before any limit
    if limit is not None and len(combos) > limit:
        combos, cut = combos[:limit], False
    if explain:
        labels = LABELS[rank]
        combos = [
            row._replace(explain=tuple(_explain(rules, axes, labels, row, uniform)))
            for row in combos
        ]
    return Solutions(
        layer=layer,
        rank=rank,
        framework=framework,
        inputs=sizes_in,
        outputs=sizes_out,
        fixed=MappingProxyType(shown),
        bounds=bounds,
        ceil_mode=ceil_mode,
        per_axis=not uniform,
        solutions=tuple(combos),
        total=total,
        notes=tuple(_notes(rules, combos, total, not uniform, cut)),
        explain=explain,
        searched=searched,
    )


def _axis_problem(
    index: int,
    sizes_in: tuple[int, ...],
    sizes_out: tuple[int, ...],
    given: Mapping[str, tuple[object, ...]],
) -> _Axis:
    def one(name: str) -> object:
        values = given.get(name)
        return None if values is None else values[index]

    kernel, stride, dilation, padding = (
        one("kernel"),
        one("stride"),
        one("dilation"),
        one("padding"),
    )
    assert kernel is None or isinstance(kernel, int)
    assert stride is None or isinstance(stride, int)
    assert dilation is None or isinstance(dilation, int)
    assert padding is None or isinstance(padding, (int, str))
    extra: tuple[int | None] | None = None
    if "output_padding" in given:
        value = given["output_padding"][index]
        assert value is None or isinstance(value, int)
        extra = (value,)
    return _Axis(sizes_in[index], sizes_out[index], kernel, stride, dilation, padding, extra)


# -- combining axes --------------------------------------------------------------------------------


def _relevant(rules: _Rules) -> tuple[int, ...]:
    """The indices (in PARAMS) of the parameters that may differ between axes."""
    names = ["kernel", "stride", "padding"]
    if rules.dilation:
        names.append("dilation")
    if rules.layer is Layer.CONV_TRANSPOSE:
        names.append("output_padding")
    return tuple(PARAMS.index(name) for name in names)


def _valid(rules: _Rules, combo: Sequence[AxisSolution]) -> bool:
    """Whether per-axis solutions make one layer: one named padding (or zeros on every axis),
    output_padding unset everywhere or nowhere, and Keras' stride-or-dilation rule."""
    first = combo[0]
    named = isinstance(first.padding, str)
    unset = first.output_padding is None
    strided = dilated = False
    for axis in combo:
        if isinstance(axis.padding, str) != named or (named and axis.padding != first.padding):
            return False
        if (axis.output_padding is None) != unset:
            return False
        strided = strided or axis.stride > 1
        dilated = dilated or axis.dilation > 1
    return not (rules.stride_or_dilation and strided and dilated)


def count_combinations(rules: _Rules, lists: Sequence[Sequence[AxisSolution]]) -> int:
    """How many valid combinations of per-axis solutions there are, without listing them."""

    def kind(axis: AxisSolution) -> tuple[str, bool]:
        padding = axis.padding if isinstance(axis.padding, str) else ""
        return padding, axis.output_padding is None

    total = 0
    for group in set.intersection(*({kind(axis) for axis in found} for found in lists)):
        members = [[axis for axis in found if kind(axis) == group] for found in lists]
        if not rules.stride_or_dilation:
            total += math.prod(len(found) for found in members)
            continue
        undilated = math.prod(sum(axis.dilation == 1 for axis in found) for found in members)
        unstrided = math.prod(sum(axis.stride == 1 for axis in found) for found in members)
        plain = math.prod(
            sum(axis.dilation == 1 and axis.stride == 1 for axis in found) for found in members
        )
        total += undilated + unstrided - plain
    return total


def _combine(
    rules: _Rules, lists: Sequence[Sequence[AxisSolution]], limit: int | None
) -> tuple[list[Solution], int]:
    """Valid combinations, by how many parameters differ between axes and then simplest
    first; and how many there are in all.

    When the whole product of the axes' solutions is at most :data:`MAX_PRODUCT` (and no
    ``limit`` is asked), it is gone through once. Otherwise group by group (parameters that
    may differ: none, then one, ...), each group listed only while the combinations examined
    stay within :data:`MAX_COMBINATIONS`."""
    total = count_combinations(rules, lists)
    relevant = _relevant(rules)
    keys: dict[AxisSolution, tuple[int, ...]] = {
        axis: axis_key(axis) for found in lists for axis in found
    }

    def entry(combo: tuple[AxisSolution, ...], differing: int) -> tuple[object, ...]:
        axis_keys = [keys[axis] for axis in combo]
        summed = tuple(map(sum, zip(*axis_keys, strict=True)))
        return (differing, summed, axis_keys)

    if limit is None and math.prod(len(found) for found in lists) <= MAX_PRODUCT:
        rows: list[tuple[tuple[object, ...], Solution]] = []
        for combo in itertools.product(*lists):
            if _valid(rules, combo):
                differing = sum(
                    1 for index in relevant if any(axis[index] != combo[0][index] for axis in combo)
                )
                rows.append((entry(combo, differing), Solution(combo, differing)))
        rows.sort(key=lambda item: item[0])
        return [row for _, row in rows], total
    listed: list[Solution] = []
    examined = 0
    for differing in range(len(relevant) + 1):
        level: list[tuple[tuple[object, ...], Solution]] = []
        for varied in itertools.combinations(relevant, differing):
            same = [index for index in relevant if index not in varied]
            groups = [_group(found, same) for found in lists]
            shared = set(groups[0]).intersection(*groups[1:])
            examined += sum(math.prod(len(group[key]) for group in groups) for key in shared)
            if examined > MAX_COMBINATIONS:
                return listed, total
            for key in shared:
                for combo in itertools.product(*(group[key] for group in groups)):
                    if all(len({axis[index] for axis in combo}) > 1 for index in varied) and (
                        _valid(rules, combo)
                    ):
                        level.append((entry(combo, differing), Solution(combo, differing)))
        level.sort(key=lambda item: item[0])
        listed += [row for _, row in level]
        if limit is not None and len(listed) >= limit:
            break
    return listed, total


def _group(
    found: Sequence[AxisSolution], same: Sequence[int]
) -> dict[tuple[object, ...], list[AxisSolution]]:
    groups: dict[tuple[object, ...], list[AxisSolution]] = {}
    for axis in found:
        groups.setdefault(tuple(axis[index] for index in same), []).append(axis)
    return groups


# -- the working -----------------------------------------------------------------------------------


def _explain(
    rules: _Rules,
    axes: Sequence[_Axis],
    labels: Sequence[str],
    row: Solution,
    uniform: bool,
) -> list[str]:
    """Each axis' working: the formula with the numbers, and why the padding works."""
    if uniform:
        return _explain_axis(rules, axes[0], row.axes[0], ", ".join(labels))
    lines: list[str] = []
    for axis, solution, label in zip(axes, row.axes, labels, strict=True):
        lines += _explain_axis(rules, axis, solution, label)
    return lines


def _explain_axis(rules: _Rules, axis: _Axis, solution: AxisSolution, label: str) -> list[str]:
    if rules.layer is Layer.CONV_TRANSPOSE:
        body = _explain_transposed(rules, axis, solution)
    else:
        body = _explain_window(rules, axis, solution)
    return [f"{label}: {axis.size} -> {axis.out}", *("  " + line for line in body)]


def _explain_window(rules: _Rules, axis: _Axis, solution: AxisSolution) -> list[str]:
    size, out = axis.size, axis.out
    kernel, stride, padding, dilation, _ = solution
    span = int(SPAN.fn(dilation, kernel))
    body: list[str] = []
    if dilation > 1:
        body += SPAN.lines((dilation, kernel), span)
    if padding == "same" and rules.keras:
        body += OUT_SAME.lines((size, stride), out)
        total = int(PAD_SAME.fn(out, stride, dilation, kernel, size))
        body += PAD_SAME.lines((out, stride, dilation, kernel, size), total)
        before, after = PAD_SPLIT.fn(total)
        body.append(
            f"same: {before} zeros before, {after} after; keras' same gives ceil(in / stride) "
            "outputs whatever the kernel"
        )
        return body
    before, after = _pads(padding, kernel, dilation)
    total = before + after
    if padding == "valid":
        body.append("valid: no padding, pad_total = 0")
    elif padding == "causal":
        body += PAD_CAUSAL.lines((dilation, kernel), before)
    elif padding == "same":
        body += PAD_SAME_STRIDE_1.lines((dilation, kernel), total)
        body += PAD_SPLIT.lines((total,), (before, after))
    else:
        assert isinstance(padding, int)
        zeros = count(padding, "zero")
        body.append(f"padding {padding}: {zeros} on each side, pad_total = {total}")
        if rules.padding_cap(kernel) is not None:
            body.append(
                f"padding {padding} <= kernel/2 = {kernel}/2: pytorch allows it (at most half "
                "the pool size)"
            )
    if rules.ceil_mode:
        value = int(OUT_CEIL.fn(size, total, dilation, kernel, stride))
        body += OUT_CEIL.lines((size, total, dilation, kernel, stride), value)
        if value > 1:
            start, edge = int(LAST_START.fn(value, stride)), size + before
            if start >= edge:
                body.append(
                    f"the last window starts at (out-1)*stride = {start} >= in + pad_before = "
                    f"{edge}, in the right padding: dropped, out = {value - 1}"
                )
            else:
                body.append(
                    f"the last window starts at (out-1)*stride = {start} < in + pad_before = "
                    f"{edge}, inside the input: kept"
                )
        return body
    body += OUT.lines((size, total, dilation, kernel, stride), out)
    first, last = (out - 1) * stride, out * stride - 1
    low, high = max(first + span - size, 0), last + span - size
    body.append(
        f"why: out = {out} needs in + pad_total - span = {_between(first, last)} "
        "((out-1)*stride to out*stride - 1)"
    )
    then = f"so, span being {span}, pad_total = {_between(low, high)}"
    if isinstance(padding, int):
        then += f"; zeros per side p give pad_total 2p: p = {_between(-(-low // 2), high // 2)}"
    body.append(f"     {then}")
    return body


def _between(low: int, high: int) -> str:
    return str(low) if low == high else f"{low} to {high}"


def _explain_transposed(rules: _Rules, axis: _Axis, solution: AxisSolution) -> list[str]:
    size, out = axis.size, axis.out
    kernel, stride, padding, dilation, extra = solution
    body: list[str] = []
    if not rules.keras:
        assert isinstance(padding, int)
        extra = extra or 0
        body += OUT_TORCH.lines((size, stride, 2 * padding, dilation, kernel, extra), out)
        grown = (size - 1) * stride + dilation * (kernel - 1) + 1
        body.append(
            f"why: (in-1)*stride + dilation*(kernel-1) + 1 = {grown}, so 2*padding - "
            f"output_padding must be {grown} - {out} = {grown - out}: padding {padding} "
            f"(pad_total {2 * padding}), output_padding {extra}"
        )
        if extra:
            limit = f"stride {stride}" if extra < stride else f"dilation {dilation}"
            body.append(
                f"output_padding {extra} < {limit}: pytorch allows it (smaller than the stride "
                "or the dilation)"
            )
        return body
    if padding == "valid":
        if extra is None:
            span, extra = OUTPUT_PADDING_UNSET.fn(dilation, kernel, stride)
            body += OUTPUT_PADDING_UNSET.lines((dilation, kernel, stride), (span, extra))
        body += OUT_KERAS_VALID.lines((size, stride, dilation, kernel, extra), out)
    elif extra is None:
        body += OUT_KERAS_SAME.lines((size, stride), out)
        body.append("same without output_padding: in*stride whatever the kernel")
    else:
        body += OUT_KERAS_SAME_PADDED.lines((size, stride, dilation, kernel, extra), out)
    if solution.output_padding is not None:
        body.append(f"output_padding {extra} < stride {stride}: keras allows it")
    return body


# -- notes and the search in words -----------------------------------------------------------------


def _notes(
    rules: _Rules, rows: Sequence[Solution], total: int, per_axis: bool, cut: bool
) -> list[str]:
    notes: list[str] = []
    rank = rules.rank
    if rules.keras and rules.layer is not Layer.CONV_TRANSPOSE:
        if any(isinstance(axis.padding, int) for row in rows for axis in row.axes):
            modes = ", ".join(rules.modes)
            notes.append(
                f"keras layers take padding {modes} only: zeros per side (padding 1) mean "
                f"ZeroPadding{rank}D(1) before the layer with padding valid"
            )
    if rules.keras and rules.layer is Layer.CONV_TRANSPOSE:
        notes.append(
            "keras: output_padding unset is not 0: unset, a valid output is "
            "(in-1)*stride + max(span, stride) and a same one in*stride"
        )
    if rules.pool and not rules.keras:
        mode = "on" if rules.ceil_mode else "off"
        other = "false" if rules.ceil_mode else "true"
        notes.append(
            f"pytorch pools: padding at most half the kernel; ceil_mode {mode} (solve with "
            f"ceil_mode {other} for the others)"
        )
    if not total:
        notes.append(
            "no solution within the bounds: widen a range (the kernel's, the stride's) or drop "
            "a given value" + _no_solution_hint(rules, rows)
        )
    elif len(rows) < total:
        left = total - len(rows)
        differing = max((row.differing for row in rows), default=-1) + 1
        more = f"{left:,} more {'solution' if left == 1 else 'solutions'} not listed"
        if cut:
            notes.append(
                f"{more}: combinations differing between axes in {differing} or more "
                f"parameters, too many to sort; give a value (--kernel 3) to narrow the search"
            )
        else:
            notes.append(f"{more} (the limit)")
    if per_axis and total:
        notes.append(
            "the axes differ: each solution is one value per axis, those with the same values "
            "on every axis first"
        )
    return notes


def _no_solution_hint(rules: _Rules, rows: Sequence[Solution]) -> str:
    if rules.layer is Layer.CONV_TRANSPOSE:
        return "; a transposed conv grows its input: to shrink an axis use --type conv"
    return "; to grow an axis use --type conv_transpose"


def _search_lines(found: Solutions) -> list[str]:
    rules = _Rules(found.layer, found.framework, found.rank, found.ceil_mode)
    bounds = found.bounds
    given = found.fixed
    parts: list[str] = []
    for name in ("kernel", "stride", "dilation"):
        if name in given:
            continue
        if name == "dilation" and not rules.dilation:
            continue
        low, high = getattr(bounds, name)
        parts.append(f"{name} {low}-{high}")
    if "padding" not in given:
        modes = [
            "same (stride 1)" if mode == "same" and not rules.keras else mode
            for mode in rules.modes
        ]
        if rules.integer_padding:
            if bounds.padding is not None:
                reach = f"{bounds.padding[0]}-{bounds.padding[1]}"
            else:
                reach = "0 to dilation*(kernel-1)" if rules.dilation else "0 to kernel-1"
            if rules.padding_cap(1) is not None:
                reach += ", at most kernel/2"
            modes.append(f"{reach} per side")
        parts.append("padding " + ", ".join(modes))
    if rules.layer is Layer.CONV_TRANSPOSE and "output_padding" not in given:
        parts.append(
            "output_padding unset, 0 to stride-1"
            if rules.keras
            else "output_padding 0 to max(stride, dilation)-1"
        )
    lines = ["searched: " + "; ".join(parts)] if parts else []
    if given:
        lines.append("given: " + ", ".join(f"{k} {_shown(v)}" for k, v in given.items()))
    return lines


def _shown(value: object) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return join_axes(value)
    return str(value)
