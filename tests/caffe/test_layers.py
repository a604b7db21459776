"""Each Caffe layer type: a one- or two-layer net with random weights (written with mo's schema),
converted, run in OpenVINO (f32) and compared with OpenCV's dnn module reading the same files
(|ir - cv| <= 1e-5 + 1e-4 * max|cv|), or, where OpenCV lacks the layer, with the numpy
reference the test names."""
from __future__ import annotations

import numpy as np
import pytest

from .writer import check_vs_opencv


def net(*layers: str, shape=(1, 3, 8, 8), name: str = "data") -> str:
    dims = " ".join(f"dim: {d}" for d in shape)
    head = f'name: "t"\nlayer {{ name: "{name}" type: "Input" top: "{name}" input_param {{ shape {{ {dims} }} }} }}\n'
    return head + "\n".join(layers)


def L(name: str, type_: str, bottom: str | list[str] = "data", top: str | list[str] | None = None, body: str = "") -> str:
    bottoms = [bottom] if isinstance(bottom, str) else bottom
    tops = [top or name] if not isinstance(top, list) else top
    b = " ".join(f'bottom: "{x}"' for x in bottoms)
    t = " ".join(f'top: "{x}"' for x in tops)
    return f'layer {{ name: "{name}" type: "{type_}" {b} {t} {body} }}'


