"""An nnet3 network in the streaming form: one frame in and one frame out per inference.

Every time-varying node N is computed once per step, for the time ``s - lag(N)`` where s is the
step (the newest input frame): lag(N) = max(0, lag(M) + k) over the nodes M that N reads at
time offset k (through ``Offset``, and the time offsets of a Tdnn component). N then reads M
``lag(N) - lag(M) - k`` steps back; a node read d > 0 steps back keeps its last values in a
ReadValue/Assign variable ``<node>/history`` of ``max d`` rows (zeros after a reset). Loops
(``IfDefined(Offset(c, -k))`` in LSTMs) need nothing more: the past of c is in its history.

The values stored in a history are multiplied by 0 until the node's first complete frame (step
``context + lag``, counted by the variable ``kaldi/steps``), so frames before the start of the
stream read as zeros, as ``IfDefined`` reads frames outside a chunk; recurrences start from a
zero state exactly where the chunk form starts them. Step s outputs the frame at time
``s - lag(output)`` (the network's right context), equal to the chunk form's frame from step
left + right on.
"""
from __future__ import annotations

import numpy as np

from mo.errors import ConversionError
from mo.graph import Value

from .chunk import ChunkBuilder, Frames, conv_time_offsets
from .loops import node_dim
from .nnet3 import Desc


def _timed_refs(d: Desc, offset: int = 0, optional: bool = False):
    """(node, time offset, under IfDefined) for each node read per frame (not via ReplaceIndex/Const)."""
    if d.op == "node":
        yield d.args[0], offset, optional
    elif d.op == "Offset":
        yield from _timed_refs(d.args[0], offset + d.args[1], optional)
    elif d.op in ("ReplaceIndex", "Const"):
        return
    else:
        for a in d.args:
            if isinstance(a, Desc):
                yield from _timed_refs(a, offset, optional or d.op in ("IfDefined", "Failover"))


