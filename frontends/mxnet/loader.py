"""Read an MXNet model (symbol JSON + NDArray list .params) and convert it, without mxnet.

Which file is which:

* ``mo convert model-symbol.json``: the params are the newest ``model-NNNN.params`` next to it;
* ``mo convert model-0000.params``: the symbol is ``model-symbol.json`` next to it;
* ``--input_model model-0000.params --input_symbol model-symbol.json``: both named (the old tool's form).

Variables of the symbol found in the params (``arg:``/``aux:``) become constants mapped from
the file; the others are model inputs, shaped by ``--input_shape``/``--input`` or by the
symbol's own ``__shape__`` hint.
"""
from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

from mo.errors import ConversionError, InputError, OptionError, UnsupportedOpsError
from mo.graph import Graph, Value
from mo.options import ConvertOptions, resolve_input

from . import ops  # noqa: F401  (registers the converters)
from .context import MxContext, mxnet_ops
from .params import TYPE_FLAGS, is_ndarray_list, read_params, split_params
from .symbol import Symbol, default_params_path, default_symbol_path, is_symbol_json, parse_attr, read_symbol

# variable names that are learned parameters, never model inputs (Gluon and Module naming)
_PARAM_NAME = re.compile(r"(weight|bias|gamma|beta|moving_mean|moving_var|running_mean|running_var|alpha|"
                         r"parameters|_mean|_var)$")


# loss layers: the inputs from this index on are training labels, unused at inference
LABEL_INPUTS = {"SoftmaxOutput": 1, "LinearRegressionOutput": 1, "LogisticRegressionOutput": 1,
                "MAERegressionOutput": 1, "SVMOutput": 1, "MakeLoss": 1}


# inputs that are learned parameters (from the .params file), by op
WEIGHT_INPUTS = {"Convolution": (1, 2), "Deconvolution": (1, 2), "FullyConnected": (1, 2), "BatchNorm": (1, 2, 3, 4),
                 "LeakyReLU": (1,), "Embedding": (1,), "InstanceNorm": (1, 2), "LayerNorm": (1, 2),
                 "GroupNorm": (1, 2), "RNN": (1,), "_contrib_DeformableConvolution": (2, 3),
                 "_contrib_ModulatedDeformableConvolution": (3, 4)}


def _inputs_used(node) -> list[tuple[int, int]]:
    cut = LABEL_INPUTS.get(node.op)
    return node.inputs if cut is None else node.inputs[:cut]


def detect(path: str) -> bool:
    """A symbol JSON (nodes, heads) or an NDArray list .params file."""
    return is_symbol_json(path) or is_ndarray_list(path)


def model_files(path: str, options: ConvertOptions) -> tuple[str, str | None]:
    """(symbol path, params path or None) for the model the user named."""
    if options.input_symbol:
        if not os.path.exists(options.input_symbol):
            raise InputError(f"{options.input_symbol}: file not found (--input_symbol)")
        if not is_ndarray_list(path):
            raise InputError(f"{path}: not an MXNet .params file (with --input_symbol the model is the .params)")
        return options.input_symbol, path
    if is_ndarray_list(path):
        sym = default_symbol_path(path)
        if sym is None:
            raise InputError(f"{path}: a .params file alone holds no network; give its symbol with "
                             f"--input_symbol model-symbol.json")
        return sym, path
    return path, default_params_path(path)


def load(path: str, options: ConvertOptions) -> Graph:
    sym_path, params_path = model_files(path, options)
    sym = read_symbol(sym_path)
    args, aux = split_params(read_params(params_path)) if params_path else ({}, {})
    return convert_symbol(sym, args, aux, options, params_path)


def _out_name(sym: Symbol, nid: int, idx: int, n_out: int) -> str:
    node = sym.nodes[nid]
    if node.op == "null":
        return node.name
    return f"{node.name}_output" if n_out == 1 else f"{node.name}_output{idx}"


