"""Parsing and normalising parameter values, whichever way the user wrote them.

A value may come from YAML (an int, a list, a bool), from the chain shorthand or a command-line
option (always a string: ``3``, ``3x5``, ``3,5``, ``false``) or from the Python API. Each value type
here turns all of those into one normal form, once, when a layer is read; the rules never see raw
input. A value type raises :class:`Invalid` with a reason; the caller adds where it happened.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import NamedTuple

from ._errors import escape as escape  # re-exported: names are escaped by one rule

Padding = str | tuple[tuple[int, int], ...]
"""A normalised padding: a mode (``valid``, ``same``, ``causal``) or (before, after) per axis."""


class Invalid(Exception):
    """A raw value does not fit its type; ``reason`` ends "<param> <value> is not valid: ..."."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@functools.lru_cache(maxsize=4096)  # the same few names, once per layer of large models
def normalize_name(name: str) -> str:
    """The form names are compared in: case-insensitive, with ``_`` and ``-`` ignored."""
    return name.lower().replace("_", "").replace("-", "")


SHOWN = 60
"""At most this many characters of a user's value are quoted in a message."""


def show(raw: object) -> str:
    """A raw value as the user would recognise it in a message: control characters escaped,
    a long value cut to an excerpt that says how long it was, a huge number by its size."""
    text = _show(raw, SHOWN + 1)
    if len(text) <= SHOWN:
        return text
    size = f"{len(raw):,} characters" if isinstance(raw, str) else _size(raw)
    return f"{text[:40]}...{text[-8:]} ({size}, cut)"


def show_names(shown: list[str], total: int) -> str:
    """Names already shown, joined; when there were more than shown, how many in all."""
    joined = ", ".join(shown)
    return joined if total <= len(shown) else f"{joined}, ... ({total:,} in all)"


def _size(raw: object) -> str:
    if isinstance(raw, (list, tuple)):
        return f"a list of {len(raw):,}"
    if isinstance(raw, dict):
        return f"a mapping of {len(raw):,} keys"
    return "long"


HUGE = 10**30
"""Integers from here on are shown by their size, never printed (Python refuses to print one of
over 4,300 digits at all)."""


def _show(raw: object, budget: int) -> str:
    """``raw`` as text, built only until it is longer than ``budget`` (the rest is cut)."""
    if isinstance(raw, str):
        return "'" + escape(raw[: budget + 8]) + ("..." if len(raw) > budget + 8 else "") + "'"
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int) and abs(raw) >= HUGE:
        return f"a number of about {int(raw.bit_length() * 0.30103):,} digits"
    if isinstance(raw, (list, tuple)):
        parts: list[str] = []
        used = 1
        for item in raw:
            if used > budget:
                parts.append("...")
                break
            part = _show(item, budget - used)
            parts.append(part)
            used += len(part) + 2
        return "[" + ", ".join(parts) + "]"
    if isinstance(raw, dict):
        return "{...}"
    if raw is None:
        return "null"
    if isinstance(raw, (int, float)):
        return str(raw)
    return escape(f"<{type(raw).__name__}>")


_SPLIT = re.compile(r"\s*[xX,]\s*")


LARGEST = 2**62
"""No size, count or amount in a network comes near this; larger ones are typing mistakes (and
products of them would overflow the memory figures' arithmetic)."""


def _whole(raw: object) -> int:
    """One integer from an int or a decimal string; never a bool, a float or anything else."""
    if isinstance(raw, bool):
        raise Invalid("expected a whole number, not true/false")
    value: int | None = None
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, float) and raw.is_integer():
        value = int(raw)
    elif isinstance(raw, str):
        text = raw.strip()
        if re.fullmatch(r"[+-]?\d+", text):
            if len(text) > 30:  # also keeps clear of Python's 4,300-digit limit on int()
                raise Invalid("is far too large")
            value = int(text)
    if value is None:
        raise Invalid("expected a whole number")
    if abs(value) > LARGEST:
        raise Invalid("is far too large")
    return value


def _pieces(raw: object) -> list[object]:
    """The items of a per-axis value: a list, or a string like ``3x5``, ``3,5``, ``(3, 5)``,
    ``[3, 5]`` or ``((1, 1), (2, 2))`` (nested pairs), or one scalar."""
    if isinstance(raw, str):
        return tuple_items(raw)
    if isinstance(raw, (list, tuple)):
        return list(raw)
    return [raw]


_BRACKETS = {"(": ")", "[": "]"}


