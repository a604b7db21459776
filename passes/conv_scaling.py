"""Shared by the fusion passes: a convolution (or MatMul) rebuilt with its constant filter scaled
per output channel or per input channel.

Filter layouts and where a channel vector lands (G groups):

    Convolution                   W[O, C, k...]        out: axis 0        in: axis 1
    GroupConvolution              W[G, O/G, C/G, k...] out: axes 0, 1     in: axes 0, 2
    ConvolutionBackpropData       W[C, O, k...]        out: axis 1        in: axis 0
    GroupConvolutionBackpropData  W[G, C/G, O/G, k...] out: axes 0, 2     in: axes 0, 1
    MatMul (2-D constant B)       B[K, N]              out: axis 1        in: axis 0
                                  (transpose_b: B[N, K], out: axis 0, in: axis 1)
"""
from __future__ import annotations

import numpy as np

from mo.graph import Node, Value
from mo.ir.builder import Builder
from mo.tensor import LazyTensor

CONVS = ("Convolution", "GroupConvolution", "ConvolutionBackpropData", "GroupConvolutionBackpropData")


def out_channels(op: str, wshape: tuple[int, ...]) -> int:
    """Number of output channels of a convolution with filter shape ``wshape``."""
    return {"Convolution": lambda s: s[0], "GroupConvolution": lambda s: s[0] * s[1],
            "ConvolutionBackpropData": lambda s: s[1],
            "GroupConvolutionBackpropData": lambda s: s[0] * s[2]}[op](wshape)


def in_channels(op: str, wshape: tuple[int, ...]) -> int:
    return {"Convolution": lambda s: s[1], "GroupConvolution": lambda s: s[0] * s[2],
            "ConvolutionBackpropData": lambda s: s[0],
            "GroupConvolutionBackpropData": lambda s: s[0] * s[1]}[op](wshape)


def scale_shape(node: Node, side: str) -> tuple[int, ...] | None:
    """Shape that a vector over the output (``side="out"``) or input channels takes to broadcast over
    ``node``'s filter, or None when the node has no such filter."""
    w = node.inputs[1].shape
    if w is None or any(d < 0 for d in w):
        return None
    r = len(w)
    one = [1] * r
    if node.op == "MatMul":
        if r != 2:
            return None
        axis = (1 if side == "out" else 0) if not node.attrs.get("transpose_b") else (0 if side == "out" else 1)
        one[axis] = w[axis]
        return tuple(one)
    axes = {("Convolution", "out"): (0,), ("Convolution", "in"): (1,),
            ("GroupConvolution", "out"): (0, 1), ("GroupConvolution", "in"): (0, 2),
            ("ConvolutionBackpropData", "out"): (1,), ("ConvolutionBackpropData", "in"): (0,),
            ("GroupConvolutionBackpropData", "out"): (0, 2), ("GroupConvolutionBackpropData", "in"): (0, 1)}
    if (node.op, side) not in axes:
        return None
    for a in axes[(node.op, side)]:
        one[a] = w[a]
    return tuple(one)


def rescaled_conv(b: Builder, conv: Node, scale: np.ndarray, side: str = "out", x: Value | None = None) -> Value:
    """Output of a copy of ``conv`` whose constant filter is multiplied by ``scale``.

    ``scale`` has one value per output (or input, with ``side="in"``) channel, or a single
    value. The scaled filter is a lazy tensor, computed in float64 when the emitter streams it.
    ``x`` replaces the data input when given.
    """
    w = conv.inputs[1]
    shape = tuple(w.shape)  # type: ignore[arg-type]
    if scale.size == 1:
        s = scale.reshape((1,) * len(shape))
    else:
        target = scale_shape(conv, side)
        if target is None:
            raise ValueError(f"{conv.op} {conv.name}: no per-channel filter axis")
        s = scale.reshape(target)
    t, dtype = w.const, w.const.dtype  # type: ignore[union-attr]

    def compute(t=t, s=s, dtype=dtype) -> np.ndarray:
        return (t.numpy().astype(np.float64) * s).astype(dtype)

    new_w = b.const_tensor(LazyTensor(compute, dtype, shape), name=w.producer.name + "/scaled")  # type: ignore
    return b.op(conv.op, x if x is not None else conv.inputs[0], new_w, *conv.inputs[2:], name=conv.name,
                **conv.attrs)
