"""Caffe layers OpenCV's dnn module lacks (Threshold, Reduction, ArgMax, Tile, Bias, Clip) or
computes differently from Caffe (Log/Swish/LRN ignore some parameters, InnerProduct ignores
transpose): converted, run in OpenVINO (f32) and compared with a numpy transcription of the
Caffe layer's forward pass (stated in each test), |ir - ref| <= 1e-5 + 1e-5 * max|ref|."""
from __future__ import annotations

import numpy as np

from .test_layers import L, net
from .writer import assert_close, run_ir


def _one(tmp_path, text, shape=(1, 3, 8, 8), feeds=None):
    ir, feeds, blobs, graph = run_ir(tmp_path, text, feeds=feeds)
    out = [r.name.removesuffix("/sink_port_0") for r in graph.results][0]
    return ir[out], feeds["data"], blobs


def test_log(tmp_path):
    """Caffe: y = log_base(shift + scale * x)."""
    y, x, _ = _one(tmp_path, net(L("r", "Log", body="log_param { base: 2 scale: 0.5 shift: 5 }")))
    assert_close(y, np.log2(5 + 0.5 * x.astype(np.float64)), 1e-5, 1e-5)


def test_log_natural(tmp_path):
    y, x, _ = _one(tmp_path, net(L("r", "Log", body="log_param { shift: 4 }")))
    assert_close(y, np.log(4 + x.astype(np.float64)), 1e-5, 1e-5)


def test_threshold(tmp_path):
    """Caffe: y = 1 if x > threshold else 0."""
    y, x, _ = _one(tmp_path, net(L("r", "Threshold", body="threshold_param { threshold: 0.2 }")))
    np.testing.assert_array_equal(y, (x > 0.2).astype(np.float32))


def test_reduction_ops(tmp_path):
    """Caffe: the op over all axes from ``axis`` on, times coeff; output shape = input[:axis]."""
    text = net(L("sum", "Reduction", body="reduction_param { operation: SUM axis: 1 }"),
               L("asum", "Reduction", body="reduction_param { operation: ASUM axis: 2 coeff: 2 }"),
               L("sumsq", "Reduction", body="reduction_param { operation: SUMSQ axis: 1 coeff: 0.5 }"),
               L("mean", "Reduction", body="reduction_param { operation: MEAN axis: -1 }"),
               L("all", "Reduction", body="reduction_param { operation: SUM }"))
    ir, feeds, _, _ = run_ir(tmp_path, text)
    x = feeds["data"].astype(np.float64)
    assert_close(ir["sum"], x.sum(axis=(1, 2, 3)), 1e-5, 1e-5, "sum")
    assert_close(ir["asum"], 2 * np.abs(x).sum(axis=(2, 3)), 1e-5, 1e-5, "asum")
    assert_close(ir["sumsq"], 0.5 * (x * x).sum(axis=(1, 2, 3)), 1e-5, 1e-5, "sumsq")
    assert_close(ir["mean"], x.mean(axis=3), 1e-5, 1e-5, "mean")
    assert ir["all"].shape == ()
    assert_close(ir["all"], x.sum(), 1e-5, 1e-4, "all")


def test_argmax(tmp_path):
    """Caffe: indices (as floats) of the top_k largest values, in descending order; with an axis the
    axis becomes top_k long (values instead with out_max_val); without one the output is
    [N, 1|2, top_k, 1] over each sample's values (indices, then values with out_max_val)."""
    text = net(L("ax", "ArgMax", body="argmax_param { top_k: 2 axis: 1 }"),
               L("axv", "ArgMax", body="argmax_param { top_k: 2 axis: 1 out_max_val: true }"),
               L("flat", "ArgMax", body="argmax_param { top_k: 3 }"),
               L("flatv", "ArgMax", body="argmax_param { top_k: 3 out_max_val: true }"))
    ir, feeds, _, _ = run_ir(tmp_path, text)
    x = feeds["data"]
    order = np.argsort(-x, axis=1, kind="stable")[:, :2]
    np.testing.assert_array_equal(ir["ax"], order.astype(np.float32))
    assert_close(ir["axv"], np.take_along_axis(x, order, axis=1), 0, 0, "axv")
    flat = x.reshape(1, -1)
    top = np.argsort(-flat, axis=1, kind="stable")[:, :3]
    np.testing.assert_array_equal(ir["flat"], top.astype(np.float32).reshape(1, 1, 3, 1))
    ref = np.stack([top.astype(np.float32), np.take_along_axis(flat, top, axis=1)], axis=1).reshape(1, 2, 3, 1)
    assert_close(ir["flatv"], ref, 0, 0, "flatv")


