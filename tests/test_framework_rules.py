"""The framework rules of CONTRACT section 4, one table per rule.

Every expected value is worked out by hand from the framework's documented formula and was
confirmed by building the same layer in Keras 3.15 (jax backend) and PyTorch 2.13; the check
scripts live outside the repository, and these tests never import a framework.
"""

from __future__ import annotations

from typing import Any

import pytest

from convcalc import ConvCalcError, analyze

KERAS = "keras"
TORCH = "pytorch"


def run(framework: str, inp: list[int], *layers: object, **settings: object) -> dict[str, Any]:
    spec = {"input": inp, "framework": framework, "layers": list(layers), **settings}
    return analyze(spec).to_dict()


def out(framework: str, inp: list[int], layer: object, **settings: object) -> list[int]:
    return run(framework, inp, layer, **settings)["output_shape"]


def conv(filters: int, kernel: object, rank: int = 2, **extra: object) -> dict[str, Any]:
    return {f"conv{rank}d": {"filters": filters, "kernel": kernel, **extra}}


def pool(size: object, kind: str = "max", rank: int = 2, **extra: object) -> dict[str, Any]:
    return {f"{kind}pool{rank}d": {"size": size, **extra}}


def case(id_: str, *values: object) -> Any:
    return pytest.param(*values, id=id_)


def refused(framework: str, inp: list[int], layer: object, *fragments: str) -> None:
    with pytest.raises(ConvCalcError) as caught:
        run(framework, inp, layer)
    for fragment in fragments:
        assert fragment in str(caught.value)


# -- valid, integer and per-axis padding: out = floor((in + pad_total - d*(k-1) - 1)/s) + 1 ----

PADDING = [
    case("keras-valid", KERAS, [28, 28, 1], conv(8, 3), [26, 26, 8]),
    case("keras-int1", KERAS, [28, 28, 1], conv(8, 3, padding=1), [28, 28, 8]),
    case("keras-int2-s2", KERAS, [28, 28, 1], conv(8, 3, stride=2, padding=2), [15, 15, 8]),
    case("keras-per-axis-1x2", KERAS, [10, 12, 3], conv(4, 3, padding="1x2"), [10, 14, 4]),
    case("keras-per-axis-list", KERAS, [10, 12, 3], conv(4, "3x5", padding=[0, 1]), [8, 10, 4]),
    case("keras-pool-int1", KERAS, [7, 7, 2], pool(2, padding=1), [4, 4, 2]),
    case("torch-valid", TORCH, [1, 28, 28], conv(8, 3), [8, 26, 26]),
    case("torch-int2-k5-s2", TORCH, [1, 28, 28], conv(8, 5, stride=2, padding=2), [8, 14, 14]),
    case("torch-per-axis-1x2", TORCH, [3, 10, 12], conv(4, 3, padding=[1, 2]), [4, 10, 14]),
    case(
        "torch-per-axis-all",
        TORCH,
        [3, 10, 12],
        conv(4, "3x5", stride="1x2", padding="0x2"),
        [4, 8, 6],
    ),
    case("torch-pool-int1", TORCH, [2, 7, 7], pool(2, padding=1), [2, 4, 4]),
    case(
        "torch-avgpool-k3-s2-p1", TORCH, [2, 8, 8], pool(3, "avg", stride=2, padding=1), [2, 4, 4]
    ),
]


@pytest.mark.parametrize(("framework", "inp", "layer", "expected"), PADDING)
def test_padding(framework: str, inp: list[int], layer: object, expected: list[int]) -> None:
    assert out(framework, inp, layer) == expected


# -- keras same: out = ceil(in / stride), the padding's smaller half first --------------------

KERAS_SAME = [
    case("k3-s1-in28", [28, 28, 1], conv(4, 3, padding="same"), [28, 28, 4]),
    case("k2-s1-in7-even-kernel", [7, 7, 1], conv(4, 2, padding="same"), [7, 7, 4]),
    case("k4-s1-in8-even-kernel", [8, 8, 1], conv(4, 4, padding="same"), [8, 8, 4]),
    case("k3-s2-in7-odd-input", [7, 7, 1], conv(4, 3, stride=2, padding="same"), [4, 4, 4]),
    case("k3-s2-in8-even-input", [8, 8, 1], conv(4, 3, stride=2, padding="same"), [4, 4, 4]),
    case("k4-s2-in9-even-kernel", [9, 9, 1], conv(4, 4, stride=2, padding="same"), [5, 5, 4]),
    case("k2-s3-in10", [10, 10, 1], conv(4, 2, stride=3, padding="same"), [4, 4, 4]),
    case("k5-s2-in7x8", [7, 8, 1], conv(4, 5, stride=2, padding="same"), [4, 4, 4]),
    case("k3-s2x3-in9x10", [9, 10, 1], conv(4, 3, stride="2x3", padding="same"), [5, 4, 4]),
    case("k5-kernel-over-input", [3, 3, 1], conv(4, 5, padding="same"), [3, 3, 4]),
    case("k3-d2-s1", [28, 28, 1], conv(4, 3, dilation=2, padding="same"), [28, 28, 4]),
    case("maxpool2-in7", [7, 7, 3], pool(2, padding="same"), [4, 4, 3]),
    case("maxpool3-s2-in8", [8, 8, 3], pool(3, stride=2, padding="same"), [4, 4, 3]),
    case("avgpool3-s1-in5", [5, 5, 3], pool(3, "avg", stride=1, padding="same"), [5, 5, 3]),
    case("maxpool2-in1", [1, 1, 3], pool(2, padding="same"), [1, 1, 3]),
]


