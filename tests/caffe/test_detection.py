"""Detection layers against OpenCV's dnn module: SSD PriorBox and DetectionOutput, Faster R-CNN
Proposal and ROIPooling."""
from __future__ import annotations

import numpy as np

from .test_layers import L, net
from .writer import assert_close, check_vs_opencv, convert, make_model, opencv_run, ov_infer, random_feeds


def test_prior_box(tmp_path):
    text = net(L("feat", "Convolution", body="convolution_param { num_output: 4 kernel_size: 3 stride: 4 pad: 1 }"),
               L("pb1", "PriorBox", bottom=["feat", "data"], body="prior_box_param { min_size: 8 max_size: 16 "
                 "aspect_ratio: 2 aspect_ratio: 3 flip: true clip: false variance: 0.1 variance: 0.1 variance: 0.2 "
                 "variance: 0.2 offset: 0.5 }"),
               L("pb2", "PriorBox", bottom=["feat", "data"], body="prior_box_param { min_size: 10 aspect_ratio: 2 "
                 "flip: false clip: true variance: 0.1 step: 6 }"),
               shape=(1, 3, 32, 32))
    ir, cv, _ = check_vs_opencv(tmp_path, text, rtol=1e-6, atol=1e-6)
    assert ir["pb1"].shape == (1, 2, 8 * 8 * 6 * 4)


SSD_HEAD = """
name: "ssd_head"
input: "data"
input_shape { dim: 1 dim: 3 dim: 32 dim: 32 }
layer { name: "conv4" type: "Convolution" bottom: "data" top: "conv4"
  convolution_param { num_output: 8 kernel_size: 3 stride: 4 pad: 1 } }
layer { name: "relu4" type: "ReLU" bottom: "conv4" top: "conv4" }
layer { name: "conv4_norm" type: "Normalize" bottom: "conv4" top: "conv4_norm"
  norm_param { across_spatial: false scale_filler { type: "constant" value: 20 } channel_shared: false } }
layer { name: "conv5" type: "Convolution" bottom: "conv4" top: "conv5"
  convolution_param { num_output: 8 kernel_size: 3 stride: 2 pad: 1 } }
layer { name: "conv4_mbox_loc" type: "Convolution" bottom: "conv4_norm" top: "conv4_mbox_loc"
  convolution_param { num_output: 16 kernel_size: 3 pad: 1 } }
layer { name: "conv4_mbox_loc_perm" type: "Permute" bottom: "conv4_mbox_loc" top: "conv4_mbox_loc_perm"
  permute_param { order: 0 order: 2 order: 3 order: 1 } }
layer { name: "conv4_mbox_loc_flat" type: "Flatten" bottom: "conv4_mbox_loc_perm" top: "conv4_mbox_loc_flat"
  flatten_param { axis: 1 } }
layer { name: "conv4_mbox_conf" type: "Convolution" bottom: "conv4_norm" top: "conv4_mbox_conf"
  convolution_param { num_output: 12 kernel_size: 3 pad: 1 } }
layer { name: "conv4_mbox_conf_perm" type: "Permute" bottom: "conv4_mbox_conf" top: "conv4_mbox_conf_perm"
  permute_param { order: 0 order: 2 order: 3 order: 1 } }
layer { name: "conv4_mbox_conf_flat" type: "Flatten" bottom: "conv4_mbox_conf_perm" top: "conv4_mbox_conf_flat"
  flatten_param { axis: 1 } }
layer { name: "conv4_mbox_priorbox" type: "PriorBox" bottom: "conv4" bottom: "data" top: "conv4_mbox_priorbox"
  prior_box_param { min_size: 6 max_size: 12 aspect_ratio: 2 flip: true clip: false
    variance: 0.1 variance: 0.1 variance: 0.2 variance: 0.2 step: 4 offset: 0.5 } }
layer { name: "conv5_mbox_loc" type: "Convolution" bottom: "conv5" top: "conv5_mbox_loc"
  convolution_param { num_output: 16 kernel_size: 1 } }
layer { name: "conv5_mbox_loc_perm" type: "Permute" bottom: "conv5_mbox_loc" top: "conv5_mbox_loc_perm"
  permute_param { order: 0 order: 2 order: 3 order: 1 } }
layer { name: "conv5_mbox_loc_flat" type: "Flatten" bottom: "conv5_mbox_loc_perm" top: "conv5_mbox_loc_flat"
  flatten_param { axis: 1 } }
layer { name: "conv5_mbox_conf" type: "Convolution" bottom: "conv5" top: "conv5_mbox_conf"
  convolution_param { num_output: 12 kernel_size: 1 } }
layer { name: "conv5_mbox_conf_perm" type: "Permute" bottom: "conv5_mbox_conf" top: "conv5_mbox_conf_perm"
  permute_param { order: 0 order: 2 order: 3 order: 1 } }
layer { name: "conv5_mbox_conf_flat" type: "Flatten" bottom: "conv5_mbox_conf_perm" top: "conv5_mbox_conf_flat"
  flatten_param { axis: 1 } }
layer { name: "conv5_mbox_priorbox" type: "PriorBox" bottom: "conv5" bottom: "data" top: "conv5_mbox_priorbox"
  prior_box_param { min_size: 12 max_size: 24 aspect_ratio: 2 flip: true clip: false
    variance: 0.1 variance: 0.1 variance: 0.2 variance: 0.2 step: 8 offset: 0.5 } }
layer { name: "mbox_loc" type: "Concat" bottom: "conv4_mbox_loc_flat" bottom: "conv5_mbox_loc_flat" top: "mbox_loc"
  concat_param { axis: 1 } }
layer { name: "mbox_conf" type: "Concat" bottom: "conv4_mbox_conf_flat" bottom: "conv5_mbox_conf_flat"
  top: "mbox_conf" concat_param { axis: 1 } }
layer { name: "mbox_priorbox" type: "Concat" bottom: "conv4_mbox_priorbox" bottom: "conv5_mbox_priorbox"
  top: "mbox_priorbox" concat_param { axis: 2 } }
layer { name: "mbox_conf_reshape" type: "Reshape" bottom: "mbox_conf" top: "mbox_conf_reshape"
  reshape_param { shape { dim: 0 dim: -1 dim: 3 } } }
layer { name: "mbox_conf_softmax" type: "Softmax" bottom: "mbox_conf_reshape" top: "mbox_conf_softmax"
  softmax_param { axis: 2 } }
layer { name: "mbox_conf_flatten" type: "Flatten" bottom: "mbox_conf_softmax" top: "mbox_conf_flatten"
  flatten_param { axis: 1 } }
layer { name: "detection_out" type: "DetectionOutput" bottom: "mbox_loc" bottom: "mbox_conf_flatten"
  bottom: "mbox_priorbox" top: "detection_out"
  include { phase: TEST }
  detection_output_param { num_classes: 3 share_location: true background_label_id: 0
    nms_param { nms_threshold: 0.45 top_k: 40 } code_type: CENTER_SIZE keep_top_k: 20
    confidence_threshold: 0.2 } }
"""


