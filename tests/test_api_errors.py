"""Bad input through the Python API: always a ConvCalcError, with a message that helps."""

from __future__ import annotations

from typing import Any

import pytest

from convcalc import ConvCalcError, analyze

INPUT = [28, 28, 1]


def model(*layers: object, **top: object) -> dict[str, Any]:
    return {"input": INPUT, "layers": list(layers), **top}


def message(spec: Any) -> str:
    with pytest.raises(ConvCalcError) as caught:
        analyze(spec)
    return str(caught.value)


def test_convcalc_error_is_a_value_error() -> None:
    assert issubclass(ConvCalcError, ValueError)
    with pytest.raises(ValueError):
        analyze(model("conv2"))


# -- exact messages, word for word ------------------------------------------------------------

EXACT = [
    pytest.param(
        model("conv2"),
        "layer 1: unknown layer type 'conv2' (did you mean 'conv2d'?); "
        "`convcalc layers` lists them",
        id="unknown-type",
    ),
    pytest.param(
        model({"conv2d": {"filter": 32, "kernel": 3}}),
        "layer 1 (conv2d): unknown parameter 'filter' (did you mean 'filters'?); "
        "conv2d takes: filters, kernel, stride, padding, dilation, groups, bias, activation, "
        "in_channels, data_format, padding_mode",
        id="misspelt-parameter",
    ),
    pytest.param(
        model({"conv2d": {"kernel": 3}}),
        "layer 1 (conv2d): filters is required (output channels (number of filters)); "
        "e.g. conv2d: {filters: 32, kernel: 3}",
        id="missing-required",
    ),
    pytest.param(
        {"input": [2, 2, 1], "layers": [{"conv2d": {"filters": 1, "kernel": 3}}]},
        "layer 1 (conv2d): kernel 3 is larger than its input on H (2). "
        "Use padding: same, a smaller kernel, or a larger input",
        id="kernel-larger-than-input",
    ),
    pytest.param(
        model({"conv2d": {"filters": 3, "kernel": "3x3x3"}}),
        "layer 1 (conv2d): kernel '3x3x3' is not valid: has 3 values but the layer has "
        "2 spatial axes: give one value, or 2",
        id="per-axis-count",
    ),
    pytest.param(
        {"input": [8, 8, 3], "layers": [{"conv2d": {"filters": 4, "kernel": 3, "groups": 2}}]},
        "layer 1 (conv2d): groups 2 does not divide the input's 3 channels; "
        "use a groups value that divides both the input channels and filters",
        id="groups-channels",
    ),
    pytest.param(
        {
            "input": [16, 16, 1],
            "layers": [
                {"conv2d": [4, 3, 2]},
                {"conv2d": [4, 3]},
                {"conv2d": {"filters": 4, "kernel": 3, "stride": 2, "dilation": 2}},
            ],
        },
        "layer 3 (conv2d_2): keras does not allow stride 2x2 together with dilation 2x2 in "
        "one conv; use stride 1 or dilation 1 (pytorch allows both)",
        id="keras-stride-dilation",
    ),
    pytest.param(
        {
            "input": [1, 16, 16],
            "framework": "pytorch",
            "layers": [{"conv2d": {"filters": 4, "kernel": 3, "stride": 2, "padding": "same"}}],
        },
        "layer 1 (conv2d): pytorch allows padding same only with stride 1, not 2x2; "
        "give padding as a number of zeros per side, or use --framework keras",
        id="pytorch-same-stride",
    ),
    pytest.param(
        model({"conv2d": {"filters": 0, "kernel": 3}}),
        "layer 1 (conv2d): filters 0 is not valid: must be a positive integer",
        id="zero-filters",
    ),
]


@pytest.mark.parametrize(("spec", "expected"), EXACT)
def test_exact_message(spec: dict[str, Any], expected: str) -> None:
    assert message(spec) == expected


# -- helpful messages: what is wrong, where, and what would fix it ---------------------------

