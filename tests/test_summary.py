# ruff: noqa: E501  (torchinfo's golden tables are wider than 100 characters)
"""The torchinfo-style summary: golden tables, totals, options, JSON, explanations, warnings.

Every table and number marked "torchinfo" below was printed by torchinfo 1.8.0 with
PyTorch 2.13 for the PyTorch twin of the model defined here (same classes, attribute
names, layer sizes and call order; ``torch.nn`` layers, ``super().__init__()``). The one
edit: torchinfo 1.8.0 prints "Total mult-adds (Units.MEGABYTES)" on Python >= 3.11 (an
enum repr, its issue #350); the tables here have the intended "(M)" / "(G)".
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import docs_pages
import numpy as np
import pytest

from tinygrad_edu import Tensor, cli, nn, rng
from tinygrad_edu.summary import COLUMNS, ROW_SETTINGS, ModelSummary, SummaryError, explain, summary


def lecture() -> nn.Sequential:
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))


class MLP(nn.Module):
    """The README's class-based MLP: its layers live in a Sequential attribute."""

    def __init__(self, input_size, hidden_layer_sizes, num_outputs):
        sizes = [input_size, *hidden_layer_sizes]
        layers = [nn.Flatten()]
        for n_in, n_out in zip(sizes, sizes[1:]):
            layers += [nn.Linear(n_in, n_out), nn.ReLU()]
        layers.append(nn.Linear(sizes[-1], num_outputs))
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x)


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


class Tower(nn.Module):
    """A ModuleList is never called itself: torchinfo inserts its row above its children."""

    def __init__(self):
        self.stem = nn.Linear(6, 5)
        self.hidden = nn.ModuleList([nn.Linear(5, 5), nn.Tanh(), nn.Linear(5, 4)])
        self.out = nn.Linear(4, 3)

    def forward(self, x):
        x = self.stem(x)
        for layer in self.hidden:
            x = layer(x)
        return self.out(x)


class Window(nn.Module):
    """A layer with a ``kernel_size`` attribute (the Kernel Shape column) and a 1-D weight."""

    def __init__(self):
        self.kernel_size = (2, 2)
        self.weight = nn.Parameter(np.ones(4, dtype=np.float32))

    def forward(self, x):
        return x * self.weight


class Skip(nn.Module):
    """Calls the Sequential's layers one by one, never the Sequential itself."""

    def __init__(self):
        self.seq = nn.Sequential(nn.Linear(4, 4), nn.ReLU())
        self.window = Window()

    def forward(self, x):
        return self.window(self.seq[1](self.seq[0](x)))


class TwoInputs(nn.Module):
    def __init__(self):
        self.left = nn.Linear(4, 2)
        self.right = nn.Linear(5, 2)

    def forward(self, a, b):
        return self.left(a) + self.right(b)


def frozen_lecture() -> nn.Sequential:
    model = lecture()
    for p in model[3].parameters():
        p.requires_grad_(False)
    model[1].bias.requires_grad_(False)
    return model


ALL_COLUMNS = (
    "input_size", "output_size", "num_params", "params_percent", "kernel_size", "mult_adds",
    "trainable",
)  # fmt: skip

# --- torchinfo's tables ---------------------------------------------------------------------

LECTURE_TABLE = """\
==========================================================================================
Layer (type:depth-idx)                   Output Shape              Param #
==========================================================================================
Sequential                               [32, 10]                  --
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

README_MLP_TABLE = """\
==========================================================================================
Layer (type:depth-idx)                   Output Shape              Param #
==========================================================================================
MLP                                      [32, 10]                  --
├─Sequential: 1-1                        [32, 10]                  --
│    └─Flatten: 2-1                      [32, 784]                 --
│    └─Linear: 2-2                       [32, 128]                 100,480
│    └─ReLU: 2-3                         [32, 128]                 --
│    └─Linear: 2-4                       [32, 10]                  1,290
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

ALL_COLUMNS_TABLE = """\
=======================================================================================================================================================================================================================
Layer (type:depth-idx)                   Input Shape               Output Shape              Param #                   Param %                   Kernel Shape              Mult-Adds                 Trainable
=======================================================================================================================================================================================================================
Sequential                               [32, 784]                 [32, 10]                  --                             --                   --                        --                        True
├─Flatten: 1-1                           [32, 784]                 [32, 784]                 --                             --                   --                        --                        --
├─Linear: 1-2                            [32, 784]                 [32, 128]                 100,480                    98.73%                   --                        3,215,360                 True
├─ReLU: 1-3                              [32, 128]                 [32, 128]                 --                             --                   --                        --                        --
├─Linear: 1-4                            [32, 128]                 [32, 10]                  1,290                       1.27%                   --                        41,280                    True
=======================================================================================================================================================================================================================
Total params: 101,770
Trainable params: 101,770
Non-trainable params: 0
Total mult-adds (M): 3.26
=======================================================================================================================================================================================================================
Input size (MB): 0.10
Forward/backward pass size (MB): 0.04
Params size (MB): 0.41
Estimated Total Size (MB): 0.54
======================================================================================================================================================================================================================="""

