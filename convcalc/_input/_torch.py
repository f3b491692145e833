"""A PyTorch module as a convcalc model: ``convcalc.from_torch(module, input_shape)``.

For code that has torch installed anyway: torch is never a dependency of convcalc and is
imported only inside :func:`from_torch`. The module is traced with ``torch.fx`` (its
``forward`` run symbolically, never on data) and its shapes propagated on fake tensors (no
memory, no computation); each call of the trace becomes a layer:

- a leaf module is a layer of the catalogue's kind for its class (``Conv2d``, ``BatchNorm2d``,
  ``Linear``, ``MultiheadAttention``, ...), its arguments read from the module's attributes by
  the catalogue's names for them (``out_channels``, ``kernel_size``, ``bias`` as whether it has
  one). A module whose class the catalogue names (torchvision's ``LayerNorm2d``, ``Permute``,
  ``StochasticDepth``, ``PatchMerging``) is kept whole rather than traced into;
- the common functions and methods are layers too: ``F.relu`` and its kin, ``torch.flatten``,
  ``x.view`` and ``x.reshape`` (a reshape to the traced shape), ``x.permute``, ``x.mean`` over
  the spatial axes, ``F.adaptive_avg_pool2d``, ``F.interpolate``, ``F.pad``; ``operator.add``
  and ``torch.cat`` of two tensors are merges, and a tensor times a learned one of one value per
  channel a ``layer_scale``;
- rows are named after the fx nodes (``layer1_0_conv1``);
- a module the catalogue has no kind for, and that torch.fx keeps whole, is an error naming its
  class and its qualified name, as is a function convcalc has no layer for.
"""

from __future__ import annotations

import importlib
import math
import operator
from collections.abc import Sequence
from typing import Any, NamedTuple, NoReturn

from .._catalogue import find_kind
from .._errors import InputError, SpecError
from .._values import normalize_name, show
from ._onnx import _compact

INSTALL = "from_torch needs PyTorch (pip install torch); convcalc itself never installs it"

_MODULE_CLASSES = {
    "Permute": ("permute", {"dims": "torch_dims"}),
    "PatchMergingV2": ("patch_merging", {"dim": "dim"}),
    "ShiftedWindowAttention": ("window_attention", {}),
    "ShiftedWindowAttentionV2": ("window_attention", {}),
    "PartitionAttentionLayer": ("window_attention", {}),
}
"""torchvision's module classes whose attributes mean something other than the catalogue's
names for them (Permute's ``dims`` are PyTorch's, with the batch), or whose class name is not
a kind's: the kind and how their attributes are named."""

_PASS_MODULES = frozenset({"Identity", "Flatten"})  # Flatten: handled by shape
_ACTIVATION_FUNCTIONS = (
    "relu",
    "relu6",
    "gelu",
    "silu",
    "sigmoid",
    "tanh",
    "hardswish",
    "hardsigmoid",
    "mish",
    "softmax",
    "log_softmax",
    "elu",
    "selu",
    "celu",
    "leaky_relu",
    "softplus",
    "softsign",
    "hardtanh",
    "logsigmoid",
)
"""Functions (torch.*, F.*, and tensor methods) that are an activation layer of that name."""
_PASS_FUNCTIONS = frozenset(
    {
        "contiguous",
        "clone",
        "dropout",
        "dropout1d",
        "dropout2d",
        "dropout3d",
        "alpha_dropout",
        "feature_alpha_dropout",
        "detach",
        "float",
        "to",
        "type_as",
        "identity",
    }
)
"""Functions and methods that hand their input on, as far as any count goes."""


def torch_module() -> Any:
    """``torch`` (with ``torch.fx``), or an InputError saying how to install it."""
    try:
        torch = importlib.import_module("torch")
        importlib.import_module("torch.fx")
    except ImportError as problem:
        reason = "" if problem.name == "torch" else f" ({problem})"
        raise InputError(f"{INSTALL}{reason}") from None
    return torch


def from_torch(module: Any, input_shape: Sequence[int], *, yaml: bool = False) -> Any:
    """The convcalc model mapping of a ``torch.nn.Module`` (``yaml=True``: its YAML text).

    ``input_shape`` is the input without the batch, as a convcalc model's ``input``:
    ``(3, 224, 224)``. The model is channels first under PyTorch's rules (``framework:
    pytorch``, ``layout: chw``); ``convcalc.analyze`` computes it."""
    torch = torch_module()
    if not isinstance(module, torch.nn.Module):
        raise SpecError(f"from_torch takes a torch.nn.Module, not {type(module).__name__}")
    shape = _input_shape(input_shape)
    traced = _trace(torch, module)
    _propagate(torch, traced, shape)
    layers = _Translator(torch, traced).run()
    spec: dict[str, Any] = {
        "name": type(module).__name__,
        "input": shape,
        "framework": "pytorch",
        "layout": "chw",
        "layers": layers,
    }
    if yaml:
        return _yaml_text(spec)
    return spec


