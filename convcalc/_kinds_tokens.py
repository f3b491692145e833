"""Kinds that make or work on a sequence of tokens: multi-head self-attention, the pieces of a
Vision Transformer around it (``patch_embedding``, ``to_tokens``, ``class_token``,
``position_embedding``, ``take_token``) and ``embedding``.

Tokens are (L, E) in either layout: the last axis holds the E features of each token, the one
before it the sequence of L tokens, as Keras always holds them and PyTorch with
``batch_first=True`` (N, L, E); the layout's word "channels" does not apply to them. An image
becomes tokens through ``patch_embedding`` or ``to_tokens``, which read it in the layout.

Counts follow Keras 3.15 (``keras/src/layers/attention/multi_head_attention.py``,
``layers/core/embedding.py``) and PyTorch 2.13 with torchvision 0.28
(``torch/nn/modules/activation.py``'s MultiheadAttention, ``nn.Embedding``,
``torchvision/models/vision_transformer.py``); ``tests/crosscheck/crosscheck_modern.py`` builds
each in both. The receptive field is not followed into tokens: like flatten and reshape, a
kind that turns spatial axes into a sequence, or drops or adds axes, ends it (``whole``), and
attention lets every token see every other.
"""

from __future__ import annotations

import math

from ._formula import Formula, kernel_symbols, weightless
from ._kind import (
    REQUIRED,
    Call,
    Geometry,
    LayerKind,
    Param,
    Receptive,
    Saved,
    Weights,
    a_view,
    keeps_input,
    keeps_nothing,
    no_macs,
)
from ._settings import Framework
from ._values import Flag, Integer, PerAxis, Shape, WholeNumber, join_axes, show, show_shape
from ._vocab import BIAS_PARAM, IGNORED_ANY, IGNORED_CONV, IGNORED_WEIGHTS, IN_CHANNELS_PARAM

MAX_AXES = 4
"""Shapes have at most this many axes without the batch (features; L C; H W C; D H W C)."""


def _tokens(call: Call, what: str) -> tuple[int, int]:
    """(L, E) of an input that must be tokens: two axes, the sequence and the features."""
    if len(call.input) == 2:
        return call.input[0], call.input[1]
    if len(call.input) == 1:
        hint = (
            "; a flat vector is one token: reshape it to [1, "
            f"{call.input[0]}], or give indices to embedding first"
        )
    else:
        hint = "; patch_embedding or to_tokens turns an image into tokens"
    raise call.fail(
        f"{what} takes tokens (L, E): L tokens of E features, two axes without the batch, "
        f"but its input {show_shape(call.input)} has {len(call.input)}{hint}"
    )


def _check_embed_dim(call: Call, features: int) -> None:
    expected = call.values.get("embed_dim")
    if expected is not None and expected != features:
        raise call.fail(
            f"embed_dim {expected} does not match its input {show_shape(call.input)}, whose "
            f"tokens have {features} features (the last axis); drop embed_dim or fix the "
            "layer before"
        )


def _too_many_axes(call: Call, output: tuple[int, ...]) -> None:
    if len(output) > MAX_AXES:
        raise call.fail(
            f"its output {show(list(output))} would have {len(output)} axes; convcalc takes "
            "shapes of 1 to 4 axes (features; L C; H W C; D H W C) without the batch"
        )


# -- multi-head self-attention ---------------------------------------------------------------

_KERAS_ONLY = ("key_dim", "value_dim", "output_shape", "use_gate")
_TORCH_ONLY = ("add_bias_kv", "add_zero_attn", "kdim", "vdim")


