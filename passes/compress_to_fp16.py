"""FP16 weight compression, in the form the OpenVINO runtime expects.

Rule: ``Const(f32 W)`` feeding float math  ->  ``Const(f16 W)`` -> ``Convert(f32)``
marked with rt_info ``decompression``. Parameters, activations and Results stay f32.

A constant stays f32 (and is counted in the report) when f16 cannot hold it:
* overflow: any finite value with |x| > 65504, the largest f16 (it would become inf);
* underflow: at least 75 % of its non-zero values round to 0 in f16 (|x| <= 2^-25, half the
  smallest f16 subnormal), e.g. an epsilon of 1e-12; the 75 % threshold is the one OpenVINO's
  own FP16 compression uses. A weight with a few tiny values among normal ones is compressed.
Constants other passes already stored in another type (u8/u4 weights, f16 scales) are not
touched.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mo.graph import Graph
from mo.tensor import LazyTensor, Tensor

from .base import PassReport

F16_MAX = 65504.0
UNDERFLOW_KEEP_FRACTION = 0.75


@dataclass(slots=True)
class F16Range:
    """What an f32 tensor would lose in f16: its largest finite |x|, and how many of its
    non-zero values would round to 0."""
    max_abs: float = 0.0
    nonzero: int = 0
    to_zero: int = 0

    @property
    def overflows(self) -> bool:
        return self.max_abs > F16_MAX

    @property
    def underflows(self) -> bool:
        return self.to_zero > 0 and self.to_zero >= UNDERFLOW_KEEP_FRACTION * self.nonzero


def f16_range(t: Tensor) -> F16Range:
    """Scan an f32 tensor chunk by chunk.

    Streaming keeps the check at one chunk of memory: a memory-mapped 1 GB weight is
    read with plain reads instead of being mapped and copied whole.
    """
    r = F16Range()
    for chunk in t.chunks():
        a = np.frombuffer(chunk, dtype="<f4")
        finite = np.abs(a[np.isfinite(a)])
        if finite.size:
            r.max_abs = max(r.max_abs, float(finite.max()))
        nz = finite[finite != 0]
        r.nonzero += int(nz.size) + int(a.size - finite.size)
        with np.errstate(over="ignore"):
            r.to_zero += int(np.count_nonzero(nz.astype(np.float16) == 0))
    return r


def max_abs_finite(t: Tensor) -> float:
    """Largest |x| over the finite elements of an f32 tensor, read chunk by chunk."""
    return f16_range(t).max_abs


def run(graph: Graph) -> PassReport:
    compressed = overflow = underflow = 0
    for node in list(graph.nodes):
        if node.op != "Const" or node.attrs.get("element_type") != "f32":
            continue
        v = node.outputs[0]
        if not v.uses:
            continue
        t = v.const
        r = f16_range(t)
        if r.overflows:
            overflow += 1
            continue
        if r.underflows:
            underflow += 1
            continue
        half = LazyTensor.cast(t, np.float16)
        c = graph.add_node("Const", "opset1", (), [("f16", v.shape)], {"element_type": "f16", "shape": list(v.shape)},
                           name=node.name + "/compressed", meta=dict(node.meta))
        c.outputs[0].const = half
        cv = graph.add_node("Convert", "opset1", (c.outputs[0],), [("f32", v.shape)], {"destination_type": "f32"},
                            name=node.name + "/decompress", meta=dict(node.meta))
        cv.rt_info["decompression"] = ""
        graph.replace_all_uses_with(v, cv.outputs[0])
        compressed += 1
    if compressed:
        graph.toposort()
    kept = overflow + underflow
    return PassReport("compress_to_fp16", compressed > 0,
                      f"{compressed} constants stored as f16, {kept} kept in f32 "
                      f"({overflow} beyond f16's range 65504, {underflow} mostly below its smallest subnormal)")
