"""nnet3 RestrictedAttentionComponent (src/nnet3/attention.h), a parameter-free multi-head attention
over a fixed window of frames.

Per head the input row is ``[k (KeyDim), q (KeyDim + C), v (ValueDim)]`` with C = NumLeftInputs +
NumRightInputs + 1 context positions o, standing for the frames t + (o - NumLeftInputs) * TimeStride.
Writing q = [r, s] (r: KeyDim, s: C):

    b(t)[o] = s(t)[o] + KeyScale * r(t) . k(t + (o - NumLeftInputs) * TimeStride)
    c(t)    = softmax(b(t))
    u(t)    = sum_o c(t)[o] v(t + (o - NumLeftInputs) * TimeStride)      output [u, c] with OutputContext

Keys and values of frames outside the chunk read as zeros (they stay in the softmax), except for the
NumLeft/RightInputsRequired frames, which set the component's context. Heads are appended.
"""
from __future__ import annotations

import numpy as np

from mo.errors import ConversionError

from .nnet3 import Component


def attention_offsets(comp: Component) -> tuple[list[int], list[int]]:
    """(all time offsets, required ones) of the attention window."""
    f = comp.fields
    left, right, stride = int(f["NumLeftInputs"]), int(f["NumRightInputs"]), int(f.get("TimeStride", 1))
    lreq = int(f.get("NumLeftInputsRequired", left))
    rreq = int(f.get("NumRightInputsRequired", right))
    lreq = left if lreq < 0 else lreq
    rreq = right if rreq < 0 else rreq
    return ([o * stride for o in range(-left, right + 1)], [o * stride for o in range(-lreq, rreq + 1)])


def restricted_attention(cb, comp: Component, x, where):
    from .chunk import Frames

    b, f = cb.b, comp.fields
    heads, kd, vd = int(f["NumHeads"]), int(f["KeyDim"]), int(f["ValueDim"])
    offs, req = attention_offsets(comp)
    ctx = len(offs)
    per_head = 2 * kd + ctx + vd
    cb._check_dim(x, heads * per_head, where)
    if x.invariant:
        raise ConversionError(f"{where()}: attention over a time-invariant input")
    key_scale = float(f.get("KeyScale", 1.0 / np.sqrt(kd)))
    t0 = x.t0 - min(req)
    n = x.n - (max(req) - min(req))
    if n <= 0:
        raise ConversionError(f"{where()}: the chunk has too few frames for the attention window")
    rows = [cb.rows(x, t0 + o, n) if o in req else cb.rows_padded(x, t0 + o, n) for o in offs]
    query_rows = cb.rows(x, t0, n)

    def cols(v, start, stop):
        return cb._slice(v, start, stop, axis=1)

    def stack(parts, dim):  # [n, dim] each -> [n, C, dim]
        r = [b.op("Reshape", p, b.const(np.array([n, 1, dim], np.int64)), special_zero=False) for p in parts]
        return r[0] if len(r) == 1 else b.op("Concat", *r, axis=1)

    out_heads = []
    for h in range(heads):
        base = h * per_head
        keys = stack([cols(r, base, base + kd) for r in rows], kd)                      # [n, C, kd]
        values = stack([cols(r, base + 2 * kd + ctx, base + per_head) for r in rows], vd)  # [n, C, vd]
        r_q = b.op("Reshape", cols(query_rows, base + kd, base + 2 * kd),
                   b.const(np.array([n, kd, 1], np.int64)), special_zero=False)
        s_q = cols(query_rows, base + 2 * kd, base + 2 * kd + ctx)
        dots = b.op("Reshape", b.op("MatMul", keys, r_q), b.const(np.array([n, ctx], np.int64)), special_zero=False)
        weights = b.op("SoftMax", b.op("Add", s_q, b.op("Multiply", dots, b.const(np.float32(key_scale)))), axis=1)
        w3 = b.op("Reshape", weights, b.const(np.array([n, 1, ctx], np.int64)), special_zero=False)
        u = b.op("Reshape", b.op("MatMul", w3, values), b.const(np.array([n, vd], np.int64)), special_zero=False)
        out_heads.append(b.op("Concat", u, weights, axis=1) if f.get("OutputContext") else u)
    y = out_heads[0] if heads == 1 else b.op("Concat", *out_heads, axis=1)
    return Frames(y, t0, n)
