"""MXNet contrib and vision ops: ROI pooling/align, adaptive pooling, spatial transformers,
sequence ops, and small math helpers (div_sqrt_dim, quadratic, smooth_l1, gemm2, amp casts)."""
from __future__ import annotations

import numpy as np

from mo.errors import ConversionError
from mo.types import from_numpy

from ..context import mxnet_ops
from .nn import batch_norm


def _pair(v) -> tuple[int, int]:
    if isinstance(v, int):
        return v, v
    t = tuple(int(x) for x in v)
    return (t[0], t[0]) if len(t) == 1 else (t[0], t[1])


@mxnet_ops.op("ROIPooling")
def roi_pooling(g, x, rois, *, pooled_size, spatial_scale):
    ph, pw = _pair(pooled_size)
    return g.op("ROIPooling", x, rois, output_size=[ph, pw], pooled_h=ph, pooled_w=pw,
                spatial_scale=float(spatial_scale), method="max")


@mxnet_ops.op("_contrib_ROIAlign")
def roi_align(g, x, rois, *, pooled_size, spatial_scale, sample_ratio=-1, position_sensitive=False, aligned=False):
    """rois [R, 5] = (batch index, x1, y1, x2, y2); average mode."""
    if position_sensitive:
        raise ConversionError("position_sensitive ROIAlign is not supported")
    ph, pw = _pair(pooled_size)
    boxes = g.op("Slice", rois, g.i64([1]), g.i64([5]), g.i64([1]), g.i64([1]))
    if aligned:   # pixel centres: boxes move by half a feature-map pixel, no minimum size of 1
        boxes = g.op("Subtract", boxes, g.scalar_like(0.5 / float(spatial_scale), boxes))
    idx = g.op("Reshape", g.op("Slice", rois, g.i64([0]), g.i64([1]), g.i64([1]), g.i64([1])), g.i64([-1]),
               special_zero=False)
    idx = g.op("Convert", idx, destination_type="i32")
    return g.op("ROIAlign", x, boxes, idx, pooled_h=ph, pooled_w=pw, sampling_ratio=max(int(sample_ratio), 0),
                spatial_scale=float(spatial_scale), mode="avg", aligned_mode="asymmetric")


@mxnet_ops.op("_contrib_AdaptiveAvgPooling2D")
def adaptive_avg_pool(g, x, *, output_size=()):
    if output_size is None or output_size == ():
        size = (1, 1)
    else:
        size = _pair(output_size)
    return g.op("AdaptiveAvgPool", x, g.i64(list(size)))


@mxnet_ops.op("_contrib_SyncBatchNorm")
def sync_batch_norm(g, x, gamma, beta, mean, var, *, eps=1e-3, momentum=0.9, fix_gamma=True, use_global_stats=False,
                    output_mean_var=False, ndev=1, key=""):
    return batch_norm(g, x, gamma, beta, mean, var, eps=eps, fix_gamma=fix_gamma)


@mxnet_ops.op("_contrib_div_sqrt_dim")
def div_sqrt_dim(g, x):
    d = g.static_shape(x)[-1]
    return g.op("Divide", x, g.scalar_like(float(np.sqrt(d)), x))


