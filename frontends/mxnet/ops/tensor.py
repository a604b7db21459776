"""MXNet shape and data-movement ops: Reshape with its special codes, transpose, concat,
split, slicing, expand/squeeze, stack, tile, take, where, padding, resizing, cropping."""
from __future__ import annotations

import numpy as np

from mo.errors import ConversionError

from ..context import mxnet_ops


def reshape_target(dshape: tuple[int, ...], spec: tuple[int, ...], reverse: bool = False) -> list[int]:
    """The output shape of MXNet's Reshape for a static input shape.

    Codes: 0 copies the input dim, -1 is inferred, -2 copies all remaining dims, -3 merges
    the next two input dims, -4 splits one input dim into the two values that follow (one may be -1).
    ``reverse`` matches the codes to the dims from the right.
    """
    src = list(dshape)[::-1] if reverse else list(dshape)
    codes = list(spec)
    if reverse:
        # -4 takes its two following values: keep each group together while reversing
        groups, i = [], 0
        while i < len(codes):
            if codes[i] == -4:
                groups.append(codes[i:i + 3])
                i += 3
            else:
                groups.append([codes[i]])
                i += 1
        codes = []
        for grp in reversed(groups):
            codes.extend([-4, grp[2], grp[1]] if grp[0] == -4 else grp)
    out: list[int] = []
    infer = -1
    s = 0
    i = 0
    while i < len(codes):
        p = codes[i]
        if p > 0:
            out.append(p)
            s += 1
        elif p == 0:
            if s >= len(src):
                raise ValueError(f"code 0 at position {i} has no input dim to copy (input {list(dshape)})")
            out.append(src[s])
            s += 1
        elif p == -1:
            if infer >= 0:
                raise ValueError("more than one -1 in the shape")
            infer = len(out)
            out.append(1)
            s += 1
        elif p == -2:
            out.extend(src[s:])
            s = len(src)
        elif p == -3:
            if s + 1 >= len(src):
                raise ValueError(f"-3 at position {i} needs two input dims (input {list(dshape)})")
            out.append(src[s] * src[s + 1])
            s += 2
        elif p == -4:
            if i + 2 >= len(codes) or s >= len(src):
                raise ValueError("-4 needs two values after it and an input dim to split")
            d0, d1, d2 = src[s], codes[i + 1], codes[i + 2]
            if d1 == -1:
                d1 = d0 // d2
            if d2 == -1:
                d2 = d0 // d1
            if d1 * d2 != d0:
                raise ValueError(f"-4 cannot split dim {d0} into {codes[i + 1]} x {codes[i + 2]}")
            out.extend([d1, d2])
            s += 1
            i += 2
        else:
            raise ValueError(f"unknown reshape code {p}")
        i += 1
    total = int(np.prod(dshape, dtype=np.int64))
    if infer >= 0:
        rest = int(np.prod(out, dtype=np.int64))
        if rest == 0 or total % rest:
            raise ValueError(f"cannot infer -1: {total} values into {out}")
        out[infer] = total // rest
    if int(np.prod(out, dtype=np.int64)) != total:
        raise ValueError(f"cannot reshape {list(dshape)} ({total} values) into {out}")
    return out[::-1] if reverse else out


@mxnet_ops.op(["Reshape", "reshape"])
def reshape(g, x, *, shape=(), reverse=False, target_shape=(), keep_highest=False):
    if not shape and target_shape:   # pre-1.0 form: 0 in target_shape means "infer"
        shape = tuple(-1 if d == 0 else d for d in target_shape)
        if keep_highest:
            shape = (0, *shape[1:]) if len(shape) else (0,)
    spec = tuple(int(d) for d in (shape if isinstance(shape, tuple) else (shape,)))
    if x.shape is not None and all(d >= 0 for d in x.shape):
        return g.op("Reshape", x, g.i64(reshape_target(tuple(x.shape), spec, bool(reverse))), special_zero=False)
    if not reverse and all(d >= -1 for d in spec):
        return g.op("Reshape", x, g.i64(list(spec)), special_zero=True)
    raise ConversionError(f"Reshape {list(spec)} (reverse={reverse}) needs a static input shape; give --input_shape")


