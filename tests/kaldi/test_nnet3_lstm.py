"""A recurrent nnet3 network (TDNN layer, Kaldi's fast-LSTM layer with a delay of 2 frames and
backprop truncation, an output layer with context), written here in both encodings, against a
numpy reference (OpenVINO, f32 hint; rtol 1e-5, atol 1e-5):

    h(t)  = relu([x(t-1), x(t), x(t+1)] A^T + a)                     frames 1 .. T-2
    z(t)  = [h(t), r(t-2)] W^T + w          (r = 0 before the first LSTM frame: IfDefined)
    i, f, g, o = z split in 4;  c_prev = c(t-2) (0 before the first frame)
    i = sigmoid(i + w_ic c_prev)   f = sigmoid(f + w_fc c_prev)   c(t) = f c_prev + i tanh(g)
    o = sigmoid(o + w_oc c(t))     m(t) = o tanh(c(t))            r(t) = m(t) P^T + p
    y(t)  = log_softmax([r(t-1), r(t)] B^T + b)                      frames 2 .. T-2
"""
from __future__ import annotations

import numpy as np
import pytest

import mo
from mo.errors import ConversionError

from ..runtime import ov_infer
from .test_nnet3 import _stream
from .writer import KaldiWriter

RNG = np.random.default_rng(7)
C, P, D = 4, 3, 5
A, AB = RNG.standard_normal((8, 3 * D)).astype(np.float32) * 0.4, RNG.standard_normal(8).astype(np.float32) * 0.1
W, WB = RNG.standard_normal((4 * C, 8 + P)).astype(np.float32) * 0.5, RNG.standard_normal(4 * C).astype(np.float32)
PEEP = RNG.standard_normal((3, C)).astype(np.float32) * 0.5
PR, PB = RNG.standard_normal((P, C)).astype(np.float32), RNG.standard_normal(P).astype(np.float32) * 0.1
B, BB = RNG.standard_normal((3, 2 * P)).astype(np.float32), RNG.standard_normal(3).astype(np.float32)

CONFIG = f"""
input-node name=input dim={D}
component-node name=tdnn1.affine component=tdnn1.affine input=Append(Offset(input, -1), input, Offset(input, 1))
component-node name=tdnn1.relu component=tdnn1.relu input=tdnn1.affine
component-node name=lstm1.W_all component=lstm1.W_all input=Append(tdnn1.relu, IfDefined(Offset(lstm1.r_trunc, -2)))
component-node name=lstm1.lstm_nonlin component=lstm1.lstm_nonlin input=Append(lstm1.W_all, IfDefined(Offset(lstm1.c_trunc, -2)))
dim-range-node name=lstm1.c input-node=lstm1.lstm_nonlin dim-offset=0 dim={C}
dim-range-node name=lstm1.m input-node=lstm1.lstm_nonlin dim-offset={C} dim={C}
component-node name=lstm1.W_rp component=lstm1.W_rp input=lstm1.m
dim-range-node name=lstm1.r input-node=lstm1.W_rp dim-offset=0 dim={P}
component-node name=lstm1.cr_trunc component=lstm1.cr_trunc input=Append(lstm1.c, lstm1.r)
dim-range-node name=lstm1.c_trunc input-node=lstm1.cr_trunc dim-offset=0 dim={C}
dim-range-node name=lstm1.r_trunc input-node=lstm1.cr_trunc dim-offset={C} dim={P}
component-node name=output.affine component=output.affine input=Append(Offset(lstm1.r, -1), lstm1.r)
component-node name=output.log-softmax component=output.log-softmax input=output.affine
output-node name=output input=output.log-softmax objective=linear

"""


def affine(w: KaldiWriter, name: str, kind: str, m, bias) -> None:
    w.token("<ComponentName>").token(name).token(f"<{kind}>").token("<MaxChange>").float(0.75)
    w.token("<LearningRate>").float(0.001).token("<LinearParams>").matrix(m).token("<BiasParams>").vector(bias)
    w.token("<IsGradient>").out += b"F " if not w.binary else b"F"
    w.token(f"</{kind}>")


