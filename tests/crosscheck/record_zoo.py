"""Record reference figures for the whole model zoo, built in its own framework (by hand only).

For EVERY torchvision classification builder (``torchvision.models.list_models(module=
torchvision.models)``, 80 names) and EVERY ``keras.applications`` model function (40), this
writes what a test can hold convcalc's zoo to: parameters (total, trainable, non-trainable),
PyTorch buffers, MACs and the output shape (without the batch), at the default input size and
at three other sizes, or the framework's refusal. Nothing here imports convcalc: the figures
come from the frameworks alone. The counting conventions are those of
``record_architectures.py`` (imported from this folder and reused): MACs are the
multiply-accumulates of convolutions and dense/linear layers, bias excluded, batch 1, plus
attention's two matrix products (scores Q.K^T and weights.V); everything else counts 0.

Zoo names and builds
--------------------

- torchvision: the zoo name is the builder's name; built ``torchvision.models.get_model(name,
  weights=None, num_classes=1000)`` (googlenet and inception_v3 with ``aux_logits=False,
  init_weights=False``) on the meta device (``with torch.device("meta")``): no memory is
  allocated (regnet_y_128gf and vit_h_14 have over 600M parameters) and the forward runs on a
  meta input, which propagates shapes and raises the same shape errors as CPU (checked on
  resnet18 at every run, ``_checks`` in the JSON, and for any model with ``--cpu-check``).
  RegNet's builder computes its stage widths with torch tensors and ``.tolist()``, which a meta
  tensor cannot do: ``BlockParams.from_init_params`` is run on the CPU device (a wrapper here,
  this process only). Every size of a model is one build (the builder does not depend on the
  input) and one forward of a (1, 3, H, W) input.
- torchvision default input size: the size fixed by the structure where the builder fixes one
  (VisionTransformer's ``image_size``, 224 without weights, forward asserts it; MaxVit's
  ``input_size``, 224, the partition grid of every block is fixed at build), else the crop size
  of ``get_model_weights(name).DEFAULT.transforms()``; ``default.rule`` says which.
- torchvision MACs: ``macs_hooks`` (forward hooks on Conv2d, Linear and MultiheadAttention,
  record_architectures' ``count_torch``) and ``macs_flopcounter`` (the same forward under
  ``torch.utils.flop_counter.FlopCounterMode``, total FLOPs / 2, grad enabled and the math SDPA
  backend); ``macs`` is the FlopCounterMode figure. Swin, Swin V2 and MaxViT compute parts of
  their attention functionally (F.linear with a module's weight, torch.matmul, torch.einsum):
  hooks miss them, FlopCounterMode counts every mm/addmm/bmm/convolution; ``macs_note`` says
  what the hooks missed. ``published`` holds the DEFAULT weights' ``_ops`` (GFLOPS that mean
  GMACs) and ``num_params``, its transforms' crop and resize sizes, and whether the default
  build agrees (within the 3 decimals of ``_ops``). Where the published weights need another
  build (inception_v3's weights carry the aux classifier; vit_h_14's DEFAULT SWAG weights are
  for 518x518, a different position embedding), ``published.matching_build`` holds the figures
  of that build too.
- Keras: the zoo name is ``keras_`` + the function's name in snake case (``KERAS`` below);
  built ``fn(weights=None)`` (include_top=True, 1000 classes, the preprocessing layers kept),
  other sizes ``fn(weights=None, input_shape=(H, W, 3))``. MobileNetV3Small/Large built without
  weights or input_shape take (None, None, 3): their default size is then 224 (the size of
  their imagenet weights), figures from ``fn(weights=None, input_shape=(224, 224, 3))`` (the
  parameters do not depend on the size; checked). MACs per layer from configs and shapes
  (record_architectures' ``keras_macs``, recursing into nested Sequential models; a weighted
  layer class with no rule and not known to have none fails loudly), checked against an
  independent count: the model's forward traced by ``jax.make_jaxpr`` (no computation), every
  ``conv_general_dilated`` (output elements * kernel elements / output channels) and
  ``dot_general`` (output elements * contracted size) added up. The trace also gives the output
  shape and is where a size fails if the model builds but does not run.

Sizes
-----

Besides the default, three sizes per model: one square size drawn from [97, 400] and one
non-square (H != W) pair from [97, 400], pseudo-randomly but deterministically (a
``random.Random`` seeded by the SHA-256 of the zoo name), and 32x32 (to see where the framework
refuses). ``--more-sizes K`` appends K further sizes to each model's recorded ``sizes`` (the
rest of the entry is kept as recorded; a model not in the file yet is recorded first), none
repeating the default or another size: from a ``random.Random`` seeded by the SHA-256 of the
zoo name + "more", in turn an odd square (kind ``odd_square``), a non-square pair
(``non_square``) and a non-square pair of odd sides (``odd_non_square``), all in [33, 640].
The models whose structure fixes the size (vit_*, maxvit_t: ``default.rule`` "structure: ...")
would only refuse those: they get sizes near the default instead (kind ``near_default``:
(H-1)x(W-1), (H+1)x(W+1), (H+2)xW, then Hx(W-1), ...), so that the refusals say the size is
fixed exactly. The sequence does not depend on K (a larger K extends a smaller one) and sizes
already recorded are not measured again, so a rerun with the same K changes nothing.

Each size is ``{"kind", "input", "params", "trainable", "non_trainable", ["buffers"], "macs",
"output"}`` or ``{"kind", "input", "refused": {"stage", "type", "message"}}`` with the
exception's type and its message's first 300 characters. Inputs are [C, H, W] for torchvision
and [H, W, C] for Keras.

Output and running
------------------

``tests/data/zoo.json``, sorted keys, indent 1: one entry per zoo name, ``{"source":
"torchvision"|"keras", "builder", "default": {...}, "sizes": [...], "layer_classes", "notes",
...}`` (torchvision: ``published``, ``macs_note``, ``buffers``; keras: ``function``,
``include_preprocessing``, ``macs_jaxpr``), plus ``_versions`` and ``_checks``. It is rewritten
(atomically) after each model, so a partial run is usable. Run with the framework venv
(KERAS_BACKEND and JAX_PLATFORMS default to jax and cpu)::

    /opt/fw/bin/python tests/crosscheck/record_zoo.py [--only NAME ...] [--out PATH]
    /opt/fw/bin/python tests/crosscheck/record_zoo.py --more-sizes K [--only NAME ...]
    /opt/fw/bin/python tests/crosscheck/record_zoo.py --cpu-check NAME ... [--more-sizes K]

``--only`` records only those zoo names and keeps the other entries of an existing file;
without it the file is written anew, torchvision first, then Keras. ``--more-sizes`` extends
the existing file (all its models, or those of ``--only``) and refuses a file recorded with
other versions. ``--cpu-check`` builds the named torchvision models for real on the CPU,
measures every size (with ``--more-sizes K``, those K too) and compares with the meta figures;
it writes nothing. The exit status is the number of problems found (hooks vs FlopCounterMode
outside the known functional-attention models, published figures, Keras rules vs the jaxpr
count, the known Keras totals, meta vs CPU), at most 100. About 11 minutes on 2 cores:
torchvision on meta about a minute and a half, each Keras model 9 to 25 s (four builds and
traces). ``--cpu-check`` does real forwards: about 4 minutes for 20 small and medium models.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import math
import os
import random
import sys
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import record_architectures as ra  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "data" / "zoo.json"
Record = dict[str, Any]
MESSAGE_CHARS = 300
SIZE_RANGE = (97, 400)
MORE_SIZE_RANGE = (33, 640)  # --more-sizes: a wider range
MORE_KINDS = ("odd_square", "non_square", "odd_non_square")  # --more-sizes cycles through these
# --more-sizes for a model whose structure fixes its size: (dH, dW) from the default, these
# first, then random ones within +-NEAR_DEFAULT_SPREAD
NEAR_DEFAULT_OFFSETS = [(-1, -1), (1, 1), (2, 0), (0, -1), (-2, 2), (8, 8)]
NEAR_DEFAULT_SPREAD = 16

# keras.applications function -> zoo name (snake case, letters split from digits only as here)
KERAS: dict[str, str] = {
    "ConvNeXtTiny": "keras_convnext_tiny",
    "ConvNeXtSmall": "keras_convnext_small",
    "ConvNeXtBase": "keras_convnext_base",
    "ConvNeXtLarge": "keras_convnext_large",
    "ConvNeXtXLarge": "keras_convnext_xlarge",
    "DenseNet121": "keras_densenet121",
    "DenseNet169": "keras_densenet169",
    "DenseNet201": "keras_densenet201",
    **{f"EfficientNetB{i}": f"keras_efficientnet_b{i}" for i in range(8)},
    **{f"EfficientNetV2B{i}": f"keras_efficientnet_v2_b{i}" for i in range(4)},
    "EfficientNetV2S": "keras_efficientnet_v2_s",
    "EfficientNetV2M": "keras_efficientnet_v2_m",
    "EfficientNetV2L": "keras_efficientnet_v2_l",
    "InceptionResNetV2": "keras_inception_resnet_v2",
    "InceptionV3": "keras_inception_v3",
    "MobileNet": "keras_mobilenet",
    "MobileNetV2": "keras_mobilenet_v2",
    "MobileNetV3Small": "keras_mobilenet_v3_small",
    "MobileNetV3Large": "keras_mobilenet_v3_large",
    "NASNetMobile": "keras_nasnet_mobile",
    "NASNetLarge": "keras_nasnet_large",
    "ResNet50": "keras_resnet50",
    "ResNet101": "keras_resnet101",
    "ResNet152": "keras_resnet152",
    "ResNet50V2": "keras_resnet50_v2",
    "ResNet101V2": "keras_resnet101_v2",
    "ResNet152V2": "keras_resnet152_v2",
    "VGG16": "keras_vgg16",
    "VGG19": "keras_vgg19",
    "Xception": "keras_xception",
}
KERAS_DYNAMIC_DEFAULT = 224  # MobileNetV3 without weights takes (None, None, 3)

# Published Keras totals (keras.io/api/applications, count_params of the include_top model):
# (params, trainable)
KERAS_KNOWN: dict[str, tuple[int, int | None]] = {
    "keras_resnet50": (25_636_712, 25_583_592),
    "keras_mobilenet_v2": (3_538_984, None),
    "keras_vgg16": (138_357_544, None),
    "keras_densenet121": (8_062_504, None),
}

# Keras layer classes that hold weights but do no multiply-accumulate of convcalc's convention
# (normalisation, per-channel scaling); any other weighted class needs a MAC rule.
KERAS_ZERO_MAC_WEIGHTED = {
    "BatchNormalization",
    "LayerNormalization",
    "Normalization",
    "LayerScale",
}
# Weightless Keras layers that would still multiply matrices: none occurs in keras.applications;
# refuse rather than count 0.
KERAS_WEIGHTLESS_PRODUCTS = {"Attention", "AdditiveAttention", "MultiHeadAttention", "Dot"}

# torchvision models whose attention is (partly) functional: hooks on modules miss some of it.
FUNCTIONAL_ATTENTION = "swin_t swin_s swin_b swin_v2_t swin_v2_s swin_v2_b maxvit_t".split()
TORCH_EXTRA_KWARGS: dict[str, dict[str, Any]] = {
    "googlenet": {"aux_logits": False, "init_weights": False},
    "inception_v3": {"aux_logits": False, "init_weights": False},
}


# -- common ---------------------------------------------------------------------------------


def seeded(text: str) -> random.Random:
    return random.Random(int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big"))


def other_sizes(name: str) -> list[tuple[str, int, int]]:
    """(kind, H, W): one square and one non-square size in SIZE_RANGE, seeded by the name,
    then 32x32."""
    rng = seeded(name)
    square = rng.randint(*SIZE_RANGE)
    height = rng.randint(*SIZE_RANGE)
    width = rng.randint(*SIZE_RANGE)
    while width == height:
        width = rng.randint(*SIZE_RANGE)
    return [("square", square, square), ("non_square", height, width), ("tiny", 32, 32)]


def more_sizes(
    name: str, count: int, default: tuple[int, int], fixed: bool
) -> list[tuple[str, int, int]]:
    """(kind, H, W): ``count`` sizes beyond the default and ``other_sizes``, none repeated, from
    a ``random.Random`` seeded by the name + "more". A model whose structure fixes its size
    (``fixed``) gets sizes near its default (NEAR_DEFAULT_OFFSETS, then random offsets within
    NEAR_DEFAULT_SPREAD), so that its refusals are meaningful; any other model cycles through
    an odd square, a non-square pair and a non-square pair of odd sides in MORE_SIZE_RANGE.
    The sequence does not depend on ``count``: a larger count extends a smaller one."""
    rng = seeded(name + "more")
    taken = {default, *((h, w) for _, h, w in other_sizes(name))}
    low, high = MORE_SIZE_RANGE
    offsets = iter(NEAR_DEFAULT_OFFSETS)
    found: list[tuple[str, int, int]] = []
    while len(found) < count:
        if fixed:
            dh, dw = next(offsets, None) or (
                rng.randint(-NEAR_DEFAULT_SPREAD, NEAR_DEFAULT_SPREAD),
                rng.randint(-NEAR_DEFAULT_SPREAD, NEAR_DEFAULT_SPREAD),
            )
            kind, h, w = "near_default", default[0] + dh, default[1] + dw
        else:
            kind = MORE_KINDS[len(found) % len(MORE_KINDS)]
            if kind == "odd_square":
                h = w = rng.randrange(low | 1, high + 1, 2)
            elif kind == "non_square":
                h, w = rng.randint(low, high), rng.randint(low, high)
            else:
                h, w = rng.randrange(low | 1, high + 1, 2), rng.randrange(low | 1, high + 1, 2)
            if kind != "odd_square" and h == w:
                continue
        if (h, w) in taken or min(h, w) < 1:
            continue
        taken.add((h, w))
        found.append((kind, h, w))
    return found


def refusal(stage: str, problem: BaseException) -> Record:
    return {
        "stage": stage,
        "type": type(problem).__name__,
        "message": " ".join(str(problem).split())[:MESSAGE_CHARS],
    }


def gmacs_agree(macs: int, published: float) -> bool:
    """``_ops`` has 3 decimals: within rounding is within 0.0005 GMACs."""
    return abs(macs / 1e9 - published) <= 0.0005 + 1e-9


# -- torchvision ----------------------------------------------------------------------------


class RecordingFlopCounter(FlopCounterMode):
    """FlopCounterMode that keeps its last instance, so the counts by module and by operator
    of record_architectures' ``count_torch`` can be read after it returns."""

    last: RecordingFlopCounter | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        RecordingFlopCounter.last = self


