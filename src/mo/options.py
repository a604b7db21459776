"""ConvertOptions: everything a user can ask of a conversion, parsed once.

The CLI turns its flags into this dataclass; the Python API builds it from keyword
arguments. Frontends, the pipeline and the emitter read only this.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from typing import Any

from .errors import OptionError


@dataclass(frozen=True, slots=True)
class InputSpec:
    """One ``--input`` entry: a tensor name, optional shape, element type and frozen value."""

    name: str
    shape: tuple[int, ...] | None = None
    etype: str | None = None
    value: tuple[float, ...] | None = None


@dataclass(frozen=True, slots=True)
class ValuesSpec:
    """One ``--mean_values``/``--scale_values`` entry: per-channel numbers for an input.

    ``name`` None means the ``index``-th model input.
    """

    name: str | None
    index: int
    values: tuple[float, ...]


Layout = tuple[str, ...]  # dimension names, upper case; "?" an unnamed dim, "..." any number of dims


@dataclass(frozen=True, slots=True)
class LayoutSpec:
    """One ``--layout``/``--source_layout``/``--target_layout`` entry.

    ``name`` is an input or output tensor name; None means the ``index``-th model input.
    """

    name: str | None
    index: int = 0
    source: Layout | None = None
    target: Layout | None = None


@dataclass(slots=True)
class ConvertOptions:
    input_model: str = ""
    framework: str | None = None
    output_dir: str = "."
    model_name: str | None = None
    data_type: str = "FP32"
    compress_to_fp16: bool | None = None
    inputs: list[InputSpec] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    input_shape: list[tuple[int, ...]] = field(default_factory=list)
    extensions: list[str] = field(default_factory=list)
    log_level: str = "WARNING"
    fold_constants: bool = True
    disable_fusing: bool = False
    layout: list[LayoutSpec] = field(default_factory=list)
    source_layout: list[LayoutSpec] = field(default_factory=list)
    target_layout: list[LayoutSpec] = field(default_factory=list)
    # TensorFlow
    input_model_is_text: bool = False
    saved_model_dir: str | None = None
    saved_model_tags: list[str] | None = None
    signature: str | None = None
    input_meta_graph: str | None = None
    input_checkpoint: str | None = None
    # Caffe
    input_proto: str | None = None
    # MXNet
    input_symbol: str | None = None
    # Kaldi
    counts: str | None = None
    remove_output_softmax: bool = False
    kaldi_form: str = "chunk"              # "chunk": T frames in; "streaming": one frame, ReadValue/Assign state
    left_context: int | None = None
    right_context: int | None = None
    # input preprocessing embedded in the IR (all frameworks)
    mean_values: list[ValuesSpec] = field(default_factory=list)
    scale_values: list[ValuesSpec] = field(default_factory=list)
    scale: float | None = None
    reverse_input_channels: bool = False
    batch: int | None = None
    # weight compression and quantization
    compress_weights: str | None = None    # "int8" | "int4"
    quantize: str | None = None            # "int8"
    calibration: str | None = None         # a folder of images / .npy / .npz, or "random"
    quantize_preset: str = "performance"   # "performance" (symmetric) | "mixed" (asymmetric activations)
    calibration_stat: str = "minmax"       # "minmax" | "percentile:99.99"
    calibration_size: int = 300
    prune: str | None = None               # "magnitude:0.5"
    prune_exclude: list[str] = field(default_factory=list)   # "first", "last", or layer names
    cluster: int | None = None             # k centroids per layer

    @property
    def fp16(self) -> bool:
        if self.compress_to_fp16 is not None:
            return bool(self.compress_to_fp16)
        return self.data_type.upper() in ("FP16", "HALF")

    @classmethod
    def from_kwargs(cls, model: str, **kw: Any) -> "ConvertOptions":
        known = {f.name for f in fields(cls)}
        aliases = {"input": "inputs", "output": "outputs"}
        out: dict[str, Any] = {"input_model": str(model)}
        weights = kw.get("input_model")
        if weights is not None and str(weights) != str(model) and str(model).lower().endswith((".prototxt", ".pt")):
            # convert("deploy.prototxt", input_model="w.caffemodel"): the prototxt is the network
            kw = {**kw, "input_model": str(weights)}
            kw.setdefault("input_proto", str(model))
        for k, v in kw.items():
            k = aliases.get(k, k)
            if k not in known:
                raise OptionError(f"unknown option {k!r}")
            if v is None:
                continue
            if k == "inputs":
                v = parse_inputs(v) if isinstance(v, str) else [i if isinstance(i, InputSpec) else parse_inputs(i)[0]
                                                                for i in v]
            elif k == "outputs":
                v = split_names(v) if isinstance(v, str) else list(v)
            elif k == "input_shape":
                v = parse_shapes(v) if isinstance(v, str) else [tuple(int(d) for d in s) for s in v]
            elif k == "data_type":
                v = str(v).upper()
                if v not in ("FP32", "FP16", "HALF", "FLOAT"):
                    raise OptionError(f"--data_type must be FP32 or FP16, not {v}")
                v = {"HALF": "FP16", "FLOAT": "FP32"}.get(v, v)
            elif k == "saved_model_tags" and isinstance(v, str):
                v = split_names(v)
            elif k == "input_model_is_text" and isinstance(v, str):
                v = parse_bool(v, "--input_model_is_text")
            elif k == "compress_to_fp16" and isinstance(v, str):
                v = parse_bool(v, "--compress_to_fp16")
            elif k in ("layout", "source_layout", "target_layout"):
                v = parse_layout_option(v, k)
            elif k in ("mean_values", "scale_values"):
                v = parse_values_option(v, k)
            elif k in ("reverse_input_channels", "remove_output_softmax") and isinstance(v, str):
                v = parse_bool(v, "--" + k)
            elif k in ("scale",):
                v = float(v)
            elif k in ("batch", "calibration_size", "cluster", "left_context", "right_context"):
                try:
                    v = int(v)
                except (TypeError, ValueError):
                    raise OptionError(f"--{k} takes an integer, not {v!r}") from None
            elif k == "prune_exclude" and isinstance(v, str):
                v = split_names(v)
            elif k == "kaldi_form" and v not in ("chunk", "streaming"):
                raise OptionError(f"--kaldi_form is chunk or streaming, not {v!r}")
            elif k == "compress_weights" and str(v).lower() not in ("int8", "int4"):
                raise OptionError(f"--compress_weights is int8 or int4, not {v!r}")
            elif k == "quantize" and str(v).lower() != "int8":
                raise OptionError(f"--quantize supports int8, not {v!r}")
            elif k == "quantize_preset" and v not in ("performance", "mixed"):
                raise OptionError(f"--quantize_preset is performance or mixed, not {v!r}")
            out[k] = v
        options = cls(**out)
        merge_layouts(options)  # rejects conflicting layout options early
        return options


def parse_bool(text: str, what: str) -> bool:
    t = text.strip().lower()
    if t in ("1", "true", "yes", "on"):
        return True
    if t in ("0", "false", "no", "off"):
        return False
    raise OptionError(f"{what} takes True or False, not {text!r}")


def split_names(text: str) -> list[str]:
    """Split a comma list at commas outside brackets/braces."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur.strip())
    return parts


