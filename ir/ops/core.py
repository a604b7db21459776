"""Graph boundary ops and type conversion: Parameter, Const, Result, Convert, ConvertLike, ShapeOf."""
from __future__ import annotations

import numpy as np

from mo.types import to_numpy

from ..opset import op


@op("Parameter", "opset1", {"element_type": ("etype",), "shape": ("shape", None)}, inputs=(0, 0))
def parameter(ins, a):
    """A model input of the given element type and shape (``-1`` dims are dynamic)."""
    return [(a["element_type"], None if a["shape"] is None else tuple(a["shape"]))]


@op("Const", "opset1", {"element_type": ("etype",), "shape": ("shape",)}, inputs=(0, 0))
def const(ins, a):
    """A constant tensor; its bytes live in the BIN."""
    return [(a["element_type"], tuple(a["shape"]))]


@op("Result", "opset1", inputs=(1, 1))
def result(ins, a):
    """A model output; it has no output port."""
    return []


@op("Convert", "opset1", {"destination_type": ("etype",)}, inputs=(1, 1),
    evaluate=lambda x, a: [x[0].astype(to_numpy(a["destination_type"]))])
def convert(ins, a):
    """Element-wise conversion to ``destination_type`` (floats to ints truncate toward zero)."""
    return [(a["destination_type"], ins[0].shape)]


@op("ConvertLike", "opset1", inputs=(2, 2), evaluate=lambda x, a: [x[0].astype(x[1].dtype)])
def convert_like(ins, a):
    """Conversion of input 0 to the element type of input 1."""
    return [(ins[1].etype, ins[0].shape)]


def _shape_of_fold(ins, a):
    if ins[0].is_static:
        return [np.array(ins[0].shape, dtype=to_numpy(a["output_type"]))]
    return None


@op("ShapeOf", "opset3", {"output_type": ("etype", "i64")}, inputs=(1, 1), fold=_shape_of_fold,
    evaluate=lambda x, a: [np.array(x[0].shape, dtype=to_numpy(a["output_type"]))])
def shape_of(ins, a):
    """The shape of input 0 as a 1-D tensor."""
    return [(a["output_type"], (-1,) if ins[0].shape is None else (len(ins[0].shape),))]
