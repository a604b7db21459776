"""Per-op conversions against mxnet 1.9.1: each case of side/make_ops.py (a small symbol, its
params, inputs and mxnet's inference outputs) is converted by mo and run in OpenVINO (f32 hint).

Tolerance per case (manifest "tol", 1e-5 unless stated): |IR - mxnet| <= tol + tol * |mxnet|.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import mo
from tests.runtime import ov_infer

from .sideenv import MODELS, SIDE, script_hash


def _case_names() -> list[str]:
    """Case names from the generated manifest when it exists, else from the script's source order."""
    manifest = MODELS / f"make_ops-{script_hash('make_ops.py')}" / "manifest.json"
    if manifest.exists():
        return [c["name"] for c in json.loads(manifest.read_text())]
    import re
    src = (SIDE / "make_ops.py").read_text()
    names = re.findall(r'^\s*(?:case|rnn_case)\(f?"([^"]+)"', src, re.M)
    return [n for n in names if "{" not in n] + [f"act_{a}" for a in ("relu", "sigmoid", "tanh", "softrelu",
                                                                       "softsign")] + \
        [f"reshape_{i}" for i in range(8)] + [f"l2norm_{m}" for m in ("instance", "channel", "spatial")] + \
        ["elemwise_add", "elemwise_sub", "elemwise_mul", "elemwise_div"] + \
        [f"broadcast_{k}" for k in ("add", "sub", "mul", "div", "maximum", "minimum", "greater", "lesser_equal",
                                    "equal")] + \
        ["_plus_scalar", "_minus_scalar", "_rminus_scalar", "_mul_scalar", "_div_scalar", "_rdiv_scalar",
         "_power_scalar", "_maximum_scalar", "_greater_scalar"]


def convert_case(ops_dir: Path, name: str, tmp_path: Path, **options):
    manifest = {c["name"]: c for c in json.loads((ops_dir / "manifest.json").read_text())}
    c = manifest[name]
    spec = ",".join(f"{k}[{','.join(str(d) for d in s)}]" for k, s in c["inputs"])
    graph = mo.convert(ops_dir / f"{name}-symbol.json", framework="mxnet", input=spec, **options)
    graph.check()
    xml = tmp_path / f"{name}.xml"
    mo.save(graph, xml)
    return c, graph, xml


@pytest.mark.parametrize("name", sorted(set(_case_names())))
def test_op(name, ops_dir, tmp_path):
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
