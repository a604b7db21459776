"""The network of a deploy .prototxt as a list of layers, whatever its form.

Both the current form (``layer { type: "Convolution" }``) and the legacy V1 form
(``layers { type: CONVOLUTION }``) become :class:`Layer` records; ``include``/``exclude``
rules are applied for the TEST phase (deploy semantics); old-style net inputs
(``input:`` with ``input_dim:`` or ``input_shape``) become :class:`NetInput` records.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from mo.errors import InputError, OptionError

log = logging.getLogger("mo.frontends.caffe")

# V1LayerParameter.LayerType numbers -> the layer type strings of the current form
V1_TYPE_NAMES = {
    0: "None", 35: "AbsVal", 1: "Accuracy", 30: "ArgMax", 2: "BNLL", 3: "Concat", 37: "ContrastiveLoss",
    4: "Convolution", 5: "Data", 39: "Deconvolution", 6: "Dropout", 32: "DummyData", 7: "EuclideanLoss",
    25: "Eltwise", 38: "Exp", 8: "Flatten", 9: "HDF5Data", 10: "HDF5Output", 28: "HingeLoss", 11: "Im2col",
    12: "ImageData", 13: "InfogainLoss", 14: "InnerProduct", 15: "LRN", 29: "MemoryData",
    16: "MultinomialLogisticLoss", 34: "MVN", 17: "Pooling", 26: "Power", 18: "ReLU", 19: "Sigmoid",
    27: "SigmoidCrossEntropyLoss", 36: "Silence", 20: "Softmax", 21: "SoftmaxWithLoss", 22: "Split", 33: "Slice",
    23: "TanH", 24: "WindowData", 31: "Threshold",
}

# layer type -> the LayerParameter field holding its parameters
PARAM_FIELDS = {
    "Convolution": "convolution_param", "Deconvolution": "convolution_param", "Pooling": "pooling_param",
    "InnerProduct": "inner_product_param", "ReLU": "relu_param", "PReLU": "prelu_param", "ELU": "elu_param",
    "Power": "power_param", "Exp": "exp_param", "Log": "log_param", "Threshold": "threshold_param",
    "BatchNorm": "batch_norm_param", "Scale": "scale_param", "Bias": "bias_param", "Eltwise": "eltwise_param",
    "Concat": "concat_param", "Slice": "slice_param", "Flatten": "flatten_param", "Reshape": "reshape_param",
    "Permute": "permute_param", "Softmax": "softmax_param", "LRN": "lrn_param", "MVN": "mvn_param",
    "Normalize": "norm_param", "Dropout": "dropout_param", "Crop": "crop_param", "ArgMax": "argmax_param",
    "Reduction": "reduction_param", "Tile": "tile_param", "Interp": "interp_param",
    "ShuffleChannel": "shuffle_channel_param", "PriorBox": "prior_box_param",
    "PriorBoxClustered": "prior_box_clustered_param", "DetectionOutput": "detection_output_param",
    "Proposal": "proposal_param", "ROIPooling": "roi_pooling_param", "PSROIPooling": "psroi_pooling_param",
    "Input": "input_param", "Python": "python_param", "Clip": "clip_param", "Swish": "swish_param",
    "GRN": "grn_param", "RegionYolo": "region_yolo_param", "ReorgYolo": "reorg_yolo_param",
    "CTCGreedyDecoder": "ctc_decoder_param", "ReLU6": "relu6_param", "Sigmoid": "sigmoid_param",
    "TanH": "tanh_param", "SPP": "spp_param", "Embed": "embed_param", "MemoryData": "memory_data_param",
    "DummyData": "dummy_data_param", "BN": "bn_param",
}

# layers whose tops are net inputs (their data comes from a database or a file at training time)
DATA_LAYERS = frozenset({"Data", "ImageData", "HDF5Data", "WindowData", "MemoryData", "DummyData",
                         "AnnotatedData", "VideoData"})
# layers that compute nothing at inference: training losses, metrics, sinks
DROPPED_LAYERS = frozenset({"Accuracy", "SoftmaxWithLoss", "EuclideanLoss", "HingeLoss", "InfogainLoss",
                            "MultinomialLogisticLoss", "SigmoidCrossEntropyLoss", "ContrastiveLoss",
                            "MultiBoxLoss", "SmoothL1Loss", "Silence", "HDF5Output", "DetectionEvaluate"})


@dataclass(slots=True)
class Layer:
    name: str
    type: str
    bottoms: list[str]
    tops: list[str]
    msg: Any              # the LayerParameter or V1LayerParameter message
    index: int            # position in the prototxt

    @property
    def param(self) -> Any:
        """The layer's own parameter message (its defaults when absent), or None."""
        f = PARAM_FIELDS.get(self.type)
        if f is None or f not in self.msg.DESCRIPTOR.fields_by_name:
            return None
        return getattr(self.msg, f)

    def has(self, field_name: str) -> bool:
        return field_name in self.msg.DESCRIPTOR.fields_by_name and self.msg.HasField(field_name)


