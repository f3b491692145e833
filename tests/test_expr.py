"""The expression language of block parameters (``convcalc._expr``).

Each feature is checked on values worked by hand; each error message is produced and read;
random expressions are checked against Python itself (``ast`` for the reading, ``eval`` for the
value), and ``make_divisible`` and Keras' EfficientNet scaling against their reference code.
"""

from __future__ import annotations

import ast
import math
import operator
import time
import warnings
from collections.abc import Callable, Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convcalc._expr import (
    MAX_DEPTH,
    MAX_DIGITS,
    MAX_LENGTH,
    ExprError,
    evaluate,
    has_reference,
    references,
)
from convcalc._values import LARGEST

ENV: dict[str, object] = {
    "a": 7,
    "b": 2,
    "z": 0,
    "w": 1.1,
    "h": 0.5,
    "se": True,
    "off": False,
    "l": [1, 2],
    "s": "relu",
}


# -- 1. each feature, by hand ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # integers, as before
        ("$a + 3 * 2", 13),
        ("($a + 3) * 2", 20),
        ("-$a // 2", -4),  # floor division, and unary minus binds tighter than //
        ("-($a // 2)", -3),
        ("$a - $b - 1", 4),  # left to right
        # % and true division
        ("$a % 3", 1),
        ("-$a % 3", 2),  # the sign of the divisor, as in Python
        ("$a % -3", -2),
        ("$a / $b", 3.5),
        ("8 / 2", 4.0),  # true division always gives a float
        ("1 + 2 * 3 / 4 - 5 // 2", 0.5),
        # decimals
        ("1.5 * 2", 3.0),
        (".5 + 2.", 2.5),
        ("1e-3 * 1000", 1.0),
        ("1.5e2", 150.0),
        ("2E+1 / 4", 5.0),
        ("7.5 // 2", 3.0),
        ("-7.5 // 2", -4.0),
        ("-7.5 % 2", 0.5),
        ("0.1 + 0.2", 0.30000000000000004),  # Python's float arithmetic, to the bit
        # max and min
        ("max(3)", 3),
        ("min($a)", 7),
        ("max(1, 5, 3)", 5),
        ("min($a, $b, 9)", 2),
        ("max(1, 2.0)", 2.0),
        ("max(2, 2.0)", 2),  # the first of equals, as in Python
        ("min($a, 2.5)", 2.5),
        ("max(-$a, -$b)", -2),
        # rounding
        ("floor(-1.5)", -2),
        ("ceil(-1.5)", -1),
        ("ceil($a / $b)", 4),
        ("floor($a)", 7),
        ("round(2.5)", 2),  # halves to the even neighbour
        ("round(3.5)", 4),
        ("round(-2.5)", -2),
        ("round(2.6)", 3),
        ("int(2.7)", 2),  # toward zero
        ("int(-2.7)", -2),
        ("int($a / $b)", 3),
        # make_divisible (torchvision's)
        ("make_divisible(10, 8)", 16),  # 8 would be 20% below 10
        ("make_divisible(32 * 0.75, 8)", 24),
        ("make_divisible(3, 8)", 8),  # never below the divisor
        ("make_divisible(20, 8, 32)", 32),  # nor below min_value
        ("make_divisible(100, 8, 64)", 104),
        ("make_divisible($a * 10, 8)", 72),
        ("make_divisible(37.5, 8.0)", 40.0),  # floats in, a float out, as in Python
        # comparisons
        ("$a > 2", True),
        ("$a <= 2", False),
        ("1 == 1.0", True),
        ("2 != 2", False),
        ("-1 < 0", True),
        ("$a >= 7", True),
        ("$w * 10 == 11", True),
        ("$h * 3 == 1.5", True),
        ("0.1 + 0.2 == 0.3", False),
        # and, or, not: Python's values
        ("1 and 2", 2),
        ("0 and 2", 0),
        ("0 or 5", 5),
        ("$b or 5", 2),
        ("not $z", True),
        ("not 2.5", False),
        ("not $a > 3 and $b < 3", False),  # (not (a > 3)) and (b < 3)
        ("$se and $a", 7),
        ("$off or $b", 2),
        ("not $off", True),
        ("$a > 1 and $b > 1 or $z", True),
        # short-circuits: what is not taken is not computed
        ("$z != 0 and $a // $z > 1", False),
        ("$z == 0 or $a // $z > 1", True),
        ("$a // $z if $z else -1", -1),
        ("-1 if $z == 0 else $a // $z", -1),
        ("0 and $missing", 0),
        # x if condition else y
        ("$a if $se else 0", 7),
        ("$a if $off else 0", 0),
        ("1 + 2 if $z else 3 + 4", 7),  # (1 + 2) if z else (3 + 4)
        ("1 if $z else 2 if $z else 3", 3),  # 1 if z else (2 if z else 3)
        ("1 if $z else 2 if $a else 3", 2),
        ("(1 if $se else 2) * 3", 3),
        ("max(1 if $se else 9, 2)", 2),
        ("not 1 if $z else 5", 5),  # (not 1) if z else 5
        ("-$a if $se else $a", -7),
        ("$a if not $se else $b", 2),
        ("$a if $b > 1 and $se else 0", 7),
        ("$a if $se else not $se", 7),
        ("$h if $se else 1", 0.5),
        # parameters that are floats or true/false
        ("$a * $w", 7.700000000000001),
        ("int($a * $w)", 7),
        ("$w + $h", 1.6),
        ("4 if $se else 0", 4),
        # what real architectures write
        ("int(64 * 1.1 + 4) // 8 * 8", 72),
        ("$a * 4 if $se else $a", 28),
        ("make_divisible(16 * $h, 8)", 8),
    ],
)
def test_features(text: str, expected: object) -> None:
    value = evaluate(text, ENV)
    assert value == expected
    assert type(value) is type(expected)


