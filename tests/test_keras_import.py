"""Keras model configs read without Keras: ``convcalc model FILE.json|.keras`` and ``convcalc
import``.

The fixtures in ``tests/data/keras/`` were built in Keras 3 and serialised there
(``tests/crosscheck/crosscheck_keras_import.py --write-fixtures``); ``expected.json`` holds what
Keras itself said of each: ``count_params()``, the trainable weights' sizes, the output shape
and the MACs of a trace of its forward. No number here comes from convcalc. The fixtures: a
Sequential CNN (one layer frozen), a Functional model with Add and Concatenate skips and a
squeeze-and-excitation Multiply, the same written as Keras 2 wrote configs, models nested in a
model (a frozen Sequential, a Functional block of two inputs, a Sequential in a Sequential) as
JSON and as a ``.keras`` file, Keras 3 operations on constants, keras.applications'
MobileNetV2 at 224 (157 KB), and three configs convcalc must refuse (a Lambda, a PReLU, a
shared layer).
"""

from __future__ import annotations

import io
import json
import struct
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from convcalc import ConvCalcError, analyze
from convcalc._cli import app
from convcalc._input._keras import keras_model, read_keras_archive, read_keras_source
from convcalc._input._yaml import parse_yaml, read_model_source, require_mapping
from convcalc._render._yaml_out import quoted, render_model_yaml, scalar

DATA = Path(__file__).resolve().parent / "data" / "keras"
EXPECTED: dict[str, Any] = json.loads((DATA / "expected.json").read_text(encoding="utf-8"))
RUNNER = CliRunner()

READ = [
    "sequential_cnn.json",
    "functional_skips.json",
    "functional_skips_keras2.json",
    "nested.json",
    "nested.keras",
    "operations.json",
    "mobilenet_v2.json",
]
REFUSED = {
    # fixture: what the message must say (the layer's name, its class, why)
    "lambda.json": ["layer 'double' ('Lambda')", "Python code"],
    "prelu.json": ["layer 'learned_slope' ('PReLU')", "class 'PReLU' (did you mean 'ReLU'?)"],
    "shared.json": ["layer 'shared' ('Dense') is called 2 times", "sharing its weights"],
}


def figures(spec: dict[str, Any]) -> dict[str, Any]:
    report = analyze(spec).to_dict()
    totals = report["totals"]
    return {
        "params": totals["params"],
        "trainable": totals["trainable_params"],
        "macs": totals["macs"],
        "output": [size for size in report["output_shape"] if size is not None],
    }


def expected(name: str) -> dict[str, Any]:
    key = name if name.endswith(".keras") else name.removesuffix(".json")
    return {k: EXPECTED[key][k] for k in ("params", "trainable", "macs", "output")}


def yaml_back(spec: dict[str, Any]) -> dict[str, Any]:
    text = render_model_yaml(spec, ["a comment"])
    return require_mapping(parse_yaml(text, "the YAML"), text, "the YAML")


# -- the fixtures against Keras' figures ----------------------------------------------------------


@pytest.mark.parametrize("name", READ)
def test_a_keras_config_gives_keras_figures(name: str) -> None:
    spec = read_model_source(str(DATA / name))
    assert figures(spec) == expected(name)


@pytest.mark.parametrize("name", READ)
def test_the_imported_yaml_reads_back_to_the_same_report(name: str) -> None:
    spec = read_keras_source(str(DATA / name))
    assert analyze(yaml_back(spec)).to_dict() == analyze(spec).to_dict()


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_what_convcalc_cannot_count_is_refused_naming_the_layer(name: str) -> None:
    assert EXPECTED[name.removesuffix(".json")]["refused"]
    with pytest.raises(ConvCalcError) as problem:
        read_model_source(str(DATA / name))
    for part in REFUSED[name]:
        assert part in str(problem.value)
    outcome = RUNNER.invoke(app, ["model", str(DATA / name)])
    assert outcome.exit_code == 2 and outcome.stdout == ""
    assert outcome.stderr.startswith("Error: ") and "Traceback" not in outcome.stderr


def test_an_unknown_class_gets_the_closest_known_one() -> None:
    document = json.loads((DATA / "prelu.json").read_text())
    document["config"]["layers"][2]["class_name"] = "Conv2DTranspos"  # was PReLU
    with pytest.raises(ConvCalcError, match=r"'Conv2DTranspos'.*did you mean 'Conv2DTranspose'"):
        keras_model(document, "m.json")


