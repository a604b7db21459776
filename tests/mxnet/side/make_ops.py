"""Run in the mxnet side environment: one small symbol per op case, with params, inputs and
mxnet's outputs (inference mode).

Usage: python make_ops.py OUT_DIR -> OUT_DIR/<case>-symbol.json, <case>-0000.params,
<case>-io.npz (in:<name> and out:<i> arrays), and OUT_DIR/manifest.json.
"""
import json
import sys

import mxnet as mx
import numpy as np

S = mx.sym
RNG = np.random.default_rng(7)
CASES = []


def normal(*shape, scale=1.0):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


REFERENCE = {}   # case -> the symbol whose outputs serve as reference, when mxnet cannot run the case itself


def case(name, sym, inputs, args=None, aux=None, tol=1e-5, reference=None):
    CASES.append((name, sym, inputs, args or {}, aux or {}, tol))
    if reference is not None:
        REFERENCE[name] = reference


def data(name="data"):
    return S.var(name)


x4 = normal(2, 3, 8, 8)
d = data()

# ---- convolution family
w = S.var("w"); b = S.var("b")
case("conv", S.Convolution(d, w, b, kernel=(3, 3), num_filter=4, pad=(1, 1), stride=(2, 2)),
     {"data": x4}, {"w": normal(4, 3, 3, 3), "b": normal(4)})
case("conv_group_dilate", S.Convolution(S.var("data"), S.var("w"), kernel=(3, 3), num_filter=6, num_group=3,
                                        dilate=(2, 2), no_bias=True),
     {"data": normal(1, 6, 9, 9)}, {"w": normal(6, 2, 3, 3)})
case("conv1d", S.Convolution(S.var("data"), S.var("w"), S.var("b"), kernel=(3,), num_filter=2, pad=(1,)),
     {"data": normal(2, 3, 10)}, {"w": normal(2, 3, 3), "b": normal(2)})
case("deconv", S.Deconvolution(S.var("data"), S.var("w"), S.var("b"), kernel=(4, 4), num_filter=5, stride=(2, 2),
                               pad=(1, 1), adj=(1, 1), no_bias=False),
     {"data": x4}, {"w": normal(3, 5, 4, 4), "b": normal(5)})
case("deconv_group", S.Deconvolution(S.var("data"), S.var("w"), kernel=(3, 3), num_filter=4, num_group=2,
                                     stride=(2, 2)),
     {"data": normal(1, 4, 5, 5)}, {"w": normal(4, 2, 3, 3)})
bn_args = {"g": RNG.uniform(0.5, 1.5, 3).astype(np.float32), "be": normal(3)}
bn_aux = {"m": normal(3, scale=0.2), "v": RNG.uniform(0.5, 1.5, 3).astype(np.float32)}
case("batchnorm", S.BatchNorm(d, S.var("g"), S.var("be"), S.var("m"), S.var("v"), fix_gamma=False, eps=1e-3),
     {"data": x4}, bn_args, bn_aux)
case("batchnorm_fix_gamma", S.BatchNorm(d, S.var("g"), S.var("be"), S.var("m"), S.var("v"), fix_gamma=True,
                                        use_global_stats=True),
     {"data": x4}, bn_args, bn_aux)
case("batchnorm_axis_last", S.BatchNorm(d, S.var("g"), S.var("be"), S.var("m"), S.var("v"), fix_gamma=False,
                                        axis=-1),
     {"data": normal(2, 4, 3)}, bn_args, bn_aux)

# ---- activations
for act in ("relu", "sigmoid", "tanh", "softrelu", "softsign"):
    case(f"act_{act}", S.Activation(d, act_type=act), {"data": x4})
case("leaky", S.LeakyReLU(d, act_type="leaky", slope=0.1), {"data": x4})
case("prelu", S.LeakyReLU(d, S.var("gamma"), act_type="prelu"), {"data": x4}, {"gamma": normal(3, scale=0.3)})
case("elu", S.LeakyReLU(d, act_type="elu", slope=0.7), {"data": x4})
case("selu", S.LeakyReLU(d, act_type="selu"), {"data": x4})
case("gelu", S.LeakyReLU(d, act_type="gelu"), {"data": x4}, tol=1e-4)

# ---- pooling
x9 = normal(2, 3, 9, 9)
case("pool_max_valid", S.Pooling(d, kernel=(3, 3), stride=(2, 2), pool_type="max"), {"data": x9})
case("pool_max_full", S.Pooling(d, kernel=(3, 3), stride=(2, 2), pool_type="max", pooling_convention="full"),
     {"data": normal(2, 3, 10, 10)})
case("pool_avg_pad", S.Pooling(d, kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="avg"), {"data": x9})
case("pool_avg_nopad_count", S.Pooling(d, kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="avg",
                                       count_include_pad=False), {"data": x9})
case("pool_avg_full", S.Pooling(d, kernel=(2, 2), stride=(2, 2), pool_type="avg", pooling_convention="full"),
     {"data": x9})
