"""--validate: run the source framework and the IR on the same seeded random inputs.

Per output it prints the largest absolute error and the largest error relative to
the reference's magnitude. An output passes when every element satisfies
``|ir - ref| <= atol + rtol * max|ref|`` (FP32: atol 1e-4, rtol 1e-3; FP16: atol 1e-3,
rtol 2e-2).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import click
import numpy as np

from .errors import OptionError
from .graph import Graph
from .options import ConvertOptions
from .types import to_numpy

TOLERANCES = {False: (1e-4, 1e-3), True: (1e-3, 2e-2)}  # fp16 -> (atol, rtol)


@dataclass(slots=True)
class OutputError:
    name: str
    max_abs: float
    max_rel: float
    ok: bool


def random_inputs(graph: Graph, seed: int) -> dict[str, np.ndarray]:
    """Seeded inputs for each Parameter (dynamic dims become 1)."""
    rng = np.random.default_rng(seed)
    feeds = {}
    for p in graph.parameters:
        v = p.outputs[0]
        shape = tuple(1 if d < 0 else d for d in (v.shape or ()))
        dt = to_numpy(v.etype)
        if v.etype == "boolean":
            a = rng.random(shape) > 0.5
        elif np.issubdtype(dt, np.integer):
            a = rng.integers(0, 4, size=shape).astype(dt)
        else:
            a = rng.standard_normal(shape).astype(dt)
        feeds[v.name] = a
    return feeds


def run_onnx(path: str, feeds: dict[str, np.ndarray], outputs: list[str]) -> dict[str, np.ndarray]:
    try:
        import onnxruntime as ort
    except ImportError:
        raise OptionError("--validate for ONNX needs onnxruntime: pip install 'mo[validate]'") from None
    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    known = {i.name for i in sess.get_inputs()}
    res = sess.run(outputs, {k: v for k, v in feeds.items() if k in known})
    return dict(zip(outputs, res))


REFERENCES: dict[str, Callable[[str, dict[str, np.ndarray], list[str]], dict[str, np.ndarray]]] = {"onnx": run_onnx}


def run_ir(xml: str, feeds: dict[str, np.ndarray], outputs: list[str]) -> dict[str, np.ndarray]:
    try:
        import openvino as ov
    except ImportError:
        raise OptionError("--validate needs the OpenVINO runtime: pip install 'mo[validate]'") from None
    core = ov.Core()
    # f32 execution: the CPU plugin would otherwise pick bf16 on CPUs that have it
    compiled = core.compile_model(core.read_model(xml), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    req = compiled.create_infer_request()
    inputs = {}
    for port in compiled.inputs:
        name = next(n for n in port.get_names() if n in feeds) if any(n in feeds for n in port.get_names()) else None
        if name is None:
            raise OptionError(f"{xml}: IR input {port.get_any_name()} matches no source input")
        inputs[port] = feeds[name]
    req.infer(inputs)
    out = {}
    for port in compiled.outputs:
        for n in port.get_names():
            if n in outputs:
                out[n] = np.array(req.get_tensor(port).data)
    return out


def compare(ref: dict[str, np.ndarray], got: dict[str, np.ndarray], fp16: bool) -> list[OutputError]:
    atol, rtol = TOLERANCES[fp16]
    errs = []
    for name, r in ref.items():
        if name not in got:
            errs.append(OutputError(name, float("inf"), float("inf"), False))
            continue
        g = got[name]
        if g.shape != r.shape:
            errs.append(OutputError(name, float("inf"), float("inf"), False))
            continue
        r64 = r.astype(np.float64)
        g64 = g.astype(np.float64)
        diff = np.abs(g64 - r64)
        diff = np.where(np.isnan(r64) & np.isnan(g64), 0.0, diff)
        scale = float(np.max(np.abs(r64[np.isfinite(r64)]), initial=0.0))
        max_abs = float(np.max(diff, initial=0.0))
        max_rel = max_abs / scale if scale > 0 else max_abs
        ok = bool(np.all(diff <= atol + rtol * scale))
        errs.append(OutputError(name, max_abs, max_rel, ok))
    return errs


def validate_ir(source: str, xml: str, graph: Graph, options: ConvertOptions, seed: int = 0) -> bool:
    framework = graph.meta.get("framework", "onnx")
    runner = REFERENCES.get(framework)
    if runner is None:
        raise OptionError(f"--validate is not available for {framework} models")
    feeds = random_inputs(graph, seed)
    outputs = [v.names[-1] if v.names else "" for v in graph.outputs]
    out_names = [r.name[: -len("/sink_port_0")] if r.name.endswith("/sink_port_0") else v.name
                 for r, v in zip(graph.results, graph.outputs)]
    outputs = [n for n in out_names if n]
    ref = runner(source, feeds, outputs)
    got = run_ir(xml, feeds, outputs)
    results = compare(ref, got, options.fp16)
    atol, rtol = TOLERANCES[options.fp16]
    all_ok = True
    for e in results:
        status = "OK" if e.ok else "FAIL"
        click.echo(f"[ VALIDATE ] {e.name}: max abs error {e.max_abs:.3g}, max rel error {e.max_rel:.3g} "
                   f"(atol {atol:g} + rtol {rtol:g}) {status}")
        all_ok &= e.ok
    click.echo(f"[ VALIDATE ] {'PASSED' if all_ok else 'FAILED'}: {framework} reference vs OpenVINO IR, seed {seed}")
    return all_ok
