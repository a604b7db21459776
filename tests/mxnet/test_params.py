"""The NDArray list reader against files mxnet 1.9.1 wrote (v2 headers) and against v1 and
legacy headers written here by the format's description; sparse storage is refused."""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from mo.errors import InputError
from mo.frontends.mxnet import detect
from mo.frontends.mxnet.params import read_params, split_params
from mo.tensor import MappedTensor

from .conftest import _generated


@pytest.fixture(scope="module")
def params_dir() -> Path:
    return _generated("make_params.py")


def test_dense_types_from_mxnet(params_dir):
    ref = np.load(params_dir / "dtypes.npz")
    got = read_params(str(params_dir / "dtypes.params"))
    assert sorted(got) == sorted(k.replace("_", ":", 1) for k in ref.files)
    for key in ref.files:
        t = got[key.replace("_", ":", 1)]
        assert isinstance(t, MappedTensor)       # memory-mapped, not read
        a = t.numpy()
        assert a.dtype == ref[key].dtype and a.shape == ref[key].shape, key
        np.testing.assert_array_equal(a, ref[key])
    args, aux = split_params(got)
    assert set(aux) == {"i8", "u8"} and "f32" in args and "arg:f32" not in args


def test_unnamed_list(params_dir):
    got = read_params(str(params_dir / "list.params"))
    assert list(got) == ["0", "1"]
    assert got["0"].dtype == np.float32 and got["1"].dtype == np.int32


@pytest.mark.parametrize("kind", ["row_sparse", "csr"])
def test_sparse_refused(params_dir, kind):
    with pytest.raises(InputError, match=f"stored as {kind}; mo reads dense arrays only"):
        read_params(str(params_dir / f"{kind}.params"))


def _write(path: Path, arrays: list[np.ndarray], names: list[str], header: str) -> None:
    flags = {np.dtype("float32"): 0, np.dtype("float64"): 1, np.dtype("float16"): 2, np.dtype("int64"): 6}
    out = bytearray(struct.pack("<QQQ", 0x112, 0, len(arrays)))
    for a in arrays:
        if header == "v1":
            out += struct.pack("<II", 0xF993FAC8, a.ndim) + struct.pack(f"<{a.ndim}q", *a.shape)
        else:  # legacy: no magic, uint32 dims
            out += struct.pack("<I", a.ndim) + struct.pack(f"<{a.ndim}I", *a.shape)
        out += struct.pack("<iii", 1, 0, flags[a.dtype]) + a.astype(a.dtype.newbyteorder("<")).tobytes()
    out += struct.pack("<Q", len(names))
    for n in names:
        out += struct.pack("<Q", len(n)) + n.encode()
    path.write_bytes(bytes(out))


@pytest.mark.parametrize("header", ["v1", "legacy"])
def test_old_headers(tmp_path, header):
    arrays = [np.arange(12, dtype=np.float32).reshape(3, 4), np.array([1.5, -2], np.float64),
              np.array([[7]], np.int64), np.ones((2, 1, 2), np.float16)]
    names = ["arg:a", "arg:b", "aux:c", "arg:d"]
    p = tmp_path / "old.params"
    _write(p, arrays, names, header)
    assert detect(str(p))
    got = read_params(str(p))
    for n, a in zip(names, arrays):
        np.testing.assert_array_equal(got[n].numpy(), a)
        assert got[n].dtype == a.dtype


def test_truncated(params_dir, tmp_path):
    data = (params_dir / "dtypes.params").read_bytes()
    for cut in (8, 40, len(data) // 2, len(data) - 3):
        p = tmp_path / "cut.params"
        p.write_bytes(data[:cut])
        with pytest.raises(InputError, match="truncated"):
            read_params(str(p))


def test_detect(params_dir, tmp_path):
    assert detect(str(params_dir / "dtypes.params"))
    assert detect(str(params_dir / "legacy-symbol.json"))
    (tmp_path / "x.json").write_text('{"a": 1}')
    assert not detect(str(tmp_path / "x.json"))
    from mo.pipeline import detect_framework
    assert detect_framework(str(params_dir / "legacy-symbol.json")) == "mxnet"
    assert detect_framework(str(params_dir / "dtypes.params")) == "mxnet"
