"""TF tensor ops: constants, identities, shape manipulation, slicing, reductions, padding, gathers."""
from __future__ import annotations

import numpy as np

from mo.graph import Value

from ..context import TfContext, dtype_to_etype, tf_ops


@tf_ops.op("Const")
def const(g: TfContext, *, value: np.ndarray, dtype: int | None = None) -> Value:
    if value.dtype.kind in "OSU":
        raise ValueError("string constants are not supported")
    return g.const(value if value.flags.c_contiguous else value.copy())  # 0-d stays 0-d


@tf_ops.op(["Identity", "StopGradient", "PreventGradient", "Snapshot", "CheckNumerics", "EnsureShape",
            "PlaceholderWithDefault"])
def identity(g: TfContext, x: Value) -> Value:
    """Pass-through (PlaceholderWithDefault not listed in --input takes its default)."""
    return x


@tf_ops.op("IdentityN")
def identity_n(g: TfContext, *xs: Value):
    return tuple(xs)


@tf_ops.op("Reshape")
def reshape(g: TfContext, x: Value, shape: Value) -> Value:
    return g.op("Reshape", x, shape, special_zero=False)


@tf_ops.op("Squeeze")
def squeeze(g: TfContext, x: Value, *, squeeze_dims: list | None = None) -> Value:
    """Remove the listed size-1 axes (all size-1 axes when none are listed)."""
    if squeeze_dims:
        return g.op("Squeeze", x, g.i64(squeeze_dims))
    if x.shape is not None and all(d >= 0 for d in x.shape):
        return g.op("Squeeze", x, g.i64([i for i, d in enumerate(x.shape) if d == 1]))
    return g.op("Squeeze", x)


@tf_ops.op("ExpandDims")
def expand_dims(g: TfContext, x: Value, axis: Value) -> Value:
    return g.op("Unsqueeze", x, axis)


@tf_ops.op(["ConcatV2", "Concat"])
def concat(g: TfContext, *args: Value) -> Value:
    """ConcatV2(values..., axis); Concat(axis, values...)."""
    if g.op_type == "Concat":
        axis_v, xs = args[0], args[1:]
    else:
        axis_v, xs = args[-1], args[:-1]
    axis = int(g.const_value(axis_v, "concat axis").reshape(-1)[0])
    if len(xs) == 1:
        return xs[0]
    return g.op("Concat", *xs, axis=axis)


@tf_ops.op("Pack")
def pack(g: TfContext, *xs: Value, axis: int = 0) -> Value:
    """Stack along a new axis: Unsqueeze each, then Concat."""
    rank = xs[0].rank
    if axis < 0:
        if rank is None:
            raise ValueError("Pack with a negative axis needs inputs of known rank")
        axis += rank + 1
    parts = [g.op("Unsqueeze", x, g.i64([axis])) for x in xs]
    return parts[0] if len(parts) == 1 else g.op("Concat", *parts, axis=axis)


@tf_ops.op("Unpack")
def unpack(g: TfContext, x: Value, *, num: int, axis: int = 0):
    """Split into ``num`` slices along ``axis``, the axis removed."""
    parts = g.op("Split", x, g.i64(axis), num_splits=num)
    parts = parts if isinstance(parts, tuple) else (parts,)
    return tuple(g.op("Squeeze", p, g.i64([axis])) for p in parts)


@tf_ops.op("Split")
def split(g: TfContext, axis: Value, x: Value, *, num_split: int):
    parts = g.op("Split", x, axis, num_splits=num_split)
    return parts if isinstance(parts, tuple) else (parts,)


@tf_ops.op("SplitV")
def split_v(g: TfContext, x: Value, sizes: Value, axis: Value, *, num_split: int):
    parts = g.op("VariadicSplit", x, axis, sizes)
    return parts if isinstance(parts, tuple) else (parts,)


def _mask_bits(m: int, n: int) -> list[int]:
    return [(m >> k) & 1 for k in range(n)]


