"""Caffe model files: the command-line forms, the prototxt variants real files use (old-style
inputs, V1 layers, in-place blobs, phases, train_val data layers), blob encodings (legacy
shapes, doubles), lazy weights, --validate, preprocessing, Conv+BatchNorm+Scale folding and
bad input (one line, exit 2, no files)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import mo
from mo.frontends import caffe
from mo.frontends.caffe.weights import read_caffemodel
from mo.tensor import LazyTensor, MappedTensor

from .test_layers import L, net
from .writer import (assert_close, check_vs_opencv, convert, make_model, opencv_run, output_names, ov_infer,
                     random_feeds)

MO = Path(sys.executable).with_name("mo")

SMALL = """
name: "small"
input: "data"
input_dim: 1
input_dim: 3
input_dim: 12
input_dim: 12
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  param { lr_mult: 1 decay_mult: 1 } param { lr_mult: 2 decay_mult: 0 }
  convolution_param { num_output: 6 kernel_size: 3 stride: 1 pad: 1
    weight_filler { type: "gaussian" std: 0.01 } bias_filler { type: "constant" value: 0 } } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1"
  pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
layer { name: "fc" type: "InnerProduct" bottom: "pool1" top: "fc" inner_product_param { num_output: 5 } }
layer { name: "prob" type: "Softmax" bottom: "fc" top: "prob" }
"""


def run_mo(*args: str) -> subprocess.CompletedProcess[str]:
    exe = [str(MO)] if MO.exists() else [sys.executable, "-m", "mo"]
    return subprocess.run(exe + list(args), capture_output=True, text=True, timeout=300)


# ----------------------------------------------------------------------------- file forms
def test_cli_input_proto_and_caffemodel(tmp_path):
    proto, weights = make_model(tmp_path, SMALL)
    out = tmp_path / "out"
    res = run_mo("convert", "--framework", "caffe", "--input_proto", str(proto), str(weights), "--output_dir", str(out))
    assert res.returncode == 0, res.stderr
    xml = out / "small.xml"   # named after the MODEL (the caffemodel's stem)
    xml = xml if xml.exists() else out / f"{weights.stem}.xml"
    feeds = {"data": np.random.default_rng(0).standard_normal((1, 3, 12, 12)).astype(np.float32)}
    ir = ov_infer(xml, feeds)["prob"]
    cv = opencv_run(proto, weights, feeds, ["prob"])["prob"]
    assert_close(ir, cv, 1e-4, 1e-6)


def test_detect_and_caffemodel_alone_finds_prototxt(tmp_path):
    proto, weights = make_model(tmp_path, SMALL)   # model.prototxt next to model.caffemodel
    assert caffe.detect(str(proto)) and caffe.detect(str(weights))
    graph = mo.convert(weights)                     # framework detected, prototxt of the same stem
    assert graph.meta["framework"] == "caffe"
    assert output_names(graph) == ["prob"]


def test_detect_refuses_other_formats(tmp_path):
    import onnx
    from onnx import TensorProto, helper
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    onnx.save(helper.make_model(g), tmp_path / "m.onnx")
    (tmp_path / "g.pbtxt").write_text('node { name: "x" op: "Placeholder" }\nnode { name: "y" op: "Relu" input: "x" }\n')
    (tmp_path / "n.txt").write_text("hello\n")
    from mo.frontends.tf.proto import mo_tf_framework_pb2 as tfpb
    gd = tfpb.GraphDef()
    for i in range(3):
        n = gd.node.add()
        n.name, n.op = f"n{i}", "Relu"
        n.input.append(f"n{i - 1}")
    (tmp_path / "g.pb").write_bytes(gd.SerializeToString())
    (tmp_path / "r.bin").write_bytes(np.random.default_rng(0).bytes(4096))
    assert not caffe.detect(str(tmp_path / "g.pb"))
    assert not caffe.detect(str(tmp_path / "r.bin"))
    assert not caffe.detect(str(tmp_path / "m.onnx"))
    assert not caffe.detect(str(tmp_path / "g.pbtxt"))
    assert not caffe.detect(str(tmp_path / "n.txt"))


def test_input_proto_with_input_model(tmp_path):
    """The old tool's spelling: --input_proto deploy.prototxt --input_model model.caffemodel."""
    proto, weights = make_model(tmp_path, SMALL)
    res = run_mo("convert", "--input_proto", str(proto), "--input_model", str(weights), "--output_dir",
                 str(tmp_path / "o"))
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "o" / "model.xml").exists()


