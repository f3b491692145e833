"""Kinds that move or resize data without a kernel to learn: global and adaptive pools,
zero-padding, cropping, upsampling and reshape.

Each rule is what its framework does, read from Keras 3.15 (``keras/src/layers/pooling`` and
``keras/src/layers/reshaping``) and PyTorch 2 (``torch/nn/modules/pooling.py``, ``padding.py``,
``upsampling.py``), and confirmed by building the layers in both. None of these kinds has
parameters or multiply-accumulates.
"""

from __future__ import annotations

import math

from ._formula import Formula, axes_of, weightless
from ._kind import (
    REQUIRED,
    Call,
    Geometry,
    LayerKind,
    Param,
    Receptive,
    Saved,
    Window,
    a_view,
    keeps_nothing,
    no_macs,
)
from ._settings import Framework, Layout
from ._values import Choice, Flag, Margins, PerAxis, Shape, axes_word, join_axes
from ._vocab import DATA_FORMAT, IGNORED_ANY


def _spatial_note(call: Call, sizes: tuple[int, ...], how: str) -> None:
    call.note(f"{how}: {join_axes(call.spatial)} -> {join_axes(sizes)}")


_TAKES = {"max": "max", "avg": "mean"}
"""What a pool of each kind takes of its window, for the working."""

# -- global pools ---------------------------------------------------------------------------


def global_pool_shape(call: Call) -> Geometry:
    keep = call.flag("keepdims")
    rank = len(call.spatial)
    output = call.shape((1,) * rank, call.channels) if keep else (call.channels,)
    if call.notes is not None:
        kept = "kept as 1" if keep else "dropped"
        call.note(f"pooled over {'*'.join(map(str, call.spatial))} positions; spatial {kept}")
    return Geometry(output)


def _max_pool_saved(call: Call, geometry: Geometry) -> Saved:
    """Adaptive (and global) max pooling keeps its input and the int64 index of each output's
    maximum."""
    return Saved(input=True, raw_bytes=8 * math.prod(geometry.output))


def _adaptive_avg_saved(call: Call, geometry: Geometry) -> Saved:
    """To one position on every axis, PyTorch runs adaptive average pooling as a mean, which
    keeps nothing; to any other size, it keeps its input."""
    if all(size == 1 for size in call.axes("output_size")):
        return Saved()
    return Saved(input=True)


def _global_kind(rank: int, kind: str) -> LayerKind:
    keras_name = {"max": "GlobalMaxPooling", "avg": "GlobalAveragePooling"}[kind]
    short = {"max": "GlobalMaxPool", "avg": "GlobalAvgPool"}[kind]
    return LayerKind(
        name=f"global_{kind}pool{rank}d",
        summary=f"{'max' if kind == 'max' else 'average'} over "
        f"{'the spatial axis' if rank == 1 else f'all {rank} spatial axes'}, one value per "
        f"channel (Keras {keras_name}{rank}D; in PyTorch "
        f"Adaptive{'Max' if kind == 'max' else 'Avg'}Pool{rank}d(1), which keeps the axes)",
        params=(
            Param(
                "keepdims",
                Flag(),
                False,
                "keep the spatial axes as size 1 instead of dropping them",
                ("keepdim", "keep_dims"),
            ),
            DATA_FORMAT,
        ),
        positional=(),
        aliases=(f"{keras_name}{rank}D", f"{short}{rank}D", f"{short}{rank}d"),
        rank=rank,
        shape=global_pool_shape,
        weights=weightless(f"a global pool takes the {_TAKES[kind]} of each channel"),
        macs=no_macs,
        receptive=Receptive.WHOLE,
        ignored=IGNORED_ANY,
        saved=_max_pool_saved if kind == "max" else keeps_nothing,
    )


# -- adaptive pools -------------------------------------------------------------------------


def adaptive_shape(call: Call) -> Geometry:
    # Both frameworks give exactly output_size, even when it is larger than the input (windows
    # then overlap); PyTorch's None ("keep this axis") is not taken here.
    sizes = call.axes("output_size")
    if call.notes is not None:
        _spatial_note(call, sizes, "adaptive windows")
    return Geometry(call.shape(sizes, call.channels))


