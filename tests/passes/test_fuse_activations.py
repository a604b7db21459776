"""fuse_activations: each rule must fire on its pattern (written as exporters write it, as ONNX)
and must not fire on near misses. Fired patterns run in OpenVINO (f32) against onnxruntime:
rtol 1e-5, atol 1e-5 (the tanh-GELU and Mish kernels differ from the decomposition by float
rounding only)."""
from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

import mo

from ..onnx.util import make_model, run_onnx_vs_ir

F = TensorProto.FLOAT
SHAPE = [2, 8, 4, 4]


def c(name, value):
    return helper.make_node("Constant", [], [name], value=helper.make_tensor(name, F, [], [float(value)]))


def model(nodes, out="y", inits=()):
    return make_model(nodes, [("x", F, SHAPE)], [(out, F, None)], inits=inits)


def N(op, ins, outs, **attrs):
    return helper.make_node(op, ins, outs if isinstance(outs, list) else [outs], **attrs)


PATTERNS = {
    "HSigmoid": [c("three", 3), c("six", 6), c("zero", 0), N("Add", ["x", "three"], "a"),
                 N("Max", ["a", "zero"], "m"), N("Min", ["m", "six"], "r"), N("Div", ["r", "six"], "y")],
    "HSwish": [c("three", 3), c("six", 6), N("Add", ["x", "three"], "a"), N("Relu", ["a"], "m"),
               N("Min", ["m", "six"], "r"), N("Mul", ["x", "r"], "p"), N("Div", ["p", "six"], "y")],
    "HSwish-gated": [c("three", 3), c("sixth", 1 / 6), N("Add", ["three", "x"], "a"),
                     N("Relu", ["a"], "m"),
                     c("six", 6), N("Min", ["six", "m"], "r"), N("Mul", ["r", "sixth"], "hs"), N("Mul", ["hs", "x"], "y")],
    "Swish": [N("Sigmoid", ["x"], "s"), N("Mul", ["s", "x"], "y")],
    "Swish-beta": [c("b", 1.702), N("Mul", ["x", "b"], "xb"), N("Sigmoid", ["xb"], "s"), N("Mul", ["x", "s"], "y")],
    "SoftPlus": [c("one", 1), N("Exp", ["x"], "e"), N("Add", ["e", "one"], "a"), N("Log", ["a"], "y")],
    "Mish": [c("one", 1), N("Exp", ["x"], "e"), N("Add", ["e", "one"], "a"), N("Log", ["a"], "sp"),
             N("Tanh", ["sp"], "t"), N("Mul", ["x", "t"], "y")],
    "GELU (erf)": [c("sqrt2", 1.4142135623730951), c("one", 1), c("half", 0.5), N("Div", ["x", "sqrt2"], "d"),
                   N("Erf", ["d"], "e"), N("Add", ["e", "one"], "a"), N("Mul", ["x", "a"], "m"),
                   N("Mul", ["m", "half"], "y")],
    "GELU (erf) half first": [c("isqrt2", 0.7071067811865476), c("one", 1), c("half", 0.5),
                              N("Mul", ["x", "isqrt2"], "d"), N("Erf", ["d"], "e"), N("Add", ["one", "e"], "a"),
                              N("Mul", ["half", "x"], "hx"), N("Mul", ["hx", "a"], "y")],
    "GELU (tanh)": [c("three", 3), c("k", 0.044715), c("s", 0.7978845608028654), c("one", 1), c("half", 0.5),
                    N("Pow", ["x", "three"], "x3"), N("Mul", ["x3", "k"], "kx3"), N("Add", ["x", "kx3"], "in"),
                    N("Mul", ["in", "s"], "arg"), N("Tanh", ["arg"], "t"), N("Add", ["t", "one"], "a"),
                    N("Mul", ["half", "x"], "hx"), N("Mul", ["hx", "a"], "y")],
    "LeakyReLU": [c("alpha", 0.2), N("Mul", ["x", "alpha"], "ax"), N("Max", ["x", "ax"], "y")],
}
FUSED_OP = {"HSigmoid": "HSigmoid", "HSwish": "HSwish", "HSwish-gated": "HSwish", "Swish": "Swish",
            "Swish-beta": "Swish", "SoftPlus": "SoftPlus", "Mish": "Mish", "GELU (erf)": "Gelu",
            "GELU (erf) half first": "Gelu", "GELU (tanh)": "Gelu", "LeakyReLU": "PRelu"}
