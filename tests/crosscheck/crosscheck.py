"""Cross-check convcalc against real Keras 3 and PyTorch 2, by hand (never run by pytest).

Builds random small models over every layer kind (random kernels, strides, paddings,
dilations, groups; both frameworks, both layouts), runs a zero input through each layer in the
real framework, and compares with convcalc, layer by layer: the output shape, the trainable and
non-trainable parameter counts, and in PyTorch the MACs (torch's FlopCounterMode counts
2 x MACs of convs and linears, bias excluded, as convcalc does). Where the framework raises, or
gives a tensor with an empty axis, convcalc must raise ConvCalcError at that layer.

Run with the framework venv, from anywhere::

    /opt/fw/bin/python tests/crosscheck/crosscheck.py --n 300 [--seed 1] [--framework keras]

A model is printed in full when it disagrees; the exit status is the number of mismatches
(capped at 100).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import warnings
from collections.abc import Callable
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
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from convcalc import ConvCalcError, analyze  # noqa: E402

KERAS, TORCH = "keras", "pytorch"
Shape = tuple[int, ...]


class Refused(Exception):
    """The framework has no way to express this layer: as good as the framework raising."""


@dataclass
class Ctx:
    """Where a generated layer stands: the current shape and the model's settings."""

    framework: str
    layout: str
    shape: Shape
    """In the layout's order, without the batch."""
    rng: random.Random

    @property
    def rank(self) -> int:
        return max(len(self.shape) - 1, 0)

    @property
    def channels_last(self) -> bool:
        return self.layout == "hwc"

    @property
    def channels(self) -> int:
        return self.shape[-1] if self.channels_last or self.rank == 0 else self.shape[0]

    @property
    def spatial(self) -> Shape:
        if self.rank == 0:
            return ()
        return self.shape[:-1] if self.channels_last else self.shape[1:]

    @property
    def data_format(self) -> str:
        return "channels_last" if self.channels_last else "channels_first"


Builder = Callable[[Ctx], list[Any]]
"""Makes the framework layers (or modules) for one convcalc layer; may raise."""


@dataclass
class Case:
    type: str
    params: dict[str, Any]
    keras: Builder | None
    torch: Builder | None
    notes: list[str] = field(default_factory=list)


# -- random values --------------------------------------------------------------------------


def per_axis(rng: random.Random, rank: int, low: int, high: int) -> tuple[int, list[int] | int]:
    """(value, how convcalc is told it): one for all axes, or one per axis."""
    if rank > 1 and rng.random() < 0.4:
        values = [rng.randint(low, high) for _ in range(rank)]
        return values, values  # type: ignore[return-value]
    value = rng.randint(low, high)
    return value, value


def axes(value: int | list[int], rank: int) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, list) else (value,) * rank


def divisor(rng: random.Random, n: int) -> int:
    return rng.choice([d for d in range(1, n + 1) if n % d == 0])


def window_padding(rng: random.Random, rank: int, modes: tuple[str, ...]) -> Any:
    roll = rng.random()
    if roll < 0.35:
        return "valid"
    if roll < 0.7 and "same" in modes:
        return "same"
    if roll < 0.75 and "causal" in modes:
        return "causal"
    return per_axis(rng, rank, 0, 2)[1]


def keras_pad_then(ctx: Ctx, padding: Any) -> tuple[list[Any], str]:
    """Keras layers for an integer padding: a zero-padding layer before a valid one."""
    if isinstance(padding, str):
        return [], padding
    pads = axes(padding, ctx.rank)
    zp = getattr(keras.layers, f"ZeroPadding{ctx.rank}D")
    if ctx.rank == 1:
        return [zp(pads[0], data_format=ctx.data_format)], "valid"
    return [zp(tuple((p, p) for p in pads), data_format=ctx.data_format)], "valid"


def torch_padding(ctx: Ctx, padding: Any) -> Any:
    if isinstance(padding, str):
        return padding
    return axes(padding, ctx.rank)


# -- one generator per kind -------------------------------------------------------------------


