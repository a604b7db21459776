"""Normalization, top-k, scan and contraction ops: MVN, NormalizeL2, GroupNormalization, TopK, CumSum, Einsum."""
from __future__ import annotations

import re

import numpy as np

from ..opset import OpError, op
from ..shapes import broadcast, norm_axis


def _same_shape(ins, a):
    return [(ins[0].etype, ins[0].shape)]


@op("MVN", "opset6", {"normalize_variance": ("bool",), "eps": ("float",), "eps_mode": ("str",)}, inputs=(2, 2))
def mvn(ins, a):
    """(x - mean) / sqrt(var + eps) (INSIDE_SQRT) or / (sqrt(var) + eps) (OUTSIDE_SQRT) over the axes of input 1;
    without normalize_variance only the mean is subtracted."""
    if a["eps_mode"] not in ("INSIDE_SQRT", "OUTSIDE_SQRT"):
        raise OpError(f"eps_mode must be INSIDE_SQRT or OUTSIDE_SQRT, not {a['eps_mode']!r}")
    return _same_shape(ins, a)


@op("NormalizeL2", "opset1", {"eps": ("float",), "eps_mode": ("str",)}, inputs=(2, 2))
def normalize_l2(ins, a):
    """x / sqrt(max(sum(x^2), eps)) (eps_mode max) or x / sqrt(sum(x^2) + eps) (add) over the axes of input 1."""
    return _same_shape(ins, a)


@op("GroupNormalization", "opset12", {"num_groups": ("int",), "epsilon": ("float",)}, inputs=(3, 3))
def group_normalization(ins, a):
    """Channels (axis 1) split into num_groups; each group of each sample normalized to zero mean and unit variance
    (eps inside the sqrt), then scaled and shifted per channel by inputs 1 and 2 of shape [C]."""
    return _same_shape(ins, a)


def _topk_eval(x, a):
    data, k = x[0], int(np.asarray(x[1]).reshape(-1)[0])
    axis = a["axis"] % data.ndim
    key = -data if a["mode"] == "max" else data
    order = np.argsort(key, axis=axis, kind="stable")
    idx = np.take(order, np.arange(min(k, data.shape[axis])), axis=axis)
    if a["sort"] == "index":
        idx = np.sort(idx, axis=axis)
    vals = np.take_along_axis(data, idx, axis=axis)
    return [vals, idx.astype(np.int64 if a["index_element_type"] == "i64" else np.int32)]


@op("TopK", "opset11", {"axis": ("int",), "mode": ("str",), "sort": ("str",), "index_element_type": ("etype", "i32"),
                        "stable": ("bool", False)}, inputs=(2, 2), evaluate=_topk_eval)
def topk(ins, a):
    """The k (scalar input 1) largest (mode max) or smallest (min) elements along ``axis`` and their indices,
    ordered by value, by index, or not at all (sort value|index|none); stable keeps ties in index order."""
    x, k = ins
    if a["mode"] not in ("max", "min") or a["sort"] not in ("value", "index", "none"):
        raise OpError(f"TopK mode {a['mode']!r} / sort {a['sort']!r} unknown")
    if x.shape is None:
        return [(x.etype, None), (a["index_element_type"], None)]
    axis = norm_axis(a["axis"], len(x.shape))
    kv = k.const_value()
    d = x.shape[axis]
    if kv is None:
        kd = -1
    else:
        kd = int(np.asarray(kv).reshape(-1)[0])
        kd = min(kd, d) if d >= 0 else kd
    shape = tuple(kd if i == axis else s for i, s in enumerate(x.shape))
    return [(x.etype, shape), (a["index_element_type"], shape)]


def _cumsum_eval(x, a):
    data, axis = x[0], int(np.asarray(x[1]).reshape(-1)[0]) % max(x[0].ndim, 1)
    v = np.flip(data, axis) if a["reverse"] else data
    c = np.cumsum(v, axis=axis, dtype=data.dtype)
    if a["exclusive"]:
        c = c - v
    return [np.flip(c, axis) if a["reverse"] else c]


@op("CumSum", "opset3", {"exclusive": ("bool", False), "reverse": ("bool", False)}, inputs=(2, 2),
    evaluate=_cumsum_eval)
def cumsum(ins, a):
    """Running sum along the scalar axis of input 1; exclusive leaves out the element itself, reverse runs
    from the end."""
    return _same_shape(ins, a)


def _einsum_terms(equation: str) -> tuple[list[str], str]:
    eq = equation.replace(" ", "")
    if "->" not in eq:
        raise OpError(f"Einsum equation {equation!r} needs an explicit output (\"->\")")
    lhs, out = eq.split("->")
    return lhs.split(","), out


def _einsum_eval(x, a):
    return [np.einsum(a["equation"].replace(" ", ""), *x)]


@op("Einsum", "opset7", {"equation": ("str",)}, inputs=(1, None), evaluate=_einsum_eval)
def einsum(ins, a):
    """Einstein summation with an explicit output, e.g. ``ij,jk->ik``; ``...`` broadcasts the unnamed dims."""
    terms, out = _einsum_terms(a["equation"])
    if len(terms) != len(ins):
        raise OpError(f"Einsum equation has {len(terms)} operands, got {len(ins)} inputs")
    dims: dict[str, int] = {}
    ell: tuple[int, ...] | None = ()
    for term, v in zip(terms, ins):
        if v.shape is None:
            if "..." in term:
                ell = None
            continue
        labels = re.findall(r"\.\.\.|[A-Za-z]", term)
        n_named = len([t for t in labels if t != "..."])
        n_ell = len(v.shape) - n_named
        if n_ell < 0 or (n_ell and "..." not in labels):
            raise OpError(f"Einsum term {term!r} does not fit an input of rank {len(v.shape)}")
        pos = 0
        for t in labels:
            if t == "...":
                if ell is not None:
                    ell = broadcast(ell, tuple(v.shape[pos:pos + n_ell]))
                pos += n_ell
            else:
                d = v.shape[pos]
                prev = dims.get(t, -1)
                dims[t] = d if prev < 0 or prev == 1 else prev
                pos += 1
    out_shape: list[int] = []
    for t in re.findall(r"\.\.\.|[A-Za-z]", out):
        if t == "...":
            if ell is None:
                return [(ins[0].etype, None)]
            out_shape.extend(ell)
        else:
            if t not in dims and any(v.shape is None for v in ins):
                return [(ins[0].etype, None)]
            out_shape.append(dims.get(t, -1))
    return [(ins[0].etype, tuple(out_shape))]
