"""GluonCV/SSD-style detection heads: MultiBoxPrior (anchors, a constant of the feature map's
size), MultiBoxDetection (decode + per-class NMS) and box_nms."""
from __future__ import annotations

import numpy as np

from mo.errors import ConversionError

from ..context import mxnet_ops

MAX_CLASS_IDS = 128   # box_nms separates class ids -1..127 (rows with other ids are dropped)


def multibox_prior_anchors(height: int, width: int, sizes, ratios, steps=(-1.0, -1.0), offsets=(0.5, 0.5),
                           clip: bool = False) -> np.ndarray:
    """Anchors [1, H*W*A, 4] as (xmin, ymin, xmax, ymax) in [0, 1] image units.

    Per cell (row-major), first one anchor per size at ratios[0], then one per further ratio at
    sizes[0]; a box's half-width is size * sqrt(ratio) * H / W / 2, its half-height size / sqrt(ratio) / 2.
    """
    step_y = steps[0] if steps[0] > 0 else 1.0 / height
    step_x = steps[1] if steps[1] > 0 else 1.0 / width
    half = []
    for s in sizes:
        r = np.sqrt(ratios[0])
        half.append((s * r * height / width / 2, s / r / 2))
    for ratio in ratios[1:]:
        r = np.sqrt(ratio)
        half.append((sizes[0] * r * height / width / 2, sizes[0] / r / 2))
    half_arr = np.asarray(half, np.float64)                                  # [A, 2] (w, h)
    cy = (np.arange(height, dtype=np.float64) + offsets[0]) * step_y
    cx = (np.arange(width, dtype=np.float64) + offsets[1]) * step_x
    cyy, cxx = np.meshgrid(cy, cx, indexing="ij")
    centers = np.stack([cxx, cyy], axis=-1).reshape(-1, 1, 2)                # [H*W, 1, 2]
    boxes = np.concatenate([centers - half_arr[None], centers + half_arr[None]], axis=-1)  # [H*W, A, 4]
    boxes = boxes.reshape(1, -1, 4).astype(np.float32)
    if clip:
        boxes = np.clip(boxes, 0.0, 1.0)
    return boxes


@mxnet_ops.op("_contrib_MultiBoxPrior")
def multibox_prior(g, x, *, sizes=(1.0,), ratios=(1.0,), clip=False, steps=(-1.0, -1.0), offsets=(0.5, 0.5)):
    _, _, h, w = g.static_shape(x)
    sizes = [float(s) for s in (sizes if isinstance(sizes, tuple) else (sizes,))]
    ratios = [float(r) for r in (ratios if isinstance(ratios, tuple) else (ratios,))]
    return g.const(multibox_prior_anchors(h, w, sizes, ratios, [float(s) for s in steps],
                                          [float(o) for o in offsets], bool(clip)))


def _nms_keep(g, boxes, scores, iou: float, score_threshold: float, max_boxes: int):
    """Indices [K] (i64, score-descending over all classes) NonMaxSuppression keeps, for batch 1.

    ``boxes`` [1, N, 4] corners; ``scores`` [1, C, N].
    """
    sel, _, _ = g.op_outputs("NonMaxSuppression", boxes, scores, g.i64([max_boxes]),
                             g.const(np.float32(iou)), g.const(np.float32(score_threshold)),
                             box_encoding="corner", sort_result_descending=True, output_type="i64")
    return g.op("Gather", sel, g.i64(2), g.i64(1), batch_dims=0)   # [K] box indices


def _center_to_corner(g, b):
    """[N, 4] (cx, cy, w, h) -> (x1, y1, x2, y2)."""
    c = g.op("Slice", b, g.i64([0]), g.i64([2]), g.i64([1]), g.i64([1]))
    half = g.op("Multiply", g.op("Slice", b, g.i64([2]), g.i64([4]), g.i64([1]), g.i64([1])), g.scalar_like(0.5, b))
    return g.op("Concat", g.op("Subtract", c, half), g.op("Add", c, half), axis=1)