def _attention_torch(call: Call) -> tuple[int, ...]:
    heads = call.number("num_heads")
    length, features = _tokens(call, "pytorch's MultiheadAttention")
    _check_embed_dim(call, features)
    for name in ("value_dim", "output_shape", "use_gate"):
        if name in call.given:
            raise call.fail(
                f"{name} is keras' argument; pytorch's MultiheadAttention projects back to "
                "embed_dim, each head E/num_heads wide: drop it"
            )
    if features % heads:
        raise call.fail(
            f"embed_dim {features} (its tokens' features) is not divisible by num_heads "
            f"{heads}; pytorch refuses that (embed_dim must be divisible by num_heads): use a "
            "divisor of it"
        )
    key_dim = call.values.get("key_dim")
    if key_dim is not None and key_dim != features // heads:
        raise call.fail(
            f"key_dim {key_dim} is keras' argument; pytorch's heads have embed_dim/num_heads "
            f"= {features}/{heads} = {features // heads} features each: drop key_dim"
        )
    for name in ("kdim", "vdim"):
        given = call.values.get(name)
        if given is not None and given != features:
            raise call.fail(
                f"{name} {given} is not the tokens' {features} features: in self-attention "
                "the key and value are the input itself; pytorch refuses that (expecting key "
                f"weights shape of ({features}, {given})...): drop {name}"
            )
    if call.notes is not None:
        call.note(
            f"tokens: L = {length} (the sequence), E = {features} (the features, the last "
            f"axis); {heads} heads of E/heads = {features // heads}"
        )
    return call.input


def _attention_keras(call: Call) -> tuple[int, ...]:
    for name in _TORCH_ONLY:
        if name in call.given:
            raise call.fail(
                f"{name} is pytorch's argument; keras' MultiHeadAttention has no such "
                "argument: drop it, or use --framework pytorch"
            )
    if len(call.input) < 2:
        raise call.fail(
            f"keras' MultiHeadAttention takes a sequence (L, E), or more axes of positions, "
            f"but its input {show_shape(call.input)} is a flat vector; reshape it to "
            f"[1, {call.input[0]}] for one token"
        )
    features = call.input[-1]
    _check_embed_dim(call, features)
    if call.values.get("key_dim") is None:
        raise call.fail(
            "keras' MultiHeadAttention needs key_dim, the size of each head's query and key "
            f"(often E/num_heads = {features}/{call.number('num_heads')}); e.g. "
            "multihead_attention: {num_heads: 8, key_dim: 64}"
        )
    wanted = call.values.get("output_shape")
    tail = wanted if isinstance(wanted, tuple) else (features,)
    output = (*call.input[:-1], *tail)
    _too_many_axes(call, output)
    if call.notes is not None:
        positions = call.input[:-1]
        joint = f" = {join_axes(positions)}, attended jointly" if len(positions) > 1 else ""
        call.note(f"tokens: T = {math.prod(positions):,}{joint}; E = {features} (the last axis)")
    return output


def attention_shape(call: Call) -> Geometry:
    if call.framework is Framework.PYTORCH:
        return Geometry(_attention_torch(call))
    return Geometry(_attention_keras(call))


TORCH_ATTENTION_PARAMS: Formula[int] = Formula(
    "params = 4*(E + bias)*E + 2*add_bias_kv*E",
    "E bias add_bias_kv",
    note="in_proj for q, k, v and out_proj, each E*E weights and E biases; bias_k, bias_v",
)
KERAS_ATTENTION_PARAMS: Formula[int] = Formula(
    "params = (E + bias)*heads*(2*key_dim + (1 + gate)*value_dim) + (heads*value_dim + bias)*out",
    "E bias heads key_dim gate value_dim out",
    note="query, key, value (and gate) projections; the output projection",
)


def _keras_dims(call: Call) -> tuple[int, int, int]:
    """Keras' (key_dim, value_dim, output features) of a checked layer."""
    key_dim = call.number("key_dim")
    value_dim = call.values.get("value_dim")
    wanted = call.values.get("output_shape")
    out = math.prod(wanted) if isinstance(wanted, tuple) else call.input[-1]
    return key_dim, value_dim if isinstance(value_dim, int) else key_dim, out


