"""Recurrent Kaldi components: nnet1 ``<LstmProjected>`` and nnet3 ``LstmNonlinearityComponent``.

nnet1 LstmProjected (src/nnet/nnet-lstm-projected.h), cell C, projection P, state r(-1) = c(-1) = 0
at the start of the chunk (of the utterance in nnet-forward):

    gifo = x W_x^T + b + r(t-1) W_r^T                 (4C columns: g, i, f, o)
    i = sigmoid(gifo_i + p_i * c(t-1))    f = sigmoid(gifo_f + p_f * c(t-1))
    c(t) = clip(f * c(t-1) + i * tanh(gifo_g), +-CellClip when CellClip > 0)
    o = sigmoid(gifo_o + p_o * c(t))      r(t) = (o * tanh(c(t))) W_rm^T      output r(t)

In the chunk form the time loop is unrolled over the chunk's rows; in the streaming form one row
is computed per inference and r, c live in ReadValue/Assign variables ``<component>/r``, ``/c``.

nnet1 BlstmProjected: the forward LSTM above and a second one (its own weights, written after the
forward ones) run from the last frame to the first; output [r_forward(t), r_backward(t)].

nnet3 LstmNonlinearity (nnet-combined-component.cc / cu-math ComputeLstmNonlinearity): input
``[i, f, g, o, c_prev]`` (5C columns; 5C+3 with dropout masks d_i, d_f, d_o), Params rows w_ic,
w_fc, w_oc (3 x C):

    i = sigmoid(i + w_ic c_prev)   f = sigmoid(f + w_fc c_prev)
    c = f c_prev d_f + i tanh(g) d_i    (d = 1 without masks)
    o = sigmoid(o + w_oc c)        m = o tanh(c) d_o          output [c, m]

It is not recurrent by itself: the network feeds c_prev back through ``IfDefined(Offset(c, -k))``,
which the chunk builder unrolls (chunk.py).
"""
from __future__ import annotations

import numpy as np

from mo.errors import ConversionError
from mo.graph import Value

from .nnet3 import Component


def _cols(cb, v: Value, start: int, stop: int) -> Value:
    return cb._slice(v, start, stop, axis=1)


def _row_vec(a) -> np.ndarray:
    return np.asarray(a, np.float32).reshape(1, -1)


def warmup_mask(cb, steps: int) -> Value:
    """[1, 1] f32: 0 for the first ``steps`` inferences after a reset, then 1 (variable ``kaldi/steps``).

    In the streaming form the first left + right steps see the zero frames of a fresh window;
    recurrent state is multiplied by this mask so that it starts, like the chunk form, at the
    first complete frame.
    """
    if getattr(cb, "_warmup", None) is not None:
        return cb._warmup
    b = cb.b
    count = b.op("ReadValue", b.const(np.zeros((1, 1), np.float32)), variable_id="kaldi/steps",
                 name="kaldi/steps/read")
    nxt = b.op("Minimum", b.op("Add", count, b.const(np.float32(1))), b.const(np.float32(steps + 1)))
    b.op_outputs("Assign", nxt, variable_id="kaldi/steps", name="kaldi/steps/write")
    cb._warmup = b.op("Convert", b.op("GreaterEqual", count, b.const(np.float32(steps))), destination_type="f32")
    return cb._warmup


