"""Reading a YAML model file (or standard input) safely, with messages a user can act on.

libyaml's parser (through PyYAML's CSafeLoader; the pure-Python SafeLoader when libyaml is
missing) turns the text into events; ``_compose`` builds plain values from them in one pass,
with no recursion, so nesting depth is checked as it happens (the C composer recurses and
crashes the process on deeply nested input), and it is several times faster than PyYAML's
composer and constructors: one parse, no node objects. Building from events is also where YAML
is read as a person means it:

- scalars resolve by a small, explicit set of rules (the loader's own implicit resolvers):
  null, the six spellings of true and false, decimal integers and decimal floats; everything
  else (``0x3``, ``1:30``, ``1_000``, ``yes``, ``3x3``) stays text for the layer code to read;
- explicit tags are limited to ``!!str !!int !!float !!bool !!null !!seq !!map``, whose values
  follow the same rules; any other tag is refused, and no tag can run code;
- numbers past any size in a network (more than 30 digits, or floats that overflow) are refused;
- tuples written the frameworks' way inside flow collections, ``[32, (3, 3)]``, which YAML
  splits at the comma, are joined back into one text ``'(3, 3)'``; a plain scalar left with
  unbalanced parentheses or brackets is refused;
- a key given twice, an anchor defined twice, and an alias to a collection it is inside are
  refused; merge keys (``<<``) work, with a budget on what they copy.

A document that uses aliases is walked with a node budget afterwards, so an "alias bomb" is
refused instead of expanding later. Non-regular files, binary or non-UTF-8 input, empty or
closed input and unreadable paths all become InputError, naming the source.
"""

from __future__ import annotations

import functools
import math
import os
import re
import stat
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from .._errors import InputError

MAX_BYTES = 8 * 1024 * 1024
"""No model description comes near this; a larger input is almost surely the wrong file."""
MAX_DEPTH = 64
"""Nesting deeper than any real model (blocks in blocks in branches) needs."""
MAX_NODES = 200_000
"""Values reachable through aliases, counted with repeats, or copied by merge keys; far above
any real model."""
MAX_DIGITS = 30
"""Digits of the largest integer read: every size, count or MAC figure of a network fits."""
EXCERPT = 60
"""At most this many characters of what the user wrote are quoted back in a message."""

_TAG = "tag:yaml.org,2002:"

# The implicit resolvers: what a plain (unquoted, untagged) scalar means. YAML 1.1's others
# (sexagesimal, 0x/0o/0b, underscores, yes/no/on/off, timestamps, '=') are left as text.
_NULL = re.compile(r"(?:~|null|Null|NULL|)\Z")
_BOOL = re.compile(r"(?:true|True|TRUE|false|False|FALSE)\Z")
_INT = re.compile(r"[-+]?[0-9]+\Z")
_FLOAT = re.compile(
    r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z"
    r"|[-+]?\.(?:inf|Inf|INF)\Z|\.(?:nan|NaN|NAN)\Z"
)
_MERGE_KEY = re.compile(r"<<\Z")
_BRACKETS = re.compile(r"[()\[\]]")
_CLOSES = {")": "(", "]": "["}


# -- reading bytes ------------------------------------------------------------------------------


def read_source(source: str) -> tuple[str, str]:
    """(text, display name) of a file path, or of standard input for ``-``."""
    if source == "-":
        where = "standard input"
        return _decode(_read_stdin(), where), where
    if not source.strip():
        raise InputError(
            "the model file name is empty; give a YAML file, '-' for standard input, or zoo:NAME"
        )
    where = _path_name(source)
    return _decode(_read_file(source, where), where), where


def _path_name(source: str) -> str:
    """The path as messages show it: whole unless absurdly long, control characters escaped."""
    shown = source if source.isprintable() else _printable(source)
    if len(shown) <= 4 * EXCERPT:
        return shown
    return f"{shown[:EXCERPT]}...{shown[-EXCERPT:]} (a path of {len(source):,} characters)"


