"""Attention family: ONNX Attention, RotaryEmbedding, LinearAttention, FlexAttention.

Each test builds a one-node model, converts it with mo, runs the IR on the CPU in f32 and
compares with the ONNX reference evaluator (onnxruntime lacks several of these ops), within
rtol 1e-4 / atol 1e-5 (f32 arithmetic in a different order).
"""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

from mo.errors import MoError

from .util import convert_to_ir, ov_infer

RTOL, ATOL = 1e-4, 1e-5
F32, BOOL, I64 = TensorProto.FLOAT, TensorProto.BOOL, TensorProto.INT64


def _model(op: str, inputs: dict[str, np.ndarray], outputs: list[str], opset: int, domain: str = "",
           input_names: list[str] | None = None, **attrs) -> onnx.ModelProto:
    names = input_names if input_names is not None else list(inputs)
    node = helper.make_node(op, names, outputs, domain=domain, **attrs)
    vis = [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape)
           for n, a in inputs.items()]
    outs = [helper.make_tensor_value_info(o, 0, None) for o in outputs]
    imports = [helper.make_opsetid("", opset)] + ([helper.make_opsetid(domain, 1)] if domain else [])
    return helper.make_model(helper.make_graph([node], "g", vis, outs), opset_imports=imports, ir_version=10)


def _check(model: onnx.ModelProto, feeds: dict[str, np.ndarray], tmp_path, rtol=RTOL, atol=ATOL) -> None:
    ref = ReferenceEvaluator(model).run(None, feeds)
    got = ov_infer(convert_to_ir(model, tmp_path), feeds)
    for out, r in zip(model.graph.output, ref):
        g = got[out.name]
        assert g.shape == r.shape, out.name
        np.testing.assert_allclose(g, r, rtol=rtol, atol=atol, err_msg=out.name)


def _rand(*shape, seed=0):
    return np.random.default_rng(seed + len(shape) * 7 + sum(shape)).standard_normal(shape).astype(np.float32)


# ----------------------------------------------------------------------------- Attention
def test_attention_4d_plain(tmp_path):
    feeds = {"Q": _rand(2, 3, 4, 8), "K": _rand(2, 3, 6, 8, seed=1), "V": _rand(2, 3, 6, 5, seed=2)}
    _check(_model("Attention", feeds, ["Y"], 23), feeds, tmp_path)


def test_attention_3d_gqa_causal_softcap_scale(tmp_path):
    feeds = {"Q": _rand(2, 4, 8 * 4), "K": _rand(2, 6, 2 * 4, seed=1), "V": _rand(2, 6, 2 * 3, seed=2)}
    m = _model("Attention", feeds, ["Y"], 23, q_num_heads=8, kv_num_heads=2, is_causal=1, softcap=2.0, scale=0.3)
    _check(m, feeds, tmp_path)


def test_attention_past_present_bool_mask_qk_output(tmp_path):
    mask = np.random.default_rng(3).random((4, 5)) > 0.3   # shorter than past+new keys: padded with False
    mask[1] = False                                        # a fully masked row gives Y = 0
    feeds = {"Q": _rand(1, 2, 4, 8), "K": _rand(1, 2, 3, 8, seed=1), "V": _rand(1, 2, 3, 8, seed=2),
             "attn_mask": mask, "past_key": _rand(1, 2, 4, 8, seed=4), "past_value": _rand(1, 2, 4, 8, seed=5)}
    for mode in (0, 2, 3):
        m = _model("Attention", feeds, ["Y", "present_key", "present_value", "qk"], 23, qk_matmul_output_mode=mode)
        (tmp_path / str(mode)).mkdir()
        _check(m, feeds, tmp_path / str(mode))


def test_attention_window_nonpad(tmp_path):
    feeds = {"Q": _rand(3, 2, 2, 8), "K": _rand(3, 2, 6, 8, seed=1), "V": _rand(3, 2, 6, 8, seed=2),
             "nonpad_kv_seqlen": np.array([6, 4, 3], dtype=np.int64)}
    m = _model("Attention", feeds, ["Y"], 25, input_names=["Q", "K", "V", "", "", "", "nonpad_kv_seqlen"],
               is_causal=1, left_window_size=2)
    _check(m, feeds, tmp_path)


