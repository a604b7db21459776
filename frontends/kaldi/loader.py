"""Kaldi model files: detection by header, and loading nnet1/nnet2/nnet3 networks into a mo Graph in
the chunk or the streaming form (options: --kaldi_form, --input T, --left/right_context, --counts,
--remove_output_softmax)."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from mo.errors import InputError, OptionError
from mo.graph import Graph
from mo.options import ConvertOptions

from .chunk import ChunkBuilder, Frames
from .nnet3 import Desc, Nnet3, parse_descriptor, read_nnet3
from .reader import Reader

log = logging.getLogger("mo.kaldi")

HEAD_TOKENS = (b"<Nnet3>", b"<Nnet>", b"<TransitionModel>", b"<AmNnetSimple>")
DEFAULT_OUTPUT_FRAMES = 50


def detect(path: str) -> bool:
    """A Kaldi model: ``\\0B`` + a Kaldi token, or text starting with one (extension ignored)."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except OSError:
        return False
    if head.startswith(b"\0B"):
        head = head[2:]
    head = head.lstrip()
    return any(head.startswith(t) for t in HEAD_TOKENS)


def _network_start(r: Reader) -> str:
    """Move the reader to the network (past a TransitionModel); return the network token."""
    tok = r.peek_token()
    if tok == "<TransitionModel>":
        end = r.data.find(b"</TransitionModel>", r.pos)
        if end < 0:
            raise r.fail("the TransitionModel is not closed by </TransitionModel>")
        r.pos = end + len(b"</TransitionModel>")
        if r.eof():
            raise r.fail("the file holds a TransitionModel but no neural network (a GMM model?)")
        tok = r.peek_token()
    if tok in ("<Nnet3>", "<Nnet>"):
        return tok
    raise r.fail(f"expected <Nnet3> or <Nnet>, found {tok[:40]!r} (a GMM model or not a Kaldi network?)")


def _time_invariant_inputs(net: Nnet3, path: str) -> set[str]:
    """Input nodes read only through ReplaceIndex(node, t, k) (i-vectors): one row each."""
    timed: set[str] = set()
    replaced: set[str] = set()

    def walk(d: Desc, inside_replace: bool) -> None:
        if d.op == "node":
            (replaced if inside_replace else timed).add(d.args[0])
            return
        for a in d.args:
            if isinstance(a, Desc):
                walk(a, inside_replace or d.op == "ReplaceIndex")

    for n in net.nodes:
        if n.kind in ("component-node", "output-node"):
            walk(parse_descriptor(n.attrs.get("input", ""), f"{path}: node {n.name!r}"), False)
    inputs = {n.name for n in net.nodes if n.kind == "input-node"}
    return (replaced - timed) & inputs


def load(path: str, options: ConvertOptions) -> Graph:
    r = Reader.open(path)
    kind = _network_start(r)
    g = Graph(Path(path).stem)
    if kind == "<Nnet>":
        return _load_sequential(r, path, options, g)
    net = read_nnet3(r)
    builder = ChunkBuilder(net, path, g)
    invariant = _time_invariant_inputs(net, path)
    outputs = [n for n in net.nodes if n.kind == "output-node"]
    keep = [n for n in outputs if not n.name.endswith("-xent")] or outputs
    left = right = 0
    for n in keep:
        lo, hi = builder.desc_context(builder.descs[n.name])
        left, right = max(left, -(lo or 0)), max(right, hi or 0)
    if options.left_context is not None:
        if options.left_context < left:
            raise OptionError(f"--left_context {options.left_context}: the network needs at least {left}")
        left = options.left_context
    if options.right_context is not None:
        if options.right_context < right:
            raise OptionError(f"--right_context {options.right_context}: the network needs at least {right}")
        right = options.right_context
    timed_inputs = [n.name for n in net.nodes if n.kind == "input-node" and n.name not in invariant]
    frames = None
    for spec in options.inputs:
        if spec.name in timed_inputs and spec.shape:
            frames = int(spec.shape[0])
    if frames is None and options.input_shape:
        frames = int(options.input_shape[-1][0]) if len(options.input_shape[-1]) == 2 else None
    if options.kaldi_form == "streaming":
        return _stream_nnet3(builder, invariant, keep, left, right, options, net, path, g)
    if frames is None:
        frames = left + right + DEFAULT_OUTPUT_FRAMES
    if frames <= left + right:
        raise OptionError(f"{path}: a chunk of {frames} frames leaves no output frame (context {left} left, "
                          f"{right} right); give at least {left + right + 1} frames")
    log.info("kaldi chunk: %d frames in, context %d left / %d right, %d frames out", frames, left, right,
             frames - left - right)
    factor = _subsampling_factor(path)
    values = builder.build({name: 1 for name in invariant}, frames)
    for n in keep:
        f: Frames = values[n.name]
        # softmax removal and priors act per row: applied before the rows are cut out
        f = Frames(_postprocess(builder, f.value, n.name, options, net.priors, path), f.t0, f.n, f.invariant)
        out = builder.rows(f, left, frames - left - right)
        if factor > 1:
            b = builder.b
            out = b.op("Slice", out, b.const(np.array([0], np.int64)), b.const(np.array([frames], np.int64)),
                       b.const(np.array([factor], np.int64)), b.const(np.array([0], np.int64)))
        builder.b.result(out, n.name)
    g.meta["kaldi"] = {"left_context": left, "right_context": right, "frames": frames}
    if factor > 1:
        g.meta["kaldi"]["frame_subsampling_factor"] = factor
    return g


