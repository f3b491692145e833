"""Bounded work: a small input never means a long wait or a large memory.

Measuring a model before it is expanded costs about the file's size (``repeat: 0`` measures
nothing, each block is measured once per set of the parameter values that change its size);
anything over ``MAX_ROWS`` rows or ``MAX_STEPS`` block uses and repeats is refused at once,
naming the construct. The expression language (``_expr``) bounds its text, its numbers, its
nesting and every value it computes. Substitution costs a shared structure's size, not its
expansion. The cases that could hang run the command line in a subprocess with a timeout.
"""

from __future__ import annotations

import ast
import functools
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convcalc import ConvCalcError, _layer, _model, _report, analyze
from convcalc._engine import RunState
from convcalc._errors import SpecError
from convcalc._expr import MAX_DEPTH, MAX_DIGITS, MAX_LENGTH, ExprError, evaluate
from convcalc._model import MAX_NESTING, MAX_STEPS, MAX_VALUE_DEPTH, Walker, read_blocks, substitute
from convcalc._report import LayerRow, Rows
from convcalc._settings import Settings
from convcalc._values import LARGEST


def run_model(tmp_path: Path, text: str, timeout: float = 10) -> tuple[int, Any, str, float]:
    """``convcalc model FILE --format json`` in a subprocess: (exit code, JSON or None, stderr,
    seconds)."""
    path = tmp_path / "model.yaml"
    path.write_text(text)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "convcalc", "model", str(path), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    seconds = time.perf_counter() - start
    data = json.loads(done.stdout) if done.returncode == 0 else None
    return done.returncode, data, done.stderr, seconds


def refused(tmp_path: Path, text: str, *fragments: str, seconds: float = 3.0) -> str:
    code, _, err, took = run_model(tmp_path, text)
    assert code == 2, err[:500]
    assert err.startswith("Error: ") and "Traceback" not in err, err[:500]
    for fragment in fragments:
        assert fragment in err, err[:500]
    assert took < seconds, took
    return err


T = TypeVar("T")


def rows(report: dict[str, Any]) -> int:
    layers = report["layers"]
    assert isinstance(layers, list)
    return len(layers)


def within(seconds: float, work: Callable[[], T]) -> T:
    start = time.perf_counter()
    result = work()
    assert time.perf_counter() - start < seconds
    return result


def doubling(count: int, bottom: str) -> str:
    """Blocks b0..b{count}, each using the next twice; the last is ``bottom``."""
    lines = ["blocks:"]
    lines += [f"  b{i}: [b{i + 1}, b{i + 1}]" for i in range(count)]
    lines.append(f"  b{count}: {bottom}")
    return "\n".join(lines) + "\n"


# -- 1. measuring follows the file, not the expansion ------------------------------------------
TWENTY_UNDER_REPEAT_0 = (
    "input: [4]\n" + doubling(20, "[relu]") + "layers:\n  - relu\n  - {repeat: 0, layers: [b0]}\n"
)


def test_twenty_doubling_blocks_under_repeat_0_are_one_relu(tmp_path: Path) -> None:
    # Before: 2**20 recursive measurements, 16 s of CPU. Now: nothing inside repeat 0.
    assert len(TWENTY_UNDER_REPEAT_0.splitlines()) == 26
    code, data, err, took = run_model(tmp_path, TWENTY_UNDER_REPEAT_0)
    assert code == 0, err
    assert [(row["name"], row["type"]) for row in data["layers"]] == [("relu", "relu")]
    assert err == ""
    assert took < 2.0


def test_twenty_doubling_blocks_in_use_are_refused_at_once(tmp_path: Path) -> None:
    # 2**20 rows from 2**21 block uses: the block uses cross their limit first.
    text = "input: [4]\n" + doubling(20, "[relu]") + "layers:\n  - relu\n  - b0\n"
    refused(tmp_path, text, "block uses and repeats", f"at most {MAX_STEPS:,}", "MAX_STEPS")


