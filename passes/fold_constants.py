"""Constant folding.

Rule: an op whose inputs are all Const (and which has a numpy evaluation) becomes a
Const holding its result; ``ShapeOf`` of a static shape becomes a Const as well.
Large results stay lazy: they are computed when the emitter streams them, so folding
the light model zoo's ``ConstantOfShape`` weight subgraphs costs no memory up front.
"""
from __future__ import annotations

from mo.graph import Graph
from mo.ir import opset
from mo.ir.builder import try_fold
from mo.tensor import ArrayTensor, LazyTensor
from mo.types import to_numpy

from .base import PassReport

EAGER_ELEMENTS = 1 << 20  # results up to this size are computed now, larger ones lazily

# ops that must never be folded even with constant inputs
KEEP = frozenset({"Parameter", "Const", "Result", "ReadValue", "Assign"})


def run(graph: Graph) -> PassReport:
    folded = 0
    for node in list(graph.nodes):
        if node.op in KEEP or node not in graph.nodes or not node.outputs:
            continue
        d = opset.OPS.get(node.op)
        if d is None:
            continue
        # keep decompression Converts of compressed weights as they are
        if node.rt_info.get("decompression") is not None:
            continue
        specs = [(v.etype, v.shape) for v in node.outputs]
        if not all(v.const is not None for v in node.inputs) and d.fold is None:
            continue
        big = any(sh is not None and all(x >= 0 for x in sh) and _numel(sh) > EAGER_ELEMENTS for _, sh in specs)
        if big:
            if len(specs) != 1 or d.evaluate is None or not all(v.const is not None for v in node.inputs):
                continue
            et, sh = specs[0]
            ins = [v.const for v in node.inputs]
            attrs = dict(node.attrs)

            def compute(ins=ins, attrs=attrs, d=d, et=et):
                return d.evaluate([t.numpy() for t in ins], attrs)[0].astype(to_numpy(et), copy=False)
            values = [LazyTensor(compute, to_numpy(et), sh)]
        else:
            res = try_fold(d, node.inputs, node.attrs, specs, limit=None)
            if res is None:
                continue
            values = [ArrayTensor(a) for a in res]
        for v, t in zip(node.outputs, values):
            c = graph.add_node("Const", "opset1", (), [(v.etype, tuple(t.shape))],
                               {"element_type": v.etype, "shape": list(t.shape)}, name=node.name + "/folded"
                               if len(values) > 1 else node.name + "/Const", meta=dict(node.meta))
            c.outputs[0].const = t
            graph.replace_all_uses_with(v, c.outputs[0])
        folded += 1
    removed = graph.toposort() if folded else 0
    return PassReport("fold_constants", folded > 0, f"{folded} ops folded, {removed} nodes removed")


def _numel(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n
