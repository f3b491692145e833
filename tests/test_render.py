"""The renderers, on reports built by hand: every number here is chosen, not computed."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

from convcalc._render import assert_never, render, table_renderable
from convcalc._render._csv import HEADER
from convcalc._render._units import (
    NOTHING_TO_EXPLAIN,
    batched_shape,
    exact,
    field_summary,
    human_bytes,
    human_count,
    per_axis,
)
from convcalc._report import Field, LayerRow, Report, Totals
from convcalc._settings import DType, Framework, Layout, OutputFormat, Settings

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
    explain=("H: floor((28 - 2 - 1) / 1) + 1 = 26", "params: (3*3*1 + 1) * 32 = 320"),
)
BATCHNORM = LayerRow(
    number=2,
    name="batchnorm",
    type="batchnorm",
    input_shape=(26, 26, 32),
    output_shape=(26, 26, 32),
    trainable_params=64,
    non_trainable_params=64,
    macs=0,
    receptive_field=Field(size=(3, 3), jump=(1, 1), start=(1.5, 1.5)),
    explain=("params: 2*32 + 2*32 (non-trainable) = 128",),
)
FLATTEN = LayerRow(
    number=3,
    name="flatten",
    type="flatten",
    input_shape=(26, 26, 32),
    output_shape=(21_632,),
    trainable_params=0,
    non_trainable_params=0,
    macs=0,
    receptive_field=None,
)
# 448 params * 4 bytes; three outputs of 21,632 elements * 4 bytes = 259,584 = 253.50 KiB.
TOTALS = Totals(
    params=448,
    trainable_params=384,
    non_trainable_params=64,
    macs=194_688,
    param_bytes=1_792,
    activation_bytes=259_584,
)
REPORT = Report(
    name="tiny",
    settings=Settings(),
    input_shape=(28, 28, 1),
    output_shape=(21_632,),
    layers=(CONV, BATCHNORM, FLATTEN),
    totals=TOTALS,
)
EXPLAINED = REPORT._replace(settings=Settings(explain=True))
ONLY_CONV = REPORT._replace(
    name=None,
    output_shape=(26, 26, 32),
    layers=(CONV,),
    totals=Totals(320, 320, 0, 194_688, 1_280, 86_528),
)


def _table(report: Report, color: bool = False) -> str:
    return render(report, OutputFormat.TABLE, color=color)


# --- units -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "expected"),
    [(0, "0"), (999, "999"), (1_000, "1,000"), (194_688, "194,688"), (10**9, "1,000,000,000")],
)
def test_exact(number: int, expected: str) -> None:
    assert exact(number) == expected


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (0, "0"),
        (320, "320"),
        (999, "999"),
        (1_000, "1.00 K"),
        (194_688, "194.69 K"),
        (999_994, "999.99 K"),
        (999_995, "1.00 M"),  # rounds up: never "1000.00 K"
        (2_631_040, "2.63 M"),
        (4_089_184_256, "4.09 G"),
        (15_470_000_000, "15.47 G"),
        (3 * 10**12, "3.00 T"),
    ],
)
def test_si_count(number: int, expected: str) -> None:
    assert human_count(number) == expected


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (0, "0 B"),
        (320, "320 B"),
        (1_023, "1023 B"),
        (1_024, "1.00 KiB"),
        (86_528, "84.50 KiB"),
        (1_048_575, "1.00 MiB"),  # rounds up: never "1024.00 KiB"
        (102_400_000, "97.66 MiB"),
        (2**30, "1.00 GiB"),
        (5 * 2**40, "5.00 TiB"),
    ],
)
def test_binary_bytes(number: int, expected: str) -> None:
    assert human_bytes(number) == expected


@pytest.mark.parametrize(
    ("shape", "batch", "expected"),
    [
        ((26, 26, 32), None, "(None, 26, 26, 32)"),
        ((26, 26, 32), 32, "(32, 26, 26, 32)"),
        ((10,), None, "(None, 10)"),
        ((3, 7, 5), 10, "(10, 3, 7, 5)"),
    ],
)
def test_batched_shape(shape: tuple[int, ...], batch: int | None, expected: str) -> None:
    assert batched_shape(shape, batch) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [((3, 3), "3x3"), ((26, 26, 32), "26x26x32"), ((7,), "7"), ((1.5, 2.0), "1.5x2")],
)
def test_per_axis(values: tuple[float, ...], expected: str) -> None:
    assert per_axis(values) == expected


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        (Field((3, 3), (1, 1), (1.5, 1.5)), "3x3 / 1"),
        (Field((5, 3), (2, 1), (2.5, 1.5)), "5x3 / 2x1"),
        (Field((3,), (2,), (1.5,)), "3 / 2"),
        (None, "whole"),
    ],
)
def test_field_summary(field: Field | None, expected: str) -> None:
    assert field_summary(field) == expected


# --- dispatch ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_render_is_exhaustive(fmt: OutputFormat) -> None:
    text = render(REPORT, fmt)
    assert text.endswith("\n")
    assert "conv2d" in text


def test_assert_never_raises() -> None:
    with pytest.raises(AssertionError, match="unhandled"):
        assert_never("nope")  # type: ignore[arg-type]


def test_json_rich_free_import() -> None:
    """Importing the renderers and writing JSON, Markdown or CSV must not load rich."""
    code = (
        "import sys\n"
        "from convcalc import analyze\n"
        "from convcalc._render import render\n"
        "from convcalc._settings import OutputFormat\n"
        "report = analyze({'input': [28, 28, 1], 'layers': ['flatten']})\n"
        "for fmt in (OutputFormat.JSON, OutputFormat.MARKDOWN, OutputFormat.CSV):\n"
        "    render(report, fmt)\n"
        "loaded = sorted(m for m in sys.modules if m == 'rich' or m.startswith('rich.'))\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- json ----------------------------------------------------------------------------------


@pytest.mark.parametrize("report", [REPORT, EXPLAINED, ONLY_CONV])
def test_json_round_trips(report: Report) -> None:
    text = render(report, OutputFormat.JSON)
    assert json.loads(text) == report.to_dict()
    assert text.endswith("}\n")


def test_json_carries_explain_only_when_asked() -> None:
    assert "explain" not in json.loads(render(REPORT, OutputFormat.JSON))["layers"][0]
    layer = json.loads(render(EXPLAINED, OutputFormat.JSON))["layers"][0]
    assert layer["explain"] == list(CONV.explain)


# --- csv -----------------------------------------------------------------------------------


def test_csv_header_and_rows() -> None:
    text = render(REPORT, OutputFormat.CSV)
    assert "\r" not in text
    assert text.splitlines()[0] == ",".join(HEADER)
    reader = csv.DictReader(io.StringIO(text))
    assert reader.fieldnames == [
        "index",
        "name",
        "type",
        "depth",
        "input_shape",
        "output_shape",
        "params",
        "trainable_params",
        "non_trainable_params",
        "macs",
        "rf_size",
        "rf_jump",
        "rf_start",
    ]
    rows = list(reader)
    assert len(rows) == 3  # one per layer, no totals
    assert rows[0] == {
        "index": "1",
        "name": "conv2d",
        "type": "conv2d",
        "depth": "0",
        "input_shape": "28x28x1",
        "output_shape": "26x26x32",
        "params": "320",
        "trainable_params": "320",
        "non_trainable_params": "0",
        "macs": "194688",
        "rf_size": "3x3",
        "rf_jump": "1x1",
        "rf_start": "1.5x1.5",
    }
    assert rows[1]["params"] == "128"
    assert rows[1]["non_trainable_params"] == "64"
    assert rows[2]["output_shape"] == "21632"
    assert (rows[2]["rf_size"], rows[2]["rf_jump"], rows[2]["rf_start"]) == ("", "", "")


def test_csv_quotes_awkward_names() -> None:
    odd = REPORT._replace(layers=(CONV._replace(name='a,"b"'),))
    rows = list(csv.DictReader(io.StringIO(render(odd, OutputFormat.CSV))))
    assert rows[0]["name"] == 'a,"b"'


# --- markdown ------------------------------------------------------------------------------


def test_markdown_layer_table() -> None:
    lines = render(REPORT, OutputFormat.MARKDOWN).splitlines()
    header = "| # | Layer | Type | Output shape | Params | Non-trainable | MACs | RF size / jump |"
    at = lines.index(header)
    assert lines[at + 1] == "|---:|---|---|---|---:|---:|---:|---|"
    assert (
        lines[at + 2]
        == "| 1 | conv2d | conv2d | (None, 26, 26, 32) | 320 | 0 | 194,688 | 3x3 / 1 |"
    )
    assert lines[at + 4] == "| 3 | flatten | flatten | (None, 21632) | 0 | 0 | 0 | whole |"
    assert lines[at + 5] == ""  # a blank line, then the totals


def test_markdown_totals() -> None:
    text = render(REPORT, OutputFormat.MARKDOWN)
    assert "|---|---:|" in text
    assert "| Total params | 448 |" in text
    assert "| Trainable params | 384 |" in text
    assert "| Non-trainable params | 64 |" in text
    assert "| MACs | 194.69 K (194,688) |" in text
    assert "| FLOPs | 389.38 K (389,376) |" in text
    assert "| Parameter memory | 1.75 KiB (1,792 bytes, float32) |" in text
    assert "| Activation memory | 253.50 KiB (259,584 bytes, float32, batch 1) |" in text
    assert "| Output shape | (None, 21632) |" in text


def test_markdown_drops_non_trainable_column_when_all_zero() -> None:
    text = render(ONLY_CONV, OutputFormat.MARKDOWN)
    assert "| # | Layer | Type | Output shape | Params | MACs | RF size / jump |" in text
    assert "|---:|---|---|---|---:|---:|---|" in text


def test_markdown_escapes_pipes_and_indents_by_depth() -> None:
    nested = REPORT._replace(layers=(CONV._replace(name="a|b", depth=2),))
    assert "| 1 | &nbsp;&nbsp;&nbsp;&nbsp;a\\|b | conv2d |" in render(nested, OutputFormat.MARKDOWN)


def test_markdown_working() -> None:
    assert "### Working" not in render(REPORT, OutputFormat.MARKDOWN)
    text = render(EXPLAINED, OutputFormat.MARKDOWN)
    working = text[text.index("### Working") :]
    assert "**1  conv2d  (conv2d)**" in working
    assert "```text\nH: floor((28 - 2 - 1) / 1) + 1 = 26\nparams:" in working
    assert f"**3  flatten  (flatten)**\n\n```text\n{NOTHING_TO_EXPLAIN}\n```" in working


# --- table ---------------------------------------------------------------------------------


def test_table_plain_text() -> None:
    text = _table(REPORT)
    assert "\x1b" not in text
    for expected in (
        "tiny",
        "framework keras · layout hwc · dtype float32 · batch None",
        "Output shape",
        "RF size / jump",
        "(None, 26, 26, 32)",
        "194,688",
        "194.69 K",
        "389.38 K",
        "253.50 KiB",
        "259,584 bytes",
        "batch 1",
        "3x3 / 1",
        "whole",
    ):
        assert expected in text, expected


def test_table_row_and_totals() -> None:
    lines = _table(REPORT).splitlines()
    conv = next(line for line in lines if "│ conv2d" in line)
    cells = [cell.strip() for cell in conv.strip("│").split("│")]
    assert cells == [
        "1",
        "conv2d",
        "conv2d",
        "(None, 26, 26, 32)",
        "320",
        "0",
        "194,688",
        "3x3 / 1",
    ]
    total = next(line for line in lines if line.startswith("Total params"))
    assert total.split() == ["Total", "params", "448"]  # exact, no units
    assert not any(line != line.rstrip() for line in lines)


def test_table_non_trainable_column_only_when_needed() -> None:
    def header(report: Report) -> str:
        return next(line for line in _table(report).splitlines() if "Layer" in line)

    assert "Non-trainable" in header(REPORT)
    assert "Non-trainable" not in header(ONLY_CONV)
    assert _table(ONLY_CONV).splitlines()[0] == "convcalc"  # the title when there is no name


def test_table_shows_batch() -> None:
    batched = REPORT._replace(settings=Settings(batch=32, dtype=DType.FLOAT16))
    text = _table(batched)
    assert "(32, 26, 26, 32)" in text
    assert "per batch of 32" in text
    assert "dtype float16" in text


def test_table_indents_by_depth() -> None:
    nested = REPORT._replace(layers=(CONV, BATCHNORM._replace(name="block.bn", depth=2)))
    assert "│     block.bn " in _table(nested)  # a cell's space, then two per level


def test_table_never_wraps() -> None:
    name = "block_" * 40 + "conv2d"
    shape = (100_000, 100_000, 100_000)
    wide = REPORT._replace(layers=(CONV._replace(name=name, output_shape=shape),))
    text = _table(wide)
    assert name in text
    assert "(None, 100000, 100000, 100000)" in text


def test_table_colour_is_a_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "20")
    assert "\x1b" not in _table(REPORT)
    assert "\x1b[" in _table(REPORT, color=True)


def test_table_does_not_read_markup() -> None:
    odd = REPORT._replace(layers=(CONV._replace(name="[bold]x[/bold]"),))
    assert "[bold]x[/bold]" in _table(odd)


def test_table_working() -> None:
    assert "Working" not in _table(REPORT)
    text = _table(EXPLAINED)
    working = text[text.index("Working") :]
    assert "1  conv2d  (conv2d)\n    H: floor((28 - 2 - 1) / 1) + 1 = 26\n" in working
    assert "2  batchnorm  (batchnorm)\n    params: 2*32 + 2*32 (non-trainable) = 128" in working
    assert f"3  flatten  (flatten)\n    {NOTHING_TO_EXPLAIN}" in working


def test_table_notes_pytorch_buffers() -> None:
    torch = REPORT._replace(
        settings=Settings(framework=Framework.PYTORCH, layout=Layout.CHW),
        layers=(CONV, BATCHNORM._replace(trainable_params=64, non_trainable_params=0, buffers=64)),
    )
    assert "incl. 64 buffer elements" in _table(torch)


def test_table_renderable_prints_to_a_console() -> None:
    from rich.console import Console

    buffer = io.StringIO()
    Console(file=buffer, width=200, color_system=None).print(table_renderable(REPORT))
    assert "194,688" in buffer.getvalue()


def test_print_table_never_squeezes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Printed to a narrow non-terminal, the table keeps its width and no colour."""
    from convcalc._render import print_table

    monkeypatch.setenv("COLUMNS", "30")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    buffer = io.StringIO()
    print_table(REPORT, buffer)
    printed = buffer.getvalue()
    assert "\x1b" not in printed
    assert "(None, 26, 26, 32)" in printed
    assert "253.50 KiB" in printed
