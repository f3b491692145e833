"""What a layer kind is made of: names, parameters, and its rules for shape, weights and MACs.

Every kind in the catalogue (``_catalogue.py``) is one :class:`LayerKind`. Its three rules take a
:class:`Call` — one layer applied to one input — and return plain values; the engine adds them up
and derives the receptive field from the windows a shape rule reports.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import NamedTuple, Protocol

from ._errors import ShapeError
from ._settings import Framework, Layout, Settings
from ._values import Padding

Shape = tuple[int, ...]
"""A tensor shape without the batch, in the layout's order."""


class ValueType(Protocol):
    """A parameter's type: turns any raw spelling into the normal form, or raises ``Invalid``."""

    @property
    def describe(self) -> str: ...

    def parse(self, raw: object, rank: int) -> object: ...


SPELLED = "\0spelled"
"""The key under which a layer written with PyTorch's exact class name keeps that name among
its values (``BatchNorm2d`` takes only C H W): no parameter is called so."""


class Required:
    """Marks a parameter that has no default."""

    def __repr__(self) -> str:
        return "required"


REQUIRED = Required()


class SameAs(NamedTuple):
    """A default that copies another parameter's value (a pool's stride is its size)."""

    other: str

    def __repr__(self) -> str:
        return f"= {self.other}"


class Param(NamedTuple):
    """One parameter of a layer kind."""

    name: str
    """Canonical name, as shown in help and JSON."""
    type: ValueType
    """How raw values are read and checked."""
    default: object
    """A raw default, :data:`REQUIRED`, :class:`SameAs`, or None for "not set"."""
    help: str
    """One line for ``convcalc layers`` and option help."""
    aliases: tuple[str, ...] = ()
    """Other spellings: Keras' and PyTorch's names for the same thing."""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    @property
    def default_text(self) -> str:
        """The default as help shows it: ``1``, ``= size``, ``required``, ``none``."""
        if self.default is REQUIRED:
            return "required"
        if isinstance(self.default, SameAs):
            return f"= {self.default.other}"
        if self.default is None:
            return "none"
        if isinstance(self.default, bool):
            return "true" if self.default else "false"
        return str(self.default)


class Receptive(enum.Enum):
    """How a kind changes the receptive field."""

    WINDOW = "window"
    """A sliding window per spatial axis, described by the shape rule's windows."""
    POINTWISE = "pointwise"
    """Each output sees exactly what its input saw (activations, normalisation, dropout)."""
    WHOLE = "whole"
    """Each output may see the whole input from here on (flatten, reshape, attention)."""
    LAST_AXIS = "last axis"
    """Mixes the last axis only (dense): each output sees what its position saw when that
    axis is the channels (as in channels-last data, or tokens), the whole input when it is a
    spatial axis."""


class Window(NamedTuple):
    """One spatial axis of a sliding window, as the receptive field sees it."""

    kernel: int
    """Effective kernel: dilation*(kernel-1) + 1."""
    stride: int
    pad_before: int
    """Zeros added before the first element (top or left)."""


class Geometry(NamedTuple):
    """What a shape rule finds: the output shape, and the windows for the receptive field."""

    output: Shape
    windows: tuple[Window, ...] = ()
    order: tuple[int, ...] | None = None
    """For a permute: output axis i is input axis ``order[i]`` (the receptive field's axes
    follow)."""


class Weights(NamedTuple):
    """What a parameter rule counts."""

    trainable: int = 0
    non_trainable: int = 0
    buffers: int = 0
    """Elements held outside the parameters but stored with them (PyTorch's running statistics)."""


