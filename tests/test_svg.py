"""The svg format and the layout under it.

The SVG is parsed as XML (it must be well-formed) and read through the attributes every box and
edge carries (``data-name``, ``data-from``, ``data-to``): every row and every source of every
row must be there. Figures shown in boxes are worked out by hand in the comments. The layout is
checked on its own geometry: straight chains, merges aligned with the branch just computed,
long edges beside the boxes and never through them, no crossings in ResNet-50, a UNet and
GoogLeNet. When Chromium is installed, the diagrams are rendered and the screenshots checked
for ink.
"""

from __future__ import annotations

import math
import re
import shutil
import struct
import subprocess
import time
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from convcalc import analyze
from convcalc._cli import app
from convcalc._errors import ConvCalcError
from convcalc._hotspots import hotspots, row_memory
from convcalc._input._zoo import load_zoo, zoo_names
from convcalc._model import read_model, run
from convcalc._render import _layout, _svg, render
from convcalc._render._html import render_html
from convcalc._render._layout import Layout, Spacing, layout
from convcalc._render._svg import render_svg
from convcalc._render._units import safe
from convcalc._report import INPUT_SOURCE, Field, LayerRow, Report, Totals, fold
from convcalc._settings import ColorBy, GroupBy, Optimizer, OutputFormat, Settings, SortBy, View

ROOT = Path(__file__).resolve().parent.parent
UNET = ROOT / "tests" / "data" / "architectures" / "unet_same.yaml"
SVG = "{http://www.w3.org/2000/svg}"
RUNNER = CliRunner()

# The MNIST tutorial's first layers, by hand: conv 32·(3·3·1 + 1) = 320 params and
# 26·26·32·9 = 194,688 MACs; batchnorm 4·32 = 128 params (64 of them moving statistics).
CONV = LayerRow(
    number=1,
    name="conv2d",
    type="conv2d",
    input_shape=(28, 28, 1),
    output_shape=(26, 26, 32),
    trainable_params=320,
    non_trainable_params=0,
    macs=194_688,
    receptive_field=Field(size=(3, 3), jump=(1, 1), start=(1.5, 1.5)),
    sources=(INPUT_SOURCE,),
)
BATCHNORM = CONV._replace(
    number=2,
    name="batchnorm",
    type="batchnorm",
    input_shape=(26, 26, 32),
    trainable_params=64,
    non_trainable_params=64,
    macs=0,
    sources=("conv2d",),
)
FLATTEN = BATCHNORM._replace(
    number=3,
    name="flatten",
    type="flatten",
    output_shape=(21_632,),
    trainable_params=0,
    non_trainable_params=0,
    receptive_field=None,
    sources=("batchnorm",),
)
TINY = Report(
    name="tiny",
    settings=Settings(),
    input_shape=(28, 28, 1),
    output_shape=(21_632,),
    layers=(CONV, BATCHNORM, FLATTEN),
    totals=Totals(448, 384, 64, 194_688, 1_792, 259_584),
)

RESIDUAL = {
    "input": [32, 32, 3],
    "layers": [
        {"conv2d": {"filters": 8, "kernel": 3, "padding": "same", "name": "stem"}},
        {
            "residual": {
                "layers": [
                    {"conv2d": {"filters": 8, "kernel": 3, "padding": "same"}},
                    "relu",
                    {"conv2d": {"filters": 8, "kernel": 3, "padding": "same"}},
                ]
            }
        },
        "flatten",
        {"dense": 10},
    ],
}


# --- reading the SVG ---------------------------------------------------------------------------


def parse(text: str) -> ET.Element:
    """The document's root: parsing fails on anything not well-formed."""
    return ET.fromstring(text.removeprefix('<?xml version="1.0" encoding="UTF-8"?>\n'))


def boxes(root: ET.Element) -> dict[str, ET.Element]:
    found = {}
    for group in root.iter(f"{SVG}g"):
        if "box" in group.get("class", "").split():
            name = group.get("data-name")
            assert name is not None and name not in found
            found[name] = group
    return found


def edges(root: ET.Element) -> list[tuple[str, str]]:
    return [
        (str(path.get("data-from")), str(path.get("data-to")))
        for path in root.iter(f"{SVG}path")
        if "edge" in path.get("class", "").split()
    ]


def box_text(group: ET.Element) -> list[str]:
    return ["".join(text.itertext()) for text in group.iter(f"{SVG}text")]


