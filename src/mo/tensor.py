"""Tensors behind one small protocol.

Three kinds hold the constant data of a graph:

* :class:`ArrayTensor` wraps an in-memory numpy array (small constants, folded values);
* :class:`MappedTensor` is a slice of a weights file, read only when asked
  (ONNX external data, caffemodel blobs, MXNet params, Kaldi matrices);
* :class:`LazyTensor` is a computation over other tensors (an FP16 copy, a folded
  constant), run only when its bytes are needed.

The emitter streams bytes with :meth:`Tensor.chunks`, so a large weight is never
held twice in memory; ``numpy()`` materializes (or maps) the data for folding.
"""
from __future__ import annotations

import hashlib
import os
from typing import Callable, Iterator, Protocol, runtime_checkable

import numpy as np

from .types import ElementType, from_numpy

CHUNK_BYTES = 16 << 20


@runtime_checkable
class Tensor(Protocol):
    @property
    def dtype(self) -> np.dtype: ...

    @property
    def shape(self) -> tuple[int, ...]: ...

    def numpy(self) -> np.ndarray: ...

    def chunks(self, chunk_bytes: int = CHUNK_BYTES) -> Iterator[memoryview]: ...


class _Base:
    __slots__ = ()

    @property
    def etype(self) -> ElementType:
        return from_numpy(self.dtype)  # type: ignore[attr-defined]

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))  # type: ignore[attr-defined]

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize  # type: ignore[attr-defined]

    def chunks(self, chunk_bytes: int = CHUNK_BYTES) -> Iterator[memoryview]:
        """Little-endian bytes of the tensor in C order, at most ``chunk_bytes`` at a time."""
        flat = np.ascontiguousarray(self.numpy()).reshape(-1)  # type: ignore[attr-defined]
        if flat.dtype.byteorder == ">":
            flat = flat.astype(flat.dtype.newbyteorder("<"))
        step = max(1, chunk_bytes // max(1, flat.dtype.itemsize))
        for start in range(0, flat.size, step):
            yield memoryview(flat[start:start + step]).cast("B")

    def digest(self) -> bytes:
        h = hashlib.blake2b(digest_size=20)
        for c in self.chunks():
            h.update(c)
        return h.digest()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.dtype}, {list(self.shape)})"  # type: ignore[attr-defined]


class ArrayTensor(_Base):
    """A tensor held in memory as a numpy array (never copied by this class)."""

    __slots__ = ("array",)

    def __init__(self, array: np.ndarray) -> None:
        self.array = np.asarray(array)

    @property
    def dtype(self) -> np.dtype:
        return self.array.dtype

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.array.shape)

    def numpy(self) -> np.ndarray:
        return self.array


class MappedTensor(_Base):
    """A slice ``[offset, offset + nbytes)`` of a file, read lazily.

    ``numpy()`` memory-maps the slice (pages are read on demand); ``chunks()`` reads
    the file with plain reads so that streaming a large weight keeps no pages mapped.
    """

    __slots__ = ("path", "offset", "_dtype", "_shape")

    def __init__(self, path: str | os.PathLike, offset: int, dtype: np.dtype, shape: tuple[int, ...]) -> None:
        self.path = os.fspath(path)
        self.offset = int(offset)
        self._dtype = np.dtype(dtype)
        self._shape = tuple(int(d) for d in shape)

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    def numpy(self) -> np.ndarray:
        if self.size == 0:
            return np.zeros(self._shape, self._dtype)
        return np.memmap(self.path, dtype=self._dtype, mode="r", offset=self.offset, shape=self._shape)

    def chunks(self, chunk_bytes: int = CHUNK_BYTES) -> Iterator[memoryview]:
        if self._dtype.byteorder == ">":
            yield from super().chunks(chunk_bytes)
            return
        remaining = self.nbytes
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            while remaining > 0:
                data = f.read(min(chunk_bytes, remaining))
                if not data:
                    raise EOFError(f"{self.path}: file ends before the tensor's {self.nbytes} bytes at offset {self.offset}")
                remaining -= len(data)
                yield memoryview(data)


class LazyTensor(_Base):
    """A tensor computed on demand from other tensors; the result is not cached.

    ``elementwise`` marks a computation that can run chunk by chunk over one source
    tensor of the same shape (a dtype conversion), so streaming it needs one chunk of
    memory, not the whole result.
    """

    __slots__ = ("_fn", "_dtype", "_shape", "_source", "_elementwise")

    def __init__(self, fn: Callable[[], np.ndarray], dtype: np.dtype, shape: tuple[int, ...],
                 source: "_Base | None" = None, elementwise: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
        self._fn = fn
        self._dtype = np.dtype(dtype)
        self._shape = tuple(int(d) for d in shape)
        self._source = source
        self._elementwise = elementwise

    @classmethod
    def cast(cls, source: "_Base", dtype: np.dtype | type) -> "LazyTensor":
        dt = np.dtype(dtype)

        def convert(a: np.ndarray) -> np.ndarray:
            return np.asarray(a).astype(dt)

        return cls(lambda: convert(source.numpy()), dt, source.shape, source=source, elementwise=convert)

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    def numpy(self) -> np.ndarray:
        out = np.asarray(self._fn())
        if out.dtype != self._dtype or tuple(out.shape) != self._shape:
            raise ValueError(f"lazy tensor produced {out.dtype}{list(out.shape)}, "
                             f"declared {self._dtype}{list(self._shape)}")
        return out

    def chunks(self, chunk_bytes: int = CHUNK_BYTES) -> Iterator[memoryview]:
        if self._elementwise is None or self._source is None:
            yield from super().chunks(chunk_bytes)
            return
        src_item = self._source.dtype.itemsize
        # read source chunks sized so that the converted chunk stays near chunk_bytes
        src_chunk = max(src_item, chunk_bytes * src_item // max(1, self._dtype.itemsize))
        src_chunk -= src_chunk % src_item
        carry = b""
        for piece in self._source.chunks(src_chunk):
            buf = carry + bytes(piece) if carry else piece
            usable = len(buf) - len(buf) % src_item
            carry = bytes(buf[usable:])
            if usable:
                arr = np.frombuffer(buf[:usable], dtype=self._source.dtype.newbyteorder("<"))
                out = np.ascontiguousarray(self._elementwise(arr)).astype(self._dtype.newbyteorder("<"), copy=False)
                yield memoryview(out).cast("B")


def as_tensor(value: "np.ndarray | Tensor | float | int | bool") -> _Base:
    if isinstance(value, _Base):
        return value
    return ArrayTensor(np.asarray(value))
