"""``--explain``: each formula in symbols, then with the numbers, every number labelled.

Every expected number here is worked out by hand (in the comments), never copied from the
program's output; the wording is the one ``_formula`` and the kinds write.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convcalc import analyze
from convcalc._formula import LIMIT, Formula

OUT = "out = floor((in + pad_total - dilation*(kernel-1) - 1) / stride) + 1"
MEANING = (
    "RF: size = input pixels one output sees; jump = pixels between outputs; "
    "start = first field's centre"
)
RF = [
    "RF: size = size_in + (kernel-1)*jump_in; jump = jump_in*stride;",
    "    start = start_in + ((kernel-1)/2 - pad_before)*jump_in (kernel: its span, if dilated)",
]


def working(inp: list[int], *layers: object, **options: object) -> list[list[str]]:
    """Each layer's explain lines."""
    report = analyze({"input": inp, "layers": list(layers), "explain": True, **options})
    return [list(row.explain) for row in report.layers]


# -- whole layers, line by line ------------------------------------------------------------------


def test_strided_conv() -> None:
    # 28x28x1, 32 filters of 3x3, stride 2, valid: floor((28 - 2 - 1) / 2) + 1 = 12 + 1 = 13;
    # the last window ends at (13-1)*2 + 3 = 27, so row and column 28 are never read;
    # params (3*3*1 + 1) * 32 = 320; MACs 13*13*32 * 1 * 9 = 48,672; RF 1 + 2*1 = 3, jump 2,
    # start 0.5 + 1*1 = 1.5.
    (lines,) = working([28, 28, 1], {"conv2d": {"filters": 32, "kernel": 3, "stride": 2}})
    assert lines == [
        OUT,
        "H: floor((28 + 0 - 1*(3-1) - 1) / 2) + 1 = 13",
        "H: the last 1 row is never read: end = (out-1)*stride + kernel = (13-1)*2 + 3 = 27 < 28",
        "W: floor((28 + 0 - 1*(3-1) - 1) / 2) + 1 = 13",
        "W: the last 1 column is never read: end = (out-1)*stride + kernel = (13-1)*2 + 3 = 27 "
        "< 28",
        "params = (kernel_h*kernel_w*C_in/groups + bias) * filters = (3*3*1/1 + 1) * 32 = 320",
        "MACs = H_out*W_out*filters * C_in/groups * kernel_h*kernel_w = 13*13*32 * 1/1 * 3*3 "
        "= 48,672",
        MEANING,
        *RF,
        "RF H: size = 1 + (3-1)*1 = 3; jump = 1*2 = 2; start = 0.5 + ((3-1)/2 - 0)*1 = 1.5",
        "RF W: size = 1 + (3-1)*1 = 3; jump = 1*2 = 2; start = 0.5 + ((3-1)/2 - 0)*1 = 1.5",
    ]


def test_keras_same_with_stride_2() -> None:
    # 8x16: ceil(8/2) = 4, ceil(16/2) = 8. Padding: (4-1)*2 + 3 - 8 = 1 and (8-1)*2 + 3 - 16 = 1,
    # split 0 before (the smaller half) and 1 after. The last windows end at 0 + 9 >= 8 and
    # 0 + 17 >= 16: everything is read.
    report = analyze(
        {
            "input": [8, 16, 3],
            "layers": [{"conv2d": {"filters": 4, "kernel": 3, "stride": 2, "padding": "same"}}],
            "explain": True,
        }
    )
    assert report.output_shape == (4, 8, 4)
    lines = list(report.layers[0].explain)
    assert lines[:9] == [
        "out = ceil(in / stride) (keras same)",
        "H: ceil(8 / 2) = 4",
        "pad_total = max((out-1)*stride + dilation*(kernel-1) + 1 - in, 0)",
        "H: max((4-1)*2 + 1*(3-1) + 1 - 8, 0) = 1",
        "pad_before = floor(pad_total / 2); pad_after = pad_total - pad_before",
        "H: pad_before = floor(1 / 2) = 0; pad_after = 1 - 0 = 1",
        "W: ceil(16 / 2) = 8",
        "W: max((8-1)*2 + 1*(3-1) + 1 - 16, 0) = 1",
        "W: pad_before = floor(1 / 2) = 0; pad_after = 1 - 0 = 1",
    ]
    assert not any("never read" in line for line in lines)


