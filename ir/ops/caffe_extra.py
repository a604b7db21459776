"""Ops the Caffe frontend needs that no other family declares: DetectionOutput (opset8), Proposal
(opset4), PSROIPooling, RegionYolo, CTCGreedyDecoder (opset1) and ReorgYolo (opset2). Declared only
when absent, so a family module's declaration wins."""
from __future__ import annotations

import numpy as np

from ..opset import OPS, OpError, op

if "DetectionOutput" not in OPS:
    @op("DetectionOutput", "opset8", {
        "background_label_id": ("int", 0), "top_k": ("int", -1), "variance_encoded_in_target": ("bool", False),
        "keep_top_k": ("ints",), "code_type": ("str", "caffe.PriorBoxParameter.CORNER"),
        "share_location": ("bool", True), "nms_threshold": ("float",), "confidence_threshold": ("float", 0.0),
        "clip_after_nms": ("bool", False), "clip_before_nms": ("bool", False), "decrease_label_id": ("bool", False),
        "normalized": ("bool", True), "input_height": ("int", 1), "input_width": ("int", 1),
        "objectness_score": ("float", 0.0)}, inputs=(3, 5))
    def detection_output(ins, a):
        """SSD decoding + per-class NMS of box predictions loc[N, P*4 (or P*C*4)] with class
        confidences conf[N, P*C] against priors[1|N, 1|2, P*4]; output [1, 1, M, 7] rows
        (image, label, score, xmin, ymin, xmax, ymax), rows past the detections have image -1.
        M = N * keep_top_k, else N * top_k * C, else N * P * C."""
        loc, conf, priors = ins[:3]
        if conf.shape is None or priors.shape is None or loc.shape is None:
            return [(loc.etype, (1, 1, -1, 7))]
        n = conf.shape[0]
        per_box = 4 if a["normalized"] else 5
        if priors.shape[-1] < 0 or conf.shape[1] < 0 or n < 0:
            return [(loc.etype, (1, 1, -1, 7))]
        p = priors.shape[-1] // per_box
        if p == 0 or conf.shape[1] % p:
            raise OpError(f"confidences [{conf.shape[1]}] are not a multiple of the {p} priors")
        c = conf.shape[1] // p
        keep = a["keep_top_k"][0] if a["keep_top_k"] else -1
        if keep > 0:
            m = n * keep
        elif a["top_k"] > 0:
            m = n * a["top_k"] * c
        else:
            m = n * p * c
        return [(loc.etype, (1, 1, m, 7))]

if "Proposal" not in OPS:
    @op("Proposal", "opset4", {
        "base_size": ("int",), "pre_nms_topn": ("int",), "post_nms_topn": ("int",), "nms_thresh": ("float",),
        "feat_stride": ("int",), "min_size": ("int",), "ratio": ("floats",), "scale": ("floats",),
        "clip_before_nms": ("bool", True), "clip_after_nms": ("bool", False), "normalize": ("bool", False),
        "box_size_scale": ("float", 1.0), "box_coordinate_scale": ("float", 1.0), "framework": ("str", "")},
        inputs=(3, 3))
    def proposal(ins, a):
        """Region proposals from class_probs[N, 2A, H, W], bbox_deltas[N, 4A, H, W] and
        image_shape[3|4] (height, width, scale[, scale]); outputs rois [N*post_nms_topn, 5]
        (batch, x1, y1, x2, y2) and their scores [N*post_nms_topn]."""
        probs = ins[0]
        n = probs.shape[0] if probs.shape is not None else -1
        m = n * a["post_nms_topn"] if n >= 0 else -1
        return [(probs.etype, (m, 5)), (probs.etype, (m,))]

if "PSROIPooling" not in OPS:
    @op("PSROIPooling", "opset1", {"output_dim": ("int",), "group_size": ("int", 1), "spatial_scale": ("float",),
                                   "mode": ("str", "average"), "spatial_bins_x": ("int", 1),
                                   "spatial_bins_y": ("int", 1)}, inputs=(2, 2))
    def psroi_pooling(ins, a):
        """Position-sensitive ROI pooling (R-FCN) of x[N, output_dim*group_size^2, H, W] over
        rois[R, 5] (batch, x1, y1, x2, y2): output [R, output_dim, group_size, group_size]; bin
        (i, j) of output channel c averages input channel (c*group_size + i)*group_size + j."""
        x, rois = ins
        if a["mode"] not in ("average", "bilinear"):
            raise OpError(f"mode must be average or bilinear, not {a['mode']!r}")
        r = rois.shape[0] if rois.shape is not None else -1
        g = a["group_size"]
        return [(x.etype, (r, a["output_dim"], g, g))]

if "RegionYolo" not in OPS:
    @op("RegionYolo", "opset1", {"axis": ("int", 1), "end_axis": ("int", 3), "coords": ("int",), "classes": ("int",),
                                 "num": ("int",), "do_softmax": ("bool", True), "mask": ("ints", []),
                                 "anchors": ("floats", [])}, inputs=(1, 1))
    def region_yolo(ins, a):
        """YOLO region of x[N, C, H, W]: per anchor, logistic on x, y and objectness (and on the
        classes without do_softmax), softmax over the classes with do_softmax. With do_softmax the
        output is x flattened over [axis, end_axis]; without it only the ``mask`` anchors are kept:
        [N, len(mask) * (coords + 1 + classes), H, W]."""
        x = ins[0]
        if x.shape is None or len(x.shape) != 4:
            raise OpError("RegionYolo takes a 4-D input")
        n, c, h, w = x.shape
        if a["do_softmax"]:
            ax, end = a["axis"] % 4, a["end_axis"] % 4
            dims = list(x.shape)
            flat = -1 if any(d < 0 for d in dims[ax:end + 1]) else int(np.prod(dims[ax:end + 1]))
            return [(x.etype, tuple(dims[:ax] + [flat] + dims[end + 1:]))]
        return [(x.etype, (n, len(a["mask"]) * (a["coords"] + 1 + a["classes"]), h, w))]

if "ReorgYolo" not in OPS:
    @op("ReorgYolo", "opset2", {"stride": ("ints",)}, inputs=(1, 1))
    def reorg_yolo(ins, a):
        """Darknet's reorg of x[N, C, H, W] with stride s: output [N, C*s*s, H/s, W/s]."""
        x = ins[0]
        s = a["stride"][0]
        if x.shape is None or len(x.shape) != 4:
            raise OpError("ReorgYolo takes a 4-D input")
        n, c, h, w = x.shape
        if h >= 0 and (h % s or w % s):
            raise OpError(f"height {h} and width {w} must be multiples of the stride {s}")
        return [(x.etype, (n, c * s * s if c >= 0 else -1, h // s if h >= 0 else -1, w // s if w >= 0 else -1))]

if "CTCGreedyDecoder" not in OPS:
    @op("CTCGreedyDecoder", "opset1", {"ctc_merge_repeated": ("bool", True)}, inputs=(2, 2))
    def ctc_greedy_decoder(ins, a):
        """Greedy CTC decoding of data[T, N, C] (the blank is class C-1) within sequence_mask[T, N]:
        output [N, T, 1, 1] class indices, -1 after each sequence's last symbol."""
        x = ins[0]
        t, n = (x.shape[0], x.shape[1]) if x.shape is not None else (-1, -1)
        return [(x.etype, (n, t, 1, 1))]
