"""--quantize int8 --calibration DIR|random: post-training static quantization.

A small CNN is trained here with Keras on scikit-learn's digits (8x8 images, 30 % held out),
frozen, converted by mo to FP32 and INT8 (calibration: 100 training images as .npy files).
In the OpenVINO runtime (f32 hint, so only the quantized parts run in low precision):
* top-1 agreement of INT8 with FP32 on the held-out images >= 99 %;
* the CPU plugin really runs the convolutions in INT8 (their runtime precision is I8/U8);
* the mixed preset and the percentile statistic also keep >= 99 % agreement;
* without --calibration the conversion is refused with a message naming the options.
Fast cases on small ONNX models: .npz calibration of a two-input model, batched .npy files and
--calibration_size, bad calibration data (one-line InputErrors naming the file), CLI exit code 2.
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

import mo
from mo.errors import OptionError
from mo.passes.quantize import activation_range

from ..runtime import ov_infer

@functools.lru_cache(maxsize=1)
def _digits_cnn(root: str):
    import tensorflow as tf
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from ..tf.util import freeze

    tf.keras.utils.set_random_seed(0)
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32).reshape(-1, 8, 8, 1)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, random_state=0)
    model = tf.keras.Sequential([
        tf.keras.Input((8, 8, 1)),
        tf.keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
        tf.keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
        tf.keras.layers.MaxPooling2D(2),
        tf.keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(10),
    ])
    model.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x_train, y_train, epochs=15, batch_size=32, verbose=0)
    gd, outs, ins = freeze(lambda t: model(t, training=False), [tf.TensorSpec((1, 8, 8, 1), tf.float32)])
    folder = Path(root)
    pb = folder / "digits.pb"
    pb.write_bytes(gd.SerializeToString())
    cal = folder / "calibration"
    cal.mkdir()
    for i in range(100):
        np.save(cal / f"{i:03d}.npy", x_train[i:i + 1])
    return pb, cal, ins[0], outs[0], x_test, y_test


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    return _digits_cnn(str(tmp_path_factory.mktemp("digits")))


def _predict(xml: Path, inp: str, out: str, x: np.ndarray) -> np.ndarray:
    import openvino as ov

    core = ov.Core()
    compiled = core.compile_model(core.read_model(str(xml)), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    req = compiled.create_infer_request()
    return np.array([req.infer({inp: x[i:i + 1]})[compiled.output(0)].argmax() for i in range(len(x))]), compiled


def _convert(pb, tmp: Path, **options) -> Path:
    return mo.save(mo.convert(pb, **options), tmp / "ir" / "model.xml").xml


@pytest.mark.slow  # the digits CNN is trained with TensorFlow (~10 s)
@pytest.mark.parametrize("options", [dict(), dict(quantize_preset="mixed"),
                                     dict(calibration_stat="percentile:99.99")],
                         ids=["performance-minmax", "mixed", "percentile"])
def test_int8_agrees_with_fp32(digits, tmp_path, options):
    pb, cal, inp, out, x, y = digits
    fp32, _ = _predict(_convert(pb, tmp_path / "fp32"), inp, out, x)
    assert (fp32 == y).mean() > 0.9  # the CNN learned the task
    xml = _convert(pb, tmp_path / "int8", quantize="int8", calibration=str(cal), **options)
    int8, compiled = _predict(xml, inp, out, x)
    assert (int8 == fp32).mean() >= 0.99
    precisions = {op.get_friendly_name(): op.get_rt_info()["runtimePrecision"].astype(str)
                  for op in compiled.get_runtime_model().get_ops()
                  if op.get_rt_info()["layerType"].astype(str) == "Convolution"}
    assert precisions and all(p.lower() in ("i8", "u8") for p in precisions.values()), precisions


def _int8_weight(node) -> np.ndarray | None:
    """The i8 values when ``node``'s filter is Const(i8) -> Convert(f32) -> Multiply(scale), else None."""
    mul = node.inputs[1].producer
    if mul is None or mul.op != "Multiply" or mul.inputs[0].producer.op != "Convert":
        return None
    const = mul.inputs[0].producer.inputs[0]
    if const.etype != "i8" or const.const is None or mul.inputs[1].const is None:
        return None
    return const.const.numpy()


def _fq_inputs(node) -> list[int]:
    """The levels of the FakeQuantize ops ``node`` reads at its data input(s)."""
    ports = (0, 1) if node.op == "MatMul" else (0,)
    return [node.inputs[i].producer.attrs["levels"] for i in ports
            if node.inputs[i].producer is not None and node.inputs[i].producer.op == "FakeQuantize"]