VAR_NAMES_TABLE = """\
===================================================================================================================
Layer (type (var_name):depth-idx)        Output Shape              Param #                   Mult-Adds
===================================================================================================================
MLP (MLP)                                [32, 10]                  --                        --
├─Sequential (layers): 1-1               [32, 10]                  --                        --
│    └─Flatten (0): 2-1                  [32, 784]                 --                        --
│    └─Linear (1): 2-2                   [32, 128]                 100,480                   3,215,360
│    └─ReLU (2): 2-3                     [32, 128]                 --                        --
│    └─Linear (3): 2-4                   [32, 10]                  1,290                     41,280
===================================================================================================================
Total params: 101,770
Trainable params: 101,770
Non-trainable params: 0
Total mult-adds (M): 3.26
===================================================================================================================
Input size (MB): 0.10
Forward/backward pass size (MB): 0.04
Params size (MB): 0.41
Estimated Total Size (MB): 0.54
==================================================================================================================="""

ASCII_TABLE = """\
==========================================================================================
Layer (type (var_name))                  Output Shape              Param #
==========================================================================================
MLP (MLP)                                [32, 10]                  --
+ Sequential (layers)                    [32, 10]                  --
|    + Flatten (0)                       [32, 784]                 --
|    + Linear (1)                        [32, 128]                 100,480
|    + ReLU (2)                          [32, 128]                 --
|    + Linear (3)                        [32, 10]                  1,290
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

DEPTH_1_TABLE = """\
============================================================================================================================================
Layer (type:depth-idx)                   Output Shape              Param #                   Param %                   Mult-Adds
============================================================================================================================================
MLP                                      [32, 10]                  --                             --                   --
├─Sequential: 1-1                        [32, 10]                  101,770                   100.00%                   3,256,640
============================================================================================================================================
Total params: 101,770
Trainable params: 101,770
Non-trainable params: 0
Total mult-adds (M): 3.26
============================================================================================================================================
Input size (MB): 0.10
Forward/backward pass size (MB): 0.04
Params size (MB): 0.41
Estimated Total Size (MB): 0.54
============================================================================================================================================"""

VERBOSE_2_TABLE = """\
===================================================================================================================
Layer (type:depth-idx)                   Kernel Shape              Param #                   Trainable
===================================================================================================================
MLP                                      --                        --                        True
├─Sequential: 1-1                        --                        --                        True
│    └─1.weight                          [64, 784]                 ├─50,176
│    └─1.bias                            [64]                      ├─64
│    └─3.weight                          [32, 64]                  ├─2,048
│    └─3.bias                            [32]                      ├─32
│    └─5.weight                          [10, 32]                  ├─320
│    └─5.bias                            [10]                      └─10
│    └─Flatten: 2-1                      --                        --                        --
│    └─Linear: 2-2                       --                        50,240                    True
│    │    └─weight                       [784, 64]                 ├─50,176
│    │    └─bias                         [64]                      └─64
│    └─ReLU: 2-3                         --                        --                        --
│    └─Linear: 2-4                       --                        2,080                     True
│    │    └─weight                       [64, 32]                  ├─2,048
│    │    └─bias                         [32]                      └─32
│    └─ReLU: 2-5                         --                        --                        --
│    └─Linear: 2-6                       --                        330                       True
│    │    └─weight                       [32, 10]                  ├─320
│    │    └─bias                         [10]                      └─10
===================================================================================================================
Total params: 52,650
Trainable params: 52,650
Non-trainable params: 0
Total mult-adds (M): 0.84
===================================================================================================================
Input size (MB): 0.05
Forward/backward pass size (MB): 0.01
Params size (MB): 0.21
Estimated Total Size (MB): 0.27
==================================================================================================================="""

VERBOSE_2_DEFAULT_COLUMNS_TABLE = """\
==========================================================================================
Layer (type:depth-idx)                   Output Shape              Param #
==========================================================================================
Sequential                               [32, 10]                  --
├─Flatten: 1-1                           [32, 784]                 --
├─Linear: 1-2                            [32, 128]                 100,480
│    └─weight                                                      ├─100,352
│    └─bias                                                        └─128
├─ReLU: 1-3                              [32, 128]                 --
├─Linear: 1-4                            [32, 10]                  1,290
│    └─weight                                                      ├─1,280
│    └─bias                                                        └─10
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

