"""Weight clustering: ``--cluster K``.

Rule: each Convolution/GroupConvolution/ConvolutionBackpropData/MatMul constant f32
weight is replaced by its 1-D k-means clustering with K centroids: every value becomes
the centroid nearest to it. Centroids start at the K evenly spaced quantiles of the
layer's values (deterministic, no random seed needed) and take Lloyd iterations until no
value changes cluster (at most MAX_ITERATIONS). A layer with at most K distinct values
is left as is.
The report gives the unique values per layer at --log_level info, and the BIN's zlib and
zstd sizes before -> after.
"""
from __future__ import annotations

import logging

import numpy as np

from mo.errors import OptionError
from mo.graph import Graph
from mo.options import ConvertOptions
from mo.tensor import ArrayTensor

from .base import PassReport
from .weight_stats import bin_sizes, weight_layers

log = logging.getLogger("mo.passes")

NAME = "cluster"
MAX_ITERATIONS = 30


def kmeans_1d(values: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(centroids ascending, index of each value's centroid) of 1-D k-means."""
    x = values.reshape(-1).astype(np.float64)
    centroids = np.unique(np.quantile(x, (np.arange(k) + 0.5) / k))
    labels = None
    for _ in range(MAX_ITERATIONS):
        bounds = (centroids[1:] + centroids[:-1]) / 2
        new = np.searchsorted(bounds, x)
        if labels is not None and np.array_equal(new, labels):
            break
        labels = new
        sums = np.bincount(labels, weights=x, minlength=len(centroids))
        counts = np.bincount(labels, minlength=len(centroids))
        keep = counts > 0
        centroids = np.sort(sums[keep] / counts[keep])
        if not keep.all():
            labels = None  # indexes shifted: recompute
    bounds = (centroids[1:] + centroids[:-1]) / 2
    return centroids, np.searchsorted(bounds, x)


def run(graph: Graph, options: ConvertOptions) -> PassReport:
    k = int(options.cluster or 0)
    if k < 2 or k > 65536:
        raise OptionError(f"--cluster {k}: give the number of centroids per layer, 2 to 65536")
    before = bin_sizes(graph)
    done = 0
    for name, w in weight_layers(graph):
        a = w.const.numpy().astype(np.float32)
        if np.unique(a).size <= k:
            continue
        centroids, labels = kmeans_1d(a, k)
        out = centroids.astype(np.float32)[labels].reshape(a.shape)
        w.const = ArrayTensor(out)
        done += 1
        log.info("cluster %s: %d unique values (was %d weights)", name, np.unique(out).size, a.size)
    after = bin_sizes(graph)
    graph.meta["cluster_sizes"] = (before, after)
    return PassReport(NAME, done > 0, f"{done} layers clustered to {k} values each; {after.ratio_line(before)}")
