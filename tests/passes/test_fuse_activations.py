"""fuse_activations: every rule must fire on its pattern, written as exporters write it (ONNX from
PyTorch-style graphs, frozen TF graphs of tf.nn / Keras activations), and must not fire on near
misses. Every converted model runs in OpenVINO (f32) against onnxruntime or TensorFlow:
rtol 1e-5, atol 1e-5 on inputs of scale 4 (fused kernels and decompositions differ by float
rounding only)."""
from __future__ import annotations

import numpy as np
import pytest

from ..onnx.util import make_model
from .fusion_util import F, N, c, convert_onnx, convert_tf, report

SHAPE = [2, 8, 4, 4]


def model(nodes, outs=("y",), inits=()):
    return make_model(nodes, [("x", F, SHAPE)], [(o, F, None) for o in outs], inits=inits)


def _x(shape=SHAPE):
    return (np.random.default_rng(0).standard_normal(shape) * 4).astype(np.float32)


R6_CLAMP = [c("three", 3), c("zero", 0), c("six", 6), N("Add", ["x", "three"], "a"), N("Clip", ["a", "zero", "six"], "r")]
R6_MINMAX = [c("three", 3), c("zero", 0), c("six", 6), N("Add", ["x", "three"], "a"), N("Max", ["a", "zero"], "m"),
             N("Min", ["m", "six"], "r")]