def _read_file(source: str, where: str) -> bytes:
    """At most MAX_BYTES + 1 bytes of a regular file; never blocks on a pipe or a device."""
    try:
        _require_regular(os.stat(source).st_mode, where)
        # O_NONBLOCK: should the path become a FIFO after the stat, open() still returns
        flags = os.O_RDONLY
        for name in ("O_NONBLOCK", "O_NOCTTY", "O_CLOEXEC", "O_BINARY"):
            flags |= getattr(os, name, 0)
        with open(os.open(source, flags), "rb") as handle:
            _require_regular(os.fstat(handle.fileno()).st_mode, where)
            return handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise InputError(
            f"no such file: {where}; give a model file (.yaml), '-' for standard input, "
            "or zoo:NAME (see `convcalc zoo`)"
        ) from None
    except OSError as problem:
        raise InputError(f"cannot read {where}: {problem.strerror or problem}") from None
    except ValueError as problem:  # a NUL in the path; InputError is a ValueError too
        if isinstance(problem, InputError):
            raise
        raise InputError(f"cannot read {where}: a file name cannot hold a NUL character") from None


def _require_regular(mode: int, where: str) -> None:
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise InputError(f"{where} is a directory; give a model file (.yaml)")
    if stat.S_ISFIFO(mode):
        kind = "a named pipe"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "a device"
    elif stat.S_ISSOCK(mode):
        kind = "a socket"
    else:
        kind = "not a regular file"
    raise InputError(
        f"{where} is {kind}, not a model file; give a YAML file, or pipe the model into "
        "standard input and give '-'"
    )


def _read_stdin() -> bytes:
    stream = sys.stdin
    if stream is None:  # started with standard input closed: `convcalc model - <&-`
        raise InputError(
            "standard input is closed, so '-' has no model to read; give the model file's "
            "name, or pipe it in: convcalc model - < net.yaml"
        )
    try:
        data = getattr(stream, "buffer", stream).read(MAX_BYTES + 1)
    except (OSError, ValueError) as problem:  # a closed descriptor, a closed file object
        reason = getattr(problem, "strerror", None) or problem
        raise InputError(f"cannot read standard input: {reason}") from None
    if data is None:  # a non-blocking stream with nothing in it yet
        raise InputError(
            "standard input has nothing to read yet (it is non-blocking); pipe the model in: "
            "convcalc model - < net.yaml"
        )
    if isinstance(data, str):  # a text stream without a buffer (an embedding program's)
        try:
            return data.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            raise InputError(
                "standard input is not UTF-8 text; a model file is YAML text"
            ) from None
    return bytes(data)


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


# -- parsing ------------------------------------------------------------------------------------


def parse_yaml(text: str, where: str) -> Any:
    """The document in ``text``, read safely; InputError with line and column when broken.

    None when the text holds no document (only comments); any plain value otherwise.
    """
    import yaml

    parser = None
    try:
        parser = _loader()(text)
        document, aliases = _compose(parser, where)
    except yaml.MarkedYAMLError as problem:
        raise InputError(_located(problem, where)) from None
    except yaml.reader.ReaderError as problem:
        in_bytes = not issubclass(_loader(), yaml.reader.Reader)  # libyaml counts bytes
        raise InputError(_unreadable_character(problem, text, where, in_bytes)) from None
    except yaml.YAMLError as problem:
        raise InputError(f"{where}: not valid YAML: {excerpt(str(problem))}") from None
    except UnicodeError:  # a str with lone surrogates, which no file can decode to
        raise InputError(
            f"{where} holds characters that are not valid Unicode text (lone surrogates)"
        ) from None
    finally:
        dispose = getattr(parser, "dispose", None)
        if dispose is not None:
            dispose()
    if aliases:
        _walk_budget(document, where)
    return document


