"""While loops: Keras RNN layers, tf.while_loop with TensorLists, TF1 dynamic_rnn with TensorArrays.

mo unrolls a loop whose trip count is known at conversion time; each test compares the
OpenVINO outputs of the IR with TensorFlow's on the same inputs.
"""
from __future__ import annotations

import logging
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import mo
from mo.errors import ConversionError

from .test_saved_model_fast import NO_TF
from .util import check_tf_fn, freeze, ov_infer

v1 = tf.compat.v1


def _keras_rnn(kind: str) -> tf.keras.Model:
    tf.keras.utils.set_random_seed(7)
    inp = tf.keras.Input((9, 6), name="seq")
    L = tf.keras.layers
    if kind == "lstm_gru":
        x = L.LSTM(12, return_sequences=True)(inp)
        x = L.GRU(8)(x)
    elif kind == "bidirectional":
        x = L.Bidirectional(L.LSTM(7, return_sequences=True))(inp)
        x = L.GlobalAveragePooling1D()(x)
    elif kind == "simple_rnn_state":
        x, h = L.SimpleRNN(10, return_state=True)(inp)
        x = L.Concatenate()([x, h])
    elif kind == "masked":
        x = L.Masking(0.0)(inp)
        x = L.LSTM(8, return_sequences=True)(x)
        x = L.TimeDistributed(L.Dense(5))(x)
        x = L.GRU(4)(x)
    elif kind == "gru_reset_before":
        x = L.GRU(8, reset_after=False, go_backwards=True)(inp)
    else:
        raise ValueError(kind)
    out = L.Dense(3, name="logits")(x)
    return tf.keras.Model(inp, out)


@pytest.mark.parametrize("kind", ["lstm_gru", "bidirectional", "simple_rnn_state", "gru_reset_before", "masked"])
def test_keras_rnn_frozen(kind, tmp_path):
    model = _keras_rnn(kind)
    x = np.random.default_rng(0).standard_normal((2, 9, 6)).astype(np.float32)
    x[0, 6:] = 0.0  # masked steps (the Masking model skips them; the others just see zeros)
    check_tf_fn(lambda t: model(t), [x], tmp_path, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", ["lstm_gru", "bidirectional"])
def test_keras_rnn_saved_model_dynamic_batch(kind, tmp_path, caplog):
    """A SavedModel with a dynamic batch: the time dimension (9) is static, so the loop unrolls;
    the IR keeps the batch dynamic and runs batch 1 and batch 5. The TensorFlow-free reader
    handles the While functions itself (no fallback to TensorFlow)."""
    model = _keras_rnn(kind)
    sm = tmp_path / "sm"
    tf.saved_model.save(model, str(sm))
    with caplog.at_level(logging.INFO, logger="mo"):
        graph = mo.convert(sm)
    assert not any("with TensorFlow" in r.getMessage() for r in caplog.records), caplog.text
    graph.check()
    xml = tmp_path / "ir" / "model.xml"
    mo.save(graph, xml)
    (pin,) = graph.parameters
    assert pin.outputs[0].shape == (-1, 9, 6)
    assert not {"TensorIterator", "Loop"} & set(graph.op_counts())
    for batch in (1, 5):
        x = np.random.default_rng(batch).standard_normal((batch, 9, 6)).astype(np.float32)
        ref = model(x).numpy()
        got = next(iter(ov_infer(xml, {pin.outputs[0].name: x}).values()))
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)


