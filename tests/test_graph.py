"""The common graph: building with the Builder, edits, toposort, check() and the text printer."""
from __future__ import annotations

import numpy as np
import pytest

from mo.graph import Graph, GraphError, Node, Value
from mo.ir.builder import Builder


def small_graph() -> tuple[Graph, dict[str, Value]]:
    """x -> Convolution(w) -> Multiply(s) -> Relu -> Result 'y'."""
    g = Graph("small")
    b = Builder(g, fold=False)
    x = b.parameter("x", "f32", (1, 3, 8, 8))
    w = b.const(np.ones((4, 3, 3, 3), np.float32), name="w")
    conv = b.op("Convolution", x, w, strides=[1, 1], pads_begin=[1, 1], pads_end=[1, 1], dilations=[1, 1],
                name="conv")
    s = b.const(np.float32(2.0), name="s")
    mul = b.op("Multiply", conv, s, name="mul")
    relu = b.op("Relu", mul, name="relu")
    b.result(relu, "y")
    return g, {"x": x, "w": w, "conv": conv, "s": s, "mul": mul, "relu": relu}


GOLDEN_TEXT = """\
%x: f32[1,3,8,8] = Parameter() {element_type=f32, shape=[1,3,8,8]}
%w:0: f32[4,3,3,3] = Const() {element_type=f32, shape=[4,3,3,3]}
%conv:0: f32[1,4,8,8] = Convolution(%x, %w:0) {strides=[1,1], dilations=[1,1], pads_begin=[1,1], pads_end=[1,1], auto_pad=explicit}
%s:0: f32[] = Const() [2.] {element_type=f32, shape=[]}
%mul:0: f32[1,4,8,8] = Multiply(%conv:0, %s:0) {auto_broadcast=numpy}
%y: f32[1,4,8,8] = Relu(%mul:0)
() = Result(%y)"""


# ----------------------------------------------------------------------------- building
def test_builder_builds_a_consistent_graph() -> None:
    g, v = small_graph()
    g.check()
    assert [n.op for n in g.nodes] == ["Parameter", "Const", "Convolution", "Const", "Multiply", "Relu", "Result"]
    assert g.op_counts() == {"Const": 2, "Convolution": 1, "Multiply": 1, "Parameter": 1, "Relu": 1, "Result": 1}
    assert g.inputs == [v["x"]] and g.outputs == [v["relu"]]
    assert v["conv"].shape == (1, 4, 8, 8) and v["conv"].etype == "f32"
    assert v["relu"].names == ["y"]            # Builder.result names the output tensor
    conv = v["conv"].producer
    assert conv is not None and conv.inputs == (v["x"], v["w"]) and conv.attrs["auto_pad"] == "explicit"
    assert list(v["x"].uses) == [(conv, 0)] and v["x"].users() == [conv]
    assert g.find("conv") is conv and g.find("nope") is None


def test_builder_folds_constant_inputs_eagerly() -> None:
    g = Graph("fold")
    b = Builder(g)
    y = b.op("Add", b.const(np.array([1, 2], np.int64)), b.const(np.array([10, 20], np.int64)))
    assert y.const is not None and y.const_value().tolist() == [11, 22]
    assert "Add" not in g.op_counts()


def test_unique_names_and_single_output_access() -> None:
    g = Graph()
    b = Builder(g, fold=False)
    x = b.parameter("x", "f32", (2,))
    a = b.op("Relu", x, name="act")
    c = b.op("Relu", a, name="act")
    assert a.producer.name == "act" and c.producer.name == "act/1"
    two = g.add_node("Split", "opset1", (x, b.const(np.int64(0))), [("f32", (1,)), ("f32", (1,))], {"num_splits": 2})
    with pytest.raises(GraphError, match="has 2 outputs, not one"):
        _ = two.output
    with pytest.raises(GraphError, match="not a Value"):
        g.add_node("Relu", "opset1", (np.zeros(2),), [("f32", (2,))])  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- edits
def test_replace_all_uses_with_moves_uses_and_names() -> None:
    g, v = small_graph()
    mul, relu = v["mul"].producer, v["relu"].producer
    # bypass the Multiply: Relu reads the convolution directly
    g.replace_all_uses_with(v["mul"], v["conv"])
    assert relu.inputs == (v["conv"],)
    assert not v["mul"].uses
    assert (relu, 0) in v["conv"].uses and (mul, 0) in v["conv"].uses
    g.remove(mul)
    g.check()
    assert "Multiply" not in g.op_counts()
    # names move along unless asked not to
    relu_out = v["relu"]
    new = g.add_node("Sigmoid", "opset1", (v["conv"],), [("f32", (1, 4, 8, 8))], name="sig").output
    g.replace_all_uses_with(relu_out, new)
    assert new.names == ["y"] and relu_out.names == []
    assert g.results[0].inputs[0] is new
    other = g.add_node("Tanh", "opset1", (v["conv"],), [("f32", (1, 4, 8, 8))], name="tanh").output
    g.replace_all_uses_with(new, other, keep_names=False)
    assert other.names == [] and new.names == ["y"]
    g.replace_all_uses_with(other, other)          # no-op
    assert g.results[0].inputs[0] is other


