"""What layers keep for the backward pass while training: the rules shared by several kinds.

PyTorch's autograd keeps, for each operation a gradient flows through, the tensors its backward
formula reads (``derivatives.yaml``). An element-wise activation reads either its output
(ReLU, sigmoid, tanh, softmax, exp) or its input (the others); run in place, it reads its
output when its formula can be written on it, and else a copy of its input made before it is
overwritten (SiLU, hard swish, mish, hard sigmoid, ReLU6, hard tanh).
"""

from __future__ import annotations

import math

from ._kind import Call, Geometry, Saved, SavedRule

KEEPS_OUTPUT = frozenset({"relu", "sigmoid", "tanh", "softmax", "log_softmax", "exponential"})
"""Activations whose backward reads their output."""

IN_PLACE_ON_OUTPUT = frozenset({"relu", "leaky_relu", "elu", "selu", "celu", "sigmoid", "tanh"})
"""Activations that, run in place, read their (overwritten) output. The others (ReLU6 and
hard tanh too, measured in torch 2.13) keep a copy of their input."""

NEW_TENSOR = frozenset({"tanh_shrink"})
"""Activations whose backward reads a tensor they make (tanh shrink: x - tanh x reads tanh x)."""


def activation_saved(function: str | None, inplace: bool, elements: int) -> Saved:
    """What an element-wise activation over ``elements`` values keeps (per sample): its
    output, its input, or a tensor of its own. None and ``linear`` keep nothing."""
    if function is None or function == "linear":
        return Saved(alias=True)
    if inplace:
        if function in IN_PLACE_ON_OUTPUT or function in KEEPS_OUTPUT:
            return Saved(output=True, alias=True)
        return Saved(elements=elements, alias=True)  # a copy of its input, then overwritten
    if function in KEEPS_OUTPUT:
        return Saved(output=True)
    if function in NEW_TENSOR:
        return Saved(elements=elements)
    if function == "log_sigmoid":
        return Saved(input=True, elements=elements)  # and its buffer (empty on a GPU)
    if function == "softsign":
        return Saved(input=True, elements=elements)  # x / (1 + |x|) keeps x and 1 + |x|
    return Saved(input=True)


def with_activation(base: SavedRule) -> SavedRule:
    """A layer with a fused activation (Keras' ``activation=``): the layer's own tensors, then
    the activation's on the layer's output. An activation that keeps its input keeps the
    pre-activation, a tensor of the layer's own."""

    def rule(call: Call, geometry: Geometry) -> Saved:
        own = base(call, geometry)
        function = call.values.get("activation")
        if not isinstance(function, str) or function == "linear":
            return own
        act = activation_saved(function, False, math.prod(geometry.output))
        extra = act.elements + (math.prod(geometry.output) if act.input else 0)
        return own._replace(output=own.output or act.output, elements=own.elements + extra)

    return rule


def conv_saved(call: Call, geometry: Geometry) -> Saved:
    """A convolution keeps its input (its backward for the weights and, through the one
    formula autograd records, whenever any gradient flows)."""
    return Saved(input=True)


def dense_saved(call: Call, geometry: Geometry) -> Saved:
    """A dense layer (addmm or matmul) keeps its input only for its weights' gradient."""
    return Saved(input_for_weights=True)


CONV_SAVED = with_activation(conv_saved)
DENSE_SAVED = with_activation(dense_saved)
