"""``convcalc solve``: every kernel, stride, padding and dilation that maps IN to OUT.

Hand-worked examples first; then the solver against convcalc's own engine, candidate by
candidate over the whole default search (and past it, to show that nothing the frameworks
accept is left out but what the search documents); then the combinations of axes, the
refusals, the bounds and the formats.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import time
from collections.abc import Iterator

import pytest

from convcalc import ConvCalcError, analyze
from convcalc._catalogue import find_kind
from convcalc._errors import SpecError
from convcalc._kind import Call
from convcalc._layer import read_values
from convcalc._render._solve import CSV_HEADER, print_solutions, render_solutions, table_lines
from convcalc._settings import Framework, Layout, OutputFormat, Settings
from convcalc._solve import (
    MAX_CANDIDATES,
    AxisSolution,
    Bounds,
    Layer,
    Solutions,
    axis_key,
    kind_name,
    parse_layer,
    parse_range,
    parse_sizes,
    solve,
)

KERAS, PYTORCH = Framework.KERAS, Framework.PYTORCH
FRAMEWORKS = (KERAS, PYTORCH)


def rows(found: Solutions) -> list[tuple[object, ...]]:
    """Each solution as (kernel, stride, padding, dilation, output_padding), one value each
    (the problem being the same on every axis)."""
    assert not found.per_axis
    return [tuple(row.axes[0]) for row in found.solutions]


# -- hand-worked examples --------------------------------------------------------------------------


def test_pytorch_224_to_112_with_kernel_3() -> None:
    # floor((224 + 2p - 3) / s) + 1 = 112: s = 2 and 221 + 2p in [222, 223], so p = 1
    found = solve(224, 112, "conv", "pytorch", {"kernel": 3})
    assert rows(found)[0] == (3, 2, 1, 1, None)
    assert (3, 2, 2, 2, None) in rows(found)  # dilation 2: span 5, p = 2
    assert all(row[1] == 2 for row in rows(found))
    assert found.total == len(found.solutions) == 4


def test_pytorch_224_to_112_simplest_first() -> None:
    found = solve("224x224", "112x112", "Conv2d", "pytorch")
    listed = rows(found)
    assert listed[:4] == [
        (1, 2, "valid", 1, None),
        (2, 2, "valid", 1, None),
        (3, 2, 1, 1, None),
        (4, 2, 1, 1, None),
    ]
    assert listed == sorted(listed, key=lambda row: axis_key(AxisSolution(*row)))
    # undilated first: every dilated solution comes after every undilated one
    dilated = [row[3] != 1 for row in listed]
    assert dilated == sorted(dilated)
    assert not any(row[2] == "same" for row in listed)  # pytorch: same only with stride 1


def test_keras_same_stride_2() -> None:
    found = solve("224x224", "112x112", "conv", "keras", {"kernel": 3, "stride": 2})
    # same first (named before zeros); ceil(224 / 2) = 112; valid gives 111
    assert rows(found) == [(3, 2, "same", 1, None), (3, 2, 1, 1, None)]
    assert any("ZeroPadding2D" in note for note in found.notes)


def test_keras_causal_only_in_one_dimension() -> None:
    one = solve(100, 100, "conv", "keras", {"kernel": 3})
    assert (3, 1, "causal", 1, None) in rows(one)
    two = solve("100x100", "100x100", "conv", "keras", {"kernel": 3})
    assert not any(row[2] == "causal" for row in rows(two))
    torch = solve(100, 100, "conv", "pytorch", {"kernel": 3})
    assert not any(row[2] == "causal" for row in rows(torch))
    assert (3, 1, "same", 1, None) in rows(torch)  # stride 1: pytorch has same


def test_keras_transposed_7_to_14_same_without_output_padding() -> None:
    found = solve(7, 14, "conv_transpose", "keras", {"padding": "same"}, explain=True)
    assert (3, 2, "same", 1, None) in rows(found)
    assert rows(found)[0] == (1, 2, "same", 1, None)
    first = found.solutions[0].explain
    assert "out = in*stride = 7*2 = 14 (keras same)" in "\n".join(first)


def test_keras_transposed_output_padding_unset_is_not_zero() -> None:
    # kernel 1, stride 2, valid: unset gives (7-1)*2 + max(1, 2) = 14; 0 gives 12 + 1 = 13
    given = {"kernel": 1, "stride": 2, "padding": "valid"}
    assert rows(solve(7, 14, "deconv", "keras", given)) == [
        (1, 2, "valid", 1, None),
        (1, 2, "valid", 1, 1),
    ]
    assert rows(solve(7, 13, "deconv", "keras", given)) == [(1, 2, "valid", 1, 0)]
    unset = solve(7, 14, "deconv", "keras", {**given, "output_padding": "none"})
    assert rows(unset) == [(1, 2, "valid", 1, None)]
    assert unset.to_dict()["fixed"] == {**given, "output_padding": None}
    # None is "not given", as an option left out: searched
    assert solve(7, 14, "deconv", "keras", {**given, "output_padding": None}).total == 2


def test_pytorch_conv_transpose_7_to_14() -> None:
    # (7-1)*2 - 2*1 + (4-1) + 0 + 1 = 14
    found = solve("7x7", "14x14", "ConvTranspose2d", "pytorch", {"kernel": 4}, explain=True)
    assert found.kind == "conv2d_transpose"
    assert rows(found)[0] == (4, 2, 1, 1, 0)
    text = "\n".join(found.solutions[0].explain)
    assert "(7-1)*2 - 2 + 1*(4-1) + 0 + 1 = 14" in text
    assert "padding 1 (pad_total 2), output_padding 0" in text


def test_pytorch_pool_ceil_mode() -> None:
    # GoogLeNet's MaxPool2d(3, 2, ceil_mode=True): 112 -> 56; floor mode gives 55 there
    given: dict[str, object] = {"kernel": 3, "stride": 2, "dilation": 1}
    assert rows(solve(112, 56, "maxpool", "pytorch", given)) == [(3, 2, 1, 1, None)]
    ceil = solve(112, 56, "maxpool", "pytorch", {**given, "ceil_mode": True}, explain=True)
    assert rows(ceil) == [(3, 2, 0, 1, None)]
    assert ceil.to_dict()["ceil_mode"] is True
    assert any("inside the input: kept" in line for line in ceil.solutions[0].explain)


def test_pytorch_pool_padding_at_most_half_the_kernel() -> None:
    found = solve(112, 56, "maxpool", "pytorch")
    assert all(2 * row[2] <= row[0] for row in rows(found) if isinstance(row[2], int))
    assert not any(isinstance(row[2], str) for row in rows(found))


def test_explain_says_why_a_padding_works() -> None:
    found = solve(224, 112, "conv", "pytorch", {"kernel": 3, "stride": 2}, explain=True)
    lines = found.solutions[0].explain
    assert lines[0] == "L: 224 -> 112"
    text = "\n".join(lines)
    assert "floor((224 + 2 - 1*(3-1) - 1) / 2) + 1 = 112" in text
    assert "in + pad_total - span = 222 to 223" in text
    assert "pad_total = 1 to 2" in text and "p = 1" in text


def test_explain_keras_same_shows_the_padding_keras_adds() -> None:
    found = solve(224, 112, "conv", "keras", {"kernel": 3, "padding": "same"}, explain=True)
    text = "\n".join(found.solutions[0].explain)
    assert "ceil(224 / 2) = 112" in text
    assert "= 1" in text and "0 zeros before, 1 after" in text


# -- against the engine, candidate by candidate ----------------------------------------------------

SETTINGS = {framework: Settings(framework, Layout.HWC) for framework in FRAMEWORKS}


def engine(
    layer: Layer,
    framework: Framework,
    sizes: tuple[int, ...],
    axes: tuple[AxisSolution, ...],
    ceil_mode: bool = False,
) -> tuple[int, ...] | None:
    """The output's spatial sizes by convcalc's engine (its parameter reading and shape rule),
    or None when it refuses the layer."""
    kind = find_kind(kind_name(layer, len(sizes)))
    assert kind is not None
    padding: object = axes[0].padding
    if isinstance(padding, int):
        padding = [axis.padding for axis in axes]
    params: dict[str, object] = {
        "kernel": [axis.kernel for axis in axes],
        "stride": [axis.stride for axis in axes],
        "padding": padding,
    }
    if layer is not Layer.AVGPOOL or any(axis.dilation > 1 for axis in axes):
        params["dilation"] = [axis.dilation for axis in axes]  # avg pools have none: refused
    if layer in (Layer.CONV, Layer.SEPARABLE_CONV, Layer.CONV_TRANSPOSE):
        params["filters"] = 1
    if axes[0].output_padding is not None:
        params["output_padding"] = [axis.output_padding for axis in axes]
    if ceil_mode:
        params["ceil_mode"] = True
    try:
        values, given = read_values(kind, params, "layer 1")
        call = Call(kind, 1, kind.name, values, frozenset(given), (*sizes, 1), SETTINGS[framework])
        return kind.shape(call).output[:-1]
    except ConvCalcError:
        return None


def modes(layer: Layer, framework: Framework, rank: int) -> tuple[str, ...]:
    """The named paddings the search takes, as its docstring says."""
    if layer is Layer.CONV:
        return (
            ("valid", "same", "causal") if framework is KERAS and rank == 1 else ("valid", "same")
        )
    if layer in (Layer.DEPTHWISE_CONV, Layer.SEPARABLE_CONV):
        return ("valid", "same")
    return ("valid", "same") if framework is KERAS else ()


def has_dilation(layer: Layer, framework: Framework) -> bool:
    return layer is not Layer.AVGPOOL and not (layer is Layer.MAXPOOL and framework is KERAS)


def space(layer: Layer, framework: Framework, rank: int) -> Iterator[AxisSolution]:
    """The default search on one axis, written from the documentation, not the solver."""
    keras = framework is KERAS
    named = modes(layer, framework, rank)
    pool = layer in (Layer.MAXPOOL, Layer.AVGPOOL)
    for kernel, stride in itertools.product(range(1, 12), range(1, 5)):
        for dilation in range(1, 5) if has_dilation(layer, framework) else (1,):
            if (
                kernel == 1
                and dilation > 1
                and (layer, framework) != (Layer.CONV_TRANSPOSE, PYTORCH)
            ):
                continue  # pytorch's transposed convs: output_padding may be below the dilation
            reach = dilation * (kernel - 1)
            if pool and not keras:
                reach = min(reach, kernel // 2)
            zeros = list(range(1 if "valid" in named else 0, reach + 1))
            if layer is Layer.CONV_TRANSPOSE and keras:
                zeros = []
            extras: list[int | None] = [None]
            if layer is Layer.CONV_TRANSPOSE:
                extras = [None, *range(stride)] if keras else list(range(max(stride, dilation)))
            for padding in [*named, *zeros]:
                for extra in extras:
                    yield AxisSolution(kernel, stride, padding, dilation, extra)


def wider(layer: Layer, framework: Framework) -> Iterator[AxisSolution]:
    """More than the search: every named padding, zeros past the reach and past PyTorch's
    half-kernel limit, output_padding unset and up to 4 in both frameworks, dilation
    everywhere."""
    for kernel, stride, dilation in itertools.product(range(1, 12), range(1, 5), range(1, 5)):
        reach = dilation * (kernel - 1)
        extras: list[int | None] = [None]
        if layer is Layer.CONV_TRANSPOSE:
            extras = [None, *range(5)]
        for padding in ["valid", "same", "causal", *range(reach + 2)]:
            for extra in extras:
                yield AxisSolution(kernel, stride, padding, dilation, extra)


def canonical(layer: Layer, framework: Framework, rank: int, axis: AxisSolution) -> AxisSolution:
    """The spelling the search lists for a candidate the engine accepts: valid for 0 where the
    framework has valid (0 for valid where it has not), an undilated 1-wide kernel, and
    PyTorch's output_padding 0 for unset."""
    named = modes(layer, framework, rank)
    if axis.padding == 0 and "valid" in named:
        axis = axis._replace(padding="valid")
    if axis.padding == "valid" and "valid" not in named:
        axis = axis._replace(padding=0)
    if axis.kernel == 1 and (layer, framework) != (Layer.CONV_TRANSPOSE, PYTORCH):
        axis = axis._replace(dilation=1)
    if layer is Layer.CONV_TRANSPOSE and framework is PYTORCH and axis.output_padding is None:
        axis = axis._replace(output_padding=0)
    return axis