def test_a_lone_name_is_the_parameter_as_it_is() -> None:
    assert evaluate("$l", ENV) == [1, 2]
    assert evaluate(" $s ", ENV) == "relu"
    assert evaluate("$w", ENV) == 1.1
    assert evaluate("$se", ENV) is True
    assert evaluate("($se)", ENV) is True  # a flag may stand in parentheses too


def test_references_are_found_in_the_new_syntax() -> None:
    text = "make_divisible($c * $width, 8) if $se and not $flat else max($c, 16)"
    assert references(text) == {"c", "width", "se", "flat"}
    assert has_reference(text) and not has_reference("max(8, 16)")


def test_limits_hold_for_the_new_syntax() -> None:
    deep = MAX_DEPTH
    assert evaluate("max(" * deep + "1" + ")" * deep, {}) == 1
    assert evaluate("not " * deep + "1", {}) is True  # an even number of nots
    assert evaluate("1 if 1 else " * deep + "2", {}) == 1
    assert evaluate("0 if 0 else " * deep + "2", {}) == 2
    for text in (
        "max(" * (deep + 1) + "1" + ")" * (deep + 1),
        "not " * (deep + 1) + "1",
        "1 if 1 else " * (deep + 1) + "2",
        "-(" * (deep // 2 + 1) + "1" + ")" * (deep // 2 + 1),
    ):
        with pytest.raises(ExprError, match="nests too deeply"):
            evaluate(text, {})
    assert evaluate("0." + "0" * (MAX_DIGITS - 2) + "1", {}) == 1e-29
    with pytest.raises(ExprError, match=f"has {MAX_DIGITS + 1} digits"):
        evaluate("0." + "0" * (MAX_DIGITS - 1) + "1", {})
    with pytest.raises(ExprError, match=f"at most {MAX_LENGTH:,}"):
        evaluate("max(1" + ", 1" * MAX_LENGTH + ")", {})
    assert evaluate("max(1" + ", 2" * ((MAX_LENGTH - 6) // 3) + ")", {}) == 2
    assert evaluate(f"{float(LARGEST)!r} * 1", {}) == float(LARGEST)
    assert evaluate("-$a * $a", {"a": 2**31}) == -LARGEST


# -- 2. every message ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        # reading
        (
            "$a ^ 2",
            ENV,
            "not integer arithmetic, decimal arithmetic or a condition: unexpected '^ 2' at "
            "character 4 (use numbers, $names, + - * / // %, < <= > >= == !=, and or not, "
            "x if condition else y, the functions max, min, floor, ceil, round, int, "
            "make_divisible, and parentheses)",
        ),
        ("1." + "5" * 30, {}, "the number 1.5555555555... has 31 digits; a number in an "),
        ("", {}, "an empty expression: give a number or arithmetic over $names"),
        ("max(1, ", {}, "ends too early: a value is missing after the last operator or '('"),
        ("($a + 1", ENV, "has an unclosed '(': add the ')' that closes it"),
        ("max($a, 1", ENV, "has an unclosed 'max(': add the ')' that closes it"),
        (
            "-not $a",
            ENV,
            "'not' at character 2 cannot follow '-': a minus sign takes a number, and not "
            "gives true or false",
        ),
        (
            "$a == not $b",
            ENV,
            "'not' at character 7 cannot follow '==': put it in parentheses, as in $a == (not $b)",
        ),
        (
            "$a ** 2",
            ENV,
            "unexpected '*' at character 5: a value (a number, a $name, a function or '(') "
            "must come here; there is no power operator '**': write the product out",
        ),
        (
            "$a + )",
            ENV,
            "unexpected ')' at character 6: a value (a number, a $name, a function or '(') "
            "must come here",
        ),
        (
            "max",
            {},
            "max at character 1 is a function: give it its values in parentheses, as in "
            "max($a, ...)",
        ),
        (
            "mx($a, 8)",
            ENV,
            "unknown function 'mx' at character 1 (did you mean 'max'?): the functions are "
            "max, min, floor, ceil, round, int, make_divisible",
        ),
        (
            "divisible($a, 8)",
            ENV,
            "unknown function 'divisible' at character 1 (did you mean 'make_divisible'?)",
        ),
        ("sqrt($a)", ENV, "unknown function 'sqrt' at character 1: the functions are max, "),
        (
            "$a + and",
            ENV,
            "unexpected 'and' at character 6: a value (a number, a $name, a function or '(') "
            "must come here",
        ),
        (
            "filters * 4",
            ENV,
            "unknown name 'filters' at character 1: a block parameter is written with a $, as "
            "in $filters",
        ),
        ("flor * 4", ENV, "unknown name 'flor' at character 1 (did you mean 'floor'?)"),
        ("1 + if(1)", {}, "unexpected 'if' at character 5: a value"),
        (
            "1e400",
            {},
            "the number 1e400 is far too large: values in an expression must stay within "
            "4,611,686,018,427,387,904 (2**62), more than any size or count in a network; "
            "check the arithmetic and the parameters",
        ),
        ("4611686018427387905", {}, "the number 4,611,686,018,427,387,905 is far too large"),
        (
            "1 if 2 if 3 else 4 else 5",
            {},
            "unexpected 'if' at character 8: a condition cannot hold another x if condition "
            "else y unless it is in parentheses",
        ),
        (
            "$a else 1",
            ENV,
            "unexpected 'else' at character 4: it comes after a condition, as in "
            "x if condition else y",
        ),
        ("$a + 1)", ENV, "unexpected ')' at character 7: there is no '(' for it to close"),
        (
            "($a, 1)",
            ENV,
            "unexpected ',' at character 4: commas separate a function's values, as in max($a, $b)",
        ),
        (
            "$a els 1",
            ENV,
            "unexpected 'els' at character 4 (did you mean 'else'?): an operator (such as "
            "+ - * / // % < == and or) must join two values",
        ),
        ("$a not $b", ENV, "unexpected 'not' at character 4: an operator"),
        ("$a $b", ENV, "unexpected '$b' at character 4: an operator"),
        (
            "(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1),
            {},
            f"nests too deeply: more than {MAX_DEPTH} parentheses, calls, minus signs, nots and "
            "conditionals inside one another; simplify it",
        ),
        (
            "0 < $a < 9",
            ENV,
            "chains comparisons ('<' then '<'): write each one on its own joined with and, as "
            "in $a < $b and $b < $c",
        ),
        ("$a == $b != 1", ENV, "chains comparisons ('==' then '!=')"),
        (
            "1 if $se",
            ENV,
            "has 'if' at character 3 without its 'else': write x if condition else y",
        ),
        ("max(1 if $se, 2)", ENV, "has 'if' at character 7 without its 'else'"),
        ("max()", {}, "max() at character 1 takes one or more values, as in max($a, 8), and is "),
        ("min()", {}, "min() at character 1 takes one or more values, as in min($a, 8), and is "),
        ("floor(1, 2)", {}, "floor() at character 1 takes one value, as in floor($a / 2), and "),
        ("ceil()", {}, "ceil() at character 1 takes one value, as in ceil($a / 2), and is given "),
        (
            "round(2.5, 1)",
            {},
            "round() at character 1 takes one value, which it rounds to a whole number, as in "
            "round($a * 1.5), and is given 2",
        ),
        ("1 + int()", {}, "int() at character 5 takes one value, as in int($a * 1.5), and is "),
        (
            "make_divisible($a)",
            ENV,
            "make_divisible() at character 1 takes 2 or 3 values, as in make_divisible(value, "
            "divisor) or make_divisible(value, divisor, min_value), and is given 1",
        ),
        ("make_divisible(1, 2, 3, 4)", {}, "make_divisible() at character 1 takes 2 or 3 "),
        ("$a + 1" + " " * MAX_LENGTH, ENV, f"too long: {MAX_LENGTH + 6:,} characters"),
        # evaluating: parameters
        (
            "$q + 1",
            ENV,
            "$q is not a parameter of this block (its parameters: $a, $b, $z, $w, $h, $se, "
            "$off, $l, ... (9 in all)); use one of those, or add it to the block's params "
            "(at the top level, the model's params)",
        ),
        (
            "$se * 4",
            ENV,
            "$se is true, not a whole number or a decimal: a flag cannot take part in "
            "arithmetic, comparisons or functions, but it can be a condition, as in "
            "4 if $se else 0",
        ),
        ("$off < 1", ENV, "$off is false, not a whole number or a decimal: a flag"),
        ("max($se, 1)", ENV, "$se is true, not a whole number or a decimal: a flag"),
        (
            "$l + 1",
            ENV,
            "$l is [1, 2], not a whole number or a decimal, so it cannot take part in "
            "arithmetic; give the block a number for it",
        ),
        ("-$s", ENV, "$s is 'relu', not a whole number or a decimal, so it cannot take part"),
        (
            "$l if $se else 1",
            ENV,
            "$l is [1, 2], not a number or true/false, so it cannot take part in an expression "
            "(only a lone $name may stand for a value of any kind); give the block a number "
            "for it",
        ),
        ("$n and 1", {"n": None}, "$n is null, not a number or true/false"),
        (
            "$x * 2",
            {"x": math.nan},
            "$x is nan, not a number; give the block a number for it",
        ),
        ("$x * 2", {"x": math.inf}, "$x is inf, far too large: values in an expression"),
        ("$x + 1", {"x": 1e19}, "$x is 1e+19, far too large"),
        ("$x + 1", {"x": 2**62 + 1}, "$x is 4,611,686,018,427,387,905, far too large"),
        ("$x", {"x": 2**63}, "$x is 9,223,372,036,854,775,808, far too large"),
        # evaluating: true and false as numbers
        (
            "($a > 1) * 4",
            ENV,
            "true/false is not a number, so it cannot take part in arithmetic or comparisons "
            "(at true * 4); a comparison or a flag is a condition: use it as in "
            "4 if $flag else 0",
        ),
        ("-($a < 1)", ENV, "(at -false)"),
        ("($se or 1) + 1", ENV, "(at true + 1)"),
        ("1 < (not $a)", ENV, "(at 1 < false)"),
        (
            "max($a > 1, 2)",
            ENV,
            "max() takes numbers, and true/false is not one (at max(true, 2)); a comparison or "
            "a flag is a condition: use it as in 4 if $flag else 0",
        ),
        # evaluating: division by zero
        (
            "$a // $z",
            ENV,
            "divides by zero (7 // 0); check the divisor and the parameters in it",
        ),
        ("$a / ($b - 2)", ENV, "divides by zero (7 / 0)"),
        ("$w % 0.0", ENV, "divides by zero (1.1 % 0.0)"),
        (
            "make_divisible($a, $z)",
            ENV,
            "divides by zero (make_divisible(7, 0)): its divisor must not be 0; check the "
            "parameters in it",
        ),
        # evaluating: too large
        (
            "$x * 2",
            {"x": 2**62},
            "far too large: values in an expression must stay within "
            "4,611,686,018,427,387,904 (2**62), more than any size or count in a network; "
            "check the arithmetic and the parameters (at 4,611,686,018,427,387,904 * 2)",
        ),
        ("$x * 1e18 * 10", {"x": 1.1}, "(at 1.1000000000000001e+18 * 10)"),
        ("1 / 1e-300", {}, "far too large"),  # an infinity is refused like any large value
        ("4e18 / 5e-324", {}, "check the arithmetic and the parameters (at 4e+18 / 5e-324)"),
        (
            "make_divisible(4.6e18, 4e18)",
            {},
            "far too large: values in an expression must stay within 4,611,686,018,427,387,904 "
            "(2**62), more than any size or count in a network; check the arithmetic and the "
            "parameters (at make_divisible(4.6e+18, 4e+18))",
        ),
    ],
)
def test_messages(text: str, env: Mapping[str, object], message: str) -> None:
    with pytest.raises(ExprError) as caught:
        evaluate(text, env)
    assert message in str(caught.value)
    assert len(str(caught.value)) < 400


def test_messages_name_the_first_problem_of_a_long_text() -> None:
    """The text over the limit still says it nests too deeply, when it does."""
    with pytest.raises(ExprError, match="nests too deeply"):
        evaluate("not " * 300 + "1", {})
    with pytest.raises(ExprError, match="too long"):
        evaluate("max(1" + ", 1" * 400 + ")", {})


# -- 3. Python itself as the reference -------------------------------------------------------
class Refused(Exception):
    """What the expression must refuse, and a fragment of the message it must give."""


FUNCTIONS: dict[str, Callable[..., object]] = {
    "max": lambda *values: values[0] if len(values) == 1 else max(values),
    "min": lambda *values: values[0] if len(values) == 1 else min(values),
    "floor": math.floor,
    "ceil": math.ceil,
    "round": round,
    "int": int,
    "make_divisible": lambda *values: reference_make_divisible(*values),
}
"""Python's functions as an expression calls them (``max`` and ``min`` also of one value)."""

ARITY = {"max": (1, 9999), "min": (1, 9999), "make_divisible": (2, 3)}
BINARY: dict[type[ast.operator], Callable[[object, object], object]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
COMPARE: dict[type[ast.cmpop], Callable[[object, object], object]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
ALLOWED = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.BoolOp,
    ast.Compare,
    ast.IfExp,
    ast.Call,
    ast.Constant,
    ast.Name,
    ast.Load,
    ast.USub,
    ast.Not,
    ast.And,
    ast.Or,
    *BINARY,
    *COMPARE,
)


def reference_make_divisible(v: float, divisor: int, min_value: int | None = None) -> float:
    """torchvision.models._utils._make_divisible, as it is."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    # Make sure that round down does not go down by more than 10%.
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def problems(tree: ast.Expression, env: Mapping[str, object]) -> list[str]:
    """What the expression must refuse while reading it, wherever it is (a fragment each)."""
    found: list[str] = []
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    for node in ast.walk(tree):
        if not isinstance(node, ALLOWED):
            found.append("")  # a tuple, a starred value, unary plus...: not in the language
        elif isinstance(node, ast.Compare) and len(node.ops) > 1:
            found.append("chains comparisons")
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                found.append("")
                continue
            fewest, most = ARITY.get(node.func.id, (1, 1))
            if not fewest <= len(node.args) <= most:
                found.append("takes")
        elif isinstance(node, ast.Name) and id(node) not in called and node.id not in env:
            found.append("")
        elif isinstance(node, ast.Constant):
            if not isinstance(node.value, (int, float)) or isinstance(node.value, bool):
                found.append("")
            elif node.value > LARGEST:
                found.append("far too large")
    return found


def number(*values: object) -> None:
    if any(isinstance(value, bool) for value in values):
        raise Refused("true/false")


def bounded(value: object) -> object:
    assert isinstance(value, (int, float))
    if not -LARGEST <= value <= LARGEST:
        raise Refused("far too large")
    return value


def run(node: ast.expr, env: Mapping[str, object]) -> object:
    """Python's meaning of ``node``, refusing what the expression refuses as it computes."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.UnaryOp):
        value = run(node.operand, env)
        if isinstance(node.op, ast.Not):
            return not value
        number(value)
        return -value  # type: ignore[operator]
    if isinstance(node, ast.BinOp):
        left, right = run(node.left, env), run(node.right, env)
        number(left, right)
        if isinstance(node.op, (ast.Div, ast.FloorDiv, ast.Mod)) and right == 0:
            raise Refused("divides by zero")
        return bounded(BINARY[type(node.op)](left, right))
    if isinstance(node, ast.Compare):
        left, right = run(node.left, env), run(node.comparators[0], env)
        number(left, right)
        return COMPARE[type(node.ops[0])](left, right)
    if isinstance(node, ast.BoolOp):
        for item in node.values:
            value = run(item, env)
            if bool(value) == isinstance(node.op, ast.Or):
                return value
        return value
    if isinstance(node, ast.IfExp):
        return run(node.body if run(node.test, env) else node.orelse, env)
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    values = [run(item, env) for item in node.args]
    number(*values)
    if node.func.id == "make_divisible" and values[1] == 0:
        raise Refused("divides by zero")
    return bounded(FUNCTIONS[node.func.id](*values))


def expected(text: str, env: Mapping[str, object]) -> object:
    """What ``text`` must give: Python's value, or :class:`Refused`."""
    python = text.replace("$", "")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "'int' object is not callable", and such
        try:
            tree = ast.parse(python, mode="eval")
        except SyntaxError:
            return Refused("")
    found = problems(tree, env)
    if found:
        return Refused(found[0] if len(found) == 1 else "")
    try:
        return run(tree.body, env)
    except Refused as refused:
        return refused


def agrees_with_python(text: str, env: Mapping[str, object]) -> None:
    wanted = expected(text, env)
    if isinstance(wanted, Refused):
        with pytest.raises(ExprError) as caught:
            evaluate(text, env)
        assert str(wanted) in str(caught.value)
        return
    value = evaluate(text, env)
    assert value == wanted and type(value) is type(wanted)
    python = eval(text.replace("$", ""), {"__builtins__": {}}, {**FUNCTIONS, **env})
    assert python == value and type(python) is type(value)


NAMES = ["$a", "$b", "$c"]
INTEGERS = st.one_of(
    st.integers(0, 20), st.integers(0, 2**40), st.integers(LARGEST - 2, LARGEST + 2)
).map(str)
FLOATS = st.one_of(
    st.floats(0, 1e6, allow_nan=False, allow_infinity=False),
    st.floats(0, 1e20, allow_nan=False, allow_infinity=False),
    st.sampled_from([0.1, 0.5, 1.1, 1.5, 2.0, 0.0, 1e-300]),
).map(repr)


@st.composite
def expressions(draw: st.DrawFn, leaves: st.SearchStrategy[str], rich: bool, depth: int = 0) -> str:
    """Random text from the grammar, precedence left to the readers (ours and Python's)."""
    if depth >= 4 or draw(st.integers(0, 2)) == 0:
        return draw(st.one_of(leaves, st.sampled_from(NAMES)))
    forms = ["binary", "binary", "minus", "parentheses"]
    if rich:
        forms += ["compare", "logic", "not", "conditional", "call"]
    form = draw(st.sampled_from(forms))

    def inner() -> str:
        return draw(expressions(leaves, rich, depth + 1))

    if form == "minus":
        return "-" + inner()
    if form == "parentheses":
        return "(" + inner() + ")"
    if form == "not":
        return "not " + inner()
    if form == "conditional":
        return f"{inner()} if {inner()} else {inner()}"
    if form == "call":
        name = draw(st.sampled_from(sorted(FUNCTIONS)))
        count = draw(st.integers(0, 3) if name in ARITY else st.integers(1, 1) | st.just(2))
        return f"{name}({', '.join(inner() for _ in range(count))})"
    if form == "compare":
        operators = list(COMPARE_TEXT)
    elif form == "logic":
        operators = ["and", "or"]
    else:
        operators = ["+", "-", "*", "/", "//", "%"]
    space = " " if form != "binary" else draw(st.sampled_from(["", " "]))
    return inner() + space + draw(st.sampled_from(operators)) + space + inner()


COMPARE_TEXT = ["<", "<=", ">", ">=", "==", "!="]
PARAMETER = st.one_of(st.integers(-100, 100), st.integers(-LARGEST, LARGEST))
FLOAT_PARAMETER = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    st.floats(-float(LARGEST), float(LARGEST), allow_nan=False, allow_infinity=False),
    PARAMETER,
)


@settings(max_examples=1500, deadline=None)
@given(expressions(INTEGERS, rich=True), PARAMETER, PARAMETER, PARAMETER)
def test_integer_expressions_are_pythons(text: str, a: int, b: int, c: int) -> None:
    agrees_with_python(text, {"a": a, "b": b, "c": c})


@settings(max_examples=1000, deadline=None)
@given(expressions(FLOATS, rich=False), FLOAT_PARAMETER, FLOAT_PARAMETER, FLOAT_PARAMETER)
def test_float_arithmetic_is_pythons(text: str, a: float, b: float, c: float) -> None:
    agrees_with_python(text, {"a": a, "b": b, "c": c})


@settings(max_examples=500, deadline=None)
@given(expressions(st.one_of(INTEGERS, FLOATS), rich=True), FLOAT_PARAMETER, PARAMETER)
def test_mixed_expressions_are_pythons(text: str, a: float, b: int) -> None:
    agrees_with_python(text, {"a": a, "b": b, "c": 3})


WORDS = [
    "$a", "$b", "1", "0", "2.5", "(", ")", ",", "+", "-", "*", "/", "//", "%", "<", "==",
    "and", "or", "not", "if", "else", "max", "min", "int", "make_divisible", "floor", "round",
]  # fmt: skip


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=10).map(" ".join))
def test_what_python_refuses_to_read_is_refused(text: str) -> None:
    """Random words, mostly not an expression: read as Python reads them, or refused."""
    agrees_with_python(text, {"a": 5, "b": 2})


