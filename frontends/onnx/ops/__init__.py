"""ONNX op converters, one module per family; importing this package registers them."""
from . import elementwise, nn, tensor  # noqa: F401
from . import attention, conv_rnn, indexing, math_ext, reduction  # noqa: F401
