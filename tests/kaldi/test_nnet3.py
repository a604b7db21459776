"""Kaldi nnet3: the real Switchboard chain TDNN in shared/testdata (binary final.mdl and text
final.txt) against the outputs Kaldi computed, and bad input.

The chunk IR takes all input frames (T rows) and the i-vector (one row, ReplaceIndex(ivector, t, 0))
and returns the output node at full frame rate for times left .. T-1-right (context 32/32 here);
the chain model's decoder reads every 3rd frame (frame-subsampling-factor 3, a decoding option
that the model file does not store), which is what output.txt holds. Tolerance: max abs error
<= 1e-4 (issue 7), in the OpenVINO runtime with the f32 hint.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import mo
from mo.cli import cli
from mo.errors import OptionError, UnsupportedOpsError

from ..runtime import ov_infer

DATA = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "kaldi" / "tdnn_swbd_7p"


def _io():
    x = np.loadtxt(DATA / "input.txt", dtype=np.float32, ndmin=2)
    iv = np.loadtxt(DATA / "ivector.txt", dtype=np.float32).reshape(1, -1)
    ref = np.loadtxt(DATA / "output.txt", dtype=np.float32, ndmin=2)
    return x, iv, ref


@pytest.mark.parametrize("name", ["final.mdl", "final.txt"])
def test_real_tdnn_reproduces_kaldi(name, tmp_path):
    x, iv, ref = _io()
    graph = mo.convert(DATA / name, input=f"input[{len(x)},80]", framework="kaldi")
    assert graph.meta["kaldi"] == {"left_context": 32, "right_context": 32, "frames": len(x)}
    xml = mo.save(graph, tmp_path / "ir" / "model.xml").xml
    out = ov_infer(xml, {"input": x, "ivector": iv})["output"]
    assert out.shape == (len(x) - 64, 5736)
    got = out[::3][:len(ref)]
    assert got.shape == ref.shape
    assert np.abs(got - ref).max() <= 1e-4


def test_frame_subsampling_factor_file_next_to_the_model(tmp_path):
    """A chain model directory's frame_subsampling_factor (3) makes the chunk output every 3rd frame:
    rows left, left+3, ... are then exactly Kaldi's output rows."""
    x, iv, ref = _io()
    (tmp_path / "final.mdl").symlink_to(DATA / "final.mdl")
    (tmp_path / "frame_subsampling_factor").write_text("3\n")
    graph = mo.convert(tmp_path / "final.mdl", input=f"input[{len(x)},80]", framework="kaldi")
    assert graph.meta["kaldi"]["frame_subsampling_factor"] == 3
    out = ov_infer(mo.save(graph, tmp_path / "ir" / "m.xml").xml, {"input": x, "ivector": iv})["output"]
    assert out.shape == (7, 5736)
    assert np.abs(out[:len(ref)] - ref).max() <= 1e-4


def test_cli_detects_kaldi_by_header(tmp_path):
    res = CliRunner().invoke(cli, ["convert", str(DATA / "final.mdl"), "--output_dir", str(tmp_path)])
    assert res.exit_code == 0, res.output
    x, iv, ref = _io()
    # default chunk: 50 output frames + the context
    out = ov_infer(tmp_path / "final.xml", {"input": np.resize(x, (114, 80)), "ivector": iv})["output"]
    assert out.shape == (50, 5736)
    np.testing.assert_allclose(out[:len(x) - 64][::3][:len(ref)], ref, atol=1e-4)


def test_counts_subtract_log_priors(tmp_path):
    x, iv, _ = _io()
    counts = np.random.default_rng(0).integers(1, 1000, 5736)
    (tmp_path / "counts").write_text("[ " + " ".join(map(str, counts)) + " ]")
    shape = f"input[{len(x)},80]"
    plain = mo.save(mo.convert(DATA / "final.txt", input=shape, framework="kaldi"), tmp_path / "a" / "m.xml").xml
    prior = mo.save(mo.convert(DATA / "final.txt", input=shape, counts=str(tmp_path / "counts"), framework="kaldi"),
                    tmp_path / "b" / "m.xml").xml
    a = ov_infer(plain, {"input": x, "ivector": iv})["output"]
    b = ov_infer(prior, {"input": x, "ivector": iv})["output"]
    np.testing.assert_allclose(a - b, np.broadcast_to(np.log(counts / counts.sum()), a.shape), atol=1e-4)


def test_too_few_frames_and_context_options():
    with pytest.raises(OptionError, match="give at least 65 frames"):
        mo.convert(DATA / "final.txt", input="input[60,80]", framework="kaldi")
    with pytest.raises(OptionError, match="needs at least 32"):
        mo.convert(DATA / "final.txt", left_context=10, framework="kaldi")
    g = mo.convert(DATA / "final.txt", left_context=40, input="input[100,80]", framework="kaldi")
    assert g.meta["kaldi"]["left_context"] == 40 and g.outputs[0].shape == (28, 5736)