def in_default_bounds(axis: AxisSolution) -> bool:
    reach = axis.dilation * (axis.kernel - 1)
    return not isinstance(axis.padding, int) or axis.padding <= reach


CASES = [
    # (layer, size in, outputs to solve for)
    (Layer.CONV, 13, range(1, 16)),
    (Layer.CONV, 224, (224, 112, 111, 75, 56, 226)),
    (Layer.DEPTHWISE_CONV, 13, range(1, 16)),
    (Layer.SEPARABLE_CONV, 20, (20, 10, 7)),
    (Layer.MAXPOOL, 13, range(1, 16)),
    (Layer.MAXPOOL, 112, (112, 56, 55, 28)),
    (Layer.AVGPOOL, 13, range(1, 16)),
    (Layer.CONV_TRANSPOSE, 7, (1, 7, 13, 14, 15, 28)),
]


@pytest.mark.parametrize("framework", FRAMEWORKS, ids=lambda f: f.value)
@pytest.mark.parametrize(
    ("layer", "size", "outputs"), CASES, ids=[f"{c[0].value}-{c[1]}" for c in CASES]
)
def test_complete_and_correct_against_the_engine(
    layer: Layer, size: int, outputs: range | tuple[int, ...], framework: Framework
) -> None:
    """Over the whole default search on one axis: a listed solution gives OUT in the engine,
    every candidate the engine maps to OUT is listed, and past the search every candidate
    the engine accepts for OUT is listed in its canonical spelling or lies past the reach."""
    sizes = (size,)
    searched = set(space(layer, framework, 1))
    accepted: dict[int, list[AxisSolution]] = {}  # out -> what the engine maps there
    tried = set()
    for axis in wider(layer, framework):
        tried.add(axis)
        got = engine(layer, framework, sizes, (axis,))
        if got is not None and in_default_bounds(axis):
            accepted.setdefault(got[0], []).append(axis)
    assert searched <= tried
    for out in outputs:
        found = solve(size, out, layer, framework)
        listed = rows(found)
        assert len(listed) == len(set(listed)) == found.total
        there = accepted.get(out, [])
        assert {tuple(axis) for axis in there if axis in searched} == set(listed), out
        spelled = {tuple(canonical(layer, framework, 1, axis)) for axis in there}
        assert spelled == set(listed), out


