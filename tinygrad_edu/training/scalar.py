"""The scalar engine trains a spec: ``train.engine: value`` (``train SPEC --engine value``).

Why: the lecture starts from micrograd's `Value`, one number per node. Training a real spec
on it shows that a network is nothing but those scalar operations, and how many of them a
step takes: the run prints the graph size per step, next to the handful of nodes the tensor
engine builds for the same step. That count is why tensors exist.

How: the run is the tensor engine's run with one piece swapped. Where the tensor engine
gets a batch's gradients from a few array operations, `ValueModel.loss_and_gradients`
builds one micrograd-style `Value` graph per sample (Python floats, so float64) from the
current weights, scales the sample's loss by the batch reduction (the mean: 1/n), calls
``backward()`` and lets the weights' leaves add the samples' gradients up. The parameters
stay the tensor model's float64 arrays, so the `Trainer`'s checkpoints, resume, metrics and
``model.npz`` (same state-dict keys), the optimizer's update (the same `optim.SGD`,
`optim.Adam`, ... on the same arrays) and the schedules are the tensor engine's: the two
engines differ only in how the gradient is computed, and a test checks that they reach the
same losses (to 1e-9).

The layers are micrograd's neuron (`value_nn.Neuron`: ``Value.dot(w, x, b)``, then the
activation), but built on the spec's weights: `value_nn`'s classes draw their own
(uniform(-1, 1), from the shared generator, which would also shift the run's shuffles).

What fits scalars: `nn.Linear`, ReLU, tanh, sigmoid and identity layers (Flatten of flat
samples), the losses ``mse``, ``cross_entropy`` and ``binary_cross_entropy_with_logits``
with their default options, the numpy backend and ``dtype: float64``. Anything else is
refused before training starts, and so is a spec too large for scalars: more than
`MAX_PARAMETERS` parameters, or an estimated training time (from timing a few samples) above
`MAX_SECONDS`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import autograd, nn
from .._tensor import Tensor
from ..errors import UserError
from ..value import Value

MAX_PARAMETERS = 5_000
"""The most parameters the scalar engine trains (each is one Python object per step)."""
MAX_SECONDS = 60.0
"""The longest estimated training time the scalar engine accepts."""
CALIBRATION_SAMPLES = 8
"""How many samples are timed (one forward and backward each) to estimate a run's time."""
LOSSES = ("mse", "cross_entropy", "binary_cross_entropy_with_logits")
ACTIVATIONS: dict[type, Callable[[Value], Value]] = {
    nn.ReLU: Value.relu,
    nn.Tanh: Value.tanh,
    nn.Sigmoid: Value.sigmoid,
}
DEFAULT_OPTIONS = {"label_smoothing": 0.0}
"""Loss options the scalar losses compute, at the value they have."""
PASS_THROUGH = (nn.Identity, nn.Flatten)  # samples are flattened on the way in (`_rows`)
USE_TENSOR = "use --engine tensor (train.engine: tensor)"