def test_tile(tmp_path):
    """Caffe: ``tiles`` copies of the blob along ``axis``."""
    y, x, _ = _one(tmp_path, net(L("r", "Tile", body="tile_param { axis: 2 tiles: 3 }")))
    np.testing.assert_array_equal(y, np.tile(x, (1, 1, 3, 1)))


def test_bias_blob_and_bottom(tmp_path):
    """Caffe: y = x + b, b covering axes [axis, axis + num_axes) (a blob, or the second bottom)."""
    text = net(L("b1", "Bias"),
               L("b2", "Bias", body="bias_param { axis: 1 num_axes: 2 }"),
               L("red", "Reduction", body="reduction_param { operation: MEAN axis: 2 }"),
               L("b3", "Bias", bottom=["data", "red"], body="bias_param { axis: 0 }"))
    ir, feeds, blobs, _ = run_ir(tmp_path, text)
    x = feeds["data"].astype(np.float64)
    assert_close(ir["b1"], x + blobs["b1"][0].reshape(1, 3, 1, 1), 1e-5, 1e-5, "b1")
    assert_close(ir["b2"], x + blobs["b2"][0].reshape(1, 3, 8, 1), 1e-5, 1e-5, "b2")
    assert_close(ir["b3"], x + x.mean(axis=(2, 3))[:, :, None, None], 1e-5, 1e-5, "b3")


def test_scale_second_bottom(tmp_path):
    """Caffe: y = x * s (+ b) with s the second bottom (here per sample and channel, axis 0)."""
    text = net(L("red", "Reduction", body="reduction_param { operation: MEAN axis: 2 }"),
               L("s", "Scale", bottom=["data", "red"], body="scale_param { axis: 0 bias_term: true }"))
    ir, feeds, blobs, _ = run_ir(tmp_path, text)
    x = feeds["data"].astype(np.float64)
    s = x.mean(axis=(2, 3))[:, :, None, None]
    assert_close(ir["s"], x * s + blobs["s"][0][:, :, None, None], 1e-5, 1e-5)


def test_clip(tmp_path):
    y, x, _ = _one(tmp_path, net(L("r", "Clip", body="clip_param { min: -0.5 max: 0.7 }")))
    np.testing.assert_array_equal(y, np.clip(x, -0.5, 0.7))


def test_swish_beta(tmp_path):
    """Caffe: y = x * sigmoid(beta * x) (OpenCV ignores beta)."""
    y, x, _ = _one(tmp_path, net(L("r", "Swish", body="swish_param { beta: 1.5 }")))
    x64 = x.astype(np.float64)
    assert_close(y, x64 / (1 + np.exp(-1.5 * x64)), 1e-5, 1e-5)


def test_lrn_across_channels_k(tmp_path):
    """Caffe: y = x / (k + alpha/n * sum of x^2 over n neighbouring channels)^beta (OpenCV ignores k)."""
    y, x, _ = _one(tmp_path, net(L("n", "LRN", body="lrn_param { local_size: 3 alpha: 0.5 beta: 0.6 k: 2 }"),
                                 shape=(1, 8, 6, 6)))
    x64 = x.astype(np.float64)
    sq = np.pad(x64 ** 2, ((0, 0), (1, 1), (0, 0), (0, 0)))
    s = sq[:, :-2] + sq[:, 1:-1] + sq[:, 2:]
    assert_close(y, x64 / (2 + 0.5 / 3 * s) ** 0.6, 1e-5, 1e-5)


