"""The torchinfo-style summary: golden tables, totals, JSON, explanations and warnings."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, nn, rng
from tinygrad_edu.summary import ModelSummary, SummaryError, explain, summary

# torchinfo's output for the lecture's MLP at input (32, 784), float32. By hand:
# params 784*128 + 128 = 100,480 and 128*10 + 10 = 1,290, total 101,770;
# mult-adds 32*100,480 + 32*1,290 = 3,256,640 -> 3.26 M;
# input 32*784*4 = 100,352 B -> 0.10 MB; forward/backward 2*(32*128 + 32*10)*4 = 35,328 B
# -> 0.04 MB; params 101,770*4 = 407,080 B -> 0.41 MB; total 542,760 B -> 0.54 MB.
LECTURE_TABLE = """\
==========================================================================================
Layer (type:depth-idx)                   Output Shape              Param #
==========================================================================================
MLP                                      [32, 10]                  --
├─Flatten: 1-1                           [32, 784]                 --
├─Linear: 1-2                            [32, 128]                 100,480
├─ReLU: 1-3                              [32, 128]                 --
├─Linear: 1-4                            [32, 10]                  1,290
==========================================================================================
Total params: 101,770
Trainable params: 101,770
Non-trainable params: 0
Total mult-adds (M): 3.26
==========================================================================================
Input size (MB): 0.10
Forward/backward pass size (MB): 0.04
Params size (MB): 0.41
Estimated Total Size (MB): 0.54
=========================================================================================="""


def lecture_summary(**kwargs) -> ModelSummary:
    return summary(nn.MLP(784, [128], 10, **kwargs), (32, 784))


def test_golden_table_of_the_lecture_mlp():
    assert str(lecture_summary()) == LECTURE_TABLE


def test_the_equivalent_sequential_differs_only_in_the_first_row():
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    expected = LECTURE_TABLE.replace("MLP       ", "Sequential")
    assert str(tg.summary(model, input_size=(32, 784))) == expected


def test_totals_of_the_lecture_mlp():
    s = lecture_summary()
    assert (s.total_params, s.trainable_params, s.non_trainable_params) == (101_770, 101_770, 0)
    assert s.total_mult_adds == 3_256_640
    assert s.input_size_bytes == 100_352
    assert s.forward_backward_bytes == 35_328
    assert s.params_bytes == 407_080
    assert s.total_bytes == 542_760
    assert [(r.label, r.output_shape, r.num_params) for r in s.rows] == [
        ("MLP", [32, 10], 101_770),
        ("Flatten: 1-1", [32, 784], 0),
        ("Linear: 1-2", [32, 128], 100_480),
        ("ReLU: 1-3", [32, 128], 0),
        ("Linear: 1-4", [32, 10], 1_290),
    ]


def test_image_input_is_flattened():
    s = summary(nn.MLP(784, [128], 10), (32, 1, 28, 28))
    assert s.rows[1].output_shape == [32, 784]
    assert s.total_mult_adds == 3_256_640


def test_float64_doubles_every_byte_size():
    single = lecture_summary()
    double = lecture_summary(dtype="float64")
    assert double.dtype == "float64" and single.dtype == "float32"
    for name in ("input_size_bytes", "forward_backward_bytes", "params_bytes", "total_bytes"):
        assert getattr(double, name) == 2 * getattr(single, name)
    assert double.total_mult_adds == single.total_mult_adds
    text = str(double)
    assert "Input size (MB): 0.20" in text
    assert "Forward/backward pass size (MB): 0.07" in text  # 70,656 B
    assert "Params size (MB): 0.81" in text  # 814,160 B
    assert "Estimated Total Size (MB): 1.09" in text  # 1,085,520 B


def test_input_dtype_can_be_given():
    s = summary(nn.MLP(4, [3], 2), (2, 4), dtype="float64")
    assert s.input_size_bytes == 2 * 4 * 8 and s.params_bytes == (15 + 8) * 4


def test_frozen_parameters_are_non_trainable_and_shown_in_parentheses():
    model = nn.MLP(784, [128], 10)
    for p in model[3].parameters():
        p.requires_grad_(False)
    s = summary(model, (32, 784))
    text = str(s)
    assert "├─Linear: 1-4                            [32, 10]                  (1,290)" in text
    assert "Trainable params: 100,480\nNon-trainable params: 1,290" in text


class Block(nn.Module):
    def __init__(self, width: int):
        self.body = nn.Sequential(nn.Linear(width, width), nn.ReLU())
        self.gate = nn.Parameter(np.ones(width, dtype=np.float32))

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x) * self.gate


class Net(nn.Module):
    def __init__(self):
        self.flatten = nn.Flatten()
        self.block = Block(8)
        self.head = nn.Linear(8, 2)

    def forward(self, x: Tensor) -> Tensor:
        x = self.flatten(x)
        x = self.block(self.block(x))  # the same block twice: its second call is recursive
        return self.head(x)


# By hand: Block owns 8 (gate) of its 80 parameters, its Linear 72; head 18; total 98.
# mult-adds 4*72 + 4*72 + 4*18 = 648; forward/backward 2*(128 + 128 + 32) B = 576 B.
NESTED_TABLE = """\
==========================================================================================
Layer (type:depth-idx)                   Output Shape              Param #
==========================================================================================
Net                                      [4, 2]                    --
├─Flatten: 1-1                           [4, 8]                    --
├─Block: 1-2                             [4, 8]                    8
│    └─Sequential: 2-1                   [4, 8]                    --
│    │    └─Linear: 3-1                  [4, 8]                    72
│    │    └─ReLU: 3-2                    [4, 8]                    --
├─Block: 1-3                             [4, 8]                    (recursive)
│    └─Sequential: 2-2                   [4, 8]                    (recursive)
│    │    └─Linear: 3-3                  [4, 8]                    (recursive)
│    │    └─ReLU: 3-4                    [4, 8]                    --
├─Linear: 1-4                            [4, 2]                    18
==========================================================================================
Total params: 98
Trainable params: 98
Non-trainable params: 0
Total mult-adds (M): 0.00
==========================================================================================
Input size (MB): 0.00
Forward/backward pass size (MB): 0.00
Params size (MB): 0.00
Estimated Total Size (MB): 0.00
=========================================================================================="""


def test_golden_table_of_a_nested_model_with_a_reused_block():
    s = summary(Net(), (4, 2, 4))
    assert str(s) == NESTED_TABLE
    assert s.total_params == 98 and s.total_mult_adds == 648
    assert s.forward_backward_bytes == 576 and s.params_bytes == 392
    assert [r.name for r in s.rows][:4] == ["", "flatten", "block", "block.body"]


def test_name_column_widens_in_steps_of_five_for_long_labels():
    class AVeryLongModuleNameForTheTableWidth(nn.Module):  # 35 characters
        def forward(self, x):
            return x

    model = nn.Sequential(AVeryLongModuleNameForTheTableWidth())
    lines = str(summary(model, (1, 3))).split("\n")
    # label 'AVeryLong...: 1-1' is 40 characters; + depth 1 * 5 + 1 = 46 -> width 50
    assert lines[0] == "=" * 100
    assert (
        lines[4]
        == "├─AVeryLongModuleNameForTheTableWidth: 1-1" + " " * 9 + "[1, 3]" + " " * 20 + "--"
    )


# --- JSON, explanation, warnings ----------------------------------------------------------


def test_to_dict_is_json_ready_and_complete():
    data = json.loads(json.dumps(lecture_summary().to_dict()))
    assert data["model"] == "MLP" and data["input_size"] == [32, 784] and data["dtype"] == "float32"
    assert data["total_params"] == 101_770 and data["non_trainable_params"] == 0
    assert data["total_mult_adds"] == 3_256_640 and data["total_bytes"] == 542_760
    assert data["forward_backward_bytes"] == 35_328 and data["params_bytes"] == 407_080
    assert data["input_size_bytes"] == 100_352 and data["warnings"] == []
    assert data["layers"][2] == {
        "name": "1",
        "type": "Linear",
        "label": "Linear: 1-2",
        "depth": 1,
        "index": 2,
        "output_shape": [32, 128],
        "num_params": 100_480,
        "trainable_params": 100_480,
        "mult_adds": 3_215_360,
        "is_recursive": False,
    }


LECTURE_EXPLANATION = """\
MLP has 101,770 parameters (all trainable):
  (1) Linear(784 -> 128): 784 x 128 weights + 128 biases = 100,480
  (3) Linear(128 -> 10): 128 x 10 weights + 10 biases = 1,290
  Flatten, ReLU: no parameters (they reshape or transform values)
