"""Input preprocessing embedded in the IR: ``--reverse_input_channels``, ``--mean_values``,
``--scale_values``, ``--scale``.

The IR takes the raw input and computes, before the model's first op,

    x_model = (reverse_channels(x_raw) - mean) / scale

in that order whatever the order of the options (as the old Model Optimizer did): the
channels are reversed first, so mean and scale values are given in the channel order the
source model expects. Per input:

* ``--mean_values`` / ``--scale_values`` name an input (``data[123,117,104]``) or apply to
  the inputs in order; one value is a scalar, several are one per channel;
* ``--scale`` divides every floating-point input;
* ``--reverse_input_channels`` flips the channel axis of every input with 3 channels.

The channel axis comes from the input's layout (``--layout``/``--source_layout``), else
from the framework's convention: last for TensorFlow, second for the others (logged, as an
assumption).

Inserted ops: Gather (reverse), Add of -mean, Multiply by 1/scale. They go right after the
Parameter, or, when every reader of the Parameter is a constant-order Transpose (a
TensorFlow frontend's NHWC -> NCHW), after each Transpose on the permuted channel axis, so
that they sit next to the first convolution. The Parameter keeps its name, tensor names
and shape. When every reader is a Convolution with a constant filter, the reversal is done
on the filters' input channels instead of by a Gather (exact; the mean/scale constants are
then put in the raw input's order; not with ``--disable_fusing``).

The pipeline runs this pass before FUSE: fold_scale_shift then folds the scale into the
first convolution's (or MatMul's) filter and the mean into its bias when the convolution
reads no padding. A padded zero would not be shifted by the mean, so a padded first
convolution keeps the elementwise ops in front of it.
"""
from __future__ import annotations

import logging

import numpy as np

from mo.errors import OptionError
from mo.graph import Graph, Node, Value
from mo.options import ConvertOptions, ValuesSpec, merge_layouts

from .base import PassReport

log = logging.getLogger("mo.passes")

NAME = "preprocess"
FLOAT_TYPES = ("f32", "f16", "f64", "bf16")


def _input_names(graph: Graph) -> str:
    return ", ".join(p.outputs[0].names[0] if p.outputs[0].names else p.name for p in graph.parameters) or "none"


def _match(graph: Graph, spec: ValuesSpec, option: str) -> Node:
    if spec.name is None:
        if spec.index >= len(graph.parameters):
            raise OptionError(f"--{option}: {spec.index + 1} unnamed value lists given; the model has "
                              f"{len(graph.parameters)} input(s) ({_input_names(graph)}): name them, "
                              f"e.g. --{option} 'data[...]'")
        return graph.parameters[spec.index]
    for p in graph.parameters:
        if spec.name == p.name or spec.name in p.outputs[0].names:
            return p
    raise OptionError(f"--{option}: {spec.name!r} is no input of the model (inputs: {_input_names(graph)})")


def channel_axis(graph: Graph, param: Node, options: ConvertOptions) -> int | None:
    """The channel axis of ``param`` from its layout option, else the framework's convention."""
    from .layout import expand

    rank = param.outputs[0].rank
    for spec in merge_layouts(options):
        if spec.source is None:
            continue
        named = spec.name is not None and (spec.name == param.name or spec.name in param.outputs[0].names)
        positional = spec.name is None and graph.parameters.index(param) == spec.index
        if named or positional:
            layout = expand(spec.source, rank, f"input {param.name}")
            if layout is None:
                return None
            if "C" not in layout:
                raise OptionError(f"the layout of input {param.name!r} names no channel dimension C; "
                                  f"mean/scale/reverse need one")
            return layout.index("C")
    if rank is None or rank == 0:
        return None
    if rank == 1:
        return 0
    framework = graph.meta.get("framework")
    axis = rank - 1 if framework == "tf" else 1
    log.info("preprocess: input %s has no --layout; assuming channels on axis %d (the %s convention)",
             param.name, axis, "TensorFlow NHWC" if framework == "tf" else "NCHW")
    return axis


class _Plan:
    """What one input gets: reverse, mean, scale (each optional)."""

    def __init__(self) -> None:
        self.reverse = False
        self.mean: np.ndarray | None = None
        self.scale: np.ndarray | None = None