def tuple_items(text: str) -> list[object]:
    """The items of a per-axis value written as text, the way Python, Keras and PyTorch code
    writes one: ``3x5``, ``3,5``, ``(3, 5)``, ``(3,)``, ``[3, 5]``, ``((1, 1), (2, 2))``.
    Brackets must balance; raises :class:`Invalid` when they do not."""
    stripped = text.strip()
    if not any(mark in stripped for mark in "()[]"):
        return list(_SPLIT.split(stripped)) if stripped else [""]
    items, end = _group(stripped, 0, None, 0)
    if end != len(stripped):
        raise Invalid("has unbalanced brackets; write e.g. (3, 3), [3, 3] or 3x3")
    if len(items) == 1 and isinstance(items[0], list):
        return items[0]  # one outer pair: (3, 3) is the value's items
    return items


def _group(text: str, position: int, closing: str | None, depth: int) -> tuple[list[object], int]:
    """Items from ``position`` up to ``closing`` (or the end); returns them and where it
    stopped (just after the closing bracket)."""
    items: list[object] = []
    current = ""
    nested: list[object] | None = None
    while position < len(text):
        char = text[position]
        if char in _BRACKETS:
            if current.strip() or nested is not None:
                raise Invalid("has misplaced brackets; write e.g. (3, 3)")
            if depth >= 3:
                raise Invalid("nests brackets too deeply; write e.g. (3, 3)")
            nested, position = _group(text, position + 1, _BRACKETS[char], depth + 1)
            continue
        if char in ")]":
            if char != closing:
                raise Invalid("has unbalanced brackets; write e.g. (3, 3), [3, 3] or 3x3")
            _close(items, current, nested)
            return items, position + 1
        if char == ",":
            _close(items, current, nested, required=True, text=text)
            current, nested = "", None
        else:
            if nested is not None and char.strip():
                raise Invalid("has misplaced brackets; write e.g. (3, 3)")
            current += char
        position += 1
    if closing is not None:
        raise Invalid(
            f"has unbalanced brackets: a '{closing}' is missing; write e.g. (3, 3), [3, 3] or 3x3"
        )
    _close(items, current, nested)
    return items, position


def _close(
    items: list[object],
    current: str,
    nested: list[object] | None,
    *,
    required: bool = False,
    text: str = "",
) -> None:
    """End one item: a nested group, or text (``3x5`` inside brackets is split too)."""
    if nested is not None:
        items.append(nested)
    elif current.strip():
        items.append(current.strip())
    elif required:
        raise Invalid("has an empty value between commas")


class WholeNumber(NamedTuple):
    """An integer no smaller than ``minimum``."""

    minimum: int = 1

    @property
    def describe(self) -> str:
        return "a positive integer" if self.minimum == 1 else f"an integer >= {self.minimum}"

    def parse(self, raw: object, rank: int) -> int:
        value = _whole(raw)
        if value < self.minimum:
            raise Invalid(f"must be {self.describe}")
        return value


class PerAxis(NamedTuple):
    """Integers, one per spatial axis, written once for all axes (``3``) or per axis (``3x5``)."""

    minimum: int = 1
    free: bool = False
    """Keep the values as written (one, or one per axis) for kinds that take any spatial rank;
    their rule spreads a single value over the axes and checks the count."""

    @property
    def describe(self) -> str:
        floor = "positive integers" if self.minimum == 1 else f"integers >= {self.minimum}"
        return f"{floor}, one for all axes (3) or one per axis (3x5)"

    def parse(self, raw: object, rank: int) -> tuple[int, ...]:
        pieces = _pieces(raw)
        try:
            values = tuple(_whole(piece) for piece in pieces)
        except Invalid:
            raise Invalid(f"must be {self.describe}") from None
        if any(value < self.minimum for value in values):
            raise Invalid(f"must be {self.describe}")
        if self.free:
            return values
        bracketed = isinstance(raw, (list, tuple)) or (
            isinstance(raw, str) and raw.strip()[:1] in ("(", "[")
        )
        if len(values) == 1 and bracketed and rank > 1:
            # Keras refuses (3,) for a 2-D kernel, stride or pool size, and PyTorch for a
            # kernel: one value in brackets is not one value for every axis
            raise Invalid(
                f"has 1 value in brackets but the layer has {rank} spatial axes: give "
                f"{values[0]} (for every axis) or {rank} values"
            )
        if len(values) == 1:
            return values * rank
        if len(values) != rank:
            raise Invalid(
                f"has {len(values)} values but the layer has {rank} spatial "
                f"{axes_word(rank)}: give one value, or {rank}"
            )
        return values


