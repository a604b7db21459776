"""Peak memory of converting a model with one 256 MiB weight.

Builds ``y = x @ W`` with x: f32[1,8192] and W: f32[8192,8192] (256 MiB) in a temporary
folder, once with W as ONNX external data (``model.data`` beside the .onnx) and once
embedded in the .onnx, then converts each with ``mo convert`` (FP32 and FP16) and with
OpenVINO's own ``openvino.convert_model`` + ``openvino.save_model`` (the peer), every
conversion in its own child process. Peak RSS is the child's ``ru_maxrss`` read with
``os.wait4`` (per child, in MiB); file pages a process maps count in its RSS too.
The models are built in a child process as well: Linux carries a parent's RSS high-water
mark at fork time into the child's ``ru_maxrss``, so this process stays small.

Run:  .venv/bin/python bench/memory_large_initializer.py [--size 8192] [--keep DIR] [--no-peer]
Target: mo under 400 MiB peak with the external-data model.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_MIB = 400

PEER_SCRIPT = """
import sys, openvino as ov
src, xml, fp16 = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
ov.save_model(ov.convert_model(src), xml, compress_to_fp16=fp16)
"""


def build_model(folder: Path, n: int, external: bool) -> Path:
    """Write the MatMul model into ``folder``; the weight is seeded random f32 data."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    w = rng.standard_normal((n, n), dtype=np.float32)
    init = numpy_helper.from_array(w, "W")
    del w
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["y"], name="matmul")], "large",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, n])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n])], [init])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path = folder / ("external.onnx" if external else "embedded.onnx")
    if external:
        onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location="external.data", size_threshold=1024)
    else:
        onnx.save_model(model, path)
    return path


def peak_rss_mib(cmd: list[str]) -> tuple[float, float, int]:
    """Run ``cmd``; return (peak RSS MiB, seconds, exit code) of that child alone."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # wait4 reports this child's own rusage (RUSAGE_CHILDREN would mix all children)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        print(f"    failed ({proc.returncode}): {err.strip()[-500:]}", file=sys.stderr)
    return usage.ru_maxrss / 1024.0, seconds, proc.returncode


def mo_command() -> list[str]:
    exe = Path(sys.executable).with_name("mo")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "mo"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=8192, help="N of the NxN f32 weight (8192: 256 MiB)")
    ap.add_argument("--keep", help="folder to build in and keep (default: a temporary folder)")
    ap.add_argument("--no-peer", action="store_true", help="skip openvino.convert_model")
    ap.add_argument("--no-embedded", action="store_true", help="skip the embedded-data model")
    ap.add_argument("--build", nargs=3, metavar=("FOLDER", "N", "EXTERNAL"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.build:
        print(build_model(Path(args.build[0]), int(args.build[1]), args.build[2] == "1"))
        return 0

    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="mo-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    weight_mib = args.size * args.size * 4 / 2**20
    print(f"weight: f32[{args.size},{args.size}] = {weight_mib:.0f} MiB; folder {folder}")
    baseline, _, _ = peak_rss_mib([sys.executable, "-c", "import numpy, onnx"])
    print(f"python + numpy + onnx import alone: {baseline:.0f} MiB")

    variants = [True] + ([] if args.no_embedded else [False])
    rows: list[tuple[str, float, float, int]] = []
    failed = False
    for external in variants:
        src = Path(subprocess.run([sys.executable, __file__, "--build", str(folder), str(args.size),
                                   str(int(external))], check=True, capture_output=True, text=True).stdout.strip())
        kind = "external data" if external else "embedded data"
        for fp16 in (False, True):
            out = folder / f"mo_{src.stem}_{'fp16' if fp16 else 'fp32'}"
            cmd = mo_command() + ["convert", str(src), "--output_dir", str(out)]
            if fp16:
                cmd += ["--data_type", "FP16"]
            mib, secs, rc = peak_rss_mib(cmd)
            label = f"mo       {kind:13s} {'FP16' if fp16 else 'FP32'}"
            rows.append((label, mib, secs, rc))
            print(f"{label}: peak RSS {mib:7.0f} MiB, {secs:5.1f} s")
            if external and (rc != 0 or mib > TARGET_MIB):
                failed = True
            if not args.keep:
                for f in out.glob("*"):
                    f.unlink()
        if not args.no_peer:
            for fp16 in (False, True):
                xml = folder / f"ov_{src.stem}_{'fp16' if fp16 else 'fp32'}" / "model.xml"
                xml.parent.mkdir(exist_ok=True)
                mib, secs, rc = peak_rss_mib([sys.executable, "-c", PEER_SCRIPT, str(src), str(xml), str(int(fp16))])
                label = f"openvino {kind:13s} {'FP16' if fp16 else 'FP32'}"
                rows.append((label, mib, secs, rc))
                mo_mib = next(r[1] for r in rows if r[0].startswith("mo") and kind in r[0]
                              and r[0].endswith("FP16" if fp16 else "FP32"))
                print(f"{label}: peak RSS {mib:7.0f} MiB, {secs:5.1f} s   (mo / openvino = {mo_mib / mib:.2f})")
                if not args.keep:
                    for f in xml.parent.glob("*"):
                        f.unlink()
        if not args.keep:
            for f in folder.glob("*"):
                if f.is_file():
                    f.unlink()
    print(f"target: mo under {TARGET_MIB} MiB with external data: {'MISSED' if failed else 'met'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
