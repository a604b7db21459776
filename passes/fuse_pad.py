"""Fold an explicit Pad into the pads of the convolution or pooling that reads it.

Pad here means: ``pad_mode`` constant, pads_begin/pads_end constant, non-negative, zero on
the batch and channel axes (0 and 1), and a constant scalar pad value (absent = 0). The
user must have ``auto_pad`` explicit (or valid, which ignores its own pads and so counts
as zero pads). Rules (p = the Pad's spatial pads, q = the op's own pads):

    Conv(Pad(x, p, value 0), pads q)            ->  Conv(x, pads p + q)
        Conv: Convolution, GroupConvolution; zero padding is what they pad with.
    MaxPool(Pad(x, p, value -inf), pads q)      ->  MaxPool(x, pads p + q)
        MaxPool never lets a padded position win, exactly like a -inf value.
    MaxPool(Pad(x, p, value 0), pads 0)         ->  MaxPool(x, pads p)
        only when x >= 0 is known (x comes from Relu, Sigmoid, Exp, Softmax, Abs, Sqrt,
        or Clamp with min >= 0; then a padded 0 never exceeds the window's real maximum)
        and every window holds at least one real element (p_begin < kernel and the last
        window starts inside x, dilation 1), so no window is padding only.
    AvgPool(Pad(x, p, value 0), pads q, exclude-pad false or q = 0, rounding floor)
                                                ->  AvgPool(x, pads p + q, exclude-pad false)
        with floor rounding every window lies inside the padded input, so dividing by
        the whole kernel (counting padded zeros) is what the Pad + AvgPool computed.

A Pad read only by a Transpose whose users are all convolutions or poolings (an NHWC
model's input: Pad, then the layout Transpose) first trades places with it:

    Transpose(Pad(x, pb, pe, v), p)   ->  Pad(Transpose(x, p), pb[p], pe[p], v)

Each fusable user reads x directly; the Pad goes away when no user is left. The
rewritten op keeps its name and its output tensors.
"""
from __future__ import annotations

import logging

import numpy as np

from mo.graph import Graph, Node, Value
from mo.ir.builder import Builder

from .base import PassReport

log = logging.getLogger("mo.passes")

CONVS = ("Convolution", "GroupConvolution")
NON_NEGATIVE = ("Relu", "Sigmoid", "Exp", "SoftMax", "Softmax", "Abs", "Sqrt", "HSigmoid", "SoftPlus")


def pad_amounts(pad: Node) -> tuple[list[int], list[int], float] | str:
    """(spatial pads_begin, spatial pads_end, pad value) of a fusable Pad, or why it is not."""
    if pad.attrs.get("pad_mode", "constant") != "constant":
        return f"pad_mode {pad.attrs['pad_mode']}"
    pb, pe = (v.const_value() for v in pad.inputs[1:3])
    if pb is None or pe is None:
        return "pads are not constants"
    pb, pe = [int(v) for v in pb.reshape(-1)], [int(v) for v in pe.reshape(-1)]
    if len(pb) < 3 or len(pb) != len(pe):
        return "not a padding of an N,C,spatial tensor"
    if any(v < 0 for v in pb + pe):
        return "negative pads (a crop)"
    if pb[:2] != [0, 0] or pe[:2] != [0, 0]:
        return "pads on the batch or channel axis"
    value = 0.0
    if len(pad.inputs) > 3:
        c = pad.inputs[3].const_value()
        if c is None or c.size != 1:
            return "pad value is not a constant scalar"
        value = float(np.asarray(c, dtype=np.float64).reshape(()))
    return pb[2:], pe[2:], value


def _non_negative(v: Value) -> bool:
    p = v.producer
    if p is None:
        return False
    if p.op in NON_NEGATIVE:
        return True
    return p.op == "Clamp" and p.attrs.get("min", -1.0) >= 0


def _own_pads(user: Node, n: int) -> tuple[list[int], list[int]] | None:
    mode = user.attrs.get("auto_pad", "explicit")
    if mode == "valid":
        return [0] * n, [0] * n
    if mode not in ("explicit", "notset"):
        return None
    return list(user.attrs["pads_begin"]), list(user.attrs["pads_end"])


def _windows_touch_data(size: int, kernel: int, stride: int, pb: int, pe: int, dilation: int) -> bool:
    """Every floor-rounded window over the padded axis contains at least one element of the data."""
    if dilation != 1 or size < 0 or pb >= kernel:
        return False
    out = (size + pb + pe - kernel) // stride + 1
    return out >= 1 and (out - 1) * stride - pb <= size - 1


