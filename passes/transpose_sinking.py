"""Transpose sinking: move Transposes toward the outputs until pairs meet and cancel.

Rules (p a constant permutation, inv(p) its inverse; applied in topological order,
repeated until nothing changes):

    Transpose(Transpose(x, p1), p2)      ->  Transpose(x, p1[p2]), or x when that is the identity
    U(Transpose(x, p))                   ->  Transpose(U(x), p)            U element-wise unary
    B(Transpose(a, p), Transpose(b, p))  ->  Transpose(B(a, b), p)         B element-wise n-ary
    B(Transpose(a, p), c)                ->  Transpose(B(a, c'), p)        c constant, c' = c (rank-extended) permuted by inv(p)
    Concat(Transpose(x_i, p)..., axis)   ->  Transpose(Concat(x_i..., p[axis]), p)   (constants permuted by inv(p))
    Pad(Transpose(x, p), b, e, v)        ->  Transpose(Pad(x, b', e', v), p)          b'[p[i]] = b[i], constant pads
    Transpose(x, p) used twice           ->  one Transpose(x, p)
    Transpose(x, p) moving only size-1 axes of a static shape  ->  Reshape(x, out_shape)
    Reduce(Transpose(x, p), axes, keep)  ->  Reduce(x, p[axes], keep), then Transpose by p when keep_dims,
                                             else by p restricted to the kept axes (dropped when in order)

A frontend that converts each NHWC op as ``Transpose -> op -> Transpose`` thus keeps only
the transposes at the model's interface (and before layout-sensitive ops like Reshape).
A Transpose with other users stays for them; the rewrite never changes values.
"""
from __future__ import annotations

import numpy as np

from mo.graph import Graph, Node, Value
from mo.ir.builder import Builder

from .base import PassReport

UNARY = frozenset({
    "Relu", "Sigmoid", "Tanh", "Exp", "Log", "Sqrt", "Abs", "Negative", "Floor", "Ceiling", "Sign", "Erf",
    "SoftPlus", "SoftSign", "Mish", "HSwish", "HSigmoid", "LogicalNot", "Clamp", "Elu", "Gelu", "Round",
    "Convert", "Sin", "Cos", "IsNaN", "IsInf", "IsFinite",
})
NARY = frozenset({
    "Add", "Subtract", "Multiply", "Divide", "Power", "Maximum", "Minimum", "SquaredDifference", "Mod",
    "FloorMod", "Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual", "LogicalAnd", "LogicalOr",
    "LogicalXor", "Select",
})
REDUCE = frozenset({"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
                    "ReduceLogicalAnd", "ReduceLogicalOr"})

MAX_SWEEPS = 20


def _perm(v: Value) -> list[int] | None:
    """The permutation of a Transpose output ``v`` (None when ``v`` is not such a Transpose)."""
    n = v.producer
    if n is None or n.op != "Transpose":
        return None
    p = n.inputs[1].const_value()
    if p is None or n.inputs[0].rank is None:
        return None
    p = [int(x) for x in p.reshape(-1)]
    if not p:
        p = list(range(n.inputs[0].rank))[::-1]
    return p


def _first_perm(values) -> list[int] | None:
    """The permutation of the first of ``values`` that a Transpose produces, if any."""
    for v in values:
        p = _perm(v)
        if p is not None:
            return p
    return None


def _inverse(p: list[int]) -> list[int]:
    inv = [0] * len(p)
    for i, x in enumerate(p):
        inv[x] = i
    return inv


