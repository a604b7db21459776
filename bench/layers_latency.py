"""Layer count and OpenVINO CPU latency: mo's FP32 IR vs openvino.convert_model's, same models, same run.

Models: the 9 light model-zoo ONNX files shipped in the onnx wheel (``onnx/backend/test/data/light``)
and Keras applications (default ResNet50, MobileNetV2, InceptionV3, EfficientNetB0; weights=None,
``keras.utils.set_random_seed(0)``, 224x224, exported with ``model.export`` as a SavedModel in a child
process, cached under --work).

Per model:
  ours:   ``mo.convert(model)`` + ``mo.save``                           (FP32, fusion on)
  theirs: ``openvino.convert_model(model)`` + ``openvino.save_model(..., compress_to_fp16=False)``

Layer count: the ``<layer>`` elements of the saved ``.xml`` whose type is not Const, Parameter or
Result ("ops"), counted the same way for both IRs; the total including those is printed too.

Latency: both IRs compiled on CPU with INFERENCE_PRECISION_HINT=f32, PERFORMANCE_HINT=LATENCY,
NUM_STREAMS=1, INFERENCE_NUM_THREADS=--threads (same for both). After --warmup inferences each,
--runs synchronous inferences per IR alternate one by one (AB BA AB ...), so load from other
processes hits both alike. Latency is the median of the timed inferences per IR; the ratio is the
median over the pairs of neighbouring inferences (mo / OpenVINO), which cancels slow drifts in load. The outputs of both IRs for the same seeded input are compared too
(max abs difference / output range), as a sanity check that both compute the same thing.

    .venv/bin/python bench/layers_latency.py                       # everything (about 10 minutes)
    .venv/bin/python bench/layers_latency.py --no-latency          # layer counts only
    .venv/bin/python bench/layers_latency.py --models resnet50 ResNet50 --runs 300
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import numpy as np

ONNX_MODELS = ["bvlc_alexnet", "densenet121", "inception_v1", "inception_v2", "resnet50", "shufflenet",
               "squeezenet", "vgg19", "zfnet512"]
KERAS_MODELS = ["ResNet50", "MobileNetV2", "InceptionV3", "EfficientNetB0"]
NOT_COUNTED = {"Const", "Parameter", "Result"}

# weights=None leaves every bias and BatchNorm shift at zero, which a converter may drop as x + 0:
# draw all weights again (seeded) so each model has the arithmetic a trained one has
EXPORT = """
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np
import keras
name, size, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
keras.utils.set_random_seed(0)
model = getattr(keras.applications, name)(weights=None, input_shape=(size, size, 3))
rng = np.random.default_rng(0)
for w in model.weights:
    path, shape = w.path, tuple(w.shape)
    if "variance" in path or "gamma" in path:
        v = rng.uniform(0.5, 1.5, shape)
    elif len(shape) >= 2 and "normalization" not in path:
        fan_in = int(np.prod(shape[:2] if "depthwise" in path else shape[:-1]))
        v = rng.normal(0, np.sqrt(2.0 / fan_in), shape)
    else:
        v = rng.normal(0, 0.1, shape)
    w.assign(v.astype(np.float32))