def _input_shape(raw: object) -> list[int]:
    try:
        shape = [int(d) for d in raw]  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise SpecError(
            f"input_shape {show(raw)} is not a shape: give the input's sizes without the "
            "batch, e.g. (3, 224, 224)"
        ) from None
    if not shape or any(d <= 0 for d in shape):
        raise SpecError(f"input_shape {show(raw)} needs positive sizes, without the batch")
    return shape


def _trace(torch: Any, module: Any) -> Any:
    fx = torch.fx

    def is_leaf_module(self: Any, m: Any, qualified_name: str) -> bool:
        """torch.nn's own modules, and those whose class the catalogue names."""
        name = type(m).__name__
        if name in _MODULE_CLASSES or (
            not type(m).__module__.startswith("torch.")
            and find_kind(name) is not None
            and not isinstance(m, torch.nn.Sequential)
        ):
            return True
        return bool(fx.Tracer.is_leaf_module(self, m, qualified_name))

    tracer = type("Tracer", (fx.Tracer,), {"is_leaf_module": is_leaf_module})()
    try:
        graph = tracer.trace(module)
    except Exception as problem:  # torch.fx.proxy.TraceError and whatever forward raises
        raise SpecError(
            f"torch.fx cannot trace {type(module).__name__}: {show(str(problem))}; from_torch "
            "reads modules whose forward torch.fx.symbolic_trace can follow (no control flow "
            "on the data)"
        ) from None
    return fx.GraphModule(tracer.root, graph, type(module).__name__)


def _propagate(torch: Any, traced: Any, shape: list[int]) -> None:
    """Each node's output shape, on fake tensors: no memory and no computation."""
    fake_tensor = importlib.import_module("torch._subclasses.fake_tensor")
    shape_prop = importlib.import_module("torch.fx.passes.shape_prop")
    mode = fake_tensor.FakeTensorMode(allow_non_fake_inputs=True)
    weights = [*traced.parameters(), *traced.buffers()]
    device = weights[0].device if weights else "cpu"
    example = mode.from_tensor(torch.empty(1, *shape, device=device))
    try:
        with torch.no_grad():
            shape_prop.ShapeProp(traced, fake_mode=mode).propagate(example)
    except Exception as problem:  # the module refuses the shape, as PyTorch would say
        cause = problem.__cause__ or problem  # ShapeProp's wrapper names the node
        raise SpecError(
            f"{type(traced).__name__} does not run on an input of {list(shape)} (without the "
            f"batch): {show(str(cause).strip().splitlines()[-1] if str(cause).strip() else cause)}"
        ) from None


def _yaml_text(spec: dict[str, Any]) -> str:
    """The model as a convcalc YAML file: settings one per line, each layer on one line."""
    import yaml

    def flow(value: object) -> str:
        text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=10**9)
        return str(text).strip().removesuffix("...").strip()

    lines = [f"{key}: {flow(value)}" for key, value in spec.items() if key != "layers"]
    lines.append("layers:")
    for layer in spec["layers"]:
        (kind, body), *_ = layer.items()
        lines.append(f"  - {kind}: {flow(body)}")
    return "\n".join(lines) + "\n"


