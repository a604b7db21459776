"""Element-wise, bitwise, type and quantization converters: tiny ONNX models through mo and
the OpenVINO runtime (f32), compared with onnxruntime.

Float results: rtol 1e-5 / atol 1e-6 unless a case says otherwise; integer and boolean
results must match exactly.
"""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import mo
from tests.onnx.util import run_onnx_vs_ir

_NP2ONNX = {np.float32: TensorProto.FLOAT, np.float16: TensorProto.FLOAT16, np.float64: TensorProto.DOUBLE,
            np.int8: TensorProto.INT8, np.uint8: TensorProto.UINT8, np.int16: TensorProto.INT16,
            np.uint16: TensorProto.UINT16, np.int32: TensorProto.INT32, np.int64: TensorProto.INT64,
            np.uint32: TensorProto.UINT32, np.uint64: TensorProto.UINT64, np.bool_: TensorProto.BOOL}


def _model(op: str, feeds: dict[str, np.ndarray], out_types: list[int], opset: int = 21,
           initializers: dict[str, np.ndarray] | None = None, inputs: list[str] | None = None,
           n_out: int = 1, **attrs) -> onnx.ModelProto:
    """One-node model; ``inputs`` lists the node's inputs (feeds, initializers or '' for missing)."""
    init = initializers or {}
    names = inputs if inputs is not None else list(feeds) + list(init)
    outs = [f"y{i}" for i in range(n_out)]
    node = helper.make_node(op, names, outs, **attrs)
    graph = helper.make_graph(
        [node], "g",
        [helper.make_tensor_value_info(k, _NP2ONNX[v.dtype.type], list(v.shape)) for k, v in feeds.items()],
        [helper.make_tensor_value_info(o, t, None) for o, t in zip(outs, out_types)],
        [onnx.numpy_helper.from_array(v, k) for k, v in init.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


RNG = np.random.default_rng(0)


def _sub(tmp_path, name: str):
    d = tmp_path / name
    d.mkdir()
    return d


def _f32(*shape, lo=-3.0, hi=3.0) -> np.ndarray:
    return RNG.uniform(lo, hi, shape).astype(np.float32)


# ----------------------------------------------------------------------------- activations

@pytest.mark.parametrize("op,attrs", [
    ("Selu", {}), ("Selu", {"alpha": 1.5, "gamma": 0.7}), ("Celu", {"alpha": 2.0}), ("Elu", {"alpha": 0.5}),
    ("HardSigmoid", {"alpha": 0.3, "beta": 0.4}), ("HardSwish", {}), ("ThresholdedRelu", {"alpha": 0.7}),
    ("Shrink", {"bias": 0.3, "lambd": 0.8}), ("Softplus", {}), ("Softsign", {}), ("Mish", {}),
    ("LeakyRelu", {"alpha": 0.2}), ("Gelu", {"approximate": "tanh"}), ("Gelu", {}), ("Erf", {}), ("Sign", {}),
    ("Reciprocal", {}), ("Round", {}),
])
def test_activation(tmp_path, op, attrs):
    x = _f32(2, 3, 4)
    x[0, 0, :] = [0.5, -1.5, 2.5, 0.0]  # ties for Round
    run_onnx_vs_ir(_model(op, {"x": x}, [TensorProto.FLOAT], opset=20, **attrs), {"x": x}, tmp_path,
                   rtol=1e-5, atol=1e-5)


def test_swish_opset24(tmp_path):
    """Swish-24 is newer than onnxruntime's opset support: compare with the formula."""
    from tests.onnx.util import convert_to_ir, ov_infer
    x = _f32(3, 5)
    xml = convert_to_ir(_model("Swish", {"x": x}, [TensorProto.FLOAT], opset=24, alpha=0.5), tmp_path)
    got = ov_infer(xml, {"x": x})["y0"]
    np.testing.assert_allclose(got, x / (1 + np.exp(-0.5 * x)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("slope_shape", [(4,), (3, 1), (1,), (3, 4)])
def test_prelu_numpy_broadcast(tmp_path, slope_shape):
    """A slope of length C == x.shape[1] must still align with the last axis, as in ONNX."""
    x = _f32(2, 4, 3, 4)
    slope = RNG.uniform(0.1, 0.9, slope_shape).astype(np.float32)
    m = _model("PRelu", {"x": x}, [TensorProto.FLOAT], initializers={"s": slope})
    run_onnx_vs_ir(m, {"x": x}, tmp_path)


# ----------------------------------------------------------------------------- arithmetic

# float Mod with fmod=0 is refused by onnxruntime; test_mod_float_python_style checks it against numpy
@pytest.mark.parametrize("dtype, fmod", [(d, f) for d in (np.int8, np.uint8, np.int32, np.int64) for f in (0, 1)]
                         + [(np.float32, 1)])
def test_mod(tmp_path, dtype, fmod):
    a = np.array([[-7, 7, -5, 5, 9, -9]], dtype) if dtype not in (np.uint8,) else np.array([[7, 200, 5, 9, 3, 250]], dtype)
    b = np.array([3, -3, 2, -2, 4, 5], dtype) if dtype not in (np.uint8,) else np.array([3, 7, 2, 2, 4, 5], dtype)
    run_onnx_vs_ir(_model("Mod", {"a": a, "b": b}, [_NP2ONNX[dtype]], fmod=fmod), {"a": a, "b": b}, tmp_path)


def test_mod_float_python_style(tmp_path):
    """fmod=0 on floats: sign of the divisor; a finite x modulo inf keeps x (or becomes inf)."""
    from tests.onnx.util import convert_to_ir, ov_infer
    a = np.array([-3, 3, -1, 1, 5.5, -5.5], np.float32)
    b = np.array([np.inf, np.inf, -np.inf, -np.inf, 2, 2], np.float32)
    xml = convert_to_ir(_model("Mod", {"a": a, "b": b}, [TensorProto.FLOAT], fmod=0), tmp_path)
    got = ov_infer(xml, {"a": a, "b": b})["y0"]
    np.testing.assert_array_equal(got, np.mod(a, b))


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div"])
@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.uint16, np.int32])
def test_integer_arithmetic(tmp_path, op, dtype):
    a = np.array([[7, -7, 9, 100], [5, 3, -1, 2]], dtype) if np.dtype(dtype).kind == "i" else \
        np.array([[7, 70, 9, 100], [5, 3, 1, 2]], dtype)
    b = np.array([2, 3, 4, 7], dtype)
    run_onnx_vs_ir(_model(op, {"a": a, "b": b}, [_NP2ONNX[dtype]]), {"a": a, "b": b}, tmp_path)


@pytest.mark.parametrize("xt,yt", [(np.float32, np.int32), (np.int32, np.int32), (np.int64, np.float32),
                                   (np.float32, np.int64)])
def test_pow_mixed(tmp_path, xt, yt):
    x = np.array([1, 2, 3, 4], xt)
    y = np.array([2, 3, 1, 0], yt)
    run_onnx_vs_ir(_model("Pow", {"x": x, "y": y}, [_NP2ONNX[xt]], opset=15), {"x": x, "y": y}, tmp_path)


@pytest.mark.parametrize("case", ["none", "min", "max", "both", "swapped"])
@pytest.mark.parametrize("dtype", [np.float32, np.int8, np.int64])
def test_clip(tmp_path, case, dtype):
    x = (np.arange(-6, 6).reshape(3, 4) * 2).astype(dtype)
    lo, hi = np.array(-3, dtype), np.array(5, dtype)
    if case == "swapped":
        lo, hi = hi, lo
    init, inputs = {}, ["x", "", ""]
    if case in ("min", "both", "swapped"):
        init["lo"], inputs[1] = lo, "lo"
    if case in ("max", "both", "swapped"):
        init["hi"], inputs[2] = hi, "hi"
    while inputs[-1] == "":
        inputs.pop()
    m = _model("Clip", {"x": x}, [_NP2ONNX[dtype]], initializers=init, inputs=inputs)
    run_onnx_vs_ir(m, {"x": x}, tmp_path)


def test_clip_runtime_bounds(tmp_path):
    x, lo, hi = _f32(3, 4), np.array(-1, np.float32), np.array(0.5, np.float32)
    run_onnx_vs_ir(_model("Clip", {"x": x, "lo": lo, "hi": hi}, [TensorProto.FLOAT]), {"x": x, "lo": lo, "hi": hi},
                   tmp_path)


@pytest.mark.parametrize("op", ["Sum", "Min", "Max", "Mean"])
def test_variadic_broadcast(tmp_path, op):
    feeds = {"a": _f32(2, 1, 4), "b": _f32(3, 1), "c": _f32(4)}
    run_onnx_vs_ir(_model(op, feeds, [TensorProto.FLOAT], opset=13), feeds, tmp_path)


def test_is_nan_is_inf(tmp_path):
    x = np.array([1.0, np.nan, np.inf, -np.inf, 0.0, -2.0], np.float32)
    for op, attrs in [("IsNaN", {}), ("IsInf", {}), ("IsInf", {"detect_negative": 0}),
                      ("IsInf", {"detect_positive": 0})]:
        run_onnx_vs_ir(_model(op, {"x": x}, [TensorProto.BOOL], **attrs), {"x": x}, _sub(tmp_path, f"{op}{attrs}"))


# ----------------------------------------------------------------------------- bitwise

@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.int32, np.uint32, np.int64])
@pytest.mark.parametrize("direction", ["LEFT", "RIGHT"])
def test_bitshift(tmp_path, dtype, direction):
    """Includes negative inputs and wrap-around of left shifts (values within +-2**20 for the wide
    types: OpenVINO's CPU runs fused integer chains in f32 and holds i64/u32 as i32)."""
    info = np.iinfo(dtype)
    hi, lo = min(int(info.max), 2 ** 20 + 3), max(int(info.min), -(2 ** 20))
    x = np.array([1, 3, 64, hi, lo, 5, 100], dtype)
    s = np.array([0, 1, 1, 1, 1, 2, 3], dtype)
    from tests.onnx.util import convert_to_ir, ov_infer
    xml = convert_to_ir(_model("BitShift", {"x": x, "s": s}, [_NP2ONNX[dtype]], direction=direction), tmp_path)
    got = ov_infer(xml, {"x": x, "s": s})["y0"]
    want = np.left_shift(x, s) if direction == "LEFT" else np.right_shift(x, s)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("op", ["BitwiseAnd", "BitwiseOr", "BitwiseXor"])