NESTED_TABLE = """\
=====================================================================================================================================================================
Layer (type:depth-idx)                   Input Shape               Output Shape              Param #                   Param %                   Mult-Adds
=====================================================================================================================================================================
Net                                      [4, 2, 4]                 [4, 2]                    --                             --                   --
├─Flatten: 1-1                           [4, 2, 4]                 [4, 8]                    --                             --                   --
├─Block: 1-2                             [4, 8]                    [4, 8]                    8                           8.16%                   --
│    └─Sequential: 2-1                   [4, 8]                    [4, 8]                    --                             --                   --
│    │    └─Linear: 3-1                  [4, 8]                    [4, 8]                    72                         73.47%                   288
│    │    └─ReLU: 3-2                    [4, 8]                    [4, 8]                    --                             --                   --
├─Block: 1-3                             [4, 8]                    [4, 8]                    (recursive)               (recursive)               --
│    └─Sequential: 2-2                   [4, 8]                    [4, 8]                    (recursive)               (recursive)               --
│    │    └─Linear: 3-3                  [4, 8]                    [4, 8]                    (recursive)               (recursive)               288
│    │    └─ReLU: 3-4                    [4, 8]                    [4, 8]                    --                        (recursive)               --
├─Linear: 1-4                            [4, 8]                    [4, 2]                    18                         18.37%                   72
=====================================================================================================================================================================
Total params: 98
Trainable params: 98
Non-trainable params: 0
Total mult-adds (M): 0.00
=====================================================================================================================================================================
Input size (MB): 0.00
Forward/backward pass size (MB): 0.00
Params size (MB): 0.00
Estimated Total Size (MB): 0.00
====================================================================================================================================================================="""

HIDE_RECURSIVE_TABLE = """\
==========================================================================================
Layer (type:depth-idx)                   Output Shape              Param #
==========================================================================================
Net                                      [4, 2]                    --
├─Flatten: 1-1                           [4, 8]                    --
├─Block: 1-2                             [4, 8]                    8
│    └─Sequential: 2-1                   [4, 8]                    --
│    │    └─Linear: 3-1                  [4, 8]                    72
│    │    └─ReLU: 3-2                    [4, 8]                    --
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

NESTED_DEPTH_1_TABLE = """\
===================================================================================================================
Layer (type:depth-idx)                   Output Shape              Param #                   Mult-Adds
===================================================================================================================
Net                                      [4, 2]                    --                        --
├─Flatten: 1-1                           [4, 8]                    --                        --
├─Block: 1-2                             [4, 8]                    80                        288
├─Block: 1-3                             [4, 8]                    (recursive)               288
├─Linear: 1-4                            [4, 2]                    18                        72
===================================================================================================================
Total params: 98
Trainable params: 98
Non-trainable params: 0
Total mult-adds (M): 0.00
===================================================================================================================
Input size (MB): 0.00
Forward/backward pass size (MB): 0.00
Params size (MB): 0.00
Estimated Total Size (MB): 0.00
==================================================================================================================="""

FROZEN_TABLE = """\
==========================================================================================
Layer (type:depth-idx)                   Param #                   Trainable
==========================================================================================
Sequential                               --                        Partial
├─Flatten: 1-1                           --                        --
├─Linear: 1-2                            100,480                   Partial
├─ReLU: 1-3                              --                        --
├─Linear: 1-4                            (1,290)                   False
==========================================================================================
Total params: 101,770
Trainable params: 100,352
Non-trainable params: 1,418
Total mult-adds (M): 3.26
==========================================================================================
Input size (MB): 0.10
Forward/backward pass size (MB): 0.04
Params size (MB): 0.41
Estimated Total Size (MB): 0.54
=========================================================================================="""

FROZEN_DEPTH_1_TABLE = """\
==========================================================================================
Layer (type:depth-idx)                   Param #                   Trainable
==========================================================================================
Sequential                               --                        Partial
├─Sequential: 1-1                        101,770                   Partial
==========================================================================================
Total params: 101,770
Trainable params: 100,352
Non-trainable params: 1,418
Total mult-adds (M): 3.26
==========================================================================================
Input size (MB): 0.10
Forward/backward pass size (MB): 0.04
Params size (MB): 0.41
Estimated Total Size (MB): 0.54
=========================================================================================="""

MODULE_LIST_TABLE = """\
==========================================================================================
Layer (type (var_name):depth-idx)        Output Shape              Param #
==========================================================================================
Tower (Tower)                            [7, 3]                    --
├─Linear (stem): 1-1                     [7, 5]                    35
├─ModuleList (hidden): 1-2               --                        --
│    └─Linear (0): 2-1                   [7, 5]                    30
│    └─Tanh (1): 2-2                     [7, 5]                    --
│    └─Linear (2): 2-3                   [7, 4]                    24
├─Linear (out): 1-3                      [7, 3]                    15
==========================================================================================
Total params: 104
Trainable params: 104
Non-trainable params: 0
Total mult-adds (M): 0.00
==========================================================================================
Input size (MB): 0.00
Forward/backward pass size (MB): 0.00
Params size (MB): 0.00
Estimated Total Size (MB): 0.00
=========================================================================================="""

SKIPPED_CONTAINER_TABLE = """\
=====================================================================================================================================================================
Layer (type:depth-idx)                   Input Shape               Output Shape              Param #                   Kernel Shape              Mult-Adds
=====================================================================================================================================================================
Skip                                     [3, 4]                    [3, 4]                    --                        --                        --
├─Sequential: 1-1                        --                        --                        --                        --                        --
│    └─0.weight                                                                              ├─16                      [4, 4]
│    └─0.bias                                                                                └─4                       [4]
│    └─Linear: 2-1                       [3, 4]                    [3, 4]                    20                        --                        60
│    │    └─weight                                                                           ├─16                      [4, 4]
│    │    └─bias                                                                             └─4                       [4]
│    └─ReLU: 2-2                         [3, 4]                    [3, 4]                    --                        --                        --
├─Window: 1-2                            [3, 4]                    [3, 4]                    4                         [2, 2]                    12
│    └─weight                                                                                └─4                       [4]
=====================================================================================================================================================================
Total params: 24
Trainable params: 24
Non-trainable params: 0
Total mult-adds (M): 0.00
=====================================================================================================================================================================
Input size (MB): 0.00
Forward/backward pass size (MB): 0.00
Params size (MB): 0.00
Estimated Total Size (MB): 0.00
====================================================================================================================================================================="""

BATCH_DIM_TABLE = """\
============================================================================================================================================
Layer (type:depth-idx)                   Input Shape               Output Shape              Param #                   Mult-Adds
============================================================================================================================================
Sequential                               [1, 784]                  [1, 10]                   --                        --
├─Flatten: 1-1                           [1, 784]                  [1, 784]                  --                        --
├─Linear: 1-2                            [1, 784]                  [1, 128]                  100,480                   100,480
├─ReLU: 1-3                              [1, 128]                  [1, 128]                  --                        --
├─Linear: 1-4                            [1, 128]                  [1, 10]                   1,290                     1,290
============================================================================================================================================
Total params: 101,770
Trainable params: 101,770
Non-trainable params: 0
Total mult-adds (M): 0.10
============================================================================================================================================
Input size (MB): 0.00
Forward/backward pass size (MB): 0.00
Params size (MB): 0.41
Estimated Total Size (MB): 0.41
============================================================================================================================================"""

TWO_INPUTS_TABLE = """\
===================================================================================================================
Layer (type:depth-idx)                   Input Shape               Output Shape              Param #
===================================================================================================================
TwoInputs                                [3, 4]                    [3, 2]                    --
├─Linear: 1-1                            [3, 4]                    [3, 2]                    10
├─Linear: 1-2                            [3, 5]                    [3, 2]                    12
===================================================================================================================
Total params: 22
Trainable params: 22
Non-trainable params: 0
Total mult-adds (M): 0.00
===================================================================================================================
Input size (MB): 0.00
Forward/backward pass size (MB): 0.00
Params size (MB): 0.00
Estimated Total Size (MB): 0.00
==================================================================================================================="""

NO_PARAMETERS_TABLE = """\
==========================================================================================
Layer (type:depth-idx)                   Output Shape              Param #
==========================================================================================
Sequential                               [2, 3]                    --
├─ReLU: 1-1                              [2, 3]                    --
├─Tanh: 1-2                              [2, 3]                    --
==========================================================================================
Total params: 0
Trainable params: 0
Non-trainable params: 0
Total mult-adds (M): 0
==========================================================================================
Input size (MB): 0.00
Forward/backward pass size (MB): 0.00
Params size (MB): 0.00
Estimated Total Size (MB): 0.00
=========================================================================================="""

DEPTH_0_TABLE = """\
==========================================================================================
Layer (type:depth-idx)                   Param #                   Trainable
==========================================================================================
Sequential                               101,770                   True
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


