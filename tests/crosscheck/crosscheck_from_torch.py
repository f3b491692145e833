"""Cross-check ``convcalc.from_torch`` against torchvision's zoo, by hand (never run by pytest).

Every torchvision classification model of ``tests/data/zoo.json`` is built as ``record_zoo.py``
builds it (``get_model(name, weights=None, num_classes=1000)`` on the meta device), turned into
a convcalc model by ``from_torch(model, input)`` at its default input size (traced by
torch.fx, shapes propagated on fake tensors), analysed by convcalc, and its parameters,
trainable parameters, MACs and output shape compared with PyTorch's own figures recorded in
zoo.json (which come from the framework alone). The YAML text (``yaml=True``) is read back
through convcalc's own YAML reader too, and must give the same figures.

Run with the framework venv::

    /opt/fw/bin/python tests/crosscheck/crosscheck_from_torch.py [NAME ...]

One line per model: ``ok``, ``DIFFERS`` (each figure that differs, both values) or
``REFUSED`` (convcalc's message). The exit status is the number of models that did not agree
(capped at 100).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

warnings.filterwarnings("ignore")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import record_zoo as rz  # noqa: E402

from convcalc import ConvCalcError, analyze  # noqa: E402
from convcalc._input._torch import from_torch  # noqa: E402
from convcalc._input._yaml import parse_yaml  # noqa: E402

ZOO = Path(__file__).resolve().parents[1] / "data" / "zoo.json"


def figures(spec: dict[str, Any]) -> dict[str, Any]:
    report = analyze(spec).to_dict()
    totals = report["totals"]
    return {
        "params": totals["params"],
        "trainable": totals["trainable_params"],
        "macs": totals["macs"],
        "output": report["output_shape"],
    }


def check(name: str, entry: dict[str, Any]) -> tuple[str, str]:
    expected = entry["default"]
    model = rz.build_torch(name, "meta")
    try:
        got = figures(from_torch(model, expected["input"]))
        again = figures(parse_yaml(from_torch(model, expected["input"], yaml=True), name))
    except ConvCalcError as problem:
        return "REFUSED", str(problem)[:400]
    want = {key: expected[key] for key in got}
    differs = [f"{key} {got[key]} vs torch {want[key]}" for key in got if got[key] != want[key]]
    if again != got:
        differs.append(f"the YAML gives {again}")
    if differs:
        return "DIFFERS", "; ".join(differs)
    return "ok", f"params {got['params']:,}, macs {got['macs']:,}, output {got['output']}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="zoo names (default: every torchvision model)")
    args = parser.parse_args()
    zoo = json.loads(ZOO.read_text())
    names = args.names or [
        n for n, e in zoo.items() if not n.startswith("_") and "torchvision" in e.get("builder", "")
    ]
    counts: dict[str, int] = {}
    for name in names:
        start = time.time()
        status, detail = check(name, zoo[name])
        counts[status] = counts.get(status, 0) + 1
        print(f"{name:24} {status:8} {time.time() - start:5.1f}s  {detail}", flush=True)
    print(f"{len(names)} models: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    return min(100, len(names) - counts.get("ok", 0))


if __name__ == "__main__":
    sys.exit(main())
