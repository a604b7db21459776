"""ONNX indexing, shape and layout converters against onnxruntime (IR run on CPU in f32).

Each case builds a one-node (or few-node) model with onnx.helper, converts it with mo and
compares the OpenVINO outputs with onnxruntime's. Index/shape inputs are fed at run time
where that exercises the dynamic path (Tile repeats, Pad pads, Unsqueeze axes, ...).
"""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from mo.errors import ConversionError

from .util import convert_to_ir, run_onnx_vs_ir, x_f32
from .util import make_model as model

F, I64, B = TensorProto.FLOAT, TensorProto.INT64, TensorProto.BOOL
RNG = np.random.default_rng(0)


# ------------------------------------------------------------------------- Slice
@pytest.mark.parametrize("starts,ends,axes,steps", [
    ([1, 0], [3, 10**10], [0, 1], [1, 2]),                   # INT_MAX-like end, step 2
    ([-1], [-(2**63)], [1], [-1]),                           # full reverse with INT_MIN end
    ([0, -3], [2, -1], [-2, -1], None),                     # negative axes, default steps
    ([5], [1], [2], [-2]),                                   # negative step, clamped start
])
def test_slice_10(tmp_path, starts, ends, axes, steps):
    inits = [("s", np.array(starts, np.int64)), ("e", np.array(ends, np.int64)), ("a", np.array(axes, np.int64))]
    ins = ["x", "s", "e", "a"]
    if steps is not None:
        inits.append(("st", np.array(steps, np.int64)))
        ins.append("st")
    m = model([helper.make_node("Slice", ins, ["y"])], [("x", F, [4, 6, 5])], [("y", F, None)], inits=inits)
    run_onnx_vs_ir(m, {"x": x_f32(4, 6, 5)}, tmp_path)


def test_slice_runtime_bounds(tmp_path):
    m = model([helper.make_node("Slice", ["x", "s", "e"], ["y"])],
              [("x", F, [4, 6]), ("s", I64, [2]), ("e", I64, [2])], [("y", F, None)])
    run_onnx_vs_ir(m, {"x": x_f32(4, 6), "s": np.array([1, -4], np.int64), "e": np.array([3, 100], np.int64)},
                   tmp_path)


def test_slice_1_attributes(tmp_path):
    m = model([helper.make_node("Slice", ["x"], ["y"], starts=[1, 2], ends=[3, 1000], axes=[0, 2])],
              [("x", F, [4, 3, 5])], [("y", F, None)], opset=9)
    run_onnx_vs_ir(m, {"x": x_f32(4, 3, 5)}, tmp_path)


# ------------------------------------------------------------------------- Split
@pytest.mark.parametrize("opset,attrs,split", [
    (11, {"axis": 1, "split": [2, 4]}, None),
    (13, {"axis": 1}, [1, 5]),
    (13, {"axis": -1}, None),
    (18, {"axis": 1, "num_outputs": 2}, None),
])
def test_split(tmp_path, opset, attrs, split):
    ins, inits = ["x"], []
    if split is not None:
        ins.append("sp")
        inits.append(("sp", np.array(split, np.int64)))
    m = model([helper.make_node("Split", ins, ["a", "b"], **attrs)], [("x", F, [2, 6, 4])],
              [("a", F, None), ("b", F, None)], opset=opset, inits=inits)
    run_onnx_vs_ir(m, {"x": x_f32(2, 6, 4)}, tmp_path)


def test_split_18_uneven(tmp_path):
    m = model([helper.make_node("Split", ["x"], ["a", "b", "c"], axis=0, num_outputs=3)], [("x", F, [7, 2])],
              [("a", F, None), ("b", F, None), ("c", F, None)])
    got = run_onnx_vs_ir(m, {"x": x_f32(7, 2)}, tmp_path)
    assert [got[k].shape[0] for k in "abc"] == [3, 3, 1]


# ------------------------------------------------------------------------- Pad
@pytest.mark.parametrize("mode", ["constant", "reflect", "edge", "wrap"])
def test_pad_modes(tmp_path, mode):
    pads = np.array([0, 1, 2, 0, 2, 1], np.int64)
    m = model([helper.make_node("Pad", ["x", "p"], ["y"], mode=mode)], [("x", F, [2, 3, 4])], [("y", F, None)],
              opset=19, inits=[("p", pads)])
    run_onnx_vs_ir(m, {"x": x_f32(2, 3, 4)}, tmp_path)


