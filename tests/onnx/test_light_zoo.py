"""The 9 light model-zoo models shipped in the onnx wheel, converted FP32 and FP16.

Each model's input is what the onnx backend test feeds it (``arange(n) / n`` in the
input's shape) and the expected output is the stored ``light_*_output_0.pb``.
FP32: ``allclose(rtol=1e-3, atol=1e-6)``. FP16 (f16 weights, f32 compute):
``allclose(rtol=1e-2, atol=1e-5)``, and the top-5 classes must equal the reference's
where the reference has distinct top scores.

SqueezeNet's logits are ~1e10 and identical for every class (its weights are
constant fills), so its final Softmax turns last-bit differences in the summation
order into different probabilities: OpenVINO's own ONNX reader gives the same 0.124
error in f32. For it we compare the Softmax input (the logits) with onnxruntime at
rtol 1e-6 instead, which is the stricter statement about our conversion.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

import mo

from .util import ort_infer, ov_infer

LIGHT = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"
MODELS = ["bvlc_alexnet", "densenet121", "inception_v1", "inception_v2", "resnet50", "shufflenet", "squeezenet",
          "vgg19", "zfnet512"]


def _input(model: onnx.ModelProto) -> tuple[str, np.ndarray]:
    inits = {i.name for i in model.graph.initializer}
    x = next(i for i in model.graph.input if i.name not in inits)
    shape = tuple(d.dim_value if d.HasField("dim_value") else 1 for d in x.type.tensor_type.shape.dim)
    n = int(np.prod(shape))
    return x.name, (np.arange(n).reshape(shape) / n).astype(np.float32)


def _convert(path: Path, tmp_path: Path, fp16: bool) -> Path:
    graph = mo.convert(path, data_type="FP16" if fp16 else "FP32")
    graph.check()
    xml = tmp_path / ("fp16" if fp16 else "fp32") / "model.xml"
    mo.save(graph, xml)
    return xml


@pytest.mark.slow
@pytest.mark.parametrize("fp16", [False, True], ids=["FP32", "FP16"])
@pytest.mark.parametrize("name", MODELS)
def test_light_model(name: str, fp16: bool, tmp_path: Path) -> None:
    path = LIGHT / f"light_{name}.onnx"
    model = onnx.load(path)
    in_name, x = _input(model)
    out_name = model.graph.output[0].name
    expected = numpy_helper.to_array(onnx.load_tensor(str(LIGHT / f"light_{name}_output_0.pb")))
    xml = _convert(path, tmp_path, fp16)

    if name == "squeezenet":
        # compare the logits feeding the final Softmax (see the module docstring)
        softmax = next(n for n in model.graph.node if n.op_type == "Softmax")
        logits = softmax.input[0]
        del model.graph.output[:]
        model.graph.output.append(onnx.ValueInfoProto(name=logits))
        cut = tmp_path / "logits.onnx"
        onnx.save(model, cut)
        graph = mo.convert(cut, data_type="FP16" if fp16 else "FP32")
        xml = tmp_path / "logits" / "model.xml"
        mo.save(graph, xml)
        got = ov_infer(xml, {in_name: x})[logits]
        ref = ort_infer(cut, {in_name: x})[logits]
        np.testing.assert_allclose(got, ref, rtol=1e-2 if fp16 else 1e-6)
        return

    got = ov_infer(xml, {in_name: x})[out_name]
    assert got.shape == expected.shape
    if fp16:
        np.testing.assert_allclose(got, expected, rtol=1e-2, atol=1e-5)
        flat_e = expected.reshape(expected.shape[0], -1)
        top_e = np.sort(flat_e, axis=1)[:, ::-1][:, :6]
        if np.all(np.diff(top_e, axis=1) < 0):  # distinct top scores: the ranking is meaningful
            flat_g = got.reshape(got.shape[0], -1)
            assert (np.argsort(-flat_g, axis=1)[:, :5] == np.argsort(-flat_e, axis=1)[:, :5]).all()
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-6)


@pytest.mark.slow
def test_light_models_fold_constant_of_shape_weights(tmp_path: Path) -> None:
    """The zoo's weights are ConstantOfShape subgraphs: after folding none remain."""
    graph = mo.convert(LIGHT / "light_resnet50.onnx")
    ops = graph.op_counts()
    assert "Broadcast" not in ops and "ShapeOf" not in ops
    assert ops["Convolution"] == 53