class PaddingValue(NamedTuple):
    """``valid``, ``same`` (and ``causal`` where allowed), or zeros per side: ``1`` or ``1x2``."""

    modes: tuple[str, ...] = ("valid", "same")
    pairs: bool = False
    """Whether an axis may take a (before, after) pair, as zero-padding layers allow."""

    @property
    def describe(self) -> str:
        modes = ", ".join(self.modes)
        pair = ", or [before, after] per axis" if self.pairs else ""
        return f"one of {modes}, or zeros per side: an integer (1) or one per axis (1x2){pair}"

    def parse(self, raw: object, rank: int) -> Padding:
        if isinstance(raw, str) and normalize_name(raw) in self.modes:
            return normalize_name(raw)
        if isinstance(raw, str) and not re.search(r"\d", raw):
            raise Invalid(f"must be {self.describe}")
        axes: list[tuple[int, int]] = []
        try:
            for piece in _pieces(raw):
                if isinstance(piece, (list, tuple)) and self.pairs:
                    if len(piece) != 2:
                        raise Invalid("a per-axis pair is [before, after]")
                    axes.append((_whole(piece[0]), _whole(piece[1])))
                else:
                    amount = _whole(piece)
                    axes.append((amount, amount))
        except Invalid:
            raise Invalid(f"must be {self.describe}") from None
        if any(side < 0 for pair in axes for side in pair):
            raise Invalid("padding cannot be negative")
        if len(axes) == 1:
            return tuple(axes) * rank
        if len(axes) != rank:
            raise Invalid(
                f"has {len(axes)} values but the layer has {rank} spatial "
                f"{axes_word(rank)}: give one value, or {rank}"
            )
        return tuple(axes)


class Margins(NamedTuple):
    """Amounts added or removed at both ends of each spatial axis: zero-padding and cropping.

    ``1`` is one on every side; ``1x2`` (or ``[1, 2]``) is one per axis, the same at both ends;
    ``[[1, 2], [3, 4]]`` is ``[before, after]`` per axis, Keras' ``((top, bottom), (left, right))``.
    On one axis a flat pair ``[1, 2]`` is before and after, as Keras' ``ZeroPadding1D((1, 2))``
    and PyTorch's ``ZeroPad1d((1, 2))`` both read it.
    """

    what: str = "padding"

    @property
    def describe(self) -> str:
        return "an integer (1), one per axis (1x2), or [before, after] per axis ([[1, 2], [0, 1]])"

    def parse(self, raw: object, rank: int) -> tuple[tuple[int, int], ...]:
        pieces = _pieces(raw)
        if rank == 1 and len(pieces) == 2 and not any(isinstance(p, (list, tuple)) for p in pieces):
            pieces = [pieces]
        axes: list[tuple[int, int]] = []
        try:
            for piece in pieces:
                if isinstance(piece, (list, tuple)):
                    if len(piece) != 2:
                        raise Invalid("a per-axis pair is [before, after]")
                    axes.append((_whole(piece[0]), _whole(piece[1])))
                else:
                    amount = _whole(piece)
                    axes.append((amount, amount))
        except Invalid:
            raise Invalid(f"must be {self.describe}") from None
        if any(side < 0 for pair in axes for side in pair):
            # PyTorch's ZeroPad crops with a negative amount; here cropping is its own kind.
            crop = "; to remove positions use cropping" if self.what == "padding" else ""
            raise Invalid(f"{self.what} cannot be negative{crop}")
        if len(axes) == 1:
            return tuple(axes) * rank
        if len(axes) != rank:
            torch_order = (
                " (PyTorch's flat form starts from the last axis: its (left, right, top, bottom)"
                " is [[top, bottom], [left, right]])"
                if len(axes) == 2 * rank
                else ""
            )
            raise Invalid(
                f"has {len(axes)} values but the layer has {rank} spatial "
                f"{axes_word(rank)}: give one value, {rank} (one per axis), "
                f"or {rank} [before, after] pairs{torch_order}"
            )
        return tuple(axes)


_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


class Flag(NamedTuple):
    """true or false (also yes/no, on/off, 1/0)."""

    @property
    def describe(self) -> str:
        return "true or false"

    def parse(self, raw: object, rank: int) -> bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, int) and raw in (0, 1):
            return bool(raw)
        if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
            return raw.strip().lower() in _TRUE
        raise Invalid(f"must be {self.describe}")


