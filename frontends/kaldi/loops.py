"""Recurrent nnet3 networks in the chunk form: loops through ``IfDefined(Offset(x, -k))`` unrolled.

A group of nodes that read each other (a strongly connected part of the node graph, e.g. an
LSTM layer: ``W_all`` reads ``IfDefined(Offset(r, -3))``, the nonlinearity reads
``IfDefined(Offset(c, -3))``) is computed one time step at a time. The group is computed at the
times where every input from outside the group exists (the chunk's rows minus the context of
those inputs); a reference to a group member at a time outside that range is undefined, which
``IfDefined`` turns into zeros (Kaldi's rule: the recurrence starts from a zero state at the
first frame of the chunk). Loops must run one way in time (all delays <= 0, or all >= 0 for a
backward layer), and zero-delay references inside a group must not form a cycle.
"""
from __future__ import annotations

import numpy as np

from mo.errors import ConversionError
from mo.graph import Value

from .nnet3 import Desc


def _refs(d: Desc, offset: int = 0, optional: bool = False):
    """(node, time offset, under IfDefined) for every node a descriptor reads."""
    if d.op == "node":
        yield d.args[0], offset, optional
        return
    if d.op == "Offset":
        yield from _refs(d.args[0], offset + d.args[1], optional)
        return
    for a in d.args:
        if isinstance(a, Desc):
            yield from _refs(a, offset, optional or d.op in ("IfDefined", "Failover"))


def edges(cb) -> dict[str, list[tuple[str, int, bool]]]:
    out: dict[str, list[tuple[str, int, bool]]] = {}
    for line in cb.net.nodes:
        if line.kind == "dim-range-node":
            out[line.name] = [(line.attrs["input-node"], 0, False)]
        elif line.name in cb.descs:
            out[line.name] = list(_refs(cb.descs[line.name]))
        else:
            out[line.name] = []
    return out


def recurrent_groups(cb) -> dict[str, frozenset[str]]:
    """Node -> its group, for nodes on a loop (Tarjan's strongly connected components)."""
    graph = edges(cb)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: dict[str, frozenset[str]] = {}
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w, _, _ in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            members = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                members.append(w)
                if w == v:
                    break
            group = frozenset(members)
            if len(group) > 1 or any(w == v for w, _, _ in graph.get(v, ())):
                for m in group:
                    groups[m] = group
    for v in graph:
        if v not in index:
            visit(v)
    return groups


