"""Reading an ONNX model (``convcalc model net.onnx``) into a convcalc model mapping.

The ``onnx`` package is optional (``pip install 'convcalc[onnx]'``) and imported only here,
only when an ONNX file is read. The file is parsed as a protobuf message and never run: no
operator executes, no external data file is opened (the weights' *shapes* are what count, and
an initializer stored outside the file still has them), and the file is read up to
:data:`MAX_BYTES`.

The graph becomes the model language's named tensors, PyTorch's rules, channels first:

- every node that computes on the input's data becomes a layer (or a merge) in graph order,
  named after the node; a node taking a tensor other than the one just computed says which with
  ``inputs``. Nodes that only compute constants or shapes (``Shape``, ``Constant``, ``Gather``
  on a shape, ``Concat`` of sizes, the exporters' zero biases) are not layers: their values
  are read where a layer needs one (a ``Clip``'s bounds, a ``Pad``'s pads);
- a layer's arguments come from its attributes and from its weights' shapes: a ``Conv``'s
  weight (M, C/g, k...) gives its filters, kernel and (with ``group``) groups; a ``Gemm``'s or
  a ``MatMul``'s its units; a ``BatchNormalization``'s scale its channels. A bias is there when
  the node takes an initializer as its bias (a bias computed in the graph from constants, as
  the dynamo exporter writes for ``bias=False``, holds no parameter);
- shapes (a ``Reshape``'s target, a ``Resize``'s output) come from ONNX's own shape inference,
  so the file must have a fixed input size (any batch);
- ``Identity``, ``Dropout`` and casts pass their input on; a ``MatMul`` followed by the ``Add``
  of its bias is one dense layer; ``x * Sigmoid(x)`` is one ``silu``; ``Reshape``,
  ``Transpose``, ``Reshape`` regrouping the channels is one ``channel_shuffle``; a ``Split``
  of the channels whose parts meet again in one ``Concat`` is a ``split`` construct;
- larger patterns are found before the walk (:class:`_Region`): PyTorch's MultiheadAttention
  (tokens to tokens around a ``Softmax``, the q, k, v and output projections' weights and
  nothing else: ``multihead_attention``), torchvision Swin's shifted window attention (a map
  (N, H, W, C) back to one around a ``Softmax``, through padding, cyclic shift, windows and
  position bias: ``window_attention``, its version told by its weights) and patch merging
  (``patch_merging``); each is checked to be closed (only its entry goes in, only its exit
  leaves) and to hold exactly the parameters its kind counts, else it is not read as one;
- any other operator is an error naming it and its node.

PyTorch's BatchNorm has 2·C parameters and 2·C buffers (its running mean and variance), which
is what convcalc counts for ``batchnorm`` under PyTorch's rules. An exporter that folds each
BatchNorm into the convolution before it (``torch.onnx.export``'s default optimisation does)
writes a different model: convolutions with biases and no BatchNorm, as counted here.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple, NoReturn

from .._catalogue import find_kind
from .._errors import InputError, SpecError
from .._values import show
from ._yaml import _path_name, _require_regular

MAX_BYTES = 2 * 1024 * 1024 * 1024 - 1
"""Protobuf's own limit on one message: larger models keep their weights in external data,
which is never read here."""
MAX_NODES = 100_000
"""Nodes of a graph: far above any exported CNN (a ResNet-152 has about 500), and about what a
model of 100,000 listed layers costs in memory."""
SMALL = 4096
"""Constants of at most this many elements are kept with their values (shapes, pads, bounds,
axes); larger initializers are weights, of which only the shape is used."""
INSTALL = "pip install 'convcalc[onnx]'"

SUPPORTED = (
    "Conv, ConvTranspose, MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool, ReduceMean "
    "and ReduceMax over the spatial axes, Gemm, MatMul (with a weight), BatchNormalization, "
    "InstanceNormalization, LayerNormalization, GroupNormalization, the activations (Relu, "
    "Clip, Sigmoid, HardSwish, Gelu, Softmax, ...), Add, Sub, Mul, Max, Min, Mean, Sum, "
    "Concat, Split, Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Resize, Pad, Identity, "
    "Dropout, Cast; and whole, the attention of PyTorch's MultiheadAttention and of "
    "torchvision's Swin"
)

_ACTIVATIONS = {
    "Relu": "relu",
    "Sigmoid": "sigmoid",
    "Tanh": "tanh",
    "Softplus": "softplus",
    "Softsign": "softsign",
    "Elu": "elu",
    "Selu": "selu",
    "Celu": "celu",
    "LeakyRelu": "leaky_relu",
    "Gelu": "gelu",
    "Mish": "mish",
    "HardSigmoid": "hard_sigmoid",
    "HardSwish": "hard_silu",
    "Softmax": "softmax",
    "LogSoftmax": "log_softmax",
}
"""ONNX's activation operators and the catalogue's kind for each (found through it)."""

_PASS = frozenset({"Identity", "Dropout", "Cast", "CastLike"})
"""Operators that hand their input on unchanged, as far as any count goes."""

_MERGES = {
    "Add": "add",
    "Sub": "subtract",
    "Mul": "multiply",
    "Max": "maximum",
    "Min": "minimum",
    "Mean": "average",
    "Sum": "add",
}
"""Element-wise operators on two (or more) computed tensors: convcalc's merges."""

_META_INPUTS = {"Shape": (0,), "Size": (0,), "CastLike": (1,)}
"""Inputs an operator reads only the shape or type of: a tensor computed from the data there
still gives a constant."""

_FLOAT_TYPES = {10: "float16", 16: "bfloat16", 11: "float64"}
"""ONNX element types (TensorProto) convcalc has a dtype for, besides float32 (its default)."""

Dim = int | str | None
"""One size of a tensor: a number, a symbol (a dynamic batch), or unknown."""


def onnx_module() -> Any:
    """The ``onnx`` package, or an InputError saying how to install it."""
    try:
        import onnx
    except ImportError as problem:
        reason = "" if problem.name == "onnx" else f" ({problem})"
        raise InputError(
            f"reading an ONNX model needs the onnx package, which is not installed{reason}: "
            f"{INSTALL}"
        ) from None
    return onnx


def is_onnx_source(source: str) -> bool:
    """Whether a model source names an ONNX file (by its suffix)."""
    return source.lower().endswith(".onnx")


def read_onnx(source: str) -> dict[str, Any]:
    """The convcalc model mapping of the ONNX file at ``source``."""
    onnx = onnx_module()
    if not source.strip():
        raise InputError("the model file name is empty; give an ONNX file (.onnx)")
    where = _path_name(source)
    data = _read_bytes(source, where)
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except Exception:  # google.protobuf.message.DecodeError, or a RecursionError inside it
        raise InputError(f"{where} is not an ONNX model: protobuf cannot parse it") from None
    del data
    stem = os.path.splitext(os.path.basename(source))[0]
    return onnx_to_model(model, where, stem)


def _read_bytes(source: str, where: str) -> bytes:
    """At most MAX_BYTES of a regular file (never a pipe or a device)."""
    try:
        _require_regular(os.stat(source).st_mode, where)
        flags = os.O_RDONLY
        for name in ("O_NONBLOCK", "O_NOCTTY", "O_CLOEXEC", "O_BINARY"):
            flags |= getattr(os, name, 0)
        with open(os.open(source, flags), "rb") as handle:
            _require_regular(os.fstat(handle.fileno()).st_mode, where)
            data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise InputError(f"no such file: {where}; give an ONNX model file (.onnx)") from None
    except OSError as problem:
        raise InputError(f"cannot read {where}: {problem.strerror or problem}") from None
    except ValueError as problem:  # a NUL in the path
        if isinstance(problem, InputError):
            raise
        raise InputError(f"cannot read {where}: a file name cannot hold a NUL character") from None
    if len(data) > MAX_BYTES:
        raise InputError(
            f"{where} is larger than {MAX_BYTES:,} bytes, protobuf's limit for one "
            "ONNX file; save the weights as external data (onnx.save(..., "
            "save_as_external_data=True)): convcalc reads only their shapes"
        )
    if not data:
        raise InputError(f"{where} is empty; an ONNX model holds a graph")
    return data


def onnx_to_model(model: Any, where: str = "the ONNX model", name: str = "") -> dict[str, Any]:
    """The convcalc model mapping of an ONNX ``ModelProto`` (it is changed: the values of
    large initializers are dropped, as they are never needed)."""
    onnx = onnx_module()
    graph = model.graph
    if not len(graph.node):
        raise InputError(f"{where} holds no ONNX graph (no nodes): is it an ONNX model?")
    if len(graph.node) > MAX_NODES:
        raise InputError(
            f"{where} has {len(graph.node):,} nodes; convcalc reads at most {MAX_NODES:,}"
        )
    _check_initializers(onnx, graph, where)
    values = _small_values(onnx, graph)
    _drop_weights(onnx, graph)
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)
    except Exception as problem:  # onnx's InferenceError and ValidationError, among others
        raise InputError(
            f"{where}: ONNX's shape inference refuses the graph: {show(str(problem))}"
        ) from None
    reader = _Graph(onnx, inferred.graph, values, where)
    spec: dict[str, Any] = {"name": name or graph.name or "onnx"}
    spec.update(reader.input_settings())
    spec["framework"] = "pytorch"
    spec["layout"] = "chw"
    spec["layers"] = reader.translate()
    return spec


def _small_values(onnx: Any, graph: Any) -> dict[str, list[float]]:
    """The values of the small initializers stored in the file (flattened)."""
    from onnx import numpy_helper

    values: dict[str, list[float]] = {}
    for tensor in graph.initializer:
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            continue  # never read: the file it names is not opened
        if math.prod(tensor.dims) > SMALL:
            continue
        try:
            values[tensor.name] = numpy_helper.to_array(tensor).reshape(-1).tolist()
        except Exception:  # a malformed or unusual tensor: its value is simply unknown
            continue
    return values


_DATA_FIELDS = (
    "raw_data",
    "float_data",
    "int32_data",
    "int64_data",
    "double_data",
    "uint64_data",
    "string_data",
)


def _check_initializers(onnx: Any, graph: Any, where: str) -> None:
    """Refuse an initializer stored in the file whose values do not fill its dimensions: its
    parameter count would be a number the file never held (2**40 channels from 8 bytes)."""
    for tensor in graph.initializer:
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            continue
        declared = math.prod(tensor.dims)
        if tensor.raw_data:
            try:
                size = onnx.helper.tensor_dtype_to_np_dtype(tensor.data_type).itemsize
            except Exception:  # an unknown data type: ONNX's checks name it later
                continue
            held = len(tensor.raw_data) // max(size, 1)
        else:
            held = max(len(getattr(tensor, field)) for field in _DATA_FIELDS[1:])
            if tensor.data_type in (onnx.TensorProto.COMPLEX64, onnx.TensorProto.COMPLEX128):
                held //= 2
        if held != declared:
            raise InputError(
                f"{where}: initializer {show(tensor.name)} declares {list(tensor.dims)} "
                f"({declared:,} values) but holds {held:,}; the file is damaged or was made "
                "to mislead: export it again"
            )


def _drop_weights(onnx: Any, graph: Any) -> None:
    """Large initializers keep their shape and lose their data (marked as stored elsewhere),
    so shape inference copies no weights."""
    for tensor in graph.initializer:
        if tensor.data_location == onnx.TensorProto.EXTERNAL or math.prod(tensor.dims) <= SMALL:
            continue
        for field in _DATA_FIELDS:
            tensor.ClearField(field)
        tensor.data_location = onnx.TensorProto.EXTERNAL
        del tensor.external_data[:]
        entry = tensor.external_data.add()
        entry.key, entry.value = "location", "weights-not-read-by-convcalc"


