"""fuse_activations' normalization rules: LayerNorm/MVN and L2-normalize patterns as exporters
write them (PyTorch LayerNorm before opset 17, TF l2_normalize), must fire and must not fire;
fired patterns are checked in OpenVINO (f32) against onnxruntime (rtol 1e-4, atol 1e-5)."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import mo

from ..onnx.util import make_model, run_onnx_vs_ir

F = TensorProto.FLOAT


def N(op, ins, out, **attrs):
    return helper.make_node(op, ins, [out], **attrs)


def layer_norm(eps_inside=True, var_axis=-1, square="Pow"):
    nodes = [N("ReduceMean", ["x", "axm"], "mean", keepdims=1), N("Sub", ["x", "mean"], "d")]
    nodes.append(N("Pow", ["d", "two"], "sq") if square == "Pow" else N("Mul", ["d", "d"], "sq"))
    nodes.append(N("ReduceMean", ["sq", "axv"], "var", keepdims=1))
    if eps_inside:
        nodes += [N("Add", ["var", "eps"], "ve"), N("Sqrt", ["ve"], "std"), N("Div", ["d", "std"], "n")]
    else:
        nodes += [N("Sqrt", ["var"], "s"), N("Add", ["s", "eps"], "std"), N("Div", ["d", "std"], "n")]
    nodes += [N("Mul", ["n", "gamma"], "g"), N("Add", ["g", "beta"], "y")]
    rng = np.random.default_rng(0)
    inits = [("axm", np.array([-1], np.int64)), ("axv", np.array([var_axis], np.int64)),
             ("two", np.array(2.0, np.float32)), ("eps", np.array(1e-5, np.float32)),
             ("gamma", rng.standard_normal(16).astype(np.float32)), ("beta", rng.standard_normal(16).astype(np.float32))]
    return make_model(nodes, [("x", F, [2, 5, 16])], [("y", F, None)], opset=18, inits=inits)


def l2(mode="max"):
    nodes = [N("Mul", ["x", "x"], "sq"), N("ReduceSum", ["sq", "ax"], "s", keepdims=1)]
    nodes.append(N("Max", ["s", "eps"], "m") if mode == "max" else N("Add", ["s", "eps"], "m"))
    nodes += [N("Sqrt", ["m"], "r"), N("Div", ["x", "r"], "y")]
    inits = [("ax", np.array([1], np.int64)), ("eps", np.array(1e-12, np.float32))]
    return make_model(nodes, [("x", F, [3, 32])], [("y", F, None)], inits=inits)


def _convert(m, tmp_path):
    p = tmp_path / "m.onnx"
    onnx.save(m, p)
    return mo.convert(p)


def _x(shape):
    return np.random.default_rng(1).standard_normal(shape).astype(np.float32) * 3 + 1


@pytest.mark.parametrize("kw, mode", [(dict(), "inside_sqrt"), (dict(square="Mul"), "inside_sqrt"),
                                      (dict(eps_inside=False), "outside_sqrt")])
def test_layer_norm_fires(kw, mode, tmp_path):
    m = layer_norm(**kw)
    graph = _convert(m, tmp_path)
    mvn = [n for n in graph.nodes if n.op == "MVN"]
    assert len(mvn) == 1 and mvn[0].attrs["eps_mode"].lower() == mode and "ReduceMean" not in graph.op_counts()
    assert mvn[0].inputs[1].const.numpy().tolist() == [2]
    run_onnx_vs_ir(m, {"x": _x((2, 5, 16))}, tmp_path, rtol=1e-4, atol=1e-5)


def test_layer_norm_axes_differ_does_not_fire(tmp_path):
    m = layer_norm(var_axis=1)
    assert "MVN" not in _convert(m, tmp_path).op_counts()
    run_onnx_vs_ir(m, {"x": _x((2, 5, 16))}, tmp_path, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("mode", ["max", "add"])
def test_l2_normalize_fires(mode, tmp_path):
    m = l2(mode)
    graph = _convert(m, tmp_path)
    norm = [n for n in graph.nodes if n.op == "NormalizeL2"]
    assert len(norm) == 1 and norm[0].attrs["eps_mode"] == mode and "ReduceSum" not in graph.op_counts()
    run_onnx_vs_ir(m, {"x": _x((3, 32))}, tmp_path, rtol=1e-4, atol=1e-5)


def test_l2_of_another_tensor_does_not_fire(tmp_path):
    """x / sqrt(sum(z^2)) with z != x is no L2 normalization."""
    nodes = [N("Relu", ["x"], "z"), N("Mul", ["z", "z"], "sq"), N("ReduceSum", ["sq", "ax"], "s", keepdims=1),
             N("Max", ["s", "eps"], "m"), N("Sqrt", ["m"], "r"), N("Div", ["x", "r"], "y")]
    inits = [("ax", np.array([1], np.int64)), ("eps", np.array(1e-12, np.float32))]
    m = make_model(nodes, [("x", F, [3, 32])], [("y", F, None)], inits=inits)
    assert "NormalizeL2" not in _convert(m, tmp_path).op_counts()
    run_onnx_vs_ir(m, {"x": _x((3, 32))}, tmp_path, rtol=1e-4, atol=1e-5)
