"""Vocabulary several kinds share: activation functions and the parameters many layers take."""

from __future__ import annotations

from ._kind import REQUIRED, Param
from ._values import Choice, Flag, PerAxis, WholeNumber

ACTIVATIONS: tuple[str, ...] = (
    "relu",
    "relu6",
    "leaky_relu",
    "elu",
    "selu",
    "celu",
    "gelu",
    "silu",
    "mish",
    "sigmoid",
    "hard_sigmoid",
    "hard_silu",
    "tanh",
    "hard_tanh",
    "softmax",
    "log_softmax",
    "softplus",
    "softsign",
    "exponential",
    "linear",
)
"""Element-wise functions: none changes a shape or has parameters."""

ACTIVATION_ALIASES: tuple[tuple[str, str], ...] = (
    ("swish", "silu"),
    ("hard_swish", "hard_silu"),
    ("hardswish", "hard_silu"),
    ("hardsigmoid", "hard_sigmoid"),
    ("hardtanh", "hard_tanh"),
    ("leakyrelu", "leaky_relu"),
    ("logsoftmax", "log_softmax"),
    ("identity", "linear"),
    ("none", "linear"),
)

ACTIVATION = Choice(ACTIVATIONS, ACTIVATION_ALIASES)

BIAS_PARAM = Param("bias", Flag(), True, "add a learned bias per output", ("use_bias",))
ACTIVATION_PARAM = Param(
    "activation", ACTIVATION, None, "element-wise function after the layer (no effect on shape)"
)
IN_CHANNELS_PARAM = Param(
    "in_channels",
    WholeNumber(),
    None,
    "optional check: the input channels this layer expects (PyTorch's first argument)",
)

# -- parameters every convolution kind shares ---------------------------------------------------

FILTERS = Param(
    "filters", WholeNumber(), REQUIRED, "output channels (number of filters)", ("out_channels",)
)
KERNEL = Param(
    "kernel",
    PerAxis(),
    REQUIRED,
    "window size: one for all axes (3) or per axis (3x5)",
    ("kernel_size",),
)
STRIDE = Param("stride", PerAxis(), 1, "step between windows", ("strides", "subsample"))
DILATION = Param("dilation", PerAxis(), 1, "gap between kernel taps", ("dilation_rate",))
GROUPS = Param("groups", WholeNumber(), 1, "channel groups; must divide input channels and filters")
