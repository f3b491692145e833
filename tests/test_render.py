"""The renderers, on reports built by hand: every number here is chosen, not computed."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys

import pytest

from convcalc._render import render
from convcalc._render._csv import HEADER
from convcalc._render._units import (
    NOTHING_TO_EXPLAIN,
    batched_shape,
    cut_middle,
    exact,
    field_summary,
    human_bytes,
    human_count,
    per_axis,
    safe,
    shows_type,
    text_width,
)
from convcalc._report import Field, LayerRow, Report, Totals
from convcalc._settings import DType, Framework, Layout, OutputFormat, Settings, assert_never

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


def _table(report: Report, color: bool = False, width: int | None = None) -> str:
    return render(report, OutputFormat.TABLE, color=color, width=width)


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
        (Field((3, 3), (1, 1), (1.5, 1.5)), "3x3/1"),
        (Field((5, 3), (2, 1), (2.5, 1.5)), "5x3/2x1"),
        (Field((3,), (2,), (1.5,)), "3/2"),
        (None, "whole"),
    ],
)
def test_field_summary(field: Field | None, expected: str) -> None:
    assert field_summary(field) == expected


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        (Field((3, 3), (1, 1), (1.5, 1.5)), "3/1"),  # every axis agrees: written once
        (Field((5, 3), (2, 2), (2.5, 1.5)), "5x3/2"),
        (Field((5, 3), (2, 1), (2.5, 1.5)), "5x3/2x1"),
        (None, "whole"),
    ],
)
def test_field_summary_compact(field: Field | None, expected: str) -> None:
    assert field_summary(field, compact=True) == expected


@pytest.mark.parametrize(
    ("name", "kind", "shown"),
    [
        ("conv2d", "conv2d", False),
        ("conv2d_1", "conv2d", False),  # an automatic name
        ("basic_1.residual.conv2d", "conv2d", False),  # the last part is the type
        ("layer1.bottleneck_1", "bottleneck", False),
        ("stem", "conv2d", True),  # the user's own name
        ("conv2d_x", "conv2d", True),
        ("conv2d_", "conv2d", True),
        ("conv2d.head", "conv2d", True),
        ("dense", "conv2d", True),
    ],
)
def test_the_type_is_shown_when_the_name_does_not_say_it(name: str, kind: str, shown: bool) -> None:
    assert shows_type(name, kind) is shown


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("conv2d", "conv2d"),
        ("a\x1b[31mb", "a\\x1b[31mb"),
        ("bell\a", "bell\\x07"),
        ("a\r\nb\tc", "a\\r\\nb\\tc"),
        ("\x7f\x85\x9b", "\\x7f\\x85\\x9b"),  # DEL, NEL, CSI
        ("a\u2028b\u2029c", "a\\u2028b\\u2029c"),
        ("abc\u202edef\u2066x\u200f", "abc\\u202edef\\u2066x\\u200f"),
        ("lone\ud800", "lone\\ud800"),
        ("caf\u00e9 \u5377\u79ef back\\slash", "caf\u00e9 \u5377\u79ef back\\slash"),
    ],
)
def test_safe_escapes_what_could_reach_the_terminal(text: str, expected: str) -> None:
    assert safe(text) == expected


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("conv2d", 6, "conv2d"),
        ("abcdefghij", 5, "ab…ij"),
        ("layer1.bottleneck_down.residual.conv2d", 20, "layer1.…idual.conv2d"),
        ("\u5377\u79ef\u5c42\u5377\u79ef\u5c42", 7, "\u5377…\u79ef\u5c42"),
    ],
)
def test_cut_middle(text: str, limit: int, expected: str) -> None:
    cut = cut_middle(text, limit)
    assert cut == expected
    assert text_width(cut) <= limit


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
    assert lines[0] == "**tiny** · framework keras · layout hwc · dtype float32"  # no "batch None"
    header = "| # | Layer | Output shape | Params | Non-trainable | MACs | RF |"
    at = lines.index(header)
    assert lines[at + 1] == "|---:|---|---|---:|---:|---:|---|"
    assert lines[at + 2] == "| 1 | conv2d | (None, 26, 26, 32) | 320 | 0 | 194,688 | 3x3/1 |"
    assert lines[at + 3] == "| 2 | batchnorm | (None, 26, 26, 32) | 128 | 64 | 0 | 3x3/1 |"
    assert lines[at + 4] == "| 3 | flatten | (None, 21632) | 0 | 0 | 0 | whole |"
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
    assert "| # | Layer | Output shape | Params | MACs | RF |" in text
    assert "|---:|---|---|---:|---:|---|" in text


def test_markdown_shows_the_type_only_when_the_name_does_not() -> None:
    named = REPORT._replace(layers=(CONV._replace(name="stem"), FLATTEN))
    text = render(named, OutputFormat.MARKDOWN)
    assert "| # | Layer (type) | Output shape |" in text
    assert "| 1 | stem (conv2d) | (None, 26, 26, 32) | 320 |" in text
    assert "| 3 | flatten | (None, 21632) | 0 |" in text


def test_markdown_escapes_pipes_and_indents_by_depth() -> None:
    nested = REPORT._replace(layers=(CONV._replace(name="a|b.conv2d", depth=2),))
    text = render(nested, OutputFormat.MARKDOWN)
    assert "| 1 | &nbsp;&nbsp;&nbsp;&nbsp;a\\|b.conv2d | (None, 26, 26, 32) |" in text


def test_markdown_with_a_batch_says_macs_are_per_sample() -> None:
    batched = ONLY_CONV._replace(settings=Settings(batch=32))
    text = render(batched, OutputFormat.MARKDOWN)
    assert text.splitlines()[0].endswith("· dtype float32 · batch 32")
    assert "| # | Layer | Output shape | Params | MACs/sample | RF |" in text
    assert "| 1 | conv2d | (32, 26, 26, 32) | 320 | 194,688 | 3x3/1 |" in text
    assert "| MACs per sample | 194.69 K (194,688) |" in text
    assert "| MACs per batch of 32 | 6.23 M (6,230,016) |" in text  # 194,688 * 32
    assert "| FLOPs per sample | 389.38 K (389,376) |" in text


def test_markdown_working() -> None:
    assert "### Working" not in render(REPORT, OutputFormat.MARKDOWN)
    text = render(EXPLAINED, OutputFormat.MARKDOWN)
    working = text[text.index("### Working") :]
    assert "**1  conv2d  (conv2d)**" in working
    assert "```text\nH: floor((28 - 2 - 1) / 1) + 1 = 26\nparams:" in working
    assert f"**3  flatten  (flatten)**\n\n```text\n{NOTHING_TO_EXPLAIN}\n```" in working


def test_markdown_working_fence_outlasts_backticks() -> None:
    odd = EXPLAINED._replace(layers=(CONV._replace(explain=("a ``` b", "c ```` d")),))
    text = render(odd, OutputFormat.MARKDOWN)
    assert "`````text\na ``` b\nc ```` d\n`````" in text


def test_markdown_notes() -> None:
    assert "Note" not in render(REPORT, OutputFormat.MARKDOWN)
    noted = REPORT._replace(notes=("First thing.", "Second thing."))
    text = render(noted, OutputFormat.MARKDOWN)
    assert "\n\n> **Note:** First thing.\n\n> **Note:** Second thing.\n" in text
    assert text.index("| Output shape |") < text.index("> **Note:** First thing.")


# --- table ---------------------------------------------------------------------------------


def _row_cells(text: str, number: int) -> list[str]:
    """A layer row's cells: its number, then every cell split at two or more spaces."""
    line = next(line for line in text.splitlines() if line.startswith(f"{number} "))
    return [str(number), *re.split(r" {2,}", line[len(str(number)) + 1 :].strip())]


