"""Test helpers: write a deploy .prototxt and a .caffemodel with random weights (through mo's own
schema), convert with mo, run the IR in OpenVINO and the model in OpenCV's dnn module."""
from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import numpy as np

import mo
from mo.frontends.caffe import caffe_pb2 as pb
from mo.frontends.caffe.layers import Layer
from mo.tensor import ArrayTensor, Tensor
from mo.frontends.caffe.layers import read_net
from mo.frontends.caffe.loader import convert_net
from mo.options import ConvertOptions

from ..runtime import ov_infer


class RandomBlobs:  # a BlobSource (mo.frontends.caffe.context)
    """Seeded random blobs of the shapes the layers ask for; ``made`` keeps them by layer name
    (tests write them into a .caffemodel)."""

    def __init__(self, seed: int = 0, scale: float = 0.5) -> None:
        self.rng = np.random.default_rng(seed)
        self.scale = scale
        self.made: dict[str, dict[int, np.ndarray]] = {}

    def blob(self, layer: Layer, index: int, shape: tuple[int, ...], kind: str) -> Tensor:
        got = self.made.setdefault(layer.name, {})
        if index not in got:
            if kind == "variance":
                a = self.rng.uniform(0.5, 1.5, shape)
            elif kind == "positive":
                a = self.rng.uniform(0.5, 1.5, shape)
            elif kind == "factor":
                a = np.full(shape, self.rng.uniform(0.5, 2.0))
            elif kind == "weights":
                fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
                a = self.rng.standard_normal(shape) * np.sqrt(2.0 / max(1, fan_in))
            else:
                a = self.rng.standard_normal(shape) * self.scale
            got[index] = a.astype(np.float32)
        return ArrayTensor(got[index])


def write_caffemodel(path: Path, blobs: dict[str, dict[int, np.ndarray]], types: dict[str, str],
                     v1: bool = False, legacy_shapes: bool = False, double: bool = False, name: str = "") -> None:
    """A NetParameter holding the net's name and each layer's name, type and blobs (what mo and
    OpenCV read); ``types`` gives the layers in net order."""
    net = pb.NetParameter()
    if name:
        net.name = name
    for name in types:
        if v1:
            layer = net.layers.add()
            layer.name = name
            layer.type = pb.V1LayerParameter.LayerType.Value(types[name])
        else:
            layer = net.layer.add()
            layer.name = name
            layer.type = types[name]
        for i in sorted(blobs.get(name, {})):
            a = np.asarray(blobs[name][i])
            b = layer.blobs.add()
            if legacy_shapes:
                dims = (1,) * (4 - a.ndim) + a.shape
                b.num, b.channels, b.height, b.width = (int(d) for d in dims)
            else:
                b.shape.dim.extend(int(d) for d in a.shape)
            if double:
                b.double_data.extend(a.astype(np.float64).reshape(-1).tolist())
            else:
                b.data.extend(a.astype(np.float32).reshape(-1).tolist())
    path.write_bytes(net.SerializeToString())


def make_model(tmp_path: Path, prototxt: str, seed: int = 0, name: str = "model", input_shape: str | None = None,
               **write) -> tuple[Path, Path]:
    """deploy.prototxt + model.caffemodel with seeded random blobs of the shapes the layers need
    (``input_shape`` for nets whose data layers state none)."""
    proto = tmp_path / f"{name}.prototxt"
    proto.write_text(dedent(prototxt))
    net = read_net(str(proto))
    random = RandomBlobs(seed)
    convert_net(net, random, ConvertOptions.from_kwargs(str(proto), input_shape=input_shape))
    types = {}
    for la in net.layers:
        types[la.name] = la.type if not write.get("v1") else pb.V1LayerParameter.LayerType.Name(la.msg.type)
    weights = tmp_path / f"{name}.caffemodel"
    write_caffemodel(weights, random.made, types, name=net.name, **write)
    return proto, weights


