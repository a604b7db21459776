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
    # TensorFlow
    input_model_is_text: bool = False
    saved_model_dir: str | None = None
    saved_model_tags: list[str] | None = None
    signature: str | None = None
    input_meta_graph: str | None = None
    input_checkpoint: str | None = None

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
            out[k] = v
        return cls(**out)


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
                value = tuple(float(x) for x in re.split(r"[,\s]+", v) if x)
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
    value = None
    if spec is not None and spec.value is not None:
        value = np.array(spec.value, dtype=to_numpy(etype))
        if shape is not None:
            value = value.reshape(shape)
    return etype, shape, value
