"""Writes Kaldi model files in the binary or text encoding, for the tests (format notes:
shared/reference/kaldi-format.md)."""
from __future__ import annotations

import struct

import numpy as np


class KaldiWriter:
    def __init__(self, binary: bool) -> None:
        self.binary = binary
        self.out = bytearray(b"\0B" if binary else b"")

    def token(self, t: str) -> "KaldiWriter":
        self.out += t.encode() + b" "
        return self

    def int32(self, v: int) -> "KaldiWriter":
        self.out += b"\x04" + struct.pack("<i", v) if self.binary else f"{v} ".encode()
        return self

    def float(self, v: float) -> "KaldiWriter":
        self.out += b"\x04" + struct.pack("<f", v) if self.binary else f"{v!r} ".encode()
        return self

    def vector(self, v) -> "KaldiWriter":
        v = np.asarray(v, np.float32)
        if self.binary:
            self.token("FV").int32(v.size)
            self.out += v.astype("<f4").tobytes()
        else:
            self.out += (" [ " + " ".join(repr(float(x)) for x in v) + " ]\n").encode()
        return self

    def matrix(self, m) -> "KaldiWriter":
        m = np.asarray(m, np.float32)
        if self.binary:
            self.token("FM").int32(m.shape[0]).int32(m.shape[1])
            self.out += m.astype("<f4").tobytes()
        else:
            rows = "\n".join("  " + " ".join(repr(float(x)) for x in r) for r in m)
            self.out += (" [\n" + rows + " ]\n").encode()
        return self

    def int_vector(self, v) -> "KaldiWriter":
        v = np.asarray(v, np.int32)
        if self.binary:
            self.out += b"\x04" + struct.pack("<i", v.size) + v.astype("<i4").tobytes()
        else:
            self.out += ("[ " + " ".join(str(int(x)) for x in v) + " ]\n").encode()
        return self

    def int_pair_vector(self, pairs) -> "KaldiWriter":
        v = np.asarray(pairs, np.int32).reshape(-1, 2)
        if self.binary:
            self.out += b"\x04" + struct.pack("<i", len(v)) + v.astype("<i4").tobytes()
        else:
            self.out += ("[ " + " ".join(f"{a},{b}" for a, b in v) + " ]\n").encode()
        return self

    def bool(self, v: bool) -> "KaldiWriter":
        self.out += (b"T" if v else b"F") + (b"" if self.binary else b" ")
        return self

    def bytes(self) -> bytes:
        return bytes(self.out)
