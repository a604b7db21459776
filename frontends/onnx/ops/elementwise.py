"""Element-wise ONNX ops: math, activations, comparison and logic, variadic Sum/Min/Max/Mean, Clip, PRelu."""
from __future__ import annotations

import numpy as np

from mo.graph import Value
from mo.types import FLOAT_TYPES, to_numpy

from ..context import onnx_ops

_UNARY = {
    "Relu": "Relu", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "Exp": "Exp", "Log": "Log", "Sqrt": "Sqrt",
    "Abs": "Abs", "Neg": "Negative", "Floor": "Floor", "Ceil": "Ceiling", "Sign": "Sign", "Sin": "Sin",
    "Cos": "Cos", "Tan": "Tan", "Asin": "Asin", "Acos": "Acos", "Atan": "Atan", "Sinh": "Sinh", "Cosh": "Cosh",
    "Asinh": "Asinh", "Acosh": "Acosh", "Atanh": "Atanh", "Erf": "Erf", "Softplus": "SoftPlus",
    "Softsign": "SoftSign", "Mish": "Mish", "HardSwish": "HSwish", "Not": "LogicalNot",
}

_BINARY = {
    "Equal": "Equal", "Less": "Less", "LessOrEqual": "LessEqual", "Greater": "Greater",
    "GreaterOrEqual": "GreaterEqual", "And": "LogicalAnd", "Or": "LogicalOr", "Xor": "LogicalXor",
}


def _is_float(v: Value) -> bool:
    return v.etype in FLOAT_TYPES


def _scalar(g, value: float, like: Value) -> Value:
    """A scalar constant of ``like``'s element type (bf16 has no numpy type: built as f32 and converted)."""
    if like.etype == "bf16":
        return g.op("Convert", g.const(np.float32(value)), destination_type="bf16")
    return g.const(np.asarray(value, dtype=to_numpy(like.etype)))


def _unary(ov_type: str):
    def convert(g, x):
        return g.op(ov_type, x)
    convert.__doc__ = f"y = {ov_type}(x)"
    return convert


def _binary(ov_type: str):
    def convert(g, a, b):
        return g.op(ov_type, a, b)
    convert.__doc__ = f"y = {ov_type}(a, b) with numpy broadcasting"
    return convert


for _src, _dst in _UNARY.items():
    onnx_ops.add([_src], _unary(_dst), since=1)
for _src, _dst in _BINARY.items():
    onnx_ops.add([_src], _binary(_dst), since=7)


_WRAPPED = {"i8": 8, "u8": 8, "i16": 16, "u16": 16}


def _wrapping(ov_type: str):
    def convert(g, a, b):
        if a.etype not in _WRAPPED or b.etype != a.etype:
            return g.op(ov_type, a, b)
        return _wrap_to(g, g.op(ov_type, g.op("Convert", a, destination_type="i32"),
                                g.op("Convert", b, destination_type="i32")), a.etype)
    convert.__doc__ = (f"y = {ov_type}(a, b); 8- and 16-bit integers are computed in i32 and wrapped "
                       "(OpenVINO's CPU saturates them, ONNX wraps around)")
    return convert


def _wrap_to(g, y: Value, etype: str) -> Value:
    """The i32 values ``y`` reduced modulo 2**bits into the range of ``etype``, converted to it."""
    bits = _WRAPPED[etype]
    y = g.op("BitwiseAnd", y, g.const(np.int32((1 << bits) - 1)))
    if etype.startswith("i"):
        y = g.op("Select", g.op("GreaterEqual", y, g.const(np.int32(1 << (bits - 1)))),
                 g.op("Subtract", y, g.const(np.int32(1 << bits))), y)
    return g.op("Convert", y, destination_type=etype)


onnx_ops.add(["Add"], _wrapping("Add"), since=7)
onnx_ops.add(["Sub"], _wrapping("Subtract"), since=7)
onnx_ops.add(["Mul"], _wrapping("Multiply"), since=7)


@onnx_ops.op("Div", since=7)
def div(g, a, b):
    """Float division; integer division truncates toward zero as in C."""
    return g.op("Divide", a, b, m_pythondiv=_is_float(a))


