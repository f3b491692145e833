"""``convcalc diff``: two models, or one at two settings, compared.

Every figure asserted is published (torchvision's parameter counts) or worked out by hand in
the comment beside it, never copied from convcalc's output: a diff of a model with itself
differs nowhere, ResNet-34 is ResNet-18 with eight more basic blocks, and ResNet-50 at 320
is ResNet-50 at 224 with every conv output (320/224)^2 = 100/49 times larger.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from convcalc import analyze, diff
from convcalc._cli import app
from convcalc._diff import RowStatus
from convcalc._hotspots import row_memory
from convcalc._input._yaml import read_model_source
from convcalc._settings import OutputFormat

RUNNER = CliRunner()
README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")

RESNET18_PARAMS = 11_689_512  # torchvision's published figures
RESNET34_PARAMS = 21_797_672
RESNET18_MACS = 1_814_073_344
# ResNet-34 has [3, 4, 6, 3] basic blocks per stage where ResNet-18 has [2, 2, 2, 2]: eight more,
# each two 3x3 convs (no bias) at C channels on an S x S map, S*S*C*C*9 MACs each, and the same
# in every stage (56*56*64*64 = 28*28*128*128 = ...): 2 * 56*56*64*64*9 = 231,211,008
BASIC_BLOCK_MACS = 2 * 56 * 56 * 64 * 64 * 9
ADDED_BLOCKS = [
    "layer1.basic_2",
    "layer2.basic_2",
    "layer2.basic_3",
    "layer3.basic_2",
    "layer3.basic_3",
    "layer3.basic_4",
    "layer3.basic_5",
    "layer4.basic_2",
]
# A basic block at 64 channels: two 3x3 convs (9*64*64 each) and two batchnorms (2*64 each)
LAYER1_BLOCK_PARAMS = 2 * 9 * 64 * 64 + 2 * 2 * 64

RESNET50_PARAMS = 25_557_032
RESNET50_MACS = 4_089_184_256
RESNET50_DENSE_MACS = 2_048 * 1_000
# At 320 every conv output grows by (320/224)^2 = 100/49 (both sizes divide by 32: no rounding);
# the adaptive pool keeps the dense layer's 2,048 inputs
RESNET50_320_MACS = (RESNET50_MACS - RESNET50_DENSE_MACS) * 100 // 49 + RESNET50_DENSE_MACS

TEXT_FORMATS = ["table", "json", "markdown", "csv"]


def run(*args: str, stdin: str | None = None) -> Result:
    return RUNNER.invoke(app, ["diff", *args], input=stdin)


def run_json(*args: str, stdin: str | None = None) -> dict[str, Any]:
    result = run(*args, "--format", "json", stdin=stdin)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def fails(*args: str, stdin: str | None = None) -> str:
    """The one ``Error:`` line of a refused diff (exit 2, nothing on stdout)."""
    result = run(*args, stdin=stdin)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")
    assert "Traceback" not in result.stderr
    return result.stderr.splitlines()[0]


# --- a model with itself ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_a_model_with_itself_differs_nowhere(fmt: str) -> None:
    result = run("zoo:resnet18", "zoo:resnet18", "--format", fmt)
    assert result.exit_code == 0, result.output
    text = result.stdout
    if fmt == "json":
        data = json.loads(text)
        assert data["same"] is True
        assert data["rows"] == [] and data["settings_differ"] == []
        assert {figure["difference"] for figure in data["totals"].values()} == {0}
        assert data["a_rows"] == data["b_rows"] == 69  # 4 stem + 4 stages * 2 blocks * 7 + 3
    elif fmt == "csv":
        lines = list(csv.DictReader(io.StringIO(text)))
        assert {line["section"] for line in lines} == {"setting", "total"}  # no row differs
        assert {line["status"] for line in lines} == {"same"}
        assert {line["difference"] for line in lines if line["section"] == "total"} == {"0"}
    else:
        assert "No differences: the settings, the totals and every row agree." in text
        marks = [line for line in text.splitlines() if re.match(r"^\|? ?[~+-] ", line)]
        assert marks == []
        # the seven totals (params, trainable, non-trainable, MACs, FLOPs, parameter and
        # activation memory), each with B − A 0 (0 B for memory) and B / A 1 (– over 0)
        totals = text[text.index("Totals") :].splitlines()[2:9]
        assert totals[0].lstrip("| ").startswith("Params")
        assert totals[-1].lstrip("| ").startswith("Activation memory")
        for line in totals:
            assert re.search(r"\b0( B)?\s*\|?\s+(1\.000|–)\s*\|?$", line), line


def test_a_model_file_with_itself_from_a_file_and_standard_input(tmp_path: Path) -> None:
    text = "input: [28, 28, 1]\nlayers: [conv2d: {filters: 8, kernel: 3}, flatten, dense: 10]\n"
    path = tmp_path / "net.yaml"
    path.write_text(text)
    data = run_json(str(path), "-", stdin=text)
    assert data["same"] is True
    assert data["a"]["label"] == str(path) and data["b"]["label"] == "standard input"
    # conv (9*1+1)*8 = 80 -> 26x26x8 = 5,408 -> dense 5,408*10 + 10 = 54,090
    assert data["totals"]["params"]["a"] == 80 + 54_090


def test_diff_from_python_is_the_json() -> None:
    spec = {"input": [8, 8, 3], "layers": [{"conv2d": {"filters": 4, "kernel": 3}}]}
    report = analyze(spec)
    found = diff(report, report)
    assert found.same and found.rows == ()
    totals: Any = found.to_dict()["totals"]
    assert totals["params"] == {
        "a": 112,  # (3*3*3 + 1) * 4
        "b": 112,
        "difference": 0,
        "ratio": 1.0,
    }


# --- two models --------------------------------------------------------------------------------


def test_resnet18_and_resnet34_differ_by_their_published_parameter_counts() -> None:
    data = run_json("zoo:resnet18", "zoo:resnet34")
    params = data["totals"]["params"]
    assert params["a"] == RESNET18_PARAMS and params["b"] == RESNET34_PARAMS
    assert params["difference"] == RESNET34_PARAMS - RESNET18_PARAMS == 10_108_160
    assert params["ratio"] == pytest.approx(RESNET34_PARAMS / RESNET18_PARAMS)
    macs = data["totals"]["macs"]
    assert macs["a"] == RESNET18_MACS
    assert macs["difference"] == len(ADDED_BLOCKS) * BASIC_BLOCK_MACS
    assert data["totals"]["flops"]["difference"] == 2 * macs["difference"]
    # what differs is only added rows, and they add up to the totals' differences
    assert {row["status"] for row in data["rows"]} == {"only_b"}
    assert sum(row["b"]["params"] for row in data["rows"]) == params["difference"]
    assert sum(row["b"]["macs"] for row in data["rows"]) == macs["difference"]
    assert data["settings_differ"] == [] and data["same"] is False


def test_resnet34s_extra_blocks_are_the_rows_only_in_b_at_depth_1() -> None:
    data = run_json("zoo:resnet18", "zoo:resnet34", "--depth", "1")
    assert data["depth"] == 1
    assert [row["name"] for row in data["rows"]] == ADDED_BLOCKS
    assert all(row["status"] == "only_b" and row["a"] is None for row in data["rows"])
    first = data["rows"][0]["b"]
    assert first["params"] == LAYER1_BLOCK_PARAMS == 73_984
    assert first["macs"] == BASIC_BLOCK_MACS
    assert first["output_shape"] == [64, 56, 56]


# --- one model at two settings -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("shared", "other"),
    [("224x224", "320x320"), ("3x224x224", "3x320x320"), (None, "320x320")],
)
def test_resnet50_at_224_and_320(shared: str | None, other: str) -> None:
    args = ["zoo:resnet50", "--vs-input", other, *(["--input", shared] if shared else [])]
    data = run_json(*args)
    assert data["settings_differ"] == ["input_shape"]
    assert data["a"]["input_shape"] == [3, 224, 224] and data["b"]["input_shape"] == [3, 320, 320]
    params = data["totals"]["params"]
    assert params["a"] == params["b"] == RESNET50_PARAMS
    assert params["difference"] == 0 and params["ratio"] == 1.0
    macs = data["totals"]["macs"]
    assert (macs["a"], macs["b"]) == (RESNET50_MACS, RESNET50_320_MACS)
    assert macs["ratio"] == pytest.approx(RESNET50_320_MACS / RESNET50_MACS)
    assert macs["ratio"] == pytest.approx(2.0403, abs=1e-4)  # 8,343,142,400 / 4,089,184,256


def test_resnet50_at_320_folded_to_depth_0() -> None:
    data = run_json("zoo:resnet50", "--vs-input", "320x320", "--depth", "0")
    rows = {row["name"]: row for row in data["rows"]}
    # the stem's conv: 7x7, stride 2, padding 3: 224 -> 112 and 320 -> 160
    stem = rows["conv2d"]
    assert stem["a"]["output_shape"] == [64, 112, 112]
    assert stem["b"]["output_shape"] == [64, 160, 160]
    assert stem["differs"] == ["output_shape", "macs", "memory_bytes"]
    # after the adaptive pool nothing depends on the size: those rows do not differ
    assert "dense" not in rows and "flatten" not in rows
    assert list(rows) == [
        "conv2d",
        "batchnorm",
        "relu",
        "maxpool2d",
        "layer1",
        "layer2",
        "layer3",
        "layer4",
    ]
    assert sum(row["b"]["macs"] - row["a"]["macs"] for row in data["rows"]) == (
        RESNET50_320_MACS - RESNET50_MACS
    )


def test_one_model_at_two_batches_and_dtypes() -> None:
    data = run_json("zoo:resnet18", "--batch", "2", "--vs-batch", "8", "--vs-dtype", "float16")
    assert data["settings_differ"] == ["batch", "dtype"]
    assert (data["a"]["batch"], data["b"]["batch"]) == (2, 8)
    # activations: 4x the batch at half the bytes: twice; parameters: half the bytes
    assert data["totals"]["activation_bytes"]["ratio"] == 2.0
    assert data["totals"]["param_bytes"]["ratio"] == 0.5
    assert data["totals"]["macs"]["difference"] == 0  # MACs are per sample
    conv = data["rows"][0]
    assert conv["name"] == "conv2d" and conv["status"] == "changed"
    # the stem's 7x7 conv, 3 -> 64 channels, no bias: 64·3·49 = 9,408 parameters; its output
    # 64x112x112 elements, 2 of them at 4 bytes, then 8 at 2 bytes
    assert conv["a"]["memory_bytes"] == (9_408 + 64 * 112 * 112 * 2) * 4
    assert conv["b"]["memory_bytes"] == (9_408 + 64 * 112 * 112 * 8) * 2


def test_b_with_a_vs_option_is_b_at_that_setting() -> None:
    data = run_json("zoo:resnet18", "zoo:resnet34", "--vs-dtype", "float16")
    assert (data["a"]["dtype"], data["b"]["dtype"]) == ("float32", "float16")
    assert data["b"]["label"] == "zoo:resnet34 --vs-dtype float16"
    assert data["settings_differ"] == ["dtype"]
    assert data["totals"]["params"]["difference"] == RESNET34_PARAMS - RESNET18_PARAMS


def test_training_figures_are_compared_with_train() -> None:
    data = run_json("zoo:resnet18", "--vs-batch", "4", "--train", "--optimizer", "sgd")
    totals = data["totals"]
    assert {"training_memory", "saved_activations", "training_macs"} <= set(totals)
    # sgd keeps no state; weights and gradients do not depend on the batch, saved activations
    # grow with it: the training memory's difference is the saved activations'
    assert totals["training_memory"]["difference"] == totals["saved_activations"]["difference"] > 0
    assert totals["training_macs"]["difference"] == 0  # per sample


# --- rows matched by name ----------------------------------------------------------------------

NET_A = """\
input: [8, 8, 3]
layers:
  - conv2d: {filters: 16, kernel: 3, name: c1}
  - conv2d: {filters: 32, kernel: 3, name: c2}
  - flatten: {name: flat}
  - dropout: {rate: 0.5, name: drop}
  - dense: {units: 10, name: head}
