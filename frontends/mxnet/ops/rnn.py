"""MXNet's fused RNN op (modes lstm, gru, rnn_tanh, rnn_relu) as OpenVINO *Sequence ops, one per layer.

MXNet's flat ``parameters`` vector is laid out as cuDNN does: first every weight matrix
(per layer, per direction: W_input [G*H, in] then W_hidden [G*H, H]), then every bias
(same order: b_input [G*H], b_hidden [G*H]). Gate blocks are i,f,g,o for LSTM and r,z,n for
GRU (the new-gate's hidden term is multiplied by r after the bias: OpenVINO's
``linear_before_reset``). Data is [T, N, C]; states are [layers * directions, N, H].
"""
from __future__ import annotations

import numpy as np

from mo.errors import ConversionError
from mo.ir.builder import value_of

from ..context import mxnet_ops

_GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}
# OpenVINO gate order expressed as MXNet gate indices
_ORDER = {"lstm": [1, 0, 2, 3], "gru": [1, 0, 2], "rnn_tanh": [0], "rnn_relu": [0]}


def _reorder(a: np.ndarray, mode: str, hidden: int) -> np.ndarray:
    blocks = [a[k * hidden:(k + 1) * hidden] for k in range(_GATES[mode])]
    return np.concatenate([blocks[k] for k in _ORDER[mode]], axis=0)


@mxnet_ops.op("RNN")
def rnn(g, data, params, state=None, state_cell=None, seq_len=None, *, state_size, num_layers, mode,
        bidirectional=False, p=0.0, state_outputs=False, projection_size=None, lstm_state_clip_min=None,
        lstm_state_clip_max=None, lstm_state_clip_nan=False, use_sequence_length=False):
    if mode not in _GATES:
        raise ConversionError(f"mode {mode!r} is not supported")
    if projection_size:
        raise ConversionError("LSTM with projection_size is not supported")
    if lstm_state_clip_min is not None or lstm_state_clip_max is not None:
        raise ConversionError("lstm_state_clip_min/max are not supported")
    if use_sequence_length:
        raise ConversionError("use_sequence_length is not supported")
    flat = value_of(params)
    if flat is None:
        raise ConversionError("the parameters input must be a constant (from the .params file)")
    flat = np.asarray(flat, dtype=np.float32).reshape(-1)
    t, n, c = g.static_shape(data)
    h, gates, dirs = int(state_size), _GATES[mode], 2 if bidirectional else 1
    # sizes of every piece, in file order
    weights, biases = [], []
    for layer in range(num_layers):
        inp = c if layer == 0 else h * dirs
        for _ in range(dirs):
            weights.append([(gates * h, inp), (gates * h, h)])
            biases.append([(gates * h,), (gates * h,)])
    need = sum(int(np.prod(s)) for pair in weights + biases for s in pair)
    if flat.size != need:
        raise ConversionError(f"parameters hold {flat.size} values; {mode} with {num_layers} layer(s), "
                              f"state_size {h}, input size {c}, {dirs} direction(s) needs {need}")
    pos = 0
    pieces = []
    for pair in weights + biases:
        got = []
        for s in pair:
            size = int(np.prod(s))
            got.append(flat[pos:pos + size].reshape(s))
            pos += size
        pieces.append(got)
    w_pieces, b_pieces = pieces[:len(weights)], pieces[len(weights):]

    zeros = np.zeros((num_layers * dirs, n, h), np.float32)

    def initial(v):
        # Gluon's begin state is _zeros(shape=(L*D, 0, H)): 0 is "infer", here the batch
        if v is None or (v.const is not None and v.shape is not None and 0 in v.shape):
            return g.const(zeros)
        return v

    h0_all, c0_all = initial(state), initial(state_cell)
    x = g.op("Transpose", data, g.i64([1, 0, 2]))          # [N, T, C]
    lengths = g.const(np.full((n,), t, np.int32))
    direction = "bidirectional" if dirs == 2 else "forward"
    h_outs, c_outs = [], []
    for layer in range(num_layers):
        sl = slice(layer * dirs, (layer + 1) * dirs)
        w = np.stack([_reorder(w_pieces[k][0], mode, h) for k in range(sl.start, sl.stop)])
        r = np.stack([_reorder(w_pieces[k][1], mode, h) for k in range(sl.start, sl.stop)])
        bx = np.stack([_reorder(b_pieces[k][0], mode, h) for k in range(sl.start, sl.stop)])
        bh = np.stack([_reorder(b_pieces[k][1], mode, h) for k in range(sl.start, sl.stop)])
        if mode == "gru":   # z, r biases summed; the new gate keeps both (linear_before_reset)
            b = np.concatenate([bx[:, :2 * h] + bh[:, :2 * h], bx[:, 2 * h:], bh[:, 2 * h:]], axis=1)
        else:
            b = bx + bh

        def layer_state(v):
            s = g.op("Slice", v, g.i64([sl.start]), g.i64([sl.stop]), g.i64([1]), g.i64([0]))
            return g.op("Transpose", s, g.i64([1, 0, 2]))   # [N, D, H]

        h0 = layer_state(h0_all)
        common = dict(hidden_size=h, direction=direction)
        if mode == "lstm":
            y, ho, co = g.op_outputs("LSTMSequence", x, h0, layer_state(c0_all), lengths, g.const(w), g.const(r),
                                     g.const(b), **common)
            c_outs.append(co)
        elif mode == "gru":
            y, ho = g.op_outputs("GRUSequence", x, h0, lengths, g.const(w), g.const(r), g.const(b),
                                 linear_before_reset=True, **common)
        else:
            act = "tanh" if mode == "rnn_tanh" else "relu"
            y, ho = g.op_outputs("RNNSequence", x, h0, lengths, g.const(w), g.const(r), g.const(b),
                                 activations=[act], **common)
        h_outs.append(ho)
        # Y [N, D, T, H] -> [N, T, D*H], the next layer's input
        x = g.op("Reshape", g.op("Transpose", y, g.i64([0, 2, 1, 3])), g.i64([n, t, dirs * h]), special_zero=False)
    out = g.op("Transpose", x, g.i64([1, 0, 2]))
    if not state_outputs:
        return out

    def stacked(vals):
        v = vals[0] if len(vals) == 1 else g.op("Concat", *vals, axis=1)
        return g.op("Transpose", v, g.i64([1, 0, 2]))   # [N, L*D, H] -> [L*D, N, H]

    if mode == "lstm":
        return out, stacked(h_outs), stacked(c_outs)
    return out, stacked(h_outs)