def frame(group: ET.Element) -> tuple[float, float, float, float]:
    """A box's own rectangle (the last: a folded block's stack is drawn behind it)."""
    rect = list(group.iter(f"{SVG}rect"))[-1]
    return tuple(float(rect.get(key, "0")) for key in ("x", "y", "width", "height"))  # type: ignore[return-value]


def path_end(path: ET.Element) -> tuple[float, float]:
    numbers = re.findall(r"-?\d+(?:\.\d+)?", path.get("d", ""))
    return float(numbers[-2]), float(numbers[-1])


def report_of(source: str | Path, depth: int | None = None) -> Report:
    if isinstance(source, Path):
        spec = yaml.safe_load(source.read_text())
    else:
        spec = load_zoo(source)
    report = analyze(spec)
    return report if depth is None else fold(report, depth)


def assert_complete(report: Report, text: str) -> ET.Element:
    """Every row is a box and every source of every row an edge, named as shown (safe)."""
    root = parse(text)
    shown = boxes(root)
    assert set(shown) == {INPUT_SOURCE} | {safe(row.name) for row in report.layers}
    wanted = sorted((safe(s), safe(row.name)) for row in report.layers for s in row.sources)
    assert sorted(edges(root)) == wanted
    return root


# --- the document ------------------------------------------------------------------------------


def test_tiny_report_is_complete_and_sized_to_its_content() -> None:
    text = render_svg(TINY)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<svg ')
    assert text.endswith("</svg>\n")
    root = assert_complete(TINY, text)
    width, height = float(root.get("width", "0")), float(root.get("height", "0"))
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    rects = [frame(group) for group in boxes(root).values()]
    assert all(x >= 0 and y >= 0 and x + w <= width and y + h <= height for x, y, w, h in rects)
    # sized to the content: the lowest box ends a margin above the bottom, not further
    assert max(y + h for _, y, _, h in rects) == pytest.approx(height - _svg.MARGIN)
    assert "sans-serif" in str(root.get("font-family"))


def test_a_box_shows_name_type_shape_params_and_macs() -> None:
    shown = boxes(parse(render_svg(TINY)))
    assert box_text(shown["conv2d"]) == [
        "conv2d",
        "conv2d · 26x26x32",
        "320 params · 194.69 K MACs",  # 194,688 MACs
    ]
    assert box_text(shown["batchnorm"])[2] == "128 params · 0 MACs"
    assert box_text(shown[INPUT_SOURCE])[:2] == ["input", "28x28x1"]


def fills(report: Report, color_by: ColorBy) -> dict[str, str]:
    shown = boxes(parse(render_svg(report, color_by)))
    return {
        name: str(list(group.iter(f"{SVG}rect"))[-1].get("fill")) for name, group in shown.items()
    }


def test_boxes_are_shaded_by_their_share() -> None:
    macs = fills(TINY, ColorBy.MACS)
    # the conv has every MAC: the full shade; the others none: white
    assert macs["conv2d"] == "#ec703c"
    assert macs["batchnorm"] == macs["flatten"] == "#ffffff"
    params = fills(TINY, ColorBy.PARAMS)
    # batchnorm's 128 params are 0.4 of the conv's 320: 255 - 0.4·(255 - (236, 112, 60))
    # = (247.4, 197.8, 177.0), rounded #f7c6b1
    assert params["conv2d"] == "#ec703c"
    assert params["batchnorm"] == "#f7c6b1"
    assert params["flatten"] == "#ffffff"


LEGENDS = [
    (ColorBy.MACS, "share of MACs, 0% … 100.0% (the largest)"),
    # 320 of 448 params: 71.4%
    (ColorBy.PARAMS, "share of parameters, 0% … 71.4% (the largest)"),
    # bytes: conv (320 + 21,632)·4 = 87,808; batchnorm (128 + 21,632)·4 = 87,040;
    # flatten 21,632·4 = 86,528; 87,808 / 261,376 = 33.6%
    (ColorBy.MEMORY, "share of memory, 0% … 33.6% (the largest)"),
]


def test_every_shading_is_covered() -> None:
    assert {color_by for color_by, _ in LEGENDS} == set(ColorBy)


@pytest.mark.parametrize(("color_by", "legend"), LEGENDS)
def test_the_legend_names_the_share(color_by: ColorBy, legend: str) -> None:
    root = parse(render_svg(TINY, color_by))
    texts = [
        "".join(text.itertext())
        for text in root.iter(f"{SVG}text")
        if text.get("class") == "legend"
    ]
    before, after = legend.split(" … ")
    assert texts == ["shade: " + before, after]