@pytest.mark.parametrize(("inp", "layer", "expected"), KERAS_SAME)
def test_keras_same(inp: list[int], layer: object, expected: list[int]) -> None:
    assert out(KERAS, inp, layer) == expected


# The padding split shows in the receptive field's start: 0.5 + ((k-1)/2 - pad_before).
# Keras (XLA SAME) and PyTorch both put the smaller half first; confirmed numerically by
# convolving an arange input with a kernel of ones.
SAME_SPLIT = [
    case("keras-k3-s2-in8-total1", KERAS, 8, 3, 2, 1.5),
    case("keras-k3-s2-in7-total2", KERAS, 7, 3, 2, 0.5),
    case("keras-k4-s1-in8-total3", KERAS, 8, 4, 1, 1.0),
    case("keras-k2-s1-in8-total1", KERAS, 8, 2, 1, 1.0),
    case("keras-k4-s2-in9-total3", KERAS, 9, 4, 2, 1.0),
    case("keras-k4-s2-in8-total2", KERAS, 8, 4, 2, 1.0),
    case("torch-k4-s1-total3", TORCH, 8, 4, 1, 1.0),
    case("torch-k3-s1-total2", TORCH, 8, 3, 1, 0.5),
]


@pytest.mark.parametrize(("framework", "size", "kernel", "stride", "start"), SAME_SPLIT)
def test_same_puts_smaller_half_first(
    framework: str, size: int, kernel: int, stride: int, start: float
) -> None:
    inp = [size, 1] if framework == KERAS else [1, size]
    layer = conv(2, kernel, rank=1, stride=stride, padding="same")
    (row,) = run(framework, inp, layer)["layers"]
    assert row["receptive_field"]["start"] == [start]


# -- pytorch same: stride 1 only, out = in --------------------------------------------------

TORCH_SAME = [
    case("k3", [3, 9, 9], conv(4, 3, padding="same"), [4, 9, 9]),
    case("k4-even", [3, 9, 9], conv(4, 4, padding="same"), [4, 9, 9]),
    case("k3-d2", [3, 9, 9], conv(4, 3, dilation=2, padding="same"), [4, 9, 9]),
    case("k5x2", [3, 9, 10], conv(4, "5x2", padding="same"), [4, 9, 10]),
    case("conv1d-k5", [2, 10], conv(4, 5, rank=1, padding="same"), [4, 10]),
]


@pytest.mark.parametrize(("inp", "layer", "expected"), TORCH_SAME)
def test_pytorch_same_stride_1(inp: list[int], layer: object, expected: list[int]) -> None:
    assert out(TORCH, inp, layer) == expected


@pytest.mark.parametrize("stride", [pytest.param(2, id="s2"), pytest.param("1x2", id="s1x2")])
def test_pytorch_same_refuses_stride(stride: object) -> None:
    # PyTorch: "padding='same' is not supported for strided convolutions"
    refused(TORCH, [1, 16, 16], conv(4, 3, stride=stride, padding="same"), "same", "stride")


def test_keras_same_allows_stride() -> None:
    assert out(KERAS, [16, 16, 1], conv(4, 3, stride=2, padding="same")) == [8, 8, 4]


# -- stride > 1 with dilation > 1: keras refuses, pytorch computes --------------------------

STRIDE_DILATION = [
    case("s2-d2", [16, 16, 1], 2, 2, [6, 6]),
    case("s1x2-d2x1", [16, 16, 1], "1x2", "2x1", [12, 7]),
]


@pytest.mark.parametrize(("inp", "stride", "dilation", "spatial"), STRIDE_DILATION)
def test_stride_with_dilation(
    inp: list[int], stride: object, dilation: object, spatial: list[int]
) -> None:
    layer = conv(4, 3, stride=stride, dilation=dilation)
    refused(KERAS, inp, layer, "keras", "stride", "dilation")
    torch_inp = [inp[-1], *inp[:-1]]
    assert out(TORCH, torch_inp, layer) == [4, *spatial]


# -- dilation: the kernel spans d*(k-1)+1 ---------------------------------------------------

