"""Fold constant per-channel scales and shifts into the ops around them.

Rules (c, d: constants that are scalars or one value per channel; a channel is axis 1 for
convolutions and BatchNorm, the last axis for MatMul):

Forward (after the op), valid for every op below:
    Multiply(Conv(x, W), c)            ->  Conv(x, W * c[o])
    Multiply(Conv(x, W) + b, c)        ->  Conv(x, W * c[o]) + b * c
    Multiply(MatMul(x, B), c)          ->  MatMul(x, B * c[n])          (c over B's columns)
    Multiply(MatMul(x, B) + b, c)      ->  MatMul(x, B * c[n]) + b * c
    (y + c) + d                        ->  y + (c + d)
    Multiply(BatchNorm(x, g, b, m, v), c)  ->  BatchNorm(x, g * c, b * c, m, v)
    BatchNorm(x, g, b, m, v) + d       ->  BatchNorm(x, g, b + d, m, v)

Backward (before the op), c per channel of the op's input:
    Conv(x * c, W)                     ->  Conv(x, W * c[i])      any zero padding: 0 * c = 0
        (transposed convolutions too: their pads crop the output, they pad nothing)
    MatMul(x * c, B)                   ->  MatMul(x, B * c[k])    (rows of B; not with transpose_a)
    Conv(x + d, W)                     ->  Conv(x, W) + sum_{i,k} W[o, i, k] * d[i]
        only Convolution/GroupConvolution whose windows never read padding (explicit or
        valid with zero pads, or 1x1 kernels with stride 1): a padded zero would not get d
    MatMul(x + d, B)                   ->  MatMul(x, B) + d @ B     (not with transpose_a)

Conv is Convolution, GroupConvolution, ConvolutionBackpropData or
GroupConvolutionBackpropData (backward Add only for the first two) with a constant filter; every rewritten op's output (and, backward, the Multiply/Add's output)
must have no other user, and only f32 tensors are touched. This turns Caffe-style Scale
layers (Mul + Add after a convolution or a BatchNorm) into nothing;
fold_batch_norm_into_conv then takes the BatchNorms that follow convolutions. Scaled
filters are lazy tensors.
"""
from __future__ import annotations

import logging

import numpy as np

from mo.graph import Graph, Node, Value
from mo.ir.builder import Builder

from .base import PassReport
from .conv_scaling import CONVS, rescaled_conv, scale_shape

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


def per_last(c: Value, out: Value) -> np.ndarray | None:
    """The constant ``c`` as a vector over the last axis of ``out`` (length 1 for a scalar), or None."""
    if c.const is None or out.shape is None or not out.shape or c.shape is None or len(c.shape) > len(out.shape):
        return None
    if int(np.prod(c.shape)) == 1:
        return c.const.numpy().astype(np.float64).reshape(1)
    if not c.shape or any(d != 1 for d in c.shape[:-1]) or c.shape[-1] != out.shape[-1]:
        return None
    return c.const.numpy().astype(np.float64).reshape(-1)


def channels(c: Value, out: Value, op: str) -> np.ndarray | None:
    """``c`` as a vector over the channel axis ``op`` uses (last for MatMul, else 1)."""
    return per_last(c, out) if op == "MatMul" else per_channel(c, out)


def _weighted(node: Node) -> bool:
    """A convolution or MatMul with a constant filter of known shape, reading a variable input."""
    if node.op not in CONVS + ("MatMul",) or node.inputs[1].const is None or node.inputs[0].const is not None:
        return False
    if node.op == "MatMul" and (node.inputs[1].shape is None or len(node.inputs[1].shape) != 2):
        return False
    return node.inputs[1].shape is not None and scale_shape(node, "out") is not None