def test_render_dispatch_passes_the_shading() -> None:
    assert render(TINY, OutputFormat.SVG, color_by=ColorBy.PARAMS) == render_svg(
        TINY, ColorBy.PARAMS
    )
    assert render(TINY, OutputFormat.SVG) == render_svg(TINY, ColorBy.MACS)


def test_names_are_escaped_data() -> None:
    names = ["a<b&c\"d'e", "\x1b[31mred", "two\nlines", "\u202eevil", "]]>", "&amp;"]
    rows = []
    previous = INPUT_SOURCE
    for number, name in enumerate(names, 1):
        rows.append(CONV._replace(number=number, name=name, type=name, sources=(previous,)))
        previous = name
    report = TINY._replace(name="<model & co>", layers=tuple(rows))
    text = render_svg(report)
    root = assert_complete(report, text)  # parses: nothing raw broke the XML
    assert "\x1b" not in text and "\u202e" not in text and "<model" not in text
    assert root.findtext(f"{SVG}title") == "<model & co>"
    shown = boxes(root)
    assert shown["\\x1b[31mred"].get("data-type") == "\\x1b[31mred"
    assert box_text(shown["a<b&c\"d'e"])[0] == "a<b&c\"d'e"


def test_a_merge_joins_its_inputs_and_a_shortcut_is_drawn() -> None:
    report = analyze(RESIDUAL)
    root = assert_complete(report, render_svg(report))
    shown = boxes(root)
    add = next(name for name in shown if name.endswith(".add"))
    assert "merge" in str(shown[add].get("class")).split()
    arriving = [p for p in root.iter(f"{SVG}path") if p.get("data-to") == add]
    assert {p.get("data-from") for p in arriving} == {"stem", "residual.conv2d_1"}
    ends = [path_end(p) for p in arriving]
    x, y, width, _ = frame(shown[add])
    # both arrive on the add's top edge, at two different places: visibly two inputs
    assert all(end[1] == pytest.approx(y) and x < end[0] < x + width for end in ends)
    assert abs(ends[0][0] - ends[1][0]) >= 10
    shortcut = next(p for p in arriving if p.get("data-from") == "stem")
    assert "skip" in str(shortcut.get("class")).split()


def test_a_folded_residual_is_a_stack_with_a_loop() -> None:
    report = fold(analyze(RESIDUAL), 0)
    root = assert_complete(report, render_svg(report))
    residual = boxes(root)["residual"]
    assert "folded" in str(residual.get("class")).split()
    assert len(list(residual.iter(f"{SVG}rect"))) == 2
    assert [p.get("class") for p in residual.iter(f"{SVG}path")] == ["loop"]


@pytest.mark.parametrize(
    ("source", "depth"),
    [("resnet50", None), ("resnet50", 2), ("googlenet", 2), ("googlenet", 1), (UNET, None)],
    ids=["resnet50", "resnet50-depth2", "googlenet-depth2", "googlenet-depth1", "unet"],
)
def test_real_networks_are_complete_and_boxes_do_not_overlap(
    source: str | Path, depth: int | None
) -> None:
    report = report_of(source, depth)
    root = assert_complete(report, render_svg(report))
    width, height = float(root.get("width", "0")), float(root.get("height", "0"))
    rects = sorted(frame(group) for group in boxes(root).values())
    for index, (x, y, w, h) in enumerate(rects):
        assert 0 <= x and x + w <= width and 0 <= y and y + h <= height
        for other_x, other_y, _, other_h in rects[index + 1 :]:
            if other_x >= x + w:
                break
            assert other_y >= y + h or y >= other_y + other_h, "two boxes overlap"


def test_a_tensor_used_far_below_runs_down_one_trunk() -> None:
    # every add takes the row before it and the model's input: 199 long edges from the input
    layers: list[object] = [{"relu": {"name": "r0"}}]
    layers += [{"add": {"inputs": [f"r{i - 1}", "input"], "name": f"r{i}"}} for i in range(1, 200)]
    report = analyze({"input": [8, 8, 4], "layers": layers})
    text = render_svg(report)
    root = assert_complete(report, text)
    trunks = [p for p in root.iter(f"{SVG}path") if p.get("class") == "trunk"]
    assert [p.get("data-from") for p in trunks] == [INPUT_SOURCE]
    # drawn once: the text grows with the rows (about 1 KB each), not with rows x layers
    assert len(text) < 300_000


