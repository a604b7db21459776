"""The IR v11 emitter: plan and stream the weights into the BIN, then build the XML.

1. Weights: every Const is streamed, chunk by chunk, into the BIN while its bytes are
   hashed; a Const whose bytes equal an earlier one's (same hash and size, confirmed
   by byte comparison) is cut back out and shares the earlier offset.
2. XML: built from the graph and the weight plan with lxml; the graph is not changed.
3. Both files are written under temporary names in the output folder and renamed at
   the end, so a failed conversion never leaves a partial IR behind.

Layer ids follow the graph's topological order, attributes follow the op declaration,
so the same graph always gives byte-identical files.
"""
from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from lxml import etree

from mo.graph import Graph, Node, Value
from mo.types import precision

from . import opset

IR_VERSION = "11"


@dataclass(frozen=True, slots=True)
class Blob:
    offset: int
    size: int


@dataclass(slots=True)
class WeightsPlan:
    blobs: dict[Node, Blob]
    total_bytes: int
    deduplicated: int


def _same_bytes(f: BinaryIO, offset: int, node: Node) -> bool:
    tensor = node.outputs[0].const
    f.flush()
    pos = offset
    with open(f.name, "rb") as r:
        r.seek(pos)
        for chunk in tensor.chunks():  # type: ignore[union-attr]
            other = r.read(len(chunk))
            if other != bytes(chunk):
                return False
    return True


def write_weights(graph: Graph, f: BinaryIO) -> WeightsPlan:
    """Stream every Const's bytes into ``f`` (deduplicated); return where each one went."""
    blobs: dict[Node, Blob] = {}
    seen: dict[tuple[bytes, int], int] = {}
    end = 0
    dedup = 0
    for node in graph.nodes:
        if node.op != "Const":
            continue
        tensor = node.outputs[0].const
        if tensor is None:
            raise opset.OpError(f"Const {node.name} has no data")
        h = hashlib.blake2b(digest_size=20)
        start = end
        for chunk in tensor.chunks():
            h.update(chunk)
            f.write(chunk)
            end += len(chunk)
        size = end - start
        expected = int(tensor.size) * tensor.dtype.itemsize  # type: ignore[attr-defined]
        if size != expected:
            raise opset.OpError(f"Const {node.name}: streamed {size} bytes, expected {expected}")
        key = (h.digest(), size)
        if size and key in seen and _same_bytes(f, seen[key], node):
            f.flush()
            f.seek(start)
            f.truncate()
            end = start
            blobs[node] = Blob(seen[key], size)
            dedup += 1
            continue
        if size:
            seen.setdefault(key, start)
        blobs[node] = Blob(start, size)
    return WeightsPlan(blobs, end, dedup)


def _shape_text(shape) -> str:
    if shape is None:
        return "..."
    return ",".join("?" if d < 0 else str(d) for d in shape)


def _escape_names(names: list[str]) -> str:
    return ",".join(n.replace(",", "\\,") for n in names)


def _port(parent: etree._Element, pid: int, v: Value, with_names: bool, rt_info: dict | None = None) -> None:
    attrs = {"id": str(pid), "precision": precision(v.etype)}
    if with_names and v.names:
        attrs["names"] = _escape_names(v.names)
    port = etree.SubElement(parent, "port", attrs)
    if v.shape is not None:
        for d in v.shape:
            etree.SubElement(port, "dim").text = str(d)
    if rt_info:  # port rt_info, e.g. {"layout": {"layout": "[N,C,H,W]"}} as OpenVINO writes it
        rt = etree.SubElement(port, "rt_info")
        for key in sorted(rt_info):
            etree.SubElement(rt, "attribute", {"name": key, "version": "0", **_rt_extra(rt_info[key])})


