"""Ops the TensorFlow frontend needs that no other family declares yet: StridedSlice, VariadicSplit,
SpaceToBatch, BatchToSpace, Bucketize.

They belong to the indexing family; they are declared here only when ``indexing.py``
does not declare them (this module is imported last), so a later declaration there wins.
"""
from __future__ import annotations

import numpy as np

from mo.types import to_numpy

from ..opset import OPS, OpError, op
from ..shapes import norm_axis

_SS_ATTRS = {"begin_mask": ("ints", []), "end_mask": ("ints", []), "new_axis_mask": ("ints", []),
             "shrink_axis_mask": ("ints", []), "ellipsis_mask": ("ints", [])}


def strided_slice_index(rank: int, begin, end, stride, a) -> tuple:
    """The numpy index tuple of a StridedSlice with TF mask semantics.

    Per entry k of begin/end/stride: ``ellipsis_mask[k]`` expands to the axes not named
    by other entries, ``new_axis_mask[k]`` inserts a size-1 axis, ``shrink_axis_mask[k]``
    picks index ``begin[k]`` (the axis disappears), ``begin_mask[k]``/``end_mask[k]`` set
    ignore the given bound (the slice starts/ends at the axis' edge).
    """
    def bit(name, k):
        m = a[name]
        return k < len(m) and m[k] == 1

    n = len(begin)
    items: list = []
    for k in range(n):
        if bit("ellipsis_mask", k):
            items.append(Ellipsis)
        elif bit("new_axis_mask", k):
            items.append(None)
        elif bit("shrink_axis_mask", k):
            items.append(int(begin[k]))
        else:
            b = None if bit("begin_mask", k) else int(begin[k])
            e = None if bit("end_mask", k) else int(end[k])
            s = int(stride[k]) if stride is not None else 1
            if s == 0:
                raise OpError("StridedSlice stride 0")
            items.append(slice(b, e, s))
    return tuple(items)


def _strided_slice_eval(x, a):
    stride = x[3] if len(x) > 3 else np.ones_like(x[1])
    idx = strided_slice_index(x[0].ndim, x[1].reshape(-1), x[2].reshape(-1), stride.reshape(-1), a)
    return [np.array(x[0][idx])]


def _probe_shape(shape, idx) -> tuple[int, ...]:
    """Result shape of indexing an array of ``shape`` by ``idx`` without touching data."""
    base = np.lib.stride_tricks.as_strided(np.zeros(1, np.int8), shape=shape, strides=(0,) * len(shape))
    return tuple(base[idx].shape)


if "StridedSlice" not in OPS:
    @op("StridedSlice", "opset1", _SS_ATTRS, inputs=(3, 4), evaluate=_strided_slice_eval)
    def strided_slice(ins, a):
        """data[begin:end:stride] with TF-style per-entry masks (see ``strided_slice_index``)."""
        data = ins[0]
        b, e = ins[1].const_value(), ins[2].const_value()
        s = ins[3].const_value() if len(ins) > 3 else (None if b is None else np.ones_like(b))
        if data.shape is None:
            return [(data.etype, None)]
        if b is None or e is None or s is None:
            n_new = sum(a["new_axis_mask"]) - sum(a["shrink_axis_mask"])
            if a["ellipsis_mask"] and any(a["ellipsis_mask"]):
                return [(data.etype, None)]
            return [(data.etype, (-1,) * (len(data.shape) + n_new))]
        idx = strided_slice_index(len(data.shape), b.reshape(-1), e.reshape(-1), s.reshape(-1), a)
        # dynamic dims: probe with two different sizes, dims that change are dynamic
        lo = tuple(1 if d < 0 else d for d in data.shape)
        hi = tuple(1000003 if d < 0 else d for d in data.shape)
        try:
            r1, r2 = _probe_shape(lo, idx), _probe_shape(hi, idx)
        except IndexError as err:
            raise OpError(f"StridedSlice index out of range: {err}") from None
        return [(data.etype, tuple(d1 if d1 == d2 else -1 for d1, d2 in zip(r1, r2)))]