ra.FlopCounterMode = RecordingFlopCounter  # count_torch builds its counter from this name


def patch_regnet_for_meta(tv: Any) -> None:
    """RegNet's BlockParams.from_init_params computes widths with torch tensors and .tolist(),
    which fails under ``torch.device("meta")``: run it on the CPU device."""
    block_params = tv.models.regnet.BlockParams
    if getattr(block_params, "_zoo_cpu_patched", False):
        return
    original = block_params.from_init_params.__func__

    def on_cpu(cls: Any, *args: Any, **kwargs: Any) -> Any:
        with torch.device("cpu"):
            return original(cls, *args, **kwargs)

    block_params.from_init_params = classmethod(on_cpu)
    block_params._zoo_cpu_patched = True


def build_torch(name: str, device: str = "meta", **extra: Any) -> nn.Module:
    tv = ra.import_torchvision()
    patch_regnet_for_meta(tv)
    kwargs = {"weights": None, "num_classes": 1000, **TORCH_EXTRA_KWARGS.get(name, {}), **extra}
    torch.manual_seed(0)
    with torch.device(device):
        model = tv.models.get_model(name, **kwargs)
    return model.eval()


def torch_builder_text(name: str, **extra: Any) -> str:
    kwargs = {"weights": None, "num_classes": 1000, **TORCH_EXTRA_KWARGS.get(name, {}), **extra}
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    return f"torchvision.models.get_model({name!r}, {args})"


