"""TF indexing, ordering and small math ops: TopKV2, OneHot, Cumsum, ReverseV2, ReverseSequence,
Where, ScatterNd, MatrixBandPart, Bucketize, Einsum, L2Loss, Mod, Rint, DivNoNan; and clear
errors for functional control flow (If/While)."""
from __future__ import annotations

import numpy as np

from mo.graph import Value

from ..context import TfContext, dtype_to_etype, tf_ops
from .elementwise import _binary


@tf_ops.op("TopKV2")
def top_k(g: TfContext, x: Value, k: Value, *, sorted: bool = True, index_type: int = 3):  # noqa: A002
    """The k largest entries of the last axis, ties by lower index first (a stable TopK)."""
    vals, idx = g.op("TopK", x, g.op("Convert", k, destination_type="i64"), axis=-1, mode="max",
                     sort="value", index_element_type=dtype_to_etype(index_type), stable=True)
    return vals, idx


@tf_ops.op("OneHot")
def one_hot(g: TfContext, indices: Value, depth: Value, on: Value, off: Value, *, axis: int = -1) -> Value:
    """One-hot along a new ``axis``; out-of-range (and negative) indices give an all-off row, as TF."""
    return g.op("OneHot", indices, depth, on, off, axis=axis, negative_indices_mode="ignore_negative")


@tf_ops.op("Cumsum")
def cumsum(g: TfContext, x: Value, axis: Value, *, exclusive: bool = False, reverse: bool = False) -> Value:
    return g.op("CumSum", x, axis, exclusive=exclusive, reverse=reverse)


@tf_ops.op("ReverseV2")
def reverse_v2(g: TfContext, x: Value, axis: Value) -> Value:
    """Reverse the listed axes: a Slice with step -1 from the last element past the first."""
    axes = [int(a) for a in g.const_value(axis, "ReverseV2 axis").reshape(-1)]
    if not axes:
        return x
    lo = np.iinfo(np.int64).min
    n = len(axes)
    return g.op("Slice", x, g.i64([-1] * n), g.i64([lo] * n), g.i64([-1] * n), g.i64(axes))


@tf_ops.op("ReverseSequence")
def reverse_sequence(g: TfContext, x: Value, lengths: Value, *, seq_dim: int, batch_dim: int = 0) -> Value:
    return g.op("ReverseSequence", x, lengths, batch_axis=batch_dim, seq_axis=seq_dim)


@tf_ops.op("Where")
def where(g: TfContext, x: Value) -> Value:
    """Coordinates [count, rank] (int64) of the true / non-zero elements, in row-major order."""
    nz = g.op("NonZero", x, output_type="i64")
    return g.op("Transpose", nz, g.i64([1, 0]))


@tf_ops.op("ScatterNd")
def scatter_nd(g: TfContext, indices: Value, updates: Value, shape: Value) -> Value:
    """Zeros of ``shape`` with ``updates`` added at ``indices`` (duplicates sum, as TF)."""
    zeros = g.op("Broadcast", g.scalar_like(0, updates), shape)
    return g.op("ScatterNDUpdate", zeros, indices, updates, reduction="sum")


@tf_ops.op("MatrixBandPart")
def matrix_band_part(g: TfContext, x: Value, lower: Value, upper: Value) -> Value:
    """Keep x[..., i, j] where (lower < 0 or i - j <= lower) and (upper < 0 or j - i <= upper), else 0."""
    shp = g.op("ShapeOf", x)
    rows = g.op("Gather", shp, g.i64(-2), g.i64(0))
    cols = g.op("Gather", shp, g.i64(-1), g.i64(0))
    i = g.op("Unsqueeze", g.op("Range", g.i64(0), rows, g.i64(1), output_type="i64"), g.i64([1]))
    j = g.op("Unsqueeze", g.op("Range", g.i64(0), cols, g.i64(1), output_type="i64"), g.i64([0]))
    diff = g.op("Subtract", i, j)
    lo = g.op("Convert", lower, destination_type="i64")
    hi = g.op("Convert", upper, destination_type="i64")
    zero = g.i64(0)
    keep_lo = g.op("LogicalOr", g.op("Less", lo, zero), g.op("LessEqual", diff, lo))
    keep_hi = g.op("LogicalOr", g.op("Less", hi, zero), g.op("LessEqual", g.op("Negative", diff), hi))
    return g.op("Select", g.op("LogicalAnd", keep_lo, keep_hi), x, g.scalar_like(0, x))


@tf_ops.op("Bucketize")
def bucketize(g: TfContext, x: Value, *, boundaries: list) -> Value:
    """Bucket index i with boundaries[i-1] <= x < boundaries[i] (int32)."""
    b = np.asarray(boundaries or [], dtype=np.float32)
    if b.size == 0:
        return g.op("Broadcast", g.const(np.int32(0)), g.op("ShapeOf", x))
    return g.op("Bucketize", x, g.const(b), output_type="i32", with_right_bound=False)


