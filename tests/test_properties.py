"""Properties of the sliding-window arithmetic that hold for every size, checked with hypothesis."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from convcalc import analyze

FAST = settings(max_examples=60, deadline=None)

sizes = st.integers(min_value=1, max_value=64)
kernels = st.integers(min_value=1, max_value=7)
strides = st.integers(min_value=1, max_value=4)
dilations = st.integers(min_value=1, max_value=3)
frameworks = st.sampled_from(["keras", "pytorch"])


def run(framework: str, inp: list[int], layer: dict[str, Any]) -> dict[str, Any]:
    """One layer on ``inp`` written channels last; moved to channels first for pytorch."""
    if framework == "pytorch":
        inp = [inp[-1], *inp[:-1]]
    result = analyze({"input": inp, "framework": framework, "layers": [layer]}).to_dict()
    (row,) = result["layers"]
    return row


def spatial(framework: str, row: dict[str, Any]) -> list[int]:
    shape = row["output_shape"]
    return shape[:-1] if framework == "keras" else shape[1:]


@FAST
@given(
    framework=frameworks,
    size=sizes,
    kernel=kernels,
    stride=strides,
    dilation=dilations,
    pool=st.booleans(),
)
def test_valid_never_grows(
    framework: str, size: int, kernel: int, stride: int, dilation: int, pool: bool
) -> None:
    if framework == "keras" and stride > 1:
        dilation = 1  # keras refuses the two together
    if pool:
        dilation = 1
    span = dilation * (kernel - 1) + 1
    size = max(size, span)
    if pool:
        layer = {"maxpool1d": {"size": kernel, "stride": stride}}
    else:
        layer = {"conv1d": {"filters": 2, "kernel": kernel, "stride": stride, "dilation": dilation}}
    (out,) = spatial(framework, run(framework, [size, 3], layer))
    assert 1 <= out <= size


@FAST
@given(height=sizes, width=sizes, kernel=kernels, stride=strides, pool=st.booleans())
def test_keras_same_is_ceil_of_in_over_stride(
    height: int, width: int, kernel: int, stride: int, pool: bool
) -> None:
    params = {"stride": stride, "padding": "same"}
    if pool:
        layer = {"avgpool2d": {"size": kernel, **params}}
    else:
        layer = {"conv2d": {"filters": 4, "kernel": kernel, **params}}
    row = run("keras", [height, width, 3], layer)
    assert spatial("keras", row) == [math.ceil(height / stride), math.ceil(width / stride)]


@FAST
@given(size=sizes, kernel=kernels, dilation=dilations)
def test_pytorch_same_keeps_the_size(size: int, kernel: int, dilation: int) -> None:
    layer = {"conv1d": {"filters": 4, "kernel": kernel, "dilation": dilation, "padding": "same"}}
    assert spatial("pytorch", run("pytorch", [size, 2], layer)) == [size]


conv_layers = st.fixed_dictionaries(
    {
        "framework": frameworks,
        "groups": st.integers(min_value=1, max_value=4),
        "channels_per_group": st.integers(min_value=1, max_value=4),
        "filters_per_group": st.integers(min_value=1, max_value=4),
        "kernel": st.tuples(kernels, kernels),
        "stride": st.tuples(strides, strides),
        "bias": st.booleans(),
    }
)


def conv_layer(case: dict[str, Any], bias: bool | None = None) -> dict[str, Any]:
    kh, kw = case["kernel"]
    sh, sw = case["stride"]
    return {
        "conv2d": {
            "filters": case["groups"] * case["filters_per_group"],
            "kernel": f"{kh}x{kw}",
            "stride": f"{sh}x{sw}",
            "groups": case["groups"],
            "bias": case["bias"] if bias is None else bias,
        }
    }


@FAST
@given(case=conv_layers, first=st.tuples(sizes, sizes), second=st.tuples(sizes, sizes))
def test_conv_params_do_not_depend_on_spatial_size(
    case: dict[str, Any], first: tuple[int, int], second: tuple[int, int]
) -> None:
    channels = case["groups"] * case["channels_per_group"]
    kernel = case["kernel"]
    counts = set()
    for height, width in (first, second):
        inp = [max(height, kernel[0]), max(width, kernel[1]), channels]
        counts.add(run(case["framework"], inp, conv_layer(case))["params"])
    assert len(counts) == 1


@FAST
@given(case=conv_layers, height=sizes, width=sizes)
def test_conv_macs_are_weights_times_output_positions(
    case: dict[str, Any], height: int, width: int
) -> None:
    channels = case["groups"] * case["channels_per_group"]
    inp = [max(height, case["kernel"][0]), max(width, case["kernel"][1]), channels]
    row = run(case["framework"], inp, conv_layer(case, bias=False))
    positions = math.prod(spatial(case["framework"], row))
    assert row["macs"] == row["params"] * positions


@FAST
@given(case=conv_layers, height=sizes, width=sizes)
def test_bias_adds_one_parameter_per_filter_and_no_macs(
    case: dict[str, Any], height: int, width: int
) -> None:
    channels = case["groups"] * case["channels_per_group"]
    inp = [max(height, case["kernel"][0]), max(width, case["kernel"][1]), channels]
    with_bias = run(case["framework"], inp, conv_layer(case, bias=True))
    without = run(case["framework"], inp, conv_layer(case, bias=False))
    filters = case["groups"] * case["filters_per_group"]
    assert with_bias["params"] - without["params"] == filters
    assert with_bias["macs"] == without["macs"]


@FAST
@given(framework=frameworks, size=sizes, pool_size=kernels, kind=st.sampled_from(["max", "avg"]))
def test_pool_stride_size_valid_is_floor(
    framework: str, size: int, pool_size: int, kind: str
) -> None:
    size = max(size, pool_size)
    (out,) = spatial(framework, run(framework, [size, 2], {f"{kind}pool1d": pool_size}))
    assert out == size // pool_size


@FAST
@given(
    framework=frameworks,
    shape=st.lists(sizes, min_size=1, max_size=4),
    units=st.integers(min_value=1, max_value=300),
)
def test_flatten_then_dense(framework: str, shape: list[int], units: int) -> None:
    elements = math.prod(shape)
    spec = {"input": shape, "framework": framework, "layers": ["flatten", {"dense": units}]}
    flatten, dense = analyze(spec).to_dict()["layers"]
    assert flatten["output_shape"] == [elements]
    assert dense["params"] == (elements + 1) * units
    assert dense["macs"] == elements * units
