"""nnet3 models: the config lines (nodes and their descriptors) and the component list.

``<Nnet3>`` is followed by plain-text config lines (in binary files too) up to an empty
line, ``<NumComponents> n``, then per component ``<ComponentName> name <XxxComponent>
fields... </XxxComponent>``, then ``</Nnet3>``; a ``.mdl`` adds ``<LeftContext>``,
``<RightContext>`` and ``<Priors>``. A TransitionModel before ``<Nnet3>`` is skipped.

Descriptors (nnet-descriptor.h): a node name, ``Offset(d, t[, x])``, ``Append(d, ...)``,
``Sum(a, b)``, ``Scale(s, d)``, ``Const(value, dim)``, ``ReplaceIndex(d, t|x, v)``,
``IfDefined(d)``, ``Failover(a, b)``, ``Round(d, mod)``, ``Switch(d, ...)``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .reader import KaldiFormatError, Reader

INT_FIELDS = {"Dim", "BlockDim", "InputDim", "OutputDim", "RankIn", "RankOut", "RankInOut", "UpdatePeriod",
              "TimePeriod", "NumRepeats", "NumBlocks", "LeftContext", "RightContext", "NumComponents",
              "InputDims", "OutputDims", "Modulus", "NumFilters", "NumFiltersIn", "NumFiltersOut", "Height",
              "HeightIn", "HeightOut", "Time", "CellDim", "ProjDim", "NumHeads", "KeyDim", "ValueDim",
              "NumLeftInputs", "NumRightInputs", "NumLeftInputsRequired", "NumRightInputsRequired",
              "TimeStride", "InputXDim", "InputYDim", "InputZDim", "PoolXSize", "PoolYSize",
              "PoolZSize", "PoolXStep", "PoolYStep", "PoolZStep", "PoolSize", "PoolStride", "ConstComponentDim",
              "Rank", "PatchDim", "PatchStep", "PatchStride", "PoolStep", "NumFiltersIn", "HeightSubsampleOut"}
BOOL_FIELDS = {"TestMode", "Continuous", "UseNaturalGradient", "IsGradient", "AddLogStddev", "OutputLogStddev",
               "IsComputeDerivative", "OutputContext", "AppendedConv"}
VECTOR_FIELDS = {"ValueAvg", "DerivAvg", "OderivRms", "StatsMean", "StatsVar", "BiasParams", "Priors", "Offsets",
                 "Bias", "Scales", "Counts"}
MATRIX_FIELDS = {"LinearParams", "Matrix"}
INT_VECTOR_FIELDS = {"TimeOffsets", "Indexes", "Offsets2", "ColumnMap", "Sizes", "Context", "RequiredTimeOffsets"}


@dataclass
class Component:
    name: str
    kind: str                     # e.g. "NaturalGradientAffineComponent"
    fields: dict[str, Any] = field(default_factory=dict)
    where: str = ""


@dataclass
class NodeLine:
    kind: str                     # input-node, component-node, output-node, dim-range-node
    name: str
    attrs: dict[str, str]
    line: int


@dataclass
class Nnet3:
    nodes: list[NodeLine]
    components: dict[str, Component]
    left_context: int | None = None
    right_context: int | None = None
    priors: np.ndarray | None = None


# ------------------------------------------------------------------ descriptors
@dataclass(frozen=True)
class Desc:
    op: str                       # "node", "Offset", "Append", "Sum", "Scale", "Const", "ReplaceIndex",
    args: tuple = ()              # "IfDefined", "Failover", "Round", "Switch"


_TOKEN = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_.\-]*|-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|[(),])")


def parse_descriptor(text: str, where: str) -> Desc:
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise KaldiFormatError(f"{where}: cannot parse descriptor {text!r} near {text[pos:pos + 20]!r}")
        tokens.append(m.group(1))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    k = 0

    def take(expected: str | None = None) -> str:
        nonlocal k
        if k >= len(tokens):
            raise KaldiFormatError(f"{where}: descriptor {text!r} ends too early")
        t = tokens[k]
        if expected is not None and t != expected:
            raise KaldiFormatError(f"{where}: descriptor {text!r}: expected {expected!r}, found {t!r}")
        k += 1
        return t

    def number() -> float:
        t = take()
        try:
            return float(t)
        except ValueError:
            raise KaldiFormatError(f"{where}: descriptor {text!r}: expected a number, found {t!r}") from None

    def desc() -> Desc:
        head = take()
        if k < len(tokens) and tokens[k] == "(" and head in ("Offset", "Append", "Sum", "Scale", "Const",
                                                             "ReplaceIndex", "IfDefined", "Failover", "Round",
                                                             "Switch"):
            take("(")
            if head == "Offset":
                d = desc()
                take(",")
                t = int(number())
                x = 0
                if tokens[k] == ",":
                    take(",")
                    x = int(number())
                take(")")
                return Desc("Offset", (d, t, x))
            if head == "Scale":
                s = number()
                take(",")
                d = desc()
                take(")")
                return Desc("Scale", (s, d))
            if head == "Const":
                v = number()
                take(",")
                dim = int(number())
                take(")")
                return Desc("Const", (v, dim))
            if head == "ReplaceIndex":
                d = desc()
                take(",")
                var = take()
                take(",")
                v = int(number())
                take(")")
                return Desc("ReplaceIndex", (d, var, v))
            if head == "Round":
                d = desc()
                take(",")
                mod = int(number())
                take(")")
                return Desc("Round", (d, mod))
            parts = [desc()]
            while tokens[k] == ",":
                take(",")
                parts.append(desc())
            take(")")
            return Desc(head, tuple(parts))
        return Desc("node", (head,))

    d = desc()
    if k != len(tokens):
        raise KaldiFormatError(f"{where}: trailing text in descriptor {text!r}")
    return d


# ------------------------------------------------------------------ reading
def _config_line(text: str, line: int, path: str) -> NodeLine | None:
    text = text.split("#", 1)[0].strip()
    if not text:
        return None
    kind, _, rest = text.partition(" ")
    if kind not in ("input-node", "component-node", "output-node", "dim-range-node"):
        raise KaldiFormatError(f"{path}: unknown nnet3 config line {kind!r} at line {line}")
    attrs: dict[str, str] = {}
    # key=value pairs; a descriptor value may hold spaces, but only inside parentheses
    key, value, depth = None, "", 0
    for part in re.split(r"(\s+)", rest):
        if key is not None and (depth > 0 or not re.match(r"^[A-Za-z\-_]+=", part) and part.strip() == ""):
            value += part
            continue
        m = re.match(r"^([A-Za-z\-_]+)=(.*)$", part) if depth == 0 else None
        if m:
            if key is not None:
                attrs[key] = value.strip()
            key, value = m.group(1), m.group(2)
        elif key is not None:
            value += part
        depth = value.count("(") - value.count(")")
    if key is not None:
        attrs[key] = value.strip()
    if "name" not in attrs:
        raise KaldiFormatError(f"{path}: nnet3 config line without name= at line {line}")
    return NodeLine(kind, attrs["name"], attrs, line)


def _value(r: Reader, tag: str) -> Any:
    if tag == "RankInOut":  # two integers
        return (r.int32(), r.int32())
    if tag in INT_FIELDS:
        return r.int32()
    if tag in BOOL_FIELDS:
        return r.bool()
    if tag in VECTOR_FIELDS or tag in MATRIX_FIELDS:
        return _untyped_value(r, tag)  # ValueAvg is a vector in most components, a matrix in LSTMs
    if tag in INT_VECTOR_FIELDS:
        return r.int_vector()
    # an unknown field: one or more values up to the next <Tag>, each told by what it starts with
    values = []
    while not _at_tag(r):
        values.append(_untyped_value(r, tag))
    return values[0] if len(values) == 1 else values


def _at_tag(r: Reader) -> bool:
    if r.binary:
        return r.pos >= len(r.data) or r.data[r.pos:r.pos + 1] == b"<"
    return r.peek_char() in ("<", "")


def _untyped_value(r: Reader, tag: str) -> Any:
    if r.binary:
        c = r.data[r.pos]
        two = r.data[r.pos:r.pos + 2]
        if two in (b"FV", b"DV"):
            return r.vector()
        if two in (b"FM", b"DM") or two[:1] == b"C":
            return r.matrix()
        if c in (ord("T"), ord("F")):
            return r.bool()
        if c in (4, 8):
            return r.float()
        raise r.fail(f"cannot read the value of field <{tag}>")
    c = r.peek_char()
    if c == "[":
        nl = r.data.find(b"\n", r.pos)
        close = r.data.find(b"]", r.pos)
        return r.matrix() if 0 <= nl < close else r.vector()
    if c in ("T", "F"):
        return r.bool()
    return r.float()


def read_component(r: Reader, name: str) -> Component:
    start = r.pos
    kind_tok = r.token()
    if not (kind_tok.startswith("<") and kind_tok.endswith(">")):
        raise r.fail(f"component {name!r}: expected a component type token, found {kind_tok[:40]!r}", start)
    kind = kind_tok[1:-1]
    comp = Component(name, kind, where=r.where(start))
    close = f"</{kind}>"
    while True:
        tok_pos = r.pos
        tok = r.token()
        if tok == close:
            return comp
        if tok in ("<ComponentName>", "</Nnet3>"):
            raise r.fail(f"component {name!r} ({kind}) is not closed by {close}", tok_pos)
        if not (tok.startswith("<") and tok.endswith(">")):
            raise r.fail(f"component {name!r} ({kind}): expected a field tag, found {tok[:40]!r}", tok_pos)
        tag = tok[1:-1]
        if r.peek_char() == "<" and not (r.binary and r.data[r.pos] in (4, 8)):
            comp.fields[tag] = True  # a tag with no value
            continue
        if kind == "TimeHeightConvolutionComponent" and tag == "Offsets":  # (time, height) pairs
            comp.fields[tag] = r.int_pair_vector()
            continue
        comp.fields[tag] = _value(r, tag)


def read_nnet3(r: Reader) -> Nnet3:
    """Read from ``<Nnet3>`` (the reader stands before it) to the end of the model."""
    r.expect("<Nnet3>")
    nodes: list[NodeLine] = []
    while True:
        if r.pos >= len(r.data):
            raise r.fail("file ends inside the nnet3 config lines")
        line_no = r.data.count(b"\n", 0, r.pos) + 1
        text = r.line()
        if not text.strip():
            if nodes:
                break
            continue
        node = _config_line(text, line_no, r.path)
        if node is not None:
            nodes.append(node)
    r.expect("<NumComponents>")
    n = r.int32()
    components: dict[str, Component] = {}
    for _ in range(n):
        r.expect("<ComponentName>")
        name = r.token()
        components[name] = read_component(r, name)
    r.expect("</Nnet3>")
    net = Nnet3(nodes, components)
    while not r.eof():
        tok_pos = r.pos
        tok = r.token()
        if tok == "<LeftContext>":
            net.left_context = r.int32()
        elif tok == "<RightContext>":
            net.right_context = r.int32()
        elif tok == "<Priors>":
            net.priors = r.vector()
        elif tok in ("</AmNnetSimple>", "<AmNnetSimple>"):
            continue
        else:
            raise r.fail(f"unexpected {tok[:40]!r} after the network", tok_pos)
    return net
