"""TF2 SavedModels without TensorFlow: parse ``saved_model.pb``, inline the signature's function calls
into one flat graph and bind the captured variables to the checkpoint's tensors.

How a TF2 SavedModel is laid out (what this module relies on):

* the meta graph's top-level GraphDef has a Placeholder per signature input, a ``VarHandleOp``
  per variable, and a ``StatefulPartitionedCall`` per signature calling a wrapper function of
  the library with (inputs..., variable handles...); the signature's TensorInfos name the
  Placeholders and the call's outputs;
* inside a function, node inputs are ``arg_name`` (a function argument) or
  ``node:output_arg:index``; the op's OpDef (``stripped_op_list``) says which flat output
  port an (output_arg, index) pair is; calls nest (the wrapper calls the traced function);
* ``object_graph_def.concrete_functions[f].bound_inputs`` lists the object-graph node of each
  captured argument (the call's last arguments); a ``variable`` node's checkpoint key comes
  from the checkpoint's own object graph (``_CHECKPOINTABLE_OBJECT_GRAPH`` in the bundle),
  matched to the SavedModel's from the root by child names: its ``VARIABLE_VALUE`` attribute.

``ReadVariableOp`` of a bound variable becomes an Identity of the variable's constant (a
:class:`~mo.tensor.MappedTensor` of the data file). A ``While``/``StatelessWhile`` becomes a TF1
loop frame (:meth:`_Flattener.lower_while`) that the converter unrolls. Anything outside this
picture (TF1 SavedModels, If/Case functions, other resource ops) raises
:class:`FastPathUnsupported`; the loader then takes the TensorFlow path.
"""
from __future__ import annotations

from pathlib import Path

from mo.errors import InputError, OptionError

from .bundle import BundleError, TensorBundle
from .context import split_input
from .proto import SavedModel, TrackableObjectGraph
from .proto.mo_tf_framework_pb2 import AttrValue, TensorProto

CALL_OPS = frozenset({"StatefulPartitionedCall", "PartitionedCall"})
CONTROL_FLOW_OPS = frozenset({"If", "StatelessIf", "While", "StatelessWhile", "Case", "StatelessCase"})
WHILE_OPS = frozenset({"While", "StatelessWhile"})
INIT_OP_KEY = "__saved_model_init_op"

# output arg names of multi-output ops (each a single tensor), for ops missing from a SavedModel's op list
_MULTI_OUTPUT_ARGS = {
    **{op: ["y", "batch_mean", "batch_variance", "reserve_space_1", "reserve_space_2", "reserve_space_3"]
       for op in ("FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3")},
    "TopKV2": ["values", "indices"], "Unique": ["y", "idx"], "UniqueWithCounts": ["y", "idx", "count"],
    "TensorListPopBack": ["output_handle", "tensor"], "Switch": ["output_false", "output_true"],
    "Merge": ["output", "value_index"], "NonMaxSuppressionV4": ["selected_indices", "valid_outputs"],
    "NonMaxSuppressionV5": ["selected_indices", "selected_scores", "valid_outputs"],
    "CTCGreedyDecoder": ["decoded_indices", "decoded_values", "decoded_shape", "log_probability"],
    "Svd": ["s", "u", "v"], "Qr": ["q", "r"], "BroadcastGradientArgs": ["r0", "r1"],
"QuantizeV2": ["output", "output_min", "output_max"],
}


def choose_signature(path: str, names, signature: str | None) -> str:
    """The signature to convert: ``signature`` if given, else serving_default, else the first by name."""
    if not names:
        raise InputError(f"{path}: the SavedModel has no signatures; export one (e.g. serving_default)")
    name = signature or ("serving_default" if "serving_default" in names else sorted(names)[0])
    if name not in names:
        raise OptionError(f"{path}: no signature {name!r} (signatures: {', '.join(sorted(names))})")
    return name


class FastPathUnsupported(Exception):
    """The SavedModel uses something the TensorFlow-free reader does not handle (the reason is the message)."""