def test_table_plain_text() -> None:
    text = _table(REPORT)
    assert "\x1b" not in text
    for expected in (
        "tiny",
        "framework keras · layout hwc · dtype float32",
        "Output shape",
        "RF",
        "(None, 26, 26, 32)",
        "194,688",
        "194.69 K",
        "389.38 K",
        "253.50 KiB",
        "259,584 bytes",
        "batch 1",
        "3x3/1",
        "whole",
    ):
        assert expected in text, expected
    assert "None ·" not in text and "batch None" not in text  # no batch: none is mentioned
    assert text.splitlines()[1] == "framework keras · layout hwc · dtype float32"


def test_table_row_and_totals() -> None:
    text = _table(REPORT)
    assert _row_cells(text, 1) == [
        "1",
        "conv2d",
        "(None, 26, 26, 32)",
        "320",
        "0",
        "194,688",
        "3x3/1",
    ]
    assert _row_cells(text, 2) == [
        "2",
        "batchnorm",
        "(None, 26, 26, 32)",
        "128",
        "64",
        "0",
        "3x3/1",
    ]
    assert _row_cells(text, 3) == ["3", "flatten", "(None, 21632)", "0", "0", "0", "whole"]
    lines = text.splitlines()
    total = next(line for line in lines if line.startswith("Total params"))
    assert total.split() == ["Total", "params", "448"]  # exact, no units
    assert not any(line != line.rstrip() for line in lines)


