"""Builder: the one way frontends and passes create ops in a Graph.

``g.op("Convolution", x, w, strides=[1, 1], ...)`` checks the attributes against the
op's declaration, infers output types and shapes and, when every input is a small
constant, folds the op into a Const right away (shape computations in real models
are mostly such chains).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from mo.errors import ConversionError
from mo.graph import Graph, Node, Shape, Value
from mo.tensor import ArrayTensor, Tensor, as_tensor
from mo.types import ElementType, from_numpy, to_numpy

from . import opset
from .opset import OpError

FOLD_LIMIT = 1 << 16  # elements: larger constant results are left to the fold pass


class Builder:
    def __init__(self, graph: Graph, fold: bool = True) -> None:
        self.graph = graph
        self.fold = fold
        self.name_hint: str = ""   # base of generated node names (the source node's name)
        self.meta: dict[str, Any] = {}

    # ----------------------------------------------------------------- sources
    def const(self, value: Any, dtype: Any = None, name: str | None = None) -> Value:
        if isinstance(value, Value):
            return value
        if dtype is not None and not hasattr(value, "chunks"):
            value = np.asarray(value, dtype=to_numpy(dtype) if isinstance(dtype, str) else dtype)
        t = as_tensor(value)
        if dtype is not None and np.dtype(t.dtype) != np.dtype(to_numpy(dtype) if isinstance(dtype, str) else dtype):
            raise OpError(f"constant of {t.dtype} where {dtype} was asked")
        return self.const_tensor(t, name)

    def const_tensor(self, t: Tensor, name: str | None = None) -> Value:
        et = from_numpy(t.dtype)
        node = self.graph.add_node("Const", "opset1", (), [(et, tuple(t.shape))],
                                   {"element_type": et, "shape": list(t.shape)},
                                   name=name or (self.name_hint + "/Const" if self.name_hint else "Const"),
                                   meta=dict(self.meta))
        node.outputs[0].const = t
        return node.outputs[0]

    def parameter(self, name: str, etype: ElementType, shape: Shape) -> Value:
        attrs = {"element_type": etype, "shape": None if shape is None else list(shape)}
        node = self.graph.add_node("Parameter", "opset1", (), [(etype, shape)], attrs, name=name)
        node.outputs[0].add_name(name)
        return node.outputs[0]

    def result(self, value: Value, name: str | None = None) -> Node:
        """A model output; ``name`` becomes one of the output tensor's names."""
        if name:
            value.add_name(name)
        return self.graph.add_node("Result", "opset1", (value,), [], {},
                                   name=(name or value.name or "Result") + "/sink_port_0")

    def i64(self, values: Any) -> Value:
        """An i64 constant (axes, shapes, indices)."""
        return self.const(np.asarray(values, dtype=np.int64))

    def scalar_like(self, value: float, like: Value) -> Value:
        """A scalar constant of ``like``'s element type."""
        return self.const(np.asarray(value, dtype=to_numpy(like.etype)))

    def static_shape(self, v: Value, what: str = "input") -> tuple[int, ...]:
        """``v``'s shape when every dimension is known, else a conversion error."""
        if v.shape is None or any(d < 0 for d in v.shape):
            raise ConversionError(f"the {what} needs a static shape here, has "
                                  f"{'unknown rank' if v.shape is None else list(v.shape)}; give --input_shape")
        return tuple(v.shape)

    def rank(self, v: Value) -> int:
        """``v``'s rank when known, else a conversion error."""
        if v.shape is None:
            raise ConversionError("the input's rank must be known; give --input_shape")
        return len(v.shape)

    # ----------------------------------------------------------------- ops
    def op(self, type: str, *inputs: Value, name: str | None = None, **attrs: Any) -> Any:
        """Create one op; returns its Value, or a tuple of Values for multi-output ops."""
        outs = self.op_outputs(type, *inputs, name=name, **attrs)
        return outs[0] if len(outs) == 1 else outs

    def op_outputs(self, type: str, *inputs: Value, name: str | None = None, **attrs: Any) -> tuple[Value, ...]:
        d = opset.get(type)
        where = name or self.name_hint or type
        ins = tuple(self.const(v) if not isinstance(v, Value) else v for v in inputs)
        if len(ins) < d.min_inputs or (d.max_inputs is not None and len(ins) > d.max_inputs):
            raise OpError(f"{where}: {type} takes {d.min_inputs}..{d.max_inputs} inputs, got {len(ins)}")
        norm = d.normalize_attrs(attrs, where)
        try:
            out_specs = d.infer(ins, norm)
        except OpError as e:
            raise OpError(f"{where}: {type}: {e}") from None
        if self.fold:
            folded = try_fold(d, ins, norm, out_specs, limit=FOLD_LIMIT)
            if folded is not None:
                return tuple(self.const(a, name=f"{name or self.name_hint or type}/{type}") if len(folded) == 1
                             else self.const(a, name=f"{name or self.name_hint or type}/{type}.{i}")
                             for i, a in enumerate(folded))
        node = self.graph.add_node(type, d.version, ins, out_specs, norm,
                                   name=name or (f"{self.name_hint}/{type}" if self.name_hint else type),
                                   meta=dict(self.meta))
        return node.outputs


def try_fold(d: opset.OpDef, inputs: tuple[Value, ...], attrs: dict[str, Any],
             out_specs: list[tuple[ElementType, Shape]], limit: int | None) -> list[np.ndarray] | None:
    """Values of an op's outputs when they can be computed now, else None.

    ``limit`` bounds the number of output elements folded (None: no bound).
    """
    for et, sh in out_specs:
        if sh is None or any(x < 0 for x in sh):
            return None
        if limit is not None and int(np.prod(sh, dtype=np.int64)) > limit:
            return None
        if et in ("bf16", "u1", "i4", "u4", "dynamic"):
            return None
    if d.fold is not None:
        res = d.fold(inputs, attrs)
        if res is not None:
            return _checked(d, res, out_specs)
    if d.evaluate is None or not all(v.const is not None for v in inputs):
        return None
    res = d.evaluate([v.const.numpy() for v in inputs], attrs)  # type: ignore[union-attr]
    return _checked(d, res, out_specs)


def _checked(d: opset.OpDef, res: list[np.ndarray], specs: list[tuple[ElementType, Shape]]) -> list[np.ndarray]:
    out = []
    for a, (et, sh) in zip(res, specs):
        a = np.asarray(a)
        want = to_numpy(et)
        if a.dtype != want:
            a = a.astype(want)
        if sh is not None and tuple(a.shape) != tuple(sh):
            raise OpError(f"{d.type}: evaluate gave shape {list(a.shape)}, inference said {list(sh)}")
        out.append(a)
    return out


def value_of(v: Value) -> np.ndarray | None:
    return v.const_value()


__all__ = ["Builder", "try_fold", "value_of", "ArrayTensor"]