def test_pytorch_same_stride_1() -> None:
    # dilation 2, kernel 3: 2*(3-1) = 4 zeros, 2 before and 2 after; out = 28 + 4 - 4 - 1 + 1.
    (lines,) = working(
        [3, 28, 28],
        {"conv2d": {"filters": 4, "kernel": 3, "padding": "same", "dilation": 2}},
        framework="pytorch",
    )
    assert "H: 2*(3-1) = 4" in lines
    assert "H: pad_before = floor(4 / 2) = 2; pad_after = 4 - 2 = 2" in lines
    assert "H: floor((28 + 4 - 2*(3-1) - 1) / 1) + 1 = 28" in lines


def test_dilated_conv() -> None:
    # kernel 3, dilation 2: span 2*(3-1) + 1 = 5; out floor((28 - 4 - 1) / 1) + 1 = 24;
    # RF 1 + (5-1)*1 = 5, start 0.5 + (4/2 - 0)*1 = 2.5; the last window ends at 23 + 5 = 28.
    (lines,) = working([28, 28, 1], {"conv2d": {"filters": 8, "kernel": 3, "dilation": 2}})
    assert lines[:4] == [
        "span = dilation*(kernel-1) + 1",
        "H: 2*(3-1) + 1 = 5",
        OUT,
        "H: floor((28 + 0 - 2*(3-1) - 1) / 1) + 1 = 24",
    ]
    assert "RF H: size = 1 + (5-1)*1 = 5; jump = 1*1 = 1; start = 0.5 + ((5-1)/2 - 0)*1 = 2.5" in (
        lines
    )
    assert not any("never read" in line for line in lines)


def test_causal() -> None:
    # causal: 1*(3-1) = 2 zeros before; out floor((10 + 2 - 2 - 1) / 1) + 1 = 10.
    (lines,) = working([10, 2], {"conv1d": {"filters": 4, "kernel": 3, "padding": "causal"}})
    assert lines[:4] == [
        "pad_before = dilation*(kernel-1) (causal: none after)",
        "L: 1*(3-1) = 2",
        OUT,
        "L: floor((10 + 2 - 1*(3-1) - 1) / 1) + 1 = 10",
    ]
    # params (3*2 + 1) * 4 = 28; MACs 10*4 * 2 * 3 = 240
    assert "params = (kernel*C_in/groups + bias) * filters = (3*2/1 + 1) * 4 = 28" in lines
    assert "MACs = L_out*filters * C_in/groups * kernel = 10*4 * 2/1 * 3 = 240" in lines


def test_ceil_mode_drops_a_window_in_the_padding() -> None:
    # 5 + 2 padding, window 2, stride 2: ceil((5 + 2 - 1 - 1) / 2) + 1 = 3 + 1 = 4; window 4
    # would start at (4-1)*2 = 6 >= 1 + 5, in the right padding, so 3.
    (lines,) = working(
        [1, 5, 5],
        {"maxpool2d": {"size": 2, "stride": 2, "padding": 1, "ceil_mode": True}},
        framework="pytorch",
    )
    assert "H: ceil((5 + 2 - 1*(2-1) - 1) / 2) + 1 = 4" in lines
    assert (
        "H: window 4 starts at (out-1)*stride = (4-1)*2 = 6 >= 1 + 5, in the right padding: "
        "dropped, out = 3"
    ) in lines


def test_a_stride_past_the_window_skips_rows() -> None:
    # 1x1, stride 2 on 28 (a ResNet shortcut): windows at 0, 2, ..., 26: 1 row in every 2
    # is skipped, and row 27 too: (14-1)*2 + 1 = 27 < 28.
    (lines,) = working(
        [64, 28, 28], {"conv2d": {"filters": 8, "kernel": 1, "stride": 2}}, framework="pytorch"
    )
    assert "H: kernel 1 < stride 2: 1 row in every 2 lies between windows, never read" in lines
    assert (
        "H: the last 1 row is never read: end = (out-1)*stride + kernel = (14-1)*2 + 1 = 27 < 28"
    ) in lines


