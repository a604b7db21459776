"""The Kaldi frontend: nnet3 models (binary and text) to a mo Graph, read without Kaldi."""
from .loader import detect, load

__all__ = ["detect", "load"]
