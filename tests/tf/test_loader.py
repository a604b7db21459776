"""TF loading: SavedModel tags/signatures, TF1 meta graph + checkpoint freezing, bad input (exit 2, one line)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from .util import freeze, ov_infer, tf

import mo
from mo.errors import InputError, MoError, OptionError, UnsupportedOpsError

MO = [sys.executable, "-m", "mo"]


class Small(tf.Module):
    def __init__(self):
        super().__init__()
        self.w = tf.Variable(np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="features")])
    def serve(self, features):
        return {"scores": tf.nn.relu(tf.matmul(features, self.w)), "total": tf.reduce_sum(features, axis=1)}


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("sm") / "small"
    m = Small()
    tf.saved_model.save(m, str(d), signatures={"serving_default": m.serve, "other": m.serve})
    return d


def test_saved_model_signature_names(saved_model, tmp_path):
    g = mo.convert(saved_model)
    assert "features" in g.inputs[0].names and g.inputs[0].shape == (-1, 4)
    outs = {n for v in g.outputs for n in v.names}
    assert {"scores", "total"} <= outs
    xml = tmp_path / "m.xml"
    mo.save(g, xml)
    x = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    got = ov_infer(xml, {"features": x})
    w = Small().w.numpy()
    np.testing.assert_allclose(got["scores"], np.maximum(x @ w, 0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got["total"], x.sum(1), rtol=1e-5, atol=1e-6)
    # explicit options: tags and another signature
    g2 = mo.convert("", saved_model_dir=str(saved_model), saved_model_tags="serve", signature="other")
    assert "features" in g2.inputs[0].names


def test_saved_model_bad_tag_and_signature(saved_model):
    with pytest.raises(InputError, match="tags"):
        mo.convert(saved_model, saved_model_tags="train")
    with pytest.raises(OptionError, match="no signature 'nope'"):
        mo.convert(saved_model, signature="nope")


def _tf1_checkpoint(folder: Path) -> tuple[Path, str, np.ndarray, np.ndarray]:
    """A TF1 graph with variables, a PlaceholderWithDefault training flag, an optimizer and a saver."""
    v1 = tf.compat.v1
    g = tf.Graph()
    x_val = np.random.default_rng(2).standard_normal((2, 5)).astype(np.float32)
    with g.as_default():
        x = v1.placeholder(tf.float32, [None, 5], name="x")
        training = v1.placeholder_with_default(False, [], name="training")
        w = v1.get_variable("w", [5, 3], initializer=v1.random_normal_initializer(seed=1))
        b = v1.get_variable("b", [3], initializer=v1.constant_initializer(0.5))
        h = tf.matmul(x, w) + b
        h = h * (1.0 + 0.5 * tf.cast(training, tf.float32))   # the flag keeps its default (False)
        y = tf.identity(tf.nn.sigmoid(h), name="y")
        loss = tf.reduce_mean(tf.square(y))
        train = v1.train.GradientDescentOptimizer(0.1).minimize(loss)
        saver = v1.train.Saver()
        with v1.Session(graph=g) as s:
            s.run(v1.global_variables_initializer())
            s.run(train, {x: x_val, training: True})   # weights differ from their initial values
            ref = s.run(y, {x: x_val})
            prefix = saver.save(s, str(folder / "model.ckpt"))
    return Path(prefix + ".meta"), prefix, x_val, ref


def test_meta_graph_checkpoint(tmp_path):
    meta, prefix, x, ref = _tf1_checkpoint(tmp_path)
    g = mo.convert("", input_meta_graph=str(meta), input_checkpoint=prefix, outputs=["y"])
    ops = set(g.op_counts())
    assert not ops & {"Assign", "VariableV2", "SaveV2", "RestoreV2"}
    assert len(g.inputs) == 1
    xml = tmp_path / "m.xml"
    mo.save(g, xml)
    np.testing.assert_allclose(ov_infer(xml, {"x": x})["y"], ref, rtol=1e-5, atol=1e-6)
    # the checkpoint folder alone (outputs found as sinks that are not training machinery)
    g2 = mo.convert(tmp_path, outputs=["y"])
    assert len(g2.nodes) == len(g.nodes)


def test_placeholder_with_default_and_frozen_input(tmp_path):
    def f(x, y):
        return x * 2.0 + y
    gd, outs, ins = freeze(f, [tf.TensorSpec([2], tf.float32), tf.TensorSpec([2], tf.float32)])
    pb = tmp_path / "m.pb"
    pb.write_bytes(gd.SerializeToString())
    g = mo.convert(pb, inputs="x,y[2]->[1,2]")
    assert len(g.inputs) == 1
    xml = tmp_path / "m.xml"
    mo.save(g, xml)
    np.testing.assert_allclose(ov_infer(xml, {"x": np.array([3, 4], np.float32)})[outs[0]], [7, 10])


def test_unsupported_op_lists_all(tmp_path):
    gd, _, _ = freeze(lambda x: tf.signal.fft(tf.cast(x, tf.complex64)), [tf.TensorSpec([4], tf.float32)])
    pb = tmp_path / "m.pb"
    pb.write_bytes(gd.SerializeToString())
    with pytest.raises(UnsupportedOpsError, match="FFT"):
        mo.convert(pb)


@pytest.mark.parametrize("case", ["corrupt", "missing_tag", "missing_ckpt"])
def test_bad_input_cli(tmp_path, saved_model, case):
    out = tmp_path / "out"
    if case == "corrupt":
        bad = tmp_path / "bad.pb"
        bad.write_bytes(b"\x0a\xff\xff\xff garbage" * 10)
        args = [str(bad)]
    elif case == "missing_tag":
        args = ["--saved_model_dir", str(saved_model), "--saved_model_tags", "nope"]
    else:
        meta, prefix, _, _ = _tf1_checkpoint(tmp_path)
        args = ["--input_meta_graph", str(meta), "--input_checkpoint", str(tmp_path / "nothere.ckpt")]
    r = subprocess.run(MO + ["convert", *args, "-o", str(out)], capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("[ ERROR ]")]
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert not out.exists() or not any(out.iterdir())
