"""MXNet arithmetic: elemwise_*/broadcast_* binaries, *_scalar ops, unary math, clip,
reductions, dot products and argmax/topk."""
from __future__ import annotations

import numpy as np

from mo.errors import ConversionError

from ..context import mxnet_ops

_ARITH = {"add": "Add", "plus": "Add", "sub": "Subtract", "minus": "Subtract", "mul": "Multiply", "div": "Divide",
          "maximum": "Maximum", "minimum": "Minimum", "power": "Power", "mod": "FloorMod", "hypot": None}
_COMPARE = {"equal": "Equal", "not_equal": "NotEqual", "greater": "Greater", "greater_equal": "GreaterEqual",
            "lesser": "Less", "lesser_equal": "LessEqual"}
_LOGICAL = {"logical_and": "LogicalAnd", "logical_or": "LogicalOr", "logical_xor": "LogicalXor"}


def _binary(g, kind: str, a, b):
    """MXNet's binary op ``kind`` on two Values; comparisons give 0/1 in the inputs' type."""
    if kind in _ARITH:
        if kind == "hypot":
            return g.op("Sqrt", g.op("Add", g.op("Multiply", a, a), g.op("Multiply", b, b)))
        return g.op(_ARITH[kind], a, b)
    if kind in _COMPARE:
        return g.op("Convert", g.op(_COMPARE[kind], a, b), destination_type=a.etype)
    if kind in _LOGICAL:
        za, zb = g.scalar_like(0, a), g.scalar_like(0, b)
        r = g.op(_LOGICAL[kind], g.op("NotEqual", a, za), g.op("NotEqual", b, zb))
        return g.op("Convert", r, destination_type=a.etype)
    raise ConversionError(f"binary op {kind!r} is not supported")


def _register_binaries() -> None:
    for kind in list(_ARITH) + list(_COMPARE) + list(_LOGICAL):
        names = [f"broadcast_{kind}", f"_{kind}"]
        if kind in ("add", "sub", "mul", "div"):
            names.append(f"elemwise_{kind}")

        def conv(g, a, b, kind=kind):
            return _binary(g, kind, a, b)

        mxnet_ops.add(names, conv)


_register_binaries()


def _scalar(g, x, scalar, is_int=None):
    dt = np.float32 if x.etype == "f32" else None
    return g.scalar_like(float(scalar), x) if dt is not None or x.etype in ("f16", "f64") else \
        g.scalar_like(int(float(scalar)), x)


def _register_scalars() -> None:
    for kind in [k for k in list(_ARITH) + list(_COMPARE) + list(_LOGICAL) if k not in ("add", "sub")]:
        def conv(g, x, *, scalar=0.0, is_int=None, kind=kind):
            return _binary(g, kind, x, _scalar(g, x, scalar))

        def rconv(g, x, *, scalar=0.0, is_int=None, kind=kind):
            return _binary(g, kind, _scalar(g, x, scalar), x)

        mxnet_ops.add([f"_{kind}_scalar"], conv)
        if kind in ("minus", "div", "power", "mod"):
            mxnet_ops.add([f"_r{kind}_scalar"], rconv)


_register_scalars()


@mxnet_ops.op(["add_n", "ElementWiseSum", "_grad_add"])
def add_n(g, *xs, num_args=None):
    y = xs[0]
    for x in xs[1:]:
        y = g.op("Add", y, x)
    return y


_UNARY = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "exp": "Exp", "log": "Log", "sqrt": "Sqrt",
          "abs": "Abs", "negative": "Negative", "floor": "Floor", "ceil": "Ceiling", "sign": "Sign", "sin": "Sin",
          "cos": "Cos", "tan": "Tan", "arcsin": "Asin", "arccos": "Acos", "arctan": "Atan", "sinh": "Sinh",
          "cosh": "Cosh", "arcsinh": "Asinh", "arccosh": "Acosh", "arctanh": "Atanh", "erf": "Erf",
          "softsign": "SoftSign", "mish": "Mish"}


def _register_unaries() -> None:
    for name, ov in _UNARY.items():
        def conv(g, x, ov=ov):
            return g.op(ov, x)
        mxnet_ops.add([name], conv)


_register_unaries()


@mxnet_ops.op("round")
def round_(g, x):
    return g.op("Round", x, mode="half_away_from_zero")


@mxnet_ops.op(["rint"])
def rint(g, x):
    return g.op("Round", x, mode="half_to_even")


@mxnet_ops.op(["trunc", "fix"])
def trunc(g, x):
    return g.op("Multiply", g.op("Sign", x), g.op("Floor", g.op("Abs", x)))


@mxnet_ops.op("square")
def square(g, x):
    return g.op("Multiply", x, x)


@mxnet_ops.op("rsqrt")
def rsqrt(g, x):
    return g.op("Divide", g.scalar_like(1.0, x), g.op("Sqrt", x))


@mxnet_ops.op("cbrt")
def cbrt(g, x):
    return g.op("Multiply", g.op("Sign", x), g.op("Power", g.op("Abs", x), g.scalar_like(1.0 / 3.0, x)))


@mxnet_ops.op("reciprocal")
def reciprocal(g, x):
    return g.op("Divide", g.scalar_like(1.0, x), x)


@mxnet_ops.op(["log1p"])
def log1p(g, x):
    return g.op("Log", g.op("Add", x, g.scalar_like(1.0, x)))


@mxnet_ops.op(["expm1"])
def expm1(g, x):
    return g.op("Subtract", g.op("Exp", x), g.scalar_like(1.0, x))


