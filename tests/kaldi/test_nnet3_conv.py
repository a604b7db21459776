"""nnet3 TimeHeightConvolutionComponent (CNN-TDNN layers), written here in both encodings, against a
numpy reference (OpenVINO, f32 hint; rtol 1e-5, atol 1e-5), chunk and streaming forms.

Input columns are height-major (column h * F_in + f); offsets (dt, dh); output height h reads input
height h * sub + dh, zero outside 0 .. H_in-1:

    y(t)[h, :] = relu(b + sum_i W[:, i F_in:(i+1) F_in] x(t + dt_i)[h * sub + dh_i, :])
    out(t)     = [y(t-1), y(t)] A^T + a
"""
from __future__ import annotations

from itertools import product

import numpy as np

import mo

from ..runtime import ov_infer
from .test_nnet3 import _stream
from .writer import KaldiWriter

RNG = np.random.default_rng(11)
F_IN, H_IN, F_OUT, H_OUT, SUB = 2, 6, 3, 3, 2
OFFSETS = list(product([-1, 0, 1], [-1, 0, 1]))
W = RNG.standard_normal((F_OUT, len(OFFSETS) * F_IN)).astype(np.float32) * 0.5
WB = RNG.standard_normal(F_OUT).astype(np.float32) * 0.1
A = RNG.standard_normal((4, 2 * H_OUT * F_OUT)).astype(np.float32) * 0.3
AB = RNG.standard_normal(4).astype(np.float32)

CONFIG = f"""
input-node name=input dim={H_IN * F_IN}
component-node name=cnn1.conv component=cnn1.conv input=input
component-node name=cnn1.relu component=cnn1.relu input=cnn1.conv
component-node name=out component=out input=Append(Offset(cnn1.relu, -1), cnn1.relu)
output-node name=output input=out objective=linear

"""


def conv_nnet3(binary: bool) -> bytes:
    w = KaldiWriter(binary).token("<Nnet3>")
    w.out += CONFIG.encode()
    w.token("<NumComponents>").int32(3)
    w.token("<ComponentName>").token("cnn1.conv").token("<TimeHeightConvolutionComponent>")
    w.token("<MaxChange>").float(0.75).token("<LearningRate>").float(0.001).token("<Model>")
    w.token("<ConvolutionModel>").token("<NumFiltersIn>").int32(F_IN).token("<NumFiltersOut>").int32(F_OUT)
    w.token("<HeightIn>").int32(H_IN).token("<HeightOut>").int32(H_OUT).token("<HeightSubsampleOut>").int32(SUB)
    w.token("<Offsets>").int_pair_vector(OFFSETS).token("<RequiredTimeOffsets>").int_vector([-1, 0, 1])
    w.token("</ConvolutionModel>").token("<LinearParams>").matrix(W).token("<BiasParams>").vector(WB)
    w.token("<MaxMemoryMb>").float(200.0).token("<UseNaturalGradient>").bool(True)
    w.token("<NumMinibatchesHistory>").float(4.0).token("<AlphaInOut>").float(4.0).float(4.0)
    w.token("<RankInOut>").int32(20).int32(80).token("</TimeHeightConvolutionComponent>")
    w.token("<ComponentName>").token("cnn1.relu").token("<RectifiedLinearComponent>").token("<Dim>")
    w.int32(H_OUT * F_OUT).token("<ValueAvg>").vector(np.zeros(H_OUT * F_OUT)).token("<DerivAvg>")
    w.vector(np.zeros(H_OUT * F_OUT)).token("<Count>").float(0).token("</RectifiedLinearComponent>")
    w.token("<ComponentName>").token("out").token("<AffineComponent>").token("<LearningRate>").float(0.001)
    w.token("<LinearParams>").matrix(A).token("<BiasParams>").vector(AB).token("</AffineComponent>")
    return w.token("</Nnet3>").bytes()


def reference(x: np.ndarray) -> np.ndarray:
    T = len(x)
    img = x.astype(np.float64).reshape(T, H_IN, F_IN)
    y = {}
    for t in range(1, T - 1):
        out = np.tile(WB.astype(np.float64), (H_OUT, 1))
        for i, (dt, dh) in enumerate(OFFSETS):
            for h in range(H_OUT):
                hh = h * SUB + dh
                if 0 <= hh < H_IN:
                    out[h] += W[:, i * F_IN:(i + 1) * F_IN] @ img[t + dt, hh]
        y[t] = np.maximum(out, 0).reshape(-1)
    return np.array([np.concatenate([y[t - 1], y[t]]) @ A.T + AB for t in range(2, T - 1)])


def test_time_height_convolution_binary_text_reference_streaming(tmp_path):
    irs = []
    for binary in (True, False):
        p = tmp_path / ("cnn.raw" if binary else "cnn.txt")
        p.write_bytes(conv_nnet3(binary))
        g = mo.convert(p, input=f"input[14,{H_IN * F_IN}]", framework="kaldi")
        assert (g.meta["kaldi"]["left_context"], g.meta["kaldi"]["right_context"]) == (2, 1)
        g.name = "cnn"
        irs.append(mo.save(g, tmp_path / str(binary) / "m.xml"))
    assert irs[0].xml.read_bytes() == irs[1].xml.read_bytes()
    assert irs[0].bin.read_bytes() == irs[1].bin.read_bytes()
    x = RNG.standard_normal((14, H_IN * F_IN)).astype(np.float32)
    want = ov_infer(irs[0].xml, {"input": x})["output"]
    np.testing.assert_allclose(want, reference(x), rtol=1e-5, atol=1e-5)
    graph = mo.convert(tmp_path / "cnn.raw", kaldi_form="streaming", framework="kaldi")
    stream = mo.save(graph, tmp_path / "s" / "m.xml").xml
    got, _ = _stream(stream, [{"input": x[s:s + 1]} for s in range(14)])
    np.testing.assert_allclose(got[3:], want, rtol=1e-5, atol=1e-5)
