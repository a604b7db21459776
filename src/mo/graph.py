"""The common graph: Values (tensor edges), Nodes (OpenVINO opset ops) and the Graph.

A :class:`Value` is produced by exactly one node output and used by any number of
node inputs. A :class:`Node` holds its op type, opset version, input Values, output
Values and typed attributes. The :class:`Graph` owns Parameters, Results and the
nodes between them; it changes only through a few methods that keep the use lists
consistent, and :meth:`Graph.check` verifies what those methods promise.

Shapes are tuples of ints with ``-1`` for a dynamic dimension, or ``None`` when the
rank itself is unknown.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

import numpy as np

from .tensor import Tensor
from .types import ElementType

Shape = tuple[int, ...] | None


def format_shape(shape: Shape) -> str:
    if shape is None:
        return "[...]"
    return "[" + ",".join("?" if d < 0 else str(d) for d in shape) + "]"


SINK_OPS = ("Assign",)  # ops kept although no Result reads them


class GraphError(Exception):
    """A graph edit that would break the graph; the message names what blocks it."""


@dataclass(eq=False, slots=True)
class Value:
    """One tensor edge of the graph."""

    etype: ElementType
    shape: Shape
    producer: "Node | None" = None
    index: int = 0
    names: list[str] = field(default_factory=list)
    const: Tensor | None = None
    uses: dict[tuple["Node", int], None] = field(default_factory=dict)

    @property
    def name(self) -> str | None:
        return self.names[0] if self.names else None

    def add_name(self, name: str) -> None:
        if name and name not in self.names:
            self.names.append(name)

    @property
    def rank(self) -> int | None:
        return None if self.shape is None else len(self.shape)

    @property
    def is_static(self) -> bool:
        return self.shape is not None and all(d >= 0 for d in self.shape)

    def const_value(self) -> np.ndarray | None:
        """The numpy value when this Value is a constant, else None."""
        return None if self.const is None else self.const.numpy()

    def users(self) -> list["Node"]:
        seen: dict[Node, None] = {}
        for n, _ in self.uses:
            seen[n] = None
        return list(seen)

    def __repr__(self) -> str:
        who = self.producer.name if self.producer else "?"
        return f"Value({self.name or who + ':' + str(self.index)}: {self.etype}{format_shape(self.shape)})"


@dataclass(eq=False, slots=True)
class Node:
    """One operation: op type + opset version, input Values, output Values, attributes."""

    op: str
    version: str
    name: str
    inputs: tuple[Value, ...] = ()
    outputs: tuple[Value, ...] = ()
    attrs: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    rt_info: dict[str, str] = field(default_factory=dict)

    @property
    def output(self) -> Value:
        if len(self.outputs) != 1:
            raise GraphError(f"node {self.name} ({self.op}) has {len(self.outputs)} outputs, not one")
        return self.outputs[0]

    def __repr__(self) -> str:
        return f"Node({self.op} {self.name!r})"


class Graph:
    """Parameters, Results and the nodes between them.

    ``nodes`` keeps insertion order; :meth:`toposort` re-orders it (and drops nodes
    that no Result depends on).
    """

    def __init__(self, name: str = "model") -> None:
        self.name = name
        self.parameters: list[Node] = []
        self.results: list[Node] = []
        self.nodes: list[Node] = []
        self._names: set[str] = set()
        self._counter = 0
        self.meta: dict[str, Any] = {}

    # ----------------------------------------------------------------- names
    def unique_name(self, base: str) -> str:
        base = base or "node"
        if base not in self._names:
            self._names.add(base)
            return base
        while True:
            self._counter += 1
            cand = f"{base}/{self._counter}"
            if cand not in self._names:
                self._names.add(cand)
                return cand

    # ----------------------------------------------------------------- building
    def add_node(self, op: str, version: str, inputs: Iterable[Value], outputs: Iterable[tuple[ElementType, Shape]],
                 attrs: dict[str, Any] | None = None, name: str | None = None,
                 meta: dict[str, Any] | None = None) -> Node:
        node = Node(op=op, version=version, name=self.unique_name(name or op), attrs=dict(attrs or {}),
                    meta=dict(meta or {}))
        node.inputs = tuple(inputs)
        for i, v in enumerate(node.inputs):
            if not isinstance(v, Value):
                raise GraphError(f"input {i} of {op} {node.name} is {type(v).__name__}, not a Value")
            v.uses[(node, i)] = None
        node.outputs = tuple(Value(et, None if sh is None else tuple(int(d) for d in sh), node, k)
                             for k, (et, sh) in enumerate(outputs))
        self.nodes.append(node)
        if op == "Parameter":
            self.parameters.append(node)
        elif op == "Result":
            self.results.append(node)
        return node

    def rename(self, node: Node, name: str) -> bool:
        """Give ``node`` the name ``name`` when no other node has it; True when done."""
        if name == node.name:
            return True
        if name in self._names:
            return False
        self._names.discard(node.name)
        self._names.add(name)
        node.name = name
        return True

    def set_input(self, node: Node, index: int, value: Value) -> None:
        old = node.inputs[index]
        old.uses.pop((node, index), None)
        node.inputs = node.inputs[:index] + (value,) + node.inputs[index + 1:]
        value.uses[(node, index)] = None

    def replace_all_uses_with(self, old: Value, new: Value, keep_names: bool = True) -> None:
        """Make every user of ``old`` use ``new``; tensor names move along when asked."""
        if old is new:
            return
        for node, i in list(old.uses):
            self.set_input(node, i, new)
        if keep_names:
            for n in old.names:
                new.add_name(n)
            old.names = []

    def remove(self, node: Node) -> None:
        """Remove a node whose outputs have no users left."""
        for v in node.outputs:
            if v.uses:
                users = ", ".join(sorted({n.name for n, _ in v.uses}))
                raise GraphError(f"cannot remove {node.op} {node.name}: output {v.index} is still used by {users}")
        for i, v in enumerate(node.inputs):
            v.uses.pop((node, i), None)
        self.nodes.remove(node)
        if node in self.parameters:
            self.parameters.remove(node)
        if node in self.results:
            self.results.remove(node)
        self._names.discard(node.name)

    def toposort(self) -> int:
        """Order nodes so every producer precedes its users; drop nodes no Result needs.

        Parameters are always kept, in their declared order. Returns how many nodes
        were removed as dead.
        """
        order: list[Node] = []
        state: dict[Node, int] = {}
        sinks = [n for n in self.nodes if n.op in SINK_OPS]  # stateful writes: kept like Results
        for root in self.parameters + self.results + sinks:
            if root in state:
                continue
            stack: list[tuple[Node, int]] = [(root, 0)]
            while stack:
                node, i = stack.pop()
                if i == 0:
                    if state.get(node) == 2:
                        continue
                    state[node] = 1
                if i < len(node.inputs):
                    stack.append((node, i + 1))
                    prod = node.inputs[i].producer
                    if prod is not None and state.get(prod) != 2:
                        if state.get(prod) == 1:
                            raise GraphError(f"cycle through {prod.op} {prod.name}")
                        stack.append((prod, 0))
                else:
                    state[node] = 2
                    order.append(node)
        keep = set(order)
        dead = [n for n in self.nodes if n not in keep]
        for n in dead:
            for i, v in enumerate(n.inputs):
                v.uses.pop((n, i), None)
            self._names.discard(n.name)
        self.nodes = order
        return len(dead)

    # ----------------------------------------------------------------- queries
    def __iter__(self) -> Iterator[Node]:
        return iter(list(self.nodes))

    def __len__(self) -> int:
        return len(self.nodes)

    def find(self, name: str) -> Node | None:
        for n in self.nodes:
            if n.name == name:
                return n
        return None

    def op_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for n in self.nodes:
            counts[n.op] = counts.get(n.op, 0) + 1
        return dict(sorted(counts.items()))

    @property
    def inputs(self) -> list[Value]:
        return [p.outputs[0] for p in self.parameters]

    @property
    def outputs(self) -> list[Value]:
        return [r.inputs[0] for r in self.results]

    # ----------------------------------------------------------------- checks
    def check(self) -> None:
        """Verify order, ownership of Values, use lists and unique node names."""
        seen: set[Node] = set()
        names: set[str] = set()
        members = set(self.nodes)
        for node in self.nodes:
            if node.name in names:
                raise GraphError(f"duplicate node name {node.name!r}")
            names.add(node.name)
            for i, v in enumerate(node.inputs):
                if v.producer is None or v.producer not in members:
                    raise GraphError(f"{node.op} {node.name}: input {i} comes from a node outside the graph")
                if v.producer not in seen:
                    raise GraphError(f"{node.op} {node.name}: input {i} from {v.producer.name} is not ordered before it")
                if (node, i) not in v.uses:
                    raise GraphError(f"{node.op} {node.name}: input {i} is missing from its Value's uses")
            for k, v in enumerate(node.outputs):
                if v.producer is not node or v.index != k:
                    raise GraphError(f"{node.op} {node.name}: output {k} does not point back to its node")
                for user, i in v.uses:
                    if user not in members or user.inputs[i] is not v:
                        raise GraphError(f"{node.op} {node.name}: output {k} lists a stale use by {user.name}")
            seen.add(node)
        for p in self.parameters:
            if p not in members:
                raise GraphError(f"Parameter {p.name} is not in the graph")
        for r in self.results:
            if r not in members:
                raise GraphError(f"Result {r.name} is not in the graph")

    # ----------------------------------------------------------------- printing
    def format(self) -> str:
        """Text form, one node per line: ``%y: f32[1,64] = MatMul(%x, %w) {transpose_a=false}``."""
        ids: dict[Value, str] = {}

        def ref(v: Value) -> str:
            if v not in ids:
                ids[v] = "%" + (v.name or f"{v.producer.name if v.producer else '?'}:{v.index}")
            return ids[v]

        lines = []
        for node in self.nodes:
            outs = ", ".join(f"{ref(v)}: {v.etype}{format_shape(v.shape)}" for v in node.outputs)
            args = ", ".join(ref(v) for v in node.inputs)
            attrs = {k: v for k, v in node.attrs.items() if k != "value"}
            text = f"{outs or '()'} = {node.op}({args})"
            if node.op == "Const" and node.outputs:
                c = node.outputs[0].const
                if c is not None and getattr(c, "size", 2) <= 8:
                    text += " " + np.array2string(np.asarray(c.numpy()).reshape(-1), separator=",")
            if attrs:
                text += " {" + ", ".join(f"{k}={_fmt_attr(v)}" for k, v in attrs.items()) + "}"
            lines.append(text)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()


def _fmt_attr(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(_fmt_attr(x) for x in v) + "]"
    return str(v)
