"""Block parameters in values: ``$filters``, and arithmetic such as ``$filters * 4``.

A small language of our own, never ``eval``, with Python's syntax and meaning: every expression
computes exactly what the same text computes in Python (``$`` dropped), or is an error. It has

- whole numbers and decimals (``1.1``, ``.5``, ``1e-3``), and ``$name`` for a block parameter;
- ``+ - * / // %`` and unary minus, with Python's int and float arithmetic: ``/`` is true
  division, ``//`` and ``%`` floor, on floats too, so ``int($c * 1.1 + 4) // 8 * 8`` gives what
  a framework's Python code gives, bit for bit;
- comparisons ``< <= > >= == !=`` (one at a time: ``a < b < c`` is refused), giving true or
  false, and ``and``, ``or``, ``not`` and ``x if condition else y``, which short-circuit and
  return what Python returns (``$a or 4`` is ``$a`` unless it is 0);
- the functions ``max`` and ``min`` (of one or more values), ``floor``, ``ceil``, ``round``
  (Python's: halves go to the even neighbour, ``round(2.5)`` is 2), ``int`` (truncates toward
  zero) and ``make_divisible(value, divisor[, min_value])``, torchvision's ``_make_divisible``.

The one departure from Python: true and false (a comparison, ``not``, or a parameter given as
true or false) are conditions, not numbers. Arithmetic, comparisons and functions refuse them
(in Python ``True + 1`` is 2), since a flag used as a number is a mistake far more often than
not; write ``4 if $se else 0`` instead.

An expression's value is an int when all its arithmetic stayed in integers, a float when a float
took part, true or false for a comparison; a lone ``$name`` is the parameter as it is, of any
type (a list, a string...). Where a count is expected a float must be whole: ``_values`` takes
``32.0`` as 32 and refuses ``32.5``.

Every expression is bounded, so that no input, however long or clever, costs more than a few
microseconds or makes a number too large to print:

- its text has at most :data:`MAX_LENGTH` characters;
- each number written in it has at most :data:`MAX_DIGITS` digits;
- parentheses, calls, minus signs, ``not`` and conditionals nest at most :data:`MAX_DEPTH` deep;
- every value it takes — a parameter, a number, any intermediate or final result — is finite and
  stays within ``±LARGEST`` (2**62, the bound on every size and count in ``_values``), checked
  after each operation, so nothing is ever computed into a huge integer or an infinity.

An expression is parsed once into postfix form (cached by its text) without recursion, then
evaluated, also without recursion, for each set of parameters.
"""

from __future__ import annotations

import functools
import math
import operator
import re
from collections.abc import Callable, Mapping
from typing import NamedTuple

from ._errors import did_you_mean
from ._values import LARGEST, show

MAX_LENGTH = 1_000
"""Characters in one expression; real ones are a few dozen."""

MAX_DIGITS = 30
"""Digits in one number written in an expression (as ``_values`` allows in a plain value)."""

MAX_DEPTH = 64
"""Parentheses, calls, minus signs, ``not`` and conditionals inside one another."""

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_TOKEN = re.compile(
    r"\s*(?:(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
    rf"|(\${_NAME})|({_NAME})|(//|<=|>=|==|!=|[-+*/%<>(),]))"
)
_LONE = re.compile(rf"\s*\$({_NAME})\s*")
_LARGEST_SHOWN = f"{LARGEST:,} (2**62)"

_Value = int | float
"""What an expression computes with; ``bool`` (an ``int``) is true or false."""


class _Jump(NamedTuple):
    """A postfix instruction moving ``offset`` instructions on: ``and``/``or`` (when the value on
    top decides, keep it and jump, else drop it), ``if`` (take the condition, jump when false) and
    ``to`` (always)."""

    kind: str
    offset: int


class _Call(NamedTuple):
    """A postfix instruction applying a function to the ``size`` values on top."""

    name: str
    size: int


