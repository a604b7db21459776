"""Data movement: Reshape, Concat, Transpose, Squeeze, Unsqueeze, Gather."""
from __future__ import annotations

import numpy as np

from ..opset import OpError, op
from ..shapes import norm_axis, numel


def reshape_target(in_shape, pattern: list[int], special_zero: bool):
    out = []
    for i, p in enumerate(pattern):
        if p == 0 and special_zero:
            if in_shape is None or i >= len(in_shape):
                if in_shape is None:
                    out.append(-1)
                    continue
                raise OpError(f"special zero at axis {i} beyond input rank {len(in_shape)}")
            out.append(in_shape[i])
        else:
            out.append(int(p))
    if out.count(-1) > 1 and in_shape is not None and all(d >= 0 for d in in_shape):
        raise OpError(f"more than one -1 in reshape pattern {pattern}")
    if -1 in out:
        total = numel(in_shape)
        known = 1
        for d in out:
            if d != -1:
                if d < 0:
                    known = -1
                    break
                known *= d
        k = out.index(-1)
        if total >= 0 and known > 0:
            if total % known:
                raise OpError(f"cannot reshape {list(in_shape)} to {pattern}")
            out[k] = total // known
        elif total == 0:
            out[k] = 0
    elif in_shape is not None and numel(in_shape) >= 0 and all(d >= 0 for d in out):
        if numel(in_shape) != int(np.prod(out)):
            raise OpError(f"cannot reshape {list(in_shape)} to {pattern}")
    return tuple(out)


def _reshape_eval(x, a):
    tgt = reshape_target(x[0].shape, [int(v) for v in x[1].reshape(-1)], a["special_zero"])
    return [x[0].reshape(tgt)]


@op("Reshape", "opset1", {"special_zero": ("bool",)}, inputs=(2, 2), evaluate=_reshape_eval)
def reshape(ins, a):
    """New shape from input 1; -1 infers one dim, 0 copies the input dim when ``special_zero``."""
    x, s = ins
    pat = s.const_value()
    if pat is None:
        n = s.shape[0] if s.shape is not None and len(s.shape) == 1 else -1
        return [(x.etype, None if n < 0 else (-1,) * n)]
    return [(x.etype, reshape_target(x.shape, [int(v) for v in pat.reshape(-1)], a["special_zero"]))]


def _concat_eval(x, a):
    return [np.concatenate(x, axis=a["axis"])]


@op("Concat", "opset1", {"axis": ("int",)}, inputs=(1, None), evaluate=_concat_eval)
def concat(ins, a):
    """Inputs joined along ``axis``."""
    shapes = [v.shape for v in ins]
    known = [s for s in shapes if s is not None]
    if not known:
        return [(ins[0].etype, None)]
    rank = len(known[0])
    ax = norm_axis(a["axis"], rank)
    out = list(known[0])
    total = 0
    for s in shapes:
        if s is None or s[ax] < 0:
            total = -1
        elif total >= 0:
            total += s[ax]
        if s is not None:
            for i in range(rank):
                if i != ax and out[i] < 0:
                    out[i] = s[i]
    out[ax] = total
    return [(ins[0].etype, tuple(out))]


def _perm(ins):
    p = ins[1].const_value()
    rank = ins[0].rank
    if p is None:
        return None
    p = [int(v) for v in p.reshape(-1)]
    if not p and rank is not None:
        p = list(range(rank))[::-1]
    return p


@op("Transpose", "opset1", inputs=(2, 2),
    evaluate=lambda x, a: [np.transpose(x[0], [int(v) for v in x[1]] if x[1].size else None)])
def transpose(ins, a):
    """Axes permuted by input 1 (empty: reversed)."""
    p = _perm(ins)
    if ins[0].shape is None:
        return [(ins[0].etype, None)]
    if p is None:
        return [(ins[0].etype, (-1,) * len(ins[0].shape))]
    return [(ins[0].etype, tuple(ins[0].shape[i] for i in p))]


def _axes(v, rank):
    val = v.const_value()
    if val is None:
        return None
    return sorted({norm_axis(int(x), rank) for x in val.reshape(-1)})


def _squeeze_eval(x, a):
    if len(x) == 1:
        return [np.squeeze(x[0])]
    axes = tuple(sorted({int(v) % x[0].ndim for v in x[1].reshape(-1)}))
    axes = tuple(ax for ax in axes if x[0].shape[ax] == 1)
    return [np.squeeze(x[0], axis=axes)]