def gen_conv(ctx: Ctx) -> Case:
    rng, r, c = ctx.rng, ctx.rank, ctx.channels
    filters = rng.randint(1, 8)
    groups = 1
    if rng.random() < 0.3:
        groups = divisor(rng, c) if rng.random() < 0.8 else rng.randint(1, 4)
        filters = groups * rng.randint(1, 3) if rng.random() < 0.85 else filters
    kernel = per_axis(rng, r, 1, 5)[1]
    stride = per_axis(rng, r, 1, 3)[1] if rng.random() < 0.5 else 1
    dilation = per_axis(rng, r, 1, 3)[1] if rng.random() < 0.3 else 1
    padding = window_padding(rng, r, ("valid", "same", "causal") if r == 1 else ("valid", "same"))
    bias = rng.random() < 0.8
    params = {
        "filters": filters,
        "kernel": kernel,
        "stride": stride,
        "dilation": dilation,
        "padding": padding,
        "groups": groups,
        "bias": bias,
    }

    def k(ctx: Ctx) -> list[Any]:
        before, mode = keras_pad_then(ctx, padding)
        cls = getattr(keras.layers, f"Conv{r}D")
        return [
            *before,
            cls(
                filters,
                kernel,
                strides=stride,
                padding=mode,
                dilation_rate=dilation,
                groups=groups,
                use_bias=bias,
                data_format=ctx.data_format,
            ),
        ]

    def t(ctx: Ctx) -> list[Any]:
        cls = getattr(nn, f"Conv{r}d")
        return [
            cls(
                c,
                filters,
                kernel,
                stride=stride,
                padding=torch_padding(ctx, padding),
                dilation=dilation,
                groups=groups,
                bias=bias,
            )
        ]

    return Case(f"conv{r}d", params, k, t)


def gen_pool(ctx: Ctx) -> Case:
    rng, r = ctx.rng, ctx.rank
    kind = rng.choice(["max", "avg"])
    size = per_axis(rng, r, 1, 4)[1]
    stride = per_axis(rng, r, 1, 3)[1] if rng.random() < 0.4 else None
    padding = window_padding(rng, r, ("valid", "same"))
    ceil_mode = ctx.framework == TORCH and rng.random() < 0.3
    params: dict[str, Any] = {"size": size, "padding": padding}
    if stride is not None:
        params["stride"] = stride
    if ceil_mode:
        params["ceil_mode"] = True

    def k(ctx: Ctx) -> list[Any]:
        before, mode = keras_pad_then(ctx, padding)
        name = {"max": "MaxPooling", "avg": "AveragePooling"}[kind]
        cls = getattr(keras.layers, f"{name}{r}D")
        return [*before, cls(size, strides=stride, padding=mode, data_format=ctx.data_format)]

    def t(ctx: Ctx) -> list[Any]:
        if padding == "same":
            raise Refused("torch pools have no same")
        cls = getattr(nn, f"{'MaxPool' if kind == 'max' else 'AvgPool'}{r}d")
        pad = 0 if padding == "valid" else torch_padding(ctx, padding)
        return [cls(size, stride=stride, padding=pad, ceil_mode=ceil_mode)]

    return Case(f"{kind}pool{r}d", params, k, t)


def _depthwise_common(ctx: Ctx) -> dict[str, Any]:
    rng, r = ctx.rng, ctx.rank
    return {
        "kernel": per_axis(rng, r, 1, 5)[1],
        "stride": per_axis(rng, r, 1, 3)[1] if rng.random() < 0.5 else 1,
        "dilation": per_axis(rng, r, 1, 3)[1] if rng.random() < 0.3 else 1,
        "padding": window_padding(rng, r, ("valid", "same")),
        "depth_multiplier": rng.choice([1, 1, 2, 3]),
        "bias": rng.random() < 0.8,
    }