@tf_ops.op("Einsum")
def einsum(g: TfContext, *xs: Value, equation: str) -> Value:
    return g.op("Einsum", *xs, equation=equation.replace(" ", ""))


@tf_ops.op("L2Loss")
def l2_loss(g: TfContext, x: Value) -> Value:
    """sum(x ** 2) / 2 over all elements (a scalar)."""
    flat = g.op("Reshape", x, g.i64([-1]), special_zero=False)
    s = g.op("ReduceSum", g.op("Multiply", flat, flat), g.i64([0]), keep_dims=False)
    return g.op("Multiply", s, g.scalar_like(0.5, x))


@tf_ops.op(["Mod", "TruncateMod"])
def mod(g: TfContext, x: Value, y: Value) -> Value:
    """Remainder with the sign of the dividend (C fmod)."""
    return g.op("Mod", x, y)


@tf_ops.op("Rint")
def rint(g: TfContext, x: Value) -> Value:
    """Round half to even."""
    return g.op("Round", x, mode="half_to_even")


@tf_ops.op("DivNoNan")
def div_no_nan(g: TfContext, x: Value, y: Value) -> Value:
    """x / y, 0 where y == 0."""
    zero = g.scalar_like(0, y)
    safe = g.op("Select", g.op("Equal", y, zero), g.scalar_like(1, y), y)
    return g.op("Select", g.op("Equal", y, zero), g.scalar_like(0, x), g.op("Divide", x, safe))


@tf_ops.op(["If", "StatelessIf", "While", "StatelessWhile", "Case", "StatelessCase"])
def functional_control_flow(g: TfContext, *xs: Value, **attrs) -> Value:
    raise ValueError(f"functional control flow ({g.op_type}) is not supported yet (If/While); "
                     "TF1 cond (Switch/Merge) on a constant predicate is")


@tf_ops.op("Unique")
def unique(g: TfContext, x: Value, *, out_idx: int = 3):
    """Unique elements of a 1-D tensor in order of first occurrence, and each element's index among them."""
    et = dtype_to_etype(out_idx)
    outs = g.op("Unique", x, sorted=False, index_element_type=et, count_element_type=et)
    return outs[0], outs[2]


@tf_ops.op(["UnsortedSegmentSum", "SegmentSum"])
def segment_sum(g: TfContext, data: Value, ids: Value, num: Value | None = None) -> Value:
    """Sum of the rows of ``data`` sharing a segment id; SegmentSum has max(id) + 1 segments."""
    ids64 = g.op("Convert", ids, destination_type="i64")
    if num is None:
        flat = g.op("Reshape", ids64, g.i64([-1]), special_zero=False)
        num = g.op("Add", g.op("ReduceMax", flat, g.i64([0]), keep_dims=True), g.i64([1]))
    else:
        num = g.op("Reshape", g.op("Convert", num, destination_type="i64"), g.i64([1]), special_zero=False)
    rest = g.op("Slice", g.op("ShapeOf", data), g.i64([ids.rank if ids.rank is not None else 1]),
                g.i64([np.iinfo(np.int64).max]), g.i64([1]))
    if ids.rank is None:
        raise ValueError(f"{g.op_type} needs segment ids of known rank")
    zeros = g.op("Broadcast", g.scalar_like(0, data), g.op("Concat", num, rest, axis=0))
    return g.op("ScatterNDUpdate", zeros, g.op("Unsqueeze", ids64, g.i64([-1])), data, reduction="sum")


@tf_ops.op("SparseToDense")
def sparse_to_dense(g: TfContext, indices: Value, shape: Value, values: Value, default: Value, *,
                    validate_indices: bool = True) -> Value:
    """A tensor of ``shape`` filled with ``default``, ``values`` written at ``indices`` ([N, rank], [N] or scalar)."""
    dense = g.op("Broadcast", default, shape)
    idx = indices
    if indices.rank == 1:
        idx = g.op("Unsqueeze", indices, g.i64([-1])) if (shape.shape or (1,))[0] == 1 else \
            g.op("Unsqueeze", indices, g.i64([0]))
    elif indices.rank == 0:
        idx = g.op("Reshape", indices, g.i64([1, 1]), special_zero=False)
    n = g.op("Gather", g.op("ShapeOf", idx), g.i64([0]), g.i64(0))
    vals = g.op("Broadcast", values, n) if values.rank == 0 else values
    return g.op("ScatterNDUpdate", dense, idx, vals)


@tf_ops.op("Roll")
def roll(g: TfContext, x: Value, shift: Value, axis: Value) -> Value:
    """Circular shift: per axis, the last ``shift`` items move to the front (two Slices and a Concat)."""
    shifts = [int(v) for v in g.const_value(shift, "Roll shift").reshape(-1)]
    axes = [int(v) for v in g.const_value(axis, "Roll axis").reshape(-1)]
    if len(shifts) == 1 and len(axes) > 1:
        shifts = shifts * len(axes)
    total: dict[int, int] = {}
    for s, a in zip(shifts, axes):
        a = a + x.rank if a < 0 and x.rank is not None else a
        total[a] = total.get(a, 0) + s
    for a, s in total.items():
        if x.shape is None or x.shape[a] < 0:
            raise ValueError("Roll needs a static size of each rolled axis")
        d = x.shape[a]
        s %= d
        if s == 0:
            continue
        head = g.op("Slice", x, g.i64([d - s]), g.i64([d]), g.i64([1]), g.i64([a]))
        tail = g.op("Slice", x, g.i64([0]), g.i64([d - s]), g.i64([1]), g.i64([a]))
        x = g.op("Concat", head, tail, axis=a)
    return x