def _adaptive_kind(rank: int, kind: str) -> LayerKind:
    keras_name = {"max": "AdaptiveMaxPooling", "avg": "AdaptiveAveragePooling"}[kind]
    torch_name = {"max": "AdaptiveMaxPool", "avg": "AdaptiveAvgPool"}[kind]
    return LayerKind(
        name=f"adaptive_{kind}pool{rank}d",
        summary=f"{'max' if kind == 'max' else 'average'} pooling to a fixed output size over "
        f"{rank} spatial {axes_word(rank)} ({torch_name}{rank}d, {keras_name}{rank}D)",
        params=(
            Param(
                "output_size",
                PerAxis(),
                REQUIRED,
                "output size: one for all axes (1) or per axis (7x7)",
                ("output_shape",),
            ),
            DATA_FORMAT,
        ),
        positional=("output_size",),
        aliases=(f"{torch_name}{rank}d", f"{torch_name}{rank}D", f"{keras_name}{rank}D"),
        rank=rank,
        shape=adaptive_shape,
        weights=weightless(f"a pool takes the {_TAKES[kind]} of each of its windows"),
        macs=no_macs,
        receptive=Receptive.WHOLE,
        ignored=("return_indices", *IGNORED_ANY),
        saved=_max_pool_saved if kind == "max" else _adaptive_avg_saved,
    )


# -- zero-padding and cropping --------------------------------------------------------------


def _margin_forms(rank: int) -> str:
    """How a zero-padding or cropping amount may be written, for help."""
    if rank == 1:
        return "1, or before and after (1x2 or [1, 2])"
    return "1, one per axis (1x2), or [before, after] per axis ([[1, 2], [0, 1]])"


PADDED: Formula[int] = Formula("out = pad_before + in + pad_after", "pad_before in pad_after")
CROPPED: Formula[int] = Formula("out = in - crop_before - crop_after", "in crop_before crop_after")
CROPPED_CHANNELS: Formula[int] = Formula(
    "C_out = C_in - crop_before - crop_after",
    "C_in crop_before crop_after",
    note="keras crops axis 1",
)
SCALED: Formula[int] = Formula("out = in*factor", "in factor")


def zeropadding_shape(call: Call) -> Geometry:
    # For the receptive field, padding is a window of one tap that starts `before` early.
    margins = call.margins("padding")
    sizes = tuple(
        PADDED.axis(call, axis, b, size, a)
        for axis, (size, (b, a)) in enumerate(zip(call.spatial, margins, strict=True))
    )
    windows = tuple(Window(1, 1, before) for before, _ in margins)
    return Geometry(call.shape(sizes, call.channels), windows)


def _zeropadding_kind(rank: int) -> LayerKind:
    return LayerKind(
        name=f"zeropadding{rank}d",
        summary=f"adds zeros at both ends of {rank} spatial {axes_word(rank)} "
        f"(Keras ZeroPadding{rank}D, PyTorch ZeroPad{rank}d)",
        params=(
            Param("padding", Margins("padding"), 1, f"zeros per side: {_margin_forms(rank)}"),
            DATA_FORMAT,
        ),
        positional=("padding",),
        aliases=(f"ZeroPadding{rank}D", f"ZeroPad{rank}d", f"ZeroPad{rank}D"),
        rank=rank,
        shape=zeropadding_shape,
        weights=weightless("zero-padding only adds zeros at the edges"),
        macs=no_macs,
        receptive=Receptive.WINDOW,
        ignored=IGNORED_ANY,
    )


def cropping_shape(call: Call) -> Geometry:
    # For the receptive field, cropping is a window of one tap that starts `before` late.
    margins = call.margins("cropping")
    if (
        call.kind.rank == 1
        and call.framework is Framework.KERAS
        and call.settings.layout is Layout.CHW
    ):
        return _keras_cropping1d_channels_first(call, margins[0])
    sizes: list[int] = []
    for axis, (label, size, (b, a)) in enumerate(
        zip(call.axis_labels(), call.spatial, margins, strict=True)
    ):
        out = CROPPED.axis(call, axis, size, b, a)
        if out < 1:
            # Keras: "cropping ... should be smaller than the corresponding spatial dimension";
            # PyTorch's negative ZeroPad leaves an empty tensor, which no later layer takes.
            raise call.fail(
                f"cropping {b} + {a} on {label} leaves nothing of its {size}; "
                f"crop at most {size - 1} in all on that axis"
            )
        sizes.append(out)
    windows = tuple(Window(1, 1, -before) for before, _ in margins)
    return Geometry(call.shape(tuple(sizes), call.channels), windows)


def _keras_cropping1d_channels_first(call: Call, margin: tuple[int, int]) -> Geometry:
    """Keras' Cropping1D has no data_format: it always crops axis 1 of (batch, axis 1, axis
    2), which in a channels-first (C L) input is the channel axis."""
    before, after = margin
    channels = CROPPED_CHANNELS.of(call, call.channels, before, after)
    if channels < 1:
        raise call.fail(
            f"cropping {before} + {after} leaves nothing of its {call.channels} channels: "
            "keras' Cropping1D has no data_format and crops axis 1, the channels in a C L "
            f"input; crop at most {call.channels - 1}, or use layout hwc"
        )
    call.remark(
        f"{call.where}: keras' Cropping1D has no data_format and always crops axis 1, which "
        "in this channels-first (C L) input is the channels; that is what keras does. To crop "
        "L, use layout hwc"
    )
    return Geometry((channels, *call.spatial), (Window(1, 1, 0),))


