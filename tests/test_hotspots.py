"""Hotspots: ``--percent``, ``--sort``, ``--top`` and ``--group-by``.

The figures are worked out here by hand: ResNet-50's convolutions from the bottleneck's
formula (torchvision's layout: 1x1 reduce, 3x3 with the stage's stride, 1x1 expand, a 1x1
downsample in each stage's first block), the MNIST chain's from its layers. The shares are
checked against those, the sums against the totals, the orders against the figures' own.
"""

from __future__ import annotations

import csv
import io
import json
import math
import pickle
import subprocess
import sys
from collections.abc import Iterable
from typing import Any

import pytest
from typer.testing import CliRunner

from convcalc import _hotspots as hotspots_module
from convcalc import analyze
from convcalc._cli import _load_model, app
from convcalc._hotspots import hotspots, row_memory, share_text
from convcalc._report import LayerRow, Report, fold
from convcalc._settings import GroupBy, SortBy, View

RUNNER = CliRunner()

MNIST = "chain 28 28 1 conv:32,3 maxpool:2 conv:64,3 maxpool:2 flatten dense:128 dense:10".split()
# By hand (see tests/test_cli.py): conv 32·(9+1) = 320 -> 26x26x32; pool -> 13x13x32; conv
# 64·(9·32+1) = 18,496 -> 11x11x64; pool -> 5x5x64; flatten 1,600; dense 1,600·128+128 =
# 204,928; dense 128·10+10 = 1,290.
MNIST_PARAMS = [320, 0, 18_496, 0, 0, 204_928, 1_290]
MNIST_MACS = [26 * 26 * 32 * 9, 0, 11 * 11 * 64 * 32 * 9, 0, 0, 1_600 * 128, 128 * 10]
MNIST_OUTPUTS = [26 * 26 * 32, 13 * 13 * 32, 11 * 11 * 64, 5 * 5 * 64, 1_600, 128, 10]


def run(*args: str) -> str:
    result = RUNNER.invoke(app, list(args))
    assert result.exit_code == 0, result.stderr
    return result.stdout


