"""Tensors: in-memory, memory-mapped and lazy; chunked little-endian streaming."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mo.tensor import ArrayTensor, LazyTensor, MappedTensor, Tensor, as_tensor


def joined(t, chunk_bytes: int) -> bytes:
    return b"".join(bytes(c) for c in t.chunks(chunk_bytes))


def test_array_tensor_chunks_cover_the_data_in_order() -> None:
    a = np.arange(1000, dtype=np.float32).reshape(10, 100)
    t = ArrayTensor(a)
    assert isinstance(t, Tensor) and t.shape == (10, 100) and t.nbytes == 4000 and t.etype == "f32"
    for chunk in (4, 7, 1000, 4000, 1 << 20):
        pieces = list(t.chunks(chunk))
        assert all(len(p) <= max(chunk, 4) for p in pieces)
        assert b"".join(bytes(p) for p in pieces) == a.tobytes()
    assert t.numpy() is a                           # never copied


def test_big_endian_and_non_contiguous_arrays_stream_little_endian() -> None:
    a = np.arange(12, dtype=">i4").reshape(3, 4)
    assert joined(ArrayTensor(a), 8) == a.astype("<i4").tobytes()
    b = np.arange(24, dtype=np.float32).reshape(4, 6)[:, ::2]
    assert joined(ArrayTensor(b), 5) == np.ascontiguousarray(b).tobytes()


def test_mapped_tensor_reads_its_slice(tmp_path: Path) -> None:
    a = np.random.default_rng(0).standard_normal((33, 5)).astype(np.float32)
    f = tmp_path / "w.bin"
    f.write_bytes(b"HEADER--" + a.tobytes() + b"tail")
    t = MappedTensor(f, 8, np.float32, (33, 5))
    np.testing.assert_array_equal(t.numpy(), a)
    assert joined(t, 64) == a.tobytes() and joined(t, 1 << 20) == a.tobytes()
    assert t.digest() == ArrayTensor(a).digest()
    assert MappedTensor(f, 0, np.float32, (0, 5)).numpy().shape == (0, 5)


def test_mapped_tensor_on_a_short_file_fails_clearly(tmp_path: Path) -> None:
    f = tmp_path / "short.bin"
    f.write_bytes(b"\0" * 10)
    with pytest.raises(EOFError, match="file ends before"):
        list(MappedTensor(f, 4, np.float32, (4,)).chunks())


def test_mapped_big_endian(tmp_path: Path) -> None:
    a = np.arange(6, dtype=">f4")
    f = tmp_path / "be.bin"
    f.write_bytes(a.tobytes())
    assert joined(MappedTensor(f, 0, ">f4", (6,)), 8) == a.astype("<f4").tobytes()


@pytest.mark.parametrize("chunk", [2, 3, 6, 10, 4096])
def test_lazy_cast_streams_chunk_by_chunk(tmp_path: Path, chunk: int) -> None:
    a = np.linspace(-3, 3, 101, dtype=np.float32)
    f = tmp_path / "w.bin"
    f.write_bytes(a.tobytes())
    half = LazyTensor.cast(MappedTensor(f, 0, np.float32, (101,)), np.float16)
    assert half.dtype == np.float16 and half.shape == (101,)
    assert joined(half, chunk) == a.astype(np.float16).tobytes()
    np.testing.assert_array_equal(half.numpy(), a.astype(np.float16))


def test_lazy_tensor_checks_what_it_computes() -> None:
    calls = []

    def compute() -> np.ndarray:
        calls.append(1)
        return np.ones((2, 2), np.float32)

    t = LazyTensor(compute, np.float32, (2, 2))
    assert calls == []                               # nothing runs until asked
    assert joined(t, 4) == np.ones((2, 2), np.float32).tobytes()
    bad = LazyTensor(compute, np.float32, (4,))
    with pytest.raises(ValueError, match="declared float32"):
        bad.numpy()


def test_as_tensor() -> None:
    t = as_tensor(3.5)
    assert isinstance(t, ArrayTensor) and t.shape == () and float(t.numpy()) == 3.5
    assert as_tensor(t) is t
