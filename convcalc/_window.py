"""The sliding-window arithmetic of convolutions and pools, one spatial axis at a time.

``out = floor((in + pad_total - dilation*(kernel-1) - 1) / stride) + 1``, with each framework's
meaning of ``same`` and ``causal`` and PyTorch's ``ceil_mode``: each formula is written once
(``_formula``), and ``--explain`` shows it in symbols and with the numbers, plus a word when a
stride leaves input rows or columns unread.
"""

from __future__ import annotations

import math

from ._formula import Formula
from ._kind import Call, Geometry, Window
from ._settings import Framework
from ._values import Padding, count, join_axes, show_shape

# -- the formulas ------------------------------------------------------------------------------

SPAN: Formula[int] = Formula("span = dilation*(kernel-1) + 1", "dilation kernel")
"""How far a (dilated) kernel reaches: the effective kernel."""
OUT: Formula[int] = Formula(
    "out = floor((in + pad_total - dilation*(kernel-1) - 1) / stride) + 1",
    "in pad_total dilation kernel stride",
)
OUT_CEIL: Formula[int] = Formula(
    "out = ceil((in + pad_total - dilation*(kernel-1) - 1) / stride) + 1",
    "in pad_total dilation kernel stride",
    note="ceil_mode",
)
OUT_SAME: Formula[int] = Formula("out = ceil(in / stride)", "in stride", note="keras same")
PAD_SAME: Formula[int] = Formula(
    "pad_total = max((out-1)*stride + dilation*(kernel-1) + 1 - in, 0)",
    "out stride dilation kernel in",
)
"""Keras' ``same``: the padding that gives ``ceil(in / stride)`` outputs."""
PAD_SAME_STRIDE_1: Formula[int] = Formula(
    "pad_total = dilation*(kernel-1)", "dilation kernel", note="pytorch same, stride 1"
)
PAD_SPLIT: Formula[tuple[int, int]] = Formula(
    "pad_before = floor(pad_total / 2); pad_after = pad_total - pad_before", "pad_total"
)
"""Both frameworks' ``same`` puts the smaller half first (top/left)."""
PAD_CAUSAL: Formula[int] = Formula(
    "pad_before = dilation*(kernel-1)", "dilation kernel", note="causal: none after"
)
LAST_START: Formula[int] = Formula("start = (out-1)*stride", "out stride")
"""Where the last window starts, for ceil_mode's check."""
END: Formula[int] = Formula("end = (out-1)*stride + kernel", "out stride kernel")
"""Where the last window ends (for explain: what a stride leaves unread)."""
END_DILATED: Formula[int] = Formula("end = (out-1)*stride + span", "out stride span")

RF: Formula[tuple[int, int, float]] = Formula(
    "size = size_in + (kernel-1)*jump_in; jump = jump_in*stride; "
    "start = start_in + ((kernel-1)/2 - pad_before)*jump_in",
    "size_in jump_in start_in kernel stride pad_before",
    title="RF",
    note="kernel: its span, if dilated",
)
"""The receptive field through one window, per axis: the engine's ``_next_field`` applies it
to every window a shape rule reports."""
RF_MEANING = (
    "RF: size = input pixels one output sees; jump = pixels between outputs; "
    "start = first field's centre"
)
"""What the receptive field's figures mean, said where the working first shows RF lines: by
the first window layer that meets the input's own field (size 1, jump 1, start 0.5). That is
once per report for a chain; a model whose first windows sit on parallel paths says it once
per path, and a layer that leaves the field as it was (a 1x1, stride 1 conv) passes it on to
the next. Said with the layer rather than in the report's notes so that each layer's working,
read alone (a JSON consumer, a folded table), still has it before its first RF line."""

_UNITS = {"L": "position", "D": "plane", "H": "row", "W": "column"}
"""What one step along each axis is called, for the unread-input note."""


def effective(kernel: int, dilation: int) -> int:
    """The span a dilated kernel covers."""
    return SPAN.fn(dilation, kernel)


