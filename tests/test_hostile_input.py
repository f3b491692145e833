"""Hostile input to the engine and the command line: every input is answered or refused with a
ConvCalcError (the CLI: ``Error:``, exit 2), quickly, never another exception.

Random specs are built by hypothesis from the values a hostile file can hold (huge and negative
integers, floats that overflow, control characters, deep lists, real type and parameter names
with absurd values); the cases of the issue that found them are tests of their own. Each case
runs under a time limit; the ones that could hang or exhaust memory run in a subprocess.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convcalc import ConvCalcError, analyze
from convcalc._catalogue import CATALOGUE

SECONDS = 2.0
"""Every input of up to 100 KB is answered or refused within this."""


def answered(spec: object) -> None:
    """analyze() returns or raises ConvCalcError, within SECONDS; its message is printable."""
    start = time.perf_counter()
    try:
        report = analyze(spec)  # type: ignore[arg-type]
    except ConvCalcError as problem:
        message = str(problem)
        assert message and len(message) < 2_000, message[:300]
        assert "\x1b" not in message and "\x07" not in message
    else:
        json.dumps(report.to_dict())
    assert time.perf_counter() - start < SECONDS


def cli(*args: str, timeout: float = 10, stdin: bytes | None = None) -> tuple[int, str, str]:
    done = subprocess.run(
        [sys.executable, "-m", "convcalc", *args],
        input=stdin,
        capture_output=True,
        timeout=timeout,
    )
    out, err = done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace")
    return done.returncode, out, err


def refused(*args: str, timeout: float = 10) -> str:
    code, out, err = cli(*args, timeout=timeout)
    assert code == 2, (code, err[:500])
    assert err.startswith("Error: ") and "Traceback" not in err, err[:500]
    assert out == ""
    return err


# -- the reproducers of the issue ---------------------------------------------------------------


def test_a_5000_digit_layer_is_a_convcalc_error() -> None:
    with pytest.raises(ConvCalcError, match="5,000 digits"):
        analyze({"input": [5], "layers": [10**5000]})


def test_a_huge_filters_value_is_refused() -> None:
    with pytest.raises(ConvCalcError, match="far too large"):
        analyze({"input": [8, 8, 1], "layers": [{"conv2d": {"filters": 16**4000, "kernel": 3}}]})


def test_a_huge_number_as_a_name_is_refused() -> None:
    with pytest.raises(ConvCalcError, match="name"):
        analyze({"input": [5], "layers": [{"relu": None, "name": 10**5000}]})
    with pytest.raises(ConvCalcError, match="name"):
        analyze({"input": [5], "name": 10**5000, "layers": ["relu"]})


def test_dropout_of_a_400_digit_number() -> None:
    with pytest.raises(ConvCalcError, match="rate"):
        analyze({"input": [5], "layers": [{"dropout": 10**400}]})


def test_groupnorm_divisor_search_is_quick() -> None:
    start = time.perf_counter()
    err = refused("chain", "1000000007", "groupnorm:1000000006")
    assert "such as 1" in err  # 1,000,000,007 is prime
    assert time.perf_counter() - start < 5


def test_strides_past_counting_in_floats() -> None:
    # eighteen stride-2**62 pools on one position: each gives 1 output; the receptive field's
    # jump would be 2**1116, past a float: it is the whole input
    layers = [{"maxpool1d": [1, 4611686018427387904]}] * 18
    report = analyze({"input": [1, 1], "layers": layers}).to_dict()
    assert report["output_shape"] == [1, 1]
    assert report["layers"][-1]["receptive_field"] is None


def test_columns_of_30_digits_on_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "convcalc", "conv", "--help"],
        capture_output=True,
        timeout=10,
        env={**__import__("os").environ, "COLUMNS": str(10**30)},
    )
    assert done.returncode == 0 and b"Usage" in done.stdout


def test_a_20000_key_mapping_is_not_listed_whole() -> None:
    layer = {f"key{i}": i for i in range(20_000)}
    with pytest.raises(ConvCalcError) as caught:
        analyze({"input": [5], "layers": [layer]})
    assert len(str(caught.value)) < 600
    assert "20,000 in all" in str(caught.value)


def test_an_argument_of_100_kb_is_echoed_as_an_excerpt() -> None:
    err = refused("chain", "28", "28", "1", "conv:" + "9" * 100_000)
    assert len(err) < 1_000


def test_escape_codes_in_a_name_never_reach_the_terminal() -> None:
    for output_format in ("table", "markdown", "csv", "json"):
        code, out, err = cli(
            "model", "-", "--format", output_format,
            stdin=b'input: [5]\nlayers:\n  - {relu: null, name: "a\\e]0;TITLE\\a"}\n',
        )
        assert code == 0, err
        assert "\x1b" not in out + err and "\x07" not in out + err


def test_escape_codes_in_an_error_never_reach_the_terminal() -> None:
    code, _, err = cli("chain", "28", "28", "1", "co\x1b]0;TITLE\x07nv:3")
    assert code == 2 and "\x1b" not in err and "\x07" not in err


def test_output_to_a_full_disk() -> None:
    with open("/dev/full", "wb") as full:
        done = subprocess.run(
            [sys.executable, "-m", "convcalc", "conv", "28", "28", "1", "--filters", "8",
             "--kernel", "3"],
            stdout=full,
            stderr=subprocess.PIPE,
            timeout=10,
        )
    assert done.returncode == 2
    assert done.stderr.startswith(b"Error: cannot write the output")


def test_ascii_only_output() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "convcalc", "conv", "28", "28", "1", "--filters", "8",
         "--kernel", "3"],
        capture_output=True,
        timeout=10,
        env={**__import__("os").environ, "PYTHONIOENCODING": "ascii"},
    )
    assert done.returncode == 0, done.stderr
    assert b"320" not in done.stderr and b"80" in done.stdout  # (3*3*1+1)*8 = 80


def test_bad_completion_variables() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "convcalc"],
        capture_output=True,
        timeout=10,
        env={
            **__import__("os").environ,
            "_CONVCALC_COMPLETE": "complete_bash",
            "COMP_WORDS": "convcalc co",
            "COMP_CWORD": "abc",
        },
    )
    assert done.returncode == 2 and done.stderr.startswith(b"Error: ")


# -- random specs ---------------------------------------------------------------------------

NAMES = sorted({spelling for kind in CATALOGUE for spelling in (kind.name, *kind.aliases)})
PARAMS = sorted({p.name for kind in CATALOGUE for p in kind.params} | {"name", "trainable"})

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=40),
    st.sampled_from([0, -1, 2**62, 2**63, 10**30, 10**400, -(10**50)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["same", "valid", "causal", "3x3", "(3, 3)", "(3", "0x3", "1:30", "yes", "-1"]),
    st.text(max_size=12),
    st.sampled_from(NAMES),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(PARAMS), inner, max_size=4)
    ),
    max_leaves=12,
)
layers = st.one_of(
    st.sampled_from(NAMES),
    st.builds(lambda name, body: {name: body}, st.sampled_from(NAMES), values),
    values,
)
shapes = st.one_of(
    st.lists(st.integers(min_value=1, max_value=64), min_size=1, max_size=4),
    values,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shape=shapes,
    items=st.lists(layers, min_size=1, max_size=5),
    framework=st.sampled_from(["keras", "pytorch"]),
)
def test_random_specs_are_answered_or_refused(shape: Any, items: list[Any], framework: str) -> None:
    answered({"input": shape, "framework": framework, "layers": items})


@settings(max_examples=200, deadline=None)
@given(spec=values)
def test_random_documents_are_answered_or_refused(spec: Any) -> None:
    answered(spec)


@settings(max_examples=200, deadline=None)
@given(
    items=st.lists(
        st.text(alphabet="conv:pool,dense=()[]x0123456789-_ \x1b", max_size=20), min_size=1,
        max_size=4,
    )
)
def test_random_chain_items(items: list[str]) -> None:
    from convcalc._input._chain import parse_chain

    try:
        answered({"input": [16, 16, 3], "layers": parse_chain(items)})
    except ConvCalcError:
        pass


# -- found by a second hostile pass ----------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [
        # sizes computed past 2**62: upsampling, the input itself, the batch
        {"input": [28, 28, 1], "layers": [{"upsampling2d": 10**18}, "flatten", {"dense": 1000}]},
        {"input": [4611686018427387903, 4611686018427387903, 1], "layers": ["flatten"]},
        {"input": [28, 28, 1], "batch": 4611686018427387903, "layers": ["relu"]},
        {"input": [1, 1, 1], "explain": True,
         "layers": [{"repeat": 300, "layers": [{"upsampling2d": 2**62}]}]},
    ],
)
def test_computed_sizes_past_2_62_are_refused(spec: dict[str, Any]) -> None:
    with pytest.raises(ConvCalcError, match="2\\*\\*62"):
        analyze(spec)


def test_a_long_dotted_path_is_refused() -> None:
    name = "N" * 200
    blocks = {f"b{i}": {"layers": [{f"b{i + 1}": {"name": name}}]} for i in range(9)}
    blocks["b9"] = {"layers": ["relu"]}
    with pytest.raises(ConvCalcError, match="dotted path"):
        analyze({"input": [8], "blocks": blocks, "layers": [{"b0": {"name": name}}]})


def test_internal_keys_are_unknown_parameters() -> None:
    for key in ("\0torch-reading", "\0family"):
        with pytest.raises(ConvCalcError, match="unknown parameter"):
            analyze({"input": [8, 8, 3], "layers": [{"type": "conv2d", "filters": 8,
                                                     "kernel": 3, key: "x"}]})


@pytest.mark.parametrize(
    "args",
    [
        ("layers", "\x1b]0;pwn\x07"),
        ("chain", "16", "16", "8", "conv:4,30,name=\x1bc"),
        ("conv", "-1\x1bc", "28", "1", "--filters", "4", "--kernel", "3"),
    ],
)
def test_control_characters_never_reach_stderr(args: tuple[str, ...]) -> None:
    code, _, err = cli(*args)
    assert code == 2 and "\x1b" not in err and "\x07" not in err


def test_click_messages_are_cut() -> None:
    err = refused("conv", "28", "28", "1", "--filters", "4", "--kernel", "3", "--groups",
                  "9" * 100_000)
    assert len(err) < 2_500 and "characters cut" in err


@pytest.mark.parametrize(
    "env",
    [
        {"_CONVCALC_COMPLETE": "complete_bash", "COMP_WORDS": "convcalc "},
        {"_CONVCALC_COMPLETE": "bogus"},
        {"_CONVCALC_COMPLETE": "complete_"},
    ],
)
def test_completion_variables_checked(env: dict[str, str]) -> None:
    import os

    base = {k: v for k, v in os.environ.items() if not k.startswith(("COMP_", "_CONVCALC"))}
    done = subprocess.run([sys.executable, "-m", "convcalc"], capture_output=True, timeout=10,
                          env={**base, **env})
    assert done.returncode == 2 and done.stderr.startswith(b"Error: ")


def test_stderr_that_cannot_be_written() -> None:
    with open("/dev/full", "wb") as full:
        done = subprocess.run([sys.executable, "-m", "convcalc", "chain", "x"],
                              stdout=subprocess.PIPE, stderr=full, timeout=10)
    assert done.returncode == 2