def test_layer_names_are_the_rows_names_and_merges_take_named_tensors() -> None:
    spec = read_keras_source(str(DATA / "functional_skips.json"))
    rows = analyze(spec).to_dict()["layers"]
    names = [row["name"] for row in rows]
    assert names[:4] == ["stem", "branch_a", "branch_b", "skip_add"]
    assert {"skip_concat", "se_scale", "head"} <= set(names)
    assert {"add": {"name": "skip_add", "inputs": ["stem", "branch_b"]}} in spec["layers"]
    # the Keras 2 form of the same graph reads to the same model
    keras2 = read_keras_source(str(DATA / "functional_skips_keras2.json"))
    assert keras2["layers"] == spec["layers"]


def test_nested_models_become_blocks_used_where_they_were_called() -> None:
    spec = read_keras_source(str(DATA / "nested.json"))
    assert list(spec["blocks"]) == ["stem", "pair", "inner", "head"]
    assert spec["blocks"]["pair"]["inputs"] == ["input", "b"]
    assert {"pair": {"name": "pair", "inputs": ["stem", "side"]}} in spec["layers"]
    names = [row["name"] for row in analyze(spec).to_dict()["layers"]]
    assert "head.inner.inner_dense" in names and "pair.join" in names


def test_operations_on_constants_are_rescalings() -> None:
    spec = read_keras_source(str(DATA / "operations.json"))
    scalings = [item["rescaling"] for item in spec["layers"] if "rescaling" in item]
    # x + 3.0, * (1 / 6), 1.0 - y, y / 2.0, x - 0.5 (keras.ops in a Functional model)
    pairs = [(s["scale"], s.get("offset", 0.0)) for s in scalings]
    assert pairs == [(1.0, 3.0), (1 / 6, 0.0), (-1.0, 1.0), (0.5, 0.0), (1.0, -0.5)]


# -- the command line -----------------------------------------------------------------------------


def test_convcalc_model_reads_json_keras_files_and_standard_input() -> None:
    want = EXPECTED["nested"]
    for args, stdin in (
        (["model", str(DATA / "nested.json")], None),
        (["model", str(DATA / "nested.keras")], None),
        (["model", "-"], (DATA / "nested.json").read_text()),
    ):
        outcome = RUNNER.invoke(app, [*args, "--format", "json"], input=stdin)
        assert outcome.exit_code == 0, outcome.stderr
        totals = json.loads(outcome.stdout)["totals"]
        assert (totals["params"], totals["macs"]) == (want["params"], want["macs"])


def test_convcalc_import_writes_yaml_that_convcalc_model_reads(tmp_path: Path) -> None:
    target = tmp_path / "cnn.yaml"
    outcome = RUNNER.invoke(app, ["import", str(DATA / "sequential_cnn.json"), "-o", str(target)])
    assert outcome.exit_code == 0 and outcome.stdout == ""
    text = target.read_text()
    assert text.startswith("# Imported by `convcalc import` from ")
    assert (
        "  - conv2d: {filters: 16, kernel: 3, activation: relu, trainable: false, name: conv1}\n"
        in text
    )
    outcome = RUNNER.invoke(app, ["model", str(target), "--format", "json"])
    totals = json.loads(outcome.stdout)["totals"]
    want = EXPECTED["sequential_cnn"]
    assert (totals["params"], totals["trainable_params"]) == (want["params"], want["trainable"])
    printed = RUNNER.invoke(app, ["import", str(DATA / "sequential_cnn.json")])
    assert printed.exit_code == 0 and printed.stdout == text


def test_convcalc_import_refuses_a_convcalc_model(tmp_path: Path) -> None:
    path = tmp_path / "net.json"
    path.write_text(json.dumps({"input": [8], "layers": [{"dense": 2}]}))
    outcome = RUNNER.invoke(app, ["import", str(path)])
    assert outcome.exit_code == 2
    assert "is not a Keras model config" in outcome.stderr
    # ... which `convcalc model` still reads as it always did
    assert RUNNER.invoke(app, ["model", str(path)]).exit_code == 0


def test_an_open_input_size_is_kept_open_and_given_on_the_command_line(tmp_path: Path) -> None:
    document = json.loads((DATA / "mobilenet_v2.json").read_text())
    document["config"]["layers"][0]["config"]["batch_shape"] = [None, None, None, 3]
    path = tmp_path / "open.json"
    path.write_text(json.dumps(document))
    imported = RUNNER.invoke(app, ["import", str(path)])
    assert "\ninput: [null, null, 3]\n" in imported.stdout
    assert "leaves the input's size open" in imported.stdout
    assert RUNNER.invoke(app, ["model", str(path)]).exit_code == 2
    outcome = RUNNER.invoke(app, ["model", str(path), "--input", "224x224x3", "-f", "json"])
    totals = json.loads(outcome.stdout)["totals"]
    assert totals["macs"] == EXPECTED["mobilenet_v2"]["macs"]


