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


# TF DataType -> numpy dtype, and which TensorProto list field holds values of that type
_NP_DTYPES = {1: np.float32, 2: np.float64, 3: np.int32, 4: np.uint8, 5: np.int16, 6: np.int8, 9: np.int64,
              10: np.bool_, 17: np.uint16, 19: np.float16, 22: np.uint32, 23: np.uint64, 8: np.complex64,
              18: np.complex128, 11: np.int8, 12: np.uint8, 13: np.int32, 15: np.int16, 16: np.uint16}
_VAL_FIELD = {1: "float_val", 2: "double_val", 3: "int_val", 4: "int_val", 5: "int_val", 6: "int_val",
              9: "int64_val", 10: "bool_val", 17: "int_val", 19: "half_val", 22: "uint32_val", 23: "uint64_val",
              11: "int_val", 12: "int_val", 13: "int_val", 15: "int_val", 16: "int_val", 14: "half_val"}
DT_NAMES = {0: "invalid", 7: "string", 8: "complex64", 18: "complex128", 20: "resource", 21: "variant",
            11: "qint8", 12: "quint8", 13: "qint32", 15: "qint16", 16: "quint16"}


def _bfloat16():
    try:
        import ml_dtypes
        return np.dtype(ml_dtypes.bfloat16)
    except ImportError:  # pragma: no cover - ml_dtypes comes with TF and openvino
        raise ConversionError("bfloat16 constants need the ml_dtypes package") from None


def tensor_to_numpy(t) -> np.ndarray:
    """numpy value of a TensorProto (TensorFlow's or mo's own schema; TensorFlow is not needed).

    Packed ``tensor_content`` bytes are used as they are; otherwise the typed value list, where
    fewer values than elements means "repeat the last one" (TF's compact form for splats).
    Strings become an object array of bytes.
    """
    dt = int(t.dtype)
    shape = tuple(int(d.size) for d in t.tensor_shape.dim)
    n = int(np.prod(shape, dtype=np.int64))
    if dt == 7:
        vals = list(t.string_val)
        arr = np.empty(n, dtype=object)
        if vals:
            for i in range(n):
                arr[i] = vals[min(i, len(vals) - 1)]
        return arr.reshape(shape)
    npdt = _bfloat16() if dt == 14 else _NP_DTYPES.get(dt)
    if npdt is None:
        raise ConversionError(f"TensorFlow constants of element type {DT_NAMES.get(dt, dt)} are not supported")
    npdt = np.dtype(npdt)
    if t.tensor_content:
        return np.frombuffer(t.tensor_content, dtype=npdt.newbyteorder("<")).reshape(shape)
    if dt in (8, 18):
        raw = np.asarray(t.scomplex_val if dt == 8 else t.dcomplex_val,
                         dtype=np.float32 if dt == 8 else np.float64)
        vals = raw[0::2] + 1j * raw[1::2]
    elif dt in (19, 14):
        vals = np.asarray(t.half_val, dtype=np.uint16).view(npdt)
    else:
        vals = np.asarray(getattr(t, _VAL_FIELD[dt]), dtype=npdt)
    vals = vals.astype(npdt, copy=False)
    if vals.size == n:
        return vals.reshape(shape)
    if vals.size == 0:
        return np.zeros(shape, dtype=npdt)
    if vals.size > n:
        raise ConversionError(f"TensorProto holds {vals.size} values for shape {shape}")
    out = np.empty(n, dtype=npdt)
    out[:vals.size] = vals
    out[vals.size:] = vals[-1]
    return out.reshape(shape)


def dtype_to_etype(dt: int) -> str:
    """mo element type of a TF DataType enum value."""
    etype = TF_ETYPES.get(int(dt))
    if etype is None:
        name = DT_NAMES.get(int(dt) % 100, str(int(dt)))
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


class Opaque:
    """A converter-time object that is not a tensor (a TensorList while a loop is unrolled):
    converters pass it on as it is, it never becomes a constant."""

    __slots__ = ()


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
            if not isinstance(v, (Value, Opaque)):
                v = self.const(v)
            values[f"{n.name}:{k}"] = v

    # ---------------------------------------------------------------- helpers
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