def test_pad_runtime_pads_axes_value(tmp_path):
    m = model([helper.make_node("Pad", ["x", "p", "v", "a"], ["y"])],
              [("x", F, [2, 3, 4]), ("p", I64, [4]), ("v", F, []), ("a", I64, [2])], [("y", F, None)])
    feeds = {"x": x_f32(2, 3, 4), "p": np.array([1, 0, 2, 3], np.int64), "v": np.array(1.5, np.float32),
             "a": np.array([-1, 0], np.int64)}
    run_onnx_vs_ir(m, feeds, tmp_path)


def test_pad_wrap_runtime_pads(tmp_path):
    m = model([helper.make_node("Pad", ["x", "p"], ["y"], mode="wrap")], [("x", F, [2, 3, 4]), ("p", I64, [6])],
              [("y", F, None)], opset=19)
    run_onnx_vs_ir(m, {"x": x_f32(2, 3, 4), "p": np.array([0, 2, 1, 1, 0, 3], np.int64)}, tmp_path)


def test_pad_2_attributes_and_negative_crop(tmp_path):
    m = model([helper.make_node("Pad", ["x"], ["y"], pads=[1, -1, 0, 2], mode="constant", value=2.0)],
              [("x", F, [3, 4])], [("y", F, None)], opset=2)
    run_onnx_vs_ir(m, {"x": x_f32(3, 4)}, tmp_path)


# ------------------------------------------------------------------------- Tile / Expand / Where / Range
def test_tile_runtime_repeats(tmp_path):
    m = model([helper.make_node("Tile", ["x", "r"], ["y"])], [("x", F, [2, 3]), ("r", I64, [2])], [("y", F, None)])
    run_onnx_vs_ir(m, {"x": x_f32(2, 3), "r": np.array([3, 2], np.int64)}, tmp_path)


def test_tile_const_expand_where(tmp_path):
    nodes = [helper.make_node("Tile", ["x", "r"], ["t"]),
             helper.make_node("Expand", ["x", "s"], ["e"]),
             helper.make_node("Where", ["c", "x", "z"], ["w"])]
    m = model(nodes, [("x", F, [2, 1]), ("c", B, [3, 2, 1]), ("z", F, [1])],
              [("t", F, None), ("e", F, None), ("w", F, None)],
              inits=[("r", np.array([2, 3], np.int64)), ("s", np.array([3, 1, 4], np.int64))])
    feeds = {"x": x_f32(2, 1), "c": RNG.random((3, 2, 1)) > 0.5, "z": x_f32(1)}
    run_onnx_vs_ir(m, feeds, tmp_path)


@pytest.mark.parametrize("dtype,start,limit,delta", [
    (np.float32, 1.0, 5.5, 0.75), (np.int32, 10, 2, -3), (np.int64, 0, 0, 1)])
def test_range(tmp_path, dtype, start, limit, delta):
    t = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    m = model([helper.make_node("Range", ["a", "b", "c"], ["y"])], [("a", t, []), ("b", t, []), ("c", t, [])],
              [("y", t, None)])
    feeds = {k: np.array(v, dtype) for k, v in zip("abc", (start, limit, delta))}
    run_onnx_vs_ir(m, feeds, tmp_path)


# ------------------------------------------------------------------------- OneHot / Gather / Scatter
@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_one_hot_negative_indices(tmp_path, axis):
    m = model([helper.make_node("OneHot", ["i", "d", "v"], ["y"], axis=axis)], [("i", I64, [2, 3])],
              [("y", F, None)], opset=11,
              inits=[("d", np.array(5, np.int64)), ("v", np.array([-1.0, 3.0], np.float32))])
    run_onnx_vs_ir(m, {"i": np.array([[0, -1, 4], [-5, 2, 7]], np.int64)}, tmp_path)


def test_gather_elements_and_nd(tmp_path):
    nodes = [helper.make_node("GatherElements", ["x", "ie"], ["a"], axis=1),
             helper.make_node("GatherND", ["x", "ind"], ["b"], batch_dims=1)]
    m = model(nodes, [("x", F, [2, 3, 4]), ("ie", I64, [2, 2, 4]), ("ind", I64, [2, 2, 1])],
              [("a", F, None), ("b", F, None)])
    feeds = {"x": x_f32(2, 3, 4), "ie": RNG.integers(-3, 3, (2, 2, 4)), "ind": RNG.integers(0, 3, (2, 2, 1))}
    run_onnx_vs_ir(m, feeds, tmp_path)


