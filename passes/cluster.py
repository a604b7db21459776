"""Weight clustering: ``--cluster K``.

Rule: each Convolution/GroupConvolution/ConvolutionBackpropData/MatMul constant f32
weight is replaced by its 1-D k-means clustering with K centroids: every value becomes
the centroid nearest to it (ties go to the lower centroid). Centroids start at the K
evenly spaced quantiles ``(i + 0.5) / K`` of the layer's values (deterministic: no random
seed involved) and take Lloyd iterations until no value changes cluster (at most
MAX_ITERATIONS; a normal layer needs a few hundred); a centroid left without values is
dropped. A layer with at most K distinct values is left as is.

Speed: the values are sorted once; after that a Lloyd iteration is K binary searches and
K prefix-sum differences, so ResNet50's 25M weights cluster in a few seconds.

The weights stay f32 in the BIN, in the ops they were in (OpenVINO runs the IR as
before); the gain is in how well the BIN compresses: 16 distinct 4-byte patterns per
layer. The report gives the unique values per layer at --log_level info, and the BIN's
zlib and zstd sizes before -> after (see weight_stats).
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
MAX_ITERATIONS = 5000


def kmeans_1d(values: np.ndarray, k: int, sorted_values: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(centroids ascending, index of each value's centroid) of 1-D k-means; ``sorted_values``
    is ``np.sort(values.ravel())`` when the caller has it already."""
    x = values.reshape(-1).astype(np.float64)
    xs = np.sort(x) if sorted_values is None else sorted_values.astype(np.float64)
    n = xs.size
    prefix = np.concatenate([[0.0], np.cumsum(xs)])
    centroids = np.unique(xs[((np.arange(k) + 0.5) / k * n).astype(np.int64)])
    edges = None
    for _ in range(MAX_ITERATIONS):
        bounds = (centroids[1:] + centroids[:-1]) / 2
        # cluster j holds the sorted values in [edges[j], edges[j+1]): bounds[j-1] < x <= bounds[j]
        new = np.concatenate([[0], np.searchsorted(xs, bounds, side="right"), [n]])
        if edges is not None and np.array_equal(new, edges):
            break
        edges = new
        counts = np.diff(edges)
        keep = counts > 0
        centroids = (prefix[edges[1:]] - prefix[edges[:-1]])[keep] / counts[keep]
        if not keep.all():
            edges = None  # a cluster vanished: the next edges are not comparable
    bounds = (centroids[1:] + centroids[:-1]) / 2
    return centroids, np.searchsorted(bounds, x)


def run(graph: Graph, options: ConvertOptions) -> PassReport:
    k = int(options.cluster or 0)
    if k < 2 or k > 65536:
        raise OptionError(f"--cluster {k}: give the number of centroids per layer, 2 to 65536")
    before = bin_sizes(graph)
    done = unchanged = 0
    per_layer: list[tuple[str, int]] = []
    for name, w in weight_layers(graph):
        a = w.const.numpy().astype(np.float32)
        xs = np.sort(a.reshape(-1))
        distinct = int(np.count_nonzero(np.diff(xs))) + 1 if xs.size else 0
        if distinct <= k:
            unchanged += 1
            per_layer.append((name, distinct))
            log.info("cluster %s: already %d unique values, left as is", name, distinct)
            continue
        centroids, labels = kmeans_1d(a, k, xs)
        codebook = centroids.astype(np.float32)
        out = codebook[labels].reshape(a.shape)
        w.const = ArrayTensor(out)
        done += 1
        unique = int(np.unique(codebook).size)
        per_layer.append((name, unique))
        log.info("cluster %s: %d weights, %d unique values -> %d", name, a.size, distinct, unique)
    after = bin_sizes(graph)
    graph.meta["cluster_sizes"] = (before, after)
    graph.meta["cluster_layers"] = per_layer
    return PassReport(NAME, done > 0, f"{done} layers clustered to at most {k} unique values each "
                                      f"({unchanged} already had <= {k}); {after.ratio_line(before)}")
