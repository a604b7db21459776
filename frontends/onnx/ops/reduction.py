"""ONNX reductions and normalizations: Reduce*, ArgMax/ArgMin, TopK, Softmax family, CumSum/CumProd, norms,
losses, Einsum."""
from __future__ import annotations

import re
from typing import Callable

import numpy as np

from mo.graph import Value
from mo.types import to_numpy

from ..context import onnx_ops
from .nn import _flatten_2d

INT64_MIN = np.iinfo(np.int64).min


# ----------------------------------------------------------------------------- helpers
def _rank(x: Value, what: str) -> int:
    if x.rank is None:
        raise ValueError(f"{what} needs an input of known rank")
    return x.rank


def _norm_axes(axes: list[int], rank: int) -> list[int]:
    out = []
    for a in axes:
        if not -rank <= a < max(rank, 1):
            raise ValueError(f"axis {a} is out of range for rank {rank}")
        out.append(a + rank if a < 0 else a)
    return out


def _dim(g, x: Value, axis: int) -> Value:
    """Size of ``x`` along ``axis`` as an i64 scalar (a constant when static)."""
    if x.shape is not None and x.shape[axis] >= 0:
        return g.i64(x.shape[axis])
    return g.op("Gather", g.op("ShapeOf", x, output_type="i64"), g.i64(axis), g.i64(0))


def _arange_along(g, x: Value, axis: int) -> Value:
    """0, 1, ..., n-1 (i64) shaped to broadcast against ``x`` along ``axis`` (n = x.shape[axis])."""
    rank = _rank(x, "this op")
    bshape = [1] * rank
    if x.shape[axis] >= 0:
        bshape[axis] = x.shape[axis]
        return g.i64(np.arange(x.shape[axis], dtype=np.int64).reshape(bshape))
    r = g.op("Range", g.i64(0), _dim(g, x, axis), g.i64(1), output_type="i64")
    bshape[axis] = -1
    return g.op("Reshape", r, g.i64(bshape), special_zero=False)


def _scalar(g, v: Value, what: str) -> Value:
    """A one-element tensor as a scalar (constants are read)."""
    c = v.const_value()
    if c is not None:
        if np.asarray(c).size != 1:
            raise ValueError(f"{what} must hold one value, got {np.asarray(c).size}")
        return g.const(np.asarray(c).reshape(()))
    if v.shape == ():
        return v
    return g.op("Reshape", v, g.i64(np.zeros(0, dtype=np.int64)), special_zero=False)


def _like(g, value: float, x: Value) -> Value:
    return g.const(np.asarray(value, dtype=to_numpy(x.etype)))


def _is_float(x: Value) -> bool:
    return x.etype in ("f32", "f16", "bf16", "f64")


# ----------------------------------------------------------------------------- Reduce*
NOOP = "noop"


def _resolve_axes(g, x: Value, axes_attr, axes_in: Value | None, noop: int):
    """The axes to reduce: a list of ints (normalized), a Value (runtime axes), or NOOP.

    Absent or empty axes mean every axis, unless noop_with_empty_axes asks for no reduction."""
    if axes_in is not None:
        c = axes_in.const_value()
        if c is not None:
            axes = [int(a) for a in np.asarray(c).reshape(-1)]
        elif axes_in.shape is not None and len(axes_in.shape) == 1 and axes_in.shape[0] == 0:
            axes = []
        else:
            return axes_in
    else:
        axes = list(axes_attr) if axes_attr is not None else []
    if not axes:
        if noop:
            return NOOP
        return list(range(_rank(x, "a reduction over all axes")))
    return _norm_axes(axes, _rank(x, "a reduction"))


# element-wise function applied when no axis is reduced; value of a reduction over an empty set
_REDUCE_NOOP: dict[str, Callable] = {
    "ReduceL1": lambda g, x: g.op("Abs", x),
    "ReduceL2": lambda g, x: g.op("Abs", x),
    "ReduceSumSquare": lambda g, x: g.op("Multiply", x, x),
    "ReduceLogSum": lambda g, x: g.op("Log", x),
}
_EMPTY_FILL = {"ReduceSum": 0.0, "ReduceMean": np.nan, "ReduceProd": 1.0, "ReduceMax": -np.inf,
               "ReduceMin": np.inf, "ReduceL1": 0.0, "ReduceL2": 0.0, "ReduceSumSquare": 0.0,
               "ReduceLogSum": -np.inf, "ReduceLogSumExp": -np.inf}


