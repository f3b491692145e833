"""The html format: one self-contained page with the same numbers as the JSON.

The page is read back with the standard library's HTML parser: its layer table row by row and
its totals, compared with ``--format json`` of the same report; its inline SVG parsed as XML.
Nothing may point outside the page.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from convcalc import analyze
from convcalc._cli import app
from convcalc._input._zoo import load_zoo
from convcalc._render import render
from convcalc._render._html import render_html
from convcalc._render._units import safe
from convcalc._report import INPUT_SOURCE, Report, fold
from convcalc._settings import ColorBy, OutputFormat, Settings

ROOT = Path(__file__).resolve().parent.parent
UNET = ROOT / "tests" / "data" / "architectures" / "unet_same.yaml"
RUNNER = CliRunner()

VOID = {"meta", "br", "col", "img", "hr", "input", "link", "wbr", "source", "area", "base"}
SVG_EMPTY = {"rect", "path", "stop"}
"""SVG elements written self-closed (``<rect .../>``)."""


class Page(HTMLParser):
    """What a page holds: layer rows, totals and settings (cell texts), tags, and whether
    every element is closed in order."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: dict[str, int] = {}
        self.layers: list[list[str]] = []
        self.totals: list[list[str]] = []
        self.settings: list[list[str]] = []
        self.details = 0
        self.summaries: list[str] = []
        self.table: str | None = None
        self.row: list[str] | None = None
        self.cell: list[str] | None = None
        self.summary: list[str] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if tag not in VOID:
            self.stack.append(tag)
        found = dict(attrs)
        if tag == "table":
            self.table = found.get("class")
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []
        elif tag == "details":
            self.details += 1
        elif tag == "summary":
            self.summary = []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1  # self-closed: nothing to close

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()
        if tag in ("td", "th") and self.row is not None and self.cell is not None:
            self.row.append("".join(self.cell).strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            target = {"layers": self.layers, "totals": self.totals, "settings": self.settings}
            if self.table in target and not (self.table == "layers" and self.row[0] == "#"):
                target[self.table].append(self.row)
            self.row = None
        elif tag == "summary" and self.summary is not None:
            self.summaries.append("".join(self.summary).strip())
            self.summary = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)
        if self.summary is not None:
            self.summary.append(data)


def page_of(report: Report, color_by: ColorBy = ColorBy.MACS) -> tuple[str, Page]:
    text = render_html(report, color_by)
    page = Page(text)
    assert page.stack == [], f"unclosed: {page.stack}"
    return text, page


def report_of(source: str | Path, depth: int | None = None) -> Report:
    spec = yaml.safe_load(source.read_text()) if isinstance(source, Path) else load_zoo(source)
    report = analyze(spec)
    return report if depth is None else fold(report, depth)


def number(text: str) -> int:
    """An exact figure as the page writes it: ``25,557,032``."""
    assert re.fullmatch(r"\d{1,3}(,\d{3})*", text), text
    return int(text.replace(",", ""))


CASES = [
    ("resnet50", 2),
    ("googlenet", 2),
    (UNET, None),
    ("mnist_cnn", None),
    ("efficientnet_b0", 1),
]
IDS = ["resnet50-depth2", "googlenet-depth2", "unet", "mnist_cnn", "efficientnet_b0-depth1"]


@pytest.mark.parametrize(("source", "depth"), CASES, ids=IDS)
def test_the_table_has_the_numbers_of_the_json(source: str | Path, depth: int | None) -> None:
    report = report_of(source, depth)
    _, page = page_of(report)
    layers = json.loads(render(report, OutputFormat.JSON))["layers"]
    assert len(page.layers) == len(layers)
    trainable_column = any(layer["non_trainable_params"] for layer in layers)
    for cells, layer in zip(page.layers, layers, strict=True):
        if trainable_column:
            index, name, kind, shape, params, frozen, macs, field = cells
            assert number(frozen) == layer["non_trainable_params"]
        else:
            index, name, kind, shape, params, macs, field = cells
        assert int(index) == layer["index"]
        assert name == layer["name"]
        assert kind == layer["type"]
        assert shape == "x".join(str(size) for size in layer["output_shape"])
        assert number(params) == layer["params"]
        assert number(macs) == layer["macs"]
        rf = layer["receptive_field"]
        if rf is None:
            assert field == "whole"
        else:  # size/jump: the size per axis, the jump once when every axis agrees
            jumps = [str(value) for value in rf["jump"]]
            jump = jumps[0] if len(set(jumps)) == 1 else "x".join(jumps)
            assert field == "x".join(str(value) for value in rf["size"]) + "/" + jump


@pytest.mark.parametrize(("source", "depth"), CASES[:3], ids=IDS[:3])
def test_the_totals_are_those_of_the_json(source: str | Path, depth: int | None) -> None:
    report = report_of(source, depth)
    _, page = page_of(report)
    totals = json.loads(render(report, OutputFormat.JSON))["totals"]
    found = {label: (value, detail) for label, value, detail in page.totals}
    assert number(found["Total params"][0]) == totals["params"]
    assert number(found["Trainable params"][0]) == totals["trainable_params"]
    assert number(found["Non-trainable params"][0]) == totals["non_trainable_params"]
    assert number(found["MACs"][1]) == totals["macs"]
    assert number(found["FLOPs"][1]) == totals["flops"]
    assert number(found["Parameter memory"][1].split(" bytes")[0]) == totals["param_bytes"]
    assert number(found["Activation memory"][1].split(" bytes")[0]) == totals["activation_bytes"]
    shape = json.loads(render(report, OutputFormat.JSON))["output_shape"]
    assert found["Output shape"][0] == "x".join(str(size) for size in shape)


