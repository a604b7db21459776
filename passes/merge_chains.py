"""Merge chains of data-movement ops and of constant arithmetic.

Rules (a, b: constants; "expressible" = the result shape has at most one dynamic dimension
and no zero-size dimension, so a constant Reshape target with at most one -1 reproduces it):

Data movement
    Transpose(Transpose(x, p), q)          ->  Transpose(x, p[q]), or x when p[q] is the identity
    Transpose(x, identity)                 ->  x
    Transpose(x, p) that keeps the order of x's non-1 axes (expressible)
                                           ->  Reshape(x, shape)      (a pure reshape in disguise)
    R2(R1(x)), R1/R2 each Reshape, Squeeze or Unsqueeze, result expressible
                                           ->  Reshape(x, result shape)
    Reshape/Squeeze/Unsqueeze whose output shape equals its input shape (expressible) -> x
    Reshape(x, Concat(parts)) where every element of the target is a constant but one
                                           ->  Reshape(x, constant target with -1 there)
        (the original reshape succeeded, so the unknown element is numel(x) / the rest's
        product; this removes ShapeOf/StridedSlice/Concat shape subgraphs around a dynamic
        batch dimension)
    Concat(a, Concat(b, c), d) on one axis  ->  Concat(a, b, c, d)   (inner Concat read only there)
    Reshape(Transpose(Reshape(x, [N, g, C/g, *S]), [0, 2, 1, 3...]), [N, C, *S])
                                           ->  ShuffleChannels(x, axis=1, group=g)

Constant arithmetic (floating point only; each inner op's output has no other user;
a rewrite is refused when broadcasting the merged constant would change the output shape)
    x - a                    ->  x + (-a)
    x / a                    ->  x * (1 / a)
    (x * a) * b              ->  x * (a * b)
    (x + a) + b              ->  x + (a + b)
    (x + a) * b              ->  x * b + a * b       (scale first: it can then fold into a conv)
    x + 0, x * 1             ->  x                   (when the output shape is x's shape)

A node is never bypassed when that would put a model output's tensor names on a
Parameter or on another output. New nodes take the replaced node's name.
"""
from __future__ import annotations

import numpy as np

from mo.graph import Graph, Node, Value
from mo.ir import opset
from mo.ir.builder import Builder
from mo.ir.opset import OpError

from .base import PassReport

RESHAPES = ("Reshape", "Squeeze", "Unsqueeze")
FLOATS = ("f32", "f16", "bf16", "f64")


def _feeds_result(v: Value) -> bool:
    return any(u.op == "Result" for u, _ in v.uses)


def _target(shape) -> list[int] | None:
    """A constant Reshape target reproducing ``shape``, or None when it is not expressible."""
    if shape is None or 0 in shape or sum(d < 0 for d in shape) > 1:
        return None
    return [int(d) for d in shape]


def _same_shape(a, b) -> bool:
    return a is not None and a == b and sum(d < 0 for d in a) <= 1


