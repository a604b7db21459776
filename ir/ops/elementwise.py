"""Element-wise ops: unary math and activations, binary arithmetic, comparison and logic, Select."""
from __future__ import annotations

import math

import numpy as np

from ..opset import OpError, op
from ..shapes import broadcast

_BCAST = {"auto_broadcast": ("str", "numpy")}


def _same(ins, a):
    return [(ins[0].etype, ins[0].shape)]


def _unary(name: str, version: str, fn, attrs=None, doc: str = ""):
    def infer(ins, a):
        return [(ins[0].etype, ins[0].shape)]
    infer.__doc__ = doc
    op(name, version, attrs, inputs=(1, 1), evaluate=lambda x, a: [np.asarray(fn(x[0], a)).astype(x[0].dtype)])(infer)


def _erf(x):
    return np.vectorize(math.erf, otypes=[np.float64])(x)


def _gelu(x, a):
    x64 = x.astype(np.float64)
    if a["approximation_mode"] == "tanh":
        return 0.5 * x64 * (1 + np.tanh(np.sqrt(2 / np.pi) * (x64 + 0.044715 * x64 ** 3)))
    return 0.5 * x64 * (1 + _erf(x64 / np.sqrt(2)))


def _round(x, a):
    if a["mode"] == "half_to_even":
        return np.round(x)
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def _trunc_if_int(fn):
    return fn


_UNARY = [
    ("Relu", "opset1", lambda x, a: np.maximum(x, 0), None, "max(x, 0)"),
    ("Sigmoid", "opset1", lambda x, a: 1 / (1 + np.exp(-x.astype(np.float64))), None, "1 / (1 + exp(-x))"),
    ("Tanh", "opset1", lambda x, a: np.tanh(x), None, "tanh(x)"),
    ("Exp", "opset1", lambda x, a: np.exp(x), None, "exp(x)"),
    ("Log", "opset1", lambda x, a: np.log(x), None, "natural logarithm"),
    ("Sqrt", "opset1", lambda x, a: np.sqrt(x), None, "square root"),
    ("Abs", "opset1", lambda x, a: np.abs(x), None, "|x|"),
    ("Negative", "opset1", lambda x, a: -x, None, "-x"),
    ("Floor", "opset1", lambda x, a: np.floor(x), None, "floor(x)"),
    ("Ceiling", "opset1", lambda x, a: np.ceil(x), None, "ceil(x)"),
    ("Sign", "opset1", lambda x, a: np.sign(x), None, "sign(x)"),
    ("Sin", "opset1", lambda x, a: np.sin(x), None, "sin(x)"),
    ("Cos", "opset1", lambda x, a: np.cos(x), None, "cos(x)"),
    ("Tan", "opset1", lambda x, a: np.tan(x), None, "tan(x)"),
    ("Asin", "opset1", lambda x, a: np.arcsin(x), None, "arcsin(x)"),
    ("Acos", "opset1", lambda x, a: np.arccos(x), None, "arccos(x)"),
    ("Atan", "opset1", lambda x, a: np.arctan(x), None, "arctan(x)"),
    ("Sinh", "opset1", lambda x, a: np.sinh(x), None, "sinh(x)"),
    ("Cosh", "opset1", lambda x, a: np.cosh(x), None, "cosh(x)"),
    ("Asinh", "opset4", lambda x, a: np.arcsinh(x), None, "arcsinh(x)"),
    ("Acosh", "opset4", lambda x, a: np.arccosh(x), None, "arccosh(x)"),
    ("Atanh", "opset4", lambda x, a: np.arctanh(x), None, "arctanh(x)"),
    ("Erf", "opset1", lambda x, a: _erf(x), None, "Gauss error function"),
    ("SoftPlus", "opset4", lambda x, a: np.logaddexp(0, x.astype(np.float64)), None, "ln(1 + exp(x))"),
    ("SoftSign", "opset9", lambda x, a: x / (1 + np.abs(x)), None, "x / (1 + |x|)"),
    ("Mish", "opset4", lambda x, a: x * np.tanh(np.logaddexp(0, x.astype(np.float64))), None, "x * tanh(softplus(x))"),
    ("HSwish", "opset4", lambda x, a: x * np.clip(x + 3, 0, 6) / 6, None, "x * min(max(x + 3, 0), 6) / 6"),
    ("HSigmoid", "opset5", lambda x, a: np.clip(x + 3, 0, 6) / 6, None, "min(max(x + 3, 0), 6) / 6"),
    ("LogicalNot", "opset1", lambda x, a: np.logical_not(x), None, "not x"),
    ("Clamp", "opset1", lambda x, a: np.clip(x, a["min"], a["max"]), {"min": ("float",), "max": ("float",)},
     "min(max(x, min), max)"),
    ("Elu", "opset1", lambda x, a: np.where(x > 0, x, a["alpha"] * (np.exp(x.astype(np.float64)) - 1)),
     {"alpha": ("float",)}, "x if x > 0 else alpha * (exp(x) - 1)"),
    ("Gelu", "opset7", _gelu, {"approximation_mode": ("str", "erf")}, "x * Phi(x), erf or tanh form"),
    ("Round", "opset5", _round, {"mode": ("str", "half_to_even")}, "rounding, half_to_even or half_away_from_zero"),
]

