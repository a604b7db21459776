"""fold_scale_shift: per-channel Mul/Add after Conv or BatchNorm disappear; other Mul/Add stay."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from onnx import TensorProto, helper

import mo

from ..onnx.util import make_model, run_onnx_vs_ir

RNG = np.random.default_rng(11)
F = TensorProto.FLOAT
X = RNG.standard_normal((1, 4, 6, 6)).astype(np.float32)


def _f(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def _convert(model, tmp_path: Path):
    run_onnx_vs_ir(model, {"x": X}, tmp_path, rtol=1e-5, atol=1e-5)
    graph = mo.convert(tmp_path / "model.onnx")
    report = next(r for r in graph.meta["reports"] if r.name == "fold_scale_shift")
    return graph.op_counts(), report


def test_conv_bias_scale_shift_becomes_conv_plus_one_add(tmp_path: Path) -> None:
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Mul", ["c", "s"], ["m"]), helper.make_node("Add", ["m", "t"], ["y"])]
    model = make_model(nodes, [("x", F, [1, 4, 6, 6])], [("y", F, [1, 8, 6, 6])], opset=15,
                       inits=[("w", _f(8, 4, 3, 3)), ("b", _f(8)), ("s", _f(8, 1, 1)), ("t", _f(8, 1, 1))])
    ops, report = _convert(model, tmp_path)
    assert "Multiply" not in ops and ops["Add"] == 1 and ops["Convolution"] == 1
    # merge_chains first turns (conv + b) * s + t into conv * s + (b * s + t); the scale then folds
    assert report.summary.startswith("1 Multiply/Add folded")


def test_batch_norm_scale_shift_becomes_one_batch_norm(tmp_path: Path) -> None:
    inits = [("g", _f(4) + 2), ("be", _f(4)), ("mu", _f(4)), ("v", np.abs(_f(4)) + 0.5), ("s", _f(4, 1, 1)),
             ("t", _f(1))]
    nodes = [helper.make_node("BatchNormalization", ["x", "g", "be", "mu", "v"], ["n"]),
             helper.make_node("Mul", ["s", "n"], ["m"]), helper.make_node("Add", ["m", "t"], ["y"])]
    model = make_model(nodes, [("x", F, [1, 4, 6, 6])], [("y", F, [1, 4, 6, 6])], opset=15, inits=inits)
    ops, _ = _convert(model, tmp_path)
    assert ops.get("Multiply", 0) == 0 and ops.get("Add", 0) == 0 and ops["BatchNormInference"] == 1


def test_spatial_or_variable_factors_are_left_alone(tmp_path: Path) -> None:
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Mul", ["c", "spatial"], ["m"]),      # varies over H, W: not per channel
             helper.make_node("Relu", ["x"], ["r"]),
             helper.make_node("Add", ["r", "x"], ["a"]),            # no constant at all
             helper.make_node("Add", ["a", "t"], ["y2"])]           # constant, but the producer is no Add(const)/BN
    model = make_model(nodes, [("x", F, [1, 4, 6, 6])], [("m", F, [1, 8, 6, 6]), ("y2", F, [1, 4, 6, 6])],
                       opset=15, inits=[("w", _f(8, 4, 3, 3)), ("spatial", _f(1, 1, 6, 6)), ("t", _f(4, 1, 1))])
    ops, report = _convert(model, tmp_path)
    assert ops["Multiply"] == 1 and ops["Add"] == 2
    assert not report.changed


def _convert_model(nodes, in_shape, inits, tmp_path: Path, out="y"):
    x = RNG.standard_normal(in_shape).astype(np.float32)
    model = make_model(nodes, [("x", F, list(in_shape))], [(out, F, None)], opset=15, inits=inits)
    run_onnx_vs_ir(model, {"x": x}, tmp_path, rtol=1e-4, atol=1e-4)
    graph = mo.convert(tmp_path / "model.onnx")
    graph.check()
    return graph


def test_scale_after_matmul_and_transposed_conv_folds(tmp_path: Path) -> None:
    """MatMul(x, B) * c (c over B's columns) + t, and ConvTranspose(x, W) * c[o]: no Multiply left."""
    nodes = [helper.make_node("ConvTranspose", ["x", "wt"], ["d"], strides=[2, 2]),
             helper.make_node("Mul", ["d", "cd"], ["dm"]),
             helper.make_node("Reshape", ["dm", "flat"], ["f"]),
             helper.make_node("MatMul", ["f", "b"], ["mm"]),
             helper.make_node("Mul", ["mm", "cm"], ["mmc"]), helper.make_node("Add", ["mmc", "t"], ["y"])]
    inits = [("wt", _f(4, 3, 2, 2)), ("cd", _f(3, 1, 1)), ("flat", np.array([1, -1], np.int64)),
             ("b", _f(432, 5)), ("cm", _f(5)), ("t", _f(1, 5))]
    graph = _convert_model(nodes, (1, 4, 6, 6), inits, tmp_path)
    ops = graph.op_counts()
    assert "Multiply" not in ops and ops["ConvolutionBackpropData"] == 1 and ops["MatMul"] == 1, ops


def test_scale_and_shift_before_a_convolution_fold_backward(tmp_path: Path) -> None:
    """x * s (per input channel) into a padded conv's filter; x + t into an unpadded conv's bias."""
    nodes = [helper.make_node("Mul", ["x", "s"], ["xs"]),
             helper.make_node("Conv", ["xs", "w"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Add", ["c", "t"], ["ct"]),
             helper.make_node("Conv", ["ct", "w2"], ["y"], group=2)]
    inits = [("s", _f(4, 1, 1)), ("w", _f(8, 4, 3, 3)), ("t", _f(8, 1, 1)), ("w2", _f(4, 4, 3, 3))]
    graph = _convert_model(nodes, (1, 4, 6, 6), inits, tmp_path)
    ops = graph.op_counts()
    assert "Multiply" not in ops and ops["Add"] == 1, ops
    add = next(n for n in graph.nodes if n.op == "Add")
    assert add.inputs[0].producer.op == "GroupConvolution"       # the shift now follows the conv
    conv = next(n for n in graph.nodes if n.op == "Convolution")
    assert conv.inputs[0].producer.op == "Parameter"


def test_backward_near_misses_stay(tmp_path: Path) -> None:
    """x + t before a padded conv (padded zeros would not get t); a per-spatial Mul before a conv;
    a Mul with a second reader: all three stay in front of their convolutions."""
    nodes = [helper.make_node("Add", ["x", "t"], ["a"]),
             helper.make_node("Conv", ["a", "w"], ["y1"], pads=[1, 1, 1, 1]),
             helper.make_node("Mul", ["x", "sp"], ["m"]),
             helper.make_node("Conv", ["m", "w"], ["y2"]),
             helper.make_node("Mul", ["x", "s"], ["m2"]),
             helper.make_node("Conv", ["m2", "w"], ["y3"]),
             helper.make_node("Relu", ["m2"], ["y4"])]
    inits = [("t", _f(4, 1, 1)), ("w", _f(8, 4, 3, 3)), ("sp", _f(1, 1, 6, 6)), ("s", _f(4, 1, 1))]
    x = RNG.standard_normal((1, 4, 6, 6)).astype(np.float32)
    model = make_model(nodes, [("x", F, [1, 4, 6, 6])], [(n, F, None) for n in ("y1", "y2", "y3", "y4")], opset=15,
                       inits=inits)
    run_onnx_vs_ir(model, {"x": x}, tmp_path, rtol=1e-4, atol=1e-4)
    graph = mo.convert(tmp_path / "model.onnx")
    ops = graph.op_counts()
    assert ops["Add"] == 1 and ops["Multiply"] == 2, ops
    assert all(n.inputs[0].producer.op in ("Add", "Multiply") for n in graph.nodes if n.op == "Convolution")


def test_scale_and_shift_before_a_matmul_fold_backward(tmp_path: Path) -> None:
    """(x * s + t) @ B with s, t over x's last axis: B's rows take s, t @ B becomes a bias Add."""
    nodes = [helper.make_node("Mul", ["x", "s"], ["a"]), helper.make_node("Add", ["a", "t"], ["b"]),
             helper.make_node("MatMul", ["b", "w"], ["y"])]
    graph = _convert_model(nodes, (2, 3, 8), [("s", _f(8)), ("t", _f(1, 1, 8)), ("w", _f(8, 5))], tmp_path)
    ops = graph.op_counts()
    assert "Multiply" not in ops and ops["Add"] == 1, ops
    mm = next(n for n in graph.nodes if n.op == "MatMul")
    assert mm.inputs[0].producer.op == "Parameter" and graph.outputs[0].producer.op == "Add"


def test_scale_before_a_transposed_convolution_folds_backward(tmp_path: Path) -> None:
    """x * s (per input channel) into ConvTranspose's filter axis 0, with pads (which crop)."""
    nodes = [helper.make_node("Mul", ["x", "s"], ["a"]),
             helper.make_node("ConvTranspose", ["a", "w"], ["y"], strides=[2, 2], pads=[1, 1, 1, 1])]
    graph = _convert_model(nodes, (1, 4, 5, 5), [("s", _f(4, 1, 1)), ("w", _f(4, 3, 3, 3))], tmp_path)
    ops = graph.op_counts()
    assert "Multiply" not in ops and ops["ConvolutionBackpropData"] == 1, ops
