"""Block parameters in values: ``$filters``, and integer arithmetic such as ``$filters * 4``.

A small parser of our own over whole numbers, ``$name``, ``+ - * //``, unary minus and
parentheses — never ``eval``. Operands must be integers; ``//`` is Python's floor division, and
dividing by zero is an error, as is any other token.

Every expression is bounded, so that no input, however long or clever, costs more than a few
microseconds or makes a number too large to print:

- its text has at most :data:`MAX_LENGTH` characters;
- each number written in it has at most :data:`MAX_DIGITS` digits;
- parentheses and minus signs nest at most :data:`MAX_DEPTH` deep;
- every value it takes — a parameter, a number, any intermediate or final result — stays within
  ``±LARGEST`` (2**62, the bound on every size and count in ``_values``), checked after each
  operation, so nothing is ever computed into a huge integer.

An expression is parsed once into postfix form (cached by its text), then evaluated without
recursion for each set of parameters.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

from ._values import LARGEST, show

MAX_LENGTH = 1_000
"""Characters in one expression; real ones are a few dozen."""

MAX_DIGITS = 30
"""Digits in one number written in an expression (as ``_values`` allows in a plain value)."""

MAX_DEPTH = 64
"""Parentheses and minus signs inside one another."""

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_TOKEN = re.compile(rf"\s*(?:(\d+)|\$({_NAME})|(//|[-+*()]))")
_LONE = re.compile(rf"\s*\$({_NAME})\s*")
_LARGEST_SHOWN = f"{LARGEST:,} (2**62)"

_Op = int | str
"""A postfix instruction: a number, ``$name``, ``neg`` or a binary operator."""


class ExprError(Exception):
    """An expression that cannot be evaluated; the message says why and what to do."""


def has_reference(text: str) -> bool:
    """Whether a string value is an expression over block parameters."""
    return "$" in text


def references(text: str) -> set[str]:
    """The parameter names a string mentions (``$name``), whatever else it holds."""
    return set(re.findall(rf"\$({_NAME})", text)) if "$" in text else set()


def evaluate(text: str, env: Mapping[str, object]) -> object:
    """The value of ``text`` under ``env``: a lone ``$name`` gives the parameter as it is (any
    type); anything else must be integer arithmetic and gives an int."""
    if len(text) <= MAX_LENGTH:
        lone = _LONE.fullmatch(text)
        if lone:
            found = _lookup(lone.group(1), env)
            if isinstance(found, int) and not isinstance(found, bool) and abs(found) > LARGEST:
                raise ExprError(f"${lone.group(1)} is {_number(found)}, {_too_large()}")
            return found
    return _run(_compile(text), env)


def _lookup(name: str, env: Mapping[str, object]) -> object:
    if name not in env:
        names = [f"${key}" for key in env]
        known = ", ".join(names[:8]) + (f", ... ({len(names):,} in all)" if len(names) > 8 else "")
        known = known or "none here"
        raise ExprError(
            f"${name} is not a parameter of this block (its parameters: {known}); "
            "use one of those, or add it to the block's params"
        )
    return env[name]


def _number(value: int) -> str:
    """An integer for a message, even one too long for ``str()`` (over 4,300 digits)."""
    if abs(value) <= 10**30:
        return f"{value:,}"
    digits = int(abs(value).bit_length() * 0.30103) + 1
    return f"a number of about {digits:,} digits"


def _too_large() -> str:
    return (
        f"far too large: values in an expression must stay within {_LARGEST_SHOWN}, "
        "more than any size or count in a network; check the arithmetic and the parameters"
    )


# -- parsing, once per text ------------------------------------------------------------------
@functools.lru_cache(maxsize=4096)
def _compile(text: str) -> tuple[_Op, ...]:
    """``text`` in postfix form; every limit but the values' magnitude is checked here."""
    if len(text) > MAX_LENGTH:
        # The prefix shows whether it nests absurdly, the more useful thing to say.
        try:
            _Parser(text[:MAX_LENGTH]).parse()
        except ExprError as problem:
            if str(problem).startswith("nests too deeply"):
                raise
        raise ExprError(
            f"too long: {len(text):,} characters, and an expression may have at most "
            f"{MAX_LENGTH:,}; write the value as a number, or split the arithmetic over "
            "several block parameters"
        )
    return _Parser(text).parse()


