"""Cross-check convcalc's front door against real PyTorch 2 and Keras 3, by hand (never run by
pytest).

The README's "What you typed is what is computed": a layer call pasted from PyTorch or Keras
code, positional values in that framework's order, tuples written as code writes them
(``"(3, 3)"``), and the framework arguments convcalc accepts and ignores. Each case is one
layer on one zero input: the framework call is built from the same values (the reproducer
printed on a disagreement is exactly that call), run in the real framework, and compared with
``convcalc.analyze(spec).to_dict()``: the output shape, the trainable and non-trainable
parameter counts, and (PyTorch) the parameter memory ``(params + buffers) * 4`` for float32,
where buffers are the running mean and variance (``num_batches_tracked`` is not counted).
Where the framework raises, or gives an empty axis, convcalc must raise ConvCalcError; where
the framework runs, convcalc must not. A few refusals are convcalc's documented choice (a
batchnorm axis that is not the channel axis): those are shown apart and not counted.

Families (``--only`` picks some, ``--n`` random draws for each random family):

    torch_conv, torch_transpose, torch_linear, torch_maxpool, torch_avgpool, torch_batchnorm,
    torch_upsample            PyTorch calls given positionally, with PyTorch's names
    keras_conv, keras_depthwise, keras_separable, keras_transpose, keras_pool, keras_dense
                              Keras calls given positionally, with Keras' names
    keras_batchnorm, keras_batchnorm_positional
                              center/scale, axis -1 / 1 in both layouts, InceptionV3's
    keras_cropping1d          Cropping1D on channels-first (C, L) data: Keras crops axis 1
    torch_pool_dilation       MaxPool1d/2d/3d with dilation and padding near the limit
    torch_padding_mode        Conv with padding_mode (accepted and ignored by convcalc)
    keras_activation          Dense(4, name) for every name keras.activations.get takes
    fixed_calls               per-axis values as code writes them, one-element tuples too,
                              and calls that lean on a default
    ignored                   fixed cases: the arguments convcalc accepts and ignores
    survey                    every ignored argument of every kind, tried on each framework
                              class of that kind: which classes do not take it (a listing;
                              not counted)

Run with the framework venv (KERAS_BACKEND=jax, JAX_PLATFORMS=cpu are set here), from
anywhere::

    /opt/fw/bin/python tests/crosscheck/crosscheck_front_door.py [--n 200] [--seed 0]
        [--only torch_conv,keras_batchnorm] [--verbose]

Every disagreement is printed with its convcalc spec and its framework code; the exit status
is the number of mismatches (capped at 100).
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import random
import re
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore")

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from convcalc import ConvCalcError, analyze  # noqa: E402
from convcalc._catalogue import CATALOGUE  # noqa: E402

try:  # what Keras' own summary counts with
    from keras.src.utils.summary_utils import count_params
except ImportError:  # pragma: no cover - another Keras layout

    def count_params(weights: Any) -> int:
        return sum(int(np.prod(w.shape)) for w in weights)


KERAS, TORCH = "keras", "pytorch"
Shape = tuple[int, ...]

DOCUMENTED = (
    # README: "refuses an axis that is not the channel axis" (Keras BatchNormalization).
    "is not the channel axis",
)
"""Words of convcalc refusals that are its documented choice where the framework runs."""


# -- a case: one layer, in convcalc and in the framework ---------------------------------------


@dataclass
class Case:
    family: str
    framework: str
    layout: str
    input: Shape
    """Without the batch, in the layout's order (PyTorch cases are always chw)."""
    layer: Any
    """The convcalc layer, as a model's ``layers`` item."""
    code: str
    """The framework call, evaluated with ``nn``, ``keras`` and ``torch`` in scope."""
    baseline: str | None = None
    """The same call without the ignored argument: the framework must count the same."""
    batch: int = 1
    plain_shape: Shape | None = None
    """Where set, a framework output of another shape is one convcalc may refuse (an
    activation that changes the shape, as glu halves the last axis)."""

    def spec(self) -> dict[str, Any]:
        return {
            "input": list(self.input),
            "framework": self.framework,
            "layout": self.layout,
            "layers": [self.layer],
        }

    def reproducer(self) -> str:
        if self.framework == TORCH:
            x = f"torch.zeros{(self.batch, *self.input)}"
        else:
            x = f"np.zeros({(self.batch, *self.input)}, 'float32')"
        return f"{self.code}({x})"


@dataclass
class Seen:
    """What the framework did: shape (None when it refused), counts, parameter bytes."""

    shape: Shape | None
    trainable: int = 0
    non_trainable: int = 0
    param_bytes: int = 0
    error: str = ""


@dataclass
class Outcome:
    case: Case
    seen: Seen
    problems: list[str] = field(default_factory=list)
    documented: str = ""


def run_framework(case: Case, code: str | None = None) -> Seen:
    code = code or case.code
    namespace = {"nn": nn, "keras": keras, "torch": torch, "np": np}
    try:
        layer = eval(code, namespace)  # noqa: S307 - our own generated code
        if case.framework == TORCH:
            layer.eval()  # batch statistics need no batch
            with torch.no_grad():
                y = layer(torch.zeros((case.batch, *case.input)))
            if isinstance(y, tuple):  # return_indices
                y = y[0]
            params = list(layer.parameters())
            trainable = sum(p.numel() for p in params if p.requires_grad)
            frozen = sum(p.numel() for p in params if not p.requires_grad)
            buffers = sum(
                b.numel()
                for name, b in layer.named_buffers()
                if not name.endswith("num_batches_tracked")
            )
            shape = tuple(int(d) for d in y.shape[1:])
            seen = Seen(shape, trainable, frozen, (trainable + frozen + buffers) * 4)
        else:
            y = layer(np.zeros((case.batch, *case.input), "float32"))
            trainable = count_params(layer.trainable_weights)
            frozen = count_params(layer.non_trainable_weights)
            shape = tuple(int(d) for d in y.shape[1:])
            seen = Seen(shape, trainable, frozen, (trainable + frozen) * 4)
    except Exception as problem:  # the framework refusing, in any of its ways
        message = " ".join(str(problem).split())
        return Seen(None, error=f"{type(problem).__name__}: {message[:200]}")
    if min(seen.shape or (1,), default=1) < 1:
        return Seen(None, error=f"empty output {seen.shape}")
    return seen


