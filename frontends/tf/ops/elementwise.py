"""Element-wise TF ops: activations, unary math, binary arithmetic, comparison, logic, Select."""
from __future__ import annotations

import numpy as np

from mo.graph import Value

from ..context import TfContext, tf_ops

_UNARY = {
    "Relu": "Relu", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "Exp": "Exp", "Log": "Log", "Sqrt": "Sqrt",
    "Abs": "Abs", "Neg": "Negative", "Floor": "Floor", "Ceil": "Ceiling", "Sign": "Sign", "Sin": "Sin",
    "Cos": "Cos", "Tan": "Tan", "Asin": "Asin", "Acos": "Acos", "Atan": "Atan", "Sinh": "Sinh", "Cosh": "Cosh",
    "Asinh": "Asinh", "Acosh": "Acosh", "Atanh": "Atanh", "Erf": "Erf", "Softplus": "SoftPlus",
    "Softsign": "SoftSign", "Mish": "Mish", "LogicalNot": "LogicalNot", "IsNan": "IsNaN", "IsInf": "IsInf",
    "IsFinite": "IsFinite",
}


def _unary(ov_type: str):
    def convert(g: TfContext, x: Value) -> Value:
        return g.op(ov_type, x)
    convert.__doc__ = f"TF element-wise op -> {ov_type}"
    return convert


for _tf, _ov in _UNARY.items():
    tf_ops.add([_tf], _unary(_ov))

_BINARY = {
    "Add": "Add", "AddV2": "Add", "Sub": "Subtract", "Mul": "Multiply", "RealDiv": "Divide", "Maximum": "Maximum",
    "Minimum": "Minimum", "Pow": "Power", "SquaredDifference": "SquaredDifference", "FloorMod": "FloorMod",
    "Equal": "Equal", "NotEqual": "NotEqual", "Less": "Less", "LessEqual": "LessEqual", "Greater": "Greater",
    "GreaterEqual": "GreaterEqual", "LogicalAnd": "LogicalAnd", "LogicalOr": "LogicalOr",
}


def _binary(ov_type: str):
    def convert(g: TfContext, x: Value, y: Value) -> Value:
        return g.op(ov_type, x, y)
    convert.__doc__ = f"TF binary op -> {ov_type} (numpy broadcasting, as TF)"
    return convert


for _tf, _ov in _BINARY.items():
    tf_ops.add([_tf], _binary(_ov))


@tf_ops.op("Div")
def div(g: TfContext, x: Value, y: Value) -> Value:
    """Div: true division for floats, truncating (C) division for integers (TF's raw Div kernel)."""
    return g.op("Divide", x, y, m_pythondiv=False)


@tf_ops.op("FloorDiv")
def floor_div(g: TfContext, x: Value, y: Value) -> Value:
    """floor(x / y). Integers: q = trunc(x / y), minus 1 where the remainder is non-zero and its
    sign differs from y's (the CPU plugin ignores Divide's m_pythondiv, so it is spelled out)."""
    if x.etype.startswith("u"):
        return g.op("Divide", x, y, m_pythondiv=False)
    if x.etype.startswith("i"):
        q = g.op("Divide", x, y, m_pythondiv=False)
        r = g.op("Subtract", x, g.op("Multiply", q, y))
        zero = g.scalar_like(0, x)
        fix = g.op("LogicalAnd", g.op("NotEqual", r, zero),
                   g.op("NotEqual", g.op("Less", r, zero), g.op("Less", y, zero)))
        return g.op("Subtract", q, g.op("Convert", fix, destination_type=x.etype))
    return g.op("Floor", g.op("Divide", x, y))


@tf_ops.op("TruncateDiv")
def truncate_div(g: TfContext, x: Value, y: Value) -> Value:
    """Integer division rounding toward zero."""
    return g.op("Divide", x, y, m_pythondiv=False)


@tf_ops.op("Relu6")
def relu6(g: TfContext, x: Value) -> Value:
    """min(max(x, 0), 6)."""
    return g.op("Clamp", x, min=0.0, max=6.0)


@tf_ops.op("Elu")
def elu(g: TfContext, x: Value) -> Value:
    return g.op("Elu", x, alpha=1.0)


@tf_ops.op("Selu")
def selu(g: TfContext, x: Value) -> Value:
    """scale * (x if x > 0 else alpha * (exp(x) - 1)) with TF's constants."""
    alpha = g.scalar_like(1.6732632423543772848170429916717, x)
    scale = g.scalar_like(1.0507009873554804934193349852946, x)
    return g.op("Selu", x, alpha, scale)


