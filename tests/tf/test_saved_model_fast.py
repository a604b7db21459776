"""The TensorFlow-free readers: SavedModel fast path, tensor bundle, TensorProto decoding, frozen .pb.

What is checked against what:
* SavedModels read without TensorFlow (captured variables, a nested call, an embedding lookup
  through ResourceGather, two signatures) run in OpenVINO and match TensorFlow's own output of
  the loaded SavedModel (rtol/atol 1e-5); the same conversion in a fresh interpreter never
  imports ``tensorflow`` (checked in ``sys.modules`` and with ``python -X importtime`` for the CLI);
* a SavedModel with a control-flow function (``tf.cond`` -> StatelessIf) and a TF1 SavedModel
  are outside the fast path: the reader says why, the loader logs it at INFO and the
  TensorFlow path still converts them (outputs compared with TensorFlow);
* every tensor of a checkpoint read by mo's bundle reader equals ``tf.train.load_checkpoint``'s;
* the snappy decompressor against a block built by hand from the format (literal, copy with
  1- and 2-byte offsets, an overlapping copy);
* ``tensor_to_numpy`` on mo's TensorProto equals TensorFlow's ``MakeNdarray`` for packed
  content, typed lists, splats (fewer values than elements), f16, bool, i64 and strings.
"""
from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from .util import freeze, ov_infer, tf

import mo
from mo.frontends.tf import bundle as tfbundle
from mo.frontends.tf.context import tensor_to_numpy
from mo.frontends.tf.proto import TensorProto
from mo.frontends.tf.saved_model import FastPathUnsupported, read_saved_model_fast

RNG = np.random.default_rng(7)


class Dense2(tf.Module):
    """Two dense layers (captured variables), a nested tf.function call and an embedding lookup."""

    def __init__(self):
        super().__init__()
        self.w1 = tf.Variable(RNG.standard_normal((6, 5)).astype(np.float32))
        self.b1 = tf.Variable(RNG.standard_normal(5).astype(np.float32))
        self.w2 = tf.Variable(RNG.standard_normal((5, 3)).astype(np.float32))
        self.table = tf.Variable(RNG.standard_normal((10, 4)).astype(np.float32))

    @tf.function
    def hidden(self, x):
        return tf.nn.tanh(tf.matmul(x, self.w1) + self.b1)

    @tf.function(input_signature=[tf.TensorSpec([None, 6], tf.float32, name="x"),
                                  tf.TensorSpec([None], tf.int32, name="ids")])
    def serve(self, x, ids):
        h = self.hidden(x)
        emb = tf.gather(self.table, ids)   # ResourceGather on the variable
        return {"logits": tf.matmul(h, self.w2), "emb": emb * 2.0}

    @tf.function(input_signature=[tf.TensorSpec([None, 6], tf.float32, name="x")])
    def hidden_only(self, x):
        return {"h": self.hidden(x)}


class WithCond(tf.Module):
    def __init__(self):
        super().__init__()
        self.w = tf.Variable(RNG.standard_normal((3, 3)).astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec([2, 3], tf.float32, name="x")])
    def serve(self, x):
        y = tf.cond(tf.constant(True), lambda: tf.matmul(x, self.w), lambda: x)
        return {"y": y}


