"""ONNX neural-network ops: convolution, pooling, Gemm/MatMul, normalization, softmax."""
from __future__ import annotations

import numpy as np

from mo.types import to_numpy

from ..context import onnx_ops

_AUTO_PAD = {"NOTSET": "explicit", "SAME_UPPER": "same_upper", "SAME_LOWER": "same_lower", "VALID": "valid"}


def _pads(pads, n):
    pads = list(pads) if pads else [0] * (2 * n)
    return pads[:n], pads[n:]


def _spatial_rank(x, w=None, kernel_shape=None):
    if kernel_shape:
        return len(kernel_shape)
    if w is not None and w.shape is not None:
        return len(w.shape) - 2
    if x.shape is not None:
        return len(x.shape) - 2
    raise ValueError("cannot tell the number of spatial dims")


def conv_common(g, ov_conv, ov_group, x, w, b, auto_pad, dilations, group, kernel_shape, pads, strides):
    n = _spatial_rank(x, w, kernel_shape)
    pb, pe = _pads(pads, n)
    attrs = dict(strides=strides or [1] * n, dilations=dilations or [1] * n, pads_begin=pb, pads_end=pe,
                 auto_pad=_AUTO_PAD[auto_pad])
    if group == 1:
        y = g.op(ov_conv, x, w, **attrs)
    else:
        if w.shape is None or any(d < 0 for d in w.shape):
            raise ValueError("grouped convolution needs a filter of static shape")
        ws = w.shape
        w = g.op("Reshape", w, g.i64([group, ws[0] // group, *ws[1:]]), special_zero=False)
        y = g.op(ov_group, x, w, **attrs)
    if b is not None:
        y = g.op("Add", y, _channel_bias(g, b, n))
    return y


def _channel_bias(g, b, n):
    return g.op("Reshape", b, g.i64([1, -1] + [1] * n), special_zero=False)


@onnx_ops.op("Conv", since=1)
def conv(g, x, w, b=None, *, auto_pad="NOTSET", dilations=None, group=1, kernel_shape=None, pads=None, strides=None):
    return conv_common(g, "Convolution", "GroupConvolution", x, w, b, auto_pad, dilations, group, kernel_shape,
                       pads, strides)


@onnx_ops.op("MaxPool", since=1)
def max_pool(g, x, *, auto_pad="NOTSET", ceil_mode=0, dilations=None, kernel_shape, pads=None, storage_order=0,
             strides=None):
    n = len(kernel_shape)
    pb, pe = _pads(pads, n)
    y, idx = g.op("MaxPool", x, kernel=kernel_shape, strides=strides or [1] * n, dilations=dilations or [1] * n,
                  pads_begin=pb, pads_end=pe, rounding_type="ceil" if ceil_mode else "floor",
                  auto_pad=_AUTO_PAD[auto_pad], index_element_type="i64", axis=0)
    if g.num_outputs > 1 and storage_order:
        raise ValueError("MaxPool indices with storage_order=1 are not supported")
    return y, idx


@onnx_ops.op("AveragePool", since=1)
def average_pool(g, x, *, auto_pad="NOTSET", ceil_mode=0, count_include_pad=0, dilations=None, kernel_shape,
                 pads=None, strides=None):
    n = len(kernel_shape)
    if dilations and any(d != 1 for d in dilations):
        raise ValueError("AveragePool with dilations is not supported")
    pb, pe = _pads(pads, n)
    return g.op("AvgPool", x, kernel=kernel_shape, strides=strides or [1] * n, pads_begin=pb, pads_end=pe,
                rounding_type="ceil" if ceil_mode else "floor", auto_pad=_AUTO_PAD[auto_pad],
                **{"exclude-pad": not count_include_pad})


def _global(ov_reduce):
    def convert(g, x):
        if x.rank is None:
            raise ValueError("global pooling needs the input rank")
        return g.op(ov_reduce, x, g.i64(list(range(2, x.rank))), keep_dims=True)
    return convert


onnx_ops.add(["GlobalAveragePool"], _global("ReduceMean"))
onnx_ops.add(["GlobalMaxPool"], _global("ReduceMax"))


@onnx_ops.op("Gemm", since=1)
def gemm(g, a, b, c=None, *, alpha=1.0, beta=1.0, transA=0, transB=0, broadcast=1):
    y = g.op("MatMul", a, b, transpose_a=bool(transA), transpose_b=bool(transB))
    dt = to_numpy(y.etype)
    if alpha != 1.0:
        y = g.op("Multiply", y, g.const(np.asarray(alpha, dtype=dt)))
    if c is not None:
        if beta != 1.0:
            c = g.op("Multiply", c, g.const(np.asarray(beta, dtype=dt)))
        y = g.op("Add", y, c)
    return y


@onnx_ops.op("MatMul", since=1)
def matmul(g, a, b):
    return g.op("MatMul", a, b)


@onnx_ops.op("BatchNormalization", since=7)
def batch_norm(g, x, scale, bias, mean, var, *, epsilon=1e-5, momentum=0.9, spatial=1, training_mode=0):
    if training_mode:
        raise ValueError("BatchNormalization in training mode is not supported")
    return g.op("BatchNormInference", x, scale, bias, mean, var, epsilon=epsilon)


@onnx_ops.op("LRN", since=1)
def lrn(g, x, *, alpha=0.0001, beta=0.75, bias=1.0, size):
    return g.op("LRN", x, g.i64([1]), alpha=alpha, beta=beta, bias=bias, size=size)


def _flatten_2d(g, x, axis):
    """Reshape x to 2-D [prod(d[:axis]), prod(d[axis:])]."""
    if x.shape is not None and all(d >= 0 for d in x.shape):
        r = len(x.shape)
        axis = axis + r if axis < 0 else axis
        lead = int(np.prod(x.shape[:axis], dtype=np.int64))
        return g.op("Reshape", x, g.i64([lead, -1 if lead else int(np.prod(x.shape[axis:]))]), special_zero=False)
    if x.rank is None:
        raise ValueError("Flatten needs the input rank")
    r = x.rank
    axis = axis + r if axis < 0 else axis
    shape = g.op("ShapeOf", x, output_type="i64")
    head = g.op("ReduceProd", g.op("Gather", shape, g.i64(list(range(axis))) if axis else g.i64([0]), g.i64(0)),
                g.i64([0]), keep_dims=True) if axis else g.i64([1])
    return g.op("Reshape", x, g.op("Concat", head, g.i64([-1]), axis=0), special_zero=False)


@onnx_ops.op("Flatten", since=1)
def flatten(g, x, *, axis=1):
    return _flatten_2d(g, x, axis)


@onnx_ops.op("Dropout", since=1)
def dropout(g, x, *rest, **attrs):
    """Identity at inference; the optional mask output is all true."""
    if g.num_outputs > 1:
        if x.is_static:
            mask = g.const(np.ones(x.shape, dtype=bool))
        else:
            mask = g.op("Broadcast", g.const(np.asarray(True)), g.op("ShapeOf", x, output_type="i64"), mode="numpy")
        return x, mask
    return x
