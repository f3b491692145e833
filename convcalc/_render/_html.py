"""The ``html`` format: one self-contained page to attach to a design review.

The model's name and settings, the totals, the notes, the diagram (the SVG of
:mod:`._svg`, inline), and the layer table: the same rows as the table format, each
top-level block's rows under a ``<details>`` that folds them away, and with ``--explain``
each layer's working. The CSS is inline; there is no script and nothing is loaded from
anywhere, so the page opens the same offline, from a mail or from a disk. Names are data:
made safe to show, then HTML-escaped.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Sequence

from .. import __version__
from .._hotspots import check_drawable
from .._report import LayerRow, Report
from .._settings import ColorBy
from . import _units
from ._svg import diagram


def render_html(report: Report, color_by: ColorBy = ColorBy.MACS) -> str:
    """The report as one HTML document, ending with a newline. Its rows must be the
    network's in order (not grouped or ranked: the diagram draws them with their edges)."""
    check_drawable(report)
    title = _units.title(report)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)} · convcalc</title>",
        _STYLE,
        "</head>",
        "<body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="lead">{_e(_units.settings_line(report))}</p>',
        *_settings(report, color_by),
        *_totals(report),
        *_notes(report),
        '<section id="diagram"><h2>Diagram</h2>',
        '<div class="diagram">',
        diagram(report, color_by, standalone=False),
        "</div></section>",
        *_layers(report),
        *_working(report),
        f'<p class="made">Made by convcalc {_e(__version__)}.</p>',
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


_STYLE = """<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  "Liberation Sans", "DejaVu Sans", sans-serif; color: #1a1a1a; margin: 24px auto;
  max-width: 1200px; padding: 0 16px; line-height: 1.4; }
h1 { font-size: 1.6em; margin: 0 0 4px; }
h2 { font-size: 1.2em; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.lead { color: #555; margin: 0 0 16px; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { padding: 3px 10px; border-bottom: 1px solid #eee; text-align: left;
  vertical-align: top; }
th { background: #f6f6f6; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.layers { width: 100%; table-layout: fixed; }
table.layers td { overflow-wrap: anywhere; }
.detail { color: #666; }
details { margin: 2px 0; }
summary { cursor: pointer; padding: 4px 6px; background: #f3f6fa; border-radius: 4px; }
summary .figures { color: #555; }
.diagram { overflow: auto; max-height: 85vh; border: 1px solid #ddd; border-radius: 6px; }
.notes li { margin: 2px 0; }
pre { background: #f8f8f8; padding: 8px; overflow-x: auto; font-size: 0.85em; }
.made { color: #888; font-size: 0.85em; margin-top: 32px; }
</style>"""


def _e(text: str) -> str:
    """Text for the page: made safe to show, then escaped (quotes too, for attributes)."""
    return html.escape(_units.safe(text), quote=True)


def _settings(report: Report, color_by: ColorBy) -> Iterator[str]:
    settings = report.settings
    items = [
        ("model", report.name or "(no name)"),
        ("framework", settings.framework.value),
        ("layout", settings.layout.value),
        ("dtype", settings.dtype.value),
        ("batch", "none" if settings.batch is None else str(settings.batch)),
        ("input shape", _units.compact_shape(report.input_shape)),
        ("output shape", _units.compact_shape(report.output_shape)),
    ]
    if settings.train is not None:
        items.append(("training", settings.train.value + (", amp" if settings.amp else "")))
    items.append(("diagram shaded by", f"share of {color_by.value}"))
    yield '<section id="settings"><h2>Settings</h2><table class="settings">'
    for key, value in items:
        yield f"<tr><th>{_e(key)}</th><td>{_e(value)}</td></tr>"
    yield "</table></section>"


def _totals(report: Report) -> Iterator[str]:
    yield '<section id="totals"><h2>Totals</h2><table class="totals">'
    for total in _units.totals(report, _units.compact_shape(report.output_shape)):
        yield (
            f'<tr><th>{_e(total.label)}</th><td class="num">{_e(total.value)}</td>'
            f'<td class="detail">{_e(total.detail)}</td></tr>'
        )
    yield "</table></section>"


def _notes(report: Report) -> Iterator[str]:
    notes = _units.notes(report)
    if notes:
        yield '<section id="notes"><h2>Notes</h2><ul class="notes">'
        yield from (f"<li>{_e(note)}</li>" for note in notes)
        yield "</ul></section>"


