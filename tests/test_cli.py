"""The command line as a user meets it: exit codes, stdout and stderr, exact error messages.

Every number asserted here comes from CONTRACT section 7 or is worked out by hand in the comment
beside it; none is copied from convcalc's output. Error messages are asserted word for word where
they name the layer, the parameter, the value and a fix; the few that do not are checked only for
the contract's shape (exit 2, ``Error:`` first, nothing on stdout, no traceback).

Inputs that could crash or hang the process if a guard broke (100,000-deep nesting, an alias
bomb) run in a subprocess, so a regression fails one test instead of killing the whole run.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer.testing import CliRunner

from convcalc._cli import app

RUNNER = CliRunner()

CONV_ARGS = ["conv", "28", "28", "1", "--filters", "32", "--kernel", "3"]
MNIST_CHAIN = "chain 28 28 1 conv:32,3 maxpool:2 conv:64,3 maxpool:2 flatten dense:128 dense:10"
MNIST_CHAIN_ARGS = MNIST_CHAIN.split()
# The MNIST net, by hand: conv 32·(3·3·1+1) = 320 → 26×26×32; pool → 13×13×32;
# conv 64·(3·3·32+1) = 18,496 → 11×11×64; pool → 5×5×64; flatten → 1,600;
# dense 1,600·128+128 = 204,928; dense 128·10+10 = 1,290.
MNIST_LAYER_PARAMS = [320, 0, 18_496, 0, 0, 204_928, 1_290]
MNIST_PARAMS = 225_034
# MACs: 26·26·32·(1·9) + 11·11·64·(32·9) + 128·1,600 + 10·128
#     = 194,688 + 2,230,272 + 204,800 + 1,280
MNIST_MACS = 2_631_040
# activation elements: 21,632 + 5,408 + 7,744 + 1,600 + 1,600 + 128 + 10 = 38,122; × 4 bytes
MNIST_ACTIVATION_BYTES = 152_488

MNIST_YAML_FOUR_FORMS = """\
name: four-forms
input: [28, 28, 1]
layers:
  - {type: conv2d, filters: 32, kernel: 3, activation: relu}   # form 4: a 'type' key
  - maxpool2d: {size: 2}                                        # form 2: type -> mapping
  - conv2d: {filters: 64, kernel: 3}
  - maxpool2d: 2                                                # form 3: type -> scalar
  - flatten                                                     # form 1: a bare string
  - dense: {units: 128, activation: relu}
  - dropout: 0.5
  - dense: 10
