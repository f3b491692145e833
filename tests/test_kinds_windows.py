"""The kinds of windowed vision transformers (``_kinds_windows.py``): ``window_attention``
(torchvision Swin's shifted window attention, V1 and V2, and MaxViT's block and grid
attention) and ``patch_merging`` (Swin's PatchMerging and PatchMergingV2).

Every expected number is worked out by hand from torchvision 0.28's source, written beside
each table, never copied from convcalc:

- ``ShiftedWindowAttention(dim=C, window_size, shift_size, num_heads)`` holds ``qkv`` Linear(C,
  3C), ``proj`` Linear(C, C) and ``relative_position_bias_table`` ((2*wh-1)*(2*ww-1), heads);
  its forward pads the (H, W, C) map on the right and bottom to a multiple of the window, and
  runs qkv and proj on every padded token (T of them) and, in each window of N = wh*ww tokens,
  the scores q @ k^T and attn @ v, N*N*C/heads per head each: MACs = 3*T*C*C + 2*T*N*C +
  T*C*C.
- ``ShiftedWindowAttentionV2`` has no table: ``logit_scale`` (heads, 1, 1) and ``cpb_mlp``
  Linear(2, 512), ReLU, Linear(512, heads, bias=False), run once on the (2*wh-1)*(2*ww-1)
  relative coordinates: (2*wh-1)*(2*ww-1)*(2*512 + 512*heads) more MACs.
- MaxViT's ``RelativePositionalMultiHeadAttention(C, head_dim, p*p)``: to_qkv Linear(C, 3C),
  merge Linear(C, C), a ((2p-1)**2, heads) table: Swin V1's counts, on an unpadded map.
- ``PatchMerging(C)``: LayerNorm(4C), then Linear(4C, 2C, bias=False) on (ceil(H/2),
  ceil(W/2)) positions; ``PatchMergingV2(C)``: the Linear, then LayerNorm(2C).

``tests/crosscheck/crosscheck_windows.py`` repeats these against the real torchvision modules
at many sizes. These tests never import a framework.
"""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from convcalc import ConvCalcError, analyze
from convcalc._catalogue import find_kind
from convcalc._cli import app
from convcalc._input._zoo import member_model, read_family
from convcalc._model import read_model, run
from convcalc._settings import Optimizer

TORCH = "pytorch"


def run_layers(inp: list[int], *layers: object, **settings: object) -> dict[str, Any]:
    spec = {"input": inp, "framework": TORCH, "layers": list(layers), **settings}
    return analyze(spec).to_dict()


def counts(inp: list[int], layer: object) -> tuple[list[int], int, int]:
    row = run_layers(inp, layer)["layers"][0]
    return row["output_shape"], row["trainable_params"], row["macs"]


def refused(inp: list[int], layer: object, *fragments: str, **settings: object) -> str:
    with pytest.raises(ConvCalcError) as caught:
        run_layers(inp, layer, **settings)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, message
    return message


def v1_params(c: int, heads: int, wh: int, ww: int, qkv_bias: int = 1, proj_bias: int = 1) -> int:
    # qkv Linear(C, 3C), proj Linear(C, C), relative_position_bias_table
    return (
        (c * 3 * c + qkv_bias * 3 * c)
        + (c * c + proj_bias * c)
        + (2 * wh - 1) * (2 * ww - 1) * heads
    )


def v2_params(c: int, heads: int) -> int:
    # qkv and proj as V1; logit_scale (heads, 1, 1); cpb_mlp Linear(2, 512) + Linear(512, heads,
    # bias=False)
    return (c * 3 * c + 3 * c) + (c * c + c) + heads + (2 * 512 + 512) + 512 * heads


def v1_macs(tokens: int, per_window: int, c: int) -> int:
    return tokens * c * 3 * c + 2 * tokens * per_window * c + tokens * c * c


def cpb_macs(wh: int, ww: int, heads: int) -> int:
    return (2 * wh - 1) * (2 * ww - 1) * (2 * 512 + 512 * heads)


