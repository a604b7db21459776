"""Activation and normalization patterns fused into single OpenVINO ops.

Rules (x any f32 tensor; constants match to a relative 1e-3, scalar or broadcast-equal;
Multiply and Add match in both operand orders; ``y / c`` also matches as ``y * (1/c)``;
R6(y) is ``Clamp(y, 0, 6)``, ``Minimum(Relu(y), 6)`` or ``Minimum(Maximum(y, 0), 6)``):

    R6(x + 3) / 6                                   ->  HSigmoid(x)
    x * HSigmoid(x),  (x * R6(x + 3)) / 6           ->  HSwish(x)
    x * Sigmoid(x)                                  ->  Swish(x)
    x * Sigmoid(x * b)                              ->  Swish(x, b)
    Log(Exp(x) + 1)                                 ->  SoftPlus(x)
    x * Tanh(SoftPlus(x))                           ->  Mish(x)
    0.5 * x * (1 + Erf(x / sqrt(2)))                ->  Gelu(x, erf)     (any grouping of the product)
    0.5 * x * (1 + Tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))
                                                    ->  Gelu(x, tanh)    (x^3 as Pow(x, 3) or x*x*x)
    Maximum(x, x * a), 0 < a < 1                    ->  PRelu(x, a)      (LeakyReLU)
    d = x - ReduceMean(x, A);  d / Sqrt(ReduceMean(d^2, A) + e)  (or d * Pow(v + e, -0.5))
                                                    ->  MVN(x, A, eps=e, inside_sqrt)
    d / (Sqrt(ReduceMean(d^2, A)) + e)              ->  MVN(x, A, eps=e, outside_sqrt)
    x / Sqrt(Maximum(ReduceSum(x^2, A), e))         ->  NormalizeL2(x, A, eps=e, max)
    x / Sqrt(ReduceSum(x^2, A) + e)                 ->  NormalizeL2(x, A, eps=e, add)

(d^2 is Pow(d, 2) or d * d; ReduceMean/ReduceSum keep their dims, with constant axes.)
Every intermediate value of a pattern must have no reader outside it; otherwise it is left
alone. The fused op takes the name and tensor names of the pattern's last op. LayerNorm's
affine part (``* gamma + beta``) stays as Multiply/Add after the MVN, which the runtime fuses.
"""
from __future__ import annotations

import logging
from collections import Counter

import numpy as np

from mo.graph import Graph, Node, Value
from mo.ir.builder import Builder

from .base import PassReport

log = logging.getLogger("mo.passes")

NAME = "fuse_activations"
RTOL = 1e-3


def scalar(v: Value) -> float | None:
    """The value of a constant whose elements are all equal (a broadcast scalar), else None."""
    if v.const is None or v.etype not in ("f32", "f16", "f64"):
        return None
    a = v.const.numpy()
    if a.size == 0 or a.size > 4096:
        return None
    first = float(a.reshape(-1)[0])
    return first if np.all(a == a.reshape(-1)[0]) else None


def near(v: Value | None, target: float) -> bool:
    s = scalar(v) if v is not None else None
    return s is not None and abs(s - target) <= RTOL * max(abs(target), 1e-6)


def prod(v: Value, op: str) -> Node | None:
    p = v.producer
    return p if p is not None and p.op == op else None


def only_use(v: Value) -> bool:
    return len(v.uses) == 1 and not any(n.op == "Result" for n in v.users())


def split_const(node: Node) -> tuple[Value, Value] | None:
    """(non-constant input, constant input) of a binary node, else None."""
    a, b = node.inputs[:2]
    if b.const is not None and a.const is None:
        return a, b
    if a.const is not None and b.const is None:
        return b, a
    return None


def scaled_by(v: Value, factor: float) -> Value | None:
    """y when v is ``y * factor`` or ``y / (1/factor)`` (the Multiply/Divide read only here)."""
    p = v.producer
    if p is None or not only_use(v):
        return None
    if p.op == "Multiply":
        s = split_const(p)
        if s and near(s[1], factor):
            return s[0]
    if p.op == "Divide" and p.inputs[1].const is not None and near(p.inputs[1], 1.0 / factor):
        return p.inputs[0]
    return None


def plus(v: Value, c: float) -> Value | None:
    """y when v is ``y + c`` (read only here)."""
    p = prod(v, "Add")
    if p is None or not only_use(v):
        return None
    s = split_const(p)
    return s[0] if s and near(s[1], c) else None


