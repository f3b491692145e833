"""``convcalc export``: framework code out, checked without the frameworks.

The code is compiled (never run: neither torch nor keras is needed), its syntax tree read for
the names it defines, and the layers it writes compared with what the frameworks' own code
says, written out by hand in each test (torchvision's ``resnet.py``: ``conv1 =
nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)``; the MNIST example of the
Keras docs). That the code builds, in each framework, exactly convcalc's parameters, trainable
parameters and output shapes is ``tests/crosscheck/crosscheck_export.py``'s to show, in the
framework environment: every zoo model and random models over every kind.
"""

from __future__ import annotations

import ast
import json
import keyword
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from convcalc import ConvCalcError, analyze
from convcalc._cli import app
from convcalc._export import ExportPlan, export_plan, identifier, variables
from convcalc._input._zoo import load_zoo
from convcalc._model import read_model
from convcalc._render._keras import render_keras
from convcalc._render._pytorch import render_pytorch
from convcalc._settings import Framework

RUNNER = CliRunner()


def plan_of(spec: dict[str, Any], to: str | None = None) -> ExportPlan:
    return export_plan(read_model(spec), None if to is None else Framework(to))


def code_of(spec: dict[str, Any], to: str | None = None) -> str:
    plan = plan_of(spec, to)
    write = render_pytorch if plan.framework is Framework.PYTORCH else render_keras
    return write(plan, "convcalc export test")


def compiled(code: str) -> ast.Module:
    compile(code, "<exported>", "exec")  # a SyntaxError fails the test
    return ast.parse(code)


def row_names(code: str) -> dict[str, str]:
    """The ``ROW_NAMES`` mapping the code defines (a class attribute or a module constant)."""
    for node in ast.walk(ast.parse(code)):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id == "ROW_NAMES"
        ):
            found: dict[str, str] = ast.literal_eval(node.value)
            return found
    raise AssertionError("no ROW_NAMES")


def attributes(code: str) -> list[str]:
    """The attributes ``__init__`` assigns: ``self.NAME = ...``."""
    return [
        node.targets[0].attr
        for node in ast.walk(ast.parse(code))
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Attribute)
        and isinstance(node.targets[0].value, ast.Name)
        and node.targets[0].value.id == "self"
    ]


