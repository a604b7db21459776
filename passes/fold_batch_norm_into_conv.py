"""Fold inference BatchNorm into the convolution that feeds it.

Rule, with s = gamma / sqrt(var + eps) per output channel c:

    BatchNormInference(Conv(x, W), gamma, beta, mean, var)
        ->  Conv(x, W * s[c]) + (beta - mean * s)
    BatchNormInference(Conv(x, W) + b, ...)
        ->  Conv(x, W * s[c]) + (s * (b - mean) + beta)

for Convolution and GroupConvolution with constant filters and constant BatchNorm
parameters, when the convolution's output has no other user. The scaled filter is a
lazy tensor: it is computed when the emitter streams it, never held twice.
"""
from __future__ import annotations

import logging

import numpy as np

from mo.graph import Graph, Node, Value
from mo.ir.builder import Builder
from mo.tensor import LazyTensor

from .base import PassReport

log = logging.getLogger("mo.passes")

CONVS = ("Convolution", "GroupConvolution")


def _single_use(v: Value) -> bool:
    return len(v.uses) == 1


def match(bn: Node) -> tuple[Node, Node | None] | str:
    """(conv, bias_add or None) when ``bn`` can be folded, else the reason it cannot."""
    x = bn.inputs[0]
    add = None
    prod = x.producer
    if prod is not None and prod.op == "Add":
        a, b = prod.inputs
        if a.producer is not None and a.producer.op in CONVS and b.const is not None:
            add, x, prod = prod, a, a.producer
        elif b.producer is not None and b.producer.op in CONVS and a.const is not None:
            add, x, prod = prod, b, b.producer
        else:
            return "input is an Add that is not Conv + constant bias"
    if prod is None or prod.op not in CONVS:
        return f"input comes from {prod.op if prod else 'nothing'}, not a convolution"
    if not _single_use(x) or (add is not None and not _single_use(add.outputs[0])):
        return "the convolution's output has other users"
    w = prod.inputs[1]
    if w.const is None or w.shape is None:
        return "filter is not a constant"
    if any(v.const is None for v in bn.inputs[1:]):
        return "BatchNorm parameters are not constants"
    channels = w.shape[0] if prod.op == "Convolution" else w.shape[0] * w.shape[1]
    if any(v.shape != (channels,) for v in bn.inputs[1:]):
        return "BatchNorm parameters are not one value per output channel"
    if add is not None:
        bias = add.inputs[1] if add.inputs[0] is x else add.inputs[0]
        bshape = bias.shape or ()
        rank = len(prod.outputs[0].shape or ())
        if int(np.prod(bshape)) not in (1, channels) or (len(bshape) > 1 and bshape != (1, channels) + (1,) * (rank - 2)):
            return f"bias of shape {list(bshape)} is not per channel"
    return prod, add


def run(graph: Graph) -> PassReport:
    b = Builder(graph, fold=False)
    folded = 0
    renames: list[tuple[Node, str]] = []
    for bn in list(graph.nodes):
        if bn.op != "BatchNormInference" or bn not in graph.nodes:
            continue
        m = match(bn)
        if isinstance(m, str):
            log.debug("fold_batch_norm_into_conv: %s not folded: %s", bn.name, m)
            continue
        conv, add = m
        gamma, beta, mean, var = (v.const.numpy().astype(np.float64) for v in bn.inputs[1:])
        scale = gamma / np.sqrt(var + bn.attrs["epsilon"])
        w_val = conv.inputs[1]
        w_t = w_val.const
        wshape = tuple(w_val.shape)
        if conv.op == "Convolution":
            s_shape = (wshape[0],) + (1,) * (len(wshape) - 1)
        else:
            s_shape = (wshape[0], wshape[1]) + (1,) * (len(wshape) - 2)
        s_w = scale.reshape(s_shape)
        dtype = w_t.dtype

        def scaled(w_t=w_t, s_w=s_w, dtype=dtype) -> np.ndarray:
            return (w_t.numpy().astype(np.float64) * s_w).astype(dtype)

        shift = beta - mean * scale
        if add is not None:
            bias_v = add.inputs[1] if add.inputs[0] is conv.outputs[0] else add.inputs[0]
            shift = shift + scale * np.broadcast_to(bias_v.const.numpy().astype(np.float64).reshape(-1),
                                                    scale.shape)
        out = conv.outputs[0]
        rank = len(out.shape) if out.shape is not None else len(wshape) - (0 if conv.op == "Convolution" else 1)
        b.name_hint = conv.name
        new_w = b.const_tensor(LazyTensor(scaled, dtype, wshape), name=w_val.producer.name + "/bn_scaled")
        y = b.op(conv.op, conv.inputs[0], new_w, name=conv.name, **conv.attrs)
        y = b.op("Add", y, b.const(shift.astype(dtype).reshape((1, -1) + (1,) * (rank - 2))), name=bn.name + "/shift")
        graph.replace_all_uses_with(bn.outputs[0], y)
        renames.append((y.producer.inputs[0].producer, conv.name))
        folded += 1
    removed = graph.toposort() if folded else 0
    for node, name in renames:  # the new convolutions take their originals' names
        graph.rename(node, name)
    return PassReport("fold_batch_norm_into_conv", folded > 0, f"{folded} BatchNorm folded, {removed} nodes removed")