def test_doubling_blocks_over_a_million_rows_are_refused_at_once(tmp_path: Path) -> None:
    bottom = "[{repeat: 64, layers: [relu]}]"
    text = "input: [4]\n" + doubling(14, bottom) + "layers:\n  - relu\n  - b0\n"
    refused(tmp_path, text, "brings the model to 1,048,577 rows", "at most 1,000,000 rows")


def test_a_repeat_over_the_limit_names_itself_and_its_size(tmp_path: Path) -> None:
    text = "input: [4]\nlayers:\n  - relu\n  - relu\n  - {repeat: 1024, layers: [b]}\n"
    text += "blocks:\n  b: [{repeat: 1024, layers: [relu]}]\n"
    refused(tmp_path, text, "repeat at layer 3 would make 1,048,576 rows (1,024 times 1,024)")


def test_blocks_that_make_no_rows_still_count(tmp_path: Path) -> None:
    # 2**22 block uses with nothing at the bottom: no rows, but reading them would take minutes.
    text = "input: [4]\n" + doubling(22, "[{repeat: 0, layers: [relu]}]") + "layers: [b0, relu]\n"
    refused(tmp_path, text, "block uses and repeats", f"at most {MAX_STEPS:,}", "MAX_STEPS")


def test_a_huge_repeat_of_nothing_is_refused(tmp_path: Path) -> None:
    text = "input: [4]\nlayers:\n  - {repeat: 1000000000000000000, layers: "
    text += "[{repeat: 0, layers: [relu]}]}\n  - relu\n"
    refused(tmp_path, text, "repeat at layer 1", "1,000,000,000,000,000,001", "MAX_STEPS")


def test_unused_blocks_cost_nothing() -> None:
    blocks = {f"b{i}": [f"b{i + 1}", f"b{i + 1}"] for i in range(60)}
    blocks["b60"] = ["relu"]
    report = within(1.0, lambda: analyze({"input": [4], "blocks": blocks, "layers": ["relu"]}))
    assert rows(report.to_dict()) == 1


def test_shared_lists_of_layers_are_measured_once() -> None:
    # A Python mapping (or YAML aliases) reusing one list: 2**40 rows as a tree, 40 lists.
    layers: list[object] = ["relu"]
    for _ in range(40):
        step = {"residual": {"layers": layers}}
        layers = [step, step]
    spec = {"input": [4], "layers": layers}
    with pytest.raises(ConvCalcError, match="MAX_ROWS"):
        within(1.0, lambda: analyze(spec))


REPEATER = {
    "r": {"params": {"n": 1}, "layers": [{"repeat": "$n", "layers": ["relu"]}]},
    "two": {"params": {"m": 1}, "layers": [{"r": {"n": "$m * 2"}}]},
    "many": {"params": {"l": ["relu"]}, "layers": [{"residual": {"layers": "$l"}}]},
}


@pytest.fixture
def fifty_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_model, "MAX_ROWS", 50)


def rows_of(layers: list[object]) -> int:
    return rows(analyze({"input": [4], "blocks": REPEATER, "layers": layers}).to_dict())


