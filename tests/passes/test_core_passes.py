"""fold_constants, eliminate_dead_code and compress_to_fp16: must-fire and must-not-fire cases."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from mo.graph import Graph
from mo.ir.builder import Builder
from mo.passes import compress_to_fp16, eliminate_dead_code, fold_constants
from mo.tensor import LazyTensor

from ..onnx.util import ov_infer
import mo


def _graph_with_big_constant_subgraph() -> tuple[Graph, Builder]:
    g = Graph("t")
    b = Builder(g, fold=False)
    x = b.parameter("x", "f32", (1, 2048))
    # a weight built the way the light zoo builds them: Broadcast(value, shape)
    w = b.op("Broadcast", b.const(np.float32(0.5)), b.const(np.array([2048, 1024], dtype=np.int64)), mode="numpy")
    y = b.op("MatMul", x, w)
    b.result(y, "y")
    return g, b


def test_fold_constants_fires_and_keeps_large_results_lazy() -> None:
    g, _ = _graph_with_big_constant_subgraph()
    report = fold_constants.run(g)
    g.check()
    assert report.changed and "1 ops folded" in report.summary
    assert "Broadcast" not in g.op_counts()
    mm = next(n for n in g.nodes if n.op == "MatMul")
    w = mm.inputs[1].const
    assert isinstance(w, LazyTensor)       # 2M elements: computed when streamed, not now
    assert w.shape == (2048, 1024)
    assert float(w.numpy()[7, 9]) == 0.5


def test_fold_constants_does_not_fire_on_parameter_paths() -> None:
    g = Graph("t")
    b = Builder(g, fold=False)
    x = b.parameter("x", "f32", (-1, 3))
    y = b.op("Add", x, b.const(np.ones((1, 3), np.float32)))
    s = b.op("ShapeOf", y)             # dynamic batch: the shape is not known
    b.result(y, "y")
    b.result(s, "s")
    report = fold_constants.run(g)
    assert not report.changed
    assert g.op_counts()["ShapeOf"] == 1


def test_fold_constants_folds_shape_of_static_shapes() -> None:
    g = Graph("t")
    b = Builder(g, fold=False)
    x = b.parameter("x", "f32", (4, 3))
    s = b.op("ShapeOf", x)
    b.result(s, "s")
    assert fold_constants.run(g).changed
    assert g.results[0].inputs[0].const.numpy().tolist() == [4, 3]


def test_dead_code_elimination() -> None:
    g = Graph("t")
    b = Builder(g, fold=False)
    x = b.parameter("x", "f32", (2,))
    b.op("Exp", x)                      # used by nothing
    b.result(b.op("Relu", x), "y")
    assert eliminate_dead_code.run(g).changed
    assert "Exp" not in g.op_counts()
    assert not eliminate_dead_code.run(g).changed
    g.check()


def test_compress_to_fp16_structure_and_range(tmp_path: Path) -> None:
    g = Graph("t")
    b = Builder(g, fold=False)
    x = b.parameter("x", "f32", (1, 4))
    small = b.const(np.linspace(-2, 2, 16, dtype=np.float32).reshape(4, 4))
    huge = b.const(np.full((1, 4), 1e6, dtype=np.float32))       # beyond f16: must stay f32
    y = b.op("Add", b.op("MatMul", x, small), huge)
    b.result(y, "y")
    report = compress_to_fp16.run(g)
    g.check()
    assert "1 constants stored as f16, 1 kept in f32" in report.summary
    conv = [n for n in g.nodes if n.op == "Convert"]
    assert len(conv) == 1 and conv[0].rt_info == {"decompression": ""}
    assert conv[0].inputs[0].producer.attrs["element_type"] == "f16"
    xml = tmp_path / "t.xml"
    mo.save(g, xml)
    text = xml.read_text()
    assert '<attribute name="decompression" version="0"/>' in text
    feed = np.array([[1, 2, 3, 4]], dtype=np.float32)
    got = ov_infer(xml, {"x": feed})["y"]
    ref = feed @ np.linspace(-2, 2, 16, dtype=np.float32).reshape(4, 4) + 1e6
    np.testing.assert_allclose(got, ref, rtol=1e-6)
