"""--layout / --source_layout / --target_layout: interface Transposes and the layout rt_info.

The IR is checked in the OpenVINO runtime against onnxruntime (or TensorFlow) on the
same data, given in the layout each side expects.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import mo
from mo.cli import cli
from mo.errors import OptionError
from mo.options import parse_layout, parse_layout_option
from mo.passes.layout import expand, permutation

from .runtime import ov_infer

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "sample_cnn.onnx"  # input "input" [1,3,64,64] NCHW


def _ort(feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(SAMPLE), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(names, feeds)))


def _convert(tmp_path: Path, **options) -> Path:
    graph = mo.convert(SAMPLE, **options)
    graph.check()
    xml = tmp_path / "ir" / "model.xml"
    mo.save(graph, xml)
    return xml


def _read(xml: Path):
    import openvino as ov

    return ov.Core().read_model(str(xml))


@pytest.fixture(scope="module")
def nchw_data() -> np.ndarray:
    return np.random.default_rng(0).standard_normal((1, 3, 64, 64)).astype(np.float32)


@pytest.mark.parametrize("options", [
    {"source_layout": "nchw", "target_layout": "nhwc"},
    {"layout": "input(nchw->nhwc)"},
    {"layout": "[n,c,h,w]->[n,h,w,c]"},
    {"target_layout": "input(NHWC)"},          # ONNX: the source is taken as channels-first
])
def test_input_to_nhwc_matches_onnxruntime(tmp_path, nchw_data, options):
    import openvino as ov

    xml = _convert(tmp_path, **options)
    model = _read(xml)
    assert list(model.input().get_partial_shape().to_shape()) == [1, 64, 64, 3]
    assert model.input().get_names() == {"input"}
    assert model.input().get_node().get_layout() == ov.Layout("NHWC")
    ref = _ort({"input": nchw_data})
    got = ov_infer(xml, {"input": nchw_data.transpose(0, 2, 3, 1).copy()})
    for name, r in ref.items():
        np.testing.assert_allclose(got[name], r, rtol=1e-4, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("text, expect", [("input(nchw)", "NCHW"), ("nchw", "NCHW"), ("input([n,c,h,w])", "NCHW"),
                                          ("input(?c??)", "?C??"), ("input(n...)", "N...")])
def test_layout_only_sets_rt_info(tmp_path, nchw_data, text, expect):
    import openvino as ov

    xml = _convert(tmp_path, layout=text)
    model = _read(xml)
    assert list(model.input().get_partial_shape().to_shape()) == [1, 3, 64, 64]
    assert model.input().get_node().get_layout() == ov.Layout(expect)
    assert "Transpose" not in {op.get_type_name() for op in model.get_ops()}
    ref = _ort({"input": nchw_data})
    got = ov_infer(xml, {"input": nchw_data})
    for name, r in ref.items():
        np.testing.assert_allclose(got[name], r, rtol=1e-4, atol=1e-5, err_msg=name)


def test_output_layout_transposes_before_result(tmp_path, nchw_data):
    import openvino as ov

    out_name = next(iter(_ort({"input": nchw_data})))
    xml = _convert(tmp_path, layout=f"{out_name}(nc->cn),input(nchw)")
    model = _read(xml)
    assert model.output().get_names() == {out_name}
    assert model.output().get_node().get_layout() == ov.Layout("CN")
    assert model.input().get_node().get_layout() == ov.Layout("NCHW")
    ref = _ort({"input": nchw_data})[out_name]
    got = ov_infer(xml, {"input": nchw_data})[out_name]
    np.testing.assert_allclose(got, ref.T, rtol=1e-4, atol=1e-5)


def test_parse_forms():
    assert parse_layout("nchw", "--layout") == ("N", "C", "H", "W")
    assert parse_layout("[batch,ch]", "--layout") == ("BATCH", "CH")
    assert parse_layout("n...c", "--layout") == ("N", "...", "C")
    specs = parse_layout_option("a(nhwc->nchw),b:0(nc)", "layout")
    assert [(s.name, s.source, s.target) for s in specs] == [("a", tuple("NHWC"), tuple("NCHW")),
                                                            ("b:0", ("N", "C"), None)]
    assert expand(("N", "...", "C"), 5, "x") == ("N", "...0", "...1", "...2", "C")
    assert permutation(expand(tuple("NC") + ("...",), 4, "x"), expand(("N", "...", "C"), 4, "x"), "x") == [0, 2, 3, 1]


@pytest.mark.parametrize("options, words", [
    ({"layout": "input(nc-hw)"}, "bad layout"),
    ({"layout": "input(nchw->nchwd)"}, "rank"),
    ({"layout": "nosuch(nchw)"}, "no input or output"),
    ({"layout": "input(nch)"}, "rank 3"),
    ({"layout": "input(nchw->nhwd)"}, "same dimensions"),
    ({"layout": "input(?chw->nhwc)"}, "cannot be moved"),
    ({"layout": "nchw", "source_layout": "nchw"}, "cannot be combined"),
    ({"source_layout": "nchw->nhwc"}, "is for --layout"),
    ({"layout": "input(n*c,h,w)"}, "not supported"),
])
def test_bad_layouts_are_option_errors(options, words):
    with pytest.raises(OptionError, match=words) as info:
        mo.convert(SAMPLE, **options)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("args, words", [
    (["--layout", "input(nc-hw)"], "bad layout"),
    (["--layout", "other(nchw)"], "no input or output"),
    (["--source_layout", "input(nchwx)", "--target_layout", "input(nhwcx)"], "rank"),
])
def test_cli_errors_exit_2(tmp_path, args, words):
    res = CliRunner().invoke(cli, ["convert", str(SAMPLE), "-o", str(tmp_path), *args])
    assert res.exit_code == 2, res.output
    err = res.stderr.strip()
    assert err.startswith("[ ERROR ]") and words in err and "\n" not in err
    assert not list(tmp_path.glob("*.xml"))


def test_cli_layout_change(tmp_path, nchw_data):
    res = CliRunner().invoke(cli, ["convert", str(SAMPLE), "-o", str(tmp_path), "-n", "m",
                                   "--source_layout", "nchw", "--target_layout", "nhwc"])
    assert res.exit_code == 0, res.output
    assert "layout: input 'input' [1,3,64,64] [N,C,H,W] -> [1,64,64,3] [N,H,W,C]" in res.output
    assert list(_read(tmp_path / "m.xml").input().get_partial_shape().to_shape()) == [1, 64, 64, 3]


@pytest.mark.parametrize("outputs_too", [False, True])
def test_tf_nhwc_graph_to_nchw(tmp_path, outputs_too):
    """A TF NHWC conv net with --target_layout nchw: the IR input is NCHW and matches TF on NHWC data.

    The frontend's own NHWC -> NCHW Transpose cancels with the inserted one; with the
    output named too, the IR has no Transpose left.
    """
    import openvino as ov
    tf = pytest.importorskip("tensorflow")
    from .tf.util import freeze, run_graph_def

    w = np.random.default_rng(1).standard_normal((3, 3, 3, 4)).astype(np.float32)

    def net(x):
        return tf.nn.relu(tf.nn.conv2d(x, w, strides=1, padding="SAME"))

    gd, outs, ins = freeze(net, [tf.TensorSpec((1, 8, 8, 3), tf.float32)])
    pb = tmp_path / "model.pb"
    pb.write_bytes(gd.SerializeToString())
    xml = tmp_path / "ir" / "model.xml"
    out = outs[0].split(":")[0]
    options = {"layout": f"{ins[0]}(nhwc->nchw),{out}(nhwc->nchw)"} if outputs_too else {"target_layout": "nchw"}
    mo.save(mo.convert(pb, **options), xml)
    model = _read(xml)
    assert list(model.input().get_partial_shape().to_shape()) == [1, 3, 8, 8]
    assert model.input().get_node().get_layout() == ov.Layout("NCHW")
    transposes = [op for op in model.get_ops() if op.get_type_name() == "Transpose"]
    assert len(transposes) == (0 if outputs_too else 1)
    x = np.random.default_rng(2).standard_normal((1, 8, 8, 3)).astype(np.float32)
    ref = run_graph_def(gd, {ins[0]: x}, outs)[0]
    if outputs_too:
        assert model.output().get_node().get_layout() == ov.Layout("NCHW")
        ref = ref.transpose(0, 3, 1, 2)
    got = ov_infer(xml, {ins[0]: x.transpose(0, 3, 1, 2).copy()})[outs[0]]
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)


def test_adjacent_transposes_are_composed(tmp_path):
    """An inserted Transpose next to a constant-order one merges (here into the identity); outputs
    sharing one tensor keep their own names; numbers match ORT."""
    from onnx import TensorProto, helper

    from .onnx.util import make_model, ort_infer

    nodes = [helper.make_node("Transpose", ["x"], ["t"], perm=[0, 2, 3, 1]),
             helper.make_node("Relu", ["t"], ["y"]),
             helper.make_node("Transpose", ["y"], ["z"], perm=[0, 3, 1, 2])]
    model = make_model(nodes, [("x", TensorProto.FLOAT, [1, 2, 3, 4])],
                       [("y", TensorProto.FLOAT, [1, 3, 4, 2]), ("z", TensorProto.FLOAT, [1, 2, 3, 4])])
    import onnx
    src = tmp_path / "m.onnx"
    onnx.save(model, src)
    graph = mo.convert(src, layout="x(nchw->nhwc),y(nhwc->nchw),z(nchw->nhwc)")
    xml = tmp_path / "m.xml"
    mo.save(graph, xml)
    ops = [op.get_type_name() for op in _read(xml).get_ops()]
    # after transpose_sinking: x -> Relu (z) -> Transpose (y); y's Transpose cancels, x's and z's are added
    assert ops.count("Transpose") == 2
    x = np.random.default_rng(3).standard_normal((1, 2, 3, 4)).astype(np.float32)
    ref = ort_infer(model, {"x": x})
    got = ov_infer(xml, {"x": x.transpose(0, 2, 3, 1).copy()})
    np.testing.assert_array_equal(got["y"], ref["y"].transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(got["z"], ref["z"].transpose(0, 2, 3, 1))


def test_validate_feeds_the_source_in_its_own_layout(tmp_path: Path) -> None:
    """--validate with a changed interface: the reference gets the data transposed back."""
    res = CliRunner().invoke(cli, ["convert", str(SAMPLE), "-o", str(tmp_path), "--validate",
                                   "--layout", "input(nchw->nhwc),probabilities(nc->cn)"])
    assert res.exit_code == 0, res.output
    assert "[ VALIDATE ] probabilities:" in res.output and "PASSED" in res.output
