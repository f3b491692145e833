"""Keras model configs read as convcalc models, without Keras.

Two sources: the JSON ``model.to_json()`` writes, and a ``.keras`` file, a zip of which only
``config.json`` is read (its size checked in the zip's directory before anything is
decompressed, and again while it is). Both become the one model mapping every reader makes, so
the engine checks them as it checks a YAML file:

- a ``Sequential`` model is a list of layers; a ``Functional`` one (Keras 3's ``inbound_nodes``
  of ``__keras_tensor__`` arguments with their ``keras_history``, or Keras 2's nested lists)
  becomes layers that take named tensors (``inputs:``) where the graph is not a chain, and
  merge layers (``add``, ``concat``, ``multiply``, ...);
- a model used as a layer of another becomes a block, used where the model was called;
- ``InputLayer`` gives the model's ``input``; every other class, and its config's keys, are
  looked up in the catalogue (its Keras aliases), values kept as Keras wrote them, those at the
  catalogue's default and the framework arguments that change no count left out;
- two computations Keras stores as data are read: Keras 3's operations on a constant (``x +
  3.0``, ``x * (1 / 6)``: MobileNetV3's hard sigmoid) as ``rescaling``, and keras.applications'
  ``CustomScaleLayer`` (InceptionResNetV2's ``x + up * scale``) as a ``rescaling`` of ``up``
  and an ``add``. A ``Lambda`` is Python code in the config and is refused, as is any class the
  catalogue does not know (naming it, the layer, and the closest class convcalc knows).

Nothing in a config is ever run; names are kept as the rows' names (a ``.`` or ``$`` in one,
which the model language reads as a path or an expression, becomes ``_``).
"""

from __future__ import annotations

import heapq
import json
import math
import os
import stat
import struct
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from .._catalogue import find_kind, find_param, is_ignored, spellings
from .._errors import InputError, SpecError, did_you_mean
from .._kind import REQUIRED, LayerKind, Param, SameAs
from .._model import CONSTRUCTS, MAX_NAME, MAX_NESTING, MERGE_LAYERS
from .._settings import Merge
from .._values import Invalid, normalize_name, show
from ._yaml import MAX_BYTES, _path_name, _require_regular, read_source

MAX_ENTRIES = 10_000
"""Members of a ``.keras`` zip: it holds three; a directory of more is not a Keras model."""
MAX_DIRECTORY = 4 * 1024 * 1024
"""Bytes of a ``.keras`` zip's central directory, read before any member."""
MAX_VALUE_DEPTH = 16
"""Lists inside lists in one config value: ZeroPadding2D's ((1, 1), (1, 1)) is 2."""

MODELS = ("Sequential", "Functional", "Model")
"""The classes of a model, at the top or used as a layer (Keras 2's functional is Model)."""
OPERATIONS = ("Add", "Subtract", "Multiply", "Divide", "TrueDivide")
"""Keras 3 operations on a tensor and a constant read as ``rescaling``."""
SPECIAL = ("InputLayer", "CustomScaleLayer", *MODELS, *OPERATIONS)
"""Classes read here rather than through the catalogue."""
_SKIPPED = frozenset(
    {"name", "trainable", "dtype", "batch_input_shape", "batch_shape", "input_shape"}
)
"""Config keys every layer has that are not parameters (the input's shape is read apart)."""
_OFF: dict[str, tuple[object, ...]] = {
    "renorm": (False,),
    "renorm_clipping": (None,),
    "quantization_config": (None,),
    "rms_scaling": (False,),
    "lora_rank": (None, 0),
    "activity_regularizer": (None,),
}
"""Keras 3 config keys the catalogue has no parameter for (or, for some kinds, does not
ignore), at the values that leave a layer as the catalogue counts it (batch renormalisation,
quantisation, LoRA, RMS scaling: off; no activity regulariser); any other value is kept, for
the engine to refuse by name."""
_AFTER = {"renorm_momentum": "renorm", "lora_alpha": "lora_rank"}
"""Keys that mean something only when the key they name is on."""
_READ_KEYS = frozenset(
    {
        ("layernorm", "axis"),
        ("layernorm", "scale"),
        ("groupnorm", "axis"),
        ("groupnorm", "center"),
        ("groupnorm", "scale"),
        ("multihead_attention", "attention_axes"),
    }
)
"""Keras keys the catalogue has no parameter for, read in ``_read_key``."""


def _is_off(key: str, value: object) -> bool:
    """Whether a key of ``_OFF`` has one of its "off" values (``False`` is not ``0``)."""
    return any(
        value is off or (type(value) is type(off) and value == off) for off in _OFF.get(key, ())
    )


class Ref(NamedTuple):
    """One tensor a Functional layer takes: the layer that made it, its call and its output."""

    layer: str
    node: int
    tensor: int


class Call(NamedTuple):
    """One layer of a Functional (or Sequential) config, as read."""

    name: str
    """Its name in the config."""
    cls: str
    config: Mapping[str, Any]
    inputs: tuple[Ref, ...]
    """The tensors it takes, in order (empty in a Sequential: the one before it)."""
    constants: tuple[object, ...]
    """The values beside the tensors in its call (Keras 3 operations: ``x + 3.0``)."""
    position: int
    """Its position in the config's list."""
    list_call: bool
    """Its tensors came as one list (a merge layer's ``Add()([a, b])``)."""
    constant_first: bool = False
    """A constant came before its tensor (``3.0 - x``)."""
    rank: int | None = None
    """The rank, batch included, of its first tensor, where the config records it."""


