"""fuse_group_conv: Split on channels -> equal Convolutions -> Concat becomes one GroupConvolution.

OpenVINO (f32) vs onnxruntime, rtol 1e-5, atol 1e-5.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from onnx import TensorProto, helper

import mo

from ..onnx.util import make_model, run_onnx_vs_ir

RNG = np.random.default_rng(7)
F = TensorProto.FLOAT
X = RNG.standard_normal((2, 6, 8, 8)).astype(np.float32)


def _w(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def _model(convs: list[dict], order=None, extra_out: bool = False, tmp_path: Path | None = None):
    n = len(convs)
    parts = [f"s{i}" for i in range(n)]
    nodes = [helper.make_node("Split", ["x", "lens"], parts, axis=1)]
    inits = [("lens", np.array([6 // n] * n, np.int64))]
    for i, attrs in enumerate(convs):
        nodes.append(helper.make_node("Conv", [parts[i], f"w{i}"], [f"c{i}"], **attrs))
        inits.append((f"w{i}", _w(4, 6 // n, 3, 3)))
    order = order or list(range(n))
    nodes.append(helper.make_node("Concat", [f"c{i}" for i in order], ["y"], axis=1))
    outs = [("y", F, None)] + ([("s0", F, None)] if extra_out else [])
    return make_model(nodes, [("x", F, [2, 6, 8, 8])], outs, opset=18, inits=inits)


def _convert(model, tmp_path: Path):
    run_onnx_vs_ir(model, {"x": X}, tmp_path, rtol=1e-5, atol=1e-5)
    graph = mo.convert(tmp_path / "model.onnx")
    graph.check()
    return graph, next(r for r in graph.meta["reports"] if r.name == "fuse_group_conv")


def test_split_convs_concat_become_group_convolution(tmp_path: Path) -> None:
    graph, report = _convert(_model([dict(pads=[1, 1, 1, 1], strides=[2, 2])] * 3), tmp_path)
    ops = graph.op_counts()
    assert ops.get("GroupConvolution") == 1 and "Convolution" not in ops, ops
    assert "Concat" not in ops and "Split" not in ops and "VariadicSplit" not in ops
    gc = next(n for n in graph.nodes if n.op == "GroupConvolution")
    assert gc.inputs[1].shape == (3, 4, 2, 3, 3) and gc.attrs["strides"] == [2, 2]
    assert graph.outputs[0].name == "y" and report.summary.startswith("1 split")


def test_near_misses_stay_separate(tmp_path: Path) -> None:
    """Different dilations (same output size); a split part that is also a model output: the
    convolutions stay separate. (The Concat in the other order is checked on a graph below.)"""
    models = [_model([dict(pads=[1, 1, 1, 1]), dict(pads=[2, 2, 2, 2], dilations=[2, 2])]),
              _model([dict(), dict()], extra_out=True)]
    for i, model in enumerate(models):
        sub = tmp_path / f"m{i}"
        sub.mkdir()
        graph, report = _convert(model, sub)
        assert graph.op_counts().get("Convolution") == 2 and not report.changed


def test_refusal_reasons() -> None:
    from mo.graph import Graph
    from mo.ir.builder import Builder
    from mo.passes.fuse_group_conv import match

    g = Graph()
    b = Builder(g)
    x = b.parameter("x", "f32", (1, 4, 8, 8))
    s0, s1 = b.op("Split", x, np.int64(1), num_splits=2)
    attrs = dict(strides=[1, 1], pads_begin=[0, 0], pads_end=[0, 0], dilations=[1, 1])
    c0 = b.op("Convolution", s0, b.const(_w(2, 2, 1, 1)), **attrs)
    c1 = b.op("Convolution", s1, b.const(_w(3, 2, 1, 1)), **attrs)
    assert match(b.op("Concat", c0, c1, axis=1).producer) == "filters are not constants of one shape"
    t0, t1 = b.op("Split", x, np.int64(2), num_splits=2)
    d0 = b.op("Convolution", t0, b.const(_w(2, 4, 1, 1)), **attrs)
    d1 = b.op("Convolution", t1, b.const(_w(2, 4, 1, 1)), **attrs)
    assert match(b.op("Concat", d0, d1, axis=1).producer) == "the split is not on the channel axis"
    e0 = b.op("Convolution", s0, b.const(_w(2, 2, 1, 1)), **attrs)
    e1 = b.op("Convolution", s1, b.const(_w(2, 2, 1, 1)), **attrs)
    assert match(b.op("Concat", e1, e0, axis=1).producer).startswith("convolution 0 does not read split part 0")
