"""The OpenVINO opset as mo emits it (declarations, inference, evaluation) and the IR emitter."""
from . import ops  # noqa: F401  (registers every op declaration)
from .builder import Builder
from .opset import OPS, OpError

__all__ = ["Builder", "OPS", "OpError"]
