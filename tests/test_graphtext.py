"""``--format mermaid`` and ``--format dot``: valid syntax, every row a node, every source an
edge, and names that cannot break out of their labels.

DOT is checked by a small parser of the language's grammar (graph, node, edge and attribute
statements; IDs, quoted strings with their escapes; ``->``), written here from the Graphviz
grammar, and by Graphviz itself when ``dot`` is installed. Mermaid is checked line by line
against the flowchart forms convcalc writes: a header, node statements with a quoted label,
edges, class definitions.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml
from typer.testing import CliRunner

from convcalc import analyze
from convcalc._cli import _load_model, app
from convcalc._errors import ConvCalcError
from convcalc._hotspots import hotspots
from convcalc._render._graphtext import render_dot, render_mermaid
from convcalc._render._units import safe
from convcalc._report import INPUT_SOURCE, Report, fold
from convcalc._settings import GroupBy, SortBy, View

RUNNER = CliRunner()
DATA = Path(__file__).parent / "data"
UNET = DATA / "architectures" / "unet_same.yaml"

HOSTILE = "a\"b\\N<i>&amp;#quot;`x`]; n1 --> n2 {}\x1b[2J\n\u202e'end\\"
"""A name with every character either syntax, or a browser, or a terminal would act on."""


def model(source: str | Path) -> Report:
    spec = (
        _load_model(str(source)) if isinstance(source, str) else yaml.safe_load(source.read_text())
    )
    return analyze(spec)


# -- a DOT parser, from the grammar at graphviz.org/doc/info/lang.html ----------------------------

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<arrow>->)
      | (?P<id>[A-Za-z_][A-Za-z_0-9]*|-?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?))
      | (?P<punct>[{}\[\];,=])
    )""",
    re.VERBOSE | re.DOTALL,
)


def tokens(text: str) -> list[tuple[str, str]]:
    found, at = [], 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at == len(text):
            return found
        match = _TOKEN.match(text, at)
        assert match is not None, f"not DOT at {text[at : at + 40]!r}"
        kind = match.lastgroup
        assert kind is not None
        found.append((kind, match.group(kind)))
        at = match.end()


def unquote(token: tuple[str, str]) -> str:
    """An ID's value: a quoted string with ``\\"`` made ``"`` (Graphviz's only escape in a
    string; other backslashes stay for the label's own escapes: ``\\n``, ``\\\\``)."""
    kind, text = token
    if kind != "string":
        return text
    return re.sub(r'\\(["])', r"\1", text[1:-1])


def label_lines(label: str) -> list[str]:
    """A label's lines as Graphviz shows them: ``\\n`` breaks a line, ``\\\\`` is a backslash,
    any other escape (``\\N``: the node's name) would be substituted: none may be left."""
    lines, current, at = [], "", 0
    while at < len(label):
        char = label[at]
        if char == "\\":
            following = label[at + 1]
            if following == "n":
                lines.append(current)
                current = ""
            elif following == "\\":
                current += "\\"
            else:
                raise AssertionError(f"escape \\{following} in a label: {label!r}")
            at += 2
            continue
        current += char
        at += 1
    return [*lines, current]


class Dot(NamedTuple):
    name: str
    nodes: dict[str, dict[str, str]]
    edges: list[tuple[str, str]]
    defaults: dict[str, dict[str, str]]


