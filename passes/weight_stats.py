"""Sizes of a graph's weights as the BIN would hold them: raw, zlib- and zstd-compressed.

What is measured: every Const's bytes in graph order, as one stream -- the bytes the emitter
writes to the BIN, without its deduplication of identical constants (so the saved BIN can be
a little smaller; bench/compression.py measures the saved files). zlib runs at level 6 and
zstd at level 3, their libraries' defaults; both stream, so a large model is never held
twice. prune and cluster report these sizes before -> after.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from mo.errors import OptionError
from mo.graph import Graph, Value

ZLIB_LEVEL = 6
ZSTD_LEVEL = 3


@dataclass(frozen=True, slots=True)
class Sizes:
    raw: int
    zlib: int
    zstd: int

    def ratio_line(self, before: "Sizes") -> str:
        return (f"BIN {_mib(before.raw)} -> {_mib(self.raw)}, zlib {_mib(before.zlib)} -> {_mib(self.zlib)} "
                f"({self.zlib / max(before.zlib, 1):.2f}x), zstd {_mib(before.zstd)} -> {_mib(self.zstd)} "
                f"({self.zstd / max(before.zstd, 1):.2f}x)")


def _mib(n: int) -> str:
    return f"{n / 2**20:.2f} MiB"


def bin_sizes(graph: Graph) -> Sizes:
    import zstandard

    z = zlib.compressobj(ZLIB_LEVEL)
    zs = zstandard.ZstdCompressor(level=ZSTD_LEVEL).compressobj()
    raw = zl = zd = 0
    for node in graph.nodes:
        if node.op != "Const" or node.outputs[0].const is None:
            continue
        for chunk in node.outputs[0].const.chunks():
            raw += len(chunk)
            zl += len(z.compress(chunk))
            zd += len(zs.compress(chunk))
    zl += len(z.flush())
    zd += len(zs.flush())
    return Sizes(raw, zl, zd)


WEIGHT_OPS = ("Convolution", "GroupConvolution", "ConvolutionBackpropData", "MatMul")


def weight_layers(graph: Graph, min_elements: int = 1) -> list[tuple[str, Value]]:
    """(layer name, constant f32 weight) of each Convolution/MatMul-like op, in graph order."""
    out, seen = [], set()
    for node in graph.nodes:
        if node.op not in WEIGHT_OPS or len(node.inputs) < 2:
            continue
        w = node.inputs[1]
        if w.producer is None or w.producer.op != "Const" or w.etype != "f32" or w.shape is None:
            continue
        if int(np.prod(w.shape)) < min_elements or id(w) in seen:
            continue
        seen.add(id(w))
        out.append((node.name, w))
    return out


def excluded(layers: list[tuple[str, Value]], exclude: list[str]) -> set[int]:
    """Indexes of ``layers`` that ``--prune_exclude`` names: first, last, or layer/weight names."""
    skip = set()
    for e in exclude:
        if e == "first" and layers:
            skip.add(0)
        elif e == "last" and layers:
            skip.add(len(layers) - 1)
        else:
            hit = {i for i, (name, w) in enumerate(layers) if e in (name, w.producer.name, *w.names)}
            if not hit:
                raise OptionError(f"--prune_exclude {e}: no Convolution/MatMul layer or weight of that name; "
                                  f"give first, last, or one of: {', '.join(n for n, _ in layers[:5])}"
                                  f"{', ...' if len(layers) > 5 else ''}")
            skip |= hit
    return skip
