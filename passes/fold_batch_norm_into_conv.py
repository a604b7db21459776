"""Fold inference BatchNorm into the convolution that feeds it.

Rule, with s = gamma / sqrt(var + eps) per output channel c:

    BatchNormInference(Conv(x, W), gamma, beta, mean, var)
        ->  Conv(x, W * s[c]) + (beta - mean * s)
    BatchNormInference(Conv(x, W) + b, ...)
        ->  Conv(x, W * s[c]) + (s * (b - mean) + beta)

for Convolution, GroupConvolution, ConvolutionBackpropData and GroupConvolutionBackpropData
with constant filters and constant BatchNorm
parameters, when the convolution's output has no other user. The scaled filter is a
lazy tensor: it is computed when the emitter streams it, never held twice.
"""
from __future__ import annotations

import logging

import numpy as np

from mo.graph import Graph, Node, Value
from mo.ir.builder import Builder

from .base import PassReport
from .conv_scaling import CONVS, out_channels, rescaled_conv

log = logging.getLogger("mo.passes")



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
    channels = out_channels(prod.op, w.shape)
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
        shift = beta - mean * scale
        if add is not None:
            bias_v = add.inputs[1] if add.inputs[0] is conv.outputs[0] else add.inputs[0]
            shift = shift + scale * np.broadcast_to(bias_v.const.numpy().astype(np.float64).reshape(-1),
                                                    scale.shape)
        b.name_hint = conv.name
        y = rescaled_conv(b, conv, scale)
        rank = len(y.shape) if y.shape is not None else len(conv.inputs[1].shape) - conv.op.startswith("Group")
        dtype = conv.inputs[1].const.dtype  # type: ignore[union-attr]
        y = b.op("Add", y, b.const(shift.astype(dtype).reshape((1, -1) + (1,) * (rank - 2))), name=bn.name + "/shift")
        graph.replace_all_uses_with(bn.outputs[0], y)
        renames.append((y.producer.inputs[0].producer, conv.name))
        folded += 1
    removed = graph.toposort() if folded else 0
    for node, name in renames:  # the new convolutions take their originals' names
        graph.rename(node, name)
    return PassReport("fold_batch_norm_into_conv", folded > 0, f"{folded} BatchNorm folded, {removed} nodes removed")
