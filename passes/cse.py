"""Common subexpression elimination.

Rule, applied in topological order so merges cascade:

    op(x..., attrs) twice, same type, version, inputs, attributes and rt_info  ->  one op

where two inputs are the same when they are the very same Value, or Consts with the same
element type, shape and bytes (two convolutions with equal filters under different names
become one). Consts themselves are not merged: a filter Const read by several
convolutions makes OpenVINO's CPU plugin slower (measured: about 3% on SqueezeNet, whose
fire modules then share filters), and the emitter stores equal blobs once anyway.

Not merged: Parameters, Results, stateful ops (ReadValue, Assign), random ops
(RandomUniform, Multinomial: each draws its own numbers), ops with bodies (If, Loop,
TensorIterator), and a node any of whose outputs is a model output (its tensor names are
the output's names; merging would give two Results the same names). Tensor names of a
merged Value move to the survivor unless the survivor is a model output. Constants are
compared by a hash of their bytes, and only Consts that share element type and shape with
another Const are hashed; constants over ``MAX_HASH_ELEMENTS`` elements, and any beyond the
first ``HASH_BUDGET_BYTES`` hashed in one run, count as distinct (this bounds the time spent
reading the weights of very large models).
"""
from __future__ import annotations

from typing import Any

from mo.graph import Graph, Node, Value

from .base import PassReport

KEEP = frozenset({"Parameter", "Result", "ReadValue", "Assign", "RandomUniform", "Multinomial", "If", "Loop",
                  "TensorIterator"})
MAX_HASH_ELEMENTS = 1 << 26
HASH_BUDGET_BYTES = 1 << 29


def _frozen(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return tuple(_frozen(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((k, _frozen(x)) for k, x in v.items()))
    hash(v)  # raises TypeError for anything else unhashable
    return v


def _feeds_result(node: Node) -> bool:
    return any(user.op == "Result" for v in node.outputs for user, _ in v.uses)


def _key(node: Node, ids: dict[Value, int], budget: list[int]) -> tuple | None:
    try:
        attrs = _frozen({k: v for k, v in node.attrs.items() if k != "value"})
        rt = _frozen(node.rt_info)
    except TypeError:
        return None
    if node.op == "Const":
        v = node.outputs[0]
        t = v.const
        if t is None or int(getattr(t, "size", 0)) > MAX_HASH_ELEMENTS:
            return None
        nbytes = int(getattr(t, "nbytes", 0))
        if nbytes > budget[0]:
            return None
        budget[0] -= nbytes
        return ("Const", v.etype, v.shape, t.digest(), rt)
    return (node.op, node.version, tuple(ids[v] for v in node.inputs), len(node.outputs), attrs, rt)


def run(graph: Graph) -> PassReport:
    graph.toposort()
    ids: dict[Value, int] = {}
    seen: dict[tuple, Node] = {}
    # Consts are hashed only when another Const of the same type and shape exists
    by_shape: dict[tuple, int] = {}
    for n in graph.nodes:
        if n.op == "Const":
            k = (n.outputs[0].etype, n.outputs[0].shape)
            by_shape[k] = by_shape.get(k, 0) + 1
    merged = 0
    budget = [HASH_BUDGET_BYTES]
    for node in list(graph.nodes):
        if node.op in KEEP or any(v not in ids for v in node.inputs):
            key = None
        elif node.op == "Const" and by_shape.get((node.outputs[0].etype, node.outputs[0].shape), 0) < 2:
            key = None
        else:
            key = _key(node, ids, budget)
        if node.op == "Const":
            if key is not None and key in seen:
                ids[node.outputs[0]] = ids[seen[key].outputs[0]]     # equal content: same identity
                continue
        elif key is not None and key in seen and not _feeds_result(node):
            keep = seen[key]
            names = not _feeds_result(keep)
            for old, new in zip(node.outputs, keep.outputs):
                graph.replace_all_uses_with(old, new, keep_names=names)
                ids[old] = ids[new]
            merged += 1
            continue
        if key is not None and key not in seen:
            seen[key] = node
        for v in node.outputs:
            ids[v] = len(ids)
    removed = graph.toposort() if merged else 0
    return PassReport("cse", merged > 0, f"{merged} duplicate nodes merged, {removed} nodes removed")