def _corner_to_center(g, b):
    """[N, 4] (x1, y1, x2, y2) -> (cx, cy, w, h)."""
    lo = g.op("Slice", b, g.i64([0]), g.i64([2]), g.i64([1]), g.i64([1]))
    hi = g.op("Slice", b, g.i64([2]), g.i64([4]), g.i64([1]), g.i64([1]))
    size = g.op("Subtract", hi, lo)
    return g.op("Concat", g.op("Add", lo, g.op("Multiply", size, g.scalar_like(0.5, b))), size, axis=1)


def _replace_columns(g, rows, cols, start: int, width: int):
    parts = []
    if start > 0:
        parts.append(g.op("Slice", rows, g.i64([0]), g.i64([start]), g.i64([1]), g.i64([1])))
    parts.append(cols)
    if start + 4 < width:
        parts.append(g.op("Slice", rows, g.i64([start + 4]), g.i64([width]), g.i64([1]), g.i64([1])))
    return g.op("Concat", *parts, axis=1)


def _member_scores(g, onehot, score):
    """score where onehot is 1, -1 elsewhere (below any threshold)."""
    return g.op("Select", g.op("Greater", onehot, g.scalar_like(0.5, onehot)), score, g.scalar_like(-1.0, score))


def _pad_rows(g, rows, n: int, width: int, etype_like):
    """rows [K, width] followed by rows of -1, cut to [n, width]."""
    fill = g.op("Broadcast", g.scalar_like(-1.0, etype_like), g.i64([n, width]))
    both = g.op("Concat", rows, fill, axis=0)
    return g.op("Slice", both, g.i64([0]), g.i64([n]), g.i64([1]), g.i64([0]))


@mxnet_ops.op("_contrib_MultiBoxDetection")
def multibox_detection(g, cls_prob, loc_pred, anchors, *, clip=True, threshold=0.01, background_id=0,
                       nms_threshold=0.5, force_suppress=False, variances=(0.1, 0.1, 0.2, 0.2), nms_topk=-1):
    """[B, N, 6] rows (class, score, xmin, ymin, xmax, ymax): boxes decoded from the anchors,
    each anchor's best non-background class, NMS per class (across classes with force_suppress).
    Rows with score >= threshold come first by descending score (NMS losers keep their row with
    class -1), then rows of -1."""
    b, num_classes, n = g.static_shape(cls_prob, "class probabilities")
    if nms_topk not in (-1, None) and 0 < nms_topk < n:
        raise ConversionError("nms_topk is not supported (mxnet leaves the rows past it in no defined order)")
    a = g.op("Reshape", anchors, g.i64([n, 4]), special_zero=False)
    outs = []
    for bi in range(b):
        probs = g.op("Reshape", g.op("Gather", cls_prob, g.i64([bi]), g.i64(0), batch_dims=0),
                     g.i64([num_classes, n]), special_zero=False)
        p = g.op("Reshape", g.op("Gather", loc_pred, g.i64([bi]), g.i64(0), batch_dims=0), g.i64([n, 4]),
                 special_zero=False)
        outs.append(_detect_one(g, probs, p, a, n, num_classes, cls_prob.etype, clip, threshold, background_id,
                                nms_threshold, force_suppress, variances))
    return outs[0] if b == 1 else g.op("Concat", *outs, axis=0)


