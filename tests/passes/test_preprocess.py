"""--mean_values / --scale_values / --scale / --reverse_input_channels / --batch.

Every case runs the IR in OpenVINO on a *raw* input and the source model (onnxruntime or
TensorFlow) on the input preprocessed by hand in numpy:

    x_model = (x_raw[reversed channels] - mean) / scale

and asserts they agree (f32; rtol 1e-5, atol 1e-4 on outputs of magnitude ~1-100).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import mo
from mo.cli import cli
from mo.errors import OptionError

from ..runtime import ov_infer

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "sample_cnn.onnx"  # "input" [1,3,64,64] NCHW


def _ort(feeds):
    import onnxruntime as ort

    sess = ort.InferenceSession(str(SAMPLE), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(names, feeds)))


def _ir(tmp_path: Path, model=SAMPLE, **options) -> Path:
    graph = mo.convert(model, **options)
    graph.check()
    xml = tmp_path / "ir" / "model.xml"
    mo.save(graph, xml)
    return xml


def _raw(shape, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, shape).astype(np.float32)


def _assert_same(got: dict, ref: dict) -> None:
    for name, r in ref.items():
        np.testing.assert_allclose(got[name], r, rtol=1e-5, atol=1e-4, err_msg=name)


MEAN = np.array([123.675, 116.28, 103.53], np.float32)
STD = np.array([58.395, 57.12, 57.375], np.float32)


def test_onnx_mean_scale_reverse_nchw(tmp_path):
    xml = _ir(tmp_path, mean_values="[123.675,116.28,103.53]", scale_values="[58.395,57.12,57.375]",
              reverse_input_channels=True)
    raw = _raw((1, 3, 64, 64))
    pre = (raw[:, ::-1] - MEAN.reshape(1, 3, 1, 1)) / STD.reshape(1, 3, 1, 1)
    _assert_same(ov_infer(xml, {"input": raw}), _ort({"input": pre.astype(np.float32)}))


def test_onnx_named_mean_and_global_scale(tmp_path):
    xml = _ir(tmp_path, mean_values="input[10,20,30]", scale=255.0)
    raw = _raw((1, 3, 64, 64), seed=1)
    pre = (raw - np.array([10, 20, 30], np.float32).reshape(1, 3, 1, 1)) / 255.0
    _assert_same(ov_infer(xml, {"input": raw}), _ort({"input": pre.astype(np.float32)}))


def test_preprocessing_changes_the_result(tmp_path):
    """Guard: the options really act (the outputs differ from a plain conversion on the raw input)."""
    raw = _raw((1, 3, 64, 64), seed=2)
    plain = ov_infer(_ir(tmp_path / "a"), {"input": raw})
    pre = ov_infer(_ir(tmp_path / "b", mean_values="[100,100,100]", reverse_input_channels=True), {"input": raw})
    name = next(iter(plain))
    assert np.abs(plain[name] - pre[name]).max() > 1e-3


def test_cli_and_summary(tmp_path):
    res = CliRunner().invoke(cli, ["convert", str(SAMPLE), "--output_dir", str(tmp_path), "--mean_values",
                                   "[1,2,3]", "--scale_values", "[2,2,2]", "--reverse_input_channels"])
    assert res.exit_code == 0, res.output
    assert ("preprocess: input: channels reversed (in the first convolution's filter), mean 1,2,3, scale 2,2,2"
            in res.output)
    raw = _raw((1, 3, 64, 64), seed=3)
    pre = (raw[:, ::-1] - np.array([1, 2, 3], np.float32).reshape(1, 3, 1, 1)) / 2
    _assert_same(ov_infer(tmp_path / "sample_cnn.xml", {"input": raw}), _ort({"input": pre.astype(np.float32)}))


def test_layout_option_gives_the_channel_axis(tmp_path):
    """--layout nchw->nhwc: the IR input is NHWC, and the mean applies along the model's C."""
    xml = _ir(tmp_path, mean_values="[1,2,3]", layout="nchw->nhwc")
    raw = _raw((1, 64, 64, 3), seed=4)
    pre = raw.transpose(0, 3, 1, 2) - np.array([1, 2, 3], np.float32).reshape(1, 3, 1, 1)
    _assert_same(ov_infer(xml, {"input": raw}), _ort({"input": pre.astype(np.float32)}))


@pytest.mark.parametrize("options, message", [
    (dict(mean_values="[1,2]"), "2 values for input 'input', which has 3 channels"),
    (dict(mean_values="nope[1,2,3]"), "'nope' is no input of the model"),
    (dict(mean_values="[1,2,3],[4,5,6]"), "2 unnamed value lists given; the model has 1 input"),
    (dict(scale_values="[1,0,1]"), "divide by zero"),
    (dict(reverse_input_channels=True, input_shape="[1,1,64,64]"), "no floating-point input has 3 channels"),
])
def test_errors(options, message):
    with pytest.raises(OptionError, match=message.replace("[", r"\[").replace("(", r"\(")):
        mo.convert(SAMPLE, **options)


