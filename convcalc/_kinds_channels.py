"""Kinds of modern CNNs that reorder axes or act on each element or channel, without a window:
``permute``, ConvNeXt's ``layernorm2d``, ``layer_scale`` and ``drop_path``, ShuffleNet's
``channel_shuffle``, and Keras' ``rescaling`` and ``normalization`` (EfficientNet's input).

Each rule is what its framework does, read from Keras 3.15 (``keras/src/layers/reshaping/
permute.py``, ``layers/preprocessing/rescaling.py`` and ``normalization.py``, and the
``LayerScale`` and ``StochasticDepth`` of ``applications/convnext.py``) and from PyTorch 2.13
and torchvision 0.28 (``Tensor.permute``, ``nn.ChannelShuffle``, ``models/convnext.py``'s
``LayerNorm2d`` and ``CNBlock.layer_scale``, ``ops/stochastic_depth.py``, ``ops/misc.py``'s
``Permute``); ``tests/crosscheck/crosscheck_modern.py`` builds each in both. None of them
multiplies and accumulates: every MAC count here is 0, as for normalisation and activations.
"""

from __future__ import annotations

import math
import re
from typing import NamedTuple

from ._formula import Formula, axes_of, weightless
from ._kind import (
    REQUIRED,
    SPELLED,
    Call,
    Geometry,
    LayerKind,
    Param,
    Receptive,
    Saved,
    Weights,
    a_view,
    keeps_nothing,
    no_macs,
)
from ._kinds_norm import _largest_divisor
from ._saved import dense_saved
from ._settings import Framework
from ._values import (
    Choice,
    Flag,
    Fraction,
    Invalid,
    Real,
    WholeNumber,
    _pieces,
    _whole,
    count,
    join_axes,
    normalize_name,
    show,
    show_shape,
)
from ._vocab import IGNORED_ANY, IGNORED_NORM

# -- value types of these kinds ----------------------------------------------------------------


class AxisList(NamedTuple):
    """Axis numbers in order, as a permutation is written: ``[2, 3, 1]``, ``(0, 2, 3, 1)``,
    ``2,3,1``; negative numbers are kept (PyTorch counts them from the end)."""

    @property
    def describe(self) -> str:
        return "whole numbers in order, as a list [2, 3, 1] or (2, 3, 1)"

    def parse(self, raw: object, rank: int) -> tuple[int, ...]:
        try:
            return tuple(_whole(piece) for piece in _pieces(raw))
        except Invalid:
            raise Invalid(f"must be {self.describe}") from None


class KerasAxes(NamedTuple):
    """Keras' ``axis`` of Normalization: an axis, a list of them, or none (one value for all
    elements); axes count the batch as 0. ``none`` is kept as the empty tuple."""

    @property
    def describe(self) -> str:
        return (
            "an axis counting the batch as 0 (-1: the last), a list of them, or none (one mean "
            "and variance for every element)"
        )

    def parse(self, raw: object, rank: int) -> tuple[int, ...]:
        if isinstance(raw, str) and normalize_name(raw) in ("none", "null"):
            return ()
        try:
            return tuple(_whole(piece) for piece in _pieces(raw))
        except Invalid:
            raise Invalid(f"must be {self.describe}") from None


_FRACTION = re.compile(r"\s*([^/]+?)\s*/\s*([^/]+?)\s*")
"""``1/255``, ``1.0 / 255.0``: a number written as code writes a scale."""


def _number(raw: object) -> float:
    """One number: an int, a float, or text such as ``0.5``, ``1e-3`` or ``1/255``."""
    if isinstance(raw, str):
        quotient = _FRACTION.fullmatch(raw)
        if quotient is not None:
            top, bottom = (Real().parse(part, 0) for part in quotient.groups())
            if bottom == 0 or not math.isfinite(top / bottom):
                raise Invalid("is not a finite number")
            return top / bottom
    return Real().parse(raw, 0)


