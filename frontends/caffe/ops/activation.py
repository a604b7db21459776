"""Caffe's elementwise layers: activations, Power/Exp/Log, Threshold, Eltwise, Dropout."""
from __future__ import annotations

import math


from mo.errors import ConversionError

from ..context import caffe_ops


@caffe_ops.op("ReLU")
def relu(g, x):
    """max(0, x) + negative_slope * min(0, x)."""
    slope = float(g.p.negative_slope)
    if slope == 0.0:
        return g.op("Relu", x)
    return g.op("PRelu", x, g.f32([slope]))


@caffe_ops.op("ReLU6")
def relu6(g, x):
    return g.op("Clamp", x, min=0.0, max=float(g.p.n) if g.p is not None else 6.0)


@caffe_ops.op("Clip")
def clip(g, x):
    return g.op("Clamp", x, min=float(g.p.min), max=float(g.p.max))


@caffe_ops.op("ELU")
def elu(g, x):
    return g.op("Elu", x, alpha=float(g.p.alpha))


@caffe_ops.op("Sigmoid")
def sigmoid(g, x):
    return g.op("Sigmoid", x)


@caffe_ops.op("TanH")
def tanh(g, x):
    return g.op("Tanh", x)


@caffe_ops.op("AbsVal")
def absval(g, x):
    return g.op("Abs", x)


@caffe_ops.op("BNLL")
def bnll(g, x):
    """log(1 + exp(x))."""
    return g.op("SoftPlus", x)


@caffe_ops.op("Swish")
def swish(g, x):
    """x * sigmoid(beta * x)."""
    return g.op("Swish", x, g.f32(float(g.p.beta)))


def _affine(g, x, scale: float, shift: float):
    """shift + scale * x, without ops for the identity parts."""
    if scale != 1.0:
        x = g.op("Multiply", x, g.f32(scale))
    if shift != 0.0:
        x = g.op("Add", x, g.f32(shift))
    return x


@caffe_ops.op("Power")
def power(g, x):
    """(shift + scale * x) ^ power."""
    p = g.p
    y = _affine(g, x, float(p.scale), float(p.shift))
    if float(p.power) != 1.0:
        y = g.op("Power", y, g.f32(float(p.power)))
    return y


@caffe_ops.op("Exp")
def exp(g, x):
    """base ^ (shift + scale * x); base -1 means e."""
    p = g.p
    base = float(p.base)
    if base != -1.0 and base <= 0:
        raise ConversionError(f"Exp base {base} must be positive (or -1 for e)")
    k = 1.0 if base == -1.0 else math.log(base)
    return g.op("Exp", _affine(g, x, float(p.scale) * k, float(p.shift) * k))


@caffe_ops.op("Log")
def log(g, x):
    """log_base(shift + scale * x); base -1 means e."""
    p = g.p
    base = float(p.base)
    if base != -1.0 and (base <= 0 or base == 1.0):
        raise ConversionError(f"Log base {base} must be positive and not 1 (or -1 for e)")
    y = g.op("Log", _affine(g, x, float(p.scale), float(p.shift)))
    if base != -1.0:
        y = g.op("Multiply", y, g.f32(1.0 / math.log(base)))
    return y


@caffe_ops.op("Threshold")
def threshold(g, x):
    """1 where x > threshold, else 0."""
    return g.op("Convert", g.op("Greater", x, g.f32(float(g.p.threshold))), destination_type="f32")


@caffe_ops.op("Eltwise")
def eltwise(g, *xs):
    """SUM (with one coefficient per bottom), PROD or MAX over all bottoms."""
    p = g.p
    if len(xs) < 2:
        raise ConversionError(f"Eltwise needs at least 2 bottoms, has {len(xs)}")
    op = {0: "PROD", 1: "SUM", 2: "MAX"}[p.operation]
    coeffs = list(p.coeff)
    if coeffs and (op != "SUM" or len(coeffs) != len(xs)):
        raise ConversionError(f"Eltwise coeff: {len(coeffs)} value(s) for {len(xs)} bottoms of a {op}")
    terms = list(xs)
    if coeffs:
        terms = [x if c == 1.0 else g.op("Multiply", x, g.f32(float(c))) for x, c in zip(xs, coeffs)]
    kind = {"SUM": "Add", "PROD": "Multiply", "MAX": "Maximum"}[op]
    y = terms[0]
    for t in terms[1:]:
        y = g.op(kind, y, t)
    return y


@caffe_ops.op("Dropout")
def dropout(g, x):
    """The identity at inference (Caffe scales at training time)."""
    return x


@caffe_ops.op("Split")
def split(g, x):
    """Caffe's fan-out: every top is the bottom."""
    return tuple(x for _ in g.layer.tops)


