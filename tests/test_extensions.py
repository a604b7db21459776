"""--extensions: a user's file registers a converter with the built-in decorator."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper
from click.testing import CliRunner

from mo.cli import cli

from .onnx.util import ov_infer

EXTENSION = '''
import numpy as np
from mo.frontends.onnx.context import onnx_ops

@onnx_ops.op("ScaledRelu", domain="com.example")
def scaled_relu(g, x, *, scale=1.0):
    return g.op("Multiply", g.op("Relu", x), g.const(np.float32(scale)))
'''


def _model(path: Path) -> None:
    node = helper.make_node("ScaledRelu", ["x"], ["y"], domain="com.example", scale=2.5, name="custom")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)])
    onnx.save(model, path)


def test_extension_converter_is_used(tmp_path: Path) -> None:
    _model(tmp_path / "custom.onnx")
    (tmp_path / "ext.py").write_text(EXTENSION)
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["convert", str(tmp_path / "custom.onnx"), "--output_dir", str(out),
                                   "--extensions", str(tmp_path / "ext.py")])
    assert res.exit_code == 0, res.output
    x = np.array([[-1, 0, 1], [2, -3, 4]], dtype=np.float32)
    got = ov_infer(out / "custom.xml", {"x": x})["y"]
    np.testing.assert_allclose(got, np.maximum(x, 0) * 2.5)


def test_without_extension_the_op_is_reported(tmp_path: Path) -> None:
    _model(tmp_path / "custom2.onnx")
    (tmp_path / "custom2.onnx").rename(tmp_path / "other.onnx")
    # a fresh op name so the registration of the other test does not apply
    m = onnx.load(tmp_path / "other.onnx")
    m.graph.node[0].op_type = "UnknownScaledRelu"
    onnx.save(m, tmp_path / "other.onnx")
    res = CliRunner().invoke(cli, ["convert", str(tmp_path / "other.onnx"), "--output_dir", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "com.example.UnknownScaledRelu x1" in res.output
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())
