"""Compare convcalc's zoo with the frameworks' figures recorded in ``tests/data/zoo.json``.

``tests/crosscheck/record_zoo.py`` records, for every torchvision classification builder and
every keras.applications model, params, trainable params, MACs and output shape at the default
input size and at other sizes (or the framework's refusal). This script analyses each zoo model
at each of those sizes with convcalc and prints every disagreement; it needs no framework::

    python tests/crosscheck/check_zoo.py [NAME ...]      # default: every recorded model

The exit status is the number of disagreements. A size the framework refused must be refused
by convcalc too (any ConvCalcError); a size it accepted must give equal figures.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from convcalc import ConvCalcError, analyze
from convcalc._input._zoo import member_model, read_family, zoo_files

FIGURES = Path(__file__).resolve().parent.parent / "data" / "zoo.json"
KEYS = ("params", "trainable", "macs", "output")


def recorded() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIGURES.read_text(encoding="utf-8"))
    return {name: entry for name, entry in data.items() if not name.startswith("_")}


def figures(model: dict[str, Any], shape: list[int] | None = None) -> dict[str, Any]:
    """convcalc's figures for a zoo model's mapping, at ``shape`` (default: its own input)."""
    spec = dict(model) if shape is None else {**model, "input": shape}
    report = analyze(spec).to_dict()
    totals = report["totals"]
    return {
        "params": totals["params"],
        "trainable": totals["trainable_params"],
        "macs": totals["macs"],
        "output": report["output_shape"],
    }


_FAMILIES: dict[str, dict[str, Any]] = {}


def member(name: str) -> dict[str, Any] | None:
    """A zoo model's mapping, found in the zoo's files (not the index, which may be stale while
    families are written); a file that does not read is skipped."""
    if not _FAMILIES:
        for file in zoo_files():
            try:
                _FAMILIES[file] = read_family(file)[1]
            except ConvCalcError as problem:
                print(f"skipped {file}: {problem}", file=sys.stderr)
    for document in _FAMILIES.values():
        if name in document["members"]:
            return member_model(name, document)
    return None


def compare(name: str, entry: dict[str, Any], sizes: bool = True) -> list[str]:
    """Every disagreement between convcalc and the recorded figures of one model."""
    model = member(name)
    if model is None:
        return [f"{name}: not in the zoo"]
    problems = []
    cases = [("default", entry["default"])]
    if sizes:
        cases += [(f"size {case['input']}", case) for case in entry.get("sizes", [])]
    for label, case in cases:
        shape = case["input"]
        if label == "default" and list(model["input"]) != list(shape):
            problems.append(f"{name}: input {model['input']} but the framework's default {shape}")
        try:
            ours = figures(model, shape)
        except ConvCalcError as problem:
            if "refused" not in case:
                problems.append(f"{name} {label}: convcalc refuses ({problem}); framework accepts")
            continue
        if "refused" in case:
            problems.append(
                f"{name} {label}: convcalc accepts ({ours['output']}); framework refuses "
                f"({case['refused']})"
            )
            continue
        for key in KEYS:
            theirs = case[key]
            if key == "output":
                theirs = list(theirs)
            if ours[key] != theirs:
                problems.append(f"{name} {label}: {key} {ours[key]} != framework {theirs}")
    return problems


def main(argv: list[str]) -> int:
    data = recorded()
    names = argv or sorted(data)
    problems = []
    for name in names:
        if name not in data:
            problems.append(f"{name}: no recorded figures")
            continue
        found = compare(name, data[name])
        problems += found
        print(f"{'ok ' if not found else 'BAD'} {name}", flush=True)
    for line in problems:
        print(line)
    return len(problems)


if __name__ == "__main__":
    sys.exit(min(main(sys.argv[1:]), 255))
