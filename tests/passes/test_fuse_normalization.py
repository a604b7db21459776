"""fuse_normalization: LayerNorm/MVN and L2-normalize patterns as exporters write them (PyTorch
LayerNorm and F.normalize before opset 17, Keras LayerNormalization, tf.nn.moments +
batch_normalization, tf.math.l2_normalize) must fire; near misses must not. Every converted model
runs in OpenVINO (f32) against onnxruntime or TensorFlow: rtol 1e-4, atol 1e-5 (the MVN kernel
accumulates mean and variance in another order than the decomposition)."""
from __future__ import annotations

import numpy as np
import pytest

from ..onnx.util import make_model
from .fusion_util import F, N, convert_onnx, convert_tf, report

RTOL, ATOL = 1e-4, 1e-5


def _x(shape):
    return np.random.default_rng(1).standard_normal(shape).astype(np.float32) * 3 + 1


def layer_norm(form="pow", var_axes=(-1,), shape=(2, 5, 16), axes=(-1,), affine=True, mean_out=False):
    """PyTorch's LayerNorm export before opset 17 (axes as attributes, opset 13), in several forms."""
    red = lambda i, o, ax: N("ReduceMean", [i], o, axes=list(ax), keepdims=1)  # noqa: E731
    nodes = [red("x", "mean", axes), N("Sub", ["x", "mean"], "d")]
    nodes.append({"mul": N("Mul", ["d", "d"], "sq"), "uncentered": N("Mul", ["x", "x"], "sq")}.get(
        form, N("Pow", ["d", "two"], "sq")))
    nodes.append(red("sq", "var", var_axes))
    if form in ("pow", "mul", "uncentered"):
        nodes += [N("Add", ["var", "eps"], "ve"), N("Sqrt", ["ve"], "std"), N("Div", ["d", "std"], "n")]
    elif form == "outside":
        nodes += [N("Sqrt", ["var"], "s"), N("Add", ["eps", "s"], "std"), N("Div", ["d", "std"], "n")]
    elif form == "rsqrt":
        nodes += [N("Add", ["var", "eps"], "ve"), N("Pow", ["ve", "mhalf"], "inv"), N("Mul", ["inv", "d"], "n")]
    elif form == "reciprocal":
        nodes += [N("Add", ["var", "eps"], "ve"), N("Sqrt", ["ve"], "std"), N("Reciprocal", ["std"], "inv"),
                  N("Mul", ["d", "inv"], "n")]
    rng = np.random.default_rng(0)
    c = shape[-1]
    inits = [("two", np.array(2.0, np.float32)), ("mhalf", np.array(-0.5, np.float32)),
             ("eps", np.array(1e-5, np.float32))]
    if affine:
        nodes += [N("Mul", ["n", "gamma"], "g"), N("Add", ["g", "beta"], "y")]
        inits += [("gamma", rng.standard_normal(c).astype(np.float32)), ("beta", rng.standard_normal(c).astype(np.float32))]
    else:
        nodes.append(N("Identity", ["n"], "y"))
    outs = [("y", F, None)] + ([("mean", F, None)] if mean_out else [])
    return make_model(nodes, [("x", F, list(shape))], outs, opset=13, inits=inits)


@pytest.mark.parametrize("form, mode", [("pow", "INSIDE_SQRT"), ("mul", "INSIDE_SQRT"), ("outside", "OUTSIDE_SQRT"),
                                        ("rsqrt", "INSIDE_SQRT"), ("reciprocal", "INSIDE_SQRT")])
def test_layer_norm_fires(form, mode, tmp_path):
    graph = convert_onnx(layer_norm(form), tmp_path, {"x": _x((2, 5, 16))}, rtol=RTOL, atol=ATOL)
    mvn = [n for n in graph.nodes if n.op == "MVN"]
    assert len(mvn) == 1 and mvn[0].attrs["eps_mode"] == mode, graph.op_counts()
    assert mvn[0].inputs[1].const.numpy().tolist() == [2] and mvn[0].attrs["eps"] == pytest.approx(1e-5)
    ops = graph.op_counts()
    assert not {"ReduceMean", "Sqrt", "Power", "Subtract", "Divide"} & set(ops), ops
    assert ops.get("Multiply") == 1 and ops.get("Add") == 1  # gamma and beta stay after the MVN
    assert "y" in graph.results[0].inputs[0].names
    assert report(graph, "fuse_normalization").startswith("fuse_normalization: 1 MVN fused")


def test_instance_norm_axes_fire(tmp_path):
    """Mean and variance over the spatial axes of NCHW data, no affine part: MVN over [2, 3]."""
    m = layer_norm(shape=(2, 4, 6, 6), axes=(2, 3), var_axes=(-2, -1), affine=False)
    graph = convert_onnx(m, tmp_path, {"x": _x((2, 4, 6, 6))}, rtol=RTOL, atol=ATOL)
    mvn = [n for n in graph.nodes if n.op == "MVN"]
    assert len(mvn) == 1 and mvn[0].inputs[1].const.numpy().tolist() == [2, 3], graph.op_counts()