@pytest.mark.parametrize("framework", FRAMEWORKS, ids=lambda f: f.value)
@pytest.mark.parametrize("layer", [Layer.CONV, Layer.AVGPOOL, Layer.MAXPOOL])
def test_three_axes_against_the_engine(layer: Layer, framework: Framework) -> None:
    """The same on three equal axes (avg_pool3d's unpadded-input check, no causal)."""
    sizes = (6, 6, 6)
    outputs: dict[tuple[int, ...] | None, set[tuple[object, ...]]] = {}
    for axis in space(layer, framework, 3):
        got = engine(layer, framework, sizes, (axis,) * 3)
        outputs.setdefault(got, set()).add(tuple(axis))
    for out in (1, 2, 3, 6):
        found = solve(sizes, out, layer, framework)
        assert set(rows(found)) == outputs.get((out,) * 3, set())


def test_ceil_mode_against_the_engine() -> None:
    for size, out in ((112, 56), (13, 7), (10, 4)):
        found = solve(size, out, "maxpool", "pytorch", {"ceil_mode": True})
        listed = set(rows(found))
        for axis in space(Layer.MAXPOOL, PYTORCH, 1):
            got = engine(Layer.MAXPOOL, PYTORCH, (size,), (axis,), ceil_mode=True)
            assert (got == (out,)) == (tuple(axis) in listed), (size, out, axis)


