"""Bad input: every case exits with code 2 and one stderr line naming the file, no traceback, no files.

Each case runs the installed `mo` script in a subprocess, so what is checked is exactly
what a user sees.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Callable

import onnx
import pytest
from onnx import TensorProto, helper

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "sample_cnn.onnx"
MO = Path(sys.executable).with_name("mo")
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"


def run_mo(*args: str) -> subprocess.CompletedProcess[str]:
    exe = [str(MO)] if MO.exists() else [sys.executable, "-m", "mo"]
    return subprocess.run(exe + list(args), capture_output=True, text=True, timeout=120)


def assert_clean_failure(model: Path, out: Path, *extra: str, mentions: tuple[str, ...] = ()) -> str:
    """Run mo on ``model``; check the failure contract and return the error line."""
    res = run_mo("convert", str(model), "--output_dir", str(out), *extra)
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    lines = res.stderr.splitlines()
    assert len(lines) == 1, res.stderr
    line = lines[0]
    assert line.startswith("[ ERROR ] ") and "Traceback" not in res.stderr + res.stdout
    assert model.name in line, line
    for word in mentions:
        assert word in line, f"{word!r} not in {line!r}"
    assert not out.exists() or list(out.iterdir()) == [], sorted(out.iterdir())
    return line


def single_node_model(path: Path, node: onnx.NodeProto, opset: int = 17) -> Path:
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])],
                              [helper.make_tensor_value_info(node.output[0], TensorProto.FLOAT, None)])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]), path)
    return path


# ----------------------------------------------------------------------------- files that are not models
def test_missing_file(tmp_path: Path) -> None:
    assert_clean_failure(tmp_path / "nothere.onnx", tmp_path / "out", mentions=("file not found",))


def test_directory_instead_of_a_file(tmp_path: Path) -> None:
    d = tmp_path / "folder.onnx"
    d.mkdir()
    assert_clean_failure(d, tmp_path / "out", mentions=("directory",))


@pytest.mark.parametrize("name", ["half.onnx", "half_no_ext"])
def test_truncated_onnx(tmp_path: Path, name: str) -> None:
    data = SAMPLE.read_bytes()
    bad = tmp_path / name
    bad.write_bytes(data[: len(data) // 2])
    line = assert_clean_failure(bad, tmp_path / "out", "--framework", "onnx")
    assert "truncated" in line
    if "." in name:   # also found by auto-detection
        assert_clean_failure(bad, tmp_path / "out")


@pytest.mark.parametrize("name, content", [
    ("notes.onnx", b"this is a text file, not a model\n"),
    ("notes.txt", b"this is a text file, not a model\n"),
    ("image.onnx", PNG),
    ("image.png", PNG),
    ("empty.onnx", b""),
], ids=["text.onnx", "text.txt", "png.onnx", "png.png", "empty.onnx"])
def test_not_an_onnx_file(tmp_path: Path, name: str, content: bytes) -> None:
    f = tmp_path / name
    f.write_bytes(content)
    line = assert_clean_failure(f, tmp_path / "out")
    assert "ONNX" in line or "framework" in line
    if not name.endswith(".onnx"):   # not detected: mo asks for --framework; forced, the parse fails
        assert "--framework" in line
        assert_clean_failure(f, tmp_path / "out", "--framework", "onnx")


def test_external_data_file_missing(tmp_path: Path) -> None:
    import numpy as np
    from onnx import numpy_helper

    w = numpy_helper.from_array(np.ones((4, 4), np.float32), "W")
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / "ext.onnx"
    onnx.save_model(model, path, save_as_external_data=True, location="ext.data", size_threshold=0)
    (tmp_path / "ext.data").unlink()
    assert_clean_failure(path, tmp_path / "out", mentions=("ext.data", "'W'"))


# ----------------------------------------------------------------------------- models mo cannot convert
def test_unsupported_ops_are_all_listed_with_counts(tmp_path: Path) -> None:
    nodes = [helper.make_node("FooOp", ["x"], ["a"], name="foo_1"),
             helper.make_node("BarOp", ["a"], ["b"], name="bar_1"),
             helper.make_node("FooOp", ["b"], ["c"], name="foo_2"),
             helper.make_node("Relu", ["c"], ["d"], name="relu"),
             helper.make_node("BarOp", ["d"], ["e"], name="bar_2"),
             helper.make_node("FooOp", ["e"], ["f"], name="foo_3")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("f", TensorProto.FLOAT, [1, 4])])
    path = tmp_path / "custom_ops.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    line = assert_clean_failure(path, tmp_path / "out", mentions=("FooOp x3", "BarOp x2", "2 unsupported"))
    assert "Relu" not in line
    assert line.index("FooOp") < line.index("BarOp")   # most frequent first


BAD_ATTRIBUTES: list[tuple[str, Callable[[], onnx.NodeProto], tuple[str, ...]]] = [
    ("concat_axis", lambda: helper.make_node("Concat", ["x", "x"], ["y"], axis=9, name="cat_bad"),
     ("cat_bad", "Concat", "axis 9")),
    ("depth_to_space_mode", lambda: helper.make_node("DepthToSpace", ["x"], ["y"], blocksize=2, mode="XYZ",
                                                     name="d2s_bad"), ("d2s_bad", "DepthToSpace", "XYZ")),
    ("maxpool_auto_pad", lambda: helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], auto_pad="FOO",
                                                  name="pool_bad"), ("pool_bad", "MaxPool", "FOO")),
    ("cast_to_string", lambda: helper.make_node("Cast", ["x"], ["y"], to=TensorProto.STRING, name="cast_bad"),
     ("cast_bad", "Cast")),
    ("leaky_relu_alpha_type", lambda: helper.make_node("LeakyRelu", ["x"], ["y"], alpha="abc", name="lr_bad"),
     ("lr_bad", "LeakyRelu")),
]


@pytest.mark.parametrize("case, make, mentions", BAD_ATTRIBUTES, ids=[c[0] for c in BAD_ATTRIBUTES])
def test_bad_attribute_value(tmp_path: Path, case: str, make, mentions: tuple[str, ...]) -> None:
    path = single_node_model(tmp_path / f"{case}.onnx", make())
    assert_clean_failure(path, tmp_path / "out", mentions=mentions)


OUT_OF_RANGE_AXES = [
    ("softmax_axis", lambda: helper.make_node("Softmax", ["x"], ["y"], axis=7, name="sm_bad")),
    ("flatten_axis", lambda: helper.make_node("Flatten", ["x"], ["y"], axis=9, name="fl_bad")),
]


@pytest.mark.parametrize("case, make", OUT_OF_RANGE_AXES, ids=[c[0] for c in OUT_OF_RANGE_AXES])
def test_out_of_range_axis(tmp_path: Path, case: str, make) -> None:
    path = single_node_model(tmp_path / f"{case}.onnx", make())
    assert_clean_failure(path, tmp_path / "out", mentions=("_bad",))


def test_bad_option_is_one_line_too(tmp_path: Path) -> None:
    res = run_mo("convert", str(SAMPLE), "--output_dir", str(tmp_path / "out"), "--input", "nope[1,2]")
    assert res.returncode == 2 and len(res.stderr.splitlines()) == 1 and "'nope'" in res.stderr
    assert "sample_cnn.onnx" in res.stderr and not (tmp_path / "out").exists()