def test_too_many_boxes_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_svg, "MAX_BOXES", 2)
    with pytest.raises(ConvCalcError, match=r"at most 2 boxes, and this report has 3 rows"):
        render_svg(TINY)


def far_adds(rows: int, back: int) -> dict[str, object]:
    """A chain of ``rows`` rows in which each row from ``back`` on adds the row ``back`` above
    it: every add's shortcut passes ``back`` - 1 layers, each on a trunk of its own."""
    layers: list[object] = [{"relu": {"name": "r0"}}]
    for i in range(1, rows):
        taken = {"add": {"inputs": [f"r{i - 1}", f"r{i - back}"], "name": f"r{i}"}}
        layers.append(taken if i >= back else {"relu": {"name": f"r{i}"}})
    return {"input": [4, 4, 2], "layers": layers}


def test_waypoints_are_capped_before_any_is_made(tmp_path: Path) -> None:
    # 400 rows, each add from row 200 on taking the row 200 above: 200 sources, each with a
    # trunk down to its add's layer, 199 waypoints each: 39,800 (drawn, about 7 s and 2 MB)
    spec = far_adds(400, 200)
    report = analyze(spec)
    assert _layout.waypoints(_svg._sources(list(report.layers))) == 200 * 199
    began = time.perf_counter()
    with pytest.raises(
        ConvCalcError, match=r"at most 10,000 waypoints .* needs 39,800; fold .*--depth"
    ):
        render_svg(report)
    assert time.perf_counter() - began < 1.0
    with pytest.raises(ConvCalcError, match="waypoints"):
        render_html(report)
    path = tmp_path / "far.yaml"
    path.write_text(yaml.safe_dump(spec))
    result = RUNNER.invoke(app, ["model", str(path), "--format", "svg", "--depth", "all"])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("Error: a diagram draws at most 10,000 waypoints")
    assert "smaller --depth N" in result.stderr
    # just under the limit, drawn: 100 rows taking the row 100 back need 99 x 100 = 9,900
    assert len(boxes(parse(render_svg(analyze(far_adds(200, 100)))))) == 201


def test_every_zoo_model_is_drawable_at_depth_all() -> None:
    # The zoo's most (NASNet-Large, 1,598) is under a sixth of the limit; the largest drawn
    needed = {}
    for name in zoo_names():
        report = analyze(load_zoo(name))
        needed[name] = _layout.waypoints(_svg._sources(list(report.layers)))
    assert max(needed.values()) <= _layout.MAX_WAYPOINTS // 4, max(needed, key=needed.__getitem__)
    result = RUNNER.invoke(
        app, ["model", "zoo:keras_nasnet_large", "--format", "svg", "--depth", "all"]
    )
    assert result.exit_code == 0, result.stderr
    assert len(boxes(parse(result.stdout))) > 1_000


@pytest.mark.parametrize(
    "view", [View(sort=SortBy.MACS), View(top=2), View(group_by=GroupBy.TYPE)], ids=str
)
def test_ranked_or_grouped_rows_are_not_drawn(view: View) -> None:
    # the Python API can rank or group a report; a diagram of such rows would be nonsense
    shown = hotspots(analyze(RESIDUAL), view)
    for draw in (render_svg, render_html):
        with pytest.raises(ConvCalcError, match="grouped or ranked"):
            draw(shown)
    assert "% of" in render_svg(hotspots(analyze(RESIDUAL), View(percent=True)))


def legend_share(report: Report, color_by: ColorBy) -> str:
    root = parse(render_svg(report, color_by))
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text") if t.get("class") == "legend"]
    return texts[1]


