"""INT8 post-training quantization latency and weight-compression sizes on Keras ResNet50 / MobileNetV2.

    .venv/bin/python bench/optimize.py                 # both models, 224x224
    .venv/bin/python bench/optimize.py --models ResNet50 --runs 30

Each model is built with weights=None, every weight re-drawn with a seeded variance-keeping scale
(tests/tf/test_keras_apps.py reseed_weights), frozen to a .pb and converted by mo:
* FP32; ``--quantize int8 --calibration random`` (16 seeded samples: fine for latency, which does
  not depend on the ranges); ``--compress_weights int8``; ``--prune magnitude:0.5``; ``--cluster 16``.
* Latency: OpenVINO CPU, INFERENCE_PRECISION_HINT f32 (this CPU would otherwise run FP32 models in
  bf16), PERFORMANCE_HINT LATENCY, one infer request; FP32 and INT8 runs alternate one inference at a
  time after a warm-up, and the figure is the median. Ratio target: INT8 <= 0.75 x FP32.
* Sizes: BIN bytes and zstd (level 3) / zlib (level 6) compressed BIN bytes, vs the FP32 BIN.
* Effect on outputs: max |out - out_fp32| / range(out_fp32) of the logits (classifier_activation=None)
  on one seeded input, and whether the top-1 class stays.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import zlib
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402


def build(name: str, folder: Path, size: int) -> tuple[Path, str]:
    import keras
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    from tests.tf.test_keras_apps import reseed_weights

    keras.utils.set_random_seed(0)
    model = getattr(keras.applications, name)(weights=None, input_shape=(size, size, 3), classifier_activation=None)
    reseed_weights(model)
    fn = tf.function(lambda x: model(x, training=False)).get_concrete_function(
        tf.TensorSpec([1, size, size, 3], tf.float32))
    frozen = convert_variables_to_constants_v2(fn)
    pb = folder / f"{name}.pb"
    pb.write_bytes(frozen.graph.as_graph_def().SerializeToString())
    return pb, frozen.inputs[0].name


def compile_ir(xml: Path):
    import openvino as ov

    core = ov.Core()
    return core.compile_model(core.read_model(str(xml)), "CPU",
                              {"INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "LATENCY"})


def latencies(xmls: dict[str, Path], feed: np.ndarray, runs: int) -> dict[str, float]:
    reqs = {k: compile_ir(x).create_infer_request() for k, x in xmls.items()}
    times: dict[str, list[float]] = {k: [] for k in xmls}
    for _ in range(5):
        for r in reqs.values():
            r.infer([feed])
    for _ in range(runs):
        for k, r in reqs.items():
            t0 = time.perf_counter()
            r.infer([feed])
            times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) * 1000 for k, v in times.items()}


def sizes(xml: Path) -> tuple[int, int, int]:
    import zstandard

    data = xml.with_suffix(".bin").read_bytes()
    return len(data), len(zstandard.ZstdCompressor(level=3).compress(data)), len(zlib.compress(data, 6))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="ResNet50,MobileNetV2")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--runs", type=int, default=50)
    args = ap.parse_args()

    import mo

    variants = {"fp32": {}, "int8-ptq": dict(quantize="int8", calibration="random"),
                "int8-weights": dict(compress_weights="int8"), "prune-0.5": dict(prune="magnitude:0.5"),
                "cluster-16": dict(cluster=16)}
    worst = 0.0
    with tempfile.TemporaryDirectory(prefix="mo-bench-") as tmp:
        root = Path(tmp)
        for name in args.models.split(","):
            pb, inp = build(name, root, args.size)
            xmls = {}
            for v, opts in variants.items():
                t0 = time.perf_counter()
                xmls[v] = mo.save(mo.convert(pb, **opts), root / name / v / "model.xml").xml
                print(f"[{name}] converted {v} in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
            feed = np.random.default_rng(1).standard_normal((1, args.size, args.size, 3)).astype(np.float32)
            lat = latencies({"fp32": xmls["fp32"], "int8-ptq": xmls["int8-ptq"]}, feed, args.runs)
            ratio = lat["int8-ptq"] / lat["fp32"]
            worst = max(worst, ratio)
            print(f"\n## {name} ({args.size}x{args.size}, median of {args.runs} alternating runs)")
            print(f"latency FP32 {lat['fp32']:.2f} ms, INT8 {lat['int8-ptq']:.2f} ms: ratio {ratio:.2f} "
                  f"(target <= 0.75)")
            base = sizes(xmls["fp32"])
            ref = compile_ir(xmls["fp32"])([feed])[0]
            print("| variant | BIN | x FP32 | zstd | x FP32 zstd | x FP32 BIN | zlib x FP32 zlib | logit error | top-1 |")
            print("|---|---|---|---|---|---|---|---|---|")
            for v, xml in xmls.items():
                raw, zs, zl = sizes(xml)
                out = compile_ir(xml)([feed])[0]
                err = float(np.abs(out - ref).max() / np.ptp(ref))
                print(f"| {v} | {raw / 2**20:.1f} MiB | {raw / base[0]:.3f} | {zs / 2**20:.1f} MiB | "
                      f"{zs / base[1]:.3f} | {zs / base[0]:.3f} | {zl / base[2]:.3f} | {err:.2e} | "
                      f"{'same' if out.argmax() == ref.argmax() else 'changed'} |")
    return 0 if worst <= 0.75 else 1


if __name__ == "__main__":
    sys.exit(main())
