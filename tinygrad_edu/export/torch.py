"""A spec's network and recipe as a PyTorch project folder: code, weights and data.

`to_torch` writes four files, from the templates in ``export/templates/``:

- ``model.py``: the network as ``torch.nn`` layers (the spec as a comment above it);
  our layers print as PyTorch's do (``Linear(in_features=784, out_features=128,
  bias=True)``), so each line of the generated ``nn.Sequential`` is ``nn.`` + the
  layer's repr, and the parameter names are ours;
- ``weights.safetensors``: the weights (trained, for a run folder; the seed's initial
  ones, for a spec);
- ``data.npz``: the run's exact train / validation / test split, normalized, and the
  normalization (``allow_pickle=False`` reads it);
- ``train_torch.py``: the spec's recipe in plain PyTorch, for one process or
  ``torchrun --nproc_per_node N`` (DistributedDataParallel).

PyTorch itself is not needed to write them, only to run them. They are written all or
none, and never over files the export did not write (`folder`).
"""

from __future__ import annotations

import textwrap
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

import numpy as np

from .. import nn
from .._version import __version__
from ..errors import UserError
from ..features import InputFeatures
from ..io.atomic import write_text_atomic
from ..io.npz import save_npz
from ..io.safetensors import save_safetensors
from ..objectives import loss_options, task_of
from ..runs.exported import spec_yaml
from .bundle import Bundle, load_bundle
from .folder import check_folder, staged

# our layers whose repr is the torch.nn constructor call that builds the same layer
TORCH_LAYERS = (
    nn.Linear,
    nn.Flatten,
    nn.ReLU,
    nn.LeakyReLU,
    nn.Tanh,
    nn.Sigmoid,
    nn.GELU,
    nn.Identity,
    nn.Softmax,
    nn.Dropout,
)

# PyTorch has no layer for the input features (x1², sin(x1), ...): model.py gets this one
TORCH_FEATURES_CLASS = '''

class InputFeatures(nn.Module):
    """tinygrad_edu's features layer: 2-D points (N, 2) -> the named columns, in order."""

    FEATURES = {
        "x1": lambda x1, x2: x1,
        "x2": lambda x1, x2: x2,
        "x1_squared": lambda x1, x2: x1 * x1,
        "x2_squared": lambda x1, x2: x2 * x2,
        "x1_times_x2": lambda x1, x2: x1 * x2,
        "sin_x1": lambda x1, x2: torch.sin(x1),
        "sin_x2": lambda x1, x2: torch.sin(x2),
    }

    def __init__(self, names: list[str]):
        super().__init__()
        self.names = list(names)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1, x2 = x[:, 0:1], x[:, 1:2]
        return torch.cat([self.FEATURES[name](x1, x2) for name in self.names], dim=1)

    def extra_repr(self) -> str:
        return f"names={self.names!r}"
'''


def to_torch(spec_or_run: Any, folder: str | Path, force: bool = False) -> Path:
    """Write model.py, weights.safetensors, data.npz and train_torch.py into `folder`,
    all of them or none (`folder.staged`); a folder holding files the export did not write
    is refused unless `force` (`folder.check_folder`).

    `spec_or_run` is a run folder, a spec file or a `Spec`.
    """

    folder = Path(folder)
    check_folder(folder, force)
    if isinstance(spec_or_run, Bundle) and spec_or_run.dataset is not None:
        bundle = spec_or_run
    else:
        bundle = load_bundle(spec_or_run, with_data=True)
    code = model_code(bundle)  # a layer PyTorch lacks is refused before anything is written
    with staged(folder) as stage:
        write_text_atomic(stage / "model.py", code)
        save_safetensors(bundle.model, stage / "weights.safetensors", bundle.metadata())
        save_data(bundle, stage / "data.npz")
        write_text_atomic(stage / "train_torch.py", training_code(bundle.spec))
    return folder


def _template(name: str) -> Template:
    return Template(resources.files(__package__).joinpath("templates", name).read_text("utf-8"))


def layer_code(module: Any, where: str = "") -> str:
    """The torch.nn expression that builds `module` (nested Sequentials included)."""
    if isinstance(module, nn.Sequential):
        items = [layer_code(child, f"{where}{name}.") for name, child in module.named_children()]
        body = textwrap.indent(",\n".join(items), "    ")
        return f"nn.Sequential(\n{body},\n)"
    if type(module) in TORCH_LAYERS:
        return f"nn.{module!r}"
    if type(module) is InputFeatures:
        return repr(module)  # the class TORCH_FEATURES_CLASS defines in model.py
    raise UserError(
        f"cannot write PyTorch code for layer {where.rstrip('.')} ({type(module).__name__}): "
        f"torch export knows the built-in layers ({', '.join(c.__name__ for c in TORCH_LAYERS)}); "
        "write this layer in PyTorch by hand in the generated model.py"
    )