class ValueModel:
    """The tensor model's interface for the `Trainer`, computed with `Value` scalars.

    Parameters, ``state_dict``, ``load_state_dict``, ``train``/``eval`` are the wrapped
    `nn.Sequential` model's (its arrays hold the weights); calling it on a batch and
    `loss_and_gradients` go through one `Value` graph per sample.
    """

    engine = "value"

    def __init__(self, module: nn.Module, loss: str):
        self.module = module
        self.loss = loss
        self.layers = [_scalar_layer(name, child) for name, child in module.named_children()]
        self.nodes_per_sample = 0  # measured on the first sample (see graph_report)

    # --- the tensor model's interface -----------------------------------------------------
    @property
    def training(self) -> bool:
        return self.module.training

    def train(self, mode: bool = True) -> ValueModel:
        self.module.train(mode)
        return self

    def eval(self) -> ValueModel:
        return self.train(False)

    def parameters(self) -> list[Tensor]:
        return self.module.parameters()

    def named_parameters(self) -> Any:
        return self.module.named_parameters()

    def state_dict(self) -> dict[str, Any]:
        return self.module.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> Any:
        return self.module.load_state_dict(state)

    def __call__(self, x: Tensor) -> Tensor:
        """The outputs (n, outputs) for a batch, one scalar forward pass per sample."""
        weights = self._leaves()
        rows = [[v.data for v in self._forward(weights, sample)] for sample in _rows(x.numpy())]
        return Tensor(np.asarray(rows, dtype=np.float64), dtype=np.float64)

    # --- the step ---------------------------------------------------------------------------
    def loss_and_gradients(self, xb: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, float]:
        """The batch's outputs and mean loss; each parameter's ``grad`` becomes d(loss)/d(it).

        One graph per sample: its loss times 1/n (the mean's share) is the root, its
        ``backward()`` adds that sample's share into the weights' leaves, and the graph is
        dropped before the next sample is built.
        """
        weights = self._leaves()
        n = len(xb)
        outputs, total = [], 0.0
        for sample, target in zip(_rows(xb), targets):
            out = self._forward(weights, sample)
            root = self._sample_loss(out, target) * (1.0 / n)
            if not self.nodes_per_sample:
                self.nodes_per_sample = len(autograd.topological_order(root))
            root.backward()
            total += root.data
            outputs.append([v.data for v in out])
        for param, leaves in zip(self.parameters(), weights):
            param._grad = np.asarray([v.grad for v in leaves]).reshape(param.shape)
        return np.asarray(outputs, dtype=np.float64), total

    def _leaves(self) -> list[list[Value]]:
        """A fresh `Value` leaf per weight, per parameter (in `parameters` order)."""
        return [[Value(w) for w in p.numpy().reshape(-1).tolist()] for p in self.parameters()]

    def _forward(self, weights: list[list[Value]], sample: list[float]) -> list[Value]:
        h: list[Value] = [Value(x) for x in sample]
        leaves = iter(weights)
        for layer in self.layers:
            h = layer(h, leaves)
        return h

    def _sample_loss(self, out: list[Value], target: Any) -> Value:
        """One sample's loss, summed over its outputs; the batch mean is applied by the caller
        (and, for mse, the mean over the outputs here)."""
        if self.loss == "mse":  # mean over all n * k elements, as F.mse_loss
            return sum(((o - float(t)) ** 2 for o, t in zip(out, target)), Value(0.0)) * (
                1.0 / len(out)
            )
        if self.loss == "cross_entropy":  # logsumexp(o) - o[label], shifted by max(o): no overflow
            shift = max(o.data for o in out)
            total = sum(((o - shift).exp() for o in out), Value(0.0))
            return total.log() + shift - out[int(target)]
        x, t = out[0], float(target[0])  # max(x, 0) - x t + log(1 + e^-|x|), stable
        if x.data >= 0:
            return x - x * t + (1.0 + (-x).exp()).log()
        return -(x * t) + (1.0 + x.exp()).log()

    # --- what a student sees ---------------------------------------------------------------
    def graph_report(self, batch_size: int, samples_per_epoch: int, tensor_nodes: int) -> str:
        """One line: the Value nodes per sample, per step and per epoch, against the tensor
        engine's nodes for the same step."""
        per_step = self.nodes_per_sample * batch_size
        return (
            f"value engine: {self.nodes_per_sample:,} nodes per sample, {per_step:,} nodes per "
            f"step of {batch_size} samples, {self.nodes_per_sample * samples_per_epoch:,} per "
            f"epoch (the tensor engine builds {tensor_nodes} nodes for the same step)"
        )


def _rows(x: np.ndarray) -> list[list[float]]:
    return np.asarray(x, dtype=np.float64).reshape(len(x), -1).tolist()


def _scalar_layer(name: str, module: nn.Module) -> Callable[[list[Value], Any], list[Value]]:
    """A layer of the Sequential model as a function of (inputs, iterator over the weights'
    leaves) on lists of Values; a layer scalars cannot do is refused."""
    if isinstance(module, nn.Linear):
        has_bias = module.bias is not None

        def linear(h: list[Value], leaves: Any) -> list[Value]:
            w = next(leaves)
            b = next(leaves) if has_bias else [0.0] * module.out_features
            width = module.in_features
            # one node per unit: b_j + sum_i w_ji h_i (Value.dot)
            return [Value.dot(w[j * width : (j + 1) * width], h, b[j]) for j in range(len(b))]

        return linear
    if type(module) in ACTIVATIONS:
        activation = ACTIVATIONS[type(module)]
        return lambda h, leaves: [activation(v) for v in h]
    if isinstance(module, PASS_THROUGH):
        return lambda h, leaves: h
    raise UserError(
        f"the value engine cannot train layer {name} ({type(module).__name__}): it supports "
        "Linear layers and the relu, tanh, sigmoid and identity activations; "
        f"{USE_TENSOR} for this network"
    )


