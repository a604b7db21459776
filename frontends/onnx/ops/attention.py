"""ONNX attention ops: Attention, RotaryEmbedding and their relatives.

Attention is decomposed into MatMul / SoftMax / Select / Reshape / Transpose, following the
ONNX reference semantics (opset 23..25):

* 3-D inputs ``[B, S, H*D]`` are split into heads (``q_num_heads`` / ``kv_num_heads``) and the
  output is merged back; 4-D inputs are ``[B, H, S, D]``.
* ``past_key`` / ``past_value`` are concatenated in front of K / V along the sequence axis and
  returned as ``present_key`` / ``present_value``.
* the scale (default ``1/sqrt(head_size)``) is applied as ``sqrt(scale)`` to Q and to K, as the
  reference and the function body do, so fp16 rounding matches.
* grouped-query attention repeats each KV head ``q_num_heads / kv_num_heads`` times
  (``h0, h0, h1, h1, ...``).
* the additive bias combines ``attn_mask`` (bool: True attends; float: added; padded with -inf
  up to the total KV length), ``is_causal`` and the sliding window (bottom-right aligned: the
  frontier is offset by the past length, or per batch by ``nonpad_kv_seqlen - q_len``), and the
  ``nonpad_kv_seqlen`` padding mask; softcap ``c * tanh(qk / c)`` comes before the bias.
* a query row whose bias is -inf everywhere gets all-zero probabilities (so Y = 0 there).
* ``qk_matmul_output``: mode 0/1 the (softcapped) QK product, 2 with the bias added, 3 the
  probabilities.

Every node the attention decomposition creates is marked with the ``precise`` runtime attribute
(OpenVINO's DisableFP16Compression), so a low-precision inference hint (bf16/f16 on CPU) does
not round the scores and probabilities, the part of a transformer most sensitive to it.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from mo.graph import Value
from mo.types import to_numpy

from ..context import onnx_ops

_NEG_INF = float("-inf")


# ----------------------------------------------------------------------------- helpers
def _fconst(g, value: float, like: Value) -> Value:
    """A scalar of ``like``'s float element type (via Convert for types numpy lacks, e.g. bf16)."""
    try:
        return g.const(np.asarray(value, dtype=to_numpy(like.etype)))
    except ValueError:
        return g.op("Convert", g.const(np.float32(value)), destination_type=like.etype)


def _dims(g, x: Value, axes: list[int]) -> Value:
    """1-D i64 of ``x.shape[axes]`` (a constant when those dims are static)."""
    return g.op("Gather", g.op("ShapeOf", x, output_type="i64"), g.i64(axes), g.i64(0), batch_dims=0)


def _dim(g, x: Value, axis: int) -> Value:
    """Scalar i64 ``x.shape[axis]``."""
    return g.op("Gather", g.op("ShapeOf", x, output_type="i64"), g.i64(axis), g.i64(0), batch_dims=0)


def _static_dim(x: Value, axis: int) -> int | None:
    if x.shape is None or x.shape[axis] < 0:
        return None
    return int(x.shape[axis])


def _mark_precise(g, first: int) -> None:
    """Keep every node built since index ``first`` in its original precision (no bf16/f16 hint)."""
    for node in g.graph.nodes[first:]:
        if node.op not in ("Const", "Parameter", "Result"):
            node.rt_info["precise"] = ""


def _split_heads(g, x: Value, heads: int) -> Value:
    """[B, S, H*D] -> [B, H, S, D]."""
    x = g.op("Reshape", x, g.i64([0, 0, heads, -1]), special_zero=True)
    return g.op("Transpose", x, g.i64([0, 2, 1, 3]))


def _repeat_heads(g, x: Value, reps: int) -> Value:
    """[B, H, L, D] -> [B, H*reps, L, D], each head repeated ``reps`` times in place."""
    x5 = g.op("Unsqueeze", x, g.i64([2]))
    x5 = g.op("Broadcast", x5, g.i64([1, 1, reps, 1, 1]), mode="bidirectional")
    shape = g.op("Concat", _dims(g, x, [0]), g.i64([-1]), _dims(g, x, [2, 3]), axis=0)
    return g.op("Reshape", x5, shape, special_zero=False)