def test_inner_product_transpose(tmp_path):
    """Caffe: with transpose the blob is [K, N] and y = x @ W + b (OpenCV ignores transpose)."""
    ir, feeds, blobs, _ = run_ir(tmp_path, net(L("fc", "InnerProduct", body="inner_product_param { num_output: 5 "
                                                                          "transpose: true }"), shape=(2, 12)))
    w, b = blobs["fc"]
    assert w.shape == (12, 5)
    assert_close(ir["fc"], feeds["data"].astype(np.float64) @ w + b, 1e-5, 1e-5)


def test_batch_norm_batch_statistics(tmp_path):
    """Caffe with use_global_stats: false: per channel (x - mean) / sqrt(var + eps) over N, H, W."""
    y, x, _ = _one(tmp_path, net(L("bn", "BatchNorm", body="batch_norm_param { use_global_stats: false eps: 1e-3 }"),
                                 shape=(2, 3, 4, 4)))
    x64 = x.astype(np.float64)
    m, v = x64.mean(axis=(0, 2, 3), keepdims=True), x64.var(axis=(0, 2, 3), keepdims=True)
    assert_close(y, (x64 - m) / np.sqrt(v + 1e-3), 1e-5, 1e-5)


def test_batch_norm_moving_average_factor(tmp_path):
    """Caffe: mean and variance blobs are divided by the third blob (the moving-average factor)."""
    y, x, blobs = _one(tmp_path, net(L("bn", "BatchNorm", body="batch_norm_param { eps: 1e-5 }")))
    mean, var, f = blobs["bn"]
    assert f.shape == (1,) and f[0] != 1.0
    m, v = (mean / f[0]).reshape(1, 3, 1, 1), (var / f[0]).reshape(1, 3, 1, 1)
    assert_close(y, (x.astype(np.float64) - m) / np.sqrt(v + 1e-5), 1e-5, 1e-5)


def test_embed(tmp_path):
    """Caffe: y[i] = W[x[i]] + b."""
    feeds = {"data": np.array([[3, 0, 9, 4]], np.float32)}
    y, x, blobs = _one(tmp_path, net(L("e", "Embed", body="embed_param { num_output: 6 input_dim: 10 }"),
                                     shape=(1, 4)), feeds=feeds)
    w, b = blobs["e"]
    assert_close(y, w[[3, 0, 9, 4]][None] + b, 1e-6, 1e-6)


def test_grn(tmp_path):
    """GRN: y = x / sqrt(sum over channels of x^2 + bias)."""
    y, x, _ = _one(tmp_path, net(L("g", "GRN", body="grn_param { bias: 0.5 }")))
    x64 = x.astype(np.float64)
    assert_close(y, x64 / np.sqrt((x64 ** 2).sum(axis=1, keepdims=True) + 0.5), 1e-5, 1e-5)


def test_axpy(tmp_path):
    """Axpy: y = a * x + b with a per sample and channel (bottoms a, x, b)."""
    text = net(L("a", "Pooling", body="pooling_param { pool: AVE global_pooling: true }"),
               L("s", "Sigmoid"),
               L("ax", "Axpy", bottom=["a", "data", "s"]))
    ir, feeds, _, _ = run_ir(tmp_path, text)
    x = feeds["data"].astype(np.float64)
    ref = x.mean(axis=(2, 3), keepdims=True) * x + 1 / (1 + np.exp(-x))
    assert_close(ir["ax"], ref, 1e-5, 1e-5)