def build_xml(graph: Graph, plan: WeightsPlan) -> etree._Element:
    net = etree.Element("net", {"name": graph.name, "version": IR_VERSION})
    layers = etree.SubElement(net, "layers")
    ids: dict[Node, int] = {n: i for i, n in enumerate(graph.nodes)}
    edges: list[tuple[int, int, int, int]] = []
    for node in graph.nodes:
        layer = etree.SubElement(layers, "layer", {"id": str(ids[node]), "name": node.name, "type": node.op,
                                                   "version": node.version})
        d = opset.get(node.op)
        data: dict[str, str] = {}
        if node.op == "Parameter":
            data = {"shape": _shape_text(node.attrs["shape"]), "element_type": node.attrs["element_type"]}
        elif node.op == "Const":
            blob = plan.blobs[node]
            data = {"element_type": node.attrs["element_type"], "shape": opset.format_attr("ints", node.attrs["shape"]),
                    "offset": str(blob.offset), "size": str(blob.size)}
        else:
            for name, spec in d.attrs.items():
                value = node.attrs.get(name)
                if value is None:
                    continue
                data[name] = opset.format_attr(spec.kind, value)
        if data or d.attrs:
            etree.SubElement(layer, "data", data)
        if node.rt_info:
            rt = etree.SubElement(layer, "rt_info")
            for key in sorted(node.rt_info):
                etree.SubElement(rt, "attribute", {"name": key, "version": "0", **_rt_extra(node.rt_info[key])})
        if node.inputs:
            inp = etree.SubElement(layer, "input")
            for i, v in enumerate(node.inputs):
                _port(inp, i, v, with_names=False)
                edges.append((ids[v.producer], len(v.producer.inputs) + v.index, ids[node], i))  # type: ignore[index]
        if node.outputs:
            out = etree.SubElement(layer, "output")
            port_rt = node.meta.get("output_rt_info", {})
            for k, v in enumerate(node.outputs):
                _port(out, len(node.inputs) + k, v, with_names=True, rt_info=port_rt.get(k))
    edges_el = etree.SubElement(net, "edges")
    for fl, fp, tl, tp in sorted(edges, key=lambda e: (e[2], e[3])):
        etree.SubElement(edges_el, "edge", {"from-layer": str(fl), "from-port": str(fp), "to-layer": str(tl),
                                            "to-port": str(tp)})
    rt = etree.SubElement(net, "rt_info")
    for key, value in sorted(graph.meta.get("rt_info", {}).items()):
        etree.SubElement(rt, key, {"value": str(value)})
    return net


def _rt_extra(value) -> dict[str, str]:
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    return {"value": str(value)} if value not in ("", None) else {}


@dataclass(frozen=True, slots=True)
class SavedIR:
    xml: Path
    bin: Path
    bin_bytes: int
    deduplicated: int


def _file_mode(target: Path) -> int:
    """Permission bits for an IR file: those of the file it replaces, else 0666 minus the umask."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def save(graph: Graph, xml_path: str | os.PathLike) -> SavedIR:
    """Write ``graph`` as ``xml_path`` + the ``.bin`` beside it, atomically."""
    graph.check()
    xml_path = Path(xml_path)
    bin_path = xml_path.with_suffix(".bin")
    folder = xml_path.parent
    folder.mkdir(parents=True, exist_ok=True)
    tmp_bin = tmp_xml = None
    try:
        with tempfile.NamedTemporaryFile("w+b", dir=folder, prefix=f".{xml_path.stem}.", suffix=".bin.part",
                                         delete=False) as fb:
            tmp_bin = fb.name
            plan = write_weights(graph, fb)
        root = build_xml(graph, plan)
        text = etree.tostring(root, pretty_print=True, xml_declaration=True, encoding="utf-8")
        with tempfile.NamedTemporaryFile("wb", dir=folder, prefix=f".{xml_path.stem}.", suffix=".xml.part",
                                         delete=False) as fx:
            tmp_xml = fx.name
            fx.write(text)
        # temporary files are created 0600: give the IR the mode a plain open() would
        os.chmod(tmp_bin, _file_mode(bin_path))
        os.chmod(tmp_xml, _file_mode(xml_path))
        os.replace(tmp_bin, bin_path)
        tmp_bin = None
        os.replace(tmp_xml, xml_path)
        tmp_xml = None
    finally:
        for t in (tmp_bin, tmp_xml):
            if t and os.path.exists(t):
                os.unlink(t)
    return SavedIR(xml_path, bin_path, plan.total_bytes, plan.deduplicated)
