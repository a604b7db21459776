"""ONNX indexing and shape ops: Slice, Split, Pad, Tile, Expand, Gather/Scatter families, Resize, ..."""
from __future__ import annotations

import numpy as np

from mo.graph import Value

from ..context import onnx_ops

INT64_MAX = np.iinfo(np.int64).max


# ----------------------------------------------------------------------------- helpers
def _i64(g, v: Value) -> Value:
    """``v`` as an i64 tensor (ONNX index inputs may be i32)."""
    return v if v.etype == "i64" else g.op("Convert", v, destination_type="i64")


def _ints(v: Value | None) -> list[int] | None:
    """The constant value of an index tensor as a flat list, else None."""
    if v is None:
        return None
    c = v.const_value()
    return None if c is None else [int(x) for x in np.asarray(c).reshape(-1)]


def _need_rank(x: Value, what: str) -> int:
    if x.rank is None:
        raise ValueError(f"{what} needs an input of known rank")
    return x.rank


def _norm(axis: int, rank: int) -> int:
    if not -rank <= axis < rank:
        raise ValueError(f"axis {axis} is out of range for rank {rank}")
    return axis + rank if axis < 0 else axis


def _dim(g, x: Value, axis: int) -> Value:
    """x.shape[axis] as a 1-D i64 tensor of one element."""
    if x.shape is not None and x.shape[axis] >= 0:
        return g.i64([x.shape[axis]])
    return g.op("Gather", g.op("ShapeOf", x, output_type="i64"), g.i64([axis]), g.i64(0))


def _scalar(g, v: Value) -> Value:
    """A one-element tensor reshaped to a scalar."""
    if v.shape == ():
        return v
    return g.op("Reshape", v, g.i64([]), special_zero=False)


# ----------------------------------------------------------------------------- Slice
@onnx_ops.op("Slice", since=1)
def slice_1(g, x, *, starts, ends, axes=None):
    """Slice-1: bounds as attributes, step 1."""
    ins = [g.i64(starts), g.i64(ends), g.i64([1] * len(starts))]
    if axes is not None:
        ins.append(g.i64(axes))
    return g.op("Slice", x, *ins)


@onnx_ops.op("Slice", since=10)
def slice_10(g, x, starts, ends, axes=None, steps=None):
    """Slice-10+: bounds as inputs; numpy clamping (INT64_MAX ends, negative steps) matches OpenVINO Slice-8."""
    starts, ends = _i64(g, starts), _i64(g, ends)
    if steps is None:
        if starts.is_static:
            steps = g.i64([1] * starts.shape[0])
        else:
            steps = g.op("Broadcast", g.i64(1), g.op("ShapeOf", starts, output_type="i64"), mode="numpy")
    ins = [starts, ends, _i64(g, steps)]
    if axes is not None:
        ins.append(_i64(g, axes))
    return g.op("Slice", x, *ins)


