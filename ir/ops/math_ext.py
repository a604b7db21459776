"""Math, bitwise and classification ops beyond the basic element-wise set.

Bitwise ops (opset13/15) work on integer and boolean tensors; IsNaN/IsInf/IsFinite
(opset10) classify floats into booleans; Swish, Selu and HardSigmoid are activations
whose parameters are (scalar) inputs rather than attributes.
"""
from __future__ import annotations

import numpy as np

from ..opset import OpError, op
from ..shapes import broadcast

_BCAST = {"auto_broadcast": ("str", "numpy")}


def _same_types(ins, what: str) -> None:
    if ins[0].etype != ins[1].etype:
        raise OpError(f"{what}: element types differ: {ins[0].etype} and {ins[1].etype}")


def _bitwise_binary(name: str, version: str, fn, doc: str) -> None:
    def infer(ins, a):
        _same_types(ins, name)
        return [(ins[0].etype, broadcast(ins[0].shape, ins[1].shape, a["auto_broadcast"]))]
    infer.__doc__ = doc

    def evaluate(x, a, fn=fn):
        return [np.asarray(fn(x[0], x[1])).astype(x[0].dtype)]
    op(name, version, dict(_BCAST), inputs=(2, 2), evaluate=evaluate)(infer)


def _shift_left(x: np.ndarray, s: np.ndarray) -> np.ndarray:
    """x << s with wrap-around in x's own width (numpy shifts of signed ints wrap the same way)."""
    return np.left_shift(x, s.astype(x.dtype))


_bitwise_binary("BitwiseAnd", "opset13", lambda x, y: np.bitwise_and(x, y), "bitwise AND (logical AND on booleans)")
_bitwise_binary("BitwiseOr", "opset13", lambda x, y: np.bitwise_or(x, y), "bitwise OR (logical OR on booleans)")
_bitwise_binary("BitwiseXor", "opset13", lambda x, y: np.bitwise_xor(x, y), "bitwise XOR (logical XOR on booleans)")
_bitwise_binary("BitwiseLeftShift", "opset15", _shift_left,
                "x << s; shift amounts outside [0, bit width) are undefined in OpenVINO")
_bitwise_binary("BitwiseRightShift", "opset15", lambda x, s: np.right_shift(x, s.astype(x.dtype)),
                "x >> s (arithmetic for signed types); shifts outside [0, bit width) are undefined")


@op("BitwiseNot", "opset13", inputs=(1, 1), evaluate=lambda x, a: [np.invert(x[0])])
def bitwise_not(ins, a):
    """Bitwise NOT (logical NOT on booleans)."""
    return [(ins[0].etype, ins[0].shape)]


@op("IsNaN", "opset10", inputs=(1, 1), evaluate=lambda x, a: [np.isnan(x[0])])
def is_nan(ins, a):
    """True where x is NaN."""
    return [("boolean", ins[0].shape)]


@op("IsFinite", "opset10", inputs=(1, 1), evaluate=lambda x, a: [np.isfinite(x[0])])
def is_finite(ins, a):
    """True where x is neither NaN nor infinite."""
    return [("boolean", ins[0].shape)]


def _is_inf_eval(x, a):
    v = x[0]
    return [(a["detect_positive"] & np.isposinf(v)) | (a["detect_negative"] & np.isneginf(v))]


@op("IsInf", "opset10", {"detect_negative": ("bool", True), "detect_positive": ("bool", True)}, inputs=(1, 1),
    evaluate=_is_inf_eval)
def is_inf(ins, a):
    """True where x is +inf (when detect_positive) or -inf (when detect_negative)."""
    return [("boolean", ins[0].shape)]


def _swish_eval(x, a):
    beta = np.float64(x[1].reshape(())) if len(x) > 1 else 1.0
    v = x[0].astype(np.float64)
    return [(v / (1 + np.exp(-beta * v))).astype(x[0].dtype)]


@op("Swish", "opset4", inputs=(1, 2), evaluate=_swish_eval)
def swish(ins, a):
    """x * sigmoid(beta * x); beta is an optional scalar input (default 1)."""
    return [(ins[0].etype, ins[0].shape)]


def _selu_eval(x, a):
    v, alpha, lam = x[0].astype(np.float64), np.float64(x[1].reshape(-1)[0]), np.float64(x[2].reshape(-1)[0])
    return [(lam * np.where(v > 0, v, alpha * (np.exp(v) - 1))).astype(x[0].dtype)]


@op("Selu", "opset1", inputs=(3, 3), evaluate=_selu_eval)
def selu(ins, a):
    """lambda * (x if x > 0 else alpha * (exp(x) - 1)); alpha and lambda are 1-element inputs."""
    return [(ins[0].etype, ins[0].shape)]


def _hard_sigmoid_eval(x, a):
    v, alpha, beta = x[0].astype(np.float64), np.float64(x[1].reshape(())), np.float64(x[2].reshape(()))
    return [np.clip(alpha * v + beta, 0, 1).astype(x[0].dtype)]


@op("HardSigmoid", "opset1", inputs=(3, 3), evaluate=_hard_sigmoid_eval)
def hard_sigmoid(ins, a):
    """max(0, min(1, alpha * x + beta)); alpha and beta are scalar inputs."""
    return [(ins[0].etype, ins[0].shape)]