case("pool_sum", S.Pooling(d, kernel=(2, 2), stride=(1, 1), pool_type="sum"), {"data": x9})
case("pool_global_max", S.Pooling(d, kernel=(1, 1), global_pool=True, pool_type="max"), {"data": x9})
case("pool_global_avg", S.Pooling(d, kernel=(1, 1), global_pool=True, pool_type="avg"), {"data": x9})

# ---- dense and shape ops
case("fc_flatten", S.FullyConnected(d, S.var("w"), S.var("b"), num_hidden=5), {"data": x4},
     {"w": normal(5, 192), "b": normal(5)})
case("fc_noflatten", S.FullyConnected(d, S.var("w"), num_hidden=5, flatten=False, no_bias=True),
     {"data": normal(2, 3, 4)}, {"w": normal(5, 4)})
case("flatten", S.Flatten(d), {"data": x4})
x5 = normal(2, 3, 4, 5)
for i, (shape, rev) in enumerate([((0, -1), False), ((-2,), False), ((-3, -2), False), ((0, -4, 3, -1, -2), False),
                                  ((-4, 1, 2, -3, 5), False), ((0, 0, -1), True), ((-1, 5), False),
                                  ((2, -3, 5), False)]):
    case(f"reshape_{i}", S.Reshape(d, shape=shape, reverse=rev), {"data": x5})
case("transpose", S.transpose(d, axes=(0, 2, 3, 1)), {"data": x5})
case("transpose_default", S.transpose(d), {"data": x5})
case("concat", S.Concat(S.var("a"), S.var("b"), dim=1), {"a": x4, "b": normal(2, 2, 8, 8)})
case("slicechannel", S.SliceChannel(d, num_outputs=3, axis=1), {"data": x4})
case("split_squeeze", S.split(d, num_outputs=3, axis=1, squeeze_axis=True), {"data": x4})
case("slice", S.slice(d, begin=(0, 1, None, 2), end=(None, 3, 6, None), step=(1, 1, 2, 1)), {"data": x5})
case("slice_negstep", S.slice(d, begin=(None, 2), end=(None, None), step=(1, -1)), {"data": x5})
case("slice_axis", S.slice_axis(d, axis=2, begin=1, end=-1), {"data": x5})
case("slice_like", S.slice_like(d, S.var("like"), axes=(2, 3)), {"data": x5, "like": normal(1, 1, 2, 3)})
case("expand_dims", S.expand_dims(d, axis=1), {"data": x5})
case("squeeze", S.squeeze(d, axis=(1,)), {"data": normal(2, 1, 4)})
case("stack", S.stack(S.var("a"), S.var("b"), axis=1), {"a": x5, "b": x5 * 2})
case("tile", S.tile(d, reps=(1, 2, 1, 3)), {"data": x5})
case("take", S.take(d, S.var("idx"), axis=1), {"data": x5, "idx": np.array([[0, 2], [1, 5]], np.float32)})
case("where", S.where(S.var("c"), S.var("a"), S.var("b")),
     {"c": (RNG.random((2, 3)) > 0.5).astype(np.float32), "a": normal(2, 3), "b": normal(2, 3)})
case("zeros_like", S.zeros_like(d) + d, {"data": x5})
case("ones_like", S.ones_like(d) * 3 + d, {"data": x5})
case("embedding", S.Embedding(d, S.var("w"), input_dim=10, output_dim=4),
     {"data": np.array([[1, 3, 9], [0, 0, 2]], np.float32)}, {"w": normal(10, 4)})
case("dropout", S.Dropout(d, p=0.5) * 2, {"data": x5})
case("pad_constant", S.Pad(d, mode="constant", pad_width=(0, 0, 0, 0, 1, 2, 3, 1), constant_value=0.5), {"data": x5})
case("pad_edge", S.Pad(d, mode="edge", pad_width=(0, 0, 0, 0, 1, 1, 2, 2)), {"data": x5})
case("pad_reflect", S.Pad(d, mode="reflect", pad_width=(0, 0, 0, 0, 2, 1, 1, 2)), {"data": x5})

# ---- arithmetic
a, bb = S.var("a"), S.var("b")
xa, xb = normal(2, 3, 4), normal(2, 3, 4)
for op in ("elemwise_add", "elemwise_sub", "elemwise_mul", "elemwise_div"):
    case(op, getattr(S, op)(a, bb), {"a": xa, "b": xb + np.sign(xb) * 0.5})
xb1 = normal(1, 3, 1)
for op in ("broadcast_add", "broadcast_sub", "broadcast_mul", "broadcast_div", "broadcast_maximum",
           "broadcast_minimum", "broadcast_greater", "broadcast_lesser_equal", "broadcast_equal"):
    case(op, getattr(S, op)(a, bb), {"a": xa, "b": xb1 + np.sign(xb1) * 0.5})
