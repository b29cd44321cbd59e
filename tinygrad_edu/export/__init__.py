"""Take a model elsewhere: safetensors weights, ONNX graphs and PyTorch code.

One module per format: `safetensors` (PyTorch's state-dict names, plus metadata that
makes a file enough to predict), `onnx` (a checked ONNX graph for any ONNX runtime) and
`torch` (model.py, the weights, the run's data and a training script for PyTorch and
``torchrun``). `bundle` gathers what they all need from a run folder or a spec.
`export_run` is the CLI's ``export`` command. ONNX needs the ``export`` extra (and
fails with an install hint without it); safetensors files need no library.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .bundle import EXPORT_HINT, Bundle, load_bundle
from .folder import check_folder, removed_if_failed, staged_file
from .onnx import to_onnx
from .safetensors import load_safetensors, save_safetensors
from .torch import to_torch

FORMATS = ("safetensors", "onnx", "torch")
DEFAULT_OUTPUT = {"safetensors": "model.safetensors", "onnx": "model.onnx", "torch": "torch"}

__all__ = [
    "EXPORT_HINT",
    "FORMATS",
    "Bundle",
    "export_run",
    "load_bundle",
    "load_safetensors",
    "save_safetensors",
    "to_onnx",
    "to_torch",
]


def export_run(
    run_dir: str | Path,
    format: str,
    out: str | Path | None = None,
    include_preprocessing: bool = False,
    probabilities: bool = False,
    force: bool = False,
) -> Path:
    """Export a run folder's model; returns the file (or folder) written.

    The default output lies in the run folder: ``model.safetensors``, ``model.onnx`` or
    ``torch/``. A torch folder holding files the export did not write is refused unless
    `force`. Nothing is left behind by a refusal, an error, Ctrl-C or SIGTERM: not even
    the folders made for ``--out`` (`folder.removed_if_failed`).
    """
    from ..errors import UserError
    from ..training.checkpoint import check_writable_file, removed_when_terminated

    if format not in FORMATS:
        raise UserError(f"unknown export format {format!r}; choose one of {', '.join(FORMATS)}")
    if format != "onnx" and (include_preprocessing or probabilities):
        raise UserError("--include-preprocessing and --probabilities are options of --format onnx")
    if force and format != "torch":
        raise UserError("--force is an option of --format torch (files are replaced atomically)")
    target = Path(out) if out else Path(run_dir) / DEFAULT_OUTPUT[format]
    if format == "torch":
        check_folder(target, force)  # before the work, not after it
    elif target.parent.is_dir():
        check_writable_file(target)
    with (
        removed_when_terminated(),
        removed_if_failed(target if format == "torch" else target.parent),
    ):
        return _export(run_dir, format, target, include_preprocessing, probabilities, force)


def _export(
    run_dir: str | Path,
    format: str,
    target: Path,
    include_preprocessing: bool,
    probabilities: bool,
    force: bool,
) -> Path:
    from ..errors import UserError

    bundle = load_bundle(run_dir, with_data=format == "torch")  # only torch writes the data
    if probabilities and _task(bundle) != "classification":
        raise UserError("--probabilities needs a classifier; this run's loss is a regression loss")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if format == "torch":
            return to_torch(bundle, target, force)
        with staged_file(target) as path:  # a SIGKILL leaves a stage the next export removes
            if format == "safetensors":
                save_safetensors(bundle.model, path, bundle.metadata())
            else:
                to_onnx(
                    bundle.model,
                    bundle.input_shape,
                    path,
                    metadata=bundle.metadata(),
                    normalization=bundle.normalization,
                    include_preprocessing=include_preprocessing,
                    probabilities=probabilities,
                )
    except OSError as error:
        raise UserError(
            f"cannot write {target}: {error.strerror or error}; choose another path with --out"
        ) from None
    return target


def _task(bundle: Any) -> str:
    from ..training.objectives import loss_options, task_of

    return task_of(loss_options(bundle.spec.loss)[0])
