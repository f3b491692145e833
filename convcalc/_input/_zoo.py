"""The built-in models: YAML files shipped inside the package, used as ``zoo:NAME``.

Each file in ``convcalc/zoo/`` is a *family*: one model written once, with ``params`` its
top-level layers take as ``$name``, and ``members`` naming each built-in model with the
arguments that make it (EfficientNet-B3 is EfficientNet with width 1.2, depth 1.4, 300x300)::

    family: EfficientNet            # the listing's group
    source: torchvision             # who builds it: torchvision, keras.applications, ...
    note: ...                       # optional: shown under the group in the listing
    members:
      efficientnet_b0: {input: [3, 224, 224], width: 1.0, depth: 1.0}
      efficientnet_b3: {input: [3, 300, 300], width: 1.2, depth: 1.4}
    input: [3, 224, 224]            # a member without its own input takes this
    framework: pytorch
    params: {width: 1.0, depth: 1.0}
    blocks: ...
    layers: ...

A member is the model the file describes with its ``input`` and its arguments in place of
the ``params`` defaults; :func:`zoo_text` writes it out as a YAML that runs on its own.

Listing the zoo analyses nothing: ``zoo/index.json`` holds every member's family, source,
input and figures, written by ``python -m convcalc._input._zoo`` and checked against the files
and against analysing each member by the tests.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from .._errors import InputError, did_you_mean

ZOO = Path(__file__).resolve().parent.parent / "zoo"
INDEX = ZOO / "index.json"
PREFIX = "zoo:"
_LONGEST = 100
"""Longer names are never offered a "did you mean": no zoo name comes near."""

FAMILY_KEYS = ("family", "source", "note", "members")
"""A zoo file's keys beyond a model's: what it is, and which models it makes."""
MEMBER_INPUT = "input"
"""The one key of a member that is not an argument: its input shape."""


class ZooEntry(NamedTuple):
    """One built-in model as the listing shows it (from the index: nothing is analysed)."""

    name: str
    family: str
    source: str
    framework: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    params: int
    trainable_params: int
    macs: int
    file: str
    note: str | None = None

    def to_dict(self) -> dict[str, object]:
        """The JSON object of ``convcalc zoo --format json`` (its first keys are 1.0's)."""
        return {
            "name": self.name,
            "framework": self.framework,
            "input_shape": list(self.input_shape),
            "params": self.params,
            "trainable_params": self.trainable_params,
            "macs": self.macs,
            "family": self.family,
            "source": self.source,
            "output_shape": list(self.output_shape),
            "note": self.note,
        }


@functools.cache
def zoo_index() -> dict[str, ZooEntry]:
    """Every built-in model by name, in the index's order: family by family (by name), in
    each torchvision's, then keras.applications', then the others'."""
    try:
        raw = json.loads(INDEX.read_text(encoding="utf-8"))
        return {
            name: ZooEntry(
                name=name,
                family=entry["family"],
                source=entry["source"],
                framework=entry["framework"],
                input_shape=tuple(entry["input_shape"]),
                output_shape=tuple(entry["output_shape"]),
                params=entry["params"],
                trainable_params=entry["trainable_params"],
                macs=entry["macs"],
                file=entry["file"],
                note=entry.get("note"),
            )
            for name, entry in raw.items()
        }
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as problem:
        reason = getattr(problem, "strerror", None) or problem
        raise InputError(f"cannot read the zoo's index ({reason}); reinstall convcalc") from None


def zoo_names() -> list[str]:
    """Names of the built-in models, sorted."""
    return sorted(zoo_index())


def _entry(name: str) -> ZooEntry:
    """The index entry of ``name``; the name is looked up, never used as a path."""
    index = zoo_index()
    if name not in index:
        from ._yaml import excerpt

        names = sorted(index)
        hint = did_you_mean(name, names) if len(name) <= _LONGEST else ""
        families = sorted({entry.family for entry in index.values()})
        raise InputError(
            f"no model {excerpt(name)} in the zoo{hint}; `convcalc zoo` lists its "
            f"{len(names)} models ({', '.join(families[:6])}, ...)"
        )
    return index[name]


def _file_text(file: str) -> str:
    try:
        return (ZOO / file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as problem:  # a damaged installation
        reason = getattr(problem, "strerror", None) or problem
        raise InputError(
            f"cannot read the zoo file '{file}' ({reason}); reinstall convcalc"
        ) from None


def read_family(file: str) -> tuple[str, dict[Any, Any]]:
    """A zoo file's text and its mapping, with its family keys checked."""
    from ._yaml import parse_yaml, require_mapping

    text = _file_text(file)
    where = f"the zoo file '{file}'"
    document = require_mapping(parse_yaml(text, where), text, where)
    for key in ("family", "source"):
        if not isinstance(document.get(key), str):
            raise InputError(f"{where} has no '{key}' text; reinstall convcalc")
    members = document.get("members")
    if not isinstance(members, Mapping) or not members:
        raise InputError(f"{where} has no 'members'; reinstall convcalc")
    params = document.get("params") or {}
    for name, arguments in members.items():
        if not isinstance(arguments, Mapping) and arguments is not None:
            raise InputError(f"{where}: member '{name}' is not a mapping of arguments")
        unknown = [key for key in arguments or {} if key != MEMBER_INPUT and key not in params]
        if unknown:
            raise InputError(
                f"{where}: member '{name}' sets {unknown[0]!r}, which is not among the "
                f"file's params ({', '.join(map(str, params)) or 'none'})"
            )
    return text, document


def member_model(name: str, document: Mapping[Any, Any]) -> dict[Any, Any]:
    """The model mapping of member ``name`` of a family's mapping."""
    arguments = dict(document["members"][name] or {})
    model = {key: value for key, value in document.items() if key not in FAMILY_KEYS}
    model["name"] = name
    if MEMBER_INPUT in arguments:
        model["input"] = arguments.pop(MEMBER_INPUT)
    if document.get("params") is not None or arguments:
        model["params"] = {**(document.get("params") or {}), **arguments}
    return model


def load_zoo(name: str) -> dict[Any, Any]:
    """The model mapping of one built-in model."""
    entry = _entry(name)
    return member_model(name, read_family(entry.file)[1])


# -- a member as a YAML of its own ------------------------------------------------------------
_KEY_LINE = re.compile(r"([A-Za-z_][\w-]*)\s*:")


def _sections(text: str) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """A zoo file's leading comment lines, then its top-level keys in order, each with its
    lines (the comments just above a key belong to it)."""
    lines = text.splitlines()
    head: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    pending: list[str] = []
    for line in lines:
        match = _KEY_LINE.match(line)
        if match:
            sections.append((match.group(1), [*pending, line]))
            pending = []
        elif not sections and (line.startswith("#") or not line.strip()):
            head.append(line)
        elif line.startswith("#") or not line.strip():
            pending.append(line)
        else:
            sections[-1][1].extend([*pending, line])
            pending = []
    if sections:
        sections[-1][1].extend(pending)
    return head, sections


def flow(value: object) -> str:
    """``value`` in YAML flow style, as this project's reader reads it back."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"no finite YAML for {value!r}")
        return repr(value)
    if isinstance(value, str):
        return (
            value
            if re.fullmatch(r"[A-Za-z_][\w.]*", value)
            and value
            not in ("null", "true", "false", "True", "False", "TRUE", "FALSE", "Null", "NULL")
            else json.dumps(value)
        )
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(flow(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{flow(k)}: {flow(v)}" for k, v in value.items()) + "}"
    raise ValueError(f"no YAML for {value!r}")


def zoo_text(name: str) -> str:
    """The YAML of one built-in model, running on its own: the family's file with the
    member's name, input and arguments in place of the family's keys and defaults."""
    entry = _entry(name)
    text, document = read_family(entry.file)
    model = member_model(name, document)
    head, sections = _sections(text)
    out = [*head, f"# zoo:{name}: the {entry.family} family's member (convcalc/zoo/{entry.file})"]
    out.append(f"name: {flow(name)}")
    written = {"name"}
    for key, lines in sections:
        if key in FAMILY_KEYS or key == "name":
            continue
        if key in ("input", "params"):
            comments = [line for line in lines if line.startswith("#")]
            out += [*comments, f"{key}: {flow(model[key])}"]
        else:
            out += lines
        written.add(key)
    if "input" not in written:
        out.insert(len(head) + 2, f"input: {flow(model['input'])}")
    if "params" in model and "params" not in written:
        out.insert(len(head) + 3, f"params: {flow(model['params'])}")
    return "\n".join(out).rstrip("\n") + "\n"


# -- the index ----------------------------------------------------------------------------------
def zoo_files() -> list[str]:
    """The zoo's files, sorted."""
    return sorted(path.name for path in ZOO.glob("*.yaml"))


def build_index() -> dict[str, dict[str, object]]:
    """Every member of every zoo file with its figures, by analysing each (slow: the index is
    written once, by ``python -m convcalc._input._zoo``, and checked by the tests)."""
    from .._model import analyze

    index: dict[str, dict[str, object]] = {}
    families: list[tuple[str, str, str, list[tuple[str, dict[str, object]]]]] = []
    for file in zoo_files():
        _, document = read_family(file)
        rows = []
        for name in document["members"]:
            if name in index:
                raise InputError(f"zoo model '{name}' is a member of two files")
            report = analyze(member_model(name, document))
            entry: dict[str, object] = {
                "family": document["family"],
                "source": document["source"],
                "framework": report.settings.framework.value,
                "input_shape": list(report.input_shape),
                "output_shape": list(report.output_shape),
                "params": report.totals.params,
                "trainable_params": report.totals.trainable_params,
                "macs": report.totals.macs,
                "file": file,
            }
            if document.get("note"):
                entry["note"] = " ".join(str(document["note"]).split())
            index[name] = entry
            rows.append((name, entry))
        families.append((document["source"], document["family"], file, rows))
    ordered: dict[str, dict[str, object]] = {}
    sources = {"torchvision": 0, "keras.applications": 1}
    for _, _, _, rows in sorted(
        families, key=lambda f: (f[1].lower(), sources.get(f[0], 2), f[0], f[2])
    ):
        ordered.update(rows)
    return ordered


def write_index() -> None:
    """Write ``zoo/index.json`` from the zoo's files."""
    lines = [f" {json.dumps(name)}: {json.dumps(entry)}" for name, entry in build_index().items()]
    INDEX.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")
    zoo_index.cache_clear()


if __name__ == "__main__":  # python -m convcalc._input._zoo: rewrite the index
    write_index()
    print(f"wrote {INDEX} ({len(zoo_index())} models)")
