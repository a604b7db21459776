"""The ONNX frontend: .onnx files (embedded or external data) to a mo Graph."""
from .loader import detect, load

__all__ = ["detect", "load"]