def test_prototxt_as_model_with_input_model_weights(tmp_path):
    """mo convert deploy.prototxt --input_model w.caffemodel (CLI) and the same through the Python API."""
    proto, weights = make_model(tmp_path, SMALL)
    res = run_mo("convert", str(proto), "--input_model", str(weights), "--output_dir", str(tmp_path / "o"))
    assert res.returncode == 0, res.stderr
    feeds = {"data": np.random.default_rng(0).standard_normal((1, 3, 12, 12)).astype(np.float32)}
    cv = opencv_run(proto, weights, feeds, ["prob"])["prob"]
    assert_close(ov_infer(tmp_path / "o" / "model.xml", feeds)["prob"], cv, 1e-4, 1e-6)
    graph = mo.convert(proto, input_model=str(weights))
    xml = mo.save(graph, tmp_path / "api" / "m.xml").xml
    assert_close(ov_infer(xml, feeds)["prob"], cv, 1e-4, 1e-6)


def test_unknown_field_of_a_fork_is_ignored_with_a_warning(tmp_path, caplog):
    proto = tmp_path / "fork.prototxt"
    proto.write_text(net(L("r", "ReLU", body="relu_param { negative_slope: 0.1 fused_with_conv: true }")))
    with caplog.at_level("WARNING", logger="mo.frontends.caffe"):
        graph = mo.convert(proto)
    assert "fused_with_conv" in caplog.text and "ignored" in caplog.text
    assert graph.op_counts().get("PRelu") == 1


def test_prototxt_alone_says_weights_are_missing(tmp_path):
    proto, _ = make_model(tmp_path, SMALL)
    res = run_mo("convert", str(proto), "--output_dir", str(tmp_path / "out"))
    assert res.returncode == 2
    line = res.stderr.strip()
    assert len(line.splitlines()) == 1 and "no weights" in line and "conv1" in line and "--input_proto" in line
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_prototxt_alone_without_learned_layers_converts(tmp_path):
    proto = tmp_path / "act.prototxt"
    proto.write_text(net(L("r", "ReLU"), L("s", "Sigmoid", bottom="r")))
    graph = mo.convert(proto)
    assert output_names(graph) == ["s"]


# ----------------------------------------------------------------------------- prototxt variants
V1 = """
name: "legacy"
input: "data"
input_dim: 1 input_dim: 3 input_dim: 10 input_dim: 10
layers { name: "conv1" type: CONVOLUTION bottom: "data" top: "conv1"
  blobs_lr: 1 blobs_lr: 2 weight_decay: 1 weight_decay: 0
  convolution_param { num_output: 4 kernel_size: 3 } }
layers { name: "relu1" type: RELU bottom: "conv1" top: "conv1" }
layers { name: "pool1" type: POOLING bottom: "conv1" top: "pool1" pooling_param { pool: AVE kernel_size: 2 stride: 2 } }
layers { name: "drop" type: DROPOUT bottom: "pool1" top: "pool1" dropout_param { dropout_ratio: 0.5 } }
layers { name: "ip" type: INNER_PRODUCT bottom: "pool1" top: "ip" inner_product_param { num_output: 3 } }
layers { name: "loss" type: SOFTMAX_LOSS bottom: "ip" bottom: "label" top: "loss" include { phase: TRAIN } }
layers { name: "prob" type: SOFTMAX bottom: "ip" top: "prob" include { phase: TEST } }
"""


def test_v1_layers_form(tmp_path):
    """The legacy form, with a TRAIN-only loss that mo drops (OpenCV, which ignores phases, is given
    the file without it)."""
    proto, weights = make_model(tmp_path, V1, v1=True)
    xml, graph = convert(proto, weights, tmp_path)
    feeds = random_feeds(graph)
    cv_proto = tmp_path / "cv.prototxt"
    cv_proto.write_text("\n".join(x for x in proto.read_text().splitlines() if "SOFTMAX_LOSS" not in x))
    assert_close(ov_infer(xml, feeds)["prob"], opencv_run(cv_proto, weights, feeds, ["prob"])["prob"], 1e-4, 1e-6)
    assert "Dropout" not in str(graph.op_counts())


