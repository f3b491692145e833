"""Formulas written once: a rule gets the value, and with ``--explain`` the working as well.

A :class:`Formula` is the text a tutorial would print, ``out = floor((in + pad_total -
dilation*(kernel-1) - 1) / stride) + 1``, with the names of its arguments in order. A rule calls
it with the numbers and gets the value; when the layer's working is being recorded
(``call.notes`` is a list) the formula also writes itself there, first in symbols, then with
the numbers put in::

    out = floor((in + pad_total - dilation*(kernel-1) - 1) / stride) + 1
    H: floor((28 + 0 - 1*(3-1) - 1) / 2) + 1 = 13

The text is the only definition: it is compiled, on first use, into plain Python functions
(integer arithmetic inline, no tree walked per call), so a rule without ``--explain`` pays one
function call and builds no string. The language is small:

- names (the arguments, and in a formula of several equations the earlier ones' left sides),
  whole numbers, parentheses, ``+ - * %`` as in Python;
- ``/`` is Python's true division (``(span-1)/2`` is 1.0 or 1.5);
- ``//`` is a division that comes out exact (``C_in//groups``: groups divides the channels),
  computed on integers and shown as ``/``;
- ``floor(a / b)`` and ``ceil(a / b)`` are integer floor and ceiling division; ``max``, ``min``;
- a flag passed as an argument (``bias``) counts, and is shown, as 1 or 0.

Several equations, ``size = ...; jump = ...``, give a tuple; each may use the ones before it.
A number substituted for a name is shown as it is; a negative one after ``+`` or ``-`` folds
into the sign (``- -2`` reads ``+ 2``). Results are shown with thousands separators.

Lines are plain text, at most :data:`LIMIT` characters where the numbers allow: a formula that
does not fit on one line continues on the next, its ``=`` under the first.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Generic, TypeVar

from ._kind import Call, Geometry, WeightRule, Weights

R = TypeVar("R")

LIMIT = 100
"""The longest line the working aims for (a line longer only when its numbers are)."""

INDENT = "    "
"""The indent of a line that continues the one before."""

_FUNCTIONS = ("floor", "ceil", "max", "min")


class _Token:
    """One token of a formula's text. (Plain classes with slots here and below: a NamedTuple
    costs a tenth of a millisecond to define, at every start-up, for text only explain reads.)"""

    __slots__ = ("start", "end", "text", "kind")

    def __init__(self, start: int, end: int, text: str, kind: str) -> None:
        self.start = start
        self.end = end
        self.text = text
        self.kind = kind
        """``num``, ``name`` or ``op``."""


class _Equation:
    """One ``lhs = expression`` of a formula, read."""

    __slots__ = ("lhs", "expr", "tokens", "slots")

    def __init__(
        self, lhs: str, expr: str, tokens: tuple[_Token, ...], slots: tuple[int, ...]
    ) -> None:
        self.lhs = lhs
        self.expr = expr
        self.tokens = tokens
        self.slots = slots
        """For each name token, the index of its value (arguments first, then results); -1
        for the functions."""


class Formula(Generic[R]):
    """One formula, or a few equations solved in order.

    ``args`` names the arguments in the order the rule passes them (``"in pad_total dilation
    kernel stride"``). An argument written ``*kernel`` takes a tuple and stands for the product
    of its items: the value is ``math.prod``, the numbers show ``3*3``, and ``spell`` may give
    a function of the call that names the items (``kernel_h kernel_w``) for the symbols; use
    such an argument only as a factor. ``title`` starts each line of a formula of several
    equations (``RF``); ``note`` follows the formula, in parentheses. A rule calls one of
    three compiled functions:

    - ``formula.of(call, *args)``: the value; with explain, ``lhs = symbols = numbers = value``;
    - ``formula.axis(call, axis, *args)``: the value on one spatial axis; with explain, the
      formula in symbols (once per layer) and ``H: numbers = value``;
    - ``formula.fn(*args)``: the value alone.

    Each is generated from the text on first use: the arithmetic inline, then one test of
    ``call.notes``, so without explain a formula costs what one plain function call does.
    """

    __slots__ = (
        "source",
        "args",
        "title",
        "note",
        "spell",
        "fn",
        "of",
        "axis",
        "_equations",
        "_symbols",
    )

    fn: Callable[..., R]
    of: Callable[..., R]
    axis: Callable[..., R]

    def __init__(
        self,
        source: str,
        args: str,
        *,
        title: str = "",
        note: str = "",
        spell: Mapping[str, Callable[[Call], Sequence[str]]] | None = None,
    ) -> None:
        self.source = source
        self.args = tuple(args.split())
        self.title = title
        self.note = note
        self.spell = spell or {}
        self._equations: tuple[_Equation, ...] = ()
        self._symbols: dict[tuple[tuple[int, str], ...], list[str]] = {}
        self.fn = self._first_fn
        self.of = self._first_of
        self.axis = self._first_axis

    # -- the text ----------------------------------------------------------------------------------
    def explain(self, call: Call, axis: int, args: Sequence[object], value: object) -> None:
        """Write the working to ``call.notes``: a scalar's line(s) (``axis`` -1), or for one
        axis the formula in symbols, once per layer, and the line with the numbers."""
        notes = call.notes
        assert notes is not None
        if axis < 0:
            notes.extend(self.lines(args, value, call))
            return
        symbols = self.symbols(call)
        if symbols[0] not in notes:
            notes += symbols
        notes.extend(self.numbers_line(call.axis_labels()[axis], args, value))

    def symbols(self, call: Call | None = None) -> list[str]:
        """The formula in symbols: ``out = floor((in + ...) / stride) + 1``; ``call`` spells
        the product arguments."""
        spelled = self._spelled(call)
        key = tuple(spelled.items())
        found = self._symbols.get(key)
        if found is None:
            parts = [f"{eq.lhs} = {_render(eq, None, spelled)}" for eq in self._parsed()]
            if self.note:
                parts[-1] += f" ({self.note})"
            found = self._symbols[key] = wrap(parts, f"{self.title}: " if self.title else "")
        return found

    def numbers(self, *args: object) -> str:
        """The (last) equation's right side with the numbers put in: ``(5-1)*2 - 2 + 1``."""
        equations = self._parsed()
        return _render(equations[-1], self._values(args, self.fn(*args)))

    def working(self, *args: object) -> str:
        """The (last) equation on one line: ``end = (out-1)*stride + span = (13-1)*2 + 3 = 27``."""
        equation = self._parsed()[-1]
        values = self._values(args, self.fn(*args))
        numbers = _render(equation, values)
        symbols = _render(equation, None)
        return f"{equation.lhs} = {symbols} = {numbers} = {show_result(values[-1])}"

    def numbers_line(self, label: str, args: Sequence[object], value: object) -> list[str]:
        """``H: numbers = value``, or for several equations ``RF H: size = ... = 3; ...``."""
        equations = self._parsed()
        values = self._values(args, value)
        results = values[len(self.args) :]
        if len(equations) == 1:
            parts = [f"{_render(equations[0], values)} = {show_result(results[0])}"]
        else:
            parts = [
                f"{eq.lhs} = {_render(eq, values)} = {show_result(result)}"
                for eq, result in zip(equations, results, strict=True)
            ]
        title = f"{self.title} " if self.title else ""
        return wrap(parts, f"{title}{label}: ")

    def lines(self, args: Sequence[object], value: object, call: Call | None = None) -> list[str]:
        """``lhs = symbols = numbers = value`` on one line, or on two when that is too long."""
        equations = self._parsed()
        spelled = self._spelled(call)
        values = self._values(args, value)
        results = values[len(self.args) :]
        lines: list[str] = []
        for number, (eq, result) in enumerate(zip(equations, results, strict=True)):
            symbols = f"{eq.lhs} = {_render(eq, None, spelled)}"
            numbers = _render(eq, values)
            shown = show_result(result)
            tail = f" ({self.note})" if self.note and number == len(equations) - 1 else ""
            working = f" = {numbers} = {shown}" if numbers != shown else f" = {shown}"
            if len(symbols) + len(working) + len(tail) <= LIMIT:
                lines.append(symbols + working + tail)
            elif len(symbols) + len(tail) <= LIMIT:
                lines += [symbols + tail, " " * len(eq.lhs) + working]
            else:
                lines += [symbols, " " * len(eq.lhs) + working + tail]
        return lines

    # -- compiling -------------------------------------------------------------------------------
    def check(self) -> None:
        """Read and compile now (a test's way to find a mistake in a formula's text)."""
        self.fn = _compile(self, "fn")
        self.of = _compile(self, "of")
        self.axis = _compile(self, "axis")

    # Each entry is compiled on its first call, alone: a rule uses one or two of the three, and
    # a process that analyses a few layers compiles only what they need.
    def _first_fn(self, *args: object) -> R:
        self.fn = _compile(self, "fn")
        return self.fn(*args)

    def _first_of(self, call: Call, *args: object) -> R:
        self.of = _compile(self, "of")
        return self.of(call, *args)

    def _first_axis(self, call: Call, axis: int, *args: object) -> R:
        self.axis = _compile(self, "axis")
        return self.axis(call, axis, *args)

    def _spelled(self, call: Call | None) -> dict[int, str]:
        """The product arguments' symbols for this call: slot -> ``kernel_h*kernel_w``."""
        if call is None or not self.spell:
            return {}
        slots = {name.lstrip("*"): slot for slot, name in enumerate(self.args)}
        return {slots[name]: product(spell(call)) for name, spell in self.spell.items()}

    def _parsed(self) -> tuple[_Equation, ...]:
        if not self._equations:
            self._equations = _parse_all(self.source, self.args)
        return self._equations

    def _values(self, args: Sequence[object], value: object) -> list[object]:
        """The arguments, then each equation's result: what the names stand for."""
        results: list[object] = list(value) if isinstance(value, tuple) else [value]
        return [*args, *results]

    def __repr__(self) -> str:
        return f"Formula({self.source!r})"


# -- showing numbers -----------------------------------------------------------------------------


def show(value: object) -> str:
    """A number as it goes into a formula: ``3``, ``0.5``, ``2`` for 2.0, ``1`` for True."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


def show_result(value: object) -> str:
    """A formula's value: whole numbers with thousands separators (``48,672``)."""
    if isinstance(value, int):
        return f"{value:,}"
    return show(value)


def wrap(parts: list[str], first: str) -> list[str]:
    """``parts`` joined with ``; `` after ``first``, on as few lines of :data:`LIMIT` as they
    fit; a continued line starts with :data:`INDENT`."""
    lines: list[str] = []
    line = first
    for number, part in enumerate(parts):
        piece = part + (";" if number < len(parts) - 1 else "")
        if number == 0:
            line += piece
        elif len(line) + 1 + len(piece) <= LIMIT:
            line += " " + piece
        else:
            lines.append(line)
            line = INDENT + piece
    lines.append(line)
    return lines


# -- the formula language ------------------------------------------------------------------------


def _render(
    eq: _Equation, values: Sequence[object] | None, spelled: Mapping[int, str] | None = None
) -> str:
    """An equation's right side: in symbols (``values`` None; ``spelled`` names product
    arguments) or with the numbers put in."""
    out: list[str] = []
    position = 0
    expr = eq.expr
    slot_of = iter(eq.slots)
    for token in eq.tokens:
        out.append(expr[position : token.start])
        position = token.end
        if token.kind == "op":
            out.append("/" if token.text == "//" else token.text)
            continue
        if token.kind != "name":
            out.append(token.text)
            continue
        slot = next(slot_of)
        if slot < 0:
            out.append(token.text)
            continue
        if values is None:
            out.append(spelled.get(slot, token.text) if spelled else token.text)
            continue
        value = values[slot]
        if isinstance(value, tuple):
            out.append("*".join(map(show, value)))
        elif isinstance(value, (int, float)) and value < 0:
            _fold_sign(out, value)
        else:
            out.append(show(value))
    out.append(expr[position:])
    return "".join(out)


def _fold_sign(out: list[str], value: float) -> None:
    """A negative number after ``+``/``-`` turns the sign (``- -2`` is ``+ 2``); elsewhere it
    is bracketed."""
    text = "".join(out)
    stripped = text.rstrip()
    if stripped.endswith(("+", "-")):
        sign = "-" if stripped.endswith("+") else "+"
        out[:] = [stripped[:-1] + sign + text[len(stripped) :], show(-value)]
    else:
        out.append(f"({show(value)})")


def _parse_all(source: str, args: tuple[str, ...]) -> tuple[_Equation, ...]:
    equations: list[_Equation] = []
    names = {name.lstrip("*"): index for index, name in enumerate(args)}
    used: set[str] = set()
    for text in source.split(";"):
        lhs, equals, expr = text.strip().partition(" = ")
        if not equals:
            raise ValueError(f"formula {source!r}: {text.strip()!r} is not 'name = expression'")
        tokens = _tokenize(expr, source)
        slots: list[int] = []
        for token in tokens:
            if token.kind != "name":
                continue
            if token.text in _FUNCTIONS:
                slots.append(-1)
            elif token.text in names:
                slots.append(names[token.text])
                used.add(token.text)
            else:
                raise ValueError(f"formula {source!r}: {token.text!r} is not an argument")
        equations.append(_Equation(lhs, expr, tuple(tokens), tuple(slots)))
        names[lhs] = len(args) + len(equations) - 1
    unused = [name for name in (arg.lstrip("*") for arg in args) if name not in used]
    if unused:
        raise ValueError(f"formula {source!r}: arguments {unused} are not used")
    return tuple(equations)


def _tokenize(expr: str, source: str) -> list[_Token]:
    """Numbers, names and operators, with where each stands in ``expr`` (a scan by hand: a
    regular expression would be compiled at every start-up that explains or computes)."""
    tokens: list[_Token] = []
    position, end = 0, len(expr)
    while position < end:
        char = expr[position]
        if char == " ":
            position += 1
            continue
        start = position
        if char.isdigit():
            kind = "num"
            while position < end and (expr[position].isdigit() or expr[position] == "."):
                position += 1
        elif char.isalpha() or char == "_":
            kind = "name"
            while position < end and (expr[position].isalnum() or expr[position] == "_"):
                position += 1
        elif expr.startswith("//", position):
            kind, position = "op", position + 2
        elif char in "+-*/%(),":
            kind, position = "op", position + 1
        else:
            raise ValueError(f"formula {source!r}: cannot read {expr[position:]!r}")
        tokens.append(_Token(start, position, expr[start:position], kind))
    return tokens


class _Parser:
    """Recursive descent over one expression's tokens, giving Python source."""

    def __init__(self, eq: _Equation, names: list[str], source: str) -> None:
        self.tokens = eq.tokens
        self.slots = list(eq.slots)
        self.names = names
        self.source = source
        self.at = 0
        self.slot = 0

    def peek(self) -> str:
        return self.tokens[self.at].text if self.at < len(self.tokens) else ""

    def take(self, expected: str | None = None) -> _Token:
        if self.at >= len(self.tokens) or (expected and self.tokens[self.at].text != expected):
            raise ValueError(f"formula {self.source!r}: expected {expected or 'more'}")
        self.at += 1
        return self.tokens[self.at - 1]

    def expression(self) -> tuple[str, tuple[str, str] | None]:
        """Python source, and (numerator, denominator) when it is one division ``a / b``."""
        code, division = self.term()
        while self.peek() in ("+", "-"):
            op = self.take().text
            right, _ = self.term()
            code, division = f"({code} {op} {right})", None
        return code, division

    def term(self) -> tuple[str, tuple[str, str] | None]:
        code = self.unary()
        division: tuple[str, str] | None = None
        while self.peek() in ("*", "/", "//", "%"):
            op = self.take().text
            right = self.unary()
            division = (code, right) if op == "/" else None
            code = f"({code} {op} {right})"
        return code, division

    def unary(self) -> str:
        if self.peek() == "-":
            self.take()
            return f"(-{self.unary()})"
        return self.atom()

    def atom(self) -> str:
        token = self.take()
        if token.text == "(":
            code, _ = self.expression()
            self.take(")")
            return code
        if token.kind == "num":
            return token.text
        if token.kind != "name":
            raise ValueError(f"formula {self.source!r}: unexpected {token.text!r}")
        slot = self.slots[self.slot]
        self.slot += 1
        if slot >= 0:
            return self.names[slot]
        self.take("(")
        arguments = [self.expression()]
        while self.peek() == ",":
            self.take()
            arguments.append(self.expression())
        self.take(")")
        if token.text in ("max", "min"):
            return f"{token.text}({', '.join(code for code, _ in arguments)})"
        (code, division), *rest = arguments
        if rest:
            raise ValueError(f"formula {self.source!r}: {token.text} takes one argument")
        if division is None:
            return f"_{token.text}({code})"
        top, bottom = division
        if token.text == "floor":
            return f"({top} // {bottom})"
        return f"(-((-{top}) // {bottom}))"


def _compile(formula: Formula[R], entry: str) -> Callable[..., R]:
    """One of the formula's functions, the arithmetic inline: ``fn`` (the value alone), ``of``
    (and a scalar's working) or ``axis`` (and one axis' working)."""
    equations = formula._parsed()
    count = len(formula.args)
    arguments = [f"a{index}" for index in range(count)]
    names = [
        f"_prod(a{index})" if name.startswith("*") else f"a{index}"
        for index, name in enumerate(formula.args)
    ] + [f"r{i}" for i in range(len(equations))]
    lines = []
    for number, eq in enumerate(equations):
        parser = _Parser(eq, names, formula.source)
        code, _ = parser.expression()
        if parser.at != len(eq.tokens):
            raise ValueError(f"formula {formula.source!r}: unexpected {parser.peek()!r}")
        lines.append(f"    r{number} = {code}")
    results = ", ".join(f"r{i}" for i in range(len(equations)))
    value = results if len(equations) == 1 else f"({results},)"
    if entry != "fn":
        where = "axis" if entry == "axis" else "-1"
        arguments = ["call", *(["axis"] if entry == "axis" else []), *arguments]
        packed = "(" + "".join(f"a{index}, " for index in range(count)) + ")"
        lines.append(
            f"    if call.notes is not None:\n        explain(call, {where}, {packed}, {value})"
        )
    text = f"def {entry}({', '.join(arguments)}):\n" + "\n".join(lines) + f"\n    return {value}\n"
    namespace: dict[str, object] = {
        "_floor": math.floor,
        "_ceil": math.ceil,
        "_prod": math.prod,
        "explain": formula.explain,
    }
    exec(compile(text, f"<formula {formula.source}>", "exec"), namespace)
    return namespace[entry]  # type: ignore[return-value]


# -- layers with nothing to learn ----------------------------------------------------------------

_NOTHING = Weights()


def weightless(why: str | Callable[[Call], str]) -> WeightRule:
    """The parameter rule of a kind with nothing to learn, saying why in its working."""

    def rule(call: Call, geometry: Geometry) -> Weights:
        if call.notes is not None:
            call.notes.append("no weights: " + (why if isinstance(why, str) else why(call)))
        return _NOTHING

    return rule


# -- naming a layer's numbers in formulas ------------------------------------------------------

LABELS = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}
"""The spatial axes' names by rank, as ``Call.axis_labels`` gives them."""


