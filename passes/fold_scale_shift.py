"""Fold constant per-channel scales and shifts into the ops that produce them.

Rules (c, d: constants that are scalars or one value per channel of axis 1):

    Multiply(Conv(x, W), c)            ->  Conv(x, W * c[o])
    Multiply(Conv(x, W) + b, c)        ->  Conv(x, W * c[o]) + b * c
    (y + c) + d                        ->  y + (c + d)
    Multiply(BatchNorm(x, g, b, m, v), c)  ->  BatchNorm(x, g * c, b * c, m, v)
    BatchNorm(x, g, b, m, v) + d       ->  BatchNorm(x, g, b + d, m, v)

Conv is Convolution or GroupConvolution with a constant filter; each rewritten op's
output must have no other user. This turns Caffe-style Scale layers (Mul + Add after a
convolution or a BatchNorm) into nothing; fold_batch_norm_into_conv then takes the
BatchNorms that follow convolutions. Scaled filters are lazy tensors.
"""
from __future__ import annotations

import logging

import numpy as np

from mo.graph import Graph, Node, Value
from mo.ir.builder import Builder

from .base import PassReport
from .conv_scaling import CONVS, rescaled_conv

log = logging.getLogger("mo.passes")



def per_channel(c: Value, out: Value) -> np.ndarray | None:
    """The constant ``c`` as a vector over channel axis 1 of ``out`` (length 1 for a scalar), or None."""
    if c.const is None or out.shape is None or len(out.shape) < 2 or c.shape is None:
        return None
    rank = len(out.shape)
    if len(c.shape) > rank:
        return None
    shape = (1,) * (rank - len(c.shape)) + tuple(c.shape)
    if int(np.prod(shape)) == 1:
        return c.const.numpy().astype(np.float64).reshape(1)
    if any(d != 1 for i, d in enumerate(shape) if i != 1) or shape[1] != out.shape[1]:
        return None
    return c.const.numpy().astype(np.float64).reshape(-1)


def _split_const(node: Node) -> tuple[Value, Value] | None:
    """(variable input, constant input) of a binary op, or None."""
    a, b = node.inputs
    if b.const is not None and a.const is None:
        return a, b
    if a.const is not None and b.const is None:
        return b, a
    return None


class _Rewriter:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.b = Builder(graph, fold=False)
        self.renames: list[tuple[Node, str]] = []
        self.count = 0

    def channel_const(self, vec: np.ndarray, like: Value) -> Value:
        """An f32 constant that broadcasts ``vec`` over axis 1 of ``like`` (the rules only touch f32)."""
        rank = len(like.shape)  # type: ignore[arg-type]
        shape = (1, -1) + (1,) * (rank - 2) if vec.size > 1 else (1,) * rank
        return self.b.const(vec.astype(np.float32).reshape(shape))

    def multiply(self, mul: Node) -> bool:
        split = _split_const(mul)
        if split is None:
            return False
        y, c = split
        scale = per_channel(c, mul.outputs[0])
        if scale is None or len(y.uses) != 1 or y.etype != "f32":
            return False
        p = y.producer
        if p is None:
            return False
        if p.op in CONVS and p.inputs[1].const is not None and p.inputs[1].shape is not None:
            conv_out = rescaled_conv(self.b, p, scale)
            self.renames.append((conv_out.producer, p.name))
            return self.replace(mul, conv_out)
        if p.op == "Add":
            inner = _split_const(p)
            if inner is None:
                return False
            z, bias = inner
            bvec = per_channel(bias, p.outputs[0])
            q = z.producer
            if bvec is None or q is None or q.op not in CONVS or q.inputs[1].const is None or len(z.uses) != 1:
                return False
            conv_out = rescaled_conv(self.b, q, scale)
            self.renames.append((conv_out.producer, q.name))
            shift = np.broadcast_to(bvec, np.broadcast_shapes(bvec.shape, scale.shape)) * scale
            return self.replace(mul, self.b.op("Add", conv_out, self.channel_const(shift, conv_out), name=p.name))
        if p.op == "BatchNormInference" and all(v.const is not None for v in p.inputs[1:]):
            gamma, beta = (v.const.numpy().astype(np.float64) for v in p.inputs[1:3])
            new = self.b.op("BatchNormInference", p.inputs[0], self.b.const((gamma * scale).astype(np.float32)),
                            self.b.const((beta * scale).astype(np.float32)), p.inputs[3], p.inputs[4],
                            name=p.name, **p.attrs)
            self.renames.append((new.producer, p.name))
            return self.replace(mul, new)
        return False

    def add(self, add: Node) -> bool:
        split = _split_const(add)
        if split is None:
            return False
        y, d = split
        shift = per_channel(d, add.outputs[0])
        p = y.producer
        if shift is None or p is None or len(y.uses) != 1 or y.etype != "f32":
            return False
        if p.op == "Add":
            inner = _split_const(p)
            if inner is None:
                return False
            z, c = inner
            cvec = per_channel(c, p.outputs[0])
            if cvec is None:
                return False
            total = np.broadcast_to(cvec, np.broadcast_shapes(cvec.shape, shift.shape)) + shift
            return self.replace(add, self.b.op("Add", z, self.channel_const(total, add.outputs[0]), name=p.name))
        if p.op == "BatchNormInference" and all(v.const is not None for v in p.inputs[1:]):
            beta = p.inputs[2].const.numpy().astype(np.float64)  # type: ignore[union-attr]
            new = self.b.op("BatchNormInference", p.inputs[0], p.inputs[1], self.b.const((beta + shift).astype(np.float32)),
                            p.inputs[3], p.inputs[4], name=p.name, **p.attrs)
            self.renames.append((new.producer, p.name))
            return self.replace(add, new)
        return False

    def replace(self, old: Node, new: Value) -> bool:
        self.graph.replace_all_uses_with(old.outputs[0], new)
        self.count += 1
        return True


def run(graph: Graph) -> PassReport:
    rw = _Rewriter(graph)
    changed = True
    removed = 0
    while changed:
        changed = False
        for node in list(graph.nodes):
            if node not in graph.nodes or node.outputs and not node.outputs[0].uses:
                continue
            if node.op == "Multiply" and rw.multiply(node) or node.op == "Add" and rw.add(node):
                changed = True
        if changed:
            removed += graph.toposort()
    for node, name in rw.renames:
        graph.rename(node, name)
    return PassReport("fold_scale_shift", rw.count > 0, f"{rw.count} Multiply/Add folded, {removed} nodes removed")
