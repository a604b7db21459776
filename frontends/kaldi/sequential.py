"""nnet1 and nnet2 networks: a sequence of components applied frame by frame.

nnet1 (src/nnet): ``<Nnet>``, then per component ``<Marker> <OutputDim> <InputDim>``, its
data, an optional ``<!EndOfComponent>``, up to ``</Nnet>``. nnet2 (src/nnet2): ``<Nnet>
<NumComponents> n <Components>``, then components ``<XxxComponent> fields </XxxComponent>``,
then ``</Components> </Nnet>`` (and priors in a ``.mdl``).

In the chunk graph, splicing components (nnet1 ``<Splice>``, nnet2 ``SpliceComponent``) read
frames at time offsets, so T input frames give T - left - right output frames; every other
component maps each frame on its own. Formulas (test-time):

    AffineTransform / Affine* / FixedAffine   y = x W^T + b          LinearTransform  y = x W^T
    Sigmoid, Tanh, RectifiedLinear, Softmax, LogSoftmax                elementwise / per row
    AddShift                                  y = x + shift          Rescale          y = x * scale
    FixedScale / FixedBias                    y = x * s / y = x + b
    Splice (offsets o)                        y(t) = [x(t+o_1), ..., x(t+o_k)]
    Pnorm (groups of G = in/out)              y_j = (sum_g |x_{jG+g}|^p)^(1/p)
    SumGroup (sizes)                          y_j = sum of the j-th group of columns
    Normalize                                 y = x * sqrt(D) / max(|x|, sqrt(D) 2^-33)  (rms 1)
    Copy (1-based indexes)                    y = x[:, idx - 1]
    Dropout / DropoutComponent                y = x
    LstmProjected, BlstmProjected             recurrent.py
    Parallel (nested networks N_1..N_k)       y = [N_1(x[:, cols_1]), ..., N_k(x[:, cols_k])], frames aligned
    Convolutional (nnet1; patch dim d, step s, stride S, K = in/S splices, P = 1 + (S-d)/s patches)
        y[:, p*F:(p+1)*F] = [x[:, p*s + k*S + j] for k < K, j < d] Filters^T + Bias
    Convolutional1d (nnet2/nnet3 FilterParams/BiasParams): as Convolutional; with AppendedConv the
        patch column of splice k, band j is (p*s + j)*K + k
    MaxPooling (nnet1; size n, step s, stride S; pools q = 0 .. 1 + (in/S - n)/s - 1; Maxpooling of
        nnet2/nnet3: step = size)
        y[:, q*S:(q+1)*S] = max over r < n of x[:, (q*s + r)*S:(q*s + r + 1)*S]
"""
from __future__ import annotations

import numpy as np

from mo.errors import ConversionError, UnsupportedOpsError
from mo.graph import Graph

from .chunk import ChunkBuilder, Frames
from .nnet3 import Component, Nnet3, read_component
from .reader import Reader

NNET1_NO_DATA = {"Sigmoid", "Tanh", "Softmax", "Dropout"}
NNET1_KNOWN = NNET1_NO_DATA | {"AffineTransform", "LinearTransform", "Splice", "AddShift", "Rescale", "Copy",
                               "LstmProjected", "ConvolutionalComponent", "MaxPoolingComponent",
                               "ParallelComponent", "BlstmProjected"}
NNET1_TAGGED = {"ConvolutionalComponent", "MaxPoolingComponent"}  # <Tag> value pairs, read generically
NNET1_ALIASES = {"LstmProjectedStreams": "LstmProjected", "BlstmProjectedStreams": "BlstmProjected"}
LSTM_TAGS = {"<CellDim>", "<LearnRateCoef>", "<BiasLearnRateCoef>", "<CellClip>", "<DiffClip>", "<CellDiffClip>",
             "<GradClip>", "<ClipGradient>"}


