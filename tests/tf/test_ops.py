"""Per-op tests: tiny tf.functions frozen to GraphDef, converted by mo, OpenVINO vs TensorFlow (f32)."""
from __future__ import annotations

import numpy as np
import pytest

from .util import check_tf_fn, tf

RNG = np.random.default_rng(0)


def rnd(*shape, dtype=np.float32) -> np.ndarray:
    return RNG.standard_normal(shape).astype(dtype)


def const(*shape) -> tf.Tensor:
    return tf.constant(rnd(*shape))


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("strides,dil", [(1, 1), (2, 1), (1, 2)])
def test_conv2d(tmp_path, padding, strides, dil):
    w = const(3, 3, 4, 6)
    b = const(6)
    check_tf_fn(lambda x: tf.nn.bias_add(tf.nn.conv2d(x, w, strides, padding, dilations=dil), b),
                [rnd(1, 9, 10, 4)], tmp_path, atol=1e-4)


def test_conv2d_explicit_pads(tmp_path):
    w = const(3, 2, 3, 5)
    check_tf_fn(lambda x: tf.nn.conv2d(x, w, 1, [[0, 0], [1, 2], [0, 1], [0, 0]]), [rnd(2, 7, 6, 3)], tmp_path,
                atol=1e-4)


def test_grouped_conv2d(tmp_path):
    w = const(3, 3, 2, 6)   # input 4 channels -> 2 groups
    check_tf_fn(lambda x: tf.nn.conv2d(x, w, 1, "SAME"), [rnd(1, 8, 8, 4)], tmp_path, atol=1e-4)


@pytest.mark.parametrize("padding,strides", [("SAME", 1), ("VALID", 2), ("SAME", 2)])
def test_depthwise_conv(tmp_path, padding, strides):
    w = const(3, 3, 4, 2)
    check_tf_fn(lambda x: tf.nn.depthwise_conv2d(x, w, [1, strides, strides, 1], padding), [rnd(1, 9, 9, 4)],
                tmp_path, atol=1e-4)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_pool(tmp_path, kind, padding):
    f = tf.nn.max_pool2d if kind == "max" else tf.nn.avg_pool2d
    check_tf_fn(lambda x: f(x, 3, 2, padding), [rnd(1, 10, 9, 3)], tmp_path)


def test_fused_batch_norm(tmp_path):
    scale, offset, mean, var = const(5), const(5), const(5), tf.constant(np.abs(rnd(5)) + 0.5)

    def f(x):
        return tf.compat.v1.nn.fused_batch_norm(x, scale, offset, mean, var, epsilon=1e-3, is_training=False)[0]
    check_tf_fn(f, [rnd(2, 4, 4, 5)], tmp_path, atol=1e-5)


def test_conv_bn_relu6_chain_transposes_cancel(tmp_path):
    """Conv -> BN -> Relu6 -> Pad -> DepthwiseConv -> Mean: only the input Transpose is left."""
    import mo
    w1, w2 = const(3, 3, 3, 8), const(3, 3, 8, 1)
    s, o = const(8), const(8)

    def f(x):
        y = tf.nn.conv2d(x, w1, 1, "SAME")
        y = tf.nn.relu6(y * s + o)
        y = tf.pad(y, [[0, 0], [1, 1], [1, 1], [0, 0]])
        y = tf.nn.depthwise_conv2d(y, w2, [1, 2, 2, 1], "VALID")
        return tf.reduce_mean(tf.nn.relu(y), axis=[1, 2])
    check_tf_fn(f, [rnd(1, 12, 12, 3)], tmp_path, atol=1e-4)
    g = mo.convert(tmp_path / "model.pb")
    assert g.op_counts().get("Transpose", 0) == 1


def test_residual_add_concat(tmp_path):
    import mo
    w1, w2 = const(1, 1, 4, 4), const(3, 3, 4, 4)

    def f(x):
        a = tf.nn.relu(tf.nn.conv2d(x, w1, 1, "SAME"))
        b = tf.nn.conv2d(x, w2, 1, "SAME")
        c = tf.concat([a + b, a * b], axis=-1)
        return tf.nn.max_pool2d(c, 2, 2, "VALID")
    check_tf_fn(f, [rnd(1, 6, 6, 4)], tmp_path, atol=1e-4)
    g = mo.convert(tmp_path / "model.pb")
    assert g.op_counts().get("Transpose", 0) == 2    # interface: one in, one out