class GroupBuilder:
    def __init__(self, cb, group: frozenset[str]) -> None:
        self.cb, self.group = cb, group
        self.graph = edges(cb)
        self.step: dict[tuple[str, int], Value] = {}
        self.lo = self.hi = 0

    def where(self) -> str:
        return f"{self.cb.path}: recurrent nodes {', '.join(sorted(self.group)[:4])}"

    # ------------------------------------------------------------ range and order
    def _avail(self, d: Desc) -> tuple[int, int] | None:
        """Times at which ``d`` is defined from inputs outside the group (None: no bound)."""
        if d.op == "node":
            name = d.args[0]
            if name in self.group:
                return None
            f = self.cb.node(name)
            return None if f.invariant else (f.t0, f.t0 + f.n)
        if d.op == "Offset":
            r = self._avail(d.args[0])
            return None if r is None else (r[0] - d.args[1], r[1] - d.args[1])
        if d.op in ("IfDefined", "Const", "ReplaceIndex"):
            return None
        if d.op == "Scale":
            return self._avail(d.args[1])
        parts = [self._avail(a) for a in d.args if isinstance(a, Desc)]
        parts = [p for p in parts if p is not None]
        if not parts:
            return None
        if d.op == "Failover":
            return min(p[0] for p in parts), max(p[1] for p in parts)
        return max(p[0] for p in parts), min(p[1] for p in parts)

    def build(self) -> None:
        cb = self.cb
        lo, hi = None, None
        for m in self.group:
            if m in cb.descs:
                r = self._avail(cb.descs[m])
                if r is not None:
                    lo = r[0] if lo is None else max(lo, r[0])
                    hi = r[1] if hi is None else min(hi, r[1])
        if lo is None or hi <= lo:
            raise ConversionError(f"{self.where()}: no frame of the chunk where the loop's inputs exist; "
                                  f"give more frames")
        self.lo, self.hi = lo, hi
        delays = [off for m in self.group for w, off, _ in self.graph[m] if w in self.group]
        if all(o <= 0 for o in delays):
            times = range(lo, hi)
        elif all(o >= 0 for o in delays):
            times = range(hi - 1, lo - 1, -1)
        else:
            raise ConversionError(f"{self.where()}: the loop reads both past and future frames")
        order = self._order()
        for t in times:
            for m in order:
                self.step[(m, t)] = self._eval(m, t)
        b = cb.b
        from .chunk import Frames
        for m in self.group:
            rows = [self.step[(m, t)] for t in range(lo, hi)]
            b.name_hint = m
            v = rows[0] if len(rows) == 1 else b.op("Concat", *rows, axis=0)
            cb.values[m] = Frames(v, lo, hi - lo)

    def _order(self) -> list[str]:
        """Group members in an order where same-time references come first."""
        done: list[str] = []
        state: dict[str, int] = {}

        def visit(m: str) -> None:
            if state.get(m) == 2:
                return
            if state.get(m) == 1:
                raise ConversionError(f"{self.where()}: a loop without a time delay at node {m!r}")
            state[m] = 1
            for w, off, _ in self.graph[m]:
                if w in self.group and off == 0:
                    visit(w)
            state[m] = 2
            done.append(m)

        for m in sorted(self.group):
            visit(m)
        return done

    # ------------------------------------------------------------ one time step
    def _eval(self, m: str, t: int) -> Value:
        cb = self.cb
        line = cb.lines[m]
        cb.b.name_hint = f"{m}/t{t}"
        if line.kind == "dim-range-node":
            src = self.step[(line.attrs["input-node"], t)]
            off = int(line.attrs["dim-offset"])
            return cb._slice(src, off, off + int(line.attrs["dim"]), axis=1)
        x = self._at(cb.descs[m], t)
        if x is None:
            raise ConversionError(f"{self.where()}: node {m!r} at frame {t} reads a frame outside the chunk "
                                  f"without IfDefined")
        if line.kind == "output-node":
            return x
        from .chunk import Frames
        comp = cb.net.components[line.attrs["component"]]
        out = cb.component(comp, Frames(x, t, 1), m)
        if out.invariant or out.n != 1:
            raise ConversionError(f"{self.where()}: component {comp.name!r} ({comp.kind}) inside a loop must map "
                                  f"each frame on its own")
        return out.value

    def _at(self, d: Desc, t: int) -> Value | None:
        """``d`` at time t as a [1, dim] value; None where it is undefined."""
        cb, b = self.cb, self.cb.b
        if d.op == "node":
            name = d.args[0]
            if name in self.group:
                if not self.lo <= t < self.hi:
                    return None
                v = self.step.get((name, t))
                if v is None:
                    raise ConversionError(f"{self.where()}: node {name!r} at frame {t} is read before it is computed")
                return v
            f = cb.node(name)
            if f.invariant:
                return f.value
            if not f.t0 <= t < f.t0 + f.n:
                return None
            return f.value if f.n == 1 else cb._slice(f.value, t - f.t0, t - f.t0 + 1, axis=0)
        if d.op == "Offset":
            if d.args[2]:
                raise ConversionError(f"{self.where()}: Offset with an x offset is not supported")
            return self._at(d.args[0], t + d.args[1])
        if d.op == "IfDefined":
            v = self._at(d.args[0], t)
            return v if v is not None else b.const(np.zeros((1, self.dim(d.args[0])), np.float32))
        if d.op == "Failover":
            v = self._at(d.args[0], t)
            return v if v is not None else self._at(d.args[1], t)
        if d.op in ("Append", "Sum"):
            parts = [self._at(p, t) for p in d.args]
            if any(p is None for p in parts):
                return None
            if len(parts) == 1:
                return parts[0]
            if d.op == "Append":
                return b.op("Concat", *parts, axis=1)
            out = parts[0]
            for p in parts[1:]:
                out = b.op("Add", out, p)
            return out
        if d.op == "Scale":
            v = self._at(d.args[1], t)
            return None if v is None else b.op("Multiply", v, b.const(np.float32(d.args[0])))
        f = cb.descriptor(d, "loop")  # Const, ReplaceIndex, Round: time-invariant
        if not f.invariant:
            raise ConversionError(f"{self.where()}: descriptor {d.op}() of a time-varying input inside a loop")
        return f.value

    def dim(self, d: Desc) -> int:
        return desc_dim(self.cb, d)


# ------------------------------------------------------------------ dimensions
def desc_dim(cb, d: Desc, seen: frozenset = frozenset()) -> int:
    """Columns of a descriptor's value, from the config lines and component fields alone."""
    if d.op == "node":
        return node_dim(cb, d.args[0], seen)
    if d.op == "Append":
        return sum(desc_dim(cb, p, seen) for p in d.args)
    if d.op == "Const":
        return int(d.args[1])
    if d.op == "Scale":
        return desc_dim(cb, d.args[1], seen)
    return desc_dim(cb, d.args[0], seen)


def node_dim(cb, name: str, seen: frozenset = frozenset()) -> int:
    if name in cb.values:
        return int(cb.values[name].value.shape[1])
    line = cb.lines[name]
    if line.kind in ("input-node", "dim-range-node"):
        return int(line.attrs["dim"])
    if name in seen:
        raise ConversionError(f"{cb.path}: cannot tell the dimension of node {name!r}")
    if line.kind == "component-node":
        comp = cb.net.components[line.attrs["component"]]
        f = comp.fields
        if comp.kind == "LstmNonlinearityComponent":
            return 2 * int(f["Params"].shape[1])
        w = f.get("LinearParams", f.get("Params"))  # LinearComponent keeps its matrix in <Params>
        if isinstance(w, np.ndarray) and w.ndim == 2:
            return int(w.shape[0])
        for key in ("OutputDim", "Dim"):
            if isinstance(f.get(key), int):
                return int(f[key])
    return desc_dim(cb, cb.descs[name], seen | {name})