class _Translator:
    def __init__(self, torch: Any, traced: Any):
        self.torch = torch
        self.traced = traced
        self.nodes = list(traced.graph.nodes)
        self.users = {node: list(node.users) for node in self.nodes}
        self.names: dict[Any, str] = {}
        self.layers: list[dict[str, Any]] = []
        self.previous = "input"
        self.taken = {"input"}
        self.done: set[Any] = set()
        self.called: dict[str, str] = {}
        self.inputs = [n for n in self.nodes if n.op == "placeholder"]
        if len(self.inputs) != 1:
            raise SpecError(
                f"{type(traced).__name__}.forward takes {len(self.inputs)} inputs; from_torch "
                "reads modules of one input"
            )
        self.data = self._data()

    def _data(self) -> set[Any]:
        """The nodes computed from the input that are tensors."""
        data = {self.inputs[0]}
        for node in self.nodes:
            if node.op in ("call_module", "call_function", "call_method") and self._tensor(node):
                if any(arg in data for arg in node.all_input_nodes):
                    data.add(node)
        return data

    def _tensor(self, node: Any) -> bool:
        """Whether a node gives a tensor, or a tuple of them (``x.chunk(2)``, attention's
        output and weights); sizes, ranks and checks are not layers."""
        meta = node.meta.get("tensor_meta")
        if meta is None or hasattr(meta, "shape"):  # TensorMetadata is a tuple too
            return meta is not None
        if isinstance(meta, (tuple, list)):
            return bool(meta) and all(hasattr(m, "shape") or m is None for m in meta)
        return False

    def shape(self, node: Any) -> tuple[int, ...]:
        meta = node.meta.get("tensor_meta")
        if meta is None or not hasattr(meta, "shape"):
            self.fail(node, "its shape is not known")
        return tuple(int(d) for d in meta.shape)

    # -- messages ---------------------------------------------------------------------------

    def fail(self, node: Any, message: str) -> NoReturn:
        raise SpecError(f"from_torch: {show(node.name)} ({self.what(node)}): {message}")

    def what(self, node: Any) -> str:
        if node.op == "call_module":
            module = self.traced.get_submodule(node.target)
            return f"{type(module).__name__} {node.target}"
        return str(getattr(node.target, "__name__", node.target))

    # -- writing ----------------------------------------------------------------------------

    def name_for(self, node: Any) -> str:
        base = str(node.name).replace(".", "_")
        if base == "input":
            base = "input_node"
        name, count = base, 1
        while name in self.taken:
            count += 1
            name = f"{base}_{count}"
        self.taken.add(name)
        return name

    def ref(self, node: Any, at: Any) -> str:
        if node not in self.names:
            self.fail(at, f"it takes {show(node.name)}, which no layer before it computes")
        return self.names[node]

    def emit(self, kind: str, params: dict[str, Any], node: Any, source: Any) -> None:
        found = find_kind(kind)
        if found is None:
            raise AssertionError(f"no kind {kind!r} in the catalogue")
        body = _compact({k: v for k, v in params.items() if v is not None})
        for param in found.params:  # what the catalogue takes anyway is left out
            value = body.get(param.name)
            if param.name in body and type(value) is type(param.default) and value == param.default:
                del body[param.name]
        self.names[node] = self.write(found.name, body, self.name_for(node), self.ref(source, node))

    def write(self, kind: str, body: dict[str, Any], name: str, reference: str) -> str:
        """One layer, named, on the tensor named ``reference``."""
        body["name"] = name
        if reference != self.previous:
            body["inputs"] = reference
        self.layers.append({kind: body})
        self.previous = name
        return name

    def merge(self, how: str, sources: list[Any], node: Any) -> None:
        name = self.name_for(node)
        self.layers.append({how: {"inputs": [self.ref(s, node) for s in sources], "name": name}})
        self.previous = name
        self.names[node] = name

    def alias(self, node: Any, source: Any) -> None:
        self.names[node] = self.ref(source, node)

    # -- the walk ---------------------------------------------------------------------------

    def run(self) -> list[dict[str, Any]]:
        self.names[self.inputs[0]] = "input"
        output = next(n for n in self.nodes if n.op == "output")
        for node in self.nodes:
            self.visit(node)
        result = output.args[0]
        if not (hasattr(result, "op") and result in self.names):
            self.fail(output, "the module's output is not one tensor computed from its input")
        if self.names[result] != self.previous:
            self.fail(output, "the module's output is not the last layer computed")
        return self.layers

    def visit(self, node: Any) -> None:
        if node not in self.data or node in self.done or node is self.inputs[0]:
            return
        self.done.add(node)
        if node.op == "call_module":
            self.module(node)
        else:
            self.function(node)

    def data_args(self, node: Any) -> list[Any]:
        found: list[Any] = []

        def visit(value: Any) -> None:
            if isinstance(value, (list, tuple)):
                for item in value:
                    visit(item)
            elif hasattr(value, "op") and value in self.data:
                found.append(value)

        visit(node.args)
        visit(list(node.kwargs.values()))
        return found

    def single(self, node: Any) -> Any:
        sources = self.data_args(node)
        if len(sources) != 1:
            self.fail(node, f"it takes {len(sources)} tensors computed from the input, not one")
        return sources[0]

    # -- modules ----------------------------------------------------------------------------

    def module(self, node: Any) -> None:
        module = self.traced.get_submodule(node.target)
        cls = type(module).__name__
        if node.target in self.called and any(True for _ in module.parameters()):
            self.fail(
                node,
                f"the module is called again (first as {show(self.called[node.target])}), "
                "sharing its weights, which convcalc's layers do not do",
            )
        self.called.setdefault(node.target, node.name)
        source = self.single_or_attention(node, module)
        if cls in _PASS_MODULES:
            if cls == "Flatten":
                self.reshaped(node, source)
            else:
                self.alias(node, source)
            return
        if cls == "PartitionAttentionLayer":
            self.partition_attention(node, module, source)
            return
        special = _MODULE_CLASSES.get(cls)
        kind = find_kind(special[0] if special else cls)
        if kind is None:
            raise SpecError(
                f"from_torch: the module {show(node.target)} is a {show(cls)}, which convcalc's "
                "catalogue has no layer for (`convcalc layers` lists them); torch.fx keeps it "
                "whole, so its insides are not read"
            )
        params = self.module_params(module, kind, special[1] if special else {})
        for key in ("num_channels", "num_features"):  # LayerNorm2d's normalized_shape [C]
            if isinstance(params.get(key), list) and len(params[key]) == 1:
                params[key] = params[key][0]
        if kind.name == "window_attention":
            params = {
                "num_heads": module.num_heads,
                "window": list(module.window_size),
                "shift": list(module.shift_size),
                "version": 2 if cls.endswith("V2") else 1,
                "qkv_bias": module.qkv.bias is not None,
            }
        elif kind.name == "patch_merging":
            params["version"] = 2 if cls.endswith("V2") else 1
        elif kind.name.startswith("zeropadding") and isinstance(params.get("padding"), list):
            params["padding"] = _torch_pads(params["padding"])
        elif kind.name == "multihead_attention":
            params.update(self.attention_params(node, module))
        self.emit(kind.name, params, node, source)
        if kind.name == "multihead_attention":
            for user in self.users[node]:  # attn_output, attn_weights = mha(x, x, x)
                if user.target is operator.getitem and user.args[1] == 0:
                    self.alias(user, node)
                    self.done.add(user)
                elif user.target is operator.getitem and self.users[user]:
                    self.fail(user, "it takes the attention weights, which convcalc does not model")
                else:
                    self.done.add(user)

    def partition_attention(self, node: Any, module: Any, source: Any) -> None:
        """MaxViT's PartitionAttentionLayer (block or grid attention), as the rows it is made
        of: channels last, LayerNorm, the partition attention (qkv, merge and the position
        bias table), the shortcut, LayerNorm and the MLP, the shortcut, channels first."""
        norm, attention = module.attn_layer[0], module.attn_layer[1]
        mlp = list(module.mlp_layer)
        channels = int(norm.normalized_shape[0])
        grid = module.partition_type == "grid"
        size = module.g if grid else module.p
        base = str(node.name)

        def named(part: str) -> str:
            return self.name_for(_Named(f"{base}_{part}"))

        start = self.write(
            "permute", {"torch_dims": [0, 2, 3, 1]}, named("channels_last"), self.ref(source, node)
        )
        self.write("layernorm", {}, named("attn_norm"), start)
        params = {
            "dim": channels,
            "num_heads": int(attention.n_heads),
            "window": int(size),
            "partition": "grid" if grid else "window",
            "pad": False,
            "map_size": [int(d) for d in module.grid_size],
        }
        attended = self.write("window_attention", params, named("attention"), self.previous)
        shortcut = named("add")
        self.layers.append({"add": {"inputs": [start, attended], "name": shortcut}})
        self.previous = shortcut
        self.write("layernorm", {}, named("mlp_norm"), shortcut)
        for position, layer in enumerate(mlp[1:], start=1):
            kind = find_kind(type(layer).__name__)
            if isinstance(layer, self.torch.nn.Linear):
                body = {"units": layer.out_features, "bias": layer.bias is not None}
                self.write("dense", _compact(body), named(f"mlp_{position}"), self.previous)
            elif kind is not None and kind.name != "dropout":
                self.write(kind.name, {}, named(f"mlp_{position}"), self.previous)
        last = self.previous
        after = named("add_1")
        self.layers.append({"add": {"inputs": [shortcut, last], "name": after}})
        self.previous = after
        self.names[node] = self.write(
            "permute", {"torch_dims": [0, 3, 1, 2]}, self.name_for(node), after
        )

    def single_or_attention(self, node: Any, module: Any) -> Any:
        sources = self.data_args(node)
        if isinstance(module, self.torch.nn.MultiheadAttention):
            if len(set(sources)) != 1:
                self.fail(node, "convcalc's multihead_attention is self-attention: q, k and v one")
            return sources[0]
        if len(sources) != 1:
            self.fail(node, f"it takes {len(sources)} tensors computed from the input, not one")
        return sources[0]

    def attention_params(self, node: Any, module: Any) -> dict[str, Any]:
        need = node.kwargs.get("need_weights", node.args[4] if len(node.args) > 4 else True)
        return {
            "embed_dim": module.embed_dim,
            "num_heads": module.num_heads,
            "bias": module.in_proj_bias is not None,
            "add_bias_kv": module.bias_k is not None,
            "add_zero_attn": bool(module.add_zero_attn),
            "need_weights": bool(need) if isinstance(need, bool) else None,
            "batch_first": None,
        }

    def module_params(self, module: Any, kind: Any, renamed: dict[str, str]) -> dict[str, Any]:
        """The kind's parameters from the module's attributes, by the catalogue's spellings."""
        params: dict[str, Any] = {}
        for attribute, param in renamed.items():
            if hasattr(module, attribute):
                params[param] = _plain(self.torch, getattr(module, attribute))
        for param in kind.params:
            if param.name in params:
                continue
            for spelling in (param.name, *param.aliases):
                if spelling in renamed or not hasattr(module, spelling):
                    continue
                value = getattr(module, spelling)
                if isinstance(value, self.torch.Tensor) or value is None:
                    if normalize_name(param.name) in ("bias", "usebias"):
                        params[param.name] = value is not None
                    continue
                if isinstance(value, self.torch.nn.Module) or callable(value):
                    continue
                if normalize_name(param.name) == "inplace":
                    break  # no effect on any count
                params[param.name] = _plain(self.torch, value)
                break
        return params

    # -- functions and methods ----------------------------------------------------------------

    def function(self, node: Any) -> None:
        target = node.target
        name = target if isinstance(target, str) else getattr(target, "__name__", str(target))
        name = str(name).lstrip("_") if name not in ("__getitem__",) else name
        handler = getattr(self, f"do_{name}", None)
        if target is operator.getitem:
            handler = self.do_getitem
        if handler is not None:
            handler(node)
            return
        if name in _PASS_FUNCTIONS:
            self.alias(node, self.single(node))
        elif name in _ACTIVATION_FUNCTIONS:
            self.activation(node, name)
        else:
            self.fail(node, "convcalc has no layer for this function or method")

    def activation(self, node: Any, name: str) -> None:
        source = node.args[0] if node.args else None
        if source not in self.data:
            self.fail(node, "its input is not computed from the module's input")
        names = {
            "hardswish": "hard_silu",
            "hardsigmoid": "hard_sigmoid",
            "hardtanh": "hard_tanh",
            "logsigmoid": "log_sigmoid",
        }
        params: dict[str, Any] = {}
        if name == "leaky_relu":
            slope = node.kwargs.get("negative_slope", node.args[1] if len(node.args) > 1 else 0.01)
            params["negative_slope"] = slope
        self.emit(names.get(name, name), params, node, source)

    def argument(self, node: Any, position: int, key: str, default: Any = None) -> Any:
        if key in node.kwargs:
            return node.kwargs[key]
        return node.args[position] if len(node.args) > position else default

    def do_add(self, node: Any) -> None:
        self.arithmetic(node, "add")

    def do_iadd(self, node: Any) -> None:
        self.arithmetic(node, "add")

    def do_sub(self, node: Any) -> None:
        self.arithmetic(node, "subtract")

    def do_mul(self, node: Any) -> None:
        self.arithmetic(node, "multiply")

    def do_imul(self, node: Any) -> None:
        self.arithmetic(node, "multiply")

    def do_truediv(self, node: Any) -> None:
        self.arithmetic(node, "divide")

    def do_div(self, node: Any) -> None:
        self.arithmetic(node, "divide")

    def arithmetic(self, node: Any, how: str) -> None:
        operands = list(node.args[:2])
        sources = [a for a in operands if hasattr(a, "op") and a in self.data]
        if len(sources) == 2 and how != "divide":
            self.merge(how, sources, node)
            return
        if len(sources) != 1:
            self.fail(node, "convcalc has no layer dividing two computed tensors")
        source = sources[0]
        other = next(a for a in operands if a is not source)
        if isinstance(other, (int, float)):
            value = float(other)
            if how == "multiply":
                params: dict[str, Any] = {"scale": value}
            elif how == "divide" and operands[0] is source:
                params = {"scale": 1 / value if value else 1.0}
            elif how == "add":
                params = {"scale": 1, "offset": value}
            elif how == "subtract":
                params = (
                    {"scale": 1, "offset": -value}
                    if operands[0] is source
                    else {"scale": -1, "offset": value}
                )
            else:
                self.fail(node, "convcalc has no layer dividing a number by a tensor")
            self.emit("rescaling", params, node, source)
            return
        if hasattr(other, "op") and other.op == "get_attr":
            self.learned(node, how, source, other)
            return
        self.fail(node, "it combines a computed tensor with something convcalc cannot read")

    def learned(self, node: Any, how: str, source: Any, other: Any) -> None:
        """A tensor and a learned one: a per-channel scale, or ViT's position embedding."""
        value = self.traced.get_parameter(other.target) if self._is_param(other) else None
        if value is None:
            self.fail(node, f"it takes {show(other.target)}, which is not a learned parameter")
        shape = self.shape(source)
        size = tuple(value.shape)
        aligned = (1,) * (len(shape) - len(size)) + size
        if (
            how == "multiply"
            and len(shape) >= 2
            and aligned[1] == shape[1]
            and (math.prod(aligned) == shape[1])
        ):
            self.emit("layer_scale", {"projection_dim": shape[1]}, node, source)
            return
        if how == "add" and len(shape) == 3 and aligned[1:] == shape[1:] and aligned[0] == 1:
            params = {"sequence_length": shape[1], "embed_dim": shape[2]}
            self.emit("position_embedding", params, node, source)
            return
        self.fail(node, f"it combines {list(shape)} with a learned {list(size)}")

    def _is_param(self, node: Any) -> bool:
        try:
            self.traced.get_parameter(node.target)
        except AttributeError:
            return False
        return True

    def do_cat(self, node: Any) -> None:
        tensors = list(self.argument(node, 0, "tensors", []))
        if len(tensors) == 1 and tensors[0] in self.data:
            self.alias(node, tensors[0])  # DenseNet's first layer: torch.cat([x], 1)
            return
        dim = self.argument(node, 1, "dim", 0)
        rank = len(self.shape(node))
        if any(not (hasattr(t, "op") and t in self.data) for t in tensors):
            self.class_token(node, tensors, dim % rank)
            return
        if dim % rank != 1:
            self.fail(node, f"it joins the axis {dim}; convcalc's concat joins the channels")
        self.merge("concat", tensors, node)

    def class_token(self, node: Any, tensors: list[Any], dim: int) -> None:
        data = [t for t in tensors if hasattr(t, "op") and t in self.data]
        shape = self.shape(node)
        if len(tensors) != 2 or len(data) != 1 or tensors[1] is not data[0] or dim != 1:
            self.fail(node, "it joins a computed tensor with a constant convcalc cannot read")
        count = shape[1] - self.shape(data[0])[1]
        self.emit("class_token", {"count": count, "embed_dim": shape[2]}, node, data[0])

    def do_getitem(self, node: Any) -> None:
        source, index = node.args[0], node.args[1]
        shape = self.shape(source)
        if (
            isinstance(index, tuple)
            and len(index) == 2
            and index[0] == slice(None)
            and isinstance(index[1], int)
            and len(shape) == 3
        ):
            self.emit("take_token", {"index": index[1]}, node, source)
            return
        self.fail(node, f"convcalc reads x[:, i] of tokens here, not {show(index)}")

    def do_flatten(self, node: Any) -> None:
        self.reshaped(node, self.single(node))

    def do_view(self, node: Any) -> None:
        self.reshaped(node, self.single(node))

    def do_reshape(self, node: Any) -> None:
        self.reshaped(node, self.single(node))

    def do_squeeze(self, node: Any) -> None:
        self.reshaped(node, self.single(node))

    def do_unsqueeze(self, node: Any) -> None:
        self.reshaped(node, self.single(node))

    def reshaped(self, node: Any, source: Any) -> None:
        before, after = self.shape(source), self.shape(node)
        if self.shuffle(node, source, before, after):
            return
        if before == after:
            self.alias(node, source)
            return
        if len(after) < 2 or after[0] != before[0]:
            self.fail(node, f"it reshapes {list(before)} into {list(after)}, moving the batch")
        if len(after) == 2 and len(before) > 2:
            self.emit("flatten", {}, node, source)
        else:
            self.emit("reshape", {"shape": list(after[1:])}, node, source)

    def shuffle(
        self, node: Any, source: Any, before: tuple[int, ...], after: tuple[int, ...]
    ) -> bool:
        """view (N, g, C/g, ...), transpose(1, 2), view (N, C, ...): torchvision's
        channel_shuffle, one ``channel_shuffle`` of ``g`` groups."""
        if len(after) != len(before) + 1 or len(before) < 3 or after[0] != before[0]:
            return False
        if after[1] * after[2] != before[1] or after[3:] != before[2:]:
            return False
        chain = [node]
        while len(chain) < 5 and len(self.users[chain[-1]]) == 1:
            chain.append(self.users[chain[-1]][0])
            name = str(getattr(chain[-1].target, "__name__", chain[-1].target)).lstrip("_")
            if name in ("view", "reshape", "flatten"):
                break
        if len(chain) < 3 or chain[-1] not in self.data or self.shape(chain[-1]) != before:
            return False
        middle = [str(getattr(n.target, "__name__", n.target)) for n in chain[1:-1]]
        swap = chain[1]
        if middle[0] not in ("transpose", "permute") or any(
            m not in ("contiguous", "clone") for m in middle[1:]
        ):
            return False
        args = [a for a in swap.args[1:] if isinstance(a, int)]
        if middle[0] == "transpose" and sorted(a % len(after) for a in args) != [1, 2]:
            return False
        if middle[0] == "permute" and args != [0, 2, 1, *range(3, len(after))]:
            return False
        self.done.update(chain)
        self.emit("channel_shuffle", {"groups": after[1]}, node, source)
        for each in chain:
            self.names[each] = self.names[node]
        return True

    def do_permute(self, node: Any) -> None:
        source = self.single(node)
        dims = [d for d in node.args[1:] if isinstance(d, int)]
        if len(node.args) == 2 and isinstance(node.args[1], (list, tuple)):
            dims = list(node.args[1])
        if "dims" in node.kwargs:
            dims = list(node.kwargs["dims"])
        self.permuted(node, source, dims)

    def permuted(self, node: Any, source: Any, dims: list[int]) -> None:
        rank = len(self.shape(source))
        dims = [d % rank for d in dims]
        if dims == list(range(rank)):
            self.alias(node, source)
            return
        if dims[0] != 0:
            self.fail(node, f"its order {dims} moves the batch axis")
        self.emit("permute", {"torch_dims": dims}, node, source)

    def do_transpose(self, node: Any) -> None:
        source = self.single(node)
        rank = len(self.shape(source))
        a = self.argument(node, 1, "dim0") % rank
        b = self.argument(node, 2, "dim1") % rank
        dims = list(range(rank))
        dims[a], dims[b] = dims[b], dims[a]
        self.permuted(node, source, dims)

    def do_mean(self, node: Any) -> None:
        source = self.single(node)
        rank = len(self.shape(source))
        dims = self.argument(node, 1, "dim")
        dims = [dims] if isinstance(dims, int) else list(dims or [])
        keep = bool(self.argument(node, 2, "keepdim", False))
        if sorted(d % rank for d in dims) != list(range(2, rank)):
            self.fail(node, "convcalc reads a mean over every spatial axis (a global pool)")
        self.emit(f"global_avgpool{rank - 2}d", {"keepdims": keep}, node, source)

    def do_adaptive_avg_pool2d(self, node: Any) -> None:
        self.adaptive(node, "adaptive_avgpool2d")

    def do_adaptive_avg_pool1d(self, node: Any) -> None:
        self.adaptive(node, "adaptive_avgpool1d")

    def do_adaptive_max_pool2d(self, node: Any) -> None:
        self.adaptive(node, "adaptive_maxpool2d")

    def adaptive(self, node: Any, kind: str) -> None:
        source = self.single(node)
        size = _plain(self.torch, self.argument(node, 1, "output_size"))
        self.emit(kind, {"output_size": size}, node, source)

    def do_max_pool2d(self, node: Any) -> None:
        self.pool(node, "maxpool2d")

    def do_avg_pool2d(self, node: Any) -> None:
        self.pool(node, "avgpool2d")

    def pool(self, node: Any, kind: str) -> None:
        source = self.single(node)
        kernel = _plain(self.torch, self.argument(node, 1, "kernel_size"))
        stride = _plain(self.torch, self.argument(node, 2, "stride")) or kernel
        params = {
            "kernel": kernel,
            "stride": stride,
            "padding": _plain(self.torch, self.argument(node, 3, "padding", 0)),
            "ceil_mode": bool(node.kwargs.get("ceil_mode", False)) or None,
        }
        if kind == "maxpool2d":
            params["dilation"] = _plain(self.torch, self.argument(node, 4, "dilation", 1))
            params["ceil_mode"] = bool(self.argument(node, 5, "ceil_mode", False)) or None
        else:
            params["ceil_mode"] = bool(self.argument(node, 4, "ceil_mode", False)) or None
        self.emit(kind, params, node, source)

    def do_interpolate(self, node: Any) -> None:
        source = self.single(node)
        before, after = self.shape(source), self.shape(node)
        factors = [a // b for a, b in zip(after[2:], before[2:], strict=True)]
        if all(f * b == a for f, a, b in zip(factors, after[2:], before[2:], strict=True)):
            params: dict[str, Any] = {"scale_factor": factors}
        else:
            params = {"size": list(after[2:])}
        params["mode"] = self.argument(node, 3, "mode", "nearest")
        self.emit("upsample", params, node, source)

    def do_pad(self, node: Any) -> None:
        source = self.single(node)
        pads = [int(p) for p in self.argument(node, 1, "pad")]
        rank = len(self.shape(source)) - 2
        if len(pads) > 2 * rank:
            self.fail(node, "it pads the batch or channel axis")
        pads += [0] * (2 * rank - len(pads))
        pairs = _torch_pads(pads)
        if any(p < 0 for pair in pairs for p in pair):
            self.emit(
                f"cropping{rank}d", {"cropping": [[-p for p in q] for q in pairs]}, node, source
            )
        else:
            self.emit(f"zeropadding{rank}d", {"padding": pairs}, node, source)

    def do_layer_norm(self, node: Any) -> None:
        source = self.single(node)
        shape = self.argument(node, 1, "normalized_shape")
        weight = self.argument(node, 2, "weight")
        bias = self.argument(node, 3, "bias")
        axes = len(shape) if isinstance(shape, (list, tuple)) else 1
        self.emit(
            "layernorm",
            {"axes": axes, "affine": weight is not None, "bias": bias is not None},
            node,
            source,
        )

    def do_stochastic_depth(self, node: Any) -> None:
        source = self.single(node)
        self.emit("drop_path", {"rate": self.argument(node, 1, "p", 0.0)}, node, source)

    def do_chunk(self, node: Any) -> None:
        self.split(node)

    def do_split(self, node: Any) -> None:
        self.split(node)

    def split(self, node: Any) -> None:
        """``x.chunk(n, 1)`` or ``x.split(sizes, 1)`` whose parts go their own ways and meet
        again in one ``torch.cat`` of the channels: convcalc's ``split`` construct."""
        source = self.single(node)
        rank = len(self.shape(source))
        dim = self.argument(node, 2, "dim", 0)
        problem = (
            "convcalc reads a split of the channels (dim 1) whose parts go their own ways and "
            "meet again in one torch.cat of the channels, in order"
        )
        metas = node.meta.get("tensor_meta")
        if not isinstance(dim, int) or dim % rank != 1 or not isinstance(metas, (tuple, list)):
            self.fail(node, problem)
        sizes = [int(m.shape[1]) for m in metas]
        parts: list[list[Any]] = [[] for _ in sizes]
        for user in self.users[node]:
            if user.target is not operator.getitem or not isinstance(user.args[1], int):
                self.fail(node, problem)
            parts[user.args[1] % len(sizes)].append(user)
        masks = {user: 1 << i for i, users in enumerate(parts) for user in users}
        full = (1 << len(sizes)) - 1
        paths: list[list[Any]] = [[] for _ in sizes]
        join = None
        for later in self.nodes[self.nodes.index(node) + 1 :]:
            if later in masks:
                continue
            mask = 0
            for arg in later.all_input_nodes:
                mask |= masks.get(arg, 0)
            if not mask:
                continue
            if mask == full:
                join = later
                break
            if mask & (mask - 1):
                self.fail(node, problem)
            paths[mask.bit_length() - 1].append(later)
            masks[later] = mask
        tensors = list(self.argument(join, 0, "tensors", [])) if join is not None else []
        if (
            join is None
            or getattr(join.target, "__name__", "") != "cat"
            or ([masks.get(t) for t in tensors] != [1 << i for i in range(len(sizes))])
        ):
            self.fail(node, problem)
        for each, mask in masks.items():
            if any(u is not join and masks.get(u) != mask for u in self.users[each]):
                self.fail(node, problem)
        name = self.name_for(join)
        own = f"{name}_part"
        outer = (self.layers, self.previous)
        translated = []
        for users, path in zip(parts, paths, strict=True):
            for user in users:
                self.names[user] = own
                self.done.add(user)
            self.layers, self.previous = [], own
            for member in path:
                self.visit(member)
            for layer in self.layers:
                written = next(iter(layer.values()))
                taken = written.get("inputs") if isinstance(written, dict) else None
                if own == taken or (isinstance(taken, list) and own in taken):
                    self.fail(join, "a part of its split is taken again later in its path")
            translated.append(self.layers)
        self.layers, self.previous = outer
        self.done.add(join)
        body: dict[str, Any] = {"sections": sizes, "merge": "concat", "paths": translated}
        body["name"] = name
        reference = self.ref(source, node)
        if reference != self.previous:
            body["inputs"] = reference
        self.layers.append({"split": body})
        self.previous = name
        self.names[join] = name

    def do_size(self, node: Any) -> None:  # a number, never a tensor: not reached
        self.alias(node, self.single(node))


def _plain(torch: Any, value: Any) -> Any:
    """An attribute as the model language writes it: tuples as lists, sizes as numbers."""
    if isinstance(value, torch.Size):
        return [int(v) for v in value]
    if isinstance(value, (tuple, list)):
        return [_plain(torch, v) for v in value]
    return value


def _torch_pads(pads: list[int]) -> list[list[int]]:
    """PyTorch's flat pads, from the last axis (left, right, top, bottom), as [before, after]
    per axis from the first."""
    pairs = [[pads[i], pads[i + 1]] for i in range(0, len(pads), 2)]
    return list(reversed(pairs))


class _Named(NamedTuple):
    """A name for a row that no fx node has (a part of a module read as several rows)."""

    name: str