@tf_ops.op("StridedSlice")
def strided_slice(g: TfContext, x: Value, begin: Value, end: Value, strides: Value, *, begin_mask: int = 0,
                  end_mask: int = 0, ellipsis_mask: int = 0, new_axis_mask: int = 0,
                  shrink_axis_mask: int = 0) -> Value:
    """TF StridedSlice: the bit masks become OpenVINO's per-entry mask lists (same meaning)."""
    n = begin.shape[0] if begin.shape else 1
    if n is None or n < 0:
        raise ValueError("StridedSlice with a begin of unknown length")
    if new_axis_mask and x.rank is not None:
        # new axes are inserted by Unsqueeze after a StridedSlice without them (the CPU plugin
        # mis-reads new_axis entries combined with shrink entries)
        bits = {k: (_mask_bits(m, n)) for k, m in (("b", begin_mask), ("e", end_mask), ("el", ellipsis_mask),
                                                     ("na", new_axis_mask), ("sh", shrink_axis_mask))}
        consumed = sum(1 for k in range(n) if not bits["na"][k] and not bits["el"][k])
        positions, keep, out_pos = [], [], 0
        for k in range(n):
            if bits["na"][k]:
                positions.append(out_pos)
                out_pos += 1
                continue
            keep.append(k)
            if bits["el"][k]:
                out_pos += x.rank - consumed
            elif not bits["sh"][k]:
                out_pos += 1
        if not keep:
            return g.op("Unsqueeze", x, g.i64(positions))
        idx = g.i64(keep)
        sub = [g.op("Gather", v, idx, g.i64(0)) for v in (begin, end, strides)]
        y = g.op("StridedSlice", x, *sub, begin_mask=[bits["b"][k] for k in keep],
                 end_mask=[bits["e"][k] for k in keep], ellipsis_mask=[bits["el"][k] for k in keep],
                 new_axis_mask=[0] * len(keep), shrink_axis_mask=[bits["sh"][k] for k in keep])
        return g.op("Unsqueeze", y, g.i64(positions))
    return g.op("StridedSlice", x, begin, end, strides, begin_mask=_mask_bits(begin_mask, n),
                end_mask=_mask_bits(end_mask, n), ellipsis_mask=_mask_bits(ellipsis_mask, n),
                new_axis_mask=_mask_bits(new_axis_mask, n), shrink_axis_mask=_mask_bits(shrink_axis_mask, n))


@tf_ops.op("Slice")
def slice_(g: TfContext, x: Value, begin: Value, size: Value) -> Value:
    """x[begin : begin + size] per axis; size -1 means to the end."""
    b = begin.const_value()
    s = size.const_value()
    if b is not None and s is not None:
        b = b.astype(np.int64).reshape(-1)
        s = s.astype(np.int64).reshape(-1)
        big = np.iinfo(np.int64).max
        stop = np.where(s < 0, big, b + s)
        return g.op("Slice", x, g.i64(b), g.i64(stop), g.i64(np.ones_like(b)), g.i64(np.arange(len(b))))
    b64 = g.op("Convert", begin, destination_type="i64")
    s64 = g.op("Convert", size, destination_type="i64")
    # size -1 -> to the end: stop = where(size < 0, INT64_MAX, begin + size)
    stop = g.op("Select", g.op("Less", s64, g.i64(0)), g.i64(np.iinfo(np.int64).max), g.op("Add", b64, s64))
    ones = g.op("Broadcast", g.i64(1), g.op("ShapeOf", b64))
    return g.op("Slice", x, b64, stop, ones)


@tf_ops.op("Shape")
def shape(g: TfContext, x: Value, *, out_type: int = 3) -> Value:
    return g.op("ShapeOf", x, output_type=dtype_to_etype(out_type))


@tf_ops.op("Size")
def size(g: TfContext, x: Value, *, out_type: int = 3) -> Value:
    return g.op("ReduceProd", g.op("ShapeOf", x, output_type=dtype_to_etype(out_type)), g.i64([0]), keep_dims=False)


@tf_ops.op("Rank")
def rank(g: TfContext, x: Value) -> Value:
    return g.op("Squeeze", g.op("ShapeOf", g.op("ShapeOf", x, output_type="i32"), output_type="i32"), g.i64([0]))


@tf_ops.op("Transpose")
def transpose(g: TfContext, x: Value, perm: Value) -> Value:
    return g.op("Transpose", x, perm)


