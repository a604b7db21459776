"""The converter context of the TensorFlow frontend: a Builder that knows the NodeDef being converted."""
from __future__ import annotations

from typing import Any

import numpy as np

from mo.errors import ConversionError
from mo.graph import Value
from mo.ir.builder import Builder

from ..registry import Registration, Registry, run_converter

tf_ops = Registry("tf")

NHWC_TO_NCHW = (0, 3, 1, 2)
NCHW_TO_NHWC = (0, 2, 3, 1)


def tensor_to_numpy(t) -> np.ndarray:
    """numpy value of a TensorProto (TensorFlow's own decoder)."""
    from tensorflow.python.framework import tensor_util

    return tensor_util.MakeNdarray(t)


def dtype_to_etype(dt: int) -> str:
    """mo element type of a TF DataType enum value."""
    etype = TF_ETYPES.get(int(dt))
    if etype is None:
        import tensorflow as tf
        try:
            name = tf.dtypes.as_dtype(int(dt)).name
        except Exception:  # noqa: BLE001
            name = str(dt)
        raise ConversionError(f"TensorFlow element type {name} is not supported by mo")
    return etype


TF_ETYPES = {1: "f32", 2: "f64", 3: "i32", 4: "u8", 5: "i16", 6: "i8", 9: "i64", 10: "boolean", 14: "bf16",
             17: "u16", 19: "f16", 22: "u32", 23: "u64"}


def shape_from_proto(s) -> tuple[int, ...] | None:
    """A TensorShapeProto as a mo shape (-1 for unknown dims, None for unknown rank)."""
    if s.unknown_rank:
        return None
    return tuple(int(d.size) if d.size >= 0 else -1 for d in s.dim)


def attr_value(a) -> Any:
    """Python value of an AttrValue: ints, floats, bools, str, etypes, shapes, numpy tensors, lists."""
    kind = a.WhichOneof("value")
    if kind == "s":
        return a.s.decode("utf-8", errors="replace")
    if kind == "i":
        return int(a.i)
    if kind == "f":
        return float(a.f)
    if kind == "b":
        return bool(a.b)
    if kind == "type":
        return int(a.type)
    if kind == "shape":
        return shape_from_proto(a.shape)
    if kind == "tensor":
        return tensor_to_numpy(a.tensor)
    if kind == "func":
        return a.func.name
    if kind == "placeholder":
        return a.placeholder
    if kind == "list":
        lv = a.list
        if lv.s:
            return [x.decode("utf-8", errors="replace") for x in lv.s]
        if lv.i:
            return [int(x) for x in lv.i]
        if lv.f:
            return [float(x) for x in lv.f]
        if lv.b:
            return [bool(x) for x in lv.b]
        if lv.type:
            return [int(x) for x in lv.type]
        if lv.shape:
            return [shape_from_proto(x) for x in lv.shape]
        if lv.tensor:
            return [tensor_to_numpy(x) for x in lv.tensor]
        return []
    return None


def split_input(ref: str) -> tuple[str, int]:
    """``node:k`` or ``node`` -> (node, k)."""
    node, sep, port = ref.rpartition(":")
    if sep and port.isdigit():
        return node, int(port)
    return ref, 0


class TfContext(Builder):
    """What a TF converter receives as ``g``: the Builder plus the current NodeDef.

    ``g.node`` is the NodeDef, ``g.op_type`` its op. Helpers: ``g.i64``, ``g.to_nchw`` /
    ``g.to_nhwc`` (layout transposes the transpose-sinking pass later cancels), ``g.value(x)``.
    """

    def __init__(self, graph, path: str) -> None:
        super().__init__(graph)
        self.path = path
        self.node: Any = None
        self.op_type = ""

    def lookup(self, op_type: str) -> Registration | None:
        return tf_ops.lookup(op_type)

    def convert_node(self, n, values: dict[str, Value]) -> None:
        reg = self.lookup(n.op)
        assert reg is not None
        where = f"{self.path}: node {n.name!r} ({n.op})"
        inputs: list[Value] = []
        for ref in n.input:
            if ref.startswith("^"):
                continue  # control dependency: no data
            src, port = split_input(ref)
            key = f"{src}:{port}"
            if key not in values:
                raise ConversionError(f"{where}: input {ref!r} is not produced by a converted node")
            inputs.append(values[key])
        attrs = {k: attr_value(v) for k, v in n.attr.items() if not k.startswith("_")}
        if reg.accepts is not None:
            attrs = {k: v for k, v in attrs.items() if k in reg.accepts}
        self.node = n
        self.op_type = n.op
        self.name_hint = n.name
        self.meta = {"source_op": n.op, "source_name": n.name}
        out = run_converter(reg, self, inputs, attrs, where, self.path)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        for k, v in enumerate(outs):
            if v is None:
                continue
            if not isinstance(v, Value):
                v = self.const(v)
            values[f"{n.name}:{k}"] = v

    # ---------------------------------------------------------------- helpers
    def i64(self, values: Any) -> Value:
        return self.const(np.asarray(values, dtype=np.int64))

    def scalar_like(self, value: float, like: Value) -> Value:
        from mo.types import to_numpy
        return self.const(np.asarray(value, dtype=to_numpy(like.etype)))

    def to_nchw(self, x: Value) -> Value:
        """NHWC -> NCHW (rank 4) or NDHWC -> NCDHW (rank 5)."""
        r = x.rank or 4
        return self.op("Transpose", x, self.i64([0, r - 1, *range(1, r - 1)]))

    def to_nhwc(self, x: Value) -> Value:
        """NCHW -> NHWC (rank 4) or NCDHW -> NDHWC (rank 5)."""
        r = x.rank or 4
        return self.op("Transpose", x, self.i64([0, *range(2, r), 1]))

    def const_value(self, v: Value, what: str) -> np.ndarray:
        """The constant value of an input the converter needs to know, or a clear error."""
        c = v.const_value()
        if c is None:
            raise ConversionError(f"{what} must be a constant (it is computed at run time)")
        return c