# (name, model, input_size, options, torchinfo's table, torchinfo's totals: params,
#  trainable params, mult-adds, input bytes, forward/backward bytes, params bytes)
GOLDEN = [
    ("lecture", lecture, (32, 784), {}, LECTURE_TABLE,
     (101_770, 101_770, 3_256_640, 100_416, 35_328, 407_080)),
    ("readme_mlp", lambda: MLP(784, [128], 10), (32, 784), {}, README_MLP_TABLE,
     (101_770, 101_770, 3_256_640, 100_416, 35_328, 407_080)),
    ("all_columns", lecture, (32, 784), {"col_names": ALL_COLUMNS}, ALL_COLUMNS_TABLE,
     (101_770, 101_770, 3_256_640, 100_416, 35_328, 407_080)),
    ("var_names", lambda: MLP(784, [128], 10), (32, 784),
     {"row_settings": ("depth", "var_names"), "col_names": ("output_size", "num_params", "mult_adds")},
     VAR_NAMES_TABLE, (101_770, 101_770, 3_256_640, 100_416, 35_328, 407_080)),
    ("ascii_only", lambda: MLP(784, [128], 10), (32, 784),
     {"row_settings": ("ascii_only", "var_names")}, ASCII_TABLE,
     (101_770, 101_770, 3_256_640, 100_416, 35_328, 407_080)),
    ("depth_1", lambda: MLP(784, [128], 10), (32, 784),
     {"depth": 1, "col_names": ("output_size", "num_params", "params_percent", "mult_adds")},
     DEPTH_1_TABLE, (101_770, 101_770, 3_256_640, 100_416, 35_328, 407_080)),
    ("verbose_2", lambda: MLP(784, [64, 32], 10), (16, 784),
     {"verbose": 2, "depth": 2, "col_names": ("kernel_size", "num_params", "trainable")},
     VERBOSE_2_TABLE, (52_650, 52_650, 842_400, 50_240, 13_568, 210_600)),
    ("verbose_2_default_columns", lecture, (32, 784), {"verbose": 2},
     VERBOSE_2_DEFAULT_COLUMNS_TABLE, (101_770, 101_770, 3_256_640, 100_416, 35_328, 407_080)),
    ("nested", Net, (4, 2, 4),
     {"col_names": ("input_size", "output_size", "num_params", "params_percent", "mult_adds")},
     NESTED_TABLE, (98, 98, 648, 192, 576, 360)),
    ("hide_recursive", Net, (4, 2, 4), {"row_settings": ("depth", "hide_recursive_layers")},
     HIDE_RECURSIVE_TABLE, (98, 98, 648, 192, 576, 360)),
    ("nested_depth_1", Net, (4, 2, 4),
     {"depth": 1, "col_names": ("output_size", "num_params", "mult_adds")},
     NESTED_DEPTH_1_TABLE, (98, 98, 648, 192, 576, 360)),
    ("frozen", frozen_lecture, (32, 784), {"col_names": ("num_params", "trainable")},
     FROZEN_TABLE, (101_770, 100_352, 3_256_640, 100_416, 35_328, 407_080)),
    ("frozen_depth_1", lambda: nn.Sequential(frozen_lecture()), (32, 784),
     {"depth": 1, "col_names": ("num_params", "trainable")},
     FROZEN_DEPTH_1_TABLE, (101_770, 100_352, 3_256_640, 100_416, 35_328, 407_080)),
    ("module_list", Tower, (7, 6), {"row_settings": ("depth", "var_names")},
     MODULE_LIST_TABLE, (104, 104, 728, 232, 952, 416)),
    ("skipped_container", Skip, (3, 4),
     {"verbose": 2,
      "col_names": ("input_size", "output_size", "num_params", "kernel_size", "mult_adds")},
     SKIPPED_CONTAINER_TABLE, (24, 24, 72, 112, 192, 96)),
    ("batch_dim", lecture, (784,),
     {"batch_dim": 0, "col_names": ("input_size", "output_size", "num_params", "mult_adds")},
     BATCH_DIM_TABLE, (101_770, 101_770, 101_770, 3_200, 1_104, 407_080)),
    ("two_inputs", TwoInputs, [(3, 4), (3, 5)],
     {"col_names": ("input_size", "output_size", "num_params")},
     TWO_INPUTS_TABLE, (22, 22, 66, 236, 96, 88)),
    ("no_parameters", lambda: nn.Sequential(nn.ReLU(), nn.Tanh()), (2, 3), {},
     NO_PARAMETERS_TABLE, (0, 0, 0, 88, 0, 0)),
]  # fmt: skip