@mxnet_ops.op("reshape_like")
def reshape_like(g, x, like, *, lhs_begin=None, lhs_end=None, rhs_begin=None, rhs_end=None):
    if any(v is not None for v in (lhs_begin, lhs_end, rhs_begin, rhs_end)):
        raise ConversionError("reshape_like with lhs/rhs ranges is not supported")
    return g.op("Reshape", x, g.op("ShapeOf", like, output_type="i64"), special_zero=False)


@mxnet_ops.op("Flatten")
def flatten(g, x):
    return g.op("Reshape", x, g.i64([0, -1]), special_zero=True)


@mxnet_ops.op("transpose")
def transpose(g, x, *, axes=()):
    rank = g.rank(x)
    perm = [int(a) % rank for a in axes] if axes else list(range(rank))[::-1]
    return g.op("Transpose", x, g.i64(perm))


@mxnet_ops.op("SwapAxis")
def swap_axis(g, x, *, dim1=0, dim2=0):
    rank = g.rank(x)
    perm = list(range(rank))
    perm[dim1 % rank], perm[dim2 % rank] = perm[dim2 % rank], perm[dim1 % rank]
    return g.op("Transpose", x, g.i64(perm))


@mxnet_ops.op(["Concat", "concat"])
def concat(g, *xs, dim=1, num_args=None):
    return g.op("Concat", *xs, axis=int(dim))


@mxnet_ops.op(["_rnn_param_concat"])
def rnn_param_concat(g, *xs, dim=1, num_args=None):
    return g.op("Concat", *xs, axis=int(dim))


@mxnet_ops.op("stack")
def stack(g, *xs, axis=0, num_args=None):
    rank = g.rank(xs[0]) + 1
    ax = g.i64([int(axis) % rank])
    return g.op("Concat", *[g.op("Unsqueeze", x, ax) for x in xs], axis=int(axis) % rank)


@mxnet_ops.op(["SliceChannel", "split"])
def split(g, x, *, num_outputs, axis=1, squeeze_axis=False):
    outs = g.op_outputs("Split", x, g.i64(int(axis)), num_splits=int(num_outputs))
    if squeeze_axis:
        outs = tuple(g.op("Squeeze", o, g.i64([int(axis)])) for o in outs)
    return outs


@mxnet_ops.op("_split_v2")
def split_v2(g, x, *, indices=(), axis=0, squeeze_axis=False, sections=0):
    if sections:
        return split(g, x, num_outputs=sections, axis=axis, squeeze_axis=squeeze_axis)
    dim = g.static_shape(x)[int(axis)]
    bounds = [int(i) for i in indices] + [dim]
    lengths = [b - a for a, b in zip(bounds[:-1], bounds[1:])]
    if bounds[0] != 0:
        lengths = [bounds[0]] + lengths
    outs = g.op_outputs("VariadicSplit", x, g.i64(int(axis)), g.i64(lengths))
    if bounds[0] != 0:
        outs = outs[1:]
    if squeeze_axis:
        outs = tuple(g.op("Squeeze", o, g.i64([int(axis)])) for o in outs)
    return outs


def _slice(g, x, begin, end, step, axes):
    return g.op("Slice", x, g.i64(begin), g.i64(end), g.i64(step), g.i64(axes))


_BIG = np.iinfo(np.int64).max


@mxnet_ops.op(["slice", "crop", "_slice"])
def slice_(g, x, *, begin, end, step=()):
    n = len(begin)
    step = list(step) if step else [None] * n
    b, e, s = [], [], []
    for i in range(n):
        st = 1 if step[i] is None else int(step[i])
        s.append(st)
        b.append((0 if st > 0 else -1) if begin[i] is None else int(begin[i]))
        e.append((_BIG if st > 0 else -_BIG) if end[i] is None else int(end[i]))
    return _slice(g, x, b, e, s, list(range(n)))


@mxnet_ops.op("slice_axis")
def slice_axis(g, x, *, axis, begin, end):
    return _slice(g, x, [int(begin)], [_BIG if end is None else int(end)], [1], [int(axis)])