def test_input_shape_header_and_several_inputs(tmp_path):
    text = """
    name: "two"
    input: "a"
    input_shape { dim: 1 dim: 2 dim: 5 dim: 5 }
    input: "b"
    input_shape { dim: 1 dim: 2 dim: 5 dim: 5 }
    layer { name: "sum" type: "Eltwise" bottom: "a" bottom: "b" top: "sum" }
    layer { name: "c" type: "Convolution" bottom: "sum" top: "c" convolution_param { num_output: 3 kernel_size: 1 } }
    """
    ir, cv, graph = check_vs_opencv(tmp_path, text)
    assert [p.outputs[0].name for p in graph.parameters] == ["a", "b"]


def test_in_place_chain_and_outputs(tmp_path):
    """conv -> BN (in place) -> Scale (in place) -> ReLU (in place): one output blob named conv1;
    a blob read by a later layer is no output."""
    text = net(L("conv1", "Convolution", body="convolution_param { num_output: 4 kernel_size: 3 pad: 1 }"),
               L("bn1", "BatchNorm", bottom="conv1", top="conv1"),
               L("sc1", "Scale", bottom="conv1", top="conv1", body="scale_param { bias_term: true }"),
               L("relu1", "ReLU", bottom="conv1", top="conv1"),
               L("side", "Sigmoid", bottom="data"))
    ir, cv, graph = check_vs_opencv(tmp_path, text)
    assert output_names(graph) == ["conv1", "side"]


def test_phases_and_train_val_data_layers(tmp_path):
    """A train_val net: TRAIN-only layers (data, loss) are dropped, TEST data layer tops become
    inputs (shape from --input_shape), Accuracy and losses are removed."""
    text = """
    name: "train_val"
    layer { name: "data" type: "Data" top: "data" top: "label" include { phase: TRAIN }
      transform_param { mirror: true crop_size: 8 mean_value: 104 } data_param { source: "train_lmdb" batch_size: 64 backend: LMDB } }
    layer { name: "data" type: "Data" top: "data" top: "label" include { phase: TEST }
      transform_param { crop_size: 8 } data_param { source: "val_lmdb" batch_size: 1 backend: LMDB } }
    layer { name: "fc" type: "InnerProduct" bottom: "data" top: "fc" inner_product_param { num_output: 4 } }
    layer { name: "drop" type: "Dropout" bottom: "fc" top: "fc" exclude { phase: TEST } }
    layer { name: "accuracy" type: "Accuracy" bottom: "fc" bottom: "label" top: "accuracy" include { phase: TEST } }
    layer { name: "loss" type: "SoftmaxWithLoss" bottom: "fc" bottom: "label" top: "loss" }
    """
    proto = tmp_path / "tv.prototxt"
    from textwrap import dedent
    proto.write_text(dedent(text))
    from .writer import RandomBlobs
    from mo.frontends.caffe.layers import read_net
    from mo.frontends.caffe.loader import convert_net
    from mo.options import ConvertOptions
    layers = read_net(str(proto)).layers
    assert [la.name for la in layers] == ["data", "fc", "accuracy", "loss"]
    blobs = RandomBlobs(0)
    graph = convert_net(read_net(str(proto)), blobs, ConvertOptions(input_model=str(proto),
                                                                    input_shape=[(1, 3, 8, 8)]))
    assert [p.outputs[0].name for p in graph.parameters] == ["data"]
    assert output_names(graph) == ["fc"]
    with pytest.raises(mo.MoError, match="input 'data' has no shape"):
        convert_net(read_net(str(proto)), blobs, ConvertOptions(input_model=str(proto)))


