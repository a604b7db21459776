"""Read TensorFlow models and convert their (frozen) GraphDef with the registered op converters.

Formats: frozen GraphDef (binary ``.pb`` or text ``.pbtxt``, told apart by content),
SavedModel directory (a signature, ``serving_default`` unless ``--signature``), meta
graph + checkpoint (``--input_meta_graph`` + ``--input_checkpoint``, or a checkpoint
directory). TensorFlow reads the formats and freezes variables into constants; the
resulting graph is converted by mo's converters only.

Tensor names in the IR: a GraphDef's inputs/outputs keep their node name and the
``name:0`` tensor name; a SavedModel's keep the signature's input/output keys as well.
"""
from __future__ import annotations

import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mo.errors import ConversionError, InputError, OptionError, UnsupportedOpsError
from mo.graph import Graph, Value
from mo.options import ConvertOptions, resolve_input

from .context import TfContext, dtype_to_etype, shape_from_proto, split_input, tf_ops
from . import ops  # noqa: F401  (registers the converters)
from .loops import LOOP_PLUMBING, LoopNode, convert_loop, find_loops

log = logging.getLogger("mo")

# ops that never carry inference data: sinks of this kind are not model outputs
NON_OUTPUT_OPS = frozenset({
    "NoOp", "Assign", "AssignVariableOp", "AssignAdd", "AssignSub", "SaveV2", "Save", "SaveSlices",
    "RestoreV2", "Restore", "RestoreSlice", "VarHandleOp", "VariableV2", "Variable", "VarIsInitializedOp",
    "MergeV2Checkpoints", "ShardedFilename", "StringJoin", "Const", "Placeholder", "ApplyGradientDescent",
    "ApplyAdam", "ApplyMomentum", "ResourceApplyAdam", "ResourceApplyGradientDescent", "ResourceApplyMomentum",
    "ReadVariableOp", "ScalarSummary", "HistogramSummary", "MergeSummary", "SaveSlices", "Print", "PrintV2",
    "Assert", "QueueEnqueueV2", "QueueCloseV2", "IsVariableInitialized", "PlaceholderWithDefault",
})


SWITCH_OPS = frozenset({"Switch", "RefSwitch"})
MERGE_OPS = frozenset({"Merge", "RefMerge"})
LOOP_OPS = frozenset({"Enter", "RefEnter", "Exit", "RefExit", "NextIteration", "RefNextIteration", "LoopCond"})


# nodes that feed a training pipeline its data: their outputs become Parameters
DATA_SOURCE_OPS = frozenset({"IteratorGetNext", "IteratorGetNextSync", "QueueDequeueV2", "QueueDequeueManyV2",
                             "QueueDequeueUpToV2", "QueueDequeue", "QueueDequeueMany", "QueueDequeueUpTo"})


def _num_component_outputs(n) -> int:
    """How many tensors an iterator/queue dequeue node yields (its component type list)."""
    for key in ("output_types", "component_types"):
        if key in n.attr:
            return max(1, len(n.attr[key].list.type))
    return 1


@dataclass(slots=True)
class TfModel:
    """A frozen GraphDef plus the names of its interface.

    ``inputs``/``outputs``: (tensor reference ``node:k``, extra IR names) pairs; empty
    means "find them in the graph" (Placeholders / sink nodes).
    """

    graph_def: object
    inputs: list[tuple[str, list[str]]] = field(default_factory=list)
    outputs: list[tuple[str, list[str]]] = field(default_factory=list)
    source: str = ""   # what --validate runs: "graphdef" | "saved_model" | "meta"
    consts: dict = field(default_factory=dict)   # node name -> tensor (variables read from a checkpoint)


def detect(path: str) -> bool:
    """True for .pb/.pbtxt/.meta files, SavedModel directories and checkpoint directories."""
    p = Path(path)
    if p.is_dir():
        return (p / "saved_model.pb").exists() or (p / "saved_model.pbtxt").exists() or \
            (p / "checkpoint").exists() or any(p.glob("*.meta"))
    return p.suffix.lower() in (".pb", ".pbtxt", ".meta", ".pbtx", ".pbtext")


