"""Keras code for an export plan: a runnable module whose ``build()`` returns the network as a
Keras Functional model.

Every row is a Keras layer named as the row (``name=``; Keras refuses ``/`` in a name, which
becomes ``_``, and ``ROW_NAMES`` maps each layer's name to the row's), merges included; a
layer Keras writes as two (zeros per side before a ``valid`` conv, as convcalc reads it) gets
a zero-padding layer of its own before it. Kinds Keras has no layer for (layer scale,
stochastic depth, channel shuffle, class tokens, ...) get a small class at the top of the
file, only those the model uses. Names are data: they appear in the code only inside string
literals written by ``ascii()``.
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
    literal,
    variables,
)
from .._settings import Layout, Merge, assert_never
from .._vocab import ACTIVATIONS

Pair = tuple[str, str, str | None]
"""A keyword argument: its name, its value as source, and Keras' default (None: always
written)."""


def _axes(value: object) -> str:
    """A per-axis value as Keras takes it: one number when every axis agrees."""
    assert isinstance(value, tuple)
    if len(set(value)) == 1:
        return literal(value[0])
    return literal(value)


def _pairs(value: object, rank: int) -> str:
    """(before, after) per spatial axis as Keras' zero-padding and cropping take them."""
    assert isinstance(value, tuple)
    return literal(value[0]) if rank == 1 else literal(value)


class _Names:
    """Keras layer names: each row's own (``/`` made ``_``), then unique names for the extra
    layers a row needs."""

    def __init__(self, plan: ExportPlan) -> None:
        self.taken: set[str] = set()
        self.of: dict[str, str] = {}
        rows = [step.name for step in plan.steps if isinstance(step, (LayerStep, MergeStep))]
        for name in rows:
            self.of[name] = self._unique(name.replace("/", "_") or "layer")

    def _unique(self, base: str) -> str:
        found, number = base, 2
        while found in self.taken:
            found = f"{base}_{number}"
            number += 1
        self.taken.add(found)
        return found

    def extra(self, base: str) -> str:
        return self._unique(base.replace("/", "_"))


_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5")


def _interpolation(mode: object) -> str:
    """An interpolation as Keras names it (one it has not is nearest or bilinear: no count
    depends on it)."""
    if mode in _INTERPOLATIONS:
        return str(mode)
    if mode in ("linear", "trilinear"):
        return "bilinear"
    return "nearest"


_ACTIVATION_LAYERS = {
    "relu": ("ReLU", ("max_value", "negative_slope", "threshold")),
    "leaky_relu": ("LeakyReLU", ("negative_slope",)),
    "elu": ("ELU", ("alpha",)),
    "softmax": ("Softmax", ("axis",)),
}
"""Activations Keras has a layer of their own for, with the settings it takes."""

_FUNCTION_SETTINGS = {
    "celu": ("alpha",),
    "gelu": ("approximate",),
    "hard_tanh": ("min_val", "max_val"),
    "log_softmax": ("axis",),
    "softplus": ("beta", "threshold"),
    "hard_shrink": ("lambd",),
    "soft_shrink": ("lambd",),
}
"""Activations whose settings keras' Activation cannot take: the ``Function`` helper does."""


class _Row:
    """What one row becomes: layers before it (zero-padding), its own constructor, and how it
    is called (``{layer}({x})`` unless it takes its input twice, as attention does)."""

    def __init__(self, constructor: str, before: list[str] | None = None, call: str = "") -> None:
        self.constructor = constructor
        self.before = before or []
        self.call = call or "{layer}({x})"