HELPFUL = [
    # unknown names, with a did-you-mean
    pytest.param(
        model({"conv2": {"filters": 3, "kernel": 3}}),
        ["'conv2'", "'conv2d'"],
        id="unknown-type-mapping-form",
    ),
    pytest.param(
        model({"Dense": {"unit": 10}}),
        ["layer 1 (dense)", "'unit'", "'units'"],
        id="misspelt-units",
    ),
    pytest.param(
        model(
            {"conv2d": {"filters": 3, "kernel": 3}, "name": "stem"},
            {"conv2d": {"filters": 3, "kernal": 3}},
        ),
        ["layer 2 (conv2d)", "'kernal'", "'kernel'"],
        id="misspelt-kernel-second",
    ),
    pytest.param(
        model("flatten", frameworks="keras"),
        ["'frameworks'", "'framework'"],
        id="unknown-top-level-key",
    ),
    pytest.param(
        model("flatten", dtype="float8"), ["dtype", "'float8'", "float16"], id="bad-dtype"
    ),
    pytest.param(
        model("flatten", framework="jax"),
        ["framework", "'jax'", "keras, pytorch"],
        id="bad-framework",
    ),
    pytest.param(model("flatten", layout="hcw"), ["layout", "'hcw'", "hwc"], id="bad-layout"),
    pytest.param(model("flatten", batch=0), ["batch 0", "positive"], id="zero-batch"),
    pytest.param(model({"activation": "relux"}), ["'relux'", "'relu'"], id="bad-activation"),
    # missing required parameters
    pytest.param(model("conv2d"), ["layer 1 (conv2d)", "filters is required"], id="bare-conv2d"),
    pytest.param(
        model({"type": "conv2d", "filters": 8}), ["kernel is required"], id="missing-kernel"
    ),
    pytest.param(model("dense"), ["units is required", "dense: {units: 10}"], id="bare-dense"),
    # the input shape
    pytest.param(
        {"input": [28, 0, 1], "layers": ["flatten"]},
        ["input", "[28, 0, 1]", "positive"],
        id="zero-size",
    ),
    pytest.param(
        {"input": [28, -3, 1], "layers": ["flatten"]},
        ["input", "-3", "positive"],
        id="negative-size",
    ),
    pytest.param(
        {"input": "28x28x0", "layers": ["flatten"]}, ["input", "28x28x0"], id="zero-size-string"
    ),
    pytest.param({"layers": ["flatten"]}, ["input is missing"], id="no-input"),
    pytest.param(
        {"input": [1, 2, 3, 4, 5], "layers": ["flatten"]}, ["5 axes", "1 to 4"], id="too-many-axes"
    ),
    # the model's structure
    pytest.param(model(), ["'layers'", "non-empty"], id="empty-layers"),
    pytest.param({"input": INPUT, "layers": "flatten"}, ["'layers'", "list"], id="layers-a-string"),
    pytest.param(
        {"input": INPUT, "layers": {"dense": 10}}, ["'layers'", "list"], id="layers-a-mapping"
    ),
    pytest.param({"input": INPUT}, ["no 'layers'"], id="layers-missing"),
    pytest.param([28, 28, 1], ["mapping", "'input'", "'layers'"], id="spec-a-list"),
    pytest.param("input: [28]", ["mapping"], id="spec-a-string"),
    pytest.param(None, ["mapping"], id="spec-none"),
    pytest.param(
        model({"dense": {"units": 3, "name": "a"}}, {"dense": {"units": 3, "name": "a"}}),
        ["layer 2", "'a'", "unique"],
        id="duplicate-names",
    ),
    pytest.param(
        model(
            {"dense": 3, "name": "conv2d"},
            {"conv2d": [3, 3]},
            {"conv2d": [3, 3], "name": "conv2d_1"},
        ),
        ["layer 3", "'conv2d_1'", "unique"],
        id="duplicate-with-default-name",
    ),
    pytest.param(
        model({"conv2d": {"filters": 3, "kernel": 3}, "dense": 3}),
        ["layer 1", "'conv2d'", "'dense'"],
        id="two-type-keys",
    ),
    pytest.param(model(5), ["layer 1", "type name"], id="layer-a-number"),
    pytest.param(
        # Keras' Conv2D takes nine positionally: filters, kernel_size, strides, padding,
        # data_format, dilation_rate, groups, activation, use_bias.
        model({"conv2d": [3, 3, 1, 1, None, 1, 1, None, True, 5]}),
        ["10 positional", "at most 9"],
        id="too-many-positionals",
    ),
    pytest.param(
        model({"conv2d": {"filters": 3, "kernel": 3, "kernel_size": 5}}),
        ["kernel is given twice"],
        id="parameter-twice",
    ),
    # bad values
    pytest.param(
        model({"conv2d": {"filters": 3, "kernel": [3, 3, 3]}}),
        ["kernel [3, 3, 3]", "2 spatial axes"],
        id="per-axis-count-list",
    ),
    pytest.param(
        model({"conv1d": {"filters": 3, "kernel": "3x3"}}),
        ["kernel '3x3'", "1 spatial axis"],
        id="per-axis-count-conv1d",
    ),
    pytest.param(
        model({"conv2d": {"filters": 3, "kernel": 3, "stride": 0}}),
        ["stride 0", "positive"],
        id="zero-stride",
    ),
    pytest.param(
        model({"conv2d": {"filters": 3, "kernel": 3, "padding": "full"}}),
        ["padding 'full'", "valid, same"],
        id="bad-padding-mode",
    ),
    pytest.param(
        model({"conv2d": {"filters": 3, "kernel": 3, "padding": -1}}),
        ["padding -1", "negative"],
        id="negative-padding",
    ),
    pytest.param(
        model({"conv2d": {"filters": True, "kernel": 3}}), ["filters true"], id="bool-filters"
    ),
    pytest.param(
        model({"conv2d": {"filters": 3.5, "kernel": 3}}), ["filters 3.5"], id="fractional-filters"
    ),
    pytest.param(model({"dropout": 1.5}), ["rate 1.5", "0 to 1"], id="dropout-rate"),
    pytest.param(
        model({"conv2d": [3, 3], "trainable": "maybe"}), ["trainable 'maybe'"], id="bad-trainable"
    ),
    # shapes
    pytest.param(
        {"input": [10, 10, 1], "layers": [{"conv2d": [4, 3]}, "maxpool2d", {"conv2d": [4, 5]}]},
        ["layer 3 (conv2d_1)", "kernel 5", "(4)", "padding: same"],
        id="collapse-later-layer",
    ),
    pytest.param(
        {"input": [1, 3, 3], "framework": "pytorch", "layers": [{"maxpool2d": 4}]},
        ["layer 1 (maxpool2d)", "pool size 4", "padding: 1"],
        id="pytorch-pool-collapse-suggests-padding",
    ),
    pytest.param(
        {"input": [8, 1], "layers": [{"conv2d": [3, 3]}]},
        ["conv2d", "1-D data", "conv1d"],
        id="rank-conv2d-on-1d",
    ),
    pytest.param(
        {"input": [784], "layers": [{"conv2d": [3, 3]}]},
        ["conv2d", "flat vector", "dense"],
        id="rank-conv2d-on-flat",
    ),
    pytest.param(
        {"input": INPUT, "layers": [{"conv2d": {"filters": 3, "kernel": 3, "in_channels": 3}}]},
        ["in_channels 3", "1 channel "],
        id="in-channels-mismatch",
    ),
]


