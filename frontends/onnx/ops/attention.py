"""ONNX attention ops: Attention, RotaryEmbedding and their relatives."""
from __future__ import annotations

from ..context import onnx_ops  # noqa: F401
