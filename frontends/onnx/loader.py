"""Read an .onnx file and convert its graph with the registered op converters.

Weights are never copied whole: external data becomes memory-mapped file slices, and
embedded ``raw_data`` is wrapped lazily and read only when the emitter streams it.
"""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from mo.errors import ConversionError, InputError, OptionError, UnsupportedOpsError
from mo.graph import Graph, Value
from mo.options import ConvertOptions, resolve_input
from mo.tensor import ArrayTensor, LazyTensor, MappedTensor
from mo.ir.builder import Builder
from mo.ir.opset import OpError

from .context import OnnxContext, onnx_ops
from . import ops  # noqa: F401  (registers the converters)

ONNX_ETYPES = {1: "f32", 2: "u8", 3: "i8", 4: "u16", 5: "i16", 6: "i32", 7: "i64", 9: "boolean", 10: "f16",
               11: "f64", 12: "u32", 13: "u64", 16: "bf16"}
ONNX_NP = {1: np.float32, 2: np.uint8, 3: np.int8, 4: np.uint16, 5: np.int16, 6: np.int32, 7: np.int64,
           9: np.bool_, 10: np.float16, 11: np.float64, 12: np.uint32, 13: np.uint64}


def detect(path: str) -> bool:
    """True when the file looks like an ONNX model (protobuf ModelProto with a graph)."""
    p = Path(path)
    if p.suffix.lower() == ".onnx":
        return True
    try:
        with open(p, "rb") as f:
            head = f.read(64)
    except OSError:
        return False
    # ModelProto starts with ir_version (field 1, varint): byte 0x08
    return head[:1] == b"\x08" and b"\x12" in head[:16]


STRIP_ABOVE_BYTES = 1 << 20  # files larger than this have their embedded weights mapped, not parsed


def _read_model(path: str):
    """The ModelProto, and per initializer the (offset, size) of its raw_data in the file.

    Large files are parsed without their initializers' raw bytes (see wire.py), so the
    weights are memory-mapped from the file instead of held twice by protobuf.
    """
    import onnx
    from google.protobuf.message import DecodeError

    from .wire import WireError, strip_initializer_data

    if not os.path.exists(path):
        raise InputError(f"{path}: file not found")
    if os.path.isdir(path):
        raise InputError(f"{path}: is a directory, not an ONNX file")
    spans: list = []
    model = None
    if os.path.getsize(path) > STRIP_ABOVE_BYTES:
        try:
            data, spans = strip_initializer_data(path)
            model = onnx.ModelProto.FromString(data)
            del data
        except (WireError, DecodeError, ValueError):
            model, spans = None, []
    if model is None:
        try:
            model = onnx.load(path, load_external_data=False)
        except (DecodeError, RuntimeError, ValueError) as e:
            detail = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise InputError(f"{path}: not a valid ONNX model (protobuf parse failed: {detail}); "
                             "is the file truncated or of another format?") from None
    if not model.HasField("graph") or (model.ir_version == 0 and not model.graph.node):
        raise InputError(f"{path}: not an ONNX model (no graph found)")
    if spans and len(spans) != len(model.graph.initializer):
        spans = []
    return model, spans