def test_pool_has_no_weights() -> None:
    # 26 -> floor((26 - 1 - 1) / 2) + 1 = 13, every row read (12*2 + 2 = 26)
    (pool,) = working([26, 26, 32], {"maxpool2d": 2})
    assert "no weights: a pool takes the max of each window" in pool
    assert "H: floor((26 + 0 - 1*(2-1) - 1) / 2) + 1 = 13" in pool
    (mean,) = working([26, 26, 32], {"avgpool2d": 2})
    assert "no weights: a pool takes the mean of each window" in mean


def test_weightless_kinds_say_why() -> None:
    rows = working([5, 5, 4], "flatten", {"dropout": 0.5}, "relu", {"reshape": [10, 10]})
    # flatten: 5*5*4 = 100
    assert rows[0] == [
        "features = H*W*C = 5*5*4 = 100",
        "no weights: flatten only rearranges its input into one vector",
    ]
    assert rows[1] == [
        "no weights: dropout zeroes random inputs while training; nothing is learned"
    ]
    assert rows[2] == ["no weights: relu is an element-wise function; nothing is learned"]
    assert "no weights: reshape only rearranges the same elements" in rows[3]


def test_dense() -> None:
    # (784 + 1) * 10 = 7,850 parameters; 10 outputs * 784 inputs = 7,840 MACs
    flatten, dense, plain = working(
        [28, 28, 1], "flatten", {"dense": 10}, {"dense": {"units": 3, "bias": False}}
    )
    assert flatten[0] == "features = H*W*C = 28*28*1 = 784"
    assert dense == [
        "params = (in_features + bias) * units = (784 + 1) * 10 = 7,850",
        "MACs = units * in_features = 10 * 784 = 7,840",
    ]
    # no bias: (10 + 0) * 3 = 30
    assert plain[0] == "params = (in_features + bias) * units = (10 + 0) * 3 = 30"


def test_batchnorm_keras() -> None:
    # 4 channels: gamma and beta 2*4 = 8 trainable; moving mean and variance 2*4 = 8 not
    (learned,) = working([7, 7, 4], "batchnorm")
    assert learned == [
        "trainable = (gamma + beta)*C = (1 + 1)*4 = 8 (gamma scales, beta shifts: 1 if learned)",
        "non_trainable = 2*C = 2*4 = 8 (moving mean and variance)",
    ]
    (no_scale,) = working([7, 7, 4], {"batchnorm": {"scale": False}})
    assert no_scale[0].startswith("trainable = (gamma + beta)*C = (0 + 1)*4 = 4")


def test_batchnorm_pytorch() -> None:
    # weight and bias 2*4 = 8 parameters; running mean and variance 2*4 = 8 buffers
    (lines,) = working([4, 7, 7], "batchnorm", framework="pytorch")
    assert lines == [
        "trainable = 2*affine*C = 2*1*4 = 8 (weight and bias)",
        "buffers = 2*track_running_stats*C = 2*1*4 = 8 (running mean and variance, not parameters)",
    ]


def test_layer_and_group_norm() -> None:
    # layernorm over the last 2 axes of 5x5x4: (1 + 1) * 5*4 = 40; groupnorm 2*4 = 8, 4/2 = 2
    layer, group = working([5, 5, 4], {"layernorm": {"axes": 2}}, {"groupnorm": 2})
    assert layer == ["params = (scale + bias) * W*C = (1 + 1) * 5*4 = 40 (per normalised element)"]
    assert group == [
        "C_per_group = C/groups = 4/2 = 2",
        "params = 2*C = 2*4 = 8 (a scale and a shift per channel)",
    ]


def test_depthwise_and_separable() -> None:
    # depthwise on 5x5x4, kernel 3, multiplier 2: 8 channels; (9 + 1) * 4*2 = 80 parameters;
    # 3*3*8 * 9 = 648 MACs. Separable on the 3x3x8 that follows, 7 filters, one position:
    # 9*8 = 72 + 8*7 = 56 + 7 = 135 parameters; 1 * 8 * 9 = 72 + 1 * 8 * 7 = 56 = 128 MACs.
    depthwise, separable = working(
        [5, 5, 4],
        {"depthwise_conv2d": {"kernel": 3, "depth_multiplier": 2}},
        {"separable_conv2d": {"filters": 7, "kernel": 3}},
        layout="hwc",
    )
    assert depthwise[0] == "C_out = C_in*depth_multiplier = 4*2 = 8"
    assert "params = (kernel_h*kernel_w + bias) * C_in*depth_multiplier = (3*3 + 1) * 4*2 = 80" in (
        depthwise
    )
    assert (
        "MACs = H_out*W_out*C_out * kernel_h*kernel_w = 3*3*8 * 3*3 = 648 (one input channel each)"
    ) in depthwise
    assert "depthwise = kernel_h*kernel_w*C_in*depth_multiplier = 3*3*8*1 = 72" in separable
    assert "params = depthwise + pointwise + bias*filters = 72 + 56 + 1*7 = 135" in separable
    assert "MACs = MACs_depthwise + MACs_pointwise = 72 + 56 = 128" in separable


