"""Convolution, pooling, Gemm, recurrent, detection and sampling converters: ONNX vs the IR in OpenVINO.

Each case is a one-node model; the IR runs in f32 and is compared with onnxruntime (or the ONNX
reference evaluator for ops onnxruntime lacks) at rtol 1e-4 / atol 1e-5 unless stated.
"""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from .util import convert_to_ir, ov_infer, run_onnx_vs_ir

RNG = np.random.default_rng(0)
_TP = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.int64): TensorProto.INT64,
       np.dtype(np.int32): TensorProto.INT32, np.dtype(np.uint8): TensorProto.UINT8}


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def one_node(op, feeds, consts=None, outputs=("y",), opset=17, input_order=None, **attrs):
    """A model with one ``op`` node; ``feeds`` become graph inputs, ``consts`` initializers, in
    ``input_order`` (names; "" for a missing optional input)."""
    consts = consts or {}
    order = input_order or list(feeds) + list(consts)
    node = helper.make_node(op, order, list(outputs), **attrs)
    ins = [helper.make_tensor_value_info(k, _TP[v.dtype], v.shape) for k, v in feeds.items()]
    outs = [onnx.ValueInfoProto(name=o) for o in outputs]
    inits = [numpy_helper.from_array(v, k) for k, v in consts.items()]
    graph = helper.make_graph([node], "g", ins, outs, inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def check(tmp_path, op, feeds, consts=None, rtol=1e-4, atol=1e-5, **kw):
    return run_onnx_vs_ir(one_node(op, feeds, consts, **kw), feeds, tmp_path, rtol=rtol, atol=atol)


# ------------------------------------------------------------------------------------------ convolution

@pytest.mark.parametrize("shape,w,attrs", [
    ((1, 4, 7, 7), (6, 2, 3, 3), dict(group=2, pads=[1, 0, 1, 2], strides=[2, 1])),
    ((1, 4, 7, 7), (4, 1, 3, 3), dict(group=4, auto_pad="SAME_UPPER")),           # depthwise
    ((2, 3, 9), (5, 3, 3), dict(strides=[2], auto_pad="SAME_LOWER")),               # 1-D
    ((2, 3, 9), (5, 3, 3), dict(dilations=[2], pads=[2, 1])),
    ((1, 2, 5, 5, 5), (3, 2, 2, 2, 2), dict(strides=[2, 1, 2], pads=[0, 1, 0, 1, 0, 1])),  # 3-D
])
def test_conv(tmp_path, shape, w, attrs):
    check(tmp_path, "Conv", {"x": rand(*shape)}, {"w": rand(*w), "b": rand(w[0])}, **attrs)


@pytest.mark.parametrize("x,w,attrs", [
    ((1, 3, 4, 4), (3, 2, 3, 3), dict(strides=[2, 2], pads=[1, 0, 0, 1], output_padding=[1, 1])),
    ((1, 4, 3, 3), (4, 3, 3, 3), dict(group=2, dilations=[2, 1])),
    ((1, 2, 3, 3), (2, 2, 3, 3), dict(strides=[3, 2], output_shape=[10, 8])),
    ((1, 2, 3, 3), (2, 2, 3, 3), dict(strides=[2, 2], auto_pad="SAME_UPPER")),
    ((1, 2, 3, 3), (2, 2, 2, 2), dict(strides=[2, 2], auto_pad="SAME_LOWER")),
    ((2, 3, 5), (3, 2, 3), dict(strides=[2])),
])
def test_conv_transpose(tmp_path, x, w, attrs):
    check(tmp_path, "ConvTranspose", {"x": rand(*x)}, {"w": rand(*w), "b": rand(w[1] * attrs.get("group", 1))},
          **attrs)


# ------------------------------------------------------------------------------------------ pooling

@pytest.mark.parametrize("shape,attrs", [
    ((1, 2, 5, 5), dict(kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)),
    ((1, 1, 4, 4), dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1)),
    ((1, 2, 7, 7), dict(kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER")),
    ((1, 2, 7, 7), dict(kernel_shape=[3, 3], dilations=[2, 2], pads=[1, 2, 2, 0])),
    ((1, 2, 9), dict(kernel_shape=[3], strides=[2])),
])
def test_max_pool(tmp_path, shape, attrs):
    check(tmp_path, "MaxPool", {"x": rand(*shape)}, **attrs)


@pytest.mark.parametrize("storage_order", [0, 1])
def test_max_pool_indices(tmp_path, storage_order):
    check(tmp_path, "MaxPool", {"x": rand(2, 3, 5, 4)}, outputs=("y", "i"), kernel_shape=[2, 2], strides=[1, 2],
          storage_order=storage_order)


def test_max_pool_uint8(tmp_path):
    x = RNG.integers(0, 255, (1, 2, 6, 6)).astype(np.uint8)
    check(tmp_path, "MaxPool", {"x": x}, kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])


@pytest.mark.parametrize("attrs", [
    dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1, count_include_pad=1),
    dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1),
    dict(kernel_shape=[2, 2], auto_pad="SAME_LOWER"),
    dict(kernel_shape=[2, 2], dilations=[2, 2], pads=[1, 1, 1, 1], count_include_pad=1),
    dict(kernel_shape=[2, 3], dilations=[2, 1], strides=[2, 2], ceil_mode=1),
])
def test_average_pool(tmp_path, attrs):
    check(tmp_path, "AveragePool", {"x": rand(1, 2, 6, 7)}, opset=19, **attrs)