def test_attention_float_mask_3d(tmp_path):
    feeds = {"Q": _rand(2, 3, 4, 8), "K": _rand(2, 3, 5, 8, seed=1), "V": _rand(2, 3, 5, 8, seed=2),
             "attn_mask": _rand(3, 4, 5, seed=3)}
    _check(_model("Attention", feeds, ["Y"], 24), feeds, tmp_path)


def test_attention_bad_mode_is_a_clear_error(tmp_path):
    feeds = {"Q": _rand(1, 1, 2, 4), "K": _rand(1, 1, 2, 4), "V": _rand(1, 1, 2, 4)}
    with pytest.raises(MoError, match="qk_matmul_output_mode"):
        convert_to_ir(_model("Attention", feeds, ["Y", "", "", "qk"], 23, qk_matmul_output_mode=7), tmp_path)


# ----------------------------------------------------------------------------- RotaryEmbedding
@pytest.mark.parametrize("interleaved", [0, 1])
def test_rotary_embedding_position_ids_partial(tmp_path, interleaved):
    feeds = {"X": _rand(2, 3, 4, 16), "cos": _rand(10, 4, seed=1), "sin": _rand(10, 4, seed=2),
             "pos": np.array([[0, 1, 2, 3], [5, 6, 7, 8]], dtype=np.int64)}
    m = _model("RotaryEmbedding", feeds, ["Y"], 23, interleaved=interleaved, rotary_embedding_dim=8)
    _check(m, feeds, tmp_path)


def test_rotary_embedding_3d_no_position_ids(tmp_path):
    feeds = {"X": _rand(2, 4, 3 * 8), "cos": _rand(2, 4, 4, seed=1), "sin": _rand(2, 4, 4, seed=2)}
    _check(_model("RotaryEmbedding", feeds, ["Y"], 23, num_heads=3), feeds, tmp_path)


# ----------------------------------------------------------------------------- LinearAttention
@pytest.mark.parametrize("rule", ["linear", "gated", "delta", "gated_delta"])
def test_linear_attention_rules(tmp_path, rule):
    b, t, hq, hkv, dk, dv = 2, 3, 4, 2, 4, 3
    rng = np.random.default_rng(5)
    feeds = {"q": _rand(b, t, hq * dk), "k": _rand(b, t, hkv * dk, seed=1) * 0.5, "v": _rand(b, t, hkv * dv, seed=2),
             "past": _rand(b, hkv, dk, dv, seed=3)}
    names = ["q", "k", "v", "past", "", ""]
    if rule in ("gated", "gated_delta"):
        feeds["decay"] = -rng.random((b, t, hkv * dk)).astype(np.float32)
        names[4] = "decay"
    if rule in ("delta", "gated_delta"):
        feeds["beta"] = rng.random((b, t, hkv)).astype(np.float32)
        names[5] = "beta"
    while names[-1] == "":
        names.pop()
    m = _model("LinearAttention", feeds, ["out", "state"], 27, input_names=names, q_num_heads=hq,
               kv_num_heads=hkv, update_rule=rule)
    _check(m, feeds, tmp_path)


# ----------------------------------------------------------------------------- FlexAttention
def test_flex_attention_gqa_score_mod(tmp_path):
    bias = helper.make_tensor("bias", F32, [], [0.5])
    body = helper.make_graph([helper.make_node("Add", ["s", "bias"], ["s_out"])], "score_mod",
                             [helper.make_tensor_value_info("s", F32, None)],
                             [helper.make_tensor_value_info("s_out", F32, None)], [bias])
    feeds = {"Q": _rand(1, 4, 3, 8), "K": _rand(1, 2, 5, 8, seed=1), "V": _rand(1, 2, 5, 6, seed=2)}
    m = _model("FlexAttention", feeds, ["Y"], 26, domain="ai.onnx.preview", score_mod=body)
    _check(m, feeds, tmp_path)
