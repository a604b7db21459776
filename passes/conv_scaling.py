"""Shared by the fusion passes: a convolution rebuilt with its filter scaled per output channel."""
from __future__ import annotations

import numpy as np

from mo.graph import Node, Value
from mo.ir.builder import Builder
from mo.tensor import LazyTensor

CONVS = ("Convolution", "GroupConvolution")


def rescaled_conv(b: Builder, conv: Node, scale: np.ndarray) -> Value:
    """Output of a copy of ``conv`` whose constant filter is multiplied by ``scale``.

    ``scale`` has one value per output channel (or a single value). The scaled filter
    is a lazy tensor, computed in float64 when the emitter streams it.
    """
    w = conv.inputs[1]
    shape = tuple(w.shape)  # type: ignore[arg-type]
    if scale.size == 1:
        s = scale.reshape((1,) * len(shape))
    elif conv.op == "Convolution":          # W[O, C, k...]
        s = scale.reshape((shape[0],) + (1,) * (len(shape) - 1))
    else:                                   # W[G, O/G, C/G, k...]
        s = scale.reshape((shape[0], shape[1]) + (1,) * (len(shape) - 2))
    t, dtype = w.const, w.const.dtype  # type: ignore[union-attr]

    def compute(t=t, s=s, dtype=dtype) -> np.ndarray:
        return (t.numpy().astype(np.float64) * s).astype(dtype)

    new_w = b.const_tensor(LazyTensor(compute, dtype, shape), name=w.producer.name + "/scaled")  # type: ignore
    return b.op(conv.op, conv.inputs[0], new_w, name=conv.name, **conv.attrs)