class Numbers(NamedTuple):
    """A number, or a list of numbers applied along an axis (Keras' scale, offset, mean and
    variance): a float, or a tuple of floats when written as a list."""

    @property
    def describe(self) -> str:
        return "a number (0.5, 1/255) or a list of numbers ([0.5, 0.5, 0.5])"

    def parse(self, raw: object, rank: int) -> float | tuple[float, ...]:
        listed = isinstance(raw, (list, tuple)) or (
            isinstance(raw, str) and (raw.strip()[:1] in ("(", "[") or "," in raw)
        )
        try:
            if listed:
                values = tuple(_number(piece) for piece in _pieces(raw))
                if not values:
                    raise Invalid("is an empty list")
                return values
            return _number(raw)
        except Invalid:
            raise Invalid(f"must be {self.describe}") from None


def _axis_names(call: Call) -> tuple[str, ...]:
    """The input's axes by name for the working: ``H W C``, ``C H W``; ``features`` when flat."""
    names = axes_of(call)
    return (
        names
        if len(names) == len(call.input)
        else tuple(f"axis{i + 1}" for i in range(len(call.input)))
    )


# -- permute ----------------------------------------------------------------------------------


def _keras_order(call: Call, dims: tuple[int, ...]) -> tuple[int, ...]:
    """Keras' ``Permute(dims)``: each of 1..n once, counted without the batch; n must be the
    input's number of axes. The order as input axis indices from 0."""
    rank = len(call.input)
    shown = show(list(dims))
    example = ", ".join(str(axis) for axis in (*range(2, rank + 1), 1))
    if sorted(dims) != list(range(1, len(dims) + 1)):
        if len(dims) == rank + 1 and sorted(dims) == list(range(rank + 1)):
            raise call.fail(
                f"dims {shown} counts the batch as 0, as PyTorch's "
                "x.permute(...) does; dims counts from 1 without the batch, as Keras' "
                f"Permute: write dims: [{', '.join(str(d) for d in dims[1:])}] if the batch "
                f"stays first, or torch_dims: [{', '.join(map(str, dims))}] for PyTorch's "
                "spelling"
            )
        raise call.fail(
            f"dims {shown} is not an order of the axes 1 to {len(dims)}: keras' Permute takes "
            "each axis once, counted from 1 without the batch (The set of indices in dims must "
            f"be consecutive and start from 1); e.g. dims: [{example}]"
        )
    if len(dims) != rank:
        raise call.fail(
            f"dims {shown} orders {len(dims)} axes but its input {show_shape(call.input)} has "
            f"{rank}; keras refuses that (expected ndim={len(dims) + 1}, found "
            f"ndim={rank + 1}): give an order of 1 to {rank}, e.g. dims: [{example}]"
        )
    return tuple(axis - 1 for axis in dims)


def _torch_order(call: Call, dims: tuple[int, ...]) -> tuple[int, ...]:
    """PyTorch's ``x.permute(*dims)``: every axis with the batch as 0, which must stay first
    here (shapes leave the batch out). The order as input axis indices from 0."""
    axes = len(call.input) + 1
    shown = show(list(dims))
    if len(dims) != axes:
        raise call.fail(
            f"torch_dims {shown} has {len(dims)} axes but its input with the batch, "
            f"[N, {', '.join(map(str, call.input))}], has {axes}; pytorch refuses that (number "
            f"of dimensions ... does not match the length of the desired ordering): give "
            f"{axes}, the batch first as 0"
        )
    for axis in dims:
        if not -axes <= axis < axes:
            raise call.fail(
                f"torch_dims {shown} names axis {axis}, but with the batch its input has "
                f"{axes} axes, 0 to {axes - 1} (or -{axes} to -1); pytorch refuses that "
                "(Dimension out of range)"
            )
    order = tuple(axis % axes for axis in dims)
    if len(set(order)) != axes:
        raise call.fail(
            f"torch_dims {shown} names an axis twice; pytorch refuses that (duplicate dims "
            f"are not allowed): give each of 0 to {axes - 1} once"
        )
    if order[0] != 0:
        raise call.fail(
            f"torch_dims {shown} moves the batch (axis 0) from the front; convcalc's shapes "
            "leave the batch out, so it must stay first: start torch_dims with 0"
        )
    return tuple(axis - 1 for axis in order[1:])


