"""The ``mo`` command line: ``mo convert MODEL [options]`` (and the old ``mo --input_model MODEL``)."""
from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

import click

from .errors import MoError
from .options import ConvertOptions, parse_bool

INTERNAL_ERROR = 3  # exit code of an unexpected exception (a bug in mo, not in the input)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mo", prog_name="mo")
def cli() -> None:
    """Convert models to OpenVINO IR (model.xml + model.bin)."""


@cli.command("convert")
@click.argument("model", required=False)
@click.option("--input_model", "-m", "-w", "input_model", help="The model file (same as MODEL).")
@click.option("--framework", type=click.Choice(["onnx", "tf", "caffe", "mxnet", "kaldi"]),
              help="Source framework; guessed from the file when omitted.")
@click.option("--output_dir", "-o", default=".", show_default=True, help="Folder for the .xml and .bin.")
@click.option("--model_name", "-n", help="Name of the IR files (default: the model file's stem).")
@click.option("--data_type", default="FP32", show_default=True,
              type=click.Choice(["FP32", "FP16", "half", "float"], case_sensitive=False),
              help="FP16 stores weights as f16 with decompression Converts.")
@click.option("--compress_to_fp16", is_flag=False, flag_value="True", default=None,
              help="Store weights in FP16 (True/False); overrides --data_type.")
@click.option("--input", "inputs", help="Inputs to use or cut at: name[shape]{type}->value, comma-separated.")
@click.option("--output", "outputs", help="Outputs to cut at: tensor names, comma-separated.")
@click.option("--input_shape", help="Shapes of the inputs, e.g. [1,3,224,224] ('?' or -1: dynamic).")
@click.option("--layout", help="Layouts of inputs/outputs, optionally changed: name(nhwc->nchw),other(nc) or nchw.")
@click.option("--source_layout", help="Layouts the model's inputs/outputs have: name(nhwc),... or nhwc.")
@click.option("--target_layout", help="Layouts the IR's inputs/outputs get (Transposes inserted): name(nchw),...")
@click.option("--extensions", multiple=True, help="Python file or folder with extra converters.")
@click.option("--log_level", default="WARNING", show_default=True,
              type=click.Choice(["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG", "NOTSET"], case_sensitive=False))
@click.option("--input_model_is_text", is_flag=True, default=None, help="TensorFlow: the GraphDef is text (.pbtxt).")
@click.option("--saved_model_dir", help="TensorFlow: a SavedModel directory (instead of MODEL).")
@click.option("--saved_model_tags", help="TensorFlow: tags of the SavedModel's meta graph, comma-separated.")
@click.option("--signature", help="TensorFlow: the SavedModel signature to convert (default serving_default).")
@click.option("--input_meta_graph", help="TensorFlow: a .meta graph (instead of MODEL), with --input_checkpoint.")
@click.option("--input_checkpoint", help="TensorFlow: the checkpoint (prefix or directory) of --input_meta_graph.")
@click.option("--disable_fusing", is_flag=True, default=None,
              help="Keep BatchNorm/Scale/Mul/Add and activation patterns as they are (no fusion passes).")
# Caffe / MXNet
@click.option("--input_proto", "-d", help="Caffe: the deploy .prototxt (MODEL is then the .caffemodel).")
@click.option("--input_symbol", help="MXNet: the symbol .json (MODEL is then the .params).")
# Kaldi
@click.option("--counts", help="Kaldi: a counts file; log priors are subtracted from the output.")
@click.option("--remove_output_softmax", is_flag=True, default=None, help="Kaldi: drop the final (Log)Softmax.")
@click.option("--kaldi_form", type=click.Choice(["chunk", "streaming"]),
              help="Kaldi: 'chunk' (T frames in, default) or 'streaming' (one frame, ReadValue/Assign state).")
@click.option("--left_context", type=int, help="Kaldi chunk form: frames of left context (default: the model's).")
@click.option("--right_context", type=int, help="Kaldi chunk form: frames of right context (default: the model's).")
# preprocessing
@click.option("--mean_values", help="Per-channel means subtracted in the IR: [123.7,116.3,103.5] or name[...],...")
@click.option("--scale_values", help="Per-channel divisors applied after the means: [58.4,57.1,57.4] or name[...]")
@click.option("--scale", type=float, help="One divisor for all input values.")
@click.option("--reverse_input_channels", is_flag=True, default=None, help="The IR takes RGB where the model takes BGR (or back).")
@click.option("--batch", "-b", type=int, help="Set the batch dimension of every input.")
# compression
@click.option("--compress_weights", type=click.Choice(["int8", "int4"]),
              help="Store Convolution/MatMul weights as 8- or 4-bit integers with per-channel scales.")
