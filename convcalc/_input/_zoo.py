"""The built-in models: YAML files shipped inside the package, used as ``zoo:NAME``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._errors import InputError, did_you_mean

ZOO = Path(__file__).resolve().parent.parent / "zoo"
PREFIX = "zoo:"
_LONGEST = 100
"""Longer names are never offered a "did you mean": no zoo name comes near."""


def zoo_names() -> list[str]:
    """Names of the built-in models, sorted."""
    return sorted(path.stem for path in ZOO.glob("*.yaml"))


def zoo_text(name: str) -> str:
    """The YAML of one built-in model.

    The name is looked up among the zoo's names, never used as a path: a name with a slash,
    a NUL, odd characters or 300 letters is simply not among them.
    """
    names = zoo_names()
    if name not in names:
        from ._yaml import excerpt

        hint = did_you_mean(name, names) if len(name) <= _LONGEST else ""
        raise InputError(f"no model {excerpt(name)} in the zoo{hint}; it has: {', '.join(names)}")
    try:
        return (ZOO / f"{name}.yaml").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as problem:  # a damaged installation
        reason = getattr(problem, "strerror", None) or problem
        raise InputError(
            f"cannot read the zoo model '{name}' ({reason}); reinstall convcalc"
        ) from None


def load_zoo(name: str) -> dict[Any, Any]:
    """The model mapping of one built-in model."""
    from ._yaml import parse_yaml, require_mapping

    text = zoo_text(name)
    return require_mapping(parse_yaml(text, f"{PREFIX}{name}"), text, f"{PREFIX}{name}")
