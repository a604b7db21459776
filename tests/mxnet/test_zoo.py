"""Gluon model-zoo networks (random weights) made by mxnet 1.9.1 in the side environment,
converted by mo in the main environment and run in OpenVINO.

FP32: max |IR - mxnet| / max |mxnet| <= 1e-4. FP16 (weights stored as f16, run with the f32
hint): the same ratio <= 2e-2.
"""
from __future__ import annotations

import numpy as np
import pytest

import mo
from tests.runtime import ov_infer

NETS = {"resnet18_v1": 224, "resnet50_v2": 224, "mobilenet1.0": 224, "mobilenetv2_1.0": 224,
        "squeezenet1.1": 224, "vgg11_bn": 224, "densenet121": 224, "inceptionv3": 299, "alexnet": 224}
FP16_TOLERANCE = 2e-2   # as --validate for FP16; measured at most 9.2e-3 (mobilenetv2_1.0)


def _rel_error(got: np.ndarray, ref: np.ndarray) -> float:
    return float(np.abs(got.astype(np.float64) - ref).max() / np.abs(ref).max())


@pytest.mark.slow
@pytest.mark.parametrize("name", list(NETS))
def test_gluon_zoo(name, zoo_dir, tmp_path):
    x = np.load(zoo_dir / f"{name}-input.npy")
    ref = np.load(zoo_dir / f"{name}-output.npy")
    assert x.shape == (1, 3, NETS[name], NETS[name])
    for data_type, tol in (("FP32", 1e-4), ("FP16", FP16_TOLERANCE)):
        graph = mo.convert(zoo_dir / f"{name}-symbol.json", input_shape=[x.shape], data_type=data_type,
                           framework="mxnet")
        graph.check()
        xml = tmp_path / data_type / f"{name}.xml"
        mo.save(graph, xml)
        out = ov_infer(xml, {"data": x})
        head = graph.outputs[0].names[-1]
        got = out[head]
        assert got.shape == ref.shape
        err = _rel_error(got, ref)
        assert err <= tol, f"{name} {data_type}: max relative error {err:.3g} > {tol}"
        if data_type == "FP32":   # argmax agrees too
            assert int(got.argmax()) == int(ref.argmax())


HEADS = {"ssd_head": "data", "fcn_head": "data", "text_lstm": "data"}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(HEADS))
def test_gluon_heads(name, zoo_dir, tmp_path):
    """GluonCV-style heads made in side/make_zoo.py: an SSD (MultiBoxPrior, MultiBoxDetection), an FCN
    segmentation head (BilinearResize2D like the input) and a text LSTM (Embedding, Gluon's rnn.LSTM with
    its in-graph zero begin state). FP32 as the zoo; FP16 too except for the SSD, whose score sorting and
    thresholds make a 1e-3 weight change reorder rows."""
    x = np.load(zoo_dir / f"{name}-input.npy")
    ref = np.load(zoo_dir / f"{name}-output.npy")
    types = (("FP32", 1e-4),) if name == "ssd_head" else (("FP32", 1e-4), ("FP16", FP16_TOLERANCE))
    for data_type, tol in types:
        graph = mo.convert(zoo_dir / f"{name}-symbol.json", input_shape=[x.shape], data_type=data_type,
                           framework="mxnet")
        xml = tmp_path / data_type / f"{name}.xml"
        mo.save(graph, xml)
        got = ov_infer(xml, {HEADS[name]: x})[graph.outputs[0].names[-1]]
        assert got.shape == ref.shape
        err = _rel_error(got, ref)
        assert err <= tol, f"{name} {data_type}: max relative error {err:.3g} > {tol}"
    if name == "ssd_head":
        assert (ref[0, :, 0] >= 0).sum() >= 5   # the test sees real detections, not only -1 rows
