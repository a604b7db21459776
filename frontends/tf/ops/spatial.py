"""TF spatial ops beyond plain conv/pool: transposed convolution, depth/space/batch moves,
non-max suppression. NHWC ops run as ``Transpose -> NCHW op -> Transpose`` (the
transpose_sinking pass removes the pairs that meet)."""
from __future__ import annotations

import numpy as np

from mo.graph import Value

from ..context import TfContext, tf_ops
from .nn import _channels_first, _channels_last, _spatial


def _deconv_pads(padding: str, explicit: list[int], data_format: str, n: int, in_sp, out_sp, k, s, d):
    """pads_begin, pads_end, output_padding of the transposed conv that TF's conv-backprop-input is.

    The forward conv maps out_sp -> in_sp; its padding (SAME: total = (in-1)*s + k_eff - out,
    half before, the odd one after) is removed again, and whatever rows the forward conv did not
    reach become output_padding at the end.
    """
    pb, pe = [], []
    for i in range(n):
        k_eff = (k[i] - 1) * d[i] + 1
        if padding == "SAME":
            total = max(0, (in_sp[i] - 1) * s[i] + k_eff - out_sp[i])
            pb.append(total // 2)
            pe.append(total - total // 2)
        elif padding == "VALID":
            pb.append(0)
            pe.append(0)
        elif padding == "EXPLICIT":
            pairs = [explicit[2 * j: 2 * j + 2] for j in range(len(explicit) // 2)]
            sp = pairs[2:] if data_format.startswith("NC") else pairs[1:-1]
            pb.append(int(sp[i][0]))
            pe.append(int(sp[i][1]))
        else:
            raise ValueError(f"padding {padding!r} is not supported")
    op_ = []
    for i in range(n):
        k_eff = (k[i] - 1) * d[i] + 1
        extra = out_sp[i] - ((in_sp[i] - 1) * s[i] + k_eff - pb[i] - pe[i])
        if extra < 0 or extra >= max(s[i], d[i]):
            raise ValueError(f"output size {out_sp[i]} does not fit the transposed convolution")
        op_.append(extra)
    return pb, pe, op_


@tf_ops.op(["Conv2DBackpropInput", "Conv3DBackpropInputV2"])
def conv_backprop_input(g: TfContext, sizes: Value, w: Value, dy: Value, *, strides: list, padding: str,
                        data_format: str = "NHWC", dilations: list | None = None,
                        explicit_paddings: list | None = None) -> Value:
    """Transposed convolution (conv2d_transpose): filter [k..., C_out, C_in] -> [C_in, C_out, k...];
    the output size (input 0, full shape) fixes pads and output_padding."""
    n = 3 if g.op_type.startswith("Conv3D") else 2
    size_v = g.const_value(sizes, f"{g.op_type} input_sizes").astype(np.int64).reshape(-1)
    if w.shape is None or any(v < 0 for v in w.shape):
        raise ValueError(f"{g.op_type} needs a filter of static shape")
    dyc = _channels_first(g, dy, data_format)
    if dyc.shape is None or any(v < 0 for v in dyc.shape[2:]):
        raise ValueError(f"{g.op_type} needs static spatial dims of its gradient input")
    out_sp = [int(v) for v in (size_v[2:] if data_format.startswith("NC") else size_v[1:-1])]
    s = _spatial(strides, data_format, n)
    dil = _spatial(dilations or [1] * (n + 2), data_format, n)
    pb, pe, op_ = _deconv_pads(padding, explicit_paddings or [], data_format, n, list(dyc.shape[2:]), out_sp,
                               list(w.shape[:n]), s, dil)
    perm = [n + 1, n, *range(n)]
    c = w.const_value()
    wk = g.const(np.ascontiguousarray(np.transpose(c, perm))) if c is not None else g.op("Transpose", w, g.i64(perm))
    y = g.op("ConvolutionBackpropData", dyc, wk, strides=s, dilations=dil, pads_begin=pb, pads_end=pe,
             output_padding=op_, auto_pad="explicit")
    return _channels_last(g, y, data_format)


@tf_ops.op(["DepthToSpace", "SpaceToDepth"])
def depth_to_space(g: TfContext, x: Value, *, block_size: int, data_format: str = "NHWC") -> Value:
    """TF moves channel blocks in (row, col, channel) order: OpenVINO's blocks_first mode."""
    if data_format == "NCHW_VECT_C":
        raise ValueError("data_format NCHW_VECT_C is not supported")
    y = g.op(g.op_type, _channels_first(g, x, data_format), mode="blocks_first", block_size=block_size)
    return _channels_last(g, y, data_format)


def _full_rank_block_args(g: TfContext, x: Value, block: Value, pads: Value, what: str):
    """TF's [M] block shape and [M, 2] pads/crops over dims 1..M -> full-rank OpenVINO inputs."""
    if x.rank is None:
        raise ValueError(f"{what} needs an input of known rank")
    b = g.const_value(block, f"{what} block_shape").astype(np.int64).reshape(-1)
    p = g.const_value(pads, f"{what} paddings/crops").astype(np.int64).reshape(-1, 2)
    m, r = len(b), x.rank
    blk = np.ones(r, np.int64)
    pb = np.zeros(r, np.int64)
    pe = np.zeros(r, np.int64)
    blk[1:1 + m] = b
    pb[1:1 + m] = p[:, 0]
    pe[1:1 + m] = p[:, 1]
    return g.i64(blk), g.i64(pb), g.i64(pe)


@tf_ops.op("SpaceToBatchND")
def space_to_batch(g: TfContext, x: Value, block: Value, paddings: Value) -> Value:
    return g.op("SpaceToBatch", x, *_full_rank_block_args(g, x, block, paddings, "SpaceToBatchND"))


@tf_ops.op("BatchToSpaceND")
def batch_to_space(g: TfContext, x: Value, block: Value, crops: Value) -> Value:
    return g.op("BatchToSpace", x, *_full_rank_block_args(g, x, block, crops, "BatchToSpaceND"))


@tf_ops.op(["NonMaxSuppressionV2", "NonMaxSuppressionV3", "NonMaxSuppressionV4", "NonMaxSuppressionV5"])
def non_max_suppression(g: TfContext, boxes: Value, scores: Value, max_out: Value, iou: Value,
                        score_thr: Value | None = None, sigma: Value | None = None, *,
                        pad_to_max_output_size: bool = False):
    """Single-class NMS over boxes [N, 4] (y1, x1, y2, x2 corners, either order) and scores [N].

    OpenVINO's NonMaxSuppression runs on [1, N, 4] / [1, 1, N]; column 2 of its selected
    triples is TF's index list, cut to the valid count. V4/V5 with pad_to_max_output_size pad
    indices (and V5 scores) with zeros up to max_output_size; V4/V5 also return the valid count.
    """
    b3 = g.op("Unsqueeze", boxes, g.i64([0]))
    s3 = g.op("Unsqueeze", scores, g.i64([0, 1]))
    mo_ = g.op("Convert", max_out, destination_type="i64")
    args = [b3, s3, g.op("Reshape", mo_, g.i64([1]), special_zero=False)]
    f = scores.etype
    args.append(iou if iou.etype == f else g.op("Convert", iou, destination_type=f))
    if score_thr is not None:
        args.append(score_thr if score_thr.etype == f else g.op("Convert", score_thr, destination_type=f))
    if sigma is not None:
        args.append(sigma if sigma.etype == f else g.op("Convert", sigma, destination_type=f))
    sel, sel_scores, valid = g.op("NonMaxSuppression", *args, box_encoding="corner", sort_result_descending=True,
                                  output_type="i32")
    valid_i64 = g.op("Convert", valid, destination_type="i64")
    one = g.i64([1])

    def column(t: Value, k: int) -> Value:
        col = g.op("Gather", t, g.i64(k), g.i64(1))
        return g.op("Slice", col, g.i64([0]), valid_i64, one)

    idx = column(sel, 2)
    sc = column(sel_scores, 2) if g.op_type == "NonMaxSuppressionV5" else None
    if pad_to_max_output_size and g.op_type in ("NonMaxSuppressionV4", "NonMaxSuppressionV5"):
        tail = g.op("Maximum", g.op("Subtract", g.op("Reshape", mo_, one, special_zero=False), valid_i64), g.i64([0]))
        idx = g.op("Pad", idx, g.i64([0]), tail, g.const(np.int32(0)), pad_mode="constant")
        if sc is not None:
            sc = g.op("Pad", sc, g.i64([0]), tail, g.scalar_like(0, sc), pad_mode="constant")
    count = g.op("Squeeze", valid, g.i64([0]))
    if g.op_type == "NonMaxSuppressionV4":
        return idx, count
    if g.op_type == "NonMaxSuppressionV5":
        return idx, sc, count
    return idx


@tf_ops.op("ExtractImagePatches")
def extract_image_patches(g: TfContext, x: Value, *, ksizes: list, strides: list, rates: list,
                          padding: str) -> Value:
    """NHWC patches as channels (kh, kw, C order): OpenVINO's ExtractImagePatches on NCHW."""
    pad = {"SAME": "same_upper", "VALID": "valid"}.get(padding)
    if pad is None:
        raise ValueError(f"padding {padding!r} is not supported")
    y = g.op("ExtractImagePatches", g.to_nchw(x), sizes=[int(v) for v in ksizes[1:3]],
             strides=[int(v) for v in strides[1:3]], rates=[int(v) for v in rates[1:3]], auto_pad=pad)
    return g.to_nhwc(y)


def _nudged_range(lo: np.ndarray, hi: np.ndarray, num_bits: int, narrow_range: bool):
    """TF's fake-quant range: min/max moved so that 0.0 is exactly representable."""
    # float32 arithmetic, as TF's kernel (127.5 in exact math can be 127.49999 there)
    q_min = np.float32(1.0 if narrow_range else 0.0)
    q_max = np.float32(2 ** num_bits - 1)
    lo = np.asarray(lo, np.float32)
    hi = np.asarray(hi, np.float32)
    scale = ((hi - lo) / (q_max - q_min)).astype(np.float32)
    zp_from_min = (q_min - lo / scale).astype(np.float32)
    # inside [q_min, q_max] the value is >= 0, so floor(v + 0.5) is TF's round-half-away-from-zero
    zp = np.clip(np.floor(zp_from_min + np.float32(0.5)), q_min, q_max).astype(np.float32)
    return ((q_min - zp) * scale).astype(np.float32), ((q_max - zp) * scale).astype(np.float32), \
        int(q_max - q_min + 1)


def _fake_quant(g: TfContext, x: Value, lo: np.ndarray, hi: np.ndarray, num_bits: int, narrow_range: bool) -> Value:
    nlo, nhi, levels = _nudged_range(lo, hi, num_bits, narrow_range)
    a, b = g.const(nlo), g.const(nhi)
    return g.op("FakeQuantize", x, a, b, a, b, levels=levels)


@tf_ops.op("FakeQuantWithMinMaxArgs")
def fake_quant_args(g: TfContext, x: Value, *, min: float = -6.0, max: float = 6.0,  # noqa: A002
                    num_bits: int = 8, narrow_range: bool = False) -> Value:
    return _fake_quant(g, x, np.float32(min), np.float32(max), num_bits, narrow_range)


@tf_ops.op(["FakeQuantWithMinMaxVars", "FakeQuantWithMinMaxVarsPerChannel"])
def fake_quant_vars(g: TfContext, x: Value, lo: Value, hi: Value, *, num_bits: int = 8,
                    narrow_range: bool = False) -> Value:
    """Fake quantization with constant (frozen) min/max, per tensor or per last-axis channel."""
    return _fake_quant(g, x, g.const_value(lo, f"{g.op_type} min"), g.const_value(hi, f"{g.op_type} max"),
                       num_bits, narrow_range)


@tf_ops.op("ResizeBicubic")
def resize_bicubic(g: TfContext, x: Value, size: Value, *, align_corners: bool = False,
                   half_pixel_centers: bool = False) -> Value:
    """Bicubic resize of H, W (axes 1, 2) with Keys' kernel a = -0.75 (TF's legacy mode; TF samples
    the kernel from a 1024-entry table, so results differ by ~1e-3). half_pixel_centers (a = -0.5,
    out-of-image taps dropped and the weights renormalized) has no OpenVINO equivalent."""
    if half_pixel_centers:
        raise ValueError("ResizeBicubic with half_pixel_centers is not supported (TF renormalizes the "
                         "weights at the border, OpenVINO's cubic Interpolate does not)")
    ctm = "align_corners" if align_corners else "asymmetric"
    return g.op("Interpolate", x, size, g.i64([1, 2]), mode="cubic", shape_calculation_mode="sizes",
                coordinate_transformation_mode=ctm, cube_coeff=-0.75)


@tf_ops.op("CropAndResize")
def crop_and_resize(g: TfContext, image: Value, boxes: Value, box_ind: Value, crop_size: Value, *,
                    method: str = "bilinear", extrapolation_value: float = 0.0) -> Value:
    """Bilinear crops [num_boxes, ch, cw, C] of image[box_ind] at normalized boxes (y1, x1, y2, x2).

    Sample i of a crop sits at y1 + i * (y2 - y1) / (ch - 1) (the box centre when ch == 1) in
    [0, 1] image coordinates: GridSample with align_corners maps 2 * y - 1 to the same pixel.
    Samples outside the image take ``extrapolation_value``.
    """
    if method != "bilinear":
        raise ValueError(f"CropAndResize method {method!r} is not supported (only bilinear)")
    ch, cw = (int(v) for v in g.const_value(crop_size, "CropAndResize crop_size").reshape(-1))
    f = image.etype if image.etype.startswith(("f", "bf")) else "f32"
    img = image if image.etype == f else g.op("Convert", image, destination_type=f)
    bx = boxes if boxes.etype == f else g.op("Convert", boxes, destination_type=f)
    src = g.op("Gather", img, box_ind, g.i64(0))

    def coords(k0: int, k1: int, n: int) -> Value:
        lo = g.op("Gather", bx, g.i64([k0]), g.i64(1))      # [B, 1]
        hi = g.op("Gather", bx, g.i64([k1]), g.i64(1))
        if n == 1:
            return g.op("Multiply", g.op("Add", lo, hi), g.scalar_like(0.5, bx))
        t = g.const(np.arange(n, dtype=np.float32) / np.float32(n - 1))
        if f != "f32":
            t = g.op("Convert", t, destination_type=f)
        return g.op("Add", lo, g.op("Multiply", g.op("Subtract", hi, lo), t))  # [B, n]

    ys = g.op("Unsqueeze", coords(0, 2, ch), g.i64([2]))   # [B, ch, 1]
    xs = g.op("Unsqueeze", coords(1, 3, cw), g.i64([1]))   # [B, 1, cw]
    two, one = g.scalar_like(2.0, bx), g.scalar_like(1.0, bx)
    gy = g.op("Subtract", g.op("Multiply", ys, two), one)
    gx = g.op("Subtract", g.op("Multiply", xs, two), one)
    zeros = g.op("Multiply", g.op("Add", gx, gy), g.scalar_like(0.0, bx))  # [B, ch, cw]
    grid = g.op("Concat", g.op("Unsqueeze", g.op("Add", gx, zeros), g.i64([3])),
                g.op("Unsqueeze", g.op("Add", gy, zeros), g.i64([3])), axis=3)
    y = g.op("GridSample", g.to_nchw(src), grid, align_corners=True, mode="bilinear", padding_mode="border")
    y = g.to_nhwc(y)
    zero = g.scalar_like(0.0, bx)
    inside = g.op("LogicalAnd",
                  g.op("LogicalAnd", g.op("GreaterEqual", ys, zero), g.op("LessEqual", ys, one)),
                  g.op("LogicalAnd", g.op("GreaterEqual", xs, zero), g.op("LessEqual", xs, one)))
    y = g.op("Select", g.op("Unsqueeze", inside, g.i64([3])), y, g.scalar_like(extrapolation_value, y))
    return y if y.etype == "f32" else g.op("Convert", y, destination_type="f32")


@tf_ops.op("CTCGreedyDecoder")
def ctc_greedy_decoder(g: TfContext, logits: Value, seq_len: Value, *, merge_repeated: bool = False,
                       blank_index: int = -1):
    """Greedy CTC decoding of logits[T, N, C] within seq_len[N] (CTCGreedyDecoderSeqLen on [N, T, C]).

    TF's outputs are a sparse tensor and scores: decoded indices [K, 2], values [K] (row-major
    over batch and step), dense shape [N, longest decoding], and log_probability [N, 1] =
    -(sum over the valid steps of the largest logit). The dense decoding of CTCGreedyDecoderSeqLen
    is padded with -1; the sparse triple is read off it with NonZero + GatherND.
    """
    if logits.rank is not None and logits.rank != 3:
        raise ValueError(f"logits must be [max_time, batch, classes], got rank {logits.rank}")
    classes = logits.shape[2] if logits.shape is not None else -1
    if blank_index < 0:
        if classes < 0:
            raise ValueError("the number of classes must be static when blank_index is negative")
        blank_index += classes
    data = g.op("Transpose", logits, g.i64([1, 0, 2]))
    lengths_in = g.op("Convert", seq_len, destination_type="i32")
    decoded, lengths = g.op("CTCGreedyDecoderSeqLen", data, lengths_in, g.const(np.int32(blank_index)),
                            merge_repeated=merge_repeated, classes_index_type="i64", sequence_length_type="i64")
    longest = g.op("ReduceMax", lengths, g.i64([0]), keep_dims=True)
    batch = g.op("ShapeOf", lengths, output_type="i64")
    dense_shape = g.op("Concat", batch, longest, axis=0)
    dense = g.op("Slice", decoded, g.i64([0]), longest, g.i64([1]), g.i64([1]))
    where = g.op("NonZero", g.op("NotEqual", dense, g.const(np.int64(-1))), output_type="i64")
    indices = g.op("Transpose", where, g.i64([1, 0]))
    values = g.op("GatherND", dense, indices, batch_dims=0)
    # scores: -(sum of each valid step's best logit)
    best = g.op("ReduceMax", logits, g.i64([2]), keep_dims=False)                        # [T, N]
    steps = g.op("Gather", g.op("ShapeOf", logits, output_type="i64"), g.i64(0), g.i64(0))
    t = g.op("Unsqueeze", g.op("Range", g.i64(0), steps, g.i64(1), output_type="i64"), g.i64([1]))
    valid = g.op("Less", t, g.op("Unsqueeze", g.op("Convert", seq_len, destination_type="i64"), g.i64([0])))
    zero = g.scalar_like(0.0, best)
    total = g.op("ReduceSum", g.op("Select", valid, best, zero), g.i64([0]), keep_dims=False)
    score = g.op("Unsqueeze", g.op("Negative", total), g.i64([1]))
    return indices, values, dense_shape, score