def test_the_engine_helper_agrees_with_analyze() -> None:
    """The shortcut above (reading values, calling the shape rule) is what analyze does."""
    samples = [
        (Layer.CONV, PYTORCH, AxisSolution(3, 2, 1, 1, None)),
        (Layer.CONV, KERAS, AxisSolution(3, 2, "same", 1, None)),
        (Layer.CONV, KERAS, AxisSolution(3, 2, 1, 2, None)),  # refused: stride with dilation
        (Layer.MAXPOOL, PYTORCH, AxisSolution(3, 2, 2, 1, None)),  # refused: over half
        (Layer.CONV_TRANSPOSE, KERAS, AxisSolution(3, 2, "valid", 1, None)),
        (Layer.CONV_TRANSPOSE, KERAS, AxisSolution(3, 2, "valid", 1, 1)),
        (Layer.CONV_TRANSPOSE, PYTORCH, AxisSolution(4, 2, 1, 1, 0)),
        (Layer.CONV_TRANSPOSE, PYTORCH, AxisSolution(4, 1, 1, 3, 2)),
    ]
    for layer, framework, axis in samples:
        shortcut = engine(layer, framework, (9, 9), (axis, axis))
        params = {
            "kernel": axis.kernel,
            "stride": axis.stride,
            "padding": axis.padding,
            "dilation": axis.dilation,
        }
        if layer is not Layer.MAXPOOL:
            params["filters"] = 1
        if axis.output_padding is not None:
            params["output_padding"] = axis.output_padding
        spec = {
            "input": [9, 9, 1],
            "framework": framework.value,
            "layout": "hwc",
            "layers": [{kind_name(layer, 2): params}],
        }
        try:
            output: tuple[int, ...] | None = analyze(spec).layers[0].output_shape[:-1]
        except ConvCalcError:
            output = None
        assert shortcut == output, (layer, framework, axis)


# -- axes that differ ------------------------------------------------------------------------------

SMALL = Bounds(kernel=(1, 4), stride=(1, 3), dilation=(1, 2))


