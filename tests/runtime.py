"""Running an IR in the OpenVINO runtime, for every test package."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def ov_infer(xml: str | Path, feeds: dict[str, np.ndarray], precision: str = "f32") -> dict[str, np.ndarray]:
    """Run an IR on the CPU (f32 unless told) and return outputs by every tensor name they carry."""
    import openvino as ov

    core = ov.Core()
    compiled = core.compile_model(core.read_model(str(xml)), "CPU", {"INFERENCE_PRECISION_HINT": precision})
    inputs = {}
    for port in compiled.inputs:
        names = port.get_names()
        match = [n for n in names if n in feeds]
        assert match, f"IR input {names} has no feed"
        inputs[port] = feeds[match[0]]
    res = compiled(inputs)
    out = {}
    for port in compiled.outputs:
        for n in port.get_names():
            out[n] = np.asarray(res[port])
    return out