case("broadcast_power", S.broadcast_power(a, bb), {"a": np.abs(xa) + 0.1, "b": xb1})
for name, fn in {"_plus_scalar": lambda s: s + 1.5, "_minus_scalar": lambda s: s - 2.0,
                 "_rminus_scalar": lambda s: 2.0 - s, "_mul_scalar": lambda s: s * 3.0,
                 "_div_scalar": lambda s: s / 4.0, "_rdiv_scalar": lambda s: 2.0 / s,
                 "_power_scalar": lambda s: s ** 2.0, "_maximum_scalar": lambda s: S.maximum(s, 0.3),
                 "_greater_scalar": lambda s: s > 0.1}.items():
    case(name, fn(d), {"data": np.abs(xa) + 0.5 if name == "_rdiv_scalar" else xa})
case("clip", S.clip(d, a_min=-0.5, a_max=0.7), {"data": xa})
case("softmax", S.softmax(d, axis=1), {"data": xa})
case("log_softmax", S.log_softmax(d), {"data": xa})
case("softmax_output", S.SoftmaxOutput(d, name="softmax"), {"data": normal(2, 3, 4)})
case("softmax_output_multi", S.SoftmaxOutput(d, multi_output=True, name="softmax"), {"data": normal(2, 3, 4)})
case("softmax_activation", S.SoftmaxActivation(d), {"data": normal(2, 3, 4)})
case("softmax_activation_channel", S.SoftmaxActivation(d, mode="channel"), {"data": normal(2, 3, 4)})
case("mean", S.mean(d, axis=(1, 2), keepdims=True), {"data": x5})
case("sum_exclude", S.sum(d, axis=1, exclude=True), {"data": x5}, tol=1e-4)
case("max_all", S.max(d), {"data": x5})
case("add_n", S.add_n(a, bb, a), {"a": xa, "b": xb})

# ---- resizing, normalization
case("upsampling_nearest", S.UpSampling(d, scale=2, sample_type="nearest"), {"data": x4})
case("bilinear_resize", S.contrib.BilinearResize2D(d, height=13, width=6), {"data": x4}, tol=1e-4)
case("crop_like", S.Crop(d, S.var("like"), num_args=2, center_crop=True), {"data": x9, "like": normal(2, 3, 5, 4)})
case("crop_offset", S.Crop(d, num_args=1, offset=(1, 2), h_w=(4, 5)), {"data": x9})
for mode in ("instance", "channel", "spatial"):
    case(f"l2norm_{mode}", S.L2Normalization(d, mode=mode), {"data": x4})
case("instancenorm", S.InstanceNorm(d, S.var("g"), S.var("b"), eps=1e-3), {"data": x4},
     {"g": normal(3), "b": normal(3)}, tol=1e-4)
case("layernorm", S.LayerNorm(d, S.var("g"), S.var("b")), {"data": normal(2, 5, 6)},
     {"g": normal(6), "b": normal(6)}, tol=1e-4)

# ---- detection heads
feat = normal(1, 4, 5, 6)
case("multibox_prior", S.contrib.MultiBoxPrior(d, sizes=(0.3, 0.6), ratios=(1, 2, 0.5), clip=True), {"data": feat})
case("multibox_prior_steps", S.contrib.MultiBoxPrior(d, sizes=(0.2,), ratios=(1, 3), steps=(0.1, 0.2),
                                                     offsets=(0.4, 0.6)), {"data": feat})
n_anchor = 5 * 6 * 2
cls = RNG.random((1, 3, n_anchor)).astype(np.float32)
cls = cls / cls.sum(axis=1, keepdims=True)
anchors_sym = S.contrib.MultiBoxPrior(S.var("feat"), sizes=(0.3,), ratios=(1, 2))
case("multibox_detection", S.contrib.MultiBoxDetection(S.var("cls"), S.var("loc"), anchors_sym, threshold=0.3,
                                                       nms_threshold=0.45),
     {"cls": cls, "loc": normal(1, n_anchor * 4, scale=0.3), "feat": feat}, tol=1e-4)
boxes = RNG.random((2, 12, 2)).astype(np.float32) * 0.5
nms_in = np.concatenate([RNG.integers(0, 3, (2, 12, 1)).astype(np.float32), RNG.random((2, 12, 1)).astype(np.float32),
                         boxes, boxes + RNG.random((2, 12, 2)).astype(np.float32) * 0.5], axis=2)
case("box_nms", S.contrib.box_nms(d, overlap_thresh=0.3, valid_thresh=0.2, coord_start=2, score_index=1,
                                  id_index=0, force_suppress=False), {"data": nms_in})
case("box_nms_force", S.contrib.box_nms(d, overlap_thresh=0.3, coord_start=2, score_index=1, id_index=0,
                                        force_suppress=True), {"data": nms_in})


