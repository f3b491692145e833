"""Reading a model description — the mapping of CONTRACT section 3 — into checked specs.

This is where every user value is validated and normalised, once: type names and parameter
names in any spelling, the four ways to write a layer, defaults, and the model-wide settings.
The YAML reader and the chain shorthand both end here, so both give the same messages.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import NamedTuple, TypeVar

from ._catalogue import family, find_kind, find_param, is_ignored
from ._errors import SpecError, did_you_mean
from ._kind import REQUIRED, SPELLED, LayerKind, SameAs, Shape
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
from ._values import Shape as ShapeValue


class LayerSpec(NamedTuple):
    """One layer as the user described it, with every value checked and normalised."""

    kind: LayerKind
    name: str
    """A unique dotted path: ``basic_1.residual.conv2d``."""
    values: Mapping[str, object]
    """Every parameter of the kind: the user's values, normalised, and defaults."""
    given: frozenset[str]
    """Parameters the user wrote."""
    trainable: bool = True
    row: int = 0
    """Its row in the report, in execution order, from 1."""
    depth: int = 0
    """Nesting level: 0 at the top."""
    family: str | None = None
    """The rank-free name it was written with (``conv``): the engine picks the family's kind
    for the rank its input really has."""
    raw: Mapping[str, object] | None = None
    """The parameters as written, kept for a family's layer to be read again at that rank."""


class MergeSpec(NamedTuple):
    """A ``residual`` or ``branches`` construct: paths from one input, then one merge."""

    construct: str
    """``residual`` or ``branches``."""
    name: str
    """The construct's dotted path; its merge row is ``<name>.<merge>``."""
    merge: Merge
    """``add``, ``concat`` or ``multiply``."""
    paths: tuple[tuple[Node, ...], ...]
    labels: tuple[str, ...]
    """How messages name each path: ``layers``, ``shortcut``, ``path 1``, ..."""
    row: int
    """The merge row's number."""
    depth: int
    """Depth of the merge row (that of the construct's own layers)."""


Node = LayerSpec | MergeSpec


class ModelSpec(NamedTuple):
    """A whole model description, checked."""

    name: str | None
    input: Shape
    settings: Settings
    layers: tuple[Node, ...]
    format: OutputFormat | None = None
    """The file's ``format`` key, if it has one; only the CLI acts on it."""
    scopes: Mapping[str, str] = MappingProxyType({})
    """Dotted path of every block use and construct -> its type, for folding rows by depth."""
    layout_given: bool = False
    """Whether the model said its layout (else it is the framework's default, and a shape
    that looks written in the other order earns a note)."""


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
)
LAYER_KEYS = ("name", "trainable")
"""Keys every layer, block use and construct takes besides its own parameters."""

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
    from ._graph import Reader, read_blocks

    shape = parse_shape(spec.get("input"))
    reader = Reader(read_blocks(spec.get("blocks")), max(len(shape) - 1, 0))
    try:
        nodes = reader.read_model(layers)
    except RecursionError:  # the reader's own limit stops real files long before this
        raise SpecError(too_deep) from None
    return ModelSpec(
        name,
        shape,
        settings,
        tuple(nodes),
        output_format,
        reader.scopes,
        spec.get("layout") is not None,
    )


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

    def __init__(self, prefix: str = "", depth: int = 0, trainable: bool = True) -> None:
        self.prefix = prefix
        """Dotted path of the enclosing block or construct ("" at the top)."""
        self.depth = depth
        self.trainable = trainable
        """False when an enclosing block or construct was marked ``trainable: false``."""
        self.taken: dict[str, str] = {}
        """Names in use here -> where they were given (``layer 3``)."""
        self.counters: dict[str, int] = {}

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
            if label in self.taken:
                raise SpecError(
                    f"{where}: the name {show(label)} is already used by "
                    f"{self.taken[label]}; layer names must be unique"
                )
        else:
            counter = self.counters.get(base, 0)
            label = base if counter == 0 else f"{base}_{counter}"
            while label in self.taken:
                counter += 1
                label = f"{base}_{counter}"
            self.counters[base] = counter + 1
        self.taken[label] = where
        return f"{self.prefix}.{label}" if self.prefix else label

    def child(self, path: str, trainable: bool = True) -> Scope:
        return Scope(path, self.depth + 1, self.trainable and trainable)


