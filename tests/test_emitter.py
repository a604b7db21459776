"""The IR emitter: golden XML, BIN offsets, deduplication, determinism, atomicity, FP16 and dynamic dims.

Regenerate the golden file after an intended format change with
``MO_REGEN_GOLDEN=1 .venv/bin/pytest tests/test_emitter.py -k golden``.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import numpy as np
import onnx
import pytest
from lxml import etree

import mo
from mo.graph import Graph
from mo.ir import emitter
from mo.ir.builder import Builder
from mo.tensor import ArrayTensor, CHUNK_BYTES

from .onnx.util import ort_infer, ov_infer

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "sample_cnn.onnx"
GOLDEN = Path(__file__).with_name("data") / "golden_small.xml"

NP_OF = {"f32": np.float32, "f16": np.float16, "i64": np.int64, "i32": np.int32, "u8": np.uint8, "i8": np.int8,
         "boolean": np.bool_, "f64": np.float64}


def small_graph() -> Graph:
    """Parameter -> Convolution (Const weights) -> Relu -> Result, with fixed weights."""
    g = Graph("small")
    b = Builder(g, fold=False)
    x = b.parameter("input", "f32", (1, 2, 4, 4))
    w = b.const((np.arange(3 * 2 * 3 * 3, dtype=np.float32).reshape(3, 2, 3, 3) - 27) / 16, name="weights")
    y = b.op("Convolution", x, w, strides=[1, 1], pads_begin=[1, 1], pads_end=[1, 1], dilations=[1, 1], name="conv")
    b.result(b.op("Relu", y, name="relu"), "output")
    return g


def consts_of(xml: Path) -> list[dict[str, str]]:
    """The <data> attributes of every Const layer of an IR."""
    root = etree.parse(str(xml)).getroot()
    return [dict(layer.find("data").attrib) | {"name": layer.get("name")}
            for layer in root.iter("layer") if layer.get("type") == "Const"]


def check_bin_against_xml(xml: Path, graph: Graph | None = None) -> None:
    """Every Const's offset/size fits the BIN, matches its shape and type, and (given the graph) its bytes."""
    data = xml.with_suffix(".bin").read_bytes()
    by_name = {n.name: n for n in graph.nodes} if graph is not None else {}
    covered = np.zeros(len(data), dtype=bool)
    for c in consts_of(xml):
        off, size = int(c["offset"]), int(c["size"])
        shape = [int(d) for d in c["shape"].split(",")] if c["shape"].strip() else []
        dt = np.dtype(NP_OF[c["element_type"]])
        assert off >= 0 and off + size <= len(data), c
        assert size == int(np.prod(shape, dtype=np.int64)) * dt.itemsize, c
        covered[off:off + size] = True
        if c["name"] in by_name:
            expect = np.ascontiguousarray(by_name[c["name"]].outputs[0].const.numpy()).astype(dt.newbyteorder("<"))
            assert data[off:off + size] == expect.tobytes(), f"bytes of {c['name']} differ"
    assert covered.all(), "the BIN holds bytes no Const refers to"


# ----------------------------------------------------------------------------- golden XML
def test_golden_xml_of_a_small_graph(tmp_path: Path) -> None:
    g = small_graph()
    saved = mo.save(g, tmp_path / "small.xml")
    text = saved.xml.read_text(encoding="utf-8")
    if os.environ.get("MO_REGEN_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")
    assert saved.bin_bytes == 3 * 2 * 3 * 3 * 4 == saved.bin.stat().st_size
    check_bin_against_xml(saved.xml, g)
    # the golden file is a valid IR computing the same thing
    x = np.random.default_rng(0).standard_normal((1, 2, 4, 4)).astype(np.float32)
    got = ov_infer(saved.xml, {"input": x})["output"]
    w = g.find("weights").outputs[0].const.numpy()
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    ref = np.zeros((1, 3, 4, 4), np.float32)
    for i in range(4):
        for j in range(4):
            ref[0, :, i, j] = np.einsum("chw,ochw->o", xp[0, :, i:i + 3, j:j + 3], w)
    np.testing.assert_allclose(got, np.maximum(ref, 0), rtol=1e-5, atol=1e-5)


def test_saved_files_get_normal_permissions(tmp_path: Path) -> None:
    saved = mo.save(small_graph(), tmp_path / "p.xml")
    umask = os.umask(0)
    os.umask(umask)
    for f in (saved.xml, saved.bin):
        assert f.stat().st_mode & 0o777 == 0o666 & ~umask