def permute_shape(call: Call) -> Geometry:
    dims, torch_dims = call.values.get("dims"), call.values.get("torch_dims")
    if dims is not None and torch_dims is not None:
        raise call.fail(
            "give one of dims (Keras' Permute, from 1 without the batch) and torch_dims "
            "(PyTorch's x.permute, with the batch as 0), not both"
        )
    if isinstance(torch_dims, tuple):
        order = _torch_order(call, torch_dims)
    elif isinstance(dims, tuple):
        order = _keras_order(call, dims)
    else:
        raise call.fail(
            "permute needs the new order of the axes: dims, counted from 1 without the batch "
            "as Keras' Permute((2, 3, 1)), or torch_dims, with the batch as 0 as PyTorch's "
            "x.permute(0, 2, 3, 1); e.g. permute: [3, 1, 2]"
        )
    output = tuple(call.input[axis] for axis in order)
    if call.notes is not None:
        names = _axis_names(call)
        call.note(
            f"order {' '.join(str(axis + 1) for axis in order)} (from 1, without the batch): "
            f"{' '.join(names)} -> {' '.join(names[axis] for axis in order)}"
        )
        call.note(f"{show_shape(call.input)} -> {show_shape(output)}")
    return Geometry(output, order=tuple(order))


PERMUTE = LayerKind(
    name="permute",
    summary="reorders the axes, without the batch (Keras Permute(dims), counted from 1; "
    "PyTorch's x.permute(0, ...) and torchvision's Permute as torch_dims); no parameters, and "
    "the receptive field passes unchanged (each output element is one input element)",
    params=(
        Param(
            "dims",
            AxisList(),
            None,
            "the new order of the axes, counted from 1 without the batch, as Keras' "
            "Permute(dims): 3,1,2 makes H W C into C H W; 2,3,1 makes C H W into H W C",
        ),
        Param(
            "torch_dims",
            AxisList(),
            None,
            "PyTorch's spelling: every axis with the batch as 0, which must stay first, as "
            "x.permute(0, 2, 3, 1) or torchvision's Permute([0, 2, 3, 1]); negatives count from "
            "the end",
            ("torch_permute",),
        ),
    ),
    positional=("dims",),
    aliases=("Permute",),
    rank=None,
    shape=permute_shape,
    weights=weightless("permute only reorders the axes of the same elements"),
    macs=no_macs,
    # What each output sees is what its input element saw; the engine moves the field's axes
    # with the tensor's (Geometry.order), so a window after a permute slides over the right one.
    receptive=Receptive.POINTWISE,
    ignored=IGNORED_ANY,
)

# -- layer normalisation over the channels ---------------------------------------------------


def layernorm2d_shape(call: Call) -> Geometry:
    spelled = call.values.get(SPELLED)
    if spelled == "LayerNorm2d":
        # torchvision's LayerNorm2d permutes N C H W to N H W C and back.
        if len(call.input) != 3:
            raise call.fail(
                f"torchvision's LayerNorm2d takes N C H W (it permutes the channels last and "
                f"back), but its input {show_shape(call.input)} is {len(call.input) + 1}-D with "
                "the batch; pytorch refuses that: write layernorm2d (spelled so) to normalise "
                "the channels of other ranks"
            )
        if call.channels_last:
            raise call.fail(
                "torchvision's LayerNorm2d takes channels first (N C H W), but this model is "
                "channels last (hwc): there it would normalise W; use layernorm, which "
                "normalises the last axis (the channels here), or layout chw"
            )
    expected = call.values.get("num_channels")
    if expected is not None and expected != call.channels:
        raise call.fail(
            f"num_channels {expected} does not match its input, which has "
            f"{count(call.channels, 'channel')} (shape {show_shape(call.input)}); pytorch "
            f"refuses that (Given normalized_shape=[{expected}], expected input with shape "
            f"[*, {expected}]): drop num_channels or fix the layer before"
        )
    return Geometry(call.input)


LAYERNORM2D_PARAMS: Formula[int] = Formula(
    "params = (scale + bias) * C", "scale bias C", note="a scale and a shift per channel"
)


