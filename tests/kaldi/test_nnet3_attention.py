"""nnet3 RestrictedAttentionComponent, written here in both encodings, against a numpy reference of
the formula in Kaldi's attention.h (OpenVINO, f32 hint; rtol 1e-5, atol 1e-5):

    z(t) = x(t) A^T + a;  per head h: z = [k (3), q = [r (3), s (C = 4)], v (2)]
    b(t)[o] = s(t)[o] + key_scale r(t) . k(t + o - 2),  o = 0..3 (2 left, 1 right input)
    c(t) = softmax(b(t));  u(t) = sum_o c(t)[o] v(t + o - 2);  head output [u(t), c(t)]
    y(t) = [heads] B^T + b'
Keys/values of frames before the chunk are zeros when they are not required (NumLeftInputsRequired 1).
"""
from __future__ import annotations

import numpy as np
import pytest

import mo

from ..runtime import ov_infer
from .test_nnet3 import _stream
from .writer import KaldiWriter

RNG = np.random.default_rng(5)
HEADS, KD, VD, LEFT, RIGHT = 2, 3, 2, 2, 1
CTX = LEFT + RIGHT + 1
PER_HEAD = 2 * KD + CTX + VD
A, AB = RNG.standard_normal((HEADS * PER_HEAD, 6)).astype(np.float32), RNG.standard_normal(HEADS * PER_HEAD)
B, BB = RNG.standard_normal((3, HEADS * (VD + CTX))).astype(np.float32), RNG.standard_normal(3).astype(np.float32)
AB = AB.astype(np.float32)
KEY_SCALE = 0.5

CONFIG = """
input-node name=input dim=6
component-node name=att.affine component=att.affine input=input
component-node name=att.attention component=att.attention input=att.affine
component-node name=out component=out input=att.attention
output-node name=output input=out objective=linear

"""


def attention_nnet3(binary: bool, left_required: int) -> bytes:
    w = KaldiWriter(binary).token("<Nnet3>")
    w.out += CONFIG.encode()
    w.token("<NumComponents>").int32(3)
    w.token("<ComponentName>").token("att.affine").token("<NaturalGradientAffineComponent>")
    w.token("<LearningRate>").float(0.001).token("<LinearParams>").matrix(A).token("<BiasParams>").vector(AB)
    w.token("</NaturalGradientAffineComponent>")
    w.token("<ComponentName>").token("att.attention").token("<RestrictedAttentionComponent>")
    w.token("<NumHeads>").int32(HEADS).token("<KeyDim>").int32(KD).token("<ValueDim>").int32(VD)
    w.token("<NumLeftInputs>").int32(LEFT).token("<NumRightInputs>").int32(RIGHT).token("<TimeStride>").int32(1)
    w.token("<NumLeftInputsRequired>").int32(left_required).token("<NumRightInputsRequired>").int32(RIGHT)
    w.token("<OutputContext>").bool(True).token("<KeyScale>").float(KEY_SCALE).token("<StatsCount>").float(0)
    w.token("<EntropyStats>").vector(np.zeros(HEADS)).token("<PosteriorStats>").matrix(np.zeros((HEADS, CTX)))
    w.token("</RestrictedAttentionComponent>")
    w.token("<ComponentName>").token("out").token("<AffineComponent>").token("<LearningRate>").float(0.001)
    w.token("<LinearParams>").matrix(B).token("<BiasParams>").vector(BB).token("</AffineComponent>")
    return w.token("</Nnet3>").bytes()


def reference(x: np.ndarray, left_required: int) -> np.ndarray:
    T = len(x)
    z = x.astype(np.float64) @ A.T + AB
    outs = []
    for t in range(left_required, T - RIGHT):
        heads = []
        for h in range(HEADS):
            zh = z[:, h * PER_HEAD:(h + 1) * PER_HEAD]
            r, s = zh[t, KD:2 * KD], zh[t, 2 * KD:2 * KD + CTX]
            keys = [zh[t + o - LEFT, :KD] if t + o - LEFT >= 0 else np.zeros(KD) for o in range(CTX)]
            vals = [zh[t + o - LEFT, 2 * KD + CTX:] if t + o - LEFT >= 0 else np.zeros(VD) for o in range(CTX)]
            bvec = s + KEY_SCALE * np.array([r @ k for k in keys])
            c = np.exp(bvec - bvec.max())
            c /= c.sum()
            heads.append(np.concatenate([sum(ci * v for ci, v in zip(c, vals)), c]))
        outs.append(np.concatenate(heads) @ B.T + BB)
    return np.array(outs)


@pytest.mark.parametrize("left_required", [LEFT, 1])
def test_restricted_attention(left_required, tmp_path):
    irs = []
    for binary in (True, False):
        p = tmp_path / ("att.raw" if binary else "att.txt")
        p.write_bytes(attention_nnet3(binary, left_required))
        g = mo.convert(p, input="input[12,6]", framework="kaldi")
        assert (g.meta["kaldi"]["left_context"], g.meta["kaldi"]["right_context"]) == (left_required, RIGHT)
        g.name = "att"
        irs.append(mo.save(g, tmp_path / str(binary) / "m.xml"))
    assert irs[0].xml.read_bytes() == irs[1].xml.read_bytes()
    assert irs[0].bin.read_bytes() == irs[1].bin.read_bytes()
    x = RNG.standard_normal((12, 6)).astype(np.float32)
    want = ov_infer(irs[0].xml, {"input": x})["output"]
    np.testing.assert_allclose(want, reference(x, left_required), rtol=1e-5, atol=1e-5)
    if left_required == LEFT:
        graph = mo.convert(tmp_path / "att.raw", kaldi_form="streaming", framework="kaldi")
        stream = mo.save(graph, tmp_path / "s" / "m.xml").xml
        got, _ = _stream(stream, [{"input": x[s:s + 1]} for s in range(12)])
        np.testing.assert_allclose(got[LEFT + RIGHT:], want, rtol=1e-5, atol=1e-5)