def _quiet_tf():
    """Import TensorFlow without the lines its C++ runtime prints to stderr while loading."""
    import sys

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    first = "tensorflow" not in sys.modules
    saved = None
    if first:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            os.close(devnull)
        except OSError:
            saved = None
    try:
        import tensorflow as tf
    except ImportError as e:
        raise OptionError(f"the TensorFlow frontend needs TensorFlow: pip install 'mo[tf]' ({e})") from None
    finally:
        if saved is not None:
            os.dup2(saved, 2)
            os.close(saved)
    tf.get_logger().setLevel("ERROR")
    return tf


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return (text.splitlines() or [type(e).__name__])[0][:300]


# ----------------------------------------------------------------------------- readers
def read_graph_def(path: str, is_text: bool | None = None):
    """A GraphDef from a binary or text protobuf file (``is_text`` None: try binary, then text)."""
    from google.protobuf import text_format
    from google.protobuf.message import DecodeError

    from .proto import mo_tf_framework_pb2 as graph_pb2

    if os.path.isdir(path):
        raise InputError(f"{path}: is a directory; pass a .pb file or a SavedModel directory")
    data = Path(path).read_bytes()
    gd = graph_pb2.GraphDef()
    if is_text is None:
        is_text = Path(path).suffix.lower() in (".pbtxt", ".pbtx", ".pbtext")
    if not is_text:
        try:
            gd.ParseFromString(data)
            if gd.node or not data:
                return gd
        except DecodeError:
            pass
        gd = graph_pb2.GraphDef()
    try:
        text_format.Merge(data.decode("utf-8"), gd, allow_unknown_field=True)
    except (text_format.ParseError, UnicodeDecodeError) as e:
        kind = "text" if is_text else "binary or text"
        raise InputError(f"{path}: not a valid TensorFlow GraphDef ({kind} protobuf parse failed: "
                         f"{_first_line(e)}); is the file truncated or of another format?") from None
    if not gd.node:
        raise InputError(f"{path}: the GraphDef has no nodes")
    return gd


def _freeze_function(fn, tf):
    """(frozen GraphDef, input tensors, output tensors) of a concrete function.

    Uses TF's freezing step directly and skips ``convert_variables_to_constants_v2``'s last step,
    re-importing the GraphDef as a new ConcreteFunction (a third of the SavedModel load time on
    large models); the GraphDef keeps the function graph's tensor names. Falls back to the
    public API if TF's internals change.
    """
    from tensorflow.python.framework import convert_to_constants as c2c
    try:
        data = c2c._FunctionConverterDataInEager(func=fn, lower_control_flow=True, aggressive_inlining=False)
        gd, converted = c2c._replace_variables_by_constants(converter_data=data)
    except (AttributeError, TypeError):
        frozen = c2c.convert_variables_to_constants_v2(fn)
        return frozen.graph.as_graph_def(), list(frozen.inputs), list(frozen.outputs)
    captures = fn.graph.internal_captures
    converted_ids = {id(captures[i]) for i in converted}
    return gd, [t for t in fn.inputs if id(t) not in converted_ids], list(fn.outputs)


def read_saved_model(path: str, tags: list[str] | None, signature: str | None) -> TfModel:
    """Load a SavedModel, freeze one signature and name its interface by the signature's keys."""
    tf = _quiet_tf()
    if not os.path.isdir(path):
        raise InputError(f"{path}: a SavedModel is a directory")
    if not any((Path(path) / f).exists() for f in ("saved_model.pb", "saved_model.pbtxt")):
        raise InputError(f"{path}: no saved_model.pb in this directory; is it a SavedModel?")
    try:
        loaded = tf.saved_model.load(path, tags=tags or None)
    except Exception as e:  # noqa: BLE001  (TF raises many kinds: OpError, ValueError, IndexError on cut files...)
        raise InputError(f"{path}: cannot load the SavedModel"
                         + (f" with tags {','.join(tags)}" if tags else "") + f": {_first_line(e)}") from None
    from .saved_model import choose_signature
    sigs = dict(getattr(loaded, "signatures", {}) or {})
    name = choose_signature(path, sigs, signature)
    sig = sigs[name]
    try:
        gd, frozen_inputs, frozen_outputs = _freeze_function(sig, tf)
    except Exception as e:  # noqa: BLE001  (TF raises many kinds)
        raise ConversionError(f"{path}: freezing signature {name!r} failed: {_first_line(e)}") from None
    in_specs = sig.structured_input_signature[1] if sig.structured_input_signature else {}
    in_keys = tf.nest.flatten({k: k for k in in_specs}) if isinstance(in_specs, dict) else []
    ins = [t for t in frozen_inputs if t.dtype != tf.resource]
    inputs = []
    for k, t in enumerate(ins):
        extra = [in_keys[k]] if k < len(in_keys) else []
        inputs.append((t.name, extra))
    outs_struct = sig.structured_outputs
    out_keys = tf.nest.flatten({k: k for k in outs_struct}) if isinstance(outs_struct, dict) else []
    outputs = []
    for k, t in enumerate(frozen_outputs):
        outputs.append((t.name, [out_keys[k]] if k < len(out_keys) else []))
    return TfModel(gd, inputs, outputs, "saved_model")


