"""Weight compression without calibration data: ``--compress_weights int8`` (and ``int4``).

Rule: a constant f32 weight ``W`` (at least MIN_ELEMENTS values) of Convolution,
GroupConvolution, ConvolutionBackpropData or MatMul (its second input) becomes

    Const(u8 Q) -> Convert(f32) -> Subtract(Convert(f32) of Const(u8 zp)) -> Multiply(Const(f32 s))

with one scale ``s`` and zero point ``zp`` per output channel (asymmetric, round to
nearest): ``s = (max - min) / (2^bits - 1)`` over the channel, ``zp = round(-min / s)``
clipped to the level range, ``Q = clip(round(W / s) + zp)``. The min/max range always
includes 0, so zero weights stay exactly zero. This is the decompression subgraph
OpenVINO's own weight compression writes and the CPU plugin recognizes: Convolution
weights are decompressed once at compile time, MatMul weights stay compressed in
memory. Output channels: axis 0 of a Convolution filter ``[O, I, k...]``, axes 0-1 of a
GroupConvolution filter ``[G, O, I, k...]``, axis 1 of a ConvolutionBackpropData filter
``[I, O, k...]``, and for MatMul the weight's last axis (or, with ``transpose_b``, the
one before it).

``int4`` stores MatMul weights as u4 (two per byte, first value in the low nibble) the
same way, group-wise when a 2-D weight has more than GROUP_SIZE (128) input channels and a
multiple of it: one scale and zero point per output channel and group of 128 inputs, the
weight stored as ``[O, I/128, 128]`` (``transpose_b``) or ``[I/128, 128, O]`` and a Reshape
back to 2-D after the Multiply (the grouped pattern OpenVINO's int4 compression writes).
Convolutions keep u8, because the CPU plugin has no 4-bit convolution kernels.

The OpenVINO CPU plugin turns each compressed MatMul into a FullyConnected that reads the
u8/u4 weights directly (tests check the compiled model). With ``--data_type FP16`` the
scales become f16 behind a decompression Convert (compress_to_fp16 runs after this pass
and leaves u8/u4 constants alone); the plugin accepts that form too.
"""
from __future__ import annotations

import logging

import numpy as np

from mo.graph import Graph, Node, Value
from mo.ir.builder import Builder
from mo.options import ConvertOptions
from mo.tensor import LazyTensor

from .base import PassReport

log = logging.getLogger("mo.passes")

NAME = "compress_weights"
MIN_ELEMENTS = 256  # smaller weights gain nothing from per-channel scales
GROUP_SIZE = 128   # int4 MatMul weights: one scale per 128 input channels, as OpenVINO's own int4 default


def channel_axes(node: Node, rank: int) -> tuple[int, ...] | None:
    """The weight axes that index output channels, or None when ``node`` is not compressible."""
    if node.op == "Convolution":
        return (0,)
    if node.op == "GroupConvolution":
        return (0, 1)
    if node.op == "ConvolutionBackpropData":
        return (1,)
    if node.op == "MatMul" and rank >= 2:
        return (rank - 2,) if node.attrs.get("transpose_b") else (rank - 1,)
    return None


def quantize(w: np.ndarray, axes: tuple[int, ...], bits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(q, zero point, scale) of ``w`` per channel over ``axes``; q and zp are uint8."""
    levels = (1 << bits) - 1
    reduce = tuple(i for i in range(w.ndim) if i not in axes)
    lo = np.minimum(w.min(axis=reduce, keepdims=True), 0).astype(np.float64)
    hi = np.maximum(w.max(axis=reduce, keepdims=True), 0).astype(np.float64)
    scale = (hi - lo) / levels
    scale[scale == 0] = 1.0  # an all-zero channel
    zp = np.clip(np.round(-lo / scale), 0, levels)
    q = np.clip(np.round(w / scale) + zp, 0, levels)
    return q.astype(np.uint8), zp.astype(np.uint8), scale.astype(np.float32)


def group_wise(node: Node, w: np.ndarray, axes: tuple[int, ...]) -> tuple[np.ndarray, tuple[int, ...]]:
    """A 2-D MatMul weight split into groups of GROUP_SIZE input channels, and the axes that
    keep their own scale: ``[O, I]`` (transpose_b) -> ``[O, I/G, G]`` with axes (0, 1);
    ``[I, O]`` -> ``[I/G, G, O]`` with axes (0, 2). Other weights come back unchanged."""
    if node.op != "MatMul" or w.ndim != 2:
        return w, axes
    inputs = w.shape[1] if node.attrs.get("transpose_b") else w.shape[0]
    if inputs <= GROUP_SIZE or inputs % GROUP_SIZE:
        return w, axes
    if node.attrs.get("transpose_b"):
        return w.reshape(w.shape[0], inputs // GROUP_SIZE, GROUP_SIZE), (0, 1)
    return w.reshape(inputs // GROUP_SIZE, GROUP_SIZE, w.shape[1]), (0, 2)


def pack_u4(q: np.ndarray) -> np.ndarray:
    """Two 4-bit values per byte, the first in the low nibble (OpenVINO's u4 layout)."""
    flat = q.reshape(-1)
    if flat.size % 2:
        flat = np.concatenate([flat, np.zeros(1, np.uint8)])
    return (flat[0::2] | (flat[1::2] << 4)).astype(np.uint8)


class PackedU4:
    """A u4 tensor: logical ``shape``, data stored packed (see :func:`pack_u4`)."""

    etype = "u4"

    def __init__(self, q: np.ndarray) -> None:
        self._q = q
        self._packed = pack_u4(q)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.uint8)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._q.shape)

    @property
    def size(self) -> int:  # bytes in the BIN
        return int(self._packed.size)

    @property
    def nbytes(self) -> int:
        return int(self._packed.size)

    def numpy(self) -> np.ndarray:
        return self._q

    def chunks(self, chunk_bytes: int = 1 << 24):
        view = memoryview(self._packed)
        for start in range(0, len(view), chunk_bytes):
            yield view[start:start + chunk_bytes]

    def digest(self) -> bytes:
        import hashlib
        return hashlib.blake2b(self._packed.tobytes(), digest_size=20).digest()