@pytest.mark.slow  # the digits CNN is trained with TensorFlow (~10 s)
def test_ir_has_fake_quantize_on_activations_and_int8_weights(digits, tmp_path):
    pb, cal, *_ = digits
    graph = mo.convert(pb, quantize="int8", calibration=str(cal))
    weighted = [n for n in graph.nodes if n.op in ("Convolution", "MatMul")]
    assert len(weighted) == 4  # 3 convolutions + the dense layer
    for node in weighted:
        q = _int8_weight(node)
        assert q is not None and q.min() >= -127 and q.max() <= 127 and np.abs(q).max() == 127, node.name
        assert _fq_inputs(node) == [256], node.name
    assert sum(n.op == "MaxPool" and _fq_inputs(n) == [256] for n in graph.nodes) == 1
    fp32 = mo.convert(pb)  # the BIN shrinks: one byte per weight
    w32 = sum(n.outputs[0].const.numpy().nbytes for n in fp32.nodes if n.op == "Const")
    w8 = sum(n.outputs[0].const.numpy().nbytes for n in graph.nodes if n.op == "Const")
    assert w8 < 0.3 * w32, (w8, w32)
    report = next(str(r) for r in graph.meta["reports"] if str(r).startswith("quantize:"))
    assert "100 calibration samples" in report


@pytest.mark.slow  # the digits CNN is trained with TensorFlow (~10 s)
def test_refused_without_calibration(digits):
    pb, *_ = digits
    with pytest.raises(OptionError, match="--calibration DIR.*--calibration random"):
        mo.convert(pb, quantize="int8")


@pytest.mark.slow  # the digits CNN is trained with TensorFlow (~10 s)
def test_random_calibration_is_explicit(digits, tmp_path, caplog):
    pb, *_ = digits
    graph = mo.convert(pb, quantize="int8", calibration="random")
    assert any(n.op == "FakeQuantize" for n in graph.nodes)
    assert "random data" in caplog.text


def test_activation_ranges():
    assert activation_range(0.0, 6.0, "performance") == (0.0, 6.0)
    lo, hi = activation_range(-2.0, 1.0, "performance")
    assert lo == -2.0 and hi == pytest.approx(2.0 * 127 / 128)
    lo, hi = activation_range(-1.0, 3.0, "mixed")
    step = (hi - lo) / 255
    assert lo <= -1.0 + step and hi >= 3.0 - step and abs(round(-lo / step) * step + lo) < 1e-9


def test_image_folder_calibration_with_preprocessing(tmp_path):
    """Images (PNG, other sizes) are resized to the input and fed raw; the IR's mean/scale apply."""
    from PIL import Image

    sample = Path(__file__).resolve().parents[2] / "samples" / "sample_cnn.onnx"  # "input" [1,3,64,64]
    rng = np.random.default_rng(0)
    cal = tmp_path / "images"
    cal.mkdir()
    for i in range(12):
        Image.fromarray(rng.integers(0, 256, (80, 96, 3), dtype=np.uint8)).save(cal / f"{i}.png")
    pre = dict(mean_values="[123.7,116.3,103.5]", scale_values="[58.4,57.1,57.4]")
    graph = mo.convert(sample, quantize="int8", calibration=str(cal), **pre)
    report = next(str(r) for r in graph.meta["reports"] if str(r).startswith("quantize:"))
    assert "12 calibration samples" in report
    int8 = mo.save(graph, tmp_path / "q" / "m.xml").xml
    fp32 = mo.save(mo.convert(sample, **pre), tmp_path / "f" / "m.xml").xml
    x = rng.integers(0, 256, (1, 3, 64, 64)).astype(np.float32)
    ref, got = ov_infer(fp32, {"input": x}), ov_infer(int8, {"input": x})
    for name, r in ref.items():  # softmax probabilities of an untrained CNN: within 0.02 absolute
        assert np.abs(got[name] - r).max() <= 0.02, name
        assert np.abs(got[name] - r).max() > 0, name  # really quantized