def check(pad: Node, user: Node, idx: int) -> dict | str:
    """New attributes of ``user`` with the Pad folded in, or the reason it cannot be."""
    if user.op not in CONVS + ("MaxPool", "AvgPool"):
        return f"{user.op} cannot take pads"
    if idx != 0:
        return "the Pad feeds a weight input"
    amounts = pad_amounts(pad)
    if isinstance(amounts, str):
        return amounts
    pb, pe, value = amounts
    own = _own_pads(user, len(pb))
    if own is None:
        return f"{user.op} uses auto_pad {user.attrs.get('auto_pad')}"
    qb, qe = own
    attrs = dict(user.attrs, auto_pad="explicit", pads_begin=[a + b for a, b in zip(pb, qb)],
                 pads_end=[a + b for a, b in zip(pe, qe)])
    if user.op in CONVS:
        return attrs if value == 0.0 else f"pad value {value} is not 0"
    if user.op == "MaxPool":
        if value == -np.inf:
            return attrs
        if value != 0.0:
            return f"pad value {value} is neither 0 nor -inf"
        if any(qb + qe):
            return "MaxPool has pads of its own"
        if not _non_negative(pad.inputs[0]):
            return "zero padding into MaxPool needs a non-negative input"
        x = pad.inputs[0].shape
        if user.attrs.get("rounding_type", "floor") != "floor" or x is None:
            return "MaxPool rounding is not floor or the input rank is unknown"
        dil = user.attrs.get("dilations") or [1] * len(pb)
        for i in range(len(pb)):
            if not _windows_touch_data(x[2 + i], user.attrs["kernel"][i], user.attrs["strides"][i], pb[i], pe[i],
                                       dil[i]):
                return "a window would cover padding only"
        return attrs
    if user.op == "AvgPool":
        if value != 0.0:
            return f"pad value {value} is not 0"
        if user.attrs.get("rounding_type", "floor") != "floor":
            return "AvgPool rounding is not floor"
        if user.attrs.get("exclude-pad") and any(qb + qe):
            return "AvgPool excludes its own pads from the divisor"
        attrs["exclude-pad"] = False
        return attrs
    return f"{user.op} cannot take pads"  # not reached: filtered above


def _swap_with_transpose(graph: Graph, b: Builder, pad: Node) -> bool:
    """Move a Pad below the Transpose that is its only user (see the module docstring)."""
    uses = list(pad.outputs[0].uses)
    if len(uses) != 1 or uses[0][0].op != "Transpose" or uses[0][1] != 0:
        return False
    tr = uses[0][0]
    perm = tr.inputs[1].const_value()
    pb, pe = (v.const_value() for v in pad.inputs[1:3])
    if perm is None or pb is None or pe is None or pb.size != perm.size or pad.attrs["pad_mode"] != "constant":
        return False
    if not all(u.op in CONVS + ("MaxPool", "AvgPool") for u, _ in tr.outputs[0].uses) or _feeds_result(tr):
        return False
    p = [int(v) for v in perm.reshape(-1)]
    t = b.op("Transpose", pad.inputs[0], tr.inputs[1], name=tr.name + "/before_pad")
    new = b.op("Pad", t, b.const(pb.reshape(-1)[p]), b.const(pe.reshape(-1)[p]), *pad.inputs[3:],
               name=pad.name + "/after_transpose", pad_mode="constant")
    if new.shape != tr.outputs[0].shape:
        return False
    graph.replace_all_uses_with(tr.outputs[0], new)
    return True


def _feeds_result(node: Node) -> bool:
    return any(u.op == "Result" for v in node.outputs for u, _ in v.uses)


def run(graph: Graph) -> PassReport:
    b = Builder(graph, fold=False)
    fused = 0
    swapped = [pad for pad in list(graph.nodes) if pad.op == "Pad" and _swap_with_transpose(graph, b, pad)]
    if swapped:
        graph.toposort()
    renames: list[tuple[Node, str]] = []
    for pad in list(graph.nodes):
        if pad.op != "Pad" or pad not in graph.nodes:
            continue
        for user, idx in list(pad.outputs[0].uses):
            attrs = check(pad, user, idx)
            if isinstance(attrs, str):
                log.debug("fuse_pad: %s into %s %s not fused: %s", pad.name, user.op, user.name, attrs)
                continue
            outs = b.op_outputs(user.op, pad.inputs[0], *user.inputs[1:], name=user.name + "/padded", **attrs)
            if any(old.shape != new.shape for old, new in zip(user.outputs, outs)):
                log.debug("fuse_pad: %s into %s: output shape would change", pad.name, user.name)
                continue        # the new node has no user and goes with the next toposort
            for old, new in zip(user.outputs, outs):
                graph.replace_all_uses_with(old, new)
            renames.append((outs[0].producer, user.name))
            fused += 1
    removed = graph.toposort()
    for node, name in renames:
        graph.rename(node, name)
    return PassReport("fuse_pad", fused > 0, f"{fused} Pads folded into their users, {removed} nodes removed")
