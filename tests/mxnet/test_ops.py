"""Per-op conversions against mxnet 1.9.1: each case of side/make_ops.py (a small symbol, its
params, inputs and mxnet's inference outputs) is converted by mo and run in OpenVINO (f32 hint).
The cases are the script's (see ``pytest_generate_tests`` in conftest.py).

Tolerance per case (manifest "tol", 1e-5 unless stated): |IR - mxnet| <= tol + tol * |mxnet|.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import mo
from tests.runtime import ov_infer


def convert_case(ops_dir: Path, name: str, tmp_path: Path, **options):
    manifest = {c["name"]: c for c in json.loads((ops_dir / "manifest.json").read_text())}
    c = manifest[name]
    spec = ",".join(f"{k}[{','.join(str(d) for d in s)}]" for k, s in c["inputs"])
    graph = mo.convert(ops_dir / f"{name}-symbol.json", framework="mxnet", input=spec, **options)
    graph.check()
    xml = tmp_path / f"{name}.xml"
    mo.save(graph, xml)
    return c, graph, xml


def test_op(op_case, ops_dir, tmp_path):
    name = op_case
    c, graph, xml = convert_case(ops_dir, name, tmp_path)
    io = np.load(ops_dir / f"{name}-io.npz")
    feeds = {k[3:]: io[k] for k in io.files if k.startswith("in:")}
    refs = [io[f"out:{i}"] for i in range(len([k for k in io.files if k.startswith("out:")]))]
    got = ov_infer(xml, feeds)
    assert len(graph.outputs) == len(refs), f"{len(graph.outputs)} outputs, mxnet has {len(refs)}"
    tol = c["tol"]
    for i, (v, ref) in enumerate(zip(graph.outputs, refs)):
        out = got[v.names[-1]]
        assert out.shape == ref.shape, f"output {i}: shape {out.shape} != mxnet {ref.shape}"
        np.testing.assert_allclose(out.astype(np.float64), ref.astype(np.float64), rtol=tol, atol=tol,
                                   err_msg=f"{name} output {i}")
