"""nnet1 and nnet2 networks written here in both encodings: identical IRs from binary and text,
and outputs equal to a numpy reference of each component's documented formula (OpenVINO, f32
hint; rtol 1e-5, atol 1e-6):

    Splice(o)        y(t) = [x(t+o_1) ... x(t+o_k)]         AddShift  y = x + s    Rescale  y = x * s
    Affine           y = x W^T + b                          Sigmoid   1 / (1 + e^-x)
    Softmax          e^x / sum e^x                          Pnorm     y_j = (sum_g |x_jG+g|^p)^(1/p)
    Normalize        y = x / sqrt(max(sum x^2 / D, 2^-66))  FixedAffine as Affine
    LstmProjected    gifo = x Wx^T + b + r(t-1) Wr^T; i, f = sigmoid(gifo_i,f + p_i,f c(t-1));
                     c = f c(t-1) + i tanh(gifo_g); o = sigmoid(gifo_o + p_o c); r = (o tanh c) Wrm^T,
                     r(-1) = c(-1) = 0 at the first frame of the chunk
    Convolutional    patch p (of P) = columns p*step + k*stride + j (splice k, j < patch dim) times Filters^T + Bias
    MaxPooling       pool q = max over patches q*step .. q*step+size-1 (each `stride` columns wide)
    Parallel         [N_1(x[:, :6]), N_2(x[:, 6:])] with nested networks N_i, on the frames both have
"""
from __future__ import annotations

import numpy as np
import pytest

import mo
from mo.errors import ConversionError, OptionError, UnsupportedOpsError

from ..runtime import ov_infer
from .writer import KaldiWriter

RNG = np.random.default_rng(0)
SPLICE = [-2, -1, 0, 1, 2]
W1, B1 = RNG.standard_normal((32, 65)).astype(np.float32) * 0.2, RNG.standard_normal(32).astype(np.float32)
W2, B2 = RNG.standard_normal((10, 32)).astype(np.float32) * 0.3, RNG.standard_normal(10).astype(np.float32)
SHIFT, SCALE = RNG.standard_normal(65).astype(np.float32), RNG.uniform(0.5, 2, 65).astype(np.float32)


def nnet1(binary: bool) -> bytes:
    w = KaldiWriter(binary).token("<Nnet>")
    w.token("<Splice>").int32(65).int32(13).int_vector(SPLICE).token("<!EndOfComponent>")
    w.token("<AddShift>").int32(65).int32(65).token("<LearnRateCoef>").float(0.0).vector(SHIFT)
    w.token("<!EndOfComponent>")
    w.token("<Rescale>").int32(65).int32(65).token("<LearnRateCoef>").float(0.0).vector(SCALE)
    w.token("<!EndOfComponent>")
    w.token("<AffineTransform>").int32(32).int32(65).token("<LearnRateCoef>").float(1.0)
    w.token("<BiasLearnRateCoef>").float(1.0).token("<MaxNorm>").float(0.0).matrix(W1).vector(B1)
    w.token("<!EndOfComponent>")
    w.token("<Sigmoid>").int32(32).int32(32).token("<!EndOfComponent>")
    w.token("<AffineTransform>").int32(10).int32(32).token("<LearnRateCoef>").float(1.0)
    w.token("<BiasLearnRateCoef>").float(1.0).token("<MaxNorm>").float(0.0).matrix(W2).vector(B2)
    w.token("<!EndOfComponent>")
    w.token("<Softmax>").int32(10).int32(10).token("<!EndOfComponent>")
    return w.token("</Nnet>").bytes()


def splice(x: np.ndarray, offsets) -> np.ndarray:
    lo, hi = min(offsets), max(offsets)
    n = len(x) - (hi - lo)
    return np.concatenate([x[o - lo:o - lo + n] for o in offsets], axis=1)


def softmax(z):
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def nnet1_reference(x):
    h = (splice(x, SPLICE) + SHIFT) * SCALE
    h = 1 / (1 + np.exp(-(h @ W1.T + B1)))
    return softmax(h @ W2.T + B2)


FA = RNG.standard_normal((39, 39)).astype(np.float32) * 0.3
FB = RNG.standard_normal(39).astype(np.float32)
A1, C1 = RNG.standard_normal((40, 39)).astype(np.float32) * 0.3, RNG.standard_normal(40).astype(np.float32)
A2, C2 = RNG.standard_normal((8, 10)).astype(np.float32), RNG.standard_normal(8).astype(np.float32)