Checked = tuple[dict[str, object], frozenset[str], bool]
"""A layer's normalised values, the parameters given, and its own ``trainable``."""


def build_layer(
    kind: LayerKind,
    params: Mapping[str, object],
    where: str,
    scope: Scope,
    index: int,
    checked: Checked | None = None,
) -> tuple[LayerSpec, Checked]:
    """A checked layer from a kind and its parameters by name (positionals already placed).

    ``checked`` is what an earlier call returned for the very same parameters (a layer in a
    ``repeat``): only the name is new then, which keeps a 10,000-layer repeat fast.
    """
    label = scope.assign(kind.name, params.get("name"), where)
    key = _content_key(kind, params) if checked is None else None
    if key is not None:
        checked = _CHECKED.get(key)
    if checked is None:
        located = f"{where} ({label})"
        trainable_raw = params.get("trainable", True)
        try:
            trainable = Flag().parse(trainable_raw, 0)
        except Invalid as problem:
            raise SpecError(
                f"{located}: trainable {show(trainable_raw)} is not valid: {problem.reason}"
            ) from None
        reading = params.get(TORCH_READING)
        try:
            values, given = read_values(kind, params, located)
        except SpecError as problem:
            if not isinstance(reading, TorchReading):
                raise
            raise SpecError(f"{problem}. {reading.message}") from None
        if isinstance(reading, TorchReading):
            values[TORCH_READING] = reading
        spelled = params.get(SPELLED)
        if isinstance(spelled, str) and spelled in kind.torch_names:
            values[SPELLED] = spelled
        checked = (values, frozenset(given), trainable)
        if key is not None:
            if len(_CHECKED) >= 4096:
                _CHECKED.clear()
            _CHECKED[key] = checked
    values, given_names, trainable = checked
    rank_free = params.get(FAMILY)
    layer = LayerSpec(
        kind,
        label,
        values,
        given_names,
        trainable and scope.trainable,
        index,
        scope.depth,
        rank_free if isinstance(rank_free, str) else None,
        params if isinstance(rank_free, str) else None,
    )
    return layer, checked


class TorchReading(NamedTuple):
    """A neutral spelling's positional values read in PyTorch's order as well, kept to refuse
    them under pytorch when that reading fits the input as well as convcalc's does."""

    in_channels: object
    """The first value: PyTorch's in_channels."""
    message: str
    """Both readings, and how to write each unambiguously."""


POSITIONAL = "_"
"""In a layer mapping, the key of a list of positional values given beside named ones: the chain
shorthand's ``conv2d:32,3,stride=2`` is ``{type: conv2d, _: [32, 3], stride: 2}``."""

FAMILY = "\0family"
"""The key under which :func:`place_positional` passes on a rank-free spelling (``conv``)."""

INPUT_SHAPE = "\0input-shape"
"""Where Keras' ``input_shape`` on a layer is kept, for the engine to check against the input."""

TORCH_READING = "\0torch-reading"
"""The key a :class:`TorchReading` is kept under in a layer's values (no parameter's name)."""


_CHECKED: dict[tuple[object, ...], Checked] = {}
"""Layers already checked, by kind and parameters as written (the name aside): a file that
lists the same layer 10,000 times checks it once, and its copies share one values mapping, so
the engine computes them once too."""

_SCALARS = (str, int, float, bool, type(None))


def _content_key(kind: LayerKind, params: Mapping[str, object]) -> tuple[object, ...] | None:
    """A hashable form of a layer's parameters (without its name), or None when a value is not
    a plain scalar or a flat list of them."""
    parts: list[object] = [kind.name]
    for name, value in params.items():
        if name == "name":
            continue
        if isinstance(value, (list, tuple)):
            if not all(isinstance(item, _SCALARS) for item in value):
                return None
            value = ("[]", *((type(item).__name__, item) for item in value))
        elif not isinstance(value, _SCALARS):
            return None
        # 1, 1.0 and true are equal keys in Python but not the same value here
        parts.append((name, type(value).__name__, value))
    return tuple(parts)


