"""The chain shorthand of CONTRACT section 5: ``TYPE[:ARGS]`` per layer, on the command line.

ARGS is a comma-separated list of positional values (in the catalogue's positional order) and
``key=value`` pairs; per-axis values use ``x`` (``kernel=3x1``). Each item becomes a layer
mapping for the engine, so the shorthand gives the same checks and messages as a model file.
"""

from __future__ import annotations

from .._catalogue import find_kind
from .._errors import SpecError


def parse_layer(item: str, number: int) -> dict[str, object]:
    """One shorthand item as a layer mapping (``{"type": ..., name: value, ...}``)."""
    type_name, _, args = item.partition(":")
    type_name = type_name.strip()
    where = f"layer {number} ('{item}')"
    if not type_name:
        raise SpecError(f"{where}: the layer type is missing; write TYPE[:ARGS], e.g. conv:32,3")
    layer: dict[str, object] = {"type": type_name}
    positional: list[str] = []
    for arg in args.split(",") if args.strip() else []:
        arg = arg.strip()
        if not arg:
            raise SpecError(f"{where}: an empty value between commas; remove the extra comma")
        key, equals, value = arg.partition("=")
        if equals:
            if not key.strip() or not value.strip():
                raise SpecError(f"{where}: '{arg}' needs a name and a value, like stride=2")
            if key.strip() in layer:
                raise SpecError(f"{where}: {key.strip()} is given twice; give it once")
            layer[key.strip()] = value.strip()
        elif len(layer) > 1:
            raise SpecError(
                f"{where}: the positional value '{arg}' comes after a key=value; "
                "put positional values first"
            )
        else:
            positional.append(arg)
    kind = find_kind(type_name)
    if kind is None:  # the engine names the unknown type and suggests the closest one
        return layer
    if len(positional) > len(kind.positional):
        order = ", ".join(kind.positional) or "none"
        raise SpecError(
            f"{where}: {kind.name} takes at most {len(kind.positional)} positional values "
            f"({order}), got {len(positional)}; name the others as key=value, and write "
            "one value per axis with x (3x3), not with commas"
        )
    for name, value in zip(kind.positional, positional, strict=False):
        if name in layer:
            raise SpecError(f"{where}: {name} is given twice")
        layer[name] = value
    return layer


def parse_chain(items: list[str]) -> list[dict[str, object]]:
    """Every shorthand item, in order."""
    return [parse_layer(item, number) for number, item in enumerate(items, start=1)]