@pytest.mark.parametrize("kw, why", [(dict(var_axes=(1,)), "variance over another axis than the mean"),
                                     (dict(mean_out=True), "the mean is also a model output"),
                                     (dict(form="uncentered"), "the mean of x^2 is no variance")])
def test_layer_norm_near_misses_do_not_fire(kw, why, tmp_path):
    m = layer_norm(**kw)
    graph = convert_onnx(m, tmp_path, {"x": _x((2, 5, 16))}, rtol=RTOL, atol=ATOL)
    assert "MVN" not in graph.op_counts(), why


def test_centered_value_with_another_reader_does_not_fire(tmp_path):
    """x - mean also feeds a Relu that is an output of its own: no MVN, both outputs right."""
    m = layer_norm(affine=False)
    from onnx import helper
    m.graph.node.append(N("Relu", ["d"], "side"))
    m.graph.output.append(helper.make_tensor_value_info("side", F, None))
    graph = convert_onnx(m, tmp_path, {"x": _x((2, 5, 16))}, rtol=RTOL, atol=ATOL)
    assert "MVN" not in graph.op_counts()


def l2(form="max", shape=(3, 32), axis=1):
    nodes = [N("Mul", ["x", "x"], "sq"), N("ReduceSum", ["sq", "ax"], "s", keepdims=1)]
    if form == "max":
        nodes += [N("Max", ["s", "eps"], "m"), N("Sqrt", ["m"], "r"), N("Div", ["x", "r"], "y")]
    elif form == "add":
        nodes += [N("Add", ["eps", "s"], "m"), N("Sqrt", ["m"], "r"), N("Div", ["x", "r"], "y")]
    elif form == "rsqrt":
        nodes += [N("Max", ["s", "eps"], "m"), N("Pow", ["m", "mhalf"], "r"), N("Mul", ["r", "x"], "y")]
    elif form == "outside":  # x / (||x|| + eps): no NormalizeL2 computes this
        nodes += [N("Sqrt", ["s"], "r"), N("Add", ["r", "eps"], "m"), N("Div", ["x", "m"], "y")]
    elif form == "torch":  # F.normalize: x / clamp_min(ReduceL2(x), eps).expand_as(x)
        nodes = [N("ReduceL2", ["x", "ax"], "n", keepdims=1), N("Clip", ["n", "eps"], "m"), N("Shape", ["x"], "shp"),
                 N("Expand", ["m", "shp"], "e"), N("Div", ["x", "e"], "y")]
    inits = [("ax", np.array([axis], np.int64)), ("eps", np.array(1e-12, np.float32)),
             ("mhalf", np.array(-0.5, np.float32))]
    return make_model(nodes, [("x", F, list(shape))], [("y", F, None)], inits=inits)


@pytest.mark.parametrize("form, mode, eps", [("max", "max", 1e-12), ("add", "add", 1e-12), ("rsqrt", "max", 1e-12),
                                             ("torch", "max", 1e-24)])
def test_l2_normalize_fires(form, mode, eps, tmp_path):
    graph = convert_onnx(l2(form), tmp_path, {"x": _x((3, 32))}, rtol=RTOL, atol=ATOL)
    norm = [n for n in graph.nodes if n.op == "NormalizeL2"]
    assert len(norm) == 1 and norm[0].attrs["eps_mode"] == mode, graph.op_counts()
    assert norm[0].attrs["eps"] == pytest.approx(eps, rel=1e-6) and norm[0].inputs[1].const.numpy().tolist() == [1]
    assert set(graph.op_counts()) == {"Parameter", "Const", "NormalizeL2", "Result"}


def test_l2_normalize_zero_rows(tmp_path):
    """A row of zeros: eps keeps it 0 in both the source and the fused op."""
    x = _x((3, 32))
    x[1] = 0
    graph = convert_onnx(l2("max"), tmp_path, {"x": x}, rtol=RTOL, atol=ATOL)
    assert "NormalizeL2" in graph.op_counts()


def test_l2_eps_outside_the_root_does_not_fire(tmp_path):
    graph = convert_onnx(l2("outside"), tmp_path, {"x": _x((3, 32))}, rtol=RTOL, atol=ATOL)
    assert "NormalizeL2" not in graph.op_counts() and "ReduceSum" in graph.op_counts()


def test_l2_of_another_tensor_does_not_fire(tmp_path):
    """x / sqrt(max(sum(z^2), eps)) with z != x is no L2 normalization."""
    nodes = [N("Relu", ["x"], "z"), N("Mul", ["z", "z"], "sq"), N("ReduceSum", ["sq", "ax"], "s", keepdims=1),
             N("Max", ["s", "eps"], "m"), N("Sqrt", ["m"], "r"), N("Div", ["x", "r"], "y")]
    inits = [("ax", np.array([1], np.int64)), ("eps", np.array(1e-12, np.float32))]
    m = make_model(nodes, [("x", F, [3, 32])], [("y", F, None)], inits=inits)
    assert "NormalizeL2" not in convert_onnx(m, tmp_path, {"x": _x((3, 32))}, rtol=RTOL, atol=ATOL).op_counts()


