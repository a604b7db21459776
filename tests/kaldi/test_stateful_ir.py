"""ReadValue/Assign (opset6) through the graph, dead-code elimination and the emitter: an Assign is a
sink (no Result reads it) and must survive; the IR keeps the state across inferences in OpenVINO.

Graph: acc = ReadValue(zeros, "acc") + x;  Assign(acc, "acc");  Result(acc * 2)
After inferences with x = 1, 2, 3 the outputs are 2, 6, 12 (state 1, 3, 6); after reset_state 2 again.
"""
from __future__ import annotations

import numpy as np
import openvino as ov
from lxml import etree

import mo
from mo.graph import Graph
from mo.ir.builder import Builder
from mo.passes import eliminate_dead_code


def test_assign_is_kept_and_the_state_persists(tmp_path):
    g = Graph("acc")
    b = Builder(g, fold=False)
    x = b.parameter("x", "f32", (1, 2))
    acc = b.op("Add", b.op("ReadValue", b.const(np.zeros((1, 2), np.float32)), variable_id="acc", name="acc/read"), x)
    b.op_outputs("Assign", acc, variable_id="acc", name="acc/write")
    dead = b.op("Relu", x, name="dead")  # read by nothing: removed
    b.result(b.op("Multiply", acc, b.const(np.float32(2))), "y")
    assert dead.producer in g.nodes
    report = eliminate_dead_code.run(g)
    g.check()
    assert "1 nodes removed" in report.summary
    assert [n.op for n in g.nodes].count("Assign") == 1
    xml = mo.save(g, tmp_path / "acc.xml").xml
    layers = etree.parse(str(xml)).findall(".//layer")
    assign = [lay for lay in layers if lay.get("type") == "Assign"]
    assert len(assign) == 1 and assign[0].get("version") == "opset6"
    assert assign[0].find("data").get("variable_id") == "acc"
    core = ov.Core()
    compiled = core.compile_model(core.read_model(str(xml)), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    req = compiled.create_infer_request()
    got = [np.asarray(req.infer({"x": np.full((1, 2), v, np.float32)})[compiled.output(0)]).copy()
           for v in (1, 2, 3)]
    np.testing.assert_array_equal(np.concatenate(got)[:, 0], [2, 6, 12])
    req.reset_state()
    np.testing.assert_array_equal(req.infer({"x": np.ones((1, 2), np.float32)})[compiled.output(0)], [[2, 2]])
