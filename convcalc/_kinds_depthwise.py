"""Depthwise and separable convolutions: one window per input channel.

Each rule is what its framework does, read from Keras 3.15 (``keras/src/layers/convolutional/
base_depthwise_conv.py``, ``base_separable_conv.py``) and PyTorch 2 (``torch/nn/modules/
conv.py``: a depthwise conv is a Conv with groups = in_channels), and confirmed by building the
layers in both. The parameters shared with the transposed convs are defined here once.
"""

from __future__ import annotations

import math

from ._formula import Formula, kernel_of, outputs_of, positions_of
from ._kind import (
    Call,
    Geometry,
    LayerKind,
    Param,
    Receptive,
    Saved,
    Weights,
)
from ._saved import CONV_SAVED, with_activation
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


DEPTHWISE_CHANNELS: Formula[int] = Formula("C_out = C_in*depth_multiplier", "C_in depth_multiplier")
DEPTHWISE_PARAMS: Formula[int] = Formula(
    "params = (kernel + bias) * C_in*depth_multiplier",
    "*kernel bias C_in depth_multiplier",
    spell={"kernel": kernel_of},
)
DEPTHWISE_MACS: Formula[int] = Formula(
    "MACs = outputs * kernel",
    "*outputs *kernel",
    note="one input channel each",
    spell={"outputs": outputs_of("C_out"), "kernel": kernel_of},
)


def depthwise_shape(call: Call) -> Geometry:
    channels = DEPTHWISE_CHANNELS.of(call, call.channels, call.number("depth_multiplier"))
    return _depthwise_windows(call, channels)


def depthwise_weights(call: Call, geometry: Geometry) -> Weights:
    # Keras: a kernel of kernel + (C, depth_multiplier) and a bias of C*depth_multiplier;
    # PyTorch Conv(C, C*dm, groups=C): a weight of (C*dm, 1, kernel...) and a bias of C*dm.
    total = DEPTHWISE_PARAMS.of(
        call,
        call.axes("kernel"),
        call.flag("bias"),
        call.channels,
        call.number("depth_multiplier"),
    )
    return Weights(trainable=total)


def depthwise_macs(call: Call, geometry: Geometry) -> int:
    return DEPTHWISE_MACS.of(call, geometry.output, call.axes("kernel"))


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


SEPARABLE_DEPTHWISE: Formula[int] = Formula(
    "depthwise = kernel*C_in*depth_multiplier",
    "*kernel C_in depth_multiplier",
    spell={"kernel": kernel_of},
)
SEPARABLE_POINTWISE: Formula[int] = Formula(
    "pointwise = C_in*depth_multiplier*filters", "C_in depth_multiplier filters"
)
SEPARABLE_PARAMS: Formula[int] = Formula(
    "params = depthwise + pointwise + bias*filters", "depthwise pointwise bias filters"
)
SEPARABLE_MACS_DEPTHWISE: Formula[int] = Formula(
    "MACs_depthwise = positions * C_in*depth_multiplier * kernel",
    "*positions C_in depth_multiplier *kernel",
    spell={"positions": positions_of, "kernel": kernel_of},
)
SEPARABLE_MACS_POINTWISE: Formula[int] = Formula(
    "MACs_pointwise = positions * C_in*depth_multiplier * filters",
    "*positions C_in depth_multiplier filters",
    spell={"positions": positions_of},
)
SEPARABLE_MACS: Formula[int] = Formula(
    "MACs = MACs_depthwise + MACs_pointwise", "MACs_depthwise MACs_pointwise"
)


def separable_weights(call: Call, geometry: Geometry) -> Weights:
    # Keras: depthwise kernel (kernel, C, dm), pointwise kernel (1.., C*dm, filters) and ONE
    # bias, of filters, on the pointwise part.
    channels, multiplier = call.channels, call.number("depth_multiplier")
    filters = call.number("filters")
    inner = SEPARABLE_DEPTHWISE.of(call, call.axes("kernel"), channels, multiplier)
    outer = SEPARABLE_POINTWISE.of(call, channels, multiplier, filters)
    total = SEPARABLE_PARAMS.of(call, inner, outer, call.flag("bias"), filters)
    return Weights(trainable=total)


def separable_macs(call: Call, geometry: Geometry) -> int:
    channels, multiplier = call.channels, call.number("depth_multiplier")
    filters = call.number("filters")
    output = geometry.output
    positions = output[:-1] if call.channels_last else output[1:]
    kernel = call.axes("kernel")
    inner = SEPARABLE_MACS_DEPTHWISE.of(call, positions, channels, multiplier, kernel)
    outer = SEPARABLE_MACS_POINTWISE.of(call, positions, channels, multiplier, filters)
    return SEPARABLE_MACS.of(call, inner, outer)


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


def _separable_saved(call: Call, geometry: Geometry) -> Saved:
    """Two convolutions: the depthwise one keeps the input, the pointwise one the depthwise
    output, a tensor of the layer's own (positions * C * depth_multiplier)."""
    positions = math.prod(geometry.output) // _channels_of(call, geometry.output)
    middle = positions * call.channels * call.number("depth_multiplier")
    return Saved(input=True, elements=middle)


def _channels_of(call: Call, shape: tuple[int, ...]) -> int:
    return shape[-1] if call.channels_last else shape[0]


DEPTHWISE_KINDS: tuple[LayerKind, ...] = (
    *(_depthwise_kind(rank)._replace(saved=CONV_SAVED) for rank in (1, 2)),
    *(_separable_kind(rank)._replace(saved=with_activation(_separable_saved)) for rank in (1, 2)),
)