def read_model_source(source: str) -> dict[Any, Any]:
    """The model mapping in a YAML file or on standard input (``-``); a Keras model config
    (``model.to_json()``'s JSON, a ``.keras`` file) is read as the model it describes."""
    from ._keras import is_keras_archive, keras_from_text, read_keras_archive
    from ._onnx import is_onnx_source, read_onnx

    if is_onnx_source(source):
        return read_onnx(source)
    if is_keras_archive(source):
        return read_keras_archive(source)
    text, where = read_source(source)
    keras = keras_from_text(text, where)
    if keras is not None:
        return keras
    return require_mapping(parse_yaml(text, where), text, where)


def require_mapping(document: object, text: str, where: str) -> dict[Any, Any]:
    """``document`` if it is a mapping; else an InputError saying what the source holds."""
    if isinstance(document, dict):
        return document
    hint = ""
    if document is None:
        held = f"no model, only {_what_is_there(text)}"
    elif isinstance(document, list):
        held = "a list, not a model"
        hint = " (if the list is its layers, put it under 'layers:' beside 'input:')"
    elif isinstance(document, bool):
        held = f"only the value {str(document).lower()}, not a model"
    elif isinstance(document, int | float):
        held = f"only the number {document}, not a model"
    else:
        held = f"only the text {excerpt(str(document))}, not a model"
    raise InputError(
        f"{where} holds {held}: a model is a mapping with at least 'input' and 'layers'{hint}; "
        "`convcalc zoo show mnist_cnn` prints an example"
    )


def _what_is_there(text: str) -> str:
    """What a text whose document is empty holds: comments, markers, or a null value."""
    comments = False
    for line in text.splitlines():
        line = line.strip()
        if line.startswith(("---", "...")):
            line = line[3:].lstrip()
        if line.startswith("#"):
            comments = True
        elif line and not line.startswith("%"):
            return "an empty value (null)"
    return "comments" if comments else "document markers (---)"


@functools.cache
def _loader() -> Any:
    """The safe loader (libyaml's C one when present) with this reader's implicit resolvers.

    Only its parser and its resolver table are used: ``_compose`` builds the values. The
    resolvers live in the subclass's own table, so PyYAML's classes are left as they are.
    """
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):  # type: ignore[misc, valid-type]
        yaml_implicit_resolvers: dict[str | None, list[tuple[str, re.Pattern[str]]]] = {}

    # The order counts: the first match wins, so int comes before float.
    Loader.add_implicit_resolver(_TAG + "null", _NULL, ["~", "n", "N", ""])
    Loader.add_implicit_resolver(_TAG + "bool", _BOOL, list("tTfF"))
    Loader.add_implicit_resolver(_TAG + "int", _INT, list("-+0123456789"))
    Loader.add_implicit_resolver(_TAG + "float", _FLOAT, list("-+.0123456789"))
    Loader.add_implicit_resolver(_TAG + "merge", _MERGE_KEY, ["<"])
    return Loader


Convert = Callable[[str, Any, str], object]


@functools.cache
def _resolvers() -> dict[str, tuple[tuple[re.Pattern[str], Convert], ...]]:
    """First character of a plain scalar -> (pattern, conversion) pairs, from the Loader."""
    converts: dict[str, Convert] = {
        _TAG + "null": lambda text, mark, where: None,
        _TAG + "bool": lambda text, mark, where: text[0] in "tT",
        _TAG + "int": _to_int,
        _TAG + "float": _to_float,
        _TAG + "merge": lambda text, mark, where: text,  # a key '<<' merges; elsewhere text
    }
    table = _loader().yaml_implicit_resolvers
    return {
        first: tuple((pattern, converts[tag]) for tag, pattern in resolvers)
        for first, resolvers in table.items()
        if first is not None
    }


def _to_int(text: str, mark: Any, where: str) -> int:
    digits = len(text) - (text[0] in "+-")
    if digits > MAX_DIGITS:
        _fail(
            where,
            mark,
            f"{excerpt(text)}: a number with {digits:,} digits is far larger than any size "
            f"in a network (limit {MAX_DIGITS} digits); quote it if it is a name",
        )
    return int(text)