# -- window attention ----------------------------------------------------------------------------

WINDOW_CASES = [
    # Swin-T stage 1 at 224: 56x56x96, 3 heads, window 7: 64 windows of 49 tokens
    pytest.param(
        [56, 56, 96],
        {"window_attention": {"num_heads": 3, "window": 7}},
        [56, 56, 96],
        v1_params(96, 3, 7, 7),
        v1_macs(56 * 56, 49, 96),
        id="swin-t-stage1",
    ),
    # the shift changes no count
    pytest.param(
        [56, 56, 96],
        {"window_attention": {"num_heads": 3, "window": 7, "shift": 3}},
        [56, 56, 96],
        v1_params(96, 3, 7, 7),
        v1_macs(56 * 56, 49, 96),
        id="shifted",
    ),
    # 10x10 is padded to 14x14 (pad_r = pad_b = (7 - 10 % 7) % 7 = 4): T = 196
    pytest.param(
        [10, 10, 8],
        {"window_attention": {"num_heads": 2, "window": 7, "shift": 3}},
        [10, 10, 8],
        v1_params(8, 2, 7, 7),
        v1_macs(14 * 14, 49, 8),
        id="padded",
    ),
    # a 2x2 map under a window of 7 is padded to one 7x7 window (torchvision does not shrink
    # the window): T = N = 49
    pytest.param(
        [2, 2, 768],
        {"window_attention": {"num_heads": 24, "window": 7, "shift": 3}},
        [2, 2, 768],
        v1_params(768, 24, 7, 7),
        v1_macs(49, 49, 768),
        id="window-covers-map",
    ),
    # a window of 4x8 on 5x9: padded to 8x16, 4 windows of 32 tokens; table 7*15 per head
    pytest.param(
        [5, 9, 12],
        {"window_attention": {"num_heads": 3, "window": "4x8"}},
        [5, 9, 12],
        v1_params(12, 3, 4, 8),
        v1_macs(8 * 16, 32, 12),
        id="rectangular",
    ),
    # no biases: 3C + C fewer parameters, the same MACs (bias excluded)
    pytest.param(
        [14, 14, 16],
        {"window_attention": {"num_heads": 4, "window": 7, "qkv_bias": False, "proj_bias": False}},
        [14, 14, 16],
        v1_params(16, 4, 7, 7, 0, 0),
        v1_macs(196, 49, 16),
        id="no-bias",
    ),
    # Swin V2-T stage 1 at 256: 64x64x96, 3 heads, window 8
    pytest.param(
        [64, 64, 96],
        {"window_attention": {"num_heads": 3, "window": 8, "version": 2}},
        [64, 64, 96],
        v2_params(96, 3),
        v1_macs(64 * 64, 64, 96) + cpb_macs(8, 8, 3),
        id="swin-v2",
    ),
    # torchvision's class name, in its positional order (dim, window_size, shift_size,
    # num_heads): the V2 class is version 2
    pytest.param(
        [16, 16, 32],
        {"ShiftedWindowAttentionV2": [32, 8, 4, 4]},
        [16, 16, 32],
        v2_params(32, 4),
        v1_macs(256, 64, 32) + cpb_macs(8, 8, 4),
        id="torch-v2-class",
    ),
    pytest.param(
        [16, 16, 32],
        {"ShiftedWindowAttention": [32, 8, 4, 4]},
        [16, 16, 32],
        v1_params(32, 4, 8, 8),
        v1_macs(256, 64, 32),
        id="torch-v1-class",
    ),
    # MaxViT-T's block and grid attention in block 1 at 224: 56x56x64, 64 // 32 = 2 heads,
    # partition 7: 64 groups of 49 tokens either way
    pytest.param(
        [56, 56, 64],
        {"window_attention": {"num_heads": 2, "window": 7, "pad": False, "map_size": 56}},
        [56, 56, 64],
        v1_params(64, 2, 7, 7),
        v1_macs(56 * 56, 49, 64),
        id="maxvit-block",
    ),
    pytest.param(
        [56, 56, 64],
        {"window_attention": {"num_heads": 2, "window": 7, "partition": "grid", "pad": False}},
        [56, 56, 64],
        v1_params(64, 2, 7, 7),
        v1_macs(56 * 56, 49, 64),
        id="maxvit-grid",
    ),
]


