"""Post-training static INT8 quantization: ``--quantize int8 --calibration DIR|random``.

1. Statistics. The graph as it stands (FP32, preprocessing included) is written to a
   temporary IR with an extra Result on every activation to quantize, and run in the
   OpenVINO runtime (CPU, f32) on the calibration samples (see calibration.py). Per tensor:
   the min and max over all samples (``--calibration_stat minmax``), or, with
   ``percentile:Q``, the Q-th percentile as the top and the (100-Q)-th as the bottom (each
   only where the tensor goes past 0 on that side), over a seeded subsample of
   PERCENTILE_VALUES / (number of samples) values per sample (at least 1000; so at most
   about 2 MiB per tensor whatever the calibration set's size): a few outliers then no
   longer stretch the 8-bit grid.
2. FakeQuantize (256 levels) on the activation input of every Convolution,
   GroupConvolution, MatMul (the non-constant data input), AvgPool and MaxPool, one per
   tensor however many ops read it; its range is
   * ``performance`` (default, symmetric): ``[0, max]`` for a tensor that is never negative
     (unsigned 8-bit), else ``[-a, a * 127/128]`` with ``a = max(|min|, |max|)`` (signed 8-bit);
   * ``mixed`` (asymmetric): ``[min, max]`` widened to hold 0 and nudged so that 0 is one
     of the levels exactly.
3. The constant weights of those Convolutions, GroupConvolutions and MatMuls quantized
   symmetrically per output channel to i8 in [-127, 127] (255 levels, scale ``m / 127``
   with ``m = max |W|`` over the channel) and stored that way:
   ``Const(i8) -> Convert(f32) -> Multiply(scale)``. This is what a FakeQuantize with 255
   levels and range ``[-m, m]`` on the f32 filter computes, in the form OpenVINO's
   CompressQuantizeWeights writes: the BIN holds one byte per weight.

These are the patterns OpenVINO's low-precision transformations turn into INT8 kernels on
the CPU: activations u8/i8, weights i8.
"""
from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import numpy as np

from mo.errors import OptionError
from mo.graph import Graph, Value
from mo.ir.builder import Builder
from mo.options import ConvertOptions

from .base import PassReport
from .calibration import samples
from .compress_weights import channel_axes

log = logging.getLogger("mo.passes")

NAME = "quantize"
PERCENTILE_VALUES = 1 << 19  # values kept per tensor for --calibration_stat percentile
ACTIVATION_OPS = ("Convolution", "GroupConvolution", "MatMul", "AvgPool", "MaxPool")
WEIGHT_OPS = ("Convolution", "GroupConvolution", "MatMul")


def _parse_stat(text: str) -> float | None:
    """None for minmax, else the percentile (e.g. 99.99)."""
    t = (text or "minmax").strip().lower()
    if t == "minmax":
        return None
    kind, _, q = t.partition(":")
    try:
        value = float(q)
    except ValueError:
        value = -1.0
    if kind != "percentile" or not 50 < value <= 100:
        raise OptionError(f"--calibration_stat {text!r}: use minmax or percentile:Q with 50 < Q <= 100")
    return value


def _is_const(v: Value) -> bool:
    """A Const, or ops of Consts only (e.g. a weight decompression subgraph)."""
    p = v.producer
    if p is None or p.op == "Parameter":
        return False
    return p.op == "Const" or all(_is_const(i) for i in p.inputs)


def activation_targets(graph: Graph) -> list[Value]:
    """The float activation tensors that get a FakeQuantize, in graph order, each once."""
    out: dict[Value, None] = {}
    for node in graph.nodes:
        if node.op not in ACTIVATION_OPS:
            continue
        ports = (0, 1) if node.op == "MatMul" else (0,)
        for i in ports:
            v = node.inputs[i]
            if v.etype == "f32" and not _is_const(v):
                out[v] = None
    return list(out)