@mxnet_ops.op("slice_like")
def slice_like(g, x, like, *, axes=()):
    rank = g.rank(x)
    axes = [int(a) % rank for a in axes] if axes else list(range(min(rank, g.rank(like))))
    shape = g.op("ShapeOf", like, output_type="i64")
    ends = g.op("Gather", shape, g.i64(axes), g.i64(0), batch_dims=0)
    return g.op("Slice", x, g.i64([0] * len(axes)), ends, g.i64([1] * len(axes)), g.i64(axes))


@mxnet_ops.op("expand_dims")
def expand_dims(g, x, *, axis):
    return g.op("Unsqueeze", x, g.i64([int(axis)]))


@mxnet_ops.op("squeeze")
def squeeze(g, x, *, axis=None):
    if axis is None:
        return g.op("Squeeze", x)
    axes = [int(axis)] if isinstance(axis, int) else [int(a) for a in axis]
    return g.op("Squeeze", x, g.i64(axes))


@mxnet_ops.op("tile")
def tile(g, x, *, reps):
    return g.op("Tile", x, g.i64([int(r) for r in reps]))


@mxnet_ops.op("repeat")
def repeat(g, x, *, repeats, axis=None):
    if axis is None:
        x = g.op("Reshape", x, g.i64([-1]), special_zero=False)
        axis = 0
    rank = g.rank(x)
    axis = int(axis) % rank
    shape = g.op("ShapeOf", x, output_type="i64")
    y = g.op("Unsqueeze", x, g.i64([axis + 1]))
    reps = [1] * (rank + 1)
    reps[axis + 1] = int(repeats)
    y = g.op("Tile", y, g.i64(reps))
    new_dim = g.op("Multiply", g.op("Gather", shape, g.i64([axis]), g.i64(0), batch_dims=0), g.i64([int(repeats)]))
    parts = []
    if axis > 0:
        parts.append(g.op("Slice", shape, g.i64([0]), g.i64([axis]), g.i64([1]), g.i64([0])))
    parts.append(new_dim)
    if axis + 1 < rank:
        parts.append(g.op("Slice", shape, g.i64([axis + 1]), g.i64([rank]), g.i64([1]), g.i64([0])))
    target = g.op("Concat", *parts, axis=0) if len(parts) > 1 else parts[0]
    return g.op("Reshape", y, target, special_zero=False)


@mxnet_ops.op(["reverse", "flip"])
def reverse(g, x, *, axis):
    axes = [int(axis)] if isinstance(axis, int) else [int(a) for a in axis]
    n = len(axes)
    return _slice(g, x, [-1] * n, [-_BIG] * n, [-1] * n, axes)


@mxnet_ops.op("take")
def take(g, a, indices, *, axis=0, mode="clip"):
    dim = g.static_shape(a)[int(axis)]
    i = g.op("Convert", indices, destination_type="i64") if indices.etype != "i64" else indices
    if mode == "clip":
        i = g.op("Clamp", i, min=0.0, max=float(dim - 1))
    elif mode == "wrap":
        i = g.op("FloorMod", i, g.i64(dim))
    else:
        raise ConversionError(f"mode {mode!r} is not supported (clip, wrap)")
    return g.op("Gather", a, i, g.i64(int(axis)), batch_dims=0)


@mxnet_ops.op("pick")
def pick(g, x, index, *, axis=-1, keepdims=False, mode="clip"):
    rank = g.rank(x)
    axis = int(axis) % rank
    dim = g.static_shape(x)[axis]
    i = g.op("Convert", index, destination_type="i64")
    i = g.op("Clamp", i, min=0.0, max=float(dim - 1)) if mode == "clip" else g.op("FloorMod", i, g.i64(dim))
    if g.rank(i) == rank - 1:
        i = g.op("Unsqueeze", i, g.i64([axis]))
    y = g.op("GatherElements", x, i, axis=axis)
    return y if keepdims else g.op("Squeeze", y, g.i64([axis]))


@mxnet_ops.op("where")
def where(g, cond, x, y):
    c = g.op("NotEqual", cond, g.scalar_like(0, cond))
    if g.rank(cond) == 1 and g.rank(x) > 1:   # a vector condition picks whole rows
        c = g.op("Reshape", c, g.i64([-1] + [1] * (g.rank(x) - 1)), special_zero=False)
    return g.op("Select", c, x, y)