def torch_params(model: nn.Module) -> Record:
    params = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    buffers = sum(
        b.numel() for n, b in model.named_buffers() if not n.endswith("num_batches_tracked")
    )
    return {
        "params": params,
        "trainable": trainable,
        "non_trainable": params - trainable,
        "buffers": buffers,
    }


def measure_torch(model: nn.Module, shape: tuple[int, int, int], device: str = "meta") -> Record:
    """Figures of one forward at (1, *shape), or the refusal."""
    record: Record = {"input": list(shape)}
    x = torch.zeros(1, *shape, device=device)
    try:
        out, by_type, flop_counter_macs = ra.count_torch(model, x)
    except Exception as problem:  # the framework refuses this size
        record["refused"] = refusal("forward", problem)
        return record
    counter = RecordingFlopCounter.last
    assert counter is not None
    hooks = sum(v for k, v in by_type.items() if not k.startswith("_"))
    by_op: Counter[str] = Counter()
    for op, flops in counter.get_flop_counts()["Global"].items():
        by_op[str(op).split(".")[-1]] += flops // 2
    cpb = sum(
        sum(ops.values()) // 2
        for module, ops in counter.get_flop_counts().items()
        if module.endswith("cpb_mlp")
    )
    record.update(torch_params(model))
    record.update(
        {
            "macs": flop_counter_macs,
            "macs_hooks": hooks,
            "macs_flopcounter": flop_counter_macs,
            "output": list(out.shape[1:]),
            "_by_type": dict(sorted(by_type.items())),
            "_by_op": dict(sorted(by_op.items())),
            "_cpb_mlp": cpb,
        }
    )
    return record


