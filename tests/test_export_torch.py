"""The PyTorch side of the export: PyTorch loads our safetensors files, runs the
generated model.py and train_torch.py (also under torchrun with 2 processes), and a
PyTorch-trained state dict loads here through init.from. Skipped without PyTorch."""

from __future__ import annotations

import csv
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

try:
    import torch
    from safetensors.torch import load_file, save_file
except ImportError:
    pytest.skip("PyTorch not installed", allow_module_level=True)

import tinygrad_edu as tg
from tinygrad_edu import nn, runs
from tinygrad_edu.export import save_safetensors, to_torch
from tinygrad_edu.export.bundle import from_spec
from tinygrad_edu.objectives import predict_arrays
from tinygrad_edu.spec import apply_overrides, load_spec, parse_spec

ROOT = Path(__file__).resolve().parents[1]
MLP_SPEC = ROOT / "specs" / "mlp.yaml"
EPOCHS = 2  # both sides train this long: enough to compare, quick on a small machine


def relative_error(ours: np.ndarray, theirs: np.ndarray) -> float:
    return float(np.abs(ours - theirs).max() / np.abs(theirs).max())


def import_model_py(folder: Path):
    spec = importlib.util.spec_from_file_location(
        f"exported_model_{id(folder)}", folder / "model.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_script(folder: Path, *command: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # small models: threads only contend
    result = subprocess.run(
        [*command], cwd=folder, capture_output=True, text=True, timeout=300, env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("torch") / "run"
    runs.train(MLP_SPEC, {"train.epochs": 1}, out=out, quiet=True)
    return out


def test_pytorch_sequential_loads_our_file_strictly_and_agrees(tmp_path):
    tg.manual_seed(0)
    ours = nn.MLP(784, [128], 10)
    save_safetensors(ours, tmp_path / "w.safetensors")
    theirs = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10)
    )
    theirs.load_state_dict(load_file(tmp_path / "w.safetensors"), strict=True)
    X = np.random.default_rng(0).random((64, 784), dtype=np.float32)
    with torch.no_grad():
        expected = theirs(torch.from_numpy(X)).numpy()
    assert expected.dtype == np.float32
    assert relative_error(predict_arrays(ours, X), expected) <= 1e-6


def test_model_py_and_weights_reproduce_the_trained_logits(tmp_path, trained_run):
    folder = to_torch(trained_run, tmp_path / "torch")
    assert {p.name for p in folder.iterdir()} >= {
        "model.py", "weights.safetensors", "data.npz", "train_torch.py"
    }  # fmt: skip
    code = (folder / "model.py").read_text()
    assert "# name: mnist-mlp" in code  # the spec as a comment
    assert "nn.Linear(in_features=784, out_features=128, bias=True)" in code
    model = import_model_py(folder).load_model()
    with np.load(folder / "data.npz", allow_pickle=False) as data:
        X_test = data["X_test"]
        assert data["X_train"].shape == (4000, 784) and X_test.shape == (1000, 784)
        assert float(data["norm_scale"]) == 255.0
    setup = runs.restore(trained_run)
    np.testing.assert_array_equal(X_test, setup.dataset.X_test)  # the run's exact split
    with torch.no_grad():
        logits = model(torch.from_numpy(X_test)).numpy()
    np.testing.assert_allclose(logits, predict_arrays(setup.model, X_test), rtol=1e-5, atol=1e-5)


FEATURES_SPEC = """
name: torch-features
seed: 2
model:
  input: [2]
  layers:
    - features: [x1, x2, x1_squared, x2_squared, x1_times_x2, sin_x1, sin_x2]
    - linear: 4
    - tanh
    - linear: 2
data: {source: circles, n_samples: 120}
loss: cross_entropy
optimizer: {name: sgd, lr: 0.1}
train: {epochs: 1, batch_size: 16}
"""