@pytest.mark.parametrize(("inp", "layer", "shape", "params", "macs"), WINDOW_CASES)
def test_window_attention(
    inp: list[int], layer: object, shape: list[int], params: int, macs: int
) -> None:
    assert counts(inp, layer) == (shape, params, macs)


def test_window_attention_figures_by_hand() -> None:
    # Swin-T, stage 1 at 224, written out: 4*96*96 + 4*96 + 13*13*3 = 37,755 parameters;
    # 3136*96*288 + 2*3136*49*96 + 3136*96*96 MACs
    assert v1_params(96, 3, 7, 7) == 37_755
    assert v1_macs(3136, 49, 96) == 86_704_128 + 29_503_488 + 28_901_376
    # Swin V2: 4*96*96 + 4*96 + 3 + (2*512 + 512) + 512*3 = 40,323; the MLP on 15*15 coordinates
    assert v2_params(96, 3) == 40_323
    assert cpb_macs(8, 8, 3) == 225 * 2_560


WINDOW_REFUSALS = [
    pytest.param(
        [14, 14, 10],
        {"window_attention": {"num_heads": 3, "window": 7}},
        ("not divisible by num_heads 3",),
        id="heads",
    ),
    pytest.param(
        [14, 14, 12],
        {"window_attention": {"num_heads": 3, "window": 7, "dim": 96}},
        ("dim 96 does not match", "permute first"),
        id="dim-in-chw",
    ),
    pytest.param(
        [55, 55, 64],
        {"window_attention": {"num_heads": 2, "window": 7, "pad": False}},
        ("not a multiple of the windows of 7", "pad is false"),
        id="maxvit-indivisible",
    ),
    pytest.param(
        [55, 55, 64],
        {"window_attention": {"num_heads": 2, "window": 7, "partition": "grid", "pad": False}},
        ("not a multiple of the grid of 7",),
        id="maxvit-grid-indivisible",
    ),
    pytest.param(
        [63, 63, 64],
        {"window_attention": {"num_heads": 2, "window": 7, "pad": False, "map_size": 56}},
        ("built for a 56x56 map", "63x63"),
        id="maxvit-built-size",
    ),
    pytest.param(
        [49, 64],
        {"window_attention": {"num_heads": 2, "window": 7}},
        ("needs 2-D data",),
        id="tokens",
    ),
    pytest.param(
        [16, 16, 32],
        {"ShiftedWindowAttentionV2": {"dim": 32, "window": 8, "num_heads": 4, "version": 1}},
        ("Swin V2 class, but version is 1",),
        id="v2-class-version-1",
    ),
]


@pytest.mark.parametrize(("inp", "layer", "fragments"), WINDOW_REFUSALS)
def test_window_attention_refused(inp: list[int], layer: object, fragments: tuple[str]) -> None:
    refused(inp, layer, *fragments)


def test_window_attention_explains_padding_and_windows() -> None:
    spec = {
        "input": [10, 10, 8],
        "framework": TORCH,
        "explain": True,
        "layers": [{"window_attention": {"num_heads": 2, "window": 7, "shift": 3}}],
    }
    notes = "\n".join(analyze(spec).to_dict()["layers"][0]["explain"])
    assert "H: ceil(10 / 7)*7 = 14" in notes
    assert "T = padded_h*padded_w = 14*14 = 196" in notes
    assert "windows = T/N = 196/49 = 4" in notes
    assert "shift 3x3" in notes


# -- patch merging -------------------------------------------------------------------------------

