"""Turn channel-split parallel convolutions into one GroupConvolution.

Rule (G branches, x: [N, C, ...], each W_i: [O_i, C/G, k...]):

    Concat(Conv(s_0, W_0), ..., Conv(s_{G-1}, W_{G-1}), axis=1)
        with s_0..s_{G-1} = Split(x, axis=1, G)  (or VariadicSplit with G equal lengths)
    ->  GroupConvolution(x, stack(W_i) as [G, O, C/G, k...])

Conditions: the split is on the channel axis (1) into equal parts; every split output is
read by exactly one Convolution and nothing else; the convolutions have constant filters
of one shape (so equal O_i), the same attributes (strides, dilations, pads, auto_pad)
and each output is read only by the Concat; the Concat is on axis 1 and takes exactly
those outputs in split order. The GroupConvolution takes the Concat's name and tensors.
"""
from __future__ import annotations

import logging

import numpy as np

from mo.graph import Graph, Node
from mo.ir.builder import Builder
from mo.tensor import LazyTensor

from .base import PassReport

log = logging.getLogger("mo.passes")


def _split_axis(split: Node) -> int | None:
    ax = split.inputs[1].const_value()
    x = split.inputs[0]
    if ax is None or ax.size != 1 or x.shape is None:
        return None
    a = int(ax.reshape(-1)[0])
    return a + len(x.shape) if a < 0 else a


def match(concat: Node) -> tuple[Node, list[Node]] | str:
    """(split, convolutions in order) for a fusable Concat, else the reason it is not."""
    rank = len(concat.outputs[0].shape or ())
    if concat.attrs["axis"] not in (1, 1 - rank) or len(concat.inputs) < 2:
        return "not a Concat of several inputs on the channel axis"
    convs = []
    for v in concat.inputs:
        p = v.producer
        if p is None or p.op != "Convolution" or len(v.uses) != 1:
            return "an input is not a Convolution read only by the Concat"
        convs.append(p)
    split = convs[0].inputs[0].producer
    if split is None or split.op not in ("Split", "VariadicSplit"):
        return "the first convolution does not read a Split"
    if _split_axis(split) != 1:
        return "the split is not on the channel axis"
    if split.op == "VariadicSplit":
        lengths = split.inputs[2].const_value()
        if lengths is None or len(set(int(v) for v in lengths.reshape(-1))) != 1:
            return "the split parts differ in size"
    if len(split.outputs) != len(convs):
        return "the Concat does not take every split part"
    w0 = convs[0].inputs[1]
    for i, (conv, part) in enumerate(zip(convs, split.outputs)):
        if conv.inputs[0] is not part or len(part.uses) != 1:
            return f"convolution {i} does not read split part {i}, or that part has other users"
        w = conv.inputs[1]
        if w.const is None or w.shape != w0.shape or w.etype != w0.etype:
            return "filters are not constants of one shape"
        if conv.attrs != convs[0].attrs:
            return "convolutions differ in strides, dilations or pads"
    return split, convs


def run(graph: Graph) -> PassReport:
    b = Builder(graph, fold=False)
    fused = 0
    renames: list[tuple[Node, str]] = []
    for concat in list(graph.nodes):
        if concat.op != "Concat" or concat not in graph.nodes:
            continue
        m = match(concat)
        if isinstance(m, str):
            if any(v.producer is not None and v.producer.op == "Convolution" for v in concat.inputs):
                log.debug("fuse_group_conv: %s not fused: %s", concat.name, m)
            continue
        split, convs = m
        tensors = [c.inputs[1].const for c in convs]
        shape = (len(convs),) + tuple(convs[0].inputs[1].shape)  # type: ignore[arg-type]
        dtype = tensors[0].dtype  # type: ignore[union-attr]

        def stacked(tensors=tensors) -> np.ndarray:
            return np.stack([t.numpy() for t in tensors])  # type: ignore[union-attr]

        w = b.const_tensor(LazyTensor(stacked, dtype, shape), name=convs[0].inputs[1].producer.name + "/grouped")
        y = b.op("GroupConvolution", split.inputs[0], w, name=concat.name + "/group", **convs[0].attrs)
        if y.shape != concat.outputs[0].shape:
            continue
        graph.replace_all_uses_with(concat.outputs[0], y)
        renames.append((y.producer, concat.name))
        fused += 1
    removed = graph.toposort()
    for node, name in renames:
        graph.rename(node, name)
    return PassReport("fuse_group_conv", fused > 0, f"{fused} split convolutions grouped, {removed} nodes removed")