def layernorm2d_weights(call: Call, geometry: Geometry) -> Weights:
    # PyTorch's weight and bias of shape (C,); Keras' gamma and beta with axis on the channels.
    if not call.flag("affine"):
        if call.notes is not None:
            call.note("params = 0: affine off, no scale or shift")
        return Weights()
    return Weights(trainable=LAYERNORM2D_PARAMS.of(call, 1, call.flag("bias"), call.channels))


LAYERNORM2D = LayerKind(
    name="layernorm2d",
    summary="layer normalisation over the channels at each position, in either layout "
    "(ConvNeXt's torchvision LayerNorm2d(C, eps=1e-6); Keras LayerNormalization(axis=1) "
    "channels first, or axis=-1 channels last, which is layernorm too); 2 parameters per "
    "channel",
    params=(
        Param(
            "num_channels",
            WholeNumber(),
            None,
            "optional check: the channels it expects (LayerNorm2d's first argument, "
            "normalized_shape)",
            ("normalized_shape", "num_features"),
        ),
        Param(
            "affine",
            Flag(),
            True,
            "learn a scale and shift per channel",
            ("elementwise_affine",),
        ),
        Param(
            "bias",
            Flag(),
            True,
            "learn the shift too (PyTorch's bias, Keras' center); false leaves the scale",
            ("center",),
        ),
    ),
    positional=("num_channels",),
    aliases=("LayerNorm2d", "ln2d", "channel_layernorm"),
    rank=None,
    shape=layernorm2d_shape,
    weights=layernorm2d_weights,
    macs=no_macs,
    receptive=Receptive.POINTWISE,
    ignored=IGNORED_NORM,
    torch_names=("LayerNorm2d",),
    # torchvision's LayerNorm2d is nn.LayerNorm(normalized_shape, eps, elementwise_affine, bias)
    torch_positional=("num_channels", "eps", "affine", "bias"),
)

# -- layer scale ---------------------------------------------------------------------------


def _scaled_axis(call: Call) -> int:
    """The input axis a layer scale multiplies: Keras' LayerScale always the last (its gamma
    has projection_dim values); torchvision's (C, 1, 1) parameter the layout's channels."""
    last = len(call.input) - 1
    if call.framework is Framework.KERAS or call.channels_last:
        return last
    return 0


def layer_scale_shape(call: Call) -> Geometry:
    axis = _scaled_axis(call)
    size = call.input[axis]
    if call.framework is Framework.KERAS and not call.channels_last and len(call.input) > 1:
        call.remark(
            f"{call.where}: keras' LayerScale multiplies the last axis (its gamma has "
            "projection_dim values), which in this channels-first input is not the channels; "
            "convcalc counts it so, as keras does (keras' ConvNeXt is channels last only)",
            key="keras layer scale axis",
        )
    wanted = call.values.get("projection_dim")
    if not isinstance(wanted, int) or wanted in (size, 1):
        return Geometry(call.input)
    if size == 1:
        # The scale broadcasts: a size-1 axis times `wanted` scales becomes `wanted` long.
        output = (*call.input[:axis], wanted, *call.input[axis + 1 :])
        if call.notes is not None:
            call.note(f"the scaled axis of size 1 broadcasts to projection_dim {wanted}")
        return Geometry(output)
    which = "last axis" if axis == len(call.input) - 1 else "channel axis"
    raise call.fail(
        f"projection_dim {wanted} does not match the {which} of its input "
        f"{show_shape(call.input)}, which has {size}; {call.framework.value} cannot broadcast "
        f"{wanted} scales against it: drop projection_dim, or give {size}"
    )


LAYER_SCALE_PARAMS: Formula[int] = Formula(
    "params = scales", "scales", note="one learned multiplier per channel"
)


def layer_scale_weights(call: Call, geometry: Geometry) -> Weights:
    wanted = call.values.get("projection_dim")
    scales = wanted if isinstance(wanted, int) else call.input[_scaled_axis(call)]
    return Weights(trainable=LAYER_SCALE_PARAMS.of(call, scales))