def check_spec(spec: Any, model: nn.Module, loss: str, options: dict) -> None:
    """Refuse, before any data is loaded, what the scalar engine cannot train (see the module
    doc): backend, dtype, loss, layers and the parameter count."""
    if spec.backend != "numpy" or spec.dtype != "float64":
        raise UserError(
            f"the value engine computes with Python floats (float64) on the CPU, but the spec "
            f"has backend {spec.backend} and dtype {spec.dtype}; set backend: numpy and "
            "dtype: float64 (--set dtype=float64), or " + USE_TENSOR
        )
    changed = {k: v for k, v in options.items() if v != DEFAULT_OPTIONS.get(k)}
    if loss not in LOSSES or changed:
        with_options = f" with options {changed}" if changed and loss in LOSSES else ""
        raise UserError(
            f"the value engine cannot train the loss {loss}{with_options}: it supports "
            f"{', '.join(LOSSES)} with their default options; change loss: or {USE_TENSOR}"
        )
    if not isinstance(model, nn.Sequential):
        raise UserError(f"the value engine trains layers: models; {USE_TENSOR}")
    flat = len(spec.model.input) == 1
    for name, child in model.named_children():
        _scalar_layer(name, child)
        flat = flat or isinstance(child, nn.Flatten)
        if isinstance(child, nn.Linear) and not flat:
            raise UserError(
                f"the value engine computes on flat samples, but model.input is "
                f"{list(spec.model.input)} and layer {name} (Linear) comes before any flatten: "
                f"start the layers with flatten, or {USE_TENSOR}"
            )
    count = sum(p.numel() for p in model.parameters())
    if count > MAX_PARAMETERS:
        raise UserError(
            f"the network has {count:,} parameters, more than the value engine's limit of "
            f"{MAX_PARAMETERS:,} (one Python object per parameter and sample): "
            f"{USE_TENSOR}, which does the same step with a few array operations"
        )


def value_model(spec: Any, model: nn.Module, objective: Any, dataset: Any) -> ValueModel:
    """The scalar engine's model for a checked spec (`check_spec`), if its estimated training
    time is within `MAX_SECONDS`. The estimate runs a few samples' forward and backward
    passes, then clears their gradients (no random numbers are drawn, so the run stays the
    tensor engine's twin)."""
    scalar = ValueModel(model, objective.loss)
    seconds = estimate_seconds(scalar, objective, dataset, spec.train.epochs)
    if seconds > MAX_SECONDS:
        raise UserError(
            f"training this spec on the value engine would take about {_duration(seconds)} "
            f"(timed on {CALIBRATION_SAMPLES} samples: {spec.train.epochs} epochs of "
            f"{len(dataset.X_train):,} samples), more than the limit of {MAX_SECONDS:.0f} s; "
            f"{USE_TENSOR}, or train fewer epochs or samples"
        )
    return scalar


def estimate_seconds(model: ValueModel, objective: Any, dataset: Any, epochs: int) -> float:
    """Seconds for `epochs` epochs: a training step per training sample and a forward pass
    per held-out sample (counted as a step, a bound), from timing a few samples."""
    X, y = dataset.X_train[:CALIBRATION_SAMPLES], dataset.y_train[:CALIBRATION_SAMPLES]
    started = time.perf_counter()
    model.loss_and_gradients(X, objective.targets(y).numpy())
    per_sample = (time.perf_counter() - started) / max(len(X), 1)
    for param in model.parameters():
        param._grad = None
    held = dataset.X_val if dataset.X_val is not None else dataset.X_test
    return per_sample * epochs * (len(dataset.X_train) + len(held))


def tensor_nodes(model: nn.Module, objective: Any, xb: np.ndarray, yb: np.ndarray) -> int:
    """The nodes of the tensor engine's graph for one step (forward and loss; no backward)."""
    outputs = model(Tensor(xb))
    return len(autograd.topological_order(objective(outputs, objective.targets(yb))))


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def describe(setup: Any) -> str:
    """The graph-size line of a prepared run on the value engine (see `graph_report`)."""
    model, ds = setup.model, setup.dataset
    xb, yb = ds.X_train[: setup.batch_size], ds.y_train[: setup.batch_size]
    return model.graph_report(
        setup.batch_size, len(ds.X_train), tensor_nodes(model.module, setup.objective, xb, yb)
    )