def gen_depthwise(ctx: Ctx) -> Case:
    r, c = ctx.rank, ctx.channels
    p = _depthwise_common(ctx)

    def k(ctx: Ctx) -> list[Any]:
        before, mode = keras_pad_then(ctx, p["padding"])
        cls = getattr(keras.layers, f"DepthwiseConv{r}D")
        return [
            *before,
            cls(
                p["kernel"],
                strides=p["stride"],
                padding=mode,
                depth_multiplier=p["depth_multiplier"],
                data_format=ctx.data_format,
                dilation_rate=p["dilation"],
                use_bias=p["bias"],
            ),
        ]

    def t(ctx: Ctx) -> list[Any]:
        cls = getattr(nn, f"Conv{r}d")
        return [
            cls(
                c,
                c * p["depth_multiplier"],
                p["kernel"],
                stride=p["stride"],
                padding=torch_padding(ctx, p["padding"]),
                dilation=p["dilation"],
                groups=c,
                bias=p["bias"],
            )
        ]

    return Case(f"depthwise_conv{r}d", p, k, t)


def gen_separable(ctx: Ctx) -> Case:
    r, c = ctx.rank, ctx.channels
    p = {"filters": ctx.rng.randint(1, 8), **_depthwise_common(ctx)}
    dm = p["depth_multiplier"]

    def k(ctx: Ctx) -> list[Any]:
        before, mode = keras_pad_then(ctx, p["padding"])
        cls = getattr(keras.layers, f"SeparableConv{r}D")
        return [
            *before,
            cls(
                p["filters"],
                p["kernel"],
                strides=p["stride"],
                padding=mode,
                depth_multiplier=dm,
                data_format=ctx.data_format,
                dilation_rate=p["dilation"],
                use_bias=p["bias"],
            ),
        ]

    def t(ctx: Ctx) -> list[Any]:
        # What a PyTorch user writes: a depthwise conv without bias, then a 1x1 conv.
        cls = getattr(nn, f"Conv{r}d")
        return [
            cls(
                c,
                c * dm,
                p["kernel"],
                stride=p["stride"],
                padding=torch_padding(ctx, p["padding"]),
                dilation=p["dilation"],
                groups=c,
                bias=False,
            ),
            cls(c * dm, p["filters"], 1, bias=p["bias"]),
        ]

    return Case(f"separable_conv{r}d", p, k, t)


def gen_transpose(ctx: Ctx) -> Case:
    rng, r, c = ctx.rng, ctx.rank, ctx.channels
    filters = rng.randint(1, 8)
    groups = 1
    if ctx.framework == TORCH and rng.random() < 0.3:
        groups = divisor(rng, c) if rng.random() < 0.8 else rng.randint(1, 4)
        filters = groups * rng.randint(1, 3) if rng.random() < 0.85 else filters
    elif rng.random() < 0.05:
        groups = 2
    kernel = per_axis(rng, r, 1, 4)[1]
    stride = per_axis(rng, r, 1, 3)[1] if rng.random() < 0.6 else 1
    dilation = per_axis(rng, r, 1, 3)[1] if rng.random() < 0.3 else 1
    roll = rng.random()
    keras_side = ctx.framework == KERAS
    if roll < 0.35:
        padding: Any = "valid"
    elif roll < 0.9 if keras_side else roll < 0.4:
        padding = "same"
    else:
        padding = per_axis(rng, r, 0, 2)[1]
    output_padding = per_axis(rng, r, 0, 2)[1] if rng.random() < 0.45 else None
    if output_padding is not None and rng.random() < 0.7:
        # mostly what the frameworks take: below the stride (or, in PyTorch, the dilation)
        limits = [
            max(s, d if not keras_side else 1)
            for s, d in zip(axes(stride, r), axes(dilation, r), strict=True)
        ]
        output_padding = [rng.randrange(limit) for limit in limits]
    bias = rng.random() < 0.8
    params: dict[str, Any] = {
        "filters": filters,
        "kernel": kernel,
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
        "groups": groups,
        "bias": bias,
    }
    if output_padding is not None:
        params["output_padding"] = output_padding

    def k(ctx: Ctx) -> list[Any]:
        cls = getattr(keras.layers, f"Conv{r}DTranspose")
        extra = {"groups": groups} if groups != 1 else {}
        return [
            cls(
                filters,
                kernel,
                strides=stride,
                padding=padding,
                output_padding=output_padding,
                dilation_rate=dilation,
                use_bias=bias,
                data_format=ctx.data_format,
                **extra,
            )
        ]

    def t(ctx: Ctx) -> list[Any]:
        cls = getattr(nn, f"ConvTranspose{r}d")
        pad = 0 if padding == "valid" else torch_padding(ctx, padding)
        return [
            cls(
                c,
                filters,
                kernel,
                stride=stride,
                padding=pad,
                output_padding=output_padding or 0,
                groups=groups,
                bias=bias,
                dilation=dilation,
            )
        ]

    return Case(f"conv{r}d_transpose", params, k, t)