def _softmax_etype(softmax_precision: int | None, like: Value) -> str:
    if softmax_precision is None:
        return like.etype
    from ..loader import ONNX_ETYPES
    et = ONNX_ETYPES.get(int(softmax_precision))
    if et not in ("f32", "f16", "f64", "bf16"):
        raise ValueError(f"softmax_precision {softmax_precision} is not a floating-point ONNX type")
    return et


def _mask_to_bias(g, mask: Value, like: Value, kv_len: Value) -> Value:
    """attn_mask as an additive bias of ``like``'s type, padded with -inf up to ``kv_len`` keys."""
    if mask.etype == "boolean":
        mask = g.op("Select", mask, _fconst(g, 0.0, like), _fconst(g, _NEG_INF, like))
    elif mask.etype != like.etype:
        mask = g.op("ConvertLike", mask, like)
    rank = mask.rank
    if rank is None:
        raise ValueError("attn_mask needs a known rank")
    m_last = _static_dim(mask, -1)
    if m_last is not None and kv_len.const is not None and int(kv_len.const.numpy()) == m_last:
        return mask
    pad = g.op("Subtract", kv_len, _dim(g, mask, rank - 1))
    pads_end = g.op("Concat", g.i64([0] * (rank - 1)), g.op("Unsqueeze", pad, g.i64([0])), axis=0)
    return g.op("Pad", mask, g.i64([0] * rank), pads_end, _fconst(g, _NEG_INF, like), pad_mode="constant")


def _allowed_positions(g, q_len: Value, kv_len: Value, offset: Value | None, is_causal: bool, left: int,
                       right: int, nonpad: Value | None) -> Value | None:
    """Boolean [S, L] or [B, 1, S, L]: which (query, key) pairs the causal/window/padding rules allow.

    ``offset`` is a scalar (past length) or a [B, 1, 1, 1] per-batch frontier; query i attends key
    j causally iff j <= i + offset, and within the window iff -right <= i + offset - j <= left.
    """
    parts: list[Value] = []
    if is_causal or left >= 0 or right >= 0:
        zero, one = g.i64(0), g.i64(1)
        i = g.op("Unsqueeze", g.op("Range", zero, q_len, one, output_type="i64"), g.i64([1]))   # [S, 1]
        j = g.op("Range", zero, kv_len, one, output_type="i64")                                 # [L]
        pos = g.op("Add", i, offset) if offset is not None else i
        diff = g.op("Subtract", pos, j)                                                          # i + off - j
        if is_causal:
            parts.append(g.op("GreaterEqual", diff, g.i64(0)))
        if left >= 0:
            parts.append(g.op("LessEqual", diff, g.i64(left)))
        if right >= 0:
            parts.append(g.op("GreaterEqual", diff, g.i64(-right)))
    if nonpad is not None:
        j = g.op("Range", g.i64(0), kv_len, g.i64(1), output_type="i64")
        parts.append(g.op("Less", j, g.op("Reshape", nonpad, g.i64([-1, 1, 1, 1]), special_zero=False)))
    if not parts:
        return None
    out = parts[0]
    for p in parts[1:]:
        out = g.op("LogicalAnd", out, p)
    return out