class _Writer:
    def __init__(self, plan: ExportPlan) -> None:
        self.plan = plan
        self.names = _Names(plan)
        self.needs: set[str] = set()
        self.channels_last = plan.layout is Layout.HWC
        self.data_format = literal("channels_last" if self.channels_last else "channels_first")

    # -- pieces --------------------------------------------------------------------------------
    def kwargs(self, step: LayerStep, pairs: Sequence[Pair]) -> str:
        """``, key=value`` for the values that are not Keras' defaults, then the name."""
        parts = [f", {key}={text}" for key, text, default in pairs if text != default]
        parts.append(f", name={ascii(self.names.of[step.name])}")
        return "".join(parts)

    def padded(self, step: LayerStep, rank: int) -> tuple[list[str], str]:
        """Zeros per side as convcalc reads them under Keras: a zero-padding layer, then the
        layer with ``valid``."""
        padding = step.values["padding"]
        if isinstance(padding, str):
            return [], literal(padding)
        name = self.names.extra(f"{step.name}_pad")
        layer = (
            f"layers.ZeroPadding{rank}D({_pairs(padding, rank)}, data_format={self.data_format}, "
            f"name={ascii(name)})"
        )
        return [layer], "'valid'"

    def activation(self, function: str, settings: Mapping[str, object], step: LayerStep) -> _Row:
        given = {k: v for k, v in settings.items() if v is not None and k != "inplace"}
        if function in _ACTIVATION_LAYERS:
            cls, names = _ACTIVATION_LAYERS[function]
            pairs: list[Pair] = [(key, literal(given[key]), None) for key in names if key in given]
            return _Row(f"layers.{cls}({self.kwargs(step, pairs)[2:]})")
        wanted = [key for key in _FUNCTION_SETTINGS.get(function, ()) if key in given]
        if function == "gelu" and given.get("approximate") == "none":
            wanted = []
        if wanted:
            self.needs.add("Function")
            chosen: list[Pair] = [(key, literal(given[key]), None) for key in wanted]
            return _Row(f"Function({literal(function)}{self.kwargs(step, chosen)})")
        return _Row(f"layers.Activation({literal(function)}{self.kwargs(step, [])})")

    # -- one row ---------------------------------------------------------------------------
    def row(self, step: LayerStep) -> _Row:
        kind = step.kind.name
        v = step.values
        shape = step.input_shape
        rank = step.kind.rank or max(len(shape) - 1, 0)
        pairs: list[Pair]
        df: Pair = ("data_format", self.data_format, None)
        activation = v.get("activation")
        act: Pair = ("activation", literal(activation), "None")
        if kind.startswith("conv") and kind.endswith("_transpose"):
            if isinstance(v["padding"], tuple):
                raise ExportError(
                    f"{step.where}: keras' Conv{rank}DTranspose takes padding valid or same, "
                    "not zeros per side; use valid, then cropping"
                )
            output_padding = v["output_padding"]
            pairs = [
                ("strides", _axes(v["stride"]), "1"),
                ("padding", literal(v["padding"]), "'valid'"),
                (
                    "output_padding",
                    "None" if output_padding is None else _axes(output_padding),
                    "None",
                ),
                df,
                ("dilation_rate", _axes(v["dilation"]), "1"),
                act,
                ("use_bias", literal(v["bias"]), "True"),
            ]
            if v["groups"] != 1:
                raise ExportError(f"{step.where}: keras' Conv{rank}DTranspose has no groups")
            return _Row(
                f"layers.Conv{rank}DTranspose({v['filters']}, {_axes(v['kernel'])}"
                f"{self.kwargs(step, pairs)})"
            )
        if kind.startswith("conv"):
            if v["padding_mode"] != "zeros":
                raise ExportError(
                    f"{step.where}: padding_mode {v['padding_mode']} is pytorch's; keras pads "
                    "with zeros"
                )
            before, padding = self.padded(step, rank)
            pairs = [
                ("strides", _axes(v["stride"]), "1"),
                ("padding", padding, "'valid'"),
                df,
                ("dilation_rate", _axes(v["dilation"]), "1"),
                ("groups", literal(v["groups"]), "1"),
                act,
                ("use_bias", literal(v["bias"]), "True"),
            ]
            made = (
                f"layers.Conv{rank}D({v['filters']}, {_axes(v['kernel'])}"
                f"{self.kwargs(step, pairs)})"
            )
            return _Row(made, before)
        if kind.startswith(("maxpool", "avgpool")):
            if v["ceil_mode"] or max(_tuple(v.get("dilation", (1,)))) > 1:
                raise ExportError(
                    f"{step.where}: ceil_mode and dilation are pytorch's; keras pools have "
                    "neither: export to pytorch"
                )
            before, padding = self.padded(step, rank)
            cls = "MaxPooling" if kind.startswith("max") else "AveragePooling"
            pairs = [
                ("strides", _axes(v["stride"]), _axes(v["size"])),
                ("padding", padding, "'valid'"),
                df,
            ]
            return _Row(
                f"layers.{cls}{rank}D({_axes(v['size'])}{self.kwargs(step, pairs)})", before
            )
        if kind.startswith("depthwise_conv"):
            before, padding = self.padded(step, rank)
            pairs = [
                ("strides", _axes(v["stride"]), "1"),
                ("padding", padding, "'valid'"),
                ("depth_multiplier", literal(v["depth_multiplier"]), "1"),
                df,
                ("dilation_rate", _axes(v["dilation"]), "1"),
                act,
                ("use_bias", literal(v["bias"]), "True"),
            ]
            made = f"layers.DepthwiseConv{rank}D({_axes(v['kernel'])}{self.kwargs(step, pairs)})"
            return _Row(made, before)
        if kind.startswith("separable_conv"):
            before, padding = self.padded(step, rank)
            pairs = [
                ("strides", _axes(v["stride"]), "1"),
                ("padding", padding, "'valid'"),
                df,
                ("dilation_rate", _axes(v["dilation"]), "1"),
                ("depth_multiplier", literal(v["depth_multiplier"]), "1"),
                act,
                ("use_bias", literal(v["bias"]), "True"),
            ]
            made = (
                f"layers.SeparableConv{rank}D({v['filters']}, {_axes(v['kernel'])}"
                f"{self.kwargs(step, pairs)})"
            )
            return _Row(made, before)
        if kind.startswith(("global_maxpool", "global_avgpool")):
            cls = "GlobalMaxPooling" if "max" in kind else "GlobalAveragePooling"
            pairs = [df, ("keepdims", literal(v["keepdims"]), "False")]
            return _Row(f"layers.{cls}{rank}D({self.kwargs(step, pairs)[2:]})")
        if kind.startswith(("adaptive_maxpool", "adaptive_avgpool")):
            cls = "AdaptiveMaxPooling" if "max" in kind else "AdaptiveAveragePooling"
            made = f"layers.{cls}{rank}D({_axes(v['output_size'])}{self.kwargs(step, [df])})"
            return _Row(made)
        if kind.startswith("zeropadding"):
            made = (
                f"layers.ZeroPadding{rank}D({_pairs(v['padding'], rank)}{self.kwargs(step, [df])})"
            )
            return _Row(made)
        if kind.startswith("cropping"):
            # Keras' Cropping1D has no data_format: it crops axis 1, as convcalc reads it
            extra = self.kwargs(step, [df] if rank > 1 else [])
            return _Row(f"layers.Cropping{rank}D({_pairs(v['cropping'], rank)}{extra})")
        if kind.startswith("upsampling"):
            return self.upsampling(step, rank, _tuple(v["size"]), v["interpolation"])
        if kind == "upsample":
            return self.upsample(step, rank)
        if kind == "reshape":
            return _Row(f"layers.Reshape({literal(v['shape'])}{self.kwargs(step, [])})")
        if kind == "layernorm":
            given = v.get("normalized_shape")
            axes = len(given) if isinstance(given, tuple) else v["axes"]
            assert isinstance(axes, int)
            axis = "-1" if axes == 1 else literal(list(range(-axes, 0)))
            return self.norm(step, "LayerNormalization", axis, bool(v["affine"]), bool(v["bias"]))
        if kind == "layernorm2d":
            axis = "-1" if self.channels_last or len(shape) == 1 else "1"
            return self.norm(
                step, "LayerNormalization", axis, bool(v["affine"]), bool(v["bias"]), "1e-6"
            )
        if kind == "groupnorm":
            axis = "-1" if self.channels_last or len(shape) == 1 else "1"
            pairs = [
                ("axis", axis, "-1"),
                ("center", literal(v["affine"]), "True"),
                ("scale", literal(v["affine"]), "True"),
            ]
            return _Row(f"layers.GroupNormalization({v['groups']}{self.kwargs(step, pairs)})")
        if kind == "batchnorm":
            axis = "-1" if self.channels_last or len(shape) == 1 else "1"
            affine = bool(v["affine"])
            pairs = [
                ("axis", axis, "-1"),
                ("center", literal(affine and bool(v["center"])), "True"),
                ("scale", literal(affine and bool(v["scale"])), "True"),
            ]
            return _Row(f"layers.BatchNormalization({self.kwargs(step, pairs)[2:]})")
        if kind == "permute":
            return _Row(f"layers.Permute({literal(_keras_order(step))}{self.kwargs(step, [])})")
        if kind == "layer_scale":
            self.needs.add("LayerScale")
            wanted = v.get("projection_dim")
            size = wanted if isinstance(wanted, int) else shape[-1]
            return _Row(f"LayerScale(1e-6, {size}{self.kwargs(step, [])})")
        if kind == "drop_path":
            self.needs.add("StochasticDepth")
            return _Row(f"StochasticDepth({literal(v['rate'])}{self.kwargs(step, [])})")
        if kind == "channel_shuffle":
            self.needs.add("ChannelShuffle")
            made = (
                f"ChannelShuffle({v['groups']}, data_format={self.data_format}"
                f"{self.kwargs(step, [])})"
            )
            return _Row(made)
        if kind == "rescaling":
            offset = v["offset"]
            pairs = [("offset", _numbers(offset), _numbers(offset) if offset == 0 else None)]
            return _Row(f"layers.Rescaling({_numbers(v['scale'])}{self.kwargs(step, pairs)})")
        if kind == "normalization":
            kept = _tuple(v["axis"])
            axis_text = "None" if not kept else literal(kept[0] if len(kept) == 1 else kept)
            pairs = [
                ("axis", axis_text, "-1"),
                ("mean", _numbers(v["mean"]), "None"),
                ("variance", _numbers(v["variance"]), "None"),
            ]
            return _Row(f"layers.Normalization({self.kwargs(step, pairs)[2:]})")
        if kind == "multihead_attention":
            key_dim = v["key_dim"]
            if key_dim is None:
                raise ExportError(f"{step.where}: keras' MultiHeadAttention needs key_dim")
            output_shape = v["output_shape"]
            pairs = [
                ("value_dim", literal(v["value_dim"]), "None"),
                ("use_bias", literal(v["bias"]), "True"),
                ("output_shape", "None" if output_shape is None else literal(output_shape), "None"),
                ("use_gate", literal(v["use_gate"]), "False"),
            ]
            made = (
                f"layers.MultiHeadAttention({v['num_heads']}, {key_dim}{self.kwargs(step, pairs)})"
            )
            return _Row(made, call="{layer}({x}, {x})")
        if kind == "patch_embedding":
            self.needs.add("PatchEmbedding")
            pairs = [("use_bias", literal(v["bias"]), "True"), df]
            made = (
                f"PatchEmbedding({v['embed_dim']}, {_axes(v['patch_size'])}"
                f"{self.kwargs(step, pairs)})"
            )
            return _Row(made)
        if kind == "to_tokens":
            self.needs.add("ToTokens")
            return _Row(f"ToTokens({self.kwargs(step, [df])[2:]})")
        if kind == "class_token":
            self.needs.add("ClassToken")
            return _Row(f"ClassToken({v['count']}{self.kwargs(step, [])})")
        if kind == "position_embedding":
            self.needs.add("PositionEmbedding")
            return _Row(f"PositionEmbedding({self.kwargs(step, [])[2:]})")
        if kind == "take_token":
            self.needs.add("TakeToken")
            return _Row(f"TakeToken({v['index']}{self.kwargs(step, [])})")
        if kind == "embedding":
            return _Row(
                f"layers.Embedding({v['input_dim']}, {v['output_dim']}{self.kwargs(step, [])})"
            )
        if kind == "dense":
            pairs = [act, ("use_bias", literal(v["bias"]), "True")]
            return _Row(f"layers.Dense({v['units']}{self.kwargs(step, pairs)})")
        if kind == "flatten":
            return _Row(f"layers.Flatten({self.kwargs(step, [df])[2:]})")
        if kind == "dropout":
            return _Row(f"layers.Dropout({literal(v['rate'])}{self.kwargs(step, [])})")
        if kind == "activation":
            return self.activation(str(v["function"]), {}, step)
        if kind in ("window_attention", "patch_merging"):
            raise ExportError(
                f"{step.where}: {kind} is torchvision's (Swin, MaxViT); Keras has no such "
                "layer and convcalc writes none: export to pytorch (--to pytorch)"
            )
        if kind in ACTIVATIONS:  # an activation as a layer of its own
            return self.activation(kind, v, step)
        raise ExportError(f"{step.where}: convcalc cannot write {kind} as keras code")

    def norm(
        self, step: LayerStep, cls: str, axis: str, affine: bool, bias: bool, eps: str = ""
    ) -> _Row:
        pairs: list[Pair] = [
            ("axis", axis, "-1"),
            ("epsilon", eps, ""),
            ("center", literal(affine and bias), "True"),
            ("scale", literal(affine), "True"),
        ]
        return _Row(f"layers.{cls}({self.kwargs(step, pairs)[2:]})")

    def upsampling(
        self, step: LayerStep, rank: int, factors: tuple[int, ...], mode: object
    ) -> _Row:
        pairs: list[Pair]
        if rank == 2:
            pairs = [("data_format", self.data_format, None)]
            pairs.append(("interpolation", literal(_interpolation(mode)), "'nearest'"))
            return _Row(f"layers.UpSampling2D({_axes(factors)}{self.kwargs(step, pairs)})")
        if rank == 3:
            pairs = [("data_format", self.data_format, None)]
            return _Row(f"layers.UpSampling3D({_axes(factors)}{self.kwargs(step, pairs)})")
        if self.channels_last:
            return _Row(f"layers.UpSampling1D({factors[0]}{self.kwargs(step, [])})")
        self.needs.add("Repeat")  # UpSampling1D has no data_format: it would repeat C
        return _Row(
            f"Repeat({literal(factors)}, data_format={self.data_format}{self.kwargs(step, [])})"
        )

    def upsample(self, step: LayerStep, rank: int) -> _Row:
        v = step.values
        spatial = step.input_shape[:-1] if self.channels_last else step.input_shape[1:]
        factor, size = v["scale_factor"], v["size"]
        if factor is not None:
            factors = _spread(_tuple(factor), rank)
            return self.upsampling(step, rank, factors, v["mode"])
        sizes = _spread(_tuple(size), rank)
        if rank == 2:
            pairs: list[Pair] = [
                ("interpolation", literal(_interpolation(v["mode"])), "'bilinear'"),
                ("data_format", self.data_format, None),
            ]
            return _Row(f"layers.Resizing({sizes[0]}, {sizes[1]}{self.kwargs(step, pairs)})")
        self.needs.add("ResizeNearest")
        made = (
            f"ResizeNearest({literal(sizes)}, {literal(tuple(spatial))}, "
            f"data_format={self.data_format}{self.kwargs(step, [])})"
        )
        return _Row(made)

    # -- the module --------------------------------------------------------------------------
    def merge(self, step: MergeStep, names: list[str]) -> str:
        how = step.how
        name = ascii(self.names.of[step.name])
        classes = {
            Merge.ADD: "Add",
            Merge.SUBTRACT: "Subtract",
            Merge.MULTIPLY: "Multiply",
            Merge.AVERAGE: "Average",
            Merge.MAXIMUM: "Maximum",
            Merge.MINIMUM: "Minimum",
        }
        inputs = f"[{', '.join(names)}]"
        if how is Merge.CONCAT:
            return f"layers.Concatenate(axis={step.axis + 1}, name={name})({inputs})"
        return f"layers.{classes[how]}(name={name})({inputs})"

    def render(self, command: str | None) -> str:
        plan = self.plan
        local = variables(plan)
        body: list[str] = []
        for step in plan.steps:
            if isinstance(step, LayerStep):
                row = self.row(step)
                x = local[step.source]
                for layer in row.before:  # into the row's own variable: x may be read later
                    body.append(f"    {local[step.output]} = {layer}({x})")
                    x = local[step.output]
                call = row.call.format(layer=row.constructor, x=x)
                body.append(f"    {local[step.output]} = {call}  # {_shape(step.output_shape)}")
            elif isinstance(step, MergeStep):
                expression = self.merge(step, [local[source] for source in step.sources])
                body.append(
                    f"    {local[step.output]} = {expression}  # {_shape(step.output_shape)}"
                )
            elif isinstance(step, SplitStep):
                targets = ", ".join(local[number] for number in step.outputs)
                if len(step.outputs) == 1:
                    targets += ","
                cuts = []
                total = 0
                for size in step.sizes[:-1]:
                    total += size
                    cuts.append(total)
                body.append(
                    f"    {targets} = ops.split({local[step.source]}, {literal(cuts)}, "
                    f"axis={step.axis + 1})"
                )
            else:
                assert_never(step)
        input_name = self.names.extra("input")
        model_name = (plan.name or "model").replace("/", "_")
        dtype = ', dtype="int32"' if _reads_indices(plan) else ""
        helpers = [HELPERS[name].strip("\n") for name in HELPERS if name in self.needs]
        uses_ops = any("ops." in part for part in [*helpers, *body])
        text = [_header(plan, command), "import keras"]
        text += ["from keras import layers" + (", ops" if uses_ops else ""), "", ""]
        for source in helpers:
            text += [source, "", ""]
        text.append(f"INPUT_SHAPE = {literal(plan.input_shape)}")
        text.append("ROW_NAMES = {  # each layer's name -> the row's name in convcalc")
        text += [f"    {ascii(keras)}: {ascii(row)}," for row, keras in self.names.of.items()]
        text.append("}")
        frozen_names = [self.names.of[step.name] for step in plan.layers if step.frozen]
        if frozen_names:
            text.append(f"FROZEN = {literal(tuple(frozen_names))}")
        text += ["", ""]
        title = class_name(plan.name)
        text.append("def build() -> keras.Model:")
        text.append(
            f'    """{title} as convcalc computes it: one layer per row, named as the row."""'
        )
        text.append(f"    inputs = keras.Input(shape=INPUT_SHAPE, name={ascii(input_name)}{dtype})")
        text.append(f"    {local[0]} = inputs")
        text += body
        made = f"keras.Model(inputs, {local[plan.output]}, name={ascii(model_name)})"
        if frozen_names:
            # set once built: a layer frozen before its build (attention) would leave the
            # sublayers it makes then trainable
            text.append(f"    model = {made}")
            text.append("    for name in FROZEN:  # the rows written trainable: false")
            text.append("        model.get_layer(name).trainable = False")
            text.append("    return model")
        else:
            text.append(f"    return {made}")
        text += [
            "",
            "",
            'if __name__ == "__main__":',
            "    import math",
            "",
            "    model = build()",
            "    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)",
            '    print(f"params {model.count_params():,} (trainable {trainable:,}); '
            'output {model.output.shape}")',
            "",
        ]
        return "\n".join(text)


