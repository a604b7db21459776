"""MXNet op converters, one module per family; importing this package registers them."""
from . import contrib, detection, elementwise, nn, rnn, tensor  # noqa: F401