# ---- more shape and indexing ops
x134 = normal(1, 3, 1)
case("reshape_like", S.reshape_like(d, S.var("like")), {"data": x5, "like": normal(6, 20)})
case("swapaxis", S.SwapAxis(d, dim1=1, dim2=3), {"data": x5})
case("repeat_axis", S.repeat(d, repeats=2, axis=1), {"data": x5})
case("repeat_flat", S.repeat(d, repeats=3), {"data": normal(2, 3)})
case("reverse", S.reverse(d, axis=(1, 3)), {"data": x5})
case("pick", S.pick(d, S.var("idx"), axis=1), {"data": normal(3, 4), "idx": np.array([0, 3, 1], np.float32)})
case("broadcast_to", S.broadcast_to(d, shape=(2, 0, 4)), {"data": x134})
case("broadcast_like", S.broadcast_like(d, S.var("like")), {"data": x134, "like": normal(2, 3, 5)})
case("broadcast_axis", S.broadcast_axis(d, axis=(0, 2), size=(2, 4)), {"data": x134})
case("cast_int32", S.Cast(d * 3, dtype="int32"), {"data": xa})
case("one_hot", S.one_hot(d, depth=5, on_value=2.0, off_value=-1.0), {"data": np.array([[0, 4], [2, 1]], np.float32)})
case("argmax", S.argmax(d, axis=1), {"data": x5})
case("argmin_keepdims", S.argmin(d, axis=2, keepdims=True), {"data": x5})
case("argmax_channel", S.argmax_channel(d), {"data": normal(3, 6)})
case("topk_both", S.topk(d, axis=1, k=2, ret_typ="both"), {"data": x5})
case("topk_value_ascend", S.topk(d, axis=-1, k=3, ret_typ="value", is_ascend=True), {"data": x5})
case("topk_indices", S.topk(d, axis=2, k=1), {"data": x5})
case("dot_2d", S.dot(a, bb, transpose_b=True), {"a": normal(3, 4), "b": normal(5, 4)}, tol=1e-4)
case("dot_3d", S.dot(a, bb), {"a": normal(2, 3, 4), "b": normal(4, 5)}, tol=1e-4)
case("batch_dot", S.batch_dot(a, bb, transpose_a=True), {"a": normal(2, 4, 3), "b": normal(2, 4, 5)}, tol=1e-4)
case("split_v2", S.split_v2(d, indices_or_sections=(1, 3), axis=2), {"data": x5})
case("depth_to_space", S.depth_to_space(d, block_size=2), {"data": normal(1, 8, 2, 3)})
case("space_to_depth", S.space_to_depth(d, block_size=2), {"data": normal(1, 2, 4, 6)})
case("shape_array", S.shape_array(d), {"data": x5})
case("expand_dims_neg", S.expand_dims(d, axis=-1), {"data": x5})
case("squeeze_all", S.squeeze(d), {"data": normal(1, 3, 1, 2)})
case("concat_neg", S.concat(a, bb, dim=-1), {"a": x5, "b": x5})
case("where_vector", S.where(S.var("c"), a, bb), {"c": np.array([1, 0], np.float32), "a": normal(2, 3),
                                                   "b": normal(2, 3)})
case("take_wrap", S.take(d, S.var("idx"), axis=0, mode="wrap"), {"data": normal(4, 3),
                                                                  "idx": np.array([5, -1, 2], np.float32)})
case("arange", S.broadcast_add(S.arange(start=1, stop=7, step=1.5), d), {"data": normal(2, 4)})
case("zeros_ones_full", S.zeros(shape=(2, 4)) + S.ones(shape=(2, 4)) * S.full(shape=(2, 4), val=3.0) + d,
     {"data": normal(2, 4)})
case("deconv_target", S.Deconvolution(d, S.var("w"), kernel=(4, 4), stride=(2, 2), num_filter=2,
                                      target_shape=(8, 8), no_bias=True), {"data": normal(1, 3, 4, 4)},
     {"w": normal(3, 2, 4, 4)},
     # MKL-DNN in mxnet 1.9.1 refuses target_shape; MXNet documents it as the pads that reach the
     # target: (4 - 1) * 2 + 4 - 8 = 2 -> pad 1 on each side
     reference=S.Deconvolution(d, S.var("w"), kernel=(4, 4), stride=(2, 2), num_filter=2, pad=(1, 1), no_bias=True))
case("conv3d", S.Convolution(d, S.var("w"), kernel=(2, 3, 3), num_filter=2, pad=(0, 1, 1), no_bias=True),
     {"data": normal(1, 2, 3, 5, 5)}, {"w": normal(2, 2, 2, 3, 3)})
case("pool_max_1d", S.Pooling(d, kernel=(3,), stride=(2,), pool_type="max"), {"data": normal(2, 3, 9)})
case("pool_avg_3d", S.Pooling(d, kernel=(2, 2, 2), stride=(2, 2, 2), pool_type="avg"), {"data": normal(1, 2, 4, 4, 4)})
case("upsampling_bilinear", S.UpSampling(d, S.var("w"), scale=2, sample_type="bilinear", num_filter=3),
     {"data": normal(1, 3, 4, 4)}, {"w": normal(3, 1, 4, 4)})
