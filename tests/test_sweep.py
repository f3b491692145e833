"""Sweeps: --input 224,320,512 and --batch 1,8,32 give one row of totals per setting.

Figures by hand: a 3x3 conv of 32 filters on 28x28x1 gives 26x26x32 = 21,632 elements, 86,528
bytes in float32 per sample; (9 + 1) * 32 = 320 parameters; 26*26*32*9 = 194,688 MACs.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from convcalc._cli import app


def run(*args: str) -> tuple[int, str, str]:
    outcome = CliRunner().invoke(app, list(args))
    return outcome.exit_code, outcome.stdout, outcome.stderr


def sweep(*args: str) -> list[dict[str, Any]]:
    code, out, err = run(*args, "--format", "json")
    assert code == 0, err
    rows = json.loads(out)["sweep"]
    assert isinstance(rows, list)
    return rows


def test_a_batch_sweep_scales_the_activations() -> None:
    rows = sweep("conv", "28", "28", "1", "--filters", "32", "--kernel", "3", "--batch", "1,8,32")
    assert [row["batch"] for row in rows] == [1, 8, 32]
    assert [row["totals"]["activation_bytes"] for row in rows] == [86_528 * b for b in (1, 8, 32)]
    assert {row["totals"]["params"] for row in rows} == {320}
    assert {row["totals"]["macs"] for row in rows} == {194_688}


def test_an_input_sweep_on_a_model() -> None:
    # three sizes of a square image, the channels kept
    rows = sweep("model", "zoo:mnist_cnn", "--input", "28,32,36")
    assert [row["input_shape"] for row in rows] == [[28, 28, 1], [32, 32, 1], [36, 36, 1]]
    assert rows[0]["totals"]["params"] == 225_034  # the Keras tutorials' published count
    assert rows[0]["totals"]["params"] < rows[1]["totals"]["params"]  # its dense grows


def test_both_sweeps_together_give_every_pair() -> None:
    rows = sweep("model", "zoo:lenet5", "--input", "32x32,64x64", "--batch", "1,4")
    pairs = [(row["input_shape"][1], row["batch"]) for row in rows]
    assert pairs == [(32, 1), (32, 4), (64, 1), (64, 4)]


def test_a_shape_written_with_commas_is_one_shape() -> None:
    code, out, err = run("model", "zoo:resnet18", "--input", "3,160,160", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["input_shape"] == [3, 160, 160]


def test_two_sizes_that_also_read_as_one_shape_are_refused() -> None:
    code, out, err = run("model", "zoo:resnet18", "--input", "224,320")
    assert code == 2 and out == ""
    assert "reads two ways" in err and "224x224,320x320" in err


@pytest.mark.parametrize("batch", ["0", "1,x", "-2", "1,,2"])
def test_a_bad_batch_list_is_refused(batch: str) -> None:
    code, out, err = run(
        "conv", "28", "28", "1", "--filters", "4", "--kernel", "3", "--batch", batch
    )
    assert code == 2 and out == "" and err.startswith("Error: ")


def test_the_sweep_table_fits_80_columns() -> None:
    code, out, _ = run("model", "zoo:resnet50", "--input", "224,320,512", "--batch", "1,32")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 2 + 6 and max(len(line) for line in lines) <= 80


def test_a_sweep_of_too_many_runs_is_refused() -> None:
    batches = ",".join(str(b) for b in range(1, 1_002))
    code, out, err = run(
        "conv", "28", "28", "1", "--filters", "4", "--kernel", "3", "--batch", batches
    )
    assert code == 2 and out == "" and "convcalc runs at most 1,000" in err


def test_an_input_sweep_on_a_single_layer() -> None:
    # a 3x3 conv of 32 filters: 26x26x32 from 28x28, 30x30x32 from 32x32 (the channel kept);
    # MACs 26*26*32*9 = 194,688 and 30*30*32*9 = 259,200
    rows = sweep("conv", "28", "28", "1", "--filters", "32", "--kernel", "3", "--input", "28,32,64")
    assert [row["input_shape"] for row in rows] == [[28, 28, 1], [32, 32, 1], [64, 64, 1]]
    assert [row["totals"]["macs"] for row in rows[:2]] == [194_688, 259_200]