_Op = int | float | str | _Jump | _Call
"""A postfix instruction: a number; ``$name`` (a parameter that must be a number) or ``?name``
(one that may also be true or false); ``neg``, ``not`` or a binary operator; a jump; a call."""


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
    type); anything else gives an int, a float, or true or false (see the module's notes)."""
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
            "use one of those, or add it to the block's params (at the top level, the "
            "model's params)"
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


# -- the functions ---------------------------------------------------------------------------
def _make_divisible(value: _Value, divisor: _Value, min_value: _Value | None = None) -> _Value:
    """torchvision's ``_make_divisible`` (from TensorFlow's MobileNet), line for line: the
    multiple of ``divisor`` nearest ``value``, at least ``min_value`` (``divisor`` by default)
    and never more than 10% below ``value``."""
    if min_value is None:
        min_value = divisor
    new_value = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new_value < 0.9 * value:
        new_value += divisor
    return new_value


def _max(*values: _Value) -> _Value:
    return max(values)


def _min(*values: _Value) -> _Value:
    return min(values)


def _round(value: _Value) -> int:
    return round(value)


_FUNCTIONS: dict[str, tuple[int, int, str, Callable[..., _Value]]] = {
    "max": (1, MAX_LENGTH, "one or more values, as in max($a, 8)", _max),
    "min": (1, MAX_LENGTH, "one or more values, as in min($a, 8)", _min),
    "floor": (1, 1, "one value, as in floor($a / 2)", math.floor),
    "ceil": (1, 1, "one value, as in ceil($a / 2)", math.ceil),
    "round": (1, 1, "one value, which it rounds to a whole number, as in round($a * 1.5)", _round),
    "int": (1, 1, "one value, as in int($a * 1.5)", int),
    "make_divisible": (
        2,
        3,
        "2 or 3 values, as in make_divisible(value, divisor) or "
        "make_divisible(value, divisor, min_value)",
        _make_divisible,
    ),
}
"""name: (fewest values, most values, what it takes, the function)."""

_FUNCTION_NAMES = ", ".join(_FUNCTIONS)
_KEYWORDS = ("and", "or", "not", "if", "else")


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


_BINARY = {
    **dict.fromkeys(("<", "<=", ">", ">=", "==", "!="), 4),
    **dict.fromkeys(("+", "-"), 5),
    **dict.fromkeys(("*", "/", "//", "%"), 6),
}
"""Binary operators and their precedence (higher binds tighter), as in Python."""

_PRECEDENCE = {"or": 1, "and": 2, "not": 3, **_BINARY, "neg": 7}
_COMPARISON = 4
_FRAMES = frozenset({"top", "(", "call", "if", "else"})
"""Pending entries that hold an expression of their own; operators never pop them."""
_NESTS = frozenset({"(", "call", "if", "else", "neg", "not"})
"""Pending entries that count towards :data:`MAX_DEPTH`."""


class _Pending:
    """An entry of the parser's stack: an operator waiting for its right operand, or a frame."""

    __slots__ = ("kind", "at", "start", "count", "name", "code", "jump")

    def __init__(self, kind: str, at: int, start: int = 0, name: str = "") -> None:
        self.kind = kind
        self.at = at
        """Its character position in the text, for messages."""
        self.start = start
        """Frames: where the expression they hold begins in the program."""
        self.count = 0
        """Calls: the values given so far."""
        self.name = name
        """Calls: the function."""
        self.code: list[_Op] = []
        """``if``: the code of the value before ``if``, moved after the condition's."""
        self.jump = 0
        """``and``, ``or``, ``else``: where the jump to patch is."""


class _Parser:
    """Python's grammar, restricted::

        expression  := disjunction ['if' disjunction 'else' expression]
        disjunction := conjunction ('or' conjunction)*
        conjunction := inversion ('and' inversion)*
        inversion   := 'not' inversion | comparison
        comparison  := sum [('<' | '<=' | '>' | '>=' | '==' | '!=') sum]
        sum         := term (('+' | '-') term)*
        term        := factor (('*' | '/' | '//' | '%') factor)*
        factor      := '-' factor | atom
        atom        := NUMBER | $name | FUNCTION '(' expression (',' expression)* ')'
                     | '(' expression ')'

    An operator-precedence parser with a stack of its own (no recursion, whatever the input),
    emitting postfix instructions. ``x if c else y`` is emitted as ``c``, a jump, ``x``, a jump,
    ``y``, so that only the branch taken is computed, as in Python; jumps are relative, so code
    can move."""

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
                    f"not integer arithmetic, decimal arithmetic or a condition: unexpected "
                    f"{show(rest[:10])} at character {at} (use numbers, $names, + - * / // %, "
                    "< <= > >= == !=, and or not, x if condition else y, the functions "
                    f"{_FUNCTION_NAMES}, and parentheses)"
                )
            number = match.group(1)
            if number is not None:
                digits = sum(character.isdigit() for character in number)
                if digits > MAX_DIGITS:
                    raise ExprError(
                        f"the number {number[:12]}... has {digits:,} digits; a number in an "
                        f"expression has at most {MAX_DIGITS} (and a value at most "
                        f"{_LARGEST_SHOWN}): check it"
                    )
            self.tokens.append(
                (match.group(match.lastindex or 0), match.start(match.lastindex or 0) + 1)
            )
            position = match.end()
        self.program: list[_Op] = []
        self.pending: list[_Pending] = [_Pending("top", 0)]
        self.operands: list[int | None] = []
        """One per value the program so far leaves: where the ``?name`` instruction that makes it
        is, when that is all it is (to be made ``$name`` if it is used as a number)."""
        self.depth = 0

    def parse(self) -> tuple[_Op, ...]:
        if not self.tokens:
            raise ExprError("an empty expression: give a number or arithmetic over $names")
        want_value = True
        previous = ""
        index = 0
        while index < len(self.tokens):
            token, at = self.tokens[index]
            index += 1
            if want_value:
                following = self.tokens[index][0] if index < len(self.tokens) else ""
                want_value = self.value(token, at, previous, following)
                if token in _FUNCTIONS and following == "(":
                    index += 1
                    token = "("
            else:
                want_value = self.operator(token, at)
            previous = token
        if want_value:
            raise ExprError("ends too early: a value is missing after the last operator or '('")
        frame = self.close()
        if frame.kind == "(":
            raise ExprError("has an unclosed '(': add the ')' that closes it")
        if frame.kind == "call":
            raise ExprError(f"has an unclosed '{frame.name}(': add the ')' that closes it")
        return tuple(self.program)

    # Where a value is expected: it, or a prefix ('-', 'not', '(', a function) to one.
    def value(self, token: str, at: int, previous: str, following: str) -> bool:
        first = token[0]
        if first.isdigit() or first == ".":
            self.constant(token)
            return False
        if first == "$":
            self.operands.append(len(self.program))
            self.program.append("?" + token[1:])
            return False
        if token == "(":
            self.open(_Pending("(", at, start=len(self.program)))
            return True
        if token == "-":
            self.open(_Pending("neg", at))
            return True
        if token == "not":
            top = self.pending[-1]
            if top.kind not in _FRAMES and top.kind not in ("and", "or", "not"):
                if top.kind == "neg":
                    raise ExprError(
                        f"'not' at character {at} cannot follow '-': a minus sign takes a "
                        "number, and not gives true or false"
                    )
                raise ExprError(
                    f"'not' at character {at} cannot follow '{top.kind}': put it in "
                    f"parentheses, as in $a {top.kind} (not $b)"
                )
            self.open(_Pending("not", at))
            return True
        if token == ")" and previous == "(" and self.pending[-1].kind == "call":
            self.end_call(self.pending.pop())  # no values at all: the count is refused
            return False
        if first.isalpha() or first == "_":
            self.word(token, at, following)
            return True
        hint = ""
        if token == "*" and previous == "*":
            hint = "; there is no power operator '**': write the product out"
        raise ExprError(
            f"unexpected {show(token)} at character {at}: a value (a number, a $name, a "
            f"function or '(') must come here{hint}"
        )

    def word(self, token: str, at: int, following: str) -> None:
        if token in _FUNCTIONS:
            if following != "(":
                raise ExprError(
                    f"{token} at character {at} is a function: give it its values in "
                    f"parentheses, as in {token}($a, ...)"
                )
            self.open(_Pending("call", at, start=len(self.program), name=token))
            return
        if token in _KEYWORDS:
            raise ExprError(
                f"unexpected '{token}' at character {at}: a value (a number, a $name, a "
                "function or '(') must come here"
            )
        if following == "(":
            raise ExprError(
                f"unknown function {show(token)} at character {at}"
                f"{did_you_mean(token, _FUNCTIONS)}: the functions are {_FUNCTION_NAMES}"
            )
        raise ExprError(
            f"unknown name {show(token)} at character {at}"
            f"{did_you_mean(token, (*_FUNCTIONS, *_KEYWORDS))}: a block parameter is written "
            f"with a $, as in ${token}"
        )

    def constant(self, token: str) -> None:
        value: _Value
        if token.isdigit():
            value = int(token)
            if value > LARGEST:
                raise ExprError(f"the number {_number(value)} is {_too_large()}")
        else:
            value = float(token)
            if not value <= LARGEST:  # an exponent such as 1e400 gives inf
                raise ExprError(f"the number {token} is {_too_large()}")
        self.operands.append(None)
        self.program.append(value)

    # Where an operator is expected: one, or the end of a parenthesis or a function's value.
    def operator(self, token: str, at: int) -> bool:
        program = self.program
        if token in _BINARY:
            precedence = _BINARY[token]
            self.reduce(precedence, token if precedence == _COMPARISON else "")
            self.pending.append(_Pending(token, at))
            return True
        if token in ("and", "or"):
            self.reduce(_PRECEDENCE[token])
            self.operands.pop()
            entry = _Pending(token, at)
            entry.jump = len(program)
            program.append(_Jump(token, 0))
            self.pending.append(entry)
            return True
        if token == "if":
            frame = self.reduce(0)
            if frame.kind == "if":
                raise ExprError(
                    f"unexpected 'if' at character {at}: a condition cannot hold another "
                    "x if condition else y unless it is in parentheses"
                )
            conditional = _Pending("if", at, start=len(program))
            conditional.code = program[frame.start :]
            del program[frame.start :]
            self.operands.pop()
            self.open(conditional)
            return True
        if token == "else":
            frame = self.reduce(0)
            if frame.kind != "if":
                raise ExprError(
                    f"unexpected 'else' at character {at}: it comes after a condition, as in "
                    "x if condition else y"
                )
            self.operands.pop()
            program.append(_Jump("if", len(frame.code) + 1))
            program.extend(frame.code)
            frame.kind = "else"
            frame.jump = len(program)
            program.append(_Jump("to", 0))
            frame.start = len(program)
            return True
        if token in (")", ","):
            frame = self.close()
            if frame.kind == "top" or (token == "," and frame.kind != "call"):
                raise ExprError(
                    f"unexpected {show(token)} at character {at}: "
                    + (
                        "there is no '(' for it to close"
                        if token == ")"
                        else "commas separate a function's values, as in max($a, $b)"
                    )
                )
            if token == ",":
                frame.count += 1
                frame.start = len(program)
                return True
            self.pending.pop()
            self.depth -= 1
            if frame.kind == "call":
                frame.count += 1
                self.end_call(frame)
            return False
        hint = "" if token in _KEYWORDS else did_you_mean(token, ("and", "or", "if", "else"))
        raise ExprError(
            f"unexpected {show(token)} at character {at}{hint}: an operator (such as "
            "+ - * / // % < == and or) must join two values"
        )

    def open(self, entry: _Pending) -> None:
        if entry.kind in _NESTS:
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise ExprError(
                    f"nests too deeply: more than {MAX_DEPTH} parentheses, calls, minus signs, "
                    "nots and conditionals inside one another; simplify it"
                )
        self.pending.append(entry)

    def reduce(self, precedence: int, comparison: str = "") -> _Pending:
        """Emit the pending operators that bind at least as tightly as one of ``precedence``
        (all of them for 0, down to the innermost frame, which is returned)."""
        pending = self.pending
        while pending[-1].kind not in _FRAMES:
            bound = _PRECEDENCE[pending[-1].kind]
            if bound < precedence or (comparison and bound == _COMPARISON):
                break
            self.finish(pending.pop())
        top = pending[-1]
        if comparison and top.kind in _BINARY and _BINARY[top.kind] == _COMPARISON:
            raise ExprError(
                f"chains comparisons ('{top.kind}' then '{comparison}'): write each one on its "
                f"own joined with and, as in $a {top.kind} $b and $b {comparison} $c"
            )
        return top

    def close(self) -> _Pending:
        """Emit everything pending in the innermost '(', call or the whole text, and return
        that frame; a conditional still without its ``else`` is an error."""
        frame = self.reduce(0)
        while frame.kind == "else":
            self.pending.pop()
            self.depth -= 1
            self.program[frame.jump] = _Jump("to", len(self.program) - frame.jump - 1)
            self.operands[-1] = None
            frame = self.reduce(0)
        if frame.kind == "if":
            raise ExprError(
                f"has 'if' at character {frame.at} without its 'else': write x if condition else y"
            )
        return frame

    def finish(self, entry: _Pending) -> None:
        """Emit a pending operator, its operands complete."""
        kind = entry.kind
        if kind in ("and", "or"):
            self.program[entry.jump] = _Jump(kind, len(self.program) - entry.jump - 1)
            self.operands[-1] = None
            return
        if kind in ("neg", "not"):
            self.depth -= 1
            if kind == "neg":
                self.numbers(1)
            self.operands[-1] = None
        else:
            self.numbers(2)
            self.operands.pop()
            self.operands[-1] = None
        self.program.append(kind)

    def end_call(self, frame: _Pending) -> None:
        fewest, most, takes, _ = _FUNCTIONS[frame.name]
        if not fewest <= frame.count <= most:
            given = f"{frame.count:,}" if frame.count else "none"
            raise ExprError(
                f"{frame.name}() at character {frame.at} takes {takes}, and is given {given}"
            )
        self.numbers(frame.count)
        del self.operands[len(self.operands) - frame.count :]
        self.operands.append(None)
        self.program.append(_Call(frame.name, frame.count))

    def numbers(self, count: int) -> None:
        """The ``count`` values on top are used as numbers: a parameter that is all of one must
        be a number, and its message names it."""
        for where in self.operands[len(self.operands) - count :]:
            if where is not None:
                self.program[where] = "$" + str(self.program[where])[1:]