def totals(s: ModelSummary) -> tuple[int, ...]:
    return (
        s.total_params, s.trainable_params, s.total_mult_adds, s.input_size_bytes,
        s.forward_backward_bytes, s.params_bytes,
    )  # fmt: skip


@pytest.mark.parametrize(
    "make_model, input_size, options, table, expected",
    [case[1:] for case in GOLDEN],
    ids=[case[0] for case in GOLDEN],
)
def test_golden_tables_and_totals_of_torchinfo(make_model, input_size, options, table, expected):
    s = summary(make_model(), input_size, **{"verbose": 0, **options})
    assert str(s) == table
    assert totals(s) == expected


# torchinfo's totals for random architectures (the README's MLP class, float32):
# (input, hidden, outputs, batch), params, mult-adds, input / forward-backward / params
# bytes, and its last line
RANDOM_ARCHITECTURES = [
    ((784, [120, 138], 10, 128), 112_288, 14_372_864, 401_472, 274_432, 449_152, "1.13"),
    ((371, [247, 146, 214], 15, 458), 162_775, 74_550_950, 679_736, 2_279_008, 651_100, "3.61"),
    ((6, [133, 122, 114], 1, 304), 31_416, 9_550_464, 7_360, 899_840, 125_664, "1.03"),
    ((310, [73, 159], 2, 226), 34_789, 7_862_314, 280_304, 423_072, 139_156, "0.84"),
    ((618, [11, 79], 39, 29), 10_877, 315_433, 71_752, 29_928, 43_508, "0.15"),
    ((476, [152, 115, 159], 24, 265), 112_383, 29_781_495, 504_624, 954_000, 449_532, "1.91"),
    ((431, [], 23, 507), 9_936, 5_037_552, 874_132, 93_288, 39_744, "1.01"),
]


@pytest.mark.parametrize(
    "arch, params, mult_adds, input_, fb, params_bytes, total_mb", RANDOM_ARCHITECTURES
)
def test_totals_match_torchinfo_for_random_architectures(
    arch, params, mult_adds, input_, fb, params_bytes, total_mb
):
    n_in, hidden, n_out, batch = arch
    s = summary(MLP(n_in, hidden, n_out), (batch, n_in), verbose=0)
    assert totals(s) == (params, params, mult_adds, input_, fb, params_bytes)
    assert str(s).split("\n")[-2] == f"Estimated Total Size (MB): {total_mb}"


