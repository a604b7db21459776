"""Keras applications with random weights (weights=None, re-drawn with a seeded, variance-preserving
scale so activations neither vanish nor explode), saved as frozen .pb and as SavedModel, converted
FP32 and FP16 and run in OpenVINO against TensorFlow.

Tolerances: FP32 max|ir - tf| <= 1e-4 * range(tf); FP16 (weights stored as f16, executed in f32)
max|ir - tf| <= 2e-2 * range(tf).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from .util import ov_infer, tf

import mo

keras = pytest.importorskip("keras")

SIZE = 64
FP32_TOL = 1e-4
FP16_TOL = 2e-2


def reseed_weights(model, seed: int = 0) -> None:
    """Draw every weight again: He-scaled kernels, BN statistics and affine params near identity."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        name, shape = w.path if hasattr(w, "path") else w.name, tuple(w.shape)
        if "moving_variance" in name:
            v = rng.uniform(0.5, 1.5, shape)
        elif "moving_mean" in name or "beta" in name or "bias" in name:
            v = rng.normal(0, 0.1, shape)
        elif "gamma" in name:
            v = rng.uniform(0.5, 1.5, shape)
        elif len(shape) >= 2:
            fan_in = int(np.prod(shape[:-1])) if "depthwise" not in name else int(np.prod(shape[:2]))
            v = rng.normal(0, np.sqrt(2.0 / fan_in), shape)
        else:
            v = rng.normal(0, 0.1, shape)
        w.assign(v.astype(np.float32))


_CACHE: dict[str, tuple] = {}


def build(name: str, tmp_root: Path):
    """The model saved as frozen .pb and as SavedModel, and TF's output for a seeded input."""
    if name in _CACHE:
        return _CACHE[name]
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2
    keras.utils.set_random_seed(0)
    ctor = {"MobileNetV2": keras.applications.MobileNetV2, "ResNet50": keras.applications.ResNet50}[name]
    model = ctor(weights=None, input_shape=(SIZE, SIZE, 3), classifier_activation=None)
    reseed_weights(model)
    x = np.random.default_rng(1).standard_normal((1, SIZE, SIZE, 3)).astype(np.float32)
    ref = model(x, training=False).numpy()
    folder = tmp_root / name
    folder.mkdir(parents=True, exist_ok=True)
    fn = tf.function(lambda inp: model(inp, training=False)).get_concrete_function(
        tf.TensorSpec([1, SIZE, SIZE, 3], tf.float32))
    frozen = convert_variables_to_constants_v2(fn)
    pb = folder / "model.pb"
    pb.write_bytes(frozen.graph.as_graph_def().SerializeToString())
    sm = folder / "saved_model"
    model.export(str(sm), verbose=False)
    _CACHE[name] = (pb, sm, frozen.inputs[0].name, frozen.outputs[0].name, x, ref)
    return _CACHE[name]


def max_error(got: np.ndarray, ref: np.ndarray) -> float:
    return float(np.max(np.abs(got.astype(np.float64) - ref)) / np.ptp(ref))


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("keras_apps")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["MobileNetV2", "ResNet50"])
@pytest.mark.parametrize("fmt", ["pb", "saved_model"])
def test_keras_application(root, name, fmt):
    """FP32 and FP16 from one conversion: FP16 is the same pipeline plus compress_to_fp16 at the end."""
    from mo.passes import compress_to_fp16

    pb, sm, in_name, out_name, x, ref = build(name, root)
    assert np.ptp(ref) > 1e-3, "degenerate reference output"
    graph = mo.convert(pb if fmt == "pb" else sm)
    graph.check()
    assert graph.op_counts().get("Transpose", 0) <= 1, "layout transposes left inside the model"
    names = set(graph.inputs[0].names)
    if fmt == "pb":
        assert {in_name, in_name.split(":")[0]} <= names
        out_key = out_name
    else:
        assert any(n.startswith("keras_tensor") for n in names), names   # the signature's input key
        out_key = "output_0"                                             # the signature's output key
    for fp16 in (False, True):
        if fp16:
            compress_to_fp16.run(graph)
            graph.check()
        xml = root / f"{name}_{fmt}_{'fp16' if fp16 else 'fp32'}" / "model.xml"
        mo.save(graph, xml)
        got = ov_infer(xml, {graph.inputs[0].name: x})
        assert out_key in got, sorted(got)
        err = max_error(got[out_key], ref)
        assert err <= (FP16_TOL if fp16 else FP32_TOL), f"{'FP16' if fp16 else 'FP32'}: max abs error {err:.3g} x range"
