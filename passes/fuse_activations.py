"""Activation patterns written out of elementary ops, fused into the single OpenVINO op.

Notation: x any float tensor; ``P{a, b; s}`` is a product whose non-constant factors are a
and b and whose scalar constant factors (Multiply by c, Divide by c, Negative) multiply to s,
in any grouping and operand order, e.g. ``(0.5 * x) * a``, ``x * a / 2``, ``-x * 0.7071``.
R6(y) is ``Clamp(y, 0, 6)``, ``Minimum(Relu(y), 6)``, ``Minimum(Maximum(y, 0), 6)`` or
``Maximum(Minimum(y, 6), 0)``; ``y + c`` matches both operand orders.

    Log(Exp(x) + 1)                                 ->  SoftPlus(x)
    1 / (1 + Exp(-x))                               ->  Sigmoid(x)
    x / (1 + Exp(-x))                               ->  Swish(x)
    HardSigmoid(x, 1/6, 1/2),  Clamp(P{x; 1/6} + 0.5, 0, 1),  P{R6(x + 3); 1/6}
                                                    ->  HSigmoid(x)
    P{x, R6(x + 3); 1/6},  P{x, HSigmoid(x); 1}     ->  HSwish(x)
    P{x, Sigmoid(x); 1}                             ->  Swish(x)
    P{x, Sigmoid(P{x; b}); 1}                       ->  Swish(x, b)
    P{x, Tanh(SoftPlus(x)); 1}                      ->  Mish(x)
    P{x, 1 + Erf(P{x; 1/sqrt2}); 1/2},  P{x, 1 - Erf(P{x; -1/sqrt2}); 1/2}   (TF writes erfc(-x/sqrt2))
                                                    ->  Gelu(x, erf)
    P{x, 1 + Tanh(P{x + P{x^3; 0.044715}; sqrt(2/pi)}); 1/2}     (x^3 as Power(x, 3) or P{x, x, x})
                                                    ->  Gelu(x, tanh)
    Maximum(x, P{x; a}), 0 < a < 1                  ->  PRelu(x, [a])          (LeakyReLU)
    Relu(x) + c * Relu(-x)  (or Relu(x) - (-c) * Relu(-x)),  Relu(x) + (-c) * Minimum(x, 0)
                                                    ->  PRelu(x, -c)           (Keras PReLU; c constant)

Constants match to a relative 1e-3 (f32-rounded 1/6, sqrt(2/pi), 1/sqrt2 all pass) and may be
scalars or broadcast-shaped tensors whose elements are all equal. Every intermediate value of
a pattern must have exactly one reader, inside the pattern, and must not be a model output;
otherwise the pattern is left alone (``--log_level debug`` names the refused candidates). The
fused op takes the name and the tensor names of the pattern's last op; the pattern's nodes
are removed.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from mo.graph import Graph, Node, Value
from mo.ir.builder import Builder

from .base import PassReport

log = logging.getLogger("mo.passes")

NAME = "fuse_activations"
RTOL = 1e-3
FLOATS = ("f32", "f16")
PRODUCT_DEPTH = 4  # inner Multiply/Divide/Negative nodes one product may absorb


# ---------------------------------------------------------------- constant and use helpers
def scalar(v: Value | None) -> float | None:
    """The value of a float constant whose elements are all equal (a broadcast scalar), else None."""
    if v is None or v.const is None or v.etype not in FLOATS:
        return None
    if v.shape is not None and int(np.prod(v.shape)) > 4096:
        return None
    a = v.const.numpy().reshape(-1)
    if a.size == 0 or not np.all(a == a[0]):
        return None
    return float(a[0])


def close(value: float | None, target: float) -> bool:
    return value is not None and abs(value - target) <= RTOL * max(abs(target), 1e-6)


def near(v: Value | None, target: float) -> bool:
    return close(scalar(v), target)


def only_use(v: Value) -> bool:
    """v has a single reader and is no model output: a pattern may swallow it."""
    return len(v.uses) == 1 and not any(n.op == "Result" for n, _ in v.uses)


def made_by(v: Value | None, *ops: str, private: bool = True) -> Node | None:
    """The producer of v when it is one of ``ops`` (and, when ``private``, v has no other reader)."""
    if v is None:
        return None
    p = v.producer
    if p is None or p.op not in ops or (private and not only_use(v)):
        return None
    return p


def split_const(node: Node) -> tuple[Value, Value] | None:
    """(non-constant input, constant input) of a binary node, else None."""
    a, b = node.inputs[:2]
    if b.const is not None and a.const is None:
        return a, b
    if a.const is not None and b.const is None:
        return b, a
    return None


def plus(v: Value | None, c: float, private: bool = True) -> Value | None:
    """y when v is ``y + c`` (either operand order)."""
    p = made_by(v, "Add", private=private)
    if p is None:
        return None
    s = split_const(p)
    return s[0] if s and near(s[1], c) else None


def one_minus(v: Value | None) -> Value | None:
    """y when v is ``1 - y``."""
    p = made_by(v, "Subtract")
    if p is None or not near(p.inputs[0], 1.0) or p.inputs[1].const is not None:
        return None
    return p.inputs[1]


@dataclass(slots=True)
class Product:
    """A product tree flattened: its non-constant factors and the product of its scalar constants."""

    factors: list[Value] = field(default_factory=list)
    scale: float = 1.0


def product(v: Value, top: bool = True, depth: int = PRODUCT_DEPTH) -> Product:
    """``v`` as a Product; inner Multiply/Divide-by-constant/Negative nodes must be private to it.

    With ``top`` the producer of v itself is expanded whatever v's readers (it is the pattern's root).
    """
    out = Product()
    stack: list[tuple[Value, bool]] = [(v, top)]
    budget = depth
    while stack:
        w, is_top = stack.pop()
        c = scalar(w)
        if c is not None:
            out.scale *= c
            continue
        p = w.producer
        expandable = p is not None and (is_top or only_use(w)) and budget > 0
        if expandable and p.op == "Multiply":
            budget -= 1
            stack.extend((u, False) for u in p.inputs[:2])
        elif expandable and p.op == "Divide" and scalar(p.inputs[1]) not in (None, 0.0):
            budget -= 1
            out.scale /= scalar(p.inputs[1])
            stack.append((p.inputs[0], False))
        elif expandable and p.op == "Negative":
            budget -= 1
            out.scale = -out.scale
            stack.append((p.inputs[0], False))
        else:
            out.factors.append(w)
    return out


def scaled(v: Value | None, factor: float) -> Value | None:
    """y when v is ``P{y; factor}`` (v itself private to its reader)."""
    if v is None or not only_use(v):
        return None
    p = product(v)
    return p.factors[0] if len(p.factors) == 1 and close(p.scale, factor) else None


def relu6(v: Value | None) -> Value | None:
    """y when v is R6(y) (see the module docstring), every inner value private."""
    p = made_by(v, "Clamp", "Minimum", "Maximum")
    if p is None:
        return None
    if p.op == "Clamp":
        ok = abs(p.attrs.get("min", -1.0)) < 1e-7 and abs(p.attrs.get("max", 0.0) - 6.0) < 1e-6
        return p.inputs[0] if ok else None
    s = split_const(p)
    if s is None:
        return None
    inner_op, inner_bound, bound = ("Maximum", 0.0, 6.0) if p.op == "Minimum" else ("Minimum", 6.0, 0.0)
    if not near(s[1], bound):
        return None
    q = made_by(s[0], "Relu", inner_op) if p.op == "Minimum" else made_by(s[0], inner_op)
    if q is None:
        return None
    if q.op == "Relu":
        return q.inputs[0]
    t = split_const(q)
    return t[0] if t and near(t[1], inner_bound) else None


# ---------------------------------------------------------------- rewriting
class Fuser:
    """Shared by the fusion passes: replaces a pattern's last node and removes what it leaves dead."""

    def __init__(self, graph: Graph, name: str) -> None:
        self.name = name
        self.graph = graph
        self.b = Builder(graph, fold=False)
        self.counts: Counter[str] = Counter()
        self.removed: set[Node] = set()

    def replace(self, last: Node, new: Value, label: str) -> bool:
        """Make ``new`` take the place of ``last``'s output, names included; drop the dead pattern.

        Refused (the new ops dropped again) when ``new`` differs in shape or type, e.g. when a
        constant of the pattern broadcast x to a larger shape.
        """
        old = last.outputs[0]
        if new.shape != old.shape or new.etype != old.etype:
            log.debug("%s: %s at %s not fused: %s%s instead of %s%s", self.name, label, last.name, new.etype,
                      new.shape, old.etype, old.shape)
            self._drop_new(new.producer)
            return False
        self.graph.replace_all_uses_with(old, new)
        name = last.name
        self._drop_dead(last)
        self.graph.rename(new.producer, name)
        self.counts[label] += 1
        log.debug("%s: %s at %s", self.name, label, name)
        return True

    def _drop_new(self, node: Node) -> None:
        """Remove ops just built for a refused rewrite (they and their new constants have no readers)."""
        stack = [node]
        while stack:
            n = stack.pop()
            if any(v.uses for v in n.outputs) or "/fused" not in n.name:
                continue
            self.graph.remove(n)
            stack.extend(v.producer for v in n.inputs if v.producer is not None)

    def op(self, last: Node, op: str, *inputs: Value, suffix: str = "", **attrs) -> Value:
        return self.b.op(op, *inputs, name=f"{last.name}/fused{suffix}", **attrs)

    def _drop_dead(self, node: Node) -> None:
        stack = [node]
        while stack:
            n = stack.pop()
            if n in self.removed or n.op in ("Parameter", "Result") or any(v.uses for v in n.outputs):
                continue
            self.graph.remove(n)
            self.removed.add(n)
            stack.extend(v.producer for v in n.inputs if v.producer is not None)

    def run(self, rules: list[Callable[[Node], bool]]) -> None:
        """Each rule over the whole graph in order, so later rules see what earlier ones fused."""
        for rule in rules:
            for node in list(self.graph.nodes):
                if node in self.removed or len(node.outputs) != 1 or not node.outputs[0].uses:
                    continue
                if node.outputs[0].etype not in FLOATS:
                    continue
                rule(node)

    def report(self) -> PassReport:
        if not self.counts:
            return PassReport(self.name, False, "nothing to fuse")
        self.graph.toposort()
        parts = ", ".join(f"{n} {label}" for label, n in sorted(self.counts.items()))
        return PassReport(self.name, True, f"{parts} fused, {len(self.removed)} nodes removed")