# name: (nodes, fused op, an op of the decomposition that must be gone)
MUST_FIRE = {
    "HSigmoid clip/6": (R6_CLAMP + [N("Div", ["r", "six"], "y")], "HSigmoid", "Clamp"),
    "HSigmoid max-min*(1/6)": (R6_MINMAX + [c("sixth", 1 / 6), N("Mul", ["sixth", "r"], "y")], "HSigmoid", "Minimum"),
    "HSigmoid min-max": ([c("three", 3), c("zero", 0), c("six", 6), N("Add", ["three", "x"], "a"),
                          N("Min", ["a", "six"], "m"), N("Max", ["m", "zero"], "r"), N("Div", ["r", "six"], "y")],
                         "HSigmoid", "Maximum"),
    "HSigmoid HardSigmoid(1/6)": ([N("HardSigmoid", ["x"], "y", alpha=1 / 6, beta=0.5)], "HSigmoid", "HardSigmoid"),
    "HSigmoid clip(x/6+0.5)": ([c("six", 6), c("half", 0.5), c("zero", 0), c("one", 1), N("Div", ["x", "six"], "d"),
                                N("Add", ["d", "half"], "a"), N("Clip", ["a", "zero", "one"], "y")], "HSigmoid", "Clamp"),
    "HSwish (x*r6)/6": (R6_MINMAX + [N("Mul", ["x", "r"], "p"), N("Div", ["p", "six"], "y")], "HSwish", "Minimum"),
    "HSwish x*(r6*(1/6))": (R6_CLAMP + [c("sixth", 1 / 6), N("Mul", ["r", "sixth"], "h"), N("Mul", ["x", "h"], "y")],
                            "HSwish", "HSigmoid"),
    "HSwish (x*(1/6))*r6": (R6_CLAMP + [c("sixth", 0.16666667), N("Mul", ["sixth", "x"], "h"),
                                        N("Mul", ["r", "h"], "y")], "HSwish", "Clamp"),
    "HSwish broadcast constants": ([c("three", 3, [1, 8, 1, 1]), c("six", 6, [1, 8, 1, 1]), N("Add", ["x", "three"], "a"),
                                    N("Relu", ["a"], "m"), N("Min", ["m", "six"], "r"), N("Mul", ["x", "r"], "p"),
                                    N("Div", ["p", "six"], "y")], "HSwish", "Relu"),
    "HSwish x*HardSigmoid": ([N("HardSigmoid", ["x"], "h", alpha=1 / 6, beta=0.5), N("Mul", ["x", "h"], "y")],
                             "HSwish", "HardSigmoid"),
    "Swish": ([N("Sigmoid", ["x"], "s"), N("Mul", ["s", "x"], "y")], "Swish", "Sigmoid"),
    "Swish beta": ([c("b", 1.702), N("Mul", ["x", "b"], "xb"), N("Sigmoid", ["xb"], "s"), N("Mul", ["x", "s"], "y")],
                   "Swish", "Sigmoid"),
    "Swish x/(1+exp(-x))": ([c("one", 1), N("Neg", ["x"], "n"), N("Exp", ["n"], "e"), N("Add", ["one", "e"], "a"),
                             N("Div", ["x", "a"], "y")], "Swish", "Exp"),
    "Sigmoid 1/(1+exp(-x))": ([c("one", 1), c("m1", -1), N("Mul", ["x", "m1"], "n"), N("Exp", ["n"], "e"),
                               N("Add", ["e", "one"], "a"), N("Div", ["one", "a"], "y")], "Sigmoid", "Exp"),
    "SoftPlus": ([c("one", 1), N("Exp", ["x"], "e"), N("Add", ["e", "one"], "a"), N("Log", ["a"], "y")],
                 "SoftPlus", "Exp"),
    "Mish log(1+exp)": ([c("one", 1), N("Exp", ["x"], "e"), N("Add", ["one", "e"], "a"), N("Log", ["a"], "sp"),
                         N("Tanh", ["sp"], "t"), N("Mul", ["x", "t"], "y")], "Mish", "Tanh"),
    "Mish Softplus op": ([N("Softplus", ["x"], "sp"), N("Tanh", ["sp"], "t"), N("Mul", ["t", "x"], "y")], "Mish", "Tanh"),
    "GELU erf (PyTorch)": ([c("sqrt2", 1.4142135623730951), c("one", 1), c("half", 0.5), N("Div", ["x", "sqrt2"], "d"),
                            N("Erf", ["d"], "e"), N("Add", ["e", "one"], "a"), N("Mul", ["x", "a"], "m"),
                            N("Mul", ["m", "half"], "y")], "Gelu", "Erf"),
    "GELU erf half first": ([c("isqrt2", 0.70710678), c("one", 1), c("half", 0.5), N("Mul", ["x", "isqrt2"], "d"),
                             N("Erf", ["d"], "e"), N("Add", ["one", "e"], "a"), N("Mul", ["half", "x"], "hx"),
                             N("Mul", ["hx", "a"], "y")], "Gelu", "Erf"),
    "GELU erf x*(0.5*(1+erf))": ([c("isqrt2", 0.70710678), c("one", 1), c("half", 0.5), N("Mul", ["isqrt2", "x"], "d"),
                                  N("Erf", ["d"], "e"), N("Add", ["one", "e"], "a"), N("Mul", ["a", "half"], "ha"),
                                  N("Mul", ["x", "ha"], "y")], "Gelu", "Erf"),
    "GELU erf x*(1+erf)/2": ([c("sqrt2", 1.4142135), c("one", 1), c("two", 2), N("Div", ["x", "sqrt2"], "d"),
                              N("Erf", ["d"], "e"), N("Add", ["e", "one"], "a"), N("Mul", ["x", "a"], "m"),
                              N("Div", ["m", "two"], "y")], "Gelu", "Erf"),
    "GELU tanh pow": ([c("three", 3), c("k", 0.044715), c("s", 0.7978845608028654), c("one", 1), c("half", 0.5),
                       N("Pow", ["x", "three"], "x3"), N("Mul", ["x3", "k"], "kx3"), N("Add", ["x", "kx3"], "in"),
                       N("Mul", ["in", "s"], "arg"), N("Tanh", ["arg"], "t"), N("Add", ["t", "one"], "a"),
                       N("Mul", ["half", "x"], "hx"), N("Mul", ["hx", "a"], "y")], "Gelu", "Tanh"),
    "GELU tanh x*x*x (PyTorch)": ([c("k", 0.044715), c("s", 0.7978846), c("one", 1), c("half", 0.5),
                                   N("Mul", ["x", "x"], "xx"), N("Mul", ["x", "xx"], "x3"), N("Mul", ["k", "x3"], "kx3"),
                                   N("Add", ["x", "kx3"], "in"), N("Mul", ["s", "in"], "arg"), N("Tanh", ["arg"], "t"),
                                   N("Add", ["one", "t"], "a"), N("Mul", ["x", "a"], "xa"), N("Mul", ["half", "xa"], "y")],
                                  "Gelu", "Tanh"),
    "LeakyReLU max(x, 0.2x)": ([c("alpha", 0.2), N("Mul", ["x", "alpha"], "ax"), N("Max", ["x", "ax"], "y")],
                               "PRelu", "Maximum"),
    "LeakyReLU max(x/10, x)": ([c("ten", 10), N("Div", ["x", "ten"], "ax"), N("Max", ["ax", "x"], "y")],
                               "PRelu", "Maximum"),
    "PReLU relu(x)+c*min(x,0)": ([c("zero", 0), N("Relu", ["x"], "p"), N("Min", ["x", "zero"], "n"),
                                  N("Mul", ["n", "slope"], "sn"), N("Add", ["p", "sn"], "y")], "PRelu", "Minimum"),
}
INITS = {"PReLU relu(x)+c*min(x,0)": [("slope", np.linspace(0.05, 0.4, 8, dtype=np.float32).reshape(1, 8, 1, 1))]}