def test_a_memory_shade_is_a_share_of_the_models_memory() -> None:
    # RESIDUAL folded: stem conv 8·(27 + 1) = 224 params, output 32·32·8 = 8,192; the residual
    # two convs of 8·(72 + 1) = 584, inside it four outputs of 8,192 (conv, relu, conv, add);
    # flatten 8,192; dense 8,192·10 + 10 = 81,930 params, output 10. The model's memory:
    # params 83,322 and activations 8,192·6 + 10 = 49,162 elements, x 4 bytes = 529,936. The
    # dense row holds (81,930 + 10)·4 = 327,760 bytes: 61.8% (not 75.9%, its share of the rows
    # shown, which count the folded residual's output only)
    report = fold(analyze(RESIDUAL), 0)
    assert report.totals.param_bytes + report.totals.activation_bytes == 529_936
    assert legend_share(report, ColorBy.MEMORY) == "61.8% (the largest)"
    # MACs and parameters are the totals' too (folding keeps their sums)
    assert legend_share(report, ColorBy.PARAMS) == f"{100 * 81_930 / 83_322:.1f}% (the largest)"
    # with --train, a share of the training step's memory
    model = read_model(RESIDUAL)
    trained = fold(run(model._replace(settings=model.settings._replace(train=Optimizer.SGD))), 0)
    training = trained.totals.training
    assert training is not None
    largest = max(row_memory(row, trained.settings) for row in trained.layers)
    assert (
        legend_share(trained, ColorBy.MEMORY)
        == f"{100 * largest / training.total:.1f}% (the largest)"
    )


def test_one_measure_ranks_and_shades() -> None:
    # --sort and --color-by are one closed set of figures, measured by one function
    assert ColorBy is SortBy
    assert not hasattr(_svg, "measure") and not hasattr(_svg, "_what")
    args = ["chain", "8", "8", "1", "conv:4,3", "flatten", "dense:2"]
    for value in ("params", "macs", "memory"):
        assert RUNNER.invoke(app, [*args, "--sort", value]).exit_code == 0
        assert RUNNER.invoke(app, [*args, "-f", "svg", "--color-by", value]).exit_code == 0


@pytest.mark.parametrize("fmt", ["table", "json", "markdown", "csv", "mermaid", "dot"])
def test_color_by_is_refused_where_nothing_is_shaded(fmt: str) -> None:
    args = ["chain", "8", "8", "1", "conv:4,3", "--color-by", "params", "-f", fmt]
    result = RUNNER.invoke(app, args)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(
        f"Error: --color-by shades the boxes of --format svg or html, and --format {fmt} has "
        "none; use one of those, or leave out --color-by"
    )
    sweep = RUNNER.invoke(
        app, ["chain", "8", "8", "1", "conv:4,3", "--batch", "1,2", "--color-by", "macs"]
    )
    assert sweep.exit_code == 2 and "--color-by" in sweep.stderr
    for shaded in ("svg", "html"):
        assert RUNNER.invoke(app, [*args[:-1], shaded]).exit_code == 0


@pytest.mark.parametrize("fmt", ["svg", "mermaid", "dot"])
def test_explain_is_refused_by_the_diagrams_without_room_for_it(fmt: str) -> None:
    result = RUNNER.invoke(app, ["chain", "8", "8", "1", "conv:4,3", "--explain", "-f", fmt])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(
        f"Error: --explain shows each layer's working, and --format {fmt} draws the network "
        "without it; use --format html"
    )
    page = RUNNER.invoke(app, ["chain", "8", "8", "1", "conv:4,3", "--explain", "-f", "html"])
    assert page.exit_code == 0 and 'id="working"' in page.stdout


# --- the layout --------------------------------------------------------------------------------

SPACING = Spacing(box_width=200, box_height=56)


def graph(report: Report) -> list[list[int]]:
    number = {row.name: index + 1 for index, row in enumerate(report.layers)}
    number[INPUT_SOURCE] = 0
    return [[], *([number[s] for s in row.sources] for row in report.layers)]


def test_a_chain_is_one_straight_column() -> None:
    found = layout([[], [0], [1], [2]], SPACING)
    assert found.layer == (0, 1, 2, 3)
    assert len(set(found.x)) == 1
    assert found.width == 200
    assert found.height == 4 * 56 + 3 * SPACING.layer_gap
    assert all(route.hops == 0 for route in found.routes) and found.trunks == {}


def test_a_shortcut_runs_beside_the_column_and_the_add_stays_in_it() -> None:
    # input -> conv -> bn -> relu -> add(relu, input): the shortcut passes three layers
    found = layout([[], [0], [1], [2], [3, 0]], SPACING)
    assert found.layer == (0, 1, 2, 3, 4)
    assert len(set(found.x)) == 1  # the add is under the relu, the column straight
    shortcut = next(route for route in found.routes if route.source == 0 and route.target == 4)
    via = found.via(shortcut)
    assert len(via) == 3
    least = SPACING.box_width / 2 + SPACING.line_gap
    assert all(abs(x - found.x[1]) >= least for x in via)
    assert len(set(via)) == 1  # straight