def _variadic_split_eval(x, a):
    data, axis, lengths = x
    ax = norm_axis(int(axis.reshape(-1)[0]), data.ndim)
    ln = [int(v) for v in lengths.reshape(-1)]
    if -1 in ln:
        ln[ln.index(-1)] = data.shape[ax] - (sum(ln) + 1)
    cuts = np.cumsum(ln)[:-1]
    return list(np.split(data, cuts, axis=ax))


if "VariadicSplit" not in OPS:
    @op("VariadicSplit", "opset1", inputs=(3, 3), evaluate=_variadic_split_eval)
    def variadic_split(ins, a):
        """Parts of input 0 along axis (input 1) of the lengths in input 2 (one -1: the rest)."""
        data, axis_v, len_v = ins
        lengths = len_v.const_value()
        axis = axis_v.const_value()
        if lengths is None:
            raise OpError("VariadicSplit needs constant split lengths")
        ln = [int(v) for v in lengths.reshape(-1)]
        if data.shape is None or axis is None:
            return [(data.etype, None)] * len(ln)
        ax = norm_axis(int(axis.reshape(-1)[0]), len(data.shape))
        d = data.shape[ax]
        if -1 in ln:
            ln[ln.index(-1)] = -1 if d < 0 else d - (sum(ln) + 1)
        outs = []
        for n in ln:
            sh = list(data.shape)
            sh[ax] = n
            outs.append((data.etype, tuple(sh)))
        return outs


def _block_args(ins) -> tuple | None:
    """Constant block_shape, crops/pads begin and end of SpaceToBatch/BatchToSpace, or None."""
    vals = [v.const_value() for v in ins[1:4]]
    if any(v is None for v in vals):
        return None
    return tuple(np.asarray(v, dtype=np.int64).reshape(-1) for v in vals)