class Graph(NamedTuple):
    """A model's layers as convcalc items, with what its caller needs to know."""

    items: list[dict[str, object]]
    inputs: tuple[str, ...]
    """Its inputs' names as the items take them (the first is always ``input``)."""
    shapes: tuple[list[int | None] | None, ...]
    """Each input's shape without the batch, where the config gives it."""
    dtype: str | None
    """The first input's dtype, where the config gives it."""


# -- reading the sources ------------------------------------------------------------------------


def is_keras_archive(source: str) -> bool:
    """Whether ``source`` names a ``.keras`` file (or a Keras 2 HDF5 file, refused)."""
    return source != "-" and source.lower().endswith((".keras", ".h5", ".hdf5"))


def read_keras_source(source: str) -> dict[str, object]:
    """The model mapping of a Keras config: a ``.keras`` file, a JSON file, or JSON on
    standard input (``-``); InputError when the source holds something else."""
    if is_keras_archive(source):
        return read_keras_archive(source)
    text, where = read_source(source)
    found = keras_from_text(text, where)
    if found is None:
        raise InputError(
            f"{where} is not a Keras model config: `convcalc import` reads the JSON of "
            "model.to_json() or a .keras file (a convcalc YAML model is read by "
            "`convcalc model` as it is)"
        )
    return found


def keras_from_text(text: str, where: str) -> dict[str, object] | None:
    """The model mapping of a Keras config given as JSON text; None when the text is not
    one (a convcalc model in YAML or JSON), for the YAML reader to read."""
    if not text.lstrip().startswith("{"):
        return None
    try:
        document = json.loads(text)
    except ValueError:  # not JSON: YAML reads it, and says what is wrong
        return None
    except RecursionError:
        raise InputError(f"{where} nests its JSON too deeply to be a model config") from None
    if not looks_like_keras(document):
        return None
    return keras_model(document, where)


def looks_like_keras(document: object) -> bool:
    """Whether a parsed document is a Keras model config (``class_name`` and ``config``)."""
    return (
        isinstance(document, dict)
        and isinstance(document.get("class_name"), str)
        and "config" in document
        and "layers" not in document
    )


def read_keras_archive(source: str) -> dict[str, object]:
    """The model mapping of a ``.keras`` file's ``config.json``."""
    where = _path_name(source)
    if source.lower().endswith((".h5", ".hdf5")):
        raise InputError(
            f"{where} is an HDF5 file (Keras 2's .h5), which convcalc does not read; save the "
            "model as .keras (model.save('model.keras')), or write model.to_json() to a file"
        )
    data = _archive_config(source, where)
    shown = f"{where} (config.json)"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{shown} is not UTF-8 text; a .keras file's config is JSON") from None
    try:
        document = json.loads(text)
    except ValueError as problem:
        raise InputError(f"{shown} is not valid JSON: {problem}") from None
    except RecursionError:
        raise InputError(f"{shown} nests its JSON too deeply to be a model config") from None
    if not looks_like_keras(document):
        raise InputError(
            f"{shown} is not a Keras model config: it has no class_name and config at the top"
        )
    return keras_model(document, where)


def _archive_config(source: str, where: str) -> bytes:
    """``config.json`` of a zip, at most MAX_BYTES, after its directory is checked."""
    import zipfile
    import zlib

    try:
        _require_regular(os.stat(source).st_mode, where)
        with open(source, "rb") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            if not stat.S_ISREG(mode):
                _require_regular(mode, where)
            _check_directory(handle, where)
            handle.seek(0)
            with zipfile.ZipFile(handle) as archive:
                try:
                    info = archive.getinfo("config.json")
                except KeyError:
                    raise InputError(
                        f"{where} holds no config.json, so it is not a Keras model file "
                        "(.keras: config.json, metadata.json, model.weights.h5)"
                    ) from None
                if info.file_size > MAX_BYTES:
                    raise InputError(
                        f"{where}: its config.json is {info.file_size:,} bytes, larger than "
                        f"{MAX_BYTES // (1024 * 1024)} MiB; no model config comes near that"
                    )
                with archive.open(info) as member:
                    data = member.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise InputError(f"no such file: {where}; give a .keras file") from None
    except zipfile.BadZipFile as problem:
        raise InputError(f"{where} is not a .keras file (a zip archive): {problem}") from None
    except (zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError, zlib.error) as e:
        raise InputError(f"{where}: its config.json cannot be read: {e}") from None
    except OSError as problem:
        raise InputError(f"cannot read {where}: {problem.strerror or problem}") from None
    except ValueError as problem:  # a NUL in the path
        if isinstance(problem, InputError):
            raise
        raise InputError(f"cannot read {where}: {problem}") from None
    if len(data) > MAX_BYTES:
        raise InputError(
            f"{where}: its config.json unpacks to more than {MAX_BYTES // (1024 * 1024)} MiB "
            "(its directory says less); that is not a model config"
        )
    return data