SMALLER = Bounds(kernel=(1, 3), stride=(1, 2), dilation=(1, 2))


def small_space(layer: Layer, framework: Framework, bounds: Bounds) -> list[AxisSolution]:
    return [
        axis
        for axis in space(layer, framework, 2)
        if axis.kernel <= bounds.kernel[1]
        and axis.stride <= bounds.stride[1]
        and axis.dilation <= bounds.dilation[1]
    ]


@pytest.mark.parametrize("framework", FRAMEWORKS, ids=lambda f: f.value)
@pytest.mark.parametrize(
    ("layer", "sizes", "out", "bounds"),
    [
        (Layer.CONV, (9, 7), (5, 4), SMALL),
        (Layer.CONV, (9, 7), (9, 7), SMALL),
        (Layer.MAXPOOL, (9, 7), (4, 3), SMALL),
        (Layer.CONV_TRANSPOSE, (4, 3), (8, 6), SMALLER),
    ],
)
def test_combined_axes_against_the_engine(
    layer: Layer,
    sizes: tuple[int, int],
    out: tuple[int, int],
    bounds: Bounds,
    framework: Framework,
) -> None:
    """Every pair of per-axis candidates that one layer can spell (one named padding, or zeros
    on each axis; output_padding unset on both or neither): the engine's answers for OUT are
    exactly the solutions listed, with the count, the per-parameter differences and order."""
    found = solve(sizes, out, layer, framework, bounds=bounds)
    assert found.per_axis and found.complete
    listed = [row.axes for row in found.solutions]
    assert len(listed) == len(set(listed)) == found.total
    candidates = small_space(layer, framework, bounds)
    expected = set()
    for pair in itertools.product(candidates, repeat=2):
        named = {axis.padding for axis in pair if isinstance(axis.padding, str)}
        if named and (
            len(named) > 1 or isinstance(pair[1].padding, int) != isinstance(pair[0].padding, int)
        ):
            continue  # no layer spells these
        if (pair[0].output_padding is None) != (pair[1].output_padding is None):
            continue
        if engine(layer, framework, sizes, pair) == out:
            expected.add(pair)
    assert set(listed) == expected
    differing = [row.differing for row in found.solutions]
    assert differing == sorted(differing)
    for row in found.solutions:
        assert row.differing == sum(
            len(set(row.values(name))) > 1
            for name in ("kernel", "stride", "padding", "dilation", "output_padding")
        )


def test_keras_stride_and_dilation_across_axes() -> None:
    """Keras refuses stride 2 on one axis with dilation 2 on the other; PyTorch allows it."""
    keras = solve((9, 7), (5, 3), "conv", "keras", {"kernel": 3}, bounds=SMALL)
    for row in keras.solutions:
        assert not (max(row.stride) > 1 and max(row.dilation) > 1)
    torch = solve((9, 7), (5, 3), "conv", "pytorch", {"kernel": 3}, bounds=SMALL)
    assert any(max(row.stride) > 1 and max(row.dilation) > 1 for row in torch.solutions)


def test_same_values_on_every_axis_come_first() -> None:
    found = solve("224x160", "112x80", "conv", "pytorch")
    first = found.solutions[0]
    assert first.differing == 0 and first.kernel == (1, 1)
    data = found.to_dict()
    assert data["per_axis"] is True
    solutions = data["solutions"]
    assert isinstance(solutions, list)
    assert solutions[2] == {
        "kernel": [3, 3],
        "stride": [2, 2],
        "padding": [1, 1],
        "dilation": [1, 1],
        "output_padding": None,
    }


def test_one_axis_downsampled() -> None:
    found = solve("224x160", "112x160", "conv", "pytorch", {"kernel": 3})
    first = found.solutions[0]
    assert first.differing == 1  # the stride alone: 2x1, padding 1 on both
    assert (first.kernel, first.stride, first.padding) == ((3, 3), (2, 1), (1, 1))


def test_large_products_are_counted_and_listed_by_groups() -> None:
    started = time.perf_counter()
    found = solve("7x9x11", "14x18x22", "conv_transpose", "pytorch")
    assert time.perf_counter() - started < 1.0
    assert not found.complete and found.total > len(found.solutions) > 0
    assert any("too many to sort" in note for note in found.notes)
    groups = [row.differing for row in found.solutions]
    assert groups == sorted(groups) and groups[0] == 0


def test_limit() -> None:
    found = solve("224x160", "112x80", "conv", "pytorch", limit=5)
    assert len(found.solutions) == 5 and found.total > 5
    assert any("(the limit)" in note for note in found.notes)
    assert [row.differing for row in found.solutions] == [0] * 5
    equal = solve(224, 112, "conv", "pytorch", limit=3)
    assert len(equal.solutions) == 3 and equal.total == 41


