"""Regressions from the review: block and construct keys, PyTorch's AvgPool3d, absurd input."""

from __future__ import annotations

import pytest

from convcalc import ConvCalcError, analyze

BLOCKS = {"b": {"params": {"f": 8}, "layers": [{"conv2d": {"filters": "$f", "kernel": 3}}]}}


@pytest.mark.parametrize(
    "use",
    [
        {"type": "b", "f": 8, "name": "first", "trainable": False},  # form 4
        {"b": {"f": 8, "name": "first", "trainable": False}},  # form 2
        {"b": {"f": 8}, "name": "first", "trainable": False},  # beside the type
    ],
    ids=["type-key", "inside", "beside"],
)
def test_a_block_use_keeps_its_name_and_trainable(use: dict[str, object]) -> None:
    # conv 3x3, 3 -> 8 channels: (3*3*3 + 1) * 8 = 224 parameters, all frozen.
    row = analyze({"input": [8, 8, 3], "blocks": BLOCKS, "layers": [use]}).to_dict()["layers"][0]
    assert row["name"] == "first.conv2d"
    assert (row["params"], row["trainable_params"], row["non_trainable_params"]) == (224, 0, 224)


def test_a_construct_in_the_type_key_form_takes_a_name() -> None:
    rows = analyze(
        {"input": [4], "layers": [{"type": "residual", "layers": ["relu"], "name": "r1"}]}
    ).to_dict()["layers"]
    assert [row["name"] for row in rows] == ["r1.relu", "r1.add"]


def test_a_block_parameter_cannot_be_called_name() -> None:
    blocks = {"b": {"params": {"name": 3}, "layers": ["relu"]}}
    with pytest.raises(ConvCalcError, match="a parameter cannot be called 'name'"):
        analyze({"input": [4], "blocks": blocks, "layers": ["b"]})


@pytest.mark.parametrize(
    ("spatial", "refused"),
    [((3, 2, 8), True), ((4, 4, 8), False)],
)
def test_pytorch_avgpool3d_refuses_an_input_smaller_than_its_window(
    spatial: tuple[int, int, int], refused: bool
) -> None:
    # torch 2.13: AvgPool3d(4, stride=2, padding=2) on T=3 raises "input image ... smaller than
    # kernel size"; on 4x4x8 it gives floor((4+4-4)/2)+1 = 3, 3 and floor((8+4-4)/2)+1 = 5.
    spec = {
        "input": [2, *spatial],
        "framework": "pytorch",
        "layers": [{"avgpool3d": {"size": 4, "stride": 2, "padding": 2}}],
    }
    if refused:
        with pytest.raises(ConvCalcError, match="AvgPool3d refuses"):
            analyze(spec)
    else:
        assert analyze(spec).to_dict()["output_shape"] == [2, 3, 3, 5]


def test_maxpool3d_takes_that_input() -> None:
    # MaxPool3d has no such check: floor((3+4-4)/2)+1 = 2, floor((2+4-4)/2)+1 = 2, 5.
    spec = {
        "input": [2, 3, 2, 8],
        "framework": "pytorch",
        "layers": [{"maxpool3d": {"size": 4, "stride": 2, "padding": 2}}],
    }
    assert analyze(spec).to_dict()["output_shape"] == [2, 2, 2, 5]


def _chained_blocks(count: int) -> dict[str, object]:
    blocks: dict[str, object] = {f"b{i}": {"layers": [f"b{i + 1}"]} for i in range(count)}
    blocks[f"b{count}"] = {"layers": ["relu"]}
    return {"input": [4], "blocks": blocks, "layers": ["b0"]}


def _nested_residuals(count: int) -> dict[str, object]:
    layers: list[object] = ["relu"]
    for _ in range(count):
        layers = [{"residual": {"layers": layers}}]
    return {"input": [4], "layers": layers}


def _expression(text: str) -> dict[str, object]:
    body = [{"conv2d": {"filters": text, "kernel": 1}}]
    return {
        "input": [4, 4, 2],
        "blocks": {"b": {"params": {"f": 2}, "layers": body}},
        "layers": ["b"],
    }


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        (_chained_blocks(400), "nested more than 64 deep"),
        (_nested_residuals(600), "too deeply"),
        (_expression("(" * 3000 + "$f" + ")" * 3000), "nests too deeply"),
        (_expression("-" * 5000 + "$f"), "nests too deeply"),
        ({"input": [4], "layers": [{"dense": "9" * 5000}]}, "far too large"),
        ({"input": [4], "layers": [{"dense": 10**40}]}, "far too large"),
        ({"input": [4], "layers": [{"relu": {"max_value": [1]}}]}, "must be a number"),
    ],
    ids=[
        "chained-blocks",
        "nested-residuals",
        "parentheses",
        "minus-signs",
        "digits",
        "huge-int",
        "list-as-number",
    ],
)
def test_absurd_input_is_a_convcalc_error(spec: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConvCalcError, match=fragment):
        analyze(spec)


def _cli(*args: str) -> tuple[int, str, str]:
    from typer.testing import CliRunner

    from convcalc._cli import app

    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


LAYOUT_NOTE = "pytorch reads the shape as C H W, its default layout, so this input has 32 channels"


def test_pytorch_default_layout_on_a_channels_last_shape_gets_a_note() -> None:
    code, out, err = _cli(
        "conv",
        "32",
        "32",
        "3",
        "--filters",
        "8",
        "--kernel",
        "3",
        "--framework",
        "pytorch",
        "--format",
        "json",
    )
    assert code == 0
    assert '"output_shape": [8, 30, 1]' in out  # 32 channels, H 32 -> 30, W 3 -> 1
    assert err == f"Note: {LAYOUT_NOTE}; for H W C add --layout hwc.\n"


def test_the_note_joins_the_error_when_the_shape_fails() -> None:
    code, out, err = _cli(
        "conv", "32", "32", "1", "--filters", "8", "--kernel", "3", "--framework", "pytorch"
    )
    assert code == 2
    assert out == ""
    assert err.startswith("Error: layer 1 (conv2d): kernel 3 is larger than its input on W (1)")
    assert LAYOUT_NOTE in err


@pytest.mark.parametrize(
    "args",
    [
        ("3", "32", "32", "--framework", "pytorch"),  # already C H W
        ("32", "32", "3", "--framework", "pytorch", "--layout", "chw"),  # said so
        ("32", "32", "3"),  # keras reads H W C
    ],
)
def test_no_note_when_the_layout_is_clear(args: tuple[str, ...]) -> None:
    code, _, err = _cli("conv", *args, "--filters", "8", "--kernel", "1", "--format", "json")
    assert code == 0
    assert err == ""