def strings(code: str) -> set[str]:
    return {
        node.value
        for node in ast.walk(ast.parse(code))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


MNIST = {
    "name": "mnist",
    "input": [28, 28, 1],
    "layers": [
        {"conv2d": {"filters": 32, "kernel": 3, "activation": "relu"}},
        {"maxpool2d": 2},
        {"conv2d": {"filters": 64, "kernel": 3, "activation": "relu"}},
        {"maxpool2d": 2},
        "flatten",
        {"dropout": 0.5},
        {"dense": {"units": 10, "activation": "softmax"}},
    ],
}

ZOO = ["mnist_cnn", "lenet5", "resnet50", "keras_resnet50", "mobilenet_v3_small",
       "shufflenet_v2_x1_0", "convnext_tiny", "keras_convnext_tiny", "keras_efficientnet_b0",
       "vit_b_32", "swin_v2_t", "maxvit_t", "inception_v3", "keras_nasnet_mobile"]  # fmt: skip
"""Zoo models over every kind the zoo has, both frameworks."""


# -- the code compiles and names every row ---------------------------------------------------------


@pytest.mark.parametrize("name", ZOO)
def test_zoo_model_compiles_and_names_every_row(name: str) -> None:
    spec = load_zoo(name)
    code = code_of(spec)
    compiled(code)
    names = set(row_names(code).values())
    layers = [row.name for row in analyze(spec).layers if not row.input_shapes]
    merges = [row.name for row in analyze(spec).layers if row.input_shapes]
    if spec.get("framework") == "pytorch":
        assert names == set(layers)  # one submodule per layer row
        assert len(attributes(code)) >= len(layers)
        for merge in merges:  # merges are expressions in forward, named in a comment
            assert f"# {ascii(merge)}:" in code
    else:
        assert names == set(layers) | set(merges)  # every row a Keras layer, merges too


def test_pytorch_layers_are_torchvisions(tmp_path: Path) -> None:
    code = code_of(load_zoo("resnet50"))
    # torchvision/models/resnet.py: conv1, bn1, maxpool, the first Bottleneck's conv2 and
    # downsample, fc
    assert "self.conv2d = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)" in code
    assert "self.batchnorm = nn.BatchNorm2d(64)" in code
    assert "self.maxpool2d = nn.MaxPool2d(3, stride=2, padding=1)" in code
    assert (
        "self.layer1_bottleneck_residual_conv2d_1 = nn.Conv2d(64, 64, 3, padding=1, bias=False)"
        in code
    )
    assert "= nn.Conv2d(64, 256, 1, bias=False)" in code
    assert "self.dense = nn.Linear(2048, 1000)" in code
    assert "def forward(self, x: torch.Tensor) -> torch.Tensor:" in code


def test_keras_layers_are_the_docs_mnist() -> None:
    code = code_of(MNIST)
    compiled(code)
    # keras.io's "Simple MNIST convnet", layer by layer
    assert "inputs = keras.Input(shape=INPUT_SHAPE, name='input')" in code
    assert "INPUT_SHAPE = (28, 28, 1)" in code
    for layer in (
        "layers.Conv2D(32, 3, data_format='channels_last', activation='relu', name='conv2d')",
        "layers.MaxPooling2D(2, data_format='channels_last', name='maxpool2d')",
        "layers.Conv2D(64, 3, data_format='channels_last', activation='relu', name='conv2d_1')",
        "layers.Flatten(data_format='channels_last', name='flatten')",
        "layers.Dropout(0.5, name='dropout')",
        "layers.Dense(10, activation='softmax', name='dense')",
    ):
        assert layer in code
    assert "return keras.Model(inputs, x, name='mnist')" in code


def test_the_chain_stays_in_x_and_a_residual_branches_off() -> None:
    spec = {
        "input": [8, 4, 4],
        "framework": "pytorch",
        "layers": [
            {"residual": {"layers": [{"conv2d": {"filters": 8, "kernel": 3, "padding": 1}}]}},
            "relu",
        ],
    }
    code = code_of(spec)
    body = code[code.index("def forward") :].splitlines()[1:4]
    assert body[0].strip().startswith("x1 = self.residual_conv2d(x)")
    assert body[1].strip().startswith("x = x1 + x")
    assert body[2].strip().startswith("x = self.relu(x)")


def test_keras_zero_padding_before_a_conv_leaves_the_shortcut_alone() -> None:
    # torchvision's BasicBlock: conv3x3 with padding 1 is Keras' ZeroPadding2D(1) then a
    # valid Conv2D; the shortcut adds the block's input, not the padded one
    spec = {
        "input": [8, 4, 4],
        "framework": "pytorch",
        "layers": [
            {"residual": {"layers": [{"conv2d": {"filters": 8, "kernel": 3, "padding": 1}}]}}
        ],
    }
    code = code_of(spec, "keras")
    assert "x1 = layers.ZeroPadding2D(((1, 1), (1, 1)), data_format='channels_first'" in code
    assert "x1 = layers.Conv2D(8, 3, data_format='channels_first', name='residual.conv2d')(x1)" in (
        code
    )
    assert "layers.Add(name='residual.add')([x1, x])" in code


def test_split_is_torch_split_and_keras_ops_split() -> None:
    spec = {
        "input": [6, 4, 4],
        "framework": "pytorch",
        "layout": "chw",
        "layers": [{"split": {"sections": [2, 4], "merge": "concat", "paths": [[], ["relu"]]}}],
    }
    code = code_of(spec)
    assert "x, x1 = torch.split(x, [2, 4], dim=1)" in code
    assert "torch.cat([x, x1], dim=1)" in code
    keras = code_of({**spec, "framework": "keras"})
    assert "ops.split(x, [2], axis=1)" in keras
    assert "layers.Concatenate(axis=1, name='split.concat')" in keras


def test_frozen_rows_are_frozen() -> None:
    spec = {
        "input": [3, 8, 8],
        "framework": "pytorch",
        "layers": [{"conv2d": {"filters": 4, "kernel": 3}, "trainable": False}, "relu"],
    }
    assert "self.conv2d.requires_grad_(False)" in code_of(spec)
    keras = code_of(spec, "keras")
    assert "FROZEN = ('conv2d',)" in keras
    assert "model.get_layer(name).trainable = False" in keras


# -- names are data -------------------------------------------------------------------------------

ODD_NAMES = [
    "block-conv",
    "block_conv",
    "2nd",
    "class",
    "forward",
    "training",
    "a b",
    "naïve",
    "x/y",
    "esc\x1b[31m",
    "quote'\"",
    "line\nbreak",
    "rtl\u202eevil",
]


def odd_model(framework: str) -> dict[str, Any]:
    layers: list[Any] = [
        {"conv2d": {"filters": 4, "kernel": 1}, "name": name} for name in ODD_NAMES
    ]
    return {"input": [4, 6, 6], "framework": framework, "layout": "chw", "layers": layers}


def test_pytorch_attributes_are_unique_identifiers_made_from_the_names() -> None:
    code = code_of(odd_model("pytorch"))
    compiled(code)
    assert code.isascii()  # every name written by ascii(): no control character, no bidi mark
    found = row_names(code)
    assert sorted(found.values()) == sorted(ODD_NAMES)  # each name, exactly as it is
    made = [attribute for attribute in found if attribute]
    assert len(set(made)) == len(made)
    for attribute in made:
        assert attribute.isidentifier() and not keyword.iskeyword(attribute)
        assert attribute not in ("forward", "training")  # nn.Module's own
    assert found["block_conv"] == "block-conv"  # the first one keeps the plain spelling
    assert found["block_conv_2"] == "block_conv"
    assert found["_2nd"] == "2nd"
    assert found["class_"] == "class"
    assert found["forward_"] == "forward"
    assert set(attributes(code)) >= set(found)


def test_keras_names_are_the_rows_names() -> None:
    code = code_of(odd_model("keras"))
    compiled(code)
    assert code.isascii()
    found = row_names(code)
    assert sorted(found.values()) == sorted(ODD_NAMES)
    assert found["x_y"] == "x/y"  # keras refuses '/' in a name
    named = {k for k, v in found.items() if k == v}
    assert named == set(ODD_NAMES) - {"x/y"}
    assert set(found) <= strings(code)


def test_a_model_named_as_a_helper_class_is_another_class() -> None:
    spec = {"name": "layer scale", "input": [4, 3, 3], "framework": "pytorch"}
    spec["layers"] = ["layer_scale"]
    code = code_of(spec)
    compiled(code)
    assert "class LayerScale(nn.Module):" in code
    assert "class LayerScaleModel(nn.Module):" in code


def test_identifier_and_variables() -> None:
    taken: set[str] = set()
    assert identifier("a.b", taken) == "a_b"
    assert identifier("a_b", taken) == "a_b_2"
    assert identifier("", taken) == "layer"
    assert identifier("import", taken) == "import_"
    assert identifier("to", taken, ["to"]) == "to_"
    plan = plan_of(MNIST)
    assert set(variables(plan).values()) == {"x"}  # a chain needs one variable


# -- what it refuses ------------------------------------------------------------------------------


WINDOWS = {
    "input": [8, 8, 16],  # Swin's map, channels last as torchvision holds it after a permute
    "framework": "pytorch",
    "layout": "chw",
    "layers": [{"window_attention": {"num_heads": 2, "window": 4}}],
}


def test_refuses_a_kind_it_cannot_write_for_keras() -> None:
    spec = WINDOWS
    compiled(code_of(spec))  # pytorch: the helper class
    plan = plan_of(spec, "keras")
    with pytest.raises(ConvCalcError, match=r"layer 1 \(window_attention\): window_attention"):
        render_keras(plan)


def test_refuses_a_layer_the_other_framework_refuses() -> None:
    spec = {
        "input": [16, 4],
        "layers": [{"conv1d": {"filters": 4, "kernel": 3, "padding": "causal"}}],
    }
    compiled(code_of(spec))  # keras has causal padding
    with pytest.raises(ConvCalcError, match="written for keras; under pytorch's rules.*causal"):
        plan_of(spec, "pytorch")


def test_refuses_a_layer_that_depends_on_the_axis_order() -> None:
    # channels last, the dense layer acts on the channels (3 -> 5); channels first it would
    # act on W: the model cannot be carried to PyTorch's order
    spec = {"input": [4, 6, 3], "layers": [{"dense": 5}]}
    with pytest.raises(ConvCalcError, match=r"layer 1 \(dense\).*depends on the axis order"):
        plan_of(spec, "pytorch")


def test_carries_a_channels_last_model_to_pytorch_with_a_note() -> None:
    # conv 3x3, 3 -> 8: (3*3*3 + 1)*8 = 224; batchnorm on 8 channels: keras 4*8 = 32 (16 of
    # them moving statistics), pytorch 2*8 = 16 (its statistics are buffers)
    spec = {"input": [8, 8, 3], "layers": [{"conv2d": {"filters": 8, "kernel": 3}}, "batchnorm"]}
    plan = plan_of(spec, "pytorch")
    assert plan.input_shape == (3, 8, 8)
    assert (plan.params, plan.trainable_params) == (240, 240)
    assert any("256 (240 trainable)" in note for note in plan.notes)
    code = render_pytorch(plan)
    assert "INPUT_SHAPE = (3, 8, 8)" in code and "nn.BatchNorm2d(8)" in code
    assert "-> output (N, 8, 6, 6); 240 parameters (240 trainable)" in code


# -- the command ----------------------------------------------------------------------------------


def test_cli_prints_the_models_own_framework_and_writes_a_file(tmp_path: Path) -> None:
    result = RUNNER.invoke(app, ["export", "zoo:mnist_cnn"])
    assert result.exit_code == 0, result.output
    assert "import keras" in result.stdout and "import torch" not in result.stdout
    target = tmp_path / "net.py"
    result = RUNNER.invoke(app, ["export", "zoo:resnet18", "--to", "pytorch", "-o", str(target)])
    assert result.exit_code == 0 and result.stdout == ""
    compiled(target.read_text(encoding="utf-8"))


def test_cli_notes_a_framework_change_on_stderr() -> None:
    result = RUNNER.invoke(app, ["export", "zoo:mnist_cnn", "--to", "pytorch"])
    assert result.exit_code == 0
    assert "class MnistCnn(nn.Module):" in result.stdout
    notes = result.stderr.splitlines()
    assert notes and all(line.startswith("Note: ") for line in notes)
    assert any("written for keras, exported to pytorch" in line for line in notes)


def test_cli_refusal_is_an_error_not_a_traceback() -> None:
    result = RUNNER.invoke(app, ["export", "-", "--to", "keras"], input=json.dumps(WINDOWS))
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ")
    assert "window_attention" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_the_python_api_exports_as_the_command_does() -> None:
    import convcalc
    from convcalc._input._zoo import load_zoo

    spec = load_zoo("resnet18")
    code = convcalc.export(spec)
    compile(code, "resnet18.py", "exec")
    assert "nn.Module" in code
    assert convcalc.export(spec, to="pytorch") == code
    with pytest.raises(convcalc.ConvCalcError) as caught:
        convcalc.export(spec, to="jax")
    assert "to 'jax' is not valid: give 'pytorch' or 'keras'" in str(caught.value)


@pytest.mark.parametrize("name", ["None", "True", "f"])
def test_a_model_named_like_a_keyword_or_a_module_name_still_compiles(name: str) -> None:
    import ast

    import convcalc

    spec = {
        "name": name,
        "input": [3, 8, 8],
        "framework": "pytorch",
        "layers": [{"conv2d": {"filters": 4, "kernel": 3, "name": "__x"}}],
    }
    code = convcalc.export(spec)
    tree = ast.parse(code)
    classes = [node.name for node in tree.body if isinstance(node, ast.ClassDef)]
    assert classes == [f"{name.title()}Model"]
    # a row called __x is not name-mangled: its attribute is what ROW_NAMES says
    assert "self.n__x = " in code
    assert "'n__x': '__x'" in code