# ----------------------------------------------------------------------------- BIN layout
def test_bin_offsets_of_the_sample_match_the_xml(tmp_path: Path) -> None:
    for fp16 in (False, True):
        g = mo.convert(SAMPLE, data_type="FP16" if fp16 else "FP32")
        saved = mo.save(g, tmp_path / f"s{int(fp16)}" / "m.xml")
        check_bin_against_xml(saved.xml, g)
        assert saved.bin.stat().st_size == saved.bin_bytes


def _dedup_graph(second: np.ndarray) -> Graph:
    g = Graph("dedup")
    b = Builder(g, fold=False)
    x = b.parameter("x", "f32", (2, 64))
    first = np.linspace(-1, 1, 64 * 64, dtype=np.float32).reshape(64, 64)
    y = b.op("MatMul", x, b.const(first, name="w1"))
    y = b.op("MatMul", y, b.const(second, name="w2"))
    b.result(y, "y")
    return g


def test_identical_constants_are_stored_once(tmp_path: Path) -> None:
    same = np.linspace(-1, 1, 64 * 64, dtype=np.float32).reshape(64, 64)
    g = _dedup_graph(same.copy())
    saved = mo.save(g, tmp_path / "d.xml")
    c = {c["name"]: c for c in consts_of(saved.xml)}
    assert c["w1"]["offset"] == c["w2"]["offset"] and c["w1"]["size"] == c["w2"]["size"] == str(64 * 64 * 4)
    assert saved.deduplicated == 1
    assert saved.bin.stat().st_size == saved.bin_bytes == 64 * 64 * 4
    check_bin_against_xml(saved.xml, g)
    x = np.ones((2, 64), np.float32)
    np.testing.assert_allclose(ov_infer(saved.xml, {"x": x})["y"], x @ same @ same, rtol=1e-5)


def test_different_constants_of_the_same_size_are_not_merged(tmp_path: Path) -> None:
    other = np.linspace(-1, 1, 64 * 64, dtype=np.float32).reshape(64, 64)
    other[63, 63] = 5.0                             # one element differs
    g = _dedup_graph(other)
    saved = mo.save(g, tmp_path / "d.xml")
    c = {c["name"]: c for c in consts_of(saved.xml)}
    assert c["w1"]["offset"] != c["w2"]["offset"]
    assert saved.deduplicated == 0 and saved.bin.stat().st_size == 2 * 64 * 64 * 4
    check_bin_against_xml(saved.xml, g)