def test_batch_reshapes_the_whole_model(tmp_path):
    xml = _ir(tmp_path, batch=3)
    raw = np.random.default_rng(5).standard_normal((3, 3, 64, 64)).astype(np.float32)
    got = ov_infer(xml, {"input": raw})
    for i in range(3):  # the ONNX model's batch is fixed at 1: run each sample there
        ref = _ort({"input": raw[i:i + 1]})
        for name, r in ref.items():
            np.testing.assert_allclose(got[name][i:i + 1], r, rtol=1e-5, atol=1e-4, err_msg=f"{name}[{i}]")


@pytest.mark.slow
@pytest.mark.parametrize("layout", [None, "nhwc->nchw"], ids=["nhwc", "layout-nchw"])
def test_tf_nhwc_mean_scale_reverse(tmp_path, layout):
    """TF NHWC model; with --layout nhwc->nchw the IR takes NCHW raw input and the mean still
    applies along the model's C."""
    tf = pytest.importorskip("tensorflow")
    from ..tf.util import freeze, run_graph_def

    w = np.random.default_rng(6).standard_normal((3, 3, 3, 4)).astype(np.float32)

    def fn(x):
        return tf.nn.relu(tf.nn.conv2d(x, w, 1, "SAME"))

    gd, outs, ins = freeze(fn, [tf.TensorSpec((2, 16, 16, 3), tf.float32)])
    pb = tmp_path / "model.pb"
    pb.write_bytes(gd.SerializeToString())
    xml = _ir(tmp_path, model=pb, mean_values="[123.675,116.28,103.53]", scale_values="[58.395,57.12,57.375]",
              reverse_input_channels=True, **({"layout": layout} if layout else {}))
    raw = _raw((2, 16, 16, 3), seed=7)
    pre = ((raw[..., ::-1] - MEAN) / STD).astype(np.float32)
    ref = run_graph_def(gd, {ins[0]: pre}, outs)
    got = ov_infer(xml, {ins[0]: raw.transpose(0, 3, 1, 2) if layout else raw})
    np.testing.assert_allclose(got[outs[0]], ref[0], rtol=1e-5, atol=1e-4)


def _onnx_conv(tmp_path: Path, pads: list[int], group: int = 1) -> Path:
    import onnx
    from onnx import TensorProto, helper

    from ..onnx.util import make_model

    rng = np.random.default_rng(8)
    w = rng.standard_normal((6, 3 // group, 3, 3)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    model = make_model([helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=pads, group=group),
                        helper.make_node("Relu", ["c"], ["y"])],
                       [("x", TensorProto.FLOAT, [1, 3, 12, 12])], [("y", TensorProto.FLOAT, None)],
                       inits=[("w", w), ("b", b)])
    path = tmp_path / f"conv_{sum(pads)}.onnx"
    onnx.save(model, path)
    return path


