"""More TF op converters, one test per op or small group: OpenVINO vs TensorFlow (f32)."""
from __future__ import annotations

import numpy as np
import pytest

from .util import check_tf_fn, tf

RNG = np.random.default_rng(1)


def rnd(*shape, dtype=np.float32) -> np.ndarray:
    return RNG.standard_normal(shape).astype(dtype)


def const(*shape) -> tf.Tensor:
    return tf.constant(rnd(*shape))


# ----------------------------------------------------------------------------- spatial
@pytest.mark.parametrize("padding,stride,in_hw,out_hw", [("SAME", 2, 4, 8), ("SAME", 2, 4, 7), ("VALID", 2, 3, 8),
                                                         ("VALID", 1, 5, 7), ("SAME", 1, 5, 5)])
def test_conv2d_transpose(tmp_path, padding, stride, in_hw, out_hw):
    w = const(3, 3, 5, 4)   # [kh, kw, out channels, in channels]
    check_tf_fn(lambda x: tf.nn.conv2d_transpose(x, w, [2, out_hw, out_hw, 5], stride, padding),
                [rnd(2, in_hw, in_hw, 4)], tmp_path, atol=1e-4)


def test_conv3d_and_transpose(tmp_path):
    w = const(2, 3, 3, 3, 4)
    wt = const(3, 3, 3, 2, 4)

    def f(x):
        y = tf.nn.conv3d(x, w, [1, 1, 2, 2, 1], "SAME")
        return tf.nn.conv3d_transpose(y, wt, [1, 5, 8, 8, 2], [1, 1, 2, 2, 1], "SAME")
    check_tf_fn(f, [rnd(1, 5, 8, 8, 3)], tmp_path, atol=1e-4)


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool3d(tmp_path, kind):
    f = tf.nn.max_pool3d if kind == "max" else tf.nn.avg_pool3d
    check_tf_fn(lambda x: f(x, 2, 2, "SAME"), [rnd(1, 5, 6, 7, 3)], tmp_path)


def test_depth_space(tmp_path):
    check_tf_fn(lambda x: (tf.nn.depth_to_space(x, 2), tf.nn.space_to_depth(x, 2)), [rnd(2, 4, 6, 8)], tmp_path)


def test_space_batch_nd(tmp_path):
    """SpaceToBatchND/BatchToSpaceND, as atrous convolution emits them."""
    def f(x):
        y = tf.space_to_batch_nd(x, [2, 3], [[1, 1], [0, 3]])
        return y, tf.batch_to_space(y * 2.0, [2, 3], [[1, 1], [0, 3]])
    check_tf_fn(f, [rnd(2, 6, 6, 3)], tmp_path)


def test_dilated_conv(tmp_path):
    w = const(3, 3, 3, 4)
    check_tf_fn(lambda x: tf.nn.atrous_conv2d(x, w, 2, "SAME"), [rnd(1, 9, 9, 3)], tmp_path, atol=1e-4)


@pytest.mark.parametrize("align,half", [(False, False), (True, False), (False, True)])
@pytest.mark.parametrize("method", ["bilinear", "nearest"])
def test_resize(tmp_path, align, half, method):
    def f(x):
        if method == "bilinear":
            return tf.compat.v1.image.resize_bilinear(x, [7, 11], align_corners=align, half_pixel_centers=half)
        return tf.compat.v1.image.resize_nearest_neighbor(x, [7, 11], align_corners=align, half_pixel_centers=half)
    check_tf_fn(f, [rnd(1, 4, 5, 3)], tmp_path, atol=1e-5)


@pytest.mark.parametrize("version", [3, 4, 5])
def test_non_max_suppression(tmp_path, version):
    n = 20
    xy = RNG.uniform(0, 10, (n, 2)).astype(np.float32)
    boxes = np.concatenate([xy, xy + RNG.uniform(1, 4, (n, 2)).astype(np.float32)], 1)
    scores = RNG.permutation(n).astype(np.float32) / n

    def f(b, s):
        if version == 3:
            return tf.image.non_max_suppression(b, s, 8, 0.3, 0.1)
        if version == 4:
            return tf.raw_ops.NonMaxSuppressionV4(boxes=b, scores=s, max_output_size=8, iou_threshold=0.3,
                                                  score_threshold=0.1, pad_to_max_output_size=True)
        return tf.raw_ops.NonMaxSuppressionV5(boxes=b, scores=s, max_output_size=8, iou_threshold=0.3,
                                              score_threshold=0.1, soft_nms_sigma=0.0, pad_to_max_output_size=True)
    check_tf_fn(f, [boxes, scores], tmp_path)