@mxnet_ops.op("_contrib_arange_like")
def arange_like(g, x, *, start=0.0, step=1.0, repeat=1, ctx=None, axis=None):
    shape = g.static_shape(x)
    n = int(np.prod(shape)) if axis is None else shape[int(axis)]
    count = -(-n // int(repeat))
    a = np.repeat(start + step * np.arange(count, dtype=np.float64), int(repeat))[:n]
    a = a.reshape(shape) if axis is None else a
    return g.const(a.astype(np.float32))


@mxnet_ops.op("_contrib_quadratic")
def quadratic(g, x, *, a=0.0, b=0.0, c=0.0):
    return g.op("Add", g.op("Multiply", g.op("Add", g.op("Multiply", x, g.scalar_like(a, x)), g.scalar_like(b, x)), x),
                g.scalar_like(c, x))


@mxnet_ops.op("smooth_l1")
def smooth_l1(g, x, *, scalar=1.0):
    """0.5 (s x)^2 where |x| < 1/s^2, |x| - 0.5/s^2 elsewhere."""
    s2 = float(scalar) ** 2
    ax = g.op("Abs", x)
    quad = g.op("Multiply", g.op("Multiply", x, x), g.scalar_like(0.5 * s2, x))
    lin = g.op("Subtract", ax, g.scalar_like(0.5 / s2, x))
    return g.op("Select", g.op("Less", ax, g.scalar_like(1.0 / s2, x)), quad, lin)


@mxnet_ops.op("_linalg_gemm2")
def gemm2(g, a, b, *, transpose_a=False, transpose_b=False, alpha=1.0, axis=-2):
    if axis != -2:
        raise ConversionError("_linalg_gemm2 with axis other than -2 is not supported")
    y = g.op("MatMul", a, b, transpose_a=bool(transpose_a), transpose_b=bool(transpose_b))
    return y if alpha == 1.0 else g.op("Multiply", y, g.scalar_like(alpha, y))


@mxnet_ops.op("amp_cast")
def amp_cast(g, x, *, dtype):
    et = from_numpy(np.dtype(dtype))
    return x if x.etype == et else g.op("Convert", x, destination_type=et)


@mxnet_ops.op("amp_multicast")
def amp_multicast(g, *xs, num_outputs, cast_narrow=False):
    """Every input in the widest (or, with cast_narrow, narrowest) float type among them."""
    order = ["f16", "f32", "f64"]
    types = [x.etype for x in xs if x.etype in order]
    if not types:
        return tuple(xs)
    target = (min if cast_narrow else max)(types, key=order.index)
    return tuple(x if x.etype == target or x.etype not in order else g.op("Convert", x, destination_type=target)
                 for x in xs)


# ---------------------------------------------------------------- spatial transformers
def _affine_grid(g, theta, h: int, w: int):
    """[N, 2, H, W] sampling grid (x, y in [-1, 1]) of affine matrices theta [N, 6]."""
    ys, xs = np.meshgrid(np.linspace(-1.0, 1.0, h), np.linspace(-1.0, 1.0, w), indexing="ij")
    base = np.stack([xs.reshape(-1), ys.reshape(-1), np.ones(h * w)]).astype(np.float32)   # [3, H*W]
    t = g.op("Reshape", theta, g.i64([-1, 2, 3]), special_zero=False)
    grid = g.op("MatMul", t, g.const(base), transpose_a=False, transpose_b=False)          # [N, 2, H*W]
    return g.op("Reshape", grid, g.i64([-1, 2, h, w]), special_zero=False)


def _sample(g, x, grid):
    """Bilinear sampling of x at grid [N, 2, H, W] (x, y in [-1, 1] over the corner pixels; zeros outside)."""
    nhwc = g.op("Transpose", grid, g.i64([0, 2, 3, 1]))
    return g.op("GridSample", x, nhwc, align_corners=True, mode="bilinear", padding_mode="zeros")


@mxnet_ops.op("GridGenerator")
def grid_generator(g, x, *, transform_type, target_shape=(0, 0)):
    if transform_type == "affine":
        h, w = _pair(target_shape)
        return _affine_grid(g, x, h, w)
    if transform_type == "warp":
        n, _, h, w = g.static_shape(x)
        ys, xs = np.meshgrid(np.arange(h, dtype=np.float32), np.arange(w, dtype=np.float32), indexing="ij")
        pix = g.const(np.stack([xs, ys])[None])                                   # [1, 2, H, W]
        norm = g.const(np.array([2.0 / max(w - 1, 1), 2.0 / max(h - 1, 1)], np.float32).reshape(1, 2, 1, 1))
        return g.op("Subtract", g.op("Multiply", g.op("Add", x, pix), norm), g.scalar_like(1.0, x))
    raise ConversionError(f"transform_type {transform_type!r} is not supported")


@mxnet_ops.op("BilinearSampler")
def bilinear_sampler(g, x, grid, *, cudnn_off=None):
    return _sample(g, x, grid)


@mxnet_ops.op("SpatialTransformer")
def spatial_transformer(g, x, loc, *, target_shape=(0, 0), transform_type="affine", sampler_type="bilinear",
                        cudnn_off=None):
    if transform_type != "affine" or sampler_type != "bilinear":
        raise ConversionError("SpatialTransformer supports affine transforms with bilinear sampling")
    h, w = _pair(target_shape)
    return _sample(g, x, _affine_grid(g, loc, h, w))


# ---------------------------------------------------------------- sequence ops ([T, N, ...] by default)
def _time_mask(g, x, lengths, axis: int):
    """Boolean [T, N] (axis 0) or [N, T] (axis 1): step t of sequence n is within lengths[n]."""
    shape = g.static_shape(x)
    t = shape[axis]
    steps = g.const(np.arange(t, dtype=np.float32))
    lens = g.op("Convert", lengths, destination_type="f32") if lengths.etype != "f32" else lengths
    if axis == 0:
        return g.op("Less", g.op("Unsqueeze", steps, g.i64([1])), g.op("Unsqueeze", lens, g.i64([0])))
    return g.op("Less", g.op("Unsqueeze", steps, g.i64([0])), g.op("Unsqueeze", lens, g.i64([1])))


@mxnet_ops.op("SequenceMask")
def sequence_mask(g, x, lengths=None, *, use_sequence_length=False, value=0.0, axis=0):
    if not use_sequence_length or lengths is None:
        return x
    m = _time_mask(g, x, lengths, int(axis))
    extra = g.rank(x) - 2
    if extra:
        m = g.op("Unsqueeze", m, g.i64(list(range(2, 2 + extra))))
    return g.op("Select", m, x, g.scalar_like(value, x))


@mxnet_ops.op("SequenceLast")
def sequence_last(g, x, lengths=None, *, use_sequence_length=False, axis=0):
    axis = int(axis)
    shape = g.static_shape(x)
    if not use_sequence_length or lengths is None:
        last = g.op("Gather", x, g.i64(shape[axis] - 1), g.i64(axis), batch_dims=0)
        return last
    idx = g.op("Subtract", g.op("Convert", lengths, destination_type="i64"), g.i64(1))   # [N]
    xt = x if axis == 1 else g.op("Transpose", x, g.i64([1, 0] + list(range(2, len(shape)))))
    return g.op("Gather", xt, idx, g.i64(1), batch_dims=1)


@mxnet_ops.op("SequenceReverse")
def sequence_reverse(g, x, lengths=None, *, use_sequence_length=False, axis=0):
    if int(axis) != 0:
        raise ConversionError("SequenceReverse supports axis 0")
    shape = g.static_shape(x)
    if not use_sequence_length or lengths is None:
        lens = g.const(np.full((shape[1],), shape[0], np.int32))
    else:
        lens = g.op("Convert", lengths, destination_type="i32")
    return g.op("ReverseSequence", x, lens, batch_axis=1, seq_axis=0)
