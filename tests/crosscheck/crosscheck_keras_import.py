"""Cross-check reading Keras configs (``convcalc model FILE.json|.keras``, ``convcalc import``)
against Keras 3 itself, by hand (never run by pytest).

Each Keras model is built in Keras, serialised (``model.to_json()``, or saved as ``.keras``)
and read by convcalc's reader, without Keras' help; then convcalc's totals are compared with
Keras': ``count_params()``, the trainable parameters (the sizes of ``trainable_weights``), the
output shape, and the MACs of a trace of the model's forward (``jax.make_jaxpr``, nothing
computed): every ``conv_general_dilated`` (output elements x kernel elements / output channels;
a transposed convolution, which JAX writes with ``lhs_dilation``, as input elements x kernel
elements x groups' output channels / kernel input channels) and every ``dot_general`` (output
elements x contracted size). Every model is also written as YAML (``convcalc import``) and read
back: the report must be the same, row by row.

Families (``--only``):

    applications  every keras.applications function (record_zoo's KERAS), ``fn(weights=None)``
                  (MobileNetV3Small/Large, whose input is then (None, None, 3): read as such,
                  refused without an input size, and compared at 224x224 from
                  ``fn(weights=None, input_shape=(224, 224, 3))``)
    keras_file    one ``.keras`` save (MobileNetV2, alpha 0.35, 96x96): only config.json read
    random        ``--n`` random models: Sequential, Functional (skips through every merge
                  class, squeeze-and-excitation multiplies), models nested in models, layers
                  and nested models frozen, over every Keras layer class the catalogue names
                  (crosscheck.py's generators, and here the dropouts, activation layers,
                  Permute, Rescaling, Normalization, MultiHeadAttention, Embedding)
    roundtrip     every keras.applications zoo model exported (``convcalc export --to keras``),
                  built, serialised and imported: the figures of the YAML it came from

``--write-fixtures`` writes the small configs ``tests/test_keras_import.py`` reads, into
``tests/data/keras/``, with Keras' figures for each in ``expected.json`` (see FIXTURES).

Run with the framework venv::

    /opt/fw/bin/python tests/crosscheck/crosscheck_keras_import.py [--only random --n 40]
    /opt/fw/bin/python tests/crosscheck/crosscheck_keras_import.py --write-fixtures

Each model is reported as agreed, refused (convcalc's reason) or disagreeing (what differs);
the exit status is the number of disagreements (capped at 100). On 2 shared cores about 25
minutes in all: the applications 13, 40 random models 4 (100: 8), the round trips 5.

Last run (keras 3.15.1, jax backend): the 40 applications agree (and MobileNetV3Small/Large
read as (None, None, 3) are refused without an input size); the .keras save agrees; of 140
random models (seeds 1 and 2) 134 agree and 5 are refused for keras.layers.Resizing, which the
catalogue does not name; one, with UpSampling1D in a channels-first model, disagreed (Keras
repeats axis 1 there, convcalc's upsampling1d the length) and is now refused by the reader;
the 40 exported zoo models round-trip to their YAML's figures.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import random
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import crosscheck as cc  # noqa: E402  (its random layer generators)
import keras  # noqa: E402
import numpy as np  # noqa: E402

from convcalc import ConvCalcError  # noqa: E402
from convcalc._catalogue import CATALOGUE  # noqa: E402
from convcalc._input._keras import keras_from_text, read_keras_archive  # noqa: E402
from convcalc._input._yaml import parse_yaml, require_mapping  # noqa: E402
from convcalc._model import analyze  # noqa: E402
from convcalc._render._yaml_out import render_model_yaml  # noqa: E402

FIXTURES = ROOT / "tests" / "data" / "keras"
L = keras.layers
Figures = dict[str, Any]

APPLICATIONS = {
    entry["function"]: name
    for name, entry in json.loads(
        (ROOT / "tests" / "data" / "zoo.json").read_text(encoding="utf-8")
    ).items()
    if not name.startswith("_") and entry["source"] == "keras"
}
"""Every keras.applications model function -> its zoo name, as record_zoo.py recorded them."""


# -- Keras' figures ------------------------------------------------------------------------------


def jaxpr_macs(jaxpr: Any, found: Counter[str]) -> None:
    """MACs of every convolution and dot product in a jaxpr and the jaxprs inside it."""
    for eqn in jaxpr.eqns:
        primitive = eqn.primitive.name
        if primitive in ("scan", "while"):
            raise SystemExit(f"a loop ({primitive}) in the traced model: not counted here")
        if primitive == "conv_general_dilated":
            out = eqn.outvars[0].aval.shape
            lhs = eqn.invars[0].aval.shape
            kernel = eqn.invars[1].aval.shape
            spec = eqn.params["dimension_numbers"].rhs_spec
            dilated = eqn.params["lhs_dilation"] not in (None, ()) and any(
                d != 1 for d in eqn.params["lhs_dilation"]
            )
            if dilated:  # a transposed conv: each input element times its kernel's outputs
                groups = eqn.params["feature_group_count"]
                found["conv_transpose"] += (
                    math.prod(lhs) * math.prod(kernel) // kernel[spec[1]] // groups
                )
            else:
                found["conv"] += math.prod(out) * math.prod(kernel) // kernel[spec[0]]
        elif primitive == "dot_general":
            out = eqn.outvars[0].aval.shape
            lhs = eqn.invars[0].aval.shape
            (contracting, _), _ = eqn.params["dimension_numbers"]
            found["dot_general"] += math.prod(out) * math.prod(lhs[i] for i in contracting)
        for value in eqn.params.values():
            for inner in value if isinstance(value, (tuple, list)) else [value]:
                if hasattr(inner, "eqns"):
                    jaxpr_macs(inner, found)
                elif hasattr(inner, "jaxpr") and hasattr(inner.jaxpr, "eqns"):
                    jaxpr_macs(inner.jaxpr, found)


def transposed_macs(model: Any) -> int:
    """What the trace counts of the model's transposed convolutions, less their MACs as
    Keras' arithmetic has them (input elements x filters x kernel elements): JAX computes a
    stride-1 transposed conv as a plain conv whose output it then pads or crops, so the trace
    alone counts another number."""
    import jax

    correction = 0
    for layer in all_layers(model):
        if not type(layer).__name__.endswith("DTranspose"):
            continue
        shape = tuple(layer.get_build_config()["input_shape"][1:])
        traced = jax.make_jaxpr(lambda x, layer=layer: layer(x))(np.zeros((1, *shape), "float32"))
        found: Counter[str] = Counter()
        jaxpr_macs(traced.jaxpr, found)
        correction += sum(found.values())
        correction -= math.prod(shape) * layer.filters * math.prod(layer.kernel_size)
    return correction


def keras_figures(model: Any) -> Figures:
    """What Keras says of a built model: params, trainable, output, and traced MACs."""
    import jax

    shape = tuple(model.input_shape[1:])
    dtype = model.inputs[0].dtype
    x = np.zeros((1, *shape), dtype="int32" if "int" in str(dtype) else "float32")
    traced = jax.make_jaxpr(lambda x: model(x, training=False))(x)
    found: Counter[str] = Counter()
    jaxpr_macs(traced.jaxpr, found)
    found["transposed, as Keras' arithmetic counts them"] -= transposed_macs(model)
    (out,) = traced.out_avals
    trainable = int(sum(math.prod(w.shape) for w in model.trainable_weights))
    return {
        "params": int(model.count_params()),
        "trainable": trainable,
        "macs": int(sum(found.values())),
        "output": [int(d) for d in out.shape[1:]],
    }


def free(*objects: Any) -> None:
    del objects
    keras.backend.clear_session()
    gc.collect()


# -- convcalc's ----------------------------------------------------------------------------------


def convcalc_figures(spec: dict[str, Any]) -> tuple[Figures, dict[str, Any]]:
    report = analyze(spec).to_dict()
    totals = report["totals"]
    output = [d for d in report["output_shape"] if d is not None]
    figures = {
        "params": totals["params"],
        "trainable": totals["trainable_params"],
        "macs": totals["macs"],
        "output": output,
    }
    return figures, report


def yaml_again(spec: dict[str, Any]) -> dict[str, Any]:
    """The model as ``convcalc import`` writes it, read back by the YAML reader."""
    text = render_model_yaml(spec, ["a comment"])
    return require_mapping(parse_yaml(text, "the YAML"), text, "the YAML")


def check(label: str, text: str, keras_seen: Figures, input_shape: list[int] | None = None) -> str:
    """'agreed', 'refused: ...' or 'DISAGREES: ...' for one serialised model."""
    try:
        spec = keras_from_text(text, label)
        if spec is None:
            return "DISAGREES: not read as a Keras config"
        if input_shape is not None:
            spec["input"] = input_shape
        ours, report = convcalc_figures(spec)
    except ConvCalcError as problem:
        return f"refused: {problem}"
    except Exception:
        return "DISAGREES: convcalc crashed: " + traceback.format_exc(limit=3)
    problems = [
        f"{key} convcalc {ours[key]:,} vs keras {keras_seen[key]:,}"
        if isinstance(ours[key], int)
        else f"{key} convcalc {ours[key]} vs keras {keras_seen[key]}"
        for key in ("params", "trainable", "macs", "output")
        if ours[key] != keras_seen[key]
    ]
    try:
        again = analyze(yaml_again(spec)).to_dict()
        if again != report:
            problems.append("the imported YAML reads back to another report")
    except Exception as problem:
        problems.append(f"the imported YAML does not read back: {problem}")
    return "DISAGREES: " + "; ".join(problems) if problems else "agreed"


# -- applications --------------------------------------------------------------------------------


def applications(names: list[str]) -> list[tuple[str, str]]:
    results = []
    for function in names:
        start = time.time()
        fn = getattr(keras.applications, function)
        keras.utils.set_random_seed(0)
        model = fn(weights=None)
        text = model.to_json()
        if None in model.input_shape[1:]:  # MobileNetV3: (None, None, 3) without input_shape
            open_input = keras_from_text(text, function)
            assert open_input is not None and open_input["input"] == [None, None, 3]
            try:
                convcalc_figures(open_input)
                results.append((f"{function} (None, None, 3)", "DISAGREES: read without a size"))
            except ConvCalcError as problem:
                results.append((f"{function} (None, None, 3)", f"refused as it should: {problem}"))
            free(model)
            model = fn(weights=None, input_shape=(224, 224, 3))
            text = model.to_json()
        seen = keras_figures(model)
        free(model)
        model = None
        outcome = check(function, text, seen)
        results.append(
            (function, f"{outcome} ({len(text):,} characters, {time.time() - start:.0f} s)")
        )
        print(f"{function}: {results[-1][1]}", flush=True)
    return results


def keras_file() -> list[tuple[str, str]]:
    keras.utils.set_random_seed(0)
    model = keras.applications.MobileNetV2(alpha=0.35, input_shape=(96, 96, 3), weights=None)
    seen = keras_figures(model)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "mobilenet_v2.keras")
        model.save(path)
        free(model)
        try:
            spec = read_keras_archive(path)
            ours, _ = convcalc_figures(spec)
            outcome = "agreed" if ours == seen else f"DISAGREES: {ours} vs keras {seen}"
        except ConvCalcError as problem:
            outcome = f"refused: {problem}"
    print(f"MobileNetV2 .keras: {outcome}", flush=True)
    return [("MobileNetV2(alpha=0.35) 96x96 .keras", outcome)]


# -- random models -------------------------------------------------------------------------------


def catalogue_classes() -> set[str]:
    """Every Keras layer class the catalogue names (an alias that keras.layers has), by the
    class's own name (``AvgPool2D`` is ``AveragePooling2D``)."""
    return {
        getattr(L, alias).__name__
        for kind in CATALOGUE
        for alias in (kind.name, *kind.aliases)
        if alias[:1].isupper() and isinstance(getattr(L, alias, None), type)
    }