def _bad(tmp_path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def _cli_fails(path: Path, tmp_path: Path, *needles: str) -> None:
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["convert", str(path), "--framework", "kaldi", "--output_dir", str(out)])
    assert res.exit_code == 2, res.output
    line = res.output.strip().splitlines()
    assert len(line) == 1 and all(n in line[0] for n in needles), res.output
    assert not out.exists() or not any(out.iterdir())


def test_truncated_binary(tmp_path):
    data = (DATA / "final.mdl").read_bytes()
    _cli_fails(_bad(tmp_path, "cut.mdl", data[:len(data) // 2]), tmp_path, "cut.mdl", "byte")


def test_wrong_token_text(tmp_path):
    text = (DATA / "final.txt").read_bytes().replace(b"<NumComponents>", b"<NumComponentz>")
    _cli_fails(_bad(tmp_path, "bad.txt", text), tmp_path, "bad.txt", "expected <NumComponents>", "line 83")


def test_gmm_model_without_network(tmp_path):
    data = (DATA / "final.mdl").read_bytes()
    end = data.index(b"</TransitionModel>") + len(b"</TransitionModel> ")
    gmm = data[:end] + b"<DIMENSION> \x04\x28\x00\x00\x00<NUMPDFS> \x04\x01\x00\x00\x00"
    _cli_fails(_bad(tmp_path, "gmm.mdl", gmm), tmp_path, "gmm.mdl", "expected <Nnet3> or <Nnet>", "<DIMENSION>")


def test_unsupported_components_listed_once(tmp_path):
    text = (DATA / "final.txt").read_bytes().replace(b"RectifiedLinearComponent>", b"StatisticsPoolingComponent>")
    text = text.replace(b"LogSoftmaxComponent>", b"CompositeComponent>")
    with pytest.raises(UnsupportedOpsError, match=r"2 unsupported Kaldi op type\(s\): StatisticsPoolingComponent x13 "
                                                  r"\(e.g. node 'tdnn1.relu'\), CompositeComponent x1"):
        mo.convert(_bad(tmp_path, "stats.txt", text), framework="kaldi")


def test_component_missing_a_field(tmp_path):
    text = (DATA / "final.txt").read_bytes().replace(b"<StatsVar>", b"<StatsVarz>")
    _cli_fails(_bad(tmp_path, "field.txt", text), tmp_path, "field.txt", "tdnn1.batchnorm", "BatchNormComponent",
               "line ", "<StatsVar>")


def test_text_and_binary_read_the_same_weights():
    from mo.frontends.kaldi.nnet3 import read_nnet3
    from mo.frontends.kaldi.reader import Reader

    nets = []
    for name in ("final.mdl", "final.txt"):
        r = Reader.open(DATA / name)
        r.pos = r.data.index(b"<Nnet3>")
        nets.append(read_nnet3(r))
    b, t = nets
    assert b.left_context == 32 and b.right_context == 32
    for name, comp in t.components.items():
        if name in b.components and "Params" in comp.fields:
            np.testing.assert_allclose(comp.fields["Params"], b.components[name].fields["Params"], rtol=1e-5,
                                       atol=1e-6)


def test_not_kaldi_is_not_detected(tmp_path):
    from mo.frontends.kaldi import detect

    assert detect(str(DATA / "final.mdl")) and detect(str(DATA / "final.txt"))
    assert not detect(str(_bad(tmp_path, "x.txt", b"hello world")))


def _stream(xml: Path, feeds_per_step):
    import openvino as ov

    core = ov.Core()
    compiled = core.compile_model(core.read_model(str(xml)), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    req = compiled.create_infer_request()
    req.reset_state()
    outs = []
    for feed in feeds_per_step:
        res = req.infer(feed)
        outs.append(np.asarray(res[compiled.output(0)]).copy())
    return np.concatenate(outs, axis=0), compiled


def test_streaming_equals_chunk(tmp_path):
    x, iv, ref = _io()
    chunk = mo.save(mo.convert(DATA / "final.mdl", input=f"input[{len(x)},80]", framework="kaldi"),
                    tmp_path / "c" / "m.xml").xml
    graph = mo.convert(DATA / "final.mdl", kaldi_form="streaming", framework="kaldi")
    assert {"ReadValue", "Assign"} <= set(graph.op_counts())
    # one frame per step: every layer computes a single row and reads its past from a history variable
    assert all(n.outputs[0].shape[0] == 1 for n in graph.nodes if n.op == "MatMul")
    stream = mo.save(graph, tmp_path / "s" / "m.xml").xml
    want = ov_infer(chunk, {"input": x, "ivector": iv})["output"]
    got, compiled = _stream(stream, [{"input": x[s:s + 1], "ivector": iv} for s in range(len(x))])
    assert [p.get_any_name() for p in compiled.inputs] == ["ivector", "input"]
    np.testing.assert_allclose(got[64:], want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got[64:][::3][:len(ref)], ref, atol=1e-4)