case("upsampling_nearest_multi", S.UpSampling(a, bb, scale=2, sample_type="nearest", num_args=2),
     {"a": normal(1, 2, 4, 4), "b": normal(1, 3, 2, 2)})
case("bilinear_resize_like", S.contrib.BilinearResize2D(d, S.var("like"), mode="like"),
     {"data": x4, "like": normal(1, 1, 11, 5)}, tol=1e-4)
case("bilinear_resize_scale", S.contrib.BilinearResize2D(d, scale_height=1.5, scale_width=0.5), {"data": x4}, tol=1e-4)
case("lrn", S.LRN(d, nsize=3, alpha=1e-2, beta=0.75, knorm=2.0), {"data": x4})
case("groupnorm", S.GroupNorm(d, S.var("g"), S.var("b"), num_groups=3), {"data": normal(2, 6, 4, 4)},
     {"g": None, "b": None}, tol=1e-4)
case("hard_sigmoid", S.hard_sigmoid(d, alpha=0.3, beta=0.4), {"data": xa})
case("rrelu", S.LeakyReLU(d, act_type="rrelu")[0], {"data": xa})   # output 1 (the mask) is undefined at inference
case("softmax_temperature", S.softmax(d, axis=-1, temperature=2.0), {"data": xa})
for name in ("exp", "abs", "negative", "floor", "ceil", "round", "rint", "fix", "trunc", "sign", "sin", "cos",
             "tan", "arctan", "sinh", "cosh", "arcsinh", "erf", "square", "reciprocal", "relu", "sigmoid",
             "tanh", "softsign", "log_sigmoid", "mish", "logical_not"):
    if hasattr(S, name):
        case(f"unary_{name}", getattr(S, name)(d), {"data": xa + 0.1}, tol=1e-5)
xp = np.abs(xa) + 0.2
for name in ("log", "sqrt", "rsqrt", "cbrt", "log1p", "expm1", "log2", "log10", "arcsin", "arccos", "arctanh"):
    case(f"unary_{name}", getattr(S, name)(d), {"data": xp / 4 if name in ("arcsin", "arccos", "arctanh") else xp},
         tol=1e-5)
case("unary_arccosh", S.arccosh(d), {"data": xp + 1})
case("norm_l1", S.norm(d, ord=1, axis=1), {"data": x5}, tol=1e-5)
case("norm_l2_all", S.norm(d), {"data": x5}, tol=1e-5)
case("min_axis", S.min(d, axis=1), {"data": x5})
case("prod_keepdims", S.prod(d, axis=2, keepdims=True), {"data": x5})
case("broadcast_mod", S.broadcast_mod(a, bb), {"a": xa * 3, "b": np.abs(xb1) + 0.5})
case("mod_scalar", d % 1.5, {"data": xa * 3})
case("rpower_scalar", 2.0 ** d, {"data": xa})
case("minimum_scalar", S.minimum(d, 0.2), {"data": xa})
case("equal_scalar", S.round(d) == 1.0, {"data": xa * 2})
case("logical_and", S.broadcast_logical_and(a > 0, bb > 0), {"a": xa, "b": xb})
case("logical_or_xor", S.broadcast_logical_or(a > 0, bb > 0) + S.broadcast_logical_xor(a > 0, bb > 0) * 2,
     {"a": xa, "b": xb})
case("not_equal_greater_equal", S.broadcast_not_equal(S.round(a), S.round(bb)) + S.broadcast_greater_equal(a, bb),
     {"a": xa, "b": xb})
case("hypot", S.broadcast_hypot(a, bb), {"a": xa, "b": xb1})

# ---- contrib and vision
feat8 = normal(2, 3, 8, 8)
rois = np.array([[0, 1, 1, 6, 5], [1, 0, 2, 7, 7], [0, 3, 0, 9, 4]], np.float32)
case("roi_pooling", S.ROIPooling(d, S.var("rois"), pooled_size=(2, 3), spatial_scale=0.5),
     {"data": feat8, "rois": rois})
case("roi_align", S.contrib.ROIAlign(d, S.var("rois"), pooled_size=(2, 2), spatial_scale=0.5, sample_ratio=2),
     {"data": feat8, "rois": rois}, tol=1e-4)
case("roi_align_aligned", S.contrib.ROIAlign(d, S.var("rois"), pooled_size=(3, 2), spatial_scale=0.5, sample_ratio=2,
                                             aligned=True), {"data": feat8, "rois": rois}, tol=1e-4)
case("adaptive_avg_pool", S.contrib.AdaptiveAvgPooling2D(d, output_size=(3, 4)), {"data": normal(1, 2, 10, 7)})
case("adaptive_avg_pool_global", S.contrib.AdaptiveAvgPooling2D(d), {"data": normal(1, 2, 5, 7)})
case("sync_batchnorm", S.contrib.SyncBatchNorm(d, S.var("g"), S.var("be"), S.var("m"), S.var("v"), fix_gamma=False,
                                                 key="sbn"),
     {"data": x4}, bn_args, bn_aux)
