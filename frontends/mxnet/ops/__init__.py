"""MXNet op converters, one module per family; importing this package registers them."""
from . import elementwise, nn, tensor  # noqa: F401
