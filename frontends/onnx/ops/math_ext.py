"""ONNX quantization ops, expressed with plain OpenVINO arithmetic.

QuantizeLinear:   y = saturate(round_half_even(x / scale) + zero_point)
DequantizeLinear: y = (x - zero_point) * scale, computed in f32 and cast to the scale's type
Scales and zero points are per tensor (scalar or one element), per axis (1-D along
``axis``) or blocked (x's rank, ``block_size`` consecutive elements along ``axis`` share
one value). The integer ops (MatMulInteger, ConvInteger and the integer part of
QLinearMatMul / QLinearConv) run in i32, so their sums are exact; only the final
requantization is done in f32.
"""
from __future__ import annotations

import numpy as np

from mo.graph import Value
from mo.types import to_numpy

from ..context import onnx_ops
from .nn import conv as _onnx_conv

# integer types a quantized tensor may have, with their ranges
_QRANGE = {"u8": (0, 255), "i8": (-128, 127), "u16": (0, 65535), "i16": (-32768, 32767),
           "i32": (-2 ** 31, 2 ** 31 - 1)}
_ONNX_QTYPE = {2: "u8", 3: "i8", 4: "u16", 5: "i16", 6: "i32"}
_ONNX_NAMES = {17: "FLOAT8E4M3FN", 18: "FLOAT8E4M3FNUZ", 19: "FLOAT8E5M2", 20: "FLOAT8E5M2FNUZ", 21: "UINT4",
               22: "INT4", 23: "FLOAT4E2M1", 24: "FLOAT8E8M0", 25: "UINT2", 26: "INT2"}


def _qtype_error(what: str, t) -> ValueError:
    return ValueError(f"{what} of type {_ONNX_NAMES.get(t, t)} is not supported "
                      "(mo converts 8/16-bit integer quantization only)")


def _type_words(et: str) -> str:
    """How an element type reads in an error; a float here is an 8-bit float or 4-bit type mo holds as f32."""
    return f"float ({et}; 8-bit float and 4/2-bit types are not supported)" if et.startswith(("f", "bf")) else et


def _numel(v: Value) -> int:
    if v.shape is None:
        return -1
    n = 1
    for d in v.shape:
        if d < 0:
            return -1
        n *= d
    return n


def _param_for(g, p: Value, x: Value, axis: int, block_size: int, what: str) -> Value:
    """``p`` (scale or zero point) shaped to broadcast against ``x``."""
    if p.rank == 0 or p.shape == (1,) or (p.rank is not None and _numel(p) == 1 and not block_size):
        return g.op("Reshape", p, g.i64([]), special_zero=False) if p.rank != 0 else p
    if x.rank is None:
        raise ValueError(f"{what} per axis needs the input rank")
    ax = axis + x.rank if axis < 0 else axis
    if not 0 <= ax < x.rank:
        raise ValueError(f"{what}: axis {axis} is out of range for rank {x.rank}")
    if not block_size:
        if p.rank != 1:
            raise ValueError(f"{what} must be a scalar or 1-D when block_size is 0, has shape {list(p.shape or [])}")
        return g.op("Reshape", p, g.i64([-1] + [1] * (x.rank - ax - 1)), special_zero=False)
    if block_size < 0:
        raise ValueError(f"{what}: block_size {block_size} must be positive")
    if p.rank != x.rank:
        raise ValueError(f"{what} for blocked quantization must have x's rank {x.rank}")
    dim = x.shape[ax]
    pv = p.const_value()
    if pv is not None and dim >= 0:
        return g.const(np.take(np.repeat(pv, block_size, axis=ax), np.arange(dim), axis=ax))
    if p.shape is None or any(d < 0 for d in p.shape):
        raise ValueError(f"{what} for blocked quantization needs a static shape")
    # [.., nb, ..] -> [.., nb, B, ..] -> [.., nb * B, ..] -> first dim elements
    ps = list(p.shape)
    up = g.op("Unsqueeze", p, g.i64([ax + 1]))
    rep = g.op("Broadcast", up, g.i64(ps[:ax + 1] + [block_size] + ps[ax + 1:]), mode="numpy")
    merged = ps[:ax] + [ps[ax] * block_size] + ps[ax + 1:]
    flat = g.op("Reshape", rep, g.i64(merged), special_zero=False)
    if dim < 0:
        dim_v = g.op("Gather", g.op("ShapeOf", x, output_type="i64"), g.i64([ax]), g.i64(0), batch_dims=0)
    else:
        dim_v = g.i64([dim])
    return g.op("Slice", flat, g.i64([0]), dim_v, g.i64([1]), g.i64([ax]))


def _f32(g, v: Value) -> Value:
    return v if v.etype == "f32" else g.op("Convert", v, destination_type="f32")