def attention_weights(call: Call, geometry: Geometry) -> Weights:
    features, bias = call.input[-1], call.flag("bias")
    if call.framework is Framework.PYTORCH:
        extra = call.flag("add_bias_kv")
        return Weights(trainable=TORCH_ATTENTION_PARAMS.of(call, features, bias, extra))
    key_dim, value_dim, out = _keras_dims(call)
    heads, gate = call.number("num_heads"), call.flag("use_gate")
    total = KERAS_ATTENTION_PARAMS.of(call, features, bias, heads, key_dim, gate, value_dim, out)
    return Weights(trainable=total)


TORCH_ATTENTION_MACS: Formula[tuple[int, int]] = Formula(
    "S = L + add_bias_kv + add_zero_attn; MACs = 4*L*E*E + 2*L*S*E",
    "L E add_bias_kv add_zero_attn",
    note="q, k, v and out projections; scores Q*K^T and the weighted sum of V, L*S*E each",
)
KERAS_ATTENTION_MACS: Formula[int] = Formula(
    "MACs = T*E*heads*(2*key_dim + (1 + gate)*value_dim) + heads*T*T*(key_dim + value_dim)"
    " + T*heads*value_dim*out",
    "T E heads key_dim gate value_dim out",
    note="projections; scores Q*K^T and the weighted sum of V; output projection",
)


def attention_macs(call: Call, geometry: Geometry) -> int:
    # Bias excluded, as for dense layers; softmax, scaling and the gate's product are 0.
    if call.framework is Framework.PYTORCH:
        length, features = call.input
        extra = (call.flag("add_bias_kv"), call.flag("add_zero_attn"))
        return TORCH_ATTENTION_MACS.of(call, length, features, *extra)[-1]
    key_dim, value_dim, out = _keras_dims(call)
    positions = math.prod(call.input[:-1])
    heads, gate = call.number("num_heads"), call.flag("use_gate")
    return KERAS_ATTENTION_MACS.of(
        call, positions, call.input[-1], heads, key_dim, gate, value_dim, out
    )


ATTENTION = LayerKind(
    name="multihead_attention",
    summary="multi-head self-attention on tokens (L, E), whose features E are the last axis in "
    "either layout (a chw model's channels first does not apply to tokens: PyTorch holds them "
    "(N, L, E) with batch_first): PyTorch MultiheadAttention(embed_dim, num_heads), 4*E*E + "
    "4*E parameters; Keras MultiHeadAttention(num_heads, key_dim), which projects to "
    "num_heads*key_dim and back, and attends over several axes of positions jointly",
    params=(
        Param("num_heads", WholeNumber(), REQUIRED, "attention heads", ("heads",)),
        Param(
            "key_dim",
            WholeNumber(),
            None,
            "keras (required there): each head's query and key size; pytorch's is E/num_heads",
            ("head_dim",),
        ),
        Param(
            "value_dim",
            WholeNumber(),
            None,
            "keras: each head's value size (default key_dim)",
        ),
        Param(
            "output_shape",
            Shape(),
            None,
            "keras: the output's features (default E), or its last axes as a list",
        ),
        Param(
            "use_gate",
            Flag(),
            False,
            "keras: a sigmoid gate projection of the query, like the value's",
        ),
        BIAS_PARAM,
        Param(
            "embed_dim",
            WholeNumber(),
            None,
            "optional check: the tokens' features E (PyTorch's first argument)",
        ),
        Param(
            "add_bias_kv",
            Flag(),
            False,
            "pytorch: learn a bias token appended to the keys and values (2*E parameters)",
        ),
        Param(
            "add_zero_attn",
            Flag(),
            False,
            "pytorch: append a zero token to the keys and values (no parameters)",
        ),
        Param(
            "need_weights",
            Flag(),
            True,
            "pytorch: the forward's need_weights (its default true); with false PyTorch runs "
            "scaled_dot_product_attention, which keeps less for training",
        ),
        Param(
            "kdim",
            WholeNumber(),
            None,
            "pytorch: the keys' features; in self-attention E",
        ),
        Param(
            "vdim",
            WholeNumber(),
            None,
            "pytorch: the values' features; in self-attention E",
        ),
    ),
    # Keras' MultiHeadAttention(num_heads, key_dim, value_dim, dropout, use_bias, output_shape)
    positional=("num_heads", "key_dim", "value_dim", "dropout", "bias", "output_shape"),
    aliases=("MultiHeadAttention", "MultiheadAttention", "mha", "self_attention"),
    rank=None,
    shape=attention_shape,
    weights=attention_weights,
    macs=attention_macs,
    receptive=Receptive.WHOLE,
    ignored=(
        "dropout",
        "batch_first",
        "sliding_window",
        "flash_attention",
        "seed",
        *IGNORED_WEIGHTS,
    ),
    torch_names=("MultiheadAttention",),
    # PyTorch's MultiheadAttention(embed_dim, num_heads, dropout, bias, add_bias_kv,
    # add_zero_attn, kdim, vdim, batch_first)
    torch_positional=(
        "embed_dim",
        "num_heads",
        "dropout",
        "bias",
        "add_bias_kv",
        "add_zero_attn",
        "kdim",
        "vdim",
        "batch_first",
    ),
)