class _Sinker:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.b = Builder(graph)
        self.rewrites = 0
        self.cancelled = 0

    def transpose(self, x: Value, p: list[int]) -> Value:
        return self.b.op("Transpose", x, self.b.const(np.asarray(p, dtype=np.int64)))

    def start(self, node: Node) -> None:
        self.b.name_hint = node.name
        self.b.meta = dict(node.meta)

    def replace(self, node: Node, new: Value) -> None:
        self.graph.replace_all_uses_with(node.outputs[0], new)
        self.rewrites += 1

    # ------------------------------------------------------------------ rules
    def to_reshape(self, node: Node) -> bool:
        """A Transpose that moves only size-1 axes of a static shape is a Reshape."""
        x, out = node.inputs[0], node.outputs[0]
        p = _perm(out)
        if p is None or not x.is_static or not out.is_static:
            return False
        if [a for a in p if x.shape[a] != 1] != [a for a in range(len(p)) if x.shape[a] != 1]:
            return False
        self.start(node)
        self.replace(node, self.b.op("Reshape", x, self.b.const(np.asarray(out.shape, dtype=np.int64)),
                                     special_zero=False))
        return True

    def merge(self, node: Node) -> bool:
        p2 = _perm(node.outputs[0])
        inner = node.inputs[0]
        p1 = _perm(inner)
        if p1 is None or p2 is None or len(p1) != len(p2):
            return self.to_reshape(node)
        q = [p1[i] for i in p2]
        self.start(node)
        x = inner.producer.inputs[0]
        if q == list(range(len(q))):
            self.replace(node, x)
            self.cancelled += 1
        else:
            self.replace(node, self.transpose(x, q))
        return True

    def unary(self, node: Node) -> bool:
        if len(node.inputs) != 1 or len(node.outputs) != 1:
            return False
        p = _perm(node.inputs[0])
        if p is None:
            return False
        self.start(node)
        y = self.b.op(node.op, node.inputs[0].producer.inputs[0], **node.attrs)
        self.replace(node, self.transpose(y, p))
        return True

    def nary(self, node: Node) -> bool:
        out = node.outputs[0]
        if out.rank is None or node.attrs.get("auto_broadcast", "numpy") != "numpy":
            return False
        p = _first_perm(node.inputs)
        if p is None or len(p) != out.rank:
            return False
        inv = _inverse(p)
        new_inputs = []
        for v in node.inputs:
            if _perm(v) == p:
                new_inputs.append(v.producer.inputs[0])
                continue
            c = v.const_value()
            if c is None or c.ndim > len(p):
                return False
            if c.size == 1 and c.ndim <= 1:
                new_inputs.append(v)    # a scalar broadcasts the same in any layout
                continue
            c = c.reshape((1,) * (len(p) - c.ndim) + c.shape)
            new_inputs.append(np.ascontiguousarray(np.transpose(c, inv)))
        self.start(node)
        ins = [v if isinstance(v, Value) else self.b.const(v) for v in new_inputs]
        y = self.b.op(node.op, *ins, **node.attrs)
        self.replace(node, self.transpose(y, p))
        return True

    def concat(self, node: Node) -> bool:
        p = _first_perm(node.inputs)
        if p is None:
            return False
        inv = _inverse(p)
        new_inputs = []
        for v in node.inputs:
            if _perm(v) == p:
                new_inputs.append(v.producer.inputs[0])
                continue
            c = v.const_value()
            if c is None or c.ndim != len(p):
                return False
            new_inputs.append(self.b.const(np.ascontiguousarray(np.transpose(c, inv))))
        axis = node.attrs["axis"] % len(p)
        self.start(node)
        y = self.b.op("Concat", *new_inputs, axis=p[axis])
        self.replace(node, self.transpose(y, p))
        return True

    def pad(self, node: Node) -> bool:
        p = _perm(node.inputs[0])
        if p is None:
            return False
        pb, pe = node.inputs[1].const_value(), node.inputs[2].const_value()
        if pb is None or pe is None or pb.size != len(p) or pe.size != len(p):
            return False
        nb, ne = [0] * len(p), [0] * len(p)
        for i, ax in enumerate(p):
            nb[ax] = int(pb.reshape(-1)[i])
            ne[ax] = int(pe.reshape(-1)[i])
        self.start(node)
        dt = pb.dtype
        extra = list(node.inputs[3:])
        y = self.b.op("Pad", node.inputs[0].producer.inputs[0], self.b.const(np.asarray(nb, dtype=dt)),
                      self.b.const(np.asarray(ne, dtype=dt)), *extra, **node.attrs)
        self.replace(node, self.transpose(y, p))
        return True

    def reduce(self, node: Node) -> bool:
        p = _perm(node.inputs[0])
        axes = node.inputs[1].const_value()
        if p is None or axes is None:
            return False
        r = len(p)
        ax = sorted({int(a) % r for a in axes.reshape(-1)})
        new_axes = sorted(p[a] for a in ax)
        self.start(node)
        y = self.b.op(node.op, node.inputs[0].producer.inputs[0], self.b.const(np.asarray(new_axes, dtype=np.int64)),
                      **node.attrs)
        if node.attrs.get("keep_dims"):
            self.replace(node, self.transpose(y, p))
            return True
        # kept axes of x in the order the original output wants them
        kept_src = [p[i] for i in range(r) if i not in ax]
        order = sorted(kept_src)
        q = [order.index(s) for s in kept_src]
        self.replace(node, y if q == list(range(len(q))) else self.transpose(y, q))
        return True

    def dedup(self) -> bool:
        """Transposes of the same value by the same permutation become one."""
        seen: dict[tuple, Value] = {}
        changed = False
        for node in list(self.graph.nodes):
            if node.op != "Transpose" or not node.outputs[0].uses:
                continue
            p = _perm(node.outputs[0])
            if p is None:
                continue
            key = (id(node.inputs[0]), tuple(p))
            first = seen.setdefault(key, node.outputs[0])
            if first is not node.outputs[0]:
                self.graph.replace_all_uses_with(node.outputs[0], first)
                changed = True
        return changed

    def visit(self, node: Node) -> bool:
        if not node.inputs or len(node.outputs) != 1:
            return False
        if node.op == "Transpose":
            return self.merge(node) if _perm(node.inputs[0]) is not None else False
        if node.op in UNARY:
            return self.unary(node)
        if node.op in NARY:
            return self.nary(node)
        if node.op == "Concat":
            return self.concat(node)
        if node.op == "Pad":
            return self.pad(node)
        if node.op in REDUCE:
            return self.reduce(node)
        return False


def run(graph: Graph) -> PassReport:
    s = _Sinker(graph)
    before = sum(1 for n in graph.nodes if n.op == "Transpose")
    for _ in range(MAX_SWEEPS):
        changed = s.dedup()
        for node in list(graph.nodes):
            if not any(v.uses for v in node.outputs):
                continue
            if any(_perm(v) is not None for v in node.inputs):
                changed |= s.visit(node)
            elif node.op == "Transpose":
                changed |= s.to_reshape(node)
        graph.toposort()
        if not changed:
            break
    after = sum(1 for n in graph.nodes if n.op == "Transpose")
    return PassReport("transpose_sinking", s.rewrites > 0,
                      f"{s.rewrites} rewrites, {s.cancelled} transpose pairs cancelled, "
                      f"Transposes {before} -> {after}")