def test_table_header_and_rules() -> None:
    lines = _table(REPORT).splitlines()
    header = lines.index(next(line for line in lines if line.startswith("# ")))
    assert re.split(r" {2,}", lines[header][2:]) == [
        "Layer",
        "Output shape",
        "Params",
        "Non-trainable",
        "MACs",
        "RF",
    ]
    assert set(lines[header + 1]) == {"─"}
    assert lines[header + 2].startswith("1 conv2d")
    assert set(lines[header + 5]) == {"─"}  # after the three layers
    assert lines[header + 6].startswith("Total params")


def test_table_non_trainable_column_only_when_needed() -> None:
    def header(report: Report) -> str:
        return next(line for line in _table(report).splitlines() if "Layer" in line)

    assert "Non-trainable" in header(REPORT)
    assert "Non-trainable" not in header(ONLY_CONV)
    assert _table(ONLY_CONV).splitlines()[0] == "convcalc"  # the title when there is no name


def test_table_shows_the_type_only_when_the_name_does_not() -> None:
    named = REPORT._replace(layers=(CONV._replace(name="stem"), FLATTEN._replace(name="flatten_3")))
    text = _table(named)
    assert "# Layer (type)" in text
    assert _row_cells(text, 1)[1] == "stem (conv2d)"
    assert _row_cells(text, 3)[1] == "flatten_3"


def test_table_shows_batch() -> None:
    batched = REPORT._replace(settings=Settings(batch=32, dtype=DType.FLOAT16))
    text = _table(batched)
    assert "(32, 26, 26, 32)" in text
    assert "per batch of 32" in text
    assert "dtype float16 · batch 32" in text
    assert "MACs/sample" in text  # the column's figures are per sample
    lines = text.splitlines()
    assert next(line for line in lines if line.startswith("MACs per sample")).split()[-3:] == [
        "194.69",
        "K",
        "(194,688)",
    ]
    per_batch = next(line for line in lines if line.startswith("MACs per batch of 32"))
    assert per_batch.split()[-3:] == ["6.23", "M", "(6,230,016)"]  # 194,688 * 32
    assert any(line.startswith("FLOPs per sample") and "(389,376)" in line for line in lines)


def test_table_indents_by_depth() -> None:
    nested = REPORT._replace(layers=(CONV, BATCHNORM._replace(name="block.bn", depth=2)))
    lines = _table(nested).splitlines()
    assert any(line.startswith("2     block.bn (batchnorm)  ") for line in lines)  # two per level


def test_table_caps_long_names_and_keeps_numbers_whole() -> None:
    name = "block_" * 40 + "conv2d"
    shape = (100_000, 100_000, 100_000)
    wide = REPORT._replace(layers=(CONV._replace(name=name, output_shape=shape),))
    text = _table(wide)
    assert name not in text  # 246 characters: cut, even with no width to fit
    row = next(line for line in text.splitlines() if line.startswith("1 "))
    label = re.split(r" {2,}", row[2:])[0]
    assert label.startswith("block_block_") and label.endswith("block_conv2d (conv2d)")
    assert "…" in label and len(label) <= 72
    assert "(None, 100000, 100000, 100000)" in text
    assert "194,688" in text


def test_table_colour_is_a_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "20")
    assert "\x1b" not in _table(REPORT)
    coloured = _table(REPORT, color=True)
    assert "\x1b[" in coloured
    # Colour changes no text: without its codes, the coloured table is the plain one.
    assert re.sub("\x1b\\[[0-9;]*m", "", coloured) == _table(REPORT)


def test_table_does_not_read_markup() -> None:
    odd = REPORT._replace(layers=(CONV._replace(name="[bold]x[/bold]"),))
    assert "[bold]x[/bold] (conv2d)" in _table(odd)


def test_table_working() -> None:
    assert "Working" not in _table(REPORT)
    text = _table(EXPLAINED)
    working = text[text.index("Working") :]
    assert "1  conv2d  (conv2d)\n    H: floor((28 - 2 - 1) / 1) + 1 = 26\n" in working
    assert "2  batchnorm  (batchnorm)\n    params: 2*32 + 2*32 (non-trainable) = 128" in working
    assert f"3  flatten  (flatten)\n    {NOTHING_TO_EXPLAIN}" in working


def test_table_working_wraps_with_a_hanging_indent() -> None:
    line = "MACs: 26*26*32 outputs * 1/1 channels * 3*3 taps = 194,688"
    long = EXPLAINED._replace(layers=(CONV._replace(explain=(line,)),))
    text = _table(long, width=40)
    working = text[text.index("Working") :].splitlines()
    at = working.index("1  conv2d  (conv2d)")
    assert working[at + 1].startswith("    MACs: 26*26*32")
    assert working[at + 2].startswith("        ")  # the hanging indent
    assert all(len(shown) <= 40 for shown in working)
    assert "194,688" in text.split("Working")[1]  # the figure is never split


