"""Kinds that take any shape: dense, flatten, dropout, activations and batch normalisation."""

from __future__ import annotations

import math

from ._formula import Formula, axes_of, weightless
from ._kind import (
    REQUIRED,
    SPELLED,
    Call,
    Geometry,
    LayerKind,
    Param,
    Receptive,
    Saved,
    Weights,
    a_view,
    no_macs,
    same_shape,
)
from ._saved import DENSE_SAVED, activation_saved
from ._settings import Framework
from ._values import Choice, Flag, Fraction, Integer, Real, WholeNumber, count, show_shape
from ._vocab import (
    ACTIVATION,
    ACTIVATION_ALIASES,
    ACTIVATION_PARAM,
    ACTIVATIONS,
    BIAS_PARAM,
    DATA_FORMAT,
    IGNORED_ACTIVATION,
    IGNORED_ANY,
    IGNORED_DROPOUT,
    IGNORED_NORM,
    IGNORED_WEIGHTS,
)

# -- dense ----------------------------------------------------------------------------------


def dense_shape(call: Call) -> Geometry:
    expected = call.values.get("in_features")
    if expected is not None and expected != call.input[-1]:
        raise call.fail(
            f"in_features {expected} does not match its input, whose last axis is "
            f"{call.input[-1]} (shape {show_shape(call.input)}); "
            "drop in_features or fix the layer before"
        )
    output = (*call.input[:-1], call.number("units"))
    if len(call.input) > 2:  # an image or a volume; on tokens (L, E) it is the usual thing
        call.remark(
            f"{call.where} gets {show_shape(call.input)}, not a flat vector: as Keras' Dense "
            f"and PyTorch's Linear do, it acts on the last axis only and gives "
            f"{show_shape(output)}; if it is a classifier head, flatten (or global pooling) "
            "comes before it",
            key="dense on a non-flat input",
        )
    return Geometry(output)


DENSE_PARAMS: Formula[int] = Formula(
    "params = (in_features + bias) * units", "in_features bias units"
)


def _dense_outputs(call: Call) -> tuple[str, ...]:
    """A dense layer's output axes: the input's but the last, then ``units``."""
    return (*axes_of(call)[:-1], "units")


DENSE_MACS: Formula[int] = Formula(
    "MACs = outputs * in_features", "*outputs in_features", spell={"outputs": _dense_outputs}
)


def dense_weights(call: Call, geometry: Geometry) -> Weights:
    total = DENSE_PARAMS.of(call, call.input[-1], call.flag("bias"), call.number("units"))
    return Weights(trainable=total)


def dense_macs(call: Call, geometry: Geometry) -> int:
    return DENSE_MACS.of(call, geometry.output, call.input[-1])


DENSE = LayerKind(
    name="dense",
    summary="fully connected, on the last axis (Keras Dense, PyTorch Linear)",
    params=(
        Param("units", WholeNumber(), REQUIRED, "outputs", ("out_features", "output_dim")),
        BIAS_PARAM,
        ACTIVATION_PARAM,
        Param(
            "in_features",
            WholeNumber(),
            None,
            "optional check: the input size this layer expects (PyTorch's first argument)",
        ),
    ),
    # Keras' Dense(units, activation, use_bias); PyTorch's Linear(in_features, out_features,
    # bias).
    positional=("units", "activation", "bias"),
    aliases=("Dense", "Linear", "fc", "fully_connected"),
    rank=None,
    shape=dense_shape,
    weights=dense_weights,
    macs=dense_macs,
    receptive=Receptive.LAST_AXIS,
    ignored=IGNORED_WEIGHTS,
    torch_names=("Linear",),
    torch_positional=("in_features", "units", "bias"),
    saved=DENSE_SAVED,
)

# -- flatten ---------------------------------------------------------------------------------


FLATTENED: Formula[int] = Formula("features = axes", "*axes", spell={"axes": axes_of})


def flatten_shape(call: Call) -> Geometry:
    if len(call.input) > 1:
        return Geometry((FLATTENED.of(call, call.input),))
    return Geometry((math.prod(call.input),))


FLATTEN = LayerKind(
    name="flatten",
    summary="all axes into one vector (Keras Flatten, PyTorch Flatten)",
    params=(DATA_FORMAT,),
    positional=(),
    aliases=("Flatten",),
    rank=None,
    shape=flatten_shape,
    weights=weightless("flatten only rearranges its input into one vector"),
    macs=no_macs,
    receptive=Receptive.WHOLE,
    saved=a_view,
)

# -- dropout, activation ------------------------------------------------------------------