def _onnx_ref(model: Path, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": x})[0]


PRE = dict(mean_values="[123.675,116.28,103.53]", scale_values="[58.395,57.12,57.375]")


@pytest.mark.parametrize("reverse", [False, True])
def test_mean_and_scale_fold_into_an_unpadded_first_conv(tmp_path, reverse):
    """Preprocessing runs before FUSE: with no padding read, the whole (x[rev] - mean) / scale
    becomes the first convolution's filter and bias (the Parameter feeds the Convolution
    directly; the reversal permutes the filter's input channels)."""
    model = _onnx_conv(tmp_path, [0, 0, 0, 0])
    graph = mo.convert(model, reverse_input_channels=reverse, **PRE)
    param = graph.parameters[0]
    assert [n.op for n in param.outputs[0].users()] == ["Convolution"], graph.format()
    counts = graph.op_counts()
    assert "Multiply" not in counts and "Gather" not in counts and counts.get("Add") == 1, counts  # the bias
    xml = mo.save(graph, tmp_path / "ir" / "m.xml").xml
    raw = _raw((1, 3, 12, 12), seed=9)
    rev = raw[:, ::-1] if reverse else raw
    pre = ((rev - MEAN.reshape(1, 3, 1, 1)) / STD.reshape(1, 3, 1, 1)).astype(np.float32)
    ref = _onnx_ref(model, pre)
    np.testing.assert_allclose(ov_infer(xml, {"x": raw})["y"], ref, rtol=1e-5, atol=1e-4)


def test_padded_first_conv_keeps_the_mean_outside(tmp_path):
    """A padded convolution reads zeros that the mean must not shift: the Add stays before it
    and the result is exact (border pixels included); the reversal still goes into the filter."""
    model = _onnx_conv(tmp_path, [1, 1, 1, 1])
    graph = mo.convert(model, reverse_input_channels=True, **PRE)
    users = [n.op for n in graph.parameters[0].outputs[0].users()]
    assert users != ["Convolution"], "the mean cannot be folded into a padded convolution"
    assert "Gather" not in graph.op_counts()
    xml = mo.save(graph, tmp_path / "ir" / "m.xml").xml
    raw = _raw((1, 3, 12, 12), seed=10)
    pre = ((raw[:, ::-1] - MEAN.reshape(1, 3, 1, 1)) / STD.reshape(1, 3, 1, 1)).astype(np.float32)
    ref = _onnx_ref(model, pre)
    got = ov_infer(xml, {"x": raw})["y"]
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(got[..., 0, :], ref[..., 0, :], rtol=1e-5, atol=1e-4)  # the padded border


def test_preprocessing_without_fusion(tmp_path):
    """--disable_fusing keeps the ops (Add of -mean, Multiply by 1/scale) and the same result."""
    model = _onnx_conv(tmp_path, [0, 0, 0, 0])
    graph = mo.convert(model, disable_fusing=True, reverse_input_channels=True, **PRE)
    ops = [n.op for n in graph.nodes if n.name.startswith("x/preprocess")]
    assert ops == ["Gather", "Add", "Multiply"], ops
    xml = mo.save(graph, tmp_path / "ir" / "m.xml").xml
    raw = _raw((1, 3, 12, 12), seed=11)
    pre = ((raw[:, ::-1] - MEAN.reshape(1, 3, 1, 1)) / STD.reshape(1, 3, 1, 1)).astype(np.float32)
    np.testing.assert_allclose(ov_infer(xml, {"x": raw})["y"], _onnx_ref(model, pre), rtol=1e-5, atol=1e-4)


@pytest.mark.slow
def test_tf_preprocessing_sits_after_the_layout_transpose_and_folds(tmp_path):
    """TF NHWC input: the ops go after the frontend's NHWC -> NCHW Transpose on the permuted
    channel axis, so a VALID first convolution absorbs mean and scale."""
    tf = pytest.importorskip("tensorflow")
    from ..tf.util import freeze, run_graph_def

    w = np.random.default_rng(12).standard_normal((3, 3, 3, 4)).astype(np.float32)
    gd, outs, ins = freeze(lambda x: tf.nn.relu(tf.nn.conv2d(x, w, 2, "VALID")),
                           [tf.TensorSpec((1, 17, 17, 3), tf.float32)])
    pb = tmp_path / "model.pb"
    pb.write_bytes(gd.SerializeToString())
    graph = mo.convert(pb, **PRE)
    transpose = graph.parameters[0].outputs[0].users()
    assert [n.op for n in transpose] == ["Transpose"], graph.format()
    assert [n.op for n in transpose[0].outputs[0].users()] == ["Convolution"], graph.format()
    counts = graph.op_counts()
    assert "Multiply" not in counts and counts.get("Add") == 1, counts  # the mean became the conv's bias
    xml = mo.save(graph, tmp_path / "ir" / "m.xml").xml
    raw = _raw((1, 17, 17, 3), seed=13)
    ref = run_graph_def(gd, {ins[0]: ((raw - MEAN) / STD).astype(np.float32)}, outs)[0]
    np.testing.assert_allclose(ov_infer(xml, {ins[0]: raw})[outs[0]], ref, rtol=1e-5, atol=1e-4)


def test_reverse_stays_a_gather_when_the_input_has_other_readers(tmp_path):
    """x feeds a Conv and a ReduceMean: the filter cannot take the reversal, a Gather does."""
    import onnx
    from onnx import TensorProto, helper

    from ..onnx.util import make_model

    w = np.random.default_rng(14).standard_normal((3, 3, 1, 1)).astype(np.float32)
    model = make_model([helper.make_node("Conv", ["x", "w"], ["c"]),
                        helper.make_node("ReduceMean", ["x"], ["m"], axes=[2, 3], keepdims=1),
                        helper.make_node("Mul", ["c", "m"], ["y0"]), helper.make_node("Relu", ["y0"], ["y"])],
                       [("x", TensorProto.FLOAT, [1, 3, 6, 6])], [("y", TensorProto.FLOAT, None)],
                       inits=[("w", w)], opset=13)
    src = tmp_path / "m.onnx"
    onnx.save(model, src)
    graph = mo.convert(src, reverse_input_channels=True, **PRE)
    assert graph.op_counts().get("Gather") == 1
    xml = mo.save(graph, tmp_path / "ir" / "m.xml").xml
    raw = _raw((1, 3, 6, 6), seed=15)
    pre = ((raw[:, ::-1] - MEAN.reshape(1, 3, 1, 1)) / STD.reshape(1, 3, 1, 1)).astype(np.float32)
    np.testing.assert_allclose(ov_infer(xml, {"x": raw})["y"], _onnx_ref(src, pre), rtol=1e-5, atol=1e-4)
