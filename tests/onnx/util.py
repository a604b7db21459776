"""Test helpers: convert an in-memory ONNX model with mo, run it in OpenVINO and in onnxruntime."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx

import mo


def ov_infer(xml: str | Path, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Run an IR on the CPU in f32 and return outputs by every tensor name they carry."""
    import openvino as ov

    core = ov.Core()
    compiled = core.compile_model(core.read_model(str(xml)), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    inputs = {}
    for port in compiled.inputs:
        names = port.get_names()
        match = [n for n in names if n in feeds]
        assert match, f"IR input {names} has no feed"
        inputs[port] = feeds[match[0]]
    res = compiled(inputs)
    out = {}
    for port in compiled.outputs:
        for n in port.get_names():
            out[n] = np.asarray(res[port])
    return out


def ort_infer(model: onnx.ModelProto | str | Path, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    import onnxruntime as ort

    data = model.SerializeToString() if isinstance(model, onnx.ModelProto) else str(model)
    sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(names, feeds)))


def convert_to_ir(model: onnx.ModelProto | str | Path, tmp_path: Path, **options) -> Path:
    if isinstance(model, onnx.ModelProto):
        src = tmp_path / "model.onnx"
        onnx.save(model, src)
    else:
        src = Path(model)
    graph = mo.convert(src, **options)
    graph.check()
    xml = tmp_path / "ir" / "model.xml"
    mo.save(graph, xml)
    return xml


def run_onnx_vs_ir(model: onnx.ModelProto, feeds: dict[str, np.ndarray], tmp_path: Path, rtol: float = 1e-5,
                   atol: float = 1e-6, **options) -> dict[str, np.ndarray]:
    """Convert ``model``, run both, assert every output matches; returns the IR outputs."""
    xml = convert_to_ir(model, tmp_path, **options)
    ref = ort_infer(model, feeds)
    got = ov_infer(xml, feeds)
    for name, r in ref.items():
        assert name in got, f"output {name} missing from the IR (has {sorted(got)})"
        g = got[name]
        assert g.shape == r.shape, f"{name}: shape {g.shape} != {r.shape}"
        if r.dtype.kind in "fc":
            np.testing.assert_allclose(g, r, rtol=rtol, atol=atol, err_msg=name)
        else:
            np.testing.assert_array_equal(g.astype(r.dtype), r, err_msg=name)
    return got