class Fraction(NamedTuple):
    """A number from 0 to 1."""

    @property
    def describe(self) -> str:
        return "a number from 0 to 1"

    def parse(self, raw: object, rank: int) -> float:
        if isinstance(raw, bool):
            raise Invalid(f"must be {self.describe}")
        try:
            value = float(raw) if isinstance(raw, (int, float, str)) else float("nan")
        except (ValueError, OverflowError):
            raise Invalid(f"must be {self.describe}") from None
        if not 0.0 <= value <= 1.0:
            raise Invalid(f"must be {self.describe}")
        return value


class Choice(NamedTuple):
    """One name from a fixed list (compared case-insensitively, ``_`` ignored), with aliases."""

    names: tuple[str, ...]
    aliases: tuple[tuple[str, str], ...] = ()
    """(alias, name) pairs: another spelling that means ``name``."""

    @property
    def describe(self) -> str:
        return "one of " + ", ".join(self.names)

    def parse(self, raw: object, rank: int) -> str:
        if not isinstance(raw, str):
            raise Invalid(f"must be {self.describe}")
        key = normalize_name(raw)
        table = {normalize_name(name): name for name in self.names}
        table.update({normalize_name(alias): name for alias, name in self.aliases})
        if key in table:
            return table[key]
        from ._errors import did_you_mean

        raise Invalid(f"must be {self.describe}{did_you_mean(raw, self.names)}")


class Shape(NamedTuple):
    """A tensor shape without the batch: positive integers, as a list or ``28x28x1``."""

    allow_infer: bool = False
    """Whether one ``-1`` may stand for the size that makes the element counts agree."""

    @property
    def describe(self) -> str:
        base = "positive integers, as a list [28, 28, 1] or 28x28x1"
        return base + (" (one -1 may be inferred)" if self.allow_infer else "")

    def parse(self, raw: object, rank: int) -> tuple[int, ...]:
        pieces = _pieces(raw)
        try:
            values = tuple(_whole(piece) for piece in pieces)
        except Invalid:
            raise Invalid(f"must be {self.describe}") from None
        inferred = values.count(-1) if self.allow_infer else 0
        if inferred > 1 or any(v < 1 and not (v == -1 and inferred) for v in values):
            raise Invalid(f"must be {self.describe}")
        return values


def parse_shape(raw: object, what: str = "input", shown: str | None = None) -> tuple[int, ...]:
    """A model's input shape, with a message that says how to write one."""
    from ._errors import SpecError

    shown = show(raw) if shown is None else shown
    if raw is None:
        raise SpecError(f"{what} is missing: give the shape without batch, e.g. [28, 28, 1]")
    if raw == [] or raw == "":
        raise SpecError(f"{what} is empty: give the shape without batch, e.g. [28, 28, 1]")
    try:
        shape = Shape().parse(raw, 0)
    except Invalid:
        raise SpecError(
            f"{what} {shown} is not valid: sizes must be positive integers, without the "
            "batch, e.g. [28, 28, 1] or 28x28x1"
        ) from None
    if len(shape) > 4:
        raise SpecError(
            f"{what} {shown} has {len(shape)} axes; convcalc takes 1 to 4 "
            "(features; L C; H W C; D H W C) without the batch"
        )
    return shape


def join_axes(values: Sequence[object]) -> str:
    """``3x3`` for per-axis values; one value as itself."""
    return "x".join(str(value) for value in values)


def show_shape(shape: Sequence[int]) -> str:
    """A shape in messages, as users write it: ``[28, 28, 1]``."""
    return "[" + ", ".join(str(size) for size in shape) + "]"


def axes_word(rank: int) -> str:
    """``axis`` or ``axes``, for a number of spatial axes."""
    return "axis" if rank == 1 else "axes"


def count(number: int, noun: str) -> str:
    """``1 channel``, ``3 channels``."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


class Real(NamedTuple):
    """Any number (a slope, a bound): shape-neutral settings copied from a framework call."""

    @property
    def describe(self) -> str:
        return "a number"

    def parse(self, raw: object, rank: int) -> float:
        if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
            raise Invalid(f"must be {self.describe}")
        try:
            value = float(raw)
        except (ValueError, OverflowError):
            raise Invalid(f"must be {self.describe}") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise Invalid(f"must be {self.describe}")
        return value


class Integer(NamedTuple):
    """A whole number that may be negative, such as an axis counted from the end."""

    @property
    def describe(self) -> str:
        return "an integer (negative counts from the end)"

    def parse(self, raw: object, rank: int) -> int:
        try:
            return _whole(raw)
        except Invalid:
            raise Invalid(f"must be {self.describe}") from None