def test_input_size_is_torchs_storage_size_bytes_plus_64():
    # torchinfo: sys.getsizeof(torch.rand(128, 784).untyped_storage()) = 401,408 + 64
    s = summary(nn.MLP(784, [120, 138], 10), (128, 784), verbose=0)
    assert s.input_size_bytes == 128 * 784 * 4 + 64 == 401_472
    assert "Estimated Total Size (MB): 1.13" in str(s).split("\n")


@pytest.mark.parametrize(
    "make_model, input_size, options, expected, lines",
    [
        (lambda: lecture().to("float64"), (32, 784), {"dtypes": ["float64"]},
         (101_770, 101_770, 3_256_640, 200_768, 70_656, 814_160),
         ["Input size (MB): 0.20", "Forward/backward pass size (MB): 0.07",
          "Params size (MB): 0.81", "Estimated Total Size (MB): 1.09"]),
        (lambda: nn.Sequential(nn.Linear(12, 7), nn.Tanh(), nn.Linear(7, 2)), (3, 5, 12), {},
         (107, 107, 321, 784, 1_080, 428), ["Total mult-adds (M): 0.00"]),
        (lambda: nn.Sequential(nn.Linear(10, 20), nn.Dropout(0.5), nn.GELU(), nn.Linear(20, 3)),
         (5, 10), {"mode": "train"}, (283, 283, 1_415, 264, 920, 1_132), []),
        (lambda: nn.Sequential(nn.Linear(2048, 2048)), (300, 2048), {},
         (4_196_352, 4_196_352, 1_258_905_600, 2_457_664, 4_915_200, 16_785_408),
         ["Total mult-adds (G): 1.26", "Params size (MB): 16.79",
          "Estimated Total Size (MB): 24.16"]),
    ],
    ids=["float64", "3d_input", "train_mode", "giga_mult_adds"],
)  # fmt: skip
def test_more_totals_of_torchinfo(make_model, input_size, options, expected, lines):
    s = summary(make_model(), input_size, verbose=0, **options)
    assert totals(s) == expected
    assert set(lines) <= set(str(s).split("\n"))


def test_the_built_in_mlp_differs_from_the_sequential_only_in_the_first_row():
    expected = LECTURE_TABLE.replace("Sequential", "MLP       ", 1)
    assert str(summary(nn.MLP(784, [128], 10), (32, 784), verbose=0)) == expected


def test_image_input_is_flattened():
    s = summary(nn.MLP(784, [128], 10), (32, 1, 28, 28), verbose=0)
    assert s.rows[1].input_shape == [32, 1, 28, 28] and s.rows[1].output_shape == [32, 784]
    assert s.total_mult_adds == 3_256_640


def test_input_dtype_can_be_given():
    s = summary(nn.MLP(4, [3], 2), (2, 4), dtype="float64", verbose=0)
    assert s.input_size_bytes == 2 * 4 * 8 + 64 and s.params_bytes == (15 + 8) * 4
    assert s.dtype == "float64"
    # by default, the model's dtype (torchinfo: always float32)
    assert summary(nn.MLP(4, [3], 2, dtype="float64"), (2, 4), verbose=0).dtype == "float64"


def test_name_column_widens_in_steps_of_five_for_long_labels():
    class AVeryLongModuleNameForTheTableWidth(nn.Module):  # 35 characters
        def forward(self, x):
            return x

    model = nn.Sequential(AVeryLongModuleNameForTheTableWidth())
    lines = str(summary(model, (1, 3), verbose=0)).split("\n")
    # label 'AVeryLong...: 1-1' is 40 characters; + depth 1 * 5 + 1 = 46 -> width 50
    assert lines[0] == "=" * 100
    assert (
        lines[4]
        == "├─AVeryLongModuleNameForTheTableWidth: 1-1" + " " * 9 + "[1, 3]" + " " * 20 + "--"
    )


# --- options ------------------------------------------------------------------------------


def test_verbose_1_prints_the_table_and_0_prints_nothing(capsys):
    s = summary(lecture(), (32, 784), verbose=1)
    assert capsys.readouterr().out == LECTURE_TABLE + "\n"
    summary(lecture(), (32, 784), verbose=0)
    assert capsys.readouterr().out == ""
    assert repr(s) == str(s) == LECTURE_TABLE  # a notebook shows the table


