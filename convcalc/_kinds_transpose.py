"""Transposed convolutions: the shape a conv's input would have, from its output.

PyTorch: ``out = (in-1)*stride - pad_total + dilation*(kernel-1) + output_padding + 1``
(``torch/nn/modules/conv.py`` and ATen's checks). Keras 3.15 has its own rule for ``valid`` and
``same``, with and without ``output_padding``
(``keras/src/backend/common/backend_utils.py``: ``_get_output_shape_given_tf_padding``), and
its own refusals (``keras/src/layers/convolutional/base_conv_transpose.py``). Confirmed by
building the layers in both.
"""

from __future__ import annotations

from ._formula import Formula, inputs_of, kernel_of
from ._kind import (
    SPELLED,
    Call,
    Geometry,
    LayerKind,
    Param,
    Receptive,
    Weights,
)
from ._kinds_depthwise import shown_axes
from ._saved import CONV_SAVED
from ._settings import Framework
from ._values import PaddingValue, PerAxis, WholeNumber, axes_word
from ._vocab import (
    ACTIVATION_PARAM,
    BIAS_PARAM,
    DATA_FORMAT,
    DILATION,
    FILTERS,
    IGNORED_CONV,
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
    effective,
)

# -- transposed convolutions ---------------------------------------------------------------


def _transpose_checks(call: Call) -> None:
    """What each framework refuses before it computes a transposed conv's shape."""
    check_in_channels(call)
    check_padding_mode(call, transposed=True)
    rank = len(call.spatial)
    filters, groups = call.number("filters"), call.number("groups")
    stride, dilation = call.axes("stride"), call.axes("dilation")
    output_padding = call.optional_axes("output_padding")
    padding = call.padding()
    labels = call.axis_labels()
    if call.framework is Framework.KERAS:
        if groups != 1:
            raise call.fail(
                f"keras Conv{rank}DTranspose has no groups (groups {groups}); use groups 1, "
                "or --framework pytorch (ConvTranspose takes groups)"
            )
        if isinstance(padding, tuple):
            raise call.fail(
                f"keras Conv{rank}DTranspose takes padding valid or same, not "
                f"{shown_axes([before for before, _ in padding])} zeros; in pytorch padding p "
                f"removes p from each end of the output: in keras, use valid and then "
                f"cropping{rank}d"
            )
        check_keras_stride_with_dilation(call, stride, dilation)
        # Keras: "output_padding must be strictly less than strides for all dimensions".
        for axis, (extra, step) in enumerate(zip(output_padding or stride, stride, strict=True)):
            if output_padding is not None and extra >= step:
                raise call.fail(
                    f"output_padding {extra} on {labels[axis]} is not smaller than the stride "
                    f"{step}; keras needs output_padding < stride: use {step - 1} or less"
                )
        return
    check_groups(call, groups, filters)
    if padding == "same":
        raise call.fail(
            "pytorch ConvTranspose takes padding as a number of zeros, not same" + _same_hint(call)
        )
    if padding == "valid" and "padding" in call.given and call.values.get(SPELLED):
        raise call.fail(
            "pytorch ConvTranspose takes padding as a number, not valid (a TypeError there): "
            "write padding 0"
        )
    # ATen: "output padding must be smaller than either stride or dilation", axis by axis.
    for axis, (extra, step, gap) in enumerate(
        zip(output_padding or stride, stride, dilation, strict=True)
    ):
        if output_padding is not None and extra >= step and extra >= gap:
            raise call.fail(
                f"output_padding {extra} on {labels[axis]} is not smaller than the stride "
                f"{step} or the dilation {gap}; pytorch needs output_padding smaller than "
                f"either: use {max(step, gap) - 1} or less"
            )