def test_remove_names_the_blocking_user() -> None:
    g, v = small_graph()
    with pytest.raises(GraphError, match=r"cannot remove Multiply mul: output 0 is still used by relu"):
        g.remove(v["mul"].producer)
    with pytest.raises(GraphError, match=r"still used by conv"):
        g.remove(v["w"].producer)
    g.check()                                       # a refused edit changes nothing
    # once unused, the node goes and its name is free again
    g.replace_all_uses_with(v["mul"], v["conv"])
    g.remove(v["mul"].producer)
    assert (v["mul"].producer, 0) not in v["conv"].uses
    assert g.unique_name("mul") == "mul"


def test_remove_parameter_and_result() -> None:
    g = Graph()
    b = Builder(g, fold=False)
    x = b.parameter("x", "f32", (2,))
    unused = b.parameter("unused", "f32", (2,))
    r = b.result(b.op("Relu", x), "y")
    g.remove(unused.producer)
    g.remove(r)
    assert g.parameters == [x.producer] and g.results == []
    assert not any(True for _ in x.users()[0].outputs[0].uses)


# ----------------------------------------------------------------------------- toposort
def test_toposort_orders_and_drops_dead_nodes() -> None:
    g, v = small_graph()
    unused_param = Builder(g, fold=False).parameter("extra", "f32", (3,))
    dead = g.add_node("Exp", "opset1", (v["conv"],), [("f32", (1, 4, 8, 8))], name="dead_exp")
    g.add_node("Relu", "opset1", (dead.output,), [("f32", (1, 4, 8, 8))], name="dead_relu")
    g.nodes.reverse()                               # scramble the order
    with pytest.raises(GraphError, match="not ordered before it"):
        g.check()
    removed = g.toposort()
    assert removed == 2
    g.check()
    names = [n.name for n in g.nodes]
    assert "dead_exp" not in names and "dead_relu" not in names
    assert unused_param.producer in g.nodes         # Parameters always stay
    assert [n.name for n in g.parameters] == ["x", "extra"]
    assert all((n, 0) not in v["conv"].uses for n in (dead,))
    pos = {n.name: i for i, n in enumerate(g.nodes)}
    assert pos["x"] < pos["conv"] < pos["mul"] < pos["relu"] < pos["y/sink_port_0"]
    assert g.toposort() == 0


def test_toposort_reports_a_cycle() -> None:
    g = Graph()
    b = Builder(g, fold=False)
    x = b.parameter("x", "f32", (2,))
    a = b.op("Add", x, x, name="a")
    r = b.op("Relu", a, name="r")
    b.result(r, "y")
    g.set_input(a.producer, 1, r)                   # a reads r, r reads a
    with pytest.raises(GraphError, match="cycle through"):
        g.toposort()


# ----------------------------------------------------------------------------- check()
def _relu_chain() -> tuple[Graph, Value, Node, Node]:
    g = Graph()
    b = Builder(g, fold=False)
    x = b.parameter("x", "f32", (2,))
    r1 = b.op("Relu", x, name="r1")
    r2 = b.op("Relu", r1, name="r2")
    res = b.result(r2, "y")
    return g, x, r1.producer, res


def test_check_catches_duplicate_names() -> None:
    g, _, r1, _ = _relu_chain()
    r1.name = "r2"
    with pytest.raises(GraphError, match="duplicate node name 'r2'"):
        g.check()


def test_check_catches_inputs_from_outside_the_graph() -> None:
    g, x, r1, _ = _relu_chain()
    stranger = Graph().add_node("Parameter", "opset1", (), [("f32", (2,))], {"element_type": "f32", "shape": [2]})
    r1.inputs = (stranger.outputs[0],)
    stranger.outputs[0].uses[(r1, 0)] = None
    del x.uses[(r1, 0)]
    with pytest.raises(GraphError, match="r1: input 0 comes from a node outside the graph"):
        g.check()


def test_check_catches_missing_and_stale_uses() -> None:
    g, x, r1, _ = _relu_chain()
    del x.uses[(r1, 0)]
    with pytest.raises(GraphError, match="r1: input 0 is missing from its Value's uses"):
        g.check()
    g, x, r1, res = _relu_chain()
    x.uses[(res, 0)] = None                         # Result does not read x
    with pytest.raises(GraphError, match="lists a stale use by y/sink_port_0"):
        g.check()


def test_check_catches_broken_output_ownership_and_lost_results() -> None:
    g, x, r1, res = _relu_chain()
    r1.outputs[0].index = 3
    with pytest.raises(GraphError, match="output 0 does not point back to its node"):
        g.check()
    g, x, r1, res = _relu_chain()
    g.nodes.remove(res)                             # dropped behind the graph's back
    res.inputs[0].uses.clear()
    with pytest.raises(GraphError, match="Result y/sink_port_0 is not in the graph"):
        g.check()


# ----------------------------------------------------------------------------- printer
def test_printer_golden_text() -> None:
    g, _ = small_graph()
    assert g.format() == GOLDEN_TEXT
    assert str(g) == GOLDEN_TEXT


def test_printer_dynamic_and_unknown_shapes() -> None:
    g = Graph()
    b = Builder(g, fold=False)
    x = b.parameter("x", "f32", (-1, 3))
    u = b.parameter("u", "i64", None)
    b.result(b.op("Relu", x, name="r"), "y")
    b.result(u, "u_out")
    text = g.format().splitlines()
    assert text[0] == "%x: f32[?,3] = Parameter() {element_type=f32, shape=[-1,3]}"
    assert text[1] == "%u: i64[...] = Parameter() {element_type=i64, shape=None}"
    assert text[2] == "%y: f32[?,3] = Relu(%x)"
    assert repr(x) == "Value(x: f32[?,3])"