def _to_float(text: str, mark: Any, where: str) -> float:
    spelled = text.lstrip("+-").lower()
    if spelled in (".inf", ".nan"):  # YAML's spellings; Python's float() knows them without '.'
        return float(text.replace(".", "", 1))
    number = float(text)
    if math.isinf(number):
        _fail(
            where,
            mark,
            f"{excerpt(text)}: a number this large (past about 1.8e308, where floats end) is "
            "far larger than any size in a network; quote it if it is a name",
        )
    return number


def _tagged(tag: str, text: str, mark: Any, where: str) -> object:
    """A scalar with an explicit tag: only the plain-value tags, with decimal-only values."""
    name = tag[len(_TAG) :] if tag.startswith(_TAG) else ""
    if name == "str":
        return text
    if name == "int":
        if _INT.match(text):
            return _to_int(text, mark, where)
        need = "a whole number in decimal digits, such as 32"
    elif name == "float":
        if _INT.match(text) or _FLOAT.match(text):
            return _to_float(text, mark, where)
        need = "a decimal number, such as 0.5, 1e-3 or .inf"
    elif name == "bool":
        if _BOOL.match(text):
            return text[0] in "tT"
        need = "true or false"
    elif name == "null":
        if _NULL.match(text):
            return None
        need = "an empty value, ~ or null"
    elif name in ("seq", "map"):
        need = "a list" if name == "seq" else "a mapping"
        _fail(where, mark, f"the tag !!{name} needs {need}, not a single value; remove the tag")
    else:
        _not_allowed(tag, mark, where)
    found = excerpt(text) if text else "an empty value"
    _fail(where, mark, f"!!{name} needs {need}, not {found}; write that, or remove the tag")


def _collection_tag(tag: str, sequence: bool, mark: Any, where: str) -> NoReturn:
    """Refuse a tag on a list or mapping other than its own (!!seq, !!map) or '!'."""
    name = tag[len(_TAG) :] if tag.startswith(_TAG) else ""
    found = "a list" if sequence else "a mapping"
    if name in ("str", "int", "float", "bool", "null"):
        _fail(where, mark, f"the tag !!{name} needs a single value, not {found}; remove the tag")
    if name in ("seq", "map"):
        need = "a list" if name == "seq" else "a mapping"
        _fail(where, mark, f"the tag !!{name} needs {need}, not {found}; remove the tag")
    _not_allowed(tag, mark, where)


def _not_allowed(tag: str, mark: Any, where: str) -> NoReturn:
    shown = "!!" + tag[len(_TAG) :] if tag.startswith(_TAG) else tag
    if len(shown) > EXCERPT:
        shown = excerpt(shown)
    _fail(
        where,
        mark,
        f"the tag {shown} is not allowed; model files are read with a safe loader that builds "
        "only plain values (mappings, lists, numbers, text)",
    )


# -- building values from events ----------------------------------------------------------------

_NO_KEY = object()
"""A mapping waits for a key."""
_MERGE = object()
"""A mapping's current key is '<<'."""


class _Node:
    """An open collection (or the document itself): receives the values inside it."""

    __slots__ = ("mark", "anchor", "flow", "join", "opened", "join_mark", "join_anchor")

    def __init__(self, mark: Any, anchor: str | None, flow: bool) -> None:
        self.mark = mark
        self.anchor = anchor
        self.flow = flow
        self.join: list[str] | None = None
        """Pieces of a tuple that YAML split at its commas, while it is being joined."""
        self.opened: list[str] = []
        self.join_mark: Any = None
        self.join_anchor: str | None = None

    def add(self, value: object, mark: Any, raw: str | None, where: str) -> None:
        raise NotImplementedError

    def finish(self, budget: list[int], where: str) -> object:
        raise NotImplementedError

    def can_join(self) -> bool:
        return False

    def start_join(self, text: str, opened: list[str], mark: Any, anchor: str | None) -> None:
        self.join, self.opened, self.join_mark, self.join_anchor = [text], opened, mark, anchor

    def take(self, event: Any, is_scalar: bool, where: str) -> bool:
        """Take the next piece of a split tuple; True when it is whole."""
        if is_scalar and _is_piece(event):
            assert self.join is not None
            self.join.append(event.value)
            if not _balance(event.value, self.opened):
                _unbalanced(", ".join(self.join), self.join_mark, where)
            return not self.opened
        assert self.join is not None
        _unbalanced(", ".join(self.join), self.join_mark, where)

    def joined(self) -> tuple[str, Any, str | None]:
        assert self.join is not None
        text = ", ".join(self.join)
        self.join = None
        return text, self.join_mark, self.join_anchor


