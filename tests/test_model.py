"""The model language, from YAML snippets to rows: names, depths, named tensors, merges, blocks
that see their inputs, conditions, split, folding, and every message the grammar gives.

Every expected figure is worked out by hand in the comment beside it from the frameworks'
documented rules (a conv has ``(k*k*C_in + 1) * filters`` weights; Keras' Dense ``(in + 1) *
units``); none is copied from convcalc's output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from convcalc import ConvCalcError, analyze
from convcalc._cli import app
from convcalc._input._yaml import read_model_source
from convcalc._report import fold
from convcalc._settings import Merge

RUNNER = CliRunner()


def model(text: str, tmp_path: Path) -> dict[str, Any]:
    """A model written as YAML, read as the command line reads it."""
    path = tmp_path / "model.yaml"
    path.write_text(text)
    spec = read_model_source(str(path))
    assert isinstance(spec, dict)
    return spec


def rows(spec: dict[str, Any]) -> list[dict[str, Any]]:
    layers = analyze(spec).to_dict()["layers"]
    assert isinstance(layers, list)
    return layers


def error(spec: dict[str, Any]) -> str:
    with pytest.raises(ConvCalcError) as caught:
        analyze(spec)
    return str(caught.value)


def conv(filters: int, kernel: int = 1, **more: object) -> dict[str, Any]:
    return {"conv2d": {"filters": filters, "kernel": kernel, **more}}


# -- names and depths ---------------------------------------------------------------------------
NESTED = """
input: [8, 8, 4]
blocks:
  inner:
    params: {f: 4}
    layers:
      - conv2d: {filters: $f, kernel: 1}
      - relu
  outer:
    layers:
      - inner: 8
      - residual:
          layers: [{inner: 8}]
layers:
  - outer
  - outer: {name: second}
  - flatten