def test_legacy_blob_shapes_and_double_data(tmp_path):
    """Blobs written with num/channels/height/width (an InnerProduct as 1x1xNxK) or as doubles
    (which OpenCV cannot read: the double model's IR is compared with OpenCV on the float file
    holding the same values)."""
    proto, weights = make_model(tmp_path, SMALL)
    for kw in ({"legacy_shapes": True}, {"double": True}):
        d = tmp_path / next(iter(kw))
        d.mkdir()
        proto_k, weights_k = make_model(d, SMALL, **kw)
        xml, graph = convert(proto_k, weights_k, d)
        feeds = random_feeds(graph)
        ref = opencv_run(proto, weights, feeds, ["prob"])["prob"]
        assert_close(ov_infer(xml, feeds)["prob"], ref, 1e-4, 1e-6)


def test_blobs_are_mapped_from_the_file(tmp_path):
    proto, weights = make_model(tmp_path, SMALL)
    layers = read_caffemodel(str(weights))
    t = layers["conv1"].blobs[0].tensor
    assert isinstance(t, MappedTensor) and t.shape == (6, 3, 3, 3) and t.path == str(weights)
    raw = weights.read_bytes()
    assert raw[t.offset:t.offset + t.nbytes] == np.ascontiguousarray(t.numpy()).tobytes()
    graph = mo.convert(weights, input_proto=str(proto))
    consts = [n.outputs[0].const for n in graph.nodes if n.op == "Const"]
    assert any(isinstance(c, MappedTensor) for c in consts)            # the InnerProduct weight, untouched
    proto2, weights2 = make_model(tmp_path, SMALL, name="dbl", double=True, legacy_shapes=True)
    assert isinstance(read_caffemodel(str(weights2))["conv1"].blobs[0].tensor, LazyTensor)
    g2 = mo.convert(weights2, input_proto=str(proto2))
    fc = next(n for n in g2.nodes if n.op == "MatMul").inputs[1].const   # stored as 1x1x5xK doubles
    assert isinstance(fc, LazyTensor) and isinstance(getattr(fc, "_source"), MappedTensor)


# ----------------------------------------------------------------------------- validate, preprocessing, fusion
def test_validate_runs_opencv(tmp_path):
    proto, weights = make_model(tmp_path, SMALL)
    res = run_mo("convert", "--input_proto", str(proto), str(weights), "--output_dir", str(tmp_path / "o"),
                 "--validate")
    assert res.returncode == 0, res.stderr + res.stdout
    assert "[ VALIDATE ] prob:" in res.stdout and "PASSED: caffe reference" in res.stdout


def test_mean_scale_reverse_channels(tmp_path):
    """IR on the raw RGB input == OpenCV on (bgr - mean) / scale (the Caffe BGR habit)."""
    proto, weights = make_model(tmp_path, SMALL)
    xml, graph = convert(proto, weights, tmp_path, mean_values="[104,117,123]", scale_values="[58,57,59]",
                         reverse_input_channels=True)
    rgb = np.random.default_rng(5).uniform(0, 255, (1, 3, 12, 12)).astype(np.float32)
    bgr = rgb[:, ::-1]
    pre = (bgr - np.array([104, 117, 123], np.float32).reshape(1, 3, 1, 1)) / \
        np.array([58, 57, 59], np.float32).reshape(1, 3, 1, 1)
    ir = ov_infer(xml, {"data": rgb})["prob"]
    cv = opencv_run(proto, weights, {"data": pre.astype(np.float32)}, ["prob"])["prob"]
    assert_close(ir, cv, 1e-4, 1e-6)


def test_conv_batchnorm_scale_fold_into_one_convolution(tmp_path):
    text = net(L("conv1", "Convolution", body="convolution_param { num_output: 4 kernel_size: 3 pad: 1 "
                                              "bias_term: false }"),
               L("bn1", "BatchNorm", bottom="conv1", top="conv1", body="batch_norm_param { use_global_stats: true }"),
               L("scale1", "Scale", bottom="conv1", top="conv1", body="scale_param { bias_term: true }"),
               L("relu1", "ReLU", bottom="conv1", top="conv1"),
               L("conv2", "Convolution", bottom="conv1", body="convolution_param { num_output: 5 kernel_size: 1 }"),
               L("bn2", "BatchNorm", bottom="conv2", top="conv2"),
               L("scale2", "Scale", bottom="conv2", top="conv2", body="scale_param { bias_term: true }"))
    ir, cv, graph = check_vs_opencv(tmp_path, text)
    counts = graph.op_counts()
    assert counts.get("Convolution") == 2 and counts.get("Add") == 2 and counts.get("Relu") == 1
    assert "BatchNormInference" not in counts and "Multiply" not in counts
    layers = sum(v for k, v in counts.items() if k not in ("Const", "Parameter", "Result"))
    assert layers == 5
    unfused = mo.convert(tmp_path / "model.caffemodel", input_proto=str(tmp_path / "model.prototxt"),
                         disable_fusing=True).op_counts()
    assert unfused.get("BatchNormInference") == 2 and unfused.get("Multiply") == 2


