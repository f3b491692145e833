"""Sliding-window kinds: convolutions and pools on 1, 2 or 3 spatial axes.

Each rule follows what its framework does (checked against Keras 3 and PyTorch 2 sources):
Keras refuses stride > 1 with dilation > 1 in one conv and has ``same`` pools; PyTorch allows
``same`` only for stride-1 convs, has ``ceil_mode`` pools, and refuses pool padding over half
the window.
"""

from __future__ import annotations

import math

from ._formula import Formula, kernel_of, outputs_of, weightless
from ._kind import (
    Call,
    Geometry,
    LayerKind,
    Param,
    Receptive,
    SameAs,
    Saved,
    Weights,
    keeps_input,
    no_macs,
)
from ._saved import CONV_SAVED
from ._settings import Framework
from ._values import Flag, PaddingValue, PerAxis, axes_word
from ._vocab import (
    ACTIVATION_PARAM,
    BIAS_PARAM,
    DATA_FORMAT,
    DILATION,
    FILTERS,
    GROUPS,
    IGNORED_AVGPOOL,
    IGNORED_CONV,
    IGNORED_MAXPOOL,
    IN_CHANNELS_PARAM,
    KERNEL,
    PADDING_MODE,
    STRIDE,
)
from ._window import (
    check_groups,
    check_in_channels,
    check_keras_stride_with_dilation,
    check_padding_mode,
    check_pytorch_strided_same,
    slide_axes,
)

# -- convolutions -----------------------------------------------------------------------------


def _conv_params(rank: int) -> tuple[Param, ...]:
    padding_modes = ("valid", "same", "causal") if rank == 1 else ("valid", "same")
    padding = Param(
        "padding",
        PaddingValue(padding_modes),
        "valid",
        "valid, same"
        + (", causal (keras)" if rank == 1 else "")
        + ", or zeros per side: 1 or one per axis (1x2)",
    )
    return (
        FILTERS,
        KERNEL,
        STRIDE,
        padding,
        DILATION,
        GROUPS,
        BIAS_PARAM,
        ACTIVATION_PARAM,
        IN_CHANNELS_PARAM,
        DATA_FORMAT,
        PADDING_MODE,
    )


CONV_POSITIONAL = (
    "filters",
    "kernel",
    "stride",
    "padding",
    "data_format",
    "dilation",
    "groups",
    "activation",
    "bias",
)
"""Keras' ``Conv2D(filters, kernel_size, strides, padding, data_format, dilation_rate, groups,
activation, use_bias)``: the order of convcalc's own spelling too."""
TORCH_CONV_POSITIONAL = (
    "in_channels",
    "filters",
    "kernel",
    "stride",
    "padding",
    "dilation",
    "groups",
    "bias",
    "padding_mode",
)
"""PyTorch's ``Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation,
groups, bias, padding_mode)``."""


def conv_shape(call: Call) -> Geometry:
    check_in_channels(call)
    filters, groups = call.number("filters"), call.number("groups")
    stride, dilation, padding = call.axes("stride"), call.axes("dilation"), call.padding()
    check_groups(call, groups, filters)
    check_keras_stride_with_dilation(call, stride, dilation)
    check_pytorch_strided_same(call, stride)
    keras = call.framework is Framework.KERAS
    if padding == "causal" and not keras:
        raise call.fail(
            "padding causal is keras only; in pytorch pad by hand: "
            f"padding {call.axes('dilation')[0] * (call.axes('kernel')[0] - 1)} and crop the end"
        )
    check_padding_mode(call)
    return slide_axes(call, "kernel", same_fixes=keras or max(stride) == 1, channels=filters)


CONV_PARAMS: Formula[int] = Formula(
    "params = (kernel*C_in//groups + bias) * filters",
    "*kernel C_in groups bias filters",
    spell={"kernel": kernel_of},
)
CONV_MACS: Formula[int] = Formula(
    "MACs = outputs * C_in//groups * kernel",
    "*outputs C_in groups *kernel",
    spell={"outputs": outputs_of("filters"), "kernel": kernel_of},
)


def conv_weights(call: Call, geometry: Geometry) -> Weights:
    total = CONV_PARAMS.of(
        call,
        call.axes("kernel"),
        call.channels,
        call.number("groups"),
        call.flag("bias"),
        call.number("filters"),
    )
    return Weights(trainable=total)


def conv_macs(call: Call, geometry: Geometry) -> int:
    return CONV_MACS.of(
        call, geometry.output, call.channels, call.number("groups"), call.axes("kernel")
    )


def _conv_kind(rank: int) -> LayerKind:
    name = f"conv{rank}d"
    short = ("conv",) if rank == 2 else ()
    return LayerKind(
        name=name,
        summary=f"convolution over {rank} spatial {axes_word(rank)} "
        f"(Keras Conv{rank}D, PyTorch Conv{rank}d)",
        params=_conv_params(rank),
        positional=CONV_POSITIONAL,
        aliases=(f"Conv{rank}D", f"Conv{rank}d", f"Convolution{rank}D", *short),
        rank=rank,
        shape=conv_shape,
        weights=conv_weights,
        macs=conv_macs,
        receptive=Receptive.WINDOW,
        ignored=IGNORED_CONV,
        torch_names=(f"Conv{rank}d",),
        torch_positional=TORCH_CONV_POSITIONAL,
        saved=CONV_SAVED,
    )


# -- pools ----------------------------------------------------------------------------------

