"""Detection layers: SSD (PriorBox, PriorBoxClustered, DetectionOutput) and Faster R-CNN
(Proposal, the Python ProposalLayer, ROIPooling)."""
from __future__ import annotations

import ast
import math

import numpy as np

from mo.errors import ConversionError

from ..context import caffe_ops


def _image_size(g, p, img) -> tuple[int, int]:
    if p.HasField("img_h") or p.HasField("img_w"):
        return int(p.img_h), int(p.img_w)
    if p.HasField("img_size"):
        return int(p.img_size), int(p.img_size)
    s = g.static_shape(img, "image bottom")
    return s[2], s[3]


def _steps(p, img_h: int, img_w: int, layer_h: int, layer_w: int) -> tuple[float, float]:
    if p.HasField("step_h") or p.HasField("step_w"):
        return float(p.step_h), float(p.step_w)
    if p.HasField("step"):
        return float(p.step), float(p.step)
    return img_h / layer_h, img_w / layer_w


def _variances(p) -> list[float]:
    v = [float(x) for x in p.variance]
    if not v:
        return [0.1] * 4
    if len(v) == 1:
        return v * 4
    if len(v) != 4:
        raise ConversionError(f"variance has {len(v)} values; give 1 or 4")
    return v


def prior_boxes(layer_h: int, layer_w: int, img_h: int, img_w: int, min_sizes, max_sizes, aspect_ratios,
                flip: bool, clip: bool, step_h: float, step_w: float, offset: float) -> np.ndarray:
    """SSD's prior boxes [layer_h * layer_w * num_priors, 4] (xmin, ymin, xmax, ymax), normalized:
    per cell, for each min size: the min box, the sqrt(min*max) box, then one per aspect ratio."""
    ratios = [1.0]
    for ar in aspect_ratios:
        if any(abs(ar - r) < 1e-6 for r in ratios):
            continue
        ratios.append(float(ar))
        if flip:
            ratios.append(1.0 / float(ar))
    sizes: list[tuple[float, float]] = []
    for i, m in enumerate(min_sizes):
        sizes.append((m, m))
        if max_sizes:
            s = math.sqrt(m * max_sizes[i])
            sizes.append((s, s))
        for r in ratios:
            if abs(r - 1.0) < 1e-6:
                continue
            sizes.append((m * math.sqrt(r), m / math.sqrt(r)))
    wh = np.array(sizes, dtype=np.float64)                       # [K, 2]
    cy, cx = np.meshgrid((np.arange(layer_h) + offset) * step_h, (np.arange(layer_w) + offset) * step_w,
                         indexing="ij")
    cx, cy = cx.reshape(-1, 1), cy.reshape(-1, 1)                # [H*W, 1]
    boxes = np.stack([(cx - wh[:, 0] / 2) / img_w, (cy - wh[:, 1] / 2) / img_h,
                      (cx + wh[:, 0] / 2) / img_w, (cy + wh[:, 1] / 2) / img_h], axis=-1)   # [H*W, K, 4]
    boxes = boxes.reshape(-1, 4).astype(np.float32)
    if clip:
        boxes = np.clip(boxes, 0.0, 1.0)
    return boxes


@caffe_ops.op("PriorBox")
def prior_box(g, feat, img):
    """SSD prior boxes: a constant [1, 2, H*W*K*4] (boxes, then their variances), computed
    here from the static feature map and image sizes."""
    p = g.p
    _, _, lh, lw = g.static_shape(feat, "feature map bottom")
    ih, iw = _image_size(g, p, img)
    mins, maxs = [float(v) for v in p.min_size], [float(v) for v in p.max_size]
    if not mins:
        raise ConversionError("PriorBox needs min_size")
    if maxs and len(maxs) != len(mins):
        raise ConversionError(f"{len(maxs)} max_size for {len(mins)} min_size")
    sh, sw = _steps(p, ih, iw, lh, lw)
    boxes = prior_boxes(lh, lw, ih, iw, mins, maxs, [float(v) for v in p.aspect_ratio], p.flip, p.clip, sh, sw,
                        float(p.offset))
    var = np.broadcast_to(np.array(_variances(p), np.float32), boxes.shape)
    return g.const(np.stack([boxes.reshape(-1), var.reshape(-1)])[None].astype(np.float32))


