"""Indexing and layout ops: slicing, padding, tiling, gather/scatter, resize, ..."""
from __future__ import annotations

from ..opset import op  # noqa: F401
