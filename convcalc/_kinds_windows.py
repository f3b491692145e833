"""Kinds of windowed vision transformers: ``window_attention`` (Swin's shifted window
attention, V1 and V2, and MaxViT's block and grid attention) and ``patch_merging`` (Swin's
downsampling).

Both take a feature map channels last, (H, W, C), in either layout, as torchvision holds it
(Swin permutes N C H W to N H W C after its patch embedding; MaxViT partitions its map into
tokens of C features): the last axis holds the features, as it does for tokens, and the
layout's word "channels first" does not apply. A chw model permutes before them
(``permute: {torch_dims: [0, 2, 3, 1]}``).

Counts follow PyTorch 2.13 with torchvision 0.28 (``torchvision/models/swin_transformer.py``'s
``shifted_window_attention``, ``ShiftedWindowAttention``, ``ShiftedWindowAttentionV2``,
``PatchMerging``, ``PatchMergingV2``; ``models/maxvit.py``'s ``PartitionAttentionLayer`` and
``RelativePositionalMultiHeadAttention``); ``tests/crosscheck/crosscheck_windows.py`` builds
each. MACs are FlopCounterMode's: the linear projections on every (padded) token, the two
matrix products of each window's attention (scores Q*K^T and the weighted sum of V), and for
Swin V2 the continuous position bias MLP, run once on the (2*window_h-1)*(2*window_w-1)
relative coordinates; softmax, scaling, the bias and the shift's mask are 0. The receptive
field is not followed through them (``whole``), as for attention.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from ._formula import Formula
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
)
from ._settings import Framework
from ._values import Choice, Flag, Invalid, PerAxis, WholeNumber, join_axes, show_shape
from ._vocab import IGNORED_WEIGHTS

CPB_HIDDEN = 512
"""The hidden width of Swin V2's continuous position bias MLP (torchvision's
``nn.Linear(2, 512)``, fixed)."""


class Version(NamedTuple):
    """Swin's version: 1 or 2 (also written ``v1``, ``v2``)."""

    @property
    def describe(self) -> str:
        return "1 or 2 (Swin V1 or Swin V2)"

    def parse(self, raw: object, rank: int) -> int:
        text = str(raw).strip().lower().removeprefix("v") if not isinstance(raw, bool) else ""
        if text in ("1", "2"):
            return int(text)
        raise Invalid(f"must be {self.describe}")


def _feature_map(call: Call, what: str) -> tuple[int, int, int]:
    """(H, W, C) of an input that must be a channels-last feature map."""
    if len(call.input) != 3:
        raise call.fail(
            f"{what} takes a feature map channels last (H, W, C), three axes without the "
            f"batch, but its input {show_shape(call.input)} has {len(call.input)}"
        )
    height, width, channels = call.input
    return height, width, channels


def _layout_hint(call: Call) -> str:
    """How to fix a channels-first map given to a channels-last kind."""
    if call.channels_last:
        return ""
    return (
        f"; it reads its input channels last (H, W, C), as torchvision's Swin holds it, so "
        f"{show_shape(call.input)} is H {call.input[0]}, W {call.input[1]}, C {call.input[2]}: "
        "in this chw model permute first (permute: {torch_dims: [0, 2, 3, 1]})"
    )


def _check_dim(call: Call, channels: int) -> None:
    expected = call.values.get("dim")
    if expected is not None and expected != channels:
        raise call.fail(
            f"dim {expected} does not match its input {show_shape(call.input)}, whose last "
            f"axis (the features) has {channels}{_layout_hint(call)}; drop dim or fix the "
            "layer before"
        )


def swin_version(values: Mapping[str, object]) -> int:
    """The Swin version of a layer's checked values: ``version``, or 2 for a layer spelled as
    torchvision's V2 class (``ShiftedWindowAttentionV2``, ``PatchMergingV2``)."""
    spelled = values.get(SPELLED)
    if isinstance(spelled, str) and spelled.endswith("V2"):
        return 2
    version = values["version"]
    assert isinstance(version, int)
    return version