def read_meta_graph(meta: str, checkpoint: str | None, outputs: list[str]) -> TfModel:
    """Import a meta graph, restore the checkpoint and freeze the variables the outputs need."""
    tf = _quiet_tf()
    if not os.path.exists(meta):
        raise InputError(f"{meta}: meta graph file not found")
    ckpt = checkpoint or str(Path(meta).with_suffix(""))
    if os.path.isdir(ckpt):
        ckpt = tf.train.latest_checkpoint(ckpt) or ckpt
    if not (os.path.exists(ckpt + ".index") or os.path.exists(ckpt)):
        raise InputError(f"{meta}: checkpoint {ckpt!r} not found; pass it with --input_checkpoint")
    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
        try:
            saver = v1.train.import_meta_graph(meta, clear_devices=True)
        except Exception as e:  # noqa: BLE001
            raise InputError(f"{meta}: not a valid meta graph: {_first_line(e)}") from None
        gd = graph.as_graph_def()
        # training-only sinks the graph's collections name (losses, summaries, train op) are not outputs
        skip = set()
        for key in ("losses", "regularization_losses", "summaries", "train_op", "update_ops"):
            for item in graph.get_collection(key):
                skip.add(getattr(getattr(item, "op", item), "name", ""))
        scopes = tuple(n.rpartition("/")[0] + "/" for n in skip if "/" in n)
        out_nodes = [split_input(o)[0] for o in outputs] or [
            split_input(o)[0] for o in _sink_outputs(gd, fed_only=True)
            if split_input(o)[0] not in skip and not split_input(o)[0].startswith(scopes or ("\0",))]
        if not out_nodes:
            raise InputError(f"{meta}: cannot find the model's outputs; pass --output")
        with v1.Session(graph=graph) as sess:
            if saver is not None:
                try:
                    saver.restore(sess, ckpt)
                except Exception as e:  # noqa: BLE001
                    raise InputError(f"{meta}: restoring checkpoint {ckpt!r} failed: {_first_line(e)}") from None
            try:
                frozen = v1.graph_util.convert_variables_to_constants(sess, gd, out_nodes)
            except Exception as e:  # noqa: BLE001
                raise ConversionError(f"{meta}: freezing failed: {_first_line(e)}") from None
    return TfModel(frozen, [], [(o if ":" in o else o + ":0", []) for o in (outputs or out_nodes)], "meta")


def read_model(path: str, options: ConvertOptions) -> TfModel:
    """Pick the reader from the options and the path."""
    meta = options.input_meta_graph
    p = Path(path)
    if options.saved_model_dir or (p.is_dir() and ((p / "saved_model.pb").exists() or
                                                   (p / "saved_model.pbtxt").exists())):
        sm_dir = options.saved_model_dir or path
        if os.path.isdir(sm_dir):
            from .saved_model import FastPathUnsupported, read_saved_model_fast
            try:
                return read_saved_model_fast(sm_dir, options.saved_model_tags, options.signature)
            except FastPathUnsupported as e:
                log.info("%s: reading the SavedModel with TensorFlow: %s", sm_dir, e)
        return read_saved_model(sm_dir, options.saved_model_tags, options.signature)
    if meta or p.suffix.lower() == ".meta":
        return read_meta_graph(meta or path, options.input_checkpoint, list(options.outputs))
    if p.is_dir():
        metas = sorted(p.glob("*.meta"))
        if not metas:
            raise InputError(f"{path}: a directory without saved_model.pb or a .meta graph; "
                             "pass a SavedModel, a .pb or --input_meta_graph")
        return read_meta_graph(str(metas[-1]), options.input_checkpoint or str(p), list(options.outputs))
    return TfModel(read_graph_def(path, True if options.input_model_is_text else None), source="graphdef")


