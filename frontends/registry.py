"""Per-framework registries of op converters.

One function per source op; its signature is the op's spec, with the spec's defaults
as keyword defaults::

    onnx_ops = Registry("onnx")

    @onnx_ops.op("LeakyRelu", since=6)
    def leaky_relu(g, x, *, alpha=0.01):
        return g.op("PRelu", x, g.const(np.float32(alpha)))

The dispatcher picks the newest registration at or below the model's opset version.
User ``--extensions`` files register converters with the same decorator.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from mo.errors import ConversionError, MoError
from mo.ir.opset import OpError

Converter = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class Registration:
    since: int
    fn: Converter
    accepts: frozenset[str] | None  # keyword names the function takes; None = takes **kwargs


class Registry:
    def __init__(self, framework: str) -> None:
        self.framework = framework
        self._ops: dict[tuple[str, str], list[Registration]] = {}

    def op(self, names: str | Iterable[str], since: int = 1, domain: str = "") -> Callable[[Converter], Converter]:
        """Register a converter for one or more op types from opset version ``since`` on."""
        names = [names] if isinstance(names, str) else list(names)

        def deco(fn: Converter) -> Converter:
            self.add(names, fn, since, domain)
            return fn

        return deco

    def add(self, names: Iterable[str], fn: Converter, since: int = 1, domain: str = "") -> None:
        sig = inspect.signature(fn)
        if any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
            accepts = None
        else:
            accepts = frozenset(n for n, p in sig.parameters.items() if p.kind is p.KEYWORD_ONLY)
        for name in names:
            regs = self._ops.setdefault((domain, name), [])
            regs[:] = [r for r in regs if r.since != since]  # a later registration overrides
            regs.append(Registration(since, fn, accepts))
            regs.sort(key=lambda r: r.since)

    def lookup(self, name: str, version: int = 1 << 30, domain: str = "") -> Registration | None:
        regs = self._ops.get((domain, name))
        if not regs:
            return None
        best = None
        for r in regs:
            if r.since <= version:
                best = r
        return best

    def __contains__(self, key: str) -> bool:
        return ("", key) in self._ops

    def names(self, domain: str = "") -> list[str]:
        return sorted(n for d, n in self._ops if d == domain)


def run_converter(reg: Registration, g: Any, inputs: Sequence[Any], attrs: dict[str, Any], where: str,
                  path: str) -> Any:
    """Call a converter; any failure becomes a one-line error that starts with ``where``
    (file, node and op), so the user sees which node of which file to look at."""
    try:
        return reg.fn(g, *inputs, **attrs)
    except MoError as e:
        msg = str(e)
        if not msg.startswith(path):
            e.args = (f"{where}: {msg}",) + e.args[1:]
        raise e from None
    except OpError as e:
        raise ConversionError(f"{where}: {e}") from None
    except (ValueError, TypeError, IndexError, KeyError, ZeroDivisionError) as e:
        raise ConversionError(f"{where}: {type(e).__name__}: {e}") from None
