"""--compress_weights int8 / int4: u8 (u4) weights with per-channel scale and zero point.

Checked in the OpenVINO runtime (f32 hint) against the FP32 IR of the same model:
* int8: BIN <= 0.27 x the FP32 BIN; outputs within 2 % of the output range (sample CNN and the
  digits MLP); top-1 agreement with FP32 >= 99 % on the digits held-out split;
* int4 (MatMul weights only): outputs within 15 % of the output range, agreement >= 95 %.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from lxml import etree

import mo
from mo.passes.compress_weights import pack_u4, quantize

from ..runtime import ov_infer
from .compression_models import SAMPLE_CNN, digits_mlp


def _ir(model, tmp_path: Path, **options) -> Path:
    if isinstance(model, onnx.ModelProto):
        src = tmp_path / "model.onnx"
        tmp_path.mkdir(parents=True, exist_ok=True)
        onnx.save(model, src)
        model = src
    graph = mo.convert(model, **options)
    xml = tmp_path / "ir" / "model.xml"
    mo.save(graph, xml)
    return xml


def _layers(xml: Path) -> list[etree._Element]:
    return etree.parse(str(xml)).getroot().find("layers").findall("layer")


def _rel_err(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / (b.max() - b.min()))


def test_quantize_roundtrip_per_channel():
    w = np.random.default_rng(0).standard_normal((8, 3, 3, 3)).astype(np.float32)
    w[3] = 0.0  # an all-zero channel stays zero
    q, zp, s = quantize(w, (0,), 8)
    assert q.dtype == np.uint8 and zp.shape == (8, 1, 1, 1) and s.shape == (8, 1, 1, 1)
    back = (q.astype(np.float32) - zp) * s
    assert np.abs(back - w).max() <= s.max() / 2 + 1e-6
    assert np.all(back[3] == 0)
    assert pack_u4(np.array([1, 2, 15], np.uint8)).tolist() == [0x21, 0x0F]


def test_int8_cnn_size_and_outputs(tmp_path):
    fp32 = _ir(SAMPLE_CNN, tmp_path / "fp32")
    int8 = _ir(SAMPLE_CNN, tmp_path / "int8", compress_weights="int8")
    ratio = int8.with_suffix(".bin").stat().st_size / fp32.with_suffix(".bin").stat().st_size
    assert ratio <= 0.27, ratio
    layers = _layers(int8)
    u8 = [l for l in layers if l.get("type") == "Const" and l.find("data").get("element_type") == "u8"]
    assert len(u8) == 8  # 3 convolution filters, the classifier's MatMul weight, and their zero points
    x = np.random.default_rng(1).standard_normal((1, 3, 64, 64)).astype(np.float32)
    ref, got = ov_infer(fp32, {"input": x}), ov_infer(int8, {"input": x})
    for name in ref:
        assert _rel_err(got[name], ref[name]) <= 0.02, name
        assert _rel_err(got[name], ref[name]) > 0  # really quantized


def test_int8_mlp_accuracy(tmp_path):
    model, x, y = digits_mlp()
    fp32 = ov_infer(_ir(model, tmp_path / "fp32"), {"x": x})["logits"]
    int8_xml = _ir(model, tmp_path / "int8", compress_weights="int8")
    int8 = ov_infer(int8_xml, {"x": x})["logits"]
    assert (fp32.argmax(1) == y).mean() > 0.95  # the model learned something
    assert (int8.argmax(1) == fp32.argmax(1)).mean() >= 0.99
    assert _rel_err(int8, fp32) <= 0.02


def test_int4_matmul_only(tmp_path):
    model, x, _ = digits_mlp()
    fp32 = ov_infer(_ir(model, tmp_path / "fp32"), {"x": x})["logits"]
    xml = _ir(model, tmp_path / "int4", compress_weights="int4")
    types = [l.find("data").get("element_type") for l in _layers(xml) if l.get("type") == "Const"]
    assert types.count("u4") == 6  # the three MatMul weights (64x256, 256x128, 128x10) and their zero points
    got = ov_infer(xml, {"x": x})["logits"]
    assert _rel_err(got, fp32) <= 0.15
    assert (got.argmax(1) == fp32.argmax(1)).mean() >= 0.95
    cnn = _ir(SAMPLE_CNN, tmp_path / "cnn4", compress_weights="int4")  # convolutions stay u8, the FC goes u4
    ctypes = [l.find("data").get("element_type") for l in _layers(cnn) if l.get("type") == "Const"]
    assert ctypes.count("u8") == 6 and ctypes.count("u4") == 2


def test_must_not_fire_small_and_non_constant(tmp_path):
    from onnx import TensorProto, helper

    small = np.ones((8, 8), np.float32)  # 64 values: below the size worth compressing
    nodes = [helper.make_node("MatMul", ["a", "b"], ["ab"]), helper.make_node("MatMul", ["ab", "w"], ["y"])]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("a", TensorProto.FLOAT, [4, 8]),
                                        helper.make_tensor_value_info("b", TensorProto.FLOAT, [8, 8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 8])],
                          [onnx.numpy_helper.from_array(small, "w")])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)], ir_version=8)
    graph = mo.convert(_save(model, tmp_path), compress_weights="int8")
    assert "u8" not in {n.outputs[0].etype for n in graph.nodes if n.op == "Const"}
    assert any("no Convolution/MatMul weights" in str(r) for r in graph.meta["reports"])


def _save(model, tmp_path: Path) -> Path:
    p = tmp_path / "m.onnx"
    onnx.save(model, p)
    return p


def test_int8_with_fp16(tmp_path):
    """--compress_weights int8 with --data_type FP16: the scales go f16; the IR still runs."""
    fp32 = _ir(SAMPLE_CNN, tmp_path / "fp32")
    xml = _ir(SAMPLE_CNN, tmp_path / "both", compress_weights="int8", data_type="FP16")
    x = np.random.default_rng(2).standard_normal((1, 3, 64, 64)).astype(np.float32)
    ref, got = ov_infer(fp32, {"input": x}), ov_infer(xml, {"input": x})
    for name in ref:
        assert _rel_err(got[name], ref[name]) <= 0.03, name
