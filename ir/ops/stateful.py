"""Stateful ops: a variable read at the start of an inference and written at its end."""
from __future__ import annotations

from ..opset import op


@op("ReadValue", "opset6", {"variable_id": ("str",)}, inputs=(1, 1))
def read_value(ins, a):
    """The variable ``variable_id``'s value; ``init`` (input 0) until the first Assign, and after a reset."""
    return [(ins[0].etype, ins[0].shape)]


@op("Assign", "opset6", {"variable_id": ("str",)}, inputs=(1, 1))
def assign(ins, a):
    """Stores input 0 in the variable ``variable_id`` for the next inference; a sink of the model."""
    return [(ins[0].etype, ins[0].shape)]