@click.option("--quantize", type=click.Choice(["int8"]), help="Post-training static quantization (needs --calibration).")
@click.option("--calibration", help="--quantize: a folder of images or .npy/.npz inputs, or 'random'.")
@click.option("--quantize_preset", type=click.Choice(["performance", "mixed"]),
              help="--quantize: symmetric (performance, default) or asymmetric (mixed) activations.")
@click.option("--calibration_stat", help="--quantize: minmax (default) or percentile:99.99.")
@click.option("--calibration_size", type=int, help="--quantize: at most this many calibration samples (300).")
@click.option("--prune", help="Magnitude pruning: magnitude:0.5 zeroes half of each layer's weights.")
@click.option("--prune_exclude", help="--prune: layers to leave dense: first, last, or layer names, comma-separated.")
@click.option("--cluster", type=int, help="Weight clustering: each layer's weights become this many k-means centroids.")
@click.option("--validate", is_flag=True, help="Run the source framework and the IR on the same inputs and compare.")
@click.option("--validate_seed", default=0, show_default=True, help="Seed of --validate's random inputs.")
def convert_cmd(model, input_model, output_dir, model_name, log_level, validate, validate_seed, compress_to_fp16,
                inputs, outputs, extensions, **rest) -> None:
    """Convert MODEL to OpenVINO IR in --output_dir."""
    logging.basicConfig(level=log_level.upper(), format="[ %(levelname)s ] %(message)s")
    if model and input_model and model != input_model:
        # mo convert deploy.prototxt --input_model w.caffemodel: MODEL is the network, --input_model the weights
        if rest.get("input_proto") or not model.lower().endswith((".prototxt", ".pt")):
            raise click.UsageError(f"two models given: {model} and --input_model {input_model}; give one "
                                   f"(a Caffe deploy .prototxt may go with --input_model WEIGHTS)")
        rest["input_proto"], model = model, input_model
    path = model or input_model or rest.get("saved_model_dir") or rest.get("input_meta_graph") or rest.get("input_proto")
    if not path:
        raise click.UsageError("give the model file: mo convert MODEL (or --input_model MODEL)")
    started = time.perf_counter()
    try:
        from . import convert, save
        kwargs = {k: v for k, v in rest.items() if v is not None}
        kwargs.update(output_dir=output_dir, model_name=model_name, inputs=inputs, outputs=outputs,
                      extensions=list(extensions), log_level=log_level)
        if compress_to_fp16 is not None:
            kwargs["compress_to_fp16"] = parse_bool(compress_to_fp16, "--compress_to_fp16")
        graph = convert(path, **kwargs)
        name = model_name or graph.name
        saved = save(graph, Path(output_dir) / f"{name}.xml")
        _summary(graph, saved, time.perf_counter() - started)
        if validate:
            from .validate import validate_ir
            options = ConvertOptions.from_kwargs(path, **kwargs)
            ok = validate_ir(path, str(saved.xml), graph, options, seed=validate_seed)
            if not ok:
                sys.exit(1)
    except MoError as e:
        click.echo(f"[ ERROR ] {e}", err=True)
        sys.exit(e.exit_code)
    except (KeyboardInterrupt, SystemExit, click.exceptions.Exit, click.ClickException):
        raise
    except Exception as e:  # noqa: BLE001  (a bug in mo: one line, the traceback only when asked)
        logging.getLogger("mo").debug("traceback of the internal error", exc_info=True)
        first = (str(e).splitlines() or [""])[0]
        click.echo(f"[ ERROR ] {path}: internal error of mo: {type(e).__name__}: {first}; please report it "
                   f"(--log_level DEBUG prints the traceback)", err=True)
        sys.exit(INTERNAL_ERROR)


def _summary(graph, saved, seconds: float) -> None:
    counts = graph.op_counts()
    layers = sum(counts.values())
    click.echo(f"[ SUCCESS ] IR written: {saved.xml.resolve()}")
    click.echo(f"[ SUCCESS ] weights: {saved.bin.resolve()} ({saved.bin_bytes:,} bytes"
               + (f", {saved.deduplicated} duplicate constants stored once" if saved.deduplicated else "") + ")")
    for report in graph.meta.get("reports", []):
        if report.changed:
            click.echo(f"[ INFO ] {report}")
    click.echo(f"[ INFO ] {layers} layers, {len(graph.parameters)} input(s), {len(graph.results)} output(s); "
               f"{seconds:.2f}s")


def main() -> None:
    argv = sys.argv[1:]
    # the old Model Optimizer's form: mo --input_model model.onnx ...
    if argv and argv[0] not in cli.commands and argv[0] not in ("-h", "--help", "--version"):
        argv = ["convert", *argv]
    try:
        cli.main(args=argv, prog_name="mo")
    except SystemExit as done:
        if "tensorflow" not in sys.modules:
            raise
        # TensorFlow's interpreter shutdown takes about a second and does nothing for us: the IR
        # is written and renamed, so flush and leave at once with the same exit code
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        if not isinstance(done.code, (int, type(None))):
            click.echo(done.code, err=True)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
