"""The model language: a model's settings, its blocks, constructs, repeats, names and named
tensors, read and computed in one walk.

A model mapping (CONTRACT section 3, section 9) is read here and nowhere else: the settings
(:func:`read_model`), the ``blocks`` (parameterised sub-networks, which see their inputs'
shapes), the constructs (``residual``, ``branches``, ``split``, ``repeat``, an item's ``if``),
merges written as layers (``add: [a, b]``), and the names every row gets. One walk
(:class:`Walker`) goes through the layers in execution order, hands each leaf layer to the
engine (``_engine.apply``) on the tensor that reaches it and reports its row at once: what a
block sees of its input, or which earlier tensor a layer takes, is known when it is read.

Work follows what the model really contains, never what a small file could expand to:

- Before anything is expanded the model is *measured*: its rows, and the block uses and repeats
  reading would expand. Measuring costs about the file's size, not the expansion's: a ``repeat``
  measures its layers once and multiplies (``repeat: 0`` measures nothing inside), unused blocks
  are never looked at, and each list of layers is measured once per set of the values of the
  parameters that can change its size (:meth:`Walker._sizing_of`), then remembered. A model of
  more than :data:`MAX_ROWS` rows or :data:`MAX_STEPS` block uses and repeats is refused at
  once, naming the construct that crosses the line. (What depends on an input's shape, a
  condition on ``$in_channels``, cannot be measured beforehand: measuring stops there.)
- Walking counts as it goes too, so even a model that measuring cannot follow (it stops at the
  first problem, which walking then reports) never builds more than the limits.
- Values are substituted with a memory of what was already done, so a structure that shares
  parts (YAML aliases, a Python mapping reusing one list) costs its size, not its expansion; it
  nests at most :data:`MAX_VALUE_DEPTH` deep.
- Block uses with equal arguments share one parameter mapping, so their layers are substituted
  and checked once and every row of them shares its checked values.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import NamedTuple, TypeVar

from ._catalogue import find_kind, spellings
from ._engine import (
    RunState,
    apply,
    channel_axis,
    check_size,
    initial_field,
    layout_hint,
    merge_row,
    report_of,
)
from ._errors import ConvCalcError, SpecError, did_you_mean
from ._expr import ExprError, evaluate, has_reference, references
from ._kind import REQUIRED, Shape
from ._layer import (
    LAYER_KEYS,
    POSITIONAL,
    Checked,
    LayerSpec,
    build_layer,
    place_positional,
)
from ._report import Field, LayerRow, Report
from ._settings import (
    DEFAULT_LAYOUT,
    DType,
    Framework,
    Layout,
    Merge,
    OutputFormat,
    Settings,
)
from ._values import (
    HUGE,
    Choice,
    Flag,
    Invalid,
    WholeNumber,
    normalize_name,
    parse_shape,
    show,
    show_names,
)


class ModelSpec(NamedTuple):
    """A whole model description: its settings checked, its layers still as written (the walk
    reads them, with the shapes that reach them)."""

    name: str | None
    input: Shape
    settings: Settings
    layers: Sequence[object]
    format: OutputFormat | None = None
    """The file's ``format`` key, if it has one; only the CLI acts on it."""
    blocks: Mapping[str, BlockDef] = MappingProxyType({})
    """The model's ``blocks``, checked, by normalised name."""
    layout_given: bool = False
    """Whether the model said its layout (else it is the framework's default, and a shape
    that looks written in the other order earns a note)."""
    params: Mapping[str, object] = MappingProxyType({})
    """The model's own ``params``: values its top-level layers take as ``$name`` (a zoo
    family's members differ only in them)."""
    min_input: tuple[int, ...] | None = None
    """The smallest size of each spatial axis the model takes, where its builder refuses
    smaller inputs that its layers would run (keras.applications' ``min_size``)."""


class ApplyOp(NamedTuple):
    """A recorded layer: run on the tensor numbered ``source``."""

    layer: LayerSpec
    depth: int
    source: int


class MergeOp(NamedTuple):
    """A recorded merge of the tensors numbered ``sources``."""

    how: Merge
    name: str
    depth: int
    sources: tuple[int, ...]


class PartOp(NamedTuple):
    """A recorded split part: the tensor numbered ``source`` with ``size`` channels on ``axis``."""

    source: int
    axis: int
    size: int


Op = ApplyOp | MergeOp | PartOp


class Program(NamedTuple):
    """What a walk computed, as operations on numbered tensors (0: the input); see
    :meth:`Walker.record`."""

    ops: tuple[Op, ...]
    output: int
    """The number of the tensor the model outputs."""
    shapes: tuple[Shape, ...] = ()
    """Each numbered tensor's shape on the input the program was recorded on."""


def replay(program: Program, shape: Shape, state: RunState) -> Tensor:
    """A recorded program run on the input ``shape``: the tensor that comes out, or
    ConvCalcError where the walk would refuse it (the same rules on the same layers)."""
    values = [Tensor(shape, initial_field(shape), "the model's input")]
    settings = state.settings
    for number, op in enumerate(program.ops, 1):
        if isinstance(op, ApplyOp):
            flow = values[op.source]
            row = apply(
                op.layer, number, flow.shape, flow.field, settings, op.depth, state, flow.source
            )
            values.append(Tensor(row.output_shape, row.receptive_field, row.name))
        elif isinstance(op, MergeOp):
            inputs = [values[source] for source in op.sources]
            row = merge_row(
                op.how,
                op.name,
                number,
                op.depth,
                f"{op.how.value} cannot join its inputs",
                tuple(tensor.source for tensor in inputs),
                [(tensor.shape, tensor.field, tensor.source) for tensor in inputs],
                settings,
                state,
            )
            values.append(Tensor(row.output_shape, row.receptive_field, row.name))
        else:
            flow = values[op.source]
            part = flow.shape[: op.axis] + (op.size,) + flow.shape[op.axis + 1 :]
            values.append(flow._replace(shape=part))
    return values[program.output]


Paths = list[tuple[str, Sequence[object], str | None, "Tensor"]]
"""A construct's paths: (label for messages, its layers, the name of a sub-scope or None to
share the construct's own, its input)."""


class Tensor(NamedTuple):
    """What flows from layer to layer: a shape, its receptive field, and where it came from."""

    shape: Shape
    field: Field | None
    source: str
    """The row that produced it (or the model's input), for messages."""


MAX_NAME = 200
"""Characters in a layer's name: more is a mistake (a pasted file), not a name."""
MAX_PATH = 1_000
"""Characters in a layer's dotted path (its blocks' names and its own)."""

too_deep = "the model nests blocks or constructs too deeply to follow; flatten it"

MODEL_KEYS = (
    "name",
    "input",
    "framework",
    "layout",
    "batch",
    "dtype",
    "format",
    "explain",
    "layers",
    "blocks",
    "params",
    "min_input",
)
_FRAMEWORK = Choice(
    tuple(f.value for f in Framework),
    (("torch", "pytorch"), ("tf", "keras"), ("tensorflow", "keras")),
)
_LAYOUT = Choice(
    tuple(layout.value for layout in Layout),
    (("channels_last", "hwc"), ("nhwc", "hwc"), ("channels_first", "chw"), ("nchw", "chw")),
)
_DTYPE = Choice(
    tuple(d.value for d in DType),
    (
        ("fp64", "float64"),
        ("double", "float64"),
        ("fp32", "float32"),
        ("float", "float32"),
        ("fp16", "float16"),
        ("half", "float16"),
        ("bf16", "bfloat16"),
    ),
)
_FORMAT = Choice(tuple(f.value for f in OutputFormat), (("md", "markdown"),))

E = TypeVar("E", bound=enum.Enum)


def _setting(spec: Mapping[str, object], key: str, choice: Choice, enum_type: type[E]) -> E | None:
    raw = spec.get(key)
    if raw is None:
        return None
    try:
        return enum_type(choice.parse(raw, 0))
    except Invalid as problem:
        raise SpecError(f"{key} {show(raw)} is not valid: {problem.reason}") from None


def read_model(spec: object) -> ModelSpec:
    """Check a model mapping and normalise everything in it; raises SpecError."""
    if not isinstance(spec, Mapping):
        raise SpecError(
            "a model is a mapping with at least 'input' and 'layers', "
            f"not {_what(spec)}; `convcalc zoo show mnist_cnn` prints an example"
        )
    for key in spec:
        if not isinstance(key, str) or key not in MODEL_KEYS:
            raise SpecError(
                f"unknown top-level key {show(key)}{did_you_mean(str(key), MODEL_KEYS)}; "
                f"a model file takes: {', '.join(MODEL_KEYS)}"
            )
    settings = read_settings(spec)
    output_format = _setting(spec, "format", _FORMAT, OutputFormat)
    name = spec.get("name")
    if name is not None and not isinstance(name, str):
        if isinstance(name, bool) or not isinstance(name, (int, float)) or abs(name) >= HUGE:
            raise SpecError(f"name {show(name)} is not valid: a model's name is text")
        name = show(name)
    layers = spec.get("layers")
    if layers is None:
        raise SpecError(
            "the model has no 'layers': give a list of layers, e.g. "
            "layers: [conv2d: {filters: 32, kernel: 3}, flatten, dense: 10]"
        )
    if not isinstance(layers, Sequence) or isinstance(layers, str) or not layers:
        what = "an empty list" if isinstance(layers, Sequence) and not layers else _what(layers)
        raise SpecError(f"'layers' must be a non-empty list of layers, not {what}")
    return ModelSpec(
        name,
        parse_shape(spec.get("input")),
        settings,
        layers,
        output_format,
        read_blocks(spec.get("blocks")),
        spec.get("layout") is not None,
        _model_params(spec.get("params")),
        _min_input(spec.get("min_input")),
    )


def _min_input(raw: object) -> tuple[int, ...] | None:
    if raw is None:
        return None
    try:
        sizes = parse_shape(raw)
    except ConvCalcError as problem:
        raise SpecError(f"min_input {show(raw)} is not valid: {problem}") from None
    return sizes