DILATION = [
    case("keras-k3-d2", KERAS, [28, 28, 1], conv(4, 3, dilation=2), [24, 24, 4]),
    case("keras-k3-d3", KERAS, [28, 28, 1], conv(4, 3, dilation=3), [22, 22, 4]),
    case("keras-k2-d4", KERAS, [10, 10, 1], conv(4, 2, dilation=4), [6, 6, 4]),
    case("keras-per-axis-d1x2", KERAS, [12, 12, 1], conv(4, 3, dilation="1x2"), [10, 8, 4]),
    case(
        "torch-conv1d-k3-d2-p2", TORCH, [1, 10], conv(4, 3, rank=1, dilation=2, padding=2), [4, 10]
    ),
    case("torch-conv1d-k3-d2-in7", TORCH, [1, 7], conv(4, 3, rank=1, dilation=2), [4, 3]),
    case(
        "torch-k3-d2-s2-p1",
        TORCH,
        [1, 15, 15],
        conv(4, 3, stride=2, dilation=2, padding=1),
        [4, 7, 7],
    ),
]


@pytest.mark.parametrize(("framework", "inp", "layer", "expected"), DILATION)
def test_dilation(framework: str, inp: list[int], layer: object, expected: list[int]) -> None:
    assert out(framework, inp, layer) == expected


# -- groups: weights (k * C/g + bias) * filters; MACs out * C/g * k -------------------------

GROUPS = [
    case("torch-g4", TORCH, [8, 10, 10], conv(16, 3, groups=4), [16, 8, 8], 304, 18_432),
    case("keras-g4", KERAS, [10, 10, 8], conv(16, 3, groups=4), [8, 8, 16], 304, 18_432),
    case("torch-depthwise-g8", TORCH, [8, 10, 10], conv(8, 3, groups=8), [8, 8, 8], 80, 4_608),
    case(
        "torch-g2-no-bias", TORCH, [6, 5, 5], conv(4, 3, groups=2, bias=False), [4, 3, 3], 108, 972
    ),
    case("torch-g1", TORCH, [8, 10, 10], conv(16, 3), [16, 8, 8], 1_168, 73_728),
]


@pytest.mark.parametrize(("framework", "inp", "layer", "shape", "params", "macs"), GROUPS)
def test_groups(
    framework: str, inp: list[int], layer: object, shape: list[int], params: int, macs: int
) -> None:
    (row,) = run(framework, inp, layer)["layers"]
    assert (row["output_shape"], row["params"], row["macs"]) == (shape, params, macs)


GROUPS_REFUSED = [
    case("g3-in8", [10, 10, 8], conv(6, 3, groups=3), "groups 3", "8 channels"),
    case("g4-filters6", [10, 10, 8], conv(6, 3, groups=4), "groups 4", "filters 6"),
    case("g16-in8", [10, 10, 8], conv(16, 3, groups=16), "groups 16", "8 channels"),
]


@pytest.mark.parametrize("framework", [KERAS, TORCH])
@pytest.mark.parametrize(("inp", "layer", "first", "second"), GROUPS_REFUSED)
def test_groups_must_divide(
    framework: str, inp: list[int], layer: object, first: str, second: str
) -> None:
    shape = inp if framework == KERAS else [inp[-1], *inp[:-1]]
    refused(framework, shape, layer, first, second)


# -- pools: stride defaults to size ------------------------------------------------------------

POOL_STRIDE = [
    case("keras-max3-in9", KERAS, [9, 9, 3], pool(3), [3, 3, 3]),
    case("torch-max3-in9", TORCH, [3, 9, 9], pool(3), [3, 3, 3]),
    case("keras-max2-in7", KERAS, [7, 7, 1], pool(2), [3, 3, 1]),
    case("keras-default-size", KERAS, [7, 7, 1], "maxpool2d", [3, 3, 1]),
    case("keras-max2x3-in8x9", KERAS, [8, 9, 1], pool("2x3"), [4, 3, 1]),
    case("torch-avg2-in7", TORCH, [3, 7, 7], pool(2, "avg"), [3, 3, 3]),
    case("keras-avg3-s1-in5", KERAS, [5, 5, 1], pool(3, "avg", stride=1), [3, 3, 1]),
    case("keras-max2-s1", KERAS, [5, 5, 1], {"maxpool2d": {"stride": 1}}, [4, 4, 1]),
    case("torch-max1d-3", TORCH, [4, 10], pool(3, rank=1), [4, 3]),
    case("keras-max3d-2", KERAS, [5, 8, 9, 2], pool(2, rank=3), [2, 4, 4, 2]),
]


@pytest.mark.parametrize(("framework", "inp", "layer", "expected"), POOL_STRIDE)
def test_pool_stride_defaults_to_size(
    framework: str, inp: list[int], layer: object, expected: list[int]
) -> None:
    assert out(framework, inp, layer) == expected


# -- pytorch ceil_mode: ceil instead of floor, minus a last window starting in right padding ---

