"""ONNX transposed/deformable/causal convolution, unpooling, recurrent, detection and sampling ops."""
from __future__ import annotations

import numpy as np

from mo.types import to_numpy

from ..context import onnx_ops
from .nn import _channel_bias, _pads

# ----------------------------------------------------------------------------------------- ConvTranspose


def _deconv_pads(in_sizes, kernel, strides, dilations, out_pad, out_sizes, auto_pad):
    """Explicit pads that give ``out_sizes``: total = s*(in-1) + out_pad + eff - out, split with the
    smaller half first for SAME_UPPER and the bigger half first otherwise (ONNX rule). A negative end
    pad grows the output at the end, which is what output_padding does; returns (pb, pe, out_pad)."""
    pb, pe, out_pad = [], [], list(out_pad)
    for i, size in enumerate(in_sizes):
        eff = dilations[i] * (kernel[i] - 1) + 1
        total = strides[i] * (size - 1) + out_pad[i] + eff - out_sizes[i]
        small = total // 2
        begin, end = (small, total - small) if auto_pad == "SAME_UPPER" else (total - small, small)
        if begin < 0:
            raise ValueError(f"ConvTranspose output size {out_sizes[i]} on axis {i + 2} needs a negative begin "
                             f"pad, which is not supported")
        if end < 0:
            out_pad[i] -= end
            end = 0
        pb.append(begin)
        pe.append(end)
    return pb, pe, out_pad