def as_json(*args: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(run(*args, "--format", "json"))
    return data


def error(*args: str) -> str:
    result = RUNNER.invoke(app, list(args))
    assert result.exit_code == 2, result.stdout
    assert result.stdout == ""  # never partial output
    assert result.stderr.startswith("Error: ")
    return result.stderr


# -- ResNet-50 by hand ---------------------------------------------------------------------------


class Conv:
    def __init__(self, kernel: int, c_in: int, c_out: int, positions: int) -> None:
        self.kernel, self.params = kernel, kernel * kernel * c_in * c_out  # no bias
        self.macs = positions * c_out * c_in * kernel * kernel


def resnet50_convs() -> list[Conv]:
    convs = [Conv(7, 3, 64, 112 * 112)]
    channels, size = 64, 56  # after the stem's stride 2 and the max pool's
    for blocks, width, stride in ((3, 64, 1), (4, 128, 2), (6, 256, 2), (3, 512, 2)):
        out = size // stride
        for block in range(blocks):
            first = block == 0
            convs.append(Conv(1, channels, width, (size if first else out) ** 2))  # reduce
            convs.append(Conv(3, width, width, out**2))  # stride on the 3x3
            convs.append(Conv(1, width, 4 * width, out**2))  # expand
            if first:
                convs.append(Conv(1, channels, 4 * width, out**2))  # downsample
            channels = 4 * width
        size = out
    return convs


CONVS = resnet50_convs()
# Batchnorm (PyTorch: weight and bias, 2·C): the stem's 64, each block's w, w, 4w, and each
# stage's downsample its 4w.
BATCHNORM = 2 * (
    64
    + sum(n * (w + w + 4 * w) for n, w in ((3, 64), (4, 128), (6, 256), (3, 512)))
    + (256 + 512 + 1024 + 2048)
)
DENSE_PARAMS, DENSE_MACS = 2048 * 1000 + 1000, 2048 * 1000
RESNET50_MACS = sum(c.macs for c in CONVS) + DENSE_MACS
ONE_BY_ONE_MACS = sum(c.macs for c in CONVS if c.kernel == 1)
# The 3x3 convs are H·W·w·w·9 = 56·56·64·64·9 = 115,605,504 each (each stage halves H and W
# and doubles w), sixteen of them; with the stem's 118,013,952 and the classifier's 2,048,000
# that leaves the 1x1 convs 4,089,184,256 − 1,849,688,064 − 118,013,952 − 2,048,000 =
# 2,119,434,240 MACs: 51.8% of ResNet-50.


def test_resnet50_by_hand_matches_the_published_counts() -> None:
    # The hand count itself first: 53 convs, torchvision's 25,557,032 parameters.
    assert len(CONVS) == 53 and BATCHNORM == 53_120
    assert sum(c.params for c in CONVS) + BATCHNORM + DENSE_PARAMS == 25_557_032
    assert RESNET50_MACS == 4_089_184_256  # torchvision: 4.09 GFLOPS (multiply-adds)


def test_resnet50_one_by_one_share() -> None:
    """How much of ResNet-50 is 1x1 convs: from --percent, the rows whose weights are
    C_in x C_out (bias-free, ungrouped: a 1x1 kernel) against the bottleneck formula."""
    data = as_json("model", "zoo:resnet50", "--percent", "--depth", "all")
    assert data["totals"]["macs"] == RESNET50_MACS
    ones = [
        row
        for row in data["layers"]
        if row["type"] == "conv2d"
        and row["params"] == row["input_shape"][0] * row["output_shape"][0]
    ]
    assert len(ones) == sum(1 for c in CONVS if c.kernel == 1) == 36
    assert sorted(row["macs"] for row in ones) == sorted(c.macs for c in CONVS if c.kernel == 1)
    assert ONE_BY_ONE_MACS == 2_119_434_240
    share = 100 * ONE_BY_ONE_MACS / RESNET50_MACS
    assert sum(row["macs_percent"] for row in ones) == pytest.approx(share, abs=36 * 5e-5)


def test_resnet50_grouped_by_type() -> None:
    data = as_json("model", "zoo:resnet50", "--group-by", "type", "--percent")
    groups = {row["type"]: row for row in data["layers"]}
    assert list(groups) == [  # in the order each type first appears
        "conv2d",
        "batchnorm",
        "relu",
        "maxpool2d",
        "add",
        "adaptive_avgpool2d",
        "flatten",
        "dense",
    ]
    conv = groups["conv2d"]
    assert conv["count"] == 53 and groups["batchnorm"]["count"] == 53
    assert groups["add"]["count"] == 16 and groups["relu"]["count"] == 1 + 16 * 3
    assert conv["params"] == sum(c.params for c in CONVS)
    assert conv["macs"] == sum(c.macs for c in CONVS)
    assert groups["batchnorm"]["params"] == BATCHNORM
    assert (groups["dense"]["params"], groups["dense"]["macs"]) == (DENSE_PARAMS, DENSE_MACS)
    conv_share = 100 * sum(c.macs for c in CONVS) / RESNET50_MACS
    assert conv["macs_percent"] == round(conv_share, 4)
    assert groups["dense"]["params_percent"] == round(100 * DENSE_PARAMS / 25_557_032, 4)
    assert "index" not in conv and "output_shape" not in conv  # a group is no layer
    assert data["view"] == {"percent": True, "sort": None, "top": None, "group_by": "type"}
    assert "175 rows grouped by type into 8" in data["notes"][0]


def test_top_and_sort_by_macs_resnet50() -> None:
    # The stem (112·112·64·3·49 = 118,013,952) is the largest row; every 3x3 conv has
    # H·W·w·w·9 = 56·56·64·64·9 = 115,605,504 (each stage halves H and W, doubles w): sixteen
    # of them, which tie and so keep their order; then 56·56·128·256 = 102,760,448 (layer2's
    # first 1x1, at the stage's input size).
    data = as_json("model", "zoo:resnet50", "--top", "18", "--sort", "macs")
    macs = [row["macs"] for row in data["layers"]]
    assert macs == [118_013_952] + [115_605_504] * 16 + [102_760_448]
    indices = [row["index"] for row in data["layers"][1:17]]
    assert indices == sorted(indices)
    assert all(row["name"].endswith("residual.conv2d_1") for row in data["layers"][1:17])
    held = 100 * sum(macs) / RESNET50_MACS
    assert f"hold {held:.1f}% of the MACs" in data["notes"][-1]
    # --top alone ranks by MACs, and ranks layers, not the blocks a long table folds into
    assert as_json("model", "zoo:resnet50", "--top", "18")["layers"] == data["layers"]


def test_sort_by_params_resnet50() -> None:
    # layer4's three 3x3 convs, 512·512·9 = 2,359,296; its downsample 1024·2048 = 2,097,152;
    # the classifier 2048·1000 + 1000 = 2,049,000.
    data = as_json("model", "zoo:resnet50", "--sort", "params", "--top", "5")
    params = [row["params"] for row in data["layers"]]
    assert params == [2_359_296] * 3 + [2_097_152, 2_049_000]
    assert data["layers"][-1]["type"] == "dense"


def test_sort_by_memory_by_hand() -> None:
    # Memory of a row: (parameters + output elements) x 4 bytes. The two 1,600-element rows
    # (the second pool, flatten) tie and keep their order.
    memory = [4 * (p + o) for p, o in zip(MNIST_PARAMS, MNIST_OUTPUTS, strict=True)]
    assert memory == [87_808, 21_632, 104_960, 6_400, 6_400, 820_224, 5_200]
    data = as_json(*MNIST, "--sort", "memory")
    assert [row["index"] for row in data["layers"]] == [6, 3, 1, 2, 4, 5, 7]
    assert [row["memory_bytes"] for row in data["layers"]] == sorted(memory, reverse=True)
    assert "(a row's memory: its parameters and buffers and its output)" in data["notes"][0]
    rows = list(csv.DictReader(io.StringIO(run(*MNIST, "--sort", "memory", "-f", "csv"))))
    assert [int(row["memory_bytes"]) for row in rows] == sorted(memory, reverse=True)
    table = run(*MNIST, "--sort", "memory")
    assert "Memory" in table and "801.00 KiB" in table  # 820,224 bytes


def test_top_by_memory_states_the_share_of_the_memory() -> None:
    # The MNIST rows' memory (test_sort_by_memory_by_hand) sums to 1,052,624 bytes, the
    # parameter and activation memory; the top two, the dense 820,224 and the second conv
    # 104,960, hold 925,184 of it: 87.9%; their MACs 204,800 + 2,230,272 of 2,631,040 (by
    # MNIST_MACS): 92.6%; their parameters 204,928 + 18,496 of 225,034: 99.3%
    memory = [87_808, 21_632, 104_960, 6_400, 6_400, 820_224, 5_200]
    data = as_json(*MNIST, "--sort", "memory", "--top", "2")
    totals = data["totals"]
    assert sum(memory) == totals["param_bytes"] + totals["activation_bytes"] == 1_052_624
    assert sum(MNIST_MACS) == 2_631_040 and sum(MNIST_PARAMS) == 225_034
    assert data["notes"][-1] == (
        "the top 2 of 7 rows by memory hold 87.9% of the memory, 92.6% of the MACs and 99.3% "
        "of the parameters"
    )
    # with --train, of the training memory (the rows' training memory sums to it)
    report = analyze(_load_model("zoo:mnist_cnn"))
    model_memory = report.totals.param_bytes + report.totals.activation_bytes
    top = hotspots(report, View(sort=SortBy.MEMORY, top=1))
    share = 100 * row_memory(top.layers[0], report.settings) / model_memory
    assert f"hold {share_text(share)}% of the memory, " in top.notes[-1]


def test_memory_sums_to_the_totals() -> None:
    # Over every layer, the rows' memory is the totals' parameter and activation memory; with
    # --train, the training step's memory (and the saved activations sum too).
    data = as_json("model", "zoo:resnet18", "--sort", "memory", "--depth", "all", "--batch", "2")
    totals = data["totals"]
    assert sum(r["memory_bytes"] for r in data["layers"]) == (
        totals["param_bytes"] + totals["activation_bytes"]
    )
    for optimizer in ("sgd", "adam"):
        args = ["model", "zoo:resnet18", "--train", "--optimizer", optimizer, "--amp"]
        data = as_json(*args, "--group-by", "type", "--sort", "memory")
        training = data["totals"]["training"]
        assert sum(r["memory_bytes"] for r in data["layers"]) == training["total"]
        assert sum(r["saved_bytes"] for r in data["layers"]) == training["saved_activations"]


@pytest.mark.parametrize(
    "source", ["zoo:resnet50", "zoo:googlenet", "zoo:mobilenet_v2", "zoo:keras_resnet50"]
)
def test_group_sums_equal_the_totals(source: str) -> None:
    data = as_json("model", source, "--group-by", "type", "--percent")
    totals = data["totals"]
    for key in ("params", "trainable_params", "non_trainable_params", "macs"):
        assert sum(row[key] for row in data["layers"]) == totals[key], key
    every = as_json("model", source, "--depth", "all")
    assert sum(row["count"] for row in data["layers"]) == len(every["layers"])
    for key in ("params_percent", "macs_percent"):
        assert sum(row[key] for row in data["layers"]) == pytest.approx(100, abs=1e-3)


@pytest.mark.parametrize("source", ["zoo:resnet50", "zoo:keras_mobilenet_v2"])
@pytest.mark.parametrize("depth", [None, "0", "all"])
def test_percentages_sum_to_100(source: str, depth: str | None) -> None:
    args = ["model", source, "--percent", *(["--depth", depth] if depth else [])]
    data = as_json(*args)
    rows = data["layers"]
    rounding = len(rows) * 5e-5  # each share is rounded to four decimals
    for key, whole in (("params_percent", "params"), ("macs_percent", "macs")):
        assert sum(row[key] for row in rows) == pytest.approx(100, abs=rounding)
        for row in rows:
            assert row[key] == round(100 * row[whole] / data["totals"][whole], 4)
    csv_rows = list(csv.DictReader(io.StringIO(run(*args, "-f", "csv"))))
    assert sum(float(row["macs_percent"]) for row in csv_rows) == pytest.approx(100, abs=rounding)


# -- every format ---------------------------------------------------------------------------------

MNIST_TOTAL_PARAMS, MNIST_TOTAL_MACS = sum(MNIST_PARAMS), sum(MNIST_MACS)


def test_mnist_shares_in_every_format() -> None:
    assert (MNIST_TOTAL_PARAMS, MNIST_TOTAL_MACS) == (225_034, 2_631_040)
    params_shares = [100 * p / MNIST_TOTAL_PARAMS for p in MNIST_PARAMS]
    macs_shares = [100 * m / MNIST_TOTAL_MACS for m in MNIST_MACS]
    data = as_json(*MNIST, "--percent")
    assert [row["params_percent"] for row in data["layers"]] == [
        round(share, 4) for share in params_shares
    ]
    assert [row["macs_percent"] for row in data["layers"]] == [
        round(share, 4) for share in macs_shares
    ]
    plain = as_json(*MNIST)
    assert all("params_percent" not in row for row in plain["layers"])  # only when asked
    assert "view" not in plain

    rows = list(csv.DictReader(io.StringIO(run(*MNIST, "--percent", "-f", "csv"))))
    assert list(rows[0])[-2:] == ["params_percent", "macs_percent"]  # the others keep place
    assert [float(row["params_percent"]) for row in rows] == [round(s, 4) for s in params_shares]
    assert "params_percent" not in run(*MNIST, "-f", "csv")

    # Table and Markdown: one decimal; 320 / 225,034 = 0.14%, 204,928 / 225,034 = 91.07%,
    # 2,230,272 / 2,631,040 = 84.77%, 1,280 / 2,631,040 = 0.05% (shown <0.1, not 0).
    table = run(*MNIST, "--percent")
    header = next(line for line in table.splitlines() if line.lstrip().startswith("#"))
    assert header.split()[-5:] == ["Params", "%", "MACs", "%", "RF"]
    conv2 = next(line for line in table.splitlines() if line.lstrip().startswith("3 "))
    assert conv2.split()[-5:-1] == ["18,496", "8.2", "2,230,272", "84.8"]
    dense = next(line for line in table.splitlines() if line.lstrip().startswith("6 "))
    assert dense.split()[-5:-1] == ["204,928", "91.1", "204,800", "7.8"]
    last = next(line for line in table.splitlines() if line.lstrip().startswith("7 "))
    assert last.split()[-5:-1] == ["1,290", "0.6", "1,280", "<0.1"]
    markdown = run(*MNIST, "--percent", "-f", "markdown")
    assert "| # | Layer | Output shape | Params | Params % | MACs | MACs % | RF |" in markdown
    assert "| 3 | conv2d_1 | (None, 11, 11, 64) | 18,496 | 8.2 | 2,230,272 | 84.8 | 8x8/2 |" in (
        markdown
    )


def test_grouped_in_every_format() -> None:
    # conv2d: 320 + 18,496 params; maxpool2d: 2 rows, nothing; dense 204,928 + 1,290.
    table = run(*MNIST, "--group-by", "type", "--percent")
    lines = table.splitlines()
    assert lines[2].split() == ["Count", "Type", "Params", "%", "MACs", "%"]
    assert lines[4].split() == ["2", "conv2d", "18,816", "8.4", "2,424,960", "92.2"]
    assert lines[5].split() == ["2", "maxpool2d", "0", "0", "0", "0"]
    markdown = run(*MNIST, "--group-by", "type", "-f", "markdown")
    assert "| Count | Type | Params | MACs |" in markdown
    assert "| 2 | dense | 206,218 | 206,080 |" in markdown
    rows = list(csv.DictReader(io.StringIO(run(*MNIST, "--group-by", "type", "-f", "csv"))))
    assert [(r["type"], r["count"], r["params"]) for r in rows] == [
        ("conv2d", "2", "18816"),
        ("maxpool2d", "2", "0"),
        ("flatten", "1", "0"),
        ("dense", "2", "206218"),
    ]


@pytest.mark.parametrize(
    "options",
    [
        ["--percent"],
        ["--percent", "--sort", "memory"],
        ["--percent", "--sort", "memory", "--top", "12"],
        ["--group-by", "type", "--percent", "--sort", "memory"],
    ],
    ids=" ".join,
)
@pytest.mark.parametrize("source", ["zoo:resnet50", "zoo:efficientnet_b0", "zoo:densenet121"])
def test_the_table_fits_80_columns(
    source: str, options: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    table = run("model", source, *options)
    assert max(len(line) for line in table.splitlines()) <= 80
    header = next(line for line in table.splitlines() if "Params" in line)  # not stacked
    assert header.split().count("%") == (2 if "--percent" in options else 0)
    assert ("Memory" in header) == ("memory" in options)


def test_one_layer_is_all_of_it() -> None:
    data = as_json("conv", "28", "28", "1", "--filters", "32", "--kernel", "3", "--percent")
    assert (data["layers"][0]["params_percent"], data["layers"][0]["macs_percent"]) == (100, 100)
    grouped = as_json("dense", "64", "--units", "10", "--group-by", "type", "--top", "3")
    assert [(row["type"], row["count"], row["params"]) for row in grouped["layers"]] == [
        ("dense", 1, 650)
    ]
    # A pool has no parameters and no MACs: no share of nothing.
    data = as_json("pool", "28", "28", "1", "--percent")
    assert (data["layers"][0]["params_percent"], data["layers"][0]["macs_percent"]) == (None, None)
    assert run("pool", "28", "28", "1", "--percent").splitlines()[4].split()[-5:-1] == [
        "0",
        "-",
        "0",
        "-",
    ]


# -- folding, then ranking ------------------------------------------------------------------------


def test_rows_are_folded_first() -> None:
    data = as_json("model", "zoo:resnet50", "--depth", "1", "--sort", "macs")
    assert all(row["depth"] <= 1 for row in data["layers"])
    macs = [row["macs"] for row in data["layers"]]
    assert macs == sorted(macs, reverse=True) and len(macs) == 23
    assert sum(macs) == RESNET50_MACS
    grouped = as_json("model", "zoo:resnet50", "--depth", "1", "--group-by", "type")
    blocks = next(row for row in grouped["layers"] if row["type"] == "bottleneck")
    assert blocks["count"] == 3 + 4 + 6 + 3


def test_a_long_ranking_folds_as_the_table_does() -> None:
    # --sort alone keeps every row, so the long table folds by default (rows not indented);
    # --top 5 and --group-by are short, so they rank every layer.
    table = run("model", "zoo:resnet50", "--sort", "macs")
    assert "blocks folded below depth" in table
    assert "\n  5 layer1.bottleneck.residual " in table  # not indented: ranked, not a tree
    assert "layer2.bottleneck.residual " in table
    assert "residual.conv2d_1" in run("model", "zoo:resnet50", "--top", "5")


# -- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [*MNIST, "--percent", "--batch", "1,8"],
            "Error: --percent cannot be used with a sweep, which shows one row of totals per "
            "setting; give one input size and one batch, or leave out --percent",
        ),
        (
            [*MNIST, "--sort", "macs", "--top", "3", "-f", "svg"],
            "Error: --sort and --top cannot be used with --format svg, which draws the network's "
            "rows in order with their edges; use --format table, json, markdown or csv, or "
            "leave out --sort and --top",
        ),
        ([*MNIST, "--group-by", "type", "-f", "dot"], "Error: --group-by cannot be used with"),
        ([*MNIST, "--group-by", "type", "--explain"], "Error: --group-by sums layers per type"),
        ([*MNIST, "--top", "0"], "Error: Invalid value for '--top': 0 is not in the range"),
        ([*MNIST, "--sort", "flops"], "Error: Invalid value for '--sort': 'flops' is not one"),
    ],
)
def test_errors(args: list[str], message: str) -> None:
    assert error(*args).startswith(message)