def parse_dim(text: str) -> int:
    t = text.strip()
    if t in ("?", "-1", ""):
        return -1
    if ".." in t:  # a bounded range keeps the dim dynamic
        return -1
    try:
        d = int(t)
    except ValueError:
        raise OptionError(f"bad dimension {text!r}: use an integer, ? or -1") from None
    if d < -1:
        raise OptionError(f"bad dimension {text!r}")
    return d


def parse_shape(text: str) -> tuple[int, ...]:
    t = text.strip()
    if t.startswith("[") and t.endswith("]") or t.startswith("(") and t.endswith(")"):
        t = t[1:-1]
    if not t.strip():
        return ()
    sep = "," if "," in t else " "
    return tuple(parse_dim(d) for d in t.split(sep) if d.strip() or sep == ",")


def parse_shapes(text: str) -> list[tuple[int, ...]]:
    """``[1,3,224,224],[1,10]`` -> list of shapes."""
    shapes = re.findall(r"[\[(]([^\])]*)[\])]", text)
    if not shapes:
        raise OptionError(f"--input_shape {text!r}: write shapes in brackets, e.g. [1,3,224,224]")
    return [parse_shape("[" + s + "]") for s in shapes]


_INPUT_RE = re.compile(r"^(?P<name>[^\[{]+?)(?:\s*(?P<shape>\[[^\]]*\]))?(?:\s*\{(?P<type>[^}]*)\})?"
                       r"(?:\s*->\s*(?P<value>.+))?$")

_TYPES = {"f32": "f32", "fp32": "f32", "float": "f32", "float32": "f32", "f16": "f16", "fp16": "f16",
          "float16": "f16", "i64": "i64", "int64": "i64", "i32": "i32", "int32": "i32", "u8": "u8", "uint8": "u8",
          "i8": "i8", "int8": "i8", "boolean": "boolean", "bool": "boolean", "f64": "f64", "float64": "f64"}