CEIL_MODE = [
    case("in5-k2", [1, 5, 5], pool(2, ceil_mode=True), [1, 3, 3]),
    case("in5-k2-floor", [1, 5, 5], pool(2), [1, 2, 2]),
    case("in6-k2-exact", [1, 6, 6], pool(2, ceil_mode=True), [1, 3, 3]),
    case("in8-k3-s2-p1", [1, 8, 8], pool(3, stride=2, padding=1, ceil_mode=True), [1, 5, 5]),
    case("in8-k3-s2-p1-floor", [1, 8, 8], pool(3, stride=2, padding=1), [1, 4, 4]),
    # ceil((5 + 2 - 2) / 2) + 1 = 4, but the 4th window would start at 6 >= 5 + 1: dropped
    case(
        "in5-k2-s2-p1-dropped", [1, 5, 5], pool(2, stride=2, padding=1, ceil_mode=True), [1, 3, 3]
    ),
    case(
        "in3-k2-s2-p1-dropped", [1, 3, 3], pool(2, stride=2, padding=1, ceil_mode=True), [1, 2, 2]
    ),
    case("in9-k3-s3-p1-kept", [1, 9, 9], pool(3, stride=3, padding=1, ceil_mode=True), [1, 4, 4]),
    case("avg-in7-k2", [2, 7, 7], pool(2, "avg", ceil_mode=True), [2, 4, 4]),
    case("in8-k3-s2", [1, 8, 8], pool(3, stride=2, ceil_mode=True), [1, 4, 4]),
    case("max1d-in7-k2", [1, 7], pool(2, rank=1, ceil_mode=True), [1, 4]),
    # The rounding up lets a window hang over the end: PyTorch accepts a pool larger than
    # its input when ceil((in - k) / s) + 1 >= 1 (MaxPool2d(3, 2, ceil_mode=True) on 2x2 is
    # 1x1; MaxPool1d(2, 2, ceil_mode=True) on length 1 is 1).
    case("in2-k3-s2-window-over-end", [1, 2, 2], pool(3, stride=2, ceil_mode=True), [1, 1, 1]),
    case("in1-k2-window-over-end", [1, 1], pool(2, rank=1, ceil_mode=True), [1, 1]),
]


@pytest.mark.parametrize(("inp", "layer", "expected"), CEIL_MODE)
def test_pytorch_ceil_mode(inp: list[int], layer: object, expected: list[int]) -> None:
    assert out(TORCH, inp, layer) == expected


POOL_PADDING_LIMIT = [
    case("k2-p1-ok", [1, 8, 8], pool(2, padding=1), [1, 5, 5]),
    case("k4-p2-ok", [1, 8, 8], pool(4, padding=2), [1, 3, 3]),
    case("k3-p1-ok", [1, 8, 8], pool(3, padding=1), [1, 3, 3]),
]


@pytest.mark.parametrize(("inp", "layer", "expected"), POOL_PADDING_LIMIT)
def test_pytorch_pool_padding_up_to_half(
    inp: list[int], layer: object, expected: list[int]
) -> None:
    assert out(TORCH, inp, layer) == expected


@pytest.mark.parametrize(
    "layer",
    [
        pytest.param(pool(3, padding=2), id="k3-p2"),
        pytest.param(pool(2, padding=2), id="k2-p2"),
        pytest.param(pool("3x2", padding="1x2"), id="k3x2-p1x2"),
        pytest.param(pool(3, "avg", padding=2), id="avg-k3-p2"),
    ],
)
def test_pytorch_refuses_pool_padding_over_half(layer: object) -> None:
    # PyTorch: "pad should be at most half of effective kernel size"
    refused(TORCH, [1, 8, 8], layer, "half")


def test_keras_refuses_ceil_mode() -> None:
    refused(KERAS, [8, 8, 1], pool(2, ceil_mode=True), "ceil_mode", "pytorch")


def test_keras_accepts_ceil_mode_false() -> None:
    assert out(KERAS, [8, 8, 1], pool(2, ceil_mode=False)) == [4, 4, 1]


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pytorch_refuses_pool_same(kind: str) -> None:
    refused(TORCH, [1, 8, 8], pool(2, kind, padding="same"), "same", "keras")


# -- batchnorm: keras 4C (2C non-trainable); pytorch 2C plus 2C buffers in param_bytes ------

BATCHNORM = [
    # framework, input, dtype, params, trainable, non-trainable, param_bytes
    case("keras-c32", KERAS, [26, 26, 32], "float32", 128, 64, 64, 128 * 4),
    case("torch-c32", TORCH, [32, 26, 26], "float32", 64, 64, 0, (64 + 64) * 4),
    case("torch-c16-float16", TORCH, [16, 4, 4], "float16", 32, 32, 0, (32 + 32) * 2),
    case("keras-c16-float64", KERAS, [4, 4, 16], "float64", 64, 32, 32, 64 * 8),
    case("keras-flat-10", KERAS, [10], "float32", 40, 20, 20, 40 * 4),
    case("torch-flat-10", TORCH, [10], "float32", 20, 20, 0, 40 * 4),
    case("keras-chw-c16", KERAS, [16, 8, 8], "float32", 64, 32, 32, 64 * 4),
    case("torch-1d-c6", TORCH, [6, 20], "int8", 12, 12, 0, 24),
]


