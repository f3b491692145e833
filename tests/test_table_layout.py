"""The table as a terminal shows it: fitted to 80, 60 and 40 columns, every figure whole.

The command runs through typer's CliRunner (a pipe, as in CI) with ``COLUMNS`` set, the way a
user's shell sets it. The figures are worked out by hand:

- MNIST: conv 32·(3·3·1 + 1) = 320, MACs 26·26·32·9 = 194,688; conv 64·(3·3·32 + 1) = 18,496,
  MACs 11·11·64·288 = 2,230,272; dense 1600·128 + 128 = 204,928, MACs 204,800; dense
  128·10 + 10 = 1,290, MACs 1,280; total 225,034.
- ``dense 784 --units 128``: 784·128 + 128 = 100,480 params, 100,352 MACs.
- ``pool 26 26 32 --size 2``: floor((26 - 2) / 2) + 1 = 13, so 13x13x32, no params.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from typing import NamedTuple

import pytest
from typer.testing import CliRunner

from convcalc import analyze
from convcalc._cli import app
from convcalc._input._zoo import load_zoo
from convcalc._render import render
from convcalc._render._table import print_table, table_lines
from convcalc._render._units import text_width
from convcalc._report import LayerRow, Report
from convcalc._settings import OutputFormat
from convcalc._terminal import MAX_WIDTH, MIN_WIDTH, parse_columns

RUNNER = CliRunner()
WIDTHS = [80, 60, 40]
ANSI = re.compile("\x1b")

MNIST_ARGS = ["model", "zoo:mnist_cnn"]
MNIST_PARAMS = {1: "320", 2: "0", 3: "18,496", 4: "0", 5: "0", 6: "204,928", 7: "1,290"}
MNIST_MACS = {1: "194,688", 2: "0", 3: "2,230,272", 4: "0", 5: "0", 6: "204,800", 7: "1,280"}
MNIST_TOTAL = "225,034"

CONV_ARGS = ["conv", "28", "28", "1", "--filters", "32", "--kernel", "3"]
POOL_ARGS = ["pool", "26", "26", "32", "--size", "2"]
DENSE_ARGS = ["dense", "784", "--units", "128"]
SINGLE = [
    pytest.param(CONV_ARGS, "320", "194,688", id="conv"),
    pytest.param(POOL_ARGS, "0", "0", id="pool"),
    pytest.param(DENSE_ARGS, "100,480", "100,352", id="dense"),
]


def run(*args: str, columns: str | None = None, stdin: str | None = None) -> str:
    """stdout of ``convcalc ARGS`` with ``COLUMNS`` set (None: unset), colour begged for."""
    env = {"COLUMNS": columns, "FORCE_COLOR": "1", "TERM": "xterm-256color", "NO_COLOR": None}
    result = RUNNER.invoke(app, list(args), env=env, input=stdin)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def whole(figure: str, text: str) -> bool:
    """Whether ``figure`` stands in ``text`` as a whole number, not as part of a longer one."""
    return re.search(rf"(?<![\d,.]){re.escape(figure)}(?![\d,]|\.\d)", text) is not None


class Rows(NamedTuple):
    """The layer table of a printed summary: its lines, and each layer's text by number."""

    lines: list[str]
    by_number: dict[int, str]


def layer_rows(text: str) -> Rows:
    """The lines from the rule under the header to the rule over the totals, and each row's
    text (one line in a table, the name line and its figure lines when stacked)."""
    lines = text.splitlines()
    rules = [at for at, line in enumerate(lines) if line and set(line) == {"─"}]
    assert len(rules) == 2, text
    body = lines[rules[0] + 1 : rules[1]]
    header = next(line for line in lines[: rules[0]] if re.match(r" *# ", line))
    digits = header.index("#") + 1  # numbers are right-aligned under the "#"
    by_number: dict[int, str] = {}
    current = None
    for line in body:
        start = re.match(r"( *)(\d+) ", line)
        if start and len(start.group(1)) + len(start.group(2)) == digits:
            current = int(start.group(2))
            by_number[current] = line
        else:
            assert current is not None, line
            by_number[current] += "\n" + line
    return Rows(lines[rules[0] : rules[1] + 1], by_number)