def _weight_const(node: Node) -> Value | None:
    if len(node.inputs) < 2:
        return None
    w = node.inputs[1]
    if w.producer is None or w.producer.op != "Const" or w.etype != "f32" or w.shape is None:
        return None
    if int(np.prod(w.shape)) < MIN_ELEMENTS:
        return None
    return w


def _const(graph: Graph, b: Builder, data, etype: str, name: str) -> Value:
    if etype == "u4":
        node = graph.add_node("Const", "opset1", (), [("u4", data.shape)],
                              {"element_type": "u4", "shape": list(data.shape)}, name=name)
        node.outputs[0].const = data
        return node.outputs[0]
    return b.const(data, name=name)


def run(graph: Graph, options: ConvertOptions) -> PassReport:
    mode = (options.compress_weights or "int8").lower()
    b = Builder(graph, fold=False)
    done: dict[Value, Value] = {}  # a weight shared by several ops is compressed once
    layers = before = after = groups = 0
    for node in list(graph.nodes):
        w = _weight_const(node)
        if w is None:
            continue
        axes = channel_axes(node, len(w.shape))
        if axes is None:
            continue
        if w in done:
            graph.set_input(node, 1, done[w])
            continue
        bits = 4 if mode == "int4" and node.op == "MatMul" else 8
        array = w.const.numpy().astype(np.float32)
        grouped, axes = group_wise(node, array, axes) if bits == 4 else (array, axes)
        q, zp, scale = quantize(grouped, axes, bits)
        etype = "u4" if bits == 4 else "u8"
        base = w.producer.name
        groups += grouped is not array
        qv = _const(graph, b, PackedU4(q) if bits == 4 else q, etype, base + "/quantized")
        zv = _const(graph, b, PackedU4(zp) if bits == 4 else zp, etype, base + "/zero_point")
        x = b.op("Convert", qv, destination_type="f32", name=base + "/decompress")
        z = b.op("Convert", zv, destination_type="f32", name=base + "/zero_point/decompress")
        x = b.op("Subtract", x, z, name=base + "/decompress/subtract")
        x = b.op("Multiply", x, b.const(scale, name=base + "/scale"), name=base + "/decompress/scale")
        if grouped is not array:
            x = b.op("Reshape", x, b.const(np.array(array.shape, np.int64), name=base + "/shape"),
                     special_zero=False, name=base + "/decompress/ungroup")
        done[w] = x
        graph.set_input(node, 1, x)
        log.info("compress_weights %s: %s %s weight as %s, %d scales", node.name, node.op, list(array.shape),
                 etype, scale.size)
        layers += 1
        before += array.nbytes
        after += (q.size * bits + 7) // 8 + (zp.size * bits + 7) // 8 + scale.nbytes
    if layers:
        graph.toposort()
    how = "per-output-channel scales"
    if groups:
        how += f" ({groups} group-wise: one scale per {GROUP_SIZE} inputs)"
    summary = (f"{layers} weights stored as {mode} with {how}: {_size(before)} -> {_size(after)}"
               if layers else "no Convolution/MatMul weights to compress")
    return PassReport(NAME, layers > 0, summary)


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 1024:.1f} KiB"