def _subsampling_factor(path: str) -> int:
    """Kaldi keeps a chain model's frame subsampling factor next to it, in ``frame_subsampling_factor``
    (the .mdl does not store it); 1 when that file is absent."""
    p = Path(path).absolute().parent / "frame_subsampling_factor"
    if not p.is_file():
        return 1
    try:
        factor = int(p.read_text().split()[0])
    except (ValueError, IndexError, OSError):
        raise InputError(f"{p}: expected one positive integer") from None
    if factor < 1:
        raise InputError(f"{p}: expected one positive integer, found {factor}")
    log.info("kaldi: frame_subsampling_factor %d (from %s): every %d-th output frame", factor, p, factor)
    return factor


def _stream_nnet3(builder: ChunkBuilder, invariant: set[str], keep, left: int, right: int,
                  options: ConvertOptions, net: Nnet3, path: str, g: Graph) -> Graph:
    from .streaming import StreamBuilder

    builder.check_components()
    sb = StreamBuilder(builder, invariant)
    values = sb.build([n.name for n in keep], right)
    for n in keep:
        out = _postprocess(builder, values[n.name], n.name, options, net.priors, path)
        builder.b.result(out, n.name)
    lags = {n.name: sb.lag.get(n.name, 0) for n in keep}
    log.info("kaldi streaming: %d state variables, output lag %s frames", len(sb.history) + (sb.count is not None),
             lags)
    g.meta["kaldi"] = {"left_context": left, "right_context": right, "frames": 1, "form": "streaming",
                       "output_lag": lags}
    return g


def _load_sequential(r: Reader, path: str, options: ConvertOptions, g: Graph) -> Graph:
    """nnet1 (``<Nnet>`` + component markers) or nnet2 (``<Nnet> <NumComponents>``)."""
    from . import sequential

    save = r.pos
    r.token()
    nnet2 = r.peek_token() == "<NumComponents>"
    r.pos = save
    comps, priors = sequential.read_nnet2(r) if nnet2 else (sequential.read_nnet1(r), None)
    if not comps:
        raise InputError(f"{path}: the network has no components")
    first = comps[0].fields
    if "InputDim" in first:
        dim = int(first["InputDim"])
    elif "LinearParams" in first:
        dim = int(first["LinearParams"].shape[1])
    else:
        raise InputError(f"{path}: cannot tell the input dimension from the first component ({comps[0].kind})")
    left, right = sequential.context(comps)
    frames = None
    for spec in options.inputs:
        if spec.shape:
            frames = int(spec.shape[0])
    if frames is None and options.input_shape:
        frames = int(options.input_shape[0][0])
    frames = frames if frames is not None else left + right + DEFAULT_OUTPUT_FRAMES
    if options.kaldi_form == "streaming":
        frames = left + right + 1
    if frames <= left + right:
        raise OptionError(f"{path}: a chunk of {frames} frames leaves no output frame (context {left} left, "
                          f"{right} right); give at least {left + right + 1} frames")
    out = sequential.build(comps, path, g, frames, dim, streaming=options.kaldi_form == "streaming")
    builder = ChunkBuilder(Nnet3([], {}), path, g)
    value = _postprocess(builder, out.value, "output", options, priors, path)
    builder.b.result(value, "output")
    g.meta["kaldi"] = {"left_context": left, "right_context": right, "frames": frames,
                       "network": "nnet2" if nnet2 else "nnet1"}
    if options.kaldi_form == "streaming":
        make_streaming(g, ["input"], frames)
    return g