def read_nnet1(r: Reader, prefix: str = "") -> list[Component]:
    r.expect("<Nnet>")
    comps: list[Component] = []
    while True:
        if r.eof():
            return comps
        start = r.pos
        tok = r.token()
        if tok == "</Nnet>":
            return comps
        if tok == "<!EndOfComponent>":
            continue
        if not (tok.startswith("<") and tok.endswith(">")):
            raise r.fail(f"expected an nnet1 component marker, found {tok[:40]!r}", start)
        kind = NNET1_ALIASES.get(tok[1:-1], tok[1:-1])
        comp = Component(f"{prefix}{kind.lower()}{len(comps)}", kind, where=r.where(start))
        comp.fields["OutputDim"], comp.fields["InputDim"] = r.int32(), r.int32()
        if kind in ("AffineTransform", "LinearTransform"):
            while r.peek_char() == "<" and r.peek_token() in ("<LearnRateCoef>", "<BiasLearnRateCoef>",
                                                                "<MaxNorm>"):
                tag = r.token()[1:-1]
                comp.fields[tag] = r.float()
            comp.fields["LinearParams"] = r.matrix()
            if kind == "AffineTransform":
                comp.fields["BiasParams"] = r.vector()
        elif kind == "Splice":
            comp.fields["TimeOffsets"] = r.int_vector()
        elif kind == "Copy":
            comp.fields["Indexes"] = r.int_vector()
        elif kind in ("AddShift", "Rescale"):
            if r.peek_char() == "<" and r.peek_token() == "<LearnRateCoef>":
                r.token()
                comp.fields["LearnRateCoef"] = r.float()
            comp.fields["Vector"] = r.vector()
        elif kind in ("LstmProjected", "BlstmProjected"):
            while r.peek_char() == "<" and r.peek_token() in LSTM_TAGS:
                tag = r.token()
                comp.fields[tag[1:-1]] = r.int32() if tag == "<CellDim>" else r.float()
            if "CellDim" not in comp.fields:
                raise r.fail(f"<{kind}> without <CellDim>", start)
            for prefix in ("", "Backward") if kind == "BlstmProjected" else ("",):
                comp.fields[prefix + "WGifoX"], comp.fields[prefix + "WGifoR"] = r.matrix(), r.matrix()
                comp.fields[prefix + "Bias"] = r.vector()
                comp.fields[prefix + "PeepholeI"], comp.fields[prefix + "PeepholeF"] = r.vector(), r.vector()
                comp.fields[prefix + "PeepholeO"], comp.fields[prefix + "WRM"] = r.vector(), r.matrix()
        elif kind == "ParallelComponent":  # nested networks side by side on consecutive input columns
            r.expect("<NestedNnetCount>")
            nested = []
            for i in range(r.int32()):
                r.expect("<NestedNnet>")
                r.int32()
                nested.append(read_nnet1(r, f"{comp.name}/{i}/"))
            r.expect("</ParallelComponent>")
            comp.fields["Nested"] = nested
        elif kind in NNET1_TAGGED:
            from .nnet3 import _value
            while r.peek_char() == "<" and r.peek_token() not in ("<!EndOfComponent>", "</Nnet>"):
                tag_pos = r.pos
                tag = r.token()[1:-1]
                if tag in NNET1_KNOWN or tag in NNET1_ALIASES:
                    r.pos = tag_pos
                    break
                comp.fields[tag] = _value(r, tag)
        elif kind == "Dropout":
            while r.peek_char() == "<" and r.peek_token() not in ("<!EndOfComponent>", "</Nnet>"):
                tag = r.token()[1:-1]
                comp.fields[tag] = r.float()
        elif kind not in NNET1_NO_DATA:
            # unknown: skip to the end marker so every unsupported type can be listed at once
            end = r.data.find(b"<!EndOfComponent>", r.pos)
            if end < 0:
                raise r.fail(f"nnet1 component <{kind}> is not supported and has no <!EndOfComponent> to skip to",
                             start)
            r.pos = end
        comps.append(comp)


def read_nnet2(r: Reader) -> tuple[list[Component], np.ndarray | None]:
    r.expect("<Nnet>")
    r.expect("<NumComponents>")
    n = r.int32()
    r.expect("<Components>")
    comps = [read_component(r, f"component{i}") for i in range(n)]
    r.expect("</Components>")
    r.expect("</Nnet>")
    priors = r.vector() if not r.eof() and r.peek_char() in ("[", "F", "D") else None
    return comps, priors