# --- the layer table ----------------------------------------------------------------------------


def _header(report: Report, non_trainable: bool) -> str:
    percent = report.settings.view.percent
    cells = [
        ("#", True, "4em"),
        ("Layer", False, "auto"),
        ("Type", False, "11em"),
        ("Output shape", False, "10em"),
        ("Params", True, "9em"),
    ]
    if percent:
        cells.append(("%", True, "4.5em"))
    if non_trainable:
        cells.append(("Non-trainable", True, "9em"))
    cells.append((_units.macs_header(report.settings.batch), True, "11em"))
    if percent:
        cells.append(("%", True, "4.5em"))
    cells.append(("RF", False, "8em"))
    cols = "".join(f'<col style="width: {width}">' for _, _, width in cells)
    heads = "".join(
        f'<th class="num">{_e(text)}</th>' if numeric else f"<th>{_e(text)}</th>"
        for text, numeric, _ in cells
    )
    return f"<colgroup>{cols}</colgroup><thead><tr>{heads}</tr></thead>"


def _row(report: Report, row: LayerRow, non_trainable: bool) -> str:
    """One row's cells, as :func:`_header` heads them (with ``--percent``, each share after
    its figure, written as the table writes it)."""
    indent = f' style="padding-left: {10 + 14 * row.depth}px"' if row.depth else ""
    params_share = macs_share = ""
    if report.settings.view.percent:
        from .._hotspots import share_text, shares

        of_params, of_macs = shares(row, report)
        params_share = f'<td class="num">{share_text(of_params)}</td>'
        macs_share = f'<td class="num">{share_text(of_macs)}</td>'
    frozen = f'<td class="num">{_units.exact(row.non_trainable_params)}</td>'
    cells = [
        f'<td class="num">{row.number}</td>',
        f"<td{indent}>{_e(row.name)}</td>",
        f"<td>{_e(row.type)}</td>",
        f"<td>{_units.compact_shape(row.output_shape)}</td>",
        f'<td class="num">{_units.exact(row.params)}</td>',
        params_share,
        frozen if non_trainable else "",
        f'<td class="num">{_units.exact(row.macs)}</td>',
        macs_share,
        f"<td>{_e(_units.field_summary(row.receptive_field))}</td>",
    ]
    return f'<tr data-index="{row.number}">{"".join(cells)}</tr>'


def _groups(report: Report) -> Iterator[tuple[str | None, list[LayerRow]]]:
    """Consecutive rows of one top-level block (its name), or of none (None)."""
    name: str | None = None
    group: list[LayerRow] = []
    for row in report.layers:
        block = row.name.split(".", 1)[0] if row.depth > 0 else None
        if group and block != name:
            yield name, group
            group = []
        name = block
        group.append(row)
    if group:
        yield name, group


def _layers(report: Report) -> Iterator[str]:
    non_trainable = _units.has_non_trainable(report)
    header = _header(report, non_trainable)
    yield '<section id="layers"><h2>Layers</h2>'
    for block, rows in _groups(report):
        table = [f'<table class="layers">{header}<tbody>']
        table += [_row(report, row, non_trainable) for row in rows]
        table.append("</tbody></table>")
        if block is None:
            yield from table
            continue
        yield f"<details open><summary>{_summary(report, block, rows)}</summary>"
        yield from table
        yield "</details>"
    yield "</section>"


def _summary(report: Report, block: str, rows: Sequence[LayerRow]) -> str:
    kind = report.scopes.get(block)
    params = sum(row.params for row in rows)
    macs = sum(row.macs for row in rows)
    figures = _units.SEPARATOR.join(
        [
            f"{len(rows):,} rows",
            f"{_units.human_count(params)} params",
            f"{_units.human_count(macs)} MACs",
        ]
    )
    what = f" ({_e(kind)})" if kind else ""
    return f'<strong>{_e(block)}</strong>{what} <span class="figures">{figures}</span>'


def _working(report: Report) -> Iterator[str]:
    if not report.settings.explain:
        return
    yield '<section id="working"><h2>Working</h2>'
    for row in report.layers:
        heading = _e(_units.explain_heading(row))
        lines = "\n".join(_e(line) for line in _units.explain_lines(row))
        yield f"<details><summary>{heading}</summary><pre>{lines}</pre></details>"
    yield "</section>"