def gen_global(ctx: Ctx) -> Case:
    r = ctx.rank
    kind = ctx.rng.choice(["max", "avg"])
    keep = ctx.rng.random() < 0.4
    params = {"keepdims": keep} if keep or ctx.rng.random() < 0.5 else {}

    def k(ctx: Ctx) -> list[Any]:
        name = {"max": "GlobalMaxPooling", "avg": "GlobalAveragePooling"}[kind]
        return [getattr(keras.layers, f"{name}{r}D")(data_format=ctx.data_format, keepdims=keep)]

    def t(ctx: Ctx) -> list[Any]:
        cls = getattr(nn, f"Adaptive{'Max' if kind == 'max' else 'Avg'}Pool{r}d")
        return [cls(1)] if keep else [cls(1), nn.Flatten()]

    return Case(f"global_{kind}pool{r}d", params, k, t)


def gen_adaptive(ctx: Ctx) -> Case:
    r = ctx.rank
    kind = ctx.rng.choice(["max", "avg"])
    size = per_axis(ctx.rng, r, 1, 8)[1]

    def k(ctx: Ctx) -> list[Any]:
        name = {"max": "AdaptiveMaxPooling", "avg": "AdaptiveAveragePooling"}[kind]
        return [getattr(keras.layers, f"{name}{r}D")(size, data_format=ctx.data_format)]

    def t(ctx: Ctx) -> list[Any]:
        cls = getattr(nn, f"Adaptive{'Max' if kind == 'max' else 'Avg'}Pool{r}d")
        return [cls(size)]

    return Case(f"adaptive_{kind}pool{r}d", {"output_size": size}, k, t)


def margins(rng: random.Random, rank: int, high: int) -> tuple[Any, tuple[tuple[int, int], ...]]:
    """A random zero-padding or cropping, as convcalc is told it and as (before, after) pairs."""
    roll = rng.random()
    if roll < 0.3:
        n = rng.randint(0, high)
        return n, ((n, n),) * rank
    if roll < 0.55 and rank > 1:
        values = [rng.randint(0, high) for _ in range(rank)]
        return values, tuple((v, v) for v in values)
    pairs = tuple((rng.randint(0, high), rng.randint(0, high)) for _ in range(rank))
    if rank == 1 and rng.random() < 0.5:
        return list(pairs[0]), pairs
    return [list(pair) for pair in pairs], pairs


def _torch_flat(pairs: tuple[tuple[int, int], ...], sign: int) -> tuple[int, ...]:
    """PyTorch's flat padding: the last axis first."""
    return tuple(sign * side for pair in reversed(pairs) for side in pair)


def _keras_permuted(ctx: Ctx, layer: Any) -> list[Any]:
    """Keras' 1-D cropping and upsampling have no data_format: wrap channels-first in permutes."""
    if ctx.channels_last:
        return [layer]
    return [keras.layers.Permute((2, 1)), layer, keras.layers.Permute((2, 1))]