def _values(spec: ValuesSpec, param: Node, axis: int | None, option: str) -> np.ndarray:
    vals = np.array(spec.values, dtype=np.float64)
    if vals.size == 1:
        return vals
    shape = param.outputs[0].shape
    if axis is None:
        raise OptionError(f"--{option}: the rank of input {param.name!r} is unknown, so its channel axis is; "
                          f"give --input_shape or a single value")
    channels = shape[axis] if shape is not None else -1
    if channels >= 0 and channels != vals.size:
        raise OptionError(f"--{option}: {vals.size} values for input {param.name!r}, which has {channels} "
                          f"channels (axis {axis} of {list(shape)})")  # type: ignore[arg-type]
    return vals


def run(graph: Graph, options: ConvertOptions) -> PassReport:
    plans: dict[Node, _Plan] = {}

    def plan(p: Node) -> _Plan:
        if p.outputs[0].etype not in FLOAT_TYPES:
            raise OptionError(f"input {p.name!r} is {p.outputs[0].etype}: mean/scale/reverse preprocessing "
                              f"needs a floating-point input (set it with --input '{p.name}{{f32}}')")
        return plans.setdefault(p, _Plan())

    for option, attr in (("mean_values", "mean"), ("scale_values", "scale")):
        seen: set[Node] = set()
        for spec in getattr(options, option):
            p = _match(graph, spec, option)
            if p in seen:
                raise OptionError(f"--{option}: input {p.name!r} is given values twice")
            seen.add(p)
            setattr(plan(p), attr, _values(spec, p, channel_axis(graph, p, options), option))
    if options.scale is not None:
        if options.scale == 0:
            raise OptionError("--scale 0 would divide by zero")
        for p in graph.parameters:
            if p.outputs[0].etype not in FLOAT_TYPES:
                continue
            pl = plan(p)
            pl.scale = np.array([options.scale]) if pl.scale is None else pl.scale * options.scale
    if options.reverse_input_channels:
        hits = 0
        for p in graph.parameters:
            axis = channel_axis(graph, p, options)
            shape = p.outputs[0].shape
            if axis is None or shape is None or shape[axis] != 3 or p.outputs[0].etype not in FLOAT_TYPES:
                continue
            plan(p).reverse = True
            hits += 1
        if not hits:
            raise OptionError("--reverse_input_channels: no floating-point input has 3 channels on its channel "
                              f"axis (inputs: {_input_names(graph)}); check --layout")

    done = []
    for p, pl in plans.items():
        done.append(_insert(graph, p, pl, channel_axis(graph, p, options), not options.disable_fusing))
    if done:
        graph.toposort()
    return PassReport(NAME, bool(done), "; ".join(done))


def _layout_transposes(param: Node) -> list[tuple[Node, list[int]]] | None:
    """The Parameter's users when they are all constant-order Transposes (a frontend's
    NHWC -> NCHW), with their orders; else None."""
    out = []
    for node, i in param.outputs[0].uses:
        if node.op != "Transpose" or i != 0 or node.inputs[1].const is None:
            return None
        order = [int(k) for k in node.inputs[1].const.numpy().reshape(-1)]
        if len(order) != param.outputs[0].rank or any(r.op == "Result" for r in node.outputs[0].users()):
            return None
        out.append((node, order))
    return out or None


def _insert(graph: Graph, param: Node, pl: _Plan, axis: int | None, fuse: bool) -> str:
    """Insert the ops after ``param`` (or after its layout Transposes, on the permuted axis)."""
    v = param.outputs[0]
    transposes = _layout_transposes(param) if axis is not None else None
    base = param.name + "/preprocess"
    if transposes is None:
        folded = _apply(graph, v, pl, axis, base, fuse)
    else:
        folded = False
        for k, (node, order) in enumerate(transposes):
            folded |= _apply(graph, node.outputs[0], pl, order.index(axis), base + (f"_{k}" if k else ""), fuse)
    what = []
    if pl.reverse:
        what.append("channels reversed" + (" (in the first convolution's filter)" if folded else ""))
    if pl.mean is not None:
        what.append("mean " + ",".join(f"{m:g}" for m in pl.mean))
    if pl.scale is not None:
        what.append("scale " + ",".join(f"{s:g}" for s in pl.scale))
    log.info("preprocess %s: %s", param.name, ", ".join(what))
    return f"{v.names[0] if v.names else param.name}: {', '.join(what)}"


