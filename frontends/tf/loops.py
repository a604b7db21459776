"""TF1 while loops, unrolled at conversion time.

A TF1 loop (also what TensorFlow makes of a TF2 ``While`` when it freezes a function with
lowered control flow: Keras LSTM/GRU layers, ``tf.while_loop``, ``dynamic_rnn``) is a
*frame* of nodes:

* ``Enter`` brings a value into the frame (``is_constant``: the same value every iteration);
* ``Merge(Enter, NextIteration)`` is a loop variable: the entered value in the first
  iteration, the value fed back by ``NextIteration`` afterwards;
* ``LoopCond`` carries the condition; ``Switch(var, LoopCond)`` sends the variable into the
  body (output 1) or, when the condition is false, to ``Exit`` (output 0), which hands it
  back to the enclosing frame.

The loop's back edges (``NextIteration`` -> ``Merge``) make the graph cyclic, so each
frame becomes one :class:`LoopNode` of the enclosing graph, whose inputs are everything
its members read from outside. Converting a LoopNode runs the frame's members in order,
iteration after iteration: the loop variables are bound, the condition must come out as a
number known at conversion time (a loop counter against a static sequence length; see
:func:`mo.ir.partial.known_value`), and each true iteration converts the body once more.
The IR therefore holds the unrolled computation: correct for the shapes the model was
converted with; a loop whose trip count is only known at run time is a clear error
(give the sequence length with ``--input_shape``). Nested frames are nested LoopNodes.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from mo.errors import ConversionError
from mo.graph import Value
from mo.ir.partial import known_value

from .context import split_input

ENTER_OPS = frozenset({"Enter", "RefEnter"})
EXIT_OPS = frozenset({"Exit", "RefExit"})
NEXT_OPS = frozenset({"NextIteration", "RefNextIteration"})
MERGE_OPS = frozenset({"Merge", "RefMerge"})
LOOP_PLUMBING = ENTER_OPS | EXIT_OPS | NEXT_OPS | {"LoopCond"}
MAX_ITERATIONS = 10_000


class LoopNode:
    """One while-loop frame seen from the enclosing graph (``op`` is a marker, never a TF op)."""

    op = "__WhileLoop__"

    def __init__(self, frame: tuple[str, ...]) -> None:
        self.frame = frame
        self.name = "__while__:" + "/".join(frame)
        self.input: list[str] = []      # refs outside the frame the members read (data refs, then ^control)
        self.members: list[Any] = []    # NodeDefs and nested LoopNodes, in an order that respects data flow
        self.exits: list[str] = []      # names of the frame's Exit nodes

    def walk(self):
        """Every NodeDef of the frame, nested frames included."""
        for m in self.members:
            if isinstance(m, LoopNode):
                yield from m.walk()
            else:
                yield m


def _refs(n) -> list[tuple[str, bool]]:
    """(source node, is_control) of each input of a NodeDef, the loop back edge left out."""
    out = []
    for x in n.input:
        ctrl = x.startswith("^")
        out.append((split_input(x[1:] if ctrl else x)[0], ctrl))
    return out


def find_loops(nodes: dict[str, Any]) -> tuple[dict[str, str], dict[str, LoopNode]]:
    """Group the graph's loop frames into LoopNodes.

    Returns (name of a frame member -> name of the outermost LoopNode holding it,
    LoopNode name -> top-level LoopNode). Empty when the graph has no Enter node.
    """
    if not any(n.op in ENTER_OPS for n in nodes.values()):
        return {}, {}

    def inputs(n) -> list[tuple[str, bool]]:
        refs = _refs(n)
        if n.op in MERGE_OPS:  # drop the back edge
            refs = [(s, c) for s, c in refs if getattr(nodes.get(s), "op", None) not in NEXT_OPS]
        return [(s, c) for s, c in refs if s in nodes]

    # topological order without back edges (iterative DFS)
    order: list[str] = []
    state: dict[str, int] = {}
    for root in nodes:
        if root in state:
            continue
        stack = [(root, iter(inputs(nodes[root])))]
        state[root] = 1
        while stack:
            name, it = stack[-1]
            for src, _ in it:
                if src not in state:
                    state[src] = 1
                    stack.append((src, iter(inputs(nodes[src]))))
                    break
            else:
                stack.pop()
                state[name] = 2
                order.append(name)

    frame: dict[str, tuple[str, ...]] = {}
    for name in order:
        n = nodes[name]
        outer: tuple[str, ...] = ()
        for src, _ in inputs(n):
            f = frame.get(src, ())
            if nodes[src].op in EXIT_OPS:
                f = f[:-1]
            if len(f) > len(outer):
                outer = f
        if n.op in ENTER_OPS:
            fname = n.attr["frame_name"].s.decode() if "frame_name" in n.attr else name
            outer = outer + (fname,)
        frame[name] = outer

    loops: dict[tuple[str, ...], LoopNode] = {}

    def loop_of(key: tuple[str, ...]) -> LoopNode:
        if key not in loops:
            loops[key] = LoopNode(key)
            if len(key) > 1:
                loop_of(key[:-1])
        return loops[key]

    for name in order:
        if frame[name]:
            loop_of(frame[name])

    # members in order: a frame's own nodes, nested frames placed by a topological sort of the contracted frame
    for key, loop in sorted(loops.items(), key=lambda kv: -len(kv[0])):  # inner frames first
        own = [nm for nm in order if frame[nm] == key]
        inner = [lp for k, lp in loops.items() if len(k) == len(key) + 1 and k[:len(key)] == key]
        loop.exits = [nm for nm in own if nodes[nm].op in EXIT_OPS]

        def unit(src: str, key=key) -> str | None:
            """The member of this frame that stands for node ``src`` (None: outside the frame)."""
            f = frame.get(src, ())
            if f[:len(key)] != key:
                return None
            if len(f) == len(key):
                return src
            return loops[f[:len(key) + 1]].name

        units = {nm: nodes[nm] for nm in own}
        units.update({lp.name: lp for lp in inner})
        deps: dict[str, set[str]] = {}
        outside: dict[str, None] = {}
        for uname, u in units.items():
            members = list(u.walk()) if isinstance(u, LoopNode) else [u]
            d: set[str] = set()
            for m in members:
                back = m.op in MERGE_OPS
                for r in m.input:
                    ctrl = r.startswith("^")
                    src = split_input(r[1:] if ctrl else r)[0]
                    if src not in nodes or (back and nodes[src].op in NEXT_OPS):
                        continue
                    w = unit(src)
                    if w is None:
                        outside.setdefault("^" + src if ctrl else _ref(r))
                    elif w != uname:
                        d.add(w)
            deps[uname] = d
        loop.members = _kahn(units, deps)
        # outer refs of a nested frame are inputs of the enclosing one only if they lie outside it too
        loop.input = [r for r in outside if not r.startswith("^")] + [r for r in outside if r.startswith("^")]

    members_of = {}
    for key, loop in loops.items():
        if len(key) == 1:
            for m in loop.walk():
                members_of[m.name] = loop.name
    return members_of, {lp.name: lp for k, lp in loops.items() if len(k) == 1}


def _kahn(units: dict[str, Any], deps: dict[str, set[str]]) -> list[Any]:
    indeg = {u: len(d) for u, d in deps.items()}
    users: dict[str, list[str]] = {u: [] for u in units}
    for u, d in deps.items():
        for s in d:
            users[s].append(u)
    ready = [u for u in units if indeg[u] == 0]
    out = []
    while ready:
        u = ready.pop(0)
        out.append(units[u])
        for w in users[u]:
            indeg[w] -= 1
            if indeg[w] == 0:
                ready.append(w)
    if len(out) != len(units):
        stuck = sorted(u for u in units if indeg[u] > 0)[:3]
        raise ConversionError(f"a while loop's body has a cycle that is not a loop variable (near {', '.join(stuck)})")
    return out


def convert_loop(loop: LoopNode, values: dict[str, Any], flow, ctx, make_flow: Callable[[], Any],
                 convert: Callable[[Any, dict, Any], None], path: str) -> None:
    """Unroll ``loop`` unless the enclosing ``flow`` says its inputs are dead (a cond branch not
    taken): then its Exits are dead too."""
    if any(flow._dead(r) for r in loop.input if not r.startswith("^")):
        flow.dead_nodes.update(loop.exits)
    else:
        unroll(loop, values, ctx, make_flow, convert, path)


def unroll(loop: LoopNode, values: dict[str, Any], ctx, make_flow: Callable[[], Any],
           convert: Callable[[Any, dict, Any], None], path: str) -> None:
    """Convert ``loop`` iteration by iteration into ``values`` (its Exit outputs end up there)."""
    own = [m for m in loop.members if not isinstance(m, LoopNode)]
    next_names = {m.name for m in own if m.op in NEXT_OPS}
    merges: dict[str, tuple[str, str]] = {}  # loop-variable Merge -> (Enter ref, NextIteration name)
    for m in own:
        if m.op in MERGE_OPS:
            data = [x for x in m.input if not x.startswith("^")]
            nxt = [x for x in data if split_input(x)[0] in next_names]
            if nxt:
                ent = [x for x in data if x not in nxt]
                merges[m.name] = (_ref(ent[0]), split_input(nxt[0])[0])
    carried: dict[str, Any] = {}
    where = f"{path}: while loop {'/'.join(loop.frame)!r}"
    for it in range(MAX_ITERATIONS + 1):
        flow = make_flow()
        pred: bool | None = None
        for n in loop.members:
            if isinstance(n, LoopNode):
                convert_loop(n, values, flow, ctx, make_flow, convert, path)
                continue
            data = [x for x in n.input if not x.startswith("^")]
            key = f"{n.name}:0"
            if n.name in merges:
                enter_ref, nxt = merges[n.name]
                if it == 0:
                    if flow._dead(enter_ref):
                        flow.dead_nodes.add(n.name)
                        continue
                    values[key] = values[enter_ref]
                else:
                    values[key] = carried[n.name]
            elif n.op in ENTER_OPS or n.op in EXIT_OPS or n.op in NEXT_OPS:
                if flow._dead(data[0]):
                    flow.dead_nodes.add(n.name)
                else:
                    values[key] = values[_ref(data[0])]
            elif n.op == "LoopCond":
                if flow._dead(data[0]):
                    raise ConversionError(f"{where}: its condition depends on a branch not taken")
                v = values[_ref(data[0])]
                c = v.const_value() if isinstance(v, Value) else None
                if c is None and isinstance(v, Value):
                    c = known_value(v)
                if c is None:
                    raise ConversionError(
                        f"{where}: the loop condition ({data[0]!r}) is computed at run time; mo unrolls loops "
                        "and needs the trip count at conversion time: give the sequence length a static size "
                        "with --input_shape")
                pred = bool(np.asarray(c).reshape(-1)[0])
                values[key] = ctx.const(np.bool_(pred))
            else:
                convert(n, values, flow)
        if pred is None:
            raise ConversionError(f"{where} has no LoopCond")
        if not pred:
            return
        carried = {}
        for m, (_, nxt) in merges.items():
            if f"{nxt}:0" not in values or flow._dead(f"{nxt}:0"):
                raise ConversionError(f"{where}: loop variable {m!r} gets no value from the body")
            carried[m] = values[f"{nxt}:0"]
    raise ConversionError(f"{where} runs more than {MAX_ITERATIONS} iterations; not unrolled")


def _ref(x: str) -> str:
    node, port = split_input(x)
    return f"{node}:{port}"
