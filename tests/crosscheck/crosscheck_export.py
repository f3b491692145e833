"""Cross-check ``convcalc export`` against real PyTorch and Keras, by hand (never run by pytest).

Every zoo model is exported to its own framework, and random models over every kind (chains,
residuals, branches, splits and merges, layers frozen at random) to each framework; the code is
executed and the network it builds is compared with convcalc's figures: total parameters,
trainable parameters and the output shape, and row by row each submodule's (PyTorch) or
layer's (Keras) output shape and its trainable and non-trainable parameters. PyTorch builds on
the meta device (nothing allocated); Keras builds one model at a time and frees it.

Run with the framework venv::

    /opt/fw/bin/python tests/crosscheck/crosscheck_export.py --zoo [NAME or FILE ...]
    /opt/fw/bin/python tests/crosscheck/crosscheck_export.py --random 300 [--seed 1]
    /opt/fw/bin/python tests/crosscheck/crosscheck_export.py --zoo --framework pytorch
    /opt/fw/bin/python tests/crosscheck/crosscheck_export.py --zoo --other
    /opt/fw/bin/python tests/crosscheck/crosscheck_export.py --fidelity
    /opt/fw/bin/python tests/crosscheck/crosscheck_export.py --round-trip [NAME ...]

``--other`` exports each zoo model to the other framework instead (what that framework's rules
refuse is listed as refused); ``--fidelity`` runs the PyTorch helper classes (window attention,
patch merging, LayerNorm2d, channel shuffle) against torchvision's modules with the same
weights; ``--round-trip`` exports each Keras zoo model, saves the built model's config
(``model.to_json()``) and reads it back with ``convcalc model``: the same parameters, trainable
parameters, MACs and output.

A disagreement prints the model (random ones as YAML) and what differs; the exit status is the
number of models that disagree (capped at 100). A model convcalc refuses to export is listed
with the reason, and is not a disagreement.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import random
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore")

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from convcalc import ConvCalcError  # noqa: E402
from convcalc._export import (  # noqa: E402
    ExportPlan,
    LayerStep,
    MergeStep,
    SplitStep,
    export_plan,
)
from convcalc._input._zoo import load_zoo, zoo_index  # noqa: E402
from convcalc._model import read_model  # noqa: E402
from convcalc._settings import Framework  # noqa: E402
from convcalc._vocab import ACTIVATIONS  # noqa: E402

Shape = tuple[int, ...]


@dataclass
class Seen:
    """What the framework built from the exported code."""

    params: int
    trainable: int
    output: Shape
    rows: dict[str, tuple[Shape, int, int]] = field(default_factory=dict)
    """Row name -> (output shape, trainable, non-trainable) of its submodule or layer."""


def export(spec: dict[str, Any], framework: Framework | None) -> tuple[ExportPlan, str]:
    """convcalc's plan and code for a model mapping."""
    plan = export_plan(read_model(spec), framework)
    if plan.framework is Framework.PYTORCH:
        from convcalc._render._pytorch import render_pytorch

        return plan, render_pytorch(plan)
    from convcalc._render._keras import render_keras

    return plan, render_keras(plan)


def run_torch(code: str) -> Seen:
    import torch

    namespace: dict[str, Any] = {"__name__": "exported"}
    exec(compile(code, "<exported>", "exec"), namespace)  # noqa: S102 - our own output
    with torch.device("meta"):
        model = namespace["build"]()
        shape = type(model).INPUT_SHAPE
        dtype = torch.long if "dtype=torch.long" in code else torch.float32
        x = torch.zeros(1, *shape, dtype=dtype)
        rows: dict[str, tuple[Shape, int, int]] = {}
        hooks = []
        for attribute, name in type(model).ROW_NAMES.items():
            module = getattr(model, attribute)
            own = list(module.parameters())
            trainable = sum(p.numel() for p in own if p.requires_grad)
            frozen = sum(p.numel() for p in own if not p.requires_grad)

            def hook(
                _: Any, __: Any, out: Any, name: str = name, t: int = trainable, f: int = frozen
            ) -> None:
                rows[name] = (tuple(int(d) for d in out.shape[1:]), t, f)

            hooks.append(module.register_forward_hook(hook))
        model.eval()
        with torch.no_grad():
            y = model(x)
    params = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return Seen(params, trainable, tuple(int(d) for d in y.shape[1:]), rows)