def parse_dot(text: str) -> Dot:
    items = tokens(text)
    at = 0

    def take(kind: str, value: str | None = None) -> tuple[str, str]:
        nonlocal at
        token = items[at]
        assert token[0] == kind and (value is None or token[1] == value), (token, kind, value)
        at += 1
        return token

    def attributes() -> dict[str, str]:
        nonlocal at
        found: dict[str, str] = {}
        take("punct", "[")
        while items[at] != ("punct", "]"):
            key = unquote(items[at])
            at += 1
            take("punct", "=")
            found[key] = unquote(items[at])
            at += 1
            if items[at] in (("punct", ","), ("punct", ";")):
                at += 1
        take("punct", "]")
        return found

    take("id", "digraph")
    name = unquote(items[at])
    at += 1
    take("punct", "{")
    nodes: dict[str, dict[str, str]] = {}
    edges: list[tuple[str, str]] = []
    defaults: dict[str, dict[str, str]] = {}
    while items[at] != ("punct", "}"):
        first = items[at]
        at += 1
        if first[0] == "id" and first[1] in ("graph", "node", "edge"):
            defaults[first[1]] = attributes()
        elif items[at] == ("arrow", "->"):
            at += 1
            edges.append((unquote(first), unquote(items[at])))
            at += 1
            if items[at] == ("punct", "["):
                attributes()
        else:
            assert unquote(first) not in nodes, f"node {first} twice"
            nodes[unquote(first)] = attributes() if items[at] == ("punct", "[") else {}
        take("punct", ";")
    take("punct", "}")
    assert at == len(items), "text after the graph"
    return Dot(name, nodes, edges, defaults)


def expected_edges(report: Report) -> list[tuple[str, str]]:
    """Every source of every row, as (source name, row name)."""
    return [(source, row.name) for row in report.layers for source in row.sources]


def check_dot(report: Report) -> Dot:
    graph = parse_dot(render_dot(report))
    names = {"input": INPUT_SOURCE}
    for number, row in enumerate(report.layers, 1):
        node = graph.nodes[f"n{number}"]
        lines = label_lines(node["label"])
        assert lines[0] == safe(row.name)
        assert lines[1].startswith(safe(row.type) + " · ")
        assert "params" in lines[2] and "MACs" in lines[2]
        names[f"n{number}"] = row.name
    assert len(graph.nodes) == len(report.layers) + 1  # and the input
    assert [(names[a], names[b]) for a, b in graph.edges] == expected_edges(report)
    return graph


# -- Mermaid ------------------------------------------------------------------------------------

_ENTITY = re.compile(r"#(quot|amp|lt|gt|\d+);")
_NODE = re.compile(r'^    (input|n\d+)(\(\[|\[|\{\{)("[^"]*")(\]\)|\]|\}\})(:::macs[1-4])?$')
_EDGE = re.compile(r"^    (input|n\d+) --> (n\d+)$")
_CLASS = re.compile(r"^    classDef macs[1-4] fill:#[0-9a-f]{6},stroke:#[0-9a-f]{6}$")
_PAIRS = {"([": "])", "[": "]", "{{": "}}"}


def decode(label: str) -> str:
    names = {"quot": '"', "amp": "&", "lt": "<", "gt": ">"}
    return _ENTITY.sub(
        lambda m: names.get(m.group(1)) or chr(int(m.group(1))), label[1:-1].replace("<br>", "\n")
    )


def check_mermaid(report: Report) -> dict[str, list[str]]:
    lines = render_mermaid(report).splitlines()
    assert lines[0].startswith("%% ")  # a comment: the title and settings
    assert lines[1] == "flowchart TD"
    nodes: dict[str, list[str]] = {}
    edges = []
    for line in lines[2:]:
        node, edge = _NODE.match(line), _EDGE.match(line)
        if node:
            assert _PAIRS[node.group(2)] == node.group(4), line
            label = node.group(3)
            assert not set(label[1:-1].replace("<br>", "")) & set('"<>`'), line
            assert "&" not in label and not re.search(r"#(?!quot;|amp;|lt;|gt;|\d+;)", label)
            nodes[node.group(1)] = decode(label).split("\n")
        elif edge:
            edges.append((edge.group(1), edge.group(2)))
        else:
            assert _CLASS.match(line), line
    names = {"input": INPUT_SOURCE}
    for number, row in enumerate(report.layers, 1):
        assert nodes[f"n{number}"][0] == safe(row.name)
        names[f"n{number}"] = row.name
    assert len(nodes) == len(report.layers) + 1
    assert [(names[a], names[b]) for a, b in edges] == expected_edges(report)
    return nodes


# -- the tests ----------------------------------------------------------------------------------

MODELS = ["zoo:resnet50", "zoo:googlenet", "zoo:mnist_cnn", UNET]


