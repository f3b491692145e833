"""Model-wide settings: whose rules apply, axis order, batch, element type, output format."""

from __future__ import annotations

import enum
from typing import NamedTuple, NoReturn


class Framework(str, enum.Enum):
    """Whose rules decide shapes and counts where Keras and PyTorch differ."""

    KERAS = "keras"
    PYTORCH = "pytorch"


class Layout(str, enum.Enum):
    """Where the channel axis stands in a shape written without the batch."""

    HWC = "hwc"
    """Channels last, Keras' default: (H, W, C)."""
    CHW = "chw"
    """Channels first, PyTorch's order: (C, H, W)."""


class DType(str, enum.Enum):
    """Element type, for memory figures."""

    FLOAT64 = "float64"
    FLOAT32 = "float32"
    FLOAT16 = "float16"
    BFLOAT16 = "bfloat16"
    INT8 = "int8"

    @property
    def bytes(self) -> int:
        """Bytes one element takes."""
        return _DTYPE_BYTES[self]


_DTYPE_BYTES = {
    DType.FLOAT64: 8,
    DType.FLOAT32: 4,
    DType.FLOAT16: 2,
    DType.BFLOAT16: 2,
    DType.INT8: 1,
}


class Optimizer(str, enum.Enum):
    """The optimizer a training estimate assumes: how much state it keeps per trainable
    parameter."""

    SGD = "sgd"
    MOMENTUM = "momentum"
    ADAM = "adam"
    ADAMW = "adamw"

    @property
    def state_per_param(self) -> int:
        """Values of state per trainable parameter: none, a velocity, two moments."""
        return {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}[self.value]


class OutputFormat(str, enum.Enum):
    """How a report is written out."""

    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"
    CSV = "csv"
    SVG = "svg"
    """A diagram of the network, drawn by convcalc (no Graphviz)."""
    HTML = "html"
    """One self-contained page: the diagram, the table, the totals and the settings."""
    MERMAID = "mermaid"
    """The diagram as Mermaid text (documentation sites render it)."""
    DOT = "dot"
    """The diagram as Graphviz DOT text."""

    @property
    def draws(self) -> bool:
        """Whether the format draws the network (a report's rows and the edges between them),
        rather than listing figures: only a report of layers can be drawn."""
        return self in (OutputFormat.SVG, OutputFormat.HTML, OutputFormat.MERMAID, OutputFormat.DOT)


class Measure(str, enum.Enum):
    """A figure of each row: what ranks the rows (``--sort``, largest first) and what shades a
    diagram's boxes (``--color-by``, each row's share of the model's total). One closed set,
    offered under both option names (:data:`SortBy`, :data:`ColorBy`)."""

    PARAMS = "params"
    MACS = "macs"
    MEMORY = "memory"
    """Bytes: the row's parameters and buffers and its output (with ``--train``, its part of
    the training step: weights, buffers, gradients, optimizer state, saved activations)."""


SortBy = Measure
"""What ranks a report's rows (``--sort``): :class:`Measure`."""

ColorBy = Measure
"""What shades a diagram's boxes (``--color-by``): :class:`Measure`."""


class GroupBy(str, enum.Enum):
    """What a report's rows are summed by (``--group-by``): one row per value."""

    TYPE = "type"


class View(NamedTuple):
    """How a report's rows are shown: shares, order, how many, grouped (the hotspot options)."""

    percent: bool = False
    """Each row's share of the model's parameters and MACs (``--percent``)."""
    sort: SortBy | None = None
    """Rows ranked by this, largest first (``--sort``); None: in execution order."""
    top: int | None = None
    """Only the first this many rows (``--top``)."""
    group_by: GroupBy | None = None
    """Rows summed per group (``--group-by``): a group's ``number`` counts its rows."""


class Merge(str, enum.Enum):
    """How a merge joins tensors: a ``residual``'s or ``branches``' paths, or a merge layer's
    inputs (Keras' merging layers; PyTorch's ``+``, ``torch.cat``, ...)."""

    ADD = "add"
    """Element-wise sum: equal shapes."""
    SUBTRACT = "subtract"
    """The second taken from the first (exactly two): equal shapes."""
    AVERAGE = "average"
    """Element-wise mean: equal shapes."""
    MAXIMUM = "maximum"
    """Element-wise maximum: equal shapes."""
    MINIMUM = "minimum"
    """Element-wise minimum: equal shapes."""
    CONCAT = "concat"
    """Joined along the channel axis: equal sizes on every other axis."""
    MULTIPLY = "multiply"
    """Element-wise product, broadcasting as NumPy does (squeeze-and-excitation)."""


def assert_never(value: NoReturn) -> NoReturn:
    """Fail for a value no branch handled; mypy flags the call when a branch is missing.

    ``typing.assert_never`` arrived in Python 3.11; we support 3.10.
    """
    raise AssertionError(f"unhandled value: {value!r}")


DEFAULT_LAYOUT = {Framework.KERAS: Layout.HWC, Framework.PYTORCH: Layout.CHW}
"""Each framework's own default axis order."""


class Settings(NamedTuple):
    """The model-wide choices every layer rule may consult."""

    framework: Framework = Framework.KERAS
    """Whose rules apply."""
    layout: Layout = Layout.HWC
    """Where the channel axis is."""
    batch: int | None = None
    """The batch size, shown as the leading dimension; None shows as ``None``, counts as 1."""
    dtype: DType = DType.FLOAT32
    """Element type for memory figures."""
    explain: bool = False
    """Whether to record each layer's formulas with the numbers put in."""
    train: Optimizer | None = None
    """With an optimizer, also the memory and MACs of a training step (``--train``)."""
    amp: bool = False
    """Mixed precision (``--amp``): float32 weights, gradients and optimizer state, float16
    saved activations."""
    view: View = View()
    """How the rows are shown (``--percent``, ``--sort``, ``--top``, ``--group-by``): set after
    the run, never read by a layer rule."""

    @property
    def weight_bytes(self) -> int:
        """Bytes of one parameter, gradient or optimizer value: float32 under --amp."""
        return 4 if self.amp else self.dtype.bytes

    @property
    def saved_bytes(self) -> int:
        """Bytes of one saved activation element: float16 under --amp."""
        return 2 if self.amp else self.dtype.bytes