class FlatNode:
    """A node of the flattened graph: what the converters read of a NodeDef (name, op, input, attr)."""

    __slots__ = ("name", "op", "input", "attr")

    def __init__(self, name: str, op: str, inputs: list[str], attr) -> None:
        self.name = name
        self.op = op
        self.input = inputs
        self.attr = attr


class FlatGraph:
    """A GraphDef look-alike: ``node`` is the list of FlatNodes."""

    def __init__(self) -> None:
        self.node: list[FlatNode] = []


class _Broken:
    """Marks a node that cannot be flattened; only an error if an output needs it."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _scalar_i32(v: int) -> AttrValue:
    a = AttrValue()
    a.tensor.CopyFrom(TensorProto(dtype=3, int_val=[v]))
    return a


def _type_attr(dt: int) -> AttrValue:
    a = AttrValue()
    a.type = dt
    return a


class _Flattener:
    def __init__(self, mg, path: str) -> None:
        self.path = path
        self.lib = {f.signature.name: f for f in mg.graph_def.library.function}
        self.opdefs = {o.name: o for o in mg.meta_info_def.stripped_op_list.op}
        self.concrete = mg.object_graph_def.concrete_functions
        self.out = FlatGraph()
        self.var_of_handle: dict[str, int] = {}    # top-level VarHandleOp name -> object graph node id
        self.variables: dict[str, int] = {}        # flat Const name -> object graph node id
        self.defaults: dict[str, list] = {}        # op -> [(attr name, default AttrValue)]

    def attrs(self, n):
        """The node's attributes with the OpDef defaults SavedModels strip (``stripped_default_attrs``) put back."""
        defaults = self.defaults.get(n.op)
        if defaults is None:
            od = self.opdefs.get(n.op)
            defaults = [(a.name, a.default_value) for a in od.attr if a.HasField("default_value")] if od else []
            self.defaults[n.op] = defaults
        missing = [(k, v) for k, v in defaults if k not in n.attr]
        if not missing:
            return n.attr
        out = dict(n.attr.items())
        out.update(missing)
        return out

    # ------------------------------------------------------------------ output ports
    def _port(self, node, out_arg: str, idx: int, callee_outs: list[str] | None) -> int:
        """Flat output port of ``node``'s output ``out_arg:idx`` (function-body reference form)."""
        if callee_outs is not None:  # a call: "output:k" for the call ops, output_arg names for direct calls
            if node.op in CALL_OPS or node.op in WHILE_OPS:
                return idx
            fdef = self.lib[node.op]
            names = [a.name for a in fdef.signature.output_arg]
            if out_arg not in names:
                raise FastPathUnsupported(f"call {node.name!r} has no output {out_arg!r}")
            return names.index(out_arg) + idx
        od = self.opdefs.get(node.op)
        if od is None:
            # TF leaves ops used only inside While cond/body functions out of the stripped op list
            names = _MULTI_OUTPUT_ARGS.get(node.op)
            if names is None:
                return idx  # one output arg (a list, or a single tensor: idx 0)
            if out_arg not in names:
                raise FastPathUnsupported(f"op {node.op} has no output {out_arg!r}")
            return names.index(out_arg) + idx
        port = 0
        for a in od.output_arg:
            if a.name == out_arg:
                return port + idx
            if a.number_attr:
                port += int(node.attr[a.number_attr].i) if a.number_attr in node.attr else 1
            elif a.type_list_attr:
                port += len(node.attr[a.type_list_attr].list.type) if a.type_list_attr in node.attr else 1
            else:
                port += 1
        raise FastPathUnsupported(f"op {node.op} has no output {out_arg!r}")

    # ------------------------------------------------------------------ function bodies
    def inline(self, fname: str, prefix: str, args: list) -> list:
        """Emit the body of function ``fname`` under ``prefix/``; returns its outputs' flat refs (or _Broken)."""
        fdef = self.lib.get(fname)
        if fdef is None:
            return [_Broken(f"function {fname!r} is not in the library")]
        arg_names = [a.name for a in fdef.signature.input_arg]
        if len(arg_names) != len(args):
            return [_Broken(f"function {fname!r} called with {len(args)} of {len(arg_names)} arguments")]
        argmap = dict(zip(arg_names, args))
        body = {n.name: n for n in fdef.node_def}
        outs: dict[str, list | _Broken] = {}      # body node -> flat refs per port (or _Broken)
        direct: dict[str, bool] = {}              # body node -> its outputs are flat node:k refs

        def resolve(ref: str):
            if ref in argmap:
                return argmap[ref]
            parts = ref.split(":")
            src = body.get(parts[0])
            if src is None:
                return _Broken(f"function {fname!r}: input {ref!r} names no node")
            res = outs[src.name]
            if isinstance(res, _Broken):
                return res
            out_arg = parts[1] if len(parts) > 1 else "output"
            idx = int(parts[2]) if len(parts) > 2 else 0
            try:
                port = self._port(src, out_arg, idx, None if direct[src.name] else res)
            except FastPathUnsupported as e:
                return _Broken(str(e))
            if direct[src.name]:
                return f"{prefix}/{src.name}:{port}"
            if len(res) == 1 and isinstance(res[0], _Broken):
                return res[0]
            return res[port] if port < len(res) else _Broken(f"call {src.name!r} has no output {port}")

        for n in _topo(fdef.node_def, body):
            data = [x for x in n.input if not x.startswith("^")]
            refs = [resolve(x) for x in data]
            broken = next((r for r in refs if isinstance(r, _Broken)), None)
            direct[n.name] = True
            if broken is not None:
                outs[n.name] = broken
                continue
            flat_name = f"{prefix}/{n.name}"
            if n.op in CALL_OPS or n.op in self.lib:
                callee = n.attr["f"].func.name if n.op in CALL_OPS else n.op
                direct[n.name] = False
                outs[n.name] = self.inline(callee, flat_name, refs)
                continue
            if n.op in WHILE_OPS:
                direct[n.name] = False
                outs[n.name] = self.lower_while(n, flat_name, refs)
                continue
            outs[n.name] = self.emit(n, flat_name, refs)
        res = []
        for a in fdef.signature.output_arg:
            ref = fdef.ret.get(a.name)
            res.append(_Broken(f"function {fname!r} returns no {a.name!r}") if ref is None else resolve(ref))
        return res

    def lower_while(self, n, name: str, refs: list[str]) -> list:
        """A functional While as a TF1 loop frame (what TensorFlow's own lowering emits), which the
        converter unrolls: Enter -> Merge -> [cond] -> LoopCond -> Switch -> Identity -> [body] ->
        NextIteration -> Merge, and Exit on the Switch's false side. Loop variables the body
        returns unchanged (captured weights, variable handles) are not made loop variables: the
        body reads the outer value directly, so variables stay bound to the checkpoint."""
        cond, body = n.attr["cond"].func.name, n.attr["body"].func.name
        bdef = self.lib.get(body)
        if bdef is None or cond not in self.lib:
            return [_Broken(f"While {n.name!r}: cond/body function missing from the library")]
        ins = [a.name for a in bdef.signature.input_arg]
        outs = [a.name for a in bdef.signature.output_arg]
        if len(ins) != len(refs) or len(outs) != len(refs):
            return [_Broken(f"While {n.name!r}: body signature does not match its {len(refs)} loop variables")]
        invariant = [bdef.ret.get(o) == i for i, o in zip(ins, outs)]
        frame = AttrValue()
        frame.s = name.encode()

        def add(suffix: str, op: str, inputs: list[str], attr=None) -> str:
            self.out.node.append(FlatNode(f"{name}/{suffix}", op, inputs, attr or {}))
            return f"{name}/{suffix}:0"

        merges: dict[int, str] = {}
        for k, ref in enumerate(refs):
            if not invariant[k]:
                enter = add(f"enter_{k}", "Enter", [ref], {"frame_name": frame})
                merges[k] = add(f"merge_{k}", "Merge", [enter, f"{name}/next_{k}:0"])
        cond_out = self.inline(cond, f"{name}/cond", [merges.get(k, r) for k, r in enumerate(refs)])
        if not cond_out or isinstance(cond_out[0], _Broken):
            return [cond_out[0] if cond_out else _Broken(f"While {n.name!r}: cond returns nothing")]
        pred = add("loop_cond", "LoopCond", [cond_out[0]])
        body_args, results = [], []
        for k, ref in enumerate(refs):
            if invariant[k]:
                body_args.append(ref)
                results.append(ref)
                continue
            switch = add(f"switch_{k}", "Switch", [merges[k], pred])
            results.append(add(f"exit_{k}", "Exit", [switch]))
            body_args.append(add(f"body_in_{k}", "Identity", [switch[:-2] + ":1"]))
        body_out = self.inline(body, f"{name}/body", body_args)
        for k in merges:
            if isinstance(body_out[k], _Broken):
                return [body_out[k]]
            add(f"next_{k}", "NextIteration", [body_out[k]])
        return results

    def emit(self, n, flat_name: str, refs: list[str]):
        """Add one (non-call) node; returns [] on success (its outputs are flat_name:k) or a _Broken."""
        op = n.op
        if op in CONTROL_FLOW_OPS:
            return _Broken(f"node {n.name!r} is control flow ({op})")
        if op in ("ReadVariableOp", "ResourceGather", "VariableShape") or op.startswith(("Resource", "AssignVariable")):
            var = refs[0] if refs else ""
            if split_input(var)[0] not in self.variables:
                return _Broken(f"node {n.name!r} ({op}) reads a resource that is not a saved variable")
            if op == "ReadVariableOp":
                self.out.node.append(FlatNode(flat_name, "Identity", [var], {}))
                return []
            if op == "ResourceGather":
                axis = FlatNode(flat_name + "/axis", "Const", [], {"value": _scalar_i32(0), "dtype": _type_attr(3)})
                self.out.node.append(axis)
                attrs = {"batch_dims": n.attr["batch_dims"]} if "batch_dims" in n.attr else {}
                self.out.node.append(FlatNode(flat_name, "GatherV2", [var, refs[1], axis.name + ":0"], attrs))
                return []
            if op == "VariableShape":
                self.out.node.append(FlatNode(flat_name, "Shape", [var], {"out_type": n.attr["out_type"]}
                                              if "out_type" in n.attr else {}))
                return []
            return _Broken(f"node {n.name!r} ({op}) changes or reads a variable in a way mo does not freeze")
        self.out.node.append(FlatNode(flat_name, op, refs, self.attrs(n)))
        return []

    # ------------------------------------------------------------------ the top-level graph
    def top(self, graph_def, out_refs: list[str]) -> dict[str, str]:
        """Flatten the top-level nodes the signature outputs need; returns top ref -> flat ref."""
        nodes = {n.name: n for n in graph_def.node}
        needed: list = []
        seen: set[str] = set()
        stack = [split_input(r)[0] for r in out_refs]
        while stack:  # the nodes the outputs need, by data edges
            name = stack.pop()
            if name in seen:
                continue
            if name not in nodes:
                raise FastPathUnsupported(f"signature tensor node {name!r} is not in the graph")
            seen.add(name)
            needed.append(nodes[name])
            stack.extend(split_input(x)[0] for x in nodes[name].input if not x.startswith("^"))
        # variable handles: bound to object graph nodes through the calls that capture them
        for n in needed:
            if n.op in CALL_OPS:
                fname = n.attr["f"].func.name
                cf = self.concrete.get(fname)
                data = [x for x in n.input if not x.startswith("^")]
                if cf is None:
                    continue
                bound = list(cf.bound_inputs)
                for ref, obj in zip(data[len(data) - len(bound):], bound):
                    self.var_of_handle[split_input(ref)[0]] = obj
        flat: dict[str, list | _Broken] = {}
        for n in _topo([nodes[x.name] for x in needed], {x.name: x for x in needed}):
            data = [x for x in n.input if not x.startswith("^")]
            refs = []
            for x in data:
                src, port = split_input(x)
                r = flat[src]
                if isinstance(r, _Broken):
                    refs.append(r)
                else:
                    refs.append(r[port] if r else f"{src}:{port}")
            broken = next((r for r in refs if isinstance(r, _Broken)), None)
            if broken is not None:
                flat[n.name] = broken
            elif n.op in CALL_OPS:
                flat[n.name] = self.inline(n.attr["f"].func.name, n.name, refs)
            elif n.op == "VarHandleOp":
                if n.name not in self.var_of_handle:
                    flat[n.name] = _Broken(f"variable {n.name!r} is not bound to a saved object")
                else:
                    self.variables[n.name] = self.var_of_handle[n.name]
                    dt = n.attr["dtype"] if "dtype" in n.attr else None
                    self.out.node.append(FlatNode(n.name, "Const", [], {"dtype": dt} if dt is not None else {}))
                    flat[n.name] = []
            elif n.op in CONTROL_FLOW_OPS:
                flat[n.name] = _Broken(f"node {n.name!r} is control flow ({n.op})")
            else:
                self.out.node.append(FlatNode(n.name, n.op, refs, self.attrs(n)))
                flat[n.name] = []
        res = {}
        for r in out_refs:
            src, port = split_input(r)
            v = flat[src]
            if isinstance(v, _Broken):
                raise FastPathUnsupported(v.reason)
            got = v[port] if v else f"{src}:{port}"
            if isinstance(got, _Broken):
                raise FastPathUnsupported(got.reason)
            res[r] = got
        return res