def _empty_fill(kind: str, etype: str):
    dt = to_numpy(etype)
    v = _EMPTY_FILL[kind]
    if dt == np.bool_:
        return kind == "ReduceMin"
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return {np.inf: info.max, -np.inf: info.min}.get(v, 0 if np.isnan(v) else v)
    return v


def _reduce_body(g, kind: str, x: Value, axes: Value, keep: bool) -> Value:
    """One reduction over runtime or constant ``axes`` (an i64 1-D Value)."""
    if kind in ("ReduceSum", "ReduceMean", "ReduceProd", "ReduceL1", "ReduceL2"):
        return g.op(kind, x, axes, keep_dims=keep)
    if kind in ("ReduceMax", "ReduceMin"):
        if x.etype == "boolean":  # through i32: the CPU plugin lacks ReduceLogical* with runtime axes
            y = g.op(kind, g.op("Convert", x, destination_type="i32"), axes, keep_dims=keep)
            return g.op("Convert", y, destination_type="boolean")
        return g.op(kind, x, axes, keep_dims=keep)
    if kind == "ReduceSumSquare":
        return g.op("ReduceSum", g.op("Multiply", x, x), axes, keep_dims=keep)
    if kind == "ReduceLogSum":
        return g.op("Log", g.op("ReduceSum", x, axes, keep_dims=keep))
    if kind == "ReduceLogSumExp":
        # log(sum(exp(x - m))) + m with m the max, so that large inputs do not overflow
        m = g.op("ReduceMax", x, axes, keep_dims=True)
        s = g.op("ReduceSum", g.op("Exp", g.op("Subtract", x, m)), axes, keep_dims=keep)
        m_out = m if keep else g.op("ReduceMax", x, axes, keep_dims=False)
        return g.op("Add", g.op("Log", s), m_out)
    raise ValueError(f"unknown reduction {kind}")


def _reduce(g, kind: str, x: Value, axes_attr, axes_in: Value | None, keepdims: int, noop: int) -> Value:
    """An ONNX reduction. An input with a zero-size dim makes every element of a non-empty output a
    reduction over an empty set, whose value (ONNX's: 0, 1, -inf, nan ...) is broadcast in."""
    axes = _resolve_axes(g, x, axes_attr, axes_in, noop)
    if axes is NOOP:
        fn = _REDUCE_NOOP.get(kind)
        return fn(g, x) if fn else x
    y = _reduce_axes(g, kind, x, axes, bool(keepdims))
    if x.shape is not None and 0 in x.shape:
        fill = g.const(np.asarray(_empty_fill(kind, x.etype), dtype=to_numpy(x.etype)))
        y = g.op("Broadcast", fill, g.op("ShapeOf", y, output_type="i64"), mode="numpy")
    return y


def _reduce_axes(g, kind: str, x: Value, axes, keep: bool) -> Value:
    if isinstance(axes, list):
        return _reduce_body(g, kind, x, g.i64(axes), keep)
    if keep or x.rank is None or axes.shape is None or len(axes.shape) != 1 or axes.shape[0] < 0:
        return _reduce_body(g, kind, x, axes, keep)
    # runtime axes without keepdims: OpenVINO could not tell the output rank, so reduce with
    # keepdims and reshape to the dims that are kept, whose count is known
    y = _reduce_body(g, kind, x, axes, True)
    return g.op("Reshape", y, _kept_dims(g, y, axes), special_zero=False)