def _no_padding_read(conv: Node) -> bool:
    """Every window of the convolution lies inside its input (no padded value is read)."""
    a = conv.attrs
    if a.get("auto_pad") == "valid":
        return True
    if a.get("auto_pad") in ("same_upper", "same_lower"):
        k = conv.inputs[1].shape[2 if conv.op == "Convolution" else 3:]  # type: ignore[index]
        return all(d == 1 for d in k) and all(s == 1 for s in a["strides"])
    return not any(a["pads_begin"]) and not any(a["pads_end"])


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
        if y.etype != "f32":
            return False
        p = y.producer
        if p is None or len(y.uses) != 1:
            return self.backward_multiply(mul, y, c)
        if _weighted(p):
            scale = channels(c, mul.outputs[0], p.op)
            if scale is None:
                return self.backward_multiply(mul, y, c)
            conv_out = rescaled_conv(self.b, p, scale)
            self.renames.append((conv_out.producer, p.name))
            return self.replace(mul, conv_out)
        if p.op == "Add":
            inner = _split_const(p)
            if inner is None:
                return self.backward_multiply(mul, y, c)
            z, bias = inner
            q = z.producer
            if q is None or not _weighted(q) or len(z.uses) != 1:
                return self.backward_multiply(mul, y, c)
            scale = channels(c, mul.outputs[0], q.op)
            bvec = channels(bias, p.outputs[0], q.op)
            if scale is None or bvec is None:
                return False
            conv_out = rescaled_conv(self.b, q, scale)
            self.renames.append((conv_out.producer, q.name))
            shift = np.broadcast_to(bvec, np.broadcast_shapes(bvec.shape, scale.shape)) * scale
            return self.replace(mul, self.b.op("Add", conv_out, self.shift_const(shift, conv_out, q.op),
                                               name=p.name))
        scale = per_channel(c, mul.outputs[0])
        if scale is None:
            return self.backward_multiply(mul, y, c)
        if p.op == "BatchNormInference" and all(v.const is not None for v in p.inputs[1:]):
            gamma, beta = (v.const.numpy().astype(np.float64) for v in p.inputs[1:3])
            new = self.b.op("BatchNormInference", p.inputs[0], self.b.const((gamma * scale).astype(np.float32)),
                            self.b.const((beta * scale).astype(np.float32)), p.inputs[3], p.inputs[4],
                            name=p.name, **p.attrs)
            self.renames.append((new.producer, p.name))
            return self.replace(mul, new)
        return self.backward_multiply(mul, y, c)

    def shift_const(self, vec: np.ndarray, like: Value, op: str) -> Value:
        if op != "MatMul":
            return self.channel_const(vec, like)
        return self.b.const(vec.astype(np.float32).reshape((1,) * (len(like.shape) - 1) + (-1,)))  # type: ignore

    def sole_weighted_user(self, v: Value) -> Node | None:
        """The convolution/MatMul that is the only reader of ``v`` (at its data input), or None."""
        if len(v.uses) != 1:
            return None
        user, idx = next(iter(v.uses))
        if idx != 0 or not _weighted(user) or (user.op == "MatMul" and user.attrs.get("transpose_a")):
            return None
        return user

    def backward_multiply(self, mul: Node, x: Value, c: Value) -> bool:
        conv = self.sole_weighted_user(mul.outputs[0])
        if conv is None or x.etype != "f32":
            return False
        scale = channels(c, mul.outputs[0], conv.op)
        if scale is None or x.shape != mul.outputs[0].shape:
            return False
        out = rescaled_conv(self.b, conv, scale, side="in", x=x)
        self.renames.append((out.producer, conv.name))
        return self.replace(conv, out)

    def backward_add(self, add: Node, x: Value, d: Value) -> bool:
        conv = self.sole_weighted_user(add.outputs[0])
        if conv is None or conv.op not in ("Convolution", "GroupConvolution", "MatMul") or x.etype != "f32":
            return False
        if conv.op != "MatMul" and not _no_padding_read(conv):
            return False
        shift = channels(d, add.outputs[0], conv.op)
        if shift is None or x.shape != add.outputs[0].shape:
            return False
        w = conv.inputs[1].const.numpy().astype(np.float64)  # type: ignore[union-attr]
        if conv.op == "MatMul":
            b = w.T if conv.attrs.get("transpose_b") else w
            shift = np.broadcast_to(shift, (b.shape[0],))
            bias = shift @ b
        elif conv.op == "Convolution":
            shift = np.broadcast_to(shift, (w.shape[1],))
            bias = w.reshape(w.shape[:2] + (-1,)).sum(-1) @ shift
        else:
            g, _, ci = w.shape[:3]
            shift = np.broadcast_to(shift, (g * ci,)).reshape(g, ci)
            bias = np.einsum("goi,gi->go", w.reshape(w.shape[:3] + (-1,)).sum(-1), shift).reshape(-1)
        new = self.b.op(conv.op, x, conv.inputs[1], name=conv.name + "/unshifted", **conv.attrs)
        self.renames.append((new.producer, conv.name))
        out = self.b.op("Add", new, self.shift_const(bias, new, conv.op), name=add.name)
        return self.replace(conv, out)

    def add(self, add: Node) -> bool:
        split = _split_const(add)
        if split is None:
            return False
        y, d = split
        shift = per_channel(d, add.outputs[0])
        p = y.producer
        if y.etype != "f32":
            return False
        if shift is None or p is None or len(y.uses) != 1 or p.op not in ("Add", "BatchNormInference"):
            return self.backward_add(add, y, d)
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
