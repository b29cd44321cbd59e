"""Weights as ``.safetensors``: PyTorch's key names and shapes, plus string metadata.

Our `nn.Sequential` names parameters exactly as PyTorch's does (``1.weight`` of shape
(out, in), ``1.bias``), so the file loads into the same ``torch.nn.Sequential`` with
``load_state_dict(safetensors.torch.load_file(path), strict=True)``, and a PyTorch state
dict saved with ``safetensors.torch.save_file`` loads here. safetensors stores raw
arrays and a JSON header, never pickled code, so loading a file cannot run anything.

Dtypes, decided from the header before any tensor is read: a floating-point tensor (F16,
F32, F64) loads into a parameter of another float dtype by a cast, as PyTorch's
``load_state_dict`` copies (a float64 file into the float32 lecture net is common and
fine), unless the cast would overflow a finite value to infinity (refused, naming the
value); an integer or boolean tensor is refused, since no weight is stored that way
(it is a quantized model, which needs its scales, or the wrong file).

The metadata (see `bundle.Bundle.metadata`) makes a file self-contained: `read_run_file`
rebuilds the spec, normalization and class names from it, for ``predict`` and
``evaluate`` without the run folder.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UserError
from .bundle import SPEC_KEY, class_names_from_metadata, normalization_from_metadata
from .safetensors_format import NAMES, Entry, encode, read_header, read_tensors

PICKLE_SUFFIXES = (".pt", ".pth", ".bin", ".pkl", ".ckpt")


def save_safetensors(
    model: Any, path: str | Path, metadata: Mapping[str, Any] | None = None
) -> Path:
    """Write the model's parameters (state-dict names and shapes) to `path`, atomically,
    the same bytes for the same weights and metadata.

    `metadata` values that are not strings are stored as JSON text (safetensors keeps
    only a string-to-string map).
    """
    from ..training.checkpoint import atomic_write

    text = {k: v if isinstance(v, str) else json.dumps(v) for k, v in (metadata or {}).items()}
    data = encode(model.state_dict(), text)
    path = Path(path)
    with atomic_write(path) as handle:
        handle.write(data)
    return path


def read_safetensors(
    path: str | Path,
    expected: Mapping[str, tuple[int, ...]] | None = None,
    dtypes: Mapping[str, np.dtype] | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """(arrays by name, string metadata) of a ``.safetensors`` file; never unpickles.

    The header is checked first: against the file, against `expected` (names to shapes)
    and `dtypes` (names to the dtypes they will be cast to, `check_dtypes`) when given,
    before any tensor is read; then the tensors must fit in memory, and a cast to
    `dtypes` must keep every finite value finite.
    """
    from ..data.files import check_fits

    path = Path(path)
    check_weights_file(path)
    try:
        entries, metadata = read_header(path)
        if expected is not None:
            check_state(expected, {name: entry.shape for name, entry in entries.items()}, path)
        if dtypes is not None:
            check_dtypes(dtypes, entries, path)
        check_fits(path, sum(entry.nbytes for entry in entries.values()), "its tensors")
        arrays = read_tensors(path, entries)
    except OSError as error:
        raise UserError(f"{path}: cannot read it ({error.strerror or error})") from None
    if dtypes is not None:
        check_casts(dtypes, arrays, path)
    return arrays, metadata


def check_weights_file(path: Path) -> None:
    """A missing file, a pickled PyTorch file, or no regular file (a folder, a FIFO,
    /dev/zero: reading it would fail or never end) is a user error with the fix."""
    if path.suffix.lower() in PICKLE_SUFFIXES:
        raise UserError(
            f"{path} is a pickled PyTorch file, and tinygrad_edu never unpickles (loading a "
            'pickle can run any code). Convert it once with PyTorch: python -c "import torch, '
            f"safetensors.torch as st; st.save_file(torch.load('{path}'), "
            f"'{path.with_suffix('.safetensors')}')\" (for a whole saved model, use "
            "torch.load(...).state_dict()), then give the .safetensors file"
        )
    from ..data.reading import open_regular

    fix = "give the .safetensors file of the weights"
    open_regular(path, None, "weights file", fix, f"weights file not found: {path}").close()


def parameter_shapes(model: Any) -> dict[str, tuple[int, ...]]:
    return {name: tuple(param.shape) for name, param in model.named_parameters()}


def check_state(
    expected: Mapping[str, tuple[int, ...]],
    found: Mapping[str, tuple[int, ...]],
    path: str | Path,
) -> None:
    """Every name and shape of the file (`found`) must be the model's (`expected`); names
    the first mismatch."""
    for name, shape in expected.items():
        if name not in found:
            raise UserError(
                f"{path}: the model has '{name}' of shape {shape}, but the file has no such "
                f"key (it has: {', '.join(found) or 'none'}); was it saved from the same "
                "network (the same layers, as an nn.Sequential)?"
            )
        if tuple(found[name]) != shape:
            raise UserError(
                f"{path}: '{name}' has shape {tuple(found[name])} in the file, but the model "
                f"expects {shape}; the file was saved from a different network"
            )
    for name in found:
        if name not in expected:
            raise UserError(
                f"{path}: the file has '{name}' of shape {tuple(found[name])}, which "
                f"the model does not have (it has: {', '.join(expected)})"
            )


def parameter_dtypes(model: Any) -> dict[str, np.dtype]:
    """Each parameter's NumPy dtype, whichever backend holds it: what a file's tensor is
    cast to on loading."""
    from .. import backend

    return {
        name: np.dtype(backend._dtype_name(param.dtype)) for name, param in model.named_parameters()
    }


def check_dtypes(
    expected: Mapping[str, np.dtype], entries: Mapping[str, Entry], path: str | Path
) -> None:
    """From the header: a float tensor may load into a float parameter of any width (a
    cast, as PyTorch's ``load_state_dict`` makes); an integer or boolean one may not."""
    for name, want in expected.items():
        entry = entries.get(name)
        if entry is None or want.kind != "f" or entry.dtype.kind == "f":
            continue
        stored = NAMES[entry.dtype]
        raise UserError(
            f"{path}: '{name}' is stored as {stored} ({entry.dtype.name}), but the model's "
            f"'{name}' is {want.name}, and a weight is never stored as "
            f"{'booleans' if entry.dtype.kind == 'b' else 'integers'} (a quantized model "
            "needs its scales too, or this is another file); save the float weights, e.g. in "
            "PyTorch with {k: v.float() for k, v in state_dict.items()} before "
            "safetensors.torch.save_file"
        )


def check_casts(
    expected: Mapping[str, np.dtype], arrays: Mapping[str, np.ndarray], path: str | Path
) -> None:
    """A narrowing cast (F64 into float32, F32 into float16) must not turn a finite value
    into an infinite one: named here, not blamed on training later."""
    for name, want in expected.items():
        array = arrays.get(name)
        if array is None or want.kind != "f" or array.dtype.itemsize <= want.itemsize:
            continue
        finite = np.abs(array[np.isfinite(array)])
        if finite.size and finite.max() > np.finfo(want).max:
            raise UserError(
                f"{path}: '{name}' holds {finite.max():.4g}, stored as "
                f"{NAMES[array.dtype.newbyteorder('<')]}, beyond what the model's {want.name} "
                f"holds (at most {np.finfo(want).max:.4g}); load it into a model of a wider "
                "dtype (dtype: float64 in the spec), or save weights that fit"
            )


def load_safetensors(model: Any, path: str | Path) -> dict[str, str]:
    """Load a ``.safetensors`` file's weights into `model` after checking every key, shape
    and dtype from the header (a float tensor of another width is cast, see the module
    docstring); returns the file's metadata."""
    arrays, metadata = read_safetensors(path, parameter_shapes(model), parameter_dtypes(model))
    model.load_state_dict(arrays)
    return metadata


def read_run_file(path: str | Path) -> tuple[Any, dict[str, Any]]:
    """(spec, flat contents) of an exported ``.safetensors`` file, in the form of a run
    folder's ``model.npz`` (``model/...``, ``norm/...``, ``meta/class_names``), so that
    predict and evaluate run from the file alone.

    The file's metadata is untrusted input like any spec: the embedded spec is validated
    and its memory estimated, and the normalization and class names are checked against
    its network, before the model is built and the tensors read.
    """
    from ..spec import build_model, parse_spec
    from ..spec.limits import check_memory
    from ..training.checkpoint import flatten

    path = Path(path)
    check_weights_file(path)
    _, metadata = read_header(path)
    if SPEC_KEY not in metadata:
        raise UserError(
            f"{path} holds weights but no tinygrad_edu metadata (no spec), so it cannot be "
            "used alone; export a run with python cli.py export RUN_DIR --format safetensors, "
            "or load these weights into a spec with init: {from: ...} or --init-from"
        )
    spec = parse_spec(metadata[SPEC_KEY], file=f"{path} (its metadata {SPEC_KEY})")
    try:
        check_memory(spec, training=False)
    except UserError as error:
        raise UserError(f"{path}: the network its metadata {SPEC_KEY} describes: {error}") from None
    normalization = normalization_from_metadata(metadata, spec, path)
    class_names = class_names_from_metadata(metadata, spec, path)
    model = build_model(spec)
    arrays, _ = read_safetensors(path, parameter_shapes(model), parameter_dtypes(model))
    flat: dict[str, Any] = flatten("model", arrays)
    flat.update(flatten("norm", normalization))
    flat["meta/class_names"] = class_names
    return spec, flat