def test_psroi_pooling(tmp_path):
    """R-FCN's PSROIPooling forward: region corners rounded, times spatial_scale (end + 1), split
    into group x group bins (floor/ceil edges, clipped); bin (i, j) of output channel c is the mean
    of input channel (c*G + i)*G + j over the bin, 0 for an empty bin."""
    G, D, scale = 3, 2, 0.25
    text = net(L("ps", "PSROIPooling", bottom=["data", "rois"], body=f"psroi_pooling_param {{ spatial_scale: {scale} "
                                                                        f"output_dim: {D} group_size: {G} }}"),
               shape=(1, D * G * G, 12, 10))
    text = text.replace('name: "t"\n', 'name: "t"\nlayer { name: "rois" type: "Input" top: "rois" '
                        'input_param { shape { dim: 3 dim: 5 } } }\n')
    rois = np.array([[0, 2.2, 3.1, 30.7, 40.2], [0, 0, 0, 39, 47], [0, 10.3, 20.8, 14.2, 24.1]], np.float32)
    x = np.random.default_rng(1).standard_normal((1, D * G * G, 12, 10)).astype(np.float32)
    ir, feeds, _, _ = run_ir(tmp_path, text, feeds={"data": x, "rois": rois})
    H, W = x.shape[2:]
    ref = np.zeros((len(rois), D, G, G))
    for n, (b, *box) in enumerate(rois.astype(np.float64)):
        x1, y1 = np.floor(box[0] + 0.5) * scale, np.floor(box[1] + 0.5) * scale
        x2, y2 = (np.floor(box[2] + 0.5) + 1) * scale, (np.floor(box[3] + 0.5) + 1) * scale
        bh, bw = max(y2 - y1, 0.1) / G, max(x2 - x1, 0.1) / G
        for c in range(D):
            for i in range(G):
                for j in range(G):
                    hs = min(max(int(np.floor(i * bh + y1)), 0), H)
                    he = min(max(int(np.ceil((i + 1) * bh + y1)), 0), H)
                    ws = min(max(int(np.floor(j * bw + x1)), 0), W)
                    we = min(max(int(np.ceil((j + 1) * bw + x1)), 0), W)
                    patch = x[int(b), (c * G + i) * G + j, hs:he, ws:we]
                    ref[n, c, i, j] = patch.mean() if patch.size else 0.0
    assert_close(ir["ps"], ref, 1e-5, 1e-5)


def test_pooling_round_mode_floor(tmp_path):
    """BVLC's round_mode: FLOOR (unknown to OpenCV): output floor((8 - 3) / 2) + 1 = 3 per axis,
    each window's plain mean."""
    y, x, _ = _one(tmp_path, net(L("p", "Pooling", body="pooling_param { pool: AVE kernel_size: 3 stride: 2 "
                                                        "round_mode: FLOOR }"), shape=(1, 2, 8, 8)))
    ref = np.zeros((1, 2, 3, 3))
    for i in range(3):
        for j in range(3):
            ref[:, :, i, j] = x[:, :, 2 * i:2 * i + 3, 2 * j:2 * j + 3].astype(np.float64).mean(axis=(2, 3))
    assert_close(y, ref, 1e-6, 1e-6)


def test_bn_layer_of_forks(tmp_path):
    """The forks' BN layer: y = scale * (x - mean) / sqrt(var + eps) + shift (blobs in that order:
    scale, shift, mean, variance)."""
    y, x, blobs = _one(tmp_path, net(L("bn", "BN", body="bn_param { eps: 0.001 }")))
    scale, shift, mean, var = blobs["bn"]
    ref = scale * (x.astype(np.float64) - mean) / np.sqrt(var + 0.001) + shift
    assert_close(y, ref, 1e-5, 1e-5)


def test_binarization(tmp_path):
    y, x, _ = _one(tmp_path, net(L("b", "Binarization")))
    np.testing.assert_array_equal(y, np.where(x > 0, 1.0, -1.0).astype(np.float32))


def _sigmoid(v):
    return 1 / (1 + np.exp(-v))


def test_region_yolo_v2(tmp_path):
    """YOLO v2 region (darknet's forward): per anchor, logistic on x, y and objectness, softmax
    over the classes; output flattened to [N, C*H*W]."""
    coords, classes, num = 4, 3, 2
    c = num * (coords + 1 + classes)
    y, x, _ = _one(tmp_path, net(L("r", "RegionYolo", body=f"region_yolo_param {{ coords: {coords} classes: {classes} "
                                                           f"num: {num} do_softmax: true }}"), shape=(1, c, 5, 6)))
    v = x.astype(np.float64).reshape(1, num, coords + 1 + classes, 5, 6).copy()
    v[:, :, 0:2] = _sigmoid(v[:, :, 0:2])
    v[:, :, coords] = _sigmoid(v[:, :, coords])
    e = np.exp(v[:, :, coords + 1:] - v[:, :, coords + 1:].max(axis=2, keepdims=True))
    v[:, :, coords + 1:] = e / e.sum(axis=2, keepdims=True)
    assert_close(y, v.reshape(1, -1), 1e-5, 1e-6)