@pytest.fixture(scope="module")
def dense_sm(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("fast") / "dense"
    m = Dense2()
    tf.saved_model.save(m, str(d), signatures={"serving_default": m.serve, "hidden": m.hidden_only})
    return d


def _tf_outputs(sm: Path, signature: str, **feeds) -> dict[str, np.ndarray]:
    fn = tf.saved_model.load(str(sm)).signatures[signature]
    return {k: v.numpy() for k, v in fn(**{k: tf.constant(v) for k, v in feeds.items()}).items()}


def test_fast_path_matches_tensorflow(dense_sm, tmp_path):
    model = read_saved_model_fast(str(dense_sm), None, None)   # no fallback: this must be the fast path
    assert model.consts and all(hasattr(t, "chunks") for t in model.consts.values())
    # attributes the SavedModel strips at their default value are put back from the op list
    matmuls = [n for n in model.graph_def.node if n.op == "MatMul"]
    assert matmuls and all(not n.attr["transpose_a"].b for n in matmuls)
    g = mo.convert(dense_sm)
    ins = {n for v in g.inputs for n in v.names}
    assert {"x", "ids"} <= ins
    xml = tmp_path / "m.xml"
    mo.save(g, xml)
    x = RNG.standard_normal((3, 6)).astype(np.float32)
    ids = np.array([0, 9, 4, 4], np.int32)
    got = ov_infer(xml, {"x": x, "ids": ids})
    ref = _tf_outputs(dense_sm, "serving_default", x=x, ids=ids)
    for key in ("logits", "emb"):
        np.testing.assert_allclose(got[key], ref[key], rtol=1e-5, atol=1e-5, err_msg=key)
    # the other signature, chosen by name
    g2 = mo.convert(dense_sm, signature="hidden")
    xml2 = tmp_path / "h.xml"
    mo.save(g2, xml2)
    np.testing.assert_allclose(ov_infer(xml2, {"x": x})["h"], _tf_outputs(dense_sm, "hidden", x=x)["h"],
                               rtol=1e-5, atol=1e-5)


def test_fast_path_errors_match_tf_path(dense_sm):
    from mo.errors import InputError, OptionError
    with pytest.raises(InputError, match="tags"):
        read_saved_model_fast(str(dense_sm), ["train"], None)
    with pytest.raises(OptionError, match="no signature 'nope'"):
        read_saved_model_fast(str(dense_sm), None, "nope")


NO_TF = """
import sys
import mo
for path in sys.argv[1:]:
    g = mo.convert(path)
    mo.save(g, path + ".ir/model.xml")
print("tensorflow" in sys.modules, any(m.startswith("tensorflow") for m in sys.modules))
"""


def test_no_tensorflow_import(dense_sm, tmp_path):
    """A SavedModel and a frozen .pb convert in a fresh interpreter that never imports TensorFlow."""
    gd, _, _ = freeze(lambda a: tf.nn.relu(a) * 3.0, [tf.TensorSpec([2, 2], tf.float32)])
    pb = tmp_path / "frozen.pb"
    pb.write_bytes(gd.SerializeToString())
    r = subprocess.run([sys.executable, "-c", NO_TF, str(dense_sm), str(pb)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "False"], r.stdout
    # the CLI: -X importtime lists every module the process imports
    out = tmp_path / "cli"
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "mo", "convert", "--saved_model_dir",
                        str(dense_sm), "--output_dir", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    imported = [ln.rsplit("|", 1)[-1].strip() for ln in r.stderr.splitlines() if ln.startswith("import time:")]
    assert "mo.frontends.tf.saved_model" in imported
    assert not [m for m in imported if m.split(".")[0] == "tensorflow"]
    assert (out / "dense.xml").exists() or any(out.glob("*.xml"))


def test_control_flow_falls_back_to_tensorflow(tmp_path, caplog):
    d = tmp_path / "cond"
    m = WithCond()
    tf.saved_model.save(m, str(d), signatures={"serving_default": m.serve})
    with pytest.raises(FastPathUnsupported, match="control flow"):
        read_saved_model_fast(str(d), None, None)
    with caplog.at_level(logging.INFO, logger="mo"):
        g = mo.convert(d)
    assert any("reading the SavedModel with TensorFlow" in r.getMessage() and "control flow" in r.getMessage()
               for r in caplog.records), caplog.text
    xml = tmp_path / "m.xml"
    mo.save(g, xml)
    x = RNG.standard_normal((2, 3)).astype(np.float32)
    np.testing.assert_allclose(ov_infer(xml, {"x": x})["y"], x @ m.w.numpy(), rtol=1e-5, atol=1e-5)


def test_tf1_saved_model_falls_back(tmp_path):
    v1 = tf.compat.v1
    d = tmp_path / "tf1"
    w = RNG.standard_normal((4, 2)).astype(np.float32)
    g = tf.Graph()
    with g.as_default(), v1.Session(graph=g) as s:
        x = v1.placeholder(tf.float32, [None, 4], name="x")
        var = v1.get_variable("w", initializer=w, use_resource=False)
        y = tf.identity(tf.matmul(x, var), name="y")
        s.run(v1.global_variables_initializer())
        v1.saved_model.simple_save(s, str(d), {"x": x}, {"y": y})
    with pytest.raises(FastPathUnsupported):
        read_saved_model_fast(str(d), None, None)
    graph = mo.convert(d)
    xml = tmp_path / "m.xml"
    mo.save(graph, xml)
    xv = RNG.standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(ov_infer(xml, {"x": xv})["y"], xv @ w, rtol=1e-5, atol=1e-5)


def test_bundle_reader_matches_tensorflow(dense_sm):
    prefix = str(dense_sm / "variables" / "variables")
    b = tfbundle.TensorBundle(prefix)
    reader = tf.train.load_checkpoint(prefix)
    keys = set(reader.get_variable_to_shape_map())
    assert set(b.entries) == keys
    for k in keys:
        ref = reader.get_tensor(k)
        got = b.tensor(k)
        got = got.numpy() if hasattr(got, "numpy") else got
        if isinstance(ref, bytes) or ref.dtype == object:   # the object graph (a string scalar)
            assert got.reshape(-1)[0] == (ref if isinstance(ref, bytes) else ref.reshape(-1)[0]), k
        else:
            np.testing.assert_array_equal(got, ref, err_msg=k)


def test_snappy_block_by_hand():
    # uncompressed length 20: literal "abcd", copy len 8 offset 4 (1-byte offset form),
    # literal "XY", copy len 6 offset 2 (2-byte offset form, overlapping)
    block = bytes([20, (4 - 1) << 2]) + b"abcd"
    block += bytes([0b001 | ((8 - 4) << 2), 4])                 # kind 1: len 4..11, offset low byte
    block += bytes([(2 - 1) << 2]) + b"XY"
    block += bytes([0b10 | ((6 - 1) << 2)]) + (2).to_bytes(2, "little")
    assert tfbundle.snappy_decompress(block) == b"abcdabcdabcdXYXYXYXY"
    with pytest.raises(tfbundle.BundleError):
        tfbundle.snappy_decompress(bytes([5, 0b10 | (3 << 2), 9, 0]))   # copy before any output


@pytest.mark.parametrize("value", [
    np.arange(12, dtype=np.float32).reshape(3, 4),
    np.full((2, 3), 1.5, np.float32),
    np.array([[True, False], [False, False]]),
    np.array([7, -3, 2**40], np.int64),
    np.array([0.5, -2.0, 65504.0], np.float16),
    np.zeros((0, 3), np.int32),
    np.array(3, np.int8),
    np.array([b"ab", b"c"], dtype=object),
])
def test_tensor_proto_decoding(value):
    from tensorflow.python.framework import tensor_util
    tp = tensor_util.make_tensor_proto(value)
    ours = TensorProto()
    ours.ParseFromString(tp.SerializeToString())
    ref = tensor_util.MakeNdarray(tp)
    got = tensor_to_numpy(ours)
    assert got.shape == ref.shape and got.dtype == ref.dtype
    np.testing.assert_array_equal(got, ref)
    # splat form: one value for many elements
    tp = tensor_util.make_tensor_proto(2.5, dtype=tf.float32, shape=[2, 3])
    ours = TensorProto()
    ours.ParseFromString(tp.SerializeToString())
    np.testing.assert_array_equal(tensor_to_numpy(ours), np.full((2, 3), 2.5, np.float32))


def test_text_saved_model(dense_sm, tmp_path):
    """saved_model.pbtxt (text form, written by TensorFlow's own text printer) takes the fast path too."""
    import shutil

    from google.protobuf import text_format
    from tensorflow.core.protobuf import saved_model_pb2

    d = tmp_path / "text_sm"
    shutil.copytree(dense_sm / "variables", d / "variables")
    sm = saved_model_pb2.SavedModel()
    sm.ParseFromString((dense_sm / "saved_model.pb").read_bytes())
    (d / "saved_model.pbtxt").write_text(text_format.MessageToString(sm))
    read_saved_model_fast(str(d), None, None)   # parses (unknown fields skipped), no fallback
    g = mo.convert(d)
    xml = tmp_path / "m.xml"
    mo.save(g, xml)
    x = RNG.standard_normal((2, 6)).astype(np.float32)
    ids = np.array([1, 2], np.int32)
    got = ov_infer(xml, {"x": x, "ids": ids})
    ref = _tf_outputs(dense_sm, "serving_default", x=x, ids=ids)
    np.testing.assert_allclose(got["logits"], ref["logits"], rtol=1e-5, atol=1e-5)


def test_truncated_checkpoint(dense_sm, tmp_path):
    """A cut variables data file: the fast path declines (names the tensor), the CLI fails in one line, exit 2."""
    import shutil

    d = tmp_path / "cut"
    shutil.copytree(dense_sm, d)
    data = next((d / "variables").glob("variables.data-*"))
    data.write_bytes(data.read_bytes()[:40])
    with pytest.raises(FastPathUnsupported, match="past the end of the file"):
        read_saved_model_fast(str(d), None, None)
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "mo", "convert", "--saved_model_dir", str(d), "-o", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 2, r.stderr[-2000:]
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("[ ERROR ]")]
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr[-2000:]
    assert not out.exists() or not any(out.iterdir())