@mxnet_ops.op("zeros_like")
def zeros_like(g, x):
    return g.op("Broadcast", g.scalar_like(0, x), g.op("ShapeOf", x, output_type="i64"))


@mxnet_ops.op("ones_like")
def ones_like(g, x):
    return g.op("Broadcast", g.scalar_like(1, x), g.op("ShapeOf", x, output_type="i64"))


def _dtype(dtype) -> np.dtype:
    try:
        return np.dtype(dtype or "float32")
    except TypeError:
        raise ConversionError(f"dtype {dtype!r} is not supported") from None


@mxnet_ops.op(["_zeros", "_ones", "_full"])
def filled(g, *, shape, dtype="float32", value=None, ctx=None):
    op = g.node.op
    v = 0.0 if op == "_zeros" else 1.0 if op == "_ones" else float(value)
    return g.const(np.full(tuple(int(d) for d in shape), v, dtype=_dtype(dtype)))


@mxnet_ops.op("_arange")
def arange(g, *, start=0.0, stop=None, step=1.0, repeat=1, infer_range=False, dtype="float32", ctx=None):
    if stop is None:
        start, stop = 0.0, start
    a = np.arange(start, stop, step, dtype=np.float64)
    if repeat != 1:
        a = np.repeat(a, int(repeat))
    return g.const(a.astype(_dtype(dtype)))


@mxnet_ops.op("shape_array")
def shape_array(g, x, *, lhs_begin=None, lhs_end=None, rhs_begin=None, rhs_end=None):
    return g.op("ShapeOf", x, output_type="i64")


@mxnet_ops.op("broadcast_to")
def broadcast_to(g, x, *, shape):
    dims = [int(d) for d in shape]
    if any(d == 0 for d in dims):  # 0 keeps the input's dim
        xs = g.static_shape(x)
        dims = [xs[i] if d == 0 else d for i, d in enumerate(dims)]
    return g.op("Broadcast", x, g.i64(dims))


@mxnet_ops.op("broadcast_like")
def broadcast_like(g, x, like, *, lhs_axes=None, rhs_axes=None):
    if lhs_axes is not None or rhs_axes is not None:
        raise ConversionError("broadcast_like with lhs_axes/rhs_axes is not supported")
    return g.op("Broadcast", x, g.op("ShapeOf", like, output_type="i64"))


@mxnet_ops.op(["broadcast_axis", "broadcast_axes"])
def broadcast_axis(g, x, *, axis=(), size=()):
    axes = [axis] if isinstance(axis, int) else list(axis)
    sizes = [size] if isinstance(size, int) else list(size)
    xs = list(g.static_shape(x))
    for a, s in zip(axes, sizes):
        xs[int(a)] = int(s)
    return g.op("Broadcast", x, g.i64(xs))


@mxnet_ops.op("Pad")
def pad(g, x, *, mode="constant", pad_width, constant_value=0.0):
    pw = [int(p) for p in pad_width]
    begin, end = pw[0::2], pw[1::2]
    ov_mode = {"constant": "constant", "edge": "edge", "reflect": "reflect"}.get(mode)
    if ov_mode is None:
        raise ConversionError(f"mode {mode!r} is not supported")
    if ov_mode == "constant":
        return g.op("Pad", x, g.i64(begin), g.i64(end), g.scalar_like(constant_value, x), pad_mode="constant")
    return g.op("Pad", x, g.i64(begin), g.i64(end), pad_mode=ov_mode)


def _resize(g, x, sizes, mode, ctm="half_pixel", nearest="floor"):
    return g.op("Interpolate", x, g.i64(sizes), g.i64([2, 3]), mode=mode, shape_calculation_mode="sizes",
                coordinate_transformation_mode=ctm, nearest_mode=nearest, antialias=False,
                pads_begin=[0, 0, 0, 0], pads_end=[0, 0, 0, 0], cube_coeff=-0.75)