def _dropout_saved(call: Call, geometry: Geometry) -> Saved:
    """Dropout keeps its mask, one byte an element (a GPU's bool mask; on a CPU PyTorch keeps
    a float32 one); with rate 0 it returns its input and keeps nothing."""
    if not _rate(call):
        return Saved(alias=True)
    if call.values.get(SPELLED) in ("Dropout1d", "Dropout2d", "Dropout3d"):
        # feature dropout (both devices): input * noise, noise one value a channel
        return Saved(elements=call.channels)
    return Saved(raw_bytes=math.prod(call.input))


def _rate(call: Call) -> float:
    rate = call.values["rate"]
    assert isinstance(rate, (int, float))
    return float(rate)


def _activation_saved(call: Call, geometry: Geometry) -> Saved:
    """An activation layer: what its function keeps (see ``_saved``)."""
    function = call.values.get("function", call.kind.name)
    inplace = call.values.get("inplace") is True
    return activation_saved(str(function), inplace, math.prod(call.input))


def _batchnorm_saved(call: Call, geometry: Geometry) -> Saved:
    """Batch norm, training, keeps its input and the batch's mean and inverse standard
    deviation per channel (float32)."""
    return Saved(input=True, statistics=2 * call.channels)


DROPOUT = LayerKind(
    name="dropout",
    summary="zeroes a fraction of the inputs while training; no shape change, no parameters",
    params=(Param("rate", Fraction(), 0.5, "fraction dropped, 0 to 1", ("p",)),),
    positional=("rate",),
    aliases=(
        "Dropout",
        "Dropout1d",
        "Dropout2d",
        "Dropout3d",
        "SpatialDropout1D",
        "SpatialDropout2D",
        "SpatialDropout3D",
        "AlphaDropout",
        "GaussianDropout",
    ),
    rank=None,
    shape=same_shape,
    weights=weightless("dropout zeroes random inputs while training; nothing is learned"),
    macs=no_macs,
    receptive=Receptive.POINTWISE,
    ignored=IGNORED_DROPOUT,
    saved=_dropout_saved,
    torch_names=("Dropout", "Dropout1d", "Dropout2d", "Dropout3d"),
)

ACTIVATION_KIND = LayerKind(
    name="activation",
    summary="an element-wise function; no shape change, no parameters",
    params=(Param("function", ACTIVATION, REQUIRED, ACTIVATION.describe, ("activation", "fn")),),
    positional=("function",),
    aliases=("Activation",),
    rank=None,
    shape=same_shape,
    weights=weightless(lambda call: _no_weights_why(str(call.values["function"]))),
    macs=no_macs,
    receptive=Receptive.POINTWISE,
    ignored=IGNORED_ANY,
    saved=_activation_saved,
)

# -- batch normalisation ------------------------------------------------------------------


_BATCHNORM_RANKS = {"BatchNorm1d": (1, 2), "BatchNorm2d": (3,), "BatchNorm3d": (4,)}
"""The axes (without the batch) each of PyTorch's classes takes: (C) or (C, L); C H W; C D H W."""


def batchnorm_shape(call: Call) -> Geometry:
    spelled = call.values.get(SPELLED)
    ranks = _BATCHNORM_RANKS.get(spelled) if isinstance(spelled, str) else None
    if ranks is not None and len(call.input) not in ranks:
        axes = " or ".join(str(rank + 1) for rank in ranks)
        raise call.fail(
            f"pytorch's {spelled} takes a {axes}-D input with the batch, but its input "
            f"{show_shape(call.input)} is {len(call.input) + 1}-D: use the BatchNorm for that "
            "rank (BatchNorm1d, 2d, 3d), or batchnorm"
        )
    expected = call.values.get("num_features")
    if expected is not None and expected != call.channels:
        raise call.fail(
            f"num_features {expected} does not match its input, which has "
            f"{count(call.channels, 'channel')} (shape {show_shape(call.input)}); "
            "drop num_features or fix the layer before"
        )
    axis = call.values.get("axis")
    if isinstance(axis, int):
        rank = len(call.input) + 1  # keras counts the batch as axis 0
        channel_axis = rank - 1 if call.channels_last or len(call.input) == 1 else 1
        if not -rank <= axis < rank or axis % rank != channel_axis:
            raise call.fail(
                f"axis {axis} is not the channel axis of its input {show_shape(call.input)} "
                f"(with the batch as axis 0, the channels are axis {channel_axis}, or -1 "
                "channels last); convcalc normalises over the layout's channel axis: drop "
                "axis, or set the layout"
            )
    keras = call.framework is Framework.KERAS
    if keras and not call.channels_last and axis is None and len(call.input) > 1:
        call.remark(
            f"{call.where}: keras' BatchNormalization normalises axis -1 unless told otherwise, "
            "which in this channels-first input is not the channels; convcalc normalises the "
            "channels, as keras does with axis=1: write axis: 1, as keras needs too",
            key="keras batchnorm axis",
        )
    if not keras and ({"center", "scale"} & call.given):
        raise call.fail(
            "center and scale are keras' arguments; pytorch's BatchNorm learns its weight and "
            "bias both or neither: use affine"
        )
    if keras and "track_running_stats" in call.given:
        raise call.fail(
            "track_running_stats is pytorch's argument; keras' BatchNormalization always "
            "keeps its moving mean and variance"
        )
    return Geometry(call.input)


