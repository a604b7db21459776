"""MXNet layers: convolution, pooling, fully connected, normalization, activations."""
from __future__ import annotations

import numpy as np

from mo.errors import ConversionError

from ..context import mxnet_ops

_CHANNEL_FIRST = (None, "NCW", "NCHW", "NCDHW")


def _tuple(v, n: int, default: int) -> list[int]:
    """An MXNet tuple attribute as n ints; empty means ``default`` everywhere."""
    if v is None or v == ():
        return [default] * n
    if isinstance(v, (int, float)):
        return [int(v)] * n
    out = [int(x) for x in v]
    if len(out) == 1 and n > 1:
        out = out * n
    if len(out) != n:
        raise ValueError(f"{out} has {len(out)} values for {n} spatial dims")
    return out


_CHANNEL_LAST = ("NWC", "NHWC", "NDHWC")


def _layout(layout) -> None:
    if layout not in _CHANNEL_FIRST:
        raise ConversionError(f"layout {layout} is not supported here (channels-first layouts only)")


def _to_channels_first(g, v, rank: int):
    """[N, spatial..., C] -> [N, C, spatial...] (also OHWI filters -> OIHW)."""
    return g.op("Transpose", v, g.i64([0, rank - 1, *range(1, rank - 1)]))


def _to_channels_last(g, v, rank: int):
    return g.op("Transpose", v, g.i64([0, *range(2, rank), 1]))


def _bias(g, y, b, nsp: int):
    return g.op("Add", y, g.op("Reshape", b, g.i64([1, -1] + [1] * nsp), special_zero=False))


def _check_channels(x, expected: int, what: str) -> None:
    """The data's channel count (axis 1) must be what the weights were made for."""
    if x.shape is not None and len(x.shape) > 1 and x.shape[1] >= 0 and x.shape[1] != expected:
        raise ConversionError(f"data has {x.shape[1]} channels (shape {list(x.shape)}), {what} expects {expected}")


def _kernel_rank(g, w, kernel) -> int:
    if kernel:
        return len(kernel)
    return len(g.static_shape(w, "weight")) - 2