def lstm_nnet3(binary: bool, config: str = CONFIG) -> bytes:
    w = KaldiWriter(binary).token("<Nnet3>")
    w.out += config.encode()
    w.token("<NumComponents>").int32(8)
    affine(w, "tdnn1.affine", "NaturalGradientAffineComponent", A, AB)
    w.token("<ComponentName>").token("tdnn1.relu").token("<RectifiedLinearComponent>").token("<Dim>").int32(8)
    w.token("<ValueAvg>").vector(np.zeros(8)).token("<DerivAvg>").vector(np.zeros(8)).token("<Count>").float(0)
    w.token("<NumDimsSelfRepaired>").float(0).token("<NumDimsProcessed>").float(0)
    w.token("</RectifiedLinearComponent>")
    affine(w, "lstm1.W_all", "NaturalGradientAffineComponent", W, WB)
    w.token("<ComponentName>").token("lstm1.lstm_nonlin").token("<LstmNonlinearityComponent>")
    w.token("<MaxChange>").float(0.75).token("<LearningRate>").float(0.001).token("<Params>").matrix(PEEP)
    w.token("<ValueAvg>").matrix(np.zeros((C, 5))).token("<DerivAvg>").matrix(np.zeros((C, 5)))
    w.token("<SelfRepairConfig>").vector(np.full(10, 0.05)).token("<SelfRepairProb>").vector(np.zeros(5))
    w.token("<Count>").float(0).token("</LstmNonlinearityComponent>")
    affine(w, "lstm1.W_rp", "NaturalGradientAffineComponent", PR, PB)
    w.token("<ComponentName>").token("lstm1.cr_trunc").token("<BackpropTruncationComponent>")
    w.token("<Dim>").int32(C + P).token("<Scale>").float(1.0).token("<ClippingThreshold>").float(30.0)
    w.token("<ZeroingThreshold>").float(15.0).token("<ZeroingInterval>").int32(20)
    w.token("<RecurrenceInterval>").int32(2).token("<NumElementsClipped>").float(0)
    w.token("<NumElementsZeroed>").float(0).token("<NumElementsProcessed>").float(0)
    w.token("<NumZeroingBoundaries>").float(0).token("</BackpropTruncationComponent>")
    affine(w, "output.affine", "AffineComponent", B, BB)
    w.token("<ComponentName>").token("output.log-softmax").token("<LogSoftmaxComponent>").token("<Dim>").int32(3)
    w.token("<ValueAvg>").vector(np.zeros(3)).token("<DerivAvg>").vector(np.zeros(3)).token("<Count>").float(0)
    w.token("</LogSoftmaxComponent>")
    return w.token("</Nnet3>").bytes()


def reference(x: np.ndarray) -> np.ndarray:
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    x = x.astype(np.float64)
    T = len(x)
    h = {t: np.maximum(np.concatenate([x[t - 1], x[t], x[t + 1]]) @ A.T + AB, 0) for t in range(1, T - 1)}
    r, c = {}, {}
    for t in range(1, T - 1):
        r_prev, c_prev = r.get(t - 2, np.zeros(P)), c.get(t - 2, np.zeros(C))
        i, f, g, o = np.split(np.concatenate([h[t], r_prev]) @ W.T + WB, 4)
        i, f = sig(i + PEEP[0] * c_prev), sig(f + PEEP[1] * c_prev)
        c[t] = f * c_prev + i * np.tanh(g)
        m = sig(o + PEEP[2] * c[t]) * np.tanh(c[t])
        r[t] = m @ PR.T + PB
    z = np.array([np.concatenate([r[t - 1], r[t]]) @ B.T + BB for t in range(2, T - 1)])
    return z - np.log(np.exp(z).sum(1, keepdims=True))


def test_nnet3_lstm_binary_text_and_reference(tmp_path):
    irs = []
    for binary in (True, False):
        p = tmp_path / ("lstm.raw" if binary else "lstm.txt")
        p.write_bytes(lstm_nnet3(binary))
        g = mo.convert(p, input=f"input[16,{D}]", framework="kaldi")
        assert g.meta["kaldi"]["left_context"] == 2 and g.meta["kaldi"]["right_context"] == 1
        g.name = "lstm"
        irs.append(mo.save(g, tmp_path / str(binary) / "m.xml"))
    assert irs[0].xml.read_bytes() == irs[1].xml.read_bytes()
    assert irs[0].bin.read_bytes() == irs[1].bin.read_bytes()
    x = RNG.standard_normal((16, D)).astype(np.float32)
    got = ov_infer(irs[0].xml, {"input": x})["output"]
    np.testing.assert_allclose(got, reference(x), rtol=1e-5, atol=1e-5)