def _tuple(value: object) -> tuple[int, ...]:
    assert isinstance(value, tuple)
    return value


def _spread(values: tuple[int, ...], rank: int) -> tuple[int, ...]:
    return values * rank if len(values) == 1 else values


def _numbers(value: object) -> str:
    """A number or a list of numbers (Keras takes lists, not tuples)."""
    if isinstance(value, tuple):
        return literal(list(value))
    return literal(value)


def _keras_order(step: LayerStep) -> tuple[int, ...]:
    """Keras' Permute dims (from 1, without the batch) of a row's order."""
    v = step.values
    torch_dims = v.get("torch_dims")
    if isinstance(torch_dims, tuple):
        axes = len(step.input_shape) + 1
        return tuple(axis % axes for axis in torch_dims[1:])
    return _tuple(v["dims"])


def _reads_indices(plan: ExportPlan) -> bool:
    readers = [step for step in plan.layers if step.source == 0]
    return bool(readers) and all(step.kind.name == "embedding" for step in readers)


def _shape(shape: tuple[int, ...]) -> str:
    return "(N, " + ", ".join(str(size) for size in shape) + ")"


def _header(plan: ExportPlan, command: str | None) -> str:
    lines = [
        f"# Keras code written by convcalc {__version__}"
        + (f": {ascii(command)[1:-1]}" if command else ""),
        f"# Input {_shape(plan.input_shape)} -> output {_shape(plan.output_shape)}; "
        f"{plan.params:,} parameters ({plan.trainable_params:,} trainable), as convcalc counts "
        "them for keras.",
    ]
    for note in plan.notes:
        lines.append(f"# Note: {ascii(note)[1:-1]}")
    lines.append(f"NAME = {ascii(plan.name)}")
    return "\n".join(lines) + "\n"


