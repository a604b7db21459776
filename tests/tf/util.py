"""Test helpers: freeze a tf.function to a GraphDef, convert it with mo, run TF and OpenVINO, compare."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Sequence

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

import mo

from ..runtime import ov_infer  # noqa: F401  (re-exported for the TF tests)


def freeze(fn: Callable, specs: Sequence[tf.TensorSpec]):
    """The frozen GraphDef of ``fn`` traced with ``specs`` (variables become Consts), and its output names."""
    concrete = tf.function(fn).get_concrete_function(*specs)
    frozen = convert_variables_to_constants_v2(concrete)
    return frozen.graph.as_graph_def(), [t.name for t in frozen.outputs], [t.name for t in frozen.inputs]


def run_graph_def(gd, feeds: dict[str, np.ndarray], outputs: list[str]) -> list[np.ndarray]:
    """TensorFlow's outputs of a GraphDef (feeds by ``name:0``)."""
    wrapped = tf.compat.v1.wrap_function(lambda: tf.compat.v1.import_graph_def(gd, name=""), [])
    ins = list(feeds)
    fn = wrapped.prune([wrapped.graph.get_tensor_by_name(n) for n in ins],
                       [wrapped.graph.get_tensor_by_name(n) for n in outputs])
    res = fn(*[tf.constant(feeds[n]) for n in ins])
    return [np.asarray(r) for r in res]


def check_tf_fn(fn: Callable, inputs: Sequence[np.ndarray], tmp_path: Path, rtol: float = 1e-5,
                atol: float = 1e-5, exact: bool = False, **options) -> dict[str, np.ndarray]:
    """Freeze ``fn`` for ``inputs``, convert with mo, and assert OpenVINO matches TensorFlow."""
    specs = [tf.TensorSpec(a.shape, tf.as_dtype(a.dtype)) for a in inputs]
    gd, outs, ins = freeze(fn, specs)
    pb = tmp_path / "model.pb"
    pb.write_bytes(gd.SerializeToString())
    graph = mo.convert(pb, **options)
    graph.check()
    xml = tmp_path / "ir" / "model.xml"
    mo.save(graph, xml)
    feeds = {n: a for n, a in zip(ins, inputs)}
    ref = run_graph_def(gd, feeds, outs)
    got = ov_infer(xml, feeds)
    for name, r in zip(outs, ref):
        assert name in got, f"output {name} missing from IR outputs {list(got)}"
        g = got[name]
        assert g.shape == r.shape, f"{name}: shape {g.shape} != TF {r.shape}"
        if exact or r.dtype.kind in "biu":
            np.testing.assert_array_equal(g.astype(r.dtype), r, err_msg=name)
        else:
            np.testing.assert_allclose(g, r, rtol=rtol, atol=atol, err_msg=name)
    return got