LAYER_SCALE = LayerKind(
    name="layer_scale",
    summary="a learned multiplier per channel, C parameters: ConvNeXt's layer scale "
    "(torchvision CNBlock's layer_scale parameter of shape (C, 1, 1) on the channels; Keras' "
    "LayerScale(init_values, projection_dim), whose gamma multiplies the last axis)",
    params=(
        Param(
            "projection_dim",
            WholeNumber(),
            None,
            "optional: the number of scales (Keras' projection_dim, torchvision's dim): the "
            "scaled axis' size, or 1 for one shared scale",
            ("dim", "num_channels"),
        ),
    ),
    # Keras' LayerScale(init_values, projection_dim)
    positional=("init_values", "projection_dim"),
    aliases=("LayerScale",),
    rank=None,
    shape=layer_scale_shape,
    weights=layer_scale_weights,
    macs=no_macs,
    receptive=Receptive.POINTWISE,
    ignored=("init_values", "layer_scale", "layer_scale_init_value", *IGNORED_ANY),
)

# -- stochastic depth ------------------------------------------------------------------------


def drop_path_shape(call: Call) -> Geometry:
    if call.framework is Framework.KERAS and "mode" in call.given:
        raise call.fail(
            "mode is torchvision's argument (StochasticDepth(p, mode)); keras' StochasticDepth "
            "takes only drop_path_rate, and drops whole samples as mode row does: drop mode"
        )
    return Geometry(call.input)


DROP_PATH = LayerKind(
    name="drop_path",
    summary="stochastic depth: drops a residual branch for random samples while training "
    "(torchvision StochasticDepth(p, mode), Keras ConvNeXt's StochasticDepth(drop_path_rate), "
    "timm's DropPath); no shape change, no parameters",
    params=(
        Param(
            "rate",
            Fraction(),
            REQUIRED,
            "probability of dropping the branch, 0 to 1",
            ("p", "drop_path_rate", "drop_prob", "stochastic_depth_prob"),
        ),
        Param(
            "mode",
            Choice(("row", "batch")),
            "row",
            "torchvision: row drops per sample, batch the whole batch (no effect on counts)",
        ),
    ),
    positional=("rate", "mode"),
    aliases=("StochasticDepth", "DropPath", "stochastic_depth"),
    rank=None,
    shape=drop_path_shape,
    weights=weightless("stochastic depth zeroes whole samples while training; nothing is learned"),
    macs=no_macs,
    receptive=Receptive.POINTWISE,
    ignored=("inplace", "scale_by_keep", "seed", *IGNORED_ANY),
)

# -- channel shuffle -------------------------------------------------------------------------


SHUFFLE_GROUP: Formula[int] = Formula("C_per_group = C//groups", "C groups")


def channel_shuffle_shape(call: Call) -> Geometry:
    if len(call.input) < 2:
        raise call.fail(
            f"channel_shuffle needs channels and at least one spatial axis, but its input "
            f"{show_shape(call.input)} is a flat vector; pytorch refuses that (channel_shuffle "
            "expects input with > 2 dims)"
        )
    groups, channels = call.number("groups"), call.channels
    if channels % groups:
        # PyTorch: "Number of channels must be divisible by groups".
        raise call.fail(
            f"groups {groups} does not divide the input's {channels} channels; pytorch refuses "
            f"that (Number of channels must be divisible by groups): use a divisor of "
            f"{channels}, such as {_largest_divisor(channels, groups)}"
        )
    if call.notes is not None:
        per_group = SHUFFLE_GROUP.of(call, channels, groups)
        call.note(
            f"channel i of group g moves to position i*groups + g ({groups} groups of "
            f"{per_group}): the same channels in a new order"
        )
    return Geometry(call.input)


CHANNEL_SHUFFLE = LayerKind(
    name="channel_shuffle",
    summary="ShuffleNet's channel shuffle: interleaves the channels of its groups (PyTorch "
    "ChannelShuffle(groups); Keras has no such layer, ShuffleNets there write it as reshape, "
    "permute and reshape); no shape change, no parameters",
    params=(
        Param(
            "groups",
            WholeNumber(),
            REQUIRED,
            "channel groups; must divide the input channels",
            ("num_groups",),
        ),
    ),
    positional=("groups",),
    aliases=("ChannelShuffle", "shuffle"),
    rank=None,
    shape=channel_shuffle_shape,
    weights=weightless("a channel shuffle only reorders the channels"),
    macs=no_macs,
    receptive=Receptive.POINTWISE,
    frameworks=(Framework.PYTORCH,),
    ignored=IGNORED_ANY,
    torch_names=("ChannelShuffle",),
)

