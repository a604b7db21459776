"""--compress_weights int8 / int4: u8 (u4) weights with per-channel scale and zero point.

Checked in the OpenVINO runtime (f32 hint) against the FP32 IR of the same model:
* int8: BIN <= 0.27 x the FP32 BIN; outputs within 1 % of the output range (sample CNN and the
  digits MLP, also with --data_type FP16; ResNet50, slow: within 2 %, measured 1.0 %); top-1 agreement with FP32 >= 99 % on the digits held-out split;
* int4 (MatMul weights only, group-wise over 128 inputs where possible): outputs within 15 % of
  the output range, agreement >= 95 %; a grouped weight computes exactly the numpy reference
  (q - zp) * s once the plugin's dynamic activation quantization is off;
* the CPU plugin compiles every compressed MatMul to a FullyConnected running on u8/u4 weights.
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
from .compression_models import SAMPLE_CNN, digits_mlp, resnet50_fp32, resnet50_output, resnet50_pb


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
        assert _rel_err(got[name], ref[name]) <= 0.01, name  # measured 7.5e-3
        assert _rel_err(got[name], ref[name]) > 0  # really quantized


def test_int8_mlp_accuracy(tmp_path):
    model, x, y = digits_mlp()
    fp32 = ov_infer(_ir(model, tmp_path / "fp32"), {"x": x})["logits"]
    int8_xml = _ir(model, tmp_path / "int8", compress_weights="int8")
    int8 = ov_infer(int8_xml, {"x": x})["logits"]
    assert (fp32.argmax(1) == y).mean() > 0.95  # the model learned something
    assert (int8.argmax(1) == fp32.argmax(1)).mean() >= 0.99
    assert _rel_err(int8, fp32) <= 0.01  # measured 3.4e-3


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
        assert _rel_err(got[name], ref[name]) <= 0.01, name


def _runtime_weight_types(xml: Path, precision: str = "f32") -> list[tuple[str, str]]:
    """(layer type, runtime precision) of every FullyConnected/MatMul/Convolution the CPU plugin compiled."""
    import openvino as ov

    core = ov.Core()
    compiled = core.compile_model(core.read_model(str(xml)), "CPU", {"INFERENCE_PRECISION_HINT": precision})
    out = []
    for op in compiled.get_runtime_model().get_ordered_ops():
        rt = op.get_rt_info()
        kind = rt["layerType"].astype(str)
        if kind in ("FullyConnected", "MatMul", "Convolution"):
            out.append((kind, rt["runtimePrecision"].astype(str)))
    return out


@pytest.mark.parametrize("mode, data_type", [("int8", "FP32"), ("int8", "FP16"), ("int4", "FP32"), ("int4", "FP16")])
def test_cpu_plugin_keeps_matmul_weights_compressed(tmp_path, mode, data_type):
    """The decompression subgraph is the one the CPU plugin recognizes: every MatMul of the MLP
    compiles to a FullyConnected that runs on the u8/u4 weights (not on decompressed f32)."""
    model, _, _ = digits_mlp()
    xml = _ir(model, tmp_path, compress_weights=mode, data_type=data_type)
    assert _runtime_weight_types(xml) == [("FullyConnected", "u8" if mode == "int8" else "u4")] * 3
    plain = _ir(model, tmp_path / "plain")
    assert _runtime_weight_types(plain) == [("FullyConnected", "f32")] * 3


@pytest.mark.parametrize("transpose_b", [False, True])
def test_int4_group_wise(tmp_path, transpose_b):
    """A 512-input MatMul weight gets one scale per 128 inputs and output channel; a group with a
    10x larger range then costs the other groups nothing: the error is the numpy reference's
    (q - zp) * s and well below what per-channel int4 gives."""
    from types import SimpleNamespace

    from mo.graph import Graph
    from mo.ir.builder import Builder
    from mo.passes import compress_weights

    rng = np.random.default_rng(0)
    w = rng.standard_normal((512, 64)).astype(np.float32)
    w[:128] *= 10
    g = Graph("t")
    b = Builder(g, fold=False)
    x = b.parameter("x", "f32", (8, 512))
    y = b.op("MatMul", x, b.const(np.ascontiguousarray(w.T) if transpose_b else w),
             transpose_a=False, transpose_b=transpose_b)
    b.result(y, "y")
    report = compress_weights.run(g, SimpleNamespace(compress_weights="int4"))
    g.check()
    assert "1 group-wise: one scale per 128 inputs" in report.summary
    scale = next(n for n in g.nodes if n.op == "Const" and n.name.endswith("/scale")).outputs[0]
    assert scale.shape == ((64, 4, 1) if transpose_b else (4, 1, 64))
    xml = mo.save(g, tmp_path / "m.xml").xml
    assert _runtime_weight_types(xml) == [("FullyConnected", "u4")]
    feed = rng.standard_normal((8, 512)).astype(np.float32)
    q, zp, s = quantize(w.reshape(4, 128, 64), (0, 2), 4)
    ref = feed @ ((q.astype(np.float32) - zp) * s).reshape(512, 64)
    # the plugin's dynamic quantization of activations (8-bit, groups of 32, on by default for
    # compressed weights) adds its own ~0.3 % error; with it off the IR computes exactly ref
    exact_ir = _infer_without_dynamic_quantization(xml, feed)
    assert _rel_err(exact_ir, ref) <= 1e-5
    got = ov_infer(xml, {"x": feed})["y"]
    assert _rel_err(got, ref) <= 0.01
    q1, zp1, s1 = quantize(w, (1,), 4)
    grouped_err = np.abs((q.astype(np.float32) - zp) * s - w.reshape(4, 128, 64)).mean()
    per_channel_err = np.abs((q1.astype(np.float32) - zp1) * s1 - w).mean()
    assert grouped_err < 0.5 * per_channel_err  # the three small-range groups keep a fine grid


def _infer_without_dynamic_quantization(xml: Path, feed: np.ndarray) -> np.ndarray:
    import openvino as ov

    core = ov.Core()
    compiled = core.compile_model(core.read_model(str(xml)), "CPU", {"INFERENCE_PRECISION_HINT": "f32",
                                                                      "DYNAMIC_QUANTIZATION_GROUP_SIZE": 0})
    return np.asarray(compiled([feed])[0])


@pytest.mark.slow
def test_resnet50_int8_and_int4(tmp_path_factory):
    """ResNet50 (Keras, seeded random weights): int8 BIN <= 0.27x (measured 0.252x), output within
    2 % of the range (measured 1.0e-2); int4 packs the classifier's MatMul as u4 (convolutions stay
    u8): BIN measured 0.243x, output within 8 % (measured 4.5e-2)."""
    folder = tmp_path_factory.getbasetemp() / "resnet50"
    folder.mkdir(exist_ok=True)
    fp32, x, ref = resnet50_fp32(folder)
    fp32_size = fp32.with_suffix(".bin").stat().st_size
    for mode, max_ratio, max_dev in (("int8", 0.27, 0.02), ("int4", 0.25, 0.08)):
        graph = mo.convert(resnet50_pb(folder), compress_weights=mode)
        xml = mo.save(graph, folder / mode / "model.xml").xml
        ratio = xml.with_suffix(".bin").stat().st_size / fp32_size
        dev = float(np.abs(resnet50_output(xml, x) - ref).max() / np.ptp(ref))
        print(f"\nResNet50 {mode}: BIN {ratio:.3f}x of FP32, output deviation {dev:.3g} x range")
        assert ratio <= max_ratio and dev <= max_dev, (mode, ratio, dev)
        assert dev > 0