def signature(outcome: Outcome) -> str:
    """What kind of disagreement an outcome is, with the values taken out, to group them."""
    first = outcome.problems[0]
    if first.startswith("convcalc refused"):
        text = re.sub(r"^.*?layer \d+ \([^)]*\): ", "convcalc refused: ", first)
        text = text.split(". ")[0]
    elif first.startswith("convcalc crashed"):
        text = first
    elif " refused (" in first:
        text = f"{outcome.case.framework} refused, convcalc accepted: {outcome.seen.error}"
    else:
        keys = sorted({line.split(":")[0] for line in outcome.problems})
        text = f"counts differ: {', '.join(keys)}"
    text = re.sub(r"'[^']*'|\[[^]]*\]|\([^)]*\)|\d+(\.\d+)?(e-?\d+)?", "#", text)
    return text[:110]


def compare(case: Case) -> Outcome:
    seen = run_framework(case)
    outcome = Outcome(case, seen)
    try:
        report = analyze(case.spec()).to_dict()
    except ConvCalcError as error:
        if seen.shape is not None:
            text = str(error)
            documented = next((words for words in DOCUMENTED if words in text), "")
            if case.plain_shape is not None and seen.shape != case.plain_shape:
                documented = text
            if documented:
                outcome.documented = text
            else:
                outcome.problems.append(f"convcalc refused what {case.framework} runs: {text}")
        return outcome
    except Exception as error:  # a crash in convcalc is always a bug
        outcome.problems.append(f"convcalc crashed: {type(error).__name__}: {error}")
        return outcome
    if seen.shape is None:
        outcome.problems.append(
            f"{case.framework} refused ({seen.error}) but convcalc gave "
            f"{report['output_shape']}, {report['totals']['params']} params"
        )
        return outcome
    row = report["layers"][-1]
    got = {
        "shape": tuple(report["output_shape"]),
        "trainable": row["trainable_params"],
        "non_trainable": row["non_trainable_params"],
        "param_bytes": report["totals"]["param_bytes"],
    }
    want = {
        "shape": seen.shape,
        "trainable": seen.trainable,
        "non_trainable": seen.non_trainable,
        "param_bytes": seen.param_bytes,
    }
    for key in got:
        if got[key] != want[key]:
            outcome.problems.append(f"{key}: convcalc {got[key]}, {case.framework} {want[key]}")
    if case.baseline is not None:
        base = run_framework(case, case.baseline)
        if (base.shape, base.trainable, base.non_trainable, base.param_bytes) != (
            seen.shape,
            seen.trainable,
            seen.non_trainable,
            seen.param_bytes,
        ):
            outcome.problems.append(
                f"the ignored argument changes {case.framework}'s counts: without it "
                f"{base.shape or base.error}, {base.trainable} + {base.non_trainable} params; "
                f"with it {seen.shape}, {seen.trainable} + {seen.non_trainable}"
            )
    return outcome


# -- random values, told to convcalc as code writes them -----------------------------------------


def per_axis(
    rng: random.Random, rank: int, low: int, high: int, wrong: bool = True
) -> int | tuple[int, ...]:
    """One int, or a tuple of one per axis (sometimes, when ``wrong``, of another length)."""
    if rng.random() < 0.45:
        return rng.randint(low, high)
    length = rank
    if wrong and rng.random() < 0.03:
        length = rng.choice([n for n in (1, 2, 3) if n != rank])
    return tuple(rng.randint(low, high) for _ in range(length))


def told(value: Any) -> Any:
    """How convcalc is told a value: a tuple as the string code writes it, ``"(3, 3)"``."""
    return str(value) if isinstance(value, tuple) else value


def call(name: str, values: list[Any], keywords: dict[str, Any] | None = None) -> str:
    parts = [repr(v) for v in values]
    parts += [f"{k}={v!r}" for k, v in (keywords or {}).items()]
    return f"{name}({', '.join(parts)})"


def spatial(rng: random.Random, rank: int) -> Shape:
    high = {1: 16, 2: 11, 3: 6}[rank]
    return tuple(rng.randint(1, high) for _ in range(rank))


def divisor(rng: random.Random, n: int) -> int:
    return rng.choice([d for d in range(1, n + 1) if n % d == 0])


def cut(rng: random.Random, values: list[Any], low: int) -> list[Any]:
    """The first values of a positional call: mostly all, sometimes fewer (from ``low``)."""
    if rng.random() < 0.4:
        return values
    return values[: rng.randint(low, len(values))]


def channels_groups(rng: random.Random, c: int) -> tuple[int, int]:
    """(groups, filters): mostly valid together, sometimes not."""
    groups = 1 if rng.random() < 0.5 else divisor(rng, c)
    if rng.random() < 0.05:
        groups = rng.randint(2, 4)
    filters = groups * rng.randint(1, 3) if rng.random() < 0.9 else rng.randint(1, 8)
    return groups, filters


# -- a. PyTorch positional calls ---------------------------------------------------------------


def gen_torch_conv(rng: random.Random) -> Case:
    r, c = rng.randint(1, 3), rng.randint(1, 6)
    groups, filters = channels_groups(rng, c)
    padding: Any = per_axis(rng, r, 0, 3)
    if rng.random() < 0.25:
        padding = rng.choice(["same", "valid"])
    in_channels = c if rng.random() < 0.9 else rng.choice([n for n in range(1, 8) if n != c])
    values = [
        in_channels,
        filters,
        per_axis(rng, r, 1, 5),
        per_axis(rng, r, 1, 3) if rng.random() < 0.6 else 1,
        padding,
        per_axis(rng, r, 1, 3) if rng.random() < 0.4 else 1,
        groups,
        rng.random() < 0.7,
    ]
    values = cut(rng, values, 3)
    layer = {f"Conv{r}d": [told(v) for v in values]}
    return Case(
        "torch_conv", TORCH, "chw", (c, *spatial(rng, r)), layer, call(f"nn.Conv{r}d", values)
    )


def gen_torch_transpose(rng: random.Random) -> Case:
    r, c = rng.randint(1, 3), rng.randint(1, 6)
    groups, filters = channels_groups(rng, c)
    stride = per_axis(rng, r, 1, 3) if rng.random() < 0.7 else 1
    dilation = per_axis(rng, r, 1, 3) if rng.random() < 0.4 else 1
    padding: Any = per_axis(rng, r, 0, 2)
    if rng.random() < 0.05:
        padding = rng.choice(["same", "valid"])
    values = [
        c if rng.random() < 0.93 else c + 1,
        filters,
        per_axis(rng, r, 1, 4),
        stride,
        padding,
        per_axis(rng, r, 0, 2),
        groups,
        rng.random() < 0.7,
        dilation,
    ]
    values = cut(rng, values, 3)
    layer = {f"ConvTranspose{r}d": [told(v) for v in values]}
    code = call(f"nn.ConvTranspose{r}d", values)
    return Case("torch_transpose", TORCH, "chw", (c, *spatial(rng, r)), layer, code)