def gen_zeropadding(ctx: Ctx) -> Case:
    r = ctx.rank
    told, pairs = margins(ctx.rng, r, 3)

    def k(ctx: Ctx) -> list[Any]:
        cls = getattr(keras.layers, f"ZeroPadding{r}D")
        return [cls(pairs[0] if r == 1 else pairs, data_format=ctx.data_format)]

    def t(ctx: Ctx) -> list[Any]:
        return [getattr(nn, f"ZeroPad{r}d")(_torch_flat(pairs, 1))]

    return Case(f"zeropadding{r}d", {"padding": told}, k, t)


def gen_cropping(ctx: Ctx) -> Case:
    r = ctx.rank
    told, pairs = margins(ctx.rng, r, 4)

    def k(ctx: Ctx) -> list[Any]:
        cls = getattr(keras.layers, f"Cropping{r}D")
        if r == 1:
            # Keras' Cropping1D has no data_format and crops axis 1 whatever the layout; so
            # does convcalc under keras (the front-door issue's quirk, with a note)
            return [cls(pairs[0])]
        return [cls(pairs, data_format=ctx.data_format)]

    def t(ctx: Ctx) -> list[Any]:
        return [getattr(nn, f"ZeroPad{r}d")(_torch_flat(pairs, -1))]

    return Case(f"cropping{r}d", {"cropping": told}, k, t)


def gen_upsampling(ctx: Ctx) -> Case:
    r = ctx.rank
    size = per_axis(ctx.rng, r, 1, 3)[1]
    factors = axes(size, r)
    name = ctx.rng.choice(["size", "scale_factor"])

    def k(ctx: Ctx) -> list[Any]:
        cls = getattr(keras.layers, f"UpSampling{r}D")
        if r == 1:
            return _keras_permuted(ctx, cls(factors[0]))
        return [cls(factors, data_format=ctx.data_format)]

    def t(ctx: Ctx) -> list[Any]:
        return [nn.Upsample(scale_factor=tuple(float(f) for f in factors), mode="nearest")]

    return Case(f"upsampling{r}d", {name: size}, k, t)


def gen_upsample(ctx: Ctx) -> Case:
    rng, r = ctx.rng, ctx.rank
    params: dict[str, Any] = {}
    roll = rng.random()
    if roll < 0.45 or ctx.framework == KERAS and r != 2:
        params["scale_factor"] = per_axis(rng, r, 1, 3)[1]
    elif roll < 0.9:
        params["size"] = per_axis(rng, r, 1, 9)[1]
    elif roll < 0.95:
        params = {"scale_factor": 2, "size": 4}
    sf, sz = params.get("scale_factor"), params.get("size")

    def k(ctx: Ctx) -> list[Any]:
        if (sf is None) == (sz is None):
            raise Refused("upsample needs exactly one of size and scale_factor")
        if sf is not None:
            cls = getattr(keras.layers, f"UpSampling{r}D")
            f = axes(sf, r)
            return (
                _keras_permuted(ctx, cls(f[0])) if r == 1 else [cls(f, data_format=ctx.data_format)]
            )
        h, w = axes(sz, 2)
        return [keras.layers.Resizing(h, w, interpolation="nearest", data_format=ctx.data_format)]

    def t(ctx: Ctx) -> list[Any]:
        scale = None if sf is None else tuple(float(f) for f in axes(sf, r))
        size = None if sz is None else axes(sz, r)
        return [nn.Upsample(size=size, scale_factor=scale)]

    return Case("upsample", params, k, t)


class Reshape(nn.Module):
    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.shape = shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], *self.shape)


def gen_reshape(ctx: Ctx) -> Case:
    rng = ctx.rng
    total = math.prod(ctx.shape)
    parts: list[int] = []
    rest = total
    for _ in range(rng.randint(0, 2)):
        d = divisor(rng, rest)
        parts.append(d)
        rest //= d
    parts.append(rest)
    rng.shuffle(parts)
    if rng.random() < 0.4:
        parts[rng.randrange(len(parts))] = -1
    if rng.random() < 0.15:
        i = rng.randrange(len(parts))
        parts[i] = parts[i] + 1 if parts[i] != -1 else 3
    shape = tuple(parts)

    def k(ctx: Ctx) -> list[Any]:
        return [keras.layers.Reshape(shape)]

    def t(ctx: Ctx) -> list[Any]:
        return [Reshape(shape)]

    return Case("reshape", {"shape": list(shape)}, k, t)


