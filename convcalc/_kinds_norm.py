"""Layer and group normalisation: no shape change, a learned scale and shift.

Counts follow Keras 3.15 (``keras/src/layers/normalization/layer_normalization.py``,
``group_normalization.py``) and PyTorch 2 (``torch/nn/modules/normalization.py``): neither
keeps running statistics, so everything counted is trainable. Batch normalisation, whose two
frameworks count differently, is in ``_kinds_basic``.
"""

from __future__ import annotations

import math

from ._formula import Formula, axes_of
from ._kind import (
    REQUIRED,
    Call,
    Geometry,
    LayerKind,
    Param,
    Receptive,
    Saved,
    Weights,
    no_macs,
)
from ._settings import Framework
from ._values import Flag, Shape, WholeNumber, join_axes
from ._vocab import IGNORED_NORM

# -- layer normalisation ------------------------------------------------------------------


def _layernorm_axes(call: Call) -> int:
    """How many trailing axes are normalised: ``axes``, or PyTorch's ``normalized_shape``."""
    axes = call.number("axes")
    expected = call.values.get("normalized_shape")
    if expected is None:
        return axes
    assert isinstance(expected, tuple)
    if "axes" in call.given and axes != len(expected):
        raise call.fail(
            f"axes {axes} and normalized_shape {join_axes(expected)} ({len(expected)} axes) "
            "disagree; give one of them"
        )
    trailing = call.input[-len(expected) :]
    if len(expected) > len(call.input) or trailing != expected:
        # PyTorch: "Given normalized_shape=..., expected input with shape [*, ...]".
        raise call.fail(
            f"normalized_shape {join_axes(expected)} does not match the end of its input "
            f"{join_axes(call.input)}; it must be the input's last axes, as PyTorch checks"
        )
    return len(expected)


def layernorm_shape(call: Call) -> Geometry:
    axes = _layernorm_axes(call)
    if axes > len(call.input):
        raise call.fail(
            f"axes {axes} is more than the {len(call.input)} axes of its input "
            f"{join_axes(call.input)}; axes counts the trailing axes normalised: use "
            f"{len(call.input)} or less"
        )
    return Geometry(call.input)


LAYERNORM_PARAMS: Formula[int] = Formula(
    "params = (scale + bias) * normalised",
    "scale bias *normalised",
    note="per normalised element",
    spell={"normalised": lambda call: axes_of(call)[-_layernorm_axes(call) :]},
)


def layernorm_weights(call: Call, geometry: Geometry) -> Weights:
    # Keras' gamma and beta, PyTorch's weight and bias: each the shape of the normalised axes.
    if not call.flag("affine"):
        if call.notes is not None:
            call.note("params = 0: affine off, no scale or shift")
        return Weights()
    normalised = call.input[-_layernorm_axes(call) :]
    total = LAYERNORM_PARAMS.of(call, 1, call.flag("bias"), normalised)
    return Weights(trainable=total)


LAYERNORM = LayerKind(
    name="layernorm",
    summary="normalises each sample over its last axes (Keras LayerNormalization, PyTorch "
    "LayerNorm); 2 parameters per normalised element",
    params=(
        Param(
            "axes",
            WholeNumber(),
            1,
            "how many trailing axes are normalised (1: the last axis)",
        ),
        Param(
            "affine",
            Flag(),
            True,
            "learn a scale and shift per normalised element",
            ("elementwise_affine",),
        ),
        Param(
            "bias",
            Flag(),
            True,
            "learn the shift too (PyTorch's bias, Keras' center); false leaves the scale",
            ("center",),
        ),
        Param(
            "normalized_shape",
            Shape(),
            None,
            "PyTorch's argument: the input's last axes, e.g. 64 or 7x7x64; sets axes",
        ),
    ),
    positional=(),
    aliases=("LayerNormalization", "LayerNorm", "ln", "layer_norm"),
    ignored=IGNORED_NORM,
    torch_names=("LayerNorm",),
    # PyTorch's LayerNorm(normalized_shape, eps, elementwise_affine, bias)
    torch_positional=("normalized_shape", "eps", "affine", "bias"),
    rank=None,
    shape=layernorm_shape,
    weights=layernorm_weights,
    macs=no_macs,
    receptive=Receptive.POINTWISE,
)

# -- group normalisation ------------------------------------------------------------------