def _requantize(g, y: Value, zero_point: Value | None, qtype: str) -> Value:
    """saturate(round_half_even(y) + zero_point) as ``qtype``; y is a float tensor."""
    lo, hi = _QRANGE[qtype]
    q = g.op("Round", y, mode="half_to_even")
    if zero_point is not None:
        q = g.op("Add", q, g.op("Convert", zero_point, destination_type=q.etype))
    q = g.op("Clamp", q, min=float(lo), max=float(hi))
    return g.op("Convert", q, destination_type=qtype)


@onnx_ops.op("QuantizeLinear", since=10)
def quantize_linear(g, x, scale, zero_point=None, *, axis=1, saturate=1, block_size=0, output_dtype=0,
                    precision=0):
    """y = saturate(round_half_even(x / scale) + zero_point); the output type is the zero point's,
    else output_dtype, else uint8."""
    if zero_point is not None:
        qtype = zero_point.etype
        if qtype not in _QRANGE or qtype == "i32":
            raise ValueError(f"QuantizeLinear with a {_type_words(qtype)} zero point is not supported "
                             "(mo quantizes to 8/16-bit integers only)")
    elif output_dtype:
        if output_dtype not in _ONNX_QTYPE or output_dtype == 6:
            raise _qtype_error("QuantizeLinear output", output_dtype)
        qtype = _ONNX_QTYPE[output_dtype]
    else:
        qtype = "u8"
    if precision not in (0, 1, 10, 11, 16):
        raise ValueError(f"QuantizeLinear precision={precision} is not a float type")
    s = _param_for(g, scale, x, axis, block_size, "QuantizeLinear scale")
    zp = None if zero_point is None else _param_for(g, zero_point, x, axis, block_size, "QuantizeLinear zero point")
    # the division happens in x's type as in the ONNX reference (bf16 in f32: OpenVINO's CPU has no bf16 math)
    ct = {1: "f32", 10: "f16", 11: "f64"}.get(precision, x.etype)
    if ct == "bf16" or ct not in ("f32", "f16", "f64"):
        ct = "f32"
    xc = x if x.etype == ct else g.op("Convert", x, destination_type=ct)
    sc = s if s.etype == ct else g.op("Convert", s, destination_type=ct)
    return _requantize(g, g.op("Divide", xc, sc, m_pythondiv=True), zp, qtype)


@onnx_ops.op("DequantizeLinear", since=10)
def dequantize_linear(g, x, scale, zero_point=None, *, axis=1, block_size=0, output_dtype=0):
    """y = (x - zero_point) * scale in f32, cast to the scale's type (or output_dtype)."""
    if x.etype not in _QRANGE:
        raise ValueError(f"DequantizeLinear of a {_type_words(x.etype)} input is not supported "
                         "(mo dequantizes 8/16/32-bit integers only)")
    out = scale.etype
    if output_dtype:
        from ..loader import ONNX_ETYPES
        if output_dtype not in ONNX_ETYPES or ONNX_ETYPES[output_dtype] not in ("f32", "f16", "bf16", "f64"):
            raise ValueError(f"DequantizeLinear output_dtype={output_dtype} is not a float type")
        out = ONNX_ETYPES[output_dtype]
    s = _param_for(g, scale, x, axis, block_size, "DequantizeLinear scale")
    y = _f32(g, x)
    if zero_point is not None:
        zp = _param_for(g, zero_point, x, axis, block_size, "DequantizeLinear zero point")
        y = g.op("Subtract", y, _f32(g, zp))
    y = g.op("Multiply", y, _f32(g, s))
    return y if out == "f32" else g.op("Convert", y, destination_type=out)


@onnx_ops.op("DynamicQuantizeLinear", since=11)
def dynamic_quantize_linear(g, x):
    """uint8 quantization with scale = (max(0, max x) - min(0, min x)) / 255 (1 when that range is 0)
    and zero point = round(saturate(-min / scale)); returns (y, scale, zero point)."""
    xf = _f32(g, x)
    if x.rank is None:
        raise ValueError("DynamicQuantizeLinear needs the input rank")
    axes = g.i64(list(range(x.rank)))
    zero = g.const(np.float32(0))
    hi = g.op("Maximum", g.op("ReduceMax", xf, axes, keep_dims=False), zero)
    lo = g.op("Minimum", g.op("ReduceMin", xf, axes, keep_dims=False), zero)
    rng = g.op("Subtract", hi, lo)
    rng = g.op("Select", g.op("Equal", rng, zero), g.const(np.float32(1)), rng)
    scale = g.op("Divide", rng, g.const(np.float32(255)), m_pythondiv=True)
    zp_f = g.op("Clamp", g.op("Subtract", zero, g.op("Divide", lo, scale, m_pythondiv=True)), min=0.0, max=255.0)
    zp_f = g.op("Round", zp_f, mode="half_to_even")
    q = g.op("Add", g.op("Round", g.op("Divide", xf, scale, m_pythondiv=True), mode="half_to_even"), zp_f)
    y = g.op("Convert", g.op("Clamp", q, min=0.0, max=255.0), destination_type="u8")
    scale_out = scale if x.etype == "f32" else g.op("Convert", scale, destination_type=x.etype)
    return y, scale_out, g.op("Convert", zp_f, destination_type="u8")