# ops whose outputs are no model data (strings, resource handles, queues, tables): not sinks to output
_NO_DATA_OPS = frozenset({
    "VarHandleOp", "HashTableV2", "MutableHashTableV2", "MutableDenseHashTableV2", "HashTable", "MutableHashTable",
    "FIFOQueueV2", "FIFOQueue", "PaddingFIFOQueueV2", "RandomShuffleQueueV2", "PriorityQueueV2", "ReaderReadV2",
    "TFRecordReaderV2", "WholeFileReaderV2", "StringFormat", "AsString", "StringJoin", "ShardedFilename",
    "StaticRegexFullMatch", "LookupTableImportV2", "InitializeTableV2", "InitializeTableFromTextFileV2",
    "TensorArrayV3", "TensorArrayCloseV3", "WriteScalarSummary", "WriteHistogramSummary", "SummaryWriter",
    "CreateSummaryFileWriter", "FlushSummaryWriter", "DestroyResourceOp", "DisableCopyOnRead",
})


def _has_data_outputs(op: str) -> bool:
    """False for op types that declare no outputs (Assign*/Save/NoOp...) or only string/handle
    outputs (datasets, iterators); unknown ops count as having some.

    TensorFlow's op registry decides when TensorFlow is loaded already; otherwise ops mo converts
    count as data, and a table of handle/string ops as not (TensorFlow is imported only for an op
    neither knows, so that reading a frozen graph does not need it).
    """
    import sys

    if "Dataset" in op or "Iterator" in op:
        return False
    if "tensorflow" not in sys.modules:
        if tf_ops.lookup(op) is not None:
            return True
        if op in _NO_DATA_OPS or op.endswith(("Summary", "SummaryV2")):
            return False
    try:
        from tensorflow.python.framework import op_def_registry
        od = op_def_registry.get(op)
    except Exception:  # noqa: BLE001
        od = None
    if od is None:
        return True
    # strings, resources and variants (dataset/iterator handles) are not model outputs
    return any(a.type not in (7, 20, 21) for a in od.output_arg)


_TRAINING_PREFIXES = ("Assign", "ResourceApply", "Apply", "Save", "Restore", "ResourceSparseApply", "SparseApply")


def _sink_outputs(gd, fed_only: bool = False) -> list[str]:
    """Data outputs of nodes nobody consumes, by data or control edge (training/save machinery excluded).

    ``fed_only`` (training graphs): sinks no input feeds (an optimizer slot's ``read``, a
    constant) are left out, unless nothing else is left.
    """
    consumed = set()
    switches = {n.name for n in gd.node if n.op in SWITCH_OPS}
    for n in gd.node:
        for ref in n.input:
            consumed.add(split_input(ref.lstrip("^"))[0])
        if n.op == "Identity" and n.input and split_input(n.input[0])[0] in switches:
            consumed.add(n.name)  # a cond pivot (switch_t/switch_f): control flow machinery
    sinks = [n for n in gd.node if n.name not in consumed and n.op not in NON_OUTPUT_OPS
             and not n.op.startswith(_TRAINING_PREFIXES) and not n.op.endswith("Summary")
             and n.op not in SWITCH_OPS and _has_data_outputs(n.op)
             and not n.name.startswith(("save/", "gradients/", "train/", "Adam", "GradientDescent"))]
    if fed_only:
        fed = _fed_by_inputs(gd)
        sinks = [n for n in sinks if n.name in fed] or sinks
    return [n.name + ":0" for n in sinks]


def _fed_by_inputs(gd) -> set[str]:
    """Names of the nodes that depend (by data edges) on a Placeholder or a data source."""
    users: dict[str, list[str]] = {}
    for n in gd.node:
        for ref in n.input:
            if not ref.startswith("^"):
                users.setdefault(split_input(ref)[0], []).append(n.name)
    stack = [n.name for n in gd.node if n.op in ("Placeholder", "PlaceholderWithDefault") or n.op in DATA_SOURCE_OPS]
    fed = set(stack)
    while stack:
        for u in users.get(stack.pop(), ()):
            if u not in fed:
                fed.add(u)
                stack.append(u)
    return fed


# ----------------------------------------------------------------------------- conversion
def load(path: str, options: ConvertOptions) -> Graph:
    model = read_model(path, options)
    return convert_model(model, options, path)