case("div_sqrt_dim", S.contrib.div_sqrt_dim(d), {"data": x5})
case("arange_like", S.contrib.arange_like(d, start=2.0, step=0.5) + d, {"data": normal(2, 3)})
case("arange_like_axis", S.broadcast_add(S.contrib.arange_like(d, axis=1), d), {"data": normal(2, 3)})
case("quadratic", S.contrib.quadratic(d, a=1.5, b=-2.0, c=0.5), {"data": xa})
case("smooth_l1", S.smooth_l1(d, scalar=1.5), {"data": xa})
case("gemm2", S.linalg.gemm2(a, bb, transpose_b=True, alpha=0.5), {"a": normal(2, 3, 4), "b": normal(2, 5, 4)},
     tol=1e-4)
case("amp_cast", S.Cast(S.amp_cast(d, dtype="float16"), dtype="float32"), {"data": xa}, tol=1e-3)
theta = np.array([[0.9, 0.1, 0.05, -0.1, 1.1, -0.05], [1.2, 0, 0.1, 0, 0.8, 0.2]], np.float32)
case("grid_affine_sampler", S.BilinearSampler(d, S.GridGenerator(S.var("theta"), transform_type="affine",
                                                                  target_shape=(5, 6))),
     {"data": feat8, "theta": theta}, tol=1e-4)
case("grid_warp_sampler", S.BilinearSampler(d, S.GridGenerator(S.var("flow"), transform_type="warp")),
     {"data": feat8, "flow": normal(2, 2, 8, 8)}, tol=1e-4)
case("spatial_transformer", S.SpatialTransformer(d, S.var("loc"), target_shape=(6, 5), transform_type="affine",
                                                 sampler_type="bilinear"),
     {"data": feat8, "loc": theta}, tol=1e-4)
seq = normal(4, 2, 3)
lens = np.array([2, 4], np.float32)
case("sequence_mask", S.SequenceMask(d, S.var("len"), use_sequence_length=True, value=-1.0),
     {"data": seq, "len": lens})
case("sequence_last", S.SequenceLast(d, S.var("len"), use_sequence_length=True), {"data": seq, "len": lens})
case("sequence_last_plain", S.SequenceLast(d), {"data": seq})
case("sequence_reverse", S.SequenceReverse(d, S.var("len"), use_sequence_length=True), {"data": seq, "len": lens})
case("sequence_reverse_plain", S.SequenceReverse(d), {"data": seq})


# ---- detection, more variants
cls2 = RNG.random((2, 4, n_anchor)).astype(np.float32)
cls2 = cls2 / cls2.sum(axis=1, keepdims=True)
case("multibox_detection_batch2_force", S.contrib.MultiBoxDetection(S.var("cls"), S.var("loc"), anchors_sym,
                                                                    threshold=0.25, nms_threshold=0.3,
                                                                    force_suppress=True, clip=False),
     {"cls": cls2, "loc": normal(2, n_anchor * 4, scale=0.3), "feat": feat}, tol=1e-4)
nms_ids = nms_in.copy()
nms_ids[:, ::5, 0] = -1
case("box_nms_topk", S.contrib.box_nms(d, overlap_thresh=0.3, topk=5, coord_start=2, score_index=1, id_index=0),
     {"data": nms_ids})
case("box_nms_background", S.contrib.box_nms(d, overlap_thresh=0.4, coord_start=2, score_index=1, id_index=0,
                                             background_id=1, valid_thresh=0.1), {"data": nms_ids})
centers = np.concatenate([RNG.random((1, 10, 2)), RNG.random((1, 10, 2)) * 0.4 + 0.05, RNG.random((1, 10, 1))],
                         axis=2).astype(np.float32)   # (cx, cy, w, h, score)
case("box_nms_center", S.contrib.box_nms(d, overlap_thresh=0.3, coord_start=0, score_index=4, id_index=-1,
                                         in_format="center", out_format="corner"), {"data": centers})
case("box_nms_to_center", S.contrib.box_nms(d, overlap_thresh=0.3, coord_start=2, score_index=1, id_index=0,
                                            out_format="center"), {"data": nms_in})
case("box_decode_center", S.contrib.box_decode(d, S.var("anchors"), std0=0.1, std1=0.1, std2=0.2, std3=0.2,
                                               clip=0.5, format="center"),
     {"data": normal(2, 10, 4), "anchors": RNG.random((1, 10, 4)).astype(np.float32) * 0.5 + 0.1})
corner_anchors = np.sort(RNG.random((1, 10, 2, 2)).astype(np.float32), axis=2).transpose(0, 1, 3, 2).reshape(1, 10, 4)
case("box_decode_corner", S.contrib.box_decode(d, S.var("anchors"), format="corner"),
     {"data": normal(2, 10, 4, scale=0.3), "anchors": corner_anchors})
