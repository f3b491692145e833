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


def show(raw: object) -> str:
    """A raw value as the user would recognise it in a message (long ones abbreviated)."""
    text = _show(raw)
    return text if len(text) <= 60 else text[:45] + "..." + text[-8:]


def _show(raw: object) -> str:
    if isinstance(raw, str):
        return f"'{raw}'"
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, (list, tuple)):
        return "[" + ", ".join(_show(item) for item in raw) + "]"
    if raw is None:
        return "null"
    return str(raw)


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
    """The items of a per-axis value: a list, or a string like ``3x5`` / ``3,5``, or one scalar."""
    if isinstance(raw, str):
        text = raw.strip().strip("()[]")
        return list(_SPLIT.split(text)) if text else [""]
    if isinstance(raw, (list, tuple)):
        return list(raw)
    return [raw]


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
        except ValueError:
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