def extra_layer(rng: random.Random, shape: tuple[int, ...], layout: str) -> list[Any]:
    """One of the layers crosscheck.py does not make, fitting ``shape`` (without batch)."""
    rank = len(shape) - 1
    channel_axis = -1 if layout == "hwc" else 1
    choices = ["dropout", "relu", "leaky", "elu", "softmax", "rescaling", "normalization"]
    choices += ["permute"] if len(shape) >= 2 else []
    choices += ["spatial"] if 1 <= rank <= 3 else []
    if rank == 1 and shape[-1] <= 64:
        choices += ["attention"] * 4
    pick = rng.choice(choices)
    if pick == "dropout":
        return [rng.choice([L.Dropout, L.GaussianDropout, L.AlphaDropout])(0.1)]
    if pick == "spatial":
        data_format = "channels_last" if layout == "hwc" else "channels_first"
        return [getattr(L, f"SpatialDropout{rank}D")(0.2, data_format=data_format)]
    if pick == "relu":
        kwargs: dict[str, Any] = {}
        if rng.random() < 0.5:
            kwargs["max_value"] = 6.0
        if rng.random() < 0.3:
            kwargs["negative_slope"] = 0.1
        return [L.ReLU(**kwargs)]
    if pick == "leaky":
        return [L.LeakyReLU(negative_slope=rng.choice([0.1, 0.3]))]
    if pick == "elu":
        return [L.ELU(alpha=rng.choice([1.0, 0.5]))]
    if pick == "softmax":
        return [L.Softmax(axis=-1)]
    if pick == "rescaling":
        return [L.Rescaling(scale=rng.choice([1 / 255, 2.0]), offset=rng.choice([0.0, -1.0]))]
    if pick == "normalization":
        channels = shape[channel_axis]
        if rng.random() < 0.5:
            mean = [round(rng.random(), 3) for _ in range(channels)]
            variance = [round(rng.random() + 0.5, 3) for _ in range(channels)]
            return [L.Normalization(axis=channel_axis, mean=mean, variance=variance)]
        return [L.Normalization(axis=channel_axis)]
    if pick == "permute":
        dims = list(range(1, len(shape) + 1))
        while dims == sorted(dims) and len(dims) > 1:
            rng.shuffle(dims)
        return [L.Permute(tuple(dims))]
    heads = rng.randint(1, 3)
    kwargs = {"value_dim": rng.randint(2, 6)} if rng.random() < 0.4 else {}
    if rng.random() < 0.3:
        kwargs["output_shape"] = rng.randint(2, 8)
    return [L.MultiHeadAttention(heads, rng.randint(2, 8), use_bias=rng.random() < 0.8, **kwargs)]


