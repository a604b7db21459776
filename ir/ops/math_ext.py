"""Math, bitwise and quantization ops beyond the basic element-wise set."""
from __future__ import annotations

from ..opset import op  # noqa: F401