GROUP_SIZE: Formula[int] = Formula("C_per_group = C//groups", "C groups")


def groupnorm_shape(call: Call) -> Geometry:
    groups, channels = call.number("groups"), call.channels
    expected = call.values.get("num_channels")
    if expected is not None and expected != channels:
        raise call.fail(
            f"num_channels {expected} does not match its input, which has {channels} "
            f"channels (shape {join_axes(call.input)}); drop num_channels or fix the layer "
            "before"
        )
    if channels % groups:
        # PyTorch: "num_channels must be divisible by num_groups"; Keras refuses it too, and
        # groups above the channel count.
        nearest = _largest_divisor(channels, groups)
        raise call.fail(
            f"groups {groups} does not divide the input's {channels} channels; use a divisor "
            f"of {channels}, such as {nearest}"
        )
    per_group = GROUP_SIZE.of(call, channels, groups) * math.prod(call.spatial)
    batch = call.settings.batch or 1
    if call.framework is Framework.PYTORCH and batch * per_group == 1:
        # torch.nn.functional.group_norm refuses a group of one value in the whole batch, in
        # training and inference alike: "Expected more than 1 value per channel".
        raise call.fail(
            f"with groups {groups}, each group holds one value per sample ({channels}/{groups} "
            "channels"
            + (f" x {join_axes(call.spatial)} positions" if call.spatial else "")
            + f") and the batch is {batch}; pytorch refuses that (Expected more than 1 value "
            "per channel): use fewer groups, or a larger --batch"
        )
    return Geometry(call.input)


def _largest_divisor(number: int, limit: int) -> int:
    """The largest divisor of ``number`` that is at most ``limit``: a search up to the square
    root, so a billion channels take milliseconds, not a billion steps."""
    best = 1
    low = 1
    while low * low <= number:
        if number % low == 0:
            for divisor in (low, number // low):
                if best < divisor <= limit:
                    best = divisor
        low += 1
    return best


GROUPNORM_PARAMS: Formula[int] = Formula(
    "params = 2*C", "C", note="a scale and a shift per channel"
)


def groupnorm_weights(call: Call, geometry: Geometry) -> Weights:
    # A scale and shift per channel: Keras' gamma and beta, PyTorch's weight and bias.
    if not call.flag("affine"):
        if call.notes is not None:
            call.note("params = 0: affine off, no scale or shift")
        return Weights()
    return Weights(trainable=GROUPNORM_PARAMS.of(call, call.channels))


GROUPNORM = LayerKind(
    name="groupnorm",
    summary="normalises groups of channels (Keras GroupNormalization, PyTorch GroupNorm); "
    "2 parameters per channel",
    params=(
        Param(
            "groups",
            WholeNumber(),
            REQUIRED,
            "channel groups; must divide the input channels",
            ("num_groups",),
        ),
        Param(
            "affine",
            Flag(),
            True,
            "learn a scale and shift per channel (Keras center/scale)",
            ("center_scale",),
        ),
        Param(
            "num_channels",
            WholeNumber(),
            None,
            "optional check: the channels this layer expects (PyTorch's second argument)",
        ),
    ),
    positional=("groups",),
    aliases=("GroupNormalization", "GroupNorm", "gn", "group_norm"),
    ignored=IGNORED_NORM,
    torch_names=("GroupNorm",),
    # PyTorch's GroupNorm(num_groups, num_channels, eps, affine)
    torch_positional=("groups", "num_channels", "eps", "affine"),
    rank=None,
    shape=groupnorm_shape,
    weights=groupnorm_weights,
    macs=no_macs,
    receptive=Receptive.POINTWISE,
)


def _layernorm_saved(call: Call, geometry: Geometry) -> Saved:
    """Layer norm keeps its input and a float32 mean and inverse deviation per normalised
    group of elements."""
    groups = math.prod(call.input) // math.prod(call.input[-_layernorm_axes(call) :])
    return Saved(input=True, raw_bytes=2 * 4 * groups)


def _groupnorm_saved(call: Call, geometry: Geometry) -> Saved:
    """Group norm keeps its input and a float32 mean and inverse deviation per group."""
    return Saved(input=True, raw_bytes=2 * 4 * call.number("groups"))


NORM_KINDS: tuple[LayerKind, ...] = (
    LAYERNORM._replace(saved=_layernorm_saved),
    GROUPNORM._replace(saved=_groupnorm_saved),
)
