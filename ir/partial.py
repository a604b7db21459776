"""Values that are known at conversion time although the graph computes them at run time.

The Builder folds an op when all its inputs are constants. Some values are known even when
they are not: ``ShapeOf`` of a tensor with a dynamic batch still knows the other dimensions,
so ``StridedSlice(ShapeOf(x), [1], [2])`` is a number the converter can use (a sequence
length, the trip count of a loop). :func:`known_value` finds such values by evaluating the
producers with numpy and a per-element "known" mask:

* a constant is known everywhere; ``ShapeOf`` is known where the dimension is static;
* data-movement ops (slices, gathers, reshapes, concatenation, converts...) move the mask
  the way they move the data; their index/shape inputs must be fully known;
* elementwise ops are known where all their operands are known (broadcast);
* any other op is known only when all its inputs are fully known.

Nothing is added to the graph.
"""
from __future__ import annotations

import numpy as np

from mo.graph import Value
from mo.types import to_numpy

from . import opset

# op -> input indices whose mask travels with the data (the other inputs must be fully known)
_MOVE = {
    "StridedSlice": (0,), "Slice": (0,), "Gather": (0,), "Squeeze": (0,), "Unsqueeze": (0,),
    "Reshape": (0,), "Transpose": (0,), "Convert": (0,), "Broadcast": (0,), "Tile": (0,),
    "Split": (0,), "VariadicSplit": (0,), "Concat": None,  # None: every input is data
}
_ELEMENTWISE = frozenset({
    "Add", "Subtract", "Multiply", "Divide", "Minimum", "Maximum", "FloorMod", "Mod", "Power",
    "Less", "LessEqual", "Greater", "GreaterEqual", "Equal", "NotEqual", "LogicalAnd", "LogicalOr",
    "LogicalXor", "LogicalNot", "Negative", "Abs", "Floor", "Ceiling", "SquaredDifference",
})
_MAX_DEPTH = 64


def known_value(v: Value) -> np.ndarray | None:
    """The value of ``v`` when every element of it is known at conversion time, else None."""
    got = _eval(v, {}, 0)
    if got is None:
        return None
    arr, mask = got
    return arr if bool(np.all(mask)) else None


def _eval(v: Value, memo: dict, depth: int) -> tuple[np.ndarray, np.ndarray] | None:
    if v.const is not None:
        a = v.const_value()
        return a, np.ones(a.shape, dtype=bool)
    p = v.producer
    if p is None or depth > _MAX_DEPTH:
        return None
    key = (id(p), v.index)
    if key in memo:
        return memo[key]
    memo[key] = None  # guards against cycles
    out = _eval_node(p, v.index, memo, depth)
    memo[key] = out
    return out


def _eval_node(p, index: int, memo: dict, depth: int) -> tuple[np.ndarray, np.ndarray] | None:
    if p.op == "ShapeOf":
        shape = p.inputs[0].shape
        if shape is None:
            return None
        arr = np.array([max(d, 0) for d in shape], dtype=to_numpy(p.outputs[0].etype))
        return arr, np.array([d >= 0 for d in shape], dtype=bool)
    d = opset.OPS.get(p.op)
    if d is None or d.evaluate is None:
        return None
    ins = [_eval(x, memo, depth + 1) for x in p.inputs]
    if any(x is None for x in ins):
        return None
    arrays = [a for a, _ in ins]
    masks = [m for _, m in ins]
    with np.errstate(all="ignore"):
        try:
            res = d.evaluate(arrays, p.attrs)
        except Exception:  # noqa: BLE001  (placeholder values of unknown elements may upset an evaluator)
            return None
        out = np.asarray(res[index])
        if p.op in _ELEMENTWISE:
            mask = np.ones(out.shape, dtype=bool)
            for m in masks:
                mask = mask & np.broadcast_to(m, out.shape)
            return out, mask
        if p.op in _MOVE:
            data = _MOVE[p.op]
            data = range(len(arrays)) if data is None else data
            if any(not np.all(m) for k, m in enumerate(masks) if k not in data):
                return None
            moved = [m.astype(a.dtype) if k in data else a for k, (a, m) in enumerate(zip(arrays, masks))]
            try:
                mres = d.evaluate(moved, p.attrs)
            except Exception:  # noqa: BLE001
                return None
            return out, np.asarray(mres[index]).astype(bool)
        if all(np.all(m) for m in masks):
            return out, np.ones(out.shape, dtype=bool)
    return None


__all__ = ["known_value"]