def _topo(node_list, by_name: dict):
    """Nodes in an order where every node comes after its data and control inputs (inputs outside are ignored)."""
    order = []
    state: dict[str, int] = {}
    for root in node_list:
        if root.name in state:
            continue
        stack = [(root, iter(root.input))]
        state[root.name] = 1
        while stack:
            n, it = stack[-1]
            for x in it:
                src = x.lstrip("^").split(":")[0]
                m = by_name.get(src)
                if m is None:
                    continue
                st = state.get(src)
                if st is None:
                    state[src] = 1
                    stack.append((m, iter(m.input)))
                    break
                if st == 1:
                    raise FastPathUnsupported(f"the graph has a cycle through {src!r}")
            else:
                stack.pop()
                state[n.name] = 2
                order.append(n)
    return order


def _object_keys(mg, bundle: TensorBundle) -> dict[int, str]:
    """SavedModel object id -> checkpoint key of its VARIABLE_VALUE (object graphs matched by child names)."""
    if "_CHECKPOINTABLE_OBJECT_GRAPH" not in bundle:
        raise FastPathUnsupported("the checkpoint has no object graph (TF1 checkpoint)")
    ckpt = TrackableObjectGraph()
    ckpt.ParseFromString(bundle.tensor("_CHECKPOINTABLE_OBJECT_GRAPH").reshape(-1)[0])
    saved = mg.object_graph_def.nodes
    pairs = {0: 0}
    stack = [0]
    while stack:
        s = stack.pop()
        c = pairs[s]
        if c >= len(ckpt.nodes) or s >= len(saved):
            continue
        ck_children = {r.local_name: r.node_id for r in ckpt.nodes[c].children}
        for r in saved[s].children:
            if r.node_id not in pairs and r.local_name in ck_children:
                pairs[r.node_id] = ck_children[r.local_name]
                stack.append(r.node_id)
    keys = {}
    for s, c in pairs.items():
        for a in ckpt.nodes[c].attributes if c < len(ckpt.nodes) else ():
            if a.name == "VARIABLE_VALUE":
                keys[s] = a.checkpoint_key
    return keys


