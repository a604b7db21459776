"""Walking protobuf wire-format bytes without parsing them into messages.

The Caffe and ONNX frontends read large weight files over a memory map this way, so that
blob/initializer bytes can become file slices instead of protobuf copies.
"""
from __future__ import annotations


class WireError(ValueError):
    """The bytes are not a well-formed protobuf message."""


def varint(buf, pos: int, end: int) -> tuple[int, int]:
    """(value, next position) of the base-128 varint at ``pos``."""
    result = shift = 0
    while True:
        if pos >= end:
            raise WireError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise WireError("varint too long")


def fields(buf, start: int, end: int):
    """(field number, wire type, field start, payload start, payload end, varint value) for each
    field of the message in ``buf[start:end]``; the value is 0 for non-varint fields."""
    pos = start
    while pos < end:
        fstart = pos
        key, pos = varint(buf, pos, end)
        num, wt = key >> 3, key & 7
        if num == 0:
            raise WireError("field number 0")
        if wt == 0:
            v, pos = varint(buf, pos, end)
            yield num, wt, fstart, pos, pos, v
        elif wt == 1:
            if pos + 8 > end:
                raise WireError("truncated fixed64")
            pos += 8
            yield num, wt, fstart, pos - 8, pos, 0
        elif wt == 5:
            if pos + 4 > end:
                raise WireError("truncated fixed32")
            pos += 4
            yield num, wt, fstart, pos - 4, pos, 0
        elif wt == 2:
            n, pos = varint(buf, pos, end)
            if pos + n > end:
                raise WireError("length-delimited field runs past its message")
            yield num, wt, fstart, pos, pos + n, 0
            pos += n
        else:
            raise WireError(f"unsupported wire type {wt}")
    if pos != end:
        raise WireError("message ends inside a field")
