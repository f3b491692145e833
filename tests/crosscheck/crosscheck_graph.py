"""Cross-check convcalc's graph language against real Keras 3 and PyTorch 2, by hand (never run
by pytest).

Random DAG models over what the model language gained with named tensors: leaves (conv2d,
conv2d_transpose, dense, max/avg pooling, upsampling, global pooling, flatten, batchnorm, relu,
sigmoid), names on any item and ``inputs:``/``input:`` taking earlier tensors (``input`` too),
skips across the network (UNet-like: a tensor named early, merged after downsampling and
upsampling), merge layers of 2-4 tensors of every kind (``add``, ``subtract``, ``multiply``,
``average``, ``maximum``, ``minimum``, ``concat``), ``residual``, ``branches``, ``split`` with
equal and unequal sections, blocks of one or two inputs whose widths are expressions over
``$in_channels``, ``$x_height``, ... and their parameters (``max``, ``min``, comparisons, floats,
``round``, ``int``, ``floor``, ``ceil``, ``make_divisible``), and items under ``if:``.

Each description is one convcalc model dict. An interpreter written here (never convcalc's code)
reads the same dict and builds the network in a framework: a Keras functional model (channels
last, and for some cases channels first too) and a PyTorch ``nn.Module`` whose ``forward`` walks
the description (its modules are made by a first pass on a zero input, as lazy modules are).
Expressions are evaluated by Python itself with torchvision's own ``_make_divisible`` (read from
the installed torchvision's source). The framework's result is compared with
``convcalc.analyze(spec).to_dict()``: every row in order (output shape, trainable and
non-trainable parameters), every named tensor's shape, the output shape, the totals (params,
trainable) and, in PyTorch, the MACs (FlopCounterMode). Receptive fields are convcalc's own and
are not compared.

Refusals: some cases carry one deliberate fault (mismatched shapes for a merge or concat,
subtract of three, split sections that do not add up or do not divide, concat of a flat vector
with an image). Where the framework raises, convcalc must raise ConvCalcError, at the same row.
Where convcalc refuses what the framework runs, that is a disagreement, except where convcalc is
stricter by design, counted apart:

- ``add``, ``subtract``, ``average``, ``maximum``, ``minimum`` need equal shapes in convcalc;
  Keras and PyTorch broadcast size-1 axes (README "Named tensors, merges and skip connections");
- ``split`` with ``sections: N`` needs N to divide the channels (as ``keras.ops.split`` does);
  ``torch.chunk`` runs and gives unequal parts.

How each construct is written in the frameworks:

- merges: Keras ``Add()``, ``Subtract()``, ``Multiply()``, ``Average()``, ``Maximum()``,
  ``Minimum()``, ``Concatenate(axis=channel)``; PyTorch ``a + b + ...``, ``torch.sub(*xs)``,
  ``a * b * ...``, ``sum(xs) / len(xs)``, ``torch.maximum``/``torch.minimum`` folded,
  ``torch.cat(xs, dim=1)``;
- split: PyTorch ``torch.chunk(x, N, dim=1)`` / ``torch.split(x, sizes, dim=1)``; Keras
  ``keras.ops.split(x, N, axis)``, and for sizes ``keras.ops.split(x, cut_points, axis)`` (it
  takes cut points, not sizes) followed by a check that each part has its declared size;
  the parts are unpacked into the paths (a count that differs raises);
- ``padding: 1`` in Keras is ``ZeroPadding2D(1)`` then a valid convolution.

PyTorch runs on a batch of 1 (as ``crosscheck.py``), Keras symbolically (batch None).

Run with the framework venv (KERAS_BACKEND=jax, JAX_PLATFORMS=cpu are set here)::

    /opt/fw/bin/python tests/crosscheck/crosscheck_graph.py --n 200 --seed 1
        [--framework keras|pytorch] [--verbose] [--no-shrink]

Every disagreement is printed with the smallest model (found by removing items while the same
disagreement remains) as YAML, and what each side said; the exit status is the number of
disagreements (capped at 100).
"""

from __future__ import annotations

import argparse
import ast
import copy
import functools
import importlib.util
import json
import math
import operator
import os
import random
import re
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore")

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import yaml  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from convcalc import ConvCalcError, analyze  # noqa: E402

KERAS, TORCH = "keras", "pytorch"
Shape = tuple[int, ...]

EQUAL_MERGES = ("add", "subtract", "average", "maximum", "minimum")
MERGES = (*EQUAL_MERGES, "multiply", "concat")
CONSTRUCTS = ("residual", "branches", "split")
EXTRA = ("name", "input", "inputs", "trainable", "if")
FIRST = {
    "conv2d": "filters",
    "conv2d_transpose": "filters",
    "dense": "units",
    "maxpool2d": "size",
    "avgpool2d": "size",
    "upsampling2d": "size",
}
"""The parameter a leaf's lone value gives (``maxpool2d: 2``, ``dense: 10``)."""


# -- expressions, evaluated by Python ------------------------------------------------------------


def _torchvision_make_divisible() -> Callable[..., Any]:
    """torchvision's ``_make_divisible``, taken from the installed torchvision's source (the
    package itself need not import)."""
    spec = importlib.util.find_spec("torchvision")
    if spec is not None and spec.submodule_search_locations:
        source = Path(next(iter(spec.submodule_search_locations))) / "models" / "_utils.py"
        if source.exists():
            tree = ast.parse(source.read_text())
            for node in tree.body:
                if isinstance(node, ast.FunctionDef) and node.name == "_make_divisible":
                    scope: dict[str, Any] = {"Optional": Optional}
                    exec(compile(ast.Module([node], []), str(source), "exec"), scope)
                    return scope["_make_divisible"]  # type: ignore[no-any-return]

    def make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
        # torchvision/models/_utils.py, copied: used only without torchvision's source
        if min_value is None:
            min_value = divisor
        new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
        if new_v < 0.9 * v:
            new_v += divisor
        return new_v

    return make_divisible


MAKE_DIVISIBLE = _torchvision_make_divisible()
FUNCTIONS = {
    "max": max,
    "min": min,
    "floor": math.floor,
    "ceil": math.ceil,
    "round": round,
    "int": int,
    "make_divisible": MAKE_DIVISIBLE,
}
REFERENCE = re.compile(r"\$([A-Za-z_]\w*)")


class Bad(Exception):
    """The description is outside what this harness reads (a dangling name, a missing
    parameter): no framework code could be written from it."""


class Refused(Exception):
    """The framework (or the generator's shape model) refused the network."""


def evaluate(text: str, env: dict[str, Any]) -> Any:
    def ref(match: re.Match[str]) -> str:
        if match.group(1) not in env:
            raise Bad(f"${match.group(1)} is not known here")
        return f"_env[{match.group(1)!r}]"

    code = REFERENCE.sub(ref, text)
    try:
        return eval(code, {"__builtins__": {}, **FUNCTIONS, "_env": env})  # noqa: S307
    except Bad:
        raise
    except Exception as problem:  # what Python says of the framework code's arithmetic
        raise Refused(f"expression {text!r}: {type(problem).__name__}: {problem}") from problem


def substitute(value: Any, env: dict[str, Any]) -> Any:
    if isinstance(value, str) and "$" in value:
        alone = re.fullmatch(r"\s*\$([A-Za-z_]\w*)\s*", value)
        if alone:
            if alone.group(1) not in env:
                raise Bad(f"${alone.group(1)} is not known here")
            return env[alone.group(1)]
        return evaluate(value, env)
    if isinstance(value, dict):
        return {k: substitute(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, env) for v in value]
    return value


def pair(value: Any, what: str) -> tuple[int, int]:
    """A window or factor as framework code passes it: one for both axes, or one per axis."""
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise Refused(f"{what} {value!r} is not one value per axis")
        return whole(value[0], what), whole(value[1], what)
    return whole(value, what), whole(value, what)