def test_percent_is_drawn_by_the_text_diagrams() -> None:
    assert "% of MACs" in run(*MNIST, "--percent", "-f", "mermaid")


# -- the engine -----------------------------------------------------------------------------------


def test_python_api_sees_what_was_done() -> None:
    report = analyze(_load_model("zoo:mnist_cnn"))
    shown = hotspots(report, View(percent=True, top=2))
    assert shown.settings.view == View(percent=True, sort=SortBy.MACS, top=2)
    assert shown.totals == report.totals  # a share is of the whole model
    assert shown.notes[-2:] == (
        "rows sorted by MACs, largest first",
        f"the top 2 of {len(report.layers)} rows by MACs hold "
        f"{share_text(100 * sum(r.macs for r in shown.layers) / report.totals.macs)}% of the "
        f"MACs and {share_text(100 * sum(r.params for r in shown.layers) / report.totals.params)}"
        "% of the parameters",
    )
    grouped = hotspots(report, View(group_by=GroupBy.TYPE))
    assert grouped.to_dict()["totals"] == report.to_dict()["totals"]
    assert sum(row.number for row in grouped.layers) == len(report.layers)
    memory = sum(row_memory(row, report.settings) for row in report.layers)
    assert sum(row_memory(row, report.settings) for row in grouped.layers) == memory


