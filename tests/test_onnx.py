"""ONNX models in: ``convcalc model net.onnx`` and ``convcalc import net.onnx``.

The fixtures in ``tests/data/onnx/`` are tiny PyTorch networks exported by torch 2.13's two
exporters, and ``figures.json`` holds PyTorch's own figures for each (written by
``tests/crosscheck/record_onnx.py``, never by convcalc). The other graphs here are built with
``onnx.helper`` and their figures worked out by hand. The whole module needs the optional
``onnx`` package, except the test of what happens without it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from convcalc._cli import app

runner = CliRunner()
DATA = Path(__file__).resolve().parent / "data" / "onnx"
FIGURES = json.loads((DATA / "figures.json").read_text(encoding="utf-8"))
FIXTURES = sorted(name for name in FIGURES if not name.startswith("_"))


@pytest.fixture
def onnx() -> Any:
    return pytest.importorskip("onnx")


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def totals(*args: str) -> dict[str, Any]:
    code, out, err = run("model", *args, "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    return {**report["totals"], "output": report["output_shape"], "layers": report["layers"]}


@pytest.mark.parametrize("name", FIXTURES)
def test_fixtures_match_pytorch(onnx: Any, name: str) -> None:
    want = FIGURES[name]
    got = totals(str(DATA / f"{name}.onnx"))
    assert got["params"] == want["params"]
    assert got["trainable_params"] == want["trainable"]
    assert got["macs"] == want["macs"]
    assert got["output"] == want["output"]
    # PyTorch's BatchNorm running statistics are buffers, in parameter memory
    assert got["param_bytes"] == 4 * (want["params"] + want["buffers"])


@pytest.mark.parametrize("name", FIXTURES)
def test_import_writes_yaml_that_gives_the_same_figures(
    onnx: Any, name: str, tmp_path: Path
) -> None:
    code, out, err = run("import", str(DATA / f"{name}.onnx"))
    assert code == 0, err
    assert out.startswith("# Imported by `convcalc import` from ")
    path = tmp_path / f"{name}.yaml"
    path.write_text(out, encoding="utf-8")
    got = totals(str(path))
    want = FIGURES[name]
    assert (got["params"], got["macs"], got["output"]) == (
        want["params"],
        want["macs"],
        want["output"],
    )


def test_rows_are_named_after_the_nodes(onnx: Any) -> None:
    # the TorchScript exporter names nodes after the modules: /conv1/Conv, /bn1/...
    layers = totals(str(DATA / "small_cnn.onnx"))["layers"]
    names = [(layer["name"], layer["type"]) for layer in layers]
    assert names[:4] == [
        ("conv1/Conv", "conv2d"),
        ("bn1/BatchNormalization", "batchnorm"),
        ("Relu", "relu"),
        ("MaxPool", "maxpool2d"),
    ]
    assert names[-1] == ("fc2/Gemm", "dense")


def test_the_split_concat_and_shuffle_are_read_as_constructs(onnx: Any) -> None:
    # shuffle.onnx: x.chunk(2, 1), torch.cat((x1, branch(x2)), 1), then the channel shuffle
    # written as view, transpose, contiguous, view (dynamo exporter)
    layers = totals(str(DATA / "shuffle.onnx"))["layers"]
    types = [layer["type"] for layer in layers]
    assert "channel_shuffle" in types
    assert "concat" in types
    shuffle = next(layer for layer in layers if layer["type"] == "channel_shuffle")
    assert shuffle["output_shape"] == [8, 4, 4]
    inside = [layer["name"] for layer in layers if layer["depth"] == 1]
    assert len(inside) == 4  # the branch's conv, batchnorm, conv, and the concat


def test_a_vision_transformer_is_read_as_its_parts(onnx: Any) -> None:
    # tiny_vit.onnx: torchvision's VisionTransformer (dynamo exporter), whose attention is
    # some forty nodes of projections, reshapes, transposes, two products and a softmax
    layers = totals(str(DATA / "tiny_vit.onnx"))["layers"]
    types = [layer["type"] for layer in layers]
    assert types[:5] == ["conv2d", "reshape", "permute", "class_token", "position_embedding"]
    assert types.count("multihead_attention") == 1
    assert types[-2:] == ["take_token", "dense"]
    attention = next(layer for layer in layers if layer["type"] == "multihead_attention")
    # E = 8: 4*E*E + 4*E
    assert attention["params"] == 4 * 8 * 8 + 4 * 8
    assert attention["output_shape"] == [5, 8]


def test_a_swin_transformer_is_read_as_its_parts(onnx: Any) -> None:
    # tiny_swin.onnx: torchvision's SwinTransformer, 2x2 windows: a plain block, a shifted one
    # (its cyclic shift as slices and concats, its mask a constant), a patch merging and a
    # block after it; each attention hundreds of nodes from the map back to the map
    layers = totals(str(DATA / "tiny_swin.onnx"))["layers"]
    attention = [layer for layer in layers if layer["type"] == "window_attention"]
    assert [layer["output_shape"] for layer in attention] == [[4, 4, 4], [4, 4, 4], [2, 2, 8]]
    # qkv and proj, 4*C*C + 4*C, and the bias table, (2*2 - 1)**2 * heads
    assert [layer["params"] for layer in attention] == [80 + 9, 80 + 9, 288 + 18]
    merging = next(layer for layer in layers if layer["type"] == "patch_merging")
    # LayerNorm(4C) and Linear(4C, 2C, bias=False): 8*C*C + 8*C with C = 4
    assert (merging["output_shape"], merging["params"]) == ([2, 2, 8], 128 + 32)


# -- graphs built by hand ---------------------------------------------------------------------


def tensor_info(onnx: Any, name: str, shape: list[Any]) -> Any:
    return onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, shape)


def weight(onnx: Any, name: str, shape: list[int], external: bool = False) -> Any:
    import numpy as np

    tensor = onnx.numpy_helper.from_array(np.zeros(shape, dtype=np.float32), name)
    if external:  # stored elsewhere: only its shape is in the file
        tensor.ClearField("raw_data")
        tensor.data_location = onnx.TensorProto.EXTERNAL
        entry = tensor.external_data.add()
        entry.key, entry.value = "location", "/nonexistent/weights.bin"
    return tensor


def model_file(
    onnx: Any,
    tmp_path: Path,
    nodes: list[Any],
    initializers: list[Any],
    input_shape: list[Any],
    outputs: tuple[str, ...] = ("y",),
) -> str:
    graph = onnx.helper.make_graph(
        nodes,
        "hand",
        [tensor_info(onnx, "x", input_shape)],
        [tensor_info(onnx, name, None) for name in outputs],
        initializers,
    )
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 17)])
    path = tmp_path / "hand.onnx"
    path.write_bytes(model.SerializeToString())
    return str(path)


def test_a_graph_built_by_hand(onnx: Any, tmp_path: Path) -> None:
    make = onnx.helper.make_node
    nodes = [
        # 3x10x10, 4 filters 3x3, stride 2, SAME_UPPER: 5x5 from pads of 0 before, 1 after
        make("Conv", ["x", "w"], ["c"], name="conv", strides=[2, 2], auto_pad="SAME_UPPER"),
        # pads of -1: crop the first row and the last column, 4x4x4
        make("Pad", ["c", "pads"], ["p"], name="crop"),
        # to 7x7, not a whole factor: a size
        make("Resize", ["p", "", "", "sizes"], ["r"], name="resize", mode="nearest"),
        make("Flatten", ["r"], ["f"], name="flatten", axis=1),
        # Linear written as MatMul and Add: one dense layer of 3 with its bias
        make("MatMul", ["f", "fc_w"], ["m"], name="fc"),
        make("Add", ["m", "fc_b"], ["y"], name="fc_bias"),
    ]
    initializers = [
        weight(onnx, "w", [4, 3, 3, 3], external=True),
        onnx.helper.make_tensor("pads", onnx.TensorProto.INT64, [8], [0, 0, -1, 0, 0, 0, 0, -1]),
        onnx.helper.make_tensor("sizes", onnx.TensorProto.INT64, [4], [1, 4, 7, 7]),
        weight(onnx, "fc_w", [196, 3]),
        weight(onnx, "fc_b", [3]),
    ]
    got = totals(model_file(onnx, tmp_path, nodes, initializers, ["N", 3, 10, 10]))
    rows = [(layer["type"], layer["output_shape"]) for layer in got["layers"]]
    assert rows == [
        ("zeropadding2d", [3, 11, 11]),
        ("conv2d", [4, 5, 5]),
        ("cropping2d", [4, 4, 4]),
        ("upsample", [4, 7, 7]),
        ("flatten", [196]),
        ("dense", [3]),
    ]
    # conv: 4*3*3*3 = 108 weights, no bias; 4*5*5 outputs of 27 MACs = 2,700
    # dense: 196*3 + 3 = 591; 588 MACs
    assert got["params"] == 108 + 591
    assert got["macs"] == 2700 + 588
    assert got["output"] == [3]


def test_relu6_silu_and_a_per_channel_scale(onnx: Any, tmp_path: Path) -> None:
    make = onnx.helper.make_node
    nodes = [
        make("Constant", [], ["zero"], value_float=0.0),
        make("Constant", [], ["six"], value_float=6.0),
        make("Clip", ["x", "zero", "six"], ["a"], name="clip"),
        make("Sigmoid", ["a"], ["s"], name="sig"),
        make("Mul", ["a", "s"], ["b"], name="swish"),
        make("Mul", ["gamma", "b"], ["c"], name="scale"),
        make("Mul", ["c", "half"], ["y"], name="half"),
    ]
    initializers = [
        weight(onnx, "gamma", [5, 1, 1]),
        onnx.helper.make_tensor("half", onnx.TensorProto.FLOAT, [], [0.5]),
    ]
    got = totals(model_file(onnx, tmp_path, nodes, initializers, [1, 5, 4, 4]))
    assert [(layer["name"], layer["type"]) for layer in got["layers"]] == [
        ("clip", "relu6"),
        ("swish", "silu"),
        ("scale", "layer_scale"),
        ("half", "rescaling"),
    ]
    assert got["params"] == 5  # the learned scale, one per channel


def test_a_bias_computed_in_the_graph_holds_no_parameters(onnx: Any, tmp_path: Path) -> None:
    # the dynamo exporter writes bias=False as Expand(CastLike(0, x), [filters])
    make = onnx.helper.make_node
    nodes = [
        make("Constant", [], ["zero"], value_float=0.0),
        make("CastLike", ["zero", "x"], ["z"]),
        make("Constant", [], ["filters"], value_ints=[6]),
        make("Expand", ["z", "filters"], ["bias"]),
        make("Conv", ["x", "w", "bias"], ["y"], name="conv", kernel_shape=[1, 1]),
    ]
    got = totals(model_file(onnx, tmp_path, nodes, [weight(onnx, "w", [6, 2, 1, 1])], [1, 2, 3, 3]))
    assert got["params"] == 12


# -- refusals -----------------------------------------------------------------------------------


def test_an_unsupported_operator_is_named_with_its_node(onnx: Any, tmp_path: Path) -> None:
    make = onnx.helper.make_node
    nodes = [
        make("Relu", ["x"], ["r"], name="relu"),
        make("Einsum", ["r", "r"], ["y"], name="mix\x1b[2J", equation="bchw,bchw->bchw"),
    ]
    code, out, err = run("model", model_file(onnx, tmp_path, nodes, [], [1, 2, 3, 3]))
    assert code == 2
    assert out == ""
    assert err.startswith("Error: ")
    assert "'Einsum'" in err
    assert "mix\\x1b[2J" in err  # the name as data, escaped
    assert "\x1b" not in err
    assert "Traceback" not in err


def test_a_dynamic_spatial_size_is_refused(onnx: Any, tmp_path: Path) -> None:
    nodes = [onnx.helper.make_node("Relu", ["x"], ["y"])]
    path = model_file(onnx, tmp_path, nodes, [], ["N", 3, "height", 8])
    code, _, err = run("model", path)
    assert code == 2
    assert "no fixed size on axis 2 ('height')" in err
    assert "fixed input size" in err


def test_two_outputs_are_refused(onnx: Any, tmp_path: Path) -> None:
    make = onnx.helper.make_node
    nodes = [make("Relu", ["x"], ["y"]), make("Sigmoid", ["x"], ["z"])]
    path = model_file(onnx, tmp_path, nodes, [], [1, 3, 4, 4], outputs=("y", "z"))
    code, _, err = run("model", path)
    assert code == 2
    assert "has 2 outputs; convcalc reads models of one output" in err


def test_a_file_that_is_not_onnx(onnx: Any, tmp_path: Path) -> None:
    path = tmp_path / "net.onnx"
    path.write_bytes(b"\xff\xff\xff\xff not protobuf")
    code, _, err = run("model", str(path))
    assert code == 2
    assert "is not an ONNX model" in err
    path.write_bytes(b"")
    code, _, err = run("model", str(path))
    assert code == 2
    assert "is empty" in err


def test_the_file_size_is_bounded(
    onnx: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from convcalc._input import _onnx

    monkeypatch.setattr(_onnx, "MAX_BYTES", 100)
    code, _, err = run("model", str(DATA / "small_cnn.onnx"))
    assert code == 2
    assert "is larger than 100 bytes" in err
    assert "external data" in err


def test_without_the_onnx_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx raises ImportError
    code, out, err = run("model", str(DATA / "small_cnn.onnx"))
    assert code == 2
    assert out == ""
    assert err.startswith("Error: reading an ONNX model needs the onnx package")
    assert "pip install 'convcalc[onnx]'" in err
    assert "Traceback" not in err


# -- PyTorch modules: from_torch ------------------------------------------------------------------
# torch is never needed by the tests: its refusal without torch is tested here, and the
# translation itself by tests/crosscheck/crosscheck_from_torch.py in the framework venv.


def test_from_torch_without_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    from convcalc import ConvCalcError
    from convcalc._input._torch import from_torch

    monkeypatch.setitem(sys.modules, "torch", None)  # import torch raises ImportError
    with pytest.raises(ConvCalcError) as refused:
        from_torch(object(), (3, 224, 224))
    assert "from_torch needs PyTorch (pip install torch)" in str(refused.value)
    assert "never installs it" in str(refused.value)


def test_convcalc_never_imports_torch_or_onnx_to_start() -> None:
    import subprocess

    code = (
        "import sys, convcalc, convcalc._cli, convcalc._input._torch, convcalc._input._onnx; "
        "print(sorted(m for m in ('torch', 'onnx') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_node_names_become_names_convcalc_reads_as_names(onnx: Any, tmp_path: Path) -> None:
    make = onnx.helper.make_node
    nodes = [
        make("Relu", ["x"], ["a"], name="/block.1/$act"),
        make("Sigmoid", ["a"], ["b"], name="input"),
        make("Add", ["a", "b"], ["y"], name="/block.1/$act"),  # the same name again
    ]
    path = model_file(onnx, tmp_path, nodes, [], [1, 2, 3, 3])
    layers = totals(path)["layers"]
    assert [layer["name"] for layer in layers] == ["block_1/_act", "input_node", "block_1/_act_2"]
    code, out, err = run("import", path)
    assert code == 0, err
    written = tmp_path / "again.yaml"
    written.write_text(out, encoding="utf-8")
    assert [layer["name"] for layer in totals(str(written))["layers"]] == [
        "block_1/_act",
        "input_node",
        "block_1/_act_2",
    ]


def test_an_initializer_that_does_not_hold_its_dimensions_is_refused(
    onnx: Any, tmp_path: Path
) -> None:
    # 8 bytes of data declared as 2**20 x 2**20 floats: 2**40 parameters the file never held
    make = onnx.helper.make_node
    lying = onnx.TensorProto(name="w", data_type=onnx.TensorProto.FLOAT, raw_data=b"\0" * 8)
    lying.dims.extend([2**20, 2**20])
    path = model_file(
        onnx, tmp_path, [make("MatMul", ["x", "w"], ["y"], name="fc")], [lying], [1, 2**20]
    )
    code, out, err = run("model", path)
    assert code == 2
    assert out == ""
    assert (
        "initializer 'w' declares [1048576, 1048576] (1,099,511,627,776 values) but holds 2" in err
    )


@pytest.mark.parametrize("partition", ["window", "grid"])
def test_maxvit_partition_attention_is_read_as_window_attention(
    onnx: Any, tmp_path: Path, partition: str
) -> None:
    # torchvision MaxViT's PartitionAttentionLayer as the dynamo exporter writes it: a map
    # (N, 8, 4, 4) partitioned into 4 groups of 2x2 tokens (N, 4, 4, 8) (the grid: the
    # partition of 2x2 groups, its G and T swapped), LayerNorm, to_qkv split into q, k, v by
    # SplitToSequence and SequenceAt, 2 heads of 4, the products as Einsum with the relative
    # position bias gathered from its table, merge, the residual, the MLP, and back
    import numpy as np

    make = onnx.helper.make_node
    grid = partition == "grid"
    ints = onnx.TensorProto.INT64

    def const(name: str, values: list[int], dims: list[int] | None = None) -> Any:
        return onnx.helper.make_tensor(name, ints, [len(values)] if dims is None else dims, values)

    heads_first = [0, 1, 3, 2, 4]
    nodes = [
        make("Reshape", ["x", "split6"], ["v"]),
        make("Transpose", ["v"], ["vt"], perm=[0, 2, 4, 3, 5, 1]),
        make("Identity", ["vt"], ["vc"]),
        make("Reshape", ["vc", "tok4"], ["g" if grid else "t"]),
        *([make("Transpose", ["g"], ["t"], perm=[0, 2, 1, 3])] if grid else []),
        make("LayerNormalization", ["t", "ln_w", "ln_b"], ["n"], axis=-1),
        make("MatMul", ["n", "qkv_w"], ["q0"]),
        make("Add", ["q0", "qkv_b"], ["qkv"]),
        make("SplitToSequence", ["qkv", "third"], ["seq"], axis=-1),
        *[make("SequenceAt", ["seq", f"i{i}"], [part]) for i, part in enumerate("qkv".upper())],
        *[make("Reshape", [p, "heads5"], [p + "r"]) for p in "QKV"],
        *[make("Transpose", [p + "r"], [p + "h"], perm=heads_first) for p in "QKV"],
        make("Mul", ["Kh", "scale"], ["Ks"]),
        make("Einsum", ["Qh", "Ks"], ["s"], equation="bghid,bghjd->bghij"),
        make("Gather", ["table", "index"], ["b0"]),
        make("Transpose", ["b0"], ["b1"], perm=[1, 0]),
        make("Reshape", ["b1", "bias5"], ["bias"]),
        make("Add", ["s", "bias"], ["sb"]),
        make("Softmax", ["sb"], ["a"], axis=-1),
        make("Einsum", ["a", "Vh"], ["o"], equation="bghij,bghjd->bghid"),
        make("Transpose", ["o"], ["ot"], perm=heads_first),
        make("Reshape", ["ot", "tok4"], ["om"]),
        make("MatMul", ["om", "merge_w"], ["m0"]),
        make("Add", ["m0", "merge_b"], ["att"]),
        make("Add", ["t", "att"], ["r1"]),
        make("LayerNormalization", ["r1", "ln2_w", "ln2_b"], ["n2"], axis=-1),
        make("MatMul", ["n2", "fc1_w"], ["h0"]),
        make("Add", ["h0", "fc1_b"], ["h1"]),
        make("Relu", ["h1"], ["h2"]),
        make("MatMul", ["h2", "fc2_w"], ["h3"]),
        make("Add", ["h3", "fc2_b"], ["h4"]),
        make("Add", ["r1", "h4"], ["r2"]),
        *([make("Transpose", ["r2"], ["r3"], perm=[0, 2, 1, 3])] if grid else []),
        make("Reshape", ["r3" if grid else "r2", "split6b"], ["u"]),
        make("Transpose", ["u"], ["ut"], perm=[0, 5, 1, 3, 2, 4]),
        make("Reshape", ["ut", "map4"], ["y"]),
    ]
    initializers = [
        const("split6", [1, 8, 2, 2, 2, 2]),
        const("tok4", [1, 4, 4, 8]),
        const("heads5", [1, 4, 4, 2, 4]),
        const("bias5", [1, 1, 2, 4, 4]),
        const("split6b", [1, 2, 2, 2, 2, 8]),
        const("map4", [1, 8, 4, 4]),
        const("third", [8], []),
        *[const(f"i{i}", [i], []) for i in range(3)],
        const("index", [i % 9 for i in range(16)]),
        onnx.numpy_helper.from_array(np.array(0.5, dtype=np.float32), "scale"),
        weight(onnx, "ln_w", [8]),
        weight(onnx, "ln_b", [8]),
        weight(onnx, "qkv_w", [8, 24]),
        weight(onnx, "qkv_b", [24]),
        weight(onnx, "table", [9, 2]),
        weight(onnx, "merge_w", [8, 8]),
        weight(onnx, "merge_b", [8]),
        weight(onnx, "ln2_w", [8]),
        weight(onnx, "ln2_b", [8]),
        weight(onnx, "fc1_w", [8, 32]),
        weight(onnx, "fc1_b", [32]),
        weight(onnx, "fc2_w", [32, 8]),
        weight(onnx, "fc2_b", [8]),
    ]
    path = model_file(onnx, tmp_path, nodes, initializers, [1, 8, 4, 4])
    got = totals(path)
    rows = [(layer["type"], layer["output_shape"]) for layer in got["layers"]]
    assert rows == [
        ("permute", [4, 4, 8]),
        ("layernorm", [4, 4, 8]),
        ("window_attention", [4, 4, 8]),
        ("add", [4, 4, 8]),
        ("layernorm", [4, 4, 8]),
        ("dense", [4, 4, 32]),
        ("relu", [4, 4, 32]),
        ("dense", [4, 4, 8]),
        ("add", [4, 4, 8]),
        ("permute", [8, 4, 4]),
    ]
    attention = got["layers"][2]
    # to_qkv 8*24 + 24, merge 8*8 + 8, the bias table (2*2 - 1)**2 * 2 heads
    assert attention["params"] == 216 + 72 + 18
    # the LayerNorms 2 * 16, fc1 8*32 + 32, fc2 32*8 + 8
    assert got["params"] == 306 + 32 + 288 + 264
    assert got["output"] == [8, 4, 4]
    from convcalc._input._onnx import read_onnx

    found = [
        next(iter(layer.values()))
        for layer in read_onnx(path)["layers"]
        if next(iter(layer)) == "window_attention"
    ]
    assert [(f["partition"], f["pad"], f["window"]) for f in found] == [(partition, False, 2)]