@onnx_ops.op("Pow", since=7)
def pow_(g, a, b):
    """a ** b; the result has a's type. An integer base with a float exponent is computed in float
    and truncated back, unless the exponent is a constant holding whole numbers."""
    if b.etype == a.etype:
        return g.op("Power", a, b)
    if _is_float(a):
        return g.op("Power", a, g.op("Convert", b, destination_type=a.etype))
    bv = b.const_value()
    if not _is_float(b) or (bv is not None and np.all(np.isfinite(bv)) and np.all(bv == np.round(bv))):
        return g.op("Power", a, g.op("Convert", b, destination_type=a.etype))
    wide = "f64" if b.etype == "f64" else "f32"
    y = g.op("Power", g.op("Convert", a, destination_type=wide), g.op("Convert", b, destination_type=wide))
    return g.op("Convert", y, destination_type=a.etype)


@onnx_ops.op("Mod", since=10)
def mod(g, a, b, *, fmod=0):
    """fmod=1: C fmod, sign of the dividend (OpenVINO Mod); fmod=0: Python %, sign of the divisor (FloorMod)."""
    if fmod not in (0, 1):
        raise ValueError(f"Mod fmod={fmod} is not 0 or 1")
    if not _is_float(a):
        return g.op("Mod" if fmod else "FloorMod", a, b)
    # floats: OpenVINO computes x - trunc(x / y) * y, which is NaN for a finite x and an
    # infinite y (0 * inf); C fmod gives x there
    r = g.op("Mod", a, b)
    keep_x = g.op("LogicalAnd", g.op("IsInf", b), g.op("IsFinite", a))
    r = g.op("Select", keep_x, a, r)
    if fmod:
        return r
    zero = _scalar(g, 0, a)
    # Python %: move a non-zero remainder whose sign differs from the divisor's by one divisor
    wrong_sign = g.op("LogicalAnd", g.op("NotEqual", r, zero),
                      g.op("NotEqual", g.op("Less", r, zero), g.op("Less", b, zero)))
    return g.op("Select", wrong_sign, g.op("Add", r, b), r)


def _fold_variadic(g, ov_type: str, xs) -> Value:
    out = xs[0]
    for x in xs[1:]:
        out = g.op(ov_type, out, x)
    return out


def _variadic(ov_type: str):
    def convert(g, *xs):
        return _fold_variadic(g, ov_type, xs)
    convert.__doc__ = f"left fold of {ov_type} over all inputs (multidirectional broadcasting)"
    return convert


onnx_ops.add(["Sum"], _variadic("Add"), since=6)
onnx_ops.add(["Max"], _variadic("Maximum"), since=6)
onnx_ops.add(["Min"], _variadic("Minimum"), since=6)


@onnx_ops.op("Mean", since=6)
def mean(g, *xs):
    """Sum of the inputs divided by their count."""
    s = _fold_variadic(g, "Add", xs)
    if len(xs) == 1:
        return s
    return g.op("Divide", s, _scalar(g, len(xs), s), m_pythondiv=_is_float(s))


@onnx_ops.op("LeakyRelu", since=6)
def leaky_relu(g, x, *, alpha=0.01):
    """x if x >= 0 else alpha * x (PRelu with a one-element slope)."""
    return g.op("PRelu", x, _scalar_1d(g, alpha, x))


def _scalar_1d(g, value: float, like: Value) -> Value:
    s = _scalar(g, value, like)
    return g.op("Reshape", s, g.i64([1]), special_zero=False)


@onnx_ops.op("Elu", since=6)
def elu(g, x, *, alpha=1.0):
    """x if x > 0 else alpha * (exp(x) - 1)."""
    return g.op("Elu", x, alpha=alpha)