def _detect_one(g, probs, p, a, n, num_classes, etype, clip, threshold, background_id, nms_threshold,
                force_suppress, variances):
    """MultiBoxDetection of one image: probs [C, N], deltas p [N, 4], anchors a [N, 4] -> [1, N, 6]."""

    def col(v, i):
        return g.op("Gather", v, g.i64([i]), g.i64(1), batch_dims=0)   # [N, 1]

    ax0, ay0, ax1, ay1 = (col(a, i) for i in range(4))
    aw, ah = g.op("Subtract", ax1, ax0), g.op("Subtract", ay1, ay0)
    half = g.scalar_like(0.5, a)
    acx, acy = g.op("Add", ax0, g.op("Multiply", aw, half)), g.op("Add", ay0, g.op("Multiply", ah, half))
    vx, vy, vw, vh = (g.scalar_like(float(v), a) for v in variances)
    cx = g.op("Add", g.op("Multiply", g.op("Multiply", col(p, 0), vx), aw), acx)
    cy = g.op("Add", g.op("Multiply", g.op("Multiply", col(p, 1), vy), ah), acy)
    w2 = g.op("Multiply", g.op("Multiply", g.op("Exp", g.op("Multiply", col(p, 2), vw)), aw), half)
    h2 = g.op("Multiply", g.op("Multiply", g.op("Exp", g.op("Multiply", col(p, 3), vh)), ah), half)
    box = g.op("Concat", g.op("Subtract", cx, w2), g.op("Subtract", cy, h2), g.op("Add", cx, w2), g.op("Add", cy, h2),
               axis=1)
    if clip:
        box = g.op("Clamp", box, min=0.0, max=1.0)
    # ---- best foreground class per anchor
    fg = [k for k in range(num_classes) if k != background_id]
    fg_probs = g.op("Gather", probs, g.i64(fg), g.i64(0), batch_dims=0)      # [C-1, N]
    best, which = g.op_outputs("TopK", fg_probs, g.i64(1), axis=0, mode="max", sort="none", index_element_type="i64")
    best = g.op("Reshape", best, g.i64([n]), special_zero=False)
    which = g.op("Reshape", which, g.i64([n]), special_zero=False)
    # class ids as MXNet numbers them: foreground classes from 0, background removed
    cls_id = g.op("Convert", which, destination_type=etype)
    # scores per class for NMS: an anchor competes only in its best class (all in one with force_suppress)
    if force_suppress:
        scores = g.op("Reshape", best, g.i64([1, 1, n]), special_zero=False)
    else:
        onehot = g.op("OneHot", which, g.i64(len(fg)), g.scalar_like(1.0, best), g.scalar_like(0.0, best), axis=0)
        scores = g.op("Reshape", _member_scores(g, onehot, best), g.i64([1, len(fg), n]), special_zero=False)
    boxes3 = g.op("Reshape", box, g.i64([1, n, 4]), special_zero=False)
    # rows with score >= threshold, by descending score; NMS losers keep their row with class -1;
    # then rows of -1
    keep = _nms_keep(g, boxes3, scores, float(nms_threshold), -0.5, n)
    kept = g.op("ScatterElementsUpdate", g.const(np.zeros(n, np.float32)), keep,
                g.op("Broadcast", g.const(np.float32(1)), g.op("ShapeOf", keep, output_type="i64")), g.i64(0),
                reduction="none", use_init_val=True)
    kept = g.op("Greater", kept, g.const(np.float32(0.5)))
    cls_id = g.op("Select", kept, cls_id, g.scalar_like(-1.0, cls_id))
    rows = g.op("Concat", g.op("Unsqueeze", cls_id, g.i64([1])), g.op("Unsqueeze", best, g.i64([1])), box, axis=1)
    valid = g.op("GreaterEqual", best, g.scalar_like(float(threshold), best))
    rows = g.op("Select", g.op("Unsqueeze", valid, g.i64([1])), rows, g.scalar_like(-1.0, rows))
    key = g.op("Select", valid, best, g.scalar_like(-2.0, best))
    _, order = g.op_outputs("TopK", key, g.i64(n), axis=0, mode="max", sort="value", index_element_type="i64")
    out = g.op("Gather", rows, order, g.i64(0), batch_dims=0)
    return g.op("Unsqueeze", out, g.i64([0]))