def relu6(v: Value) -> Value | None:
    """y when v is R6(y) (see the module docstring), every inner value read only here."""
    p = v.producer
    if p is None or not only_use(v):
        return None
    if p.op == "Clamp" and abs(p.attrs.get("min", -1)) < 1e-7 and abs(p.attrs.get("max", 0) - 6) < 1e-6:
        return p.inputs[0]
    if p.op == "Minimum":
        s = split_const(p)
        if not s or not near(s[1], 6.0):
            return None
        inner = s[0].producer
        if inner is None or not only_use(s[0]):
            return None
        if inner.op == "Relu":
            return inner.inputs[0]
        if inner.op == "Maximum":
            t = split_const(inner)
            if t and scalar(t[1]) == 0.0:
                return t[0]
    return None


def product_factors(top: Node, limit: int = 3) -> list[Value] | None:
    """The leaves of a tree of Multiply nodes rooted at ``top`` (inner products read only there)."""
    leaves: list[Value] = []
    stack = list(top.inputs[:2])
    inner = 0
    while stack:
        v = stack.pop()
        p = v.producer
        if p is not None and p.op == "Multiply" and only_use(v) and inner < limit:
            inner += 1
            stack.extend(p.inputs[:2])
        else:
            leaves.append(v)
    return leaves


