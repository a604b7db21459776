"""Attention ops."""
from __future__ import annotations

from ..opset import op  # noqa: F401
