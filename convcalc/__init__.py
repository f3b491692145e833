"""convcalc: the shapes, parameters, compute, memory and receptive field of a CNN, by arithmetic.

The public Python API is two names::

    from convcalc import analyze, ConvCalcError
    report = analyze({"input": [28, 28, 1], "layers": [{"conv2d": {"filters": 32, "kernel": 3}}]})
    report.to_dict()  # the JSON of ``convcalc --format json``
"""

from ._engine import analyze
from ._errors import ConvCalcError

__all__ = ["ConvCalcError", "analyze"]
__version__ = "1.0.0"
