"""fuse_pad: a zero/-inf Pad on spatial axes goes into the pads of the Conv/MaxPool/AvgPool reading it.

Each model runs in OpenVINO (f32) and onnxruntime; outputs agree to rtol 1e-5, atol 1e-5.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from onnx import TensorProto, helper

import mo

from ..onnx.util import make_model, run_onnx_vs_ir

RNG = np.random.default_rng(5)
F = TensorProto.FLOAT
X = RNG.standard_normal((1, 4, 7, 7)).astype(np.float32)


def _w(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def _pads(b: tuple[int, int, int, int], e: tuple[int, int, int, int]) -> np.ndarray:
    return np.array(list(b) + list(e), np.int64)


def _run(nodes, out_shape, tmp_path: Path, inits, value=None):
    inits = list(inits) + ([("v", np.array(value, np.float32))] if value is not None else [])
    model = make_model(nodes, [("x", F, [1, 4, 7, 7])], [("y", F, out_shape)], opset=18, inits=inits)
    run_onnx_vs_ir(model, {"x": X}, tmp_path, rtol=1e-5, atol=1e-5)
    graph = mo.convert(tmp_path / "model.onnx")
    graph.check()
    report = next(r for r in graph.meta["reports"] if r.name == "fuse_pad")
    return graph, report


def _only(graph, op):
    nodes = [n for n in graph.nodes if n.op == op]
    assert len(nodes) == 1, graph.op_counts()
    return nodes[0]


def test_pad_into_convolution_adds_to_its_pads(tmp_path: Path) -> None:
    nodes = [helper.make_node("Pad", ["x", "p"], ["xp"]),
             helper.make_node("Conv", ["xp", "w"], ["y"], pads=[1, 0, 0, 1])]
    graph, report = _run(nodes, [1, 8, 10, 9], tmp_path, [("p", _pads((0, 0, 1, 2), (0, 0, 2, 0))), ("w", _w(8, 4, 3, 3))])
    assert "Pad" not in graph.op_counts() and report.changed
    conv = _only(graph, "Convolution")
    assert conv.attrs["pads_begin"] == [2, 2] and conv.attrs["pads_end"] == [2, 1]
    assert graph.outputs[0].name == "y"


def test_pad_into_group_convolution_with_explicit_zero_value(tmp_path: Path) -> None:
    nodes = [helper.make_node("Pad", ["x", "p", "v"], ["xp"]),
             helper.make_node("Conv", ["xp", "w"], ["y"], group=4, strides=[2, 2])]
    graph, _ = _run(nodes, [1, 4, 4, 4], tmp_path, [("p", _pads((0, 0, 1, 1), (0, 0, 1, 1))), ("w", _w(4, 1, 3, 3))],
                    value=0.0)
    assert "Pad" not in graph.op_counts()
    assert _only(graph, "GroupConvolution").attrs["pads_begin"] == [1, 1]


def test_minus_inf_pad_into_max_pool(tmp_path: Path) -> None:
    nodes = [helper.make_node("Pad", ["x", "p", "v"], ["xp"]),
             helper.make_node("MaxPool", ["xp"], ["y"], kernel_shape=[3, 3], strides=[2, 2])]
    graph, _ = _run(nodes, [1, 4, 4, 4], tmp_path, [("p", _pads((0, 0, 1, 1), (0, 0, 1, 1)))], value=-np.inf)
    assert "Pad" not in graph.op_counts()
    assert _only(graph, "MaxPool").attrs["pads_end"] == [1, 1]


def test_zero_pad_after_relu_into_max_pool(tmp_path: Path) -> None:
    """Keras ResNet50's pool1_pad: ZeroPadding2D after a ReLU, then a 3x3/2 MaxPool."""
    nodes = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Pad", ["r", "p"], ["xp"]),
             helper.make_node("MaxPool", ["xp"], ["y"], kernel_shape=[3, 3], strides=[2, 2])]
    graph, _ = _run(nodes, [1, 4, 4, 4], tmp_path, [("p", _pads((0, 0, 1, 1), (0, 0, 1, 1)))])
    assert "Pad" not in graph.op_counts()


