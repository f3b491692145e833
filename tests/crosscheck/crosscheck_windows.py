"""Cross-check the windowed transformer kinds against torchvision's own modules, by hand (never
run by pytest).

Builds, over random settings and map sizes, valid and not:

- ``window_attention`` against torchvision's ``ShiftedWindowAttention`` and
  ``ShiftedWindowAttentionV2`` (``models/swin_transformer.py``) on an (N, H, W, C) map, and
  against MaxViT's block and grid attention: ``WindowPartition``, the grid's ``SwapAxes``,
  ``RelativePositionalMultiHeadAttention``, ``WindowDepartition`` as
  ``PartitionAttentionLayer.forward`` chains them (``models/maxvit.py``), built for a grid size
  and run on an (N, C, H, W) map, which convcalc reads permuted to (H, W, C) with
  ``pad: false`` and ``map_size``;
- ``patch_merging`` against ``PatchMerging`` and ``PatchMergingV2``.

For each it compares the output shape, the parameters, the MACs (torch's FlopCounterMode, FLOPs
/ 2: it counts every mm, bmm and addmm, bias excluded, as convcalc does) and the bytes autograd
saves in a training-mode forward (``saved_tensors_hooks``, the unique storages, parameters and
buffers excluded; the input a leaf that needs no gradient, which convcalc sees as a Linear's
output). Where torchvision refuses (heads that do not divide the features, a MaxViT map the
partition does not divide or that is not the one it was built for, a dim that is not the
input's), convcalc must refuse too, and the reverse.

Run with the framework venv, from anywhere::

    /opt/fw/bin/python tests/crosscheck/crosscheck_windows.py [--n 300] [--seed 1]

A disagreeing case is printed in full; the exit status is the number of disagreements (capped
at 100).
"""

from __future__ import annotations

import argparse
import random
import sys
import warnings
from pathlib import Path
from typing import Any

warnings.filterwarnings("ignore")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402
from record_architectures import import_torchvision  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from convcalc import ConvCalcError  # noqa: E402
from convcalc._model import read_model, run  # noqa: E402
from convcalc._settings import Optimizer  # noqa: E402

import_torchvision()
from torchvision.models import maxvit, swin_transformer  # noqa: E402

Seen = dict[str, Any]


