"""``convcalc diff``: two reports compared, as a table, JSON, Markdown or CSV.

Every format has the same three parts: the settings side by side, the totals with B − A and
B / A, and the rows that differ (matched by name). The table fits the width it is given (80
columns when none); names are cut in the middle, numbers never. Names are data: made safe in
every format (``safe``), JSON ASCII-only. A diff has no network to draw: the drawing formats
are refused.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Sequence

from .._diff import Diff, Figure, RowDiff, RowFigures, RowStatus, Side
from .._settings import OutputFormat, assert_never
from . import not_drawn
from ._units import compact_shape, cut_middle, exact, human_bytes, human_count, safe, text_width

WIDTH = 80
"""The width the table fits when the caller gives none (piped output)."""

MARKS = {RowStatus.CHANGED: "~", RowStatus.ONLY_A: "-", RowStatus.ONLY_B: "+"}
"""Before each row in the table and Markdown, as a unified diff marks lines."""

LEGEND = "~ differs, - only in A, + only in B"

SETTING_LABELS = {
    "framework": "framework",
    "layout": "layout",
    "batch": "batch",
    "dtype": "dtype",
    "train": "train",
    "amp": "amp",
    "input_shape": "input",
    "output_shape": "output",
}

TOTAL_LABELS = {
    "params": "Params",
    "trainable_params": "Trainable params",
    "non_trainable_params": "Non-trainable params",
    "macs": "MACs",
    "flops": "FLOPs",
    "param_bytes": "Parameter memory",
    "activation_bytes": "Activation memory",
    "training_memory": "Training memory",
    "saved_activations": "Saved activations",
    "training_macs": "Training MACs",
}

NONE = "–"
"""A value a side does not have (a row only in the other, a ratio over 0)."""

ARROW = " → "


def render_diff(found: Diff, fmt: OutputFormat, *, width: int | None = None) -> str:
    """``found`` as text in ``fmt``; the table fits ``width`` (80 when None)."""
    if fmt is OutputFormat.TABLE:
        return "\n".join(_table(found, width or WIDTH)) + "\n"
    if fmt is OutputFormat.JSON:
        return _json(found)
    if fmt is OutputFormat.MARKDOWN:
        return "\n".join(_markdown(found)) + "\n"
    if fmt is OutputFormat.CSV:
        return _csv(found)
    if (
        fmt is OutputFormat.SVG
        or fmt is OutputFormat.HTML
        or fmt is OutputFormat.MERMAID
        or fmt is OutputFormat.DOT
    ):
        not_drawn(fmt, "a comparison of two reports")
    assert_never(fmt)


# --- values as people read them ----------------------------------------------------------------


def _setting(value: object) -> str:
    """A setting's value: a shape as ``3x224x224``, an absent one as ``none``."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list):
        return compact_shape(value)
    return str(value)


def _is_bytes(key: str) -> bool:
    return key.endswith("_bytes") or key in ("training_memory", "saved_activations")


def _human(key: str) -> Callable[[int], str]:
    """How a figure is shown in the table: parameters exact, bytes and MACs readable."""
    if _is_bytes(key):
        return human_bytes
    if key.endswith("params"):
        return exact
    return human_count


def _signed(number: int, show: Callable[[int], str]) -> str:
    return ("+" if number > 0 else "") + show(number)


def _ratio(ratio: float | None) -> str:
    return NONE if ratio is None else f"{ratio:.3f}"


def _side_line(side: Side) -> str:
    named = f" ({safe(side.name)})" if side.name and side.name != side.label else ""
    return safe(side.label) + named


def _memory_words(found: Diff) -> str:
    """What a row's memory is, for the legend under the rows (as ``--sort memory`` counts it)."""
    if found.a.settings.train is not None or found.b.settings.train is not None:
        return "memory: the row's part of the training step"
    return "memory: the row's parameters, buffers and output"


def _shapes(row: RowDiff) -> str:
    before = "" if row.a is None else compact_shape(row.a.output_shape)
    after = "" if row.b is None else compact_shape(row.b.output_shape)
    if before == after:
        return before
    return (before + ARROW + after).strip()


def _label(row: RowDiff) -> str:
    name = safe(row.name)
    if "type" in row.differs and row.a is not None and row.b is not None:
        return f"{name} ({safe(row.a.type)}{ARROW}{safe(row.b.type)})"
    return name


def _rows_summary(found: Diff) -> str:
    counts = dict.fromkeys(RowStatus, 0)
    for row in found.rows:
        counts[row.status] += 1
    words = {
        RowStatus.CHANGED: "changed",
        RowStatus.ONLY_A: "only in A",
        RowStatus.ONLY_B: "only in B",
    }
    parts = [f"{counts[status]:,} {word}" for status, word in words.items() if counts[status]]
    folded = "" if found.depth is None else f", blocks folded below depth {found.depth}"
    return (
        f"Rows that differ, matched by name: {', '.join(parts)} (A has {found.a_rows:,} rows, "
        f"B {found.b_rows:,}{folded})"
    )