class _Document(_Node):
    __slots__ = ("value",)

    def __init__(self) -> None:
        super().__init__(None, None, False)
        self.value: object = None

    def add(self, value: object, mark: Any, raw: str | None, where: str) -> None:
        self.value = value


class _Sequence(_Node):
    __slots__ = ("items",)

    def __init__(self, mark: Any, anchor: str | None, flow: bool) -> None:
        super().__init__(mark, anchor, flow)
        self.items: list[object] = []

    def add(self, value: object, mark: Any, raw: str | None, where: str) -> None:
        self.items.append(value)

    def finish(self, budget: list[int], where: str) -> object:
        return self.items

    def can_join(self) -> bool:
        return self.flow


class _Mapping(_Node):
    __slots__ = ("items", "key", "marks", "merges", "awaiting")

    def __init__(self, mark: Any, anchor: str | None, flow: bool) -> None:
        super().__init__(mark, anchor, flow)
        self.items: dict[Any, object] = {}
        self.key: object = _NO_KEY
        self.marks: dict[Any, Any] = {}
        """Each key -> where it was first given, for the message on a key given twice."""
        self.merges: list[dict[Any, object]] = []
        """Mappings merged in by '<<', in the order they apply: later ones win."""
        self.awaiting = False
        """In a split tuple: its last piece came as a key, and its empty value comes next."""

    def add(self, value: object, mark: Any, raw: str | None, where: str) -> None:
        key = self.key
        if key is _NO_KEY:
            if raw == "<<":
                self.key = _MERGE
                return
            try:
                first = self.marks.get(value)
            except TypeError:
                _fail(
                    where,
                    mark,
                    f"a key must be a name or a number, not {_kind(value)}; "
                    "check the indentation or the brackets there",
                )
            if first is not None:
                shown = "~ (empty)" if value is None else excerpt(str(value))
                _fail(
                    where,
                    mark,
                    f"the key {shown} is given twice (first on line {first.line + 1}); keep one",
                )
            self.marks[value] = mark
            self.key = value
        elif key is _MERGE:
            self.key = _NO_KEY
            if isinstance(value, dict):
                self.merges.append(value)
            elif isinstance(value, list) and all(isinstance(item, dict) for item in value):
                self.merges.extend(reversed(value))  # the first of [*a, *b] wins
            else:
                _fail(
                    where,
                    mark,
                    "'<<' merges a mapping (<<: *name) or a list of mappings (<<: [*a, *b]) "
                    f"into this one, not {_kind(value)}",
                )
        else:
            self.items[key] = value
            self.key = _NO_KEY

    def finish(self, budget: list[int], where: str) -> object:
        if not self.merges:
            return self.items
        merged: dict[Any, object] = {}
        for source in [*self.merges, self.items]:
            budget[0] += len(source)
            if budget[0] > MAX_NODES:
                _fail(
                    where,
                    self.mark,
                    f"its merge keys (<<) copy more than {MAX_NODES:,} values; "
                    "write the model out without them",
                )
            merged.update(source)
        return merged

    def can_join(self) -> bool:
        return self.flow and self.key is not _NO_KEY and self.key is not _MERGE

    def take(self, event: Any, is_scalar: bool, where: str) -> bool:
        # In a flow mapping, `kernel: (3, 3)` comes as kernel: '(3' and a key '3)' whose value
        # is empty: each key is a piece, and its empty value is skipped.
        assert self.join is not None
        if not self.awaiting:
            super().take(event, is_scalar, where)
            self.awaiting = True
            return False
        if is_scalar and event.value == "" and _is_piece(event):
            self.awaiting = False
            return not self.opened
        _unbalanced(", ".join(self.join[:-1]), self.join_mark, where)


