"""Cross-check the kinds of modern networks against real Keras 3 and PyTorch 2, by hand (never
run by pytest).

Builds each kind of ``_kinds_channels.py`` and ``_kinds_tokens.py`` (permute, layernorm2d,
layer_scale, drop_path, channel_shuffle, rescaling, normalization, multihead_attention,
patch_embedding, to_tokens, class_token, position_embedding, take_token, embedding) in both
frameworks, over random settings in both layouts, valid and not, and compares with convcalc:
the output shape, the trainable and non-trainable parameter counts, and in PyTorch the MACs
(torch's FlopCounterMode counts 2 x MACs of matrix products and convolutions, bias excluded,
as convcalc does; attention runs in training mode, where PyTorch takes the path the counter
sees). Where the framework refuses, convcalc must refuse too, and the reverse.

Then whole networks: torchvision's own ConvNeXt and VisionTransformer classes (their source
read from the installed torchvision and run without its compiled operators, which this venv's
torchvision lacks), at random sizes, and keras.applications.ConvNeXtTiny, against the same
networks written for convcalc: total parameters, and MACs in PyTorch.

What the framework is:

- Keras: a layer called on ``keras.Input`` (what a model is built from: its weights and its
  symbolic output shape), then on a zero array; it refuses if either raises. Keras has no
  class token, position embedding, channel shuffle or token view of an image: those are built
  as Keras code writes them (a small layer with ``add_weight``; Reshape, Permute, Reshape;
  Conv2D then Reshape; ``x[:, i]``).
- PyTorch: the module (or torchvision's code) on a zero tensor; for the channels-last layout,
  the same operation on the channels-last tensor (LayerNorm(C) on the last axis, a (C,)
  scale, the shuffle of the moved channel axis).

Run with the framework venv, from anywhere::

    /opt/fw/bin/python tests/crosscheck/crosscheck_modern.py --n 600 [--seed 1] [--only mha]

A disagreeing case is printed in full; the exit status is the number of disagreements (capped
at 100). Some settings are left out on purpose, because convcalc refuses what the framework
takes: a ``drop_path`` rate outside 0..1 in Keras (Keras' StochasticDepth does not check it;
torchvision refuses it); a list ``scale`` of Rescaling on an axis of size 1 (Keras reports the
input's shape but computes a broadcast one); a position embedding of one row, which
broadcasts over the tokens; and what convcalc's shapes cannot hold: a permute that moves the
batch, a token taken from a flat vector (a scalar per sample), and attention on a flat
vector (PyTorch reads (N, E) as one sequence of N tokens, the batch as the sequence), and
an output of five axes (Keras' attention with a two-axis output_shape on 3-D positions).
"""

from __future__ import annotations

import argparse
import ast
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
import torch.nn.functional as F  # noqa: E402
from keras import layers as kl  # noqa: E402
from keras import ops  # noqa: E402
from keras.src.applications.convnext import LayerScale, StochasticDepth  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode, sdpa_flop_count  # noqa: E402

from convcalc import ConvCalcError, analyze  # noqa: E402

KERAS, TORCH = "keras", "pytorch"
BATCH = 2
"""Samples per run: row-wise stochastic depth and the batch axis of every op see more than one."""
Shape = tuple[int, ...]


def sdpa_flops(query: Any, key: Any, value: Any, *args: Any, **kwargs: Any) -> int:
    return int(sdpa_flop_count(query, key, value))


def flop_counter() -> FlopCounterMode:
    """torch's counter, taught torch's own formula for the fused attention kernel of the CPU,
    which it leaves out (it counts the CUDA ones): attention with need_weights=False, as
    torchvision's ViT calls it, runs there."""
    fused = [
        getattr(torch.ops.aten, name)
        for name in ("_scaled_dot_product_flash_attention_for_cpu",)
        if hasattr(torch.ops.aten, name)
    ]
    return FlopCounterMode(display=False, custom_mapping=dict.fromkeys(fused, sdpa_flops))


# -- torchvision's own code, without its compiled operators ---------------------------------

TORCHVISION = Path(torch.__file__).resolve().parent.parent / "torchvision"