def test_zero_pad_into_average_pool_counts_the_pad(tmp_path: Path) -> None:
    nodes = [helper.make_node("Pad", ["x", "p"], ["xp"]),
             helper.make_node("AveragePool", ["xp"], ["y"], kernel_shape=[3, 3])]
    graph, _ = _run(nodes, [1, 4, 7, 7], tmp_path, [("p", _pads((0, 0, 1, 1), (0, 0, 1, 1)))])
    assert "Pad" not in graph.op_counts()
    pool = _only(graph, "AvgPool")
    assert pool.attrs["exclude-pad"] is False and pool.attrs["pads_begin"] == [1, 1]


def test_near_misses_keep_the_pad(tmp_path: Path) -> None:
    """Non-zero value into a Conv, a pad on the channel axis, reflect mode, and a zero pad into a
    MaxPool whose input may be negative: every Pad stays."""
    nodes = [helper.make_node("Pad", ["x", "p", "v"], ["a"]),                       # value 0.5
             helper.make_node("Conv", ["a", "w"], ["ya"]),
             helper.make_node("Pad", ["x", "pc"], ["b"]),                           # channel axis
             helper.make_node("Conv", ["b", "w6"], ["yb"]),
             helper.make_node("Pad", ["x", "p"], ["c"], mode="reflect"),
             helper.make_node("Conv", ["c", "w"], ["yc"]),
             helper.make_node("Pad", ["x", "p"], ["d"]),                            # x may be < 0
             helper.make_node("MaxPool", ["d"], ["yd"], kernel_shape=[3, 3], strides=[2, 2])]
    inits = [("p", _pads((0, 0, 1, 1), (0, 0, 1, 1))), ("pc", _pads((0, 1, 0, 0), (0, 1, 0, 0))), ("w", _w(2, 4, 3, 3)),
             ("w6", _w(2, 6, 3, 3)), ("v", np.array(0.5, np.float32))]
    model = make_model(nodes, [("x", F, [1, 4, 7, 7])],
                       [("ya", F, [1, 2, 7, 7]), ("yb", F, [1, 2, 5, 5]), ("yc", F, [1, 2, 7, 7]),
                        ("yd", F, [1, 4, 4, 4])], opset=18, inits=inits)
    run_onnx_vs_ir(model, {"x": X}, tmp_path, rtol=1e-5, atol=1e-5)
    graph = mo.convert(tmp_path / "model.onnx")
    assert graph.op_counts()["Pad"] == 4
    assert all(n.attrs["pads_begin"] == [0, 0] for n in graph.nodes if n.op in ("Convolution", "MaxPool"))
    report = next(r for r in graph.meta["reports"] if r.name == "fuse_pad")
    assert not report.changed


def test_window_over_padding_only_is_refused() -> None:
    """A MaxPool window that would see padding only (pad >= kernel) must keep its Pad."""
    from mo.graph import Graph
    from mo.ir.builder import Builder
    from mo.passes.fuse_pad import check

    g = Graph()
    b = Builder(g)
    x = b.parameter("x", "f32", (1, 2, 6, 6))
    r = b.op("Relu", x)
    p = b.op("Pad", r, np.array([0, 0, 2, 2], np.int64), np.array([0, 0, 0, 0], np.int64), pad_mode="constant")
    mp = b.op_outputs("MaxPool", p, kernel=[2, 2], strides=[2, 2], pads_begin=[0, 0], pads_end=[0, 0])
    assert check(p.producer, mp[0].producer, 0) == "a window would cover padding only"


def test_pad_read_by_other_ops_stays(tmp_path: Path) -> None:
    """A Pad read by a convolution and by an Add (NASNet's cells): the conv takes the pads, the Pad
    stays for the Add."""
    nodes = [helper.make_node("Pad", ["x", "p"], ["xp"]),
             helper.make_node("Conv", ["xp", "w"], ["c"]),
             helper.make_node("Add", ["xp", "xp"], ["y2"]),
             helper.make_node("Relu", ["c"], ["y"])]
    model = make_model(nodes, [("x", F, [1, 4, 7, 7])], [("y", F, None), ("y2", F, None)], opset=18,
                       inits=[("p", _pads((0, 0, 1, 1), (0, 0, 1, 1))), ("w", _w(2, 4, 3, 3))])
    run_onnx_vs_ir(model, {"x": X}, tmp_path, rtol=1e-5, atol=1e-5)
    graph = mo.convert(tmp_path / "model.onnx")
    assert graph.op_counts()["Pad"] == 1
    assert _only(graph, "Convolution").inputs[0].producer.op == "Parameter"