"""


@dataclass(frozen=True)
class Outcome:
    """What a run left behind, the same for CliRunner and for a real process."""

    exit_code: int
    stdout: str
    stderr: str


def invoke(*args: str, input: str | bytes | None = None) -> Outcome:
    result = RUNNER.invoke(app, list(args), input=input)
    # anything but a clean exit is an exception escaping the CLI's one error path
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return Outcome(result.exit_code, result.stdout, result.stderr)


def run_module(
    *args: str, input: bytes | None = None, cwd: Path | None = None, timeout: float = 60
) -> Outcome:
    """``python -m convcalc`` as a real process."""
    done = subprocess.run(
        [sys.executable, "-m", "convcalc", *args],
        input=input,
        capture_output=True,
        cwd=cwd,
        timeout=timeout,
    )
    return Outcome(
        done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8")
    )


def ok(*args: str, input: str | bytes | None = None) -> str:
    outcome = invoke(*args, input=input)
    assert outcome.exit_code == 0, outcome.stderr
    # notes on how the input was read (a conv1d picked from two numbers) may come beside it
    assert all(line.startswith("Note: ") for line in outcome.stderr.splitlines()), outcome.stderr
    return outcome.stdout


def as_json(*args: str, input: str | bytes | None = None) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ok(*args, "--format", "json", input=input))
    return data


def assert_error(outcome: Outcome, message: str | None = None) -> None:
    """Exit 2, ``Error:`` first on stderr, nothing on stdout, never a traceback."""
    assert outcome.exit_code == 2, (outcome.exit_code, outcome.stderr)
    assert outcome.stderr.startswith("Error: "), outcome.stderr
    assert "Traceback" not in outcome.stderr + outcome.stdout
    assert outcome.stdout == ""
    if message is not None:
        assert outcome.stderr == f"Error: {message}\n"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# -- single layers: CONTRACT section 7, through the commands ---------------------------------

SECTION_7 = [
    ("conv 5 5 1 --filters 1 --kernel 3", [3, 3, 1], 10),
    ("conv 28 28 1 --filters 32 --kernel 3", [26, 26, 32], 320),
    ("conv 28 28 1 --filters 1 --kernel 3 --stride 2", [13, 13, 1], 10),
    ("conv 28 28 1 --filters 1 --kernel 5", [24, 24, 1], 26),
    ("conv 13 13 32 --filters 64 --kernel 3", [11, 11, 64], 18_496),
    ("pool 26 26 32 --size 2", [13, 13, 32], 0),
    ("pool 11 11 64 --size 2", [5, 5, 64], 0),
    ("dense 784 --units 128", [128], 100_480),
    ("dense 784 --units 676", [676], 530_660),
    ("conv 5 5 3 --filters 2 --kernel 3", [3, 3, 2], 56),
    ("conv 8 16 3 --batch 10 --filters 5 --kernel 3 --stride 2", [3, 7, 5], 140),
    ("conv 8 16 3 --batch 10 --filters 5 --kernel 3 --stride 2 --padding same", [4, 8, 5], 140),
    ("conv 8 8 1 --filters 1 --kernel 3", [6, 6, 1], 10),
    ("conv 8 1 --filters 1 --kernel 3", [6, 1], 4),
]


@pytest.mark.parametrize(("command", "shape", "params"), SECTION_7)
def test_section_7_cases(command: str, shape: list[int], params: int) -> None:
    args = command.split()
    report = as_json(*args)
    assert report["output_shape"] == shape
    assert report["totals"]["params"] == params
    assert [layer["output_shape"] for layer in report["layers"]] == [shape]
    if "--batch" in args:
        assert report["batch"] == 10


def test_conv_json_matches_the_contract_example() -> None:
    report = as_json(*CONV_ARGS)
    layer = report["layers"][0]
    assert (layer["index"], layer["name"], layer["type"]) == (1, "conv2d", "conv2d")
    assert layer["input_shape"] == [28, 28, 1]
    # 26·26·32 outputs × 1 channel × 9 taps; bias excluded
    assert layer["macs"] == 194_688
    assert layer["receptive_field"] == {"size": [3, 3], "jump": [1, 1], "start": [1.5, 1.5]}
    assert report["totals"] == {
        "params": 320,
        "trainable_params": 320,
        "non_trainable_params": 0,
        "macs": 194_688,
        "flops": 389_376,
        "param_bytes": 1_280,  # 320 × 4
        "activation_bytes": 86_528,  # 21,632 × 4
    }
    assert (report["framework"], report["layout"], report["batch"], report["dtype"]) == (
        "keras",
        "hwc",
        None,
        "float32",
    )


def test_conv_table_is_the_default_format() -> None:
    out = ok(*CONV_ARGS)
    assert "26, 26, 32" in out
    assert "320" in out
    assert "None" in out  # no --batch: the batch dimension is shown as None
    assert not out.lstrip().startswith("{")


def test_markdown_and_csv() -> None:
    markdown = ok(*CONV_ARGS, "--format", "markdown")
    assert "| 320 |" in markdown.replace("  ", " ")
    rows = list(csv.DictReader(io.StringIO(ok(*CONV_ARGS, "--format", "csv"))))
    assert len(rows) == 1
    assert "320" in rows[0].values()


def test_pool_avg_and_stride() -> None:
    # floor((26 - 3) / 2) + 1 = 12
    report = as_json("pool", "26", "26", "32", "--size", "3", "--stride", "2", "--kind", "avg")
    assert report["output_shape"] == [12, 12, 32]
    assert report["layers"][0]["type"] == "avgpool2d"


def test_dense_without_bias() -> None:
    assert as_json("dense", "784", "--units", "128", "--no-bias")["totals"]["params"] == 100_352


# -- chain ----------------------------------------------------------------------------------


def test_chain_mnist() -> None:
    report = as_json(*MNIST_CHAIN_ARGS)
    assert [layer["params"] for layer in report["layers"]] == MNIST_LAYER_PARAMS
    assert report["totals"]["params"] == MNIST_PARAMS
    assert report["totals"]["macs"] == MNIST_MACS
    assert report["totals"]["flops"] == 2 * MNIST_MACS
    assert report["totals"]["activation_bytes"] == MNIST_ACTIVATION_BYTES
    assert report["output_shape"] == [10]
    assert [layer["receptive_field"] for layer in report["layers"]][-3:] == [None, None, None]


def test_chain_second_contract_example() -> None:
    # conv 16, k3, s2, same (keras): ceil(32/2) = 16 → 16×16×16, 16·(27+1) = 448
    # batchnorm (keras) 4·16 = 64, of which 32 non-trainable; activation 0
    # conv 32, kernel 3x1, valid: 14×16×32, 32·(3·1·16+1) = 1,568
    command = "chain 32 32 3 conv2d:16,3,stride=2,padding=same batchnorm activation:relu"
    report = as_json(*command.split(), "conv:32,kernel=3x1")
    assert [layer["output_shape"] for layer in report["layers"]] == [
        [16, 16, 16],
        [16, 16, 16],
        [16, 16, 16],
        [14, 16, 32],
    ]
    assert [layer["params"] for layer in report["layers"]] == [448, 64, 0, 1_568]
    assert report["totals"]["params"] == 2_080
    assert report["totals"]["non_trainable_params"] == 32


# -- model files ----------------------------------------------------------------------------


def test_model_file_with_all_four_layer_forms(tmp_path: Path) -> None:
    path = write(tmp_path, "mnist.yaml", MNIST_YAML_FOUR_FORMS)
    report = as_json("model", str(path))
    assert report["name"] == "four-forms"
    assert [layer["name"] for layer in report["layers"]] == [
        "conv2d",
        "maxpool2d",
        "conv2d_1",
        "maxpool2d_1",
        "flatten",
        "dense",
        "dropout",
        "dense_1",
    ]
    assert report["totals"]["params"] == MNIST_PARAMS
    assert report["layers"][-1]["params"] == 1_290


def test_model_from_stdin() -> None:
    report = as_json("model", "-", input=MNIST_YAML_FOUR_FORMS)
    assert report["totals"]["params"] == MNIST_PARAMS


def test_trainable_false_moves_params_to_non_trainable() -> None:
    text = "input: [128]\nlayers:\n  - dense: {units: 10, trainable: false}\n"
    totals = as_json("model", "-", input=text)["totals"]
    assert (totals["trainable_params"], totals["non_trainable_params"]) == (0, 1_290)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("mnist_cnn", MNIST_PARAMS),
        ("lenet5", 61_706),  # the published LeNet-5 count: 156 + 2,416 + 48,120 + 10,164 + 850
    ],
)
def test_zoo_models(name: str, params: int) -> None:
    report = as_json("model", f"zoo:{name}")
    assert report["totals"]["params"] == params
    assert report["output_shape"] == [10]


def test_input_override_on_a_zoo_model() -> None:
    # 32→30 (320) →15 →13 (18,496) →6; 6·6·64 = 2,304; dense 2,304·128+128 = 295,040; 1,290
    report = as_json("model", "zoo:mnist_cnn", "--input", "32x32x1")
    assert report["input_shape"] == [32, 32, 1]
    assert report["layers"][4]["output_shape"] == [2_304]
    assert report["totals"]["params"] == 320 + 18_496 + 295_040 + 1_290


BATCHNORM_MODEL = """\
input: [28, 28, 1]
framework: keras
layout: hwc
dtype: float32
batch: 4
layers:
  - conv2d: {filters: 8, kernel: 3}
  - batchnorm
  - flatten
  - dense: 10