# -- refusals: the engine's own --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layer", "framework", "given", "words"),
    [
        ("conv", "pytorch", {"padding": "same", "stride": 2}, "same only with stride 1"),
        ("maxpool", "pytorch", {"kernel": 3, "padding": 2}, "more than half the pool size 3"),
        ("maxpool", "pytorch", {"padding": "same"}, "padding same"),
        ("maxpool", "keras", {"dilation": 2}, "keras pools have no dilation"),
        ("avgpool", "pytorch", {"dilation": 2}, "an average pool has no dilation"),
        ("maxpool", "keras", {"ceil_mode": True}, "ceil_mode is pytorch's"),
        ("conv", "pytorch", {"ceil_mode": True}, "for pools only"),
        ("conv", "pytorch", {"padding": "causal"}, "causal is keras only"),
        ("conv", "keras", {"stride": 2, "dilation": 2}, "keras does not allow stride 2"),
        ("conv_transpose", "keras", {"stride": 2, "dilation": 2}, "keras does not allow"),
        ("conv", "keras", {"output_padding": 1}, "output_padding is a transposed conv's"),
        ("conv_transpose", "keras", {"padding": 1}, "takes padding valid or same"),
        ("conv_transpose", "pytorch", {"padding": "same"}, "ConvTranspose takes padding"),
        ("conv_transpose", "keras", {"stride": 2, "output_padding": 2}, "output_padding < stride"),
        (
            "conv_transpose",
            "pytorch",
            {"stride": 2, "dilation": 2, "output_padding": 2},
            "smaller than either: use 1 or less",
        ),
    ],
)
def test_refusals(layer: str, framework: str, given: dict[str, object], words: str) -> None:
    with pytest.raises(SpecError, match=words):
        solve(64, 32, layer, framework, given)


def test_causal_refused_in_two_dimensions() -> None:
    with pytest.raises(SpecError, match="1-D convs"):
        solve("64x64", "64x64", "conv", "keras", {"padding": "causal"})


@pytest.mark.parametrize(
    ("layer", "framework", "params"),
    [
        ("conv1d", "pytorch", {"filters": 1, "kernel": 3, "stride": 2, "padding": "same"}),
        ("maxpool1d", "pytorch", {"size": 3, "padding": 2}),
        ("maxpool1d", "keras", {"size": 3, "dilation": 2}),
        ("conv1d", "keras", {"filters": 1, "kernel": 3, "stride": 2, "dilation": 2}),
        ("conv1d", "pytorch", {"filters": 1, "kernel": 3, "padding": "causal"}),
        ("conv1d_transpose", "keras", {"filters": 1, "kernel": 3, "padding": 1}),
        (
            "conv1d_transpose",
            "pytorch",
            {"filters": 1, "kernel": 3, "stride": 2, "dilation": 2, "output_padding": 2},
        ),
        (
            "conv1d_transpose",
            "keras",
            {"filters": 1, "kernel": 3, "stride": 2, "output_padding": 2},
        ),
    ],
)
def test_the_engine_refuses_the_same(layer: str, framework: str, params: dict[str, object]) -> None:
    """Each refusal above is the engine's: the layer fails there too."""
    with pytest.raises(ConvCalcError):
        analyze(
            {"input": [64, 1], "framework": framework, "layout": "hwc", "layers": [{layer: params}]}
        )


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: solve("224x160", "112x80x40", "conv"), "different numbers of axes"),
        (lambda: solve("1x2x3x4", 1, "conv"), "1 to 3 spatial sizes"),
        (lambda: solve("0", 1, "conv"), "positive integers"),
        (lambda: solve(8, 4, "convv"), "did you mean 'conv'"),
        (lambda: solve(8, 4, "conv", "tensorflow"), "keras or pytorch"),
        (lambda: solve(8, 4, "conv", "keras", {"kernal": 3}), "did you mean 'kernel'"),
        (lambda: solve(8, 4, "conv", "keras", {"padding": "((1, 2),)"}), "both sides"),
        (lambda: solve("8x8", 4, "conv1d"), "takes 1 spatial axis"),
        (lambda: solve("8x8x8", 4, "depthwise_conv"), "no 3-D form"),
        (lambda: solve(8, 4, "conv", "keras", {"kernel": "3x3"}), "1 spatial axis"),
        (lambda: solve(8, 4, "conv", "keras", {"ceil_mode": "maybe"}), "true or false"),
        (lambda: solve(8, 4, "conv", limit=0), "positive number"),
    ],
)
def test_input_errors(call: object, words: str) -> None:
    assert callable(call)
    with pytest.raises(SpecError, match=words):
        call()