case("deformable_conv", S.contrib.DeformableConvolution(d, S.var("offset"), S.var("w"), S.var("b"), kernel=(3, 3),
                                                        num_filter=4, pad=(1, 1), num_deformable_group=2),
     {"data": normal(1, 4, 6, 6), "offset": normal(1, 2 * 2 * 9, 6, 6, scale=0.7)},
     {"w": normal(4, 4, 3, 3), "b": normal(4)}, tol=1e-4)
case("modulated_deformable_conv", S.contrib.ModulatedDeformableConvolution(
    d, S.var("offset"), S.var("mask"), S.var("w"), kernel=(3, 3), num_filter=3, stride=(2, 2), no_bias=True),
     {"data": normal(1, 2, 7, 7), "offset": normal(1, 18, 3, 3, scale=0.7),
      "mask": RNG.random((1, 9, 3, 3)).astype(np.float32)}, {"w": normal(3, 2, 3, 3)}, tol=1e-4)
case("psroi_pooling", S.contrib.PSROIPooling(d, S.var("rois"), spatial_scale=0.5, output_dim=2, pooled_size=3),
     {"data": normal(2, 18, 8, 8), "rois": rois}, tol=1e-5)


A = 12
rpn_h, rpn_w = 6, 8
rpn_logits = normal(1, 2, A, rpn_h, rpn_w)
rpn_prob = (np.exp(rpn_logits) / np.exp(rpn_logits).sum(axis=1, keepdims=True)).reshape(1, 2 * A, rpn_h, rpn_w)
case("proposal", S.contrib.Proposal(S.var("cls"), S.var("bbox"), S.var("im_info"), rpn_pre_nms_top_n=200,
                                    rpn_post_nms_top_n=20, threshold=0.7, rpn_min_size=8, feature_stride=16,
                                    scales=(2, 4, 8, 16), ratios=(0.5, 1, 2), output_score=True),
     {"cls": rpn_prob.astype(np.float32), "bbox": normal(1, 4 * A, rpn_h, rpn_w, scale=0.2),
      "im_info": np.array([[96, 128, 1.0]], np.float32)}, tol=1e-4)
rpn_logits2 = normal(2, 2, A, rpn_h, rpn_w)
rpn_prob2 = (np.exp(rpn_logits2) / np.exp(rpn_logits2).sum(axis=1, keepdims=True)).reshape(2, 2 * A, rpn_h, rpn_w)
case("multi_proposal", S.contrib.MultiProposal(S.var("cls"), S.var("bbox"), S.var("im_info"), rpn_pre_nms_top_n=100,
                                               rpn_post_nms_top_n=30, threshold=0.6, rpn_min_size=4,
                                               feature_stride=16, scales=(2, 4, 8), ratios=(0.5, 1, 2, 3)),
     {"cls": rpn_prob2.astype(np.float32), "bbox": normal(2, 4 * A, rpn_h, rpn_w, scale=0.2),
      "im_info": np.array([[96, 128, 1.0], [96, 128, 1.0]], np.float32)}, tol=1e-4)
case("proposal_few", S.contrib.Proposal(S.var("cls"), S.var("bbox"), S.var("im_info"), rpn_pre_nms_top_n=50,
                                        rpn_post_nms_top_n=40, threshold=0.5, rpn_min_size=4, feature_stride=16,
                                        scales=(2, 4, 8, 16), ratios=(0.5, 1, 2)),
     {"cls": rpn_prob.astype(np.float32), "bbox": normal(1, 4 * A, rpn_h, rpn_w, scale=0.2),
      "im_info": np.array([[96, 128, 1.0]], np.float32)}, tol=1e-4)


# ---- pass-through and loss layers at inference
case("identity_family", S.BlockGrad(d) + S.stop_gradient(d) + S.identity(d) + S._internal._copy(d), {"data": xa})
case("linear_regression_output", S.LinearRegressionOutput(d, name="lro"), {"data": xa})
case("logistic_regression_output", S.LogisticRegressionOutput(d, name="lgo"), {"data": xa})
case("mae_regression_output", S.MAERegressionOutput(d, name="mae"), {"data": xa})
case("make_loss", S.MakeLoss(d * 2), {"data": xa})
case("rmod_scalar", S._internal._rmod_scalar(d, scalar=2.5), {"data": np.abs(xa) + 0.3})
case("sum_axis", S.sum_axis(d, axis=1), {"data": x5})
case("flip", S.flip(d, axis=2), {"data": x5})


case("deformable_psroi_pooling", S.contrib.DeformablePSROIPooling(d, S.var("rois"), S.var("trans"), spatial_scale=0.5,
                                                                 output_dim=2, group_size=3, pooled_size=3,
                                                                 part_size=3, sample_per_part=2, trans_std=0.1),
     {"data": normal(2, 18, 8, 8), "rois": rois, "trans": normal(3, 4, 3, 3, scale=0.5)}, tol=1e-4)
