"""INT8 post-training quantization vs FP32: CPU latency in OpenVINO on Keras ResNet50 and MobileNetV2.

    .venv/bin/python bench/int8_latency.py                       # both models, 224x224, 60 pairs
    .venv/bin/python bench/int8_latency.py --models MobileNetV2 --pairs 200 --calibration random

Models: keras.applications with weights=None, every weight re-drawn with a seeded variance-keeping
scale (tests/tf/test_keras_apps.py reseed_weights, so biases and BatchNorm shifts are not all 0),
frozen to .pb (batch 1, NHWC 224x224x3). Conversions by mo:
* FP32: ``mo.convert(pb)``;
* INT8: ``mo.convert(pb, quantize="int8", calibration=DIR)`` where DIR holds 8 seeded
  standard-normal .npy inputs (the calibration-folder code path; latency does not depend on the
  ranges), or ``--calibration random``.

Latency: both IRs compiled in one process on the CPU with the same settings:
INFERENCE_PRECISION_HINT f32 (this CPU has AVX-512 bf16 and would otherwise run the FP32 model and
the non-quantized parts of the INT8 model in bf16), PERFORMANCE_HINT LATENCY, NUM_STREAMS 1,
INFERENCE_NUM_THREADS as given (default: the plugin's choice). After 10 warm-up inferences each,
single synchronous inferences alternate FP32, INT8, INT8, FP32, ... (``--pairs`` pairs). Reported:
median latency per IR and the median of the per-pair ratios INT8/FP32 (neighbouring runs share the
machine's load at that moment, which cancels most drift on a shared machine).

Also reported: how many Convolution layers the CPU plugin runs in INT8 (runtime precision u8/i8 in
the compiled model's execution graph), the largest logit difference relative to the FP32
logits' range on one seeded input, and the BIN sizes (INT8 weights are stored as i8). Exit code 1 when a ratio exceeds the target 0.75.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

TARGET = 0.75


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


def compile_ir(xml: Path, threads: int | None):
    import openvino as ov

    config = {"INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": "1"}
    if threads:
        config["INFERENCE_NUM_THREADS"] = str(threads)
    core = ov.Core()
    return core.compile_model(core.read_model(str(xml)), "CPU", config)


def int8_convolutions(compiled) -> tuple[int, int]:
    """(Convolution layers running in u8/i8, all Convolution layers) of the execution graph."""
    convs = [op for op in compiled.get_runtime_model().get_ops()
             if op.get_rt_info()["layerType"].astype(str) == "Convolution"]
    low = [op for op in convs if op.get_rt_info()["runtimePrecision"].astype(str).lower() in ("u8", "i8")]
    return len(low), len(convs)


def measure(fp32, int8, feed: np.ndarray, pairs: int) -> tuple[float, float, float]:
    """(median FP32 ms, median INT8 ms, median per-pair INT8/FP32 ratio), ABBA order."""
    reqs = {"fp32": fp32.create_infer_request(), "int8": int8.create_infer_request()}
    for _ in range(10):
        for r in reqs.values():
            r.infer([feed])
    times: dict[str, list[float]] = {"fp32": [], "int8": []}
    for k in range(pairs):
        order = ("fp32", "int8") if k % 2 == 0 else ("int8", "fp32")
        for key in order:
            t0 = time.perf_counter()
            reqs[key].infer([feed])
            times[key].append(time.perf_counter() - t0)
    ratios = [b / a for a, b in zip(times["fp32"], times["int8"])]
    return statistics.median(times["fp32"]) * 1e3, statistics.median(times["int8"]) * 1e3, statistics.median(ratios)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="ResNet50,MobileNetV2")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--pairs", type=int, default=60)
    ap.add_argument("--threads", type=int, default=None, help="INFERENCE_NUM_THREADS for both IRs")
    ap.add_argument("--calibration", choices=("npy", "random"), default="npy")
    ap.add_argument("--preset", choices=("performance", "mixed"), default="performance")
    args = ap.parse_args()

    import mo

    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; cpus: {os.cpu_count()}")
    rows, worst = [], 0.0
    with tempfile.TemporaryDirectory(prefix="mo-int8-bench-") as tmp:
        root = Path(tmp)
        for name in args.models.split(","):
            pb, inp = build(name, root, args.size)
            cal = "random"
            if args.calibration == "npy":
                cal_dir = root / name / "calibration"
                cal_dir.mkdir(parents=True)
                rng = np.random.default_rng(2)
                for i in range(8):
                    np.save(cal_dir / f"{i}.npy", rng.standard_normal((1, args.size, args.size, 3)).astype(np.float32))
                cal = str(cal_dir)
            t0 = time.perf_counter()
            fp32_xml = mo.save(mo.convert(pb), root / name / "fp32" / "model.xml").xml
            t1 = time.perf_counter()
            graph = mo.convert(pb, quantize="int8", calibration=cal, quantize_preset=args.preset)
            int8_xml = mo.save(graph, root / name / "int8" / "model.xml").xml
            t2 = time.perf_counter()
            report = next(str(r) for r in graph.meta["reports"] if str(r).startswith("quantize:"))
            print(f"[{name}] FP32 conversion {t1 - t0:.1f}s, INT8 conversion {t2 - t1:.1f}s; {report}",
                  file=sys.stderr)
            fp32, int8 = compile_ir(fp32_xml, args.threads), compile_ir(int8_xml, args.threads)
            feed = np.random.default_rng(1).standard_normal((1, args.size, args.size, 3)).astype(np.float32)
            ref, out = fp32([feed])[0], int8([feed])[0]
            err = float(np.abs(out - ref).max() / np.ptp(ref))
            low, convs = int8_convolutions(int8)
            f_ms, i_ms, ratio = measure(fp32, int8, feed, args.pairs)
            worst = max(worst, ratio)
            bins = (fp32_xml.with_suffix(".bin").stat().st_size, int8_xml.with_suffix(".bin").stat().st_size)
            rows.append((name, f_ms, i_ms, ratio, low, convs, err, bins))
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"\n{args.size}x{args.size}, batch 1, {args.pairs} alternating pairs, calibration {args.calibration}, "
          f"preset {args.preset}, f32 precision hint, latency hint, 1 stream, threads {args.threads or 'default'}\n")
    print("| model | FP32 median | INT8 median | INT8/FP32 (median of pair ratios) | INT8 convolutions | "
          "logit error / range | BIN FP32 -> INT8 |")
    print("|---|---|---|---|---|---|---|")
    for name, f_ms, i_ms, ratio, low, convs, err, (b32, b8) in rows:
        print(f"| {name} | {f_ms:.2f} ms | {i_ms:.2f} ms | **{ratio:.2f}** | {low}/{convs} | {err:.1e} | "
              f"{b32 / 2**20:.1f} -> {b8 / 2**20:.1f} MiB ({b8 / b32:.3f}x) |")
    print(f"\ntarget INT8/FP32 <= {TARGET}: {'met' if worst <= TARGET else 'MISSED'} (worst {worst:.2f})")
    return 0 if worst <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
