"""The chain shorthand of CONTRACT section 5: ``TYPE[:ARGS]`` per layer, on the command line.

ARGS is a comma-separated list of positional values and ``key=value`` pairs; per-axis values use
``x`` (``kernel=3x1``) or brackets as Python writes them (``(3,1)``, ``[3,1]``). Each item becomes
a layer mapping for the engine, which places the positional values in the order the type's
spelling asks for, so the shorthand gives the same checks and messages as a model file.
"""

from __future__ import annotations

import re

from .._catalogue import FAMILIES
from .._errors import SpecError
from .._layer import POSITIONAL
from .._values import normalize_name, show


def split_args(text: str, where: str) -> list[str]:
    """ARGS split at the commas outside brackets: ``32,(3,3),stride=(2,2)`` is three values,
    as Keras' and PyTorch's calls write a per-axis value. Brackets must balance."""
    parts: list[str] = []
    depth = 0
    start = 0
    for position, char in enumerate(text):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
            if depth < 0:
                break
        elif char == "," and depth == 0:
            parts.append(text[start:position])
            start = position + 1
    if depth != 0:
        raise SpecError(
            f"{where}: unbalanced brackets; write a per-axis value as (3,3), [3,3] or 3x3, "
            "and quote the item in the shell: 'conv2d:32,(3,3)'"
        )
    parts.append(text[start:])
    return parts


_CALL = re.compile(r"\s*(?:[A-Za-z_]\w*\.)*([A-Za-z_]\w*)\s*\((.*)\)\s*", re.DOTALL)
"""A layer written as code: ``Conv2D(32, (3, 3), strides=2)``, ``nn.Conv2d(1, 32, 3)``."""


def _unquote(value: str) -> str:
    """A value without the quotes Python code puts around text: ``'same'`` is ``same``."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1].strip()
    return value


def parse_layer(item: str, number: int) -> dict[str, object]:
    """One shorthand item as a layer mapping (``{"type": ..., name: value, ...}``); a layer
    pasted as code, ``Conv2D(32, (3, 3), strides=2)``, reads as ``Conv2D:32,(3,3),strides=2``."""
    call = _CALL.fullmatch(item)
    if call is not None and ":" not in item.split("(", 1)[0]:
        type_name, args = call.group(1), call.group(2)
    else:
        type_name, _, args = item.partition(":")
    type_name = type_name.strip()
    where = f"layer {number} ({show(item)})"
    if not type_name:
        raise SpecError(f"{where}: the layer type is missing; write TYPE[:ARGS], e.g. conv:32,3")
    layer: dict[str, object] = {"type": type_name}
    positional: list[str] = []
    for arg in split_args(args, where) if args.strip() else []:
        arg = arg.strip()
        if not arg:
            raise SpecError(f"{where}: an empty value between commas; remove the extra comma")
        key, equals, value = arg.partition("=")
        if equals and not key.strip().startswith(("(", "[")):
            if not key.strip() or not value.strip():
                raise SpecError(f"{where}: {show(arg)} needs a name and a value, like stride=2")
            if key.strip() in layer:
                raise SpecError(f"{where}: {show(key.strip())} is given twice; give it once")
            layer[key.strip()] = _unquote(value.strip())
        elif len(layer) > 1:
            raise SpecError(
                f"{where}: the positional value {show(arg)} comes after a key=value; "
                "put positional values first"
            )
        else:
            positional.append(_unquote(arg))
    if positional:
        layer[POSITIONAL] = positional
    if "kind" in layer and FAMILIES.get(normalize_name(type_name)) in ("maxpool{}d", "avgpool{}d"):
        # pool:2,kind=avg, as `convcalc pool --kind avg` says it
        chosen = str(layer.pop("kind")).strip().lower()
        if chosen not in ("max", "avg", "average"):
            raise SpecError(f"{where}: kind {show(chosen)} is not valid: use max or avg")
        layer["type"] = "avgpool" if chosen.startswith("av") else "maxpool"
    return layer


def parse_chain(items: list[str]) -> list[dict[str, object]]:
    """Every shorthand item, in order."""
    return [parse_layer(item, number) for number, item in enumerate(items, start=1)]
