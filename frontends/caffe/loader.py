"""Read a Caffe model (deploy .prototxt + binary .caffemodel) and convert it, without caffe.

Which file is which:

* ``mo convert --input_proto deploy.prototxt model.caffemodel`` (the old tool's form);
* ``mo convert model.caffemodel``: the network is ``model.prototxt`` next to it;
* ``mo convert deploy.prototxt``: the weights come from ``--input_model`` when that is a
  .caffemodel; otherwise conversion stops with a "no weights" error.

Caffe's blob semantics: a top that repeats a bottom (``top == bottom``) is computed in
place, so a blob name stands for its newest value; the net's outputs are the blobs no
later layer reads. Split layers (implicit fan-out) are identities; Dropout is removed;
training-only layers (losses, accuracy, Silence) are dropped.
"""
from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

from mo.errors import ConversionError, InputError, OptionError, UnsupportedOpsError
from mo.graph import Graph, Value
from mo.options import ConvertOptions, resolve_input

from . import ops  # noqa: F401  (registers the converters)
from .context import BlobSource, CaffeContext, CaffemodelBlobs, caffe_ops, dispatch_key
from .layers import DATA_LAYERS, DROPPED_LAYERS, Layer, Net, read_net
from .weights import WireError, looks_like_caffemodel, read_caffemodel

_PROTOTXT = re.compile(rb"^\s*(layers?\s*\{|input\s*:|input_dim\s*:|input_shape\s*\{)", re.M)
_TF_TEXT = re.compile(rb"^\s*(node\s*\{|versions\s*\{|library\s*\{|meta_info_def)", re.M)


def is_prototxt(path: str) -> bool:
    """Text with top-level ``layer {``/``layers {`` (or ``input:`` headers) and no TF GraphDef keys."""
    try:
        with open(path, "rb") as f:
            head = f.read(1 << 16)
    except OSError:
        return False
    if not head or b"\0" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        if len(head) < (1 << 16):
            return False
    if _TF_TEXT.search(head):
        return False
    return bool(_PROTOTXT.search(head))


def detect(path: str) -> bool:
    """A deploy .prototxt, or a binary NetParameter (.caffemodel)."""
    if os.path.isdir(path):
        return False
    return is_prototxt(path) or looks_like_caffemodel(path)


def model_files(path: str, options: ConvertOptions) -> tuple[str, str | None]:
    """(prototxt, caffemodel or None) for the model the user named."""
    proto = options.input_proto
    if proto:
        if not os.path.exists(proto):
            raise InputError(f"{proto}: file not found (--input_proto)")
        if os.path.abspath(proto) == os.path.abspath(path):
            weights = options.input_model if options.input_model and os.path.abspath(options.input_model) != \
                os.path.abspath(proto) else None
            return proto, weights
        if is_prototxt(path):
            raise InputError(f"{path}: is a text prototxt; with --input_proto the model is the binary .caffemodel")
        return proto, path
    if is_prototxt(path):
        weights = options.input_model if options.input_model and os.path.abspath(options.input_model) != \
            os.path.abspath(path) else None
        return path, weights
    # a caffemodel alone: its prototxt is the file of the same stem (as the old tool did)
    cand = Path(path).with_suffix(".prototxt")
    if cand.exists() and is_prototxt(str(cand)):
        return str(cand), path
    raise InputError(f"{path}: a .caffemodel holds the weights only; give the network with "
                     f"--input_proto deploy.prototxt")


def load(path: str, options: ConvertOptions) -> Graph:
    proto, weights = model_files(path, options)
    if weights is not None and not os.path.exists(weights):
        raise InputError(f"{weights}: file not found")
    net = read_net(proto)
    blobs: BlobSource | None = None
    if weights is not None:
        if is_prototxt(weights):
            raise InputError(f"{weights}: is a text prototxt, not the binary .caffemodel with the weights")
        try:
            layers = read_caffemodel(weights)
        except WireError as e:
            raise InputError(f"{weights}: not a readable .caffemodel: {e}") from None
        except OSError as e:
            raise InputError(f"{weights}: cannot read: {e.strerror or e}") from None
        blobs = CaffemodelBlobs(weights, proto, layers)
    return convert_net(net, blobs, options)


def _last_writers(layers: list[Layer]) -> dict[str, int]:
    last: dict[str, int] = {}
    for i, layer in enumerate(layers):
        for t in layer.tops:
            last[t] = i
    return last


