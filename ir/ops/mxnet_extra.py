"""Ops the MXNet frontend needs that no other family declares: AdaptiveAvgPool and
AdaptiveMaxPool (opset8), PSROIPooling (opset1), DeformablePSROIPooling (opset1), Proposal (opset4). Declared only when absent, so a family
module's declaration wins."""
from __future__ import annotations

from ..opset import OPS, OpError, op


def _adaptive_shape(ins):
    x, size = ins
    if size.const is None:
        raise OpError("the output size (input 1) must be a constant")
    out = [int(v) for v in size.const.numpy().reshape(-1)]
    if x.shape is None:
        return None
    if len(x.shape) != len(out) + 2:
        raise OpError(f"data of shape {list(x.shape)} takes {len(x.shape) - 2} output sizes, got {out}")
    return (x.shape[0], x.shape[1], *out)


if "AdaptiveAvgPool" not in OPS:
    @op("AdaptiveAvgPool", "opset8", inputs=(2, 2))
    def adaptive_avg_pool(ins, a):
        """Mean over bins: output index i of an axis of size L into n covers [floor(i*L/n), ceil((i+1)*L/n))."""
        return [(ins[0].etype, _adaptive_shape(ins))]

if "AdaptiveMaxPool" not in OPS:
    @op("AdaptiveMaxPool", "opset8", {"index_element_type": ("etype", "i64")}, inputs=(2, 2))
    def adaptive_max_pool(ins, a):
        """Max over the same bins as AdaptiveAvgPool; output 1 holds the maxima's flat spatial indices."""
        shape = _adaptive_shape(ins)
        return [(ins[0].etype, shape), (a["index_element_type"], shape)]

if "PSROIPooling" not in OPS:
    @op("PSROIPooling", "opset1", {"output_dim": ("int",), "group_size": ("int", 1), "spatial_scale": ("float",),
                                  "mode": ("str", "average"), "spatial_bins_x": ("int", 1),
                                  "spatial_bins_y": ("int", 1)}, inputs=(2, 2))
    def psroi_pooling(ins, a):
        """Position-sensitive ROI pooling of x[N, output_dim*group^2, H, W] over rois[R, 5]
        (batch, x1, y1, x2, y2); output [R, output_dim, group, group]."""
        x, rois = ins
        r = rois.shape[0] if rois.shape is not None else -1
        if x.shape is not None and x.shape[1] >= 0 and a["mode"] == "average" \
                and x.shape[1] != a["output_dim"] * a["group_size"] ** 2:
            raise OpError(f"data has {x.shape[1]} channels, output_dim * group_size^2 is "
                          f"{a['output_dim'] * a['group_size'] ** 2}")
        return [(x.etype, (r, a["output_dim"], a["group_size"], a["group_size"]))]

if "Proposal" not in OPS:
    @op("Proposal", "opset4", {"base_size": ("int",), "pre_nms_topn": ("int",), "post_nms_topn": ("int",),
                              "nms_thresh": ("float",), "feat_stride": ("int",), "min_size": ("int",),
                              "ratio": ("floats",), "scale": ("floats",), "clip_before_nms": ("bool", True),
                              "clip_after_nms": ("bool", False), "normalize": ("bool", False),
                              "box_size_scale": ("float", 1.0), "box_coordinate_scale": ("float", 1.0),
                              "framework": ("str", "")}, inputs=(3, 3))
    def proposal(ins, a):
        """Region proposals from RPN scores [N, 2A, H, W] and deltas [N, 4A, H, W] for an image of
        image_shape [3|4] (height, width, scale...): rois [N*post_nms_topn, 5] (batch, x1, y1, x2, y2)
        and their scores [N*post_nms_topn]."""
        n = ins[0].shape[0] if ins[0].shape is not None else -1
        rows = n * a["post_nms_topn"] if n >= 0 else -1
        return [(ins[0].etype, (rows, 5)), (ins[0].etype, (rows,))]

if "DeformablePSROIPooling" not in OPS:
    @op("DeformablePSROIPooling", "opset1", {"output_dim": ("int",), "spatial_scale": ("float",),
                                            "group_size": ("int", 1), "mode": ("str", "bilinear_deformable"),
                                            "spatial_bins_x": ("int", 1), "spatial_bins_y": ("int", 1),
                                            "trans_std": ("float", 1.0), "part_size": ("int", 1)}, inputs=(2, 3))
    def deformable_psroi_pooling(ins, a):
        """Position-sensitive ROI pooling whose bins move by offsets (input 2, [R, 2*classes, part, part],
        scaled by trans_std); rois [R, 5]; output [R, output_dim, group_size, group_size]."""
        x, rois = ins[0], ins[1]
        r = rois.shape[0] if rois.shape is not None else -1
        return [(x.etype, (r, a["output_dim"], a["group_size"], a["group_size"]))]