def test_layer_names() -> None:
    assert parse_layer("Conv2D") == (Layer.CONV, 2)
    assert parse_layer("pool") == (Layer.MAXPOOL, None)
    assert parse_layer("MaxPool1d") == (Layer.MAXPOOL, 1)
    assert parse_layer("AveragePooling3D") == (Layer.AVGPOOL, 3)
    assert parse_layer("ConvTranspose3d") == (Layer.CONV_TRANSPOSE, 3)
    assert parse_layer("deconv") == (Layer.CONV_TRANSPOSE, None)
    assert parse_layer("dwconv") == (Layer.DEPTHWISE_CONV, None)
    assert parse_layer("SeparableConv1D") == (Layer.SEPARABLE_CONV, 1)
    with pytest.raises(SpecError):
        parse_layer("dense")


# -- bounds ----------------------------------------------------------------------------------------


def test_bounds_narrow_and_widen_the_search() -> None:
    narrow = solve(224, 112, "conv", "pytorch", bounds=Bounds(kernel=(3, 3), dilation=(1, 1)))
    assert rows(narrow) == [(3, 2, 1, 1, None)]
    wide = solve(224, 112, "conv", "pytorch", {"dilation": 1}, bounds=Bounds(kernel=(13, 13)))
    assert rows(wide) == [(13, 2, 6, 1, None)]
    padded = solve(8, 10, "conv", "pytorch", {"kernel": 1}, bounds=Bounds(padding=(0, 2)))
    assert rows(padded) == [(1, 1, 1, 1, None)]  # past the reach (0) because asked for
    none = solve(8, 10, "conv", "pytorch", {"kernel": 1})
    assert none.total == 0 and any("conv_transpose" in note for note in none.notes)


def test_valid_only_when_zero_is_in_the_padding_range() -> None:
    found = solve(8, 6, "conv", "keras", {"kernel": 3}, bounds=Bounds(padding=(1, 3)))
    assert not any(row[2] == "valid" for row in rows(found))


def test_absurd_bounds_are_refused_quickly() -> None:
    started = time.perf_counter()
    with pytest.raises(SpecError, match="narrow the kernel"):
        solve(224, 112, "conv", "pytorch", bounds=Bounds(kernel=(1, 500), dilation=(1, 50)))
    with pytest.raises(SpecError, match="narrow"):
        solve(224, 112, "conv", "pytorch", {"kernel": 100_000})
    assert time.perf_counter() - started < 0.1


@pytest.mark.parametrize(
    ("bounds", "words"),
    [
        (Bounds(kernel=(0, 3)), "starts at 0"),
        (Bounds(stride=(4, 2)), "is empty"),
        (Bounds(dilation=(1, 10**9)), "too large"),
        (Bounds(padding=(-1, 2)), "starts at -1"),
    ],
)
def test_bad_bounds(bounds: Bounds, words: str) -> None:
    with pytest.raises(SpecError, match=words):
        solve(8, 4, "conv", bounds=bounds)


def test_parse_range_and_sizes() -> None:
    assert parse_range("1-11", "--kernels") == (1, 11)
    assert parse_range("2..5", "--kernels") == (2, 5)
    assert parse_range("7", "--kernels") == (1, 7)
    assert parse_range("7", "--paddings", smallest=0) == (0, 7)
    with pytest.raises(SpecError, match="LOW-HIGH"):
        parse_range("a-b", "--kernels")
    assert parse_sizes("224x160", "the input") == (224, 160)
    assert parse_sizes(224, "the input") == (224,)


def test_a_wide_search_within_the_limit_stays_fast() -> None:
    bounds = Bounds(kernel=(1, 25), stride=(1, 8), dilation=(1, 8))
    started = time.perf_counter()
    found = solve(224, 112, "conv", "pytorch", bounds=bounds)
    assert time.perf_counter() - started < 1.0
    assert found.searched <= MAX_CANDIDATES
    assert found.total > 41


def test_default_searches_are_fast() -> None:
    started = time.perf_counter()
    for framework in FRAMEWORKS:
        for layer in Layer:
            sizes = ("224x160", "112x80") if layer is not Layer.CONV_TRANSPOSE else ("7x5", "14x10")
            solve(*sizes, layer, framework)
    assert time.perf_counter() - started < 1.5


# -- formats ---------------------------------------------------------------------------------------