@pytest.mark.parametrize(("spec", "fragments"), HELPFUL)
def test_helpful_message(spec: object, fragments: list[str]) -> None:
    text = message(spec)
    for fragment in fragments:
        assert fragment in text
    assert "Traceback" not in text
    assert not text.startswith("Error:"), "the CLI adds 'Error: ', the message does not"


# -- an explicit null is a bad value, never a crash -------------------------------------------

NULLS = [
    pytest.param({"conv2d": {"filters": None, "kernel": 3}}, "filters", id="conv-filters"),
    pytest.param({"conv2d": {"filters": 3, "kernel": None}}, "kernel", id="conv-kernel"),
    pytest.param({"conv2d": [None, 3]}, "filters", id="conv-positional"),
    pytest.param(
        {"conv2d": {"filters": 3, "kernel": 3, "stride": None}}, "stride", id="conv-stride"
    ),
    pytest.param(
        {"conv2d": {"filters": 3, "kernel": 3, "padding": None}}, "padding", id="conv-padding"
    ),
    pytest.param({"conv2d": {"filters": 3, "kernel": 3, "bias": None}}, "bias", id="conv-bias"),
    pytest.param({"dense": {"units": None}}, "units", id="dense-units"),
    pytest.param({"maxpool2d": {"size": None}}, "size", id="pool-size"),
    pytest.param({"activation": {"function": None}}, "function", id="activation-function"),
]


@pytest.mark.parametrize(("layer", "param"), NULLS)
def test_null_parameter_is_a_convcalc_error(layer: object, param: str) -> None:
    """YAML's ``kernel:`` with nothing after it is None; it must not reach the rules."""
    assert param in message(model(layer))