def test_nnet3_lstm_streaming_equals_chunk(tmp_path):
    """One frame per inference; c and r come back through <node>/history variables. From step
    left + right = 3 on, step s equals chunk row s - 3; a second utterance after reset_state too."""
    import openvino as ov

    p = tmp_path / "lstm.raw"
    p.write_bytes(lstm_nnet3(True))
    x = RNG.standard_normal((24, D)).astype(np.float32)
    chunk = mo.save(mo.convert(p, input=f"input[24,{D}]", framework="kaldi"), tmp_path / "c" / "m.xml").xml
    want = ov_infer(chunk, {"input": x})["output"]
    graph = mo.convert(p, kaldi_form="streaming", framework="kaldi")
    assert graph.meta["kaldi"]["output_lag"] == {"output": 1}
    variables = {n.attrs["variable_id"] for n in graph.nodes if n.op == "ReadValue"}
    assert variables == {"input/history", "lstm1.c_trunc/history", "lstm1.r_trunc/history", "lstm1.r/history",
                         "kaldi/steps"}
    xml = mo.save(graph, tmp_path / "s" / "m.xml").xml
    core = ov.Core()
    compiled = core.compile_model(core.read_model(str(xml)), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    req = compiled.create_infer_request()
    for _ in range(2):
        req.reset_state()
        got = np.concatenate([np.asarray(req.infer({"input": x[s:s + 1]})[compiled.output(0)]).copy()
                              for s in range(24)])
        np.testing.assert_allclose(got[3:], want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(want, reference(x), rtol=1e-5, atol=1e-5)


def test_backward_lstm_chunk_only(tmp_path):
    """The same layer run backwards in time (IfDefined(Offset(x, +2))): the chunk form computes it from
    the last frame down (numpy: the forward reference on the time-reversed input and weights mirrored);
    the streaming form refuses it in one line."""
    backward = CONFIG.replace("Offset(lstm1.r_trunc, -2)", "Offset(lstm1.r_trunc, 2)").replace(
        "Offset(lstm1.c_trunc, -2)", "Offset(lstm1.c_trunc, 2)").replace(
        "Append(Offset(lstm1.r, -1), lstm1.r)", "Append(Offset(lstm1.r, 1), lstm1.r)").replace(
        "Append(Offset(input, -1), input, Offset(input, 1))", "Append(Offset(input, 1), input, Offset(input, -1))")
    p = tmp_path / "blstm.raw"
    p.write_bytes(lstm_nnet3(True, backward))
    x = RNG.standard_normal((16, D)).astype(np.float32)
    got = ov_infer(mo.save(mo.convert(p, input=f"input[16,{D}]", framework="kaldi"), tmp_path / "c" / "m.xml").xml,
                   {"input": x})["output"]
    np.testing.assert_allclose(got, reference(x[::-1])[::-1], rtol=1e-5, atol=1e-5)
    with pytest.raises(ConversionError, match="backward"):
        mo.convert(p, kaldi_form="streaming", framework="kaldi")


@pytest.mark.parametrize("form", ["chunk", "streaming"])
def test_remove_output_softmax_and_counts_behind_the_context(form, tmp_path):
    """The output node's LogSoftmax sits behind the row selection of the context: it is still found
    and removed; counts are then subtracted from the logits."""
    p = tmp_path / "lstm.raw"
    p.write_bytes(lstm_nnet3(True))
    counts = np.array([5.0, 3.0, 2.0])
    (tmp_path / "counts").write_text("[ 5 3 2 ]")
    kw = dict(remove_output_softmax=True, counts=str(tmp_path / "counts"), framework="kaldi")
    x = RNG.standard_normal((16, D)).astype(np.float32)
    ref = reference(x)  # log-softmax: logits up to a per-row constant
    if form == "chunk":
        g = mo.convert(p, input=f"input[16,{D}]", **kw)
        got = ov_infer(mo.save(g, tmp_path / "m.xml").xml, {"input": x})["output"]
    else:
        g = mo.convert(p, kaldi_form="streaming", **kw)
        got, _ = _stream(mo.save(g, tmp_path / "m.xml").xml, [{"input": x[s:s + 1]} for s in range(16)])
        got = got[3:]
    assert "LogSoftmax" not in g.op_counts()
    want = ref - np.log(counts / counts.sum())
    np.testing.assert_allclose(got - got[:, :1], want - want[:, :1], rtol=1e-5, atol=1e-5)
    assert np.abs(np.exp(got + np.log(counts / counts.sum())).sum(1) - 1).max() > 1e-3  # not normalised