@pytest.mark.parametrize(
    ("framework", "inp", "dtype", "params", "trainable", "frozen", "param_bytes"), BATCHNORM
)
def test_batchnorm(
    framework: str,
    inp: list[int],
    dtype: str,
    params: int,
    trainable: int,
    frozen: int,
    param_bytes: int,
) -> None:
    layout = {"layout": "chw"} if framework == KERAS and inp == [16, 8, 8] else {}
    result = run(framework, inp, "batchnorm", dtype=dtype, **layout)
    (row,) = result["layers"]
    assert row["output_shape"] == inp
    assert (row["params"], row["trainable_params"], row["non_trainable_params"]) == (
        params,
        trainable,
        frozen,
    )
    assert row["macs"] == 0
    assert result["totals"]["param_bytes"] == param_bytes


def test_pytorch_batchnorm_buffers_add_to_other_params() -> None:
    """Linear(784, 10) + BatchNorm1d(10): 7850 + 20 parameters, 20 buffer elements."""
    result = run(TORCH, [784], {"dense": 10}, "batchnorm")
    assert result["totals"]["params"] == 7_870
    assert result["totals"]["non_trainable_params"] == 0
    assert result["totals"]["param_bytes"] == (7_870 + 20) * 4


# -- dense acts on the last axis, in both layouts -------------------------------------------

DENSE = [
    # framework, layout, input, units, output, params, macs
    case("keras-hwc-on-C", KERAS, "hwc", [4, 5, 6], 3, [4, 5, 3], 6 * 3 + 3, 4 * 5 * 3 * 6),
    case("torch-chw-on-W", TORCH, "chw", [6, 4, 5], 3, [6, 4, 3], 5 * 3 + 3, 6 * 4 * 3 * 5),
    case("keras-chw-on-W", KERAS, "chw", [6, 4, 5], 3, [6, 4, 3], 5 * 3 + 3, 6 * 4 * 3 * 5),
    case("torch-chw-1d-on-L", TORCH, "chw", [2, 7], 4, [2, 4], 7 * 4 + 4, 2 * 4 * 7),
    case("torch-flat", TORCH, "chw", [784], 10, [10], 7_850, 7_840),
]


@pytest.mark.parametrize(("framework", "layout", "inp", "units", "shape", "params", "macs"), DENSE)
def test_dense_on_last_axis(
    framework: str,
    layout: str,
    inp: list[int],
    units: int,
    shape: list[int],
    params: int,
    macs: int,
) -> None:
    result = run(framework, inp, {"dense": units}, layout=layout)
    (row,) = result["layers"]
    assert (row["output_shape"], row["params"], row["macs"]) == (shape, params, macs)


# -- channels-first layout for convs and pools ----------------------------------------------

CHW = [
    case(
        "torch-conv-s2-p1",
        TORCH,
        "chw",
        [3, 32, 32],
        conv(16, 3, stride=2, padding=1),
        [16, 16, 16],
        448,
    ),
    case(
        "keras-chw-conv-s2-p1",
        KERAS,
        "chw",
        [3, 32, 32],
        conv(16, 3, stride=2, padding=1),
        [16, 16, 16],
        448,
    ),
    case(
        "keras-chw-conv-same-s2",
        KERAS,
        "chw",
        [3, 31, 32],
        conv(16, 3, stride=2, padding="same"),
        [16, 16, 16],
        448,
    ),
    case("keras-chw-conv-valid", KERAS, "chw", [3, 10, 12], conv(8, "3x5"), [8, 8, 8], 368),
    case("torch-pool2", TORCH, "chw", [16, 16, 16], pool(2), [16, 8, 8], 0),
    case("keras-chw-pool-same", KERAS, "chw", [16, 15, 15], pool(2, padding="same"), [16, 8, 8], 0),
    case(
        "torch-hwc-conv",
        TORCH,
        "hwc",
        [32, 32, 3],
        conv(16, 3, stride=2, padding=1),
        [16, 16, 16],
        448,
    ),
    case("torch-chw-conv1d", TORCH, "chw", [4, 100], conv(8, 5, rank=1, stride=2), [8, 48], 168),
]


@pytest.mark.parametrize(("framework", "layout", "inp", "layer", "shape", "params"), CHW)
def test_layouts(
    framework: str, layout: str, inp: list[int], layer: object, shape: list[int], params: int
) -> None:
    result = run(framework, inp, layer, layout=layout)
    assert result["layout"] == layout
    (row,) = result["layers"]
    assert (row["output_shape"], row["params"]) == (shape, params)