@mxnet_ops.op(["_contrib_box_nms", "_contrib_box_non_maximum_suppression", "box_nms"])
def box_nms(g, x, *, overlap_thresh=0.5, valid_thresh=0.0, topk=-1, coord_start=2, score_index=1, id_index=-1,
            background_id=-1, force_suppress=False, in_format="corner", out_format="corner"):
    """Rows [.., N, K] sorted by score with suppressed and invalid rows removed, then rows of -1."""
    shape = g.static_shape(x)
    for fmt in (in_format, out_format):
        if fmt not in ("corner", "center"):
            raise ConversionError(f"box format {fmt!r} is not corner or center")
    n, k = shape[-2], shape[-1]
    batch = int(np.prod(shape[:-2], dtype=np.int64)) if len(shape) > 2 else 1
    flat = g.op("Reshape", x, g.i64([batch, n, k]), special_zero=False)
    outs = []
    for bi in range(batch):
        rows = g.op("Reshape", g.op("Slice", flat, g.i64([bi]), g.i64([bi + 1]), g.i64([1]), g.i64([0])),
                    g.i64([n, k]), special_zero=False)
        boxes = g.op("Slice", rows, g.i64([coord_start]), g.i64([coord_start + 4]), g.i64([1]), g.i64([1]))
        if in_format == "center":
            boxes = _center_to_corner(g, boxes)
            if out_format == "corner":
                rows = _replace_columns(g, rows, boxes, coord_start, k)
        elif out_format == "center":
            rows = _replace_columns(g, rows, _corner_to_center(g, boxes), coord_start, k)
        score = g.op("Reshape", g.op("Gather", rows, g.i64([score_index]), g.i64(1), batch_dims=0), g.i64([n]),
                     special_zero=False)
        if id_index >= 0:   # rows of the background id (by default -1, "no class") are invalid
            ids = g.op("Reshape", g.op("Gather", rows, g.i64([id_index]), g.i64(1), batch_dims=0), g.i64([n]),
                       special_zero=False)
            bad = g.op("Equal", ids, g.scalar_like(background_id, ids))
            score = g.op("Select", bad, g.scalar_like(-1.0, score), score)
        if topk not in (-1, None) and 0 < topk < n:
            # only the topk best-scoring rows take part; the others count as invalid
            _, best = g.op_outputs("TopK", score, g.i64(int(topk)), axis=0, mode="max", sort="value",
                                   index_element_type="i64")
            in_top = g.op("ScatterElementsUpdate", g.const(np.zeros(n, np.float32)), best,
                          g.const(np.ones(int(topk), np.float32)), g.i64(0), reduction="none", use_init_val=True)
            score = g.op("Select", g.op("Greater", in_top, g.const(np.float32(0.5))), score,
                         g.scalar_like(-1.0, score))
        if force_suppress or id_index < 0:
            scores = g.op("Reshape", score, g.i64([1, 1, n]), special_zero=False)
        else:
            # one NMS class per distinct id (-1 included: slot 0)
            ids = g.op("Reshape", g.op("Gather", rows, g.i64([id_index]), g.i64(1), batch_dims=0), g.i64([n]),
                       special_zero=False)
            slots = MAX_CLASS_IDS + 1
            idx = g.op("Add", g.op("Convert", ids, destination_type="i64"), g.i64(1))
            onehot = g.op("OneHot", idx, g.i64(slots), g.scalar_like(1.0, score), g.scalar_like(0.0, score), axis=0)
            scores = g.op("Reshape", _member_scores(g, onehot, score), g.i64([1, slots, n]), special_zero=False)
        keep = _nms_keep(g, g.op("Reshape", boxes, g.i64([1, n, 4]), special_zero=False), scores,
                         float(overlap_thresh), float(valid_thresh), n)
        picked = g.op("Gather", rows, keep, g.i64(0), batch_dims=0)
        outs.append(g.op("Unsqueeze", _pad_rows(g, picked, n, k, rows), g.i64([0])))
    y = outs[0] if len(outs) == 1 else g.op("Concat", *outs, axis=0)
    return g.op("Reshape", y, g.i64(list(shape)), special_zero=False)