@tf_ops.op("BroadcastArgs")
def broadcast_args(g: TfContext, s0: Value, s1: Value) -> Value:
    """The broadcast of two shapes: the shape of zeros(s0) + zeros(s1) (folded when both are constant)."""
    z0 = g.op("Broadcast", g.const(np.int8(0)), s0)
    z1 = g.op("Broadcast", g.const(np.int8(0)), s1)
    return g.op("ShapeOf", g.op("Add", z0, z1), output_type=s0.etype)


_BITWISE = {"BitwiseAnd": "BitwiseAnd", "BitwiseOr": "BitwiseOr", "BitwiseXor": "BitwiseXor",
            "LeftShift": "BitwiseLeftShift", "RightShift": "BitwiseRightShift"}


for _tf, _ov in _BITWISE.items():
    tf_ops.add([_tf], _binary(_ov))


@tf_ops.op("Invert")
def invert(g: TfContext, x: Value) -> Value:
    return g.op("BitwiseNot", x)


@tf_ops.op("Atan2")
def atan2(g: TfContext, y: Value, x: Value) -> Value:
    """atan(y / x) moved to the right quadrant: +pi for x < 0, y >= 0; -pi for x < 0, y < 0;
    +-pi/2 for x == 0."""
    zero = g.scalar_like(0, x)
    pi = g.scalar_like(np.pi, x)
    safe_x = g.op("Select", g.op("Equal", x, zero), g.scalar_like(1, x), x)
    base = g.op("Atan", g.op("Divide", y, safe_x))
    y_neg = g.op("Less", y, zero)
    shift = g.op("Select", y_neg, g.op("Negative", pi), pi)
    res = g.op("Select", g.op("Less", x, zero), g.op("Add", base, shift), base)
    half = g.op("Multiply", g.op("Sign", y), g.scalar_like(np.pi / 2, x))
    return g.op("Select", g.op("Equal", x, zero), half, res)


@tf_ops.op(["TensorScatterUpdate", "TensorScatterAdd", "TensorScatterMax", "TensorScatterMin"])
def tensor_scatter(g: TfContext, x: Value, indices: Value, updates: Value) -> Value:
    """x with slices at ``indices`` replaced by (or reduced with) ``updates``."""
    red = {"TensorScatterUpdate": "none", "TensorScatterAdd": "sum", "TensorScatterMax": "max",
           "TensorScatterMin": "min"}[g.op_type]
    return g.op("ScatterNDUpdate", x, indices, updates, reduction=red)


@tf_ops.op("InvertPermutation")
def invert_permutation(g: TfContext, p: Value) -> Value:
    """y[p[i]] = i: positions 0..n-1 scattered to the indices p."""
    it = np.int64 if p.etype == "i64" else np.int32
    n = g.op("ShapeOf", p, output_type=p.etype)
    pos = g.op("Range", g.const(it(0)), g.op("Squeeze", n, g.i64([0])), g.const(it(1)), output_type=p.etype)
    return g.op("ScatterElementsUpdate", g.op("Broadcast", g.const(it(0)), n), p, pos, g.i64(0),
                reduction="none", use_init_val=True)


@tf_ops.op("LinSpace")
def lin_space(g: TfContext, start: Value, stop: Value, num: Value) -> Value:
    """num evenly spaced values from start to stop inclusive (start alone when num == 1)."""
    n = int(g.const_value(num, "LinSpace num").reshape(-1)[0])
    if n == 1:
        return g.op("Reshape", start, g.i64([1]), special_zero=False)
    t = g.const(np.arange(n, dtype=np.float32) / np.float32(n - 1))
    if start.etype != "f32":
        t = g.op("Convert", t, destination_type=start.etype)
    step = g.op("Subtract", stop, start)
    out = g.op("Add", start, g.op("Multiply", step, t))
    # the last value is exactly stop, as TF
    last = g.op("Reshape", stop, g.i64([1]), special_zero=False)
    return g.op("Concat", g.op("Slice", out, g.i64([0]), g.i64([n - 1]), g.i64([1])), last, axis=0)


@tf_ops.op("AdjustContrastv2")
def adjust_contrast(g: TfContext, x: Value, factor: Value) -> Value:
    """(x - mean) * factor + mean, the mean over the H, W axes per channel ([..., H, W, C])."""
    m = g.op("ReduceMean", x, g.i64([-3, -2]), keep_dims=True)
    return g.op("Add", g.op("Multiply", g.op("Subtract", x, m), factor), m)
