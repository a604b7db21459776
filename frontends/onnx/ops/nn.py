"""ONNX neural-network ops: convolution, pooling, Gemm/MatMul, normalization, softmax."""
from __future__ import annotations

import numpy as np

from mo.types import to_numpy

from ..context import onnx_ops

_AUTO_PAD = {"NOTSET": "explicit", "SAME_UPPER": "same_upper", "SAME_LOWER": "same_lower", "VALID": "valid"}


def _auto_pad(mode: str) -> str:
    """OpenVINO spelling of an ONNX auto_pad value."""
    try:
        return _AUTO_PAD[mode]
    except KeyError:
        raise ValueError(f"auto_pad {mode!r} is not one of {', '.join(_AUTO_PAD)}") from None


def _pads(pads, n):
    pads = list(pads) if pads else [0] * (2 * n)
    return pads[:n], pads[n:]


def _spatial_rank(x, w=None, kernel_shape=None):
    if kernel_shape:
        return len(kernel_shape)
    if w is not None and w.shape is not None:
        return len(w.shape) - 2
    if x.shape is not None:
        return len(x.shape) - 2
    raise ValueError("cannot tell the number of spatial dims")


def conv_common(g, ov_conv, ov_group, x, w, b, auto_pad, dilations, group, kernel_shape, pads, strides):
    n = _spatial_rank(x, w, kernel_shape)
    pb, pe = _pads(pads, n)
    attrs = dict(strides=strides or [1] * n, dilations=dilations or [1] * n, pads_begin=pb, pads_end=pe,
                 auto_pad=_auto_pad(auto_pad))
    if group == 1:
        y = g.op(ov_conv, x, w, **attrs)
    else:
        if w.shape is None or any(d < 0 for d in w.shape):
            raise ValueError("grouped convolution needs a filter of static shape")
        ws = w.shape
        w = g.op("Reshape", w, g.i64([group, ws[0] // group, *ws[1:]]), special_zero=False)
        y = g.op(ov_group, x, w, **attrs)
    if b is not None:
        y = g.op("Add", y, _channel_bias(g, b, n))
    return y


def _channel_bias(g, b, n):
    return g.op("Reshape", b, g.i64([1, -1] + [1] * n), special_zero=False)


@onnx_ops.op("Conv", since=1)
def conv(g, x, w, b=None, *, auto_pad="NOTSET", dilations=None, group=1, kernel_shape=None, pads=None, strides=None):
    return conv_common(g, "Convolution", "GroupConvolution", x, w, b, auto_pad, dilations, group, kernel_shape,
                       pads, strides)


def _pool_dims(x, kernel_shape, strides, dilations, pads):
    n = len(kernel_shape)
    if x.rank is not None and x.rank != n + 2:
        raise ValueError(f"pooling input has rank {x.rank}, kernel_shape needs rank {n + 2}")
    pb, pe = _pads(pads, n)
    return n, list(strides or [1] * n), list(dilations or [1] * n), pb, pe


@onnx_ops.op("MaxPool", since=1)
def max_pool(g, x, *, auto_pad="NOTSET", ceil_mode=0, dilations=None, kernel_shape, pads=None, storage_order=0,
             strides=None):
    """MaxPool-14 with ceil_torch rounding (ONNX drops windows that would start in the end padding).

    ONNX indices are flat over N, C and the spatial plane; storage_order=1 numbers the plane column-major.
    """
    n, strides, dilations, pb, pe = _pool_dims(x, kernel_shape, strides, dilations, pads)
    y, idx = g.op("MaxPool", x, kernel=kernel_shape, strides=strides, dilations=dilations, pads_begin=pb,
                  pads_end=pe, rounding_type="ceil_torch" if ceil_mode else "floor", auto_pad=_auto_pad(auto_pad),
                  index_element_type="i64", axis=0)
    if g.num_outputs > 1 and storage_order:
        if n != 2 or x.shape is None or any(d < 0 for d in x.shape[2:]):
            raise ValueError("MaxPool indices with storage_order=1 need a 2-D pooling of static spatial size")
        h, w = x.shape[2], x.shape[3]
        plane = g.op("FloorMod", idx, g.i64(h * w))
        row, col = g.op("Divide", plane, g.i64(w)), g.op("FloorMod", plane, g.i64(w))
        col_major = g.op("Add", row, g.op("Multiply", col, g.i64(h)))
        idx = g.op("Add", g.op("Subtract", idx, plane), col_major)
    return y, idx


def _ceil_extra_pads(x, kernel, strides, dilations, pb, pe):
    """Extra end padding that makes a floor-rounded window sweep give ONNX's ceil_mode output size
    (a window may not start in the end padding)."""
    from mo.ir.shapes import pooled_dim
    if x.shape is None or any(d < 0 for d in x.shape[2:]):
        raise ValueError("ceil_mode here needs static spatial dims")
    extra = []
    for i, size in enumerate(x.shape[2:]):
        out = pooled_dim(size, kernel[i], strides[i], pb[i], pe[i], dilations[i], True)
        eff = dilations[i] * (kernel[i] - 1) + 1
        extra.append(max((out - 1) * strides[i] + eff - (size + pb[i] + pe[i]), 0))
    return extra


def _resolve_pads(x, kernel, strides, dilations, pb, pe, auto_pad, ceil_mode):
    """Explicit (pads_begin, pads_end, pads_end + ceil extra) for a window sweep."""
    from mo.ir.shapes import auto_pads
    mode = _auto_pad(auto_pad)
    if mode in ("same_upper", "same_lower"):
        if x.shape is None or any(d < 0 for d in x.shape[2:]):
            raise ValueError(f"auto_pad={auto_pad} here needs static spatial dims")
        pp = [auto_pads(d, kernel[i], strides[i], dilations[i], mode) for i, d in enumerate(x.shape[2:])]
        pb, pe = [p[0] for p in pp], [p[1] for p in pp]
    elif mode == "valid":
        pb, pe = [0] * len(kernel), [0] * len(kernel)
    extra = _ceil_extra_pads(x, kernel, strides, dilations, pb, pe) if ceil_mode else [0] * len(kernel)
    return pb, pe, [a + b for a, b in zip(pe, extra)]


def _window_sum(g, x, kernel, strides, dilations, pb, pe_total):
    """Sum over each pooling window (zero padding) as a depthwise convolution with a ones kernel."""
    if x.shape is None or x.shape[1] < 0:
        raise ValueError("this pooling needs a static channel count")
    c = x.shape[1]
    ones = g.const(np.ones((c, 1, 1, *kernel), dtype=to_numpy(x.etype)))
    return g.op("GroupConvolution", x, ones, strides=strides, dilations=dilations, pads_begin=pb, pads_end=pe_total,
                auto_pad="explicit")


def _window_counts(spatial, kernel, strides, dilations, pb, pe, pe_total, include_pad):
    """Number of positions each window averages over, [1, 1, out...]: the input (and, with
    ``include_pad``, the explicit pads) but never the ceil_mode extension."""
    axes = []
    for i, size in enumerate(spatial):
        lo, hi = (0, size + pb[i] + pe[i]) if include_pad else (pb[i], pb[i] + size)
        eff = dilations[i] * (kernel[i] - 1) + 1
        out = (size + pb[i] + pe_total[i] - eff) // strides[i] + 1
        starts = np.arange(out) * strides[i]
        taps = starts[:, None] + np.arange(kernel[i])[None, :] * dilations[i]
        axes.append(((taps >= lo) & (taps < hi)).sum(axis=1))
    cnt = axes[0]
    for a in axes[1:]:
        cnt = np.multiply.outer(cnt, a)
    return cnt.reshape((1, 1, *cnt.shape))


def _ceil_edge(x, kernel, strides, dilations, pb, pe, auto_pad, ceil_mode) -> bool:
    """True when ceil_mode makes the last window reach past the end padding (static shapes only)."""
    if not ceil_mode or auto_pad != "NOTSET" or x.shape is None or any(d < 0 for d in x.shape[1:]):
        return False
    return any(_ceil_extra_pads(x, kernel, strides, dilations, pb, pe))


@onnx_ops.op("AveragePool", since=1)
def average_pool(g, x, *, auto_pad="NOTSET", ceil_mode=0, count_include_pad=0, dilations=None, kernel_shape,
                 pads=None, strides=None):
    """AvgPool-16 (dilations, ceil_torch rounding). When padding counts and a ceil_mode window reaches
    past the end padding, OpenVINO's divisor counts that overhang and ONNX's does not: then a depthwise
    ones-convolution over a constant divisor."""
    n, strides, dilations, pb, pe = _pool_dims(x, kernel_shape, strides, dilations, pads)
    if not (count_include_pad and _ceil_edge(x, kernel_shape, strides, dilations, pb, pe, auto_pad, ceil_mode)):
        return g.op("AvgPool", x, kernel=kernel_shape, strides=strides, dilations=dilations, pads_begin=pb,
                    pads_end=pe, rounding_type="ceil_torch" if ceil_mode else "floor", auto_pad=_auto_pad(auto_pad),
                    **{"exclude-pad": not count_include_pad})
    pb, pe, pe_total = _resolve_pads(x, kernel_shape, strides, dilations, pb, pe, auto_pad, ceil_mode)
    cnt = _window_counts(x.shape[2:], kernel_shape, strides, dilations, pb, pe, pe_total, True)
    inside = _window_counts(x.shape[2:], kernel_shape, strides, dilations, pb, pe, pe_total, False)
    if inside.min() > 0:
        # the mean over the input positions (both agree on it) rescaled to ONNX's divisor
        mean = g.op("AvgPool", x, kernel=kernel_shape, strides=strides, dilations=dilations, pads_begin=pb,
                    pads_end=pe, rounding_type="ceil_torch", auto_pad="explicit", **{"exclude-pad": True})
        return g.op("Multiply", mean, g.const((inside / np.maximum(cnt, 1)).astype(to_numpy(x.etype))))
    total = _window_sum(g, x, kernel_shape, strides, dilations, pb, pe_total)
    return g.op("Divide", total, g.const(np.maximum(cnt, 1).astype(to_numpy(x.etype))))


def _abs_pow(g, x, p):
    if p == 1:
        return g.op("Abs", x)
    if p == 2:
        return g.op("Multiply", x, x)
    return g.op("Power", g.op("Abs", x), g.scalar_like(float(p), x))


def _root(g, s, p):
    if p == 1:
        return s
    if p == 2:
        return g.op("Sqrt", s)
    return g.op("Power", s, g.scalar_like(1.0 / p, s))


@onnx_ops.op("LpPool", since=1)
def lp_pool(g, x, *, auto_pad="NOTSET", ceil_mode=0, dilations=None, kernel_shape, p=2, pads=None, strides=None):
    """(sum over the window of |x|^p)^(1/p), padding counted as zeros. The window sum is AvgPool (pads
    counted) times the kernel size, or a depthwise ones-convolution where a ceil_mode window overhangs."""
    if float(p) <= 0:
        raise ValueError(f"LpPool needs p > 0, got {p}")
    n, strides, dilations, pb, pe = _pool_dims(x, kernel_shape, strides, dilations, pads)
    xp = _abs_pow(g, x, p)
    if not _ceil_edge(x, kernel_shape, strides, dilations, pb, pe, auto_pad, ceil_mode):
        # every window covers prod(kernel) input-or-pad positions: sum = mean with pads counted * size
        mean = g.op("AvgPool", xp, kernel=kernel_shape, strides=strides, dilations=dilations, pads_begin=pb,
                    pads_end=pe, rounding_type="ceil_torch" if ceil_mode else "floor", auto_pad=_auto_pad(auto_pad),
                    **{"exclude-pad": False})
        total = g.op("Multiply", mean, g.scalar_like(float(np.prod(kernel_shape)), x))
        return _root(g, total, p)
    pb, pe, pe_total = _resolve_pads(x, kernel_shape, strides, dilations, pb, pe, auto_pad, ceil_mode)
    return _root(g, _window_sum(g, xp, kernel_shape, strides, dilations, pb, pe_total), p)


@onnx_ops.op("GlobalLpPool", since=1)
def global_lp_pool(g, x, *, p=2):
    """(sum over all spatial positions of |x|^p)^(1/p), keeping [N, C, 1, ...]."""
    if x.rank is None:
        raise ValueError("GlobalLpPool needs the input rank")
    axes = g.i64(list(range(2, x.rank)))
    if p == 1:
        return g.op("ReduceL1", x, axes, keep_dims=True)
    if p == 2:
        return g.op("ReduceL2", x, axes, keep_dims=True)
    return _root(g, g.op("ReduceSum", _abs_pow(g, x, p), axes, keep_dims=True), p)


def _global(ov_reduce):
    def convert(g, x):
        if x.rank is None:
            raise ValueError("global pooling needs the input rank")
        return g.op(ov_reduce, x, g.i64(list(range(2, x.rank))), keep_dims=True)
    return convert


onnx_ops.add(["GlobalAveragePool"], _global("ReduceMean"))
onnx_ops.add(["GlobalMaxPool"], _global("ReduceMax"))


@onnx_ops.op("Gemm", since=1)
def gemm(g, a, b, c=None, *, alpha=1.0, beta=1.0, transA=0, transB=0, broadcast=1):
    y = g.op("MatMul", a, b, transpose_a=bool(transA), transpose_b=bool(transB))
    dt = to_numpy(y.etype)
    if alpha != 1.0:
        y = g.op("Multiply", y, g.const(np.asarray(alpha, dtype=dt)))
    if c is not None:
        if beta != 1.0:
            c = g.op("Multiply", c, g.const(np.asarray(beta, dtype=dt)))
        y = g.op("Add", y, c)
    return y


@onnx_ops.op("MatMul", since=1)
def matmul(g, a, b):
    return g.op("MatMul", a, b)


@onnx_ops.op("BatchNormalization", since=1)
def batch_norm(g, x, scale, bias, mean, var, *, epsilon=1e-5, momentum=0.9, spatial=1, training_mode=0, is_test=0,
               consumed_inputs=None):
    """Inference batch norm over axis 1. Training mode (statistics outputs) is not supported."""
    if training_mode:
        raise ValueError("BatchNormalization with training_mode=1 is not supported (inference only)")
    if g.num_outputs > 1:
        raise ValueError("BatchNormalization's running mean/var outputs (training) are not supported")
    if not spatial and scale.rank not in (None, 1):
        raise ValueError("BatchNormalization with spatial=0 and per-position statistics is not supported")
    return g.op("BatchNormInference", x, scale, bias, mean, var, epsilon=epsilon)


@onnx_ops.op("LRN", since=1)
def lrn(g, x, *, alpha=0.0001, beta=0.75, bias=1.0, size):
    return g.op("LRN", x, g.i64([1]), alpha=alpha, beta=beta, bias=bias, size=size)


def _flatten_2d(g, x, axis):
    """Reshape x to 2-D [prod(d[:axis]), prod(d[axis:])]; axis may be -rank..rank."""
    if x.rank is not None and not -x.rank <= axis <= x.rank:
        raise ValueError(f"axis {axis} is out of range for an input of rank {x.rank}")
    if x.shape is not None and all(d >= 0 for d in x.shape):
        r = len(x.shape)
        axis = axis + r if axis < 0 else axis
        lead = int(np.prod(x.shape[:axis], dtype=np.int64))
        return g.op("Reshape", x, g.i64([lead, -1 if lead else int(np.prod(x.shape[axis:]))]), special_zero=False)
    if x.rank is None:
        raise ValueError("Flatten needs the input rank")
    r = x.rank
    axis = axis + r if axis < 0 else axis
    shape = g.op("ShapeOf", x, output_type="i64")
    head = g.op("ReduceProd", g.op("Gather", shape, g.i64(list(range(axis))) if axis else g.i64([0]), g.i64(0)),
                g.i64([0]), keep_dims=True) if axis else g.i64([1])
    return g.op("Reshape", x, g.op("Concat", head, g.i64([-1]), axis=0), special_zero=False)


@onnx_ops.op("Flatten", since=1)
def flatten(g, x, *, axis=1):
    return _flatten_2d(g, x, axis)


@onnx_ops.op("Dropout", since=1)
def dropout(g, x, ratio_input=None, training_mode=None, **attrs):
    """Identity at inference; the optional mask output is all true.

    A constant training_mode=true with a nonzero constant ratio (random output) is refused; a
    training_mode fed at run time is taken as inference (mo converts for inference)."""
    tm = None if training_mode is None else training_mode.const_value()
    r = attrs.get("ratio", 0.5) if ratio_input is None else ratio_input.const_value()
    if tm is not None and bool(np.asarray(tm).reshape(-1)[0]) and r is not None \
            and float(np.asarray(r).reshape(-1)[0]) != 0.0:
        raise ValueError("Dropout with training_mode=true is random and not supported; export in eval mode")
    if g.num_outputs > 1:
        if x.is_static:
            mask = g.const(np.ones(x.shape, dtype=bool))
        else:
            mask = g.op("Broadcast", g.const(np.asarray(True)), g.op("ShapeOf", x, output_type="i64"), mode="numpy")
        return x, mask
    return x