class _Graph:
    """One ONNX graph, its tensors classified and translated node by node."""

    def __init__(self, onnx: Any, graph: Any, values: dict[str, list[float]], where: str):
        self.onnx = onnx
        self.graph = graph
        self.where = where
        self.values = values
        self.depth = 0
        self.nesting = 0
        self.initializers = {tensor.name: tensor for tensor in graph.initializer}
        self.shapes: dict[str, tuple[Dim, ...]] = {}
        for info in (*graph.input, *graph.value_info, *graph.output):
            shape = _shape_of_type(info.type)
            if shape is not None:
                self.shapes.setdefault(info.name, shape)
        for tensor in graph.initializer:
            self.shapes[tensor.name] = tuple(int(d) for d in tensor.dims)
        self.nodes = list(graph.node)  # one Python object per node: ids stay put
        _require_text(graph, self.nodes, where)
        self.producer: dict[str, Any] = {}
        self.index: dict[int, int] = {}
        for position, node in enumerate(self.nodes):
            self.index[id(node)] = position
            for output in node.output:
                if output:
                    self.producer[output] = node
        self.data_input = self._data_input()
        self.data = self._classify()
        self.live = self._live()
        self.consumers: dict[str, list[Any]] = {}
        for node in self.live:
            for tensor in node.input:
                if tensor in self.data:
                    self.consumers.setdefault(tensor, []).append(node)
        self.position = {id(node): i for i, node in enumerate(self.live)}
        self.batch = _known(self.shapes.get(self.data_input, (1,))[:1]) or (1,)
        self.regions: dict[int, _Region] = {}
        for node in self.live:
            if id(node) in self.regions:
                continue
            found = None
            if node.op_type == "Softmax":
                found = (
                    self._partition_attention(node)
                    or self._window_attention(node)
                    or self._attention(node)
                )
            elif node.op_type == "Concat":
                found = self._patch_merging(node)
            if found is not None:
                for member in found.nodes:
                    self.regions[id(member)] = found
        self.names: dict[str, str] = {self.data_input: "input"}
        self.taken: set[str] = {"input"}
        self.done: set[int] = set()

    # -- the input --------------------------------------------------------------------------

    def _data_input(self) -> str:
        inputs = [i for i in self.graph.input if i.name not in self.initializers]
        if len(inputs) != 1:
            names = ", ".join(show(i.name) for i in inputs[:5]) or "none"
            raise InputError(
                f"{self.where} has {len(inputs)} inputs ({names}); convcalc reads models of "
                "one input"
            )
        return str(inputs[0].name)

    def input_settings(self) -> dict[str, Any]:
        """``input`` (without the batch), and ``batch`` and ``dtype`` where the file fixes
        them."""
        info = next(i for i in self.graph.input if i.name == self.data_input)
        shape = self.shapes.get(self.data_input)
        if shape is None or len(shape) < 2:
            raise InputError(
                f"{self.where}: its input {show(self.data_input)} has no shape of a batch "
                f"and at least one axis ({_shown_shape(shape)}); export it with a fixed input size"
            )
        sizes = []
        dims = info.type.tensor_type.shape.dim
        for axis, size in enumerate(shape[1:], start=1):
            if not isinstance(size, int) or size <= 0:
                label = dims[axis].dim_param if axis < len(dims) else ""
                raise InputError(
                    f"{self.where}: its input {show(self.data_input)} has no fixed size on "
                    f"axis {axis}" + (f" ({show(label)})" if label else "") + "; export it "
                    "with a fixed input size (only the batch may be dynamic)"
                )
            sizes.append(size)
        settings: dict[str, Any] = {"input": sizes}
        if isinstance(shape[0], int) and shape[0] > 1:
            settings["batch"] = shape[0]
        dtype = _FLOAT_TYPES.get(info.type.tensor_type.elem_type)
        if dtype:
            settings["dtype"] = dtype
        return settings

    # -- which tensors carry data -----------------------------------------------------------

    def _classify(self) -> set[str]:
        """The tensors computed from the input's data (not from constants or shapes alone)."""
        data = {self.data_input}
        for node in self.nodes:
            if node.domain not in ("", "ai.onnx") and any(t in data for t in node.input):
                self._unsupported(node, f"of the domain {show(node.domain)}")
            meta = _META_INPUTS.get(node.op_type, ())
            if any(t in data for i, t in enumerate(node.input) if i not in meta):
                data.update(t for t in node.output if t)
        return data

    def _live(self) -> list[Any]:
        """The data nodes the output depends on, in graph order."""
        outputs = [o.name for o in self.graph.output]
        if len(outputs) != 1:
            raise InputError(
                f"{self.where} has {len(outputs)} outputs; convcalc reads models of one output"
            )
        if outputs[0] not in self.data:
            raise InputError(
                f"{self.where}: its output {show(outputs[0])} does not depend on its input"
            )
        wanted = {outputs[0]}
        live: list[Any] = []
        for node in reversed(self.nodes):
            if any(t in wanted for t in node.output if t) and any(
                t in self.data for t in node.output if t
            ):
                live.append(node)
                wanted.update(t for t in node.input if t in self.data)
        live.reverse()
        for node in live:  # a graph out of order: a node before what it takes
            for tensor in node.input:
                source = self.producer.get(tensor)
                if source is not None and self.index[id(source)] > self.index[id(node)]:
                    raise InputError(
                        f"{self.where}: node {self._label(node)} takes {show(tensor)} before "
                        "it is computed; the graph's nodes are not in order"
                    )
        self.output = outputs[0]
        return live

    # -- what is known of a tensor ----------------------------------------------------------

    def shape(self, tensor: str, node: Any) -> tuple[int, ...]:
        """A tensor's shape, every size known, batch included (a symbolic batch as 1)."""
        shape = self.shapes.get(tensor)
        if shape is None and tensor in self.values:
            shape = (len(self.values[tensor]),)
        if shape is None or any(not isinstance(d, int) for d in shape[1:]):
            self._fail(
                node,
                f"the shape of {show(tensor)} is not known ({_shown_shape(shape)}); export "
                "with a fixed input size, or run onnx.shape_inference on the model",
            )
        found = tuple(d if isinstance(d, int) else 1 for d in shape)
        if any(d <= 0 for d in found):
            self._fail(
                node, f"{show(tensor)} has the shape {_shown_shape(shape)}, with no elements"
            )
        return found

    def value(self, tensor: str) -> list[float] | None:
        """A constant's values (flattened), where they are known; None otherwise."""
        if not tensor:
            return None
        if tensor in self.values:
            return self.values[tensor]
        if tensor in self.data:
            return None
        node = self.producer.get(tensor)
        if node is None or self.depth > 64:  # a chain of constants deeper than any exporter's
            return None
        self.depth += 1
        try:
            found = self._evaluate(node, tensor)
        finally:
            self.depth -= 1
        if found is not None and len(found) <= SMALL:
            self.values[tensor] = found
            return found
        return None

    def _evaluate(self, node: Any, tensor: str) -> list[float] | None:
        op = node.op_type
        attrs = self.attributes(node)
        if op == "Constant":
            for key in ("value_float", "value_int"):
                if key in attrs:
                    return [attrs[key]]
            for key in ("value_floats", "value_ints"):
                if key in attrs:
                    return list(attrs[key])
            if "value" in attrs and attrs["value"].data_location != self.onnx.TensorProto.EXTERNAL:
                from onnx import numpy_helper

                if math.prod(attrs["value"].dims) > SMALL:
                    return None
                return list(numpy_helper.to_array(attrs["value"]).reshape(-1).tolist())
            return None
        if (
            op
            in (
                "Identity",
                "Cast",
                "CastLike",
                "Reshape",
                "Squeeze",
                "Unsqueeze",
                "Flatten",
                "Expand",
            )
            and node.input
        ):
            first = self.value(node.input[0])
            if first is None or op != "Expand":
                return first
            out = _known(self.shapes.get(tensor))
            if len(first) != 1 or out is None or math.prod(out) > SMALL:
                return None
            return first * math.prod(out)
        if op == "Shape":
            shape = _known(self.shapes.get(node.input[0])) if node.input else None
            if shape is None:
                return None
            start, end = attrs.get("start", 0), attrs.get("end", len(shape))
            return list(shape[start:end])
        if op == "Concat":
            parts = [self.value(t) for t in node.input]
            if any(p is None for p in parts):
                return None
            return [v for p in parts if p is not None for v in p]
        if op == "Gather" and len(node.input) == 2 and attrs.get("axis", 0) == 0:
            data, indices = self.value(node.input[0]), self.value(node.input[1])
            if data is None or indices is None:
                return None
            try:
                return [data[int(i)] for i in indices]
            except IndexError:
                return None
        if op in _ARITHMETIC and len(node.input) == 2:
            first, second = self.value(node.input[0]), self.value(node.input[1])
            if first is None or second is None or 0 in (len(first), len(second)):
                return None
            size = max(len(first), len(second))
            if {len(first), len(second)} - {1, size}:
                return None
            left = first * size if len(first) == 1 else first
            right = second * size if len(second) == 1 else second
            try:
                return [_ARITHMETIC[op](a, b) for a, b in zip(left, right, strict=True)]
            except (ZeroDivisionError, OverflowError, TypeError, ValueError):
                return None
        if op == "Neg" and node.input:
            first = self.value(node.input[0])
            return None if first is None else [-v for v in first]
        return None

    def attributes(self, node: Any) -> dict[str, Any]:
        """A node's attributes, each of the type ONNX gives it (text decoded); a file that
        gives another is refused, naming the attribute."""
        helper = self.onnx.helper
        found: dict[str, Any] = {}
        for attribute in node.attribute:
            try:
                value = helper.get_attribute_value(attribute)
            except Exception:
                self._fail(node, f"its attribute {show(attribute.name)} cannot be read")
            expected = _ATTRIBUTES.get(attribute.name)
            if isinstance(value, bytes):
                value = value.decode("utf-8", "replace")
            if expected is None:
                found[attribute.name] = value
                continue
            if expected == "ints":
                ok = isinstance(value, list) and all(isinstance(v, int) for v in value)
            elif expected is float:
                ok = isinstance(value, (int, float))
            elif expected is int:
                ok = isinstance(value, int) and not isinstance(value, bool)
            else:
                ok = isinstance(value, str)
            if not ok:
                wanted = {
                    "ints": "a list of integers",
                    int: "an integer",
                    float: "a number",
                    str: "a text",
                }[expected]
                self._fail(node, f"its attribute {show(attribute.name)} is not {wanted}")
            found[attribute.name] = value
        return found

    def parameter(self, tensor: str) -> str | None:
        """The initializer a weight comes from (through Identity, casts, reshapes and
        transposes), or None for a constant computed in the graph."""
        seen = 0
        while tensor and seen < 64:
            if tensor in self.initializers:
                return tensor
            node = self.producer.get(tensor)
            if (
                node is None
                or node.op_type
                not in (
                    "Identity",
                    "Cast",
                    "CastLike",
                    "Reshape",
                    "Squeeze",
                    "Unsqueeze",
                    "Transpose",
                    "Flatten",
                    "Expand",
                )
                or not node.input
            ):
                return None
            tensor = node.input[0]
            seen += 1
        return None

    # -- attention --------------------------------------------------------------------------

    def _attention(self, softmax: Any) -> _Region | None:
        """The nodes of one multi-head self-attention around ``softmax``, as the exporters
        write PyTorch's MultiheadAttention (and scaled_dot_product_attention with its
        projections): from the tokens (N, L, E) to the tokens (N, L, E), with the q, k, v
        and output projections' weights (4·E·E, and 4·E biases) and nothing else; None when
        the softmax is not in one."""
        batch = self.shapes.get(self.data_input, (1,))[0]
        batch = batch if isinstance(batch, int) else 1
        scores = _known(self.shapes.get(softmax.input[0])) if softmax.input else None
        if scores is None or len(scores) not in (3, 4):
            return None
        length = scores[-2]
        passed = self._passes(softmax.output[0])
        if passed is None or passed[-1].op_type != "MatMul":
            return None
        product = passed[-1]

        def tokens(tensor: str) -> bool:
            shape = self.shapes.get(tensor)
            return shape is not None and len(shape) == 3 and shape[:2] == (batch, length)

        members: dict[int, Any] = {id(n): n for n in (softmax, *passed)}
        entries: set[str] = set()
        stack = [t for t in (*softmax.input, *product.input) if t in self.data]
        while stack:
            tensor = stack.pop()
            if tokens(tensor) or tensor == self.data_input:
                entries.add(tensor)
                continue
            node = self.producer.get(tensor)
            if node is None or len(members) > 400:
                return None
            if id(node) not in members:
                members[id(node)] = node
                stack.extend(t for t in node.input if t in self.data)
        if len(entries) != 1:
            return None
        entry = entries.pop()
        exit_tensor = product.output[0]
        while not tokens(exit_tensor):
            users = self.consumers.get(exit_tensor, [])
            if len(users) != 1 or len(members) > 400 or exit_tensor == self.output:
                return None
            user = users[0]
            members[id(user)] = user
            exit_tensor = next((t for t in user.output if t), "")
        embed = self.shapes[entry][2]
        if not isinstance(embed, int) or self.shapes[exit_tensor][2] != embed:
            return None
        if not self._closed(members, entry, exit_tensor):
            return None
        sizes = sum(math.prod(w.dims) for w in self._weights(members).values())
        if sizes not in (4 * embed * embed, 4 * embed * embed + 4 * embed):
            return None
        heads = scores[1] if len(scores) == 4 else scores[0] // batch
        if heads <= 0 or embed % heads:
            return None
        params = {"embed_dim": embed, "num_heads": heads, "bias": sizes > 4 * embed * embed}
        return self._region("multihead_attention", params, entry, exit_tensor, members)

    def _closed(self, members: dict[int, Any], entry: str, exit_tensor: str) -> bool:
        """Whether the nodes take only the entry and each other's tensors, and only the exit
        leaves them."""
        inside = {t for node in members.values() for t in node.output if t}
        for node in members.values():
            for tensor in node.input:
                if tensor in self.data and tensor not in inside and tensor != entry:
                    return False
            for tensor in node.output:
                if tensor == self.output and tensor != exit_tensor:
                    return False
                if (
                    tensor
                    and tensor != exit_tensor
                    and any(id(user) not in members for user in self.consumers.get(tensor, []))
                ):
                    return False
        return exit_tensor in inside

    def _weights(self, members: dict[int, Any]) -> dict[str, Any]:
        """The floating-point initializers the nodes' constants come from (weights, and
        buffers such as a position-bias table), each once."""
        found: dict[str, Any] = {}
        seen: set[str] = set()
        stack = [t for n in members.values() for t in n.input if t and t not in self.data]
        while stack and len(seen) < 100_000:
            tensor = stack.pop()
            if tensor in seen:
                continue
            seen.add(tensor)
            if tensor in self.initializers:
                initializer = self.initializers[tensor]
                if initializer.data_type in _FLOAT_DATA and len(initializer.dims):
                    found[tensor] = initializer  # a 0-d one is a constant (a mask's fill)
                continue
            node = self.producer.get(tensor)
            if node is not None:
                stack.extend(t for t in node.input if t and t not in self.data)
        return found

    def _region(
        self,
        kind: str,
        params: dict[str, Any],
        entry: str,
        exit_tensor: str,
        members: dict[int, Any],
    ) -> _Region | None:
        nodes = sorted(members.values(), key=lambda n: self.position.get(id(n), -1))
        if any(id(n) not in self.position or id(n) in self.regions for n in nodes):
            return None
        return _Region(kind, params, entry, exit_tensor, nodes)

    def _map(self, tensor: str, channels: int) -> bool:
        """A feature map channels last, (N, H, W, C), as Swin's blocks take it."""
        shape = self.shapes.get(tensor)
        return (
            shape is not None
            and len(shape) == 4
            and shape[0] == self.batch[0]
            and shape[3] == channels
        )

    def _window_attention(self, softmax: Any) -> _Region | None:
        """torchvision's ShiftedWindowAttention (and V2) around ``softmax``: from a map
        (N, H, W, C) back to one, through the padding, the cyclic shift, the windows, the
        qkv projection, the products with their position bias (and mask), the output
        projection and back; the weights qkv, proj and the bias table (V2: logit_scale and
        the position-bias MLP)."""
        passed = self._passes(softmax.output[0])
        if passed is None or passed[-1].op_type != "MatMul":
            return None
        product = passed[-1]
        out = _known(self.shapes.get(product.output[0]))
        if out is None or len(out) != 4:
            return None
        heads, channels = out[1], out[1] * out[3]
        members: dict[int, Any] = {id(n): n for n in (softmax, *passed)}
        frontier: set[str] = set()

        def back(stack: list[str]) -> bool:
            """Take in what computes these tensors, up to the maps (N, H, W, C)."""
            while stack:
                tensor = stack.pop()
                node = self.producer.get(tensor)
                if tensor == self.data_input or node is None or len(members) > 2000:
                    return False
                if id(node) in members:
                    continue
                if self._map(tensor, channels):
                    frontier.add(tensor)
                    continue
                members[id(node)] = node
                stack.extend(t for t in node.input if t in self.data)
            return True

        if not back([t for n in (softmax, product) for t in n.input if t in self.data]):
            return None
        changed = True
        while changed:  # the padding and the shift before the windows, used only by them
            changed = False
            for tensor in sorted(frontier):
                node = self.producer[tensor]
                users = [u for t in node.output for u in self.consumers.get(t, [])]
                if node.op_type in _REARRANGE and all(id(u) in members for u in users):
                    members[id(node)] = node
                    frontier.discard(tensor)
                    if not back([t for t in node.input if t in self.data]):
                        return None
                    changed = True
        entries = {t for t in frontier if id(self.producer[t]) not in members}
        if len(entries) != 1:
            return None
        entry = entries.pop()
        exits: set[str] = set()
        inside = {t for n in members.values() for t in n.output if t}
        stack = [t for t in product.output if t]
        while stack:
            tensor = stack.pop()
            for user in self.consumers.get(tensor, []):
                if id(user) in members:
                    continue
                takes = [t for t in user.input if t in self.data]
                if (
                    all(t in inside for t in takes)
                    and len(members) < 2000
                    and (not self._map(tensor, channels) or user.op_type in _REARRANGE)
                ):
                    members[id(user)] = user
                    inside.update(t for t in user.output if t)
                    stack.extend(t for t in user.output if t)
                else:
                    exits.add(tensor)
            if tensor == self.output:
                exits.add(tensor)
        if len(exits) != 1:
            return None
        exit_tensor = exits.pop()
        if self.shapes.get(entry) != self.shapes.get(exit_tensor):
            return None
        if not self._closed(members, entry, exit_tensor):
            return None
        windows = [  # the partition: (N, H/wh, wh, W/ww, ww, C), first in graph order
            shape
            for n in sorted(members.values(), key=lambda n: self.index[id(n)])
            if n.op_type == "Reshape" and n.input and self._map(n.input[0], channels)
            if (shape := _known(self.shapes.get(n.output[0]))) is not None
            and len(shape) == 6
            and shape[0] == self.batch[0]
            and shape[5] == channels
        ]
        if not windows:
            return None
        high, wide = windows[0][2], windows[0][4]
        weights = self._weights(members)
        shapes = sorted(tuple(w.dims) for w in weights.values())
        table = (2 * high - 1) * (2 * wide - 1)
        total = sum(math.prod(w.dims) for w in weights.values())
        projections = 4 * channels * channels + 4 * channels
        if (table, heads) in shapes and total == projections + table * heads:
            version = 1
        elif (heads, 1, 1) in shapes and total == projections + heads + 1536 + 512 * heads + (
            table * 2
        ):  # V2: logit_scale, cpb_mlp, and the relative_coords_table buffer
            version = 2
        else:
            return None
        shifted = any(n.op_type == "Concat" for n in members.values())
        params = {
            "dim": channels,
            "num_heads": heads,
            "window": [high, wide],
            "shift": [high // 2, wide // 2] if shifted else 0,
            "version": version,
        }
        return self._region("window_attention", params, entry, exit_tensor, members)

    def _tokens(self, tensor: str, groups: int, tokens: int, channels: int) -> bool:
        """Partitioned tokens (N, groups, tokens, C), as MaxViT's attention takes them."""
        shape = self.shapes.get(tensor)
        return shape == (self.batch[0], groups, tokens, channels)

    def _partition_attention(self, softmax: Any) -> _Region | None:
        """torchvision MaxViT's RelativePositionalMultiHeadAttention around ``softmax``, in
        its PartitionAttentionLayer: a map (N, C, H, W) partitioned into tokens (N, G, T, C)
        (Reshape, Transpose, Reshape, and for the grid a Transpose swapping G and T), a
        LayerNorm, to_qkv split into q, k, v (SplitToSequence and SequenceAt, or Split), the
        products (Einsum or MatMul) with the relative position bias, merge; the residual and
        the MLP on the tokens, and the inverse rearrangement back to the map. Read as a
        permute to (N, H, W, C), the attention as ``window_attention`` (partition window or
        grid, pad false) and a permute back; the LayerNorms, MLP and residuals between are
        per token, the same layers on the map channels last. The partition and departition
        are recorded as regions here; the attention is returned."""
        passed = self._passes(softmax.output[0])
        if passed is None or passed[-1].op_type not in ("Einsum", "MatMul"):
            return None
        product = passed[-1]
        out = _known(self.shapes.get(product.output[0]))
        if out is None or len(out) != 5 or out[0] != self.batch[0]:
            return None
        groups, heads, tokens = out[1], out[2], out[3]
        channels = heads * out[4]
        members: dict[int, Any] = {id(n): n for n in (softmax, *passed)}
        entries: set[str] = set()
        parts = ("SequenceAt", "SplitToSequence", "Split", "Slice", "Gather")
        stack = [t for n in (softmax, product) for t in n.input if t in self.data]
        while stack:  # back to the tokens q, k and v are computed from
            tensor = stack.pop()
            node = self.producer.get(tensor)
            if tensor == self.data_input or node is None or len(members) > 400:
                return None
            if id(node) in members:
                continue
            if self._tokens(tensor, groups, tokens, channels) and node.op_type not in parts:
                entries.add(tensor)
                continue
            members[id(node)] = node
            stack.extend(t for t in node.input if t in self.data)
        if len(entries) != 1:
            return None
        entry = entries.pop()
        exit_tensor = product.output[0]
        for _ in range(12):  # forward to the merge projection (and its bias)
            users = self.consumers.get(exit_tensor, [])
            if len(users) != 1 or exit_tensor == self.output:
                return None
            user = users[0]
            members[id(user)] = user
            exit_tensor = next((t for t in user.output if t), "")
            if user.op_type == "MatMul" and self._tokens(exit_tensor, groups, tokens, channels):
                after = self.consumers.get(exit_tensor, [])
                if (
                    len(after) == 1
                    and after[0].op_type == "Add"
                    and exit_tensor != self.output
                    and len(self.data_inputs(after[0])) == 1
                ):
                    members[id(after[0])] = after[0]
                    exit_tensor = after[0].output[0]
                break
        else:
            return None
        if not self._tokens(exit_tensor, groups, tokens, channels):
            return None
        if not self._closed(members, entry, exit_tensor):
            return None
        norm = self.producer.get(entry)
        if norm is None or norm.op_type != "LayerNormalization" or not norm.input:
            return None
        partition = self._partition(norm.input[0], groups, tokens, channels)
        if partition is None:
            return None
        kind, window, map_tensor, arranging = partition
        departition = self._departition(norm.input[0], kind, map_tensor, members, exit_tensor)
        if departition is None:
            return None
        last, undoing = departition
        weights = self._weights(members)
        shapes = sorted(tuple(w.dims) for w in weights.values())
        table = (2 * window[0] - 1) * (2 * window[1] - 1)
        total = sum(math.prod(w.dims) for w in weights.values())
        qkv_bias = (3 * channels,) in shapes
        proj_bias = (channels,) in shapes
        expected = 4 * channels * channels + table * heads
        expected += 3 * channels * qkv_bias + channels * proj_bias
        if (table, heads) not in shapes or total != expected:
            return None
        found = self._region(
            "window_attention",
            {
                "dim": channels,
                "num_heads": heads,
                "window": window,
                "partition": kind,
                "pad": False,
                "qkv_bias": qkv_bias,
                "proj_bias": proj_bias,
            },
            entry,
            exit_tensor,
            members,
        )
        before = self._region(
            "permute",
            {"torch_dims": [0, 2, 3, 1]},
            map_tensor,
            norm.input[0],
            {id(n): n for n in arranging},
        )
        back = self._region(
            "permute",
            {"torch_dims": [0, 3, 1, 2]},
            undoing[0].input[0],
            last,
            {id(n): n for n in undoing},
        )
        if found is None or before is None or back is None:
            return None
        if {id(n) for n in found.nodes} & {id(n) for n in (*arranging, *undoing)}:
            return None
        for region in (before, back):
            for member in region.nodes:
                self.regions[id(member)] = region
        return found

    def _rearranging(self, tensor: str, channels: int, size: int) -> list[Any]:
        """The Reshape, Transpose and Identity nodes that compute ``tensor`` from a map
        (N, C, H, W) of ``size`` = H * W positions, each used only by the next, in graph
        order; empty where there are none such."""
        chain: list[Any] = []
        while len(chain) < 8:
            node = self.producer.get(tensor)
            if node is None or node.op_type not in ("Reshape", "Transpose", "Identity"):
                return []
            if chain and self.consumers.get(tensor, []) != [chain[0]]:
                return []
            chain.insert(0, node)
            tensor = node.input[0]
            shape = _known(self.shapes.get(tensor))
            if (
                shape is not None
                and len(shape) == 4
                and shape[:2] == (self.batch[0], channels)
                and shape[2] * shape[3] == size
            ):
                return chain
        return []

    def _atoms(
        self, start: list[list[tuple[str, int]]], chain: list[Any]
    ) -> list[list[tuple[str, int]]] | None:
        """Where the axes of ``start`` (each a list of named factors) go through Reshape and
        Transpose nodes: the axes at the end, each the factors it holds, outermost first; a
        factor a Reshape splits becomes ``name.0`` (outer) and ``name.1``. None where a
        Reshape cuts across factors another way."""
        axes = [list(a) for a in start]
        for node in chain:
            if node.op_type == "Identity":
                continue
            if node.op_type == "Transpose":
                perm = [int(p) for p in self.attributes(node).get("perm", [])]
                if sorted(perm) != list(range(len(axes))):
                    return None
                axes = [axes[p] for p in perm]
                continue
            target = _known(self.shapes.get(node.output[0]))
            if target is None:
                return None
            flat = [f for a in axes for f in a if f[1] != 1]
            regrouped: list[list[tuple[str, int]]] = []
            for size in target:
                axis: list[tuple[str, int]] = []
                need = size
                while need > 1:
                    if not flat:
                        return None
                    name, have = flat.pop(0)
                    if have <= need:
                        if need % have:
                            return None
                        axis.append((name, have))
                        need //= have
                    elif have % need == 0 and not axis:
                        axis.append((name + ".0", need))
                        flat.insert(0, (name + ".1", have // need))
                        need = 1
                    else:
                        return None
                regrouped.append(axis)
            if flat:
                return None
            axes = regrouped
        return axes

    def _partition(
        self, tensor: str, groups: int, tokens: int, channels: int
    ) -> tuple[str, list[int], str, list[Any]] | None:
        """MaxViT's partition of a map (N, C, H, W) into ``tensor``, the tokens (N, G, T, C):
        its kind (window: G the blocks, T the tokens of a block; grid: T spread evenly over
        the map), the tokens per axis, the map and the nodes."""
        chain = self._rearranging(tensor, channels, groups * tokens)
        if not chain or tensor == self.output:
            return None
        source = chain[0].input[0]
        shape = _known(self.shapes.get(source))
        if shape is None or len(shape) != 4 or shape[:2] != (self.batch[0], channels):
            return None
        start = [[("n", shape[0])], [("c", channels)], [("h", shape[2])], [("w", shape[3])]]
        axes = self._atoms(start, chain)
        if axes is None or len(axes) != 4 or axes[3] != [("c", channels)]:
            return None
        if [f[0] for f in axes[0]] not in ([], ["n"]):
            return None
        inner, outer = ["h.1", "w.1"], ["h.0", "w.0"]
        if _factors(axes[1:3], [outer, inner]):
            kind = "window"
        elif _factors(axes[1:3], [inner, outer]):
            kind = "grid"
        else:
            return None
        window = [axes[2][0][1], axes[2][1][1]]
        if window[0] * window[1] != tokens or (shape[2] * shape[3]) // tokens != groups:
            return None
        return kind, window, source, chain

    def _departition(
        self,
        tokens: str,
        kind: str,
        map_tensor: str,
        attention: dict[int, Any],
        attention_exit: str,
    ) -> tuple[str, list[Any]] | None:
        """The rearrangement that undoes a partition, and the map it gives back (of
        ``map_tensor``'s shape): found forward from the tokens (N, G, T, C) through what the
        layer does to each token (its attention, LayerNorms, dense layers, activations and
        residual additions, every tensor (N, G, T, ...)); None where something else happens
        to the tokens, or there is not one such rearrangement."""
        shape = _known(self.shapes.get(tokens))
        target = self.shapes.get(map_tensor)
        if shape is None or target is None:
            return None
        per_token = {"LayerNormalization", "MatMul", "Add", "Mul", "Identity", "Dropout"}
        per_token.update(_ACTIVATIONS)
        seen: set[int] = set()
        stack = [tokens]
        found: tuple[str, list[Any]] | None = None
        while stack:
            tensor = stack.pop()
            if tensor == self.output or len(seen) > 400:
                return None
            for user in self.consumers.get(tensor, []):
                if id(user) in seen:
                    continue
                seen.add(id(user))
                if id(user) in attention:
                    stack.append(attention_exit)
                    continue
                if user.op_type in ("Reshape", "Transpose") and self.shapes.get(tensor) == shape:
                    chain = [user]
                    while self.shapes.get(chain[-1].output[0]) != target and len(chain) < 8:
                        later = self.consumers.get(chain[-1].output[0], [])
                        if len(later) != 1 or later[0].op_type not in _UNPARTITION:
                            return None
                        chain.append(later[0])
                    if found is not None or self.shapes.get(chain[-1].output[0]) != target:
                        return None
                    if self.output in [n.output[0] for n in chain[:-1]]:
                        return None
                    start = [[("n", shape[0])], [("g", shape[1])], [("t", shape[2])]]
                    axes = self._atoms([*start, [("c", shape[3])]], chain)
                    if kind == "window":
                        spatial = [["g.0", "t.0"], ["g.1", "t.1"]]
                    else:
                        spatial = [["t.0", "g.0"], ["t.1", "g.1"]]
                    if (
                        axes is None
                        or len(axes) != 4
                        or [f[0] for f in axes[0]] not in ([], ["n"])
                        or axes[1] != [("c", shape[3])]
                        or not _factors(axes[2:], spatial)
                    ):
                        return None
                    found = (chain[-1].output[0], chain)
                    continue
                inputs = self.data_inputs(user)
                outputs = [_known(self.shapes.get(t)) for t in user.output if t]
                if (
                    user.op_type not in per_token
                    or len(outputs) != 1
                    or (out := outputs[0]) is None
                    or out[:3] != shape[:3]
                    or len(out) != 4
                    or (user.op_type == "MatMul" and len(inputs) != 1)
                    or (len(inputs) > 1 and any(self.shapes.get(t) != out for t in inputs))
                ):
                    return None
                stack.extend(t for t in user.output if t)
        return found

    def _patch_merging(self, concat: Any) -> _Region | None:
        """torchvision's PatchMerging (and V2): a map (N, H, W, C), padded to even sizes, its
        four 2x2 phases (x[..., 0::2, 0::2, :], ...) joined on the channels, LayerNorm(4C)
        and Linear(4C, 2C, bias=False) (V2: the Linear, then LayerNorm(2C))."""
        out = _known(self.shapes.get(concat.output[0]))
        attrs = self.attributes(concat)
        if (
            out is None
            or len(out) != 4
            or len(concat.input) != 4
            or attrs.get("axis")
            not in (
                3,
                -1,
            )
        ):
            return None
        channels = out[3] // 4
        members: dict[int, Any] = {id(concat): concat}
        sources: set[str] = set()
        for tensor in concat.input:
            for _ in range(4):
                node = self.producer.get(tensor)
                if node is None or node.op_type != "Slice":
                    break
                members[id(node)] = node
                tensor = node.input[0]
            sources.add(tensor)
        if len(sources) != 1 or len(members) < 5:
            return None
        entry = sources.pop()
        pad = self.producer.get(entry)
        if pad is not None and pad.op_type == "Pad":
            members[id(pad)] = pad
            entry = pad.input[0]
        if not self._map(entry, channels):
            return None
        chain = []
        tensor = concat.output[0]
        for _ in range(3):
            passed = self._passes(tensor)
            if passed is None:
                break
            chain.extend(passed)
            tensor = passed[-1].output[0]
            if [n.op_type for n in chain if n.op_type not in _PASS] in (
                ["LayerNormalization", "MatMul"],
                ["MatMul", "LayerNormalization"],
            ):
                break
        kinds = [n.op_type for n in chain if n.op_type not in _PASS]
        if kinds not in (["LayerNormalization", "MatMul"], ["MatMul", "LayerNormalization"]):
            return None
        for node in chain:
            members[id(node)] = node
        exit_tensor = chain[-1].output[0]
        if not self._map(exit_tensor, 2 * channels) or not self._closed(
            members, entry, exit_tensor
        ):
            return None
        version = 1 if kinds[0] == "LayerNormalization" else 2
        total = sum(math.prod(w.dims) for w in self._weights(members).values())
        norm = 8 * channels if version == 1 else 4 * channels
        if total != 8 * channels * channels + norm:
            return None
        params = {"dim": channels, "version": version}
        return self._region("patch_merging", params, entry, exit_tensor, members)

    def _passes(self, tensor: str) -> list[Any] | None:
        """The one node that takes ``tensor``, after the ops that pass it on (all of them, in
        order); None where a tensor has another number of users."""
        found: list[Any] = []
        users = self.consumers.get(tensor, [])
        for _ in range(8):
            if len(users) != 1:
                return None
            found.append(users[0])
            if users[0].op_type not in _PASS:
                return found
            users = self.consumers.get(users[0].output[0], [])
        return None

    # -- names ------------------------------------------------------------------------------

    def _label(self, node: Any) -> str:
        return show(node.name or (node.output[0] if node.output else node.op_type))

    def name_for(self, node: Any, suffix: str = "", raw: str = "") -> str:
        """A unique convcalc name for a node: its own (or ``raw``), without what convcalc
        reserves."""
        if not raw:
            raw = node.name or (node.output[0] if node.output and node.output[0] else node.op_type)
        base = _clean_name(str(raw)) + suffix
        name, count = base, 1
        while name in self.taken:
            count += 1
            name = f"{base}_{count}"
        self.taken.add(name)
        return name

    # -- errors -----------------------------------------------------------------------------

    def _fail(self, node: Any, message: str) -> NoReturn:
        raise SpecError(f"{self.where}: node {self._label(node)} ({show(node.op_type)}): {message}")

    def _unsupported(self, node: Any, detail: str = "") -> NoReturn:
        detail = f" {detail}" if detail else ""
        raise SpecError(
            f"{self.where}: node {self._label(node)} is the ONNX operator "
            f"{show(node.op_type)}{detail}, which convcalc has no layer for; it reads the "
            f"operators CNNs export to: {SUPPORTED}"
        )

    # -- translation ------------------------------------------------------------------------

    def translate(self) -> list[dict[str, Any]]:
        return _Emitter(self, "input").run(self.live)

    def ref(self, tensor: str, node: Any) -> str:
        """The convcalc name of a computed tensor."""
        found = self.names.get(tensor)
        if found is None:
            self._fail(node, f"it takes {show(tensor)}, which no layer before it computes")
        return found

    def data_inputs(self, node: Any) -> list[str]:
        return [t for t in node.input if t in self.data]


class _Emitter:
    """Writes the layers of a list of nodes: the model's, or one path of a split."""

    def __init__(self, graph: _Graph, previous: str):
        self.g = graph
        self.layers: list[dict[str, Any]] = []
        self.previous = previous

    def run(self, nodes: Sequence[Any]) -> list[dict[str, Any]]:
        for node in nodes:
            if id(node) in self.g.done:
                continue
            self.g.done.add(id(node))
            self.node(node)
        return self.layers

    # -- writing ----------------------------------------------------------------------------

    def emit(
        self, kind: str, params: dict[str, Any], node: Any, source: str | None, name: str
    ) -> str:
        """One layer on ``source`` (a tensor's ONNX name, or a convcalc name after ``=``)."""
        found = find_kind(kind)
        if found is None:  # the tables here name kinds of the catalogue
            raise AssertionError(f"no kind {kind!r} in the catalogue")
        body = _compact(params)
        body["name"] = name
        if source is not None:
            reference = source[1:] if source.startswith("=") else self.g.ref(source, node)
            if reference != self.previous:
                body["inputs"] = reference
        self.layers.append({found.name: body})
        self.previous = name
        return name

    def merge(self, how: str, sources: list[str], node: Any) -> None:
        name = self.g.name_for(node)
        references = [self.g.ref(t, node) for t in sources]
        self.layers.append({how: {"inputs": references, "name": name}})
        self.previous = name
        self.g.names[node.output[0]] = name

    def layer(self, kind: str, params: dict[str, Any], node: Any, source: str) -> None:
        name = self.emit(kind, params, node, source, self.g.name_for(node))
        self.g.names[node.output[0]] = name

    def alias(self, node: Any, source: str) -> None:
        self.g.names[node.output[0]] = self.g.ref(source, node)

    # -- one node ---------------------------------------------------------------------------

    def node(self, node: Any) -> None:
        op = node.op_type
        found = self.g.regions.get(id(node))
        if found is not None:
            self.region(found)
            return
        handler = _HANDLERS.get(op)
        if handler is not None:
            handler(self, node)
        elif op in _ACTIVATIONS:
            self.activation(node)
        elif op in _PASS:
            self.passed(node)
        elif op in _MERGES:
            self.elementwise(node)
        else:
            self.g._unsupported(node)

    def region(self, found: _Region) -> None:
        """One layer for many nodes (an attention, a patch merging), named after what their
        names share (the module's path, from the TorchScript exporter) or after its kind."""
        self.g.done.update(id(n) for n in found.nodes)
        names = [str(n.name).strip("/") for n in found.nodes]
        common = os.path.commonprefix(names).rpartition("/")[0]
        first = found.nodes[0]
        name = self.g.name_for(first, raw=common or found.kind)
        self.emit(found.kind, found.params, first, found.entry, name)
        self.g.names[found.exit] = name

    def only_data(self, node: Any) -> str:
        """The one computed tensor a node takes, as its first input."""
        inputs = self.g.data_inputs(node)
        if len(inputs) != 1 or node.input[0] != inputs[0]:
            self.g._fail(
                node,
                "it takes a computed tensor where convcalc expects a weight or a constant; "
                "convcalc reads weights stored in the file",
            )
        return inputs[0]

    def passed(self, node: Any) -> None:
        source = self.only_data(node)
        if node.op_type == "Dropout" and len(node.output) > 1 and node.output[1]:
            if self.g.consumers.get(node.output[1]):
                self.g._fail(node, "its mask is used, which convcalc does not model")
        self.alias(node, source)

    def activation(self, node: Any) -> None:
        source = self.only_data(node)
        attrs = self.g.attributes(node)
        params: dict[str, Any] = {}
        if node.op_type == "LeakyRelu":
            params["negative_slope"] = attrs.get("alpha", 0.01)
        elif node.op_type in ("Elu", "Celu"):
            params["alpha"] = attrs.get("alpha", 1.0)
        elif node.op_type == "Sigmoid" and self.silu(node, source):
            return
        self.layer(_ACTIVATIONS[node.op_type], params, node, source)

    def silu(self, node: Any, source: str) -> bool:
        """``x * Sigmoid(x)``, the Sigmoid used only there: one ``silu`` (SiLU, Swish)."""
        users = self.g.consumers.get(node.output[0], [])
        if len(users) != 1 or users[0].op_type != "Mul" or self.g.output == node.output[0]:
            return False
        product = users[0]
        if sorted(product.input) != sorted([source, node.output[0]]):
            return False
        self.g.done.add(id(product))
        name = self.emit("silu", {}, product, source, self.g.name_for(product))
        self.g.names[node.output[0]] = name
        self.g.names[product.output[0]] = name
        return True

    # -- convolutions and pools ---------------------------------------------------------------

    def spatial(self, node: Any, source: str) -> tuple[tuple[int, ...], int]:
        shape = self.g.shape(source, node)
        if len(shape) < 3 or len(shape) > 5:
            self.g._fail(
                node,
                f"its input has the shape {_shown_shape(shape)}; convcalc's {node.op_type} "
                "takes a batch, channels and 1 to 3 spatial axes",
            )
        return shape, len(shape) - 2

    def padding(
        self,
        node: Any,
        attrs: dict[str, Any],
        shape: tuple[int, ...],
        kernel: list[int],
        strides: list[int],
        dilations: list[int],
        source: str,
    ) -> tuple[list[int], str]:
        """Symmetric zeros per axis; asymmetric ones become a zero-padding layer before."""
        rank = len(kernel)
        auto = attrs.get("auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else str(auto)
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            pads = [0] * (2 * rank)
            for axis in range(rank):
                size = shape[2 + axis]
                out = -(-size // strides[axis])
                total = max(
                    0, (out - 1) * strides[axis] + (kernel[axis] - 1) * dilations[axis] + 1 - size
                )
                small = total // 2
                first, last = (
                    (small, total - small) if auto == "SAME_UPPER" else (total - small, small)
                )
                pads[axis], pads[rank + axis] = first, last
        elif auto == "VALID":
            pads = [0] * (2 * rank)
        elif auto in ("NOTSET", ""):
            pads = list(attrs.get("pads", [0] * (2 * rank)))
        else:
            self.g._fail(node, f"its auto_pad {show(auto)} is not one ONNX defines")
        if len(pads) != 2 * rank or any(p < 0 for p in pads):
            self.g._fail(node, f"its pads {show(pads)} are not valid for {rank} spatial axes")
        before, after = pads[:rank], pads[rank:]
        if before == after:
            return before, source
        padded = self.emit(
            f"zeropadding{rank}d",
            {"padding": [[b, a] for b, a in zip(before, after, strict=True)]},
            node,
            source,
            self.g.name_for(node, "_pad"),
        )
        return [0] * rank, "=" + padded

    def conv(self, node: Any) -> None:
        source = self.only_data(node)
        shape, rank = self.spatial(node, source)
        attrs = self.g.attributes(node)
        weight = self.weight_shape(node, 1, rank + 2)
        transposed = node.op_type == "ConvTranspose"
        groups = int(attrs.get("group", 1))
        kernel = list(attrs.get("kernel_shape", weight[2:]))
        strides = list(attrs.get("strides", [1] * rank))
        dilations = list(attrs.get("dilations", [1] * rank))
        filters = weight[1] * groups if transposed else weight[0]
        params: dict[str, Any] = {"filters": filters, "kernel": kernel, "stride": strides}
        if transposed:
            if "output_shape" in attrs:
                self.g._fail(
                    node,
                    "it gives output_shape, which convcalc does not read; export the "
                    "transposed convolution with padding and output_padding",
                )
            pads = list(attrs.get("pads", [0] * (2 * rank)))
            auto = attrs.get("auto_pad", b"NOTSET")
            if (auto.decode() if isinstance(auto, bytes) else str(auto)) not in ("NOTSET", ""):
                self.g._fail(node, "its auto_pad is not NOTSET; convcalc reads explicit pads")
            if len(pads) != 2 * rank or pads[:rank] != pads[rank:] or any(p < 0 for p in pads):
                self.g._fail(
                    node,
                    f"its pads {show(pads)} are not the same on both sides of each axis, as "
                    "PyTorch's ConvTranspose writes them",
                )
            params["padding"] = pads[:rank]
            params["output_padding"] = list(attrs.get("output_padding", [0] * rank))
        else:
            params["padding"], source = self.padding(
                node, attrs, shape, kernel, strides, dilations, source
            )
        params["dilation"] = dilations
        params["groups"] = groups
        params["bias"] = self.has_bias(node, 2)
        family = "conv{}d_transpose" if transposed else "conv{}d"
        self.layer(family.format(rank), params, node, source)

    def weight_shape(self, node: Any, position: int, rank: int) -> tuple[int, ...]:
        if len(node.input) <= position or not node.input[position]:
            self.g._fail(node, "it has no weight")
        tensor = node.input[position]
        if tensor in self.g.data:
            self.g._fail(
                node,
                "its weight is computed from the input; convcalc reads weights stored in the "
                "file (initializers)",
            )
        shape = self.g.shape(tensor, node)
        if len(shape) != rank or any(d <= 0 for d in shape):
            self.g._fail(node, f"its weight has the shape {_shown_shape(shape)}")
        return shape

    def has_bias(self, node: Any, position: int) -> bool:
        """Whether the input at ``position`` is a learned bias: one that comes from an
        initializer (a bias computed from constants in the graph holds no parameter)."""
        if len(node.input) <= position or not node.input[position]:
            return False
        if node.input[position] in self.g.data:
            self.g._fail(node, "its bias is computed from the input")
        return self.g.parameter(node.input[position]) is not None

    def pool(self, node: Any) -> None:
        source = self.only_data(node)
        shape, rank = self.spatial(node, source)
        attrs = self.g.attributes(node)
        if len(node.output) > 1 and node.output[1] and self.g.consumers.get(node.output[1]):
            self.g._fail(node, "its indices are used, which convcalc does not model")
        kernel = list(attrs.get("kernel_shape", []))
        if len(kernel) != rank:
            self.g._fail(node, f"its kernel_shape {show(kernel)} does not fit {rank} axes")
        strides = list(attrs.get("strides", [1] * rank))
        dilations = list(attrs.get("dilations", [1] * rank))
        padding, source = self.padding(node, attrs, shape, kernel, strides, dilations, source)
        params: dict[str, Any] = {"kernel": kernel, "stride": strides, "padding": padding}
        if node.op_type == "MaxPool":
            params["dilation"] = dilations
        elif dilations != [1] * rank:
            self.g._fail(node, "it has dilations, which PyTorch's average pooling has not")
        if attrs.get("ceil_mode", 0):
            params["ceil_mode"] = True
        family = "maxpool{}d" if node.op_type == "MaxPool" else "avgpool{}d"
        self.layer(family.format(rank), params, node, source)

    def global_pool(self, node: Any) -> None:
        source = self.only_data(node)
        _, rank = self.spatial(node, source)
        family = "global_maxpool{}d" if node.op_type == "GlobalMaxPool" else "global_avgpool{}d"
        self.layer(family.format(rank), {"keepdims": True}, node, source)

    def reduce(self, node: Any) -> None:
        """ReduceMean or ReduceMax over every spatial axis: a global pool."""
        source = self.only_data(node)
        shape, rank = self.spatial(node, source)
        attrs = self.g.attributes(node)
        axes: Iterable[float] | None = attrs.get("axes")
        if axes is None and len(node.input) > 1 and node.input[1]:
            axes = self.g.value(node.input[1])
            if axes is None:
                self.g._fail(node, "its axes are not a constant convcalc can read")
        if axes is None:
            self.g._fail(node, "it reduces every axis, the channels too; convcalc cannot")
        found = sorted(int(a) % len(shape) for a in axes)
        if found != list(range(2, len(shape))):
            self.g._fail(
                node,
                f"it reduces the axes {show(found)} of {_shown_shape(shape)}; convcalc reads a "
                "reduction over every spatial axis (a global pool)",
            )
        family = "global_maxpool{}d" if node.op_type == "ReduceMax" else "global_avgpool{}d"
        keep = bool(attrs.get("keepdims", 1))
        self.layer(family.format(rank), {"keepdims": keep}, node, source)

    # -- normalisation ------------------------------------------------------------------------

    def batchnorm(self, node: Any) -> None:
        source = self.only_data(node)
        scale = self.weight_shape(node, 1, 1)
        params: dict[str, Any] = {"num_features": scale[0]}
        if self.g.parameter(node.input[1]) is None:
            params["affine"] = False
        self.layer("batchnorm", params, node, source)

    def instancenorm(self, node: Any) -> None:
        source = self.only_data(node)
        scale = self.weight_shape(node, 1, 1)
        self.layer("groupnorm", {"groups": scale[0]}, node, source)

    def groupnorm(self, node: Any) -> None:
        source = self.only_data(node)
        attrs = self.g.attributes(node)
        self.layer("groupnorm", {"groups": int(attrs.get("num_groups", 1))}, node, source)

    def layernorm(self, node: Any) -> None:
        source = self.only_data(node)
        shape = self.g.shape(source, node)
        attrs = self.g.attributes(node)
        axis = int(attrs.get("axis", -1)) % len(shape)
        if axis == 0:
            self.g._fail(node, "it normalises over the batch axis too")
        params: dict[str, Any] = {"axes": len(shape) - axis}
        if len(node.input) < 3 or not node.input[2] or self.g.parameter(node.input[2]) is None:
            params["bias"] = False
        self.layer("layernorm", params, node, source)

    # -- dense layers -------------------------------------------------------------------------

    def gemm(self, node: Any) -> None:
        source = self.only_data(node)
        attrs = self.g.attributes(node)
        if attrs.get("transA", 0):
            self.g._fail(node, "it transposes its input (transA), which no Linear does")
        weight = self.weight_shape(node, 1, 2)
        units = weight[0] if attrs.get("transB", 0) else weight[1]
        self.layer("dense", {"units": units, "bias": self.has_bias(node, 2)}, node, source)

    def matmul(self, node: Any) -> None:
        inputs = self.g.data_inputs(node)
        if len(inputs) != 1 or node.input[0] != inputs[0]:
            self.g._unsupported(node, "on two computed tensors (attention's products, say)")
        source = inputs[0]
        weight = self.weight_shape(node, 1, 2)
        units, bias = weight[1], False
        users = self.g.consumers.get(node.output[0], [])
        if len(users) == 1 and users[0].op_type == "Add" and self.g.output != node.output[0]:
            add = users[0]
            other = [t for t in add.input if t != node.output[0]]
            if len(other) == 1 and other[0] not in self.g.data and self.g.parameter(other[0]):
                bias_shape = self.g.shape(other[0], add)
                if math.prod(bias_shape) == units and (not bias_shape or bias_shape[-1] == units):
                    bias = True
                    self.g.done.add(id(add))
        named = users[0] if bias else node  # the Add of the bias is the exporters' "linear"
        name = self.emit(
            "dense", {"units": units, "bias": bias}, node, source, self.g.name_for(named)
        )
        self.g.names[node.output[0]] = name
        if bias:
            self.g.names[users[0].output[0]] = name

    # -- element-wise arithmetic --------------------------------------------------------------

    def elementwise(self, node: Any) -> None:
        inputs = self.g.data_inputs(node)
        op = node.op_type
        if len(inputs) == len([t for t in node.input if t]) and len(inputs) >= 2:
            if op not in ("Sum", "Mean", "Max", "Min") and len(inputs) != 2:
                self.g._fail(node, "it takes more than two inputs")
            if op in ("Sub",) and len(inputs) != 2:
                self.g._fail(node, "subtract takes two inputs")
            self.merge(_MERGES[op], inputs, node)
            return
        if len(inputs) == 1 and len(node.input) == 1:
            self.alias(node, inputs[0])  # a Sum or Mean of one tensor
            return
        if op not in ("Add", "Sub", "Mul", "Div") or len(inputs) != 1 or len(node.input) != 2:
            self.g._unsupported(node, "with a constant operand")
        self.constant_arithmetic(node, inputs[0])

    def constant_arithmetic(self, node: Any, source: str) -> None:
        """The data and a constant: a scalar is a rescaling (no parameters); a learned
        tensor (an initializer) of one value per channel is a layer scale."""
        op = node.op_type
        constant = next(t for t in node.input if t != source)
        data_first = node.input[0] == source
        shape = self.g.shape(source, node)
        size = math.prod(self.g.shape(constant, node))
        if size == 1:
            value = self.g.value(constant)
            number = 1.0 if value is None else float(value[0])
            if op in ("Sub", "Div") and not data_first:
                if op == "Div":
                    self.g._unsupported(node, "dividing a constant by the data")
                params: dict[str, Any] = {"scale": -1, "offset": number}
            elif op == "Mul":
                params = {"scale": number}
            elif op == "Div":
                params = {"scale": 1 / number if number else 1.0}
            else:
                params = {"scale": 1, "offset": -number if op == "Sub" else number}
            self.layer("rescaling", params, node, source)
            return
        constant_shape = self.g.shape(constant, node)
        if self.g.parameter(constant) is None:
            self.g._fail(
                node,
                f"it takes a constant of the shape {_shown_shape(constant_shape)} computed in "
                "the graph; convcalc reads per-channel scales stored as initializers",
            )
        aligned = (1,) * (len(shape) - len(constant_shape)) + tuple(constant_shape)
        channels = shape[1] if len(shape) > 1 else 0
        per_channel = (
            len(aligned) == len(shape)
            and aligned[1] == channels
            and all(d == 1 for i, d in enumerate(aligned) if i != 1)
        )
        if op in ("Mul", "Div") and per_channel:
            self.layer("layer_scale", {"projection_dim": channels}, node, source)
            return
        if op == "Add" and len(shape) == 3 and aligned[1:] == shape[1:] and aligned[0] == 1:
            params = {"sequence_length": shape[1], "embed_dim": shape[2]}
            self.layer("position_embedding", params, node, source)
            return
        self.g._fail(
            node,
            f"it combines the data {_shown_shape(shape)} with a learned tensor of the shape "
            f"{_shown_shape(constant_shape)}; convcalc reads a per-channel scale ((C, 1, 1): "
            "layer_scale) there",
        )

    # -- clip ---------------------------------------------------------------------------------

    def clip(self, node: Any) -> None:
        source = self.only_data(node)
        attrs = self.g.attributes(node)
        low: float | None = attrs.get("min")
        high: float | None = attrs.get("max")
        for position in (1, 2):
            if len(node.input) > position and node.input[position]:
                value = self.g.value(node.input[position])
                if value is None or len(value) != 1:
                    self.g._fail(node, "its bounds are not constants convcalc can read")
                if position == 1:
                    low = float(value[0])
                else:
                    high = float(value[0])
        if low == 0 and high == 6:
            kind = "relu6"
        elif low == 0 and (high is None or math.isinf(high)):
            kind = "relu"
        elif low == -1 and high == 1:
            kind = "hard_tanh"
        else:
            self.g._fail(
                node,
                f"it clips to [{low}, {high}]; convcalc reads Clip as relu ([0, inf]), relu6 "
                "([0, 6]) or hard_tanh ([-1, 1])",
            )
        self.layer(kind, {}, node, source)

    # -- shapes -------------------------------------------------------------------------------

    def reshape(self, node: Any) -> None:
        source = self.only_data(node)
        before = self.g.shape(source, node)
        after = self.g.shape(node.output[0], node)
        if self.shuffle(node, source, before, after) or self.strided(node, source, before, after):
            return
        if after == before:
            self.alias(node, source)
            return
        if node.op_type == "Flatten" and int(self.g.attributes(node).get("axis", 1)) == 0:
            self.g._fail(node, "it flattens the batch axis into the others (axis 0)")
        if len(after) < 2 or after[0] != before[0]:
            self.g._fail(
                node,
                f"it reshapes {_shown_shape(before)} into {_shown_shape(after)}, which moves "
                "the batch axis; convcalc's layers keep the batch apart",
            )
        if len(after) == 2 and len(before) > 2:
            self.layer("flatten", {}, node, source)
        else:
            self.layer("reshape", {"shape": list(after[1:])}, node, source)

    def shuffle(
        self, node: Any, source: str, before: tuple[int, ...], after: tuple[int, ...]
    ) -> bool:
        """Reshape (N, g, C/g, ...), Transpose (0, 2, 1, ...), Reshape (N, C, ...): PyTorch's
        channel shuffle of ``g`` groups."""
        if len(after) != len(before) + 1 or len(before) < 3 or after[0] != before[0]:
            return False
        if after[1] * after[2] != before[1] or after[3:] != before[2:]:
            return False
        users = self.g.consumers.get(node.output[0], [])
        if len(users) != 1 or users[0].op_type != "Transpose":
            return False
        transpose = users[0]
        perm = list(self.g.attributes(transpose).get("perm", []))
        if perm != [0, 2, 1, *range(3, len(after))]:
            return False
        between = [transpose]
        followers = self.g.consumers.get(transpose.output[0], [])
        while len(followers) == 1 and followers[0].op_type in _PASS and len(between) < 8:
            between.append(followers[0])  # x.transpose(1, 2).contiguous(): a clone
            followers = self.g.consumers.get(followers[0].output[0], [])
        if len(followers) != 1 or followers[0].op_type not in ("Reshape", "Flatten"):
            return False
        last = followers[0]
        if self.g.shape(last.output[0], last) != before:
            return False
        if self.g.output in [node.output[0], *(n.output[0] for n in between)]:
            return False
        self.g.done.update(id(n) for n in (*between, last))
        name = self.emit(
            "channel_shuffle", {"groups": after[1]}, node, source, self.g.name_for(node)
        )
        for each in (node, *between, last):
            self.g.names[each.output[0]] = name
        return True

    def strided(
        self, node: Any, source: str, before: tuple[int, ...], after: tuple[int, ...]
    ) -> bool:
        """Reshape to one axis, then Gather of constant indices: the dynamo exporter's
        ``as_strided``, a view of the same elements in the indices' shape."""
        users = self.g.consumers.get(node.output[0], [])
        if len(after) != 1 or len(users) != 1 or users[0].op_type != "Gather":
            return False
        gather = users[0]
        if self.g.attributes(gather).get("axis", 0) != 0 or len(gather.input) != 2:
            return False
        if gather.input[1] in self.g.data or self.g.output == node.output[0]:
            return False
        shape = self.g.shape(gather.input[1], gather)
        if math.prod(shape) != math.prod(before) or not shape or shape[0] != before[0]:
            return False
        self.g.done.add(id(gather))
        if shape == before:
            self.alias(gather, source)
            return True
        name = self.emit(
            "reshape", {"shape": list(shape[1:])}, gather, source, self.g.name_for(gather)
        )
        self.g.names[gather.output[0]] = name
        return True

    def transpose(self, node: Any) -> None:
        source = self.only_data(node)
        shape = self.g.shape(source, node)
        perm = [int(p) for p in self.g.attributes(node).get("perm", [])]
        if not perm:
            perm = list(reversed(range(len(shape))))
        if perm == list(range(len(shape))):
            self.alias(node, source)
            return
        if perm[0] != 0:
            self.g._fail(node, f"its perm {show(perm)} moves the batch axis")
        self.layer("permute", {"torch_dims": perm}, node, source)

    def resize(self, node: Any) -> None:
        source = self.only_data(node)
        before = self.g.shape(source, node)
        after = self.g.shape(node.output[0], node)
        if len(after) != len(before) or after[:2] != before[:2] or len(before) < 3:
            self.g._fail(
                node,
                f"it resizes {_shown_shape(before)} into {_shown_shape(after)}; convcalc reads "
                "resizing of the spatial axes",
            )
        rank = len(before) - 2
        mode = self.g.attributes(node).get("mode", b"nearest")
        mode = mode.decode() if isinstance(mode, bytes) else str(mode)
        modes = {"linear": ("linear", "bilinear", "trilinear")[rank - 1], "cubic": "bicubic"}
        params: dict[str, Any] = {}
        factors = [a // b for a, b in zip(after[2:], before[2:], strict=True)]
        if all(f * b == a for f, a, b in zip(factors, after[2:], before[2:], strict=True)):
            params["scale_factor"] = factors[0] if len(set(factors)) == 1 else factors
        else:
            params["size"] = list(after[2:])
        if mode in modes and not (mode == "cubic" and rank != 2):
            params["mode"] = modes[mode]
        self.layer("upsample", params, node, source)

    def pad(self, node: Any) -> None:
        source = self.only_data(node)
        shape = self.g.shape(source, node)
        attrs = self.g.attributes(node)
        pads: Sequence[float] | None = attrs.get("pads")
        if pads is None and len(node.input) > 1:
            pads = self.g.value(node.input[1])
        if pads is None:
            if self.g.shape(node.output[0], node) == shape:  # pads computed to be zeros
                self.alias(node, source)
                return
            self.g._fail(node, "its pads are not a constant convcalc can read")
        rank = len(shape)
        axes = list(range(rank))
        if len(node.input) > 3 and node.input[3]:
            given = self.g.value(node.input[3])
            if given is None:
                self.g._fail(node, "its axes are not a constant convcalc can read")
            axes = [int(a) % rank for a in given]
        if len(pads) != 2 * len(axes):
            self.g._fail(node, f"its pads {show(list(pads))} do not fit its axes")
        each = {axis: [0, 0] for axis in range(rank)}
        for i, axis in enumerate(axes):
            each[axis] = [int(pads[i]), int(pads[len(axes) + i])]
        if each[0] != [0, 0] or (rank > 1 and each[1] != [0, 0]):
            self.g._fail(node, "it pads the batch or channel axis; convcalc pads spatial axes")
        spatial = [each[axis] for axis in range(2, rank)]
        if not spatial or not 1 <= len(spatial) <= 3:
            self.g._fail(node, f"its input {_shown_shape(shape)} has no 1 to 3 spatial axes")
        grow = [[max(0, p) for p in pair] for pair in spatial]
        cut = [[max(0, -p) for p in pair] for pair in spatial]
        kinds = []
        if any(p for pair in grow for p in pair):
            kinds.append(("zeropadding", {"padding": grow}))
        if any(p for pair in cut for p in pair):
            kinds.append(("cropping", {"cropping": cut}))
        if not kinds:
            self.alias(node, source)
            return
        for position, (family, params) in enumerate(kinds):
            suffix = "_crop" if position else ""
            name = self.emit(
                f"{family}{len(spatial)}d",
                params,
                node,
                source if position == 0 else None,
                self.g.name_for(node, suffix),
            )
            self.g.names[node.output[0]] = name

    # -- joining and splitting -----------------------------------------------------------------

    def concat(self, node: Any) -> None:
        inputs = [t for t in node.input if t]
        if any(t not in self.g.data for t in inputs):
            self.class_token(node, inputs)
            return
        shape = self.g.shape(inputs[0], node)
        axis = int(self.g.attributes(node).get("axis", 1)) % len(shape)
        if len(inputs) == 1:
            self.alias(node, inputs[0])
            return
        if axis != 1:
            self.g._fail(
                node,
                f"it joins the axis {axis} of {_shown_shape(shape)}; convcalc's concat joins "
                "the channels (axis 1)",
            )
        self.merge("concat", inputs, node)

    def class_token(self, node: Any, inputs: list[str]) -> None:
        """Learned tokens (N, k, E) concatenated before the tokens (N, L, E): ViT's class
        token."""
        data = [t for t in inputs if t in self.g.data]
        problem = (
            "it joins the data with a constant; convcalc reads a learned class token "
            "(N, k, E) put before the tokens (N, L, E) there"
        )
        if len(data) != 1 or inputs[-1] != data[0] or len(inputs) != 2:
            self.g._fail(node, problem)
        shape = self.g.shape(data[0], node)
        token = self.g.shape(inputs[0], node)
        axis = int(self.g.attributes(node).get("axis", 1)) % max(1, len(shape))
        if (
            len(shape) != 3
            or len(token) != 3
            or axis != 1
            or token[2] != shape[2]
            or self.g.parameter(inputs[0]) is None
        ):
            self.g._fail(node, problem)
        self.layer("class_token", {"count": token[1], "embed_dim": shape[2]}, node, data[0])

    def gather(self, node: Any) -> None:
        """One token of (N, L, E): ``x[:, i]``, a take_token."""
        source = self.only_data(node)
        shape = self.g.shape(source, node)
        axis = int(self.g.attributes(node).get("axis", 0)) % len(shape)
        index = self.g.value(node.input[1]) if len(node.input) > 1 else None
        out = self.g.shape(node.output[0], node)
        if len(shape) != 3 or axis != 1 or index is None or len(index) != 1 or len(out) != 2:
            self.g._unsupported(node, "other than taking one token, x[:, i]")
        self.layer("take_token", {"index": int(index[0])}, node, source)

    def split(self, node: Any) -> None:
        """A split of the channels whose parts meet in one Concat: a ``split`` construct."""
        source = self.only_data(node)
        shape = self.g.shape(source, node)
        attrs = self.g.attributes(node)
        axis = int(attrs.get("axis", 0)) % len(shape)
        if axis != 1:
            self.g._fail(node, f"it splits the axis {axis}; convcalc splits the channels")
        parts = [t for t in node.output if t]
        if node.op_type == "SplitToSequence":
            parts = self.sequence_parts(node)
        self.construct(node, source, parts)

    def slices(self, node: Any) -> None:
        """Slices of the channels, ``x[:, :c]`` and ``x[:, c:]`` (the TorchScript exporter's
        ``x.chunk(2, 1)``), that together cut them into parts, in order: a split."""
        source = self.only_data(node)
        channels = self.g.shape(source, node)[1]
        ranges: list[tuple[int, int, Any]] = []
        for user in self.g.consumers.get(source, []):
            if user.op_type != "Slice" or user.input[0] != source:
                continue
            found = self.channel_range(user, channels)
            if found is None:
                if user is node:
                    self.g._unsupported(node, "other than cutting the channels into parts")
                continue
            ranges.append((*found, user))
        ranges.sort(key=lambda r: (r[0], r[1]))
        cuts = [r[0] for r in ranges] + [ranges[-1][1]]
        if (
            cuts[0] != 0
            or cuts[-1] != channels
            or any(r[1] != cuts[i + 1] for i, r in enumerate(ranges))
        ):
            self.g._fail(
                node,
                "its slices of the channels do not cut them into parts; convcalc reads slices "
                "of the channels that together make a split",
            )
        self.g.done.update(id(r[2]) for r in ranges)
        first = min((r[2] for r in ranges), key=lambda n: self.g.index[id(n)])
        sizes = [r[1] - r[0] for r in ranges]
        self.construct(first, source, [r[2].output[0] for r in ranges], sizes)

    def channel_range(self, node: Any, channels: int) -> tuple[int, int] | None:
        """The channels a Slice keeps, [start, end), when it slices only them, step 1."""
        attrs = self.g.attributes(node)
        if "starts" in attrs:  # opset < 10
            starts, ends, axes, steps = attrs["starts"], attrs["ends"], attrs.get("axes"), None
        else:
            values = [self.g.value(t) if t else None for t in (*node.input[1:], "", "", "")[:4]]
            starts, ends, axes, steps = values
        if starts is None or ends is None or len(starts) != 1 or len(ends) != 1:
            return None
        rank = len(self.g.shape(node.input[0], node))
        if (axes is not None and [int(a) % rank for a in axes] != [1]) or (
            steps is not None and [int(v) for v in steps] != [1]
        ):
            return None
        start, end = int(starts[0]), int(ends[0])
        start = max(0, min(channels, start + channels if start < 0 else start))
        end = max(0, min(channels, end + channels if end < 0 else end))
        return (start, end) if start < end else None

    def sequence_parts(self, node: Any) -> list[str]:
        """A SplitToSequence's parts: the SequenceAt nodes that take them, by index."""
        by_index: dict[int, str] = {}
        for user in self.g.consumers.get(node.output[0], []):
            if user.op_type != "SequenceAt":
                self.g._fail(node, f"its sequence goes to {user.op_type}, not SequenceAt")
            index = self.g.value(user.input[1]) if len(user.input) > 1 else None
            if index is None or len(index) != 1:
                self.g._fail(user, "its index is not a constant convcalc can read")
            count = len(self.sequence_sizes(node))
            position = int(index[0]) % count
            if position in by_index:
                self.g._fail(user, "it takes a part another SequenceAt takes too")
            by_index[position] = user.output[0]
            self.g.done.add(id(user))
        count = len(self.sequence_sizes(node))
        if sorted(by_index) != list(range(count)):
            self.g._fail(node, "not every part of its sequence is used")
        return [by_index[i] for i in range(count)]

    def sequence_sizes(self, node: Any) -> list[int]:
        shape = self.g.shape(node.input[0], node)
        attrs = self.g.attributes(node)
        if len(node.input) > 1 and node.input[1]:
            sizes = self.g.value(node.input[1])
            if sizes is None:
                self.g._fail(node, "its sizes are not a constant convcalc can read")
            if len(sizes) == 1:
                step = int(sizes[0])
                total = shape[1]
                return [min(step, total - at) for at in range(0, total, step)] if step else []
            return [int(s) for s in sizes]
        if attrs.get("keepdims", 1) == 0:
            self.g._fail(node, "it splits into single channels without keeping the axis")
        return [1] * shape[1]

    def construct(
        self, node: Any, source: str, parts: list[str], sizes: list[int] | None = None
    ) -> None:
        if sizes is not None:
            pass
        elif node.op_type == "SplitToSequence":
            sizes = self.sequence_sizes(node)
        else:
            sizes = [int(self.g.shape(part, node)[1]) for part in parts]
        if self.g.nesting >= 64:
            self.g._fail(
                node, "splits nest deeper than 64 here; convcalc's constructs nest 64 deep"
            )
        join, paths = self.find_join(node, parts)
        self.g.nesting += 1
        name = self.g.name_for(join)
        own = f"{name}_part"  # the part, inside its path: the path's own input
        translated = []
        for part, path in zip(parts, paths, strict=True):
            self.g.names[part] = own
            layers = _Emitter(self.g, own).run(path)
            for layer in layers:
                written = next(iter(layer.values()))
                if isinstance(written, dict) and own in _listed(written.get("inputs")):
                    self.g._fail(
                        join,
                        "a part of the split before it is taken by a later layer of its path; "
                        "convcalc's split paths are chains that start from their part",
                    )
            translated.append(layers)
        self.g.nesting -= 1
        self.g.done.add(id(join))
        body: dict[str, Any] = {"sections": sizes, "merge": "concat", "paths": translated}
        body["name"] = name
        reference = self.g.ref(source, node)
        if reference != self.previous:
            body["inputs"] = reference
        self.layers.append({"split": body})
        self.previous = name
        self.g.names[join.output[0]] = name

    def find_join(self, node: Any, parts: list[str]) -> tuple[Any, list[list[Any]]]:
        """The Concat where the parts' paths meet, and each path's nodes in graph order."""
        problem = (
            "convcalc reads a split whose parts go their own ways and meet again in one "
            "Concat of the channels, in the split's order, and nowhere else"
        )
        masks = {part: 1 << i for i, part in enumerate(parts)}
        full = (1 << len(parts)) - 1
        paths: list[list[Any]] = [[] for _ in parts]
        member: dict[int, int] = {}
        join = None
        for later in self.g.live[self.g.position[id(node)] + 1 :]:
            mask = 0
            for tensor in later.input:
                mask |= masks.get(tensor, 0)
            if not mask or later.op_type == "SequenceAt":
                continue
            if mask == full:
                join = later
                break
            if mask & (mask - 1):  # two parts meet before the end
                self.g._fail(node, problem)
            path = mask.bit_length() - 1
            paths[path].append(later)
            member[id(later)] = path
            for tensor in later.output:
                if tensor:
                    masks[tensor] = mask
        if join is None or join.op_type != "Concat":
            self.g._fail(node, problem)
        ends = [t for t in join.input if t]
        if [masks.get(t) for t in ends] != [1 << i for i in range(len(parts))]:
            self.g._fail(node, problem)
        if (
            int(self.g.attributes(join).get("axis", 1)) % len(self.g.shape(node.input[0], node))
            != 1
        ):
            self.g._fail(node, problem)
        for tensor, mask in masks.items():
            if tensor == self.g.output:
                self.g._fail(node, problem)
            for user in self.g.consumers.get(tensor, []):
                if user is not join and member.get(id(user)) != mask.bit_length() - 1:
                    self.g._fail(node, problem)
        return join, paths


_ATTRIBUTES: dict[str, object] = {
    **dict.fromkeys(
        (
            "kernel_shape",
            "strides",
            "pads",
            "dilations",
            "output_padding",
            "output_shape",
            "perm",
            "axes",
            "starts",
            "ends",
            "split",
            "value_ints",
        ),
        "ints",
    ),
    **dict.fromkeys(
        (
            "axis",
            "group",
            "ceil_mode",
            "keepdims",
            "transA",
            "transB",
            "num_groups",
            "start",
            "end",
            "count_include_pad",
            "value_int",
            "num_outputs",
        ),
        int,
    ),
    **dict.fromkeys(("alpha", "beta", "min", "max", "epsilon", "value_float"), float),
    **dict.fromkeys(("auto_pad", "mode", "approximate"), str),
}
"""The type of each attribute the reader uses (as ONNX defines it)."""


class _Region(NamedTuple):
    """Nodes read as one layer (an attention, a patch merging): its kind and arguments, the
    tensor it takes and the one it gives."""

    kind: str
    params: dict[str, Any]
    entry: str
    exit: str
    nodes: list[Any]


def _factors(axes: list[list[tuple[str, int]]], expected: list[list[str]]) -> bool:
    """Whether the axes hold the named factors expected (``h.0``, the outer part of ``h``,
    ``h.1`` the inner); where a part has one element the other is ``h`` itself, unsplit."""
    present = {f[0] for axis in axes for f in axis}
    for axis, names in zip(axes, expected, strict=True):
        held = [f[0] for f in axis]
        wanted = [
            name if name in present else name.partition(".")[0]
            for name in names
            if name in present or name.partition(".")[0] in held
        ]
        if held != wanted:
            return False
    return True


def _divide(a: float, b: float) -> float:
    """ONNX's Div: integers truncated toward zero, as C does."""
    if isinstance(a, int) and isinstance(b, int):
        return int(a / b) if abs(a) < 2**52 else a // b
    return a / b


_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "Add": lambda a, b: a + b,
    "Sub": lambda a, b: a - b,
    "Mul": lambda a, b: a * b,
    "Div": _divide,
    "Mod": lambda a, b: a % b,
    "Max": max,
    "Min": min,
}
"""Arithmetic on constants the reader works out (a slice's end, a padding computed from a
shape), small values only."""

_REARRANGE = frozenset(
    {"Pad", "Slice", "Concat", "Identity", "Reshape", "Transpose", "Squeeze", "Unsqueeze"}
)
"""Operators that only move elements: Swin's padding and cyclic shift around its windows."""

_UNPARTITION = frozenset({"Reshape", "Transpose", "Identity"})
"""Operators of MaxViT's rearrangements between a map and its partitioned tokens."""

_FLOAT_DATA = frozenset({1, 10, 11, 16})
"""ONNX's floating-point element types (TensorProto FLOAT, FLOAT16, DOUBLE, BFLOAT16)."""


def _handlers() -> dict[str, Callable[[_Emitter, Any], None]]:
    return {
        "Conv": _Emitter.conv,
        "ConvTranspose": _Emitter.conv,
        "MaxPool": _Emitter.pool,
        "AveragePool": _Emitter.pool,
        "GlobalAveragePool": _Emitter.global_pool,
        "GlobalMaxPool": _Emitter.global_pool,
        "ReduceMean": _Emitter.reduce,
        "ReduceMax": _Emitter.reduce,
        "BatchNormalization": _Emitter.batchnorm,
        "InstanceNormalization": _Emitter.instancenorm,
        "GroupNormalization": _Emitter.groupnorm,
        "LayerNormalization": _Emitter.layernorm,
        "Gemm": _Emitter.gemm,
        "MatMul": _Emitter.matmul,
        "Clip": _Emitter.clip,
        "Reshape": _Emitter.reshape,
        "Flatten": _Emitter.reshape,
        "Squeeze": _Emitter.reshape,
        "Unsqueeze": _Emitter.reshape,
        "Transpose": _Emitter.transpose,
        "Resize": _Emitter.resize,
        "Upsample": _Emitter.resize,
        "Pad": _Emitter.pad,
        "Concat": _Emitter.concat,
        "Split": _Emitter.split,
        "SplitToSequence": _Emitter.split,
        "Gather": _Emitter.gather,
        "Slice": _Emitter.slices,
    }


_HANDLERS = _handlers()


def _shape_of_type(type_proto: Any) -> tuple[Dim, ...] | None:
    if not type_proto.HasField("tensor_type") or not type_proto.tensor_type.HasField("shape"):
        return None
    dims: list[Dim] = []
    for dim in type_proto.tensor_type.shape.dim:
        if dim.HasField("dim_value"):
            dims.append(int(dim.dim_value))
        elif dim.HasField("dim_param"):
            dims.append(str(dim.dim_param))
        else:
            dims.append(None)
    return tuple(dims)


def _shown_shape(shape: Sequence[Dim] | None) -> str:
    if shape is None:
        return "unknown"
    return "(" + ", ".join("?" if d is None else str(d) for d in shape) + ")"


_UNNAMEABLE = re.compile(r"[.$\s]+")


def _clean_name(raw: str) -> str:
    """A node's name as a convcalc name: no leading '/'; '.' (which separates nested names),
    '$' (which starts an expression) and spaces as '_'; at most 120 characters (the end, where
    exporters put what differs)."""
    name = _UNNAMEABLE.sub("_", raw.strip().strip("/")) or "node"
    if name == "input":
        name = "input_node"
    return name if len(name) <= 120 else name[-120:]


def _listed(raw: object) -> list[object]:
    return list(raw) if isinstance(raw, list) else [raw]


def onnx_comments(source: str) -> list[str]:
    """The lines ``convcalc import`` writes above the YAML of an ONNX model."""
    return [
        f"Imported by `convcalc import` from {_path_name(source)}, an ONNX model.",
        "PyTorch's rules, channels first; a layer per node, named after it.",
        "Reshapes and resizes are written for the file's input size.",
    ]


_DEFAULTS = {
    "stride": 1,
    "padding": 0,
    "dilation": 1,
    "groups": 1,
    "bias": True,
    "output_padding": 0,
}
"""Arguments left out when they hold these values: every layer written here takes them as
its defaults (a pool's stride, whose default is its kernel, is always written)."""


def _compact(params: dict[str, Any]) -> dict[str, Any]:
    """Arguments as a person writes them: one number for equal sizes on every axis, and
    defaults left out."""
    found: dict[str, Any] = {}
    for key, value in params.items():
        if (
            isinstance(value, list)
            and value
            and all(isinstance(v, int) and v == value[0] for v in value)
        ):
            value = value[0]
        if key in _DEFAULTS and value == _DEFAULTS[key] and type(value) is type(_DEFAULTS[key]):
            if key != "stride" or "filters" in params:  # a pool's stride defaults to its size
                continue
        found[key] = value
    return found


def _known(shape: Sequence[Dim] | None) -> tuple[int, ...] | None:
    """A shape whose every size is a number; None when one is not."""
    if shape is None or not all(isinstance(d, int) for d in shape):
        return None
    return tuple(d for d in shape if isinstance(d, int))


def _require_text(graph: Any, nodes: list[Any], where: str) -> None:
    """Every name the reader uses is text (protobuf hands over bytes where a file's string
    is not UTF-8)."""
    names: list[object] = [graph.name]
    for node in nodes:
        names.extend((node.name, node.op_type, node.domain, *node.input, *node.output))
    for info in (*graph.input, *graph.output, *graph.value_info, *graph.initializer):
        names.append(info.name)
    if any(not isinstance(name, str) for name in names):
        raise InputError(f"{where} holds names that are not UTF-8 text: it is damaged")