# -- graphs convcalc cannot follow ----------------------------------------------------------------


def test_a_model_of_two_inputs_or_outputs_is_refused() -> None:
    nested = json.loads((DATA / "nested.json").read_text())
    pair = next(layer for layer in nested["config"]["layers"] if layer["name"] == "pair")
    with pytest.raises(ConvCalcError, match="takes 2 inputs"):
        keras_model(pair, "pair.json")
    skips = json.loads((DATA / "functional_skips.json").read_text())
    skips["config"]["output_layers"] = [["head", 0, 0], ["gap", 0, 0]]
    with pytest.raises(ConvCalcError, match=r"has 2 outputs \('head', 'gap'\)"):
        keras_model(skips, "m.json")


def test_a_concatenate_off_the_channel_axis_is_refused() -> None:
    skips = json.loads((DATA / "functional_skips.json").read_text())
    concat = next(layer for layer in skips["config"]["layers"] if layer["name"] == "skip_concat")
    concat["config"]["axis"] = 1
    with pytest.raises(ConvCalcError, match=r"'skip_concat' \('Concatenate'\) joins axis 1"):
        keras_model(skips, "m.json")


def test_names_with_dots_dollars_and_control_characters_stay_data() -> None:
    document = json.loads((DATA / "sequential_cnn.json").read_text())
    document["config"]["layers"][2]["config"]["name"] = "conv.$x\x1b[31m"
    spec = keras_model(document, "m.json")
    assert spec["layers"][1]["conv2d"]["name"] == "conv__x\x1b[31m"
    assert figures(spec) == expected("sequential_cnn.json")
    assert analyze(yaml_back(spec)).to_dict() == analyze(spec).to_dict()
    document["config"]["layers"][3]["class_name"] = "Nope\x1b]0;x\x07"
    with pytest.raises(ConvCalcError) as problem:
        keras_model(document, "m.json")
    assert "\x1b" not in str(problem.value) and "\\x1b" in str(problem.value)


def _layer(cls: str, **config: object) -> dict[str, object]:
    return {"class_name": cls, "config": config}


def test_a_keras_2_sequential_takes_its_input_from_the_first_layer() -> None:
    document = {
        "class_name": "Sequential",
        "config": {
            "name": "old",
            "layers": [
                _layer("Dense", name="d1", units=4, batch_input_shape=[None, 8]),
                _layer("Dropout", name="drop", rate=0.5, noise_shape=None, seed=None),
                _layer("Dense", name="d2", units=2, use_bias=False, activation="softmax"),
            ],
        },
        "keras_version": "2.15.0",
    }
    spec = keras_model(document, "old.json")
    assert spec["input"] == [8]
    # 8 * 4 + 4 and 4 * 2, by hand
    assert figures(spec) == {"params": 44, "trainable": 44, "macs": 40, "output": [2]}


def test_upsampling1d_in_a_channels_first_model_is_refused() -> None:
    # Keras' UpSampling1D has no data_format: it repeats axis 1 whatever the model's layout
    document = {
        "class_name": "Sequential",
        "config": {
            "layers": [
                _layer("InputLayer", name="x", batch_shape=[None, 4, 10]),
                _layer(
                    "Conv1D", name="c", filters=4, kernel_size=[3], data_format="channels_first"
                ),
                _layer("UpSampling1D", name="up", size=2),
            ]
        },
    }
    assert keras_model({**document, "config": {"layers": document["config"]["layers"][:2]}}, "m")
    with pytest.raises(ConvCalcError, match="'up' \\('UpSampling1D'\\): Keras' UpSampling1D"):
        keras_model(document, "m.json")


# -- .keras files: only config.json, within bounds ------------------------------------------------