def gen_torch_linear(rng: random.Random) -> Case:
    features = rng.randint(1, 12)
    shape: Shape = (features,)
    if rng.random() < 0.3:
        shape = (*spatial(rng, rng.randint(1, 2)), features)
    values: list[Any] = [features if rng.random() < 0.9 else features + 1, rng.randint(1, 12)]
    if rng.random() < 0.6:
        values.append(rng.random() < 0.5)
    layer = {"Linear": values}
    return Case("torch_linear", TORCH, "chw", shape, layer, call("nn.Linear", values))


def gen_torch_maxpool(rng: random.Random) -> Case:
    r = 2
    values = [
        per_axis(rng, r, 1, 4),
        rng.choice([None, per_axis(rng, r, 1, 3)]),
        per_axis(rng, r, 0, 2),
        per_axis(rng, r, 1, 3) if rng.random() < 0.6 else 1,
        rng.random() < 0.5,
        rng.random() < 0.4,
    ]
    values = cut(rng, values, 1)
    layer = {"MaxPool2d": [told(v) for v in values]}
    shape = (rng.randint(1, 4), *spatial(rng, r))
    return Case("torch_maxpool", TORCH, "chw", shape, layer, call("nn.MaxPool2d", values))


def gen_torch_avgpool(rng: random.Random) -> Case:
    r = 2
    values = [
        per_axis(rng, r, 1, 4),
        rng.choice([None, per_axis(rng, r, 1, 3)]),
        per_axis(rng, r, 0, 2),
        rng.random() < 0.4,
        rng.random() < 0.5,
        rng.choice([None, rng.randint(1, 3)]),
    ]
    values = cut(rng, values, 1)
    layer = {"AvgPool2d": [told(v) for v in values]}
    shape = (rng.randint(1, 4), *spatial(rng, r))
    return Case("torch_avgpool", TORCH, "chw", shape, layer, call("nn.AvgPool2d", values))


def gen_torch_batchnorm(rng: random.Random) -> Case:
    rank = rng.randint(1, 3)
    c = rng.randint(1, 8)
    data_rank = rank if rng.random() < 0.9 else rng.choice([0, 1, 2, 3])
    if rank == 1 and data_rank == 1 and rng.random() < 0.4:
        data_rank = 0  # BatchNorm1d on (N, C)
    shape = (c, *spatial(rng, data_rank)) if data_rank else (c,)
    values = [
        c if rng.random() < 0.9 else c + 1,
        rng.choice([1e-5, 1e-3, 0.01]),
        rng.choice([0.1, 0.01, None]),
        rng.random() < 0.6,
        rng.random() < 0.6,
    ]
    values = cut(rng, values, 1)
    layer = {f"BatchNorm{rank}d": values}
    code = call(f"nn.BatchNorm{rank}d", values)
    return Case("torch_batchnorm", TORCH, "chw", shape, layer, code, batch=2)


UPSAMPLE_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact")


def gen_torch_upsample(rng: random.Random) -> Case:
    r = rng.randint(1, 3)
    shape = (rng.randint(1, 3), *spatial(rng, r))
    size: Any = None
    scale: Any = None
    roll = rng.random()
    if roll < 0.45:
        size = per_axis(rng, r, 1, 12)
    elif roll < 0.9:
        scale = per_axis(rng, r, 1, 3)
        if rng.random() < 0.25:
            scale = float(scale) if isinstance(scale, int) else tuple(float(s) for s in scale)
        if rng.random() < 0.1:
            scale = 1.5
    elif roll < 0.95:
        size, scale = 4, 2
    mode = rng.choice(UPSAMPLE_MODES)
    values = [size, scale, mode, rng.choice([None, None, True, False])]
    values = cut(rng, values, 1 if size is not None else 2)
    layer = {"Upsample": [told(v) for v in values]}
    return Case("torch_upsample", TORCH, "chw", shape, layer, call("nn.Upsample", values))


# -- b. Keras positional calls -----------------------------------------------------------------

KERAS_ACTIVATIONS: list[str] = []
"""Every activation name keras.activations.get takes (filled at start)."""


def keras_activations() -> list[str]:
    names = []
    for name in dir(keras.activations):
        if name.startswith("_") or name in ("get", "serialize", "deserialize"):
            continue
        try:
            if callable(keras.activations.get(name)):
                names.append(name)
        except Exception:
            continue
    return names


COMMON_ACTIVATIONS = ("relu", "sigmoid", "softmax", "tanh", "gelu", "swish", "linear", "elu")


def activation(rng: random.Random) -> str | None:
    """An activation for the random Keras families (every Keras name is tried on its own in
    the keras_activation family)."""
    return rng.choice([None, None, *COMMON_ACTIVATIONS])


def keras_activation_cases() -> Iterator[Case]:
    """Dense(4, name) for every name keras.activations.get takes: an activation never changes
    a count, so convcalc should take every one (or refuse one that changes the shape)."""
    for name in KERAS_ACTIVATIONS:
        code = call("keras.layers.Dense", [4, name])
        layer = {"Dense": [4, name]}
        yield Case("keras_activation", KERAS, "hwc", (6,), layer, code, plain_shape=(4,))


@dataclass
class KerasLayout:
    layout: str
    """hwc or chw."""

    @property
    def data_format(self) -> str:
        return "channels_last" if self.layout == "hwc" else "channels_first"

    def shape(self, rng: random.Random, rank: int, channels: int) -> Shape:
        sizes = spatial(rng, rank)
        return (*sizes, channels) if self.layout == "hwc" else (channels, *sizes)

    def format_value(self, rng: random.Random) -> str | None:
        """A positional data_format: the layout's (channels-first must be said)."""
        if self.layout == "chw" or rng.random() < 0.5:
            return self.data_format
        return None


def keras_case(
    family: str,
    rng: random.Random,
    cls: str,
    values: list[Any],
    format_at: int | None,
    low: int,
    kl: KerasLayout,
    shape: Shape,
) -> Case:
    """A Keras positional call, cut short at random; channels-first data gets data_format by
    keyword in the Keras call when the positional values stop before it."""
    values = cut(rng, values, low)
    keywords = {}
    if format_at is not None and kl.layout == "chw" and len(values) <= format_at:
        keywords["data_format"] = kl.data_format
    layer = {cls: [told(v) for v in values]} if values else cls
    code = call(f"keras.layers.{cls}", values, keywords)
    return Case(family, KERAS, kl.layout, shape, layer, code)