@pytest.mark.parametrize("source", MODELS, ids=str)
@pytest.mark.parametrize("depth", [None, 1, 0])
def test_every_row_and_every_edge(source: str | Path, depth: int | None) -> None:
    report = model(source)
    if depth is not None:
        report = fold(report, depth)
    dot = check_dot(report)
    mermaid = check_mermaid(report)
    assert mermaid["input"] == ["input", "x".join(map(str, report.input_shape))]
    assert label_lines(dot.nodes["input"]["label"]) == mermaid["input"]


def test_merges_and_shortcuts_are_edges() -> None:
    # A residual by hand: its add takes the path's last row and the shortcut (the input).
    report = analyze(
        {
            "input": [8, 8, 4],
            "layers": [
                {"residual": [{"conv2d": {"filters": 4, "kernel": 3, "padding": "same"}}]},
                {"conv2d": {"filters": 2, "kernel": 1}},
            ],
        }
    )
    names = [row.name for row in report.layers]
    assert names == ["residual.conv2d", "residual.add", "conv2d"]
    graph = parse_dot(render_dot(report))
    assert graph.edges == [("input", "n1"), ("n1", "n2"), ("input", "n2"), ("n2", "n3")]
    assert graph.nodes["n2"]["shape"] == "hexagon"  # the merge
    assert "shape" not in graph.nodes["n1"]
    mermaid = render_mermaid(report)
    assert "    n1 --> n2\n    input --> n2\n" in mermaid
    assert re.search(r'^    n2\{\{"residual\.add<br>add · 8x8x4<br>', mermaid, re.M)


def test_shading_follows_macs() -> None:
    # MACs 3*3*1*4 per position on 6x6 = 1,296, and 1*1*4*8 on 6x6 = 1,152: 1,152/1,296 of
    # the largest is more than 3/4, so both take the darkest of the four shades; relu none.
    report = analyze(
        {
            "input": [8, 8, 1],
            "layers": [
                {"conv2d": {"filters": 4, "kernel": 3, "bias": False}},
                "relu",
                {"conv2d": {"filters": 8, "kernel": 1, "bias": False}},
                {"conv2d": {"filters": 1, "kernel": 1, "bias": False}},
            ],
        }
    )
    assert [row.macs for row in report.layers] == [1_296, 0, 1_152, 288]
    graph = parse_dot(render_dot(report))
    fills = [graph.nodes[f"n{n}"].get("fillcolor") for n in (1, 2, 3, 4)]
    assert fills[0] == fills[2] == "#f4922a" and fills[1] is None
    assert fills[3] == "#fdf0dc"  # 288 / 1,296 = 0.22: the lightest
    classes = re.findall(r"^    (n\d)\[.*?(?::::(macs\d))?$", render_mermaid(report), re.M)
    assert classes == [("n1", "macs4"), ("n2", ""), ("n3", "macs4"), ("n4", "macs1")]


@pytest.mark.parametrize("render", [render_dot, render_mermaid])
def test_hostile_names_stay_inside_their_labels(render: Any) -> None:
    spec = {
        "name": HOSTILE,
        "input": [8, 8, 3],
        "layers": [
            {"conv2d": {"filters": 4, "kernel": 3}, "name": HOSTILE},
            {"relu": None, "name": HOSTILE + "2"},
            {"add": [HOSTILE, HOSTILE + "2"], "name": "#35;"},
        ],
    }
    report = analyze(spec)
    text = render(report)
    for raw in ("\x1b", "\u202e", "\r"):
        assert raw not in text
    if render is render_dot:
        graph = check_dot(report)
        assert graph.name == safe(HOSTILE).replace("\\", "\\\\")  # an ID: no escapes read
        assert graph.edges == [("input", "n1"), ("n1", "n2"), ("n1", "n3"), ("n2", "n3")]
        assert label_lines(graph.nodes["n3"]["label"])[0] == "#35;"
        assert label_lines(graph.defaults["graph"]["label"])[0] == safe(HOSTILE)
    else:
        nodes = check_mermaid(report)
        assert nodes["n1"][0] == safe(HOSTILE)
        assert nodes["n3"][0] == "#35;"  # written #35;35; so it is not read as '#'
        assert text.count("\n") == len(text.splitlines())