# -- evaluating, once per use ----------------------------------------------------------------
_COMPARE: dict[str, Callable[[_Value, _Value], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


def _run(program: tuple[_Op, ...], env: Mapping[str, object]) -> _Value:
    stack: list[_Value] = []
    index = 0
    end = len(program)
    while index < end:
        op = program[index]
        index += 1
        if isinstance(op, str):
            if op[0] in "$?":
                name = op[1:]
                found = env[name] if name in env else _lookup(name, env)
                if type(found) is int and -LARGEST <= found <= LARGEST:
                    stack.append(found)
                else:
                    stack.append(_parameter(op, found))
                continue
            if op == "not":
                stack[-1] = not stack[-1]
                continue
            if op == "neg":
                if isinstance(stack[-1], bool):
                    raise _flag("-", stack[-1])
                stack[-1] = -stack[-1]
                continue
            right = stack.pop()
            left = stack[-1]
            if type(left) is bool or type(right) is bool:
                raise _flag(op, left, right)
            if op == "+":
                value = left + right
            elif op == "-":
                value = left - right
            elif op == "*":
                value = left * right  # both within 2**62: the product has at most 124 bits
            elif op in _COMPARE:
                stack[-1] = _COMPARE[op](left, right)
                continue
            elif not right:
                raise ExprError(
                    f"divides by zero ({_figure(left)} {op} {_figure(right)}); check the "
                    "divisor and the parameters in it"
                )
            elif op == "//":
                value = left // right
            elif op == "/":
                value = left / right
            else:
                value = left % right
            if not -LARGEST <= value <= LARGEST:  # also refuses inf (and nan)
                raise ExprError(f"{_too_large()} (at {_figure(left)} {op} {_figure(right)})")
            stack[-1] = value
        elif isinstance(op, _Jump):
            kind = op.kind
            if kind == "if":
                if not stack.pop():
                    index += op.offset
            elif kind == "to":
                index += op.offset
            elif (kind == "and") == bool(stack[-1]):
                stack.pop()  # 'a and b' is b when a is true; 'a or b' is b when a is false
            else:
                index += op.offset
        elif isinstance(op, _Call):
            values = stack[len(stack) - op.size :]
            del stack[len(stack) - op.size :]
            stack.append(_call(op.name, values))
        else:
            stack.append(op)
    return stack[-1]


def _call(name: str, values: list[_Value]) -> _Value:
    if any(isinstance(value, bool) for value in values):
        raise ExprError(
            f"{name}() takes numbers, and true/false is not one (at {_called(name, values)}); "
            "a comparison or a flag is a condition: use it as in 4 if $flag else 0"
        )
    if name == "make_divisible" and not values[1]:
        raise ExprError(
            f"divides by zero ({_called(name, values)}): its divisor must not be 0; check the "
            "parameters in it"
        )
    value = _FUNCTIONS[name][3](*values)
    if not -LARGEST <= value <= LARGEST:
        raise ExprError(f"{_too_large()} (at {_called(name, values)})")
    return value


def _called(name: str, values: list[_Value]) -> str:
    return f"{name}({', '.join(_figure(value) for value in values)})"


def _parameter(op: str, found: object) -> _Value:
    """A parameter's value, other than a plain int, checked for its use: ``$name`` must be a
    number, ``?name`` a number or true or false; a number must be finite and within bounds."""
    name = "$" + op[1:]
    if isinstance(found, bool):
        if op[0] == "$":
            raise ExprError(
                f"{name} is {show(found)}, not a whole number or a decimal: a flag cannot take "
                "part in arithmetic, comparisons or functions, but it can be a condition, as in "
                f"4 if {name} else 0"
            )
        return found
    if isinstance(found, (int, float)):
        if -LARGEST <= found <= LARGEST:
            return found
        if found != found:
            raise ExprError(f"{name} is nan, not a number; give the block a number for it")
        shown = _number(found) if isinstance(found, int) else show(found)
        raise ExprError(f"{name} is {shown}, {_too_large()}")
    if op[0] == "$":
        raise ExprError(
            f"{name} is {_shown(found)}, not a whole number or a decimal, so it cannot take "
            "part in arithmetic; give the block a number for it"
        )
    raise ExprError(
        f"{name} is {_shown(found)}, not a number or true/false, so it cannot take part in an "
        "expression (only a lone $name may stand for a value of any kind); give the block a "
        "number for it"
    )


def _flag(op: str, *values: _Value) -> ExprError:
    """True or false met as a number, where the parser could not name the parameter."""
    shown = f" {op} ".join(_figure(value) for value in values)
    shown = shown if len(values) == 2 else op + shown
    return ExprError(
        f"true/false is not a number, so it cannot take part in arithmetic or comparisons (at "
        f"{shown}); a comparison or a flag is a condition: use it as in 4 if $flag else 0"
    )


def _figure(value: object) -> str:
    """A value computed in an expression, for a message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return _number(value)
    if isinstance(value, float):
        return repr(value)
    return _shown(value)


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
