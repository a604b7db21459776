"""--prune magnitude:R and --cluster K: exact sparsity / unique values per layer, the BIN's
compressed sizes in the report, and the effect on outputs in the OpenVINO runtime.

Bounds (digits MLP trained in the test, FP32 IR as reference): pruning 50 % keeps top-1
agreement >= 95 %; clustering to 16 values keeps it >= 97 %. On the sample CNN the zstd size of
the BIN drops to <= 0.65x (pruning 50 %) and <= 0.35x (clustering 16) of the FP32 BIN's.
"""
from __future__ import annotations

import numpy as np
import onnx
import pytest

import mo
from mo.errors import OptionError
from mo.passes.cluster import kmeans_1d
from mo.passes.prune import prune_array

from ..runtime import ov_infer
from .compression_models import SAMPLE_CNN, digits_mlp


def _save(model, tmp_path):
    p = tmp_path / "m.onnx"
    onnx.save(model, p)
    return p


def _weights(graph):
    return [n.inputs[1].const.numpy() for n in graph.nodes
            if n.op in ("Convolution", "MatMul") and n.inputs[1].producer.op == "Const"]


def test_prune_array_exact_rate_and_ties():
    w = np.array([[3.0, -1.0, 1.0, 0.5], [2.0, -0.5, 4.0, 1.0]], np.float32)
    out = prune_array(w, 0.5)
    assert np.count_nonzero(out == 0) == 4
    # the two 0.5s and the first two 1.0s in memory order go (|-1.0| at index 1 before 1.0 at index 2)
    assert out.tolist() == [[3.0, 0.0, 0.0, 0.0], [2.0, 0.0, 4.0, 1.0]]


def test_kmeans_1d_recovers_clusters():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(c, 0.01, 500) for c in (-2.0, 0.0, 1.0, 5.0)])
    centroids, labels = kmeans_1d(x, 4)
    np.testing.assert_allclose(centroids, [-2.0, 0.0, 1.0, 5.0], atol=0.01)
    assert np.bincount(labels).tolist() == [500, 500, 500, 500]


def test_prune_graph_sparsity_exclude_and_report(tmp_path):
    model, x, _ = digits_mlp()
    path = _save(model, tmp_path)
    graph = mo.convert(path, prune="magnitude:0.5", prune_exclude="last")
    ws = _weights(graph)
    assert [round(float(np.mean(w == 0)), 2) for w in ws] == [0.5, 0.5, 0.0]
    report = next(str(r) for r in graph.meta["reports"] if str(r).startswith("prune:"))
    assert "2 layers pruned to 50% sparsity (1 kept dense)" in report and "zstd" in report
    xml = tmp_path / "ir" / "m.xml"
    mo.save(graph, xml)
    ref = ov_infer(mo.save(mo.convert(path), tmp_path / "fp" / "m.xml").xml, {"x": x})["logits"]
    got = ov_infer(xml, {"x": x})["logits"]
    assert (got.argmax(1) == ref.argmax(1)).mean() >= 0.95


def test_cluster_graph_unique_values_and_accuracy(tmp_path):
    model, x, _ = digits_mlp()
    path = _save(model, tmp_path)
    graph = mo.convert(path, cluster=16)
    assert [np.unique(w).size for w in _weights(graph)] == [16, 16, 16]
    xml = mo.save(graph, tmp_path / "ir" / "m.xml").xml
    ref = ov_infer(mo.save(mo.convert(path), tmp_path / "fp" / "m.xml").xml, {"x": x})["logits"]
    got = ov_infer(xml, {"x": x})["logits"]
    assert (got.argmax(1) == ref.argmax(1)).mean() >= 0.97


def test_compressed_bin_sizes_on_the_cnn(tmp_path):
    import zstandard

    def zsize(xml):
        return len(zstandard.ZstdCompressor(level=3).compress(xml.with_suffix(".bin").read_bytes()))

    fp32 = mo.save(mo.convert(SAMPLE_CNN), tmp_path / "a" / "m.xml").xml
    pruned = mo.save(mo.convert(SAMPLE_CNN, prune="magnitude:0.5"), tmp_path / "b" / "m.xml").xml
    clustered = mo.save(mo.convert(SAMPLE_CNN, cluster=16), tmp_path / "c" / "m.xml").xml
    assert zsize(pruned) <= 0.65 * zsize(fp32)
    assert zsize(clustered) <= 0.35 * zsize(fp32)


@pytest.mark.parametrize("options, message", [
    (dict(prune="magnitude:1.5"), "the rate must be in"),
    (dict(prune="random:0.5"), "write magnitude:RATE"),
    (dict(cluster=1), "2 to 65536"),
])
def test_bad_options(options, message):
    with pytest.raises(OptionError, match=message):
        mo.convert(SAMPLE_CNN, **options)