def _number(text: str) -> float:
    """A value of ``--input name->value``: a number, or true/false (1/0)."""
    low = text.strip().lower()
    if low in ("true", "false"):
        return 1.0 if low == "true" else 0.0
    return float(text)


def parse_inputs(text: str) -> list[InputSpec]:
    """``name[1,3,224,224]{f32}->[values],other`` -> InputSpecs."""
    specs = []
    for part in split_names(text):
        m = _INPUT_RE.match(part)
        if not m:
            raise OptionError(f"--input entry {part!r} is not name[shape]{{type}}->value")
        shape = parse_shape(m.group("shape")) if m.group("shape") else None
        etype = None
        if m.group("type"):
            etype = _TYPES.get(m.group("type").strip().lower())
            if etype is None:
                raise OptionError(f"--input {part!r}: unknown element type {m.group('type')!r}")
        value = None
        if m.group("value"):
            v = m.group("value").strip().strip("[]")
            try:
                value = tuple(_number(x) for x in re.split(r"[,\s]+", v) if x)
            except ValueError:
                raise OptionError(f"--input {part!r}: value must be numbers") from None
        if value is not None and shape is not None and all(d >= 0 for d in shape):
            count = 1
            for d in shape:
                count *= d
            if len(value) == 1 and count != 1:
                value = value * count          # one number fills the whole shape
            elif len(value) != count:
                raise OptionError(f"--input {part!r}: {len(value)} value(s) for shape {list(shape)} "
                                  f"({count} elements); give one value or all of them")
        specs.append(InputSpec(m.group("name").strip(), shape, etype, value))
    return specs


def resolve_input(options: "ConvertOptions", index: int, spec: InputSpec | None, etype: str | None,
                  shape: tuple[int, ...] | None) -> tuple[str, tuple[int, ...] | None, "np.ndarray | None"]:
    """Element type, shape and frozen value of model input ``index``.

    The model's declared type and shape are overridden by ``--input_shape`` (by position),
    then by the ``--input`` entry's own shape and type; an element type nobody states is
    f32. The value is a numpy array when the entry freezes the input (``name->value``).
    """
    import numpy as np

    from .types import to_numpy

    if options.input_shape:
        shape = options.input_shape[index]
    if spec is not None and spec.shape is not None:
        shape = spec.shape
    if spec is not None and spec.etype is not None:
        etype = spec.etype
    etype = etype or "f32"
    if options.batch is not None and shape:
        if options.batch < 1:
            raise OptionError(f"--batch {options.batch}: must be 1 or more")
        shape = (options.batch, *shape[1:])
    value = None
    if spec is not None and spec.value is not None:
        value = np.array(spec.value, dtype=to_numpy(etype))
        if shape is not None:
            value = value.reshape(shape)
    return etype, shape, value


def parse_layout(text: str, what: str) -> Layout:
    """``nchw``, ``NCHW``, ``?c??``, ``n...c`` or ``[n,c,h,w]`` / ``[batch,...]`` -> dimension names.

    The short form has one letter (or ``?``) per dimension; the bracketed form has
    comma-separated names. ``...`` stands for any number of unnamed dimensions.
    """
    t = text.strip()
    if t.startswith("[") and t.endswith("]"):
        dims = [d.strip() for d in t[1:-1].split(",")]
    else:
        dims = re.findall(r"\.\.\.|.", t.replace(" ", ""))
    if not t or not dims or any(not d for d in dims):
        raise OptionError(f"{what}: bad layout {text!r}: use letters like nchw, ?c?? or [n,c,h,w]")
    for d in dims:
        if "*" in d:
            raise OptionError(f"{what}: layout {text!r}: fusing dimensions with '*' is not supported")
        if d not in ("?", "...") and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", d):
            raise OptionError(f"{what}: bad layout {text!r}: dimension {d!r} is not a letter, name, ? or ...")
    out = tuple(d.upper() for d in dims)
    named = [d for d in out if d not in ("?", "...")]
    if len(set(named)) != len(named):
        raise OptionError(f"{what}: bad layout {text!r}: a dimension is named twice")
    if out.count("...") > 1:
        raise OptionError(f"{what}: bad layout {text!r}: '...' may appear once")
    return out


def format_layout(layout: Layout) -> str:
    """OpenVINO's text form of a layout: ``[N,C,H,W]``."""
    return "[" + ",".join(layout) + "]"


def _split_layout_entry(part: str) -> tuple[str | None, str]:
    """``name(body)`` -> (name, body); a bare ``body`` -> (None, body)."""
    if not part.endswith(")"):
        return None, part
    depth = 0
    for i in range(len(part) - 1, -1, -1):
        if part[i] == ")":
            depth += 1
        elif part[i] == "(":
            depth -= 1
            if depth == 0:
                return (part[:i].strip() or None), part[i + 1:-1]
    return None, part


