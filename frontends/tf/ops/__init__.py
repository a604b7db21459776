"""TensorFlow op converters, one module per family; importing this package registers them."""
from . import elementwise, indexing, lists, nn, spatial, tensor  # noqa: F401