OPENCV_CASES = {
    "conv": net(L("c", "Convolution", body="convolution_param { num_output: 5 kernel_size: 3 pad: 1 }")),
    "conv_group_dilation_nobias": net(L("c", "Convolution", body="convolution_param { num_output: 6 kernel_size: 3 "
                                        "group: 3 dilation: 2 pad: 2 stride: 2 bias_term: false }"), shape=(1, 6, 9, 9)),
    "conv_hw": net(L("c", "Convolution", body="convolution_param { num_output: 4 kernel_h: 3 kernel_w: 1 "
                     "pad_h: 1 pad_w: 0 stride_h: 2 stride_w: 1 }")),
    "conv_depthwise": net(L("c", "Convolution", body="convolution_param { num_output: 4 kernel_size: 3 group: 4 "
                                                      "pad: 1 }"), shape=(1, 4, 7, 7)),
    "deconv": net(L("d", "Deconvolution", body="convolution_param { num_output: 4 kernel_size: 4 stride: 2 pad: 1 }")),
    "deconv_group": net(L("d", "Deconvolution", body="convolution_param { num_output: 6 kernel_size: 3 stride: 2 "
                                                     "group: 3 bias_term: false }"), shape=(1, 6, 5, 5)),
    "pool_max_ceil": net(L("p", "Pooling", body="pooling_param { pool: MAX kernel_size: 3 stride: 2 }"),
                         shape=(1, 3, 8, 8)),
    "pool_max_ceil_pad": net(L("p", "Pooling", body="pooling_param { pool: MAX kernel_size: 3 stride: 2 pad: 1 }"),
                             shape=(1, 3, 10, 10)),
    "pool_ave_ceil": net(L("p", "Pooling", body="pooling_param { pool: AVE kernel_size: 3 stride: 2 }"),
                         shape=(1, 3, 8, 8)),
    "pool_ave_ceil_pad_edge": net(L("p", "Pooling", body="pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 }"),
                                  shape=(1, 3, 8, 8)),
    "pool_ave_pad": net(L("p", "Pooling", body="pooling_param { pool: AVE kernel_size: 3 stride: 1 pad: 1 }")),
    "pool_last_window_in_padding": net(L("p", "Pooling", body="pooling_param { pool: MAX kernel_size: 2 stride: 2 "
                                                              "pad: 1 }"), shape=(1, 2, 6, 6)),
    "pool_reduced_last_window_max": net(L("p", "Pooling", body="pooling_param { pool: MAX kernel_size: 2 stride: 3 "
                                                               "pad: 1 }"), shape=(1, 2, 4, 7)),
    "pool_reduced_last_window_ave": net(L("p", "Pooling", body="pooling_param { pool: AVE kernel_size: 2 stride: 3 "
                                                               "pad: 1 }"), shape=(1, 2, 4, 7)),
    "pool_global_ave": net(L("p", "Pooling", body="pooling_param { pool: AVE global_pooling: true }")),
    "pool_global_max": net(L("p", "Pooling", body="pooling_param { pool: MAX global_pooling: true }")),
    "inner_product": net(L("fc", "InnerProduct", body="inner_product_param { num_output: 7 }")),
    "inner_product_axis2": net(L("fc", "InnerProduct", body="inner_product_param { num_output: 5 axis: 2 }"),
                               shape=(2, 3, 4, 6)),
    "relu": net(L("r", "ReLU")),
    "leaky_relu": net(L("r", "ReLU", body="relu_param { negative_slope: 0.1 }")),
    "prelu": net(L("r", "PReLU")),
    "prelu_shared": net(L("r", "PReLU", body="prelu_param { channel_shared: true }")),
    "elu": net(L("r", "ELU", body="elu_param { alpha: 0.7 }")),
    "sigmoid": net(L("r", "Sigmoid")),
    "tanh": net(L("r", "TanH")),
    "absval": net(L("r", "AbsVal")),
    "power": net(L("r", "Power", body="power_param { power: 2 scale: 0.5 shift: 1.5 }")),
    "exp": net(L("r", "Exp", body="exp_param { base: 2 scale: 0.5 shift: 0.1 }")),
    "bnll": net(L("r", "BNLL")),
    "batch_norm": net(L("bn", "BatchNorm", body="batch_norm_param { use_global_stats: true eps: 0.001 }")),
    "scale_bias": net(L("s", "Scale", body="scale_param { bias_term: true }")),
    "scale_no_bias": net(L("s", "Scale")),
    "scale_axis0_two_axes": net(L("s", "Scale", body="scale_param { axis: 0 num_axes: 2 bias_term: true }"),
                                shape=(2, 3, 4, 4)),
    "eltwise_sum_coeff": net(L("a", "Convolution", body="convolution_param { num_output: 3 kernel_size: 1 }"),
                             L("e", "Eltwise", bottom=["data", "a"], body="eltwise_param { operation: SUM coeff: 0.5 "
                                                                          "coeff: -2 }")),
    "eltwise_prod": net(L("a", "Sigmoid"), L("e", "Eltwise", bottom=["data", "a"],
                                             body="eltwise_param { operation: PROD }")),
    "eltwise_max": net(L("a", "TanH"), L("e", "Eltwise", bottom=["data", "a", "data"],
                                         body="eltwise_param { operation: MAX }")),
    "concat": net(L("a", "Sigmoid"), L("c", "Concat", bottom=["data", "a"], body="concat_param { axis: 1 }")),
    "concat_axis2": net(L("a", "Sigmoid"), L("c", "Concat", bottom=["data", "a"], body="concat_param { axis: 2 }")),
    "slice": net(L("s", "Slice", top=["s1", "s2", "s3"], body="slice_param { axis: 1 slice_point: 1 slice_point: 2 }"),
                 L("o1", "Power", bottom="s1", body="power_param { scale: 2 }"),
                 L("o2", "Power", bottom="s2", body="power_param { scale: 3 }"),
                 L("o3", "Power", bottom="s3", body="power_param { scale: 4 }")),
    "split": net(L("sp", "Split", top=["x1", "x2"]), L("a", "ReLU", bottom="x1"), L("b", "Sigmoid", bottom="x2"),
                 L("e", "Eltwise", bottom=["a", "b"])),
    "flatten": net(L("f", "Flatten")),
    "flatten_axes": net(L("f", "Flatten", body="flatten_param { axis: 1 end_axis: 2 }")),
    "reshape": net(L("r", "Reshape", body="reshape_param { shape { dim: 0 dim: -1 dim: 4 } }")),
    "reshape_axis": net(L("r", "Reshape", body="reshape_param { shape { dim: 2 dim: 4 } axis: 2 num_axes: 1 }")),
    "permute": net(L("p", "Permute", body="permute_param { order: 0 order: 2 order: 3 order: 1 }")),
    "softmax": net(L("s", "Softmax")),
    "softmax_axis": net(L("s", "Softmax", body="softmax_param { axis: 2 }")),
    "lrn_across": net(L("n", "LRN", body="lrn_param { local_size: 5 alpha: 0.0001 beta: 0.75 }"), shape=(1, 8, 6, 6)),
    "lrn_within": net(L("n", "LRN", body="lrn_param { local_size: 3 alpha: 0.5 beta: 0.75 norm_region: WITHIN_CHANNEL }")),
    "mvn": net(L("m", "MVN")),
    "mvn_across_mean_only": net(L("m", "MVN", body="mvn_param { across_channels: true normalize_variance: false }")),
    "normalize": net(L("n", "Normalize", body="norm_param { across_spatial: false channel_shared: false }")),
    "normalize_spatial_shared": net(L("n", "Normalize", body="norm_param { across_spatial: true channel_shared: true }")),
    "dropout": net(L("d", "Dropout", top="data"), L("r", "ReLU")),
    "crop": net(L("p", "Pooling", body="pooling_param { pool: MAX kernel_size: 2 stride: 2 }"),
                L("c", "Crop", bottom=["data", "p"], body="crop_param { axis: 2 offset: 1 offset: 2 }")),
    "interp_zoom": net(L("i", "Interp", body="interp_param { zoom_factor: 2 }")),
    "interp_size": net(L("i", "Interp", body="interp_param { height: 5 width: 11 }")),
    "shuffle_channel": net(L("s", "ShuffleChannel", body="shuffle_channel_param { group: 2 }"), shape=(1, 6, 4, 4)),
    "relu6": net(L("r", "ReLU6")),
}


@pytest.mark.parametrize("case", sorted(OPENCV_CASES))
def test_layer_vs_opencv(case, tmp_path):
    feeds = None
    if case in ("relu6",):
        feeds = {"data": (np.random.default_rng(3).standard_normal((1, 3, 8, 8)) * 5).astype(np.float32)}
    check_vs_opencv(tmp_path, OPENCV_CASES[case], feeds=feeds)