def render_keras(plan: ExportPlan, command: str | None = None) -> str:
    """The plan as a Python module of Keras code; raises ExportError for a layer it cannot
    write."""
    return _Writer(plan).render(command)


HELPERS: dict[str, str] = {
    "LayerScale": '''
class LayerScale(layers.Layer):
    """A learned multiplier per index of the last axis (keras.applications' ConvNeXt
    LayerScale, its arguments too)."""

    def __init__(self, init_values: float, projection_dim: int, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.init_values, self.projection_dim = init_values, projection_dim

    def build(self, input_shape: tuple) -> None:
        self.gamma = self.add_weight(
            shape=(self.projection_dim,),
            initializer=keras.initializers.Constant(self.init_values),
            name="gamma",
        )

    def call(self, x):
        return x * self.gamma

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (*input_shape[:-1], max(input_shape[-1], self.projection_dim))

    def get_config(self) -> dict:
        config = {"init_values": self.init_values, "projection_dim": self.projection_dim}
        return {**super().get_config(), **config}
''',
    "StochasticDepth": '''
class StochasticDepth(layers.Layer):
    """Drops the whole input of random samples while training (keras.applications' ConvNeXt
    StochasticDepth, its argument too)."""

    def __init__(self, drop_path_rate: float, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.drop_path_rate = drop_path_rate

    def call(self, x, training=None):
        if not training or self.drop_path_rate == 0:
            return x
        keep = 1 - self.drop_path_rate
        shape = (ops.shape(x)[0],) + (1,) * (len(x.shape) - 1)
        return x / keep * ops.floor(keep + keras.random.uniform(shape, 0, 1))

    def get_config(self) -> dict:
        return {**super().get_config(), "drop_path_rate": self.drop_path_rate}
''',
    "ChannelShuffle": '''
class ChannelShuffle(layers.Layer):
    """ShuffleNet's channel shuffle: channel i of group g moves to i * groups + g."""

    def __init__(self, groups: int, data_format: str = "channels_last", **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.groups, self.data_format = groups, data_format

    def call(self, x):
        last = self.data_format == "channels_last" or len(x.shape) == 2
        shape = tuple(x.shape[1:])
        c = shape[-1] if last else shape[0]
        if last:
            x = ops.reshape(x, (-1, *shape[:-1], self.groups, c // self.groups))
            x = ops.swapaxes(x, -1, -2)
        else:
            x = ops.reshape(x, (-1, self.groups, c // self.groups, *shape[1:]))
            x = ops.swapaxes(x, 1, 2)
        return ops.reshape(x, (-1, *shape))

    def get_config(self) -> dict:
        return {**super().get_config(), "groups": self.groups, "data_format": self.data_format}
''',
    "PatchEmbedding": '''
class PatchEmbedding(layers.Layer):
    """A Vision Transformer's patch embedding: a conv with kernel = stride = patch, then the
    positions as tokens (N, patches, E)."""

    def __init__(self, embed_dim: int, patch: object, use_bias: bool = True,
                 data_format: str = "channels_last", **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.embed_dim, self.patch, self.use_bias = embed_dim, patch, use_bias
        self.data_format = data_format
        self.proj = layers.Conv2D(
            embed_dim, patch, strides=patch, use_bias=use_bias, data_format=data_format
        )
        self.proj.trainable = self.trainable  # made after Layer.__init__ set it

    def build(self, input_shape: tuple) -> None:
        self.proj.build(input_shape)

    def call(self, x):
        y = self.proj(x)
        if self.data_format == "channels_first":
            y = ops.transpose(y, (0, 2, 3, 1))
        return ops.reshape(y, (-1, y.shape[1] * y.shape[2], self.embed_dim))

    def get_config(self) -> dict:
        return {**super().get_config(), "embed_dim": self.embed_dim, "patch": self.patch,
                "use_bias": self.use_bias, "data_format": self.data_format}
''',
    "ToTokens": '''
class ToTokens(layers.Layer):
    """(N, *spatial, C) or (N, C, *spatial) -> (N, positions, C): each position a token."""

    def __init__(self, data_format: str = "channels_last", **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.data_format = data_format

    def call(self, x):
        if self.data_format == "channels_first":
            x = ops.moveaxis(x, 1, -1)
        positions = 1
        for size in x.shape[1:-1]:
            positions *= size
        return ops.reshape(x, (-1, positions, x.shape[-1]))

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format}
''',
    "ClassToken": '''
class ClassToken(layers.Layer):
    """Learned tokens put before the sequence: (N, L, E) -> (N, count + L, E)."""

    def __init__(self, count: int = 1, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.count = count

    def build(self, input_shape: tuple) -> None:
        self.token = self.add_weight(
            shape=(1, self.count, input_shape[-1]), initializer="zeros", name="token"
        )

    def call(self, x):
        token = ops.broadcast_to(self.token, (ops.shape(x)[0], self.count, x.shape[-1]))
        return ops.concatenate([ops.cast(token, x.dtype), x], axis=1)

    def get_config(self) -> dict:
        return {**super().get_config(), "count": self.count}
''',
    "PositionEmbedding": '''
class PositionEmbedding(layers.Layer):
    """A learned vector added at each position of (N, L, E)."""

    def build(self, input_shape: tuple) -> None:
        self.embedding = self.add_weight(
            shape=(1, *input_shape[1:]), initializer=keras.initializers.RandomNormal(stddev=0.02),
            name="embedding",
        )

    def call(self, x):
        return x + self.embedding
''',
    "TakeToken": '''
class TakeToken(layers.Layer):
    """One token of (N, L, E): x[:, index]."""

    def __init__(self, index: int = 0, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.index = index

    def call(self, x):
        return ops.take(x, self.index % x.shape[1], axis=1)

    def get_config(self) -> dict:
        return {**super().get_config(), "index": self.index}
''',
    "Function": '''
class Function(layers.Layer):
    """An element-wise function with settings keras' Activation cannot take."""

    def __init__(self, function: str, **settings: object) -> None:
        names = ("alpha", "approximate", "min_val", "max_val", "axis", "beta", "threshold", "lambd")
        super().__init__(**{k: v for k, v in settings.items() if k not in names})
        self.function = function
        self.settings = {k: v for k, v in settings.items() if k in names}

    def call(self, x):
        f, s = self.function, self.settings
        if f == "hard_tanh":
            return ops.clip(x, s.get("min_val", -1.0), s.get("max_val", 1.0))
        if f == "softplus":
            beta = s.get("beta", 1.0)
            return ops.softplus(beta * x) / beta
        if f == "celu":
            return keras.activations.celu(x, alpha=s.get("alpha", 1.0))
        if f == "gelu":
            return keras.activations.gelu(x, approximate=s.get("approximate") == "tanh")
        if f == "log_softmax":
            return keras.activations.log_softmax(x, axis=s.get("axis", -1))
        if f in ("hard_shrink", "soft_shrink"):
            return getattr(keras.activations, f)(x, threshold=s.get("lambd", 0.5))
        return getattr(keras.activations, f)(x)

    def get_config(self) -> dict:
        return {**super().get_config(), "function": self.function, **self.settings}
''',
    "Repeat": '''
class Repeat(layers.Layer):
    """Nearest-neighbour upsampling by whole factors on the spatial axes, in either layout."""

    def __init__(
        self, factors: tuple, data_format: str = "channels_last", **kwargs: object
    ) -> None:
        super().__init__(**kwargs)
        self.factors, self.data_format = tuple(factors), data_format

    def call(self, x):
        first = 1 if self.data_format == "channels_last" else 2
        for axis, factor in enumerate(self.factors, first):
            x = ops.repeat(x, factor, axis=axis)
        return x

    def get_config(self) -> dict:
        return {**super().get_config(), "factors": self.factors, "data_format": self.data_format}
''',
    "ResizeNearest": '''
class ResizeNearest(layers.Layer):
    """Resizing to a given size on 1 or 3 spatial axes, nearest neighbour (PyTorch's
    Upsample(size=...))."""

    def __init__(self, size: tuple, spatial: tuple, data_format: str = "channels_last",
                 **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.size, self.spatial, self.data_format = tuple(size), tuple(spatial), data_format

    def call(self, x):
        first = 1 if self.data_format == "channels_last" else 2
        for axis, (out, length) in enumerate(zip(self.size, self.spatial), first):
            index = [i * length // out for i in range(out)]
            x = ops.take(x, index, axis=axis)
        return x

    def get_config(self) -> dict:
        return {**super().get_config(), "size": self.size, "spatial": self.spatial,
                "data_format": self.data_format}
''',
}
"""The helper classes, in the order they are written out; each only when a row needs it."""