def _kept_dims(g, y: Value, axes: Value) -> Value:
    """The dims of ``y`` (reduced with keepdims) at the axes not listed in ``axes``, in order.

    Axes that are reduced get key i + rank, the kept ones key i; the rank - n smallest keys, in
    ascending order, are the kept axes."""
    rank, n = y.rank, axes.shape[0]
    ax = axes if axes.etype == "i64" else g.op("Convert", axes, destination_type="i64")
    ax = g.op("FloorMod", ax, g.i64(rank))
    hit = g.op("Equal", g.op("Unsqueeze", ax, g.i64([1])), g.i64(np.arange(rank, dtype=np.int64)))
    reduced = g.op("Convert", g.op("ReduceLogicalOr", hit, g.i64([0]), keep_dims=False), destination_type="i64")
    key = g.op("Add", g.op("Multiply", reduced, g.i64(rank)), g.i64(np.arange(rank, dtype=np.int64)))
    _, kept = g.op("TopK", key, g.i64(rank - n), axis=0, mode="min", sort="value", index_element_type="i64",
                   stable=True)
    return g.op("Gather", g.op("ShapeOf", y, output_type="i64"), kept, g.i64(0))


_AXES_INPUT_SINCE = {"ReduceSum": 13}
_REDUCE_KINDS = ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
                 "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"]


def _register_reduce(kind: str) -> None:
    def with_attr(g, x, *, axes=None, keepdims=1):
        """Opsets before 13 (ReduceSum) / 18 (the rest): axes attribute, absent = all axes."""
        return _reduce(g, kind, x, axes, None, keepdims, 0)

    def with_input(g, x, axes=None, *, keepdims=1, noop_with_empty_axes=0):
        """Axes as an optional input; empty axes reduce everything unless noop_with_empty_axes."""
        return _reduce(g, kind, x, None, axes, keepdims, noop_with_empty_axes)

    onnx_ops.op(kind, since=1)(with_attr)
    onnx_ops.op(kind, since=_AXES_INPUT_SINCE.get(kind, 18))(with_input)


for _kind in _REDUCE_KINDS:
    _register_reduce(_kind)


# ----------------------------------------------------------------------------- ArgMax / ArgMin / TopK
def _arg(g, x: Value, mode: str, axis: int, keepdims: int, select_last_index: int) -> Value:
    """Index of the first (or last) max/min along ``axis``: TopK with k=1, stable, as i64."""
    rank = _rank(x, "ArgMax/ArgMin")
    axis = _norm_axes([axis], rank)[0]
    src = x
    if select_last_index:
        src = g.op("Slice", x, g.i64([-1]), g.i64([INT64_MIN]), g.i64([-1]), g.i64([axis]))
    _, idx = g.op("TopK", src, g.i64(1), axis=axis, mode=mode, sort="value", index_element_type="i64", stable=True)
    if select_last_index:
        idx = g.op("Subtract", g.op("Subtract", _dim(g, x, axis), g.i64(1)), idx)
    if not keepdims:
        idx = g.op("Squeeze", idx, g.i64([axis]))
    return idx


@onnx_ops.op("ArgMax", since=1)
def arg_max(g, x, *, axis=0, keepdims=1, select_last_index=0):
    return _arg(g, x, "max", axis, keepdims, select_last_index)


@onnx_ops.op("ArgMin", since=1)
def arg_min(g, x, *, axis=0, keepdims=1, select_last_index=0):
    return _arg(g, x, "min", axis, keepdims, select_last_index)


def _topk(g, x: Value, k: Value, axis: int, largest: int, sorted: int):
    """ONNX TopK: ties keep the lower index first (stable); indices are i64. Unsorted output order is
    unspecified by ONNX, so it is sorted as well."""
    rank = _rank(x, "TopK")
    axis = _norm_axes([axis], rank)[0]
    vals, idx = g.op("TopK", x, _scalar(g, k, "TopK k"), axis=axis, mode="max" if largest else "min",
                     sort="value", index_element_type="i64", stable=True)
    return vals, idx


@onnx_ops.op("TopK", since=1)
def topk_1(g, x, *, axis=-1, k):
    return _topk(g, x, g.i64(k), axis, 1, 1)


@onnx_ops.op("TopK", since=10)
def topk_10(g, x, k, *, axis=-1, largest=1, sorted=1):
    return _topk(g, x, k, axis, largest, sorted)


# ----------------------------------------------------------------------------- Softmax family
@onnx_ops.op("Softmax", since=1)
def softmax_1(g, x, *, axis=1):
    return _coerced(g, x, axis, "SoftMax")


@onnx_ops.op("LogSoftmax", since=1)
def log_softmax_1(g, x, *, axis=1):
    return _coerced(g, x, axis, "LogSoftmax")