def test_model_py_writes_the_input_features_layer_and_agrees(tmp_path):
    spec = parse_spec(FEATURES_SPEC)
    folder = to_torch(spec, tmp_path / "torch")
    code = (folder / "model.py").read_text()
    assert "class InputFeatures(nn.Module)" in code
    model = import_model_py(folder).load_model()
    ours = from_spec(spec)
    X = ours.dataset.X_test
    with torch.no_grad():
        logits = model(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(logits, predict_arrays(ours.model, X), rtol=1e-5, atol=1e-5)


def _final_accuracy(output: str) -> float:
    match = re.search(r"test accuracy (\d\.\d+)", output)
    assert match, output
    return float(match.group(1))


def test_train_torch_reaches_our_accuracy_from_the_same_start(tmp_path):
    spec = apply_overrides(load_spec(MLP_SPEC), {"train.epochs": EPOCHS})
    ours = runs.train(spec, {}, out=tmp_path / "run", quiet=True)
    folder = to_torch(spec, tmp_path / "torch")  # the seed's initial weights, the same split
    result = run_script(folder, sys.executable, "train_torch.py", "--epochs", str(EPOCHS))
    assert f"epoch {EPOCHS}/{EPOCHS}  train_loss" in result.stdout
    assert "test_accuracy" in result.stdout and (folder / "trained.safetensors").is_file()
    assert abs(_final_accuracy(result.stdout) - ours["test_accuracy"]) <= 0.01


def epoch_metrics(output: str) -> list[dict[str, float]]:
    """The metrics of each 'epoch i/n  name value ...' line that train_torch.py prints."""
    rows = []
    for line in output.splitlines():
        if line.startswith("epoch "):
            rows.append(
                {k: float(v) for k, v in re.findall(r"(\w+) (-?\d+\.\d+(?:e-?\d+)?|nan)", line)}
            )
    return rows


def test_train_torch_runs_under_torchrun_with_two_processes(tmp_path):
    spec = apply_overrides(load_spec(MLP_SPEC), {"train.epochs": 1})
    folder = to_torch(spec, tmp_path / "torch")
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2"]
    result = run_script(folder, *command, "train_torch.py", "--epochs", "1", "--batch-size", "64")
    assert "2 process(es) on cpu" in result.stdout
    assert "epoch 1/1" in result.stdout and "test accuracy" in result.stdout
    trained = load_file(folder / "trained.safetensors")
    assert trained["1.weight"].shape == (128, 784)
    # rank r takes samples r, r + 2, ... of each epoch's permutation, so the two halves of a
    # step make the same 64 samples one process takes, and DDP averages their gradients
    alone = run_script(
        folder, sys.executable, "train_torch.py", "--epochs", "1", "--batch-size", "64"
    )  # noqa: E501
    for a, b in zip(epoch_metrics(result.stdout), epoch_metrics(alone.stdout), strict=True):
        assert a == pytest.approx(b, abs=2e-4)


RECIPES = {
    "mse_adam_cosine_val": """
name: r1
model: {input: [1], layers: [linear: 8, tanh, linear: 1]}
data: {source: function, n_samples: 120, validation_fraction: 0.25, shuffle: false}
loss: mse
optimizer: {name: adam, lr: 0.05, betas: [0.8, 0.99], weight_decay: 0.01}
scheduler: {name: cosine, eta_min: 0.001}
train: {epochs: 3, batch_size: 16}
""",
    "bce_adamw_step_float64": """
name: r2
dtype: float64
model: {input: [2], layers: [linear: 8, gelu, linear: 1]}
data: {source: moons, n_samples: 120, shuffle: false}
loss: binary_cross_entropy_with_logits
optimizer: {name: adamw, lr: 0.02}
scheduler: {name: step, step_size: 1, gamma: 0.5}
train: {epochs: 3, batch_size: 16}
""",
    "hinge_sgd_nesterov": """
name: r3
model: {input: [2], layers: [linear: 8, leaky_relu, dropout: 0.0, linear: 1]}
data: {source: circles, n_samples: 120, shuffle: false}
loss: {name: hinge, margin: 0.5}
optimizer: {name: sgd, lr: 0.05, momentum: 0.9, nesterov: true, weight_decay: 0.001}
train: {epochs: 3, batch_size: 16}
""",
    "multiclass_hinge_dampening": """
name: r4
model: {input: [2], layers: [linear: 8, sigmoid, linear: 2]}  # 2 scores: multi-class
data: {source: spiral, n_samples: 120, shuffle: false}
loss: {name: hinge}
optimizer: {name: sgd, lr: 0.1, dampening: 0.1, momentum: 0.5}
train: {epochs: 3, batch_size: 16}
""",
    "cross_entropy_smoothing": """
name: r5
model: {input: [2], mlp: {hidden: [8], outputs: 2, activation: relu}}
data: {source: xor, n_samples: 120, shuffle: false}
loss: {name: cross_entropy, label_smoothing: 0.1}
optimizer: {name: adam, lr: 0.01}
train: {epochs: 3, batch_size: 16}
""",
}


@pytest.mark.parametrize("name", list(RECIPES))
def test_train_torch_follows_the_recipe_exactly_without_shuffling(tmp_path, name):
    """With data.shuffle false both sides see the same batches, so every epoch's metrics
    agree to the printed 4 decimals: same loss, optimizer, schedule and data."""
    spec = parse_spec(RECIPES[name])
    runs.train(spec, {}, out=tmp_path / "run", quiet=True)
    with open(tmp_path / "run" / "metrics.csv") as handle:
        ours = list(csv.DictReader(handle))
    result = run_script(to_torch(spec, tmp_path / "torch"), sys.executable, "train_torch.py")
    theirs = epoch_metrics(result.stdout)
    assert len(theirs) == len(ours) == 3
    for mine, torch_row in zip(ours, theirs):
        assert set(torch_row) == {k for k in mine if k not in ("epoch", "seconds")}
        for key, value in torch_row.items():
            assert value == pytest.approx(float(mine[key]), rel=1e-5, abs=2e-4, nan_ok=True), key


def test_a_pytorch_trained_mlp_loads_through_init_from(tmp_path):
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(784, 32), torch.nn.Tanh(), torch.nn.Linear(32, 10)
    )
    save_file(theirs.state_dict(), tmp_path / "pytorch.safetensors")
    spec_text = (
        MLP_SPEC.read_text()
        .replace("linear: 128", "linear: 32")
        .replace("    - relu", "    - tanh")
    )
    (tmp_path / "spec.yaml").write_text(spec_text + "init: {from: pytorch.safetensors}\n")
    bundle = from_spec(load_spec(tmp_path / "spec.yaml"))
    X = bundle.dataset.X_test
    with torch.no_grad():
        expected = theirs(torch.from_numpy(X)).numpy()
    assert relative_error(predict_arrays(bundle.model, X), expected) <= 1e-6
    # evaluate takes the spec itself: PyTorch's weights on the spec's test split
    metrics = runs.evaluate(tmp_path / "spec.yaml")
    assert metrics["accuracy"] == np.mean(expected.argmax(axis=1) == bundle.dataset.y_test)