def test_branches_sit_side_by_side_and_merge_below() -> None:
    # input -> four branches (two of them two long) -> concat
    found = layout([[], [0], [0], [2], [0], [4], [1, 3, 5]], SPACING)
    assert found.layer == (0, 1, 1, 2, 1, 2, 3)
    tops = sorted(found.x[node] for node in (1, 2, 4))
    assert tops[1] - tops[0] >= 200 + SPACING.box_gap
    assert tops[2] - tops[1] >= 200 + SPACING.box_gap


def segments(found: Layout) -> dict[int, list[tuple[float, float]]]:
    """Each edge's pieces between one layer and the next: (x at the upper, x at the lower)."""
    pieces: dict[int, list[tuple[float, float]]] = {}
    for route in found.routes:
        xs = [found.x[route.source], *found.via(route), found.x[route.target]]
        for step, (upper, lower) in enumerate(zip(xs, xs[1:], strict=False)):
            pieces.setdefault(found.layer[route.source] + step, []).append((upper, lower))
    return pieces


def crossings(found: Layout) -> int:
    count = 0
    for pieces in segments(found).values():
        for index, (a_up, a_down) in enumerate(pieces):
            for b_up, b_down in pieces[index + 1 :]:
                if (a_up - b_up) * (a_down - b_down) < -1e-9:
                    count += 1
    return count


@pytest.mark.parametrize(
    ("source", "depth"),
    [("resnet50", None), ("googlenet", None), ("googlenet", 2), (UNET, None)],
    ids=["resnet50", "googlenet", "googlenet-depth2", "unet"],
)
def test_no_crossings_and_no_edge_through_a_box(source: str | Path, depth: int | None) -> None:
    found = layout(graph(report_of(source, depth)), SPACING)
    assert crossings(found) == 0
    by_layer: dict[int, list[float]] = {}
    for node, layer in enumerate(found.layer):
        by_layer.setdefault(layer, []).append(found.x[node])
    for xs in by_layer.values():
        xs.sort()
        assert all(b - a >= 200 + SPACING.box_gap - 1e-6 for a, b in zip(xs, xs[1:], strict=False))
    least = SPACING.box_width / 2 + SPACING.line_gap - 1e-6
    for route in found.routes:
        for step, x in enumerate(found.via(route)):
            layer = found.layer[route.source] + 1 + step
            assert all(abs(x - box) >= least for box in by_layer.get(layer, []))


def test_unet_skips_nest_outside_each_other() -> None:
    report = report_of(UNET)
    found = layout(graph(report), SPACING)
    names = [INPUT_SOURCE, *(row.name for row in report.layers)]
    skips = {
        names[route.source].split(".")[0]: route
        for route in found.routes
        if names[route.target].endswith(".concat") and names[route.source].startswith("enc")
    }
    assert sorted(skips) == ["enc1", "enc2", "enc3", "enc4"]
    # in the layer just above dec4's concat all four pass: enc1's outermost, enc4's innermost
    at = found.layer[skips["enc4"].target] - 1
    xs = [
        found.via(route)[at - found.layer[route.source] - 1]
        for route in (skips[f"enc{level}"] for level in (4, 3, 2, 1))
    ]
    column = found.x[skips["enc4"].target]
    assert column < xs[0] < xs[1] < xs[2] < xs[3]


def test_layout_is_deterministic_and_fast() -> None:
    # 100 residual blocks of three layers: 301 nodes, a shortcut passing each block
    sources: list[list[int]] = [[]]
    for _ in range(100):
        start = len(sources) - 1
        sources += [[start], [start + 1], [start + 2, start]]
    began = time.perf_counter()
    first = layout(sources, SPACING)
    took = time.perf_counter() - began
    assert first == layout(sources, SPACING)
    assert len(set(first.x)) == 1  # the main column never drifts
    assert took < 1.0, f"{took:.3f} s for 301 nodes"  # about 0.01 s


def test_sources_that_are_not_earlier_nodes_are_left_out() -> None:
    found = layout([[], [0], [5, 1], [2, -1, 3]], SPACING)
    assert [(route.source, route.target) for route in found.routes] == [(0, 1), (1, 2), (2, 3)]


# --- the command line --------------------------------------------------------------------------