def public(record: Record) -> Record:
    return {k: v for k, v in record.items() if not k.startswith("_")}


def torch_default_size(name: str, model: nn.Module) -> tuple[tuple[int, int], str]:
    tv = ra.import_torchvision()
    if isinstance(model, tv.models.VisionTransformer):
        size = model.image_size
        return (size, size), (
            f"structure: VisionTransformer.image_size = {size} (the builder's default without "
            "weights; forward asserts H == W == image_size, and the position embedding has "
            "(image_size/patch)^2 + 1 rows)"
        )
    if isinstance(model, tv.models.MaxVit):
        grid = model.blocks[0].grid_size  # stem (3x3/2) then the first block's stride 2
        size = (4 * grid[0], 4 * grid[1])
        assert tv.models.maxvit._make_block_input_shapes(size, len(model.blocks))[0] == grid
        return size, (
            f"structure: MaxVit input_size = {size[0]}x{size[1]} (the builder's default without "
            "weights): every block's partition grid is fixed at build"
        )
    crop = tv.models.get_model_weights(name).DEFAULT.transforms().crop_size
    return (crop[0], crop[-1]), "weights: crop_size of get_model_weights(name).DEFAULT.transforms()"


def torch_published(name: str) -> Record:
    tv = ra.import_torchvision()
    weights = tv.models.get_model_weights(name).DEFAULT
    transforms = weights.transforms()
    return {
        "weights": str(weights),
        "gmacs": float(weights.meta["_ops"]),
        "num_params": int(weights.meta["num_params"]),
        "crop_size": list(transforms.crop_size),
        "resize_size": list(transforms.resize_size),
        "min_size": list(weights.meta["min_size"]),
    }


TORCH_NOTES: dict[str, str] = {
    "vit": (
        "VisionTransformer: conv_proj Conv2d(3, E, patch, stride patch), class token and "
        "position embedding (Parameters), nn.MultiheadAttention blocks (batch_first, "
        "need_weights=False), head Linear on the class token. Only image_size x image_size "
        "inputs run (torch._assert in _process_input): every other size is refused."
    ),
    "swin": (
        "Swin: patch embedding Conv2d 4x4/4 + Permute + LayerNorm, stages of "
        "SwinTransformerBlock (window 7, shifted every second block; maps not a multiple of "
        "the window are padded and attention runs on the padded windows; a window larger than "
        "the map is clipped to it and the shift dropped), PatchMerging (Linear 4C -> 2C), "
        "head Linear. Buffers: each block's relative_position_index ((w*w)^2 int64)."
    ),
    "swin_v2": (
        "Swin V2: as Swin with window 8, cosine attention (F.normalize, logit_scale) and a "
        "continuous position bias: cpb_mlp (Linear(2, 512), ReLU, Linear(512, heads)) run on "
        "the (2w-1)^2 relative_coords_table (a buffer) every forward; PatchMergingV2 "
        "(Linear 4C -> 2C then LayerNorm). Buffers: relative_coords_table and "
        "relative_position_index per block."
    ),
    "maxvit": (
        "MaxViT: stem 3x3/2 convs, MBConv (with squeeze-excitation) + window and grid "
        "PartitionAttention (partition 7) per layer; the partition grid of every block is fixed "
        "at build from input_size, so only that size runs. Attention: to_qkv and merge are "
        "nn.Linear, the two products torch.einsum."
    ),
    "inception_v3": (
        "Built aux_logits=False (the AuxLogits classifier is not built); weights=None gives "
        "transform_input=False (the pretrained weights set it True: a per-channel affine "
        "on the input, 0 MACs)."
    ),
    "googlenet": (
        "Built aux_logits=False (aux1, aux2 not built); weights=None gives transform_input="
        "False (the pretrained weights set it True: a per-channel affine, 0 MACs)."
    ),
    "regnet": (
        "Built on the meta device with BlockParams.from_init_params run on the CPU (it uses "
        ".tolist()); the widths do not depend on the device."
    ),
}


def torch_notes(name: str) -> str:
    prefixes = {
        "swin_v2": "swin_v2",
        "swin_": "swin",
        "vit_": "vit",
        "maxvit": "maxvit",
        "regnet": "regnet",
    }
    family = next((f for p, f in prefixes.items() if name.startswith(p)), name)
    return TORCH_NOTES.get(family, "")