@tf_ops.op("LeakyRelu")
def leaky_relu(g: TfContext, x: Value, *, alpha: float = 0.2) -> Value:
    """x if x >= 0 else alpha * x."""
    return g.op("PRelu", x, g.scalar_like(alpha, x))


@tf_ops.op("Rsqrt")
def rsqrt(g: TfContext, x: Value) -> Value:
    """1 / sqrt(x)."""
    return g.op("Divide", g.scalar_like(1.0, x), g.op("Sqrt", x))


@tf_ops.op(["Reciprocal", "Inv"])
def reciprocal(g: TfContext, x: Value) -> Value:
    return g.op("Divide", g.scalar_like(1.0, x), x)


@tf_ops.op("Erfc")
def erfc(g: TfContext, x: Value) -> Value:
    """1 - erf(x)."""
    return g.op("Subtract", g.scalar_like(1.0, x), g.op("Erf", x))


@tf_ops.op("Square")
def square(g: TfContext, x: Value) -> Value:
    return g.op("Multiply", x, x)


@tf_ops.op("Round")
def round_(g: TfContext, x: Value) -> Value:
    """Banker's rounding (half to even), as tf.round."""
    if x.etype.startswith(("i", "u")):
        return x
    return g.op("Round", x, mode="half_to_even")


@tf_ops.op("Gelu")
def gelu(g: TfContext, x: Value, *, approximate: bool = False) -> Value:
    return g.op("Gelu", x, approximation_mode="tanh" if approximate else "erf")


@tf_ops.op("AddN")
def add_n(g: TfContext, *xs: Value) -> Value:
    """Sum of all inputs."""
    out = xs[0]
    for x in xs[1:]:
        out = g.op("Add", out, x)
    return out


@tf_ops.op(["Select", "SelectV2"])
def select(g: TfContext, cond: Value, x: Value, y: Value) -> Value:
    """cond ? x : y. TF1 Select with a 1-D condition picks rows of x/y (first axis)."""
    if g.op_type == "Select" and cond.rank == 1 and x.rank is not None and x.rank > 1:
        cond = g.op("Reshape", cond, g.i64([-1] + [1] * (x.rank - 1)), special_zero=False)
    return g.op("Select", cond, x, y)


@tf_ops.op("ClipByValue")
def clip_by_value(g: TfContext, x: Value, lo: Value, hi: Value) -> Value:
    return g.op("Minimum", g.op("Maximum", x, lo), hi)


@tf_ops.op("BiasAdd")
def bias_add(g: TfContext, x: Value, b: Value, *, data_format: str = "NHWC") -> Value:
    """x + b along the channel axis: the last one (NHWC) or axis 1 (NCHW)."""
    if data_format.startswith("NC") and x.rank is not None and x.rank > 2:
        b = g.op("Reshape", b, g.i64([-1] + [1] * (x.rank - 2)), special_zero=False)
    elif data_format.startswith("NC") and x.rank is None:
        raise ValueError("BiasAdd in NCHW format needs the input's rank")
    return g.op("Add", x, b)


@tf_ops.op("Cast")
def cast(g: TfContext, x: Value, *, DstT: int, Truncate: bool = False) -> Value:
    """Convert to DstT (float -> int truncates toward zero, as TF)."""
    from ..context import dtype_to_etype
    et = dtype_to_etype(DstT)
    if et == x.etype:
        return x
    return g.op("Convert", x, destination_type=et)


def _np(x: Value) -> np.ndarray | None:
    return x.const_value()


@tf_ops.op("Log1p")
def log1p(g: TfContext, x: Value) -> Value:
    return g.op("Log", g.op("Add", x, g.scalar_like(1.0, x)))


@tf_ops.op("Expm1")
def expm1(g: TfContext, x: Value) -> Value:
    return g.op("Subtract", g.op("Exp", x), g.scalar_like(1.0, x))


@tf_ops.op("Swish")
def swish(g: TfContext, x: Value) -> Value:
    return g.op("Swish", x)


@tf_ops.op("Xlogy")
def xlogy(g: TfContext, x: Value, y: Value) -> Value:
    """x * log(y), 0 where x == 0."""
    zero = g.scalar_like(0, x)
    return g.op("Select", g.op("Equal", x, zero), zero, g.op("Multiply", x, g.op("Log", y)))


@tf_ops.op("Xdivy")
def xdivy(g: TfContext, x: Value, y: Value) -> Value:
    """x / y, 0 where x == 0."""
    zero = g.scalar_like(0, x)
    return g.op("Select", g.op("Equal", x, zero), zero, g.op("Divide", x, y))


@tf_ops.op("Print")
def print_(g: TfContext, x: Value, *rest: Value) -> Value:
    """tf.Print passes its first input through (the printing is a side effect)."""
    return x