def whole(value: Any, what: str) -> int:
    """A count as framework code passes it: an int, or a whole float made int."""
    if isinstance(value, bool):
        raise Refused(f"{what} {value!r} is not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise Refused(f"{what} {value!r} is not a whole number")


# -- the interpreter: one description, any backend -------------------------------------------------


@dataclass
class Tensor:
    value: Any
    shape: Shape


@dataclass
class Scope:
    prefix: str
    names: dict[str, Tensor]
    parent: Scope | None
    env: dict[str, Any]
    trainable: bool = True

    def find(self, name: str) -> Tensor | None:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.names:
                return scope.names[name]
            scope = scope.parent
        return None

    def visible(self) -> dict[str, Tensor]:
        chain: list[Scope] = []
        scope: Scope | None = self
        while scope is not None:
            chain.append(scope)
            scope = scope.parent
        found: dict[str, Tensor] = {}
        for each in reversed(chain):
            found.update(each.names)
        return found

    def path(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def child(self, prefix: str, trainable: bool = True) -> Scope:
        return Scope(prefix, {}, self, self.env, self.trainable and trainable)


@dataclass
class Row:
    path: str | None
    """The row's dotted name where every part of it was given (None: a default name)."""
    kind: str
    shape: Shape
    trainable: int = 0
    frozen: int = 0


def parse(item: Any) -> tuple[str, Any, dict[str, Any]]:
    """(type, body, extra keys) of one item; a leaf's or block use's name, inputs and
    trainable may sit in its body too."""
    if isinstance(item, str):
        return item, None, {}
    if not isinstance(item, dict):
        raise Bad(f"not an item: {item!r}")
    if "type" in item:  # {type: conv2d, filters: 8, ...}, {type: add, inputs: [a, b]}
        kind = item["type"]
        body = {k: v for k, v in item.items() if k not in EXTRA and k != "type"}
        return kind, body or None, {k: item[k] for k in item if k in EXTRA}
    keys = [k for k in item if k not in EXTRA]
    if len(keys) != 1:
        raise Bad(f"an item needs one type key: {item!r}")
    kind, body = keys[0], item[keys[0]]
    extra = {k: item[k] for k in item if k in EXTRA}
    if isinstance(body, dict) and kind not in CONSTRUCTS:
        for key in ("name", "input", "inputs", "trainable"):
            if key in body:
                if key in extra or (
                    key in ("input", "inputs") and {"input", "inputs"} & set(extra)
                ):
                    raise Bad(f"{key} given twice")
                extra[key] = body[key]
        body = {k: v for k, v in body.items() if k not in ("name", "input", "inputs", "trainable")}
    return kind, body, extra


def without_if(item: Any) -> Any:
    return {k: v for k, v in item.items() if k != "if"} if isinstance(item, dict) else item


def input_names(extra: dict[str, Any]) -> list[str] | None:
    raw = extra.get("inputs", extra.get("input"))
    if raw is None:
        return None
    return [raw] if isinstance(raw, str) else list(raw)


def channel_axis(layout: str, rank: int) -> int:
    """The channel axis of a shape without the batch."""
    return 0 if layout == "chw" or rank == 1 else rank - 1


def sizes(shape: Shape, layout: str) -> dict[str, int]:
    if len(shape) == 1:
        return {"channels": shape[0], "features": shape[0]}
    axis = channel_axis(layout, len(shape))
    spatial = [d for i, d in enumerate(shape) if i != axis]
    found = {"channels": shape[axis]}
    labels = ("height", "width") if len(spatial) == 2 else ("length",)
    found.update(zip(labels, spatial, strict=True))
    return found


class Walker:
    """Walks a description on a backend, keeping every row and named tensor."""

    def __init__(self, backend: Any, blocks: dict[str, Any]) -> None:
        self.backend = backend
        self.blocks = blocks
        self.rows: list[Row] = []
        self.named: dict[str, tuple[Shape, str | None]] = {}
        """Named tensor's dotted path -> (shape, the convcalc row holding it: a row's name, or
        'block:PATH' for a block use's last row, None when a block made no row)."""
        self.refused_rows: set[int] = set()
        """Where a refusal came: the row it stopped at, and for a construct's merge or split
        also the construct's first row, where convcalc checks its paths' count and sections."""
        self.events: list[tuple[str, Any]] = []
        """Where the framework ran what convcalc is stricter about, with the row convcalc
        refuses at: ('broadcast', row, (kind, shapes)), ('uneven', row, sizes); and merges of
        tensors of different ranks: ('ranks', row, (kind, shapes))."""

    def run(self, spec: dict[str, Any], x: Any) -> Tensor:
        start = Tensor(x, self.backend.shape(x))
        scope = Scope("", {"input": start}, None, {})
        layers = spec.get("layers")
        if not isinstance(layers, list) or not layers:
            raise Bad("no layers")
        return self.walk(layers, scope, start)

    def walk(self, items: list[Any], scope: Scope, flow: Tensor) -> Tensor:
        for item in items:
            flow = self.item(item, scope, flow)
        return flow

    def item(self, item: Any, scope: Scope, flow: Tensor) -> Tensor:
        if isinstance(item, dict) and "if" in item:
            condition = item["if"]
            if isinstance(condition, str):
                condition = substitute(condition, scope.env)
            if not isinstance(condition, bool) and condition not in (0, 1):
                raise Bad(f"if {condition!r} is not a condition")
            if not condition:
                return flow
            item = {k: v for k, v in item.items() if k != "if"}
        item = substitute(item, scope.env)
        kind, body, extra = parse(item)
        names = input_names(extra)
        if kind in MERGES:
            if names is None:
                if not isinstance(body, list):
                    raise Bad(f"{kind} needs its inputs")
                names = body
            return self.merge_layer(kind, names, extra, scope)
        inputs = [flow] if names is None else [self.find(scope, n) for n in names]
        if kind in self.blocks:
            return self.use(kind, body, extra, scope, inputs)
        if len(inputs) != 1:
            raise Bad(f"{kind} takes one input")
        x = inputs[0]
        trainable = extra.get("trainable", True)
        if kind in CONSTRUCTS:
            if "name" not in extra:
                raise Bad(f"{kind} without a name (the harness names every construct)")
            path = scope.path(str(extra["name"]))
            inner = scope.child(path, trainable)
            out = getattr(self, kind)(body, inner, x, path)
            return self.keep(scope, extra, out, out_row=self.rows[-1].path)
        params = self.leaf_params(kind, body)
        try:
            value, made, frozen = self.backend.leaf(
                kind, params, x.value, scope.trainable and trainable
            )
        except Refused:
            self.refused_rows = {len(self.rows) + 1}
            raise
        out = Tensor(value, self.backend.shape(value))
        path = scope.path(str(extra["name"])) if "name" in extra else None
        self.rows.append(Row(path, kind, out.shape, made, frozen))
        return self.keep(scope, extra, out, out_row=path)

    def find(self, scope: Scope, name: Any) -> Tensor:
        found = scope.find(str(name))
        if found is None:
            raise Bad(f"no tensor named {name!r} here")
        return found

    def keep(self, scope: Scope, extra: dict[str, Any], out: Tensor, out_row: str | None) -> Tensor:
        if "name" in extra:
            name = str(extra["name"])
            scope.names[name] = out
            self.named[scope.path(name)] = (out.shape, out_row)
        return out

    @staticmethod
    def leaf_params(kind: str, body: Any) -> dict[str, Any]:
        if body is None:
            return {}
        if isinstance(body, dict):
            return dict(body)
        if kind in FIRST:
            return {FIRST[kind]: body}
        raise Bad(f"{kind}: {body!r}")

    def merge(
        self, kind: str, tensors: list[Tensor], path: str | None, start: int | None = None
    ) -> Tensor:
        shapes = [t.shape for t in tensors]
        if len({len(s) for s in shapes}) > 1:
            self.events.append(("ranks", len(self.rows) + 1, (kind, shapes)))
        try:
            value = self.backend.merge(kind, [t.value for t in tensors])
        except Refused:
            self.refused_rows = {len(self.rows) + 1} | ({start + 1} if start is not None else set())
            raise
        out = Tensor(value, self.backend.shape(value))
        if kind in EQUAL_MERGES and any(s != shapes[0] for s in shapes):
            self.events.append(("broadcast", len(self.rows) + 1, (kind, shapes)))
        self.rows.append(Row(path, kind, out.shape))
        return out

    def merge_layer(
        self, kind: str, names: list[Any], extra: dict[str, Any], scope: Scope
    ) -> Tensor:
        tensors = [self.find(scope, n) for n in names]
        path = scope.path(str(extra["name"])) if "name" in extra else None
        out = self.merge(kind, tensors, path)
        return self.keep(scope, extra, out, out_row=path)

    # -- constructs --------------------------------------------------------------------------
    def residual(self, body: Any, inner: Scope, x: Tensor, path: str) -> Tensor:
        if isinstance(body, list):
            body = {"layers": body}
        start = len(self.rows)
        main = self.walk(body.get("layers") or [], inner, x)
        shortcut = body.get("shortcut") or []
        if shortcut:
            side = self.walk(shortcut, inner.child(f"{path}.shortcut"), x)
        else:
            side = x
        return self.merge("add", [main, side], f"{path}.add", start)

    def branches(self, body: Any, inner: Scope, x: Tensor, path: str) -> Tensor:
        kind = body.get("merge", "concat")
        start = len(self.rows)
        outs = [self.walk(p, inner, x) for p in body["paths"]]
        return self.merge(kind, outs, f"{path}.{kind}", start)

    def split(self, body: Any, inner: Scope, x: Tensor, path: str) -> Tensor:
        kind = body.get("merge", "concat")
        paths = body["paths"]
        sections = body.get("sections", len(paths))
        if isinstance(sections, list):
            sections = [whole(s, "section") for s in sections]
        else:
            sections = whole(sections, "sections")
        start = len(self.rows)
        try:
            parts = self.backend.split(x.value, sections)
            if len(parts) != len(paths):  # a, b = parts
                raise Refused(f"ValueError: {len(parts)} parts unpacked into {len(paths)} paths")
        except Refused:
            self.refused_rows = {start + 1}
            raise
        tensors = [Tensor(p, self.backend.shape(p)) for p in parts]
        if isinstance(sections, int):
            axis = channel_axis(self.backend.layout, len(x.shape))
            cut = [t.shape[axis] for t in tensors]
            if len(set(cut)) > 1:
                self.events.append(("uneven", start + 1, cut))
        outs = [self.walk(p, inner, t) for p, t in zip(paths, tensors, strict=True)]
        return self.merge(kind, outs, f"{path}.{kind}", start)

    # -- blocks ------------------------------------------------------------------------------
    def use(
        self, kind: str, body: Any, extra: dict[str, Any], scope: Scope, inputs: list[Tensor]
    ) -> Tensor:
        block = self.blocks[kind]
        declared = block.get("inputs")
        names = (
            ([declared] if isinstance(declared, str) else list(declared)) if declared else ["input"]
        )
        if len(inputs) != len(names):
            raise Bad(f"block {kind} takes {len(names)} inputs, got {len(inputs)}")
        params = dict(block.get("params") or {})
        if isinstance(body, dict):
            for key, value in body.items():
                if key not in params:
                    raise Bad(f"block {kind} has no parameter {key}")
                params[key] = value
        elif body is not None:
            if len(params) != 1:
                raise Bad(f"block {kind} takes {len(params)} parameters")
            params[next(iter(params))] = body
        if any(v is None for v in params.values()):
            raise Bad(f"block {kind} needs a parameter")
        env = dict(params)
        for position, (name, tensor) in enumerate(zip(names, inputs, strict=True)):
            described = sizes(tensor.shape, self.backend.layout)
            if position == 0:
                env.update({f"in_{k}": v for k, v in described.items()})
            if declared:
                env.update({f"{name}_{k}": v for k, v in described.items()})
        if "name" not in extra:
            raise Bad("a block use without a name (the harness names every use)")
        path = scope.path(str(extra["name"]))
        given = {"input": inputs[0], **dict(zip(names, inputs, strict=True))}
        inner = Scope(path, given, None, env, scope.trainable and extra.get("trainable", True))
        before = len(self.rows)
        out = self.walk(block["layers"], inner, inputs[0])
        return self.keep(scope, extra, out, f"block:{path}" if len(self.rows) > before else None)


# -- backends --------------------------------------------------------------------------------------


def count(weights: Any) -> int:
    return sum(int(np.prod(w.shape)) for w in weights)


ZEROS = {"kernel_initializer": "zeros"}
"""Keras' random initialisers compile a kernel per weight shape under jax (seconds a model);
zeros count the same."""


class KerasBackend:
    """Keras' functional API on symbolic tensors (shapes checked by jax.eval_shape)."""

    def __init__(self, layout: str) -> None:
        self.layout = layout
        self.data_format = "channels_last" if layout == "hwc" else "channels_first"

    @staticmethod
    def shape(value: Any) -> Shape:
        return tuple(int(d) for d in value.shape[1:])

    def axis(self, value: Any) -> int:
        """The channel axis counting the batch."""
        return -1 if self.layout == "hwc" or len(value.shape) == 2 else 1

    def leaf(self, kind: str, p: dict[str, Any], x: Any, trainable: bool) -> tuple[Any, int, int]:
        kl, df = keras.layers, self.data_format
        made: list[Any] = []
        if kind == "conv2d":
            padding = p.get("padding", "valid")
            if isinstance(padding, int):
                made.append(kl.ZeroPadding2D(padding, data_format=df))
                padding = "valid"
            made.append(
                kl.Conv2D(
                    whole(p["filters"], "filters"),
                    whole(p["kernel"], "kernel"),
                    strides=whole(p.get("stride", 1), "stride"),
                    padding=padding,
                    use_bias=p.get("bias", True),
                    data_format=df,
                    **ZEROS,
                )
            )
        elif kind == "conv2d_transpose":
            made.append(
                kl.Conv2DTranspose(
                    whole(p["filters"], "filters"),
                    whole(p["kernel"], "kernel"),
                    strides=whole(p.get("stride", 1), "stride"),
                    use_bias=p.get("bias", True),
                    data_format=df,
                    **ZEROS,
                )
            )
        elif kind in ("maxpool2d", "avgpool2d"):
            cls = kl.MaxPooling2D if kind == "maxpool2d" else kl.AveragePooling2D
            size = pair(p.get("size", 2), "size")
            made.append(cls(size, strides=pair(p.get("stride", size), "stride"), data_format=df))
        elif kind == "upsampling2d":
            made.append(kl.UpSampling2D(pair(p.get("size", 2), "size"), data_format=df))
        elif kind == "global_avgpool2d":
            made.append(
                kl.GlobalAveragePooling2D(data_format=df, keepdims=p.get("keepdims", False))
            )
        elif kind == "flatten":
            made.append(kl.Flatten(data_format=df))
        elif kind == "dense":
            made.append(kl.Dense(whole(p["units"], "units"), use_bias=p.get("bias", True), **ZEROS))
        elif kind == "batchnorm":
            made.append(kl.BatchNormalization(axis=self.axis(x)))
        elif kind == "relu":
            made.append(kl.ReLU())
        elif kind == "sigmoid":
            made.append(kl.Activation("sigmoid"))
        else:
            raise Bad(f"no Keras layer for {kind}")
        try:
            for layer in made:
                layer.trainable = trainable
                x = layer(x)
        except Bad:
            raise
        except Exception as problem:
            raise Refused(f"{type(problem).__name__}: {problem}") from problem
        trainable_count = sum(count(layer.trainable_weights) for layer in made)
        frozen = sum(count(layer.non_trainable_weights) for layer in made)
        return x, trainable_count, frozen

    def merge(self, kind: str, xs: list[Any]) -> Any:
        kl = keras.layers
        layer = {
            "add": kl.Add,
            "subtract": kl.Subtract,
            "multiply": kl.Multiply,
            "average": kl.Average,
            "maximum": kl.Maximum,
            "minimum": kl.Minimum,
        }.get(kind)
        try:
            if kind == "concat":
                return kl.Concatenate(axis=self.axis(xs[0]))(xs)
            if layer is None:
                raise Bad(f"no merge {kind}")
            return layer()(xs)
        except Bad:
            raise
        except Exception as problem:
            raise Refused(f"{type(problem).__name__}: {problem}") from problem

    def split(self, x: Any, sections: int | list[int]) -> list[Any]:
        axis = self.axis(x)
        try:
            if isinstance(sections, int):
                return list(keras.ops.split(x, sections, axis=axis))
            cuts = list(np.cumsum(sections[:-1]).tolist())
            parts = list(keras.ops.split(x, cuts, axis=axis))
        except Exception as problem:
            raise Refused(f"{type(problem).__name__}: {problem}") from problem
        got = [int(p.shape[axis]) for p in parts]
        if got != sections:  # ops.split takes cut points: a sized split checks its parts
            raise Refused(f"keras.ops.split at {cuts} gives parts {got}, not the sizes {sections}")
        return parts


class TorchNet(nn.Module):
    """A PyTorch module whose forward walks the description; its modules are made on a first
    pass over a zero input (each leaf's in_channels read from the tensor it meets)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        super().__init__()
        self.spec = spec
        self.made = nn.ModuleList()
        self.building = True
        self.cursor = 0
        self.walker: Walker | None = None

    def build(self, x: Any) -> None:
        """The first pass: makes each module from the tensor it meets."""
        with torch.no_grad():
            self.forward(x)
        self.building = False

    def forward(self, x: Any) -> Any:
        self.cursor = 0
        self.walker = Walker(TorchBackend(self), self.spec.get("blocks") or {})
        return self.walker.run(self.spec, x).value

    def module(self, make: Callable[[], Any], trainable: bool) -> Any:
        if self.building:
            module = make().eval()
            if not trainable:
                module.requires_grad_(False)
            self.made.append(module)
        else:
            module = self.made[self.cursor]
        self.cursor += 1
        return module


class TorchBackend:
    layout = "chw"

    def __init__(self, net: TorchNet) -> None:
        self.net = net

    @staticmethod
    def shape(value: Any) -> Shape:
        return tuple(int(d) for d in value.shape[1:])

    def leaf(self, kind: str, p: dict[str, Any], x: Any, trainable: bool) -> tuple[Any, int, int]:
        c = int(x.shape[1])

        def make() -> Any:
            if kind == "conv2d":
                return nn.Conv2d(
                    c,
                    whole(p["filters"], "filters"),
                    whole(p["kernel"], "kernel"),
                    stride=whole(p.get("stride", 1), "stride"),
                    padding=p.get("padding", "valid"),
                    bias=p.get("bias", True),
                )
            if kind == "conv2d_transpose":
                return nn.ConvTranspose2d(
                    c,
                    whole(p["filters"], "filters"),
                    whole(p["kernel"], "kernel"),
                    stride=whole(p.get("stride", 1), "stride"),
                    bias=p.get("bias", True),
                )
            if kind in ("maxpool2d", "avgpool2d"):
                cls = nn.MaxPool2d if kind == "maxpool2d" else nn.AvgPool2d
                size = pair(p.get("size", 2), "size")
                return cls(size, stride=pair(p.get("stride", size), "stride"))
            if kind == "upsampling2d":
                factor = tuple(float(f) for f in pair(p.get("size", 2), "size"))
                return nn.Upsample(scale_factor=factor, mode="nearest")
            if kind == "global_avgpool2d":
                pool = nn.AdaptiveAvgPool2d(1)
                return pool if p.get("keepdims", False) else nn.Sequential(pool, nn.Flatten(1))
            if kind == "flatten":
                return nn.Flatten()
            if kind == "dense":
                return nn.Linear(
                    int(x.shape[-1]), whole(p["units"], "units"), bias=p.get("bias", True)
                )
            if kind == "batchnorm":
                return nn.BatchNorm2d(c) if x.dim() == 4 else nn.BatchNorm1d(c)
            if kind == "relu":
                return nn.ReLU()
            if kind == "sigmoid":
                return nn.Sigmoid()
            raise Bad(f"no PyTorch module for {kind}")

        try:
            module = self.net.module(make, trainable)
            y = module(x)
        except (Bad, Refused):
            raise
        except Exception as problem:
            raise Refused(f"{type(problem).__name__}: {problem}") from problem
        made = sum(q.numel() for q in module.parameters() if q.requires_grad)
        frozen = sum(q.numel() for q in module.parameters() if not q.requires_grad)
        return y, made, frozen

    @staticmethod
    def merge(kind: str, xs: list[Any]) -> Any:
        try:
            if kind == "add":
                return functools.reduce(operator.add, xs)
            if kind == "subtract":
                return torch.sub(*xs)
            if kind == "multiply":
                return functools.reduce(operator.mul, xs)
            if kind == "average":
                return sum(xs) / len(xs)
            if kind == "maximum":
                return functools.reduce(torch.maximum, xs)
            if kind == "minimum":
                return functools.reduce(torch.minimum, xs)
            if kind == "concat":
                return torch.cat(xs, dim=1)
        except Exception as problem:
            raise Refused(f"{type(problem).__name__}: {problem}") from problem
        raise Bad(f"no merge {kind}")

    @staticmethod
    def split(x: Any, sections: int | list[int]) -> list[Any]:
        try:
            if isinstance(sections, int):
                return list(torch.chunk(x, sections, dim=1))
            return list(torch.split(x, sections, dim=1))
        except Exception as problem:
            raise Refused(f"{type(problem).__name__}: {problem}") from problem


class ShapeBackend:
    """Shapes only, by the frameworks' rules (Keras' where they differ): the generator's model
    of what it writes, so that most networks it makes are valid."""

    def __init__(self, layout: str) -> None:
        self.layout = layout

    @staticmethod
    def shape(value: Any) -> Shape:
        return tuple(value)

    def leaf(
        self, kind: str, p: dict[str, Any], x: Shape, trainable: bool
    ) -> tuple[Shape, int, int]:
        axis = channel_axis(self.layout, len(x))
        spatial = [d for i, d in enumerate(x) if i != axis]
        c = x[axis]

        def image(new: list[int], channels: int) -> Shape:
            if min(new) < 1 or channels < 1:
                raise Refused(f"{kind}: empty output {new}")
            return (channels, *new) if self.layout == "chw" else (*new, channels)

        if kind in ("dense",):
            return (*x[:-1], whole(p["units"], "units")), 0, 0
        if kind in ("batchnorm", "relu", "sigmoid"):
            return x, 0, 0
        if kind == "flatten":
            return (math.prod(x),), 0, 0
        if len(x) != 3:
            raise Refused(f"{kind} needs an image, got {x}")
        if kind == "conv2d":
            k, s = whole(p["kernel"], "kernel"), whole(p.get("stride", 1), "stride")
            padding = p.get("padding", "valid")
            if padding == "same":
                new = [math.ceil(d / s) for d in spatial]
            else:
                pad = 0 if padding == "valid" else padding
                new = [(d + 2 * pad - k) // s + 1 for d in spatial]
            return image(new, whole(p["filters"], "filters")), 0, 0
        if kind == "conv2d_transpose":
            k, s = whole(p["kernel"], "kernel"), whole(p.get("stride", 1), "stride")
            return image([(d - 1) * s + k for d in spatial], whole(p["filters"], "filters")), 0, 0
        if kind in ("maxpool2d", "avgpool2d"):
            k2 = pair(p.get("size", 2), "size")
            s2 = pair(p.get("stride", k2), "stride")
            new = [(d - k) // s + 1 for d, k, s in zip(spatial, k2, s2, strict=True)]
            return image(new, c), 0, 0
        if kind == "upsampling2d":
            f2 = pair(p.get("size", 2), "size")
            return image([d * f for d, f in zip(spatial, f2, strict=True)], c), 0, 0
        if kind == "global_avgpool2d":
            return (image([1, 1], c) if p.get("keepdims") else (c,)), 0, 0
        raise Bad(f"no shape rule for {kind}")

    def merge(self, kind: str, xs: list[Shape]) -> Shape:
        if kind == "subtract" and len(xs) != 2:
            raise Refused("subtract of other than two")
        if kind == "concat":
            first = xs[0]
            if any(len(s) != len(first) for s in xs):
                raise Refused("concat of ranks")
            axis = channel_axis(self.layout, len(first))
            rest = {s[:axis] + s[axis + 1 :] for s in xs}
            if len(rest) > 1:
                raise Refused("concat of sizes")
            return first[:axis] + (sum(s[axis] for s in xs),) + first[axis + 1 :]
        rank = max(len(s) for s in xs)
        padded = [(1,) * (rank - len(s)) + s for s in xs]
        out = []
        for column in zip(*padded, strict=True):
            big = max(column)
            if any(d not in (1, big) for d in column):
                raise Refused("no broadcast")
            out.append(big)
        return tuple(out)

    def split(self, x: Shape, sections: int | list[int]) -> list[Shape]:
        axis = channel_axis(self.layout, len(x))
        c = x[axis]
        if isinstance(sections, int):
            if sections < 1 or c % sections:
                raise Refused("sections do not divide")
            parts = [c // sections] * sections
        else:
            if sum(sections) != c or min(sections) < 1:
                raise Refused("sizes do not add up")
            parts = sections
        return [x[:axis] + (p,) + x[axis + 1 :] for p in parts]


# -- the generator ----------------------------------------------------------------------------

WIDTHS = (
    "$in_channels",
    "$in_channels // 2",
    "$in_channels * 2",
    "max(4, $in_channels // 4)",
    "max(1, $in_channels // 4)",
    "($in_channels + 1) // 2",
    "ceil($in_channels / 3)",
    "floor($in_channels * 0.75)",
    "$in_channels * 0.5",
    "make_divisible($in_channels * $w, 8)",
    "make_divisible($in_channels * $w, 4, 2)",
    "round($in_channels * $w)",
    "int($in_channels * $w + 4) // 8 * 8",
    "$in_channels * $expand",
    "make_divisible($in_channels * $expand, 8)",
    "round($in_channels * $expand)",
    "$f",
    "$f * 2 if $wide else $f",
    "min($f, $in_channels)",
    "max($f, $in_channels)",
    "$f if $in_height >= 8 else $f * 2",
    "round($f * 1.5)",
    "$f - 1 if $f > 1 else 1",
    "$x_channels + $skip_channels",
    "$skip_channels",
    "$x_channels // 2",
    "max($x_channels // 2, 1)",
    "min($x_channels, $skip_channels)",
    "max($x_channels, $skip_channels) // 2",
    "$skip_channels if $x_height == $skip_height else $x_channels",
    "$in_width",
    "max(1, $in_width // 2)",
    "min($in_width, $in_channels) + 1",
    "$f if $in_width > $in_height else $in_channels",
    "$skip_width // 2 if $skip_width > 2 else $skip_channels",
    "max($in_height, $in_width) // 2",
)
"""Widths written as expressions inside blocks: each is used where it gives a count from 1 to
40 in the use at hand."""

CONDITIONS = (
    "$se",
    "not $se",
    "$in_height >= 8",
    "$in_height < 8",
    "$in_channels > 8",
    "$in_channels % 2 == 0",
    "$se and $in_channels > 4",
    "$f != $in_channels",
    "$f == $in_channels",
    "$wide or $in_height < 6",
    "$expand != 1",
    "$w >= 1",
    "max($in_height, $in_width) > 6",
    "$in_width * 0.5 >= 3",
    "$x_height < $skip_height",
    "$x_channels == $skip_channels",
    "min($x_channels, $skip_channels) >= 4",
    "$in_width > $in_height",
    "$in_width >= 8",
    "$in_height != $in_width",
    "$skip_width > $x_width",
)

PARAM_POOL: dict[str, Callable[[random.Random], Any]] = {
    "f": lambda rng: rng.randint(2, 16),
    "w": lambda rng: rng.choice([0.25, 0.5, 0.75, 1.0, 1.25, 1.5]),
    "wide": lambda rng: rng.random() < 0.5,
    "se": lambda rng: rng.random() < 0.5,
    "expand": lambda rng: rng.choice([1, 2, 3, 0.5, 1.5]),
}

PROBES = (
    "merge_mismatch",
    "concat_mismatch",
    "broadcast",
    "subtract_three",
    "split_sizes",
    "split_count",
    "concat_rank",
    "merge_rank",
)


@dataclass
class Writing:
    """Where the generator is writing: a list of items and the state after them."""

    scope: Scope
    items: list[Any]
    flow: Tensor
    flow_name: str | None
    env: dict[str, Any] | None
    """A block's parameters and input sizes (expressions are written), None outside blocks."""
    depth: int
    made_flow: bool = False
    """Whether the last item made the flow (an item under a false if makes nothing)."""


class Generator:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.layout = "hwc"
        self.blocks: dict[str, Any] = {}
        self.walker = Walker(ShapeBackend(self.layout), self.blocks)
        self.counter = 0
        self.probe: str | None = None

    # -- helpers -------------------------------------------------------------------------
    def fresh(self, prefix: str = "t") -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def channels(self, shape: Shape) -> int:
        return shape[channel_axis(self.layout, len(shape))]

    def spatial(self, shape: Shape) -> Shape:
        axis = channel_axis(self.layout, len(shape))
        return tuple(d for i, d in enumerate(shape) if i != axis)

    def emit(self, w: Writing, item: Any) -> Tensor:
        """Walk one item on the shape model and append it; Refused leaves ``w`` unchanged."""
        out = self.walker.item(item, w.scope, w.flow)
        w.items.append(item)
        w.made_flow = out is not w.flow
        if out is not w.flow:
            w.flow = out
            _, _, extra = parse(without_if(item))
            w.flow_name = str(extra["name"]) if "name" in extra else None
        return out

    def attempt(self, w: Writing, make: Callable[[], Any], tries: int = 4) -> bool:
        for _ in range(tries):
            try:
                item = make()
                if item is None:
                    return False
                self.emit(w, item)
                return True
            except (Refused, Bad, KeyError, IndexError, ValueError):
                continue
        return False

    def name_flow(self, w: Writing) -> str | None:
        """A name for the current flow: its own, ``input``, or one given now to the item that
        made it."""
        if w.flow_name is not None:
            return w.flow_name
        if w.flow is w.scope.find("input"):
            return "input"
        if not w.items or not w.made_flow:
            return None
        last = w.items[-1]
        kind, _, extra = parse(without_if(last))
        if kind in CONSTRUCTS or kind in self.blocks or "name" in extra:
            return None
        name = self.fresh()
        if isinstance(last, str):
            w.items[-1] = {last: None, "name": name}
        elif self.rng.random() < 0.5 and isinstance(last.get(kind), dict):
            last[kind]["name"] = name
        else:
            last["name"] = name
        w.scope.names[name] = w.flow
        w.flow_name = name
        return name

    def width(self, w: Writing, want: int | None = None, low: int = 1, high: int = 24) -> Any:
        """A count: in a block mostly an expression over its parameters and input sizes."""
        if w.env is not None and self.rng.random() < 0.8:
            options = [e for e in WIDTHS if set(REFERENCE.findall(e)) <= set(w.env)]
            self.rng.shuffle(options)
            for text in options:
                try:
                    value = evaluate(text, w.env)
                except (Refused, Bad):
                    continue
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    continue
                if (
                    float(value).is_integer()
                    and low <= value <= 40
                    and (want is None or value == want)
                ):
                    return text
        return want if want is not None else self.rng.randint(low, high)

    def condition(self, w: Writing) -> Any:
        if w.env is None:
            return self.rng.random() < 0.7
        options = [c for c in CONDITIONS if set(REFERENCE.findall(c)) <= set(w.env)]
        return self.rng.choice(options) if options else True

    def maybe_if(self, w: Writing, item: Any, chance: float) -> Any:
        if self.rng.random() >= chance:
            return item
        if isinstance(item, str):
            item = {item: None}
        return {**item, "if": self.condition(w)}

    # -- leaves ----------------------------------------------------------------------------
    def leaf(self, w: Writing, only: str | None = None) -> Any:
        rng, shape = self.rng, w.flow.shape
        if len(shape) == 1:
            kind = only or rng.choices(["dense", "batchnorm", "relu", "sigmoid"], [4, 1, 1, 0.3])[0]
        else:
            h, wd = self.spatial(shape)
            choices = {
                "conv2d": 5.0,
                "batchnorm": 1.0,
                "relu": 1.2,
                "sigmoid": 0.3,
                "maxpool2d": 1.0 if min(h, wd) >= 2 else 0.0,
                "avgpool2d": 0.4 if min(h, wd) >= 2 else 0.0,
                "upsampling2d": 0.4 if max(h, wd) <= 12 else 0.0,
                "conv2d_transpose": 0.4 if max(h, wd) <= 12 else 0.0,
            }
            kind = only or rng.choices(list(choices), list(choices.values()))[0]
        item: Any
        if kind == "conv2d":
            h, wd = self.spatial(shape)
            kernel = rng.choice([1, 3, 3]) if min(h, wd) >= 3 else 1
            stride = 2 if rng.random() < 0.2 and min(h, wd) >= 4 else 1
            if stride == 1:
                padding = (
                    rng.choice(["same", "valid", 1])
                    if kernel == 3
                    else rng.choice(["valid", "same"])
                )
            else:
                padding = rng.choice(["valid", 1]) if kernel == 3 else "valid"
                if rng.random() < 0.05:
                    padding = "same"  # Keras runs it, PyTorch refuses (and so must convcalc)
            params: dict[str, Any] = {"filters": self.width(w), "kernel": kernel}
            if stride != 1 or rng.random() < 0.2:
                params["stride"] = stride
            if padding != "valid" or rng.random() < 0.2:
                params["padding"] = padding
            if rng.random() < 0.25:
                params["bias"] = False
            item = {"conv2d": params}
        elif kind == "conv2d_transpose":
            item = {"conv2d_transpose": {"filters": self.width(w), "kernel": 2, "stride": 2}}
        elif kind in ("maxpool2d", "avgpool2d"):
            item = {kind: 2} if rng.random() < 0.5 else {kind: {"size": 2}}
        elif kind == "upsampling2d":
            item = {"upsampling2d": {"size": 2}}
        elif kind == "dense":
            units = self.width(w, high=16)
            item = (
                {"dense": units}
                if rng.random() < 0.4
                else {"dense": {"units": units, "bias": rng.random() < 0.8}}
            )
        else:
            item = kind if rng.random() < 0.5 else {kind: None}
        if rng.random() < 0.07:
            item = {item: None} if isinstance(item, str) else item
            item["trainable"] = False
        if rng.random() < 0.1:  # the mapping with a type key
            kind_, body, extra = parse(item)
            item = {
                "type": kind_,
                **(
                    body
                    if isinstance(body, dict)
                    else {FIRST[kind_]: body}
                    if body is not None
                    else {}
                ),
                **extra,
            }
        if rng.random() < 0.3:
            name = self.fresh()
            if isinstance(item, str):
                item = {item: None}
            item["name"] = name
        return item

    # -- adapters: a named tensor brought to a shape ----------------------------------------
    def adapt(
        self, w: Writing, source: str, tensor: Tensor, target: Shape, channels: bool
    ) -> str | None:
        """Items taking ``source`` to ``target``'s spatial size (and its channels when
        ``channels``); the name of the result, or None when no simple route exists."""
        rng = self.rng
        s, t = tensor.shape, target
        if len(s) != len(t):
            return None
        items: list[Any] = []
        if len(s) == 3:
            (sh, sw), (th, tw) = self.spatial(s), self.spatial(t)
            if (sh, sw) != (th, tw):
                ratio = None
                for r in (2, 4):
                    if sh // r == th and sw // r == tw:
                        items.append({"maxpool2d": {"size": r}})
                        break
                    if sh * r == th and sw * r == tw:
                        ratio = r
                        break
                else:
                    if not items:
                        return None
                if ratio == 2 and rng.random() < 0.5:
                    filters = self.channels(t) if channels else rng.randint(1, 12)
                    items.append(
                        {"conv2d_transpose": {"filters": filters, "kernel": 2, "stride": 2}}
                    )
                elif ratio is not None:
                    items.append({"upsampling2d": {"size": ratio}})
        c_now = self.channels(s)
        if items and "conv2d_transpose" in items[-1]:
            c_now = items[-1]["conv2d_transpose"]["filters"]
        if channels and c_now != self.channels(t):
            if len(s) == 1:
                items.append({"dense": self.channels(t)})
            else:
                kernel = rng.choice([1, 3])
                conv: dict[str, Any] = {"filters": self.channels(t), "kernel": kernel}
                if kernel == 3:
                    conv["padding"] = rng.choice(["same", 1])
                items.append({"conv2d": conv})
        elif not items or rng.random() < 0.3:
            if len(s) == 1:
                items.append({"dense": self.channels(t) if channels else rng.randint(1, 12)})
            else:
                items.append(
                    {
                        "conv2d": {
                            "filters": self.channels(t) if channels else rng.randint(1, 12),
                            "kernel": 1,
                        }
                    }
                )
        items[0] = {**items[0], "input": source}
        name = self.fresh()
        items[-1] = {**items[-1], "name": name}
        for item in items:
            self.emit(w, item)
        return name

    # -- merges of named tensors -------------------------------------------------------------
    def merge_layer(self, w: Writing, kind: str | None = None, count: int | None = None) -> Any:
        rng = self.rng
        kind = kind or rng.choice(MERGES)
        count = count or (2 if kind == "subtract" else rng.choice([2, 2, 3, 4]))
        if w.flow_name is None and not w.items and w.flow is not w.scope.find("input"):
            self.emit(w, self.leaf(w, "conv2d" if len(w.flow.shape) == 3 else "dense"))
        first = self.name_flow(w)
        if first is None:
            return None
        target = w.flow.shape
        chosen = [first]
        pool = [(n, t) for n, t in w.scope.visible().items() if n != first]
        rng.shuffle(pool)
        for name, tensor in pool:
            if len(chosen) == count:
                break
            same = tensor.shape == target
            fits = (
                kind == "concat"
                and len(tensor.shape) == len(target)
                and (
                    self.spatial(tensor.shape) == self.spatial(target) if len(target) == 3 else True
                )
            )
            if (same or fits) and rng.random() < 0.7:
                chosen.append(name)
                continue
            made = self.adapt(w, name, tensor, target, kind != "concat")
            if made is not None:
                chosen.append(made)
        while len(chosen) < count:
            made = self.adapt(w, first, w.scope.find(first) or w.flow, target, kind != "concat")
            if made is None:
                return None
            chosen.append(made)
        roll = rng.random()
        item: dict[str, Any] = (
            {kind: chosen}
            if roll < 0.75
            else {"type": kind, "inputs": chosen}
            if roll < 0.9
            else {kind: None, "inputs": chosen}
        )
        if rng.random() < 0.6:
            item["name"] = self.fresh("m")
        return item

    # -- paths of constructs ---------------------------------------------------------------
    def path(
        self,
        w: Writing,
        start: Tensor,
        channels: int | None,
        down: str | None,
        outer: dict[str, Tensor],
    ) -> list[Any] | None:
        """Items from ``start`` to ``channels`` (any when None), halving the size by ``down``
        (a stride-2 1x1 conv, a padded stride-2 3x3 conv, or a 2x2 max pool: each halves
        rounding alike on every path), in a scope of the construct's own."""
        rng = self.rng
        scope = w.scope.child(w.scope.prefix + ".p")
        sub = Writing(scope, [], start, None, w.env, w.depth + 1)
        if outer and rng.random() < 0.15:  # a path taking a tensor named before the construct
            name, tensor = rng.choice(list(outer.items()))
            if tensor.shape == start.shape:
                self.emit(sub, {"relu": None, "input": name})
        if down:
            if down == "pool":
                self.emit(sub, {"maxpool2d": 2})
            else:
                kernel = 1 if down == "conv1" else 3
                conv: dict[str, Any] = {
                    "filters": self.width(sub, low=1),
                    "kernel": kernel,
                    "stride": 2,
                }
                if kernel == 3:
                    conv["padding"] = 1
                self.emit(sub, {"conv2d": conv})
        for _ in range(rng.choice([0, 0, 1, 2])):
            kind = rng.choice(["batchnorm", "relu", "conv2d", "sigmoid"])
            if kind == "conv2d":
                self.emit(
                    sub,
                    {
                        "conv2d": {
                            "filters": self.width(sub),
                            "kernel": 3,
                            "padding": rng.choice(["same", 1]),
                        }
                    },
                )
            else:
                self.emit(sub, self.maybe_if(sub, kind, 0.3 if w.env else 0.05))
        if channels is not None and self.channels(sub.flow.shape) != channels:
            kernel = rng.choice([1, 3])
            conv = {"filters": self.width(sub, want=channels), "kernel": kernel}
            if kernel == 3:
                conv["padding"] = "same"
            self.emit(sub, {"conv2d": conv})
        return sub.items

    def downs(self, shape: Shape) -> str | None:
        h, wd = self.spatial(shape)
        if min(h, wd) < 4 or self.rng.random() < 0.7:
            return None
        options = ["conv1", "conv3"] + (["pool"] if h % 2 == 0 and wd % 2 == 0 else [])
        return self.rng.choice(options)

    def residual(self, w: Writing) -> Any:
        rng, shape = self.rng, w.flow.shape
        if len(shape) != 3:
            return None
        c = self.channels(shape)
        down = self.downs(shape)
        change = down is not None or rng.random() < 0.3
        target = rng.randint(1, 16) if change else c
        outer = dict(w.scope.visible())
        layers = self.path(w, w.flow, target, down, outer)
        if not layers:
            layers = [
                {"conv2d": {"filters": self.width(w, want=target), "kernel": 3, "padding": "same"}}
            ]
        body: dict[str, Any] = {"layers": layers}
        if change or rng.random() < 0.2:
            if target == c and down is None and rng.random() < 0.5:
                body["shortcut"] = ["batchnorm"]
            else:
                conv: dict[str, Any] = {"filters": target, "kernel": 1, "bias": False}
                if down:
                    conv = (
                        {"filters": target, "kernel": 3, "stride": 2, "padding": 1}
                        if down == "conv3"
                        else {**conv, "stride": 2}
                    )
                    if down == "pool":
                        body["shortcut"] = [
                            {"maxpool2d": 2},
                            {"conv2d": {"filters": target, "kernel": 1}},
                        ]
                if "shortcut" not in body:
                    body["shortcut"] = [{"conv2d": conv}, "batchnorm"]
        elif rng.random() < 0.3:
            body = layers  # the list form: the shortcut is the identity
        item: dict[str, Any] = {"residual": body, "name": self.fresh("r")}
        if rng.random() < 0.08:
            item["trainable"] = False
        return item

    def branches(self, w: Writing, kind: str | None = None, paths: int | None = None) -> Any:
        rng, shape = self.rng, w.flow.shape
        if len(shape) != 3:
            return None
        kind = kind or rng.choice(MERGES)
        n = paths or (2 if kind == "subtract" else rng.choice([2, 2, 3, 4]))
        down = self.downs(shape)
        target = rng.randint(1, 16)
        outer = dict(w.scope.visible())
        built = []
        for number in range(n):
            if kind == "multiply" and number == n - 1 and down is None and rng.random() < 0.5:
                # squeeze-and-excitation: a [1, 1, C] gate, broadcast by multiply
                squeeze = self.width(w, want=None) if w.env else rng.randint(1, 8)
                gate = [
                    {"global_avgpool2d": {"keepdims": True}},
                    {"conv2d": {"filters": squeeze, "kernel": 1}},
                    "relu",
                    {"conv2d": {"filters": target, "kernel": 1}},
                    "sigmoid",
                ]
                built.append(gate)
                continue
            want = None if kind == "concat" else target
            p = self.path(w, w.flow, want, down, outer)
            if p is None:
                return None
            built.append(p)
        if (
            kind != "concat"
            and down is None
            and all(p for p in built)
            and self.channels(shape) == target
            and rng.random() < 0.4
        ):
            built[0] = []  # the identity as a path
        return {"branches": {"merge": kind, "paths": built}, "name": self.fresh("b")}

    def split(self, w: Writing) -> Any:
        """Channels cut into equal parts (a count dividing them) or parts of given sizes, each
        path taking its part to a common width (any width for concat)."""
        rng, shape = self.rng, w.flow.shape
        if len(shape) != 3:
            return None
        c = self.channels(shape)
        if c < 2:
            return None
        sections: int | list[int]
        if rng.random() < 0.5:
            counts = [d for d in (2, 3, 4) if c % d == 0]
            if not counts:
                return None
            n = sections = rng.choice(counts)
            parts = [c // n] * n
        else:
            n = rng.randint(2, min(4, c))
            cuts = sorted(rng.sample(range(1, c), n - 1))
            parts = sections = [b - a for a, b in zip([0, *cuts], [*cuts, c], strict=True)]
        kind = rng.choices(list(MERGES), [1, 0.5, 1, 0.5, 0.5, 0.5, 4])[0]
        if kind == "subtract" and n != 2:
            kind = "concat"
        target = rng.randint(1, 12)
        down = self.downs(shape)
        outer = dict(w.scope.visible())
        built = []
        for size in parts:
            part = (*shape[:2], size) if self.layout == "hwc" else (size, *shape[1:])
            want = None if kind == "concat" else target
            if want is None and down is None and rng.random() < 0.4:
                built.append([])
                continue
            built.append(self.path(w, Tensor(part, part), want, down, outer))
        body: dict[str, Any] = {"sections": sections, "merge": kind, "paths": built}
        if rng.random() < 0.2 and isinstance(sections, int):
            del body["sections"]  # the default: as many equal parts as paths
        if kind == "concat" and rng.random() < 0.3:
            del body["merge"]  # the default merge
        return {"split": body, "name": self.fresh("s")}

    # -- skips across the network -----------------------------------------------------------
    def skip_merge(self, w: Writing) -> Any:
        """UNet's up step: the flow brought up to an earlier, larger named tensor and merged
        with it, inline or through a two-input block."""
        rng, shape = self.rng, w.flow.shape
        if len(shape) != 3:
            return None
        h, wd = self.spatial(shape)
        larger = [
            (n, t)
            for n, t in w.scope.visible().items()
            if len(t.shape) == 3 and any(self.spatial(t.shape) == (h * r, wd * r) for r in (2, 4))
        ]
        if not larger:
            return None
        skip, tensor = rng.choice(larger)
        me = self.name_flow(w)
        if me is None:
            return None
        if w.depth < 2 and rng.random() < 0.6:
            return self.block_use(w, [me, skip])
        kind = rng.choice(["concat", "concat", "add", "average", "maximum", "multiply"])
        up = self.adapt(w, me, w.flow, tensor.shape, kind != "concat")
        if up is None:
            return None
        order = [skip, up] if rng.random() < 0.6 else [up, skip]
        return {kind: order, "name": self.fresh("m")}

    # -- blocks -------------------------------------------------------------------------------
    def block_use(self, w: Writing, inputs: list[str] | None = None) -> Any:
        rng = self.rng
        two = inputs is not None and len(inputs) == 2
        arity = 2 if two else 1
        known = [n for n, b in self.blocks.items() if len(b.get("inputs") or ["input"]) == arity]
        if known and rng.random() < 0.5:
            name = rng.choice(known)
            block = self.blocks[name]
            item = self.use_item(w, name, block, inputs)
            return item
        return self.new_block(w, inputs)

    def use_item(
        self, w: Writing, name: str, block: dict[str, Any], inputs: list[str] | None
    ) -> Any:
        rng = self.rng
        params = block.get("params") or {}
        args: dict[str, Any] = {}
        for key, default in params.items():
            if default is None or rng.random() < 0.5:
                args[key] = PARAM_POOL[key](rng)
                if w.env is not None and key == "f" and rng.random() < 0.5:
                    args[key] = self.width(w, low=2)
        body: Any = dict(args)
        if inputs is not None:
            body["inputs"] = inputs
        elif rng.random() < 0.2:
            me = self.name_flow(w)
            if me is not None:
                body["input"] = me
        item: dict[str, Any]
        if len(params) == 1 and len(args) == 1 and set(body) == set(args) and rng.random() < 0.5:
            item = {name: next(iter(args.values()))}
        else:
            item = {name: body or None}
        use = self.fresh("u")
        if isinstance(item[name], dict) and rng.random() < 0.5:
            item[name]["name"] = use
        else:
            item["name"] = use
        if rng.random() < 0.06:
            item["trainable"] = False
        return item

    def new_block(self, w: Writing, inputs: list[str] | None) -> Any:
        rng = self.rng
        name = self.fresh("blk")
        keys = rng.sample(list(PARAM_POOL), rng.randint(1, 4))
        defaults = {
            k: (None if k == "f" and rng.random() < 0.3 else PARAM_POOL[k](rng)) for k in keys
        }
        block: dict[str, Any] = {"params": defaults, "layers": []}
        if inputs is not None:
            block["inputs"] = ["x", "skip"]
        use = self.use_item(w, name, block, inputs)
        # the body, written for this use: its parameters as given and its inputs' sizes
        kind, body, extra = parse({k: v for k, v in use.items() if k != "trainable"})
        taken = inputs or ([extra["input"]] if "input" in extra else [])
        given = [w.scope.find(n) for n in taken]
        tensors = [t for t in given if t is not None] or [w.flow]
        env = dict(defaults)
        if isinstance(body, dict):
            env.update(body)
        elif body is not None:
            env[keys[0]] = body
        try:
            env = substitute(env, w.env or {})
        except (Bad, Refused):
            return None
        for position, (label, tensor) in enumerate(
            zip(block.get("inputs") or ["input"], tensors, strict=True)
        ):
            described = sizes(tensor.shape, self.layout)
            if position == 0:
                env.update({f"in_{k}": v for k, v in described.items()})
            if inputs is not None:
                env.update({f"{label}_{k}": v for k, v in described.items()})
        names = {"input": tensors[0]}
        if inputs is not None:
            names.update(dict(zip(["x", "skip"], tensors, strict=True)))
        inner = Writing(Scope("", names, None, env), [], tensors[0], "input", env, w.depth + 1)
        try:
            if inputs is not None:
                self.fuse(inner)
            self.layer_list(inner, rng.randint(1, 4))
            last = inner.flow.shape
            self.emit(
                inner,
                self.leaf(
                    inner,
                    rng.choice(["conv2d", "relu", "batchnorm"]) if len(last) == 3 else "dense",
                ),
            )
        except (Refused, Bad):
            return None
        block["layers"] = inner.items
        self.blocks[name] = block
        return use

    def fuse(self, w: Writing) -> None:
        """A two-input block's start: x brought to skip's size, merged with it."""
        rng = self.rng
        x, skip = w.scope.find("x"), w.scope.find("skip")
        assert x is not None and skip is not None
        (xh, xw), (sh, sw) = self.spatial(x.shape), self.spatial(skip.shape)
        if (
            (xh, xw) != (sh, sw)
            and sh % xh == 0
            and sw % xw == 0
            and (xh < sh or xw < sw)
            and rng.random() < 0.5
        ):
            size = ["$skip_height // $x_height", "$skip_width // $x_width"]
            self.emit(
                w,
                {
                    "upsampling2d": {"size": size},
                    "if": rng.choice(
                        [
                            "$x_height < $skip_height or $x_width < $skip_width",
                            "$x_height * $x_width < $skip_height * $skip_width",
                        ]
                    ),
                },
            )
        elif (xh, xw) != (sh, sw):
            if sh % xh == 0 and sh // xh == sw // xw and sw % xw == 0:
                ratio = sh // xh
                if ratio == 2 and rng.random() < 0.5:
                    self.emit(
                        w,
                        {
                            "conv2d_transpose": {
                                "filters": self.width(w),
                                "kernel": 2,
                                "stride": 2,
                            },
                            "if": "$x_height < $skip_height",
                        },
                    )
                else:
                    self.emit(
                        w,
                        {
                            "upsampling2d": {"size": "$skip_height // $x_height"},
                            "if": "$x_height < $skip_height",
                        },
                    )
            elif xh % sh == 0 and xh // sh == xw // sw and xw % sw == 0:
                self.emit(
                    w,
                    {
                        "maxpool2d": {"size": "$x_height // $skip_height"},
                        "if": "$x_height > $skip_height",
                    },
                )
        kind = rng.choice(["concat", "concat", "add", "maximum", "average", "subtract", "multiply"])
        channels = self.channels(skip.shape)
        conv: dict[str, Any] = {
            "filters": self.width(w, want=channels) if kind != "concat" else self.width(w),
            "kernel": rng.choice([1, 3]),
        }
        if conv["kernel"] == 3:
            conv["padding"] = "same"
        self.emit(w, {"conv2d": {**conv, "name": "up"}})
        order = ["skip", "up"] if rng.random() < 0.6 else ["up", "skip"]
        self.emit(w, {kind: order})

    # -- lists -----------------------------------------------------------------------------
    def layer_list(self, w: Writing, budget: int, unet: bool = False) -> None:
        rng = self.rng
        for step in range(budget):
            shape = w.flow.shape
            image = len(shape) == 3
            h, wd = self.spatial(shape) if image else (0, 0)
            weights = {
                "leaf": 4.0,
                "merge": 1.6,
                "residual": 1.0 if image and w.depth < 3 else 0.0,
                "branches": 1.2 if image and w.depth < 3 else 0.0,
                "split": 1.0 if image and w.depth < 3 and self.channels(shape) >= 2 else 0.0,
                "block": 2.0 if w.depth == 0 else 0.8 if w.depth < 2 else 0.0,
                "skip": 2.5 if image and (unet or w.depth > 0) else 0.5 if image else 0.0,
                "down": 1.5 if unet and step < budget // 2 and min(h, wd) >= 4 else 0.0,
            }
            action = rng.choices(list(weights), list(weights.values()))[0]
            chance_if = 0.25 if w.env is not None else 0.03

            def make(action: str = action, chance_if: float = chance_if) -> Any:
                if action == "leaf":
                    return self.maybe_if(w, self.leaf(w), chance_if)
                if action == "merge":
                    return self.merge_layer(w)
                if action == "residual":
                    return self.maybe_if(w, self.residual(w), chance_if * 0.5)
                if action == "branches":
                    return self.branches(w)
                if action == "split":
                    return self.split(w)
                if action == "block":
                    return self.block_use(w)
                if action == "skip":
                    return self.skip_merge(w)
                if action == "down":
                    self.name_flow(w)
                    return (
                        {"maxpool2d": 2}
                        if rng.random() < 0.6
                        else {
                            "conv2d": {
                                "filters": rng.randint(2, 16),
                                "kernel": 3,
                                "stride": 2,
                                "padding": 1,
                            }
                        }
                    )
                raise AssertionError(action)

            self.attempt(w, make, 3)

    # -- probes: one deliberate fault --------------------------------------------------------
    def inject(self, w: Writing, probe: str) -> bool:
        rng = self.rng
        shape = w.flow.shape
        if len(shape) != 3 and probe not in ("subtract_three", "merge_mismatch"):
            return False
        if probe == "merge_mismatch":  # equal-shape merges and multiply of sizes that never fit
            kind = rng.choice(["add", "subtract", "average", "maximum", "minimum", "multiply"])
            first = self.name_flow(w)
            if first is None:
                return False
            op: dict[str, Any]
            if len(shape) == 3:
                h, wd = self.spatial(shape)
                c = self.channels(shape)
                if min(h, wd) >= 4 and (c == 1 or rng.random() < 0.5):
                    op = {"maxpool2d": 2}
                elif c > 1:
                    op = {"conv2d": {"filters": c + 1, "kernel": 1}}
                else:
                    return False
            else:
                if shape[0] == 1:
                    return False
                op = {"dense": shape[0] + 1}
            if rng.random() < 0.5 or len(shape) != 3:
                other = {**op, "input": first, "name": self.fresh()}
                self.emit(w, other)
                names = [first, other["name"]] if rng.random() < 0.5 else [other["name"], first]
                w.items.append({kind: names, "name": self.fresh("m")})
            else:
                w.items.append(
                    {"branches": {"merge": kind, "paths": [[], [op]]}, "name": self.fresh("b")}
                )
            return True
        if probe == "concat_mismatch":
            h, wd = self.spatial(shape)
            if min(h, wd) < 4:
                return False
            first = self.name_flow(w)
            if first is None:
                return False
            if rng.random() < 0.5:
                other = {"maxpool2d": 2, "input": first, "name": self.fresh()}
                self.emit(w, other)
                w.items.append({"concat": [first, other["name"]], "name": self.fresh("m")})
            else:
                w.items.append(
                    {
                        "branches": {
                            "merge": "concat",
                            "paths": [[], [{"conv2d": {"filters": 4, "kernel": 3}}]],
                        },
                        "name": self.fresh("b"),
                    }
                )
            return True
        if probe == "broadcast":  # size-1 axes: Keras and PyTorch broadcast, convcalc needs equal
            kind = rng.choice(EQUAL_MERGES)
            first = self.name_flow(w)
            if first is None:
                return False
            c = self.channels(shape)
            h, wd = self.spatial(shape)
            if rng.random() < 0.5 or c == 1:
                if h == 1 and wd == 1:
                    return False
                other = {
                    "global_avgpool2d": {"keepdims": True},
                    "input": first,
                    "name": self.fresh(),
                }
                path = [{"global_avgpool2d": {"keepdims": True}}]
            else:
                other = {
                    "conv2d": {"filters": 1, "kernel": 1},
                    "input": first,
                    "name": self.fresh(),
                }
                path = [{"conv2d": {"filters": 1, "kernel": 1}}]
            if rng.random() < 0.5:
                self.emit(w, other)
                names = [first, other["name"]] if rng.random() < 0.5 else [other["name"], first]
                self.emit(w, {kind: names, "name": self.fresh("m")})
            else:
                self.emit(
                    w, {"branches": {"merge": kind, "paths": [[], path]}, "name": self.fresh("b")}
                )
            return True
        if probe == "subtract_three":
            if rng.random() < 0.5 and len(shape) == 3:
                w.items.append(
                    {
                        "branches": {"merge": "subtract", "paths": [[], ["relu"], ["sigmoid"]]},
                        "name": self.fresh("b"),
                    }
                )
                return True
            item = self.merge_layer(w, "add", 3)
            if item is None:
                return False
            _, body, extra = parse(item)
            w.items.append({"subtract": input_names(extra) or body, "name": self.fresh("m")})
            return True
        c = self.channels(shape)
        if probe == "split_sizes":
            if c < 2:
                return False
            sizes_ = (
                rng.choice([[c // 2, c - c // 2 + 1], [1, c], [c - 1, 2], [c, 1]])
                if c > 2
                else [1, 2]
            )
            sizes_ = [max(s, 1) for s in sizes_]
            if sum(sizes_) == c:
                sizes_[-1] += 1
            w.items.append(
                {
                    "split": {"sections": sizes_, "merge": "concat", "paths": [[] for _ in sizes_]},
                    "name": self.fresh("s"),
                }
            )
            return True
        if probe == "split_count":
            bad = [d for d in (2, 3, 4) if c % d and d <= c]
            if bad and rng.random() < 0.7:
                n = rng.choice(bad)
                paths: list[list[Any]] = [[] for _ in range(n)]
                kind = "concat"
                w.items.append(
                    {
                        "split": {"sections": n, "merge": kind, "paths": paths},
                        "name": self.fresh("s"),
                    }
                )
                return True
            n = rng.choice([2, 3])
            w.items.append(
                {
                    "split": {
                        "sections": n,
                        "merge": "concat",
                        "paths": [[] for _ in range(n + 1)],
                    },
                    "name": self.fresh("s"),
                }
            )
            return True
        if probe in ("concat_rank", "merge_rank"):
            first = self.name_flow(w)
            if first is None:
                return False
            flat = {"global_avgpool2d": None, "input": first, "name": self.fresh()}
            self.emit(w, flat)
            kind = (
                "concat" if probe == "concat_rank" else rng.choice(["add", "multiply", "maximum"])
            )
            names = [first, flat["name"]] if rng.random() < 0.5 else [flat["name"], first]
            w.items.append({kind: names, "name": self.fresh("m")})
            return True
        raise AssertionError(probe)

    # -- a whole model ---------------------------------------------------------------------
    def model(self, probe_chance: float) -> dict[str, Any]:
        rng = self.rng
        channels = rng.randint(1, 8)
        h = rng.choice([4, 6, 8, 8, 12, 16, 16, 24, 32, 7, 10, 15])
        wd = h if rng.random() < 0.4 else rng.choice([4, 6, 8, 12, 16, 9, 24])
        shape = (h, wd, channels)
        start = Tensor(shape, shape)
        scope = Scope("", {"input": start}, None, {})
        w = Writing(scope, [], start, "input", None, 0)
        unet = rng.random() < 0.5 and min(h, wd) >= 8
        budget = rng.randint(3, 9) + (3 if unet else 0)
        probe = rng.choice(PROBES) if rng.random() < probe_chance else None
        at = rng.randint(1, budget) if probe else None
        for step in range(budget):
            if probe and step == at:
                try:
                    if self.inject(w, probe):
                        self.probe = probe
                        break
                except (Refused, Bad):
                    break
            self.layer_list(w, 1, unet and step > 0)
        else:
            if probe and self.probe is None:
                try:
                    if self.inject(w, probe):
                        self.probe = probe
                except (Refused, Bad):
                    pass
        if self.probe is None and len(w.flow.shape) == 3 and rng.random() < 0.5:
            head = "global_avgpool2d" if rng.random() < 0.6 else "flatten"
            self.attempt(w, lambda: head if rng.random() < 0.5 else {head: None})
            for _ in range(rng.randint(1, 2)):
                self.attempt(w, lambda: self.leaf(w, "dense"))
            if rng.random() < 0.3:
                self.attempt(
                    w, lambda: self.merge_layer(w, rng.choice(["add", "concat", "maximum"]))
                )
        if not w.items:
            w.items.append({"conv2d": {"filters": 4, "kernel": 1}})
        used = set()
        text = json.dumps(w.items)
        for name in self.blocks:
            if f'"{name}"' in text:
                used.add(name)
        changed = True
        while changed:  # blocks used only by other blocks
            changed = False
            for name in list(self.blocks):
                if name not in used and any(
                    f'"{name}"' in json.dumps(self.blocks[u]["layers"]) for u in used
                ):
                    used.add(name)
                    changed = True
        desc: dict[str, Any] = {"input": {"height": h, "width": wd, "channels": channels}}
        blocks = {k: v for k, v in self.blocks.items() if k in used}
        if blocks:
            desc["blocks"] = blocks
        desc["layers"] = w.items
        return desc


# -- running one description -------------------------------------------------------------------


def convcalc_spec(desc: dict[str, Any], framework: str, layout: str) -> dict[str, Any]:
    size = desc["input"]
    shape = [size["height"], size["width"], size["channels"]]
    if layout == "chw":
        shape = [size["channels"], size["height"], size["width"]]
    spec: dict[str, Any] = {"input": shape, "framework": framework, "layout": layout}
    if "blocks" in desc:
        spec["blocks"] = desc["blocks"]
    spec["layers"] = desc["layers"]
    return spec


@dataclass
class Seen:
    """What the framework made of a description."""

    walker: Walker | None
    output: Shape | None = None
    macs: int | None = None
    error: str = ""
    bad: str = ""


def run_framework(spec: dict[str, Any], framework: str, layout: str, batch: int = 1) -> Seen:
    shape = tuple(spec["input"])
    if framework == KERAS:
        keras.utils.clear_session()
        walker = Walker(KerasBackend(layout), spec.get("blocks") or {})
        try:
            out = walker.run(spec, keras.Input(shape=shape))
        except Bad as problem:
            return Seen(walker, bad=str(problem))
        except Refused as problem:
            return Seen(walker, error=str(problem))
        return Seen(walker, out.shape)
    x = torch.zeros((batch, *shape))
    net = TorchNet(spec)
    try:
        net.build(x)
    except Bad as problem:
        return Seen(net.walker, bad=str(problem))
    except Refused as problem:
        return Seen(net.walker, error=str(problem))
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        y = net(x)
    walker = net.walker
    assert walker is not None
    return Seen(walker, tuple(int(d) for d in y.shape[1:]), counter.get_total_flops() // 2)


@dataclass
class Outcome:
    category: str
    """agree, refused_both, stricter_broadcast, stricter_chunk, bad, or a disagreement's kind."""
    lines: list[str] = field(default_factory=list)
    convcalc: str = ""
    framework: str = ""

    @property
    def disagrees(self) -> bool:
        return self.category not in (
            "agree",
            "refused_both",
            "stricter_broadcast",
            "stricter_chunk",
            "batch_dependent",
            "bad",
        )


def judge(desc: dict[str, Any], framework: str, layout: str) -> Outcome:
    """convcalc against the framework on one description. PyTorch broadcasts with the batch
    axis in: where tensors of different ranks meet in a merge, it runs again on a batch of 2,
    and a different result is told apart (convcalc's shapes leave the batch out)."""
    spec = convcalc_spec(desc, framework, layout)
    seen = run_framework(spec, framework, layout)
    outcome = judge_seen(spec, framework, seen)
    settled = outcome.category in ("refused_both", "stricter_broadcast", "stricter_chunk", "bad")
    if (
        framework == TORCH
        and not settled
        and seen.walker
        and any(e[0] == "ranks" for e in seen.walker.events)
    ):
        again = run_framework(spec, framework, layout, batch=2)
        if (bool(again.error), again.output) != (bool(seen.error), seen.output):
            said = again.error or f"ran: output {list(again.output or ())}"
            outcome = Outcome(
                "batch_dependent",
                [f"batch 1: {outcome.framework}; batch 2: {said}"],
                outcome.convcalc,
                f"batch 1: {outcome.framework}; batch 2: {said}",
            )
    return outcome


def judge_seen(spec: dict[str, Any], framework: str, seen: Seen) -> Outcome:
    if seen.bad:
        return Outcome("bad", [f"harness cannot read it: {seen.bad}"])
    try:
        report = analyze(copy.deepcopy(spec)).to_dict()
        refusal = ""
    except ConvCalcError as error:
        report, refusal = None, str(error)
    except Exception as error:  # a crash in convcalc is always a bug
        return Outcome(
            "convcalc crashed",
            [f"{type(error).__name__}: {error}"],
            f"crash: {error}",
            seen.error or "ran",
        )
    framework_said = seen.error or f"ran: output {list(seen.output or ())}"
    if report is None:
        at = re.match(r"layer (\d+)", refusal)
        events = {(e[0], e[1]) for e in seen.walker.events} if seen.walker and at else set()
        if (
            "needs equal shapes" in refusal
            and ("broadcast", int(at.group(1)) if at else 0) in events
        ):
            return Outcome("stricter_broadcast", [], refusal, framework_said)
        if "equal parts" in refusal and ("uneven", int(at.group(1)) if at else 0) in events:
            return Outcome("stricter_chunk", [], refusal, framework_said)
        if seen.error:
            at = re.match(r"layer (\d+)", refusal)
            walked = seen.walker.refused_rows if seen.walker else set()
            if at and walked and int(at.group(1)) not in walked:
                return Outcome(
                    "refused at another row",
                    [
                        f"convcalc refused at layer {at.group(1)}, {framework} at row "
                        f"{sorted(walked)}"
                    ],
                    refusal,
                    seen.error,
                )
            return Outcome("refused_both", [], refusal, seen.error)
        return Outcome(
            "convcalc refused what the framework runs", [refusal], refusal, framework_said
        )
    if seen.error:
        return Outcome(
            "convcalc accepted what the framework refuses",
            [seen.error[:300]],
            f"ran: output {report['output_shape']}",
            seen.error,
        )
    assert seen.walker is not None
    lines = compare(report, seen, framework)
    said = f"output {report['output_shape']}, params {report['totals']['params']}"
    if lines:
        return Outcome(lines[0].split(":")[0], lines, said, framework_said)
    return Outcome("agree", [], said, framework_said)


COMPARED: Counter[str] = Counter()
"""What the comparisons covered: rows, named tensors, merges by kind, ..."""


def compare(report: dict[str, Any], seen: Seen, framework: str) -> list[str]:
    walker = seen.walker
    assert walker is not None
    rows = report["layers"]
    COMPARED["rows"] += len(rows)
    COMPARED["named tensors"] += sum(1 for _, where in walker.named.values() if where)
    for row in rows:
        if row["type"] in MERGES:
            COMPARED[f"{row['type']} of {len(row.get('input_shapes', []))}"] += 1
    problems: list[str] = []
    if len(rows) != len(walker.rows):
        problems.append(f"row count: convcalc {len(rows)}, {framework} {len(walker.rows)}")
    for row, mine in zip(rows, walker.rows, strict=False):  # a short one is told above
        got = (tuple(row["output_shape"]), row["trainable_params"], row["non_trainable_params"])
        want = (mine.shape, mine.trainable, mine.frozen)
        if got != want:
            problems.append(
                f"row: {row['name']} ({row['type']}): convcalc {got}, {framework} {want}"
            )
        if mine.path is not None and row["name"] != mine.path:
            problems.append(f"row name: convcalc {row['name']!r}, the description's {mine.path!r}")
        if len(problems) > 6:
            break
    by_name = {row["name"]: row for row in rows}
    for path, (shape, where) in walker.named.items():
        if where is None:
            continue
        if where.startswith("block:"):
            prefix = where[len("block:") :] + "."
            inside = [row for row in rows if row["name"].startswith(prefix)]
            row = inside[-1] if inside else None
        else:
            row = by_name.get(where)
        if row is None:
            problems.append(f"named: {path!r} has no row in convcalc's report")
        elif tuple(row["output_shape"]) != shape:
            problems.append(
                f"named: {path!r}: convcalc {row['output_shape']}, {framework} {list(shape)}"
            )
    if tuple(report["output_shape"]) != seen.output:
        problems.append(
            f"output: convcalc {report['output_shape']}, {framework} {list(seen.output or ())}"
        )
    totals = report["totals"]
    params = sum(r.trainable + r.frozen for r in walker.rows)
    trainable = sum(r.trainable for r in walker.rows)
    if (totals["params"], totals["trainable_params"]) != (params, trainable):
        problems.append(
            f"totals: convcalc params {totals['params']} trainable {totals['trainable_params']}, "
            f"{framework} {params} trainable {trainable}"
        )
    if seen.macs is not None and seen.macs != totals["macs"]:
        problems.append(f"macs: convcalc {totals['macs']}, torch {seen.macs}")
    return problems


# -- shrinking a disagreement -------------------------------------------------------------------


def lists_in(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], list[Any]]]:
    """Every list of items (or of paths, or merge inputs) in a description, with its path."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from lists_in(inner, (*path, key))
    elif isinstance(value, list):
        yield path, value
        for index, inner in enumerate(value):
            yield from lists_in(inner, (*path, index))


def get(value: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        value = value[key]
    return value


def smaller(desc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Descriptions with one thing less: an item, a path, a merge input, a block, an if, a
    trainable, a shortcut."""
    for path, items in list(lists_in({"layers": desc["layers"], "blocks": desc.get("blocks", {})})):
        last = path[-1] if path else None
        if last == "sections":
            continue
        for index in range(len(items)):
            if last == "paths" and len(items) <= 2:
                break
            if last in MERGES and len(items) <= 2:
                break
            if last == "layers" and len(items) <= 1:
                break
            candidate = copy.deepcopy(desc)
            holder = get(
                {"layers": candidate["layers"], "blocks": candidate.get("blocks", {})}, path
            )
            del holder[index]
            if last == "paths":
                parent = get(
                    {"layers": candidate["layers"], "blocks": candidate.get("blocks", {})},
                    path[:-1],
                )
                if isinstance(parent.get("sections"), list):
                    del parent["sections"][index]
                elif isinstance(parent.get("sections"), int):
                    parent["sections"] = len(holder)
            yield candidate
    for name in list(desc.get("blocks", {})):
        candidate = copy.deepcopy(desc)
        del candidate["blocks"][name]
        if not candidate["blocks"]:
            del candidate["blocks"]
        yield candidate
    text = json.dumps(desc)
    for key in ('"if"', '"trainable"', '"shortcut"'):
        if key in text:
            candidate = json.loads(text)
            strip(candidate, key.strip('"'))
            yield candidate
    size = desc["input"]
    for key in ("height", "width", "channels"):
        if size[key] > 2:
            candidate = copy.deepcopy(desc)
            candidate["input"][key] = (
                max(1, size[key] // 2) if key == "channels" else size[key] // 2
            )
            yield candidate


def strip(value: Any, key: str) -> None:
    if isinstance(value, dict):
        value.pop(key, None)
        for inner in value.values():
            strip(inner, key)
    elif isinstance(value, list):
        for inner in value:
            strip(inner, key)


def shrink(
    desc: dict[str, Any], framework: str, layout: str, category: str, budget: float
) -> dict[str, Any]:
    deadline = time.monotonic() + budget
    progress = True
    while progress and time.monotonic() < deadline:
        progress = False
        for candidate in smaller(desc):
            if time.monotonic() > deadline:
                break
            try:
                outcome = judge(candidate, framework, layout)
            except Exception:
                continue
            if outcome.category == category:
                desc, progress = candidate, True
                break
    return desc


def as_yaml(spec: dict[str, Any]) -> str:
    return yaml.safe_dump(spec, sort_keys=False, default_flow_style=None, width=100)


def features(desc: dict[str, Any]) -> set[str]:
    """What one description uses, for the summary."""
    text = json.dumps(desc)
    found = set()
    for kind in MERGES:
        if f'"{kind}": [' in text:
            found.add(f"{kind} layer")
        if f'"merge": "{kind}"' in text:
            found.add(f"{kind} construct")
    patterns = {
        "residual": '"residual":',
        "branches": '"branches":',
        "split equal": r'"sections": \d',
        "split sizes": '"sections": [',
        "blocks": '"blocks":',
        "two-input block": '"inputs": ["x", "skip"]',
        "if": '"if":',
        "input names": '"input": "',
        "inputs lists": '"inputs": [',
        "$in_ sizes": "$in_",
        "$x_/$skip_ sizes": "$skip_",
        "make_divisible": "make_divisible",
        "frozen": '"trainable": false',
        "upsampling/transpose": "upsampling2d",
    }
    for label, pattern in patterns.items():
        if re.search(pattern, text) if "\\" in pattern else pattern in text:
            found.add(label)
    return found


# -- main ------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100, help="models to generate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--framework", choices=[KERAS, TORCH], help="only this framework")
    parser.add_argument("--probes", type=float, default=0.35, help="share of models with a fault")
    parser.add_argument("--verbose", action="store_true", help="print every model")
    parser.add_argument("--no-shrink", action="store_true", help="print disagreements as found")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    tally: Counter[str] = Counter()
    per_probe: dict[str, Counter[str]] = {}
    constructs: Counter[str] = Counter()
    disagreements: list[tuple[str, str, str, Outcome, dict[str, Any]]] = []
    seen_kinds: set[tuple[str, str]] = set()
    batchy: list[tuple[str, dict[str, Any], Outcome]] = []
    runs = 0
    started = time.monotonic()
    for n in range(args.n):
        gen = Generator(random.Random(rng.getrandbits(64)))
        desc = gen.model(args.probes)
        constructs.update(features(desc))
        configs = []
        if args.framework != TORCH:
            configs.append((KERAS, "hwc" if rng.random() < 0.7 else "chw"))
        if args.framework != KERAS:
            configs.append((TORCH, "chw"))
        for framework, layout in configs:
            runs += 1
            outcome = judge(desc, framework, layout)
            tally[outcome.category if not outcome.disagrees else "disagree"] += 1
            per_probe.setdefault(gen.probe or "none", Counter())[outcome.category] += 1
            if outcome.category == "batch_dependent":
                small = (
                    desc
                    if args.no_shrink or batchy
                    else shrink(desc, framework, layout, outcome.category, 60.0)
                )
                final = judge(small, framework, layout)
                batchy.append((f"model {n}", convcalc_spec(small, framework, layout), final))
            if args.verbose or outcome.disagrees or outcome.category == "bad":
                print(f"# model {n} ({framework}, {layout}, probe {gen.probe}): {outcome.category}")
                if args.verbose and not outcome.disagrees:
                    print(json.dumps(convcalc_spec(desc, framework, layout)))
            if outcome.disagrees:
                key = (framework, outcome.category)
                small = desc
                if not args.no_shrink and key not in seen_kinds:
                    small = shrink(desc, framework, layout, outcome.category, 120.0)
                seen_kinds.add(key)
                final = judge(small, framework, layout)
                spec = convcalc_spec(small, framework, layout)
                print(as_yaml(spec))
                for line in final.lines[:8]:
                    print("  DISAGREE:", line)
                print("  convcalc:", final.convcalc[:400])
                print(f"  {framework}:", final.framework[:400])
                disagreements.append((f"model {n}", framework, layout, final, spec))
    elapsed = time.monotonic() - started
    print()
    print(f"{args.n} models, {runs} framework runs in {elapsed:.0f} s")
    print(
        f"  agree: {tally['agree']}; refusals agreed: {tally['refused_both']}; stricter by design: "
        f"{tally['stricter_broadcast']} (equal-shape merge of broadcastable shapes), "
        f"{tally['stricter_chunk']} (sections that torch.chunk cuts unevenly); "
        f"disagreements: {tally['disagree']}; harness could not read: {tally['bad']}"
    )
    print(
        f"  PyTorch runs whose result changes from batch 1 to batch 2 (a merge of tensors of "
        f"different ranks; not counted above as agreeing or not): {tally['batch_dependent']}"
    )
    for label, spec, outcome in batchy[:3]:
        print(f"    {label}: convcalc {outcome.convcalc}; pytorch {outcome.framework}")
        print("      " + json.dumps(spec))
    print("  by probe:", {k: dict(v) for k, v in sorted(per_probe.items())})
    print("  models using:", dict(sorted(constructs.items())))
    print("  compared (accepted by both):", dict(sorted(COMPARED.items())))
    return min(len(disagreements), 100)


if __name__ == "__main__":
    sys.exit(main())