def test_the_diagram_folds_by_default_like_the_table() -> None:
    result = RUNNER.invoke(app, ["model", "zoo:resnet50", "--format", "svg"])
    assert result.exit_code == 0, result.output
    # resnet50's 175 layers fold to depth 2: stem 4 + 16 blocks x (residual, relu) + 3 = 39
    assert len(boxes(parse(result.stdout))) == 1 + 39
    assert "175 layers are shown as 39 rows" in result.stderr
    every = RUNNER.invoke(app, ["model", "zoo:resnet50", "--format", "svg", "--depth", "all"])
    assert len(boxes(parse(every.stdout))) == 1 + 175


def test_color_by_on_the_command_line() -> None:
    args = ["chain", "28", "28", "1", "conv:32,3", "batchnorm", "flatten", "--format", "svg"]
    result = RUNNER.invoke(app, [*args, "--color-by", "params"])
    assert result.exit_code == 0, result.output
    assert "share of parameters" in result.stdout
    wrong = RUNNER.invoke(app, [*args, "--color-by", "flops"])
    assert wrong.exit_code == 2
    assert "Error:" in wrong.stderr and "--color-by" in wrong.stderr
    assert wrong.stdout == ""


# --- the README's picture ----------------------------------------------------------------------


def test_the_readme_diagram_is_what_convcalc_draws_now() -> None:
    """docs/diagram.svg is generated: regenerate it with the command in the README."""
    command = "convcalc model docs/diagram.yaml --format svg > docs/diagram.svg"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert command in readme
    assert "](docs/diagram.svg)" in readme
    spec = yaml.safe_load((ROOT / "docs" / "diagram.yaml").read_text(encoding="utf-8"))
    drawn = render_svg(analyze(spec))
    assert (ROOT / "docs" / "diagram.svg").read_text(encoding="utf-8") == drawn, (
        f"docs/diagram.svg is stale: run {command}"
    )


# --- rendered in a browser ---------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCALE = 0.5
"""Screenshots are taken at half the size (Chromium's smallest): ink enough, quicker to read."""


def _add(line: bytes, previous: bytes) -> bytearray:
    """Two rows added byte by byte, modulo 256, at once: the top bit of each byte by
    exclusive or, so no carry crosses into the next byte."""
    size = len(line)
    low, high = int.from_bytes(b"\x7f" * size, "big"), int.from_bytes(b"\x80" * size, "big")
    a, b = int.from_bytes(line, "big"), int.from_bytes(previous, "big")
    return bytearray((((a & low) + (b & low)) ^ ((a ^ b) & high)).to_bytes(size, "big"))


