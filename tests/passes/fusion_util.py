"""Helpers of the fusion-pass tests: ONNX node shorthands, and converting a model while keeping the Graph."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import onnx
from onnx import TensorProto, helper

import mo

from ..runtime import ov_infer

F = TensorProto.FLOAT


def N(op: str, ins: list[str], out: str, **attrs) -> onnx.NodeProto:
    return helper.make_node(op, ins, [out], **attrs)


def c(name: str, value, shape=()) -> onnx.NodeProto:
    """A Constant node holding ``value`` broadcast to ``shape``."""
    arr = np.full(shape, value, np.float32)
    return helper.make_node("Constant", [], [name], value=helper.make_tensor(name, F, list(shape), arr.reshape(-1)))


def convert_onnx(m: onnx.ModelProto, tmp_path: Path, feeds: dict[str, np.ndarray] | None = None,
                 rtol: float = 1e-5, atol: float = 1e-5, **options) -> mo.Graph:
    """Convert ``m``; with ``feeds`` also run the IR in OpenVINO (f32) and assert it matches onnxruntime."""
    import onnxruntime as ort

    tmp_path.mkdir(parents=True, exist_ok=True)
    src = tmp_path / "m.onnx"
    onnx.save(m, src)
    graph = mo.convert(src, **options)
    graph.check()
    if feeds is not None:
        xml = tmp_path / "ir" / "m.xml"
        mo.save(graph, xml)
        sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
        names = [o.name for o in sess.get_outputs()]
        got = ov_infer(xml, feeds)
        for name, ref in zip(names, sess.run(names, feeds)):
            assert name in got, f"output {name} missing from the IR outputs {sorted(got)}"
            np.testing.assert_allclose(got[name], ref, rtol=rtol, atol=atol, err_msg=name)
    return graph


def convert_tf(fn: Callable, x: np.ndarray, tmp_path: Path, rtol: float = 1e-5, atol: float = 1e-5,
               **options) -> mo.Graph:
    """Freeze ``fn`` for input ``x``, convert it, assert OpenVINO (f32) matches TensorFlow; returns the Graph."""
    import tensorflow as tf

    from ..tf.util import freeze, run_graph_def

    gd, outs, ins = freeze(fn, [tf.TensorSpec(x.shape, tf.float32)])
    tmp_path.mkdir(parents=True, exist_ok=True)
    pb = tmp_path / "m.pb"
    pb.write_bytes(gd.SerializeToString())
    graph = mo.convert(pb, **options)
    graph.check()
    xml = tmp_path / "ir" / "m.xml"
    mo.save(graph, xml)
    ref = run_graph_def(gd, {ins[0]: x}, outs)
    got = ov_infer(xml, {ins[0]: x})
    for name, r in zip(outs, ref):
        assert name in got, f"output {name} missing from the IR outputs {sorted(got)}"
        np.testing.assert_allclose(got[name], r, rtol=rtol, atol=atol, err_msg=name)
    return graph


def report(graph: mo.Graph, name: str) -> str:
    """The summary line the pass ``name`` left in the conversion's reports."""
    lines = [str(r) for r in graph.meta["reports"] if r.name == name]
    assert lines, f"no report of {name}"
    return lines[0]
