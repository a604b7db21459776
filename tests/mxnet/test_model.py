"""Whole-model behaviour: the ways to name the files, pre-1.0 symbols, --input_shape only when
the symbol has no shape, conversion without mxnet, --validate, and bad input (one line, exit 2,
no files)."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import mo
from tests.runtime import ov_infer

MO = Path(sys.executable).with_name("mo")


def run_mo(*args: str, env: dict | None = None, detect: bool = False) -> subprocess.CompletedProcess[str]:
    """The installed mo; ``--framework mxnet`` is added unless the test is about detection."""
    exe = [str(MO)] if MO.exists() else [sys.executable, "-m", "mo"]
    args = list(args)
    if not detect and "--framework" not in args and "--input_symbol" not in args:
        args[1:1] = ["--framework", "mxnet"]
    return subprocess.run(exe + args, capture_output=True, text=True, timeout=300, env=env)


def test_main_environment_has_no_mxnet():
    """mo converts MXNet models without mxnet: the main environment must not have it."""
    with pytest.raises(ImportError):
        import mxnet  # noqa: F401


def _copy_case(ops_dir: Path, name: str, dst: Path, stem: str = "model") -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    shutil.copy(ops_dir / f"{name}-symbol.json", dst / f"{stem}-symbol.json")
    shutil.copy(ops_dir / f"{name}-0000.params", dst / f"{stem}-0000.params")
    return dst


@pytest.mark.parametrize("form", ["symbol", "params", "params+symbol", "auto"])
def test_file_forms(ops_dir, tmp_path, form):
    d = _copy_case(ops_dir, "conv", tmp_path / "m")
    io = np.load(ops_dir / "conv-io.npz")
    sym, params = d / "model-symbol.json", d / "model-0000.params"
    args = {"symbol": [str(sym), "--framework", "mxnet"], "params": [str(params), "--framework", "mxnet"],
            "params+symbol": ["--input_model", str(params), "--input_symbol", str(sym)],
            "auto": [str(sym)]}[form]
    out = tmp_path / "out"
    res = run_mo("convert", *args, "--input_shape", "[2,3,8,8]", "--output_dir", str(out), "--model_name", "m",
                 detect=form in ("auto", "params+symbol"))
    assert res.returncode == 0, res.stderr
    got = ov_infer(out / "m.xml", {"data": io["in:data"]})["convolution0_output"]
    np.testing.assert_allclose(got, io["out:0"], rtol=1e-5, atol=1e-5)


def test_newest_params_epoch_is_used(ops_dir, tmp_path):
    d = _copy_case(ops_dir, "conv", tmp_path / "m")
    bad = d / "model-0000.params"
    shutil.copy(bad, d / "model-0007.params")
    bad.write_bytes(b"not params")        # only epoch 7 is read
    graph = mo.convert(d / "model-symbol.json", framework="mxnet", input_shape=[(2, 3, 8, 8)])
    assert len(graph.outputs) == 1


def test_input_shape_from_symbol(ops_dir, tmp_path):
    """A data variable with a __shape__ hint needs no --input_shape; without one, the error says what to give."""
    d = _copy_case(ops_dir, "conv", tmp_path / "m")
    doc = json.loads((d / "model-symbol.json").read_text())
    res = run_mo("convert", str(d / "model-symbol.json"), "--output_dir", str(tmp_path / "o1"))
    assert res.returncode == 2 and "--input_shape" in res.stderr and "'data'" in res.stderr
    doc["nodes"][0]["attrs"] = {"__shape__": "(2, 3, 8, 8)"}
    (d / "model-symbol.json").write_text(json.dumps(doc))
    graph = mo.convert(d / "model-symbol.json", framework="mxnet")
    assert graph.inputs[0].shape == (2, 3, 8, 8)


def test_legacy_symbol(tmp_path):
    """A pre-1.0 symbol ("param"/"attr" keys, no version, SoftmaxOutput with its label) against mxnet."""
    from .conftest import _generated
    d = _generated("make_params.py")
    io = np.load(d / "legacy-io.npz")
    graph = mo.convert(d / "legacy-symbol.json", framework="mxnet", input_shape=[io["x"].shape])
    assert [p.outputs[0].name for p in graph.parameters] == ["data"]    # the label is no input
    mo.save(graph, tmp_path / "legacy.xml")
    got = ov_infer(tmp_path / "legacy.xml", {"data": io["x"]})["softmax_output"]
    np.testing.assert_allclose(got, io["y"], rtol=1e-5, atol=1e-6)


def test_validate_runs_mxnet(ops_dir, tmp_path):
    d = _copy_case(ops_dir, "batchnorm", tmp_path / "m")
    res = run_mo("convert", str(d / "model-symbol.json"), "--input_shape", "[2,3,8,8]", "--output_dir",
                 str(tmp_path / "o"), "--validate")
    assert res.returncode == 0, res.stderr
    assert "[ VALIDATE ] PASSED: mxnet reference" in res.stdout


def test_validate_without_mxnet_says_how(ops_dir, tmp_path):
    import os
    d = _copy_case(ops_dir, "conv", tmp_path / "m")
    env = dict(os.environ, MO_MXNET_PYTHON="")
    work = tmp_path / "elsewhere"
    work.mkdir()
    code = ("import sys, mo.validate as v; v.mxnet_python = lambda: None; from mo.cli import main; "
            "sys.argv = ['mo'] + sys.argv[1:]; main()")
    res = subprocess.run([sys.executable, "-c", code, "convert", "--framework", "mxnet", str(d / "model-symbol.json"),
                          "--input_shape",
                          "[2,3,8,8]", "--output_dir", str(tmp_path / "o"), "--validate"],
                         capture_output=True, text=True, cwd=work, env=env, timeout=300)
    assert res.returncode == 2, res.stderr
    assert "pip install mxnet==1.9.1 numpy==1.23.5" in res.stderr and "MO_MXNET_PYTHON" in res.stderr


# ---------------------------------------------------------------- bad input
def _assert_clean_failure(res, out: Path, *mentions: str) -> str:
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("[ ERROR ] "), res.stderr
    assert "Traceback" not in res.stdout + res.stderr
    for word in mentions:
        assert word in lines[0], f"{word!r} not in {lines[0]!r}"
    assert not out.exists() or list(out.iterdir()) == []
    return lines[0]


def test_truncated_params(ops_dir, tmp_path):
    d = _copy_case(ops_dir, "conv", tmp_path / "m")
    p = d / "model-0000.params"
    p.write_bytes(p.read_bytes()[:-20])
    res = run_mo("convert", str(d / "model-symbol.json"), "--input_shape", "[2,3,8,8]", "--output_dir",
                 str(tmp_path / "o"))
    _assert_clean_failure(res, tmp_path / "o", "model-0000.params", "truncated")


def _params_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    import struct
    out = bytearray(struct.pack("<QQQ", 0x112, 0, len(arrays)))
    for a in arrays.values():
        out += struct.pack("<Iii", 0xF993FAC9, 0, a.ndim) + struct.pack(f"<{a.ndim}q", *a.shape)
        out += struct.pack("<iii", 1, 0, 0) + a.astype("<f4").tobytes()
    out += struct.pack("<Q", len(arrays))
    for n in arrays:
        out += struct.pack("<Q", len(n)) + n.encode()
    return bytes(out)


def test_params_missing_argument(ops_dir, tmp_path):
    d = _copy_case(ops_dir, "conv", tmp_path / "m")
    (d / "model-0000.params").write_bytes(_params_bytes({"arg:b": np.zeros(4, np.float32)}))   # no "w"
    res = run_mo("convert", str(d / "model-symbol.json"), "--input_shape", "[2,3,8,8]", "--output_dir",
                 str(tmp_path / "o"))
    _assert_clean_failure(res, tmp_path / "o", "model-0000.params", "'w'", "model-symbol.json")


def test_shape_mismatch(ops_dir, tmp_path):
    d = _copy_case(ops_dir, "conv", tmp_path / "m")
    (d / "model-0000.params").write_bytes(_params_bytes({"arg:w": np.zeros((4, 3, 5, 5), np.float32),
                                                         "arg:b": np.zeros(4, np.float32)}))
    res = run_mo("convert", str(d / "model-symbol.json"), "--input_shape", "[2,3,8,8]", "--output_dir",
                 str(tmp_path / "o"))
    _assert_clean_failure(res, tmp_path / "o", "model-symbol.json", "convolution0", "Convolution", "[4, 3, 5, 5]")


def test_input_shape_mismatch(ops_dir, tmp_path):
    d = _copy_case(ops_dir, "conv", tmp_path / "m")
    res = run_mo("convert", str(d / "model-symbol.json"), "--input_shape", "[2,5,8,8]", "--output_dir",
                 str(tmp_path / "o"))
    _assert_clean_failure(res, tmp_path / "o", "model-symbol.json", "convolution0", "Convolution")


def test_unknown_op(ops_dir, tmp_path):
    d = _copy_case(ops_dir, "conv", tmp_path / "m")
    doc = json.loads((d / "model-symbol.json").read_text())
    doc["nodes"].append({"op": "MyCustomOp", "name": "custom0", "inputs": [[len(doc["nodes"]) - 1, 0, 0]]})
    doc["heads"] = [[len(doc["nodes"]) - 1, 0, 0]]
    (d / "model-symbol.json").write_text(json.dumps(doc))
    res = run_mo("convert", str(d / "model-symbol.json"), "--input_shape", "[2,3,8,8]", "--output_dir",
                 str(tmp_path / "o"))
    _assert_clean_failure(res, tmp_path / "o", "model-symbol.json", "MyCustomOp x1", "custom0")


def test_sparse_params(tmp_path, ops_dir):
    from .conftest import _generated
    pd = _generated("make_params.py")
    d = _copy_case(ops_dir, "conv", tmp_path / "m")
    shutil.copy(pd / "csr.params", d / "model-0000.params")
    res = run_mo("convert", str(d / "model-symbol.json"), "--input_shape", "[2,3,8,8]", "--output_dir",
                 str(tmp_path / "o"))
    _assert_clean_failure(res, tmp_path / "o", "model-0000.params", "csr")


def test_params_without_symbol(ops_dir, tmp_path):
    d = tmp_path / "m"
    d.mkdir()
    shutil.copy(ops_dir / "conv-0000.params", d / "lonely-0000.params")
    res = run_mo("convert", str(d / "lonely-0000.params"), "--output_dir", str(tmp_path / "o"))
    _assert_clean_failure(res, tmp_path / "o", "lonely-0000.params", "--input_symbol")


def test_cut_and_validate(tmp_path):
    """--input/--output name nodes; --validate cuts mxnet's graph the same way."""
    from .conftest import _generated
    d = _generated("make_params.py")
    res = run_mo("convert", str(d / "legacy-symbol.json"), "--input", "relu[2,4,6,6]", "--output", "fc",
                 "--output_dir", str(tmp_path / "o"), "--validate")
    assert res.returncode == 0, res.stderr
    assert "[ VALIDATE ] fc_output:" in res.stdout and "PASSED" in res.stdout
    graph = mo.convert(d / "legacy-symbol.json", framework="mxnet", input="relu[2,4,6,6]", output="fc")
    assert [v.name for v in graph.inputs] == ["relu"] and graph.outputs[0].names[-1] == "fc_output"
    assert "Convolution" not in graph.op_counts() and "SoftMax" not in graph.op_counts()


