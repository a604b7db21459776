"""ONNX tensor-manipulation ops: constants, shapes, reshaping, concatenation, gathering."""
from __future__ import annotations

import numpy as np

from mo.types import to_numpy

from ..context import onnx_ops


@onnx_ops.op("Constant", since=1)
def constant(g, *, value=None, value_float=None, value_floats=None, value_int=None, value_ints=None,
             value_string=None, value_strings=None, sparse_value=None):
    if value is not None:
        return g.const(np.asarray(value))
    if value_float is not None:
        return g.const(np.asarray(value_float, dtype=np.float32))
    if value_floats is not None:
        return g.const(np.asarray(value_floats, dtype=np.float32))
    if value_int is not None:
        return g.const(np.asarray(value_int, dtype=np.int64))
    if value_ints is not None:
        return g.const(np.asarray(value_ints, dtype=np.int64))
    if sparse_value is not None:
        from onnx import numpy_helper
        vals = numpy_helper.to_array(sparse_value.values)
        idx = numpy_helper.to_array(sparse_value.indices)
        dense = np.zeros(int(np.prod(sparse_value.dims)), dtype=vals.dtype)
        if idx.ndim == 2:
            idx = np.ravel_multi_index(idx.T, tuple(sparse_value.dims))
        dense[idx.reshape(-1)] = vals
        return g.const(dense.reshape(tuple(sparse_value.dims)))
    raise ValueError("Constant with string values is not supported")


@onnx_ops.op("Identity", since=1)
def identity(g, x):
    return x


@onnx_ops.op("Shape", since=1)
def shape(g, x, *, start=0, end=None):
    s = g.op("ShapeOf", x, output_type="i64")
    if start == 0 and end is None:
        return s
    if x.rank is None:
        raise ValueError("Shape with start/end needs the input rank")
    r = x.rank
    lo = max(0, min(r, start + r if start < 0 else start))
    hi = r if end is None else max(0, min(r, end + r if end < 0 else end))
    return g.op("Gather", s, g.i64(list(range(lo, hi))), g.i64(0))


@onnx_ops.op("Size", since=1)
def size(g, x):
    return g.op("ReduceProd", g.op("ShapeOf", x, output_type="i64"), g.i64([0]), keep_dims=False)


@onnx_ops.op("ConstantOfShape", since=9)
def constant_of_shape(g, shape, *, value=None):
    v = np.zeros((), np.float32) if value is None else np.asarray(value).reshape(())
    return g.op("Broadcast", g.const(v), shape, mode="numpy")


@onnx_ops.op("Reshape", since=5)
def reshape(g, x, shape, *, allowzero=0):
    return g.op("Reshape", x, shape, special_zero=not allowzero)


@onnx_ops.op("Concat", since=1)
def concat(g, *xs, axis):
    return g.op("Concat", *xs, axis=axis)


@onnx_ops.op("Transpose", since=1)
def transpose(g, x, *, perm=None):
    if perm is None:
        if x.rank is None:
            raise ValueError("Transpose without perm needs the input rank")
        perm = list(range(x.rank))[::-1]
    return g.op("Transpose", x, g.i64(perm))


@onnx_ops.op("Unsqueeze", since=1)
def unsqueeze_1(g, x, *, axes):
    return g.op("Unsqueeze", x, g.i64(axes))


@onnx_ops.op("Unsqueeze", since=13)
def unsqueeze_13(g, x, axes):
    """Unsqueeze-13: axes as input; non-constant axes become a Reshape to a computed shape,
    since OpenVINO cannot infer the output rank of Unsqueeze from non-constant axes."""
    if axes.const_value() is not None or x.rank is None or not axes.is_static:
        return g.op("Unsqueeze", x, axes)
    return _unsqueeze_dynamic(g, x, axes)


def _unsqueeze_dynamic(g, x, axes):
    """out[j] = 1 where j is a (normalised) axis, else x.shape[j - #axes below j]."""
    k = int(np.prod(axes.shape, dtype=np.int64))
    r = x.rank + k
    axes = g.op("Reshape", axes, g.i64([k, 1]), special_zero=False)
    if axes.etype != "i64":
        axes = g.op("Convert", axes, destination_type="i64")
    axes = g.op("FloorMod", axes, g.i64(r))  # negative axes counted from the output rank
    pos = g.i64(np.arange(r).reshape(1, r))
    is_axis = g.op("ReduceLogicalOr", g.op("Equal", axes, pos), g.i64([0]), keep_dims=False)
    if x.rank == 0:
        return g.op("Reshape", x, g.i64([1] * r), special_zero=False)
    below = g.op("ReduceSum", g.op("Convert", g.op("Less", axes, pos), destination_type="i64"), g.i64([0]),
                 keep_dims=False)
    src = g.op("Minimum", g.op("Subtract", g.i64(np.arange(r)), below), g.i64(x.rank - 1))
    dims = g.op("Gather", g.op("ShapeOf", x, output_type="i64"), src, g.i64(0), batch_dims=0)
    target = g.op("Select", is_axis, g.i64(1), dims)
    return g.op("Reshape", x, target, special_zero=False)


@onnx_ops.op("Squeeze", since=1)
def squeeze_1(g, x, *, axes=None):
    return g.op("Squeeze", x) if axes is None else g.op("Squeeze", x, g.i64(axes))


@onnx_ops.op("Squeeze", since=13)
def squeeze_13(g, x, axes=None):
    return g.op("Squeeze", x) if axes is None else g.op("Squeeze", x, axes)


@onnx_ops.op("Gather", since=1)
def gather(g, data, indices, *, axis=0):
    return g.op("Gather", data, indices, g.i64(axis), batch_dims=0)


@onnx_ops.op("Cast", since=1)
def cast(g, x, *, to, saturate=1, round_mode="up"):
    """Convert to the ONNX type ``to`` (opset 1 spells it as a name such as "FLOAT").

    Floats become integers by truncation toward zero; anything becomes bool as x != 0
    (so NaN is true). 8-bit, 4-bit and 2-bit float/int types and strings are refused:
    ``saturate`` and ``round_mode`` only concern those types.
    """
    return _cast_to(g, x, _onnx_cast_type(to))


@onnx_ops.op("CastLike", since=15)
def cast_like(g, x, like, *, saturate=1, round_mode="up"):
    """Convert x to the element type of ``like``, with Cast's rules."""
    return _cast_to(g, x, like.etype)


def _onnx_cast_type(to) -> str:
    from onnx import TensorProto

    from ..loader import ONNX_ETYPES
    if isinstance(to, str):
        try:
            to = TensorProto.DataType.Value(to.upper())
        except ValueError:
            raise ValueError(f"Cast to unknown type name {to!r}") from None
    if to not in ONNX_ETYPES:
        try:
            name = TensorProto.DataType.Name(to)
        except ValueError:
            name = str(to)
        raise ValueError(f"Cast to {name} is not supported (mo converts to 8..64-bit integer, bool, "
                         "float16, bfloat16, float and double)")
    return ONNX_ETYPES[to]


def _cast_to(g, x, etype: str):
    if x.etype == etype:
        return x
    if etype == "boolean" and x.etype != "boolean":
        zero = g.op("Convert", g.const(np.zeros((), np.int8)), destination_type=x.etype) if x.etype == "bf16" \
            else g.const(np.zeros((), to_numpy(x.etype)))
        return g.op("NotEqual", x, zero)
    return g.op("Convert", x, destination_type=etype)
