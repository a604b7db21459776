"""The Kaldi token reader on hand-built bytes: sized integers, float/double, FV/DV vectors, FM/DM
matrices, the compressed CM (per-column percentile headers, column-major bytes), CM2 (uint16) and
CM3 (uint8) matrices, integer (pair) vectors, the text forms, and errors naming byte or line.

Compressed values (kaldi compressed-matrix.cc): u16 -> min + range * u / 65535; CM bytes b with
column percentiles p0, p25, p75, p100: b <= 64: p0 + (p25 - p0) b / 64; b <= 192: p25 + (p75 - p25)
(b - 64) / 128; else p75 + (p100 - p75) (b - 192) / 63; CM3 bytes: min + range * b / 255.
"""
from __future__ import annotations

import struct

import numpy as np
import pytest

from mo.frontends.kaldi.reader import KaldiFormatError, Reader


def _r(data: bytes) -> Reader:
    return Reader(data, "test.bin")


def test_binary_scalars_vectors_matrices():
    data = (b"\0B<Tag> \x04" + struct.pack("<i", -7) + b"\x04" + struct.pack("<f", 1.5) + b"\x08"
            + struct.pack("<d", 2.25) + b"T" + b"DV \x04" + struct.pack("<i", 2) + struct.pack("<2d", 0.5, -1)
            + b"DM \x04" + struct.pack("<i", 1) + b"\x04" + struct.pack("<i", 2) + struct.pack("<2d", 3, 4)
            + b"\x04" + struct.pack("<i", 2) + struct.pack("<4i", 1, -2, 3, 4))
    r = _r(data)
    r.expect("<Tag>")
    assert (r.int32(), r.float(), r.float(), r.bool()) == (-7, 1.5, 2.25, True)
    np.testing.assert_array_equal(r.vector(), [0.5, -1])
    np.testing.assert_array_equal(r.matrix(), [[3, 4]])
    np.testing.assert_array_equal(r.int_pair_vector(), [[1, -2], [3, 4]])
    assert r.eof()


def test_compressed_matrices():
    mn, rng = -2.0, 4.0
    head = struct.pack("<ffii", mn, rng, 2, 3)
    u16 = np.array([[0, 65535, 32768], [1000, 2000, 3000]], "<u2")
    r = _r(b"\0BCM2 " + head + u16.tobytes())
    np.testing.assert_allclose(r.matrix(), mn + rng * u16 / 65535.0, rtol=1e-6)
    u8 = np.array([[0, 255, 128], [1, 2, 3]], np.uint8)
    r = _r(b"\0BCM3 " + head + u8.tobytes())
    np.testing.assert_allclose(r.matrix(), mn + rng * u8 / 255.0, rtol=1e-6)
    headers = np.array([[0, 10000, 50000, 65535], [100, 200, 300, 400], [0, 0, 65535, 65535]], "<u2")
    cols = np.array([[0, 64], [100, 192], [200, 255]], np.uint8)  # column-major: one row per column
    r = _r(b"\0BCM " + head + headers.tobytes() + cols.tobytes())
    p = mn + rng * headers / 65535.0

    def value(c, b):
        p0, p25, p75, p100 = p[c]
        if b <= 64:
            return p0 + (p25 - p0) * b / 64
        if b <= 192:
            return p25 + (p75 - p25) * (b - 64) / 128
        return p75 + (p100 - p75) * (b - 192) / 63

    want = np.array([[value(c, cols[c, row]) for c in range(3)] for row in range(2)])
    np.testing.assert_allclose(r.matrix(), want, rtol=1e-6)


def test_text_forms():
    r = Reader(b"<A> 3 -1.5e-1 F [ 1 2 3 ]\n [\n 1 2\n 3 4 ]\n[ 4 5 ]\n[ 1,2 -3,4 ]\n", "t.txt")
    r.expect("<A>")
    assert (r.int32(), r.float(), r.bool()) == (3, -0.15, False)
    np.testing.assert_array_equal(r.vector(), [1, 2, 3])
    np.testing.assert_array_equal(r.matrix(), [[1, 2], [3, 4]])
    np.testing.assert_array_equal(r.int_vector(), [4, 5])
    np.testing.assert_array_equal(r.int_pair_vector(), [[1, 2], [-3, 4]])


def test_errors_name_the_byte_or_line():
    r = _r(b"\0BFM \x04" + struct.pack("<i", 4) + b"\x04" + struct.pack("<i", 4) + b"\0" * 10)
    with pytest.raises(KaldiFormatError, match=r"test.bin: file ends inside a value \(64 bytes needed, 10 left\) "
                                               r"at byte 15"):
        r.matrix()
    r = Reader(b"<A>\n\n 1 2\n x", "t.txt")
    r.expect("<A>")
    r.int32(), r.int32()
    with pytest.raises(KaldiFormatError, match=r"t.txt: expected an integer, found 'x' at line 4"):
        r.int32()
    with pytest.raises(KaldiFormatError, match="expected <B>, found '<A>' at byte 2"):
        _r(b"\0B<A> ").expect("<B>")
