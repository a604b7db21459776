"""Find the weights inside an .onnx file without parsing them.

``onnx.load`` keeps the file's bytes and the parsed message in memory at once, so a
model with 1 GB of embedded weights costs 2 GB to open. Here the protobuf wire format
of the file is walked (memory-mapped; weight bytes are skipped, never read), a copy of
the model without the initializers' ``raw_data`` fields is built for onnx to parse,
and each stripped field's place in the file is returned so the weights can become
memory-mapped tensors like external data.

Wire facts (protobuf encoding): a field key is a varint ``number << 3 | wire_type``;
wire type 2 is length-delimited (varint length + bytes). ModelProto.graph is field 7,
GraphProto.initializer field 5, TensorProto.raw_data field 9.
"""
from __future__ import annotations

import mmap

from ..protowire import WireError, fields

MODEL_GRAPH = 7
GRAPH_INITIALIZER = 5
TENSOR_RAW_DATA = 9


def _encode_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _delimited(num: int, payload: bytes) -> bytes:
    return _encode_varint(num << 3 | 2) + _encode_varint(len(payload)) + payload


def strip_initializer_data(path: str) -> tuple[bytes, list[tuple[int, int] | None]]:
    """The model's bytes without initializer ``raw_data``, and (offset, size) per initializer.

    The list follows the order of ``graph.initializer``; None where a tensor has no
    ``raw_data`` (typed fields or external data).
    """
    with open(path, "rb") as f:
        size = f.seek(0, 2)
        if size == 0:
            raise WireError("empty file")
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            spans: list[tuple[int, int] | None] = []
            out = bytearray()
            for num, wt, fs, ps, pe, _ in fields(buf, 0, size):
                if num != MODEL_GRAPH or wt != 2:
                    out += buf[fs:pe]
                    continue
                graph = bytearray()
                for gnum, gwt, gfs, gps, gpe, _ in fields(buf, ps, pe):
                    if gnum != GRAPH_INITIALIZER or gwt != 2:
                        graph += buf[gfs:gpe]
                        continue
                    tensor = bytearray()
                    span = None
                    for tnum, twt, tfs, tps, tpe, _ in fields(buf, gps, gpe):
                        if tnum == TENSOR_RAW_DATA and twt == 2:
                            span = (tps, tpe - tps)
                        else:
                            tensor += buf[tfs:tpe]
                    spans.append(span)
                    graph += _delimited(GRAPH_INITIALIZER, bytes(tensor))
                out += _delimited(MODEL_GRAPH, bytes(graph))
            return bytes(out), spans
