"""The ``json`` format: exactly ``Report.to_dict()``, the object of CONTRACT section 6."""

from __future__ import annotations

import json

from .._report import Report


def render_json(report: Report) -> str:
    """The report as one indented JSON object, ending with a newline."""
    return json.dumps(report.to_dict(), indent=2) + "\n"
