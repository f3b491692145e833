"""Hostile and surprising YAML: every input is read as a person means it, or refused.

A refusal is an InputError whose message names the source, the line and the column, quotes at
most 60 characters of what was written (saying how much was cut) and says what to do; never a
traceback, a crash, a hang or unbounded memory.

Expected values come from the YAML specification (the 1.2 core schema's meaning of a plain
scalar, the 1.1 surprises it drops, the merge key's rules) or from counting characters by hand;
none is copied from convcalc's output. Columns are counted from 1, as the messages count them.
Inputs that could hang or exhaust memory if a guard broke run in a subprocess, with a timeout
and a limit on its address space, so a regression fails one test instead of the whole run.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convcalc._errors import InputError
from convcalc._input._yaml import parse_yaml, read_model_source
from convcalc._input._zoo import load_zoo, zoo_text

WHERE = "net.yaml"
SAFE_LOADER = "model files are read with a safe loader that builds only plain values"
PER_AXIS = "write a per-axis value as (3, 3), [3, 3] or 3x3"


def load(text: str) -> Any:
    return parse_yaml(text, WHERE)


def refusal(text: str) -> str:
    with pytest.raises(InputError) as caught:
        load(text)
    return str(caught.value)


def value_of(written: str) -> Any:
    """What ``value: <written>`` holds."""
    document = load(f"value: {written}\n")
    assert isinstance(document, dict) and list(document) == ["value"]
    return document["value"]


# -- 1. plain scalars: the 1.2 core schema, decimal only -----------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "0x3",  # 1.1: hexadecimal 3
        "0o17",  # 1.1 (and 1.2 core): octal
        "0b11",  # 1.1: binary 3
        "1:30",  # 1.1: sexagesimal 90
        "190:20:30.15",  # 1.1: sexagesimal float
        "1_000",  # 1.1: underscores in numbers
        "1_000.5",
        "yes",  # 1.1: booleans y/yes/on and n/no/off
        "no",
        "on",
        "off",
        "Yes",
        "ON",
        "y",
        "n",
        "2001-12-14",  # 1.1: timestamp
        "2001-12-14 21:59:43.10 -5",
        "=",  # 1.1: the value key
        "1x7",  # the layer code's per-axis spelling
        "3x0",
        "tRUE",  # not one of the six spellings of a boolean
        "NuLL",
        ".",
        "0.1.2",
        "1e",
        "e3",
        ".e3",
        "+",
        ".Inf.",
        "nan",
        "inf",
    ],
)
def test_yaml_1_1_surprises_stay_text(written: str) -> None:
    assert value_of(written) == written


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("17", 17),
        ("017", 17),  # decimal, not 1.1's octal 15
        ("-0", 0),
        ("+5", 5),
        ("-12", -12),
        ("1.5", 1.5),
        ("1.", 1.0),
        (".5", 0.5),
        ("-.5", -0.5),
        ("1e3", 1000.0),  # 1.2 reads an exponent without a dot; 1.1 left it text
        ("1E-3", 0.001),
        ("+2.5e+2", 250.0),
        (".inf", math.inf),
        ("-.Inf", -math.inf),
        ("+.INF", math.inf),
        ("~", None),
        ("null", None),
        ("Null", None),
        ("NULL", None),
        ("", None),
        ("true", True),
        ("True", True),
        ("TRUE", True),
        ("false", False),
        ("False", False),
        ("FALSE", False),
    ],
)
def test_numbers_booleans_and_nulls(written: str, expected: object) -> None:
    found = value_of(written)
    assert found == expected
    assert type(found) is type(expected)  # 1.0 is not 1, True is not 1


@pytest.mark.parametrize("written", [".nan", ".NaN", ".NAN"])
def test_not_a_number(written: str) -> None:
    found = value_of(written)
    assert isinstance(found, float) and math.isnan(found)


@pytest.mark.parametrize(
    ("written", "expected"),
    [('"17"', "17"), ("'true'", "true"), ('"~"', "~"), ("''", ""), ('"0x3"', "0x3")],
)
def test_quoted_scalars_are_text(written: str, expected: str) -> None:
    assert value_of(written) == expected


def test_keys_resolve_like_values() -> None:
    assert load("0x3: a\n1: b\nyes: c\n~: d\n") == {"0x3": "a", 1: "b", "yes": "c", None: "d"}


def test_pyyaml_itself_is_left_as_it_was() -> None:
    # the reader's resolvers live on its own Loader subclass: PyYAML's classes still read 1.1
    load("a: yes\n")
    assert yaml.safe_load("a: yes\nb: 0x3\n") == {"a": True, "b": 3}
    assert yaml.load("a: yes\n", Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) == {
        "a": True
    }


def test_padding_0x3_reaches_the_layer_as_text() -> None:
    assert load("layers:\n  - zeropadding2d: {padding: 0x3}\n") == {
        "layers": [{"zeropadding2d": {"padding": "0x3"}}]
    }


# -- merge keys ---------------------------------------------------------------------------------


def test_merge_keys_the_mappings_own_keys_win_then_the_first_source() -> None:
    # The merge key's rules (yaml.org/type/merge): keys in the mapping itself override merged
    # ones, and of a list of sources, earlier ones override later ones.
    text = "a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc:\n  <<: [*a, *b]\n  z: 3\n"
    assert load(text)["c"] == {"x": 1, "y": 1, "z": 3}


def test_merge_of_one_mapping_and_of_an_inline_one() -> None:
    text = "a: &a {x: 1}\nb: {<<: *a, y: 2}\nc: {<<: {x: 5}, x: 6}\n"
    assert load(text) == {"a": {"x": 1}, "b": {"x": 1, "y": 2}, "c": {"x": 6}}


def test_merge_key_quoted_or_as_a_value_is_text() -> None:
    assert load("'<<': 1\na: <<\n") == {"<<": 1, "a": "<<"}


@pytest.mark.parametrize(
    ("text", "column", "what"),
    [
        ("<<: 1\n", 5, "the value '1'"),
        ("a: &a {x: 1}\nb: {<<: [*a, 2]}\n", 9, "a list"),  # '[' of line 2 at column 9
        ("<<: [1, 2]\n", 5, "a list"),
        ("<<: text\n", 5, "the text 'text'"),
    ],
)
def test_merge_of_a_non_mapping_is_refused(text: str, column: int, what: str) -> None:
    line = text.count("\n")
    assert refusal(text) == (
        f"{WHERE}, line {line}, column {column}: '<<' merges a mapping (<<: *name) or a list "
        f"of mappings (<<: [*a, *b]) into this one, not {what}"
    )


# -- 2. explicit tags -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("!!str 12", "12"),
        ("!!str true", "true"),
        ("!!str (3", "(3"),  # tagged text is taken as written
        ("!!int 12", 12),
        ('!!int "12"', 12),
        ("!!int -7", -7),
        ("!!float 3", 3.0),
        ("!!float 0.5", 0.5),
        ("!!float -.inf", -math.inf),
        ("!!bool false", False),
        ("!!bool TRUE", True),
        ("!!null ''", None),
        ("!!null ~", None),
        ("!!null", None),
        ("!!seq [1, 2]", [1, 2]),
        ("!!map {a: 1}", {"a": 1}),
        ("! 12", "12"),  # the non-specific tag: text
        ("!<tag:yaml.org,2002:str> 12", "12"),
        ("!!str", ""),
    ],
)
def test_allowed_tags(written: str, expected: object) -> None:
    found = value_of(written)
    assert found == expected
    assert type(found) is type(expected)


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("!!bool maybe", "!!bool needs true or false, not 'maybe'"),
        ("!!bool yes", "!!bool needs true or false, not 'yes'"),
        ("!!int ''", "!!int needs a whole number in decimal digits, such as 32, not an empty"),
        ("!!int 0x", "!!int needs a whole number in decimal digits, such as 32, not '0x'"),
        ("!!int 0x3", "!!int needs a whole number in decimal digits, such as 32, not '0x3'"),
        ("!!int 1_000", "!!int needs a whole number in decimal digits, such as 32, not '1_000'"),
        ("!!int 1.5", "!!int needs a whole number in decimal digits, such as 32, not '1.5'"),
        ("!!int 1:30", "!!int needs a whole number in decimal digits, such as 32, not '1:30'"),
        ("!!float _", "!!float needs a decimal number, such as 0.5, 1e-3 or .inf, not '_'"),
        ("!!float ''", "!!float needs a decimal number, such as 0.5, 1e-3 or .inf, not an empty"),
        ("!!float 1_0.5", "!!float needs a decimal number, such as 0.5, 1e-3 or .inf, not '1_0.5'"),
        ("!!null x", "!!null needs an empty value, ~ or null, not 'x'"),
        ("!!map [1]", "the tag !!map needs a mapping, not a list; remove the tag"),
        ("!!map 1", "the tag !!map needs a mapping, not a single value; remove the tag"),
        ("!!seq {a: 1}", "the tag !!seq needs a list, not a mapping; remove the tag"),
        ("!!seq x", "the tag !!seq needs a list, not a single value; remove the tag"),
        ("!!str [1]", "the tag !!str needs a single value, not a list; remove the tag"),
        ("!!int {a: 1}", "the tag !!int needs a single value, not a mapping; remove the tag"),
        ("!!null []", "the tag !!null needs a single value, not a list; remove the tag"),
    ],
)
def test_a_tag_with_a_value_it_cannot_have(written: str, message: str) -> None:
    # the node, its tag first, starts after "value: ": column 8
    assert refusal(f"value: {written}\n").startswith(f"{WHERE}, line 1, column 8: {message}")


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("!!timestamp foo", "!!timestamp"),
        ("!!timestamp 2001-12-14", "!!timestamp"),
        ("!!binary aGk=", "!!binary"),
        ("!!set {a}", "!!set"),
        ("!!omap [a: 1]", "!!omap"),
        ("!!pairs [a: 1]", "!!pairs"),
        ("!!merge x", "!!merge"),
        ("!!value x", "!!value"),
        ("!!python/name:os.system x", "!!python/name:os.system"),
        ("!!python/tuple [1, 2]", "!!python/tuple"),
        ("!!python/object/new:os.system [x]", "!!python/object/new:os.system"),
        ("!foo x", "!foo"),
        ("!foo [1]", "!foo"),
        ("!<tag:example.com,2000:x> 1", "tag:example.com,2000:x"),
    ],
)
def test_any_other_tag_is_not_allowed(written: str, shown: str) -> None:
    assert refusal(f"value: {written}\n") == (
        f"{WHERE}, line 1, column 8: the tag {shown} is not allowed; {SAFE_LOADER} "
        "(mappings, lists, numbers, text)"
    )


def test_a_long_tag_is_cut_in_the_message() -> None:
    message = refusal("value: !" + "a" * 200 + " x\n")
    assert "the tag '!" + "a" * 59 + "...' (the first 60 of 201 characters) is not" in message
    assert "a" * 61 not in message


def test_no_tag_runs_code(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    for tag in ("python/object/apply:os.system", "python/object/new:os.system"):
        with pytest.raises(InputError, match="is not allowed"):
            load(f'value: !!{tag} ["touch {marker}"]\n')
    with pytest.raises(InputError, match="is not allowed"):
        load(f"value: !!python/object/apply:builtins.open [{marker}, w]\n")
    assert not marker.exists()


def test_an_undefined_tag_handle_is_a_syntax_error() -> None:
    assert refusal("value: !x!y z\n").startswith(f"{WHERE}, line 1, column 8: ")


# -- 3. numbers past any size in a network --------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("9" * 30, 10**30 - 1),  # 30 digits: the limit itself
        ("-" + "9" * 30, -(10**30 - 1)),  # the sign is not a digit
        ("+" + "1" * 30, int("1" * 30)),
        ("1.7e308", 1.7e308),  # below the largest double, about 1.797e308
        ("1e-400", 0.0),  # smaller than the smallest double: zero
        ("!!int " + "9" * 30, 10**30 - 1),
    ],
)
def test_numbers_up_to_the_limits(written: str, expected: object) -> None:
    assert value_of(written) == expected


@pytest.mark.parametrize("digits", [31, 400, 4_301, 100_000])
def test_an_integer_with_too_many_digits(digits: int) -> None:
    # 4,301 digits is past Python's own limit on int(); the message must be ours, not Python's
    written = "1" + "0" * (digits - 1)
    message = refusal(f"value: {written}\n")
    shown = (
        f"'{written}'"
        if digits <= 60
        else (f"'{written[:60]}...' (the first 60 of {digits:,} characters)")
    )
    assert message == (
        f"{WHERE}, line 1, column 8: {shown}: a number with {digits:,} digits is far larger "
        "than any size in a network (limit 30 digits); quote it if it is a name"
    )


def test_a_long_integer_is_refused_with_an_explicit_tag_too() -> None:
    assert "a number with 31 digits" in refusal("value: !!int " + "7" * 31 + "\n")


def test_quoted_digits_are_text() -> None:
    assert value_of('"' + "9" * 5000 + '"') == "9" * 5000


@pytest.mark.parametrize(
    "written",
    ["1e400", "-1e400", "1.8e308", "9" * 400 + ".5", "." + "9" * 10 + "e999", "!!float 1e400"],
)
def test_a_float_that_overflows(written: str) -> None:
    # the largest double is about 1.797e308: each of these is past it, so float() gives inf
    message = refusal(f"value: {written}\n")
    assert message.startswith(f"{WHERE}, line 1, column 8: '")
    assert (
        "a number this large (past about 1.8e308, where floats end) is far larger than any "
        "size in a network; quote it if it is a name" in message
    )


def test_python_int_limit_does_not_leak_through_the_cli(tmp_path: Path) -> None:
    path = tmp_path / "net.yaml"
    path.write_text("input: [4]\nlayers:\n  - dense: " + "9" * 5000 + "\n", encoding="utf-8")
    done = run_model(str(path))
    assert_refused(done)
    assert "a number with 5,000 digits" in done.stderr
    assert "Exceeds the limit" not in done.stderr


# -- 4. tuples written the frameworks' way ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("layers:\n  - conv2d: [32, (3, 3)]\n", {"layers": [{"conv2d": [32, "(3, 3)"]}]}),
        ("c: {filters: 32, kernel: (3, 3)}\n", {"c": {"filters": 32, "kernel": "(3, 3)"}}),
        ("c: {kernel: (3, 3), stride: 2}\n", {"c": {"kernel": "(3, 3)", "stride": 2}}),
        ("c: [((1, 1), (2, 2))]\n", {"c": ["((1, 1), (2, 2))"]}),
        (
            "c: {padding: ((1, 1), (2, 2)), filters: 8}\n",
            {"c": {"padding": "((1, 1), (2, 2))", "filters": 8}},
        ),
        ("c: [(3,3)]\n", {"c": ["(3, 3)"]}),
        ("c: [(1, 2, 3), 4]\n", {"c": ["(1, 2, 3)", 4]}),
        ("c: [32,\n    (3,\n     3)]\n", {"c": [32, "(3, 3)"]}),
        ("c: [f(x), g(y, z)]\n", {"c": ["f(x)", "g(y, z)"]}),
        ("c: [&k (3, 3), *k]\n", {"c": ["(3, 3)", "(3, 3)"]}),
        ("c: [[(1, 2)], {k: (3, 4)}]\n", {"c": [["(1, 2)"], {"k": "(3, 4)"}]}),
        # block style: one scalar, already whole
        ("kernel: (3, 3)\n", {"kernel": "(3, 3)"}),
        ("kernel: ((1, 1), (2, 2))\n", {"kernel": "((1, 1), (2, 2))"}),
        ("kernel: ([3, 3], 2)\n", {"kernel": "([3, 3], 2)"}),
        ("- (3, 3)\n", ["(3, 3)"]),
        # a list stays a list
        ("kernel: [3, 3]\n", {"kernel": [3, 3]}),
        # quoted scalars are left alone
        ("c: ['(3', '3)']\n", {"c": ["(3", "3)"]}),
        ('kernel: "(3"\n', {"kernel": "(3"}),
        ("name: conv(1)\n", {"name": "conv(1)"}),
    ],
)
def test_tuples_are_read_whole(text: str, expected: object) -> None:
    assert load(text) == expected


@pytest.mark.parametrize(
    ("text", "line", "column", "shown", "what"),
    [
        ("kernel: (3\n", 1, 9, "'(3'", "parentheses"),
        ("kernel: 3)\n", 1, 9, "'3)'", "parentheses"),
        ("kernel: (3, 3\n", 1, 9, "'(3, 3'", "parentheses"),
        ("name: a)(b\n", 1, 7, "'a)(b'", "parentheses"),  # closes before it opens
        ("name: conv[1\n", 1, 7, "'conv[1'", "brackets"),
        ("name: conv(1]\n", 1, 7, "'conv(1]'", "parentheses"),  # the wrong closing bracket
        ("c: [32, (3, 3]\n", 1, 9, "'(3, 3'", "parentheses"),  # "c: [32, " is 8 characters
        ("c: [32, (3, 3))]\n", 1, 9, "'(3, 3))'", "parentheses"),
        ("c: {kernel: (3, 3}\n", 1, 13, "'(3, 3'", "parentheses"),  # "c: {kernel: " is 12
        ("c: {kernel: (3, 3): 5}\n", 1, 13, "'(3'", "parentheses"),  # '3)' has a value
        ('c: [(3, "3)"]\n', 1, 5, "'(3'", "parentheses"),  # a quoted piece does not continue
        ("c: [(3, [3])]\n", 1, 5, "'(3'", "parentheses"),
        ("c: [(3, *a, 3)]\n", 1, 5, "'(3'", "parentheses"),
        ("c: [(3, !!int 3)]\n", 1, 5, "'(3'", "parentheses"),
        ("c: [(3, &a 3)]\n", 1, 5, "'(3'", "parentheses"),
        ("c: {(3, 3): x}\n", 1, 5, "'(3'", "parentheses"),  # a key is not joined
        ("c: [k: (3, 3)]\n", 1, 8, "'(3'", "parentheses"),  # a one-pair mapping ends there
        ("c: [3)]\n", 1, 5, "'3)'", "parentheses"),
        # "  - conv2d: [32, " is 17 characters
        ("layers:\n  - conv2d: [32, (3, 3]\n", 2, 18, "'(3, 3'", "parentheses"),
        ("a: 1\nb: |\n  text\nc: (3\n", 4, 4, "'(3'", "parentheses"),
    ],
)
def test_unbalanced_parentheses(text: str, line: int, column: int, shown: str, what: str) -> None:
    assert refusal(text) == (
        f"{WHERE}, line {line}, column {column}: unbalanced {what} in {shown}: {PER_AXIS}; "
        "quote it if it is meant as text"
    )


def test_a_long_unbalanced_tuple_is_cut_in_the_message() -> None:
    # pieces '(1' and a hundred '1': "(1" + ", 1" * 100 is 2 + 300 = 302 characters
    message = refusal("c: [(" + "1, " * 100 + "1]\n")
    shown = "(1" + ", 1" * 19 + ","  # 2 + 57 + 1 = 60 characters
    assert f"unbalanced parentheses in '{shown}...' (the first 60 of 302 characters)" in message


def test_block_scalars_are_left_alone() -> None:
    assert load("a: |\n  (3\nb: >\n  3)\n") == {"a": "(3\n", "b": "3)\n"}


# -- 5. merge-key bombs ------------------------------------------------------------------------


def merge_bomb(levels: int) -> str:
    # each level merges the one before twice: PyYAML's flatten_mapping copies 2**levels pairs
    lines = ["m0: &m0 {a: 1, b: 2}"]
    for i in range(1, levels + 1):
        lines.append(f"m{i}: &m{i} {{<<: [*m{i - 1}, *m{i - 1}], k{i}: {i}}}")
    return "\n".join(lines) + "\n"


def test_a_small_merge_bomb_means_what_it_says() -> None:
    # m3 holds m2's keys (m1's and k2) and k3: a, b, k1, k2, k3
    assert load(merge_bomb(3))["m3"] == {"a": 1, "b": 2, "k1": 1, "k2": 2, "k3": 3}


def test_a_forty_level_merge_bomb_is_read_quickly_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(merge_bomb(40), encoding="utf-8")
    code = (
        "import sys\nfrom convcalc._input._yaml import parse_yaml\n"
        "document = parse_yaml(open(sys.argv[1]).read(), 'bomb.yaml')\n"
        "print(len(document['m40']))\n"
    )
    done = run_limited([sys.executable, "-c", code, str(path)])
    # m40 has a and b, and k1 to k40: 42 keys
    assert (done.returncode, done.stdout, done.stderr) == (0, "42\n", "")


def test_a_forty_level_merge_bomb_in_a_model_file_ends_quickly(tmp_path: Path) -> None:
    # the same bomb beside a model: the reader reads it at once, then the model's check refuses
    # the unknown top-level keys (the CLI's contract: exit 2, one line, no traceback)
    path = tmp_path / "net.yaml"
    path.write_text("input: [4]\nlayers: [flatten]\n" + merge_bomb(40), encoding="utf-8")
    done = run_model(str(path))
    assert_refused(done)
    assert "m0" in done.stderr


def test_merges_that_copy_too_much_are_refused() -> None:
    # b has 1,000 keys; each m{i}: {<<: *b} copies 1,000 values. 200 copies reach the budget of
    # 200,000 exactly; the 201st, m200 on line 202 (b is line 1), goes past it. "m200: " is 6.
    text = "b: &b {" + ", ".join(f"k{i}: {i}" for i in range(1000)) + "}\n"
    text += "".join(f"m{i}: {{<<: *b}}\n" for i in range(300))
    assert refusal(text) == (
        f"{WHERE}, line 202, column 7: its merge keys (<<) copy more than 200,000 values; "
        "write the model out without them"
    )


def test_a_merge_of_the_mapping_being_read_is_refused() -> None:
    assert refusal("a: &a {x: 1, <<: *a}\n") == (
        f"{WHERE}, line 1, column 18: the alias '*a' is inside the collection it names "
        "(line 1), so it would contain itself; write the model out without it"
    )


# -- anchors and aliases -------------------------------------------------------------------------


def test_aliases_share_values() -> None:
    document = load("a: &a [1, 2]\nb: *a\n")
    assert document == {"a": [1, 2], "b": [1, 2]}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "a: *nothing\n",
            "line 1, column 4: the alias '*nothing' names no anchor defined before it; "
            "define the anchor (&name) first",
        ),
        (
            "a: &x 1\nb: &x 2\n",
            "line 2, column 4: the anchor '&x' is defined twice (first on line 1); "
            "give each anchor its own name",
        ),
        (
            "a: &x [1, *x]\n",
            "line 1, column 11: the alias '*x' is inside the collection it names (line 1), so "
            "it would contain itself; write the model out without it",
        ),
        (
            "a: &x {b: &x 1}\n",
            "line 1, column 11: the anchor '&x' is defined twice (first on line 1); "
            "give each anchor its own name",
        ),
    ],
)
def test_anchor_and_alias_mistakes(text: str, message: str) -> None:
    assert refusal(text) == f"{WHERE}, {message}"


def test_a_long_alias_name_is_cut() -> None:
    message = refusal("a: *" + "n" * 100 + "\n")
    assert "'*" + "n" * 59 + "...' (the first 60 of 101 characters)" in message
    assert "n" * 61 not in message


# -- keys ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "column", "what"),
    [
        ("? [1]\n: x\n", 1, 3, "a list"),
        ("{[1]: x}\n", 1, 2, "a list"),
        ("a: &a {x: 1}\n*a : y\n", 2, 1, "a mapping"),
    ],
)
def test_a_key_that_is_a_collection(text: str, line: int, column: int, what: str) -> None:
    assert refusal(text) == (
        f"{WHERE}, line {line}, column {column}: a key must be a name or a number, not {what}; "
        "check the indentation or the brackets there"
    )


def test_a_long_key_given_twice_is_cut() -> None:
    key = "k" * 1000
    message = refusal(f"? {key}\n: 1\n? {key}\n: 2\n")
    assert message == (
        f"{WHERE}, line 3, column 3: the key '{'k' * 60}...' (the first 60 of 1,000 "
        "characters) is given twice (first on line 1); keep one"
    )


# -- 6. input failures ---------------------------------------------------------------------------


def write(folder: Path, name: str, data: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def source_refusal(source: str) -> str:
    with pytest.raises(InputError) as caught:
        read_model_source(source)
    return str(caught.value)


def example(held: str, where: str, hint: str = "") -> str:
    return (
        f"{where} holds {held}: a model is a mapping with at least 'input' and 'layers'{hint}; "
        "`convcalc zoo show mnist_cnn` prints an example"
    )


@pytest.mark.parametrize(
    ("text", "held"),
    [
        ("# only\n# comments\n", "no model, only comments"),
        ("---\n# a comment after the marker\n", "no model, only comments"),
        ("---\n", "no model, only document markers (---)"),
        ("~\n", "no model, only an empty value (null)"),
        ("null  # nothing\n", "no model, only an empty value (null)"),
        ("--- ~\n", "no model, only an empty value (null)"),
        ("3\n", "only the number 3, not a model"),
        ("2.5\n", "only the number 2.5, not a model"),
        ("true\n", "only the value true, not a model"),
        ("conv2d\n", "only the text 'conv2d', not a model"),
        (
            "x" * 100 + "\n",
            "only the text '" + "x" * 60 + "...' (the first 60 of 100 characters), not a model",
        ),
    ],
)
def test_a_document_that_is_not_a_mapping(tmp_path: Path, text: str, held: str) -> None:
    path = write(tmp_path, "net.yaml", text)
    assert source_refusal(str(path)) == example(held, str(path))


def test_a_list_document(tmp_path: Path) -> None:
    path = write(tmp_path, "net.yaml", "- conv2d: 32\n- flatten\n")
    hint = " (if the list is its layers, put it under 'layers:' beside 'input:')"
    assert source_refusal(str(path)) == example("a list, not a model", str(path), hint)


def test_an_empty_file(tmp_path: Path) -> None:
    for text in ("", "  \n\n\t\n", "\ufeff"):
        path = write(tmp_path, "net.yaml", text)
        assert source_refusal(str(path)) == (
            f"{path} is empty; a model needs at least 'input' and 'layers'"
        )


def test_a_byte_order_mark_is_not_content(tmp_path: Path) -> None:
    path = write(tmp_path, "net.yaml", "\ufeffinput: [4]\nlayers: [flatten]\n")
    assert read_model_source(str(path)) == {"input": [4], "layers": ["flatten"]}


def test_a_second_document(tmp_path: Path) -> None:
    path = write(tmp_path, "net.yaml", "input: [4]\nlayers: [flatten]\n---\nmore: 1\n")
    assert source_refusal(str(path)) == (
        f"{path}, line 3, column 1: a second YAML document starts here; a model file holds "
        "one document: remove this '---' and what follows, or split the file"
    )


@pytest.mark.parametrize(
    ("text", "line", "column", "code"),
    [
        ("a: \x01\n", 1, 4, "0001"),
        ("a: 1\nb: x\x7f\n", 2, 5, "007F"),
        ("é: 1\nb: \x1b[31m\n", 2, 4, "001B"),  # é is two bytes, one character
    ],
)
def test_a_control_character(text: str, line: int, column: int, code: str) -> None:
    message = refusal(text)
    assert message.startswith(
        f"{WHERE}, line {line}, column {column}: the character U+{code} cannot appear in a "
        "YAML file ("
    )
    assert message.endswith(f"delete it, or write it as \\u{code} inside double quotes")


def test_lone_surrogates() -> None:
    # no file decodes to these, but parse_yaml takes any str: libyaml cannot even encode it,
    # PyYAML's pure-Python reader calls it a special character
    assert refusal("a: \ud800\n") in (
        f"{WHERE} holds characters that are not valid Unicode text (lone surrogates)",
        f"{WHERE}, line 1, column 4: the character U+D800 cannot appear in a YAML file (special "
        "characters are not allowed); delete it, or write it as \\uD800 inside double quotes",
    )


def test_a_directory(tmp_path: Path) -> None:
    assert source_refusal(str(tmp_path)) == f"{tmp_path} is a directory; give a model file (.yaml)"


def test_a_path_too_long_for_the_system() -> None:
    source = "x" * 5000
    message = source_refusal(source)
    assert message.startswith(f"cannot read {'x' * 60}...{'x' * 60} (a path of 5,000 characters): ")


def test_a_path_with_a_nul_character() -> None:
    assert source_refusal("net\0.yaml") == (
        "cannot read net\\x00.yaml: a file name cannot hold a NUL character"
    )


def test_a_path_under_a_file(tmp_path: Path) -> None:
    path = write(tmp_path, "net.yaml", "input: [4]\n")
    assert source_refusal(f"{path}/x").startswith(f"cannot read {path}/x: ")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_does_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "net.yaml"
    os.mkfifo(fifo)
    done = run_model(str(fifo))
    assert_refused(done)
    assert done.stderr == (
        f"Error: {fifo} is a named pipe, not a model file; give a YAML file, or pipe the model "
        "into standard input and give '-'\n"
    )


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_device_is_refused_at_once() -> None:
    started = time.monotonic()
    done = run_model("/dev/zero")
    assert_refused(done)
    assert done.stderr.startswith("Error: /dev/zero is a device, not a model file")
    assert time.monotonic() - started < 15


@pytest.mark.skipif(sys.platform == "win32", reason="closes descriptor 0 in the child")
def test_standard_input_closed() -> None:
    done = run_model("-", preexec=lambda: os.close(0))
    assert_refused(done)
    assert done.stderr == (
        "Error: standard input is closed, so '-' has no model to read; give the model file's "
        "name, or pipe it in: convcalc model - < net.yaml\n"
    )


def test_standard_input_that_cannot_be_read(tmp_path: Path) -> None:
    with open(tmp_path / "out", "wb") as write_only:
        done = run_model("-", stdin=write_only)
    assert_refused(done)
    assert done.stderr.startswith("Error: cannot read standard input: ")


@pytest.mark.parametrize(
    ("name", "shown", "hint"),
    [
        ("a" * 300, "'" + "a" * 60 + "...' (the first 60 of 300 characters)", ""),
        ("é" * 200, "'" + "é" * 60 + "...' (the first 60 of 200 characters)", ""),  # 400 bytes
        ("a\0b", "'a\\x00b'", ""),
        ("", "''", ""),
        ("../zoo/mnist_cnn", "'../zoo/mnist_cnn'", " (did you mean 'mnist_cnn'?)"),
        ("mnist_cnn.yaml", "'mnist_cnn.yaml'", " (did you mean 'mnist_cnn'?)"),
        ("a\nb", "'a\\nb'", ""),
    ],
)
def test_odd_zoo_names(name: str, shown: str, hint: str) -> None:
    with pytest.raises(InputError) as caught:
        zoo_text(name)
    assert str(caught.value).startswith(f"no model {shown} in the zoo{hint}; `convcalc zoo` lists")


def test_zoo_models_are_mappings() -> None:
    assert isinstance(load_zoo("lenet5"), dict)


# -- 7. speed -------------------------------------------------------------------------------------


def test_a_long_listing_reads_faster_than_pyyaml_builds_it() -> None:
    # The reader builds values from libyaml's events in one pass; PyYAML's own C loader composes
    # nodes and then constructs them in Python. Reading must not cost more than that does.
    text = "input: [32, 32, 3]\nlayers:\n" + "  - conv2d: {filters: 8, kernel: 3}\n" * 5_000
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    def best(read: Callable[[], object]) -> float:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            read()
            times.append(time.perf_counter() - started)
        return min(times)

    ours = best(lambda: load(text))
    pyyaml = best(lambda: yaml.load(text, Loader=loader))
    assert load(text) == yaml.load(text, Loader=loader)
    assert ours < pyyaml, (ours, pyyaml)


# -- property-based: anything in, a value or an InputError out, quickly -------------------------

YAMLISH = st.lists(
    st.sampled_from(
        list("[]{}(),:-?&*!|>'\"#%@`~<=\n \t.0123456789xeE+abn_\\")
        + ["!!int ", "!!str ", "!!map ", "!!seq ", "!!float ", "!!bool ", "!!null ", "!!set "]
        + ["<<: ", "&a ", "*a", "---\n", "...\n", ".inf", "0x", "true", "null", "é", "\x85"]
        + ["\u2028", "\ufeff", "\x01", "  - ", "a: ", "{k: (3, 3)}", "[1, (2, 3)]"]
    ),
    max_size=60,
).map("".join)

FAST = settings(
    max_examples=400,
    deadline=timedelta(seconds=2),
    suppress_health_check=[HealthCheck.too_slow],
)


def read_or_refuse(text: str) -> None:
    try:
        load(text)
    except InputError as problem:
        message = str(problem)
        assert message.startswith(WHERE), message
        assert len(message) < 400, message  # never the whole of what was written


@FAST
@given(YAMLISH)
def test_yaml_like_text_is_read_or_refused(text: str) -> None:
    read_or_refuse(text)


@FAST
@given(st.text(max_size=200))
def test_any_text_is_read_or_refused(text: str) -> None:
    read_or_refuse(text)


@FAST
@given(st.binary(max_size=200))
def test_any_bytes_are_read_or_refused(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "net.yaml"
        path.write_bytes(data)
        try:
            document = read_model_source(str(path))
        except InputError as problem:
            assert str(problem).startswith(str(path)), problem
        else:
            assert isinstance(document, dict)


# Text that PyYAML's dumper writes plain means the same here, except what YAML 1.2 reads as a
# number and 1.1 did not (1e3, 1.5e3: 1.1 wanted a dot and a signed exponent), and brackets (a
# plain '(3' is refused here). Those are left out; the dumper quotes everything else that
# would not read back as text.
NUMBER_1_2 = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
WORDS = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="()[]"), max_size=12
).filter(lambda text: NUMBER_1_2.fullmatch(text) is None)
PLAIN: st.SearchStrategy[object] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30) + 1, 10**30 - 1),
    st.floats(allow_nan=False),
    WORDS,
)
DATA = st.recursive(
    PLAIN,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(WORDS, inner, max_size=4),
    max_leaves=12,
)


@FAST
@given(DATA)
def test_what_pyyaml_writes_is_read_back_the_same(data: object) -> None:
    assert load(yaml.safe_dump(data)) == data


# -- helpers for runs in a subprocess ---------------------------------------------------------


def limit_memory() -> None:
    try:
        import resource
    except ImportError:  # not POSIX: the timeout still bounds the run
        return
    limit = 2 * 1024**3  # address space: a guard that broke would take far more
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def run_limited(
    args: list[str], stdin: Any = subprocess.DEVNULL, preexec: Callable[[], None] | None = None
) -> subprocess.CompletedProcess[str]:
    def prepare() -> None:
        limit_memory()
        if preexec is not None:
            preexec()

    return subprocess.run(
        args,
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=30,
        preexec_fn=prepare,
    )


def run_model(
    source: str, stdin: Any = subprocess.DEVNULL, preexec: Callable[[], None] | None = None
) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, "-m", "convcalc", "model", source, "--format", "json"]
    return run_limited(args, stdin=stdin, preexec=preexec)


def assert_refused(done: subprocess.CompletedProcess[str]) -> None:
    """Exit 2, ``Error:`` first on stderr, nothing on stdout, never a traceback."""
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stderr.startswith("Error: "), done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