def shape_symbols(
    rank: int, channels_last: bool, suffix: str = "", channel: str = "C"
) -> tuple[str, ...]:
    """A shape's axes as formulas name them, in the layout's order: ``H W C``; with a suffix
    and a channel name ``H_out W_out filters``; a flat vector (rank 0) is ``features``."""
    labels = tuple(label + suffix for label in LABELS.get(rank, ()))
    if not labels:
        return ("features",)
    return (*labels, channel) if channels_last else (channel, *labels)


def kernel_symbols(rank: int, name: str = "kernel") -> tuple[str, ...]:
    """A per-axis value's names: ``kernel`` on one axis, ``kernel_h kernel_w`` on two."""
    if rank == 1:
        return (name,)
    return tuple(f"{name}_{label.lower()}" for label in LABELS[rank])


def axes_of(call: Call) -> tuple[str, ...]:
    """The names of a layer's input axes (a ``spell`` function): ``H W C``."""
    return shape_symbols(len(call.spatial), call.channels_last)


def kernel_of(call: Call) -> tuple[str, ...]:
    """The names of a layer's kernel sizes (a ``spell`` function): ``kernel_h kernel_w``."""
    return kernel_symbols(len(call.spatial))


def outputs_of(channel: str) -> Callable[[Call], tuple[str, ...]]:
    """A ``spell`` function naming a layer's output axes: ``H_out W_out filters``."""
    return lambda call: shape_symbols(len(call.spatial), call.channels_last, "_out", channel)


def inputs_of(call: Call) -> tuple[str, ...]:
    """The names of a layer's input axes (a ``spell`` function): ``H_in W_in C_in``."""
    return shape_symbols(len(call.spatial), call.channels_last, "_in", "C_in")


def positions_of(call: Call) -> tuple[str, ...]:
    """The names of a layer's output positions (a ``spell`` function): ``H_out W_out``."""
    return tuple(f"{label}_out" for label in call.axis_labels())


def product(symbols: Sequence[str]) -> str:
    """Symbols multiplied: ``kernel_h*kernel_w``."""
    return "*".join(symbols)
