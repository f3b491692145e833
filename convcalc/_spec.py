"""Reading a model description — the mapping of CONTRACT section 3 — into checked specs.

This is where every user value is validated and normalised, once: type names and parameter
names in any spelling, the four ways to write a layer, defaults, and the model-wide settings.
The YAML reader and the chain shorthand both end here, so both give the same messages.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from ._catalogue import find_kind, find_param, spellings
from ._errors import SpecError, did_you_mean
from ._kind import REQUIRED, LayerKind, SameAs, Shape
from ._settings import DEFAULT_LAYOUT, DType, Framework, Layout, OutputFormat, Settings
from ._values import Choice, Flag, Invalid, WholeNumber, parse_shape, show


@dataclass(frozen=True)
class LayerSpec:
    """One layer as the user described it, with every value checked and normalised."""

    kind: LayerKind
    name: str
    values: Mapping[str, object]
    """Every parameter of the kind: the user's values, normalised, and defaults."""
    given: frozenset[str]
    """Parameters the user wrote."""
    trainable: bool = True


@dataclass(frozen=True)
class ModelSpec:
    """A whole model description, checked."""

    name: str | None
    input: Shape
    settings: Settings
    layers: tuple[LayerSpec, ...]
    format: OutputFormat | None = None
    """The file's ``format`` key, if it has one; only the CLI acts on it."""


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
)
LAYER_KEYS = ("type", "name", "trainable")

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
    framework = _setting(spec, "framework", _FRAMEWORK, Framework) or Framework.KERAS
    layout = _setting(spec, "layout", _LAYOUT, Layout) or DEFAULT_LAYOUT[framework]
    dtype = _setting(spec, "dtype", _DTYPE, DType) or DType.FLOAT32
    output_format = _setting(spec, "format", _FORMAT, OutputFormat)
    batch = _optional(spec, "batch", WholeNumber())
    explain = _optional(spec, "explain", Flag())
    name = spec.get("name")
    if name is not None and not isinstance(name, str):
        name = str(name)
    settings = Settings(
        framework, layout, batch if isinstance(batch, int) else None, dtype, bool(explain)
    )
    layers = spec.get("layers")
    if layers is None:
        raise SpecError(
            "the model has no 'layers': give a list of layers, e.g. "
            "layers: [conv2d: {filters: 32, kernel: 3}, flatten, dense: 10]"
        )
    if not isinstance(layers, Sequence) or isinstance(layers, str) or not layers:
        raise SpecError(f"'layers' must be a non-empty list of layers, not {_what(layers)}")
    return ModelSpec(
        name=name,
        input=parse_shape(spec.get("input")),
        settings=settings,
        layers=tuple(Namer().read_layers(layers)),
        format=output_format,
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


class Namer:
    """Reads layers in order and gives each a unique Keras-style name: conv2d, conv2d_1, ..."""

    def __init__(self) -> None:
        self.taken: set[str] = set()
        self.counters: dict[str, int] = {}
        self.count = 0

    def read_layers(self, items: Sequence[object]) -> list[LayerSpec]:
        return [self.read_layer(item) for item in items]

    def read_layer(self, item: object) -> LayerSpec:
        self.count += 1
        where = f"layer {self.count}"
        type_name, raw_params, extra = _split_forms(item, where)
        kind = find_kind(type_name)
        if kind is None:
            raise SpecError(
                f"{where}: unknown layer type {show(type_name)}"
                f"{did_you_mean(type_name, spellings())}; `convcalc layers` lists them"
            )
        params: dict[str, object] = dict(extra)
        if isinstance(raw_params, Mapping):
            params.update(raw_params)
        elif raw_params is not None:
            values = list(raw_params) if isinstance(raw_params, (list, tuple)) else [raw_params]
            if len(values) > len(kind.positional):
                raise SpecError(
                    f"{where} ({kind.name}): {len(values)} positional values given but "
                    f"{kind.name} takes at most {len(kind.positional)}"
                    + (f" ({', '.join(kind.positional)})" if kind.positional else "")
                )
            params.update(zip(kind.positional, values, strict=False))
        return self.build(kind, params, where)

    def build(self, kind: LayerKind, params: Mapping[str, object], where: str) -> LayerSpec:
        """A checked layer from a kind and its parameters by name (positionals already placed)."""
        name = params.get("name")
        trainable_raw = params.get("trainable", True)
        label = self.assign(kind, name, where)
        located = f"{where} ({label})"
        try:
            trainable = Flag().parse(trainable_raw, 0)
        except Invalid as problem:
            raise SpecError(
                f"{located}: trainable {show(trainable_raw)} is not valid: {problem.reason}"
            ) from None
        values, given = self._values(kind, params, located)
        return LayerSpec(kind, label, values, frozenset(given), trainable)

    def assign(self, kind: LayerKind, name: object, where: str) -> str:
        if name is not None:
            label = str(name)
            if not label or label in self.taken:
                raise SpecError(
                    f"{where}: the name {show(label)} is already used; layer names must be unique"
                )
        else:
            counter = self.counters.get(kind.name, 0)
            label = kind.name if counter == 0 else f"{kind.name}_{counter}"
            while label in self.taken:
                counter += 1
                label = f"{kind.name}_{counter}"
            self.counters[kind.name] = counter + 1
        self.taken.add(label)
        return label

    @staticmethod
    def _values(
        kind: LayerKind, params: Mapping[str, object], located: str
    ) -> tuple[dict[str, object], set[str]]:
        raw: dict[str, tuple[str, object]] = {}
        for key, value in params.items():
            if key in ("name", "trainable", "type"):
                continue
            param = find_param(kind, str(key))
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
            if value is None:
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
        return values, set(raw)


def _example(kind: LayerKind) -> str:
    """A minimal valid way to write ``kind``, for messages."""
    samples = {"filters": "32", "kernel": "3", "units": "10", "function": "relu"}
    required = [p.name for p in kind.params if p.required]
    return "{" + ", ".join(f"{name}: {samples.get(name, '1')}" for name in required) + "}"


def _split_forms(item: object, where: str) -> tuple[str, object, Mapping[str, object]]:
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
    keys = [key for key in item if key not in ("name", "trainable")]
    if len(keys) != 1 or not isinstance(keys[0], str):
        shown = ", ".join(show(str(key)) for key in keys) or "none"
        raise SpecError(
            f"{where}: a layer mapping needs exactly one type key (or a 'type' key); found {shown}"
        )
    extra = {str(k): v for k, v in item.items() if k in ("name", "trainable")}
    return keys[0].strip(), item[keys[0]], extra