NNET2_IDENTITY = {"DropoutComponent", "AdditiveNoiseComponent"}
SUPPORTED = {
    # nnet1
    "AffineTransform", "LinearTransform", "Sigmoid", "Tanh", "Softmax", "Dropout", "Splice", "AddShift",
    "Rescale", "Copy", "LstmProjected", "ConvolutionalComponent", "MaxPoolingComponent", "ParallelComponent",
    "BlstmProjected",
    # nnet2
    "SpliceComponent", "AffineComponent", "AffineComponentPreconditioned", "AffineComponentPreconditionedOnline",
    "FixedAffineComponent", "FixedLinearComponent", "PnormComponent", "NormalizeComponent", "SoftmaxComponent",
    "LogSoftmaxComponent", "SigmoidComponent", "TanhComponent", "RectifiedLinearComponent", "SumGroupComponent",
    "FixedScaleComponent", "FixedBiasComponent", "DropoutComponent", "AdditiveNoiseComponent",
    "Convolutional1dComponent", "MaxpoolingComponent",
}


def splice_offsets(c: Component) -> list[int]:
    f = c.fields
    if "TimeOffsets" in f:
        return [int(o) for o in f["TimeOffsets"]]
    if "Context" in f:
        return [int(o) for o in f["Context"]]
    return list(range(-int(f.get("LeftContext", 0)), int(f.get("RightContext", 0)) + 1))


def context(comps: list[Component]) -> tuple[int, int]:
    left = right = 0
    for c in comps:
        if c.kind in ("Splice", "SpliceComponent"):
            offs = splice_offsets(c)
            left, right = left - min(offs), right + max(offs)
        elif c.kind == "ParallelComponent":
            inner = [context(n) for n in c.fields["Nested"]]
            left, right = left + max(i[0] for i in inner), right + max(i[1] for i in inner)
    return left, right


def build(comps: list[Component], path: str, graph: Graph, frames: int, input_dim: int,
          streaming: bool = False) -> Frames:
    missing: dict[str, int] = {}
    examples: dict[str, str] = {}
    for c in _flatten(comps):
        if c.kind not in SUPPORTED:
            missing[c.kind] = missing.get(c.kind, 0) + 1
            examples.setdefault(c.kind, f"{c.name} at {c.where}")
    if missing:
        raise UnsupportedOpsError(path, "Kaldi", missing, examples)
    cb = ChunkBuilder(Nnet3([], {}), path, graph)
    cb.warmup_steps = frames - 1 if streaming else 0
    b = cb.b
    x = Frames(b.parameter("input", "f32", (frames, input_dim)), 0, frames)
    for c in comps:
        b.name_hint = c.name
        x = _apply(cb, c, x, path, streaming)
    return x


def _flatten(comps: list[Component]) -> list[Component]:
    out = []
    for c in comps:
        out.append(c)
        if c.kind == "ParallelComponent":
            for nested in c.fields["Nested"]:
                out.extend(_flatten(nested))
    return out


def _input_dim(comps: list[Component], where: str) -> int:
    if not comps or "InputDim" not in comps[0].fields:
        raise ConversionError(f"{where}: a nested network without components")
    return int(comps[0].fields["InputDim"])


def _vec(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, np.float32).reshape(1, -1)