def test_table_notes_pytorch_buffers() -> None:
    torch = REPORT._replace(
        settings=Settings(framework=Framework.PYTORCH, layout=Layout.CHW),
        layers=(CONV, BATCHNORM._replace(trainable_params=64, non_trainable_params=0, buffers=64)),
        totals=TOTALS._replace(buffers=64),
    )
    assert "incl. 64 buffer elements" in _table(torch)


def test_table_notes() -> None:
    assert "Note:" not in _table(REPORT)
    sentence = (
        "pytorch reads the shape as C H W, its default layout, so this input has 28 channels; "
        "for H W C add --layout hwc."
    )
    noted = REPORT._replace(notes=(sentence, "Short."))
    lines = _table(noted).splitlines()
    assert lines[-2:] == [f"Note: {sentence}", "Note: Short."]  # under the totals
    wrapped = _table(noted, width=40).splitlines()
    at = wrapped.index(next(line for line in wrapped if line.startswith("Note: pytorch")))
    assert wrapped[at + 1].startswith("      ") and wrapped[at + 1][6] != " "
    assert wrapped[-1] == "Note: Short."
    assert all(len(line) <= 40 for line in wrapped[at:])


def test_table_path_imports_no_rich() -> None:
    code = (
        "import io, sys\n"
        "from convcalc import analyze\n"
        "from convcalc._render import print_table, render\n"
        "from convcalc._settings import OutputFormat\n"
        "report = analyze({'input': [28, 28, 1], 'layers': ['flatten']})\n"
        "render(report, OutputFormat.TABLE, color=True)\n"
        "print_table(report, io.StringIO())\n"
        "loaded = sorted(m for m in sys.modules if m == 'rich' or m.startswith('rich.'))\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_print_table_fits_columns_even_when_piped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Printed to a non-terminal, the table fits COLUMNS when it is set, with no colour."""
    from convcalc._render import print_table

    monkeypatch.setenv("COLUMNS", "40")
    monkeypatch.setenv("FORCE_COLOR", "1")
    buffer = io.StringIO()
    print_table(REPORT, buffer)
    printed = buffer.getvalue()
    assert "\x1b" not in printed
    assert printed == _table(REPORT, width=40)
    assert all(len(line) <= 40 for line in printed.splitlines())
    for figure in ("320", "128", "64", "194,688", "253.50 KiB", "(259,584"):
        assert figure in printed, figure


def test_print_table_is_not_squeezed_without_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    from convcalc._render import print_table

    monkeypatch.delenv("COLUMNS", raising=False)
    buffer = io.StringIO()
    print_table(REPORT, buffer)
    assert buffer.getvalue() == _table(REPORT)
    assert "(None, 26, 26, 32)" in buffer.getvalue()


# --- names are data -------------------------------------------------------------------------

HOSTILE = "evil\x1b[2J\x1b]0;title\x07\r\n\t\u2028\u202eend"
HOSTILE_SHOWN = "evil\\x1b[2J\\x1b]0;title\\x07\\r\\n\\t\\u2028\\u202eend"


@pytest.mark.parametrize("fmt", [OutputFormat.TABLE, OutputFormat.MARKDOWN, OutputFormat.CSV])
def test_names_reach_no_format_raw(fmt: OutputFormat) -> None:
    hostile = EXPLAINED._replace(
        name=HOSTILE,
        layers=(CONV._replace(name=HOSTILE, type="conv2d\x07"), FLATTEN),
        notes=(f"layer {HOSTILE} is odd",),
    )
    text = render(hostile, fmt)
    assert HOSTILE_SHOWN in text
    for raw in ("\x1b", "\x07", "\r", "\t", "\u2028", "\u202e"):
        assert raw not in text, repr(raw)
    assert text.count("\n") == len(text.splitlines())  # every newline ends a line of ours


def test_json_escapes_every_control_character() -> None:
    hostile = REPORT._replace(name=HOSTILE, layers=(CONV._replace(name=HOSTILE),))
    text = render(hostile, OutputFormat.JSON)
    assert text.isascii()  # \u2028 and \u202e too: JavaScript and terminals see no raw ones
    assert "\\u001b[2J" in text and "\\u2028" in text and "\\u202e" in text
    assert json.loads(text)["layers"][0]["name"] == HOSTILE  # the data itself is unchanged
    assert json.loads(text)["name"] == HOSTILE


def test_json_carries_notes() -> None:
    noted = REPORT._replace(notes=("One.", "Two."))
    assert json.loads(render(noted, OutputFormat.JSON))["notes"] == ["One.", "Two."]
    assert json.loads(render(noted, OutputFormat.JSON)).keys() == noted.to_dict().keys()
