"""The sliding-window arithmetic of convolutions and pools, one spatial axis at a time.

``out = floor((in + pad_total - dilation*(kernel-1) - 1) / stride) + 1``, with each framework's
meaning of ``same`` and ``causal``, PyTorch's ``ceil_mode``, and the working written out for
``--explain`` in the form a tutorial would use.
"""

from __future__ import annotations

import math

from ._kind import Call, Geometry, Window
from ._settings import Framework
from ._values import Padding, count, join_axes, show_shape


def effective(kernel: int, dilation: int) -> int:
    """The span a dilated kernel covers."""
    return dilation * (kernel - 1) + 1


def pads(
    call: Call, axis: int, size: int, kernel: int, stride: int, dilation: int, padding: Padding
) -> tuple[int, int]:
    """Zeros (before, after) on one axis for a padding mode or explicit amounts."""
    span = effective(kernel, dilation)
    if padding == "valid":
        return 0, 0
    if padding == "causal":
        return span - 1, 0
    if padding == "same":
        if call.framework is Framework.KERAS:
            out = -(-size // stride)
            total = max((out - 1) * stride + span - size, 0)
        else:  # PyTorch allows same only with stride 1 (checked by the caller): out = in
            total = span - 1
        return total // 2, total - total // 2  # the smaller half first: top/left
    assert isinstance(padding, tuple)
    return padding[axis]


def slide(
    call: Call,
    axis: int,
    *,
    kernel: int,
    stride: int,
    dilation: int,
    padding: Padding,
    ceil_mode: bool = False,
    what: str = "kernel",
    same_fixes: bool = True,
) -> tuple[int, Window]:
    """The output size on one axis, and the window the receptive field needs.

    Raises a ShapeError naming the layer when the window does not fit the (padded) input;
    ``same_fixes`` says whether ``padding: same`` is a fix this layer could take.
    """
    size = call.spatial[axis]
    before, after = pads(call, axis, size, kernel, stride, dilation, padding)
    span = effective(kernel, dilation)
    reach = size + before + after - span
    if padding == "same" and call.framework is Framework.KERAS:
        out = -(-size // stride)
    elif ceil_mode:
        out = -(-reach // stride) + 1
        # PyTorch drops a last window that would start inside the right padding.
        if out > 1 and (out - 1) * stride >= size + before:
            out -= 1
    else:
        out = reach // stride + 1
    if call.notes is not None:
        _note_axis(
            call, axis, size, kernel, stride, dilation, padding, ceil_mode, before, after, out
        )
    # In ceil_mode PyTorch keeps a window that starts inside the input even when it runs
    # past the end, so only an empty output is refused there.
    if out < 1 or (reach < 0 and not ceil_mode):
        total = before + after
        raise call.fail(_too_small(call, axis, size, kernel, dilation, total, what, same_fixes))
    return out, Window(span, stride, before)


def slide_axes(call: Call, what: str, *, same_fixes: bool, channels: int) -> Geometry:
    """A window slid over every spatial axis: the output shape with ``channels``, and the
    windows for the receptive field. Reads ``kernel`` (or a pool's ``size``), ``stride``, and
    ``dilation`` and ``ceil_mode`` where the kind has them."""
    kernel = call.axes("kernel" if "kernel" in call.values else "size")
    stride = call.axes("stride")
    dilation = call.axes("dilation") if "dilation" in call.values else (1,) * len(kernel)
    ceil_mode = bool(call.values.get("ceil_mode", False))
    sizes: list[int] = []
    windows: list[Window] = []
    for axis in range(len(kernel)):
        size, window = slide(
            call,
            axis,
            kernel=kernel[axis],
            stride=stride[axis],
            dilation=dilation[axis],
            padding=call.padding(),
            ceil_mode=ceil_mode,
            what=what,
            same_fixes=same_fixes,
        )
        sizes.append(size)
        windows.append(window)
    return Geometry(call.shape(tuple(sizes), channels), tuple(windows))


def _note_axis(
    call: Call,
    axis: int,
    size: int,
    kernel: int,
    stride: int,
    dilation: int,
    padding: Padding,
    ceil_mode: bool,
    before: int,
    after: int,
    out: int,
) -> None:
    label = call.axis_labels()[axis]
    total = before + after
    if padding == "same" and call.framework is Framework.KERAS:
        call.note(
            f"{label}: same: ceil({size} / {stride}) = {out}; padding total "
            f"max(({out}-1)*{stride} + {dilation}*({kernel}-1) + 1 - {size}, 0) = {total}, "
            f"split {before} before + {after} after"
        )
        return
    if padding == "same":
        call.note(
            f"{label}: same (stride 1): padding total {dilation}*({kernel}-1) = {total}, "
            f"split {before} before + {after} after"
        )
    elif padding == "causal":
        call.note(f"{label}: causal: {dilation}*({kernel}-1) = {total} zeros before, none after")
    rounding = "ceil" if ceil_mode else "floor"
    dropped = " (ceil_mode: a last window starting in the right padding is dropped)"
    call.note(
        f"{label}: {rounding}(({size} + {total} - {dilation}*({kernel}-1) - 1) / {stride}) + 1"
        f" = {out}" + (dropped if ceil_mode else "")
    )


def _too_small(
    call: Call,
    axis: int,
    size: int,
    kernel: int,
    dilation: int,
    total: int,
    what: str,
    same_fixes: bool,
) -> str:
    """Why the window does not fit, and a padding that would make it fit."""
    label = call.axis_labels()[axis]
    span = effective(kernel, dilation)
    shown = f"{kernel}" if dilation == 1 else f"{kernel} (spanning {span} with dilation {dilation})"
    padded = f"{size}" if total == 0 else f"{size} + {total} padding = {size + total}"
    fix = "padding: same" if same_fixes else f"padding: {math.ceil((span - size) / 2)}"
    return (
        f"{what} {shown} is larger than its input on {label} ({padded}). "
        f"Use {fix}, a smaller {what}, or a larger input"
    )


# -- what frameworks refuse in any convolution ----------------------------------------------------


def check_in_channels(call: Call) -> None:
    """The optional ``in_channels`` check (PyTorch's first argument) against the input."""
    expected = call.values.get("in_channels")
    if expected is not None and expected != call.channels:
        raise call.fail(
            f"in_channels {expected} does not match its input, which has "
            f"{count(call.channels, 'channel')} (shape {show_shape(call.input)}); "
            "drop in_channels or fix the layer before"
        )


def check_groups(call: Call, groups: int, filters: int) -> None:
    """Both frameworks: groups must divide the input channels and the filters."""
    if call.channels % groups:
        what = f"the input's {count(call.channels, 'channel')}"
    elif filters % groups:
        what = f"filters {filters}"
    else:
        return
    raise call.fail(
        f"groups {groups} does not divide {what}; "
        "use a groups value that divides both the input channels and filters"
    )


def check_keras_stride_with_dilation(
    call: Call, stride: tuple[int, ...], dilation: tuple[int, ...]
) -> None:
    """Keras' plain and transposed convs refuse stride > 1 together with dilation > 1."""
    if call.framework is Framework.KERAS and max(stride) > 1 and max(dilation) > 1:
        raise call.fail(
            f"keras does not allow stride {join_axes(stride)} together with dilation "
            f"{join_axes(dilation)} in one conv; use stride 1 or dilation 1 "
            "(pytorch allows both)"
        )


def check_pytorch_strided_same(call: Call, stride: tuple[int, ...]) -> None:
    """PyTorch: "padding='same' is not supported for strided convolutions"."""
    if call.padding() == "same" and call.framework is Framework.PYTORCH and max(stride) > 1:
        raise call.fail(
            f"pytorch allows padding same only with stride 1, not {join_axes(stride)}; "
            "give padding as a number of zeros per side, or use --framework keras"
        )