def _centered(g, v: Value, zero_point: Value | None) -> Value:
    """v - zero_point in i32 (zero_point already shaped to broadcast)."""
    vi = g.op("Convert", v, destination_type="i32") if v.etype != "i32" else v
    if zero_point is None:
        return vi
    zi = g.op("Convert", zero_point, destination_type="i32") if zero_point.etype != "i32" else zero_point
    return g.op("Subtract", vi, zi)


def _row_zero_point(g, zp: Value | None, a: Value) -> Value | None:
    """A's zero point: a scalar, or 1-D per row (M values, aligned with A's second-to-last axis)."""
    if zp is None or zp.rank == 0 or _numel(zp) == 1:
        return None if zp is None else g.op("Reshape", zp, g.i64([]), special_zero=False)
    if zp.rank == 1 and a.rank is not None and a.rank >= 2:
        return g.op("Unsqueeze", zp, g.i64([1]))
    return zp


def _col_zero_point(g, zp: Value | None) -> Value | None:
    """B's zero point: a scalar, or 1-D per column (N values, numpy-aligned with the last axis)."""
    if zp is None or zp.rank == 0 or _numel(zp) == 1:
        return None if zp is None else g.op("Reshape", zp, g.i64([]), special_zero=False)
    return zp


@onnx_ops.op("MatMulInteger", since=10)
def matmul_integer(g, a, b, a_zero_point=None, b_zero_point=None):
    """(A - a_zero_point) @ (B - b_zero_point) in int32."""
    ac = _centered(g, a, _row_zero_point(g, a_zero_point, a))
    bc = _centered(g, b, _col_zero_point(g, b_zero_point))
    return g.op("MatMul", ac, bc, transpose_a=False, transpose_b=False)


def _filter_zero_point(g, zp: Value | None, w: Value) -> Value | None:
    """W's zero point: a scalar, or 1-D per output channel (W's dim 0)."""
    if zp is None or zp.rank == 0 or _numel(zp) == 1:
        return None if zp is None else g.op("Reshape", zp, g.i64([]), special_zero=False)
    if w.rank is None:
        raise ValueError("per-channel filter zero point needs the filter rank")
    return g.op("Reshape", zp, g.i64([-1] + [1] * (w.rank - 1)), special_zero=False)


@onnx_ops.op("ConvInteger", since=10)
def conv_integer(g, x, w, x_zero_point=None, w_zero_point=None, *, auto_pad="NOTSET", dilations=None, group=1,
                 kernel_shape=None, pads=None, strides=None):
    """Conv(x - x_zero_point, w - w_zero_point) in int32 (padding adds zeros after the shift)."""
    xz = None if x_zero_point is None else g.op("Reshape", x_zero_point, g.i64([]), special_zero=False)
    xc = _centered(g, x, xz)
    wc = _centered(g, w, _filter_zero_point(g, w_zero_point, w))
    return _onnx_conv(g, xc, wc, auto_pad=auto_pad, dilations=dilations, group=group, kernel_shape=kernel_shape,
                      pads=pads, strides=strides)


def _multiplier(g, a_scale: Value, b_scale: Value, y_scale: Value) -> Value:
    """a_scale * b_scale / y_scale computed in the scales' own type (as the ONNX reference does), then f32."""
    m = g.op("Divide", g.op("Multiply", a_scale, b_scale), y_scale, m_pythondiv=True)
    return _f32(g, m)


@onnx_ops.op("QLinearMatMul", since=10)
def qlinear_matmul(g, a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point=None):
    """y = saturate(round((A - a_zp) @ (B - b_zp) * a_scale * b_scale / y_scale) + y_zp); the product in int32."""
    c = matmul_integer(g, a, b, a_zero_point, b_zero_point)
    bs = _col_scale(g, b_scale)
    a_s = _row_scale(g, a_scale, a)
    m = _multiplier(g, a_s, bs, y_scale)
    qtype = y_zero_point.etype if y_zero_point is not None else a.etype
    if qtype not in ("u8", "i8"):
        raise ValueError(f"QLinearMatMul output {qtype} is not supported (uint8/int8)")
    zp = None if y_zero_point is None else _col_zero_point(g, y_zero_point)
    return _requantize(g, g.op("Multiply", g.op("Convert", c, destination_type="f32"), m), zp, qtype)