def assert_fits(text: str, width: int) -> None:
    for line in text.splitlines():
        assert text_width(line) <= width, f"{text_width(line)} > {width}: {line!r}"


def assert_no_blank_lines_in_table(text: str) -> None:
    rows = layer_rows(text)
    assert all(line.strip() for line in rows.lines), text
    before_working = text.split("\nWorking\n")[0]
    assert "\n\n" not in before_working.rstrip("\n"), text


# --- mnist at 80, 60 and 40 columns ---------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_mnist_fits(width: int) -> None:
    text = run(*MNIST_ARGS, columns=str(width))
    assert_fits(text, width)
    assert_no_blank_lines_in_table(text)
    assert not ANSI.search(text)  # piped: plain, whatever FORCE_COLOR says


@pytest.mark.parametrize("width", WIDTHS)
def test_mnist_every_figure_whole(width: int) -> None:
    text = run(*MNIST_ARGS, columns=str(width))
    rows = layer_rows(text).by_number
    assert sorted(rows) == list(range(1, 8))
    for number, params in MNIST_PARAMS.items():
        assert whole(params, rows[number]), (number, params, rows[number])
        assert whole(MNIST_MACS[number], rows[number]), (number, rows[number])
    total = next(line for line in text.splitlines() if line.startswith("Total params"))
    assert total.split() == ["Total", "params", MNIST_TOTAL]


def test_mnist_at_80_is_one_line_per_layer_with_keras_shapes() -> None:
    text = run(*MNIST_ARGS, columns="80")
    rows = layer_rows(text).by_number
    assert all("\n" not in row for row in rows.values())
    assert "(None, 26, 26, 32)" in rows[1] and "(None, 10)" in rows[7]
    assert "batch None" not in text
    assert text.splitlines()[1] == "framework keras · layout hwc · dtype float32"


def test_mnist_at_40_stacks_each_layer() -> None:
    text = run(*MNIST_ARGS, columns="40")
    rows = layer_rows(text).by_number
    for number, name in [(1, "conv2d"), (4, "maxpool2d_1"), (7, "dense_1")]:
        name_line, *figures = rows[number].splitlines()
        assert name_line == f"{number} {name}"
        assert figures and all(line.startswith("    ") for line in figures)
    assert "26x26x32" in rows[1]


def test_natural_width_when_columns_is_unset() -> None:
    """Piped without COLUMNS, nothing is squeezed: the table is as wide as it is."""
    text = run(*MNIST_ARGS)
    assert text == render(analyze(load_zoo("mnist_cnn")), OutputFormat.TABLE)
    assert "(None, 26, 26, 32)" in text


# --- single layers ---------------------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(("args", "params", "macs"), SINGLE)
def test_single_layer_fits(args: list[str], params: str, macs: str, width: int) -> None:
    text = run(*args, columns=str(width))
    assert_fits(text, width)
    assert_no_blank_lines_in_table(text)
    row = layer_rows(text).by_number[1]
    assert whole(params, row) and whole(macs, row), row
    assert not ANSI.search(text)


@pytest.mark.parametrize("width", [80, 60])
@pytest.mark.parametrize(("args", "params", "macs"), SINGLE)
def test_single_layer_is_one_line(args: list[str], params: str, macs: str, width: int) -> None:
    rows = layer_rows(run(*args, columns=str(width))).by_number
    assert list(rows) == [1] and "\n" not in rows[1]


def test_pool_shape() -> None:
    assert "(None, 13, 13, 32)" in run(*POOL_ARGS, columns="80")
    assert "13x13x32" in run(*POOL_ARGS, columns="40")


@pytest.mark.parametrize("width", WIDTHS)
def test_explain_wraps_to_the_width(width: int) -> None:
    text = run(*CONV_ARGS, "--stride", "2", "--explain", columns=str(width))
    assert_fits(text, width)
    working = text[text.index("\nWorking\n") :]
    assert "1  conv2d  (conv2d)" in working
    # 13*13*32 outputs * 1 channel * 3*3 taps = 48,672; (3*3*1 + 1) * 32 = 320
    assert whole("48,672", working) and whole("320", working)
    lines = working.splitlines()[3:]
    assert all(line.startswith("    ") for line in lines if line)