def collect(graph: Graph, targets: list[Value], feeds: list[dict[str, np.ndarray]],
            percentile: float | None) -> list[tuple[float, float]]:
    """(low, high) per target from running the graph in OpenVINO on ``feeds``."""
    import openvino as ov

    from mo.ir.emitter import save

    b = Builder(graph, fold=False)
    tags, results = [], []
    for k, v in enumerate(targets):
        tag = f"__mo_calibration_{k}"
        v.add_name(tag)
        tags.append(tag)
        results.append(b.result(v))
    try:
        with tempfile.TemporaryDirectory(prefix="mo-calibration-") as tmp:
            xml = Path(tmp) / "calibration.xml"
            save(graph, xml)
            core = ov.Core()
            compiled = core.compile_model(core.read_model(str(xml)), "CPU",
                                          {"INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "LATENCY"})
            ports = {}
            for port in compiled.outputs:
                for n in port.get_names():
                    if n.startswith("__mo_calibration_"):
                        ports[n] = port
            request = compiled.create_infer_request()
            rng = np.random.default_rng(0)
            lows = [np.inf] * len(targets)
            highs = [-np.inf] * len(targets)
            picks: list[list[np.ndarray]] = [[] for _ in targets]
            per_sample = max(1000, PERCENTILE_VALUES // max(1, len(feeds)))
            for feed in feeds:
                res = request.infer(feed)
                for k, tag in enumerate(tags):
                    a = np.asarray(res[ports[tag]]).reshape(-1)
                    a = a[np.isfinite(a)]
                    if not a.size:
                        continue
                    lows[k] = min(lows[k], float(a.min()))
                    highs[k] = max(highs[k], float(a.max()))
                    if percentile is not None:
                        picks[k].append(a if a.size <= per_sample else rng.choice(a, per_sample, replace=False))
    finally:
        for r in results:
            graph.remove(r)
        for v, tag in zip(targets, tags):
            v.names = [n for n in v.names if n != tag]
    ranges = []
    for k in range(len(targets)):
        lo, hi = lows[k], highs[k]
        if percentile is not None and picks[k]:
            a = np.concatenate(picks[k])
            lo = min(float(np.percentile(a, 100 - percentile)), 0.0) if lo < 0 else lo
            hi = float(np.percentile(a, percentile)) if hi > 0 else hi
        if not np.isfinite(lo) or not np.isfinite(hi):
            lo, hi = 0.0, 0.0
        ranges.append((lo, hi))
    return ranges


def activation_range(lo: float, hi: float, preset: str) -> tuple[float, float]:
    """The FakeQuantize input/output range of an activation with observed [lo, hi]."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi - lo < 1e-12:
        return 0.0, 1e-6  # a constant-zero tensor: any tiny range keeps it exactly zero
    if preset == "performance":
        if lo >= 0:
            return 0.0, hi
        a = max(-lo, hi)
        return -a, a * 127 / 128
    # mixed: asymmetric, with 0 on the grid
    step = (hi - lo) / 255
    zero = round(-lo / step)
    return -zero * step, (255 - zero) * step


def _fq(b: Builder, x: Value, lo, hi, levels: int, name: str) -> Value:
    lo_c = b.const(np.asarray(lo, np.float32))
    hi_c = b.const(np.asarray(hi, np.float32))
    return b.op("FakeQuantize", x, lo_c, hi_c, lo_c, hi_c, name=name, levels=levels)


def _input_channel_axis(graph: Graph, param, options: ConvertOptions, source_axis) -> int | None:
    """The channel axis of the IR's input as it is now: after the layout pass, the target
    layout's C when --layout/--target_layout changed it, else the source layout's."""
    from mo.options import merge_layouts

    from .layout import expand

    for spec in merge_layouts(options):
        if spec.target is None:
            continue
        named = spec.name is not None and (spec.name == param.name or spec.name in param.outputs[0].names)
        positional = spec.name is None and graph.parameters.index(param) == spec.index
        if named or positional:
            layout = expand(spec.target, param.outputs[0].rank, f"input {param.name}")
            return layout.index("C") if layout is not None and "C" in layout else None
    return source_axis(graph, param, options)


def run(graph: Graph, options: ConvertOptions) -> PassReport:
    if not options.calibration:
        raise OptionError("--quantize int8 needs calibration data: --calibration DIR (images, .npy or .npz inputs); "
                          "--calibration random quantizes with ranges from random data, of unknown accuracy")
    percentile = _parse_stat(options.calibration_stat)
    preset = options.quantize_preset or "performance"
    from .preprocess import channel_axis

    # images go in the channel order the IR's input takes: the framework's (BGR for Caffe),
    # swapped by --reverse_input_channels
    bgr = (graph.meta.get("framework") == "caffe") != bool(options.reverse_input_channels)
    feeds = samples(graph, options.calibration, max(1, options.calibration_size),
                    lambda p: _input_channel_axis(graph, p, options, channel_axis), bgr)
    targets = activation_targets(graph)
    if not targets:
        return PassReport(NAME, False, "no Convolution/MatMul/pooling inputs to quantize")
    ranges = collect(graph, targets, feeds, percentile)
    b = Builder(graph, fold=False)
    for v, (lo, hi) in zip(targets, ranges):
        users = [(n, i) for n, i in list(v.uses) if n.op in ACTIVATION_OPS]
        qlo, qhi = activation_range(lo, hi, preset)
        base = v.producer.name if v.producer is not None else "input"
        q = _fq(b, v, qlo, qhi, 256, base + "/fq")
        for n, i in users:
            graph.set_input(n, i, q)
    weights = before = after = 0
    done: dict[Value, Value] = {}
    for node in list(graph.nodes):
        if node.op not in WEIGHT_OPS or len(node.inputs) < 2:
            continue
        w = node.inputs[1]
        if w.producer is None or w.producer.op != "Const" or w.etype != "f32" or w.shape is None or len(w.shape) < 2:
            continue
        if w in done:
            graph.set_input(node, 1, done[w])
            continue
        axes = channel_axes(node, len(w.shape))
        if axes is None:
            continue
        q = _int8_weights(b, w, axes)
        done[w] = q
        graph.set_input(node, 1, q)
        weights += 1
        before += int(np.prod(w.shape)) * 4
        after += int(np.prod(w.shape)) + int(np.prod(q.producer.inputs[1].shape)) * 4
    graph.toposort()
    stat = "minmax" if percentile is None else f"percentile {percentile:g}"
    return PassReport(NAME, True, f"{len(targets)} activations and {weights} weights quantized to INT8 "
                                  f"({preset} preset, {stat} over {len(feeds)} calibration samples; "
                                  f"weights {_mib(before)} -> {_mib(after)})")


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 2**10:.1f} KiB"


def _int8_weights(b: Builder, w: Value, axes: tuple[int, ...]) -> Value:
    """``w`` as ``Const(i8 q) -> Convert(f32) -> Multiply(s)`` with ``q = round(w / s)`` in
    [-127, 127] and ``s = max |w| / 127`` per output channel (``axes``)."""
    array = w.const.numpy().astype(np.float64)  # type: ignore[union-attr]
    reduce = tuple(i for i in range(array.ndim) if i not in axes)
    m = np.abs(array).max(axis=reduce, keepdims=True)
    scale = np.where(m > 0, m / 127.0, 1.0)
    q = np.clip(np.rint(array / scale), -127, 127).astype(np.int8)
    base = w.producer.name  # type: ignore[union-attr]
    x = b.op("Convert", b.const(q, name=base + "/int8"), destination_type="f32", name=base + "/dequantize")
    return b.op("Multiply", x, b.const(scale.astype(np.float32), name=base + "/scale"), name=base + "/dequantize/scale")