def check_min_input(model: ModelSpec, shape: Shape) -> None:
    """Refuse an input smaller than the model's ``min_input`` on a spatial axis."""
    if model.min_input is None:
        return
    first = 1 if model.settings.layout is Layout.CHW else 0
    spatial = tuple(shape[first : first + len(shape) - 1])
    if len(spatial) != len(model.min_input):
        raise SpecError(
            f"min_input {list(model.min_input)} gives {len(model.min_input)} sizes, but the "
            f"input {'x'.join(map(str, shape))} has {len(spatial)} spatial axes; give one "
            "smallest size for each"
        )
    if any(size < least for size, least in zip(spatial, model.min_input, strict=True)):
        least = "x".join(map(str, model.min_input))
        raise SpecError(
            f"the input {'x'.join(map(str, shape))} is smaller than this model takes: at least "
            f"{least} on its spatial axes (min_input, the builder's own check, as "
            f"keras.applications' min_size); give --input {least} or larger"
        )


def _model_params(raw: object) -> Mapping[str, object]:
    """The model's ``params``, checked: every one named as a word and given a plain value."""
    where = "the model's params"
    pairs = _block_params(raw, where)
    for key, value in pairs:
        if value is REQUIRED:
            raise SpecError(
                f"{where}: '{key}' has no value; a model's parameter needs one, "
                f"e.g. params: {{{key}: 64}}"
            )
        if _all_references(value):
            raise SpecError(
                f"{where}: '{key}' is {show(value)}; a model's parameter is a plain value, "
                "not an expression"
            )
    return MappingProxyType(dict(pairs))


def analyze(spec: Mapping[str, object]) -> Report:
    """Analyse a model given as the mapping of CONTRACT section 3; raises ConvCalcError."""
    return run(read_model(spec))


def run(model: ModelSpec) -> Report:
    """Walk a checked model's layers in execution order: its report."""
    settings = model.settings
    state = RunState(settings, model.input)
    check_size("the input", model.input, settings)
    check_min_input(model, model.input)
    hint = None if model.layout_given else layout_hint(model.input, settings)
    walker = Walker(model.blocks, max(len(model.input) - 1, 0), state, model.params)
    start = Tensor(model.input, initial_field(model.input), "the model's input")
    try:
        out = walker.read_model(model.layers, start)
    except RecursionError:  # the walk's own limit stops real files long before this
        raise SpecError(too_deep) from None
    except ConvCalcError as problem:
        if hint is None:
            raise
        raise type(problem)(f"{problem} ({hint})") from None
    return report_of(state, model.name, model.input, out.shape, walker.scopes, hint)


def read_settings(spec: Mapping[str, object]) -> Settings:
    """The model-wide settings of a model mapping, checked; defaults where it has none."""
    framework = _setting(spec, "framework", _FRAMEWORK, Framework) or Framework.KERAS
    layout = _setting(spec, "layout", _LAYOUT, Layout) or DEFAULT_LAYOUT[framework]
    dtype = _setting(spec, "dtype", _DTYPE, DType) or DType.FLOAT32
    batch = _optional(spec, "batch", WholeNumber())
    explain = _optional(spec, "explain", Flag())
    return Settings(
        framework, layout, batch if isinstance(batch, int) else None, dtype, bool(explain)
    )


def _optional(spec: Mapping[str, object], key: str, value_type: WholeNumber | Flag) -> object:
    raw = spec.get(key)
    if raw is None:
        return None
    try:
        return value_type.parse(raw, 0)
    except Invalid as problem:
        raise SpecError(f"{key} {show(raw)} is not valid: {problem.reason}") from None


def _what(value: object) -> str:
    """How a wrongly typed value is described in a message."""
    if isinstance(value, str):
        return f"the text {show(value)}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"{show(value)}"


class Scope:
    """Names inside one level of nesting: Keras style, ``conv2d``, ``conv2d_1``, ..., unique."""

    def __init__(
        self,
        prefix: str = "",
        depth: int = 0,
        trainable: bool = True,
        parent: Scope | None = None,
    ) -> None:
        self.prefix = prefix
        """Dotted path of the enclosing block or construct ("" at the top)."""
        self.depth = depth
        self.trainable = trainable
        """False when an enclosing block or construct was marked ``trainable: false``."""
        self.taken: dict[str, str] = {}
        """Names in use here -> where they were given (``layer 3``)."""
        self.counters: dict[str, int] = {}
        self.tensors: dict[str, Tensor] = {}
        """The tensors named here so far: every row's and construct's output by its name,
        and the scope's inputs (``input``, a block's named inputs)."""
        self.inputs: tuple[Mapping[str, int], Sequence[Tensor]] = ({}, ())
        """A block's named inputs: their positions (shared by every use of the block) and the
        tensors given for them."""
        self.parent = parent
        """The scope whose names this one sees too: a construct's paths see the names before
        the construct; a block sees only its inputs."""

    def assign(self, base: str, name: object, where: str) -> str:
        """A unique name in this scope: the user's, or ``base`` with a counter; the full path."""
        if name is not None:
            if (
                isinstance(name, bool)
                or not isinstance(name, (str, int))
                or (isinstance(name, int) and abs(name) >= HUGE)
                or name == ""
            ):
                raise SpecError(f"{where}: name {show(name)} is not valid: a name is a word")
            label = str(name)
            if len(label) > MAX_NAME or len(self.prefix) + len(label) > MAX_PATH:
                raise SpecError(
                    f"{where}: the name {show(label)} is too long: a name takes at most "
                    f"{MAX_NAME} characters, and its dotted path ({self.prefix or 'none'} "
                    f"before it) {MAX_PATH}; give a shorter one"
                )
            if "." in label:
                raise SpecError(
                    f"{where}: the name {show(label)} contains '.', which "
                    "separates the parts of nested names; use '_' instead"
                )
            if label in self.inputs[0]:
                raise SpecError(
                    f"{where}: the name {show(label)} is already used by the block's input "
                    f"{label!r}; give the layer another name"
                )
            if label in self.taken or self._made(label):
                earlier = self.taken.get(label, "an earlier layer, named so by default")
                raise SpecError(
                    f"{where}: the name {show(label)} is already used by {earlier}; layer "
                    "names must be unique"
                )
            self.taken[label] = where
        else:
            counter = self.counters.get(base, 0)
            label = base if counter == 0 else f"{base}_{counter}"
            while label in self.taken:
                counter += 1
                label = f"{base}_{counter}"
            self.counters[base] = counter + 1
        return f"{self.prefix}.{label}" if self.prefix else label

    def _made(self, label: str) -> bool:
        """Whether ``label`` was already given here by default. Default names are not kept
        (a repeat of a million layers would keep a million): ``base``, ``base_1``, ... are
        the ones below the base's counter, and a default name skips every name the user gave."""
        if self.counters.get(label, 0) > 0:
            return True
        base, _, number = label.rpartition("_")
        return (
            number.isdigit()
            and number == str(int(number))
            and 0 < int(number) < self.counters.get(base, 0)
        )

    def child(self, path: str, trainable: bool = True, sees: bool = True) -> Scope:
        return Scope(path, self.depth + 1, self.trainable and trainable, self if sees else None)

    def find(self, name: str) -> Tensor | None:
        """The tensor a name refers to here: this scope's, else an enclosing one's."""
        scope: Scope | None = self
        while scope is not None:
            found = scope.tensors.get(name)
            if found is not None:
                return found
            position = scope.inputs[0].get(name)
            if position is not None:
                return scope.inputs[1][position]
            scope = scope.parent
        return None

    def given(self) -> list[str]:
        """The names given by the user here and in the scopes this one sees."""
        names: list[str] = []
        scope: Scope | None = self
        while scope is not None:
            names[:0] = list(scope.taken)
            scope = scope.parent
        return names

    def visible(self) -> list[str]:
        """Every name :meth:`find` knows, nearest last."""
        chain = []
        scope: Scope | None = self
        while scope is not None:
            chain.append(scope)
            scope = scope.parent
        names: dict[str, None] = {}
        for each in reversed(chain):
            names.update(dict.fromkeys(each.tensors))
            names.update(dict.fromkeys(each.inputs[0]))
        return list(names)


def split_forms(item: object, where: str) -> tuple[str, object, Mapping[str, object]]:
    """(type name, parameters or positional values, layer-level keys) from any of the 4 forms."""
    if isinstance(item, str):
        return item.strip(), None, {}
    if not isinstance(item, Mapping) or not item:
        raise SpecError(
            f"{where}: a layer is a type name (flatten), a mapping of one type to its "
            f"parameters (conv2d: {{filters: 32, kernel: 3}}) or with a 'type' key; "
            f"got {_what(item)}"
        )
    if "type" in item:
        type_name = item["type"]
        if not isinstance(type_name, str):
            raise SpecError(f"{where}: 'type' must be a layer type name, not {_what(type_name)}")
        return type_name.strip(), {k: v for k, v in item.items() if k != "type"}, {}
    keys = [key for key in item if key not in LAYER_KEYS]
    types = [key for key in keys if isinstance(key, str) and find_kind(key) is not None]
    if len(keys) > 1 and len(types) == 1:
        strays = [key for key in keys if key != types[0]]
        stray = show_names([show(key) for key in strays[:6]], len(strays))
        raise SpecError(
            f"{where}: unknown key {stray} beside the type '{types[0]}'; parameters go "
            f"inside it ({types[0]}: {{...}}), and beside it only name and trainable"
        )
    if len(keys) != 1 or not isinstance(keys[0], str):
        shown = show_names([show(key) for key in keys[:6]], len(keys)) or "none"
        raise SpecError(
            f"{where}: a layer mapping needs exactly one type key (or a 'type' key); found {shown}"
        )
    extra = {str(k): v for k, v in item.items() if k in LAYER_KEYS}
    return keys[0].strip(), item[keys[0]], extra


MAX_NESTING = 64
"""Blocks within blocks, constructs within constructs: deeper than any real network."""

MAX_ROWS = 1_000_000
"""More reported rows than any real network has; a bigger expansion is a mistake."""

MAX_STEPS = 100_000
"""Block uses and repeats the reader may expand, each time it meets them: a thousand times what
a real network has (ResNet-152 uses its blocks 50 times). They make no rows of their own, but
cost reading time all the same (some 10 µs each: a chain of blocks, each using the next twice,
with ``repeat: 0`` at the bottom, makes no rows at all), so they are bounded too."""

