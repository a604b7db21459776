"""Magnitude pruning: ``--prune magnitude:R`` (0 <= R < 1).

Rule: in each Convolution/GroupConvolution/ConvolutionBackpropData/MatMul constant f32
weight, the ``floor(R * n)`` values of smallest magnitude become exactly 0 (the same rate
in every layer; among equal magnitudes the earlier element in memory order goes first, so
the result is deterministic). Layers named by ``--prune_exclude`` (``first``, ``last``,
layer or weight names) stay dense. The shapes and ops do not change: the gain is in how
well the BIN compresses, which the report gives (zlib and zstd, before -> after) with
each layer's sparsity at --log_level info.
"""
from __future__ import annotations

import logging

import numpy as np

from mo.errors import OptionError
from mo.graph import Graph
from mo.options import ConvertOptions
from mo.tensor import ArrayTensor

from .base import PassReport
from .weight_stats import bin_sizes, excluded, weight_layers

log = logging.getLogger("mo.passes")

NAME = "prune"


def parse_rate(text: str) -> float:
    method, _, rate = str(text).partition(":")
    if method.strip().lower() != "magnitude" or not rate:
        raise OptionError(f"--prune {text!r}: write magnitude:RATE, e.g. magnitude:0.5")
    try:
        r = float(rate)
    except ValueError:
        raise OptionError(f"--prune {text!r}: the rate must be a number in [0, 1)") from None
    if not 0 <= r < 1:
        raise OptionError(f"--prune {text!r}: the rate must be in [0, 1)")
    return r


def prune_array(w: np.ndarray, rate: float) -> np.ndarray:
    """``w`` with its ``floor(rate * w.size)`` smallest-magnitude values set to 0."""
    k = int(np.floor(rate * w.size))
    flat = w.reshape(-1).copy()
    if k:
        order = np.argsort(np.abs(flat), kind="stable")  # ties: memory order
        flat[order[:k]] = 0
    return flat.reshape(w.shape)


def run(graph: Graph, options: ConvertOptions) -> PassReport:
    rate = parse_rate(options.prune or "")
    layers = weight_layers(graph)
    skip = excluded(layers, options.prune_exclude)
    before = bin_sizes(graph)
    pruned = 0
    per_layer: list[tuple[str, float]] = []
    for i, (name, w) in enumerate(layers):
        if i in skip:
            sparsity = float(np.mean(w.const.numpy() == 0))
            log.info("prune %s: kept dense (--prune_exclude), sparsity %.1f%%", name, 100 * sparsity)
        else:
            out = prune_array(w.const.numpy().astype(np.float32), rate)
            w.const = ArrayTensor(out)
            pruned += 1
            sparsity = float(np.mean(out == 0))
            log.info("prune %s: sparsity %.1f%% of %d weights", name, 100 * sparsity, out.size)
        per_layer.append((name, sparsity))
    after = bin_sizes(graph)
    graph.meta["prune_sizes"] = (before, after)
    graph.meta["prune_layers"] = per_layer
    return PassReport(NAME, pruned > 0, f"{pruned} layers pruned to {rate:.0%} sparsity "
                                        f"({len(skip)} kept dense); {after.ratio_line(before)}")