@onnx_ops.op("ConvTranspose", since=1)
def conv_transpose(g, x, w, b=None, *, auto_pad="NOTSET", dilations=None, group=1, kernel_shape=None,
                   output_padding=None, output_shape=None, pads=None, strides=None):
    """ConvolutionBackpropData (GroupConvolutionBackpropData when group > 1) with explicit pads.

    ONNX filters are W[C_in, C_out/group, k...]; OpenVINO's grouped form wants W[G, C_in/G, C_out/G, k...].
    With output_shape or SAME auto_pad, the pads are derived from the static input size.
    """
    if w.shape is None:
        raise ValueError("ConvTranspose needs a filter of known rank")
    n = len(w.shape) - 2
    kernel = list(kernel_shape or w.shape[2:])
    if any(k < 0 for k in kernel):
        raise ValueError("ConvTranspose needs a static kernel size")
    strides = list(strides or [1] * n)
    dilations = list(dilations or [1] * n)
    out_pad = list(output_padding or [0] * n)
    spatial_static = x.shape is not None and all(d >= 0 for d in x.shape[2:])
    if output_shape is not None or auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        if not spatial_static:
            raise ValueError("ConvTranspose with output_shape or SAME auto_pad needs static spatial input dims")
        in_sizes = list(x.shape[2:])
        if output_shape is not None:
            out_sizes = list(output_shape)[-n:]
        else:
            out_sizes = [d * s for d, s in zip(in_sizes, strides)]
        pb, pe, out_pad = _deconv_pads(in_sizes, kernel, strides, dilations, out_pad, out_sizes, auto_pad)
    elif auto_pad == "VALID":
        pb, pe = [0] * n, [0] * n
    else:
        pb, pe = _pads(pads, n)
    attrs = dict(strides=strides, dilations=dilations, pads_begin=pb, pads_end=pe, auto_pad="explicit",
                 output_padding=out_pad)
    if group == 1:
        y = g.op("ConvolutionBackpropData", x, w, **attrs)
    else:
        ws = w.shape
        if any(d < 0 for d in ws[:2]):
            raise ValueError("grouped ConvTranspose needs a filter of static shape")
        w = g.op("Reshape", w, g.i64([group, ws[0] // group, ws[1], *ws[2:]]), special_zero=False)
        y = g.op("GroupConvolutionBackpropData", x, w, **attrs)
    if b is not None:
        y = g.op("Add", y, _channel_bias(g, b, n))
    return y


# ----------------------------------------------------------------------------------------- DeformConv


@onnx_ops.op("DeformConv", since=19)
def deform_conv(g, x, w, offset, b=None, mask=None, *, dilations=None, group=1, kernel_shape=None,
                offset_group=1, pads=None, strides=None):
    """DeformableConvolution-8 with bilinear_interpolation_pad (taps within one pixel outside the
    image still interpolate against zeros, as in ONNX)."""
    if w.shape is None:
        raise ValueError("DeformConv needs a filter of known rank")
    n = len(w.shape) - 2
    if n != 2:
        raise ValueError("DeformConv is supported for 2-D inputs only")
    pb, pe = _pads(pads, n)
    ins = [x, offset, w] + ([mask] if mask is not None else [])
    y = g.op("DeformableConvolution", *ins, strides=list(strides or [1] * n), dilations=list(dilations or [1] * n),
             pads_begin=pb, pads_end=pe, auto_pad="explicit", group=group, deformable_group=offset_group,
             bilinear_interpolation_pad=True)
    if b is not None:
        y = g.op("Add", y, _channel_bias(g, b, n))
    return y


# ----------------------------------------------------------------------------------------- CausalConvWithState


def _shape_dims(g, x, idx):
    """The dims ``idx`` of x's shape as a 1-D i64 Value (constant when static)."""
    if x.shape is not None and all(x.shape[i] >= 0 for i in idx):
        return g.i64([x.shape[i] for i in idx])
    return g.op("Gather", g.op("ShapeOf", x, output_type="i64"), g.i64(list(idx)), g.i64(0), batch_dims=0)


def _zeros(g, like, dims, tail):
    """Zeros of like's element type with shape like.shape[dims] + tail."""
    zero = g.const(np.zeros((), dtype=to_numpy(like.etype)))
    shape = g.op("Concat", _shape_dims(g, like, dims), g.i64(list(tail)), axis=0)
    return g.op("Broadcast", zero, shape, mode="numpy")


_UNROLL_TAPS = 8
_BIG = np.iinfo(np.int64).max


@onnx_ops.op("CausalConvWithState", since=1)
def causal_conv_with_state(g, x, w, bias=None, past_state=None, *, activation="none"):
    """Depthwise causal 1-D convolution over concat(past_state, x) along time.

    x [B, C, L], w [C, 1, K], past_state [B, C, K-1] (zeros when absent); output [B, C, L] (+bias,
    optional SiLU), present_state = the last K-1 steps of the concatenation.
    """
    if w.shape is None or len(w.shape) != 3 or any(d < 0 for d in w.shape):
        raise ValueError("CausalConvWithState needs a weight of static shape [C, 1, K]")
    c, _, k = w.shape
    if activation not in ("none", "silu", "swish"):
        raise ValueError(f"CausalConvWithState activation {activation!r} is not supported")
    if past_state is None:
        past_state = _zeros(g, x, (0, 1), (k - 1,))
    full = g.op("Concat", past_state, x, axis=2) if k > 1 else x
    if k <= _UNROLL_TAPS:
        # a few taps: sum_j w[:, 0, j] * full[:, :, j : j + L], elementwise (exact f32 on bf16 CPUs)
        y = None
        for j in range(k):
            tap = g.op("Gather", w, g.i64([j]), g.i64(2), batch_dims=0)            # [C, 1, 1]
            tap = g.op("Reshape", tap, g.i64([1, c, 1]), special_zero=False)
            part = full if k == 1 else g.op("Slice", full, g.i64([j]), g.i64([j - (k - 1) if j < k - 1 else _BIG]),
                                             g.i64([1]), g.i64([2]))
            term = g.op("Multiply", part, tap)
            y = term if y is None else g.op("Add", y, term)
    else:
        wg = g.op("Reshape", w, g.i64([c, 1, 1, k]), special_zero=False)
        y = g.op("GroupConvolution", full, wg, strides=[1], dilations=[1], pads_begin=[0], pads_end=[0],
                 auto_pad="explicit")
    if bias is not None:
        y = g.op("Add", y, g.op("Reshape", bias, g.i64([1, -1, 1]), special_zero=False))
    if activation != "none":
        y = g.op("Multiply", y, g.op("Sigmoid", y))
    if k > 1:
        state = g.op("Gather", full, g.i64(list(range(-(k - 1), 0))), g.i64(2), batch_dims=0)
    else:
        state = _zeros(g, x, (0, 1), (0,))
    return y, state


# ----------------------------------------------------------------------------------------- recurrent

_OV_ACTIVATIONS = {"sigmoid", "tanh", "relu"}


def _take_rows(g, v, idx):
    """v[:, idx] along axis 1 (numpy for constants, else Gather)."""
    val = v.const_value()
    if val is not None:
        return g.const(np.ascontiguousarray(np.take(val, idx, axis=1)))
    return g.op("Gather", v, g.i64(list(idx)), g.i64(1), batch_dims=0)


def _gate_order(blocks, h):
    return [b * h + j for b in blocks for j in range(h)]


def _rnn_activations(activations, default, num_dir):
    acts = [a.lower() for a in (activations or default * num_dir)]
    n = len(default)
    if len(acts) == n and num_dir == 2:
        acts = acts * 2
    if len(acts) != n * num_dir:
        raise ValueError(f"expected {n * num_dir} activations, got {len(acts)}")
    if num_dir == 2 and acts[:n] != acts[n:]:
        raise ValueError("different activations per direction are not supported")
    bad = [a for a in acts[:n] if a not in _OV_ACTIVATIONS]
    if bad:
        raise ValueError(f"RNN activation(s) {', '.join(bad)} are not supported (only Sigmoid, Tanh, Relu)")
    return acts[:n]


def _rnn_inputs(g, x, h0, seq_lens, layout, num_dir, hidden):
    """OpenVINO's X [B, T, I], H0 [B, D, H] and sequence lengths [B] from the ONNX ones."""
    if x.rank is not None and x.rank != 3:
        raise ValueError(f"RNN input must be rank 3, has shape {list(x.shape)}")
    xs = x if layout else g.op("Transpose", x, g.i64([1, 0, 2]))
    if h0 is None:
        h = _zeros(g, xs, (0,), (num_dir, hidden))
    else:
        h = h0 if layout else g.op("Transpose", h0, g.i64([1, 0, 2]))
    if seq_lens is None:
        if xs.shape is not None and xs.shape[0] >= 0 and xs.shape[1] >= 0:
            lens = g.const(np.full((xs.shape[0],), xs.shape[1], dtype=np.int32))
        else:
            t = g.op("Convert", _shape_dims(g, xs, (1,)), destination_type="i32")
            lens = g.op("Broadcast", t, _shape_dims(g, xs, (0,)), mode="numpy")
    else:
        lens = seq_lens
    return xs, h, lens


def _rnn_outputs(g, outs, layout):
    """ONNX's Y ([T, D, B, H] or [B, T, D, H]) and Y_h/Y_c ([D, B, H] or [B, D, H]) from OpenVINO's."""
    y = g.op("Transpose", outs[0], g.i64([0, 2, 1, 3] if layout else [2, 1, 0, 3]))
    rest = [v if layout else g.op("Transpose", v, g.i64([1, 0, 2])) for v in outs[1:]]
    return (y, *rest)


def _hidden(hidden_size, w, gates):
    if hidden_size is not None:
        return int(hidden_size)
    if w.shape is None or w.shape[1] < 0:
        raise ValueError("hidden_size is missing and W has no static shape")
    return w.shape[1] // gates


def _direction(direction):
    d = direction.lower()
    if d not in ("forward", "reverse", "bidirectional"):
        raise ValueError(f"unknown direction {direction!r}")
    return d, 2 if d == "bidirectional" else 1


def _zero_bias(g, w, num_dir, width):
    return g.const(np.zeros((num_dir, width), dtype=to_numpy(w.etype)))


@onnx_ops.op("LSTM", since=1)
def lstm(g, x, w, r, b=None, sequence_lens=None, initial_h=None, initial_c=None, p=None, *,
         activation_alpha=None, activation_beta=None, activations=None, clip=None, direction="forward",
         hidden_size=None, input_forget=0, layout=0):
    """LSTMSequence-5. ONNX gates i, o, f, c are reordered to OpenVINO's f, i, c, o; B = Wb + Rb.
    Peepholes (unless all zero) and input_forget are not supported."""
    d, nd = _direction(direction)
    h = _hidden(hidden_size, w, 4)
    if input_forget:
        raise ValueError("LSTM input_forget=1 is not supported")
    if p is not None:
        pv = p.const_value()
        if pv is None or np.any(pv != 0):
            raise ValueError("LSTM peephole weights (input P) are not supported")
    acts = _rnn_activations(activations, ["sigmoid", "tanh", "tanh"], nd)
    order = _gate_order([2, 0, 3, 1], h)
    wv, rv = _take_rows(g, w, order), _take_rows(g, r, order)
    if b is None:
        bv = _zero_bias(g, w, nd, 4 * h)
    else:
        bv = g.op("Add", _take_rows(g, b, order), _take_rows(g, b, [4 * h + i for i in order]))
    xs, h0, lens = _rnn_inputs(g, x, initial_h, sequence_lens, layout, nd, h)
    if initial_c is None:
        c0 = _zeros(g, xs, (0,), (nd, h))
    else:
        c0 = initial_c if layout else g.op("Transpose", initial_c, g.i64([1, 0, 2]))
    outs = g.op("LSTMSequence", xs, h0, c0, lens, wv, rv, bv, direction=d, hidden_size=h, activations=acts,
                clip=float(clip or 0.0))
    return _rnn_outputs(g, outs, layout)


@onnx_ops.op("GRU", since=1)
def gru(g, x, w, r, b=None, sequence_lens=None, initial_h=None, *, activation_alpha=None, activation_beta=None,
        activations=None, clip=None, direction="forward", hidden_size=None, linear_before_reset=0, layout=0):
    """GRUSequence-5 (gate order z, r, h in both). B = Wb + Rb, or [Wb+Rb for z, r; Wbh; Rbh] when
    linear_before_reset."""
    d, nd = _direction(direction)
    h = _hidden(hidden_size, w, 3)
    acts = _rnn_activations(activations, ["sigmoid", "tanh"], nd)
    if b is None:
        bv = _zero_bias(g, w, nd, (4 if linear_before_reset else 3) * h)
    else:
        wb, rb = _take_rows(g, b, range(3 * h)), _take_rows(g, b, range(3 * h, 6 * h))
        if linear_before_reset:
            zr = g.op("Add", _take_rows(g, wb, range(2 * h)), _take_rows(g, rb, range(2 * h)))
            bv = g.op("Concat", zr, _take_rows(g, wb, range(2 * h, 3 * h)), _take_rows(g, rb, range(2 * h, 3 * h)),
                      axis=1)
        else:
            bv = g.op("Add", wb, rb)
    xs, h0, lens = _rnn_inputs(g, x, initial_h, sequence_lens, layout, nd, h)
    outs = g.op("GRUSequence", xs, h0, lens, w, r, bv, direction=d, hidden_size=h, activations=acts,
                clip=float(clip or 0.0), linear_before_reset=bool(linear_before_reset))
    return _rnn_outputs(g, outs, layout)


@onnx_ops.op("RNN", since=1)
def rnn(g, x, w, r, b=None, sequence_lens=None, initial_h=None, *, activation_alpha=None, activation_beta=None,
        activations=None, clip=None, direction="forward", hidden_size=None, layout=0):
    """RNNSequence-5; B = Wb + Rb."""
    d, nd = _direction(direction)
    h = _hidden(hidden_size, w, 1)
    acts = _rnn_activations(activations, ["tanh"], nd)
    if b is None:
        bv = _zero_bias(g, w, nd, h)
    else:
        bv = g.op("Add", _take_rows(g, b, range(h)), _take_rows(g, b, range(h, 2 * h)))
    xs, h0, lens = _rnn_inputs(g, x, initial_h, sequence_lens, layout, nd, h)
    outs = g.op("RNNSequence", xs, h0, lens, w, r, bv, direction=d, hidden_size=h, activations=acts,
                clip=float(clip or 0.0))
    return _rnn_outputs(g, outs, layout)


# ----------------------------------------------------------------------------------------- sampling, detection

_GRID_MODES = {"bilinear": "bilinear", "linear": "bilinear", "nearest": "nearest", "bicubic": "bicubic",
               "cubic": "bicubic"}


@onnx_ops.op("GridSample", since=16)
def grid_sample(g, x, grid, *, align_corners=0, mode=None, padding_mode="zeros"):
    """GridSample-9 (4-D input only)."""
    if x.rank is not None and x.rank != 4:
        raise ValueError("GridSample is supported for 4-D inputs only (OpenVINO has no volumetric GridSample)")
    mode = mode or ("linear" if g.opset >= 20 else "bilinear")
    if mode not in _GRID_MODES:
        raise ValueError(f"GridSample mode {mode!r} is not supported")
    return g.op("GridSample", x, grid, align_corners=bool(align_corners), mode=_GRID_MODES[mode],
                padding_mode=padding_mode)


@onnx_ops.op("RoiAlign", since=10)
def roi_align(g, x, rois, batch_indices, *, coordinate_transformation_mode=None, mode="avg", output_height=1,
              output_width=1, sampling_ratio=0, spatial_scale=1.0):
    """ROIAlign-9; ONNX half_pixel = OpenVINO half_pixel_for_nn (ROI shifted by -0.5, sizes not clamped
    to 1), output_half_pixel (the opset-10 behaviour) = asymmetric."""
    ctm = coordinate_transformation_mode or ("half_pixel" if g.opset >= 16 else "output_half_pixel")
    aligned = {"half_pixel": "half_pixel_for_nn", "output_half_pixel": "asymmetric"}.get(ctm)
    if aligned is None:
        raise ValueError(f"RoiAlign coordinate_transformation_mode {ctm!r} is not supported")
    if mode == "max":
        # ONNX takes the max of the weighted corner values of each sample, OpenVINO the max of the
        # interpolated samples: the numbers differ
        raise ValueError("RoiAlign mode='max' is not supported (OpenVINO's max pooling differs from ONNX's)")
    if mode != "avg":
        raise ValueError(f"RoiAlign mode {mode!r} is not supported")
    return g.op("ROIAlign", x, rois, batch_indices, pooled_h=output_height, pooled_w=output_width,
                sampling_ratio=sampling_ratio, spatial_scale=spatial_scale, mode=mode, aligned_mode=aligned)


@onnx_ops.op("MaxRoiPool", since=1)
def max_roi_pool(g, x, rois, *, pooled_shape, spatial_scale=1.0):
    """ROIPooling-2 (max); rois [R, 5] = (batch, x1, y1, x2, y2) in both."""
    ph, pw = int(pooled_shape[0]), int(pooled_shape[1])
    return g.op("ROIPooling", x, rois, output_size=[ph, pw], pooled_h=ph, pooled_w=pw, spatial_scale=spatial_scale,
                method="max")


@onnx_ops.op("NonMaxSuppression", since=10)
def non_max_suppression(g, boxes, scores, max_output_boxes_per_class=None, iou_threshold=None,
                        score_threshold=None, *, center_point_box=0):
    """NonMaxSuppression-9 without sorting across classes; its -1 padded rows are cut at valid_outputs."""
    mob = max_output_boxes_per_class if max_output_boxes_per_class is not None else g.i64([0])
    iou = iou_threshold if iou_threshold is not None else g.const(np.float32(0.0))
    # ONNX: no score_threshold = keep every score
    st = score_threshold if score_threshold is not None else g.const(np.float32(np.finfo(np.float32).min))
    sel, _, valid = g.op("NonMaxSuppression", boxes, scores, mob, iou, st,
                         box_encoding="center" if center_point_box else "corner", sort_result_descending=False,
                         output_type="i64")
    return g.op("Slice", sel, g.i64([0]), valid, g.i64([1]), g.i64([0]))


@onnx_ops.op("MaxUnpool", since=9)
def max_unpool(g, x, indices, output_shape=None, *, kernel_shape, pads=None, strides=None):
    """Zeros of the default unpooled shape ((in - 1) * stride + kernel - pads per spatial axis) with x
    scattered to the flat positions ``indices``; an explicit output_shape pads that result at the end
    (the ONNX reference semantics)."""
    n = len(kernel_shape)
    if x.shape is None or any(d < 0 for d in x.shape):
        raise ValueError("MaxUnpool needs a static input shape")
    pb, pe = _pads(pads, n)
    st = list(strides or [1] * n)
    default = [x.shape[0], x.shape[1]] + [(d - 1) * st[i] + kernel_shape[i] - pb[i] - pe[i]
                                          for i, d in enumerate(x.shape[2:])]
    zero = g.const(np.zeros((), dtype=to_numpy(x.etype)))
    flat = g.op("Broadcast", zero, g.i64([int(np.prod(default))]), mode="numpy")
    upd = g.op("ScatterElementsUpdate", flat, g.op("Reshape", indices, g.i64([-1]), special_zero=False),
               g.op("Reshape", x, g.i64([-1]), special_zero=False), g.i64(0), reduction="none", use_init_val=True)
    y = g.op("Reshape", upd, g.i64(default), special_zero=False)
    if output_shape is not None:
        osv = output_shape.const_value()
        if osv is not None and [int(v) for v in osv] == default:
            return y
        extra = g.op("Subtract", g.op("Convert", output_shape, destination_type="i64"), g.i64(default))
        y = g.op("Pad", y, g.i64([0] * len(default)), extra, zero, pad_mode="constant")
    return y