def pixels(png: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and RGB rows of an 8-bit RGB or RGBA PNG, unfiltered with zlib alone."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    position, data, head = 8, [], (0, 0, 0, 0, 0)
    while position < len(png):
        length, kind = struct.unpack(">I4s", png[position : position + 8])
        body = png[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            head = struct.unpack(">IIBBBBB", body)[:5]
        elif kind == b"IDAT":
            data.append(body)
        position += 12 + length
    width, height, bits, color, _ = head
    assert bits == 8 and color in (2, 6), "8-bit RGB or RGBA"
    size = 3 if color == 2 else 4
    raw = zlib.decompress(b"".join(data))
    stride = width * size
    rows: list[bytes] = []
    previous = bytearray(stride)
    for number in range(height):
        start = number * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:  # Sub
            for i in range(size, stride):
                line[i] = (line[i] + line[i - size]) & 255
        elif kind == 2:  # Up
            line = _add(line, previous)
        elif kind == 3:  # Average
            for i in range(stride):
                line[i] = (
                    line[i] + ((line[i - size] if i >= size else 0) + previous[i]) // 2
                ) & 255
        elif kind == 4:  # Paeth
            for i in range(size):
                line[i] = (line[i] + previous[i]) & 255
            for i in range(size, stride):
                a, b, c = line[i - size], previous[i], previous[i - size]
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(
            bytes(line) if size == 3 else bytes(line[j] for j in range(stride) if j % 4 != 3)
        )
        previous = line
    return width, height, rows


LIGHT = bytes(int(value >= 110) for value in range(256))
"""One channel's values -> 1 where the pixel cannot be dark (text, borders, arrows are below
110 in every channel)."""
RED = bytes(int(value > 200) for value in range(256))
LITTLE_BLUE = bytes(int(value < 170) for value in range(256))
"""The orange of a MAC-heavy box: red above 200, blue below 170."""


def _marks(channel: bytes, table: bytes) -> int:
    """``channel`` as one integer with a 1 bit where ``table`` maps its byte to 1."""
    return int.from_bytes(channel.translate(table), "big")


DRAWN = {"resnet50": ["zoo:resnet50"], "unet": [str(UNET)], "googlenet": ["zoo:googlenet"]}
"""The networks the issue names, drawn as ``convcalc model ... --format svg`` draws them."""


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed: nothing is rendered")
def test_a_browser_draws_resnet50_a_unet_and_googlenet(tmp_path: Path) -> None:
    """Each SVG opened in headless Chromium (the three at once: a browser takes about two
    seconds to start) and its screenshot read back: ink from top to bottom, shaded boxes."""
    assert CHROMIUM is not None
    sizes, running = {}, []
    for name, args in DRAWN.items():
        result = RUNNER.invoke(app, ["model", *args, "--format", "svg"])
        assert result.exit_code == 0, result.output
        root = parse(result.stdout)
        sizes[name] = float(root.get("width", "0")), float(root.get("height", "0"))
        picture = tmp_path / f"{name}.svg"
        picture.write_text(result.stdout, encoding="utf-8")
        width, height = sizes[name]
        command = [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--disable-extensions",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            f"--user-data-dir={tmp_path / name}",
            f"--force-device-scale-factor={SCALE}",
            f"--screenshot={tmp_path / name}.png",
            f"--window-size={math.ceil(width)},{math.ceil(height)}",
            picture.as_uri(),
        ]
        running.append(
            subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )
    for process in running:
        process.wait(timeout=120)
    for name, (width, height) in sizes.items():
        shot = tmp_path / f"{name}.png"
        assert shot.exists(), f"Chromium wrote no screenshot of {name}"
        check_screenshot(name, shot.read_bytes(), width, height)


def check_screenshot(name: str, png: bytes, width: float, height: float) -> None:
    shot_width, shot_height, rows = pixels(png)
    assert shot_width == pytest.approx(width * SCALE, abs=2), name
    assert shot_height == pytest.approx(height * SCALE, abs=2), name
    colours: set[tuple[int, int, int]] = set()
    dark_rows, shaded = [], 0
    for number, row in enumerate(rows):
        red, green, blue = row[0::3], row[1::3], row[2::3]
        if number % 4 == 0:
            colours.update(zip(red, green, blue, strict=True))
        light = _marks(red, LIGHT) | _marks(green, LIGHT) | _marks(blue, LIGHT)
        dark_rows.append(shot_width - light.bit_count())
        shaded += (_marks(red, RED) & _marks(blue, LITTLE_BLUE)).bit_count()
    total = shot_width * shot_height
    assert len(colours) > 50, f"{name}: a blank or flat picture"
    assert sum(dark_rows) / total > 0.005, f"{name}: {sum(dark_rows)} dark pixels of {total}"
    assert shaded / total > 0.005, f"{name}: no shaded boxes"
    tenth = shot_height // 10  # ink all the way down: every tenth of the height has some
    assert all(sum(dark_rows[i * tenth : (i + 1) * tenth]) > 0 for i in range(10)), name


def encode(rows: list[bytes], kind: int) -> bytes:
    """An 8-bit RGB PNG of ``rows``, every row filtered with ``kind`` (0 to 4)."""
    width, stride = len(rows[0]) // 3, len(rows[0])
    previous = bytes(stride)
    data = bytearray()
    for row in rows:
        data.append(kind)
        for i in range(stride):
            left = row[i - 3] if i >= 3 else 0
            up, corner = previous[i], previous[i - 3] if i >= 3 else 0
            guess = left + up - corner
            paeth = min((abs(guess - left), 0, left), (abs(guess - up), 1, up))
            paeth = min(paeth, (abs(guess - corner), 2, corner))
            base = (0, left, up, (left + up) // 2, paeth[2])[kind]
            data.append((row[i] - base) & 255)
        previous = row

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    head = struct.pack(">IIBBBBB", width, len(rows), 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", head)
        + chunk(b"IDAT", zlib.compress(data))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("kind", [0, 1, 2, 3, 4])
def test_the_png_reader_undoes_every_filter(kind: int) -> None:
    rows = [
        bytes((x * 37 + y * 101 + c * 53) % 256 for x in range(5) for c in range(3))
        for y in range(4)
    ]
    assert pixels(encode(rows, kind)) == (5, 4, rows)


def test_a_blank_screenshot_fails_the_check() -> None:
    white = encode([b"\xff" * 300] * 100, 2)
    with pytest.raises(AssertionError, match="blank or flat"):
        check_screenshot("blank", white, 100 / SCALE, 100 / SCALE)