BATCHNORM_KERAS: tuple[Formula[int], Formula[int]] = (
    Formula(
        "trainable = (gamma + beta)*C",
        "gamma beta C",
        note="gamma scales, beta shifts: 1 if learned",
    ),
    Formula("non_trainable = 2*C", "C", note="moving mean and variance"),
)
BATCHNORM_TORCH: tuple[Formula[int], Formula[int]] = (
    Formula("trainable = 2*affine*C", "affine C", note="weight and bias"),
    Formula(
        "buffers = 2*track_running_stats*C",
        "track_running_stats C",
        note="running mean and variance, not parameters",
    ),
)


def batchnorm_weights(call: Call, geometry: Geometry) -> Weights:
    channels, affine = call.channels, call.flag("affine")
    if call.framework is Framework.KERAS:
        # gamma (scale) and beta (center) are trained; the moving mean and variance are
        # weights Keras counts as non-trainable.
        learned, fixed = BATCHNORM_KERAS
        gamma, beta = affine and call.flag("scale"), affine and call.flag("center")
        return Weights(
            trainable=learned.of(call, gamma, beta, channels),
            non_trainable=fixed.of(call, channels),
        )
    # PyTorch: weight and bias are parameters; running mean and variance are buffers, kept
    # only with track_running_stats.
    learned, kept = BATCHNORM_TORCH
    return Weights(
        trainable=learned.of(call, affine, channels),
        buffers=kept.of(call, call.flag("track_running_stats"), channels),
    )


BATCHNORM = LayerKind(
    name="batchnorm",
    summary="batch normalisation over the channel axis (keras 4*C parameters, pytorch 2*C)",
    params=(
        Param(
            "affine",
            Flag(),
            True,
            "learn a scale and shift per channel (false: neither)",
            ("center_scale",),
        ),
        Param("center", Flag(), True, "keras: learn the shift (beta)"),
        Param("scale", Flag(), True, "keras: learn the scale (gamma)"),
        Param(
            "track_running_stats",
            Flag(),
            True,
            "pytorch: keep running mean and variance (buffers)",
        ),
        Param(
            "num_features",
            WholeNumber(),
            None,
            "optional check: the channels this layer expects (PyTorch's first argument)",
        ),
        Param(
            "axis",
            Integer(),
            None,
            "keras: the channel axis, counting the batch as 0 (-1: channels last); must be "
            "the layout's",
        ),
    ),
    # Keras' BatchNormalization(axis, momentum, epsilon, center, scale); PyTorch's
    # BatchNorm2d(num_features, eps, momentum, affine, track_running_stats).
    positional=("axis", "momentum", "epsilon", "center", "scale"),
    aliases=("BatchNormalization", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "bn", "batch_norm"),
    rank=None,
    shape=batchnorm_shape,
    weights=batchnorm_weights,
    macs=no_macs,
    receptive=Receptive.POINTWISE,
    ignored=IGNORED_NORM,
    torch_names=("BatchNorm1d", "BatchNorm2d", "BatchNorm3d"),
    torch_positional=("num_features", "eps", "momentum", "affine", "track_running_stats"),
    saved=_batchnorm_saved,
)


# -- every activation function is a layer type of its own --------------------------------------