@onnx_ops.op("Hardmax", since=1)
def hardmax_1(g, x, *, axis=1):
    return _coerced(g, x, axis, "Hardmax")


def _apply(g, ov_type: str, x: Value, axis: int) -> Value:
    if ov_type == "Hardmax":
        return _hardmax(g, x, axis)
    if ov_type == "LogSoftmax" and axis < 0:
        axis += _rank(x, "LogSoftmax")
    return g.op(ov_type, x, axis=axis)


def _coerced(g, x, axis, ov_type):
    """Opset < 13 softmax: flatten to 2-D at ``axis``, normalize rows, restore the shape."""
    if x.rank is not None:
        axis = _norm_axes([axis], x.rank)[0]
    if x.rank is not None and axis == x.rank - 1:
        return _apply(g, ov_type, x, x.rank - 1)
    flat = _flatten_2d(g, x, axis)
    y = _apply(g, ov_type, flat, 1)
    return g.op("Reshape", y, g.op("ShapeOf", x, output_type="i64"), special_zero=False)


def _hardmax(g, x: Value, axis: int) -> Value:
    """1 at the first maximum along ``axis``, 0 elsewhere."""
    axis = _norm_axes([axis], _rank(x, "Hardmax"))[0]
    _, idx = g.op("TopK", x, g.i64(1), axis=axis, mode="max", sort="value", index_element_type="i64", stable=True)
    hot = g.op("Equal", _arange_along(g, x, axis), idx)
    return g.op("Convert", hot, destination_type=x.etype)


@onnx_ops.op("Softmax", since=13)
def softmax_13(g, x, *, axis=-1):
    if x.rank is not None:
        _norm_axes([axis], x.rank)
    return g.op("SoftMax", x, axis=axis)


@onnx_ops.op("LogSoftmax", since=13)
def log_softmax_13(g, x, *, axis=-1):
    return _apply(g, "LogSoftmax", x, axis)


@onnx_ops.op("Hardmax", since=13)
def hardmax_13(g, x, *, axis=-1):
    return _hardmax(g, x, axis)


# ----------------------------------------------------------------------------- CumSum / CumProd
@onnx_ops.op("CumSum", since=11)
def cum_sum(g, x, axis, *, exclusive=0, reverse=0):
    return g.op("CumSum", x, _scalar(g, axis, "CumSum axis"), exclusive=bool(exclusive), reverse=bool(reverse))


@onnx_ops.op("CumProd", since=26)
def cum_prod(g, x, axis, *, exclusive=0, reverse=0):
    """Running product built from CumSum: sign from the running count of negatives, magnitude as
    exp(cumsum(log|x|)), zero from the first zero on. Integer results are rounded back."""
    ax = _scalar(g, axis, "CumProd axis")
    ex, rev = bool(exclusive), bool(reverse)
    xf = x if x.etype == "f32" else g.op("Convert", x, destination_type="f32")
    zero, one = g.const(np.float32(0)), g.const(np.float32(1))

    def running(v):
        return g.op("CumSum", v, ax, exclusive=ex, reverse=rev)

    is_zero = g.op("Equal", xf, zero)
    logs = running(g.op("Log", g.op("Select", is_zero, one, g.op("Abs", xf))))
    zeros_seen = g.op("Greater", running(g.op("Convert", is_zero, destination_type="f32")), zero)
    negs = running(g.op("Convert", g.op("Less", xf, zero), destination_type="f32"))
    sign = g.op("Subtract", one, g.op("Multiply", g.const(np.float32(2)), g.op("FloorMod", negs, g.const(np.float32(2)))))
    y = g.op("Select", zeros_seen, zero, g.op("Multiply", sign, g.op("Exp", logs)))
    if x.etype == "f32":
        return y
    if not _is_float(x):
        y = g.op("Round", y, mode="half_to_even")
    return g.op("Convert", y, destination_type=x.etype)


# ----------------------------------------------------------------------------- normalizations
def _mvn(g, x: Value, axes: list[int], eps: float, inside: bool = True) -> Value:
    return g.op("MVN", x, g.i64(axes), normalize_variance=True, eps=eps,
                eps_mode="INSIDE_SQRT" if inside else "OUTSIDE_SQRT")


