"""CONTRACT section 7 (the cases from the source material) and the JSON example of section 6.

Every expected number is worked out by hand from the frameworks' formulas and was checked
against Keras 3 and PyTorch 2; none is copied from convcalc's output.
"""

from __future__ import annotations

from typing import Any

import pytest

from convcalc import analyze


def conv(filters: int, kernel: int, **extra: object) -> dict[str, object]:
    return {"conv2d": {"filters": filters, "kernel": kernel, **extra}}


# (id, input, layer, batch, expected output shape without batch, expected params)
SECTION_7 = [
    ("5x5x1-conv1-k3", [5, 5, 1], conv(1, 3), None, [3, 3, 1], 10),
    ("28x28x1-conv32-k3", [28, 28, 1], conv(32, 3), None, [26, 26, 32], 320),
    ("28x28x1-conv1-k3-s2", [28, 28, 1], conv(1, 3, stride=2), None, [13, 13, 1], 10),
    ("28x28x1-conv1-k5", [28, 28, 1], conv(1, 5), None, [24, 24, 1], 26),
    ("13x13x32-conv64-k3", [13, 13, 32], conv(64, 3), None, [11, 11, 64], 18_496),
    ("26x26x32-maxpool2", [26, 26, 32], {"maxpool2d": 2}, None, [13, 13, 32], 0),
    ("11x11x64-maxpool2", [11, 11, 64], {"maxpool2d": 2}, None, [5, 5, 64], 0),
    ("784-dense128", [784], {"dense": 128}, None, [128], 100_480),
    ("784-dense676", [784], {"dense": 676}, None, [676], 530_660),
    ("5x5x3-conv2-k3", [5, 5, 3], conv(2, 3), None, [3, 3, 2], 56),
    (
        "8x16x3-b10-conv5-k3-s2-valid",
        [8, 16, 3],
        conv(5, 3, stride=2, padding="valid"),
        10,
        [3, 7, 5],
        140,
    ),
    (
        "8x16x3-b10-conv5-k3-s2-same",
        [8, 16, 3],
        conv(5, 3, stride=2, padding="same"),
        10,
        [4, 8, 5],
        140,
    ),
    ("8x8x1-conv1-k3", [8, 8, 1], conv(1, 3), None, [6, 6, 1], 10),
    ("8x1-conv1d1-k3", [8, 1], {"conv1d": {"filters": 1, "kernel": 3}}, None, [6, 1], 4),
]


@pytest.mark.parametrize(
    ("inp", "layer", "batch", "output", "params"),
    [pytest.param(*case[1:], id=case[0]) for case in SECTION_7],
)
def test_section_7_case(
    inp: list[int], layer: dict[str, object], batch: int | None, output: list[int], params: int
) -> None:
    spec: dict[str, object] = {"input": inp, "layers": [layer]}
    if batch is not None:
        spec["batch"] = batch
    result = analyze(spec).to_dict()
    assert result["batch"] == batch
    assert result["input_shape"] == inp
    assert result["output_shape"] == output
    (row,) = result["layers"]
    assert row["output_shape"] == output
    assert row["params"] == params
    assert row["trainable_params"] == params
    assert row["non_trainable_params"] == 0
    assert result["totals"]["params"] == params


def test_section_7_batch_scales_activation_memory_not_shapes() -> None:
    """The batch-10 rows: (10, 3, 7, 5) is 10 * 105 elements of 4 bytes."""
    spec = {"input": [8, 16, 3], "batch": 10, "layers": [conv(5, 3, stride=2)]}
    result = analyze(spec).to_dict()
    assert result["output_shape"] == [3, 7, 5]
    assert result["totals"]["activation_bytes"] == 10 * 3 * 7 * 5 * 4
    assert result["totals"]["param_bytes"] == 140 * 4


SECTION_6_JSON: dict[str, Any] = {
    "name": None,
    "framework": "keras",
    "layout": "hwc",
    "batch": None,
    "dtype": "float32",
    "input_shape": [28, 28, 1],
    "output_shape": [26, 26, 32],
    "layers": [
        {
            "index": 1,
            "name": "conv2d",
            "type": "conv2d",
            "input_shape": [28, 28, 1],
            "output_shape": [26, 26, 32],
            "params": 320,
            "trainable_params": 320,
            "non_trainable_params": 0,
            "macs": 194688,
            "receptive_field": {"size": [3, 3], "jump": [1, 1], "start": [1.5, 1.5]},
        }
    ],
    "totals": {
        "params": 320,
        "trainable_params": 320,
        "non_trainable_params": 0,
        "macs": 194688,
        "flops": 389376,
        "param_bytes": 1280,
        "activation_bytes": 86528,
    },
}
"""The example of CONTRACT section 6, verbatim."""

SECTION_6_SPEC = {"input": [28, 28, 1], "layers": [{"conv2d": {"filters": 32, "kernel": 3}}]}


def test_section_6_example_worked_by_hand() -> None:
    """The example's numbers follow from the contract's definitions (guards against typos)."""
    macs = 26 * 26 * 32 * 1 * 3 * 3
    assert SECTION_6_JSON["totals"] == {
        "params": (3 * 3 * 1 + 1) * 32,
        "trainable_params": (3 * 3 * 1 + 1) * 32,
        "non_trainable_params": 0,
        "macs": macs,
        "flops": 2 * macs,
        "param_bytes": 320 * 4,
        "activation_bytes": 26 * 26 * 32 * 4,
    }


@pytest.mark.parametrize("key", [key for key in SECTION_6_JSON if key not in ("layers", "totals")])
def test_section_6_top_level_key(key: str) -> None:
    assert analyze(SECTION_6_SPEC).to_dict()[key] == SECTION_6_JSON[key]


@pytest.mark.parametrize("key", list(SECTION_6_JSON["layers"][0]))
def test_section_6_layer_key(key: str) -> None:
    (row,) = analyze(SECTION_6_SPEC).to_dict()["layers"]
    assert row[key] == SECTION_6_JSON["layers"][0][key]


@pytest.mark.parametrize("key", list(SECTION_6_JSON["totals"]))
def test_section_6_totals_key(key: str) -> None:
    totals = analyze(SECTION_6_SPEC).to_dict()["totals"]
    assert totals[key] == SECTION_6_JSON["totals"][key]


def test_section_6_no_key_renamed_or_removed() -> None:
    """Keys may be added, never renamed or removed."""
    result = analyze(SECTION_6_SPEC).to_dict()
    assert set(SECTION_6_JSON) <= set(result)
    assert set(SECTION_6_JSON["layers"][0]) <= set(result["layers"][0])
    assert set(SECTION_6_JSON["totals"]) <= set(result["totals"])
    assert len(result["layers"]) == 1


def test_section_6_json_types() -> None:
    """Shapes are lists of ints; the receptive field's start is a float, its size an int."""
    result = analyze(SECTION_6_SPEC).to_dict()
    (row,) = result["layers"]
    field = row["receptive_field"]
    assert all(type(v) is int for v in row["output_shape"] + field["size"] + field["jump"])
    assert all(isinstance(v, float) for v in field["start"])
    assert all(type(v) is int for v in result["totals"].values())
