"""The layer kinds of CONTRACT section 8, one table per kind.

Every expected number is worked out by hand from the framework's formula (written beside each
table) and was confirmed by building the same layer in Keras 3.15 (jax backend) and PyTorch
2.13; ``tests/crosscheck/crosscheck.py`` repeats that on random models. These tests never
import a framework.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convcalc import ConvCalcError, analyze
from convcalc._catalogue import find_kind, find_param
from convcalc._values import Invalid, Margins, PerAxis

KERAS = "keras"
TORCH = "pytorch"


def run(framework: str, inp: list[int], *layers: object, **settings: object) -> dict[str, Any]:
    spec = {"input": inp, "framework": framework, "layers": list(layers), **settings}
    return analyze(spec).to_dict()


def case(id_: str, *values: object) -> Any:
    return pytest.param(*values, id=id_)


def check(
    framework: str,
    inp: list[int],
    layer: object,
    shape: list[int],
    params: int,
    macs: int,
    layout: str | None = None,
) -> None:
    settings = {"layout": layout} if layout else {}
    row = run(framework, inp, layer, **settings)["layers"][0]
    assert (row["output_shape"], row["params"], row["macs"]) == (shape, params, macs)
    assert row["non_trainable_params"] == 0


def refused(framework: str, inp: list[int], layer: object, *fragments: str) -> None:
    with pytest.raises(ConvCalcError) as caught:
        run(framework, inp, layer)
    message = str(caught.value)
    assert message.startswith("layer 1 ")
    for fragment in fragments:
        assert fragment in message


TABLE = ("framework", "inp", "layer", "shape", "params", "macs")
REFUSAL = ("framework", "inp", "layer", "fragments")

# -- depthwise: C*dm outputs; params kvol*C*dm + C*dm; MACs outputs * kvol ----------------------

DEPTHWISE = [
    case(
        "keras-dm2",
        KERAS,
        [5, 5, 4],
        {"depthwise_conv2d": {"kernel": 3, "depth_multiplier": 2}},
        [3, 3, 8],
        3 * 3 * 4 * 2 + 8,
        3 * 3 * 8 * 9,
    ),
    case(
        "keras-same-even-kernel-s2",
        KERAS,
        [7, 7, 3],
        {"depthwise_conv2d": {"kernel": 4, "stride": 2, "padding": "same"}},
        [4, 4, 3],
        16 * 3 + 3,
        4 * 4 * 3 * 16,
    ),
    case(
        "keras-stride-and-dilation",  # allowed for depthwise, unlike keras' plain conv
        KERAS,
        [11, 11, 4],
        {"DepthwiseConv2D": {"kernel_size": 3, "strides": 2, "dilation_rate": 2}},
        [4, 4, 4],
        9 * 4 + 4,
        4 * 4 * 4 * 9,
    ),
    case(
        "torch-same-even-kernel",
        TORCH,
        [3, 7, 7],
        {"depthwise_conv2d": {"kernel": 4, "padding": "same"}},
        [3, 7, 7],
        16 * 3 + 3,
        7 * 7 * 3 * 16,
    ),
    case(
        "keras-1d-dm3-no-bias",
        KERAS,
        [10, 2],
        {"depthwise_conv1d": {"kernel": 3, "depth_multiplier": 3, "bias": False}},
        [8, 6],
        3 * 2 * 3,
        8 * 6 * 3,
    ),
    case(
        "torch-1d-int-padding-s2",  # floor((10 + 2 - 3) / 2) + 1 = 5
        TORCH,
        [2, 10],
        {"depthwise_conv1d": {"kernel": 3, "stride": 2, "padding": 1}},
        [2, 5],
        3 * 2 + 2,
        5 * 2 * 3,
    ),
]


@pytest.mark.parametrize(TABLE, DEPTHWISE)
def test_depthwise(
    framework: str, inp: list[int], layer: object, shape: list[int], params: int, macs: int
) -> None:
    check(framework, inp, layer, shape, params, macs)


def test_depthwise_positional_kernel_stride() -> None:
    row = run(KERAS, [9, 9, 2], {"depthwise_conv2d": [3, 2]})["layers"][0]
    assert row["output_shape"] == [4, 4, 2]


# -- separable: depthwise then 1x1, one bias: kvol*C*dm + C*dm*filters + filters ----------------

SEPARABLE = [
    case(
        "keras-dm2",
        KERAS,
        [5, 5, 4],
        {"separable_conv2d": {"filters": 7, "kernel": 3, "depth_multiplier": 2}},
        [3, 3, 7],
        3 * 3 * 4 * 2 + 8 * 7 + 7,
        9 * 8 * 9 + 9 * 8 * 7,
    ),
    case(
        "keras-same-s2",
        KERAS,
        [5, 5, 4],
        {"SeparableConv2D": {"filters": 7, "kernel_size": 3, "strides": 2, "padding": "same"}},
        [3, 3, 7],
        3 * 3 * 4 + 4 * 7 + 7,
        9 * 4 * 9 + 9 * 4 * 7,
    ),
    case(
        "torch-1d-no-bias",
        TORCH,
        [3, 8],
        {"separable_conv1d": {"filters": 4, "kernel": 3, "bias": False}},
        [4, 6],
        3 * 3 + 3 * 4,
        6 * 3 * 3 + 6 * 3 * 4,
    ),
]


@pytest.mark.parametrize(TABLE, SEPARABLE)
def test_separable(
    framework: str, inp: list[int], layer: object, shape: list[int], params: int, macs: int
) -> None:
    check(framework, inp, layer, shape, params, macs)


def test_separable_channels_first_in_keras() -> None:
    layer = {"separable_conv2d": {"filters": 7, "kernel": 3, "stride": 2, "padding": "same"}}
    check(KERAS, [4, 5, 5], layer, [7, 3, 3], 36 + 28 + 7, 9 * 4 * 9 + 9 * 4 * 7, "chw")


# -- transposed: PyTorch (in-1)*s - pad_total + d*(k-1) + op + 1; Keras valid/same rules -------
# params kvol * in/groups * filters + filters; MACs input elements * filters/groups * kvol

TRANSPOSE = [
    case(
        "torch-k3-s2-p1-op1",  # (5-1)*2 - 2 + 2 + 1 + 1 = 10
        TORCH,
        [4, 5, 5],
        {
            "ConvTranspose2d": {
                "out_channels": 6,
                "kernel_size": 3,
                "stride": 2,
                "padding": 1,
                "output_padding": 1,
            }
        },
        [6, 10, 10],
        9 * 4 * 6 + 6,
        100 * 6 * 9,
    ),
    case(
        "torch-groups2",  # weight (4, 6/2, 3, 3): 4*3*9 + 6
        TORCH,
        [4, 5, 5],
        {"conv2d_transpose": {"filters": 6, "kernel": 3, "groups": 2}},
        [6, 7, 7],
        9 * 2 * 6 + 6,
        100 * 3 * 9,
    ),
    case(
        "torch-op-below-dilation",  # op 1 >= stride 1 but < dilation 2: 4 + 4 + 1 + 1 = 10
        TORCH,
        [4, 5, 5],
        {"conv2d_transpose": {"filters": 6, "kernel": 3, "dilation": 2, "output_padding": 1}},
        [6, 10, 10],
        9 * 4 * 6 + 6,
        100 * 6 * 9,
    ),
    case(
        "torch-padding-beyond-kernel",  # 4 - 6 + 2 + 1 = 1
        TORCH,
        [4, 5, 5],
        {"conv2d_transpose": {"filters": 6, "kernel": 3, "padding": 3}},
        [6, 1, 1],
        9 * 4 * 6 + 6,
        100 * 6 * 9,
    ),
    case(
        "torch-per-axis",  # H: 4 + 2 + 1 = 7; W: 8 + 2 + 1 + 1 = 12
        TORCH,
        [4, 5, 5],
        {
            "conv2d_transpose": {
                "filters": 6,
                "kernel": 3,
                "stride": "1x2",
                "output_padding": [0, 1],
            }
        },
        [6, 7, 12],
        9 * 4 * 6 + 6,
        100 * 6 * 9,
    ),
    case(
        "torch-3d-k2-s2",
        TORCH,
        [2, 3, 3, 3],
        {"conv3d_transpose": {"filters": 1, "kernel": 2, "stride": 2}},
        [1, 6, 6, 6],
        8 * 2 + 1,
        54 * 1 * 8,
    ),
    case(
        "keras-valid-kernel-below-stride",  # (5-1)*3 + 2 + (max(2, 3) - 2) = 15
        KERAS,
        [5, 5, 4],
        {"Conv2DTranspose": {"filters": 4, "kernel_size": 2, "strides": 3}},
        [15, 15, 4],
        4 * 4 * 4 + 4,
        100 * 4 * 4,
    ),
    case(
        "keras-valid-k3-s2",  # (5-1)*2 + 3 + 0 = 11
        KERAS,
        [5, 5, 4],
        {"conv2d_transpose": [4, 3, 2]},
        [11, 11, 4],
        9 * 4 * 4 + 4,
        100 * 4 * 9,
    ),
    case(
        "keras-valid-op1",  # (5-1)*2 + 3 + 1 = 12
        KERAS,
        [5, 5, 4],
        {"conv2d_transpose": {"filters": 4, "kernel": 3, "stride": 2, "output_padding": 1}},
        [12, 12, 4],
        9 * 4 * 4 + 4,
        100 * 4 * 9,
    ),
    case(
        "keras-same-even-kernel",  # 5 * 3 = 15
        KERAS,
        [5, 5, 4],
        {"conv2d_transpose": {"filters": 4, "kernel": 4, "stride": 3, "padding": "same"}},
        [15, 15, 4],
        16 * 4 * 4 + 4,
        100 * 4 * 16,
    ),
    case(
        "keras-same-even-kernel-op1",  # (5-1)*3 + 4 % 2 + 1 = 13
        KERAS,
        [5, 5, 4],
        {
            "conv2d_transpose": {
                "filters": 4,
                "kernel": 4,
                "stride": 3,
                "padding": "same",
                "output_padding": 1,
            }
        },
        [13, 13, 4],
        16 * 4 * 4 + 4,
        100 * 4 * 16,
    ),
    case(
        "keras-same-odd-kernel-op0",  # (5-1)*2 + 3 % 2 + 0 = 9, not 5*2
        KERAS,
        [5, 5, 4],
        {
            "conv2d_transpose": {
                "filters": 4,
                "kernel": 3,
                "stride": 2,
                "padding": "same",
                "output_padding": 0,
            }
        },
        [9, 9, 4],
        9 * 4 * 4 + 4,
        100 * 4 * 9,
    ),
    case(
        "keras-1d-same-no-bias",  # 6 * 2 = 12
        KERAS,
        [6, 3],
        {
            "conv1d_transpose": {
                "filters": 2,
                "kernel": 5,
                "stride": 2,
                "padding": "same",
                "bias": False,
            }
        },
        [12, 2],
        5 * 3 * 2,
        18 * 2 * 5,
    ),
]


@pytest.mark.parametrize(TABLE, TRANSPOSE)
def test_transpose(
    framework: str, inp: list[int], layer: object, shape: list[int], params: int, macs: int
) -> None:
    check(framework, inp, layer, shape, params, macs)


def test_transpose_channels_first_in_keras() -> None:
    layer = {"conv2d_transpose": {"filters": 4, "kernel": 3, "stride": 2, "padding": "same"}}
    check(KERAS, [4, 5, 5], layer, [4, 10, 10], 9 * 4 * 4 + 4, 100 * 4 * 9, "chw")


TRANSPOSE_REFUSED = [
    case(
        "keras-groups",
        KERAS,
        [5, 5, 4],
        {"conv2d_transpose": {"filters": 4, "kernel": 3, "groups": 2}},
        ("groups 2", "keras Conv2DTranspose has no groups"),
    ),
    case(
        "keras-int-padding",
        KERAS,
        [5, 5, 4],
        {"conv2d_transpose": {"filters": 4, "kernel": 3, "padding": 1}},
        ("valid or same", "cropping2d"),
    ),
    case(
        "keras-op-not-below-stride",
        KERAS,
        [5, 5, 4],
        {"conv2d_transpose": {"filters": 4, "kernel": 3, "stride": 2, "output_padding": 2}},
        ("output_padding 2 on H", "stride 2", "use 1 or less"),
    ),
    case(
        "keras-op-with-dilation",
        KERAS,
        [5, 5, 4],
        {"conv2d_transpose": {"filters": 4, "kernel": 3, "dilation": 2, "output_padding": 1}},
        ("output_padding 1 on H", "stride 1"),
    ),
    case(
        "keras-stride-and-dilation",
        KERAS,
        [5, 5, 4],
        {"conv2d_transpose": {"filters": 4, "kernel": 3, "stride": 2, "dilation": 2}},
        ("stride 2x2 together with dilation 2x2",),
    ),
    case(
        "keras-same-op0-collapses",
        KERAS,
        [1, 1, 4],
        {
            "conv2d_transpose": {
                "filters": 4,
                "kernel": 2,
                "stride": 2,
                "padding": "same",
                "output_padding": 0,
            }
        },
        ("output on H would be 0",),
    ),
    case(
        "torch-op-not-below-stride-or-dilation",
        TORCH,
        [4, 5, 5],
        {"conv2d_transpose": {"filters": 4, "kernel": 3, "stride": 2, "output_padding": 2}},
        ("output_padding 2 on H", "stride 2 or the dilation 1"),
    ),
    case(
        "torch-op-per-axis",
        TORCH,
        [4, 5, 5],
        {"conv2d_transpose": {"filters": 4, "kernel": 3, "stride": "2x1", "output_padding": 1}},
        ("output_padding 1 on W",),
    ),
    case(
        "torch-same",
        TORCH,
        [4, 5, 5],
        {"conv2d_transpose": {"filters": 4, "kernel": 3, "stride": 2, "padding": "same"}},
        ("not same", "padding 1 and output_padding 1"),
    ),
    case(
        "torch-collapses",
        TORCH,
        [4, 1, 1],
        {"conv2d_transpose": {"filters": 4, "kernel": 2, "padding": 1}},
        ("output on H would be 0",),
    ),
    case(
        "torch-groups",
        TORCH,
        [4, 5, 5],
        {"conv2d_transpose": {"filters": 6, "kernel": 3, "groups": 4}},
        ("groups 4 does not divide filters 6",),
    ),
]


@pytest.mark.parametrize(REFUSAL, TRANSPOSE_REFUSED)
def test_transpose_refused(
    framework: str, inp: list[int], layer: object, fragments: tuple[str, ...]
) -> None:
    refused(framework, inp, layer, *fragments)


# -- causal: keras conv1d only; dilation*(kernel-1) zeros before, none after ----------------------

CAUSAL = [
    case("k3", {"filters": 3, "kernel": 3, "padding": "causal"}, [10, 3], [3], [-0.5]),
    case(
        "k3-s2", {"filters": 3, "kernel": 3, "stride": 2, "padding": "causal"}, [5, 3], [3], [-0.5]
    ),
    case(
        "k3-d2",
        {"filters": 3, "kernel": 3, "dilation": 2, "padding": "causal"},
        [10, 3],
        [5],
        [-1.5],
    ),
]


@pytest.mark.parametrize(("layer", "shape", "size", "start"), CAUSAL)
def test_causal(layer: object, shape: list[int], size: list[int], start: list[float]) -> None:
    row = run(KERAS, [10, 2], {"conv1d": layer})["layers"][0]
    assert row["output_shape"] == shape
    assert row["receptive_field"]["size"] == size
    assert row["receptive_field"]["start"] == start


@pytest.mark.parametrize(
    ("framework", "layer", "fragment"),
    [
        (TORCH, {"conv1d": {"filters": 3, "kernel": 3, "padding": "causal"}}, "keras only"),
        (KERAS, {"conv2d": {"filters": 3, "kernel": 3, "padding": "causal"}}, "padding 'causal'"),
        (KERAS, {"depthwise_conv1d": {"kernel": 3, "padding": "causal"}}, "padding 'causal'"),
        (KERAS, {"separable_conv1d": {"filters": 3, "kernel": 3, "padding": "causal"}}, "causal"),
    ],
)
def test_causal_refused(framework: str, layer: dict[str, Any], fragment: str) -> None:
    inp = [10, 2] if "1d" in next(iter(layer)) else [10, 10, 2]
    refused(framework, inp, layer, fragment)


# -- global pools: spatial axes dropped, or kept as 1 --------------------------------------------

GLOBAL = [
    case("keras-avg", KERAS, None, [5, 5, 4], "global_avgpool2d", [4]),
    case(
        "keras-max-keepdims",
        KERAS,
        None,
        [5, 5, 4],
        {"GlobalMaxPooling2D": {"keepdims": True}},
        [1, 1, 4],
    ),
    case(
        "keras-chw-keepdims",
        KERAS,
        "chw",
        [4, 5, 5],
        {"global_avgpool2d": {"keepdims": True}},
        [4, 1, 1],
    ),
    case("torch-1d", TORCH, None, [3, 7], "global_maxpool1d", [3]),
    case(
        "torch-3d-keepdim",
        TORCH,
        None,
        [2, 3, 3, 3],
        {"global_avgpool3d": {"keepdim": True}},
        [2, 1, 1, 1],
    ),
]


@pytest.mark.parametrize(("framework", "layout", "inp", "layer", "shape"), GLOBAL)
def test_global_pool(
    framework: str, layout: str | None, inp: list[int], layer: object, shape: list[int]
) -> None:
    check(framework, inp, layer, shape, 0, 0, layout)


# -- adaptive pools: exactly output_size, larger than the input or not ---------------------------

ADAPTIVE = [
    case("torch-up", TORCH, None, [4, 5, 5], {"AdaptiveAvgPool2d": 7}, [4, 7, 7]),
    case("torch-per-axis", TORCH, None, [4, 5, 5], {"adaptive_maxpool2d": "7x2"}, [4, 7, 2]),
    case("keras-one", KERAS, None, [5, 5, 4], {"AdaptiveAveragePooling2D": 1}, [1, 1, 4]),
    case("keras-chw-1d", KERAS, "chw", [4, 9], {"adaptive_maxpool1d": 3}, [4, 3]),
    case(
        "torch-3d",
        TORCH,
        None,
        [2, 4, 4, 4],
        {"adaptive_avgpool3d": {"output_size": [1, 2, 3]}},
        [2, 1, 2, 3],
    ),
]


@pytest.mark.parametrize(("framework", "layout", "inp", "layer", "shape"), ADAPTIVE)
def test_adaptive_pool(
    framework: str, layout: str | None, inp: list[int], layer: object, shape: list[int]
) -> None:
    check(framework, inp, layer, shape, 0, 0, layout)


def test_adaptive_pool_needs_output_size() -> None:
    with pytest.raises(ConvCalcError, match="output_size is required"):
        run(TORCH, [4, 5, 5], "adaptive_avgpool2d")
    with pytest.raises(ConvCalcError, match="output_size 0 is not valid"):
        run(TORCH, [4, 5, 5], {"adaptive_avgpool2d": 0})


# -- zero-padding and cropping: in + before + after; in - before - after ---------------------

MARGINS = [
    case(
        "keras-pad-pairs",
        KERAS,
        None,
        [5, 5, 4],
        {"ZeroPadding2D": {"padding": [[1, 2], [3, 4]]}},
        [8, 12, 4],
    ),
    case("keras-pad-default", KERAS, None, [5, 5, 4], "zeropadding2d", [7, 7, 4]),
    case("torch-pad-per-axis", TORCH, None, [4, 5, 5], {"ZeroPad2d": "1x2"}, [4, 7, 9]),
    case("keras-pad-1d-pair", KERAS, None, [5, 3], {"zeropadding1d": {"padding": [1, 2]}}, [8, 3]),
    case("torch-pad-3d", TORCH, None, [1, 2, 2, 2], {"zeropadding3d": 1}, [1, 4, 4, 4]),
    case(
        "keras-crop-pairs",
        KERAS,
        None,
        [5, 5, 4],
        {"Cropping2D": {"cropping": [[2, 0], [1, 1]]}},
        [3, 3, 4],
    ),
    case(
        "keras-crop-chw",
        KERAS,
        "chw",
        [4, 5, 5],
        {"cropping2d": {"cropping": [[1, 1], [0, 0]]}},
        [4, 3, 5],
    ),
    case("torch-crop-1d-pair", TORCH, None, [3, 5], {"cropping1d": {"cropping": "1x2"}}, [3, 2]),
    case(
        "keras-crop-3d",
        KERAS,
        None,
        [4, 5, 6, 1],
        {"cropping3d": {"crop": [1, 2, 0]}},
        [2, 1, 6, 1],
    ),
]


@pytest.mark.parametrize(("framework", "layout", "inp", "layer", "shape"), MARGINS)
def test_padding_and_cropping(
    framework: str, layout: str | None, inp: list[int], layer: object, shape: list[int]
) -> None:
    check(framework, inp, layer, shape, 0, 0, layout)


@pytest.mark.parametrize(
    ("layer", "fragments"),
    [
        ({"cropping2d": {"cropping": [[2, 3], [0, 0]]}}, ("cropping 2 + 3 on H", "at most 4")),
        ({"cropping2d": {"cropping": 3}}, ("leaves nothing of its 5",)),
        ({"cropping2d": {"cropping": -1}}, ("cropping cannot be negative",)),
        ({"zeropadding2d": {"padding": [1, 2, 3]}}, ("has 3 values", "2 spatial axes")),
        ({"zeropadding2d": {"padding": [1, 2, 3, 4]}}, ("[[top, bottom], [left, right]]",)),
        ({"zeropadding2d": {"padding": [[1, 2, 3], 1]}}, ("[before, after] per axis",)),
    ],
)
def test_margins_refused(layer: object, fragments: tuple[str, ...]) -> None:
    refused(KERAS, [5, 5, 4], layer, *fragments)


def test_cropping_requires_a_value() -> None:
    with pytest.raises(ConvCalcError, match="cropping is required"):
        run(KERAS, [5, 5, 4], "cropping2d")


def test_margins_value_type() -> None:
    margins = Margins()
    assert margins.parse(2, 2) == ((2, 2), (2, 2))
    assert margins.parse("1x2", 2) == ((1, 1), (2, 2))
    assert margins.parse([1, [2, 3]], 2) == ((1, 1), (2, 3))
    assert margins.parse([1, 2], 1) == ((1, 2),)
    assert margins.parse("1x2", 1) == ((1, 2),)
    with pytest.raises(Invalid):
        margins.parse([1, 2, 3], 1)


# -- upsampling: in * size (Keras UpSampling, PyTorch Upsample(scale_factor)) ------------------

UPSAMPLING = [
    case("keras-per-axis", KERAS, None, [5, 5, 4], {"UpSampling2D": {"size": "2x3"}}, [10, 15, 4]),
    case("keras-default", KERAS, None, [5, 5, 4], "upsampling2d", [10, 10, 4]),
    case(
        "torch-scale-factor",
        TORCH,
        None,
        [4, 5, 5],
        {"upsampling2d": {"scale_factor": 2}},
        [4, 10, 10],
    ),
    case("keras-3d", KERAS, None, [2, 2, 2, 3], {"upsampling3d": [[2, 3, 1]]}, [4, 6, 2, 3]),
    case("keras-1d-chw", KERAS, "chw", [3, 4], {"upsampling1d": 3}, [3, 12]),
    case("torch-upsample-size", TORCH, None, [4, 5, 5], {"Upsample": {"size": "7x3"}}, [4, 7, 3]),
    case(
        "torch-upsample-factor",
        TORCH,
        None,
        [4, 5, 5],
        {"upsample": {"scale_factor": [2, 3]}},
        [4, 10, 15],
    ),
    case("torch-upsample-1d", TORCH, None, [4, 5], {"upsample": {"scale_factor": 2}}, [4, 10]),
    case("keras-upsample-hwc", KERAS, None, [5, 6, 2], {"upsample": {"size": 9}}, [9, 9, 2]),
]


@pytest.mark.parametrize(("framework", "layout", "inp", "layer", "shape"), UPSAMPLING)
def test_upsampling(
    framework: str, layout: str | None, inp: list[int], layer: object, shape: list[int]
) -> None:
    check(framework, inp, layer, shape, 0, 0, layout)


@pytest.mark.parametrize(
    ("inp", "layer", "fragment"),
    [
        ([4, 5, 5], "upsample", "exactly one of size"),
        ([4, 5, 5], {"upsample": {"size": 4, "scale_factor": 2}}, "exactly one of size"),
        ([4, 5, 5], {"upsample": {"size": [4, 4, 4]}}, "has 3 values but the input has 2"),
        ([4], {"upsample": {"scale_factor": 2}}, "flat vector"),
    ],
)
def test_upsample_refused(inp: list[int], layer: object, fragment: str) -> None:
    refused(TORCH, inp, layer, fragment)


def test_free_per_axis_keeps_what_was_written() -> None:
    assert PerAxis(free=True).parse("2x3", 1) == (2, 3)
    assert PerAxis(free=True).parse(2, 3) == (2,)
    assert PerAxis().parse(2, 3) == (2, 2, 2)


# -- reshape: the same element count; one -1 inferred -------------------------------------------

RESHAPE = [
    case("infer-first", [5, 5, 4], {"reshape": {"shape": [-1, 10]}}, [10, 10]),
    case("infer-middle", [5, 5, 4], {"Reshape": {"target_shape": "2x-1x5"}}, [2, 10, 5]),
    case("exact", [784], {"reshape": {"shape": [28, 28, 1]}}, [28, 28, 1]),
    case("to-flat", [7, 7, 2], {"reshape": {"shape": -1}}, [98]),
]


@pytest.mark.parametrize(("inp", "layer", "shape"), RESHAPE)
@pytest.mark.parametrize("framework", [KERAS, TORCH])
def test_reshape(framework: str, inp: list[int], layer: object, shape: list[int]) -> None:
    check(framework, inp, layer, shape, 0, 0)


@pytest.mark.parametrize(
    ("layer", "fragments"),
    [
        ({"reshape": {"shape": [-1, 3]}}, ("100 is not a multiple of 3",)),
        ({"reshape": {"shape": [7, 3]}}, ("has 21 elements", "input 5x5x4 has 100")),
        ({"reshape": {"shape": [1, 1, 1, 1, 100]}}, ("5 axes",)),
        ({"reshape": {"shape": [-1, -1]}}, ("one -1 may be inferred",)),
        ({"reshape": {"shape": [0, 100]}}, ("positive integers",)),
    ],
)
def test_reshape_refused(layer: object, fragments: tuple[str, ...]) -> None:
    refused(KERAS, [5, 5, 4], layer, *fragments)


def test_reshape_then_conv_sees_the_new_rank() -> None:
    report = run(KERAS, [784], {"reshape": {"shape": [28, 28, 1]}}, {"conv2d": [32, 3]})
    assert report["output_shape"] == [26, 26, 32]


# -- layer and group normalisation: 2 parameters per normalised element / per channel ----------

NORMS = [
    case("ln-keras-last-axis", KERAS, None, [5, 5, 4], "layernorm", [5, 5, 4], 8),
    case(
        "ln-keras-two-axes",
        KERAS,
        None,
        [5, 5, 4],
        {"LayerNormalization": {"axes": 2}},
        [5, 5, 4],
        40,
    ),
    case(
        "ln-torch-normalized-shape",
        TORCH,
        None,
        [4, 5, 5],
        {"LayerNorm": {"normalized_shape": "5x5"}},
        [4, 5, 5],
        50,
    ),
    case("ln-torch-chw-last-axis", TORCH, None, [4, 5, 6], "layernorm", [4, 5, 6], 12),
    case(
        "ln-no-affine",
        TORCH,
        None,
        [4, 5, 5],
        {"layernorm": {"elementwise_affine": False}},
        [4, 5, 5],
        0,
    ),
    case("ln-no-bias", TORCH, None, [8], {"layernorm": {"bias": False}}, [8], 8),
    case("gn-keras", KERAS, None, [5, 5, 4], {"GroupNormalization": 2}, [5, 5, 4], 8),
    case("gn-torch", TORCH, None, [4, 5, 5], {"GroupNorm": {"num_groups": 4}}, [4, 5, 5], 8),
    case("gn-keras-chw", KERAS, "chw", [6, 3, 3], {"groupnorm": 3}, [6, 3, 3], 12),
    case(
        "gn-no-affine",
        KERAS,
        None,
        [5, 5, 4],
        {"groupnorm": {"groups": 1, "affine": False}},
        [5, 5, 4],
        0,
    ),
    case("gn-torch-flat-batch-of-values", TORCH, None, [8], {"groupnorm": 4}, [8], 16),
]


@pytest.mark.parametrize(("framework", "layout", "inp", "layer", "shape", "params"), NORMS)
def test_norms(
    framework: str,
    layout: str | None,
    inp: list[int],
    layer: object,
    shape: list[int],
    params: int,
) -> None:
    check(framework, inp, layer, shape, params, 0, layout)


@pytest.mark.parametrize(
    ("framework", "inp", "layer", "fragments"),
    [
        (KERAS, [5, 5, 4], {"groupnorm": 3}, ("groups 3 does not divide", "such as 2")),
        (KERAS, [5, 5, 4], {"groupnorm": 8}, ("groups 8 does not divide", "such as 4")),
        (TORCH, [4, 5, 5], {"groupnorm": {"groups": 2, "num_channels": 6}}, ("num_channels 6",)),
        (TORCH, [4], {"groupnorm": 4}, ("one value per sample", "larger --batch")),
        (TORCH, [4, 1, 1], {"groupnorm": 4}, ("one value per sample",)),
        (TORCH, [4, 5, 5], {"layernorm": {"normalized_shape": "4x5"}}, ("does not match",)),
        (TORCH, [4, 5, 5], {"layernorm": {"axes": 4}}, ("axes 4 is more than the 3 axes",)),
        (TORCH, [4, 5, 5], {"layernorm": {"axes": 1, "normalized_shape": "5x5"}}, ("disagree",)),
    ],
)
def test_norms_refused(
    framework: str, inp: list[int], layer: object, fragments: tuple[str, ...]
) -> None:
    refused(framework, inp, layer, *fragments)


def test_groupnorm_of_one_value_is_fine_with_a_batch_or_in_keras() -> None:
    assert run(TORCH, [4], {"groupnorm": 4}, batch=2)["output_shape"] == [4]
    assert run(KERAS, [4], {"groupnorm": 4})["output_shape"] == [4]


# -- activations are layer types ------------------------------------------------------------


@pytest.mark.parametrize("name", ["relu", "ReLU", "softmax", "LeakyReLU", "gelu", "swish", "tanh"])
def test_activation_layer_types(name: str) -> None:
    row = run(TORCH, [4, 5, 5], name)["layers"][0]
    assert (row["output_shape"], row["params"], row["macs"]) == ([4, 5, 5], 0, 0)


# -- receptive field: reported through windows, null from the first resizing layer -------------

RECEPTIVE = [
    case(
        "zeropadding-window",
        [{"zeropadding2d": 2}],
        {"size": [1, 1], "jump": [1, 1], "start": [-1.5, -1.5]},
    ),
    case(
        "cropping-window",
        [{"cropping2d": {"cropping": [[2, 0], [1, 1]]}}],
        {"size": [1, 1], "jump": [1, 1], "start": [2.5, 1.5]},
    ),
    case(
        "pad-then-conv",
        [{"zeropadding2d": 1}, {"conv2d": [4, 3]}],
        {"size": [3, 3], "jump": [1, 1], "start": [0.5, 0.5]},
    ),
    case(
        "depthwise-then-norms",
        [{"depthwise_conv2d": {"kernel": 3, "stride": 2}}, "layernorm", {"groupnorm": 1}, "relu"],
        {"size": [3, 3], "jump": [2, 2], "start": [1.5, 1.5]},
    ),
    case(
        "separable",
        [{"separable_conv2d": [4, 5]}],
        {"size": [5, 5], "jump": [1, 1], "start": [2.5, 2.5]},
    ),
    case("transpose", [{"conv2d_transpose": [4, 3]}, {"conv2d": [4, 3]}], None),
    case("upsampling", [{"upsampling2d": 2}], None),
    case("adaptive", [{"adaptive_avgpool2d": 3}], None),
    case("global", [{"global_avgpool2d": {"keepdims": True}}], None),
    case("reshape", [{"reshape": {"shape": [12, 12, 3]}}, {"conv2d": [4, 3]}], None),
]


@pytest.mark.parametrize(("layers", "field"), RECEPTIVE)
def test_receptive_field(layers: list[object], field: dict[str, list[float]] | None) -> None:
    report = run(KERAS, [12, 12, 3], *layers)
    assert report["layers"][-1]["receptive_field"] == field


# -- explain: the formulas with the numbers put in ----------------------------------------------

EXPLAIN = [
    case(
        "keras-transpose-same-op",
        KERAS,
        [5, 5, 4],
        {
            "conv2d_transpose": {
                "filters": 4,
                "kernel": 4,
                "stride": 3,
                "padding": "same",
                "output_padding": 1,
            }
        },
        "H: (5-1)*3 + (1*(4-1) + 1) % 2 + 1 = 13",
    ),
    case(
        "keras-transpose-valid-default-op",
        KERAS,
        [5, 5, 4],
        {"conv2d_transpose": [4, 2, 3]},
        "output_padding = max(2, 3) - 2 = 1",
    ),
    case(
        "torch-transpose",
        TORCH,
        [4, 5, 5],
        {
            "conv2d_transpose": {
                "filters": 6,
                "kernel": 3,
                "stride": 2,
                "padding": 1,
                "output_padding": 1,
            }
        },
        "H: (5-1)*2 - 2 + 1*(3-1) + 1 + 1 = 10",
    ),
    case(
        "transpose-params",
        TORCH,
        [4, 5, 5],
        {"conv2d_transpose": {"filters": 6, "kernel": 3, "groups": 2}},
        "= 3*3*4/2*6 + 1*6 = 114",
    ),
    case(
        "separable-macs",
        KERAS,
        [5, 5, 4],
        {"separable_conv2d": {"filters": 7, "kernel": 3}},
        "= 3*3 * 4*1 * 7 = 252",
    ),
    case(
        "depthwise-channels",
        KERAS,
        [5, 5, 4],
        {"depthwise_conv2d": {"kernel": 3, "depth_multiplier": 2}},
        "C_out = C_in*depth_multiplier = 4*2 = 8",
    ),
    case(
        "cropping",
        KERAS,
        [5, 5, 4],
        {"cropping2d": {"cropping": [[2, 0], [1, 1]]}},
        "H: 5 - 2 - 0 = 3",
    ),
    case("reshape", KERAS, [5, 5, 4], {"reshape": {"shape": [-1, 10]}}, "= 100/10 = 10"),
    case("layernorm", KERAS, [5, 5, 4], {"layernorm": {"axes": 2}}, "= (1 + 1) * 5*4 = 40"),
]


@pytest.mark.parametrize(("framework", "inp", "layer", "line"), EXPLAIN)
def test_explain(framework: str, inp: list[int], layer: object, line: str) -> None:
    notes = run(framework, inp, layer, explain=True)["layers"][0]["explain"]
    assert any(line in note for note in notes), notes


# -- the catalogue: names, aliases, positional order --------------------------------------------

ALIASES = [
    ("Conv2DTranspose", "conv2d_transpose"),
    ("ConvTranspose2d", "conv2d_transpose"),
    ("ConvTranspose1d", "conv1d_transpose"),
    ("Conv3DTranspose", "conv3d_transpose"),
    ("GlobalAveragePooling2D", "global_avgpool2d"),
    ("GlobalMaxPooling1D", "global_maxpool1d"),
    ("AdaptiveAvgPool2d", "adaptive_avgpool2d"),
    ("AdaptiveAveragePooling2D", "adaptive_avgpool2d"),
    ("AdaptiveMaxPool3d", "adaptive_maxpool3d"),
    ("ZeroPad2d", "zeropadding2d"),
    ("ZeroPadding2D", "zeropadding2d"),
    ("Cropping2D", "cropping2d"),
    ("UpSampling2D", "upsampling2d"),
    ("Upsample", "upsample"),
    ("LayerNorm", "layernorm"),
    ("LayerNormalization", "layernorm"),
    ("GroupNorm", "groupnorm"),
    ("GroupNormalization", "groupnorm"),
    ("DepthwiseConv2D", "depthwise_conv2d"),
    ("DepthwiseConv1D", "depthwise_conv1d"),
    ("SeparableConv2D", "separable_conv2d"),
    ("SeparableConv1D", "separable_conv1d"),
    ("Reshape", "reshape"),
]


@pytest.mark.parametrize(("spelling", "name"), ALIASES)
def test_type_aliases(spelling: str, name: str) -> None:
    kind = find_kind(spelling)
    assert kind is not None and kind.name == name


PARAM_ALIASES = [
    ("adaptive_avgpool2d", "output_size", "output_size"),
    ("upsampling2d", "scale_factor", "size"),
    ("upsample", "scale_factor", "scale_factor"),
    ("groupnorm", "num_groups", "groups"),
    ("layernorm", "elementwise_affine", "affine"),
    ("depthwise_conv2d", "kernel_size", "kernel"),
    ("depthwise_conv2d", "strides", "stride"),
    ("depthwise_conv2d", "depthMultiplier", "depth_multiplier"),
    ("separable_conv2d", "depth_multiplier", "depth_multiplier"),
    ("conv2d_transpose", "out_channels", "filters"),
    ("conv2d_transpose", "dilation_rate", "dilation"),
    ("conv2d_transpose", "use_bias", "bias"),
    ("reshape", "target_shape", "shape"),
    ("global_avgpool2d", "keepdim", "keepdims"),
    ("cropping2d", "crop", "cropping"),
]


@pytest.mark.parametrize(("kind_name", "spelling", "name"), PARAM_ALIASES)
def test_param_aliases(kind_name: str, spelling: str, name: str) -> None:
    kind = find_kind(kind_name)
    assert kind is not None
    param = find_param(kind, spelling)
    assert param is not None and param.name == name


POSITIONAL = [
    # Keras' DepthwiseConv2D(kernel_size, strides, padding, depth_multiplier, data_format,
    # dilation_rate, activation, use_bias)
    (
        "depthwise_conv2d",
        (
            "kernel",
            "stride",
            "padding",
            "depth_multiplier",
            "data_format",
            "dilation",
            "activation",
            "bias",
        ),
    ),
    # SeparableConv1D(filters, kernel_size, strides, padding, data_format, dilation_rate,
    # depth_multiplier, activation, use_bias)
    (
        "separable_conv1d",
        (
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
    ),
    # Conv3DTranspose(filters, kernel_size, strides, padding, data_format, output_padding,
    # dilation_rate, activation, use_bias): its own order, unlike Conv1D/2DTranspose
    (
        "conv3d_transpose",
        (
            "filters",
            "kernel",
            "stride",
            "padding",
            "data_format",
            "output_padding",
            "dilation",
            "activation",
            "bias",
        ),
    ),
    ("global_maxpool2d", ()),
    ("adaptive_avgpool1d", ("output_size",)),
    ("zeropadding3d", ("padding",)),
    ("cropping2d", ("cropping",)),
    ("upsampling1d", ("size",)),
    ("reshape", ("shape",)),
    ("layernorm", ()),
    ("groupnorm", ("groups",)),
]


@pytest.mark.parametrize(("kind_name", "positional"), POSITIONAL)
def test_positional_order(kind_name: str, positional: tuple[str, ...]) -> None:
    kind = find_kind(kind_name)
    assert kind is not None and kind.positional == positional


def test_separable_has_no_groups() -> None:
    kind = find_kind("separable_conv2d")
    assert kind is not None and find_param(kind, "groups") is None
    with pytest.raises(ConvCalcError, match="unknown parameter 'groups'"):
        run(KERAS, [5, 5, 4], {"separable_conv2d": {"filters": 4, "kernel": 3, "groups": 2}})


def test_depthwise_and_separable_in_pytorch_follow_its_conv_rules() -> None:
    for layer in (
        {"depthwise_conv2d": {"kernel": 3, "stride": 2, "padding": "same"}},
        {"separable_conv2d": {"filters": 4, "kernel": 3, "stride": 2, "padding": "same"}},
    ):
        refused(TORCH, [4, 9, 9], layer, "padding same only with stride 1")
    refused(TORCH, [4, 9, 9], {"depthwise_conv2d": {"kernel": 3, "in_channels": 3}}, "in_channels")


# -- a list in the scalar form is the value of a kind's only positional ------------------------

SCALAR_LISTS = [
    case("zeropadding2d-pairs", [5, 5, 4], {"zeropadding2d": [[1, 2], [3, 4]]}, [8, 12, 4]),
    case("zeropadding1d-before-after", [5, 4], {"zeropadding1d": [1, 2]}, [8, 4]),
    case("cropping1d-before-after", [5, 4], {"cropping1d": [0, 3]}, [2, 4]),
    case("reshape", [5, 5, 4], {"reshape": [-1, 4]}, [25, 4]),
    case("adaptive", [5, 5, 4], {"adaptive_avgpool2d": [2, 3]}, [2, 3, 4]),
    case("upsampling2d", [5, 5, 4], {"upsampling2d": [1, 2]}, [5, 10, 4]),
]


@pytest.mark.parametrize(("inp", "layer", "shape"), SCALAR_LISTS)
def test_scalar_form_lists(inp: list[int], layer: object, shape: list[int]) -> None:
    assert run(KERAS, inp, layer)["output_shape"] == shape


# -- property: a conv with the same settings takes a transposed conv's output back to its input --


@settings(max_examples=80, deadline=None)
@given(
    size=st.integers(1, 40),
    kernel=st.integers(1, 6),
    stride=st.integers(1, 4),
    dilation=st.integers(1, 3),
    pad=st.integers(0, 3),
    extra=st.integers(0, 3),
)
def test_conv_undoes_transpose_in_pytorch(
    size: int, kernel: int, stride: int, dilation: int, pad: int, extra: int
) -> None:
    # (n-1)*s - 2p + d(k-1) + op + 1, through floor((m + 2p - d(k-1) - 1)/s) + 1, is n for op < s
    extra %= stride
    grown = (size - 1) * stride - 2 * pad + dilation * (kernel - 1) + extra + 1
    settings_ = {"stride": stride, "dilation": dilation, "padding": pad}
    layers = [
        {
            "conv1d_transpose": {
                "filters": 2,
                "kernel": kernel,
                "output_padding": extra,
                **settings_,
            }
        },
        {"conv1d": {"filters": 3, "kernel": kernel, **settings_}},
    ]
    if grown < 1:
        with pytest.raises(ConvCalcError):
            run(TORCH, [3, size], *layers)
        return
    rows = run(TORCH, [3, size], *layers)["layers"]
    assert rows[0]["output_shape"] == [2, grown]
    assert rows[1]["output_shape"] == [3, size]


@settings(max_examples=80, deadline=None)
@given(
    size=st.integers(1, 40),
    kernel=st.integers(1, 6),
    stride=st.integers(1, 4),
    padding=st.sampled_from(["valid", "same"]),
)
def test_conv_undoes_transpose_in_keras(size: int, kernel: int, stride: int, padding: str) -> None:
    # valid: (n-1)*s + k + (max(k, s) - k); same: n*s; the conv maps each back to n
    layers = [
        {
            "conv1d_transpose": {
                "filters": 2,
                "kernel": kernel,
                "stride": stride,
                "padding": padding,
            }
        },
        {"conv1d": {"filters": 3, "kernel": kernel, "stride": stride, "padding": padding}},
    ]
    rows = run(KERAS, [size, 3], *layers)["layers"]
    grown = size * stride if padding == "same" else (size - 1) * stride + max(kernel, stride)
    assert rows[0]["output_shape"] == [grown, 2]
    assert rows[1]["output_shape"] == [size, 3]
