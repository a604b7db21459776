"""Run the ONNX backend node suite through mo's Python API and the OpenVINO runtime.

The suite is generated from the installed onnx package (as
../shared/tools/gen_onnx_node_suite.py does) and each case is judged exactly as
../shared/tools/onnx_conformance.py judges it: convert, compile on CPU (default
precision), feed inputs by position, compare outputs by position with
``allclose(rtol=1e-3, atol=1e-4, equal_nan=True)`` (exact for non-float types).

Usage: python -m tests.onnx.node_suite SUITE_DIR [--jobs N] [--log FILE]
(generates SUITE_DIR first when it is empty).
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import threading


def generate(out: str) -> int:
    import numpy as np
    from onnx import TensorProto, numpy_helper
    from onnx.backend.test.case import node

    n = 0
    for case in node.collect_testcases():
        d = os.path.join(out, case.name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "model.onnx"), "wb") as f:
            f.write(case.model.SerializeToString())
        ok = True
        for i, (inputs, outputs) in enumerate(case.data_sets):
            ds = os.path.join(d, f"test_data_set_{i}")
            os.makedirs(ds, exist_ok=True)
            for kind, arrs, vis in (("input", inputs, case.model.graph.input), ("output", outputs,
                                                                                case.model.graph.output)):
                for j, a in enumerate(arrs):
                    try:
                        if isinstance(a, TensorProto):
                            t = a
                        elif isinstance(a, (list, dict)) or a is None:
                            ok = False
                            continue
                        else:
                            t = numpy_helper.from_array(np.asarray(a), vis[j].name if j < len(vis) else f"{kind}_{j}")
                        with open(os.path.join(ds, f"{kind}_{j}.pb"), "wb") as f:
                            f.write(t.SerializeToString())
                    except Exception:
                        ok = False
        if not ok:
            open(os.path.join(d, "NONTENSOR"), "w").close()
        n += 1
    return n


def _load_pb(path: str):
    from onnx import TensorProto, numpy_helper

    t = TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def _numbered(ds: str, kind: str) -> list[str]:
    return sorted(glob.glob(os.path.join(ds, f"{kind}_*.pb")), key=lambda s: int(s.rsplit("_", 1)[1][:-3]))


def run_case(case: str) -> tuple[str, str]:
    """(status, reason) of one case: pass, fail or skip (non-tensor data)."""
    import numpy as np
    import openvino as ov

    import mo

    if os.path.exists(os.path.join(case, "NONTENSOR")):
        return "skip", "non-tensor data"
    try:
        with tempfile.TemporaryDirectory() as td:
            graph = mo.convert(os.path.join(case, "model.onnx"), framework="onnx")
            xml = os.path.join(td, "model.xml")
            mo.save(graph, xml)
            core = ov.Core()
            compiled = core.compile_model(core.read_model(xml), "CPU")
            for ds in sorted(glob.glob(os.path.join(case, "test_data_set_*"))):
                ins = [_load_pb(p) for p in _numbered(ds, "input")]
                outs = [_load_pb(p) for p in _numbered(ds, "output")]
                req = compiled.create_infer_request()
                req.infer({i: a for i, a in enumerate(ins)} if len(compiled.inputs) == len(ins) else None)
                got = [req.get_output_tensor(i).data for i in range(len(compiled.outputs))]
                if len(got) != len(outs):
                    return "fail", f"output count {len(got)} != {len(outs)}"
                for g, e in zip(got, outs):
                    g = np.asarray(g)
                    if g.shape != e.shape:
                        return "fail", f"shape {g.shape} != {e.shape}"
                    if e.dtype.kind in "fc":
                        if not np.allclose(g.astype(np.float64), e.astype(np.float64), rtol=1e-3, atol=1e-4,
                                           equal_nan=True):
                            return "fail", "values differ, max abs %.3g" % float(
                                np.nanmax(np.abs(g.astype(np.float64) - e.astype(np.float64))))
                    elif not np.array_equal(g.astype(e.dtype) if e.dtype != object else g, e):
                        return "fail", "values differ (exact)"
        return "pass", ""
    except Exception as ex:  # noqa: BLE001 - every failure is a reason to report
        msg = str(ex).strip().splitlines()
        return "fail", (type(ex).__name__ + ": " + (msg[0] if msg else ""))[:300]


def _worker() -> None:
    for line in sys.stdin:
        case = line.strip()
        if not case:
            continue
        print("START " + case, flush=True)
        st, why = run_case(case)
        print("RESULT " + json.dumps([case, st, why]), flush=True)


def run_suite(suite: str, jobs: int = 2, filter: str = "") -> dict[str, tuple[str, str]]:
    """Results by case name; cases run in ``jobs`` worker processes, a crash fails only its case."""
    cases = sorted(d for d in glob.glob(os.path.join(suite, "*"))
                   if os.path.isdir(d) and filter in os.path.basename(d))
    results: dict[str, tuple[str, str]] = {}
    lock = threading.Lock()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

    def shard(todo: list[str]) -> None:
        while todo:
            p = subprocess.Popen([sys.executable, "-m", "tests.onnx.node_suite", "--worker"], cwd=root,
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            assert p.stdin is not None and p.stdout is not None
            p.stdin.write("\n".join(todo) + "\n")
            p.stdin.close()
            current = None
            for line in p.stdout:
                if line.startswith("START "):
                    current = line[6:].strip()
                elif line.startswith("RESULT "):
                    c, st, why = json.loads(line[7:])
                    with lock:
                        results[c] = (st, why)
                    current = None
            rc = p.wait()
            if current is not None:
                with lock:
                    results[current] = ("fail", f"crash (rc={rc})")
            todo = [c for c in todo if c not in results]

    threads = [threading.Thread(target=shard, args=(cases[i::jobs],)) for i in range(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {os.path.basename(k): v for k, v in results.items()}


def summarize(results: dict[str, tuple[str, str]]) -> tuple[int, int]:
    counted = [v for v in results.values() if v[0] != "skip"]
    return sum(1 for v in counted if v[0] == "pass"), len(counted)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("suite", nargs="?")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--log")
    ap.add_argument("--filter", default="")
    ap.add_argument("--worker", action="store_true")
    a = ap.parse_args()
    if a.worker:
        _worker()
        return
    if not a.suite:
        ap.error("give SUITE_DIR")
    if not os.path.isdir(a.suite) or not os.listdir(a.suite):
        os.makedirs(a.suite, exist_ok=True)
        generate(a.suite)
    results = run_suite(a.suite, a.jobs, a.filter)
    if a.log:
        with open(a.log, "w") as f:
            for k in sorted(results):
                f.write(f"{results[k][0]}\t{k}\t{results[k][1]}\n")
    passed, total = summarize(results)
    print(f"node suite: {passed}/{total} ({100.0 * passed / max(1, total):.1f}%) via mo (Python API)")


if __name__ == "__main__":
    main()