if "SpaceToBatch" not in OPS:
    @op("SpaceToBatch", "opset2", inputs=(4, 4))
    def space_to_batch(ins, a):
        """Pad data by pads_begin/pads_end, then move blocks of block_shape from the spatial dims
        into the batch: out[0] = N * prod(block), out[i] = (d_i + pb_i + pe_i) / block_i."""
        x = ins[0]
        args = _block_args(ins)
        if x.shape is None:
            return [(x.etype, None)]
        if args is None:
            return [(x.etype, (-1,) * len(x.shape))]
        blk, pb, pe = args
        if len(blk) != len(x.shape) or blk[0] != 1:
            raise OpError("SpaceToBatch block_shape needs one entry per dim, the first 1")
        out = [-1 if x.shape[0] < 0 else x.shape[0] * int(np.prod(blk))]
        for i in range(1, len(x.shape)):
            d = x.shape[i]
            if d < 0:
                out.append(-1)
                continue
            full = d + int(pb[i]) + int(pe[i])
            if full % int(blk[i]):
                raise OpError(f"SpaceToBatch: padded dim {i} ({full}) is not a multiple of block {blk[i]}")
            out.append(full // int(blk[i]))
        return [(x.etype, tuple(out))]

if "BatchToSpace" not in OPS:
    @op("BatchToSpace", "opset2", inputs=(4, 4))
    def batch_to_space(ins, a):
        """Inverse of SpaceToBatch: out[0] = N / prod(block), out[i] = d_i * block_i - cb_i - ce_i."""
        x = ins[0]
        args = _block_args(ins)
        if x.shape is None:
            return [(x.etype, None)]
        if args is None:
            return [(x.etype, (-1,) * len(x.shape))]
        blk, cb, ce = args
        if len(blk) != len(x.shape) or blk[0] != 1:
            raise OpError("BatchToSpace block_shape needs one entry per dim, the first 1")
        p = int(np.prod(blk))
        out = [-1 if x.shape[0] < 0 else x.shape[0] // p]
        for i in range(1, len(x.shape)):
            d = x.shape[i]
            out.append(-1 if d < 0 else d * int(blk[i]) - int(cb[i]) - int(ce[i]))
        return [(x.etype, tuple(out))]


def _bucketize_eval(x, a):
    side = "left" if a["with_right_bound"] else "right"
    return [np.searchsorted(x[1], x[0], side=side).astype(to_numpy(a["output_type"]))]


if "Bucketize" not in OPS:
    @op("Bucketize", "opset3", {"output_type": ("etype", "i64"), "with_right_bound": ("bool", True)},
        inputs=(2, 2), evaluate=_bucketize_eval)
    def bucketize(ins, a):
        """Index of the bucket (sorted boundaries in input 1) of every element; with_right_bound:
        buckets are (b[i-1], b[i]], else [b[i-1], b[i])."""
        return [(a["output_type"], ins[0].shape)]


def _patch_dim(d: int, k: int, s: int, r: int, pad: str) -> int:
    """Number of patch positions along one spatial dim (TF's VALID / SAME rule)."""
    if d < 0:
        return -1
    if pad == "valid":
        k_eff = (k - 1) * r + 1
        return max(0, (d - k_eff) // s + 1)
    return -(-d // s)


if "ExtractImagePatches" not in OPS:
    @op("ExtractImagePatches", "opset3", {"sizes": ("ints",), "strides": ("ints",), "rates": ("ints",),
                                          "auto_pad": ("str", "valid")}, inputs=(1, 1))
    def extract_image_patches(ins, a):
        """Patches of sizes [kh, kw] (dilated by rates, stepped by strides) of an NCHW image as
        channels: [N, C * kh * kw, out_h, out_w]."""
        x = ins[0]
        if a["auto_pad"] not in ("valid", "same_upper", "same_lower"):
            raise OpError(f"unknown auto_pad {a['auto_pad']!r}")
        if x.shape is None:
            return [(x.etype, (-1, -1, -1, -1))]
        if len(x.shape) != 4:
            raise OpError("ExtractImagePatches needs a 4-D input")
        n, c, h, w = x.shape
        kh, kw = a["sizes"]
        ch = -1 if c < 0 else c * kh * kw
        return [(x.etype, (n, ch, _patch_dim(h, kh, a["strides"][0], a["rates"][0], a["auto_pad"]),
                           _patch_dim(w, kw, a["strides"][1], a["rates"][1], a["auto_pad"])))]

if "FakeQuantize" not in OPS:
    @op("FakeQuantize", "opset1", {"levels": ("int",), "auto_broadcast": ("str", "numpy")}, inputs=(5, 5))
    def fake_quantize(ins, a):
        """x clamped to [in_low, in_high], quantized to ``levels`` steps, mapped to [out_low, out_high]."""
        from ..shapes import broadcast
        shape = ins[0].shape
        for v in ins[1:]:
            shape = broadcast(shape, v.shape)
        return [(ins[0].etype, shape)]


if "CTCGreedyDecoderSeqLen" not in OPS:
    @op("CTCGreedyDecoderSeqLen", "opset6", {"merge_repeated": ("bool", True),
                                              "classes_index_type": ("etype", "i32"),
                                              "sequence_length_type": ("etype", "i32")}, inputs=(2, 3))
    def ctc_greedy_decoder_seq_len(ins, a):
        """Greedy CTC decoding of data[N, T, C] within sequence_length[N] (blank: input 2, default C-1):
        decoded[N, T] (class ids, padded with -1) and decoded_length[N]."""
        s = ins[0].shape
        if s is not None and len(s) != 3:
            raise OpError(f"data must be [N, T, C], got rank {len(s)}")
        n, t = (s[0], s[1]) if s is not None else (-1, -1)
        return [(a["classes_index_type"], (n, t)), (a["sequence_length_type"], (n,))]