def _cropping_kind(rank: int) -> LayerKind:
    return LayerKind(
        name=f"cropping{rank}d",
        summary=f"removes positions at both ends of {rank} spatial {axes_word(rank)} "
        f"(Keras Cropping{rank}D; in PyTorch ZeroPad{rank}d with negative padding)",
        params=(
            Param(
                "cropping",
                Margins("cropping"),
                REQUIRED,
                f"positions removed per side: {_margin_forms(rank)}",
                ("crop",),
            ),
            # Keras' Cropping1D alone has no data_format (see cropping_shape).
            *((DATA_FORMAT,) if rank > 1 else ()),
        ),
        positional=("cropping",),
        aliases=(f"Cropping{rank}D", f"crop{rank}d"),
        rank=rank,
        shape=cropping_shape,
        weights=weightless("cropping only removes positions at the edges"),
        macs=no_macs,
        receptive=Receptive.WINDOW,
        ignored=IGNORED_ANY,
    )


# -- upsampling ---------------------------------------------------------------------------

INTERPOLATION = Choice(
    (
        "nearest",
        "nearest_exact",
        "linear",
        "bilinear",
        "bicubic",
        "trilinear",
        "area",
        "lanczos3",
        "lanczos5",
    )
)
"""Interpolation methods of Keras' UpSampling and PyTorch's Upsample: none changes a shape."""


def _scaled(call: Call, factors: tuple[int, ...]) -> tuple[int, ...]:
    """Each spatial size times its factor, as nearest-neighbour upsampling repeats positions."""
    return tuple(
        SCALED.axis(call, axis, size, f)
        for axis, (size, f) in enumerate(zip(call.spatial, factors, strict=True))
    )


_UPSAMPLED = weightless("upsampling repeats or interpolates positions; nothing is learned")


def upsampling_shape(call: Call) -> Geometry:
    return Geometry(call.shape(_scaled(call, call.axes("size")), call.channels))


def _upsampling_kind(rank: int) -> LayerKind:
    return LayerKind(
        name=f"upsampling{rank}d",
        summary=f"repeats each position by a whole factor on {rank} spatial {axes_word(rank)} "
        f"(Keras UpSampling{rank}D; PyTorch Upsample(scale_factor=...))",
        params=(
            Param(
                "size",
                PerAxis(),
                2,
                "whole factor: one for all axes (2) or per axis (2x1)",
                ("scale_factor", "factor"),
            ),
            Param(
                "interpolation",
                INTERPOLATION,
                "nearest",
                "how new positions are filled (no effect on shape)",
                ("mode",),
            ),
            DATA_FORMAT,
        ),
        positional=("size",),
        aliases=(f"UpSampling{rank}D",),
        rank=rank,
        shape=upsampling_shape,
        weights=_UPSAMPLED,
        macs=no_macs,
        receptive=Receptive.WHOLE,
        ignored=IGNORED_ANY,
    )


def _spread(call: Call, name: str) -> tuple[int, ...] | None:
    """A free per-axis value spread over the input's spatial axes; None when unset."""
    values = call.optional_axes(name)
    rank = len(call.spatial)
    if values is None:
        return None
    if len(values) == 1:
        return values * rank
    if len(values) != rank:
        raise call.fail(
            f"{name} {join_axes(values)} has {len(values)} values but the input has {rank} "
            f"spatial {axes_word(rank)}: give one value, or {rank}"
        )
    return values


def upsample_shape(call: Call) -> Geometry:
    # PyTorch's Upsample takes exactly one of size (the output size) and scale_factor.
    if not call.spatial:
        raise call.fail(
            f"upsample needs spatial axes, but its input {call.input} is a flat vector; "
            "give the input its spatial axes and channels"
        )
    mode = call.text("mode")
    wanted = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}.get(mode or "")
    if wanted is not None and wanted != len(call.spatial):
        raise call.fail(
            f"mode {mode} works on {wanted} spatial {axes_word(wanted)}, but its input "
            f"{join_axes(call.input)} has {len(call.spatial)}; pytorch refuses that: use "
            "nearest, or the mode for this rank (linear, bilinear, trilinear)"
        )
    corners = call.values.get("align_corners")
    if corners is not None and mode in ("nearest", "nearest_exact", "area"):
        raise call.fail(
            f"align_corners is for the linear modes; with mode {mode} pytorch refuses it, even "
            "false: "
            "drop align_corners"
        )
    size, factor = _spread(call, "size"), _spread(call, "scale_factor")
    if (size is None) == (factor is None):
        raise call.fail(
            "give exactly one of size (the output size) and scale_factor, as PyTorch's "
            "Upsample needs; e.g. upsample: {scale_factor: 2}"
        )
    if factor is not None:
        sizes = _scaled(call, factor)
    else:
        assert size is not None
        sizes = size
        if call.notes is not None:
            _spatial_note(call, sizes, "resized")
    return Geometry(call.shape(sizes, call.channels))


