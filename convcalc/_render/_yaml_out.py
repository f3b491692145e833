"""A model mapping written as a convcalc YAML model file, laid out as the zoo's files are.

The top-level settings one per line, ``blocks`` with each block's ``inputs`` and ``layers``,
and every layer on one line as a flow mapping (``- conv2d: {filters: 32, kernel: [3, 3], name:
conv1}``). Every value is written so that convcalc's YAML reader reads it back as it is: text
that would read as anything else (a number, true, null, a ``$`` expression, brackets) is
quoted, floats are written in full (``repr``: the same float when read), and a character that
is not printable is escaped, so a name from a file can never break a line or a terminal.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*\Z")
"""Text written without quotes: a word, which the reader keeps as text (checked below)."""
_WORDS = frozenset(
    {"null", "true", "false", "yes", "no", "on", "off", "y", "n", "nan", "inf", "infinity"}
)
"""Words some YAML reader takes for something other than text: always quoted here."""
_FIRST = ("name", "input", "framework", "layout", "batch", "dtype", "min_input", "params")
"""Top-level keys in the order they are written; then any others, then blocks and layers."""


def render_model_yaml(spec: Mapping[str, object], comments: Sequence[str] = ()) -> str:
    """``spec`` (a model mapping: settings, ``blocks``, ``layers``) as YAML text, after
    ``comments`` (one ``#`` line each)."""
    lines = [f"# {_comment(line)}" if line else "#" for line in comments]
    keys = [key for key in _FIRST if key in spec]
    keys += [str(key) for key in spec if key not in _FIRST and key not in ("blocks", "layers")]
    for key in keys:
        lines.append(f"{scalar(key)}: {flow(spec[key])}")
    blocks = spec.get("blocks")
    if isinstance(blocks, Mapping) and blocks:
        lines.append("blocks:")
        for name, body in blocks.items():
            lines.append(f"  {scalar(name)}:")
            if isinstance(body, Mapping):
                for key, value in body.items():
                    if key == "layers" and isinstance(value, list):
                        lines.append("    layers:")
                        lines.extend(f"      - {item_text(item)}" for item in value)
                    else:
                        lines.append(f"    {scalar(key)}: {flow(value)}")
            else:
                lines.append(f"    layers: {flow(body)}")
    layers = spec.get("layers")
    if isinstance(layers, list):
        lines.append("layers:")
        lines.extend(f"  - {item_text(item)}" for item in layers)
    elif "layers" in spec:
        lines.append(f"layers: {flow(layers)}")
    return "\n".join(lines) + "\n"


def item_text(item: object) -> str:
    """One layer: ``type: {params}`` for a mapping of one type, else the flow value."""
    if isinstance(item, Mapping) and len(item) == 1:
        ((key, value),) = item.items()
        if isinstance(key, str):
            return f"{scalar(key)}: {flow(value)}"
    return flow(item)


def flow(value: object) -> str:
    """``value`` in YAML's flow style: ``{a: 1, b: [2, 3]}``."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{scalar(k)}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return scalar(value)


def scalar(value: object) -> str:
    """One plain value as the reader reads it back."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _WORDS:
        return text
    return quoted(text)


def quoted(text: str) -> str:
    """``text`` in double quotes, with YAML's escapes for quotes, backslashes and every
    character that is not printable."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif char.isprintable():
            out.append(char)
        elif ord(char) <= 0xFF:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


def _comment(text: str) -> str:
    """A comment line's text: one line, nothing unprintable."""
    return "".join(c if c.isprintable() else quoted(c)[1:-1] for c in text)