@caffe_ops.op("PriorBoxClustered")
def prior_box_clustered(g, feat, img):
    """Prior boxes of fixed widths/heights at every cell: a constant [1, 2, H*W*K*4]."""
    p = g.p
    _, _, lh, lw = g.static_shape(feat, "feature map bottom")
    ih, iw = _image_size(g, p, img)
    ws, hs = [float(v) for v in p.width], [float(v) for v in p.height]
    if not ws or len(ws) != len(hs):
        raise ConversionError(f"{len(ws)} widths and {len(hs)} heights; give the same number")
    sh, sw = _steps(p, ih, iw, lh, lw)
    wh = np.array(list(zip(ws, hs)), dtype=np.float64)
    cy, cx = np.meshgrid((np.arange(lh) + p.offset) * sh, (np.arange(lw) + p.offset) * sw, indexing="ij")
    cx, cy = cx.reshape(-1, 1), cy.reshape(-1, 1)
    boxes = np.stack([(cx - wh[:, 0] / 2) / iw, (cy - wh[:, 1] / 2) / ih,
                      (cx + wh[:, 0] / 2) / iw, (cy + wh[:, 1] / 2) / ih], axis=-1).reshape(-1, 4)
    if p.clip:
        boxes = np.clip(boxes, 0.0, 1.0)
    var = np.broadcast_to(np.array(_variances(p), np.float32), boxes.shape)
    return g.const(np.stack([boxes.reshape(-1), var.reshape(-1)])[None].astype(np.float32))


_CODE_TYPES = {1: "caffe.PriorBoxParameter.CORNER", 2: "caffe.PriorBoxParameter.CENTER_SIZE",
               3: "caffe.PriorBoxParameter.CORNER_SIZE"}


@caffe_ops.op("DetectionOutput")
def detection_output(g, loc, conf, priors):
    """SSD's box decoding and per-class NMS; output [1, 1, M, 7], unused rows with image -1."""
    p = g.p
    if not p.HasField("num_classes"):
        raise ConversionError("DetectionOutput needs num_classes")
    loc = g.op("Reshape", loc, g.i64([0, -1]), special_zero=True)
    conf = g.op("Reshape", conf, g.i64([0, -1]), special_zero=True)
    cs = g.static_shape(conf, "confidences")
    ps = g.static_shape(priors, "priors")
    n_priors = ps[-1] // 4
    if n_priors * int(p.num_classes) != cs[1]:
        raise ConversionError(f"confidences have {cs[1]} values per image, {n_priors} priors x "
                              f"{p.num_classes} classes need {n_priors * p.num_classes}")
    nms = p.nms_param
    return g.op("DetectionOutput", loc, conf, priors,
                background_label_id=int(p.background_label_id), top_k=int(nms.top_k) if nms.HasField("top_k") else -1,
                variance_encoded_in_target=bool(p.variance_encoded_in_target), keep_top_k=[int(p.keep_top_k)],
                code_type=_CODE_TYPES[p.code_type], share_location=bool(p.share_location),
                nms_threshold=float(nms.nms_threshold),
                confidence_threshold=float(p.confidence_threshold) if p.HasField("confidence_threshold") else 0.0,
                clip_after_nms=False, clip_before_nms=False, decrease_label_id=False, normalized=True)


def _proposal(g, probs, deltas, im_info, *, feat_stride: int, base_size: int, min_size: int, ratios, scales,
              pre_nms_topn: int, post_nms_topn: int, nms_thresh: float):
    info = g.op("Reshape", im_info, g.i64([-1]), special_zero=False)
    n = g.static_shape(info, "im_info")[0]
    if n not in (3, 4):
        raise ConversionError(f"im_info has {n} values; Proposal takes (height, width, scale)")
    rois, _ = g.op("Proposal", probs, deltas, info, base_size=base_size, pre_nms_topn=pre_nms_topn,
                   post_nms_topn=post_nms_topn, nms_thresh=nms_thresh, feat_stride=feat_stride, min_size=min_size,
                   ratio=list(ratios), scale=list(scales), clip_before_nms=True, clip_after_nms=False,
                   normalize=False, box_size_scale=1.0, box_coordinate_scale=1.0, framework="")
    return rois


@caffe_ops.op("Proposal")
def proposal(g, probs, deltas, im_info):
    """Faster R-CNN region proposals: rois [post_nms_topn, 5] (rows past the proposals are zeros)."""
    p = g.p
    return _proposal(g, probs, deltas, im_info, feat_stride=int(p.feat_stride), base_size=int(p.base_size),
                     min_size=int(p.min_size), ratios=[float(v) for v in p.ratio] or [0.5, 1.0, 2.0],
                     scales=[float(v) for v in p.scale] or [8.0, 16.0, 32.0], pre_nms_topn=int(p.pre_nms_topn),
                     post_nms_topn=int(p.post_nms_topn), nms_thresh=float(p.nms_thresh))


