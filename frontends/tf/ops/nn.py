"""TF neural-network ops: convolution, pooling, batch norm, MatMul, SoftMax, resize.

Layout rule: an op that TF runs in NHWC (NDHWC) and OpenVINO only in NCHW is converted
as ``Transpose(to NCHW) -> op -> Transpose(to NHWC)``; the transpose_sinking pass later
removes the pairs that meet. Per-channel ops (BiasAdd, batch norm) are computed in NHWC
directly by broadcasting along the last axis.
"""
from __future__ import annotations

import numpy as np

from mo.graph import Value
from mo.ir import opset

from ..context import TfContext, tf_ops


def _spatial(attr: list[int], data_format: str, n: int) -> list[int]:
    """The spatial entries of a per-axis TF attribute (strides, ksize, dilations)."""
    if len(attr) == n:
        return [int(v) for v in attr]
    if data_format.startswith("NC"):
        return [int(v) for v in attr[2:]]
    return [int(v) for v in attr[1:-1]]


def _padding(padding: str, explicit: list[int], data_format: str, n: int) -> dict:
    if padding == "SAME":
        return {"auto_pad": "same_upper", "pads_begin": [0] * n, "pads_end": [0] * n}
    if padding == "VALID":
        return {"auto_pad": "valid", "pads_begin": [0] * n, "pads_end": [0] * n}
    if padding == "EXPLICIT":
        pairs = [explicit[2 * i: 2 * i + 2] for i in range(len(explicit) // 2)]
        sp = pairs[2:] if data_format.startswith("NC") else pairs[1:-1]
        return {"auto_pad": "explicit", "pads_begin": [int(p[0]) for p in sp], "pads_end": [int(p[1]) for p in sp]}
    raise ValueError(f"padding {padding!r} is not supported")


def _channels_first(g: TfContext, x: Value, data_format: str) -> Value:
    return x if data_format.startswith("NC") else g.to_nchw(x)


def _channels_last(g: TfContext, y: Value, data_format: str) -> Value:
    return y if data_format.startswith("NC") else g.to_nhwc(y)


def _filter_to_oihw(g: TfContext, w: Value, n: int) -> Value:
    """TF filter [k..., I, O] -> OpenVINO [O, I, k...]."""
    perm = [n + 1, n, *range(n)]
    c = w.const_value()
    if c is not None:
        return g.const(np.ascontiguousarray(np.transpose(c, perm)))
    return g.op("Transpose", w, g.i64(perm))


@tf_ops.op(["Conv2D", "Conv3D"])
def conv(g: TfContext, x: Value, w: Value, *, strides: list, padding: str, data_format: str = "NHWC",
         dilations: list | None = None, explicit_paddings: list | None = None) -> Value:
    """Convolution with a [k..., I, O] filter; grouped when the input has a multiple of I channels."""
    n = 3 if g.op_type == "Conv3D" else 2
    dil = _spatial(dilations or [1] * (n + 2), data_format, n)
    pads = _padding(padding, explicit_paddings or [], data_format, n)
    xc = _channels_first(g, x, data_format)
    wk = _filter_to_oihw(g, w, n)
    c_in = xc.shape[1] if xc.shape is not None else -1
    i_w = w.shape[n] if w.shape is not None else -1
    if c_in > 0 and i_w > 0 and c_in != i_w:
        groups = c_in // i_w
        o = w.shape[n + 1]
        wk = g.op("Reshape", wk, g.i64([groups, o // groups, i_w, *w.shape[:n]]), special_zero=False)
        y = g.op("GroupConvolution", xc, wk, strides=_spatial(strides, data_format, n), dilations=dil, **pads)
    else:
        y = g.op("Convolution", xc, wk, strides=_spatial(strides, data_format, n), dilations=dil, **pads)
    return _channels_last(g, y, data_format)


@tf_ops.op("DepthwiseConv2dNative")
def depthwise_conv(g: TfContext, x: Value, w: Value, *, strides: list, padding: str, data_format: str = "NHWC",
                   dilations: list | None = None, explicit_paddings: list | None = None) -> Value:
    """Depthwise convolution: filter [kh, kw, C, M] -> GroupConvolution weights [C, M, 1, kh, kw]."""
    if w.shape is None or any(d < 0 for d in w.shape):
        raise ValueError("DepthwiseConv2dNative needs a filter of static shape")
    kh, kw, c, m = w.shape
    dil = _spatial(dilations or [1, 1, 1, 1], data_format, 2)
    pads = _padding(padding, explicit_paddings or [], data_format, 2)
    c_w = w.const_value()
    if c_w is not None:
        wk = g.const(np.ascontiguousarray(np.transpose(c_w, (2, 3, 0, 1)).reshape(c, m, 1, kh, kw)))
    else:
        wk = g.op("Reshape", g.op("Transpose", w, g.i64([2, 3, 0, 1])), g.i64([c, m, 1, kh, kw]),
                  special_zero=False)
    xc = _channels_first(g, x, data_format)
    y = g.op("GroupConvolution", xc, wk, strides=_spatial(strides, data_format, 2), dilations=dil, **pads)
    return _channels_last(g, y, data_format)


def _pool(g: TfContext, kind: str, x: Value, ksize, strides, padding: str, data_format: str) -> Value:
    n = (x.rank or 4) - 2
    k = _spatial(ksize, data_format, n)
    s = _spatial(strides, data_format, n)
    if (len(ksize) == n + 2 and (ksize[0] != 1 or (ksize[1] if data_format.startswith("NC") else ksize[-1]) != 1)):
        raise ValueError("pooling over the batch or channel axis is not supported")
    pads = _padding(padding, [], data_format, n)
    xc = _channels_first(g, x, data_format)
    if kind == "max":
        y = g.op("MaxPool", xc, kernel=k, strides=s, dilations=[1] * n, rounding_type="floor", **pads)[0]
    else:
        # TF averages only the elements inside the input (padding excluded from the divisor)
        extra = {"exclude-pad": True}
        if "dilations" in opset.get("AvgPool").attrs:
            extra["dilations"] = [1] * n   # AvgPool-16 without dilations crashes the CPU plugin
        y = g.op("AvgPool", xc, kernel=k, strides=s, rounding_type="floor", **pads, **extra)
    return _channels_last(g, y, data_format)


@tf_ops.op(["MaxPool", "MaxPool3D"])
def max_pool(g: TfContext, x: Value, *, ksize: list, strides: list, padding: str, data_format: str = "NHWC",
             explicit_paddings: list | None = None) -> Value:
    if padding == "EXPLICIT":
        raise ValueError("MaxPool with explicit paddings is not supported")
    return _pool(g, "max", x, ksize, strides, padding, data_format)


@tf_ops.op("MaxPoolV2")
def max_pool_v2(g: TfContext, x: Value, ksize: Value, strides: Value, *, padding: str,
                data_format: str = "NHWC") -> Value:
    k = g.const_value(ksize, "MaxPoolV2 ksize")
    s = g.const_value(strides, "MaxPoolV2 strides")
    return _pool(g, "max", x, [int(v) for v in k], [int(v) for v in s], padding, data_format)


@tf_ops.op(["AvgPool", "AvgPool3D"])
def avg_pool(g: TfContext, x: Value, *, ksize: list, strides: list, padding: str,
             data_format: str = "NHWC") -> Value:
    return _pool(g, "avg", x, ksize, strides, padding, data_format)


@tf_ops.op(["FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3"])
def fused_batch_norm(g: TfContext, x: Value, scale: Value, offset: Value, mean: Value, var: Value,
                     *, epsilon: float = 1e-4, data_format: str = "NHWC", is_training: bool = True,
                     exponential_avg_factor: float = 1.0):
    """Inference batch norm: y = x * s + (offset - mean * s), s = scale / sqrt(var + epsilon),
    broadcast along the channel axis (last for NHWC, 1 for NCHW)."""
    mv, vv = mean.const_value(), var.const_value()
    if is_training and (mv is None or mv.size == 0):
        raise ValueError("FusedBatchNorm in training mode (batch statistics) is not supported; "
                         "freeze the model with training=False")
    sc, of = scale.const_value(), offset.const_value()
    if all(v is not None for v in (sc, of, mv, vv)):
        s64 = sc.astype(np.float64) / np.sqrt(vv.astype(np.float64) + epsilon)
        mul = g.const(s64.astype(np.float32))
        add = g.const((of.astype(np.float64) - mv.astype(np.float64) * s64).astype(np.float32))
    else:
        eps = g.const(np.float32(epsilon))
        mul = g.op("Divide", scale, g.op("Sqrt", g.op("Add", var, eps)))
        add = g.op("Subtract", offset, g.op("Multiply", mean, mul))
    if x.etype != "f32":
        mul = g.op("Convert", mul, destination_type=x.etype)
        add = g.op("Convert", add, destination_type=x.etype)
    if data_format.startswith("NC"):
        shape = g.i64([-1] + [1] * ((x.rank or 4) - 2))
        mul = g.op("Reshape", mul, shape, special_zero=False)
        add = g.op("Reshape", add, shape, special_zero=False)
    y = g.op("Add", g.op("Multiply", x, mul), add)
    return (y, mean, var, mean, var, None)


@tf_ops.op("MatMul")
def matmul(g: TfContext, a: Value, b: Value, *, transpose_a: bool = False, transpose_b: bool = False) -> Value:
    return g.op("MatMul", a, b, transpose_a=transpose_a, transpose_b=transpose_b)


@tf_ops.op(["BatchMatMul", "BatchMatMulV2", "BatchMatMulV3"])
def batch_matmul(g: TfContext, a: Value, b: Value, *, adj_x: bool = False, adj_y: bool = False) -> Value:
    return g.op("MatMul", a, b, transpose_a=adj_x, transpose_b=adj_y)


@tf_ops.op("Softmax")
def softmax(g: TfContext, x: Value) -> Value:
    return g.op("SoftMax", x, axis=-1)


@tf_ops.op("LogSoftmax")
def log_softmax(g: TfContext, x: Value) -> Value:
    return g.op("LogSoftmax", x, axis=-1)


@tf_ops.op(["ResizeBilinear", "ResizeNearestNeighbor"])
def resize(g: TfContext, x: Value, size: Value, *, align_corners: bool = False,
           half_pixel_centers: bool = False) -> Value:
    """Resize of the H, W axes (1, 2 of NHWC) to ``size``; Interpolate takes the axes, so no transposes."""
    nearest = g.op_type == "ResizeNearestNeighbor"
    if align_corners:
        ctm = "align_corners"
    elif half_pixel_centers:
        ctm = "tf_half_pixel_for_nn" if nearest else "half_pixel"
    else:
        ctm = "asymmetric"
    if nearest:
        nm = "round_prefer_ceil" if align_corners else "floor"
    else:
        nm = "round_prefer_floor"
    return g.op("Interpolate", x, size, g.i64([1, 2]), mode="nearest" if nearest else "linear",
                shape_calculation_mode="sizes", coordinate_transformation_mode=ctm, nearest_mode=nm)


@tf_ops.op("LRN")
def lrn(g: TfContext, x: Value, *, depth_radius: int = 5, bias: float = 1.0, alpha: float = 1.0,
        beta: float = 0.5) -> Value:
    """TF LRN over the last axis: x / (bias + alpha * sum of squares in the window)^beta."""
    size = 2 * depth_radius + 1
    xc = g.to_nchw(x)
    y = g.op("LRN", xc, g.i64([1]), alpha=alpha * size, beta=beta, bias=bias, size=size)
    return g.to_nhwc(y)
