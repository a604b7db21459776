"""Reader of MXNet's NDArray list files (``model-0000.params``), without mxnet.

The layout, as MXNet writes it (little-endian throughout)::

    uint64 list magic 0x112, uint64 reserved
    uint64 count, then ``count`` NDArrays
    uint64 count, then ``count`` names (uint64 length + bytes each; may be 0 names)

One NDArray is one of three generations:

* v2 (MXNet >= 1.0): uint32 magic 0xF993FAC9, int32 storage type (0 dense; 1 row_sparse
  and 2 csr are refused), int32 ndim, ndim x int64 dims, context (int32 dev_type,
  int32 dev_id), int32 type flag, raw data;
* v1: uint32 magic 0xF993FAC8, uint32 ndim, ndim x int64 dims, context, type flag, data;
* legacy (no magic): the first uint32 is ndim, then ndim x uint32 dims, context, type flag, data.

A shape of ndim -1 (or 0 in v1/legacy files) is an empty NDArray that carries nothing else.
Data is never copied: each array becomes a :class:`MappedTensor` over its bytes.
"""
from __future__ import annotations

import os
import struct
from dataclasses import dataclass

import numpy as np

from mo.errors import InputError
from mo.tensor import MappedTensor

LIST_MAGIC = 0x112
V1_MAGIC = 0xF993FAC8
V2_MAGIC = 0xF993FAC9

# mshadow type flags
TYPE_FLAGS: dict[int, np.dtype] = {
    0: np.dtype("<f4"), 1: np.dtype("<f8"), 2: np.dtype("<f2"), 3: np.dtype("u1"), 4: np.dtype("<i4"),
    5: np.dtype("i1"), 6: np.dtype("<i8"), 7: np.dtype("bool"), 8: np.dtype("<i2"), 9: np.dtype("<u2"),
    10: np.dtype("<u4"), 11: np.dtype("<u8"),
}
_TYPE_NAMES = {12: "bfloat16"}
_STORAGE = {1: "row_sparse", 2: "csr"}


def is_ndarray_list(path: str) -> bool:
    """True when the file starts with the NDArray list header (cheap: reads 16 bytes)."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError:
        return False
    return len(head) == 16 and struct.unpack("<QQ", head) == (LIST_MAGIC, 0)


@dataclass(slots=True)
class _Cursor:
    path: str
    data: memoryview
    pos: int = 0

    def take(self, fmt: str, what: str):
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise InputError(f"{self.path}: file ends inside {what} at byte {self.pos} "
                             f"(size {len(self.data)}); is the file truncated?")
        out = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return out if len(out) > 1 else out[0]


def read_params(path: str) -> dict[str, MappedTensor]:
    """Name -> tensor of every array in an NDArray list file (names keep ``arg:``/``aux:`` prefixes).

    Files saved without names (a plain list) get the names ``"0"``, ``"1"`` ...
    """
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        # headers are small; read them through a mapping so that the data is not loaded
        import mmap
        if size == 0:
            raise InputError(f"{path}: empty file, not an MXNet .params file")
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        return _parse(path, memoryview(mm))
    finally:
        try:
            mm.close()
        except BufferError:  # a view still held by an exception traceback; the GC closes it
            pass


def _parse(path: str, data: memoryview) -> dict[str, MappedTensor]:
    c = _Cursor(path, data)
    magic, _reserved = c.take("<QQ", "the list header")
    if magic != LIST_MAGIC:
        raise InputError(f"{path}: not an MXNet .params file (list magic {magic:#x}, expected {LIST_MAGIC:#x})")
    count = c.take("<Q", "the array count")
    if count > len(data):
        raise InputError(f"{path}: array count {count} is impossible for a {len(data)}-byte file; is it corrupt?")
    arrays: list[MappedTensor | None] = []
    for i in range(count):
        arrays.append(_read_ndarray(c, i))
    names_count = c.take("<Q", "the name count")
    if names_count not in (0, count):
        raise InputError(f"{path}: {count} arrays but {names_count} names; is the file corrupt?")
    names = []
    for i in range(names_count):
        n = c.take("<Q", f"the length of name {i}")
        if c.pos + n > len(data):
            raise InputError(f"{path}: file ends inside name {i}; is the file truncated?")
        names.append(bytes(data[c.pos:c.pos + n]).decode("utf-8", errors="replace"))
        c.pos += n
    if not names:
        names = [str(i) for i in range(count)]
    out: dict[str, MappedTensor] = {}
    for name, arr in zip(names, arrays):
        if arr is not None:
            out[name] = arr
    return out


def _read_ndarray(c: _Cursor, index: int) -> MappedTensor | None:
    what = f"array {index}"
    first = c.take("<I", f"the header of {what}")
    if first == V2_MAGIC:
        stype = c.take("<i", f"the storage type of {what}")
        if stype != 0:
            kind = _STORAGE.get(stype, f"storage type {stype}")
            raise InputError(f"{c.path}: {what} is stored as {kind}; mo reads dense arrays only "
                             "(convert it with .tostype('default') in MXNet and save again)")
        ndim = c.take("<i", f"the shape of {what}")
        if ndim < 0:
            return None
        dims = c.take(f"<{ndim}q", f"the shape of {what}") if ndim else ()
    elif first == V1_MAGIC:
        ndim = c.take("<I", f"the shape of {what}")
        if ndim == 0:
            return None
        dims = c.take(f"<{ndim}q", f"the shape of {what}")
    else:
        ndim = first
        if ndim == 0:
            return None
        if ndim > 32:
            raise InputError(f"{c.path}: {what} has no NDArray header (read {first:#x}); is the file corrupt?")
        dims = c.take(f"<{ndim}I", f"the shape of {what}")
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if any(d < 0 for d in dims):
        raise InputError(f"{c.path}: {what} has an unknown dimension in shape {list(dims)}")
    _dev_type, _dev_id = c.take("<ii", f"the context of {what}")
    flag = c.take("<i", f"the element type of {what}")
    dtype = TYPE_FLAGS.get(flag)
    if dtype is None:
        name = _TYPE_NAMES.get(flag, f"type flag {flag}")
        raise InputError(f"{c.path}: {what} has element type {name}, which mo cannot read")
    nbytes = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if c.pos + nbytes > len(c.data):
        raise InputError(f"{c.path}: file ends inside the data of {what} (needs {nbytes} bytes at {c.pos}, "
                         f"file has {len(c.data)}); is the file truncated?")
    t = MappedTensor(c.path, c.pos, dtype, dims)
    c.pos += nbytes
    return t


def split_params(params: dict[str, MappedTensor]) -> tuple[dict[str, MappedTensor], dict[str, MappedTensor]]:
    """(arguments, auxiliary states) with the ``arg:``/``aux:`` prefixes removed; unprefixed names
    (Gluon's ``save_parameters``) count as arguments."""
    args: dict[str, MappedTensor] = {}
    aux: dict[str, MappedTensor] = {}
    for name, t in params.items():
        if name.startswith("arg:"):
            args[name[4:]] = t
        elif name.startswith("aux:"):
            aux[name[4:]] = t
        else:
            args[name] = t
    return args, aux
