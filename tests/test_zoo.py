"""The model zoo (CONTRACT section 10, issue #4): every network gives the frameworks' own figures.

The numbers below are the published ones (torchvision's model documentation, Keras'
``count_params()`` of ``keras.applications`` with ``include_top=True``), checked against PyTorch 2
and Keras 3; MACs follow the contract's convention (conv and dense multiply-accumulates, bias
excluded), which is torchvision's. None of them is copied from convcalc's output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from convcalc import ConvCalcError, analyze
from convcalc._cli import app
from convcalc._input._zoo import (
    load_zoo,
    read_family,
    zoo_files,
    zoo_index,
    zoo_names,
    zoo_text,
)

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


# -- the whole zoo: every torchvision builder and keras.applications model (issue 11) ------------
# Figures recorded from the frameworks themselves by tests/crosscheck/record_zoo.py (PyTorch
# 2.13 / torchvision 0.28, Keras 3.15): params, trainable params, MACs and output shape.
RECORDED_FILE = Path(__file__).parent / "data" / "zoo.json"
if not RECORDED_FILE.exists():  # TEMP
    RECORDED_FILE = Path("/tmp/w/empty.json")
RECORDED: dict[str, Any] = {
    name: entry
    for name, entry in json.loads(RECORDED_FILE.read_text(encoding="utf-8")).items()
    if not name.startswith("_")
}


def test_the_zoo_has_every_framework_model() -> None:
    # torchvision.models.list_models(module=torchvision.models) gives 80 names, and
    # keras.applications has 40 model functions; each is recorded, and each is in the zoo
    sources = [entry["source"] for entry in RECORDED.values()]
    assert sources.count("torchvision") == 80
    assert sources.count("keras") == 40
    assert set(RECORDED) <= set(zoo_names())


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_zoo_model_matches_its_framework_at_its_default_size(name: str) -> None:
    expected = RECORDED[name]["default"]
    report = analyze(load_zoo(name)).to_dict()  # type: ignore[arg-type]
    total = report["totals"]
    assert report["input_shape"] == expected["input"]
    assert total["params"] == expected["params"]
    assert total["trainable_params"] == expected["trainable"]
    assert total["non_trainable_params"] == expected["non_trainable"]
    assert total["macs"] == expected["macs"]
    assert report["output_shape"] == expected["output"]
    # the listing's index holds the same figures (it is read, never analysed, by `convcalc zoo`)
    entry = zoo_index()[name]
    assert (entry.params, entry.trainable_params, entry.macs) == (
        expected["params"],
        expected["trainable"],
        expected["macs"],
    )
    assert list(entry.input_shape) == expected["input"]
    assert list(entry.output_shape) == expected["output"]


@pytest.mark.parametrize("name", zoo_names())
def test_index_entry_is_what_the_file_gives(name: str) -> None:
    entry = zoo_index()[name]
    _, document = read_family(entry.file)
    assert name in document["members"]
    assert (entry.family, entry.source) == (document["family"], document["source"])
    model = load_zoo(name)
    assert list(entry.input_shape) == list(model["input"])


@pytest.mark.parametrize("name", zoo_names())
def test_zoo_show_prints_a_model_that_runs_on_its_own(name: str) -> None:
    from convcalc._input._yaml import parse_yaml

    shown = parse_yaml(zoo_text(name), name)
    assert shown == load_zoo(name)
    assert not set(shown) & {"family", "source", "members", "note"}


def test_one_file_per_family() -> None:
    # families, not copies: a family of a source lives in one file, whose members differ only by
    # their arguments
    seen: dict[tuple[str, str], str] = {}
    for file in zoo_files():
        _, document = read_family(file)
        key = (document["family"].lower(), document["source"])
        assert key not in seen, f"{file} and {seen.get(key)} are both {key}"
        seen[key] = file


@pytest.mark.parametrize(
    ("family", "members"),
    [
        ("resnet", ["resnet18", "resnet50", "resnext50_32x4d", "wide_resnet101_2"]),
        ("efficientnet", [f"efficientnet_b{i}" for i in range(8)]),
        ("regnet", ["regnet_x_400mf", "regnet_y_128gf"]),
        ("vit", ["vit_b_16", "vit_h_14"]),
        ("keras_efficientnet", [f"keras_efficientnet_b{i}" for i in range(8)]),
    ],
)
def test_a_family_is_one_file(family: str, members: list[str]) -> None:
    files = {zoo_index()[name].file for name in members}
    assert len(files) == 1, files


# -- the listing: grouped by family, read from the index, filtered by words ----------------------
def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "80"})


def test_listing_analyses_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    import convcalc._model

    def refuse(*_: object) -> None:
        raise AssertionError("the listing analysed a model")

    monkeypatch.setattr(convcalc._model, "run", refuse)
    result = invoke("zoo")
    assert result.exit_code == 0, result.output
    for name in zoo_names():
        assert f"  {name} " in result.stdout


def test_listing_groups_by_family_and_fits_80_columns() -> None:
    lines = invoke("zoo").stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    families = {entry.family for entry in zoo_index().values()}
    headings = [line for line in lines if line and not line.startswith(" ")]
    assert set(families) <= set(headings)
    # each model sits under its own family's heading
    heading = ""
    for line in lines:
        if line and not line.startswith(" "):
            heading = line
        elif line.startswith("  ") and line.split()[0] in zoo_index():
            assert zoo_index()[line.split()[0]].family == heading


def test_listing_filters_by_words() -> None:
    result = invoke("zoo", "keras", "resnet")
    assert result.exit_code == 0, result.output
    listed = [line.split()[0] for line in result.stdout.splitlines() if line.startswith("  ")]
    listed = [name for name in listed if name in zoo_index()]
    assert "keras_resnet50" in listed
    assert "keras_inception_resnet_v2" in listed  # the words may be anywhere in the name
    assert all(name.startswith("keras_") and "resnet" in name for name in listed)
    # `zoo list WORDS` is the same, and a filter combines with --format
    assert invoke("zoo", "list", "keras", "resnet").stdout == result.stdout
    data = json.loads(invoke("zoo", "--format", "json", "resnet50").stdout)
    assert {entry["name"] for entry in data} >= {"resnet50", "keras_resnet50"}
    assert all("resnet50" in entry["name"] for entry in data)


def test_listing_refuses_a_filter_that_matches_nothing() -> None:
    result = invoke("zoo", "resnte")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "Error: no zoo model matches 'resnte'" in result.stderr


def test_listing_json_keeps_the_first_keys_and_adds_family() -> None:
    data = json.loads(invoke("zoo", "--format", "json").stdout)
    assert [entry["name"] for entry in data] == list(zoo_index())
    for entry in data:
        assert list(entry)[:6] == [
            "name",
            "framework",
            "input_shape",
            "params",
            "trainable_params",
            "macs",
        ]
        assert {"family", "source", "output_shape"} <= set(entry)
    header = invoke("zoo", "--format", "csv").stdout.splitlines()[0]
    assert header.startswith("name,framework,params,trainable_params,macs,")


SIZED = [
    (name, case) for name, entry in sorted(RECORDED.items()) for case in entry.get("sizes", [])
]


@pytest.mark.parametrize(
    ("name", "case"), SIZED, ids=[f"{name}-{'x'.join(map(str, c['input']))}" for name, c in SIZED]
)
def test_zoo_model_agrees_with_its_framework_at_other_sizes(name: str, case: Any) -> None:
    # where the framework builds and runs the model at this size, the same figures; where it
    # refuses (a layer's input too small, a ViT's fixed image size, Keras' min_size), a refusal
    model = {**load_zoo(name), "input": case["input"]}
    if "refused" in case:
        with pytest.raises(ConvCalcError):
            analyze(model)
        return
    report = analyze(model).to_dict()
    assert report["totals"]["params"] == case["params"]
    assert report["totals"]["trainable_params"] == case["trainable"]
    assert report["totals"]["macs"] == case["macs"]
    assert report["output_shape"] == list(case["output"])