# -- image to tokens ---------------------------------------------------------------------------


PATCHES: Formula[int] = Formula("out = floor(in / patch)", "in patch")
TOKEN_COUNT: Formula[int] = Formula(
    "tokens = positions", "*positions", spell={"positions": lambda call: _positions(call)}
)


def _positions(call: Call) -> tuple[str, ...]:
    return call.axis_labels() or ("positions",)


def patch_embedding_shape(call: Call) -> Geometry:
    expected = call.values.get("in_channels")
    if expected is not None and expected != call.channels:
        raise call.fail(
            f"in_channels {expected} does not match its input, which has {call.channels} "
            f"channels (shape {show_shape(call.input)}); drop in_channels or fix the layer "
            "before"
        )
    patch = call.axes("patch_size")
    sizes = []
    for axis, (label, size, side) in enumerate(
        zip(call.axis_labels(), call.spatial, patch, strict=True)
    ):
        if side > size:
            raise call.fail(
                f"patch_size {join_axes(patch)} is larger than its input's {label}, {size}: no "
                "patch fits; pytorch refuses that (Kernel size can't be greater than actual "
                "input size)"
            )
        if size % side:
            call.remark(
                f"{call.where}: the last {size % side} of {size} on {label} are in no "
                f"patch of {side}; the convolution drops them, and torchvision's "
                "VisionTransformer refuses an image size that is not a multiple of its patch "
                "size",
                key=f"patch remainder {call.where}",
            )
        sizes.append(PATCHES.axis(call, axis, size, side))
    tokens = TOKEN_COUNT.of(call, tuple(sizes))
    return Geometry((tokens, call.number("embed_dim")))


def _patch_symbols(call: Call) -> tuple[str, ...]:
    return kernel_symbols(len(call.spatial), "patch")


PATCH_PARAMS: Formula[int] = Formula(
    "params = (patch*C + bias) * E", "*patch C bias E", spell={"patch": _patch_symbols}
)
PATCH_MACS: Formula[int] = Formula(
    "MACs = L*E * C*patch", "L E C *patch", spell={"patch": _patch_symbols}
)


def patch_embedding_weights(call: Call, geometry: Geometry) -> Weights:
    patch, embed = call.axes("patch_size"), call.number("embed_dim")
    total = PATCH_PARAMS.of(call, patch, call.channels, call.flag("bias"), embed)
    return Weights(trainable=total)


def patch_embedding_macs(call: Call, geometry: Geometry) -> int:
    tokens, embed = geometry.output
    return PATCH_MACS.of(call, tokens, embed, call.channels, call.axes("patch_size"))


