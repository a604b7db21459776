"""Recurrent, detection and sampling ops: LSTM/GRU/RNN sequences, GridSample, NMS, ROI pooling."""
from __future__ import annotations

from ..opset import OpError, op

_RNN_ATTRS = {
    "direction": ("str",), "hidden_size": ("int",), "activations": ("strs",),
    "activations_alpha": ("floats", []), "activations_beta": ("floats", []), "clip": ("float", 0.0),
}
_DIRECTIONS = {"forward": 1, "reverse": 1, "bidirectional": 2}


def _rnn_outputs(ins, a, with_cell: bool):
    """Y [B, D, T, H], Ho [B, D, H] (and Co) from X [B, T, I]; D = 1 or 2 by ``direction``."""
    x = ins[0]
    if a["direction"] not in _DIRECTIONS:
        raise OpError(f"direction must be forward, reverse or bidirectional, not {a['direction']!r}")
    d, hs = _DIRECTIONS[a["direction"]], a["hidden_size"]
    b = t = -1
    if x.shape is not None:
        if len(x.shape) != 3:
            raise OpError(f"X must be [batch, seq, input], has shape {list(x.shape)}")
        b, t = x.shape[0], x.shape[1]
    if b < 0 and ins[1].shape is not None:
        b = ins[1].shape[0]
    outs = [(x.etype, (b, d, t, hs)), (x.etype, (b, d, hs))]
    if with_cell:
        outs.append((x.etype, (b, d, hs)))
    return outs


@op("LSTMSequence", "opset5", dict(_RNN_ATTRS, activations=("strs", ["sigmoid", "tanh", "tanh"])), inputs=(7, 7))
def lstm_sequence(ins, a):
    """LSTM over a sequence; inputs X[B,T,I], H0[B,D,H], C0[B,D,H], lens[B], W[D,4H,I], R[D,4H,H], B[D,4H];
    gate order f, i, c, o; outputs Y[B,D,T,H], Ho, Co."""
    return _rnn_outputs(ins, a, True)


@op("GRUSequence", "opset5", dict(_RNN_ATTRS, activations=("strs", ["sigmoid", "tanh"]),
                                  linear_before_reset=("bool", False)), inputs=(6, 6))
def gru_sequence(ins, a):
    """GRU over a sequence; inputs X, H0, lens, W[D,3H,I], R[D,3H,H], B[D,3H] (or [D,4H] when
    linear_before_reset); gate order z, r, h; outputs Y[B,D,T,H], Ho."""
    return _rnn_outputs(ins, a, False)


@op("RNNSequence", "opset5", dict(_RNN_ATTRS, activations=("strs", ["tanh"])), inputs=(6, 6))
def rnn_sequence(ins, a):
    """Plain RNN over a sequence; inputs X, H0, lens, W[D,H,I], R[D,H,H], B[D,H]; outputs Y, Ho."""
    return _rnn_outputs(ins, a, False)


@op("GridSample", "opset9", {"align_corners": ("bool", False), "mode": ("str", "bilinear"),
                             "padding_mode": ("str", "zeros")}, inputs=(2, 2))
def grid_sample(ins, a):
    """Samples x[N,C,H,W] at grid[N,Ho,Wo,2] (x, y in [-1, 1]); output [N,C,Ho,Wo].
    mode: bilinear | bicubic | nearest; padding_mode: zeros | border | reflection."""
    x, grid = ins
    if a["mode"] not in ("bilinear", "bicubic", "nearest"):
        raise OpError(f"unknown mode {a['mode']!r}")
    if a["padding_mode"] not in ("zeros", "border", "reflection"):
        raise OpError(f"unknown padding_mode {a['padding_mode']!r}")
    n, c = (x.shape[0], x.shape[1]) if x.shape is not None else (-1, -1)
    ho, wo = (grid.shape[1], grid.shape[2]) if grid.shape is not None else (-1, -1)
    if n < 0 and grid.shape is not None:
        n = grid.shape[0]
    return [(x.etype, (n, c, ho, wo))]


@op("NonMaxSuppression", "opset9", {"box_encoding": ("str", "corner"), "sort_result_descending": ("bool", True),
                                    "output_type": ("etype", "i64")}, inputs=(2, 6))
def non_max_suppression(ins, a):
    """Per batch and class, greedy selection of boxes[B,N,4] by scores[B,C,N]; optional inputs
    max_output_boxes_per_class, iou_threshold, score_threshold, soft_nms_sigma. Outputs
    selected_indices [K,3] (batch, class, box; rows past valid_outputs are -1), selected_scores [K,3]
    and valid_outputs [1]."""
    return [(a["output_type"], (-1, 3)), (ins[1].etype, (-1, 3)), (a["output_type"], (1,))]


@op("ROIAlign", "opset9", {"pooled_h": ("int",), "pooled_w": ("int",), "sampling_ratio": ("int",),
                           "spatial_scale": ("float",), "mode": ("str",), "aligned_mode": ("str", "asymmetric")},
    inputs=(3, 3))
def roi_align(ins, a):
    """Bilinear ROI pooling of x[N,C,H,W] for rois[R,4] (x1,y1,x2,y2) of batch_indices[R]; output
    [R,C,pooled_h,pooled_w]. aligned_mode: asymmetric | half_pixel_for_nn | half_pixel."""
    x, rois = ins[0], ins[1]
    r = rois.shape[0] if rois.shape is not None else -1
    c = x.shape[1] if x.shape is not None else -1
    return [(x.etype, (r, c, a["pooled_h"], a["pooled_w"]))]


@op("ROIPooling", "opset2", {"output_size": ("ints",), "pooled_h": ("int",), "pooled_w": ("int",),
                             "spatial_scale": ("float",), "method": ("str", "max")}, inputs=(2, 2))
def roi_pooling(ins, a):
    """Max (or bilinear) pooling of x[N,C,H,W] over rois[R,5] (batch, x1, y1, x2, y2) to
    [R,C,pooled_h,pooled_w]."""
    x, rois = ins
    r = rois.shape[0] if rois.shape is not None else -1
    c = x.shape[1] if x.shape is not None else -1
    return [(x.etype, (r, c, a["pooled_h"], a["pooled_w"]))]