def _check_directory(handle: Any, where: str) -> None:
    """Refuse a zip whose central directory is too large to read, before zipfile reads it."""
    size = handle.seek(0, os.SEEK_END)
    tail = min(size, 65_536 + 22)
    handle.seek(size - tail)
    data = handle.read(tail)
    at = data.rfind(b"PK\x05\x06")
    if at < 0 or len(data) - at < 22:
        raise InputError(f"{where} is not a .keras file: it is not a zip archive")
    entries, directory = struct.unpack("<HI", data[at + 10 : at + 16])
    if (entries == 0xFFFF or directory == 0xFFFFFFFF) and at >= 20:  # zip64: the real counts
        locator = data[at - 20 : at]
        if locator[:4] == b"PK\x06\x07":
            (offset,) = struct.unpack("<Q", locator[8:16])
            if offset < size:
                handle.seek(offset)
                record = handle.read(56)
                if record[:4] == b"PK\x06\x06" and len(record) == 56:
                    entries, directory = struct.unpack("<QQ", record[32:48])
    if entries > MAX_ENTRIES or directory > MAX_DIRECTORY:
        raise InputError(
            f"{where} is a zip of {entries:,} members ({directory:,} bytes of directory); a "
            f".keras file holds three: this is not one (at most {MAX_ENTRIES:,} members)"
        )


# -- the document -------------------------------------------------------------------------------


def keras_model(document: Mapping[str, Any], where: str) -> dict[str, object]:
    """The convcalc model mapping of a Keras model config (the parsed JSON)."""
    return _Reader(where, _layout(document)).model(document)


def _layout(document: object) -> str:
    """``chw`` when every layer that states a data_format says channels_first; else ``hwc``.
    Flatten is left out: Keras writes channels_last on every Flatten by default, and it
    changes only the order of the values."""
    formats: set[str] = set()
    todo: list[object] = [document]
    while todo:
        value = todo.pop()
        if isinstance(value, dict):
            if value.get("class_name") == "Flatten":
                continue
            found = value.get("data_format")
            if isinstance(found, str):
                formats.add(found)
            todo.extend(value.values())
        elif isinstance(value, list):
            todo.extend(value)
    return "chw" if formats == {"channels_first"} else "hwc"


def _known_classes() -> list[str]:
    merges = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"]
    names = spellings()  # the Keras spellings (classes) first, for the closest one
    return [*SPECIAL, *merges, *(n for n in names if n[:1].isupper()), *names]


def _depth(value: object) -> int:
    """How deeply lists and mappings nest in ``value`` (0 for a plain value)."""
    deepest = 0
    todo: list[tuple[object, int]] = [(value, 0)]
    while todo:
        item, depth = todo.pop()
        deepest = max(deepest, depth)
        if depth > MAX_VALUE_DEPTH:
            break
        if isinstance(item, dict):
            todo.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            todo.extend((v, depth + 1) for v in item)
    return deepest


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _shape(raw: object) -> list[int | None] | None:
    """A Keras batch shape without its batch: ``[None, 28, 28, 1]`` -> ``[28, 28, 1]``."""
    if not isinstance(raw, list) or len(raw) < 2:
        return None
    sizes = raw[1:]
    if not all(s is None or (isinstance(s, int) and not isinstance(s, bool)) for s in sizes):
        return None
    return list(sizes)


class _Names:
    """Keras names -> convcalc names in one model (or block): kept where they can be, made
    unique and free of ``.`` and ``$`` where they cannot."""

    def __init__(self, reserved: Sequence[str] = ("input",)) -> None:
        self.taken: set[str] = set(reserved)
        self.given: dict[str, str] = {}

    def name(self, keras: str, fallback: str) -> str:
        found = self.given.get(keras)
        if found is not None:
            return found
        text = keras.strip().replace(".", "_").replace("$", "_")[:MAX_NAME] or fallback
        label, counter = text, 0
        while label in self.taken:
            counter += 1
            label = f"{text[: MAX_NAME - 8]}_{counter}"
        self.taken.add(label)
        self.given[keras] = label
        return label

    def fresh(self, base: str) -> str:
        """A new name nobody in the config has: ``base``, else ``base_1``, ..."""
        label, counter = base[:MAX_NAME], 0
        while label in self.taken:
            counter += 1
            label = f"{base[: MAX_NAME - 8]}_{counter}"
        self.taken.add(label)
        return label