def _per_channel(g, v: Value, rank: int) -> Value:
    """A [C] tensor reshaped to [1, C, 1, ...] for an input of ``rank``."""
    return g.op("Reshape", v, g.i64([1, -1] + [1] * (rank - 2)), special_zero=False)


@onnx_ops.op("LayerNormalization", since=17)
def layer_normalization(g, x, scale, bias=None, *, axis=-1, epsilon=1e-5, stash_type=1):
    """Y = (x - mean) / sqrt(var + eps) * scale + bias over axes [axis, rank); optional outputs Mean and
    InvStdDev keep the reduced axes as size 1."""
    rank = _rank(x, "LayerNormalization")
    axis = _norm_axes([axis], rank)[0]
    axes = list(range(axis, rank))
    y = g.op("Multiply", _mvn(g, x, axes, epsilon), scale)
    if bias is not None:
        y = g.op("Add", y, bias)
    wanted = [bool(n) for n in g.output_names]
    if len(wanted) == 1 or not any(wanted[1:]):
        return y
    mean = g.op("ReduceMean", x, g.i64(axes), keep_dims=True)
    d = g.op("Subtract", x, mean)
    var = g.op("ReduceMean", g.op("Multiply", d, d), g.i64(axes), keep_dims=True)
    inv = g.op("Divide", _like(g, 1.0, x), g.op("Sqrt", g.op("Add", var, _like(g, epsilon, x))))
    return (y, mean, inv)[:len(wanted)]


@onnx_ops.op("RMSNormalization", since=23)
def rms_normalization(g, x, scale, *, axis=-1, epsilon=1e-5, stash_type=1):
    """Y = x / sqrt(mean(x^2) + eps) * scale over axes [axis, rank)."""
    rank = _rank(x, "RMSNormalization")
    axes = list(range(_norm_axes([axis], rank)[0], rank))
    ms = g.op("ReduceMean", g.op("Multiply", x, x), g.i64(axes), keep_dims=True)
    y = g.op("Divide", x, g.op("Sqrt", g.op("Add", ms, _like(g, epsilon, x))))
    return g.op("Multiply", y, scale)


@onnx_ops.op("InstanceNormalization", since=1)
def instance_normalization(g, x, scale, bias, *, epsilon=1e-5, **legacy):
    """Each (sample, channel) plane normalized over the spatial axes, then scale[c] * y + bias[c]."""
    if set(legacy) - {"consumed_inputs"}:
        raise ValueError(f"InstanceNormalization attribute(s) {sorted(legacy)} are not supported")
    rank = _rank(x, "InstanceNormalization")
    y = _mvn(g, x, list(range(2, rank)), epsilon)
    return g.op("Add", g.op("Multiply", y, _per_channel(g, scale, rank)), _per_channel(g, bias, rank))


@onnx_ops.op("GroupNormalization", since=18)
def group_normalization_18(g, x, scale, bias, *, epsilon=1e-5, num_groups):
    """Opset 18: scale and bias are per group ([num_groups]); normalize [N, G, rest] over the last axis."""
    grouped = g.op("Reshape", x, g.i64([0, num_groups, -1]), special_zero=True)
    y = _mvn(g, grouped, [2], epsilon)
    y = g.op("Add", g.op("Multiply", y, g.op("Reshape", scale, g.i64([1, -1, 1]), special_zero=False)),
             g.op("Reshape", bias, g.i64([1, -1, 1]), special_zero=False))
    return g.op("Reshape", y, g.op("ShapeOf", x, output_type="i64"), special_zero=False)


@onnx_ops.op("GroupNormalization", since=21)
def group_normalization_21(g, x, scale, bias, *, epsilon=1e-5, num_groups, stash_type=1):
    """Opset 21: per-channel scale and bias ([C]), OpenVINO GroupNormalization."""
    return g.op("GroupNormalization", x, scale, bias, num_groups=num_groups, epsilon=epsilon)


