"""The `mo` command line: outputs, options, cutting, --validate and --log_level.

A few cases run the installed `mo` script in a subprocess (the real entry point, the
old `mo --input_model` form, logging); the rest use click's CliRunner in-process.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from click.testing import CliRunner
from lxml import etree

from mo import validate
from mo.cli import cli

from .onnx.util import ort_infer, ov_infer

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "sample_cnn.onnx"
MO = Path(sys.executable).with_name("mo")


def run_mo(*args: str) -> subprocess.CompletedProcess[str]:
    exe = [str(MO)] if MO.exists() else [sys.executable, "-m", "mo"]
    return subprocess.run(exe + list(args), capture_output=True, text=True, timeout=120)


def invoke(*args: str):
    return CliRunner().invoke(cli, ["convert", *args], catch_exceptions=False)


def ir_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def io_names(xml: Path) -> tuple[list[set[str]], list[set[str]]]:
    import openvino as ov

    model = ov.Core().read_model(str(xml))
    return [set(p.get_names()) for p in model.inputs], [set(p.get_names()) for p in model.outputs]


def const_types(xml: Path) -> set[str]:
    root = etree.parse(str(xml)).getroot()
    return {l.find("data").get("element_type") for l in root.iter("layer") if l.get("type") == "Const"}


def sample_input(shape=(1, 3, 64, 64), seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# ----------------------------------------------------------------------------- the installed script
def test_convert_writes_one_xml_and_one_bin(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = run_mo("convert", "--framework", "onnx", str(SAMPLE), "--output_dir", str(out))
    assert res.returncode == 0, res.stderr
    assert ir_files(out) == ["sample_cnn.bin", "sample_cnn.xml"]
    assert "[ SUCCESS ]" in res.stdout and res.stderr == ""
    ins, outs = io_names(out / "sample_cnn.xml")
    assert ins == [{"input"}] and outs == [{"probabilities"}]
    x = sample_input()
    np.testing.assert_allclose(ov_infer(out / "sample_cnn.xml", {"input": x})["probabilities"],
                               ort_infer(SAMPLE, {"input": x})["probabilities"], rtol=1e-4, atol=1e-6)


def test_old_input_model_form(tmp_path: Path) -> None:
    out = tmp_path / "old"
    res = run_mo("--input_model", str(SAMPLE), "--output_dir", str(out))
    assert res.returncode == 0, res.stderr
    assert ir_files(out) == ["sample_cnn.bin", "sample_cnn.xml"]


def test_log_level_info_prints_the_pass_summary(tmp_path: Path) -> None:
    res = run_mo("convert", str(SAMPLE), "--output_dir", str(tmp_path), "--log_level", "INFO",
                 "--data_type", "FP16")
    assert res.returncode == 0, res.stderr
    log = res.stderr
    assert "[ INFO ] loaded onnx model" in log
    for name in ("fold_constants:", "compress_to_fp16:", "eliminate_dead_code:"):
        assert name in log, log
    assert "constants stored as f16" in log
    quiet = run_mo("convert", str(SAMPLE), "--output_dir", str(tmp_path / "q"))
    assert "fold_constants" not in quiet.stderr + quiet.stdout


def test_help_and_version() -> None:
    res = CliRunner().invoke(cli, ["convert", "--help"])
    assert res.exit_code == 0 and "--output_dir" in res.output and "--validate" in res.output
    res = CliRunner().invoke(cli, ["--version"])
    assert res.exit_code == 0 and "mo" in res.output


# ----------------------------------------------------------------------------- options (in-process)
def test_framework_is_detected(tmp_path: Path) -> None:
    res = invoke(str(SAMPLE), "--output_dir", str(tmp_path))
    assert res.exit_code == 0, res.output
    assert ir_files(tmp_path) == ["sample_cnn.bin", "sample_cnn.xml"]
    # also without the .onnx extension: detected from the content
    plain = tmp_path / "src" / "classifier"
    plain.parent.mkdir()
    plain.write_bytes(SAMPLE.read_bytes())
    res = invoke(str(plain), "-o", str(tmp_path / "plain"))
    assert res.exit_code == 0, res.output
    assert ir_files(tmp_path / "plain") == ["classifier.bin", "classifier.xml"]


def test_model_name_and_input_model_option(tmp_path: Path) -> None:
    res = invoke("--input_model", str(SAMPLE), "--output_dir", str(tmp_path), "--model_name", "net")
    assert res.exit_code == 0, res.output
    assert ir_files(tmp_path) == ["net.bin", "net.xml"]
    assert etree.parse(str(tmp_path / "net.xml")).getroot().get("name") == "net"


def test_missing_model_argument_is_a_usage_error() -> None:
    res = CliRunner().invoke(cli, ["convert", "--output_dir", "x"])
    assert res.exit_code == 2 and "give the model file" in res.output


@pytest.mark.parametrize("args, fp16", [
    ([], False),
    (["--data_type", "FP16"], True),
    (["--data_type", "half"], True),
    (["--compress_to_fp16"], True),
    (["--compress_to_fp16=True"], True),
    (["--data_type", "FP16", "--compress_to_fp16=False"], False),
    (["--data_type", "FP32", "--compress_to_fp16", "true"], True),
])
def test_fp16_options(tmp_path: Path, args: list[str], fp16: bool) -> None:
    res = invoke(str(SAMPLE), "-o", str(tmp_path), *args)
    assert res.exit_code == 0, res.output
    xml = tmp_path / "sample_cnn.xml"
    floats = const_types(xml) & {"f16", "f32"}
    assert floats == ({"f16"} if fp16 else {"f32"})
    size = (tmp_path / "sample_cnn.bin").stat().st_size
    assert size < 60_000 if fp16 else size > 90_000


def test_bad_option_values_exit_2(tmp_path: Path) -> None:
    res = invoke(str(SAMPLE), "-o", str(tmp_path), "--compress_to_fp16=maybe")
    assert res.exit_code == 2 and "--compress_to_fp16 takes True or False" in res.output
    res = invoke(str(SAMPLE), "-o", str(tmp_path), "--input_shape", "1,3,64,64")
    assert res.exit_code == 2 and "in brackets" in res.output
    res = invoke(str(SAMPLE), "-o", str(tmp_path), "--output", "no_such_tensor")
    assert res.exit_code == 2 and "'no_such_tensor' is not a tensor of the model" in res.output
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- cutting
def _check_cut(tmp_path: Path, args: list[str], inputs: list[str], outputs: list[str],
               feeds: dict[str, np.ndarray]) -> None:
    out = tmp_path / "ir"
    res = invoke(str(SAMPLE), "-o", str(out), *args)
    assert res.exit_code == 0, res.output
    xml = out / "sample_cnn.xml"
    ins, outs = io_names(xml)
    assert ins == [{n} for n in inputs] and [o & set(outputs) for o in outs] == [{n} for n in outputs]
    sub = tmp_path / "sub.onnx"
    onnx.utils.extract_model(str(SAMPLE), str(sub), inputs, outputs)
    ref = ort_infer(sub, feeds)
    got = ov_infer(xml, feeds)
    for name in outputs:
        np.testing.assert_allclose(got[name], ref[name], rtol=1e-4, atol=1e-5, err_msg=name)


def test_cut_at_an_inner_output(tmp_path: Path) -> None:
    _check_cut(tmp_path, ["--output", "r2"], ["input"], ["r2"], {"input": sample_input()})


def test_cut_at_an_inner_input_with_a_shape(tmp_path: Path) -> None:
    p1 = np.abs(sample_input((1, 16, 32, 32), seed=3))
    _check_cut(tmp_path, ["--input", "p1[1,16,32,32]"], ["p1"], ["probabilities"], {"p1": p1})


def test_cut_on_both_sides(tmp_path: Path) -> None:
    p1 = np.abs(sample_input((1, 16, 32, 32), seed=4))
    _check_cut(tmp_path, ["--input", "p1[1,16,32,32]", "--output", "r2,r3"], ["p1"], ["r2", "r3"], {"p1": p1})


# ----------------------------------------------------------------------------- --validate
def test_validate_passes_and_prints_each_output(tmp_path: Path) -> None:
    res = invoke(str(SAMPLE), "-o", str(tmp_path), "--validate", "--output", "r2,probabilities")
    assert res.exit_code == 0, res.output
    lines = [l for l in res.output.splitlines() if l.startswith("[ VALIDATE ]")]
    assert lines[0].startswith("[ VALIDATE ] r2: max abs error") and lines[0].endswith("OK")
    assert lines[1].startswith("[ VALIDATE ] probabilities: max abs error") and lines[1].endswith("OK")
    assert "PASSED" in lines[-1]


def test_validate_fp16_and_cut_input(tmp_path: Path) -> None:
    res = invoke(str(SAMPLE), "-o", str(tmp_path), "--validate", "--data_type", "FP16", "--input", "p1[1,16,32,32]")
    assert res.exit_code == 0, res.output
    assert "(atol 0.001 + rtol 0.02) OK" in res.output


def test_validate_fails_with_exit_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = validate.run_ir

    def perturbed(xml, feeds, outputs):
        got = real(xml, feeds, outputs)
        return {k: v + 0.01 for k, v in got.items()}

    monkeypatch.setattr(validate, "run_ir", perturbed)
    res = invoke(str(SAMPLE), "-o", str(tmp_path), "--validate")
    assert res.exit_code == 1, res.output
    assert "[ VALIDATE ] probabilities: max abs error 0.01" in res.output and "FAIL" in res.output
    assert "[ VALIDATE ] FAILED" in res.output
    assert ir_files(tmp_path) == ["sample_cnn.bin", "sample_cnn.xml"]   # the IR stays for inspection


def test_compare_tolerances() -> None:
    ref = {"a": np.array([1.0, -2.0, 4.0], np.float32), "b": np.array([100.0], np.float32)}
    ok = validate.compare(ref, {"a": ref["a"] + 1e-4, "b": ref["b"] + 0.05}, fp16=False)
    assert [e.ok for e in ok] == [True, True]       # b: 0.05 <= 1e-4 + 1e-3 * 100
    assert ok[0].max_abs == pytest.approx(1e-4, rel=1e-2)
    assert ok[0].max_rel == pytest.approx(1e-4 / 4, rel=1e-2)
    bad = validate.compare(ref, {"a": ref["a"] + 1e-2, "b": ref["b"] + 0.2}, fp16=False)
    assert [e.ok for e in bad] == [False, False]
    # FP16 tolerances are wider
    assert [e.ok for e in validate.compare(ref, {"a": ref["a"] + 1e-2, "b": ref["b"]}, fp16=True)] == [True, True]
    # a missing output or a shape mismatch fails; matching NaNs do not
    miss = validate.compare(ref, {"a": ref["a"].reshape(3, 1)}, fp16=False)
    assert [e.ok for e in miss] == [False, False] and miss[1].max_abs == float("inf")
    nan = np.array([np.nan, 1.0], np.float32)
    assert validate.compare({"n": nan}, {"n": nan.copy()}, fp16=False)[0].ok


def test_internal_error_is_one_line_with_exit_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mo.pipeline

    def broken(options):
        raise RuntimeError("something nobody expected\nsecond line")

    monkeypatch.setattr(mo.pipeline, "convert", broken)
    res = invoke(str(SAMPLE), "-o", str(tmp_path / "out"))
    assert res.exit_code == 3
    assert res.output.strip() == (f"[ ERROR ] {SAMPLE}: internal error of mo: RuntimeError: something nobody "
                                  "expected; please report it (--log_level DEBUG prints the traceback)")
    assert not (tmp_path / "out").exists()