def torchvision_code() -> dict[str, Any]:
    """torchvision's classes read from its source: LayerNorm2d, CNBlock, ConvNeXt, Permute,
    StochasticDepth, VisionTransformer (importing torchvision fails in this venv: its compiled
    operators do not match torch; these classes need none of them)."""
    from collections import OrderedDict
    from functools import partial
    from typing import NamedTuple, Optional, Union

    namespace: dict[str, Any] = {
        "torch": torch,
        "nn": nn,
        "F": F,
        "Tensor": torch.Tensor,
        "math": math,
        "OrderedDict": OrderedDict,
        "partial": partial,
        "Any": Any,
        "Callable": Callable,
        "List": list,
        "Optional": Optional,
        "Sequence": list,
        "NamedTuple": NamedTuple,
        "Union": Union,
        "Tuple": tuple,
        "warnings": warnings,
        "_log_api_usage_once": lambda obj: None,
    }
    wanted = {
        "utils.py": ["_make_ntuple"],
        "ops/misc.py": ["ConvNormActivation", "Conv2dNormActivation", "Permute", "MLP"],
        "ops/stochastic_depth.py": ["stochastic_depth", "StochasticDepth"],
        "models/convnext.py": ["LayerNorm2d", "CNBlock", "CNBlockConfig", "ConvNeXt"],
        "models/vision_transformer.py": [
            "ConvStemConfig",
            "MLPBlock",
            "EncoderBlock",
            "Encoder",
            "VisionTransformer",
        ],
    }
    for path, names in wanted.items():
        tree = ast.parse((TORCHVISION / path).read_text())
        nodes = [
            node
            for node in tree.body
            if isinstance(node, (ast.ClassDef, ast.FunctionDef)) and node.name in names
        ]
        assert {node.name for node in nodes} == set(names), path
        for node in nodes:
            node.decorator_list = []
        exec(compile(ast.Module(body=nodes, type_ignores=[]), str(path), "exec"), namespace)
    return namespace


TV = torchvision_code()

# -- Keras layers Keras code writes by hand ---------------------------------------------------


