"""Caffe layers that move, combine or reduce data: Concat, Slice, Flatten, Reshape, Permute,
Softmax, Crop, ArgMax, Reduction, Tile, Interp, ShuffleChannel."""
from __future__ import annotations

import numpy as np

from mo.errors import ConversionError

from ..context import caffe_ops


def _axis_or_dim(p, axis_field: str, dim_field: str) -> int:
    """The axis, or the deprecated ``*_dim`` alias when only that is given."""
    if not p.HasField(axis_field) and p.HasField(dim_field):
        return int(getattr(p, dim_field))
    return int(getattr(p, axis_field))


@caffe_ops.op("Concat")
def concat(g, *xs):
    a = g.axis(_axis_or_dim(g.p, "axis", "concat_dim"), g.rank(xs[0]))
    if len(xs) == 1:
        return xs[0]
    return g.op("Concat", *xs, axis=a)


@caffe_ops.op("Slice")
def slice_(g, x):
    """Split along axis at slice_point (or into equal parts, one per top)."""
    p = g.p
    shape = g.static_shape(x)
    a = g.axis(_axis_or_dim(p, "axis", "slice_dim"), len(shape))
    n = len(g.layer.tops)
    points = [int(v) for v in p.slice_point]
    if points:
        if len(points) != n - 1:
            raise ConversionError(f"{len(points)} slice_point(s) for {n} tops")
        edges = [0, *points, shape[a]]
        lengths = [e - b for b, e in zip(edges, edges[1:])]
        if any(v <= 0 for v in lengths):
            raise ConversionError(f"slice points {points} do not increase within the axis size {shape[a]}")
        outs = g.op("VariadicSplit", x, g.i64(a), g.i64(lengths))
    else:
        if shape[a] % n:
            raise ConversionError(f"axis size {shape[a]} does not split into {n} equal tops")
        outs = g.op("Split", x, g.i64(a), num_splits=n)
    return outs if isinstance(outs, tuple) else (outs,)


@caffe_ops.op("Flatten")
def flatten(g, x):
    """Merge axes [axis, end_axis] into one."""
    p = g.p
    shape = g.static_shape(x)
    r = len(shape)
    a, e = g.axis(p.axis, r), g.axis(p.end_axis, r)
    target = list(shape[:a]) + [int(np.prod(shape[a:e + 1], dtype=np.int64))] + list(shape[e + 1:])
    return g.op("Reshape", x, g.i64([0] * a + target[a:]), special_zero=True)


@caffe_ops.op("Reshape")
def reshape(g, x):
    """Caffe's reshape of axes [axis, axis + num_axes): 0 copies the input dim, -1 is inferred."""
    p = g.p
    shape = g.static_shape(x)
    r = len(shape)
    start = p.axis + r + 1 if p.axis < 0 else p.axis
    if not 0 <= start <= r:
        raise ConversionError(f"reshape axis {p.axis} is out of range for a {r}-D input")
    end = r if p.num_axes == -1 else start + p.num_axes
    if end > r or p.num_axes < -1:
        raise ConversionError(f"reshape num_axes {p.num_axes} from axis {p.axis} exceeds {r} dims")
    dims = [int(d) for d in p.shape.dim]
    mid = []
    for i, d in enumerate(dims):
        if d == 0:
            if start + i >= r:
                raise ConversionError(f"dim {i} is 0 (copy) but the input has no axis {start + i}")
            mid.append(shape[start + i])
        else:
            mid.append(d)
    target = list(shape[:start]) + mid + list(shape[end:])
    if target.count(-1) > 1:
        raise ConversionError("more than one -1 in the reshape dims")
    if -1 in target:
        known = int(np.prod([d for d in target if d != -1], dtype=np.int64))
        total = int(np.prod(shape, dtype=np.int64))
        if known == 0 or total % known:
            raise ConversionError(f"cannot reshape {list(shape)} to {target}")
        target[target.index(-1)] = total // known
    if int(np.prod(target, dtype=np.int64)) != int(np.prod(shape, dtype=np.int64)):
        raise ConversionError(f"cannot reshape {list(shape)} ({int(np.prod(shape))} values) to {target}")
    # the batch dim stays a copy, so the IR keeps working when the batch is changed
    return g.op("Reshape", x, g.i64([0] + target[1:] if start > 0 else target), special_zero=start > 0)


@caffe_ops.op("Permute")
def permute(g, x):
    """Transpose; axes missing from ``order`` follow in their original order."""
    r = g.rank(x)
    order = [int(v) for v in g.p.order]
    if len(set(order)) != len(order) or any(not 0 <= v < r for v in order):
        raise ConversionError(f"permute order {order} is not a permutation of the {r} axes")
    order += [i for i in range(r) if i not in order]
    return g.op("Transpose", x, g.i64(order))


@caffe_ops.op("Softmax")
def softmax(g, x):
    return g.op("SoftMax", x, axis=g.axis(g.p.axis, g.rank(x)))


@caffe_ops.op("Crop")
def crop(g, x, ref):
    """Crop x to ref's shape on the axes from ``axis`` on, starting at ``offset``."""
    p = g.p
    xs, rs = g.static_shape(x), g.static_shape(ref, "reference bottom")
    r = len(xs)
    a = g.axis(p.axis, r)
    offs = [int(v) for v in p.offset]
    n = r - a
    if len(offs) == 0:
        offs = [0] * n
    elif len(offs) == 1:
        offs = offs * n
    elif len(offs) != n:
        raise ConversionError(f"{len(offs)} offsets for the {n} cropped axes")
    begin, end, axes = [], [], []
    for i, o in zip(range(a, r), offs):
        if o + rs[i] > xs[i]:
            raise ConversionError(f"axis {i}: offset {o} + size {rs[i]} exceeds the input's {xs[i]}")
        if o == 0 and rs[i] == xs[i]:
            continue
        begin.append(o)
        end.append(o + rs[i])
        axes.append(i)
    if not axes:
        return x
    return g.op("Slice", x, g.i64(begin), g.i64(end), g.i64([1] * len(axes)), g.i64(axes))


