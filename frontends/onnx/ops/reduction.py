"""ONNX reductions and normalizations: Reduce*, ArgMax/ArgMin, TopK, Softmax family, norms, losses."""
from __future__ import annotations

import numpy as np

from mo.types import to_numpy

from ..context import onnx_ops
from .nn import _flatten_2d


@onnx_ops.op("Softmax", since=1)
def softmax_1(g, x, *, axis=1):
    return _coerced(g, x, axis, "SoftMax")


@onnx_ops.op("LogSoftmax", since=1)
def log_softmax_1(g, x, *, axis=1):
    return _coerced(g, x, axis, "LogSoftmax")


def _coerced(g, x, axis, ov_type):
    """Opset < 13 softmax: flatten to 2-D at ``axis``, normalize rows, restore the shape."""
    if x.rank is not None and (axis == x.rank - 1 or axis == -1):
        return g.op(ov_type, x, axis=-1 if ov_type == "SoftMax" else x.rank - 1)
    flat = _flatten_2d(g, x, axis)
    y = g.op(ov_type, flat, axis=1)
    return g.op("Reshape", y, g.op("ShapeOf", x, output_type="i64"), special_zero=False)


@onnx_ops.op("Softmax", since=13)
def softmax_13(g, x, *, axis=-1):
    return g.op("SoftMax", x, axis=axis)


@onnx_ops.op("LogSoftmax", since=13)
def log_softmax_13(g, x, *, axis=-1):
    if axis < 0:
        if x.rank is None:
            raise ValueError("LogSoftmax with a negative axis needs the input rank")
        axis += x.rank
    return g.op("LogSoftmax", x, axis=axis)