@pytest.mark.parametrize("op", ["relu", "relu6", "sigmoid", "tanh", "elu", "selu", "softplus", "leaky_relu", "swish",
                                "exp", "abs", "neg", "square", "rsqrt", "sqrt", "floor", "gelu"])
def test_unary(tmp_path, op):
    fns = {
        "relu": tf.nn.relu, "relu6": tf.nn.relu6, "sigmoid": tf.sigmoid, "tanh": tf.tanh, "elu": tf.nn.elu,
        "selu": tf.nn.selu, "softplus": tf.nn.softplus, "leaky_relu": lambda x: tf.nn.leaky_relu(x, 0.1),
        "swish": tf.nn.silu, "exp": tf.exp, "abs": tf.abs, "neg": tf.negative, "square": tf.square,
        "rsqrt": lambda x: tf.math.rsqrt(tf.abs(x) + 0.1), "sqrt": lambda x: tf.sqrt(tf.abs(x)),
        "floor": tf.floor, "gelu": tf.nn.gelu,
    }
    check_tf_fn(fns[op], [rnd(2, 3, 4)], tmp_path, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "max", "min", "pow", "sqdiff", "floordiv", "floormod"])
def test_binary(tmp_path, op):
    fns = {"add": tf.add, "sub": tf.subtract, "mul": tf.multiply, "div": tf.divide, "max": tf.maximum,
           "min": tf.minimum, "pow": lambda a, b: tf.pow(tf.abs(a) + 0.5, b), "sqdiff": tf.math.squared_difference,
           "floordiv": tf.math.floordiv, "floormod": tf.math.floormod}
    check_tf_fn(fns[op], [rnd(2, 3, 4), rnd(3, 1) + 3.0], tmp_path, rtol=1e-5, atol=1e-5)


def test_compare_select(tmp_path):
    check_tf_fn(lambda a, b: tf.where(a > b, a, b * 2.0), [rnd(3, 4), rnd(3, 4)], tmp_path)


def test_matmul_softmax(tmp_path):
    w = const(6, 5)
    b = const(5)
    check_tf_fn(lambda x: tf.nn.softmax(tf.nn.bias_add(tf.matmul(x, w), b)), [rnd(3, 6)], tmp_path)
    check_tf_fn(lambda x, y: tf.matmul(x, y, transpose_b=True), [rnd(2, 3, 4), rnd(2, 5, 4)], tmp_path, atol=1e-5)


@pytest.mark.parametrize("red", ["mean", "sum", "max", "min", "prod"])
def test_reduce(tmp_path, red):
    f = {"mean": tf.reduce_mean, "sum": tf.reduce_sum, "max": tf.reduce_max, "min": tf.reduce_min,
         "prod": tf.reduce_prod}[red]
    check_tf_fn(lambda x: (f(x, axis=[1, 2]), f(x, axis=-1, keepdims=True)), [rnd(2, 3, 4, 5)], tmp_path)


def test_shape_ops(tmp_path):
    def f(x):
        s = tf.shape(x)
        y = tf.reshape(x, tf.stack([s[0], -1]))
        z = tf.expand_dims(tf.squeeze(x[:, :1], axis=1), 0)
        return y, z, tf.transpose(x, [2, 0, 1]), tf.tile(x, [1, 2, 1])
    check_tf_fn(f, [rnd(2, 3, 4)], tmp_path)


