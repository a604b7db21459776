"""TensorList (TF2) and TensorArray (TF1) ops, for loops that the frontend unrolls.

Inside an unrolled loop every index is a number known at conversion time, so a list is
just a Python list of graph Values: :class:`TensorSeq`. Lists are immutable here: writing
returns a new TensorSeq, which is what TF's value semantics for TensorLists (and the
``flow`` tensor of TensorArrays) say anyway. A TF1 TensorArray is a handle plus a flow
tensor; the handle becomes a :class:`ArrayHandle` marker and the flow carries the TensorSeq,
so the array's state travels through the loop like any other loop variable.

Reading an element that was never written, or an index that is only known at run time
(outside an unrolled loop), is a clear conversion error.
"""
from __future__ import annotations

import numpy as np

from mo.errors import ConversionError
from mo.graph import Value
from mo.ir.partial import known_value
from mo.types import to_numpy

from ..context import Opaque, TfContext, dtype_to_etype, tf_ops


class TensorSeq(Opaque):
    """The elements of a TensorList / TensorArray: Values, or None where nothing was written yet."""

    __slots__ = ("items", "source", "etype")

    def __init__(self, items: list, source: Value | None = None, etype: str | None = None) -> None:
        self.items = items
        self.source = source  # the tensor this list was unstacked from, while it is unchanged
        self.etype = etype

    def copy(self) -> "TensorSeq":
        return TensorSeq(list(self.items), None, self.etype)

    def __len__(self) -> int:
        return len(self.items)

    def put(self, i: int, item: Value) -> None:
        """Write element ``i``, growing the list when ``i`` is past its end."""
        if i >= len(self.items):
            self.items.extend([None] * (i + 1 - len(self.items)))
        self.items[i] = item