@pytest.mark.usefixtures("fifty_rows")
@pytest.mark.parametrize(
    ("layers", "rows", "refusal"),
    [
        ([{"r": 25}, {"r": 25}], 50, ""),
        ([{"r": 25}, {"r": 26}], 0, "26 (in block 'r') brings the model to 51 rows"),
        ([{"r": 51}], 0, "would make 51 rows (51 times 1)"),
        ([{"two": 10}, {"two": 15}], 50, ""),
        ([{"two": 10}, {"two": 16}], 0, "it is part of block 'two' at layer 21"),
        ([{"r": 0}, {"two": 0}, {"r": 50}], 50, ""),
        ([{"repeat": 5, "layers": [{"r": 10}]}], 50, ""),
        ([{"repeat": 5, "layers": [{"two": 5}, "relu"]}], 0, "repeat at layer 1 would make 55"),
        ([{"many": [["relu"] * 20]}, {"many": [["relu"] * 28]}], 50, ""),
        ([{"many": [["relu"] * 20]}, {"many": [["relu"] * 29]}], 0, "brings the model to 51"),
        (["relu", "relu", {"repeat": 10, "layers": ["relu"] * 6}], 0, "(10 times 6)"),
    ],
)
def test_sizes_follow_block_arguments(layers: list[object], rows: int, refusal: str) -> None:
    # Each block's size is remembered per value of the parameters that shape it (n, m and the
    # list l), so uses with other values are measured anew, and lists compare by value.
    if refusal:
        with pytest.raises(ConvCalcError, match=r"at most 50 rows") as caught:
            rows_of(layers)
        assert refusal in str(caught.value)
    else:
        assert rows_of(layers) == rows


@pytest.mark.usefixtures("fifty_rows")
def test_reading_counts_too_when_measuring_gives_up(monkeypatch: pytest.MonkeyPatch) -> None:
    def give_up(*args: object) -> tuple[int, int]:
        raise _model._Stop

    monkeypatch.setattr(Walker, "_measure", give_up)
    with pytest.raises(ConvCalcError, match="more than 50 rows"):
        rows_of([{"repeat": 100, "layers": ["relu"]}])
    monkeypatch.setattr(_model, "MAX_STEPS", 10)
    with pytest.raises(ConvCalcError, match="more than 10 block uses"):
        rows_of([{"repeat": 11, "layers": [{"r": 0}]}])


# Random models of blocks, repeats and constructs: measuring must give what reading builds.
@functools.cache
def _items(blocks: int, depth: int) -> st.SearchStrategy[list[object]]:
    leaf = st.sampled_from(["relu", {"dense": "$m * 0 + 4"}, {"type": "relu"}, {"relu": None}])
    options: list[st.SearchStrategy[object]] = [leaf]
    if depth < 3:
        inner = st.deferred(lambda: _items(blocks, depth + 1))
        count = st.sampled_from([0, 1, 2, "$n", "$n - 1", "$m // 2", "$n * $m // 3"])
        options.append(st.builds(lambda c, layers: {"repeat": c, "layers": layers}, count, inner))
        options.append(
            st.builds(
                lambda a, b: {"residual": {"layers": a, "shortcut": b}}, inner, st.just([]) | inner
            )
        )
        options.append(
            st.builds(lambda a, b: {"branches": {"merge": "add", "paths": [a, b]}}, inner, inner)
        )
    if blocks:
        arg = st.sampled_from([0, 1, 2, 3, "$n", "$m", "$n + $m", "$m * 2"])
        options.append(
            st.builds(
                lambda b, n, m: {f"b{b}": {"n": n, "m": m}},
                st.integers(0, blocks - 1),
                arg,
                arg,
            )
        )
        options.append(st.integers(0, blocks - 1).map(lambda b: f"b{b}"))
    return st.lists(st.one_of(options), min_size=1, max_size=3)


@st.composite
def models(draw: st.DrawFn) -> tuple[dict[str, object], list[object]]:
    count = draw(st.integers(0, 3))
    blocks: dict[str, object] = {}
    for number in reversed(range(count)):  # each block uses only later ones: no cycles
        layers = _shift(draw(_items(count - number - 1, 1)), number + 1)
        blocks[f"b{number}"] = {"params": {"n": 1, "m": 2}, "layers": layers}
    top = _constants(draw(_items(count, 0)))
    assert isinstance(top, list)
    return blocks, top