def model_code(bundle: Bundle) -> str:

    layers = layer_code(bundle.model)
    return _template("model.py.tmpl").substitute(
        name=bundle.spec.name,
        version=__version__,
        spec_comment=textwrap.indent(spec_yaml(bundle.spec).rstrip(), "# ", lambda line: True),
        input_shape=repr(bundle.input_shape),
        layers=textwrap.indent(layers, "    ").lstrip(),
        extra_classes=TORCH_FEATURES_CLASS if _uses(bundle.model, InputFeatures) else "",
    )


def _uses(model: Any, cls: type) -> bool:
    return any(isinstance(module, cls) for module in model.modules())


def save_data(bundle: Bundle, path: Path) -> None:
    """The run's split (features already normalized) and its normalization, pickle-free."""

    ds = bundle.dataset
    arrays: dict[str, Any] = {
        "X_train": ds.X_train,
        "y_train": ds.y_train,
        "X_test": ds.X_test,
        "y_test": ds.y_test,
        "norm_method": np.array(bundle.normalization["method"]),
        "norm_shift": np.asarray(bundle.normalization["shift"]),
        "norm_scale": np.asarray(bundle.normalization["scale"]),
    }
    if ds.X_val is not None:
        arrays.update(X_val=ds.X_val, y_val=ds.y_val)
    if bundle.class_names is not None:
        arrays["class_names"] = np.array([str(name) for name in bundle.class_names])
    save_npz(path, arrays)


# --- the training script ----------------------------------------------------------------


def _call(function: str, first: str, options: dict[str, Any]) -> str:
    """``function(first, key=value, ...)``, one argument a line (black's layout)."""
    lines = [first] + [f"{key}={value!r}" for key, value in options.items()]
    return f"{function}(\n" + "".join(f"        {line},\n" for line in lines) + "    )"


def _loss_code(spec: Any) -> tuple[str, str]:
    """(the body of ``loss_fn(outputs, targets)`` for the spec's loss, its description)."""

    name, options = loss_options(spec.loss)
    as_outputs = "targets = targets.to(outputs.dtype).reshape(outputs.shape)\n    "
    if name == "cross_entropy":
        smoothing = options.get("label_smoothing", 0.0)
        return f"return F.cross_entropy(outputs, targets, label_smoothing={smoothing!r})", name
    if name == "mse":
        return f"{as_outputs}return F.mse_loss(outputs, targets)", name
    if name == "binary_cross_entropy_with_logits":
        return f"{as_outputs}return F.binary_cross_entropy_with_logits(outputs, targets)", name
    margin = options.get("margin", 1.0)
    if spec.model.output_shape[-1] > 1:
        code = f"return F.multi_margin_loss(outputs, targets, margin={margin!r})"
        return code, "multi-class hinge"
    signs = "signs = 2 * targets - 1  # classes 0/1 -> signs -1/+1\n    "
    code = f"{as_outputs}{signs}return torch.relu({margin!r} - signs * outputs).mean()"
    return code, "hinge on one score"


def _optimizer_code(spec: Any) -> str:
    options = spec.optimizer.model_dump(exclude_none=True)
    name = options.pop("name")
    if "betas" in options:
        options["betas"] = tuple(options["betas"])
    classes = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW"}
    return _call(f"torch.optim.{classes[name]}", "params", options)


def _scheduler_code(spec: Any) -> str:
    config = getattr(spec, "scheduler", None)
    if config is None:
        return "None"
    options = config.model_dump(exclude_none=True)
    name = options.pop("name")
    if name == "step":
        return _call("torch.optim.lr_scheduler.StepLR", "optimizer", options)
    t_max = options.get("t_max")  # default: the number of epochs actually trained
    return _call(
        "torch.optim.lr_scheduler.CosineAnnealingLR",
        "optimizer",
        {"T_max": _Code("epochs") if t_max is None else t_max, "eta_min": options["eta_min"]},
    )


class _Code(str):
    """A name to write as it is (its repr is itself), e.g. ``T_max=epochs``."""

    def __repr__(self) -> str:
        return str(self)


def training_code(spec: Any) -> str:

    loss_code, loss_text = _loss_code(spec)
    return _template("train_torch.py.tmpl").substitute(
        name=spec.name,
        version=__version__,
        seed=spec.seed,
        dtype=spec.dtype,
        epochs=spec.train.epochs,
        batch_size=spec.train.batch_size,
        shuffle=bool(spec.data.shuffle),
        task=task_of(loss_options(spec.loss)[0]),
        held_out="val" if spec.data.validation_fraction > 0 else "test",
        loss_code=loss_code,
        loss_text=loss_text,
        optimizer_code=_optimizer_code(spec),
        scheduler_code=_scheduler_code(spec),
    )
