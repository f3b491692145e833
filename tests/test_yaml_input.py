"""Reading model files: the safe loader's refusals and the YAML features that must keep working."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convcalc._cli import app

runner = CliRunner()


def run_model(tmp_path: Path, text: str, *options: str) -> tuple[int, str, str]:
    path = tmp_path / "net.yaml"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["model", str(path), *options])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("text", "first", "again", "key"),
    [
        ("input: [28, 28, 1]\nlayers: [flatten]\ninput: [3]\n", 1, 3, "input"),
        (
            "input: [8, 8, 1]\nlayers:\n  - conv2d: {filters: 2, kernel: 3, filters: 4}\n",
            3,
            3,
            "filters",
        ),
    ],
    ids=["top-level", "parameter"],
)
def test_a_key_given_twice_is_refused(
    tmp_path: Path, text: str, first: int, again: int, key: str
) -> None:
    # PyYAML alone keeps the last value silently; a dropped 'layers' list would go unnoticed.
    code, out, err = run_model(tmp_path, text)
    assert code == 2
    assert out == ""
    assert err.startswith(f"Error: {tmp_path / 'net.yaml'}, line {again}, column ")
    assert f"the key '{key}' is given twice (first on line {first}); keep one" in err


def test_merge_keys_still_work(tmp_path: Path) -> None:
    # conv 1x1, 2 -> 3 channels: (1*1*2 + 1) * 3 = 9; the merged copy with 5 filters on 3
    # channels: (1*1*3 + 1) * 5 = 20.
    text = (
        "input: [4, 4, 2]\nlayers:\n  - conv2d: &c {filters: 3, kernel: 1}\n"
        "  - conv2d:\n      <<: *c\n      filters: 5\n"
    )
    code, out, _ = run_model(tmp_path, text, "--format", "json")
    assert code == 0
    layers = json.loads(out)["layers"]
    assert [layer["params"] for layer in layers] == [9, 20]
    assert layers[1]["output_shape"] == [4, 4, 5]


def test_an_unclosed_flow_mapping_points_at_where_it_opened(tmp_path: Path) -> None:
    text = "input: [28, 28, 1]\nlayers:\n  - conv2d: {filters: 32, kernel: 3\n  - flatten\n"
    code, _, err = run_model(tmp_path, text)
    assert code == 2
    assert "(while parsing a flow mapping that starts on line 3, column 13)" in err


def test_an_empty_input_is_called_empty(tmp_path: Path) -> None:
    code, _, err = run_model(tmp_path, "input: []\nlayers: [flatten]\n")
    assert code == 2
    assert err == "Error: input is empty: give the shape without batch, e.g. [28, 28, 1]\n"


def test_a_self_referring_alias_is_refused(tmp_path: Path) -> None:
    code, out, err = run_model(tmp_path, "input: [4]\nlayers: &l [flatten, *l]\n")
    assert code == 2
    assert out == ""
    assert err.startswith("Error: ")
    assert "Traceback" not in err


def test_yaml_1_1_spellings_reach_the_layer_as_written(tmp_path: Path) -> None:
    # YAML 1.1 made 0x3 the number 3 and off the boolean false; here the layer reads them:
    # padding 0x3 is 0 rows on H and 3 columns on W per side, bias off is no bias.
    # 8x8x1, kernel 3: H = 8 + 0 - 2 = 6, W = 8 + 2*3 - 2 = 12; params 3*3*1*2 = 18.
    text = (
        "input: [8, 8, 1]\nlayers:\n  - conv2d: {filters: 2, kernel: 3, padding: 0x3, bias: off}\n"
    )
    code, out, err = run_model(tmp_path, text, "--format", "json")
    assert (code, err) == (0, "")
    layer = json.loads(out)["layers"][0]
    assert (layer["output_shape"], layer["params"]) == ([6, 12, 2], 18)


@pytest.mark.parametrize(
    "layer",
    [
        "conv2d: [2, (1, 3)]",
        "conv2d: {filters: 2, kernel: (1, 3)}",
        "{type: conv2d, filters: 2, kernel: (1, 3)}",
    ],
    ids=["positional", "mapping", "type-key"],
)
def test_a_tuple_in_a_flow_collection_is_one_value(tmp_path: Path, layer: str) -> None:
    # YAML splits (1, 3) at its comma; joined back, it is kernel 1x3 on 8x8x1:
    # H = 8 - 0 = 8, W = 8 - 2 = 6; params (1*3*1 + 1) * 2 = 8.
    code, out, err = run_model(tmp_path, f"input: [8, 8, 1]\nlayers:\n  - {layer}\n", "-f", "json")
    assert (code, err) == (0, "")
    result = json.loads(out)["layers"][0]
    assert (result["output_shape"], result["params"]) == ([8, 6, 2], 8)


def test_an_unclosed_tuple_is_refused_where_it_opens(tmp_path: Path) -> None:
    # "  - conv2d: [2, " is 16 characters: the '(' is at column 17 of line 3
    code, out, err = run_model(tmp_path, "input: [8, 8, 1]\nlayers:\n  - conv2d: [2, (1, 3]\n")
    assert (code, out) == (2, "")
    assert err == (
        f"Error: {tmp_path / 'net.yaml'}, line 3, column 17: unbalanced parentheses in '(1, 3': "
        "write a per-axis value as (3, 3), [3, 3] or 3x3; quote it if it is meant as text\n"
    )


def test_a_number_too_large_is_refused_at_read_time(tmp_path: Path) -> None:
    # "  - dense: " is 11 characters: the number starts at column 12 of line 3
    code, out, err = run_model(tmp_path, "input: [4]\nlayers:\n  - dense: " + "9" * 31 + "\n")
    assert (code, out) == (2, "")
    assert err == (
        f"Error: {tmp_path / 'net.yaml'}, line 3, column 12: '{'9' * 31}': a number with 31 "
        "digits is far larger than any size in a network (limit 30 digits); quote it if it is "
        "a name\n"
    )


def test_a_file_of_comments_names_the_file(tmp_path: Path) -> None:
    code, out, err = run_model(tmp_path, "# input: [28, 28, 1]\n# layers: [flatten]\n")
    assert (code, out) == (2, "")
    assert err == (
        f"Error: {tmp_path / 'net.yaml'} holds no model, only comments: a model is a mapping "
        "with at least 'input' and 'layers'; `convcalc zoo show mnist_cnn` prints an example\n"
    )
