"""Whole networks written like the well-known Caffe deploy prototxts (BVLC AlexNet and GoogLeNet,
KaimingHe's ResNet-50, SqueezeNet 1.1, shicai's MobileNet v1/v2, VGG16, an SSD300-style head,
FCN-32s): the same layer names, layer types, kernels, strides, pads, groups, in-place blobs,
param blocks and input headers as the originals, with channel widths divided by ``div`` and a
small input so that random-weight tests run in seconds."""
from __future__ import annotations


class Proto:
    """Accumulates prototxt text in the originals' layout."""

    def __init__(self, name: str) -> None:
        self.lines = [f'name: "{name}"']

    def header_input_dim(self, shape, blob: str = "data") -> None:
        self.lines.append(f'input: "{blob}"')
        self.lines += [f"input_dim: {d}" for d in shape]

    def header_input_shape(self, shape, blob: str = "data") -> None:
        self.lines.append(f'input: "{blob}"')
        self.lines.append("input_shape {\n" + "".join(f"  dim: {d}\n" for d in shape) + "}")

    def input_layer(self, shape, blob: str = "data") -> None:
        dims = " ".join(f"dim: {d}" for d in shape)
        self.add(blob, "Input", [], [blob], f"input_param {{ shape: {{ {dims} }} }}")

    def add(self, name: str, type_: str, bottoms, tops, body: str = "") -> None:
        b = "".join(f'  bottom: "{x}"\n' for x in bottoms)
        t = "".join(f'  top: "{x}"\n' for x in tops)
        self.lines.append(f'layer {{\n  name: "{name}"\n  type: "{type_}"\n{b}{t}{body}\n}}')

    def conv(self, name, bottom, n, k, s=1, p=0, group=1, bias=True, top=None, filler=True, extra=""):
        params = "  param {\n    lr_mult: 1\n    decay_mult: 1\n  }\n" + \
            ("  param {\n    lr_mult: 2\n    decay_mult: 0\n  }\n" if bias else "")
        opts = f"    num_output: {n}\n" + (f"    pad: {p}\n" if p else "") + f"    kernel_size: {k}\n" + \
            (f"    stride: {s}\n" if s != 1 else "") + (f"    group: {group}\n" if group != 1 else "") + \
            ("" if bias else "    bias_term: false\n") + extra + \
            ('    weight_filler {\n      type: "xavier"\n    }\n' if filler else "") + \
            ('    bias_filler {\n      type: "constant"\n      value: 0.2\n    }\n' if filler and bias else "")
        self.add(name, "Convolution", [bottom], [top or name], params + "  convolution_param {\n" + opts + "  }")

    def relu(self, name, blob):
        self.add(name, "ReLU", [blob], [blob])

    def pool(self, name, bottom, kind, k=None, s=1, p=0, global_=False, top=None):
        opts = f"    pool: {kind}\n" + ("    global_pooling: true\n" if global_ else
                                         f"    kernel_size: {k}\n    stride: {s}\n" + (f"    pad: {p}\n" if p else ""))
        self.add(name, "Pooling", [bottom], [top or name], "  pooling_param {\n" + opts + "  }")

    def lrn(self, name, bottom, size=5, alpha=0.0001, beta=0.75):
        self.add(name, "LRN", [bottom], [name],
                 f"  lrn_param {{\n    local_size: {size}\n    alpha: {alpha}\n    beta: {beta}\n  }}")

    def fc(self, name, bottom, n):
        self.add(name, "InnerProduct", [bottom], [name],
                 "  param {\n    lr_mult: 1\n    decay_mult: 1\n  }\n  param {\n    lr_mult: 2\n    decay_mult: 0\n  }\n"
                 f"  inner_product_param {{\n    num_output: {n}\n    weight_filler {{\n      type: \"gaussian\"\n"
                 "      std: 0.005\n    }\n    bias_filler {\n      type: \"constant\"\n      value: 0.1\n    }\n  }")

    def dropout(self, name, blob, ratio=0.5):
        self.add(name, "Dropout", [blob], [blob], f"  dropout_param {{\n    dropout_ratio: {ratio}\n  }}")

    def bn_scale(self, bn, scale, blob):
        self.add(bn, "BatchNorm", [blob], [blob], "  batch_norm_param {\n    use_global_stats: true\n  }")
        self.add(scale, "Scale", [blob], [blob], "  scale_param {\n    bias_term: true\n  }")

    def softmax(self, name, bottom):
        self.add(name, "Softmax", [bottom], [name])

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def alexnet(div: int = 4, size: int = 227) -> str:
    """BVLC AlexNet deploy: old-style input, grouped convolutions, LRN, in-place ReLU/Dropout."""
    P = Proto("AlexNet")
    P.header_input_dim((1, 3, size, size))
    P.conv("conv1", "data", 96 // div, 11, s=4)
    P.relu("relu1", "conv1")
    P.lrn("norm1", "conv1")
    P.pool("pool1", "norm1", "MAX", 3, 2)
    P.conv("conv2", "pool1", 256 // div, 5, p=2, group=2)
    P.relu("relu2", "conv2")
    P.lrn("norm2", "conv2")
    P.pool("pool2", "norm2", "MAX", 3, 2)
    P.conv("conv3", "pool2", 384 // div, 3, p=1)
    P.relu("relu3", "conv3")
    P.conv("conv4", "conv3", 384 // div, 3, p=1, group=2)
    P.relu("relu4", "conv4")
    P.conv("conv5", "conv4", 256 // div, 3, p=1, group=2)
    P.relu("relu5", "conv5")
    P.pool("pool5", "conv5", "MAX", 3, 2)
    P.fc("fc6", "pool5", 4096 // (div * 8))
    P.relu("relu6", "fc6")
    P.dropout("drop6", "fc6")
    P.fc("fc7", "fc6", 4096 // (div * 8))
    P.relu("relu7", "fc7")
    P.dropout("drop7", "fc7")
    P.fc("fc8", "fc7", 1000 // div)
    P.softmax("prob", "fc8")
    return P.text()


def vgg16(div: int = 8, size: int = 64) -> str:
    """VGG_ILSVRC_16_layers deploy, in its legacy V1 form (``layers { type: CONVOLUTION }``, the
    original file's): old-style input, 13 3x3 convs, 5 max pools, 3 FCs, in-place dropout."""
    out = ['name: "VGG_ILSVRC_16_layers"', 'input: "data"'] + [f"input_dim: {d}" for d in (1, 3, size, size)]

    def layer(name, type_, bottom, top, body=""):
        out.append(f'layers {{\n  bottom: "{bottom}"\n  top: "{top}"\n  name: "{name}"\n  type: {type_}\n{body}}}')

    blob = "data"
    for stage, (n, reps) in enumerate([(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)], start=1):
        for r in range(1, reps + 1):
            name = f"conv{stage}_{r}"
            layer(name, "CONVOLUTION", blob, name,
                  f"  convolution_param {{\n    num_output: {n // div}\n    pad: 1\n    kernel_size: 3\n  }}\n")
            layer(f"relu{stage}_{r}", "RELU", name, name)
            blob = name
        layer(f"pool{stage}", "POOLING", blob, f"pool{stage}",
              "  pooling_param {\n    pool: MAX\n    kernel_size: 2\n    stride: 2\n  }\n")
        blob = f"pool{stage}"
    for name, bottom, n in (("fc6", blob, 4096 // (div * 4)), ("fc7", "fc6", 4096 // (div * 4)), ("fc8", "fc7", 1000 // div)):
        layer(name, "INNER_PRODUCT", bottom, name, f"  inner_product_param {{\n    num_output: {n}\n  }}\n")
        if name != "fc8":
            layer(f"relu{name[2:]}", "RELU", name, name)
            layer(f"drop{name[2:]}", "DROPOUT", name, name, "  dropout_param {\n    dropout_ratio: 0.5\n  }\n")
    layer("prob", "SOFTMAX", "fc8", "prob")
    return "\n".join(out) + "\n"


def googlenet(div: int = 4, size: int = 224) -> str:
    """BVLC GoogLeNet deploy: Input layer, LRN, inception modules (Concat), ceil pooling, dropout."""
    P = Proto("GoogleNet")
    P.input_layer((1, 3, size, size))
    P.conv("conv1/7x7_s2", "data", 64 // div, 7, s=2, p=3)
    P.relu("conv1/relu_7x7", "conv1/7x7_s2")
    P.pool("pool1/3x3_s2", "conv1/7x7_s2", "MAX", 3, 2)
    P.lrn("pool1/norm1", "pool1/3x3_s2")
    P.conv("conv2/3x3_reduce", "pool1/norm1", 64 // div, 1)
    P.relu("conv2/relu_3x3_reduce", "conv2/3x3_reduce")
    P.conv("conv2/3x3", "conv2/3x3_reduce", 192 // div, 3, p=1)
    P.relu("conv2/relu_3x3", "conv2/3x3")
    P.lrn("conv2/norm2", "conv2/3x3")
    P.pool("pool2/3x3_s2", "conv2/norm2", "MAX", 3, 2)
    blob = "pool2/3x3_s2"

    def inception(name, bottom, c1, c3r, c3, c5r, c5, pp):
        P.conv(f"{name}/1x1", bottom, c1 // div, 1)
        P.relu(f"{name}/relu_1x1", f"{name}/1x1")
        P.conv(f"{name}/3x3_reduce", bottom, c3r // div, 1)
        P.relu(f"{name}/relu_3x3_reduce", f"{name}/3x3_reduce")
        P.conv(f"{name}/3x3", f"{name}/3x3_reduce", c3 // div, 3, p=1)
        P.relu(f"{name}/relu_3x3", f"{name}/3x3")
        P.conv(f"{name}/5x5_reduce", bottom, c5r // div, 1)
        P.relu(f"{name}/relu_5x5_reduce", f"{name}/5x5_reduce")
        P.conv(f"{name}/5x5", f"{name}/5x5_reduce", c5 // div, 5, p=2)
        P.relu(f"{name}/relu_5x5", f"{name}/5x5")
        P.pool(f"{name}/pool", bottom, "MAX", 3, 1, p=1)
        P.conv(f"{name}/pool_proj", f"{name}/pool", pp // div, 1)
        P.relu(f"{name}/relu_pool_proj", f"{name}/pool_proj")
        P.add(f"{name}/output", "Concat", [f"{name}/1x1", f"{name}/3x3", f"{name}/5x5", f"{name}/pool_proj"],
              [f"{name}/output"])
        return f"{name}/output"

    blob = inception("inception_3a", blob, 64, 96, 128, 16, 32, 32)
    blob = inception("inception_3b", blob, 128, 128, 192, 32, 96, 64)
    P.pool("pool3/3x3_s2", blob, "MAX", 3, 2)
    blob = inception("inception_4a", "pool3/3x3_s2", 192, 96, 208, 16, 48, 64)
    blob = inception("inception_4b", blob, 160, 112, 224, 24, 64, 64)
    blob = inception("inception_4e", blob, 256, 160, 320, 32, 128, 128)
    P.pool("pool4/3x3_s2", blob, "MAX", 3, 2)
    blob = inception("inception_5a", "pool4/3x3_s2", 256, 160, 320, 32, 128, 128)
    blob = inception("inception_5b", blob, 384, 192, 384, 48, 128, 128)
    P.pool("pool5/7x7_s1", blob, "AVE", size // 32, 1)
    P.dropout("pool5/drop_7x7_s1", "pool5/7x7_s1", 0.4)
    P.fc("loss3/classifier", "pool5/7x7_s1", 1000 // div)
    P.softmax("prob", "loss3/classifier")
    return P.text()


def resnet50(div: int = 4, size: int = 224) -> str:
    """KaimingHe's ResNet-50 deploy: old-style input, conv (no bias) + BatchNorm + Scale in place,
    Eltwise shortcuts, ceil max pool, 7x7-style final average pool (here the map's size)."""
    P = Proto("ResNet-50")
    P.header_input_dim((1, 3, size, size))
    P.conv("conv1", "data", 64 // div, 7, s=2, p=3, filler=False)
    P.bn_scale("bn_conv1", "scale_conv1", "conv1")
    P.relu("conv1_relu", "conv1")
    P.pool("pool1", "conv1", "MAX", 3, 2)
    blob = "pool1"
    for stage, (n, blocks) in enumerate([(64, 3), (128, 4), (256, 6), (512, 3)], start=2):
        for b in range(blocks):
            tag = f"{stage}{chr(ord('a') + b)}"
            stride = 2 if b == 0 and stage > 2 else 1
            if b == 0:
                P.conv(f"res{tag}_branch1", blob, 4 * n // div, 1, s=stride, bias=False, filler=False)
                P.bn_scale(f"bn{tag}_branch1", f"scale{tag}_branch1", f"res{tag}_branch1")
                short = f"res{tag}_branch1"
            else:
                short = blob
            P.conv(f"res{tag}_branch2a", blob, n // div, 1, s=stride, bias=False, filler=False)
            P.bn_scale(f"bn{tag}_branch2a", f"scale{tag}_branch2a", f"res{tag}_branch2a")
            P.relu(f"res{tag}_branch2a_relu", f"res{tag}_branch2a")
            P.conv(f"res{tag}_branch2b", f"res{tag}_branch2a", n // div, 3, p=1, bias=False, filler=False)
            P.bn_scale(f"bn{tag}_branch2b", f"scale{tag}_branch2b", f"res{tag}_branch2b")
            P.relu(f"res{tag}_branch2b_relu", f"res{tag}_branch2b")
            P.conv(f"res{tag}_branch2c", f"res{tag}_branch2b", 4 * n // div, 1, bias=False, filler=False)
            P.bn_scale(f"bn{tag}_branch2c", f"scale{tag}_branch2c", f"res{tag}_branch2c")
            P.add(f"res{tag}", "Eltwise", [short, f"res{tag}_branch2c"], [f"res{tag}"])
            P.relu(f"res{tag}_relu", f"res{tag}")
            blob = f"res{tag}"
    P.pool("pool5", blob, "AVE", size // 32, 1)
    P.fc("fc1000", "pool5", 1000 // div)
    P.softmax("prob", "fc1000")
    return P.text()


def squeezenet11(div: int = 2, size: int = 227) -> str:
    """SqueezeNet v1.1 deploy: Input layer, fire modules (squeeze 1x1, expand 1x1 + 3x3, Concat),
    ceil max pools, dropout, conv10 classifier, global average pool, Softmax."""
    P = Proto("squeezenet1.1")
    P.input_layer((1, 3, size, size))
    P.conv("conv1", "data", 64 // div, 3, s=2)
    P.relu("relu_conv1", "conv1")
    P.pool("pool1", "conv1", "MAX", 3, 2)
    blob = "pool1"

    def fire(i, bottom, s, e):
        f = f"fire{i}"
        P.conv(f"{f}/squeeze1x1", bottom, s // div, 1)
        P.relu(f"{f}/relu_squeeze1x1", f"{f}/squeeze1x1")
        P.conv(f"{f}/expand1x1", f"{f}/squeeze1x1", e // div, 1)
        P.relu(f"{f}/relu_expand1x1", f"{f}/expand1x1")
        P.conv(f"{f}/expand3x3", f"{f}/squeeze1x1", e // div, 3, p=1)
        P.relu(f"{f}/relu_expand3x3", f"{f}/expand3x3")
        P.add(f"{f}/concat", "Concat", [f"{f}/expand1x1", f"{f}/expand3x3"], [f"{f}/concat"])
        return f"{f}/concat"

    blob = fire(2, blob, 16, 64)
    blob = fire(3, blob, 16, 64)
    P.pool("pool3", blob, "MAX", 3, 2)
    blob = fire(4, "pool3", 32, 128)
    blob = fire(5, blob, 32, 128)
    P.pool("pool5", blob, "MAX", 3, 2)
    blob = fire(6, "pool5", 48, 192)
    blob = fire(7, blob, 48, 192)
    blob = fire(8, blob, 64, 256)
    blob = fire(9, blob, 64, 256)
    P.dropout("drop9", blob)
    P.conv("conv10", blob, 1000 // div, 1)
    P.relu("relu_conv10", "conv10")
    P.pool("pool10", "conv10", "AVE", global_=True)
    P.softmax("prob", "pool10")
    return P.text()


def mobilenet_v1(div: int = 2, size: int = 224) -> str:
    """shicai's MobileNet v1 deploy: old-style input, depthwise convs (group = channels, engine
    CAFFE), BatchNorm + Scale, fc7 as a 1x1 convolution, global average pool."""
    P = Proto("MOBILENET")
    P.header_input_dim((1, 3, size, size))
    P.conv("conv1", "data", 32 // div, 3, s=2, p=1, bias=False, filler=False)
    P.bn_scale("conv1/bn", "conv1/scale", "conv1")
    P.relu("relu1", "conv1")
    blob, ch = "conv1", 32 // div
    cfg = [("2_1", 64, 1), ("2_2", 128, 2), ("3_1", 128, 1), ("3_2", 256, 2), ("4_1", 256, 1), ("4_2", 512, 2),
           ("5_1", 512, 1), ("5_2", 512, 1), ("5_3", 512, 1), ("5_4", 512, 1), ("5_5", 512, 1), ("5_6", 1024, 2),
           ("6", 1024, 1)]
    for tag, n, s in cfg:
        dw, sep = f"conv{tag}/dw", f"conv{tag}/sep"
        P.conv(dw, blob, ch, 3, s=s, p=1, group=ch, bias=False, filler=False, extra="    engine: CAFFE\n")
        P.bn_scale(f"{dw}/bn", f"{dw}/scale", dw)
        P.relu(f"relu{tag}/dw", dw)
        P.conv(sep, dw, n // div, 1, bias=False, filler=False)
        P.bn_scale(f"{sep}/bn", f"{sep}/scale", sep)
        P.relu(f"relu{tag}/sep", sep)
        blob, ch = sep, n // div
    P.pool("pool6", blob, "AVE", global_=True)
    P.conv("fc7", "pool6", 1000 // div, 1)
    P.softmax("prob", "fc7")
    return P.text()


def mobilenet_v2(div: int = 2, size: int = 224) -> str:
    """shicai's MobileNet v2 deploy: expand 1x1 / depthwise 3x3 / linear 1x1 bottlenecks with
    BatchNorm + Scale and Eltwise residuals, global pool, 1x1-conv classifier."""
    P = Proto("MOBILENET_V2")
    P.header_input_dim((1, 3, size, size))
    P.conv("conv1", "data", 32 // div, 3, s=2, p=1, bias=False, filler=False)
    P.bn_scale("conv1/bn", "conv1/scale", "conv1")
    P.relu("relu1", "conv1")
    blob, ch = "conv1", 32 // div
    cfg = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
    idx = 2
    for t, c, n, s in cfg:
        for r in range(n):
            stride = s if r == 0 else 1
            name = f"conv{idx}_{r + 1}"
            out = max(4, c // div)
            hidden = ch * t
            P.conv(f"{name}/expand", blob, hidden, 1, bias=False, filler=False)
            P.bn_scale(f"{name}/expand/bn", f"{name}/expand/scale", f"{name}/expand")
            P.relu(f"relu{idx}_{r + 1}/expand", f"{name}/expand")
            P.conv(f"{name}/dwise", f"{name}/expand", hidden, 3, s=stride, p=1, group=hidden, bias=False,
                   filler=False, extra="    engine: CAFFE\n")
            P.bn_scale(f"{name}/dwise/bn", f"{name}/dwise/scale", f"{name}/dwise")
            P.relu(f"relu{idx}_{r + 1}/dwise", f"{name}/dwise")
            P.conv(f"{name}/linear", f"{name}/dwise", out, 1, bias=False, filler=False)
            P.bn_scale(f"{name}/linear/bn", f"{name}/linear/scale", f"{name}/linear")
            if stride == 1 and ch == out:
                P.add(f"block_{idx}_{r + 1}", "Eltwise", [blob, f"{name}/linear"], [f"block_{idx}_{r + 1}"])
                blob = f"block_{idx}_{r + 1}"
            else:
                blob = f"{name}/linear"
            ch = out
        idx += 1
    P.conv("conv6_4", blob, 1280 // div, 1, bias=False, filler=False)
    P.bn_scale("conv6_4/bn", "conv6_4/scale", "conv6_4")
    P.relu("relu6_4", "conv6_4")
    P.pool("pool6", "conv6_4", "AVE", global_=True)
    P.conv("fc7", "pool6", 1000 // div, 1)
    P.softmax("prob", "fc7")
    return P.text()


def fcn32s(div: int = 8, size: int = 64, classes: int = 21) -> str:
    """FCN-32s deploy: Input layer, VGG16 body with pad 100 on conv1_1, fc6/fc7 as convolutions,
    score_fr, a 64x64 stride-32 Deconvolution without bias, Crop to the input (axis 2, offset 19)."""
    P = Proto("FCN32s")
    P.input_layer((1, 3, size, size))
    blob = "data"
    for stage, (n, reps) in enumerate([(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)], start=1):
        for r in range(1, reps + 1):
            name = f"conv{stage}_{r}"
            P.conv(name, blob, n // div, 3, p=100 if name == "conv1_1" else 1)
            P.relu(f"relu{stage}_{r}", name)
            blob = name
        P.pool(f"pool{stage}", blob, "MAX", 2, 2)
        blob = f"pool{stage}"
    P.conv("fc6", blob, 4096 // (div * 8), 7)
    P.relu("relu6", "fc6")
    P.dropout("drop6", "fc6")
    P.conv("fc7", "fc6", 4096 // (div * 8), 1)
    P.relu("relu7", "fc7")
    P.dropout("drop7", "fc7")
    P.conv("score_fr", "fc7", classes, 1)
    P.add("upscore", "Deconvolution", ["score_fr"], ["upscore"],
          "  param {\n    lr_mult: 0\n  }\n  convolution_param {\n"
          f"    num_output: {classes}\n    bias_term: false\n    kernel_size: 64\n    stride: 32\n  }}")
    P.add("score", "Crop", ["upscore", "data"], ["score"], "  crop_param {\n    axis: 2\n    offset: 19\n  }")
    return P.text()


NETS = {"alexnet": alexnet, "googlenet": googlenet, "resnet50": resnet50, "squeezenet1.1": squeezenet11,
        "mobilenet_v1": mobilenet_v1, "mobilenet_v2": mobilenet_v2, "vgg16": vgg16, "fcn32s": fcn32s}
