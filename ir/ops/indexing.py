"""Indexing and layout ops: slicing, splitting, padding, tiling, ranges, gather/scatter, resize, ...

Shapes use ``-1`` for a dynamic dim and ``None`` for an unknown rank. Ops whose output
size depends on data values (NonZero, Unique) report those dims as dynamic.
"""
from __future__ import annotations

import numpy as np

from mo.types import to_numpy

from ..opset import OpError, op
from ..shapes import norm_axis, numel


def _ints(v) -> list[int] | None:
    """The constant value of an integer Value as a flat list, else None."""
    c = v.const_value()
    return None if c is None else [int(x) for x in np.asarray(c).reshape(-1)]


# ----------------------------------------------------------------------------- Slice
def _slice_dim(dim: int, start: int, stop: int, step: int) -> int:
    """Length of ``range(dim)[start:stop:step]`` with numpy clamping; -1 when ``dim`` is dynamic."""
    if dim < 0:
        return -1
    if step == 0:
        raise OpError("Slice step must not be zero")
    return len(range(*slice(start, stop, step).indices(dim)))


def _slice_eval(x, a):
    data, start, stop, step = x[0], x[1].reshape(-1), x[2].reshape(-1), x[3].reshape(-1)
    axes = x[4].reshape(-1) if len(x) > 4 else np.arange(len(start))
    idx = [slice(None)] * data.ndim
    for s, e, st, ax in zip(start, stop, step, axes):
        idx[int(ax) % data.ndim] = slice(int(s), int(e), int(st))
    return [data[tuple(idx)]]


@op("Slice", "opset8", inputs=(4, 5), evaluate=_slice_eval)
def slice_(ins, a):
    """data[start:stop:step] along ``axes`` (input 4, default 0..len(start)-1); numpy clamping of bounds."""
    data = ins[0]
    if data.shape is None:
        return [(data.etype, None)]
    rank = len(data.shape)
    start, stop, step = (_ints(v) for v in ins[1:4])
    axes = _ints(ins[4]) if len(ins) > 4 else (list(range(len(start))) if start is not None else
                                                 (list(range(ins[1].shape[0])) if ins[1].is_static else None))
    out = list(data.shape)
    if axes is None:
        return [(data.etype, (-1,) * rank)]
    axes = [norm_axis(ax, rank) for ax in axes]
    for k, ax in enumerate(axes):
        if start is None or stop is None or step is None:
            out[ax] = -1
        else:
            out[ax] = _slice_dim(data.shape[ax], start[k], stop[k], step[k])
    return [(data.etype, tuple(out))]


# ----------------------------------------------------------------------------- Split / VariadicSplit
def _split_eval(x, a):
    ax = int(x[1].reshape(-1)[0]) % x[0].ndim
    return list(np.split(x[0], a["num_splits"], axis=ax))


@op("Split", "opset1", {"num_splits": ("int",)}, inputs=(2, 2), evaluate=_split_eval)
def split(ins, a):
    """``num_splits`` equal parts of input 0 along the axis given by input 1."""
    data, n = ins[0], a["num_splits"]
    ax = _ints(ins[1])
    if data.shape is None or ax is None:
        return [(data.etype, None if data.shape is None else (-1,) * len(data.shape))] * n
    axis = norm_axis(ax[0], len(data.shape))
    d = data.shape[axis]
    if d >= 0 and d % n:
        raise OpError(f"dim {d} cannot be split into {n} equal parts")
    out = list(data.shape)
    out[axis] = -1 if d < 0 else d // n
    return [(data.etype, tuple(out))] * n


def _variadic_lengths(dim: int, lengths: list[int]) -> list[int]:
    if -1 in lengths:
        rest = sum(v for v in lengths if v != -1)
        lengths = [(dim - rest if dim >= 0 else -1) if v == -1 else v for v in lengths]
    return lengths


def _vsplit_eval(x, a):
    data = x[0]
    ax = int(x[1].reshape(-1)[0]) % data.ndim
    lens = _variadic_lengths(data.shape[ax], [int(v) for v in x[2].reshape(-1)])
    cuts = np.cumsum(lens)[:-1]
    return list(np.split(data, cuts, axis=ax))


def _vsplit_infer(ins, a):
    data = ins[0]
    lens = _ints(ins[2])
    n = ins[2].shape[0] if ins[2].shape is not None and len(ins[2].shape) == 1 and ins[2].shape[0] >= 0 else None
    if lens is None and n is None:
        raise OpError("VariadicSplit needs split_lengths of known length")
    count = len(lens) if lens is not None else n
    ax = _ints(ins[1])
    if data.shape is None:
        return [(data.etype, None)] * count
    if ax is None:
        return [(data.etype, (-1,) * len(data.shape))] * count
    axis = norm_axis(ax[0], len(data.shape))
    outs = []
    real = _variadic_lengths(data.shape[axis], lens) if lens is not None else [-1] * count
    for ln in real:
        s = list(data.shape)
        s[axis] = ln
        outs.append((data.etype, tuple(s)))
    return outs


