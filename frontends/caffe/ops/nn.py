"""Caffe layers with learned blobs and windows: convolution, pooling, inner product,
normalization (BatchNorm, Scale, Bias, LRN, MVN, Normalize)."""
from __future__ import annotations

import numpy as np

from mo.errors import ConversionError

from ..context import caffe_ops


def _spatial(p, nsp: int, name: str, default: int) -> list[int]:
    """Caffe's repeated kernel_size/pad/stride/dilation (+ *_h/*_w for 2-D) as nsp ints."""
    h, w = f"{name}_h", f"{name}_w"
    fields = p.DESCRIPTOR.fields_by_name
    if h in fields and (p.HasField(h) or p.HasField(w)):
        if nsp != 2:
            raise ConversionError(f"{h}/{w} are for 2-D data, the input has {nsp} spatial dims")
        return [int(getattr(p, h)) if p.HasField(h) else default, int(getattr(p, w)) if p.HasField(w) else default]
    field = "kernel_size" if name == "kernel" else name
    f = fields[field]
    if f.is_repeated:
        vals = [int(v) for v in getattr(p, field)]
    else:
        vals = [int(getattr(p, field))] if p.HasField(field) else []
    if not vals:
        if default < 0:
            raise ConversionError(f"{field} is not given")
        return [default] * nsp
    if len(vals) == 1:
        return vals * nsp
    if len(vals) != nsp:
        raise ConversionError(f"{field} has {len(vals)} values for {nsp} spatial dims")
    return vals


def channel_vector(g, v, rank: int, axis: int = 1):
    """Reshape a per-channel vector to broadcast over axis ``axis`` of a rank-``rank`` tensor."""
    n = v.shape[0] if v.shape else 1
    return g.op("Reshape", v, g.i64([1] * axis + [n] + [1] * (rank - axis - 1)), special_zero=False)


def _conv_common(g, x):
    p = g.p
    if p.axis != 1:
        raise ConversionError(f"convolution axis {p.axis} is not supported (only 1, channels after the batch)")
    rank = g.rank(x)
    nsp = rank - 2
    if nsp < 1:
        raise ConversionError(f"convolution needs an input with spatial dims, has shape {list(x.shape)}")
    k = _spatial(p, nsp, "kernel", -1)
    pads = _spatial(p, nsp, "pad", 0)
    strides = _spatial(p, nsp, "stride", 1)
    dil = _spatial(p, nsp, "dilation", 1)
    cin = g.static_shape(x)[1]
    return p, rank, nsp, k, pads, strides, dil, cin