def gen_layernorm(ctx: Ctx) -> Case:
    rng = ctx.rng
    n = rng.randint(1, len(ctx.shape))
    affine, bias = rng.random() < 0.8, rng.random() < 0.8
    params: dict[str, Any] = {"affine": affine, "bias": bias}
    normalized: tuple[int, ...] | None = None
    if ctx.framework == TORCH and rng.random() < 0.4:
        normalized = ctx.shape[-n:]
        if rng.random() < 0.2:
            normalized = (*normalized[:-1], normalized[-1] + 1)
        params["normalized_shape"] = list(normalized)
    elif n != 1 or rng.random() < 0.5:
        params["axes"] = n

    def k(ctx: Ctx) -> list[Any]:
        return [
            keras.layers.LayerNormalization(
                axis=list(range(-n, 0)), center=affine and bias, scale=affine
            )
        ]

    def t(ctx: Ctx) -> list[Any]:
        return [nn.LayerNorm(normalized or ctx.shape[-n:], elementwise_affine=affine, bias=bias)]

    return Case("layernorm", params, k, t)


def gen_groupnorm(ctx: Ctx) -> Case:
    rng, c = ctx.rng, ctx.channels
    groups = divisor(rng, c) if rng.random() < 0.8 else rng.randint(1, c + 2)
    affine = rng.random() < 0.8

    def k(ctx: Ctx) -> list[Any]:
        axis = -1 if ctx.channels_last else 1
        return [keras.layers.GroupNormalization(groups, axis=axis, center=affine, scale=affine)]

    def t(ctx: Ctx) -> list[Any]:
        return [nn.GroupNorm(groups, c, affine=affine)]

    return Case("groupnorm", {"groups": groups, "affine": affine}, k, t)


def gen_batchnorm(ctx: Ctx) -> Case:
    def k(ctx: Ctx) -> list[Any]:
        return [keras.layers.BatchNormalization(axis=-1 if ctx.channels_last else 1)]

    def t(ctx: Ctx) -> list[Any]:
        return [getattr(nn, f"BatchNorm{max(ctx.rank, 1)}d")(ctx.channels)]

    return Case("batchnorm", {}, k, t)


def gen_dense(ctx: Ctx) -> Case:
    units, bias = ctx.rng.randint(1, 16), ctx.rng.random() < 0.8

    def k(ctx: Ctx) -> list[Any]:
        return [keras.layers.Dense(units, use_bias=bias)]

    def t(ctx: Ctx) -> list[Any]:
        return [nn.Linear(ctx.shape[-1], units, bias=bias)]

    return Case("dense", {"units": units, "bias": bias}, k, t)


def gen_flatten(ctx: Ctx) -> Case:
    return Case("flatten", {}, lambda ctx: [keras.layers.Flatten()], lambda ctx: [nn.Flatten()])


def gen_activation(ctx: Ctx) -> Case:
    name = ctx.rng.choice(["relu", "ReLU", "sigmoid", "tanh", "gelu", "LeakyReLU", "softmax"])
    return Case(name, {}, lambda ctx: [keras.layers.Activation("relu")], lambda ctx: [nn.ReLU()])