_ACTIVATION_CLASS_NAMES = {
    "relu": ("ReLU",),
    "relu6": ("ReLU6",),
    "leaky_relu": ("LeakyReLU",),
    "elu": ("ELU",),
    "selu": ("SELU",),
    "celu": ("CELU",),
    "gelu": ("GELU",),
    "silu": ("SiLU",),
    "mish": ("Mish",),
    "sigmoid": ("Sigmoid",),
    "hard_sigmoid": ("Hardsigmoid",),
    "hard_silu": ("Hardswish",),
    "tanh": ("Tanh",),
    "hard_tanh": ("Hardtanh",),
    "softmax": ("Softmax",),
    "log_softmax": ("LogSoftmax",),
    "softplus": ("Softplus",),
    "softsign": ("Softsign",),
    "hard_shrink": ("Hardshrink",),
    "soft_shrink": ("Softshrink",),
    "tanh_shrink": ("Tanhshrink",),
    "log_sigmoid": ("LogSigmoid",),
}
"""Keras' and PyTorch's class names for the activation layers (the functions themselves and
their other spellings are the vocabulary's, ``_vocab.ACTIVATIONS``)."""

_NOT_A_LAYER = ("linear",)
"""As a layer type, ``linear`` is PyTorch's Linear, which is dense."""

_INPLACE = Param("inplace", Flag(), False, "pytorch: overwrite the input (no effect on counts)")
_AXIS = Param(
    "axis", Integer(), -1, "the axis it normalises over, counting the batch as 0", ("dim",)
)
_ACTIVATION_SETTINGS: dict[str, tuple[Param, ...]] = {
    "relu": (
        Param("max_value", Real(), None, "keras: upper bound (ReLU6 is max_value 6)"),
        Param("negative_slope", Real(), None, "keras: slope below the threshold"),
        Param("threshold", Real(), None, "keras: where the slope changes"),
    ),
    "leaky_relu": (
        Param(
            "negative_slope",
            Real(),
            None,
            "slope below 0 (pytorch default 0.01, keras 0.3)",
            ("alpha",),
        ),
    ),
    "elu": (Param("alpha", Real(), None, "scale of the negative part"),),
    "celu": (Param("alpha", Real(), None, "scale of the negative part"),),
    "softmax": (_AXIS,),
    "log_softmax": (_AXIS,),
    "hard_tanh": (
        Param("min_val", Real(), None, "lower bound"),
        Param("max_val", Real(), None, "upper bound"),
    ),
    "gelu": (
        Param(
            "approximate",
            Choice(("none", "tanh")),
            "none",
            "pytorch: none, or the tanh approximation (no effect on counts)",
        ),
    ),
    "hard_shrink": (Param("lambd", Real(), None, "where it cuts to zero", ("threshold",)),),
    "soft_shrink": (Param("lambd", Real(), None, "where it cuts to zero", ("threshold",)),),
    "softplus": (
        Param("beta", Real(), None, "sharpness"),
        Param("threshold", Real(), None, "where it becomes linear"),
    ),
}
"""Settings each framework's activation class takes: none changes a shape or a count, so
they are accepted (a model copied from code keeps them) and checked only for type."""


def _activation_shape(call: Call) -> Geometry:
    axis = call.values.get("axis")
    if isinstance(axis, int):
        rank = len(call.input) + 1  # the frameworks count the batch axis
        if not -rank <= axis < rank:
            raise call.fail(
                f"axis {axis} is out of range for its input {show_shape(call.input)}, which "
                f"with the batch has {rank} axes; use -1 for the last axis"
            )
    return Geometry(call.input)


def _no_weights_why(function: str) -> str:
    """Why an activation has no weights, for the working."""
    if function in ("softmax", "log_softmax"):
        return f"{function} is a fixed function along one axis; nothing is learned"
    return f"{function} is an element-wise function; nothing is learned"


def _activation_layer(function: str) -> LayerKind:
    settings = _ACTIVATION_SETTINGS.get(function, ())
    spellings = [alias for alias, name in ACTIVATION_ALIASES if name == function]
    return LayerKind(
        name=function,
        summary=f"the {function} activation as a layer of its own: no shape change, no parameters",
        params=(*settings, _INPLACE),
        positional=tuple(param.name for param in settings),
        aliases=(*_ACTIVATION_CLASS_NAMES.get(function, ()), *spellings),
        rank=None,
        shape=_activation_shape,
        weights=weightless(_no_weights_why(function)),
        macs=no_macs,
        receptive=Receptive.POINTWISE,
        ignored=IGNORED_ACTIVATION,
        saved=_activation_saved,
    )


ACTIVATION_LAYERS = tuple(
    _activation_layer(name) for name in ACTIVATIONS if name not in _NOT_A_LAYER
)

BASIC_KINDS: tuple[LayerKind, ...] = (
    DENSE,
    FLATTEN,
    DROPOUT,
    ACTIVATION_KIND,
    BATCHNORM,
    *ACTIVATION_LAYERS,
)