@pytest.mark.parametrize("reduction", ["none", "add", "mul", "max", "min"])
def test_scatter_elements_and_nd(tmp_path, reduction):
    nodes = [helper.make_node("ScatterElements", ["x", "ie", "u"], ["a"], axis=1, reduction=reduction),
             helper.make_node("ScatterND", ["x", "ind", "un"], ["b"], reduction=reduction)]
    ie = np.array([[0, 2], [1, -1], [3, 0]], np.int64) if reduction != "none" else np.array(
        [[0, 2], [1, 3], [3, 0]], np.int64)
    m = model(nodes, [("x", F, [3, 4]), ("u", F, [3, 2]), ("un", F, [2, 4])], [("a", F, None), ("b", F, None)],
              inits=[("ie", ie), ("ind", np.array([[2], [0]], np.int64))])
    run_onnx_vs_ir(m, {"x": x_f32(3, 4), "u": x_f32(3, 2), "un": x_f32(2, 4)}, tmp_path)


# ------------------------------------------------------------------------- Trilu / depth-space / misc
@pytest.mark.parametrize("upper,k", [(1, None), (0, None), (1, -1), (0, 2)])
def test_trilu(tmp_path, upper, k):
    ins, inputs = ["x"], [("x", F, [2, 4, 5])]
    feeds = {"x": x_f32(2, 4, 5)}
    if k is not None:
        ins.append("k")
        inputs.append(("k", I64, []))
        feeds["k"] = np.array(k, np.int64)
    m = model([helper.make_node("Trilu", ins, ["y"], upper=upper)], inputs, [("y", F, None)])
    run_onnx_vs_ir(m, feeds, tmp_path)


@pytest.mark.parametrize("mode", ["DCR", "CRD"])
def test_depth_to_space_and_back(tmp_path, mode):
    nodes = [helper.make_node("DepthToSpace", ["x"], ["d"], blocksize=2, mode=mode),
             helper.make_node("SpaceToDepth", ["d"], ["s"], blocksize=2)]
    m = model(nodes, [("x", F, [1, 8, 2, 3])], [("d", F, None), ("s", F, None)])
    run_onnx_vs_ir(m, {"x": x_f32(1, 8, 2, 3)}, tmp_path)


def test_nonzero_compress_reverse_sequence(tmp_path):
    nodes = [helper.make_node("NonZero", ["x"], ["nz"]),
             helper.make_node("Compress", ["x", "c"], ["c1"], axis=1),
             helper.make_node("Compress", ["x", "c"], ["c0"]),
             helper.make_node("ReverseSequence", ["x", "l"], ["r"], batch_axis=0, time_axis=1)]
    m = model(nodes, [("x", F, [3, 4]), ("c", B, [3]), ("l", I64, [3])],
              [("nz", I64, None), ("c1", F, None), ("c0", F, None), ("r", F, None)])
    x = x_f32(3, 4)
    x[x < 0] = 0
    feeds = {"x": x, "c": np.array([True, False, True]), "l": np.array([4, 1, 2], np.int64)}
    run_onnx_vs_ir(m, feeds, tmp_path)


@pytest.mark.parametrize("attrs", [{"sorted": 1}, {"sorted": 0}, {"sorted": 1, "axis": 0}])
def test_unique(tmp_path, attrs):
    m = model([helper.make_node("Unique", ["x"], ["y", "i", "inv", "c"], **attrs)], [("x", F, [4, 2])],
              [("y", F, None), ("i", I64, None), ("inv", I64, None), ("c", I64, None)])
    x = np.array([[2, 1], [1, 3], [2, 1], [0, 0]], np.float32)
    run_onnx_vs_ir(m, {"x": x}, tmp_path)


def test_unsqueeze_runtime_axes(tmp_path):
    m = model([helper.make_node("Unsqueeze", ["x", "a"], ["y"])], [("x", F, [3, 4]), ("a", I64, [2])],
              [("y", F, None)])
    run_onnx_vs_ir(m, {"x": x_f32(3, 4), "a": np.array([-1, 0], np.int64)}, tmp_path)


def test_center_crop_pad_runtime_shape(tmp_path):
    m = model([helper.make_node("CenterCropPad", ["x", "s"], ["y"], axes=[0, -1])],
              [("x", F, [5, 3, 4]), ("s", I64, [2])], [("y", F, None)])
    run_onnx_vs_ir(m, {"x": x_f32(5, 3, 4), "s": np.array([2, 7], np.int64)}, tmp_path)


