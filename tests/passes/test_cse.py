"""cse: identical nodes (same type, attributes, inputs; constants by content) become one.

OpenVINO (f32) vs onnxruntime, rtol 1e-5, atol 1e-5.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from onnx import TensorProto, helper

import mo
from mo.graph import Graph
from mo.ir.builder import Builder
from mo.passes import cse

from ..onnx.util import make_model, run_onnx_vs_ir

RNG = np.random.default_rng(9)
F = TensorProto.FLOAT
X = RNG.standard_normal((1, 3, 6, 6)).astype(np.float32)


def _convert(nodes, outputs, inits, tmp_path: Path):
    model = make_model(nodes, [("x", F, [1, 3, 6, 6])], outputs, opset=18, inits=inits)
    got = run_onnx_vs_ir(model, {"x": X}, tmp_path, rtol=1e-5, atol=1e-5)
    graph = mo.convert(tmp_path / "model.onnx")
    graph.check()
    return graph, got


def test_equal_constants_and_the_ops_on_them_merge(tmp_path: Path) -> None:
    """Two convolutions with equal filters under different names, each followed by a Relu, added."""
    w = RNG.standard_normal((4, 3, 3, 3)).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "w1"], ["c1"], pads=[1, 1, 1, 1]),
             helper.make_node("Conv", ["x", "w2"], ["c2"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c1"], ["r1"]), helper.make_node("Relu", ["c2"], ["r2"]),
             helper.make_node("Add", ["r1", "r2"], ["y"])]
    graph, _ = _convert(nodes, [("y", F, None)], [("w1", w), ("w2", w.copy())], tmp_path)
    ops = graph.op_counts()
    assert ops["Convolution"] == 1 and ops["Relu"] == 1 and ops["Add"] == 1, ops
    report = next(r for r in graph.meta["reports"] if r.name == "cse")
    assert report.summary.startswith("2 duplicate nodes merged")    # convolution, relu (Consts stay)


def test_near_misses_stay(tmp_path: Path) -> None:
    """Equal filters but different strides; filters of equal shape but other values; two equal Relus
    that are both model outputs (each keeps its own name)."""
    w = RNG.standard_normal((4, 3, 3, 3)).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c1"], strides=[1, 1]),
             helper.make_node("Conv", ["x", "w"], ["c2"], strides=[2, 2]),
             helper.make_node("Conv", ["x", "v"], ["c3"], strides=[1, 1]),
             helper.make_node("Relu", ["x"], ["ya"]), helper.make_node("Relu", ["x"], ["yb"])]
    outs = [("c1", F, None), ("c2", F, None), ("c3", F, None), ("ya", F, None), ("yb", F, None)]
    graph, got = _convert(nodes, outs, [("w", w), ("v", w + 1)], tmp_path)
    ops = graph.op_counts()
    assert ops["Convolution"] == 3 and ops["Relu"] == 2, ops
    assert {"ya", "yb", "c1", "c2", "c3"} <= set(got)


def test_random_and_stateful_ops_are_never_merged() -> None:
    g = Graph()
    b = Builder(g)
    x = b.parameter("x", "f32", (2, 2))
    r1 = g.add_node("RandomUniform", "opset8", [x], [("f32", (2, 2))], {"seed": 1}).outputs[0]
    r2 = g.add_node("RandomUniform", "opset8", [x], [("f32", (2, 2))], {"seed": 1}).outputs[0]
    a1, a2 = b.op("Abs", x), b.op("Abs", x)
    b.result(b.op("Add", b.op("Add", r1, r2), b.op("Add", a1, a2)), "y")
    report = cse.run(g)
    g.check()
    assert g.op_counts()["RandomUniform"] == 2 and g.op_counts()["Abs"] == 1
    assert report.summary.startswith("1 duplicate")
