"""Element types of the OpenVINO IR and their numpy and XML spellings.

An element type is a plain string, the spelling the IR uses in ``element_type``
attributes (``"f32"``, ``"i64"``, ``"boolean"`` ...).
"""
from __future__ import annotations

import numpy as np

ElementType = str

# IR spelling -> (numpy dtype, XML port precision)
_TABLE: dict[str, tuple[str | None, str]] = {
    "f32": ("float32", "FP32"),
    "f16": ("float16", "FP16"),
    "f64": ("float64", "FP64"),
    "bf16": (None, "BF16"),
    "i64": ("int64", "I64"),
    "i32": ("int32", "I32"),
    "i16": ("int16", "I16"),
    "i8": ("int8", "I8"),
    "u64": ("uint64", "U64"),
    "u32": ("uint32", "U32"),
    "u16": ("uint16", "U16"),
    "u8": ("uint8", "U8"),
    "boolean": ("bool", "BOOL"),
    "u1": (None, "BIN"),
    "i4": (None, "I4"),
    "u4": (None, "U4"),
    "dynamic": (None, "UNSPECIFIED"),
}

_FROM_NUMPY = {np.dtype(v[0]): k for k, v in _TABLE.items() if v[0] is not None}

FLOAT_TYPES = frozenset({"f32", "f16", "f64", "bf16"})
INT_TYPES = frozenset({"i64", "i32", "i16", "i8", "u64", "u32", "u16", "u8", "i4", "u4", "u1"})


def is_known(et: str) -> bool:
    return et in _TABLE


def to_numpy(et: ElementType) -> np.dtype:
    """numpy dtype of an element type; raises ValueError for types numpy cannot hold."""
    try:
        name = _TABLE[et][0]
    except KeyError:
        raise ValueError(f"unknown element type {et!r}") from None
    if name is None:
        raise ValueError(f"element type {et!r} has no numpy equivalent")
    return np.dtype(name)


def from_numpy(dtype: np.dtype | type) -> ElementType:
    dt = np.dtype(dtype)
    try:
        return _FROM_NUMPY[dt]
    except KeyError:
        raise ValueError(f"numpy dtype {dt} has no IR element type") from None


def precision(et: ElementType) -> str:
    """The XML ``precision`` spelling of a port (``FP32``, ``I64``, ``BOOL`` ...)."""
    return _TABLE[et][1]


def is_float(et: ElementType) -> bool:
    return et in FLOAT_TYPES
