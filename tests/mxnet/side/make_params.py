"""Run in the mxnet side environment: NDArray list files of every dense element type, an
unnamed list, sparse arrays, and a pre-1.0 ("param"/"attr" keys, no version) symbol with
mxnet's output for it.

Usage: python make_params.py OUT_DIR
"""
import json
import sys

import mxnet as mx
import numpy as np

rng = np.random.default_rng(3)


def main(out):
    arrays = {
        "arg:f32": rng.standard_normal((2, 3)).astype(np.float32),
        "arg:f16": rng.standard_normal((4,)).astype(np.float16),
        "arg:f64": rng.standard_normal((2, 2, 2)).astype(np.float64),
        "aux:i8": rng.integers(-100, 100, (5,)).astype(np.int8),
        "aux:u8": rng.integers(0, 255, (3, 1)).astype(np.uint8),
        "arg:i32": rng.integers(-1000, 1000, (7,)).astype(np.int32),
        "arg:i64": rng.integers(-10 ** 12, 10 ** 12, (2, 3)).astype(np.int64),
        "arg:empty": np.zeros((0, 3), np.float32),
    }
    mx.nd.save(f"{out}/dtypes.params", {k: mx.nd.array(v, dtype=v.dtype) for k, v in arrays.items()})
    np.savez(f"{out}/dtypes.npz", **{k.replace(":", "_"): v for k, v in arrays.items()})
    mx.nd.save(f"{out}/list.params", [mx.nd.array(arrays["arg:f32"]), mx.nd.array(arrays["arg:i32"], dtype="int32")])
    dense = mx.nd.array(np.eye(4, dtype=np.float32))
    mx.nd.save(f"{out}/row_sparse.params", {"arg:w": dense.tostype("row_sparse")})
    mx.nd.save(f"{out}/csr.params", {"arg:w": dense.tostype("csr")})

    # a small network saved in the pre-1.0 JSON form
    d = mx.sym.var("data")
    net = mx.sym.Convolution_v1(d, kernel=(3, 3), num_filter=4, pad=(1, 1), name="conv")
    net = mx.sym.BatchNorm_v1(net, fix_gamma=False, name="bn")
    net = mx.sym.Activation(net, act_type="relu", name="relu")
    net = mx.sym.ElementWiseSum(net, mx.sym._internal._MulScalar(net, scalar=0.5), name="sum")
    net = mx.sym.Pooling_v1(net, kernel=(2, 2), stride=(2, 2), pool_type="max", name="pool")
    net = mx.sym.FullyConnected(net, num_hidden=3, name="fc")
    net = mx.sym.SoftmaxOutput(net, name="softmax")
    doc = json.loads(net.tojson())
    for node in doc["nodes"]:
        attrs = node.pop("attrs", None)
        if attrs is not None:
            node["param"] = {k: v for k, v in attrs.items() if not k.startswith("__")}
            node["attr"] = {k: v for k, v in attrs.items() if k.startswith("__")}
            if node["op"] == "Convolution_v1":   # user attributes of old files, next to the op's
                node["attr"].update(lr_mult="0.5", ctx_group="dev1")
        node["backward_source_id"] = -1
    doc.pop("attrs", None)
    legacy = json.dumps(doc, indent=2)
    with open(f"{out}/legacy-symbol.json", "w") as f:
        f.write(legacy)
    sym = mx.sym.load(f"{out}/legacy-symbol.json")
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    arg_shapes, _, aux_shapes = sym.infer_shape(data=x.shape)
    args, aux = {}, {}
    for name, shape in zip(sym.list_arguments(), arg_shapes):
        if name not in ("data", "softmax_label"):
            args[name] = mx.nd.array(rng.standard_normal(shape).astype(np.float32) * 0.3)
    for name, shape in zip(sym.list_auxiliary_states(), aux_shapes):
        v = rng.uniform(0.5, 1.5, shape) if name.endswith("var") else rng.standard_normal(shape) * 0.1
        aux[name] = mx.nd.array(v.astype(np.float32))
    exe = sym.bind(mx.cpu(), args={**args, "data": mx.nd.array(x), "softmax_label": mx.nd.zeros((2,))},
                   aux_states=aux, grad_req="null")
    y = exe.forward(is_train=False)[0].asnumpy()
    saved = {f"arg:{k}": v for k, v in args.items()}
    saved.update({f"aux:{k}": v for k, v in aux.items()})
    mx.nd.save(f"{out}/legacy-0000.params", saved)
    np.savez(f"{out}/legacy-io.npz", x=x, y=y)


if __name__ == "__main__":
    main(sys.argv[1])