def place_positional(
    kind: LayerKind, raw_params: object, where: str, spelling: str = ""
) -> dict[str, object]:
    """Parameters by name from a mapping, a scalar (the first positional) or a list of them.

    ``spelling`` is the type name as the user wrote it. PyTorch's own class name, spelled
    exactly (``Conv2d``, ``Linear``), takes PyTorch's positional order (``in_channels,
    out_channels, kernel_size``); every other spelling takes the catalogue's, which is Keras'
    (``Conv2D(filters, kernel_size, strides)``). A neutral spelling (``conv2d``) whose values
    also read as a PyTorch call keeps that reading too, for the engine to refuse under
    pytorch when the first value is the input's channel count (see :class:`TorchReading`)."""
    rank_free = family(spelling) if spelling else None
    placed = _place(kind, raw_params, where, spelling)
    if rank_free is not None:
        placed[FAMILY] = rank_free
    if spelling.strip() in kind.torch_names:
        placed[SPELLED] = spelling.strip()
    return placed


def _place(kind: LayerKind, raw_params: object, where: str, spelling: str) -> dict[str, object]:
    if isinstance(raw_params, Mapping):
        named = dict(raw_params)
        for key in named:
            if isinstance(key, str) and key.startswith("\0"):
                raise SpecError(
                    f"{where} ({kind.name}): unknown parameter {show(key)}; "
                    f"{kind.name} takes: {', '.join(p.name for p in kind.params)}"
                )
        if POSITIONAL not in named:
            return named
        placed = _place(kind, named.pop(POSITIONAL), where, spelling)
        for key in named:
            param = find_param(kind, str(key))
            if param is not None and param.name in placed:
                raise SpecError(
                    f"{where} ({kind.name}): {param.name} is given twice, as a positional "
                    f"value and as {show(str(key))}; give it once"
                )
        return {**placed, **named}
    if raw_params is None:
        return {}
    torch_order = spelling.strip() in kind.torch_names and bool(kind.torch_positional)
    order = kind.torch_positional if torch_order else kind.positional
    lone = raw_params[0] if isinstance(raw_params, (list, tuple)) and raw_params else raw_params
    if not order and not (_is_flag(lone) and _takes_inplace(kind, order, 1)):
        raise SpecError(
            f"{where} ({kind.name}): {kind.name} takes no value here, got {show(raw_params)}; "
            + (
                f"name its parameters ({', '.join(p.name for p in kind.params)})"
                if kind.params
                else f"write it as a bare '{kind.name}'"
            )
        )
    values = list(raw_params) if isinstance(raw_params, (list, tuple)) else [raw_params]
    inplace: dict[str, object] = {}
    if values and _is_flag(values[-1]) and _takes_inplace(kind, order, len(values)):
        # PyTorch's activations and dropout end with inplace: ReLU(True), Dropout(0.2, True)
        inplace["inplace"] = values.pop()
    if len(order) == 1 and len(values) > 1:
        # One positional parameter whose value may itself be a list: reshape: [64, 3],
        # zeropadding2d: [[0, 1], [0, 1]], adaptive_avgpool2d: [7, 7].
        values = [raw_params]
    whose = f"{spelling.strip()} takes PyTorch's order" if torch_order else f"{kind.name} takes"
    if len(values) > len(order):
        raise SpecError(
            f"{where} ({kind.name}): {len(values)} positional values given but "
            f"{whose} at most {len(order)} ({', '.join(order)}); name the others, and write "
            "a per-axis value as one: 3x3 or (3, 3)"
        )
    by_name: dict[str, object] = {**dict(zip(order, values, strict=False)), **inplace}
    if not torch_order and kind.torch_positional[:1] == ("in_channels",) and len(values) >= 3:
        by_name[TORCH_READING] = TorchReading(values[0], _both_readings(kind, values, spelling))
    return by_name


def _is_flag(value: object) -> bool:
    return isinstance(value, bool) or (
        isinstance(value, str) and value.strip().lower() in ("true", "false")
    )


def _takes_inplace(kind: LayerKind, order: tuple[str, ...], count: int) -> bool:
    """Whether a true/false in position ``count`` is PyTorch's trailing ``inplace``: the kind
    takes inplace (activations, dropout), and no flag parameter stands in that position."""
    if "inplace" not in kind.ignored and all(param.name != "inplace" for param in kind.params):
        return False
    param = find_param(kind, order[count - 1]) if count <= len(order) else None
    return param is None or not isinstance(param.type, Flag)