def convert_symbol(sym: Symbol, args: dict, aux: dict, options: ConvertOptions,
                   params_path: str | None) -> Graph:
    path = sym.path
    graph = Graph(Path(path).stem.removesuffix("-symbol"))
    ctx = MxContext(graph, path)
    by_name = {n.name: n for n in sym.nodes}

    # ---- outputs (--output names nodes, optionally name:index) and inputs (--input cuts at nodes)
    heads = list(sym.heads)
    if options.outputs:
        heads = []
        for o in options.outputs:
            name, _, idx = o.partition(":")
            base = name[:-len("_output")] if name.endswith("_output") and name not in by_name else name
            if base not in by_name:
                raise OptionError(f"{path}: --output {o!r} is not a node of the symbol")
            heads.append((by_name[base].index, int(idx) if idx.isdigit() else 0))
    cut = {s.name: s for s in options.inputs}
    for name in cut:
        if name not in by_name:
            raise OptionError(f"{path}: --input {name!r} is not a node of the symbol")

    # ---- nodes the outputs need
    needed: set[int] = set()
    stack = [h for h, _ in heads]
    while stack:
        i = stack.pop()
        if i in needed:
            continue
        needed.add(i)
        if sym.nodes[i].name in cut:
            continue
        stack.extend(src for src, _ in _inputs_used(sym.nodes[i]))
    order = sorted(needed)

    missing: Counter[str] = Counter()
    examples: dict[str, str] = {}
    for i in order:
        n = sym.nodes[i]
        if n.op != "null" and n.name not in cut and mxnet_ops.lookup(n.op) is None:
            missing[n.op] += 1
            examples.setdefault(n.op, n.name)
    if missing:
        raise UnsupportedOpsError(path, "MXNet", missing, examples)

    # ---- inputs: cut nodes, or variables without a value in the params
    input_ids = [i for i in order if sym.nodes[i].name in cut] if cut else \
        [i for i in order if sym.nodes[i].op == "null" and sym.nodes[i].name not in args
         and sym.nodes[i].name not in aux]
    if cut:
        input_ids.sort(key=lambda i: list(cut).index(sym.nodes[i].name))
    # variables that must come from the params: learned weights by position or name, and, with
    # --input, every variable that is not an input
    weight_vars = {src for i in order for k, (src, _) in enumerate(_inputs_used(sym.nodes[i]))
                   if k in WEIGHT_INPUTS.get(sym.nodes[i].op, ())}
    for i in order:
        n = sym.nodes[i]
        if n.op != "null" or n.name in args or n.name in aux or (cut and i in input_ids):
            continue
        if cut or i in weight_vars or (_PARAM_NAME.search(n.name) and params_path is not None):
            where = params_path or f"{path}: no {Path(path).name.removesuffix('-symbol.json')}-NNNN.params found"
            hint = " and it is no --input" if cut else ""
            raise InputError(f"{where}: has no value for argument {n.name!r} of the symbol "
                             f"{Path(path).name}{hint}; are the symbol and params from the same model?")
    if options.input_shape and len(options.input_shape) != len(input_ids):
        raise OptionError(f"--input_shape gives {len(options.input_shape)} shape(s) for {len(input_ids)} input(s) "
                          f"({', '.join(sym.nodes[i].name for i in input_ids)})")

    values: dict[tuple[int, int], Value] = {}
    for k, i in enumerate(input_ids):
        n = sym.nodes[i]
        hint_shape = parse_attr(n.hints.get("__shape__", "")) if n.op == "null" else None
        shape = tuple(hint_shape) if isinstance(hint_shape, tuple) and hint_shape and all(
            isinstance(d, int) and d > 0 for d in hint_shape) else None
        etype = None
        if "__dtype__" in n.hints and n.op == "null":
            dt = TYPE_FLAGS.get(int(n.hints["__dtype__"])) if n.hints["__dtype__"].isdigit() else None
            if dt is not None:
                from mo.types import from_numpy
                etype = from_numpy(dt.newbyteorder("="))
        et, shape, frozen = resolve_input(options, k, cut.get(n.name), etype, shape)
        if shape is None:
            raise OptionError(f"{path}: input {n.name!r} has no shape in the symbol; give it with "
                              f"--input_shape (e.g. --input_shape [1,3,224,224]) or --input {n.name}[...]")
        if frozen is not None:
            v = ctx.const(frozen, name=n.name)
        else:
            v = ctx.parameter(n.name, et, shape)
        v.add_name(n.name)
        values[(i, 0)] = v

    for i in order:
        n = sym.nodes[i]
        if (i, 0) in values:
            continue
        if n.op == "null":
            t = args.get(n.name)
            if t is None:
                t = aux.get(n.name)
            values[(i, 0)] = ctx.const_tensor(t, name=n.name)
            continue
        ins = []
        for src, idx in _inputs_used(n):
            v = values.get((src, idx))
            if v is None:
                raise ConversionError(f"{path}: node {n.name!r} ({n.op}) reads output {idx} of "
                                      f"{sym.nodes[src].name!r}, which that node does not have")
            ins.append(v)
        outs = ctx.convert_node(n, ins)
        for k, v in enumerate(outs):
            values[(i, k)] = v
            if n.name:
                v.add_name(_out_name(sym, i, k, len(outs)))

    for nid, idx in heads:
        v = values.get((nid, idx))
        if v is None:
            raise ConversionError(f"{path}: output {idx} of node {sym.nodes[nid].name!r} does not exist")
        n_out = sum(1 for key in values if key[0] == nid)
        ctx.result(v, name=_out_name(sym, nid, idx, n_out))
    graph.toposort()
    return graph