MERGING_CASES = [
    # Swin-T's first merging: 56x56x96 -> 28x28x192; LayerNorm(384) = 768, Linear(384, 192,
    # bias=False) = 73,728; 28*28 positions * 384*192
    pytest.param(
        [56, 56, 96],
        "patch_merging",
        [28, 28, 192],
        2 * 384 + 384 * 192,
        28 * 28 * 384 * 192,
        id="v1",
    ),
    # V2: the Linear, then LayerNorm(192) = 384
    pytest.param(
        [56, 56, 96],
        {"patch_merging": {"version": 2}},
        [28, 28, 192],
        384 * 192 + 2 * 192,
        28 * 28 * 384 * 192,
        id="v2",
    ),
    # odd sizes: _patch_merging_pad pads H 7 -> 8 and W 5 -> 6: 4x3 positions
    pytest.param(
        [7, 5, 8], {"PatchMerging": [8]}, [4, 3, 16], 2 * 32 + 32 * 16, 4 * 3 * 32 * 16, id="odd"
    ),
    pytest.param(
        [1, 1, 8], {"PatchMergingV2": [8]}, [1, 1, 16], 32 * 16 + 2 * 16, 1 * 1 * 32 * 16, id="one"
    ),
]


@pytest.mark.parametrize(("inp", "layer", "shape", "params", "macs"), MERGING_CASES)
def test_patch_merging(
    inp: list[int], layer: object, shape: list[int], params: int, macs: int
) -> None:
    assert counts(inp, layer) == (shape, params, macs)


def test_patch_merging_refused() -> None:
    refused([7, 7, 8], {"patch_merging": {"dim": 16}}, "dim 16 does not match")
    refused([8, 16], "patch_merging", "needs 2-D data")
    refused([4, 4, 8], {"PatchMergingV2": {"version": 1}}, "Swin V2 class")


def test_the_kinds_are_in_the_catalogue() -> None:
    for spelling, name in [
        ("window_attention", "window_attention"),
        ("ShiftedWindowAttention", "window_attention"),
        ("WindowAttention", "window_attention"),
        ("patch_merging", "patch_merging"),
        ("PatchMergingV2", "patch_merging"),
    ]:
        kind = find_kind(spelling)
        assert kind is not None and kind.name == name
    out = CliRunner().invoke(app, ["layers"]).output
    assert "window_attention" in out and "patch_merging" in out
    detail = CliRunner().invoke(app, ["layers", "window_attention"]).output
    for word in ("num_heads", "window", "shift", "version", "partition", "pad", "map_size"):
        assert word in detail


# -- training: what autograd keeps -----------------------------------------------------------------


def saved(inp: list[int], layer: object, batch: int = 1) -> int:
    # a Linear first, so that a gradient flows into the layer as in a network
    spec = {
        "input": inp,
        "framework": TORCH,
        "batch": batch,
        "layers": [{"Linear": [inp[-1], inp[-1]]}, layer],
    }
    model = read_model(spec)
    model = model._replace(settings=model.settings._replace(train=Optimizer.ADAM))
    report = run(model)
    return report.layers[1].saved_bytes or 0