@onnx_ops.op("MeanVarianceNormalization", since=9)
def mean_variance_normalization(g, x, *, axes=(0, 2, 3)):
    """(x - mean) / (sqrt(var) + 1e-9) over ``axes``."""
    rank = _rank(x, "MeanVarianceNormalization")
    return _mvn(g, x, _norm_axes(list(axes), rank), 1e-9, inside=False)


@onnx_ops.op("LpNormalization", since=1)
def lp_normalization(g, x, *, axis=-1, p=2):
    """x / ||x||_p along ``axis`` (p = 1 or 2, no epsilon: zero vectors give NaN as in ONNX)."""
    if p not in (1, 2):
        raise ValueError(f"LpNormalization supports p=1 and p=2, not p={p}")
    axis = _norm_axes([axis], _rank(x, "LpNormalization"))[0]
    norm = g.op("ReduceL1" if p == 1 else "ReduceL2", x, g.i64([axis]), keep_dims=True)
    return g.op("Divide", x, norm)


# ----------------------------------------------------------------------------- losses
_REDUCTIONS = ("none", "sum", "mean")


def _nll(g, logp: Value, target: Value, weight: Value | None, ignore_index: int | None, reduction: str) -> Value:
    """loss[n, d...] = -logp[n, target, d...] * w[target]; 'mean' divides the sum by the sum of the weights used.

    The target class is picked with a one-hot mask over the class axis, so out-of-range targets (the
    ignore_index) read nothing."""
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {', '.join(_REDUCTIONS)}, not {reduction!r}")
    rank = _rank(logp, "the loss")
    if rank < 2:
        raise ValueError("the loss input needs shape [N, C, ...]")
    t = target if target.etype == "i64" else g.op("Convert", target, destination_type="i64")
    hot = g.op("Equal", g.op("Unsqueeze", t, g.i64([1])), _arange_along(g, logp, 1))
    zero = _like(g, 0.0, logp)
    picked = g.op("ReduceSum", g.op("Select", hot, logp, zero), g.i64([1]), keep_dims=False)
    if weight is not None:
        w = g.op("ReduceSum", g.op("Select", hot, _per_channel(g, weight, rank), zero), g.i64([1]), keep_dims=False)
    else:
        w = None
    if ignore_index is not None:
        valid = g.op("NotEqual", t, g.i64(ignore_index))
        w = g.op("Select", valid, w if w is not None else _like(g, 1.0, logp), zero)
    loss = g.op("Negative", picked)
    if w is not None:
        loss = g.op("Multiply", loss, w)
    if reduction == "none":
        return loss
    all_axes = g.i64(list(range(rank - 1)))
    total = g.op("ReduceSum", loss, all_axes, keep_dims=False)
    if reduction == "sum":
        return total
    if w is None:
        return g.op("ReduceMean", loss, all_axes, keep_dims=False)
    return g.op("Divide", total, g.op("ReduceSum", w, all_axes, keep_dims=False))


@onnx_ops.op("NegativeLogLikelihoodLoss", since=12)
def negative_log_likelihood_loss(g, x, target, weight=None, *, ignore_index=None, reduction="mean"):
    return _nll(g, x, target, weight, ignore_index, reduction)


@onnx_ops.op("SoftmaxCrossEntropyLoss", since=12)
def softmax_cross_entropy_loss(g, scores, labels, weights=None, *, ignore_index=None, reduction="mean"):
    """NLL of LogSoftmax over the class axis 1; the second output is the log-probabilities."""
    logp = g.op("LogSoftmax", scores, axis=1)
    loss = _nll(g, logp, labels, weights, ignore_index, reduction)
    return (loss, logp) if g.num_outputs > 1 else loss


# ----------------------------------------------------------------------------- Einsum
def _explicit_equation(equation: str) -> str:
    """The equation with its output spelled out: implicit outputs are the labels that occur once,
    in alphabetical order, after the broadcast (``...``) dims."""
    eq = equation.replace(" ", "")
    if "->" in eq:
        return eq
    labels = re.findall(r"[A-Za-z]", eq)
    once = sorted(set(c for c in labels if labels.count(c) == 1))
    return eq + "->" + ("..." if "..." in eq else "") + "".join(once)


@onnx_ops.op("Einsum", since=12)
def einsum(g, *inputs, equation):
    return g.op("Einsum", *inputs, equation=_explicit_equation(equation))