@onnx_ops.op("Celu", since=12)
def celu(g, x, *, alpha=1.0):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1)) == alpha * Elu(x / alpha); f16/bf16 computed in f32."""
    if alpha == 0:
        raise ValueError("Celu alpha must not be 0")
    xf = _to_f32(g, x)
    a = _scalar(g, alpha, xf)
    y = g.op("Multiply", g.op("Elu", g.op("Divide", xf, a), alpha=1.0), a)
    return _back(g, y, x)


def _to_f32(g, x: Value) -> Value:
    return g.op("Convert", x, destination_type="f32") if x.etype in ("f16", "bf16") else x


def _back(g, y: Value, like: Value) -> Value:
    return g.op("Convert", y, destination_type=like.etype) if y.etype != like.etype else y


@onnx_ops.op("Selu", since=6)
def selu(g, x, *, alpha=1.67326319217681884765625, gamma=1.05070102214813232421875):
    """gamma * (x if x > 0 else alpha * (exp(x) - 1))."""
    return g.op("Selu", x, _scalar_1d(g, alpha, x), _scalar_1d(g, gamma, x))


@onnx_ops.op("HardSigmoid", since=6)
def hard_sigmoid(g, x, *, alpha=0.2, beta=0.5):
    """max(0, min(1, alpha * x + beta))."""
    return g.op("HardSigmoid", x, _scalar(g, alpha, x), _scalar(g, beta, x))


@onnx_ops.op("ThresholdedRelu", since=10)
def thresholded_relu(g, x, *, alpha=1.0):
    """x if x > alpha else 0."""
    return g.op("Select", g.op("Greater", x, _scalar(g, alpha, x)), x, _scalar(g, 0, x))


@onnx_ops.op("Shrink", since=9)
def shrink(g, x, *, bias=0.0, lambd=0.5):
    """x + bias if x < -lambd; x - bias if x > lambd; else 0 (thresholds in x's type)."""
    zero = _scalar(g, 0, x)
    b = _scalar(g, bias, x)
    low = g.op("Select", g.op("Less", x, _scalar(g, -lambd, x)), g.op("Add", x, b), zero)
    return g.op("Select", g.op("Greater", x, _scalar(g, lambd, x)), g.op("Subtract", x, b), low)


@onnx_ops.op("Swish", since=24)
def swish(g, x, *, alpha=1.0):
    """x * sigmoid(alpha * x)."""
    return g.op("Swish", x, _scalar(g, alpha, x))


@onnx_ops.op("Reciprocal", since=6)
def reciprocal(g, x):
    """1 / x."""
    return g.op("Divide", _scalar(g, 1, x), x, m_pythondiv=True)


@onnx_ops.op("IsNaN", since=9)
def is_nan(g, x):
    """True where x is NaN."""
    return g.op("IsNaN", x)


@onnx_ops.op("IsInf", since=10)
def is_inf(g, x, *, detect_negative=1, detect_positive=1):
    """True where x is +inf / -inf, as selected by the detect_* flags."""
    return g.op("IsInf", x, detect_negative=bool(detect_negative), detect_positive=bool(detect_positive))


@onnx_ops.op("Round", since=11)
def round_(g, x):
    """Round to nearest, ties to even."""
    return g.op("Round", x, mode="half_to_even")


@onnx_ops.op("Clip", since=6)
def clip_6(g, x, *, min=-3.4028234663852886e38, max=3.4028234663852886e38):
    """min(max(x, min), max) with attribute bounds."""
    if min > max:
        return g.op("Minimum", g.op("Maximum", x, _scalar(g, min, x)), _scalar(g, max, x))
    return g.op("Clamp", x, min=min, max=max)


@onnx_ops.op("Clip", since=11)
def clip_11(g, x, lo=None, hi=None):
    """min(max(x, lo), hi); missing bounds are the type's limits; lo > hi gives hi everywhere.

    Constant bounds on f32/f16 become Clamp; other cases (integers, whose bounds a float
    attribute could round, or non-constant bounds) use Maximum/Minimum in x's type.
    """
    lo_v = None if lo is None else lo.const_value()
    hi_v = None if hi is None else hi.const_value()
    if lo is not None and lo_v is None or hi is not None and hi_v is None or x.etype not in ("f32", "f16"):
        out = x
        if lo is not None:
            out = g.op("Maximum", out, lo)
        if hi is not None:
            out = g.op("Minimum", out, hi)
        return out
    info = np.finfo(to_numpy(x.etype))
    lo_f = float(info.min) if lo_v is None else float(np.asarray(lo_v).reshape(()))
    hi_f = float(info.max) if hi_v is None else float(np.asarray(hi_v).reshape(()))
    if lo_f > hi_f or np.isnan(lo_f) or np.isnan(hi_f):
        return g.op("Minimum", g.op("Maximum", x, _scalar(g, lo_f, x)), _scalar(g, hi_f, x))
    return g.op("Clamp", x, min=lo_f, max=hi_f)


@onnx_ops.op("PRelu", since=7)
def prelu(g, x, slope):
    """x if x >= 0 else slope * x, slope broadcast numpy-style (from the right) to x.

    OpenVINO's PRelu applies a 1-D slope whose length equals x's dim 1 along the channel
    axis; ONNX aligns it with the last axis. A slope of lower rank is therefore unsqueezed
    to x's rank first, so OpenVINO's plain numpy broadcasting gives the ONNX numbers.
    """
    if slope.etype != x.etype:
        slope = g.op("Convert", slope, destination_type=x.etype)
    if x.rank is None or slope.rank is None:
        if slope.rank is not None and slope.rank <= 1:
            raise ValueError("PRelu with an input of unknown rank and a 1-D slope: the broadcast axis is ambiguous")
        return g.op("PRelu", x, slope)
    if 1 <= slope.rank < x.rank and slope.shape != (1,):
        slope = g.op("Unsqueeze", slope, g.i64(list(range(x.rank - slope.rank))))
    return g.op("PRelu", x, slope)


@onnx_ops.op("Gelu", since=20)
def gelu(g, x, *, approximate="none"):
    """x * Phi(x); approximate='tanh' selects the tanh form."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"Gelu approximate={approximate!r} is not 'none' or 'tanh'")
    return g.op("Gelu", x, approximation_mode="tanh" if approximate == "tanh" else "erf")


# ----------------------------------------------------------------------------- bitwise

_BITS = {"i8": 8, "u8": 8, "i16": 16, "u16": 16, "i32": 32, "u32": 32, "i64": 64, "u64": 64}

onnx_ops.add(["BitwiseAnd"], _binary("BitwiseAnd"), since=18)
onnx_ops.add(["BitwiseOr"], _binary("BitwiseOr"), since=18)
onnx_ops.add(["BitwiseXor"], _binary("BitwiseXor"), since=18)
onnx_ops.add(["BitwiseNot"], _unary("BitwiseNot"), since=18)


@onnx_ops.op("BitShift", since=11)
def bit_shift(g, x, s, *, direction):
    """x << s or x >> s in x's width; shifts outside [0, width) give 0 (or -1 for a negative x shifted right).

    Left shifts wrap around. 8- and 16-bit values are shifted in i32 and wrapped back, and a
    signed right shift of a negative x is written as ~((~x) >> s), so only shifts of
    non-negative values in their own width are asked of the runtime.
    """
    if direction not in ("LEFT", "RIGHT"):
        raise ValueError(f"BitShift direction={direction!r} is not LEFT or RIGHT")
    et = x.etype
    if et not in _BITS:
        raise ValueError(f"BitShift on {et} is not supported (integer types only)")
    if s.etype != et:
        s = g.op("Convert", s, destination_type=et)
    width = _BITS[et]
    signed = et.startswith("i")
    small = width < 32
    wt = "i32" if small else et
    xw = g.op("Convert", x, destination_type=wt) if small else x
    sw = g.op("Convert", s, destination_type=wt) if small else s
    np_w = to_numpy(wt)
    zero = g.const(np.zeros((), np_w))
    valid = g.op("Less", sw, g.const(np.asarray(width, np_w)))
    if signed:
        valid = g.op("LogicalAnd", valid, g.op("GreaterEqual", sw, zero))
    if direction == "LEFT":
        amount = g.op("Select", valid, sw, zero)
        y = g.op("BitwiseLeftShift", xw, amount)
        if small:
            y = g.op("BitwiseAnd", y, g.const(np.asarray((1 << width) - 1, np_w)))
            if signed:
                y = g.op("Select", g.op("GreaterEqual", y, g.const(np.asarray(1 << (width - 1), np_w))),
                         g.op("Subtract", y, g.const(np.asarray(1 << width, np_w))), y)
        y = g.op("Select", valid, y, zero)
    elif signed:
        # shifting by width - 1 leaves only the sign: the ONNX result for out-of-range shifts
        amount = g.op("Select", valid, sw, g.const(np.asarray(width - 1, np_w)))
        pos = g.op("BitwiseRightShift", xw, amount)
        neg = g.op("BitwiseNot", g.op("BitwiseRightShift", g.op("BitwiseNot", xw), amount))
        y = g.op("Select", g.op("Less", xw, zero), neg, pos)
    else:
        amount = g.op("Select", valid, sw, zero)
        y = g.op("Select", valid, g.op("BitwiseRightShift", xw, amount), zero)
    return g.op("Convert", y, destination_type=et) if small else y