@mxnet_ops.op("_contrib_box_decode")
def box_decode(g, data, anchors, *, std0=1.0, std1=1.0, std2=1.0, std3=1.0, clip=-1.0, format="center"):
    """Corner boxes [B, N, 4] from deltas [B, N, 4] (dx, dy, dw, dh) and anchors [1, N, 4]
    (corner or center form); ``clip`` > 0 bounds the scaled dw, dh before exp."""
    def cols(v, lo, hi):
        return g.op("Slice", v, g.i64([lo]), g.i64([hi]), g.i64([1]), g.i64([-1]))

    if format == "corner":
        lo, hi = cols(anchors, 0, 2), cols(anchors, 2, 4)
        size = g.op("Subtract", hi, lo)
        center = g.op("Add", lo, g.op("Multiply", size, g.scalar_like(0.5, anchors)))
    elif format == "center":
        center, size = cols(anchors, 0, 2), cols(anchors, 2, 4)
    else:
        raise ConversionError(f"format {format!r} is not corner or center")
    std_xy = g.const(np.array([std0, std1], np.float32))
    std_wh = g.const(np.array([std2, std3], np.float32))
    c = g.op("Add", g.op("Multiply", g.op("Multiply", cols(data, 0, 2), std_xy), size), center)
    dwh = g.op("Multiply", cols(data, 2, 4), std_wh)
    if clip is not None and clip > 0:
        dwh = g.op("Minimum", dwh, g.scalar_like(float(clip), dwh))
    half = g.op("Multiply", g.op("Multiply", g.op("Exp", dwh), size), g.scalar_like(0.5, data))
    return g.op("Concat", g.op("Subtract", c, half), g.op("Add", c, half), axis=-1)


@mxnet_ops.op("_contrib_PSROIPooling")
def psroi_pooling(g, x, rois, *, spatial_scale, output_dim, pooled_size, group_size=0):
    """Position-sensitive ROI average pooling (R-FCN); rois [R, 5] = (batch, x1, y1, x2, y2)."""
    group = int(group_size) or int(pooled_size)
    return g.op("PSROIPooling", x, rois, output_dim=int(output_dim), group_size=group,
                spatial_scale=float(spatial_scale), mode="average", spatial_bins_x=1, spatial_bins_y=1)


@mxnet_ops.op("_contrib_DeformablePSROIPooling")
def deformable_psroi_pooling(g, x, rois, trans=None, *, spatial_scale, output_dim, group_size, pooled_size,
                             part_size=0, sample_per_part=1, trans_std=0.0, no_trans=False):
    """Deformable position-sensitive ROI pooling (Deformable R-FCN); bins are sampled
    sample_per_part^2 times, moved by trans * trans_std * roi size."""
    if int(pooled_size) != int(group_size):
        raise ConversionError("DeformablePSROIPooling with pooled_size != group_size is not supported")
    attrs = dict(output_dim=int(output_dim), spatial_scale=float(spatial_scale), group_size=int(group_size),
                 mode="bilinear_deformable", spatial_bins_x=int(sample_per_part), spatial_bins_y=int(sample_per_part),
                 trans_std=float(trans_std), part_size=int(part_size) or int(pooled_size))
    if no_trans or trans is None:
        return g.op("DeformablePSROIPooling", x, rois, **attrs)
    return g.op("DeformablePSROIPooling", x, rois, trans, **attrs)


def rpn_anchor_sizes(base: int, ratios, scales) -> tuple[np.ndarray, np.ndarray]:
    """Widths and heights (+1 convention) of the py-faster-rcnn anchors, ratio-major order."""
    ws, hs = [], []
    for r in ratios:
        w = np.floor(np.sqrt(np.floor(base * base / r)) + 0.5)
        h = np.floor(w * r + 0.5)
        for sc in scales:
            ws.append(w * sc)
            hs.append(h * sc)
    return np.asarray(ws, np.float64), np.asarray(hs, np.float64)