def test_hand_worked_figures() -> None:
    # the MNIST tutorial's first conv: 32·(3·3·1 + 1) = 320 params, 26·26·32·9 = 194,688 MACs
    report = analyze({"input": [28, 28, 1], "layers": [{"conv2d": {"filters": 32, "kernel": 3}}]})
    _, page = page_of(report)
    assert page.layers == [["1", "conv2d", "conv2d", "26x26x32", "320", "194,688", "3x3/1"]]
    assert ["Total params", "320", ""] in page.totals


def test_the_page_is_self_contained() -> None:
    text, page = page_of(report_of("googlenet", 2))
    assert text.startswith("<!DOCTYPE html>\n")
    lowered = text.lower()
    assert "http" not in lowered  # no link, no namespace fetched, nothing from the network
    assert "src=" not in lowered and "href=" not in lowered
    assert "@import" not in lowered and "<script" not in lowered
    assert set(re.findall(r"url\(([^)]*)\)", lowered)) <= {
        "#convcalc-arrow",
        "#convcalc-arrow-skip",
        "#convcalc-arrow-small",
        "#convcalc-shade",
    }
    assert page.tags["style"] == 2 and page.tags["svg"] == 1  # the page's and the diagram's
    assert "script" not in page.tags and "link" not in page.tags and "img" not in page.tags


def test_the_settings_are_shown() -> None:
    report = report_of("resnet50", 1)._replace(settings=Settings(batch=8))
    _, page = page_of(report, ColorBy.PARAMS)
    settings = {row[0]: row[1] for row in page.settings}
    assert settings["model"] == "resnet50"
    assert settings["framework"] == "keras" and settings["layout"] == "hwc"
    assert settings["dtype"] == "float32" and settings["batch"] == "8"
    assert settings["input shape"] == "3x224x224"
    assert settings["output shape"] == "1000"
    assert settings["diagram shaded by"] == "share of params"


def test_the_diagram_is_inline_and_complete() -> None:
    report = report_of(UNET)
    text, _ = page_of(report)
    svg = text[text.index("<svg") : text.index("</svg>") + len("</svg>")]
    root = ET.fromstring(svg)  # well-formed as XML too
    names = {g.get("data-name") for g in root.iter("g") if "box" in g.get("class", "").split()}
    assert names == {INPUT_SOURCE} | {row.name for row in report.layers}


def test_each_top_level_block_folds_away() -> None:
    report = report_of("googlenet", 2)
    _, page = page_of(report)
    blocks = list(dict.fromkeys(row.name.split(".")[0] for row in report.layers if row.depth))
    assert page.details == len(blocks)
    # googlenet: 3 basic_conv blocks of the stem, then 9 inception blocks
    assert len(blocks) == 12
    inception = next(s for s in page.summaries if s.startswith("inception3a"))
    # inception3a at depth 2: 7 branch rows (6 basic_conv, 1 maxpool) and the concat
    assert inception.startswith("inception3a (inception) 8 rows")


def test_names_are_escaped() -> None:
    hostile = "</td><script>alert(1)</script>\x1b[31m"
    spec = {
        "name": "<b>bold</b>",
        "input": [8, 8, 1],
        "layers": [{"conv2d": {"filters": 2, "kernel": 3, "name": "x&y"}}, {"relu": {}}],
    }
    report = analyze(spec)
    report = report._replace(layers=(report.layers[0]._replace(name=hostile),))
    text, page = page_of(report)
    assert "<script" not in text and "<b>" not in text and "\x1b" not in text
    assert page.layers[0][1] == safe(hostile)
    assert page.settings[0] == ["model", "<b>bold</b>"]


def test_explain_adds_the_working() -> None:
    report = analyze({**load_zoo("mnist_cnn"), "explain": True})
    text, page = page_of(report)
    assert 'id="working"' in text
    assert page.details == len(report.layers)
    assert "params = (kernel_h*kernel_w*C_in/groups + bias) * filters" in text


def test_the_command_line_writes_the_page() -> None:
    result = RUNNER.invoke(app, ["model", "zoo:mnist_cnn", "--format", "html"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("<!DOCTYPE html>")
    assert result.stdout.endswith("</html>\n")
    # resnet50's 175 layers fold to 39 rows, as the table does, and the page says so
    folded = RUNNER.invoke(app, ["model", "zoo:resnet50", "--format", "html"])
    page = Page(folded.stdout)
    assert len(page.layers) == 39
    assert "175 layers are shown as 39 rows" in folded.stdout


def test_percent_adds_each_share_after_its_figure() -> None:
    args = ["model", "zoo:mnist_cnn", "--percent"]
    page = Page(RUNNER.invoke(app, [*args, "--format", "html"]).stdout)
    layers = json.loads(RUNNER.invoke(app, [*args, "--format", "json"]).stdout)["layers"]
    # the first conv: 320 of the net's 225,034 params = 0.14%, and 194,688 of its
    # 2,631,040 MACs = 7.40%
    first = ["1", "conv2d", "conv2d", "26x26x32", "320", "0.1", "194,688", "7.4", "3x3/1"]
    assert page.layers[0] == first
    for cells, layer in zip(page.layers, layers, strict=True):
        for text, share in ((cells[5], layer["params_percent"]), (cells[7], layer["macs_percent"])):
            if share == 0:
                assert text == "0"
            elif text == "<0.1":
                assert 0 < share < 0.1
            else:
                assert float(text) == pytest.approx(share, abs=0.05)
