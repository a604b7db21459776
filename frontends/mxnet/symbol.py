"""MXNet symbol files (``model-symbol.json``): nodes, their attributes and the outputs.

The JSON holds ``nodes`` (each ``op``, ``name``, ``inputs`` as ``[node, output, version]``
and string attributes), ``arg_nodes`` and ``heads``. Attribute dictionaries are named
``attrs`` since MXNet 1.0, ``attr`` before, and ``param`` in the oldest files; old files
also use the ops' pre-1.0 names (``Convolution_v1`` ...), which the loader maps.
"""
from __future__ import annotations

import ast
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

from mo.errors import InputError

# Pre-1.0 op names and the op that replaced them with the same attributes.
LEGACY_OPS = {
    "Convolution_v1": "Convolution", "Pooling_v1": "Pooling", "BatchNorm_v1": "BatchNorm",
    "_Plus": "elemwise_add", "_Minus": "elemwise_sub", "_Mul": "elemwise_mul", "_Div": "elemwise_div",
    "_PlusScalar": "_plus_scalar", "_MinusScalar": "_minus_scalar", "_RMinusScalar": "_rminus_scalar",
    "_MulScalar": "_mul_scalar", "_DivScalar": "_div_scalar", "_RDivScalar": "_rdiv_scalar",
    "_Maximum": "_maximum", "_Minimum": "_minimum", "_Power": "_power", "ElementWiseSum": "add_n",
    "Softmax": "SoftmaxOutput",
}


@dataclass(slots=True)
class SymNode:
    index: int
    op: str              # "null" for variables
    name: str
    attrs: dict[str, str]
    inputs: list[tuple[int, int]]
    hints: dict[str, str] = field(default_factory=dict)   # __dunder__ attributes


@dataclass(slots=True)
class Symbol:
    path: str
    nodes: list[SymNode]
    heads: list[tuple[int, int]]
    version: int | None


def is_symbol_json(path: str) -> bool:
    """True when the file is a JSON object naming "nodes", "arg_nodes" and "heads" (reads 64 KiB at most)."""
    try:
        with open(path, "rb") as f:
            head = f.read(1 << 16)
    except OSError:
        return False
    text = head.lstrip()
    if not text.startswith(b"{"):
        return False
    if b'"nodes"' not in head:
        return False
    # "heads" and "arg_nodes" follow the nodes, so a large file shows only nodes in its first 64 KiB
    return b'"heads"' in head or (len(head) == 1 << 16 and b'"op"' in head and b'"inputs"' in head)


def read_symbol(path: str) -> Symbol:
    try:
        with open(path, "rb") as f:
            doc = json.loads(f.read().decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{path}: not a readable MXNet symbol JSON ({type(e).__name__}: "
                         f"{str(e).splitlines()[0] if str(e) else ''}); is the file truncated?") from None
    if not isinstance(doc, dict) or "nodes" not in doc or "heads" not in doc:
        raise InputError(f"{path}: not an MXNet symbol file (needs \"nodes\" and \"heads\")")
    nodes = []
    raw_nodes = doc["nodes"]
    for i, n in enumerate(raw_nodes):
        try:
            op = str(n["op"])
            name = str(n.get("name", f"node{i}"))
            raw_attrs: dict = {}
            for key in ("param", "attr", "attrs"):   # oldest spelling first; newer ones win
                if isinstance(n.get(key), dict):
                    raw_attrs.update(n[key])
            inputs = []
            for ref in n.get("inputs", []):
                src, out = int(ref[0]), int(ref[1]) if len(ref) > 1 else 0
                if not 0 <= src < i:
                    raise InputError(f"{path}: node {name!r} reads node {src}, which does not come before it")
                inputs.append((src, out))
        except (KeyError, TypeError, ValueError, IndexError) as e:
            raise InputError(f"{path}: node {i} is malformed ({type(e).__name__}: {e})") from None
        attrs = {str(k): str(v) for k, v in raw_attrs.items() if not str(k).startswith("__")}
        hints = {str(k): str(v) for k, v in raw_attrs.items() if str(k).startswith("__")}
        nodes.append(SymNode(i, LEGACY_OPS.get(op, op), name, attrs, inputs, hints))
    try:
        heads = [(int(h[0]), int(h[1]) if len(h) > 1 else 0) for h in doc["heads"]]
    except (TypeError, ValueError, IndexError):
        raise InputError(f"{path}: \"heads\" is malformed") from None
    for h, _ in heads:
        if not 0 <= h < len(nodes):
            raise InputError(f"{path}: head refers to node {h}, the file has {len(nodes)} nodes")
    version = None
    ver = (doc.get("attrs") or {}).get("mxnet_version")
    if isinstance(ver, list) and len(ver) == 2:
        try:
            version = int(ver[1])
        except (TypeError, ValueError):
            version = None
    return Symbol(path, nodes, heads, version)


_NUM = re.compile(r"^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf|nan)$", re.IGNORECASE)


def parse_attr(text: str) -> Any:
    """The Python value of an attribute string: ``"(3, 3)"`` -> (3, 3), ``"True"`` -> True,
    ``"0.5"`` -> 0.5, ``"None"`` -> None; anything else stays a string."""
    t = text.strip()
    if t in ("True", "true"):
        return True
    if t in ("False", "false"):
        return False
    if t in ("None", ""):
        return None
    if _NUM.match(t):
        try:
            return int(t)
        except ValueError:
            return float(t)
    if t[:1] in "([" and t[-1:] in ")]":
        inner = t[1:-1].strip()
        if not inner:
            return ()
        items = [x.strip() for x in inner.split(",") if x.strip()]
        out = []
        for x in items:
            v = parse_attr(x)
            if isinstance(v, str):
                try:
                    v = ast.literal_eval(x)
                except (ValueError, SyntaxError):
                    pass
            out.append(v)
        return tuple(out)
    return t


def default_params_path(symbol_path: str) -> str | None:
    """``name-symbol.json`` -> the newest existing ``name-NNNN.params`` next to it."""
    base = os.path.basename(symbol_path)
    folder = os.path.dirname(os.path.abspath(symbol_path))
    stem = base[:-len("-symbol.json")] if base.endswith("-symbol.json") else os.path.splitext(base)[0]
    pat = re.compile(re.escape(stem) + r"-(\d+)\.params$")
    found = sorted((int(m.group(1)), f) for f in os.listdir(folder) if (m := pat.match(f)))
    if found:
        return os.path.join(folder, found[-1][1])
    plain = os.path.join(folder, stem + ".params")
    return plain if os.path.exists(plain) else None


def default_symbol_path(params_path: str) -> str | None:
    """``name-0000.params`` -> ``name-symbol.json`` next to it, when it exists."""
    folder = os.path.dirname(os.path.abspath(params_path))
    base = os.path.basename(params_path)
    m = re.match(r"(.*)-\d+\.params$", base)
    stem = m.group(1) if m else os.path.splitext(base)[0]
    cand = os.path.join(folder, stem + "-symbol.json")
    return cand if os.path.exists(cand) else None
