"""Cross-check convcalc's ONNX reader against torchvision's zoo, by hand (never run by pytest).

Every torchvision classification model of ``tests/data/zoo.json`` is built as
``record_zoo.py`` builds it (``get_model(name, weights=None, num_classes=1000)``, on the meta
device), exported to ONNX at its default input size with a batch of 1, read by
``convcalc._input._onnx.onnx_to_model`` and analysed; its parameters, trainable parameters,
MACs and output shape are compared with the framework's figures recorded in zoo.json (which
come from the frameworks alone, never from convcalc).

The exporter
------------

torch 2.13's ``torch.onnx.export`` has two exporters, and both by default rewrite the model
they export: the dynamo one (``dynamo=True``, the default) runs onnxscript's optimiser, which
folds every BatchNorm into the convolution before it and drops zero biases; the TorchScript one
(``dynamo=False``) folds BatchNorm in eval mode unless ``do_constant_folding=False``. A file
written so is a different model (convolutions with biases, no BatchNorm). So:

- ``--exporter dynamo`` (the default here): ``torch.onnx.export(model, (x,), dynamo=True,
  optimize=False)``. It traces the meta-device model (no memory for the weights: the 600M
  parameter models export in seconds), and every initializer is then written as *external
  data* that is never saved (the ``ModelProto`` keeps each weight's name, type and shape, as a
  large model saved with ``save_as_external_data`` does). A convolution built with
  ``bias=False`` gets a zero bias computed in the graph (``Expand`` of ``CastLike(0)``), not an
  initializer: convcalc counts no parameter for it.
- ``--exporter torchscript``: ``torch.onnx.export(model, (x,), f, dynamo=False,
  do_constant_folding=False)`` on a CPU build (real weights, so only for the smaller models;
  it needs ``training=EVAL``, the default, and keeps BatchNorm with constant folding off).

Run with the framework venv (``/opt/fw/bin/pip install onnx onnxscript`` first)::

    /opt/fw/bin/python tests/crosscheck/crosscheck_onnx.py [NAME ...]
        [--exporter dynamo|torchscript] [--save DIR]

One line per model: ``ok``, ``DIFFERS`` (each figure that differs, both values) or
``REFUSED`` (convcalc's message, or the exporter's). The exit status is the number of models
that did not agree (capped at 100).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

warnings.filterwarnings("ignore")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import record_zoo as rz  # noqa: E402
import torch  # noqa: E402

from convcalc import ConvCalcError, analyze  # noqa: E402
from convcalc._input._onnx import onnx_to_model  # noqa: E402

ZOO = Path(__file__).resolve().parents[1] / "data" / "zoo.json"


def export_dynamo(name: str, shape: list[int]) -> Any:
    """The model's ONNX ModelProto, its weights as (unsaved) external data."""
    import onnx_ir as ir

    model = rz.build_torch(name, "meta")
    with torch.device("meta"):
        example = torch.zeros(1, *shape)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        program = torch.onnx.export(model, (example,), dynamo=True, optimize=False)
    for value in program.model.graph.initializers.values():
        tensor = value.const_value
        if tensor is None:
            continue
        value.const_value = ir.ExternalTensor(
            "weights.bin", 0, 0, dtype=tensor.dtype, shape=tensor.shape, name=value.name,
            base_dir="/nonexistent",
        )  # fmt: skip
    return ir.serde.serialize_model(program.model)


def export_torchscript(name: str, shape: list[int]) -> Any:
    import onnx

    model = rz.build_torch(name, "cpu")
    buffer = io.BytesIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        torch.onnx.export(
            model, (torch.zeros(1, *shape),), buffer, dynamo=False, do_constant_folding=False
        )
    return onnx.load_from_string(buffer.getvalue())


def check(name: str, entry: dict[str, Any], exporter: str, save: Path | None) -> tuple[str, str]:
    expected = entry["default"]
    shape = expected["input"]
    try:
        proto = (export_dynamo if exporter == "dynamo" else export_torchscript)(name, shape)
    except Exception as problem:  # the exporter's refusal
        return "EXPORT FAILED", f"{type(problem).__name__}: {str(problem)[:300]}"
    if save is not None:
        import onnx

        onnx.save(proto, str(save / f"{name}.onnx"))
    try:
        spec = onnx_to_model(proto, name)
        report = analyze(spec).to_dict()
    except ConvCalcError as problem:
        return "REFUSED", str(problem)[:400]
    totals = report["totals"]
    got = {
        "params": totals["params"],
        "trainable": totals["trainable_params"],
        "macs": totals["macs"],
        "output": report["output_shape"],
    }
    want = {key: expected[key] for key in got}
    differs = [f"{key} {got[key]} vs torch {want[key]}" for key in got if got[key] != want[key]]
    if differs:
        return "DIFFERS", "; ".join(differs)
    return "ok", f"params {got['params']:,}, macs {got['macs']:,}, output {got['output']}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="zoo names (default: every torchvision model)")
    parser.add_argument("--exporter", choices=("dynamo", "torchscript"), default="dynamo")
    parser.add_argument("--save", type=Path, help="write each exported model here")
    args = parser.parse_args()
    zoo = json.loads(ZOO.read_text())
    names = args.names or [
        n for n, e in zoo.items() if not n.startswith("_") and "torchvision" in e.get("builder", "")
    ]
    if args.save:
        os.makedirs(args.save, exist_ok=True)
    counts: dict[str, int] = {}
    for name in names:
        start = time.time()
        status, detail = check(name, zoo[name], args.exporter, args.save)
        counts[status] = counts.get(status, 0) + 1
        print(f"{name:24} {status:8} {time.time() - start:5.1f}s  {detail}", flush=True)
    print(f"{len(names)} models: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    return min(100, len(names) - counts.get("ok", 0))


if __name__ == "__main__":
    sys.exit(main())
