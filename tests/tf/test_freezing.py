"""Freezing TF1 training graphs for inference: cond (Switch/Merge) on a constant or
PlaceholderWithDefault predicate resolved, the dead branch and the training machinery
(optimizer, saver, moving-average updates, dropout randomness) gone from the IR."""
from __future__ import annotations

import numpy as np
import pytest

import mo
from mo.errors import ConversionError, MoError

from .util import ov_infer, tf

v1 = tf.compat.v1

# what an inference conv -> bn -> relu -> dropout -> dense -> softmax may become
INFERENCE_OPS = {"Parameter", "Const", "Result", "Convolution", "Add", "Multiply", "Subtract", "Relu", "Reshape",
                 "MatMul", "SoftMax", "Transpose"}


def _tf1_graph(v1_cf: bool = True):
    """Build the TF1 training graph (control flow v1: Switch/Merge); returns graph and key tensors."""
    g = tf.Graph()
    with g.as_default():
        v1.set_random_seed(0)
        x = v1.placeholder(tf.float32, [None, 8, 8, 3], name="x")
        training = v1.placeholder_with_default(False, [], name="training")
        w = v1.get_variable("conv/w", [3, 3, 3, 4])
        y = tf.nn.conv2d(x, w, 1, "SAME")
        gamma = v1.get_variable("bn/gamma", [4], initializer=v1.ones_initializer())
        beta = v1.get_variable("bn/beta", [4], initializer=v1.zeros_initializer())
        mm = v1.get_variable("bn/moving_mean", [4], initializer=v1.zeros_initializer(), trainable=False)
        mv = v1.get_variable("bn/moving_var", [4], initializer=v1.ones_initializer(), trainable=False)

        def bn_train():
            return v1.nn.fused_batch_norm(y, gamma, beta, epsilon=1e-3, is_training=True)

        def bn_infer():
            o, _, _ = v1.nn.fused_batch_norm(y, gamma, beta, mm, mv, epsilon=1e-3, is_training=False)
            return o, tf.identity(mm), tf.identity(mv)

        y, bm, bv = v1.cond(training, bn_train, bn_infer, name="bn_cond")
        upd = [v1.assign_sub(mm, 0.3 * (mm - bm)), v1.assign_sub(mv, 0.3 * (mv - bv))]
        y = tf.nn.relu(y)
        y = v1.cond(training, lambda: tf.nn.dropout(y, rate=0.5), lambda: tf.identity(y), name="dropout")
        y = tf.reshape(y, [-1, 8 * 8 * 4])
        wd = v1.get_variable("dense/w", [256, 5])
        bd = v1.get_variable("dense/b", [5], initializer=v1.constant_initializer(0.1))
        logits = tf.matmul(y, wd) + bd
        prob = tf.nn.softmax(logits, name="prob")
        labels = v1.placeholder(tf.int64, [None], name="labels")
        loss = v1.losses.sparse_softmax_cross_entropy(labels, logits)
        with tf.control_dependencies(upd):
            train = v1.train.AdamOptimizer(0.01).minimize(loss)
        saver = v1.train.Saver()
    return g, x, training, labels, train, saver, prob


@pytest.fixture(scope="module", params=["resource_vars", "ref_vars"])
def tf1_model(tmp_path_factory, request):
    """A trained-for-3-steps TF1 graph saved as meta graph + checkpoint, its frozen GraphDef and TF's outputs
    (with resource variables, and with TF1's ref variables: RefSwitch, VariableV2, optimizer slot reads)."""
    d = tmp_path_factory.mktemp("tf1")
    v1.disable_control_flow_v2()
    if request.param == "ref_vars":
        v1.disable_resource_variables()
    try:
        g, x, training, labels, train, saver, prob = _tf1_graph()
        rng = np.random.default_rng(0)
        x_val = rng.standard_normal((2, 8, 8, 3)).astype(np.float32)
        with v1.Session(graph=g) as s:
            s.run(v1.global_variables_initializer())
            for _ in range(3):
                s.run(train, {x: rng.standard_normal((4, 8, 8, 3)).astype(np.float32), labels: [0, 1, 2, 3],
                              training: True})
            prefix = saver.save(s, str(d / "model"))
            ref = s.run(prob, {x: x_val})   # training defaults to False: inference
            frozen = v1.graph_util.convert_variables_to_constants(s, g.as_graph_def(), ["prob"])
    finally:
        v1.enable_control_flow_v2()
        v1.enable_resource_variables()
    (d / "frozen.pb").write_bytes(frozen.SerializeToString())
    assert {"Switch", "Merge"} <= {n.op for n in frozen.node}   # TF's own frozen graph keeps the conds
    return d, prefix, x_val, ref, frozen


def _tf_frozen_run(gd, x_val):
    g = tf.Graph()
    with g.as_default():
        v1.import_graph_def(gd, name="")
        with v1.Session(graph=g) as s:
            return s.run("prob:0", {"x:0": x_val})


def _check(graph, tmp_path, x_val, ref):
    graph.check()
    ops = set(graph.op_counts())
    assert ops <= INFERENCE_OPS, f"training/control-flow ops left in the IR: {ops - INFERENCE_OPS}"
    xml = tmp_path / "ir" / "model.xml"
    mo.save(graph, xml)
    got1 = ov_infer(xml, {"x": x_val})["prob"]
    got2 = ov_infer(xml, {"x": x_val})["prob"]
    np.testing.assert_array_equal(got1, got2)   # no dropout randomness
    np.testing.assert_allclose(got1, ref, rtol=1e-5, atol=1e-6)
    return graph