@pytest.mark.parametrize(
    ("inp", "layer", "batch", "expected"),
    [
        # recorded from PyTorch 2.13 (CPU, training mode) with saved_tensors_hooks on
        # torchvision's modules, float32, the input a leaf: ShiftedWindowAttention(8, [7, 7],
        # [3, 3], 2) on 14x14 (T = 196, 4 windows): the padded copy, q scaled, k and v copies,
        # proj's input (5 * 196 * 8) and the softmax (2 * 4 * 49 * 49), float32
        ([14, 14, 8], {"ShiftedWindowAttention": [8, 7, 3, 2]}, 1, 108_192),
        # one window of one sample: k and v are views of the qkv output (3TC), not copies
        ([7, 7, 8], {"ShiftedWindowAttention": [8, 7, 0, 2]}, 1, 28_616),
        # V2 on 14x14: + the cpb MLP's hidden layer (13*13*512) and sigmoid (2*49*49) once
        ([14, 14, 8], {"ShiftedWindowAttentionV2": [8, 7, 3, 2]}, 1, 575_440),
        # one head: k and v are views of the qkv output whatever the windows (6x4 padded to 6x5)
        (
            [6, 4, 3],
            {"window_attention": {"num_heads": 1, "window": "2x5", "shift": "0x1"}},
            1,
            3_360,
        ),
        # two samples: per sample as above, the cpb MLP's tensors once
        ([7, 7, 8], {"ShiftedWindowAttentionV2": [8, 7, 0, 2]}, 2, 470_384),
        ([7, 7, 8], {"ShiftedWindowAttention": [8, 7, 0, 2]}, 2, 54_096),
        # MaxViT's RelativePositionalMultiHeadAttention(64, 32, 49) on (1, 4, 49, 64): its
        # input (no padded copy), k scaled, q and v copies, merge's input, the softmax
        (
            [14, 14, 64],
            {"window_attention": {"num_heads": 2, "window": 7, "pad": False}},
            1,
            327_712,
        ),
        # PatchMerging(4) on 8x8: the concatenation and the LayerNorm's output (16 * 16 each),
        # and a mean and inverse deviation per position
        ([8, 8, 4], {"PatchMerging": [4]}, 1, 2_176),
        ([8, 8, 4], {"PatchMergingV2": [4]}, 2, 3_328),
    ],
)
def test_saved_for_the_backward(inp: list[int], layer: object, batch: int, expected: int) -> None:
    assert saved(inp, layer, batch) == expected


# -- the networks ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "name", "params"),
    [
        # torchvision's published num_params (the weights' meta)
        ("swin.yaml", "swin_t", 28_288_354),
        ("swin.yaml", "swin_s", 49_606_258),
        ("swin.yaml", "swin_b", 87_768_224),
        ("swin.yaml", "swin_v2_t", 28_351_570),
        ("swin.yaml", "swin_v2_s", 49_737_442),
        ("swin.yaml", "swin_v2_b", 87_930_848),
        ("maxvit.yaml", "maxvit_t", 30_919_624),
        ("vit.yaml", "vit_b_16", 86_567_656),
        ("vit.yaml", "vit_h_14", 632_045_800),
    ],
)
def test_published_parameters(file: str, name: str, params: int) -> None:
    report = analyze(member_model(name, read_family(file)[1])).to_dict()
    assert report["totals"]["params"] == params
    assert report["output_shape"] == [1000]


def test_built_sizes_are_enforced() -> None:
    vit = member_model("vit_b_16", read_family("vit.yaml")[1])
    with pytest.raises(ConvCalcError, match="conv_proj"):
        analyze({**vit, "input": [3, 232, 232]})  # 14 patches, but not the 224 it is built for
    maxvit = member_model("maxvit_t", read_family("maxvit.yaml")[1])
    with pytest.raises(ConvCalcError, match="built for a 56x56 map"):
        analyze({**maxvit, "input": [3, 256, 256]})
    # 221 to 224 make the same maps (ceil(221 / 4) = 56), which torchvision runs
    assert analyze({**maxvit, "input": [3, 221, 221]}).to_dict()["output_shape"] == [1000]


def test_every_formula_compiles_and_the_version_reads() -> None:
    from convcalc import _kinds_windows
    from convcalc._formula import Formula
    from convcalc._values import Invalid

    formulas = [f for f in vars(_kinds_windows).values() if isinstance(f, Formula)]
    assert formulas
    for formula in formulas:
        formula.check()
    version = _kinds_windows.Version()
    assert [version.parse(raw, 2) for raw in (1, 2, "2", "v1", "V2")] == [1, 2, 2, 1, 2]
    for raw in (3, "v3", True, "two"):
        with pytest.raises(Invalid):
            version.parse(raw, 2)