def tensor_from_proto(t, base_dir: str, where: str, raw_span: tuple[int, int] | None = None):
    """A mo Tensor for an ONNX TensorProto; data is mapped or wrapped, not copied.

    ``raw_span`` is where the tensor's raw_data lies in the model file ``where`` when
    the loader stripped it from the parsed message.
    """
    if t.data_type not in ONNX_NP:
        name = {8: "STRING", 14: "COMPLEX64", 15: "COMPLEX128", 16: "BFLOAT16"}.get(t.data_type, str(t.data_type))
        raise ConversionError(f"{where}: tensor {t.name!r} has element type {name}, which mo cannot convert")
    dtype = np.dtype(ONNX_NP[t.data_type])
    shape = tuple(int(d) for d in t.dims)
    if t.data_location == 1:  # EXTERNAL
        info = {e.key: e.value for e in t.external_data}
        loc = info.get("location")
        if not loc:
            raise InputError(f"{where}: tensor {t.name!r} has external data without a location")
        fpath = os.path.normpath(os.path.join(base_dir, loc))
        if not os.path.exists(fpath):
            raise InputError(f"{where}: external data file {loc!r} of tensor {t.name!r} not found next to the model")
        offset = int(info.get("offset", 0))
        need = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if "length" in info and int(info["length"]) < need:
            raise InputError(f"{where}: external data of {t.name!r} is {info['length']} bytes, needs {need}")
        if os.path.getsize(fpath) < offset + need:
            raise InputError(f"{where}: external data file {loc!r} is too short for tensor {t.name!r}")
        return MappedTensor(fpath, offset, dtype.newbyteorder("<"), shape) if dtype.itemsize > 1 else \
            MappedTensor(fpath, offset, dtype, shape)
    if raw_span is not None:
        need = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if raw_span[1] != need:
            raise InputError(f"{where}: tensor {t.name!r} holds {raw_span[1]} bytes, its shape needs {need}; "
                             "is the file truncated?")
        return MappedTensor(where, raw_span[0], dtype.newbyteorder("<") if dtype.itemsize > 1 else dtype, shape)
    if t.HasField("raw_data"):
        n = int(np.prod(shape, dtype=np.int64))
        need = n * dtype.itemsize
        le = dtype.newbyteorder("<")

        def read(t=t) -> np.ndarray:
            raw = t.raw_data
            if len(raw) != need:
                raise InputError(f"{where}: tensor {t.name!r} holds {len(raw)} bytes, its shape needs {need}; "
                                 "is the file truncated?")
            return np.frombuffer(raw, dtype=le).astype(dtype, copy=False).reshape(shape)

        if need <= 1 << 16:
            return ArrayTensor(read())
        return LazyTensor(read, dtype, shape)
    from onnx import numpy_helper
    arr = numpy_helper.to_array(t)
    if arr.dtype != dtype:
        arr = arr.astype(dtype)
    return ArrayTensor(arr.reshape(shape))


def _value_info_shape(vi) -> tuple[str | None, tuple[int, ...] | None]:
    tt = vi.type.tensor_type
    et = ONNX_ETYPES.get(tt.elem_type)
    if not tt.HasField("shape"):
        return et, None
    return et, tuple(int(d.dim_value) if d.HasField("dim_value") else -1 for d in tt.shape.dim)


def load(path: str, options: ConvertOptions) -> Graph:
    model, spans = _read_model(path)
    if options.inputs:
        # cut inputs inside the graph: learn their type and shape from onnx's shape inference
        declared = {vi.name for vi in list(model.graph.input) + list(model.graph.value_info)}
        if any(s.name not in declared for s in options.inputs):
            import onnx
            try:
                model = onnx.shape_inference.infer_shapes(model)
            except Exception:  # noqa: BLE001 - inference is a help, not a requirement
                pass
    opsets = {(o.domain if o.domain != "ai.onnx" else ""): int(o.version) for o in model.opset_import}
    opsets.setdefault("", 1)
    return convert_graph(model.graph, opsets, options, path, os.path.dirname(os.path.abspath(path)), spans)


