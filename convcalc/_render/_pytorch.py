"""PyTorch code for an export plan: a runnable module defining the network as an ``nn.Module``.

Its ``__init__`` makes one submodule per layer row, named after the row (``ROW_NAMES`` maps
each attribute back to the row's own name); its ``forward`` follows the data flow, merges
written as ``+``, ``*``, ``torch.cat``, ..., a ``split`` as ``torch.split``. Kinds PyTorch has
no module for (layer scale, stochastic depth, class tokens, window attention, ...) get a small
class of their own at the top of the file, only those the model uses. Names are data: they
appear in the code only inside string literals written by ``ascii()``, never in a comment or
an identifier as given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .. import __version__
from .._export import (
    ExportError,
    ExportPlan,
    LayerStep,
    MergeStep,
    SplitStep,
    class_name,
    flat_pairs,
    identifier,
    literal,
    variables,
)
from .._kind import SPELLED
from .._kinds_windows import swin_version
from .._settings import Layout, Merge, assert_never

RESERVED = frozenset(
    """T_destination add_module apply bfloat16 buffers call_super_init children compile cpu cuda
    double dump_patches eval extra_repr float forward get_buffer get_extra_state get_parameter
    get_submodule half ipu load_state_dict modules mtia named_buffers named_children
    named_modules named_parameters parameters register_backward_hook register_buffer
    register_forward_hook register_forward_pre_hook register_full_backward_hook
    register_full_backward_pre_hook register_load_state_dict_post_hook
    register_load_state_dict_pre_hook register_module register_parameter
    register_state_dict_post_hook register_state_dict_pre_hook requires_grad_ set_extra_state
    set_submodule share_memory state_dict to to_empty train training type xpu zero_grad
    ROW_NAMES INPUT_SHAPE""".split()
)
"""Names an ``nn.Module`` already has (torch 2.13), and the class's own constants: a row
named ``forward`` or ``training`` gets another attribute (``forward_``)."""


def _axes(value: object) -> str:
    """A per-axis value as PyTorch takes it: one number when every axis agrees."""
    assert isinstance(value, tuple)
    if len(set(value)) == 1:
        return literal(value[0])
    return literal(value)


def _symmetric(step: LayerStep, pairs: object, what: str = "padding") -> str:
    """Zeros per side, the same at both ends of each axis, as a conv or pool takes them."""
    assert isinstance(pairs, tuple)
    if any(before != after for before, after in pairs):
        raise ExportError(
            f"{step.where}: {what} {literal(pairs)} differs between the ends of an axis; "
            "pytorch's layers pad both ends alike: put a zeropadding layer before it"
        )
    return _axes(tuple(before for before, _ in pairs))


ACTIVATIONS = {
    "relu": "nn.ReLU()",
    "relu6": "nn.ReLU6()",
    "selu": "nn.SELU()",
    "silu": "nn.SiLU()",
    "mish": "nn.Mish()",
    "sigmoid": "nn.Sigmoid()",
    "hard_sigmoid": "nn.Hardsigmoid()",
    "hard_silu": "nn.Hardswish()",
    "tanh": "nn.Tanh()",
    "softsign": "nn.Softsign()",
    "tanh_shrink": "nn.Tanhshrink()",
    "log_sigmoid": "nn.LogSigmoid()",
    "linear": "nn.Identity()",
    "leaky_relu": "nn.LeakyReLU({negative_slope})",
    "elu": "nn.ELU({alpha})",
    "celu": "nn.CELU({alpha})",
    "gelu": "nn.GELU({approximate})",
    "hard_tanh": "nn.Hardtanh({min_val}, {max_val})",
    "softmax": "nn.Softmax(dim={axis})",
    "log_softmax": "nn.LogSoftmax(dim={axis})",
    "softplus": "nn.Softplus({beta}, {threshold})",
    "hard_shrink": "nn.Hardshrink({lambd})",
    "soft_shrink": "nn.Softshrink({lambd})",
}
"""Each activation as a PyTorch module; the settings a value of None leaves at its default."""

_DEFAULTS: dict[str, object] = {
    "negative_slope": 0.01,
    "alpha": 1.0,
    "approximate": "none",
    "min_val": -1.0,
    "max_val": 1.0,
    "axis": -1,
    "beta": 1.0,
    "threshold": 20.0,
    "lambd": 0.5,
}
"""PyTorch's defaults (``threshold`` is Softplus')."""

_ELEMENTWISE = ("exponential", "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus")
"""Functions PyTorch has no module for: the ``Elementwise`` helper computes them."""


def _activation(function: str, settings: Mapping[str, object], needs: set[str]) -> str:
    """The module of an element-wise function, with its settings."""
    keras_relu = function == "relu" and any(
        settings.get(name) is not None for name in ("max_value", "negative_slope", "threshold")
    )
    if function in _ELEMENTWISE or keras_relu:
        needs.add("Elementwise")
        given = {k: v for k, v in settings.items() if v is not None and k != "inplace"}
        extra = "".join(f", {key}={literal(value)}" for key, value in given.items())
        return f"Elementwise({literal(function)}{extra})"
    template = ACTIVATIONS[function]
    values = {
        name: literal(settings.get(name) if settings.get(name) is not None else default)
        for name, default in _DEFAULTS.items()
    }
    if function == "gelu":
        values["approximate"] = f"approximate={values['approximate']}"
    return template.format(**values)


def _with_activation(module: str, step: LayerStep, needs: set[str]) -> str:
    """A layer followed by its ``activation``, if it has one."""
    function = step.values.get("activation")
    if function is None or function == "linear":
        return module
    return f"nn.Sequential({module}, {_activation(str(function), {}, needs)})"


def _keywords(pairs: Sequence[tuple[str, str, str]]) -> str:
    """``, name=value`` for each value that is not its default."""
    return "".join(f", {name}={text}" for name, text, default in pairs if text != default)


def _padding(step: LayerStep) -> str:
    padding = step.values["padding"]
    if padding == "valid":
        return "0"
    if padding == "same":
        return "'same'"
    if padding == "causal":
        raise ExportError(
            f"{step.where}: padding causal is keras'; pytorch pads both ends: export to keras"
        )
    return _symmetric(step, padding)


def _conv(step: LayerStep, rank: int, channels: int) -> str:
    v = step.values
    extra = _keywords(
        [
            ("stride", _axes(v["stride"]), "1"),
            ("padding", _padding(step), "0"),
            ("dilation", _axes(v["dilation"]), "1"),
            ("groups", literal(v["groups"]), "1"),
            ("bias", literal(v["bias"]), "True"),
            ("padding_mode", literal(v["padding_mode"]), "'zeros'"),
        ]
    )
    return f"nn.Conv{rank}d({channels}, {v['filters']}, {_axes(v['kernel'])}{extra})"


def _depthwise(step: LayerStep, rank: int, channels: int, bias: bool, outputs: int) -> str:
    v = step.values
    extra = _keywords(
        [
            ("stride", _axes(v["stride"]), "1"),
            ("padding", _padding(step), "0"),
            ("dilation", _axes(v["dilation"]), "1"),
            ("groups", literal(channels), "1"),
            ("bias", literal(bias), "True"),
        ]
    )
    return f"nn.Conv{rank}d({channels}, {outputs}, {_axes(v['kernel'])}{extra})"


def _transpose(step: LayerStep, rank: int, channels: int) -> str:
    v = step.values
    if v["padding"] == "same":
        raise ExportError(
            f"{step.where}: pytorch's ConvTranspose takes padding as zeros, not same; give "
            "padding and output_padding as numbers"
        )
    padding = "0" if v["padding"] == "valid" else _symmetric(step, v["padding"])
    output_padding = v["output_padding"]
    extra = _keywords(
        [
            ("stride", _axes(v["stride"]), "1"),
            ("padding", padding, "0"),
            ("output_padding", "0" if output_padding is None else _axes(output_padding), "0"),
            ("groups", literal(v["groups"]), "1"),
            ("bias", literal(v["bias"]), "True"),
            ("dilation", _axes(v["dilation"]), "1"),
        ]
    )
    return f"nn.ConvTranspose{rank}d({channels}, {v['filters']}, {_axes(v['kernel'])}{extra})"


def _pool(step: LayerStep, rank: int, kind: str) -> str:
    v = step.values
    if v["padding"] == "same":
        raise ExportError(f"{step.where}: padding same for pools is keras'; export to keras")
    padding = "0" if v["padding"] == "valid" else _symmetric(step, v["padding"])
    pairs = [
        ("stride", _axes(v["stride"]), _axes(v["size"])),
        ("padding", padding, "0"),
    ]
    if kind == "max":
        pairs.append(("dilation", _axes(v["dilation"]), "1"))
    pairs.append(("ceil_mode", literal(v["ceil_mode"]), "False"))
    name = "MaxPool" if kind == "max" else "AvgPool"
    return f"nn.{name}{rank}d({_axes(v['size'])}{_keywords(pairs)})"


_MODES = {"nearest": "nearest", "nearest_exact": "nearest-exact", "area": "area"}


def _mode(interpolation: object, rank: int) -> str:
    """An interpolation as PyTorch's Upsample names it for ``rank`` spatial axes (a mode it
    has not, such as lanczos3, is nearest: no count depends on it)."""
    if interpolation in ("linear", "bilinear", "trilinear"):
        return ("linear", "bilinear", "trilinear")[rank - 1]
    if interpolation == "bicubic" and rank == 2:
        return "bicubic"
    return _MODES.get(str(interpolation), "nearest")


def _floats(value: object) -> str:
    assert isinstance(value, tuple)
    if len(set(value)) == 1:
        return literal(float(value[0]))
    return literal(tuple(float(item) for item in value))


def _batchnorm(step: LayerStep, channels: int) -> str:
    v = step.values
    rank = {1: 1, 2: 1, 3: 2, 4: 3}[len(step.input_shape)]
    extra = _keywords(
        [
            ("affine", literal(v["affine"]), "True"),
            ("track_running_stats", literal(v["track_running_stats"]), "True"),
        ]
    )
    return f"nn.BatchNorm{rank}d({channels}{extra})"


def _layernorm(step: LayerStep) -> str:
    v = step.values
    given = v.get("normalized_shape")
    axes = len(given) if isinstance(given, tuple) else v["axes"]
    assert isinstance(axes, int)
    shape = step.input_shape[-axes:]
    extra = _keywords(
        [
            ("elementwise_affine", literal(v["affine"]), "True"),
            ("bias", literal(v["bias"]), "True"),
        ]
    )
    return f"nn.LayerNorm({literal(shape)}{extra})"


def _permute_order(step: LayerStep) -> tuple[int, ...]:
    v = step.values
    axes = len(step.input_shape) + 1
    torch_dims = v.get("torch_dims")
    if isinstance(torch_dims, tuple):
        return tuple(axis % axes for axis in torch_dims)
    dims = v["dims"]
    assert isinstance(dims, tuple)
    return (0, *dims)


def _layer_scale_shape(step: LayerStep) -> tuple[int, ...]:
    """The scale's shape: under pytorch's rules the channels (axis 0, channels first) hold
    the scales, the other axes broadcast."""
    shape = step.input_shape
    wanted = step.values.get("projection_dim")
    size = wanted if isinstance(wanted, int) else shape[0]
    return (size, *(1 for _ in shape[1:]))


def _int(step: LayerStep, name: str) -> int:
    value = step.values[name]
    assert isinstance(value, int)
    return value


def module(step: LayerStep, needs: set[str]) -> str:
    """The PyTorch module of one layer row, as source; the helper classes it uses are added
    to ``needs``."""
    kind = step.kind.name
    v = step.values
    shape = step.input_shape
    channels = shape[0]
    rank = step.kind.rank or max(len(shape) - 1, 0)
    if kind.startswith("conv") and kind.endswith("_transpose"):
        return _with_activation(_transpose(step, rank, channels), step, needs)
    if kind.startswith("conv"):
        return _with_activation(_conv(step, rank, channels), step, needs)
    if kind.startswith(("maxpool", "avgpool")):
        return _pool(step, rank, kind[:3])
    if kind.startswith("depthwise_conv"):
        outputs = channels * _int(step, "depth_multiplier")
        made = _depthwise(step, rank, channels, bool(v["bias"]), outputs)
        return _with_activation(made, step, needs)
    if kind.startswith("separable_conv"):
        inner = channels * _int(step, "depth_multiplier")
        depthwise = _depthwise(step, rank, channels, False, inner)
        bias = "" if v["bias"] else ", bias=False"
        pointwise = f"nn.Conv{rank}d({inner}, {v['filters']}, 1{bias})"
        made = f"nn.Sequential({depthwise}, {pointwise})"
        return _with_activation(made, step, needs)
    if kind.startswith(("global_maxpool", "global_avgpool")):
        pool = f"nn.Adaptive{'Max' if 'max' in kind else 'Avg'}Pool{rank}d(1)"
        return pool if v["keepdims"] else f"nn.Sequential({pool}, nn.Flatten())"
    if kind.startswith(("adaptive_maxpool", "adaptive_avgpool")):
        which = "Max" if "max" in kind else "Avg"
        return f"nn.Adaptive{which}Pool{rank}d({_axes(v['output_size'])})"
    if kind.startswith("zeropadding"):
        pairs = v["padding"]
        assert isinstance(pairs, tuple)
        return f"nn.ZeroPad{rank}d({literal(flat_pairs(pairs))})"
    if kind.startswith("cropping"):
        pairs = v["cropping"]
        assert isinstance(pairs, tuple)
        return f"nn.ZeroPad{rank}d({literal(flat_pairs(pairs, -1))})  # negative: crops"
    if kind.startswith("upsampling"):
        mode = _mode(v["interpolation"], rank)
        return f"nn.Upsample(scale_factor={_floats(v['size'])}, mode={literal(mode)})"
    if kind == "upsample":
        mode = _mode(v["mode"], rank)
        size, factor = v["size"], v["scale_factor"]
        pairs = [
            ("size", "None" if size is None else _axes(size), "None"),
            ("scale_factor", "None" if factor is None else _floats(factor), "None"),
            ("mode", literal(mode), "'nearest'"),
            ("align_corners", literal(v["align_corners"]), "None"),
        ]
        return f"nn.Upsample({_keywords(pairs)[2:]})"
    if kind == "reshape":
        needs.add("Reshape")
        return f"Reshape({literal(v['shape'])})"
    if kind == "layernorm":
        return _layernorm(step)
    if kind == "groupnorm":
        extra = "" if v["affine"] else ", affine=False"
        return f"nn.GroupNorm({v['groups']}, {channels}{extra})"
    if kind == "permute":
        needs.add("Permute")
        return f"Permute({literal(_permute_order(step))})"
    if kind == "layernorm2d":
        needs.add("LayerNorm2d")
        extra = _keywords(
            [
                ("elementwise_affine", literal(v["affine"]), "True"),
                ("bias", literal(v["bias"]), "True"),
            ]
        )
        return f"LayerNorm2d({channels}, eps=1e-6{extra})"
    if kind == "layer_scale":
        needs.add("LayerScale")
        return f"LayerScale({literal(_layer_scale_shape(step))})"
    if kind == "drop_path":
        needs.add("StochasticDepth")
        return f"StochasticDepth({literal(v['rate'])}, {literal(v['mode'])})"
    if kind == "channel_shuffle":
        needs.add("ChannelShuffle")
        return f"ChannelShuffle({v['groups']})"
    if kind == "rescaling":
        needs.add("Rescaling")
        return f"Rescaling({literal(v['scale'])}, {literal(v['offset'])})"
    if kind == "normalization":
        needs.add("Normalization")
        return f"Normalization({literal(v['mean'])}, {literal(v['variance'])})"
    if kind == "multihead_attention":
        needs.add("SelfAttention")
        extra = _keywords(
            [
                ("bias", literal(v["bias"]), "True"),
                ("add_bias_kv", literal(v["add_bias_kv"]), "False"),
                ("add_zero_attn", literal(v["add_zero_attn"]), "False"),
                ("need_weights", literal(v["need_weights"]), "True"),
            ]
        )
        return f"SelfAttention({shape[-1]}, {v['num_heads']}{extra})"
    if kind == "patch_embedding":
        needs.add("PatchEmbedding")
        extra = "" if v["bias"] else ", bias=False"
        patch = _axes(v["patch_size"])
        return f"PatchEmbedding({channels}, {v['embed_dim']}, {patch}{extra})"
    if kind == "to_tokens":
        needs.add("ToTokens")
        return "ToTokens()"
    if kind == "class_token":
        needs.add("ClassToken")
        return f"ClassToken({v['count']}, {shape[-1]})"
    if kind == "position_embedding":
        needs.add("PositionEmbedding")
        return f"PositionEmbedding({shape[0]}, {shape[-1]})"
    if kind == "take_token":
        needs.add("TakeToken")
        return f"TakeToken({v['index']})"
    if kind == "embedding":
        needs.add("Embedding")
        extra = "" if v["padding_idx"] is None else f", padding_idx={v['padding_idx']}"
        return f"Embedding({v['input_dim']}, {v['output_dim']}{extra})"
    if kind == "window_attention":
        needs.add("WindowAttention")
        version = swin_version(v)
        extra = _keywords(
            [
                ("shift", _axes(v["shift"]), "0"),
                ("version", literal(version), "1"),
                ("partition", literal(v["partition"]), "'window'"),
                ("pad", literal(v["pad"]), "True"),
                ("qkv_bias", literal(v["qkv_bias"]), "True"),
                ("proj_bias", literal(v["proj_bias"]), "True"),
            ]
        )
        return f"WindowAttention({shape[-1]}, {v['num_heads']}, {_axes(v['window'])}{extra})"
    if kind == "patch_merging":
        needs.add("PatchMerging")
        version = swin_version(v)
        return f"PatchMerging({shape[-1]}, version={version})"
    if kind == "dense":
        extra = "" if v["bias"] else ", bias=False"
        return _with_activation(f"nn.Linear({shape[-1]}, {v['units']}{extra})", step, needs)
    if kind == "flatten":
        return "nn.Flatten()"
    if kind == "dropout":
        spelled = v.get(SPELLED)
        cls = spelled if spelled in ("Dropout1d", "Dropout2d", "Dropout3d") else "Dropout"
        return f"nn.{cls}({literal(v['rate'])})"
    if kind == "activation":
        return _activation(str(v["function"]), {}, needs)
    if kind == "batchnorm":
        return _batchnorm(step, channels)
    if kind in ACTIVATIONS or kind in _ELEMENTWISE:
        return _activation(kind, v, needs)
    raise ExportError(
        f"{step.where}: convcalc cannot write {kind} as pytorch code yet; export to keras, or "
        "write that layer by hand"
    )


def _merge(step: MergeStep, names: list[str]) -> str:
    how = step.how
    if how is Merge.ADD:
        return " + ".join(names)
    if how is Merge.SUBTRACT:
        return " - ".join(names)
    if how is Merge.MULTIPLY:
        return " * ".join(names)
    if how is Merge.AVERAGE:
        return f"({' + '.join(names)}) / {len(names)}"
    if how is Merge.MAXIMUM or how is Merge.MINIMUM:
        function = "torch.maximum" if how is Merge.MAXIMUM else "torch.minimum"
        found = names[0]
        for name in names[1:]:
            found = f"{function}({found}, {name})"
        return found
    if how is Merge.CONCAT:
        return f"torch.cat([{', '.join(names)}], dim={step.axis + 1})"
    assert_never(how)


def _shape(shape: tuple[int, ...]) -> str:
    return "(N, " + ", ".join(str(size) for size in shape) + ")"


def render_pytorch(plan: ExportPlan, command: str | None = None) -> str:
    """The plan as a Python module of PyTorch code; raises ExportError for a layer it cannot
    write."""
    if plan.layout is not Layout.CHW:
        raise ExportError(
            "pytorch code is written channels first: export the plan made for pytorch"
        )
    taken: set[str] = set()
    needs: set[str] = set()
    attributes: dict[int, str] = {}
    lines_init: list[str] = []
    names: list[tuple[str, str]] = []
    for layer in plan.layers:
        attribute = identifier(layer.name, taken, RESERVED)
        attributes[layer.output] = attribute
        names.append((attribute, layer.name))
        made = module(layer, needs)
        lines_init.append(f"        self.{attribute} = {made}")
        if layer.frozen:
            lines_init.append(f"        self.{attribute}.requires_grad_(False)")
    local = variables(plan)
    forward: list[str] = []
    for step in plan.steps:
        if isinstance(step, LayerStep):
            call = f"self.{attributes[step.output]}({local[step.source]})"
            line = f"{local[step.output]} = {call}"
            forward.append(f"        {line}  # {_shape(step.output_shape)}")
        elif isinstance(step, MergeStep):
            expression = _merge(step, [local[source] for source in step.sources])
            line = f"{local[step.output]} = {expression}"
            forward.append(f"        {line}  # {ascii(step.name)}: {_shape(step.output_shape)}")
        elif isinstance(step, SplitStep):
            targets = ", ".join(local[number] for number in step.outputs)
            if len(step.outputs) == 1:
                targets += ","
            sizes = literal(list(step.sizes))
            forward.append(
                f"        {targets} = torch.split({local[step.source]}, {sizes}, "
                f"dim={step.axis + 1})"
            )
        else:
            assert_never(step)
    forward.append(f"        return {local[plan.output]}")
    title = class_name(plan.name)
    if title in HELPERS:  # a model named layer_scale is not the LayerScale helper
        title = f"{title}Model"
    text = [_header(plan, command)]
    if "WindowAttention" in needs:
        text += ["import math", ""]
    text.append("import torch")
    if needs & {"WindowAttention", "PatchMerging"}:
        text.append("import torch.nn.functional as F")
    text += ["from torch import nn", "", "", *_helpers(needs)]
    text.append(f"class {title}(nn.Module):")
    text.append(
        '    """The network as convcalc computes it: one submodule per row (ROW_NAMES: '
        'attribute -> the row\'s name), forward in the order of the rows."""'
    )
    text.append("")
    text.append(f"    INPUT_SHAPE = {literal(plan.input_shape)}")
    text.append("    ROW_NAMES = {")
    text += [f"        {ascii(attribute)}: {ascii(name)}," for attribute, name in names]
    text.append("    }")
    text.append("")
    text.append("    def __init__(self) -> None:")
    text.append("        super().__init__()")
    text += lines_init or ["        pass"]
    text.append("")
    text.append("    def forward(self, x: torch.Tensor) -> torch.Tensor:")
    text += forward
    text += [
        "",
        "",
        f"def build() -> {title}:",
        '    """The network, its parameters initialised by PyTorch."""',
        f"    return {title}()",
        "",
        "",
        'if __name__ == "__main__":',
        '    with torch.device("meta"):  # shapes and counts only: nothing is allocated',
        "        model = build()",
        f"        x = torch.zeros(1, *{title}.INPUT_SHAPE{_input_dtype(plan)})",
        "        y = model(x)",
        "    params = sum(p.numel() for p in model.parameters())",
        "    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)",
        '    print(f"params {params:,} (trainable {trainable:,}); output {tuple(y.shape)}")',
        "",
    ]
    return "\n".join(text)