@tf_ops.op(["Pad", "PadV2", "MirrorPad"])
def pad(g: TfContext, x: Value, paddings: Value, value: Value | None = None, *, mode: str = "CONSTANT") -> Value:
    """paddings [rank, 2] -> pads_begin, pads_end; MirrorPad REFLECT/SYMMETRIC."""
    p = paddings.const_value()
    if p is not None:
        p = p.astype(np.int64).reshape(-1, 2)
        pb, pe = g.i64(p[:, 0]), g.i64(p[:, 1])
    else:
        p64 = g.op("Convert", paddings, destination_type="i64")
        pb = g.op("Squeeze", g.op("Gather", p64, g.i64([0]), g.i64(1)), g.i64([1]))
        pe = g.op("Squeeze", g.op("Gather", p64, g.i64([1]), g.i64(1)), g.i64([1]))
    pad_mode = {"CONSTANT": "constant", "REFLECT": "reflect", "SYMMETRIC": "symmetric"}.get(mode.upper())
    if pad_mode is None:
        raise ValueError(f"pad mode {mode!r} is not supported")
    if pad_mode == "constant":
        v = value if value is not None else g.scalar_like(0, x)
        return g.op("Pad", x, pb, pe, v, pad_mode="constant")
    return g.op("Pad", x, pb, pe, pad_mode=pad_mode)


_REDUCE = {"Mean": "ReduceMean", "Sum": "ReduceSum", "Max": "ReduceMax", "Min": "ReduceMin",
           "Prod": "ReduceProd", "All": "ReduceLogicalAnd", "Any": "ReduceLogicalOr", "EuclideanNorm": "ReduceL2"}


def _reduce(ov_type: str):
    def convert(g: TfContext, x: Value, axes: Value, *, keep_dims: bool = False) -> Value:
        return g.op(ov_type, x, axes, keep_dims=keep_dims)
    convert.__doc__ = f"TF reduction -> {ov_type}"
    return convert


for _tf, _ov in _REDUCE.items():
    tf_ops.add([_tf], _reduce(_ov))


@tf_ops.op(["ArgMax", "ArgMin"])
def arg_max(g: TfContext, x: Value, axis: Value, *, output_type: int = 9) -> Value:
    """Index of the max/min along ``axis`` (TopK with k=1, the axis removed)."""
    ax = int(g.const_value(axis, "ArgMax axis").reshape(-1)[0])
    mode = "max" if g.op_type == "ArgMax" else "min"
    _, idx = g.op("TopK", x, g.i64(1), axis=ax, mode=mode, sort="none",
                  index_element_type=dtype_to_etype(output_type))
    return g.op("Squeeze", idx, g.i64([ax]))


@tf_ops.op("Fill")
def fill(g: TfContext, dims: Value, value: Value) -> Value:
    return g.op("Broadcast", value, dims)


@tf_ops.op("BroadcastTo")
def broadcast_to(g: TfContext, x: Value, shape: Value) -> Value:
    return g.op("Broadcast", x, shape)


@tf_ops.op(["ZerosLike", "OnesLike"])
def zeros_like(g: TfContext, x: Value) -> Value:
    v = g.scalar_like(0 if g.op_type == "ZerosLike" else 1, x)
    return g.op("Broadcast", v, g.op("ShapeOf", x))


@tf_ops.op("Range")
def range_(g: TfContext, start: Value, limit: Value, delta: Value, *, Tidx: int = 3) -> Value:
    return g.op("Range", start, limit, delta, output_type=dtype_to_etype(Tidx))


@tf_ops.op("Tile")
def tile(g: TfContext, x: Value, multiples: Value) -> Value:
    return g.op("Tile", x, multiples)


@tf_ops.op(["GatherV2", "Gather"])
def gather(g: TfContext, x: Value, indices: Value, axis: Value | None = None, *, batch_dims: int = 0) -> Value:
    return g.op("Gather", x, indices, axis if axis is not None else g.i64(0), batch_dims=batch_dims)


@tf_ops.op("GatherNd")
def gather_nd(g: TfContext, x: Value, indices: Value) -> Value:
    return g.op("GatherND", x, indices, batch_dims=0)


@tf_ops.op("NoOp")
def no_op(g: TfContext, *xs: Value):
    return ()
