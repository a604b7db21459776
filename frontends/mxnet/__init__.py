"""The MXNet frontend: symbol JSON + NDArray list .params to a mo Graph, read without mxnet."""
from .loader import detect, load

__all__ = ["detect", "load"]
