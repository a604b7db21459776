"""The TensorFlow frontend: frozen GraphDef, SavedModel and meta graph + checkpoint to a mo Graph."""
from .loader import detect, load

__all__ = ["detect", "load"]
