"""ONNX indexing and shape ops: Slice, Split, Pad, Tile, Expand, Gather/Scatter families, Resize, ..."""
from __future__ import annotations

from ..context import onnx_ops  # noqa: F401
