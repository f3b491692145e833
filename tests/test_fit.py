"""--fit MEMORY: the largest batch whose memory fits.

By hand, the chain input [4] -> dense 8 -> dense 2: (4+1)*8 + (8+1)*2 = 58 parameters, 232
bytes in float32. Inference: while the first dense runs its input (4) and output (8) are alive,
12 elements, 48 bytes a sample (then 8 + 2 = 10). Training with Adam: weights 232, gradients
232, two moments 464 = 928 bytes, and each Linear keeps its input for its weight's gradient:
4 + 8 = 12 elements, 48 bytes a sample.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from convcalc import ConvCalcError
from convcalc._cli import app
from convcalc._fit import fit, parse_budget, peak_live
from convcalc._model import read_model

CHAIN = {"input": [4], "framework": "pytorch", "layers": [{"dense": 8}, {"dense": 2}]}


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("24GiB", 24 * 2**30),
        ("24GB", 24 * 10**9),
        ("8000MiB", 8000 * 2**20),
        ("512 kb", 512_000),
        ("1.5GiB", 3 * 2**29),
        ("1000", 1000),
    ],
)
def test_budgets(text: str, size: int) -> None:
    assert parse_budget(text) == size


@pytest.mark.parametrize("text", ["", "24GiBs", "-1GB", "0", "1e9", "GiB"])
def test_bad_budgets(text: str) -> None:
    with pytest.raises(ConvCalcError, match="--fit"):
        parse_budget(text)


def test_live_activations() -> None:
    assert peak_live(read_model(CHAIN)) == 12
    # a residual keeps its input alive until the add: input, dense output, sum = 4 + 4 + 4
    spec = {"input": [4], "layers": [{"residual": [{"dense": 4}]}]}
    assert peak_live(read_model(spec)) == 12


def test_inference_fit() -> None:
    # 232 + 48 * batch <= 1000: batch 16, exactly 1000 bytes
    found = fit(read_model(CHAIN), 1000)
    assert (found.batch, found.total) == (16, 1000)
    assert fit(read_model(CHAIN), 231).batch == 0


def test_training_fit_on_the_command_line() -> None:
    # 928 + 48 * batch <= 1100: batch 3 (1,072 bytes)
    outcome = CliRunner().invoke(
        app,
        [
            "chain",
            "4",
            "dense:8",
            "dense:2",
            "--framework",
            "pytorch",
            "--train",
            "--fit",
            "1100",
            "--format",
            "json",
        ],
    )
    assert outcome.exit_code == 0, outcome.stderr
    document = json.loads(outcome.stdout)
    assert document["fit"] == {"budget": 1100, "batch": 3, "total": 1072}
    assert document["batch"] == 3