# -- Keras' preprocessing: Rescaling, Normalization -----------------------------------------


def _along_last(call: Call, name: str, value: object) -> None:
    """Refuse a list of ``name`` values that keras cannot apply along the last axis."""
    if not isinstance(value, tuple) or len(value) in (1, call.input[-1]):
        return
    last = call.input[-1]
    where = (
        ", which in this channels-first input is not the channels"
        if not call.channels_last and len(call.input) > 1
        else ""
    )
    raise call.fail(
        f"{name} has {len(value)} values but the last axis of its input "
        f"{show_shape(call.input)} has {last}{where}; keras applies a list along the last axis "
        "(Incompatible shapes for broadcasting): give one value"
        + (f", or {last}" if last > 1 else "")
    )


def rescaling_shape(call: Call) -> Geometry:
    for name in ("scale", "offset"):
        _along_last(call, name, call.values[name])
    return Geometry(call.input)


RESCALING = LayerKind(
    name="rescaling",
    summary="Keras Rescaling(scale, offset): x*scale + offset, e.g. 1/255 for pixels; no "
    "shape change, no parameters (in PyTorch plain tensor arithmetic)",
    params=(
        Param(
            "scale",
            Numbers(),
            REQUIRED,
            "the multiplier: a number (1/255) or one per index of the last axis",
        ),
        Param(
            "offset",
            Numbers(),
            0,
            "added after scaling: a number or one per index of the last axis",
        ),
    ),
    positional=("scale", "offset"),
    aliases=("Rescaling", "rescale"),
    rank=None,
    shape=rescaling_shape,
    weights=weightless("rescaling multiplies and adds constants; nothing is learned"),
    macs=no_macs,
    receptive=Receptive.POINTWISE,
    frameworks=(Framework.KERAS,),
    ignored=IGNORED_ANY,
)


def _kept_axes(call: Call) -> tuple[int, ...]:
    """Keras Normalization's kept axes, counted with the batch as 0, sorted; refused as Keras
    refuses them."""
    axes = call.axes("axis")
    rank = len(call.input) + 1  # keras counts the batch
    for axis in axes:
        if not -rank <= axis < rank:
            raise call.fail(
                f"axis {axis} is out of range for its input {show_shape(call.input)}, which "
                f"with the batch has {rank} axes; keras refuses that (All axis values must be "
                f"in the range [-ndim, ndim)): use 1 to {rank - 1}, or -1 for the last"
            )
    kept = tuple(sorted(axis % rank for axis in axes))
    if len(set(kept)) != len(kept):
        raise call.fail(f"axis {show(list(axes))} names an axis twice; give each axis once")
    if 0 in kept:
        raise call.fail(
            "axis 0 is the batch, whose size keras does not know when it builds the layer "
            "(All axis values to be kept must have a known shape): use the axes after it, "
            "-1 for the last"
        )
    return kept


def _values_shape(value: object) -> tuple[int, ...]:
    return (len(value),) if isinstance(value, tuple) else ()


def normalization_shape(call: Call) -> Geometry:
    kept = _kept_axes(call)
    mean, variance = call.values.get("mean"), call.values.get("variance")
    if (mean is None) != (variance is None):
        raise call.fail(
            "give both mean and variance, or neither (then keras keeps them as weights, set "
            "by adapt()); keras refuses one alone (both mean and variance must be set)"
        )
    if mean is not None:
        if _values_shape(mean) != _values_shape(variance):
            raise call.fail(
                "mean and variance must have the same shape, as keras checks: both one "
                "number, or lists of the same length"
            )
        if isinstance(mean, tuple):
            if not kept:
                raise call.fail(
                    "mean and variance are lists but axis none keeps no axis: keras takes "
                    "one number for each then (The rank of mean must be less than or equal to "
                    "the number of axes)"
                )
            size = call.input[kept[-1] - 1]
            if len(mean) not in (1, size):
                raise call.fail(
                    f"mean and variance have {len(mean)} values but the axis they follow "
                    f"(axis {kept[-1]}) has {size}; keras broadcasts them onto it "
                    f"(Incompatible types for broadcasting): give one value, or {size}"
                )
    return Geometry(call.input)