# ----------------------------------------------------------------------------- indexing / ordering
def test_topk_argmax(tmp_path):
    x = rnd(3, 10)
    x[0, 3] = x[0, 7] = 5.0   # a tie: the lower index first
    check_tf_fn(lambda a: (*tf.math.top_k(a, 4), tf.argmax(a, 1), tf.argmin(a, 0, output_type=tf.int32)), [x],
                tmp_path)


def test_one_hot(tmp_path):
    check_tf_fn(lambda i: (tf.one_hot(i, 5, 2.0, -1.0), tf.one_hot(i, 4, axis=0)),
                [np.array([[0, 3], [-1, 4]], np.int32)], tmp_path)


@pytest.mark.parametrize("exclusive,reverse", [(False, False), (True, True)])
def test_cumsum(tmp_path, exclusive, reverse):
    check_tf_fn(lambda x: tf.cumsum(x, 1, exclusive=exclusive, reverse=reverse), [rnd(2, 5, 3)], tmp_path)


def test_reverse(tmp_path):
    check_tf_fn(lambda x: (tf.reverse(x, [1]), tf.reverse(x, [0, 2])), [rnd(2, 3, 4)], tmp_path)


def test_reverse_sequence(tmp_path):
    check_tf_fn(lambda x: tf.reverse_sequence(x, [1, 3, 4], seq_axis=1, batch_axis=0), [rnd(3, 4, 2)], tmp_path)


def test_gather_family(tmp_path):
    def f(x):
        return (tf.gather(x, [2, 0, 1], axis=1), tf.gather(x, [[0, 1], [1, 0]], axis=2, batch_dims=1),
                tf.gather_nd(x, [[0, 1], [1, 2]]))
    check_tf_fn(f, [rnd(2, 3, 4)], tmp_path)


def test_scatter_nd(tmp_path):
    check_tf_fn(lambda u: tf.scatter_nd([[1], [3], [1]], u, [5, 2]), [rnd(3, 2)], tmp_path)


def test_where_one_input(tmp_path):
    check_tf_fn(lambda x: tf.where(x > 0.3), [rnd(3, 4)], tmp_path)


def test_select_family(tmp_path):
    def f(x, y):
        return tf.where(x > y, x, y), tf.compat.v1.where(tf.constant([True, False]), x, y)
    check_tf_fn(f, [rnd(2, 3), rnd(2, 3)], tmp_path)


def test_matrix_band_part(tmp_path):
    check_tf_fn(lambda x: (tf.linalg.band_part(x, 1, 2), tf.linalg.band_part(x, -1, 0),
                           tf.linalg.band_part(x, 0, -1)), [rnd(2, 4, 5)], tmp_path)


def test_bucketize(tmp_path):
    check_tf_fn(lambda x: tf.raw_ops.Bucketize(input=x, boundaries=[-1.0, 0.0, 0.5]),
                [np.array([-2, -1, -0.5, 0, 0.4, 0.5, 3], np.float32)], tmp_path)


def test_split_unpack_pack(tmp_path):
    def f(x):
        a, b = tf.split(x, 2, axis=1)
        c, d, e = tf.split(x, [1, -1, 1], axis=2)
        u = tf.unstack(x, axis=2)
        return a - b, c + e, d, tf.stack(u[::-1], axis=-1)
    check_tf_fn(f, [rnd(2, 4, 4)], tmp_path)


def test_fill_range_tile_shape_ops(tmp_path):
    def f(x):
        n = tf.shape(x)[0]
        r = tf.cast(tf.range(n * 2, delta=1), tf.float32)
        return (tf.fill([2, 3], 1.5), tf.tile(x, [2, 1]), r, tf.size(x), tf.rank(x), tf.expand_dims(x, -1),
                tf.zeros_like(x), tf.ones_like(x), tf.cast(x * 3, tf.int32))
    check_tf_fn(f, [rnd(3, 2)], tmp_path)


def test_mirror_pad(tmp_path):
    check_tf_fn(lambda x: (tf.pad(x, [[1, 1], [2, 0]], "REFLECT"), tf.pad(x, [[0, 2], [1, 1]], "SYMMETRIC")),
                [rnd(3, 4)], tmp_path)


# ----------------------------------------------------------------------------- math
def test_einsum_batch_matmul(tmp_path):
    w = const(4, 5)

    def f(a, b):
        return (tf.einsum("bij,jk->bik", a, w), tf.linalg.matmul(a, b, adjoint_a=True, adjoint_b=True),
                tf.einsum("bij,bkj->bik", a, a * 2.0))
    check_tf_fn(f, [rnd(2, 3, 4), rnd(2, 5, 3)], tmp_path, atol=1e-5)