class _Parser:
    """expr := term (('+'|'-') term)* ; term := factor (('*'|'//') factor)* ;
    factor := INT | $name | '-' factor | '(' expr ')'

    Recursive descent whose depth :data:`MAX_DEPTH` bounds, emitting postfix instructions."""

    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, int]] = []
        """(token, its position in the text) in order."""
        position = 0
        while position < len(text):
            match = _TOKEN.match(text, position)
            if not match:
                rest = text[position:].strip()
                if not rest:
                    break
                at = len(text) - len(text[position:].lstrip()) + 1
                raise ExprError(
                    f"not integer arithmetic: unexpected {show(rest[:10])} at character {at} "
                    "(use whole numbers, $names, + - * // and parentheses)"
                )
            number, name, operator = match.groups()
            if number is not None and len(number) > MAX_DIGITS:
                raise ExprError(
                    f"the number {number[:12]}... has {len(number):,} digits; a number in an "
                    f"expression has at most {MAX_DIGITS} (and a value at most {_LARGEST_SHOWN})"
                    ": check it"
                )
            token = number or ("$" + name if name else operator)
            self.tokens.append((token, match.start(match.lastindex or 0) + 1))
            position = match.end()
        self.index = 0
        self.depth = 0
        self.program: list[_Op] = []

    def parse(self) -> tuple[_Op, ...]:
        if not self.tokens:
            raise ExprError("an empty expression: give a number or arithmetic over $names")
        self.expr()
        if self.index != len(self.tokens):
            token, at = self.tokens[self.index]
            raise ExprError(
                f"unexpected {show(token)} at character {at}: an operator (+ - * //) "
                "must join two values"
            )
        return tuple(self.program)

    def peek(self) -> str | None:
        return self.tokens[self.index][0] if self.index < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise ExprError("ends too early: a value is missing after the last operator or '('")
        self.index += 1
        return token

    def expr(self) -> None:
        self.term()
        while self.peek() in ("+", "-"):
            operator = self.take()
            self.term()
            self.program.append(operator)

    def term(self) -> None:
        self.factor()
        while self.peek() in ("*", "//"):
            operator = self.take()
            self.factor()
            self.program.append(operator)

    def factor(self) -> None:
        token = self.take()
        if token in ("-", "("):
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise ExprError(
                    f"nests too deeply: more than {MAX_DEPTH} parentheses and minus signs "
                    "inside one another; simplify it"
                )
            if token == "-":
                self.factor()
                self.program.append("neg")
            else:
                self.expr()
                if self.peek() != ")":
                    raise ExprError("has an unclosed '(': add the ')' that closes it")
                self.index += 1
            self.depth -= 1
            return
        if token.isdigit():
            value = int(token)
            if value > LARGEST:
                raise ExprError(f"the number {_number(value)} is {_too_large()}")
            self.program.append(value)
            return
        if token.startswith("$"):
            self.program.append(token)
            return
        at = self.tokens[self.index - 1][1]
        raise ExprError(
            f"unexpected {show(token)} at character {at}: a value (a number, a $name or "
            "'(') must come here"
        )


# -- evaluating, once per use ----------------------------------------------------------------
def _run(program: tuple[_Op, ...], env: Mapping[str, object]) -> int:
    stack: list[int] = []
    for op in program:
        if isinstance(op, int):
            stack.append(op)
            continue
        if op[0] == "$":
            found = _lookup(op[1:], env)
            if isinstance(found, bool) or not isinstance(found, int):
                raise ExprError(
                    f"{op} is {_shown(found)}, not a whole number, so it cannot take part in "
                    "arithmetic; give the block a whole number for it"
                )
            if abs(found) > LARGEST:
                raise ExprError(f"{op} is {_number(found)}, {_too_large()}")
            stack.append(found)
            continue
        if op == "neg":
            stack[-1] = -stack[-1]
            continue
        right = stack.pop()
        left = stack[-1]
        if op == "+":
            value = left + right
        elif op == "-":
            value = left - right
        elif op == "*":
            value = left * right  # both within 2**62: the product has at most 124 bits
        elif right == 0:
            raise ExprError(
                f"divides by zero ({left:,} // 0); check the divisor and the parameters in it"
            )
        else:
            value = left // right
        if abs(value) > LARGEST:
            raise ExprError(f"{_too_large()} (at {left:,} {op} {right:,})")
        stack[-1] = value
    return stack[-1]


def _shown(value: object) -> str:
    """A parameter's value for a message: short, never ``str()`` of a huge integer, and never a
    walk through a large structure."""
    if isinstance(value, int) and not isinstance(value, bool):
        return _number(value)
    if isinstance(value, (list, tuple)):
        if len(value) <= 8 and all(
            isinstance(v, (str, bool, float, type(None)))
            or (isinstance(v, int) and abs(v) <= 10**30)
            for v in value
        ):
            return show(value)
        return f"a list of {len(value):,} items"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (str, float, type(None))):
        return show(value)
    return f"a {type(value).__name__}"