def torch_macs_note(name: str, default: Record) -> str:
    by_type, by_op = default["_by_type"], default["_by_op"]
    fc, hooks = default["macs_flopcounter"], default["macs_hooks"]
    linear_ops = by_op.get("mm", 0) + by_op.get("addmm", 0)
    products = by_op.get("bmm", 0)
    breakdown = (
        f"FlopCounterMode by op: convolution {by_op.get('convolution', 0):,}, mm+addmm "
        f"{linear_ops:,}, bmm {products:,}; hooks by module: "
        + ", ".join(f"{k} {v:,}" for k, v in by_type.items() if not k.startswith("_"))
        + "."
    )
    unknown = set(by_op) - {"convolution", "mm", "addmm", "bmm"}
    if unknown:
        breakdown += f" Other ops counted: {sorted(unknown)}."
    if name.startswith("swin"):
        linear_hooks = by_type.get("Linear", 0)
        text = (
            f"macs = FlopCounterMode = hooks {hooks:,} + {fc - hooks:,}. ShiftedWindowAttention"
            f"{'V2' if name.startswith('swin_v2') else ''} calls F.linear with self.qkv.weight "
            "and self.proj.weight (no module call, so no hook) and computes Q.K^T and "
            "weights.V with torch.matmul: FlopCounterMode counts the qkv and out projections "
            f"(mm/addmm {linear_ops:,} vs the hooked Linears' {linear_hooks:,}: "
            f"+{linear_ops - linear_hooks:,}) and the two products (bmm {products:,}), on the "
            "padded windows. That is the convention (dense layers + attention's two products)."
        )
        if name.startswith("swin_v2"):
            text += (
                f" Both count the continuous position bias MLP (cpb_mlp, nn.Linear modules: "
                f"{default['_cpb_mlp']:,} MACs in all), which runs once per block per forward "
                "on the (2*8-1)^2 = 225-entry relative_coords_table, whatever the batch and "
                "image size."
            )
        return text + " " + breakdown
    if name.startswith("maxvit"):
        return (
            f"macs = FlopCounterMode = hooks {hooks:,} + {fc - hooks:,}. "
            "RelativePositionalMultiHeadAttention's to_qkv and merge are nn.Linear (hooked), "
            "but Q.K^T and weights.V are torch.einsum (bmm, counted by FlopCounterMode only: "
            f"{products:,}). That is the convention. " + breakdown
        )
    if name.startswith("vit_"):
        return (
            "hooks = FlopCounterMode: the MultiheadAttention hook counts 4*L*E^2 + 2*L^2*E per "
            "block (projections and both products), FlopCounterMode sees them as addmm/mm and "
            "bmm (grad on, math SDPA). " + breakdown
        )
    if fc != hooks:
        return f"hooks {hooks:,} != FlopCounterMode {fc:,}. " + breakdown
    return ""


def torch_case_problems(name: str, cases: list[Record]) -> list[str]:
    """A refusal that mentions meta; hooks vs FlopCounterMode outside the models whose
    attention is partly functional."""
    problems = []
    attention = name in FUNCTIONAL_ATTENTION
    for case in cases:
        if "refused" in case:
            if "meta" in case["refused"]["message"].lower():
                problems.append(f"{name} {case['input']}: refusal mentions meta: {case['refused']}")
            continue
        if not attention and case["macs_hooks"] != case["macs_flopcounter"]:
            problems.append(
                f"{name} {case['input']}: hooks {case['macs_hooks']:,} vs FlopCounterMode "
                f"{case['macs_flopcounter']:,}"
            )
    return problems


def extend_torchvision(name: str, entry: Record, count: int) -> list[str]:
    """Append ``more_sizes`` to a recorded entry's sizes (those not there yet): one build."""
    *_, height, width = entry["default"]["input"]
    fixed = entry["default"]["rule"].startswith("structure")
    recorded = {tuple(case["input"][1:]) for case in entry["sizes"]}
    wanted = [s for s in more_sizes(name, count, (height, width), fixed) if s[1:] not in recorded]
    if not wanted:
        return []
    model = build_torch(name)
    added = [{"kind": k, **public(measure_torch(model, (3, h, w)))} for k, h, w in wanted]
    del model
    gc.collect()
    entry["sizes"] += added
    return torch_case_problems(name, added)


def record_torchvision(name: str) -> tuple[Record, list[str]]:
    tv = ra.import_torchvision()
    problems: list[str] = []
    model = build_torch(name)
    (height, width), rule = torch_default_size(name, model)
    default = measure_torch(model, (3, height, width))
    if "refused" in default:
        raise SystemExit(f"{name}: refused at its default size: {default['refused']}")
    default["rule"] = rule
    default["num_batches_tracked"] = sum(
        1 for n, _ in model.named_buffers() if n.endswith("num_batches_tracked")
    )
    sizes = []
    for kind, h, w in other_sizes(name):
        case = {"kind": kind, **public(measure_torch(model, (3, h, w)))}
        sizes.append(case)
    problems += torch_case_problems(name, [default, *sizes])

    published = torch_published(name)
    published["params_agree"] = default["params"] == published["num_params"]
    published["gmacs_agree"] = gmacs_agree(default["macs"], published["gmacs"])
    published["gmacs_difference"] = round(default["macs"] / 1e9 - published["gmacs"], 6)
    published["hooks_gmacs_agree"] = gmacs_agree(default["macs_hooks"], published["gmacs"])
    matching: dict[str, Any] | None = None
    if name == "inception_v3":
        matching = {"aux_logits": True}
    elif isinstance(model, tv.models.VisionTransformer) and (
        published["crop_size"][0] != model.image_size
    ):
        matching = {"image_size": published["crop_size"][0]}
    if matching is not None:
        other = build_torch(name, **matching)
        size = published["crop_size"][0]
        figures = measure_torch(other, (3, size, size))
        published["matching_build"] = {
            "builder": torch_builder_text(name, **matching),
            "why": (
                "the DEFAULT weights carry the AuxLogits classifier (its parameters are in "
                "num_params; it does not run in eval, so not in _ops)"
                if name == "inception_v3"
                else f"the DEFAULT weights ({published['weights']}) are for {size}x{size}: "
                "image_size sets the position embedding's rows"
            ),
            "input": figures["input"],
            "params": figures["params"],
            "macs": figures["macs"],
            "params_agree": figures["params"] == published["num_params"],
            "gmacs_agree": gmacs_agree(figures["macs"], published["gmacs"]),
        }
        del other
    checked = published.get("matching_build", published)
    if not checked["params_agree"]:
        problems.append(f"{name}: params vs published {published['num_params']:,}")
    if not checked["gmacs_agree"]:
        problems.append(f"{name}: MACs vs published {published['gmacs']} GMACs")

    layers, blocks = ra.torch_layer_counts(model)
    buffers_by_name: Counter[str] = Counter()
    for buffer_name, buffer in model.named_buffers():
        buffers_by_name[buffer_name.split(".")[-1]] += buffer.numel()
    entry = {
        "source": "torchvision",
        "builder": torch_builder_text(name),
        "default": {
            **public(default),
            "macs_hooks_by_layer_type": default["_by_type"],
            "macs_flopcounter_by_op": default["_by_op"],
        },
        "sizes": sizes,
        "published": published,
        "macs_note": torch_macs_note(name, default),
        "layer_classes": layers,
        "block_classes": blocks,
        "buffers_by_name": dict(sorted(buffers_by_name.items())),
        "notes": torch_notes(name),
    }
    return entry, problems