"""


def test_row_names_and_depths(tmp_path: Path) -> None:
    found = [(row["name"], row["depth"]) for row in rows(model(NESTED, tmp_path))]
    assert found == [
        ("outer.inner.conv2d", 2),
        ("outer.inner.relu", 2),
        ("outer.residual.inner.conv2d", 3),
        ("outer.residual.inner.relu", 3),
        ("outer.residual.add", 2),
        ("second.inner.conv2d", 2),
        ("second.inner.relu", 2),
        ("second.residual.inner.conv2d", 3),
        ("second.residual.inner.relu", 3),
        ("second.residual.add", 2),
        ("flatten", 0),
    ]


@pytest.mark.parametrize(
    ("depth", "names"),
    [
        (0, ["outer", "second", "flatten"]),
        (1, ["outer.inner", "outer.residual", "second.inner", "second.residual", "flatten"]),
        (
            2,
            [
                "outer.inner.conv2d",
                "outer.inner.relu",
                "outer.residual.inner",
                "outer.residual.add",
                "second.inner.conv2d",
                "second.inner.relu",
                "second.residual.inner",
                "second.residual.add",
                "flatten",
            ],
        ),
        (3, None),  # as deep as the deepest row: nothing folds
    ],
)
def test_folding_at_every_depth(depth: int, names: list[str] | None, tmp_path: Path) -> None:
    report = analyze(model(NESTED, tmp_path))
    folded = fold(report, depth)
    expected = names if names is not None else [row.name for row in report.layers]
    assert [row.name for row in folded.layers] == expected
    # outer: conv 4->8: (4+1)*8 = 40, then conv 8->8: (8+1)*8 = 72, 112 in all; second, on
    # 8 channels: 72 + 72 = 144; 256 in all
    assert sum(row.params for row in folded.layers) == 256
    assert folded.totals == report.totals
    if depth == 0:
        assert [row.type for row in folded.layers] == ["outer", "outer", "flatten"]
        assert folded.layers[0].params == 112
        assert folded.layers[0].input_shape == (8, 8, 4)
        assert folded.layers[0].output_shape == (8, 8, 8)


@pytest.mark.parametrize("depth", ["0", "1", "2", "all"])
def test_folding_on_the_command_line(depth: str, tmp_path: Path) -> None:
    path = tmp_path / "nested.yaml"
    path.write_text(NESTED)
    outcome = RUNNER.invoke(app, ["model", str(path), "--depth", depth, "--format", "json"])
    assert outcome.exit_code == 0, outcome.stderr
    layers = json.loads(outcome.stdout)["layers"]
    shown = {"0": 3, "1": 5, "2": 9, "all": 11}[depth]
    assert len(layers) == shown
    assert sum(row["params"] for row in layers) == 256


def test_a_long_nested_table_is_folded_with_a_note(tmp_path: Path) -> None:
    # 40 uses of a 2-row block: 80 rows, more than a screen; depth 0 shows 40 rows
    spec = {
        "input": [8, 8, 4],
        "blocks": {"unit": {"layers": [conv(4), "relu"]}},
        "layers": [{"repeat": 40, "layers": ["unit"]}],
    }
    path = tmp_path / "long.yaml"
    path.write_text(json.dumps(spec))
    outcome = RUNNER.invoke(app, ["model", str(path)], env={"COLUMNS": "100"})
    assert outcome.exit_code == 0, outcome.stderr
    assert "80 layers are shown as 40 rows, blocks folded below depth 0" in outcome.stdout
    assert "unit_39" in outcome.stdout and "unit_39.conv2d" not in outcome.stdout


# -- named tensors and merges ---------------------------------------------------------------------
def two_paths(merge: str, *more: str) -> dict[str, Any]:
    """Two 1x1 convs of 8 filters from the input [4, 4, 8], named a and b, then the merge."""
    return {
        "input": [4, 4, 8],
        "layers": [
            conv(8, 3, padding="same", name="a"),
            {"conv2d": {"filters": 8, "kernel": 1, "name": "b"}, "input": "input"},
            {merge: ["a", "b", *more]},
        ],
    }


@pytest.mark.parametrize(
    ("merge", "shape"),
    [
        ("add", [4, 4, 8]),
        ("subtract", [4, 4, 8]),
        ("multiply", [4, 4, 8]),
        ("average", [4, 4, 8]),
        ("maximum", [4, 4, 8]),
        ("minimum", [4, 4, 8]),
        ("concat", [4, 4, 16]),  # channels joined: 8 + 8
    ],
)
def test_every_merge_layer(merge: str, shape: list[int]) -> None:
    found = rows(two_paths(merge))
    assert [row["name"] for row in found] == ["a", "b", merge]
    last = found[-1]
    assert last["type"] == merge and last["output_shape"] == shape
    assert last["input_shapes"] == [[4, 4, 8], [4, 4, 8]]
    assert last["params"] == 0 and last["macs"] == 0
    # b (1x1 conv of the input) takes the input's shape; its weights: (1*1*8 + 1) * 8 = 72
    assert found[1]["input_shape"] == [4, 4, 8] and found[1]["params"] == 72
    # the receptive field of a merge is the largest of its inputs': a's 3x3 over b's 1x1
    assert last["receptive_field"]["size"] == [3, 3]


def test_every_merge_kind_has_a_layer() -> None:
    for merge in Merge:
        assert rows(two_paths(merge.value))[-1]["type"] == merge.value


@pytest.mark.parametrize(
    ("alias", "merge"),
    [("Add", "add"), ("Concatenate", "concat"), ("Subtract", "subtract"), ("Maximum", "maximum")],
)
def test_merge_layers_take_keras_names(alias: str, merge: str) -> None:
    assert rows(two_paths(alias))[-1]["type"] == merge


def test_a_merge_of_mismatched_inputs_names_each_input() -> None:
    spec = {
        "input": [6, 6, 8],
        "layers": [conv(8, 3, name="a"), conv(8, 1, name="b", input="input"), {"add": ["a", "b"]}],
    }
    assert error(spec) == (
        "layer 3 (add): add cannot join its inputs: input 'a' -> [4, 4, 8] from a; input 'b' "
        "-> [6, 6, 8] from b. add needs equal shapes: change the layers (or give the shortcut "
        "a conv) so they match"
    )


def test_a_residual_mismatch_names_each_path() -> None:
    spec = {"input": [6, 6, 8], "layers": [{"residual": [conv(8, 3)]}]}
    assert error(spec) == (
        "layer 2 (residual.add): residual 'residual' cannot add its paths: layers -> "
        "[4, 4, 8] from residual.conv2d; shortcut -> [6, 6, 8] from the model's input. add "
        "needs equal shapes: change the layers (or give the shortcut a conv) so they match"
    )


@pytest.mark.parametrize(
    ("merge", "shapes", "needs"),
    [
        ("concat", "[4, 4, 8] ++ [2, 2, 8]", "concat needs equal sizes on every axis but"),
        ("multiply", "[4, 4, 8] * [2, 2, 8]", "multiply needs shapes that broadcast"),
        ("maximum", "", "maximum needs equal shapes"),
    ],
)
def test_branches_mismatch_messages(merge: str, shapes: str, needs: str) -> None:
    spec = {
        "input": [4, 4, 8],
        "layers": [{"branches": {"merge": merge, "paths": [[], [conv(8, 3)]]}}],
    }
    message = error(spec)
    assert f"branches 'branches' cannot {merge} its paths: path 1 -> [4, 4, 8]" in message
    assert "path 2 -> [2, 2, 8] from branches.conv2d" in message
    assert needs in message


def test_multiply_broadcasts_like_squeeze_and_excitation() -> None:
    # [4, 4, 8] * [1, 1, 8] broadcasts to [4, 4, 8]
    spec = {
        "input": [4, 4, 8],
        "layers": [
            {"global_avgpool2d": {"keepdims": True}, "name": "squeeze"},
            {"multiply": ["input", "squeeze"]},
        ],
    }
    assert rows(spec)[-1]["output_shape"] == [4, 4, 8]


def test_subtract_takes_exactly_two() -> None:
    assert "subtract joins exactly two tensors, got 3" in error(two_paths("subtract", "input"))
    spec = {
        "input": [4],
        "layers": [{"branches": {"merge": "subtract", "paths": [[], [], []]}}],
    }
    assert "subtract takes exactly two paths" in error(spec)


def test_a_merge_needs_two_named_inputs() -> None:
    spec = {"input": [4], "layers": ["relu", "add"]}
    assert "add joins at least two tensors, got 1; name them: add: [a, b]" in error(spec)
    spec = {"input": [4], "layers": [{"add": {"units": 3}}]}
    assert "'add' takes only its inputs, e.g. add: [a, b]" in error(spec)


def test_an_unknown_input_name_suggests_the_closest() -> None:
    spec = {
        "input": [4],
        "layers": [{"dense": {"units": 4, "name": "enc1"}}, {"add": ["enc1", "enc"]}],
    }
    assert error(spec) == (
        "layer 2: input 'enc' names no earlier tensor here (did you mean 'enc1'?); a layer can "
        "take the model's or block's input (input) and any layer or construct named before it "
        "in the same block (name: ... on it). Named so far: 'input', 'enc1'"
    )


def test_a_name_must_come_before_its_use() -> None:
    spec = {"input": [4], "layers": [{"dense": 4, "input": "later"}, {"dense": 4, "name": "later"}]}
    assert "input 'later' names no earlier tensor here" in error(spec)


def test_inputs_must_be_names() -> None:
    spec = {"input": [4], "layers": [{"dense": 4, "inputs": [{"a": 1}]}]}
    assert "inputs [{...}] is not valid: give the names of earlier layers" in error(spec)


def test_inputs_given_twice() -> None:
    spec = {"input": [4], "layers": [{"dense": {"units": 4, "input": "input"}, "inputs": "input"}]}
    assert "inputs is given twice; give it once" in error(spec)
    spec = {"input": [4], "layers": [{"type": "dense", "units": 4, "input": "a", "inputs": "b"}]}
    assert "inputs is given twice; give it once" in error(spec)
    spec = {"input": [4], "layers": [{"dense": 4, "input": "a", "inputs": "b"}]}
    assert "inputs is given twice (as input and inputs)" in error(spec)


def test_a_single_input_layer_refuses_two_inputs() -> None:
    spec = {"input": [4], "layers": [{"dense": {"units": 4, "inputs": ["input", "input"]}}]}
    assert "'dense' takes one input, got 2 ('input', 'input'); to join tensors" in error(spec)


def test_construct_paths_see_earlier_names_and_blocks_do_not() -> None:
    # a branches path may take a tensor named before the construct
    spec = {
        "input": [4, 4, 8],
        "layers": [
            conv(8, 1, name="early"),
            conv(8, 1),
            {"branches": {"merge": "add", "paths": [[], [{"relu": None, "input": "early"}]]}},
        ],
    }
    assert rows(spec)[-1]["output_shape"] == [4, 4, 8]
    # a block sees only its inputs
    spec = {
        "input": [4],
        "blocks": {"b": {"layers": [{"dense": 4, "input": "early"}]}},
        "layers": [{"dense": {"units": 4, "name": "early"}}, "b"],
    }
    assert "input 'early' names no earlier tensor here" in error(spec)


def test_a_construct_or_block_is_named_by_its_output() -> None:
    spec = {
        "input": [4, 4, 8],
        "blocks": {"unit": {"layers": [conv(8, 1)]}},
        "layers": [
            {"residual": [conv(8, 1)], "name": "res"},
            {"unit": None, "name": "u"},
            {"concat": ["res", "u"]},
        ],
    }
    assert rows(spec)[-1]["output_shape"] == [4, 4, 16]


# -- blocks with several inputs, that see their inputs' shapes --------------------------------
def test_blocks_see_their_input(tmp_path: Path) -> None:
    # DenseNet's transition halves the channels; squeeze-and-excitation takes a quarter
    text = """
