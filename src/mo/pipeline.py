"""The conversion pipeline: frontend -> passes in explicit phase order -> Graph.

Phases (each an explicit list; options add or remove passes, nothing is discovered):

    NORMALIZE -> FREEZE -> FOLD -> FUSE -> PREPROCESS -> COMPRESS -> FINALIZE
"""
from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Callable

from .errors import ConversionError, InputError, MoError, OptionError
from .graph import Graph, GraphError
from .options import ConvertOptions

log = logging.getLogger("mo")

FRAMEWORKS = ("onnx", "tf", "caffe", "mxnet", "kaldi")


def detect_framework(path: str) -> str:
    """Guess the framework from the file (extension first, then content)."""
    if not os.path.exists(path):
        raise InputError(f"{path}: file not found")
    from mo.frontends import onnx as onnx_fe
    if onnx_fe.detect(path):
        return "onnx"
    from mo.frontends import tf as tf_fe
    if tf_fe.detect(path):
        return "tf"
    raise InputError(f"{path}: cannot tell the model's framework; pass --framework (one of {', '.join(FRAMEWORKS)})")


def load_frontend(framework: str) -> Callable[[str, ConvertOptions], Graph]:
    if framework == "onnx":
        try:
            from mo.frontends.onnx import load
        except ImportError as e:
            raise OptionError(f"the ONNX frontend needs the onnx package: pip install 'mo[onnx]' ({e})") from None
        return load
    if framework == "tf":
        from mo.frontends.tf import load as tf_load
        return tf_load
    if framework in FRAMEWORKS:
        raise OptionError(f"the {framework} frontend is not available in this version of mo")
    raise OptionError(f"unknown framework {framework!r}; use one of {', '.join(FRAMEWORKS)}")


def passes_for(options: ConvertOptions) -> list[tuple[str, Callable]]:
    """The ordered pass list for these options."""
    from mo.passes import (compress_to_fp16, eliminate_dead_code, fold_batch_norm_into_conv, fold_constants,
                           fold_scale_shift, transpose_sinking)

    layout = [("transpose_sinking", transpose_sinking.run)]
    fold = [("fold_constants", fold_constants.run)] if options.fold_constants else []
    fuse = [] if options.disable_fusing else [("fold_scale_shift", fold_scale_shift.run),
                                              ("fold_batch_norm_into_conv", fold_batch_norm_into_conv.run)]
    compress = [("compress_to_fp16", compress_to_fp16.run)] if options.fp16 else []
    finalize = [("eliminate_dead_code", eliminate_dead_code.run)]
    return layout + fold + fuse + preprocess_passes(options) + compress + finalize


def preprocess_passes(options: ConvertOptions) -> list[tuple[str, Callable]]:
    """PREPROCESS: interface changes the user asked for (--layout and friends)."""
    from mo.options import merge_layouts
    from mo.passes import layout as layout_pass

    specs = merge_layouts(options)
    return [("layout", lambda g, specs=specs: layout_pass.run(g, specs))] if specs else []


def run_passes(graph: Graph, options: ConvertOptions) -> list:
    reports = []
    for name, fn in passes_for(options):
        t0 = time.perf_counter()
        try:
            report = fn(graph)
        except MoError:
            raise
        except (GraphError, ValueError, TypeError, KeyError, IndexError) as e:
            raise ConversionError(f"pass {name} failed: {type(e).__name__}: {e}") from e
        log.info("%s (%.2fs)", report, time.perf_counter() - t0)
        reports.append(report)
    return reports


def convert(options: ConvertOptions) -> Graph:
    path = options.input_model or options.saved_model_dir or options.input_meta_graph or ""
    if not path:
        raise OptionError("no model given")
    if not os.path.exists(path):
        raise InputError(f"{path}: file not found")
    framework = options.framework or detect_framework(path)
    load = load_frontend(framework)
    for ext in options.extensions:
        load_extension(ext)
    t0 = time.perf_counter()
    graph = load(path, options)
    log.info("loaded %s model %s: %d nodes (%.2fs)", framework, path, len(graph), time.perf_counter() - t0)
    graph.meta["framework"] = framework
    graph.meta["source"] = path
    graph.meta["reports"] = run_passes(graph, options)
    graph.name = options.model_name or Path(path).stem
    graph.check()
    return graph


def load_extension(path: str) -> None:
    """Import a user's Python file or package of converters (they register themselves)."""
    import importlib.util
    import sys

    p = Path(path)
    if p.is_dir():
        files = sorted(p.glob("*.py"))
    elif p.is_file():
        files = [p]
    else:
        raise OptionError(f"--extensions {path}: no such file or folder")
    for f in files:
        name = f"mo_extension_{f.stem}_{abs(hash(str(f.resolve())))}"
        if name in sys.modules:
            continue
        spec = importlib.util.spec_from_file_location(name, f)
        if spec is None or spec.loader is None:
            raise OptionError(f"--extensions {f}: cannot import")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        try:
            spec.loader.exec_module(mod)
        except Exception as e:
            raise OptionError(f"--extensions {f}: import failed: {type(e).__name__}: {e}") from None