class _Merger:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.b = Builder(graph, fold=False)
        self.renames: list[tuple[Node, str]] = []
        self.count = 0
        self.refined = False

    # ----------------------------------------------------------------- helpers
    def bypass(self, node: Node, new: Value) -> bool:
        old = node.outputs[0]
        if _feeds_result(old) and (new.producer is None or new.producer.op == "Parameter" or _feeds_result(new)):
            return False
        if old.shape != new.shape or old.etype != new.etype:
            return False
        if _feeds_result(old):          # the model output's names come first
            new.names = old.names + [n for n in new.names if n not in old.names]
            old.names = []
        self.graph.replace_all_uses_with(old, new)
        self.count += 1
        return True

    def replace(self, node: Node, new: Value) -> bool:
        old = node.outputs[0].shape
        if old is not None and (new.shape is None or len(new.shape) != len(old)
                                or any(o >= 0 and o != n for o, n in zip(old, new.shape))):
            return False        # the unused new node goes with the next toposort
        if new.shape != old:
            self.refined = True
        self.graph.replace_all_uses_with(node.outputs[0], new)
        if new.producer is not None and new.producer.op != "Const":
            self.renames.append((new.producer, node.name))
        self.count += 1
        return True

    def reshape(self, node: Node, x: Value, target: list[int]) -> bool:
        return self.replace(node, self.b.op("Reshape", x, self.b.const(np.array(target, np.int64)),
                                            name=node.name + "/merged", special_zero=False))

    # ----------------------------------------------------------------- movement
    def transpose(self, node: Node) -> bool:
        x, p = node.inputs
        pv = p.const_value()
        if pv is None or pv.size == 0:
            return False
        perm = [int(v) for v in pv.reshape(-1)]
        if perm == list(range(len(perm))):
            return self.bypass(node, x)
        q = x.producer
        if q is not None and q.op == "Transpose" and q.inputs[1].const_value() is not None \
                and q.inputs[1].const_value().size == len(perm):
            inner = [int(v) for v in q.inputs[1].const_value().reshape(-1)]
            merged = [inner[i] for i in perm]
            y = q.inputs[0]
            if merged == list(range(len(merged))):
                return self.bypass(node, y)
            return self.replace(node, self.b.op("Transpose", y, self.b.const(np.array(merged, np.int64)),
                                                name=node.name + "/merged"))
        if x.shape is not None:
            moved = [i for i in perm if x.shape[i] != 1]
            target = _target(node.outputs[0].shape)
            if moved == sorted(moved) and target is not None:
                return self.reshape(node, x, target)
        return False

    def reshape_like(self, node: Node) -> bool:
        x = node.inputs[0]
        out = node.outputs[0]
        if _same_shape(x.shape, out.shape):
            return self.bypass(node, x)
        q = x.producer
        target = _target(out.shape)
        if q is not None and q.op in RESHAPES and target is not None:
            return self.reshape(node, q.inputs[0], target)
        if node.op == "Reshape" and node.inputs[1].const is None:
            t = self.partial_target(node.inputs[1])
            if t is not None:
                return self.reshape(node, x, t)
        if node.op == "Reshape" and q is not None and q.op == "Transpose":
            return self.shuffle(node, q)
        return False

    def partial_target(self, s: Value) -> list[int] | None:
        """The target with its one unknown element as -1, when all others are constant and positive."""
        c = s.producer
        if c is None or c.op != "Concat" or c.attrs["axis"] not in (0, -1):
            return None
        out: list[int] = []
        unknown = 0
        for part in c.inputs:
            v = part.const_value()
            if v is not None:
                out += [int(e) for e in v.reshape(-1)]
            elif part.shape == (1,):
                out.append(-1)
                unknown += 1
            else:
                return None
        if unknown != 1 or any(e <= 0 for e in out if e != -1) or out.count(-1) != 1:
            return None
        return out

    def shuffle(self, node: Node, tr: Node) -> bool:
        r1 = tr.inputs[0].producer
        if r1 is None or r1.op not in RESHAPES or len(tr.outputs[0].uses) != 1 or len(tr.inputs[0].uses) != 1:
            return False
        x = r1.inputs[0]
        pv = tr.inputs[1].const_value()
        mid = tr.inputs[0].shape
        if pv is None or x.shape is None or mid is None or len(x.shape) < 2 or len(mid) != len(x.shape) + 1:
            return False
        perm = [int(v) for v in pv.reshape(-1)]
        if perm != [0, 2, 1] + list(range(3, len(mid))):
            return False
        n, c, *rest = x.shape
        g = mid[1]
        if c <= 0 or g <= 0 or mid[0] != n or mid[2] * g != c or list(mid[3:]) != rest \
                or node.outputs[0].shape != x.shape:
            return False
        return self.replace(node, self.b.op("ShuffleChannels", x, name=node.name + "/shuffle", axis=1, group=g))

    def concat(self, node: Node) -> bool:
        rank = len(node.outputs[0].shape) if node.outputs[0].shape is not None else None
        if rank is None:
            return False
        axis = node.attrs["axis"] % rank
        parts: list[Value] = []
        for v in node.inputs:
            p = v.producer
            if p is not None and p.op == "Concat" and len(v.uses) == 1 and p.attrs["axis"] % rank == axis \
                    and not _feeds_result(v):
                parts += p.inputs
            else:
                parts.append(v)
        if len(parts) == len(node.inputs):
            return False
        return self.replace(node, self.b.op("Concat", *parts, name=node.name + "/merged", axis=node.attrs["axis"]))

    # ----------------------------------------------------------------- arithmetic
    def split(self, node: Node) -> tuple[Value, np.ndarray] | None:
        a, c = node.inputs
        if node.op in ("Add", "Multiply") and a.const is not None and c.const is None:
            a, c = c, a
        if c.const is None or a.const is not None or node.outputs[0].etype not in FLOATS:
            return None
        if node.attrs.get("auto_broadcast", "numpy") != "numpy":
            return None
        return a, c.const.numpy()

    def binary(self, op: str, x: Value, c: np.ndarray, node: Node, dtype) -> Value | None:
        out = node.outputs[0]
        if x.shape is None or out.shape is None:
            return None
        try:
            shape = np.broadcast_shapes(tuple(max(d, 1) for d in x.shape), c.shape)
        except ValueError:
            return None
        if len(shape) != len(out.shape) or any(d >= 0 and d != e for d, e in zip(out.shape, shape)):
            return None
        return self.b.op(op, x, self.b.const(c.astype(dtype)), name=node.name + "/merged")

    def arithmetic(self, node: Node) -> bool:
        sp = self.split(node)
        if sp is None:
            return False
        x, c = sp
        dtype = c.dtype
        c64 = c.astype(np.float64)
        if node.op == "Subtract":
            new = self.binary("Add", x, -c64, node, dtype)
            return new is not None and self.replace(node, new)
        if node.op == "Divide":
            if not np.all(c64 != 0):
                return False
            new = self.binary("Multiply", x, 1.0 / c64, node, dtype)
            return new is not None and self.replace(node, new)
        neutral = 0.0 if node.op == "Add" else 1.0
        keeps_shape = x.shape is not None and (c.size == 1 and c.ndim <= len(x.shape)
                                               or _same_shape(x.shape, node.outputs[0].shape))
        if np.all(c64 == neutral) and keeps_shape:
            if self.bypass(node, x):
                return True
        q = x.producer
        if q is None or q.op not in ("Add", "Multiply") or len(x.uses) != 1:
            return False
        inner = self.split(q)
        if inner is None:
            return False
        y, a = inner
        a64 = a.astype(np.float64)
        try:
            if q.op == node.op:
                merged = a64 * c64 if node.op == "Multiply" else a64 + c64
                new = self.binary(node.op, y, merged, node, dtype)
                return new is not None and self.replace(node, new)
            if q.op == "Add" and node.op == "Multiply":       # (y + a) * c -> y * c + a * c
                scaled = self.binary("Multiply", y, c64, node, dtype)
                if scaled is None:
                    return False
                new = self.binary("Add", scaled, a64 * c64, node, dtype)
                return new is not None and self.replace(node, new)
        except ValueError:      # constants that do not broadcast together
            return False
        return False