GONE = {"HSigmoid": "Minimum", "HSwish": "Minimum", "HSwish-gated": "HSigmoid", "Swish": "Sigmoid",
        "Swish-beta": "Sigmoid", "SoftPlus": "Exp", "Mish": "Tanh", "GELU (erf)": "Erf",
        "GELU (erf) half first": "Erf", "GELU (tanh)": "Tanh", "LeakyReLU": "Maximum"}


def _x():
    return (np.random.default_rng(0).standard_normal(SHAPE) * 4).astype(np.float32)


@pytest.mark.parametrize("name", list(PATTERNS))
def test_must_fire(name, tmp_path):
    m = model(PATTERNS[name])
    graph = mo.convert(_save(m, tmp_path))
    ops = graph.op_counts()
    assert ops.get(FUSED_OP[name]) == 1, ops
    assert GONE[name] not in ops, ops
    assert graph.results[0].inputs[0].producer.op == FUSED_OP[name]
    assert "y" in graph.results[0].inputs[0].names  # the output keeps its name
    run_onnx_vs_ir(m, {"x": _x()}, tmp_path, rtol=1e-5, atol=1e-5)


def test_disable_fusing_keeps_patterns(tmp_path):
    graph = mo.convert(_save(model(PATTERNS["GELU (erf)"]), tmp_path), disable_fusing=True)
    assert "Gelu" not in graph.op_counts() and "Erf" in graph.op_counts()


NEAR_MISSES = {
    "HSigmoid with x+2": ([c("two", 2), c("six", 6), c("zero", 0), N("Add", ["x", "two"], "a"),
                           N("Max", ["a", "zero"], "m"), N("Min", ["m", "six"], "r"), N("Div", ["r", "six"], "y")],
                          "HSigmoid"),
    "Swish of another tensor": ([N("Relu", ["x"], "r"), N("Sigmoid", ["r"], "s"), N("Mul", ["x", "s"], "y")], "Swish"),
    "Leaky with alpha 1.5": ([c("alpha", 1.5), N("Mul", ["x", "alpha"], "ax"), N("Max", ["x", "ax"], "y")], "PRelu"),
    "GELU with 0.6": ([c("sqrt2", 1.4142135623730951), c("one", 1), c("half", 0.6), N("Div", ["x", "sqrt2"], "d"),
                       N("Erf", ["d"], "e"), N("Add", ["e", "one"], "a"), N("Mul", ["x", "a"], "m"),
                       N("Mul", ["m", "half"], "y")], "Gelu"),
    "SoftPlus with +2": ([c("two", 2), N("Exp", ["x"], "e"), N("Add", ["e", "two"], "a"), N("Log", ["a"], "y")],
                         "SoftPlus"),
}


@pytest.mark.parametrize("name", list(NEAR_MISSES))
def test_must_not_fire(name, tmp_path):
    nodes, op = NEAR_MISSES[name]
    m = model(nodes)
    assert op not in mo.convert(_save(m, tmp_path)).op_counts()
    run_onnx_vs_ir(m, {"x": _x()}, tmp_path, rtol=1e-5, atol=1e-5)


def test_intermediate_with_another_reader_is_kept(tmp_path):
    """Sigmoid(x) is also a model output: x * Sigmoid(x) must not become Swish."""
    nodes = [N("Sigmoid", ["x"], "s"), N("Mul", ["x", "s"], "y")]
    m = make_model(nodes, [("x", F, SHAPE)], [("y", F, None), ("s", F, None)])
    assert "Swish" not in mo.convert(_save(m, tmp_path)).op_counts()
    run_onnx_vs_ir(m, {"x": _x()}, tmp_path)


def _save(m, tmp_path):
    import onnx

    tmp_path.mkdir(parents=True, exist_ok=True)
    p = tmp_path / "m.onnx"
    onnx.save(m, p)
    return p
