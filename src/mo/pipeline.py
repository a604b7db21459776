"""The conversion pipeline: frontend -> passes in explicit phase order -> Graph.

Phases (each an explicit list; options add or remove passes, nothing is discovered):

    NORMALIZE -> FREEZE -> FOLD -> FUSE -> PREPROCESS -> COMPRESS -> FINALIZE
"""
from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path
from typing import Callable

from .errors import ConversionError, InputError, MoError, OptionError
from .graph import Graph, GraphError
from .options import ConvertOptions

log = logging.getLogger("mo")

FRAMEWORKS = ("onnx", "tf", "caffe", "mxnet", "kaldi")


# Each frontend is the package mo.frontends.<framework> with two functions:
#   detect(path) -> bool   cheap, by content (no heavy imports), True when the file is this framework's
#   load(path, options) -> Graph
# and DEPENDENCIES names what `pip install` must add for it.
DEPENDENCIES = {"onnx": "mo[onnx]", "tf": "mo[tf]", "caffe": "mo[caffe]", "mxnet": "mo[mxnet]", "kaldi": "mo[kaldi]"}


def _frontend_module(framework: str):
    import importlib
    try:
        return importlib.import_module(f"mo.frontends.{framework}")
    except ModuleNotFoundError as e:
        if e.name and e.name.startswith(f"mo.frontends.{framework}"):
            raise OptionError(f"the {framework} frontend is not available in this version of mo") from None
        raise OptionError(f"the {framework} frontend needs {e.name}: pip install '{DEPENDENCIES[framework]}'") from None


def detect_framework(path: str) -> str:
    """Guess the framework from the file's content (extensions only break ties)."""
    if not os.path.exists(path):
        raise InputError(f"{path}: file not found")
    for framework in FRAMEWORKS:
        try:
            module = _frontend_module(framework)
        except OptionError:
            continue
        detect = getattr(module, "detect", None)
        if detect is not None and detect(path):
            return framework
    raise InputError(f"{path}: cannot tell the model's framework; pass --framework (one of {', '.join(FRAMEWORKS)})")


def load_frontend(framework: str) -> Callable[[str, ConvertOptions], Graph]:
    if framework not in FRAMEWORKS:
        raise OptionError(f"unknown framework {framework!r}; use one of {', '.join(FRAMEWORKS)}")
    return _frontend_module(framework).load


def _pass(module: str) -> Callable[[Graph], object]:
    """The ``run(graph)`` of mo.passes.<module>, imported when the pass runs."""
    def run(graph: Graph):
        import importlib
        return importlib.import_module(f"mo.passes.{module}").run(graph)
    return run


def _option_pass(module: str, options: ConvertOptions) -> Callable[[Graph], object]:
    """The ``run(graph, options)`` of mo.passes.<module>, for passes that read options."""
    def run(graph: Graph):
        import importlib
        return importlib.import_module(f"mo.passes.{module}").run(graph, options)
    return run


# FUSE, in order: each module's docstring states its rules. Off with --disable_fusing.
FUSION_PASSES = ["fuse_activations", "fuse_normalization", "cse", "merge_chains", "fuse_pad", "fuse_group_conv",
                 "fold_scale_shift", "fold_batch_norm_into_conv", "merge_chains", "cse"]


def passes_for(options: ConvertOptions) -> list[tuple[str, Callable]]:
    """The ordered pass list for these options."""
    normalize = [("transpose_sinking", _pass("transpose_sinking"))]
    fold = [("fold_constants", _pass("fold_constants"))] if options.fold_constants else []
    fuse = [] if options.disable_fusing else [(name, _pass(name)) for name in FUSION_PASSES]
    compress = []
    if not options.quantize and (options.calibration or options.calibration_stat != "minmax"):
        raise OptionError("--calibration and --calibration_stat are for --quantize int8, which was not given")
    if options.prune:
        compress.append(("prune", _option_pass("prune", options)))
    if options.cluster:
        compress.append(("cluster", _option_pass("cluster", options)))
    if options.quantize:
        compress.append(("quantize", _option_pass("quantize", options)))
    if options.compress_weights:
        compress.append(("compress_weights", _option_pass("compress_weights", options)))
    if options.fp16:
        compress.append(("compress_to_fp16", _pass("compress_to_fp16")))
    finalize = [("eliminate_dead_code", _pass("eliminate_dead_code"))]
    # mean/scale/reverse run before FUSE so that fold_scale_shift folds them into the first
    # convolution; the layout change stays after it
    pre = preprocess_passes(options)
    early = [p for p in pre if p[0] == "preprocess"]
    late = [p for p in pre if p[0] != "preprocess"]
    return normalize + fold + early + fuse + late + compress + finalize


def preprocess_passes(options: ConvertOptions) -> list[tuple[str, Callable]]:
    """PREPROCESS: interface changes the user asked for (--mean_values, --layout and friends)."""
    from mo.options import merge_layouts
    from mo.passes import layout as layout_pass

    out = []
    if options.mean_values or options.scale_values or options.scale or options.reverse_input_channels:
        out.append(("preprocess", _option_pass("preprocess", options)))
    specs = merge_layouts(options)
    if specs:
        out.append(("layout", lambda g, specs=specs: layout_pass.run(g, specs)))
    return out


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
    stem = Path(path).stem
    if framework == "mxnet":  # model-symbol.json / model-0000.params -> model, as MXNet names the pair
        stem = re.sub(r"(-symbol|-\d{4})$", "", stem) or stem
    graph.name = options.model_name or stem
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