def test_reshape_dynamic_batch(tmp_path):
    """The batch dim is dynamic: Shape -> StridedSlice -> Pack feeds Reshape at run time."""
    import mo

    def f(x):
        s = tf.shape(x)
        return tf.reshape(x, tf.stack([s[0], s[1] * s[2]]))
    from .util import freeze
    gd, outs, ins = freeze(f, [tf.TensorSpec([None, 3, 4], tf.float32)])
    pb = tmp_path / "dyn.pb"
    pb.write_bytes(gd.SerializeToString())
    g = mo.convert(pb)
    assert g.inputs[0].shape == (-1, 3, 4)
    xml = tmp_path / "dyn.xml"
    mo.save(g, xml)
    from .util import ov_infer
    x = rnd(5, 3, 4)
    np.testing.assert_array_equal(ov_infer(xml, {"x": x})[outs[0]], x.reshape(5, 12))


@pytest.mark.parametrize("idx", ["basic", "shrink", "newaxis", "ellipsis", "neg_stride"])
def test_strided_slice(tmp_path, idx):
    f = {"basic": lambda x: x[1:, ::2, 1:3], "shrink": lambda x: x[:, 1, -2:], "newaxis": lambda x: x[None, :, 0],
         "ellipsis": lambda x: x[..., 1:], "neg_stride": lambda x: x[::-1, :, ::-2]}[idx]
    check_tf_fn(f, [rnd(3, 4, 5)], tmp_path, exact=True)


def test_slice_concat_pack_unpack_split(tmp_path):
    def f(x):
        a = tf.slice(x, [0, 1, 0], [-1, 2, 3])
        u = tf.unstack(x, axis=1)
        s1, s2 = tf.split(x, 2, axis=2)
        v1, v2 = tf.split(x, [1, 3], axis=2)
        return tf.concat([a, a], axis=-1), tf.stack(u, axis=-1), s1 - s2, v2, v1
    check_tf_fn(f, [rnd(2, 4, 4)], tmp_path, exact=True)


@pytest.mark.parametrize("mode", ["CONSTANT", "REFLECT", "SYMMETRIC"])
def test_pad(tmp_path, mode):
    check_tf_fn(lambda x: tf.pad(x, [[0, 1], [2, 1], [1, 0]], mode=mode, constant_values=0.0 if mode != "CONSTANT"
                                 else 1.5), [rnd(2, 3, 4)], tmp_path, exact=True)


def test_gather_cast_range_fill(tmp_path):
    def f(x, i):
        r = tf.range(0, 4, 1)
        return (tf.gather(x, i, axis=1), tf.cast(x * 3.0, tf.int32), tf.cast(r, tf.float32) + x[0, :4],
                tf.fill([2, 3], 7.0), tf.argmax(x, axis=1), tf.zeros_like(x) + 1.0)
    check_tf_fn(f, [rnd(3, 5), np.array([4, 0, 2], np.int32)], tmp_path)


def test_resize(tmp_path):
    check_tf_fn(lambda x: (tf.compat.v1.image.resize_bilinear(x, [8, 6], half_pixel_centers=True),
                           tf.compat.v1.image.resize_nearest_neighbor(x, [8, 6])), [rnd(1, 4, 3, 2)], tmp_path,
                atol=1e-5)


def test_pbtxt_and_names(tmp_path):
    """A text GraphDef converts like the binary one; inputs/outputs carry `name` and `name:0`."""
    import mo
    from .util import freeze, ov_infer
    gd, outs, ins = freeze(lambda x: tf.nn.relu(x) * 2.0, [tf.TensorSpec([2, 3], tf.float32)])
    txt = tmp_path / "m.pbtxt"
    tf.io.write_graph(gd, str(tmp_path), "m.pbtxt", as_text=True)
    g = mo.convert(txt)
    assert set(g.inputs[0].names) >= {"x", "x:0"}
    out_name = outs[0].split(":")[0]
    assert set(g.outputs[0].names) >= {out_name, out_name + ":0"}
    xml = tmp_path / "m.xml"
    mo.save(g, xml)
    x = rnd(2, 3)
    np.testing.assert_allclose(ov_infer(xml, {"x:0": x})[out_name], np.maximum(x, 0) * 2)
    # the same text under a .pb name, told by --input_model_is_text
    other = tmp_path / "text.pb"
    other.write_bytes(txt.read_bytes())
    assert len(mo.convert(other, input_model_is_text=True).nodes) == len(g.nodes)
