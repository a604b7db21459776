"""Run in the mxnet side environment: Gluon model-zoo networks with seeded random weights,
exported as symbol + params, with one seeded input and mxnet's output for it.

Usage: python make_zoo.py OUT_DIR  ->  OUT_DIR/<net>-symbol.json, <net>-0000.params,
<net>-input.npy, <net>-output.npy
"""
import sys

import mxnet as mx
import numpy as np
from mxnet.gluon.model_zoo import vision

NETS = {"resnet18_v1": 224, "resnet50_v2": 224, "mobilenet1.0": 224, "mobilenetv2_1.0": 224,
        "squeezenet1.1": 224, "vgg11_bn": 224, "densenet121": 224, "inceptionv3": 299, "alexnet": 224}


def randomize(net, rng):
    """Weights ~ scaled normal; BatchNorm statistics and affine terms away from identity."""
    for name, p in sorted(net.collect_params().items()):
        shape = p.shape
        if name.endswith("running_mean"):
            v = rng.normal(0, 0.1, shape)
        elif name.endswith("running_var"):
            v = rng.uniform(0.5, 1.5, shape)
        elif name.endswith("gamma"):
            v = rng.uniform(0.5, 1.5, shape)
        elif name.endswith("beta") or name.endswith("bias"):
            v = rng.normal(0, 0.1, shape)
        else:
            fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
            v = rng.normal(0, np.sqrt(2.0 / max(fan_in, 1)), shape)
        p.set_data(mx.nd.array(v.astype(np.float32)))


class SSDHead(mx.gluon.HybridBlock):
    """A GluonCV-style SSD: two feature scales, per-scale class/box convolutions, anchors from
    MultiBoxPrior, softmax over classes and MultiBoxDetection."""

    def __init__(self, classes=3, **kw):
        super().__init__(**kw)
        self.classes = classes
        self.sizes = [(0.2, 0.272), (0.37, 0.447)]
        self.ratios = [(1, 2, 0.5), (1, 2, 0.5)]
        with self.name_scope():
            nn = mx.gluon.nn
            self.stage1 = nn.HybridSequential()
            self.stage1.add(nn.Conv2D(16, 3, strides=2, padding=1), nn.BatchNorm(), nn.Activation("relu"),
                            nn.Conv2D(32, 3, strides=2, padding=1), nn.BatchNorm(), nn.Activation("relu"),
                            nn.MaxPool2D(2))
            self.stage2 = nn.HybridSequential()
            self.stage2.add(nn.Conv2D(32, 3, strides=2, padding=1), nn.Activation("relu"))
            anchors = [len(sz) + len(r) - 1 for sz, r in zip(self.sizes, self.ratios)]
            self.cls = nn.HybridSequential()
            self.box = nn.HybridSequential()
            for a in anchors:
                self.cls.add(nn.Conv2D(a * (classes + 1), 3, padding=1))
                self.box.add(nn.Conv2D(a * 4, 3, padding=1))

    def hybrid_forward(self, F, x):
        f1 = self.stage1(x)
        f2 = self.stage2(f1)
        cls, box, anchors = [], [], []
        for k, f in enumerate((f1, f2)):
            cls.append(F.flatten(F.transpose(self.cls[k](f), axes=(0, 2, 3, 1))))
            box.append(F.flatten(F.transpose(self.box[k](f), axes=(0, 2, 3, 1))))
            anchors.append(F.contrib.MultiBoxPrior(f, sizes=self.sizes[k], ratios=self.ratios[k], clip=False))
        cls = F.reshape(F.concat(*cls, dim=1), (0, -1, self.classes + 1))
        box = F.concat(*box, dim=1)
        anchors = F.concat(*anchors, dim=1)
        prob = F.transpose(F.softmax(cls, axis=-1), axes=(0, 2, 1))
        return F.contrib.MultiBoxDetection(prob, box * 0.3, anchors, threshold=0.2, nms_threshold=0.45,
                                           clip=True)


class FCNHead(mx.gluon.HybridBlock):
    """A GluonCV-style segmentation head on ResNet-18 features, resized to the input with BilinearResize2D."""

    def __init__(self, classes=5, **kw):
        super().__init__(**kw)
        with self.name_scope():
            nn = mx.gluon.nn
            self.features = vision.resnet18_v1().features[:6]
            self.head = nn.HybridSequential()
            self.head.add(nn.Conv2D(32, 3, padding=1, use_bias=False), nn.BatchNorm(), nn.Activation("relu"),
                          nn.Dropout(0.1), nn.Conv2D(classes, 1))

    def hybrid_forward(self, F, x):
        y = self.head(self.features(x))
        return F.contrib.BilinearResize2D(y, like=x, mode="like", align_corners=True)


class TextLSTM(mx.gluon.HybridBlock):
    """Embedding -> 2-layer bidirectional LSTM (Gluon's rnn layer, begin state made inside) -> Dense per step."""

    def __init__(self, **kw):
        super().__init__(**kw)
        with self.name_scope():
            self.embed = mx.gluon.nn.Embedding(50, 8)
            self.lstm = mx.gluon.rnn.LSTM(12, num_layers=2, bidirectional=True, layout="NTC")
            self.out = mx.gluon.nn.Dense(4, flatten=False)

    def hybrid_forward(self, F, x):
        return self.out(self.lstm(self.embed(x)))


HEADS = {"ssd_head": (SSDHead, (1, 3, 128, 128)), "fcn_head": (FCNHead, (1, 3, 96, 112)),
         "text_lstm": (TextLSTM, (2, 7))}


def heads(out):
    for i, (name, (cls, shape)) in enumerate(HEADS.items()):
        rng = np.random.default_rng(200 + i)
        net = cls()
        net.initialize(mx.init.Xavier())
        net.hybridize()
        if name == "text_lstm":
            x = rng.integers(0, 50, shape).astype(np.float32)
        else:
            x = rng.standard_normal(shape).astype(np.float32)
        net(mx.nd.array(x))
        randomize(net, rng)
        y = net(mx.nd.array(x)).asnumpy()
        net.export(f"{out}/{name}")
        np.save(f"{out}/{name}-input.npy", x)
        np.save(f"{out}/{name}-output.npy", y)
        print(name, y.shape, flush=True)


def main(out):
    for i, (name, size) in enumerate(NETS.items()):
        rng = np.random.default_rng(100 + i)
        net = vision.get_model(name, pretrained=False)
        net.initialize(mx.init.Xavier())
        net.hybridize()
        x = rng.standard_normal((1, 3, size, size)).astype(np.float32)
        net(mx.nd.array(x))            # materializes deferred shapes
        randomize(net, rng)
        y = net(mx.nd.array(x)).asnumpy()
        net.export(f"{out}/{name}")
        np.save(f"{out}/{name}-input.npy", x)
        np.save(f"{out}/{name}-output.npy", y)
        print(name, y.shape, float(np.abs(y).max()), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
    heads(sys.argv[1])