def test_meta_graph_with_training_branches(tf1_model, tmp_path):
    """Meta graph + checkpoint, outputs found automatically (loss/train op/saver are not outputs)."""
    d, prefix, x_val, ref, frozen = tf1_model
    np.testing.assert_allclose(_tf_frozen_run(frozen, x_val), ref, rtol=1e-6)
    g = mo.convert("", input_meta_graph=str(d / "model.meta"), input_checkpoint=prefix)
    assert [v.names for v in g.inputs] and "x" in g.inputs[0].names and len(g.inputs) == 1   # no 'labels'
    assert len(g.outputs) == 1 and "prob" in g.outputs[0].names
    _check(g, tmp_path, x_val, ref)


def test_tf_frozen_graph_with_conds(tf1_model, tmp_path):
    """TensorFlow's own frozen inference graph (Switch/Merge still in it) converts to the same outputs."""
    d, _, x_val, ref, _ = tf1_model
    _check(mo.convert(d / "frozen.pb"), tmp_path, x_val, ref)


def test_predicate_frozen_by_input_option(tf1_model, tmp_path):
    d, _, x_val, ref, _ = tf1_model
    _check(mo.convert(d / "frozen.pb", inputs="x,training->0"), tmp_path, x_val, ref)


def test_training_true_needs_training_ops(tf1_model):
    """Freezing training=True selects the training branches: the training batch norm (or the dropout
    randomness) is reported, nothing is converted silently."""
    d = tf1_model[0]
    with pytest.raises(MoError, match="training mode|RandomUniform"):
        mo.convert(d / "frozen.pb", inputs="x,training->1")


def test_runtime_predicate_is_a_clear_error(tf1_model):
    d = tf1_model[0]
    with pytest.raises(ConversionError, match="not supported yet"):
        mo.convert(d / "frozen.pb", inputs="x,training")


@pytest.mark.parametrize("pred", [True, False])
def test_const_predicate_nested_cond(tmp_path, pred):
    """cond on a Const predicate, with a nested cond inside the taken branch; Merge's index output unused."""
    v1.disable_control_flow_v2()
    try:
        g = tf.Graph()
        with g.as_default():
            x = v1.placeholder(tf.float32, [2, 3], name="x")
            p = tf.constant(pred)
            q = v1.placeholder_with_default(tf.constant(True), [], name="q")
            y = v1.cond(p, lambda: v1.cond(q, lambda: x * 2.0, lambda: x - 1.0), lambda: tf.exp(x) + 3.0)
            tf.identity(y, name="out")
        gd = g.as_graph_def()
    finally:
        v1.enable_control_flow_v2()
    pb = tmp_path / "m.pb"
    pb.write_bytes(gd.SerializeToString())
    x_val = np.arange(6, dtype=np.float32).reshape(2, 3)
    graph = mo.convert(pb, outputs=["out"])
    assert set(graph.op_counts()) <= {"Parameter", "Const", "Result", "Multiply", "Add", "Exp"}
    xml = tmp_path / "ir" / "m.xml"
    mo.save(graph, xml)
    want = x_val * 2.0 if pred else np.exp(x_val) + 3.0
    np.testing.assert_allclose(ov_infer(xml, {"x": x_val})["out"], want, rtol=1e-6)


def test_iterator_input_pipeline(tmp_path):
    """A TF1 graph fed by a tf.data iterator: the image component becomes the input, the labels
    component (loss only), the iterator, optimizer and saver are gone."""
    g = tf.Graph()
    with g.as_default():
        ds = tf.data.Dataset.from_tensor_slices((np.zeros((8, 4), np.float32), np.zeros(8, np.int64))).batch(2)
        images, labels = v1.data.make_one_shot_iterator(ds).get_next()
        w = v1.get_variable("w", [4, 3])
        logits = tf.matmul(images, w)
        tf.identity(tf.nn.sigmoid(logits), name="out")
        loss = v1.losses.sparse_softmax_cross_entropy(labels, logits)
        v1.train.GradientDescentOptimizer(0.1).minimize(loss)
        saver = v1.train.Saver()
        with v1.Session(graph=g) as s:
            s.run(v1.global_variables_initializer())
            prefix = saver.save(s, str(tmp_path / "model"))
            w_val = s.run(w)
    graph = mo.convert("", input_meta_graph=str(tmp_path / "model.meta"), input_checkpoint=prefix)
    assert len(graph.inputs) == 1 and "IteratorGetNext:0" in graph.inputs[0].names
    assert graph.inputs[0].shape == (-1, 4)
    assert [v.names for v in graph.outputs] and "out" in graph.outputs[0].names and len(graph.outputs) == 1
    xml = tmp_path / "ir" / "model.xml"
    mo.save(graph, xml)
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    got = ov_infer(xml, {"IteratorGetNext:0": x})["out"]
    np.testing.assert_allclose(got, 1 / (1 + np.exp(-(x @ w_val))), rtol=1e-5, atol=1e-6)