def keras_padding(rng: random.Random, rank: int) -> str:
    modes = ["valid", "same", "valid", "same", "SAME"] + (["causal"] if rank == 1 else [])
    return rng.choice(modes + (["causal"] if rng.random() < 0.03 else []))


def gen_keras_conv(rng: random.Random) -> Case:
    r, c = rng.randint(1, 3), rng.randint(1, 6)
    kl = KerasLayout(rng.choice(["hwc", "chw"]))
    groups, filters = channels_groups(rng, c)
    values = [
        filters,
        per_axis(rng, r, 1, 5),
        per_axis(rng, r, 1, 3) if rng.random() < 0.5 else 1,
        keras_padding(rng, r),
        kl.format_value(rng),
        per_axis(rng, r, 1, 3) if rng.random() < 0.4 else 1,
        groups,
        activation(rng),
        rng.random() < 0.7,
    ]
    shape = kl.shape(rng, r, c)
    return keras_case("keras_conv", rng, f"Conv{r}D", values, 4, 2, kl, shape)


def gen_keras_depthwise(rng: random.Random) -> Case:
    r, c = rng.randint(1, 2), rng.randint(1, 6)
    kl = KerasLayout(rng.choice(["hwc", "chw"]))
    values = [
        per_axis(rng, r, 1, 5),
        per_axis(rng, r, 1, 3) if rng.random() < 0.5 else 1,
        keras_padding(rng, 2),
        rng.randint(1, 3),
        kl.format_value(rng),
        per_axis(rng, r, 1, 3) if rng.random() < 0.4 else 1,
        activation(rng),
        rng.random() < 0.7,
    ]
    shape = kl.shape(rng, r, c)
    return keras_case("keras_depthwise", rng, f"DepthwiseConv{r}D", values, 4, 1, kl, shape)


def gen_keras_separable(rng: random.Random) -> Case:
    r, c = rng.randint(1, 2), rng.randint(1, 6)
    kl = KerasLayout(rng.choice(["hwc", "chw"]))
    values = [
        rng.randint(1, 8),
        per_axis(rng, r, 1, 5),
        per_axis(rng, r, 1, 3) if rng.random() < 0.5 else 1,
        keras_padding(rng, 2),
        kl.format_value(rng),
        per_axis(rng, r, 1, 3) if rng.random() < 0.4 else 1,
        rng.randint(1, 3),
        activation(rng),
        rng.random() < 0.7,
    ]
    shape = kl.shape(rng, r, c)
    return keras_case("keras_separable", rng, f"SeparableConv{r}D", values, 4, 2, kl, shape)


def gen_keras_transpose(rng: random.Random) -> Case:
    r, c = rng.randint(1, 3), rng.randint(1, 6)
    kl = KerasLayout(rng.choice(["hwc", "chw"]))
    stride = per_axis(rng, r, 1, 3) if rng.random() < 0.6 else 1
    output_padding: Any = None
    if rng.random() < 0.5:
        output_padding = per_axis(rng, r, 0, 2)
    values = [
        rng.randint(1, 8),
        per_axis(rng, r, 1, 4),
        stride,
        rng.choice(["valid", "same"]),
        output_padding,
        kl.format_value(rng),
        per_axis(rng, r, 1, 3) if rng.random() < 0.3 else 1,
        activation(rng),
        rng.random() < 0.7,
    ]
    format_at = 5
    if r == 3:  # Keras' Conv3DTranspose: (..., padding, data_format, output_padding, ...)
        values[4], values[5] = values[5], values[4]
        format_at = 4
    shape = kl.shape(rng, r, c)
    return keras_case("keras_transpose", rng, f"Conv{r}DTranspose", values, format_at, 2, kl, shape)


def gen_keras_pool(rng: random.Random) -> Case:
    r = rng.randint(1, 3)
    kl = KerasLayout(rng.choice(["hwc", "chw"]))
    kind = rng.choice(["MaxPooling", "AveragePooling"])
    values = [
        per_axis(rng, r, 1, 4),
        rng.choice([None, per_axis(rng, r, 1, 3)]),
        rng.choice(["valid", "same"]),
        kl.format_value(rng),
    ]
    low = 0 if rng.random() < 0.05 else 1
    shape = kl.shape(rng, r, rng.randint(1, 4))
    return keras_case("keras_pool", rng, f"{kind}{r}D", values, 3, low, kl, shape)


def gen_keras_dense(rng: random.Random) -> Case:
    kl = KerasLayout(rng.choice(["hwc", "chw"]))
    rank = rng.choice([0, 0, 1, 2])
    shape = kl.shape(rng, rank, rng.randint(1, 8)) if rank else (rng.randint(1, 12),)
    values = [rng.randint(1, 12), activation(rng), rng.random() < 0.7]
    return keras_case("keras_dense", rng, "Dense", values, None, 1, kl, shape)


# -- c. Keras BatchNormalization ---------------------------------------------------------------


def bn_shape(rng: random.Random, kl: KerasLayout) -> Shape:
    rank = rng.randint(0, 3)
    c = rng.randint(1, 8)
    return kl.shape(rng, rank, c) if rank else (c,)


def gen_keras_batchnorm(rng: random.Random, center: bool, scale: bool) -> Case:
    kl = KerasLayout(rng.choice(["hwc", "chw"]))
    shape = bn_shape(rng, kl)
    keywords: dict[str, Any] = {}
    roll = rng.random()
    ndim = len(shape) + 1
    if roll < 0.35:
        keywords["axis"] = -1
    elif roll < 0.7:
        keywords["axis"] = 1
    elif roll < 0.85:
        keywords["axis"] = ndim - 1  # the last axis counted from the front
    elif roll < 0.95:
        keywords["axis"] = rng.randint(-ndim - 1, ndim)  # anything, even out of range
    # else: no axis, Keras' default -1
    keywords["center"], keywords["scale"] = center, scale
    if rng.random() < 0.15:
        keywords["trainable"] = False
    layer = {"BatchNormalization": dict(keywords)}
    code = call("keras.layers.BatchNormalization", [], keywords)
    return Case("keras_batchnorm", KERAS, kl.layout, shape, layer, code)


def gen_keras_batchnorm_positional(rng: random.Random) -> Case:
    kl = KerasLayout(rng.choice(["hwc", "chw"]))
    shape = bn_shape(rng, kl)
    channel_axis = -1 if kl.layout == "hwc" or len(shape) == 1 else 1
    values = [
        channel_axis if rng.random() < 0.8 else rng.choice([-1, 1, 2]),
        rng.choice([0.99, 0.9]),
        rng.choice([1e-3, 1e-5]),
        rng.random() < 0.6,
        rng.random() < 0.6,
    ]
    values = cut(rng, values, 1)
    layer = {"BatchNormalization": values}
    code = call("keras.layers.BatchNormalization", values)
    return Case("keras_batchnorm_positional", KERAS, kl.layout, shape, layer, code)


