"""Read a TensorFlow tensor bundle (a TF2 checkpoint: ``variables.index`` + ``variables.data-*``) without TensorFlow.

The index is a LevelDB-format table (an SSTable): sorted keys, each the checkpoint key of a
tensor, whose value is a serialized ``BundleEntryProto`` (dtype, shape, data shard, offset,
size); the empty key holds the ``BundleHeaderProto``. Layout of the table file:

* a 48-byte footer at the end: the meta-index block handle and the index block handle
  (each two varints: offset, size), zero padding to 40 bytes, an 8-byte magic number;
* blocks: entries ``shared-prefix-length, unshared-length, value-length`` (varints), the
  unshared key bytes, the value bytes; then the restart offsets (uint32 each) and their count;
  each block is followed by a 5-byte trailer (compression type, crc);
* the index block maps a separator key to the handle of each data block.

TensorFlow writes bundle tables uncompressed; snappy-compressed blocks (type 1) are read
too, with the small decompressor below. Numeric tensors are raw little-endian bytes in
the data shard and become :class:`~mo.tensor.MappedTensor` (read lazily from the file);
string tensors (the object graph) are decoded in memory.
"""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from mo.errors import InputError
from mo.tensor import MappedTensor

from .proto import BundleEntryProto, BundleHeaderProto

TABLE_MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48

# TF DataType -> numpy dtype of the bundle's raw bytes
BUNDLE_DTYPES = {1: np.float32, 2: np.float64, 3: np.int32, 4: np.uint8, 5: np.int16, 6: np.int8, 9: np.int64,
                 10: np.bool_, 17: np.uint16, 19: np.float16, 22: np.uint32, 23: np.uint64}
DT_STRING = 7


class BundleError(InputError):
    """The bundle cannot be read (corrupt or of a layout mo does not know)."""


def _varint(buf, pos: int) -> tuple[int, int]:
    """(value, next position) of the base-128 varint at ``pos``."""
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise BundleError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise BundleError("varint too long")


def snappy_decompress(data: bytes) -> bytes:
    """Decompress one raw snappy block (literal and copy elements)."""
    length, pos = _varint(data, 0)
    out = bytearray()
    n = len(data)
    while pos < n:
        tag = data[pos]
        pos += 1
        kind = tag & 3
        if kind == 0:  # literal: length-1 in the tag, or in 1..4 following bytes
            ln = tag >> 2
            if ln >= 60:
                extra = ln - 59
                ln = int.from_bytes(data[pos:pos + extra], "little")
                pos += extra
            ln += 1
            out += data[pos:pos + ln]
            pos += ln
            continue
        if kind == 1:  # copy, 1-byte offset: length 4..11, offset 11 bits
            ln = ((tag >> 2) & 7) + 4
            off = ((tag >> 5) << 8) | data[pos]
            pos += 1
        elif kind == 2:
            ln = (tag >> 2) + 1
            off = int.from_bytes(data[pos:pos + 2], "little")
            pos += 2
        else:
            ln = (tag >> 2) + 1
            off = int.from_bytes(data[pos:pos + 4], "little")
            pos += 4
        if off == 0 or off > len(out):
            raise BundleError("corrupt snappy block (bad copy offset)")
        start = len(out) - off
        if off >= ln:
            out += out[start:start + ln]
        else:  # overlapping copy repeats the last `off` bytes
            for k in range(ln):
                out.append(out[start + k])
    if len(out) != length:
        raise BundleError("corrupt snappy block (length mismatch)")
    return bytes(out)


def _read_block(data: bytes, offset: int, size: int) -> bytes:
    if offset + size + 5 > len(data):
        raise BundleError("block handle points past the end of the file")
    kind = data[offset + size]
    body = data[offset:offset + size]
    if kind == 0:
        return body
    if kind == 1:
        return snappy_decompress(body)
    raise BundleError(f"unknown block compression type {kind}")


def _block_entries(block: bytes):
    """(key, value) pairs of one block, in order (keys are prefix-compressed against the previous one)."""
    if len(block) < 4:
        raise BundleError("block too short")
    n_restarts = struct.unpack_from("<I", block, len(block) - 4)[0]
    end = len(block) - 4 - 4 * n_restarts
    if end < 0:
        raise BundleError("corrupt block (restart array)")
    pos = 0
    key = b""
    while pos < end:
        shared, pos = _varint(block, pos)
        unshared, pos = _varint(block, pos)
        vlen, pos = _varint(block, pos)
        if shared > len(key) or pos + unshared + vlen > end:
            raise BundleError("corrupt block entry")
        key = key[:shared] + block[pos:pos + unshared]
        pos += unshared
        yield key, block[pos:pos + vlen]
        pos += vlen


