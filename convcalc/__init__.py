"""convcalc: the shapes, parameters, compute, memory and receptive field of a CNN, by arithmetic.

The public Python API is two names::

    from convcalc import analyze, ConvCalcError
    report = analyze({"input": [28, 28, 1], "layers": [{"conv2d": {"filters": 32, "kernel": 3}}]})
    report.to_dict()  # the JSON of ``convcalc --format json``

Both are loaded on first use, so the command line (and shell completion, on every TAB) does
not pay for the engine when it does not need it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._errors import ConvCalcError
    from ._model import analyze

__all__ = ["ConvCalcError", "analyze"]
__version__ = "1.0.0"


def __getattr__(name: str) -> object:
    if name == "analyze":
        from ._model import analyze

        return analyze
    if name == "ConvCalcError":
        from ._errors import ConvCalcError

        return ConvCalcError
    raise AttributeError(f"module 'convcalc' has no attribute {name!r}")
