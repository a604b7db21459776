"""Read the blobs of a binary .caffemodel without parsing (or copying) their data.

A .caffemodel is a serialized NetParameter. Its protobuf wire format is walked over a
memory map; of each layer only the name, the type and the blobs are read, and each
blob's packed ``data`` (or ``double_data``) field becomes a tensor mapped from the file,
so a 500 MB model costs no 500 MB of memory and its weights are read once, when the
emitter streams them.

Wire facts (field numbers of caffe.proto):

* NetParameter: ``layer`` 100 (LayerParameter), ``layers`` 2 (legacy V1LayerParameter);
* LayerParameter: ``name`` 1, ``type`` 2 (a string), ``blobs`` 7;
* V1LayerParameter: ``name`` 4, ``type`` 5 (an enum number), ``blobs`` 6;
* BlobProto: ``shape`` 7 (BlobShape: ``dim`` 1), ``data`` 5 (float), ``double_data`` 8,
  legacy ``num``/``channels``/``height``/``width`` 1..4.
"""
from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass, field

import numpy as np

from mo.tensor import ArrayTensor, LazyTensor, MappedTensor, Tensor

from ..protowire import WireError, fields, varint

NET_LAYER, NET_LAYERS_V1 = 100, 2
LAYER_NAME, LAYER_TYPE, LAYER_BLOBS = 1, 2, 7
V1_NAME, V1_TYPE, V1_BLOBS = 4, 5, 6
BLOB_SHAPE, BLOB_DATA, BLOB_DOUBLE = 7, 5, 8
BLOB_LEGACY = {1: 0, 2: 1, 3: 2, 4: 3}  # num, channels, height, width -> position


