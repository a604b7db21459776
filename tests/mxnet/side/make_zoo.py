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