class _Reader:
    """One config read into a model mapping: the blocks its nested models make, and the
    layout its layers' data_format says."""

    def __init__(self, where: str, layout: str) -> None:
        self.where = where
        self.layout = layout
        self.blocks: dict[str, dict[str, object]] = {}

    def model(self, document: Mapping[str, Any]) -> dict[str, object]:
        cls, config = self._parts(document, "the model")
        if cls not in MODELS:
            raise SpecError(
                f"{self.where}: the config is of a {show(cls)}, not a model; convcalc reads "
                "the config of a Sequential or Functional model (model.to_json())"
            )
        graph = self._graph(cls, config, "the model", 0)
        if len(graph.inputs) != 1:
            raise SpecError(
                f"{self.where}: the model takes {len(graph.inputs)} inputs; a convcalc model "
                "follows one input (give each input's branch as a model of its own)"
            )
        spec: dict[str, object] = {}
        name = config.get("name") if isinstance(config, Mapping) else None
        if isinstance(name, str) and name.strip():
            spec["name"] = name
        shape = graph.shapes[0]
        if shape is not None:
            spec["input"] = shape
        spec["framework"] = "keras"
        spec["layout"] = self.layout
        if graph.dtype in ("float64", "float16", "bfloat16"):
            spec["dtype"] = graph.dtype
        if self.blocks:
            spec["blocks"] = self.blocks
        spec["layers"] = graph.items
        if isinstance(config, Mapping) and config.get("trainable") is False:
            for item in graph.items:
                _set_trainable(item)
        return spec

    # -- structure ------------------------------------------------------------------------------
    def _parts(self, entry: object, where: str) -> tuple[str, Any]:
        """(class name, config) of a serialised object; SpecError when it is not one."""
        if not isinstance(entry, Mapping) or not isinstance(entry.get("class_name"), str):
            raise SpecError(
                f"{self.where}: {where} is not a Keras layer config (a mapping with "
                f"class_name and config), but {show(entry)}"
            )
        config = entry.get("config")
        if config is None:
            config = {}
        if not isinstance(config, (Mapping, list)):
            raise SpecError(f"{self.where}: {where} has a config of {show(config)}, not a mapping")
        return str(entry["class_name"]), config

    def _graph(self, cls: str, config: Any, where: str, depth: int) -> Graph:
        if depth > MAX_NESTING:
            raise SpecError(
                f"{self.where}: models are nested in models more than {MAX_NESTING} deep "
                f"({where}); no network needs that"
            )
        layers = config if isinstance(config, list) else config.get("layers")
        if not isinstance(layers, list) or not layers:
            raise SpecError(f"{self.where}: {where} has no layers (its config has no list)")
        functional = isinstance(config, Mapping) and (
            "input_layers" in config or any(_nodes(entry) for entry in layers)
        )
        if cls == "Sequential" or not functional:
            return self._sequential(config, layers, where, depth)
        return self._functional(config, layers, where, depth)

    def _sequential(self, config: Any, layers: list[Any], where: str, depth: int) -> Graph:
        names = _Names()
        items: list[dict[str, object]] = []
        shape: list[int | None] | None = None
        dtype: str | None = None
        for position, entry in enumerate(layers):
            cls, layer_config = self._parts(entry, f"layer {position + 1} of {where}")
            label = _keras_name(entry, layer_config, position)
            if cls == "InputLayer":
                if items:
                    raise SpecError(
                        f"{self.where}: {where}: the InputLayer {show(label)} is not first"
                    )
                shape = _shape(
                    layer_config.get("batch_shape", layer_config.get("batch_input_shape"))
                )
                dtype = _dtype(layer_config)
                continue
            if not items and shape is None and isinstance(layer_config, Mapping):
                shape = _shape(layer_config.get("batch_input_shape"))
            call = Call(label, cls, layer_config, (), (), position, False)
            items.extend(self._layer(call, entry, [], names, where, depth))
        if not items:
            raise SpecError(f"{self.where}: {where} has no layers besides its input")
        if shape is None and isinstance(config, Mapping):
            shape = _shape(config.get("build_input_shape"))
        return Graph(items, ("input",), (shape,), dtype)

    def _functional(self, config: Any, layers: list[Any], where: str, depth: int) -> Graph:
        calls: dict[str, Call] = {}
        entries: dict[str, Any] = {}
        for position, entry in enumerate(layers):
            cls, layer_config = self._parts(entry, f"layer {position + 1} of {where}")
            label = _keras_name(entry, layer_config, position)
            if label in calls:
                raise SpecError(
                    f"{self.where}: {where}: two layers are called {show(label)}; a Keras "
                    "model's layer names are unique"
                )
            nodes = _nodes(entry)
            if len(nodes) > 1:
                raise SpecError(
                    f"{self.where}: layer {show(label)} ({show(cls)}) is called {len(nodes)} "
                    "times, sharing its weights; convcalc counts each call as a layer of its "
                    "own, which would count them again: write the calls out as separate layers"
                )
            call = Call(label, cls, layer_config, (), (), position, False)
            calls[label] = self._node(nodes[0], call) if nodes else call
            entries[label] = entry
        inputs = self._ends(config.get("input_layers"), calls, "input", where)
        outputs = self._ends(config.get("output_layers"), calls, "output", where)
        if len(outputs) != 1:
            listed = ", ".join(show(ref.layer) for ref in outputs[:6])
            raise SpecError(
                f"{self.where}: {where} has {len(outputs)} outputs ({listed}); a convcalc model "
                "follows its layers to one output"
            )
        for ref in inputs:
            if calls[ref.layer].cls != "InputLayer":
                raise SpecError(
                    f"{self.where}: {where}: its input {show(ref.layer)} is a "
                    f"{show(calls[ref.layer].cls)}, not an InputLayer"
                )
        input_names = self._input_names([ref.layer for ref in inputs])
        names = _Names(list(input_names.values()))
        for label, call in calls.items():
            for ref in call.inputs:
                source = calls.get(ref.layer)
                if source is None:
                    raise SpecError(
                        f"{self.where}: layer {show(label)} takes the output of "
                        f"{show(ref.layer)}, which is not a layer of {where}"
                        f"{did_you_mean(ref.layer, list(calls))}"
                    )
                if ref.tensor != 0:
                    raise SpecError(
                        f"{self.where}: layer {show(label)} takes output {ref.tensor + 1} of "
                        f"{show(ref.layer)}; convcalc follows layers of one output"
                    )
            if call.cls == "InputLayer" and label not in input_names:
                raise SpecError(
                    f"{self.where}: {where}: the InputLayer {show(label)} is not one of the "
                    "model's inputs"
                )
        order = _order(calls, outputs[0].layer, self.where)
        items: list[dict[str, object]] = []
        previous = "input"
        for label in order:
            call = calls[label]
            if call.cls == "InputLayer":
                continue
            taken = [
                input_names.get(ref.layer) or names.name(ref.layer, "layer") for ref in call.inputs
            ]
            made = self._layer(call, entries[label], taken, names, where, depth, previous)
            items.extend(made)
            previous = names.name(label, "layer")
        if not items:
            raise SpecError(f"{self.where}: {where} has no layers besides its input")
        shapes = tuple(_shape(_input_shape(calls[ref.layer].config)) for ref in inputs)
        dtype = _dtype(calls[inputs[0].layer].config) if inputs else None
        return Graph(items, tuple(input_names[ref.layer] for ref in inputs), shapes, dtype)

    def _input_names(self, inputs: list[str]) -> dict[str, str]:
        """The names a model's inputs are taken by: ``input`` for the first, words for the
        others (a block's further inputs are identifiers other than in and input)."""
        found: dict[str, str] = {}
        used = {"input", "in"}
        for position, label in enumerate(inputs):
            if position == 0:
                found[label] = "input"
                continue
            word = "".join(c if c.isalnum() or c == "_" else "_" for c in label)[:MAX_NAME]
            if not word.isidentifier() or word in used:
                word = f"input_{position + 1}"
            while word in used:
                word += "_"
            used.add(word)
            found[label] = word
        return found

    def _ends(self, raw: object, calls: Mapping[str, Call], what: str, where: str) -> list[Ref]:
        """A Functional config's input_layers or output_layers as references."""
        if isinstance(raw, dict):  # Keras 3: inputs given as a dict by name
            raw = list(raw.values())
        if isinstance(raw, list) and raw and isinstance(raw[0], str):
            raw = [raw]  # Keras 3: one tensor, not a list of them
        refs = []
        for item in raw if isinstance(raw, list) else []:
            ref = _ref(item)
            if ref is None or ref.layer not in calls:
                raise SpecError(
                    f"{self.where}: {where}: its {what} {show(item)} names no layer of it"
                )
            refs.append(ref)
        if not refs:
            raise SpecError(f"{self.where}: {where} names no {what} layer ({what}_layers)")
        return refs

    def _node(self, node: object, call: Call) -> Call:
        """``call`` with the tensors (and constants) of the layer's one call, in order."""
        refs: list[Ref] = []
        if isinstance(node, list):  # Keras 2: [[name, node, tensor, kwargs], ...]
            for item in node:
                ref = _ref(item)
                if ref is None:
                    raise SpecError(
                        f"{self.where}: layer {show(call.name)} has an inbound node "
                        f"{show(item)} that is not [layer, node, tensor, ...]"
                    )
                refs.append(ref)
            return call._replace(inputs=tuple(refs), list_call=len(refs) > 1)
        if not isinstance(node, Mapping):
            raise SpecError(
                f"{self.where}: layer {show(call.name)} has an inbound node {show(node)}, not "
                "Keras 3's {args, kwargs} nor Keras 2's list"
            )
        args = node.get("args") or []
        kwargs = node.get("kwargs") or {}
        args = args if isinstance(args, list) else [args]
        ranks: list[int | None] = []
        constants: list[object] = []
        constant_first = False
        for arg in args:
            found = list(_tensors(arg))
            if found:
                refs.extend(ref for ref, _ in found)
                ranks.extend(rank for _, rank in found)
            else:
                constant_first = constant_first or not refs
                constants.append(arg)
        for value in kwargs.values() if isinstance(kwargs, Mapping) else ():
            for ref, rank in _tensors(value):
                refs.append(ref)
                ranks.append(rank)
        return call._replace(
            inputs=tuple(dict.fromkeys(refs)),
            constants=tuple(constants),
            list_call=len(args) == 1 and isinstance(args[0], list),
            constant_first=constant_first and bool(refs),
            rank=ranks[0] if ranks else None,
        )

    # -- one layer ------------------------------------------------------------------------------
    def _layer(
        self,
        call: Call,
        entry: Any,
        taken: list[str],
        names: _Names,
        where: str,
        depth: int,
        previous: str = "input",
    ) -> list[dict[str, object]]:
        """The items one layer becomes (two for a CustomScaleLayer, a block use for a model)."""
        label = names.name(call.name, normalize_name(call.cls) or "layer")
        config = call.config if isinstance(call.config, Mapping) else {}
        placed = f"layer {show(call.name)} ({show(call.cls)})"
        if depth:
            placed += f" in {where}"
        if call.cls in MODELS and isinstance(call.config, (Mapping, list)):
            return [self._use(call, label, taken, previous, depth)]
        merge = MERGE_LAYERS.get(normalize_name(call.cls))
        tensors = len(taken)
        if call.cls == "CustomScaleLayer" and tensors == 2:
            scale = config.get("scale")
            if not _is_number(scale):
                raise SpecError(f"{self.where}: {placed}: its scale {show(scale)} is no number")
            scaled = names.fresh(f"{label}_scale")
            scaling: dict[str, object] = {"scale": scale, "name": scaled}
            if taken[1] != previous:
                scaling["inputs"] = [taken[1]]
            return [
                {"rescaling": scaling},
                _item(Merge.ADD.value, {"name": label, "inputs": [taken[0], scaled]}, config),
            ]
        if call.cls in OPERATIONS and tensors == 1 and len(call.constants) == 1:
            return [self._operation(call, label, taken, previous, placed)]
        if merge is not None:
            if tensors < 2:
                raise SpecError(
                    f"{self.where}: {placed} joins {tensors} tensor{'s' if tensors != 1 else ''}"
                    f"{' and a number' if call.constants else ''}; convcalc's {merge.value} "
                    "joins two or more tensors"
                )
            if merge is Merge.CONCAT:
                self._check_axis(call, config, placed)
            return [_item(merge.value, {"name": label, "inputs": taken}, config)]
        if call.cls == "Lambda":
            raise SpecError(
                f"{self.where}: {placed} is a Lambda: its computation is Python code kept in "
                "the config, which convcalc neither reads nor runs; build the model with a "
                "layer class in its place (`convcalc layers` lists those convcalc knows), or "
                "write that part in YAML"
            )
        kind = find_kind(call.cls)
        if kind is None or call.cls in SPECIAL:
            raise SpecError(
                f"{self.where}: {placed}: convcalc does not know the class {show(call.cls)}"
                f"{did_you_mean(call.cls, _known_classes())}; `convcalc layers` lists the "
                "layer types it knows"
            )
        if tensors > 1:
            raise SpecError(
                f"{self.where}: {placed} takes {tensors} tensors; convcalc's {kind.name} takes one"
            )
        if call.cls == "UpSampling1D" and self.layout == "chw":
            raise SpecError(
                f"{self.where}: {placed}: Keras' UpSampling1D has no data_format and repeats "
                "axis 1, which in this channels-first model is the channels; convcalc's "
                "upsampling1d repeats the length there, so it would count another model"
            )
        params = self._params(kind, config, placed, call.rank or _built_rank(entry))
        params["name"] = label
        if taken and taken[0] != previous:
            params["inputs"] = taken
        return [_item(kind.name, params, config)]

    def _use(
        self, call: Call, label: str, taken: list[str], previous: str, depth: int
    ) -> dict[str, object]:
        """A nested model: its block defined once, and used here."""
        inner = self._graph(call.cls, call.config, f"the model {show(call.name)}", depth + 1)
        block = self._block_name(call.name)
        body: dict[str, object] = {}
        if len(inner.inputs) > 1:
            body["inputs"] = list(inner.inputs)
        body["layers"] = inner.items
        self.blocks[block] = body
        params: dict[str, object] = {"name": label}
        if taken and (len(taken) > 1 or taken[0] != previous):
            params["inputs"] = taken
        config = call.config if isinstance(call.config, Mapping) else {}
        return _item(block, params, config)

    def _block_name(self, model: str) -> str:
        """A block name for a nested model: its name as a word, not a layer type."""
        word = "".join(c if c.isalnum() or c == "_" else "_" for c in model.strip())
        word = word[:MAX_NAME] or "model"
        if not word.isidentifier():
            word = f"model_{word}"
        key = normalize_name(word)
        if (
            find_kind(word) is not None
            or key in MERGE_LAYERS
            or key in CONSTRUCTS
            or key in ("input", "inputs", "name", "trainable", "type", "if", "index")
        ):
            word = f"{word}_model"
        taken = {normalize_name(n) for n in self.blocks}
        base, counter = word, 0
        while normalize_name(word) in taken:
            counter += 1
            word = f"{base}_{counter}"
        return word

    def _operation(
        self, call: Call, label: str, taken: list[str], previous: str, placed: str
    ) -> dict[str, object]:
        """``x + c``, ``x - c``, ``c - x``, ``x * c``, ``x / c`` as a rescaling."""
        constant = call.constants[0]
        if not _is_number(constant) or not math.isfinite(float(constant)):  # type: ignore[arg-type]
            raise SpecError(
                f"{self.where}: {placed} takes the value {show(constant)} beside its tensor; "
                "convcalc reads an operation on a tensor and one number"
            )
        value = float(constant)  # type: ignore[arg-type]
        first = call.constant_first
        scale, offset = 1.0, 0.0
        if call.cls == "Add":
            offset = value
        elif call.cls == "Subtract":
            scale, offset = (-1.0, value) if first else (1.0, -value)
        elif call.cls == "Multiply":
            scale = value
        else:
            if first or value == 0:
                what = "a number by the tensor" if first else "by 0"
                raise SpecError(
                    f"{self.where}: {placed} divides {what}; convcalc reads the division of a "
                    "tensor by a number"
                )
            scale = 1.0 / value
        params: dict[str, object] = {"scale": scale}
        if offset:
            params["offset"] = offset
        params["name"] = label
        if taken and taken[0] != previous:
            params["inputs"] = taken
        return {"rescaling": params}

    def _check_axis(self, call: Call, config: Mapping[str, Any], placed: str) -> None:
        axis = config.get("axis", -1)
        if axis == -1:
            return
        rank = call.rank
        channels = 1 if self.layout == "chw" and rank not in (None, 2) else -1
        if isinstance(axis, int) and rank is not None and axis in (channels, channels % rank):
            return
        raise SpecError(
            f"{self.where}: {placed} joins axis {show(axis)}; convcalc's concat joins the "
            f"channel axis ({'1' if self.layout == 'chw' else '-1'} in this model)"
        )

    def _params(
        self, kind: LayerKind, config: Mapping[str, Any], placed: str, rank_of: int | None
    ) -> dict[str, object]:
        """A layer's config as convcalc parameters: catalogue names, defaults left out.
        ``rank_of`` is its input's rank with the batch, where the config records it."""
        params: dict[str, object] = {}
        found: dict[str, tuple[Param, object]] = {}
        for key, value in config.items():
            key = str(key)
            if key in _SKIPPED or is_ignored(kind, key):
                continue
            if _depth(value) > MAX_VALUE_DEPTH:
                raise SpecError(
                    f"{self.where}: {placed}: {key} nests lists more than {MAX_VALUE_DEPTH} deep"
                )
            if _is_off(key, value) or (
                key in _AFTER and _is_off(_AFTER[key], config.get(_AFTER[key]))
            ):
                continue
            if key == "data_format" and (value == _FORMATS[self.layout] or kind.name == "flatten"):
                continue  # the model's layout: every kind's default (Flatten: only the order)
            param = find_param(kind, key)
            if param is None and (kind.name, key) in _READ_KEYS:
                self._read_key(kind, key, value, config, rank_of, params, placed)
                continue
            if param is None:
                params[key] = value  # unknown: the engine names it, and the closest
                continue
            found[param.name] = (param, value)
        rank = kind.rank or 1
        for name, (param, value) in found.items():
            default = param.default
            if isinstance(default, SameAs):
                other = found.get(default.other)
                default = other[1] if other else _default_of(kind, default.other)
            if default is not REQUIRED and _same(param, value, default, rank):
                continue
            if default is None and value in _UNSET.get(name, ()):
                continue
            if name == "axis" and kind.name == "batchnorm" and self._channel_axis(value, rank_of):
                continue
            params[name] = _simplest(param, value, rank)
        if config.get("trainable") is False:
            params["trainable"] = False
        return params

    def _read_key(
        self,
        kind: LayerKind,
        key: str,
        value: object,
        config: Mapping[str, Any],
        rank: int | None,
        params: dict[str, object],
        placed: str,
    ) -> None:
        """Keras keys the catalogue has no parameter for: the normalisations' ``axis``
        (LayerNormalization's normalised axes as convcalc's ``axes``, how many trailing axes;
        GroupNormalization's channel axis), ``scale`` and ``center`` (gamma and beta), and
        MultiHeadAttention's ``attention_axes`` (every position axis, as convcalc counts)."""
        if key == "attention_axes":
            given = value if isinstance(value, list) else [value]
            positions = None if rank is None else list(range(1, rank - 1))
            if value is None or (positions is not None and sorted(given) == positions):
                return
            raise SpecError(
                f"{self.where}: {placed}: attention_axes {show(value)} is not every position "
                "axis; convcalc's multihead_attention attends over all of them jointly"
            )
        if key in ("scale", "center"):
            scale, center = config.get("scale", True), config.get("center", True)
            if scale is True and (center is True or kind.name == "layernorm"):
                return  # layernorm's center is the catalogue's bias
            if scale is False and center is False:
                params["affine"] = False
                return
            raise SpecError(
                f"{self.where}: {placed}: scale {show(scale)} with center {show(center)}: "
                f"convcalc's {kind.name} learns the scale whenever it learns the shift"
                f"{'' if kind.name == 'layernorm' else ', and the shift with the scale'}"
            )
        if kind.name == "groupnorm":
            if self._channel_axis(value, rank):
                return
            raise SpecError(
                f"{self.where}: {placed}: axis {show(value)} is not the channel axis; "
                "convcalc's groupnorm groups the channels"
            )
        given = value if isinstance(value, list) else [value]
        axes = [a for a in given if isinstance(a, int) and not isinstance(a, bool)]
        if axes and len(axes) == len(given):
            trailing = sorted(a - rank if rank is not None and a > 0 else a for a in axes)
            if trailing == list(range(-len(axes), 0)) and (rank is None or len(axes) < rank):
                if len(axes) != 1:
                    params["axes"] = len(axes)
                return
        raise SpecError(
            f"{self.where}: {placed}: axis {show(value)} is not the input's last axes (of "
            f"{'unknown rank' if rank is None else f'rank {rank} with the batch'}); convcalc's "
            "layernorm normalises trailing axes"
        )

    def _channel_axis(self, value: object, rank: int | None) -> bool:
        """Whether an axis (BatchNormalization's) is the layout's channel axis, which is
        convcalc's default."""
        axis = value[0] if isinstance(value, list) and len(value) == 1 else value
        if not isinstance(axis, int) or isinstance(axis, bool):
            return False
        if self.layout == "chw":
            return axis == 1
        return axis == -1 or (rank is not None and axis == rank - 1)