PATCH_EMBEDDING = LayerKind(
    name="patch_embedding",
    summary="a Vision Transformer's patch embedding: a convolution with kernel = stride = "
    "patch_size, then its positions flattened into tokens, H W C or C H W -> (patches, E) "
    "(torchvision ViT's conv_proj, reshape and permute; Keras Conv2D then Reshape); the "
    "convolution's parameters",
    params=(
        Param(
            "embed_dim",
            WholeNumber(),
            REQUIRED,
            "features per token: the convolution's filters",
            ("hidden_dim", "filters", "out_channels", "projection_dim"),
        ),
        Param(
            "patch_size",
            PerAxis(),
            REQUIRED,
            "patch side: one for both axes (16) or per axis (16x8); the kernel and the stride",
            ("patch",),
        ),
        BIAS_PARAM,
        IN_CHANNELS_PARAM,
    ),
    positional=("embed_dim", "patch_size"),
    aliases=("PatchEmbedding", "PatchEmbed", "patch_embed"),
    rank=2,
    shape=patch_embedding_shape,
    weights=patch_embedding_weights,
    macs=patch_embedding_macs,
    receptive=Receptive.WHOLE,
    ignored=IGNORED_CONV,
)


def to_tokens_shape(call: Call) -> Geometry:
    if not call.spatial:
        raise call.fail(
            f"to_tokens needs spatial axes and channels, but its input "
            f"{show_shape(call.input)} is a flat vector: it is one token already (reshape it "
            f"to [1, {call.input[0]}])"
        )
    tokens = TOKEN_COUNT.of(call, call.spatial)
    if call.notes is not None:
        call.note(f"E = C = {call.channels}: each position becomes a token of its channels")
    return Geometry((tokens, call.channels))


TO_TOKENS = LayerKind(
    name="to_tokens",
    summary="the spatial axes flattened into one sequence of tokens of the channels: H W C "
    "or C H W -> (H*W, C) (PyTorch x.flatten(2).transpose(1, 2); Keras Reshape((-1, C)) "
    "channels last); no parameters",
    params=(),
    positional=(),
    aliases=("tokens", "flatten_tokens", "to_sequence"),
    rank=None,
    shape=to_tokens_shape,
    weights=weightless("to_tokens only rearranges the positions into a sequence"),
    macs=no_macs,
    receptive=Receptive.WHOLE,
    ignored=IGNORED_ANY,
)

# -- tokens in, tokens out -------------------------------------------------------------------

MORE_TOKENS: Formula[int] = Formula("L_out = L + count", "L count")
CLASS_TOKEN_PARAMS: Formula[int] = Formula(
    "params = count*E", "count E", note="each a learned token of E features"
)


def class_token_shape(call: Call) -> Geometry:
    length, features = _tokens(call, "class_token")
    _check_embed_dim(call, features)
    return Geometry((MORE_TOKENS.of(call, length, call.number("count")), features))


def class_token_weights(call: Call, geometry: Geometry) -> Weights:
    return Weights(trainable=CLASS_TOKEN_PARAMS.of(call, call.number("count"), call.input[-1]))


EMBED_DIM_CHECK = Param(
    "embed_dim",
    WholeNumber(),
    None,
    "optional check: the tokens' features E",
    ("hidden_dim",),
)

CLASS_TOKEN = LayerKind(
    name="class_token",
    summary="prepends a learned token: (L, E) -> (L+1, E), E parameters (torchvision ViT's "
    "class_token (1, 1, E) concatenated before the patches; count 2 for DeiT's class and "
    "distillation tokens)",
    params=(
        Param(
            "count",
            WholeNumber(),
            1,
            "learned tokens prepended",
            ("num_tokens",),
        ),
        EMBED_DIM_CHECK,
    ),
    positional=("count",),
    aliases=("ClassToken", "cls_token"),
    rank=None,
    shape=class_token_shape,
    weights=class_token_weights,
    macs=no_macs,
    receptive=Receptive.POINTWISE,
    ignored=IGNORED_ANY,
)


POSITION_PARAMS: Formula[int] = Formula(
    "params = L*E", "L E", note="a learned vector added at each position"
)