def _input_dtype(plan: ExportPlan) -> str:
    """Indices for a model whose input goes only to embeddings."""
    readers = [step for step in plan.layers if step.source == 0]
    if readers and all(step.kind.name == "embedding" for step in readers):
        return ", dtype=torch.long"
    return ""


def _header(plan: ExportPlan, command: str | None) -> str:
    lines = [
        f"# PyTorch code written by convcalc {__version__}"
        + (f": {ascii(command)[1:-1]}" if command else ""),
        f"# Input {_shape(plan.input_shape)} -> output {_shape(plan.output_shape)}; "
        f"{plan.params:,} parameters ({plan.trainable_params:,} trainable), as convcalc counts "
        "them for pytorch.",
    ]
    for note in plan.notes:
        lines.append(f"# Note: {ascii(note)[1:-1]}")
    lines.append(f"NAME = {ascii(plan.name)}")
    return "\n".join(lines) + "\n"


def _helpers(needs: set[str]) -> list[str]:
    found: list[str] = []
    for name, source in HELPERS.items():
        if name in needs:
            found += [source.strip("\n"), "", ""]
    return found


HELPERS: dict[str, str] = {
    "Reshape": '''
class Reshape(nn.Module):
    """x.reshape(N, *shape): a new shape for the same elements, the batch kept."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.shape = shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], *self.shape)
''',
    "Permute": '''
class Permute(nn.Module):
    """x.permute(*dims), the batch first (torchvision.ops.Permute)."""

    def __init__(self, dims: tuple[int, ...]) -> None:
        super().__init__()
        self.dims = dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(*self.dims)
''',
    "LayerNorm2d": '''
class LayerNorm2d(nn.LayerNorm):
    """Layer norm over the channels at each position (torchvision's ConvNeXt LayerNorm2d)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.movedim(1, -1)).movedim(-1, 1)
''',
    "LayerScale": '''
class LayerScale(nn.Module):
    """A learned multiplier per channel (ConvNeXt's layer scale)."""

    def __init__(self, shape: tuple[int, ...], init: float = 1e-6) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.full(shape, init))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma
''',
    "StochasticDepth": '''
class StochasticDepth(nn.Module):
    """Drops the whole input of random samples while training (torchvision.ops.StochasticDepth)."""

    def __init__(self, p: float, mode: str = "row") -> None:
        super().__init__()
        self.p, self.mode = p, mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        survival = 1.0 - self.p
        size = [x.shape[0]] + [1] * (x.ndim - 1) if self.mode == "row" else [1] * x.ndim
        noise = torch.empty(size, dtype=x.dtype, device=x.device).bernoulli_(survival)
        return x * noise.div_(survival) if survival > 0.0 else x * noise
''',
    "ChannelShuffle": '''
class ChannelShuffle(nn.Module):
    """ShuffleNet's channel shuffle: channel i of group g moves to i * groups + g."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c = x.shape[:2]
        rest = x.shape[2:]
        x = x.reshape(n, self.groups, c // self.groups, *rest).transpose(1, 2)
        return x.reshape(n, c, *rest)
''',
    "Rescaling": '''
class Rescaling(nn.Module):
    """x * scale + offset (Keras' Rescaling; lists apply along the last axis)."""

    def __init__(self, scale: object, offset: object = 0.0) -> None:
        super().__init__()
        self.register_buffer("scale", torch.tensor(scale), persistent=False)
        self.register_buffer("offset", torch.tensor(offset), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale + self.offset
''',
    "Normalization": '''
class Normalization(nn.Module):
    """(x - mean) / sqrt(variance) with constants (Keras' Normalization; PyTorch keeps no
    weights for it: the mean and variance of your data go here, along the last axis)."""

    def __init__(self, mean: object = None, variance: object = None) -> None:
        super().__init__()
        mean = 0.0 if mean is None else mean
        variance = 1.0 if variance is None else variance
        self.register_buffer("mean", torch.tensor(mean), persistent=False)
        self.register_buffer("variance", torch.tensor(variance), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / torch.sqrt(torch.clamp(self.variance, min=1e-7))
''',
    "SelfAttention": '''
class SelfAttention(nn.MultiheadAttention):
    """Multi-head self-attention on tokens (N, L, E): the query, key and value are the input."""

    def __init__(
        self, embed_dim: int, num_heads: int, need_weights: bool = True, **kwargs: object
    ) -> None:
        super().__init__(embed_dim, num_heads, batch_first=True, **kwargs)
        self.need_weights = need_weights

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return super().forward(x, x, x, need_weights=self.need_weights)[0]
''',
    "PatchEmbedding": '''
class PatchEmbedding(nn.Module):
    """A Vision Transformer's patch embedding: a conv with kernel = stride = patch, then the
    positions as tokens (N, patches, E)."""

    def __init__(self, channels: int, embed_dim: int, patch: object, bias: bool = True) -> None:
        super().__init__()
        self.proj = nn.Conv2d(channels, embed_dim, patch, stride=patch, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).flatten(2).transpose(1, 2)
''',
    "ToTokens": '''
class ToTokens(nn.Module):
    """(N, C, *spatial) -> (N, positions, C): each position a token of its channels."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(2).transpose(1, 2)
''',
    "ClassToken": '''
class ClassToken(nn.Module):
    """Learned tokens put before the sequence (N, L, E) -> (N, count + L, E)."""

    def __init__(self, count: int, embed_dim: int) -> None:
        super().__init__()
        self.token = nn.Parameter(torch.zeros(1, count, embed_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.token.expand(x.shape[0], -1, -1), x], dim=1)
''',
    "PositionEmbedding": '''
class PositionEmbedding(nn.Module):
    """A learned vector added at each position of (N, L, E)."""

    def __init__(self, length: int, embed_dim: int) -> None:
        super().__init__()
        self.embedding = nn.Parameter(torch.empty(1, length, embed_dim).normal_(std=0.02))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.embedding
''',
    "TakeToken": '''
class TakeToken(nn.Module):
    """One token of (N, L, E): x[:, index]."""

    def __init__(self, index: int = 0) -> None:
        super().__init__()
        self.index = index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, self.index]
''',
    "Embedding": '''
class Embedding(nn.Embedding):
    """nn.Embedding that reads its input as indices."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.long())
''',
    "Elementwise": '''
class Elementwise(nn.Module):
    """An element-wise function PyTorch has no module for (Keras' definitions)."""

    def __init__(self, function: str, **settings: float) -> None:
        super().__init__()
        self.function, self.settings = function, settings

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f, s = self.function, self.settings
        if f == "relu":  # keras.activations.relu(x, negative_slope, max_value, threshold)
            threshold = s.get("threshold") or 0.0
            y = torch.where(x >= threshold, x, (s.get("negative_slope") or 0.0) * (x - threshold))
            return y if s.get("max_value") is None else torch.clamp(y, max=s["max_value"])
        if f == "exponential":
            return torch.exp(x)
        if f == "sparse_plus":
            middle = torch.where(x >= 1, x, (x + 1) ** 2 / 4)
            return torch.where(x <= -1, torch.zeros_like(x), middle)
        if f == "sparse_sigmoid":
            return torch.clamp((x + 1) / 2, 0.0, 1.0)
        if f == "squareplus":
            return (x + torch.sqrt(x * x + 4.0)) / 2
        if f == "sparsemax":
            z = torch.sort(x, dim=-1, descending=True).values
            k = torch.arange(1, x.shape[-1] + 1, dtype=x.dtype, device=x.device)
            total = z.cumsum(-1)
            support = ((1 + k * z) > total).sum(-1, keepdim=True)
            tau = (total.gather(-1, support - 1) - 1) / support
            return torch.clamp(x - tau, min=0.0)
        raise ValueError(f"unknown function {f}")
''',
    "WindowAttention": '''
class WindowAttention(nn.Module):
    """Multi-head self-attention within windows of a map (N, H, W, C): torchvision Swin's
    ShiftedWindowAttention (version 1) and ShiftedWindowAttentionV2 (version 2) on the map
    padded to a multiple of the window and shifted; MaxViT's block (partition "window") and
    grid (partition "grid") attention, with pad False (its RelativePositionalMultiHeadAttention
    scales the scores by C ** -0.5)."""

    def __init__(
        self,
        dim: int,
        num_heads: int,
        window: object,
        shift: object = 0,
        version: int = 1,
        partition: str = "window",
        pad: bool = True,
        qkv_bias: bool = True,
        proj_bias: bool = True,
    ) -> None:
        super().__init__()
        pair = lambda v: tuple(v) if isinstance(v, (tuple, list)) else (v, v)  # noqa: E731
        self.num_heads, self.window, self.shift = num_heads, pair(window), pair(shift)
        self.version, self.partition, self.pad = version, partition, pad
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim, bias=proj_bias)
        wh, ww = self.window
        if version == 2:
            self.logit_scale = nn.Parameter(torch.log(10 * torch.ones((num_heads, 1, 1))))
            self.cpb_mlp = nn.Sequential(
                nn.Linear(2, 512, bias=True),
                nn.ReLU(inplace=True),
                nn.Linear(512, num_heads, bias=False),
            )
            grid = torch.meshgrid(
                torch.arange(-(wh - 1), wh, dtype=torch.float32),
                torch.arange(-(ww - 1), ww, dtype=torch.float32),
                indexing="ij",
            )
            table = torch.stack(grid).permute(1, 2, 0).contiguous().unsqueeze(0)
            table = table / torch.tensor([max(wh - 1, 1), max(ww - 1, 1)]) * 8
            table = torch.sign(table) * torch.log2(torch.abs(table) + 1.0) / 3.0
            self.register_buffer("relative_coords_table", table, persistent=False)
        else:
            self.relative_position_bias_table = nn.Parameter(
                torch.zeros((2 * wh - 1) * (2 * ww - 1), num_heads)
            )
        coords = torch.stack(torch.meshgrid(torch.arange(wh), torch.arange(ww), indexing="ij"))
        coords = coords.flatten(1)
        relative = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0)
        index = (relative[:, :, 0] + wh - 1) * (2 * ww - 1) + relative[:, :, 1] + ww - 1
        self.register_buffer("relative_position_index", index.flatten(), persistent=False)

    def _bias(self, tokens: int) -> torch.Tensor:
        if self.version == 2:
            table = self.cpb_mlp(self.relative_coords_table).view(-1, self.num_heads)
            bias = table[self.relative_position_index].view(tokens, tokens, -1)
            return 16 * torch.sigmoid(bias.permute(2, 0, 1))
        bias = self.relative_position_bias_table[self.relative_position_index]
        return bias.view(tokens, tokens, -1).permute(2, 0, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, h, w, c = x.shape
        (wh, ww), heads = self.window, self.num_heads
        if self.pad:
            x = F.pad(x, (0, 0, 0, (ww - w % ww) % ww, 0, (wh - h % wh) % wh))
        ph, pw = x.shape[1], x.shape[2]
        shift = (0 if wh >= ph else self.shift[0], 0 if ww >= pw else self.shift[1])
        if any(shift):
            x = torch.roll(x, shifts=(-shift[0], -shift[1]), dims=(1, 2))
        gh, gw, tokens = ph // wh, pw // ww, wh * ww
        if self.partition == "grid":
            x = x.reshape(n, wh, gh, ww, gw, c).permute(0, 2, 4, 1, 3, 5)
        else:
            x = x.reshape(n, gh, wh, gw, ww, c).permute(0, 1, 3, 2, 4, 5)
        x = x.reshape(n * gh * gw, tokens, c)
        bias = self.qkv.bias
        if self.version == 2 and bias is not None:
            bias = torch.cat([bias[:c], torch.zeros_like(bias[c : 2 * c]), bias[2 * c :]])
        qkv = F.linear(x, self.qkv.weight, bias).reshape(x.shape[0], tokens, 3, heads, c // heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        if self.version == 2:
            attn = F.normalize(q, dim=-1) @ F.normalize(k, dim=-1).transpose(-2, -1)
            attn = attn * torch.clamp(self.logit_scale, max=math.log(100.0)).exp()
        else:
            scale = (c // heads if self.pad else c) ** -0.5  # MaxViT scales by its C
            attn = (q * scale) @ k.transpose(-2, -1)
        attn = attn + self._bias(tokens).unsqueeze(0)
        if any(shift):
            mask = x.new_zeros((ph, pw))
            count = 0
            for hs in ((0, -wh), (-wh, -shift[0]), (-shift[0], None)):
                for ws in ((0, -ww), (-ww, -shift[1]), (-shift[1], None)):
                    mask[hs[0] : hs[1], ws[0] : ws[1]] = count
                    count += 1
            mask = mask.view(gh, wh, gw, ww).permute(0, 2, 1, 3).reshape(gh * gw, tokens)
            mask = mask.unsqueeze(1) - mask.unsqueeze(2)
            mask = mask.masked_fill(mask != 0, -100.0).masked_fill(mask == 0, 0.0)
            attn = attn.view(n, gh * gw, heads, tokens, tokens) + mask.unsqueeze(1).unsqueeze(0)
            attn = attn.view(-1, heads, tokens, tokens)
        x = (F.softmax(attn, dim=-1) @ v).transpose(1, 2).reshape(x.shape[0], tokens, c)
        x = self.proj(x).reshape(n, gh, gw, wh, ww, c)
        if self.partition == "grid":
            x = x.permute(0, 3, 1, 4, 2, 5).reshape(n, ph, pw, c)
        else:
            x = x.permute(0, 1, 3, 2, 4, 5).reshape(n, ph, pw, c)
        if any(shift):
            x = torch.roll(x, shifts=shift, dims=(1, 2))
        return x[:, :h, :w, :].contiguous()
''',
    "PatchMerging": '''
class PatchMerging(nn.Module):
    """Swin's downsampling of (N, H, W, C): each 2x2 group of tokens concatenated and reduced
    to 2C (torchvision PatchMerging, version 1; PatchMergingV2, version 2)."""

    def __init__(self, dim: int, version: int = 1) -> None:
        super().__init__()
        self.version = version
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)
        self.norm = nn.LayerNorm(2 * dim if version == 2 else 4 * dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-3], x.shape[-2]
        x = F.pad(x, (0, 0, 0, w % 2, 0, h % 2))
        even, odd = slice(0, None, 2), slice(1, None, 2)
        parts = [x[..., h, w, :] for w in (even, odd) for h in (even, odd)]
        x = torch.cat(parts, -1)
        return self.norm(self.reduction(x)) if self.version == 2 else self.reduction(self.norm(x))
''',
}
"""The helper classes, in the order they are written out; each only when a row needs it."""