case("deformable_psroi_pooling_notrans", S.contrib.DeformablePSROIPooling(d, S.var("rois"), spatial_scale=0.5,
                                                                         output_dim=2, group_size=3, pooled_size=3,
                                                                         sample_per_part=2, no_trans=True),
     {"data": normal(2, 18, 8, 8), "rois": rois}, tol=1e-4)


case("conv_nhwc", S.Convolution(d, S.var("w"), S.var("b"), kernel=(2, 3), num_filter=4, pad=(1, 0), stride=(1, 2),
                                layout="NHWC"), {"data": normal(2, 7, 9, 3)}, {"w": normal(4, 2, 3, 3), "b": normal(4)},
     # mxnet 1.9.1's CPU kernels refuse NHWC convolutions; the reference is the documented equivalent:
     # NCHW convolution of the transposed data and OHWI -> OIHW filters
     reference=S.transpose(S.Convolution(S.transpose(d, axes=(0, 3, 1, 2)), S.transpose(S.var("w"), axes=(0, 3, 1, 2)),
                                         S.var("b"), kernel=(2, 3), num_filter=4, pad=(1, 0), stride=(1, 2)),
                           axes=(0, 2, 3, 1)))
case("pool_nhwc", S.Pooling(d, kernel=(3, 2), stride=(2, 2), pool_type="avg", layout="NHWC"),
     {"data": normal(2, 7, 9, 3)})

# ---- recurrent
T, N, I, H = 5, 2, 4, 3


def rnn_case(name, mode, layers, bidir, gates):
    dirs = 2 if bidir else 1
    size = 0
    for layer in range(layers):
        inp = I if layer == 0 else H * dirs
        size += dirs * (gates * H * inp + gates * H * H + 2 * gates * H)
    args = {"params": normal(size, scale=0.4)}
    inputs = {"data": normal(T, N, I), "state": normal(layers * dirs, N, H, scale=0.5)}
    if mode == "lstm":
        inputs["state_cell"] = normal(layers * dirs, N, H, scale=0.5)
        sym = S.RNN(d, S.var("params"), S.var("state"), S.var("state_cell"), state_size=H, num_layers=layers,
                    mode=mode, bidirectional=bidir, state_outputs=True)
    else:
        sym = S.RNN(d, S.var("params"), S.var("state"), state_size=H, num_layers=layers, mode=mode,
                    bidirectional=bidir, state_outputs=True)
    case(name, sym, inputs, args, tol=1e-4)


rnn_case("lstm", "lstm", 1, False, 4)
rnn_case("lstm_bi2", "lstm", 2, True, 4)
rnn_case("gru", "gru", 1, False, 3)
rnn_case("gru_bi", "gru", 1, True, 3)
rnn_case("rnn_tanh", "rnn_tanh", 1, False, 1)


def main(out):
    manifest = []
    for name, sym, inputs, args, aux, tol in CASES:
        print(name, flush=True)
        arg_names = sym.list_arguments()
        if any(v is None for v in args.values()):   # parameter shapes from mxnet's inference
            shapes, _, _ = sym.infer_shape_partial(**{n: v.shape for n, v in inputs.items()})
            args = {k: (normal(*shapes[arg_names.index(k)]) if v is None else v) for k, v in args.items()}
        feed = {k: mx.nd.array(v) for k, v in {**inputs, **args}.items()}
        for k in arg_names:   # loss-layer labels: zeros (inference ignores them)
            if k not in feed:
                shapes, _, _ = sym.infer_shape_partial(**{n: v.shape for n, v in inputs.items()})
                feed[k] = mx.nd.zeros(shapes[arg_names.index(k)])
        run = REFERENCE.get(name, sym)
        exe = run.bind(mx.cpu(), args={k: feed[k] for k in arg_names},
                       aux_states={k: mx.nd.array(aux[k]) for k in sym.list_auxiliary_states()}, grad_req="null")
        outs = [o.asnumpy() for o in exe.forward(is_train=False)]
        sym.save(f"{out}/{name}-symbol.json")
        saved = {f"arg:{k}": mx.nd.array(v) for k, v in args.items()}
        saved.update({f"aux:{k}": mx.nd.array(v) for k, v in aux.items()})
        mx.nd.save(f"{out}/{name}-0000.params", saved)
        io = {f"in:{k}": v for k, v in inputs.items()}
        io.update({f"out:{i}": o for i, o in enumerate(outs)})
        np.savez(f"{out}/{name}-io.npz", **io)
        manifest.append({"name": name, "op": sym.get_internals()[len(sym.get_internals().list_outputs()) - 1].name,
                         "inputs": [[k, list(v.shape)] for k, v in inputs.items()],
                         "outputs": sym.list_outputs(), "tol": tol})
    with open(f"{out}/manifest.json", "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