def test_bitwise_binary(tmp_path, op):
    a = np.array([[0x0F, -1, 0x55, 7]], np.int32)
    b = np.array([0x3C, 0x12, -0x56, 0], np.int32)
    run_onnx_vs_ir(_model(op, {"a": a, "b": b}, [TensorProto.INT32], opset=18), {"a": a, "b": b}, tmp_path)


def test_bitwise_not(tmp_path):
    x = np.array([0, 1, 255, 128], np.uint8)
    run_onnx_vs_ir(_model("BitwiseNot", {"x": x}, [TensorProto.UINT8], opset=18), {"x": x}, tmp_path)


# ----------------------------------------------------------------------------- Cast

@pytest.mark.parametrize("src,dst", [
    (np.float32, TensorProto.INT32), (np.float32, TensorProto.INT8), (np.float32, TensorProto.BOOL),
    (np.float32, TensorProto.FLOAT16), (np.float32, TensorProto.DOUBLE), (np.int64, TensorProto.FLOAT),
    (np.bool_, TensorProto.FLOAT), (np.int32, TensorProto.BOOL), (np.float16, TensorProto.FLOAT),
])
def test_cast(tmp_path, src, dst):
    x = np.array([[-1.7, 2.5, 0.0, 3.9, -0.2, 100.0]]).astype(src)
    run_onnx_vs_ir(_model("Cast", {"x": x}, [dst], opset=19, to=dst), {"x": x}, tmp_path)