def _apply(cb: ChunkBuilder, c: Component, x: Frames, path: str, streaming: bool = False) -> Frames:
    b, k, f = cb.b, c.kind, c.fields

    def same(v):
        return Frames(v, x.t0, x.n)

    where = f"{path}: component {c.kind} ({c.where})"
    if k in ("Splice", "SpliceComponent"):
        offs = splice_offsets(c)
        const_dim = int(f.get("ConstComponentDim", 0))
        lo, hi = min(offs), max(offs)
        n = x.n - (hi - lo)
        if n <= 0:
            raise ConversionError(f"{where}: the chunk has too few frames for the splice context")
        t0 = x.t0 - lo
        src = x.value
        if const_dim:
            dim = src.shape[1]
            var = cb._slice(src, 0, dim - const_dim, axis=1)
            const = cb._slice(src, dim - const_dim, dim, axis=1)
            parts = [cb.rows(Frames(var, x.t0, x.n), t0 + o, n) for o in offs]
            parts.append(cb.rows(Frames(const, x.t0, x.n), t0, n))
        else:
            parts = [cb.rows(x, t0 + o, n) for o in offs]
        return Frames(b.op("Concat", *parts, axis=1) if len(parts) > 1 else parts[0], t0, n)
    if k in ("AffineTransform", "LinearTransform", "AffineComponent", "AffineComponentPreconditioned",
             "AffineComponentPreconditionedOnline", "FixedAffineComponent", "FixedLinearComponent"):
        w = f.get("LinearParams", f.get("Matrix"))
        if w is None:
            raise ConversionError(f"{where}: no weight matrix")
        if x.value.shape[1] != w.shape[1]:
            raise ConversionError(f"{where}: input has {x.value.shape[1]} columns, the weights {w.shape[1]}")
        y = b.op("MatMul", x.value, b.const(np.ascontiguousarray(w, np.float32)), transpose_b=True)
        if "BiasParams" in f and f["BiasParams"].size:
            y = b.op("Add", y, b.const(_vec(f["BiasParams"])))
        return same(y)
    if k == "ParallelComponent":
        outs, start = [], 0
        for nested in f["Nested"]:
            dim = _input_dim(nested, where)
            y = Frames(cb._slice(x.value, start, start + dim, axis=1), x.t0, x.n)
            start += dim
            for c2 in nested:
                b.name_hint = c2.name
                y = _apply(cb, c2, y, path, streaming)
            outs.append(y)
        if start != x.value.shape[1]:
            raise ConversionError(f"{where}: nested networks read {start} columns of {x.value.shape[1]}")
        t0, t1 = max(o.t0 for o in outs), min(o.t0 + o.n for o in outs)
        if t1 <= t0:
            raise ConversionError(f"{where}: the chunk has too few frames for the nested networks' context")
        return Frames(b.op("Concat", *[cb.rows(o, t0, t1 - t0) for o in outs], axis=1), t0, t1 - t0)
    if k == "BlstmProjected":  # forward and backward LstmProjected, outputs appended
        if streaming:
            raise ConversionError(f"{where}: a bidirectional LSTM needs the whole utterance; use --kaldi_form chunk")
        from .recurrent import lstm_projected
        fw = lstm_projected(cb, c, x, False, where)
        bw = lstm_projected(cb, c, x, False, where, prefix="Backward")
        return Frames(b.op("Concat", fw.value, bw.value, axis=1), x.t0, x.n)
    if k == "LstmProjected":
        from .recurrent import lstm_projected
        return lstm_projected(cb, c, x, streaming, where, warmup=getattr(cb, "warmup_steps", 0))
    if k in ("ConvolutionalComponent", "Convolutional1dComponent"):  # filters over patches of spliced frames
        nnet1 = k == "ConvolutionalComponent"
        filt = np.asarray(f["Filters"] if nnet1 else f["FilterParams"], np.float32)
        bias = np.asarray(f["Bias"] if nnet1 else f["BiasParams"], np.float32)
        appended = bool(f.get("AppendedConv", False))
        pdim, pstep, pstride = int(f["PatchDim"]), int(f["PatchStep"]), int(f["PatchStride"])
        din = x.value.shape[1]
        if din % pstride or (pstride - pdim) % pstep:
            raise ConversionError(f"{where}: input {din} does not split into patches (dim {pdim}, step {pstep}, "
                                  f"stride {pstride})")
        splices, patches = din // pstride, 1 + (pstride - pdim) // pstep
        if filt.shape[1] != splices * pdim or bias.size != filt.shape[0]:
            raise ConversionError(f"{where}: filters {filt.shape} do not fit {splices} x {pdim} patches")
        cols = np.array([(p * pstep + d) * splices + sp if appended else p * pstep + sp * pstride + d
                         for p in range(patches) for sp in range(splices) for d in range(pdim)], np.int64)
        g = b.op("Gather", x.value, b.const(cols), b.const(np.array(1, np.int64)), batch_dims=0)
        g = b.op("Reshape", g, b.const(np.array([x.n, patches, filt.shape[1]], np.int64)), special_zero=False)
        y = b.op("Add", b.op("MatMul", g, b.const(np.ascontiguousarray(filt)), transpose_b=True),
                 b.const(bias.reshape(1, 1, -1)))
        return same(b.op("Reshape", y, b.const(np.array([x.n, patches * filt.shape[0]], np.int64)),
                         special_zero=False))
    if k in ("MaxPoolingComponent", "MaxpoolingComponent"):  # max over PoolSize patches of PoolStride columns
        if "InputXDim" in f:
            raise ConversionError(f"{where}: the 3-d MaxpoolingComponent (x/y/z pools) is not supported")
        size, stride = int(f["PoolSize"]), int(f["PoolStride"])
        step = int(f.get("PoolStep", size))  # nnet2/nnet3 pools do not overlap
        din = x.value.shape[1]
        if din % stride or (din // stride - size) % step:
            raise ConversionError(f"{where}: input {din} does not split into pools (size {size}, step {step}, "
                                  f"stride {stride})")
        pools = 1 + (din // stride - size) // step
        idx = np.array([q * step + r for q in range(pools) for r in range(size)], np.int64)
        v = b.op("Reshape", x.value, b.const(np.array([x.n, din // stride, stride], np.int64)), special_zero=False)
        v = b.op("Gather", v, b.const(idx), b.const(np.array(1, np.int64)), batch_dims=0)
        v = b.op("Reshape", v, b.const(np.array([x.n, pools, size, stride], np.int64)), special_zero=False)
        v = b.op("ReduceMax", v, b.const(np.array([2], np.int64)), keep_dims=False)
        return same(b.op("Reshape", v, b.const(np.array([x.n, pools * stride], np.int64)), special_zero=False))
    if k in ("Sigmoid", "SigmoidComponent"):
        return same(b.op("Sigmoid", x.value))
    if k in ("Tanh", "TanhComponent"):
        return same(b.op("Tanh", x.value))
    if k == "RectifiedLinearComponent":
        return same(b.op("Relu", x.value))
    if k in ("Softmax", "SoftmaxComponent"):
        return same(b.op("SoftMax", x.value, axis=1))
    if k == "LogSoftmaxComponent":
        return same(b.op("LogSoftmax", x.value, axis=1))
    if k in ("Dropout",) or k in NNET2_IDENTITY:
        return x
    if k == "AddShift":
        return same(b.op("Add", x.value, b.const(_vec(f["Vector"]))))
    if k == "Rescale":
        return same(b.op("Multiply", x.value, b.const(_vec(f["Vector"]))))
    if k == "FixedScaleComponent":
        return same(b.op("Multiply", x.value, b.const(_vec(f["Scales"]))))
    if k == "FixedBiasComponent":
        return same(b.op("Add", x.value, b.const(_vec(f["Bias"]))))
    if k == "Copy":
        idx = np.asarray(f["Indexes"], np.int64) - 1
        return same(b.op("Gather", x.value, b.const(idx), b.const(np.array(1, np.int64)), batch_dims=0))
    if k == "PnormComponent":
        din, dout, p = int(f["InputDim"]), int(f["OutputDim"]), float(f.get("P", 2.0))
        g = din // dout
        r = b.op("Reshape", x.value, b.const(np.array([x.n, dout, g], np.int64)), special_zero=False)
        s = b.op("ReduceSum", b.op("Power", b.op("Abs", r), b.const(np.float32(p))),
                 b.const(np.array([2], np.int64)), keep_dims=False)
        return same(b.op("Power", s, b.const(np.float32(1.0 / p))))
    if k == "SumGroupComponent":
        sizes = [int(s) for s in f["Sizes"]]
        m = np.zeros((sum(sizes), len(sizes)), np.float32)
        start = 0
        for j, s in enumerate(sizes):
            m[start:start + s, j] = 1
            start += s
        return same(b.op("MatMul", x.value, b.const(m)))
    if k == "NormalizeComponent":
        dim = x.value.shape[1]
        sq = b.op("ReduceSum", b.op("Multiply", x.value, x.value), b.const(np.array([1], np.int64)), keep_dims=True)
        ms = b.op("Multiply", sq, b.const(np.float32(1.0 / dim)))
        den = b.op("Sqrt", b.op("Maximum", ms, b.const(np.float32(2.0 ** -66))))
        return same(b.op("Divide", x.value, den))
    raise UnsupportedOpsError(path, "Kaldi", {k: 1}, {k: c.name})
