"""Block parameters in values: ``$filters``, and integer arithmetic such as ``$filters * 4``.

A small recursive-descent parser of our own over integers, ``$name``, ``+ - * //`` and
parentheses — never ``eval``. Operands must be integers; the result of ``//`` is Python's floor
division, and dividing by zero is an error, as is any other token.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_TOKEN = re.compile(r"\s*(?:(\d+)|\$([A-Za-z_][A-Za-z0-9_]*)|(//|[-+*()]))")


class ExprError(Exception):
    """An expression that cannot be evaluated; the message says why."""


def has_reference(text: str) -> bool:
    """Whether a string value is an expression over block parameters."""
    return "$" in text


def evaluate(text: str, env: Mapping[str, object]) -> object:
    """The value of ``text`` under ``env``: a lone ``$name`` gives the parameter as it is (any
    type); anything else must be integer arithmetic and gives an int."""
    stripped = text.strip()
    lone = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", stripped)
    if lone:
        return _lookup(lone.group(1), env)
    try:
        return _Parser(stripped, env).parse()
    except RecursionError:
        raise ExprError(f"'{stripped[:40]}...' nests too deeply to evaluate") from None


def _lookup(name: str, env: Mapping[str, object]) -> object:
    if name not in env:
        known = ", ".join(f"${key}" for key in env) or "none here"
        raise ExprError(f"${name} is not a parameter of this block (parameters: {known})")
    return env[name]


class _Parser:
    """expr := term (('+'|'-') term)* ; term := factor (('*'|'//') factor)* ;
    factor := INT | $name | '-' factor | '(' expr ')'"""

    def __init__(self, text: str, env: Mapping[str, object]) -> None:
        self.text = text
        self.env = env
        self.tokens: list[str] = []
        position = 0
        while position < len(text):
            match = _TOKEN.match(text, position)
            if not match or match.end() == position:
                rest = text[position:].strip()
                if not rest:
                    break
                raise ExprError(
                    f"'{text}' is not integer arithmetic: unexpected '{rest[:10]}' "
                    "(use integers, $names, + - * // and parentheses)"
                )
            number, name, operator = match.groups()
            self.tokens.append(number or ("$" + name if name else operator))
            position = match.end()
        self.index = 0

    def parse(self) -> int:
        if not self.tokens:
            raise ExprError("an empty expression")
        value = self.expr()
        if self.index != len(self.tokens):
            raise ExprError(f"'{self.text}' has an unexpected '{self.tokens[self.index]}'")
        return value

    def peek(self) -> str | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise ExprError(f"'{self.text}' ends too early")
        self.index += 1
        return token

    def expr(self) -> int:
        value = self.term()
        while self.peek() in ("+", "-"):
            if self.take() == "+":
                value += self.term()
            else:
                value -= self.term()
        return value

    def term(self) -> int:
        value = self.factor()
        while self.peek() in ("*", "//"):
            operator = self.take()
            right = self.factor()
            if operator == "*":
                value *= right
            elif right == 0:
                raise ExprError(f"'{self.text}' divides by zero")
            else:
                value //= right
        return value

    def factor(self) -> int:
        token = self.take()
        if token == "-":
            return -self.factor()
        if token == "(":
            value = self.expr()
            if self.take() != ")":
                raise ExprError(f"'{self.text}' has an unclosed '('")
            return value
        if token.isdigit():
            return int(token)
        if token.startswith("$"):
            found = _lookup(token[1:], self.env)
            if isinstance(found, bool) or not isinstance(found, int):
                raise ExprError(
                    f"'{self.text}': {token} is {found!r}, not an integer, so it cannot take "
                    "part in arithmetic"
                )
            return found
        raise ExprError(f"'{self.text}' has an unexpected '{token}'")
