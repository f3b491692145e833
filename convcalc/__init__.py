"""convcalc: the shapes, parameters, compute, memory and receptive field of a CNN, by arithmetic.

The public Python API::

    from convcalc import analyze, diff, export, ConvCalcError
    report = analyze({"input": [28, 28, 1], "layers": [{"conv2d": {"filters": 32, "kernel": 3}}]})
    report.to_dict()  # the JSON of ``convcalc --format json``
    diff(report, other).to_dict()  # two reports compared: ``convcalc diff --format json``
    export(spec, to="pytorch")  # framework code: ``convcalc export``
    from_torch(module, (3, 224, 224))  # a PyTorch module's spec, traced (torch needed)

All are loaded on first use, so the command line (and shell completion, on every TAB) does
not pay for the engine when it does not need it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._api import export
    from ._diff import diff
    from ._errors import ConvCalcError
    from ._input._torch import from_torch
    from ._model import analyze

__all__ = ["ConvCalcError", "analyze", "diff", "export", "from_torch"]
__version__ = "1.0.0"


def __getattr__(name: str) -> object:
    if name == "analyze":
        from ._model import analyze

        return analyze
    if name == "ConvCalcError":
        from ._errors import ConvCalcError

        return ConvCalcError
    if name == "diff":
        from ._diff import diff

        return diff
    if name == "export":
        from ._api import export

        return export
    if name == "from_torch":
        from ._input._torch import from_torch

        return from_torch
    raise AttributeError(f"module 'convcalc' has no attribute {name!r}")