# ----------------------------------------------------------------------------- Attention
def _attention(g, q: Value, k: Value, v: Value, attn_mask: Value | None, past_key: Value | None,
               past_value: Value | None, nonpad_kv_seqlen: Value | None, *, is_causal: int, kv_num_heads: int | None,
               q_num_heads: int | None, qk_matmul_output_mode: int, scale: float | None, softcap: float,
               softmax_precision: int | None, left_window_size: int, right_window_size: int) -> tuple[Value, ...]:
    first = len(g.graph.nodes)
    rank = q.rank
    if rank not in (3, 4):
        raise ValueError(f"Attention needs 3-D or 4-D Q, got rank {rank}")
    if k.rank != rank or v.rank != rank:
        raise ValueError("Attention needs Q, K and V of the same rank")
    if qk_matmul_output_mode not in (0, 1, 2, 3):
        raise ValueError(f"qk_matmul_output_mode={qk_matmul_output_mode} is not one of 0, 1, 2, 3")
    if (past_key is None) != (past_value is None):
        raise ValueError("past_key and past_value must be given together")
    if nonpad_kv_seqlen is not None and past_key is not None:
        raise ValueError("nonpad_kv_seqlen cannot be combined with past_key/past_value")
    if left_window_size < -1 or right_window_size < -1:
        raise ValueError("left_window_size/right_window_size must be -1 or nonnegative")

    if rank == 3:
        if not q_num_heads or not kv_num_heads:
            raise ValueError("3-D Attention inputs need the q_num_heads and kv_num_heads attributes")
        q = _split_heads(g, q, q_num_heads)
        k = _split_heads(g, k, kv_num_heads)
        v = _split_heads(g, v, kv_num_heads)
    hq = q_num_heads or _static_dim(q, 1)
    hkv = kv_num_heads or _static_dim(k, 1)

    # KV cache
    if past_key is not None:
        k = g.op("Concat", past_key, k, axis=2)
        v = g.op("Concat", past_value, v, axis=2)
    present_key, present_value = k, v

    # scale, applied as sqrt(scale) to both Q and K
    if scale is None:
        d = _static_dim(q, 3)
        if d is not None:
            s: Any = _fconst(g, float(np.sqrt(1.0 / np.sqrt(d))), q)
        else:
            s = g.op("Power", g.op("ConvertLike", _dim(g, q, 3), q), _fconst(g, -0.25, q))
    else:
        s = _fconst(g, float(np.sqrt(scale)), q)

    # additive bias
    q_len, kv_len = _dim(g, q, 2), _dim(g, k, 2)
    offset: Value | None = None
    if past_key is not None:
        offset = _dim(g, past_key, 2)
    elif nonpad_kv_seqlen is not None:
        if nonpad_kv_seqlen.etype != "i64":
            nonpad_kv_seqlen = g.op("Convert", nonpad_kv_seqlen, destination_type="i64")
        offset = g.op("Reshape", g.op("Subtract", nonpad_kv_seqlen, q_len), g.i64([-1, 1, 1, 1]), special_zero=False)
    allowed = _allowed_positions(g, q_len, kv_len, offset, bool(is_causal), left_window_size, right_window_size,
                                 nonpad_kv_seqlen)
    bias = _mask_to_bias(g, attn_mask, q, kv_len) if attn_mask is not None else None
    if allowed is not None:
        bias = g.op("Select", allowed, bias if bias is not None else _fconst(g, 0.0, q), _fconst(g, _NEG_INF, q))

    # grouped-query attention
    if hq is not None and hkv is not None and hq != hkv:
        if hq % hkv:
            raise ValueError(f"q_num_heads={hq} is not a multiple of kv_num_heads={hkv}")
        k = _repeat_heads(g, k, hq // hkv)
        v = _repeat_heads(g, v, hq // hkv)

    qk = g.op("MatMul", g.op("Multiply", q, s), g.op("Multiply", k, s), transpose_a=False, transpose_b=True)
    if softcap and softcap > 0:
        c = _fconst(g, softcap, qk)
        qk = g.op("Multiply", g.op("Tanh", g.op("Divide", qk, c)), c)
    scores = g.op("Add", qk, bias) if bias is not None else qk
    qk_out = scores if qk_matmul_output_mode == 2 else qk

    sm_et = _softmax_etype(softmax_precision, q)
    x = scores if sm_et == q.etype else g.op("Convert", scores, destination_type=sm_et)
    probs = g.op("SoftMax", x, axis=-1)
    if bias is not None:
        # ReduceMax of an all -inf row is not -inf on every device (the CPU starts from the lowest
        # finite value), so ask "does any key have a bias above -inf" instead
        open_key = g.op("Greater", bias, _fconst(g, _NEG_INF, bias))
        masked_row = g.op("LogicalNot", g.op("ReduceLogicalOr", open_key, g.i64([-1]), keep_dims=True))
        probs = g.op("Select", masked_row, _fconst(g, 0.0, probs), probs)
    if sm_et != q.etype:
        probs = g.op("Convert", probs, destination_type=q.etype)
    if qk_matmul_output_mode == 3:
        qk_out = probs

    y = g.op("MatMul", probs, v, transpose_a=False, transpose_b=False)
    if rank == 3:
        y = g.op("Transpose", y, g.i64([0, 2, 1, 3]))
        y = g.op("Reshape", y, g.i64([0, 0, -1]), special_zero=True)
    _mark_precise(g, first)
    return y, present_key, present_value, qk_out


@onnx_ops.op("Attention", since=23)
def attention(g, q, k, v, attn_mask=None, past_key=None, past_value=None, nonpad_kv_seqlen=None, *, is_causal=0,
              kv_num_heads=None, q_num_heads=None, qk_matmul_output_mode=0, scale=None, softcap=0.0,
              softmax_precision=None, left_window_size=-1, right_window_size=-1):
    """ONNX Attention-23/24/25 (nonpad_kv_seqlen since 24, sliding window since 25)."""
    return _attention(g, q, k, v, attn_mask, past_key, past_value, nonpad_kv_seqlen, is_causal=is_causal,
                      kv_num_heads=kv_num_heads, q_num_heads=q_num_heads, qk_matmul_output_mode=qk_matmul_output_mode,
                      scale=scale, softcap=softcap, softmax_precision=softmax_precision,
                      left_window_size=left_window_size, right_window_size=right_window_size)


# ----------------------------------------------------------------------------- RotaryEmbedding
@onnx_ops.op("RotaryEmbedding", since=23)
def rotary_embedding(g, x, cos_cache, sin_cache, position_ids=None, *, interleaved=0, num_heads=0,
                     rotary_embedding_dim=0):
    """Rotate the first ``rotary_embedding_dim`` features of each head by the cached angles.

    x is [B, H, S, D] or [B, S, H*D] (``num_heads`` splits it); cos/sin are [B, S, R/2], or
    [max_pos, R/2] gathered by ``position_ids`` [B, S]. With x1/x2 the two halves of the rotated
    part (or its even/odd features when ``interleaved``): out = (cos*x1 - sin*x2, sin*x1 + cos*x2),
    re-interleaved when ``interleaved``; features past R pass through unchanged.
    """
    rank = x.rank
    if rank not in (3, 4):
        raise ValueError(f"RotaryEmbedding needs a 3-D or 4-D input, got rank {rank}")
    if position_ids is not None:
        cos_cache = g.op("Gather", cos_cache, position_ids, g.i64(0), batch_dims=0)
        sin_cache = g.op("Gather", sin_cache, position_ids, g.i64(0), batch_dims=0)
    if rank == 3:
        if not num_heads:
            raise ValueError("RotaryEmbedding of a 3-D input needs the num_heads attribute")
        xh = g.op("Reshape", x, g.i64([0, 0, num_heads, -1]), special_zero=True)   # [B, S, H, D]
        head_axis = 2
    else:
        xh = x                                                                     # [B, H, S, D]
        head_axis = 1
    cos = g.op("Unsqueeze", cos_cache, g.i64([head_axis]))
    sin = g.op("Unsqueeze", sin_cache, g.i64([head_axis]))

    head = _static_dim(xh, 3)
    rdim = rotary_embedding_dim or head
    if rdim is None:
        raise ValueError("RotaryEmbedding needs a static head size or the rotary_embedding_dim attribute")
    if rdim % 2:
        raise ValueError(f"rotary_embedding_dim={rdim} must be even")
    partial = head is None or rdim < head

    def cut(start: int, stop: int, step: int = 1) -> Value:
        return g.op("Slice", xh, g.i64([start]), g.i64([stop]), g.i64([step]), g.i64([3]))

    x_rot = cut(0, rdim) if partial else xh
    if interleaved:
        x1, x2 = cut(0, rdim, 2), cut(1, rdim, 2)
    else:
        x1, x2 = g.op("Split", x_rot, g.i64(3), num_splits=2)
    real = g.op("Subtract", g.op("Multiply", cos, x1), g.op("Multiply", sin, x2))
    imag = g.op("Add", g.op("Multiply", sin, x1), g.op("Multiply", cos, x2))
    if interleaved:
        pairs = g.op("Concat", g.op("Unsqueeze", real, g.i64([4])), g.op("Unsqueeze", imag, g.i64([4])), axis=4)
        rotated = g.op("Reshape", pairs, g.i64([0, 0, 0, rdim]), special_zero=True)
    else:
        rotated = g.op("Concat", real, imag, axis=3)
    if partial:
        rotated = g.op("Concat", rotated, cut(rdim, np.iinfo(np.int64).max), axis=3)
    if rank == 3:
        rotated = g.op("Reshape", rotated, g.i64([0, 0, -1]), special_zero=True)
    return rotated


# ----------------------------------------------------------------------------- LinearAttention
_MAX_UNROLL = 1024


@onnx_ops.op("LinearAttention", since=27)
def linear_attention(g, query, key, value, past_state=None, decay=None, beta=None, *, chunk_size=64,
                     kv_num_heads=None, q_num_heads=None, scale=0.0, update_rule="gated_delta"):
    """Recurrent linear attention, unrolled over a static sequence length T, computed in f32.

    Per step t with the state S [B, Hkv, Dk, Dv] (``past_state`` or zeros):
    gated rules decay it, ``S *= exp(decay_t)`` (per head or per key feature); delta rules replace
    v_t by ``beta_t * (v_t - k_t S)``; then ``S += k_t^T v_t`` and ``out_t = scale * q_t S`` with
    each KV head serving ``q_num_heads / kv_num_heads`` query heads. Returns (output [B, T, Hq*Dv],
    present_state). ``chunk_size`` is a kernel tuning hint without effect on the numbers.
    """
    first = len(g.graph.nodes)
    if update_rule not in ("linear", "gated", "delta", "gated_delta"):
        raise ValueError(f"LinearAttention update_rule {update_rule!r} is not linear, gated, delta or gated_delta")
    if not q_num_heads or not kv_num_heads or q_num_heads % kv_num_heads:
        raise ValueError("LinearAttention needs q_num_heads a positive multiple of kv_num_heads")
    gating, delta = update_rule in ("gated", "gated_delta"), update_rule in ("delta", "gated_delta")
    if gating != (decay is not None):
        raise ValueError(f"update_rule {update_rule!r} {'needs' if gating else 'forbids'} the decay input")
    if delta != (beta is not None):
        raise ValueError(f"update_rule {update_rule!r} {'needs' if delta else 'forbids'} the beta input")
    for name, x in (("query", query), ("key", key), ("value", value)):
        if x.rank != 3 or x.shape[-1] < 0:
            raise ValueError(f"LinearAttention {name} must be [B, T, H*D] with a static last dim")
    t_len = _static_dim(query, 1)
    if t_len is None or t_len > _MAX_UNROLL:
        raise ValueError(f"LinearAttention needs a static sequence length of at most {_MAX_UNROLL} "
                         "(mo unrolls the recurrence); give one with --input_shape")
    dk, dv = query.shape[-1] // q_num_heads, value.shape[-1] // kv_num_heads
    group = q_num_heads // kv_num_heads

    def f32(x: Value) -> Value:
        return x if x.etype == "f32" else g.op("Convert", x, destination_type="f32")

    q4 = _split_heads(g, f32(query), q_num_heads)          # [B, Hq, T, Dk]
    k4 = _split_heads(g, f32(key), kv_num_heads)           # [B, Hkv, T, Dk]
    v4 = _split_heads(g, f32(value), kv_num_heads)         # [B, Hkv, T, Dv]
    if gating:
        last = _static_dim(decay, -1)
        if last == kv_num_heads:
            dec = g.op("Transpose", g.op("Unsqueeze", f32(decay), g.i64([3])), g.i64([0, 2, 3, 1]))  # [B, H, 1, T]
        elif last == kv_num_heads * dk:
            dec = g.op("Transpose", _split_heads(g, f32(decay), kv_num_heads), g.i64([0, 1, 3, 2]))  # [B, H, Dk, T]
        else:
            raise ValueError(f"LinearAttention decay last dim {last} is neither kv_num_heads nor kv_num_heads*d_k")
        dec = g.op("Exp", dec)
    if delta:
        if _static_dim(beta, -1) not in (kv_num_heads, 1):
            raise ValueError("LinearAttention beta last dim must be kv_num_heads or 1")
        bet = g.op("Transpose", g.op("Unsqueeze", f32(beta), g.i64([3])), g.i64([0, 2, 1, 3]))        # [B, Hb, T, 1]

    if past_state is not None:
        state = f32(past_state)
        state_et = past_state.etype
    else:
        zeros = g.op("Broadcast", g.const(np.float32(0)),
                     g.op("Concat", _dims(g, query, [0]), g.i64([kv_num_heads, dk, dv]), axis=0), mode="numpy")
        state = zeros
        state_et = query.etype

    def steps(x: Value, axis: int) -> tuple[Value, ...]:
        """The T one-step slices of ``x`` along ``axis``."""
        if t_len == 1:
            return (x,)
        return tuple(g.op_outputs("Split", x, g.i64(axis), num_splits=t_len))

    q_s, k_s, v_s = steps(q4, 2), steps(k4, 2), steps(v4, 2)                       # [B, H, 1, D] each
    dec_s = steps(dec, 3) if gating else ()
    bet_s = steps(bet, 2) if delta else ()
    outs = []
    for t in range(t_len):
        k_t, v_t = k_s[t], v_s[t]
        if gating:
            state = g.op("Multiply", state, dec_s[t])
        if delta:
            retrieved = g.op("MatMul", k_t, state, transpose_a=False, transpose_b=False)
            v_t = g.op("Multiply", bet_s[t], g.op("Subtract", v_t, retrieved))
        state = g.op("Add", state, g.op("MatMul", k_t, v_t, transpose_a=True, transpose_b=False))
        read = _repeat_heads(g, state, group) if group > 1 else state
        outs.append(g.op("MatMul", q_s[t], read, transpose_a=False, transpose_b=False))  # [B, Hq, 1, Dv]
    out = g.op("Concat", *outs, axis=2) if len(outs) > 1 else outs[0]
    s = float(scale) if scale else 1.0 / float(np.sqrt(dk))
    out = g.op("Multiply", out, g.const(np.float32(s)))
    out = g.op("Reshape", g.op("Transpose", out, g.i64([0, 2, 1, 3])), g.i64([0, 0, -1]), special_zero=True)
    if query.etype != "f32":
        out = g.op("Convert", out, destination_type=query.etype)
    if state_et != "f32":
        state = g.op("Convert", state, destination_type=state_et)
    _mark_precise(g, first)
    return out, state


# ----------------------------------------------------------------------------- FlexAttention
def _inline_modifier(g, body, x: Value, what: str) -> Value:
    """Convert a one-input, one-output ONNX subgraph applied to ``x``; returns its output.

    The subgraph's nodes go through the same converters as the main graph; names it reads from
    the enclosing graph are not available here and give a clear error.
    """
    import os

    from ..loader import tensor_from_proto

    if len(body.input) != 1 or len(body.output) != 1:
        raise ValueError(f"FlexAttention {what} must have one input and one output")
    saved = (g.node, g.opset, g.num_outputs, g.output_names, g.name_hint, g.meta)
    base_dir = os.path.dirname(os.path.abspath(g.path)) if g.path else ""
    values: dict[str, Value] = {body.input[0].name: x}
    for t in body.initializer:
        values[t.name] = g.const_tensor(tensor_from_proto(t, base_dir, g.path))
    try:
        for n in body.node:
            dom = "" if n.domain in ("", "ai.onnx") else n.domain
            if g.lookup(n.op_type, dom) is None:
                raise ValueError(f"{what} uses {n.op_type}, which mo cannot convert")
            missing = [i for i in n.input if i and i not in values]
            if missing:
                raise ValueError(f"{what} reads {missing[0]!r} from the enclosing graph; mo inlines only "
                                 "self-contained modifiers")
            g.convert_node(n, values, base_dir)
    finally:
        g.node, g.opset, g.num_outputs, g.output_names, g.name_hint, g.meta = saved
    out = values.get(body.output[0].name)
    if out is None:
        raise ValueError(f"FlexAttention {what} does not produce its output {body.output[0].name!r}")
    return out


@onnx_ops.op("FlexAttention", since=1, domain="ai.onnx.preview")
def flex_attention(g, q, k, v, *, scale=None, score_mod=None, prob_mod=None, softmax_precision=None):
    """ai.onnx.preview FlexAttention-1: softmax(score_mod(sqrt(s)Q . sqrt(s)K^T)) -> prob_mod -> @ V.

    Q/K/V are [B, H, S, D]; each KV head serves a contiguous group of query heads. The scores,
    probabilities and the product with V are computed in ``softmax_precision`` (default f32,
    f64 for f64 inputs) and Y is cast back to Q's type. ``scale`` 0 or absent means 1/sqrt(D).
    """
    first = len(g.graph.nodes)
    if q.rank != 4 or k.rank != 4 or v.rank != 4:
        raise ValueError("FlexAttention needs rank-4 Q, K and V")
    hq, hkv = _static_dim(q, 1), _static_dim(k, 1)
    if hq is not None and hkv is not None and hq != hkv:
        if hq % hkv:
            raise ValueError(f"FlexAttention: {hq} query heads are not a multiple of {hkv} KV heads")
        k, v = _repeat_heads(g, k, hq // hkv), _repeat_heads(g, v, hq // hkv)
    if scale:
        s: Any = _fconst(g, float(np.sqrt(scale)), q)
    elif _static_dim(q, 3) is not None:
        s = _fconst(g, float(np.sqrt(1.0 / np.sqrt(_static_dim(q, 3)))), q)
    else:
        s = g.op("Power", g.op("ConvertLike", _dim(g, q, 3), q), _fconst(g, -0.25, q))
    scores = g.op("MatMul", g.op("Multiply", q, s), g.op("Multiply", k, s), transpose_a=False, transpose_b=True)
    sm_et = _softmax_etype(softmax_precision, q) if softmax_precision is not None else \
        ("f64" if q.etype == "f64" else "f32")
    if scores.etype != sm_et:
        scores = g.op("Convert", scores, destination_type=sm_et)
    if score_mod is not None:
        scores = _inline_modifier(g, score_mod, scores, "score_mod")
    probs = g.op("SoftMax", scores, axis=-1)
    if prob_mod is not None:
        probs = _inline_modifier(g, prob_mod, probs, "prob_mod")
    if v.etype != sm_et:
        v = g.op("Convert", v, destination_type=sm_et)
    y = g.op("MatMul", probs, v, transpose_a=False, transpose_b=False)
    if y.etype != q.etype:
        y = g.op("Convert", y, destination_type=q.etype)
    _mark_precise(g, first)
    return y