def test_transposed_conv_error_keeps_its_working() -> None:
    # PyTorch: (1-1)*1 - 2 + 1*(2-1) + 0 + 1 = 0
    with pytest.raises(
        ValueError, match=r"would be 0 \(\(1-1\)\*1 - 2 \+ 1\*\(2-1\) \+ 0 \+ 1 = 0\)"
    ):
        analyze(
            {
                "input": [2, 1, 1],
                "framework": "pytorch",
                "layers": [{"conv2d_transpose": {"filters": 2, "kernel": 2, "padding": 1}}],
            }
        )


# -- the receptive field's meaning: once, with the first RF lines ----------------------------------


def test_rf_meaning_once_with_the_first_rf_lines() -> None:
    rows = working(
        [28, 28, 1], "batchnorm", {"conv2d": [8, 3]}, {"maxpool2d": 2}, {"conv2d": [8, 3]}
    )
    assert MEANING not in rows[0]  # no RF lines: batchnorm sees what its input saw
    conv = rows[1]
    assert conv.index(MEANING) == conv.index(RF[0]) - 1
    assert all(MEANING not in lines for lines in rows[2:])
    assert all(RF[0] in lines for lines in rows[1:])


def test_rf_meaning_once_per_path_from_the_input() -> None:
    # Parallel first windows each meet the input's own field: each says it, nothing after.
    block = {"residual": {"layers": [{"conv2d": [3, 3]}], "shortcut": [{"conv2d": [3, 3]}]}}
    rows = working([16, 16, 3], block, {"maxpool2d": 2})
    assert [MEANING in lines for lines in rows] == [True, True, False, False]


def test_no_rf_lines_once_the_field_is_whole() -> None:
    rows = working([8, 8, 1], "flatten", {"dense": 4})
    assert not any(line.startswith("RF") for lines in rows for line in lines)


def test_lines_are_short_plain_text() -> None:
    rows = working(
        [28, 28, 3],
        {"conv2d": {"filters": 16, "kernel": 3, "stride": 2, "padding": "same"}},
        "batchnorm",
        "relu",
        {"maxpool2d": 2},
        {"separable_conv2d": {"filters": 32, "kernel": 3}},
        "flatten",
        {"dense": 10},
    )
    for line in (line for lines in rows for line in lines):
        assert len(line) <= LIMIT and line.isprintable(), line


# -- the formula mechanism -----------------------------------------------------------------------


def test_formula_value_and_text() -> None:
    formula: Formula[int] = Formula("out = floor((in + pad - 1) / stride) + 1", "in pad stride")
    assert formula.fn(28, 2, 2) == 15  # floor(29 / 2) + 1
    assert formula.symbols() == ["out = floor((in + pad - 1) / stride) + 1"]
    assert formula.numbers(28, 2, 2) == "floor((28 + 2 - 1) / 2) + 1"
    assert formula.working(28, 2, 2) == (
        "out = floor((in + pad - 1) / stride) + 1 = floor((28 + 2 - 1) / 2) + 1 = 15"
    )


def test_formula_integer_division_and_signs() -> None:
    # ceil(-7 / 2) = -3 in integers; (3-1)/2 is true division; a negative pad folds its sign
    ceil: Formula[int] = Formula("out = ceil(a / b)", "a b")
    assert ceil.fn(-7, 2) == -3 and ceil.fn(10**20 + 1, 10**20) == 2
    start: Formula[float] = Formula("start = s + ((k-1)/2 - pad)*j", "s k pad j")
    assert start.fn(0.5, 3, -2, 1) == 3.5
    assert start.numbers(0.5, 3, -2, 1) == "0.5 + ((3-1)/2 + 2)*1"


