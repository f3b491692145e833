"""The model zoo (CONTRACT section 10, issue #4): every network gives the frameworks' own figures.

The numbers below are the published ones (torchvision's model documentation, Keras'
``count_params()`` of ``keras.applications`` with ``include_top=True``), checked against PyTorch 2
and Keras 3; MACs follow the contract's convention (conv and dense multiply-accumulates, bias
excluded), which is torchvision's. None of them is copied from convcalc's output.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from convcalc import analyze
from convcalc._cli import app
from convcalc._input._zoo import load_zoo, zoo_names, zoo_text

# (zoo name, framework, params, trainable params, MACs or None where not published)
ZOO = [
    ("alexnet", "pytorch", 61_100_840, 61_100_840, 714_188_480),
    ("vgg16", "pytorch", 138_357_544, 138_357_544, 15_470_264_320),
    ("resnet18", "pytorch", 11_689_512, 11_689_512, 1_814_073_344),
    ("resnet50", "pytorch", 25_557_032, 25_557_032, 4_089_184_256),
    ("mobilenet_v2", "pytorch", 3_504_872, 3_504_872, 300_774_272),
    ("densenet121", "pytorch", 7_978_856, 7_978_856, 2_834_161_664),
    ("googlenet", "pytorch", 6_624_904, 6_624_904, 1_498_376_192),
    ("keras_resnet50", "keras", 25_636_712, 25_583_592, None),
    ("keras_mobilenet_v2", "keras", 3_538_984, 3_504_872, None),
    ("keras_vgg16", "keras", 138_357_544, 138_357_544, None),
    ("keras_densenet121", "keras", 8_062_504, 7_978_856, None),
]
NAMES = [row[0] for row in ZOO]

# Networks that repeat themselves: their files must say so with blocks or repeat.
REPEATING = [
    "resnet18",
    "resnet50",
    "mobilenet_v2",
    "densenet121",
    "googlenet",
    "keras_resnet50",
    "keras_mobilenet_v2",
    "keras_densenet121",
]

VGG16_DENSE_MACS = 25_088 * 4_096 + 4_096 * 4_096 + 4_096 * 1_000  # the three dense layers
RESNET50_DENSE_MACS = 2_048 * 1_000


def totals(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    report: dict[str, Any] = analyze(load_zoo(name)).to_dict()  # type: ignore[arg-type]
    return report, report["totals"]


def run_json(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.mark.parametrize(("name", "framework", "params", "trainable", "macs"), ZOO, ids=NAMES)
def test_zoo_model_matches_framework(
    name: str, framework: str, params: int, trainable: int, macs: int | None
) -> None:
    report, total = totals(name)
    assert report["framework"] == framework
    if framework == "pytorch":
        assert report["layout"] == "chw"
        assert report["input_shape"] == [3, 224, 224]
    else:
        assert report["layout"] == "hwc"
        assert report["input_shape"] == [224, 224, 3]
    assert total["params"] == params
    assert total["trainable_params"] == trainable
    assert total["non_trainable_params"] == params - trainable
    if macs is not None:
        assert total["macs"] == macs
        assert total["flops"] == 2 * macs
    assert report["output_shape"] == [1000]


def test_every_model_of_the_table_is_listed() -> None:
    assert set(NAMES) <= set(zoo_names())


@pytest.mark.parametrize("name", zoo_names())
def test_zoo_file_has_a_comment_header(name: str) -> None:
    first = zoo_text(name).lstrip().splitlines()[0]
    assert first.startswith("#") and len(first.strip("# ")) > 10, first


@pytest.mark.parametrize("name", REPEATING)
def test_repeating_network_uses_blocks_or_repeat(name: str) -> None:
    text = zoo_text(name)
    assert "blocks:" in text or "repeat:" in text


def test_resnet50_at_another_size_keeps_its_parameters() -> None:
    # the adaptive average pool makes the head independent of the input size; every conv output
    # grows by (320/224)^2 = 100/49 (224 and 320 both divide by 32, so no rounding anywhere)
    data = run_json("model", "zoo:resnet50", "--input", "3x320x320")
    assert data["input_shape"] == [3, 320, 320]
    assert data["totals"]["params"] == 25_557_032
    assert data["output_shape"] == [1000]
    conv_macs = (4_089_184_256 - RESNET50_DENSE_MACS) * 100 // 49
    assert data["totals"]["macs"] == conv_macs + RESNET50_DENSE_MACS


@pytest.mark.parametrize("size", [320, 160])
def test_torchvision_vgg16_params_do_not_depend_on_the_input(size: int) -> None:
    # AdaptiveAvgPool2d((7, 7)) feeds the classifier 512x7x7 whatever the input (at 160 it even
    # stretches 5x5 up to 7x7); only the conv MACs scale, by (size/224)^2
    data = run_json("model", "zoo:vgg16", "--input", f"3x{size}x{size}")
    assert data["totals"]["params"] == 138_357_544
    assert data["output_shape"] == [1000]
    pools = [layer for layer in data["layers"] if layer["type"] == "adaptive_avgpool2d"]
    assert [layer["output_shape"] for layer in pools] == [[512, 7, 7]]
    conv_macs = (15_470_264_320 - VGG16_DENSE_MACS) * size * size // (224 * 224)
    assert data["totals"]["macs"] == conv_macs + VGG16_DENSE_MACS


def test_keras_vgg16_params_grow_with_the_input() -> None:
    # Keras' VGG16 flattens the last pool: 320 / 32 = 10, so the first dense layer sees
    # 10 * 10 * 512 = 51,200 inputs instead of 25,088 (Keras 3: count_params() = 245,312,296)
    data = run_json("model", "zoo:keras_vgg16", "--input", "320x320x3")
    grown = (51_200 - 25_088) * 4_096
    assert data["totals"]["params"] == 138_357_544 + grown == 245_312_296
    assert data["output_shape"] == [1000]


def test_keras_mobilenet_v2_at_an_odd_size_pads_as_keras() -> None:
    # keras.applications.MobileNetV2(weights=None, input_shape=(227, 227, 3)) in Keras 3: its
    # correct_pad gives ((1, 1), (1, 1)) on odd sizes (57 -> 29, 29 -> 15, 15 -> 8), which is
    # what 'same' padding gives; the MACs are those of that model's conv and dense layers
    data = run_json("model", "zoo:keras_mobilenet_v2", "--input", "227x227x3")
    assert data["totals"]["params"] == 3_538_984
    assert data["totals"]["trainable_params"] == 3_504_872
    assert data["totals"]["macs"] == 345_486_144
    assert data["output_shape"] == [1000]