class Call(NamedTuple):
    """One layer applied to one input: what every rule of a kind receives."""

    kind: LayerKind
    row: int
    """Position in the report, from 1."""
    name: str
    values: Mapping[str, object]
    """Normalised parameter values, defaults filled in."""
    given: frozenset[str]
    """Which parameters the user wrote (the others are defaults)."""
    input: Shape
    settings: Settings
    notes: list[str] | None = None
    """Where rules write their working when ``--explain`` asks for it; None when it does not."""
    remarks: dict[str, str] | None = None
    """The report's notes: sentences the user should see whatever the format (a framework
    quirk that applied, a likely mistake); None when nobody collects them."""

    # -- typed access to parameter values ---------------------------------------------------
    def number(self, name: str) -> int:
        value = self.values[name]
        assert isinstance(value, int)
        return value

    def axes(self, name: str) -> tuple[int, ...]:
        value = self.values[name]
        assert isinstance(value, tuple)
        return value

    def padding(self, name: str = "padding") -> Padding:
        value = self.values[name]
        assert isinstance(value, (str, tuple))
        return value

    def optional_axes(self, name: str) -> tuple[int, ...] | None:
        """A per-axis value that may be left unset (None), as ``output_padding`` is."""
        value = self.values.get(name)
        assert value is None or isinstance(value, tuple)
        return value

    def margins(self, name: str) -> tuple[tuple[int, int], ...]:
        """(before, after) per spatial axis, as zero-padding and cropping take them."""
        value = self.values[name]
        assert isinstance(value, tuple)
        return value

    def flag(self, name: str) -> bool:
        value = self.values[name]
        assert isinstance(value, bool)
        return value

    def text(self, name: str) -> str | None:
        value = self.values[name]
        assert value is None or isinstance(value, str)
        return value

    # -- the input, seen through the layout --------------------------------------------------
    @property
    def framework(self) -> Framework:
        return self.settings.framework

    @property
    def channels_last(self) -> bool:
        return self.settings.layout is Layout.HWC

    @property
    def spatial(self) -> Shape:
        """The input's spatial sizes (empty for a flat vector)."""
        if len(self.input) <= 1:
            return ()
        return self.input[:-1] if self.channels_last else self.input[1:]

    @property
    def channels(self) -> int:
        """The input's channel count (a flat vector's length)."""
        return self.input[-1] if self.channels_last or len(self.input) == 1 else self.input[0]

    def shape(self, spatial: Shape, channels: int) -> Shape:
        """An output shape from spatial sizes and channels, in the layout's order."""
        return (*spatial, channels) if self.channels_last else (channels, *spatial)

    def axis_labels(self) -> tuple[str, ...]:
        """Names of the spatial axes for explanations: L; H W; D H W."""
        return {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}.get(len(self.spatial), ())

    # -- reporting -----------------------------------------------------------------------------
    @property
    def where(self) -> str:
        """How messages name this layer: ``layer 2 (conv2d_1)``."""
        return f"layer {self.row} ({self.name})"

    def fail(self, message: str) -> ShapeError:
        """An error about this layer, ready to raise."""
        return ShapeError(f"{self.where}: {message}")

    def remark(self, sentence: str, key: str | None = None) -> None:
        """Add a note to the report, once per ``key`` (the sentence itself by default), however
        many layers make it."""
        if self.remarks is not None:
            self.remarks.setdefault(sentence if key is None else key, sentence)

    def note(self, line: str) -> None:
        """Record a line of working (call only under ``if call.notes is not None``)."""
        assert self.notes is not None
        self.notes.append(line)