def apply_layers(layers: list[Any], x: Any) -> Any:
    for layer in layers:
        if isinstance(layer, L.MultiHeadAttention):
            x = layer(x, x)
        else:
            x = layer(x)
    return x


def shape_of(x: Any) -> tuple[int, ...]:
    return tuple(int(d) for d in x.shape[1:])


def generated(rng: random.Random, shape: tuple[int, ...], layout: str) -> list[Any]:
    """Layers for one step: crosscheck.py's generators, or one of ``extra_layer``'s."""
    if rng.random() < 0.3:
        return extra_layer(rng, shape, layout)
    ctx = cc.Ctx(cc.KERAS, layout, shape, rng)
    case = cc.pick(ctx, None)
    assert case.keras is not None
    return case.keras(ctx)


def random_model(rng: random.Random, number: int) -> tuple[Any, str] | None:
    """A random Keras model and what it is; None when Keras refused every try."""
    layout = "chw" if rng.random() < 0.25 else "hwc"
    kind = ["sequential", "functional", "nested", "functional", "embedding"][number % 5]
    if kind == "embedding":
        return embedding_model(rng), "embedding"
    rank = rng.choice([1, 2, 2, 2, 3])
    channels = rng.randint(2, 8)
    high = {1: 32, 2: 20, 3: 8}[rank]
    spatial = tuple(rng.randint(max(4, high // 3), high) for _ in range(rank))
    shape = (*spatial, channels) if layout == "hwc" else (channels, *spatial)
    inputs = keras.Input(shape)
    x = inputs
    kept: list[Any] = []
    tensors = [inputs]
    for _ in range(rng.randint(3, 9)):
        current = shape_of(x)
        try:
            roll = rng.random()
            if kind != "sequential" and roll < 0.25 and len(tensors) > 1:
                y = merge(rng, x, tensors, layout)
            elif kind != "sequential" and roll < 0.4 and 2 <= len(current) <= 4:
                y = residual(rng, x, layout)
            elif kind == "nested" and roll < 0.5:
                y = nested(rng, x, layout)
            elif kind != "sequential" and roll < 0.3 and layout == "hwc" and len(current) == 3:
                y = squeeze_excite(rng, x)
            else:
                layers = generated(rng, current, layout)
                y = apply_layers(layers, x)
                kept.extend(layers)
        except Exception:  # Keras refuses this step: try another
            continue
        if y is None or min(shape_of(y), default=1) < 1:
            continue
        x = y
        tensors.append(x)
    if x is inputs:
        return None
    for layer in kept:
        if rng.random() < 0.1:
            layer.trainable = False
    if kind == "sequential":
        try:
            model = keras.Sequential([keras.Input(shape), *kept])
        except Exception:
            return None
        return model, f"sequential {layout} {shape}"
    return keras.Model(inputs, x), f"{kind} {layout} {shape}"


MERGES = (L.Add, L.Subtract, L.Multiply, L.Average, L.Maximum, L.Minimum, L.Concatenate)


def merge(rng: random.Random, x: Any, tensors: list[Any], layout: str) -> Any:
    """A merge of ``x`` with an earlier tensor of its shape (concat: of its spatial shape)."""
    shape = shape_of(x)
    axis = -1 if layout == "hwc" else 1
    same = [t for t in tensors[:-1] if shape_of(t) == shape]
    others = [
        t
        for t in tensors[:-1]
        if len(shape_of(t)) == len(shape)
        and all(
            a == b
            for i, (a, b) in enumerate(zip(shape_of(t), shape, strict=True))
            if i != (len(shape) - 1 if axis == -1 else 0)
        )
    ]
    cls = rng.choice(MERGES)
    if cls is L.Concatenate and others and len(shape) >= 2:
        return L.Concatenate(axis=axis)([x, rng.choice(others)])
    if not same:
        raise ValueError("nothing to merge with")
    if cls is L.Subtract or rng.random() < 0.6:
        return (cls if cls is not L.Concatenate else L.Add)()([x, rng.choice(same)])
    return cls()([x, *rng.sample(same, min(2, len(same)))])


def residual(rng: random.Random, x: Any, layout: str) -> Any:
    """A convolution that keeps the shape, merged with its input (any merge class)."""
    shape = shape_of(x)
    channels = shape[-1] if layout == "hwc" else shape[0]
    data_format = "channels_last" if layout == "hwc" else "channels_first"
    conv = getattr(L, f"Conv{len(shape) - 1}D")
    y = conv(channels, rng.choice([1, 3]), padding="same", data_format=data_format)(x)
    return merge(rng, y, [x, y], layout)


def squeeze_excite(rng: random.Random, x: Any) -> Any:
    channels = shape_of(x)[-1]
    s = L.GlobalAveragePooling2D(keepdims=True)(x)
    s = L.Dense(max(1, channels // 2), activation="relu")(s)
    s = L.Dense(channels, activation="sigmoid")(s)
    return L.Multiply()([x, s])


def nested(rng: random.Random, x: Any, layout: str) -> Any:
    """A model of a few generated layers (Sequential, or Functional with a skip), called on
    ``x``; sometimes frozen."""
    shape = shape_of(x)
    inner_input = keras.Input(shape)
    y = inner_input
    layers: list[Any] = []
    for _ in range(rng.randint(1, 3)):
        try:
            made = generated(rng, shape_of(y), layout)
            z = apply_layers(made, y)
        except Exception:
            continue
        if min(shape_of(z), default=1) < 1:
            continue
        layers.extend(made)
        y = z
    if not layers:
        raise ValueError("no layer fits")
    if rng.random() < 0.5 or shape_of(y) != shape:
        inner = keras.Sequential([keras.Input(shape), *layers])
    else:
        inner = keras.Model(inner_input, L.Add()([inner_input, y]))
    if rng.random() < 0.3:
        inner.trainable = False
    return inner(x)


def embedding_model(rng: random.Random) -> Any:
    length, vocab = rng.randint(4, 20), rng.randint(10, 100)
    inputs = keras.Input((length,), dtype="int32")
    x = L.Embedding(vocab, rng.randint(2, 16))(inputs)
    if rng.random() < 0.5:
        x = L.Conv1D(rng.randint(2, 8), 3, padding="same")(x)
    x = L.GlobalAveragePooling1D()(x) if rng.random() < 0.5 else L.Flatten()(x)
    x = L.Dense(rng.randint(1, 5))(x)
    return keras.Model(inputs, x)


def random_models(count: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    results = []
    used: Counter[str] = Counter()
    number = 0
    while len(results) < count:
        made = random_model(rng, number)
        number += 1
        if made is None:
            continue
        model, what = made
        for layer in all_layers(model):
            used[type(layer).__name__] += 1
        text = model.to_json()
        try:
            seen = keras_figures(model)
        except Exception as problem:  # the forward itself fails: not a model to compare
            free(model)
            print(f"  (random {number}: Keras cannot run it: {str(problem)[:100]})")
            continue
        free(model)
        outcome = check(f"random {number}", text, seen)
        results.append((f"random {number}: {what}", outcome))
        if not outcome.startswith("agreed"):
            print(f"random {number} ({what}): {outcome}")
        if outcome.startswith("DISAGREES"):
            print("  config:", text[:3000])
    missing = sorted(catalogue_classes() - set(used))
    print("Keras classes in the random models:", dict(sorted(used.items())))
    print("catalogue Keras classes not drawn:", missing)
    return results


def all_layers(model: Any) -> list[Any]:
    found = []
    for layer in model.layers:
        found.append(layer)
        if isinstance(layer, keras.Model):
            found.extend(all_layers(layer))
    return found


# -- round trips through convcalc export ---------------------------------------------------------


def roundtrip(names: list[str]) -> list[tuple[str, str]]:
    """Zoo models exported as Keras code, built, serialised and imported: the same figures as
    the zoo YAML they were exported from."""
    try:
        from convcalc._export import export_plan
        from convcalc._input._zoo import load_zoo
        from convcalc._model import read_model
        from convcalc._render._keras import render_keras
        from convcalc._settings import Framework
    except ImportError as problem:
        return [("roundtrip", f"refused: convcalc export is not there ({problem})")]
    results = []
    for function in names:
        zoo = APPLICATIONS[function]
        spec = load_zoo(zoo)
        want, _ = convcalc_figures(dict(spec))
        try:
            code = render_keras(export_plan(read_model(spec), Framework.KERAS))
        except ConvCalcError as problem:
            results.append((zoo, f"refused by export: {problem}"))
            continue
        namespace: dict[str, Any] = {"__name__": "exported"}
        try:
            exec(compile(code, "<exported>", "exec"), namespace)  # noqa: S102 - our own output
            model = namespace["build"]()
            text = model.to_json()
        except Exception as problem:
            results.append((zoo, f"DISAGREES: the exported code does not build: {problem}"))
            continue
        finally:
            namespace.clear()
            free()
        outcome = check(zoo, text, want)
        results.append((zoo, outcome))
        print(f"{zoo} (exported): {outcome}", flush=True)
    return results


# -- fixtures ------------------------------------------------------------------------------------


def sequential_cnn() -> Any:
    """A Sequential CNN: rescaling, convs (one frozen), batchnorm, pooling, dropout, dense."""
    model = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            L.Rescaling(1 / 255),
            L.Conv2D(16, 3, activation="relu", name="conv1"),
            L.BatchNormalization(),
            L.MaxPooling2D(),
            L.Conv2D(32, (3, 3), strides=2, padding="same", use_bias=False, name="conv2"),
            L.ReLU(max_value=6.0),
            L.Dropout(0.25),
            L.Flatten(),
            L.Dense(64, activation="relu"),
            L.Dense(10, activation="softmax", name="predictions"),
        ],
        name="sequential_cnn",
    )
    model.get_layer("conv1").trainable = False
    return model


def functional_skips() -> Any:
    """A Functional model with an Add and a Concatenate skip, a squeeze-and-excitation
    Multiply, padding, depthwise and separable convolutions."""
    inputs = keras.Input((40, 40, 3), name="image")
    x = L.Conv2D(16, 3, padding="same", name="stem")(inputs)
    y = L.Conv2D(16, 3, padding="same", activation="relu", name="branch_a")(x)
    y = L.Conv2D(16, 3, padding="same", name="branch_b")(y)
    x = L.Add(name="skip_add")([x, y])
    z = L.ZeroPadding2D(((0, 1), (0, 1)), name="pad")(x)
    z = L.DepthwiseConv2D(3, strides=2, name="dw")(z)
    w = L.MaxPooling2D(name="pool")(x)
    x = L.Concatenate(name="skip_concat")([z, w])
    s = L.GlobalAveragePooling2D(keepdims=True, name="se_pool")(x)
    s = L.Dense(8, activation="relu", name="se_reduce")(s)
    s = L.Dense(32, activation="sigmoid", name="se_expand")(s)
    x = L.Multiply(name="se_scale")([x, s])
    x = L.SeparableConv2D(24, 3, name="sep")(x)
    x = L.GlobalAveragePooling2D(name="gap")(x)
    outputs = L.Dense(5, name="head")(x)
    return keras.Model(inputs, outputs, name="functional_skips")


def nested_models() -> Any:
    """Models in a model: a Sequential block (frozen), a Functional block of two inputs, a
    Sequential in a Sequential."""
    stem = keras.Sequential(
        [keras.Input((24, 24, 3)), L.Conv2D(8, 3, name="stem_conv"), L.ReLU(name="stem_relu")],
        name="stem",
    )
    stem.trainable = False
    a = keras.Input((22, 22, 8), name="a")
    b = keras.Input((22, 22, 8), name="b")
    joined = L.Add(name="join")([a, b])
    joined = L.Conv2D(8, 1, name="mix")(joined)
    pair = keras.Model([a, b], joined, name="pair")
    inner = keras.Sequential([L.Dense(4, name="inner_dense")], name="inner")
    head = keras.Sequential([keras.Input((8,)), inner, L.Dense(3, name="outer_dense")], name="head")
    inputs = keras.Input((24, 24, 3))
    x = stem(inputs)
    y = L.Conv2D(8, 3, padding="same", name="side")(x)
    x = pair([x, y])
    x = L.GlobalMaxPooling2D(name="gmp")(x)
    outputs = head(x)
    return keras.Model(inputs, outputs, name="nested")


def operations() -> Any:
    """Keras 3 operations on constants (MobileNetV3's hard sigmoid and more) and on two
    tensors."""
    inputs = keras.Input((8, 8, 4))
    x = L.Conv2D(4, 1, name="conv")(inputs)
    y = keras.ops.multiply(keras.ops.relu6(x + 3.0), 1.0 / 6.0)
    y = 1.0 - y
    y = y / 2.0
    x = keras.ops.add(x, y)
    x = x - 0.5
    outputs = L.Flatten(name="flat")(x)
    return keras.Model(inputs, outputs, name="operations")


def refused_lambda() -> Any:
    return keras.Sequential(
        [keras.Input((8,)), L.Dense(4, name="d"), L.Lambda(lambda t: t * 2, name="double")],
        name="with_lambda",
    )


def refused_unknown() -> Any:
    return keras.Sequential(
        [keras.Input((8,)), L.Dense(4, name="d"), L.PReLU(name="learned_slope")],
        name="with_prelu",
    )


def refused_shared() -> Any:
    inputs = keras.Input((8,))
    shared = L.Dense(8, name="shared")
    outputs = shared(shared(inputs))
    return keras.Model(inputs, outputs, name="shared_dense")


FIXTURES_BUILT: dict[str, Callable[[], Any]] = {
    "sequential_cnn": sequential_cnn,
    "functional_skips": functional_skips,
    "nested": nested_models,
    "operations": operations,
    "lambda": refused_lambda,
    "prelu": refused_unknown,
    "shared": refused_shared,
}


def keras2_style(document: Any) -> Any:
    """A Keras 3 Functional config rewritten as Keras 2 wrote one: class Model, InputLayer's
    batch_input_shape, inbound nodes as [[layer, node, tensor, {}], ...]. (No Keras 2 here to
    save one; the rewrite follows tf.keras 2.x's get_config.)"""
    config = document["config"]
    layers = []
    for layer in config["layers"]:
        layer = dict(layer)
        inner = dict(layer["config"])
        if layer["class_name"] == "InputLayer":
            inner["batch_input_shape"] = inner.pop("batch_shape")
        inner["dtype"] = "float32"
        layer["config"] = inner
        nodes = []
        for node in layer.get("inbound_nodes", []):
            refs = []
            for arg in node["args"]:
                for tensor in arg if isinstance(arg, list) else [arg]:
                    refs.append([*tensor["config"]["keras_history"], {}])
            nodes.append(refs)
        layer["inbound_nodes"] = nodes
        layers.append(layer)
    ends = {
        key: [config[key]] if isinstance(config[key][0], str) else config[key]
        for key in ("input_layers", "output_layers")
    }
    return {
        "class_name": "Model",
        "config": {"name": config["name"], "layers": layers, **ends},
        "keras_version": "2.15.0",
        "backend": "tensorflow",
    }


def write_fixtures() -> int:
    """The small configs of tests/test_keras_import.py and Keras' figures for each."""
    FIXTURES.mkdir(parents=True, exist_ok=True)
    expected: dict[str, Any] = {
        "_versions": {"keras": keras.__version__, "backend": keras.backend.backend()},
        "_how": "written by tests/crosscheck/crosscheck_keras_import.py --write-fixtures: "
        "params = count_params(), trainable = sizes of trainable_weights, macs = the "
        "jaxpr count (module docstring), output without the batch; refused: what "
        "convcalc must refuse, and why",
    }
    for name, build in FIXTURES_BUILT.items():
        keras.utils.set_random_seed(0)
        model = build()
        text = model.to_json()
        (FIXTURES / f"{name}.json").write_text(text, encoding="utf-8")
        if name in ("lambda", "prelu", "shared"):
            expected[name] = {
                "refused": {"lambda": "Lambda", "prelu": "PReLU", "shared": "2 times"}[name]
            }
        else:
            expected[name] = keras_figures(model)
        if name == "functional_skips":
            keras2 = keras2_style(json.loads(text))
            (FIXTURES / "functional_skips_keras2.json").write_text(
                json.dumps(keras2), encoding="utf-8"
            )
            expected["functional_skips_keras2"] = expected[name]
        if name == "nested":
            model.save(FIXTURES / "nested.keras")
            expected["nested.keras"] = expected[name]
        free(model)
        print(name, expected[name], f"{len(text):,} characters")
    keras.utils.set_random_seed(0)
    model = keras.applications.MobileNetV2(weights=None)
    text = model.to_json()
    (FIXTURES / "mobilenet_v2.json").write_text(text, encoding="utf-8")
    expected["mobilenet_v2"] = keras_figures(model)
    free(model)
    print("mobilenet_v2", expected["mobilenet_v2"], f"{len(text):,} characters")
    (FIXTURES / "expected.json").write_text(
        json.dumps(expected, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    return 0


# -- main ----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="families, comma-separated (default: all)")
    parser.add_argument("--n", type=int, default=40, help="random models")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", nargs="*", help="only these keras.applications functions")
    parser.add_argument("--write-fixtures", action="store_true")
    args = parser.parse_args()
    if args.write_fixtures:
        return write_fixtures()
    families = (args.only or "applications,keras_file,random,roundtrip").split(",")
    names = args.models or list(APPLICATIONS)
    results: list[tuple[str, str]] = []
    if "applications" in families:
        results += applications(names)
    if "keras_file" in families:
        results += keras_file()
    if "random" in families:
        results += random_models(args.n, args.seed)
    if "roundtrip" in families:
        results += roundtrip(names)
    print()
    for label, outcome in results:
        print(f"{label}: {outcome.splitlines()[0][:400]}")
    counts = Counter(outcome.split(":")[0].split(" (")[0] for _, outcome in results)
    print(f"\n{len(results)} models: {dict(counts)}")
    return min(sum(1 for _, outcome in results if outcome.startswith("DISAGREES")), 100)


if __name__ == "__main__":
    sys.exit(main())
