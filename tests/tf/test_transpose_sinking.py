"""The transpose_sinking pass on hand-built graphs: before/after op counts, values unchanged, refusals."""
from __future__ import annotations

import numpy as np

from mo.graph import Graph
from mo.ir.builder import Builder
from mo.passes import transpose_sinking

TO_NCHW, TO_NHWC = [0, 3, 1, 2], [0, 2, 3, 1]


def _t(b: Builder, x, p):
    return b.op("Transpose", x, b.const(np.asarray(p, dtype=np.int64)))


def _count(g: Graph, op: str) -> int:
    return g.op_counts().get(op, 0)


def _run(g: Graph, feeds: dict) -> list[np.ndarray]:
    """Evaluate the graph in numpy through each op's evaluate (tests only use ops that have one)."""
    from mo.ir import opset
    vals = {}
    for n in g.nodes:
        if n.op == "Parameter":
            vals[n.outputs[0]] = feeds[n.outputs[0].name]
        elif n.op == "Const":
            vals[n.outputs[0]] = n.outputs[0].const.numpy()
        elif n.op == "Result":
            continue
        else:
            res = opset.get(n.op).evaluate([vals[v] for v in n.inputs], n.attrs)
            for v, r in zip(n.outputs, res):
                vals[v] = r
    return [vals[v] for v in g.outputs]


def test_pairs_cancel_through_elementwise_pad_concat_reduce():
    g = Graph()
    b = Builder(g)
    x = b.parameter("x", "f32", (1, 4, 5, 3))
    y = _t(b, x, TO_NCHW)                                  # "conv" in NCHW would sit here
    y = _t(b, y, TO_NHWC)
    y = b.op("Add", y, b.const(np.arange(3, dtype=np.float32)))
    y = b.op("Relu", y)
    y = b.op("Pad", y, b.const(np.array([0, 1, 0, 0])), b.const(np.array([0, 0, 2, 0])), b.const(np.float32(0)),
             pad_mode="constant")
    y = _t(b, y, TO_NCHW)
    z = _t(b, y, TO_NHWC)
    c = b.op("Concat", z, z, axis=-1)
    r = b.op("ReduceMean", c, b.const(np.array([1, 2])), keep_dims=False)
    b.result(r, "out")
    b.result(c, "cat")
    feeds = {"x": np.random.default_rng(0).standard_normal((1, 4, 5, 3)).astype(np.float32)}
    before = _run(g, feeds)
    rep = transpose_sinking.run(g)
    g.check()
    assert rep.changed
    after = _run(g, feeds)
    for a, bb in zip(before, after):
        np.testing.assert_allclose(a, bb, rtol=1e-6)
    assert _count(g, "Transpose") == 0     # every pair met and cancelled
    assert g.outputs[0].names == ["out"] and "cat" in g.outputs[1].names


def test_non_constant_other_input_refuses():
    """Add(Transpose(a), b) with b computed and not transposed stays as it is."""
    g = Graph()
    b = Builder(g)
    x = b.parameter("x", "f32", (1, 2, 3, 4))
    y = b.parameter("y", "f32", (1, 3, 4, 2))
    s = b.op("Add", _t(b, x, TO_NHWC), y)
    b.result(s, "out")
    rep = transpose_sinking.run(g)
    assert not rep.changed
    assert _count(g, "Transpose") == 1


def test_size_one_axes_transpose_becomes_reshape():
    g = Graph()
    b = Builder(g)
    x = b.parameter("x", "f32", (1, 1, 1, 8))
    b.result(b.op("Relu", _t(b, x, TO_NCHW)), "out")
    transpose_sinking.run(g)
    assert _count(g, "Transpose") == 0 and _count(g, "Reshape") == 1
    assert g.outputs[0].shape == (1, 8, 1, 1)