def _verdict(found: Diff) -> str:
    if found.same:
        return "No differences: the settings, the totals and every row agree."
    return f"No row differs ({found.a_rows:,} rows in each, matched by name)."


# --- table -------------------------------------------------------------------------------------


def _columns(cells: Sequence[Sequence[str]], left: int, limit: int) -> Iterator[str]:
    """Rows of cells aligned (the first ``left`` columns to the left, the rest to the right),
    a rule under the first; lines cut to ``limit`` only where a cell is text."""
    widths = [max(text_width(row[i]) for row in cells) for i in range(len(cells[0]))]
    for number, row in enumerate(cells):
        parts = [
            cell + " " * (widths[i] - text_width(cell))
            if i < left
            else " " * (widths[i] - text_width(cell)) + cell
            for i, cell in enumerate(row)
        ]
        line = "  ".join(parts).rstrip()
        yield line
        if number == 0:
            yield "─" * min(sum(widths) + 2 * (len(widths) - 1), limit)


def _table(found: Diff, width: int) -> Iterator[str]:
    yield f"A  {cut_middle(_side_line(found.a), width - 3)}"
    yield f"B  {cut_middle(_side_line(found.b), width - 3)}"
    yield ""
    yield from _settings_table(found, width)
    yield ""
    yield from _totals_table(found, width)
    yield ""
    if found.rows:
        yield from _wrap(_rows_summary(found), width)
        yield from _rows_table(found, width)
    else:
        yield _verdict(found)
    for note in found.notes:
        yield from _wrap(f"Note: {safe(note)}", width)


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, max(width, 20), subsequent_indent="    ") or [""]


def _settings_table(found: Diff, width: int) -> Iterator[str]:
    a, b = found.a.values(), found.b.values()
    differ = found.settings_differ
    shown = [key for key in a if key not in ("train", "amp") or a[key] or b[key]]
    labels = [SETTING_LABELS[key] for key in shown]
    room = max((width - 2 - max(map(len, labels)) - 4) // 2, 8)
    cells = [["", "Setting", "A", "B"]]
    for key, label in zip(shown, labels, strict=True):
        mark = MARKS[RowStatus.CHANGED] if key in differ else ""
        cells.append(
            [mark, label, cut_middle(_setting(a[key]), room), cut_middle(_setting(b[key]), room)]
        )
    if not differ:  # no mark to show: no column for it
        cells = [row[1:] for row in cells]
    yield from _columns(cells, len(cells[0]), width)


def _totals_table(found: Diff, width: int) -> Iterator[str]:
    cells = [["Totals", "A", "B", "B − A", "B / A"]]
    for figure in found.totals:
        show = _human(figure.key)
        difference = figure.difference
        cells.append(
            [
                TOTAL_LABELS[figure.key],
                NONE if figure.a is None else show(figure.a),
                NONE if figure.b is None else show(figure.b),
                NONE if difference is None else _signed(difference, show),
                _ratio(figure.ratio),
            ]
        )
    yield from _columns(cells, 1, width)


def _rows_table(found: Diff, width: int) -> Iterator[str]:
    """One line per row when the names fit beside the figures; else two, the name on the
    first (cut in the middle only past the whole width) and the figures under it."""
    numbers = [
        [
            _shapes(row),
            _signed(row.change("params"), exact),
            _signed(row.change("macs"), human_count),
            _signed(row.change("memory_bytes"), human_bytes),
        ]
        for row in found.rows
    ]
    header = ["Output shape A → B", "Δ params", "Δ MACs", "Δ memory"]
    widths = [max(text_width(cells[i]) for cells in [header, *numbers]) for i in range(4)]
    room = width - 3 - sum(widths) - 2 * len(widths)
    labels = [_label(row) for row in found.rows]
    marks = [MARKS[row.status] for row in found.rows]
    if max(map(text_width, labels)) <= room:
        cells = [["", "Layer", *header]]
        cells += [
            [mark, label, *figures]
            for mark, label, figures in zip(marks, labels, numbers, strict=True)
        ]
        yield from _columns(cells, 3, width)
    else:
        lines = list(_columns([header, *numbers], 1, width - 3))
        yield "   Layer"
        yield "   " + lines[0]
        yield "───" + lines[1]
        for mark, label, line in zip(marks, labels, lines[2:], strict=True):
            yield f"{mark}  {cut_middle(label, width - 3)}"
            yield "   " + line
    yield from _wrap(f"{LEGEND}; {_memory_words(found)}", width)


# --- JSON --------------------------------------------------------------------------------------


def _json(found: Diff) -> str:
    """One object, its top-level keys a line each, every total and every row on a line."""
    data = found.to_dict()
    lines = ["{"]
    keys = list(data)
    for position, key in enumerate(keys):
        comma = "," if position < len(keys) - 1 else ""
        value = data[key]
        if key == "totals" and isinstance(value, dict) and value:
            inner = [f"    {json.dumps(k)}: {json.dumps(v)}" for k, v in value.items()]
            lines += [f'  "{key}": {{', ",\n".join(inner), f"  }}{comma}"]
        elif key == "rows" and isinstance(value, list) and value:
            inner = [f"    {json.dumps(row, ensure_ascii=True)}" for row in value]
            lines += [f'  "{key}": [', ",\n".join(inner), f"  ]{comma}"]
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=True)}{comma}")
    return "\n".join(lines) + "\n}\n"