def test_formula_products_and_exact_division() -> None:
    params: Formula[int] = Formula(
        "params = (kernel*C_in//groups + bias) * filters", "*kernel C_in groups bias filters"
    )
    assert params.fn((3, 3), 4, 2, 1, 8) == (9 * 4 // 2 + 1) * 8
    assert params.numbers((3, 3), 4, 2, 1, 8) == "(3*3*4/2 + 1) * 8"


def test_formula_text_is_checked() -> None:
    with pytest.raises(ValueError, match="not an argument"):
        Formula("out = in + typo", "in").check()
    with pytest.raises(ValueError, match="not used"):
        Formula("out = in", "in spare").check()


@pytest.mark.parametrize(
    "module",
    [
        "convcalc._window",
        "convcalc._kinds_window",
        "convcalc._kinds_depthwise",
        "convcalc._kinds_transpose",
        "convcalc._kinds_basic",
        "convcalc._kinds_norm",
        "convcalc._kinds_resize",
    ],
)
def test_every_formula_compiles(module: str) -> None:
    formulas = [f for f in vars(importlib.import_module(module)).values() if isinstance(f, Formula)]
    assert formulas
    for formula in formulas:
        formula.check()


# -- the output size in the working is the output size -----------------------------------------

_SIZE_LINE = re.compile(r"^([LDHW]): (?:floor|ceil)\(.*= ([\d,]+)$")
_UNREAD = re.compile(r"^([LDHW]): the last (\d+) \w+ (?:is|are) never read")


def _sizes(lines: list[str]) -> dict[str, int]:
    found = {}
    for line in lines:
        match = _SIZE_LINE.match(line)
        if match:
            found[match[1]] = int(match[2].replace(",", ""))
    return found


@settings(max_examples=150, deadline=None)
@given(
    framework=st.sampled_from(["keras", "pytorch"]),
    size=st.integers(min_value=1, max_value=80),
    kernel=st.integers(min_value=1, max_value=7),
    stride=st.integers(min_value=1, max_value=5),
    dilation=st.integers(min_value=1, max_value=3),
    padding=st.sampled_from(["valid", "same", 0, 1, 2]),
    pool=st.booleans(),
)
def test_explained_output_size_is_the_output_size(
    framework: str,
    size: int,
    kernel: int,
    stride: int,
    dilation: int,
    padding: Any,
    pool: bool,
) -> None:
    keras = framework == "keras"
    if keras and isinstance(padding, int):
        padding = "valid"
    if (keras and stride > 1) or pool:
        dilation = 1
    if not keras and padding == "same":
        stride = 1
    span = dilation * (kernel - 1) + 1
    if pool:
        if not keras and isinstance(padding, int):
            padding = min(padding, span // 2)
        if not keras and padding == "same":
            padding = 0
        layer: dict[str, Any] = {
            "maxpool1d": {"size": kernel, "stride": stride, "padding": padding}
        }
    else:
        layer = {
            "conv1d": {
                "filters": 2,
                "kernel": kernel,
                "stride": stride,
                "dilation": dilation,
                "padding": padding,
            }
        }
    pads = 2 * padding if isinstance(padding, int) else 0
    size = max(size, span - pads)
    inp = [size, 3] if keras else [3, size]
    report = analyze({"input": inp, "framework": framework, "layers": [layer], "explain": True})
    (row,) = report.layers
    out = row.output_shape[0] if keras else row.output_shape[1]
    lines = list(row.explain)
    assert _sizes(lines) == {"L": out}, lines
    # The unread rows named are those no window reaches: windows start at w*stride - before
    # and reach span - 1 further.
    before = _before(framework, padding, size, kernel, stride, dilation)
    last = (out - 1) * stride + span - 1 - before
    unread = {m[1]: int(m[2]) for m in map(_UNREAD.match, lines) if m}
    assert unread == ({"L": size - 1 - last} if last < size - 1 else {}), lines


def _before(
    framework: str, padding: Any, size: int, kernel: int, stride: int, dilation: int
) -> int:
    """The zeros before the input, worked out independently of convcalc's padding rules."""
    span = dilation * (kernel - 1) + 1
    if isinstance(padding, int):
        return padding
    if padding == "valid":
        return 0
    if framework == "keras":
        out = -(-size // stride)
        return max((out - 1) * stride + span - size, 0) // 2
    return (span - 1) // 2