SPATIAL: dict[str, tuple[Callable[[Ctx], Case], tuple[int, ...], float]] = {
    # generator, spatial ranks it applies to, weight
    "conv": (gen_conv, (1, 2, 3), 2.0),
    "pool": (gen_pool, (1, 2, 3), 1.0),
    "depthwise": (gen_depthwise, (1, 2), 1.5),
    "separable": (gen_separable, (1, 2), 1.5),
    "transpose": (gen_transpose, (1, 2, 3), 2.5),
    "global": (gen_global, (1, 2, 3), 0.5),
    "adaptive": (gen_adaptive, (1, 2, 3), 1.0),
    "zeropadding": (gen_zeropadding, (1, 2, 3), 1.0),
    "cropping": (gen_cropping, (1, 2, 3), 1.0),
    "upsampling": (gen_upsampling, (1, 2, 3), 1.0),
    "upsample": (gen_upsample, (1, 2, 3), 0.7),
    "reshape": (gen_reshape, (0, 1, 2, 3), 0.5),
    "layernorm": (gen_layernorm, (0, 1, 2, 3), 0.8),
    "groupnorm": (gen_groupnorm, (0, 1, 2, 3), 0.8),
    "batchnorm": (gen_batchnorm, (0, 1, 2, 3), 0.4),
    "dense": (gen_dense, (0, 1, 2, 3), 0.4),
    "flatten": (gen_flatten, (1, 2, 3), 0.2),
    "activation": (gen_activation, (0, 1, 2, 3), 0.3),
}
LAYOUT_BOUND = {"reshape", "layernorm", "dense"}
"""Kinds whose meaning depends on the axis order: PyTorch runs them only in its own (chw), as
the harness moves PyTorch's channels-first shapes to channels-last for the hwc layout."""


def pick(ctx: Ctx, only: str | None) -> Case:
    names = [
        name
        for name, (_, ranks, _) in SPATIAL.items()
        if ctx.rank in ranks
        and not (ctx.framework == TORCH and ctx.layout == "hwc" and name in LAYOUT_BOUND)
    ]
    if only and only in names and ctx.rng.random() < 0.7:
        return SPATIAL[only][0](ctx)
    weights = [SPATIAL[name][2] for name in names]
    return SPATIAL[ctx.rng.choices(names, weights)[0]][0](ctx)


# -- running a layer in each framework --------------------------------------------------------


@dataclass
class Seen:
    """What a framework did with one layer."""

    shape: Shape | None
    """Output without the batch, in the layout's order; None when the framework refused."""
    trainable: int = 0
    non_trainable: int = 0
    macs: int | None = None
    error: str = ""


def run_keras(case: Case, ctx: Ctx, x: Any) -> tuple[Seen, Any]:
    try:
        assert case.keras is not None
        layers = case.keras(ctx)
        for layer in layers:
            x = layer(x)
    except Exception as problem:  # the framework refusing, in any of its ways
        return Seen(None, error=f"{type(problem).__name__}: {str(problem)[:160]}"), None
    trainable = sum(int(np.prod(w.shape)) for layer in layers for w in layer.trainable_weights)
    frozen = sum(int(np.prod(w.shape)) for layer in layers for w in layer.non_trainable_weights)
    return Seen(tuple(int(d) for d in x.shape[1:]), trainable, frozen), x