@pytest.mark.parametrize("name", list(MUST_FIRE))
def test_must_fire(name, tmp_path):
    nodes, fused, gone = MUST_FIRE[name]
    m = model(nodes, inits=INITS.get(name, ()))
    graph = convert_onnx(m, tmp_path, {"x": _x()})
    ops = graph.op_counts()
    assert ops.get(fused) == 1 and gone not in ops, ops
    last = graph.results[0].inputs[0]
    assert last.producer.op == fused and "y" in last.names  # the output keeps its tensor name
    assert "nothing" not in report(graph, "fuse_activations")


def test_report_counts_what_fired(tmp_path):
    """Two GELUs and an HSwish in one model: the report says so, with the nodes it removed."""
    gelu = lambda i, o: [N("Div", [i, "sqrt2"], o + "d"), N("Erf", [o + "d"], o + "e"),  # noqa: E731
                         N("Add", [o + "e", "one"], o + "a"), N("Mul", [i, o + "a"], o + "m"),
                         N("Mul", [o + "m", "half"], o)]
    nodes = ([c("sqrt2", 1.4142135623730951), c("one", 1), c("half", 0.5)] + gelu("x", "g1") + gelu("g1", "g2")
             + [c("three", 3), c("six", 6), N("Add", ["g2", "three"], "a"), N("Relu", ["a"], "m"),
                N("Min", ["m", "six"], "r"), N("Mul", ["g2", "r"], "p"), N("Div", ["p", "six"], "y")])
    graph = convert_onnx(model(nodes), tmp_path, {"x": _x()})
    assert graph.op_counts().get("Gelu") == 2
    # 5 ops per GELU, 5 per HSwish, and the 5 constants they alone read
    assert report(graph, "fuse_activations") == "fuse_activations: 2 GELU (erf), 1 HSwish fused, 20 nodes removed"


def test_disable_fusing_keeps_patterns(tmp_path):
    graph = convert_onnx(model(MUST_FIRE["GELU erf (PyTorch)"][0]), tmp_path, {"x": _x()}, disable_fusing=True)
    assert "Gelu" not in graph.op_counts() and "Erf" in graph.op_counts()
    assert not any(r.name == "fuse_activations" for r in graph.meta["reports"])