@mxnet_ops.op(["log2", "log10"])
def log_base(g, x):
    base = 2.0 if g.node.op == "log2" else 10.0
    return g.op("Divide", g.op("Log", x), g.scalar_like(np.log(base), x))


@mxnet_ops.op("log_sigmoid")
def log_sigmoid(g, x):
    return g.op("Negative", g.op("SoftPlus", g.op("Negative", x)))


@mxnet_ops.op("hard_sigmoid")
def hard_sigmoid(g, x, *, alpha=0.2, beta=0.5):
    return g.op("HardSigmoid", x, g.scalar_like(alpha, x), g.scalar_like(beta, x))


@mxnet_ops.op("clip")
def clip(g, x, *, a_min, a_max):
    return g.op("Clamp", x, min=float(a_min), max=float(a_max))


@mxnet_ops.op("logical_not")
def logical_not(g, x):
    return g.op("Convert", g.op("Equal", x, g.scalar_like(0, x)), destination_type=x.etype)


def _reduce_axes(g, x, axis, exclude) -> list[int]:
    rank = g.rank(x)
    if axis is None or axis == ():
        axes = list(range(rank))
    else:
        axes = [int(axis) % rank] if isinstance(axis, int) else [int(a) % rank for a in axis]
    if exclude:
        axes = [a for a in range(rank) if a not in axes]
    return axes


def _register_reductions() -> None:
    table = {"mean": "ReduceMean", "sum": "ReduceSum", "max": "ReduceMax", "min": "ReduceMin", "prod": "ReduceProd",
             "nansum": None, "nanprod": None, "sum_axis": "ReduceSum", "max_axis": "ReduceMax",
             "min_axis": "ReduceMin"}
    for name, ov in table.items():
        if ov is None:
            continue

        def conv(g, x, *, axis=None, keepdims=False, exclude=False, ov=ov):
            axes = _reduce_axes(g, x, axis, exclude)
            if not axes:
                return x
            y = g.op(ov, x, g.i64(axes), keep_dims=bool(keepdims))
            if not keepdims and len(axes) == g.rank(x):   # MXNet gives shape (1,), not a scalar
                y = g.op("Reshape", y, g.i64([1]), special_zero=False)
            return y

        mxnet_ops.add([name], conv)


_register_reductions()


@mxnet_ops.op("norm")
def norm(g, x, *, ord=2, axis=None, keepdims=False, out_dtype=None):
    axes = _reduce_axes(g, x, axis, False)
    y = g.op("ReduceL1" if ord == 1 else "ReduceL2", x, g.i64(axes), keep_dims=bool(keepdims))
    if not keepdims and len(axes) == g.rank(x):   # MXNet gives shape (1,), not a scalar
        y = g.op("Reshape", y, g.i64([1]), special_zero=False)
    return y


@mxnet_ops.op(["argmax", "argmin"])
def argmax(g, x, *, axis=None, keepdims=False):
    if axis is None:
        x = g.op("Reshape", x, g.i64([-1]), special_zero=False)
        axis = 0
    rank = g.rank(x)
    axis = int(axis) % rank
    mode = "max" if g.node.op == "argmax" else "min"
    _, idx = g.op_outputs("TopK", x, g.i64(1), axis=axis, mode=mode, sort="none", index_element_type="i32")
    y = g.op("Convert", idx, destination_type=x.etype)   # MXNet returns indices as floats
    return y if keepdims else g.op("Squeeze", y, g.i64([axis]))


@mxnet_ops.op("argmax_channel")
def argmax_channel(g, x):
    _, idx = g.op_outputs("TopK", x, g.i64(1), axis=1, mode="max", sort="none", index_element_type="i32")
    return g.op("Squeeze", g.op("Convert", idx, destination_type=x.etype), g.i64([1]))


@mxnet_ops.op("topk")
def topk(g, x, *, axis=-1, k=1, ret_typ="indices", is_ascend=False, dtype="float32"):
    rank = g.rank(x)
    axis = int(axis) % rank
    vals, idx = g.op_outputs("TopK", x, g.i64(int(k)), axis=axis, mode="min" if is_ascend else "max", sort="value",
                             index_element_type="i32")
    from mo.types import from_numpy
    idx = g.op("Convert", idx, destination_type=from_numpy(np.dtype(dtype)))
    if ret_typ == "value":
        return vals
    if ret_typ == "both":
        return vals, idx
    if ret_typ == "indices":
        return idx
    raise ConversionError(f"ret_typ {ret_typ!r} is not supported")


@mxnet_ops.op("dot")
def dot(g, a, b, *, transpose_a=False, transpose_b=False, forward_stype=None):
    if g.rank(a) > 2 or g.rank(b) > 2:
        if transpose_a or transpose_b:
            raise ConversionError("dot of tensors above rank 2 with transpose is not supported")
        # MXNet's dot contracts the last axis of a with the first axis of b
        bs = g.static_shape(b, "second input")
        b2 = g.op("Reshape", b, g.i64([bs[0], -1]), special_zero=False)
        y = g.op("MatMul", a, b2, transpose_a=False, transpose_b=False)
        ash = g.static_shape(a, "first input")
        return g.op("Reshape", y, g.i64(list(ash[:-1]) + list(bs[1:])), special_zero=False)
    return g.op("MatMul", a, b, transpose_a=bool(transpose_a), transpose_b=bool(transpose_b))


@mxnet_ops.op("batch_dot")
def batch_dot(g, a, b, *, transpose_a=False, transpose_b=False, forward_stype=None):
    return g.op("MatMul", a, b, transpose_a=bool(transpose_a), transpose_b=bool(transpose_b))