_FORMATS = {"hwc": "channels_last", "chw": "channels_first"}
_UNSET: dict[str, tuple[object, ...]] = {
    "activation": ("linear",),
    "negative_slope": (0.0,),
    "threshold": (0.0,),
}
"""What Keras writes in a config for an argument left at its default where the catalogue's
default is "not set" (None): the identity activation, ReLU's zero slope and threshold."""


def _simplest(param: Param, value: object, rank: int) -> object:
    """``value`` written as briefly as it means the same: ``[3, 3]`` as ``3``."""
    while isinstance(value, list) and value and all(v == value[0] for v in value):
        shorter = value[0]
        if not _same(param, shorter, value, rank):
            break
        value = shorter
    return value


def _built_rank(entry: object) -> int | None:
    """The rank (with the batch) of a layer's input in its Keras 3 build_config."""
    build = entry.get("build_config") if isinstance(entry, Mapping) else None
    shape = build.get("input_shape") if isinstance(build, Mapping) else None
    return len(shape) if isinstance(shape, list) else None


def _default_of(kind: LayerKind, name: str) -> object:
    for param in kind.params:
        if param.name == name:
            return param.default
    return REQUIRED


def _same(param: Param, value: object, default: object, rank: int) -> bool:
    """Whether ``value`` means the same as the default (the default left out then)."""
    if value is None or default is None:
        return value is None and default is None
    try:
        return bool(param.type.parse(value, rank) == param.type.parse(default, rank))
    except (Invalid, TypeError, ValueError):
        return False