SCOPES_KEPT = 100_000
"""Construct paths kept for folding (block uses are bounded by MAX_STEPS and always kept)."""

_CACHED = 2_048
"""Distinct block parameter mappings remembered before the walk forgets what it shared."""

MAX_VALUE_DEPTH = 4 * MAX_NESTING + 8
"""Lists and mappings inside one another in one layer's value: the deepest nesting of
constructs the reader follows, written out, at four per level."""

_CANON_DEPTH = 32
"""How deep values are compared for sharing; deeper parts are compared by identity."""

_MERGE_ALIASES = (
    ("sum", "add"),
    ("mul", "multiply"),
    ("concatenate", "concat"),
    ("cat", "concat"),
    ("avg", "average"),
    ("mean", "average"),
    ("max", "maximum"),
    ("min", "minimum"),
    ("sub", "subtract"),
)
MERGES = Choice(tuple(merge.value for merge in Merge), _MERGE_ALIASES)
MERGE_LAYERS: dict[str, Merge] = {
    **{merge.value: merge for merge in Merge},
    **{alias: Merge(merge) for alias, merge in _MERGE_ALIASES if len(alias) > 3},
}
"""Merges written as layers of their own (Keras' ``Add()([a, b])``), by normalised name."""
CONSTRUCTS = ("residual", "branches", "split", "repeat")
SPATIAL_NAMES = {1: ("length",), 2: ("height", "width"), 3: ("depth", "height", "width")}
"""The spatial axes by name, in order, for 1-, 2- and 3-D data."""
SHAPE_NAMES = ("channels", "features", "length", "depth", "height", "width")
"""What a block's parameters see of an input's shape: ``$in_channels``, ``$in_height``, ..."""


class BlockDef(NamedTuple):
    """A named, parameterised sub-network from the model's ``blocks``."""

    name: str
    params: tuple[tuple[str, object], ...]
    """(name, default) in order; the default is REQUIRED when the block must be given it."""
    layers: Sequence[object]
    inputs: tuple[str, ...] = ()
    """The names of its inputs, when it takes more than one (NASNet's cells); else its one
    input is ``input``."""


def read_blocks(raw: object) -> dict[str, BlockDef]:
    """The ``blocks`` mapping, checked; keyed by normalised name."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise SpecError("'blocks' must map block names to {params: ..., layers: [...]}")
    blocks: dict[str, BlockDef] = {}
    for name, body in raw.items():
        where = f"block {show(str(name))}"
        if not isinstance(name, str) or not name.isidentifier():
            raise SpecError(f"{where}: a block name is a word like basic or bottleneck")
        if (
            find_kind(name) is not None
            or normalize_name(name) in CONSTRUCTS
            or normalize_name(name) in MERGE_LAYERS
        ):
            raise SpecError(f"{where}: that is already a layer type; give the block another name")
        if isinstance(body, Sequence) and not isinstance(body, str):
            body = {"layers": body}
        if not isinstance(body, Mapping):
            raise SpecError(f"{where}: a block is {{params: {{...}}, layers: [...]}}")
        for key in body:
            if key not in ("params", "layers", "inputs"):
                raise SpecError(
                    f"{where}: unknown key {show(str(key))}"
                    f"{did_you_mean(str(key), ['params', 'layers', 'inputs'])}; "
                    "a block takes params, layers and inputs"
                )
        layers = body.get("layers")
        if not isinstance(layers, Sequence) or isinstance(layers, str) or not layers:
            raise SpecError(f"{where}: 'layers' must be a non-empty list of layers")
        inputs = _block_inputs(body.get("inputs"), where)
        params = _block_params(body.get("params"), where)
        for key, _ in params:
            for source in ("in", *inputs):
                if key.startswith(f"{source}_") and key[len(source) + 1 :] in SHAPE_NAMES:
                    raise SpecError(
                        f"{where}: a parameter cannot be called {show(key)}: ${key} is the "
                        "size of the block's input, given by the input itself; choose another "
                        "name"
                    )
        blocks[normalize_name(name)] = BlockDef(name, params, layers, inputs)
    return blocks


def _block_inputs(raw: object, where: str) -> tuple[str, ...]:
    """A block's ``inputs``: the names of its inputs, in order (none: one, called input)."""
    if raw is None:
        return ()
    names = [raw] if isinstance(raw, str) else raw
    if (
        not isinstance(names, (list, tuple))
        or not names
        or not all(isinstance(n, str) and n.isidentifier() for n in names)
    ):
        raise SpecError(
            f"{where}: inputs {show(raw)} is not valid: a block's inputs are names, e.g. "
            "inputs: [x, skip]; its layers take them by name"
        )
    if len(set(names)) != len(names):
        raise SpecError(f"{where}: inputs {show(raw)} names an input twice; give each once")
    for reserved in ("in", "input"):
        if reserved in names[1:] or (reserved == "in" and reserved in names):
            raise SpecError(
                f"{where}: an input cannot be called {reserved!r}: "
                + (
                    "$in_channels and the like are the first input's sizes"
                    if reserved == "in"
                    else "input is the block's first input"
                )
                + "; choose another name"
            )
    return tuple(names)


def _block_params(raw: object, where: str) -> tuple[tuple[str, object], ...]:
    if raw is None:
        return ()
    if isinstance(raw, Mapping):
        pairs = [(str(k), REQUIRED if v is None else v) for k, v in raw.items()]
    elif isinstance(raw, Sequence) and not isinstance(raw, str):
        pairs = [(str(k), REQUIRED) for k in raw]
    else:
        raise SpecError(
            f"{where}: 'params' maps parameter names to defaults, e.g. "
            "{filters: 64, stride: 1} (null for a parameter without a default)"
        )
    for key, _ in pairs:
        if key in LAYER_KEYS:
            raise SpecError(
                f"{where}: a parameter cannot be called '{key}': every use of a block takes "
                f"{key} for itself; choose another name"
            )
        if not key.isidentifier():
            raise SpecError(f"{where}: parameter {show(key)} must be a word, used as ${key}")
    return tuple(pairs)


def substitute(value: object, env: Mapping[str, object], where: str, key: str = "") -> object:
    """``value`` with every ``$`` expression replaced; the same object when there is none.

    ``key`` is the parameter the value belongs to, for messages. A part met twice (shared, as
    YAML aliases make them) is substituted once, and nesting deeper than
    :data:`MAX_VALUE_DEPTH` is refused, so no value costs more than its own size."""
    if isinstance(value, str):  # the common case, without the memory below
        return _substitute_text(value, env, where, key)
    if not isinstance(value, (Mapping, list)):
        return value
    return _Substitution(env, where).value(value, key, 0)


def _substitute_text(text: str, env: Mapping[str, object], where: str, key: str) -> object:
    if not has_reference(text):
        return text
    try:
        return evaluate(text, env)
    except ExprError as problem:
        named = f"{key} {show(text)}" if key else show(text)
        raise SpecError(f"{where}: {named}: {problem}") from None


class _Substitution:
    """One call of :func:`substitute`: remembers each part it has done, by identity."""

    def __init__(self, env: Mapping[str, object], where: str) -> None:
        self.env = env
        self.where = where
        self.done: dict[int, tuple[object, object]] = {}

    def value(self, value: object, key: str, depth: int) -> object:
        if isinstance(value, str):
            return _substitute_text(value, self.env, self.where, key)
        if not isinstance(value, (Mapping, list)):
            return value
        seen = self.done.get(id(value))
        if seen is not None:
            return seen[1]
        if depth >= MAX_VALUE_DEPTH:
            named = f"{key} " if key else ""
            raise SpecError(
                f"{self.where}: {named}nests lists and mappings more than {MAX_VALUE_DEPTH} "
                "deep, too deeply to follow; no network needs that: flatten it"
            )
        result: object
        if isinstance(value, Mapping):
            changed: dict[object, object] = {}
            same = True
            for k, v in value.items():
                new = self.value(v, str(k), depth + 1)
                same = same and new is v
                changed[k] = new
            result = value if same else changed
        else:
            items = []
            same = True
            for v in value:
                new = self.value(v, key, depth + 1)
                same = same and new is v
                items.append(new)
            result = value if same else items
        self.done[id(value)] = (value, result)  # the value is kept: its id stays its own
        return result


def _layer_keys_apart(
    body: object, extra: Mapping[str, object], where: str, keys: Sequence[str] = LAYER_KEYS
) -> tuple[object, Mapping[str, object]]:
    """A block use's or construct's own ``name``, ``trainable`` and ``inputs``, wherever they
    were written: beside the type (``{basic: {...}, name: b1}``) or among its arguments
    (``basic: {name: b1, ...}``, ``{type: basic, name: b1, ...}``). ``input`` is read as
    ``inputs``."""
    extra = _one_inputs_key(extra, where)
    if not isinstance(body, Mapping) or not any(key in body for key in keys):
        return body, extra
    merged = dict(extra)
    for key in keys:
        if key in body:
            named = "inputs" if key == "input" else key
            if named in merged:
                raise SpecError(f"{where}: {named} is given twice; give it once")
            merged[named] = body[key]
    return {k: v for k, v in body.items() if k not in keys}, merged


def _inputs_apart(
    body: object, extra: Mapping[str, object], where: str
) -> tuple[object, Mapping[str, object]]:
    """A leaf layer's ``inputs`` (or ``input``), wherever written; its name and trainable stay
    with its parameters, where the layer reads them."""
    return _layer_keys_apart(body, extra, where, ("inputs", "input"))


def _one_inputs_key(extra: Mapping[str, object], where: str) -> Mapping[str, object]:
    if "input" not in extra:
        return extra
    if "inputs" in extra:
        raise SpecError(f"{where}: inputs is given twice (as input and inputs); give it once")
    return {("inputs" if k == "input" else k): v for k, v in extra.items()}


