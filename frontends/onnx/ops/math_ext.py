"""ONNX math, type and quantization ops beyond the basic element-wise set."""
from __future__ import annotations

from ..context import onnx_ops  # noqa: F401