# -- 4. the frameworks' code -----------------------------------------------------------------
@settings(max_examples=500, deadline=None)
@given(
    st.one_of(st.integers(-1000, 10**6), st.floats(0, 1e9, allow_nan=False)),
    st.integers(1, 128),
    st.none() | st.integers(1, 256),
)
def test_make_divisible_is_torchvisions(value: float, divisor: int, least: int | None) -> None:
    env = {"v": value, "d": divisor, "m": least}
    text = "make_divisible($v, $d)" if least is None else "make_divisible($v, $d, $m)"
    result = evaluate(text, env)
    wanted = reference_make_divisible(value, divisor, least)
    assert result == wanted and type(result) is type(wanted)


def round_filters(filters: int, width_coefficient: float, divisor: int = 8) -> int:
    """Keras' EfficientNet (keras.applications.efficientnet), as it is."""
    filters *= width_coefficient  # type: ignore[assignment]
    new_filters = max(divisor, int(filters + divisor / 2) // divisor * divisor)
    # Make sure that round down does not go down by more than 10%.
    if new_filters < 0.9 * filters:
        new_filters += divisor
    return int(new_filters)


def round_repeats(repeats: int, depth_coefficient: float) -> int:
    """Keras' EfficientNet, as it is."""
    return int(math.ceil(depth_coefficient * repeats))


ROUND_FILTERS = (
    "make_divisible($filters * $width, 8)",
    # and the same, spelt out as Keras writes it
    "max(8, int($filters * $width + 8 / 2) // 8 * 8) + 8 "
    "if max(8, int($filters * $width + 8 / 2) // 8 * 8) < 0.9 * ($filters * $width) "
    "else max(8, int($filters * $width + 8 / 2) // 8 * 8)",
)


@pytest.mark.parametrize("text", ROUND_FILTERS)
def test_efficientnet_widths_are_keras(text: str) -> None:
    for tenth in range(11):
        width = float(f"{1 + tenth // 10}.{tenth % 10}")  # 1.0, 1.1, ... 2.0, as written
        for filters in range(16, 1281):
            env = {"filters": filters, "width": width}
            assert evaluate(text, env) == round_filters(filters, width), (filters, width)


@settings(max_examples=300, deadline=None)
@given(st.integers(16, 1280), st.floats(1.0, 2.0))
def test_efficientnet_any_width_is_keras(filters: int, width: float) -> None:
    for text in ROUND_FILTERS:
        assert evaluate(text, {"filters": filters, "width": width}) == round_filters(filters, width)


def test_efficientnet_depths_are_keras() -> None:
    depths = [1.0, 1.1, 1.2, 1.4, 1.8, 2.2, 2.6, 3.1]  # B0 to B7
    for depth in depths:
        for repeats in range(1, 17):
            env = {"depth": depth, "repeats": repeats}
            assert evaluate("int(ceil($depth * $repeats))", env) == round_repeats(repeats, depth)
            assert evaluate("ceil($depth * $repeats)", env) == round_repeats(repeats, depth)


def test_keras_round_filters_of_the_brief() -> None:
    for width in (1.0, 1.1, 1.2, 1.4, 1.6, 1.8, 2.0):
        for c in range(1, 1281):
            wanted = int(c * width + 4) // 8 * 8
            assert evaluate("int($c * $width + 4) // 8 * 8", {"c": c, "width": width}) == wanted


# -- 5. cost ---------------------------------------------------------------------------------
def test_a_cached_expression_costs_microseconds() -> None:
    env = {"filters": 64, "width": 1.1, "se": True}
    text = "make_divisible($filters * $width, 8) * 4 if $se and $filters > 32 else $filters"
    evaluate(text, env)
    start = time.perf_counter()
    for _ in range(1000):
        evaluate(text, env)
    assert time.perf_counter() - start < 0.05  # 50 microseconds each, ten times what it takes


def test_the_longest_expression_costs_little() -> None:
    text = "max(1" + ", $a + 1 if $a > 0 and not $b else -$a" * 24 + ")"
    assert len(text) <= MAX_LENGTH
    start = time.perf_counter()
    assert evaluate(text, {"a": 3, "b": 0}) == 4
    assert time.perf_counter() - start < 0.1