def _counter_name(raw: object, env: Mapping[str, object], where: str) -> str | None:
    """A repeat's ``index``: the name its copies see their number by (``$j``: 0, 1, ...)."""
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw.isidentifier():
        raise SpecError(
            f"{where}: index {show(raw)} is not valid: it names the repeat's counter, a word "
            "such as j, used as $j (0 in the first copy, 1 in the next, ...)"
        )
    if raw in env:
        raise SpecError(
            f"{where}: index {show(raw)} is already a parameter here; give the counter another name"
        )
    return raw


def _listed(extra: Mapping[str, object]) -> list[str]:
    """The names in an item's ``inputs``: one name or a list of them; [] when not names."""
    raw = extra.get("inputs")
    items = raw if isinstance(raw, (list, tuple)) else [raw]
    names = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (str, int)):
            return []
        if isinstance(item, int) and abs(item) >= HUGE:
            return []
        names.append(str(item).strip())
    return names


def _referenced(lists: list[object]) -> frozenset[str]:
    """Every name the model may take a tensor by: the names in ``inputs`` and in merge layers'
    lists; when one is an expression (a name from a parameter), every text in the model, which
    holds whatever it could be. Either way as many as the file has, not its rows. Each part is
    looked at once (shared parts, as YAML aliases make them, cost once)."""
    names: set[str] = set()
    texts: set[str] = set()
    computed = False
    seen: set[int] = set()
    todo: list[object] = list(lists)
    while todo:
        value = todo.pop()
        if isinstance(value, str):
            texts.add(value.strip())
            continue
        if not isinstance(value, (Mapping, list, tuple)) or id(value) in seen:
            continue
        seen.add(id(value))
        if not isinstance(value, Mapping):
            todo.extend(value)
            continue
        merge = isinstance(value.get("type"), str) and normalize_name(value["type"]) in MERGE_LAYERS
        for key, item in value.items():
            if key in ("inputs", "input", POSITIONAL if merge else "inputs") or (
                isinstance(key, str) and normalize_name(key) in MERGE_LAYERS
            ):
                for name in item if isinstance(item, (list, tuple)) else [item]:
                    if isinstance(name, str):
                        computed = computed or "$" in name
                        names.add(name.strip())
                    elif isinstance(name, int) and not isinstance(name, bool) and abs(name) < HUGE:
                        names.add(str(name))
            todo.append(item)
    return frozenset(names | texts) if computed else frozenset(names)


def _local(path: str) -> str:
    """A dotted path's last part: the name a row is known by in its scope."""
    return path.rpartition(".")[2]


def _shape_names(shape: Shape, settings: Settings) -> dict[str, int]:
    """An input's sizes by name, in the layout's meaning: channels (``features`` for a flat
    vector), then length (1-D), height and width (2-D), depth, height and width (3-D)."""
    if not shape:
        return {}
    if len(shape) == 1:
        return {"channels": shape[0], "features": shape[0]}
    first = settings.layout is Layout.CHW
    channels = shape[0] if first else shape[-1]
    spatial = shape[1:] if first else shape[:-1]
    found = {"channels": channels}
    found.update(zip(SPATIAL_NAMES.get(len(spatial), ()), spatial, strict=False))
    return found