def pads(call: Call, axis: int, kernel: int, dilation: int, padding: Padding) -> tuple[int, int]:
    """Zeros (before, after) on one axis for a padding mode or explicit amounts; Keras'
    ``same``, which depends on the output size, is ``slide``'s."""
    if padding == "valid":
        return 0, 0
    if padding == "causal":
        return PAD_CAUSAL.axis(call, axis, dilation, kernel), 0
    if padding == "same":
        # PyTorch allows same only with stride 1 (checked by the caller): out = in
        total = PAD_SAME_STRIDE_1.axis(call, axis, dilation, kernel)
        return PAD_SPLIT.axis(call, axis, total)
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
    span = SPAN.axis(call, axis, dilation, kernel) if dilation > 1 else SPAN.fn(dilation, kernel)
    if padding == "same" and call.framework is Framework.KERAS:
        out = OUT_SAME.axis(call, axis, size, stride)
        total = PAD_SAME.axis(call, axis, out, stride, dilation, kernel, size)
        before, after = PAD_SPLIT.axis(call, axis, total)
    else:
        before, after = pads(call, axis, kernel, dilation, padding)
        if ceil_mode:
            out = OUT_CEIL.axis(call, axis, size, before + after, dilation, kernel, stride)
            # PyTorch drops a last window that would start inside the right padding.
            if out > 1 and LAST_START.fn(out, stride) >= size + before:
                if call.notes is not None:
                    _note_dropped(call, axis, out, stride, before, size)
                out -= 1
        else:
            out = OUT.axis(call, axis, size, before + after, dilation, kernel, stride)
    # In ceil_mode PyTorch keeps a window that starts inside the input even when it runs
    # past the end, so only an empty output is refused there.
    reach = size + before + after - span
    if out < 1 or (reach < 0 and not ceil_mode):
        total = before + after
        raise call.fail(_too_small(call, axis, size, kernel, dilation, total, what, same_fixes))
    if call.notes is not None:
        _note_unread(call, axis, out, stride, span, dilation > 1, before, size)
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


def _note_dropped(call: Call, axis: int, out: int, stride: int, before: int, size: int) -> None:
    label = call.axis_labels()[axis]
    edge = f"{size}" if before == 0 else f"{before} + {size}"
    call.note(
        f"{label}: window {out} starts at (out-1)*stride = {LAST_START.numbers(out, stride)} = "
        f"{LAST_START.fn(out, stride):,} >= {edge}, in the right padding: dropped, out = {out - 1}"
    )


def _note_unread(
    call: Call,
    axis: int,
    out: int,
    stride: int,
    span: int,
    dilated: bool,
    before: int,
    size: int,
) -> None:
    """Say which input positions no window reads: between windows when the stride is longer
    than the window, and at the end when the last window stops short of it."""
    label = call.axis_labels()[axis]
    unit = _UNITS[label]
    window = "span" if dilated else "kernel"
    if span < stride and out > 1:
        gap = stride - span
        call.note(
            f"{label}: {window} {span} < stride {stride}: {count(gap, unit)} in every {stride} "
            f"{'lies' if gap == 1 else 'lie'} between windows, never read"
        )
    formula = END_DILATED if dilated else END
    end = formula.fn(out, stride, span)
    unread = before + size - end
    if unread > 0:
        edge = f"{size}" if before == 0 else f"{before} + {size} (pad_before + in)"
        verb = "is" if unread == 1 else "are"
        call.note(
            f"{label}: the last {count(unread, unit)} {verb} never read: "
            f"{formula.working(out, stride, span)} < {edge}"
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


def check_padding_mode(call: Call, transposed: bool = False) -> None:
    """PyTorch's padding_mode: keras has none; a transposed conv takes zeros only; reflect
    needs each side's padding below the input's size, circular at most its size."""
    mode = call.values.get("padding_mode", "zeros")
    if mode == "zeros":
        return
    if call.framework is Framework.KERAS:
        raise call.fail(
            f"padding_mode {mode} is pytorch's; keras pads with zeros: drop it, or use "
            "--framework pytorch"
        )
    if transposed:
        raise call.fail(
            f"padding_mode {mode}: pytorch's ConvTranspose supports zeros only; drop it"
        )
    kernel, dilation, padding = call.axes("kernel"), call.axes("dilation"), call.padding()
    for axis, size in enumerate(call.spatial):
        if isinstance(padding, tuple):
            side = max(padding[axis])
        elif padding == "same":  # pytorch: stride 1, dilation*(kernel-1) split, larger after
            total = dilation[axis] * (kernel[axis] - 1)
            side = total - total // 2
        else:
            side = 0
        if (mode == "reflect" and side >= size) or (mode == "circular" and side > size):
            limit = "less than" if mode == "reflect" else "at most"
            raise call.fail(
                f"padding {side} with padding_mode {mode} on {call.axis_labels()[axis]}: "
                f"pytorch needs it {limit} the input's size {size} there; use less padding, "
                "a larger input, or padding_mode zeros or replicate"
            )
