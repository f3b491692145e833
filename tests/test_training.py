"""--train: training memory (weights, gradients, optimizer state, saved activations) and
training MACs. Figures are worked by hand, or recorded from PyTorch 2.13 (CPU) by
``tests/crosscheck/crosscheck_training.py``, never from convcalc's own output."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from convcalc._input._zoo import load_zoo
from convcalc._model import read_model, run
from convcalc._report import Training
from convcalc._settings import Optimizer


def training(spec: dict[str, Any], optimizer: Optimizer = Optimizer.ADAM, amp: bool = False):
    model = read_model(spec)
    model = model._replace(settings=model.settings._replace(train=optimizer, amp=amp))
    return run(model)


def totals(report: Any) -> Training:
    assert report.totals.training is not None
    return report.totals.training


SMALL = {
    "input": [3, 8, 8],
    "framework": "pytorch",
    "batch": 2,
    "layers": [
        {"conv2d": {"filters": 4, "kernel": 3, "padding": 1}},
        "relu",
        {"maxpool2d": 2},
        "flatten",
        {"dense": 10},
    ],
}


def test_a_small_chain_worked_by_hand() -> None:
    report = training(SMALL)
    # conv keeps the image: 3*8*8 * batch 2 * 4 bytes; relu its output 4*8*8*2*4; the pool
    # its input (the relu's output, already kept) and int64 indices 4*4*4*2*8; flatten is a
    # view; dense keeps its input, the pool's output seen through flatten, 64*2*4.
    assert [row.saved_bytes for row in report.layers] == [1536, 2048, 1024, 0, 512]
    params = 4 * 27 + 4 + 640 + 10  # 762
    # forward 6912 + 640; backward: conv weights only (the image needs no gradient) 6912,
    # dense input and weights 640 + 640
    assert totals(report) == Training(
        weights=params * 4,
        buffers=0,
        gradients=params * 4,
        optimizer_state=2 * params * 4,
        saved_activations=5120,
        macs=6912 + 640 + 6912 + 640 + 640,
    )
    assert totals(report).total == 3048 * 4 + 5120


@pytest.mark.parametrize(
    ("optimizer", "state"),
    [(Optimizer.SGD, 0), (Optimizer.MOMENTUM, 762 * 4), (Optimizer.ADAMW, 2 * 762 * 4)],
)
def test_optimizer_state(optimizer: Optimizer, state: int) -> None:
    assert totals(training(SMALL, optimizer)).optimizer_state == state


def test_amp_keeps_float32_weights_and_float16_activations() -> None:
    found = totals(training({**SMALL, "dtype": "float16"}, amp=True))
    assert (found.weights, found.gradients) == (762 * 4, 762 * 4)
    # the same tensors at 2 bytes; the int64 indices stay 8 bytes
    assert found.saved_activations == 192 * 2 * 2 + 256 * 2 * 2 + 1024 + 64 * 2 * 2


def test_dropout_mask_is_one_byte_an_element() -> None:
    spec = {
        "input": [4],
        "batch": 3,
        "framework": "pytorch",
        "layers": [{"dense": 8}, {"dropout": 0.5}, {"dense": 2}],
    }
    report = training(spec)
    assert [row.saved_bytes for row in report.layers] == [4 * 3 * 4, 8 * 3, 8 * 3 * 4]


def test_batchnorm_keeps_its_input_and_float32_statistics_per_channel() -> None:
    spec = {
        "input": [2, 4, 4],
        "framework": "pytorch",
        "batch": 5,
        "layers": [{"conv2d": {"filters": 2, "kernel": 1}}, "batchnorm"],
    }
    report = training(spec)
    assert [row.saved_bytes for row in report.layers] == [2 * 16 * 5 * 4, 2 * 16 * 5 * 4 + 16]
    assert totals(report).buffers == 2 * 2 * 4


def test_nothing_before_the_first_trainable_layer() -> None:
    spec = {
        "input": [2, 8, 8],
        "framework": "pytorch",
        "layers": [
            {"maxpool2d": 2},
            "relu",
            {"conv2d": {"filters": 2, "kernel": 1}, "trainable": False},
            {"conv2d": {"filters": 3, "kernel": 1}},
            "flatten",
            {"dense": 4, "trainable": False},
        ],
    }
    report = training(spec)
    # pool, relu, frozen conv: no gradient flows yet; the trainable conv keeps its input
    # (2*4*4*4 bytes); the frozen dense does not keep its input.
    assert [row.saved_bytes for row in report.layers] == [0, 0, 0, 128, 0, 0]
    # forward 2*16*2 + 3*16*2 + 4*48; backward: the conv's weights (its input needs no gradient),
    # the frozen dense's input gradient only
    assert totals(report).macs == 64 + 96 + 192 + 96 + 192


def test_a_residual_shares_its_input() -> None:
    spec = {
        "input": [2, 4, 4],
        "framework": "pytorch",
        "layers": [
            {"conv2d": {"filters": 2, "kernel": 1}},
            {
                "residual": {
                    "layers": [{"conv2d": {"filters": 2, "kernel": 1}}],
                    "shortcut": [{"conv2d": {"filters": 2, "kernel": 1}}],
                }
            },
        ],
    }
    # the image 32 elements, the first conv's output 32 once for both paths' convs; add keeps
    # nothing
    assert totals(training(spec)).saved_activations == (32 + 32) * 4


# Recorded from PyTorch 2.13 (CPU, dropout as on a GPU) by crosscheck_training.py: the bytes
# of the unique storages autograd saved, and FlopCounterMode's forward+backward MACs at batch 1
# (for mobilenet_v2 less its count of grouped weight gradients groups times).
TORCH = {
    "alexnet": (3_701_248, 29_609_984, 2_072_288_640),
    "densenet121": (130_695_936, 1_043_225_344, 8_384_471_040),
    "googlenet": (48_226_048, 385_400_704, 4_377_114_624),
    "mobilenet_v2": (78_342_144, 625_782_016, 6_139_850_496 - 5_248_365_696),
    "resnet18": (22_218_240, 177_477_120, 5_324_206_080),
    "resnet50": (86_121_984, 687_488_512, 12_149_538_816),
    "vgg16": (73_330_688, 586_645_504, 46_324_088_832),
}


@pytest.mark.parametrize("name", sorted(TORCH))
def test_zoo_matches_pytorch_autograd(name: str) -> None:
    one, eight, macs = TORCH[name]
    spec = load_zoo(name)
    assert totals(training({**spec, "batch": 1})).saved_activations == one
    found = totals(training({**spec, "batch": 8}))
    assert found.saved_activations == eight
    assert found.macs == macs


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "convcalc", *args], capture_output=True, text=True, check=False
    )


def test_json_keys_only_with_train() -> None:
    args = [
        "chain",
        "3",
        "8",
        "8",
        "Conv2d:3,4,3,1,1",
        "relu",
        "--framework",
        "pytorch",
        "-f",
        "json",
    ]
    plain = json.loads(cli(*args).stdout)
    assert "training" not in plain["totals"]
    assert all("saved_bytes" not in row for row in plain["layers"])
    trained = json.loads(cli(*args, "--train", "--optimizer", "sgd").stdout)
    assert list(trained["totals"]["training"]) == [
        "weights",
        "buffers",
        "gradients",
        "optimizer_state",
        "saved_activations",
        "total",
        "macs",
    ]
    assert [row["saved_bytes"] for row in trained["layers"]] == [192 * 4, 256 * 4]
    assert trained["totals"]["training"]["optimizer_state"] == 0


def test_optimizer_alone_implies_train_and_table_shows_it() -> None:
    out = cli(
        "chain",
        "3",
        "8",
        "8",
        "Conv2d:3,4,3,1,1",
        "--framework",
        "pytorch",
        "--optimizer",
        "momentum",
    ).stdout
    assert "Optimizer state (momentum)" in out and "Saved activations" in out


def test_train_in_a_sweep() -> None:
    # Conv2d(3, 4, 3, 1, 1) on 3x8x8: (3*3*3 + 1) * 4 = 112 parameters, 448 B; with Adam,
    # weights + gradients + two moments = 4 * 448 = 1,792 B; it keeps its input for its
    # weights' gradient, 3*8*8 = 192 elements, 768 B a sample
    result = cli(
        "chain",
        "3",
        "8",
        "8",
        "Conv2d:3,4,3,1,1",
        "--framework",
        "pytorch",
        "--train",
        "--batch",
        "1,8",
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["sweep"]
    assert [row["totals"]["training"]["total"] for row in rows] == [1_792 + 768, 1_792 + 8 * 768]


def test_explain_says_what_each_layer_keeps() -> None:
    # conv on 3x8x8: keeps its input, 192 elements * 4 B = 768 B; relu keeps its output,
    # 4x6x6 = 144 * 4 = 576 B; max pool's input is the relu's output, kept already, and it
    # adds its int64 indices, 4x3x3 = 36 * 8 = 288 B
    from typer.testing import CliRunner

    from convcalc._cli import app

    outcome = CliRunner().invoke(
        app,
        [
            "chain",
            "3",
            "8",
            "8",
            "conv:4,3",
            "relu",
            "maxpool:2",
            "--train",
            "--explain",
            "--framework",
            "pytorch",
        ],
    )
    assert outcome.exit_code == 0, outcome.stderr
    out = outcome.stdout
    assert "saved for the backward: its input (768 B new)" in out
    assert "saved for the backward: its output (576 B new)" in out
    assert "its input, kept already (0 B new) + 288 B of its own" in out
    assert "backward MACs = 3,888 x (0 for the input's gradient + 1 for the weights')" in out


def _saved(layers: list[Any], shape: list[int], batch: int) -> int:
    spec = {"input": shape, "framework": "pytorch", "batch": batch, "layers": layers}
    return totals(training(spec)).saved_activations


@pytest.mark.parametrize(
    ("need_weights", "frozen", "expected"),
    [
        # recorded from PyTorch 2.13 (CPU, dropout 0) with saved_tensors_hooks: Linear(8, 8),
        # then MultiheadAttention(8, 2, batch_first=True)(x, x, x, need_weights=...) on 5 tokens
        (False, None, 1000),
        (False, 0, 840),
        (False, 1, 840),
        (True, None, 1320),
        (True, 0, 1160),
        (True, 1, 1000),
    ],
)
def test_attention_saves_what_pytorch_keeps(
    need_weights: bool, frozen: int | None, expected: int
) -> None:
    layers: list[Any] = [
        {"dense": 8},
        {"multihead_attention": {"num_heads": 2, "need_weights": need_weights}},
    ]
    if frozen is not None:
        layers[frozen] = {**layers[frozen], "trainable": False}
    assert _saved(layers, [5, 8], 1) == expected
    assert _saved(layers, [5, 8], 8) == 8 * expected


def test_drop_path_batch_mode_keeps_one_scale() -> None:
    # recorded from PyTorch 2.13 (CPU): Conv2d(4, 4, 1) then torchvision StochasticDepth(0.3,
    # mode) on (2, 4, 6, 6): the conv's input 1152 B, the noise (2,1,1,1) or (1,1,1,1) float32
    conv = {"conv2d": {"filters": 4, "kernel": 1}}
    assert _saved([conv, {"drop_path": {"rate": 0.3, "mode": "row"}}], [4, 6, 6], 2) == 1160
    assert _saved([conv, {"drop_path": {"rate": 0.3, "mode": "batch"}}], [4, 6, 6], 2) == 1156
    # torchvision's stochastic_depth returns its input when p == 0.0 and keeps no noise (swin_t's
    # first block and maxvit_t's have rate 0): only the conv's input, 2*4*6*6*4 bytes
    assert _saved([conv, {"drop_path": {"rate": 0.0, "mode": "row"}}], [4, 6, 6], 2) == 1152


def test_layernorm2d_keeps_its_input_not_a_copy() -> None:
    # by hand: the conv keeps the image 4*6*6*2*4 = 1152; relu its output 1152; LayerNorm2d's
    # layer norm keeps the permuted view of that same output (no copy) and a float32 mean and
    # deviation a position, 2*36*2*4 = 576; layer scale keeps its input, LayerNorm2d's output
    # (4*6*6*2*4 = 1152) for gamma's gradient
    layers = [{"conv2d": {"filters": 4, "kernel": 1}}, "relu", "layernorm2d", "layer_scale"]
    assert _saved(layers, [4, 6, 6], 2) == 1152 + 1152 + 576 + 1152


def test_dropout2d_keeps_one_value_a_channel() -> None:
    # recorded from PyTorch 2.13 (CPU; feature dropout runs the same on a GPU): Conv2d(4, 4, 1)
    # then Dropout2d(0.3) on (2, 4, 6, 6): the conv's input 1152 B and noise (2, 4, 1, 1) 32 B
    conv = {"conv2d": {"filters": 4, "kernel": 1}}
    assert _saved([conv, {"Dropout2d": 0.3}], [4, 6, 6], 2) == 1184
    # plain dropout: a one-byte mask an element, as on a GPU, 4*6*6*2
    assert _saved([conv, {"Dropout": 0.3}], [4, 6, 6], 2) == 1152 + 288