def test_activations(tmp_path):
    def f(x):
        return (tf.nn.elu(x), tf.nn.selu(x), tf.nn.softplus(x), tf.nn.softsign(x), tf.nn.leaky_relu(x, 0.1),
                tf.math.erf(x), tf.nn.gelu(x), tf.nn.gelu(x, approximate=True), tf.nn.relu6(x * 4),
                tf.nn.softmax(x), tf.nn.log_softmax(x))
    check_tf_fn(f, [rnd(2, 8)], tmp_path, atol=1e-5)


def test_integer_division(tmp_path):
    def f(a, b):
        return (tf.math.floordiv(a, b), tf.math.floormod(a, b), tf.raw_ops.Mod(x=a, y=b), tf.raw_ops.Div(x=a, y=b),
                tf.truncatediv(a, b), tf.raw_ops.TruncateMod(x=a, y=b))
    check_tf_fn(f, [np.array([7, -7, 7, -7, 5], np.int32), np.array([2, 2, -2, -3, 5], np.int32)], tmp_path)


def test_float_math(tmp_path):
    def f(x, y):
        return (tf.math.floordiv(x, y), tf.math.floormod(x, y), tf.square(x), tf.math.squared_difference(x, y),
                tf.math.rsqrt(tf.abs(x) + 1), tf.math.reciprocal(y), tf.round(x * 2), tf.math.rint(x * 2),
                tf.sign(x), tf.math.divide_no_nan(x, y * tf.cast(y > 0, tf.float32)), tf.add_n([x, y, x]))
    x = rnd(10)
    x[:3] = [0.25, 0.75, -1.25]   # halves round to even
    check_tf_fn(f, [x, rnd(10)], tmp_path, atol=1e-5)


def test_special_values(tmp_path):
    x = np.array([1.0, np.inf, -np.inf, np.nan, 0.0], np.float32)
    check_tf_fn(lambda a: (tf.math.is_finite(a), tf.math.is_nan(a), tf.math.is_inf(a)), [x], tmp_path)


def test_compare_logic(tmp_path):
    def f(x, y):
        a, b = x > y, x <= 0.0
        return (tf.equal(x, y), tf.not_equal(x, y), tf.less(x, y), tf.greater_equal(x, y), tf.logical_and(a, b),
                tf.logical_or(a, b), tf.logical_not(a), tf.math.logical_xor(a, b))
    x = rnd(6)
    y = x.copy()
    y[::2] = rnd(3)
    check_tf_fn(f, [x, y], tmp_path)


def test_reductions(tmp_path):
    def f(x):
        b = x > 0
        return (tf.reduce_min(x, 1), tf.reduce_max(x, [0, 2], keepdims=True), tf.reduce_prod(x, 2),
                tf.reduce_all(b, 1), tf.reduce_any(b, [0, 1]), tf.reduce_sum(x, -1), tf.reduce_mean(x))
    check_tf_fn(f, [rnd(2, 3, 4)], tmp_path, atol=1e-5)


def test_l2loss_lrn_identity_ops(tmp_path):
    def f(x):
        y = tf.stop_gradient(tf.debugging.check_numerics(x, "bad"))
        return tf.nn.l2_loss(y), tf.nn.local_response_normalization(y, 2, 1.0, 0.5, 0.75)
    check_tf_fn(f, [rnd(1, 3, 3, 6)], tmp_path, atol=1e-5)


def test_functional_if_is_a_clear_error(tmp_path):
    from mo.errors import MoError

    @tf.function
    def f(x):
        return tf.cond(tf.reduce_sum(x) > 0, lambda: x * 2.0, lambda: x - 1.0)
    with pytest.raises(MoError, match="not supported yet"):
        check_tf_fn(f, [rnd(3)], tmp_path)


# ----------------------------------------------------------------------------- more ops
def test_extract_image_patches(tmp_path):
    def f(x):
        return (tf.image.extract_patches(x, [1, 3, 3, 1], [1, 2, 2, 1], [1, 1, 1, 1], "SAME"),
                tf.image.extract_patches(x, [1, 2, 3, 1], [1, 1, 2, 1], [1, 2, 1, 1], "VALID"))
    check_tf_fn(f, [rnd(1, 7, 8, 3)], tmp_path)


def test_fake_quant(tmp_path):
    def f(x):
        return (tf.quantization.fake_quant_with_min_max_args(x, -1.0, 1.5, num_bits=8),
                tf.quantization.fake_quant_with_min_max_vars(x, tf.constant(-0.7), tf.constant(1.3), num_bits=4,
                                                             narrow_range=True),
                tf.quantization.fake_quant_with_min_max_vars_per_channel(x, tf.constant([-1.0, -0.5, -2.0]),
                                                                         tf.constant([1.0, 2.0, 0.5])))
    check_tf_fn(f, [rnd(2, 4, 3) * 2], tmp_path, atol=1e-5)


