"""--batch and --input_shape reshape the whole model (ONNX and TensorFlow).

The new input shape is set on the Parameter before any op is converted, so every shape in the
model (including shape subgraphs: Shape -> Gather -> Concat -> Reshape) is inferred from it.
Each case runs the IR in OpenVINO (f32) on the new shape and compares with the source framework
on the same data (sample by sample when the source model's batch is fixed at 1), rtol 1e-5.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import mo
from mo.errors import MoError

from .onnx.util import make_model, ort_infer
from .runtime import ov_infer

RNG = np.random.default_rng(0)
W = RNG.standard_normal((4, 3, 3, 3)).astype(np.float32)
M = RNG.standard_normal((4 * 8 * 8, 5)).astype(np.float32)


def _conv_flatten_matmul(flatten: list, extra_inits=(), batch="1", spatial=(8, 8)) -> onnx.ModelProto:
    """Conv(pad 1) -> Relu -> <flatten nodes: r -> f> -> MatMul; input x [batch, 3, *spatial]."""
    nodes = [helper.make_node("Conv", ["x", "W"], ["c"], pads=[1, 1, 1, 1]), helper.make_node("Relu", ["c"], ["r"]),
             *flatten, helper.make_node("MatMul", ["f", "M"], ["y"])]
    dim0 = int(batch) if batch.isdigit() else batch
    return make_model(nodes, [("x", TensorProto.FLOAT, [dim0, 3, *spatial])], [("y", TensorProto.FLOAT, None)],
                      inits=[("W", W), ("M", M), *extra_inits])


def _ir(model: onnx.ModelProto, tmp_path: Path, **options) -> Path:
    src = tmp_path / "model.onnx"
    onnx.save(model, src)
    graph = mo.convert(src, **options)
    graph.check()
    return mo.save(graph, tmp_path / "ir" / "model.xml").xml


def _per_sample(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    return np.concatenate([ort_infer(model, {"x": x[i:i + 1]})["y"] for i in range(len(x))])


RESHAPE_0 = ([helper.make_node("Reshape", ["r", "s"], ["f"])], [("s", np.array([0, -1], np.int64))])
RESHAPE_MINUS1 = ([helper.make_node("Reshape", ["r", "s"], ["f"])], [("s", np.array([-1, 256], np.int64))])
# PyTorch's export of x.view(x.size(0), -1): the batch comes from a Shape subgraph
SHAPE_SUBGRAPH = ([helper.make_node("Shape", ["r"], ["sh"]),
                   helper.make_node("Gather", ["sh", "zero"], ["n"], axis=0),
                   helper.make_node("Unsqueeze", ["n", "axes"], ["n1"]),
                   helper.make_node("Concat", ["n1", "minus1"], ["target"], axis=0),
                   helper.make_node("Reshape", ["r", "target"], ["f"])],
                  [("zero", np.array(0, np.int64)), ("axes", np.array([0], np.int64)),
                   ("minus1", np.array([-1], np.int64))])
FLATTEN = ([helper.make_node("Flatten", ["r"], ["f"], axis=1)], [])


@pytest.mark.parametrize("flatten", [RESHAPE_0, RESHAPE_MINUS1, SHAPE_SUBGRAPH, FLATTEN],
                         ids=["reshape-0", "reshape-minus1", "shape-subgraph", "flatten"])
@pytest.mark.parametrize("option", [dict(batch=3), dict(input_shape="[3,3,8,8]")], ids=["batch", "input_shape"])
def test_onnx_batch_1_model_runs_at_batch_3(tmp_path, flatten, option):
    model = _conv_flatten_matmul(*flatten)
    xml = _ir(model, tmp_path, **option)
    x = RNG.standard_normal((3, 3, 8, 8)).astype(np.float32)
    got = ov_infer(xml, {"x": x})["y"]
    assert got.shape == (3, 5)
    np.testing.assert_allclose(got, _per_sample(model, x), rtol=1e-5, atol=1e-4)


def test_onnx_input_shape_fixes_dynamic_dims(tmp_path):
    """A model with symbolic N, H, W: --input_shape makes every shape static, to the output."""
    nodes = [helper.make_node("Conv", ["x", "W"], ["c"], pads=[1, 1, 1, 1], strides=[2, 2]),
             helper.make_node("Relu", ["c"], ["r"]), helper.make_node("GlobalAveragePool", ["r"], ["g"]),
             helper.make_node("Flatten", ["g"], ["y"])]
    model = make_model(nodes, [("x", TensorProto.FLOAT, ["N", 3, "H", "W"])], [("y", TensorProto.FLOAT, None)],
                       inits=[("W", W)])
    src = tmp_path / "model.onnx"
    onnx.save(model, src)
    graph = mo.convert(src, input_shape="[2,3,20,14]")
    assert all(n.outputs[0].is_static for n in graph.nodes if n.outputs), graph.format()
    assert graph.results[0].inputs[0].shape == (2, 4)
    xml = mo.save(graph, tmp_path / "ir" / "model.xml").xml
    x = RNG.standard_normal((2, 3, 20, 14)).astype(np.float32)
    np.testing.assert_allclose(ov_infer(xml, {"x": x})["y"], ort_infer(model, {"x": x})["y"], rtol=1e-5, atol=1e-5)


def test_onnx_batch_on_a_dynamic_batch_model(tmp_path):
    model = _conv_flatten_matmul(*SHAPE_SUBGRAPH, batch="N")
    xml = _ir(model, tmp_path, batch=4)
    import openvino as ov

    assert ov.Core().read_model(str(xml)).input(0).get_partial_shape().to_shape() == ov.Shape([4, 3, 8, 8])
    x = RNG.standard_normal((4, 3, 8, 8)).astype(np.float32)
    np.testing.assert_allclose(ov_infer(xml, {"x": x})["y"], ort_infer(model, {"x": x})["y"], rtol=1e-5, atol=1e-4)


def test_batch_with_a_constant_batch_in_a_reshape_target_is_a_clear_error(tmp_path):
    """A Reshape whose constant target spells out batch 1 ([1, 256]) cannot take batch 3; the
    conversion stops with one line naming the node instead of writing a wrong IR."""
    model = _conv_flatten_matmul([helper.make_node("Reshape", ["r", "s"], ["f"])],
                                 [("s", np.array([1, 256], np.int64))])
    src = tmp_path / "model.onnx"
    onnx.save(model, src)
    with pytest.raises(MoError, match=r"node 'f' \(Reshape\).*cannot reshape \[3, 4, 8, 8\] to \[1, 256\]"):
        mo.convert(src, batch=3)
    assert not (tmp_path / "ir").exists()


def test_batch_must_be_positive(tmp_path):
    src = tmp_path / "model.onnx"
    onnx.save(_conv_flatten_matmul(*RESHAPE_0), src)
    with pytest.raises(MoError, match="--batch 0: must be 1 or more"):
        mo.convert(src, batch=0)


@pytest.mark.slow
@pytest.mark.parametrize("spec_batch", [1, None], ids=["frozen-batch-1", "dynamic-batch"])
def test_tf_batch(tmp_path, spec_batch):
    tf = pytest.importorskip("tensorflow")
    from .tf.util import freeze, run_graph_def

    w = RNG.standard_normal((3, 3, 3, 4)).astype(np.float32)

    def fn(x):
        y = tf.nn.relu(tf.nn.conv2d(x, w, 1, "SAME"))
        return tf.reshape(y, [-1, 256]) @ M

    gd, outs, ins = freeze(fn, [tf.TensorSpec((spec_batch, 8, 8, 3), tf.float32)])
    pb = tmp_path / "model.pb"
    pb.write_bytes(gd.SerializeToString())
    for k, option in enumerate((dict(batch=3), dict(input_shape="[3,8,8,3]"))):
        graph = mo.convert(pb, **option)
        assert graph.results[0].inputs[0].shape == (3, 5)
        xml = mo.save(graph, tmp_path / f"ir{k}" / "model.xml").xml
        x = RNG.standard_normal((3, 8, 8, 3)).astype(np.float32)
        got = ov_infer(xml, {ins[0]: x})[outs[0]]
        if spec_batch is None:
            ref = run_graph_def(gd, {ins[0]: x}, outs)[0]
        else:
            ref = np.concatenate([run_graph_def(gd, {ins[0]: x[i:i + 1]}, outs)[0] for i in range(3)])
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-4)
