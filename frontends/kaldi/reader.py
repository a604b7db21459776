"""Kaldi's binary and text encodings, read as one stream of tokens and values.

Binary files start with ``\\0B``; anything else is text (format notes:
shared/reference/kaldi-format.md, from Kaldi's io-funcs and kaldi-matrix). In both modes a
token is ``<Name>`` followed by a space. Binary values: int32 = size byte 4 + 4 bytes,
float = size byte 4 / double = size byte 8 + IEEE bytes, bool = ``T``/``F``, vector =
token ``FV``/``DV`` + int32 dim + data, matrix = ``FM``/``DM`` + rows + cols + data, or a
compressed matrix (``CM``, ``CM2``, ``CM3``); integer vectors = size byte + raw int32 count +
raw elements. Text values are whitespace-separated; vectors are ``[ a b c ]``, matrices
``[`` newline, one row per line, `` ]``.

Errors name the file and the byte offset (binary) or line (text).
"""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from mo.errors import InputError


NEWLINE = b"\n"


class KaldiFormatError(InputError):
    pass


class Reader:
    def __init__(self, data: bytes, path: str, start: int = 0) -> None:
        self.data = data
        self.path = path
        self.binary = data[start:start + 2] == b"\0B"
        self.pos = start + 2 if self.binary else start

    @classmethod
    def open(cls, path: str | Path) -> "Reader":
        return cls(Path(path).read_bytes(), str(path))

    # ------------------------------------------------------------ positions and errors
    def where(self, pos: int | None = None) -> str:
        pos = self.pos if pos is None else pos
        if self.binary:
            return f"byte {pos}"
        return f"line {self.data.count(NEWLINE, 0, pos) + 1}"

    def fail(self, message: str, pos: int | None = None) -> KaldiFormatError:
        return KaldiFormatError(f"{self.path}: {message} at {self.where(pos)}")

    def _skip_ws(self) -> None:
        d, n = self.data, len(self.data)
        while self.pos < n and d[self.pos] in b" \t\n\r":
            self.pos += 1

    def eof(self) -> bool:
        self._skip_ws()
        return self.pos >= len(self.data)

    # ------------------------------------------------------------ tokens
    def peek_char(self) -> str:
        self._skip_ws()
        return chr(self.data[self.pos]) if self.pos < len(self.data) else ""

    def peek_token(self) -> str:
        save = self.pos
        try:
            return self.token()
        finally:
            self.pos = save

    def token(self) -> str:
        self._skip_ws()
        start = self.pos
        d, n = self.data, len(self.data)
        while self.pos < n and d[self.pos] not in b" \t\n\r":
            self.pos += 1
        if self.pos == start:
            raise self.fail("unexpected end of file where a token was expected")
        tok = d[start:self.pos].decode("latin-1")
        if self.pos < n:
            self.pos += 1  # the single space after a token
        return tok

    def expect(self, token: str) -> None:
        start = self.pos
        got = self.token()
        if got != token:
            raise self.fail(f"expected {token}, found {got[:40]!r}", start)

    def line(self) -> str:
        """The rest of the current line (nnet3 config lines, also in binary files)."""
        end = self.data.find(b"\n", self.pos)
        end = len(self.data) if end < 0 else end
        text = self.data[self.pos:end].decode("utf-8", "replace")
        self.pos = end + 1
        return text

    # ------------------------------------------------------------ scalars
    def _need(self, count: int) -> None:
        if self.pos + count > len(self.data):
            raise self.fail(f"file ends inside a value ({count} bytes needed, "
                            f"{len(self.data) - self.pos} left)")

    def int32(self) -> int:
        if self.binary:
            self._need(5)
            size = self.data[self.pos]
            if size not in (4, 0xFC):
                raise self.fail(f"expected a 4-byte integer, found size byte {size}")
            v = struct.unpack_from("<i" if size == 4 else "<I", self.data, self.pos + 1)[0]
            self.pos += 5
            return int(v)
        start = self.pos
        tok = self.token()
        try:
            return int(tok)
        except ValueError:
            raise self.fail(f"expected an integer, found {tok[:40]!r}", start) from None

    def float(self) -> float:
        if self.binary:
            self._need(1)
            size = self.data[self.pos]
            if size == 4:
                self._need(5)
                v = struct.unpack_from("<f", self.data, self.pos + 1)[0]
            elif size == 8:
                self._need(9)
                v = struct.unpack_from("<d", self.data, self.pos + 1)[0]
            else:
                raise self.fail(f"expected a float, found size byte {size}")
            self.pos += 1 + size
            return float(v)
        start = self.pos
        tok = self.token()
        try:
            return float(tok)
        except ValueError:
            raise self.fail(f"expected a number, found {tok[:40]!r}", start) from None

    def bool(self) -> bool:
        c = self.peek_char() if not self.binary else chr(self.data[self.pos])
        if c not in ("T", "F"):
            raise self.fail(f"expected a boolean T or F, found {c!r}")
        self.pos += 1
        if not self.binary:
            self._skip_ws()
        return c == "T"

    # ------------------------------------------------------------ vectors and matrices
    def int_vector(self) -> np.ndarray:
        if self.binary:
            self._need(5)
            if self.data[self.pos] != 4:
                raise self.fail(f"expected an int32 vector, found element size {self.data[self.pos]}")
            n = struct.unpack_from("<i", self.data, self.pos + 1)[0]
            self.pos += 5
            self._need(4 * n)
            v = np.frombuffer(self.data, "<i4", n, self.pos).astype(np.int64)
            self.pos += 4 * n
            return v
        return self._text_list().astype(np.int64)

    def int_pair_vector(self) -> np.ndarray:
        """Kaldi's WriteIntegerPairVector: binary = element size byte, raw int32 count, raw pairs;
        text = ``[ a,b c,d ]``. Returns an int64 array of shape [count, 2]."""
        if self.binary:
            self._need(5)
            if self.data[self.pos] != 4:
                raise self.fail(f"expected an int32 pair vector, found element size {self.data[self.pos]}")
            n = struct.unpack_from("<i", self.data, self.pos + 1)[0]
            self.pos += 5
            self._need(8 * n)
            v = np.frombuffer(self.data, "<i4", 2 * n, self.pos).astype(np.int64).reshape(n, 2)
            self.pos += 8 * n
            return v
        start = self.pos
        self.expect("[")
        end = self.data.find(b"]", self.pos)
        if end < 0:
            raise self.fail("unterminated [ ... ] list", start)
        text = self.data[self.pos:end].decode("latin-1")
        self.pos = end + 1
        try:
            pairs = [tuple(int(v) for v in item.split(",")) for item in text.split()]
        except ValueError:
            raise self.fail("an integer pair list holds something that is not a pair a,b", start) from None
        if any(len(p) != 2 for p in pairs):
            raise self.fail("an integer pair list holds something that is not a pair a,b", start)
        return np.array(pairs, np.int64).reshape(-1, 2)

    def _text_list(self) -> np.ndarray:
        self.expect("[")
        end = self.data.find(b"]", self.pos)
        if end < 0:
            raise self.fail("unterminated [ ... ] list")
        text = self.data[self.pos:end].decode("latin-1")
        self.pos = end + 1
        try:
            return np.array([float(t) for t in text.split()], dtype=np.float64)
        except ValueError:
            raise self.fail("a list holds something that is not a number") from None

    def vector(self) -> np.ndarray:
        if self.binary:
            start = self.pos
            tok = self.token()
            if tok not in ("FV", "DV"):
                raise self.fail(f"expected a vector (FV/DV), found {tok[:20]!r}", start)
            n = self.int32()
            dtype = "<f4" if tok == "FV" else "<f8"
            size = np.dtype(dtype).itemsize * n
            self._need(size)
            v = np.frombuffer(self.data, dtype, n, self.pos).astype(np.float32)
            self.pos += size
            return v
        return self._text_list().astype(np.float32)

    def matrix(self) -> np.ndarray:
        if self.binary:
            start = self.pos
            tok = self.token()
            if tok.startswith("C"):
                return self._compressed(tok, start)
            if tok not in ("FM", "DM"):
                raise self.fail(f"expected a matrix (FM/DM/CM), found {tok[:20]!r}", start)
            rows, cols = self.int32(), self.int32()
            if rows < 0 or cols < 0:
                raise self.fail(f"matrix with negative size {rows}x{cols}", start)
            dtype = "<f4" if tok == "FM" else "<f8"
            size = np.dtype(dtype).itemsize * rows * cols
            self._need(size)
            m = np.frombuffer(self.data, dtype, rows * cols, self.pos).reshape(rows, cols).astype(np.float32)
            self.pos += size
            return m
        start = self.pos
        self.expect("[")
        end = self.data.find(b"]", self.pos)
        if end < 0:
            raise self.fail("unterminated matrix", start)
        rows = [r.split() for r in self.data[self.pos:end].decode("latin-1").splitlines() if r.strip()]
        self.pos = end + 1
        if not rows:
            return np.zeros((0, 0), np.float32)
        if len({len(r) for r in rows}) != 1:
            raise self.fail("matrix rows of different lengths", start)
        try:
            return np.array(rows, dtype=np.float64).astype(np.float32)
        except ValueError:
            raise self.fail("a matrix holds something that is not a number", start) from None

    def _compressed(self, tok: str, start: int) -> np.ndarray:
        """CompressedMatrix (compressed-matrix.cc): a global header, then per-column or plain bytes."""
        if tok not in ("CM", "CM2", "CM3"):
            raise self.fail(f"unknown compressed matrix format {tok!r}", start)
        self._need(16)
        min_value, value_range, rows, cols = struct.unpack_from("<ffii", self.data, self.pos)
        self.pos += 16
        if tok == "CM":  # per column: 4 uint16 percentiles, then one byte per element, column-major
            self._need(8 * cols + rows * cols)
            headers = np.frombuffer(self.data, "<u2", 4 * cols, self.pos).reshape(cols, 4).astype(np.float64)
            self.pos += 8 * cols
            data = np.frombuffer(self.data, np.uint8, rows * cols, self.pos).reshape(cols, rows).astype(np.float64)
            self.pos += rows * cols
            p = min_value + headers * (value_range / 65535.0)
            p0, p25, p75, p100 = (p[:, k:k + 1] for k in range(4))
            out = np.where(data <= 64, p0 + (p25 - p0) * data / 64.0,
                           np.where(data <= 192, p25 + (p75 - p25) * (data - 64) / 128.0,
                                    p75 + (p100 - p75) * (data - 192) / 63.0))
            return out.T.astype(np.float32)
        width = 2 if tok == "CM2" else 1
        self._need(width * rows * cols)
        raw = np.frombuffer(self.data, "<u2" if width == 2 else np.uint8, rows * cols, self.pos)
        self.pos += width * rows * cols
        scale = value_range / (65535.0 if width == 2 else 255.0)
        return (min_value + raw.astype(np.float64) * scale).reshape(rows, cols).astype(np.float32)
