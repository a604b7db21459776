"""merge_chains: Transpose/Reshape/Concat chains, shape subgraphs, constant Mul/Add chains, ShuffleChannels.

Every model runs in OpenVINO (f32) and onnxruntime; outputs agree to rtol 1e-5, atol 1e-5
(the arithmetic rules reassociate f32 products: x*(a*b) vs (x*a)*b differ in the last bits).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from onnx import TensorProto, helper

import mo

from ..onnx.util import make_model, run_onnx_vs_ir

RNG = np.random.default_rng(3)
F = TensorProto.FLOAT


def _c(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def _i(*v: int) -> np.ndarray:
    return np.array(v, np.int64)


def _convert(nodes, inputs, outputs, inits, tmp_path: Path, feeds, opset=18):
    model = make_model(nodes, inputs, outputs, opset=opset, inits=inits)
    run_onnx_vs_ir(model, feeds, tmp_path, rtol=1e-5, atol=1e-5)
    graph = mo.convert(tmp_path / "model.onnx")
    graph.check()
    return graph.op_counts(), graph


X = RNG.standard_normal((2, 3, 4, 5)).astype(np.float32)


def test_transpose_pairs_merge_or_cancel(tmp_path: Path) -> None:
    nodes = [helper.make_node("Transpose", ["x"], ["t1"], perm=[0, 2, 3, 1]),
             helper.make_node("Transpose", ["t1"], ["a"], perm=[0, 3, 1, 2]),      # cancels
             helper.make_node("Relu", ["a"], ["r"]),
             helper.make_node("Transpose", ["r"], ["t2"], perm=[1, 0, 2, 3]),
             helper.make_node("Transpose", ["t2"], ["y"], perm=[0, 1, 3, 2])]      # one Transpose
    ops, graph = _convert(nodes, [("x", F, [2, 3, 4, 5])], [("y", F, None)], [], tmp_path, {"x": X})
    assert ops.get("Transpose") == 1, ops
    assert graph.outputs[0].name == "y"


def test_reshape_squeeze_unsqueeze_chain_is_one_reshape(tmp_path: Path) -> None:
    nodes = [helper.make_node("Reshape", ["x", "s1"], ["a"]),
             helper.make_node("Unsqueeze", ["a", "ax"], ["b"]),
             helper.make_node("Squeeze", ["b", "ax"], ["c"]),
             helper.make_node("Reshape", ["c", "s2"], ["y"]),
             helper.make_node("Transpose", ["x"], ["t"], perm=[0, 1, 3, 2]),
             helper.make_node("Reshape", ["t", "s3"], ["u"]),
             helper.make_node("Transpose", ["u"], ["z"], perm=[0, 2, 1, 3])]       # moves a size-1 axis only
    ops, _ = _convert(nodes, [("x", F, [2, 3, 4, 5])], [("y", F, None), ("z", F, None)],
                      [("s1", _i(6, 20)), ("ax", _i(0)), ("s2", _i(2, 60)), ("s3", _i(2, 3, 1, 20))],
                      tmp_path, {"x": X})
    assert ops.get("Reshape") == 2 and "Squeeze" not in ops and "Unsqueeze" not in ops, ops
    assert ops.get("Transpose") == 1, ops


def test_shape_subgraph_around_dynamic_batch_becomes_constant(tmp_path: Path) -> None:
    """Keras' squeeze-excitation reshape: [N, C] -> [Shape(x)[0], 1, 1, C] with N dynamic."""
    nodes = [helper.make_node("Shape", ["x"], ["sh"]),
             helper.make_node("Gather", ["sh", "zero"], ["n"], axis=0),
             helper.make_node("Unsqueeze", ["n", "ax"], ["n1"]),
             helper.make_node("Concat", ["n1", "tail"], ["target"], axis=0),
             helper.make_node("Reshape", ["x", "target"], ["r"]),
             helper.make_node("Transpose", ["r"], ["y"], perm=[0, 3, 1, 2])]
    feeds = {"x": RNG.standard_normal((3, 8)).astype(np.float32)}
    ops, graph = _convert(nodes, [("x", F, ["N", 8])], [("y", F, None)],
                          [("zero", np.array(0, np.int64)), ("ax", _i(0)), ("tail", _i(1, 1, 8))], tmp_path, feeds)
    assert ops.get("Reshape") == 1 and not {"ShapeOf", "Gather", "Concat", "Transpose"} & set(ops), ops
    assert graph.outputs[0].shape == (-1, 8, 1, 1)


def test_channel_shuffle_becomes_shuffle_channels(tmp_path: Path) -> None:
    x = RNG.standard_normal((1, 6, 3, 3)).astype(np.float32)
    nodes = [helper.make_node("Reshape", ["x", "s1"], ["a"]),
             helper.make_node("Transpose", ["a"], ["b"], perm=[0, 2, 1, 3, 4]),
             helper.make_node("Reshape", ["b", "s2"], ["y"])]
    ops, _ = _convert(nodes, [("x", F, [1, 6, 3, 3])], [("y", F, None)],
                      [("s1", _i(1, 2, 3, 3, 3)), ("s2", _i(1, 6, 3, 3))], tmp_path, {"x": x})
    assert ops.get("ShuffleChannels") == 1 and "Reshape" not in ops and "Transpose" not in ops, ops