"""
NET_B = """\
input: [8, 8, 3]
layers:
  - conv2d: {filters: 16, kernel: 3, name: c1}
  - conv2d: {filters: 64, kernel: 3, name: c2}
  - relu: {name: act}
  - flatten: {name: flat}
  - dense: {units: 10, name: head}
"""


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_rows_are_matched_by_name(tmp_path: Path) -> None:
    data = run_json(write(tmp_path, "a.yaml", NET_A), write(tmp_path, "b.yaml", NET_B))
    rows = [(row["name"], row["status"]) for row in data["rows"]]
    # c1 is the same in both; A's drop sits before head, where A has it
    assert rows == [
        ("c2", "changed"),
        ("act", "only_b"),
        ("flat", "changed"),
        ("drop", "only_a"),
        ("head", "changed"),
    ]
    c2, act, flat, drop, head = data["rows"]
    # c1: 8x8x3 -> 6x6x16; c2: 3x3 valid -> 4x4, (9*16 + 1) filters' weights
    assert c2["differs"] == [
        "output_shape",
        "params",
        "trainable_params",
        "macs",
        "memory_bytes",
    ]
    assert (c2["a"]["params"], c2["b"]["params"]) == (145 * 32, 145 * 64)
    assert (c2["a"]["macs"], c2["b"]["macs"]) == (4 * 4 * 32 * 144, 4 * 4 * 64 * 144)
    assert (flat["a"]["output_shape"], flat["b"]["output_shape"]) == ([512], [1024])
    assert flat["differs"] == ["output_shape", "memory_bytes"]
    assert (head["a"]["params"], head["b"]["params"]) == (512 * 10 + 10, 1024 * 10 + 10)
    assert act["a"] is None and act["b"]["type"] == "relu" and act["differs"] == []
    assert drop["b"] is None and drop["a"]["type"] == "dropout"
    # the rows' differences add up to the totals'
    for key in ("params", "macs"):
        listed = sum(
            (row["b"] or {key: 0})[key] - (row["a"] or {key: 0})[key] for row in data["rows"]
        )
        assert listed == data["totals"][key]["difference"]


def test_delta_memory_sums_as_the_readme_says(tmp_path: Path) -> None:
    # Every layer (--depth all): the rows' memory is the parameter and activation memory, so
    # the Δ memory of the rows listed is that sum's difference
    nets = [write(tmp_path, "a.yaml", NET_A), write(tmp_path, "b.yaml", NET_B)]
    data = run_json(*nets, "--depth", "all", "--batch", "3")

    def change(row: dict[str, Any]) -> int:
        return int(
            (row["b"] or {}).get("memory_bytes", 0) - (row["a"] or {}).get("memory_bytes", 0)
        )

    totals = data["totals"]
    memory = totals["param_bytes"]["difference"] + totals["activation_bytes"]["difference"]
    assert sum(change(row) for row in data["rows"]) == memory != 0
    # c2 by hand: 145·64 params and 4x4x64 outputs for 3 samples, against 145·32 and 4x4x32
    c2 = data["rows"][0]
    assert change(c2) == (145 * 32 + 4 * 4 * 32 * 3) * 4
    # with --train, a row's memory is its part of the training step (as --sort memory counts
    # it), which sums to the training memory at any depth, folded or not
    for depth in ("all", "0"):
        args = ["zoo:resnet18", "zoo:resnet34", "--train", "--depth", depth]
        data = run_json(*args)
        assert (
            sum(change(row) for row in data["rows"])
            == (data["totals"]["training_memory"]["difference"])
        )
    a = analyze(read_model_source(nets[0]))
    found = diff(a, analyze(read_model_source(nets[1])))
    drop = next(row for row in found.rows if row.name == "drop")
    assert drop.a is not None and drop.a.memory_bytes == row_memory(a.layers[3], a.settings)
    table = " ".join(run(*nets, "--depth", "all").stdout.split())  # the legend, unwrapped
    assert "memory: the row's parameters, buffers and output" in table
    trained = " ".join(run(*nets, "--train").stdout.split())
    assert "memory: the row's part of the training step" in trained


def test_rows_matched_by_name_in_python(tmp_path: Path) -> None:
    a = analyze(read_model_source(write(tmp_path, "a.yaml", NET_A)))
    b = analyze(read_model_source(write(tmp_path, "b.yaml", NET_B)))
    found = diff(a, b)
    assert [row.status for row in found.rows] == [
        RowStatus.CHANGED,
        RowStatus.ONLY_B,
        RowStatus.CHANGED,
        RowStatus.ONLY_A,
        RowStatus.CHANGED,
    ]
    assert sum(row.change("params") for row in found.rows) == (b.totals.params - a.totals.params)
    reverse = diff(b, a)
    assert [row.name for row in reverse.rows if row.status is RowStatus.ONLY_A] == ["act"]


# --- every format parses -------------------------------------------------------------------------

README_DIFF = README[README.index("## Comparing: `convcalc diff`") :]
README_DIFF = README_DIFF[: README_DIFF.index("\n## ", 5)]


def documented(key: str) -> bool:
    return f"`{key}`" in README_DIFF or f'"{key}"' in README_DIFF


def test_json_keys_are_documented(tmp_path: Path) -> None:
    data = run_json(write(tmp_path, "a.yaml", NET_A), write(tmp_path, "b.yaml", NET_B), "--train")
    keys = set(data) | set(data["a"]) | set(data["totals"])
    keys |= {key for figure in data["totals"].values() for key in figure}
    keys |= {key for row in data["rows"] for key in row}
    keys |= {key for row in data["rows"] for side in ("a", "b") if row[side] for key in row[side]}
    missing = sorted(key for key in keys if not documented(key))
    assert missing == []
    assert {row["status"] for row in data["rows"]} == {"changed", "only_a", "only_b"}


def test_csv_parses_and_documents_its_header(tmp_path: Path) -> None:
    result = run(write(tmp_path, "a.yaml", NET_A), write(tmp_path, "b.yaml", NET_B), "-f", "csv")
    assert result.exit_code == 0, result.output
    lines = list(csv.reader(io.StringIO(result.stdout)))
    header = lines[0]
    assert all(documented(column) for column in header)
    assert all(len(line) <= len(header) for line in lines)
    found = {(line[0], line[1], line[2]): line for line in lines[1:]}
    head_params = found[("row", "head", "params")]
    assert head_params[3:7] == ["changed", "5130", "10250", "5120"]
    assert found[("row", "act", "type")][3:6] == ["only_b", "", "relu"]
    # a row on one side only has its differences, 0 included (a dropout has no parameters)
    assert found[("row", "drop", "params")][3:7] == ["only_a", "0", "", "0"]
    assert found[("row", "act", "params")][3:7] == ["only_b", "", "0", "0"]
    assert found[("row", "drop", "macs")][6] == "0"
    assert found[("total", "", "params")][3] == "differs"


def test_markdown_tables_have_even_rows(tmp_path: Path) -> None:
    result = run(
        write(tmp_path, "a.yaml", NET_A), write(tmp_path, "b.yaml", NET_B), "-f", "markdown"
    )
    assert result.exit_code == 0, result.output
    tables: list[list[str]] = []
    for line in result.stdout.splitlines():
        if line.startswith("|"):
            tables[-1].append(line) if tables and tables[-1] else tables.append([line])
        elif tables and tables[-1]:
            tables.append([])
    tables = [table for table in tables if table]
    assert len(tables) == 3  # settings, totals, rows
    for table in tables:
        counts = {len(re.split(r"(?<!\\)\|", line)) for line in table}
        assert len(counts) == 1, table
    assert "| - | drop |" in result.stdout and "| + | act |" in result.stdout
    assert "| ~ | head | dense | 10 | 5,130 → 10,250 |" in result.stdout


@pytest.mark.parametrize(
    "args", [["zoo:resnet18", "zoo:resnet34"], ["zoo:resnet50", "--vs-input", "320x320"]]
)
def test_table_fits_80_columns(args: list[str]) -> None:
    result = run(*args)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "Totals" in result.stdout and "B − A" in result.stdout


def test_the_table_folds_until_the_rows_that_differ_fit() -> None:
    # ResNet-50's rows: a stem of 4 (conv, batchnorm, relu, pool); 16 bottlenecks of 10 (three
    # conv+batchnorm, two relus between them, the add, the relu after it), 4 of them with a
    # shortcut conv+batchnorm; the head of 3 (pool, flatten, dense): 4 + 160 + 8 + 3 = 175.
    # At 320 every row before the head changes, 172: too many for a table
    everything = run_json("zoo:resnet50", "--vs-input", "320x320")
    assert everything["a_rows"] == everything["b_rows"] == 175
    assert everything["depth"] is None and len(everything["rows"]) == 172
    result = run("zoo:resnet50", "--vs-input", "320x320")
    assert "blocks are folded below depth" in result.stdout
    marked = [line for line in result.stdout.splitlines() if line.startswith("~  ")]
    assert 0 < len(marked) <= 60


def test_names_are_shown_as_data(tmp_path: Path) -> None:
    text = NET_A.replace("name: head", 'name: "he\\x1b[31m|ad"')
    other = write(tmp_path, "b.yaml", NET_A.replace("units: 10", "units: 20"))
    odd = write(tmp_path, "a.yaml", text)
    for fmt in TEXT_FORMATS:
        result = run(odd, other, "-f", fmt)
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.stdout
    markdown = run(odd, other, "-f", "markdown").stdout
    assert "he\\x1b[31m\\|ad" in markdown


# --- errors ------------------------------------------------------------------------------------


def test_nothing_to_compare_with() -> None:
    assert fails("zoo:resnet18") == (
        "Error: diff needs something to compare A with: a second model (convcalc diff A B), "
        "or another setting for A (--vs-input, --vs-framework, --vs-layout, --vs-batch, "
        "--vs-dtype), e.g. convcalc diff zoo:resnet50 --vs-input 320x320"
    )


def test_standard_input_is_read_once() -> None:
    assert fails("-", "-", stdin="input: [4]\nlayers: [dense: 2]\n") == (
        "Error: standard input can be read only once: give at most one of A and B as -"
    )


@pytest.mark.parametrize("fmt", [fmt.value for fmt in OutputFormat if fmt.draws])
def test_drawing_formats_are_refused(fmt: str) -> None:
    assert fails("zoo:resnet18", "zoo:resnet34", "-f", fmt) == (
        f"Error: --format {fmt} draws a network's layers, and a comparison of two reports has "
        "none to draw; use table, json, markdown or csv"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--vs-input", "320x320x3"],
            "Error: --vs-input '320x320x3' has its 3 channels at the wrong end: zoo:resnet18 "
            "reads shapes as C H W (layout chw), so it would have 320 channels; write "
            "3x320x320, or the spatial size alone (320x320)",
        ),
        (
            ["--vs-input", "224,320"],
            "Error: --vs-input '224,320' gives several inputs, and diff compares one with "
            "another: give one shape, written with x (224x224), and B's with --vs-input",
        ),
        (
            ["--vs-batch", "0"],
            "Error: --vs-batch '0' is not valid: must be a positive integer; give one batch "
            "size (B's with --vs-batch)",
        ),
        (
            ["--vs-dtype", "float16", "--batch", "1,8"],
            "Error: --batch '1,8' is not valid: diff compares one batch with another; give one "
            "batch size (B's with --vs-batch)",
        ),
        (
            ["--vs-batch", "2", "--explain"],
            "Error: diff shows no working: see each model's with convcalc model A --explain",
        ),
        (
            ["--vs-batch", "2", "--fit", "1GiB"],
            "Error: --fit finds one model's batch, and diff compares two at the batch given "
            "(--batch, --vs-batch): run convcalc model A --fit MEMORY on each",
        ),
    ],
)
def test_refused_settings(args: list[str], message: str) -> None:
    assert fails("zoo:resnet18", *args) == message


@pytest.mark.parametrize(
    ("args", "given"),
    [
        (["--percent"], "--percent"),
        (["--sort", "memory"], "--sort"),
        (["--top", "3"], "--top"),
        (["--group-by", "type"], "--group-by"),
        (["--sort", "macs", "--top", "3"], "--sort and --top"),
    ],
)
def test_the_hotspot_options_are_refused(args: list[str], given: str) -> None:
    assert fails("zoo:resnet18", "zoo:resnet34", *args) == (
        f"Error: {given} cannot be used with diff, which lists the rows that differ in "
        f"execution order; run convcalc model on each model for them, or leave out {given}"
    )


def test_color_by_is_refused() -> None:
    for fmt in ("table", "svg"):
        assert fails("zoo:resnet18", "--vs-batch", "2", "--color-by", "params", "-f", fmt) == (
            "Error: --color-by shades a diagram's boxes, and diff draws none; leave out --color-by"
        )


def test_an_error_in_one_side_says_which() -> None:
    # keras.applications' ResNet50 takes at least 32x32
    line = fails("zoo:keras_resnet50", "--vs-input", "16x16")
    assert line.startswith("Error: B (zoo:keras_resnet50): the input 16x16x3 is smaller")


def test_a_missing_b_is_named() -> None:
    assert fails("zoo:resnet18", "no_such_model.yaml").startswith(
        "Error: no such file: no_such_model.yaml"
    )
