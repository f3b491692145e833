"""The terminal's width, read one way everywhere: tables, help and error messages.

Standard library only and tiny: the CLI reads it on every run, the renderers when they lay out.
"""

from __future__ import annotations

import os
from typing import TextIO

MIN_WIDTH = 20
"""The narrowest width laid out for; a smaller ``COLUMNS`` counts as this."""
MAX_WIDTH = 10_000
"""The widest width laid out for; a larger ``COLUMNS`` (``10**30``) counts as this."""


def parse_columns(text: str | None) -> int | None:
    """A width from ``COLUMNS``, or None when it gives none: unset, empty, not a whole number,
    or zero. Very small and very large values are clamped (``10**30`` never overflows)."""
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit()):
        return None
    if len(text) > len(str(MAX_WIDTH)):
        return MAX_WIDTH
    number = int(text)
    if number <= 0:
        return None
    return min(max(number, MIN_WIDTH), MAX_WIDTH)


def is_terminal(file: TextIO | None) -> bool:
    try:
        return file is not None and file.isatty()
    except (AttributeError, OSError, ValueError):
        return False


def output_width(file: TextIO | None) -> int | None:
    """The width to fit when writing to ``file``: ``COLUMNS`` when set (piped too), else the
    terminal's when ``file`` is one, else None (no limit: piped output is never squeezed)."""
    given = parse_columns(os.environ.get("COLUMNS"))
    if given is not None:
        return given
    if file is None or not is_terminal(file):
        return None
    try:
        columns = os.get_terminal_size(file.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return None
    return parse_columns(str(columns))