def convert_graph(gp, opsets: dict[str, int], options: ConvertOptions, path: str, base_dir: str,
                  raw_spans: list | None = None) -> Graph:
    graph = Graph(Path(path).stem if path else (gp.name or "model"))
    ctx = OnnxContext(graph, opsets, path)
    values: dict[str, Value] = {}
    init_names = {t.name for t in gp.initializer}
    producers = {}
    for node in gp.node:
        for o in node.output:
            if o:
                producers[o] = node

    # ---- inputs: the cut (--input) or the graph's own, minus initializers
    cut = {s.name: s for s in options.inputs}
    declared = {vi.name: vi for vi in list(gp.input) + list(gp.value_info) + list(gp.output)}
    graph_inputs = [vi.name for vi in gp.input if vi.name not in init_names]
    in_names = [s.name for s in options.inputs] if options.inputs else graph_inputs
    for name in in_names:
        if name not in declared and name not in producers:
            raise OptionError(f"{path}: --input {name!r} is not a tensor of the model "
                              f"(inputs: {', '.join(graph_inputs) or 'none'})")
    if options.input_shape and len(options.input_shape) != len(in_names):
        raise OptionError(f"--input_shape gives {len(options.input_shape)} shape(s) for {len(in_names)} input(s)")

    out_names = list(options.outputs) or [vi.name for vi in gp.output]
    for name in out_names:
        if name not in producers and name not in declared and name not in init_names:
            raise OptionError(f"{path}: --output {name!r} is not a tensor of the model")

    # ---- which nodes are needed for the outputs, stopping at cut inputs
    needed_nodes = set()
    stack = list(out_names)
    seen = set(in_names)
    while stack:
        t = stack.pop()
        if t in seen:
            continue
        seen.add(t)
        n = producers.get(t)
        if n is None:
            continue
        if id(n) in needed_nodes:
            continue
        needed_nodes.add(id(n))
        stack.extend(i for i in n.input if i)
        for attr in n.attribute:  # names captured by subgraphs
            if attr.type == 5:  # GRAPH
                stack.extend(_outer_names(attr.g))
            elif attr.type == 10:
                for sg in attr.graphs:
                    stack.extend(_outer_names(sg))
    nodes = [n for n in gp.node if id(n) in needed_nodes]

    # ---- every unsupported op at once
    missing: Counter[str] = Counter()
    examples: dict[str, str] = {}
    for n in nodes:
        dom = "" if n.domain in ("", "ai.onnx") else n.domain
        if ctx.lookup(n.op_type, dom) is None:
            key = n.op_type if not dom else f"{dom}.{n.op_type}"
            missing[key] += 1
            examples.setdefault(key, n.name or (n.output[0] if n.output else ""))
    if missing:
        raise UnsupportedOpsError(path, "ONNX", missing, examples)

    # ---- parameters
    for i, name in enumerate(in_names):
        et, shape = _value_info_shape(declared[name]) if name in declared else (None, None)
        et, shape, frozen = resolve_input(options, i, cut.get(name), et, shape)
        if frozen is not None:
            values[name] = ctx.const(frozen, name=name)
            values[name].add_name(name)
            continue
        values[name] = ctx.parameter(name, et, shape)

    for k, t in enumerate(gp.initializer):
        if t.name in values:
            continue
        span = raw_spans[k] if raw_spans else None
        values[t.name] = ctx.const_tensor(tensor_from_proto(t, base_dir, path, span), name=t.name)
        values[t.name].add_name(t.name)

    # ---- nodes in file order (ONNX requires topological order)
    for n in nodes:
        ctx.convert_node(n, values, base_dir)

    for name in out_names:
        if name not in values:
            raise ConversionError(f"{path}: output {name!r} was not produced by any converted node")
        v = values[name]
        v.add_name(name)
        ctx.result(v, name=name)
    graph.toposort()
    return graph


def _outer_names(g) -> list[str]:
    """Names a subgraph reads from the enclosing scope."""
    local = {i.name for i in g.input} | {t.name for t in g.initializer}
    for n in g.node:
        local.update(o for o in n.output if o)
    used = []
    for n in g.node:
        for i in n.input:
            if i and i not in local:
                used.append(i)
        for a in n.attribute:
            if a.type == 5:
                used.extend(x for x in _outer_names(a.g) if x not in local)
    for o in g.output:
        if o.name not in local:
            used.append(o.name)
    return used