# --- Markdown ----------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return safe(text).replace("|", "\\|")


def _md_line(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _md_both(before: str | None, after: str | None) -> str:
    """One cell: the value when both sides agree, else ``A → B`` (``–`` for a missing side)."""
    if before == after:
        return before or NONE
    return f"{before or NONE}{ARROW}{after or NONE}"


def _markdown(found: Diff) -> Iterator[str]:
    yield f"**convcalc diff** · A: {_cell(_side_line(found.a))} · B: {_cell(_side_line(found.b))}"
    yield ""
    a, b = found.a.values(), found.b.values()
    yield _md_line(["", "Setting", "A", "B"])
    yield "|---|---|---|---|"
    for key in a:
        if key in ("train", "amp") and not (a[key] or b[key]):
            continue
        mark = MARKS[RowStatus.CHANGED] if key in found.settings_differ else ""
        yield _md_line([mark, SETTING_LABELS[key], _setting(a[key]), _setting(b[key])])
    yield ""
    yield _md_line(["Totals", "A", "B", "B − A", "B / A"])
    yield "|---|---:|---:|---:|---:|"
    for figure in found.totals:
        yield _md_line([TOTAL_LABELS[figure.key], *_exact_figure(figure)])
    yield ""
    if not found.rows:
        yield _verdict(found)
    else:
        yield _rows_summary(found)
        yield ""
        yield _md_line(["", "Row", "Type", "Output shape", "Params", "MACs", "Memory"])
        yield "|---|---|---|---|---:|---:|---:|"
        for row in found.rows:
            yield _md_line([MARKS[row.status], _cell(row.name), *_md_row(row)])
        yield ""
        yield f"{LEGEND}; A → B where they differ; {_memory_words(found)}"
    for note in found.notes:
        yield from ("", f"> **Note:** {_cell(note)}")


def _exact_figure(figure: Figure) -> list[str]:
    difference = figure.difference
    return [
        NONE if figure.a is None else exact(figure.a),
        NONE if figure.b is None else exact(figure.b),
        NONE if difference is None else _signed(difference, exact),
        _ratio(figure.ratio),
    ]


def _md_row(row: RowDiff) -> list[str]:
    def pick(figures: RowFigures | None, show: Callable[[RowFigures], str]) -> str | None:
        return None if figures is None else show(figures)

    def both(show: Callable[[RowFigures], str]) -> str:
        return _md_both(pick(row.a, show), pick(row.b, show))

    return [
        both(lambda f: _cell(f.type)),
        both(lambda f: compact_shape(f.output_shape)),
        both(lambda f: exact(f.params)),
        both(lambda f: exact(f.macs)),
        both(lambda f: f"{exact(f.memory_bytes)} B"),
    ]


# --- CSV ---------------------------------------------------------------------------------------

CSV_HEADER = ("section", "row", "field", "status", "a", "b", "difference", "ratio")
"""One line per compared value: ``setting``, ``total`` and ``row`` lines (a row's name in
``row``); ``status`` is ``same`` or ``differs`` for settings and totals, and the row's status
(``changed``, ``only_a``, ``only_b``) for rows."""


def _csv_value(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return compact_shape(value)
    if isinstance(value, str):
        return safe(value)
    return value


def _csv(found: Diff) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    a, b = found.a.values(), found.b.values()
    for key in a:
        status = "differs" if key in found.settings_differ else "same"
        writer.writerow(["setting", "", key, status, _csv_value(a[key]), _csv_value(b[key])])
    for figure in found.totals:
        status = "same" if figure.a == figure.b else "differs"
        writer.writerow(
            [
                "total",
                "",
                figure.key,
                status,
                _csv_value(figure.a),
                _csv_value(figure.b),
                _csv_value(figure.difference),
                _csv_value(figure.ratio),
            ]
        )
    for row in found.rows:
        fields = row.differs or tuple(RowFigures._fields)
        for field in fields:
            before = None if row.a is None else getattr(row.a, field)
            after = None if row.b is None else getattr(row.b, field)
            if before is None and after is None:
                continue
            value = before if before is not None else after
            numeric = isinstance(value, int) and field != "number"
            writer.writerow(
                [
                    "row",
                    safe(row.name),
                    "index" if field == "number" else field,
                    row.status.value,
                    _csv_value(before),
                    _csv_value(after),
                    row.change(field) if numeric else "",
                    "",
                ]
            )
    return buffer.getvalue()