@mxnet_ops.op("UpSampling")
def upsampling(g, *xs, scale, sample_type="nearest", num_filter=0, multi_input_mode="concat", num_args=1):
    s = int(scale)
    if sample_type == "nearest":
        # every input is resized to the first one's size times scale
        h, w = g.static_shape(xs[0])[2:]
        outs = [_resize(g, x, [h * s, w * s], "nearest", "asymmetric", "floor") for x in xs]
        if len(outs) == 1:
            return outs[0]
        if multi_input_mode == "sum":
            y = outs[0]
            for o in outs[1:]:
                y = g.op("Add", y, o)
            return y
        return g.op("Concat", *outs, axis=1)
    if sample_type == "bilinear":
        # a grouped transposed convolution with the (learned or bilinear-initialized) weight input
        x, w = xs[0], xs[1]
        c = g.static_shape(x)[1]
        k = 2 * s - s % 2
        p = int(np.ceil((s - 1) / 2.0))
        wg = g.op("Reshape", w, g.i64([c, 1, 1, k, k]), special_zero=False)
        return g.op("GroupConvolutionBackpropData", x, wg, strides=[s, s], dilations=[1, 1], pads_begin=[p, p],
                    pads_end=[p, p], output_padding=[0, 0])
    raise ConversionError(f"sample_type {sample_type!r} is not supported")


@mxnet_ops.op(["BilinearResize2D", "_contrib_BilinearResize2D"])
def bilinear_resize(g, x, like=None, *, height=1, width=1, scale_height=None, scale_width=None, mode="size",
                    align_corners=True):
    h, w = g.static_shape(x)[2:]
    if mode == "like" and like is not None:
        oh, ow = g.static_shape(like)[2:]
    elif scale_height is not None or scale_width is not None:
        oh = int(h * float(scale_height if scale_height is not None else 1))
        ow = int(w * float(scale_width if scale_width is not None else 1))
    elif mode == "size":
        oh, ow = int(height), int(width)
    elif mode in ("odd_scale", "to_even_down", "to_even_up", "to_odd_down", "to_odd_up"):
        raise ConversionError(f"mode {mode!r} is not supported")
    else:
        oh, ow = int(height), int(width)
    ctm = "align_corners" if align_corners else "half_pixel"
    return _resize(g, x, [oh, ow], "linear", ctm)


@mxnet_ops.op("Crop")
def crop(g, x, like=None, *, num_args=1, offset=(0, 0), h_w=(0, 0), center_crop=False):
    h, w = g.static_shape(x)[2:]
    if like is not None:
        oh, ow = g.static_shape(like)[2:]
    else:
        oh, ow = int(h_w[0]), int(h_w[1])
    if center_crop:
        oy, ox = (h - oh) // 2, (w - ow) // 2
    else:
        oy, ox = int(offset[0]), int(offset[1])
    return _slice(g, x, [oy, ox], [oy + oh, ox + ow], [1, 1], [2, 3])


@mxnet_ops.op("depth_to_space")
def depth_to_space(g, x, *, block_size):
    return g.op("DepthToSpace", x, block_size=int(block_size), mode="blocks_first")


@mxnet_ops.op("space_to_depth")
def space_to_depth(g, x, *, block_size):
    return g.op("SpaceToDepth", x, block_size=int(block_size), mode="blocks_first")


@mxnet_ops.op("Cast")
def cast(g, x, *, dtype):
    from mo.types import from_numpy
    return g.op("Convert", x, destination_type=from_numpy(_dtype(dtype)))


@mxnet_ops.op(["identity", "_copy", "BlockGrad", "stop_gradient", "make_loss", "MakeLoss", "_identity_with_attr_like_rhs"])
def identity(g, x, *rest, grad_scale=None, valid_thresh=None, normalization=None):
    return x


@mxnet_ops.op("one_hot")
def one_hot(g, idx, *, depth, on_value=1.0, off_value=0.0, dtype="float32"):
    dt = _dtype(dtype)
    i = g.op("Convert", idx, destination_type="i64")
    return g.op("OneHot", i, g.i64(int(depth)), g.const(np.asarray(on_value, dt)), g.const(np.asarray(off_value, dt)),
                axis=-1)