def _version(call: Call) -> int:
    """:func:`swin_version`, refusing a V2 class given another ``version``."""
    version = call.number("version")
    spelled = call.values.get(SPELLED)
    if isinstance(spelled, str) and spelled.endswith("V2"):
        if "version" in call.given and version != 2:
            raise call.fail(
                f"{spelled} is torchvision's Swin V2 class, but version is {version}: drop "
                f"version, or write {spelled[:-2]} for version 1"
            )
        return 2
    return version


# -- window attention -------------------------------------------------------------------------

PADDED: Formula[int] = Formula(
    "padded = ceil(in / window)*window",
    "in window",
    note="torchvision pads the right and bottom to a multiple of the window",
)
WINDOW_TOKENS: Formula[tuple[int, int, int]] = Formula(
    "T = padded_h*padded_w; N = window_h*window_w; windows = T//N",
    "padded_h padded_w window_h window_w",
)


class _Windows(NamedTuple):
    """A checked window attention: its map, features, heads and windows."""

    channels: int
    heads: int
    window: tuple[int, int]
    padded: tuple[int, int]

    @property
    def tokens(self) -> int:
        """T: the tokens the projections run on, padding included."""
        return self.padded[0] * self.padded[1]

    @property
    def per_window(self) -> int:
        """N: the tokens of one window."""
        return self.window[0] * self.window[1]