@caffe_ops.op("Convolution")
def convolution(g, x):
    """y = conv(x, W) + b; W is [num_output, C/group, k...]."""
    p, rank, nsp, k, pads, strides, dil, cin = _conv_common(g, x)
    groups, cout = int(p.group), int(p.num_output)
    if cin % groups or cout % groups:
        raise ConversionError(f"group {groups} does not divide the {cin} input / {cout} output channels")
    w = g.blob(0, (cout, cin // groups, *k))
    attrs = dict(strides=strides, dilations=dil, pads_begin=pads, pads_end=pads)
    if groups == 1:
        y = g.op("Convolution", x, w, **attrs)
    else:
        wg = g.op("Reshape", w, g.i64([groups, cout // groups, cin // groups, *k]), special_zero=False)
        y = g.op("GroupConvolution", x, wg, **attrs)
    if p.bias_term:
        y = g.op("Add", y, channel_vector(g, g.blob(1, (cout,), "bias"), rank))
    return y


@caffe_ops.op("Deconvolution")
def deconvolution(g, x):
    """Transposed convolution; W is [C, num_output/group, k...]; output s*(in-1) + d*(k-1) + 1 - 2p."""
    p, rank, nsp, k, pads, strides, dil, cin = _conv_common(g, x)
    groups, cout = int(p.group), int(p.num_output)
    if cin % groups or cout % groups:
        raise ConversionError(f"group {groups} does not divide the {cin} input / {cout} output channels")
    w = g.blob(0, (cin, cout // groups, *k))
    attrs = dict(strides=strides, dilations=dil, pads_begin=pads, pads_end=pads)
    if groups == 1:
        y = g.op("ConvolutionBackpropData", x, w, **attrs)
    else:
        wg = g.op("Reshape", w, g.i64([groups, cin // groups, cout // groups, *k]), special_zero=False)
        y = g.op("GroupConvolutionBackpropData", x, wg, **attrs)
    if p.bias_term:
        y = g.op("Add", y, channel_vector(g, g.blob(1, (cout,), "bias"), rank))
    return y


def caffe_pool_size(size: int, k: int, pad: int, stride: int, ceil: bool) -> int:
    """Caffe's pooled size: rounded (up by default), then one less when the last window would
    start in the padding."""
    span = size + 2 * pad - k
    out = (-(-span // stride) if ceil else span // stride) + 1
    if pad > 0 and (out - 1) * stride >= size + pad:
        out -= 1
    return out


@caffe_ops.op("Pooling")
def pooling(g, x):
    """MAX / AVE pooling with Caffe's output size (see caffe_pool_size) as explicit pads_end.

    AVE divides by the window's overlap with the input plus the declared padding (not the
    extra cells the rounding adds); when those extra cells exist, the declared padding is
    made explicit zeros (Pad) and the pool excludes the rest."""
    p = g.p
    rank = g.rank(x)
    if rank != 4:
        raise ConversionError(f"Caffe pooling takes 4-D input, has shape {list(x.shape)}")
    method = {0: "MAX", 1: "AVE", 2: "STOCHASTIC"}[p.pool]
    if method == "STOCHASTIC":
        raise ConversionError("STOCHASTIC pooling is not supported")
    if p.global_pooling:
        red = "ReduceMax" if method == "MAX" else "ReduceMean"
        return g.op(red, x, g.i64([2, 3]), keep_dims=True)
    n, c, h, w = g.static_shape(x)
    k = _spatial(p, 2, "kernel", -1)
    pads = _spatial(p, 2, "pad", 0)
    strides = _spatial(p, 2, "stride", 1)
    ceil = p.round_mode == 0 and p.ceil_mode
    outs = [caffe_pool_size(s, kk, pp, st, ceil) for s, kk, pp, st in zip((h, w), k, pads, strides)]
    ends = [max(0, (o - 1) * st + kk - s - pp) for o, st, kk, s, pp in zip(outs, strides, k, (h, w), pads)]
    if method == "MAX":
        y = g.op("MaxPool", x, strides=strides, pads_begin=pads, pads_end=ends, kernel=k, rounding_type="floor",
                 dilations=[1, 1])
        return y[0] if isinstance(y, tuple) else y
    extra = any(e > pp for e, pp in zip(ends, pads))
    if not any(pads):
        return g.op("AvgPool", x, strides=strides, pads_begin=[0, 0], pads_end=ends, kernel=k,
                    rounding_type="floor", **{"exclude-pad": True})
    if not extra:
        return g.op("AvgPool", x, strides=strides, pads_begin=pads, pads_end=ends, kernel=k,
                    rounding_type="floor", **{"exclude-pad": False})
    padded = g.op("Pad", x, g.i64([0, 0, *pads]), g.i64([0, 0, *pads]), g.f32(0.0), pad_mode="constant")
    return g.op("AvgPool", padded, strides=strides, pads_begin=[0, 0],
                pads_end=[max(0, e - pp) for e, pp in zip(ends, pads)], kernel=k, rounding_type="floor",
                **{"exclude-pad": True})


@caffe_ops.op("InnerProduct")
def inner_product(g, x):
    """y = flatten(x, axis) @ W^T + b; W is [num_output, K] ([K, num_output] with transpose)."""
    p = g.p
    shape = g.static_shape(x)
    a = g.axis(p.axis, len(shape))
    kdim = int(np.prod(shape[a:], dtype=np.int64))
    n = int(p.num_output)
    w = g.blob(0, (kdim, n) if p.transpose else (n, kdim))
    if len(shape) != a + 1:
        x = g.op("Reshape", x, g.i64([0] * a + [kdim]), special_zero=True)
    y = g.op("MatMul", x, w, transpose_a=False, transpose_b=not p.transpose)
    if p.bias_term:
        y = g.op("Add", y, g.blob(1, (n,), "bias"))
    return y


@caffe_ops.op("BatchNorm")
def batch_norm(g, x):
    """(x - mean/f) / sqrt(var/f + eps) with f the third blob (the moving-average factor; 0 -> 1).

    With use_global_stats: false the statistics of the batch itself are used (per channel)."""
    p = g.p
    rank = g.rank(x)
    global_stats = p.use_global_stats if p.HasField("use_global_stats") else True   # TEST phase default
    if not global_stats:
        return g.op("MVN", x, g.i64([0] + list(range(2, rank))), normalize_variance=True, eps=float(p.eps),
                    eps_mode="INSIDE_SQRT")
    c = g.static_shape(x)[1]
    mean = g.blob(0, (c,), "mean").const.numpy().astype(np.float64)
    var = g.blob(1, (c,), "variance").const.numpy().astype(np.float64)
    nblobs = g.blob_count()
    f = 1.0
    if nblobs is None or nblobs >= 3:
        f = float(g.blob(2, (1,), "factor").const.numpy().reshape(-1)[0])
    scale = 0.0 if f == 0 else 1.0 / f
    ones = np.ones(c, np.float32)
    return g.op("BatchNormInference", x, g.f32(ones), g.f32(np.zeros(c, np.float32)),
                g.f32((mean * scale).astype(np.float32)), g.f32((var * scale).astype(np.float32)),
                epsilon=float(p.eps))


def _affine_shape(g, x, axis: int, num_axes: int) -> tuple[int, tuple[int, ...]]:
    shape = g.static_shape(x)
    a = g.axis(axis, len(shape))
    end = len(shape) if num_axes == -1 else a + num_axes
    if num_axes < -1 or end > len(shape):
        raise ConversionError(f"num_axes {num_axes} from axis {axis} exceeds the input's {len(shape)} dims")
    return a, tuple(shape[a:end])


def _broadcast(g, v, a: int, rank: int):
    """A parameter covering axes [a, a + rank(v)) reshaped to broadcast over a rank-``rank`` input."""
    vs = g.static_shape(v, "parameter")
    if not vs or int(np.prod(vs)) == 1 and len(vs) <= 1:
        return g.op("Reshape", v, g.i64([1] * rank), special_zero=False) if vs else v
    return g.op("Reshape", v, g.i64([1] * a + list(vs) + [1] * (rank - a - len(vs))), special_zero=False)


@caffe_ops.op("Scale")
def scale(g, x, s=None):
    """y = x * s (+ b): s is the second bottom or blob 0, covering axes [axis, axis + num_axes)."""
    p = g.p
    rank = g.rank(x)
    if s is None:
        a, shape = _affine_shape(g, x, p.axis, p.num_axes)
        s = g.blob(0, shape, "positive")
        bias_index = 1
    else:
        a = g.axis(p.axis, rank)
        shape = g.static_shape(s, "scale bottom")
        bias_index = 0
    y = g.op("Multiply", x, _broadcast(g, s, a, rank))
    if p.bias_term:
        y = g.op("Add", y, _broadcast(g, g.blob(bias_index, shape, "bias"), a, rank))
    return y


@caffe_ops.op("Bias")
def bias(g, x, b=None):
    """y = x + b: b is the second bottom or blob 0, covering axes [axis, axis + num_axes)."""
    p = g.p
    rank = g.rank(x)
    if b is None:
        a, shape = _affine_shape(g, x, p.axis, p.num_axes)
        b = g.blob(0, shape, "bias")
    else:
        a = g.axis(p.axis, rank)
    return g.op("Add", x, _broadcast(g, b, a, rank))


@caffe_ops.op("LRN")
def lrn(g, x):
    """ACROSS_CHANNELS: x / (k + alpha/n * sum over n channels of x^2)^beta;
    WITHIN_CHANNEL: x / (1 + alpha/n^2 * sum over an n x n window of x^2)^beta (Caffe ignores k there)."""
    p = g.p
    size = int(p.local_size)
    if size % 2 == 0:
        raise ConversionError(f"LRN local_size {size} must be odd")
    if p.norm_region == 0:
        return g.op("LRN", x, g.i64([1]), alpha=float(p.alpha), beta=float(p.beta), bias=float(p.k), size=size)
    return g.op("LRN", x, g.i64([2, 3]), alpha=float(p.alpha), beta=float(p.beta), bias=1.0, size=size)


@caffe_ops.op("MVN")
def mvn(g, x):
    """(x - mean) / (std + eps) per sample and channel (per sample with across_channels)."""
    p = g.p
    rank = g.rank(x)
    axes = list(range(1 if p.across_channels else 2, rank))
    return g.op("MVN", x, g.i64(axes), normalize_variance=bool(p.normalize_variance), eps=float(p.eps),
                eps_mode="OUTSIDE_SQRT")


@caffe_ops.op("Normalize")
def normalize(g, x):
    """SSD's L2 normalization: x / sqrt(sum x^2 + eps) over C,H,W (across_spatial) or over C,
    times a learned scale (one value, or one per channel)."""
    p = g.p
    shape = g.static_shape(x)
    rank = len(shape)
    axes = list(range(1, rank)) if p.across_spatial else [1]
    y = g.op("NormalizeL2", x, g.i64(axes), eps=float(p.eps), eps_mode="add")
    s = g.blob(0, (1,) if p.channel_shared else (shape[1],), "positive")
    if p.channel_shared:
        return g.op("Multiply", y, s)
    return g.op("Multiply", y, channel_vector(g, s, rank))


@caffe_ops.op("PReLU")
def prelu(g, x):
    """max(0, x) + a * min(0, x) with a learned per channel (or one shared)."""
    p = g.p
    c = g.static_shape(x)[1] if g.rank(x) > 1 else 1
    a = g.blob(0, (1,) if p.channel_shared else (c,), "slope")
    return g.op("PRelu", x, a)


@caffe_ops.op("Embed")
def embed(g, x):
    """Row lookup: y[..., :] = W[x] (+ b); W is [input_dim, num_output]."""
    p = g.p
    w = g.blob(0, (int(p.input_dim), int(p.num_output)))
    idx = g.op("Convert", x, destination_type="i64")
    y = g.op("Gather", w, idx, g.i64(0), batch_dims=0)
    if p.bias_term:
        y = g.op("Add", y, g.blob(1, (int(p.num_output),), "bias"))
    return y




@caffe_ops.op("GRN")
def grn(g, x):
    """Global response normalization: x / sqrt(sum over channels of x^2 + bias)."""
    ss = g.op("ReduceSum", g.op("Multiply", x, x), g.i64([1]), keep_dims=True)
    return g.op("Divide", x, g.op("Sqrt", g.op("Add", ss, g.f32(float(g.p.bias)))), m_pythondiv=True)


@caffe_ops.op("Axpy")
def axpy(g, a, x, y):
    """a * x + y with a per sample and channel ([N, C, 1, 1] or [N, C])."""
    if a.shape is not None and len(a.shape) == 2:
        a = g.op("Reshape", a, g.i64([0, 0, 1, 1]), special_zero=True)
    return g.op("Add", g.op("Multiply", a, x), y)


@caffe_ops.op("BN")
def bn(g, x):
    """The forks' BN layer: scale * (x - mean) / sqrt(var + eps) + shift, blobs scale, shift, mean,
    variance (1 x C x 1 x 1 each), as one per-channel Multiply and Add."""
    c = g.static_shape(x)[1]
    rank = g.rank(x)
    shape = (1, c, 1, 1)
    scale, shift = (g.blob(i, shape, k).const.numpy().astype(np.float64).reshape(-1)
                    for i, k in ((0, "positive"), (1, "bias")))
    mean = g.blob(2, shape, "mean").const.numpy().astype(np.float64).reshape(-1)
    var = g.blob(3, shape, "variance").const.numpy().astype(np.float64).reshape(-1)
    s = scale / np.sqrt(var + float(g.p.eps))
    t = shift - mean * s
    vec = (1, c) + (1,) * (rank - 2)
    return g.op("Add", g.op("Multiply", x, g.f32(s.astype(np.float32).reshape(vec))),
                g.f32(t.astype(np.float32).reshape(vec)))


@caffe_ops.op("Binarization")
def binarization(g, x):
    """+1 where x > 0, else -1."""
    return g.op("Select", g.op("Greater", x, g.f32(0.0)), g.f32(1.0), g.f32(-1.0))