# ----------------------------------------------------------------------------- bad input
def _fails(tmp_path: Path, *args: str, mentions: tuple[str, ...]) -> str:
    out = tmp_path / "out"
    res = run_mo("convert", *args, "--output_dir", str(out))
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("[ ERROR ] ") and "Traceback" not in res.stderr, res.stderr
    for m in mentions:
        assert m in lines[0], (m, lines[0])
    assert not out.exists() or not list(out.iterdir())
    return lines[0]


def test_syntax_error_names_the_line(tmp_path):
    proto, weights = make_model(tmp_path, SMALL)
    text = proto.read_text().splitlines()
    text.insert(8, '  convolution_param { num_output: = }')   # becomes line 9
    proto.write_text("\n".join(text))
    _fails(tmp_path, "--input_proto", str(proto), str(weights), mentions=(f"{proto.name}:9:", "syntax error"))


def test_unknown_layer_type(tmp_path):
    proto = tmp_path / "u.prototxt"
    proto.write_text(net(L("w", "Warp"), L("w2", "Warp", bottom="w"), L("r", "ReLU", bottom="w2"),
                         L("q", "Python", bottom="r", body="python_param { module: 'm' layer: 'Mystery' }")))
    _fails(tmp_path, str(proto), mentions=("u.prototxt", "Warp x2", "Python:Mystery x1", "unsupported"))


def test_caffemodel_of_another_net(tmp_path):
    proto, weights = make_model(tmp_path, SMALL)
    (tmp_path / "b").mkdir()
    other = SMALL.replace('"conv1"', '"conv_a"')
    _, weights_b = make_model(tmp_path / "b", other)
    _fails(tmp_path, "--input_proto", str(proto), str(weights_b), mentions=("conv1", "same model", "model.caffemodel"))


def test_caffemodel_blob_shape_mismatch(tmp_path):
    proto, weights = make_model(tmp_path, SMALL)
    (tmp_path / "b").mkdir()
    _, weights_b = make_model(tmp_path / "b", SMALL.replace("num_output: 6", "num_output: 8"))
    _fails(tmp_path, "--input_proto", str(proto), str(weights_b), mentions=("conv1", "[8, 3, 3, 3]", "[6, 3, 3, 3]"))


def test_truncated_caffemodel(tmp_path):
    proto, weights = make_model(tmp_path, SMALL)
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    _fails(tmp_path, "--framework", "caffe", "--input_proto", str(proto), str(weights),
           mentions=("model.caffemodel", "not a readable .caffemodel"))
    _fails(tmp_path, "--input_proto", str(proto), str(weights), mentions=("model.caffemodel", "not a readable"))


def test_reads_undefined_blob(tmp_path):
    proto = tmp_path / "r.prototxt"
    proto.write_text(net(L("r", "ReLU", bottom="nothing")))
    _fails(tmp_path, str(proto), mentions=("'r'", "'nothing'"))