def _reverse_foldable(users: list[tuple[Node, int]], axis: int | None) -> bool:
    """Every reader is a Convolution taking ``v`` (channels on axis 1) as data, with a constant
    3-input-channel float filter: reversing the input's channels then equals reversing the
    filter's input channels, exactly."""
    if axis != 1 or not users:
        return False
    for node, i in users:
        w = node.inputs[1] if len(node.inputs) > 1 else None
        if (node.op != "Convolution" or i != 0 or w is None or w.const is None or w.shape is None
                or len(w.shape) < 3 or w.shape[1] != 3 or w.etype not in FLOAT_TYPES):
            return False
    return True


def _reversed_filter(graph: Graph, w: Value) -> Value:
    from mo.ir.builder import Builder
    from mo.tensor import LazyTensor

    t = w.const

    def compute(t=t) -> np.ndarray:
        return np.ascontiguousarray(t.numpy()[:, ::-1])  # type: ignore[union-attr]

    name = (w.producer.name if w.producer is not None else "filter") + "/reversed_channels"
    return Builder(graph, fold=False).const_tensor(LazyTensor(compute, t.dtype, tuple(w.shape)), name=name)  # type: ignore


def _apply(graph: Graph, v: Value, pl: _Plan, axis: int | None, base: str, fuse: bool) -> bool:
    """Preprocess ``v`` for all its current readers; True when the channel reversal went into
    the readers' filters instead of a Gather (only when ``fuse``: not with --disable_fusing)."""
    users = list(v.uses)
    fold = fuse and pl.reverse and _reverse_foldable(users, axis)
    if fold:
        # reverse(x) - m == reverse(x - reverse(m)), same for the scale: the per-channel
        # constants are applied in the raw input's order, the filters take the reversal
        plan = _Plan()
        plan.mean = None if pl.mean is None else pl.mean[::-1].copy()
        plan.scale = None if pl.scale is None else pl.scale[::-1].copy()
        x = _chain(graph, v, plan, axis, base)
        filters: dict[Value, Value] = {}
        for node, i in users:
            w = node.inputs[1]
            if w not in filters:
                filters[w] = _reversed_filter(graph, w)
            graph.set_input(node, 1, filters[w])
            graph.set_input(node, i, x)
    else:
        x = _chain(graph, v, pl, axis, base)
        for node, i in users:
            graph.set_input(node, i, x)
    return fold


def _chain(graph: Graph, v: Value, pl: _Plan, axis: int | None, base: str) -> Value:
    """``(reverse(v) + (-mean)) * (1/scale)`` along ``axis`` of ``v``.

    Add and Multiply (not Subtract and Divide): the forms fold_scale_shift folds into the
    first convolution or MatMul. ``x * (1/s)`` differs from ``x / s`` by at most one rounding
    of the f32 reciprocal (relative 6e-8).
    """
    from mo.ir.builder import Builder

    b = Builder(graph, fold=False)
    rank = v.rank or 0
    dtype = {"f16": np.float16, "f64": np.float64}.get(v.etype, np.float32)

    def along_channels(vals: np.ndarray) -> Value:
        if vals.size == 1:
            return b.const(vals.astype(dtype).reshape(()))
        shape = [1] * rank
        shape[axis] = vals.size  # type: ignore[index]
        return b.const(vals.astype(dtype).reshape(shape))

    x = v
    if pl.reverse:
        x = b.op("Gather", x, b.const(np.array([2, 1, 0], dtype=np.int64)), b.const(np.array(axis, dtype=np.int64)),
                 name=base + "/reverse_channels", batch_dims=0)
    if pl.mean is not None:
        x = b.op("Add", x, along_channels(-pl.mean), name=base + "/mean")
    if pl.scale is not None:
        x = b.op("Multiply", x, along_channels(1.0 / pl.scale), name=base + "/scale")
    return x