def test_deterministic_output(ops_dir, tmp_path):
    """Converting twice writes the same bytes."""
    blobs = []
    for k in range(2):
        graph = mo.convert(ops_dir / "batchnorm-symbol.json", framework="mxnet", input_shape=[(2, 3, 8, 8)])
        saved = mo.save(graph, tmp_path / str(k) / "m.xml")
        blobs.append((saved.xml.read_bytes(), saved.bin.read_bytes()))
    assert blobs[0] == blobs[1]


def test_cut_leaves_a_variable_without_value(ops_dir, tmp_path):
    d = _copy_case(ops_dir, "where", tmp_path / "m")
    res = run_mo("convert", str(d / "model-symbol.json"), "--input", "a[2,3]", "--output_dir", str(tmp_path / "o"))
    _assert_clean_failure(res, tmp_path / "o", "model-0000.params", "'c'", "no --input")


def test_extension_converter(ops_dir, tmp_path):
    """--extensions registers MXNet converters with the frontend's own decorator."""
    d = _copy_case(ops_dir, "conv", tmp_path / "m")
    doc = json.loads((d / "model-symbol.json").read_text())
    doc["nodes"].append({"op": "MyScale", "name": "scale0", "attrs": {"factor": "2.5"},
                         "inputs": [[len(doc["nodes"]) - 1, 0, 0]]})
    doc["heads"] = [[len(doc["nodes"]) - 1, 0, 0]]
    (d / "model-symbol.json").write_text(json.dumps(doc))
    ext = tmp_path / "my_scale.py"
    ext.write_text("import numpy as np\n"
                   "from mo.frontends.mxnet.context import mxnet_ops\n\n"
                   "@mxnet_ops.op('MyScale')\n"
                   "def my_scale(g, x, *, factor=1.0):\n"
                   "    return g.op('Multiply', x, g.scalar_like(factor, x))\n")
    graph = mo.convert(d / "model-symbol.json", framework="mxnet", input_shape=[(2, 3, 8, 8)], extensions=[str(ext)])
    mo.save(graph, tmp_path / "ext.xml")
    io = np.load(ops_dir / "conv-io.npz")
    got = ov_infer(tmp_path / "ext.xml", {"data": io["in:data"]})["scale0_output"]
    np.testing.assert_allclose(got, io["out:0"] * 2.5, rtol=1e-5, atol=1e-5)