def compare_meta_cpu(name: str, sizes: list[tuple[int, int, int]]) -> list[str]:
    """Every size measured on a meta build and on a real CPU build must give equal figures,
    or refusals of the same type."""
    problems = []
    meta, cpu = build_torch(name, "meta"), build_torch(name, "cpu")
    for shape in sizes:
        a, b = measure_torch(meta, shape, "meta"), measure_torch(cpu, shape, "cpu")
        if "refused" in a or "refused" in b:
            same = a.get("refused", {}).get("type") == b.get("refused", {}).get("type")
            if not same:
                problems.append(
                    f"{name} {shape}: meta {a.get('refused')} vs cpu {b.get('refused')}"
                )
        elif a != b:
            diff = {k: (a[k], b[k]) for k in a if a[k] != b.get(k)}
            problems.append(f"{name} {shape}: meta vs cpu {diff}")
    del meta, cpu
    gc.collect()
    return problems


def meta_self_check() -> tuple[Record, list[str]]:
    """resnet18 on meta and on CPU at 224, an odd size and 32: params, hooks,
    FlopCounterMode and output agree."""
    sizes = [(3, 224, 224), (3, 97, 131), (3, 32, 32)]
    problems = compare_meta_cpu("resnet18", sizes)
    return {
        "model": "resnet18",
        "sizes": [list(s) for s in sizes],
        "what": "meta and CPU builds give equal params, buffers, hook and FlopCounterMode MACs "
        "and output at each size",
        "agree": not problems,
    }, problems


# -- Keras ----------------------------------------------------------------------------------


def keras_layer_macs(layer: Any, found: Counter[str]) -> None:
    """Add one layer's MACs by class (recursing into nested models) to ``found``."""
    import keras

    if isinstance(layer, keras.Model):  # Sequential or functional model inside the model
        for inner in layer.layers:
            keras_layer_macs(inner, found)
        return
    kind = type(layer).__name__
    if kind in KERAS_WEIGHTLESS_PRODUCTS:
        raise SystemExit(f"no MAC rule here for {kind} ({layer.name})")
    counted = ra.keras_macs(layer)
    if counted is not None:
        found[counted[0]] += counted[1]
    elif layer.weights and kind not in KERAS_ZERO_MAC_WEIGHTED:
        raise SystemExit(f"no MAC rule here for weighted {kind} ({layer.name})")


def jaxpr_macs(jaxpr: Any, found: Counter[str]) -> None:
    """MACs of every convolution and dot product in a jaxpr and the jaxprs inside it."""
    for eqn in jaxpr.eqns:
        primitive = eqn.primitive.name
        if primitive in ("scan", "while"):
            raise SystemExit(f"a loop ({primitive}) in the traced model: not counted here")
        if primitive == "conv_general_dilated":
            out = eqn.outvars[0].aval.shape
            kernel = eqn.invars[1].aval.shape
            spec = eqn.params["dimension_numbers"].rhs_spec
            assert eqn.params["lhs_dilation"] in (None, (1, 1)), eqn.params
            found["conv_general_dilated"] += math.prod(out) * math.prod(kernel) // kernel[spec[0]]
        elif primitive == "dot_general":
            out = eqn.outvars[0].aval.shape
            lhs = eqn.invars[0].aval.shape
            (contracting, _), _ = eqn.params["dimension_numbers"]
            found["dot_general"] += math.prod(out) * math.prod(lhs[i] for i in contracting)
        for value in eqn.params.values():
            for inner in value if isinstance(value, (tuple, list)) else [value]:
                if hasattr(inner, "eqns"):
                    jaxpr_macs(inner, found)
                elif hasattr(inner, "jaxpr") and hasattr(inner.jaxpr, "eqns"):
                    jaxpr_macs(inner.jaxpr, found)


def keras_size(weights: list) -> int:
    return int(sum(math.prod(w.shape) for w in weights))


def build_keras(function: str, input_shape: tuple[int, int, int] | None) -> tuple[Any, Record]:
    """The model (or None) and, if it was refused, the refusal."""
    import keras

    fn = getattr(keras.applications, function)
    keras.utils.set_random_seed(0)
    try:
        if input_shape is None:
            return fn(weights=None), {}
        return fn(weights=None, input_shape=input_shape), {}
    except Exception as problem:
        return None, refusal("build", problem)