op("VariadicSplit", "opset1", inputs=(3, 3), evaluate=_vsplit_eval)(_vsplit_infer)
_vsplit_infer.__doc__ = "Input 0 cut along axis (input 1) into pieces of the lengths in input 2 (one may be -1)."


# ----------------------------------------------------------------------------- Pad
def _pad_eval(x, a):
    data, pb, pe = x[0], x[1].reshape(-1), x[2].reshape(-1)
    # negative pads crop first
    idx = tuple(slice(max(0, -int(b)), data.shape[i] - max(0, -int(e)) if e < 0 else None)
                for i, (b, e) in enumerate(zip(pb, pe)))
    data = data[idx]
    widths = [(max(0, int(b)), max(0, int(e))) for b, e in zip(pb, pe)]
    mode = a["pad_mode"]
    if mode == "constant":
        val = x[3].reshape(()) if len(x) > 3 else np.zeros((), data.dtype)
        return [np.pad(data, widths, mode="constant", constant_values=val)]
    return [np.pad(data, widths, mode={"edge": "edge", "reflect": "reflect", "symmetric": "symmetric"}[mode])]


@op("Pad", "opset12", {"pad_mode": ("str", "constant")}, inputs=(3, 4), evaluate=_pad_eval)
def pad(ins, a):
    """Input 0 padded by pads_begin/pads_end (inputs 1, 2; negative values crop); ``pad_value`` (input 3)
    fills in ``constant`` mode; other modes: edge, reflect, symmetric."""
    if a["pad_mode"] not in ("constant", "edge", "reflect", "symmetric"):
        raise OpError(f"unknown pad_mode {a['pad_mode']}")
    data = ins[0]
    pb, pe = _ints(ins[1]), _ints(ins[2])
    if data.shape is None:
        n = ins[1].shape[0] if ins[1].is_static and len(ins[1].shape) == 1 else -1
        return [(data.etype, None if n < 0 else (-1,) * n)]
    if pb is None or pe is None:
        return [(data.etype, (-1,) * len(data.shape))]
    return [(data.etype, tuple(-1 if d < 0 else d + b + e for d, b, e in zip(data.shape, pb, pe)))]


# ----------------------------------------------------------------------------- Tile
def _tile_eval(x, a):
    return [np.tile(x[0], [int(v) for v in x[1].reshape(-1)])]


@op("Tile", "opset1", inputs=(2, 2), evaluate=_tile_eval)
def tile(ins, a):
    """Input 0 repeated along each axis by input 1 (the shorter of shape and repeats is padded with 1s in front)."""
    data, reps = ins[0], _ints(ins[1])
    if data.shape is None:
        return [(data.etype, None)]
    if reps is None:
        n = ins[1].shape[0] if ins[1].is_static and len(ins[1].shape) == 1 else None
        return [(data.etype, None if n is None else (-1,) * max(n, len(data.shape)))]
    r = max(len(reps), len(data.shape))
    shape = (1,) * (r - len(data.shape)) + tuple(data.shape)
    reps = [1] * (r - len(reps)) + reps
    return [(data.etype, tuple(-1 if d < 0 else d * k for d, k in zip(shape, reps)))]


# ----------------------------------------------------------------------------- Range
def _range_len(start: float, stop: float, step: float) -> int:
    if step == 0:
        raise OpError("Range step must not be zero")
    return max(int(np.ceil((stop - start) / step)), 0)


def _range_eval(x, a):
    start, stop, step = (v.reshape(()).item() for v in x)
    dt = to_numpy(a["output_type"])
    n = _range_len(start, stop, step)
    return [(start + np.arange(n, dtype=np.float64 if np.dtype(dt).kind == "f" else np.int64) * step).astype(dt)]


@op("Range", "opset4", {"output_type": ("etype",)}, inputs=(3, 3), evaluate=_range_eval)
def range_(ins, a):
    """start, start+step, ... up to stop (exclusive); max(ceil((stop-start)/step), 0) elements."""
    vals = [v.const_value() for v in ins]
    if all(v is not None for v in vals):
        return [(a["output_type"], (_range_len(*(np.asarray(v).reshape(()).item() for v in vals)),))]
    return [(a["output_type"], (-1,))]