def nnet2(binary: bool) -> bytes:
    w = KaldiWriter(binary).token("<Nnet>").token("<NumComponents>").int32(7).token("<Components>")
    w.token("<SpliceComponent>").token("<InputDim>").int32(13).token("<Context>").int_vector([-1, 0, 1])
    w.token("<ConstComponentDim>").int32(0).token("</SpliceComponent>")
    w.token("<FixedAffineComponent>").token("<LinearParams>").matrix(FA).token("<BiasParams>").vector(FB)
    w.token("</FixedAffineComponent>")
    w.token("<AffineComponentPreconditionedOnline>").token("<LearningRate>").float(0.001)
    w.token("<LinearParams>").matrix(A1).token("<BiasParams>").vector(C1).token("<RankIn>").int32(20)
    w.token("<RankOut>").int32(80).token("<UpdatePeriod>").int32(4).token("<NumSamplesHistory>").float(2000.0)
    w.token("<Alpha>").float(4.0).token("<MaxChangePerSample>").float(0.075)
    w.token("</AffineComponentPreconditionedOnline>")
    w.token("<PnormComponent>").token("<InputDim>").int32(40).token("<OutputDim>").int32(10).token("<P>").float(2.0)
    w.token("</PnormComponent>")
    w.token("<NormalizeComponent>").token("<Dim>").int32(10).token("<ValueSum>").vector(np.zeros(10))
    w.token("<DerivSum>").vector(np.zeros(10)).token("<Count>").int32(0).token("</NormalizeComponent>")
    w.token("<AffineComponent>").token("<LearningRate>").float(0.001).token("<LinearParams>").matrix(A2)
    w.token("<BiasParams>").vector(C2).token("</AffineComponent>")
    w.token("<SoftmaxComponent>").token("<Dim>").int32(8).token("<ValueSum>").vector(np.zeros(8))
    w.token("<DerivSum>").vector(np.zeros(8)).token("<Count>").int32(0).token("</SoftmaxComponent>")
    return w.token("</Components>").token("</Nnet>").bytes()


def nnet2_reference(x):
    h = splice(x, [-1, 0, 1]) @ FA.T + FB
    h = h @ A1.T + C1
    h = np.sqrt((np.abs(h.reshape(len(h), 10, 4)) ** 2).sum(2))
    h = h / np.sqrt(np.maximum((h * h).sum(1, keepdims=True) / 10, 2.0 ** -66))
    return softmax(h @ A2.T + C2)


@pytest.mark.parametrize("kind, write, reference, context", [
    ("nnet1", nnet1, nnet1_reference, 2), ("nnet2", nnet2, nnet2_reference, 1)])
def test_binary_and_text_identical_and_match_reference(kind, write, reference, context, tmp_path):
    irs = []
    for binary in (True, False):
        path = tmp_path / f"{kind}{'.bin' if binary else '.txt'}"
        path.write_bytes(write(binary))
        graph = mo.convert(path, input="input[30,13]", framework="kaldi")
        assert graph.meta["kaldi"]["network"] == kind
        assert graph.meta["kaldi"]["left_context"] == context == graph.meta["kaldi"]["right_context"]
        graph.name = kind
        irs.append(mo.save(graph, tmp_path / ("b" if binary else "t") / "m.xml"))
    assert irs[0].xml.read_bytes() == irs[1].xml.read_bytes()
    assert irs[0].bin.read_bytes() == irs[1].bin.read_bytes()
    x = RNG.standard_normal((30, 13)).astype(np.float32)
    got = ov_infer(irs[0].xml, {"input": x})["output"]
    np.testing.assert_allclose(got, reference(x), rtol=1e-5, atol=1e-6)


def test_nnet1_unsupported_component_listed(tmp_path):
    data = nnet1(False).replace(b"<Sigmoid> 32 32", b"<KlHmm> 32 32")
    path = tmp_path / "klhmm.txt"
    path.write_bytes(data)
    with pytest.raises(UnsupportedOpsError, match="KlHmm x1"):
        mo.convert(path, framework="kaldi")


