"""ONNX reductions, normalizations, top-k, scans, losses and Einsum against onnxruntime (IR run on CPU in f32).

Axes, k and axis inputs are fed at run time where that exercises the dynamic path; ops newer than
onnxruntime knows (CumProd-26) are checked against onnx's reference evaluator instead.
"""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from mo.errors import ConversionError

from .util import convert_to_ir, ov_infer, run_onnx_vs_ir, x_f32
from .util import make_model as model

F, I64, B, I32 = TensorProto.FLOAT, TensorProto.INT64, TensorProto.BOOL, TensorProto.INT32
RNG = np.random.default_rng(0)
TOL = dict(rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------------- Reduce*
KINDS = ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
         "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"]


@pytest.mark.parametrize("kind", KINDS)
def test_reduce_axes_attribute_opset11(tmp_path, kind):
    m = model([helper.make_node(kind, ["x"], ["y"], axes=[-1, 0], keepdims=0)], [("x", F, [3, 4, 5])],
              [("y", F, None)], opset=11)
    x = np.abs(x_f32(3, 4, 5)) + 0.5 if kind == "ReduceLogSum" else x_f32(3, 4, 5)
    run_onnx_vs_ir(m, {"x": x}, tmp_path, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kind", ["ReduceSum", "ReduceLogSumExp", "ReduceL2"])
@pytest.mark.parametrize("keepdims", [0, 1])
def test_reduce_runtime_axes(tmp_path, kind, keepdims):
    """Axes fed at run time; without keepdims the output rank still has to be static for the CPU plugin."""
    m = model([helper.make_node(kind, ["x", "axes"], ["y"], keepdims=keepdims)],
              [("x", F, [3, 4, 5]), ("axes", I64, [2])], [("y", F, None)])
    run_onnx_vs_ir(m, {"x": x_f32(3, 4, 5), "axes": np.array([2, -3], np.int64)}, tmp_path, rtol=1e-4, atol=1e-5)


def test_reduce_all_axes_and_noop(tmp_path):
    nodes = [helper.make_node("ReduceSumSquare", ["x"], ["all"], keepdims=1),
             helper.make_node("ReduceSumSquare", ["x", "e"], ["noop"], noop_with_empty_axes=1),
             helper.make_node("ReduceMean", ["x"], ["scalar"], keepdims=0)]
    m = model(nodes, [("x", F, [2, 3, 4])], [("all", F, None), ("noop", F, None), ("scalar", F, None)],
              inits=[("e", np.zeros(0, np.int64))])
    run_onnx_vs_ir(m, {"x": x_f32(2, 3, 4)}, tmp_path, rtol=1e-5, atol=1e-5)


def test_reduce_empty_set(tmp_path):
    """Reductions over a zero-size axis give ONNX's identities (0, 1, -inf) even with runtime axes."""
    nodes = [helper.make_node("ReduceMax", ["x", "axes"], ["mx"], keepdims=1),
             helper.make_node("ReduceProd", ["x", "axes"], ["pr"], keepdims=0),
             helper.make_node("ReduceSum", ["x", "axes"], ["s"], keepdims=1)]
    m = model(nodes, [("x", F, [2, 0, 4]), ("axes", I64, [1])], [("mx", F, None), ("pr", F, None), ("s", F, None)])
    xml = convert_to_ir(m, tmp_path)
    got = ov_infer(xml, {"x": np.zeros((2, 0, 4), np.float32), "axes": np.array([1], np.int64)})
    np.testing.assert_array_equal(got["mx"], np.full((2, 1, 4), -np.inf, np.float32))
    np.testing.assert_array_equal(got["pr"], np.ones((2, 4), np.float32))
    np.testing.assert_array_equal(got["s"], np.zeros((2, 1, 4), np.float32))


def test_reduce_max_bool(tmp_path):
    m = model([helper.make_node("ReduceMax", ["x", "a"], ["y"], keepdims=0),
               helper.make_node("ReduceMin", ["x", "a"], ["z"], keepdims=1)],
              [("x", B, [4, 3])], [("y", B, None), ("z", B, None)], opset=20, inits=[("a", np.array([1], np.int64))])
    x = RNG.standard_normal((4, 3)) > 0
    xml = convert_to_ir(m, tmp_path)
    got = ov_infer(xml, {"x": x})
    np.testing.assert_array_equal(got["y"], x.any(axis=1))
    np.testing.assert_array_equal(got["z"], x.all(axis=1, keepdims=True))


# ------------------------------------------------------------------------- ArgMax / TopK / softmax family
@pytest.mark.parametrize("op_type", ["ArgMax", "ArgMin"])
@pytest.mark.parametrize("last", [0, 1])
def test_arg_max_min_ties(tmp_path, op_type, last):
    x = RNG.integers(0, 3, (4, 5, 3)).astype(np.float32)   # many ties
    nodes = [helper.make_node(op_type, ["x"], ["k"], axis=1, keepdims=1, select_last_index=last),
             helper.make_node(op_type, ["x"], ["n"], axis=-1, keepdims=0, select_last_index=last)]
    m = model(nodes, [("x", F, [4, 5, 3])], [("k", I64, None), ("n", I64, None)], opset=13)
    run_onnx_vs_ir(m, {"x": x}, tmp_path)


@pytest.mark.parametrize("largest", [0, 1])
def test_topk_runtime_k(tmp_path, largest):
    x = RNG.integers(0, 4, (3, 6)).astype(np.float32)
    m = model([helper.make_node("TopK", ["x", "k"], ["v", "i"], axis=1, largest=largest)],
              [("x", F, [3, 6]), ("k", I64, [1])], [("v", F, None), ("i", I64, None)], opset=11)
    run_onnx_vs_ir(m, {"x": x, "k": np.array([4], np.int64)}, tmp_path)


def test_topk_1_attribute(tmp_path):
    m = model([helper.make_node("TopK", ["x"], ["v", "i"], k=2)], [("x", F, [3, 5])],
              [("v", F, None), ("i", I64, None)], opset=9)
    run_onnx_vs_ir(m, {"x": x_f32(3, 5)}, tmp_path)


@pytest.mark.parametrize("opset,axis", [(11, 1), (11, 0), (13, -2), (13, 2)])
def test_softmax_family(tmp_path, opset, axis):
    nodes = [helper.make_node(t, ["x"], [t], axis=axis) for t in ("Softmax", "LogSoftmax", "Hardmax")]
    m = model(nodes, [("x", F, [2, 3, 4])], [(t, F, None) for t in ("Softmax", "LogSoftmax", "Hardmax")], opset=opset)
    x = RNG.integers(0, 3, (2, 3, 4)).astype(np.float32)   # ties for Hardmax
    run_onnx_vs_ir(m, {"x": x}, tmp_path, **TOL)


# ------------------------------------------------------------------------- scans
@pytest.mark.parametrize("exclusive,reverse", [(0, 0), (1, 0), (0, 1), (1, 1)])
def test_cumsum(tmp_path, exclusive, reverse):
    m = model([helper.make_node("CumSum", ["x", "axis"], ["y"], exclusive=exclusive, reverse=reverse)],
              [("x", F, [3, 4]), ("axis", I32, [])], [("y", F, None)], opset=14)
    run_onnx_vs_ir(m, {"x": x_f32(3, 4), "axis": np.array(-1, np.int32)}, tmp_path, **TOL)


@pytest.mark.parametrize("exclusive,reverse", [(0, 0), (1, 1)])
def test_cumprod(tmp_path, exclusive, reverse):
    """Signs, zeros and integers through the CumSum-of-logs form; reference: onnx's evaluator."""
    from onnx.reference import ReferenceEvaluator

    m = model([helper.make_node("CumProd", ["x", "axis"], ["y"], exclusive=exclusive, reverse=reverse),
               helper.make_node("CumProd", ["n", "axis"], ["z"], exclusive=exclusive, reverse=reverse)],
              [("x", F, [3, 5]), ("n", I32, [3, 5]), ("axis", I64, [])], [("y", F, None), ("z", I32, None)], opset=26)
    feeds = {"x": np.array([[1.5, -2, 0.5, 3, -1], [0, 2, -3, 1, 2], [-1, -1, -1, 2, 0.25]], np.float32),
             "n": np.array([[1, -2, 3, 0, 2], [2, 2, -3, 1, 2], [-1, 5, -1, 2, 7]], np.int32),
             "axis": np.array(1, np.int64)}
    ref = ReferenceEvaluator(m).run(None, feeds)
    got = ov_infer(convert_to_ir(m, tmp_path), feeds)
    np.testing.assert_allclose(got["y"], ref[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(got["z"], ref[1])


# ------------------------------------------------------------------------- normalizations
def test_layer_normalization_all_outputs(tmp_path):
    m = model([helper.make_node("LayerNormalization", ["x", "s", "b"], ["y", "mean", "inv"], axis=-2, epsilon=1e-3)],
              [("x", F, [2, 3, 4, 5])], [("y", F, None), ("mean", F, None), ("inv", F, None)], opset=17,
              inits=[("s", x_f32(4, 5)), ("b", x_f32(4, 5))])
    run_onnx_vs_ir(m, {"x": x_f32(2, 3, 4, 5)}, tmp_path, rtol=1e-4, atol=1e-5)


def test_rms_normalization(tmp_path):
    m = model([helper.make_node("RMSNormalization", ["x", "s"], ["y"], axis=1, epsilon=1e-4)],
              [("x", F, [2, 3, 4])], [("y", F, None)], opset=23, inits=[("s", x_f32(3, 4))])
    run_onnx_vs_ir(m, {"x": x_f32(2, 3, 4)}, tmp_path, rtol=1e-4, atol=1e-5)


def test_instance_group_mvn_lp(tmp_path):
    nodes = [helper.make_node("InstanceNormalization", ["x", "s", "b"], ["inst"], epsilon=1e-3),
             helper.make_node("GroupNormalization", ["x", "s", "b"], ["grp"], num_groups=2, epsilon=1e-3),
             helper.make_node("MeanVarianceNormalization", ["x"], ["mvn"]),
             helper.make_node("LpNormalization", ["x"], ["l1"], axis=1, p=1),
             helper.make_node("LpNormalization", ["x"], ["l2"], axis=-1, p=2)]
    outs = ["inst", "grp", "mvn", "l1", "l2"]
    m = model(nodes, [("x", F, [2, 4, 3, 5])], [(o, F, None) for o in outs], opset=21,
              inits=[("s", x_f32(4)), ("b", x_f32(4))])
    run_onnx_vs_ir(m, {"x": x_f32(2, 4, 3, 5)}, tmp_path, rtol=1e-4, atol=1e-4)


# ------------------------------------------------------------------------- losses
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("weighted", [False, True])
def test_softmax_cross_entropy_ignore_index(tmp_path, reduction, weighted):
    """In-range and negative ignore_index; the ignored targets count for nothing in 'mean'."""
    w = ["w"] if weighted else []
    nodes = [helper.make_node("SoftmaxCrossEntropyLoss", ["x", "t"] + w, ["loss", "logp"], reduction=reduction,
                              ignore_index=1),
             helper.make_node("NegativeLogLikelihoodLoss", ["logp", "t"] + w, ["nll"], reduction=reduction,
                              ignore_index=3),
             helper.make_node("NegativeLogLikelihoodLoss", ["logp", "tn"] + w, ["nll_neg"], reduction=reduction,
                              ignore_index=-1)]
    inits = [("w", np.array([0.5, 2.0, 1.0, 0.25, 3.0], np.float32))] if weighted else []
    m = model(nodes, [("x", F, [3, 5, 2]), ("t", I64, [3, 2]), ("tn", I64, [3, 2])],
              [("loss", F, None), ("logp", F, None), ("nll", F, None), ("nll_neg", F, None)], opset=13, inits=inits)
    feeds = {"x": x_f32(3, 5, 2), "t": np.array([[0, 1], [3, 4], [1, 3]], np.int64),
             "tn": np.array([[0, -1], [2, 4], [-1, 3]], np.int64)}
    run_onnx_vs_ir(m, feeds, tmp_path, rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------------- Einsum and errors
@pytest.mark.parametrize("eq,shapes", [("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("ij->", [(3, 4)]),
                                       ("...ii->...i", [(2, 3, 3)]), ("ij,jk", [(3, 4), (4, 2)])])
def test_einsum(tmp_path, eq, shapes):
    names = [f"x{i}" for i in range(len(shapes))]
    m = model([helper.make_node("Einsum", names, ["y"], equation=eq)], [(n, F, list(s)) for n, s in zip(names, shapes)],
              [("y", F, None)], opset=12)
    run_onnx_vs_ir(m, {n: x_f32(*s) for n, s in zip(names, shapes)}, tmp_path, rtol=1e-4, atol=1e-5)


def test_unsupported_values_are_refused(tmp_path):
    m = model([helper.make_node("LpNormalization", ["x"], ["y"], p=3)], [("x", F, [2, 3])], [("y", F, None)], opset=13)
    with pytest.raises(ConversionError, match="p=3"):
        convert_to_ir(m, tmp_path)
    m = model([helper.make_node("NegativeLogLikelihoodLoss", ["x", "t"], ["y"], reduction="max")],
              [("x", F, [2, 3]), ("t", I64, [2])], [("y", F, None)], opset=13)
    with pytest.raises(ConversionError, match="reduction"):
        convert_to_ir(m, tmp_path)