input: [8, 8, 16]
blocks:
  transition:
    layers:
      - conv2d: {filters: $in_channels // 2, kernel: 1}
      - avgpool2d: 2
  se:
    layers:
      - branches:
          merge: multiply
          paths:
            - []
            - - global_avgpool2d
              - dense: $in_channels // 4
              - dense: $in_channels
              - reshape: [1, 1, $in_channels]
  sized:
    layers:
      - dense: $in_height * 100 + $in_width * 10 + $in_channels
layers:
  - se
  - transition
  - sized
"""
    found = rows(model(text, tmp_path))
    # se: dense 16 -> 4: (16+1)*4 = 68; dense 4 -> 16: (4+1)*16 = 80
    assert [row["params"] for row in found[:5]] == [0, 68, 80, 0, 0]
    assert found[4]["output_shape"] == [8, 8, 16]
    # transition: 1x1 conv 16 -> 8: (16+1)*8 = 136; pool 8x8 -> 4x4
    assert found[5]["params"] == 136 and found[6]["output_shape"] == [4, 4, 8]
    # sized: H 4, W 4, C 8 -> 448 units
    assert found[7]["output_shape"] == [4, 4, 448]


def test_blocks_see_their_input_in_the_layouts_meaning() -> None:
    spec = {
        "input": [16, 8, 6],
        "framework": "pytorch",
        "blocks": {"b": {"layers": [{"conv2d": {"filters": "$in_channels + $in_width"}}]}},
        "layers": [{"b": None}],
    }
    spec["blocks"]["b"]["layers"][0]["conv2d"]["kernel"] = 1
    # C H W: 16 channels, width 6 -> 22 filters
    assert rows(spec)[0]["output_shape"] == [22, 8, 6]


def test_a_block_with_two_inputs(tmp_path: Path) -> None:
    # NASNet-style: a cell takes the previous two tensors
    text = """
input: [8, 8, 4]
blocks:
  cell:
    inputs: [h, prev]
    params: {filters: 8}
    layers:
      - conv2d: {filters: $filters, kernel: 1, name: a}
      - conv2d: {filters: $filters, kernel: 1, input: prev, name: b}
      - add: [a, b]
      - dense: $h_channels + $prev_channels
layers:
  - conv2d: {filters: 6, kernel: 1, name: stem}
  - cell: {inputs: [stem, input]}
"""
    found = rows(model(text, tmp_path))
    # a: (6+1)*8 = 56 from stem; b: (4+1)*8 = 40 from the input; dense 8 -> 6+4=10: 90
    assert [row["name"] for row in found] == ["stem", "cell.a", "cell.b", "cell.add", "cell.dense"]
    assert [row["params"] for row in found] == [30, 56, 40, 0, 90]
    assert found[2]["input_shape"] == [8, 8, 4]


def test_a_block_given_the_wrong_number_of_inputs() -> None:
    spec = {
        "input": [4],
        "blocks": {"cell": {"inputs": ["h", "prev"], "layers": ["relu"]}},
        "layers": ["cell"],
    }
    assert error(spec) == (
        "layer 1 (cell): block 'cell' takes 2 inputs (h, prev), got 1; give them in order: "
        "inputs: [h, prev]"
    )


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ("x", None),
        ([1], "inputs [1] is not valid: a block's inputs are names"),
        (["a", "a"], "inputs ['a', 'a'] names an input twice"),
    ],
)
def test_block_inputs_are_names(inputs: object, message: str | None) -> None:
    spec = {"input": [4], "blocks": {"b": {"inputs": inputs, "layers": ["relu"]}}, "layers": ["b"]}
    if message is None:
        assert rows(spec)[0]["name"] == "b.relu"
    else:
        assert message in error(spec)


@pytest.mark.parametrize("param", ["in_channels", "in_height", "skip_width"])
def test_a_parameter_cannot_shadow_an_input_size(param: str) -> None:
    spec = {
        "input": [4],
        "blocks": {"b": {"inputs": ["x", "skip"], "params": {param: 1}, "layers": ["relu"]}},
        "layers": ["relu"],
    }
    assert f"a parameter cannot be called '{param}': ${param} is the size" in error(spec)


def test_a_block_parameter_named_like_a_size_of_no_input_is_fine() -> None:
    spec = {
        "input": [4],
        "blocks": {"b": {"params": {"out_channels": 3}, "layers": [{"dense": "$out_channels"}]}},
        "layers": ["b"],
    }
    assert rows(spec)[0]["output_shape"] == [3]


# -- conditions ---------------------------------------------------------------------------------
INVERTED = """
input: [8, 8, 16]
blocks:
  unit:
    params: {expand: true, se: false, filters: 16}
    layers:
      - conv2d: {filters: $in_channels * 4, kernel: 1}
        if: $expand
      - {type: relu, if: $se}
      - conv2d: {filters: $filters, kernel: 1}
layers:
  - unit
  - unit: {expand: false, se: true}
  - unit: {filters: 8}
"""


def test_an_item_is_left_out_when_its_condition_is_false(tmp_path: Path) -> None:
    found = rows(model(INVERTED, tmp_path))
    assert [row["name"] for row in found] == [
        "unit.conv2d",
        "unit.conv2d_1",
        "unit_1.relu",
        "unit_1.conv2d",
        "unit_2.conv2d",
        "unit_2.conv2d_1",
    ]
    # expanded: 16 -> 64: (16+1)*64 = 1,088; then 64 -> 16: (64+1)*16 = 1,040
    assert [row["params"] for row in found] == [1088, 1040, 0, 272, 1088, 520]


@pytest.mark.parametrize("condition", ["maybe", 2, [True], None])
def test_a_condition_is_true_or_false(condition: object) -> None:
    spec = {"input": [4], "layers": [{"relu": None, "if": condition}]}
    assert "if" in error(spec) and "is not valid: it is a condition, true or false" in error(spec)


def test_a_repeat_under_a_condition() -> None:
    spec = {
        "input": [4],
        "blocks": {
            "b": {
                "params": {"deep": 0},
                "layers": [
                    {"repeat": 3, "layers": ["relu"], "if": "$deep"},
                    "sigmoid",
                ],
            }
        },
        "layers": [{"b": 1}, {"b": 0}],
    }
    assert [row["type"] for row in rows(spec)] == ["relu", "relu", "relu", "sigmoid", "sigmoid"]


def test_measuring_counts_conditions_before_walking(monkeypatch: pytest.MonkeyPatch) -> None:
    from convcalc import _model

    monkeypatch.setattr(_model, "MAX_ROWS", 10)
    big = {"repeat": 20, "layers": ["relu"], "if": True}
    assert "would make 20 rows" in error({"input": [4], "layers": [big]})
    small = {"repeat": 20, "layers": ["relu"], "if": False}
    assert rows({"input": [4], "layers": [small, "relu"]})[0]["type"] == "relu"


# -- split ---------------------------------------------------------------------------------------
def test_split_runs_each_path_on_its_part_of_the_channels(tmp_path: Path) -> None:
    # ShuffleNet's unit: half the channels pass, half go through convs, then a shuffle
    text = """
input: [8, 8, 6]
layers:
  - split:
      sections: 2
      merge: concat
      paths:
        - []
        - [conv2d: {filters: 3, kernel: 1}]
"""
    found = rows(model(text, tmp_path))
    assert [row["name"] for row in found] == ["split.conv2d", "split.concat"]
    # the conv sees 3 of the 6 channels: (3+1)*3 = 12
    assert found[0]["input_shape"] == [8, 8, 3] and found[0]["params"] == 12
    assert found[1]["input_shapes"] == [[8, 8, 3], [8, 8, 3]]
    assert found[1]["output_shape"] == [8, 8, 6]


def test_split_by_sizes_in_channels_first() -> None:
    spec = {
        "input": [6, 4, 4],
        "framework": "pytorch",
        "layers": [{"split": {"sections": [2, 4], "paths": [[], [conv(4)]]}}],
    }
    found = rows(spec)
    # the conv sees channels 2..6: 4 of them; (4+1)*4 = 20; concat: 2 + 4
    assert found[0]["input_shape"] == [4, 4, 4] and found[0]["params"] == 20
    assert found[1]["output_shape"] == [6, 4, 4]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"sections": 2, "paths": [[], [], []]}, "the number of parts, one per path, so 3"),
        ({"sections": 4, "paths": [[], [], [], []]}, "e.g. sections: [2, 2, 1, 1]"),
        ({"sections": [2, 3], "paths": [[], []]}, "add up to the input's 6 channels"),
        ({"sections": [2, 4], "paths": [[], [], []]}, "it gives 2 parts for 3 paths"),
        ({"sections": 2, "paths": [[]]}, "split needs 'paths': a list of at least two"),
        ({"section": 2, "paths": [[], []]}, "unknown key 'section' (did you mean 'sections'?)"),
        ([[], []], "split takes {sections: 2, paths: [[...], [...]], merge: concat}"),
    ],
)
def test_split_errors(body: object, message: str) -> None:
    assert message in error({"input": [4, 4, 6], "layers": [{"split": body}]})


# -- what a model file takes ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"input": [4]}, "the model has no 'layers'"),
        ({"input": [4], "layers": []}, "'layers' must be a non-empty list of layers, not an empty"),
        ({"input": [4], "layers": "relu"}, "not the text 'relu'"),
        ({"input": [4], "layers": ["relu"], "blocs": {}}, "(did you mean 'blocks'?)"),
        ({"input": [4], "layers": ["relu"], "name": [1]}, "a model's name is text"),
        ({"input": [4], "layers": ["relu"], "blocks": []}, "'blocks' must map block names"),
        ({"input": [4], "layers": ["relu"], "blocks": {"1x": ["relu"]}}, "a block name is a word"),
        ({"input": [4], "layers": ["relu"], "blocks": {"relu": ["relu"]}}, "already a layer type"),
        ({"input": [4], "layers": ["relu"], "blocks": {"b": 3}}, "a block is {params:"),
        ({"input": [4], "layers": ["relu"], "blocks": {"b": {"layer": []}}}, "unknown key 'layer'"),
        ({"input": [4], "layers": ["relu"], "blocks": {"b": {"layers": []}}}, "non-empty list"),
        (
            {"input": [4], "layers": ["relu"], "blocks": {"b": {"params": 3, "layers": ["relu"]}}},
            "'params' maps parameter names to defaults",
        ),
        (
            {
                "input": [4],
                "layers": ["relu"],
                "blocks": {"b": {"params": ["name"], "layers": [1]}},
            },
            "a parameter cannot be called 'name'",
        ),
        (
            {"input": [4], "layers": ["relu"], "blocks": {"b": {"params": ["a b"], "layers": [1]}}},
            "parameter 'a b' must be a word",
        ),
        ({"input": [4], "layers": [3]}, "a layer is a type name (flatten)"),
        ({"input": [4], "layers": [{"type": 3}]}, "'type' must be a layer type name"),
        ({"input": [4], "layers": [{"relu": None, "units": 3}]}, "unknown key 'units' beside"),
        ({"input": [4], "layers": [{"a": 1, "b": 2}]}, "needs exactly one type key"),
        ({"input": [4], "layers": ["rleu"]}, "unknown layer type 'rleu' (did you mean 'relu'?)"),
        ({"input": [4], "layers": [{"repeat": 2, "layer": []}]}, "unknown key 'layer'"),
        ({"input": [4], "layers": [{"repeat": -1, "layers": ["relu"]}]}, "an integer >= 0"),
        ({"input": [4], "layers": [{"repeat": 2}]}, "repeat needs 'layers'"),
        ({"input": [4], "layers": [{"residual": 3}]}, "residual takes {layers: [...]"),
        ({"input": [4], "layers": [{"residual": {"short": []}}]}, "(did you mean 'shortcut'?)"),
        ({"input": [4], "layers": [{"residual": {"layers": ["relu"], "shortcut": 1}}]}, "list"),
        ({"input": [4], "layers": [{"branches": 3}]}, "branches takes {merge: add|subtract"),
        ({"input": [4], "layers": [{"branches": {"path": []}}]}, "(did you mean 'paths'?)"),
        ({"input": [4], "layers": [{"branches": {"merge": "xor", "paths": [[], []]}}]}, "xor"),
        ({"input": [4], "layers": [{"branches": {"paths": [[], 3]}}]}, "path 2 of branches"),
        ({"input": [4], "layers": [{"relu": None, "name": "a.b"}]}, "contains '.'"),
        ({"input": [4], "layers": [{"relu": None, "name": ""}]}, "a name is a word"),
        ({"input": [4], "layers": [{"relu": None, "name": "x" * 201}]}, "is too long"),
        (
            {"input": [4], "layers": [{"relu": None, "name": "a"}, {"relu": None, "name": "a"}]},
            "the name 'a' is already used by layer 1; layer names must be unique",
        ),
        (
            {"input": [4], "layers": [{"residual": ["relu"], "trainable": "maybe"}]},
            "trainable 'maybe' is not valid",
        ),
        (
            {"input": [4], "layers": [{"residual": {"name": "r"}, "name": "s"}]},
            "name is given twice",
        ),
    ],
)
def test_grammar_messages(spec: dict[str, Any], message: str) -> None:
    assert message in error(spec)


@pytest.mark.parametrize(
    ("blocks", "use", "message"),
    [
        ({"b": {"params": ["f"], "layers": ["relu"]}}, "b", "needs its parameter 'f'"),
        ({"b": {"params": {"f": 1}, "layers": ["relu"]}}, {"b": {"g": 1}}, "no parameter 'g'"),
        ({"b": {"params": {"f": 1}, "layers": ["relu"]}}, {"b": [1, 2]}, "takes 1 parameter"),
        ({"b": {"layers": ["b"]}}, "b", "block 'b' uses itself (b -> b)"),
        ({"b": {"layers": ["c"]}, "c": {"layers": ["b"]}}, "b", "(b -> c -> b)"),
        (
            {"b": {"params": {"f": 1}, "layers": [{"dense": "$f + $g"}]}},
            "b",
            "$g is not a parameter of this block",
        ),
    ],
)
def test_block_messages(blocks: dict[str, Any], use: object, message: str) -> None:
    assert message in error({"input": [4], "blocks": blocks, "layers": [use]})


def test_measuring_refuses_too_many_block_uses(monkeypatch: pytest.MonkeyPatch) -> None:
    from convcalc import _model

    monkeypatch.setattr(_model, "MAX_STEPS", 10)
    spec = {
        "input": [4],
        "blocks": {"empty": {"layers": [{"repeat": 0, "layers": ["relu"]}]}},
        "layers": [{"repeat": 11, "layers": ["empty"]}],
    }
    message = error(spec)
    assert "repeat at layer 1 would expand" in message and "at most 10 (MAX_STEPS)" in message


def test_a_layer_cannot_take_the_name_of_its_blocks_input() -> None:
    spec = {
        "input": [4],
        "blocks": {
            "cell": {"inputs": ["h", "p"], "layers": [{"dense": {"units": 4, "name": "p"}}]}
        },
        "layers": [{"cell": {"inputs": ["input", "input"]}}],
    }
    assert "the name 'p' is already used by the block's input 'p'" in error(spec)


def test_the_constructs_folding_recognises_are_the_languages() -> None:
    from convcalc import _model, _report

    assert set(_report.SCOPED) == {*_model.CONSTRUCTS, "shortcut"} - {"repeat"}


def test_folding_names_constructs_past_those_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    from convcalc import _model

    monkeypatch.setattr(_model, "SCOPES_KEPT", 1)
    spec = {"input": [4], "layers": [{"repeat": 3, "layers": [{"residual": ["relu"]}]}]}
    report = analyze(spec)
    assert list(report.scopes) == ["residual"]
    assert [row.type for row in fold(report, 0).layers] == ["residual"] * 3


# -- the receptive field through dense and permute ---------------------------------------------
def field_sizes(spec: dict[str, Any]) -> list[list[int] | None]:
    return [
        row["receptive_field"]["size"] if row["receptive_field"] else None for row in rows(spec)
    ]


def test_dense_on_the_channels_keeps_the_field() -> None:
    # channels last: a dense acts at each position, as a 1x1 conv does: the 3x3 field stays
    spec = {"input": [8, 8, 3], "layers": [conv(4, 3), {"dense": 5}]}
    assert field_sizes(spec) == [[3, 3], [3, 3]]
    # channels first, the last axis is W: a dense on it mixes a whole row
    spec = {"input": [3, 8, 8], "framework": "pytorch", "layers": [conv(4, 3), {"dense": 5}]}
    assert field_sizes(spec)[-1] is None


def test_the_field_follows_its_axes_through_a_permute() -> None:
    # ConvNeXt's block in C H W: a 3x3 conv (field 3), to H W C, a Linear on the channels,
    # back to C H W, another 3x3 conv: 3 + (3 - 1) = 5
    spec = {
        "input": [4, 8, 8],
        "framework": "pytorch",
        "layers": [
            conv(4, 3, padding=1),
            {"permute": {"torch_dims": [0, 2, 3, 1]}},
            {"dense": 4},
            {"permute": {"torch_dims": [0, 3, 1, 2]}},
            conv(4, 3, padding=1),
        ],
    }
    assert field_sizes(spec) == [[3, 3], [3, 3], [3, 3], [3, 3], [5, 5]]


def test_a_permute_that_swaps_the_spatial_axes_swaps_the_field() -> None:
    # H W C: a 3x1 conv (field 3 on H, 1 on W), H and W swapped, then a 1x3 conv slides over
    # the new W, which is the old H: 3 + 2 = 5 on H, 1 on W
    spec = {
        "input": [8, 8, 3],
        "layers": [
            {"conv2d": {"filters": 3, "kernel": [3, 1]}},
            {"permute": [2, 1, 3]},
            {"conv2d": {"filters": 3, "kernel": [1, 3]}},
        ],
    }
    assert field_sizes(spec) == [[3, 1], [3, 1], [5, 1]]


def test_pytorch_refuses_a_multiply_of_different_ranks() -> None:
    # PyTorch broadcasts with the batch in front: [N, C, H, W] * [N, C] aligns C with H
    spec = {
        "input": [4, 6, 4],
        "framework": "pytorch",
        "layers": [{"global_avgpool2d": None, "name": "g"}, {"multiply": ["input", "g"]}],
    }
    assert "have different ranks, and PyTorch broadcasts with the batch" in error(spec)
    spec["framework"] = "keras"
    spec["input"] = [6, 4, 4]
    assert rows(spec)[-1]["output_shape"] == [6, 4, 4]


# -- a repeat's counter -------------------------------------------------------------------------
def test_each_copy_of_a_repeat_sees_its_number() -> None:
    # dense units 1, 2, 3 on [4]: (4+1)*1 = 5, (1+1)*2 = 4, (2+1)*3 = 9 parameters
    spec = {
        "input": [4],
        "layers": [{"repeat": 3, "index": "j", "layers": [{"dense": "$j + 1"}]}],
    }
    assert [row["params"] for row in rows(spec)] == [5, 4, 9]


def test_a_counter_in_a_condition_and_a_block() -> None:
    # ConvNeXt's rising drop rate, and the first copy of a stage set apart by if:
    spec = {
        "input": [4],
        "blocks": {
            "stage": {
                "params": {"n": 3, "first": 0},
                "layers": [
                    {
                        "repeat": "$n",
                        "index": "k",
                        "layers": [
                            {"relu": None, "if": "$k == 0"},
                            {"dropout": "0.1 * ($first + $k)"},
                        ],
                    }
                ],
            }
        },
        "layers": [{"stage": {"n": 3, "first": 2}}],
    }
    assert [row["type"] for row in rows(spec)] == ["relu", "dropout", "dropout", "dropout"]


@pytest.mark.parametrize(
    ("index", "message"),
    [
        ("2j", "index '2j' is not valid: it names the repeat's counter"),
        (["j"], "index ['j'] is not valid"),
        ("n", "index 'n' is already a parameter here"),
    ],
)
def test_a_counter_is_a_new_word(index: object, message: str) -> None:
    spec = {
        "input": [4],
        "blocks": {
            "b": {"params": {"n": 2}, "layers": [{"repeat": 2, "index": index, "layers": ["relu"]}]}
        },
        "layers": ["b"],
    }
    assert message in error(spec)


def test_a_misspelt_repeat_key_is_named() -> None:
    spec = {"input": [4], "layers": [{"repeat": 2, "indx": "j", "layers": ["relu"]}]}
    assert "unknown key 'indx' (did you mean 'index'?)" in error(spec)


# -- the model's own params (a zoo family's members differ only in them) -------------------------
def test_model_params_are_read_by_the_top_level_layers() -> None:
    spec = {
        "input": [3, 32, 32],
        "framework": "pytorch",
        "params": {"width": 2, "blocks": 3, "head": True},
        "blocks": {
            "b": {"params": {"c": None}, "layers": [{"conv2d": {"filters": "$c", "kernel": 1}}]}
        },
        "layers": [
            {"conv2d": {"filters": "16 * $width", "kernel": 3}},  # (3*9 + 1) * 32 = 896
            {"repeat": "$blocks", "layers": [{"b": "$width * 16"}]},  # 3 x (32 + 1) * 32 = 3,168
            "global_avgpool2d",
            {"dense": 10, "if": "$head"},  # (32 + 1) * 10 = 330
        ],
    }
    report = analyze(spec)
    assert report.totals.params == 896 + 3 * 1_056 + 330
    assert report.output_shape == (10,)
    headless = analyze({**spec, "params": {"width": 2, "blocks": 1, "head": False}})
    assert headless.totals.params == 896 + 1_056
    assert headless.output_shape == (32,)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"c": None}, "the model's params: 'c' has no value; a model's parameter needs one"),
        ({"c": "$d"}, "the model's params: 'c' is '$d'; a model's parameter is a plain value"),
        ({"name": 3}, "a parameter cannot be called 'name'"),
        ({"two words": 3}, "parameter 'two words' must be a word"),
        ("wide", "'params' maps parameter names to defaults"),
    ],
)
def test_model_params_errors(params: object, message: str) -> None:
    spec = {"input": [8, 8, 3], "params": params, "layers": ["relu"]}
    with pytest.raises(ConvCalcError) as caught:
        analyze(spec)  # type: ignore[arg-type]
    assert message in str(caught.value)


def test_an_unknown_model_param_is_named_with_the_known_ones() -> None:
    spec = {"input": [8, 8, 3], "params": {"width": 2}, "layers": [{"dense": "$widht"}]}
    with pytest.raises(ConvCalcError) as caught:
        analyze(spec)
    assert "$widht is not a parameter of this block (its parameters: $width)" in str(caught.value)


# -- min_input: the builder's own smallest size (keras.applications' min_size) ------------------
def test_min_input_refuses_what_the_builder_refuses() -> None:
    # keras.applications.Xception(weights=None, input_shape=(70, 71, 3)) raises "Input size must
    # be at least 71x71", though each layer would run at that size
    spec = {
        "input": [71, 71, 3],
        "min_input": [71, 71],
        "layers": [{"conv2d": {"filters": 8, "kernel": 3}}],
    }
    assert analyze(spec).output_shape == (69, 69, 8)
    with pytest.raises(ConvCalcError) as caught:
        analyze({**spec, "input": [70, 71, 3]})
    assert "the input 70x71x3 is smaller than this model takes: at least 71x71" in str(caught.value)
    with pytest.raises(ConvCalcError) as caught:
        analyze({**spec, "input": [71, 71, 71, 3]})
    assert "min_input [71, 71] gives 2 sizes, but the input 71x71x71x3 has 3" in str(caught.value)


def test_min_input_bounds_what_sizes_reports() -> None:
    result = CliRunner().invoke(app, ["sizes", "zoo:keras_xception", "--range", "60-80"])
    assert result.exit_code == 0, result.output
    assert "H: every size from 71" in result.stdout
    assert "W: every size from 71" in result.stdout


def test_a_block_whose_layers_are_all_left_out_gives_back_its_input() -> None:
    # an empty block is the identity: it names an earlier tensor without a row (the zoo's NASNet
    # carries Keras' `p` this way), and the model goes on from that tensor
    spec = {
        "input": [8, 8, 3],
        "blocks": {
            "same": {"layers": [{"relu": None, "if": False}]},
            "pick": {
                "inputs": ["a", "b"],
                "params": {"first": True},
                "layers": [{"same": {"inputs": ["b"]}, "if": "not $first"}],
            },
        },
        "layers": [
            {"conv2d": {"filters": 4, "kernel": 1, "name": "a"}},
            {"conv2d": {"filters": 6, "kernel": 1, "name": "b", "input": "input"}},
            {"pick": {"inputs": ["a", "b"], "first": False}},
        ],
    }
    report = analyze(spec)
    assert report.output_shape == (8, 8, 6)
    assert [row.type for row in report.layers] == ["conv2d", "conv2d"]
    assert analyze(
        {
            **spec,
            "layers": [
                *spec["layers"][:2],  # type: ignore[index]
                {"pick": {"inputs": ["a", "b"]}},
            ],
        }
    ).output_shape == (8, 8, 4)
