"""``convcalc zoo``: the built-in models, grouped by family, in every format.

The figures come from the zoo's index (nothing is analysed), so the listing costs what reading
one small JSON file and writing text costs. The table is plain text, written directly: one
heading per family, its members beneath, the family's note under them.
"""

from __future__ import annotations

import csv
import io
import json
import textwrap
from collections.abc import Sequence

from .._input._zoo import ZooEntry
from .._settings import OutputFormat, assert_never
from . import not_drawn
from ._units import human_count, safe

CSV_COLUMNS = (
    "name",
    "framework",
    "params",
    "trainable_params",
    "macs",
    "family",
    "source",
    "input_shape",
    "output_shape",
)
"""1.0's five columns first, then the ones the families brought."""


def size_of(entry: ZooEntry) -> str:
    """The input's spatial size, as a person says it: ``224x224`` (channels left out)."""
    shape = entry.input_shape
    spatial = shape[1:] if entry.framework == "pytorch" else shape[:-1]
    return "x".join(map(str, spatial or shape))


def render_zoo(entries: Sequence[ZooEntry], fmt: OutputFormat, width: int = 80) -> str:
    """The listing of ``entries`` (in the index's order: family by family) in ``fmt``."""
    if fmt is OutputFormat.JSON:
        return (
            "[\n"
            + ",\n".join("  " + json.dumps(entry.to_dict(), ensure_ascii=True) for entry in entries)
            + "\n]\n"
        )
    if fmt is OutputFormat.CSV:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for entry in entries:
            record = entry.to_dict()
            writer.writerow(
                "x".join(map(str, value)) if isinstance(value, list) else value
                for value in (record[key] for key in CSV_COLUMNS)
            )
        return buffer.getvalue()
    if fmt is OutputFormat.MARKDOWN:
        lines = [
            "| model | family | source | input | params | MACs |",
            "|---|---|---|---|---:|---:|",
        ]
        lines += [
            f"| `{e.name}` | {e.family} | {e.source} | {size_of(e)} | {e.params:,} | {e.macs:,} |"
            for e in entries
        ]
        notes = _notes(entries)
        if notes:
            lines.append("")
            lines += [f"- {family}: {note}" for family, note in notes]
        return "\n".join(lines) + "\n"
    if fmt is OutputFormat.TABLE:
        return _table(entries, max(width, 40))
    if (
        fmt is OutputFormat.SVG
        or fmt is OutputFormat.HTML
        or fmt is OutputFormat.MERMAID
        or fmt is OutputFormat.DOT
    ):
        not_drawn(fmt, "the zoo's listing")
    assert_never(fmt)


def _notes(entries: Sequence[ZooEntry]) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for entry in entries:
        if entry.note and entry.family not in seen:
            seen[entry.family] = entry.note
    return list(seen.items())


def short_source(source: str) -> str:
    """The source as the table's column shows it: ``keras`` for keras.applications."""
    return source.removesuffix(".applications")


def _table(entries: Sequence[ZooEntry], width: int) -> str:
    name_width = max([len(e.name) for e in entries] + [10])
    source_width = max([len(short_source(e.source)) for e in entries] + [6])
    size_width = max([len(size_of(e)) for e in entries] + [5])
    params_width = max([len(f"{e.params:,}") for e in entries] + [6])
    out = [
        f"  {'model':<{name_width}}  {'source':<{source_width}}  {'input':>{size_width}}  "
        f"{'params':>{params_width}}  {'MACs':>9}"
    ]
    for family, members in _by_family(entries):
        out += ["", safe(family)]
        out += [
            f"  {safe(e.name):<{name_width}}  {safe(short_source(e.source)):<{source_width}}  "
            f"{size_of(e):>{size_width}}  {e.params:>{params_width},}  {human_count(e.macs):>9}"
            for e in members
        ]
        for note in dict.fromkeys(e.note for e in members if e.note):
            out += textwrap.wrap(
                safe(note), width - 1, initial_indent="  note: ", subsequent_indent="    "
            )
    families = len({e.family.lower() for e in entries})
    out += [
        "",
        f"{len(entries)} {'model' if len(entries) == 1 else 'models'} in {families} "
        f"{'family' if families == 1 else 'families'}; convcalc model zoo:NAME analyses one",
    ]
    return "\n".join(out) + "\n"


def _by_family(entries: Sequence[ZooEntry]) -> list[tuple[str, list[ZooEntry]]]:
    """The entries grouped by family (names compared without case), in the index's order."""
    groups: dict[str, tuple[str, list[ZooEntry]]] = {}
    for entry in entries:
        groups.setdefault(entry.family.lower(), (entry.family, []))[1].append(entry)
    return list(groups.values())


def matching(entries: Sequence[ZooEntry], words: Sequence[str]) -> list[ZooEntry]:
    """The entries whose name, family or source contains every word (case and ``_``/``-``
    ignored): ``efficientnet`` finds both frameworks' EfficientNets and EfficientNetV2s."""

    def plain(text: str) -> str:
        return text.lower().replace("_", "").replace("-", "").replace(" ", "")

    wanted = [plain(word) for word in words]
    return [
        entry
        for entry in entries
        if all(
            word in plain(entry.name) or word in plain(entry.family) or word in plain(entry.source)
            for word in wanted
        )
    ]