# --- every zoo model fits -------------------------------------------------------------------


# One model of each kind of structure (a chain, residual and dense blocks, branches, depthwise
# and grouped convs, squeeze-and-excitation, channel shuffle, tokens and window attention, Keras'
# padding and preprocessing): every zoo model through this would take minutes, and the
# families repeat the same layers.
LAYOUT_SAMPLE = [
    "mnist_cnn",
    "lenet5",
    "alexnet",
    "resnet50",
    "googlenet",
    "densenet121",
    "efficientnet_b0",
    "shufflenet_v2_x1_0",
    "regnet_x_400mf",
    "vit_b_16",
    "swin_t",
    "keras_mobilenet_v2",
    "keras_inception_resnet_v2",
    "keras_nasnet_mobile",
    "keras_efficientnet_v2_b0",
]


@pytest.mark.parametrize("width", [*WIDTHS, 30])
@pytest.mark.parametrize("name", LAYOUT_SAMPLE)
def test_zoo_fits_and_keeps_every_figure(name: str, width: int) -> None:
    report = analyze(load_zoo(name))
    text = render(report, OutputFormat.TABLE, width=width)
    assert_fits(text, width)
    assert_no_blank_lines_in_table(text)
    rows = layer_rows(text).by_number
    assert sorted(rows) == [layer.number for layer in report.layers]
    # Not a check of the counts (test_zoo does that against the frameworks): of the layout,
    # which must show each row's figures whole at every width.
    for layer in report.layers:
        for figure in (layer.params, layer.macs):
            assert whole(f"{figure:,}", rows[layer.number]), (layer.name, figure, width)


# --- names are data ---------------------------------------------------------------------------

HOSTILE_MODEL = (
    'name: "evil\\e[2J\\a"\n'
    "input: [28, 28, 1]\n"
    "layers:\n"
    '  - conv2d: {filters: 32, kernel: 3, name: "stem\\e]0;owned\\a\\r\\n\\u202e"}\n'
    "  - flatten\n"
    "  - dense: 10\n"
)


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv", "json"])
def test_escape_and_bell_never_reach_the_terminal(fmt: str) -> None:
    text = run("model", "-", "--format", fmt, columns="80", stdin=HOSTILE_MODEL)
    for raw in ("\x1b", "\x07", "\r", "\u202e"):
        assert raw not in text, (fmt, repr(raw))
    if fmt == "json":
        assert json.loads(text)["layers"][0]["name"] == "stem\x1b]0;owned\x07\r\n\u202e"
    else:
        assert "stem\\x1b]0;owned\\x07\\r\\n\\u202e" in text
    if fmt in ("table", "markdown"):
        assert "evil\\x1b[2J\\x07" in text


@pytest.mark.parametrize("width", WIDTHS)
def test_hostile_names_fit(width: int) -> None:
    text = run("model", "-", columns=str(width), stdin=HOSTILE_MODEL)
    assert_fits(text, width)
    assert_no_blank_lines_in_table(text)
    # 32 * (3*3*1 + 1) = 320; dense 26*26*32 = 21,632 inputs: 21,632*10 + 10 = 216,330
    rows = layer_rows(text).by_number
    assert whole("320", rows[1]) and whole("216,330", rows[3])


@pytest.mark.parametrize("width", [None, *WIDTHS])
def test_a_very_long_name_is_cut_in_the_middle(width: int | None) -> None:
    name = "a" * 180 + "_tail"  # names may have 200 characters at most
    model = f"input: [28, 28, 1]\nlayers:\n  - conv2d: {{filters: 32, kernel: 3, name: {name}}}\n"
    text = run("model", "-", columns=None if width is None else str(width), stdin=model)
    row = layer_rows(text).by_number[1]
    assert "…" in row and "_tail (conv2d)" in row and name not in row
    assert whole("320", row) and whole("194,688", row)
    assert max(len(line) for line in text.splitlines()) < 200
    if width is not None:
        assert_fits(text, width)