def parse_layout_option(value: Any, option: str) -> list[LayoutSpec]:
    """Parse one of the layout options into LayoutSpecs.

    Forms: ``nchw``, ``nhwc->nchw`` (``--layout`` only), ``name(nchw)``,
    ``name(nhwc->nchw),other([n,c])``; unnamed entries apply to the inputs in order.
    The Python API also takes a dict ``{name: layout}`` or a list of entries.
    """
    what = "--" + option
    if isinstance(value, dict):
        parts = [(str(k), str(v)) for k, v in value.items()]
    else:
        if not isinstance(value, (str, list, tuple)):
            value = str(value)  # e.g. an openvino Layout: "[N,C,H,W]"
        items = split_names(value) if isinstance(value, str) else [str(x) for x in value]
        parts = [_split_layout_entry(p.strip()) for p in items if p.strip()]
    if not parts:
        raise OptionError(f"{what}: no layout given")
    specs: list[LayoutSpec] = []
    unnamed = 0
    for name, body in parts:
        if "->" in body:
            if option != "layout":
                raise OptionError(f"{what} {body!r}: 'a->b' is for --layout; here give one layout")
            src_text, dst_text = body.split("->", 1)
            src = parse_layout(src_text, what) if src_text.strip() else None
            dst = parse_layout(dst_text, what)
        else:
            src, dst = parse_layout(body, what), None
            if option == "target_layout":
                src, dst = None, src
        specs.append(LayoutSpec(name, 0 if name else unnamed, src, dst))
        unnamed += name is None
    return specs


def parse_values_option(value: Any, option: str) -> list[ValuesSpec]:
    """``--mean_values``/``--scale_values``: ``[123,117,104]``, ``data[123,117,104],im_info[1]``.

    The Python API also takes a list of numbers, a dict ``{name: numbers}`` or a list of lists.
    Unnamed entries apply to the model's inputs in order.
    """
    what = "--" + option
    if isinstance(value, dict):
        items = [(str(k), v) for k, v in value.items()]
    elif isinstance(value, (list, tuple)) and value and all(isinstance(x, (int, float)) for x in value):
        items = [(None, value)]
    elif isinstance(value, (list, tuple)):
        items = [(None, v) for v in value]
    else:
        items = []
        text = str(value).strip()
        for m in re.finditer(r"\s*,?\s*([^\[\](),]*?)\s*[\[(]([^\])]*)[\])]", text):
            items.append((m.group(1).strip() or None, m.group(2)))
        rest = re.sub(r"[^\[\](),]*[\[(][^\])]*[\])]", "", text).strip(" ,")
        if not items or rest:
            raise OptionError(f"{what} {text!r}: write values in brackets, e.g. [123.7,116.3,103.5] "
                              f"or data[123.7,116.3,103.5]")
    specs, unnamed = [], 0
    for name, vals in items:
        if isinstance(vals, str):
            try:
                nums = tuple(float(x) for x in re.split(r"[,\s]+", vals.strip()) if x)
            except ValueError:
                raise OptionError(f"{what}: {vals!r} is not a list of numbers") from None
        else:
            nums = tuple(float(x) for x in (vals if isinstance(vals, (list, tuple)) else [vals]))
        if not nums:
            raise OptionError(f"{what}: empty value list")
        if option == "scale_values" and any(x == 0 for x in nums):
            raise OptionError(f"{what}: a scale value of 0 would divide by zero")
        specs.append(ValuesSpec(name, 0 if name else unnamed, nums))
        unnamed += name is None
    return specs


def merge_layouts(options: "ConvertOptions") -> list[LayoutSpec]:
    """One LayoutSpec per tensor from --layout, or from --source_layout + --target_layout."""
    if options.layout and (options.source_layout or options.target_layout):
        raise OptionError("--layout cannot be combined with --source_layout or --target_layout")
    if options.layout:
        specs = options.layout
    else:
        specs = []
        merged: dict[tuple[str | None, int], LayoutSpec] = {}
        for s in options.source_layout + options.target_layout:
            key = (s.name, s.index)
            old = merged.get(key)
            if old is None:
                merged[key] = s
            else:
                merged[key] = LayoutSpec(s.name, s.index, old.source or s.source, old.target or s.target)
        specs = list(merged.values())
    seen: set[tuple[str | None, int]] = set()
    for s in specs:
        if (s.name, s.index) in seen:
            who = repr(s.name) if s.name else f"input {s.index}"
            raise OptionError(f"layout of {who} given twice")
        seen.add((s.name, s.index))
    return specs
