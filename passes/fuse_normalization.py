"""Mean-variance and L2 normalizations written out of reductions, fused into MVN-6 and NormalizeL2.

Notation: A a constant axes list, every reduction keeps its dims; m = ReduceMean(x, A);
d = x - m; var = ReduceMean(q, A) with q = d^2 as Power(d, 2), d * d, or SquaredDifference(x, m)
(either order; TF's moments); ss = ReduceSum(x^2, A); ``1/r`` is ``Divide(1, r)`` or, for
``1/Sqrt(u)``, ``Power(u, -0.5)`` (TF's Rsqrt, ONNX's Reciprocal come out as these).

    d / Sqrt(var + e),   d * 1/Sqrt(var + e)        ->  MVN(x, A, eps=e, INSIDE_SQRT)
    d / (Sqrt(var) + e), d * 1/(Sqrt(var) + e)      ->  MVN(x, A, eps=e, OUTSIDE_SQRT)
    x * i + (b - m * i),  x * i + (-m * i + b),  x * i - m * i,  x * i + -(m * i)
        with i = 1/Sqrt(var + e) * g or 1/Sqrt(var + e)
        (Keras LayerNormalization, tf.nn.batch_normalization over moments)
                                                    ->  MVN(x, A, eps=e) * g + b   (each part only if present)
    x / Sqrt(Maximum(ss, e)),  x * 1/Sqrt(Maximum(ss, e))         (tf.math.l2_normalize)
                                                    ->  NormalizeL2(x, A, eps=e, max)
    x / Sqrt(ss + e)                                ->  NormalizeL2(x, A, eps=e, add)
    x / Maximum(Sqrt(ss), e),  x / Clamp(ReduceL2(x, A), min=e)   (torch F.normalize; an Expand/Broadcast
        of the norm to x's own shape is allowed)   ->  NormalizeL2(x, A, eps=e*e, max)

Not fused, because no single op computes it: ``x / (Sqrt(ss) + e)`` (eps added outside the root
of an L2 norm), a variance over other axes than the mean, a negative eps. Every intermediate
value must be private to the pattern (the mean may feed both its subtractions) and no model
output; the fused op takes the last op's name and tensor names. LayerNorm's affine part stays
as Multiply/Add after the MVN, which the OpenVINO CPU plugin fuses into the MVN kernel.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from mo.graph import Graph, Node, Value

from .base import PassReport
from .fuse_activations import Fuser, made_by, near, only_use, scalar, split_const

log = logging.getLogger("mo.passes")

NAME = "fuse_normalization"
HUGE = 1e38  # a Clamp max at least this large is no upper bound


@dataclass(slots=True)
class Stat:
    """A reduced statistic of x: its variance (``var``) or its sum of squares (``ss``) over ``axes``."""

    kind: str                 # "var" or "ss"
    x: Value
    axes: np.ndarray
    nodes: set[Node]          # the statistic's own nodes (for the privacy check of the mean)
    mean: Value | None = None
    centered: Value | None = None  # d when the variance squares the very value d


@dataclass(slots=True)
class Root:
    """sqrt of a statistic with its epsilon: mode inside (sqrt(s + e)), outside (sqrt(s) + e) or max."""

    stat: Stat
    eps: float
    mode: str


def _axes(node: Node, rank: int | None) -> np.ndarray | None:
    if not node.attrs.get("keep_dims") or node.inputs[1].const is None or rank is None:
        return None
    a = node.inputs[1].const.numpy().reshape(-1).astype(np.int64)
    return np.unique(np.where(a < 0, a + rank, a))


def _square_of(v: Value) -> tuple[Node, Value, Value | None] | None:
    """(square node, base, second operand of a SquaredDifference) for Power(b, 2), b * b, SquaredDifference."""
    p = made_by(v, "Power", "Multiply", "SquaredDifference")
    if p is None:
        return None
    if p.op == "Power" and near(p.inputs[1], 2.0):
        return p, p.inputs[0], None
    if p.op == "Multiply" and p.inputs[0] is p.inputs[1]:
        return p, p.inputs[0], None
    if p.op == "SquaredDifference":
        return p, p.inputs[0], p.inputs[1]
    return None


def stat(v: Value) -> Stat | None:
    """v as ReduceMean((x - m)^2, A) with m = ReduceMean(x, A), or ReduceSum(x^2, A), or None."""
    r = made_by(v, "ReduceMean", "ReduceSum")
    if r is None:
        return None
    sq = _square_of(r.inputs[0])
    if sq is None:
        return None
    node, base, other = sq
    if r.op == "ReduceSum":
        axes = _axes(r, base.rank)
        if other is not None or axes is None:
            return None
        return Stat("ss", base, axes, {r, node})
    if other is not None:  # SquaredDifference(x, m) or (m, x)
        for x, m in ((base, other), (other, base)):
            mr = made_by(m, "ReduceMean", private=False)
            if mr is not None and mr.inputs[0] is x:
                return _var(r, mr, x, m, {r, node}, None)
        return None
    sub = made_by(base, "Subtract", private=False)
    if sub is None:
        return None
    x, m = sub.inputs[:2]
    mr = made_by(m, "ReduceMean", private=False)
    if mr is None or mr.inputs[0] is not x:
        return None
    return _var(r, mr, x, m, {r, node, sub}, base)


def _var(r: Node, mr: Node, x: Value, m: Value, nodes: set[Node], centered: Value | None) -> Stat | None:
    axes, axes_m = _axes(r, x.rank), _axes(mr, x.rank)
    if axes is None or axes_m is None or not np.array_equal(axes, axes_m):
        log.debug("%s: %s %s: the variance's axes differ from the mean's, no MVN", NAME, r.op, r.name)
        return None
    return Stat("var", x, axes, nodes | {mr}, m, centered)


def _eps(v: Value) -> float | None:
    e = scalar(v)
    return e if e is not None and e >= 0 else None


def root_of(w: Value) -> Root | None:
    """w as sqrt of a statistic, with its epsilon (see the module docstring)."""
    b = made_by(w, "Broadcast")
    if b is not None:
        w = b.inputs[0]
    p = made_by(w, "Sqrt", "Add", "Maximum", "Clamp", "ReduceL2")
    if p is None:
        return None
    if p.op == "Sqrt":
        return _under_root(p.inputs[0])
    if p.op == "ReduceL2":
        axes = _axes(p, p.inputs[0].rank)
        return Root(Stat("ss", p.inputs[0], axes, {p}), 0.0, "max") if axes is not None else None
    if p.op == "Clamp":
        if p.attrs.get("max", 0.0) < HUGE or p.attrs.get("min", -1.0) < 0:
            return None
        inner, e = p.inputs[0], float(p.attrs["min"])
    else:
        s = split_const(p)
        if s is None or _eps(s[1]) is None:
            return None
        inner, e = s[0], _eps(s[1])
    r = root_of(inner)
    if r is None or r.eps != 0.0:  # one epsilon per root
        return None
    if p.op == "Add":
        return Root(r.stat, e, "outside")
    return Root(r.stat, e * e, "max")  # max(sqrt(s), e) = sqrt(max(s, e^2))


def _under_root(u: Value) -> Root | None:
    p = made_by(u, "Add", "Maximum")
    if p is not None:
        s = split_const(p)
        if s is not None and _eps(s[1]) is not None:
            st = stat(s[0])
            if st is not None:
                return Root(st, _eps(s[1]), "inside" if p.op == "Add" else "max")
            return None
    st = stat(u)
    return Root(st, 0.0, "max" if st is not None and st.kind == "ss" else "inside") if st is not None else None


def inverse_root_of(w: Value, private: bool = True) -> Root | None:
    """w as 1 / sqrt of a statistic: Divide(1, root) or Power(u, -0.5)."""
    p = made_by(w, "Divide", "Power", private=private)
    if p is None:
        return None
    if p.op == "Divide":
        return root_of(p.inputs[1]) if near(p.inputs[0], 1.0) else None
    return _under_root(p.inputs[0]) if near(p.inputs[1], -0.5) else None


class NormalizationFuser(Fuser):
    def divide_or_scale(self, node: Node) -> bool:
        """n / root and n * (1 / root): MVN when n is x - mean, NormalizeL2 when n is x."""
        cands: list[tuple[Value, Root]] = []
        if node.op == "Divide":
            r = root_of(node.inputs[1])
            if r is not None:
                cands.append((node.inputs[0], r))
        elif node.op == "Multiply":
            a, b = node.inputs[:2]
            for n, w in ((a, b), (b, a)):
                r = inverse_root_of(w)
                if r is not None:
                    cands.append((n, r))
        for n, r in cands:
            if r.stat.kind == "ss" and n is r.stat.x:
                return self._l2(node, r)
            if r.stat.kind == "var" and self._centered(node, n, r.stat):
                return self._mvn(node, r, None, None)
        return False

    def _centered(self, top: Node, d: Value, st: Stat) -> bool:
        """d is x - m of this statistic, read only by ``top`` (and by the variance's square)."""
        sub = made_by(d, "Subtract", private=False)
        if sub is None or sub.inputs[0] is not st.x or sub.inputs[1] is not st.mean:
            return False
        readers = {n for n, _ in d.uses}
        allowed = {top} | st.nodes if d is st.centered else {top}
        if not readers <= allowed or any(n.op == "Result" for n in readers):
            log.debug("%s: %s %s: x - mean has readers outside the pattern", NAME, top.op, top.name)
            return False
        return self._mean_private(st, {sub})

    @staticmethod
    def _mean_private(st: Stat, extra: set[Node]) -> bool:
        assert st.mean is not None
        readers = {n for n, _ in st.mean.uses}
        return readers <= (st.nodes | extra) and not any(n.op == "Result" for n in readers)

    def _mvn(self, node: Node, r: Root, gamma: Value | None, beta: Value | None) -> bool:
        if r.mode not in ("inside", "outside"):
            return False
        x = r.stat.x
        axes = self.b.const(r.stat.axes.astype(np.int64), name=f"{node.name}/fused/axes")
        y = self.op(node, "MVN", x, axes, normalize_variance=True, eps=float(r.eps),
                    eps_mode="INSIDE_SQRT" if r.mode == "inside" else "OUTSIDE_SQRT", suffix="/mvn")
        label = "MVN"
        if gamma is not None:
            y = self.op(node, "Multiply", y, gamma, suffix="/gamma")
            label = "MVN (LayerNorm)"
        if beta is not None:
            y = self.op(node, "Add", y, beta, suffix="/beta")
            label = "MVN (LayerNorm)"
        return self.replace(node, y, label)

    def _l2(self, node: Node, r: Root) -> bool:
        if r.mode == "outside":
            log.debug("%s: %s %s: x / (norm + eps) has no NormalizeL2 form", NAME, node.op, node.name)
            return False
        axes = self.b.const(r.stat.axes.astype(np.int64), name=f"{node.name}/fused/axes")
        mode = "add" if r.mode == "inside" else "max"
        y = self.op(node, "NormalizeL2", r.stat.x, axes, eps=float(r.eps), eps_mode=mode)
        return self.replace(node, y, "NormalizeL2")

    def layer_norm_tf(self, node: Node) -> bool:
        """x * i + shift with i = 1/root(var) [* g]; shift = b - m * i, -m * i + b, -m * i or -(m * i);
        also x * i - m * i."""
        if node.op not in ("Add", "Subtract"):
            return False
        a, b = node.inputs[:2]
        pairs = [(a, b), (b, a)] if node.op == "Add" else [(a, b)]
        for xi, shift in pairs:
            mul = made_by(xi, "Multiply")
            if mul is None:
                continue
            for x, inv in ((mul.inputs[0], mul.inputs[1]), (mul.inputs[1], mul.inputs[0])):
                if self._layer_norm_tf(node, x, inv, shift, mul):
                    return True
        return False

    def _layer_norm_tf(self, node: Node, x: Value, inv: Value, shift: Value, xmul: Node) -> bool:
        r, gamma = None, None
        im = inv.producer
        if im is None:
            return False
        # inv is 1/root itself (read twice) or 1/root * gamma
        if im.op == "Multiply":
            for rr, g in ((im.inputs[0], im.inputs[1]), (im.inputs[1], im.inputs[0])):
                r = inverse_root_of(rr)
                if r is not None:
                    gamma = g
                    break
        if r is None:
            r = inverse_root_of(inv, private=False)  # no gamma: 1/root itself is read twice
        if r is None or r.stat.kind != "var" or r.stat.x is not x:
            return False
        # the shift: -m * i [+ beta] or beta - m * i (Subtract root: x * i - m * i)
        beta, mi = None, None
        sp = shift.producer
        if node.op == "Subtract":
            mi = (shift, False)
        elif sp is not None and sp.op == "Add" and only_use(shift):
            for u, bb in ((sp.inputs[0], sp.inputs[1]), (sp.inputs[1], sp.inputs[0])):
                if made_by(u, "Multiply") is not None:
                    mi, beta = (u, True), bb
                    break
        elif sp is not None and sp.op == "Subtract" and only_use(shift):
            mi, beta = (sp.inputs[1], False), sp.inputs[0]
        elif sp is not None and sp.op == "Multiply":
            mi = (shift, True)
        elif sp is not None and sp.op == "Negative" and only_use(shift):  # batch_normalization without offset
            mi = (sp.inputs[0], False)
        if mi is None:
            return False
        mv, negated = mi
        mm = made_by(mv, "Multiply")
        if mm is None:
            return False
        ops = list(mm.inputs[:2])
        if inv not in ops:
            return False
        other = ops[1] if ops[0] is inv else ops[0]
        extra = {mm, xmul}
        if negated:
            neg = made_by(other, "Negative")
            if neg is None or neg.inputs[0] is not r.stat.mean:
                return False
            extra.add(neg)
        elif other is not r.stat.mean:
            return False
        if {n for n, _ in inv.uses} != {xmul, mm} or len(inv.uses) != 2:
            return False
        if not self._mean_private(r.stat, extra):
            return False
        if gamma is not None and gamma.shape is not None and x.shape is not None and len(gamma.shape) > len(x.shape):
            return False
        return self._mvn(node, r, gamma, beta)


def run(graph: Graph) -> PassReport:
    f = NormalizationFuser(graph, NAME)
    f.run([f.layer_norm_tf, f.divide_or_scale])
    return f.report()
