"""Well-known networks written plainly in the model language (no stand-in layers), against
figures recorded from the real frameworks: the UNets here, and five the zoo now holds (as
members of its families: the zoo's files are the networks' one copy).

The figures in ``tests/data/architectures.json`` were recorded by
``tests/crosscheck/record_architectures.py`` from PyTorch 2.13 / torchvision 0.28 and Keras
3.15 (params from the frameworks' own counts; MACs by forward hooks in convcalc's convention,
which agree with torchvision's published figures and with torch's FlopCounterMode). None is
convcalc's output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from convcalc import analyze
from convcalc._input._yaml import read_model_source
from convcalc._input._zoo import load_zoo
from convcalc._report import fold

DATA = Path(__file__).parent / "data"
RECORDED: dict[str, Any] = json.loads((DATA / "architectures.json").read_text())

IN_THE_ZOO = {
    "keras_nasnet_mobile": "keras_nasnet_mobile",
    "torchvision_convnext_tiny": "convnext_tiny",
    "torchvision_shufflenet_v2_x1_0": "shufflenet_v2_x1_0",
    "keras_efficientnet_b0": "keras_efficientnet_b0",
    "torchvision_vit_b_16": "vit_b_16",
}
"""Names here -> the zoo's."""
WRITTEN = {
    # file in tests/data/architectures (or zoo model) -> its key in architectures.json
    "unet_valid": "pytorch_unet_valid_572",
    "unet_same": "pytorch_unet_same_256",
    "keras_nasnet_mobile": "keras_nasnet_mobile",
    "torchvision_convnext_tiny": "torchvision_convnext_tiny",
    "torchvision_shufflenet_v2_x1_0": "torchvision_shufflenet_v2_x1_0",
    "keras_efficientnet_b0": "keras_efficientnet_b0",
    "torchvision_vit_b_16": "torchvision_vit_b_16",
}


def report_of(name: str) -> Any:
    if name in IN_THE_ZOO:
        return analyze(load_zoo(IN_THE_ZOO[name]))
    spec = read_model_source(str(DATA / "architectures" / f"{name}.yaml"))
    assert isinstance(spec, dict)
    return analyze(spec)


@pytest.mark.parametrize("name", sorted(WRITTEN))
def test_matches_its_framework(name: str) -> None:
    recorded = RECORDED[WRITTEN[name]]
    report = report_of(name)
    totals = report.totals
    assert list(report.input_shape) == recorded["input_shape"]
    assert list(report.output_shape) == recorded["output_shape"]
    assert totals.params == recorded["params"]
    assert totals.trainable_params == recorded["trainable_params"]
    assert totals.non_trainable_params == recorded["non_trainable_params"]
    assert totals.macs == recorded["macs"]


@pytest.mark.parametrize("name", ["unet_valid", "unet_same"])
def test_unet_stages(name: str) -> None:
    # every stage's output, as the PyTorch model gives it: encoders, bottom, decoders, head
    stages = dict(RECORDED[WRITTEN[name]]["stage_output_shapes"])
    rows = {row.name: list(row.output_shape) for row in fold(report_of(name), 0).layers}
    for stage in ("enc1", "enc2", "enc3", "enc4", "bottom", "dec4", "dec3", "dec2", "dec1"):
        assert rows[stage] == stages[stage], stage
    assert rows["head"] == stages["head"]


def test_convnext_keeps_its_receptive_field_through_its_channels_last_blocks() -> None:
    # stem 4x4/4: 4; each block's 7x7 depthwise conv at jump 4 adds 6*4 = 24 (its permute,
    # LayerNorm and Linears on the channels add nothing), so stage 1's three blocks give 76; the
    # 2x2/2 downsample at jump 4 adds 4; stage 2's three blocks at jump 8 add 3*6*8 = 144, and
    # the next downsample 8
    rows = fold(report_of("torchvision_convnext_tiny"), 0).layers
    fields = [row.receptive_field.size[0] for row in rows[:6] if row.receptive_field]
    assert fields == [4, 4, 76, 80, 224, 232]