def _detections(a: np.ndarray) -> np.ndarray:
    """Rows of a [1, 1, M, 7] detection output up to the first image id -1, sorted by label and score."""
    rows = a.reshape(-1, 7)
    end = np.flatnonzero(rows[:, 0] < 0)
    rows = rows[: end[0]] if end.size else rows
    return rows[np.lexsort((-rows[:, 2], rows[:, 1]))]


def test_ssd_head_detection_output(tmp_path):
    """An SSD head (Normalize, PriorBox, Permute/Flatten/Concat, softmax, DetectionOutput): the
    detections (label, score, box) equal OpenCV's."""
    proto, weights = make_model(tmp_path, SSD_HEAD, seed=2)
    xml, graph = convert(proto, weights, tmp_path)
    feeds = random_feeds(graph, seed=4)
    ir = ov_infer(xml, feeds)["detection_out"]
    cv = opencv_run(proto, weights, feeds, ["detection_out"])["detection_out"]
    got, ref = _detections(ir), _detections(cv)
    assert len(ref) > 3, "the test should produce detections"
    assert got.shape == ref.shape
    assert_close(got, ref, 1e-4, 1e-5, "detections")


def test_roi_pooling(tmp_path):
    text = net(L("conv", "Convolution", body="convolution_param { num_output: 4 kernel_size: 3 pad: 1 }"),
               L("roi_pool", "ROIPooling", bottom=["conv", "rois"], body="roi_pooling_param { pooled_h: 3 pooled_w: 2 "
                                                                      "spatial_scale: 0.5 }"),
               shape=(1, 3, 16, 16))
    text = text.replace('name: "t"\n', 'name: "t"\nlayer { name: "rois" type: "Input" top: "rois" '
                        'input_param { shape { dim: 4 dim: 5 } } }\n')
    rois = np.array([[0, 0, 0, 20, 20], [0, 4, 6, 30, 12], [0, 10, 2, 14, 31], [0, 1, 1, 3, 3]], np.float32)
    feeds = {"data": np.random.default_rng(0).standard_normal((1, 3, 16, 16)).astype(np.float32), "rois": rois}
    ir, _, _ = check_vs_opencv(tmp_path, text, feeds=feeds, rtol=1e-5)
    assert ir["roi_pool"].shape == (4, 4, 3, 2)


