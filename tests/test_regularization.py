"""L1 regularization (``train.l1``, TensorFlow Playground's L1): each weight's update gains
lr * rate * sign(w) with plain SGD, biases are not regularized, the reported loss is the
data loss alone; eager and recorded (train.compile) steps agree."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu._tensor import Tensor
from tinygrad_edu.errors import UserError
from tinygrad_edu.objectives import MetricAccumulator
from tinygrad_edu.spec import validate_spec
from tinygrad_edu.training.loop import Trainer, prepare

LR, RATE = 0.1, 0.05


def _setup(l1: float, compile: bool, engine: str = "tensor"):
    spec = validate_spec(
        {
            "name": "l1",
            "seed": 3,
            "dtype": "float64",
            "model": {"input": [2], "layers": [{"linear": 3}, "tanh", {"linear": 1}]},
            "data": {"source": "reg-gauss", "n_samples": 40},
            "loss": "mse",
            "optimizer": {"name": "sgd", "lr": LR},
            "train": {"epochs": 1, "batch_size": 8, "l1": l1, "compile": compile},
        }
    )
    return prepare(spec, engine=engine)


@pytest.mark.parametrize("compile", [False, True])
def test_an_l1_step_is_the_data_step_plus_lr_rate_sign_w_on_weights_only(compile):
    run = _setup(RATE, compile)
    trainer = Trainer(run, None)
    twin = _setup(0.0, False)  # the data gradient's step from the same weights and batch
    X, y = run.dataset.X_train, run.dataset.y_train
    for step in range(3):  # the recorded step is replayed from the second one on
        before = {k: v.copy() for k, v in run.model.state_dict().items()}
        xb, yb = X[8 * step : 8 * step + 8], y[8 * step : 8 * step + 8]
        twin.model.load_state_dict(before)
        twin.optimizer.zero_grad()
        data_loss = twin.objective(twin.model(Tensor(xb)), twin.objective.targets(yb))
        data_loss.backward()
        twin.optimizer.step()
        metrics = MetricAccumulator(run.objective)
        trainer._train_step(xb, yb, metrics)
        after, stepped = run.model.state_dict(), twin.model.state_dict()
        for name, value in after.items():
            expected = stepped[name]
            if name.endswith("weight"):  # w - lr * dE/dw - lr * rate * sign(w)
                expected = expected - LR * RATE * np.sign(before[name])
                assert not np.allclose(value, stepped[name])  # the penalty did move it
            np.testing.assert_allclose(value, expected, rtol=0, atol=1e-14, err_msg=name)
        assert metrics.result()["loss"] == pytest.approx(data_loss.item(), abs=1e-15)


def test_the_value_engine_refuses_l1_before_loading_data():
    with pytest.raises(UserError, match=r"no L1 regularization \(train.l1\)"):
        _setup(RATE, False, engine="value")