@mxnet_ops.op(["_contrib_Proposal", "_contrib_MultiProposal", "Proposal", "MultiProposal"])
def proposal(g, cls_prob, bbox_pred, im_info, *, rpn_pre_nms_top_n=6000, rpn_post_nms_top_n=300, threshold=0.7,
             rpn_min_size=16, scales=(4.0, 8.0, 16.0, 32.0), ratios=(0.5, 1.0, 2.0), feature_stride=16,
             output_score=False, iou_loss=False):
    """Faster R-CNN region proposals (py-faster-rcnn anchors, +1 box sizes); the image size and
    scale come from the first row of im_info [N, 3].

    MXNet puts a decoded box's corners at centre -/+ (w - 1) / 2, OpenVINO's Proposal at
    centre' -/+ w / 2 with a centre half a pixel further: the same x1, an x2 one pixel larger.
    The deltas are adjusted so that OpenVINO decodes MXNet's box (one pixel narrower, same x1):
    dx - 0.5/w_a and log(exp(dw) - 1/w_a) per anchor w_a (the same for y, h).
    """
    if iou_loss:
        raise ConversionError("Proposal with iou_loss is not supported")
    scales = scales if isinstance(scales, tuple) else (scales,)
    ratios = ratios if isinstance(ratios, tuple) else (ratios,)
    n, c4, h, w = g.static_shape(bbox_pred, "bbox_pred")
    aw, ah = rpn_anchor_sizes(int(feature_stride), [float(r) for r in ratios], [float(s) for s in scales])
    a = len(aw)
    if c4 != 4 * a:
        raise ConversionError(f"bbox_pred has {c4} channels, {a} anchors need {4 * a}")
    d = g.op("Reshape", bbox_pred, g.i64([n, a, 4, h, w]), special_zero=False)
    inv = np.stack([1.0 / aw, 1.0 / ah], axis=1).astype(np.float32).reshape(1, a, 2, 1, 1)
    dxy = g.op("Slice", d, g.i64([0]), g.i64([2]), g.i64([1]), g.i64([2]))
    dwh = g.op("Slice", d, g.i64([2]), g.i64([4]), g.i64([1]), g.i64([2]))
    dxy = g.op("Subtract", dxy, g.const(inv * 0.5))
    dwh = g.op("Log", g.op("Maximum", g.op("Subtract", g.op("Exp", dwh), g.const(inv)), g.scalar_like(1e-6, dwh)))
    deltas = g.op("Reshape", g.op("Concat", dxy, dwh, axis=2), g.i64([n, 4 * a, h, w]), special_zero=False)
    info = g.op("Reshape", g.op("Gather", im_info, g.i64([0]), g.i64(0), batch_dims=0), g.i64([-1]),
                special_zero=False)
    rois, scores = g.op_outputs("Proposal", cls_prob, deltas, info, base_size=int(feature_stride),
                                pre_nms_topn=int(rpn_pre_nms_top_n), post_nms_topn=int(rpn_post_nms_top_n),
                                nms_thresh=float(threshold), feat_stride=int(feature_stride),
                                min_size=int(rpn_min_size), ratio=[float(r) for r in ratios],
                                scale=[float(s) for s in scales], clip_before_nms=True, clip_after_nms=False,
                                normalize=False, framework="")
    # OpenVINO ends an image's proposals with one row of batch index -1 (then zero rows); MXNet
    # repeats the kept ones cyclically: row i of an image is its kept row i mod K
    post = int(rpn_post_nms_top_n)
    rois3 = g.op("Reshape", rois, g.i64([n, post, 5]), special_zero=False)
    ended = g.op("Less", g.op("Gather", rois3, g.i64(0), g.i64(2), batch_dims=0), g.scalar_like(0.0, rois))
    after_end = g.op("CumSum", g.op("Convert", ended, destination_type="i64"), g.i64(1), exclusive=False, reverse=False)
    kept = g.op("Convert", g.op("Equal", after_end, g.i64(0)), destination_type="i64")
    count = g.op("ReduceSum", kept, g.i64([1]), keep_dims=True)                                              # [N, 1]
    count = g.op("Maximum", count, g.i64(1))
    idx = g.op("FloorMod", g.const(np.arange(post, dtype=np.int64)[None]), count)                           # [N, post]
    flat = g.op("Reshape", g.op("Add", idx, g.const((np.arange(n, dtype=np.int64) * post)[:, None])), g.i64([-1]),
                special_zero=False)
    rois = g.op("Gather", rois, flat, g.i64(0), batch_dims=0)
    if output_score:
        return rois, g.op("Unsqueeze", g.op("Gather", scores, flat, g.i64(0), batch_dims=0), g.i64([1]))
    return rois
