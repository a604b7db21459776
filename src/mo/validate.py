"""--validate: run the source framework and the IR on the same seeded random inputs.

Per output it prints the largest absolute error and the largest error relative to
the reference's magnitude. An output passes when every element satisfies
``|ir - ref| <= atol + rtol * max|ref|`` (FP32: atol 1e-4, rtol 1e-3; FP16: atol 1e-3,
rtol 2e-2).
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
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
        if v.shape is None:
            raise OptionError(f"--validate: input {v.name!r} has an unknown rank; give its shape, "
                              f"e.g. --input {v.name}[1,3,224,224]")
        shape = tuple(1 if d < 0 else d for d in v.shape)
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


def cut_onnx(path: str, inputs: list[str], outputs: list[str], folder: str,
             etypes: dict[str, str] | None = None) -> str:
    """The sub-model between ``inputs`` (default: the model's own) and ``outputs``, saved in ``folder``.

    --input/--output cut the converted model; the reference must be cut the same way.
    ``etypes`` gives the element type of cut tensors that ONNX shape inference misses.
    """
    import onnx
    from onnx import helper
    from onnx.utils import Extractor

    model = onnx.load(path)
    try:
        model = onnx.shape_inference.infer_shapes(model)
    except Exception:  # noqa: BLE001  (inference is only a help here; missing infos are added below)
        pass
    g = model.graph
    if not inputs:
        inits = {t.name for t in g.initializer}
        inputs = [i.name for i in g.input if i.name not in inits]
    known = {vi.name for vi in list(g.input) + list(g.output) + list(g.value_info)}
    for name in inputs + outputs:
        if name not in known:
            dt = np.dtype(to_numpy((etypes or {}).get(name, "f32")))
            g.value_info.append(helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(dt), None))
    sub = Extractor(model).extract_model(inputs, outputs)
    out = str(Path(folder) / "cut.onnx")
    onnx.save(sub, out)
    return out


def run_tf(path: str, feeds: dict[str, np.ndarray], outputs: list[str],
           options: ConvertOptions | None = None) -> dict[str, np.ndarray]:
    """TensorFlow's outputs: a SavedModel's signature is called as is; other formats are read
    (and frozen) by the TF frontend's reader and run as a GraphDef."""
    from mo.frontends.tf.loader import _quiet_tf, read_model

    tf = _quiet_tf()
    options = options or ConvertOptions(input_model=path)
    model = read_model(path, options)
    if model.source == "saved_model" and not options.inputs and not options.outputs:
        loaded = tf.saved_model.load(options.saved_model_dir or path, tags=options.saved_model_tags or None)
        sig = loaded.signatures[options.signature or "serving_default"]
        keys = set(sig.structured_input_signature[1])
        res = sig(**{k: tf.constant(v) for k, v in feeds.items() if k in keys})
        return {n: np.asarray(res[n]) for n in outputs if n in res}
    alias = {e: ref for ref, extra in model.inputs + model.outputs for e in extra}

    def tensor(name: str) -> str:
        name = alias.get(name, name)
        return name if ":" in name else name + ":0"

    wrapped = tf.compat.v1.wrap_function(lambda: tf.compat.v1.import_graph_def(model.graph_def, name=""), [])
    names = list(feeds)
    fn = wrapped.prune([wrapped.graph.get_tensor_by_name(tensor(n)) for n in names],
                       [wrapped.graph.get_tensor_by_name(tensor(n)) for n in outputs])
    res = fn(*[tf.constant(feeds[n]) for n in names])
    return {n: np.asarray(r) for n, r in zip(outputs, res)}


_MXNET_SCRIPT = r"""
import json, sys
import numpy as np
import mxnet as mx
spec = json.load(open(sys.argv[1]))
feeds = dict(np.load(sys.argv[2]))
doc = json.load(open(spec["symbol"]))
for node in doc["nodes"]:  # --input cuts: the node becomes a variable of the same name
    if node["name"] in spec["cut"] and node["op"] != "null":
        node.update(op="null", inputs=[])
        for key in ("attrs", "attr", "param"):
            node.pop(key, None)
doc["arg_nodes"] = [i for i, n in enumerate(doc["nodes"]) if n["op"] == "null"]
sym = mx.sym.load_json(json.dumps(doc))
if spec["outputs_internal"]:
    internals = sym.get_internals()
    sym = mx.sym.Group([internals[n] for n in spec["outputs_internal"]])
params = mx.nd.load(spec["params"]) if spec["params"] else {}
params = params if isinstance(params, dict) else {}
args = {k[4:] if k.startswith("arg:") else k: v for k, v in params.items() if not k.startswith("aux:")}
aux = {k[4:]: v for k, v in params.items() if k.startswith("aux:")}
args.update({k: mx.nd.array(v, dtype=v.dtype) for k, v in feeds.items()})
shapes, _, _ = sym.infer_shape_partial(**{k: v.shape for k, v in feeds.items()})
for name, shape in zip(sym.list_arguments(), shapes):
    if name not in args:  # training labels of loss layers
        args[name] = mx.nd.zeros(shape)
exe = sym.bind(mx.cpu(), args={k: args[k] for k in sym.list_arguments()},
               aux_states={k: aux[k] for k in sym.list_auxiliary_states()}, grad_req="null")
outs = exe.forward(is_train=False)
np.savez(sys.argv[3], **{str(i): o.asnumpy() for i, o in enumerate(outs)})
"""


def mxnet_python() -> str | None:
    """A python that imports mxnet: $MO_MXNET_PYTHON, or the side environment the tests build
    (.cache/mxnet-venv in the source tree)."""
    import os
    env = os.environ.get("MO_MXNET_PYTHON")
    if env:
        return env
    for base in (Path.cwd(), Path(__file__).resolve().parents[2]):
        cand = base / ".cache" / "mxnet-venv" / "bin" / "python"
        if cand.exists():
            return str(cand)
    return None


def run_mxnet(path: str, feeds: dict[str, np.ndarray], outputs: list[str],
              options: ConvertOptions | None = None) -> dict[str, np.ndarray]:
    """mxnet's outputs for the model, in this process when mxnet imports, else in the python
    of ``mxnet_python()``; outputs are matched by position (the symbol's heads)."""
    import json
    import subprocess
    import sys

    from mo.frontends.mxnet.loader import model_files

    options = options or ConvertOptions(input_model=path)
    symbol, params = model_files(path, options)
    internal = [o if o.endswith("_output") or ":" in o else o + "_output" for o in options.outputs]
    try:
        import mxnet  # noqa: F401
        python = sys.executable
    except ImportError:
        python = mxnet_python()
        if python is None:
            raise OptionError("--validate for MXNet needs mxnet, which needs numpy<1.24: create a separate "
                              "environment (python3.11 -m venv mxnet-env && mxnet-env/bin/pip install mxnet==1.9.1 "
                              "numpy==1.23.5) and set MO_MXNET_PYTHON=mxnet-env/bin/python") from None
    with tempfile.TemporaryDirectory(prefix="mo-mxnet-") as tmp:
        spec = Path(tmp) / "spec.json"
        spec.write_text(json.dumps({"symbol": str(Path(symbol).resolve()),
                                    "params": str(Path(params).resolve()) if params else None,
                                    "outputs_internal": internal,
                                    "cut": [i.name for i in options.inputs]}))
        np.savez(Path(tmp) / "feeds.npz", **feeds)
        res = subprocess.run([python, "-c", _MXNET_SCRIPT, str(spec), str(Path(tmp) / "feeds.npz"),
                              str(Path(tmp) / "out.npz")], capture_output=True, text=True, timeout=1800)
        if res.returncode != 0:
            last = (res.stderr.strip().splitlines() or ["no message"])[-1]
            raise OptionError(f"--validate: mxnet ({python}) failed to run {symbol}: {last}")
        got = np.load(Path(tmp) / "out.npz")
        return {name: got[str(i)] for i, name in enumerate(outputs) if str(i) in got.files}


def run_caffe(path: str, feeds: dict[str, np.ndarray], outputs: list[str],
              options: ConvertOptions | None = None) -> dict[str, np.ndarray]:
    """OpenCV's dnn module (which reads Caffe models) on the same files; output blobs are asked
    for by the layer that writes them last (OpenCV names outputs by layer)."""
    try:
        import cv2
    except ImportError:
        raise OptionError("--validate for Caffe needs OpenCV: pip install 'opencv-python-headless<5'") from None
    from mo.frontends.caffe.layers import read_net
    from mo.frontends.caffe.loader import model_files

    options = options or ConvertOptions(input_model=path)
    proto, weights = model_files(path, options)
    if weights is None:
        raise OptionError(f"--validate: {proto} has no weights to run; give the .caffemodel")
    last = {t: la.name for la in read_net(proto).layers for t in la.tops}
    net = cv2.dnn.readNetFromCaffe(proto, weights)
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    for name, value in feeds.items():
        net.setInput(np.ascontiguousarray(value), name)
    res = net.forward([last.get(o, o) for o in outputs])
    return {o: np.asarray(r) for o, r in zip(outputs, res)}


REFERENCES: dict[str, Callable[..., dict[str, np.ndarray]]] = {"onnx": run_onnx, "tf": run_tf, "mxnet": run_mxnet,
                                                               "caffe": run_caffe}


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
    for spec in options.inputs:   # inputs frozen to a value are fed to the reference as such
        if spec.value is not None and spec.name not in feeds:
            dt = to_numpy(spec.etype or "f32")
            arr = np.array(spec.value, dtype=dt)
            feeds[spec.name] = arr.reshape(spec.shape) if spec.shape is not None else arr
    with tempfile.TemporaryDirectory(prefix="mo-validate-") as tmp:
        if framework == "onnx" and (options.inputs or options.outputs):
            etypes = {n: v.etype for v in graph.inputs + graph.outputs for n in v.names}
            source = cut_onnx(source, [s.name for s in options.inputs], outputs, tmp, etypes)
        # --layout/--target_layout: the IR's interface is the source's, transposed
        moved = graph.meta.get("layout_transposes", {})
        src_feeds = dict(feeds)
        for name, (kind, order) in moved.items():
            if kind == "input" and name in src_feeds:
                src_feeds[name] = np.ascontiguousarray(np.transpose(feeds[name], np.argsort(order)))
        ref = runner(source, src_feeds, outputs) if framework not in ("tf", "mxnet", "caffe") else \
            runner(source, src_feeds, outputs, options)
        for name, (kind, order) in moved.items():
            if kind == "output" and name in ref:
                ref[name] = np.ascontiguousarray(np.transpose(ref[name], order))
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
