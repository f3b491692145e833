"""The built-in models: YAML files shipped inside the package, used as ``zoo:NAME``."""

from __future__ import annotations

from pathlib import Path

from .._errors import InputError, did_you_mean

ZOO = Path(__file__).resolve().parent.parent / "zoo"
PREFIX = "zoo:"


def zoo_names() -> list[str]:
    """Names of the built-in models, sorted."""
    return sorted(path.stem for path in ZOO.glob("*.yaml"))


def zoo_text(name: str) -> str:
    """The YAML of one built-in model."""
    path = ZOO / f"{name}.yaml"
    if not name or "/" in name or not path.is_file():
        names = zoo_names()
        raise InputError(
            f"no model '{name}' in the zoo{did_you_mean(name, names)}; it has: {', '.join(names)}"
        )
    return path.read_text(encoding="utf-8")


def load_zoo(name: str) -> object:
    """The model mapping of one built-in model."""
    from ._yaml import parse_yaml

    return parse_yaml(zoo_text(name), f"zoo:{name}")