NEAR_MISSES = {
    "HSigmoid with x+2": ([c("two", 2), c("six", 6), c("zero", 0), N("Add", ["x", "two"], "a"),
                           N("Max", ["a", "zero"], "m"), N("Min", ["m", "six"], "r"), N("Div", ["r", "six"], "y")],
                          "HSigmoid"),
    "HSwish x*relu6(x+2)/6": ([c("two", 2), c("six", 6), N("Add", ["x", "two"], "a"), N("Relu", ["a"], "m"),
                               N("Min", ["m", "six"], "r"), N("Mul", ["x", "r"], "p"), N("Div", ["p", "six"], "y")],
                              "HSwish"),
    "HSwish divided by 5": (R6_CLAMP + [c("five", 5), N("Mul", ["x", "r"], "p"), N("Div", ["p", "five"], "y")],
                            "HSwish"),
    "HSwish of two tensors": (R6_CLAMP + [N("Relu", ["x"], "z"), N("Mul", ["z", "r"], "p"),
                                          N("Div", ["p", "six"], "y")], "HSwish"),
    "HSwish constant widening x": ([c("three", 3, [3, 1, 1, 1, 1]), c("six", 6), N("Add", ["x", "three"], "a"),
                                    N("Relu", ["a"], "m"), N("Min", ["m", "six"], "r"), N("Mul", ["x", "r"], "p"),
                                    N("Div", ["p", "six"], "y")], "HSwish"),
    "HardSigmoid alpha 0.2": ([N("HardSigmoid", ["x"], "y", alpha=0.2, beta=0.5)], "HSigmoid"),
    "Swish of another tensor": ([N("Relu", ["x"], "r"), N("Sigmoid", ["r"], "s"), N("Mul", ["x", "s"], "y")], "Swish"),
    "x*tanh(x) is no Mish": ([N("Tanh", ["x"], "t"), N("Mul", ["x", "t"], "y")], "Mish"),
    "x/(1+exp(x)) is no Swish": ([c("one", 1), N("Exp", ["x"], "e"), N("Add", ["one", "e"], "a"),
                                  N("Div", ["x", "a"], "y")], "Swish"),
    "Leaky with alpha 1.5": ([c("alpha", 1.5), N("Mul", ["x", "alpha"], "ax"), N("Max", ["x", "ax"], "y")], "PRelu"),
    "Leaky with alpha -0.2": ([c("alpha", -0.2), N("Mul", ["x", "alpha"], "ax"), N("Max", ["x", "ax"], "y")], "PRelu"),
    "Leaky of two tensors": ([c("alpha", 0.2), N("Relu", ["x"], "z"), N("Mul", ["z", "alpha"], "ax"),
                              N("Max", ["x", "ax"], "y")], "PRelu"),
    "GELU with 0.6": ([c("sqrt2", 1.4142135623730951), c("one", 1), c("half", 0.6), N("Div", ["x", "sqrt2"], "d"),
                       N("Erf", ["d"], "e"), N("Add", ["e", "one"], "a"), N("Mul", ["x", "a"], "m"),
                       N("Mul", ["m", "half"], "y")], "Gelu"),
    "GELU erf(x/2)": ([c("two", 2), c("one", 1), c("half", 0.5), N("Div", ["x", "two"], "d"),
                       N("Erf", ["d"], "e"), N("Add", ["e", "one"], "a"), N("Mul", ["x", "a"], "m"),
                       N("Mul", ["m", "half"], "y")], "Gelu"),
    "GELU tanh with 0.05": ([c("three", 3), c("k", 0.05), c("s", 0.7978845608028654), c("one", 1), c("half", 0.5),
                             N("Pow", ["x", "three"], "x3"), N("Mul", ["x3", "k"], "kx3"), N("Add", ["x", "kx3"], "in"),
                             N("Mul", ["in", "s"], "arg"), N("Tanh", ["arg"], "t"), N("Add", ["t", "one"], "a"),
                             N("Mul", ["half", "x"], "hx"), N("Mul", ["hx", "a"], "y")], "Gelu"),
    "SoftPlus with +2": ([c("two", 2), N("Exp", ["x"], "e"), N("Add", ["e", "two"], "a"), N("Log", ["a"], "y")],
                         "SoftPlus"),
    "Mish of another tensor": ([N("Relu", ["x"], "z"), N("Softplus", ["z"], "sp"), N("Tanh", ["sp"], "t"),
                                N("Mul", ["x", "t"], "y")], "Mish"),
}


