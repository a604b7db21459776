"""Element-wise ONNX ops: math, activations, comparison and logic."""
from __future__ import annotations

import numpy as np

from mo.types import to_numpy

from ..context import onnx_ops

_UNARY = {
    "Relu": "Relu", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "Exp": "Exp", "Log": "Log", "Sqrt": "Sqrt",
    "Abs": "Abs", "Neg": "Negative", "Floor": "Floor", "Ceil": "Ceiling", "Sign": "Sign", "Sin": "Sin",
    "Cos": "Cos", "Tan": "Tan", "Asin": "Asin", "Acos": "Acos", "Atan": "Atan", "Sinh": "Sinh", "Cosh": "Cosh",
    "Asinh": "Asinh", "Acosh": "Acosh", "Atanh": "Atanh", "Erf": "Erf", "Softplus": "SoftPlus",
    "Softsign": "SoftSign", "Mish": "Mish", "HardSwish": "HSwish", "Not": "LogicalNot",
}

_BINARY = {
    "Add": "Add", "Sub": "Subtract", "Mul": "Multiply", "Pow": "Power",
    "Equal": "Equal", "Less": "Less", "LessOrEqual": "LessEqual", "Greater": "Greater",
    "GreaterOrEqual": "GreaterEqual", "And": "LogicalAnd", "Or": "LogicalOr", "Xor": "LogicalXor",
}


def _unary(ov_type: str):
    def convert(g, x):
        return g.op(ov_type, x)
    return convert


def _binary(ov_type: str):
    def convert(g, a, b):
        return g.op(ov_type, a, b)
    return convert


for _src, _dst in _UNARY.items():
    onnx_ops.add([_src], _unary(_dst), since=1)
for _src, _dst in _BINARY.items():
    onnx_ops.add([_src], _binary(_dst), since=7)


@onnx_ops.op("Div", since=7)
def div(g, a, b):
    integer = a.etype not in ("f32", "f16", "f64", "bf16")
    return g.op("Divide", a, b, m_pythondiv=False if integer else True)


@onnx_ops.op("Pow", since=7)
def pow_(g, a, b):
    if b.etype != a.etype:
        b = g.op("Convert", b, destination_type=a.etype)
    return g.op("Power", a, b)


def _variadic(ov_type: str):
    def convert(g, *xs):
        out = xs[0]
        for x in xs[1:]:
            out = g.op(ov_type, out, x)
        return out
    return convert


onnx_ops.add(["Sum"], _variadic("Add"), since=6)
onnx_ops.add(["Max"], _variadic("Maximum"), since=6)
onnx_ops.add(["Min"], _variadic("Minimum"), since=6)


@onnx_ops.op("Mean", since=6)
def mean(g, *xs):
    s = _variadic("Add")(g, *xs)
    return g.op("Divide", s, g.const(np.asarray(len(xs), dtype=to_numpy(s.etype))))


@onnx_ops.op("LeakyRelu", since=6)
def leaky_relu(g, x, *, alpha=0.01):
    return g.op("PRelu", x, g.const(np.asarray([alpha], dtype=to_numpy(x.etype))))


@onnx_ops.op("Elu", since=6)
def elu(g, x, *, alpha=1.0):
    return g.op("Elu", x, alpha=alpha)


@onnx_ops.op("Clip", since=6)
def clip_6(g, x, *, min=-3.4028234663852886e38, max=3.4028234663852886e38):
    return g.op("Clamp", x, min=min, max=max)


@onnx_ops.op("Clip", since=11)
def clip_11(g, x, lo=None, hi=None):
    lo_v = None if lo is None else lo.const_value()
    hi_v = None if hi is None else hi.const_value()
    if (lo is None or lo_v is not None) and (hi is None or hi_v is not None) and x.etype in ("f32", "f16", "f64"):
        info = np.finfo(to_numpy(x.etype))
        return g.op("Clamp", x, min=float(lo_v) if lo is not None else float(info.min),
                    max=float(hi_v) if hi is not None else float(info.max))
    out = x
    if lo is not None:
        out = g.op("Maximum", out, lo)
    if hi is not None:
        out = g.op("Minimum", out, hi)
    return out


@onnx_ops.op("PRelu", since=7)
def prelu(g, x, slope):
    # ONNX slope broadcasts numpy-style (unidirectionally) against x
    if slope.shape is not None and x.shape is not None and len(slope.shape) > 1:
        return g.op("PRelu", x, slope)
    return g.op("PRelu", x, slope)


@onnx_ops.op("Gelu", since=20)
def gelu(g, x, *, approximate="none"):
    return g.op("Gelu", x, approximation_mode="tanh" if approximate == "tanh" else "erf")
