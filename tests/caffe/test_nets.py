"""Whole networks in the style of the well-known deploy prototxts (tests/caffe/nets.py), random
weights: the IR in OpenVINO (f32) against OpenCV's dnn module, |ir - cv| <= 1e-4 * max|cv| + 1e-6."""
from __future__ import annotations

import time

import numpy as np
import pytest

from .nets import NETS
from .test_detection import SSD_HEAD, _detections
from .writer import assert_close, convert, make_model, opencv_run, output_names, ov_infer, random_feeds


# the blob before the final softmax: random weights can saturate the probabilities, so the
# logits are compared too
LOGITS = {"alexnet": "fc8", "googlenet": "loss3/classifier", "resnet50": "fc1000", "squeezenet1.1": "pool10",
          "mobilenet_v1": "fc7", "mobilenet_v2": "fc7", "vgg16": "fc8"}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(NETS))
def test_net_vs_opencv(name, tmp_path):
    t0 = time.perf_counter()
    text = NETS[name]()
    proto, weights = make_model(tmp_path, text, seed=7, v1="\nlayers {" in text)   # V1 nets get a V1 caffemodel
    extra = {"outputs": [LOGITS[name], "prob"]} if name in LOGITS else {}
    xml, graph = convert(proto, weights, tmp_path, **extra)
    feeds = random_feeds(graph, seed=3)
    outs = output_names(graph)
    ir = ov_infer(xml, feeds)
    cv = opencv_run(proto, weights, feeds, outs)
    for o in outs:
        assert np.all(np.isfinite(ir[o]))
        assert_close(ir[o], cv[o], 1e-4, 1e-6, f"{name}:{o}")
    assert time.perf_counter() - t0 < 60


@pytest.mark.slow
def test_ssd_net_detections(tmp_path):
    """The SSD head net: same detections as OpenCV (see test_detection)."""
    proto, weights = make_model(tmp_path, SSD_HEAD, seed=11)
    xml, graph = convert(proto, weights, tmp_path)
    feeds = random_feeds(graph, seed=12)
    got = _detections(ov_infer(xml, feeds)["detection_out"])
    ref = _detections(opencv_run(proto, weights, feeds, ["detection_out"])["detection_out"])
    assert len(ref) > 0 and got.shape == ref.shape
    assert_close(got, ref, 1e-4, 1e-5)