@pytest.mark.parametrize("name", list(NEAR_MISSES))
def test_must_not_fire(name, tmp_path):
    nodes, op = NEAR_MISSES[name]
    graph = convert_onnx(model(nodes), tmp_path, {"x": _x()})
    assert op not in graph.op_counts(), graph.op_counts()


@pytest.mark.parametrize("nodes, inner, fused", [
    ([N("Sigmoid", ["x"], "s"), N("Mul", ["x", "s"], "y")], "s", "Swish"),
    (R6_CLAMP + [N("Mul", ["x", "r"], "p"), N("Div", ["p", "six"], "y")], "r", "HSwish"),
    (MUST_FIRE["GELU erf (PyTorch)"][0], "e", "Gelu"),
    (MUST_FIRE["SoftPlus"][0], "e", "SoftPlus"),
], ids=["Swish", "HSwish", "GELU", "SoftPlus"])
def test_intermediate_with_another_reader_is_kept(nodes, inner, fused, tmp_path):
    """An intermediate value that is also a model output keeps the pattern (and its value) intact."""
    graph = convert_onnx(model(nodes, outs=("y", inner)), tmp_path, {"x": _x()})
    assert fused not in graph.op_counts()


def test_intermediate_read_by_another_op_is_kept(tmp_path):
    """Sigmoid(x) also feeds an Add: x * Sigmoid(x) stays a product, the Add still gets the Sigmoid."""
    nodes = [c("one", 1), N("Sigmoid", ["x"], "s"), N("Mul", ["x", "s"], "p"), N("Add", ["s", "one"], "q"),
             N("Mul", ["p", "q"], "y")]
    graph = convert_onnx(model(nodes), tmp_path, {"x": _x()})
    assert "Swish" not in graph.op_counts() and "Sigmoid" in graph.op_counts()


def test_prelu_slope_keeps_numpy_broadcasting(tmp_path):
    """Relu(x) + c * Relu(-x) with c of shape [1, 8, 4, 1]: PRelu gets slope -c at x's rank, so the
    runtime broadcasts it as numpy does (a 1-D slope would be read per channel)."""
    slope = np.random.default_rng(2).uniform(0.05, 0.3, (1, 8, 4, 1)).astype(np.float32)
    nodes = [N("Relu", ["x"], "p"), N("Neg", ["x"], "nx"), N("Relu", ["nx"], "rn"), N("Mul", ["nslope", "rn"], "sn"),
             N("Add", ["p", "sn"], "y")]
    graph = convert_onnx(model(nodes, inits=[("nslope", -slope)]), tmp_path, {"x": _x()})
    prelu = [n for n in graph.nodes if n.op == "PRelu"]
    assert len(prelu) == 1 and prelu[0].inputs[1].shape == (1, 8, 4, 1)
    np.testing.assert_array_equal(prelu[0].inputs[1].const.numpy(), slope)


# ---------------------------------------------------------------- TensorFlow / Keras graphs
def _tf_cases():
    import keras
    import tensorflow as tf

    prelu = keras.layers.PReLU(alpha_initializer=keras.initializers.RandomUniform(0.05, 0.4, seed=3))
    prelu.build((2, 5, 16))
    return {
        "tf.nn.gelu erf": (lambda x: tf.nn.gelu(x), "Gelu", "Erf"),
        "tf.nn.gelu tanh": (lambda x: tf.nn.gelu(x, approximate=True), "Gelu", "Tanh"),
        "keras swish": (lambda x: keras.activations.swish(x), "Swish", "Sigmoid"),
        "keras hard_swish": (lambda x: keras.activations.hard_swish(x), "HSwish", "Clamp"),
        "keras hard_sigmoid": (lambda x: keras.activations.hard_sigmoid(x), "HSigmoid", "Clamp"),
        "MobileNetV3 hard_swish": (lambda x: x * (tf.nn.relu6(x + 3.0) * (1.0 / 6.0)), "HSwish", "Clamp"),
        "keras mish": (lambda x: keras.activations.mish(x), "Mish", "Tanh"),
        "keras PReLU": (lambda x: prelu(x), "PRelu", "Relu"),
        "max(x, 0.1x)": (lambda x: tf.maximum(x, 0.1 * x), "PRelu", "Maximum"),
    }