class ArrayHandle(Opaque):
    """The resource output of a TF1 TensorArrayV3 (its state is in the flow output)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


def _seq(x, what: str) -> TensorSeq:
    if not isinstance(x, TensorSeq):
        raise ConversionError(f"{what} is not a TensorList/TensorArray the converter can follow")
    return x


def _int(v, what: str) -> int:
    if isinstance(v, (int, np.integer)):
        return int(v)
    c = known_value(v)
    if c is None:
        raise ConversionError(f"{what} is computed at run time; mo needs it at conversion time "
                              "(loops are unrolled: give the sequence length a static size with --input_shape)")
    return int(np.asarray(c).reshape(-1)[0])


def _ints(v, what: str) -> list[int]:
    c = known_value(v)
    if c is None:
        raise ConversionError(f"{what} is computed at run time; mo needs it at conversion time")
    return [int(x) for x in np.asarray(c).reshape(-1)]


def _get(seq: TensorSeq, i: int) -> Value:
    if i < 0:
        i += len(seq)
    if not 0 <= i < len(seq):
        raise ConversionError(f"list index {i} is out of range (the list has {len(seq)} elements)")
    item = seq.items[i]
    if item is None:
        raise ConversionError(f"element {i} of the list is read before anything was written to it")
    return item


def _read(g: TfContext, seq: TensorSeq, index: Value) -> Value:
    """Element ``index``; a run-time index reads from the stacked tensor with a Gather."""
    c = known_value(index)
    if c is None:
        return g.op("Gather", _stack(g, seq), index, g.i64(0))
    return _get(seq, int(np.asarray(c).reshape(-1)[0]))


def _stack(g: TfContext, seq: TensorSeq, indices: list[int] | None = None) -> Value:
    if indices is None and seq.source is not None:
        return seq.source
    idx = range(len(seq)) if indices is None else indices
    parts = [g.op("Unsqueeze", _get(seq, i), g.i64([0])) for i in idx]
    if not parts:
        raise ConversionError("stacking an empty list is not supported (its element shape is unknown)")
    return parts[0] if len(parts) == 1 else g.op("Concat", *parts, axis=0)


def _unstack(g: TfContext, x: Value, what: str) -> list[Value]:
    if x.shape is None or not x.shape or x.shape[0] < 0:
        raise ConversionError(f"{what}: the first dimension of the tensor to unstack must be static "
                              f"(shape {x.shape}); give the sequence length with --input_shape")
    n = x.shape[0]
    if n == 1:
        return [g.op("Squeeze", x, g.i64([0]))]
    return [g.op("Gather", x, g.i64(k), g.i64(0)) for k in range(n)]


# ----------------------------------------------------------------------------- TensorList (TF2)
@tf_ops.op("TensorListReserve")
def list_reserve(g: TfContext, element_shape: Value, num_elements: Value, *, element_dtype: int = 1):
    n = _int(num_elements, "TensorListReserve num_elements")
    if n < 0:
        raise ConversionError("TensorListReserve with an unknown number of elements (-1) is not supported")
    return TensorSeq([None] * n, etype=dtype_to_etype(element_dtype))


@tf_ops.op("EmptyTensorList")
def empty_list(g: TfContext, element_shape: Value, max_num_elements: Value, *, element_dtype: int = 1):
    return TensorSeq([], etype=dtype_to_etype(element_dtype))


@tf_ops.op("TensorListFromTensor")
def list_from_tensor(g: TfContext, tensor: Value, element_shape: Value, **_):
    return TensorSeq(_unstack(g, tensor, "TensorListFromTensor"), source=tensor, etype=tensor.etype)


@tf_ops.op("TensorListGetItem")
def list_get_item(g: TfContext, lst, index: Value, element_shape: Value | None = None, **_):
    return _read(g, _seq(lst, "TensorListGetItem's list"), index)


@tf_ops.op("TensorListSetItem")
def list_set_item(g: TfContext, lst, index: Value, item: Value, **attrs):
    seq = _seq(lst, "TensorListSetItem's list").copy()
    i = _int(index, "TensorListSetItem index")
    if i >= len(seq) and not attrs.get("resize_if_index_out_of_bounds"):
        raise ConversionError(f"TensorListSetItem index {i} is out of range ({len(seq)} elements)")
    seq.put(i, item)
    return seq


@tf_ops.op("TensorListStack")
def list_stack(g: TfContext, lst, element_shape: Value, **_):
    return _stack(g, _seq(lst, "TensorListStack's list"))


@tf_ops.op("TensorListGather")
def list_gather(g: TfContext, lst, indices: Value, element_shape: Value, **_):
    return _stack(g, _seq(lst, "TensorListGather's list"), _ints(indices, "TensorListGather indices"))


@tf_ops.op("TensorListScatterIntoExistingList")
def list_scatter_existing(g: TfContext, lst, tensor: Value, indices: Value, **_):
    seq = _seq(lst, "TensorListScatterIntoExistingList's list").copy()
    parts = _unstack(g, tensor, "TensorListScatterIntoExistingList")
    for i, part in zip(_ints(indices, "TensorListScatterIntoExistingList indices"), parts):
        seq.put(i, part)
    return seq


@tf_ops.op(["TensorListScatter", "TensorListScatterV2"])
def list_scatter(g: TfContext, tensor: Value, indices: Value, element_shape: Value, num_elements=None, **_):
    idx = _ints(indices, "TensorListScatter indices")
    n = max(idx, default=-1) + 1
    if num_elements is not None:
        n = max(n, _int(num_elements, "TensorListScatter num_elements"))
    seq = TensorSeq([None] * n, etype=tensor.etype)
    for i, part in zip(idx, _unstack(g, tensor, "TensorListScatter")):
        seq.items[i] = part
    return seq


@tf_ops.op("TensorListLength")
def list_length(g: TfContext, lst):
    return np.int32(len(_seq(lst, "TensorListLength's list")))


@tf_ops.op("TensorListPushBack")
def list_push_back(g: TfContext, lst, tensor: Value, **_):
    seq = _seq(lst, "TensorListPushBack's list").copy()
    seq.items.append(tensor)
    return seq


@tf_ops.op("TensorListPopBack")
def list_pop_back(g: TfContext, lst, element_shape: Value, **_):
    seq = _seq(lst, "TensorListPopBack's list").copy()
    if not seq.items:
        raise ConversionError("TensorListPopBack on an empty list")
    item = seq.items.pop()
    if item is None:
        raise ConversionError("TensorListPopBack takes an element that was never written")
    return seq, item


@tf_ops.op("TensorListElementShape")
def list_element_shape(g: TfContext, lst, *, shape_type: int = 3):
    seq = _seq(lst, "TensorListElementShape's list")
    items = [x for x in seq.items if x is not None]
    if not items or not items[0].is_static:
        raise ConversionError("TensorListElementShape: the element shape is not known at conversion time")
    return np.asarray(items[0].shape, dtype=to_numpy(dtype_to_etype(shape_type)))


# ----------------------------------------------------------------------------- TensorArray (TF1)
@tf_ops.op("TensorArrayV3")
def array_v3(g: TfContext, size: Value, *, dtype: int = 1, dynamic_size: bool = False, **_):
    n = _int(size, "TensorArrayV3 size")
    return ArrayHandle(g.node.name), TensorSeq([None] * n, etype=dtype_to_etype(dtype))


@tf_ops.op("TensorArrayScatterV3")
def array_scatter(g: TfContext, handle, indices: Value, value: Value, flow):
    seq = _seq(flow, "TensorArrayScatterV3's flow").copy()
    for i, part in zip(_ints(indices, "TensorArrayScatterV3 indices"), _unstack(g, value, "TensorArrayScatterV3")):
        seq.put(i, part)
    return seq


@tf_ops.op("TensorArrayWriteV3")
def array_write(g: TfContext, handle, index: Value, value: Value, flow):
    seq = _seq(flow, "TensorArrayWriteV3's flow").copy()
    seq.put(_int(index, "TensorArrayWriteV3 index"), value)
    return seq


@tf_ops.op("TensorArrayReadV3")
def array_read(g: TfContext, handle, index: Value, flow, **_):
    return _read(g, _seq(flow, "TensorArrayReadV3's flow"), index)


@tf_ops.op("TensorArrayGatherV3")
def array_gather(g: TfContext, handle, indices: Value, flow, **_):
    seq = _seq(flow, "TensorArrayGatherV3's flow")
    return _stack(g, seq, _ints(indices, "TensorArrayGatherV3 indices"))


@tf_ops.op("TensorArrayConcatV3")
def array_concat(g: TfContext, handle, flow, **_):
    seq = _seq(flow, "TensorArrayConcatV3's flow")
    items = [_get(seq, i) for i in range(len(seq))]
    if not items:
        raise ConversionError("TensorArrayConcatV3 of an empty array is not supported")
    lengths = []
    for it in items:
        if it.shape is None or not it.shape or it.shape[0] < 0:
            raise ConversionError("TensorArrayConcatV3: element lengths must be static")
        lengths.append(it.shape[0])
    out = items[0] if len(items) == 1 else g.op("Concat", *items, axis=0)
    return out, np.asarray(lengths, dtype=np.int64)


@tf_ops.op("TensorArraySizeV3")
def array_size(g: TfContext, handle, flow):
    return np.int32(len(_seq(flow, "TensorArraySizeV3's flow")))


@tf_ops.op("TensorArrayCloseV3")
def array_close(g: TfContext, handle):
    return None