# ----------------------------------------------------------------------------- extensions, memory
def test_extension_registers_a_layer(tmp_path):
    """A user's --extensions file adds a converter with the frontend's own registry."""
    ext = tmp_path / "warp_ext.py"
    ext.write_text(
        "from mo.frontends.caffe.context import caffe_ops\n\n"
        "@caffe_ops.op('Warp')\n"
        "def warp(g, x):\n"
        "    '''Warp here: y = x * 2 + blob 0 (one value per channel).'''\n"
        "    c = g.static_shape(x)[1]\n"
        "    b = g.op('Reshape', g.blob(0, (c,), 'bias'), g.i64([1, c, 1, 1]), special_zero=False)\n"
        "    return g.op('Add', g.op('Multiply', x, g.f32(2.0)), b)\n")
    from mo.pipeline import load_extension
    load_extension(str(ext))
    try:
        proto, weights = make_model(tmp_path, net(L("w", "Warp")))
        xml, graph = convert(proto, weights, tmp_path, extensions=[str(ext)])
        from .writer import blobs_of
        feeds = random_feeds(graph)
        ref = feeds["data"] * 2 + blobs_of(weights)["w"][0].reshape(1, 3, 1, 1)
        assert_close(ov_infer(xml, feeds)["w"], ref, 1e-6, 1e-6)
    finally:
        from mo.frontends.caffe.context import caffe_ops
        caffe_ops._ops.pop(("", "Warp"), None)


def test_reading_a_large_caffemodel_copies_no_weights(tmp_path):
    """A 32 MB InnerProduct blob: reading the .caffemodel and converting keep < 4 MB of Python/numpy
    allocations (the blob stays a slice of the file until the emitter streams it)."""
    import tracemalloc
    text = net(L("fc", "InnerProduct", body="inner_product_param { num_output: 1024 }"), shape=(1, 8192))
    proto, weights = make_model(tmp_path, text)
    assert weights.stat().st_size > 32 << 20
    tracemalloc.start()
    try:
        graph = mo.convert(weights, input_proto=str(proto))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20, f"peak {peak / 2**20:.1f} MB"
    xml = tmp_path / "ir" / "big.xml"
    mo.save(graph, xml)
    feeds = random_feeds(graph)
    from .writer import blobs_of
    w, b = blobs_of(weights)["fc"]
    assert_close(ov_infer(xml, feeds)["fc"], feeds["data"].astype(np.float64) @ w.T + b, 1e-5, 1e-4)


def test_input_rewritten_in_place_and_output_by_layer_name(tmp_path):
    """A Scale applied to the input blob in place keeps the input's name on the Parameter; --output
    takes a blob (its final value) or an in-place layer (its value there)."""
    text = net(L("data_scale", "Power", bottom="data", top="data", body="power_param { scale: 0.5 }"),
               L("conv1", "Convolution", body="convolution_param { num_output: 4 kernel_size: 1 }"),
               L("bn1", "BatchNorm", bottom="conv1", top="conv1"),
               L("relu1", "ReLU", bottom="conv1", top="conv1"))
    ir, cv, graph = check_vs_opencv(tmp_path, text)
    assert [p.outputs[0].name for p in graph.parameters] == ["data"]
    assert output_names(graph) == ["conv1"]
    xml, g2 = convert(tmp_path / "model.prototxt", tmp_path / "model.caffemodel", tmp_path / "o2",
                      outputs=["bn1", "conv1"])
    feeds = random_feeds(g2)
    res = ov_infer(xml, feeds)
    assert res["bn1"].min() < 0 and res["conv1"].min() >= 0     # before and after the in-place ReLU
    np.testing.assert_allclose(np.maximum(res["bn1"], 0), res["conv1"], rtol=1e-6, atol=1e-6)


def test_fp16_and_input_shape_override(tmp_path):
    """--data_type FP16 stores f16 weights; --input_shape gives a fully convolutional net another size."""
    text = net(L("conv1", "Convolution", body="convolution_param { num_output: 4 kernel_size: 3 pad: 1 }"),
               L("relu1", "ReLU", bottom="conv1", top="conv1"),
               L("pool1", "Pooling", bottom="conv1", body="pooling_param { pool: MAX kernel_size: 3 stride: 2 }"))
    proto, weights = make_model(tmp_path, text)
    xml, graph = convert(proto, weights, tmp_path, data_type="FP16", input_shape="[1,3,21,17]")
    assert graph.parameters[0].outputs[0].shape == (1, 3, 21, 17)
    feeds = random_feeds(graph)
    ir = ov_infer(xml, feeds)["pool1"]
    cv = opencv_run(proto, weights, feeds, ["pool1"])["pool1"]
    assert ir.shape == (1, 4, 10, 8)
    assert_close(ir, cv, 2e-3, 1e-3)
    assert 'element_type="f16"' in xml.read_text()