@pytest.mark.parametrize("attrs", [
    dict(kernel_shape=[2, 2], p=2),
    dict(kernel_shape=[3, 3], p=3, strides=[2, 2], pads=[1, 1, 1, 1]),
    dict(kernel_shape=[2, 2], p=1, auto_pad="SAME_UPPER", strides=[2, 2]),
    dict(kernel_shape=[2, 2], p=2, dilations=[2, 2], ceil_mode=1, strides=[2, 2]),
])
def test_lp_pool(tmp_path, attrs):
    check(tmp_path, "LpPool", {"x": rand(1, 3, 6, 6)}, opset=18, **attrs)


@pytest.mark.parametrize("op,attrs", [("GlobalAveragePool", {}), ("GlobalMaxPool", {}), ("GlobalLpPool", {"p": 2}),
                                      ("GlobalLpPool", {"p": 3})])
def test_global_pool(tmp_path, op, attrs):
    check(tmp_path, op, {"x": rand(2, 3, 4, 5)}, **attrs)


def test_max_unpool(tmp_path):
    x = rand(1, 2, 4, 4)
    model = one_node("MaxPool", {"x": x}, outputs=("p", "i"), kernel_shape=[2, 2], strides=[2, 2])
    unpool = helper.make_node("MaxUnpool", ["p", "i"], ["y"], kernel_shape=[2, 2], strides=[2, 2])
    model.graph.node.append(unpool)
    del model.graph.output[:]
    model.graph.output.append(onnx.ValueInfoProto(name="y"))
    run_onnx_vs_ir(model, {"x": x}, tmp_path)


# ------------------------------------------------------------------------------------------ Gemm, MatMul, norm

@pytest.mark.parametrize("a,b,c,attrs", [
    ((3, 4), (4, 5), None, {}),
    ((4, 3), (5, 4), (5,), dict(transA=1, transB=1, alpha=0.5, beta=2.0)),
    ((3, 4), (4, 5), (), dict(beta=0.5)),
    ((3, 4), (4, 5), (3, 1), dict(alpha=2.0)),
])
def test_gemm(tmp_path, a, b, c, attrs):
    consts = {"b": rand(*b)} if c is None else {"b": rand(*b), "c": rand(*c)}
    check(tmp_path, "Gemm", {"a": rand(*a)}, consts, **attrs)


@pytest.mark.parametrize("a,b", [((3,), (3, 4)), ((2, 3, 4), (4,)), ((2, 1, 3, 4), (5, 4, 2))])
def test_matmul(tmp_path, a, b):
    check(tmp_path, "MatMul", {"a": rand(*a), "b": rand(*b)})


def test_batch_norm_and_lrn(tmp_path):
    c = 3
    consts = {"s": rand(c), "b": rand(c), "m": rand(c), "v": np.abs(rand(c)) + 0.5}
    check(tmp_path, "BatchNormalization", {"x": rand(2, c, 4, 4)}, consts, epsilon=1e-3)
    (tmp_path / "lrn").mkdir()
    check(tmp_path / "lrn", "LRN", {"x": rand(1, 5, 3, 3)}, size=3, alpha=1e-3, beta=0.75, bias=2.0)


def test_batch_norm_training_is_refused(tmp_path):
    c = 3
    consts = {"s": rand(c), "b": rand(c), "m": rand(c), "v": np.abs(rand(c)) + 0.5}
    model = one_node("BatchNormalization", {"x": rand(2, c, 4)}, consts, opset=15, training_mode=1)
    with pytest.raises(Exception, match="training_mode"):
        convert_to_ir(model, tmp_path)


def test_dropout(tmp_path):
    check(tmp_path, "Dropout", {"x": rand(2, 3)}, {"r": np.array(0.3, np.float32)}, outputs=("y", "mask"))


# ------------------------------------------------------------------------------------------ recurrent

def _rnn_model(op, layout, feeds, consts, names, outputs, attrs):
    """The recurrent node in ``layout``; feeds/consts are given sequence-major and transposed here."""
    if layout:
        feeds = {"x": feeds["x"].transpose(1, 0, 2)}
        consts = {k: (v.transpose(1, 0, 2) if k in ("H0", "C0") else v) for k, v in consts.items()}
        attrs = dict(attrs, layout=1)
    return one_node(op, feeds, consts, outputs=outputs, input_order=names, opset=14, **attrs), feeds


