"""--cluster K: exact unique values per layer, k-means itself, the BIN's compressed size, and the
effect on outputs in the OpenVINO runtime (f32 hint, FP32 IR of the same model as reference).

Bounds: digits MLP (trained in the test) clustered to 16 values keeps top-1 agreement >= 97 %;
the zstd size (level 3) of the saved BIN drops to <= 0.35x of the FP32 BIN's zstd size on the
sample CNN and on ResNet50 (slow; measured 0.21x there).
"""
from __future__ import annotations

import numpy as np
import onnx
import pytest

import mo
from mo.errors import OptionError
from mo.passes.cluster import kmeans_1d

from ..runtime import ov_infer
from .compression_models import SAMPLE_CNN, digits_mlp, resnet50_fp32, resnet50_output, resnet50_pb, zstd_size


def _save(model, tmp_path):
    p = tmp_path / "m.onnx"
    onnx.save(model, p)
    return p


def _weights(graph):
    return [n.inputs[1].const.numpy() for n in graph.nodes
            if n.op in ("Convolution", "MatMul") and n.inputs[1].producer.op == "Const"]


def test_kmeans_1d_recovers_clusters():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(c, 0.01, 500) for c in (-2.0, 0.0, 1.0, 5.0)])
    centroids, labels = kmeans_1d(x, 4)
    np.testing.assert_allclose(centroids, [-2.0, 0.0, 1.0, 5.0], atol=0.01)
    assert np.bincount(labels).tolist() == [500, 500, 500, 500]


def test_kmeans_1d_is_a_lloyd_fixed_point():
    """Each centroid is the mean of its values and each value sits at its nearest centroid."""
    x = np.random.default_rng(3).standard_normal(20_000)
    centroids, labels = kmeans_1d(x, 16)
    assert len(centroids) == 16 and np.all(np.diff(centroids) > 0)
    np.testing.assert_allclose([x[labels == j].mean() for j in range(16)], centroids, rtol=1e-9)
    nearest = np.abs(x[:, None] - centroids[None, :]).argmin(1)
    assert np.array_equal(nearest, labels)
    again = kmeans_1d(x, 16)
    assert np.array_equal(again[0], centroids)  # deterministic


def test_cluster_graph_unique_values_and_accuracy(tmp_path):
    model, x, _ = digits_mlp()
    path = _save(model, tmp_path)
    graph = mo.convert(path, cluster=16)
    assert [np.unique(w).size for w in _weights(graph)] == [16, 16, 16]
    assert [u for _, u in graph.meta["cluster_layers"]] == [16, 16, 16]
    report = next(str(r) for r in graph.meta["reports"] if r.name == "cluster")
    assert report.startswith("cluster: 3 layers clustered to at most 16 unique values each") and "zstd" in report
    xml = mo.save(graph, tmp_path / "ir" / "m.xml").xml
    ref = ov_infer(mo.save(mo.convert(path), tmp_path / "fp" / "m.xml").xml, {"x": x})["logits"]
    got = ov_infer(xml, {"x": x})["logits"]
    assert (got.argmax(1) == ref.argmax(1)).mean() >= 0.97


def test_cluster_must_not_fire_on_few_values(tmp_path):
    model, _, _ = digits_mlp()
    graph = mo.convert(_save(model, tmp_path), cluster=65536)  # more centroids than weights
    report = next(r for r in graph.meta["reports"] if r.name == "cluster")
    assert not report.changed and "0 layers clustered" in report.summary and "(3 already had <= 65536)" in report.summary


def test_clustered_bin_zstd_on_the_cnn(tmp_path):
    fp32 = mo.save(mo.convert(SAMPLE_CNN), tmp_path / "a" / "m.xml").xml
    clustered = mo.save(mo.convert(SAMPLE_CNN, cluster=16), tmp_path / "c" / "m.xml").xml
    assert zstd_size(clustered.with_suffix(".bin")) <= 0.35 * zstd_size(fp32.with_suffix(".bin"))


def test_bad_cluster_option():
    with pytest.raises(OptionError, match="2 to 65536"):
        mo.convert(SAMPLE_CNN, cluster=1)


@pytest.mark.slow
def test_resnet50_cluster_16(tmp_path_factory):
    folder = tmp_path_factory.getbasetemp() / "resnet50"
    folder.mkdir(exist_ok=True)
    fp32, x, ref = resnet50_fp32(folder)
    graph = mo.convert(resnet50_pb(folder), cluster=16)
    layers = graph.meta["cluster_layers"]
    assert len(layers) == 54 and all(u <= 16 for _, u in layers)
    xml = mo.save(graph, folder / "cluster16" / "model.xml").xml
    ratio = zstd_size(xml.with_suffix(".bin")) / zstd_size(fp32.with_suffix(".bin"))
    dev = float(np.abs(resnet50_output(xml, x) - ref).max() / np.ptp(ref))
    print(f"\nResNet50 cluster 16: zstd {ratio:.3f}x of FP32's, output deviation {dev:.3g} x range")
    assert ratio <= 0.35