UPSAMPLE = LayerKind(
    name="upsample",
    summary="PyTorch's Upsample on 1 to 3 spatial axes: to an output size, or by a whole "
    "scale_factor",
    params=(
        Param(
            "scale_factor",
            PerAxis(free=True),
            None,
            "whole factor: one for all axes (2) or per axis (2x1)",
            ("factor",),
        ),
        Param(
            "size",
            PerAxis(free=True),
            None,
            "the output size (not a factor): one for all axes (64) or per axis (64x32)",
            ("output_size",),
        ),
        Param(
            "mode",
            INTERPOLATION,
            "nearest",
            "how new positions are filled (no effect on shape)",
            ("interpolation",),
        ),
        Param(
            "align_corners",
            Flag(),
            None,
            "PyTorch's align_corners, for linear modes only (no effect on shape)",
        ),
    ),
    positional=(),
    aliases=("Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"),
    rank=None,
    shape=upsample_shape,
    weights=_UPSAMPLED,
    macs=no_macs,
    receptive=Receptive.WHOLE,
    ignored=("recompute_scale_factor", "antialias", *IGNORED_ANY),
    torch_names=("Upsample",),
    torch_positional=("size", "scale_factor", "mode", "align_corners", "recompute_scale_factor"),
)

# -- reshape --------------------------------------------------------------------------------


ELEMENTS: Formula[int] = Formula("elements = axes", "*axes", spell={"axes": axes_of})
INFERRED: Formula[int] = Formula(
    "inferred = elements//known", "elements known", note="the -1; known: the other sizes"
)


def reshape_shape(call: Call) -> Geometry:
    target = call.axes("shape")
    total = ELEMENTS.of(call, call.input)
    known = math.prod(size for size in target if size != -1)
    shown = join_axes(target)
    if -1 in target:
        if total % known:
            raise call.fail(
                f"shape {shown} cannot hold the {total:,} elements of its input "
                f"{join_axes(call.input)}: {total:,} is not a multiple of {known:,}; "
                "use sizes whose product divides it"
            )
        inferred = INFERRED.of(call, total, known)
        output = tuple(inferred if size == -1 else size for size in target)
    else:
        output = target
    if math.prod(output) != total:
        raise call.fail(
            f"shape {shown} has {math.prod(output):,} elements but its input "
            f"{join_axes(call.input)} has {total:,}; use sizes whose product is {total:,}, "
            "or -1 for one of them"
        )
    if len(output) > 4:
        raise call.fail(
            f"shape {shown} has {len(output)} axes; convcalc takes shapes of 1 to 4 axes "
            "(features; L C; H W C; D H W C) without the batch"
        )
    return Geometry(output)


RESHAPE = LayerKind(
    name="reshape",
    summary="the same elements in a new shape, without the batch (Keras Reshape; PyTorch "
    "view/reshape/Unflatten)",
    params=(
        Param(
            "shape",
            Shape(allow_infer=True),
            REQUIRED,
            "the new shape without the batch, e.g. 7x7x16; one -1 is inferred",
            ("target_shape",),
        ),
    ),
    positional=("shape",),
    aliases=("Reshape",),
    rank=None,
    shape=reshape_shape,
    weights=weightless("reshape only rearranges the same elements"),
    macs=no_macs,
    receptive=Receptive.WHOLE,
)

RESIZE_KINDS: tuple[LayerKind, ...] = (
    *(_global_kind(rank, kind) for kind in ("max", "avg") for rank in (1, 2, 3)),
    *(_adaptive_kind(rank, kind) for kind in ("max", "avg") for rank in (1, 2, 3)),
    # Padding, cropping and upsampling keep nothing (their backward needs only sizes); a
    # reshape is a view.
    *(_zeropadding_kind(rank)._replace(saved=keeps_nothing) for rank in (1, 2, 3)),
    *(_cropping_kind(rank)._replace(saved=keeps_nothing) for rank in (1, 2, 3)),
    *(_upsampling_kind(rank)._replace(saved=keeps_nothing) for rank in (1, 2, 3)),
    UPSAMPLE._replace(saved=keeps_nothing),
    RESHAPE._replace(saved=a_view),
)