# ----------------------------------------------------------------------------- OneHot
def _one_hot_eval(x, a):
    idx, depth, on, off = x
    d = int(depth.reshape(()))
    idx = idx.astype(np.int64)
    if a["negative_indices_mode"] == "normalize":
        idx = np.where(idx < 0, idx + d, idx)
    ax = a["axis"] % (idx.ndim + 1)
    hot = np.expand_dims(idx, ax) == np.arange(d).reshape([-1 if i == ax else 1 for i in range(idx.ndim + 1)])
    return [np.where(hot, on.reshape(()), off.reshape(()))]


@op("OneHot", "opset16", {"axis": ("int",), "negative_indices_mode": ("str", "ignore_negative")}, inputs=(4, 4),
    evaluate=_one_hot_eval)
def one_hot(ins, a):
    """on_value where the new ``axis`` (of size depth) equals the index, off_value elsewhere;
    negative indices are off (``ignore_negative``) or counted from the end (``normalize``)."""
    idx, depth = ins[0], _ints(ins[1])
    if idx.shape is None:
        return [(ins[2].etype, None)]
    r = len(idx.shape) + 1
    ax = norm_axis(a["axis"], r)
    out = list(idx.shape)
    out.insert(ax, -1 if depth is None else depth[0])
    return [(ins[2].etype, tuple(out))]


# ----------------------------------------------------------------------------- Gather/Scatter families
def _gather_elements_eval(x, a):
    data, idx = x
    ax = a["axis"] % data.ndim
    idx = np.where(idx < 0, idx + data.shape[ax], idx)
    return [np.take_along_axis(data, idx.astype(np.int64), axis=ax)]


@op("GatherElements", "opset6", {"axis": ("int",)}, inputs=(2, 2), evaluate=_gather_elements_eval)
def gather_elements(ins, a):
    """out[i][j][k] = data[i][idx[i][j][k]][k] (for axis 1); output has the indices' shape."""
    return [(ins[0].etype, ins[1].shape)]


@op("GatherND", "opset8", {"batch_dims": ("int", 0)}, inputs=(2, 2))
def gather_nd(ins, a):
    """Slices of data addressed by the last dim of indices; shape indices[:-1] + data[batch_dims + k:]."""
    data, idx = ins
    if data.shape is None or idx.shape is None or idx.shape[-1] < 0:
        return [(data.etype, None)]
    k = idx.shape[-1]
    return [(data.etype, tuple(idx.shape[:-1]) + tuple(data.shape[a["batch_dims"] + k:]))]


_REDUCTIONS = ("none", "sum", "prod", "min", "max", "mean")


@op("ScatterElementsUpdate", "opset12", {"reduction": ("str", "none"), "use_init_val": ("bool", True)},
    inputs=(4, 4))
def scatter_elements_update(ins, a):
    """data with updates written (or reduced) at the element positions given by indices along axis (input 3)."""
    if a["reduction"] not in _REDUCTIONS:
        raise OpError(f"unknown reduction {a['reduction']}")
    return [(ins[0].etype, ins[0].shape)]


@op("ScatterNDUpdate", "opset15", {"reduction": ("str", "none")}, inputs=(3, 3))
def scatter_nd_update(ins, a):
    """data with update slices written (or reduced) at the positions given by the last dim of indices."""
    if a["reduction"] not in _REDUCTIONS[:5]:
        raise OpError(f"unknown reduction {a['reduction']}")
    return [(ins[0].etype, ins[0].shape)]