def _is_piece(event: Any) -> bool:
    """A plain scalar with no tag or anchor: what a split tuple is made of."""
    return event.tag is None and not event.style and event.anchor is None


def _balance(text: str, opened: list[str]) -> bool:
    """Follow the brackets of ``text`` on the stack ``opened``; False when one closes wrongly."""
    for bracket in _BRACKETS.findall(text):
        if bracket in "([":
            opened.append(bracket)
        elif not opened or opened.pop() != _CLOSES[bracket]:
            return False
    return True


def _compose(parser: Any, where: str) -> tuple[object, bool]:
    """The document's value built from the parser's events; whether it used aliases."""
    from yaml import events

    scalar_event, alias_event = events.ScalarEvent, events.AliasEvent
    sequence_start, sequence_end = events.SequenceStartEvent, events.SequenceEndEvent
    mapping_start, mapping_end = events.MappingStartEvent, events.MappingEndEvent
    document_start, stream_end = events.DocumentStartEvent, events.StreamEndEvent
    resolvers = _resolvers()
    search_brackets = _BRACKETS.search

    document = _Document()
    stack: list[_Node] = [document]
    anchors: dict[str, tuple[object, Any]] = {}
    opened: dict[str, Any] = {}
    """Anchors of the collections still being read: an alias to one would contain itself."""
    budget = [0]
    aliases = False
    documents = 0

    def define(anchor: str, mark: Any) -> None:
        first = anchors.get(anchor)
        first_mark = first[1] if first is not None else opened.get(anchor)
        if first_mark is not None:
            _fail(
                where,
                mark,
                f"the anchor {excerpt('&' + anchor)} is defined twice (first on line "
                f"{first_mark.line + 1}); give each anchor its own name",
            )

    get_event = parser.get_event
    while True:
        event = get_event()
        kind = event.__class__
        top = stack[-1]
        if top.join is not None:
            if top.take(event, kind is scalar_event, where):
                text, mark, anchor = top.joined()
                top.add(text, mark, None, where)
                if anchor is not None:
                    define(anchor, mark)
                    anchors[anchor] = (text, mark)
            continue
        if kind is scalar_event:
            text = event.value
            tag = event.tag
            if tag is None and not event.style:  # plain: resolved here
                value: object = text
                for pattern, convert in resolvers.get(text[:1], ()):
                    if pattern.match(text):
                        value = convert(text, event.start_mark, where)
                        break
                if value is text and search_brackets(text) is not None:
                    brackets: list[str] = []
                    if not _balance(text, brackets):
                        _unbalanced(text, event.start_mark, where)
                    if brackets:
                        if not top.can_join():
                            _unbalanced(text, event.start_mark, where)
                        top.start_join(text, brackets, event.start_mark, event.anchor)
                        continue
                top.add(value, event.start_mark, text, where)
            else:
                value = text if tag is None or tag == "!" else _tagged(tag, text, event, where)
                top.add(value, event.start_mark, None, where)
            if event.anchor is not None:
                define(event.anchor, event.start_mark)
                anchors[event.anchor] = (value, event.start_mark)
        elif kind is mapping_start or kind is sequence_start:
            sequence = kind is sequence_start
            tag = event.tag
            if tag is not None and tag != "!" and tag != _TAG + ("seq" if sequence else "map"):
                _collection_tag(tag, sequence, event, where)
            if len(stack) > MAX_DEPTH:
                _fail(
                    where,
                    event.start_mark,
                    f"nested more than {MAX_DEPTH} levels deep; no model needs that",
                )
            anchor = event.anchor
            if anchor is not None:
                define(anchor, event.start_mark)
                opened[anchor] = event.start_mark  # until it is whole
            node = _Sequence if sequence else _Mapping
            stack.append(node(event.start_mark, anchor, bool(event.flow_style)))
        elif kind is mapping_end or kind is sequence_end:
            stack.pop()
            value = top.finish(budget, where)
            stack[-1].add(value, top.mark, None, where)
            if top.anchor is not None:
                del opened[top.anchor]
                anchors[top.anchor] = (value, top.mark)
        elif kind is alias_event:
            name = event.anchor
            if name in opened:
                _fail(
                    where,
                    event.start_mark,
                    f"the alias {excerpt('*' + name)} is inside the collection it names "
                    f"(line {opened[name].line + 1}), so it would contain itself; write the "
                    "model out without it",
                )
            entry = anchors.get(name)
            if entry is None:
                _fail(
                    where,
                    event.start_mark,
                    f"the alias {excerpt('*' + name)} names no anchor defined before it; "
                    "define the anchor (&name) first",
                )
            aliases = True
            top.add(entry[0], event.start_mark, None, where)
        elif kind is document_start:
            documents += 1
            if documents > 1:
                _fail(
                    where,
                    event.start_mark,
                    "a second YAML document starts here; a model file holds one document: "
                    "remove this '---' and what follows, or split the file",
                )
        elif kind is stream_end:
            return document.value, aliases


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