def _choose_meta_graph(sm, path: str, tags: list[str] | None):
    mgs = list(sm.meta_graphs)
    if not mgs:
        raise InputError(f"{path}: the SavedModel has no meta graphs")
    if tags:
        for mg in mgs:
            if set(mg.meta_info_def.tags) == set(tags):
                return mg
        have = "; ".join(",".join(mg.meta_info_def.tags) for mg in mgs)
        raise InputError(f"{path}: cannot load the SavedModel with tags {','.join(tags)}: "
                         f"no meta graph has these tags (it has: {have})")
    if len(mgs) == 1:
        return mgs[0]
    for mg in mgs:
        if set(mg.meta_info_def.tags) == {"serve"}:
            return mg
    raise FastPathUnsupported("several meta graphs and none tagged 'serve' alone")


def read_saved_model_fast(path: str, tags: list[str] | None, signature: str | None):
    """A TfModel of one signature of a TF2 SavedModel, read without TensorFlow."""
    from .loader import TfModel

    d = Path(path)
    pb = d / "saved_model.pb"
    sm = SavedModel()
    try:
        if pb.exists():
            sm.ParseFromString(pb.read_bytes())
        elif (d / "saved_model.pbtxt").exists():
            from google.protobuf import text_format
            text_format.Merge((d / "saved_model.pbtxt").read_text(encoding="utf-8"), sm, allow_unknown_field=True)
        else:
            raise FastPathUnsupported("no saved_model.pb")
    except FastPathUnsupported:
        raise
    except Exception as e:  # noqa: BLE001  (protobuf's DecodeError, ParseError and friends)
        raise FastPathUnsupported(f"the SavedModel file does not parse ({type(e).__name__})") from None
    mg = _choose_meta_graph(sm, path, tags)
    if not mg.object_graph_def.nodes:
        raise FastPathUnsupported("no object graph (a TF1 SavedModel)")
    sigs = {k: v for k, v in mg.signature_def.items() if k != INIT_OP_KEY}
    sig = sigs[choose_signature(path, sigs, signature)]
    if any(t.WhichOneof("encoding") != "name" for t in list(sig.inputs.values()) + list(sig.outputs.values())):
        raise FastPathUnsupported("the signature has sparse or composite tensors")
    out_keys = sorted(sig.outputs)
    out_tensors = [sig.outputs[k].name for k in out_keys]

    fl = _Flattener(mg, path)
    flat_out = fl.top(mg.graph_def, out_tensors)

    consts = {}
    if fl.variables:
        try:
            bundle = TensorBundle(d / "variables" / "variables")
            keys = _object_keys(mg, bundle)
            for const_name, obj in fl.variables.items():
                if obj not in keys:
                    raise FastPathUnsupported(f"variable {const_name!r} has no value in the checkpoint")
                consts[const_name] = bundle.tensor(keys[obj])
        except BundleError as e:
            raise FastPathUnsupported(f"the checkpoint cannot be read without TensorFlow ({e})") from None

    # inputs in the order of the call's arguments (the function's own order), then by key
    call_pos: dict[str, int] = {}
    first_call = next((n for n in mg.graph_def.node if n.name == split_input(out_tensors[0])[0]), None) \
        if out_tensors else None
    if first_call is not None:
        for k, x in enumerate(first_call.input):
            call_pos.setdefault(split_input(x)[0], k)
    emitted = {n.name for n in fl.out.node}
    for k, t in sig.inputs.items():  # inputs no output needs are still inputs of the model
        src = split_input(t.name)[0]
        if src not in emitted:
            pl = next((n for n in mg.graph_def.node if n.name == src), None)
            if pl is None or pl.op != "Placeholder":
                raise FastPathUnsupported(f"signature input {k!r} is not a Placeholder")
            fl.out.node.append(FlatNode(pl.name, pl.op, [], pl.attr))
    in_keys = sorted(sig.inputs, key=lambda k: (call_pos.get(split_input(sig.inputs[k].name)[0], 1 << 30), k))
    inputs = [(sig.inputs[k].name, [k]) for k in in_keys]
    outputs = [(flat_out[t], [k, t]) for k, t in zip(out_keys, out_tensors)]
    return TfModel(fl.out, inputs, outputs, "saved_model", consts)
