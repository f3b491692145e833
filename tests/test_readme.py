"""The README is the user's reference: its tables are checked against the tool.

The commands and options tables against the CLI itself, the zoo table (published figures)
against analysing each zoo model, the layer names it mentions against the catalogue, and the
limits table against the constants that enforce them. A README edit that drifts from the tool,
or a tool change the README does not follow, fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convcalc import analyze
from convcalc._catalogue import CATALOGUE, FAMILIES, find_kind
from convcalc._cli import _lazy_commands, app
from convcalc._input._zoo import zoo_index
from convcalc._render._zoo import size_of
from convcalc._values import normalize_name

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def table_after(heading: str) -> list[list[str]]:
    """The rows (cells stripped) of the first Markdown table after the line ``heading``."""
    lines = README[README.index(heading) :].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))
        rows.append([cell.strip() for cell in cells])
    return rows


def test_commands_table_names_every_command() -> None:
    rows = table_after("## Commands")
    named = set()
    for first, _ in rows:
        for usage in re.findall(r"`convcalc ([a-z]+)", first):
            named.add(usage)
    assert named == set(_lazy_commands())


def help_of(*command: str) -> str:
    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def test_commands_table_options_exist() -> None:
    for first, _ in table_after("## Commands"):
        command = re.match(r"`convcalc ([a-z]+)", first)
        assert command is not None
        text = help_of(command.group(1))
        for option in re.findall(r"--[a-z-]+", first):
            assert option in text, f"{option} is not an option of convcalc {command.group(1)}"


def test_shared_options_table_matches_the_cli() -> None:
    rows = table_after("Every computing command also takes:")
    documented = {re.findall(r"--[a-z]+", row[0])[0] for row in rows}
    text = help_of("conv")
    for option in documented:
        assert option in text
    for shared in (
        "--framework",
        "--layout",
        "--batch",
        "--dtype",
        "--format",
        "--explain",
        "--depth",
    ):
        assert shared in documented, f"{shared} is missing from the README"


ZOO_ROWS = table_after("members` naming each model")


@pytest.mark.parametrize("row", ZOO_ROWS, ids=[row[0].strip("`") for row in ZOO_ROWS])
def test_zoo_table_matches_the_zoo(row: list[str]) -> None:
    # the index's figures are checked against the frameworks' in test_zoo.py
    name, source, size, params, macs = row
    entry = zoo_index()[name.strip("`")]
    assert source == entry.source
    assert size == size_of(entry)
    numbers = [int(n.replace(",", "")) for n in re.findall(r"[\d,]{3,}", params)]
    assert numbers[0] == entry.params
    assert numbers[1:] == (
        [entry.trainable_params] if entry.trainable_params != entry.params else []
    )
    assert int(macs.replace(",", "")) == entry.macs


def test_zoo_table_lists_every_zoo_model_in_the_listing_order() -> None:
    assert [row[0].strip("`") for row in ZOO_ROWS] == list(zoo_index())


def test_layer_names_in_the_readme_exist() -> None:
    start = README.index("The catalogue covers")
    paragraph = README[start : README.index("\n\n", start)]
    # every backticked word there is a layer type, or a parameter of one (groups, dilation)
    parameters = {p.name for kind in CATALOGUE for p in kind.params} | {"causal"}
    for name in re.findall(r"`([a-z0-9_]+)`", paragraph):
        if name in parameters:
            continue
        known = find_kind(name) is not None or normalize_name(name) in FAMILIES
        prefix = name.endswith("_") and any(k.name.startswith(name) for k in CATALOGUE)
        assert known or prefix, f"{name} is not a layer type"


def test_limits_table_matches_the_constants() -> None:
    from convcalc import _expr, _model, _values
    from convcalc._input import _yaml

    limits = {row[0]: row[1] for row in table_after("## Limits on what is read")}
    assert limits["a model file or standard input"] == f"{_yaml.MAX_BYTES // 2**20} MiB"
    assert limits["nesting of lists and mappings in a file"] == f"{_yaml.MAX_DEPTH} levels"
    assert limits["values reachable through YAML aliases and merge keys"] == (
        f"{_yaml.MAX_NODES:,}"
    )
    assert limits["any size, count, or product of them"] == "2**62" and _values.LARGEST == 2**62
    assert limits["blocks and constructs within each other"] == str(_model.MAX_NESTING)
    assert limits["rows of an expanded model (repeats and blocks)"] == f"{_model.MAX_ROWS:,}"
    assert limits["a layer's name"] == f"{_model.MAX_NAME} characters"
    assert limits["block uses and repeats expanded while reading"] == f"{_model.MAX_STEPS:,}"
    assert limits["a block expression (`$filters * 4`)"] == (
        f"{_expr.MAX_LENGTH:,} characters, {_expr.MAX_DEPTH} levels of parentheses"
    )
    assert limits["a value quoted back in a message"].startswith(f"{_values.SHOWN} characters")
    assert limits["digits of a number"].startswith("30 ")
    assert _values.HUGE == 10**30


def test_every_model_in_the_readme_runs(tmp_path: Path) -> None:
    from convcalc._input._yaml import read_model_source

    models = [
        block
        for block in re.findall(r"```yaml\n(.*?)```", README, re.S)
        if block.startswith("input:") or "\ninput:" in block
    ]
    assert len(models) >= 3
    for number, text in enumerate(models):
        path = tmp_path / f"readme_{number}.yaml"
        path.write_text(text)
        spec = read_model_source(str(path))
        assert isinstance(spec, dict)
        assert analyze(spec).layers, text