def position_embedding_shape(call: Call) -> Geometry:
    length, features = _tokens(call, "position_embedding")
    _check_embed_dim(call, features)
    expected = call.values.get("sequence_length")
    if expected is not None and expected != length:
        raise call.fail(
            f"sequence_length {expected} is not its input's {length} tokens (shape "
            f"{show_shape(call.input)}); a learned (L, E) is added, so the lengths must agree "
            f"(pytorch: The size of tensor a must match the size of tensor b): give "
            f"{length}, or drop sequence_length"
        )
    return Geometry(call.input)


def position_embedding_weights(call: Call, geometry: Geometry) -> Weights:
    length, features = call.input
    return Weights(trainable=POSITION_PARAMS.of(call, length, features))


POSITION_EMBEDDING = LayerKind(
    name="position_embedding",
    summary="adds a learned embedding per position: (L, E) unchanged, L*E parameters "
    "(torchvision ViT's pos_embedding (1, L, E); in Keras an Embedding of the positions, "
    "added)",
    params=(
        Param(
            "sequence_length",
            WholeNumber(),
            None,
            "optional check: the tokens L (torchvision's seq_length)",
            ("seq_length", "num_positions"),
        ),
        EMBED_DIM_CHECK,
    ),
    positional=("sequence_length",),
    aliases=("PositionEmbedding", "pos_embedding", "positional_embedding"),
    rank=None,
    shape=position_embedding_shape,
    weights=position_embedding_weights,
    macs=no_macs,
    receptive=Receptive.POINTWISE,
    ignored=IGNORED_ANY,
)


def take_token_shape(call: Call) -> Geometry:
    if len(call.input) < 2:
        raise call.fail(
            f"take_token takes tokens (L, E), but its input {show_shape(call.input)} is a "
            "flat vector: nothing is left after taking one of its values"
        )
    length, index = call.input[0], call.values["index"]
    assert isinstance(index, int)
    if not -length <= index < length:
        raise call.fail(
            f"index {index} is out of range for its input's {length} tokens (shape "
            f"{show_shape(call.input)}); both frameworks refuse that (index out of bounds): "
            f"use 0 to {length - 1}, or -1 for the last"
        )
    output = call.input[1:]
    if call.notes is not None:
        call.note(
            f"token {index} of L = {length}: {show_shape(call.input)} -> {show_shape(output)}"
        )
    return Geometry(output)


TAKE_TOKEN = LayerKind(
    name="take_token",
    summary="one token of the sequence: (L, E) -> (E,), by default the first, the class "
    "token a ViT classifies (x[:, 0] in PyTorch and Keras); no parameters",
    params=(
        Param(
            "index",
            Integer(),
            0,
            "which token, from 0; negative counts from the end",
            ("token",),
        ),
    ),
    positional=("index",),
    aliases=("TakeToken", "select_token", "cls_pool"),
    rank=None,
    shape=take_token_shape,
    weights=weightless("taking a token only selects part of its input"),
    macs=no_macs,
    receptive=Receptive.WHOLE,
    ignored=IGNORED_ANY,
)

# -- embedding -------------------------------------------------------------------------------


EMBEDDING_PARAMS: Formula[int] = Formula(
    "params = input_dim*output_dim",
    "input_dim output_dim",
    note="a learned vector for each index",
)


def embedding_shape(call: Call) -> Geometry:
    vocabulary = call.number("input_dim")
    padding = call.values.get("padding_idx")
    if padding is not None and call.framework is Framework.KERAS:
        raise call.fail(
            "padding_idx is pytorch's argument; keras' Embedding has mask_zero, which changes "
            "no count: drop padding_idx"
        )
    if isinstance(padding, int) and not -vocabulary <= padding < vocabulary:
        raise call.fail(
            f"padding_idx {padding} is not an index of the {vocabulary} embeddings; pytorch "
            f"refuses that (Padding_idx must be within num_embeddings): use 0 to "
            f"{vocabulary - 1}, or -1 for the last"
        )
    output = (*call.input, call.number("output_dim"))
    _too_many_axes(call, output)
    if call.notes is not None:
        call.note(
            f"each of the {math.prod(call.input):,} indices of {show_shape(call.input)} "
            f"becomes a vector of {output[-1]}"
        )
    return Geometry(output)