class ClassToken(kl.Layer):
    """A learned token of E features prepended to the sequence, as keras.io's ViT writes it."""

    def __init__(self, count: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.count = count

    def build(self, shape: Any) -> None:
        self.token = self.add_weight(shape=(1, self.count, shape[-1]), initializer="zeros")

    def call(self, x: Any) -> Any:
        token = ops.broadcast_to(self.token, (ops.shape(x)[0], self.count, ops.shape(x)[-1]))
        return ops.concatenate([token, x], axis=1)

    def compute_output_shape(self, shape: Any) -> Any:
        length = None if shape[1] is None else shape[1] + self.count
        return (shape[0], length, shape[2])


class PositionAdd(kl.Layer):
    """A learned (S, E) added to the tokens (N, L, E), as ViT's encoder input takes them."""

    def __init__(self, length: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.length = length
        self.input_spec = kl.InputSpec(ndim=3)

    def build(self, shape: Any) -> None:
        self.table = self.add_weight(shape=(self.length, shape[-1]), initializer="zeros")

    def call(self, x: Any) -> Any:
        return x + self.table


# -- the cases --------------------------------------------------------------------------------


@dataclass
class Case:
    kind: str
    framework: str
    layout: str
    input: Shape
    layer: dict[str, Any]
    """The convcalc layer."""
    build: Callable[[], Any]
    """Keras: a function of the input tensor; PyTorch: a module or a function of the tensor."""
    integer_input: bool = False
    notes: list[str] = field(default_factory=list)

    def spec(self) -> dict[str, Any]:
        return {
            "input": list(self.input),
            "framework": self.framework,
            "layout": self.layout,
            "layers": [self.layer],
        }


@dataclass
class Ctx:
    rng: random.Random
    framework: str
    layout: str

    @property
    def channels_last(self) -> bool:
        return self.layout == "hwc"

    def image(self, ranks: tuple[int, ...] = (1, 2, 3), high: int = 9) -> Shape:
        rank = self.rng.choice(ranks)
        spatial = tuple(self.rng.randint(1, high) for _ in range(rank))
        channels = self.rng.randint(1, 12)
        return (*spatial, channels) if self.channels_last else (channels, *spatial)

    def channels_of(self, shape: Shape) -> int:
        return shape[-1] if self.channels_last or len(shape) == 1 else shape[0]

    def tokens(self) -> Shape:
        return (self.rng.randint(1, 12), self.rng.choice([4, 6, 8, 12, 16, 24]))


def moved(x: Any, channels_last: bool, fn: Callable[[Any], Any]) -> Any:
    """``fn`` of a channels-first tensor, applied to ``x`` in its layout."""
    if not channels_last or x.dim() <= 2:
        return fn(x)
    order = (0, x.dim() - 1, *range(1, x.dim() - 1))
    back = (0, *range(2, x.dim()), 1)
    return fn(x.permute(*order)).permute(*back)


class Fn(nn.Module):
    """A function as a module, with parameters of its own."""

    def __init__(self, fn: Callable[..., Any], **params: nn.Parameter) -> None:
        super().__init__()
        self.fn = fn
        for name, value in params.items():
            setattr(self, name, value)

    def forward(self, x: Any) -> Any:
        return self.fn(self, x)


def gen_permute(ctx: Ctx) -> Case:
    rng = ctx.rng
    shape = ctx.image(ranks=(0, 1, 2, 3)) if rng.random() < 0.9 else (rng.randint(1, 9),)
    if len(shape) == 2 and rng.random() < 0.3:
        shape = (shape[0],)
    n = len(shape)
    order = list(range(n))
    rng.shuffle(order)
    if ctx.framework == KERAS:
        dims = [axis + 1 for axis in order]
        roll = rng.random()
        if roll < 0.1:
            dims = dims[:-1] or [1, 2]  # too few axes
        elif roll < 0.2:
            dims = [*dims, n + 1]  # too many
        elif roll < 0.25:
            dims[0] = dims[-1]  # repeated
        return Case(
            "permute",
            KERAS,
            ctx.layout,
            shape,
            {"permute": dims},
            lambda: kl.Permute(tuple(dims)),
        )
    torch_dims = [0, *(axis + 1 for axis in order)]
    roll = rng.random()
    if roll < 0.3:
        torch_dims = [d - (n + 1) if d and rng.random() < 0.5 else d for d in torch_dims]
    elif roll < 0.4:
        torch_dims = torch_dims[:-1]
    elif roll < 0.45 and n > 1:
        torch_dims[1] = torch_dims[2]
    elif roll < 0.5:
        torch_dims[-1] = n + 1
    return Case(
        "permute",
        TORCH,
        ctx.layout,
        shape,
        {"permute": {"torch_dims": torch_dims}},
        lambda: Fn(lambda self, x: x.permute(*torch_dims)),
    )


def gen_layernorm2d(ctx: Ctx) -> Case:
    rng = ctx.rng
    shape = ctx.image(ranks=(0, 1, 2, 3))
    if rng.random() < 0.2:
        shape = (rng.randint(1, 12),)
    c = ctx.channels_of(shape)
    affine, bias = rng.random() < 0.8, rng.random() < 0.8
    checked = c if rng.random() < 0.8 else rng.randint(1, 12)
    if ctx.framework == KERAS:
        axis = -1 if ctx.channels_last or len(shape) == 1 else 1
        layer = {"layernorm2d": {"affine": affine, "bias": bias}}
        return Case(
            "layernorm2d",
            KERAS,
            ctx.layout,
            shape,
            layer,
            lambda: kl.LayerNormalization(axis=axis, center=affine and bias, scale=affine),
        )
    spelled = len(shape) == 3 and not ctx.channels_last
    args = {"num_channels": checked, "affine": affine, "bias": bias}
    if spelled and rng.random() < 0.7:
        layer: dict[str, Any] = {"LayerNorm2d": args}
        return Case(
            "layernorm2d",
            TORCH,
            ctx.layout,
            shape,
            layer,
            lambda: TV["LayerNorm2d"](checked, elementwise_affine=affine, bias=bias),
        )
    norm = nn.LayerNorm(checked, elementwise_affine=affine, bias=bias)

    def apply(self: Any, x: Any) -> Any:
        if x.dim() == 2:
            return self.norm(x)
        last = ctx.channels_last
        order = (0, *range(2, x.dim()), 1)
        back = (0, x.dim() - 1, *range(1, x.dim() - 1))
        return self.norm(x) if last else self.norm(x.permute(*order)).permute(*back)

    return Case(
        "layernorm2d",
        TORCH,
        ctx.layout,
        shape,
        {"layernorm2d": args},
        lambda: Fn(apply, norm=norm),
    )


def gen_layer_scale(ctx: Ctx) -> Case:
    rng = ctx.rng
    shape = ctx.image(ranks=(0, 1, 2, 3))
    if ctx.framework == KERAS:
        last = shape[-1]
        dim = rng.choice([last, last, last, 1, rng.randint(1, 12)])
        layer: dict[str, Any] = (
            {"LayerScale": [1e-6, dim]}
            if rng.random() < 0.6
            else {"layer_scale": {"projection_dim": dim}}
        )
        if rng.random() < 0.2:
            layer, dim = {"layer_scale": {}}, last
        return Case("layer_scale", KERAS, ctx.layout, shape, layer, lambda: LayerScale(1e-6, dim))
    c = ctx.channels_of(shape)
    dim = rng.choice([c, c, c, 1, rng.randint(1, 12)])
    axes = len(shape)
    if ctx.channels_last or axes == 1:
        param_shape: tuple[int, ...] = (dim,)
    else:
        param_shape = (dim, *([1] * (axes - 1)))  # torchvision's (C, 1, 1)
    gamma = nn.Parameter(torch.ones(param_shape))
    return Case(
        "layer_scale",
        TORCH,
        ctx.layout,
        shape,
        {"layer_scale": {"dim": dim}},
        lambda: Fn(lambda self, x: self.gamma * x, gamma=gamma),
    )


def gen_drop_path(ctx: Ctx) -> Case:
    rng = ctx.rng
    shape = ctx.image(ranks=(0, 1, 2, 3))
    rate = rng.choice([0.0, 0.1, 0.5, 1.0])
    if ctx.framework == KERAS:
        return Case(
            "drop_path",
            KERAS,
            ctx.layout,
            shape,
            {"StochasticDepth": rate},
            lambda: StochasticDepth(rate),
        )
    mode = rng.choice(["row", "row", "batch", "col"])
    if rng.random() < 0.1:
        rate = rng.choice([-0.5, 1.5])
    return Case(
        "drop_path",
        TORCH,
        ctx.layout,
        shape,
        {"drop_path": {"p": rate, "mode": mode}},
        lambda: TV["StochasticDepth"](rate, mode),
    )


def gen_channel_shuffle(ctx: Ctx) -> Case:
    rng = ctx.rng
    shape = ctx.image(ranks=(0, 1, 2, 3) if ctx.framework == TORCH else (1, 2, 3))
    c = ctx.channels_of(shape)
    divisors = [d for d in range(1, c + 1) if c % d == 0]
    groups = rng.choice(divisors) if rng.random() < 0.8 else rng.randint(1, c + 3)
    layer = {"channel_shuffle": groups}
    if ctx.framework == TORCH:
        last = ctx.channels_last
        return Case(
            "channel_shuffle",
            TORCH,
            ctx.layout,
            shape,
            {"ChannelShuffle": groups},
            lambda: Fn(
                lambda self, x: moved(x, last, self.shuffle), shuffle=nn.ChannelShuffle(groups)
            ),
        )
    spatial = shape[:-1] if ctx.channels_last else shape[1:]

    def keras_shuffle(x: Any) -> Any:
        # ShuffleNet in Keras: split the channels into (groups, C/groups), swap, merge.
        per = c // groups if c % groups == 0 else -1
        if ctx.channels_last:
            x = kl.Reshape((*spatial, groups, per))(x)
            n = len(spatial)
            x = kl.Permute((*range(1, n + 1), n + 2, n + 1))(x)
        else:
            x = kl.Reshape((groups, per, *spatial))(x)
            x = kl.Permute((2, 1, *range(3, len(spatial) + 3)))(x)
        return kl.Reshape(shape)(x)

    return Case("channel_shuffle", KERAS, ctx.layout, shape, layer, lambda: keras_shuffle)


def gen_rescaling(ctx: Ctx) -> Case:
    rng = ctx.rng
    shape = ctx.image(ranks=(0, 1, 2, 3))
    last = shape[-1]
    scale: Any = rng.choice([1 / 255, 2.0])
    offset: Any = rng.choice([0.0, -1.0])
    if rng.random() < 0.4:
        count = rng.choice([1, last, last, rng.randint(2, 5)])
        if last == 1 and count > 1:
            count = 1  # left out: keras reports the input's shape but computes a broadcast
        scale = [0.5] * count
    if rng.random() < 0.2 and last > 1:
        offset = [0.1] * rng.choice([last, 2])
    layer = {"Rescaling": {"scale": scale, "offset": offset}}
    return Case("rescaling", KERAS, ctx.layout, shape, layer, lambda: kl.Rescaling(scale, offset))


def gen_normalization(ctx: Ctx) -> Case:
    rng = ctx.rng
    shape = ctx.image(ranks=(0, 1, 2, 3))
    rank = len(shape) + 1
    roll = rng.random()
    axis: Any
    if roll < 0.4:
        axis = -1
    elif roll < 0.55:
        axis = None
    elif roll < 0.8:
        axis = rng.randint(-rank, rank - 1)
    elif roll < 0.95 and rank > 2:
        axis = sorted(rng.sample(range(1, rank), 2))
    else:
        axis = rng.choice([0, rank])
    mean = variance = None
    if rng.random() < 0.3:
        kept = [] if axis is None else [axis] if isinstance(axis, int) else axis
        size = shape[(kept[-1] % rank) - 1] if kept and kept[-1] % rank else 1
        count = rng.choice([size, 1, size + 1])
        mean = [0.5] * count if rng.random() < 0.7 or not kept else 0.5
        variance = list(mean) if isinstance(mean, list) else 0.25
        if rng.random() < 0.1:
            variance = None
    given: dict[str, Any] = {"axis": "none" if axis is None else axis}
    if mean is not None:
        given["mean"] = mean
    if variance is not None:
        given["variance"] = variance
    return Case(
        "normalization",
        KERAS,
        ctx.layout,
        shape,
        {"normalization": given},
        lambda: kl.Normalization(axis=axis, mean=mean, variance=variance),
    )


def gen_mha(ctx: Ctx) -> Case:
    rng = ctx.rng
    if ctx.framework == TORCH:
        # not a flat vector: pytorch reads (N, E) as one unbatched sequence of N tokens
        shape = ctx.tokens() if rng.random() < 0.9 else ctx.image(ranks=(2,))
        e = shape[-1]
        divisors = [d for d in range(1, e + 1) if e % d == 0]
        heads = rng.choice(divisors) if rng.random() < 0.85 else rng.randint(1, e)
        bias, kv, zero = rng.random() < 0.8, rng.random() < 0.3, rng.random() < 0.3
        kdim = e if rng.random() < 0.9 else e + 1
        need = rng.random() < 0.5
        layer = {
            "MultiheadAttention": {
                "embed_dim": e,
                "num_heads": heads,
                "bias": bias,
                "add_bias_kv": kv,
                "add_zero_attn": zero,
                "kdim": kdim,
                "vdim": e,
                "batch_first": True,
            }
        }

        def build() -> Any:
            mha = nn.MultiheadAttention(
                e,
                heads,
                bias=bias,
                add_bias_kv=kv,
                add_zero_attn=zero,
                kdim=kdim,
                vdim=e,
                batch_first=True,
            )
            # need_weights=False is torchvision's call (the fused kernel); True the bmm path
            return Fn(lambda self, x: self.mha(x, x, x, need_weights=need)[0], mha=mha)

        return Case("multihead_attention", TORCH, ctx.layout, shape, layer, build)
    roll = rng.random()
    shape = ctx.tokens() if roll < 0.7 else ctx.image(ranks=(0, 2, 3), high=5)
    heads, key_dim = rng.randint(1, 4), rng.randint(1, 8)
    value_dim = rng.choice([None, None, rng.randint(1, 8)])
    out = rng.choice([None, None, rng.randint(1, 8), [rng.randint(1, 3), rng.randint(1, 3)]])
    if isinstance(out, list) and len(shape) > 3:
        out = None  # five axes: more than convcalc's shapes hold
    bias, gate = rng.random() < 0.8, rng.random() < 0.2
    args: dict[str, Any] = {"num_heads": heads, "key_dim": key_dim, "use_bias": bias}
    if value_dim is not None:
        args["value_dim"] = value_dim
    if out is not None:
        args["output_shape"] = out
    if gate:
        args["use_gate"] = True

    def keras_mha(x: Any) -> Any:
        # dropout > 0 takes keras' einsum path: its jax dot_product_attention path fails on
        # value_dim != key_dim (a keras 3.15 bug, not a refusal); dropout changes no count.
        layer = kl.MultiHeadAttention(
            heads,
            key_dim,
            value_dim=value_dim,
            dropout=0.1,
            use_bias=bias,
            output_shape=tuple(out) if isinstance(out, list) else out,
            use_gate=gate,
        )
        return layer(x, x)

    return Case(
        "multihead_attention",
        KERAS,
        ctx.layout,
        shape,
        {"MultiHeadAttention": args},
        lambda: keras_mha,
    )


def gen_patch_embedding(ctx: Ctx) -> Case:
    rng = ctx.rng
    h, w, c = rng.randint(2, 20), rng.randint(2, 20), rng.randint(1, 4)
    shape = (h, w, c) if ctx.channels_last else (c, h, w)
    patch = rng.randint(1, 8)
    patch_hw = (patch, patch) if rng.random() < 0.7 else (patch, rng.randint(1, 8))
    embed, bias = rng.randint(1, 16), rng.random() < 0.8
    layer = {
        "patch_embedding": {
            "embed_dim": embed,
            "patch_size": list(patch_hw),
            "bias": bias,
        }
    }
    if ctx.framework == TORCH:
        last = ctx.channels_last
        conv = nn.Conv2d(c, embed, patch_hw, patch_hw, bias=bias)

        def apply(self: Any, x: Any) -> Any:
            # torchvision's _process_input, after conv_proj
            x = x.permute(0, 3, 1, 2) if last else x
            x = self.conv(x)
            n, e, nh, nw = x.shape
            return x.reshape(n, e, nh * nw).permute(0, 2, 1)

        return Case(
            "patch_embedding", TORCH, ctx.layout, shape, layer, lambda: Fn(apply, conv=conv)
        )

    def keras_patches(x: Any) -> Any:
        fmt = "channels_last" if ctx.channels_last else "channels_first"
        x = kl.Conv2D(embed, patch_hw, strides=patch_hw, use_bias=bias, data_format=fmt)(x)
        if ctx.channels_last:
            return kl.Reshape((-1, embed))(x)
        return kl.Permute((2, 1))(kl.Reshape((embed, -1))(x))

    return Case("patch_embedding", KERAS, ctx.layout, shape, layer, lambda: keras_patches)


def gen_to_tokens(ctx: Ctx) -> Case:
    shape = ctx.image(ranks=(0, 1, 2, 3))
    c = ctx.channels_of(shape)
    if ctx.framework == TORCH:
        last = ctx.channels_last

        def apply(self: Any, x: Any) -> Any:
            if x.dim() == 2:
                raise ValueError("a flat vector has no positions to make tokens of")
            return x.flatten(1, -2) if last else x.flatten(2).transpose(1, 2)

        return Case("to_tokens", TORCH, ctx.layout, shape, {"to_tokens": {}}, lambda: Fn(apply))

    def keras_tokens(x: Any) -> Any:
        if len(shape) == 1:
            raise ValueError("a flat vector has no positions to make tokens of")
        if ctx.channels_last:
            return kl.Reshape((-1, c))(x)
        return kl.Permute((2, 1))(kl.Reshape((c, -1))(x))

    return Case("to_tokens", KERAS, ctx.layout, shape, {"to_tokens": {}}, lambda: keras_tokens)


def gen_class_token(ctx: Ctx) -> Case:
    rng = ctx.rng
    shape = ctx.tokens() if rng.random() < 0.9 else ctx.image(ranks=(2,))
    count = rng.choice([1, 1, 2])
    layer = {"class_token": {"count": count}}
    if ctx.framework == KERAS:
        return Case("class_token", KERAS, ctx.layout, shape, layer, lambda: ClassToken(count))
    e = shape[-1]
    token = nn.Parameter(torch.zeros(1, count, e))

    def apply(self: Any, x: Any) -> Any:
        # torchvision's VisionTransformer.forward
        return torch.cat([self.token.expand(x.shape[0], -1, -1), x], dim=1)

    return Case("class_token", TORCH, ctx.layout, shape, layer, lambda: Fn(apply, token=token))


def gen_position_embedding(ctx: Ctx) -> Case:
    rng = ctx.rng
    shape = ctx.tokens() if rng.random() < 0.9 else ctx.image(ranks=(2,))
    length = shape[0]
    given = length if rng.random() < 0.8 else rng.randint(2, 14)
    if given == 1 or (length == 1 and given != 1):
        given = length  # a (1, E) embedding broadcasts: left out on purpose
    layer = {"position_embedding": {"sequence_length": given}}
    if ctx.framework == KERAS:
        return Case(
            "position_embedding", KERAS, ctx.layout, shape, layer, lambda: PositionAdd(given)
        )
    table = nn.Parameter(torch.zeros(1, given, shape[-1]))
    return Case(
        "position_embedding",
        TORCH,
        ctx.layout,
        shape,
        layer,
        lambda: Fn(encoder_input, pos=table),
    )


def encoder_input(self: Any, x: Any) -> Any:
    """torchvision's Encoder.forward, up to its dropout."""
    torch._assert(x.dim() == 3, f"Expected (batch_size, seq_length, hidden_dim) got {x.shape}")
    return x + self.pos


def gen_take_token(ctx: Ctx) -> Case:
    rng = ctx.rng
    shape = ctx.tokens() if rng.random() < 0.8 else ctx.image(ranks=(1, 2))
    length = shape[0]
    index = (
        rng.randint(-length, length - 1)
        if rng.random() < 0.85
        else rng.choice([length, -length - 1])
    )
    layer = {"take_token": index}
    if ctx.framework == KERAS:
        return Case("take_token", KERAS, ctx.layout, shape, layer, lambda: lambda x: x[:, index])
    return Case(
        "take_token", TORCH, ctx.layout, shape, layer, lambda: Fn(lambda self, x: x[:, index])
    )


def gen_embedding(ctx: Ctx) -> Case:
    rng = ctx.rng
    rank = rng.choice([1, 1, 2, 3])
    shape = tuple(rng.randint(1, 9) for _ in range(rank))
    vocab, dim = rng.randint(1, 40), rng.randint(1, 16)
    if ctx.framework == KERAS:
        layer = {"Embedding": [vocab, dim]}
        return Case(
            "embedding",
            KERAS,
            ctx.layout,
            shape,
            layer,
            lambda: kl.Embedding(vocab, dim),
            integer_input=True,
        )
    padding = rng.choice([None, None, 0, -1, vocab, -vocab - 1])
    args: dict[str, Any] = {"num_embeddings": vocab, "embedding_dim": dim}
    if padding is not None:
        args["padding_idx"] = padding
    return Case(
        "embedding",
        TORCH,
        ctx.layout,
        shape,
        {"Embedding": args},
        lambda: nn.Embedding(vocab, dim, padding_idx=padding),
        integer_input=True,
    )


GENERATORS: dict[str, tuple[Callable[[Ctx], Case], tuple[str, ...]]] = {
    "permute": (gen_permute, (KERAS, TORCH)),
    "layernorm2d": (gen_layernorm2d, (KERAS, TORCH)),
    "layer_scale": (gen_layer_scale, (KERAS, TORCH)),
    "drop_path": (gen_drop_path, (KERAS, TORCH)),
    "channel_shuffle": (gen_channel_shuffle, (KERAS, TORCH)),
    "rescaling": (gen_rescaling, (KERAS,)),
    "normalization": (gen_normalization, (KERAS,)),
    "mha": (gen_mha, (KERAS, TORCH)),
    "patch_embedding": (gen_patch_embedding, (KERAS, TORCH)),
    "to_tokens": (gen_to_tokens, (KERAS, TORCH)),
    "class_token": (gen_class_token, (KERAS, TORCH)),
    "position_embedding": (gen_position_embedding, (KERAS, TORCH)),
    "take_token": (gen_take_token, (KERAS, TORCH)),
    "embedding": (gen_embedding, (KERAS, TORCH)),
}

# -- running one case -------------------------------------------------------------------------


@dataclass
class Seen:
    shape: Shape | None
    trainable: int = 0
    non_trainable: int = 0
    macs: int | None = None
    error: str = ""


def refusal(problem: BaseException) -> Seen:
    return Seen(None, error=f"{type(problem).__name__}: {str(problem).splitlines()[0][:160]}")


def run_keras(case: Case) -> Seen:
    try:
        built = case.build()
        dtype = "int32" if case.integer_input else "float32"
        inputs = keras.Input(case.input, dtype=dtype)
        outputs = built(inputs)
        model = keras.Model(inputs, outputs)
        eager = model(np.zeros((BATCH, *case.input), dtype))
    except Exception as problem:  # the framework refusing, in any of its ways
        return refusal(problem)
    shape = tuple(int(d) for d in outputs.shape[1:])
    if tuple(eager.shape[1:]) != shape:
        return Seen(None, error=f"symbolic {shape} but computed {tuple(eager.shape[1:])}")
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    frozen = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    return Seen(shape, trainable, frozen)


def run_torch(case: Case) -> Seen:
    try:
        module = case.build()
        module.train()  # eval's fused attention (_native_multi_head_attention) goes uncounted
        if case.integer_input:
            x = torch.zeros((BATCH, *case.input), dtype=torch.long)
        else:
            x = torch.zeros((BATCH, *case.input))
        counter = flop_counter()
        with torch.no_grad(), counter:
            y = module(x)
    except Exception as problem:
        return refusal(problem)
    params = sum(p.numel() for p in module.parameters())
    shape = tuple(int(d) for d in y.shape[1:])
    if min(shape, default=1) < 1:
        return Seen(None, error=f"empty output {shape}")
    return Seen(shape, params, 0, counter.get_total_flops() // 2 // BATCH)


def compare(case: Case, seen: Seen) -> list[str]:
    try:
        row = analyze(case.spec()).to_dict()["layers"][0]
    except ConvCalcError as error:
        if seen.shape is None:
            return []
        return [f"convcalc refused what {case.framework} accepts: {error}"]
    except Exception as error:  # a crash in convcalc is always a bug
        return [f"convcalc crashed: {type(error).__name__}: {error}"]
    if seen.shape is None:
        return [f"{case.framework} refused ({seen.error}) but convcalc accepted it"]
    got = (tuple(row["output_shape"]), row["trainable_params"], row["non_trainable_params"])
    want = (seen.shape, seen.trainable, seen.non_trainable)
    problems = []
    if got != want:
        problems.append(f"convcalc {got}, {case.framework} {want}")
    if seen.macs is not None and seen.macs != row["macs"]:
        problems.append(f"MACs: convcalc {row['macs']}, torch {seen.macs}")
    return problems


# -- whole networks ---------------------------------------------------------------------------


def convcalc_convnext_torch(image: int, configs: list[tuple[int, int | None, int]]) -> Any:
    """torchvision's ConvNeXt(block_setting) as convcalc layers (PyTorch, C H W)."""
    block = [
        {
            "residual": {
                "layers": [
                    {"conv2d": {"filters": "$dim", "kernel": 7, "padding": 3, "groups": "$dim"}},
                    {"permute": {"torch_dims": [0, 2, 3, 1]}},
                    {"LayerNorm": {"normalized_shape": "$dim", "eps": 1e-6}},
                    {"Linear": ["$dim", "$dim * 4"]},
                    "GELU",
                    {"Linear": ["$dim * 4", "$dim"]},
                    {"permute": {"torch_dims": [0, 3, 1, 2]}},
                    "layer_scale",
                    {"StochasticDepth": [0.1, "row"]},
                ]
            }
        }
    ]
    first = configs[0][0]
    layers: list[Any] = [{"Conv2d": [3, first, 4, 4]}, {"LayerNorm2d": first}]
    for dim, out, depth in configs:
        layers.append({"repeat": depth, "layers": [{"cn": {"dim": dim}}]})
        if out is not None:
            layers += [{"LayerNorm2d": dim}, {"Conv2d": [dim, out, 2, 2]}]
    last = configs[-1][1] or configs[-1][0]
    layers += [{"adaptive_avgpool2d": 1}, {"LayerNorm2d": last}, "flatten", {"Linear": [last, 10]}]
    return {
        "input": [3, image, image],
        "framework": TORCH,
        "blocks": {"cn": {"params": {"dim": 1}, "layers": block}},
        "layers": layers,
    }


def convcalc_vit_torch(
    image: int, patch: int, depth: int, heads: int, hidden: int, mlp: int
) -> Any:
    encoder = [
        {
            "residual": {
                "layers": [{"layernorm": {"eps": 1e-6}}, {"MultiheadAttention": [hidden, heads]}]
            }
        },
        {
            "residual": {
                "layers": [
                    {"layernorm": {"eps": 1e-6}},
                    {"Linear": [hidden, mlp]},
                    "gelu",
                    {"Linear": [mlp, hidden]},
                ]
            }
        },
    ]
    return {
        "input": [3, image, image],
        "framework": TORCH,
        "layers": [
            {"patch_embedding": [hidden, patch]},
            "class_token",
            "position_embedding",
            {"repeat": depth, "layers": encoder},
            {"layernorm": {"eps": 1e-6}},
            "take_token",
            {"Linear": [hidden, 10]},
        ],
    }


def convcalc_convnext_keras(image: int) -> Any:
    """keras.applications.ConvNeXtTiny as convcalc layers (Keras, H W C)."""
    block = [
        {
            "residual": {
                "layers": [
                    {
                        "conv2d": {
                            "filters": "$dim",
                            "kernel": 7,
                            "padding": "same",
                            "groups": "$dim",
                        }
                    },
                    {"LayerNormalization": {"epsilon": 1e-6}},
                    {"Dense": "$dim * 4"},
                    "gelu",
                    {"Dense": "$dim"},
                    {"LayerScale": [1e-6, "$dim"]},
                ]
            }
        }
    ]
    dims, depths = [96, 192, 384, 768], [3, 3, 9, 3]
    layers: list[Any] = [
        {"Normalization": {"mean": [0.485, 0.456, 0.406], "variance": [0.05, 0.05, 0.05]}},
        {"Conv2D": [96, 4, 4]},
        {"LayerNormalization": {"epsilon": 1e-6}},
    ]
    for stage, (dim, depth) in enumerate(zip(dims, depths, strict=True)):
        if stage:
            layers += [{"LayerNormalization": {"epsilon": 1e-6}}, {"Conv2D": [dim, 2, 2]}]
        layers.append({"repeat": depth, "layers": [{"cn": {"dim": dim}}]})
    layers += ["GlobalAveragePooling2D", {"LayerNormalization": {"epsilon": 1e-6}}, {"Dense": 1000}]
    return {
        "input": [image, image, 3],
        "framework": KERAS,
        "blocks": {"cn": {"params": {"dim": 1}, "layers": block}},
        "layers": layers,
    }


def whole_networks(rng: random.Random, count: int) -> tuple[int, list[str]]:
    """(networks checked, disagreements) over random torchvision ConvNeXts and ViTs and
    Keras' ConvNeXtTiny."""
    problems: list[str] = []
    checked = 0
    for _ in range(count):
        dims = [rng.choice([8, 16, 24])]
        for _ in range(rng.randint(0, 3)):
            dims.append(dims[-1] * 2)
        configs = [
            (dim, dims[i + 1] if i + 1 < len(dims) else None, rng.randint(1, 2))
            for i, dim in enumerate(dims)
        ]
        if sum(depth for _, _, depth in configs) < 2:  # torchvision divides by blocks - 1
            configs[0] = (configs[0][0], configs[0][1], 2)
        image = 4 * 2 ** (len(dims) - 1) * rng.randint(1, 3)
        tv = TV["ConvNeXt"](
            [TV["CNBlockConfig"](*config) for config in configs], num_classes=10
        ).eval()
        problems += whole(
            tv, convcalc_convnext_torch(image, configs), (1, 3, image, image), "convnext"
        )
        checked += 1
        patch = rng.choice([2, 4, 8])
        image = patch * rng.randint(1, 4)
        heads = rng.choice([1, 2, 4])
        hidden = heads * rng.choice([2, 4, 8])
        depth, mlp = rng.randint(1, 3), rng.choice([8, 16, 32])
        vit = TV["VisionTransformer"](image, patch, depth, heads, hidden, mlp, num_classes=10)
        spec = convcalc_vit_torch(image, patch, depth, heads, hidden, mlp)
        problems += whole(vit.train(), spec, (1, 3, image, image), "vit")
        checked += 1
    model = keras.applications.ConvNeXtTiny(weights=None, input_shape=(64, 64, 3))
    ours = analyze(convcalc_convnext_keras(64)).totals
    checked += 1
    if ours.params != model.count_params():
        problems.append(f"keras ConvNeXtTiny: convcalc {ours.params}, keras {model.count_params()}")
    return checked, problems


def whole(module: Any, spec: Any, shape: Shape, name: str) -> list[str]:
    counter = flop_counter()
    with torch.no_grad(), counter:
        module(torch.zeros(shape))
    params = sum(p.numel() for p in module.parameters())
    totals = analyze(spec).totals
    got, want = (totals.params, totals.macs), (params, counter.get_total_flops() // 2)
    if got != want:
        return [f"{name} {json.dumps(spec)[:200]}...: convcalc {got}, torchvision {want}"]
    return []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=400, help="single-layer cases")
    parser.add_argument("--networks", type=int, default=6, help="random torchvision networks")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=sorted(GENERATORS), help="only this kind")
    parser.add_argument("--verbose", action="store_true", help="print every case")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    disagree = refused = 0
    kinds: dict[str, int] = {}
    names = [args.only] if args.only else sorted(GENERATORS)
    for n in range(args.n):
        name = names[n % len(names)]
        generator, frameworks = GENERATORS[name]
        framework = frameworks[(n // len(names)) % len(frameworks)]
        ctx = Ctx(rng, framework, rng.choice(["hwc", "chw"]))
        case = generator(ctx)
        seen = run_keras(case) if case.framework == KERAS else run_torch(case)
        refused += seen.shape is None
        key = f"{case.kind}/{case.framework}"
        kinds[key] = kinds.get(key, 0) + 1
        problems = compare(case, seen)
        if problems or args.verbose:
            print(json.dumps(case.spec()))
            print("  framework:", seen.shape or seen.error)
            for line in problems:
                print("  MISMATCH:", line)
        disagree += bool(problems)
    print(
        f"{args.n} single-layer cases ({refused} refused by the framework); "
        f"{disagree} disagree with convcalc"
    )
    print("cases per kind/framework:", dict(sorted(kinds.items())))
    networks, problems = whole_networks(rng, args.networks) if args.networks else (0, [])
    for line in problems:
        print("  MISMATCH:", line)
    print(f"{networks} whole networks; {len(problems)} disagree with convcalc")
    return min(disagree + len(problems), 100)


if __name__ == "__main__":
    sys.exit(main())