def output_layers(proto: Path) -> dict[str, str]:
    """Output blob -> the last layer writing it (OpenCV's forward takes layer names)."""
    net = read_net(str(proto))
    last = {}
    for la in net.layers:
        for t in la.tops:
            last[t] = la.name
    return last


def convert(proto: Path, weights: Path, tmp_path: Path, **options) -> tuple[Path, mo.Graph]:
    graph = mo.convert(weights, input_proto=str(proto), **options)
    graph.check()
    xml = tmp_path / "ir" / f"{proto.stem}.xml"
    mo.save(graph, xml)
    return xml, graph


def opencv_run(proto: Path, weights: Path, feeds: dict[str, np.ndarray], outputs: list[str]) -> dict[str, np.ndarray]:
    import cv2

    net = cv2.dnn.readNetFromCaffe(str(proto), str(weights))
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    for k, v in feeds.items():
        net.setInput(np.ascontiguousarray(v), k)
    last = output_layers(proto)
    layers = [last.get(o, o) for o in outputs]
    res = net.forward(layers)
    return {o: np.asarray(r) for o, r in zip(outputs, res)}


def random_feeds(graph: mo.Graph, seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {p.outputs[0].name: rng.standard_normal(p.outputs[0].shape).astype(np.float32) for p in graph.parameters}


def output_names(graph: mo.Graph) -> list[str]:
    return [r.name.removesuffix("/sink_port_0") for r in graph.results]


def check_vs_opencv(tmp_path: Path, prototxt: str, rtol: float = 1e-4, atol: float = 1e-5, seed: int = 0,
                    feeds: dict[str, np.ndarray] | None = None, **options) -> tuple[dict, dict, mo.Graph]:
    """Build, convert, run both; assert every output agrees (|ir - cv| <= atol + rtol * max|cv|)."""
    proto, weights = make_model(tmp_path, prototxt, seed)
    xml, graph = convert(proto, weights, tmp_path, **options)
    feeds = feeds or random_feeds(graph)
    outs = output_names(graph)
    ir = ov_infer(xml, feeds)
    cv = opencv_run(proto, weights, feeds, outs)
    for name in outs:
        assert_close(ir[name], cv[name], rtol, atol, name)
    return ir, cv, graph


def assert_close(got: np.ndarray, ref: np.ndarray, rtol: float, atol: float, what: str = "") -> None:
    ref = np.asarray(ref, dtype=np.float64)
    got = np.asarray(got, dtype=np.float64)
    if got.shape != ref.shape and got.size == ref.size:
        got = got.reshape(ref.shape)     # OpenCV drops or adds trailing unit dims in places
    assert got.shape == ref.shape, f"{what}: shape {got.shape} vs reference {ref.shape}"
    scale = float(np.max(np.abs(ref), initial=0.0))
    err = float(np.max(np.abs(got - ref), initial=0.0))
    assert err <= atol + rtol * scale, f"{what}: max abs error {err:.3g} (reference max {scale:.3g})"


def blobs_of(weights: Path) -> dict[str, list[np.ndarray]]:
    """The blobs of a .caffemodel parsed with protobuf (independent of mo's wire reader)."""
    net = pb.NetParameter()
    net.ParseFromString(weights.read_bytes())
    out = {}
    for layer in list(net.layer) + list(net.layers):
        arrs = []
        for b in layer.blobs:
            shape = tuple(b.shape.dim) if b.HasField("shape") else (b.num, b.channels, b.height, b.width)
            data = np.array(b.double_data if len(b.double_data) else b.data, dtype=np.float32)
            arrs.append(data.reshape(shape))
        out[layer.name] = arrs
    return out


def run_ir(tmp_path: Path, prototxt: str, feeds: dict[str, np.ndarray] | None = None, seed: int = 0, **options):
    """(IR outputs, feeds, blobs by layer, graph) for a prototxt with random blobs."""
    proto, weights = make_model(tmp_path, prototxt, seed)
    xml, graph = convert(proto, weights, tmp_path, **options)
    feeds = feeds or random_feeds(graph)
    return ov_infer(xml, feeds), feeds, blobs_of(weights), graph