def _both_readings(kind: LayerKind, values: list[object], spelling: str) -> str:
    """The message for a neutral spelling whose values read two ways (kept for later)."""
    def shown(value: object) -> str:
        return show(value).strip("'")

    ours = ", ".join(f"{n} {shown(v)}" for n, v in zip(kind.positional, values, strict=False))
    torch_names = {"filters": "out_channels", "kernel": "kernel_size"}
    theirs = ", ".join(
        f"{torch_names.get(n, n)} {shown(v)}"
        for n, v in zip(kind.torch_positional, values, strict=False)
    )
    pairs = [
        (n, show(v).strip("'"))
        for n, v in zip(kind.torch_positional[1:3], values[1:3], strict=False)
    ]
    chain = ",".join(f"{n}={v}" for n, v in pairs)
    mapping = ", ".join(f"{n}: {v}" for n, v in pairs)
    torch_name = kind.torch_names[0] if kind.torch_names else kind.name
    return (
        f"{spelling.strip() or kind.name} with the values {', '.join(map(shown, values))} reads "
        f"two ways: in convcalc's order, which is Keras', as {ours}; in PyTorch's order as "
        f"{theirs}. Write {torch_name} (spelled so) for "
        f"PyTorch's order, or name the values ({kind.name}:{chain} in a chain, "
        f"{kind.name}: {{{mapping}}} in a file)"
    )


def read_values(
    kind: LayerKind, params: Mapping[str, object], located: str
) -> tuple[dict[str, object], set[str]]:
    """Every parameter of ``kind``, checked and normalised, with defaults filled in."""
    raw: dict[str, tuple[str, object]] = {}
    for key, value in params.items():
        if key in LAYER_KEYS or key in ("type", TORCH_READING, FAMILY, SPELLED):
            continue
        param = find_param(kind, str(key))
        if param is None and is_ignored(kind, str(key)):
            continue  # a framework argument that changes no count
        if param is None and normalize_name(str(key)) == "inputshape":
            try:  # Keras' first layer states the input: kept, for the engine to compare
                raw[INPUT_SHAPE] = (str(key), ShapeValue().parse(value, 0))
            except Invalid as problem:
                raise SpecError(
                    f"{located}: input_shape {show(value)} is not valid: {problem.reason}"
                ) from None
            continue
        if param is None:
            names = [p.name for p in kind.params] + [a for p in kind.params for a in p.aliases]
            takes = ", ".join(p.name for p in kind.params) or "no parameters"
            raise SpecError(
                f"{located}: unknown parameter {show(str(key))}{did_you_mean(str(key), names)}"
                f"; {kind.name} takes: {takes}"
            )
        if param.name in raw:
            raise SpecError(
                f"{located}: {param.name} is given twice "
                f"(as {show(raw[param.name][0])} and {show(str(key))})"
            )
        raw[param.name] = (str(key), value)
    rank = kind.rank or 1
    values: dict[str, object] = {}
    for param in kind.params:
        if param.name in raw:
            value = raw[param.name][1]
        elif param.default is REQUIRED:
            raise SpecError(
                f"{located}: {param.name} is required ({param.help}); "
                f"e.g. {kind.name}: {_example(kind)}"
            )
        elif isinstance(param.default, SameAs):
            continue
        else:
            value = param.default
        if value is None and isinstance(param.default, SameAs):
            del raw[param.name]  # PyTorch's stride=None: the default, as PyTorch reads it
            continue
        if value is None:
            if param.default is not None:  # an explicit null (or `filters:` left empty)
                raise SpecError(
                    f"{located}: {param.name} is empty (null); give it a value "
                    f"({param.type.describe})"
                    + ("" if param.required else " or leave it out for the default")
                )
            values[param.name] = None
            continue
        try:
            values[param.name] = param.type.parse(value, rank)
        except Invalid as problem:
            raise SpecError(
                f"{located}: {param.name} {show(value)} is not valid: {problem.reason}"
            ) from None
    for param in kind.params:
        if isinstance(param.default, SameAs) and param.name not in values:
            values[param.name] = values[param.default.other]
    if INPUT_SHAPE in raw:
        values[INPUT_SHAPE] = raw.pop(INPUT_SHAPE)[1]
    return values, set(raw)


def _example(kind: LayerKind) -> str:
    """A minimal valid way to write ``kind``, for messages."""
    samples = {"filters": "32", "kernel": "3", "units": "10", "function": "relu"}
    required = [p.name for p in kind.params if p.required]
    return "{" + ", ".join(f"{name}: {samples.get(name, '1')}" for name in required) + "}"


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