def _zip(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _claim_size(path: Path, member: str, size: int) -> None:
    """Make the zip's headers say ``member`` unpacks to ``size`` bytes."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.find(signature)
        while at >= 0:
            name_at = at + (30 if signature == b"PK\x03\x04" else 46)
            if data[name_at : name_at + len(name)] == name:
                data[at + offset : at + offset + 4] = struct.pack("<I", size)
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))


def test_a_keras_file_is_read_from_its_config_alone(tmp_path: Path) -> None:
    path = tmp_path / "m.keras"
    config = (DATA / "nested.json").read_bytes()
    _zip(path, {"metadata.json": b"{}", "config.json": config, "model.weights.h5": b"\0" * 64})
    _claim_size(path, "model.weights.h5", 2**31)  # a 2 GB member is never opened
    assert figures(read_keras_archive(str(path))) == expected("nested.json")


def test_a_config_too_large_is_refused_from_the_directory(tmp_path: Path) -> None:
    path = tmp_path / "big.keras"
    _zip(path, {"config.json": b"{}"})
    _claim_size(path, "config.json", 2 * 2**30)
    start = time.perf_counter()
    with pytest.raises(ConvCalcError, match="config.json is 2,147,483,648 bytes"):
        read_keras_archive(str(path))
    assert time.perf_counter() - start < 1


def test_a_zip_bomb_is_refused_quickly(tmp_path: Path) -> None:
    path = tmp_path / "bomb.keras"
    _zip(path, {"config.json": b"\0" * 64 * 2**20})  # 64 MiB of zeros: 64 KiB packed
    begin = time.perf_counter()
    with pytest.raises(ConvCalcError, match="config.json is 67,108,864 bytes"):
        read_keras_archive(str(path))
    _claim_size(path, "config.json", 100)  # its headers now lie: it unpacks to 100 bytes
    with pytest.raises(ConvCalcError, match="config.json cannot be read|not a .keras file"):
        read_keras_archive(str(path))
    assert time.perf_counter() - begin < 2


def test_a_zip_of_too_many_members_is_refused_before_reading_them(tmp_path: Path) -> None:
    path = tmp_path / "many.keras"
    with zipfile.ZipFile(path, "w") as archive:
        for number in range(10_001):
            archive.writestr(f"f{number}", b"")
    with pytest.raises(ConvCalcError, match="a zip of 10,001 members"):
        read_keras_archive(str(path))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("m.keras", b"not a zip", "is not a .keras file"),
        ("m.keras", None, "holds no config.json"),
        ("m.h5", b"\x89HDF", "HDF5 file"),
        ("m.keras", "[1, 2]", "is not a Keras model config"),
        ("m.keras", "{not json", "is not valid JSON"),
    ],
)
def test_what_is_not_a_keras_file_is_refused(
    tmp_path: Path, name: str, content: bytes | str | None, message: str
) -> None:
    path = tmp_path / name
    if isinstance(content, str):
        _zip(path, {"config.json": content.encode()})
    elif content is None:
        _zip(path, {"metadata.json": b"{}"})
    else:
        path.write_bytes(content)
    outcome = RUNNER.invoke(app, ["model", str(path)])
    assert outcome.exit_code == 2 and message in outcome.stderr, outcome.stderr


# -- the YAML writer ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "plain",
        "yes",
        "null",
        "True",
        "1e3",
        "0x10",
        "-",
        "$x",
        "a: b",
        "[3, 3]",
        "(3, 3)",
        "# no",
        "'q'",
        '"dq"',
        "back\\slash",
        "tab\there",
        "line\nbreak",
        "\x1b[31m",
        "\u2028",
        "é ü 漢字",
        "\U0001f600",
        " lead",
        "trail ",
        "",
    ],
)
def test_every_text_reads_back_as_it_was(text: str) -> None:
    document = parse_yaml(f"key: {scalar(text)}\nlist: [{scalar(text)}]\n", "t")
    assert document == {"key": text, "list": [text]}


@pytest.mark.parametrize("value", [0.1, 1e-06, 1 / 3, 2.0**70, -0.0, 123456789012, True, None])
def test_every_number_reads_back_as_it_was(value: object) -> None:
    document = parse_yaml(f"key: {scalar(value)}\n", "t")
    assert document == {"key": value} and type(document["key"]) is type(value)


def test_quoted_escapes_what_is_not_printable() -> None:
    assert quoted('a"b\\c\x07\u200b') == '"a\\"b\\\\c\\x07\\u200b"'
    assert io.StringIO(render_model_yaml({"input": [1], "layers": []}, ["x\ny"])).readline() == (
        "# x\\x0ay\n"
    )


def test_import_never_writes_what_model_refuses(tmp_path: Path) -> None:
    # a Dense of 1e300 units reads as a config, but no model has it: import refuses, as model does
    config = json.loads((DATA / "sequential_cnn.json").read_text(encoding="utf-8"))

    def huge(node: object) -> bool:
        if isinstance(node, dict):
            if node.get("class_name") == "Dense":
                node["config"]["units"] = 1e300
                return True
            return any(huge(value) for value in node.values())
        return isinstance(node, list) and any(huge(value) for value in node)

    assert huge(config)
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    result = CliRunner().invoke(app, ["import", str(path)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "units 1e+300 is not valid" in result.stderr