PROPOSAL = """
name: "rpn"
input: "rpn_cls_prob_reshape"
input_shape { dim: 1 dim: 18 dim: 6 dim: 8 }
input: "rpn_bbox_pred"
input_shape { dim: 1 dim: 36 dim: 6 dim: 8 }
input: "im_info"
input_shape { dim: 1 dim: 3 }
layer { name: "proposal" type: "{type}" bottom: "rpn_cls_prob_reshape" bottom: "rpn_bbox_pred" bottom: "im_info"
  top: "rois" {params} }
"""


def _rpn_feeds(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((1, 2, 9, 6, 8))
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return {"rpn_cls_prob_reshape": probs.reshape(1, 18, 6, 8).astype(np.float32),
            "rpn_bbox_pred": (rng.standard_normal((1, 36, 6, 8)) * 0.2).astype(np.float32),
            "im_info": np.array([[96, 128, 1.0]], np.float32)}


def test_proposal(tmp_path):
    """Region proposals against OpenCV. Caffe (py-faster-rcnn) drops boxes narrower or lower than
    min_size * im_info[2] before NMS; OpenCV keeps them, so those rows are removed from OpenCV's
    output first. The IR ends its proposals with a row of batch index -1."""
    text = PROPOSAL.replace("{type}", "Proposal").replace(
        "{params}", "proposal_param { feat_stride: 16 base_size: 16 min_size: 16 ratio: 0.5 ratio: 1 ratio: 2 "
                    "scale: 8 scale: 16 scale: 32 pre_nms_topn: 200 post_nms_topn: 30 nms_thresh: 0.7 }")
    proto, weights = make_model(tmp_path, text)
    xml, graph = convert(proto, weights, tmp_path)
    feeds = _rpn_feeds()
    ir = ov_infer(xml, feeds)["rois"]
    cv = opencv_run(proto, weights, feeds, ["rois"])["rois"].reshape(-1, 5)
    assert ir.shape == (30, 5) and 0 < len(cv) <= 30
    big = (cv[:, 3] - cv[:, 1] + 1 >= 16) & (cv[:, 4] - cv[:, 2] + 1 >= 16)
    assert 0 < big.sum() < len(cv), "the data should have boxes below min_size"
    end = np.flatnonzero(ir[:, 0] < 0)
    got = ir[: end[0]] if end.size else ir
    ref = cv[big][: len(got)]
    assert len(got) >= 10
    assert_close(got, ref, 1e-4, 1e-3, "rois")


def test_python_proposal_layer(tmp_path):
    """py-faster-rcnn's Python ProposalLayer converts to the same Proposal (its test-time settings:
    6000 pre-NMS, 300 post-NMS, NMS 0.7, min size 16)."""
    text = PROPOSAL.replace("{type}", "Python").replace(
        "{params}", "python_param { module: 'rpn.proposal_layer' layer: 'ProposalLayer' "
                    "param_str: \"'feat_stride': 16\" }")
    proto, weights = make_model(tmp_path, text)
    xml, graph = convert(proto, weights, tmp_path)
    node = next(n for n in graph.nodes if n.op == "Proposal")
    assert node.attrs["post_nms_topn"] == 300 and node.attrs["scale"] == [8.0, 16.0, 32.0]
    ir = ov_infer(xml, _rpn_feeds())["rois"]
    # the same model with the equivalent Proposal layer
    same = PROPOSAL.replace("{type}", "Proposal").replace("{params}", "proposal_param { feat_stride: 16 }")
    (tmp_path / "b").mkdir()
    proto2, weights2 = make_model(tmp_path / "b", same)
    xml2, _ = convert(proto2, weights2, tmp_path / "b")
    np.testing.assert_array_equal(ir, ov_infer(xml2, _rpn_feeds())["rois"])


# py-faster-rcnn's rpn/proposal_layer.py forward (with generate_anchors, bbox_transform_inv,
# clip_boxes and the +1 pixel convention of its nms), transcribed in numpy
def _anchors(base: int = 16, ratios=(0.5, 1, 2), scales=(8, 16, 32)) -> np.ndarray:
    """generate_anchors: the base box's ratio variants (rounded sizes), each at every scale: [A, 4]."""
    def centre(a):
        w, h = a[2] - a[0] + 1, a[3] - a[1] + 1
        return w, h, a[0] + 0.5 * (w - 1), a[1] + 0.5 * (h - 1)

    def boxes(ws, hs, xc, yc):
        ws, hs = np.asarray(ws, float)[:, None], np.asarray(hs, float)[:, None]
        return np.hstack((xc - 0.5 * (ws - 1), yc - 0.5 * (hs - 1), xc + 0.5 * (ws - 1), yc + 0.5 * (hs - 1)))

    w, h, xc, yc = centre(np.array([0.0, 0.0, base - 1.0, base - 1.0]))
    ws = np.round(np.sqrt(w * h / np.array(ratios)))
    hs = np.round(ws * np.array(ratios))
    out = []
    for a in boxes(ws, hs, xc, yc):
        w, h, xc, yc = centre(a)
        out.append(boxes(w * np.array(scales), h * np.array(scales), xc, yc))
    return np.vstack(out)


def _nms(dets: np.ndarray, thresh: float) -> list[int]:
    """Greedy NMS with areas counted in pixels (+1)."""
    x1, y1, x2, y2, s = dets.T
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order, keep = s.argsort()[::-1], []
    while order.size:
        i, rest = order[0], order[1:]
        keep.append(int(i))
        w = np.maximum(0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
        h = np.maximum(0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1)
        inter = w * h
        order = rest[inter / (areas[i] + areas[rest] - inter) <= thresh]
    return keep


def _proposal_reference(probs, deltas, im_info, stride=16, pre=200, post=30, thr=0.7, min_size=16):
    """rois [K, 5] of one image: foreground scores (second half of the channels), anchors shifted
    over the feature map, deltas decoded, boxes clipped, small boxes dropped, NMS."""
    a = 9
    scores = probs[:, a:]
    h, w = scores.shape[2:]
    sx, sy = np.meshgrid(np.arange(w) * stride, np.arange(h) * stride)
    shifts = np.stack([sx.ravel(), sy.ravel(), sx.ravel(), sy.ravel()], axis=1)
    anchors = (_anchors()[None] + shifts[:, None]).reshape(-1, 4)
    d = deltas.transpose(0, 2, 3, 1).reshape(-1, 4)
    sc = scores.transpose(0, 2, 3, 1).reshape(-1)
    aw, ah = anchors[:, 2] - anchors[:, 0] + 1, anchors[:, 3] - anchors[:, 1] + 1
    cx, cy = anchors[:, 0] + 0.5 * aw + d[:, 0] * aw, anchors[:, 1] + 0.5 * ah + d[:, 1] * ah
    pw, ph = np.exp(d[:, 2]) * aw, np.exp(d[:, 3]) * ah
    b = np.stack([cx - 0.5 * pw, cy - 0.5 * ph, cx + 0.5 * pw, cy + 0.5 * ph], axis=1)
    b[:, 0::2] = np.clip(b[:, 0::2], 0, im_info[1] - 1)
    b[:, 1::2] = np.clip(b[:, 1::2], 0, im_info[0] - 1)
    big = (b[:, 2] - b[:, 0] + 1 >= min_size * im_info[2]) & (b[:, 3] - b[:, 1] + 1 >= min_size * im_info[2])
    b, sc = b[big], sc[big]
    order = sc.argsort()[::-1][:pre]
    b, sc = b[order], sc[order]
    keep = _nms(np.hstack((b, sc[:, None])), thr)[:post]
    return np.hstack((np.zeros((len(keep), 1)), b[keep]))


def test_proposal_against_py_faster_rcnn(tmp_path):
    """Proposal rois equal the numpy transcription of py-faster-rcnn's proposal layer (anchors over
    the feature map, box decoding, clipping, min-size filter, top pre_nms_topn by score, NMS,
    post_nms_topn), on three random inputs."""
    text = PROPOSAL.replace("{type}", "Proposal").replace(
        "{params}", "proposal_param { feat_stride: 16 base_size: 16 min_size: 16 ratio: 0.5 ratio: 1 ratio: 2 "
                    "scale: 8 scale: 16 scale: 32 pre_nms_topn: 200 post_nms_topn: 30 nms_thresh: 0.7 }")
    proto, weights = make_model(tmp_path, text)
    xml, graph = convert(proto, weights, tmp_path)
    for seed in range(3):
        f = _rpn_feeds(seed)
        ir = ov_infer(xml, f)["rois"]
        ref = _proposal_reference(*(f[k].astype(np.float64) for k in ("rpn_cls_prob_reshape", "rpn_bbox_pred")),
                                  f["im_info"][0].astype(np.float64))
        end = np.flatnonzero(ir[:, 0] < 0)
        got = ir[: end[0]] if end.size else ir
        assert got.shape == ref.shape and len(ref) >= 10
        assert_close(got, ref, 1e-5, 1e-3, f"rois (seed {seed})")
