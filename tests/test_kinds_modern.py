"""The kinds of modern networks: ConvNeXt's, ShuffleNet's, EfficientNet's input, and the tokens
of transformers (``_kinds_channels.py``, ``_kinds_tokens.py``), one table per kind.

Every expected number is worked out by hand from the framework's documented formula, written
beside each table: PyTorch's ``MultiheadAttention`` holds ``in_proj_weight`` (3E, E),
``in_proj_bias`` (3E), ``out_proj`` Linear(E, E) and, with ``add_bias_kv``, ``bias_k`` and
``bias_v`` (1, 1, E); Keras' ``MultiHeadAttention`` holds EinsumDense query and key kernels
(E, heads, key_dim), a value kernel (E, heads, value_dim), biases of (heads, dim), and an output
kernel (heads, value_dim, out) with bias (out,); Keras' ``Normalization`` adds ``mean`` and
``variance`` of the kept axes' shape and a scalar ``count``. The whole-network figures are
torchvision's published ``num_params`` and ``_ops`` (GMACs). They were confirmed by building the
layers in Keras 3.15 (jax backend) and PyTorch 2.13; ``tests/crosscheck/crosscheck_modern.py``
repeats that on random settings. These tests never import a framework.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest
from typer.testing import CliRunner

from convcalc import ConvCalcError, analyze
from convcalc._catalogue import CATALOGUE, find_kind, find_param
from convcalc._cli import app
from convcalc._formula import Formula
from convcalc._kinds_channels import AxisList, KerasAxes, Numbers
from convcalc._values import Invalid

KERAS = "keras"
TORCH = "pytorch"


def run(framework: str, inp: list[int], *layers: object, **settings: object) -> dict[str, Any]:
    spec = {"input": inp, "framework": framework, "layers": list(layers), **settings}
    return analyze(spec).to_dict()


def case(id_: str, *values: object) -> Any:
    return pytest.param(*values, id=id_)


def row_of(framework: str, inp: list[int], layer: object, layout: str | None = None) -> Any:
    settings = {"layout": layout} if layout else {}
    return run(framework, inp, layer, **settings)["layers"][0]


def counts(row: dict[str, Any]) -> tuple[list[int], int, int, int]:
    return (
        row["output_shape"],
        row["trainable_params"],
        row["non_trainable_params"],
        row["macs"],
    )


def refused(
    framework: str, inp: list[int], layer: object, *fragments: str, layout: str | None = None
) -> None:
    settings = {"layout": layout} if layout else {}
    with pytest.raises(ConvCalcError) as caught:
        run(framework, inp, layer, **settings)
    message = str(caught.value)
    assert message.startswith("layer 1 "), message
    for fragment in fragments:
        assert fragment in message, message


TABLE = ("framework", "inp", "layer", "layout", "shape", "trainable", "frozen", "macs")
REFUSAL = ("framework", "inp", "layer", "layout", "fragments")


def check(
    framework: str,
    inp: list[int],
    layer: object,
    layout: str | None,
    shape: list[int],
    trainable: int,
    frozen: int,
    macs: int,
) -> None:
    assert counts(row_of(framework, inp, layer, layout)) == (shape, trainable, frozen, macs)


# -- permute: output[i] = input[order[i]]; Keras' dims from 1 without the batch, PyTorch's with
# the batch as 0 -------------------------------------------------------------------------------

PERMUTE = [
    case("keras-hwc-to-chw", KERAS, [2, 3, 4], {"Permute": [3, 1, 2]}, None, [4, 2, 3], 0, 0, 0),
    case("keras-tuple-text", KERAS, [2, 3, 4], {"permute": "(2, 3, 1)"}, None, [3, 4, 2], 0, 0, 0),
    case(
        "convnext-chw-to-hwc",  # C H W -> H W C, as CNBlock's Permute([0, 2, 3, 1])
        TORCH,
        [96, 56, 56],
        {"permute": {"torch_dims": [0, 2, 3, 1]}},
        None,
        [56, 56, 96],
        0,
        0,
        0,
    ),
    case(
        "torch-negative-dims",  # (0, -1, 1, 2) on N C H W is (0, 3, 1, 2)
        TORCH,
        [5, 6, 7],
        {"permute": {"torch_dims": "(0, -1, 1, 2)"}},
        None,
        [7, 5, 6],
        0,
        0,
        0,
    ),
    case("identity-flat", KERAS, [10], {"permute": [1]}, None, [10], 0, 0, 0),
    case("3d", KERAS, [2, 3, 4, 5], {"permute": [4, 1, 2, 3]}, None, [5, 2, 3, 4], 0, 0, 0),
    case("keras-dims-under-torch", TORCH, [8, 2], {"permute": [2, 1]}, None, [2, 8], 0, 0, 0),
]


@pytest.mark.parametrize(TABLE, PERMUTE)
def test_permute(
    framework: str,
    inp: list[int],
    layer: object,
    layout: str | None,
    shape: list[int],
    trainable: int,
    frozen: int,
    macs: int,
) -> None:
    check(framework, inp, layer, layout, shape, trainable, frozen, macs)


PERMUTE_REFUSED = [
    case(
        "batch-as-0-in-dims",
        KERAS,
        [2, 3, 4],
        {"permute": [0, 2, 3, 1]},
        None,
        ("counts the batch as 0", "dims: [2, 3, 1]", "torch_dims: [0, 2, 3, 1]"),
    ),
    case(
        "keras-not-a-permutation",
        KERAS,
        [2, 3, 4],
        {"permute": [1, 1, 2]},
        None,
        ("dims [1, 1, 2] is not an order of the axes 1 to 3", "consecutive"),
    ),
    case(
        "keras-too-short",
        KERAS,
        [2, 3, 4],
        {"permute": [2, 1]},
        None,
        ("orders 2 axes but its input [2, 3, 4] has 3", "expected ndim=3"),
    ),
    case(
        "torch-wrong-count",
        TORCH,
        [2, 3, 4],
        {"permute": {"torch_dims": [0, 2, 1]}},
        None,
        ("has 3 axes", "[N, 2, 3, 4], has 4", "does not match"),
    ),
    case(
        "torch-duplicate",
        TORCH,
        [2, 3, 4],
        {"permute": {"torch_dims": [0, 1, 1, 2]}},
        None,
        ("names an axis twice", "duplicate dims are not allowed"),
    ),
    case(
        "torch-out-of-range",
        TORCH,
        [2, 3, 4],
        {"permute": {"torch_dims": [0, 1, 2, 4]}},
        None,
        ("names axis 4", "Dimension out of range"),
    ),
    case(
        "torch-moves-the-batch",
        TORCH,
        [2, 3, 4],
        {"permute": {"torch_dims": [1, 0, 2, 3]}},
        None,
        ("moves the batch (axis 0)", "start torch_dims with 0"),
    ),
    case(
        "both",
        TORCH,
        [2, 3, 4],
        {"permute": {"dims": [2, 3, 1], "torch_dims": [0, 2, 3, 1]}},
        None,
        ("give one of dims", "not both"),
    ),
    case("neither", KERAS, [2, 3, 4], "permute", None, ("permute needs the new order",)),
]


@pytest.mark.parametrize(REFUSAL, PERMUTE_REFUSED)
def test_permute_refused(
    framework: str, inp: list[int], layer: object, layout: str | None, fragments: tuple[str, ...]
) -> None:
    refused(framework, inp, layer, *fragments, layout=layout)


def test_permute_keeps_the_receptive_field_and_explains() -> None:
    layers = [{"conv2d": [4, 3]}, {"permute": [3, 1, 2]}]
    spec = {"input": [9, 9, 1], "layers": layers, "explain": True}
    conv, permute = analyze(spec).to_dict()["layers"]
    assert permute["receptive_field"] == conv["receptive_field"]
    assert permute["explain"][0] == "order 3 1 2 (from 1, without the batch): H W C -> C H W"
    assert "no weights: permute only reorders the axes of the same elements" in permute["explain"]


# -- layernorm2d: a scale and a shift per channel, 2*C, over the layout's channel axis ----------

LAYERNORM2D = [
    case("torch-chw", TORCH, [96, 56, 56], {"LayerNorm2d": 96}, None, [96, 56, 56], 192, 0, 0),
    case("keras-hwc", KERAS, [7, 7, 48], "layernorm2d", None, [7, 7, 48], 96, 0, 0),
    case("keras-chw", KERAS, [48, 7, 7], "layernorm2d", "chw", [48, 7, 7], 96, 0, 0),
    case("no-bias", TORCH, [8, 4, 4], {"layernorm2d": {"bias": False}}, None, [8, 4, 4], 8, 0, 0),
    case(
        "no-affine",
        TORCH,
        [8, 4, 4],
        {"layernorm2d": {"elementwise_affine": False}},
        None,
        [8, 4, 4],
        0,
        0,
        0,
    ),
    case("neutral-1d", TORCH, [8, 10], "layernorm2d", None, [8, 10], 16, 0, 0),
    case("flat", KERAS, [12], "layernorm2d", None, [12], 24, 0, 0),
]


@pytest.mark.parametrize(TABLE, LAYERNORM2D)
def test_layernorm2d(
    framework: str,
    inp: list[int],
    layer: object,
    layout: str | None,
    shape: list[int],
    trainable: int,
    frozen: int,
    macs: int,
) -> None:
    check(framework, inp, layer, layout, shape, trainable, frozen, macs)


def test_layernorm2d_is_layernorm_channels_last() -> None:
    # Keras' LayerNormalization(axis=-1) on H W C normalises the channels: the same 2*C.
    ours = row_of(KERAS, [7, 7, 48], "layernorm2d")
    theirs = row_of(KERAS, [7, 7, 48], "LayerNormalization")
    assert counts(ours) == counts(theirs) == ([7, 7, 48], 96, 0, 0)


LAYERNORM2D_REFUSED = [
    case(
        "torchvision-takes-4d",
        TORCH,
        [8, 10],
        {"LayerNorm2d": 8},
        None,
        ("takes N C H W", "is 3-D with the batch", "layernorm2d (spelled so)"),
    ),
    case(
        "torchvision-channels-first-only",
        TORCH,
        [4, 4, 8],
        {"LayerNorm2d": 8},
        "hwc",
        ("takes channels first", "use layernorm"),
    ),
    case(
        "channel-check",
        TORCH,
        [8, 4, 4],
        {"LayerNorm2d": 7},
        None,
        ("num_channels 7 does not match", "8 channels", "normalized_shape=[7]"),
    ),
]


@pytest.mark.parametrize(REFUSAL, LAYERNORM2D_REFUSED)
def test_layernorm2d_refused(
    framework: str, inp: list[int], layer: object, layout: str | None, fragments: tuple[str, ...]
) -> None:
    refused(framework, inp, layer, *fragments, layout=layout)


# -- layer_scale: C learned multipliers; torchvision's (C, 1, 1) on the channels, Keras' gamma
# (projection_dim,) on the last axis ----------------------------------------------------------

LAYER_SCALE = [
    case("torch-chw", TORCH, [96, 56, 56], "layer_scale", None, [96, 56, 56], 96, 0, 0),
    case("torch-hwc", TORCH, [56, 56, 96], "layer_scale", "hwc", [56, 56, 96], 96, 0, 0),
    case(
        "keras-positional",  # LayerScale(init_values, projection_dim)
        KERAS,
        [7, 7, 768],
        {"LayerScale": [1e-6, 768]},
        None,
        [7, 7, 768],
        768,
        0,
        0,
    ),
    case(
        "keras-chw-last-axis",  # gamma multiplies W, keras' own axis
        KERAS,
        [8, 4, 5],
        "layer_scale",
        "chw",
        [8, 4, 5],
        5,
        0,
        0,
    ),
    case(
        "one-shared-scale",
        KERAS,
        [7, 7, 32],
        {"layer_scale": {"projection_dim": 1}},
        None,
        [7, 7, 32],
        1,
        0,
        0,
    ),
    case(
        "broadcast-a-size-1-axis",  # (1,) * (4,) broadcasts to 4
        KERAS,
        [3, 3, 1],
        {"layer_scale": {"projection_dim": 4}},
        None,
        [3, 3, 4],
        4,
        0,
        0,
    ),
]


@pytest.mark.parametrize(TABLE, LAYER_SCALE)
def test_layer_scale(
    framework: str,
    inp: list[int],
    layer: object,
    layout: str | None,
    shape: list[int],
    trainable: int,
    frozen: int,
    macs: int,
) -> None:
    check(framework, inp, layer, layout, shape, trainable, frozen, macs)


def test_layer_scale_refused_and_noted() -> None:
    refused(
        KERAS,
        [7, 7, 32],
        {"layer_scale": {"projection_dim": 16}},
        "projection_dim 16 does not match the last axis",
        "has 32",
    )
    refused(
        TORCH,
        [32, 7, 7],
        {"layer_scale": {"dim": 16}},
        "projection_dim 16 does not match the channel axis",
    )
    notes = analyze({"input": [8, 4, 5], "layout": "chw", "layers": ["layer_scale"]}).to_dict()[
        "notes"
    ]
    assert any("keras' LayerScale multiplies the last axis" in note for note in notes)


# -- drop_path: stochastic depth, nothing learned, no shape change ----------------------------

DROP_PATH = [
    case(
        "torchvision",
        TORCH,
        [96, 8, 8],
        {"StochasticDepth": [0.1, "row"]},
        None,
        [96, 8, 8],
        0,
        0,
        0,
    ),
    case("keras", KERAS, [8, 8, 96], {"StochasticDepth": 0.2}, None, [8, 8, 96], 0, 0, 0),
    case("tokens", TORCH, [197, 768], {"drop_path": {"p": 0.0}}, None, [197, 768], 0, 0, 0),
]


@pytest.mark.parametrize(TABLE, DROP_PATH)
def test_drop_path(
    framework: str,
    inp: list[int],
    layer: object,
    layout: str | None,
    shape: list[int],
    trainable: int,
    frozen: int,
    macs: int,
) -> None:
    check(framework, inp, layer, layout, shape, trainable, frozen, macs)


def test_drop_path_refused() -> None:
    refused(KERAS, [8, 8, 4], {"drop_path": {"rate": 0.1, "mode": "row"}}, "mode is torchvision")
    with pytest.raises(ConvCalcError, match="rate 1.5 is not valid: must be a number from 0"):
        run(TORCH, [4, 8, 8], {"drop_path": 1.5})
    with pytest.raises(ConvCalcError, match="mode 'col' is not valid"):
        run(TORCH, [4, 8, 8], {"drop_path": [0.1, "col"]})
    with pytest.raises(ConvCalcError, match="rate is required"):
        run(TORCH, [4, 8, 8], "drop_path")


# -- channel_shuffle: channels divide by groups; no parameters --------------------------------

CHANNEL_SHUFFLE = [
    case("torch", TORCH, [116, 28, 28], {"ChannelShuffle": 2}, None, [116, 28, 28], 0, 0, 0),
    case("keras-hwc", KERAS, [28, 28, 24], {"channel_shuffle": 3}, None, [28, 28, 24], 0, 0, 0),
    case("1d", TORCH, [6, 10], {"channel_shuffle": {"groups": 6}}, None, [6, 10], 0, 0, 0),
]


@pytest.mark.parametrize(TABLE, CHANNEL_SHUFFLE)
def test_channel_shuffle(
    framework: str,
    inp: list[int],
    layer: object,
    layout: str | None,
    shape: list[int],
    trainable: int,
    frozen: int,
    macs: int,
) -> None:
    check(framework, inp, layer, layout, shape, trainable, frozen, macs)


def test_channel_shuffle_refused() -> None:
    refused(
        TORCH,
        [9, 4, 4],
        {"ChannelShuffle": 2},
        "groups 2 does not divide the input's 9 channels",
        "such as 1",
    )
    refused(TORCH, [12, 4, 4], {"channel_shuffle": 8}, "such as 6")
    refused(TORCH, [12], {"channel_shuffle": 2}, "flat vector", "> 2 dims")
    with pytest.raises(ConvCalcError, match="groups 0 is not valid"):
        run(TORCH, [12, 4, 4], {"channel_shuffle": 0})


# -- Keras' Rescaling: no weights; Normalization: mean and variance of the kept axes + count ----

PREPROCESSING = [
    case("rescaling", KERAS, [224, 224, 3], {"Rescaling": "1/255"}, None, [224, 224, 3], 0, 0, 0),
    case(
        "rescaling-per-channel",  # EfficientNet's 1/sqrt(stddev) per RGB channel
        KERAS,
        [224, 224, 3],
        {"rescaling": {"scale": [4.4, 4.5, 4.4], "offset": -1}},
        None,
        [224, 224, 3],
        0,
        0,
        0,
    ),
    case(
        "normalization-default",  # axis -1: mean (3,), variance (3,), count () = 2*3 + 1
        KERAS,
        [224, 224, 3],
        "Normalization",
        None,
        [224, 224, 3],
        0,
        2 * 3 + 1,
        0,
    ),
    case(
        "normalization-channels-first",  # axis 1 is C of C H W: 2*3 + 1
        KERAS,
        [3, 32, 32],
        {"normalization": {"axis": 1}},
        "chw",
        [3, 32, 32],
        0,
        2 * 3 + 1,
        0,
    ),
    case(
        "normalization-none",  # one mean and one variance for all: 2*1 + 1
        KERAS,
        [4, 5, 3],
        {"normalization": {"axis": "None"}},
        None,
        [4, 5, 3],
        0,
        3,
        0,
    ),
    case(
        "normalization-two-axes",  # axis (1, 2) keeps H W: 2*4*5 + 1
        KERAS,
        [4, 5, 3],
        {"normalization": {"axis": [1, 2]}},
        None,
        [4, 5, 3],
        0,
        2 * 4 * 5 + 1,
        0,
    ),
    case(
        "normalization-given",  # constants, not weights
        KERAS,
        [4, 5, 3],
        {"normalization": {"mean": [0.485, 0.456, 0.406], "variance": [0.05, 0.05, 0.05]}},
        None,
        [4, 5, 3],
        0,
        0,
        0,
    ),
    case(
        "normalization-given-scalars",
        KERAS,
        [4, 5, 3],
        {"Normalization": {"mean": 3.0, "variance": 2.0}},
        None,
        [4, 5, 3],
        0,
        0,
        0,
    ),
    case("normalization-pytorch", TORCH, [3, 8, 8], "normalization", None, [3, 8, 8], 0, 0, 0),
]


@pytest.mark.parametrize(TABLE, PREPROCESSING)
def test_preprocessing(
    framework: str,
    inp: list[int],
    layer: object,
    layout: str | None,
    shape: list[int],
    trainable: int,
    frozen: int,
    macs: int,
) -> None:
    check(framework, inp, layer, layout, shape, trainable, frozen, macs)


PREPROCESSING_REFUSED = [
    case(
        "rescaling-wrong-length",
        KERAS,
        [4, 4, 3],
        {"rescaling": {"scale": [1, 2]}},
        None,
        ("scale has 2 values but the last axis", "has 3", "give one value, or 3"),
    ),
    case(
        "rescaling-channels-first",
        KERAS,
        [3, 4, 5],
        {"rescaling": {"scale": [1, 2, 3]}},
        "chw",
        ("has 5, which in this channels-first input is not the channels",),
    ),
    case(
        "normalization-batch-axis",
        KERAS,
        [4, 4, 3],
        {"normalization": {"axis": 0}},
        None,
        ("axis 0 is the batch", "known shape"),
    ),
    case(
        "normalization-axis-range",
        KERAS,
        [4, 4, 3],
        {"normalization": {"axis": 4}},
        None,
        ("axis 4 is out of range", "[-ndim, ndim)"),
    ),
    case(
        "normalization-mean-alone",
        KERAS,
        [4, 4, 3],
        {"normalization": {"mean": 1.0}},
        None,
        ("give both mean and variance",),
    ),
    case(
        "normalization-shapes-differ",
        KERAS,
        [4, 4, 3],
        {"normalization": {"mean": [1, 2, 3], "variance": 1}},
        None,
        ("the same shape",),
    ),
    case(
        "normalization-wrong-length",
        KERAS,
        [4, 4, 3],
        {"normalization": {"mean": [1, 2], "variance": [1, 2]}},
        None,
        ("have 2 values but the axis they follow (axis 3) has 3",),
    ),
    case(
        "normalization-list-for-none",
        KERAS,
        [4, 4, 3],
        {"normalization": {"axis": "none", "mean": [1.0], "variance": [1.0]}},
        None,
        ("axis none keeps no axis",),
    ),
]


@pytest.mark.parametrize(REFUSAL, PREPROCESSING_REFUSED)
def test_preprocessing_refused(
    framework: str, inp: list[int], layer: object, layout: str | None, fragments: tuple[str, ...]
) -> None:
    refused(framework, inp, layer, *fragments, layout=layout)


def test_efficientnet_input() -> None:
    # keras.applications.EfficientNetB0 starts Rescaling(1/255), Normalization(axis=-1),
    # Rescaling([1/sqrt(var)...]): 7 non-trainable weights, nothing else.
    layers = [{"Rescaling": "1.0 / 255.0"}, "Normalization", {"Rescaling": [[2.0, 2.0, 2.0]]}]
    report = run(KERAS, [224, 224, 3], *layers)
    assert report["totals"]["params"] == 7
    assert report["totals"]["trainable_params"] == 0


# -- multi-head attention ------------------------------------------------------------------
# PyTorch: params 4*E*E + 4*E (bias) + 2*E (add_bias_kv);
#          MACs 3*L*E*E (q, k, v) + L*S*E (scores) + L*S*E (weighted V) + L*E*E (out),
#          S = L + add_bias_kv + add_zero_attn.
# Keras:   params (E + b)*h*kd*2 + (E + b)*h*vd + (h*vd + b)*out (+ (E + b)*h*vd with the gate);
#          MACs T*E*h*(2*kd + vd) + h*T*T*kd + h*T*T*vd + T*h*vd*out (+ T*E*h*vd gate).


def torch_mha(length: int, e: int, bias: int = 1, kv: int = 0, zero: int = 0) -> tuple[int, int]:
    s = length + kv + zero
    return 4 * e * e + 4 * e * bias + 2 * e * kv, 4 * length * e * e + 2 * length * s * e


def keras_mha(
    t: int, e: int, h: int, kd: int, vd: int, out: int, bias: int = 1, gate: int = 0
) -> tuple[int, int]:
    params = (e + bias) * h * (2 * kd + vd + gate * vd) + (h * vd + bias) * out
    macs = t * e * h * (2 * kd + vd + gate * vd) + h * t * t * (kd + vd) + t * h * vd * out
    return params, macs


ATTENTION = [
    case(
        "torch-vit-b16",
        TORCH,
        [197, 768],
        {"MultiheadAttention": [768, 12]},
        None,
        [197, 768],
        *torch_mha(197, 768),
    ),
    case(
        "torch-no-bias",
        TORCH,
        [10, 64],
        {"multihead_attention": {"num_heads": 4, "bias": False}},
        None,
        [10, 64],
        *torch_mha(10, 64, bias=0),
    ),
    case(
        "torch-bias-kv-zero-attn",
        TORCH,
        [10, 64],
        {
            "MultiheadAttention": {
                "embed_dim": 64,
                "num_heads": 8,
                "add_bias_kv": True,
                "add_zero_attn": True,
                "batch_first": True,
            }
        },
        None,
        [10, 64],
        *torch_mha(10, 64, kv=1, zero=1),
    ),
    case(
        "torch-kdim-vdim-equal-e",  # separate q, k, v weights, the same 3*E*E
        TORCH,
        [6, 32],
        {"mha": {"num_heads": 2, "kdim": 32, "vdim": 32}},
        None,
        [6, 32],
        *torch_mha(6, 32),
    ),
    case(
        "torch-channels-first-tokens",  # tokens are (L, E) whatever the layout
        TORCH,
        [5, 8],
        {"mha": {"num_heads": 2}},
        "hwc",
        [5, 8],
        *torch_mha(5, 8),
    ),
    case(
        "keras",
        KERAS,
        [5, 8],
        {"MultiHeadAttention": [2, 3]},
        None,
        [5, 8],
        *keras_mha(5, 8, 2, 3, 3, 8),
    ),
    case(
        "keras-value-dim-no-bias",
        KERAS,
        [5, 8],
        {"MultiHeadAttention": {"num_heads": 2, "key_dim": 3, "value_dim": 4, "use_bias": False}},
        None,
        [5, 8],
        *keras_mha(5, 8, 2, 3, 4, 8, bias=0),
    ),
    case(
        "keras-output-shape",
        KERAS,
        [5, 8],
        {"mha": {"num_heads": 2, "key_dim": 3, "output_shape": 6}},
        None,
        [5, 6],
        *keras_mha(5, 8, 2, 3, 3, 6),
    ),
    case(
        "keras-output-shape-two-axes",  # output kernel (h, vd, 2, 3), bias (2, 3)
        KERAS,
        [5, 8],
        {"mha": {"num_heads": 2, "key_dim": 3, "output_shape": [2, 3]}},
        None,
        [5, 2, 3],
        *keras_mha(5, 8, 2, 3, 3, 6),
    ),
    case(
        "keras-gate",
        KERAS,
        [5, 8],
        {"mha": {"num_heads": 2, "key_dim": 3, "use_gate": True}},
        None,
        [5, 8],
        *keras_mha(5, 8, 2, 3, 3, 8, gate=1),
    ),
    case(
        "keras-image-positions",  # (H, W, E): attention over H*W = 20 positions jointly
        KERAS,
        [4, 5, 8],
        {"mha": {"num_heads": 2, "key_dim": 3}},
        None,
        [4, 5, 8],
        *keras_mha(20, 8, 2, 3, 3, 8),
    ),
]


@pytest.mark.parametrize(
    ("framework", "inp", "layer", "layout", "shape", "params", "macs"), ATTENTION
)
def test_attention(
    framework: str,
    inp: list[int],
    layer: object,
    layout: str | None,
    shape: list[int],
    params: int,
    macs: int,
) -> None:
    check(framework, inp, layer, layout, shape, params, 0, macs)


def test_attention_counts_by_hand() -> None:
    # Spelled out once: E = 8, L = 5 in PyTorch; in_proj 3*8*8 + 3*8 = 216, out_proj 8*8 + 8
    # = 72; MACs 3*5*64 + 5*5*8 + 5*5*8 + 5*64 = 960 + 200 + 200 + 320.
    assert torch_mha(5, 8) == (216 + 72, 960 + 200 + 200 + 320)
    # Keras, h = 2, kd = vd = 3: query and key 8*2*3 + 2*3 = 54 each, value 54, output
    # 2*3*8 + 8 = 56; MACs 5*8*6 * 3 + 2*25*3 * 2 + 5*6*8.
    assert keras_mha(5, 8, 2, 3, 3, 8) == (54 * 3 + 56, 720 + 300 + 240)


ATTENTION_REFUSED = [
    case(
        "torch-divisible",
        TORCH,
        [5, 8],
        {"MultiheadAttention": [8, 3]},
        None,
        ("embed_dim 8", "not divisible by num_heads 3", "embed_dim must be divisible"),
    ),
    case(
        "torch-image",
        TORCH,
        [8, 4, 4],
        {"mha": {"num_heads": 2}},
        None,
        ("takes tokens (L, E)", "has 3", "to_tokens"),
    ),
    case(
        "torch-kdim",
        TORCH,
        [5, 8],
        {"mha": {"num_heads": 2, "kdim": 4}},
        None,
        ("kdim 4 is not the tokens' 8 features", "self-attention"),
    ),
    case(
        "torch-embed-dim-check",
        TORCH,
        [5, 8],
        {"MultiheadAttention": [16, 2]},
        None,
        ("embed_dim 16 does not match", "8 features"),
    ),
    case(
        "torch-keras-argument",
        TORCH,
        [5, 8],
        {"mha": {"num_heads": 2, "value_dim": 4}},
        None,
        ("value_dim is keras' argument",),
    ),
    case(
        "torch-key-dim",
        TORCH,
        [5, 8],
        {"mha": {"num_heads": 2, "key_dim": 3}},
        None,
        ("8/2 = 4 features each",),
    ),
    case(
        "keras-needs-key-dim",
        KERAS,
        [5, 8],
        {"mha": {"num_heads": 2}},
        None,
        ("needs key_dim", "E/num_heads = 8/2"),
    ),
    case(
        "keras-flat",
        KERAS,
        [8],
        {"mha": {"num_heads": 2, "key_dim": 4}},
        None,
        ("is a flat vector",),
    ),
    case(
        "keras-torch-argument",
        KERAS,
        [5, 8],
        {"mha": {"num_heads": 2, "key_dim": 4, "add_bias_kv": False}},
        None,
        ("add_bias_kv is pytorch's argument",),
    ),
    case(
        "keras-too-many-axes",
        KERAS,
        [2, 3, 4, 8],
        {"mha": {"num_heads": 2, "key_dim": 4, "output_shape": [2, 4]}},
        None,
        ("would have 5 axes",),
    ),
]


@pytest.mark.parametrize(REFUSAL, ATTENTION_REFUSED)
def test_attention_refused(
    framework: str, inp: list[int], layer: object, layout: str | None, fragments: tuple[str, ...]
) -> None:
    refused(framework, inp, layer, *fragments, layout=layout)


def test_attention_explain() -> None:
    spec = {
        "input": [5, 8],
        "framework": TORCH,
        "explain": True,
        "layers": [{"MultiheadAttention": [8, 2]}],
    }
    (row,) = analyze(spec).to_dict()["layers"]
    text = "\n".join(row["explain"])
    assert "tokens: L = 5 (the sequence), E = 8 (the features, the last axis)" in text
    assert "= 4*(8 + 1)*8 + 2*0*8 = 288" in text
    assert "S = L + add_bias_kv + add_zero_attn = 5 + 0 + 0 = 5" in text
    assert "= 4*5*8*8 + 2*5*5*8 = 1,680" in text
    assert row["receptive_field"] is None


# -- tokens: patch_embedding, to_tokens, class_token, position_embedding, take_token ----------
# patch_embedding: a conv with kernel = stride = p: (floor(H/p)*floor(W/p), E) tokens,
# params (p*p*C + 1)*E, MACs L*E*C*p*p.

TOKENS = [
    case(
        "patch-embedding-vit-b16",
        TORCH,
        [3, 224, 224],
        {"patch_embedding": [768, 16]},
        None,
        [196, 768],
        (16 * 16 * 3 + 1) * 768,
        0,
        196 * 768 * 3 * 16 * 16,
    ),
    case(
        "patch-embedding-keras-hwc-no-bias",
        KERAS,
        [32, 32, 3],
        {"PatchEmbedding": {"hidden_dim": 64, "patch": 8, "use_bias": False}},
        None,
        [16, 64],
        8 * 8 * 3 * 64,
        0,
        16 * 64 * 3 * 64,
    ),
    case(
        "patch-embedding-remainder",  # floor(15/4) = 3 by floor(10/4) = 2
        KERAS,
        [15, 10, 2],
        {"patch_embedding": {"embed_dim": 5, "patch_size": 4}},
        None,
        [6, 5],
        (4 * 4 * 2 + 1) * 5,
        0,
        6 * 5 * 2 * 16,
    ),
    case("to-tokens-chw", TORCH, [768, 14, 14], "to_tokens", None, [196, 768], 0, 0, 0),
    case("to-tokens-hwc", KERAS, [7, 7, 32], "to_tokens", None, [49, 32], 0, 0, 0),
    case("to-tokens-3d", KERAS, [2, 3, 4, 8], "to_tokens", None, [24, 8], 0, 0, 0),
    case("class-token", TORCH, [196, 768], "class_token", None, [197, 768], 768, 0, 0),
    case(
        "class-and-distillation",  # DeiT: two tokens of E
        TORCH,
        [196, 192],
        {"class_token": 2},
        None,
        [198, 192],
        2 * 192,
        0,
        0,
    ),
    case(
        "position-embedding",
        TORCH,
        [197, 768],
        {"position_embedding": 197},
        None,
        [197, 768],
        197 * 768,
        0,
        0,
    ),
    case("take-first", TORCH, [197, 768], "take_token", None, [768], 0, 0, 0),
    case("take-last", KERAS, [10, 16], {"take_token": -1}, None, [16], 0, 0, 0),
]


@pytest.mark.parametrize(TABLE, TOKENS)
def test_tokens(
    framework: str,
    inp: list[int],
    layer: object,
    layout: str | None,
    shape: list[int],
    trainable: int,
    frozen: int,
    macs: int,
) -> None:
    check(framework, inp, layer, layout, shape, trainable, frozen, macs)


TOKENS_REFUSED = [
    case(
        "patch-too-large",
        TORCH,
        [3, 8, 8],
        {"patch_embedding": [16, 16]},
        None,
        ("is larger than its input's H, 8", "Kernel size"),
    ),
    case(
        "patch-in-channels",
        TORCH,
        [3, 8, 8],
        {"patch_embedding": {"embed_dim": 4, "patch_size": 2, "in_channels": 1}},
        None,
        ("in_channels 1 does not match",),
    ),
    case("to-tokens-flat", KERAS, [10], "to_tokens", None, ("is a flat vector",)),
    case(
        "class-token-image",
        TORCH,
        [3, 8, 8],
        "class_token",
        None,
        ("takes tokens (L, E)", "patch_embedding or to_tokens"),
    ),
    case(
        "class-token-embed-dim",
        TORCH,
        [5, 8],
        {"class_token": {"hidden_dim": 16}},
        None,
        ("embed_dim 16 does not match",),
    ),
    case(
        "position-length",
        TORCH,
        [196, 768],
        {"position_embedding": 197},
        None,
        ("sequence_length 197 is not its input's 196 tokens",),
    ),
    case(
        "take-out-of-range",
        TORCH,
        [5, 8],
        {"take_token": 5},
        None,
        ("index 5 is out of range", "0 to 4"),
    ),
    case("take-flat", TORCH, [8], "take_token", None, ("flat vector",)),
]


@pytest.mark.parametrize(REFUSAL, TOKENS_REFUSED)
def test_tokens_refused(
    framework: str, inp: list[int], layer: object, layout: str | None, fragments: tuple[str, ...]
) -> None:
    refused(framework, inp, layer, *fragments, layout=layout)


def test_patch_remainder_is_noted() -> None:
    notes = run(KERAS, [15, 16, 2], {"patch_embedding": [5, 4]})["notes"]
    assert any("the last 3 of 15 on H are in no patch of 4" in note for note in notes)


# -- embedding: input_dim*output_dim parameters; (*indices) -> (*indices, E) ------------------

EMBEDDING = [
    case("keras", KERAS, [7], {"Embedding": [10, 4]}, None, [7, 4], 40, 0, 0),
    case("torch-2d-indices", TORCH, [3, 7], {"Embedding": [10, 4]}, None, [3, 7, 4], 40, 0, 0),
    case(
        "torch-names",
        TORCH,
        [12],
        {"embedding": {"num_embeddings": 30522, "embedding_dim": 768, "padding_idx": 0}},
        None,
        [12, 768],
        30522 * 768,
        0,
        0,
    ),
    case(
        "negative-padding-idx",
        TORCH,
        [5],
        {"embedding": {"input_dim": 10, "output_dim": 2, "padding_idx": -10}},
        None,
        [5, 2],
        20,
        0,
        0,
    ),
]


@pytest.mark.parametrize(TABLE, EMBEDDING)
def test_embedding(
    framework: str,
    inp: list[int],
    layer: object,
    layout: str | None,
    shape: list[int],
    trainable: int,
    frozen: int,
    macs: int,
) -> None:
    check(framework, inp, layer, layout, shape, trainable, frozen, macs)


def test_embedding_refused() -> None:
    refused(
        TORCH,
        [5],
        {"embedding": {"input_dim": 10, "output_dim": 2, "padding_idx": 10}},
        "padding_idx 10 is not an index of the 10 embeddings",
        "Padding_idx must be within num_embeddings",
    )
    refused(
        KERAS,
        [5],
        {"embedding": {"input_dim": 10, "output_dim": 2, "padding_idx": 0}},
        "padding_idx is pytorch's argument",
    )
    refused(KERAS, [2, 3, 4, 5], {"embedding": [10, 2]}, "would have 5 axes")
    with pytest.raises(ConvCalcError, match="output_dim is required"):
        run(KERAS, [5], {"embedding": {"input_dim": 10}})


# -- whole networks: torchvision's published figures -----------------------------------------


def convnext_tiny() -> dict[str, Any]:
    """torchvision's convnext_tiny: stem Conv2d(3, 96, 4, 4) + LayerNorm2d; stages of CNBlocks
    (dwconv 7x7, Permute, LayerNorm, Linear 4C, GELU, Linear C, Permute, layer_scale,
    StochasticDepth, + input) of 96/192/384/768 channels, 3/3/9/3 blocks, each stage but the last
    followed by LayerNorm2d + Conv2d(k=2, s=2); head AdaptiveAvgPool2d(1), LayerNorm2d, Flatten,
    Linear(768, 1000)."""
    cn_block = [
        {
            "residual": {
                "layers": [
                    {"conv2d": {"filters": "$dim", "kernel": 7, "padding": 3, "groups": "$dim"}},
                    {"permute": {"torch_dims": [0, 2, 3, 1]}},
                    {"LayerNorm": {"normalized_shape": "$dim", "eps": 1e-6}},
                    {"Linear": ["$dim", "$dim * 4"]},
                    "GELU",
                    {"Linear": ["$dim * 4", "$dim"]},
                    {"permute": {"torch_dims": [0, 3, 1, 2]}},
                    "layer_scale",
                    {"StochasticDepth": [0.1, "row"]},
                ]
            }
        }
    ]
    layers: list[object] = [{"Conv2d": [3, 96, 4, 4]}, {"LayerNorm2d": 96}]
    dims, depths = [96, 192, 384, 768], [3, 3, 9, 3]
    for stage, (dim, depth) in enumerate(zip(dims, depths, strict=True)):
        layers.append({"repeat": depth, "layers": [{"cn": {"dim": dim}}]})
        if stage < 3:
            layers += [{"LayerNorm2d": dim}, {"Conv2d": [dim, dims[stage + 1], 2, 2]}]
    layers += [
        {"adaptive_avgpool2d": 1},
        {"LayerNorm2d": 768},
        "flatten",
        {"Linear": [768, 1000]},
    ]
    return {
        "input": [3, 224, 224],
        "framework": TORCH,
        "blocks": {"cn": {"params": {"dim": 96}, "layers": cn_block}},
        "layers": layers,
    }


def vit_b_16() -> dict[str, Any]:
    """torchvision's vit_b_16: conv_proj 16x16/16 to 768, class token, pos_embedding (197,
    768), 12 encoder blocks (LayerNorm, MultiheadAttention(768, 12), + input; LayerNorm, MLP
    768-3072-768 with GELU, + input), LayerNorm, x[:, 0], Linear(768, 1000)."""
    encoder = [
        {"residual": {"layers": [{"layernorm": {"eps": 1e-6}}, {"MultiheadAttention": [768, 12]}]}},
        {
            "residual": {
                "layers": [
                    {"layernorm": {"eps": 1e-6}},
                    {"Linear": [768, 3072]},
                    "gelu",
                    {"dropout": 0.0},
                    {"Linear": [3072, 768]},
                ]
            }
        },
    ]
    return {
        "input": [3, 224, 224],
        "framework": TORCH,
        "layers": [
            {"patch_embedding": [768, 16]},
            "class_token",
            {"position_embedding": 197},
            {"repeat": 12, "layers": encoder},
            {"layernorm": {"eps": 1e-6}},
            "take_token",
            {"Linear": [768, 1000]},
        ],
    }


@pytest.mark.parametrize(
    ("model", "params", "gmacs"),
    [
        # torchvision.models.ConvNeXt_Tiny_Weights: num_params 28,589,128, _ops 4.456
        pytest.param(convnext_tiny, 28_589_128, 4.456, id="convnext_tiny"),
        # torchvision.models.ViT_B_16_Weights: num_params 86,567,656, _ops 17.564
        pytest.param(vit_b_16, 86_567_656, 17.564, id="vit_b_16"),
    ],
)
def test_published_networks(model: Any, params: int, gmacs: float) -> None:
    totals = analyze(model()).to_dict()["totals"]
    assert totals["params"] == params
    assert round(totals["macs"] / 1e9, 3) == gmacs


# -- the catalogue and the command line ------------------------------------------------------

NEW_KINDS = [
    "permute",
    "layernorm2d",
    "layer_scale",
    "drop_path",
    "channel_shuffle",
    "rescaling",
    "normalization",
    "multihead_attention",
    "patch_embedding",
    "to_tokens",
    "class_token",
    "position_embedding",
    "take_token",
    "embedding",
]

SPELLINGS = [
    ("Permute", "permute"),
    ("LayerNorm2d", "layernorm2d"),
    ("LayerScale", "layer_scale"),
    ("StochasticDepth", "drop_path"),
    ("DropPath", "drop_path"),
    ("ChannelShuffle", "channel_shuffle"),
    ("Rescaling", "rescaling"),
    ("Normalization", "normalization"),
    ("MultiHeadAttention", "multihead_attention"),
    ("MultiheadAttention", "multihead_attention"),
    ("PatchEmbedding", "patch_embedding"),
    ("ClassToken", "class_token"),
    ("PositionEmbedding", "position_embedding"),
    ("Embedding", "embedding"),
]


@pytest.mark.parametrize(("spelling", "name"), SPELLINGS)
def test_type_spellings(spelling: str, name: str) -> None:
    kind = find_kind(spelling)
    assert kind is not None and kind.name == name


@pytest.mark.parametrize(
    ("kind_name", "spelling", "name"),
    [
        ("multihead_attention", "use_bias", "bias"),
        ("multihead_attention", "heads", "num_heads"),
        ("embedding", "num_embeddings", "input_dim"),
        ("embedding", "embedding_dim", "output_dim"),
        ("drop_path", "p", "rate"),
        ("drop_path", "drop_path_rate", "rate"),
        ("layernorm2d", "normalized_shape", "num_channels"),
        ("layer_scale", "dim", "projection_dim"),
        ("patch_embedding", "hidden_dim", "embed_dim"),
        ("position_embedding", "seq_length", "sequence_length"),
    ],
)
def test_param_spellings(kind_name: str, spelling: str, name: str) -> None:
    kind = find_kind(kind_name)
    assert kind is not None
    param = find_param(kind, spelling)
    assert param is not None and param.name == name


@pytest.mark.parametrize("module", ["convcalc._kinds_channels", "convcalc._kinds_tokens"])
def test_every_formula_compiles(module: str) -> None:
    formulas = [f for f in vars(importlib.import_module(module)).values() if isinstance(f, Formula)]
    assert formulas
    for formula in formulas:
        formula.check()


def test_value_types() -> None:
    assert AxisList().parse("(0, -1, 1, 2)", 1) == (0, -1, 1, 2)
    assert KerasAxes().parse("None", 1) == ()
    assert KerasAxes().parse([1, 2], 1) == (1, 2)
    assert Numbers().parse("1/255", 1) == 1 / 255
    assert Numbers().parse("(0.5, 0.25)", 1) == (0.5, 0.25)
    assert Numbers().parse(2, 1) == 2.0
    for bad in ("1/0", "nan", [], "x", True, [[1, 2]]):
        with pytest.raises(Invalid):
            Numbers().parse(bad, 1)


def test_every_new_kind_is_in_the_catalogue_and_the_listing() -> None:
    names = {kind.name for kind in CATALOGUE}
    assert set(NEW_KINDS) <= names
    result = CliRunner().invoke(app, ["layers"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    listed = {line.split()[0] for line in result.output.splitlines() if line[:1].strip()}
    assert set(NEW_KINDS) <= listed


def test_layers_command_shows_both_orders_of_attention() -> None:
    result = CliRunner().invoke(app, ["layers", "MultiheadAttention"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "shorthand: multihead_attention:NUM_HEADS[,KEY_DIM]" in result.output
    assert "pytorch order: MultiheadAttention: embed_dim, num_heads, dropout, bias" in result.output


def test_chain_on_the_command_line() -> None:
    # A small ViT in PyTorch's order: 3x32x32 -> 16 patches of 8x8 -> 17 tokens of 64.
    args = [
        "chain", "3", "32", "32",
        "patch_embedding:64,8", "class_token", "position_embedding",
        "MultiheadAttention:64,4", "take_token", "Linear:64,10",
        "--framework", "pytorch", "--format", "json",
    ]  # fmt: skip
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert [row["output_shape"] for row in report["layers"]] == [
        [16, 64],
        [17, 64],
        [17, 64],
        [17, 64],
        [64],
        [10],
    ]
    attention = 4 * 64 * 64 + 4 * 64
    expected = [(8 * 8 * 3 + 1) * 64, 64, 17 * 64, attention, 0, 64 * 10 + 10]
    assert [row["params"] for row in report["layers"]] == expected


def test_chain_error_on_the_command_line() -> None:
    result = CliRunner().invoke(
        app, ["chain", "3", "8", "8", "ChannelShuffle:2", "--framework", "pytorch"]
    )
    assert result.exit_code == 2
    assert "groups 2 does not divide the input's 3 channels" in result.output
