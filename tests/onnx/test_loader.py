"""The ONNX loader: embedded weights of large files are mapped from the file, external data too."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import mo
from mo.errors import InputError
from mo.frontends.onnx.wire import strip_initializer_data
from mo.tensor import MappedTensor

from .util import convert_to_ir, ort_infer, ov_infer, run_onnx_vs_ir


def _mlp(tmp_path: Path) -> onnx.ModelProto:
    rng = np.random.default_rng(5)
    w1 = rng.standard_normal((256, 1024)).astype(np.float32)      # 1 MiB: raw_data
    w2 = rng.standard_normal((1024, 8)).astype(np.float32)
    b2 = helper.make_tensor("b2", TensorProto.FLOAT, [8], rng.standard_normal(8).tolist())   # float_data field
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h"]), helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("MatMul", ["r", "w2"], ["m"]), helper.make_node("Add", ["m", "b2"], ["y"])]
    g = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 256])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 8])],
                          [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2"), b2])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def test_embedded_weights_of_a_large_file_are_mapped(tmp_path: Path) -> None:
    model = _mlp(tmp_path)
    path = tmp_path / "mlp.onnx"
    onnx.save(model, path)
    stripped, spans = strip_initializer_data(str(path))
    assert len(stripped) < 100_000 < path.stat().st_size
    assert spans[0] is not None and spans[0][1] == 256 * 1024 * 4 and spans[2] is None
    graph = mo.convert(path)
    w1 = next(n for n in graph.nodes if n.op == "Const" and "w1" in n.outputs[0].names).outputs[0].const
    assert isinstance(w1, MappedTensor)
    np.testing.assert_array_equal(w1.numpy(), numpy_helper.to_array(model.graph.initializer[0]))
    x = np.random.default_rng(1).standard_normal((2, 256)).astype(np.float32)
    run_onnx_vs_ir(model, {"x": x}, tmp_path, rtol=1e-4, atol=1e-4)


def test_external_data_is_mapped(tmp_path: Path) -> None:
    model = _mlp(tmp_path)
    path = tmp_path / "ext.onnx"
    onnx.save(model, path, save_as_external_data=True, location="ext.data", size_threshold=1024)
    graph = mo.convert(path)
    consts = [n.outputs[0].const for n in graph.nodes if n.op == "Const" and n.outputs[0].names[:1] in (["w1"], ["w2"])]
    assert len(consts) == 2 and all(isinstance(c, MappedTensor) for c in consts)
    x = np.random.default_rng(2).standard_normal((2, 256)).astype(np.float32)
    xml = convert_to_ir(path, tmp_path)
    np.testing.assert_allclose(ov_infer(xml, {"x": x})["y"], ort_infer(path, {"x": x})["y"], rtol=1e-4, atol=1e-4)


def test_truncated_large_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "mlp.onnx"
    onnx.save(_mlp(tmp_path), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(InputError, match="truncated"):
        mo.convert(path)