def test_constant_arithmetic_chain_collapses(tmp_path: Path) -> None:
    """((x - m) / s) * a + b, then * 1 and + 0: one Multiply and one Add remain."""
    nodes = [helper.make_node("Sub", ["x", "m"], ["a"]), helper.make_node("Div", ["a", "s"], ["b"]),
             helper.make_node("Mul", ["b", "k"], ["c"]), helper.make_node("Add", ["c", "t"], ["d"]),
             helper.make_node("Mul", ["d", "one"], ["e"]), helper.make_node("Add", ["zero", "e"], ["y"])]
    inits = [("m", _c(5)), ("s", np.abs(_c(1, 5)) + 0.5), ("k", _c(3, 1, 1)), ("t", _c(5)),
             ("one", np.ones((1, 1, 1, 1), np.float32)), ("zero", np.zeros((), np.float32))]
    ops, graph = _convert(nodes, [("x", F, [2, 3, 4, 5])], [("y", F, None)], inits, tmp_path, {"x": X})
    assert ops.get("Multiply") == 1 and ops.get("Add") == 1 and "Subtract" not in ops and "Divide" not in ops, ops
    assert graph.outputs[0].name == "y"


def test_nested_concats_flatten(tmp_path: Path) -> None:
    nodes = [helper.make_node("Concat", ["x", "x"], ["a"], axis=1),
             helper.make_node("Relu", ["x"], ["r"]),
             helper.make_node("Concat", ["r", "a", "x"], ["y"], axis=-3)]
    ops, _ = _convert(nodes, [("x", F, [2, 3, 4, 5])], [("y", F, None)], [], tmp_path, {"x": X})
    assert ops.get("Concat") == 1, ops


def test_near_misses_stay(tmp_path: Path) -> None:
    """A Mul whose inner Mul has a second reader; a Transpose that really moves data; a Concat on
    another axis; x * 2 (not neutral); an integer Sub: nothing merges."""
    nodes = [helper.make_node("Mul", ["x", "a"], ["m1"]), helper.make_node("Mul", ["m1", "b"], ["y1"]),
             helper.make_node("Relu", ["m1"], ["y2"]),
             helper.make_node("Transpose", ["x"], ["t"], perm=[0, 2, 1, 3]),
             helper.make_node("Concat", ["t", "t"], ["c"], axis=2),
             helper.make_node("Concat", ["c", "c"], ["y3"], axis=1),
             helper.make_node("Sub", ["i", "k"], ["y4"])]
    feeds = {"x": X, "i": np.arange(6, dtype=np.int64).reshape(2, 3)}
    ops, _ = _convert(nodes, [("x", F, [2, 3, 4, 5]), ("i", TensorProto.INT64, [2, 3])],
                      [("y1", F, None), ("y2", F, None), ("y3", F, None), ("y4", TensorProto.INT64, None)],
                      [("a", np.float32(2.0)), ("b", _c(5)), ("k", _i(1, 2, 3))], tmp_path, feeds)
    assert ops["Multiply"] == 2 and ops["Transpose"] == 1 and ops["Concat"] == 2 and ops["Subtract"] == 1, ops


def test_fused_ir_is_deterministic(tmp_path: Path) -> None:
    """Two conversions of a model that every structural pass touches give byte-identical IRs."""
    import onnx
    nodes = [helper.make_node("Pad", ["x", "p"], ["xp"]),
             helper.make_node("Conv", ["xp", "w"], ["c"]),
             helper.make_node("Conv", ["xp", "w2"], ["c2"]),
             helper.make_node("Reshape", ["c", "s1"], ["a"]),
             helper.make_node("Transpose", ["a"], ["b"], perm=[0, 2, 1, 3, 4]),
             helper.make_node("Reshape", ["b", "s2"], ["d"]),
             helper.make_node("Sub", ["d", "m"], ["e"]), helper.make_node("Div", ["e", "k"], ["f"]),
             helper.make_node("Add", ["f", "c2"], ["y"])]
    w = _c(4, 3, 3, 3)
    inits = [("p", _i(0, 0, 1, 1, 0, 0, 1, 1)), ("w", w), ("w2", w.copy()), ("s1", _i(2, 2, 2, 4, 5)),
             ("s2", _i(2, 4, 4, 5)), ("m", _c(4, 1, 1)), ("k", np.float32(2.0))]
    model = make_model(nodes, [("x", F, [2, 3, 4, 5])], [("y", F, None)], opset=18, inits=inits)
    src = tmp_path / "model.onnx"
    onnx.save(model, src)
    blobs = []
    for i in range(2):
        graph = mo.convert(src)
        mo.save(graph, tmp_path / f"ir{i}" / "model.xml")
        blobs.append(((tmp_path / f"ir{i}" / "model.xml").read_bytes(), (tmp_path / f"ir{i}" / "model.bin").read_bytes()))
    assert blobs[0] == blobs[1]
    ops = graph.op_counts()
    assert ops.get("ShuffleChannels") == 1 and "Pad" not in ops and ops["Convolution"] == 1, ops
    (tmp_path / "run").mkdir()
    run_onnx_vs_ir(model, {"x": X}, tmp_path / "run", rtol=1e-5, atol=1e-5)