def _windows(call: Call, notes: bool = False) -> _Windows:
    """The attention's sizes, checked as torchvision checks them (or fails)."""
    height, width, channels = _feature_map(call, "window_attention")
    _check_dim(call, channels)
    heads = call.number("num_heads")
    window = call.axes("window")
    pad, partition = call.flag("pad"), call.text("partition")
    if channels % heads:
        raise call.fail(
            f"its {channels} features (the last axis of {show_shape(call.input)}) are not "
            f"divisible by num_heads {heads}; torchvision refuses that (its heads are C // "
            f"num_heads wide; MaxViT: feat_dim must be divisible by head_dim){_layout_hint(call)}"
        )
    built = call.optional_axes("map_size")
    if built is not None and (height, width) != built:
        raise call.fail(
            f"it is built for a {join_axes(built)} map (map_size, torchvision MaxViT's grid_size, "
            f"fixed by the model's input_size) but its input {show_shape(call.input)} is "
            f"{height}x{width}; torchvision refuses that (Grid size must be divisible by "
            "partition size, or shape '[...]' is invalid for input of size ...): give the "
            "input size the model is built for"
        )
    padded = []
    for axis, (label, size, side) in enumerate(
        zip(("H", "W"), (height, width), window, strict=True)
    ):
        if size % side and not pad:
            what = "grid of" if partition == "grid" else "windows of"
            raise call.fail(
                f"its {label} {size} is not a multiple of the {what} {side} (window "
                f"{join_axes(window)}), and pad is false; torchvision's MaxViT refuses that "
                f"(shape '[...]' is invalid for input of size ...): use a map divisible by "
                f"{side}, or pad: true to pad it as Swin does"
            )
        padded.append(PADDED.axis(call, axis, size, side) if notes else -(-size // side) * side)
    shift = call.axes("shift")
    if notes and call.notes is not None:
        kept = [
            0 if side >= size else step
            for side, size, step in zip(window, padded, shift, strict=True)
        ]
        if any(shift):
            call.note(
                f"shift {join_axes(shift)} (Swin's cyclic shift): {join_axes(kept)} on the "
                f"padded {join_axes(padded)} map (0 where the window covers the map); it adds "
                "a mask to the scores, no parameters and no MACs"
            )
        call.note(
            f"{partition} partition: {heads} heads of C/heads = {channels // heads} features; "
            + (
                "grid: each group takes every (H/window)-th token on each axis"
                if partition == "grid"
                else "each window of adjacent tokens attends within itself"
            )
        )
    return _Windows(channels, heads, (window[0], window[1]), (padded[0], padded[1]))


def window_attention_shape(call: Call) -> Geometry:
    _version(call)
    found = _windows(call, notes=call.notes is not None)
    if call.notes is not None:
        WINDOW_TOKENS.of(call, *found.padded, *found.window)
    return Geometry(call.input)


WINDOW_PARAMS_V1: Formula[int] = Formula(
    "params = (C + qkv_bias)*3*C + (C + proj_bias)*C + (2*window_h - 1)*(2*window_w - 1)*heads",
    "C qkv_bias proj_bias window_h window_w heads",
    note="qkv Linear(C, 3C), proj Linear(C, C), a relative position bias per head for each "
    "offset within a window",
)
WINDOW_PARAMS_V2: Formula[int] = Formula(
    "params = (C + qkv_bias)*3*C + (C + proj_bias)*C + heads + (2 + 1)*512 + 512*heads",
    "C qkv_bias proj_bias heads",
    note="qkv (its k bias zeroed at run time, still a parameter) and proj; logit_scale per "
    "head; cpb_mlp Linear(2, 512), ReLU, Linear(512, heads, bias=False)",
)


def window_attention_weights(call: Call, geometry: Geometry) -> Weights:
    found = _windows(call)
    qkv_bias, proj_bias = call.flag("qkv_bias"), call.flag("proj_bias")
    if _version(call) == 2:
        total = WINDOW_PARAMS_V2.of(call, found.channels, qkv_bias, proj_bias, found.heads)
    else:
        total = WINDOW_PARAMS_V1.of(
            call, found.channels, qkv_bias, proj_bias, *found.window, found.heads
        )
    return Weights(trainable=total)


WINDOW_MACS_V1: Formula[int] = Formula(
    "MACs = T*C*3*C + 2*T*N*C + T*C*C",
    "T N C",
    note="qkv on every padded token; in each of the T/N windows the scores Q*K^T and the "
    "weighted sum of V, N*N*C each over all heads; proj",
)
WINDOW_MACS_V2: Formula[int] = Formula(
    "MACs = T*C*3*C + 2*T*N*C + T*C*C + (2*window_h - 1)*(2*window_w - 1)*(2 + heads)*512",
    "T N C window_h window_w heads",
    note="as V1 (cosine scores), and cpb_mlp once on the table of relative coordinates",
)


def window_attention_macs(call: Call, geometry: Geometry) -> int:
    found = _windows(call)
    tokens, per_window, channels = found.tokens, found.per_window, found.channels
    if _version(call) == 2:
        return WINDOW_MACS_V2.of(call, tokens, per_window, channels, *found.window, found.heads)
    return WINDOW_MACS_V1.of(call, tokens, per_window, channels)


def _window_attention_saved(call: Call, geometry: Geometry) -> Saved:
    """What torchvision's window attention keeps in training (torch 2.13, CPU, dropout 0), per
    sample, for T padded tokens of C features, h heads and windows of N tokens (measured with
    saved_tensors_hooks, ``crosscheck_windows.py``): the qkv Linear's input (Swin's padded copy,
    or MaxViT's input itself) and the proj Linear's input, T*C each, for the weights; the
    softmax, h*T*N. V1 keeps the scaled queries (keys in MaxViT), T*C, and the keys and values:
    the qkv output itself, 3*T*C, with one head or when a batch of one has one window (their
    views reach the matrix products), else their copies, 2*T*C. V2 keeps the qkv output (its
    normalised queries and keys read it), a norm and its clamp per head and token for each,
    the normalised queries and keys, the values' copy (none where V1 keeps no copies), the
    scores before and after their softmax, and once per batch the position bias MLP's hidden
    layer, (2*window_h-1)*(2*window_w-1)*512, its sigmoid, h*N*N, and the exp of the logit
    scale, h."""
    found = _windows(call)
    tokens, channels, heads = found.tokens, found.channels, found.heads
    features = tokens * channels
    scores = heads * tokens * found.per_window
    # The keys and values are views of the qkv output when the products can read them so:
    # with one head, or one window of one sample; else copies.
    single = heads == 1 or (found.tokens == found.per_window and (call.settings.batch or 1) == 1)
    pad = call.flag("pad")
    own_input = features if pad else 0  # F.pad copies the map, even with nothing to pad
    if _version(call) == 2:
        table = (2 * found.window[0] - 1) * (2 * found.window[1] - 1)
        values = 0 if single else features
        return Saved(
            input_for_weights=not pad,
            elements=3 * features + 4 * heads * tokens + 2 * features + values + 2 * scores,
            elements_for_weights=features + own_input,
            statistics=table * CPB_HIDDEN + heads * found.per_window**2 + heads,
        )
    keys_values = 3 * features if single else 2 * features
    return Saved(
        input_for_weights=not pad,
        elements=features + keys_values + scores,
        elements_for_weights=features + own_input,
    )


WINDOW_ATTENTION = LayerKind(
    name="window_attention",
    summary="multi-head self-attention within windows of a feature map (H, W, C), channels "
    "last in either layout: torchvision Swin's ShiftedWindowAttention (version 1: qkv, proj "
    "and a relative position bias table; version 2: cosine attention with logit_scale and "
    "the cpb_mlp bias) on the map padded to a multiple of the window, shifted by shift; "
    "MaxViT's block (partition window) and grid (partition grid) attention with pad false. "
    "Output (H, W, C)",
    params=(
        Param("num_heads", WholeNumber(), REQUIRED, "attention heads", ("heads", "n_heads")),
        Param(
            "window",
            PerAxis(),
            REQUIRED,
            "tokens per window side, one for both axes (7) or per axis (7x7): Swin's "
            "window_size, MaxViT's partition_size",
            ("window_size", "partition_size"),
        ),
        Param(
            "shift",
            PerAxis(minimum=0),
            0,
            "Swin's cyclic shift (window // 2 in every other block); 0 on an axis where the "
            "window covers the padded map; no effect on any count",
            ("shift_size",),
        ),
        Param(
            "version",
            Version(),
            1,
            "1: Swin V1 and MaxViT, a learned bias table; 2: Swin V2, cosine attention, "
            "logit_scale and a continuous position bias MLP",
        ),
        Param(
            "partition",
            Choice(("window", "grid")),
            "window",
            "window: blocks of adjacent tokens (Swin, MaxViT's block attention); grid: "
            "tokens spread evenly over the map (MaxViT's grid attention), as many per group",
            ("partition_type",),
        ),
        Param(
            "pad",
            Flag(),
            True,
            "pad the map to a multiple of the window (Swin); false refuses a map the window "
            "does not divide (MaxViT)",
        ),
        Param("qkv_bias", Flag(), True, "the qkv projection has a bias"),
        Param(
            "proj_bias",
            Flag(),
            True,
            "the output projection has a bias (MaxViT's merge)",
        ),
        Param(
            "dim",
            WholeNumber(),
            None,
            "optional check: the features C, the last axis (torchvision's first argument)",
            ("embed_dim", "in_channels", "feat_dim"),
        ),
        Param(
            "map_size",
            PerAxis(),
            None,
            "optional: the map it is built for (MaxViT's grid_size, fixed by input_size); "
            "another is refused, as torchvision refuses it",
            ("grid_size",),
        ),
    ),
    positional=("num_heads", "window", "shift"),
    aliases=(
        "WindowAttention",
        "ShiftedWindowAttention",
        "ShiftedWindowAttentionV2",
        "PartitionAttention",
        "swin_attention",
        "w_msa",
    ),
    rank=2,
    shape=window_attention_shape,
    weights=window_attention_weights,
    macs=window_attention_macs,
    receptive=Receptive.WHOLE,
    frameworks=(Framework.PYTORCH,),
    ignored=("attention_dropout", "dropout", "head_dim", *IGNORED_WEIGHTS),
    torch_names=("ShiftedWindowAttention", "ShiftedWindowAttentionV2"),
    # torchvision's ShiftedWindowAttention(dim, window_size, shift_size, num_heads, qkv_bias,
    # proj_bias, attention_dropout, dropout), and its V2 subclass
    torch_positional=(
        "dim",
        "window",
        "shift",
        "num_heads",
        "qkv_bias",
        "proj_bias",
        "attention_dropout",
        "dropout",
    ),
    saved=_window_attention_saved,
)

# -- patch merging ----------------------------------------------------------------------------

MERGED: Formula[int] = Formula(
    "out = ceil(in / 2)", "in", note="odd sizes padded by one, then every other token"
)


def patch_merging_shape(call: Call) -> Geometry:
    height, width, channels = _feature_map(call, "patch_merging")
    _check_dim(call, channels)
    _version(call)
    if call.notes is not None:
        call.note(
            "each 2x2 group of tokens is concatenated into 4C features, then reduced to 2C "
            f"(4C = {4 * channels}, 2C = {2 * channels})"
        )
    sizes = [MERGED.axis(call, axis, size) for axis, size in enumerate((height, width))]
    return Geometry((*sizes, 2 * channels))


MERGING_PARAMS_V1: Formula[int] = Formula(
    "params = 2*4*C + 4*C*2*C",
    "C",
    note="LayerNorm(4C), then Linear(4C, 2C, bias=False)",
)
MERGING_PARAMS_V2: Formula[int] = Formula(
    "params = 4*C*2*C + 2*2*C",
    "C",
    note="Linear(4C, 2C, bias=False), then LayerNorm(2C)",
)


def patch_merging_weights(call: Call, geometry: Geometry) -> Weights:
    channels = call.input[-1]
    formula = MERGING_PARAMS_V2 if _version(call) == 2 else MERGING_PARAMS_V1
    return Weights(trainable=formula.of(call, channels))


MERGING_MACS: Formula[int] = Formula(
    "MACs = H_out*W_out*4*C*2*C", "H_out W_out C", note="the reduction Linear(4C, 2C)"
)


def patch_merging_macs(call: Call, geometry: Geometry) -> int:
    height, width, _ = geometry.output
    return MERGING_MACS.of(call, height, width, call.input[-1])


def _patch_merging_saved(call: Call, geometry: Geometry) -> Saved:
    """torchvision's PatchMerging keeps the concatenated map (4C a position, which its
    LayerNorm reads), the LayerNorm's output for the Linear's weights, and a float32 mean and
    inverse deviation a position; PatchMergingV2 the concatenated map for the Linear's
    weights, the Linear's output (2C a position, the LayerNorm's input) and the same
    statistics (measured, torch 2.13)."""
    height, width, channels = geometry.output
    positions = height * width
    merged = positions * 2 * channels  # 4C of the input's channels = 2C of the output's
    statistics = 2 * 4 * positions
    if _version(call) == 2:
        return Saved(
            elements=positions * channels, elements_for_weights=merged, raw_bytes=statistics
        )
    return Saved(elements=merged, elements_for_weights=merged, raw_bytes=statistics)


PATCH_MERGING = LayerKind(
    name="patch_merging",
    summary="Swin's downsampling of a feature map (H, W, C), channels last in either layout: "
    "each 2x2 group of tokens concatenated (odd sizes padded) and reduced to 2C, -> (ceil(H/2), "
    "ceil(W/2), 2C) (torchvision PatchMerging, version 1: LayerNorm(4C) then Linear(4C, 2C, "
    "bias=False); PatchMergingV2, version 2: the Linear then LayerNorm(2C))",
    params=(
        Param(
            "version",
            Version(),
            1,
            "1: LayerNorm(4C) before the Linear (Swin V1); 2: LayerNorm(2C) after it (Swin V2)",
        ),
        Param(
            "dim",
            WholeNumber(),
            None,
            "optional check: the features C, the last axis (torchvision's first argument)",
            ("in_channels",),
        ),
    ),
    positional=("version",),
    aliases=("PatchMerging", "PatchMergingV2", "merge_patches"),
    rank=2,
    shape=patch_merging_shape,
    weights=patch_merging_weights,
    macs=patch_merging_macs,
    receptive=Receptive.WHOLE,
    frameworks=(Framework.PYTORCH,),
    ignored=("norm_layer", *IGNORED_WEIGHTS),
    torch_names=("PatchMerging", "PatchMergingV2"),
    # torchvision's PatchMerging(dim, norm_layer) and PatchMergingV2(dim, norm_layer)
    torch_positional=("dim", "norm_layer"),
    saved=_patch_merging_saved,
)


WINDOWED_KINDS: tuple[LayerKind, ...] = (WINDOW_ATTENTION, PATCH_MERGING)
"""The kinds of this module, in the order ``convcalc layers`` lists them."""