@pytest.mark.parametrize("align", [False, True])
def test_resize_bicubic(tmp_path, align):
    """TF evaluates the cubic kernel from a 1024-entry table: agreement to ~2e-3 on N(0, 1) data."""
    check_tf_fn(lambda x: tf.compat.v1.image.resize_bicubic(x, [7, 9], align_corners=align),
                [rnd(1, 4, 5, 2)], tmp_path, atol=3e-3)


def test_resize_bicubic_half_pixel_is_a_clear_error(tmp_path):
    from mo.errors import MoError
    with pytest.raises(MoError, match="half_pixel_centers"):
        check_tf_fn(lambda x: tf.compat.v1.image.resize_bicubic(x, [7, 9], half_pixel_centers=True),
                    [rnd(1, 4, 5, 2)], tmp_path)


def test_unique_segments(tmp_path):
    def f(x, ids):
        y, idx = tf.unique(ids)
        return y, idx, tf.math.unsorted_segment_sum(x, ids, 5), tf.math.segment_sum(x, tf.sort(ids))
    check_tf_fn(f, [rnd(6, 2), np.array([3, 1, 3, 0, 1, 4], np.int32)], tmp_path)


def test_sparse_to_dense(tmp_path):
    def f(v):
        return tf.raw_ops.SparseToDense(sparse_indices=[[0, 2], [1, 1]], output_shape=[2, 3], sparse_values=v,
                                        default_value=-1.0)
    check_tf_fn(f, [rnd(2)], tmp_path)


def test_roll_broadcast_args_bitwise(tmp_path):
    def f(x, a, b):
        s = tf.raw_ops.BroadcastArgs(s0=tf.shape(x)[1:], s1=tf.constant([4, 1]))
        return (tf.roll(x, [1, -2], [0, 2]), tf.roll(x, 5, 1), tf.zeros(s) + 1.0, tf.bitwise.bitwise_and(a, b),
                tf.bitwise.bitwise_or(a, b), tf.bitwise.bitwise_xor(a, b), tf.bitwise.invert(a),
                tf.bitwise.left_shift(a, 2), tf.bitwise.right_shift(b, 1))
    check_tf_fn(f, [rnd(3, 4, 5), np.array([1, 6, 12], np.int32), np.array([3, 5, 9], np.int32)], tmp_path)


def test_more_math(tmp_path):
    def f(x, y):
        return (tf.math.log1p(tf.abs(x)), tf.math.expm1(x), tf.math.atan2(y, x), tf.math.xlogy(x * 0, tf.abs(y)),
                tf.math.xlogy(x, tf.abs(y) + 1), tf.math.xdivy(x, y))
    x = rnd(12)
    y = rnd(12)
    x[:3] = [0.0, 0.0, -1.0]
    y[:3] = [1.0, -1.0, 0.0]
    check_tf_fn(f, [x, y], tmp_path, atol=1e-5)


@pytest.mark.parametrize("crop", [(3, 4), (1, 2)])
def test_crop_and_resize(tmp_path, crop):
    boxes = np.array([[0.1, 0.2, 0.8, 0.9], [0.5, 0.0, 0.2, 1.0], [-0.2, 0.3, 1.3, 0.6]], np.float32)

    def f(img, b):
        return tf.image.crop_and_resize(img, b, [1, 0, 1], crop, extrapolation_value=-2.0)
    check_tf_fn(f, [rnd(2, 6, 7, 3), boxes], tmp_path, atol=1e-5)


def test_tensor_scatter_permutation_linspace_contrast(tmp_path):
    def f(x, img):
        return (tf.tensor_scatter_nd_update(x, [[0], [2]], [[9.0, 9.0], [8.0, 8.0]]),
                tf.tensor_scatter_nd_add(x, [[1, 1], [1, 1]], [1.0, 2.0]),
                tf.tensor_scatter_nd_max(x, [[3]], [[0.0, 0.0]]),
                tf.math.invert_permutation(tf.constant([2, 0, 3, 1])) + tf.cast(tf.size(x), tf.int32) * 0,
                tf.linspace(x[0, 0], 4.0, 5), tf.image.adjust_contrast(img, 1.7),
                tf.compat.v1.Print(x, [x]) * 2.0)
    check_tf_fn(f, [rnd(4, 2), rnd(2, 3, 4, 3)], tmp_path, atol=1e-5)