@pytest.mark.parametrize(("framework", "layout"), [(KERAS, "hwc"), (TORCH, "chw")])
def test_default_layout(framework: str, layout: str) -> None:
    assert run(framework, [8], {"dense": 2})["layout"] == layout


# -- conv1d and conv3d, pools on 1 and 3 axes ------------------------------------------------

RANKS = [
    case("keras-conv1d", KERAS, [100, 4], conv(8, 5, rank=1, stride=2), [48, 8], 168, 7_680),
    case("torch-conv1d", TORCH, [4, 100], conv(8, 5, rank=1, stride=2), [8, 48], 168, 7_680),
    case(
        "keras-conv3d",
        KERAS,
        [8, 16, 16, 3],
        conv(4, 3, rank=3),
        [6, 14, 14, 4],
        328,
        6 * 14 * 14 * 4 * 3 * 27,
    ),
    case(
        "torch-conv3d-s2-p1",
        TORCH,
        [3, 8, 16, 16],
        conv(4, 3, rank=3, stride=2, padding=1),
        [4, 4, 8, 8],
        328,
        4 * 4 * 8 * 8 * 3 * 27,
    ),
    case(
        "torch-conv3d-1x3x3",
        TORCH,
        [3, 8, 16, 16],
        conv(4, "1x3x3", rank=3),
        [4, 8, 14, 14],
        112,
        4 * 8 * 14 * 14 * 3 * 9,
    ),
    case("keras-maxpool3d", KERAS, [8, 16, 16, 3], pool(2, rank=3), [4, 8, 8, 3], 0, 0),
    case("keras-maxpool1d", KERAS, [9, 4], pool(2, rank=1), [4, 4], 0, 0),
    case("torch-avgpool3d", TORCH, [3, 5, 8, 8], pool(2, "avg", rank=3), [3, 2, 4, 4], 0, 0),
]


@pytest.mark.parametrize(("framework", "inp", "layer", "shape", "params", "macs"), RANKS)
def test_one_and_three_axes(
    framework: str, inp: list[int], layer: object, shape: list[int], params: int, macs: int
) -> None:
    (row,) = run(framework, inp, layer)["layers"]
    assert (row["output_shape"], row["params"], row["macs"]) == (shape, params, macs)


# -- trainable: false moves every parameter to non-trainable ---------------------------------

FROZEN = [
    case("keras-conv", KERAS, [28, 28, 1], conv(32, 3), 320),
    case("keras-dense", KERAS, [784], {"dense": 10}, 7_850),
    case("keras-batchnorm", KERAS, [26, 26, 32], "batchnorm", 128),
    case("torch-batchnorm", TORCH, [32, 4, 4], "batchnorm", 64),
    case("torch-conv-no-bias", TORCH, [3, 8, 8], conv(4, 3, bias=False), 108),
]


@pytest.mark.parametrize(("framework", "inp", "layer", "params"), FROZEN)
def test_trainable_false(framework: str, inp: list[int], layer: object, params: int) -> None:
    if isinstance(layer, str):
        layer = {"type": layer}
    frozen = {**layer, "trainable": False}
    (row,) = run(framework, inp, frozen)["layers"]
    assert (row["params"], row["trainable_params"], row["non_trainable_params"]) == (
        params,
        0,
        params,
    )


def test_trainable_false_totals_and_buffers() -> None:
    """A frozen pytorch batchnorm keeps its buffers in param_bytes; totals add up per layer."""
    layers = [
        conv(8, 3),
        {"batchnorm": {}, "trainable": False},
        {"type": "flatten"},
        {"dense": 10},
    ]
    result = run(TORCH, [3, 6, 6], *layers)
    conv_params = (27 + 1) * 8
    dense_params = (8 * 4 * 4 + 1) * 10
    assert result["totals"]["trainable_params"] == conv_params + dense_params
    assert result["totals"]["non_trainable_params"] == 16
    assert result["totals"]["params"] == conv_params + dense_params + 16
    assert result["totals"]["param_bytes"] == (conv_params + dense_params + 16 + 16) * 4


# -- memory: bytes per element, batch ----------------------------------------------------------

# conv 32 k3 on 28x28x1 then maxpool 2: 320 params; 26*26*32 + 13*13*32 = 27,040 activations
MEMORY_LAYERS = (conv(32, 3), pool(2))

DTYPES = [
    case("float64", "float64", 8),
    case("float32", "float32", 4),
    case("float16", "float16", 2),
    case("bfloat16", "bfloat16", 2),
    case("int8", "int8", 1),
]


@pytest.mark.parametrize(("dtype", "size"), DTYPES)
def test_dtype_bytes(dtype: str, size: int) -> None:
    result = run(KERAS, [28, 28, 1], *MEMORY_LAYERS, dtype=dtype)
    assert result["dtype"] == dtype
    assert result["totals"]["param_bytes"] == 320 * size
    assert result["totals"]["activation_bytes"] == 27_040 * size