@mxnet_ops.op(["Convolution"])
def convolution(g, x, w, b=None, *, kernel, num_filter, stride=(), dilate=(), pad=(), num_group=1, no_bias=False,
                layout=None):
    """Channels-last layouts (NWC, NHWC, NDHWC; filters O, k..., I) run channels-first between transposes."""
    if layout in _CHANNEL_LAST:
        rank = len(kernel) + 2
        y = convolution(g, _to_channels_first(g, x, rank), _to_channels_first(g, w, rank), b, kernel=kernel,
                        num_filter=num_filter, stride=stride, dilate=dilate, pad=pad, num_group=num_group,
                        no_bias=no_bias)
        return _to_channels_last(g, y, rank)
    _layout(layout)
    nsp = _kernel_rank(g, w, kernel)
    ws = g.static_shape(w, "weight")
    if ws[0] != num_filter or tuple(ws[2:]) != tuple(int(k) for k in kernel):
        raise ConversionError(f"weight shape {list(ws)} does not match num_filter={num_filter}, "
                              f"kernel={list(kernel)}")
    _check_channels(x, ws[1] * num_group, f"weight {list(ws)} with num_group={num_group}")
    p = _tuple(pad, nsp, 0)
    attrs = dict(strides=_tuple(stride, nsp, 1), dilations=_tuple(dilate, nsp, 1), pads_begin=p, pads_end=p)
    if num_group == 1:
        y = g.op("Convolution", x, w, **attrs)
    else:
        wg = g.op("Reshape", w, g.i64([num_group, ws[0] // num_group, *ws[1:]]), special_zero=False)
        y = g.op("GroupConvolution", x, wg, **attrs)
    if b is not None and not no_bias:
        y = _bias(g, y, b, nsp)
    return y


@mxnet_ops.op(["_contrib_DeformableConvolution", "_contrib_ModulatedDeformableConvolution"])
def deformable_convolution(g, x, offset, *rest, kernel, num_filter, stride=(), dilate=(), pad=(), num_group=1,
                           num_deformable_group=1, no_bias=False, layout=None, im2col_step=None):
    """Deformable convolution (v1; v2 "modulated" takes a mask input before the weight).

    Near the border MXNet's v1 kernel reads zero for a tap whose sampling point is outside the
    map, its v2 kernel interpolates with zero padding: OpenVINO's bilinear_interpolation_pad off/on."""
    _layout(layout)
    modulated = g.node.op == "_contrib_ModulatedDeformableConvolution"
    mask, rest = (rest[0], rest[1:]) if modulated else (None, rest)
    w, b = rest[0], (rest[1] if len(rest) > 1 else None)
    nsp = len(kernel)
    ws = g.static_shape(w, "weight")
    _check_channels(x, ws[1] * num_group, f"weight {list(ws)} with num_group={num_group}")
    p = _tuple(pad, nsp, 0)
    attrs = dict(strides=_tuple(stride, nsp, 1), dilations=_tuple(dilate, nsp, 1), pads_begin=p, pads_end=p,
                 group=int(num_group), deformable_group=int(num_deformable_group),
                 bilinear_interpolation_pad=modulated)
    ins = (x, offset, w) if mask is None else (x, offset, w, mask)
    y = g.op("DeformableConvolution", *ins, **attrs)
    if b is not None and not no_bias:
        y = _bias(g, y, b, nsp)
    return y


@mxnet_ops.op("Deconvolution")
def deconvolution(g, x, w, b=None, *, kernel, num_filter, stride=(), dilate=(), pad=(), adj=(), target_shape=(),
                  num_group=1, no_bias=True, layout=None):
    """Transposed convolution; MXNet's filters are [C_in, C_out/group, k...]."""
    _layout(layout)
    nsp = _kernel_rank(g, w, kernel)
    ws = g.static_shape(w, "weight")
    _check_channels(x, ws[0], f"weight {list(ws)}")
    strides, dil = _tuple(stride, nsp, 1), _tuple(dilate, nsp, 1)
    p, out_pad = _tuple(pad, nsp, 0), _tuple(adj, nsp, 0)
    pb, pe = list(p), list(p)
    if target_shape:
        # MXNet picks pads (and adj) so that the output has exactly target_shape
        xs = g.static_shape(x)
        tgt = _tuple(target_shape, nsp, 0)
        out_pad = [0] * nsp
        for i in range(nsp):
            full = (xs[2 + i] - 1) * strides[i] + dil[i] * (ws[2 + i] - 1) + 1
            total = full - tgt[i]
            if total < 0:
                out_pad[i] = -total
                total = 0
            pb[i], pe[i] = (total + 1) // 2, total // 2
            if out_pad[i]:
                pb[i] = pe[i] = 0
    attrs = dict(strides=strides, dilations=dil, pads_begin=pb, pads_end=pe, output_padding=out_pad)
    if num_group == 1:
        y = g.op("ConvolutionBackpropData", x, w, **attrs)
    else:
        wg = g.op("Reshape", w, g.i64([num_group, ws[0] // num_group, *ws[1:]]), special_zero=False)
        y = g.op("GroupConvolutionBackpropData", x, wg, **attrs)
    if b is not None and not no_bias:
        y = _bias(g, y, b, nsp)
    return y


@mxnet_ops.op(["Pooling"])
def pooling(g, x, *, kernel=(), pool_type="max", global_pool=False, pooling_convention="valid", stride=(), pad=(),
            count_include_pad=True, layout=None, p_value=None):
    if layout in _CHANNEL_LAST:
        rank = g.rank(x)
        y = pooling(g, _to_channels_first(g, x, rank), kernel=kernel, pool_type=pool_type, global_pool=global_pool,
                    pooling_convention=pooling_convention, stride=stride, pad=pad,
                    count_include_pad=count_include_pad, p_value=p_value)
        return _to_channels_last(g, y, rank)
    _layout(layout)
    rank = g.rank(x)
    nsp = rank - 2
    axes = list(range(2, rank))
    if global_pool:
        red = {"max": "ReduceMax", "avg": "ReduceMean", "sum": "ReduceSum"}.get(pool_type)
        if red is not None:
            return g.op(red, x, g.i64(axes), keep_dims=True)
        if pool_type == "lp":
            pv = float(p_value or 2)
            s = g.op("ReduceSum", g.op("Power", g.op("Abs", x), g.scalar_like(pv, x)), g.i64(axes), keep_dims=True)
            return g.op("Power", s, g.scalar_like(1.0 / pv, x))
        raise ConversionError(f"pool_type {pool_type!r} is not supported")
    k = _tuple(kernel, nsp, 1)
    s = _tuple(stride, nsp, 1)
    p = _tuple(pad, nsp, 0)
    conv = {"valid": ("floor", "explicit"), "full": ("ceil", "explicit"), "same": ("floor", "same_upper")}
    if pooling_convention not in conv:
        raise ConversionError(f"pooling_convention {pooling_convention!r} is not supported")
    rounding, auto_pad = conv[pooling_convention]
    attrs = dict(kernel=k, strides=s, pads_begin=p, pads_end=p, rounding_type=rounding, auto_pad=auto_pad)
    if pool_type == "max":
        return g.op_outputs("MaxPool", x, **attrs)[0]
    if pool_type in ("avg", "sum"):
        y = g.op("AvgPool", x, **attrs, **{"exclude-pad": not count_include_pad})
        if pool_type == "sum":
            y = g.op("Multiply", y, g.scalar_like(float(np.prod(k)), x))
        return y
    raise ConversionError(f"pool_type {pool_type!r} is not supported (max, avg, sum)")


@mxnet_ops.op("FullyConnected")
def fully_connected(g, x, w, b=None, *, num_hidden, no_bias=False, flatten=True):
    ws = g.static_shape(w, "weight")
    if ws[0] != num_hidden:
        raise ConversionError(f"weight shape {list(ws)} does not match num_hidden={num_hidden}")
    if flatten and g.rank(x) != 2:
        x = g.op("Reshape", x, g.i64([0, -1]), special_zero=True)
    if x.shape is not None and x.shape[-1] >= 0 and x.shape[-1] != ws[1]:
        raise ConversionError(f"data has {x.shape[-1]} features per row (after flattening), weight {list(ws)} "
                              f"expects {ws[1]}")
    y = g.op("MatMul", x, w, transpose_a=False, transpose_b=True)
    if b is not None and not no_bias:
        y = g.op("Add", y, b)
    return y


@mxnet_ops.op("BatchNorm")
def batch_norm(g, x, gamma, beta, mean, var, *, eps=1e-3, momentum=0.9, fix_gamma=True, use_global_stats=False,
               output_mean_var=False, axis=1, cudnn_off=False, min_calib_range=None, max_calib_range=None):
    """Inference form: the moving statistics normalize (as MXNet does outside training)."""
    if fix_gamma:
        gamma = g.op("Broadcast", g.scalar_like(1.0, x), g.op("ShapeOf", gamma, output_type="i64"))
    rank = g.rank(x)
    axis = axis % rank
    gs = g.static_shape(mean, "moving mean")
    if x.shape[axis] >= 0 and gs != (x.shape[axis],):
        raise ConversionError(f"data has {x.shape[axis]} channels on axis {axis}, the statistics have shape {list(gs)}")
    if axis == 1:
        return g.op("BatchNormInference", x, gamma, beta, mean, var, epsilon=float(eps))
    shape = [1] * rank
    shape[axis] = -1
    sh = g.i64(shape)
    scale = g.op("Divide", gamma, g.op("Sqrt", g.op("Add", var, g.scalar_like(eps, var))))
    shift = g.op("Subtract", beta, g.op("Multiply", mean, scale))
    return g.op("Add", g.op("Multiply", x, g.op("Reshape", scale, sh, special_zero=False)),
                g.op("Reshape", shift, sh, special_zero=False))


def activation_by_name(g, x, act_type: str):
    if act_type == "relu":
        return g.op("Relu", x)
    if act_type == "sigmoid":
        return g.op("Sigmoid", x)
    if act_type == "tanh":
        return g.op("Tanh", x)
    if act_type == "softrelu":
        return g.op("SoftPlus", x)
    if act_type == "softsign":
        return g.op("SoftSign", x)
    if act_type == "log_sigmoid":
        return g.op("Negative", g.op("SoftPlus", g.op("Negative", x)))
    if act_type == "mish":
        return g.op("Mish", x)
    raise ConversionError(f"act_type {act_type!r} is not supported")


@mxnet_ops.op("Activation")
def activation(g, x, *, act_type):
    return activation_by_name(g, x, act_type)


@mxnet_ops.op("LeakyReLU")
def leaky_relu(g, x, gamma=None, *, act_type="leaky", slope=0.25, lower_bound=0.125, upper_bound=0.334):
    if act_type == "leaky":
        return g.op("PRelu", x, g.scalar_like(slope, x))
    if act_type == "rrelu":  # inference uses the mean of the random slope's range
        return g.op("PRelu", x, g.scalar_like((lower_bound + upper_bound) / 2, x))
    if act_type == "prelu":
        if gamma is None:
            raise ConversionError("prelu needs its gamma input")
        return g.op("PRelu", x, gamma)
    if act_type == "elu":
        return g.op("Elu", x, alpha=float(slope))
    if act_type == "selu":
        return g.op("Selu", x, g.scalar_like(1.6732632423543772848170429916717, x),
                    g.scalar_like(1.0507009873554804934193349852946, x))
    if act_type == "gelu":
        return g.op("Gelu", x, approximation_mode="erf")
    raise ConversionError(f"act_type {act_type!r} is not supported")


@mxnet_ops.op("Dropout")
def dropout(g, x, *, p=0.5, mode="training", axes=(), cudnn_off=False):
    return x


def _softmax_axis(g, x, axis, temperature):
    if temperature not in (None, 1, 1.0):
        x = g.op("Divide", x, g.scalar_like(float(temperature), x))
    return x, int(axis)


@mxnet_ops.op("softmax")
def softmax(g, x, length=None, *, axis=-1, temperature=None, dtype=None, use_length=False):
    if use_length:
        raise ConversionError("softmax with use_length is not supported")
    x, axis = _softmax_axis(g, x, axis, temperature)
    return g.op("SoftMax", x, axis=axis)


@mxnet_ops.op("log_softmax")
def log_softmax(g, x, *, axis=-1, temperature=None, dtype=None, use_length=False):
    x, axis = _softmax_axis(g, x, axis, temperature)
    return g.op("LogSoftmax", x, axis=axis)


@mxnet_ops.op("SoftmaxOutput")
def softmax_output(g, x, label=None, *, multi_output=False, preserve_shape=False, grad_scale=1.0, ignore_label=-1.0,
                   use_ignore=False, normalization="null", out_grad=False, smooth_alpha=0.0):
    """Inference: softmax over axis 1 (multi_output), the last axis (preserve_shape), or all
    non-batch values together (the default)."""
    if multi_output:
        return g.op("SoftMax", x, axis=1)
    if preserve_shape or g.rank(x) == 2:
        return g.op("SoftMax", x, axis=-1)
    flat = g.op("Reshape", x, g.i64([0, -1]), special_zero=True)
    return g.op("Reshape", g.op("SoftMax", flat, axis=1), g.op("ShapeOf", x, output_type="i64"), special_zero=False)


@mxnet_ops.op("SoftmaxActivation")
def softmax_activation(g, x, *, mode="instance"):
    """channel: softmax over axis 1; instance: over the last axis (MXNet flattens to 2-D keeping it)."""
    return g.op("SoftMax", x, axis=1 if mode == "channel" else -1)


@mxnet_ops.op(["LinearRegressionOutput", "MAERegressionOutput"])
def regression_output(g, x, label=None, *, grad_scale=1.0):
    return x


@mxnet_ops.op("LogisticRegressionOutput")
def logistic_regression_output(g, x, label=None, *, grad_scale=1.0):
    return g.op("Sigmoid", x)


@mxnet_ops.op("L2Normalization")
def l2_normalization(g, x, *, mode="instance", eps=1e-10):
    """x / sqrt(sum(x^2) + eps) over all non-batch axes (instance), axis 1 (channel) or the
    spatial axes (spatial)."""
    rank = g.rank(x)
    axes = {"instance": list(range(1, rank)), "channel": [1], "spatial": list(range(2, rank))}.get(mode)
    if axes is None:
        raise ConversionError(f"mode {mode!r} is not supported")
    return g.op("NormalizeL2", x, g.i64(axes), eps=float(eps), eps_mode="add")


@mxnet_ops.op("InstanceNorm")
def instance_norm(g, x, gamma, beta, *, eps=1e-3):
    rank = g.rank(x)
    y = g.op("MVN", x, g.i64(list(range(2, rank))), normalize_variance=True, eps=float(eps), eps_mode="INSIDE_SQRT")
    sh = g.i64([1, -1] + [1] * (rank - 2))
    return g.op("Add", g.op("Multiply", y, g.op("Reshape", gamma, sh, special_zero=False)),
                g.op("Reshape", beta, sh, special_zero=False))


@mxnet_ops.op("LayerNorm")
def layer_norm(g, x, gamma, beta, *, axis=-1, eps=1e-5, output_mean_var=False):
    rank = g.rank(x)
    axis = axis % rank
    y = g.op("MVN", x, g.i64([axis]), normalize_variance=True, eps=float(eps), eps_mode="INSIDE_SQRT")
    shape = [1] * rank
    shape[axis] = -1
    sh = g.i64(shape)
    return g.op("Add", g.op("Multiply", y, g.op("Reshape", gamma, sh, special_zero=False)),
                g.op("Reshape", beta, sh, special_zero=False))


@mxnet_ops.op("GroupNorm")
def group_norm(g, x, gamma, beta, *, num_groups=1, eps=1e-5, output_mean_var=False):
    """Normalization over groups of channels; mxnet 1.x has gamma/beta per group ([num_groups]),
    later versions per channel ([C]), which OpenVINO's GroupNormalization takes directly."""
    c = g.static_shape(gamma, "gamma")[0]
    xs = g.static_shape(x)
    if c != xs[1]:
        grouped = g.op("Reshape", x, g.i64([xs[0], num_groups, -1]), special_zero=False)
        y = g.op("MVN", grouped, g.i64([2]), normalize_variance=True, eps=float(eps), eps_mode="INSIDE_SQRT")
        y = g.op("Reshape", y, g.i64([xs[0], num_groups] + [-1]), special_zero=False)
        y = g.op("Add", g.op("Multiply", y, g.op("Reshape", gamma, g.i64([1, -1, 1]), special_zero=False)),
                 g.op("Reshape", beta, g.i64([1, -1, 1]), special_zero=False))
        return g.op("Reshape", y, g.i64(list(xs)), special_zero=False)
    return g.op("GroupNormalization", x, gamma, beta, num_groups=int(num_groups), epsilon=float(eps))


@mxnet_ops.op("LRN")
def lrn(g, x, *, nsize, alpha=1e-4, beta=0.75, knorm=2.0):
    return g.op("LRN", x, g.i64([1]), alpha=float(alpha), beta=float(beta), bias=float(knorm), size=int(nsize))


@mxnet_ops.op("Embedding")
def embedding(g, idx, w, *, input_dim, output_dim, dtype="float32", sparse_grad=False):
    ws = g.static_shape(w, "weight")
    if ws != (input_dim, output_dim):
        raise ConversionError(f"weight shape {list(ws)} does not match input_dim={input_dim}, output_dim={output_dim}")
    i = g.op("Convert", idx, destination_type="i32") if idx.etype not in ("i32", "i64") else idx
    # MXNet clips out-of-range ids
    i = g.op("Clamp", i, min=0.0, max=float(input_dim - 1))
    return g.op("Gather", w, i, g.i64(0), batch_dims=0)