class _Fuser:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.b = Builder(graph, fold=False)
        self.counts: Counter[str] = Counter()
        self.renames: list[tuple[Node, str]] = []

    def replace(self, last: Node, op: str, *inputs: Value, label: str | None = None, **attrs) -> None:
        new = self.b.op(op, *inputs, name=last.name + "/fused", **attrs)
        self.graph.replace_all_uses_with(last.outputs[0], new)
        self.renames.append((new.producer, last.name))
        self.counts[label or op] += 1

    # ------------------------------------------------------------ rules
    def hsigmoid(self, node: Node) -> bool:
        """R6(x + 3) / 6 -> HSigmoid(x); ``node`` is the Multiply/Divide."""
        if node.op not in ("Multiply", "Divide"):
            return False
        y = None
        if node.op == "Multiply":
            s = split_const(node)
            y = s[0] if s and near(s[1], 1 / 6) else None
        elif node.inputs[1].const is not None and near(node.inputs[1], 6.0):
            y = node.inputs[0]
        if y is None:
            return False
        inner = relu6(y)
        x = plus(inner, 3.0) if inner is not None else None
        if x is None:
            return False
        self.replace(node, "HSigmoid", x)
        return True

    def hswish_scaled(self, node: Node) -> bool:
        """(x * R6(x + 3)) / 6 -> HSwish(x)."""
        if node.op not in ("Multiply", "Divide"):
            return False
        if node.op == "Multiply":
            s = split_const(node)
            y = s[0] if s and near(s[1], 1 / 6) else None
        else:
            y = node.inputs[0] if node.inputs[1].const is not None and near(node.inputs[1], 6.0) else None
        m = prod(y, "Multiply") if y is not None and only_use(y) else None
        if m is None:
            return False
        a, b = m.inputs[:2]
        for x, r in ((a, b), (b, a)):
            inner = relu6(r)
            if inner is not None and plus(inner, 3.0) is x:
                self.replace(node, "HSwish", x)
                return True
        return False

    def gated(self, node: Node) -> bool:
        """x * HSigmoid(x) -> HSwish; x * Sigmoid(x [* b]) -> Swish; x * Tanh(SoftPlus(x)) -> Mish."""
        if node.op != "Multiply":
            return False
        a, b = node.inputs[:2]
        for x, g in ((a, b), (b, a)):
            p = g.producer
            if p is None or not only_use(g):
                continue
            if p.op == "HSigmoid" and p.inputs[0] is x:
                self.replace(node, "HSwish", x)
                return True
            if p.op == "Sigmoid":
                if p.inputs[0] is x:
                    self.replace(node, "Swish", x)
                    return True
                q = prod(p.inputs[0], "Multiply")
                if q is not None and only_use(p.inputs[0]):
                    s = split_const(q)
                    if s and s[0] is x and scalar(s[1]) is not None:
                        self.replace(node, "Swish", x, self.b.const(np.float32(scalar(s[1]))))
                        return True
            if p.op == "Tanh":
                sp = prod(p.inputs[0], "SoftPlus")
                if sp is not None and only_use(p.inputs[0]) and sp.inputs[0] is x:
                    self.replace(node, "Mish", x)
                    return True
        return False

    def softplus(self, node: Node) -> bool:
        """Log(Exp(x) + 1) -> SoftPlus(x)."""
        if node.op != "Log":
            return False
        e = plus(node.inputs[0], 1.0)
        p = prod(e, "Exp") if e is not None else None
        if p is None or not only_use(e):
            return False
        self.replace(node, "SoftPlus", p.inputs[0])
        return True

    def gelu(self, node: Node) -> bool:
        """0.5 * x * (1 + Erf(x / sqrt2)) or the tanh form -> Gelu, ``node`` the top Multiply."""
        if node.op != "Multiply":
            return False
        leaves = product_factors(node)
        if leaves is None or len(leaves) != 3:
            return False
        consts = [v for v in leaves if v.const is not None]
        if len(consts) != 1 or not near(consts[0], 0.5):
            return False
        rest = [v for v in leaves if v.const is None]
        for x, s in ((rest[0], rest[1]), (rest[1], rest[0])):
            g = plus(s, 1.0)
            if g is None or g.producer is None or not only_use(g):
                continue
            if g.producer.op == "Erf" and scaled_by(g.producer.inputs[0], 1 / np.sqrt(2)) is x:
                self.replace(node, "Gelu", x, label="GELU (erf)", approximation_mode="erf")
                return True
            if g.producer.op == "Tanh" and self._tanh_arg(g.producer.inputs[0]) is x:
                self.replace(node, "Gelu", x, label="GELU (tanh)", approximation_mode="tanh")
                return True
        return False

    @staticmethod
    def _tanh_arg(v: Value) -> Value | None:
        """x when v is sqrt(2/pi) * (x + 0.044715 * x^3)."""
        inner = scaled_by(v, float(np.sqrt(2 / np.pi)))
        p = prod(inner, "Add") if inner is not None and only_use(inner) else None
        if p is None:
            return None
        a, b = p.inputs[:2]
        for x, c in ((a, b), (b, a)):
            cube = scaled_by(c, 0.044715)
            if cube is None:
                continue
            q = cube.producer
            if q is None or not only_use(cube):
                continue
            if q.op == "Power" and q.inputs[0] is x and near(q.inputs[1], 3.0):
                return x
            if q.op == "Multiply":
                leaves = product_factors(q, limit=1)
                if leaves is not None and len(leaves) == 3 and all(l is x for l in leaves):
                    return x
        return None

    def leaky_relu(self, node: Node) -> bool:
        """Maximum(x, x * a), 0 < a < 1 -> PRelu(x, a)."""
        if node.op != "Maximum":
            return False
        a, b = node.inputs[:2]
        for x, m in ((a, b), (b, a)):
            p = prod(m, "Multiply")
            if p is None or not only_use(m):
                continue
            s = split_const(p)
            alpha = scalar(s[1]) if s and s[0] is x else None
            if alpha is not None and 0 < alpha < 1:
                self.replace(node, "PRelu", x, self.b.const(np.array([alpha], np.float32)), label="LeakyReLU")
                return True
        return False

    # ------------------------------------------------------------ normalization
    @staticmethod
    def _square_of(v: Value) -> Value | None:
        p = v.producer
        if p is None or not only_use(v):
            return None
        if p.op == "Power" and near(p.inputs[1], 2.0):
            return p.inputs[0]
        if p.op == "Multiply" and p.inputs[0] is p.inputs[1]:
            return p.inputs[0]
        return None

    @staticmethod
    def _reduce(v: Value, op: str) -> tuple[Value, np.ndarray] | None:
        p = prod(v, op)
        if p is None or not p.attrs.get("keep_dims") or p.inputs[1].const is None or not only_use(v):
            return None
        return p.inputs[0], np.sort(p.inputs[1].const.numpy().reshape(-1).astype(np.int64))

    @staticmethod
    def _norm_axes(axes: np.ndarray, rank: int | None) -> np.ndarray | None:
        if rank is None:
            return None
        return np.sort(np.where(axes < 0, axes + rank, axes))

    def _denominator(self, node: Node) -> tuple[Value, Value, bool] | None:
        """(numerator, value under the root, root taken as 1/sqrt) for ``n / Sqrt(s)``, ``n * Pow(s, -0.5)``."""
        if node.op == "Divide":
            sq = prod(node.inputs[1], "Sqrt")
            if sq is not None and only_use(node.inputs[1]):
                return node.inputs[0], sq.inputs[0], True
            return None
        if node.op == "Multiply":
            a, b = node.inputs[:2]
            for n, d in ((a, b), (b, a)):
                pw = prod(d, "Power")
                if pw is not None and only_use(d) and near(pw.inputs[1], -0.5):
                    return n, pw.inputs[0], True
        return None

    def mvn_or_l2(self, node: Node) -> bool:
        den = self._denominator(node)
        if den is not None:
            num, under, _ = den
            return self._inside(node, num, under)
        if node.op == "Divide":  # d / (Sqrt(v) + e): eps outside the root
            s = prod(node.inputs[1], "Add")
            if s is None or not only_use(node.inputs[1]):
                return False
            sc = split_const(s)
            sq = prod(sc[0], "Sqrt") if sc and scalar(sc[1]) is not None else None
            if sq is None or not only_use(sc[0]):
                return False
            return self._mvn(node, node.inputs[0], sq.inputs[0], float(scalar(sc[1])), "OUTSIDE_SQRT")
        return False

    def _inside(self, node: Node, num: Value, under: Value) -> bool:
        p = under.producer
        if p is None or not only_use(under):
            return False
        if p.op == "Add":
            sc = split_const(p)
            if sc is None or scalar(sc[1]) is None:
                return False
            eps = float(scalar(sc[1]))
            if self._mvn(node, num, sc[0], eps, "INSIDE_SQRT"):
                return True
            return self._l2(node, num, sc[0], eps, "add")
        if p.op == "Maximum":
            sc = split_const(p)
            if sc is None or scalar(sc[1]) is None:
                return False
            return self._l2(node, num, sc[0], float(scalar(sc[1])), "max")
        return False

    def _mvn(self, node: Node, d: Value, var: Value, eps: float, mode: str) -> bool:
        sub = prod(d, "Subtract")
        if sub is None or len({n for n, _ in d.uses}) != 2:  # d feeds the variance and the division only
            return False
        x = sub.inputs[0]
        mean = self._reduce(sub.inputs[1], "ReduceMean")
        r = self._reduce(var, "ReduceMean")
        if mean is None or r is None or mean[0] is not x or self._square_of(r[0]) is not d:
            return False
        axes_m, axes_v = self._norm_axes(mean[1], x.rank), self._norm_axes(r[1], x.rank)
        if axes_m is None or not np.array_equal(axes_m, axes_v) or eps < 0:
            return False
        self.replace(node, "MVN", x, self.b.const(axes_m.astype(np.int64)), normalize_variance=True, eps=eps,
                     eps_mode=mode)
        return True

    def _l2(self, node: Node, x: Value, ssum: Value, eps: float, mode: str) -> bool:
        r = self._reduce(ssum, "ReduceSum")
        if r is None or self._square_of(r[0]) is not x or eps < 0:
            return False
        axes = self._norm_axes(r[1], x.rank)
        if axes is None:
            return False
        self.replace(node, "NormalizeL2", x, self.b.const(axes.astype(np.int64)), eps=eps, eps_mode=mode)
        return True


RULES = ("softplus", "hswish_scaled", "hsigmoid", "gated", "gelu", "leaky_relu", "mvn_or_l2")


def run(graph: Graph) -> PassReport:
    f = _Fuser(graph)
    for rule in RULES:  # each rule over the whole graph, so later rules see earlier fusions
        fn = getattr(f, rule)
        for node in list(graph.nodes):
            if node.outputs and node.outputs[0].uses and node.outputs[0].etype == "f32":
                try:
                    fn(node)
                except (IndexError, TypeError):  # an op with unexpected inputs: not this pattern
                    continue
    removed = graph.toposort() if f.counts else 0
    for node, name in f.renames:
        graph.rename(node, name)
    total = sum(f.counts.values())
    summary = ", ".join(f"{n} {op}" for op, n in sorted(f.counts.items()))
    return PassReport(NAME, total > 0, f"{summary} fused, {removed} nodes removed" if total else "nothing to fuse")
