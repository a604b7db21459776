"""Reductions over the axes given by input 1: ReduceSum/Mean/Max/Min/Prod/L1/L2/LogicalAnd/LogicalOr."""
from __future__ import annotations

import numpy as np

from ..opset import op
from ..shapes import norm_axis


def _reduce_shape(ins, keep):
    x, axes_v = ins
    axes = axes_v.const_value()
    if x.shape is None:
        return None
    rank = len(x.shape)
    if axes is None:
        if keep:
            return (-1,) * rank
        sh = axes_v.shape
        n = 1 if sh == () else (sh[0] if sh is not None and len(sh) == 1 and sh[0] >= 0 else None)
        return None if n is None else (-1,) * (rank - n)
    ax = {norm_axis(int(v), rank) for v in axes.reshape(-1)}
    if keep:
        return tuple(1 if i in ax else d for i, d in enumerate(x.shape))
    return tuple(d for i, d in enumerate(x.shape) if i not in ax)


def _make(name: str, fn, doc: str, version: str = "opset1"):
    def evaluate(x, a, fn=fn):
        axes = tuple(sorted({int(v) % max(x[0].ndim, 1) for v in x[1].reshape(-1)})) if x[0].ndim else ()
        r = fn(x[0], axes, a["keep_dims"])
        return [np.asarray(r).astype(x[0].dtype)]

    def infer(ins, a):
        return [(ins[0].etype, _reduce_shape(ins, a["keep_dims"]))]
    infer.__doc__ = doc
    op(name, version, {"keep_dims": ("bool", False)}, inputs=(2, 2), evaluate=evaluate)(infer)


_make("ReduceSum", lambda x, ax, k: np.sum(x, axis=ax, keepdims=k), "sum over axes")
_make("ReduceMean", lambda x, ax, k: np.mean(x, axis=ax, keepdims=k), "mean over axes")
def _lowest(x: np.ndarray):
    return np.iinfo(x.dtype).min if x.dtype.kind in "iu" else (False if x.dtype == bool else -np.inf)


def _highest(x: np.ndarray):
    return np.iinfo(x.dtype).max if x.dtype.kind in "iu" else (True if x.dtype == bool else np.inf)


_make("ReduceMax", lambda x, ax, k: np.max(x, axis=ax, keepdims=k, initial=_lowest(x)), "max over axes")
_make("ReduceMin", lambda x, ax, k: np.min(x, axis=ax, keepdims=k, initial=_highest(x)), "min over axes")
_make("ReduceProd", lambda x, ax, k: np.prod(x, axis=ax, keepdims=k), "product over axes")
_make("ReduceL1", lambda x, ax, k: np.sum(np.abs(x), axis=ax, keepdims=k), "sum of |x| over axes", "opset4")
_make("ReduceL2", lambda x, ax, k: np.sqrt(np.sum(np.square(x), axis=ax, keepdims=k)), "sqrt of sum of x^2", "opset4")
_make("ReduceLogicalAnd", lambda x, ax, k: np.all(x, axis=ax, keepdims=k), "logical and over axes")
_make("ReduceLogicalOr", lambda x, ax, k: np.any(x, axis=ax, keepdims=k), "logical or over axes")