class Saved(NamedTuple):
    """What a layer keeps for the backward pass while training (PyTorch autograd's saved
    tensors, parameters and buffers aside), when a gradient flows through it at all.

    Its input and output are named, not sized: the engine knows which row made each tensor,
    so a tensor two layers keep (a conv keeps its input, the ReLU before it its output) is
    counted once. Tensors of the layer's own are sized here."""

    input: bool = False
    """Keeps its input (a conv, batchnorm, max pooling, most activations)."""
    output: bool = False
    """Keeps its output (ReLU, sigmoid, tanh, softmax; any activation run in place)."""
    input_for_weights: bool = False
    """Keeps its input only for its weights' gradient: not when they are frozen (dense)."""
    elements: int = 0
    """Elements of tensors of its own, per sample, in the activation type (the pre-activation
    of a fused activation, an in-place activation's copy of its input)."""
    elements_for_weights: int = 0
    """Elements of tensors of its own kept only for its weights' gradient, per sample: not when
    they are frozen (attention's output projection keeps its input, a tensor of its own)."""
    raw_bytes: int = 0
    """Bytes of tensors of its own, per sample, whatever the activation type: max pooling's
    int64 indices (8 a position), dropout's mask (1 an element, as on a GPU)."""
    statistics: int = 0
    """Elements kept once per batch, in float32 at least: batchnorm's mean and inverse
    standard deviation, 2*C."""
    alias: bool = False
    """Its output is its input's storage (a view: flatten, reshape; or run in place)."""


ShapeRule = Callable[[Call], Geometry]
WeightRule = Callable[[Call, Geometry], Weights]
MacRule = Callable[[Call, Geometry], int]
SavedRule = Callable[[Call, Geometry], Saved]


class LayerKind(NamedTuple):
    """One entry of the catalogue: everything convcalc knows about a type of layer."""

    name: str
    """Canonical type name (``conv2d``), used in reports and default layer names."""
    summary: str
    """One line for ``convcalc layers``."""
    params: tuple[Param, ...]
    positional: tuple[str, ...]
    """Parameters that may be given without a name, in order (shorthand, scalar form)."""
    aliases: tuple[str, ...]
    """Other names: Keras' and PyTorch's class names, short forms."""
    rank: int | None
    """Spatial axes the input must have; None for kinds that take any shape."""
    shape: ShapeRule
    weights: WeightRule
    macs: MacRule
    receptive: Receptive
    frameworks: tuple[Framework, ...] = (Framework.KERAS, Framework.PYTORCH)
    """Frameworks that have this kind."""
    ignored: tuple[str, ...] = ()
    """The frameworks' arguments that change no count (initialisers, ``eps``, ``inplace``):
    accepted, so a layer copied from code runs, and otherwise ignored."""
    torch_names: tuple[str, ...] = ()
    """PyTorch's class names for this kind, spelled exactly (``Conv2d``): written so, the
    positional values follow :attr:`torch_positional`, PyTorch's own order."""
    torch_positional: tuple[str, ...] = ()
    """PyTorch's positional order (``in_channels, out_channels, kernel_size, ...``) as
    parameter or ignored names; empty when it is the same as :attr:`positional`."""
    saved: SavedRule | None = None
    """What it keeps for the backward pass (``--train``); None: its input, as most do."""

    def param(self, name: str) -> Param:
        for param in self.params:
            if param.name == name:
                return param
        raise KeyError(name)


def no_weights(call: Call, geometry: Geometry) -> Weights:
    """The parameter rule of kinds with nothing to learn."""
    return Weights()


def no_macs(call: Call, geometry: Geometry) -> int:
    """The MAC rule of kinds that multiply nothing (pooling, reshaping, normalisation)."""
    return 0


def keeps_input(call: Call, geometry: Geometry) -> Saved:
    """The saved-tensor rule of kinds whose backward needs their input (and the default)."""
    return Saved(input=True)


def keeps_nothing(call: Call, geometry: Geometry) -> Saved:
    """The saved-tensor rule of kinds whose backward needs no tensor (padding, concat,
    upsampling, a constant shift)."""
    return Saved()


def a_view(call: Call, geometry: Geometry) -> Saved:
    """The saved-tensor rule of kinds whose output is a view of their input (flatten,
    reshape, permute): nothing kept, and the output is the input's storage."""
    return Saved(alias=True)


def same_shape(call: Call) -> Geometry:
    """The shape rule of element-wise kinds."""
    return Geometry(call.input)
