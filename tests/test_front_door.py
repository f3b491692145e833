"""The front door: a value typed the way Keras or PyTorch code writes it means what it looks
like, or it is refused; notes say how an input was read.

Every expected number is worked out by hand in the comment beside it from the frameworks'
documented formulas (``out = floor((in + 2p - d(k-1) - 1) / s) + 1``; a conv has
``(k*k*C_in/groups + bias) * filters`` weights), or is a published figure; none is copied from
convcalc's output.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from convcalc import ConvCalcError, analyze
from convcalc._cli import app
from convcalc._values import Invalid, show, tuple_items

RUNNER = CliRunner()


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = RUNNER.invoke(app, list(args), input=input)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def as_json(*args: str) -> dict[str, Any]:
    code, out, err = run(*args, "--format", "json")
    assert code == 0, err
    document = json.loads(out)
    assert isinstance(document, dict)
    return document


def refused(*args: str) -> str:
    code, out, err = run(*args)
    assert code == 2, (out, err)
    assert err.startswith("Error: ") and "Traceback" not in err
    assert out == ""
    return err


def result(spec: dict[str, Any]) -> dict[str, Any]:
    return analyze(spec).to_dict()


def error(spec: dict[str, Any]) -> str:
    with pytest.raises(ConvCalcError) as caught:
        analyze(spec)
    return str(caught.value)


# -- per-axis values written as code writes them ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "items"),
    [
        ("3x5", ["3", "5"]),
        ("3,5", ["3", "5"]),
        ("(3, 5)", ["3", "5"]),
        ("(3,5)", ["3", "5"]),
        ("[3, 5]", ["3", "5"]),
        ("(3,)", ["3"]),  # Python's one-element tuple
        ("0x3", ["0", "3"]),  # per axis, never hexadecimal
        ("((1, 1), (2, 2))", [["1", "1"], ["2", "2"]]),
    ],
)
def test_tuple_items(text: str, items: list[object]) -> None:
    assert tuple_items(text) == items


@pytest.mark.parametrize("text", ["(3", "3)", "(3, 3", "((3)", "(3)(3)", "3x(3", "(,3)", "[3, 3)"])
def test_unbalanced_brackets_are_refused(text: str) -> None:
    with pytest.raises(Invalid):
        tuple_items(text)


@pytest.mark.parametrize(
    "item",
    [
        "Conv2D:32,(3,3)",
        "Conv2D:32,(3, 3)",
        "Conv2D:32,[3,3]",
        "conv2d:32,kernel=(3,3)",
        "conv:32,3x3",
    ],
)
def test_chain_tuple_is_one_value(item: str) -> None:
    # kernel 3x3, stride 1: 28 - 3 + 1 = 26; (3*3*1 + 1) * 32 = 320. Read as kernel 3,
    # stride 3 it would be floor(25 / 3) + 1 = 9.
    report = as_json("chain", "28", "28", "1", item)
    assert report["output_shape"] == [26, 26, 32]
    assert report["totals"]["params"] == 320


def test_chain_tuple_stride() -> None:
    # kernel 3x3, stride (2, 1): H floor(25/2)+1 = 13, W 26
    report = as_json("chain", "28", "28", "1", "conv2d:8,(3,3),(2,1)")
    assert report["output_shape"] == [13, 26, 8]


def test_chain_unbalanced_bracket() -> None:
    assert "unbalanced brackets" in refused("chain", "28", "28", "1", "conv2d:32,(3,3")


def test_api_tuple_string_in_a_list() -> None:
    # what a flow YAML list [32, (3, 3)] becomes once read: the tuple is one value
    report = result({"input": [28, 28, 1], "layers": [{"conv2d": [32, "(3, 3)"]}]})
    assert report["output_shape"] == [26, 26, 32]


def test_per_axis_padding_0x3() -> None:
    # padding 0 on H, 3 on W, kernel 3: H 28 - 2 = 26, W 28 + 6 - 2 = 32
    layer = {"conv2d": {"filters": 8, "kernel": 3, "padding": "0x3"}}
    spec = {"input": [28, 28, 1], "layers": [layer]}
    assert result(spec)["output_shape"] == [26, 32, 8]


@pytest.mark.parametrize("value", ["1:30", "1_000", "yes", "0o17", "3.5"])
def test_numbers_yaml_1_1_would_convert_are_refused(value: str) -> None:
    spec = {"input": [28, 28, 1], "layers": [{"maxpool2d": {"size": value}}]}
    assert "size" in error(spec)


# -- positional order: the spelling decides -------------------------------------------------


def test_pytorch_conv2d_call_in_a_chain() -> None:
    # Conv2d(3, 64, 7): in 3, out 64, kernel 7: 224 - 7 + 1 = 218; (7*7*3 + 1) * 64 = 9,472
    report = as_json("chain", "3", "224", "224", "Conv2d:3,64,7", "--framework", "pytorch")
    assert report["output_shape"] == [64, 218, 218]
    assert report["totals"]["params"] == 9_472


def test_pytorch_conv2d_full_call() -> None:
    # Conv2d(3, 64, 7, 2, 3, bias=False): floor((224 + 6 - 6 - 1) / 2) + 1 = 112; 7*7*3*64
    spec = {
        "input": [3, 224, 224],
        "framework": "pytorch",
        "layers": [{"type": "Conv2d", "_": [3, 64, 7, 2, 3], "bias": False}],
    }
    report = result(spec)
    assert report["output_shape"] == [64, 112, 112]
    assert report["totals"]["params"] == 9_408


def test_pytorch_order_checks_in_channels() -> None:
    spec = {"input": [3, 32, 32], "framework": "pytorch", "layers": [{"Conv2d": [1, 8, 3]}]}
    assert "in_channels 1 does not match" in error(spec)


def test_linear_takes_pytorch_order() -> None:
    # Linear(784, 128): 784*128 + 128 = 100,480
    spec = {"input": [784], "layers": [{"Linear": [784, 128]}]}
    assert result(spec)["totals"]["params"] == 100_480


def test_keras_spelling_keeps_keras_order() -> None:
    # Conv2D(32, 3, 2, "same"): ceil(28 / 2) = 14
    spec = {"input": [28, 28, 1], "layers": [{"Conv2D": [32, 3, 2, "same"]}]}
    assert result(spec)["output_shape"] == [14, 14, 32]


def test_neutral_spelling_reading_two_ways_is_refused_under_pytorch() -> None:
    spec = {"input": [3, 224, 224], "framework": "pytorch", "layers": [{"conv2d": [3, 64, 7]}]}
    message = error(spec)
    assert "reads two ways" in message
    assert "filters 3, kernel 64, stride 7" in message
    assert "in_channels 3, out_channels 64, kernel_size 7" in message
    assert "Conv2d" in message


def test_neutral_spelling_is_keras_order_when_the_first_value_is_not_the_channels() -> None:
    # 16 input channels, so 3 cannot be in_channels: filters 3, kernel 5, stride 2:
    # floor((32 - 5) / 2) + 1 = 14
    spec = {"input": [16, 32, 32], "framework": "pytorch", "layers": [{"conv2d": [3, 5, 2]}]}
    assert result(spec)["output_shape"] == [3, 14, 14]


def test_neutral_spelling_under_keras_is_keras_order() -> None:
    # conv2d: [64, 3, 2] on 64 channels, keras: filters 64, kernel 3, stride 2: 13
    spec = {"input": [28, 28, 64], "layers": [{"conv2d": [64, 3, 2]}]}
    assert result(spec)["output_shape"] == [13, 13, 64]


# -- the rank and the layout as the user sees them --------------------------------------------


def test_conv_on_four_values_reads_two_ways_and_is_refused() -> None:
    # a tutorial's (10, 8, 16, 3) with its batch: a conv3d over D H W C would be a different,
    # confident answer; the message gives both readings
    err = refused("conv", "10", "8", "16", "3", "--filters", "5", "--kernel", "3", "--stride", "2")
    assert "batch of 10" in err and "8 16 3" in err and "conv3d" in err


def test_without_the_batch_it_is_the_tutorials_answer() -> None:
    # Conv2D(5, 3, strides=2) on (10, 8, 16, 3): (10, 3, 7, 5); (3*3*3 + 1) * 5 = 140
    report = as_json(
        "conv", "8", "16", "3", "--filters", "5", "--kernel", "3", "--stride", "2", "--batch", "10"
    )
    assert report["output_shape"] == [3, 7, 5] and report["batch"] == 10
    assert report["totals"]["params"] == 140


def test_conv3d_named_takes_four_values() -> None:
    # D 10, H 8, W 16, C 3; kernel 3 stride 2: D 4, H 3, W 7; (27*3 + 1) * 5 = 410
    report = as_json("chain", "10", "8", "16", "3", "conv3d:5,3,2")
    assert report["output_shape"] == [4, 3, 7, 5]
    assert report["totals"]["params"] == 410


@pytest.mark.parametrize("command", ["conv", "pool"])
def test_an_image_without_channels_is_refused(command: str) -> None:
    extra = ["--filters", "1", "--kernel", "3"] if command == "conv" else []
    err = refused(command, "28", "28", *extra)
    assert "28 28 1" in err and "1d" in err


def test_a_batch_of_one_in_front_is_named() -> None:
    err = refused("chain", "1", "8", "8", "1", "Conv2D:1,3")
    assert "if 1 is the batch size, leave it out" in err


def test_conv_in_a_chain_takes_its_rank_from_its_input() -> None:
    # conv1d on L 8, C 1: kernel 3: 6; (3*1 + 1) * 4 = 16
    report = as_json("chain", "8", "1", "conv:4,3")
    assert report["layers"][0]["type"] == "conv1d"
    assert report["totals"]["params"] == 16
    assert any("conv1d" in note for note in report["notes"])


def test_2d_conv_has_no_rank_note() -> None:
    assert as_json("conv", "28", "28", "1", "--filters", "32", "--kernel", "3")["notes"] == []


def test_channels_first_under_hwc_is_noted_or_refused() -> None:
    err = refused("conv", "3", "224", "224", "--filters", "64", "--kernel", "7")
    assert "for C H W add --layout chw" in err
    report = as_json("conv", "3", "224", "224", "--filters", "8", "--kernel", "3")
    assert any("--layout chw" in note for note in report["notes"])


def test_channels_last_under_chw_is_noted() -> None:
    report = result({"input": [28, 28, 1], "framework": "pytorch", "layers": ["flatten"]})
    assert any("--layout hwc" in note for note in report["notes"])


def test_explicit_layout_has_no_layout_note() -> None:
    report = result({"input": [3, 224, 224], "layout": "hwc", "layers": ["flatten"]})
    assert report["notes"] == []


def test_dense_on_a_non_flat_input_is_keras_correct_with_a_note() -> None:
    # Dense(10) on 13x13x32 acts on the last axis: 32*10 + 10 = 330
    report = result({"input": [13, 13, 32], "layers": [{"dense": 10}, {"dense": 4}]})
    assert report["output_shape"] == [13, 13, 4]
    assert report["layers"][0]["params"] == 330
    assert len([note for note in report["notes"] if "flatten" in note]) == 1


# -- --input on a model with its own layout ----------------------------------------------------

RESNET18_PARAMS = 11_689_512  # torchvision's published count; it does not depend on the size


def test_input_spatial_size_alone_keeps_the_channels() -> None:
    report = as_json("model", "zoo:resnet18", "--input", "320x320")
    assert report["input_shape"] == [3, 320, 320]
    assert report["totals"]["params"] == RESNET18_PARAMS


def test_input_in_the_models_layout() -> None:
    assert as_json("model", "zoo:resnet18", "--input", "3x320x320")["totals"]["params"] == (
        RESNET18_PARAMS
    )


def test_input_with_channels_at_the_wrong_end_is_refused() -> None:
    err = refused("model", "zoo:resnet18", "--input", "320x320x3")
    assert "3x320x320" in err and "320x320" in err


def test_input_keras_model_spatial_only() -> None:
    report = as_json("model", "zoo:mnist_cnn", "--input", "32x32")
    assert report["input_shape"] == [32, 32, 1]


# -- framework arguments that change no count, and those that do ------------------------------


def test_ignored_framework_arguments() -> None:
    spec = {
        "input": [28, 28, 1],
        "layers": [
            {
                "Conv2D": {
                    "filters": 32,
                    "kernel_size": 3,
                    "kernel_initializer": "he_normal",
                    "kernel_regularizer": None,
                    "bias_constraint": None,
                    "dtype": "float32",
                }
            },
            {"BatchNormalization": {"epsilon": 0.001, "momentum": 0.99}},
            {"Dropout": {"rate": 0.5, "seed": 1, "noise_shape": None}},
            {"GELU": {"approximate": "tanh"}},
        ],
    }
    # conv 320; batchnorm 4 * 32 = 128
    assert result(spec)["totals"]["params"] == 320 + 128


def test_keras_batchnorm_scale_false() -> None:
    # InceptionV3's BatchNormalization(scale=False): beta 32 trainable, moving mean and variance
    # 64 non-trainable
    report = result({"input": [8, 8, 32], "layers": [{"BatchNormalization": {"scale": False}}]})
    assert report["totals"]["trainable_params"] == 32
    assert report["totals"]["non_trainable_params"] == 64


def test_keras_batchnorm_center_and_scale_false() -> None:
    spec = {"input": [8, 8, 32], "layers": [{"batchnorm": {"center": False, "scale": False}}]}
    assert result(spec)["totals"]["trainable_params"] == 0


def test_pytorch_batchnorm_refuses_center() -> None:
    spec = {
        "input": [32, 8, 8],
        "framework": "pytorch",
        "layers": [{"batchnorm": {"scale": False}}],
    }
    assert "affine" in error(spec)


def test_pytorch_batchnorm_without_running_stats() -> None:
    # BatchNorm2d(32, track_running_stats=False): 64 parameters, no buffers: 64 * 4 bytes
    spec = {
        "input": [32, 8, 8],
        "framework": "pytorch",
        "layers": [{"BatchNorm2d": [32, 1e-5, 0.1, True, False]}],
    }
    totals = result(spec)["totals"]
    assert totals["params"] == 64
    assert totals["param_bytes"] == 256


def test_pytorch_maxpool_dilation() -> None:
    # MaxPool2d(3, 2, 1, 2): spans 2*(3-1)+1 = 5; floor((32 + 2 - 5) / 2) + 1 = 15
    spec = {"input": [1, 32, 32], "framework": "pytorch", "layers": [{"MaxPool2d": [3, 2, 1, 2]}]}
    assert result(spec)["output_shape"] == [1, 15, 15]


def test_pytorch_maxpool_dilation_padding_limit() -> None:
    # PyTorch checks pad <= effective kernel // 2, then, in max pooling, pad <= kernel // 2:
    # with kernel 3 and dilation 2 (span 5) a padding of 1 is fine: floor((32+2-5)/1)+1 = 30
    spec = {"input": [1, 32, 32], "framework": "pytorch", "layers": [{"MaxPool2d": [3, 1, 1, 2]}]}
    assert result(spec)["output_shape"] == [1, 30, 30]
    # and 2 is refused ("pad should be smaller than or equal to half of kernel size")
    spec["layers"] = [{"MaxPool2d": [3, 1, 2, 2]}]
    assert "at most half of kernel size" in error(spec)


def test_padding_mode() -> None:
    def layer(padding: int, mode: str) -> dict[str, Any]:
        conv = {"in_channels": 3, "filters": 4, "kernel": 3, "padding": padding}
        return {"input": [3, 6, 6], "framework": "pytorch",
                "layers": [{"conv2d": {**conv, "padding_mode": mode}}]}

    # reflect: padding below the input's 6; 6 + 2*5 - 2 = 14
    assert result(layer(5, "reflect"))["output_shape"] == [4, 14, 14]
    assert "less than the input's size 6" in error(layer(6, "reflect"))
    assert result(layer(6, "circular"))["output_shape"] == [4, 16, 16]
    assert "at most the input's size 6" in error(layer(7, "circular"))
    assert result(layer(9, "replicate"))["output_shape"] == [4, 22, 22]
    transposed = {"input": [3, 6, 6], "framework": "pytorch",
                  "layers": [{"ConvTranspose2d": {"in_channels": 3, "filters": 4, "kernel": 3,
                                                  "padding_mode": "reflect"}}]}
    assert "zeros only" in error(transposed)
    keras = {"input": [6, 6, 3], "layers": [{"conv2d": {"filters": 4, "kernel": 3,
                                                        "padding_mode": "reflect"}}]}
    assert "pytorch's" in error(keras)


def test_keras_pools_have_no_dilation() -> None:
    spec = {"input": [32, 32, 1], "layers": [{"maxpool2d": {"size": 3, "dilation": 2}}]}
    assert "keras pools have no dilation" in error(spec)


def test_data_format_must_match_the_layout() -> None:
    ok = {"input": [28, 28, 1], "layers": [{"Conv2D": [8, 3, 1, "valid", "channels_last"]}]}
    assert result(ok)["output_shape"] == [26, 26, 8]
    layer = {"conv2d": {"filters": 8, "kernel": 3, "data_format": "channels_first"}}
    bad = {"input": [28, 28, 1], "layers": [layer]}
    assert "--layout chw" in error(bad)


def test_keras_cropping1d_crops_axis_1_even_channels_first() -> None:
    # Keras' Cropping1D has no data_format: on (C, L) = (4, 16) it crops the 4: 4 - 1 - 1 = 2
    report = result({"input": [4, 16], "layout": "chw", "layers": [{"cropping1d": 1}]})
    assert report["output_shape"] == [2, 16]
    assert any("Cropping1D" in note for note in report["notes"])


def test_pool_kind_in_a_chain() -> None:
    report = as_json("chain", "28", "28", "1", "pool:2,kind=avg")
    assert report["layers"][0]["type"] == "avgpool2d"


# -- what the user gave, shown safely --------------------------------------------------------


def test_huge_numbers_are_shown_by_their_size() -> None:
    assert show(10**5000) == "a number of about 5,000 digits"
    message = error({"input": [5], "layers": [10**5000]})
    assert "5,000 digits" in message


def test_control_characters_are_escaped_in_messages() -> None:
    message = error({"input": [5], "layers": ["re\x1b]0;TITLE\x07lu"]})
    assert "\x1b" not in message and "\x07" not in message
    assert "\\x1b" in message


def test_long_values_are_cut() -> None:
    message = error({"input": [5], "layers": ["x" * 100_000]})
    assert len(message) < 400
    assert "100,000 characters" in message


# -- dead ends lead somewhere ------------------------------------------------------------------


def test_model_name_without_zoo_prefix() -> None:
    assert "zoo:resnet18" in refused("model", "resnet18")


def test_zoo_list_and_json() -> None:
    code, out, _ = run("zoo", "list")
    assert code == 0 and "resnet18" in out
    code, out, _ = run("zoo", "--format", "json")
    entries = {entry["name"]: entry for entry in json.loads(out)}
    assert entries["resnet18"]["params"] == RESNET18_PARAMS
    assert entries["mnist_cnn"]["params"] == 225_034


def test_zoo_show_without_a_name_lists_the_names() -> None:
    code, out, _ = run("zoo", "show")
    assert code == 0 and "resnet50" in out and "mnist_cnn" in out


def test_activation_option() -> None:
    report = as_json("dense", "784", "--units", "10", "--activation", "softmax")
    assert report["totals"]["params"] == 7_850


def test_depth_all_and_bad_depth() -> None:
    report = as_json("model", "zoo:resnet18", "--depth", "all")
    assert report["totals"]["params"] == RESNET18_PARAMS
    assert "--depth" in refused("model", "zoo:resnet18", "--depth", "deep")


def test_completion_offers_padding_values() -> None:
    from convcalc._completion import param_values

    assert param_values("conv1d", "padding", "") == ["causal", "same", "valid"]
    assert param_values("conv1d", "padding", "s") == ["same"]
    assert "relu" in param_values("conv2d", "activation", "re")


def test_layers_lists_short_and_rank_free_names() -> None:
    code, out, _ = run("layers")
    assert code == 0
    assert "Also: conv." in out  # conv2d's short name
    assert "fc" in out and "bn" in out
    assert "conv (convNd)" in out


def test_layers_type_shows_pytorch_order_and_ignored_arguments() -> None:
    code, out, _ = run("layers", "Conv2d")
    assert code == 0
    assert "pytorch order: Conv2d: in_channels, filters, kernel" in out
    assert "kernel_initializer" in out and "accepted and ignored" in out


def test_layers_wraps_at_the_width() -> None:
    result = RUNNER.invoke(app, ["layers"], env={"COLUMNS": "60"})
    assert max(len(line) for line in result.stdout.splitlines()) <= 60


@pytest.mark.parametrize(
    ("item", "shape", "params"),
    [
        # Keras' ZeroPadding2D(((1, 1), (2, 2))) on 28x28x1: 30x32x1
        ("zeropadding2d:((1,1),(2,2))", [30, 32, 1], 0),
        # Dense(10, 'relu') after a flatten of 28*28*1 = 784: 7,850
        ("Dense:10,relu", [10], 7_850),
        # nn.Conv2d(1, 8, kernel_size=(3, 3), stride=2): floor(25/2) + 1 = 13; 8*9 + 8 = 80
        ("Conv2d:1,8,kernel_size=(3,3),stride=2", [13, 13, 8], 80),
        # Conv2D(8, (3, 3), (2, 2), 'same'): ceil(28/2) = 14
        ("Conv2D:8,(3,3),(2,2),same", [14, 14, 8], 80),
    ],
)
def test_more_calls_as_code_writes_them(item: str, shape: list[int], params: int) -> None:
    layers = ["flatten", item] if item.startswith("Dense") else [item]
    report = as_json("chain", "28", "28", "1", *layers)
    assert report["output_shape"] == shape
    assert report["totals"]["params"] == params


@pytest.mark.parametrize(
    "item",
    [
        "Conv2D(32, (3, 3), strides=2)",
        "layers.Conv2D(32, (3, 3), strides=(2, 2), padding='valid')",
        "keras.layers.Conv2D(32, 3, 2, input_shape=(28, 28, 1))",
        'Conv2D:32,(3,3),2,padding="valid"',
    ],
)
def test_a_layer_pasted_as_code(item: str) -> None:
    # Conv2D(32, (3, 3), strides=2) on 28x28x1: floor(25 / 2) + 1 = 13; 320 parameters
    report = as_json("chain", "28", "28", "1", item)
    assert report["output_shape"] == [13, 13, 32]
    assert report["totals"]["params"] == 320


def test_pytorch_module_pasted_as_code() -> None:
    # nn.Conv2d(3, 64, 7, 2, 3) on 3x224x224: 112; 9,408 + 64 = 9,472
    report = as_json(
        "chain", "3", "224", "224", "nn.Conv2d(3, 64, 7, 2, 3)", "--framework", "pytorch"
    )
    assert report["output_shape"] == [64, 112, 112]
    assert report["totals"]["params"] == 9_472


def test_input_shape_on_a_layer_must_be_its_input() -> None:
    err = refused("chain", "28", "28", "1", "Conv2D(32, 3, input_shape=(32, 32, 1))")
    assert "input_shape [32, 32, 1]" in err


def test_five_pytorch_values_in_keras_order_name_both_readings() -> None:
    err = refused("chain", "3", "224", "224", "conv2d:3,64,7,2,3", "--framework", "pytorch")
    assert "data_format" in err and "Conv2d" in err and "reads two ways" in err


MERGED = {
    # two identity paths of [4, 4, 8]: add and multiply keep it; concat joins the channels
    "add": [4, 4, 8],
    "concat": [4, 4, 16],
    "multiply": [4, 4, 8],
    "subtract": [4, 4, 8],
    "average": [4, 4, 8],
    "maximum": [4, 4, 8],
    "minimum": [4, 4, 8],
}


def test_every_merge_is_handled() -> None:
    from convcalc._settings import Merge

    assert {merge.value for merge in Merge} == set(MERGED)
    for merge in Merge:
        spec = {
            "input": [4, 4, 8],
            "layers": [{"branches": {"merge": merge.value, "paths": [[], []]}}],
        }
        report = result(spec)
        assert report["output_shape"] == MERGED[merge.value]
        assert report["layers"][-1]["type"] == merge.value


# -- found by the cross-check against the frameworks (tests/crosscheck/crosscheck_front_door.py)


def torch(layer: dict[str, Any], shape: list[int]) -> dict[str, Any]:
    return {"input": shape, "framework": "pytorch", "layers": [layer]}


def test_lora_rank_is_not_ignored() -> None:
    # Keras' Dense(5, lora_rank=2) has 29 trainable and 35 frozen weights, not 40 trainable
    assert "lora_rank" in error({"input": [7], "layers": [{"Dense": {"units": 5, "lora_rank": 2}}]})


def test_keras_batchnorm_positional_call() -> None:
    # BatchNormalization(-1, 0.99, 0.001, False, True) on 16 channels: gamma 16, moving 32
    layer = {"BatchNormalization": [-1, 0.99, 0.001, False, True]}
    report = result({"input": [4, 4, 16], "layers": [layer]})
    assert report["totals"]["trainable_params"] == 16
    assert report["totals"]["non_trainable_params"] == 32


def test_keras_batchnorm_default_axis_on_channels_first_is_noted() -> None:
    report = result({"input": [4, 5, 6], "layout": "chw", "layers": ["BatchNormalization"]})
    assert any("axis" in note for note in report["notes"])


@pytest.mark.parametrize(
    ("layer", "params"),
    [
        ({"ReLU": [True]}, 0),  # torchvision's nn.ReLU(True)
        ({"LeakyReLU": [0.1, True]}, 0),
        ({"Hardtanh": [-1.0, 1.0, True]}, 0),
        ({"Dropout": [0.2, True]}, 0),
        ({"LayerNorm": [[16], 1e-6]}, 32),  # 16 weights + 16 biases
        ({"GroupNorm": [2, 16, 1e-6]}, 32),
        ({"GELU": {"approximate": "tanh"}}, 0),
        ({"sparsemax": None}, 0),
        ({"Tanhshrink": None}, 0),
    ],
)
def test_more_framework_calls(layer: dict[str, Any], params: int) -> None:
    report = result({"input": [4, 4, 16], "layers": [layer]})
    assert report["output_shape"] == [4, 4, 16]
    assert report["totals"]["params"] == params


def test_keras_conv3d_transpose_order() -> None:
    # Conv3DTranspose(2, 3, 1, "valid", "channels_last"): 4+2, 5+2, 6+2; 27*1*2 + 2 = 56
    layer = {"Conv3DTranspose": [2, 3, 1, "valid", "channels_last"]}
    report = result({"input": [4, 5, 6, 1], "layers": [layer]})
    assert report["output_shape"] == [6, 7, 8, 2]
    assert report["totals"]["params"] == 56


def test_pytorch_transpose_refuses_string_padding() -> None:
    layer = {"ConvTranspose2d": [6, 5, 4, 1, "valid"]}
    assert "not valid" in error(torch(layer, [6, 8, 8]))


def test_upsample_mode_needs_its_rank() -> None:
    image = [3, 6, 6]
    assert "1 spatial axis" in error(torch({"Upsample": [None, 2, "linear"]}, image))
    assert result(torch({"Upsample": [None, 2, "bilinear"]}, image))["output_shape"] == [3, 12, 12]
    nearest = {"scale_factor": 2, "mode": "nearest", "align_corners": True}
    assert "align_corners" in error(torch({"Upsample": nearest}, image))
    # align_corners None, PyTorch's default, written out: size 2 is the output size
    bicubic = torch({"Upsample": [2, None, "bicubic", None]}, image)
    assert result(bicubic)["output_shape"] == [3, 2, 2]


@pytest.mark.parametrize("value", ["(3,)", "[3]", [3]])
def test_one_value_in_brackets_is_not_every_axis(value: object) -> None:
    # Keras: "The `kernel_size` argument must be a tuple of 2 integers"
    spec = {"input": [8, 8, 1], "layers": [{"conv2d": {"filters": 2, "kernel": value}}]}
    assert "1 value in brackets" in error(spec)
    # on one axis it is the value itself: Conv1D(2, (3,)) on 8x1: 6
    spec = {"input": [8, 1], "layers": [{"conv1d": {"filters": 2, "kernel": value}}]}
    assert result(spec)["output_shape"] == [6, 2]


@pytest.mark.parametrize(
    ("shape", "layer", "refused"),
    [
        ([3, 6, 6], "BatchNorm3d", True),  # "expected 5D input (got 4D input)"
        ([3, 6, 6, 6], "BatchNorm2d", True),
        ([3, 6, 6], "BatchNorm2d", False),
        ([3, 6], "BatchNorm1d", False),
        ([3], "BatchNorm1d", False),
        ([3, 6, 6], "batchnorm", False),  # convcalc's own name takes any rank
    ],
)
def test_pytorch_batchnorm_class_takes_its_rank(
    shape: list[int], layer: str, refused: bool
) -> None:
    spec = torch({layer: [3]} if layer != "batchnorm" else layer, shape)  # type: ignore[arg-type]
    if refused:
        assert "takes a" in error(spec)
    else:
        assert result(spec)["output_shape"] == shape
