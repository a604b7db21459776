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
from the framework's convention: last for TensorFlow, second for the others. Inserted
ops: Gather (reverse), Subtract (mean), Divide (scale); the Parameter keeps its name and
tensor names. Fusion passes and the runtime fold them where exact.
"""
from __future__ import annotations

import logging

import numpy as np

from mo.errors import OptionError
from mo.graph import Graph, Node
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
    return rank - 1 if graph.meta.get("framework") == "tf" else 1


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
        done.append(_insert(graph, p, pl, channel_axis(graph, p, options)))
    if done:
        graph.toposort()
    return PassReport(NAME, bool(done), "; ".join(done))


def _insert(graph: Graph, param: Node, pl: _Plan, axis: int | None) -> str:
    from mo.ir.builder import Builder

    b = Builder(graph, fold=False)
    v = param.outputs[0]
    users = list(v.uses)
    rank = v.rank or 0
    dtype = {"f16": np.float16, "f64": np.float64}.get(v.etype, np.float32)

    def along_channels(vals: np.ndarray):
        if vals.size == 1:
            return b.const(vals.astype(dtype).reshape(()))
        shape = [1] * rank
        shape[axis] = vals.size  # type: ignore[index]
        return b.const(vals.astype(dtype).reshape(shape))

    x, what = v, []
    base = param.name + "/preprocess"
    if pl.reverse:
        x = b.op("Gather", x, b.const(np.array([2, 1, 0], dtype=np.int64)), b.const(np.array(axis, dtype=np.int64)),
                 name=base + "/reverse_channels", batch_dims=0)
        what.append("channels reversed")
    if pl.mean is not None:
        x = b.op("Subtract", x, along_channels(pl.mean), name=base + "/mean")
        what.append("mean " + ",".join(f"{m:g}" for m in pl.mean))
    if pl.scale is not None:
        x = b.op("Divide", x, along_channels(pl.scale), name=base + "/scale")
        what.append("scale " + ",".join(f"{s:g}" for s in pl.scale))
    for node, i in users:
        graph.set_input(node, i, x)
    log.info("preprocess %s: %s", param.name, ", ".join(what))
    return f"{v.names[0] if v.names else param.name}: {', '.join(what)}"