model.export(out, verbose=False)
"""


def layer_types(xml: Path) -> Counter:
    return Counter(layer.get("type") for layer in ET.parse(xml).getroot().iter("layer"))


def op_count(types: Counter) -> int:
    return sum(n for t, n in types.items() if t not in NOT_COUNTED)


def source(name: str, work: Path, size: int) -> Path:
    if name in ONNX_MODELS:
        import onnx
        return Path(onnx.__file__).parent / "backend" / "test" / "data" / "light" / f"light_{name}.onnx"
    sm = work / name / "saved_model"
    if not (sm / "saved_model.pb").exists():
        subprocess.run([sys.executable, "-c", EXPORT, name, str(size), str(sm)], check=True,
                       stderr=subprocess.DEVNULL)
    return sm


def convert_both(src: Path, out: Path) -> tuple[Path, Path]:
    import openvino as ov

    import mo
    ours, theirs = out / "mo" / "model.xml", out / "ov" / "model.xml"
    mo.save(mo.convert(src), ours)
    ov.save_model(ov.convert_model(str(src)), str(theirs), compress_to_fp16=False)
    return ours, theirs


def feeds(compiled) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    out = []
    for port in compiled.inputs:
        shape = [d if d > 0 else 1 for d in port.get_partial_shape().get_min_shape()]
        out.append(rng.standard_normal(shape).astype(np.float32))
    return out


def latency(ours: Path, theirs: Path, args) -> tuple[float, float, float, float]:
    """(median ms ours, median ms theirs, median of the per-pair ratios ours/theirs,
    max|ours - theirs| / range of theirs)."""
    import openvino as ov
    core = ov.Core()
    config = {"INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": "1",
              "INFERENCE_NUM_THREADS": str(args.threads)}
    compiled = [core.compile_model(core.read_model(str(p)), "CPU", config) for p in (ours, theirs)]
    x = feeds(compiled[1])
    reqs = [c.create_infer_request() for c in compiled]
    outs = []
    for r in reqs:
        r.infer(x)
        outs.append(np.asarray(r.get_output_tensor(0).data, dtype=np.float64).copy())
        for _ in range(args.warmup):
            r.infer(x)
    diff = float(np.max(np.abs(outs[0] - outs[1])) / max(np.ptp(outs[1]), 1e-30))
    times: list[list[float]] = [[], []]
    for k in range(args.runs):
        for i in ((0, 1) if k % 2 == 0 else (1, 0)):
            t0 = time.perf_counter()
            reqs[i].infer(x)
            times[i].append((time.perf_counter() - t0) * 1e3)
    ratio = statistics.median(a / b for a, b in zip(times[0], times[1]))
    return statistics.median(times[0]), statistics.median(times[1]), ratio, diff


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="*", default=ONNX_MODELS + KERAS_MODELS)
    ap.add_argument("--work", default="/tmp/mo_fusion_bench", help="SavedModels and IRs (kept)")
    ap.add_argument("--size", type=int, default=224, help="Keras input size")
    ap.add_argument("--no-latency", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--runs", type=int, default=100, help="timed inferences per IR")
    ap.add_argument("--diff", action="store_true", help="print the op types whose counts differ")
    args = ap.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    work = Path(args.work)
    rows = []
    for name in args.models:
        src = source(name, work, args.size)
        ours, theirs = convert_both(src, work / name)
        t_ours, t_theirs = layer_types(ours), layer_types(theirs)
        row = [name, op_count(t_ours), op_count(t_theirs), sum(t_ours.values()), sum(t_theirs.values())]
        if args.diff:
            for t in sorted(set(t_ours) | set(t_theirs)):
                if t_ours[t] != t_theirs[t] and t not in NOT_COUNTED:
                    print(f"    {name} {t}: ours {t_ours[t]} theirs {t_theirs[t]}", file=sys.stderr)
        if not args.no_latency:
            row += latency(ours, theirs, args)
        rows.append(row)
        print("  " + " ".join(str(round(v, 3) if isinstance(v, float) else v) for v in row), file=sys.stderr,
              flush=True)

    head = "| model | ops mo | ops OpenVINO | layers mo | layers OpenVINO |"
    if not args.no_latency:
        head += " latency mo | latency OpenVINO | ratio | output diff |"
    print("\n" + head)
    print("|" + "---|" * head.count(" | ") + ("---|" if head.endswith("|") else ""))
    ok = True
    for row in rows:
        name, o, t, lo, lt = row[:5]
        ok &= o <= t
        line = f"| {name} | {o} | {t} | {lo} | {lt} |"
        if not args.no_latency:
            ms_o, ms_t, ratio, diff = row[5:]
            ok &= ratio <= 1.05
            line += f" {ms_o:.2f} ms | {ms_t:.2f} ms | {ratio:.3f} | {diff:.1e} |"
        print(line)
    if not args.no_latency:
        print(f"\nthreads {args.threads}, warm-up {args.warmup}, {args.runs} timed inferences per IR, alternating "
              "one by one (AB BA AB ...); median")
    print(f"targets (ops mo <= ops OpenVINO{', latency <= 1.05x' if not args.no_latency else ''}): "
          f"{'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