def run_keras(code: str) -> Seen:
    import keras

    namespace: dict[str, Any] = {"__name__": "exported"}
    try:
        exec(compile(code, "<exported>", "exec"), namespace)  # noqa: S102 - our own output
        model = namespace["build"]()
        rows: dict[str, tuple[Shape, int, int]] = {}
        row_names = set(namespace["ROW_NAMES"])
        for layer in model.layers:
            if layer.name not in row_names:
                continue
            out = layer.output
            rows[layer.name] = (
                tuple(int(d) for d in out.shape[1:]),
                sum(math.prod(w.shape) for w in layer.trainable_weights),
                sum(math.prod(w.shape) for w in layer.non_trainable_weights),
            )
        trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
        seen = Seen(
            model.count_params(),
            trainable,
            tuple(int(d) for d in model.output.shape[1:]),
            rows,
        )
    finally:
        namespace.clear()
        keras.backend.clear_session()
        gc.collect()
    return seen


def compare(plan: ExportPlan, seen: Seen) -> list[str]:
    problems = []
    if (seen.params, seen.trainable) != (plan.params, plan.trainable_params):
        problems.append(
            f"params {seen.params:,} (trainable {seen.trainable:,}) built; convcalc "
            f"{plan.params:,} ({plan.trainable_params:,})"
        )
    if seen.output != plan.output_shape:
        problems.append(f"output {seen.output} built; convcalc {plan.output_shape}")
    for step in plan.steps:
        if not isinstance(step, LayerStep):
            continue
        found = seen.rows.get(step.name)
        wanted = (step.output_shape, step.trainable_params, step.non_trainable_params)
        if found is None:
            problems.append(f"{step.where}: no submodule or layer of that name ran")
        elif found != wanted:
            problems.append(f"{step.where} {step.kind.name}: built {found}; convcalc {wanted}")
        if len(problems) > 12:
            problems.append("...")
            break
    return problems


def check(spec: dict[str, Any], framework: Framework | None, label: str) -> tuple[str, list[str]]:
    """'agreed', 'refused: why' or 'DISAGREES', with the problems."""
    try:
        plan, code = export(spec, framework)
    except ConvCalcError as problem:
        return f"refused: {problem}", []
    try:
        seen = run_torch(code) if plan.framework is Framework.PYTORCH else run_keras(code)
    except Exception as problem:  # the framework refusing the code is a disagreement
        return "DISAGREES", [f"the framework fails: {type(problem).__name__}: {str(problem)[:300]}"]
    problems = compare(plan, seen)
    return ("DISAGREES" if problems else "agreed"), problems


# -- the zoo --------------------------------------------------------------------------------------


def zoo(names: list[str], only: str | None, other: bool = False) -> int:
    """Every zoo model (or ``names``) exported to its own framework, or with ``other`` to the
    other one; ``only``: the models written for that framework."""
    bad = 0
    tally: dict[str, int] = {}
    for name in names or list(zoo_index()):
        if name in zoo_index():
            spec = load_zoo(name)
        else:  # a model file
            from convcalc._input._yaml import read_model_source

            spec = read_model_source(name)
        written = str(spec.get("framework") or "keras")
        if only and written != only:
            continue
        target = None
        if other:
            target = Framework.KERAS if written == "pytorch" else Framework.PYTORCH
        started = time.perf_counter()
        outcome, problems = check(spec, target, name)
        took = time.perf_counter() - started
        word = outcome.split(":")[0]
        tally[word] = tally.get(word, 0) + 1
        print(f"{name:28} {written:8} {outcome[:150]}  ({took:.1f} s)", flush=True)
        for line in problems:
            print("    ", line)
        bad += bool(problems)
    print(json.dumps(tally))
    return bad


# -- random models --------------------------------------------------------------------------------