def _norm_ref(ref: str) -> str:
    node, port = split_input(ref)
    return f"{node}:{port}"


def convert_model(model: TfModel, options: ConvertOptions, path: str) -> Graph:
    gd = model.graph_def
    nodes = {n.name: n for n in gd.node}
    member_of, loop_nodes = find_loops(nodes)  # while-loop frames become one node each
    nodes.update(loop_nodes)
    graph = Graph(Path(path).stem or "model")
    ctx = TfContext(graph, path)
    values: dict[str, Value] = {}

    # names a user may give for an interface tensor -> its node:k reference
    alias: dict[str, str] = {}
    for ref, extra in model.inputs + model.outputs:
        for e in extra:
            alias[e] = _norm_ref(ref)

    def resolve(name: str, what: str) -> str:
        if name in alias:
            return alias[name]
        node, _ = split_input(name)
        if node not in nodes:
            raise OptionError(f"{path}: {what} {name!r} is not a tensor of the model")
        return _norm_ref(name)

    # ---- inputs
    if options.inputs:
        in_refs = [resolve(s.name, "--input") for s in options.inputs]
        in_extra = {resolve(s.name, "--input"): [s.name] for s in options.inputs}
    elif model.inputs:
        in_refs = [_norm_ref(r) for r, _ in model.inputs]
        in_extra = {}
    else:
        in_refs = [n.name + ":0" for n in gd.node if n.op == "Placeholder"]
        # a training pipeline's data source (iterator / queue) becomes the model's inputs
        for n in gd.node:
            if n.op in DATA_SOURCE_OPS:
                in_refs += [f"{n.name}:{k}" for k in range(_num_component_outputs(n))]
        in_extra = {}
    auto_inputs = not options.inputs and not model.inputs
    iface_names = {_norm_ref(r): list(extra) for r, extra in model.inputs}
    for r, extra in in_extra.items():
        iface_names.setdefault(r, [])
        for e in extra:
            if e not in iface_names[r]:
                iface_names[r].append(e)

    # ---- outputs
    if options.outputs:
        out_refs = [resolve(o, "--output") for o in options.outputs]
        out_names = {r: [o] for r, o in zip(out_refs, options.outputs)}
    elif model.outputs:
        out_refs = [_norm_ref(r) for r, _ in model.outputs]
        out_names = {_norm_ref(r): list(e) for r, e in model.outputs}
    else:
        out_refs = [_norm_ref(r) for r in _sink_outputs(gd)]
        out_names = {}
        if not out_refs:
            raise InputError(f"{path}: the graph has no outputs; pass --output")

    # ---- the nodes the outputs need, in topological order, stopping at inputs
    cut_nodes = {split_input(r)[0] for r in in_refs}
    order: list = []
    state: dict[str, int] = {}
    for ref in out_refs:
        root = split_input(ref)[0]
        root = member_of.get(root, root)
        stack = [(root, 0)]
        while stack:
            name, i = stack.pop()
            n = nodes.get(name)
            if n is None:
                raise ConversionError(f"{path}: node {name!r} is referenced but not defined in the graph")
            if i == 0:
                if state.get(name) == 2:
                    continue
                state[name] = 1
            data_in = [] if name in cut_nodes else _walk_inputs(n, nodes)
            if i < len(data_in):
                stack.append((name, i + 1))
                src = split_input(data_in[i])[0]
                src = member_of.get(src, src)
                st = state.get(src)
                if st == 1:
                    raise ConversionError(f"{path}: the graph has a cycle through node {src!r}: TF1 while loops "
                                          "(Enter/Exit/NextIteration) are not supported yet")
                if st != 2:
                    stack.append((src, 0))
            else:
                state[name] = 2
                order.append(n)

    # ---- every unsupported op at once
    if auto_inputs:
        # only the Placeholders the outputs need become inputs (labels etc. of a training graph do not)
        used = {_norm_ref(x) for n in order for x in n.input if not x.startswith("^")} | set(out_refs)
        in_refs = [r for r in in_refs if r in used]
        cut_nodes = {split_input(r)[0] for r in in_refs}
    if options.input_shape and len(options.input_shape) != len(in_refs):
        raise OptionError(f"--input_shape gives {len(options.input_shape)} shape(s) for {len(in_refs)} input(s)")
    in_branch = _cond_branch_nodes(order)
    missing: Counter[str] = Counter()
    examples: dict[str, str] = {}
    for n in order:
        if n.name in cut_nodes or n.name in in_branch or n.op in SWITCH_OPS or n.op in MERGE_OPS:
            continue  # a cond branch's ops are checked when the branch turns out to be taken
        if isinstance(n, LoopNode):
            for m in n.walk():
                if m.op not in LOOP_PLUMBING and m.op not in SWITCH_OPS and m.op not in MERGE_OPS \
                        and ctx.lookup(m.op) is None:
                    missing[m.op] += 1
                    examples.setdefault(m.op, m.name)
            continue
        if n.op in LOOP_OPS:
            raise ConversionError(f"{path}: node {n.name!r} ({n.op}) belongs to a TF1 while loop; "
                                  "loops (While) are not supported yet")
        if n.op == "Placeholder":
            raise OptionError(f"{path}: the outputs need Placeholder {n.name!r}, which is not among the inputs "
                              f"({', '.join(in_refs)}); add it to --input")
        if ctx.lookup(n.op) is None:
            missing[n.op] += 1
            examples.setdefault(n.op, n.name)
    if missing:
        raise UnsupportedOpsError(path, "TensorFlow", missing, examples)

    # ---- parameters
    cut = {resolve(s.name, "--input"): s for s in options.inputs}
    for i, ref in enumerate(in_refs):
        node_name, port = split_input(ref)
        n = nodes[node_name]
        et, shape = _declared_type(n, port)
        et, shape, frozen = resolve_input(options, i, cut.get(ref), et, shape)
        names = ([node_name] if port == 0 else []) + [ref] + iface_names.get(ref, [])
        if frozen is not None:
            v = ctx.const(frozen, name=node_name)
        else:
            v = ctx.parameter(names[-1] if iface_names.get(ref) else node_name, et, shape)
        for nm in names:
            v.add_name(nm)
        values[ref] = v

    # ---- nodes
    flow = _CondFreezer(ctx, path)

    def convert_member(m, vals: dict, fl: _CondFreezer) -> None:
        if m.name in model.consts:
            vals[f"{m.name}:0"] = ctx.const(model.consts[m.name], name=m.name)
        else:
            fl.convert(m, vals)

    for n in order:
        if n.name in cut_nodes:
            continue
        if isinstance(n, LoopNode):
            convert_loop(n, values, flow, ctx, lambda: _CondFreezer(ctx, path), convert_member, path)
            continue
        if n.name in model.consts:
            values[f"{n.name}:0"] = ctx.const(model.consts[n.name], name=n.name)
        elif not flow.convert(n, values):
            continue
        k = 0
        while f"{n.name}:{k}" in values:
            v = values[f"{n.name}:{k}"]
            k += 1
            if not isinstance(v, Value):
                continue  # a TensorList while loops are unrolled: not a tensor of the IR
            if k == 1:
                v.add_name(n.name)
            v.add_name(f"{n.name}:{k - 1}")

    # ---- results
    for ref in out_refs:
        if ref not in values:
            raise ConversionError(f"{path}: output {ref!r} was not produced by any converted node")
        v = values[ref]
        extra = out_names.get(ref, [])
        node_name, port = split_input(ref)
        primary = extra[0] if extra else (node_name if port == 0 else ref)
        for nm in [node_name if port == 0 else ref, ref, *extra]:
            v.add_name(nm)
        if v.producer is not None and v.producer.op == "Parameter" or v.const is not None:
            # a Result straight on an input or a constant: keep names unique on the Result side only
            pass
        ctx.result(v, name=primary)
    graph.meta["tf_source"] = model.source
    graph.toposort()
    return graph


