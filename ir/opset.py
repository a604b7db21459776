"""Declarations of the OpenVINO ops that mo emits.

Each op is declared once with :func:`op`: its type, opset version, attributes (name,
kind, default), shape/type inference and, where constant folding needs it, a numpy
``evaluate``. The emitter and the Builder read these declarations, so an op with a
misspelled or missing attribute cannot reach a file.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from mo.graph import Shape, Value
from mo.types import ElementType

REQUIRED = object()

AttrKind = str  # int | float | bool | str | ints | floats | etype | shape | strs

InferFn = Callable[[Sequence[Value], dict[str, Any]], list[tuple[ElementType, Shape]]]
EvalFn = Callable[[list[np.ndarray], dict[str, Any]], list[np.ndarray]]


@dataclass(frozen=True, slots=True)
class Attr:
    kind: AttrKind
    default: Any = REQUIRED


@dataclass(slots=True)
class OpDef:
    type: str
    version: str
    attrs: dict[str, Attr]
    infer: InferFn
    evaluate: EvalFn | None = None
    # partial folding: given the input Values (some may be non-constant), return the
    # outputs' values when they are known anyway (ShapeOf of a static shape), else None
    fold: Callable[[Sequence[Value], dict[str, Any]], list[np.ndarray] | None] | None = None
    min_inputs: int = 0
    max_inputs: int | None = None
    doc: str = ""

    def normalize_attrs(self, given: dict[str, Any], where: str) -> dict[str, Any]:
        unknown = sorted(set(given) - set(self.attrs))
        if unknown:
            raise OpError(f"{where}: {self.type} has no attribute {', '.join(unknown)} "
                          f"(known: {', '.join(self.attrs) or 'none'})")
        out: dict[str, Any] = {}
        for name, spec in self.attrs.items():
            if name in given and given[name] is not None:
                out[name] = coerce_attr(spec.kind, given[name], f"{where}: {self.type}.{name}")
            elif spec.default is REQUIRED:
                raise OpError(f"{where}: {self.type} needs attribute {name}")
            else:
                out[name] = spec.default
        return out


class OpError(Exception):
    """An op built with wrong inputs or attributes; the message names the op and node."""


OPS: dict[str, OpDef] = {}


def op(type: str, version: str, attrs: dict[str, Attr | tuple] | None = None, *, evaluate: EvalFn | None = None,
       fold=None, inputs: tuple[int, int | None] = (0, None)) -> Callable[[InferFn], InferFn]:
    """Register an op's declaration; decorates its inference function."""

    def deco(infer: InferFn) -> InferFn:
        if type in OPS:
            raise ValueError(f"op {type} declared twice")
        spec = {k: (v if isinstance(v, Attr) else Attr(*v)) for k, v in (attrs or {}).items()}
        OPS[type] = OpDef(type, version, spec, infer, evaluate, fold, inputs[0], inputs[1], (infer.__doc__ or "").strip())
        return infer

    return deco


def get(type: str) -> OpDef:
    try:
        return OPS[type]
    except KeyError:
        raise OpError(f"op {type} is not declared in mo.ir") from None


def coerce_attr(kind: AttrKind, value: Any, where: str) -> Any:
    try:
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
        if kind == "bool":
            if isinstance(value, str):
                return value.lower() == "true"
            return bool(value)
        if kind in ("str", "etype"):
            return str(value)
        if kind in ("ints", "shape"):
            return [int(v) for v in np.asarray(value).reshape(-1)]
        if kind == "floats":
            return [float(v) for v in np.asarray(value, dtype=np.float64).reshape(-1)]
        if kind == "strs":
            return [str(v) for v in value]
    except (TypeError, ValueError) as e:
        raise OpError(f"{where}: cannot use {value!r} as {kind}: {e}") from None
    raise OpError(f"{where}: unknown attribute kind {kind}")


def format_float(x: float) -> str:
    """Shortest text that reads back as the same float32."""
    if np.isnan(x):
        return "nan"
    if np.isinf(x):
        return "inf" if x > 0 else "-inf"
    f32 = np.float32(x)
    if float(f32) == x or abs(x) < 3.4e38:
        text = np.format_float_positional(f32, trim="-", unique=True) if 1e-4 <= abs(x) < 1e16 or x == 0 \
            else np.format_float_scientific(f32, trim="-", unique=True)
        return text
    return repr(x)


def format_attr(kind: AttrKind, value: Any) -> str:
    """The XML text of an attribute value."""
    if kind == "bool":
        return "true" if value else "false"
    if kind == "float":
        return format_float(value)
    if kind in ("ints", "shape"):
        return ", ".join(str(int(v)) for v in value)
    if kind == "floats":
        return ", ".join(format_float(v) for v in value)
    if kind == "strs":
        return ",".join(value)
    return str(value)
