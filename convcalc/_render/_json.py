"""The ``json`` format: exactly ``Report.to_dict()``, the object of CONTRACT section 6.

The top level is indented for people; each layer is written on one line of its own. Besides
being easy to scan and diff, that keeps large models fast: ``json.dumps`` uses its C encoder
only without ``indent``, and the pure-Python one costs about 80 µs per layer.

Every string is written ASCII-only (``ensure_ascii``): a name's ESC, newline, U+2028 or bidi
override arrives as ``\u001b``, ``\n``, ``\u2028``, ``\u202e``, never raw.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from .._report import Report


def json_chunks(report: Report) -> Iterator[str]:
    """The report's JSON in pieces, a layer at a time: a model of a million rows is written
    without its whole document (or its dictionaries) ever being held at once."""
    head = report._replace(layers=()).to_dict()
    keys = list(head)
    yield "{\n"
    for position, key in enumerate(keys):
        comma = "," if position < len(keys) - 1 else ""
        if key == "layers" and report.layers:
            yield f"  {json.dumps(key)}: [\n"
            explain = report.settings.explain
            last = len(report.layers) - 1
            for index, row in enumerate(report.layers):
                text = json.dumps(row.to_dict(explain), ensure_ascii=True)
                yield f"    {text}{',' if index < last else ''}\n"
            yield f"  ]{comma}\n"
        else:
            yield f"  {json.dumps(key)}: {json.dumps(head[key], ensure_ascii=True)}{comma}\n"
    yield "}\n"


def render_json(report: Report) -> str:
    """The report as one JSON object, ending with a newline."""
    return "".join(json_chunks(report))
