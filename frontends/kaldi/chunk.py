"""An nnet3 network as a chunk graph: T frames in, T - left - right frames out.

Every node value is a matrix of frames ``[n, dim]`` holding times ``t0 .. t0+n-1`` (the
input holds 0 .. T-1), or a time-invariant row ``[1, dim]`` (an i-vector taken with
``ReplaceIndex(ivector, t, 0)``, a ``Const``). A node is computed on every time where all
the frames its descriptor reads exist: ``Offset(d, k)`` at time t reads d at t+k, so it
slices d's rows; ``Append`` concatenates its parts' columns over the common times; ``Sum``
adds them. The output is computed at full frame rate on times ``left .. T-1-right``,
where left/right are the network's context (the largest offsets reachable from the
output); ``--left_context``/``--right_context`` may only widen them.

Components (Kaldi's test-time formulas):
    Affine / NaturalGradientAffine / FixedAffine   y = x W^T + b
    Linear                                         y = x W^T
    Tdnn (TimeOffsets o)                           y = [x(t+o_1) ... x(t+o_k)] W^T + b
    RectifiedLinear / Sigmoid / Tanh               elementwise
    Softmax / LogSoftmax                           over the row
    BatchNorm                                      y = (x - mean) * target_rms / sqrt(var + eps),
                                                   per block of BlockDim columns
    Normalize (per BlockDim block)                 y = x * target_rms / sqrt(max(|x|^2 / B, 2^-66))
                                                   [, log(target_rms sqrt(max(|x|^2 / B, 2^-66)))]
    TimeHeightConvolution (offsets (dt_i, dh_i), input/output columns = height-major, filters-minor)
        y(t)[h, :] = b + sum_i W[:, i-th block of NumFiltersIn] x(t + dt_i)[h * HeightSubsampleOut + dh_i, :]
        (heights outside the input and non-required time offsets outside the chunk read zeros)
    RestrictedAttention                            attention.py
    ScaleAndOffset (Scales, Offsets per block)     y = x * s + o   (|s| raised to 1e-4 as Kaldi's EnsureNonzero)
    Permute (ColumnMap)                            y[:, i] = x[:, ColumnMap[i]]
    SumBlock (InputDim, OutputDim D, Scale)        y[:, j] = Scale * sum_b x[:, b*D + j]
    ConstantFunction (Output)                      y = Output on every frame
    GeneralDropout / Dropout / NoOp / BackpropTruncation   y = x
    DropoutMask (OutputDim n, DropoutProportion p)  y = 1 (p = 0 or Continuous), else 1 - p  (test mode)
    LstmNonlinearity                               recurrent.py
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mo.errors import ConversionError, UnsupportedOpsError
from mo.graph import Graph, Value
from mo.ir.builder import Builder

from .nnet3 import Component, Desc, Nnet3, parse_descriptor

IDENTITY = {"GeneralDropoutComponent", "DropoutComponent", "NoOpComponent", "BackpropTruncationComponent",
            "ClipGradientComponent", "SpecAugmentTimeMaskComponent"}
SHARED = {"PnormComponent", "SumGroupComponent", "Convolutional1dComponent",
          "MaxpoolingComponent"}  # formulas in sequential.py
AFFINE = {"AffineComponent", "NaturalGradientAffineComponent", "FixedAffineComponent"}
ELEMENTWISE = {"RectifiedLinearComponent": "Relu", "SigmoidComponent": "Sigmoid", "TanhComponent": "Tanh"}
SUPPORTED = IDENTITY | AFFINE | set(ELEMENTWISE) | {"LinearComponent", "TdnnComponent", "SoftmaxComponent",
                                                     "LogSoftmaxComponent", "BatchNormComponent",
                                                     "NormalizeComponent", "FixedScaleComponent",
                                                     "FixedBiasComponent", "NaturalGradientPerElementScaleComponent",
                                                     "PerElementScaleComponent", "PerElementOffsetComponent",
                                                     "ElementwiseProductComponent",
                                                     "LstmNonlinearityComponent", "DropoutMaskComponent",
                                                     "TimeHeightConvolutionComponent",
                                                     "RestrictedAttentionComponent", "ScaleAndOffsetComponent",
                                                     "PermuteComponent", "SumBlockComponent",
                                                     "ConstantFunctionComponent"} | SHARED


@dataclass
class Frames:
    value: Value
    t0: int            # time of row 0 (ignored when invariant)
    n: int             # rows
    invariant: bool = False
    optional: bool = False  # under IfDefined: frames outside t0 .. t0+n-1 read as zeros


class ChunkBuilder:
    def __init__(self, net: Nnet3, path: str, graph: Graph) -> None:
        self.net, self.path, self.g = net, path, graph
        self.b = Builder(graph)
        self.lines = {n.name: n for n in net.nodes}
        self.descs: dict[str, Desc] = {}
        for n in net.nodes:
            if n.kind in ("component-node", "output-node"):
                self.descs[n.name] = parse_descriptor(n.attrs.get("input", ""), f"{path}: node {n.name!r}")
        self.context: dict[str, tuple[int, int]] = {}
        self.values: dict[str, Frames] = {}
        from .loops import recurrent_groups
        self.groups = recurrent_groups(self)

    # ------------------------------------------------------------ context
    def _tdnn_offsets(self, name: str) -> tuple[int, int]:
        line = self.lines[name]
        comp = self.net.components.get(line.attrs.get("component", ""))
        if comp is not None and comp.kind == "TdnnComponent":
            offs = comp.fields.get("TimeOffsets", np.zeros(1))
            return int(np.min(offs)), int(np.max(offs))
        if comp is not None and comp.kind == "TimeHeightConvolutionComponent":
            req = conv_time_offsets(comp)[1]
            return min(req), max(req)
        if comp is not None and comp.kind == "RestrictedAttentionComponent":
            from .attention import attention_offsets
            req = attention_offsets(comp)[1]
            return min(req), max(req)
        return 0, 0

    def node_context(self, name: str) -> tuple[int, int]:
        """(min, max) time offset, relative to t, of the input frames node ``name`` at t reads."""
        if name in self.context:
            return self.context[name]
        line = self.lines.get(name)
        if line is None:
            raise ConversionError(f"{self.path}: a descriptor names node {name!r}, which the network does not have")
        if line.kind == "input-node":
            ctx = (0, 0)
        elif line.kind == "dim-range-node":
            ctx = self.node_context(line.attrs["input-node"])
        else:
            self.context[name] = (0, 0)  # recursion guard (recurrent networks are refused below)
            lo, hi = self.desc_context(self.descs[name])
            if lo is None:
                lo = hi = 0
            tlo, thi = self._tdnn_offsets(name)
            ctx = (lo + tlo, hi + thi)
        self.context[name] = ctx
        return ctx

    def desc_context(self, d: Desc) -> tuple[int | None, int | None]:
        if d.op == "node":
            return self.node_context(d.args[0])
        if d.op == "Offset":
            lo, hi = self.desc_context(d.args[0])
            return (None, None) if lo is None else (lo + d.args[1], hi + d.args[1])
        if d.op in ("ReplaceIndex", "Const", "IfDefined"):
            return None, None  # IfDefined never requires frames: missing ones read as zeros
        if d.op == "Scale":
            return self.desc_context(d.args[1])
        if d.op == "Round":
            return self.desc_context(d.args[0])
        parts = [self.desc_context(p) for p in d.args]
        los = [p[0] for p in parts if p[0] is not None]
        his = [p[1] for p in parts if p[1] is not None]
        if not los:
            return None, None
        return min(los), max(his)

    # ------------------------------------------------------------ building
    def check_components(self) -> None:
        missing: dict[str, int] = {}
        examples: dict[str, str] = {}
        for line in self.net.nodes:
            if line.kind != "component-node":
                continue
            comp = self.net.components.get(line.attrs.get("component", ""))
            if comp is None:
                raise ConversionError(f"{self.path}: node {line.name!r} uses component "
                                      f"{line.attrs.get('component')!r}, which the model does not define")
            if comp.kind not in SUPPORTED:
                missing[comp.kind] = missing.get(comp.kind, 0) + 1
                examples.setdefault(comp.kind, comp.name)
        if missing:
            raise UnsupportedOpsError(self.path, "Kaldi", missing, examples)

    def build(self, inputs: dict[str, int], frames: int) -> dict[str, Frames]:
        """Parameters for the input nodes (time inputs get ``frames`` rows) and the output values."""
        self.check_components()
        for line in self.net.nodes:
            if line.kind == "input-node":
                dim = int(line.attrs["dim"])
                if inputs.get(line.name) == 1:
                    p = self.b.parameter(line.name, "f32", (1, dim))
                    self.values[line.name] = Frames(p, 0, 1, invariant=True)
                else:
                    p = self.b.parameter(line.name, "f32", (frames, dim))
                    self.values[line.name] = Frames(p, 0, frames)
        outs = {}
        for line in self.net.nodes:
            if line.kind == "output-node":
                outs[line.name] = self.node(line.name)
        return outs

    def node(self, name: str) -> Frames:
        if name in self.values:
            return self.values[name]
        line = self.lines.get(name)
        if line is None:
            raise ConversionError(f"{self.path}: a descriptor names node {name!r}, which the network does not have")
        if name in self.groups:
            from .loops import GroupBuilder
            GroupBuilder(self, self.groups[name]).build()
            return self.values[name]
        self.b.name_hint = name
        if line.kind == "dim-range-node":
            src = self.node(line.attrs["input-node"])
            off, dim = int(line.attrs["dim-offset"]), int(line.attrs["dim"])
            v = self._slice(src.value, off, off + dim, axis=1)
            out = Frames(v, src.t0, src.n, src.invariant)
        else:
            x = self.descriptor(self.descs[name], name)
            x = Frames(x.value, x.t0, x.n, x.invariant)
            if line.kind == "output-node":
                out = x
            else:
                comp = self.net.components[line.attrs["component"]]
                out = self.component(comp, x, name)
        self.values[name] = out
        return out

    def _slice(self, v: Value, start: int, stop: int, axis: int) -> Value:
        b = self.b
        return b.op("Slice", v, b.const(np.array([start], np.int64)), b.const(np.array([stop], np.int64)),
                    b.const(np.array([1], np.int64)), b.const(np.array([axis], np.int64)))

    def rows(self, f: Frames, t0: int, n: int) -> Value:
        """Rows of ``f`` for times t0 .. t0+n-1 (a time-invariant row is repeated)."""
        if f.invariant:
            b = self.b
            dim = f.value.shape[1]
            return b.op("Broadcast", f.value, b.const(np.array([n, dim], np.int64)))
        start = t0 - f.t0
        if start < 0 or start + n > f.n:
            raise ConversionError(f"{self.path}: internal frame range error")
        if start == 0 and n == f.n:
            return f.value
        return self._slice(f.value, start, start + n, axis=0)

    def rows_padded(self, f: Frames, t0: int, n: int) -> Value:
        """Rows for times t0 .. t0+n-1, zeros where ``f`` has no frame (IfDefined)."""
        if f.invariant:
            return self.rows(f, t0, n)
        lo, hi = max(t0, f.t0), min(t0 + n, f.t0 + f.n)
        dim = f.value.shape[1]
        if hi <= lo:
            return self.b.const(np.zeros((n, dim), np.float32))
        parts = []
        if lo > t0:
            parts.append(self.b.const(np.zeros((lo - t0, dim), np.float32)))
        parts.append(self.rows(f, lo, hi - lo))
        if t0 + n > hi:
            parts.append(self.b.const(np.zeros((t0 + n - hi, dim), np.float32)))
        return parts[0] if len(parts) == 1 else self.b.op("Concat", *parts, axis=0)

    def descriptor(self, d: Desc, where: str) -> Frames:
        if d.op == "node":
            return self.node(d.args[0])
        if d.op == "Offset":
            if d.args[2]:
                raise ConversionError(f"{self.path}: node {where!r}: Offset with an x offset is not supported")
            f = self.descriptor(d.args[0], where)
            return f if f.invariant else Frames(f.value, f.t0 - d.args[1], f.n, optional=f.optional)
        if d.op == "ReplaceIndex":
            f = self.descriptor(d.args[0], where)
            if d.args[1] != "t":
                raise ConversionError(f"{self.path}: node {where!r}: ReplaceIndex over {d.args[1]!r} is not supported")
            if f.invariant:
                return f
            t = d.args[2]
            if not f.t0 <= t < f.t0 + f.n:
                raise ConversionError(f"{self.path}: node {where!r}: ReplaceIndex(.., t, {t}) reads a frame outside "
                                      f"the chunk")
            return Frames(self._slice(f.value, t - f.t0, t - f.t0 + 1, axis=0), 0, 1, invariant=True)
        if d.op == "Round":
            f = self.descriptor(d.args[0], where)
            if f.invariant:
                return f
            raise ConversionError(f"{self.path}: node {where!r}: Round() of a time-varying input is not supported")
        if d.op == "Const":
            v = self.b.const(np.full((1, int(d.args[1])), d.args[0], np.float32))
            return Frames(v, 0, 1, invariant=True)
        if d.op == "Scale":
            f = self.descriptor(d.args[1], where)
            return Frames(self.b.op("Multiply", f.value, self.b.const(np.float32(d.args[0]))), f.t0, f.n, f.invariant)
        if d.op in ("Append", "Sum"):
            parts = [self.descriptor(p, where) for p in d.args]
            timed = [p for p in parts if not p.invariant]
            required = [p for p in timed if not p.optional] or timed
            if not timed:
                vals = [p.value for p in parts]
                out = self.b.op("Concat", *vals, axis=1) if d.op == "Append" else self._sum(vals)
                return Frames(out, 0, 1, invariant=True)
            t0 = max(p.t0 for p in required)
            t1 = min(p.t0 + p.n for p in required)
            if t1 <= t0:
                raise ConversionError(f"{self.path}: node {where!r}: the chunk has too few frames for its context; "
                                      f"give more frames")
            vals = [self.rows_padded(p, t0, t1 - t0) if p.optional else self.rows(p, t0, t1 - t0) for p in parts]
            out = self.b.op("Concat", *vals, axis=1) if d.op == "Append" else self._sum(vals)
            return Frames(out, t0, t1 - t0)
        if d.op == "IfDefined":
            f = self.descriptor(d.args[0], where)
            return Frames(f.value, f.t0, f.n, f.invariant, optional=not f.invariant)
        if d.op == "Failover":
            return self.descriptor(d.args[0], where)
        raise ConversionError(f"{self.path}: node {where!r}: descriptor {d.op}() is not supported")

    def _sum(self, vals: list[Value]) -> Value:
        out = vals[0]
        for v in vals[1:]:
            out = self.b.op("Add", out, v)
        return out

    # ------------------------------------------------------------ components
    def component(self, comp: Component, x: Frames, name: str) -> Frames:
        try:
            return self._component(comp, x, name)
        except KeyError as e:
            raise ConversionError(f"{self.path}: component {comp.name!r} ({comp.kind}, {comp.where}): the model "
                                  f"does not give its <{e.args[0]}>") from None

    def _component(self, comp: Component, x: Frames, name: str) -> Frames:
        b, k, f = self.b, comp.kind, comp.fields

        def same(v: Value) -> Frames:
            return Frames(v, x.t0, x.n, x.invariant)

        def where() -> str:
            return f"{self.path}: component {comp.name!r} ({k}, {comp.where})"

        if k in IDENTITY:
            return x
        if k in ELEMENTWISE:
            return same(b.op(ELEMENTWISE[k], x.value))
        if k == "SoftmaxComponent":
            return same(b.op("SoftMax", x.value, axis=1))
        if k == "LogSoftmaxComponent":
            return same(b.op("LogSoftmax", x.value, axis=1))
        if k in AFFINE or k == "LinearComponent":
            w = f.get("LinearParams", f.get("Params"))
            if w is None:
                raise ConversionError(f"{where()}: no weight matrix")
            self._check_dim(x, w.shape[1], where)
            y = b.op("MatMul", x.value, b.const(np.ascontiguousarray(w, np.float32)), transpose_b=True)
            bias = f.get("BiasParams")
            if bias is not None and bias.size:
                y = b.op("Add", y, b.const(bias.astype(np.float32).reshape(1, -1)))
            return same(y)
        if k == "TdnnComponent":
            offs = [int(o) for o in f.get("TimeOffsets", np.zeros(1))]
            w = f["LinearParams"]
            if x.invariant:
                parts = [x.value] * len(offs)
                stacked = b.op("Concat", *parts, axis=1) if len(parts) > 1 else parts[0]
                out_t0, n = 0, 1
            else:
                out_t0 = x.t0 - min(offs)
                n = x.n - (max(offs) - min(offs))
                if n <= 0:
                    raise ConversionError(f"{where()}: the chunk has too few frames for its time offsets")
                parts = [self.rows(x, out_t0 + o, n) for o in offs]
                stacked = b.op("Concat", *parts, axis=1) if len(parts) > 1 else parts[0]
            y = b.op("MatMul", stacked, b.const(np.ascontiguousarray(w, np.float32)), transpose_b=True)
            bias = f.get("BiasParams")
            if bias is not None and bias.size:
                y = b.op("Add", y, b.const(bias.astype(np.float32).reshape(1, -1)))
            return Frames(y, out_t0, n, x.invariant)
        if k == "BatchNormComponent":
            dim, block = int(f["Dim"]), int(f.get("BlockDim", f["Dim"]))
            mean = f["StatsMean"].astype(np.float64)
            var = f["StatsVar"].astype(np.float64)
            scale = float(f.get("TargetRms", 1.0)) / np.sqrt(var + float(f.get("Epsilon", 1e-3)))
            reps = dim // block
            scale_full = np.tile(scale, reps).astype(np.float32).reshape(1, -1)
            shift_full = np.tile(-mean * scale, reps).astype(np.float32).reshape(1, -1)
            self._check_dim(x, dim, where)
            y = b.op("Add", b.op("Multiply", x.value, b.const(scale_full)), b.const(shift_full))
            return same(y)
        if k == "NormalizeComponent":
            return same(self._normalize(x.value, x.n, f))
        if k in SHARED:
            from .sequential import _apply
            if x.invariant:
                raise ConversionError(f"{where()}: time-invariant input")
            return _apply(self, comp, x, self.path)
        if k in ("NaturalGradientPerElementScaleComponent", "PerElementScaleComponent"):
            return same(b.op("Multiply", x.value, b.const(f["Params"].astype(np.float32).reshape(1, -1))))
        if k == "PerElementOffsetComponent":
            return same(b.op("Add", x.value, b.const(f["Offsets"].astype(np.float32).reshape(1, -1))))
        if k == "ElementwiseProductComponent":
            din, dout = int(f["InputDim"]), int(f["OutputDim"])
            if din % dout:
                raise ConversionError(f"{where()}: input dim {din} is not a multiple of output dim {dout}")
            y = self._slice(x.value, 0, dout, axis=1)
            for j in range(1, din // dout):
                y = b.op("Multiply", y, self._slice(x.value, j * dout, (j + 1) * dout, axis=1))
            return same(y)
        if k == "TimeHeightConvolutionComponent":
            return self._time_height_conv(comp, x, where)
        if k == "RestrictedAttentionComponent":
            from .attention import restricted_attention
            return restricted_attention(self, comp, x, where)
        if k == "ScaleAndOffsetComponent":  # per block of len(Scales) columns; |scale| >= 1e-4 (EnsureNonzero)
            scales = np.asarray(f["Scales"], np.float64)
            scales = np.where(np.abs(scales) < 1e-4, np.where(scales >= 0, 1e-4, -1e-4), scales)
            dim = x.value.shape[1]
            if dim % scales.size:
                raise ConversionError(f"{where()}: input {dim} is not a multiple of {scales.size} scales")
            reps = dim // scales.size
            y = b.op("Multiply", x.value, b.const(np.tile(scales, reps).astype(np.float32).reshape(1, -1)))
            return same(b.op("Add", y, b.const(np.tile(np.asarray(f["Offsets"], np.float32), reps).reshape(1, -1))))
        if k == "PermuteComponent":  # y[:, i] = x[:, ColumnMap[i]]
            idx = np.asarray(f["ColumnMap"], np.int64)
            return same(b.op("Gather", x.value, b.const(idx), b.const(np.array(1, np.int64)), batch_dims=0))
        if k == "SumBlockComponent":  # y[:, j] = Scale * sum_b x[:, b * OutputDim + j]
            din, dout = int(f["InputDim"]), int(f["OutputDim"])
            if din % dout:
                raise ConversionError(f"{where()}: input dim {din} is not a multiple of output dim {dout}")
            m = np.tile(np.eye(dout, dtype=np.float32), (din // dout, 1)) * np.float32(f.get("Scale", 1.0))
            return same(b.op("MatMul", x.value, b.const(m)))
        if k == "ConstantFunctionComponent":  # the <Output> vector on every frame, input ignored
            out = np.asarray(f["Output"], np.float32).reshape(1, -1)
            return Frames(b.const(out), 0, 1, invariant=True)
        if k == "DropoutMaskComponent":  # test mode: 1, or 1 - proportion for the non-continuous mask
            p = float(f.get("DropoutProportion", 0.5))
            value = 1.0 if p == 0 or f.get("Continuous") is True else 1.0 - p
            dim = int(f["OutputDim"])
            return Frames(b.const(np.full((1, dim), value, np.float32)), 0, 1, invariant=True)
        if k == "LstmNonlinearityComponent":
            from .recurrent import lstm_nonlinearity
            return same(lstm_nonlinearity(self, comp, x.value, where()))
        if k == "FixedScaleComponent":
            return same(b.op("Multiply", x.value, b.const(f["Scales"].astype(np.float32).reshape(1, -1))))
        if k == "FixedBiasComponent":
            return same(b.op("Add", x.value, b.const(f["Bias"].astype(np.float32).reshape(1, -1))))
        raise UnsupportedOpsError(self.path, "Kaldi", {k: 1}, {k: comp.name})

    def _time_height_conv(self, comp: Component, x: Frames, where) -> Frames:
        """TimeHeightConvolution: y(t)[h, :] = b + sum_i W[:, i-th block] x(t + dt_i)[h*sub + dh_i, :]."""
        b, f = self.b, comp.fields
        nf_in, nf_out = int(f["NumFiltersIn"]), int(f["NumFiltersOut"])
        h_in, h_out, sub = int(f["HeightIn"]), int(f["HeightOut"]), int(f.get("HeightSubsampleOut", 1))
        offsets = np.asarray(f["Offsets"], np.int64).reshape(-1, 2)
        w = np.asarray(f["LinearParams"], np.float32)
        if w.shape != (nf_out, len(offsets) * nf_in):
            raise ConversionError(f"{where()}: LinearParams {w.shape}, expected ({nf_out}, {len(offsets) * nf_in})")
        self._check_dim(x, h_in * nf_in, where)
        times, req = conv_time_offsets(comp)
        if x.invariant:
            n, t0 = 1, 0
        else:
            t0 = x.t0 - min(req)
            n = x.n - (max(req) - min(req))
            if n <= 0:
                raise ConversionError(f"{where()}: the chunk has too few frames for its time offsets")
        zero = b.const(np.zeros((n, nf_in), np.float32))
        rows = {}
        for dt in times:
            v = x.value if x.invariant else (self.rows(x, t0 + dt, n) if dt in req else
                                             self.rows_padded(x, t0 + dt, n))
            rows[dt] = b.op("Concat", v, zero, axis=1)  # a zero block at height h_in: padding
        parts = []
        for dt, dh in offsets:
            cols = np.array([(h * sub + dh) * nf_in + c if 0 <= h * sub + dh < h_in else h_in * nf_in + c
                             for h in range(h_out) for c in range(nf_in)], np.int64)
            g = b.op("Gather", rows[int(dt)], b.const(cols), b.const(np.array(1, np.int64)), batch_dims=0)
            parts.append(b.op("Reshape", g, b.const(np.array([n, h_out, nf_in], np.int64)), special_zero=False))
        patches = parts[0] if len(parts) == 1 else b.op("Concat", *parts, axis=2)
        y = b.op("MatMul", patches, b.const(np.ascontiguousarray(w)), transpose_b=True)
        bias = f.get("BiasParams")
        if bias is not None and np.size(bias):
            y = b.op("Add", y, b.const(np.asarray(bias, np.float32).reshape(1, 1, -1)))
        y = b.op("Reshape", y, b.const(np.array([n, h_out * nf_out], np.int64)), special_zero=False)
        return Frames(y, t0, n, x.invariant)

    def _normalize(self, v: Value, rows: int, f: dict) -> Value:
        """nnet3 Normalize (cu-math NormalizePerRow), per block of BlockDim columns:
        y = x * TargetRms / sqrt(max(|x|^2 / B, 2^-66)), and with AddLogStddev a last column per
        block log(TargetRms * sqrt(max(|x|^2 / B, 2^-66)))."""
        b = self.b
        dim = v.shape[1]
        block = int(f.get("BlockDim", dim)) or dim
        if dim % block:
            raise ConversionError(f"{self.path}: Normalize: input {dim} is not a multiple of BlockDim {block}")
        rms, log_col = float(f.get("TargetRms", 1.0)), bool(f.get("AddLogStddev", False))
        blocks = dim // block
        x = v if blocks == 1 else b.op("Reshape", v, b.const(np.array([rows * blocks, block], np.int64)),
                                       special_zero=False)
        sq = b.op("ReduceSum", b.op("Multiply", x, x), b.const(np.array([1], np.int64)), keep_dims=True)
        ms = b.op("Maximum", b.op("Multiply", sq, b.const(np.float32(1.0 / block))), b.const(np.float32(2.0 ** -66)))
        norm = b.op("Sqrt", ms)
        y = b.op("Divide", b.op("Multiply", x, b.const(np.float32(rms))), norm) if rms != 1.0 else \
            b.op("Divide", x, norm)
        if log_col:
            y = b.op("Concat", y, b.op("Log", b.op("Multiply", norm, b.const(np.float32(rms)))), axis=1)
        if blocks > 1:
            y = b.op("Reshape", y, b.const(np.array([rows, blocks * (block + log_col)], np.int64)),
                     special_zero=False)
        return y

    def _check_dim(self, x: Frames, dim: int, where) -> None:
        have = x.value.shape[1] if x.value.shape is not None else None
        if have is not None and have != dim:
            raise ConversionError(f"{where()}: input has {have} columns, the component expects {dim}")



def conv_time_offsets(comp: Component) -> tuple[list[int], list[int]]:
    """TimeHeightConvolution: (all time offsets, required ones), sorted."""
    offsets = np.asarray(comp.fields.get("Offsets", np.zeros((1, 2))), np.int64).reshape(-1, 2)
    times = sorted({int(t) for t in offsets[:, 0]})
    req = comp.fields.get("RequiredTimeOffsets")
    req = sorted({int(t) for t in req}) if req is not None and np.size(req) else times
    return times, req