def keras_batchnorm_fixed() -> Iterator[Case]:
    """center/scale in all four combinations on both layouts, and InceptionV3's
    ``BatchNormalization(axis=bn_axis, scale=False)`` (bn_axis 3 channels-last, 1 first)."""
    for layout, shape, axis in (("hwc", (5, 6, 4), -1), ("chw", (4, 5, 6), 1)):
        for center in (True, False):
            for scale in (True, False):
                keywords = {"axis": axis, "center": center, "scale": scale}
                layer = {"BatchNormalization": dict(keywords)}
                code = call("keras.layers.BatchNormalization", [], keywords)
                yield Case("keras_batchnorm", KERAS, layout, shape, layer, code)
    for layout, shape, axis in (("hwc", (7, 7, 32), 3), ("chw", (32, 7, 7), 1)):
        keywords = {"axis": axis, "scale": False}
        layer = {"BatchNormalization": dict(keywords)}
        code = call("keras.layers.BatchNormalization", [], keywords)
        yield Case("keras_batchnorm", KERAS, layout, shape, layer, code)
    # Keras' default axis is -1 whatever the data: in channels-first data that is W, not C.
    yield Case(
        "keras_batchnorm",
        KERAS,
        "chw",
        (4, 5, 6),
        "BatchNormalization",
        "keras.layers.BatchNormalization()",
    )


# -- d. Keras Cropping1D on channels-first data ----------------------------------------------


def gen_keras_cropping1d(rng: random.Random) -> Case:
    layout = "chw" if rng.random() < 0.7 else "hwc"
    a, b = rng.randint(1, 8), rng.randint(1, 8)
    shape = (a, b)
    roll = rng.random()
    value: Any
    if roll < 0.3:
        value = rng.randint(0, 3)
        told_value: Any = value
    elif roll < 0.7:
        value = (rng.randint(0, 3), rng.randint(0, 3))
        told_value = str(value)
    else:
        value = (rng.randint(0, 3), rng.randint(0, 3))
        told_value = list(value)
    layer = (
        {"Cropping1D": told_value}
        if rng.random() < 0.5
        else {"Cropping1D": {"cropping": told_value}}
    )
    code = call("keras.layers.Cropping1D", [value])
    return Case("keras_cropping1d", KERAS, layout, shape, layer, code)


# -- e. PyTorch MaxPool with dilation and padding ------------------------------------------------