def measure_keras(model: Any) -> Record:
    """Figures of a built model: params, MACs by rule and by jaxpr, output (from the trace)."""
    import jax

    shape = tuple(model.input_shape[1:])
    record: Record = {"input": list(shape)}
    x = np.zeros((1, *shape), dtype="float32")
    try:
        traced = jax.make_jaxpr(lambda x: model(x, training=False))(x)
    except Exception as problem:
        record["refused"] = refusal("forward", problem)
        return record
    by_class: Counter[str] = Counter()
    for layer in model.layers:
        keras_layer_macs(layer, by_class)
    by_primitive: Counter[str] = Counter()
    jaxpr_macs(traced.jaxpr, by_primitive)
    (out,) = traced.out_avals
    trainable, fixed = keras_size(model.trainable_weights), keras_size(model.non_trainable_weights)
    assert trainable + fixed == model.count_params()
    assert tuple(out.shape[1:]) == tuple(model.output_shape[1:]), (out.shape, model.output_shape)
    record.update(
        {
            "params": model.count_params(),
            "trainable": trainable,
            "non_trainable": fixed,
            "macs": sum(by_class.values()),
            "macs_jaxpr": sum(by_primitive.values()),
            "output": list(out.shape[1:]),
            "_by_class": dict(sorted(by_class.items())),
            "_by_primitive": dict(sorted(by_primitive.items())),
        }
    )
    return record


def free_keras(*objects: Any) -> None:
    import keras

    del objects
    keras.backend.clear_session()
    gc.collect()


def keras_notes(function: str, preprocessing: Any, layer_classes: dict[str, int]) -> str:
    notes = []
    if preprocessing is not None:
        notes.append(f"include_preprocessing defaults to {preprocessing} (kept)")
    kept = [k for k in ("Rescaling", "Normalization") if k in layer_classes]
    if kept:
        notes.append("preprocessing layers in the model: " + ", ".join(kept))
    if function.startswith("MobileNetV3"):
        notes.append(
            "built without weights or input_shape its input is (None, None, 3) and the head is "
            "convolutional (GlobalAveragePooling2D keepdims, Conv2D 1x1 1024/1280, Conv2D 1x1 "
            "to the classes, Flatten): default figures at 224x224 (the imagenet weights' size) "
            "from fn(weights=None, input_shape=(224, 224, 3)); the parameters do not depend "
            "on the size; include_preprocessing=True adds Rescaling(scale=1/127.5, "
            "offset=-1)"
        )
    if function.startswith("VGG"):
        notes.append("include_top Flatten + Dense(4096): the parameters grow with the input size")
    if function.startswith("NASNet"):
        notes.append("with include_top a static input shape is required")
    return "; ".join(notes) + ("." if notes else "")


def measure_keras_sizes(function: str, sizes: list[tuple[str, int, int]]) -> list[Record]:
    """One build per size (freed before the next): the figures or the refusal."""
    cases = []
    for kind, h, w in sizes:
        model, refused = build_keras(function, (h, w, 3))
        if refused:
            cases.append({"kind": kind, "input": [h, w, 3], "refused": refused})
        else:
            cases.append({"kind": kind, **public(measure_keras(model))})
        free_keras(model)
        model = None
    return cases


def keras_case_problems(name: str, cases: list[Record]) -> list[str]:
    return [
        f"{name} {case['input']}: rules {case['macs']:,} vs jaxpr {case['macs_jaxpr']:,}"
        for case in cases
        if "refused" not in case and case["macs"] != case["macs_jaxpr"]
    ]


def extend_keras(function: str, entry: Record, count: int) -> list[str]:
    """Append ``more_sizes`` to a recorded entry's sizes (those not there yet)."""
    name = KERAS[function]
    height, width, _ = entry["default"]["input"]
    recorded = {tuple(case["input"][:2]) for case in entry["sizes"]}
    wanted = [s for s in more_sizes(name, count, (height, width), False) if s[1:] not in recorded]
    added = measure_keras_sizes(function, wanted)
    entry["sizes"] += added
    return keras_case_problems(name, added)


def record_keras(function: str) -> tuple[Record, list[str]]:
    import inspect

    import keras

    name = KERAS[function]
    problems: list[str] = []
    fn = getattr(keras.applications, function)
    preprocessing = inspect.signature(fn).parameters.get("include_preprocessing")
    preprocessing_default = None if preprocessing is None else preprocessing.default

    model, refused = build_keras(function, None)
    if refused:
        raise SystemExit(f"{name}: refused at its default size: {refused}")
    built_input = list(model.input_shape[1:])
    rule = "fn(weights=None): its input_shape"
    if None in built_input:
        params_dynamic = model.count_params()
        free_keras(model)
        size = (KERAS_DYNAMIC_DEFAULT, KERAS_DYNAMIC_DEFAULT, 3)
        model, refused = build_keras(function, size)
        assert not refused, refused
        assert model.count_params() == params_dynamic
        rule = (
            f"fn(weights=None) takes {built_input}: {KERAS_DYNAMIC_DEFAULT}x"
            f"{KERAS_DYNAMIC_DEFAULT} (its imagenet weights' size), figures from fn(weights="
            f"None, input_shape={size}); same params"
        )
    default = measure_keras(model)
    if "refused" in default:
        raise SystemExit(f"{name}: refused at its default size: {default['refused']}")
    default["rule"] = rule
    default["built_input"] = built_input
    layer_classes = dict(sorted(Counter(type(layer).__name__ for layer in model.layers).items()))
    nested: Counter[str] = Counter()
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            nested.update(type(inner).__name__ for inner in layer.layers)
    free_keras(model)
    model = None

    sizes = measure_keras_sizes(function, other_sizes(name))
    problems += keras_case_problems(name, [default, *sizes])
    if name in KERAS_KNOWN:
        params, trainable = KERAS_KNOWN[name]
        if default["params"] != params or trainable not in (None, default["trainable"]):
            problems.append(
                f"{name}: params {default['params']:,} / trainable "
                f"{default['trainable']:,} vs known {params:,} / {trainable}"
            )
    entry = {
        "source": "keras",
        "function": function,
        "builder": f"keras.applications.{function}(weights=None)",
        "include_preprocessing": preprocessing_default,
        "default": {
            **public(default),
            "macs_by_layer_type": default["_by_class"],
            "macs_jaxpr_by_primitive": default["_by_primitive"],
        },
        "sizes": sizes,
        "layer_classes": layer_classes,
        "layer_classes_in_nested_models": dict(sorted(nested.items())),
        "notes": keras_notes(function, preprocessing_default, layer_classes),
    }
    return entry, problems


