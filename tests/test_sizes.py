"""convcalc sizes: the input sizes a model accepts, against brute force.

A size is listed if and only if analysing the model at that input succeeds (the definition);
the UNet figures are the original paper's (572 -> 388; valid inputs 188 + 16k).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from convcalc import ConvCalcError, analyze
from convcalc._cli import app
from convcalc._input._yaml import read_model_source
from convcalc._input._zoo import load_zoo
from convcalc._model import Walker, read_model
from convcalc._sizes import accepted_sizes, describe

DATA = Path(__file__).parent / "data" / "architectures"


def brute_force(spec: dict[str, Any], position: int, low: int, high: int) -> list[int]:
    found = []
    for size in range(low, high + 1):
        shape = list(spec["input"])
        shape[position] = size
        try:
            analyze({**spec, "input": shape})
        except ConvCalcError:
            continue
        found.append(size)
    return found


def check_exact(spec: dict[str, Any], low: int, high: int) -> None:
    for axis in accepted_sizes(read_model(spec), low, high):
        assert list(axis.valid) == brute_force(spec, axis.position, low, high), axis.axis


# One model of each kind of structure (a chain, residual and dense blocks, branches, depthwise
# and grouped convs, squeeze-and-excitation, channel shuffle, tokens and window attention, Keras'
# padding and preprocessing): every zoo model through this would take minutes, and the
# families repeat the same layers.
SIZES_SAMPLE = [
    "mnist_cnn",
    "lenet5",
    "alexnet",
    "resnet50",
    "googlenet",
    "densenet121",
    "efficientnet_b0",
    "shufflenet_v2_x1_0",
            "keras_mobilenet_v2",
    "keras_inception_resnet_v2",
    "keras_nasnet_mobile",
    "keras_efficientnet_v2_b0",
]


@pytest.mark.parametrize("name", SIZES_SAMPLE)
def test_every_zoo_model_agrees_with_brute_force(name: str) -> None:
    # over the sizes where the zoo's models start to accept their input (1 to 72)
    check_exact(load_zoo(name), 1, 72)


def test_a_unet_accepts_the_sizes_pytorch_accepts() -> None:
    # The PyTorch UNet of tests/crosscheck/record_architectures.py (valid convs, 2x2 pools,
    # centre-cropped skips), run on the meta device in PyTorch 2.13 at every height from 100 to
    # 700 (width 572): it accepts exactly every height from 188. (The paper asks for 188 + 16k,
    # where every pool meets an even size; a centre crop takes the others too.)
    spec = read_model_source(str(DATA / "unet_valid.yaml"))
    assert isinstance(spec, dict)
    axes = accepted_sizes(read_model(spec), 100, 700)
    assert axes[0].valid == tuple(range(188, 701))
    assert axes[0].summary == "every size from 188"
    assert dict(axes[0].outputs)[572] == (2, 388, 388)
    check_exact(spec, 180, 200)


def test_the_same_padded_unet_accepts_multiples_of_16() -> None:
    spec = read_model_source(str(DATA / "unet_same.yaml"))
    assert isinstance(spec, dict)
    check_exact(spec, 1, 70)
    axes = accepted_sizes(read_model(spec), 1, 100)
    assert axes[0].summary == "every multiple of 16 from 16"


def random_chain(rng: random.Random) -> dict[str, Any]:
    layers: list[object] = []
    for _ in range(rng.randint(1, 6)):
        kind = rng.choice(["conv", "pool", "pad", "up", "res"])
        if kind == "conv":
            layers.append(
                {
                    "conv2d": {
                        "filters": 4,
                        "kernel": rng.randint(1, 5),
                        "strides": rng.randint(1, 3),
                        "padding": rng.choice(["valid", "same"]),
                    }
                }
            )
        elif kind == "pool":
            layers.append({"maxpool2d": {"pool_size": rng.randint(2, 3)}})
        elif kind == "pad":
            layers.append({"zeropadding2d": rng.randint(1, 2)})
        elif kind == "up":
            layers.append({"upsampling2d": 2})
        else:
            layers.append(
                {"residual": [{"conv2d": {"filters": 4, "kernel": 3}}, {"zeropadding2d": 1}]}
            )
    return {"input": [16, 16, 4], "layers": layers}


@pytest.mark.parametrize("seed", range(12))
def test_random_chains_agree_with_brute_force(seed: int) -> None:
    check_exact(random_chain(random.Random(seed)), 1, 60)


def test_replaying_and_walking_again_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = load_zoo("resnet18")
    fast = accepted_sizes(read_model(spec), 1, 80)
    monkeypatch.setattr(Walker, "reads_sizes", lambda self: True)
    slow = accepted_sizes(read_model(spec), 1, 80)
    assert fast == slow


@pytest.mark.parametrize(
    ("valid", "summary"),
    [
        ((), "none from 1 to 100"),
        ((7,), "only 7"),
        (tuple(range(1, 101)), "every size"),
        (tuple(range(29, 101)), "every size from 29"),
        (tuple(range(32, 101, 32)), "every multiple of 32 from 32"),
        (tuple(range(19, 101, 8)), "every 8th size from 19 (19 + 8k)"),
        ((3, 5, 6, 8, 9, 11, 12), "from 3, the sizes that leave 0, 2 when divided by 3"),
        ((1, 2, 50, 60), "1-2, 50, 60"),
    ],
)
def test_summaries(valid: tuple[int, ...], summary: str) -> None:
    high = 100 if valid != (3, 5, 6, 8, 9, 11, 12) else 12
    assert describe(valid, 1, high) == summary


def test_the_command(tmp_path: Path) -> None:
    outcome = CliRunner().invoke(app, ["sizes", "zoo:lenet5", "--range", "10-40", "-f", "json"])
    assert outcome.exit_code == 0, outcome.stderr
    document = json.loads(outcome.stdout)
    # LeNet-5: conv 5 (-4), pool 2, conv 5 (-4), pool 2: the smallest is 16 (16-4=12, 6, 2, 1)
    assert [axis["min"] for axis in document["axes"]] == [16, 16]
    assert document["axes"][0]["valid"] == list(range(16, 41))
    bad = CliRunner().invoke(app, ["sizes", "zoo:lenet5", "--range", "9-1"])
    assert bad.exit_code == 2 and bad.stderr.startswith("Error: ")


def test_a_range_too_wide_for_the_model_is_refused() -> None:
    outcome = CliRunner().invoke(app, ["sizes", "zoo:resnet18", "--range", "1-100000"])
    assert outcome.exit_code == 2 and outcome.stdout == ""
    assert "is too wide for this model" in outcome.stderr and "try --range 1-" in outcome.stderr
