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
