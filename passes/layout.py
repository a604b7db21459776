"""Interface layouts: ``--layout``, ``--source_layout``, ``--target_layout``.

Rule, per named (or, unnamed, per positional) model input or output:

* the source layout says what the tensor's dimensions mean in the source model;
* a target layout that names the same dimensions in another order changes the IR's
  interface to it, so the IR computes the same thing on tensors given in the target
  layout:

      input:   Parameter[target shape] -> Transpose(order: target -> source) -> old users
               (the Parameter's shape is permuted; its tensor names stay on it)
      output:  old producer -> Transpose(order: source -> target) -> Result
               (the output tensor names move to the Transpose)

  An inserted Transpose next to a constant-order Transpose (a TF frontend's NHWC <->
  NCHW at the interface) is composed with it; an identity composition leaves none.

* the layout the interface ends up with (target, else source) is written as OpenVINO
  does: rt_info ``layout`` (``[N,C,H,W]``) on the Parameter's output port, or on the
  output port that feeds the Result, so ``get_layout()`` of the read model returns it.

Without a source layout, a target layout that names ``C`` assumes the framework's
convention for the source: channels-last (``N...C``, the target's names with C moved
last) for TensorFlow, channels-first (C moved second) for the others. ``?`` names no
dimension and cannot be moved; ``...`` stands for the unnamed dimensions in between
and keeps their order. Unknown names and rank mismatches are OptionErrors.
"""
from __future__ import annotations

import logging

import numpy as np

from mo.errors import OptionError
from mo.graph import Graph, Node, Value, format_shape
from mo.ir.builder import Builder
from mo.options import Layout, LayoutSpec, format_layout

from .base import PassReport

log = logging.getLogger("mo.passes")

NAME = "layout"


def expand(layout: Layout, rank: int | None, who: str) -> tuple[str, ...] | None:
    """``layout`` with ``...`` replaced by one placeholder per dimension it covers; rank-checked.

    None when the rank is unknown.
    """
    if rank is None:
        return None
    if "..." in layout:
        named = len(layout) - 1
        if named > rank:
            raise OptionError(f"layout {format_layout(layout)} of {who} names {named} dimensions; "
                              f"the tensor has rank {rank}")
        at = layout.index("...")
        return layout[:at] + tuple(f"...{i}" for i in range(rank - named)) + layout[at + 1:]
    if len(layout) != rank:
        raise OptionError(f"layout {format_layout(layout)} of {who} has rank {len(layout)}; "
                          f"the tensor has rank {rank}")
    return layout


def default_source(target: Layout, framework: str | None, who: str) -> Layout:
    """The source layout assumed when only a target is given (see the module docstring)."""
    if "C" not in target:
        raise OptionError(f"--target_layout {format_layout(target)} of {who}: give its source layout too "
                          f"(--source_layout, or --layout 'name(src->dst)')")
    rest = tuple(d for d in target if d != "C")
    if framework == "tf":
        return rest + ("C",)
    return rest[:1] + ("C",) + rest[1:]


def permutation(src: tuple[str, ...], dst: tuple[str, ...], who: str) -> list[int]:
    """``order`` with ``dst[i] == src[order[i]]``: Transpose(x in src, order) is x in dst."""
    if "?" in src or "?" in dst:
        if src == dst:
            return list(range(len(src)))
        raise OptionError(f"cannot change the layout of {who}: '?' dimensions cannot be moved "
                          f"({format_layout(src)} -> {format_layout(dst)})")
    if sorted(src) != sorted(dst):
        raise OptionError(f"cannot change the layout of {who}: {format_layout(src)} and {format_layout(dst)} "
                          f"do not name the same dimensions")
    return [src.index(d) for d in dst]


def _set_layout_rt(node: Node, port: int, layout: Layout) -> None:
    ports = dict(node.meta.get("output_rt_info", {}))
    ports[port] = {**ports.get(port, {}), "layout": {"layout": format_layout(layout)}}
    node.meta["output_rt_info"] = ports


def _find(graph: Graph, spec: LayoutSpec) -> tuple[str, Node]:
    """("input", Parameter) or ("output", Result) the spec names."""
    if spec.name is None:
        if spec.index >= len(graph.parameters):
            raise OptionError(f"{spec.index + 1} unnamed layouts given; the model has {len(graph.parameters)} "
                              f"input(s): name the tensors, e.g. --layout 'name(nchw)'")
        return "input", graph.parameters[spec.index]
    for p in graph.parameters:
        if spec.name in p.outputs[0].names or spec.name == p.name:
            return "input", p
    for r in graph.results:  # the Result's own name first: Results may share a tensor and its names
        if spec.name in (r.name, r.name.removesuffix("/sink_port_0")):
            return "output", r
    for r in graph.results:
        if spec.name in r.inputs[0].names:
            return "output", r
    ins = ", ".join(n for p in graph.parameters for n in p.outputs[0].names[:1]) or "none"
    outs = ", ".join(n for r in graph.results for n in r.inputs[0].names[:1]) or "none"
    raise OptionError(f"layout given for {spec.name!r}, which is no input or output of the model "
                      f"(inputs: {ins}; outputs: {outs})")