def torch_figures(module: nn.Module, x: torch.Tensor) -> Seen:
    """What PyTorch does with one module on one input: its output shape (without the batch),
    parameters, MACs of one sample (as convcalc counts them, at batch 1: Swin V2's position
    bias MLP runs once a batch) and saved bytes of the whole batch, or the refusal."""
    params = sum(p.numel() for p in module.parameters())
    counter = FlopCounterMode(display=False)
    try:
        module.eval()
        with torch.no_grad():
            out = module(x)
        with counter, torch.no_grad():
            module(x[:1])
    except (RuntimeError, ValueError, AssertionError) as problem:
        return {"refused": f"{type(problem).__name__}: {str(problem)[:120]}"}
    module.train()
    own = {t.untyped_storage().data_ptr() for t in [*module.parameters(), *module.buffers()]}
    seen: dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in own and storage.nbytes():
            seen[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        module(x)
    return {
        "output": list(out.shape[1:]),
        "params": params,
        "macs": counter.get_total_flops() // 2,
        "saved": sum(seen.values()),
    }


def convcalc_figures(shape: list[int], layer: object, batch: int) -> Seen:
    """convcalc's figures for ``layer`` on ``shape`` (H, W, C), after a Linear on the features
    so that a gradient flows into it (the Linear's output is not kept by the Linear: the layer
    keeps it as torch keeps the leaf input)."""
    spec = {
        "input": shape,
        "framework": "pytorch",
        "batch": batch,
        "layers": [{"Linear": [shape[-1], shape[-1]]}, layer],
    }
    try:
        model = read_model(spec)
        model = model._replace(settings=model.settings._replace(train=Optimizer.ADAM))
        row = run(model).layers[1]
    except ConvCalcError as problem:
        return {"refused": str(problem)[:160]}
    return {
        "output": list(row.output_shape),
        "params": row.trainable_params + row.non_trainable_params,
        "macs": row.macs,
        "saved": row.saved_bytes,
    }


# -- the cases -----------------------------------------------------------------------------------


def swin_attention(rng: random.Random) -> tuple[str, nn.Module, torch.Tensor, list[int], object]:
    version = rng.choice((1, 2))
    heads = rng.randint(1, 4)
    channels = heads * rng.randint(1, 6) if rng.random() < 0.9 else rng.randint(2, 20)
    window = (
        [rng.randint(2, 8), rng.randint(2, 8)] if rng.random() < 0.3 else [rng.randint(2, 8)] * 2
    )
    shift = [rng.randint(0, side - 1) for side in window]
    height, width = rng.randint(1, 20), rng.randint(1, 20)
    batch = rng.choice((1, 1, 2))
    qkv_bias, proj_bias = rng.random() < 0.8, rng.random() < 0.8
    cls = (
        swin_transformer.ShiftedWindowAttentionV2
        if version == 2
        else swin_transformer.ShiftedWindowAttention
    )
    module = cls(channels, window, shift, heads, qkv_bias=qkv_bias, proj_bias=proj_bias)
    x = torch.randn(batch, height, width, channels)
    layer = {
        "window_attention": {
            "num_heads": heads,
            "window": f"{window[0]}x{window[1]}",
            "shift": f"{shift[0]}x{shift[1]}",
            "version": version,
            "qkv_bias": qkv_bias,
            "proj_bias": proj_bias,
            "dim": channels,
        }
    }
    return f"{cls.__name__} batch {batch}", module, x, [height, width, channels], layer


class MaxVitAttention(nn.Module):
    """PartitionAttentionLayer.forward without its LayerNorm, MLP and residuals: partition,
    (swap), RelativePositionalMultiHeadAttention, (swap), departition."""

    def __init__(self, channels: int, head_dim: int, size: int, kind: str, grid: int) -> None:
        super().__init__()
        self.grid = grid
        self.p = size if kind == "window" else grid // size
        self.swap = kind == "grid"
        self.attention = maxvit.RelativePositionalMultiHeadAttention(channels, head_dim, size**2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gh = gw = self.grid // self.p
        torch._assert(self.grid % self.p == 0, "Grid size must be divisible by partition size")
        x = maxvit.WindowPartition()(x, self.p)
        if self.swap:
            x = torch.swapaxes(x, -2, -3)
        x = self.attention(x)
        if self.swap:
            x = torch.swapaxes(x, -2, -3)
        return maxvit.WindowDepartition()(x, self.p, gh, gw)


def maxvit_attention(rng: random.Random) -> tuple[str, nn.Module, torch.Tensor, list[int], object]:
    head_dim = rng.choice((2, 4, 8))
    channels = head_dim * rng.randint(1, 4)
    size = rng.randint(2, 5)
    grid = size * rng.randint(1, 4)
    kind = rng.choice(("window", "grid"))
    side = grid if rng.random() < 0.6 else rng.randint(2, 24)
    batch = rng.choice((1, 1, 2))
    module = MaxVitAttention(channels, head_dim, size, kind, grid)
    x = torch.randn(batch, channels, side, side)
    layer = {
        "window_attention": {
            "num_heads": channels // head_dim,
            "window": size,
            "partition": kind,
            "pad": False,
            "map_size": grid,
        }
    }
    return f"MaxViT {kind} attention batch {batch}", module, x, [side, side, channels], layer


def patch_merging(rng: random.Random) -> tuple[str, nn.Module, torch.Tensor, list[int], object]:
    version = rng.choice((1, 2))
    channels = rng.randint(1, 12)
    height, width = rng.randint(1, 15), rng.randint(1, 15)
    batch = rng.choice((1, 2))
    cls = swin_transformer.PatchMergingV2 if version == 2 else swin_transformer.PatchMerging
    module = cls(channels)
    x = torch.randn(batch, height, width, channels)
    return (
        f"{cls.__name__} batch {batch}",
        module,
        x,
        [height, width, channels],
        {cls.__name__: [channels]},
    )


GENERATORS = {"swin": swin_attention, "maxvit": maxvit_attention, "merging": patch_merging}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", choices=sorted(GENERATORS))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    torch.manual_seed(args.seed)
    names = [args.only] if args.only else sorted(GENERATORS)
    bad = refusals = 0
    for i in range(args.n):
        name = names[i % len(names)]
        label, module, x, shape, layer = GENERATORS[name](rng)
        theirs = torch_figures(module, x)
        ours = convcalc_figures(shape, layer, x.shape[0])
        if "refused" in theirs:
            refusals += 1
            same = "refused" in ours
        elif "refused" in ours:
            same = False
        else:
            if x.dim() == 4 and isinstance(module, MaxVitAttention):
                theirs["output"] = [*theirs["output"][1:], theirs["output"][0]]  # C H W -> H W C
            same = ours == theirs
        if not same:
            bad += 1
            print(f"DISAGREE {label} on {shape} {layer}\n  torch    {theirs}\n  convcalc {ours}")
    print(f"{args.n} cases ({refusals} refused by torchvision), {bad} disagreements")
    return min(bad, 100)


if __name__ == "__main__":
    sys.exit(main())