# -- main -----------------------------------------------------------------------------------


def torch_names() -> list[str]:
    tv = ra.import_torchvision()
    return list(tv.models.list_models(module=tv.models))


def keras_functions() -> list[str]:
    import keras

    present = sorted(
        n
        for n in dir(keras.applications)
        if not n.startswith("_") and callable(getattr(keras.applications, n))
    )
    if sorted(KERAS) != present:
        raise SystemExit(
            f"keras.applications changed: new {sorted(set(present) - set(KERAS))}, "
            f"gone {sorted(set(KERAS) - set(present))}"
        )
    return list(KERAS)


def write(path: Path, data: Record) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(data, sort_keys=True, indent=1) + "\n")
    os.replace(partial, path)


def summary_line(name: str, entry: Record, seconds: float) -> str:
    d = entry["default"]
    sizes = " ".join(
        "x".join(str(v) for v in case["input"]) + ("!" if "refused" in case else "")
        for case in entry["sizes"]
    )
    return (
        f"{name:28} {'x'.join(map(str, d['input'])):>11} {d['params']:>12,} {d['macs']:>16,} "
        f"{str(d['output']):>8}  {sizes}  ({seconds:.1f}s)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="record only these zoo names")
    parser.add_argument("--out", type=Path, default=OUT, help=f"default {OUT}")
    parser.add_argument(
        "--cpu-check",
        nargs="+",
        metavar="NAME",
        help="compare meta and real CPU builds of these torchvision models; writes nothing",
    )
    parser.add_argument(
        "--more-sizes",
        type=int,
        default=0,
        metavar="K",
        help="append K further sizes per model to the recorded entries' sizes (keeps the rest)",
    )
    options = parser.parse_args()
    if options.more_sizes < 0:
        parser.error("--more-sizes takes a count >= 0")

    if options.cpu_check:
        problems = []
        for name in options.cpu_check:
            default, rule = torch_default_size(name, build_torch(name))
            sizes = [(3, *default)]
            sizes += [(3, h, w) for _, h, w in other_sizes(name)]
            fixed = rule.startswith("structure")
            sizes += [(3, h, w) for _, h, w in more_sizes(name, options.more_sizes, default, fixed)]
            found = compare_meta_cpu(name, sizes)
            print(f"{'ok ' if not found else 'BAD'} {name} {sizes}", flush=True)
            problems += found
        for line in problems:
            print("DISAGREES:", line)
        return min(len(problems), 100)

    torch_all = torch_names()
    keras_all = keras_functions()
    by_zoo_name = {KERAS[f]: f for f in keras_all}
    wanted = options.only or [*torch_all, *(KERAS[f] for f in keras_all)]
    unknown = [n for n in wanted if n not in torch_all and n not in by_zoo_name]
    if unknown:
        parser.error(f"not zoo names: {unknown}")
    # torchvision first (fast on meta), then Keras
    wanted = [n for n in wanted if n in torch_all] + [n for n in wanted if n in by_zoo_name]

    data: Record = {}
    if options.more_sizes and not options.out.exists():
        parser.error(f"--more-sizes extends {options.out}, which does not exist")
    if (options.only or options.more_sizes) and options.out.exists():
        data = json.loads(options.out.read_text())
    if options.more_sizes and data.get("_versions") != ra.versions():
        raise SystemExit(
            f"--more-sizes: {options.out} was recorded with {data.get('_versions')}, these are "
            f"{ra.versions()}: record it anew first"
        )
    data["_versions"] = ra.versions()
    checks = data.setdefault("_checks", {})
    problems: list[str] = []
    if any(n in torch_all for n in wanted):
        checks["meta_vs_cpu"], found = meta_self_check()
        problems += found
    started = time.time()
    for name in wanted:
        began = time.time()
        print(f"building {name} ...", file=sys.stderr, flush=True)
        found = []
        if options.more_sizes and name in data:
            entry = data[name]
        elif name in torch_all:
            entry, found = record_torchvision(name)
        else:
            entry, found = record_keras(by_zoo_name[name])
        if options.more_sizes and name in torch_all:
            found += extend_torchvision(name, entry, options.more_sizes)
        elif options.more_sizes:
            found += extend_keras(by_zoo_name[name], entry, options.more_sizes)
        data[name] = entry
        problems += found
        write(options.out, data)
        print(summary_line(name, entry, time.time() - began), flush=True)
        for line in found:
            print("  DISAGREES:", line, flush=True)
    for line in problems:
        print("DISAGREES:", line)
    print(
        f"wrote {options.out} ({len(wanted)} models, {time.time() - started:.0f}s)", file=sys.stderr
    )
    return min(len(problems), 100)


if __name__ == "__main__":
    sys.exit(main())
