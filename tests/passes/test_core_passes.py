"""fold_constants, eliminate_dead_code and compress_to_fp16: must-fire and must-not-fire cases."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

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


def test_compress_to_fp16_keeps_underflowing_constants_f32(tmp_path: Path) -> None:
    """Rule: f32 kept when >= 75 % of the non-zero values round to 0 in f16 (an epsilon of
    1e-12); a weight with only a few tiny values is still compressed (they become 0)."""
    g = Graph("t")
    b = Builder(g, fold=False)
    x = b.parameter("x", "f32", (1, 4))
    w = np.linspace(-2, 2, 16, dtype=np.float32).reshape(4, 4)
    w[0, 0] = 1e-9                                                 # 1 of 16 tiny: compressed anyway
    eps = b.const(np.full((1, 4), 1e-12, dtype=np.float32))        # all tiny: kept f32
    mostly_tiny = np.array([[1e-10, 1e-10, 1e-10, 1.0]], np.float32)  # 3 of 4 tiny: kept f32
    y = b.op("Multiply", b.op("Add", b.op("MatMul", x, b.const(w)), eps), b.const(mostly_tiny))
    b.result(y, "y")
    report = compress_to_fp16.run(g)
    g.check()
    assert report.summary == ("1 constants stored as f16, 2 kept in f32 "
                              "(0 beyond f16's range 65504, 2 mostly below its smallest subnormal)")
    kept = sorted(float(n.outputs[0].const.numpy().min()) for n in g.nodes
                  if n.op == "Const" and n.attrs["element_type"] == "f32")
    assert kept == [pytest.approx(1e-12), pytest.approx(1e-10)]
    xml = tmp_path / "t.xml"
    mo.save(g, xml)
    feed = np.array([[1e-3, 2e-3, 3e-3, 4e-3]], dtype=np.float32)
    got = ov_infer(xml, {"x": feed})["y"]
    w16 = w.astype(np.float16).astype(np.float32)
    assert w16[0, 0] == 0                                          # the lone tiny value went to 0
    ref = (feed @ w16 + 1e-12) * mostly_tiny
    np.testing.assert_allclose(got, ref, rtol=1e-5)
    assert got[0, 0] != 0                                          # 1e-10 scale survived in f32


def test_compress_to_fp16_false_keeps_f32_weights(tmp_path: Path) -> None:
    """--data_type FP16 with --compress_to_fp16=False: no f16 constant, no decompression Convert."""
    sample = Path(__file__).resolve().parents[2] / "samples" / "sample_cnn.onnx"
    g = mo.convert(sample, data_type="FP16", compress_to_fp16=False)
    assert not any(r.name == "compress_to_fp16" for r in g.meta["reports"])
    assert {n.outputs[0].etype for n in g.nodes if n.op == "Const"} & {"f16", "f32"} == {"f32"}
    assert "Convert" not in g.op_counts()
