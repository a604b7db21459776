"""Calibration samples for ``--quantize``: ``--calibration DIR`` or ``--calibration random``.

DIR may hold, read in sorted file-name order:

* ``.npz`` files: arrays named after the model's inputs (one sample, or a batch along axis 0
  when the input's batch is 1 and the array has one more sample dimension);
* ``.npy`` files: the single input of a one-input model (same batch rule);
* images (``.jpg``, ``.jpeg``, ``.png``, ``.bmp``): decoded with Pillow, resized (bilinear)
  to the input's spatial size and laid out as the input's layout says (channels first or
  last). They go in as raw 0..255 values: ``--mean_values``/``--scale_values``/
  ``--reverse_input_channels`` are already inside the graph being calibrated, exactly as the
  IR will receive images at run time. Channel order: the order the IR's input expects, i.e.
  the source model's convention (BGR for Caffe, RGB for the other frameworks), swapped when
  ``--reverse_input_channels`` is given (the IR then takes the other order).

``random`` draws seeded standard-normal samples (a last resort: ranges then describe noise,
not data, and the IR's accuracy is unknown), and says so in a warning.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterator

import numpy as np

from mo.errors import InputError, OptionError
from mo.graph import Graph, Node
from mo.types import to_numpy

log = logging.getLogger("mo.passes")

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
RANDOM_SAMPLES = 16


def _input_name(p: Node) -> str:
    return p.outputs[0].names[0] if p.outputs[0].names else p.name


def _static_shape(p: Node) -> tuple[int, ...]:
    shape = p.outputs[0].shape
    if shape is None or any(d < 0 for d in shape):
        raise OptionError(f"--quantize: input {_input_name(p)!r} has the dynamic shape {shape}; "
                          f"give a static one with --input_shape for calibration")
    return tuple(shape)


def _fit(p: Node, array: np.ndarray, source: Path) -> Iterator[np.ndarray]:
    """``array`` as samples of input ``p``: itself, or its slices along a leading sample axis."""
    shape = _static_shape(p)
    dtype = to_numpy(p.outputs[0].etype)
    if tuple(array.shape) == shape:
        yield array.astype(dtype)
    elif array.ndim == len(shape) and shape[0] == 1 and tuple(array.shape[1:]) == shape[1:]:
        for i in range(array.shape[0]):
            yield array[i:i + 1].astype(dtype)
    elif tuple(array.shape) == shape[1:] and shape[0] == 1:
        yield array[None].astype(dtype)
    else:
        raise InputError(f"{source}: array of shape {list(array.shape)} does not fit input "
                         f"{_input_name(p)!r} of shape {list(shape)}")


def _image(p: Node, path: Path, channel_axis: int | None, bgr: bool) -> np.ndarray:
    from PIL import Image

    shape = _static_shape(p)
    if len(shape) != 4 or channel_axis not in (1, 3) or shape[channel_axis] != 3:
        raise OptionError(f"--calibration {path.parent}: images need a 4-D input with 3 channels; input "
                          f"{_input_name(p)!r} is {list(shape)}")
    h, w = (shape[2], shape[3]) if channel_axis == 1 else (shape[1], shape[2])
    try:
        with Image.open(path) as im:
            rgb = np.asarray(im.convert("RGB").resize((w, h), Image.BILINEAR), dtype=np.float32)
    except OSError as e:
        raise InputError(f"{path}: cannot read the image: {e}") from None
    if bgr:
        rgb = rgb[..., ::-1]
    x = rgb.transpose(2, 0, 1) if channel_axis == 1 else rgb
    return np.broadcast_to(x[None], shape).astype(to_numpy(p.outputs[0].etype))


def samples(graph: Graph, source: str, limit: int, channel_axis, bgr: bool = False) -> list[dict[str, np.ndarray]]:
    """Up to ``limit`` feeds (input name -> array) for ``graph``'s Parameters; images go in
    BGR order when ``bgr``, else RGB."""
    params = graph.parameters
    if source == "random":
        log.warning("--calibration random: activation ranges come from random data, not from real "
                    "inputs; the INT8 IR's accuracy on real data is unknown")
        rng = np.random.default_rng(0)
        return [{_input_name(p): rng.standard_normal(_static_shape(p)).astype(to_numpy(p.outputs[0].etype))
                 for p in params} for _ in range(min(limit, RANDOM_SAMPLES))]
    folder = Path(source)
    if not folder.is_dir():
        raise InputError(f"--calibration {source}: no such folder (give a folder of images, .npy or .npz files, "
                         f"or 'random')")
    files = sorted(f for f in folder.iterdir() if f.suffix.lower() in (".npy", ".npz", *IMAGE_SUFFIXES))
    if not files:
        raise InputError(f"--calibration {source}: no images, .npy or .npz files in the folder")
    feeds: list[dict[str, np.ndarray]] = []
    for f in files:
        if len(feeds) >= limit:
            break
        suffix = f.suffix.lower()
        if suffix == ".npz":
            with np.load(f, allow_pickle=False) as data:
                per_input = []
                for p in params:
                    name = _input_name(p)
                    if name not in data.files:
                        raise InputError(f"{f}: no array named {name!r} (has: {', '.join(data.files)})")
                    per_input.append(list(_fit(p, data[name], f)))
            counts = {len(s) for s in per_input}
            if len(counts) != 1:
                raise InputError(f"{f}: the inputs' arrays hold different numbers of samples")
            for i in range(counts.pop()):
                feeds.append({_input_name(p): s[i] for p, s in zip(params, per_input)})
            continue
        if len(params) != 1:
            raise InputError(f"{f}: the model has {len(params)} inputs; use .npz files with one array per input")
        p = params[0]
        if suffix == ".npy":
            array = np.load(f, allow_pickle=False)
            feeds.extend({_input_name(p): s} for s in _fit(p, array, f))
        else:
            feeds.append({_input_name(p): _image(p, f, channel_axis(p), bgr)})
    return feeds[:limit]