def test_table_fits_80_columns() -> None:
    found = solve("224x160x96", "112x80x48", "conv", "pytorch", {"kernel": 3}, explain=True)
    lines = list(table_lines(found, width=80))
    assert max(map(len, lines)) <= 80
    assert lines[0] == "conv3d · pytorch · 224x160x96 -> 112x80x48"
    assert "the same on every axis:" in lines
    assert "Working" in lines


def test_table_for_transposed_convs_has_output_padding() -> None:
    found = solve(7, 14, "conv_transpose", "keras", {"kernel": 3})
    text = render_solutions(found, OutputFormat.TABLE, width=80)
    header = next(line for line in text.splitlines() if line.startswith("#"))
    assert header.split() == ["#", "kernel", "stride", "padding", "dilation", "output_padding"]
    assert "unset" in text and text.endswith("\n")
    narrow = render_solutions(found, OutputFormat.TABLE, width=40)
    assert max(map(len, narrow.splitlines())) <= 40


def test_table_without_solutions() -> None:
    found = solve(8, 100, "conv", "pytorch")
    text = render_solutions(found, OutputFormat.TABLE, width=80)
    assert "no solution" in text and "#" not in text


def test_json_shape() -> None:
    found = solve(224, 112, "conv", "pytorch", {"kernel": 3}, explain=True)
    data = json.loads(render_solutions(found, OutputFormat.JSON))
    assert data["type"] == "conv1d" and data["framework"] == "pytorch"
    assert data["input"] == [224] and data["output"] == [112]
    assert data["fixed"] == {"kernel": 3}
    assert data["bounds"] == {
        "kernel": [1, 11],
        "stride": [1, 4],
        "dilation": [1, 4],
        "padding": None,
    }
    assert data["total"] == data["count"] == 4 and data["complete"] is True
    first = data["solutions"][0]
    assert {key: first[key] for key in first if key != "explain"} == {
        "kernel": 3,
        "stride": 2,
        "padding": 1,
        "dilation": 1,
        "output_padding": None,
    }
    assert first["explain"][0] == "L: 224 -> 112"
    two = json.loads(render_solutions(solve("8x6", "4x3", "conv", "keras"), OutputFormat.JSON))
    assert two["solutions"][0]["kernel"] == [1, 1]
    assert two["solutions"][0]["padding"] == "valid"


def test_csv() -> None:
    found = solve("224x160", "112x160", "conv", "pytorch", {"kernel": 3})
    table = list(csv.reader(io.StringIO(render_solutions(found, OutputFormat.CSV))))
    assert tuple(table[0]) == CSV_HEADER
    assert table[1] == ["1", "3", "2x1", "1", "1", "", "1"]
    assert len(table) == found.total + 1


def test_markdown() -> None:
    found = solve(7, 14, "conv_transpose", "pytorch", {"kernel": 4, "stride": 2}, explain=True)
    text = render_solutions(found, OutputFormat.MARKDOWN)
    assert text.startswith("**conv1d_transpose** · pytorch · 7 -> 14")
    assert "| 1 | 4 | 2 | 1 | 1 | 0 |" in text
    assert "### Working" in text and "```text" in text


def test_print_solutions_fits_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    out = io.StringIO()
    print_solutions(solve("224x160", "112x80", "conv", "keras", explain=True, limit=3), out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "conv2d · keras · 224x160 -> 112x80"
    assert max(map(len, lines)) <= 60


# -- the command ------------------------------------------------------------------------------
def _cli(*args: str) -> tuple[int, str, str]:
    from typer.testing import CliRunner

    from convcalc._cli import app

    outcome = CliRunner().invoke(app, list(args))
    return outcome.exit_code, outcome.stdout, outcome.stderr


def test_the_command_gives_json() -> None:
    # PyTorch: floor((224 + 2*1 - 1*(3-1) - 1) / 2) + 1 = 112
    code, out, err = _cli(
        "solve",
        "224x224",
        "--out",
        "112x112",
        "--kernel",
        "3",
        "--framework",
        "pytorch",
        "-f",
        "json",
    )
    assert code == 0, err
    first = json.loads(out)["solutions"][0]
    assert (first["kernel"], first["stride"], first["padding"], first["dilation"]) == (3, 2, 1, 1)


def test_the_command_refuses_bad_input() -> None:
    code, out, err = _cli("solve", "22a", "--out", "112")
    assert code == 2 and out == "" and err.startswith("Error: ")
    code, out, err = _cli("solve", "224", "--out", "112", "--kernels", "9-1")
    assert code == 2 and out == "" and err.startswith("Error: ")


def test_the_command_completes_its_types() -> None:
    from convcalc._cli import _complete_solve_types

    assert "conv_transpose" in _complete_solve_types("conv_t")
