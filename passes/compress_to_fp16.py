"""FP16 weight compression, in the form the OpenVINO runtime expects.

Rule: ``Const(f32 W)`` feeding float math  ->  ``Const(f16 W)`` -> ``Convert(f32)``
marked with rt_info ``decompression``. Parameters, activations and Results stay f32.
Constants whose values would overflow f16 (|x| > 65504) are kept in f32 and counted.
"""
from __future__ import annotations

import numpy as np

from mo.graph import Graph
from mo.tensor import LazyTensor, Tensor

from .base import PassReport

F16_MAX = 65504.0


def max_abs_finite(t: Tensor) -> float:
    """Largest |x| over the finite elements of an f32 tensor, read chunk by chunk.

    Streaming keeps the check at one chunk of memory: a memory-mapped 1 GB weight is
    read with plain reads instead of being mapped and copied whole.
    """
    best = 0.0
    for chunk in t.chunks():
        a = np.frombuffer(chunk, dtype="<f4")
        a = np.abs(a[np.isfinite(a)])
        if a.size:
            best = max(best, float(a.max()))
    return best


def run(graph: Graph) -> PassReport:
    compressed = kept = 0
    for node in list(graph.nodes):
        if node.op != "Const" or node.attrs.get("element_type") != "f32":
            continue
        v = node.outputs[0]
        if not v.uses:
            continue
        t = v.const
        if max_abs_finite(t) > F16_MAX:
            kept += 1
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
    return PassReport("compress_to_fp16", compressed > 0,
                      f"{compressed} constants stored as f16, {kept} kept in f32 (out of f16 range)")