def test_col2im(tmp_path):
    m = model([helper.make_node("Col2Im", ["x", "img", "blk"], ["y"], strides=[1, 2], pads=[1, 0, 1, 0])],
              [("x", F, [1, 8, 10])], [("y", F, None)],
              inits=[("img", np.array([4, 5], np.int64)), ("blk", np.array([2, 2], np.int64))])
    run_onnx_vs_ir(m, {"x": x_f32(1, 8, 10)}, tmp_path)


@pytest.mark.parametrize("align", [0, 1])
def test_affine_grid(tmp_path, align):
    m = model([helper.make_node("AffineGrid", ["t", "s"], ["y"], align_corners=align)],
              [("t", F, [2, 2, 3]), ("s", I64, [4])], [("y", F, None)], opset=20)
    run_onnx_vs_ir(m, {"t": x_f32(2, 2, 3), "s": np.array([2, 3, 4, 5], np.int64)}, tmp_path, rtol=1e-5,
                   atol=1e-5)


# ------------------------------------------------------------------------- Resize / Upsample
@pytest.mark.parametrize("attrs,scales,sizes", [
    ({"mode": "nearest"}, [1, 1, 2, 1.5], None),
    ({"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "ceil"}, None, [1, 2, 5, 7]),
    ({"mode": "linear"}, [1, 1, 0.5, 1.75], None),
    ({"mode": "linear", "coordinate_transformation_mode": "align_corners"}, None, [1, 2, 7, 3]),
    ({"mode": "linear", "coordinate_transformation_mode": "pytorch_half_pixel"}, None, [1, 2, 1, 9]),
    ({"mode": "cubic", "cubic_coeff_a": -0.5}, [1, 1, 1.5, 2], None),
])
def test_resize(tmp_path, attrs, scales, sizes):
    ins = ["x", "", "sc"] if scales is not None else ["x", "", "", "sz"]
    inits = [("sc", np.array(scales, np.float32))] if scales is not None else [("sz", np.array(sizes, np.int64))]
    m = model([helper.make_node("Resize", ins, ["y"], **attrs)], [("x", F, [1, 2, 4, 6])], [("y", F, None)],
              inits=inits)
    run_onnx_vs_ir(m, {"x": x_f32(1, 2, 4, 6)}, tmp_path, rtol=1e-4, atol=1e-5)


def test_resize_keep_aspect_ratio(tmp_path):
    m = model([helper.make_node("Resize", ["x", "", "", "sz"], ["y"], axes=[2, 3], mode="nearest",
                                keep_aspect_ratio_policy="not_larger")],
              [("x", F, [1, 1, 2, 4]), ("sz", I64, [2])], [("y", F, None)])
    # scale min(5/2, 8/4) = 2 gives whole sizes, where Interpolate's sizes mode is exact
    run_onnx_vs_ir(m, {"x": x_f32(1, 1, 2, 4), "sz": np.array([5, 8], np.int64)}, tmp_path)


def test_upsample_9(tmp_path):
    m = model([helper.make_node("Upsample", ["x", "s"], ["y"], mode="nearest")], [("x", F, [1, 1, 2, 3])],
              [("y", F, None)], opset=9, inits=[("s", np.array([1, 1, 2, 3], np.float32))])
    run_onnx_vs_ir(m, {"x": x_f32(1, 1, 2, 3)}, tmp_path)


def test_resize_refuses_exclude_outside(tmp_path):
    m = model([helper.make_node("Resize", ["x", "", "sc"], ["y"], mode="cubic", exclude_outside=1)],
              [("x", F, [1, 1, 4, 4])], [("y", F, None)], inits=[("sc", np.array([1, 1, 2, 2], np.float32))])
    with pytest.raises(ConversionError, match="exclude_outside"):
        convert_to_ir(m, tmp_path)


def test_resize_refuses_downsampling_antialias(tmp_path):
    m = model([helper.make_node("Resize", ["x", "", "sc"], ["y"], mode="linear", antialias=1)],
              [("x", F, [1, 1, 4, 4])], [("y", F, None)], inits=[("sc", np.array([1, 1, 0.5, 0.5], np.float32))])
    with pytest.raises(ConversionError, match="antialias"):
        convert_to_ir(m, tmp_path)


def test_resize_upsampling_antialias_is_plain_linear(tmp_path):
    m = model([helper.make_node("Resize", ["x", "", "sc"], ["y"], mode="linear", antialias=1)],
              [("x", F, [1, 1, 3, 4])], [("y", F, None)], inits=[("sc", np.array([1, 1, 2, 1.5], np.float32))])
    run_onnx_vs_ir(m, {"x": x_f32(1, 1, 3, 4)}, tmp_path, rtol=1e-4, atol=1e-5)