def test_region_yolo_v3_mask(tmp_path):
    """YOLO v3 yolo layer (no softmax, mask of 3 anchors): logistic on x, y, objectness and classes."""
    coords, classes = 4, 2
    c = 3 * (coords + 1 + classes)
    y, x, _ = _one(tmp_path, net(L("r", "RegionYolo", body=f"region_yolo_param {{ coords: {coords} classes: {classes} "
                                                           "num: 9 do_softmax: false mask: 0 mask: 1 mask: 2 }"),
                                 shape=(1, c, 4, 4)))
    v = x.astype(np.float64).reshape(1, 3, coords + 1 + classes, 4, 4).copy()
    v[:, :, 0:2] = _sigmoid(v[:, :, 0:2])
    v[:, :, coords:] = _sigmoid(v[:, :, coords:])
    assert_close(y, v.reshape(1, c, 4, 4), 1e-5, 1e-6)


def test_reorg_yolo(tmp_path):
    """Darknet's reorg with stride s, transcribed: the input buffer read as [N, C/s^2, H*s, W*s];
    element (c, h, w) of the [C, H, W] result comes from channel c mod C/s^2, row h*s + (c div
    C/s^2) div s, column w*s + (c div C/s^2) mod s; then read as [N, C*s^2, H/s, W/s]."""
    s, (n, c, h, w) = 2, (1, 8, 6, 4)
    y, x, _ = _one(tmp_path, net(L("r", "ReorgYolo", body=f"reorg_yolo_param {{ stride: {s} }}"), shape=(n, c, h, w)))
    co = c // (s * s)
    a = x.reshape(n, co, h * s, w * s)
    out = np.empty((n, c, h, w), np.float32)
    for k in range(c):
        off = k // co
        out[:, k] = a[:, k % co, (np.arange(h) * s + off // s)[:, None], np.arange(w) * s + off % s]
    np.testing.assert_array_equal(y, out.reshape(n, c * s * s, h // s, w // s))


def test_ctc_greedy_decoder(tmp_path):
    """Per sequence: the best class at each step within the mask, repeats merged, blanks (the last
    class) removed, -1 after the end; output [N, T, 1, 1]."""
    T, N, C = 6, 2, 4
    text = net(L("ctc", "CTCGreedyDecoder", bottom=["data", "mask"],
                 body="ctc_decoder_param { ctc_merge_repeated: true }"), shape=(T, N, C))
    text = text.replace('name: "t"\n', 'name: "t"\nlayer { name: "mask" type: "Input" top: "mask" '
                        f'input_param {{ shape {{ dim: {T} dim: {N} }} }} }}\n')
    best = np.array([[1, 1], [1, 3], [3, 0], [1, 0], [2, 2], [0, 1]])    # [T, N]
    probs = np.full((T, N, C), 0.1, np.float32)
    for t in range(T):
        for b in range(N):
            probs[t, b, best[t, b]] = 0.7
    mask = np.array([[1, 1], [1, 1], [1, 1], [1, 1], [1, 0], [1, 0]], np.float32)
    ir, _, _, _ = run_ir(tmp_path, text, feeds={"data": probs, "mask": mask})
    ref = np.full((N, T), -1.0)
    for b in range(N):
        seq, prev = [], None
        for t in range(T):
            if not mask[t, b]:
                break
            k = best[t, b]
            if k != C - 1 and k != prev:
                seq.append(k)
            prev = k
        ref[b, :len(seq)] = seq
    np.testing.assert_array_equal(ir["ctc"].reshape(N, T), ref)