def _item(
    type_name: str, params: dict[str, object], config: Mapping[str, Any]
) -> dict[str, object]:
    if config.get("trainable") is False:
        params["trainable"] = False
    return {type_name: params}


def _set_trainable(item: dict[str, object]) -> None:
    for params in item.values():
        if isinstance(params, dict):
            params["trainable"] = False


def _keras_name(entry: Mapping[str, Any], config: Any, position: int) -> str:
    name = config.get("name") if isinstance(config, Mapping) else None
    if not isinstance(name, str):
        name = entry.get("name")
    return name if isinstance(name, str) and name else f"layer_{position + 1}"


def _nodes(entry: object) -> list[Any]:
    nodes = entry.get("inbound_nodes") if isinstance(entry, Mapping) else None
    return nodes if isinstance(nodes, list) else []


def _dtype(config: object) -> str | None:
    dtype = config.get("dtype") if isinstance(config, Mapping) else None
    return dtype if isinstance(dtype, str) else None


def _input_shape(config: object) -> object:
    if not isinstance(config, Mapping):
        return None
    return config.get("batch_shape", config.get("batch_input_shape"))


def _ref(item: object) -> Ref | None:
    """``[layer, node, tensor, ...]`` as a reference; None when it is not one."""
    if not isinstance(item, list) or len(item) < 3 or not isinstance(item[0], str):
        return None
    node, tensor = item[1], item[2]
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in (node, tensor)):
        return None
    return Ref(item[0], node, tensor)