def convert_net(net: Net, blobs: BlobSource | None, options: ConvertOptions) -> Graph:
    """The graph of a parsed net; ``blobs`` gives the learned parameters (None: there are none)."""
    path = net.path
    graph = Graph(net.name or Path(path).stem)
    layers = [la for la in net.layers if la.type not in DROPPED_LAYERS]

    # ---- every unsupported layer type at once
    missing: Counter[str] = Counter()
    examples: dict[str, str] = {}
    for la in layers:
        key = dispatch_key(la)
        if la.type in ("Input",) or la.type in DATA_LAYERS or caffe_ops.lookup(key) is not None:
            continue
        missing[key] += 1
        examples.setdefault(key, la.name)
    if missing:
        raise UnsupportedOpsError(path, "Caffe", missing, examples)

    # ---- inputs: old-style net inputs, Input layers, data layers (in file order)
    declared: list[tuple[str, tuple[int, ...] | None]] = [(i.name, i.shape) for i in net.inputs]
    for la in layers:
        if la.type == "Input":
            shapes = [tuple(int(d) for d in s.dim) for s in la.msg.input_param.shape]
            for k, top in enumerate(la.tops):
                shape = shapes[k] if k < len(shapes) else (shapes[0] if len(shapes) == 1 else None)
                declared.append((top, shape))
        elif la.type in DATA_LAYERS:
            for k, top in enumerate(la.tops):
                declared.append((top, _data_layer_shape(la, k)))
    read = {b for la in layers for b in la.bottoms}
    declared = [(n, s) for n, s in declared if n in read or not layers]
    cut = {s.name: s for s in options.inputs}
    known = {n for n, _ in declared}
    for name in cut:
        if name not in known:
            raise OptionError(f"{path}: --input {name!r} is not an input of the net "
                              f"(inputs: {', '.join(sorted(known)) or 'none'})")
    if options.input_shape and len(options.input_shape) != len(declared):
        raise OptionError(f"--input_shape gives {len(options.input_shape)} shape(s) for {len(declared)} input(s) "
                          f"({', '.join(n for n, _ in declared)})")

    ctx = CaffeContext(graph, path, blobs)
    current: dict[str, Value] = {}
    for k, (name, shape) in enumerate(declared):
        et, shape, frozen = resolve_input(options, k, cut.get(name), "f32", shape)
        if shape is None:
            raise OptionError(f"{path}: input {name!r} has no shape in the prototxt; give it with --input_shape "
                              f"(e.g. --input_shape [1,3,224,224]) or --input {name}[...]")
        v = ctx.const(frozen, name=name) if frozen is not None else ctx.parameter(name, et, shape)
        v.add_name(name)
        current[name] = v

    # ---- layers in file order; a top equal to a bottom replaces the blob's value
    last = _last_writers(layers)
    input_names = set(current)
    final_name: dict[str, str] = {}     # blob -> tensor name of its final value
    layer_values: dict[str, tuple[Value, ...]] = {}
    for i, la in enumerate(layers):
        if la.type == "Input" or la.type in DATA_LAYERS:
            continue
        ins = []
        for b in la.bottoms:
            v = current.get(b)
            if v is None:
                raise ConversionError(f"{path}: layer {la.name!r} ({la.type}) reads blob {b!r}, which no earlier "
                                      f"layer or input produces")
            ins.append(v)
        outs = ctx.convert_layer(la, ins)
        if len(outs) != len(la.tops):
            raise ConversionError(f"{path}: layer {la.name!r} ({la.type}) has {len(la.tops)} top(s), its converter "
                                  f"made {len(outs)}")
        layer_values[la.name] = outs
        for top, v in zip(la.tops, outs):
            if last[top] == i:
                # an input overwritten in place keeps its name; the new value is named by the layer
                final_name[top] = la.name if top in input_names else top
                v.add_name(final_name[top])
            current[top] = v
        # the node computing a layer's first top takes the layer's name
        first = outs[0] if outs else None
        if first is not None and first.producer is not None and first.producer.op not in ("Parameter", "Const") \
                and first not in ins:
            graph.rename(first.producer, la.name)

    # ---- outputs: --output names (blobs or layers), else the blobs no layer reads
    if options.outputs:
        heads = []
        for o in options.outputs:
            if o in current:                      # a blob: its final value
                heads.append((final_name.get(o, o), current[o]))
            elif o in layer_values and layer_values[o]:   # a layer: its own first top, as computed there
                heads.append((o, layer_values[o][0]))
            else:
                raise OptionError(f"{path}: --output {o!r} is neither a blob nor a layer of the net")
    else:
        available: dict[str, None] = {}   # Caffe's rule: bottoms are taken, tops become available
        for la in layers:
            if la.type == "Input" or la.type in DATA_LAYERS:
                continue
            for b in la.bottoms:
                available.pop(b, None)
            for t in la.tops:
                available[t] = None
        heads = [(final_name.get(t, t), current[t]) for t in available if t in current]
        if not heads:
            raise ConversionError(f"{path}: the net has no output (every blob is read by a later layer)")
    for name, v in heads:
        if v.producer is not None and v.producer.op == "Parameter":
            raise ConversionError(f"{path}: output {name!r} is the input itself")
        ctx.result(v, name=name)
    graph.toposort()
    return graph


def _data_layer_shape(la: Layer, top: int) -> tuple[int, ...] | None:
    """Shape of a data layer's top when the prototxt states it (MemoryData, DummyData)."""
    m = la.msg
    if la.type == "MemoryData" and top == 0:
        p = m.memory_data_param
        if p.batch_size and p.channels and p.height and p.width:
            return (p.batch_size, p.channels, p.height, p.width)
    if la.type == "DummyData":
        p = m.dummy_data_param
        if top < len(p.shape):
            return tuple(int(d) for d in p.shape[top].dim)
        if top < len(p.num):
            return (p.num[top], p.channels[top], p.height[top], p.width[top])
    return None
