"""The converter context: a Builder that knows the MXNet node being converted."""
from __future__ import annotations

from mo.errors import ConversionError
from mo.graph import Graph, Value
from mo.ir.builder import Builder

from ..registry import Registry, run_converter
from .symbol import SymNode, parse_attr

mxnet_ops = Registry("mxnet")

# attributes that tune MXNet's kernels or training and never change results; old (< 0.9) files keep
# user attributes such as lr_mult and ctx_group without the __dunder__ spelling
IGNORED_ATTRS = frozenset({"workspace", "cudnn_tune", "cudnn_off", "name", "ctx", "lr_mult", "wd_mult", "ctx_group",
                           "force_mirroring", "mirror_stage", "storage_type"})


class MxContext(Builder):
    """What a converter receives as ``g``: the Builder plus the node (``g.node``) and file."""

    def __init__(self, graph: Graph, path: str) -> None:
        super().__init__(graph)
        self.path = path
        self.node: SymNode | None = None

    def convert_node(self, n: SymNode, inputs: list[Value]) -> tuple[Value, ...]:
        reg = mxnet_ops.lookup(n.op)
        assert reg is not None
        where = f"{self.path}: node {n.name!r} ({n.op})"
        attrs = {k: parse_attr(v) for k, v in n.attrs.items() if k not in IGNORED_ATTRS}
        if reg.accepts is not None:
            extra = sorted(set(attrs) - reg.accepts)
            if extra:
                raise ConversionError(f"{where}: attribute(s) {', '.join(extra)} not supported by mo's converter")
        self.node = n
        self.name_hint = n.name
        self.meta = {"source_op": n.op, "source_name": n.name}
        out = run_converter(reg, self, inputs, attrs, where, self.path)
        outs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
        return tuple(v if isinstance(v, Value) else self.const(v) for v in outs)