NORMALIZATION_WEIGHTS: Formula[int] = Formula(
    "non_trainable = 2*kept + 1",
    "kept",
    note="a mean and a variance per kept index, and keras' count of samples seen",
)


def normalization_weights(call: Call, geometry: Geometry) -> Weights:
    notes = call.notes
    if call.framework is Framework.PYTORCH:
        if notes is not None:
            notes.append(
                "no weights: pytorch has no Normalization layer; torchvision's "
                "transforms.Normalize holds its mean and std as constants"
            )
        return Weights()
    if call.values.get("mean") is not None:
        if notes is not None:
            notes.append("no weights: mean and variance are given, kept as constants")
        return Weights()
    kept = _kept_axes(call)
    sizes = [call.input[axis - 1] for axis in kept]
    if notes is not None:
        names = _axis_names(call)
        if kept:
            axes = " ".join(names[axis - 1] for axis in kept)
            notes.append(f"kept axes: {axes} = {join_axes(sizes)}: kept = {math.prod(sizes):,}")
        else:
            notes.append("axis none: one mean and variance for every element: kept = 1")
    return Weights(non_trainable=NORMALIZATION_WEIGHTS.of(call, math.prod(sizes)))


NORMALIZATION = LayerKind(
    name="normalization",
    summary="Keras Normalization(axis=-1, mean, variance): (x - mean) / sqrt(variance) per "
    "index of the kept axes; without mean and variance it keeps them as weights, 2*C + 1 "
    "non-trainable (with a count), as EfficientNet's input has; no shape change",
    params=(
        Param(
            "axis",
            KerasAxes(),
            -1,
            "the axes with their own mean and variance, counting the batch as 0 (-1: the "
            "last); a list for several; none for one of each",
        ),
        Param(
            "mean",
            Numbers(),
            None,
            "given mean (a number, or one per index of the last kept axis): then no weights",
        ),
        Param(
            "variance",
            Numbers(),
            None,
            "given variance, with mean (the same shape): then no weights",
        ),
    ),
    # Keras' Normalization(axis, mean, variance, invert)
    positional=("axis", "mean", "variance"),
    aliases=("Normalization", "normalize"),
    rank=None,
    shape=normalization_shape,
    weights=normalization_weights,
    macs=no_macs,
    receptive=Receptive.POINTWISE,
    frameworks=(Framework.KERAS,),
    ignored=("invert", *IGNORED_ANY),
)


def _drop_path_saved(call: Call, geometry: Geometry) -> Saved:
    """Stochastic depth multiplies by a random scale, which it keeps: one per sample (row
    mode), one for the whole batch (batch mode; float32 counted). At rate 0 it returns its
    input untouched (torchvision's ``stochastic_depth``: ``if not training or p == 0.0``) and
    keeps nothing."""
    if call.values.get("rate") == 0:
        return Saved()
    if call.values.get("mode") == "batch":
        return Saved(statistics=1)
    return Saved(elements=1)


def _layernorm2d_saved(call: Call, geometry: Geometry) -> Saved:
    """torchvision's LayerNorm2d: a layer norm over the channels of a permuted view, which
    keeps that view (its input's storage, no copy) and a float32 mean and deviation a
    position (measured, torch 2.13)."""
    positions = math.prod(call.spatial)
    return Saved(input=True, raw_bytes=2 * 4 * positions)


CHANNEL_KINDS: tuple[LayerKind, ...] = (
    PERMUTE._replace(saved=a_view),
    LAYERNORM2D._replace(saved=_layernorm2d_saved),
    LAYER_SCALE._replace(saved=dense_saved),  # gamma * x keeps x for gamma's gradient
    DROP_PATH._replace(saved=_drop_path_saved),
    CHANNEL_SHUFFLE._replace(saved=keeps_nothing),
    RESCALING._replace(saved=keeps_nothing),
    NORMALIZATION._replace(saved=keeps_nothing),
)