def _declared_type(n, port: int) -> tuple[str | None, tuple[int, ...] | None]:
    """Element type and shape a node declares for its output ``port`` (Placeholder attrs or _output_shapes)."""
    et = None
    for key in ("dtype", "T", "out_type", "DstT"):
        if key in n.attr and n.attr[key].WhichOneof("value") == "type":
            et = dtype_to_etype(n.attr[key].type)
            break
    shape = None
    if n.op in DATA_SOURCE_OPS:
        types = n.attr["output_types"] if "output_types" in n.attr else n.attr.get("component_types")
        if types is not None and len(types.list.type) > port:
            et = dtype_to_etype(types.list.type[port])
        if "output_shapes" in n.attr and len(n.attr["output_shapes"].list.shape) > port:
            shape = shape_from_proto(n.attr["output_shapes"].list.shape[port])
    if "shape" in n.attr and n.attr["shape"].WhichOneof("value") == "shape":
        shape = shape_from_proto(n.attr["shape"].shape)
    elif "_output_shapes" in n.attr and len(n.attr["_output_shapes"].list.shape) > port:
        shape = shape_from_proto(n.attr["_output_shapes"].list.shape[port])
    return et, shape


# ----------------------------------------------------------------------------- TF1 cond freezing
def _walk_inputs(n, nodes: dict) -> list[str]:
    """The inputs a node needs converted first: its data inputs, plus control inputs from a
    cond pivot (``cond/switch_t`` = Identity(Switch:1)), whose liveness decides the node's."""
    refs = []
    for x in n.input:
        if not x.startswith("^"):
            refs.append(x)
            continue
        src = nodes.get(x[1:])
        if src is not None and (src.op in SWITCH_OPS or (
                src.op == "Identity" and src.input and
                getattr(nodes.get(split_input(src.input[0])[0]), "op", None) in SWITCH_OPS)):
            refs.append(x[1:])
    return refs


