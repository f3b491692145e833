"""The Python API's functions that join the engine to a renderer (``convcalc.export``).

``analyze`` and ``diff`` are the engine's own; what is here writes text, so it sits above the
renderers, beside the command line, which calls the same functions.
"""

from __future__ import annotations

from collections.abc import Mapping

from ._errors import SpecError
from ._settings import Framework


def export(spec: Mapping[str, object], to: Framework | str | None = None) -> str:
    """A runnable Python module defining the model of ``spec`` (the mapping ``analyze``
    takes): a PyTorch ``nn.Module`` or a Keras Functional model, one layer per row, named
    after the rows (``convcalc export``). ``to`` is ``"pytorch"`` or ``"keras"``;
    default, the model's own framework. Raises ConvCalcError where it cannot be exported."""
    from ._export import export_plan
    from ._model import read_model

    target = _framework(to)
    plan = export_plan(read_model(spec), target)
    return export_text(plan)


def export_text(plan: object, command: str | None = None) -> str:
    """The code of an export plan, in its framework."""
    from ._export import ExportPlan

    assert isinstance(plan, ExportPlan)
    if plan.framework is Framework.PYTORCH:
        from ._render._pytorch import render_pytorch

        return render_pytorch(plan, command)
    from ._render._keras import render_keras

    return render_keras(plan, command)


def _framework(to: Framework | str | None) -> Framework | None:
    if to is None or isinstance(to, Framework):
        return to
    try:
        return Framework(str(to).lower())
    except ValueError:
        raise SpecError(f"to {to!r} is not valid: give 'pytorch' or 'keras'") from None