# ----------------------------------------------------------------------------- Split
def _split(g, x: Value, axis: int, split: Value | list[int] | None, n_out: int, uneven: bool = False):
    if split is not None:
        lengths = g.i64(split) if isinstance(split, list) else _i64(g, split)
        outs = g.op_outputs("VariadicSplit", x, g.i64(axis), lengths)
        return outs
    if n_out == 1:
        return x
    if uneven:
        # opset 18 num_outputs: chunks of ceil(dim / n), the last one smaller
        r = _need_rank(x, "Split")
        ax = _norm(axis, r)
        d = x.shape[ax]
        if d >= 0:
            chunk = -(-d // n_out)
            if d % n_out:
                lens = [chunk] * (n_out - 1) + [d - chunk * (n_out - 1)]
                return g.op_outputs("VariadicSplit", x, g.i64(axis), g.i64(lens))
        else:
            dim = _dim(g, x, ax)
            chunk = g.op("Divide", g.op("Add", dim, g.i64([n_out - 1])), g.i64([n_out]))
            lens = g.op("Concat", g.op("Broadcast", chunk, g.i64([n_out - 1]), mode="numpy"), g.i64([-1]), axis=0)
            return g.op_outputs("VariadicSplit", x, g.i64(axis), lens)
    return g.op_outputs("Split", x, g.i64(axis), num_splits=n_out)


@onnx_ops.op("Split", since=1)
def split_1(g, x, split_in=None, *, axis=0, split=None):
    """Split-1/2/11: lengths in the ``split`` attribute (Split-1 also takes them as input 1)."""
    if split is None and split_in is not None:
        split = split_in
    return _split(g, x, axis, split, g.num_outputs)


@onnx_ops.op("Split", since=13)
def split_13(g, x, split=None, *, axis=0):
    """Split-13: lengths as input 1; equal parts when it is absent."""
    return _split(g, x, axis, split, g.num_outputs)


@onnx_ops.op("Split", since=18)
def split_18(g, x, split=None, *, axis=0, num_outputs=None):
    """Split-18: ``num_outputs`` parts of ceil(dim / n), the last one smaller."""
    n = g.num_outputs if num_outputs is None else num_outputs
    return _split(g, x, axis, split, n, uneven=split is None)


# ----------------------------------------------------------------------------- Pad
def _pad_wrap(g, x: Value, begins: list[int], ends: list[int]) -> Value:
    """Circular padding: each axis gets its own tail in front and its head behind."""
    for ax, (b, e) in enumerate(zip(begins, ends)):
        if b == 0 and e == 0:
            continue
        d = x.shape[ax] if x.shape is not None else -1
        if b <= (d if d >= 0 else 0) and e <= (d if d >= 0 else 0) or (d < 0 and b >= 0 and e >= 0):
            parts = []
            if b > 0:
                parts.append(g.op("Slice", x, g.i64([-b]), g.i64([INT64_MAX]), g.i64([1]), g.i64([ax])))
            parts.append(x)
            if e > 0:
                parts.append(g.op("Slice", x, g.i64([0]), g.i64([e]), g.i64([1]), g.i64([ax])))
            x = g.op("Concat", *parts, axis=ax) if len(parts) > 1 else x
        else:
            if d <= 0:
                raise ValueError("Pad mode wrap wider than the dim needs a static, non-empty dim")
            k = -(-max(b, e) // d)
            reps = [1] * len(begins)
            reps[ax] = 2 * k + 1
            tiled = g.op("Tile", x, g.i64(reps))
            x = g.op("Slice", tiled, g.i64([k * d - b]), g.i64([k * d + d + e]), g.i64([1]), g.i64([ax]))
    return x


def _pad_wrap_dynamic(g, x: Value, begin: Value, end: Value) -> Value:
    """Circular padding with runtime pads, each assumed within [0, dim]."""
    shape = g.op("ShapeOf", x, output_type="i64")
    for ax in range(x.rank):
        at = g.i64([ax])
        b = g.op("Gather", begin, at, g.i64(0))
        e = g.op("Gather", end, at, g.i64(0))
        d = g.op("Gather", shape, at, g.i64(0))
        tail = g.op("Slice", x, g.op("Subtract", d, b), d, g.i64([1]), at)
        head = g.op("Slice", x, g.i64([0]), e, g.i64([1]), at)
        x = g.op("Concat", tail, x, head, axis=ax)
        shape = g.op("ShapeOf", x, output_type="i64") if ax + 1 < x.rank else shape
    return x


def _pad(g, x: Value, pads, value: Value | None, axes, mode: str) -> Value:
    r = _need_rank(x, "Pad")
    if mode not in ("constant", "reflect", "edge", "wrap"):
        raise ValueError(f"Pad mode {mode!r} is not supported (constant, reflect, edge, wrap)")
    pad_list = pads if isinstance(pads, list) else _ints(pads)
    axes_list = axes if isinstance(axes, list) or axes is None else _ints(axes)
    axes_n = [_norm(a, r) for a in axes_list] if axes_list is not None else list(range(r))
    k = len(axes_n)
    if axes is not None and axes_list is None:
        pad_list = None  # runtime axes: scatter runtime pads into full-rank vectors below
    if pad_list is not None:
        if len(pad_list) != 2 * k:
            raise ValueError(f"Pad has {len(pad_list)} pads for {k} axes")
        pb, pe = [0] * r, [0] * r
        for i, ax in enumerate(axes_n):
            pb[ax], pe[ax] = pad_list[i], pad_list[k + i]
        if mode == "wrap":
            crop = [max(0, -v) for v in pb], [max(0, -v) for v in pe]
            if any(crop[0]) or any(crop[1]):
                x = g.op("Pad", x, g.i64([-v for v in crop[0]]), g.i64([-v for v in crop[1]]),
                         g.scalar_like(0, x), pad_mode="constant")
            return _pad_wrap(g, x, [max(0, v) for v in pb], [max(0, v) for v in pe])
        begin, end = g.i64(pb), g.i64(pe)
    else:
        begin, end = g.op_outputs("Split", _i64(g, pads), g.i64(0), num_splits=2)
        if axes is not None and (axes_list is None or axes_n != list(range(r))):
            zeros = g.i64([0] * r)
            idx = g.i64(axes_n) if axes_list is not None else _i64(g, axes)
            begin = g.op("ScatterElementsUpdate", zeros, idx, begin, g.i64(0), reduction="none")
            end = g.op("ScatterElementsUpdate", zeros, idx, end, g.i64(0), reduction="none")
        if mode == "wrap":
            return _pad_wrap_dynamic(g, x, begin, end)
    if mode == "constant":
        val = g.scalar_like(0, x) if value is None else _scalar(g, value)
        return g.op("Pad", x, begin, end, val, pad_mode="constant")
    return g.op("Pad", x, begin, end, pad_mode=mode)


@onnx_ops.op("Pad", since=1)
def pad_1(g, x, *, paddings=None, pads=None, mode="constant", value=0.0):
    """Pad-1/2: pads and value as attributes."""
    p = pads if pads is not None else paddings
    if p is None:
        raise ValueError("Pad needs pads")
    return _pad(g, x, list(p), g.scalar_like(value, x), None, mode)


@onnx_ops.op("Pad", since=11)
def pad_11(g, x, pads, constant_value=None, axes=None, *, mode="constant"):
    """Pad-11+: pads, constant_value and (18+) axes as inputs; mode wrap from 19."""
    return _pad(g, x, pads, constant_value, axes, mode)


# ----------------------------------------------------------------------------- Tile / Expand / Where
@onnx_ops.op("Tile", since=1)
def tile_1(g, x, tiles, axis):
    """Tile-1: repeat ``tiles`` times along one ``axis`` (both scalar inputs)."""
    r = _need_rank(x, "Tile")
    ax = _ints(axis)
    if ax is None:
        raise ValueError("Tile-1 needs a constant axis")
    a = _norm(ax[0], r)
    reps = g.op("Concat", g.i64([1] * a), g.op("Reshape", _i64(g, tiles), g.i64([1]), special_zero=False),
                g.i64([1] * (r - a - 1)), axis=0)
    return g.op("Tile", x, reps)


@onnx_ops.op("Tile", since=6)
def tile_6(g, x, repeats):
    """Tile with constant repeats; non-constant repeats go through Broadcast (the CPU plugin's
    Tile gives wrong numbers for runtime repeats)."""
    repeats = _i64(g, repeats)
    if repeats.const_value() is not None or x.rank is None or x.rank == 0:
        return g.op("Tile", x, repeats)
    return _tile_by_broadcast(g, x, repeats)


def _tile_by_broadcast(g, x: Value, repeats: Value) -> Value:
    """[d0, d1, ..] -> [1, d0, 1, d1, ..] broadcast to [r0, d0, r1, d1, ..] -> [r0*d0, r1*d1, ..]."""
    k = x.rank
    shape = g.op("ShapeOf", x, output_type="i64")
    spread = g.op("Unsqueeze", x, g.i64(list(range(0, 2 * k, 2))))
    pairs = g.op("Concat", g.op("Unsqueeze", repeats, g.i64([1])), g.op("Unsqueeze", shape, g.i64([1])), axis=1)
    big = g.op("Broadcast", spread, g.op("Reshape", pairs, g.i64([2 * k]), special_zero=False), mode="numpy")
    return g.op("Reshape", big, g.op("Multiply", repeats, shape), special_zero=False)


@onnx_ops.op("Expand", since=8)
def expand(g, x, shape):
    """Bidirectional broadcast: the shape may have fewer dims or 1s where x is larger."""
    return g.op("Broadcast", x, _i64(g, shape), mode="bidirectional")


@onnx_ops.op("Where", since=9)
def where(g, cond, x, y):
    return g.op("Select", cond, x, y)


# ----------------------------------------------------------------------------- Range / OneHot
@onnx_ops.op("Range", since=11)
def range_(g, start, limit, delta, *, stash_type=1):
    """start + i * delta for i < max(ceil((limit - start) / delta), 0); f16/bf16 computed in f32."""
    et = start.etype
    start, limit, delta = (_scalar(g, v) for v in (start, limit, delta))
    if et in ("f16", "bf16"):
        f = [g.op("Convert", v, destination_type="f32") for v in (start, limit, delta)]
        return g.op("Convert", g.op("Range", *f, output_type="f32"), destination_type=et)
    return g.op("Range", start, limit, delta, output_type=et)


@onnx_ops.op("OneHot", since=9)
def one_hot(g, indices, depth, values, *, axis=-1):
    """values[1] where the new axis equals the index (negative indices count from the end), else values[0]."""
    if indices.etype[0] == "f":
        indices = g.op("Convert", indices, destination_type="i64")
    d = _scalar(g, depth)
    if d.etype != "i64":
        d = g.op("Convert", d, destination_type="i64")
    off = g.op("Gather", values, g.i64(0), g.i64(0))
    on = g.op("Gather", values, g.i64(1), g.i64(0))
    return g.op("OneHot", indices, d, on, off, axis=axis, negative_indices_mode="normalize")


# ----------------------------------------------------------------------------- Gather / Scatter families
@onnx_ops.op("GatherElements", since=11)
def gather_elements(g, data, indices, *, axis=0):
    return g.op("GatherElements", data, indices, axis=axis)


@onnx_ops.op("GatherND", since=11)
def gather_nd(g, data, indices, *, batch_dims=0):
    return g.op("GatherND", data, indices, batch_dims=batch_dims)


_SCATTER_REDUCTION = {"none": "none", "add": "sum", "mul": "prod", "max": "max", "min": "min"}


def _reduction(name: str) -> str:
    if name not in _SCATTER_REDUCTION:
        raise ValueError(f"scatter reduction {name!r} is not supported (none, add, mul, max, min)")
    return _SCATTER_REDUCTION[name]


@onnx_ops.op("Scatter", since=9)
def scatter(g, data, indices, updates, *, axis=0):
    """Scatter-9/10: ScatterElements without reduction."""
    return g.op("ScatterElementsUpdate", data, indices, updates, g.i64(axis), reduction="none")


@onnx_ops.op("ScatterElements", since=11)
def scatter_elements(g, data, indices, updates, *, axis=0, reduction="none"):
    return g.op("ScatterElementsUpdate", data, indices, updates, g.i64(axis), reduction=_reduction(reduction),
                use_init_val=True)


@onnx_ops.op("ScatterND", since=11)
def scatter_nd(g, data, indices, updates, *, reduction="none"):
    return g.op("ScatterNDUpdate", data, indices, updates, reduction=_reduction(reduction))


# ----------------------------------------------------------------------------- Trilu
@onnx_ops.op("Trilu", since=14)
def trilu(g, x, k=None, *, upper=1):
    """Keep x[..., i, j] where j - i >= k (upper) or j - i <= k (lower), zero elsewhere."""
    r = _need_rank(x, "Trilu")
    if r < 2:
        raise ValueError("Trilu needs an input of rank 2 or more")
    rows = g.op("Range", g.i64(0), _scalar(g, _dim(g, x, r - 2)), g.i64(1), output_type="i64")
    cols = g.op("Range", g.i64(0), _scalar(g, _dim(g, x, r - 1)), g.i64(1), output_type="i64")
    diff = g.op("Subtract", g.op("Unsqueeze", cols, g.i64([0])), g.op("Unsqueeze", rows, g.i64([1])))
    kk = g.i64(0) if k is None else _scalar(g, _i64(g, k))
    mask = g.op("GreaterEqual" if upper else "LessEqual", diff, kk)
    return g.op("Select", mask, x, g.scalar_like(0, x))


# ----------------------------------------------------------------------------- depth / space
_D2S_MODE = {"DCR": "blocks_first", "CRD": "depth_first"}


@onnx_ops.op("DepthToSpace", since=1)
def depth_to_space(g, x, *, blocksize, mode="DCR"):
    if mode not in _D2S_MODE:
        raise ValueError(f"DepthToSpace mode {mode!r} is not supported (DCR, CRD)")
    return g.op("DepthToSpace", x, mode=_D2S_MODE[mode], block_size=blocksize)


@onnx_ops.op("SpaceToDepth", since=1)
def space_to_depth(g, x, *, blocksize, mode="DCR"):
    if mode not in _D2S_MODE:
        raise ValueError(f"SpaceToDepth mode {mode!r} is not supported (DCR, CRD)")
    return g.op("SpaceToDepth", x, mode=_D2S_MODE[mode], block_size=blocksize)


# ----------------------------------------------------------------------------- data-dependent shapes
@onnx_ops.op("NonZero", since=9)
def non_zero(g, x):
    return g.op("NonZero", x, output_type="i64")


@onnx_ops.op("Compress", since=9)
def compress(g, x, condition, *, axis=None):
    """Slices of x along axis (flattened x when absent) where condition is true."""
    if axis is None:
        x = g.op("Reshape", x, g.i64([-1]), special_zero=False)
        axis = 0
    if condition.etype != "boolean":
        condition = g.op("Convert", condition, destination_type="boolean")
    idx = g.op("Squeeze", g.op("NonZero", condition, output_type="i64"), g.i64([0]))
    return g.op("Gather", x, idx, g.i64(axis), batch_dims=0)


@onnx_ops.op("ReverseSequence", since=10)
def reverse_sequence(g, x, sequence_lens, *, batch_axis=1, time_axis=0):
    return g.op("ReverseSequence", x, sequence_lens, batch_axis=batch_axis, seq_axis=time_axis)


@onnx_ops.op("Unique", since=11)
def unique(g, x, *, axis=None, sorted=1):
    """Y, first-occurrence indices, inverse indices, counts (OpenVINO Unique-10 has the same outputs)."""
    ins = [x] if axis is None else [x, g.i64(axis)]
    return g.op_outputs("Unique", *ins, sorted=bool(sorted), index_element_type="i64", count_element_type="i64")


# ----------------------------------------------------------------------------- crop / pad / col2im / grid
@onnx_ops.op("CenterCropPad", since=18)
def center_crop_pad(g, x, shape, *, axes=None):
    """Each listed axis cropped around its centre (start (d - t) // 2) or zero-padded around it
    (begin (t - d) // 2, the rest at the end) to the target size t."""
    r = _need_rank(x, "CenterCropPad")
    axes_n = [_norm(a, r) for a in axes] if axes is not None else list(range(r))
    at = g.i64(axes_n)
    d = g.op("Gather", g.op("ShapeOf", x, output_type="i64"), at, g.i64(0))
    t = _i64(g, shape)
    zero = g.i64(0)
    start = g.op("Divide", g.op("Maximum", g.op("Subtract", d, t), zero), g.i64(2))
    x = g.op("Slice", x, start, g.op("Add", start, g.op("Minimum", d, t)), g.i64([1] * len(axes_n)), at)
    extra = g.op("Maximum", g.op("Subtract", t, d), zero)
    pb = g.op("Divide", extra, g.i64(2))
    pe = g.op("Subtract", extra, pb)
    full = g.i64([0] * r)
    pb = g.op("ScatterElementsUpdate", full, at, pb, zero, reduction="none")
    pe = g.op("ScatterElementsUpdate", full, at, pe, zero, reduction="none")
    return g.op("Pad", x, pb, pe, g.scalar_like(0, x), pad_mode="constant")


@onnx_ops.op("Col2Im", since=18)
def col2im(g, x, image_shape, block_shape, *, dilations=None, pads=None, strides=None):
    """Columns summed back into a 2-D image (OpenVINO Col2Im-15 has 2-D spatial dims only)."""
    n = image_shape.shape[0] if image_shape.is_static and len(image_shape.shape) == 1 else -1
    if n != 2:
        raise ValueError(f"Col2Im with {n if n >= 0 else 'unknown'} spatial dims is not supported (2 only)")
    pads = pads or [0, 0, 0, 0]
    return g.op("Col2Im", x, _i64(g, image_shape), _i64(g, block_shape), strides=strides or [1, 1],
                dilations=dilations or [1, 1], pads_begin=pads[:2], pads_end=pads[2:])


def _grid_coords(g, n: Value, align_corners: int) -> Value:
    """Normalised f32 coordinates of n points: -1 + 2i/(n-1) (align_corners) or (2i+1)/n - 1."""
    i = g.op("Convert", g.op("Range", g.i64(0), n, g.i64(1), output_type="i64"), destination_type="f32")
    nf = g.op("Convert", n, destination_type="f32")
    one, two = g.const(np.float32(1)), g.const(np.float32(2))
    if align_corners:
        step = g.op("Divide", two, g.op("Maximum", g.op("Subtract", nf, one), one))
        return g.op("Subtract", g.op("Multiply", i, step), one)
    return g.op("Subtract", g.op("Divide", g.op("Add", g.op("Multiply", i, two), one), nf), one)


@onnx_ops.op("AffineGrid", since=20)
def affine_grid(g, theta, size, *, align_corners=0):
    """grid[n, (d,) h, w] = theta[n] @ (x_w, y_h, (z_d,) 1), coordinates normalised to [-1, 1]."""
    if not size.is_static or len(size.shape) != 1 or size.shape[0] not in (4, 5):
        raise ValueError("AffineGrid needs a size of 4 (2-D) or 5 (3-D) elements")
    k = size.shape[0] - 2
    size = _i64(g, size)
    dims = [g.op("Gather", size, g.i64(i), g.i64(0)) for i in range(size.shape[0])]
    spatial = g.op("Slice", size, g.i64([2]), g.i64([2 + k]), g.i64([1]))
    coords = []
    for j in range(k):  # x varies along the last spatial axis, then y, then z
        axis = k - 1 - j
        c = _grid_coords(g, dims[2 + axis], align_corners)
        c = g.op("Reshape", c, g.i64([-1 if a == axis else 1 for a in range(k)]), special_zero=False)
        coords.append(g.op("Broadcast", c, spatial, mode="numpy"))
    coords.append(g.op("Broadcast", g.const(np.float32(1)), spatial, mode="numpy"))
    base = g.op("Concat", *[g.op("Unsqueeze", c, g.i64([k])) for c in coords], axis=k)
    base = g.op("Reshape", base, g.i64([-1, k + 1]), special_zero=False)
    if theta.etype != "f32":
        base = g.op("Convert", base, destination_type=theta.etype)
    grid = g.op("MatMul", base, theta, transpose_a=False, transpose_b=True)
    out_shape = g.op("Concat", g.op("Slice", size, g.i64([0]), g.i64([1]), g.i64([1])), spatial, g.i64([k]), axis=0)
    return g.op("Reshape", grid, out_shape, special_zero=False)


# ----------------------------------------------------------------------------- Resize / Upsample
_RESIZE_COORD = {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn"}
_NEAREST_MODES = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil", "simple"}


def _empty(v: Value | None) -> bool:
    """An absent input or a constant with no elements (how opsets 11-12 skip scales)."""
    return v is None or (v.shape is not None and 0 in v.shape)


def _interp_mode(mode: str) -> str:
    if mode == "nearest":
        return "nearest"
    if mode == "linear":
        return "linear_onnx"
    if mode == "cubic":
        return "cubic"
    raise ValueError(f"Resize mode {mode!r} is not supported (nearest, linear, cubic)")


def _check_antialias(scales: Value | None, sizes: Value | None, x: Value, axes: list[int]) -> None:
    """ONNX antialias widens the kernel by 1/scale when downsampling; Interpolate's antialias
    gives other numbers, so only resizes known not to shrink any axis (antialias is a no-op) pass."""
    if not _empty(sizes):
        want = _ints(sizes)
        dims = [x.shape[a] for a in axes] if x.shape is not None else None
        if want is not None and dims is not None and all(d >= 0 and w >= d for w, d in zip(want, dims)):
            return
    elif not _empty(scales) and scales.const_value() is not None:
        if all(float(v) >= 1.0 for v in np.asarray(scales.const_value()).reshape(-1)):
            return
    raise ValueError("Resize antialias=1 when downsampling (or with runtime scales/sizes) is not supported: "
                     "OpenVINO Interpolate's antialias filter differs from ONNX's")


def _check_fractional_size(scales: Value | None, x: Value, axes: list[int], coord: str) -> None:
    """align_corners and pytorch_half_pixel use scale * dim unrounded in ONNX; Interpolate uses the
    whole output size, so a fractional scale * dim (when known) is refused."""
    if coord not in ("align_corners", "pytorch_half_pixel") or _empty(scales) or scales.const_value() is None:
        return
    vals = np.asarray(scales.const_value(), np.float32).reshape(-1)
    for a, sc in zip(axes, vals):
        d = x.shape[a] if x.shape is not None else -1
        if d >= 0 and float(sc) != 1.0 and abs(float(sc) * d - np.floor(float(sc) * d)) > 1e-6:
            raise ValueError(f"Resize {coord} with scale {float(sc):g} on a dim of {d} (fractional output "
                             "size) cannot be expressed with Interpolate")


def _resize(g, x: Value, scales: Value | None, sizes: Value | None, axes: list[int] | None, *, mode: str,
            coord: str, nearest_mode: str, cubic_coeff_a: float, antialias: int, policy: str) -> Value:
    r = _need_rank(x, "Resize")
    if coord not in _RESIZE_COORD:
        raise ValueError(f"Resize coordinate_transformation_mode {coord!r} is not supported "
                         f"({', '.join(sorted(_RESIZE_COORD))})")
    if nearest_mode not in _NEAREST_MODES:
        raise ValueError(f"Resize nearest_mode {nearest_mode!r} is not supported")
    axes_n = [_norm(a, r) for a in axes] if axes is not None else list(range(r))
    if antialias and mode != "nearest":
        _check_antialias(scales, sizes, x, axes_n)
    if _empty(sizes):
        _check_fractional_size(scales, x, axes_n, coord)
    attrs = dict(mode=_interp_mode(mode), coordinate_transformation_mode=coord, nearest_mode=nearest_mode,
                 antialias=False, cube_coeff=cubic_coeff_a, pads_begin=[0] * r, pads_end=[0] * r)
    if not _empty(sizes):
        sizes = _i64(g, sizes)
        if policy != "stretch":
            if policy not in ("not_larger", "not_smaller"):
                raise ValueError(f"Resize keep_aspect_ratio_policy {policy!r} is not supported")
            # one scale for all axes (min or max of sizes / dims); sizes = round_half_up(scale * dims).
            # Interpolate then maps coordinates with sizes / dims, which is ONNX's scale only when the
            # rounding is exact: checked here when the values are known, assumed otherwise.
            want = _ints(sizes)
            if want is not None and x.shape is not None and all(x.shape[a] > 0 for a in axes_n):
                dims_k = [x.shape[a] for a in axes_n]
                ratios_k = [w / d for w, d in zip(want, dims_k)]
                sc = min(ratios_k) if policy == "not_larger" else max(ratios_k)
                if any(abs(int(sc * d + 0.5) / d - sc) > 1e-6 for d in dims_k):
                    raise ValueError(f"Resize keep_aspect_ratio_policy {policy} with scale {sc:g} that does not "
                                     "give whole output sizes cannot be expressed with Interpolate")
            dims = g.op("Convert", g.op("Gather", g.op("ShapeOf", x, output_type="i64"), g.i64(axes_n), g.i64(0)),
                        destination_type="f32")
            ratios = g.op("Divide", g.op("Convert", sizes, destination_type="f32"), dims)
            scale = g.op("ReduceMin" if policy == "not_larger" else "ReduceMax", ratios, g.i64([0]), keep_dims=True)
            scaled = g.op("Add", g.op("Multiply", scale, dims), g.const(np.float32(0.5)))
            sizes = g.op("Convert", g.op("Floor", scaled), destination_type="i64")
        return g.op("Interpolate", x, sizes, g.i64(axes_n), shape_calculation_mode="sizes", **attrs)
    if _empty(scales):
        raise ValueError("Resize needs scales or sizes")
    if scales.etype != "f32":
        scales = g.op("Convert", scales, destination_type="f32")
    return g.op("Interpolate", x, scales, g.i64(axes_n), shape_calculation_mode="scales", **attrs)


@onnx_ops.op("Upsample", since=7)
def upsample_7(g, x, *, mode="nearest", scales):
    """Upsample-7: scales attribute, asymmetric coordinates, nearest rounds down."""
    return _resize(g, x, g.const(np.asarray(scales, np.float32)), None, None, mode=mode, coord="asymmetric",
                   nearest_mode="floor", cubic_coeff_a=-0.75, antialias=0, policy="stretch")


@onnx_ops.op("Upsample", since=9)
def upsample_9(g, x, scales, *, mode="nearest"):
    """Upsample-9: scales input, otherwise as Upsample-7."""
    return _resize(g, x, scales, None, None, mode=mode, coord="asymmetric", nearest_mode="floor",
                   cubic_coeff_a=-0.75, antialias=0, policy="stretch")


@onnx_ops.op("Resize", since=10)
def resize_10(g, x, scales, *, mode="nearest"):
    """Resize-10: the Upsample-9 semantics (asymmetric coordinates, nearest rounds down)."""
    return upsample_9(g, x, scales, mode=mode)


@onnx_ops.op("Resize", since=11)
def resize_11(g, x, roi=None, scales=None, sizes=None, *, mode="nearest", coordinate_transformation_mode="half_pixel",
              nearest_mode="round_prefer_floor", cubic_coeff_a=-0.75, exclude_outside=0, extrapolation_value=0.0,
              antialias=0, axes=None, keep_aspect_ratio_policy="stretch"):
    """Resize-11..19 as Interpolate-11; roi (tf_crop_and_resize), exclude_outside and
    half_pixel_symmetric have no OpenVINO counterpart and are refused."""
    if exclude_outside:
        raise ValueError("Resize exclude_outside=1 is not supported by OpenVINO Interpolate")
    if coordinate_transformation_mode == "tf_crop_and_resize":
        raise ValueError("Resize coordinate_transformation_mode tf_crop_and_resize (roi) is not supported")
    return _resize(g, x, scales, sizes, axes, mode=mode, coord=coordinate_transformation_mode,
                   nearest_mode=nearest_mode, cubic_coeff_a=cubic_coeff_a, antialias=antialias,
                   policy=keep_aspect_ratio_policy)