def make_streaming(g: Graph, names: list[str], window: int) -> None:
    """The chunk graph over ``window`` = left + right + 1 frames, fed one frame per inference.

    Each time input becomes a one-frame Parameter; a variable (ReadValue/Assign, id
    ``<name>/frames``, zeros after a reset) holds the previous window - 1 frames, and the
    graph sees them followed by the new frame. Step s (counting from 0 after a reset) outputs
    the frame at time s - right, the same values as row s - left - right of the chunk form
    once s >= left + right; earlier steps read the zero frames of the fresh state.
    """
    from mo.ir.builder import Builder

    b = Builder(g, fold=False)
    for name in names:
        old = next(p for p in g.parameters if name in p.outputs[0].names)
        dim = old.outputs[0].shape[1]
        new = b.parameter(name + "/frame", "f32", (1, dim))
        g.meta.setdefault("kaldi_streaming_inputs", []).append(name)
        var = f"{name}/frames"
        if window > 1:
            init = b.const(np.zeros((window - 1, dim), np.float32))
            past = b.op("ReadValue", init, name=var + "/read", variable_id=var)
            frames = b.op("Concat", past, new, axis=0, name=name + "/window")
            keep = b.op("Slice", frames, b.const(np.array([1], np.int64)), b.const(np.array([window], np.int64)),
                        b.const(np.array([1], np.int64)), b.const(np.array([0], np.int64)))
            b.op_outputs("Assign", keep, name=var + "/write", variable_id=var)
        else:
            frames = new
        g.replace_all_uses_with(old.outputs[0], frames, keep_names=False)
        names_of_old = list(old.outputs[0].names)
        old.outputs[0].names = []
        at = g.parameters.index(old)
        g.remove(old)
        g.parameters.remove(new.producer)
        g.parameters.insert(at, new.producer)
        new.names = names_of_old
        g.rename(new.producer, name)
    g.toposort()


def _postprocess(builder: ChunkBuilder, out, name: str, options: ConvertOptions, priors, path: str):
    """--remove_output_softmax, then --counts as the old tool applied them.

    Counts C become log priors log(C_i / sum C); they are subtracted from the output, or, when the
    output is a SoftMax, from its input (the last layer's biases, as the old Model Optimizer
    did). ``--counts ""`` takes the priors stored in the model (nnet2/nnet3 ``.mdl``).
    """
    b = builder.b
    if options.remove_output_softmax:
        p = out.producer
        if p is not None and p.op in ("SoftMax", "LogSoftmax"):
            out = p.inputs[0]
        else:
            log.warning("--remove_output_softmax: output %s does not end in a (Log)Softmax", name)
    if options.counts is not None:
        if options.counts == "":
            if priors is None or not np.size(priors):
                raise OptionError(f'--counts "": {path} stores no priors; give a counts file')
            counts = np.asarray(priors, np.float64)
            what = f"{path} <Priors>"
        else:
            counts = _read_counts(options.counts)
            what = f"--counts {options.counts}"
        dim = out.shape[1] if out.shape else None
        if dim is not None and counts.size != dim:
            raise OptionError(f"{what}: {counts.size} counts for output {name!r} of {dim} values")
        counts = np.maximum(counts.astype(np.float64), 1e-20)
        log_priors = b.const(np.log(counts / counts.sum()).astype(np.float32).reshape(1, -1))
        p = out.producer
        if p is not None and p.op == "SoftMax":
            out = b.op("SoftMax", b.op("Subtract", p.inputs[0], log_priors), axis=p.attrs["axis"])
        else:
            out = b.op("Subtract", out, log_priors)
    return out


def _read_counts(path: str) -> np.ndarray:
    try:
        text = Path(path).read_text()
    except OSError as e:
        raise InputError(f"--counts {path}: cannot read: {e.strerror}") from None
    try:
        return np.array([float(t) for t in text.replace("[", " ").replace("]", " ").split()])
    except ValueError:
        raise InputError(f"--counts {path}: not a list of numbers") from None