def _row_scale(g, s: Value, a: Value) -> Value:
    if s.rank == 0 or _numel(s) == 1:
        return g.op("Reshape", s, g.i64([]), special_zero=False)
    if s.rank == 1 and a.rank is not None and a.rank >= 2:
        return g.op("Unsqueeze", s, g.i64([1]))
    return s


def _col_scale(g, s: Value) -> Value:
    if s.rank == 0 or _numel(s) == 1:
        return g.op("Reshape", s, g.i64([]), special_zero=False)
    return s


@onnx_ops.op("QLinearConv", since=10)
def qlinear_conv(g, x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point=None, bias=None, *,
                 auto_pad="NOTSET", dilations=None, group=1, kernel_shape=None, pads=None, strides=None):
    """y = saturate(round((Conv(x - x_zp, w - w_zp) + B) * x_scale * w_scale / y_scale) + y_zp);
    the convolution and bias in int32, w_scale / w_zp per output channel or per tensor."""
    acc = conv_integer(g, x, w, x_zero_point, w_zero_point, auto_pad=auto_pad, dilations=dilations, group=group,
                       kernel_shape=kernel_shape, pads=pads, strides=strides)
    nsp = (acc.rank - 2) if acc.rank is not None else None
    if bias is not None:
        if nsp is None:
            raise ValueError("QLinearConv with a bias needs the input rank")
        bi = g.op("Convert", bias, destination_type="i32") if bias.etype != "i32" else bias
        acc = g.op("Add", acc, g.op("Reshape", bi, g.i64([1, -1] + [1] * nsp), special_zero=False))
    if w_scale.rank == 0 or _numel(w_scale) == 1:
        ws = g.op("Reshape", w_scale, g.i64([]), special_zero=False)
    else:
        if nsp is None:
            raise ValueError("QLinearConv with a per-channel scale needs the input rank")
        ws = g.op("Reshape", w_scale, g.i64([1, -1] + [1] * nsp), special_zero=False)
    m = _multiplier(g, g.op("Reshape", x_scale, g.i64([]), special_zero=False), ws,
                    g.op("Reshape", y_scale, g.i64([]), special_zero=False))
    qtype = y_zero_point.etype if y_zero_point is not None else x.etype
    if qtype not in ("u8", "i8"):
        raise ValueError(f"QLinearConv output {qtype} is not supported (uint8/int8)")
    zp = None if y_zero_point is None else g.op("Reshape", y_zero_point, g.i64([]), special_zero=False)
    return _requantize(g, g.op("Multiply", g.op("Convert", acc, destination_type="f32"), m), zp, qtype)


# ----------------------------------------------------------------------------- BitCast

_INT_BITS = {"i8": 8, "u8": 8, "i16": 16, "u16": 16, "i32": 32, "u32": 32, "i64": 64, "u64": 64, "boolean": 8}


@onnx_ops.op("BitCast", since=26)
def bit_cast(g, x, *, to):
    """Reinterpret the bits of x as type ``to`` of the same width.

    OpenVINO has no reinterpreting op, so only integer <-> integer (and bool -> 8-bit
    integer) casts are converted: they are the value modulo 2**bits, computed in a wider
    integer type. Casts from or to floats are refused.
    """
    from ..loader import ONNX_ETYPES
    dst = ONNX_ETYPES.get(to)
    if dst is None:
        raise _qtype_error("BitCast target", to)
    if x.etype == dst:
        return x
    if x.etype not in _INT_BITS or dst not in _INT_BITS or dst == "boolean":
        raise ValueError(f"BitCast from {x.etype} to {dst} is not supported (OpenVINO cannot reinterpret "
                         "float bits; integer <-> integer of the same width only)")
    bits = _INT_BITS[x.etype]
    if bits != _INT_BITS[dst]:
        raise ValueError(f"BitCast from {x.etype} to {dst}: the bit widths differ")
    if x.etype == "boolean" or bits == 64:
        return g.op("Convert", x, destination_type=dst)  # 64-bit: no wider type to wrap in
    wide = "i64" if bits == 32 else "i32"
    wt = to_numpy(wide)
    y = g.op("BitwiseAnd", g.op("Convert", x, destination_type=wide), g.const(np.asarray((1 << bits) - 1, wt)))
    if dst.startswith("i"):
        y = g.op("Select", g.op("GreaterEqual", y, g.const(np.asarray(1 << (bits - 1), wt))),
                 g.op("Subtract", y, g.const(np.asarray(1 << bits, wt))), y)
    return g.op("Convert", y, destination_type=dst)