# --- absurd widths ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "columns",
    [
        "10" + "0" * 29,
        "9" * 5_000,
        "0",
        "-5",
        "abc",
        "",
        "   ",
        "80.5",
        "1e3",
        "\u0668\u0660",
        "+80",
    ],
)
def test_absurd_columns_do_not_crash(columns: str) -> None:
    text = run(*MNIST_ARGS, columns=columns)
    assert whole(MNIST_TOTAL, text)
    assert whole("18,496", text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, None),
        ("", None),
        ("abc", None),
        ("0", None),
        ("-5", None),
        ("80.5", None),
        ("\u0668\u0660", None),  # Arabic-Indic digits: not a width a terminal sets
        ("80", 80),
        (" 60 ", 60),
        ("3", MIN_WIDTH),
        ("10" + "0" * 29, MAX_WIDTH),
        ("9" * 5_000, MAX_WIDTH),  # beyond int()'s digit limit: never parsed
    ],
)
def test_parse_columns(text: str | None, expected: int | None) -> None:
    assert parse_columns(text) == expected


def test_huge_columns_is_the_natural_table() -> None:
    assert run(*MNIST_ARGS, columns="10" + "0" * 29) == run(*MNIST_ARGS)


# --- colour only on a terminal ----------------------------------------------------------------

SCRIPT = shutil.which("convcalc")


def test_a_real_pipe_gets_no_ansi() -> None:
    env = {**os.environ, "COLUMNS": "80", "FORCE_COLOR": "1", "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    done = subprocess.run(
        [sys.executable, "-m", "convcalc", *MNIST_ARGS],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    assert not ANSI.search(done.stdout)
    assert_fits(done.stdout, 80)
    assert whole(MNIST_TOTAL, done.stdout)


def _on_a_terminal(env: dict[str, str]) -> str:
    """What convcalc writes to a pseudo-terminal 100 columns wide."""
    import fcntl
    import pty
    import struct
    import termios

    parent, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "convcalc", *MNIST_ARGS], stdout=child, stderr=child, env=env
    )
    os.close(child)
    chunks = []
    while True:
        try:
            chunk = os.read(parent, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=60)
    os.close(parent)
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_a_terminal_gets_colour_unless_no_color() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR")}
    env["TERM"] = "xterm-256color"
    coloured = _on_a_terminal(env)
    assert "\x1b[" in coloured
    plain = re.sub("\x1b\\[[0-9;]*m", "", coloured)
    assert whole(MNIST_TOTAL, plain)
    assert_fits(plain, 100)  # the terminal's own width
    assert not ANSI.search(_on_a_terminal({**env, "NO_COLOR": "1"}))


# --- streaming ----------------------------------------------------------------------------------


def _many(count: int) -> Report:
    base = analyze(load_zoo("mnist_cnn"))
    row = base.layers[0]
    layers = tuple(
        LayerRow(
            number=index + 1,
            name=f"conv2d_{index}",
            type="conv2d",
            input_shape=row.input_shape,
            output_shape=row.output_shape,
            trainable_params=row.trainable_params,
            non_trainable_params=0,
            macs=row.macs,
            receptive_field=row.receptive_field,
        )
        for index in range(count)
    )
    return base._replace(layers=layers)


class Recorder:
    """A file that counts its writes."""

    def __init__(self) -> None:
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return len(text)

    def isatty(self) -> bool:
        return False


def test_table_lines_is_a_generator() -> None:
    lines = table_lines(_many(3))
    assert inspect.isgenerator(lines)
    assert next(lines) == "mnist_cnn"


def test_print_table_writes_as_it_goes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    report = _many(5_000)
    recorder = Recorder()
    print_table(report, recorder)  # type: ignore[arg-type]
    assert len(recorder.writes) > 5  # in pieces, not one string of the whole table
    printed = "".join(recorder.writes)
    assert printed == render(report, OutputFormat.TABLE, width=60)
    assert printed.count("\n") == len(list(_lines(report, 60)))


def _lines(report: Report, width: int) -> Iterator[str]:
    return table_lines(report, width=width)