def test_cast_like(tmp_path):
    x, like = _f32(2, 3) * 10, np.zeros((1,), np.int16)
    run_onnx_vs_ir(_model("CastLike", {"x": x, "like": like}, [TensorProto.INT16], opset=19),
                   {"x": x, "like": like}, tmp_path)


def test_cast_to_float8_fails_clearly(tmp_path):
    x = _f32(2, 3)
    path = tmp_path / "m.onnx"
    onnx.save(_model("Cast", {"x": x}, [TensorProto.FLOAT8E4M3FN], opset=19, to=TensorProto.FLOAT8E4M3FN), path)
    with pytest.raises(Exception, match="FLOAT8E4M3FN is not supported"):
        mo.convert(path)


# ----------------------------------------------------------------------------- quantization

@pytest.mark.parametrize("qtype", [np.uint8, np.int8, np.uint16, np.int16])
def test_quantize_dequantize_per_tensor(tmp_path, qtype):
    x = _f32(2, 3, 4, lo=-60, hi=60)
    scale, zp = np.array(0.37, np.float32), np.array(3, qtype)
    m = _model("QuantizeLinear", {"x": x}, [_NP2ONNX[qtype]], initializers={"s": scale, "z": zp})
    run_onnx_vs_ir(m, {"x": x}, _sub(tmp_path, "q"))
    q = np.arange(24, dtype=qtype).reshape(2, 3, 4)
    m = _model("DequantizeLinear", {"q": q}, [TensorProto.FLOAT], initializers={"s": scale, "z": zp})
    run_onnx_vs_ir(m, {"q": q}, _sub(tmp_path, "d"))