ACTIVATION_NAMES = [name for name in ACTIVATIONS if name != "linear"]
KERAS_REFUSED = {"window_attention", "patch_merging"}
"""Kinds convcalc writes for PyTorch only (torchvision's Swin and MaxViT)."""


class Gen:
    """Random layers for a model under construction, each checked by convcalc before it is
    kept (a layer convcalc refuses is drawn again)."""

    def __init__(self, rng: random.Random, framework: str, layout: str) -> None:
        self.rng, self.framework, self.layout = rng, framework, layout
        self.used: dict[str, int] = {}

    @property
    def keras(self) -> bool:
        return self.framework == "keras"

    def channels(self, shape: Shape) -> int:
        return shape[-1] if self.layout == "hwc" or len(shape) == 1 else shape[0]

    def per_axis(self, rank: int, low: int, high: int) -> Any:
        if rank > 1 and self.rng.random() < 0.3:
            return [self.rng.randint(low, high) for _ in range(rank)]
        return self.rng.randint(low, high)

    def divisor(self, n: int) -> int:
        return self.rng.choice([d for d in range(1, n + 1) if n % d == 0])

    def padding(self, rank: int, modes: tuple[str, ...] = ("valid", "same")) -> Any:
        roll = self.rng.random()
        if roll < 0.4:
            return "valid"
        if roll < 0.7:
            return self.rng.choice(modes)
        return self.per_axis(rank, 0, 2)

    def layer(self, shape: Shape) -> dict[str, Any]:
        """One random layer for an input of ``shape``."""
        rng, rank = self.rng, max(len(shape) - 1, 0)
        c = self.channels(shape)
        tokens = len(shape) == 2
        options: list[str] = [
            "activation",
            "activation",
            "dropout",
            "batchnorm",
            "dense",
            "layernorm",
            "groupnorm",
            "layer_scale",
            "drop_path",
            "rescaling",
            "normalization",
            "reshape",
            "permute",
            "layernorm2d",
        ]
        if rank >= 1:
            options += [
                "conv",
                "conv",
                "pool",
                "transpose",
                "global",
                "adaptive",
                "zeropadding",
                "cropping",
                "upsampling",
                "upsample",
                "flatten",
                "channel_shuffle",
                "to_tokens",
            ]
        if rank in (1, 2):
            options += ["depthwise", "separable"]
        if rank == 2:
            options += ["patch_embedding", "window_attention", "patch_merging"]
        if tokens:
            options += ["mha", "mha", "class_token", "position_embedding", "take_token"]
        if self.keras:
            options = [o for o in options if o not in KERAS_REFUSED]
        kind = rng.choice(options)
        return self.make(kind, shape, rank, c)

    def make(self, kind: str, shape: Shape, rank: int, c: int) -> dict[str, Any]:
        rng = self.rng
        if kind == "activation":
            name = rng.choice(ACTIVATION_NAMES)
            roll = rng.random()
            if roll < 0.2:
                return {"activation": name}
            settings: dict[str, Any] = {}
            if name == "leaky_relu" and rng.random() < 0.5:
                settings["negative_slope"] = 0.1
            if name == "relu" and rng.random() < 0.3:
                settings["max_value"] = 6.0
            if name in ("softmax", "log_softmax") and rng.random() < 0.3:
                settings["axis"] = 1
            if name == "hard_tanh" and rng.random() < 0.5:
                settings["min_val"], settings["max_val"] = -2.0, 2.0
            return {name: settings}
        if kind == "dropout":
            return {"dropout": rng.choice([0.0, 0.1, 0.5])}
        if kind == "batchnorm":
            return {"batchnorm": {"affine": rng.random() < 0.9}}
        if kind == "dense":
            act = rng.choice([None, None, "relu", "gelu", "softmax"])
            return {
                "dense": {
                    "units": rng.randint(1, 24),
                    "bias": rng.random() < 0.8,
                    "activation": act,
                }
            }
        if kind == "layernorm":
            return {
                "layernorm": {
                    "axes": rng.randint(1, len(shape)),
                    "affine": rng.random() < 0.8,
                    "bias": rng.random() < 0.8,
                }
            }
        if kind == "groupnorm":
            return {"groupnorm": {"groups": self.divisor(c), "affine": rng.random() < 0.8}}
        if kind == "layer_scale":
            return {"layer_scale": {}}
        if kind == "drop_path":
            return {"drop_path": {"rate": rng.choice([0.0, 0.1, 0.3])}}
        if kind == "rescaling":
            return {"rescaling": {"scale": "1/255", "offset": rng.choice([0, -1])}}
        if kind == "normalization":
            if rng.random() < 0.5:
                return {"normalization": {}}
            return {"normalization": {"mean": 0.5, "variance": 0.25}}
        if kind == "reshape":
            total = math.prod(shape)
            parts = [self.divisor(total)]
            parts.append(total // parts[0])
            if rng.random() < 0.4:
                parts[0] = -1
            return {"reshape": parts}
        if kind == "permute":
            order = list(range(len(shape)))
            rng.shuffle(order)
            if self.keras:
                return {"permute": [axis + 1 for axis in order]}
            return {"permute": {"torch_dims": [0, *(axis + 1 for axis in order)]}}
        if kind == "layernorm2d":
            return {"layernorm2d": {"affine": rng.random() < 0.9, "bias": rng.random() < 0.8}}
        if kind == "conv":
            groups = self.divisor(c) if rng.random() < 0.3 else 1
            filters = groups * rng.randint(1, 4)
            stride = self.per_axis(rank, 1, 2) if rng.random() < 0.4 else 1
            modes = ("valid", "same", "causal") if rank == 1 and self.keras else ("valid", "same")
            return {
                f"conv{rank}d": {
                    "filters": filters,
                    "kernel": self.per_axis(rank, 1, 3),
                    "stride": stride,
                    "padding": self.padding(rank, modes),
                    "groups": groups,
                    "bias": rng.random() < 0.8,
                    "activation": rng.choice([None, None, "relu", "sigmoid"]),
                }
            }
        if kind == "pool":
            which = rng.choice(["max", "avg"])
            params: dict[str, Any] = {
                "size": self.per_axis(rank, 1, 3),
                "padding": self.padding(rank),
            }
            if rng.random() < 0.4:
                params["stride"] = self.per_axis(rank, 1, 2)
            if not self.keras and rng.random() < 0.3:
                params["ceil_mode"] = True
            return {f"{which}pool{rank}d": params}
        if kind == "transpose":
            params = {
                "filters": rng.randint(1, 6),
                "kernel": self.per_axis(rank, 1, 3),
                "stride": self.per_axis(rank, 1, 2),
                "padding": "same" if self.keras and rng.random() < 0.5 else "valid",
            }
            if not self.keras and rng.random() < 0.3:
                params["padding"] = 1
            if not self.keras and rng.random() < 0.2:
                params["groups"] = self.divisor(c)
                params["filters"] = params["groups"] * rng.randint(1, 2)
            return {f"conv{rank}d_transpose": params}
        if kind == "global":
            which = rng.choice(["max", "avg"])
            return {f"global_{which}pool{rank}d": {"keepdims": rng.random() < 0.3}}
        if kind == "adaptive":
            which = rng.choice(["max", "avg"])
            return {f"adaptive_{which}pool{rank}d": {"output_size": self.per_axis(rank, 1, 4)}}
        if kind == "zeropadding":
            return {f"zeropadding{rank}d": {"padding": self.per_axis(rank, 0, 2)}}
        if kind == "cropping":
            return {f"cropping{rank}d": {"cropping": self.per_axis(rank, 0, 1)}}
        if kind == "upsampling":
            return {f"upsampling{rank}d": {"size": self.per_axis(rank, 1, 2)}}
        if kind == "upsample":
            if rng.random() < 0.5:
                return {"upsample": {"scale_factor": self.per_axis(rank, 1, 2)}}
            return {"upsample": {"size": self.per_axis(rank, 2, 9)}}
        if kind == "flatten":
            return {"flatten": {}}
        if kind == "channel_shuffle":
            return {"channel_shuffle": {"groups": self.divisor(c)}}
        if kind == "to_tokens":
            return {"to_tokens": {}}
        if kind == "depthwise":
            return {
                f"depthwise_conv{rank}d": {
                    "kernel": self.per_axis(rank, 1, 3),
                    "stride": self.per_axis(rank, 1, 2) if rng.random() < 0.3 else 1,
                    "padding": self.padding(rank),
                    "depth_multiplier": rng.choice([1, 1, 2]),
                    "bias": rng.random() < 0.8,
                }
            }
        if kind == "separable":
            return {
                f"separable_conv{rank}d": {
                    "filters": rng.randint(1, 6),
                    "kernel": self.per_axis(rank, 1, 3),
                    "padding": self.padding(rank),
                    "depth_multiplier": rng.choice([1, 2]),
                    "bias": rng.random() < 0.8,
                }
            }
        if kind == "patch_embedding":
            return {
                "patch_embedding": {
                    "embed_dim": rng.randint(2, 12),
                    "patch_size": self.per_axis(2, 1, 3),
                }
            }
        if kind == "window_attention":
            feats = shape[-1]
            window = rng.randint(1, 4)
            return {
                "window_attention": {
                    "num_heads": self.divisor(feats),
                    "window": window,
                    "shift": rng.randint(0, window - 1),
                    "version": rng.choice([1, 2]),
                    "partition": rng.choice(["window", "grid"]),
                    "pad": rng.random() < 0.7,
                    "qkv_bias": rng.random() < 0.8,
                }
            }
        if kind == "patch_merging":
            return {"patch_merging": {"version": rng.choice([1, 2])}}
        if kind == "mha":
            e = shape[-1]
            if self.keras:
                return {
                    "multihead_attention": {
                        "num_heads": rng.randint(1, 3),
                        "key_dim": rng.randint(1, 6),
                        "value_dim": rng.choice([None, rng.randint(1, 6)]),
                        "bias": rng.random() < 0.8,
                        "use_gate": rng.random() < 0.2,
                    }
                }
            return {
                "multihead_attention": {
                    "num_heads": self.divisor(e),
                    "bias": rng.random() < 0.8,
                    "add_bias_kv": rng.random() < 0.3,
                    "add_zero_attn": rng.random() < 0.3,
                    "need_weights": rng.random() < 0.5,
                }
            }
        if kind == "class_token":
            return {"class_token": {"count": rng.choice([1, 1, 2])}}
        if kind == "position_embedding":
            return {"position_embedding": {}}
        if kind == "take_token":
            return {"take_token": {"index": rng.choice([0, -1])}}
        raise AssertionError(kind)

    def construct(self, shape: Shape, depth: int) -> dict[str, Any]:
        """A residual, branches or split around random layers."""
        rng = self.rng
        which = rng.choice(["residual", "branches", "split"])
        if which == "residual":
            body = self.chain(shape, rng.randint(1, 3), depth + 1, keep=True)
            return {"residual": {"layers": body}}
        if which == "branches":
            merge = rng.choice(
                ["add", "concat", "multiply", "average", "maximum", "minimum", "subtract"]
            )
            count = 2 if merge == "subtract" else rng.randint(2, 3)
            keep = merge != "concat"
            paths = [
                self.chain(shape, rng.randint(0, 2), depth + 1, keep=keep) for _ in range(count)
            ]
            return {"branches": {"merge": merge, "paths": paths}}
        c = self.channels(shape)
        sections = 2 if c % 2 == 0 and rng.random() < 0.6 else [1, c - 1]
        merge = "concat" if sections != 2 or rng.random() < 0.6 else "add"
        paths = [
            self.chain(shape, rng.randint(0, 2), depth + 1, keep=True, split=True) for _ in range(2)
        ]
        return {"split": {"sections": sections, "merge": merge, "paths": paths}}

    def chain(
        self, shape: Shape, count: int, depth: int, keep: bool = False, split: bool = False
    ) -> list[Any]:
        """``count`` layers from ``shape``; ``keep``: each keeps the shape (the paths of a
        construct that adds or multiplies). A split's parts have fewer channels, unknown here:
        their layers are ones that take any channels."""
        items: list[Any] = []
        for _ in range(count):
            if keep:
                item = self.keeping(shape, split)
            elif depth < 2 and self.rng.random() < 0.2:
                item = self.construct(shape, depth)
            else:
                item = self.layer(shape)
            items.append(item)
        return items

    def keeping(self, shape: Shape, split: bool) -> dict[str, Any]:
        rng, rank = self.rng, max(len(shape) - 1, 0)
        options = ["activation", "batchnorm", "dropout", "drop_path", "layer_scale"]
        if rank >= 1 and not split:
            options += ["conv_same", "depthwise_same"]
        kind = rng.choice(options)
        if kind == "conv_same":
            c = self.channels(shape)
            return {f"conv{rank}d": {"filters": c, "kernel": rng.choice([1, 3]), "padding": "same"}}
        if kind == "depthwise_same":
            if rank > 2:
                return {"relu": {}}
            return {f"depthwise_conv{rank}d": {"kernel": 3, "padding": "same"}}
        return self.make(kind, shape, rank, self.channels(shape))


def outcome(spec: dict[str, Any]) -> Shape | None:
    """The model's output shape if convcalc accepts it (and it stays small), else None."""
    from convcalc import analyze

    try:
        report = analyze(spec)
    except ConvCalcError:
        return None
    biggest = max(math.prod(row.output_shape) for row in report.layers)
    if biggest > 200_000 or report.totals.params > 2_000_000:
        return None
    return tuple(report.output_shape)


def random_spec(rng: random.Random, framework: str) -> dict[str, Any]:
    """A random model convcalc accepts under ``framework``: a chain of layers and constructs,
    some frozen."""
    if framework == "pytorch":  # channels last only sometimes: it is carried to channels first
        layout = "chw" if rng.random() < 0.8 else "hwc"
    else:
        layout = rng.choice(["hwc", "chw"])
    gen = Gen(rng, framework, layout)
    start = rng.random()
    if start < 0.1:
        shape: Shape = (rng.randint(2, 8),)
        spec: dict[str, Any] = {
            "input": list(shape),
            "framework": framework,
            "layout": layout,
            "layers": [{"embedding": {"input_dim": 20, "output_dim": rng.randint(2, 8)}}],
        }
        shape = outcome(spec) or shape
    else:
        rank = rng.choice([0, 1, 2, 2, 2, 3])
        c = rng.randint(1, 8)
        spatial = [rng.randint(2, {0: 1, 1: 16, 2: 12, 3: 6}[rank]) for _ in range(rank)]
        shape = (*spatial, c) if layout == "hwc" else (c, *spatial)
        spec = {"input": list(shape), "framework": framework, "layout": layout, "layers": []}
    for _ in range(rng.randint(1, 7)):
        for _attempt in range(25):
            item = gen.construct(shape, 0) if rng.random() < 0.2 else gen.layer(shape)
            if rng.random() < 0.1 and isinstance(item, dict) and len(item) == 1:
                ((key, value),) = item.items()
                if isinstance(value, dict):
                    item = {key: value, "trainable": False}
            trial = {**spec, "layers": [*spec["layers"], item]}
            found = outcome(trial)
            if found is not None:
                spec, shape = trial, found
                break
    if not spec["layers"]:
        spec["layers"] = [{"relu": {}}]
    return spec


def kinds_in(plan: ExportPlan) -> set[str]:
    """The kinds of a plan's layers, its merges (``merge:add``), ``split`` and ``frozen``."""
    found = {step.kind.name for step in plan.layers}
    found |= {f"merge:{step.how.value}" for step in plan.steps if isinstance(step, MergeStep)}
    if any(isinstance(step, SplitStep) for step in plan.steps):
        found.add("split")
    if any(step.frozen for step in plan.layers):
        found.add("frozen")
    return found


def random_models(count: int, seed: int, only: str | None) -> int:
    import yaml

    rng = random.Random(seed)
    bad = 0
    tally: dict[str, int] = {}
    seen_kinds: dict[str, set[str]] = {"pytorch": set(), "keras": set()}
    for number in range(count):
        framework = only or ("pytorch" if number % 2 else "keras")
        spec = random_spec(rng, framework)
        result, problems = check(spec, None, f"random {number}")
        word = result.split(":")[0]
        tally[f"{framework} {word}"] = tally.get(f"{framework} {word}", 0) + 1
        if word == "agreed":
            seen_kinds[framework] |= kinds_in(export_plan(read_model(spec), None))
        if problems or word != "agreed":
            print(f"--- random {number} ({framework}): {result[:300]}")
            print(yaml.safe_dump(spec, default_flow_style=None, sort_keys=False).rstrip())
            for line in problems:
                print("    ", line)
        bad += bool(problems)
    print(json.dumps(tally))
    for framework, kinds in seen_kinds.items():
        print(f"{framework}: {len(kinds)} kinds and constructs agreed: {' '.join(sorted(kinds))}")
    return bad


# -- round trips: an exported Keras model read back by `convcalc model` ---------------------------


def round_trip(spec: dict[str, Any]) -> tuple[str, list[str]]:
    """Export a Keras model, build it, save its config (``model.to_json()``) and read that
    back with convcalc's Keras reader: the same params, trainable params, MACs and output as
    the original model."""
    import keras

    from convcalc import analyze
    from convcalc._input._keras import keras_from_text

    try:
        plan, code = export(spec, Framework.KERAS)
    except ConvCalcError as problem:
        return f"refused: {problem}", []
    namespace: dict[str, Any] = {"__name__": "exported"}
    try:
        exec(compile(code, "<exported>", "exec"), namespace)  # noqa: S102 - our own output
        text = namespace["build"]().to_json()
    finally:
        namespace.clear()
        keras.backend.clear_session()
        gc.collect()
    try:
        back = keras_from_text(text, "the exported model's config")
        assert back is not None
        theirs = analyze(back)
    except ConvCalcError as problem:
        return f"refused on the way back: {problem}", []
    ours = analyze(spec)
    problems = []
    for key in ("params", "trainable_params", "macs"):
        if getattr(ours.totals, key) != getattr(theirs.totals, key):
            problems.append(
                f"{key}: {getattr(theirs.totals, key):,} read back; {getattr(ours.totals, key):,}"
            )
    if ours.output_shape != theirs.output_shape:
        problems.append(f"output {theirs.output_shape} read back; {ours.output_shape}")
    return ("DISAGREES" if problems else "agreed"), problems


def round_trips(names: list[str]) -> int:
    bad = 0
    tally: dict[str, int] = {}
    for name in names or [n for n, e in zoo_index().items() if e.framework == "keras"]:
        outcome, problems = round_trip(load_zoo(name))
        word = outcome.split(":")[0]
        tally[word] = tally.get(word, 0) + 1
        print(f"{name:28} round trip {outcome[:200]}", flush=True)
        for line in problems:
            print("    ", line)
        bad += bool(problems)
    print(json.dumps(tally))
    return bad


# -- the helper classes against torchvision ------------------------------------------------------


def helper_module(layer: dict[str, Any], shape: list[int]) -> Any:
    """The one submodule of the exported code of a one-layer PyTorch model."""
    spec = {"input": shape, "framework": "pytorch", "layout": "chw", "layers": [layer]}
    _, code = export(spec, None)
    namespace: dict[str, Any] = {"__name__": "exported"}
    exec(compile(code, "<exported>", "exec"), namespace)  # noqa: S102 - our own output
    return next(iter(namespace["build"]().children())).eval()


def fidelity() -> int:
    """The helper classes compute what torchvision's modules compute, given the same weights:
    Swin's window attention (V1, V2, shifted or not), MaxViT's block and grid attention, patch
    merging V1 and V2, ConvNeXt's LayerNorm2d, ShuffleNet's channel shuffle."""
    import torch
    from record_architectures import import_torchvision
    from torch import nn

    import_torchvision()
    from torchvision.models import convnext, maxvit
    from torchvision.models import swin_transformer as swin

    torch.manual_seed(0)
    results: list[tuple[str, float]] = []

    def same(label: str, ours: Any, theirs: Any, x: Any) -> None:
        with torch.no_grad():
            results.append((label, float((ours(x) - theirs(x)).abs().max())))

    def load(ours: Any, theirs: Any) -> None:
        ours.load_state_dict(
            {k: v for k, v in theirs.state_dict().items() if k in dict(ours.named_parameters())},
            strict=False,
        )

    c, heads, window = 32, 4, 4
    for version, cls in ((1, swin.ShiftedWindowAttention), (2, swin.ShiftedWindowAttentionV2)):
        for shift in (0, 2):
            layer = {"num_heads": heads, "window": window, "shift": shift, "version": version}
            ours = helper_module({"window_attention": layer}, [9, 10, c])
            theirs = cls(c, [window, window], [shift, shift], heads).eval()
            load(ours, theirs)
            same(f"swin v{version} shift {shift}", ours, theirs, torch.randn(2, 9, 10, c))
    for partition in ("window", "grid"):
        layer = {"num_heads": heads, "window": window, "partition": partition, "pad": False}
        ours = helper_module({"window_attention": layer}, [8, 8, c])
        attention = maxvit.RelativePositionalMultiHeadAttention(c, c // heads, window**2).eval()
        ours.qkv.load_state_dict(attention.to_qkv.state_dict())
        ours.proj.load_state_dict(attention.merge.state_dict())
        ours.relative_position_bias_table.data.copy_(attention.relative_position_bias_table)

        def theirs(
            x: Any,
            partition: str = partition,
            attention: Any = attention,
        ) -> Any:
            cut, join = maxvit.WindowPartition(), maxvit.WindowDepartition()
            x = x.permute(0, 3, 1, 2)
            if partition == "window":
                y = attention(cut(x, window))
                return join(y, window, 8 // window, 8 // window).permute(0, 2, 3, 1)
            y = attention(cut(x, 8 // window).swapaxes(-2, -3)).swapaxes(-2, -3)
            return join(y, 8 // window, window, window).permute(0, 2, 3, 1)

        same(f"maxvit {partition}", ours, theirs, torch.randn(2, 8, 8, c))
    for version, cls in ((1, swin.PatchMerging), (2, swin.PatchMergingV2)):
        ours = helper_module({"patch_merging": {"version": version}}, [7, 6, 8])
        theirs = cls(8).eval()
        load(ours, theirs)
        same(f"patch merging v{version}", ours, theirs, torch.randn(2, 7, 6, 8))
    ours = helper_module({"layernorm2d": {}}, [8, 5, 5])
    theirs = convnext.LayerNorm2d(8, eps=1e-6)
    nn.init.normal_(theirs.weight)
    load(ours, theirs)
    same("LayerNorm2d", ours, theirs, torch.randn(2, 8, 5, 5))
    ours = helper_module({"channel_shuffle": 4}, [8, 3, 3])
    same("channel shuffle", ours, nn.ChannelShuffle(4), torch.randn(2, 8, 3, 3))
    bad = 0
    for label, difference in results:
        agreed = difference < 1e-5
        bad += not agreed
        print(
            f"{label:24} {'agreed' if agreed else 'DIFFERS'} (largest difference {difference:.2g})"
        )
    return bad


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--zoo", action="store_true", help="every zoo model (or NAMEs)")
    parser.add_argument("--random", type=int, default=0, help="random models to build")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--framework", choices=["keras", "pytorch"], help="only this framework")
    parser.add_argument(
        "--other", action="store_true", help="zoo models exported to the other framework"
    )
    parser.add_argument(
        "--fidelity", action="store_true", help="the helper classes against torchvision's"
    )
    parser.add_argument(
        "--round-trip",
        action="store_true",
        help="Keras zoo models (or NAMEs) exported, saved as JSON and read back",
    )
    parser.add_argument("names", nargs="*")
    args = parser.parse_args()
    bad = 0
    if args.round_trip:
        bad += round_trips(args.names)
    elif args.zoo or args.names:
        bad += zoo(args.names, args.framework, args.other)
    if args.random:
        bad += random_models(args.random, args.seed, args.framework)
    if args.fidelity:
        bad += fidelity()
    return min(bad, 100)


if __name__ == "__main__":
    sys.exit(main())
