"""Depthwise and separable convolutions: one window per input channel.

Each rule is what its framework does, read from Keras 3.15 (``keras/src/layers/convolutional/
base_depthwise_conv.py``, ``base_separable_conv.py``) and PyTorch 2 (``torch/nn/modules/
conv.py``: a depthwise conv is a Conv with groups = in_channels), and confirmed by building the
layers in both. The parameters shared with the transposed convs are defined here once.
"""

from __future__ import annotations

import math

from ._kind import (
    Call,
    Geometry,
    LayerKind,
    Param,
    Receptive,
    Weights,
)
from ._settings import Framework
from ._values import PaddingValue, WholeNumber, join_axes
from ._vocab import (
    ACTIVATION_PARAM,
    BIAS_PARAM,
    DATA_FORMAT,
    DILATION,
    FILTERS,
    IGNORED_DEPTHWISE,
    IN_CHANNELS_PARAM,
    KERNEL,
    STRIDE,
)
from ._window import check_in_channels, check_pytorch_strided_same, slide_axes

DEPTH_MULTIPLIER = Param(
    "depth_multiplier",
    WholeNumber(),
    1,
    "outputs per input channel in the depthwise step",
    ("channel_multiplier",),
)
WINDOW_PADDING = Param(
    "padding",
    PaddingValue(("valid", "same")),
    "valid",
    "valid, same, or zeros per side: 1 or one per axis (1x2)",
)


def taps(kernel: tuple[int, ...]) -> str:
    """A kernel's taps as a product for explanations: ``3*3``."""
    return "*".join(map(str, kernel))


def shown_axes(values: list[int] | tuple[int, ...]) -> str:
    """A per-axis value as a user would write it: ``1`` when every axis agrees, else ``1x2``."""
    return str(values[0]) if len(set(values)) == 1 else join_axes(values)


# -- depthwise and separable: one window per input channel ------------------------------------


def _depthwise_windows(call: Call, channels: int) -> Geometry:
    """The sliding-window shape shared by depthwise and separable convs.

    Keras 3 does not refuse stride > 1 with dilation > 1 here, unlike its plain conv (its
    depthwise and separable layers have no such check, and the TensorFlow backend decomposes
    the pair); PyTorch's grouped conv allows it too. ``same`` with a stride is Keras only,
    as for any PyTorch conv.
    """
    check_in_channels(call)
    stride = call.axes("stride")
    keras = call.framework is Framework.KERAS
    check_pytorch_strided_same(call, stride)
    return slide_axes(call, "kernel", same_fixes=keras or max(stride) == 1, channels=channels)


def depthwise_shape(call: Call) -> Geometry:
    multiplier = call.number("depth_multiplier")
    channels = call.channels * multiplier
    if call.notes is not None:
        call.note(f"channels: {call.channels} * depth_multiplier {multiplier} = {channels}")
    return _depthwise_windows(call, channels)


def depthwise_weights(call: Call, geometry: Geometry) -> Weights:
    # Keras: a kernel of kernel + (C, depth_multiplier) and a bias of C*depth_multiplier;
    # PyTorch Conv(C, C*dm, groups=C): a weight of (C*dm, 1, kernel...) and a bias of C*dm.
    kernel, bias = call.axes("kernel"), call.flag("bias")
    outputs = call.channels * call.number("depth_multiplier")
    total = math.prod(kernel) * outputs + (outputs if bias else 0)
    if call.notes is not None:
        call.note(
            f"params: {taps(kernel)}*{call.channels}*{call.number('depth_multiplier')}"
            + (f" + {outputs} bias" if bias else " (no bias)")
            + f" = {total:,}"
        )
    return Weights(trainable=total)


def depthwise_macs(call: Call, geometry: Geometry) -> int:
    kernel = call.axes("kernel")
    macs = math.prod(geometry.output) * math.prod(kernel)
    if call.notes is not None:
        call.note(
            f"MACs: {'*'.join(map(str, geometry.output))} outputs * {taps(kernel)} taps "
            f"(one input channel each) = {macs:,}"
        )
    return macs