def test_quantize_per_axis_and_blocked(tmp_path):
    x = _f32(2, 6, 4, lo=-10, hi=10)
    s = np.array([0.1, 0.2, 0.05, 0.3, 0.07, 0.9], np.float32)
    z = np.array([0, 10, -3, 4, 1, -100], np.int8)
    m = _model("QuantizeLinear", {"x": x}, [TensorProto.INT8], initializers={"s": s, "z": z}, axis=1)
    run_onnx_vs_ir(m, {"x": x}, _sub(tmp_path, "axis"))
    sb = RNG.uniform(0.05, 0.5, (2, 2, 4)).astype(np.float32)  # blocks of 3 along axis 1
    zb = RNG.integers(0, 20, (2, 2, 4)).astype(np.uint8)
    m = _model("QuantizeLinear", {"x": x}, [TensorProto.UINT8], initializers={"s": sb, "z": zb}, axis=1,
               block_size=3)
    run_onnx_vs_ir(m, {"x": x}, _sub(tmp_path, "blocked"))
    q = RNG.integers(0, 255, (2, 6, 4)).astype(np.uint8)
    m = _model("DequantizeLinear", {"q": q}, [TensorProto.FLOAT], initializers={"s": sb, "z": zb}, axis=1,
               block_size=3)
    run_onnx_vs_ir(m, {"q": q}, _sub(tmp_path, "deq_blocked"))


def test_dynamic_quantize_linear(tmp_path):
    x = _f32(3, 4, lo=-2, hi=5)
    run_onnx_vs_ir(_model("DynamicQuantizeLinear", {"x": x}, [TensorProto.UINT8, TensorProto.FLOAT,
                                                               TensorProto.UINT8], n_out=3), {"x": x}, tmp_path)


def test_matmul_integer_and_qlinear_matmul(tmp_path):
    a = RNG.integers(0, 255, (2, 3, 4)).astype(np.uint8)
    b = RNG.integers(-128, 127, (4, 5)).astype(np.int8)
    m = _model("MatMulInteger", {"a": a}, [TensorProto.INT32], initializers={
        "b": b, "az": np.array(12, np.uint8), "bz": np.array(-3, np.int8)})
    run_onnx_vs_ir(m, {"a": a}, _sub(tmp_path, "mmi"))
    b8 = RNG.integers(0, 255, (4, 5)).astype(np.uint8)
    init = {"as": np.array(0.02, np.float32), "az": np.array(7, np.uint8), "b": b8,
            "bs": np.array(0.03, np.float32), "bz": np.array(130, np.uint8), "ys": np.array(0.5, np.float32),
            "yz": np.array(100, np.uint8)}
    m = _model("QLinearMatMul", {"a": a}, [TensorProto.UINT8], initializers=init,
               inputs=["a", "as", "az", "b", "bs", "bz", "ys", "yz"])
    run_onnx_vs_ir(m, {"a": a}, _sub(tmp_path, "qlmm"))


def test_conv_integer_and_qlinear_conv(tmp_path):
    x = RNG.integers(0, 255, (1, 2, 5, 5)).astype(np.uint8)
    w = RNG.integers(0, 255, (3, 2, 3, 3)).astype(np.uint8)
    m = _model("ConvInteger", {"x": x}, [TensorProto.INT32], initializers={"w": w, "xz": np.array(5, np.uint8)},
               inputs=["x", "w", "xz"], pads=[1, 1, 1, 1])
    run_onnx_vs_ir(m, {"x": x}, _sub(tmp_path, "ci"))
    wi = RNG.integers(-100, 100, (3, 2, 3, 3)).astype(np.int8)
    init = {"xs": np.array(0.01, np.float32), "xz": np.array(120, np.uint8), "w": wi,
            "ws": np.array([0.02, 0.01, 0.03], np.float32), "wz": np.array([0, 0, 0], np.int8),
            "ys": np.array(0.2, np.float32), "yz": np.array(128, np.uint8),
            "b": np.array([100, -200, 50], np.int32)}
    m = _model("QLinearConv", {"x": x}, [TensorProto.UINT8], initializers=init,
               inputs=["x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"], strides=[2, 2], pads=[1, 1, 1, 1])
    run_onnx_vs_ir(m, {"x": x}, _sub(tmp_path, "qlc"))


def test_bitcast_integers(tmp_path):
    """BitCast-26 is newer than onnxruntime's opset support: compare with numpy's view."""
    from tests.onnx.util import convert_to_ir, ov_infer
    x = np.array([-128, -1, 0, 1, 127], np.int8)
    xml = convert_to_ir(_model("BitCast", {"x": x}, [TensorProto.UINT8], opset=26, to=TensorProto.UINT8), tmp_path)
    np.testing.assert_array_equal(ov_infer(xml, {"x": x})["y0"], x.view(np.uint8))


def test_bitcast_float_fails_clearly(tmp_path):
    x = _f32(3)
    path = tmp_path / "m.onnx"
    onnx.save(_model("BitCast", {"x": x}, [TensorProto.INT32], opset=26, to=TensorProto.INT32), path)
    with pytest.raises(Exception, match="cannot reinterpret float bits"):
        mo.convert(path)
