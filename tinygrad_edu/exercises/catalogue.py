"""The exercise set, in the lecture's order: what each asks, where, and for how many points.

An exercise is one function of the student's workspace package (`PACKAGE`): ``file`` is
that function's file relative to the workspace, ``function`` its qualified name there. The
reference solution of every exercise is the same function in `tinygrad_edu.exercises.solution`,
which is the solved source of the workspace's files.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .. import ops
from .value_ops import OpFormula, describe, formulas

PACKAGE = "minigrad"  # the workspace's package: not tinygrad_edu, so nothing falls back on ours


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    points: int
    module: str  # the module of PACKAGE that holds the function
    function: str  # its qualified name in that module
    section: str  # the part of the lecture it practises
    task: str  # what to write, in words
    hint: str  # the formula to derive (never its code)
    seconds: float = 20.0  # wall-clock limit of its checks

    @property
    def file(self) -> str:
        return f"{PACKAGE}/{self.module}.py"

    def to_dict(self) -> dict:
        keys = ("id", "title", "points", "file", "function", "section")
        return {key: getattr(self, key) for key in keys}


def _value_op(formula: OpFormula) -> Exercise:
    """The exercise of one marked op of the engine's table: its backward, on the Value engine."""
    op = formula.op
    tie = f" At the kink: {formula.tie}." if formula.tie else ""
    return Exercise(
        id=f"value-{op}",
        title=f"Value backward for {op}",
        points=formula.points,
        module="value",
        function=f"Value.{op}_backward",
        section="Backpropagation on scalars (the Value engine)",
        task=(
            f"`out` was made by {formula.forward}; its inputs are `out._prev`. Add each "
            "input's local derivative times `out.grad` to that input's `.grad` (add with +=: "
            "an input used twice collects both contributions)."
        ),
        hint=f"{formula.derivative}.{tie}",
    )


_RELU = describe("relu")

