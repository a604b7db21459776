"""Test helpers: convert an in-memory ONNX model with mo, run it in OpenVINO and in onnxruntime."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx

import mo

from ..runtime import ov_infer  # noqa: F401  (re-exported for the ONNX tests)


def make_model(nodes, inputs, outputs, opset=18, inits=()) -> onnx.ModelProto:
    """A model from nodes, (name, type, shape) inputs/outputs and (name, array) initializers."""
    from onnx import helper, numpy_helper

    g = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info(n, t, s) for n, t, s in inputs],
        [helper.make_tensor_value_info(n, t, s) for n, t, s in outputs],
        [numpy_helper.from_array(np.asarray(v), name=k) for k, v in inits])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)


_RNG = np.random.default_rng(0)


def x_f32(*shape: int) -> np.ndarray:
    """Seeded standard-normal float32 data."""
    return _RNG.standard_normal(shape).astype(np.float32)


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