def _shift(value: object, by: int) -> object:
    """Block names b{i} drawn for the blocks after ``by - 1`` become b{i + by}."""
    if isinstance(value, str) and value.startswith("b") and value[1:].isdigit():
        return f"b{int(value[1:]) + by}"
    if isinstance(value, list):
        return [_shift(item, by) for item in value]
    if isinstance(value, dict):
        return {_shift(k, by) if isinstance(k, str) else k: _shift(v, by) for k, v in value.items()}
    return value


def _constants(value: object) -> object:
    """At the top there are no parameters: $n is 2 and $m is 3 there."""
    if isinstance(value, str) and "$" in value:
        return eval(value.replace("$n", "2").replace("$m", "3"))  # generated above, safe
    if isinstance(value, list):
        return [_constants(item) for item in value]
    if isinstance(value, dict):
        return {k: _constants(v) for k, v in value.items()}
    return value


def _walked(blocks: dict[str, object], layers: list[object]) -> int:
    """Rows a walk of the model reports."""
    return len(analyze({"input": [4], "blocks": blocks, "layers": layers}).layers)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(models())
def test_measuring_agrees_with_reading(model: tuple[dict[str, object], list[object]]) -> None:
    blocks, layers = model
    try:
        walked = _walked(blocks, layers)
    except SpecError:
        return  # a negative repeat count, say: reading refuses it, measuring need not
    walker = Walker(read_blocks(blocks), 0, RunState(Settings(), (4,)))
    assert walker.measure(layers) == walked


# -- 2. the expression language ------------------------------------------------------------------
class TooLarge(Exception):
    pass


def reference(text: str, env: dict[str, int]) -> int:
    """Python's own parse and integer arithmetic, with the 2**62 bound on every value."""

    def value(node: ast.AST) -> int:
        if isinstance(node, ast.Expression):
            return value(node.body)
        if isinstance(node, ast.Constant) and type(node.value) is int:
            result = node.value
        elif isinstance(node, ast.Name):
            result = env[node.id]
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            result = -value(node.operand)
        elif isinstance(node, ast.BinOp):
            left, right = value(node.left), value(node.right)
            if isinstance(node.op, ast.Add):
                result = left + right
            elif isinstance(node.op, ast.Sub):
                result = left - right
            elif isinstance(node.op, ast.Mult):
                result = left * right
            else:
                assert isinstance(node.op, ast.FloorDiv)
                result = left // right  # ZeroDivisionError as Python raises it
        else:
            raise AssertionError(ast.dump(node))
        if abs(result) > LARGEST:
            raise TooLarge
        return result

    tree = ast.parse(text.replace("$", ""), mode="eval")
    numbers = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)]
    if any(isinstance(number, int) and number > LARGEST for number in numbers):
        raise TooLarge  # a number written too large is refused before anything is worked out
    return value(tree)


NUMBERS = st.one_of(
    st.integers(0, 99),
    st.sampled_from([2**31, LARGEST - 1, LARGEST, LARGEST + 1, 10**19]),
)


@st.composite
def expressions(draw: st.DrawFn, depth: int = 0) -> str:
    if depth >= 4 or draw(st.integers(0, 2)) == 0:
        return draw(st.one_of(NUMBERS.map(str), st.sampled_from(["$a", "$b", "$c"])))
    form = draw(st.sampled_from(["binary", "binary", "minus", "parentheses"]))
    if form == "minus":
        return "-" + draw(expressions(depth + 1))
    if form == "parentheses":
        return "(" + draw(expressions(depth + 1)) + ")"
    space = draw(st.sampled_from(["", " "]))
    operator = draw(st.sampled_from(["+", "-", "*", "//"]))
    return draw(expressions(depth + 1)) + space + operator + space + draw(expressions(depth + 1))


PARAMETER = st.one_of(st.integers(-100, 100), st.integers(-LARGEST, LARGEST))