"""


def test_file_keys_apply_without_options(tmp_path: Path) -> None:
    report = as_json("model", str(write(tmp_path, "bn.yaml", BATCHNORM_MODEL)))
    batchnorm = report["layers"][1]
    # keras: gamma, beta trainable; moving mean and variance not: 4·8 = 32
    assert (batchnorm["params"], batchnorm["non_trainable_params"]) == (32, 16)
    assert report["batch"] == 4
    # conv 80 + batchnorm 32 + dense 26·26·8·10+10 = 54,090
    assert report["totals"]["params"] == 54_202


def test_framework_option_overrides_the_file(tmp_path: Path) -> None:
    report = as_json(
        "model", str(write(tmp_path, "bn.yaml", BATCHNORM_MODEL)), "--framework", "pytorch"
    )
    assert report["framework"] == "pytorch"
    assert report["layout"] == "hwc"  # the file's layout still applies
    batchnorm = report["layers"][1]
    # pytorch: weight and bias only, 2·8; running statistics are buffers
    assert (batchnorm["params"], batchnorm["non_trainable_params"]) == (16, 0)
    assert report["totals"]["params"] == 80 + 16 + 54_090


def test_batch_and_dtype_options_override_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "bn.yaml", BATCHNORM_MODEL)
    base = as_json("model", str(path))["totals"]
    changed = as_json("model", str(path), "--batch", "8", "--dtype", "float16")
    assert changed["batch"] == 8
    assert changed["dtype"] == "float16"
    # twice the batch at half the bytes per element: the same activation bytes
    assert changed["totals"]["activation_bytes"] == base["activation_bytes"]
    assert changed["totals"]["param_bytes"] * 2 == base["param_bytes"]


def test_format_option_overrides_the_files_format_key(tmp_path: Path) -> None:
    path = write(tmp_path, "m.yaml", "input: [784]\nformat: json\nlayers: [dense: 128]\n")
    assert json.loads(ok("model", str(path)))["totals"]["params"] == 100_480
    rows = list(csv.DictReader(io.StringIO(ok("model", str(path), "--format", "csv"))))
    assert "100480" in rows[0].values()


def test_layout_chw() -> None:
    report = as_json("conv", "1", "28", "28", "--filters", "32", "--kernel", "3", "--layout", "chw")
    assert report["layout"] == "chw"
    assert report["input_shape"] == [1, 28, 28]
    assert report["output_shape"] == [32, 26, 26]
    assert report["totals"]["params"] == 320


def test_pytorch_defaults_to_chw() -> None:
    report = as_json(
        "conv", "1", "28", "28", "--filters", "32", "--kernel", "3", "--framework", "pytorch"
    )
    assert (report["layout"], report["output_shape"]) == ("chw", [32, 26, 26])


# 26·26·32 = 21,632 output elements; 320 parameters
@pytest.mark.parametrize(
    ("dtype", "size"),
    [("float64", 8), ("float32", 4), ("float16", 2), ("bfloat16", 2), ("int8", 1)],
)
def test_batch_and_dtype_scale_memory(dtype: str, size: int) -> None:
    totals = as_json(*CONV_ARGS, "--batch", "10", "--dtype", dtype)["totals"]
    assert totals["activation_bytes"] == 21_632 * 10 * size
    assert totals["param_bytes"] == 320 * size


def test_explain_adds_working_lines() -> None:
    working = "floor((28 + 0 - 1*(3-1) - 1) / 1) + 1 = 26"
    assert working in ok(*CONV_ARGS, "--explain")
    assert "floor(" not in ok(*CONV_ARGS)
    layer = as_json(*CONV_ARGS, "--explain")["layers"][0]
    assert any(line.endswith(working) for line in layer["explain"])


# -- layers, zoo, version, help -------------------------------------------------------------


def test_layers_lists_the_catalogue() -> None:
    out = ok("layers")
    listed = {line.split()[0] for line in out.splitlines() if line.strip()}
    for name in ("conv1d", "conv2d", "conv3d", "maxpool2d", "avgpool2d", "dense", "flatten"):
        assert name in listed
    for name in ("dropout", "activation", "batchnorm"):
        assert name in listed


@pytest.mark.parametrize("spelling", ["Conv2D", "conv2d", "Conv2d", "conv_2d"])
def test_layers_shows_one_type(spelling: str) -> None:
    out = ok("layers", spelling)
    assert out.startswith("conv2d")
    for param in ("filters", "kernel", "stride", "padding", "dilation", "groups", "bias"):
        assert re.search(rf"^\s+{param}\b", out, re.MULTILINE), param


def test_zoo_lists_models_with_their_counts() -> None:
    out = ok("zoo")
    assert re.search(r"^  mnist_cnn\b.*\b225,034\b", out, re.MULTILINE)
    assert re.search(r"^  lenet5\b.*\b61,706\b", out, re.MULTILINE)


def test_zoo_show_is_a_model_file_that_round_trips() -> None:
    text = ok("zoo", "show", "mnist_cnn")
    document = yaml.safe_load(text)
    assert isinstance(document, dict)
    assert document["input"] == [28, 28, 1]
    assert as_json("model", "-", input=text)["totals"]["params"] == MNIST_PARAMS


def test_version() -> None:
    assert ok("--version") == f"convcalc {version('convcalc')}\n"


def _commands(command: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    # Through click's own API: a group may build its commands only when asked for them.
    found = [(path, command)]
    if hasattr(command, "list_commands"):
        context = typer.Context(command)
        for name in sorted(command.list_commands(context)):
            found += _commands(command.get_command(context, name), (*path, name))
    return found


COMMANDS = _commands(typer.main.get_command(app))


def test_the_walk_finds_every_command() -> None:
    paths = {" ".join(path) for path, _ in COMMANDS}
    assert {"conv", "pool", "dense", "chain", "model", "layers", "zoo", "zoo show"} <= paths


@pytest.mark.parametrize(
    ("path", "command"), COMMANDS, ids=[" ".join(p) or "convcalc" for p, _ in COMMANDS]
)
def test_every_command_has_help(path: tuple[str, ...], command: Any) -> None:
    assert (command.help or "").strip(), f"{' '.join(path)} has no help text"
    for param in command.params:
        assert (getattr(param, "help", None) or "").strip(), f"{path}: {param.name} has no help"
    for flag in ("--help", "-h"):
        out = ok(*path, flag)
        assert "Usage:" in out
        assert command.help.strip().split()[0] in out


def test_python_dash_m() -> None:
    outcome = run_module(*CONV_ARGS, "--format", "json")
    assert outcome.exit_code == 0, outcome.stderr
    assert json.loads(outcome.stdout)["totals"]["params"] == 320


# -- errors ---------------------------------------------------------------------------------

CONV2D_PARAMS = (
    "filters, kernel, stride, padding, dilation, groups, bias, activation, in_channels, "
    "data_format, padding_mode"
)


def test_unknown_layer_type_in_chain() -> None:
    assert_error(
        invoke("chain", "28", "28", "1", "konv:32,3"),
        "layer 1: unknown layer type 'konv' (did you mean 'conv'?); `convcalc layers` lists them",
    )


def test_unknown_layer_type_in_yaml() -> None:
    text = "input: [28, 28, 1]\nlayers:\n  - flatten\n  - dense: 10\n  - denes: 3\n"
    assert_error(
        invoke("model", "-", input=text),
        "layer 3: unknown layer type 'denes' (did you mean 'dense'?); `convcalc layers` lists them",
    )


def test_unknown_layer_type_in_layers_command() -> None:
    assert_error(
        invoke("layers", "Konv2d"),
        "unknown layer type 'Konv2d' (did you mean 'conv2d'?); `convcalc layers` lists them",
    )


def test_misspelt_parameter_in_chain() -> None:
    assert_error(
        invoke("chain", "28", "28", "1", "maxpool:2", "conv:32,3,strid=2"),
        "layer 2 (conv2d): unknown parameter 'strid' (did you mean 'stride'?); "
        f"conv2d takes: {CONV2D_PARAMS}",
    )


def test_misspelt_parameter_in_yaml(tmp_path: Path) -> None:
    text = "input: [28, 28, 1]\nlayers:\n  - conv2d: {filters: 32, kernal: 3}\n"
    path = write(tmp_path, "m.yaml", text)
    assert_error(
        invoke("model", str(path)),
        "layer 1 (conv2d): unknown parameter 'kernal' (did you mean 'kernel'?); "
        f"conv2d takes: {CONV2D_PARAMS}",
    )


def test_misspelt_option() -> None:
    outcome = invoke("conv", "28", "28", "1", "--filter", "32", "--kernel", "3")
    assert_error(outcome)
    assert outcome.stderr == (
        "Error: No such option: --filter (Possible options: --filters, --fit)\n"
        "(see 'convcalc conv --help')\n"
    )


def test_missing_required_option() -> None:
    outcome = invoke("dense", "784")
    assert_error(outcome)
    assert outcome.stderr == "Error: Missing option '--units'.\n(see 'convcalc dense --help')\n"


def test_zero_size() -> None:
    assert_error(
        invoke("conv", "0", "28", "1", "--filters", "32", "--kernel", "3"),
        "SHAPE 0 28 1 is not valid: sizes must be positive integers, without the batch, "
        "e.g. [28, 28, 1] or 28x28x1",
    )


def test_negative_size() -> None:
    # reported, not asserted word for word: the message names neither SHAPE nor a fix
    outcome = invoke("conv", "-1", "28", "1", "--filters", "32", "--kernel", "3")
    assert_error(outcome)
    assert "-1" in outcome.stderr


@pytest.mark.parametrize("size", ["-28", "-10"])
def test_negative_size_names_the_value_given(size: str) -> None:
    # the parser reads -28 as the short options -2 -8; the message once said "not -2"
    outcome = invoke("conv", "28", size, "1", "--filters", "32", "--kernel", "3")
    assert_error(outcome)
    assert re.search(rf"(?<![\d-]){size}(?!\d)", outcome.stderr), outcome.stderr


def test_zero_filters() -> None:
    assert_error(
        invoke("conv", "28", "28", "1", "--filters", "0", "--kernel", "3"),
        "layer 1 (conv2d): filters 0 is not valid: must be a positive integer",
    )


def test_kernel_larger_than_its_input() -> None:
    assert_error(
        invoke("conv", "28", "28", "1", "--filters", "32", "--kernel", "29"),
        "layer 1 (conv2d): kernel 29 is larger than its input on H (28). "
        "Use padding: same, a smaller kernel, or a larger input",
    )


def test_keras_refuses_stride_with_dilation() -> None:
    args = ["conv", "28", "28", "1", "--filters", "8", "--kernel", "3", "--stride", "2"]
    assert_error(
        invoke(*args, "--dilation", "2"),
        "layer 1 (conv2d): keras does not allow stride 2x2 together with dilation 2x2 in one "
        "conv; use stride 1 or dilation 1 (pytorch allows both)",
    )
    # pytorch allows it: effective kernel 2·(3-1)+1 = 5; floor((28-5)/2)+1 = 12
    shape = as_json(*args, "--dilation", "2", "--framework", "pytorch", "--layout", "hwc")
    assert shape["output_shape"] == [12, 12, 8]


def test_bad_choice_option() -> None:
    outcome = invoke(*CONV_ARGS, "--dtype", "float8")
    assert_error(outcome)
    assert "'float8'" in outcome.stderr
    assert "float16" in outcome.stderr


def test_broken_yaml_names_line_and_column(tmp_path: Path) -> None:
    text = "input: [28, 28, 1]\nlayers:\n  - conv2d: {filters: 32, kernel: 3}\n - flatten\n"
    path = write(tmp_path, "broken.yaml", text)
    # line 4, column 2 is the '-' that is indented less than the list it would continue
    assert_error(
        invoke("model", str(path)),
        f"{path}, line 4, column 2: did not find expected key (while parsing a block mapping); "
        "check the YAML syntax there",
    )


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.yaml"
    assert_error(
        invoke("model", str(path)),
        f"no such file: {path}; give a model file (.yaml), '-' for standard input, "
        "or zoo:NAME (see `convcalc zoo`)",
    )


def test_directory(tmp_path: Path) -> None:
    assert_error(
        invoke("model", str(tmp_path)),
        f"{tmp_path} is a directory; give a model file (.yaml)",
    )


def test_empty_path_is_not_called_a_directory() -> None:
    # Path("") is the current directory: the message once read "Error:  is a directory"
    assert_error(
        invoke("model", ""),
        "the model file name is empty; give a YAML file, '-' for standard input, or zoo:NAME",
    )


def test_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path, "empty.yaml", "")
    assert_error(
        invoke("model", str(path)),
        f"{path} is empty; a model needs at least 'input' and 'layers'",
    )


def test_binary_garbage_on_stdin() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10"
    assert_error(invoke("model", "-", input=png), "standard input is binary, not a YAML model file")
    assert_error(
        invoke("model", "-", input=b"\xff\xfe\xfa\xfb junk"),
        "standard input is not UTF-8 text; a model file is YAML text",
    )


def test_python_tags_are_refused_and_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    text = f'input: [28, 28, 1]\nlayers: !!python/object/apply:os.system ["touch {marker}"]\n'
    path = write(tmp_path, "tag.yaml", text)
    assert_error(
        invoke("model", str(path)),
        f"{path}, line 2, column 9: the tag !!python/object/apply:os.system is not allowed; "
        "model files are read with a safe loader that builds only plain values "
        "(mappings, lists, numbers, text)",
    )
    assert not marker.exists()


BILLION_LAUGHS = """\
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
input: [28, 28, 1]
layers: *i
"""


def test_alias_bomb(tmp_path: Path) -> None:
    path = write(tmp_path, "bomb.yaml", BILLION_LAUGHS)
    assert_error(
        run_module("model", str(path), timeout=60),
        f"{path}: its aliases (*name) expand to more than 200,000 values or refer to "
        "themselves; write the model out without them",
    )


def test_self_referring_alias() -> None:
    text = b"input: [28, 28, 1]\nlayers: &x [flatten, *x]\n"
    outcome = run_module("model", "-", input=text, timeout=60)
    assert_error(outcome)
    assert "standard input" in outcome.stderr


@pytest.mark.parametrize(
    "text",
    ["[" * 100_000, "[" * 100_000 + "]" * 100_000, "{a: " * 100_000],
    ids=["open-lists", "closed-lists", "mappings"],
)
def test_deep_nesting_does_not_crash(text: str) -> None:
    # the C loader recurses on nesting: without the guard this is a segfault (exit -11)
    outcome = run_module("model", "-", input=text.encode(), timeout=60)
    # the 65th opening bracket is at column 65 on line 1, or column 4·64+1 = 257 for "{a: "
    column = 257 if text.startswith("{") else 65
    assert_error(
        outcome,
        f"standard input, line 1, column {column}: nested more than 64 levels deep; "
        "no model needs that",
    )


def test_a_list_instead_of_a_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "list.yaml", "- conv2d: {filters: 32, kernel: 3}\n- flatten\n")
    assert_error(
        invoke("model", str(path)),
        f"{path} holds a list, not a model: a model is a mapping with at least 'input' and "
        "'layers' (if the list is its layers, put it under 'layers:' beside 'input:'); "
        "`convcalc zoo show mnist_cnn` prints an example",
    )


def test_empty_layers() -> None:
    assert_error(
        invoke("model", "-", input="input: [28, 28, 1]\nlayers: []\n"),
        "'layers' must be a non-empty list of layers, not an empty list",
    )


def test_unknown_top_level_key() -> None:
    outcome = invoke("model", "-", input="input: [28, 28, 1]\nlayer:\n  - flatten\n")
    assert_error(outcome)
    assert outcome.stderr.startswith(
        "Error: unknown top-level key 'layer' (did you mean 'layers'?); "
        "a model file takes: name, input, framework, layout, batch, dtype, format, explain, layers"
    )


def test_unknown_zoo_model() -> None:
    outcome = invoke("model", "zoo:mnist")
    assert_error(outcome)
    assert outcome.stderr.startswith(
        "Error: no model 'mnist' in the zoo (did you mean 'mnist_cnn'?); `convcalc zoo` lists "
    )


def test_json_output_is_absent_when_the_model_fails() -> None:
    # 28 → 14 → 7 → 3 → 1, and a fifth pool of size 2 has nothing left to pool
    args = ["chain", "28", "28", "1"] + ["maxpool:2"] * 5
    assert_error(
        invoke(*args, "--format", "json"),
        "layer 5 (maxpool2d_4): pool size 2 is larger than its input on H (1). "
        "Use padding: same, a smaller pool size, or a larger input",
    )


def test_table_output_of_a_failing_model_still_exits_2() -> None:
    outcome = invoke("chain", "28", "28", "1", "conv:32,3", "flatten", "conv:3,3")
    assert outcome.exit_code == 2
    assert outcome.stderr.startswith("Error: layer 3 (conv2d_1): ")
    assert "Traceback" not in outcome.stderr + outcome.stdout


def test_no_layers_in_chain() -> None:
    assert_error(
        invoke("chain", "28", "28", "1"),
        "no layers after the shape; add some, e.g. "
        "convcalc chain 28 28 1 conv:32,3 maxpool:2 flatten dense:10",
    )


# -- the installed console script -----------------------------------------------------------

CONVCALC = shutil.which("convcalc")
needs_script = pytest.mark.skipif(CONVCALC is None, reason="the convcalc script is not on PATH")


def run_script(*args: str) -> Outcome:
    assert CONVCALC is not None
    env = {**os.environ, "COLUMNS": "120"}
    done = subprocess.run([CONVCALC, *args], capture_output=True, text=True, timeout=60, env=env)
    return Outcome(done.returncode, done.stdout, done.stderr)


@needs_script
def test_script_happy_path() -> None:
    outcome = run_script(*MNIST_CHAIN_ARGS)
    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.stderr == ""
    assert "225,034" in outcome.stdout


@needs_script
def test_script_error() -> None:
    outcome = run_script("chain", "28", "28", "1", "konv:32,3", "--format", "json")
    assert_error(
        outcome,
        "layer 1: unknown layer type 'konv' (did you mean 'conv'?); `convcalc layers` lists them",
    )


@needs_script
def test_script_json() -> None:
    outcome = run_script(*MNIST_CHAIN_ARGS, "--format", "json")
    assert outcome.exit_code == 0, outcome.stderr
    report = json.loads(outcome.stdout)
    assert report["totals"]["params"] == MNIST_PARAMS
    assert [layer["index"] for layer in report["layers"]] == list(range(1, 8))