def embedding_weights(call: Call, geometry: Geometry) -> Weights:
    total = EMBEDDING_PARAMS.of(call, call.number("input_dim"), call.number("output_dim"))
    return Weights(trainable=total)


EMBEDDING = LayerKind(
    name="embedding",
    summary="a learned vector per index: indices (L,) -> (L, E), input_dim*output_dim "
    "parameters (Keras Embedding(input_dim, output_dim), PyTorch Embedding(num_embeddings, "
    "embedding_dim)); the input shape is that of the indices; 0 MACs (a lookup)",
    params=(
        Param(
            "input_dim",
            WholeNumber(),
            REQUIRED,
            "how many indices there are (the vocabulary)",
            ("num_embeddings", "vocab_size"),
        ),
        Param(
            "output_dim",
            WholeNumber(),
            REQUIRED,
            "features of each vector, E",
            ("embedding_dim",),
        ),
        Param(
            "padding_idx",
            Integer(),
            None,
            "pytorch: the index whose vector is not trained (still counted); checked",
        ),
    ),
    positional=("input_dim", "output_dim"),
    aliases=("Embedding",),
    rank=None,
    shape=embedding_shape,
    weights=embedding_weights,
    macs=no_macs,
    receptive=Receptive.WHOLE,
    ignored=(
        "embeddings_initializer",
        "embeddings_regularizer",
        "embeddings_constraint",
        "mask_zero",
        "max_norm",
        "norm_type",
        "scale_grad_by_freq",
        "sparse",
        *IGNORED_ANY,
    ),
)


def _attention_saved(call: Call, geometry: Geometry) -> Saved:
    """Self-attention as PyTorch's MultiheadAttention runs it in training (torch 2.13, CPU,
    dropout 0), per sample, for L tokens, h heads of query and key size k, value size v
    (E/h each in PyTorch): the input projection keeps its input for its weights; the
    projected queries, keys and values are one tensor, L*h*(2k + v). With need_weights false,
    scaled_dot_product_attention keeps them, its output (L*h*v, which the output projection
    reads as its input) and a float32 log-sum-exp per head and token; with need_weights true,
    the explicit path keeps them, the scaled queries (L*h*k), the softmax (h*L*L) and the
    output projection's input (L*h*v, for its weights only)."""
    length = math.prod(call.input[:-1])
    heads = call.number("num_heads")
    if call.framework is Framework.PYTORCH:
        key = value = call.input[-1] // heads
    else:
        key, value, _ = _keras_dims(call)
    projected = length * heads * (2 * key + value)
    mixed = length * heads * value
    if call.values.get("need_weights") is False:
        return Saved(
            input_for_weights=True, elements=projected + mixed, raw_bytes=4 * heads * length
        )
    return Saved(
        input_for_weights=True,
        elements=projected + length * heads * key + heads * length * length,
        elements_for_weights=mixed,
    )


def _embedding_saved(call: Call, geometry: Geometry) -> Saved:
    """An embedding keeps its int64 indices for its weights' gradient."""
    return Saved(raw_bytes=8 * math.prod(call.input))


TOKEN_KINDS: tuple[LayerKind, ...] = (
    ATTENTION._replace(saved=_attention_saved),
    PATCH_EMBEDDING._replace(saved=keeps_input),
    TO_TOKENS._replace(saved=a_view),
    CLASS_TOKEN._replace(saved=keeps_nothing),
    POSITION_EMBEDDING._replace(saved=keeps_nothing),
    TAKE_TOKEN._replace(saved=a_view),
    EMBEDDING._replace(saved=_embedding_saved),
)
