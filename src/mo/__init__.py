"""mo: convert Caffe, TensorFlow, MXNet, ONNX and Kaldi models to OpenVINO IR.

Python API::

    import mo
    graph = mo.convert("model.onnx", data_type="FP16")
    mo.save(graph, "out/model.xml")
"""
from __future__ import annotations

import os
from typing import Any

from .errors import MoError
from .graph import Graph
from .options import ConvertOptions

__version__ = "0.1.0"


def convert(model: str | os.PathLike, **options: Any) -> Graph:
    """Convert a model file to a mo Graph (OpenVINO opset ops); options as on the CLI."""
    from .pipeline import convert as _convert
    return _convert(ConvertOptions.from_kwargs(os.fspath(model), **options))


def save(graph: Graph, path: str | os.PathLike):
    """Write ``graph`` as an IR: ``path`` (.xml) and the .bin beside it, atomically."""
    from mo.ir.emitter import save as _save
    return _save(graph, path)


__all__ = ["convert", "save", "Graph", "ConvertOptions", "MoError", "__version__"]
