"""ONNX transposed convolution, pooling variants, recurrent and detection ops."""
from __future__ import annotations

from ..context import onnx_ops  # noqa: F401