def lstm_projected(cb, comp: Component, x, streaming: bool, where: str, warmup: int = 0, prefix: str = ""):
    """nnet1 LstmProjected over the rows of ``x`` (a Frames); returns Frames of the projections.

    Streaming: ``x`` is one row per inference; the state is kept at zero for ``warmup`` steps.
    ``prefix`` "Backward": the backward half of a BlstmProjected, run from the last row to the first
    (zero state after the last frame).
    """
    from .chunk import Frames

    b, f = cb.b, comp.fields
    wx, wr, bias = f[prefix + "WGifoX"], f[prefix + "WGifoR"], f[prefix + "Bias"]
    pi, pf, po, wrm = f[prefix + "PeepholeI"], f[prefix + "PeepholeF"], f[prefix + "PeepholeO"], f[prefix + "WRM"]
    cell = int(f["CellDim"])
    proj = wrm.shape[0]
    if wx.shape != (4 * cell, x.value.shape[1]) or wr.shape != (4 * cell, proj) or wrm.shape[1] != cell:
        raise ConversionError(f"{where}: weight shapes {wx.shape}, {wr.shape}, {wrm.shape} do not fit "
                              f"cell {cell} and input {x.value.shape[1]}")
    clip = float(f.get("CellClip", 0.0))
    gifo_x = b.op("Add", b.op("MatMul", x.value, b.const(np.ascontiguousarray(wx, np.float32)), transpose_b=True),
                  b.const(_row_vec(bias)))
    wr_c, wrm_c = b.const(np.ascontiguousarray(wr, np.float32)), b.const(np.ascontiguousarray(wrm, np.float32))
    pi_c, pf_c, po_c = b.const(_row_vec(pi)), b.const(_row_vec(pf)), b.const(_row_vec(po))
    if streaming:
        if x.n != 1:
            raise ConversionError(f"{where}: the streaming form needs one frame per step at this LSTM "
                                  f"(a splice after it needs {x.n}); use --kaldi_form chunk")
        r_var, c_var = f"{comp.name}/r", f"{comp.name}/c"
        r_prev = b.op("ReadValue", b.const(np.zeros((1, proj), np.float32)), variable_id=r_var,
                      name=r_var + "/read")
        c_prev = b.op("ReadValue", b.const(np.zeros((1, cell), np.float32)), variable_id=c_var,
                      name=c_var + "/read")
    else:
        r_prev = b.const(np.zeros((1, proj), np.float32))
        c_prev = b.const(np.zeros((1, cell), np.float32))
    outs = []
    for t in (range(x.n - 1, -1, -1) if prefix == "Backward" else range(x.n)):
        row = gifo_x if x.n == 1 else cb._slice(gifo_x, t, t + 1, axis=0)
        gifo = b.op("Add", row, b.op("MatMul", r_prev, wr_c, transpose_b=True))
        g = b.op("Tanh", _cols(cb, gifo, 0, cell))
        i = b.op("Sigmoid", b.op("Add", _cols(cb, gifo, cell, 2 * cell), b.op("Multiply", c_prev, pi_c)))
        fg = b.op("Sigmoid", b.op("Add", _cols(cb, gifo, 2 * cell, 3 * cell), b.op("Multiply", c_prev, pf_c)))
        c = b.op("Add", b.op("Multiply", fg, c_prev), b.op("Multiply", i, g))
        if clip > 0:
            c = b.op("Clamp", c, min=-clip, max=clip)
        o = b.op("Sigmoid", b.op("Add", _cols(cb, gifo, 3 * cell, 4 * cell), b.op("Multiply", c, po_c)))
        r = b.op("MatMul", b.op("Multiply", o, b.op("Tanh", c)), wrm_c, transpose_b=True)
        outs.append(r)
        r_prev, c_prev = r, c
    if streaming:
        if warmup:
            mask = warmup_mask(cb, warmup)
            r_prev, c_prev = b.op("Multiply", r_prev, mask), b.op("Multiply", c_prev, mask)
        b.op_outputs("Assign", r_prev, variable_id=f"{comp.name}/r", name=f"{comp.name}/r/write")
        b.op_outputs("Assign", c_prev, variable_id=f"{comp.name}/c", name=f"{comp.name}/c/write")
    if prefix == "Backward":
        outs.reverse()
    y = outs[0] if len(outs) == 1 else b.op("Concat", *outs, axis=0)
    return Frames(y, x.t0, x.n)


def lstm_nonlinearity(cb, comp: Component, x: Value, where: str) -> Value:
    """nnet3 LstmNonlinearityComponent on every row of ``x`` at once."""
    b = cb.b
    params = comp.fields.get("Params")
    if params is None or params.ndim != 2 or params.shape[0] != 3:
        raise ConversionError(f"{where}: expected <Params> of 3 rows (w_ic, w_fc, w_oc)")
    cell = params.shape[1]
    dim = x.shape[1]
    if dim not in (5 * cell, 5 * cell + 3):
        raise ConversionError(f"{where}: input has {dim} columns, expected {5 * cell} or {5 * cell + 3}")
    w_ic, w_fc, w_oc = (b.const(_row_vec(params[k])) for k in range(3))
    part = [_cols(cb, x, k * cell, (k + 1) * cell) for k in range(5)]
    c_prev = part[4]
    i = b.op("Sigmoid", b.op("Add", part[0], b.op("Multiply", c_prev, w_ic)))
    f = b.op("Sigmoid", b.op("Add", part[1], b.op("Multiply", c_prev, w_fc)))
    keep_f, keep_i = b.op("Multiply", f, c_prev), b.op("Multiply", i, b.op("Tanh", part[2]))
    if dim == 5 * cell + 3:  # dropout masks, one column each, broadcast over the cell
        d_i, d_f, d_o = (_cols(cb, x, 5 * cell + k, 5 * cell + k + 1) for k in range(3))
        keep_f, keep_i = b.op("Multiply", keep_f, d_f), b.op("Multiply", keep_i, d_i)
    c = b.op("Add", keep_f, keep_i)
    o = b.op("Sigmoid", b.op("Add", part[3], b.op("Multiply", c, w_oc)))
    m = b.op("Multiply", o, b.op("Tanh", c))
    if dim == 5 * cell + 3:
        m = b.op("Multiply", m, d_o)
    return b.op("Concat", c, m, axis=1)