def _two_input_model(tmp_path: Path) -> Path:
    """a: f32[1,3,8,8] -> Conv -> Relu -> GlobalAveragePool -> Flatten -> (+ b @ M) -> y."""
    import onnx
    from onnx import TensorProto, helper

    from ..onnx.util import make_model

    rng = np.random.default_rng(3)
    model = make_model(
        [helper.make_node("Conv", ["a", "W"], ["c"], pads=[1, 1, 1, 1]), helper.make_node("Relu", ["c"], ["r"]),
         helper.make_node("GlobalAveragePool", ["r"], ["g"]), helper.make_node("Flatten", ["g"], ["f"]),
         helper.make_node("MatMul", ["b", "M"], ["m"]), helper.make_node("Add", ["f", "m"], ["y"])],
        [("a", TensorProto.FLOAT, [1, 3, 8, 8]), ("b", TensorProto.FLOAT, [1, 6])], [("y", TensorProto.FLOAT, None)],
        inits=[("W", rng.standard_normal((4, 3, 3, 3)).astype(np.float32)),
               ("M", rng.standard_normal((6, 4)).astype(np.float32))])
    path = tmp_path / "two_inputs.onnx"
    onnx.save(model, path)
    return path


def _report(graph) -> str:
    return next(str(r) for r in graph.meta["reports"] if str(r).startswith("quantize:"))


def test_npz_calibration_for_two_inputs(tmp_path):
    """.npz files name the inputs; a leading sample axis on a batch-1 input gives several samples."""
    model = _two_input_model(tmp_path)
    cal = tmp_path / "cal"
    cal.mkdir()
    rng = np.random.default_rng(4)
    for k in range(2):
        np.savez(cal / f"{k}.npz", a=rng.standard_normal((5, 3, 8, 8)).astype(np.float32),
                 b=rng.standard_normal((5, 6)).astype(np.float32))
    graph = mo.convert(model, quantize="int8", calibration=str(cal))
    assert "10 calibration samples" in _report(graph)
    fq = [n for n in graph.nodes if n.op == "FakeQuantize"]
    readers = sorted(u.op for n in fq for u in n.outputs[0].users())
    assert readers == ["Convolution", "MatMul"], readers  # the activation of each
    assert all(_int8_weight(n) is not None for n in graph.nodes if n.op in ("Convolution", "MatMul"))
    int8 = mo.save(graph, tmp_path / "q" / "m.xml").xml
    fp32 = mo.save(mo.convert(model), tmp_path / "f" / "m.xml").xml
    feeds = {"a": rng.standard_normal((1, 3, 8, 8)).astype(np.float32), "b": rng.standard_normal((1, 6)).astype(np.float32)}
    ref, got = ov_infer(fp32, feeds)["y"], ov_infer(int8, feeds)["y"]
    err = np.abs(got - ref).max() / np.ptp(ref)
    assert 0 < err < 0.05, err  # quantized (not identical) and close: 8-bit steps of the observed ranges


def test_calibration_size_and_batched_npy(tmp_path):
    sample = Path(__file__).resolve().parents[2] / "samples" / "sample_cnn.onnx"  # "input" [1,3,64,64]
    cal = tmp_path / "cal"
    cal.mkdir()
    rng = np.random.default_rng(5)
    np.save(cal / "batch.npy", rng.standard_normal((6, 3, 64, 64)).astype(np.float32))  # 6 samples
    np.save(cal / "single.npy", rng.standard_normal((3, 64, 64)).astype(np.float32))  # batch axis added
    assert "7 calibration samples" in _report(mo.convert(sample, quantize="int8", calibration=str(cal)))
    graph = mo.convert(sample, quantize="int8", calibration=str(cal), calibration_size=4)
    assert "4 calibration samples" in _report(graph)


@pytest.mark.parametrize("make, message", [
    (lambda d: np.savez(d / "x.npz", a=np.zeros((1, 3, 8, 8), np.float32)), r"x.npz: no array named 'b'"),
    (lambda d: np.save(d / "x.npy", np.zeros((1, 6), np.float32)), r"x.npy: the model has 2 inputs; use .npz"),
    (lambda d: np.savez(d / "x.npz", a=np.zeros((1, 3, 9, 8), np.float32), b=np.zeros((1, 6), np.float32)),
     r"x.npz: array of shape \[1, 3, 9, 8\] does not fit input 'a' of shape \[1, 3, 8, 8\]"),
    (lambda d: (d / "notes.txt").write_text("x"), r"no images, .npy or .npz files in the folder"),
])
def test_bad_calibration_data(tmp_path, make, message):
    from mo.errors import InputError

    model = _two_input_model(tmp_path)
    cal = tmp_path / "cal"
    cal.mkdir()
    make(cal)
    with pytest.raises(InputError, match=message):
        mo.convert(model, quantize="int8", calibration=str(cal))


