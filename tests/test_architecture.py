"""The engine's shape: standard library only, one complete catalogue, every spelling resolving."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

import convcalc
from convcalc import analyze
from convcalc._catalogue import CATALOGUE, find_kind, find_param
from convcalc._kind import REQUIRED, LayerKind, Receptive, SameAs
from convcalc._values import normalize_name

PACKAGE = Path(convcalc.__file__).parent
FORBIDDEN = ("typer", "rich", "yaml", "click")
NOT_ENGINE_FILES = ("_cli.py", "__main__.py", "_completion.py", "_typer_compat.py")
NOT_ENGINE_DIRS = ("_render", "_input")
NOT_ENGINE_WORDS = ("yaml", "chain", "zoo", "cli", "render")


def engine_modules() -> list[Path]:
    """Every module of the package except the CLI, the renderers and the input readers."""
    modules = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.name in NOT_ENGINE_FILES or relative.parts[0] in NOT_ENGINE_DIRS:
            continue
        if any(word in relative.stem.lower() for word in NOT_ENGINE_WORDS):
            continue
        modules.append(path)
    return modules


def forbidden_imports(source: str) -> list[str]:
    """Top-level packages from FORBIDDEN imported anywhere in ``source``, functions included."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, (ast.Name, ast.Attribute))
            and (getattr(node.func, "id", None) or getattr(node.func, "attr", None))
            in ("__import__", "import_module")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names = [node.args[0].value]
        else:
            continue
        found += [name for name in names if name.split(".")[0] in FORBIDDEN]
    return found


def test_the_engine_is_found() -> None:
    names = {path.name for path in engine_modules()}
    assert {
        "_engine.py",
        "_model.py",
        "_layer.py",
        "_catalogue.py",
        "_kind.py",
        "_window.py",
    } <= names
    assert {"_values.py", "_report.py", "_errors.py", "__init__.py"} <= names


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("import rich\n", ["rich"], id="import"),
        pytest.param("import os, typer.core as t\n", ["typer.core"], id="dotted"),
        pytest.param("from yaml import safe_load\n", ["yaml"], id="from"),
        pytest.param("def f():\n    import click\n", ["click"], id="in-function"),
        pytest.param(
            "class A:\n    def f(self):\n        from rich.table import Table\n",
            ["rich.table"],
            id="in-method",
        ),
        pytest.param("import importlib\nimportlib.import_module('yaml')\n", ["yaml"], id="dynamic"),
        pytest.param("from . import _yaml\nimport richer\nimport json\n", [], id="look-alikes"),
    ],
)
def test_forbidden_imports_detector(source: str, expected: list[str]) -> None:
    """The check below can fail: it sees imports wherever they are."""
    assert forbidden_imports(source) == expected


