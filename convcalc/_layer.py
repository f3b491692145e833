"""One layer as written, checked: its kind, its values by name, and the positional orders.

Every user value of a layer is validated and normalised here, once: type names and parameter
names in any spelling, positional values in Keras' or PyTorch's order, defaults. The model
language (``_model``) reads the structure around layers and hands each layer's parameters to
:func:`build_layer`; the YAML reader and the chain shorthand both end there, so both give the
same messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from ._catalogue import family, find_param, is_ignored
from ._errors import SpecError, did_you_mean
from ._kind import REQUIRED, SPELLED, LayerKind, SameAs
from ._values import (
    Flag,
    Invalid,
    normalize_name,
    show,
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


LAYER_KEYS = ("name", "trainable", "inputs", "input")
"""Keys every layer, block use and construct takes besides its own parameters."""

Checked = tuple[dict[str, object], frozenset[str], bool]
"""A layer's normalised values, the parameters given, and its own ``trainable``."""


def build_layer(
    kind: LayerKind,
    params: Mapping[str, object],
    where: str,
    label: str,
    index: int,
    depth: int = 0,
    checked: Checked | None = None,
    inherited_trainable: bool = True,
) -> tuple[LayerSpec, Checked]:
    """A checked layer from a kind and its parameters by name (positionals already placed),
    named ``label`` (its dotted path), at row ``index`` and nesting ``depth``.

    ``checked`` is what an earlier call returned for the very same parameters (a layer in a
    ``repeat``): only the name is new then, which keeps a 10,000-layer repeat fast.
    ``inherited_trainable`` is False inside a block or construct marked ``trainable: false``.
    """
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
        trainable and inherited_trainable,
        index,
        depth,
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