@pytest.mark.parametrize("op,gates,extra", [("LSTM", 4, {}), ("GRU", 3, {}), ("GRU", 3, {"linear_before_reset": 1}),
                                            ("RNN", 1, {"activations": ["Relu", "Relu"], "clip": 2.0})])
@pytest.mark.parametrize("direction,layout,with_lens,with_init", [
    ("forward", 0, False, False), ("bidirectional", 1, True, True), ("reverse", 0, True, True)])
def test_rnn(tmp_path, op, gates, extra, direction, layout, with_lens, with_init):
    """onnxruntime has no batch-major (layout=1) kernels: the reference then comes from the same
    model in layout 0 with the outputs transposed."""
    t, b, i, h = 4, 3, 5, 6
    d = 2 if direction == "bidirectional" else 1
    if "activations" in extra and d == 1:
        extra = dict(extra, activations=extra["activations"][:1])
    feeds = {"x": rand(t, b, i)}
    consts = {"W": rand(d, gates * h, i) * 0.5, "R": rand(d, gates * h, h) * 0.5, "B": rand(d, 2 * gates * h) * 0.5}
    names = ["x", "W", "R", "B"]
    if with_lens:
        consts["L"] = np.array([4, 2, 3], np.int32)
        names.append("L")
    elif with_init:
        names.append("")
    if with_init:
        consts["H0"] = rand(d, b, h)
        names.append("H0")
        if op == "LSTM":
            consts["C0"] = rand(d, b, h)
            names.append("C0")
    outputs = ("y", "yh", "yc") if op == "LSTM" else ("y", "yh")
    attrs = dict(hidden_size=h, direction=direction, **extra)
    model0, feeds0 = _rnn_model(op, 0, feeds, consts, names, outputs, attrs)
    if not layout:
        run_onnx_vs_ir(model0, feeds0, tmp_path, rtol=1e-4, atol=1e-5)
        return
    from .util import ort_infer

    ref = ort_infer(model0, feeds0)
    model1, feeds1 = _rnn_model(op, 1, feeds, consts, names, outputs, attrs)
    got = ov_infer(convert_to_ir(model1, tmp_path), feeds1)
    np.testing.assert_allclose(got["y"], ref["y"].transpose(2, 0, 1, 3), rtol=1e-4, atol=1e-5)
    for name in outputs[1:]:
        np.testing.assert_allclose(got[name], ref[name].transpose(1, 0, 2), rtol=1e-4, atol=1e-5, err_msg=name)


# ------------------------------------------------------------------------------------------ sampling, detection

@pytest.mark.parametrize("attrs", [dict(mode="linear", padding_mode="border", align_corners=1),
                                   dict(mode="nearest", padding_mode="zeros"),
                                   dict(mode="cubic", padding_mode="reflection")])
def test_grid_sample(tmp_path, attrs):
    grid = RNG.uniform(-1.2, 1.2, (2, 3, 4, 2)).astype(np.float32)
    check(tmp_path, "GridSample", {"x": rand(2, 3, 5, 6), "grid": grid}, opset=20, **attrs)


@pytest.mark.parametrize("ctm", ["half_pixel", "output_half_pixel"])
def test_roi_align(tmp_path, ctm):
    rois = np.array([[0, 0, 4, 4], [1.5, 0.5, 6, 5], [2, 2, 3, 7]], np.float32)
    check(tmp_path, "RoiAlign", {"x": rand(2, 3, 8, 8)}, {"rois": rois, "bi": np.array([0, 1, 1], np.int64)},
          opset=16, coordinate_transformation_mode=ctm, output_height=3, output_width=2, sampling_ratio=2,
          spatial_scale=0.9)


def test_nms(tmp_path):
    boxes = RNG.uniform(0, 10, (2, 8, 4)).astype(np.float32)
    boxes[..., 2:] = boxes[..., :2] + RNG.uniform(1, 5, (2, 8, 2)).astype(np.float32)
    scores = RNG.uniform(0, 1, (2, 3, 8)).astype(np.float32)
    consts = {"m": np.array([3], np.int64), "iou": np.array([0.3], np.float32), "st": np.array([0.2], np.float32)}
    check(tmp_path, "NonMaxSuppression", {"boxes": boxes, "scores": scores}, consts, opset=11)


def test_causal_conv_with_state(tmp_path):
    """Checked against the ONNX reference evaluator (onnxruntime lacks the op)."""
    from onnx.reference import ReferenceEvaluator

    feeds = {"x": rand(2, 3, 5), "s": rand(2, 3, 2)}
    model = one_node("CausalConvWithState", feeds, {"w": rand(3, 1, 3), "b": rand(3)}, outputs=("y", "state"),
                     input_order=["x", "w", "b", "s"], opset=27, activation="silu")
    ref = ReferenceEvaluator(model).run(None, feeds)
    got = ov_infer(convert_to_ir(model, tmp_path), feeds)
    np.testing.assert_allclose(got["y"], ref[0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got["state"], ref[1], rtol=1e-4, atol=1e-5)
