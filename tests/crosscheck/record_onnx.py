"""Write the small ONNX fixtures of ``tests/test_onnx.py`` and their PyTorch figures (by hand).

Each fixture is a tiny PyTorch network (a few hundred weights, so a few KB), exported with one
of torch 2.13's two exporters as a user would, but with BatchNorm kept (see
``crosscheck_onnx.py``: the TorchScript exporter with ``do_constant_folding=False``, the dynamo
exporter with ``optimize=False``), into ``tests/data/onnx/NAME.onnx`` (without the dynamo
exporter's per-node stack traces, most of its file otherwise). Beside them,
``tests/data/onnx/figures.json`` holds what PyTorch itself says of each network: parameters
(``sum(p.numel())``), trainable parameters, buffers (BatchNorm's running mean and variance,
which PyTorch keeps beside the parameters), the output shape without the batch (a real
forward on a zero input), and MACs (``torch.utils.flop_counter.FlopCounterMode``, FLOPs / 2:
convolutions, transposed convolutions, linear layers and attention's two matrix products, bias
excluded). Nothing here imports convcalc.

Run with the framework venv (``/opt/fw/bin/pip install onnx onnxscript`` first)::

    /opt/fw/bin/python tests/crosscheck/record_onnx.py
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

warnings.filterwarnings("ignore")
OUT = Path(__file__).resolve().parents[1] / "data" / "onnx"


class SmallCNN(nn.Module):
    """Conv, BatchNorm, ReLU, MaxPool (ceil_mode too), Flatten, Linear, Dropout."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 6, 3)
        self.fc1 = nn.Linear(6 * 3 * 3, 8)
        self.drop = nn.Dropout(0.5)
        self.fc2 = nn.Linear(8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(torch.relu(self.conv2(x)), 2, ceil_mode=True)
        x = torch.flatten(x, 1)
        return self.fc2(self.drop(torch.relu(self.fc1(x))))


class Block(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                      nn.BatchNorm2d(cout))  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(out + (x if self.down is None else self.down(x)))


class Residual(nn.Module):
    """A ResNet in miniature: identity and projection shortcuts (Add), global average pool."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1, bias=False), nn.BatchNorm2d(4),
                                  nn.ReLU())  # fmt: skip
        self.block1 = Block(4, 4, 1)
        self.block2 = Block(4, 6, 2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(6, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block2(self.block1(self.stem(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


class Branches(nn.Module):
    """An Inception module in miniature (Concat of three paths), SiLU and squeeze-and-
    excitation (a broadcast Mul), a global average pool and a Linear."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.a = nn.Conv2d(4, 2, 1)
        self.b = nn.Sequential(nn.Conv2d(4, 2, 1), nn.ReLU(), nn.Conv2d(2, 3, 3, padding=1))
        self.c = nn.Sequential(nn.MaxPool2d(3, 1, 1), nn.Conv2d(4, 2, 1))
        self.se_reduce = nn.Conv2d(7, 2, 1)
        self.se_expand = nn.Conv2d(2, 7, 1)
        self.fc = nn.Linear(7, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.silu(self.stem(x))
        x = torch.cat([self.a(x), self.b(x), self.c(x)], dim=1)
        scale = torch.sigmoid(self.se_expand(torch.relu(self.se_reduce(x.mean((2, 3), True)))))
        x = x * scale
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class Shuffle(nn.Module):
    """ShuffleNet's unit (chunk, Concat, channel shuffle), a transposed convolution, an
    asymmetric F.pad, nearest upsampling, Hardswish, ReLU6, LayerNorm on the channels (a
    permute either side) and a Linear after."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.branch = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1, groups=4, bias=False),
                                    nn.BatchNorm2d(4), nn.Conv2d(4, 4, 1))  # fmt: skip
        self.up = nn.ConvTranspose2d(8, 4, 2, stride=2)
        self.norm = nn.LayerNorm(4)
        self.fc = nn.Linear(4, 6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu6(self.bn(self.conv(x)))
        x1, x2 = x.chunk(2, dim=1)
        x = torch.cat((x1, self.branch(x2)), dim=1)
        n, c, h, w = x.shape
        x = x.view(n, 2, c // 2, h, w).transpose(1, 2).contiguous().view(n, c, h, w)
        x = F.hardswish(self.up(x))
        x = F.interpolate(F.pad(x, (1, 0, 0, 1)), scale_factor=2, mode="nearest")
        x = self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def tiny_vit() -> nn.Module:
    """torchvision's VisionTransformer in miniature: patch embedding, class token, position
    embedding, one encoder block (MultiheadAttention of 2 heads, the MLP), x[:, 0], the head."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from record_architectures import import_torchvision

    vision_transformer = import_torchvision().models.vision_transformer
    return vision_transformer.VisionTransformer(
        image_size=16, patch_size=8, num_layers=1, num_heads=2, hidden_dim=8, mlp_dim=16,
        num_classes=3,
    )  # fmt: skip


def tiny_swin() -> nn.Module:
    """torchvision's Swin Transformer in miniature: 2x2 windows, a plain and a shifted block,
    a patch merging and one block after it."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from record_architectures import import_torchvision

    swin = import_torchvision().models.swin_transformer
    return swin.SwinTransformer(
        patch_size=[4, 4],
        embed_dim=4,
        depths=[2, 1],
        num_heads=[1, 2],
        window_size=[2, 2],
        num_classes=3,
    )


FIXTURES: dict[str, tuple[Callable[[], nn.Module], tuple[int, ...], str]] = {
    "small_cnn": (SmallCNN, (1, 16, 16), "torchscript"),
    "residual": (Residual, (3, 16, 16), "dynamo"),
    "branches": (Branches, (3, 12, 12), "torchscript"),
    "shuffle": (Shuffle, (3, 8, 8), "dynamo"),
    "tiny_vit": (tiny_vit, (3, 16, 16), "dynamo"),
    "tiny_swin": (tiny_swin, (3, 16, 16), "dynamo-folded"),
}


def export(model: nn.Module, shape: tuple[int, ...], exporter: str) -> bytes:
    example = torch.zeros(1, *shape)
    buffer = io.BytesIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        if exporter == "torchscript":
            torch.onnx.export(model, (example,), buffer, dynamo=False, do_constant_folding=False,
                              input_names=["image"], output_names=["logits"])  # fmt: skip
            return buffer.getvalue()
        program = torch.onnx.export(model, (example,), dynamo=True, optimize=False)
        if exporter == "dynamo-folded":
            # onnxscript's constant folding alone (no rewrite rules: BatchNorm is not fused),
            # leaving what a weight flows into (the position-bias table's lookup): Swin's
            # attention masks, a thousand nodes of constant arithmetic, become constants
            import onnx_ir as ir
            from onnxscript.optimizer import _constant_folding

            weights = set(program.model.graph.initializers)

            def keep_weights(node: Any) -> bool | None:  # what a weight flows into stays
                return (
                    False if any(v is not None and v.name in weights for v in node.inputs) else None
                )

            ir.passes.PassManager(
                [
                    _constant_folding.FoldConstantsPass(
                        shape_inference=True,
                        input_size_limit=1024,
                        output_size_limit=1024,
                        should_fold=keep_weights,
                    ),
                    ir.passes.common.RemoveUnusedNodesPass(),
                ]
            )(program.model)
    proto = program.model_proto
    for node in proto.graph.node:  # the exporter's stack traces: most of the file, no meaning
        del node.metadata_props[:]
        node.doc_string = ""
    for info in proto.graph.value_info:
        del info.metadata_props[:]
    return bytes(proto.SerializeToString())


def figures(model: nn.Module, shape: tuple[int, ...], exporter: str) -> dict[str, Any]:
    example = torch.zeros(1, *shape)
    # grad enabled and the math backend, as record_zoo.py counts: under no_grad an eval
    # MultiheadAttention takes its fused fast path, whose products FlopCounterMode misses
    with (
        torch.enable_grad(),
        sdpa_kernel(SDPBackend.MATH),
        FlopCounterMode(display=False) as counter,
    ):
        output = model(example)
    buffers = sum(b.numel() for n, b in model.named_buffers() if "running_" in n)
    return {
        "input": list(shape),
        "exporter": exporter,
        "params": sum(p.numel() for p in model.parameters()),
        "trainable": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "buffers": buffers,
        "macs": counter.get_total_flops() // 2,
        "output": list(output.detach().shape[1:]),
    }


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    recorded: dict[str, Any] = {
        "_about": "PyTorch's own figures for each fixture, written by "
        "tests/crosscheck/record_onnx.py (never by convcalc)",
        "_versions": {"torch": torch.__version__},
    }
    for name, (build, shape, exporter) in FIXTURES.items():
        torch.manual_seed(0)
        model = build().eval()
        data = export(model, shape, exporter)
        (OUT / f"{name}.onnx").write_bytes(data)
        recorded[name] = figures(model, shape, exporter)
        print(f"{name}: {len(data):,} bytes, {recorded[name]}")
    (OUT / "figures.json").write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