for _name, _ver, _fn, _attrs, _doc in _UNARY:
    _unary(_name, _ver, _fn, _attrs, _doc)


def _binary_infer(out_bool: bool):
    def infer(ins, a):
        if ins[0].etype != ins[1].etype:
            raise OpError(f"element types differ: {ins[0].etype} and {ins[1].etype}")
        return [("boolean" if out_bool else ins[0].etype, broadcast(ins[0].shape, ins[1].shape, a["auto_broadcast"]))]
    return infer


def _int_div(x, y, a):
    if np.issubdtype(x.dtype, np.integer):
        if a.get("m_pythondiv", True):
            return np.floor_divide(x, y)
        return np.trunc(x / y).astype(x.dtype)
    return x / y


def _mod(x, y, a):
    return np.fmod(x, y)


def _floor_mod(x, y, a):
    return np.mod(x, y)


def _power(x, y, a):
    if np.issubdtype(x.dtype, np.integer):
        return np.power(x.astype(np.float64), y).astype(x.dtype)
    return np.power(x, y)


_BINARY = [
    ("Add", "opset1", lambda x, y, a: x + y, False, None),
    ("Subtract", "opset1", lambda x, y, a: x - y, False, None),
    ("Multiply", "opset1", lambda x, y, a: x * y, False, None),
    ("Divide", "opset1", _int_div, False, {"m_pythondiv": ("bool", True)}),
    ("Power", "opset1", _power, False, None),
    ("Maximum", "opset1", lambda x, y, a: np.maximum(x, y), False, None),
    ("Minimum", "opset1", lambda x, y, a: np.minimum(x, y), False, None),
    ("SquaredDifference", "opset1", lambda x, y, a: (x - y) ** 2, False, None),
    ("Mod", "opset1", _mod, False, None),
    ("FloorMod", "opset1", _floor_mod, False, None),
    ("Equal", "opset1", lambda x, y, a: x == y, True, None),
    ("NotEqual", "opset1", lambda x, y, a: x != y, True, None),
    ("Less", "opset1", lambda x, y, a: x < y, True, None),
    ("LessEqual", "opset1", lambda x, y, a: x <= y, True, None),
    ("Greater", "opset1", lambda x, y, a: x > y, True, None),
    ("GreaterEqual", "opset1", lambda x, y, a: x >= y, True, None),
    ("LogicalAnd", "opset1", lambda x, y, a: np.logical_and(x, y), True, None),
    ("LogicalOr", "opset1", lambda x, y, a: np.logical_or(x, y), True, None),
    ("LogicalXor", "opset1", lambda x, y, a: np.logical_xor(x, y), True, None),
]


def _binary(name, version, fn, out_bool, extra):
    attrs = dict(_BCAST)
    if extra:
        attrs.update(extra)
    infer = _binary_infer(out_bool)
    infer.__doc__ = f"element-wise {name} with numpy broadcasting"

    def evaluate(x, a, fn=fn, out_bool=out_bool):
        r = np.asarray(fn(x[0], x[1], a))
        return [r.astype(bool) if out_bool else r.astype(x[0].dtype)]
    op(name, version, attrs, inputs=(2, 2), evaluate=evaluate)(infer)


for _name, _ver, _fn, _ob, _extra in _BINARY:
    _binary(_name, _ver, _fn, _ob, _extra)


@op("PRelu", "opset1", inputs=(2, 2),
    evaluate=lambda x, a: [np.where(x[0] >= 0, x[0], x[0] * _prelu_slope(x[0], x[1])).astype(x[0].dtype)])
def prelu(ins, a):
    """x if x >= 0 else slope * x; a 1-D slope of C values applies along axis 1 (channels)."""
    return [(ins[0].etype, ins[0].shape)]


def _prelu_slope(x: np.ndarray, s: np.ndarray) -> np.ndarray:
    if s.ndim == 1 and x.ndim >= 2 and s.shape[0] == x.shape[1] and s.shape[0] != x.shape[-1]:
        return s.reshape((1, -1) + (1,) * (x.ndim - 2))
    return s


@op("Select", "opset1", _BCAST, inputs=(3, 3), evaluate=lambda x, a: [np.where(x[0], x[1], x[2])])
def select(ins, a):
    """cond ? then : else, numpy broadcasting of all three."""
    return [(ins[1].etype, broadcast(broadcast(ins[0].shape, ins[1].shape), ins[2].shape))]