def _signed(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def _packed_varints(buf, start: int, end: int) -> list[int]:
    out, pos = [], start
    while pos < end:
        v, pos = varint(buf, pos, end)
        out.append(_signed(v))
    return out


@dataclass(slots=True)
class Blob:
    """One blob of a layer: its data as a tensor and its shape as the file states it.

    ``legacy`` is True when the shape came from the old num/channels/height/width fields
    (Caffe pads those to 4-D, so they may differ from the layer's shape by leading 1s).
    """

    tensor: Tensor
    shape: tuple[int, ...]
    legacy: bool = False


@dataclass(slots=True)
class LayerBlobs:
    name: str
    type: str
    blobs: list[Blob] = field(default_factory=list)


def _read_blob(buf, start: int, end: int, path: str, where: str) -> Blob:
    shape: list[int] | None = None
    legacy = [0, 0, 0, 0]
    has_legacy = False
    data: tuple[int, int] | None = None
    double: tuple[int, int] | None = None
    loose_f: list[int] = []   # unpacked repeated floats: offsets of each value
    loose_d: list[int] = []
    for num, wt, _, ps, pe, v in fields(buf, start, end):
        if num == BLOB_SHAPE and wt == 2:
            shape = []
            for dn, dwt, _, dps, dpe, dv in fields(buf, ps, pe):
                if dn == 1 and dwt == 2:
                    shape.extend(_packed_varints(buf, dps, dpe))
                elif dn == 1 and dwt == 0:
                    shape.append(_signed(dv))
        elif num == BLOB_DATA:
            if wt == 2:
                data = (ps, pe)
            elif wt == 5:
                loose_f.append(ps)
        elif num == BLOB_DOUBLE:
            if wt == 2:
                double = (ps, pe)
            elif wt == 1:
                loose_d.append(ps)
        elif num in BLOB_LEGACY and wt == 0:
            legacy[BLOB_LEGACY[num]] = _signed(v)
            has_legacy = True
    if shape is None:
        shape = legacy if has_legacy else []
    count = int(np.prod(shape, dtype=np.int64)) if shape else 0
    if data is not None or loose_f:
        n = (data[1] - data[0]) // 4 if data is not None else len(loose_f)
        if data is not None and loose_f:
            raise WireError(f"{where}: blob data both packed and unpacked")
        if not shape:
            shape = [n]
        if n != count:
            raise WireError(f"{where}: blob shape {shape} holds {count} values, the file has {n}")
        if data is not None:
            if (data[1] - data[0]) % 4:
                raise WireError(f"{where}: packed float data of {data[1] - data[0]} bytes")
            t: Tensor = MappedTensor(path, data[0], np.dtype("<f4"), tuple(shape))
        else:
            arr = np.array([struct.unpack_from("<f", buf, p)[0] for p in loose_f], dtype=np.float32)
            t = ArrayTensor(arr.reshape(shape))
    elif double is not None or loose_d:
        n = (double[1] - double[0]) // 8 if double is not None else len(loose_d)
        if not shape:
            shape = [n]
        if n != count:
            raise WireError(f"{where}: blob shape {shape} holds {count} values, the file has {n}")
        if double is not None:
            src = MappedTensor(path, double[0], np.dtype("<f8"), tuple(shape))
        else:
            src = ArrayTensor(np.array([struct.unpack_from("<d", buf, p)[0] for p in loose_d]).reshape(shape))
        t = LazyTensor.cast(src, np.float32)   # the IR stores f32; converted chunk by chunk
    else:
        if count:
            raise WireError(f"{where}: blob of shape {shape} has no data")
        t = ArrayTensor(np.zeros(shape, np.float32))
    return Blob(t, tuple(int(d) for d in shape), legacy=shape is legacy)


def read_caffemodel(path: str) -> dict[str, LayerBlobs]:
    """Layer name -> its blobs, for every layer of the file (new and V1 forms)."""
    from .layers import V1_TYPE_NAMES

    out: dict[str, LayerBlobs] = {}
    with open(path, "rb") as f:
        size = f.seek(0, 2)
        if size == 0:
            raise WireError("empty file")
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            for num, wt, _, ps, pe, _v in fields(buf, 0, size):
                if wt != 2 or num not in (NET_LAYER, NET_LAYERS_V1):
                    continue
                v1 = num == NET_LAYERS_V1
                name_f, type_f, blobs_f = (V1_NAME, V1_TYPE, V1_BLOBS) if v1 else (LAYER_NAME, LAYER_TYPE, LAYER_BLOBS)
                name, ltype, spans = "", "", []
                for ln, lwt, _, lps, lpe, lv in fields(buf, ps, pe):
                    if ln == name_f and lwt == 2:
                        name = bytes(buf[lps:lpe]).decode("utf-8", "replace")
                    elif ln == type_f:
                        ltype = V1_TYPE_NAMES.get(lv, str(lv)) if v1 and lwt == 0 else \
                            bytes(buf[lps:lpe]).decode("utf-8", "replace")
                    elif ln == blobs_f and lwt == 2:
                        spans.append((lps, lpe))
                where = f"layer {name!r}"
                blobs = [_read_blob(buf, s, e, path, f"{where} blob {i}") for i, (s, e) in enumerate(spans)]
                # a name seen twice (a train net's duplicate): the one with blobs wins
                if name not in out or (blobs and not out[name].blobs):
                    out[name] = LayerBlobs(name, ltype, blobs)
    return out


def looks_like_caffemodel(path: str, limit: int = 4096) -> bool:
    """A NetParameter: only its known top-level fields and at least one layer that has a name
    (a file cut short after its first named layer still counts, so that the loader can say so)."""
    seen_layer = False
    try:
        with open(path, "rb") as f:
            size = f.seek(0, 2)
            if size < 8:
                return False
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                for k, (num, wt, _, ps, pe, _v) in enumerate(fields(buf, 0, size)):
                    if k >= limit:
                        break
                    if num not in (1, 2, 3, 4, 5, 6, 7, 8, 100):
                        return False
                    if num in (NET_LAYER, NET_LAYERS_V1):
                        if wt != 2:
                            return False
                        name_f = V1_NAME if num == NET_LAYERS_V1 else LAYER_NAME
                        for ln, lwt, _, lps, lpe, _v in fields(buf, ps, pe):
                            if ln == name_f and lwt == 2:
                                seen_layer = True
                                break
                    elif num in (1, 3) and wt != 2:
                        return False
                return seen_layer
    except WireError:
        return seen_layer
    except (OSError, ValueError):
        return False