def test_dedup_confirms_bytes_when_hashes_collide(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Equal hashes alone never merge constants: the bytes are compared."""
    class SameHash:
        def __init__(self, *a, **k) -> None:
            pass

        def update(self, data) -> None:
            pass

        def digest(self) -> bytes:
            return b"\0" * 20

    monkeypatch.setattr(emitter.hashlib, "blake2b", SameHash)
    other = np.linspace(-1, 1, 64 * 64, dtype=np.float32).reshape(64, 64) * 2
    g = _dedup_graph(other)
    saved = mo.save(g, tmp_path / "d.xml")
    assert saved.deduplicated == 0
    check_bin_against_xml(saved.xml, g)


# ----------------------------------------------------------------------------- determinism
@pytest.mark.parametrize("data_type", ["FP32", "FP16"])
def test_conversion_is_byte_identical(tmp_path: Path, data_type: str) -> None:
    outs = []
    for k in range(2):
        g = mo.convert(SAMPLE, data_type=data_type)
        outs.append(mo.save(g, tmp_path / str(k) / "sample_cnn.xml"))
    # a third conversion in a fresh process with another hash seed
    env = dict(os.environ, PYTHONHASHSEED="12345")
    subprocess.run([sys.executable, "-m", "mo", "convert", str(SAMPLE), "--output_dir", str(tmp_path / "p"),
                    "--data_type", data_type], check=True, capture_output=True, env=env)
    third = tmp_path / "p" / "sample_cnn.xml"
    for xml in (outs[1].xml, third):
        assert xml.read_bytes() == outs[0].xml.read_bytes()
        assert xml.with_suffix(".bin").read_bytes() == outs[0].bin.read_bytes()


# ----------------------------------------------------------------------------- atomicity
class FailingTensor(ArrayTensor):
    """Streams its first chunk, then fails like a vanished weights file would."""

    __slots__ = ()

    def chunks(self, chunk_bytes: int = CHUNK_BYTES) -> Iterator[memoryview]:
        flat = self.array.reshape(-1)
        yield memoryview(flat[: flat.size // 2]).cast("B")
        raise OSError("weights file vanished mid-stream")


def _write_old_ir(folder: Path) -> tuple[bytes, bytes]:
    old = mo.save(small_graph(), folder / "model.xml")
    return old.xml.read_bytes(), old.bin.read_bytes()


def test_failed_weight_stream_leaves_no_files(tmp_path: Path) -> None:
    g = small_graph()
    w = g.find("weights").outputs[0]
    w.const = FailingTensor(w.const.numpy())
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(OSError, match="vanished"):
        mo.save(g, out / "model.xml")
    assert list(out.iterdir()) == []


def test_failed_save_keeps_the_older_ir_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    old_xml, old_bin = _write_old_ir(out)
    g = _dedup_graph(np.zeros((64, 64), np.float32))
    w = g.find("w2").outputs[0]
    w.const = FailingTensor(w.const.numpy())
    with pytest.raises(OSError):
        mo.save(g, out / "model.xml")
    assert sorted(p.name for p in out.iterdir()) == ["model.bin", "model.xml"]
    assert (out / "model.xml").read_bytes() == old_xml and (out / "model.bin").read_bytes() == old_bin

    # a failure after the BIN is complete (while building the XML) is just as clean
    def broken(graph, plan):
        raise RuntimeError("xml failed")

    monkeypatch.setattr(emitter, "build_xml", broken)
    with pytest.raises(RuntimeError):
        mo.save(_dedup_graph(np.ones((64, 64), np.float32)), out / "model.xml")
    assert sorted(p.name for p in out.iterdir()) == ["model.bin", "model.xml"]
    assert (out / "model.xml").read_bytes() == old_xml and (out / "model.bin").read_bytes() == old_bin


# ----------------------------------------------------------------------------- FP16
def test_fp16_ir_structure_and_accuracy(tmp_path: Path) -> None:
    g = mo.convert(SAMPLE, data_type="FP16")
    saved = mo.save(g, tmp_path / "fp16.xml")
    root = etree.parse(str(saved.xml)).getroot()
    layers = {l.get("id"): l for l in root.iter("layer")}
    edges = [(e.get("from-layer"), e.get("to-layer")) for e in root.iter("edge")]
    f16 = [l for l in layers.values() if l.get("type") == "Const" and l.find("data").get("element_type") == "f16"]
    assert len(f16) >= 8                            # 3 conv + fc weights and biases, BN params
    assert not [l for l in layers.values() if l.get("type") == "Const"
                and l.find("data").get("element_type") == "f32"]
    for c in f16:
        users = [layers[t] for f, t in edges if f == c.get("id")]
        assert [u.get("type") for u in users] == ["Convert"], c.get("name")
        conv = users[0]
        assert conv.find("data").get("destination_type") == "f32"
        attrs = conv.findall("rt_info/attribute")
        assert [(a.get("name"), a.get("version")) for a in attrs] == [("decompression", "0")]
    for p in root.iter("layer"):
        if p.get("type") == "Parameter":
            assert p.find("data").get("element_type") == "f32"
    check_bin_against_xml(saved.xml, g)
    x = np.random.default_rng(1).standard_normal((1, 3, 64, 64)).astype(np.float32)
    got = ov_infer(saved.xml, {"input": x})["probabilities"]
    ref = ort_infer(SAMPLE, {"input": x})["probabilities"]
    np.testing.assert_allclose(got, ref, rtol=2e-2, atol=1e-3)


# ----------------------------------------------------------------------------- dynamic dims
@pytest.mark.parametrize("shape", ["[?,3,64,64]", "[-1,3,64,64]"])
def test_dynamic_batch(tmp_path: Path, shape: str) -> None:
    g = mo.convert(SAMPLE, input_shape=shape)
    assert g.inputs[0].shape == (-1, 3, 64, 64)
    saved = mo.save(g, tmp_path / "dyn.xml")
    param = next(l for l in etree.parse(str(saved.xml)).getroot().iter("layer") if l.get("type") == "Parameter")
    assert param.find("data").get("shape") == "?,3,64,64"
    # the reference: the source model with a symbolic batch
    src = onnx.load(SAMPLE)
    for vi in (src.graph.input[0], src.graph.output[0]):
        vi.type.tensor_type.shape.dim[0].dim_param = "N"
    for batch in (1, 3):
        x = np.random.default_rng(batch).standard_normal((batch, 3, 64, 64)).astype(np.float32)
        got = ov_infer(saved.xml, {"input": x})["probabilities"]
        ref = ort_infer(src, {"input": x})["probabilities"]
        assert got.shape == (batch, 10)
        np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-5)
