"""The converter context: a Builder that also knows the ONNX node being converted."""
from __future__ import annotations

from typing import Any

from mo.errors import ConversionError
from mo.graph import Graph, Value
from mo.ir.builder import Builder

from ..registry import Registration, Registry, run_converter

onnx_ops = Registry("onnx")

_UNSET = object()


def attribute_value(a, base_dir: str = "") -> Any:
    """Python value of an ONNX AttributeProto (tensors as numpy arrays, graphs as GraphProto)."""
    from onnx import numpy_helper

    t = a.type
    if t == 1:
        return float(a.f)
    if t == 2:
        return int(a.i)
    if t == 3:
        return a.s.decode("utf-8", errors="replace")
    if t == 4:
        return numpy_helper.to_array(a.t)
    if t == 5:
        return a.g
    if t == 11:
        return a.sparse_tensor
    if t == 6:
        return [float(x) for x in a.floats]
    if t == 7:
        return [int(x) for x in a.ints]
    if t == 8:
        return [s.decode("utf-8", errors="replace") for s in a.strings]
    if t == 9:
        return [numpy_helper.to_array(x) for x in a.tensors]
    if t == 10:
        return list(a.graphs)
    if t == 13:
        return a.tp
    return None


class OnnxContext(Builder):
    """What a converter receives as ``g``: the Builder plus the current node's facts.

    ``g.opset`` is the model's opset version for the node's domain, ``g.num_outputs``
    the number of outputs the node declares, ``g.node`` the NodeProto itself.
    """

    def __init__(self, graph: Graph, opsets: dict[str, int], path: str) -> None:
        super().__init__(graph)
        self.opsets = opsets
        self.path = path
        self.node: Any = None
        self.opset = opsets.get("", 1)
        self.num_outputs = 1
        self.output_names: list[str] = []

    def lookup(self, op_type: str, domain: str = "") -> Registration | None:
        return onnx_ops.lookup(op_type, self.opsets.get(domain, 1), domain)

    def convert_node(self, n, values: dict[str, Value], base_dir: str) -> None:
        dom = "" if n.domain in ("", "ai.onnx") else n.domain
        reg = self.lookup(n.op_type, dom)
        assert reg is not None
        label = n.name or (n.output[0] if n.output else n.op_type)
        where = f"{self.path}: node {label!r} ({n.op_type})"
        inputs: list[Value | None] = []
        for i in n.input:
            if not i:
                inputs.append(None)
            elif i not in values:
                raise ConversionError(f"{where}: input {i!r} is not produced by any node before it")
            else:
                inputs.append(values[i])
        while inputs and inputs[-1] is None:
            inputs.pop()
        attrs = {a.name: attribute_value(a, base_dir) for a in n.attribute}
        if reg.accepts is not None:
            extra = sorted(set(attrs) - reg.accepts)
            if extra:
                raise ConversionError(f"{where}: attribute(s) {', '.join(extra)} not supported by mo's converter")
        self.node = n
        self.opset = self.opsets.get(dom, 1)
        self.num_outputs = len(n.output)
        self.output_names = list(n.output)
        self.name_hint = label
        self.meta = {"source_op": n.op_type, "source_name": label}
        out = run_converter(reg, self, inputs, attrs, where, self.path)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        for k, name in enumerate(n.output):
            if not name:
                continue
            if k >= len(outs) or outs[k] is None:
                raise ConversionError(f"{where}: output {k} ({name!r}) is not produced by mo's converter")
            v = outs[k]
            if not isinstance(v, Value):
                v = self.const(v)
            v.add_name(name)
            values[name] = v

    # ---------------------------------------------------------------- helpers
    def fail(self, message: str) -> ConversionError:
        """An error for the current node; ``raise g.fail("...")``."""
        return ConversionError(message)
