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
    "hard_shrink",
    "soft_shrink",
    "tanh_shrink",
    "log_sigmoid",
    "sparse_plus",
    "sparse_sigmoid",
    "sparsemax",
    "squareplus",
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

# -- framework arguments that change no count: accepted and ignored ----------------------------

IGNORED_ANY = ("dtype", "device", "autocast")
"""What every Keras layer or PyTorch module may be given."""
IGNORED_WEIGHTS = (
    "kernel_initializer",
    "bias_initializer",
    "kernel_regularizer",
    "bias_regularizer",
    "activity_regularizer",
    "kernel_constraint",
    "bias_constraint",
    *IGNORED_ANY,
)
"""Keras' initialisers, regularisers and constraints of a kernel and bias."""
IGNORED_CONV = IGNORED_WEIGHTS
"""(Keras' ``lora_rank`` is not among them: it adds trainable weights and freezes the kernel.)"""
IGNORED_DEPTHWISE = (
    *IGNORED_CONV,
    "depthwise_initializer",
    "depthwise_regularizer",
    "depthwise_constraint",
    "pointwise_initializer",
    "pointwise_regularizer",
    "pointwise_constraint",
)
IGNORED_NORM = (
    "epsilon",
    "eps",
    "momentum",
    "beta_initializer",
    "gamma_initializer",
    "moving_mean_initializer",
    "moving_variance_initializer",
    "beta_regularizer",
    "gamma_regularizer",
    "beta_constraint",
    "gamma_constraint",
    "synchronized",
    *IGNORED_ANY,
)
IGNORED_MAXPOOL = ("return_indices", *IGNORED_ANY)
IGNORED_AVGPOOL = ("count_include_pad", "divisor_override", *IGNORED_ANY)
IGNORED_DROPOUT = ("noise_shape", "seed", "inplace", *IGNORED_ANY)
IGNORED_ACTIVATION = IGNORED_ANY

PADDING_MODE = Param(
    "padding_mode",
    Choice(("zeros", "reflect", "replicate", "circular")),
    "zeros",
    "pytorch: what the padding holds; reflect needs padding < the input's size, circular at "
    "most its size, transposed convs zeros only",
)
"""PyTorch's ``padding_mode``: never another amount of padding, but not every amount is
allowed."""

DATA_FORMAT = Param(
    "data_format",
    Choice(
        ("channels_last", "channels_first"),
        (("hwc", "channels_last"), ("nhwc", "channels_last"), ("chw", "channels_first")),
    ),
    None,
    "keras: channels_last or channels_first; must match the model's layout (--layout)",
)
"""Keras' per-layer layout: convcalc has one layout per model, which this must match."""