def _same_hint(call: Call) -> str:
    """The padding and output_padding that give PyTorch keras' ``same`` size, in * stride."""
    kernel, stride, dilation = call.axes("kernel"), call.axes("stride"), call.axes("dilation")
    pads: list[int] = []
    extras: list[int] = []
    for k, s, d in zip(kernel, stride, dilation, strict=True):
        # (in-1)*s - 2p + d*(k-1) + op + 1 = in*s  <=>  2p - op = d*(k-1) + 1 - s
        need = effective(k, d) - s
        pad = max(-(-need // 2), 0)
        extra = 2 * pad - need
        if extra >= s and extra >= d:
            return "; for an output of input * stride use --framework keras"
        pads.append(pad)
        extras.append(extra)
    return (
        f"; for an output of input * stride use padding {shown_axes(pads)} and output_padding "
        f"{shown_axes(extras)}"
    )


def transpose_shape(call: Call) -> Geometry:
    _transpose_checks(call)
    kernel, stride, dilation = call.axes("kernel"), call.axes("stride"), call.axes("dilation")
    output_padding = call.optional_axes("output_padding")
    sizes = tuple(
        _transpose_axis(
            call,
            axis,
            kernel[axis],
            stride[axis],
            dilation[axis],
            None if output_padding is None else output_padding[axis],
        )
        for axis in range(len(kernel))
    )
    return Geometry(call.shape(sizes, call.number("filters")))


OUT_TORCH: Formula[int] = Formula(
    "out = (in-1)*stride - pad_total + dilation*(kernel-1) + output_padding + 1",
    "in stride pad_total dilation kernel output_padding",
)
OUT_KERAS_VALID: Formula[int] = Formula(
    "out = (in-1)*stride + (dilation*(kernel-1) + 1) + output_padding",
    "in stride dilation kernel output_padding",
    note="keras valid",
)
OUTPUT_PADDING_UNSET: Formula[tuple[int, int]] = Formula(
    "span = dilation*(kernel-1) + 1; output_padding = max(span, stride) - span",
    "dilation kernel stride",
    note="keras, when unset",
)
OUT_KERAS_SAME: Formula[int] = Formula("out = in*stride", "in stride", note="keras same")
OUT_KERAS_SAME_PADDED: Formula[int] = Formula(
    "out = (in-1)*stride + (dilation*(kernel-1) + 1) % 2 + output_padding",
    "in stride dilation kernel output_padding",
    note="keras same with output_padding",
)


def _transpose_axis(
    call: Call, axis: int, kernel: int, stride: int, dilation: int, extra: int | None
) -> int:
    """The output size on one axis, with the working."""
    size = call.spatial[axis]
    padding = call.padding()
    args: tuple[int, ...]
    if call.framework is Framework.PYTORCH:
        # "valid" is no padding; "same" was refused by the checks.
        before, after = padding[axis] if isinstance(padding, tuple) else (0, 0)
        extra = extra or 0
        args = (size, stride, before + after, dilation, kernel, extra)
        out = OUT_TORCH.axis(call, axis, *args)
        prefix, formula = "", OUT_TORCH
    elif padding == "valid":
        # keras: output_padding, when unset, makes the output (in-1)*stride + max(k_eff, stride)
        if extra is None:
            _, extra = OUTPUT_PADDING_UNSET.axis(call, axis, dilation, kernel, stride)
        args = (size, stride, dilation, kernel, extra)
        out = OUT_KERAS_VALID.axis(call, axis, *args)
        prefix, formula = "valid: ", OUT_KERAS_VALID
    elif extra is None:
        args = (size, stride)
        out = OUT_KERAS_SAME.axis(call, axis, *args)
        prefix, formula = "same: ", OUT_KERAS_SAME
    else:
        # keras same with output_padding: (in-1)*stride + k_eff % 2 + output_padding
        args = (size, stride, dilation, kernel, extra)
        out = OUT_KERAS_SAME_PADDED.axis(call, axis, *args)
        prefix, formula = "same: ", OUT_KERAS_SAME_PADDED
    if out < 1:
        working = f"{prefix}{formula.numbers(*args)} = {out}"
        raise call.fail(
            f"the output on {call.axis_labels()[axis]} would be {out} ({working}); "
            "use less padding, a larger kernel or output_padding, or a larger input"
        )
    return out


TRANSPOSE_PARAMS: Formula[int] = Formula(
    "params = kernel*C_in//groups*filters + bias*filters",
    "*kernel C_in groups filters bias",
    spell={"kernel": kernel_of},
)
TRANSPOSE_MACS: Formula[int] = Formula(
    "MACs = inputs * filters//groups * kernel",
    "*inputs filters groups *kernel",
    spell={"inputs": inputs_of, "kernel": kernel_of},
)


def transpose_weights(call: Call, geometry: Geometry) -> Weights:
    # PyTorch's weight is (in_channels, filters/groups, kernel...); Keras' is kernel +
    # (filters, in_channels): the same count, kvol * in/groups * filters.
    filters, groups, bias = call.number("filters"), call.number("groups"), call.flag("bias")
    total = TRANSPOSE_PARAMS.of(call, call.axes("kernel"), call.channels, groups, filters, bias)
    return Weights(trainable=total)


def transpose_macs(call: Call, geometry: Geometry) -> int:
    # Every input element is multiplied into filters/groups kernels of kvol taps.
    return TRANSPOSE_MACS.of(
        call, call.input, call.number("filters"), call.number("groups"), call.axes("kernel")
    )


def _transpose_kind(rank: int) -> LayerKind:
    return LayerKind(
        name=f"conv{rank}d_transpose",
        summary=f"transposed convolution over {rank} spatial {axes_word(rank)}, growing the input "
        f"(Keras Conv{rank}DTranspose, PyTorch ConvTranspose{rank}d)",
        params=(
            FILTERS,
            KERNEL,
            STRIDE,
            Param(
                "padding",
                PaddingValue(("valid", "same")),
                "valid",
                "valid, same (keras), or zeros removed per side (pytorch): 1 or one per axis",
            ),
            Param(
                "output_padding",
                PerAxis(minimum=0),
                None,
                "extra size at the end of each axis; keras: below the stride, pytorch: below "
                "the stride or the dilation",
            ),
            DILATION,
            Param(
                "groups",
                WholeNumber(),
                1,
                "channel groups (pytorch); must divide input channels and filters",
            ),
            BIAS_PARAM,
            ACTIVATION_PARAM,
            IN_CHANNELS_PARAM,
            DATA_FORMAT,
            PADDING_MODE,
        ),
        # Keras' Conv1DTranspose and Conv2DTranspose(filters, kernel_size, strides, padding,
        # output_padding, data_format, ...); Conv3DTranspose puts data_format before
        # output_padding.
        positional=(
            "filters",
            "kernel",
            "stride",
            "padding",
            *(
                ("data_format", "output_padding")
                if rank == 3
                else ("output_padding", "data_format")
            ),
            "dilation",
            "activation",
            "bias",
        ),
        aliases=(
            f"Conv{rank}DTranspose",
            f"Convolution{rank}DTranspose",
            f"ConvTranspose{rank}d",
            f"ConvTranspose{rank}D",
            f"deconv{rank}d",
        )
        + (("deconv", "conv_transpose") if rank == 2 else ()),
        rank=rank,
        shape=transpose_shape,
        weights=transpose_weights,
        macs=transpose_macs,
        receptive=Receptive.WHOLE,
        ignored=IGNORED_CONV,
        torch_names=(f"ConvTranspose{rank}d",),
        # PyTorch's ConvTranspose2d(in_channels, out_channels, kernel_size, stride, padding,
        # output_padding, groups, bias, dilation, padding_mode)
        torch_positional=(
            "in_channels",
            "filters",
            "kernel",
            "stride",
            "padding",
            "output_padding",
            "groups",
            "bias",
            "dilation",
            "padding_mode",
        ),
    )


TRANSPOSE_KINDS: tuple[LayerKind, ...] = tuple(
    _transpose_kind(rank)._replace(saved=CONV_SAVED) for rank in (1, 2, 3)
)