# ----------------------------------------------------------------------------- depth/space
def _d2s_infer(to_space: bool):
    def infer(ins, a):
        x, b = ins[0], a["block_size"]
        if a["mode"] not in ("blocks_first", "depth_first"):
            raise OpError(f"unknown mode {a['mode']}")
        if x.shape is None:
            return [(x.etype, None)]
        n = len(x.shape) - 2
        if n < 1:
            raise OpError("needs an input of rank 3 or more")
        c = x.shape[1]
        if to_space:
            out = (x.shape[0], -1 if c < 0 else c // b ** n) + tuple(-1 if d < 0 else d * b for d in x.shape[2:])
        else:
            out = (x.shape[0], -1 if c < 0 else c * b ** n) + tuple(-1 if d < 0 else d // b for d in x.shape[2:])
        return [(x.etype, out)]
    return infer


op("DepthToSpace", "opset1", {"mode": ("str",), "block_size": ("int", 1)}, inputs=(1, 1))(_d2s_infer(True))
op("SpaceToDepth", "opset1", {"mode": ("str",), "block_size": ("int", 1)}, inputs=(1, 1))(_d2s_infer(False))


# ----------------------------------------------------------------------------- data-dependent outputs
@op("NonZero", "opset3", {"output_type": ("etype", "i64")}, inputs=(1, 1))
def non_zero(ins, a):
    """Indices of the non-zero elements, shape [rank, count]."""
    r = ins[0].rank
    return [(a["output_type"], (-1 if r is None else r, -1))]


@op("ReverseSequence", "opset1", {"batch_axis": ("int", 0), "seq_axis": ("int", 1)}, inputs=(2, 2))
def reverse_sequence(ins, a):
    """Per batch entry b, the first seq_lengths[b] items along seq_axis reversed."""
    return [(ins[0].etype, ins[0].shape)]


@op("Unique", "opset10", {"sorted": ("bool", True), "index_element_type": ("etype", "i64"),
                          "count_element_type": ("etype", "i64")}, inputs=(1, 2))
def unique(ins, a):
    """Unique elements (or slices along axis, input 1), first-occurrence indices, inverse indices, counts."""
    x = ins[0]
    it, ct = a["index_element_type"], a["count_element_type"]
    if len(ins) == 1 or x.shape is None:
        n = numel(x.shape) if len(ins) == 1 else -1
        return [(x.etype, (-1,) if len(ins) == 1 else None), (it, (-1,)), (it, (n,)), (ct, (-1,))]
    ax = _ints(ins[1])
    if ax is None:
        return [(x.etype, (-1,) * len(x.shape)), (it, (-1,)), (it, (-1,)), (ct, (-1,))]
    axis = norm_axis(ax[0], len(x.shape))
    out = list(x.shape)
    out[axis] = -1
    return [(x.etype, tuple(out)), (it, (-1,)), (it, (x.shape[axis],)), (ct, (-1,))]


# ----------------------------------------------------------------------------- Interpolate
_INTERP_ATTRS = {
    "mode": ("str",),
    "shape_calculation_mode": ("str",),
    "coordinate_transformation_mode": ("str", "half_pixel"),
    "nearest_mode": ("str", "round_prefer_floor"),
    "antialias": ("bool", False),
    "pads_begin": ("ints", [0]),
    "pads_end": ("ints", [0]),
    "cube_coeff": ("float", -0.75),
}


@op("Interpolate", "opset11", _INTERP_ATTRS, inputs=(2, 3))
def interpolate(ins, a):
    """Resize of the ``axes`` (input 2, default all) to sizes or by scales (input 1, per
    ``shape_calculation_mode``); scales give floor(dim * scale)."""
    x = ins[0]
    if a["mode"] not in ("nearest", "linear", "linear_onnx", "cubic", "bilinear_pillow", "bicubic_pillow"):
        raise OpError(f"unknown mode {a['mode']}")
    if x.shape is None:
        return [(x.etype, None)]
    rank = len(x.shape)
    axes = _ints(ins[2]) if len(ins) > 2 else list(range(rank))
    vals = ins[1].const_value()
    pb = list(a["pads_begin"]) + [0] * rank
    pe = list(a["pads_end"]) + [0] * rank
    base = [-1 if d < 0 else d + pb[i] + pe[i] for i, d in enumerate(x.shape)]
    if axes is None:
        return [(x.etype, (-1,) * rank)]
    axes = [norm_axis(v, rank) for v in axes]
    out = list(base)
    for k, ax in enumerate(axes):
        if vals is None:
            out[ax] = -1
        elif a["shape_calculation_mode"] == "sizes":
            out[ax] = int(np.asarray(vals).reshape(-1)[k])
        else:
            s = float(np.asarray(vals, dtype=np.float32).reshape(-1)[k])
            out[ax] = -1 if base[ax] < 0 else int(np.floor(base[ax] * s + 1e-5))
    return [(x.etype, tuple(out))]


@op("Col2Im", "opset15", {"strides": ("ints", [1, 1]), "dilations": ("ints", [1, 1]),
                          "pads_begin": ("ints", [0, 0]), "pads_end": ("ints", [0, 0])}, inputs=(3, 3))
def col2im(ins, a):
    """Sliding-window columns [N, C*kh*kw, L] summed back into an image [N, C, H, W] (output_size = input 1)."""
    x, size, kernel = ins[0], _ints(ins[1]), _ints(ins[2])
    if x.shape is None:
        return [(x.etype, None)]
    batched = len(x.shape) == 3
    c = -1
    cols = x.shape[1] if batched else x.shape[0]
    if kernel is not None and cols >= 0:
        c = cols // (kernel[0] * kernel[1])
    hw = tuple(size) if size is not None else (-1, -1)
    return [(x.etype, ((x.shape[0], c) if batched else (c,)) + hw)]