def test_verbose_defaults_to_1_in_scripts_and_0_in_interactive_sessions(capsys, monkeypatch):
    summary(lecture(), (32, 784))
    assert capsys.readouterr().out == LECTURE_TABLE + "\n"
    monkeypatch.setattr(sys, "ps1", ">>> ", raising=False)
    assert summary(lecture(), (32, 784)).verbose == 0
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    "options, message",
    [
        ({"col_names": ("output_size", "params")}, "unknown col_names 'params'; choose from: "
         "input_size, output_size, num_params, params_percent, kernel_size, mult_adds"),
        ({"row_settings": ("depth", "names")}, "unknown row_settings 'names'; choose from: "
         "depth, var_names, ascii_only, hide_recursive_layers"),
        ({"verbose": 3}, "verbose must be 0 (quiet), 1 or 2 (verbose), not 3"),
        ({"mode": "test"}, "mode must be 'train' or 'eval', not 'test'"),
        ({"depth": -1}, "depth must be 0 (the model only) or more, not -1"),
        ({"col_width": 0}, "col_width must be a positive width, not 0"),
        ({"dtypes": ["float32", "float64"]}, "2 dtypes for 1 inputs; give one dtype per input"),
        ({"batch_dim": 3}, "batch_dim 3 is out of range for input_size [32, 784]"),
    ],
)  # fmt: skip
def test_bad_options_are_user_errors(options, message):
    with pytest.raises(SummaryError, match=re.escape(message)):
        summary(lecture(), (32, 784), **{"verbose": 0, **options})


@pytest.mark.parametrize("size", [(), (32, 0), "32x784"])
def test_bad_input_sizes_are_user_errors(size):
    with pytest.raises(SummaryError, match="input_size"):
        summary(lecture(), size, verbose=0)


def test_mode_train_runs_the_pass_in_training_mode_and_restores_the_modes():
    class Probe(nn.Module):
        seen: list[bool] = []

        def forward(self, x):
            Probe.seen.append(self.training)
            return x

    model = nn.Sequential(Probe(), nn.Dropout(0.5), nn.Linear(3, 2))
    model.eval()
    before = rng.get_state()
    summary(model, (4, 3), mode="train", verbose=0)
    summary(model, (4, 3), verbose=0)  # torchinfo's default: eval
    assert Probe.seen == [True, False]
    assert [m.training for m in model.modules()] == [False] * 4
    assert rng.get_state() == before  # Dropout drew nothing from the global generator


def test_summary_restores_modes_and_leaves_the_generator_alone():
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5), nn.ReLU(), nn.Linear(4, 2))
    model[1].eval()  # a mixed state must come back as it was
    before = rng.get_state()
    summary(model, (3, 4), verbose=0)
    assert rng.get_state() == before
    assert [m.training for m in model.modules()] == [True, True, False, True, True]
    assert all(p.grad is None for p in model.parameters())


# --- one numbering: table, explain, warnings, JSON ------------------------------------------


def test_to_dict_is_json_ready_and_complete():
    data = json.loads(json.dumps(summary(nn.MLP(784, [128], 10), (32, 784), verbose=0).to_dict()))
    assert data["model"] == "MLP" and data["input_size"] == [32, 784] and data["dtype"] == "float32"
    assert data["total_params"] == 101_770 and data["non_trainable_params"] == 0
    assert data["total_mult_adds"] == 3_256_640 and data["total_bytes"] == 542_824
    assert data["forward_backward_bytes"] == 35_328 and data["params_bytes"] == 407_080
    assert data["input_size_bytes"] == 100_416 and data["warnings"] == []
    assert data["layers"][2] == {
        "name": "1",
        "var_name": "1",
        "type": "Linear",
        "label": "Linear: 1-2",
        "depth": 1,
        "index": 2,
        "input_shape": [32, 784],
        "output_shape": [32, 128],
        "num_params": 100_480,
        "trainable_params": 100_480,
        "mult_adds": 3_215_360,
        "is_recursive": False,
    }


LECTURE_EXPLANATION = """\
MLP has 101,770 parameters (all trainable):
  (1-2) Linear(784 -> 128): 784 x 128 weights + 128 biases = 100,480
  (1-4) Linear(128 -> 10): 128 x 10 weights + 10 biases = 1,290
  Flatten, ReLU: no parameters (they reshape or transform values)
Total: 100,480 + 1,290 = 101,770
Why: a Linear(n -> m) layer has one weight for every input-output pair (n x m) and one bias \
per output (m)."""


def test_explain_the_parameter_count_with_the_tables_numbers():
    model = nn.MLP(784, [128], 10)
    assert explain(model) == LECTURE_EXPLANATION
    assert summary(model, (32, 784), verbose=0).explain() == LECTURE_EXPLANATION


def test_explain_numbers_a_nested_module_as_its_table_does():
    s = summary(MLP(784, [128], 10), (32, 784), verbose=0)
    assert "├─Sequential: 1-1" in README_MLP_TABLE and "│    └─Linear: 2-2" in README_MLP_TABLE
    assert s.explain().split("\n")[1:3] == [
        "  (2-2) Linear(784 -> 128): 784 x 128 weights + 128 biases = 100,480",
        "  (2-4) Linear(128 -> 10): 128 x 10 weights + 10 biases = 1,290",
    ]
    assert explain(MLP(784, [128], 10)) == s.explain()


