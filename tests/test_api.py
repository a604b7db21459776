"""The Python API: mo.convert(path, **options) -> Graph, mo.save(graph, xml)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import mo
from mo.errors import InputError, MoError, OptionError, UnsupportedOpsError, ValidationError
from mo.options import ConvertOptions, parse_inputs, parse_shapes

from .onnx.util import ort_infer, ov_infer

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "sample_cnn.onnx"


def test_convert_and_save(tmp_path: Path) -> None:
    g = mo.convert(SAMPLE)
    assert isinstance(g, mo.Graph) and g.name == "sample_cnn"
    g.check()
    assert [v.name for v in g.inputs] == ["input"] and g.outputs[0].names[-1] == "probabilities"
    assert "%probabilities: f32[1,10] = SoftMax(" in str(g)
    saved = mo.save(g, tmp_path / "deep" / "er" / "m.xml")       # folders are created
    assert saved.xml.exists() and saved.bin.stat().st_size == saved.bin_bytes
    x = np.random.default_rng(0).standard_normal((1, 3, 64, 64)).astype(np.float32)
    np.testing.assert_allclose(ov_infer(saved.xml, {"input": x})["probabilities"],
                               ort_infer(SAMPLE, {"input": x})["probabilities"], rtol=1e-4, atol=1e-6)


def test_options_as_python_values() -> None:
    g = mo.convert(SAMPLE, input_shape=[(-1, 3, 64, 64)], outputs=["r2"], model_name="cut")
    assert g.name == "cut" and g.inputs[0].shape == (-1, 3, 64, 64)
    assert g.outputs[0].shape == (-1, 32, 32, 32)
    g = mo.convert(str(SAMPLE), input="p1[1,16,32,32]", output="r2")
    assert [v.name for v in g.inputs] == ["p1"]
    g16 = mo.convert(SAMPLE, compress_to_fp16=True)
    assert "Convert" in g16.op_counts()


def test_option_errors() -> None:
    with pytest.raises(OptionError, match="unknown option 'colour'"):
        mo.convert(SAMPLE, colour="red")
    with pytest.raises(OptionError, match="--data_type must be FP32 or FP16"):
        mo.convert(SAMPLE, data_type="INT3")
    with pytest.raises(InputError, match="file not found"):
        mo.convert("/nonexistent/model.onnx")


def test_error_classes_and_exit_codes() -> None:
    assert issubclass(InputError, MoError) and InputError.exit_code == 2
    assert ValidationError.exit_code == 1
    e = UnsupportedOpsError("m.onnx", "ONNX", {"A": 1, "B": 3}, {"B": "b0"})
    assert str(e) == ("m.onnx: 2 unsupported ONNX op type(s): B x3 (e.g. node 'b0'), A x1; "
                      "add a converter with --extensions")
    assert e.missing == {"A": 1, "B": 3}


def test_option_parsing() -> None:
    assert parse_shapes("[1,3,224,224],[?,10]") == [(1, 3, 224, 224), (-1, 10)]
    assert parse_shapes("(1 3 8 8)") == [(1, 3, 8, 8)]
    a, b = parse_inputs("data[1,3,8,8]{f16},mask{bool}->[1]")
    assert (a.name, a.shape, a.etype, a.value) == ("data", (1, 3, 8, 8), "f16", None)
    assert (b.name, b.shape, b.etype, b.value) == ("mask", None, "boolean", (1.0,))
    (c,) = parse_inputs("x[2,2]->[0.5]")
    assert c.value == (0.5,) * 4                     # one value fills the shape
    with pytest.raises(OptionError, match="3 value"):
        parse_inputs("x[2,2]->[1,2,3]")
    with pytest.raises(OptionError, match="unknown element type"):
        parse_inputs("x{complex}")
    opts = ConvertOptions.from_kwargs("m.onnx", data_type="half")
    assert opts.fp16 and opts.data_type == "FP16"
    assert not ConvertOptions.from_kwargs("m.onnx", data_type="FP16", compress_to_fp16="false").fp16


def test_input_value_accepts_true_and_false() -> None:
    from mo.options import parse_inputs

    specs = parse_inputs("training->False,flag{boolean}->true,x[2]->[1.5,-2]")
    assert [s.value for s in specs] == [(0.0,), (1.0,), (1.5, -2.0)]
    assert specs[1].etype == "boolean"
