"""Convolution, pooling, MatMul and SoftMax."""
from __future__ import annotations

import numpy as np

from ..opset import OpError, op
from ..shapes import auto_pads, dim_add, norm_axis, pooled_dim

_CONV_ATTRS = {
    "strides": ("ints",), "dilations": ("ints",), "pads_begin": ("ints",), "pads_end": ("ints",),
    "auto_pad": ("str", "explicit"),
}


def _spatial(x_shape, kernel, a, ceil: str | bool = False, dilations=None):
    """Output spatial dims; ``ceil`` is False, "ceil" (plain ceiling) or "ceil_torch" (a window may not
    start in the end padding)."""
    n_sp = len(kernel)
    dil = dilations or [1] * n_sp
    out = []
    for i in range(n_sp):
        size = x_shape[2 + i]
        pb, pe = a["pads_begin"][i], a["pads_end"][i]
        mode = a["auto_pad"]
        if mode in ("same_upper", "same_lower"):
            if size < 0:
                out.append(-1)
                continue
            out.append(-(-size // a["strides"][i]))
            continue
        if mode == "valid":
            pb = pe = 0
        if ceil == "ceil" and size >= 0:
            eff = dil[i] * (kernel[i] - 1) + 1
            out.append(max(-(-(size + pb + pe - eff) // a["strides"][i]) + 1, 0))
            continue
        out.append(pooled_dim(size, kernel[i], a["strides"][i], pb, pe, dil[i], bool(ceil)))
    return out


def _check_rank(x, n, what):
    if x.shape is not None and len(x.shape) != n:
        raise OpError(f"{what} must have rank {n}, has shape {list(x.shape)}")


@op("Convolution", "opset1", _CONV_ATTRS, inputs=(2, 2))
def convolution(ins, a):
    """N-d convolution of x[N,C,...] with filters W[O,C,k...]; output [N,O,...]."""
    x, w = ins
    if w.shape is None:
        raise OpError("filter rank must be known")
    nsp = len(w.shape) - 2
    if x.shape is None:
        return [(x.etype, None)]
    _check_rank(x, nsp + 2, "data")
    sp = _spatial(x.shape, w.shape[2:], a, dilations=a["dilations"])
    return [(x.etype, (x.shape[0], w.shape[0], *sp))]


@op("GroupConvolution", "opset1", _CONV_ATTRS, inputs=(2, 2))
def group_convolution(ins, a):
    """Grouped convolution; filters W[G,O/G,C/G,k...]; output [N,O,...]."""
    x, w = ins
    if w.shape is None:
        raise OpError("filter rank must be known")
    nsp = len(w.shape) - 3
    if x.shape is None:
        return [(x.etype, None)]
    _check_rank(x, nsp + 2, "data")
    sp = _spatial(x.shape, w.shape[3:], a, dilations=a["dilations"])
    o = -1 if w.shape[0] < 0 or w.shape[1] < 0 else w.shape[0] * w.shape[1]
    return [(x.etype, (x.shape[0], o, *sp))]


_DECONV_ATTRS = dict(_CONV_ATTRS, output_padding=("ints", None))


def _deconv_spatial(x_shape, kernel, a, out_shape_value):
    nsp = len(kernel)
    if out_shape_value is not None:
        return [int(v) for v in out_shape_value]
    out = []
    op_ = a["output_padding"] or [0] * nsp
    for i in range(nsp):
        size = x_shape[2 + i]
        if size < 0:
            out.append(-1)
            continue
        s, d, k = a["strides"][i], a["dilations"][i], kernel[i]
        if a["auto_pad"] in ("same_upper", "same_lower"):
            out.append(size * s + op_[i])
            continue
        pb, pe = (0, 0) if a["auto_pad"] == "valid" else (a["pads_begin"][i], a["pads_end"][i])
        out.append(s * (size - 1) + d * (k - 1) + 1 - pb - pe + op_[i])
    return out


@op("ConvolutionBackpropData", "opset1", _DECONV_ATTRS, inputs=(2, 3))
def convolution_backprop_data(ins, a):
    """Transposed convolution; filters W[C_in,C_out,k...]; optional input 2 = spatial output shape."""
    x, w = ins[0], ins[1]
    if x.shape is None or w.shape is None:
        return [(x.etype, None)]
    osv = ins[2].const_value() if len(ins) > 2 else None
    if len(ins) > 2 and osv is None:
        return [(x.etype, (x.shape[0], w.shape[1]) + (-1,) * (len(w.shape) - 2))]
    sp = _deconv_spatial(x.shape, w.shape[2:], a, osv)
    return [(x.etype, (x.shape[0], w.shape[1], *sp))]


@op("GroupConvolutionBackpropData", "opset1", _DECONV_ATTRS, inputs=(2, 3))
def group_convolution_backprop_data(ins, a):
    """Grouped transposed convolution; filters W[G,C_in/G,C_out/G,k...]."""
    x, w = ins[0], ins[1]
    if x.shape is None or w.shape is None:
        return [(x.etype, None)]
    osv = ins[2].const_value() if len(ins) > 2 else None
    o = -1 if w.shape[0] < 0 or w.shape[2] < 0 else w.shape[0] * w.shape[2]
    if len(ins) > 2 and osv is None:
        return [(x.etype, (x.shape[0], o) + (-1,) * (len(w.shape) - 3))]
    sp = _deconv_spatial(x.shape, w.shape[3:], a, osv)
    return [(x.etype, (x.shape[0], o, *sp))]


_POOL = {"strides": ("ints",), "pads_begin": ("ints",), "pads_end": ("ints",), "kernel": ("ints",),
         "rounding_type": ("str", "floor"), "auto_pad": ("str", "explicit")}


def _pool_shape(x, a, dilations=None):
    if x.shape is None:
        return None
    rt = a["rounding_type"]
    if rt not in ("floor", "ceil", "ceil_torch"):
        raise OpError(f"unknown rounding_type {rt!r}")
    sp = _spatial(x.shape, a["kernel"], a, ceil=False if rt == "floor" else rt, dilations=dilations)
    return (x.shape[0], x.shape[1], *sp)


@op("MaxPool", "opset14", dict(_POOL, dilations=("ints", None), index_element_type=("etype", "i64"),
                               axis=("int", 0)), inputs=(1, 1))
def max_pool(ins, a):
    """Max over windows; outputs values and the flat indices of the maxima (over all axes from ``axis``).

    rounding_type: floor | ceil | ceil_torch (ceil, but a window starting in the end padding is dropped)."""
    x = ins[0]
    if a["dilations"] is None:
        a["dilations"] = [1] * len(a["kernel"])
    sh = _pool_shape(x, a, a["dilations"])
    return [(x.etype, sh), (a["index_element_type"], sh)]


@op("AvgPool", "opset16", dict(_POOL, dilations=("ints", None), **{"exclude-pad": ("bool", False)}), inputs=(1, 1))
def avg_pool(ins, a):
    """Mean over (dilated) windows; ``exclude-pad`` leaves padded positions out of the divisor; rounding as
    MaxPool. ``dilations`` defaults to ones and is always written: the CPU plugin needs it."""
    if a["dilations"] is None:
        a["dilations"] = [1] * len(a["kernel"])
    return [(ins[0].etype, _pool_shape(ins[0], a, a["dilations"]))]


def _matmul_eval(x, a):
    A, B = x
    if a["transpose_a"] and A.ndim >= 2:
        A = np.swapaxes(A, -1, -2)
    if a["transpose_b"] and B.ndim >= 2:
        B = np.swapaxes(B, -1, -2)
    return [np.matmul(A, B).astype(x[0].dtype)]


@op("MatMul", "opset1", {"transpose_a": ("bool", False), "transpose_b": ("bool", False)}, inputs=(2, 2),
    evaluate=_matmul_eval)
def matmul(ins, a):
    """numpy.matmul with optional transposition of the last two axes of either input."""
    A, B = ins
    if A.shape is None or B.shape is None:
        return [(A.etype, None)]
    sa, sb = list(A.shape), list(B.shape)
    if a["transpose_a"] and len(sa) >= 2:
        sa[-1], sa[-2] = sa[-2], sa[-1]
    if a["transpose_b"] and len(sb) >= 2:
        sb[-1], sb[-2] = sb[-2], sb[-1]
    a1, b1 = len(sa) == 1, len(sb) == 1
    if a1:
        sa = [1] + sa
    if b1:
        sb = sb + [1]
    from ..shapes import broadcast
    batch = broadcast(tuple(sa[:-2]), tuple(sb[:-2]))
    out = list(batch) + [sa[-2], sb[-1]]
    if a1:
        out.pop(-2)
    if b1:
        out.pop(-1)
    return [(A.etype, tuple(out))]


def _softmax_eval(x, a):
    v = x[0].astype(np.float64)
    m = np.max(v, axis=a["axis"], keepdims=True)
    e = np.exp(v - m)
    return [(e / e.sum(axis=a["axis"], keepdims=True)).astype(x[0].dtype)]


@op("SoftMax", "opset8", {"axis": ("int", 1)}, inputs=(1, 1), evaluate=_softmax_eval)
def softmax(ins, a):
    """exp(x) / sum(exp(x)) along ``axis`` (negative counts from the end)."""
    return [(ins[0].etype, ins[0].shape)]


@op("LogSoftmax", "opset5", {"axis": ("int", 1)}, inputs=(1, 1))
def log_softmax(ins, a):
    """x - log(sum(exp(x))) along ``axis``."""
    return [(ins[0].etype, ins[0].shape)]


@op("BatchNormInference", "opset5", {"epsilon": ("float",)}, inputs=(5, 5))
def batch_norm_inference(ins, a):
    """gamma * (x - mean) / sqrt(var + epsilon) + beta over channel axis 1; inputs x, gamma, beta, mean, var."""
    return [(ins[0].etype, ins[0].shape)]


@op("LRN", "opset1", {"alpha": ("float",), "beta": ("float",), "bias": ("float",), "size": ("int",)}, inputs=(2, 2))
def lrn(ins, a):
    """x / (bias + alpha / size^len(axes) * sum of squares over the window) ^ beta; axes from input 1."""
    return [(ins[0].etype, ins[0].shape)]


@op("DeformableConvolution", "opset8", dict(_CONV_ATTRS, group=("int", 1), deformable_group=("int", 1),
                                            bilinear_interpolation_pad=("bool", False)), inputs=(3, 4))
def deformable_convolution(ins, a):
    """Convolution sampling x at kernel taps moved by ``offsets`` [N, 2*DG*prod(k), out...] (y, x pairs),
    optionally scaled by ``mask`` [N, DG*prod(k), out...]; filters W[O, C/group, k...]."""
    x, w = ins[0], ins[2]
    if x.shape is None or w.shape is None:
        return [(x.etype, None)]
    _check_rank(x, len(w.shape), "data")
    sp = _spatial(x.shape, w.shape[2:], a, dilations=a["dilations"])
    return [(x.etype, (x.shape[0], w.shape[0], *sp))]
