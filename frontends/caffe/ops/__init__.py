"""Caffe layer converters, one module per family; importing this package registers them."""
from . import activation, detection, nn, tensor  # noqa: F401