@pytest.mark.parametrize(
    ("share", "text"),
    [(None, "-"), (0.0, "0"), (0.04, "<0.1"), (0.05, "0.1"), (12.345, "12.3"), (99.97, "99.9")],
)
def test_share_text(share: float | None, text: str) -> None:
    assert share_text(share) == text
    assert share_text(100.0) == "100.0"


def synthetic(count: int) -> Iterable[LayerRow]:
    for number in range(1, count + 1):
        yield LayerRow(
            number=number,
            name=f"r{number}",
            type="dense",
            input_shape=(1,),
            output_shape=(1,),
            trainable_params=(number * 7919) % 13,  # many ties
            non_trainable_params=0,
            macs=(number * 104_729) % 17,
            receptive_field=None,
        )


@pytest.mark.parametrize("top", [None, 3, 40, 250])
def test_a_long_sort_merges_runs_from_a_file(
    top: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Runs of 16 rows, blocks of 5: the merge must give exactly the stable sort.
    monkeypatch.setattr(hotspots_module, "RUN", 16)
    monkeypatch.setattr(hotspots_module, "BLOCK", 5)
    rows = list(synthetic(203))
    dumps = []
    real_dump = pickle.dump
    monkeypatch.setattr(
        pickle,  # imported where a sort spills: the module itself
        "dump",
        lambda block, *a, **k: dumps.append(len(block)) or real_dump(block, *a, **k),
    )
    found = hotspots_module._largest(iter(rows), lambda row: row.params, top)
    expected = sorted(rows, key=lambda row: row.params, reverse=True)[:top]
    assert list(found) == expected
    if top is None or top > 16:
        assert dumps and max(dumps) <= 5  # written out, a block at a time
    else:
        assert not dumps  # a short top holds only its rows


def test_grouping_a_spilled_report_holds_one_sum_per_group() -> None:
    report = analyze(_load_model("zoo:mnist_cnn"))
    many = report._replace(layers=tuple(synthetic(1_000)))
    grouped = hotspots(many, View(group_by=GroupBy.TYPE, percent=True))
    assert len(grouped.layers) == 1 and grouped.layers[0].number == 1_000
    assert grouped.layers[0].params == sum(row.params for row in synthetic(1_000))
    assert math.prod(grouped.layers[0].output_shape) == 1_000


def test_folding_keeps_the_sums_hotspots_rely_on() -> None:
    report = analyze(_load_model("zoo:resnet50"))
    for depth in (0, 1, 2):
        folded: Report = fold(report, depth)
        assert sum(row.params for row in folded.layers) == report.totals.params
        assert sum(row.macs for row in folded.layers) == report.totals.macs


# -- house rules ----------------------------------------------------------------------------------


def test_the_default_table_does_not_load_hotspots() -> None:
    code = (
        "import sys\n"
        "from convcalc import analyze\n"
        "from convcalc._render._table import render_table\n"
        "render_table(analyze({'input': [4], 'layers': [{'dense': 2}]}))\n"
        "assert 'convcalc._hotspots' not in sys.modules, 'loaded for the default view'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_table_column_is_a_key_the_cells_handle() -> None:
    from convcalc._render import _table

    # --percent and --sort memory, with a frozen parameter: every column at once
    report = analyze({"input": [4], "layers": [{"dense": 2}, {"batchnorm": {}}]})
    shown = hotspots(report, View(percent=True, sort=SortBy.MEMORY))
    layout = _table._choose(shown, _table._measure(shown), None)
    assert [column.key for column in layout.columns] == list(_table._Key)
    cells = _table._figures(shown.layers[0], layout, shown)
    assert len(cells) == len(layout.columns)