def refine_shapes(graph: Graph) -> None:
    """Infer output shapes again where a rewrite made an input shape more specific."""
    for node in graph.nodes:
        if node.op in ("Const", "Parameter", "Result"):
            continue
        d = opset.OPS.get(node.op)
        if d is None:
            continue
        try:
            specs = d.infer(node.inputs, dict(node.attrs))
        except (OpError, ValueError, TypeError, IndexError, KeyError):
            continue
        for v, (_, sh) in zip(node.outputs, specs):
            if sh is None or v.shape is None or len(sh) != len(v.shape):
                continue
            if all(o < 0 or o == n for o, n in zip(v.shape, sh)):
                v.shape = tuple(n if o < 0 else o for o, n in zip(v.shape, sh))


def run(graph: Graph) -> PassReport:
    m = _Merger(graph)
    start = len(graph)
    for _ in range(20):
        before = m.count
        for node in list(graph.nodes):
            if node not in graph.nodes or not node.outputs or not node.outputs[0].uses:
                continue
            if node.op == "Transpose":
                m.transpose(node)
            elif node.op in RESHAPES:
                m.reshape_like(node)
            elif node.op == "Concat":
                m.concat(node)
            elif node.op in ("Add", "Multiply", "Subtract", "Divide"):
                m.arithmetic(node)
        graph.toposort()
        if m.refined:
            refine_shapes(graph)
            m.refined = False
        for node, name in m.renames:      # the replaced nodes are gone: new nodes take their names
            graph.rename(node, name)
        m.renames.clear()
        if m.count == before:
            break
    return PassReport("merge_chains", m.count > 0, f"{m.count} rewrites, {start - len(graph)} nodes fewer")
