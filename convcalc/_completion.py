"""Shell-completion candidates, drawn from the catalogue and the zoo.

Runs on every TAB, so it imports only the catalogue (standard library) and the file system.
"""

from __future__ import annotations

import os

from ._catalogue import CATALOGUE, find_kind


def layer_types(incomplete: str) -> list[str]:
    """Canonical type names, and short forms, that start with what was typed."""
    lowered = incomplete.lower()
    names = [kind.name for kind in CATALOGUE]
    names += [alias for kind in CATALOGUE for alias in kind.aliases if alias.islower()]
    return sorted({name for name in names if name.startswith(lowered)})


def chain_item(incomplete: str) -> list[str]:
    """A chain item: a layer type, or once ``TYPE:`` is typed, its parameter names (``key=``)."""
    if ":" not in incomplete:
        if incomplete[:1].isdigit():
            return []  # still typing the shape
        return layer_types(incomplete)
    head, _, args = incomplete.partition(":")
    kind = find_kind(head)
    if kind is None:
        return []
    done, _, current = args.rpartition(",")
    prefix = f"{head}:{done}{',' if done else ''}"
    if "=" in current:
        return []
    return [f"{prefix}{param.name}=" for param in kind.params if param.name.startswith(current)]


def zoo_models(incomplete: str) -> list[str]:
    from ._input._zoo import zoo_names

    return [name for name in zoo_names() if name.startswith(incomplete)]


def model_source(incomplete: str) -> list[str]:
    """``zoo:NAME`` entries, YAML files, and directories to descend into."""
    from ._input._zoo import PREFIX

    candidates = [PREFIX + name for name in zoo_models(incomplete.removeprefix(PREFIX))]
    if incomplete.startswith(PREFIX):
        return candidates
    folder, _, start = incomplete.rpartition("/")
    directory = folder + "/" if folder else ""
    try:
        entries = sorted(os.scandir(folder or "."), key=lambda entry: entry.name)
    except OSError:
        entries = []
    for entry in entries:
        if not entry.name.startswith(start) or (entry.name.startswith(".") and not start):
            continue
        if entry.is_dir():
            candidates.append(f"{directory}{entry.name}/")
        elif entry.name.endswith((".yaml", ".yml")):
            candidates.append(f"{directory}{entry.name}")
    if PREFIX.startswith(incomplete) and not incomplete.startswith(PREFIX):
        candidates = candidates or [PREFIX]
    return candidates