def test_percent_adds_the_shares() -> None:
    # dense 4 -> 2 (10 params, 8 MACs) then dense 2 -> 3 (9 params, 6 MACs): 10/19 and 8/14.
    report = analyze({"input": [4], "layers": [{"dense": 2}, {"dense": 3}]})
    shown = hotspots(report, View(percent=True))
    lines = label_lines(parse_dot(render_dot(shown)).nodes["n1"]["label"])
    assert lines[3] == "52.6% of params · 57.1% of MACs"
    assert check_mermaid(shown)["n2"][3] == "47.4% of params · 42.9% of MACs"
    assert len(label_lines(parse_dot(render_dot(report)).nodes["n1"]["label"])) == 3


@pytest.mark.parametrize(
    "view", [View(sort=SortBy.MACS), View(top=2), View(group_by=GroupBy.TYPE)], ids=str
)
def test_ranked_or_grouped_rows_are_not_drawn(view: View) -> None:
    report = hotspots(model("zoo:mnist_cnn"), view)
    for render in (render_dot, render_mermaid):
        with pytest.raises(ConvCalcError, match="grouped or ranked"):
            render(report)


def test_a_mermaid_text_too_long_for_github_is_noted() -> None:
    # 700 relus: each a node line and an edge line, over 80 characters: past Mermaid's 50,000
    chain = ["chain", "8", "8", "1", *["relu"] * 700, "--depth", "all", "-f", "mermaid"]
    result = RUNNER.invoke(app, chain)
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout) > 50_000
    assert (
        f"Note: the Mermaid text is {len(result.stdout):,} characters, and Mermaid (GitHub's "
        "Markdown among others) draws at most 50,000 by default: fold blocks with a smaller "
        "--depth N to shorten it"
    ) in result.stderr
    short = RUNNER.invoke(app, [*chain[:5], "-f", "mermaid"])
    assert short.exit_code == 0 and "Mermaid text" not in short.stderr
    # DOT has no such limit: no note
    assert "Mermaid" not in RUNNER.invoke(app, [*chain[:-1], "dot"]).stderr


def test_command_line_folds_a_long_network_as_the_table_does() -> None:
    result = RUNNER.invoke(app, ["model", "zoo:resnet50", "--format", "mermaid"])
    assert result.exit_code == 0, result.stderr
    nodes = [line for line in result.stdout.splitlines() if _NODE.match(line)]
    assert 1 < len(nodes) <= 61  # 60 rows at most, and the input
    assert "blocks folded below depth" in result.stderr  # the notes, where a person sees them
    result = RUNNER.invoke(app, ["model", "zoo:resnet50", "-f", "dot", "--depth", "all"])
    assert result.exit_code == 0, result.stderr
    assert len(parse_dot(result.stdout).nodes) == 175 + 1  # every layer of ResNet-50


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz (dot) is not installed")
@pytest.mark.parametrize("source", [*MODELS, "hostile"], ids=str)
def test_graphviz_reads_it(source: str | Path, tmp_path: Path) -> None:
    if source == "hostile":
        report = analyze({"name": HOSTILE, "input": [4], "layers": [{"dense": 2, "name": HOSTILE}]})
    else:
        report = model(source)
    path = tmp_path / "graph.dot"
    path.write_text(render_dot(report), encoding="utf-8")
    done = subprocess.run(
        ["dot", "-Tsvg", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0 and not done.stderr, done.stderr
    assert done.stdout.count('class="node"') == len(report.layers) + 1
    assert done.stdout.count('class="edge"') == len(expected_edges(report))


def test_the_readme_shows_what_convcalc_writes_now() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```mermaid\n(.*?)```", readme, re.S)
    assert block is not None
    diagram = DATA.parent.parent / "docs" / "diagram.yaml"
    assert block.group(1) == render_mermaid(fold(model(diagram), 0))
    check_mermaid(fold(model(diagram), 0))
    shown = re.findall(r"^  (n1 \[.*|input \[.*)$", readme, re.M)
    assert len(shown) == 2  # the DOT example's input and first row, as written now
    for line in shown:
        assert "  " + line in render_dot(fold(model(diagram), 0)).splitlines()
