"""Models for the weight-compression tests: a digits classifier trained here, and the sample CNN.

The classifier is scikit-learn's MLP (64 -> 256 -> 128 -> 10, ReLU) trained on the digits data
set (8x8 images, 1797 samples) with a fixed seed, exported by hand as ONNX MatMul/Add/Relu;
its held-out split measures what compression does to accuracy.
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import onnx

SAMPLE_CNN = Path(__file__).resolve().parents[2] / "samples" / "sample_cnn.onnx"  # "input" [1,3,64,64]


@functools.lru_cache(maxsize=1)
def digits_mlp() -> tuple[onnx.ModelProto, np.ndarray, np.ndarray]:
    """(ONNX model with input "x" [N,64] and output "logits", held-out x, held-out labels)."""
    from onnx import TensorProto, helper, numpy_helper
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, random_state=0)
    clf = MLPClassifier(hidden_layer_sizes=(256, 128), max_iter=300, random_state=0).fit(x_train, y_train)
    nodes, inits = [], []
    h = "x"
    for i, (w, b) in enumerate(zip(clf.coefs_, clf.intercepts_)):
        inits += [numpy_helper.from_array(w.astype(np.float32), f"w{i}"),
                  numpy_helper.from_array(b.astype(np.float32), f"b{i}")]
        last = i == len(clf.coefs_) - 1
        nodes += [helper.make_node("MatMul", [h, f"w{i}"], [f"mm{i}"]),
                  helper.make_node("Add", [f"mm{i}", f"b{i}"], ["logits" if last else f"pre{i}"])]
        if not last:
            nodes.append(helper.make_node("Relu", [f"pre{i}"], [f"h{i}"]))
            h = f"h{i}"
    graph = helper.make_graph(nodes, "digits_mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 64])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [None, 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=8)
    return model, x_test, y_test


_RESNET50: dict[str, Path] = {}


def resnet50_pb(folder: Path) -> Path:
    """Keras ResNet50 (weights=None, re-drawn with tests/tf/test_keras_apps.py reseed_weights, seed 0)
    frozen to .pb with a 64x64 NHWC input; built once per test session (about 30 s)."""
    if "pb" in _RESNET50:
        return _RESNET50["pb"]
    import keras
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    from ..tf.test_keras_apps import reseed_weights

    keras.utils.set_random_seed(0)
    model = keras.applications.ResNet50(weights=None, input_shape=(64, 64, 3), classifier_activation=None)
    reseed_weights(model)
    fn = tf.function(lambda x: model(x, training=False)).get_concrete_function(
        tf.TensorSpec([1, 64, 64, 3], tf.float32))
    pb = folder / "resnet50.pb"
    pb.write_bytes(convert_variables_to_constants_v2(fn).graph.as_graph_def().SerializeToString())
    _RESNET50["pb"] = pb
    return pb


def zstd_size(path: Path) -> int:
    """Bytes of ``path`` compressed by zstd at level 3 (the library default)."""
    import zstandard

    return len(zstandard.ZstdCompressor(level=3).compress(path.read_bytes()))


def resnet50_fp32(folder: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    """(FP32 IR of resnet50_pb, one seeded NHWC input, the IR's output on it), built once per session."""
    if "fp32" not in _RESNET50:
        import mo

        from ..runtime import ov_infer

        pb = resnet50_pb(folder)
        xml = mo.save(mo.convert(pb), folder / "fp32" / "model.xml").xml
        x = np.random.default_rng(1).standard_normal((1, 64, 64, 3)).astype(np.float32)
        out = ov_infer(xml, {_input_name(xml): x})
        _RESNET50["fp32"] = (xml, x, next(iter(out.values())))
    return _RESNET50["fp32"]


def _input_name(xml: Path) -> str:
    import openvino as ov

    return next(iter(ov.Core().read_model(str(xml)).inputs[0].get_names()))


def resnet50_output(xml: Path, x: np.ndarray) -> np.ndarray:
    from ..runtime import ov_infer

    return next(iter(ov_infer(xml, {_input_name(xml): x}).values()))