def _cond_branch_nodes(order: list) -> set[str]:
    """Names of the nodes downstream of a Switch output (up to the Merges): they may be dead."""
    switches: set[str] = set()
    inside: set[str] = set()
    for n in order:
        if n.op in SWITCH_OPS:
            switches.add(n.name)
        if n.op in MERGE_OPS:
            continue
        if any(split_input(ref.lstrip("^"))[0] in inside or split_input(ref.lstrip("^"))[0] in switches
               for ref in n.input):
            inside.add(n.name)
    return inside


class _CondFreezer:
    """Converts nodes in order, resolving TF1 ``cond`` (Switch/Merge) with constant predicates.

    Rule: a Switch whose predicate is a constant (a Const, a PlaceholderWithDefault's default,
    or an input frozen with ``--input name->value``) forwards its data to output 1 (true) or
    0 (false); the other output is dead. A node with a dead data input, or a control input
    from a dead node (the branch pivots), is dead and is not converted. A Merge forwards its
    one live input (output 1: that input's index). A run-time predicate is real control flow:
    a clear error.
    """

    def __init__(self, ctx: TfContext, path: str) -> None:
        self.ctx = ctx
        self.path = path
        self.dead_nodes: set[str] = set()
        self.dead_refs: set[str] = set()

    def _dead(self, ref: str) -> bool:
        node, port = split_input(ref)
        return node in self.dead_nodes or f"{node}:{port}" in self.dead_refs

    def convert(self, n, values: dict[str, Value]) -> bool:
        """Convert ``n`` (or resolve it); False when the node is dead or produced nothing to name."""
        data = [x for x in n.input if not x.startswith("^")]
        ctrl = [x[1:] for x in n.input if x.startswith("^")]
        if n.op in MERGE_OPS:
            live = [k for k, r in enumerate(data) if not self._dead(r)]
            if not live:
                self.dead_nodes.add(n.name)
                return False
            src, port = split_input(data[live[0]])
            values[f"{n.name}:0"] = values[f"{src}:{port}"]
            values[f"{n.name}:1"] = self.ctx.const(np.int32(live[0]))
            return True
        if any(self._dead(r) for r in data) or any(c in self.dead_nodes for c in ctrl):
            self.dead_nodes.add(n.name)
            return False
        if n.op in SWITCH_OPS:
            x_ref, p_ref = (f"{a}:{b}" for a, b in map(split_input, data[:2]))
            pred = values[p_ref].const_value()
            if pred is None:
                raise ConversionError(
                    f"{self.path}: node {n.name!r} ({n.op}): the predicate {data[1]!r} is computed at run time; "
                    "real control flow (tf.cond/While, If) is not supported yet; freeze the predicate with "
                    "--input name->value if it is a mode flag")
            taken = 1 if bool(np.asarray(pred).reshape(-1)[0]) else 0
            values[f"{n.name}:{taken}"] = values[x_ref]
            self.dead_refs.add(f"{n.name}:{1 - taken}")
            return True
        if self.ctx.lookup(n.op) is None:
            raise UnsupportedOpsError(self.path, "TensorFlow", {n.op: 1}, {n.op: n.name})
        self.ctx.convert_node(n, values)
        return True