def read_table(path: str | Path) -> dict[bytes, bytes]:
    """All (key, value) pairs of a LevelDB-format table file."""
    data = Path(path).read_bytes()
    if len(data) < FOOTER_SIZE:
        raise BundleError(f"{path}: too short for a table file")
    footer = data[-FOOTER_SIZE:]
    if struct.unpack_from("<Q", footer, 40)[0] != TABLE_MAGIC:
        raise BundleError(f"{path}: not a table file (bad magic number)")
    _, pos = _varint(footer, 0)           # meta-index handle (unused)
    _, pos = _varint(footer, pos)
    idx_off, pos = _varint(footer, pos)
    idx_size, pos = _varint(footer, pos)
    out: dict[bytes, bytes] = {}
    for _, handle in _block_entries(_read_block(data, idx_off, idx_size)):
        off, p = _varint(handle, 0)
        size, _ = _varint(handle, p)
        for k, v in _block_entries(_read_block(data, off, size)):
            out[k] = v
    return out


class TensorBundle:
    """The tensors of a checkpoint prefix (``.../variables/variables``), by checkpoint key."""

    def __init__(self, prefix: str | Path) -> None:
        self.prefix = str(prefix)
        index = self.prefix + ".index"
        if not Path(index).exists():
            raise BundleError(f"{index}: checkpoint index not found")
        try:
            table = read_table(index)
        except BundleError as e:
            raise BundleError(f"{index}: {e}") from None
        header = BundleHeaderProto()
        header.ParseFromString(table.pop(b"", b""))
        if header.endianness != 0:
            raise BundleError(f"{index}: big-endian bundles are not supported")
        self.num_shards = max(1, header.num_shards)
        self.entries: dict[str, BundleEntryProto] = {}
        for k, v in table.items():
            e = BundleEntryProto()
            e.ParseFromString(v)
            self.entries[k.decode("utf-8", errors="replace")] = e

    def shard_path(self, shard: int) -> str:
        return f"{self.prefix}.data-{shard:05d}-of-{self.num_shards:05d}"

    def __contains__(self, key: str) -> bool:
        return key in self.entries

    def tensor(self, key: str):
        """A MappedTensor (numeric) or a numpy object array of bytes (strings) for ``key``."""
        e = self.entries.get(key)
        if e is None:
            raise BundleError(f"{self.prefix}: no tensor {key!r} in the checkpoint")
        if e.slices:
            raise BundleError(f"{self.prefix}: tensor {key!r} is stored in slices (partitioned variable)")
        shape = tuple(int(d.size) for d in e.shape.dim)
        path = self.shard_path(e.shard_id)
        if not Path(path).exists():
            raise BundleError(f"{path}: checkpoint data file not found")
        if e.offset + e.size > Path(path).stat().st_size:
            raise BundleError(f"{path}: tensor {key!r} lies past the end of the file (truncated?)")
        if e.dtype == DT_STRING:
            return self._strings(path, e, shape)
        dt = BUNDLE_DTYPES.get(int(e.dtype))
        if dt is None:
            raise BundleError(f"{self.prefix}: tensor {key!r} has element type {int(e.dtype)}, not supported")
        nbytes = int(np.prod(shape, dtype=np.int64)) * np.dtype(dt).itemsize
        if nbytes != e.size:
            raise BundleError(f"{self.prefix}: tensor {key!r}: {e.size} bytes stored for shape {shape}")
        return MappedTensor(path, int(e.offset), np.dtype(dt), shape)

    @staticmethod
    def _strings(path: str, e, shape) -> np.ndarray:
        """String tensors: n varint lengths, a 4-byte checksum of them, then the bytes back to back."""
        with open(path, "rb") as f:
            f.seek(e.offset)
            raw = f.read(e.size)
        n = int(np.prod(shape, dtype=np.int64))
        lens = []
        pos = 0
        for _ in range(n):
            ln, pos = _varint(raw, pos)
            lens.append(ln)
        pos += 4
        out = np.empty(n, dtype=object)
        for i, ln in enumerate(lens):
            out[i] = raw[pos:pos + ln]
            pos += ln
        return out.reshape(shape)