@caffe_ops.op("Python:ProposalLayer")
def python_proposal(g, probs, deltas, im_info):
    """py-faster-rcnn's Python ProposalLayer (rpn.proposal_layer); its param_str is a Python dict
    literal such as ``'feat_stride': 16`` (read as a literal, never executed). The layer's own
    test-time settings: 6000 boxes before NMS, 300 after, NMS 0.7, min size 16, scales 8/16/32."""
    text = g.layer.msg.python_param.param_str.strip()
    try:
        cfg = ast.literal_eval("{" + text + "}" if text and not text.startswith("{") else text or "{}")
    except (ValueError, SyntaxError):
        raise ConversionError(f"param_str {text!r} is not a Python dict literal") from None
    if not isinstance(cfg, dict):
        raise ConversionError(f"param_str {text!r} is not a dict")
    return _proposal(g, probs, deltas, im_info, feat_stride=int(cfg.get("feat_stride", 16)), base_size=16,
                     min_size=16, ratios=[float(v) for v in cfg.get("ratios", (0.5, 1.0, 2.0))],
                     scales=[float(v) for v in cfg.get("scales", (8, 16, 32))], pre_nms_topn=6000,
                     post_nms_topn=300, nms_thresh=0.7)


@caffe_ops.op("ROIPooling")
def roi_pooling(g, x, rois):
    """Max pooling of each region [batch, x1, y1, x2, y2] (image coordinates x spatial_scale)."""
    p = g.p
    rois = g.op("Reshape", rois, g.i64([-1, 5]), special_zero=False)
    ph, pw = int(p.pooled_h), int(p.pooled_w)
    return g.op("ROIPooling", x, rois, output_size=[ph, pw], pooled_h=ph, pooled_w=pw,
                spatial_scale=float(p.spatial_scale), method="max")


@caffe_ops.op("PSROIPooling")
def psroi_pooling(g, x, rois):
    """R-FCN's position-sensitive average pooling of each region."""
    p = g.p
    c = g.static_shape(x)[1]
    dim, group = int(p.output_dim), int(p.group_size)
    if dim * group * group != c:
        raise ConversionError(f"output_dim {dim} x group_size {group}^2 = {dim * group * group} channels, "
                              f"the input has {c}")
    rois = g.op("Reshape", rois, g.i64([-1, 5]), special_zero=False)
    return g.op("PSROIPooling", x, rois, output_dim=dim, group_size=group, spatial_scale=float(p.spatial_scale),
                mode="average", spatial_bins_x=1, spatial_bins_y=1)


@caffe_ops.op("RegionYolo")
def region_yolo(g, x):
    """YOLO v2 region (do_softmax) or v3 yolo (mask) layer; the layer's flatten_param gives the
    flattened axes of the v2 output."""
    p = g.p
    fp = g.layer.msg.flatten_param
    c = g.static_shape(x)[1]
    per = int(p.coords) + 1 + int(p.classes)
    regions = int(p.num) if p.do_softmax else len(p.mask)
    if regions * per != c:
        raise ConversionError(f"{regions} regions x (coords {p.coords} + 1 + classes {p.classes}) = "
                              f"{regions * per} channels, the input has {c}")
    return g.op("RegionYolo", x, axis=int(fp.axis), end_axis=int(fp.end_axis) % 4, coords=int(p.coords),
                classes=int(p.classes), num=int(p.num), do_softmax=bool(p.do_softmax),
                mask=[int(v) for v in p.mask], anchors=[float(v) for v in p.anchors])


@caffe_ops.op("ReorgYolo")
def reorg_yolo(g, x):
    """Darknet's reorg (space to depth in its own channel order)."""
    return g.op("ReorgYolo", x, stride=[int(g.p.stride)] * 2)


@caffe_ops.op("CTCGreedyDecoder")
def ctc_greedy_decoder(g, x, seq_mask):
    """Greedy CTC decoding of [T, N, C] probabilities (blank = last class) -> [N, T, 1, 1]."""
    return g.op("CTCGreedyDecoder", x, seq_mask, ctc_merge_repeated=bool(g.p.ctc_merge_repeated))
