"""The op declarations, one module per family; importing this package registers them all."""
from . import core, elementwise, movement, nn, reduce  # noqa: F401
from . import attention, detection, indexing, math_ext, normalization  # noqa: F401
from . import tf_extra  # noqa: F401  (after the families: declares only what they lack)
from . import mxnet_extra  # noqa: F401  (declares only what the families lack)
from . import fusion_structural  # noqa: F401
from . import stateful  # noqa: F401
from . import caffe_extra  # noqa: F401  (declares only what the families lack)