@caffe_ops.op("ArgMax")
def argmax(g, x):
    """Indices (as floats) of the top_k largest values along axis; without an axis, over all
    values of each sample, giving [N, 1, top_k, 1...] (or [N, 2, top_k, ...] with out_max_val:
    indices then values)."""
    p = g.p
    shape = g.static_shape(x)
    r = len(shape)
    k = int(p.top_k)
    if p.HasField("axis"):
        a = g.axis(p.axis, r)
        if k > shape[a]:
            raise ConversionError(f"top_k {k} exceeds the axis size {shape[a]}")
        vals, idx = g.op("TopK", x, g.i64(k), axis=a, mode="max", sort="value", index_element_type="i32")
        return vals if p.out_max_val else g.op("Convert", idx, destination_type="f32")
    flat = g.op("Reshape", x, g.i64([0, -1]), special_zero=True)
    total = int(np.prod(shape[1:], dtype=np.int64))
    if k > total:
        raise ConversionError(f"top_k {k} exceeds the {total} values per sample")
    vals, idx = g.op("TopK", flat, g.i64(k), axis=1, mode="max", sort="value", index_element_type="i32")
    y = g.op("Convert", idx, destination_type="f32")
    if p.out_max_val:
        y = g.op("Concat", g.op("Unsqueeze", y, g.i64(1)), g.op("Unsqueeze", vals, g.i64(1)), axis=1)
    else:
        y = g.op("Unsqueeze", y, g.i64(1))
    # [N, 1|2, top_k] -> the bottom's rank with trailing 1s
    return g.op("Reshape", y, g.i64([0, 0, k] + [1] * max(0, r - 3)), special_zero=True) if r > 3 else y


@caffe_ops.op("Reduction")
def reduction(g, x):
    """SUM, ASUM, SUMSQ or MEAN over all axes from ``axis`` on, times coeff."""
    p = g.p
    r = g.rank(x)
    a = g.axis(p.axis, r)
    axes = g.i64(list(range(a, r)))
    op = {1: "SUM", 2: "ASUM", 3: "SUMSQ", 4: "MEAN"}[p.operation]
    if op == "SUM":
        y = g.op("ReduceSum", x, axes, keep_dims=False)
    elif op == "ASUM":
        y = g.op("ReduceL1", x, axes, keep_dims=False)
    elif op == "SUMSQ":
        y = g.op("ReduceSum", g.op("Multiply", x, x), axes, keep_dims=False)
    else:
        y = g.op("ReduceMean", x, axes, keep_dims=False)
    if float(p.coeff) != 1.0:
        y = g.op("Multiply", y, g.f32(float(p.coeff)))
    return y


@caffe_ops.op("Tile")
def tile(g, x):
    r = g.rank(x)
    a = g.axis(g.p.axis, r)
    reps = [1] * r
    reps[a] = int(g.p.tiles)
    return g.op("Tile", x, g.i64(reps))


def interp_size(p, h: int, w: int, ref: tuple[int, int] | None) -> tuple[int, int]:
    """Output size of the Interp layer (PSPNet/DeepLab) from its parameters."""
    he, we = h + p.pad_beg + p.pad_end, w + p.pad_beg + p.pad_end
    shrink, zoom = p.HasField("shrink_factor"), p.HasField("zoom_factor")
    if shrink and not zoom:
        return (he - 1) // p.shrink_factor + 1, (we - 1) // p.shrink_factor + 1
    if zoom and not shrink:
        return he + (he - 1) * (p.zoom_factor - 1), we + (we - 1) * (p.zoom_factor - 1)
    if p.HasField("height") and p.HasField("width"):
        return int(p.height), int(p.width)
    if shrink and zoom:
        ho, wo = (he - 1) // p.shrink_factor + 1, (we - 1) // p.shrink_factor + 1
        return ho + (ho - 1) * (p.zoom_factor - 1), wo + (wo - 1) * (p.zoom_factor - 1)
    if ref is not None:
        return ref
    raise ConversionError("Interp needs height/width, zoom_factor, shrink_factor or a second bottom")


@caffe_ops.op("Interp")
def interp(g, x, ref=None):
    """Bilinear resize with aligned corners (Caffe's Interp layer)."""
    p = g.p
    n, c, h, w = g.static_shape(x)
    if p.pad_beg or p.pad_end:
        raise ConversionError(f"Interp pad_beg/pad_end ({p.pad_beg}, {p.pad_end}) are not supported")
    rsize = tuple(g.static_shape(ref, "reference bottom")[2:4]) if ref is not None else None
    ho, wo = interp_size(p, h, w, rsize)
    if ho < 1 or wo < 1:
        raise ConversionError(f"Interp output size {ho}x{wo} is empty")
    return g.op("Interpolate", x, g.i64([ho, wo]), g.i64([2, 3]), mode="linear_onnx",
                shape_calculation_mode="sizes", coordinate_transformation_mode="align_corners")


@caffe_ops.op("ShuffleChannel")
def shuffle_channel(g, x):
    return g.op("ShuffleChannels", x, axis=1, group=int(g.p.group))