def _depthwise_kind(rank: int) -> LayerKind:
    return LayerKind(
        name=f"depthwise_conv{rank}d",
        summary=f"one window per input channel, C*depth_multiplier outputs (Keras "
        f"DepthwiseConv{rank}D; PyTorch Conv{rank}d with groups = in_channels)",
        params=(
            KERNEL,
            STRIDE,
            WINDOW_PADDING,
            DILATION,
            DEPTH_MULTIPLIER,
            BIAS_PARAM,
            ACTIVATION_PARAM,
            IN_CHANNELS_PARAM,
            DATA_FORMAT,
        ),
        # Keras' DepthwiseConv2D(kernel_size, strides, padding, depth_multiplier, data_format,
        # dilation_rate, activation, use_bias)
        positional=(
            "kernel",
            "stride",
            "padding",
            "depth_multiplier",
            "data_format",
            "dilation",
            "activation",
            "bias",
        ),
        aliases=(f"DepthwiseConv{rank}D", f"DepthwiseConv{rank}d", f"dwconv{rank}d")
        + (("dwconv", "depthwise_conv") if rank == 2 else ()),
        rank=rank,
        shape=depthwise_shape,
        weights=depthwise_weights,
        macs=depthwise_macs,
        receptive=Receptive.WINDOW,
        ignored=IGNORED_DEPTHWISE,
    )


def separable_shape(call: Call) -> Geometry:
    return _depthwise_windows(call, call.number("filters"))


def separable_weights(call: Call, geometry: Geometry) -> Weights:
    # Keras: depthwise kernel (kernel, C, dm), pointwise kernel (1.., C*dm, filters) and ONE
    # bias, of filters, on the pointwise part.
    kernel, bias = call.axes("kernel"), call.flag("bias")
    filters, middle = call.number("filters"), call.channels * call.number("depth_multiplier")
    depthwise = math.prod(kernel) * middle
    pointwise = middle * filters
    total = depthwise + pointwise + (filters if bias else 0)
    if call.notes is not None:
        call.note(
            f"params: depthwise {taps(kernel)}*{call.channels}*"
            f"{call.number('depth_multiplier')} = {depthwise:,}; pointwise {middle}*{filters} "
            f"= {pointwise:,}"
            + (f"; bias {filters}" if bias else "; no bias")
            + f"; total {total:,}"
        )
    return Weights(trainable=total)


def separable_macs(call: Call, geometry: Geometry) -> int:
    kernel = call.axes("kernel")
    middle = call.channels * call.number("depth_multiplier")
    filters = call.number("filters")
    positions = math.prod(geometry.output) // filters
    depthwise = positions * middle * math.prod(kernel)
    pointwise = positions * middle * filters
    if call.notes is not None:
        call.note(
            f"MACs: depthwise {positions:,} positions * {middle} channels * {taps(kernel)} "
            f"taps = {depthwise:,}; pointwise {positions:,} * {middle} * {filters} = "
            f"{pointwise:,}; total {depthwise + pointwise:,}"
        )
    return depthwise + pointwise


def _separable_kind(rank: int) -> LayerKind:
    return LayerKind(
        name=f"separable_conv{rank}d",
        summary=f"depthwise then 1x1 pointwise, one bias on the pointwise part (Keras "
        f"SeparableConv{rank}D; in PyTorch counted as Conv{rank}d(groups=C, bias=False) "
        f"then a 1x1 Conv{rank}d)",
        params=(
            FILTERS,
            KERNEL,
            STRIDE,
            WINDOW_PADDING,
            DILATION,
            DEPTH_MULTIPLIER,
            BIAS_PARAM,
            ACTIVATION_PARAM,
            IN_CHANNELS_PARAM,
            DATA_FORMAT,
        ),
        # Keras' SeparableConv2D(filters, kernel_size, strides, padding, data_format,
        # dilation_rate, depth_multiplier, activation, use_bias)
        positional=(
            "filters",
            "kernel",
            "stride",
            "padding",
            "data_format",
            "dilation",
            "depth_multiplier",
            "activation",
            "bias",
        ),
        aliases=(
            f"SeparableConv{rank}D",
            f"SeparableConvolution{rank}D",
            f"SeparableConv{rank}d",
            f"sepconv{rank}d",
        )
        + (("sepconv", "separable_conv") if rank == 2 else ()),
        rank=rank,
        shape=separable_shape,
        weights=separable_weights,
        macs=separable_macs,
        receptive=Receptive.WINDOW,
        ignored=IGNORED_DEPTHWISE,
    )


DEPTHWISE_KINDS: tuple[LayerKind, ...] = (
    *(_depthwise_kind(rank) for rank in (1, 2)),
    *(_separable_kind(rank) for rank in (1, 2)),
)
