"""Reading a YAML model file (or standard input) safely, with messages a user can act on.

Only the safe loader is used (libyaml's C loader when present). Before composing, the event
stream is scanned for nesting depth, because the C composer recurses and crashes the process on
deeply nested input; after loading, a document that uses aliases is walked with a node budget,
so an "alias bomb" is refused instead of expanding later. Binary or non-UTF-8 input, empty
files and unreadable paths all become InputError.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any

from .._errors import InputError

MAX_BYTES = 8 * 1024 * 1024
"""No model description comes near this; a larger input is almost surely the wrong file."""
MAX_DEPTH = 64
"""Nesting deeper than any real model (blocks in blocks in branches) needs."""
MAX_NODES = 200_000
"""Values reachable through aliases, counted with repeats; far above any real model."""


def read_source(source: str) -> tuple[str, str]:
    """(text, display name) of a file path, or of standard input for ``-``."""
    if source == "-":
        data = sys.stdin.buffer.read(MAX_BYTES + 1)
        where = "standard input"
    else:
        if not source.strip():
            raise InputError(
                "the model file name is empty; give a YAML file, '-' for standard "
                "input, or zoo:NAME"
            )
        path = Path(source)
        where = source
        try:
            if path.is_dir():
                raise InputError(f"{source} is a directory; give a model file (.yaml)")
            with path.open("rb") as handle:
                data = handle.read(MAX_BYTES + 1)
        except FileNotFoundError:
            raise InputError(
                f"no such file: {source}; give a model file (.yaml), '-' for standard input, "
                "or zoo:NAME (see `convcalc zoo`)"
            ) from None
        except OSError as problem:
            raise InputError(f"cannot read {source}: {problem.strerror or problem}") from None
    return _decode(data, where), where


def _decode(data: bytes, where: str) -> str:
    if len(data) > MAX_BYTES:
        raise InputError(
            f"{where} is larger than {MAX_BYTES // (1024 * 1024)} MiB; that is not a model file"
        )
    if b"\0" in data:
        raise InputError(f"{where} is binary, not a YAML model file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{where} is not UTF-8 text; a model file is YAML text") from None
    if not text.strip():
        raise InputError(f"{where} is empty; a model needs at least 'input' and 'layers'")
    return text


def parse_yaml(text: str, where: str) -> Any:
    """The document in ``text``, loaded safely; InputError with line and column when broken."""
    import yaml

    loader = _loader()
    try:
        aliases = _scan(yaml, text, loader, where)
        document = yaml.load(text, Loader=loader)
    except yaml.MarkedYAMLError as problem:
        raise InputError(_located(problem, where)) from None
    except yaml.YAMLError as problem:
        raise InputError(f"{where}: not valid YAML: {problem}") from None
    except InputError:
        raise
    except ValueError as problem:  # e.g. Python's limit on the digits of an int
        raise InputError(f"{where}: a value cannot be read ({problem})") from None
    if aliases:
        _walk_budget(document, where)
    return document


@functools.cache
def _loader() -> Any:
    """The safe loader (libyaml's C one when present), refusing a key given twice.

    PyYAML keeps the last of two equal keys without a word; in a model file that would
    silently drop a whole 'layers' list or a parameter, so it is an error here.
    """
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):  # type: ignore[misc, valid-type]
        pass

    def mapping(loader: Any, node: Any) -> Any:
        seen: dict[object, Any] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *base`, resolved by PyYAML
                continue
            key = loader.construct_object(key_node)
            try:
                first = seen.setdefault(key, key_node.start_mark)
            except TypeError:  # an unhashable key: PyYAML reports it
                continue
            if first is not key_node.start_mark:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"the key '{key}' is given twice (first on line {first.line + 1}); keep one",
                    key_node.start_mark,
                )
        return (yield from yaml.constructor.SafeConstructor.construct_yaml_map(loader, node))

    Loader.add_constructor("tag:yaml.org,2002:map", mapping)
    return Loader


def _scan(yaml: Any, text: str, loader: Any, where: str) -> bool:
    """Check nesting depth on the event stream (no recursion); say whether aliases occur."""
    depth = 0
    aliases = False
    starts = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
    ends = (yaml.SequenceEndEvent, yaml.MappingEndEvent)
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, starts):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark
                raise InputError(
                    f"{where}, line {mark.line + 1}, column {mark.column + 1}: nested more than "
                    f"{MAX_DEPTH} levels deep; no model needs that"
                )
        elif isinstance(event, ends):
            depth -= 1
        elif isinstance(event, yaml.AliasEvent):
            aliases = True
    return aliases


def _walk_budget(document: object, where: str) -> None:
    """Refuse documents whose aliases expand past MAX_NODES values (or refer to themselves)."""
    stack: list[tuple[object, int]] = [(document, 0)]
    seen = 0
    while stack:
        value, depth = stack.pop()
        seen += 1
        if seen > MAX_NODES or depth > MAX_DEPTH:
            raise InputError(
                f"{where}: its aliases (*name) expand to more than {MAX_NODES:,} values or "
                "refer to themselves; write the model out without them"
            )
        if isinstance(value, dict):
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)


def _located(problem: Any, where: str) -> str:
    mark = problem.problem_mark or problem.context_mark
    place = f"{where}, line {mark.line + 1}, column {mark.column + 1}" if mark else where
    what = problem.problem or "not valid YAML"
    if "constructor for the tag" in what:
        tag = what.split("'")[1] if what.count("'") >= 2 else "it uses"
        tag = tag.replace("tag:yaml.org,2002:", "!!")
        return (
            f"{place}: the tag {tag} is not allowed; model files are read with a safe "
            "loader that builds only plain values (mappings, lists, numbers, text)"
        )
    context = f" ({problem.context}" if problem.context else ""
    start = problem.context_mark
    # For a flow collection the start is the unclosed bracket: worth pointing at.
    flow = "flow" in (problem.context or "")
    if flow and start is not None and mark is not None and start.line != mark.line:
        context += f" that starts on line {start.line + 1}, column {start.column + 1}"
    context += ")" if context else ""
    advice = "" if "given twice" in what else "; check the YAML syntax there"
    return f"{place}: {what}{context}{advice}"


def read_model_source(source: str) -> object:
    """The model mapping in a YAML file or on standard input (``-``)."""
    text, where = read_source(source)
    return parse_yaml(text, where)