def run_torch(case: Case, ctx: Ctx, x: Any) -> tuple[Seen, Any]:
    try:
        assert case.torch is not None
        module = nn.Sequential(*case.torch(ctx)).eval()  # batch statistics need no batch
        counter = FlopCounterMode(display=False)
        with torch.no_grad(), counter:
            x = module(x)
    except Exception as problem:
        return Seen(None, error=f"{type(problem).__name__}: {str(problem)[:160]}"), None
    params = sum(p.numel() for p in module.parameters())
    flops = counter.get_total_flops()
    shape = tuple(int(d) for d in x.shape[1:])
    return Seen(shape, params, 0, flops // 2), x


def to_layout(shape: Shape, layout: str) -> Shape:
    """A channels-first shape (PyTorch's) in the model's layout."""
    if layout == "chw" or len(shape) <= 1:
        return shape
    return (*shape[1:], shape[0])


def from_layout(shape: Shape, layout: str) -> Shape:
    if layout == "chw" or len(shape) <= 1:
        return shape
    return (shape[-1], *shape[:-1])


# -- one model --------------------------------------------------------------------------------


@dataclass
class Model:
    framework: str
    layout: str
    input: Shape
    cases: list[Case]
    seen: list[Seen]

    def spec(self) -> dict[str, Any]:
        return {
            "input": list(self.input),
            "framework": self.framework,
            "layout": self.layout,
            "layers": [{case.type: case.params} for case in self.cases],
        }


def build(rng: random.Random, framework: str, only: str | None) -> Model:
    layout = rng.choice(["hwc", "chw"])
    rank = rng.choice([0, 1, 1, 2, 2, 2, 3])
    channels = rng.randint(1, 8)
    high = {0: 1, 1: 14, 2: 10, 3: 6}[rank]
    spatial = tuple(rng.randint(1, high) for _ in range(rank))
    shape = (*spatial, channels) if layout == "hwc" else (channels, *spatial)
    if rank == 0:
        shape = (channels,)
    model = Model(framework, layout, shape, [], [])
    if framework == KERAS:
        x: Any = np.zeros((1, *shape), "float32")
    else:
        x = torch.zeros((1, *from_layout(shape, layout)))
    current = shape
    for _ in range(rng.randint(1, 4)):
        ctx = Ctx(framework, layout, current, rng)
        case = pick(ctx, only)
        if framework == KERAS:
            seen, x = run_keras(case, ctx, x)
        else:
            seen, x = run_torch(case, ctx, x)
            if seen.shape is not None:
                seen.shape = to_layout(seen.shape, layout)
        if seen.shape is not None and min(seen.shape, default=1) < 1:
            seen = Seen(None, error=f"empty output {seen.shape}")
        model.cases.append(case)
        model.seen.append(seen)
        if seen.shape is None:
            break
        current = seen.shape
    return model


def compare(model: Model) -> list[str]:
    """The disagreements between convcalc and the framework, as lines of text."""
    refused_at = next((i for i, s in enumerate(model.seen) if s.shape is None), None)
    try:
        report = analyze(model.spec()).to_dict()
    except ConvCalcError as error:
        if refused_at is None:
            return [f"convcalc refused what {model.framework} accepts: {error}"]
        if f"layer {refused_at + 1} " not in str(error):
            return [f"convcalc refused at another layer than {refused_at + 1}: {error}"]
        return []
    except Exception as error:  # a crash in convcalc is always a bug
        return [f"convcalc crashed: {type(error).__name__}: {error}"]
    if refused_at is not None:
        return [
            f"{model.framework} refused layer {refused_at + 1} "
            f"({model.seen[refused_at].error}) but convcalc accepted it"
        ]
    problems: list[str] = []
    for i, (row, seen) in enumerate(zip(report["layers"], model.seen, strict=True), start=1):
        got = (tuple(row["output_shape"]), row["trainable_params"], row["non_trainable_params"])
        want = (seen.shape, seen.trainable, seen.non_trainable)
        if got != want:
            problems.append(f"layer {i} {row['type']}: convcalc {got}, {model.framework} {want}")
        if seen.macs is not None and seen.macs != row["macs"]:
            problems.append(f"layer {i} {row['type']}: MACs {row['macs']}, torch {seen.macs}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100, help="models to build")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--framework", choices=[KERAS, TORCH], help="only this framework")
    parser.add_argument("--only", choices=sorted(SPATIAL), help="favour this kind")
    parser.add_argument("--verbose", action="store_true", help="print every model")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    mismatches = refusals = layers = 0
    kinds: dict[str, int] = {}
    for n in range(args.n):
        framework = args.framework or (KERAS if n % 2 == 0 else TORCH)
        model = build(rng, framework, args.only)
        layers += len(model.cases)
        refusals += any(s.shape is None for s in model.seen)
        for case in model.cases:
            kinds[case.type] = kinds.get(case.type, 0) + 1
        problems = compare(model)
        if problems or args.verbose:
            print(json.dumps(model.spec()))
            print("  framework:", [s.shape or s.error for s in model.seen])
            for line in problems:
                print("  MISMATCH:", line)
        mismatches += bool(problems)
    print(
        f"{args.n} models, {layers} layers ({refusals} models end in a framework refusal); "
        f"{mismatches} disagree with convcalc"
    )
    print("layers per type:", dict(sorted(kinds.items())))
    return min(mismatches, 100)


if __name__ == "__main__":
    sys.exit(main())