def test_explain_other_parameters_frozen_ones_and_no_bias():
    model = nn.Sequential(nn.Linear(3, 2, bias=False), Block(2))
    model[0].weight.requires_grad_(False)
    assert explain(model) == (
        "Sequential has 14 parameters (8 trainable, 6 frozen):\n"
        "  (1-1) Linear(3 -> 2): 3 x 2 weights, no bias = 6\n"
        "  (1-2) Block: 2 gate = 2\n"
        "  (3-1) Linear(2 -> 2): 2 x 2 weights + 2 biases = 6\n"
        "  ReLU: no parameters (they reshape or transform values)\n"
        "Total: 6 + 2 + 6 = 14\n"
        "Why: a Linear(n -> m) layer has one weight for every input-output pair (n x m) and "
        "one bias per output (m)."
    )


def test_explain_names_a_layer_the_forward_pass_never_called():
    class Unused(nn.Module):
        def __init__(self):
            self.used = nn.Linear(2, 2)
            self.spare = nn.Linear(2, 1)

        def forward(self, x):
            return self.used(x)

    s = summary(Unused(), (1, 2), verbose=0)
    assert "  (spare, not called) Linear(2 -> 1): 2 x 1 weights + 1 biases = 3" in s.explain()
    assert s.total_params == 9  # torchinfo counts it in the model's leftover parameters


def test_warns_when_linear_layers_collapse_with_the_tables_numbers():
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.Dropout(0.1), nn.Linear(3, 2))
    s = summary(model, (2, 4), verbose=0)
    (warning,) = s.warnings
    assert warning.startswith("Linear layers 1-2 and 1-4 follow each other without an activation")
    assert "├─Linear: 1-2" in str(s) and "├─Linear: 1-4" in str(s)
    assert "collapse" in warning and "linear model" in warning
    identity = summary(nn.MLP(4, [3, 3], 2, activation="identity"), (2, 4), verbose=0)
    assert [w[:28] for w in identity.warnings] == [
        "Linear layers 1-2 and 1-4 fo",
        "Linear layers 1-4 and 1-6 fo",
    ]


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "gelu", "leaky_relu"])
def test_no_collapse_warning_with_an_activation_between(activation):
    model = nn.MLP(4, [3, 3], 2, activation=activation)
    assert summary(model, (2, 4), verbose=0).warnings == []


# --- the forward pass ---------------------------------------------------------------------


def test_wrong_input_size_names_the_failing_layer():
    with pytest.raises(
        SummaryError, match=r"with input size \[32, 100\] failed in Linear: 1-2 \('1'\)"
    ):
        summary(nn.MLP(784, [128], 10), (32, 100), verbose=0)


def test_summary_runs_on_every_backend(xp_backend):
    expected = LECTURE_TABLE.replace("Sequential", "MLP       ", 1)
    assert str(summary(nn.MLP(784, [128], 10), (32, 784), verbose=0)) == expected


# --- the CLI ------------------------------------------------------------------------------

SPEC = str(Path(__file__).resolve().parents[1] / "specs" / "mlp.yaml")  # the lecture's MLP


@pytest.mark.parametrize(
    "flags, expected",
    [
        (["--col-names", *ALL_COLUMNS], ALL_COLUMNS_TABLE),
        (["--verbose", "2"], VERBOSE_2_DEFAULT_COLUMNS_TABLE),
        (["--col-names", "num_params", "trainable", "--depth", "0", "--mode", "train"],
         DEPTH_0_TABLE),
    ],
)  # fmt: skip
def test_cli_flags_give_torchinfos_tables(capsys, flags, expected):
    assert cli.main(["summary", SPEC, *flags]) == 0
    out = capsys.readouterr().out
    assert out == expected + "\n"


def test_cli_var_names_and_explain_use_the_same_numbers(capsys):
    flags = ["--row-settings", "depth", "var_names", "--verbose", "0", "--explain"]
    assert cli.main(["summary", SPEC, *flags]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Sequential has 101,770 parameters")  # verbose 0: no table
    assert "  (1-2) Linear(784 -> 128)" in out and "  (1-4) Linear(128 -> 10)" in out


def test_cli_rejects_unknown_columns_and_lists_torchinfos(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["summary", SPEC, "--col-names", "params"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'params'" in err and "mult_adds" in err
    # the CLI's lists (kept there so parsing stays fast) take every name of the library's
    args = cli.build_parser().parse_args(
        [
            "summary",
            "--col-names",
            *COLUMNS,
            "--row-settings",
            *ROW_SETTINGS,
        ]
    )
    assert args.col_names == list(COLUMNS)
    assert args.row_settings == list(ROW_SETTINGS)


# --- printing -----------------------------------------------------------------------------


def test_render_writes_plain_text_with_warnings_when_not_a_terminal():
    from rich.console import Console

    buffer = io.StringIO()
    s = summary(nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2)), (2, 4), verbose=0)
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


def test_the_docs_show_torchinfos_table_of_its_class_based_mlp():
    readme = docs_pages.page("README.md")
    assert README_MLP_TABLE in readme and README_MLP_TABLE in docs_pages.page(
        "docs/tutorials/mnist_mlp.md"
    )
    assert "  (1-2) Linear(784 -> 128): 784 x 128 weights + 128 biases = 100,480\n" in readme