def test_rnn_saved_model_without_tensorflow(tmp_path):
    """A Keras LSTM/GRU SavedModel converts in a fresh interpreter that never imports TensorFlow."""
    model = _keras_rnn("lstm_gru")
    sm = tmp_path / "sm"
    tf.saved_model.save(model, str(sm))
    r = subprocess.run([sys.executable, "-c", NO_TF, str(sm)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split() == ["False", "False"], r.stdout
    x = np.random.default_rng(11).standard_normal((3, 9, 6)).astype(np.float32)
    got = next(iter(ov_infer(str(sm) + ".ir/model.xml", {"inputs": x}).values()))
    np.testing.assert_allclose(got, model(x).numpy(), rtol=1e-5, atol=1e-5)


def test_while_loop_with_tensor_array(tmp_path):
    """tf.while_loop carrying a running value and a TensorArray (TF2 TensorList ops)."""
    w = tf.constant(np.random.default_rng(1).standard_normal((4, 4)).astype(np.float32) * 0.5)

    def fn(x):
        ta = tf.TensorArray(tf.float32, size=5)

        def body(i, h, ta):
            h = tf.tanh(tf.matmul(h, w) + tf.cast(i, tf.float32))
            return i + 1, h, ta.write(i, h)

        _, h, ta = tf.while_loop(lambda i, h, ta: i < 5, body, (tf.constant(0), x, ta))
        return h, tf.reduce_sum(ta.stack(), axis=0)

    x = np.random.default_rng(2).standard_normal((3, 4)).astype(np.float32)
    check_tf_fn(fn, [x], tmp_path)


def test_nested_while_loops(tmp_path):
    def fn(x):
        def outer(i, acc):
            def inner(j, a):
                return j + 1, a * 0.5 + tf.cast(i * j, tf.float32)
            _, acc = tf.while_loop(lambda j, a: j < i + 1, inner, (tf.constant(0), acc))
            return i + 1, acc
        return tf.while_loop(lambda i, acc: i < 4, outer, (tf.constant(0), x))[1]

    x = np.random.default_rng(3).standard_normal((2, 3)).astype(np.float32)
    check_tf_fn(fn, [x], tmp_path)


def test_tf1_while_loop_tensor_arrays(tmp_path):
    """A TF1 graph (control flow v1), written the way dynamic_rnn works: the sequence is
    unstacked into a TensorArrayV3, an Elman cell runs in an Enter/Merge/Switch/NextIteration/Exit
    frame and writes each step into a second TensorArray, which is gathered at the end;
    variables frozen with TF1's graph_util."""
    rng = np.random.default_rng(4)
    v1.disable_control_flow_v2()
    try:
        g = tf.Graph()
        with g.as_default():
            x = v1.placeholder(tf.float32, (None, 7, 5), name="x")
            w = v1.get_variable("w", initializer=rng.standard_normal((5, 6)).astype(np.float32) * 0.4)
            u = v1.get_variable("u", initializer=rng.standard_normal((6, 6)).astype(np.float32) * 0.4)
            seq = tf.transpose(x, (1, 0, 2))
            steps = tf.shape(seq)[0]
            inp = v1.TensorArray(tf.float32, size=steps).unstack(seq)
            out = v1.TensorArray(tf.float32, size=steps)
            h0 = tf.zeros(tf.stack([tf.shape(x)[0], 6]))

            def body(t, h, out):
                h = tf.tanh(tf.matmul(inp.read(t), w) + tf.matmul(h, u))
                return t + 1, h, out.write(t, h)

            _, h, out = v1.while_loop(lambda t, h, out: t < steps, body, (tf.constant(0), h0, out))
            tf.identity(tf.transpose(out.stack(), (1, 0, 2)), name="y")
            tf.identity(h, name="h")
            with v1.Session(graph=g) as s:
                s.run(v1.global_variables_initializer())
                gd = v1.graph_util.convert_variables_to_constants(s, g.as_graph_def(), ["y", "h"])
    finally:
        v1.enable_control_flow_v2()
    ops = {n.op for n in gd.node}
    assert {"Enter", "NextIteration", "TensorArrayV3", "TensorArrayReadV3", "TensorArrayWriteV3",
            "TensorArrayScatterV3", "TensorArrayGatherV3"} <= ops
    pb = tmp_path / "rnn.pb"
    pb.write_bytes(gd.SerializeToString())
    xv = rng.standard_normal((3, 7, 5)).astype(np.float32)
    g2 = tf.Graph()
    with g2.as_default():
        v1.import_graph_def(gd, name="")
        with v1.Session(graph=g2) as s:
            ref_y, ref_h = s.run(["y:0", "h:0"], {"x:0": xv})
    graph = mo.convert(pb)
    xml = tmp_path / "ir" / "model.xml"
    mo.save(graph, xml)
    got = ov_infer(xml, {"x": xv})
    np.testing.assert_allclose(got["y"], ref_y, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got["h"], ref_h, rtol=1e-5, atol=1e-5)


def test_runtime_trip_count_is_a_clear_error(tmp_path):
    """A sequence length only known at run time cannot be unrolled; the message says what to do."""
    model = _keras_rnn("lstm_gru")
    gd, _, _ = freeze(lambda t: model(t), [tf.TensorSpec((None, None, 6), tf.float32)])
    pb = tmp_path / "dyn.pb"
    pb.write_bytes(gd.SerializeToString())
    with pytest.raises(ConversionError, match="--input_shape"):
        mo.convert(pb)
    # the same model with the length given converts and matches
    graph = mo.convert(pb, input_shape="[2,9,6]")
    xml = tmp_path / "ir" / "model.xml"
    mo.save(graph, xml)
    x = np.random.default_rng(6).standard_normal((2, 9, 6)).astype(np.float32)
    got = next(iter(ov_infer(xml, {graph.parameters[0].outputs[0].name: x}).values()))
    np.testing.assert_allclose(got, model(x).numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("merge,blank", [(True, -1), (False, -1), (True, 0)])
def test_ctc_greedy_decoder(merge, blank, tmp_path):
    """CTCGreedyDecoder's sparse outputs, scores and the SparseToDense after it, with repeats,
    blanks and a zero-length sequence."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((12, 3, 6)).astype(np.float32)
    x[2:5, 0, :] = 0.0
    x[2:5, 0, 2] = 5.0   # a repeated class
    x[6, 1, :] = 0.0
    x[6, 1, blank] = 9.0  # a blank between equal classes
    sl = np.array([12, 7, 0], np.int32)

    def fn(x, sl):
        (d,), lp = tf.nn.ctc_greedy_decoder(x, sl, merge_repeated=merge, blank_index=blank)
        return d.indices, d.values, d.dense_shape, lp, tf.sparse.to_dense(d, default_value=-1)

    check_tf_fn(fn, [x, sl], tmp_path)


def test_crnn_style_model(tmp_path):
    """Conv features -> Bidirectional LSTM over the width -> per-step classes -> greedy CTC decoding
    (the shape of text-recognition models)."""
    tf.keras.utils.set_random_seed(3)
    L = tf.keras.layers
    inp = tf.keras.Input((16, 24, 1))
    x = L.Conv2D(8, 3, padding="same", activation="relu")(inp)
    x = L.MaxPooling2D((2, 2))(x)                       # [N, 8, 12, 8]
    x = L.Permute((2, 1, 3))(x)                          # width is time
    x = L.Reshape((12, 64))(x)
    x = L.Bidirectional(L.LSTM(10, return_sequences=True))(x)
    logits = L.Dense(7)(x)
    model = tf.keras.Model(inp, logits)

    def fn(img):
        y = tf.transpose(model(img), (1, 0, 2))
        (d,), _ = tf.nn.ctc_greedy_decoder(y, tf.fill([tf.shape(img)[0]], 12))
        return y, tf.sparse.to_dense(d, default_value=-1)

    img = np.random.default_rng(9).random((2, 16, 24, 1)).astype(np.float32)
    check_tf_fn(fn, [img], tmp_path, rtol=1e-4, atol=1e-5)