@pytest.mark.parametrize("path", engine_modules(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_engine_imports_only_the_standard_library(path: Path) -> None:
    assert forbidden_imports(path.read_text(encoding="utf-8")) == []


# -- every kind in the catalogue is complete --------------------------------------------------

KINDS = [pytest.param(kind, id=kind.name) for kind in CATALOGUE]


@pytest.mark.parametrize("kind", KINDS)
def test_kind_is_complete(kind: LayerKind) -> None:
    assert isinstance(kind.name, str) and kind.name == kind.name.strip() and kind.name
    assert isinstance(kind.summary, str) and kind.summary.strip()
    assert callable(kind.shape) and callable(kind.weights) and callable(kind.macs)
    assert isinstance(kind.receptive, Receptive)
    assert kind.rank in (None, 1, 2, 3)
    assert kind.frameworks


@pytest.mark.parametrize("kind", KINDS)
def test_kind_parameters(kind: LayerKind) -> None:
    names = [param.name for param in kind.params]
    assert len(names) == len(set(names)), "parameter names repeat"
    # a positional name is a parameter, or an argument accepted and ignored (Keras'
    # BatchNormalization(axis, momentum, epsilon, ...))
    assert set(kind.positional) <= set(names) | set(kind.ignored), "a positional name is unknown"
    assert set(kind.torch_positional) <= set(names) | set(kind.ignored)
    assert set(kind.torch_names) <= set(kind.aliases)
    assert len(kind.positional) == len(set(kind.positional))
    required = [param.name for param in kind.params if param.default is REQUIRED]
    assert set(required) <= set(kind.positional), "a required parameter is not positional"
    assert not {"name", "trainable", "type"} & set(names), "a layer key is used as a parameter"
    for param in kind.params:
        assert param.help.strip(), f"{param.name} has no help"
        assert param.type.describe.strip()


@pytest.mark.parametrize("kind", KINDS)
def test_kind_parameter_spellings_are_unambiguous(kind: LayerKind) -> None:
    seen: dict[str, str] = {}
    for param in kind.params:
        for spelling in (param.name, *param.aliases):
            key = normalize_name(spelling)
            assert seen.setdefault(key, param.name) == param.name, spelling
            assert find_param(kind, spelling) is param
            assert find_param(kind, spelling.upper()) is param


@pytest.mark.parametrize("kind", KINDS)
def test_kind_defaults_are_valid_values(kind: LayerKind) -> None:
    names = {param.name for param in kind.params}
    for param in kind.params:
        if isinstance(param.default, SameAs):
            assert param.default.other in names
        elif param.default is not REQUIRED and param.default is not None:
            param.type.parse(param.default, kind.rank or 1)  # raises if the default is invalid


def test_kind_names_are_unique() -> None:
    names = [kind.name for kind in CATALOGUE]
    assert len(names) == len(set(names))


# -- every spelling finds its kind --------------------------------------------------------------

SPELLINGS = [
    pytest.param(spelling, kind, id=f"{kind.name}:{spelling}")
    for kind in CATALOGUE
    for spelling in (kind.name, *kind.aliases)
]


@pytest.mark.parametrize(("spelling", "kind"), SPELLINGS)
def test_find_kind_on_every_spelling(spelling: str, kind: LayerKind) -> None:
    assert find_kind(spelling) is kind
    assert find_kind(spelling.upper()) is kind
    assert find_kind(spelling.lower()) is kind


def test_find_kind_ignores_underscores_and_unknowns() -> None:
    conv2d = find_kind("conv2d")
    assert conv2d is not None and conv2d.name == "conv2d"
    assert find_kind("Conv_2_D") is conv2d
    assert find_kind("conv4d") is None
    assert find_kind("") is None


CONTRACT_TYPE_ALIASES = [
    ("Conv2D", "conv2d"),
    ("Conv2d", "conv2d"),
    ("MaxPooling2D", "maxpool2d"),
    ("MaxPool2d", "maxpool2d"),
    ("Linear", "dense"),
    ("BatchNormalization", "batchnorm"),
    ("BatchNorm2d", "batchnorm"),
    ("conv", "conv2d"),
    ("pool", "maxpool2d"),
    ("maxpool", "maxpool2d"),
    ("avgpool", "avgpool2d"),
    ("max_pool_2d", "maxpool2d"),
    ("DENSE", "dense"),
]


@pytest.mark.parametrize(("alias", "name"), CONTRACT_TYPE_ALIASES)
def test_contract_type_alias(alias: str, name: str) -> None:
    kind = find_kind(alias)
    assert kind is not None and kind.name == name


# A 26x26x8 input has 5,408 elements: enough to tell the layers apart by their numbers.
ALIAS_LAYERS = [
    ("Conv2D", {"filters": 4, "kernel": 3}, [24, 24, 4], 292),
    ("Conv2d", {"out_channels": 4, "kernel_size": 3}, [24, 24, 4], 292),
    ("conv", {"filters": 4, "kernel_size": 3, "strides": 2}, [12, 12, 4], 292),
    ("conv2d", {"Out_Channels": 4, "KERNEL": 3, "use_bias": False}, [24, 24, 4], 288),
    ("MaxPooling2D", {"pool_size": 2, "strides": 2}, [13, 13, 8], 0),
    ("MaxPool2d", {"kernel_size": 2}, [13, 13, 8], 0),
    ("pool", {}, [13, 13, 8], 0),
    ("maxpool", {"size": 3}, [8, 8, 8], 0),
    ("avgpool", {"size": 2, "stride": 1}, [25, 25, 8], 0),
    ("Linear", {"units": 5}, [26, 26, 5], 45),
    ("BatchNormalization", {}, [26, 26, 8], 32),
    ("BatchNorm2d", {}, [26, 26, 8], 32),
]


@pytest.mark.parametrize(
    ("type_name", "params", "shape", "count"),
    [pytest.param(*row, id=row[0] + "-" + "-".join(row[1])) for row in ALIAS_LAYERS],
)
def test_contract_aliases_in_a_model(
    type_name: str, params: dict[str, Any], shape: list[int], count: int
) -> None:
    result = analyze({"input": [26, 26, 8], "layers": [{type_name: params}]}).to_dict()
    (row,) = result["layers"]
    assert (row["output_shape"], row["params"]) == (shape, count)


# -- the four layer forms of CONTRACT section 3 ---------------------------------------------------

FORMS = [
    pytest.param(
        [
            {"conv2d": {"filters": 32, "kernel": 3}},
            {"type": "conv2d", "filters": 32, "kernel": 3},
            {"conv2d": [32, 3]},
            {"conv2d": {"filters": 32, "kernel": 3, "stride": 1}},
        ],
        id="conv2d",
    ),
    pytest.param(
        [
            "maxpool2d",
            {"maxpool2d": 2},
            {"maxpool2d": {"size": 2}},
            {"type": "maxpool2d", "size": 2},
            {"maxpool2d": [2, 2]},
        ],
        id="maxpool2d",
    ),
    pytest.param(
        [{"dense": 10}, {"dense": {"units": 10}}, {"type": "dense", "units": 10}, {"dense": [10]}],
        id="dense",
    ),
    pytest.param(
        ["dropout", {"dropout": 0.5}, {"dropout": {"rate": 0.5}}, {"type": "dropout"}],
        id="dropout",
    ),
    pytest.param(
        [
            {"activation": "relu"},
            {"activation": {"function": "relu"}},
            {"type": "activation", "function": "relu"},
        ],
        id="activation",
    ),
    pytest.param(["flatten", {"type": "flatten"}, {"flatten": {}}], id="flatten"),
]


def _strip_names(result: dict[str, Any]) -> dict[str, Any]:
    return {**result, "layers": [{**row, "name": None} for row in result["layers"]]}


@pytest.mark.parametrize("forms", FORMS)
def test_layer_forms_agree(forms: list[object]) -> None:
    results = [
        analyze({"input": [28, 28, 1], "layers": [{"conv2d": [8, 3]}, form]}).to_dict()
        for form in forms
    ]
    for result in results[1:]:
        assert result == results[0]


def test_forms_give_the_expected_numbers() -> None:
    """Guards the agreement test against all forms being equally wrong."""
    layers = [{"conv2d": [32, 3]}, "maxpool2d", {"type": "flatten"}, {"dense": 10}]
    result = analyze({"input": [28, 28, 1], "layers": layers}).to_dict()
    assert [row["output_shape"] for row in result["layers"]] == [
        [26, 26, 32],
        [13, 13, 32],
        [5408],
        [10],
    ]
    assert [row["params"] for row in result["layers"]] == [320, 0, 0, 54_090]


@pytest.mark.parametrize(
    "form",
    [
        pytest.param({"conv2d": [32, 3, 2]}, id="positional-stride"),
        pytest.param({"conv2d": [32, "3x3", "2x2"]}, id="per-axis-strings"),
        pytest.param({"conv2d": [32, [3, 3], [2, 2]]}, id="per-axis-lists"),
        pytest.param({"conv2d": {"filters": "32", "kernel": "3", "stride": "2"}}, id="strings"),
        pytest.param(
            {"Conv2D": {"out_channels": 32, "kernel_size": 3, "strides": 2}}, id="aliases"
        ),
    ],
)
def test_positional_and_string_values(form: object) -> None:
    result = analyze({"input": [28, 28, 1], "layers": [form]}).to_dict()
    assert result["output_shape"] == [13, 13, 32]


def test_layer_names_default_keras_style_and_take_name() -> None:
    layers = [
        {"conv2d": [4, 3]},
        {"type": "conv2d", "filters": 4, "kernel": 3, "name": "middle"},
        {"conv2d": [4, 3], "name": "last"},
        {"conv2d": [4, 3]},
        "flatten",
    ]
    result = analyze({"input": [28, 28, 1], "layers": layers}).to_dict()
    assert [row["name"] for row in result["layers"]] == [
        "conv2d",
        "middle",
        "last",
        "conv2d_1",
        "flatten",
    ]
    assert [row["index"] for row in result["layers"]] == [1, 2, 3, 4, 5]