def _sections(raw: object, channels: int, paths: int, where: str) -> list[int]:
    """A split's parts: ``sections: N`` equal parts, or a list of their sizes, one per path."""
    if isinstance(raw, (list, tuple)):
        try:
            sizes = [WholeNumber(minimum=1).parse(size, 0) for size in raw]
        except Invalid:
            sizes = []
        if len(raw) != paths:
            raise SpecError(
                f"{where}: split sections {show(raw)} is not valid: it gives {len(raw)} parts "
                f"for {paths} paths; give one size per path"
            )
        if not sizes or sum(sizes) != channels:
            raise SpecError(
                f"{where}: split sections {show(raw)} is not valid: the parts' sizes are whole "
                f"numbers from 1 that add up to the input's {channels} channels"
            )
        return sizes
    try:
        count = WholeNumber(minimum=1).parse(raw, 0)
    except Invalid:
        count = 0
    if count != paths:
        raise SpecError(
            f"{where}: split sections {show(raw)} is not valid: it is the number of parts, one "
            f"per path, so {paths} here (or a list of {paths} sizes)"
        )
    if channels % count:
        even = [channels // count + (1 if i < channels % count else 0) for i in range(count)]
        raise SpecError(
            f"{where}: split sections {count} is not valid: {channels} channels do not cut into "
            f"{count} equal parts; give the parts' sizes, e.g. sections: {even}"
        )
    return [channels // count] * count


# -- what can change a block's size ----------------------------------------------------------
class _Sizing(NamedTuple):
    """What one block's own layers say about the parameters its expansion depends on."""

    direct: frozenset[str]
    """Parameters named where they shape the expansion: repeat counts, layer lists, whole items,
    construct bodies, types."""
    passed: tuple[tuple[str, str, frozenset[str]], ...]
    """(block used, its parameter, the parameters named in the argument given for it)."""


def _all_references(value: object) -> set[str]:
    """Every ``$name`` anywhere in a value (its values, not its keys); shared parts once."""
    names: set[str] = set()
    seen: set[int] = set()
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, str):
            names |= references(item)
        elif isinstance(item, (Mapping, list, tuple)):
            if id(item) in seen:
                continue
            seen.add(id(item))
            todo.extend(item.values() if isinstance(item, Mapping) else item)
    return names


def _own_sizing(block: BlockDef, blocks: Mapping[str, BlockDef]) -> _Sizing:
    """Where ``block``'s layers name its parameters in a way that can change how much they
    expand to; everything else (a leaf's own parameters, a merge's kind) cannot. Anything not
    understood here counts as shaping, which only makes measuring remember less."""
    direct: set[str] = set()
    passed: list[tuple[str, str, frozenset[str]]] = []
    seen: set[int] = set()
    todo: list[object] = [block.layers]  # lists of layer items

    def layers(value: object) -> None:
        """A place that holds a list of layers (or an expression giving one)."""
        if isinstance(value, str):
            direct.update(references(value))
        elif isinstance(value, Sequence):
            todo.append(value)
        else:
            direct.update(_all_references(value))

    while todo:
        items = todo.pop()
        if not isinstance(items, Sequence) or isinstance(items, str) or id(items) in seen:
            continue
        seen.add(id(items))
        for item in items:
            if isinstance(item, str):
                direct.update(references(item))  # a lone $name may stand for a whole item
                continue
            if not isinstance(item, Mapping):
                continue  # reading refuses it
            if "if" in item:
                direct.update(_all_references(item.get("if")))
                item = {k: v for k, v in item.items() if k != "if"}
            if "repeat" in item:
                direct.update(_all_references(item.get("repeat")))
                layers(item.get("layers"))
                continue
            if "type" in item:
                type_name = item["type"]
                if not isinstance(type_name, str) or has_reference(type_name):
                    direct.update(_all_references(item))
                    continue
                body: object = {k: v for k, v in item.items() if k != "type"}
            else:
                keys = [k for k in item if k not in LAYER_KEYS]
                if len(keys) != 1 or not isinstance(keys[0], str):
                    direct.update(_all_references(item))
                    continue
                type_name, body = keys[0], item[keys[0]]
            key = normalize_name(type_name.strip())
            if find_kind(type_name) is not None or key in MERGE_LAYERS:
                continue  # one row, whatever its parameters
            if isinstance(body, str):
                direct.update(references(body))  # the whole body from one parameter
                continue
            if key == "residual":
                if isinstance(body, Mapping):
                    layers(body.get("layers"))
                    layers(body.get("shortcut") or [])
                else:
                    layers(body)
            elif key in ("branches", "split"):
                paths = body.get("paths") if isinstance(body, Mapping) else None
                if isinstance(paths, Sequence) and not isinstance(paths, str):
                    for path in paths:
                        layers(path or [])
                else:
                    layers(paths or [])
            elif key in blocks:
                used = blocks[key]
                names = [name for name, _ in used.params]
                if isinstance(body, Mapping):
                    given = [(str(k), v) for k, v in body.items() if k not in LAYER_KEYS]
                elif body is None:
                    given = []
                elif isinstance(body, (list, tuple)):
                    given = list(zip(names, body, strict=False))
                else:
                    given = list(zip(names, [body], strict=False))
                for name, value in given:
                    passed.append((key, name, frozenset(_all_references(value))))
    return _Sizing(frozenset(direct), tuple(passed))


class _Stop(Exception):
    """Measuring cannot follow an item: reading it reports why, and counts as it goes."""


class _TooMany(SpecError):
    """The model expands beyond MAX_ROWS or MAX_STEPS."""

    def __init__(self, message: str, placed: bool = False) -> None:
        super().__init__(message)
        self.placed = placed
        """Whether the message names a top-level layer (where the user can act)."""


class Walker:
    """Walks a model's layers in execution order, computing each row as it is read (see the
    module docstring)."""

    def __init__(
        self,
        blocks: Mapping[str, BlockDef],
        input_rank: int,
        state: RunState,
        params: Mapping[str, object] = MappingProxyType({}),
    ) -> None:
        self.blocks = blocks
        self.params = params
        """The model's own parameters: the top-level layers' ``$name`` values."""
        self.state = state
        """The engine's state for this run: the settings, the rows so far, the notes."""
        self.program: list[Op] | None = None
        """Operations recorded while walking (see :meth:`record`), or None."""
        self._slots: dict[int, int] = {}
        self._held: list[Tensor] = []
        self.partial = False
        """Whether measuring met something it could not follow (and counted it as nothing)."""
        self.referenced: frozenset[str] = frozenset()
        """The names the model takes tensors by (None: any name may be): only those tensors
        are kept, so a million rows do not keep a million."""
        self.input_rank = input_rank
        """Spatial axes of the model's input: a rank-free name (``conv``) is first read as its
        family's kind for that rank, so its row is named as its kind (the engine reads it again
        if its input turns out to have another rank)."""
        self.rows = 0
        self.steps = 0
        """Block uses and repeats expanded while reading (see MAX_STEPS)."""
        self.scopes: dict[str, str] = {}
        """Dotted path of every block use and construct -> its type."""
        self._checked: dict[int, tuple[object, Checked, dict[str, object]]] = {}
        """Layer items already checked, by identity (the item is kept, so ids stay unique):
        (item, its checked values, its parameters by name)."""
        self._forms: dict[
            tuple[int, int],
            tuple[object, object, tuple[object, str, object, Mapping[str, object]]],
        ] = {}
        """Items already substituted and split, by identity of the item and its parameters."""
        self._uses: dict[tuple[int, int], tuple[object, object, dict[str, object], bool]] = {}
        """Block uses already bound, by identity of the (substituted) item and its parameters:
        (item, parameters, the block's parameters bound, trainable)."""
        self._conditioned: dict[int, tuple[object, Mapping[object, object]]] = {}
        self._read_sizes: dict[str, frozenset[str]] = {}
        self._positions: dict[str, Mapping[str, int]] = {}
        """Per block: the inputs whose sizes its values name (see :meth:`_reads`)."""
        """Items with an ``if``, by identity -> (the item, the item without it)."""
        self._envs: dict[object, dict[str, object]] = {}
        """One parameter mapping per block and equal arguments, so that equal uses share the
        work above."""
        self._sizes: dict[tuple[int, object], tuple[object, int, int]] = {}
        """Lists of layers measured: (id, parameters that matter) -> (the list, rows, steps)."""
        self._sizing: dict[str, tuple[str, ...]] = {}
        """Per block: the parameters its size can depend on, in order."""
        self._interned: dict[object, int] = {}
        """Hash-consing of values compared for sharing: structure -> a number."""
        self._kept: list[object] = []
        """Values compared by identity, kept alive so that their ids stay theirs."""

    def read_model(self, items: Sequence[object], start: Tensor) -> Tensor:
        """Walk the model's layers from its input; the tensor that comes out."""
        try:
            self._measure(items, self.params, (), (), 0, 0, 0)
        except _Stop:
            pass  # walking reports the problem, with the layer's position
        self.referenced = _referenced(
            [items, *((block.layers, block.params) for block in self.blocks.values())]
        )
        top = Scope()
        top.tensors["input"] = start
        return self.read_list(items, top, self.params, (), start)

    def record(self, items: Sequence[object], start: Tensor) -> Program:
        """Walk the model once, recording what it computes as a program of operations on
        numbered tensors (0 is the input): :func:`replay` runs it on another input at a
        fraction of a walk's cost. Only for models whose structure does not depend on their
        input's sizes (no block reads them: see :meth:`reads_sizes`)."""
        self.program = []
        self._slots = {id(start): 0}
        self._held = [start]
        out = self.read_model(items, start)
        program = Program(
            tuple(self.program), self._slots[id(out)], tuple(t.shape for t in self._held)
        )
        self.program = None
        self._slots.clear()
        self._held.clear()
        return program

    def reads_sizes(self) -> bool:
        """Whether any block's values name an input's size (its structure may then change
        with the input)."""
        return any(self._reads(block) for block in self.blocks.values())

    def _record(self, op: Op, out: Tensor) -> None:
        assert self.program is not None
        self._slots[id(out)] = len(self._held)
        self._held.append(out)  # kept: its id stays its own
        self.program.append(op)

    def again(self, items: Sequence[object], start: Tensor, state: RunState) -> Tensor:
        """Walk the same model again, on another input (``convcalc sizes`` tries a thousand):
        what was read and checked is remembered, only the arithmetic is done anew."""
        self.state = state
        self.rows = self.steps = 0
        self.scopes = {}
        top = Scope()
        top.tensors["input"] = start
        return self.read_list(items, top, self.params, (), start)

    def measure(self, items: Sequence[object]) -> int:
        """Rows the top-level ``items`` expand to, without expanding them; raises SpecError when
        over the limits, and for anything it cannot follow (reading would say why)."""
        try:
            rows = self._measure(items, self.params, (), (), 0, 0, 0)[0]
        except _Stop:
            rows = -1
        if rows < 0 or self.partial:
            raise SpecError("the model cannot be measured: read it to see why") from None
        return rows

    # -- measuring (no expansion) --------------------------------------------------------------
    def _measure(
        self,
        items: Sequence[object],
        env: Mapping[str, object],
        env_key: object,
        stack: tuple[str, ...],
        depth: int,
        rows_before: int,
        steps_before: int,
    ) -> tuple[int, int]:
        """(rows, block uses and repeats expanded) of a list of layers; ``rows_before`` and
        ``steps_before`` are the totals before it, for positions and the limits."""
        memo_key = (id(items), env_key)
        known = self._sizes.get(memo_key)
        if known is not None and known[0] is items:
            return known[1], known[2]
        rows = steps = 0
        for item in items:
            more_rows, more_steps = self._measure_item(
                item, env, env_key, stack, depth, rows_before + rows, steps_before + steps
            )
            rows += more_rows
            steps += more_steps
        self._sizes[memo_key] = (items, rows, steps)  # the list is kept: its id stays its own
        return rows, steps

    def _measure_item(
        self,
        item: object,
        env: Mapping[str, object],
        env_key: object,
        stack: tuple[str, ...],
        depth: int,
        rows_before: int,
        steps_before: int,
    ) -> tuple[int, int]:
        where = _where(rows_before + 1, stack)
        if depth > MAX_NESTING or len(stack) > MAX_NESTING:
            raise _Stop
        try:
            rows, steps, what, detail = self._measure_checked(
                item, env, env_key, stack, depth, rows_before, steps_before, where
            )
        except _TooMany as problem:
            if problem.placed or depth:
                raise
            raise _TooMany(f"{problem}; it is part of {_describe(item)} at {where}", True) from None
        except (SpecError, _Stop):
            # What depends on an input's shape ($in_channels), or is wrong (the walk says
            # why, at its place), counts as nothing here; the rest is still measured.
            self.partial = True
            return 0, 0
        _limit(what, where, rows, steps, rows_before, steps_before, detail, not depth)
        return rows, steps

    def _measure_checked(
        self,
        item: object,
        env: Mapping[str, object],
        env_key: object,
        stack: tuple[str, ...],
        depth: int,
        rows_before: int,
        steps_before: int,
        where: str,
    ) -> tuple[int, int, str, str]:
        """(rows, steps, what to call the item, how its rows come about) for one item. Only
        what shapes the expansion is substituted: a leaf is one row, whatever its values."""
        if isinstance(item, Mapping) and "if" in item:
            if not self._holds(item["if"], env, where):
                return 0, 1, "the item", ""  # a step, as repeat: 0 is
            item = self._without_if(item)
        if isinstance(item, Mapping) and "repeat" in item:
            count = self._repeat_count(item, env, where)
            if count == 0:
                return 0, 1, "repeat", ""
            layers = self._list(_open(item.get("layers"), env, where, "layers"), "repeat", where)
            rows, steps = self._measure(
                layers, env, env_key, stack, depth, rows_before, steps_before + 1
            )
            return count * rows, 1 + count * steps, "repeat", f"{count:,} times {rows:,}"
        if isinstance(item, str):
            item = _open(item, env, where, "")
        elif isinstance(item, Mapping) and isinstance(item.get("type"), str):
            item = {**item, "type": _open(item["type"], env, where, "type")}
        type_name, body, extra = split_forms(item, where)
        key = normalize_name(type_name)
        if key in self.blocks:  # its arguments, as reading substitutes them
            body = substitute(body, env, where)
        elif key in ("residual", "branches", "split"):
            body = _open(body, env, where, key)
        if key in ("residual", "branches", "split") or key in self.blocks:
            body, extra = _layer_keys_apart(body, extra, where)
        if key == "residual":
            if isinstance(body, Mapping):
                body = {k: _open(v, env, where, str(k)) for k, v in body.items()}
            layers, shortcut = self._residual_parts(body, where)
            main = self._measure(layers, env, env_key, stack, depth + 1, rows_before, steps_before)
            side = self._measure(
                shortcut,
                env,
                env_key,
                stack,
                depth + 1 + bool(layers),
                rows_before + main[0],
                steps_before + main[1],
            )
            return main[0] + side[0] + 1, main[1] + side[1], "residual", ""
        if key in ("branches", "split"):
            if isinstance(body, Mapping):
                body = {k: _open(v, env, where, str(k)) for k, v in body.items()}
                paths = body.get("paths")
                if isinstance(paths, list):
                    body["paths"] = [_open(path, env, where, "paths") for path in paths]
                body.pop("sections", None)
            _, paths = self._branches_parts(body, where, key)
            rows = steps = 0
            for path in paths:
                more = self._measure(
                    path,
                    env,
                    env_key,
                    stack,
                    depth + 1,
                    rows_before + rows,
                    steps_before + steps,
                )
                rows += more[0]
                steps += more[1]
            return rows + 1, steps, key, ""
        if find_kind(type_name) is not None or key in MERGE_LAYERS:
            return 1, 0, show(type_name), ""
        block = self.blocks.get(key)
        if block is None or block.name in stack:
            raise _Stop  # reading says what is wrong
        inner = self._bind(block, body, where)
        rows, steps = self._measure(
            block.layers,
            inner,
            self._env_key(block, inner),
            (*stack, block.name),
            depth + 1,
            rows_before,
            steps_before + 1,
        )
        return rows, 1 + steps, f"block '{block.name}'", ""

    def _env_key(self, block: BlockDef, env: Mapping[str, object]) -> object:
        """What measuring a block's layers under ``env`` depends on: the values of the
        parameters that can change its size, compared by value (lists too). When one of them
        holds a ``$`` expression still to be worked out, every parameter counts."""
        names = self._sizing_of(block)
        canon = _Canon(self)
        parts = []
        for name in names:
            if name in env:
                value_key, pending = canon.key(env[name], 0)
                if pending:
                    break
                parts.append((name, value_key))
        else:
            return (block.name, tuple(parts))
        return (block.name, "all", tuple((k, canon.key(v, 0)[0]) for k, v in env.items()))

    def _sizing_of(self, block: BlockDef) -> tuple[str, ...]:
        """The parameters of ``block`` its expansion can depend on (worked out once, for it and
        every block it reaches, by a fixed point over what each passes to the next)."""
        key = normalize_name(block.name)
        done = self._sizing.get(key)
        if done is not None:
            return done
        own: dict[str, _Sizing] = {}
        todo = [key]
        while todo:
            name = todo.pop()
            if name in own or name in self._sizing or name not in self.blocks:
                continue
            own[name] = _own_sizing(self.blocks[name], self.blocks)
            todo.extend(used for used, _, _ in own[name].passed)
        # What a block needs grows with what the blocks it uses need: a worklist to the fixed
        # point, callees first, each block again whenever one it uses needs more.
        callers: dict[str, set[str]] = {}
        for name, sizing in own.items():
            for used, _, _ in sizing.passed:
                callers.setdefault(used, set()).add(name)
        found: dict[str, set[str]] = {name: set() for name in own}
        queue = list(own)  # popped from the end: the deepest blocks found first
        queued = set(queue)
        while queue:
            name = queue.pop()
            queued.discard(name)
            sizing = own[name]
            defined = dict(self.blocks[name].params)
            needed = set(sizing.direct)
            for used, param, named in sizing.passed:
                theirs = self._sizing.get(used)
                if param in (theirs if theirs is not None else found.get(used, ())):
                    needed |= named
            # A default is substituted where it is used: what it names counts as well.
            grow = [p for p in needed if p in defined]
            while grow:
                for other in _all_references(defined[grow.pop()]):
                    if other not in needed and other in defined:
                        needed.add(other)
                        grow.append(other)
            needed &= defined.keys()
            if needed != found[name]:
                found[name] = needed
                for caller in callers.get(name, ()):
                    if caller not in queued:
                        queue.append(caller)
                        queued.add(caller)
        for name, needed in found.items():
            params = [p for p, _ in self.blocks[name].params]
            self._sizing[name] = tuple(p for p in params if p in needed)
        return self._sizing[key]

    # -- reading and computing, in one walk ----------------------------------------------------
    def read_list(
        self,
        items: Sequence[object],
        scope: Scope,
        env: Mapping[str, object],
        stack: tuple[str, ...],
        flow: Tensor,
    ) -> Tensor:
        """Walk a list of layers from ``flow``; the tensor that comes out."""
        for item in items:
            flow = self.read_item(item, scope, env, stack, flow)
        return flow

    def read_item(
        self,
        item: object,
        scope: Scope,
        env: Mapping[str, object],
        stack: tuple[str, ...],
        flow: Tensor,
    ) -> Tensor:
        where = _where(self.rows + 1, stack)
        if scope.depth > MAX_NESTING or len(stack) > MAX_NESTING:
            raise SpecError(
                f"{where}: blocks and constructs are nested more than {MAX_NESTING} deep "
                f"(blocks in use: {' -> '.join(stack[:3])} ...): too deeply for any network; "
                "flatten it"
            )
        if isinstance(item, Mapping) and "if" in item:
            if not self._holds(item["if"], env, where):
                self._count_step(where)  # as repeat: 0 is: a million skipped items cost time
                return flow
            item = self._without_if(item)
        if isinstance(item, Mapping) and "repeat" in item:
            self._count_step(where)
            return self._repeat(item, scope, env, stack, where, flow)
        # Copies of a repeated item meet the same item and parameters again: read it once.
        seen = self._forms.get((id(item), id(env)))
        if seen is not None and seen[0] is item and seen[1] is env:
            item, type_name, body, extra = seen[2]
        else:
            original = item
            item = substitute(item, env, where)
            type_name, body, extra = split_forms(item, where)
            self._forms[(id(original), id(env))] = (original, env, (item, type_name, body, extra))
        key = normalize_name(type_name)
        merge = MERGE_LAYERS.get(key)
        grouping = key in CONSTRUCTS or key in self.blocks
        if grouping or merge is not None:
            body, extra = _layer_keys_apart(body, extra, where)
        else:
            body, extra = _inputs_apart(body, extra, where)
        inputs = self._inputs(extra, scope, where, flow)
        if merge is not None:
            return self._merge_layer(merge, type_name, body, extra, inputs, scope, where)
        if key in self.blocks:
            return self._use(key, item, body, extra, scope, env, stack, where, inputs)
        if len(inputs) != 1:
            raise SpecError(
                f"{where}: {show(type_name)} takes one input, got {len(inputs)} "
                f"({', '.join(show(name) for name in _listed(extra))}); to join tensors use a "
                "merge layer: add, concat, multiply, average, maximum, minimum or subtract"
            )
        flow = inputs[0]
        trainable = self._trainable(extra, where) if grouping else True
        if key in ("residual", "branches", "split"):
            if key == "residual":
                merge, paths = self._residual_paths(body, where, flow)
            elif key == "branches":
                merge, paths = self._branches_paths(body, where, flow)
            else:
                merge, paths = self._split_paths(body, where, flow)
            return self._merge_node(key, merge, paths, extra, scope, env, stack, where, trainable)
        kind = find_kind(type_name, self.input_rank)
        if kind is None and key == "repeat":
            raise SpecError(
                f"{where}: a repeat is written {{repeat: 3, layers: [...]}}: the count beside "
                "the layers it repeats (a chain has no repeat: write the layers out)"
            )
        if kind is None:
            names = [
                *spellings(),
                *CONSTRUCTS,
                *MERGE_LAYERS,
                *(b.name for b in self.blocks.values()),
            ]
            raise SpecError(
                f"{where}: unknown layer type {show(type_name)}"
                f"{did_you_mean(type_name, names)}; `convcalc layers` lists them"
            )
        self._count_row(where)
        # An unchanged item (the same object: a repeat, a block without $ in it, a block used
        # again with equal arguments) is checked once; `substitute` returns a new object
        # whenever anything changed. Its rows share the checked values and the parameters as
        # placed (kept by a rank-free layer), so a row costs its name and its number.
        prior = self._checked.get(id(item))
        if prior is not None and prior[0] is item:
            params, checked = prior[2], prior[1]
            label = scope.assign(kind.name, params.get("name"), where)
            layer = build_layer(
                kind, params, where, label, self.rows, scope.depth, checked, scope.trainable
            )[0]
        else:
            params = place_positional(kind, body, where, type_name)
            params.update(extra)
            label = scope.assign(kind.name, params.get("name"), where)
            layer, checked = build_layer(
                kind, params, where, label, self.rows, scope.depth, None, scope.trainable
            )
            self._checked[id(item)] = (item, checked, params)
        row = apply(
            layer,
            self.rows,
            flow.shape,
            flow.field,
            self.state.settings,
            scope.depth,
            self.state,
            flow.source,
        )
        out = self._emit(row, scope)
        if self.program is not None:
            self._record(ApplyOp(layer, scope.depth, self._slots[id(flow)]), out)
        return out

    def _emit(self, row: LayerRow, scope: Scope, local: str | None = None) -> Tensor:
        """Report a row; its output, named in ``scope`` (by ``local``, else its own name)."""
        self.state.emit(row)
        tensor = Tensor(row.output_shape, row.receptive_field, row.name)
        self._name(scope, local or _local(row.name), tensor)
        return tensor

    def _name(self, scope: Scope, local: str, tensor: Tensor) -> None:
        """Keep a tensor under its name, if the model takes any tensor by that name."""
        if local in self.referenced:
            scope.tensors[local] = tensor

    def _count_row(self, where: str) -> None:
        self.rows += 1
        if self.rows > MAX_ROWS:
            raise SpecError(
                f"{where}: the model has more than {MAX_ROWS:,} rows once its repeats and "
                "blocks are expanded (MAX_ROWS); lower a repeat count"
            )

    def _count_step(self, where: str) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise SpecError(
                f"{where}: the model expands more than {MAX_STEPS:,} block uses and repeats "
                "(MAX_STEPS), even if few rows come out of them; lower a repeat count"
            )

    def _scope(self, path: str, construct: str) -> None:
        """Record a construct's path for folding, while fewer than SCOPES_KEPT are: past that,
        a construct named by default (``residual_12``) is recognised by its name."""
        if len(self.scopes) < SCOPES_KEPT:
            self.scopes[path] = construct

    def _trim(self) -> None:
        """Forget the work remembered for sharing: uses of a block whose values change at every
        use (a width from its input's size) would otherwise keep every one of them."""
        for cache in (
            self._forms,
            self._checked,
            self._uses,
            self._envs,
            self._sizes,
            self._interned,
            self._conditioned,
            self.state.memo,
            self.state.reread,
        ):
            cache.clear()
        self._kept.clear()

    def _input_positions(self, block: BlockDef) -> Mapping[str, int]:
        """A block's input names -> their positions: one mapping per block, shared by its
        uses (a block of 5,000 inputs used 300 times builds it once)."""
        found = self._positions.get(block.name)
        if found is None:
            found = {name: position for position, name in enumerate(block.inputs)}
            self._positions[block.name] = found
        return found

    def _reads(self, block: BlockDef) -> frozenset[str]:
        """The inputs (``in`` for the first) whose sizes a block's values name: only those are
        worked out at each use."""
        found = self._read_sizes.get(block.name)
        if found is None:
            names = _all_references([block.layers, [value for _, value in block.params]])
            inputs = {"in", *block.inputs}
            found = frozenset(
                name.rpartition("_")[0]
                for name in names
                if name.rpartition("_")[2] in SHAPE_NAMES and name.rpartition("_")[0] in inputs
            )
            self._read_sizes[block.name] = found
        return found

    def _shared_env(self, block: BlockDef, env: dict[str, object]) -> dict[str, object]:
        """The one parameter mapping for this block and these values (compared by value)."""
        canon = _Canon(self)
        key = (block.name, tuple((k, canon.key(v, 0)[0]) for k, v in env.items()))
        return self._envs.setdefault(key, env)

    # -- named tensors -------------------------------------------------------------------------
    def _inputs(
        self, extra: Mapping[str, object], scope: Scope, where: str, flow: Tensor
    ) -> list[Tensor]:
        """The tensors an item takes: those its ``inputs`` names, else the one before it."""
        if "inputs" not in extra:
            return [flow]
        names = _listed(extra)
        if not names:
            raise SpecError(
                f"{where}: inputs {show(extra['inputs'])} is not valid: give the names of "
                "earlier layers or constructs, e.g. inputs: [up4, enc4]"
            )
        found = []
        for name in names:
            tensor = scope.find(name)
            if tensor is None:
                known = scope.visible()
                known += [n for n in scope.given() if n not in known]
                listed = show_names([show(n) for n in known[-8:]], len(known))
                raise SpecError(
                    f"{where}: input {show(name)} names no earlier tensor here"
                    f"{did_you_mean(name, known)}; a layer can take the model's or block's "
                    "input (input) and any layer or construct named before it in the same "
                    f"block (name: ... on it). Named so far: {listed or 'none'}"
                )
            found.append(tensor)
        return found

    def _merge_layer(
        self,
        merge: Merge,
        type_name: str,
        body: object,
        extra: Mapping[str, object],
        inputs: list[Tensor],
        scope: Scope,
        where: str,
    ) -> Tensor:
        """A merge written as a layer, Keras' Add()([a, b]): its inputs by name."""
        self._trainable(extra, where)  # checked as every layer's is; a merge has no weights
        if isinstance(body, Mapping) and set(body) == {POSITIONAL} and "inputs" not in extra:
            body = body[POSITIONAL]  # the chain's add:a,b
        if body is not None and not (isinstance(body, Mapping) and not body):
            if isinstance(body, (list, tuple)) and "inputs" not in extra:
                extra = {**extra, "inputs": list(body)}
                inputs = self._inputs(extra, scope, where, inputs[0])
            else:
                raise SpecError(
                    f"{where}: {show(type_name)} takes only its inputs, e.g. "
                    f"{merge.value}: [a, b] or {{type: {merge.value}, inputs: [a, b]}}"
                )
        if len(inputs) < 2 or (merge is Merge.SUBTRACT and len(inputs) != 2):
            wanted = "exactly two" if merge is Merge.SUBTRACT else "at least two"
            raise SpecError(
                f"{where}: {merge.value} joins {wanted} tensors, got {len(inputs)}; name them: "
                f"{merge.value}: [a, b] (the model's or block's input is 'input')"
            )
        self._count_row(where)
        label = scope.assign(merge.value, extra.get("name"), where)
        row = merge_row(
            merge,
            label,
            self.rows,
            scope.depth,
            f"{merge.value} cannot join its inputs",
            tuple(f"input {show(name)}" for name in _listed(extra)),
            [(t.shape, t.field, t.source) for t in inputs],
            self.state.settings,
            self.state,
        )
        out = self._emit(row, scope)
        if self.program is not None:
            slots = tuple(self._slots[id(t)] for t in inputs)
            self._record(MergeOp(merge, label, scope.depth, slots), out)
        return out

    # -- blocks --------------------------------------------------------------------------------
    def _use(
        self,
        key: str,
        item: object,
        body: object,
        extra: Mapping[str, object],
        scope: Scope,
        env: Mapping[str, object],
        stack: tuple[str, ...],
        where: str,
        inputs: list[Tensor],
    ) -> Tensor:
        """One use of a block: its layers under its parameters and the shapes of its inputs."""
        block = self.blocks[key]
        self._check_cycle(block, stack)
        self._count_step(where)
        name = extra.get("name")
        path = scope.assign(block.name, name, where)
        use = self._uses.get((id(item), id(env)))
        if use is not None and use[0] is item and use[1] is env:  # a block used again
            bound, trainable = use[2], use[3]
        else:
            trainable = self._trainable(extra, where)
            bound = self._bind(block, body, f"{where} ({path})")
            self._uses[(id(item), id(env))] = (item, env, bound, trainable)
        names = block.inputs or ("input",)
        if len(inputs) != len(names):
            listed = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
            raise SpecError(
                f"{where} ({path}): block '{block.name}' takes {len(names):,} "
                f"input{'s' if len(names) != 1 else ''} ({listed}), got "
                f"{len(inputs):,}; give them in order: inputs: [{listed}]"
            )
        seen = dict(bound)
        reads = self._reads(block)
        for position, (input_name, tensor) in enumerate(zip(names, inputs, strict=True)):
            prefixes = ["in"] if position == 0 else []
            if block.inputs:
                prefixes.append(input_name)
            prefixes = [p for p in prefixes if p in reads]
            if prefixes:
                described = _shape_names(tensor.shape, self.state.settings)
                for prefix in prefixes:
                    seen.update({f"{prefix}_{k}": v for k, v in described.items()})
        if len(self._envs) > _CACHED or len(self._forms) > 16 * _CACHED:
            self._trim()
        inner_env = self._shared_env(block, seen)
        self.scopes[path] = block.name
        inner = scope.child(path, trainable, sees=False)
        inner.tensors["input"] = inputs[0]
        inner.inputs = (self._input_positions(block), inputs)
        out = self.read_list(block.layers, inner, inner_env, (*stack, block.name), inputs[0])
        self._name(scope, _local(path), out)
        return out

    # -- constructs ----------------------------------------------------------------------------
    def _repeat(
        self,
        item: Mapping[object, object],
        scope: Scope,
        env: Mapping[str, object],
        stack: tuple[str, ...],
        where: str,
        flow: Tensor,
    ) -> Tensor:
        for key in item:
            if key not in ("repeat", "layers", "index"):
                raise SpecError(
                    f"{where}: a repeat takes 'repeat' (the count), 'layers' and 'index' (a "
                    f"name for its counter); unknown key {show(str(key))}"
                    f"{did_you_mean(str(key), ['repeat', 'layers', 'index'])}"
                )
        counter = _counter_name(item.get("index"), env, where)
        count = self._repeat_count(item, env, where)
        layers = self._list(_open(item.get("layers"), env, where, "layers"), "repeat", where)
        if count > 1:
            # Its count may have come from an input's size, which measuring could not know.
            self._kept.append(env)  # its id keys the measure below: keep it its own
            try:
                rows, steps = self._measure(
                    layers, env, ("walk", id(env)), stack, scope.depth, self.rows, self.steps
                )
            except _Stop:
                rows = steps = 0
            _limit(
                "repeat",
                where,
                count * rows,
                1 + count * steps,
                self.rows,
                self.steps,
                f"{count:,} times {rows:,}",
                True,
            )
        if counter is None or counter not in _all_references(layers):
            for _ in range(count):
                flow = self.read_list(layers, scope, env, stack, flow)
            return flow
        for number in range(count):  # each copy sees its number: $j is 0, 1, ...
            if len(self._forms) > 16 * _CACHED:
                self._trim()  # every copy is new work: what was shared would only pile up
            flow = self.read_list(layers, scope, {**env, counter: number}, stack, flow)
        return flow

    def _residual_paths(self, body: object, where: str, flow: Tensor) -> tuple[Merge, Paths]:
        """A residual's main layers (in its own scope) and its shortcut, both from ``flow``."""
        layers, shortcut = self._residual_parts(body, where)
        return Merge.ADD, [("layers", layers, None, flow), ("shortcut", shortcut, "shortcut", flow)]

    def _branches_paths(self, body: object, where: str, flow: Tensor) -> tuple[Merge, Paths]:
        """Each of a branches' paths, all from ``flow``."""
        merge, paths = self._branches_parts(body, where)
        return merge, [(f"path {number}", path, None, flow) for number, path in enumerate(paths, 1)]

    def _split_paths(self, body: object, where: str, flow: Tensor) -> tuple[Merge, Paths]:
        """``split``: the channels cut into consecutive parts, one per path (PyTorch's
        ``torch.split``/``chunk``, Keras' ``ops.split``), each path run on its part, then
        merged (ShuffleNet's channel split)."""
        if not isinstance(body, Mapping):
            raise SpecError(
                f"{where}: split takes {{sections: 2, paths: [[...], [...]], merge: concat}}"
            )
        for key in body:
            if key not in ("sections", "merge", "paths"):
                raise SpecError(
                    f"{where}: split takes sections, merge and paths; unknown key "
                    f"{show(str(key))}{did_you_mean(str(key), ['sections', 'merge', 'paths'])}"
                )
        merge, paths = self._branches_parts(
            {k: v for k, v in body.items() if k != "sections"}, where, "split"
        )
        shape = flow.shape
        axis = channel_axis(shape, self.state.settings.layout)
        channels = shape[axis]
        sizes = _sections(body.get("sections", len(paths)), channels, len(paths), where)
        labelled: Paths = []
        for number, (path, size) in enumerate(zip(paths, sizes, strict=True), 1):
            part = shape[:axis] + (size,) + shape[axis + 1 :]
            piece = flow._replace(shape=part)
            if self.program is not None:
                self._record(PartOp(self._slots[id(flow)], axis, size), piece)
            labelled.append((f"part {number}", path, None, piece))
        return merge, labelled

    def _merge_node(
        self,
        construct: str,
        merge: Merge,
        paths: Paths,
        extra: Mapping[str, object],
        scope: Scope,
        env: Mapping[str, object],
        stack: tuple[str, ...],
        where: str,
        trainable: bool,
    ) -> Tensor:
        """Paths walked in order inside the construct's scope, each from its own input, then
        the merge row.

        Each path is (label for messages, its layers, the name of a sub-scope or None to share
        the construct's own scope, as a residual's main layers do, its input).
        """
        path = scope.assign(construct, extra.get("name"), where)
        self._scope(path, construct)
        inner = scope.child(path, trainable)
        outcomes: list[tuple[Shape, Field | None, str]] = []
        ends: list[Tensor] = []
        for _, layers, sub, start in paths:
            target = inner
            if sub is not None and layers:
                sub_path = inner.assign(sub, None, where)
                self._scope(sub_path, sub)
                target = inner.child(sub_path)
            out = self.read_list(layers, target, env, stack, start)
            outcomes.append((out.shape, out.field, out.source))
            ends.append(out)
        self._count_row(where)
        merge_name = inner.assign(merge.value, None, where)
        row = merge_row(
            merge,
            merge_name,
            self.rows,
            inner.depth,
            f"{construct} '{path}' cannot {merge.value} its paths",
            tuple(label for label, _, _, _ in paths),
            outcomes,
            self.state.settings,
            self.state,
        )
        self.state.emit(row)
        out = Tensor(row.output_shape, row.receptive_field, row.name)
        if self.program is not None:
            slots = tuple(self._slots[id(t)] for t in ends)
            self._record(MergeOp(merge, merge_name, inner.depth, slots), out)
        self._name(inner, merge.value, out)
        self._name(scope, _local(path), out)
        return out

    # -- conditions ----------------------------------------------------------------------------
    def _holds(self, raw: object, env: Mapping[str, object], where: str) -> bool:
        """An item's ``if``: true or false, from a value or an expression over parameters."""
        value = substitute(raw, env, where, "if")
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise SpecError(
            f"{where}: if {show(raw)} is not valid: it is a condition, true or false, such as "
            "$stride == 1 or $se (the item is left out when it is false)"
        )

    def _without_if(self, item: Mapping[object, object]) -> Mapping[object, object]:
        """The item without its ``if`` key: one object per item, so the work on it is shared."""
        kept = self._conditioned.get(id(item))
        if kept is None or kept[0] is not item:
            kept = (item, {k: v for k, v in item.items() if k != "if"})
            self._conditioned[id(item)] = kept
        return kept[1]

    # -- the parts of each construct -----------------------------------------------------------
    def _residual_parts(
        self, body: object, where: str
    ) -> tuple[Sequence[object], Sequence[object]]:
        if isinstance(body, Sequence) and not isinstance(body, str):
            return body, ()
        if not isinstance(body, Mapping):
            raise SpecError(
                f"{where}: residual takes {{layers: [...], shortcut: [...]}} "
                "(shortcut optional: identity when absent)"
            )
        for key in body:
            if key not in ("layers", "shortcut"):
                raise SpecError(
                    f"{where}: residual takes layers and shortcut; unknown key "
                    f"{show(str(key))}{did_you_mean(str(key), ['layers', 'shortcut'])}"
                )
        layers = self._list(body.get("layers"), "residual", where)
        shortcut = body.get("shortcut") or []
        if not isinstance(shortcut, Sequence) or isinstance(shortcut, str):
            raise SpecError(f"{where}: a residual's 'shortcut' is a list of layers")
        return layers, shortcut

    def _branches_parts(
        self, body: object, where: str, construct: str = "branches"
    ) -> tuple[Merge, list[Sequence[object]]]:
        merges = "|".join(merge.value for merge in Merge)
        if not isinstance(body, Mapping):
            raise SpecError(
                f"{where}: {construct} takes {{merge: {merges}, paths: [[...], [...]]}}"
            )
        for key in body:
            if key not in ("merge", "paths"):
                raise SpecError(
                    f"{where}: {construct} takes merge and paths; unknown key "
                    f"{show(str(key))}{did_you_mean(str(key), ['merge', 'paths'])}"
                )
        try:
            merge = Merge(MERGES.parse(body.get("merge", "concat"), 0))
        except Invalid as problem:
            raise SpecError(
                f"{where}: merge {show(body.get('merge'))} is not valid: {problem.reason}"
            ) from None
        paths = body.get("paths")
        if not isinstance(paths, Sequence) or isinstance(paths, str) or len(paths) < 2:
            raise SpecError(
                f"{where}: {construct} needs 'paths': a list of at least two paths, "
                "each a list of layers ([] is the identity)"
            )
        if merge is Merge.SUBTRACT and len(paths) != 2:
            raise SpecError(
                f"{where}: subtract takes exactly two paths, the second taken from the first; "
                f"{construct} has {len(paths)}"
            )
        for number, path in enumerate(paths, start=1):
            if path is None:
                continue
            if not isinstance(path, Sequence) or isinstance(path, str):
                raise SpecError(f"{where}: path {number} of {construct} must be a list of layers")
        return merge, [p or [] for p in paths]

    @staticmethod
    def _list(value: object, construct: str, where: str) -> Sequence[object]:
        if not isinstance(value, Sequence) or isinstance(value, str) or not value:
            raise SpecError(f"{where}: {construct} needs 'layers': a non-empty list of layers")
        return value

    @staticmethod
    def _repeat_count(item: Mapping[object, object], env: Mapping[str, object], where: str) -> int:
        raw = substitute(item.get("repeat"), env, where, "repeat")
        try:
            return WholeNumber(minimum=0).parse(raw, 0)
        except Invalid:
            raise SpecError(
                f"{where}: repeat {show(raw)} is not valid: it is how many times "
                "to repeat the layers, an integer >= 0"
            ) from None

    @staticmethod
    def _trainable(extra: Mapping[str, object], where: str) -> bool:
        raw = extra.get("trainable", True)
        try:
            return Flag().parse(raw, 0)
        except Invalid as problem:
            raise SpecError(
                f"{where}: trainable {show(raw)} is not valid: {problem.reason}"
            ) from None

    def _check_cycle(self, block: BlockDef, stack: tuple[str, ...]) -> None:
        if block.name in stack:
            loop = " -> ".join((*stack[stack.index(block.name) :], block.name))
            raise SpecError(
                f"block '{block.name}' uses itself ({loop}); a block cannot "
                "contain itself, directly or through another block"
            )

    @staticmethod
    def _bind(block: BlockDef, body: object, where: str) -> dict[str, object]:
        """The block's parameters for one use: the arguments given, then the defaults."""
        names = [name for name, _ in block.params]
        listed = ", ".join(names[:8]) + (f", ... ({len(names):,} in all)" if len(names) > 8 else "")
        if isinstance(body, Mapping):
            given = {str(k): v for k, v in body.items()}
        elif body is None:
            given = {}
        else:
            values = list(body) if isinstance(body, (list, tuple)) else [body]
            if len(values) > len(names):
                raise SpecError(
                    f"{where}: block '{block.name}' takes {len(names)} "
                    f"parameter{'s' if len(names) != 1 else ''}"
                    f" ({listed or 'none'}), got {len(values):,} values"
                )
            given = dict(zip(names, values, strict=False))
        env: dict[str, object] = {}
        known = set(names)
        for key, value in given.items():
            if key not in known:
                raise SpecError(
                    f"{where}: block '{block.name}' has no parameter "
                    f"{show(key)}{did_you_mean(key, names)}; it takes: "
                    f"{listed or 'none'}"
                )
            env[key] = value
        for name, default in block.params:
            if name not in env:
                if default is REQUIRED:
                    raise SpecError(
                        f"{where}: block '{block.name}' needs its parameter "
                        f"'{name}'; give it, e.g. {block.name}: {{{name}: ...}}"
                    )
                env[name] = default
        return env


def _where(row: int, stack: tuple[str, ...]) -> str:
    """How messages place an item: its row, and the block it is in."""
    return f"layer {row}" + (f" (in block '{stack[-1]}')" if stack else "")


def _open(value: object, env: Mapping[str, object], where: str, key: str) -> object:
    """A value in a place that shapes the expansion: substituted when it is an expression (a
    list of layers from a parameter), as it is otherwise (its items are measured one by one)."""
    if isinstance(value, str) and has_reference(value):
        return substitute(value, env, where, key)
    return value


def _describe(item: object) -> str:
    """What to call a top-level item in a message."""
    if isinstance(item, Mapping) and "repeat" in item:
        return "the repeat"
    try:
        type_name = split_forms(item, "")[0]
    except SpecError:
        return "the layer"
    return f"block '{type_name}'" if find_kind(type_name) is None else show(type_name)


def _limit(
    what: str,
    where: str,
    rows: int,
    steps: int,
    rows_before: int,
    steps_before: int,
    how: str,
    placed: bool,
) -> None:
    """Refuse an item that takes the model over MAX_ROWS rows or MAX_STEPS items."""
    fix = (
        "lower the repeat count" if what == "repeat" else "lower a repeat count or use fewer blocks"
    )
    if rows_before + rows > MAX_ROWS:
        said = (
            f"would make {rows:,} rows" + (f" ({how})" if how else "")
            if rows > MAX_ROWS
            else f"brings the model to {rows_before + rows:,} rows"
        )
        raise _TooMany(
            f"{what} at {where} {said}; a model may have at most {MAX_ROWS:,} rows once its "
            f"repeats and blocks are expanded (MAX_ROWS): {fix}",
            placed,
        )
    if steps_before + steps > MAX_STEPS:
        said = (
            f"would expand {steps:,} block uses and repeats"
            if steps > MAX_STEPS
            else f"brings the block uses and repeats to expand to {steps_before + steps:,}"
        )
        raise _TooMany(
            f"{what} at {where} {said}, making {rows:,} rows; convcalc expands at most "
            f"{MAX_STEPS:,} (MAX_STEPS), even when they make few rows or none: {fix}",
            placed,
        )


class _Canon:
    """Keys that are equal exactly when values are (types included: a list is not a tuple,
    ``1`` is not ``true``), for remembering work by value. Each container is looked at once per
    call (shared parts cost once); structures are numbered in the reader's table."""

    def __init__(self, reader: Walker) -> None:
        self.reader = reader
        self.done: dict[int, tuple[object, bool]] = {}

    def key(self, value: object, depth: int) -> tuple[object, bool]:
        """(the key, whether the value holds a ``$`` expression not yet worked out)."""
        if isinstance(value, str):
            return (str, value), "$" in value
        if value is None or isinstance(value, (bool, int)):
            return (type(value), value), False
        if isinstance(value, float):
            return (float, repr(value)), False  # -0.0 is not 0.0; nan is nan
        seen = self.done.get(id(value))
        if seen is not None:
            return seen
        result: tuple[object, bool]
        if depth < _CANON_DEPTH and isinstance(value, (list, tuple, Mapping)):
            pending = False
            parts: list[object] = []
            if isinstance(value, Mapping):
                for k, v in value.items():
                    key_of_k = self.key(k, depth + 1)[0]
                    key_of_v, more = self.key(v, depth + 1)
                    parts.append((key_of_k, key_of_v))
                    pending = pending or more
            else:
                for v in value:
                    key_of_v, more = self.key(v, depth + 1)
                    parts.append(key_of_v)
                    pending = pending or more
            table = self.reader._interned
            result = ("value", table.setdefault((type(value), tuple(parts)), len(table))), pending
        else:
            self.reader._kept.append(value)
            result = ("object", id(value)), True
        self.done[id(value)] = result  # `value` lives in the caller's structure meanwhile
        return result