def test_cli_refuses_without_calibration_and_bad_stat(tmp_path):
    from click.testing import CliRunner

    from mo.cli import cli

    model = _two_input_model(tmp_path)
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["convert", str(model), "--output_dir", str(out), "--quantize", "int8"])
    assert res.exit_code == 2, res.output
    assert "--calibration DIR" in res.output and "--calibration random" in res.output
    assert not out.exists() or not any(out.iterdir())
    res = CliRunner().invoke(cli, ["convert", str(model), "--output_dir", str(out), "--quantize", "int8",
                                   "--calibration", "random", "--calibration_stat", "median"])
    assert res.exit_code == 2 and "--calibration_stat 'median'" in res.output, res.output
    res = CliRunner().invoke(cli, ["convert", str(model), "--output_dir", str(out), "--quantize", "int8",
                                   "--calibration", str(tmp_path / "missing")])
    assert res.exit_code == 2 and "no such folder" in res.output, res.output


@pytest.mark.parametrize("bgr", [False, True])
def test_image_channel_order_and_layout(tmp_path, bgr):
    """A pure-colour image (R=10, G=20, B=30) reaches an NCHW input as [10,20,30] (RGB) or
    [30,20,10] (BGR: Caffe models, or --reverse_input_channels on the others), resized."""
    from PIL import Image

    from mo.passes.calibration import samples

    sample = Path(__file__).resolve().parents[2] / "samples" / "sample_cnn.onnx"  # "input" [1,3,64,64]
    cal = tmp_path / "images"
    cal.mkdir()
    Image.fromarray(np.full((30, 50, 3), (10, 20, 30), np.uint8)).save(cal / "a.png")
    graph = mo.convert(sample)
    feeds = samples(graph, str(cal), 10, lambda p: 1, bgr)
    x = feeds[0]["input"]
    assert x.shape == (1, 3, 64, 64) and x.dtype == np.float32
    want = [30, 20, 10] if bgr else [10, 20, 30]
    assert [float(x[0, c].mean()) for c in range(3)] == want


def test_image_calibration_after_a_layout_change(tmp_path):
    """--layout nchw->nhwc: the IR's input is NHWC when calibration runs, and images are laid
    out that way."""
    from PIL import Image

    sample = Path(__file__).resolve().parents[2] / "samples" / "sample_cnn.onnx"  # "input" [1,3,64,64]
    cal = tmp_path / "images"
    cal.mkdir()
    rng = np.random.default_rng(6)
    for i in range(3):
        Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(cal / f"{i}.png")
    graph = mo.convert(sample, quantize="int8", calibration=str(cal), layout="nchw->nhwc", mean_values="[120,120,120]")
    assert graph.parameters[0].outputs[0].shape == (1, 64, 64, 3)
    assert "3 calibration samples" in _report(graph)


def test_percentile_clips_outliers_that_minmax_keeps(tmp_path):
    """Calibration data N(0,1) with two outliers (+-100): minmax spans them, percentile:99.9
    takes the bulk (|range| about 3), and the mixed preset puts 0 on the grid."""
    model = _two_input_model(tmp_path)
    cal = tmp_path / "cal"
    cal.mkdir()
    rng = np.random.default_rng(7)
    a = rng.standard_normal((20, 3, 8, 8)).astype(np.float32)
    a[3, 1, 2, 2], a[9, 0, 5, 1] = 100.0, -100.0
    np.savez(cal / "a.npz", a=a, b=rng.standard_normal((20, 6)).astype(np.float32))

    def input_range(**options) -> tuple[float, float]:
        graph = mo.convert(model, quantize="int8", calibration=str(cal), **options)
        conv = next(n for n in graph.nodes if n.op == "Convolution")
        fq = conv.inputs[0].producer
        assert fq.op == "FakeQuantize" and fq.inputs[0] is graph.parameters[0].outputs[0]
        return float(fq.inputs[1].const.numpy()), float(fq.inputs[2].const.numpy())

    lo, hi = input_range()
    assert lo == -100.0 and hi == pytest.approx(100 * 127 / 128)
    lo, hi = input_range(calibration_stat="percentile:99.9")
    assert 2.5 < -lo < 5 and hi == pytest.approx(-lo * 127 / 128)
    lo, hi = input_range(calibration_stat="percentile:99.9", quantize_preset="mixed")
    step = (hi - lo) / 255
    assert 2.5 < -lo < 5 and 2.5 < hi < 5 and abs(lo / step - round(lo / step)) < 1e-3


def test_calibration_without_quantize_is_refused():
    sample = Path(__file__).resolve().parents[2] / "samples" / "sample_cnn.onnx"
    with pytest.raises(OptionError, match="are for --quantize int8"):
        mo.convert(sample, calibration="random")
