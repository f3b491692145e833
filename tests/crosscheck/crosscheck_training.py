"""Cross-check convcalc's --train figures against PyTorch's autograd (by hand only).

For each model, a training-mode forward pass (``model.train()``) runs under
``torch.autograd.graph.saved_tensors_hooks``; every tensor autograd saves is recorded by its
storage (``untyped_storage().data_ptr()``), and the bytes of the unique storages, parameters
and buffers excluded, are what PyTorch keeps for the backward pass. convcalc's
``totals.training.saved_activations`` must equal it, at batch 1 and 8, for:

- the torchvision models of convcalc's zoo (``convcalc zoo``: alexnet, densenet121, googlenet
  without its auxiliary heads, mobilenet_v2, resnet18, resnet50, vgg16), built by torchvision;
- random chains over every kind PyTorch has that this script builds (conv 1-3-D, grouped and
  transposed convs, dense, batchnorm, every activation, max/avg/adaptive/global pools,
  dropout, flatten, reshape, zero padding, upsampling, layer and group norm, residual add
  and concat), with random layers frozen (``requires_grad_(False)``; ``trainable: false``).

Training MACs are checked on the same models with ``torch.utils.flop_counter.FlopCounterMode``
over forward and backward (FLOPs / 2): it must equal convcalc's ``training.macs``, except
where a torch version counts a grouped convolution's weight gradient ``groups`` times (the
difference is printed, and convcalc's rule is the true count).

CPU versus GPU: on a CPU, PyTorch's dropout keeps a float32 mask (``input * noise``); on a GPU
it runs ``native_dropout`` and keeps a bool mask, one byte an element, which is what convcalc
counts. This script makes the CPU do what a GPU does: ``F.dropout`` is replaced, in training,
by ``torch.native_dropout`` (which on a CPU too returns a bool mask). Max pooling's indices are
int64 on both; batchnorm's save_mean and save_invstd are float32 per channel on both (the
GPU's cudnn also keeps a reserve buffer of a few bytes, not counted).

Run with the framework venv (see ``record_architectures.py`` for torchvision's C extension)::

    /opt/fw/bin/python tests/crosscheck/crosscheck_training.py [--chains N] [--seed S]

It prints one line per model and batch and exits with the number of disagreements.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from record_architectures import import_torchvision  # noqa: E402

from convcalc._input._zoo import load_zoo  # noqa: E402
from convcalc._model import read_model, run  # noqa: E402
from convcalc._settings import Optimizer  # noqa: E402

_dropout = F.dropout


def _gpu_dropout(
    input: torch.Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
) -> torch.Tensor:
    """Dropout as a GPU runs it: native_dropout, keeping a bool mask."""
    if training and 0 < p < 1:
        return torch.native_dropout(input, p, True)[0]
    return _dropout(input, p, training, inplace)


F.dropout = _gpu_dropout  # type: ignore[assignment]


def saved_bytes(model: nn.Module, x: torch.Tensor) -> int:
    """Bytes of the unique storages autograd saves in one training-mode forward pass,
    parameters and buffers excluded."""
    model.train()
    own = {t.untyped_storage().data_ptr() for t in [*model.parameters(), *model.buffers()]}
    seen: dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in own and storage.nbytes():
            seen[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = model(x)
    del out
    return sum(seen.values())


def training_macs(model: nn.Module, x: torch.Tensor) -> int:
    """Forward + backward MACs per sample, as FlopCounterMode counts them (FLOPs / 2)."""
    from torch.utils.flop_counter import FlopCounterMode

    model.train()
    counter = FlopCounterMode(display=False)
    with counter:
        out = model(x)
        if out.requires_grad:
            out.sum().backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops() // 2 // x.shape[0]


def grouped_overcount(model: nn.Module, x: torch.Tensor) -> int:
    """What a torch version that counts a grouped convolution's weight gradient ``groups``
    times adds, per sample: (groups - 1) * its forward MACs, for every trainable grouped
    conv."""
    extra = 0
    hooks = []

    def hook(module: nn.Conv2d, args: Any, out: torch.Tensor) -> None:
        nonlocal extra
        if module.groups > 1 and module.weight.requires_grad:
            macs = out[0].numel() * module.in_channels // module.groups
            macs *= module.kernel_size[0] * module.kernel_size[1]
            extra += (module.groups - 1) * macs

    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            hooks.append(module.register_forward_hook(hook))
    with torch.no_grad():
        model(x[:1])
    for handle in hooks:
        handle.remove()
    return extra


def convcalc_training(spec: dict[str, Any], batch: int) -> dict[str, int]:
    model = read_model({**spec, "batch": batch})
    settings = model.settings._replace(train=Optimizer.ADAM)
    report = run(model._replace(settings=settings))
    assert report.totals.training is not None
    return report.totals.training.to_dict()


# -- the zoo -------------------------------------------------------------------------------


def zoo_models() -> dict[str, nn.Module]:
    tv = import_torchvision()
    m = tv.models
    return {
        "alexnet": m.alexnet(),
        "densenet121": m.densenet121(),
        "googlenet": m.googlenet(aux_logits=False, init_weights=False),
        "mobilenet_v2": m.mobilenet_v2(),
        "resnet18": m.resnet18(),
        "resnet50": m.resnet50(),
        "vgg16": m.vgg16(),
    }


# -- random chains -------------------------------------------------------------------------


class Residual(nn.Module):
    def __init__(self, body: nn.Module, concat: bool) -> None:
        super().__init__()
        self.body, self.concat = body, concat

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return torch.cat([x, y], 1) if self.concat else x + y


class Reshape(nn.Module):
    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.shape = shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], *self.shape)


ACTS = {
    "relu": nn.ReLU,
    "relu6": nn.ReLU6,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "selu": nn.SELU,
    "celu": nn.CELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "mish": nn.Mish,
    "sigmoid": nn.Sigmoid,
    "hard_sigmoid": nn.Hardsigmoid,
    "hard_silu": nn.Hardswish,
    "tanh": nn.Tanh,
    "hard_tanh": nn.Hardtanh,
    "softplus": nn.Softplus,
    "softsign": nn.Softsign,
    "hard_shrink": nn.Hardshrink,
    "soft_shrink": nn.Softshrink,
    "tanh_shrink": nn.Tanhshrink,
    "log_sigmoid": nn.LogSigmoid,
}
INPLACE = (
    "relu",
    "relu6",
    "leaky_relu",
    "elu",
    "selu",
    "celu",
    "silu",
    "mish",
    "hard_sigmoid",
    "hard_silu",
    "hard_tanh",
)


def random_chain(rng: random.Random) -> tuple[nn.Module, dict[str, Any], tuple[int, ...]]:
    """A random 2-D chain (C H W): the torch model, convcalc's spec, the input shape."""
    c, h = rng.choice([3, 4]), rng.choice([8, 12, 16])
    shape = first = (c, h, h)
    mods: list[nn.Module] = []
    layers: list[Any] = []

    def frozen(module: nn.Module, layer: dict[str, Any]) -> None:
        if any(p.requires_grad for p in module.parameters()) and rng.random() < 0.25:
            module.requires_grad_(False)
            key = next(iter(layer))
            layer.setdefault(key, {})
            layer["trainable"] = False
        mods.append(module)
        layers.append(layer)

    for _ in range(rng.randint(2, 8)):
        c, h, _ = shape
        choice = rng.choice(
            [
                "conv",
                "conv",
                "bn",
                "act",
                "act",
                "maxpool",
                "avgpool",
                "adaptive",
                "dropout",
                "pad",
                "upsample",
                "gn",
                "ln",
                "residual",
                "concat",
                "tconv",
                "conv1x1g",
            ]
        )
        if choice == "conv" and h >= 3:
            out, k = rng.choice([4, 6, 8]), rng.choice([1, 3])
            frozen(
                nn.Conv2d(c, out, k, padding=k // 2),
                {"conv2d": {"filters": out, "kernel": k, "padding": k // 2}},
            )
            shape = (out, h, h)
        elif choice == "conv1x1g" and c % 2 == 0:
            frozen(
                nn.Conv2d(c, c, 3, padding=1, groups=c // 2, bias=False),
                {
                    "conv2d": {
                        "filters": c,
                        "kernel": 3,
                        "padding": 1,
                        "groups": c // 2,
                        "bias": False,
                    }
                },
            )
        elif choice == "tconv":
            frozen(
                nn.ConvTranspose2d(c, 4, 2, stride=2),
                {"conv2d_transpose": {"filters": 4, "kernel": 2, "stride": 2}},
            )
            shape = (4, 2 * h, 2 * h) if h <= 16 else shape
            if h > 16:
                mods.pop(), layers.pop()
        elif choice == "bn" and h > 1:
            frozen(nn.BatchNorm2d(c), {"batchnorm": {}})
        elif choice == "gn" and c % 2 == 0:
            frozen(nn.GroupNorm(2, c), {"groupnorm": {"groups": 2}})
        elif choice == "ln":
            frozen(nn.LayerNorm(h), {"layernorm": {}})
        elif choice == "act":
            name = rng.choice(sorted(ACTS))
            inplace = name in INPLACE and rng.random() < 0.5
            module = ACTS[name](inplace=True) if inplace else ACTS[name]()
            mods.append(module)
            layers.append({name: {"inplace": True} if inplace else {}})
        elif choice == "maxpool" and h >= 4:
            mods.append(nn.MaxPool2d(2))
            layers.append({"maxpool2d": 2})
            shape = (c, h // 2, h // 2)
        elif choice == "avgpool" and h >= 4:
            mods.append(nn.AvgPool2d(2))
            layers.append({"avgpool2d": 2})
            shape = (c, h // 2, h // 2)
        elif choice == "adaptive":
            size = rng.choice([1, 2, 3])
            kind = rng.choice(["max", "avg"])
            module = nn.AdaptiveMaxPool2d(size) if kind == "max" else nn.AdaptiveAvgPool2d(size)
            mods.append(module)
            layers.append({f"adaptive_{kind}pool2d": size})
            shape = (c, size, size)
        elif choice == "dropout":
            mods.append(nn.Dropout(0.3))
            layers.append({"dropout": 0.3})
        elif choice == "pad":
            mods.append(nn.ZeroPad2d(1))
            layers.append({"zeropadding2d": 1})
            shape = (c, h + 2, h + 2)
        elif choice == "upsample" and h <= 16:
            mods.append(nn.Upsample(scale_factor=2))
            layers.append({"upsampling2d": 2})
            shape = (c, 2 * h, 2 * h)
        elif choice in ("residual", "concat"):
            conv = nn.Conv2d(c, c, 3, padding=1)
            relu = nn.ReLU()
            mods.append(Residual(nn.Sequential(conv, relu), choice == "concat"))
            body = [{"conv2d": {"filters": c, "kernel": 3, "padding": 1}}, "relu"]
            if choice == "concat":
                layers.append({"branches": {"merge": "concat", "paths": [[], body]}})
                shape = (2 * c, h, h)
            else:
                layers.append({"residual": {"layers": body}})
    c, h, _ = shape
    tail = rng.choice(["flatten", "global", "reshape"])
    if tail == "global":
        mods += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        layers += [{"global_avgpool2d": {}}]
        features = c
    elif tail == "reshape":
        mods.append(Reshape((c * h * h,)))
        layers.append({"reshape": [c * h * h]})
        features = c * h * h
    else:
        mods.append(nn.Flatten())
        layers.append("flatten")
        features = c * h * h
    head = nn.Linear(features, 5)
    frozen(head, {"dense": 5})
    spec = {"input": list(first), "framework": "pytorch", "layers": layers}
    return nn.Sequential(*mods), spec, first


# -- one case per kind the random chains do not build ------------------------------------


class Tokens(nn.Module):
    """Self-attention on (N, L, E) tokens, batch_first, as convcalc counts it."""

    def __init__(self, e: int, heads: int, need_weights: bool) -> None:
        super().__init__()
        self.attention = nn.MultiheadAttention(e, heads, batch_first=True)
        self.need_weights = need_weights

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.attention(x, x, x, need_weights=self.need_weights)[0]


class Patches(nn.Module):
    """torchvision ViT's conv_proj, reshape and permute."""

    def __init__(self, c: int, e: int, patch: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c, e, patch, stride=patch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x).flatten(2).transpose(1, 2)


class Scale(nn.Module):
    """ConvNeXt's layer scale: a learned (C, 1, 1) multiplier."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.full((c, 1, 1), 0.1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gamma * x


class ClassToken(nn.Module):
    def __init__(self, e: int) -> None:
        super().__init__()
        self.token = nn.Parameter(torch.zeros(1, 1, e))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.token.expand(x.shape[0], -1, -1), x], 1)


class Position(nn.Module):
    def __init__(self, length: int, e: int) -> None:
        super().__init__()
        self.embedding = nn.Parameter(torch.zeros(1, length, e))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.embedding


MERGES = {
    "multiply": torch.mul,
    "maximum": torch.maximum,
    "minimum": torch.minimum,
    "subtract": torch.sub,
    "average": lambda a, b: (a + b) / 2,
    "add": torch.add,
}


class Two(nn.Module):
    """Two paths merged (``split``: torch.split's halves of the channels, one a path)."""

    def __init__(self, a: nn.Module, b: nn.Module, how: str, split: bool) -> None:
        super().__init__()
        self.a, self.b, self.how, self.split = a, b, how, split

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        left, right = torch.split(x, x.shape[1] // 2, 1) if self.split else (x, x)
        return MERGES[self.how](self.a(left), self.b(right))  # type: ignore[operator]


Case = tuple[str, list[nn.Module], list[Any], tuple[int, ...], bool]
"""A name, the torch modules in order, convcalc's layers, the input shape, whether the input
is indices (an embedding's)."""


def kind_cases() -> list[Case]:
    """One small model per kind the random chains miss, its first layer a conv or dense so a
    gradient flows into the kind (the variants freeze it, the kind, or both)."""
    tv = import_torchvision()
    c, h, e, length = 4, 8, 8, 5
    conv = {"conv2d": {"filters": c, "kernel": 1}}
    cases: list[Case] = []
    for weights in (False, True):
        cases.append(
            (
                f"multihead_attention need_weights={weights}",
                [nn.Linear(e, e), Tokens(e, 2, weights)],
                [{"dense": e}, {"multihead_attention": {"num_heads": 2, "need_weights": weights}}],
                (length, e),
                False,
            )
        )
    cases += [
        (
            "patch_embedding",
            [nn.Conv2d(3, 3, 1), Patches(3, e, 4)],
            [{"conv2d": {"filters": 3, "kernel": 1}}, {"patch_embedding": [e, 4]}],
            (3, h, h),
            False,
        ),
        (
            "class_token, position_embedding",
            [nn.Linear(e, e), ClassToken(e), Position(length + 1, e), nn.Linear(e, e)],
            [{"dense": e}, "class_token", "position_embedding", {"dense": e}],
            (length, e),
            False,
        ),
        (
            "embedding",
            [nn.Embedding(20, e), nn.Linear(e, 3)],
            [{"embedding": [20, e]}, {"dense": 3}],
            (length,),
            True,
        ),
        (
            "separable_conv2d",
            [
                nn.Conv2d(c, c, 1),
                nn.Conv2d(c, 2 * c, 3, groups=c, bias=False),
                nn.Conv2d(2 * c, 6, 1),
            ],
            [conv, {"separable_conv2d": {"filters": 6, "kernel": 3, "depth_multiplier": 2}}],
            (c, h, h),
            False,
        ),
    ]
    for mode in ("row", "batch"):
        cases.append(
            (
                f"drop_path {mode}",
                [nn.Conv2d(c, c, 1), tv.ops.StochasticDepth(0.3, mode)],
                [conv, {"drop_path": {"rate": 0.3, "mode": mode}}],
                (c, h, h),
                False,
            )
        )
    cases += [
        (
            "layer_scale",
            [nn.Conv2d(c, c, 1), Scale(c)],
            [conv, "layer_scale"],
            (c, h, h),
            False,
        ),
        (
            "layernorm2d",
            [nn.Conv2d(c, c, 1), tv.models.convnext.LayerNorm2d(c)],
            [conv, "layernorm2d"],
            (c, h, h),
            False,
        ),
        (
            "relu, layernorm2d, layer_scale",
            [nn.Conv2d(c, c, 1), nn.ReLU(), tv.models.convnext.LayerNorm2d(c), Scale(c)],
            [conv, "relu", "layernorm2d", "layer_scale"],
            (c, h, h),
            False,
        ),
        (
            "channel_shuffle",
            [nn.Conv2d(c, c, 1), nn.ChannelShuffle(2), nn.Conv2d(c, c, 1)],
            [conv, {"channel_shuffle": 2}, conv],
            (c, h, h),
            False,
        ),
        (
            "Dropout2d",
            [nn.Conv2d(c, c, 1), nn.Dropout2d(0.3)],
            [conv, {"Dropout2d": 0.3}],
            (c, h, h),
            False,
        ),
        (
            "1-D kinds",
            [
                nn.Conv1d(c, c, 3, padding=1),
                nn.BatchNorm1d(c),
                nn.MaxPool1d(2),
                nn.AvgPool1d(2),
                nn.Upsample(scale_factor=2),
                nn.ConvTranspose1d(c, c, 2, stride=2),
            ],
            [
                {"conv1d": {"filters": c, "kernel": 3, "padding": 1}},
                "batchnorm",
                {"maxpool1d": 2},
                {"avgpool1d": 2},
                {"upsampling1d": 2},
                {"conv1d_transpose": {"filters": c, "kernel": 2, "stride": 2}},
            ],
            (c, 16),
            False,
        ),
        (
            "3-D kinds",
            [
                nn.Conv3d(c, c, 3, padding=1),
                nn.BatchNorm3d(c),
                nn.MaxPool3d(2),
                nn.AvgPool3d(2),
                nn.Upsample(scale_factor=2),
                nn.ConvTranspose3d(c, c, 2, stride=2),
            ],
            [
                {"conv3d": {"filters": c, "kernel": 3, "padding": 1}},
                "batchnorm",
                {"maxpool3d": 2},
                {"avgpool3d": 2},
                {"upsampling3d": 2},
                {"conv3d_transpose": {"filters": c, "kernel": 2, "stride": 2}},
            ],
            (c, 4, 8, 8),
            False,
        ),
    ]
    for how in ("multiply", "maximum", "minimum", "average", "subtract"):
        for split in (False, True):
            half = c // 2 if split else c
            body = [{"conv2d": {"filters": half, "kernel": 3, "padding": 1}}, "relu"]
            torch_body = [nn.Conv2d(half, half, 3, padding=1), nn.ReLU()]
            construct = "split" if split else "branches"
            cases.append(
                (
                    f"{construct} {how}",
                    [
                        nn.Conv2d(c, c, 1),
                        Two(nn.Sequential(*torch_body), nn.Identity(), how, split),
                    ],
                    [conv, {construct: {"merge": how, "paths": [body, []]}}],
                    (c, h, h),
                    False,
                )
            )
    return cases


def run_case(case: Case, frozen: tuple[bool, ...]) -> list[str]:
    """The case with its layers frozen as told (one flag a convcalc layer): a line per batch
    that disagrees."""
    name, mods, layers, shape, indices = case
    spec_layers = []
    for module in mods:
        module.requires_grad_(True)
    flagged = list(zip(layers, frozen, strict=False))
    torch_of = _torch_of_layers(mods, layers)
    for (layer, freeze), parts in zip(flagged, torch_of, strict=True):
        if freeze:
            for module in parts:
                module.requires_grad_(False)
            layer = {**layer} if isinstance(layer, dict) else {layer: {}}
            layer["trainable"] = False
        spec_layers.append(layer)
    spec = {"input": list(shape), "framework": "pytorch", "layers": spec_layers}
    model = nn.Sequential(*mods)
    bad = []
    for batch in (1, 8):
        x = torch.randint(0, 20, (batch, *shape)) if indices else torch.randn(batch, *shape)
        torch_bytes = saved_bytes(model, x)
        ours = convcalc_training(spec, batch)["saved_activations"]
        if torch_bytes != ours:
            bad.append(
                f"{name} frozen {frozen} batch {batch}: torch {torch_bytes:,} convcalc {ours:,}"
            )
    return bad


def _torch_of_layers(mods: list[nn.Module], layers: list[Any]) -> list[list[nn.Module]]:
    """The torch modules of each convcalc layer (a separable conv is two)."""
    if len(mods) == len(layers):
        return [[module] for module in mods]
    assert "separable_conv2d" in layers[1] and len(mods) == 3
    return [[mods[0]], [mods[1], mods[2]]]


def check_cases() -> int:
    bad = 0
    for case in kind_cases():
        layers = case[2]
        variants = [(False,) * len(layers), (True,) + (False,) * (len(layers) - 1)]
        variants += [(False,) + (True,) * (len(layers) - 1), (True,) * len(layers)]
        lines = [line for frozen in variants for line in run_case(case, frozen)]
        print(f"{case[0]:40} {'ok' if not lines else 'DIFFERENT'}", flush=True)
        for line in lines:
            print("  " + line)
        bad += len(lines)
    return bad


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chains", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-zoo", action="store_true")
    parser.add_argument("--only-cases", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    bad = check_cases()
    if args.only_cases:
        return bad
    if not args.skip_zoo:
        for name, module in zoo_models().items():
            spec = load_zoo(name)
            for batch in (1, 8):
                x = torch.randn(batch, *spec["input"])
                torch_bytes = saved_bytes(module, x)
                ours = convcalc_training(spec, batch)
                same = torch_bytes == ours["saved_activations"]
                line = f"{name:14} batch {batch}: torch {torch_bytes:>12,}  convcalc "
                line += f"{ours['saved_activations']:>12,}  {'ok' if same else 'DIFFERENT'}"
                if batch == 1:
                    flops = training_macs(module, x)
                    over = grouped_overcount(module, x)
                    line += f"  | macs torch {flops:,} convcalc {ours['macs']:,}"
                    if flops == ours["macs"]:
                        line += " ok"
                    elif over and flops == ours["macs"] + over:
                        line += f" ok (torch counts {over:,} more: grouped weight gradients)"
                    else:
                        line += " DIFFERENT"
                        bad += 1
                print(line, flush=True)
                bad += not same
    rng = random.Random(args.seed)
    failures = 0
    for number in range(args.chains):
        module, spec, shape = random_chain(rng)
        for batch in (1, 8):
            x = torch.randn(batch, *shape)
            torch_bytes = saved_bytes(module, x)
            try:
                ours = convcalc_training(spec, batch)["saved_activations"]
            except Exception as problem:  # noqa: BLE001
                print(f"chain {number}: convcalc refused: {problem}")
                failures += 1
                break
            if torch_bytes != ours:
                failures += 1
                print(f"chain {number} batch {batch}: torch {torch_bytes:,} convcalc {ours:,}")
                print(f"  {spec['layers']}")
                break
    print(f"random chains: {args.chains - failures} of {args.chains} agree at batch 1 and 8")
    return bad + failures


if __name__ == "__main__":
    sys.exit(main())
