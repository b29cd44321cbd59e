"""train.engine: value (training/scalar.py): the scalar Value engine trains a spec to the
tensor engine's losses (float64), writes the same run folder, and refuses what it cannot do."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import runs
from tinygrad_edu.cli import main
from tinygrad_edu.errors import UserError
from tinygrad_edu.io import npz
from tinygrad_edu.runs.start import _load
from tinygrad_edu.training import scalar
from tinygrad_edu.training.loop import prepare

SPEC = """
name: scalar-test
seed: 4
dtype: float64
model:
  input: [{inputs}]
  layers: [linear: 6, {activation}, linear: 5, relu, linear: {outputs}]
data: {data}
loss: {loss}
optimizer: {optimizer}
scheduler: {{name: cosine}}
train: {{epochs: 4, batch_size: 16}}
"""
MOONS = "{source: moons, n_samples: 120, noise: 0.2}"
SINE = "{source: function, function: sin, interval: [-3.0, 3.0], n_samples: 120}"
CASES = {
    "mse-adam-tanh": dict(inputs=1, outputs=1, activation="tanh", data=SINE, loss="mse",
                          optimizer="{name: adam, lr: 0.02}"),
    "cross-entropy-sgd-momentum": dict(inputs=2, outputs=2, activation="relu", data=MOONS,
                                       loss="cross_entropy",
                                       optimizer="{name: sgd, lr: 0.1, momentum: 0.9}"),
    "bce-sgd-sigmoid": dict(inputs=2, outputs=1, activation="sigmoid", data=MOONS,
                            loss="binary_cross_entropy_with_logits",
                            optimizer="{name: sgd, lr: 0.5}"),
}  # fmt: skip
RUN_FILES = ("spec.yaml", "metrics.csv", "checkpoint.npz", "model.npz", "run.json")


def write_spec(tmp_path: Path, case: str, **changes: str) -> Path:
    path = tmp_path / f"{case}.yaml"
    path.write_text(SPEC.format(**{**CASES[case], **changes}))
    return path


def metric_rows(run_dir: Path) -> list[dict[str, str]]:
    with open(run_dir / "metrics.csv") as handle:
        return list(csv.DictReader(handle))


def train(spec: Path, out: Path, engine: str) -> io.StringIO:
    stream = io.StringIO()
    runs.train(spec, {"train.engine": engine}, out=out, stream=stream)
    return stream


@pytest.mark.parametrize("case", sorted(CASES))
def test_value_engine_reaches_the_tensor_engines_losses(tmp_path: Path, case: str) -> None:
    spec = write_spec(tmp_path, case)
    train(spec, tmp_path / "tensor", "tensor")
    shown = train(spec, tmp_path / "value", "value").getvalue()
    assert "nodes per sample" in shown and "nodes per step of 16 samples" in shown
    tensor_rows, value_rows = metric_rows(tmp_path / "tensor"), metric_rows(tmp_path / "value")
    assert len(tensor_rows) == len(value_rows) == 4
    for tensor_row, value_row in zip(tensor_rows, value_rows):
        for column in tensor_row:
            if column != "seconds":
                assert float(value_row[column]) == pytest.approx(
                    float(tensor_row[column]), abs=1e-9
                ), (tensor_row["epoch"], column)
    assert float(value_rows[-1]["train_loss"]) < float(value_rows[0]["train_loss"])
    for name in RUN_FILES:
        assert (tmp_path / "value" / name).is_file(), name
    for name in ("model.npz", "checkpoint.npz"):
        tensor_arrays = npz.load_npz(tmp_path / "tensor" / name)
        value_arrays = npz.load_npz(tmp_path / "value" / name)
        assert tensor_arrays.keys() == value_arrays.keys()
        for key in (k for k in tensor_arrays if k.startswith("model/")):
            np.testing.assert_allclose(value_arrays[key], tensor_arrays[key], atol=1e-9)


@pytest.mark.parametrize("case", sorted(CASES))
def test_one_step_gives_the_tensor_engines_gradients(tmp_path: Path, case: str) -> None:
    from tinygrad_edu import Tensor

    setup = prepare(_load(write_spec(tmp_path, case), {"train.engine": "value"}))
    ds, objective, model = setup.dataset, setup.objective, setup.model
    xb, yb = ds.X_train[:16], ds.y_train[:16]
    outputs, loss = model.loss_and_gradients(xb, objective.targets(yb).numpy())
    value_grads = [p._grad.copy() for p in model.parameters()]
    assert model.nodes_per_sample > 0

    reference = model.module(Tensor(xb))
    tensor_loss = objective(reference, objective.targets(yb))
    for p in model.parameters():
        p._grad = None
    tensor_loss.backward()
    assert loss == pytest.approx(tensor_loss.item(), abs=1e-12)
    np.testing.assert_allclose(outputs, reference.numpy(), atol=1e-12)
    for value_grad, param in zip(value_grads, model.parameters()):
        np.testing.assert_allclose(value_grad, param._grad, atol=1e-12)


def test_cli_engine_value_sets_float64_and_prints_the_graph_size(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    spec = write_spec(tmp_path, "mse-adam-tanh")
    spec.write_text(spec.read_text().replace("dtype: float64\n", ""))  # float32 by default
    code = main(["train", str(spec), "--engine", "value", "--out", str(tmp_path / "run"),
                 "--no-plots"])  # fmt: skip
    assert code == 0
    assert "value engine:" in capsys.readouterr().out
    recorded = (tmp_path / "run" / "spec.yaml").read_text()
    assert "engine: value" in recorded and "dtype: float64" in recorded


def test_too_many_parameters_are_refused_before_the_data_is_loaded(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, "cross-entropy-sgd-momentum")
    # 2 * 3000 + 3000 + 3000 * 5 + 5 + 5 * 2 + 2 > MAX_PARAMETERS; the data could not load
    missing = "{source: csv, path: missing.csv, target: y}"
    spec.write_text(spec.read_text().replace("linear: 6", "linear: 3000").replace(MOONS, missing))
    with pytest.raises(UserError, match=r"24,017 parameters.*limit of 5,000.*--engine tensor"):
        runs.train(spec, {"train.engine": "value"}, out=tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_a_run_estimated_too_long_is_refused_with_the_estimate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scalar, "MAX_SECONDS", 1e-6)
    spec = write_spec(tmp_path, "mse-adam-tanh")
    with pytest.raises(UserError, match=r"would take about \d+ s .*4 epochs of 96 samples"):
        runs.train(spec, {"train.engine": "value"}, out=tmp_path / "run")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"activation": "dropout: 0.1"}, r"layer 1 \(Dropout\).*Linear layers and the relu"),
        ({"activation": "gelu"}, r"layer 1 \(GELU\)"),
        ({"loss": "huber"}, r"loss huber: it supports mse, cross_entropy"),
        ({"loss": "{name: cross_entropy, label_smoothing: 0.1}"}, r"label_smoothing': 0.1"),
    ],
)
def test_what_scalars_cannot_do_is_refused(tmp_path: Path, change: dict, message: str) -> None:
    case = "mse-adam-tanh" if change.get("loss") == "huber" else "cross-entropy-sgd-momentum"
    spec = write_spec(tmp_path, case, **change)
    with pytest.raises(UserError, match=message):
        runs.train(spec, {"train.engine": "value"}, out=tmp_path / "run")


def test_unflattened_samples_are_refused() -> None:
    from types import SimpleNamespace

    from tinygrad_edu import nn

    spec = SimpleNamespace(backend="numpy", dtype="float64", model=SimpleNamespace(input=[3, 2]))
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Flatten(), nn.Linear(12, 2))
    with pytest.raises(UserError, match=r"model.input is \[3, 2\] and layer 0 \(Linear\)"):
        scalar.check_spec(spec, model, "cross_entropy", {})
    flat_first = nn.Sequential(nn.Flatten(), nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 2))
    scalar.check_spec(spec, flat_first, "cross_entropy", {})  # accepted


def test_float32_is_refused_with_the_fix(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, "mse-adam-tanh")
    with pytest.raises(UserError, match=r"dtype float32; set backend: numpy and dtype: float64"):
        runs.train(spec, {"train.engine": "value", "dtype": "float32"}, out=tmp_path / "run")


def test_a_value_run_is_evaluated_on_the_tensor_engine(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, "cross-entropy-sgd-momentum")
    final = runs.train(spec, {"train.engine": "value"}, out=tmp_path / "run")
    setup = runs.restore(tmp_path / "run")
    assert not hasattr(setup.model, "engine")  # the tensor model, with the trained weights
    assert runs.evaluate(tmp_path / "run")["loss"] == pytest.approx(final["test_loss"])


def test_value_runs_record_the_tensor_engines_diagnostics(tmp_path: Path) -> None:
    from tinygrad_edu.training.diagnostics import read_diagnostics
    from tinygrad_edu.training.layout import DIAGNOSTICS

    spec = write_spec(tmp_path, "cross-entropy-sgd-momentum")
    rows = {}
    for engine in ("tensor", "value"):
        switches = {"train.engine": engine, "train.diagnostics": True}
        runs.train(spec, switches, out=tmp_path / engine, quiet=True)
        rows[engine] = read_diagnostics(tmp_path / engine / DIAGNOSTICS)
    assert len(rows["value"]) == len(rows["tensor"]) == 4 * 3
    for tensor_row, value_row in zip(rows["tensor"], rows["value"]):
        assert tensor_row.keys() == value_row.keys()
        for column, text in tensor_row.items():
            if text and column not in ("epoch", "layer", "units"):
                assert float(value_row[column]) == pytest.approx(float(text), abs=1e-9)
            else:
                assert value_row[column] == text


def test_a_value_run_resumes_bit_identically(tmp_path: Path) -> None:
    import os
    import signal

    from tinygrad_edu.training.loop import TrainingInterrupted

    spec = write_spec(tmp_path, "mse-adam-tanh")
    runs.train(spec, {"train.engine": "value"}, out=tmp_path / "straight", quiet=True)

    def interrupt(step: int) -> None:
        if step == 9:  # in epoch 2 (6 steps per epoch)
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(TrainingInterrupted):
        runs.train(spec, {"train.engine": "value"}, out=tmp_path / "cut", quiet=True,
                   on_step=interrupt)  # fmt: skip
    runs.train(None, {}, resume=tmp_path / "cut", quiet=True)
    without_seconds = [
        [{k: v for k, v in row.items() if k != "seconds"} for row in metric_rows(tmp_path / d)]
        for d in ("straight", "cut")
    ]
    assert without_seconds[0] == without_seconds[1]
    straight = npz.load_npz(tmp_path / "straight" / "model.npz")
    cut = npz.load_npz(tmp_path / "cut" / "model.npz")
    assert all(np.array_equal(straight[k], cut[k]) for k in straight if k.startswith("model/"))


def test_validate_refuses_what_the_value_engine_cannot_train(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    good = write_spec(tmp_path, "mse-adam-tanh")
    good.write_text(good.read_text().replace("epochs: 4,", "epochs: 4, engine: value,"))
    assert main(["validate", str(good)]) == 0
    bad = write_spec(tmp_path, "cross-entropy-sgd-momentum", activation="dropout: 0.1")
    bad.write_text(bad.read_text().replace("epochs: 4,", "epochs: 4, engine: value,"))
    assert main(["validate", str(bad)]) == 2
    output = capsys.readouterr()
    assert "train.engine" in output.out + output.err
    assert "layer 1 (Dropout)" in output.out + output.err
