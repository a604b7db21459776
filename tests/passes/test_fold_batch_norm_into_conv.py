"""fold_batch_norm_into_conv: must fire on Conv(+bias)+BN, must refuse with a reason otherwise."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper

import mo
from mo.passes import fold_batch_norm_into_conv

from ..onnx.util import make_model, run_onnx_vs_ir

RNG = np.random.default_rng(3)
F = TensorProto.FLOAT


def _bn_inits(c: int) -> list[tuple[str, np.ndarray]]:
    return [("gamma", RNG.uniform(0.5, 1.5, c).astype(np.float32)), ("beta", RNG.standard_normal(c).astype(np.float32)),
            ("mean", RNG.standard_normal(c).astype(np.float32)), ("var", RNG.uniform(0.5, 2, c).astype(np.float32))]


def _conv_bn(group: int, bias: bool, extra_user: bool = False):
    c_in, c_out = 4, 8
    w = RNG.standard_normal((c_out, c_in // group, 3, 3)).astype(np.float32)
    inits = [("w", w)] + _bn_inits(c_out)
    conv_in = ["x", "w"]
    if bias:
        inits.append(("b", RNG.standard_normal(c_out).astype(np.float32)))
        conv_in.append("b")
    nodes = [helper.make_node("Conv", conv_in, ["c"], pads=[1, 1, 1, 1], group=group),
             helper.make_node("BatchNormalization", ["c", "gamma", "beta", "mean", "var"], ["y"], epsilon=1e-3)]
    outputs = [("y", F, [1, c_out, 6, 6])]
    if extra_user:
        nodes.append(helper.make_node("Relu", ["c"], ["r"]))
        outputs.append(("r", F, [1, c_out, 6, 6]))
    return make_model(nodes, [("x", F, [1, c_in, 6, 6])], outputs, opset=15, inits=inits)


@pytest.mark.parametrize("group, bias", [(1, False), (1, True), (2, True), (4, False)])
def test_fires_and_keeps_numbers(tmp_path: Path, group: int, bias: bool) -> None:
    model = _conv_bn(group, bias)
    x = RNG.standard_normal((1, 4, 6, 6)).astype(np.float32)
    run_onnx_vs_ir(model, {"x": x}, tmp_path, rtol=1e-5, atol=1e-5)
    graph = mo.convert(tmp_path / "model.onnx")
    ops = graph.op_counts()
    assert "BatchNormInference" not in ops
    assert ops.get("Convolution", 0) + ops.get("GroupConvolution", 0) == 1 and ops["Add"] == 1
    report = next(r for r in graph.meta["reports"] if r.name == "fold_batch_norm_into_conv")
    assert report.summary.startswith("1 BatchNorm folded")


def test_refuses_when_the_convolution_has_another_user(tmp_path: Path) -> None:
    model = _conv_bn(1, True, extra_user=True)
    x = RNG.standard_normal((1, 4, 6, 6)).astype(np.float32)
    run_onnx_vs_ir(model, {"x": x}, tmp_path, rtol=1e-5, atol=1e-5)
    graph = mo.convert(tmp_path / "model.onnx")
    assert graph.op_counts()["BatchNormInference"] == 1
    bn = next(n for n in graph.nodes if n.op == "BatchNormInference")
    assert fold_batch_norm_into_conv.match(bn) == "the convolution's output has other users"


def test_refuses_when_the_input_is_not_a_convolution(tmp_path: Path) -> None:
    nodes = [helper.make_node("Relu", ["x"], ["r"]),
             helper.make_node("BatchNormalization", ["r", "gamma", "beta", "mean", "var"], ["y"])]
    model = make_model(nodes, [("x", F, [1, 8, 4, 4])], [("y", F, [1, 8, 4, 4])], opset=15, inits=_bn_inits(8))
    x = RNG.standard_normal((1, 8, 4, 4)).astype(np.float32)
    run_onnx_vs_ir(model, {"x": x}, tmp_path, rtol=1e-5, atol=1e-5)
    graph = mo.convert(tmp_path / "model.onnx")
    bn = next(n for n in graph.nodes if n.op == "BatchNormInference")
    assert fold_batch_norm_into_conv.match(bn) == "input comes from Relu, not a convolution"


def test_disable_fusing_keeps_the_batch_norm(tmp_path: Path) -> None:
    model = _conv_bn(1, True)
    x = RNG.standard_normal((1, 4, 6, 6)).astype(np.float32)
    run_onnx_vs_ir(model, {"x": x}, tmp_path, rtol=1e-5, atol=1e-5, disable_fusing=True)
    graph = mo.convert(tmp_path / "model.onnx", disable_fusing=True)
    assert graph.op_counts()["BatchNormInference"] == 1
    assert not any(r.name.startswith("fold_") and r.name != "fold_constants" for r in graph.meta["reports"])


@pytest.mark.parametrize("group", [1, 2])
def test_batch_norm_after_transposed_convolution_folds(tmp_path: Path, group: int) -> None:
    """ConvTranspose (ConvolutionBackpropData, or the group form) + BN: the BN scales filter axis 1
    (or axes 0 and 2 for groups) and leaves one Add. OpenVINO vs onnxruntime, rtol/atol 1e-4."""
    w = RNG.standard_normal((4, 6 // group, 3, 3)).astype(np.float32)
    nodes = [helper.make_node("ConvTranspose", ["x", "w"], ["c"], strides=[2, 2], group=group),
             helper.make_node("BatchNormalization", ["c", "gamma", "beta", "mean", "var"], ["y"], epsilon=1e-3)]
    model = make_model(nodes, [("x", F, [1, 4, 5, 5])], [("y", F, None)], opset=15, inits=[("w", w)] + _bn_inits(6))
    x = RNG.standard_normal((1, 4, 5, 5)).astype(np.float32)
    run_onnx_vs_ir(model, {"x": x}, tmp_path, rtol=1e-4, atol=1e-4)
    ops = mo.convert(tmp_path / "model.onnx").op_counts()
    assert "BatchNormInference" not in ops and ops["Add"] == 1, ops