@op("Squeeze", "opset1", inputs=(1, 2), evaluate=_squeeze_eval)
def squeeze(ins, a):
    """Size-1 axes removed: those listed in input 1, or all when it is absent."""
    x = ins[0]
    if x.shape is None:
        return [(x.etype, None)]
    if len(ins) == 1:
        if any(d < 0 for d in x.shape):
            return [(x.etype, None)]
        return [(x.etype, tuple(d for d in x.shape if d != 1))]
    axes = _axes(ins[1], len(x.shape))
    if axes is None:
        return [(x.etype, None)]
    return [(x.etype, tuple(d for i, d in enumerate(x.shape) if i not in axes or d not in (1, -1)))]


def _unsqueeze_shape(shape, axes_val):
    rank = len(shape) + len(axes_val)
    axes = sorted({norm_axis(int(v), rank) for v in axes_val})
    out = list(shape)
    for ax in axes:
        out.insert(ax, 1)
    return tuple(out)


@op("Unsqueeze", "opset1", inputs=(2, 2),
    evaluate=lambda x, a: [x[0].reshape(_unsqueeze_shape(x[0].shape, x[1].reshape(-1)))])
def unsqueeze(ins, a):
    """Size-1 axes inserted at the positions listed in input 1 (positions in the output)."""
    x = ins[0]
    val = ins[1].const_value()
    if x.shape is None or val is None:
        return [(x.etype, None)]
    return [(x.etype, _unsqueeze_shape(x.shape, val.reshape(-1)))]


def _gather_eval(x, a):
    data, idx, axis = x
    ax = int(axis.reshape(-1)[0]) % data.ndim
    bd = a["batch_dims"] % (idx.ndim + 1) if a["batch_dims"] < 0 else a["batch_dims"]
    idx = np.where(idx < 0, idx + data.shape[ax], idx)
    if bd == 0:
        return [np.take(data, idx, axis=ax)]
    # batched gather: loop over the leading batch dims
    bshape = data.shape[:bd]
    out = [np.take(data[b], idx[b], axis=ax - bd) for b in np.ndindex(*bshape)]
    res = np.stack(out).reshape(bshape + out[0].shape) if out else np.zeros(bshape, data.dtype)
    return [res]


@op("Gather", "opset8", {"batch_dims": ("int", 0)}, inputs=(3, 3), evaluate=_gather_eval)
def gather(ins, a):
    """Slices of input 0 along axis (input 2) picked by indices (input 1); negative indices count from the end."""
    data, idx, axis = ins
    av = axis.const_value()
    if data.shape is None or idx.shape is None or av is None:
        return [(data.etype, None)]
    ax = norm_axis(int(av.reshape(-1)[0]), len(data.shape))
    bd = a["batch_dims"]
    if bd < 0:
        bd += len(idx.shape)
    return [(data.etype, tuple(data.shape[:ax]) + tuple(idx.shape[bd:]) + tuple(data.shape[ax + 1:]))]


def _broadcast_eval(x, a):
    data, target = x[0], [int(v) for v in x[1].reshape(-1)]
    if a["mode"] == "bidirectional":
        return [data * np.ones(target, dtype=data.dtype) if data.dtype != bool
                else np.logical_and(data, np.ones(target, dtype=bool))]
    return [np.broadcast_to(data, target).copy()]


@op("Broadcast", "opset3", {"mode": ("str", "numpy")}, inputs=(2, 3), evaluate=_broadcast_eval)
def broadcast_(ins, a):
    """Input 0 broadcast to the shape given by input 1 (``numpy`` or ``bidirectional`` rules)."""
    from ..shapes import broadcast as bc
    x, t = ins[0], ins[1]
    tv = t.const_value()
    if tv is None:
        n = t.shape[0] if t.shape is not None and len(t.shape) == 1 else -1
        if n < 0:
            return [(x.etype, None)]
        if a["mode"] == "bidirectional" and x.shape is not None:
            return [(x.etype, (-1,) * max(n, len(x.shape)))]
        return [(x.etype, (-1,) * n)]
    target = tuple(int(v) for v in tv.reshape(-1))
    if a["mode"] == "bidirectional":
        return [(x.etype, bc(x.shape, target))]
    return [(x.etype, target)]