Total: 100,480 + 1,290 = 101,770
Why: a Linear(n -> m) layer has one weight for every input-output pair (n x m) and one bias \
per output (m)."""


def test_explain_the_parameter_count():
    model = nn.MLP(784, [128], 10)
    assert explain(model) == LECTURE_EXPLANATION
    assert summary(model, (32, 784)).explain() == LECTURE_EXPLANATION


def test_explain_other_parameters_frozen_ones_and_no_bias():
    model = nn.Sequential(nn.Linear(3, 2, bias=False), Block(2))
    model[0].weight.requires_grad_(False)
    assert explain(model) == (
        "Sequential has 14 parameters (8 trainable, 6 frozen):\n"
        "  (0) Linear(3 -> 2): 3 x 2 weights, no bias = 6\n"
        "  (1) Block: 2 gate = 2\n"
        "  (1.body.0) Linear(2 -> 2): 2 x 2 weights + 2 biases = 6\n"
        "  ReLU: no parameters (they reshape or transform values)\n"
        "Total: 6 + 2 + 6 = 14\n"
        "Why: a Linear(n -> m) layer has one weight for every input-output pair (n x m) and "
        "one bias per output (m)."
    )


def test_warns_when_linear_layers_collapse_to_one_linear_model():
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.Dropout(0.1), nn.Linear(3, 2))
    (warning,) = summary(model, (2, 4)).warnings
    assert "Linear layers 1 and 3" in warning
    assert "collapse" in warning and "linear model" in warning
    identity = summary(nn.MLP(4, [3, 3], 2, activation="identity"), (2, 4))
    assert len(identity.warnings) == 2


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "gelu", "leaky_relu"])
def test_no_collapse_warning_with_an_activation_between(activation):
    assert summary(nn.MLP(4, [3, 3], 2, activation=activation), (2, 4)).warnings == []


# --- the forward pass ---------------------------------------------------------------------


def test_summary_restores_modes_and_leaves_the_generator_alone():
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5), nn.ReLU(), nn.Linear(4, 2))
    model[1].eval()  # a mixed state must come back as it was
    before = rng.get_state()
    summary(model, (3, 4))
    assert rng.get_state() == before
    assert [m.training for m in model.modules()] == [True, True, False, True, True]
    assert all(p.grad is None for p in model.parameters())


def test_wrong_input_size_names_the_failing_layer():
    with pytest.raises(
        SummaryError, match=r"with input size \[32, 100\] failed in Linear: 1-2 \('1'\)"
    ):
        summary(nn.MLP(784, [128], 10), (32, 100))


def test_summary_runs_on_every_backend(xp_backend):
    assert str(summary(nn.MLP(784, [128], 10), (32, 784))) == LECTURE_TABLE


# --- printing -----------------------------------------------------------------------------


def test_render_writes_plain_text_with_warnings_when_not_a_terminal():
    from rich.console import Console

    buffer = io.StringIO()
    s = summary(nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2)), (2, 4))
    s.render(Console(file=buffer, width=50))  # narrower than the table: must not wrap
    out = buffer.getvalue()
    assert "\x1b" not in out
    assert out.startswith(str(s) + "\n")
    assert out.endswith("collapse to a single linear model (W2 (W1 x + b1) + b2 = W x + b); put a "
                        "non-linearity such as ReLU between them\n")  # fmt: skip


def test_import_does_not_load_rich():
    code = "import sys, tinygrad_edu; print('rich' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