def test_nnet1_streaming_equals_chunk(tmp_path):
    import openvino as ov

    path = tmp_path / "nnet1.bin"
    path.write_bytes(nnet1(True))
    chunk = mo.save(mo.convert(path, input="input[30,13]", framework="kaldi"), tmp_path / "c" / "m.xml").xml
    stream = mo.save(mo.convert(path, kaldi_form="streaming", framework="kaldi"), tmp_path / "s" / "m.xml").xml
    x = RNG.standard_normal((30, 13)).astype(np.float32)
    want = ov_infer(chunk, {"input": x})["output"]
    core = ov.Core()
    compiled = core.compile_model(core.read_model(str(stream)), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    req = compiled.create_infer_request()
    got = np.concatenate([np.asarray(req.infer({"input": x[s:s + 1]})[compiled.output(0)]).copy()
                          for s in range(30)])
    np.testing.assert_allclose(got[4:], want, rtol=1e-5, atol=1e-6)


def nnet3_small(binary: bool) -> bytes:
    """input(8) -> Append(Offset(input,-1), input) -> Affine 16->8 -> ElementwiseProduct 8->4 -> Pnorm 4->2
    and a per-element scale; written as a .raw nnet3 in either encoding."""
    w = KaldiWriter(binary).token("<Nnet3>")
    w.out += (b"\ninput-node name=input dim=8\n"
              b"component-node name=aff component=aff input=Append(Offset(input, -1), input)\n"
              b"component-node name=prod component=prod input=aff\n"
              b"component-node name=pn component=pn input=prod\n"
              b"component-node name=sc component=sc input=pn\n"
              b"output-node name=output input=sc objective=linear\n\n")
    w.token("<NumComponents>").int32(4)
    w.token("<ComponentName>").token("aff").token("<AffineComponent>").token("<LinearParams>").matrix(N3W)
    w.token("<BiasParams>").vector(N3B).token("</AffineComponent>")
    w.token("<ComponentName>").token("prod").token("<ElementwiseProductComponent>").token("<InputDim>").int32(8)
    w.token("<OutputDim>").int32(4).token("</ElementwiseProductComponent>")
    w.token("<ComponentName>").token("pn").token("<PnormComponent>").token("<InputDim>").int32(4)
    w.token("<OutputDim>").int32(2).token("</PnormComponent>")
    w.token("<ComponentName>").token("sc").token("<NaturalGradientPerElementScaleComponent>")
    w.token("<Params>").vector(N3S).token("</NaturalGradientPerElementScaleComponent>")
    return w.token("</Nnet3>").bytes()


N3W, N3B = RNG.standard_normal((8, 16)).astype(np.float32), RNG.standard_normal(8).astype(np.float32)
N3S = RNG.uniform(0.5, 2, 2).astype(np.float32)


def test_nnet3_product_pnorm_scale(tmp_path):
    irs = []
    for binary in (True, False):
        p = tmp_path / ("small.raw" if binary else "small.txt")
        p.write_bytes(nnet3_small(binary))
        g = mo.convert(p, input="input[12,8]", framework="kaldi")
        g.name = "small"
        irs.append(mo.save(g, tmp_path / str(binary) / "m.xml"))
    assert irs[0].bin.read_bytes() == irs[1].bin.read_bytes()
    x = RNG.standard_normal((12, 8)).astype(np.float32)
    h = splice(x, [-1, 0]) @ N3W.T + N3B
    h = h[:, :4] * h[:, 4:]
    h = np.sqrt((h.reshape(-1, 2, 2) ** 2).sum(2)) * N3S
    np.testing.assert_allclose(ov_infer(irs[0].xml, {"input": x})["output"], h, rtol=1e-5, atol=1e-5)


CELL, PROJ = 6, 4
LWX = RNG.standard_normal((4 * CELL, 15)).astype(np.float32) * 0.4
LWR = RNG.standard_normal((4 * CELL, PROJ)).astype(np.float32) * 0.4
LB = RNG.standard_normal(4 * CELL).astype(np.float32) * 0.2
LPI, LPF, LPO = (RNG.standard_normal(CELL).astype(np.float32) * 0.3 for _ in range(3))
LWRM = RNG.standard_normal((PROJ, CELL)).astype(np.float32) * 0.5
LW2, LB2 = RNG.standard_normal((3, PROJ)).astype(np.float32), RNG.standard_normal(3).astype(np.float32)


def nnet1_lstm(binary: bool, marker: str = "<LstmProjected>") -> bytes:
    w = KaldiWriter(binary).token("<Nnet>")
    w.token("<Splice>").int32(15).int32(5).int_vector([-1, 0, 1]).token("<!EndOfComponent>")
    w.token(marker).int32(PROJ).int32(15).token("<CellDim>").int32(CELL).token("<LearnRateCoef>").float(1.0)
    w.token("<BiasLearnRateCoef>").float(1.0).token("<CellClip>").float(1.5).token("<DiffClip>").float(1.0)
    w.token("<CellDiffClip>").float(0.0).token("<GradClip>").float(250.0)
    w.matrix(LWX).matrix(LWR).vector(LB).vector(LPI).vector(LPF).vector(LPO).matrix(LWRM)
    w.token("<!EndOfComponent>")
    w.token("<AffineTransform>").int32(3).int32(PROJ).token("<LearnRateCoef>").float(1.0)
    w.token("<BiasLearnRateCoef>").float(1.0).token("<MaxNorm>").float(0.0).matrix(LW2).vector(LB2)
    w.token("<!EndOfComponent>").token("<Softmax>").int32(3).int32(3).token("<!EndOfComponent>")
    return w.token("</Nnet>").bytes()


def nnet1_lstm_reference(x):
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    xs = splice(x.astype(np.float64), [-1, 0, 1])
    r, c, out = np.zeros(PROJ), np.zeros(CELL), []
    for row in xs:
        gifo = row @ LWX.T + LB + r @ LWR.T
        g, i, f, o = np.split(gifo, 4)
        i, f = sig(i + LPI * c), sig(f + LPF * c)
        c = np.clip(f * c + i * np.tanh(g), -1.5, 1.5)
        o = sig(o + LPO * c)
        r = (o * np.tanh(c)) @ LWRM.T
        out.append(r)
    return softmax(np.array(out) @ LW2.T + LB2)


@pytest.mark.parametrize("marker", ["<LstmProjected>", "<LstmProjectedStreams>"])
def test_nnet1_lstm_binary_text_reference_and_streaming(marker, tmp_path):
    import openvino as ov

    irs = []
    for binary in (True, False):
        path = tmp_path / f"lstm{'.bin' if binary else '.txt'}"
        path.write_bytes(nnet1_lstm(binary, marker))
        graph = mo.convert(path, input="input[20,5]", framework="kaldi")
        graph.name = "lstm"
        irs.append(mo.save(graph, tmp_path / ("b" if binary else "t") / "m.xml"))
    assert irs[0].xml.read_bytes() == irs[1].xml.read_bytes()
    assert irs[0].bin.read_bytes() == irs[1].bin.read_bytes()
    x = RNG.standard_normal((20, 5)).astype(np.float32) * 2
    want = ov_infer(irs[0].xml, {"input": x})["output"]
    np.testing.assert_allclose(want, nnet1_lstm_reference(x), rtol=1e-5, atol=1e-6)
    # streaming: one frame per inference, LSTM state in ReadValue/Assign, zero during the 2 warm-up steps
    graph = mo.convert(tmp_path / "lstm.bin", kaldi_form="streaming", framework="kaldi")
    assert graph.op_counts()["ReadValue"] == 4  # input window, r, c, step counter
    stream = mo.save(graph, tmp_path / "s" / "m.xml").xml
    core = ov.Core()
    compiled = core.compile_model(core.read_model(str(stream)), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    req = compiled.create_infer_request()
    for _ in range(2):  # a second utterance after reset_state gives the same numbers
        req.reset_state()
        got = np.concatenate([np.asarray(req.infer({"input": x[s:s + 1]})[compiled.output(0)]).copy()
                              for s in range(20)])
        np.testing.assert_allclose(got[2:], want, rtol=1e-5, atol=1e-6)


CF, CB = RNG.standard_normal((4, 9)).astype(np.float32), RNG.standard_normal(4).astype(np.float32)
CW, CWB = RNG.standard_normal((3, 8)).astype(np.float32), RNG.standard_normal(3).astype(np.float32)


def nnet1_cnn(binary: bool) -> bytes:
    """Splice 3 x 8 -> Convolutional (patch 3, step 1, stride 8: 6 patches x 4 filters) -> MaxPooling
    (size 3, step 3, stride 4: 2 pools) -> Affine 8 -> 3 -> Softmax, as Kaldi's nnet1 writes it."""
    w = KaldiWriter(binary).token("<Nnet>")
    w.token("<Splice>").int32(24).int32(8).int_vector([-1, 0, 1]).token("<!EndOfComponent>")
    w.token("<ConvolutionalComponent>").int32(24).int32(24).token("<PatchDim>").int32(3).token("<PatchStep>")
    w.int32(1).token("<PatchStride>").int32(8).token("<LearnRateCoef>").float(1.0).token("<BiasLearnRateCoef>")
    w.float(1.0).token("<MaxNorm>").float(0.0).token("<Filters>").matrix(CF).token("<Bias>").vector(CB)
    w.token("<!EndOfComponent>")
    w.token("<MaxPoolingComponent>").int32(8).int32(24).token("<PoolSize>").int32(3).token("<PoolStep>").int32(3)
    w.token("<PoolStride>").int32(4).token("<!EndOfComponent>")
    w.token("<AffineTransform>").int32(3).int32(8).token("<LearnRateCoef>").float(1.0)
    w.token("<BiasLearnRateCoef>").float(1.0).token("<MaxNorm>").float(0.0).matrix(CW).vector(CWB)
    w.token("<!EndOfComponent>").token("<Softmax>").int32(3).int32(3).token("<!EndOfComponent>")
    return w.token("</Nnet>").bytes()


def nnet1_cnn_reference(x):
    s = splice(x.astype(np.float64), [-1, 0, 1])
    conv = np.concatenate([np.concatenate([s[:, p + k * 8:p + k * 8 + 3] for k in range(3)], axis=1) @ CF.T + CB
                           for p in range(6)], axis=1)
    pooled = np.concatenate([np.max([conv[:, (q * 3 + r) * 4:(q * 3 + r + 1) * 4] for r in range(3)], axis=0)
                             for q in range(2)], axis=1)
    return softmax(pooled @ CW.T + CWB)


def test_nnet1_cnn_binary_text_reference(tmp_path):
    irs = []
    for binary in (True, False):
        path = tmp_path / f"cnn{'.bin' if binary else '.txt'}"
        path.write_bytes(nnet1_cnn(binary))
        graph = mo.convert(path, input="input[12,8]", framework="kaldi")
        graph.name = "cnn"
        irs.append(mo.save(graph, tmp_path / ("b" if binary else "t") / "m.xml"))
    assert irs[0].xml.read_bytes() == irs[1].xml.read_bytes()
    assert irs[0].bin.read_bytes() == irs[1].bin.read_bytes()
    x = RNG.standard_normal((12, 8)).astype(np.float32)
    np.testing.assert_allclose(ov_infer(irs[0].xml, {"input": x})["output"], nnet1_cnn_reference(x),
                               rtol=1e-5, atol=1e-6)


def test_counts_and_remove_output_softmax(tmp_path):
    """--counts C: log priors log(C / sum C) are subtracted before the final SoftMax (from the last
    layer's biases, as the old tool did); with --remove_output_softmax the output is the logits minus
    them. --counts "" takes the priors stored after an nnet2 network in a .mdl."""
    x = RNG.standard_normal((30, 13)).astype(np.float32)
    h = (splice(x, SPLICE) + SHIFT) * SCALE
    logits = (1 / (1 + np.exp(-(h @ W1.T + B1)))) @ W2.T + B2
    counts = np.arange(1, 11, dtype=np.float64) * 7
    log_prior = np.log(counts / counts.sum())
    (tmp_path / "counts").write_text("[ " + " ".join(str(int(c)) for c in counts) + " ]\n")
    path = tmp_path / "nnet1.bin"
    path.write_bytes(nnet1(True))

    def run(**kw):
        g = mo.convert(path, input="input[30,13]", framework="kaldi", **kw)
        return ov_infer(mo.save(g, tmp_path / str(len(list(tmp_path.iterdir()))) / "m.xml").xml, {"input": x})["output"]

    np.testing.assert_allclose(run(remove_output_softmax=True), logits, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(run(counts=str(tmp_path / "counts")), softmax(logits - log_prior), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(run(counts=str(tmp_path / "counts"), remove_output_softmax=True),
                               logits - log_prior, rtol=1e-5, atol=1e-5)
    # nnet2 .mdl: TransitionModel (skipped), network, priors
    mdl = tmp_path / "final.mdl"
    prior_vec = counts / counts.sum()
    w = KaldiWriter(True).token("<TransitionModel>").token("<Topology>").token("</Topology>")
    w.token("</TransitionModel>")
    body = nnet2(True)[2:]
    priors = KaldiWriter(True).vector(np.resize(prior_vec, 8)).bytes()[2:]
    mdl.write_bytes(w.bytes() + body + priors)
    g = mo.convert(mdl, input="input[30,13]", framework="kaldi", counts="", remove_output_softmax=True)
    got = ov_infer(mo.save(g, tmp_path / "mdl" / "m.xml").xml, {"input": x})["output"]
    ref = np.log(nnet2_reference(x)) - np.log(np.resize(prior_vec, 8) / np.resize(prior_vec, 8).sum())
    np.testing.assert_allclose(got - got[:, :1], ref - ref[:, :1], rtol=1e-4, atol=1e-4)
    with pytest.raises(OptionError, match="stores no priors"):
        mo.convert(path, framework="kaldi", counts="")


PA, PAB = RNG.standard_normal((4, 18)).astype(np.float32) * 0.3, RNG.standard_normal(4).astype(np.float32)
PB_, PBB = RNG.standard_normal((3, 4)).astype(np.float32) * 0.5, RNG.standard_normal(3).astype(np.float32)
PO, POB = RNG.standard_normal((3, 7)).astype(np.float32), RNG.standard_normal(3).astype(np.float32)


def nnet1_parallel(binary: bool) -> bytes:
    w = KaldiWriter(binary).token("<Nnet>")
    w.token("<ParallelComponent>").int32(7).int32(10).token("<NestedNnetCount>").int32(2)
    w.token("<NestedNnet>").int32(1).token("<Nnet>")
    w.token("<Splice>").int32(18).int32(6).int_vector([-1, 0, 1]).token("<!EndOfComponent>")
    w.token("<AffineTransform>").int32(4).int32(18).token("<LearnRateCoef>").float(1.0)
    w.token("<BiasLearnRateCoef>").float(1.0).token("<MaxNorm>").float(0.0).matrix(PA).vector(PAB)
    w.token("<!EndOfComponent>").token("<Sigmoid>").int32(4).int32(4).token("<!EndOfComponent>").token("</Nnet>")
    w.token("<NestedNnet>").int32(2).token("<Nnet>")
    w.token("<AffineTransform>").int32(3).int32(4).token("<LearnRateCoef>").float(1.0)
    w.token("<BiasLearnRateCoef>").float(1.0).token("<MaxNorm>").float(0.0).matrix(PB_).vector(PBB)
    w.token("<!EndOfComponent>").token("<Tanh>").int32(3).int32(3).token("<!EndOfComponent>").token("</Nnet>")
    w.token("</ParallelComponent>").token("<!EndOfComponent>")
    w.token("<AffineTransform>").int32(3).int32(7).token("<LearnRateCoef>").float(1.0)
    w.token("<BiasLearnRateCoef>").float(1.0).token("<MaxNorm>").float(0.0).matrix(PO).vector(POB)
    w.token("<!EndOfComponent>").token("<Softmax>").int32(3).int32(3).token("<!EndOfComponent>")
    return w.token("</Nnet>").bytes()


def test_nnet1_parallel_component(tmp_path):
    irs = []
    for binary in (True, False):
        path = tmp_path / f"par{'.bin' if binary else '.txt'}"
        path.write_bytes(nnet1_parallel(binary))
        graph = mo.convert(path, input="input[15,10]", framework="kaldi")
        assert (graph.meta["kaldi"]["left_context"], graph.meta["kaldi"]["right_context"]) == (1, 1)
        graph.name = "par"
        irs.append(mo.save(graph, tmp_path / ("b" if binary else "t") / "m.xml"))
    assert irs[0].bin.read_bytes() == irs[1].bin.read_bytes()
    x = RNG.standard_normal((15, 10)).astype(np.float32)
    a = 1 / (1 + np.exp(-(splice(x[:, :6], [-1, 0, 1]) @ PA.T + PAB)))
    c = np.tanh(x[1:-1, 6:] @ PB_.T + PBB)
    want = softmax(np.concatenate([a, c], axis=1) @ PO.T + POB)
    np.testing.assert_allclose(ov_infer(irs[0].xml, {"input": x})["output"], want, rtol=1e-5, atol=1e-6)


def nnet2_cnn(binary: bool) -> bytes:
    """The nnet1 CNN above as an nnet2 network: SpliceComponent, Convolutional1dComponent,
    MaxpoolingComponent (non-overlapping pools), AffineComponent, SoftmaxComponent."""
    w = KaldiWriter(binary).token("<Nnet>").token("<NumComponents>").int32(5).token("<Components>")
    w.token("<SpliceComponent>").token("<InputDim>").int32(8).token("<Context>").int_vector([-1, 0, 1])
    w.token("<ConstComponentDim>").int32(0).token("</SpliceComponent>")
    w.token("<Convolutional1dComponent>").token("<LearningRate>").float(0.001).token("<PatchDim>").int32(3)
    w.token("<PatchStep>").int32(1).token("<PatchStride>").int32(8).token("<FilterParams>").matrix(CF)
    w.token("<BiasParams>").vector(CB).token("<IsGradient>").bool(False).token("</Convolutional1dComponent>")
    w.token("<MaxpoolingComponent>").token("<InputDim>").int32(24).token("<OutputDim>").int32(8)
    w.token("<PoolSize>").int32(3).token("<PoolStride>").int32(4).token("</MaxpoolingComponent>")
    w.token("<AffineComponent>").token("<LearningRate>").float(0.001).token("<LinearParams>").matrix(CW)
    w.token("<BiasParams>").vector(CWB).token("</AffineComponent>")
    w.token("<SoftmaxComponent>").token("<Dim>").int32(3).token("<ValueSum>").vector(np.zeros(3))
    w.token("<DerivSum>").vector(np.zeros(3)).token("<Count>").int32(0).token("</SoftmaxComponent>")
    return w.token("</Components>").token("</Nnet>").bytes()


def test_nnet2_convolutional1d_maxpooling(tmp_path):
    irs = []
    for binary in (True, False):
        path = tmp_path / f"cnn2{'.bin' if binary else '.txt'}"
        path.write_bytes(nnet2_cnn(binary))
        graph = mo.convert(path, input="input[12,8]", framework="kaldi")
        assert graph.meta["kaldi"]["network"] == "nnet2"
        graph.name = "cnn2"
        irs.append(mo.save(graph, tmp_path / ("b" if binary else "t") / "m.xml"))
    assert irs[0].bin.read_bytes() == irs[1].bin.read_bytes()
    x = RNG.standard_normal((12, 8)).astype(np.float32)
    np.testing.assert_allclose(ov_infer(irs[0].xml, {"input": x})["output"], nnet1_cnn_reference(x),
                               rtol=1e-5, atol=1e-6)


BWX = RNG.standard_normal((4 * CELL, 15)).astype(np.float32) * 0.4
BWR = RNG.standard_normal((4 * CELL, PROJ)).astype(np.float32) * 0.4
BB = RNG.standard_normal(4 * CELL).astype(np.float32) * 0.2
BPI, BPF, BPO = (RNG.standard_normal(CELL).astype(np.float32) * 0.3 for _ in range(3))
BWRM = RNG.standard_normal((PROJ, CELL)).astype(np.float32) * 0.5
BW2, BB2 = RNG.standard_normal((3, 2 * PROJ)).astype(np.float32), RNG.standard_normal(3).astype(np.float32)


def _lstm_run(xs, wx, wr, b, pi, pf, po, wrm, clip):
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    r, c, out = np.zeros(PROJ), np.zeros(CELL), []
    for row in xs:
        g, i, f, o = np.split(row @ wx.T + b + r @ wr.T, 4)
        i, f = sig(i + pi * c), sig(f + pf * c)
        c = np.clip(f * c + i * np.tanh(g), -clip, clip)
        r = (sig(o + po * c) * np.tanh(c)) @ wrm.T
        out.append(r)
    return np.array(out)


def test_nnet1_blstm(tmp_path):
    """BlstmProjected: forward LSTM (weights as above) and a backward one run from the last frame
    (zero state after it); output [r_fw, r_bw] -> Affine -> Softmax. Streaming refuses it."""
    def write(binary):
        w = KaldiWriter(binary).token("<Nnet>")
        w.token("<Splice>").int32(15).int32(5).int_vector([-1, 0, 1]).token("<!EndOfComponent>")
        w.token("<BlstmProjectedStreams>").int32(2 * PROJ).int32(15).token("<CellDim>").int32(CELL)
        w.token("<LearnRateCoef>").float(1.0).token("<BiasLearnRateCoef>").float(1.0).token("<CellClip>").float(1.5)
        w.token("<DiffClip>").float(1.0).token("<CellDiffClip>").float(0.0).token("<GradClip>").float(250.0)
        w.matrix(LWX).matrix(LWR).vector(LB).vector(LPI).vector(LPF).vector(LPO).matrix(LWRM)
        w.matrix(BWX).matrix(BWR).vector(BB).vector(BPI).vector(BPF).vector(BPO).matrix(BWRM)
        w.token("<!EndOfComponent>")
        w.token("<AffineTransform>").int32(3).int32(2 * PROJ).token("<LearnRateCoef>").float(1.0)
        w.token("<BiasLearnRateCoef>").float(1.0).token("<MaxNorm>").float(0.0).matrix(BW2).vector(BB2)
        w.token("<!EndOfComponent>").token("<Softmax>").int32(3).int32(3).token("<!EndOfComponent>")
        return w.token("</Nnet>").bytes()

    irs = []
    for binary in (True, False):
        path = tmp_path / f"blstm{'.bin' if binary else '.txt'}"
        path.write_bytes(write(binary))
        graph = mo.convert(path, input="input[14,5]", framework="kaldi")
        graph.name = "blstm"
        irs.append(mo.save(graph, tmp_path / ("b" if binary else "t") / "m.xml"))
    assert irs[0].bin.read_bytes() == irs[1].bin.read_bytes()
    x = RNG.standard_normal((14, 5)).astype(np.float32)
    xs = splice(x.astype(np.float64), [-1, 0, 1])
    fw = _lstm_run(xs, LWX, LWR, LB, LPI, LPF, LPO, LWRM, 1.5)
    bw = _lstm_run(xs[::-1], BWX, BWR, BB, BPI, BPF, BPO, BWRM, 1.5)[::-1]
    want = softmax(np.concatenate([fw, bw], axis=1) @ BW2.T + BB2)
    np.testing.assert_allclose(ov_infer(irs[0].xml, {"input": x})["output"], want, rtol=1e-5, atol=1e-6)
    with pytest.raises(ConversionError, match="bidirectional"):
        mo.convert(tmp_path / "blstm.bin", kaldi_form="streaming", framework="kaldi")


def test_detected_by_header_in_both_encodings(tmp_path):
    from mo.pipeline import detect_framework

    for name, data in [("final.nnet", nnet1(True)), ("nnet1.txt", nnet1(False)), ("nnet2.txt", nnet2(False)),
                       ("model.bin", nnet2(True))]:
        (tmp_path / name).write_bytes(data)
        assert detect_framework(str(tmp_path / name)) == "kaldi", name


NW, NWB = RNG.standard_normal((3, 10)).astype(np.float32), RNG.standard_normal(3).astype(np.float32)


def test_nnet3_normalize_blocks_and_log_stddev(tmp_path):
    """NormalizeComponent (BlockDim 4 of 8, TargetRms 2, AddLogStddev): per block
    [x * 2 / sqrt(max(|x|^2 / 4, 2^-66)), log(2 sqrt(max(|x|^2 / 4, 2^-66)))], then an affine layer."""
    def write(binary):
        w = KaldiWriter(binary).token("<Nnet3>")
        w.out += (b"\ninput-node name=input dim=8\ncomponent-node name=norm component=norm input=input\n"
                  b"component-node name=aff component=aff input=norm\noutput-node name=output input=aff\n\n")
        w.token("<NumComponents>").int32(2)
        w.token("<ComponentName>").token("norm").token("<NormalizeComponent>").token("<InputDim>").int32(8)
        w.token("<BlockDim>").int32(4).token("<TargetRms>").float(2.0).token("<AddLogStddev>").bool(True)
        w.token("</NormalizeComponent>")
        w.token("<ComponentName>").token("aff").token("<AffineComponent>").token("<LinearParams>").matrix(NW)
        w.token("<BiasParams>").vector(NWB).token("</AffineComponent>")
        return w.token("</Nnet3>").bytes()

    irs = []
    for binary in (True, False):
        p = tmp_path / ("norm.raw" if binary else "norm.txt")
        p.write_bytes(write(binary))
        g = mo.convert(p, input="input[5,8]", framework="kaldi")
        g.name = "norm"
        irs.append(mo.save(g, tmp_path / str(binary) / "m.xml"))
    assert irs[0].bin.read_bytes() == irs[1].bin.read_bytes()
    x = RNG.standard_normal((5, 8)).astype(np.float64) * 3
    blocks = []
    for blk in (x[:, :4], x[:, 4:]):
        n = np.sqrt(np.maximum((blk ** 2).sum(1, keepdims=True) / 4, 2.0 ** -66))
        blocks += [blk * 2 / n, np.log(2 * n)]
    want = np.concatenate(blocks, axis=1) @ NW.T + NWB
    got = ov_infer(irs[0].xml, {"input": x.astype(np.float32)})["output"]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


PERM = np.array([3, 1, 7, 0, 2, 6, 5, 4])
SO_S, SO_O = np.array([0.5, -2.0, 1.5, 0.0], np.float32), RNG.standard_normal(4).astype(np.float32)
CONST_OUT = np.array([0.25, -1.0], np.float32)
SW, SWB = RNG.standard_normal((3, 6)).astype(np.float32), RNG.standard_normal(3).astype(np.float32)


def test_nnet3_permute_scale_offset_sum_block_constant(tmp_path):
    """Permute -> ScaleAndOffset (4 scales over 8 columns; a zero scale acts as 1e-4) -> SumBlock
    (8 -> 4, scale 0.5: y_j = 0.5 (x_j + x_{4+j})) appended with a ConstantFunction output -> Affine."""
    def write(binary):
        w = KaldiWriter(binary).token("<Nnet3>")
        w.out += (b"\ninput-node name=input dim=8\ncomponent-node name=perm component=perm input=input\n"
                  b"component-node name=so component=so input=perm\ncomponent-node name=sb component=sb input=so\n"
                  b"component-node name=cf component=cf input=input\n"
                  b"component-node name=aff component=aff input=Append(sb, cf)\noutput-node name=output input=aff\n\n")
        w.token("<NumComponents>").int32(5)
        w.token("<ComponentName>").token("perm").token("<PermuteComponent>").token("<ColumnMap>").int_vector(PERM)
        w.token("</PermuteComponent>")
        w.token("<ComponentName>").token("so").token("<ScaleAndOffsetComponent>").token("<LearningRate>")
        w.float(0.001).token("<Dim>").int32(8).token("<Scales>").vector(SO_S).token("<Offsets>").vector(SO_O)
        w.token("<UseNaturalGradient>").bool(True).token("<Rank>").int32(20).token("</ScaleAndOffsetComponent>")
        w.token("<ComponentName>").token("sb").token("<SumBlockComponent>").token("<InputDim>").int32(8)
        w.token("<OutputDim>").int32(4).token("<Scale>").float(0.5).token("</SumBlockComponent>")
        w.token("<ComponentName>").token("cf").token("<ConstantFunctionComponent>").token("<LearningRate>")
        w.float(0.001).token("<InputDim>").int32(8).token("<Output>").vector(CONST_OUT).token("<IsUpdatable>")
        w.bool(True).token("<UseNaturalGradient>").bool(True).token("</ConstantFunctionComponent>")
        w.token("<ComponentName>").token("aff").token("<AffineComponent>").token("<LinearParams>").matrix(SW)
        w.token("<BiasParams>").vector(SWB).token("</AffineComponent>")
        return w.token("</Nnet3>").bytes()

    irs = []
    for binary in (True, False):
        p = tmp_path / ("misc.raw" if binary else "misc.txt")
        p.write_bytes(write(binary))
        g = mo.convert(p, input="input[4,8]", framework="kaldi")
        g.name = "misc"
        irs.append(mo.save(g, tmp_path / str(binary) / "m.xml"))
    assert irs[0].bin.read_bytes() == irs[1].bin.read_bytes()
    x = RNG.standard_normal((4, 8)).astype(np.float64)
    scales = np.where(SO_S == 0, 1e-4, SO_S)
    h = x[:, PERM] * np.tile(scales, 2) + np.tile(SO_O, 2)
    h = 0.5 * (h[:, :4] + h[:, 4:])
    want = np.concatenate([h, np.tile(CONST_OUT, (4, 1))], axis=1) @ SW.T + SWB
    got = ov_infer(irs[0].xml, {"input": x.astype(np.float32)})["output"]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