def gen_torch_pool_dilation(rng: random.Random) -> Case:
    r = rng.randint(1, 3)
    k, d = rng.randint(1, 4), rng.randint(1, 4)
    span = d * (k - 1) + 1
    p = rng.choice([0, k // 2, k // 2 + 1, span // 2, span // 2 + 1, rng.randint(0, 4)])
    keywords: dict[str, Any] = {"kernel_size": k, "padding": p, "dilation": d}
    if rng.random() < 0.2 and r > 1:  # per axis: only the first axis at the edge
        keywords["padding"] = (p, *([0] * (r - 1)))
        keywords["kernel_size"] = (k, *([rng.randint(1, 3)] * (r - 1)))
    if rng.random() < 0.6:
        keywords["stride"] = rng.randint(1, 3)
    if rng.random() < 0.3:
        keywords["ceil_mode"] = True
    if rng.random() < 0.2:
        keywords["return_indices"] = True
    shape = (rng.randint(1, 3), *(rng.randint(1, {1: 16, 2: 12, 3: 7}[r]) for _ in range(r)))
    layer = {f"MaxPool{r}d": {key: told(v) for key, v in keywords.items()}}
    code = call(f"nn.MaxPool{r}d", [], keywords)
    return Case("torch_pool_dilation", TORCH, "chw", shape, layer, code)


# -- f. framework arguments convcalc accepts and ignores -------------------------------------------


def gen_torch_padding_mode(rng: random.Random) -> Case:
    r, c = rng.randint(1, 3), rng.randint(1, 4)
    mode = rng.choice(["zeros", "reflect", "replicate", "circular"])
    padding: Any = per_axis(rng, r, 0, 3, False) if rng.random() < 0.8 else "same"
    kernel = per_axis(rng, r, 1, 4, False)
    values = [c, rng.randint(1, 4), kernel, 1, padding, 1, 1, True, mode]
    if rng.random() < 0.3:
        values[3] = per_axis(rng, r, 1, 2, False)
        values[4] = per_axis(rng, r, 0, 3, False)
    shape = (c, *(rng.randint(1, {1: 8, 2: 6, 3: 4}[r]) for _ in range(r)))
    if rng.random() < 0.5:  # positional, padding_mode ninth
        layer: Any = {f"Conv{r}d": [told(v) for v in values]}
        code = call(f"nn.Conv{r}d", values)
        base = call(f"nn.Conv{r}d", values[:8])
    else:
        names = ["in_channels", "out_channels", "kernel_size", "stride", "padding"]
        keywords = dict(zip(names, values[:5], strict=True))
        keywords["padding_mode"] = mode
        layer = {f"Conv{r}d": {key: told(v) for key, v in keywords.items()}}
        code = call(f"nn.Conv{r}d", [], keywords)
        base = call(f"nn.Conv{r}d", [], {k: v for k, v in keywords.items() if k != "padding_mode"})
    return Case("torch_padding_mode", TORCH, "chw", shape, layer, code, baseline=base)


def ignored_fixed() -> Iterator[Case]:
    """Fixed cases: an argument convcalc ignores, on a layer of the framework that takes it;
    ``baseline`` is the call without it (the framework must count the same)."""

    def torch_case(shape: Shape, layer: Any, code: str, base: str | None, batch: int = 1) -> Case:
        return Case("ignored", TORCH, "chw", shape, layer, code, base, batch)

    def keras_case_(shape: Shape, layer: Any, code: str, base: str | None) -> Case:
        return Case("ignored", KERAS, "hwc", shape, layer, code, base)

    # Keras initialisers, regularisers, constraints
    for cls, args, extra, shape in (
        (
            "Conv2D",
            [4, 3],
            {"kernel_initializer": "he_normal", "bias_regularizer": "l2"},
            (8, 8, 3),
        ),
        (
            "Conv2D",
            [4, 3],
            {"kernel_constraint": "non_neg", "activity_regularizer": "l1"},
            (8, 8, 3),
        ),
        ("Conv1D", [4, 3], {"bias_initializer": "ones", "kernel_regularizer": "l1"}, (8, 3)),
        ("Dense", [5], {"kernel_initializer": "zeros", "bias_regularizer": "l2"}, (7,)),
        ("Dense", [5], {"quantization_config": None, "bias_constraint": None}, (7,)),
        (
            "DepthwiseConv2D",
            [3],
            {"depthwise_initializer": "ones", "bias_regularizer": "l2"},
            (8, 8, 3),
        ),
        (
            "SeparableConv2D",
            [4, 3],
            {"pointwise_regularizer": "l2", "depthwise_constraint": None},
            (8, 8, 3),
        ),
        ("Conv2DTranspose", [4, 3], {"kernel_initializer": "he_uniform"}, (8, 8, 3)),
        ("BatchNormalization", [], {"epsilon": 1e-5, "momentum": 0.9}, (8, 8, 3)),
        (
            "BatchNormalization",
            [],
            {"gamma_initializer": "zeros", "beta_regularizer": "l2"},
            (8, 8, 3),
        ),
        ("Dropout", [0.3], {"noise_shape": None, "seed": 1}, (7,)),
        ("Dense", [5], {"lora_rank": 2}, (7,)),
        ("Dense", [5], {"lora_rank": 2, "lora_alpha": 4}, (7,)),
        ("Conv2D", [4, 3], {"lora_rank": 2}, (8, 8, 3)),
        ("Conv2D", [4, 3], {"dtype": "float32", "autocast": False}, (8, 8, 3)),
    ):
        layer = {cls: {"_": list(args), **extra}}
        yield keras_case_(
            shape,
            layer,
            call(f"keras.layers.{cls}", args, extra),
            call(f"keras.layers.{cls}", args),
        )
    # PyTorch's eps, momentum, padding_mode, approximate, inplace, dtype, device
    for shape, layer, code, base, batch in (
        (
            (3, 6, 6),
            {"BatchNorm2d": {"_": [3], "eps": 1e-3, "momentum": 0.01}},
            "nn.BatchNorm2d(3, eps=0.001, momentum=0.01)",
            "nn.BatchNorm2d(3)",
            2,
        ),
        (
            (3, 6, 6),
            {"BatchNorm2d": [3, 1e-3, None]},
            "nn.BatchNorm2d(3, 0.001, None)",
            "nn.BatchNorm2d(3)",
            2,
        ),
        (
            (3, 6, 6),
            {"Conv2d": {"_": [3, 4, 3], "padding": 1, "padding_mode": "reflect"}},
            "nn.Conv2d(3, 4, 3, padding=1, padding_mode='reflect')",
            "nn.Conv2d(3, 4, 3, padding=1)",
            1,
        ),
        (
            (3, 6, 6),
            {"Conv2d": {"_": [3, 4, 3], "dtype": "float32", "device": "cpu"}},
            "nn.Conv2d(3, 4, 3, dtype=torch.float32, device='cpu')",
            "nn.Conv2d(3, 4, 3)",
            1,
        ),
        (
            (3, 6, 6),
            {"ConvTranspose2d": {"_": [3, 4, 3], "padding_mode": "reflect"}},
            "nn.ConvTranspose2d(3, 4, 3, padding_mode='reflect')",
            "nn.ConvTranspose2d(3, 4, 3)",
            1,
        ),
        (
            (3, 6),
            {"ConvTranspose1d": [3, 4, 3, 1, 0, 0, 1, True, 1, "circular"]},
            "nn.ConvTranspose1d(3, 4, 3, 1, 0, 0, 1, True, 1, 'circular')",
            "nn.ConvTranspose1d(3, 4, 3)",
            1,
        ),
        (
            (3, 6, 6),
            {"GELU": {"approximate": "tanh"}},
            "nn.GELU(approximate='tanh')",
            "nn.GELU()",
            1,
        ),
        (
            (3, 6, 6),
            {"GELU": {"approximate": "sigmoid"}},
            "nn.GELU(approximate='sigmoid')",
            None,
            1,
        ),
        ((3, 6, 6), {"ReLU": {"inplace": True}}, "nn.ReLU(inplace=True)", "nn.ReLU()", 1),
        ((3, 6, 6), {"ReLU": [True]}, "nn.ReLU(True)", "nn.ReLU()", 1),
        ((3, 6, 6), {"ReLU6": [True]}, "nn.ReLU6(True)", "nn.ReLU6()", 1),
        ((3, 6, 6), {"LeakyReLU": [0.1, True]}, "nn.LeakyReLU(0.1, True)", "nn.LeakyReLU(0.1)", 1),
        ((3, 6, 6), {"ELU": [1.0, True]}, "nn.ELU(1.0, True)", "nn.ELU(1.0)", 1),
        ((3, 6, 6), {"SiLU": {"inplace": True}}, "nn.SiLU(inplace=True)", "nn.SiLU()", 1),
        ((3, 6, 6), {"Hardtanh": [-1.0, 1.0, True]}, "nn.Hardtanh(-1.0, 1.0, True)", None, 1),
        ((3, 6, 6), {"Softmax": [1]}, "nn.Softmax(1)", None, 1),
        ((3, 6, 6), {"Dropout": [0.2, True]}, "nn.Dropout(0.2, True)", "nn.Dropout(0.2)", 1),
        (
            (3, 6, 6),
            {"Dropout2d": {"p": 0.2, "inplace": True}},
            "nn.Dropout2d(p=0.2, inplace=True)",
            "nn.Dropout2d(p=0.2)",
            1,
        ),
        # count-neutral arguments the frameworks take that convcalc may not ignore
        (
            (3, 6, 6),
            {"BatchNorm2d": {"_": [3], "bias": False}},
            "nn.BatchNorm2d(3, bias=False)",
            None,
            2,
        ),
        (
            (4, 6, 6),
            {"GroupNorm": {"_": [2], "num_channels": 4, "eps": 1e-6}},
            "nn.GroupNorm(2, 4, eps=1e-06)",
            "nn.GroupNorm(2, 4)",
            1,
        ),
        (
            (4, 6, 6),
            {"GroupNorm": {"_": [2], "num_channels": 4, "bias": False}},
            "nn.GroupNorm(2, 4, bias=False)",
            None,
            1,
        ),
        (
            (4, 6, 6),
            {"LayerNorm": {"normalized_shape": 6, "eps": 1e-6}},
            "nn.LayerNorm(6, eps=1e-06)",
            "nn.LayerNorm(6)",
            1,
        ),
        (
            (3, 6, 6),
            {"AvgPool2d": {"_": [2], "count_include_pad": False, "divisor_override": 3}},
            "nn.AvgPool2d(2, count_include_pad=False, divisor_override=3)",
            "nn.AvgPool2d(2)",
            1,
        ),
        (
            (3, 6, 6),
            {"AdaptiveMaxPool2d": {"_": [2], "return_indices": True}},
            "nn.AdaptiveMaxPool2d(2, return_indices=True)",
            "nn.AdaptiveMaxPool2d(2)",
            1,
        ),
        (
            (3, 6, 6),
            {
                "Upsample": {
                    "scale_factor": 2,
                    "mode": "bilinear",
                    "align_corners": True,
                    "recompute_scale_factor": True,
                }
            },
            "nn.Upsample(scale_factor=2, mode='bilinear', align_corners=True, "
            "recompute_scale_factor=True)",
            "nn.Upsample(scale_factor=2, mode='bilinear')",
            1,
        ),
        (
            (3, 6, 6),
            {"Upsample": {"scale_factor": 2, "mode": "nearest", "align_corners": True}},
            "nn.Upsample(scale_factor=2, mode='nearest', align_corners=True)",
            None,
            1,
        ),
    ):
        yield torch_case(shape, layer, code, base, batch)
    for shape, layer, code, base in (
        (
            (5, 6, 4),
            {"LayerNormalization": {"epsilon": 1e-6}},
            "keras.layers.LayerNormalization(epsilon=1e-06)",
            "keras.layers.LayerNormalization()",
        ),
        (
            (5, 6, 4),
            {"GroupNormalization": {"groups": 2, "epsilon": 1e-6}},
            "keras.layers.GroupNormalization(groups=2, epsilon=1e-06)",
            "keras.layers.GroupNormalization(groups=2)",
        ),
    ):
        yield keras_case_(shape, layer, code, base)


def fixed_calls() -> Iterator[Case]:
    """Per-axis values written as code writes them, one-element tuples included (``(3,)`` is
    one value for every axis in convcalc; each framework takes it on some layers only), and
    calls that lean on a default."""
    torch_calls: list[tuple[str, list[Any], Shape]] = [
        ("Conv2d", [3, 2, (4,)], (3, 9, 11)),
        ("Conv2d", [3, 2, 3, (2,)], (3, 9, 11)),
        ("Conv2d", [3, 2, 3, 1, (1,)], (3, 9, 11)),
        ("Conv2d", [3, 2, 3, 1, 0, (2,)], (3, 9, 11)),
        ("Conv2d", [3, 2, (3, 3), (2, 1), (1, 0)], (3, 9, 11)),
        ("Conv2d", [3, 2, [3, 3]], (3, 9, 11)),
        ("Conv1d", [3, 2, (4,)], (3, 9)),
        ("Conv3d", [3, 2, (2,)], (3, 5, 6, 7)),
        ("ConvTranspose2d", [3, 2, (4,)], (3, 9, 11)),
        ("ConvTranspose2d", [3, 2, 3, (2,)], (3, 9, 11)),
        ("MaxPool2d", [(3,)], (3, 9, 11)),
        ("MaxPool2d", [3, (2,), (1,), (2,)], (3, 9, 11)),
        ("AvgPool2d", [(3,)], (3, 9, 11)),
        ("Upsample", [None, (2,)], (3, 9, 11)),
        ("Upsample", [(5,)], (3, 9, 11)),
    ]
    for name, values, shape in torch_calls:
        layer = {name: [told(v) if isinstance(v, tuple) else v for v in values]}
        yield Case("fixed_calls", TORCH, "chw", shape, layer, call(f"nn.{name}", values))
    keras_calls: list[tuple[str, list[Any], Shape]] = [
        ("Conv2D", [2, (3,)], (9, 11, 3)),
        ("Conv2D", [2, 3, (2,)], (9, 11, 3)),
        ("Conv2D", [2, (3, 3)], (9, 11, 3)),
        ("Conv2D", [2, [3, 3]], (9, 11, 3)),
        ("Conv1D", [2, (3,)], (9, 3)),
        ("DepthwiseConv2D", [(3,)], (9, 11, 3)),
        ("Conv2DTranspose", [2, (3,)], (9, 11, 3)),
        ("MaxPooling2D", [(3,)], (9, 11, 3)),
        ("MaxPooling1D", [(3,)], (9, 3)),
        ("AveragePooling2D", [], (9, 11, 3)),
        ("MaxPooling2D", [], (9, 11, 3)),
        ("Conv3DTranspose", [2, 3, 1, "valid", "channels_last"], (4, 5, 6, 3)),
        ("Conv3DTranspose", [2, 3, 2, "valid", None, 1], (4, 5, 6, 3)),
    ]
    for name, values, shape in keras_calls:
        layer: Any = {name: [told(v) if isinstance(v, tuple) else v for v in values]}
        if not values:
            layer = name
        yield Case("fixed_calls", KERAS, "hwc", shape, layer, call(f"keras.layers.{name}", values))


# -- the survey: ignored arguments against the classes of each kind -------------------------------

REQUIRED_VALUES: dict[str, Any] = {
    "filters": 2,
    "kernel_size": 3,
    "units": 2,
    "in_channels": 2,
    "out_channels": 2,
    "in_features": 2,
    "out_features": 2,
    "num_features": 2,
    "pool_size": 2,
    "rate": 0.5,
    "output_size": 2,
    "cropping": 1,
    "padding": 1,
    "num_groups": 1,
    "num_channels": 2,
    "normalized_shape": 2,
    "activation": "relu",
    "target_shape": (2,),
    "groups": 1,
    "size": 2,
    "stddev": 0.1,
}
IGNORED_VALUES: dict[str, tuple[Any, Any]] = {
    # argument: (Keras value, PyTorch value)
    "dtype": ("float32", torch.float32),
    "device": ("cpu", "cpu"),
    "autocast": (True, True),
    "padding_mode": ("zeros", "zeros"),
    "epsilon": (1e-3, 1e-3),
    "eps": (1e-3, 1e-3),
    "momentum": (0.9, 0.1),
    "synchronized": (False, False),
    "rms_scaling": (False, False),
    "return_indices": (False, False),
    "count_include_pad": (True, True),
    "divisor_override": (None, None),
    "noise_shape": (None, None),
    "seed": (1, 1),
    "inplace": (False, False),
    "stddev": (0.1, 0.1),
    "approximate": (False, "none"),
    "recompute_scale_factor": (None, None),
    "antialias": (False, False),
    "lora_rank": (None, None),
    "lora_alpha": (None, None),
    "quantization_config": (None, None),
}


def framework_classes(kind: Any) -> list[tuple[str, str, Any]]:
    """(framework, class name, class) for every alias of ``kind`` that names a class."""
    found = []
    for name in (kind.name, *kind.aliases):
        for framework, module in ((KERAS, keras.layers), (TORCH, nn)):
            cls = getattr(module, name, None)
            if inspect.isclass(cls) and (framework, name, cls) not in found:
                found.append((framework, name, cls))
    return found


def takes(framework: str, cls: Any, argument: str) -> tuple[bool, str]:
    """Whether ``cls`` accepts the keyword ``argument`` (with a plausible value)."""
    try:
        signature = inspect.signature(cls.__init__)
    except (TypeError, ValueError):
        return False, "no signature"
    kwargs: dict[str, Any] = {}
    for name, parameter in list(signature.parameters.items())[1:]:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if parameter.default is inspect.Parameter.empty:
            kwargs[name] = REQUIRED_VALUES.get(name, 1)
    value = IGNORED_VALUES.get(argument, (None, None))[0 if framework == KERAS else 1]
    kwargs[argument] = value
    try:
        cls(**kwargs)
    except TypeError as problem:
        if "unexpected keyword" in str(problem):
            return False, ""
        return True, f"(value refused: {problem})"
    except ValueError as problem:
        if "Unrecognized keyword" in str(problem):
            return False, ""
        return True, f"(value refused: {str(problem)[:80]})"
    except Exception as problem:
        return True, f"(other error: {type(problem).__name__})"
    return True, ""


def survey() -> list[str]:
    """Per ignored argument: the kinds none of whose framework classes takes it (the classes
    tried are every alias of the kind that names a keras.layers or torch.nn class)."""
    nowhere: dict[str, list[str]] = {}
    for kind in CATALOGUE:
        classes = framework_classes(kind)
        if not classes:
            continue
        for argument in kind.ignored:
            if not any(takes(framework, cls, argument)[0] for framework, _, cls in classes):
                names = ", ".join(
                    f"{'nn' if framework == TORCH else 'keras'}.{name}"
                    for framework, name, _ in classes
                )
                nowhere.setdefault(argument, []).append(f"{kind.name} ({names})")
    return [
        f"{argument}: {len(kinds)} kinds: " + "; ".join(kinds)
        for argument, kinds in sorted(nowhere.items())
    ]


# -- running ----------------------------------------------------------------------------------

RandomFamily = Callable[[random.Random], Case]
RANDOM: dict[str, RandomFamily] = {
    "torch_conv": gen_torch_conv,
    "torch_transpose": gen_torch_transpose,
    "torch_linear": gen_torch_linear,
    "torch_maxpool": gen_torch_maxpool,
    "torch_avgpool": gen_torch_avgpool,
    "torch_batchnorm": gen_torch_batchnorm,
    "torch_upsample": gen_torch_upsample,
    "keras_conv": gen_keras_conv,
    "keras_depthwise": gen_keras_depthwise,
    "keras_separable": gen_keras_separable,
    "keras_transpose": gen_keras_transpose,
    "keras_pool": gen_keras_pool,
    "keras_dense": gen_keras_dense,
    "keras_batchnorm_positional": gen_keras_batchnorm_positional,
    "keras_cropping1d": gen_keras_cropping1d,
    "torch_pool_dilation": gen_torch_pool_dilation,
    "torch_padding_mode": gen_torch_padding_mode,
}
FAMILIES = [*RANDOM, "keras_batchnorm", "keras_activation", "fixed_calls", "ignored", "survey"]


def cases(family: str, n: int, rng: random.Random) -> Iterator[Case]:
    if family in RANDOM:
        for _ in range(n):
            yield RANDOM[family](rng)
    elif family == "keras_batchnorm":
        yield from keras_batchnorm_fixed()
        for i in range(n):
            yield gen_keras_batchnorm(rng, center=i % 2 == 0, scale=i % 4 < 2)
    elif family == "ignored":
        yield from ignored_fixed()
    elif family == "keras_activation":
        yield from keras_activation_cases()
    elif family == "fixed_calls":
        yield from fixed_calls()


def show(outcome: Outcome, label: str) -> None:
    case = outcome.case
    print(f"[{case.family}] {label}")
    print(f"  convcalc:  {json.dumps(case.spec())}")
    print(f"  {case.framework + ':':10} {case.reproducer()}")
    print(f"  framework: {outcome.seen.shape or outcome.seen.error}")
    for line in outcome.problems:
        print(f"  MISMATCH: {line}")
    if outcome.documented:
        print(f"  documented refusal: {outcome.documented}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200, help="random draws per random family")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", help="comma-separated families: " + ", ".join(FAMILIES))
    parser.add_argument(
        "--examples", type=int, default=2, help="cases printed per kind of disagreement"
    )
    parser.add_argument("--verbose", action="store_true", help="print every case")
    args = parser.parse_args()
    chosen = args.only.split(",") if args.only else FAMILIES
    unknown = [name for name in chosen if name not in FAMILIES]
    if unknown:
        parser.error(f"unknown families {unknown}; choose from {FAMILIES}")
    KERAS_ACTIVATIONS.extend(keras_activations())
    print(f"torch {torch.__version__}, keras {keras.__version__} ({keras.backend.backend()})")
    mismatches = 0
    summary = []
    kinds: dict[tuple[str, str], int] = {}
    for family in chosen:
        if family == "survey":
            lines = survey()
            print(
                "\nsurvey: ignored arguments that no framework class of the kind takes "
                f"({len(lines)} arguments)"
            )
            for line in lines:
                print("  " + line)
            continue
        rng = random.Random(f"{args.seed}:{family}")
        ran = refused = bad = documented = 0
        for case in cases(family, args.n, rng):
            outcome = compare(case)
            ran += 1
            refused += outcome.seen.shape is None
            documented += bool(outcome.documented)
            if outcome.problems:
                bad += 1
                key = (family, signature(outcome))
                kinds[key] = kinds.get(key, 0) + 1
                if args.verbose or kinds[key] <= args.examples:
                    show(outcome, f"DISAGREES ({key[1]})")
            elif args.verbose:
                show(outcome, "documented difference" if outcome.documented else "agrees")
        mismatches += bad
        summary.append(
            f"{family:28} {ran:5} cases, {refused:4} refused by the framework, "
            f"{documented:3} documented refusals, {bad:4} disagree"
        )
    if kinds:
        print("\ndisagreements by kind (family, count, kind):")
        for (family, kind), count in sorted(kinds.items()):
            print(f"  {family:28} {count:4}  {kind}")
    print("\n" + "\n".join(summary))
    print(f"{mismatches} mismatches")
    return min(mismatches, 100)


if __name__ == "__main__":
    sys.exit(main())
