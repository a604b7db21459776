"""The converter context: a Builder that knows the Caffe layer being converted and its blobs."""
from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from mo.errors import ConversionError, InputError
from mo.graph import Graph, Value
from mo.ir.builder import Builder
from mo.tensor import ArrayTensor, LazyTensor, MappedTensor, Tensor

from ..registry import Registry, run_converter
from .layers import Layer
from .weights import Blob, LayerBlobs

caffe_ops = Registry("caffe")


def dispatch_key(layer: Layer) -> str:
    """The registry key of a layer: its type, or ``Python:<layer class>`` for Python layers."""
    if layer.type == "Python":
        return f"Python:{layer.msg.python_param.layer}"
    return layer.type


class BlobSource(Protocol):
    """Where a layer's learned blobs come from: a .caffemodel (or, in tests, random values of the
    shapes the converters ask for)."""

    def blob(self, layer: Layer, index: int, shape: tuple[int, ...], kind: str) -> Tensor: ...


class CaffemodelBlobs:
    """Blobs of a .caffemodel, checked against the shapes the prototxt's layers need."""

    def __init__(self, path: str, prototxt: str, layers: dict[str, LayerBlobs]) -> None:
        self.path = path
        self.prototxt = prototxt
        self.layers = layers

    def blob(self, layer: Layer, index: int, shape: tuple[int, ...], kind: str) -> Tensor:
        entry = self.layers.get(layer.name)
        if entry is None:
            raise InputError(f"{self.path}: has no layer {layer.name!r} ({layer.type}) of {self.prototxt}; "
                             f"are the .prototxt and the .caffemodel from the same model?")
        if index >= len(entry.blobs):
            raise InputError(f"{self.path}: layer {layer.name!r} ({layer.type}) has {len(entry.blobs)} blob(s), "
                             f"{self.prototxt} needs blob {index} ({kind}); are they from the same model?")
        b: Blob = entry.blobs[index]
        if tuple(b.shape) == tuple(shape):
            return b.tensor
        count = int(np.prod(shape, dtype=np.int64))
        squeezed = tuple(d for d in b.shape if d != 1) == tuple(d for d in shape if d != 1)
        if count == int(np.prod(b.shape, dtype=np.int64)) and (b.legacy or squeezed):
            return _reshaped(b.tensor, shape)   # legacy 4-D shapes ([1,1,N,K] for a [N,K] matrix)
        raise InputError(f"{self.path}: blob {index} ({kind}) of layer {layer.name!r} ({layer.type}) has shape "
                         f"{list(b.shape)}, {self.prototxt} needs {list(shape)}; are they from the same model?")


def _reshaped(t: Tensor, shape: tuple[int, ...]) -> Tensor:
    """The same data under another shape, still unread (a mapped slice stays a mapped slice)."""
    if isinstance(t, MappedTensor):
        return MappedTensor(t.path, t.offset, t.dtype, shape)
    if isinstance(t, ArrayTensor):
        return ArrayTensor(t.array.reshape(shape))
    source = getattr(t, "_source", None)
    if isinstance(t, LazyTensor) and isinstance(source, MappedTensor):   # doubles converted chunk by chunk
        return LazyTensor.cast(_reshaped(source, shape), t.dtype)
    return LazyTensor(lambda: t.numpy().reshape(shape), t.dtype, shape)


class CaffeContext(Builder):
    """What a converter receives as ``g``: the Builder plus the layer (``g.layer``), its
    parameter message (``g.p``) and its blobs (``g.blob(i, shape)``)."""

    def __init__(self, graph: Graph, path: str, blobs: BlobSource | None) -> None:
        super().__init__(graph)
        self.path = path
        self.blobs = blobs
        self.layer: Layer | None = None
        self.p: Any = None

    def convert_layer(self, layer: Layer, inputs: list[Value]) -> tuple[Value, ...]:
        reg = caffe_ops.lookup(dispatch_key(layer))
        assert reg is not None
        where = f"{self.path}: layer {layer.name!r} ({layer.type})"
        self.layer = layer
        self.p = layer.param
        self.name_hint = layer.name
        self.meta = {"source_op": layer.type, "source_name": layer.name}
        try:
            out = run_converter(reg, self, inputs, {}, where, self.path)
        except InputError as e:
            own = getattr(e, "own_message", None)
            if own is not None:   # a weights-file error names its own file first
                e.args = (own,)
            raise

        outs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
        return tuple(v if isinstance(v, Value) else self.const(v) for v in outs)

    # ---------------------------------------------------------------- helpers
    def blob(self, index: int, shape: tuple[int, ...] | list[int], kind: str = "weights") -> Value:
        """Learned blob ``index`` of the current layer, which must have ``shape``; ``kind`` names its
        role (weights, bias, mean, variance, factor, positive, slope) for messages and test data."""
        assert self.layer is not None
        if self.blobs is None:
            raise InputError(f"{self.path}: no weights: layer {self.layer.name!r} ({self.layer.type}) needs "
                             f"learned blobs; give the .caffemodel: mo convert --input_proto {self.path} "
                             f"model.caffemodel")
        try:
            t = self.blobs.blob(self.layer, index, tuple(int(d) for d in shape), kind)
        except InputError as e:
            e.own_message = str(e)  # type: ignore[attr-defined]
            raise
        return self.const_tensor(t, name=f"{self.layer.name}/blob{index}")

    def blob_count(self) -> int | None:
        """How many blobs the caffemodel has for this layer (None when unknown)."""
        if isinstance(self.blobs, CaffemodelBlobs):
            e = self.blobs.layers.get(self.layer.name)  # type: ignore[union-attr]
            return len(e.blobs) if e is not None else 0
        return None

    def f32(self, values: Any) -> Value:
        return self.const(np.asarray(values, dtype=np.float32))

    def axis(self, axis: int, rank: int) -> int:
        a = axis + rank if axis < 0 else axis
        if not 0 <= a < rank:
            raise ConversionError(f"axis {axis} is out of range for a {rank}-D input")
        return a