@dataclass(slots=True)
class NetInput:
    name: str
    shape: tuple[int, ...] | None


@dataclass(slots=True)
class Net:
    path: str
    name: str
    inputs: list[NetInput] = field(default_factory=list)
    layers: list[Layer] = field(default_factory=list)


def caffe_pb2():
    """The generated schema module; a protobuf runtime it cannot run on is a clear error."""
    try:
        from . import caffe_pb2 as pb
    except ImportError as e:
        raise OptionError(f"the Caffe frontend needs the protobuf runtime: pip install 'mo[caffe]' ({e})") from None
    except Exception as e:  # noqa: BLE001  (protobuf's VersionError: gencode newer than the runtime)
        raise OptionError(f"the Caffe frontend's schema does not load with the installed protobuf: {e}; "
                          f"pip install -U 'protobuf>=7.35' or regenerate it with scripts/gen_caffe_proto.sh") \
            from None
    return pb


def parse_prototxt(path: str):
    """The NetParameter of a text .prototxt; syntax errors name the line and column."""
    from google.protobuf import text_format

    pb = caffe_pb2()
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8")
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text .prototxt (not UTF-8); a binary .caffemodel goes after "
                         f"--input_proto deploy.prototxt") from None
    net = pb.NetParameter()
    try:
        try:
            text_format.Parse(text, net)
        except text_format.ParseError as e:
            if "has no field named" not in str(e):
                raise
            # a fork's extra field: parse again without it, and say so
            net = pb.NetParameter()
            text_format.Parse(text, net, allow_unknown_field=True)
            log.warning("%s: %s; fields mo's schema does not know were ignored (if one of them changes what "
                        "a layer computes, the IR will differ from the model)", path, e)
    except text_format.ParseError as e:
        line, col = e.GetLine(), e.GetColumn()
        msg = str(e)
        if line is not None and msg.startswith(f"{line}:"):
            msg = msg.split(":", 2)[-1].strip()
            msg = msg.lstrip(": ")
        where = f"{path}:{line}:{col}" if line is not None else path
        raise InputError(f"{where}: prototxt syntax error: {msg}") from None
    return net


def _rule_met(rule, phase: int, level: int, stages: set[str]) -> bool:
    """Caffe's NetStateRule test against the net state (phase, level, stages)."""
    if rule.HasField("phase") and rule.phase != phase:
        return False
    if rule.HasField("min_level") and level < rule.min_level:
        return False
    if rule.HasField("max_level") and level > rule.max_level:
        return False
    if any(s not in stages for s in rule.stage):
        return False
    if any(s in stages for s in rule.not_stage):
        return False
    return True


def included(msg, phase: int, level: int, stages: set[str]) -> bool:
    if msg.include:
        return any(_rule_met(r, phase, level, stages) for r in msg.include)
    return not any(_rule_met(r, phase, level, stages) for r in msg.exclude)


def read_net(path: str) -> Net:
    """The TEST-phase network of a prototxt."""
    pb = caffe_pb2()
    proto = parse_prototxt(path)
    if proto.layer and proto.layers:
        raise InputError(f"{path}: mixes 'layer {{' and legacy 'layers {{' entries; use one form")
    net = Net(path, proto.name)
    phase = pb.TEST
    level = proto.state.level if proto.HasField("state") else 0
    stages = set(proto.state.stage) if proto.HasField("state") else set()

    # old-style inputs: input: "data" + input_dim (4 per input) or input_shape { dim }
    names = list(proto.input)
    if proto.input_shape and len(proto.input_shape) != len(names):
        raise InputError(f"{path}: {len(names)} input(s) but {len(proto.input_shape)} input_shape entries")
    if proto.input_dim and len(proto.input_dim) != 4 * len(names):
        raise InputError(f"{path}: {len(names)} input(s) take {4 * len(names)} input_dim values, "
                         f"the file has {len(proto.input_dim)}")
    for i, n in enumerate(names):
        if proto.input_shape:
            shape = tuple(int(d) for d in proto.input_shape[i].dim)
        elif proto.input_dim:
            shape = tuple(int(d) for d in proto.input_dim[4 * i:4 * i + 4])
        else:
            shape = None
        net.inputs.append(NetInput(n, shape))

    if proto.layers:
        for i, m in enumerate(proto.layers):
            if not included(m, phase, level, stages):
                continue
            net.layers.append(Layer(m.name, V1_TYPE_NAMES.get(m.type, str(m.type)), list(m.bottom), list(m.top),
                                    m, i))
    else:
        for i, m in enumerate(proto.layer):
            if not included(m, phase, level, stages):
                continue
            net.layers.append(Layer(m.name, m.type, list(m.bottom), list(m.top), m, i))
    if not net.layers and not net.inputs:
        raise InputError(f"{path}: the prototxt defines no layers")
    return net