@pytest.mark.parametrize("batch", [1, 10, 32])
def test_batch_scales_activation_bytes_only(batch: int) -> None:
    result = run(KERAS, [28, 28, 1], *MEMORY_LAYERS, batch=batch)
    assert result["batch"] == batch
    assert result["output_shape"] == [13, 13, 32]
    assert result["totals"]["activation_bytes"] == 27_040 * batch * 4
    assert result["totals"]["param_bytes"] == 1_280


def test_no_batch_counts_as_one() -> None:
    result = run(KERAS, [28, 28, 1], *MEMORY_LAYERS)
    assert result["batch"] is None
    assert result["totals"]["activation_bytes"] == 27_040 * 4


# -- MACs: conv = out * C/g * k; dense = out * in units; others 0; bias excluded --------------

MACS = [
    case("conv-28-k3-32", KERAS, [28, 28, 1], conv(32, 3), 26 * 26 * 32 * 1 * 9),
    case("conv-no-bias", KERAS, [28, 28, 1], conv(32, 3, bias=False), 26 * 26 * 32 * 1 * 9),
    case("conv-13-k3-64", KERAS, [13, 13, 32], conv(64, 3), 11 * 11 * 64 * 32 * 9),
    case(
        "conv-same-s2", KERAS, [8, 16, 3], conv(5, 3, stride=2, padding="same"), 4 * 8 * 5 * 3 * 9
    ),
    case("conv-torch-p1", TORCH, [3, 32, 32], conv(16, 3, padding=1), 32 * 32 * 16 * 3 * 9),
    case("dense-784-128", KERAS, [784], {"dense": 128}, 128 * 784),
    case("dense-no-bias", KERAS, [784], {"dense": {"units": 10, "bias": False}}, 7_840),
    case("maxpool", KERAS, [26, 26, 32], pool(2), 0),
    case("avgpool", TORCH, [32, 26, 26], pool(2, "avg"), 0),
    case("batchnorm", KERAS, [26, 26, 32], "batchnorm", 0),
    case("flatten", KERAS, [26, 26, 32], "flatten", 0),
    case("dropout", KERAS, [26, 26, 32], "dropout", 0),
    case("activation", KERAS, [26, 26, 32], "relu", 0),
]


@pytest.mark.parametrize(("framework", "inp", "layer", "macs"), MACS)
def test_macs(framework: str, inp: list[int], layer: object, macs: int) -> None:
    result = run(framework, inp, layer)
    assert result["layers"][0]["macs"] == macs
    assert result["totals"]["macs"] == macs
    assert result["totals"]["flops"] == 2 * macs


def test_flops_are_twice_the_summed_macs() -> None:
    """conv 194,688 + dense 5,408*10 = 248,768 MACs (torch FlopCounterMode: 497,536 FLOPs)."""
    result = run(KERAS, [28, 28, 1], conv(32, 3), pool(2), "flatten", {"dense": 10})
    assert [row["macs"] for row in result["layers"]] == [194_688, 0, 0, 54_080]
    assert result["totals"]["macs"] == 248_768
    assert result["totals"]["flops"] == 497_536


# -- receptive field: size += (k_eff-1)*jump; start += ((k_eff-1)/2 - pad)*jump; jump *= s --


def _field(size: int, jump: int, start: float) -> dict[str, list[Any]]:
    return {"size": [size, size], "jump": [jump, jump], "start": [start, start]}


def test_receptive_field_valid_chain() -> None:
    """conv3 -> conv3 s2 -> maxpool2 -> conv3 d2 on 32x32: sizes 3, 5, 7, 23.

    Confirmed with PyTorch: the gradient of output (0, 0) reaches input rows 0..22, that of
    output (1, 1) starts at row 4 (avgpool standing in for maxpool)."""
    layers = [
        conv(8, 3),
        conv(8, 3, stride=2),
        pool(2),
        conv(8, 3, dilation=2),
        "flatten",
        {"dense": 10},
    ]
    result = run(KERAS, [32, 32, 3], *layers)
    rows = result["layers"]
    assert [row["output_shape"] for row in rows] == [
        [30, 30, 8],
        [14, 14, 8],
        [7, 7, 8],
        [3, 3, 8],
        [72],
        [10],
    ]
    assert [row["receptive_field"] for row in rows] == [
        _field(3, 1, 1.5),
        _field(5, 2, 2.5),
        _field(7, 4, 3.5),
        _field(23, 4, 11.5),
        None,
        None,
    ]