class ActivationFuser(Fuser):
    # -------------------------------------------------------- unary roots
    def softplus(self, node: Node) -> bool:
        """Log(Exp(x) + 1) -> SoftPlus(x)."""
        if node.op != "Log":
            return False
        e = made_by(plus(node.inputs[0], 1.0), "Exp")
        if e is None:
            return False
        return self.replace(node, self.op(node, "SoftPlus", e.inputs[0]), "SoftPlus")

    def explicit_sigmoid(self, node: Node) -> bool:
        """1 / (1 + Exp(-x)) -> Sigmoid(x);  x / (1 + Exp(-x)) -> Swish(x)."""
        if node.op != "Divide":
            return False
        e = made_by(plus(node.inputs[1], 1.0), "Exp")
        x = scaled(e.inputs[0], -1.0) if e is not None else None
        if x is None:
            return False
        if near(node.inputs[0], 1.0):
            return self.replace(node, self.op(node, "Sigmoid", x), "Sigmoid")
        if node.inputs[0] is x:
            return self.replace(node, self.op(node, "Swish", x), "Swish")
        return False

    def hard_sigmoid(self, node: Node) -> bool:
        """HardSigmoid(x, 1/6, 1/2) or Clamp(x/6 + 1/2, 0, 1) -> HSigmoid(x)."""
        if node.op == "HardSigmoid":
            if near(node.inputs[1], 1 / 6) and near(node.inputs[2], 0.5):
                return self.replace(node, self.op(node, "HSigmoid", node.inputs[0]), "HSigmoid")
            return False
        if node.op != "Clamp" or node.attrs.get("min") != 0.0 or node.attrs.get("max") != 1.0:
            return False
        x = scaled(plus(node.inputs[0], 0.5), 1 / 6)
        if x is None:
            return False
        return self.replace(node, self.op(node, "HSigmoid", x), "HSigmoid")

    # -------------------------------------------------------- product roots
    def products(self, node: Node) -> bool:
        """The rules whose root is a product: HSigmoid, HSwish, Swish, Mish, GELU."""
        if node.op not in ("Multiply", "Divide"):
            return False
        p = product(node.outputs[0])
        if len(p.factors) == 1:
            x = plus(relu6(p.factors[0]), 3.0)
            if x is not None and close(p.scale, 1 / 6):
                return self.replace(node, self.op(node, "HSigmoid", x), "HSigmoid")
            return False
        if len(p.factors) != 2:
            return False
        a, b = p.factors
        for x, g in ((a, b), (b, a)):
            if close(p.scale, 1 / 6) and plus(relu6(g), 3.0) is x:
                return self.replace(node, self.op(node, "HSwish", x), "HSwish")
            if close(p.scale, 1.0) and self._gated(node, x, g):
                return True
            if close(p.scale, 0.5) and self._gelu(node, x, g):
                return True
        return False

    def _gated(self, node: Node, x: Value, g: Value) -> bool:
        """x * HSigmoid(x) -> HSwish; x * Sigmoid(b x) -> Swish; x * Tanh(SoftPlus(x)) -> Mish."""
        p = made_by(g, "HSigmoid", "Sigmoid", "Tanh")
        if p is None:
            return False
        if p.op == "HSigmoid" and p.inputs[0] is x:
            return self.replace(node, self.op(node, "HSwish", x), "HSwish")
        if p.op == "Sigmoid":
            if p.inputs[0] is x:
                return self.replace(node, self.op(node, "Swish", x), "Swish")
            q = product(p.inputs[0], top=False) if only_use(p.inputs[0]) else None
            if q is not None and q.factors == [x] and q.scale != 0.0:
                if close(q.scale, 1.0):
                    return self.replace(node, self.op(node, "Swish", x), "Swish")
                beta = self.b.const(np.array(q.scale, _np_type(x.etype)), name=f"{node.name}/fused/beta")
                return self.replace(node, self.op(node, "Swish", x, beta), "Swish")
            return False
        if p.op == "Tanh" and made_by(p.inputs[0], "SoftPlus") is not None and p.inputs[0].producer.inputs[0] is x:
            return self.replace(node, self.op(node, "Mish", x), "Mish")
        return False

    def _gelu(self, node: Node, x: Value, g: Value) -> bool:
        """x * (1 + Erf(x / sqrt2)) / 2 and x * (1 + Tanh(...)) / 2 -> Gelu."""
        inner = plus(g, 1.0)
        erf = made_by(inner, "Erf")
        if erf is not None and scaled(erf.inputs[0], 1 / np.sqrt(2)) is x:
            return self.replace(node, self.op(node, "Gelu", x, approximation_mode="erf"), "GELU (erf)")
        erfc = made_by(one_minus(g), "Erf")
        if erfc is not None and scaled(erfc.inputs[0], -1 / np.sqrt(2)) is x:
            return self.replace(node, self.op(node, "Gelu", x, approximation_mode="erf"), "GELU (erf)")
        tanh = made_by(inner, "Tanh")
        if tanh is not None and self._tanh_arg(tanh.inputs[0]) is x:
            return self.replace(node, self.op(node, "Gelu", x, approximation_mode="tanh"), "GELU (tanh)")
        return False

    @staticmethod
    def _tanh_arg(v: Value) -> Value | None:
        """x when v is sqrt(2/pi) * (x + 0.044715 * x^3)."""
        add = made_by(scaled(v, float(np.sqrt(2 / np.pi))), "Add")
        if add is None:
            return None
        a, b = add.inputs[:2]
        for x, c in ((a, b), (b, a)):
            if not only_use(c):
                continue
            cube = product(c)
            if not close(cube.scale, 0.044715):
                continue
            if cube.factors == [x, x, x]:
                return x
            if len(cube.factors) == 1:
                pw = made_by(cube.factors[0], "Power")
                if pw is not None and pw.inputs[0] is x and near(pw.inputs[1], 3.0):
                    return x
        return None

    # -------------------------------------------------------- rectifiers
    def leaky_relu(self, node: Node) -> bool:
        """Maximum(x, a x), 0 < a < 1 -> PRelu(x, [a])."""
        if node.op != "Maximum":
            return False
        a, b = node.inputs[:2]
        for x, m in ((a, b), (b, a)):
            if m.const is not None or not only_use(m):
                continue
            p = product(m)
            if p.factors == [x] and m.producer is not None and m.producer.op in ("Multiply", "Divide"):
                if 0.0 < p.scale < 1.0:
                    slope = self.b.const(np.array([p.scale], _np_type(x.etype)), name=f"{node.name}/fused/slope")
                    return self.replace(node, self.op(node, "PRelu", x, slope), "LeakyReLU")
                log.debug("%s: Maximum %s is max(x, %g x), no LeakyReLU (needs 0 < a < 1)", NAME, node.name, p.scale)
        return False

    def prelu(self, node: Node) -> bool:
        """Relu(x) + c * Relu(-x) -> PRelu(x, -c);  Relu(x) + c * Minimum(x, 0) -> PRelu(x, c)."""
        if node.op not in ("Add", "Subtract"):
            return False
        pairs = [(node.inputs[0], node.inputs[1])]
        if node.op == "Add":
            pairs.append((node.inputs[1], node.inputs[0]))
        for r, m in pairs:
            relu = made_by(r, "Relu")
            mul = made_by(m, "Multiply")
            if relu is None or mul is None:
                continue
            x = relu.inputs[0]
            sc = split_const(mul)
            if sc is None:
                continue
            neg_part, c = sc
            sign = 1.0 if node.op == "Add" else -1.0
            slope = None
            rn = made_by(neg_part, "Relu")
            neg = made_by(rn.inputs[0], "Negative") if rn is not None else None
            if neg is not None and neg.inputs[0] is x:
                slope = -sign * c.const.numpy()
            mn = made_by(neg_part, "Minimum")
            if mn is not None:
                t = split_const(mn)
                if t and t[0] is x and scalar(t[1]) == 0.0:
                    slope = sign * c.const.numpy()
            if slope is None:
                continue
            slope = _slope_for(slope, x)
            if slope is None:
                log.debug("%s: %s %s looks like PReLU but its slope does not broadcast to the input", NAME,
                          node.op, node.name)
                continue
            sv = self.b.const(slope.astype(_np_type(x.etype)), name=f"{node.name}/fused/slope")
            return self.replace(node, self.op(node, "PRelu", x, sv), "PReLU")
        return False


def _np_type(etype: str):
    return {"f32": np.float32, "f16": np.float16, "f64": np.float64}.get(etype, np.float32)


def _slope_for(c: np.ndarray, x: Value) -> np.ndarray | None:
    """The slope PRelu must get to apply ``c`` as numpy broadcasting does (None when it would grow x).

    PRelu reads a 1-D slope as per channel (axis 1); a slope with as many dims as x is plain
    numpy broadcasting, so anything else is reshaped to x's rank.
    """
    if x.shape is None:
        return None
    rank = len(x.shape)
    if c.size == 1:
        return c.reshape(1)
    if c.ndim > rank:
        return None
    full = (1,) * (rank - c.ndim) + c.shape
    if any(d != 1 and d != xd for d, xd in zip(full, x.shape)):
        return None
    return c.reshape(full)


def run(graph: Graph) -> PassReport:
    f = ActivationFuser(graph, NAME)
    f.run([f.softplus, f.explicit_sigmoid, f.hard_sigmoid, f.products, f.leaky_relu, f.prelu])
    return f.report()