_POOL_PARAMS = (
    Param(
        "size",
        PerAxis(),
        2,
        "window size: one for all axes (2) or per axis (2x1)",
        ("pool_size", "kernel_size", "kernel"),
    ),
    Param(
        "stride",
        PerAxis(),
        SameAs("size"),
        "step between windows",
        ("strides",),
    ),
    Param(
        "padding",
        PaddingValue(("valid", "same")),
        "valid",
        "valid, same (keras), or zeros per side: 1 or one per axis (1x0)",
    ),
    Param(
        "ceil_mode",
        Flag(),
        False,
        "pytorch: round the output size up (a window starting in the right padding is dropped)",
    ),
    DATA_FORMAT,
)
MAXPOOL_PARAMS = (
    *_POOL_PARAMS,
    Param("dilation", PerAxis(), 1, "pytorch MaxPool: gap between window taps"),
)
AVGPOOL_PARAMS = _POOL_PARAMS
POOL_POSITIONAL = ("size", "stride", "padding", "data_format")
"""Keras' ``MaxPooling2D(pool_size, strides, padding, data_format)``."""
TORCH_POOL_POSITIONAL = {
    "max": ("size", "stride", "padding", "dilation", "return_indices", "ceil_mode"),
    "avg": ("size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"),
}
"""PyTorch's ``MaxPool2d(kernel_size, stride, padding, dilation, return_indices, ceil_mode)``
and ``AvgPool2d(kernel_size, stride, padding, ceil_mode, count_include_pad,
divisor_override)``."""


def pool_shape(call: Call) -> Geometry:
    padding = call.padding()
    keras = call.framework is Framework.KERAS
    size = call.axes("size")
    dilation = call.axes("dilation") if "dilation" in call.values else (1,) * len(size)
    if keras and max(dilation) > 1:
        raise call.fail(
            "keras pools have no dilation; it is pytorch's MaxPool argument: use "
            "--framework pytorch, or dilation 1"
        )
    if keras and call.flag("ceil_mode"):
        raise call.fail(
            "ceil_mode is pytorch only; keras pools round down, or keep every input with "
            "padding: same"
        )
    if not keras and padding == "same":
        raise call.fail(
            "padding same for pools is keras only; in pytorch give zeros per side "
            "(at most half the pool size)"
        )
    if not keras and isinstance(padding, tuple):
        for axis, (taps, (before, _)) in enumerate(zip(size, padding, strict=True)):
            # PyTorch checks the padding against half the effective window, then (max pools,
            # in their own kernels) against half the pool size itself: the second decides.
            if 2 * before > taps:
                raise call.fail(
                    f"padding {before} is more than half the pool size {taps} on "
                    f"{call.axis_labels()[axis]}; pytorch refuses it (pad should be at most "
                    f"half of kernel size): use padding {taps // 2} or less"
                )
    if not keras and call.kind.name == "avgpool3d":
        # PyTorch's avg_pool3d alone checks the unpadded input against the window
        # (pool3d_shape_check with check_input_size), whatever the padding.
        for axis, (length, window) in enumerate(zip(call.spatial, size, strict=True)):
            if length < window:
                raise call.fail(
                    f"pool size {window} is larger than its input on {call.axis_labels()[axis]} "
                    f"({length}); pytorch's AvgPool3d refuses that even with padding: use a "
                    "smaller pool size or a larger input"
                )
    return slide_axes(call, "pool size", same_fixes=keras, channels=call.channels)


def _max_pool_saved(call: Call, geometry: Geometry) -> Saved:
    """Max pooling keeps its input and the int64 index of each output's maximum."""
    return Saved(input=True, raw_bytes=8 * math.prod(geometry.output))


def _pool_kind(rank: int, kind: str) -> LayerKind:
    keras_name = {"max": "MaxPooling", "avg": "AveragePooling"}[kind]
    torch_name = {"max": "MaxPool", "avg": "AvgPool"}[kind]
    short: tuple[str, ...] = ()
    if rank == 2:
        short = ("pool", "maxpool") if kind == "max" else ("avgpool", "averagepool")
    return LayerKind(
        name=f"{kind}pool{rank}d",
        summary=f"{'max' if kind == 'max' else 'average'} pooling over {rank} spatial "
        f"{axes_word(rank)} ({keras_name}{rank}D, {torch_name}{rank}d)",
        params=MAXPOOL_PARAMS if kind == "max" else AVGPOOL_PARAMS,
        positional=POOL_POSITIONAL,
        aliases=(f"{keras_name}{rank}D", f"{torch_name}{rank}D", f"{torch_name}{rank}d", *short),
        rank=rank,
        shape=pool_shape,
        weights=weightless(f"a pool takes the {'max' if kind == 'max' else 'mean'} of each window"),
        macs=no_macs,
        receptive=Receptive.WINDOW,
        ignored=IGNORED_MAXPOOL if kind == "max" else IGNORED_AVGPOOL,
        torch_names=(f"{torch_name}{rank}d",),
        torch_positional=TORCH_POOL_POSITIONAL[kind],
        saved=_max_pool_saved if kind == "max" else keeps_input,
    )


WINDOW_KINDS: tuple[LayerKind, ...] = (
    *(_conv_kind(rank) for rank in (1, 2, 3)),
    *(_pool_kind(rank, "max") for rank in (1, 2, 3)),
    *(_pool_kind(rank, "avg") for rank in (1, 2, 3)),
)
