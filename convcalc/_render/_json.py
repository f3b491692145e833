"""The ``json`` format: exactly ``Report.to_dict()``, the object of CONTRACT section 6.

The top level is indented for people; each layer is written on one line of its own. Besides
being easy to scan and diff, that keeps large models fast: ``json.dumps`` uses its C encoder
only without ``indent``, and the pure-Python one costs about 80 µs per layer.

Every string is written ASCII-only (``ensure_ascii``): a name's ESC, newline, U+2028 or bidi
override arrives as ``\u001b``, ``\n``, ``\u2028``, ``\u202e``, never raw.

The hotspot options add to it: a ``view`` object saying how the rows are shown, each row's
``params_percent`` and ``macs_percent`` (``--percent``) and ``memory_bytes`` (``--sort
memory``); a row of ``--group-by`` is its ``type`` and ``count`` of rows with their sums.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

from .._report import LayerRow, Report
from .._settings import SortBy, View


def json_chunks(report: Report) -> Iterator[str]:
    """The report's JSON in pieces, a layer at a time: a model of a million rows is written
    without its whole document (or its dictionaries) ever being held at once."""
    head = report._replace(layers=()).to_dict()
    view = report.settings.view
    if view != View():
        head["view"] = {
            "percent": view.percent,
            "sort": None if view.sort is None else view.sort.value,
            "top": view.top,
            "group_by": None if view.group_by is None else view.group_by.value,
        }
    as_dict = _row_dict(report)
    keys = list(head)
    yield "{\n"
    for position, key in enumerate(keys):
        comma = "," if position < len(keys) - 1 else ""
        if key == "layers" and report.layers:
            yield f"  {json.dumps(key)}: [\n"
            last = len(report.layers) - 1
            for index, row in enumerate(report.layers):
                text = json.dumps(as_dict(row), ensure_ascii=True)
                yield f"    {text}{',' if index < last else ''}\n"
            yield f"  ]{comma}\n"
        else:
            yield f"  {json.dumps(key)}: {json.dumps(head[key], ensure_ascii=True)}{comma}\n"
    yield "}\n"


def _row_dict(report: Report) -> Callable[[LayerRow], dict[str, object]]:
    """How a row is written: ``LayerRow.to_dict``, or a group's sums, with the hotspot keys
    the view asks for."""
    settings = report.settings
    view = settings.view
    if view == View():  # the usual case, as fast as it was
        return lambda row: row.to_dict(settings.explain)
    from .._hotspots import row_memory, share_figure, shares

    def as_dict(row: LayerRow) -> dict[str, object]:
        if view.group_by is None:
            found = row.to_dict(settings.explain)
        else:
            found = {
                "type": row.name,
                "count": row.number,
                "params": row.params,
                "trainable_params": row.trainable_params,
                "non_trainable_params": row.non_trainable_params,
                "macs": row.macs,
            }
            if row.saved_bytes is not None:
                found["saved_bytes"] = row.saved_bytes
        if view.percent:
            of_params, of_macs = shares(row, report)
            found["params_percent"] = share_figure(of_params)
            found["macs_percent"] = share_figure(of_macs)
        if view.sort is SortBy.MEMORY:
            found["memory_bytes"] = row_memory(row, settings)
        return found

    return as_dict


def render_json(report: Report) -> str:
    """The report as one JSON object, ending with a newline."""
    return "".join(json_chunks(report))