TF_CASES = ["tf.nn.gelu erf", "tf.nn.gelu tanh", "keras swish", "keras hard_swish", "keras hard_sigmoid",
            "MobileNetV3 hard_swish", "keras mish", "keras PReLU", "max(x, 0.1x)"]


@pytest.mark.parametrize("name", TF_CASES)
def test_tf_must_fire(name, tmp_path):
    fn, fused, gone = _tf_cases()[name]
    graph = convert_tf(fn, _x((2, 5, 16)), tmp_path)
    ops = graph.op_counts()
    assert ops.get(fused) == 1 and gone not in ops, ops
    assert set(ops) <= {"Parameter", "Const", "Result", fused}, ops


def test_tf_must_not_fire(tmp_path):
    """tf.nn.gelu's erfc on +x (a sign slip) and relu6(x + 3) / 5 stay as they are."""
    import tensorflow as tf

    def fn(x):
        bad_gelu = 0.5 * x * tf.math.erfc(x * 0.70710678)
        bad_hsig = tf.nn.relu6(x + 3.0) / 5.0
        return bad_gelu + bad_hsig

    ops = convert_tf(fn, _x((2, 5, 16)), tmp_path).op_counts()
    assert "Gelu" not in ops and "HSigmoid" not in ops and "Erf" in ops, ops


@pytest.mark.slow
def test_mobilenet_v3_small_hard_activations(tmp_path):
    """Keras MobileNetV3Small (random weights, 96x96, no top): every hard_swish / hard_sigmoid of its
    blocks becomes HSwish / HSigmoid, no Clamp is left, and the features match TensorFlow
    (atol 1e-4 on values of order 1)."""
    import keras

    from ..tf.test_keras_apps import reseed_weights

    keras.utils.set_random_seed(0)
    net = keras.applications.MobileNetV3Small(input_shape=(96, 96, 3), weights=None, include_top=False,
                                              include_preprocessing=False)
    reseed_weights(net)
    x = np.random.default_rng(0).uniform(-1, 1, (1, 96, 96, 3)).astype(np.float32)
    graph = convert_tf(lambda t: net(t, training=False), x, tmp_path, rtol=1e-4, atol=1e-4)
    ops = graph.op_counts()
    assert ops.get("HSwish") == 18 and ops.get("HSigmoid") == 9 and "Clamp" not in ops, ops


def test_f16_model(tmp_path):
    """An f16 model: Swish with beta and LeakyReLU get f16 constants; OpenVINO (f32 hint) vs
    onnxruntime in f16: rtol 1e-2, atol 1e-2."""
    from onnx import TensorProto, helper

    H = TensorProto.FLOAT16
    ch = lambda name, v: helper.make_node("Constant", [], [name], value=helper.make_tensor(name, H, [], [v]))  # noqa: E731
    nodes = [ch("b", 1.702), N("Mul", ["x", "b"], "xb"), N("Sigmoid", ["xb"], "s"), N("Mul", ["x", "s"], "sw"),
             ch("alpha", 0.125), N("Mul", ["sw", "alpha"], "a"), N("Max", ["a", "sw"], "y")]
    m = make_model(nodes, [("x", H, SHAPE)], [("y", H, None)])
    graph = convert_onnx(m, tmp_path, {"x": _x().astype(np.float16)}, rtol=1e-2, atol=1e-2)
    ops = graph.op_counts()
    assert ops.get("Swish") == 1 and ops.get("PRelu") == 1 and "Maximum" not in ops, ops
    assert all(n.outputs[0].etype == "f16" for n in graph.nodes if n.op == "Const")