# -- messages -----------------------------------------------------------------------------------


def excerpt(text: str) -> str:
    """``text`` quoted for a message: its first EXCERPT characters, saying how much was cut."""
    shown = text[:EXCERPT]
    if not shown.isprintable():
        shown = _printable(shown)
    if len(text) <= EXCERPT:
        return f"'{shown}'"
    return f"'{shown}...' (the first {EXCERPT} of {len(text):,} characters)"


def _printable(text: str) -> str:
    """``text`` with each unprintable character (a newline, a tab, an escape) as its escape."""
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in text
    )


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "an empty value"
    if isinstance(value, str):
        return f"the text {excerpt(value)}"
    return f"the value {excerpt(str(value))}"


def _fail(where: str, mark: Any, message: str) -> NoReturn:
    mark = getattr(mark, "start_mark", mark)  # an event, or its mark
    raise InputError(f"{where}, line {mark.line + 1}, column {mark.column + 1}: {message}")


def _unbalanced(text: str, mark: Any, where: str) -> NoReturn:
    what = "parentheses" if "(" in text or ")" in text else "brackets"
    _fail(
        where,
        mark,
        f"unbalanced {what} in {excerpt(text)}: write a per-axis value as (3, 3), [3, 3] "
        "or 3x3; quote it if it is meant as text",
    )


def _unreadable_character(problem: Any, text: str, where: str, in_bytes: bool) -> str:
    """Where the reader stopped, as line and column (libyaml counts UTF-8 bytes to it)."""
    if in_bytes:
        before = text.encode("utf-8", "surrogatepass")[: problem.position]
        prefix = before.decode("utf-8", "replace")
    else:
        prefix = text[: problem.position]
    line = prefix.count("\n") + 1
    column = len(prefix) - (prefix.rfind("\n") + 1) + 1
    code = problem.character if isinstance(problem.character, int) else ord(problem.character)
    return (
        f"{where}, line {line}, column {column}: the character U+{code:04X} cannot appear in "
        f"a YAML file ({problem.reason}); delete it, or write it as \\u{code:04X} inside "
        "double quotes"
    )


def _located(problem: Any, where: str) -> str:
    mark = problem.problem_mark or problem.context_mark
    place = f"{where}, line {mark.line + 1}, column {mark.column + 1}" if mark else where
    what = problem.problem or "not valid YAML"
    context = f" ({problem.context}" if problem.context else ""
    start = problem.context_mark
    # For a flow collection the start is the unclosed bracket: worth pointing at.
    flow = "flow" in (problem.context or "")
    if flow and start is not None and mark is not None and start.line != mark.line:
        context += f" that starts on line {start.line + 1}, column {start.column + 1}"
    context += ")" if context else ""
    return f"{place}: {what}{context}; check the YAML syntax there"
