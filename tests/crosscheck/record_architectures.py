"""Record reference figures for real architectures, built in their own framework (by hand only).

Builds seven models in real PyTorch/torchvision and Keras 3 and writes, for each, the figures a
test can hold convcalc to: total, trainable and non-trainable parameters, PyTorch buffers, the
output shape (without the batch), MACs in convcalc's convention, the layer classes used and
their counts, and for the UNets the output shape of every stage. Nothing here imports convcalc:
the figures come from the frameworks alone.

Models (keys of the JSON):

- ``torchvision_convnext_tiny``: ``torchvision.models.convnext_tiny()``, 3x224x224;
- ``torchvision_shufflenet_v2_x1_0``: ``torchvision.models.shufflenet_v2_x1_0()``, 3x224x224;
- ``torchvision_vit_b_16``: ``torchvision.models.vit_b_16()``, 3x224x224;
- ``keras_nasnet_mobile``: ``keras.applications.NASNetMobile(weights=None)``, 224x224x3;
- ``keras_efficientnet_b0``: ``keras.applications.EfficientNetB0(weights=None)``, 224x224x3,
  with its Rescaling and Normalization layers;
- ``pytorch_unet_valid_572``: the UNet of Ronneberger et al. 2015, valid 3x3 convs, 1x572x572
  to 2x388x388 (written below, plainly: no batchnorm, biases on);
- ``pytorch_unet_same_256``: the same with padding=1 convs and no crop, 1x256x256 to
  2x256x256.

MACs, convcalc's convention (README "What is counted"): multiply-accumulates of convolutions and
dense layers, bias excluded, batch 1; normalisation, activations, pooling, elementwise ops and
merges count 0. Per layer:

- Conv (PyTorch Conv2d, Keras Conv2D): output elements * C_in/groups * kernel elements;
- transposed conv (PyTorch ConvTranspose2d): input elements * C_out/groups * kernel elements
  (convcalc/_kinds_transpose.py: ``MACs = inputs * filters//groups * kernel``);
- Keras DepthwiseConv2D: output elements * kernel elements (convcalc/_kinds_depthwise.py);
- Keras SeparableConv2D: positions * C_in*depth_multiplier * kernel elements (depthwise) +
  positions * C_in*depth_multiplier * filters (pointwise);
- Linear / Dense: output elements * in_features (leading axes included: ConvNeXt's Linears run
  on every position);
- PyTorch MultiheadAttention (query length Lq, key length Lk, embed E, kdim, vdim):
  Lq*E*E (q) + Lk*kdim*E (k) + Lk*vdim*E (v) + Lq*Lk*E (scores Q.K^T, all heads) + Lq*Lk*E
  (weights.V) + Lq*E*E (out projection); for self-attention 4*L*E*E + 2*L*L*E. Its
  ``out_proj`` (a NonDynamicallyQuantizableLinear, a Linear subclass) is never called as a
  module (its weight is passed to F.multi_head_attention_forward), and Linears inside an
  attention module are skipped by the Linear hook in any case, so it is counted once.

PyTorch MACs are counted with forward hooks; as an independent check the same forward runs
under ``torch.utils.flop_counter.FlopCounterMode`` (FLOPs / 2; it counts convs, transposed
convs and matmuls), with grad enabled so that MultiheadAttention takes its composite path (the
no-grad fast path is one fused op the counter does not see) and with the math SDPA backend (the
CPU flash kernel, ``_scaled_dot_product_flash_attention_for_cpu``, is not in the counter's
registry in torch 2.13: without this it misses the two attention products, 2*L*L*E a block).
For torchvision models the published figures of the weights' meta (``_ops``: GFLOPs that mean
GMACs, 3 decimals; ``num_params``) are recorded too.

Run with the framework venv (KERAS_BACKEND and JAX_PLATFORMS default to jax and cpu)::

    /opt/fw/bin/python tests/crosscheck/record_architectures.py [--only KEY ...] [--out PATH]

It writes ``tests/data/architectures.json`` (sorted keys, indent 1) and prints a table; the
exit status is the number of disagreements between the hook count and FlopCounterMode, or with
a torchvision published figure beyond its rounding (0 when all agree). --only rewrites only the
named keys, keeping the others of an existing file. About a minute on 2 cores.

Versions used for the recorded file (the JSON's "_versions" says what was used for each run):
python 3.11.7, torch 2.13.0+cpu, torchvision 0.28.0 (the PyPI wheel, a +cu130 build: its C
extension cannot load beside a CPU torch, see ``import_torchvision``), keras 3.15.1 on jax 0.10.2,
numpy 2.4.6. The venv: ``python -m venv /opt/fw && /opt/fw/bin/pip install torch
torchvision keras jax``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "data" / "architectures.json"
Record = dict[str, Any]


def import_torchvision() -> Any:
    """torchvision, even when its C extension cannot load (the models need none of it).

    The PyPI torchvision wheel is built against CUDA torch; beside torch+cpu its ``_C.so``
    fails to load (libc10_cuda.so missing), ``torchvision.extension`` carries on without it,
    and ``_meta_registrations`` then fails on ``register_fake("torchvision::nms")`` for an
    operator nobody defined. Defining the two schemas it names (nms and qnms, the only
    unconditional registrations) lets the import finish; the classification models use no
    torchvision operator.
    """
    try:
        import torchvision
    except RuntimeError as problem:
        if "torchvision::nms" not in str(problem):
            raise
        for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
            del sys.modules[name]
        library = torch.library.Library("torchvision", "DEF")
        library.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        library.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        import_torchvision.shim = library  # type: ignore[attr-defined]  # keep it alive
        import torchvision
    return torchvision


# -- the UNet, written plainly --------------------------------------------------------------


class DoubleConv(nn.Sequential):
    """Two 3x3 convolutions, each followed by ReLU (biases on, no batchnorm)."""

    def __init__(self, cin: int, cout: int, padding: int) -> None:
        super().__init__(
            nn.Conv2d(cin, cout, 3, padding=padding),
            nn.ReLU(),
            nn.Conv2d(cout, cout, 3, padding=padding),
            nn.ReLU(),
        )


def center_crop(x: torch.Tensor, height: int, width: int) -> torch.Tensor:
    top = (x.shape[-2] - height) // 2
    left = (x.shape[-1] - width) // 2
    return x[..., top : top + height, left : left + width]


class UNet(nn.Module):
    """Ronneberger et al. 2015: 64-128-256-512-1024, 2x2 max pools, 2x2 stride-2 up-convs that
    halve the channels, the encoder's map center-cropped and concatenated (skip first), a final
    1x1 conv to the classes. ``padding=0`` is the paper's (572 -> 388); ``padding=1`` keeps the
    size (no crop happens: the maps already agree)."""

    def __init__(self, in_channels: int = 1, classes: int = 2, padding: int = 0) -> None:
        super().__init__()
        w = (64, 128, 256, 512, 1024)
        self.enc1 = DoubleConv(in_channels, w[0], padding)
        self.pool1 = nn.MaxPool2d(2)
        self.enc2 = DoubleConv(w[0], w[1], padding)
        self.pool2 = nn.MaxPool2d(2)
        self.enc3 = DoubleConv(w[1], w[2], padding)
        self.pool3 = nn.MaxPool2d(2)
        self.enc4 = DoubleConv(w[2], w[3], padding)
        self.pool4 = nn.MaxPool2d(2)
        self.bottom = DoubleConv(w[3], w[4], padding)
        self.up4 = nn.ConvTranspose2d(w[4], w[3], 2, stride=2)
        self.dec4 = DoubleConv(w[4], w[3], padding)
        self.up3 = nn.ConvTranspose2d(w[3], w[2], 2, stride=2)
        self.dec3 = DoubleConv(w[3], w[2], padding)
        self.up2 = nn.ConvTranspose2d(w[2], w[1], 2, stride=2)
        self.dec2 = DoubleConv(w[2], w[1], padding)
        self.up1 = nn.ConvTranspose2d(w[1], w[0], 2, stride=2)
        self.dec1 = DoubleConv(w[1], w[0], padding)
        self.head = nn.Conv2d(w[0], classes, 1)
        self.crops: list[tuple[str, list[int], list[int]]] = []

    def _merge(self, name: str, skip: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
        cropped = center_crop(skip, up.shape[-2], up.shape[-1])
        self.crops.append((name, list(skip.shape[1:]), list(cropped.shape[1:])))
        return torch.cat([cropped, up], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.crops = []
        e1 = self.enc1(x)
        e2 = self.enc2(self.pool1(e1))
        e3 = self.enc3(self.pool2(e2))
        e4 = self.enc4(self.pool3(e3))
        b = self.bottom(self.pool4(e4))
        d4 = self.dec4(self._merge("enc4", e4, self.up4(b)))
        d3 = self.dec3(self._merge("enc3", e3, self.up3(d4)))
        d2 = self.dec2(self._merge("enc2", e2, self.up2(d3)))
        d1 = self.dec1(self._merge("enc1", e1, self.up1(d2)))
        return self.head(d1)


# -- PyTorch: counting -----------------------------------------------------------------------


def attention_macs(module: nn.MultiheadAttention, query: torch.Tensor, key: torch.Tensor) -> int:
    """Projections q, k, v, the two matrix products and the out projection, all heads."""
    if query.dim() == 2:  # unbatched (L, E)
        batch, lq, lk = 1, query.shape[0], key.shape[0]
    elif module.batch_first:
        batch, lq, lk = query.shape[0], query.shape[1], key.shape[1]
    else:
        batch, lq, lk = query.shape[1], query.shape[0], key.shape[0]
    e, kdim, vdim = module.embed_dim, module.kdim, module.vdim
    per_item = lq * e * e + lk * kdim * e + lk * vdim * e + 2 * lq * lk * e + lq * e * e
    return batch * per_item


def count_torch(model: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, int], int]:
    """One forward: MACs by layer type from hooks, and FlopCounterMode's MACs."""
    by_type: Counter[str] = Counter()
    inside_attention = {
        id(sub)
        for mha in model.modules()
        if isinstance(mha, nn.MultiheadAttention)
        for sub in mha.modules()
        if sub is not mha
    }
    skipped = Counter()

    def conv_hook(module: nn.Conv2d, args: tuple, output: torch.Tensor) -> None:
        kernel = math.prod(module.kernel_size)
        by_type[type(module).__name__] += (
            output.numel() * (module.in_channels // module.groups) * kernel
        )

    def transpose_hook(module: nn.ConvTranspose2d, args: tuple, output: torch.Tensor) -> None:
        kernel = math.prod(module.kernel_size)
        by_type[type(module).__name__] += (
            args[0].numel() * (module.out_channels // module.groups) * kernel
        )

    def linear_hook(module: nn.Linear, args: tuple, output: torch.Tensor) -> None:
        if id(module) in inside_attention:
            skipped[type(module).__name__] += 1
            return
        by_type[type(module).__name__] += output.numel() * module.in_features

    def attention_hook(
        module: nn.MultiheadAttention, args: tuple, kwargs: dict, output: Any
    ) -> None:
        query = args[0] if args else kwargs["query"]
        key = args[1] if len(args) > 1 else kwargs["key"]
        by_type[type(module).__name__] += attention_macs(module, query, key)

    handles = []
    for module in model.modules():
        if isinstance(module, nn.ConvTranspose2d):
            handles.append(module.register_forward_hook(transpose_hook))
        elif isinstance(module, nn.Conv2d):
            handles.append(module.register_forward_hook(conv_hook))
        elif isinstance(module, nn.Linear):
            handles.append(module.register_forward_hook(linear_hook))
        elif isinstance(module, nn.MultiheadAttention):
            handles.append(module.register_forward_hook(attention_hook, with_kwargs=True))
        elif isinstance(
            module, (nn.Conv1d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose3d, nn.Bilinear)
        ):
            raise SystemExit(f"no MAC rule here for {type(module).__name__}")
    counter = FlopCounterMode(display=False)
    try:
        # Grad on: MultiheadAttention's no-grad fast path is one fused op FlopCounterMode
        # does not count; the math SDPA backend: CPU's fused
        # _scaled_dot_product_flash_attention_for_cpu is not in its registry either (the
        # math one is plain bmm). Eval: batchnorm uses its running statistics.
        with torch.enable_grad(), sdpa_kernel(SDPBackend.MATH), counter:
            out = model(x)
    finally:
        for handle in handles:
            handle.remove()
    if skipped:
        by_type["_skipped_inside_attention"] = sum(skipped.values())
    return out.detach(), dict(by_type), counter.get_total_flops() // 2


def torch_layer_counts(model: nn.Module) -> tuple[dict[str, int], dict[str, int]]:
    """Leaf modules (and MultiheadAttention, whose out_proj is its only child) by class; and
    the blocks and containers (an empty nn.Sequential, an identity, is a container here)."""
    layers: Counter[str] = Counter()
    blocks: Counter[str] = Counter()
    containers = (nn.Sequential, nn.ModuleList, nn.ModuleDict)
    for name, module in model.named_modules():
        if name == "":
            continue
        children = list(module.children())
        if isinstance(module, nn.MultiheadAttention) or not (
            children or isinstance(module, containers)
        ):
            layers[type(module).__name__] += 1
        else:
            blocks[type(module).__name__] += 1
    return dict(sorted(layers.items())), dict(sorted(blocks.items()))


def torch_params_by_type(model: nn.Module) -> dict[str, int]:
    """Parameters held directly by each module class (a Parameter of a block itself, such as
    ConvNeXt's layer_scale or ViT's class_token, is under that block's class)."""
    by_type: Counter[str] = Counter()
    for module in model.modules():
        own = sum(p.numel() for p in module.parameters(recurse=False))
        if own:
            by_type[type(module).__name__] += own
    return dict(sorted(by_type.items()))


def record_torch(
    key: str,
    model: nn.Module,
    input_shape: tuple[int, ...],
    builder: str,
    notes: str,
    published: str | None = None,
) -> Record:
    model.eval()
    x = torch.zeros(1, *input_shape)
    out, macs_by_type, flop_counter_macs = count_torch(model, x)
    params = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    buffers = sum(
        b.numel() for n, b in model.named_buffers() if not n.endswith("num_batches_tracked")
    )
    counters = sum(1 for n, _ in model.named_buffers() if n.endswith("num_batches_tracked"))
    macs = sum(v for k, v in macs_by_type.items() if not k.startswith("_"))
    layers, blocks = torch_layer_counts(model)
    record: Record = {
        "framework": "pytorch",
        "builder": builder,
        "input_shape": list(input_shape),
        "output_shape": list(out.shape[1:]),
        "params": params,
        "trainable_params": trainable,
        "non_trainable_params": params - trainable,
        "buffers": buffers,
        "num_batches_tracked_buffers": counters,
        "macs": macs,
        "macs_by_layer_type": macs_by_type,
        "params_by_layer_type": torch_params_by_type(model),
        "layer_counts": layers,
        "block_counts": blocks,
        "notes": notes,
        "references": {
            "flop_counter_macs": flop_counter_macs,
            "flop_counter_agrees": flop_counter_macs == macs,
        },
    }
    if published is not None:
        tv = import_torchvision()
        meta = tv.models.get_model_weights(published).DEFAULT.meta
        gmacs = float(meta["_ops"])
        record["references"].update(
            {
                "torchvision_weights": str(tv.models.get_model_weights(published).DEFAULT),
                "torchvision_published_gmacs": gmacs,
                "torchvision_published_params": int(meta["num_params"]),
                "hook_gmacs": round(macs / 1e9, 6),
                "gmacs_difference": round(macs / 1e9 - gmacs, 6),
                # the published figure has 3 decimals: within rounding is within 0.0005
                "published_gmacs_agrees_within_rounding": abs(macs / 1e9 - gmacs) <= 0.0005 + 1e-12,
                "published_params_agrees": int(meta["num_params"]) == params,
            }
        )
    return record


def unet_record(key: str, padding: int, size: int) -> Record:
    torch.manual_seed(0)
    model = UNet(padding=padding)
    stages: list[list[Any]] = []
    names = [n for n, _ in model.named_children()]
    handles = [
        getattr(model, name).register_forward_hook(
            lambda m, a, o, name=name: stages.append([name, list(o.shape[1:])])
        )
        for name in names
    ]
    record = record_torch(
        key,
        model,
        (1, size, size),
        f"UNet(in_channels=1, classes=2, padding={padding}) in {Path(__file__).name}",
        (
            "Ronneberger et al. 2015, written plainly in PyTorch: DoubleConv = (Conv2d 3x3 "
            f"padding={padding}, ReLU) x2, biases on, no batchnorm; MaxPool2d(2); up = "
            "ConvTranspose2d(C, C/2, kernel 2, stride 2); the encoder map is center-cropped to "
            "the up-conv's size and concatenated before it (torch.cat([skip, up], 1)); a final "
            "Conv2d(64, 2, 1). ConvTranspose2d MACs = input elements * out_channels * 4. "
            + (
                "Valid convs: each 3x3 conv takes 2 off each side; crops 568->392, 280->200, "
                "136->104, 64->56."
                if padding == 0
                else "Same-padded: no crop happens (the maps already agree); 256 is divisible "
                "by 16 (572 is not)."
            )
        ),
    )
    for handle in handles:
        handle.remove()
    record["stage_output_shapes"] = stages
    record["crops"] = [
        {"skip": name, "from": before, "to": after} for name, before, after in model.crops
    ]
    return record


# -- Keras: counting -------------------------------------------------------------------------


def keras_macs(layer: Any) -> tuple[str, int] | None:
    """convcalc's MACs of one Keras layer, or None for a layer that has none."""
    import keras

    kind = type(layer).__name__
    if isinstance(layer, keras.layers.InputLayer):
        return None
    if len(layer._inbound_nodes) != 1:
        raise SystemExit(f"{layer.name} is called {len(layer._inbound_nodes)} times")
    out_shape = tuple(layer.output.shape[1:])
    in_shape = tuple(layer.input.shape[1:]) if not isinstance(layer.input, list) else None
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        assert layer.data_format == "channels_last"
        return kind, math.prod(out_shape) * math.prod(layer.kernel_size)
    if isinstance(layer, keras.layers.SeparableConv2D):
        assert layer.data_format == "channels_last"
        positions = math.prod(out_shape[:-1])
        inner = in_shape[-1] * layer.depth_multiplier
        return kind, positions * inner * math.prod(
            layer.kernel_size
        ) + positions * inner * layer.filters
    if isinstance(layer, keras.layers.Conv2DTranspose):
        return kind, math.prod(in_shape) * layer.filters * math.prod(layer.kernel_size)
    if isinstance(layer, keras.layers.Conv2D):
        assert layer.data_format == "channels_last"
        groups = getattr(layer, "groups", 1)
        return kind, math.prod(out_shape) * (in_shape[-1] // groups) * math.prod(layer.kernel_size)
    if isinstance(layer, keras.layers.Dense):
        return kind, math.prod(out_shape) * in_shape[-1]
    if any("kernel" in w.path for w in layer.weights):
        raise SystemExit(f"no MAC rule here for {kind} ({layer.name})")
    return None


def record_keras(key: str, model: Any, builder: str, notes: str) -> Record:
    import keras

    def size(weights: list) -> int:
        return int(sum(math.prod(w.shape) for w in weights))

    macs_by_type: Counter[str] = Counter()
    params_by_type: dict[str, dict[str, int]] = {}
    weights_by_type: dict[str, set[str]] = {}
    for layer in model.layers:
        counted = keras_macs(layer)
        if counted is not None:
            macs_by_type[counted[0]] += counted[1]
        kind = type(layer).__name__
        trainable, fixed = size(layer.trainable_weights), size(layer.non_trainable_weights)
        if trainable or fixed:
            entry = params_by_type.setdefault(kind, {"trainable": 0, "non_trainable": 0})
            entry["trainable"] += trainable
            entry["non_trainable"] += fixed
            weights_by_type.setdefault(kind, set()).update(
                f"{w.path.split('/')[-1]}{'' if w.trainable else ' (non-trainable)'}"
                for w in layer.weights
            )
    x = np.zeros((1, *model.input_shape[1:]), dtype="float32")
    out = keras.ops.convert_to_numpy(model(x, training=False))
    trainable = size(model.trainable_weights)
    fixed = size(model.non_trainable_weights)
    assert trainable + fixed == model.count_params()
    assert tuple(out.shape[1:]) == tuple(model.output_shape[1:])
    return {
        "framework": "keras",
        "builder": builder,
        "input_shape": list(model.input_shape[1:]),
        "output_shape": list(out.shape[1:]),
        "params": model.count_params(),
        "trainable_params": trainable,
        "non_trainable_params": fixed,
        "buffers": None,
        "macs": sum(macs_by_type.values()),
        "macs_by_layer_type": dict(sorted(macs_by_type.items())),
        "params_by_layer_type": dict(sorted(params_by_type.items())),
        "weights_by_layer_type": {k: sorted(v) for k, v in sorted(weights_by_type.items())},
        "layer_counts": dict(
            sorted(Counter(type(layer).__name__ for layer in model.layers).items())
        ),
        "notes": notes,
    }


# -- the models ------------------------------------------------------------------------------


def convnext_tiny() -> Record:
    tv = import_torchvision()
    torch.manual_seed(0)
    return record_torch(
        "torchvision_convnext_tiny",
        tv.models.convnext_tiny(weights=None),
        (3, 224, 224),
        "torchvision.models.convnext_tiny(weights=None)",
        (
            "Stem Conv2d(3, 96, 4, stride 4) + LayerNorm2d; stages of CNBlocks (3, 3, 9, 3 at "
            "96-192-384-768), each: depthwise Conv2d 7x7 (groups=C, padding 3), Permute to "
            "channels last, LayerNorm, Linear(C, 4C), GELU, Linear(4C, C), Permute back, "
            "layer_scale (a Parameter of C per block, shape (C,1,1), counted under CNBlock), "
            "StochasticDepth, residual add; downsampling = LayerNorm2d + Conv2d(k2, s2). Head: "
            "AdaptiveAvgPool2d, LayerNorm2d, Flatten, Linear(768, 1000). The Linears run on every "
            "position: MACs = H*W*out*in. No buffers (no batchnorm)."
        ),
        published="convnext_tiny",
    )


def shufflenet() -> Record:
    tv = import_torchvision()
    torch.manual_seed(0)
    return record_torch(
        "torchvision_shufflenet_v2_x1_0",
        tv.models.shufflenet_v2_x1_0(weights=None),
        (3, 224, 224),
        "torchvision.models.shufflenet_v2_x1_0(weights=None)",
        (
            "Conv 3x3/2 (24) + BN + ReLU, MaxPool 3x3/2, stages of InvertedResidual (4, 8, 4 at "
            "116-232-464), conv5 1x1 to 1024, global mean (x.mean([2,3]), not a module), "
            "Linear(1024, 1000). Stride-1 units split the channels in half (chunk), branch2 = "
            "1x1 conv, BN, ReLU, depthwise 3x3, BN, 1x1 conv, BN, ReLU; stride-2 units have a "
            "branch1 too (depthwise 3x3/2, BN, 1x1, BN, ReLU); concat then channel_shuffle "
            "(view/transpose, 0 MACs); a stride-1 unit's branch1 is an empty nn.Sequential (13 "
            "of them, an identity, under block_counts). Convs have no bias. Buffers = BN running "
            "mean and var (2*C each BN); num_batches_tracked excluded."
        ),
        published="shufflenet_v2_x1_0",
    )


def vit() -> Record:
    tv = import_torchvision()
    torch.manual_seed(0)
    return record_torch(
        "torchvision_vit_b_16",
        tv.models.vit_b_16(weights=None),
        (3, 224, 224),
        "torchvision.models.vit_b_16(weights=None)",
        (
            "conv_proj Conv2d(3, 768, 16, stride 16) -> 14x14 = 196 patches, + class_token "
            "(Parameter 1x1x768, under VisionTransformer) = L 197; pos_embedding (Parameter "
            "1x197x768, under Encoder); 12 EncoderBlocks: LayerNorm, nn.MultiheadAttention(768, "
            "12 heads, batch_first) with in_proj_weight 3E x E + in_proj_bias 3E and out_proj "
            "(NonDynamicallyQuantizableLinear, a Linear subclass, E x E + E, never called as a "
            "module), residual, LayerNorm, MLPBlock Linear(768, 3072), GELU, Linear(3072, 768), "
            "residual; final LayerNorm; head Linear(768, 1000) on the class token only. "
            "Attention MACs per block = 4*L*E*E + 2*L*L*E (heads do not change it)."
        ),
        published="vit_b_16",
    )


def nasnet() -> Record:
    import keras

    keras.utils.set_random_seed(0)
    return record_keras(
        "keras_nasnet_mobile",
        keras.applications.NASNetMobile(weights=None),
        "keras.applications.NASNetMobile(weights=None)",
        (
            "penultimate_filters 1056 -> filters 44, num_blocks 4, stem_block_filters 32, "
            "filter_multiplier 2, skip_reduction False. Stem Conv2D 3x3/2 valid (32, no bias) "
            "224->111 + BN; reduction cells stem_1 (11 filters, 111->56) and stem_2 (22, ->28); "
            "4 normal cells (44, 28x28, out 6*44 = 264 channels); reduction reduce_4 (88, ->14); "
            "4 normal (88, out 528); reduction reduce_8 (176, ->7); 4 normal (176, out 1056); "
            "ReLU, GlobalAveragePooling2D, Dense(1000, softmax). EVERY cell takes two inputs: x "
            "(the previous cell's output) and p (the input of the previous cell: each cell "
            "returns (x, ip)); stem_1 has p = None and uses p = x. After each reduction the next "
            "normal cell gets p = the reduction's input (skip_reduction False), at twice the "
            "resolution. _adjust_block fits p to x: if their spatial sizes differ, a factorised "
            "reduction (ReLU; path 1 AveragePooling2D 1x1 stride 2 + Conv2D 1x1 filters/2; path "
            "2 ZeroPadding2D ((0,1),(0,1)) + Cropping2D ((1,0),(1,0)) i.e. a one-pixel shift, "
            "AveragePooling2D 1x1/2 + Conv2D 1x1 filters/2; Concatenate; BN); else if channels "
            "differ, ReLU + Conv2D 1x1 + BN. A separable block = ReLU, [ZeroPadding2D "
            "correct_pad + valid if stride 2], SeparableConv2D (no bias), BN, ReLU, "
            "SeparableConv2D, BN. Normal cell: h = ReLU, Conv2D 1x1, BN of x; five adds "
            "(sep5x5(h)+sep3x3(p), sep5x5(p)+sep3x3(p), avgpool3(h)+p, avgpool3(p)+avgpool3(p), "
            "sep3x3(h)+h) concatenated with p: 6*filters channels. Reduction cell: h likewise, "
            "h3 = ZeroPadding2D of h; x1 = sep5x5/2(h)+sep7x7/2(p), x2 = maxpool3/2(h3)+"
            "sep7x7/2(p), x3 = avgpool3/2(h3)+sep5x5/2(p), x4 = x2 + avgpool3/1 same(x1), x5 = "
            "sep3x3(x1)+maxpool3/2(h3); concat [x2, x3, x4, x5]: 4*filters channels. BN "
            "momentum 0.9997, epsilon 1e-3; BN weights: gamma, beta trainable, moving mean and "
            "variance non-trainable (4*C, 2*C non-trainable)."
        ),
    )


def efficientnet() -> Record:
    import keras

    keras.utils.set_random_seed(0)
    return record_keras(
        "keras_efficientnet_b0",
        keras.applications.EfficientNetB0(weights=None),
        "keras.applications.EfficientNetB0(weights=None)",
        (
            "Rescaling(1/255) then Normalization(axis=-1), built unadapted: its weights are mean "
            "(3) and variance (3) and a scalar int count, all non-trainable, 7 in "
            "count_params(); with weights='imagenet' a second Rescaling (1/sqrt(std)) follows, "
            "not here. Stem ZeroPadding2D correct_pad + Conv2D 3x3/2 valid (32, no bias), BN, "
            "swish; 16 MBConv blocks: [expand Conv2D 1x1 + BN + swish when expand ratio != 1], "
            "[ZeroPadding2D when stride 2] DepthwiseConv2D (no bias), BN, swish, squeeze-excite "
            "(GlobalAveragePooling2D, Reshape, Conv2D 1x1 reduce WITH bias + swish, Conv2D 1x1 "
            "expand WITH bias + sigmoid, Multiply), project Conv2D 1x1 + BN, [Dropout + Add when "
            "residual]; top Conv2D 1x1 1280 + BN + swish, GlobalAveragePooling2D, Dropout 0.2, "
            "Dense(1000, softmax). SE convs' MACs are 1x1 conv on a 1x1 map."
        ),
    )


MODELS: dict[str, Callable[[], Record]] = {
    "torchvision_convnext_tiny": convnext_tiny,
    "torchvision_shufflenet_v2_x1_0": shufflenet,
    "keras_nasnet_mobile": nasnet,
    "pytorch_unet_valid_572": lambda: unet_record("pytorch_unet_valid_572", 0, 572),
    "pytorch_unet_same_256": lambda: unet_record("pytorch_unet_same_256", 1, 256),
    "keras_efficientnet_b0": efficientnet,
    "torchvision_vit_b_16": vit,
}


def versions() -> dict[str, str]:
    import jax
    import keras

    tv = import_torchvision()
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": tv.__version__,
        "keras": keras.__version__,
        "keras_backend": keras.backend.backend(),
        "jax": jax.__version__,
        "numpy": np.__version__,
    }


def problems(key: str, record: Record) -> list[str]:
    found = []
    refs = record.get("references", {})
    if refs and not refs["flop_counter_agrees"]:
        found.append(
            f"{key}: hooks {record['macs']} vs FlopCounterMode {refs['flop_counter_macs']}"
        )
    if "published_gmacs_agrees_within_rounding" in refs:
        if not refs["published_gmacs_agrees_within_rounding"]:
            found.append(
                f"{key}: hooks {refs['hook_gmacs']} GMACs vs published "
                f"{refs['torchvision_published_gmacs']}"
            )
        if not refs["published_params_agrees"]:
            found.append(
                f"{key}: params {record['params']} vs published "
                f"{refs['torchvision_published_params']}"
            )
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="+", choices=sorted(MODELS), help="record only these")
    parser.add_argument("--out", type=Path, default=OUT, help=f"default {OUT}")
    options = parser.parse_args()
    data: dict[str, Any] = {}
    if options.only and options.out.exists():
        data = json.loads(options.out.read_text())
    found: list[str] = []
    for key in options.only or MODELS:
        print(f"building {key} ...", file=sys.stderr, flush=True)
        data[key] = MODELS[key]()
        found += problems(key, data[key])
    data["_versions"] = versions()
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(json.dumps(data, sort_keys=True, indent=1) + "\n")
    print(
        f"{'model':32} {'params':>11} {'trainable':>11} {'non-train':>9} {'buffers':>8} "
        f"{'MACs':>14}  output"
    )
    for key in sorted(k for k in data if not k.startswith("_")):
        r = data[key]
        buffers = "-" if r["buffers"] is None else r["buffers"]
        print(
            f"{key:32} {r['params']:>11,} {r['trainable_params']:>11,} "
            f"{r['non_trainable_params']:>9,} {buffers:>8} {r['macs']:>14,}  {r['output_shape']}"
        )
    for line in found:
        print("DISAGREES:", line)
    print(f"wrote {options.out}", file=sys.stderr)
    return min(len(found), 100)


if __name__ == "__main__":
    sys.exit(main())
