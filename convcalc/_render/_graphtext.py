"""The ``mermaid`` and ``dot`` formats: the network as text that Mermaid (documentation sites,
GitHub's Markdown) or Graphviz draws.

One node for the model's input, one per row as shown (a folded block is one node): its name,
its type and output shape, its parameters and MACs (with ``--percent``, its shares of them),
shaded by its MACs against the largest row's. One edge for every source of every row, so a
residual's shortcut and a concat's inputs are edges like the others. A merge of several inputs
is drawn as a hexagon.

Names are data, and each syntax has its own escapes: control characters are written as
``\\x1b`` (:func:`_units.safe`) in both; Mermaid labels are quoted, with ``"``, ``#``, ``&``,
``<``, ``>`` and the backtick written as Mermaid's entity codes (``#quot;``); DOT strings are
quoted, with ``\\`` and ``"`` escaped by a backslash. Node identifiers are never names
(``input``, ``n1``, ``n2``, ... in row order), so no name can end a statement.
"""

from __future__ import annotations

from collections.abc import Iterator

from .._hotspots import check_drawable
from .._report import INPUT_SOURCE, LayerRow, Report
from . import _units

LEVELS = 4
"""Shades of a node by its MACs against the largest row's: none, then 1 to LEVELS."""

_FILLS = ("#ffffff", "#fdf0dc", "#fbd9a6", "#f8b865", "#f4922a")
"""DOT fill and Mermaid class colour of each level, white to orange."""


def _level(row: LayerRow, largest: int) -> int:
    """0 for a row without MACs, else 1 to LEVELS by its MACs against the largest's."""
    if row.macs <= 0 or largest <= 0:
        return 0
    return max(1, min(LEVELS, -(-row.macs * LEVELS // largest)))


def _largest(report: Report) -> int:
    return max((row.macs for row in report.layers), default=0)


def _lines(row: LayerRow, report: Report) -> list[str]:
    """A node's lines, made safe to show (control characters escaped), not yet escaped for
    the syntax: name; type and output shape; params and MACs; with --percent, the shares."""
    lines = [
        _units.safe(row.name),
        f"{_units.safe(row.type)} · {_units.compact_shape(row.output_shape)}",
        f"{_units.human_count(row.params)} params · {_units.human_count(row.macs)} MACs",
    ]
    if report.settings.view.percent:
        from .._hotspots import share_text, shares

        of_params, of_macs = (share_text(share) for share in shares(row, report))
        lines.append(f"{of_params}% of params · {of_macs}% of MACs")
    return lines


def _input_lines(report: Report) -> list[str]:
    return ["input", _units.compact_shape(report.input_shape)]


def _edges(report: Report) -> Iterator[tuple[str, str]]:
    """``(from, to)`` node identifiers for every source of every row, in row order; a source
    that names no row shown is left out (a report the diagram cannot draw is refused first)."""
    ids = {INPUT_SOURCE: "input"}
    for number, row in enumerate(report.layers, 1):
        node = f"n{number}"
        for source in row.sources:
            found = ids.get(source)
            if found is not None:
                yield found, node
        ids[row.name] = node


def _is_merge(row: LayerRow) -> bool:
    return len(row.sources) > 1


# -- Mermaid ------------------------------------------------------------------------------------

_MERMAID_ENTITIES = {
    "#": "#35;",
    '"': "#quot;",
    "&": "#amp;",
    "<": "#lt;",
    ">": "#gt;",
    "`": "#96;",
}


def mermaid_text(text: str) -> str:
    """``text`` made safe inside a quoted Mermaid label: control characters escaped, and every
    character Mermaid or the browser would read as syntax written as an entity code."""
    return "".join(_MERMAID_ENTITIES.get(char, char) for char in _units.safe(text))


def _mermaid_label(lines: list[str]) -> str:
    return '"' + "<br>".join(mermaid_text(line) for line in lines) + '"'


MERMAID_LIMIT = 50_000
"""The longest text Mermaid draws by default (its ``maxTextSize``), as GitHub's Markdown does:
a longer one shows an error instead of the diagram."""


def mermaid_notes(text: str) -> tuple[str, ...]:
    """A note when the Mermaid ``text`` is longer than :data:`MERMAID_LIMIT` (the CLI writes
    it on stderr); none otherwise."""
    if len(text) <= MERMAID_LIMIT:
        return ()
    return (
        f"the Mermaid text is {len(text):,} characters, and Mermaid (GitHub's Markdown "
        f"among others) draws at most {MERMAID_LIMIT:,} by default: fold blocks with a "
        "smaller --depth N to shorten it",
    )


def render_mermaid(report: Report) -> str:
    """The network as a Mermaid flowchart, top to bottom, ending with a newline."""
    check_drawable(report)
    largest = _largest(report)
    title = mermaid_text(_units.title(report))
    out = [
        f"%% {title} · {_units.settings_line(report)}",
        "flowchart TD",
        f"    input([{_mermaid_label(_input_lines(report))}])",
    ]
    for number, row in enumerate(report.layers, 1):
        label = _mermaid_label(_lines(row, report))
        shape = "{{" + label + "}}" if _is_merge(row) else "[" + label + "]"
        level = _level(row, largest)
        out.append(f"    n{number}{shape}" + (f":::macs{level}" if level else ""))
    out += [f"    {start} --> {end}" for start, end in _edges(report)]
    out += [
        f"    classDef macs{level} fill:{_FILLS[level]},stroke:#8a5a1c"
        for level in range(1, LEVELS + 1)
    ]
    return "\n".join(out) + "\n"


# -- DOT ----------------------------------------------------------------------------------------


def dot_string(text: str) -> str:
    """``text`` as a quoted DOT string: control characters escaped, then ``\\`` and ``"``
    escaped by a backslash (so that no name reads as ``\\N`` or ends the string)."""
    escaped = _units.safe(text).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _dot_label(lines: list[str]) -> str:
    """Lines joined by DOT's own line break (the two characters ``\\n``) into one string."""
    return "\\n".join(dot_string(line)[1:-1] for line in lines).join('""')


def render_dot(report: Report) -> str:
    """The network as a Graphviz digraph, top to bottom, ending with a newline."""
    check_drawable(report)
    largest = _largest(report)
    heading = _dot_label([_units.title(report), _units.settings_line(report)])
    out = [
        f"digraph {dot_string(_units.title(report))} {{",
        f'  graph [rankdir=TB, fontname="sans-serif", label={heading}, labelloc=t];',
        '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="sans-serif",'
        " fontsize=10];",
        "  edge [arrowsize=0.7];",
        f'  input [label={_dot_label(_input_lines(report))}, shape=oval, fillcolor="#eeeeee"];',
    ]
    for number, row in enumerate(report.layers, 1):
        attributes = [f"label={_dot_label(_lines(row, report))}"]
        if _is_merge(row):
            attributes.append("shape=hexagon")
        level = _level(row, largest)
        if level:
            attributes.append(f'fillcolor="{_FILLS[level]}"')
        out.append(f"  n{number} [{', '.join(attributes)}];")
    out += [f"  {start} -> {end};" for start, end in _edges(report)]
    out.append("}")
    return "\n".join(out) + "\n"