# ---------------------------------------------------------------- TensorFlow / Keras graphs
def _keras_layer_norm(**kw):
    import keras

    ln = keras.layers.LayerNormalization(epsilon=1e-3, **kw)
    ln.build((2, 5, 16))
    rng = np.random.default_rng(4)
    ln.set_weights([rng.standard_normal(w.shape).astype(np.float32) for w in ln.get_weights()])
    return ln


@pytest.mark.parametrize("kw, extra", [(dict(), {"Multiply", "Add"}), (dict(center=False), {"Multiply"}),
                                       (dict(scale=False), {"Add"}), (dict(center=False, scale=False), set())])
def test_keras_layer_norm_fires(kw, extra, tmp_path):
    ln = _keras_layer_norm(**kw)
    graph = convert_tf(lambda x: ln(x), _x((2, 5, 16)), tmp_path, rtol=RTOL, atol=ATOL)
    ops = graph.op_counts()
    assert ops.get("MVN") == 1 and set(ops) == {"Parameter", "Const", "Result", "MVN"} | extra, ops
    mvn = next(n for n in graph.nodes if n.op == "MVN")
    assert mvn.attrs["eps"] == pytest.approx(1e-3) and mvn.attrs["eps_mode"] == "INSIDE_SQRT"


@pytest.mark.parametrize("affine", [True, False])
def test_tf_moments_batch_normalization_fires(affine, tmp_path):
    """tf.nn.moments + tf.nn.batch_normalization over the last axis (TF1-era layer norms): x * i + (b - m * i),
    and without scale and offset x * i + -(m * i)."""
    import tensorflow as tf

    rng = np.random.default_rng(5)
    g, b = rng.standard_normal(16).astype(np.float32), rng.standard_normal(16).astype(np.float32)

    def fn(x):
        mean, var = tf.nn.moments(x, axes=[-1], keepdims=True)
        return tf.nn.batch_normalization(x, mean, var, b if affine else None, g if affine else None, 1e-6)

    ops = convert_tf(fn, _x((2, 5, 16)), tmp_path, rtol=RTOL, atol=ATOL).op_counts()
    assert ops.get("MVN") == 1 and "ReduceMean" not in ops, ops
    assert set(ops) == {"Parameter", "Const", "Result", "MVN"} | ({"Multiply", "Add"} if affine else set()), ops


def test_tf_mean_read_elsewhere_does_not_fire(tmp_path):
    """Keras LayerNormalization whose input mean is also added to the output: the mean must stay."""
    import tensorflow as tf

    def fn(x):
        mean, var = tf.nn.moments(x, axes=[-1], keepdims=True)
        return tf.nn.batch_normalization(x, mean, var, None, None, 1e-6) + mean

    ops = convert_tf(fn, _x((2, 5, 16)), tmp_path, rtol=RTOL, atol=ATOL).op_counts()
    assert "MVN" not in ops, ops


@pytest.mark.parametrize("axis", [-1, 1])
def test_tf_l2_normalize_fires(axis, tmp_path):
    import tensorflow as tf

    graph = convert_tf(lambda x: tf.math.l2_normalize(x, axis=axis), _x((2, 5, 16)), tmp_path, rtol=RTOL, atol=ATOL)
    norm = [n for n in graph.nodes if n.op == "NormalizeL2"]
    assert len(norm) == 1 and norm[0].inputs[1].const.numpy().tolist() == [axis % 3], graph.op_counts()
    assert "fuse_normalization: 1 NormalizeL2 fused" in report(graph, "fuse_normalization")


@pytest.mark.slow
def test_keras_transformer_encoder(tmp_path):
    """Two Keras encoder blocks (MultiHeadAttention, LayerNormalization, Dense gelu; random weights):
    4 LayerNorms become MVN, 2 GELUs become Gelu, no ReduceMean or Erf is left; matches TF."""
    import keras

    from ..tf.test_keras_apps import reseed_weights

    keras.utils.set_random_seed(0)
    inp = keras.Input((16, 64), batch_size=1)
    h = inp
    for _ in range(2):
        h = keras.layers.LayerNormalization(epsilon=1e-6)(h + keras.layers.MultiHeadAttention(4, 16)(h, h))
        f = keras.layers.Dense(64)(keras.layers.Dense(256, activation="gelu")(h))
        h = keras.layers.LayerNormalization(epsilon=1e-6)(h + f)
    net = keras.Model(inp, h)
    reseed_weights(net)
    graph = convert_tf(lambda t: net(t), _x((1, 16, 64)), tmp_path, rtol=RTOL, atol=1e-4)
    ops = graph.op_counts()
    assert ops.get("MVN") == 4 and ops.get("Gelu") == 2 and not {"ReduceMean", "Erf"} & set(ops), ops