def _order_const(b: Builder, order: list[int]) -> Value:
    return b.const(np.array(order, dtype=np.int64))


def _const_order(node: Node) -> list[int] | None:
    """The order of a Transpose with a constant order input, else None."""
    if node.op != "Transpose" or node.inputs[1].const is None:
        return None
    return [int(k) for k in node.inputs[1].const.numpy().reshape(-1)]


def _transpose_input(graph: Graph, param: Node, order: list[int]) -> None:
    """Parameter takes the target shape; a Transpose (target -> source) feeds its old users.

    A user that is itself a constant-order Transpose (a TF frontend's NHWC -> NCHW) takes
    the composed order instead, and disappears when the composition is the identity.
    """
    v = param.outputs[0]
    users = list(v.uses)
    # the Parameter now holds the target layout: new[i] = old[order[i]]
    new_shape = tuple(v.shape[i] for i in order)  # type: ignore[index]
    v.shape = new_shape
    param.attrs["shape"] = list(new_shape)
    back = [order.index(j) for j in range(len(order))]  # target -> source
    b = Builder(graph, fold=False)
    t: Value | None = None
    for node, i in users:
        u = _const_order(node) if i == 0 else None
        if u is not None and len(u) == len(back):
            composed = [back[k] for k in u]
            out = node.outputs[0]
            if composed == sorted(composed) and not any(n.op == "Result" for n in out.users()):
                graph.replace_all_uses_with(out, v, keep_names=False)
            else:
                graph.set_input(node, 1, _order_const(b, composed))
            continue
        if t is None:
            t = b.op("Transpose", v, _order_const(b, back), name=param.name + "/layout_transpose")
        graph.set_input(node, i, t)


def _transpose_output(graph: Graph, result: Node, order: list[int]) -> tuple[Node, int]:
    """A Transpose (source -> target) between the output and its Result; it takes the names.

    When the output comes from a constant-order Transpose used only by this Result, the
    two orders are composed (an identity composition connects the Result to its input).
    Returns the node and port that now feed the Result.
    """
    v = result.inputs[0]
    b = Builder(graph, fold=False)
    src, final = v, order
    p = _const_order(v.producer) if v.producer is not None else None
    if p is not None and len(p) == len(order) and v.users() == [result]:
        src, final = v.producer.inputs[0], [p[k] for k in order]  # type: ignore[union-attr]
        if final == sorted(final) and src.producer is not None and src.producer.op not in ("Parameter", "Const"):
            graph.set_input(result, 0, src)
            for n in v.names:
                src.add_name(n)
            v.names = []
            return src.producer, src.index
    base = v.producer.name if v.producer is not None else result.name
    t = b.op("Transpose", src, _order_const(b, final), name=base + "/layout_transpose")
    names = _own_names(result, v)
    graph.set_input(result, 0, t)
    t.names, v.names = names, [n for n in v.names if n not in names]
    return t.producer, 0  # type: ignore[return-value]


def _own_names(result: Node, v: Value) -> list[str]:
    """The names of ``v`` that belong to ``result``: all of them, unless other Results share ``v``."""
    if not any(n.op == "Result" and n is not result for n in v.users()):
        return list(v.names)
    own = result.name.removesuffix("/sink_port_0")
    return [own] if own in v.names else []


def run(graph: Graph, specs: list[LayoutSpec]) -> PassReport:
    framework = graph.meta.get("framework")
    done: list[str] = []
    transposed = False
    for spec in specs:
        kind, node = _find(graph, spec)
        v = node.outputs[0] if kind == "input" else node.inputs[0]
        who = f"{kind} {v.name or node.name!r}"
        src, dst = spec.source, spec.target
        if dst is not None and src is None:
            src = default_source(dst, framework, who)
        if src is None:
            raise OptionError(f"no layout given for {who}")
        src_x = expand(src, v.rank, who)
        dst_x = expand(dst, v.rank, who) if dst is not None else None
        final = dst if dst is not None else src
        if dst_x is not None and src_x is None:
            raise OptionError(f"cannot change the layout of {who}: its rank is unknown (give its shape)")
        old_shape = v.shape
        if dst_x is not None and src_x is not None and dst_x != src_x:
            order = permutation(src_x, dst_x, who)
            transposed = True
            # for tools that feed the source model (e.g. --validate): source data.transpose(order) is IR data
            graph.meta.setdefault("layout_transposes", {})[v.name or node.name] = (kind, tuple(order))
            if kind == "input":
                _transpose_input(graph, node, order)
                _set_layout_rt(node, 0, final)
            else:
                feeder, port = _transpose_output(graph, node, order)
                _set_layout_rt(feeder, port, final)
            done.append(f"{who} {format_shape(old_shape)} {format_layout(src)} -> "
                        f"{format_shape(v.shape if kind == 'input' else node.inputs[0].shape)} {format_layout(final)}")
        else:
            if kind == "input":
                _set_layout_rt(node, 0, final)
            elif v.producer is not None:
                _set_layout_rt(v.producer, v.index, final)
            done.append(f"{who} {format_layout(final)}")
    if transposed:
        graph.toposort()
    return PassReport(NAME, bool(done), "; ".join(done))