@settings(max_examples=1000, deadline=None)
@given(expressions(), PARAMETER, PARAMETER, PARAMETER)
def test_arithmetic_is_pythons(text: str, a: int, b: int, c: int) -> None:
    env = {"a": a, "b": b, "c": c}
    try:
        expected: int | type[Exception] = reference(text, env)
    except ZeroDivisionError:
        expected = ZeroDivisionError
    except TooLarge:
        expected = TooLarge
    if isinstance(expected, int):
        assert evaluate(text, env) == expected == eval(text.replace("$", ""), {}, env)
        return
    with pytest.raises(ExprError) as caught:
        evaluate(text, env)
    wanted = "divides by zero" if expected is ZeroDivisionError else "far too large"
    assert wanted in str(caught.value)


@pytest.mark.parametrize(
    ("text", "env", "fragment"),
    [
        ("$f // 0", {"f": 8}, "divides by zero (8 // 0)"),
        ("$f // ($f - 8)", {"f": 8}, "divides by zero"),
        ("$a * $a", {"a": 2**31 + 1}, "far too large"),
        ("*".join(["$a"] * 300), {"a": 2**40}, "far too large"),
        ("$a", {"a": 10**5000}, "a number of about 5,001 digits, far too large"),
        ("$a + 1", {"a": -(10**5000)}, "a number of about 5,001 digits, far too large"),
        ("$l + 1", {"l": [1, 2]}, "$l is [1, 2], not a whole number"),
        ("$l * 2", {"l": list(range(10**5))}, "a list of 100,000 items"),
        ("$b * 2", {"b": True}, "not a whole number"),
        ("1" * (MAX_DIGITS + 1), {}, f"has {MAX_DIGITS + 1} digits"),
        ("9" * MAX_DIGITS, {}, "far too large"),
        ("(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1), {}, "nests too deeply"),
        ("-" * (MAX_DEPTH + 1) + "1", {}, "nests too deeply"),
        ("(" * 3000 + "$f" + ")" * 3000, {"f": 1}, "nests too deeply"),
        ("1" + "+1" * MAX_LENGTH, {}, f"at most {MAX_LENGTH:,}"),
        ("$f + 1" + " " * 300_000, {"f": 1}, "300,006 characters"),
        ("$f ** 2", {"f": 2}, "unexpected '*' at character 5"),
        ("$f ^ 2", {"f": 2}, "unexpected '^ 2'"),
        ("__import__('os').system('true')", {}, "not integer arithmetic"),
        ("$f +", {"f": 2}, "ends too early"),
        ("($f", {"f": 2}, "unclosed '('"),
        ("$g", {"f": 2}, "$g is not a parameter of this block (its parameters: $f)"),
    ],
)
def test_expression_limits_and_errors(text: str, env: dict[str, object], fragment: str) -> None:
    with pytest.raises(ExprError) as caught:
        within(0.1, lambda: evaluate(text, env))
    assert fragment in str(caught.value)
    assert len(str(caught.value)) < 400


def test_values_at_the_limits_are_accepted() -> None:
    assert evaluate("$a * $a", {"a": 2**31}) == LARGEST
    assert evaluate("-$a * $a", {"a": 2**31}) == -LARGEST
    assert evaluate("(" * MAX_DEPTH + "7" + ")" * MAX_DEPTH, {}) == 7
    assert evaluate("-" * MAX_DEPTH + "7", {}) == 7
    assert evaluate("0" * (MAX_DIGITS - 1) + "7", {}) == 7
    long = "1" + "+1" * ((MAX_LENGTH - 1) // 2)
    assert len(long) <= MAX_LENGTH and evaluate(long, {}) == (MAX_LENGTH + 1) // 2
    assert evaluate(" $l ", {"l": [1, 2]}) == [1, 2]  # a lone $name is the value as it is


def test_forty_blocks_squaring_a_value_are_refused(tmp_path: Path) -> None:
    use = "{{s{}: {{a: $a * $a}}}}"
    blocks = [f"  s{i}: {{params: {{a: 2}}, layers: [{use.format(i + 1)}]}}" for i in range(40)]
    blocks.append("  s40: {params: {a: 2}, layers: [{dense: $a}]}")
    text = "input: [4]\nblocks:\n" + "\n".join(blocks) + "\nlayers: [{s0: 3}]\n"
    refused(tmp_path, text, "far too large", "'$a * $a'", "in block 's")


def test_a_300_kb_expression_is_refused_at_once(tmp_path: Path) -> None:
    text = "input: [4]\nblocks:\n  b: {params: {f: 2}, layers: [{dense: '$f" + " + 1" * 75_000
    text += "'}]}\nlayers: [b]\n"
    refused(tmp_path, text, "too long", "300,002 characters", "in block 'b'")


def test_deep_parentheses_in_a_file_are_refused(tmp_path: Path) -> None:
    text = "input: [4]\nblocks:\n  b: {params: {f: 2}, layers: [{dense: '"
    text += "(" * 3000 + "$f" + ")" * 3000 + "'}]}\nlayers: [b]\n"
    refused(tmp_path, text, "nests too deeply")


# -- 3. substitution ---------------------------------------------------------------------------
def test_substitution_of_a_shared_structure_costs_its_size() -> None:
    value: object = ["$a"]
    for _ in range(60):  # 2**60 strings as a tree
        value = [value, value]
    result = within(0.5, lambda: substitute(value, {"a": 1}, "here"))
    assert isinstance(result, list) and result[0] is result[1]
    inner = result
    for _ in range(60):
        inner = inner[0]
    assert inner == [1]


def test_deeply_nested_values_are_refused_without_recursion_error() -> None:
    value: object = 1
    for _ in range(20_000):
        value = [value]
    with pytest.raises(SpecError, match=f"more than {MAX_VALUE_DEPTH} deep"):
        substitute(value, {}, "layer 1", "units")
    with pytest.raises(ConvCalcError, match="too deeply"):
        analyze({"input": [4], "layers": [{"dense": {"units": value}}]})


def test_nesting_at_the_limit_is_read() -> None:
    layers: list[object] = ["relu"]
    for _ in range(MAX_NESTING):
        layers = [{"residual": {"layers": layers}}]
    report = within(2.0, lambda: analyze({"input": [4], "layers": layers}))
    assert rows(report.to_dict()) == MAX_NESTING + 1


def counting(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> list[object]:
    """Every call of ``module.name`` from now on, recorded."""
    calls: list[object] = []
    original = getattr(module, name)

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_a_block_used_many_times_is_checked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Equal arguments share one parameter mapping: each layer of the block is substituted and
    # checked once, and its rows share the checked values.
    blocks = {
        "basic": {
            "params": {"filters": 8},
            "layers": [{"conv2d": {"filters": "$filters", "kernel": 1}}, "batchnorm", "relu"],
        }
    }
    layers = [{"repeat": 10_000, "layers": [{"basic": 16}]}, {"basic": 32}]
    checked = counting(monkeypatch, _layer, "read_values")
    spec = {"input": [8, 8, 4], "blocks": blocks, "layers": layers}
    report = within(3.0, lambda: analyze(spec))
    assert len(report.layers) == 30_003
    assert report.layers[-3].name == "basic_10000.conv2d"
    assert report.layers[-3].output_shape == (8, 8, 32)
    assert len(checked) <= 6  # conv2d, batchnorm and relu, for each set of arguments


def test_repeated_rows_share_everything_but_their_name_and_number(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A rank-free spelling keeps its parameters as written: one reading for all its rows.
    layers = [{"repeat": 1_000, "layers": [{"conv": {"filters": 4, "kernel": 1}}]}]
    checked = counting(monkeypatch, _layer, "read_values")
    report = analyze({"input": [8, 8, 4], "layers": layers})
    first, last = report.layers[0], report.layers[-1]
    assert (first.name, last.name, last.number) == ("conv2d", "conv2d_999", 1_000)
    assert len(checked) == 1


# -- 5. rows in bounded memory ---------------------------------------------------------------------
def _row(number: int) -> LayerRow:
    return LayerRow(number, f"relu_{number}", "relu", (4,), (4,), 0, 0, 0, None)


def test_rows_spill_past_what_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_report, "KEPT", 5)
    monkeypatch.setattr(_report, "CHUNK", 3)
    rows = Rows()
    for number in range(1, 13):
        rows.append(_row(number))
    assert rows.spilled and len(rows) == 12
    expected = tuple(_row(number) for number in range(1, 13))
    assert tuple(rows) == expected and tuple(rows) == expected  # read back as often as needed
    assert [rows[i].number for i in (0, 4, 5, 7, 8, 10, 11, -1, -12)] == [
        1,
        5,
        6,
        8,
        9,
        11,
        12,
        12,
        1,
    ]
    assert [row.number for row in rows[3:9:2]] == [4, 6, 8]
    assert rows == expected and rows.frozen() is rows
    pairs = [(a.number, b.number) for a, b in zip(rows, reversed(list(rows)), strict=True)]
    assert pairs[0] == (1, 12) and pairs[-1] == (12, 1)  # iterations may interleave
    with pytest.raises(IndexError):
        rows[12]


def test_few_rows_stay_a_tuple() -> None:
    rows = Rows()
    rows.append(_row(1))
    assert not rows.spilled and rows.frozen() == (_row(1),)
    assert isinstance(analyze({"input": [4], "layers": ["relu"]}).layers, tuple)


_PEAK = """
import resource, subprocess, sys
spec = sys.argv[1]
with open(spec + ".yaml", "w") as f:
    f.write("input: [8]\\nlayers:\\n  - repeat: %s\\n" % sys.argv[2])
    f.write("    layers: [relu, {dense: 8}]\\n")
out = subprocess.run(
    [sys.executable, "-m", "convcalc", "model", spec + ".yaml", "--format", sys.argv[3]],
    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
)
assert out.returncode == 0, out.stderr
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="peak memory is read as Linux reports it")
@pytest.mark.parametrize("output", ["json", "table"])
def test_a_large_model_runs_in_bounded_memory(output: str, tmp_path: Path) -> None:
    # 120,000 rows against 30,000: held in memory, rows cost some 500 bytes each (45 MB more);
    # written out past the first 20,000, the peak barely moves.
    def peak(uses: int) -> int:
        found = subprocess.run(
            [sys.executable, "-c", _PEAK, str(tmp_path / f"m{uses}"), str(uses), output],
            capture_output=True,
            text=True,
            check=True,
        )
        return int(found.stdout) // 1024  # MiB

    small, large = peak(15_000), peak(60_000)
    assert large - small < 12, (small, large)


_PEAK_INDEXED = """
import resource, subprocess, sys
path = sys.argv[1] + ".yaml"
with open(path, "w") as f:
    f.write("input: [8]\\nlayers:\\n  - repeat: %s\\n    index: j\\n" % sys.argv[2])
    f.write("    layers: [{dense: $j % 5 + 8}]\\n")
out = subprocess.run(
    [sys.executable, "-m", "convcalc", "model", path, "--format", "json"],
    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
)
assert out.returncode == 0, out.stderr
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="peak memory is read as Linux reports it")
def test_a_repeat_whose_copies_differ_runs_in_bounded_memory(tmp_path: Path) -> None:
    # every copy reads its counter, so none shares another's work: what was remembered for
    # sharing is forgotten as it piles up (40,000 against 160,000 copies)
    def peak(copies: int) -> int:
        found = subprocess.run(
            [sys.executable, "-c", _PEAK_INDEXED, str(tmp_path / f"i{copies}"), str(copies)],
            capture_output=True,
            text=True,
            check=True,
        )
        return int(found.stdout) // 1024

    small, large = peak(40_000), peak(160_000)
    assert large - small < 12, (small, large)
