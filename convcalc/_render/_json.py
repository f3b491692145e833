"""The ``json`` format: exactly ``Report.to_dict()``, the object of CONTRACT section 6.

The top level is indented for people; each layer is written on one line of its own. Besides
being easy to scan and diff, that keeps large models fast: ``json.dumps`` uses its C encoder
only without ``indent``, and the pure-Python one costs about 80 µs per layer.

Every string is written ASCII-only (``ensure_ascii``): a name's ESC, newline, U+2028 or bidi
override arrives as ``\u001b``, ``\n``, ``\u2028``, ``\u202e``, never raw.
"""

from __future__ import annotations

import json

from .._report import Report


def render_json(report: Report) -> str:
    """The report as one JSON object, ending with a newline."""
    document = report.to_dict()
    lines = ["{"]
    for key, value in document.items():
        if key == "layers" and isinstance(value, list) and value:
            layers = ",\n".join("    " + json.dumps(layer, ensure_ascii=True) for layer in value)
            text = "[\n" + layers + "\n  ]"
        else:
            text = json.dumps(value, ensure_ascii=True)
        lines.append(f"  {json.dumps(key)}: {text},")
    lines[-1] = lines[-1].rstrip(",")
    lines.append("}")
    return "\n".join(lines) + "\n"