def test_receptive_field_padded_chain() -> None:
    """The same chain with pytorch padding 1, 1, 0, 2: the starts move back by the padding.

    Confirmed with PyTorch: output row 3's gradient covers input rows 2..24, centre 13.5 =
    1.5 + 3 * 4."""
    layers = [
        conv(8, 3, padding=1),
        conv(8, 3, stride=2, padding=1),
        pool(2),
        conv(8, 3, dilation=2, padding=2),
    ]
    rows = run(TORCH, [3, 32, 32], *layers)["layers"]
    assert [row["output_shape"] for row in rows] == [[8, 32, 32], [8, 16, 16], [8, 8, 8], [8, 8, 8]]
    assert [row["receptive_field"] for row in rows] == [
        _field(3, 1, 0.5),
        _field(5, 2, 0.5),
        _field(7, 4, 1.5),
        _field(23, 4, 1.5),
    ]


def test_receptive_field_per_axis() -> None:
    layers = [conv(4, "3x1"), pool("2x1"), conv(4, "1x5", stride="1x2")]
    rows = run(KERAS, [10, 10, 1], *layers)["layers"]
    assert rows[-1]["output_shape"] == [4, 3, 4]
    assert [row["receptive_field"] for row in rows] == [
        {"size": [3, 1], "jump": [1, 1], "start": [1.5, 0.5]},
        {"size": [4, 1], "jump": [2, 1], "start": [2.0, 0.5]},
        {"size": [4, 5], "jump": [2, 2], "start": [2.0, 2.5]},
    ]


def test_receptive_field_unchanged_by_pointwise_layers() -> None:
    layers = [conv(4, 3), "relu", {"dropout": 0.2}, "batchnorm", {"activation": "tanh"}]
    rows = run(KERAS, [8, 8, 1], *layers)["layers"]
    assert [row["receptive_field"] for row in rows] == [_field(3, 1, 1.5)] * 5


@pytest.mark.parametrize(
    ("inp", "layers"),
    [
        pytest.param([8, 8, 3], ["flatten"], id="flatten"),
        pytest.param([8, 8, 3], ["flatten", "relu"], id="pointwise-after-flatten"),
        pytest.param([64], ["relu"], id="flat-input"),
    ],
)
def test_receptive_field_null_once_whole(inp: list[int], layers: list[object]) -> None:
    rows = run(KERAS, inp, *layers)["layers"]
    assert rows[-1]["receptive_field"] is None


# -- an output size below 1 is an error, never a zero shape ----------------------------------

COLLAPSE = [
    case("keras-k3-on-2", KERAS, [2, 2, 1], [conv(1, 3)]),
    case("torch-k3-on-2", TORCH, [1, 2, 2], [conv(1, 3)]),
    case("keras-k3-d3-on-5", KERAS, [5, 1], [conv(1, 3, rank=1, dilation=3)]),
    case("keras-one-axis", KERAS, [10, 2, 1], [conv(1, 3)]),
    case("keras-pool4-on-3", KERAS, [3, 3, 1], [pool(4)]),
    case("torch-pool4-on-3", TORCH, [1, 3, 3], [pool(4)]),
    case("second-layer", KERAS, [5, 5, 1], [conv(1, 3), conv(1, 5)]),
    case("torch-conv1d-k5-p1-on-2", TORCH, [1, 2], [conv(1, 5, rank=1, padding=1)]),
]


@pytest.mark.parametrize(("framework", "inp", "layers"), COLLAPSE)
def test_output_below_one_is_an_error(framework: str, inp: list[int], layers: list[object]) -> None:
    with pytest.raises(ConvCalcError, match="larger than its input"):
        run(framework, inp, *layers)


def test_kernel_equal_to_input_gives_one() -> None:
    assert out(KERAS, [3, 3, 1], conv(1, 3)) == [1, 1, 1]
    assert out(TORCH, [1, 3], conv(1, 5, rank=1, padding=1)) == [1, 1]


# -- rank mismatch ---------------------------------------------------------------------------

RANK_MISMATCH = [
    case("conv2d-on-1d", KERAS, [8, 1], conv(1, 3)),
    case("conv1d-on-2d", KERAS, [28, 28, 1], conv(1, 3, rank=1)),
    case("conv3d-on-2d", KERAS, [28, 28, 1], conv(1, 3, rank=3)),
    case("conv2d-on-flat", KERAS, [784], conv(1, 3)),
    case("maxpool2d-on-1d", KERAS, [8, 1], pool(2)),
    case("avgpool1d-on-2d", KERAS, [8, 8, 1], pool(2, "avg", rank=1)),
    case("torch-conv2d-on-1d", TORCH, [1, 8], conv(1, 3)),
    case("conv2d-on-3d", TORCH, [1, 8, 8, 8], conv(1, 3)),
]


@pytest.mark.parametrize(("framework", "inp", "layer"), RANK_MISMATCH)
def test_rank_mismatch_is_an_error(framework: str, inp: list[int], layer: object) -> None:
    with pytest.raises(ConvCalcError, match="needs"):
        run(framework, inp, layer)