AFTER_THE_OPS: tuple[Exercise, ...] = (  # written here, not read from the op table
    Exercise(
        "backward-walk",
        "The backward walk: topological order and accumulation",
        3,
        "value",
        "Value.backward",
        "Backpropagation on scalars (the Value engine)",
        "Set this node's grad to 1, then call `node._backward_step(node)` for every node of "
        "the graph below it (where that step is not None), each exactly once, and a node only "
        "after every node that uses it. Graphs can be 10,000 nodes deep.",
        "Order the nodes topologically (a node after all its inputs) and walk that order "
        "backwards. Python's recursion stops near 1,000 levels: use a loop and a stack.",
    ),
    Exercise(
        "unbroadcast",
        "Broadcasting gradients back to an operand's shape",
        2,
        "tensor_ops",
        "unbroadcast",
        "The linear layer: f(X) = X W^T + b^T (lecture eq. 7)",
        "`grad` has the shape of a broadcast result; return the gradient of the operand of "
        "shape `shape` that was broadcast to it.",
        "Broadcasting copies the operand along the dimensions it lacks (added in front) and "
        "along its size-1 dimensions; the gradient of a copied value is the sum of the "
        "gradients of its copies: sum over those dimensions, keep `shape`.",
    ),
    Exercise(
        "linear-forward",
        "The linear layer's forward pass",
        1,
        "tensor_ops",
        "linear_forward",
        "The linear layer: f(X) = X W^T + b^T (lecture eq. 7)",
        "X is (batch, in), W is (out, in) as PyTorch stores it, b is (out,); return "
        "f(X) of shape (batch, out).",
        "f(X) = X W^T + b^T: every row of X meets every row of W; b is added to every row.",
    ),
    Exercise(
        "linear-backward",
        "The linear layer's backward pass",
        3,
        "tensor_ops",
        "linear_backward",
        "The linear layer: f(X) = X W^T + b^T (lecture eq. 7)",
        "Given grad_out = dL/df (batch, out), return (dL/dX, dL/dW, dL/db) in the shapes of "
        "X, W and b.",
        "With f = X W^T + b^T: dL/dX = G W, dL/dW = G^T X, dL/db = the sum of G over the "
        "batch (b was broadcast to every row), where G = grad_out.",
    ),
    Exercise(
        "relu",
        "ReLU for tensors, and why a network needs it",
        1,
        "tensor_ops",
        "relu",
        "Activations: without one, layers collapse to one linear map",
        "Return max(x, 0) elementwise, in x's shape. The check also trains a small network on "
        "the circles data: with your ReLU it must separate the classes (a network without an "
        "activation cannot: it is one linear map).",
        "relu(x) = x where x > 0, else 0.",
    ),
    Exercise(
        "relu-backward",
        "ReLU's backward pass for tensors",
        1,
        "tensor_ops",
        "relu_backward",
        "Activations: without one, layers collapse to one linear map",
        "Given the input x and grad_out = dL/d relu(x), return dL/dx in x's shape.",
        f"{_RELU.derivative}, elementwise, times grad_out. At the kink: {_RELU.tie}.",
    ),
    Exercise(
        "softmax-ce",
        "Softmax cross-entropy, numerically stable",
        2,
        "tensor_ops",
        "softmax_cross_entropy",
        "Classification: softmax and the cross-entropy loss",
        "logits is (batch, classes), targets the (batch,) class indices; return the mean "
        "over the batch of -log softmax(logits)[target] as a float, finite even for logits "
        "of 1000 or -1000.",
        "log softmax(z)_k = z_k - log sum_j exp(z_j); subtracting max_j z_j from every z_j "
        "changes nothing mathematically and keeps exp from overflowing.",
    ),
    Exercise(
        "softmax-ce-backward",
        "Softmax cross-entropy's backward pass",
        2,
        "tensor_ops",
        "softmax_cross_entropy_backward",
        "Classification: softmax and the cross-entropy loss",
        "Return d(mean loss)/d logits, in the shape of logits, finite for large logits.",
        "d loss_i / d z_ik = softmax(z_i)_k - [k == target_i], divided by the batch size "
        "for the mean.",
    ),
    Exercise(
        "count-parameters",
        "How many parameters does MLP(784, [128], 10) have, and why?",
        1,
        "nn",
        "count_parameters",
        "Counting parameters (the model summary)",
        "sizes lists the layer widths, input first ([784, 128, 10] is the lecture's MLP); "
        "return how many numbers the MLP learns. The lecture's MLP has 101,770.",
        "A Linear(n_in, n_out) layer has a weight matrix of n_out x n_in and a bias of "
        "n_out; add up the layers.",
    ),
    Exercise(
        "sgd-momentum",
        "One SGD step with momentum",
        2,
        "optim",
        "sgd_momentum_step",
        "Training: gradient descent and momentum",
        "Update `velocity` and then `param` in place (they are the optimizer's state), as "
        "PyTorch's SGD does with its momentum buffer (dampening 0, no Nesterov).",
        "v <- momentum * v + g, then p <- p - lr * v.",
    ),
    Exercise(
        "train-mnist",
        "Put together: train the lecture's MLP on MNIST-5k",
        3,
        "train",
        "train",
        "Training the lecture's MLP on the digits",
        "Train MLP([784, 128, 10]) with mini-batches of `batch_size`, shuffled each epoch "
        "with a generator seeded by `seed`, using your own functions (forward, "
        "softmax_cross_entropy_backward, the model's backward, sgd_momentum_step), and return "
        "the model. It must reach 90% test accuracy on MNIST-5k within the time limit.",
        "One step: logits = model.forward(X_batch); grads = model.backward(dL/d logits); "
        "then one optimizer step per parameter with its own velocity.",
        seconds=180.0,
    ),
)


def exercise_set(marked: Iterable[str] = ops.EXERCISES) -> tuple[Exercise, ...]:
    """The exercises in the lecture's order: one per op marked in the engine's table (so
    marking one more op there adds its exercise here), then the rest."""
    return (*(_value_op(formula) for formula in formulas(marked).values()), *AFTER_THE_OPS)


EXERCISES = exercise_set()
BY_ID = {exercise.id: exercise for exercise in EXERCISES}