def _tensors(value: object) -> Iterator[tuple[Ref, int | None]]:
    """The Keras 3 tensors in a call's argument (a tensor, or lists and dicts of them), each
    with its rank (batch included) where the config records its shape."""
    todo: list[object] = [value]
    while todo:
        item = todo.pop(0)
        if isinstance(item, Mapping):
            if item.get("class_name") == "__keras_tensor__":
                config = item.get("config")
                config = config if isinstance(config, Mapping) else {}
                ref = _ref(config.get("keras_history"))
                shape = config.get("shape")
                if ref is not None:
                    yield ref, len(shape) if isinstance(shape, list) else None
                continue
            todo.extend(item.values())
        elif isinstance(item, list):
            todo[:0] = item


def _order(calls: Mapping[str, Call], output: str, where: str) -> list[str]:
    """The layers in an order where each comes after those it takes, the output last, and
    otherwise as the config lists them."""
    waiting = {label: len({ref.layer for ref in call.inputs}) for label, call in calls.items()}
    users: dict[str, list[str]] = {}
    for label, call in calls.items():
        for source in {ref.layer for ref in call.inputs}:
            users.setdefault(source, []).append(label)
    ready = [(call.position, label) for label, call in calls.items() if not waiting[label]]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, label = heapq.heappop(ready)
        order.append(label)
        for user in users.get(label, []):
            waiting[user] -= 1
            if not waiting[user]:
                heapq.heappush(ready, (calls[user].position, user))
    if len(order) != len(calls):
        stuck = [label for label in calls if waiting[label]]
        raise SpecError(
            f"{where}: the layers {', '.join(show(s) for s in stuck[:4])} take each other's "
            "outputs in a cycle; a model's graph has none"
        )
    if order[-1] != output:
        if users.get(output):
            raise SpecError(
                f"{where}: the model's output {show(output)} also feeds "
                f"{show(users[output][0])}; convcalc's model ends at its last layer"
            )
        order.remove(output)
        order.append(output)
    return order


def import_comments(source: str, spec: Mapping[str, object]) -> list[str]:
    """The lines ``convcalc import`` writes above the YAML: where it came from, and what
    the config leaves open."""
    shown = "standard input" if source == "-" else _path_name(source)
    lines = [f"Imported by `convcalc import` from {shown}, a Keras model config."]
    shape = spec.get("input")
    if shape is None:
        lines.append(
            "The config gives no input shape: write one (input: [...]), or give the whole "
            "shape with --input."
        )
    elif not isinstance(shape, list) or None in shape:
        lines.append(
            "The config leaves the input's size open (null): write it in, or give the whole "
            "shape with --input."
        )
    return lines