class StreamBuilder:
    def __init__(self, cb: ChunkBuilder, invariant_inputs: set[str]) -> None:
        self.cb, self.b = cb, cb.b
        self.invariant_inputs = invariant_inputs
        self.refs: dict[str, list[tuple[str, int, bool]]] = {}
        for line in cb.net.nodes:
            if line.kind == "dim-range-node":
                self.refs[line.name] = [(line.attrs["input-node"], 0, False)]
            elif line.name in cb.descs:
                offs = self._tdnn_offsets(line.name)
                self.refs[line.name] = [(m, k + o, opt) for m, k, opt in _timed_refs(cb.descs[line.name])
                                        for o in offs]
            else:
                self.refs[line.name] = []
        self.timed = self._timed_nodes()
        self.lag = self._lags()
        self.current: dict[str, Value] = {}
        self.history_rows: dict[str, int] = {}
        self.history: dict[str, Value] = {}
        self.masks: dict[int, Value] = {}
        self.count: Value | None = None

    def _tdnn_offsets(self, name: str) -> list[int]:
        comp = self.cb.net.components.get(self.cb.lines[name].attrs.get("component", ""))
        if comp is not None and comp.kind == "TdnnComponent":
            return sorted({int(o) for o in comp.fields.get("TimeOffsets", np.zeros(1))})
        if comp is not None and comp.kind == "TimeHeightConvolutionComponent":
            times, req = conv_time_offsets(comp)
            if times != req:
                raise ConversionError(f"{self.cb.path}: component {comp.name!r}: the streaming form needs every "
                                      f"time offset of a TimeHeightConvolution to be required")
            return times
        if comp is not None and comp.kind == "RestrictedAttentionComponent":
            from .attention import attention_offsets
            times, req = attention_offsets(comp)
            if times != req:
                raise ConversionError(f"{self.cb.path}: component {comp.name!r}: the streaming form needs every "
                                      f"frame of the attention window to be required")
            return times
        return [0]

    def _timed_nodes(self) -> set[str]:
        timed = {line.name for line in self.cb.net.nodes
                 if line.kind == "input-node" and line.name not in self.invariant_inputs}
        changed = True
        while changed:
            changed = False
            for name, refs in self.refs.items():
                if name not in timed and any(m in timed for m, _, _ in refs):
                    timed.add(name)
                    changed = True
        return timed

    def _lags(self) -> dict[str, int]:
        lag = {n: 0 for n in self.timed}
        for _ in range(len(lag) + 2):
            changed = False
            for n in self.timed:
                want = max([0] + [lag[m] + k for m, k, _ in self.refs[n] if m in self.timed])
                if want != lag[n]:
                    lag[n], changed = want, True
            if not changed:
                return lag
        raise ConversionError(f"{self.cb.path}: a loop in the network reads future frames (a backward "
                              f"recurrence, as in a BLSTM) or has no time delay; the streaming form cannot "
                              f"compute it, use --kaldi_form chunk")

    # ------------------------------------------------------------ building
    def build(self, outputs: list[str], right: int) -> dict[str, Value]:
        for out in outputs:
            if out in self.timed:
                self.lag[out] = max(self.lag[out], right)
        reachable, todo = set(), list(outputs)
        while todo:
            n = todo.pop()
            if n not in reachable:
                reachable.add(n)
                todo.extend(m for m, _, _ in self.refs.get(n, ()))
        for n in sorted(self.timed & reachable):
            for m, k, _ in self.refs[n]:
                if m in self.timed:
                    d = self.lag[n] - self.lag[m] - k
                    if d > 0:
                        self.history_rows[m] = max(self.history_rows.get(m, 0), d)
        cb = self.cb
        for line in cb.net.nodes:
            if line.kind == "input-node":
                dim = int(line.attrs["dim"])
                p = self.b.parameter(line.name, "f32", (1, dim))
                cb.values[line.name] = Frames(p, 0, 1, invariant=line.name not in self.timed)
                if line.name in self.timed:
                    self.current[line.name] = p
        result = {}
        pending = list(outputs)
        done_outputs = set()
        while pending:
            name = pending.pop(0)
            self._compute(name, set())
            if name in outputs and name not in done_outputs:
                done_outputs.add(name)
                result[name] = self.current[name] if name in self.timed else cb.node(name).value
            for m in sorted(self.history_rows):
                if m not in self.current and m not in pending:
                    pending.append(m)
        for m in sorted(self.history_rows):
            self._store(m)
        return result

    def _compute(self, name: str, stack: set[str]) -> None:
        if name in self.current or name not in self.timed:
            return
        if name in stack:
            raise ConversionError(f"{self.cb.path}: a loop without a time delay at node {name!r}")
        stack.add(name)
        for m, k, _ in self.refs[name]:
            if m in self.timed and self.lag[name] - self.lag[m] - k == 0:
                self._compute(m, stack)
        stack.discard(name)
        cb, b = self.cb, self.b
        line = cb.lines[name]
        b.name_hint = name
        if line.kind == "dim-range-node":
            off = int(line.attrs["dim-offset"])
            v = cb._slice(self.current[line.attrs["input-node"]], off, off + int(line.attrs["dim"]), axis=1)
        else:
            offs = self._tdnn_offsets(name)
            d = cb.descs[name]
            if len(offs) > 1:  # Tdnn: rows at min .. max offset, the component picks its offsets
                rows = [self._at(name, d, k) for k in range(offs[0], offs[-1] + 1)]
                x = Frames(b.op("Concat", *rows, axis=0), offs[0], len(rows))
            else:
                x = Frames(self._at(name, d, offs[0]), 0, 1)
            if line.kind == "output-node":
                v = x.value
            else:
                comp = cb.net.components[line.attrs["component"]]
                out = cb.component(comp, x, name)
                if out.n != 1:
                    raise ConversionError(f"{cb.path}: component {comp.name!r} ({comp.kind}): one frame per step "
                                          f"expected")
                v = out.value
        self.current[name] = v

    def _at(self, node: str, d: Desc, k: int, optional: bool = False) -> Value:
        """Descriptor ``d`` of ``node`` at time offset k from the node's time, as a [1, dim] value."""
        cb, b = self.cb, self.b
        if d.op == "node":
            m = d.args[0]
            if m not in self.timed:
                return cb.node(m).value
            dist = self.lag[node] - self.lag[m] - k
            if dist == 0:
                self._compute(m, set())
                v = self.current[m]
                return b.op("Multiply", v, self._mask(m)) if optional and self._threshold(m) > 0 else v
            return self._history(m, dist)
        if d.op == "Offset":
            if d.args[2]:
                raise ConversionError(f"{cb.path}: node {node!r}: Offset with an x offset is not supported")
            return self._at(node, d.args[0], k + d.args[1], optional)
        if d.op in ("IfDefined", "Failover"):
            return self._at(node, d.args[0], k, True)
        if d.op in ("Append", "Sum"):
            parts = [self._at(node, p, k, optional) for p in d.args]
            if len(parts) == 1:
                return parts[0]
            if d.op == "Append":
                return b.op("Concat", *parts, axis=1)
            out = parts[0]
            for p in parts[1:]:
                out = b.op("Add", out, p)
            return out
        if d.op == "Scale":
            return b.op("Multiply", self._at(node, d.args[1], k, optional), b.const(np.float32(d.args[0])))
        f = cb.descriptor(d, node)  # Const, ReplaceIndex, Round of time-invariant inputs
        if not f.invariant:
            raise ConversionError(f"{cb.path}: node {node!r}: descriptor {d.op}() of a time-varying input")
        return f.value

    # ------------------------------------------------------------ state
    def _threshold(self, m: str) -> int:
        """The first step at which node m's frame is complete (its left context + its lag)."""
        lo, _ = self.cb.node_context(m)
        return -min(lo, 0) + self.lag[m]

    def _mask(self, m: str) -> Value:
        steps = self._threshold(m)
        if steps not in self.masks:
            b = self.b
            if self.count is None:
                cap = max([self._threshold(n) for n in self.timed] + [1])
                self.count = b.op("ReadValue", b.const(np.zeros((1, 1), np.float32)), variable_id="kaldi/steps",
                                  name="kaldi/steps/read")
                nxt = b.op("Minimum", b.op("Add", self.count, b.const(np.float32(1))), b.const(np.float32(cap)))
                b.op_outputs("Assign", nxt, variable_id="kaldi/steps", name="kaldi/steps/write")
            self.masks[steps] = b.op("Convert", b.op("GreaterEqual", self.count, b.const(np.float32(steps))),
                                     destination_type="f32", name=f"kaldi/steps/ge{steps}")
        return self.masks[steps]

    def _history(self, m: str, dist: int) -> Value:
        rows = self.history_rows[m]
        if m not in self.history:
            dim = node_dim(self.cb, m)
            var = f"{m}/history"
            self.history[m] = self.b.op("ReadValue", self.b.const(np.zeros((rows, dim), np.float32)),
                                        variable_id=var, name=var + "/read")
        h = self.history[m]
        return self.cb._slice(h, rows - dist, rows - dist + 1, axis=0)

    def _store(self, m: str) -> None:
        b, cb = self.b, self.cb
        rows = self.history_rows[m]
        self._history(m, 1)
        b.name_hint = m
        v = self.current[m]
        if self._threshold(m) > 0:
            v = b.op("Multiply", v, self._mask(m))
        # Slice(Concat(read, new)) rather than Concat(Slice(read), new): the CPU plugin computes the
        # latter in place in the variable's memory, before every reader of the old rows has run
        full = b.op("Concat", self.history[m], v, axis=0)
        new = cb._slice(full, 1, rows + 1, axis=0)
        var = f"{m}/history"
        b.op_outputs("Assign", new, variable_id=var, name=var + "/write")
