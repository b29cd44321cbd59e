"""A torchinfo-compatible model summary, measured on a real forward pass.

`summary(model, input_size)` runs the model once (evaluation mode, no graph) on zeros of
`input_size` and records, through the `nn.trace_calls` hook in ``Module.__call__``,
every module call: its depth, its output shape and its parameters. The totals follow
torchinfo's rules, so the numbers match what the lecture's ``torchinfo.summary`` prints:

- mult-adds: for each leaf layer with parameters, one multiply-add per parameter and
  output row (all output dimensions but the last): batch * (in * out + out) for Linear;
- forward/backward pass size: twice (values and gradients) the bytes of the outputs of
  the leaf layers with parameters;
- params size: the bytes of all parameters; input size: the bytes of the input;
- sizes in decimal megabytes (1 MB = 1e6 bytes), two decimals, units written out
  deliberately ("(M)", "(MB)").

It also explains the parameter count (`explain`) and warns about Linear layers that
follow each other without a non-linearity: their product is one linear map.
Rich is imported only when a summary is printed, to keep ``import tinygrad_edu`` fast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import autograd, backend, nn
from .errors import UserError
from .tensor import Tensor

NAME_WIDTH = 40  # torchinfo's layer-name column, widened in steps of 5 when needed
COLUMN_WIDTH = 25  # torchinfo's other columns

# Between two Linear layers these do not make the composition non-linear.
_LINEAR_PASSTHROUGH = (nn.Identity, nn.Flatten, nn.Dropout)


class SummaryError(UserError):
    """The forward pass with the requested input size failed."""


@dataclass
class LayerRow:
    """One module call of the forward pass: one line of the table."""

    name: str  # dotted attribute path ('' for the model itself)
    type: str  # class name
    depth: int  # 0 for the model, 1 for its children, ...
    index: int | None  # running number among the rows of this depth (torchinfo's "1-2")
    output_shape: list[int] | None
    num_params: int  # all parameters of the module, its children's included
    trainable_params: int
    own_params: int  # parameters held by the module itself, not by its children
    is_leaf: bool
    is_recursive: bool  # the module already ran earlier in this pass
    mult_adds: int = 0
    output_bytes: int = 0

    @property
    def label(self) -> str:
        """'Linear: 1-2' (the model itself: just its class name)."""
        return self.type if self.depth == 0 else f"{self.type}: {self.depth}-{self.index}"

    def params_text(self) -> str:
        """The Param # cell, by torchinfo's rules."""
        if self.num_params == 0:
            return "--"
        if self.is_recursive:
            return "(recursive)"
        if self.is_leaf:
            text = f"{self.num_params:,}"
            return text if self.trainable_params else f"({text})"  # frozen: in parentheses
        return f"{self.own_params:,}" if self.own_params else "--"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "label": self.label,
            "depth": self.depth,
            "index": self.index,
            "output_shape": self.output_shape,
            "num_params": self.num_params,
            "trainable_params": self.trainable_params,
            "mult_adds": self.mult_adds,
            "is_recursive": self.is_recursive,
        }


@dataclass
class ModelSummary:
    """What `summary` measured; ``str()`` is torchinfo's table, ``to_dict()`` its data."""

    model_name: str
    input_size: tuple[int, ...]
    dtype: str
    rows: list[LayerRow]
    total_params: int
    trainable_params: int
    total_mult_adds: int
    input_size_bytes: int
    forward_backward_bytes: int
    params_bytes: int
    warnings: list[str]
    explanation: str = field(repr=False)

    @property
    def non_trainable_params(self) -> int:
        return self.total_params - self.trainable_params

    @property
    def total_bytes(self) -> int:
        """torchinfo's "Estimated Total Size": input + forward/backward + params."""
        return self.input_size_bytes + self.forward_backward_bytes + self.params_bytes

    def explain(self) -> str:
        """How many parameters the network has, and why (see `explain`)."""
        return self.explanation

    def __str__(self) -> str:
        name_width = _name_width(self.rows)
        rule = "=" * (name_width + 2 * COLUMN_WIDTH)

        def row(name: str, shape: str, params: str) -> str:
            return f"{name:<{name_width}} {shape:<{COLUMN_WIDTH}} {params:<{COLUMN_WIDTH}}".rstrip()

        layers = [
            row(
                _tree_prefix(r.depth) + r.label,
                str(r.output_shape) if r.output_shape else "--",
                r.params_text(),
            )
            for r in self.rows
        ]
        return "\n".join(
            [
                rule,
                row("Layer (type:depth-idx)", "Output Shape", "Param #"),
                rule,
                *layers,
                rule,
                f"Total params: {self.total_params:,}",
                f"Trainable params: {self.trainable_params:,}",
                f"Non-trainable params: {self.non_trainable_params:,}",
                f"Total mult-adds (M): {self.total_mult_adds / 1e6:,.2f}",
                rule,
                f"Input size (MB): {self.input_size_bytes / 1e6:,.2f}",
                f"Forward/backward pass size (MB): {self.forward_backward_bytes / 1e6:,.2f}",
                f"Params size (MB): {self.params_bytes / 1e6:,.2f}",
                f"Estimated Total Size (MB): {self.total_bytes / 1e6:,.2f}",
                rule,
            ]
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain numbers, strings and lists, ready for ``json.dumps``."""
        return {
            "model": self.model_name,
            "input_size": list(self.input_size),
            "dtype": self.dtype,
            "layers": [r.to_dict() for r in self.rows],
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
            "total_mult_adds": self.total_mult_adds,
            "input_size_bytes": self.input_size_bytes,
            "forward_backward_bytes": self.forward_backward_bytes,
            "params_bytes": self.params_bytes,
            "total_bytes": self.total_bytes,
            "warnings": list(self.warnings),
        }

    def render(self, console: Any = None) -> None:
        """Print the table and the warnings with rich (plain text when not a terminal)."""
        from rich.console import Console
        from rich.text import Text

        console = console or Console()
        text = Text()
        for line in str(self).split("\n"):
            style = "dim" if line.startswith("=") else ""
            if line.startswith(("Layer (type", "Total params", "Estimated Total")):
                style = "bold"
            text.append(line + "\n", style=style)
        for warning in self.warnings:
            text.append(f"Warning: {warning}\n", style="bold yellow")
        # soft_wrap: never break the fixed-width table at the console's width
        console.print(text, soft_wrap=True, end="")

    print = render


def summary(
    model: nn.Module, input_size: tuple[int, ...] | list[int] = (32, 784), dtype: Any = None
) -> ModelSummary:
    """Run `model` once on zeros of `input_size` and summarise it as torchinfo does.

    ``dtype`` is the input's dtype; by default the dtype of the model's first parameter,
    so a float64 model is measured with float64 inputs (and twice the bytes). The model
    runs in evaluation mode without recording a graph; its modes are restored afterwards
    and the global random generator is not touched.
    """
    input_size = tuple(int(n) for n in input_size)
    if dtype is None:
        first = next(model.parameters(), None)
        dtype = first.dtype if first is not None else None
    x = Tensor.zeros(input_size, dtype=dtype)
    rows, modules = _trace(model, x)

    params = list(model.parameters())
    leaves = [r for r in rows if r.is_leaf]
    return ModelSummary(
        model_name=type(model).__name__,
        input_size=input_size,
        dtype=backend._dtype_name(x.dtype),
        rows=rows,
        total_params=sum(p.numel() for p in params),
        trainable_params=sum(p.numel() for p in params if p.requires_grad),
        total_mult_adds=sum(r.mult_adds for r in leaves),
        input_size_bytes=x.numel() * _itemsize(x.dtype),
        # x2: the backward pass keeps a gradient of the same size for each output
        forward_backward_bytes=sum(2 * r.output_bytes for r in leaves if r.num_params),
        params_bytes=sum(p.numel() * _itemsize(p.dtype) for p in params),
        warnings=_collapse_warnings(rows, modules),
        explanation=explain(model),
    )


def _trace(model: nn.Module, x: Tensor) -> tuple[list[LayerRow], list[nn.Module]]:
    """Run the forward pass, one row (and its module) per module call, in call order."""
    names = {id(m): name for name, m in model.named_modules()}
    rows: list[LayerRow] = []
    modules: list[nn.Module] = []
    counters: dict[int, int] = {}
    seen: set[int] = set()
    depth = 0
    failed: list[LayerRow] = []

    def record(module: nn.Module, run: Any) -> Any:
        nonlocal depth
        params = list(module.parameters())
        count = sum(p.numel() for p in params)
        counters[depth] = counters.get(depth, 0) + 1
        row = LayerRow(
            name=names.get(id(module), "?"),
            type=type(module).__name__,
            depth=depth,
            index=counters[depth] if depth else None,
            output_shape=None,
            num_params=count,
            trainable_params=sum(p.numel() for p in params if p.requires_grad),
            own_params=sum(p.numel() for _, p in module._own_parameters()),
            is_leaf=next(module.children(), None) is None,
            is_recursive=id(module) in seen,
        )
        seen.add(id(module))
        rows.append(row)
        modules.append(module)
        depth += 1
        try:
            out = run()
        except Exception:
            if not failed:  # the innermost layer is the first to see the exception
                failed.append(row)
            raise
        finally:
            depth -= 1
        tensor = _first_tensor(out)
        if tensor is not None:
            row.output_shape = list(tensor.shape)
            row.output_bytes = tensor.numel() * _itemsize(tensor.dtype)
            if row.is_leaf and count:
                # one multiply-add per parameter for each output row
                row.mult_adds = math.prod(tensor.shape[:-1]) * count
        return out

    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        with autograd.no_grad(), nn.trace_calls(record):
            model(x)
    except Exception as error:
        where = f" in {failed[0].label} ({failed[0].name!r})" if failed and failed[0].depth else ""
        raise SummaryError(
            f"summary: the forward pass of {type(model).__name__} with input size "
            f"{list(x.shape)} failed{where}: {error}; check input_size against the "
            "model's first layer"
        ) from error
    finally:
        for module, mode in modes:
            module.training = mode
    return rows, modules


def _first_tensor(out: Any) -> Tensor | None:
    """The output tensor, or the first tensor of a tuple/list output (torchinfo's rule)."""
    if isinstance(out, Tensor):
        return out
    if isinstance(out, (tuple, list)):
        for item in out:
            found = _first_tensor(item)
            if found is not None:
                return found
    return None


def _itemsize(dtype: Any) -> int:
    return np.dtype(backend._dtype_name(dtype)).itemsize


def _name_width(rows: list[LayerRow]) -> int:
    """torchinfo's rule: 40, or the longest indented label rounded up to a multiple of 5."""
    longest = max((len(r.label) + r.depth * 5 + 1 for r in rows), default=0)
    return math.ceil(longest / 5) * 5 if longest >= NAME_WIDTH else NAME_WIDTH


def _tree_prefix(depth: int) -> str:
    """torchinfo's tree drawing: '├─' at depth 1, '│    ' per extra level, then '└─'."""
    if depth == 0:
        return ""
    if depth == 1:
        return "├─"
    return "│    " * (depth - 1) + "└─"


def _collapse_warnings(rows: list[LayerRow], modules: list[nn.Module]) -> list[str]:
    """Linear layers that run one after another with no non-linearity in between.

    W2 (W1 x + b1) + b2 = (W2 W1) x + (W2 b1 + b2): two such layers compute one linear
    map, so the second adds parameters but no expressive power.
    """
    warnings = []
    previous: LayerRow | None = None
    for row, module in zip(rows, modules):
        if not row.is_leaf:
            continue
        if isinstance(module, nn.Linear):
            if previous is not None:
                warnings.append(
                    f"Linear layers {previous.name or previous.type} and "
                    f"{row.name or row.type} follow each other without an activation: "
                    "together they collapse to a single linear model "
                    "(W2 (W1 x + b1) + b2 = W x + b); put a non-linearity such as ReLU "
                    "between them"
                )
            previous = row
        elif not isinstance(module, _LINEAR_PASSTHROUGH):
            previous = None
    return warnings


def explain(model: nn.Module) -> str:
    """Answer "how many parameters does this network have, and why?" in a few lines.

    One line per layer with parameters, showing where its count comes from, e.g.
    ``Linear(784 -> 128): 784 x 128 weights + 128 biases = 100,480``, then the sum.
    """
    params = list(model.parameters())
    total = sum(p.numel() for p in params)
    frozen = sum(p.numel() for p in params if not p.requires_grad)
    status = f"{total - frozen:,} trainable, {frozen:,} frozen" if frozen else "all trainable"
    lines = [f"{type(model).__name__} has {total:,} parameters ({status}):"]
    counts, without = [], []
    for name, module in model.named_modules():
        own = list(module._own_parameters())
        if not own:
            if next(module.children(), None) is None:
                without.append(type(module).__name__)
            continue
        count = sum(p.numel() for _, p in own)
        counts.append(count)
        prefix = f"  ({name}) " if name else "  "
        lines.append(f"{prefix}{_describe(module, own)} = {count:,}")
    if without:
        kinds = ", ".join(dict.fromkeys(without))
        lines.append(f"  {kinds}: no parameters (they reshape or transform values)")
    lines.append(f"Total: {' + '.join(f'{c:,}' for c in counts) or '0'} = {total:,}")
    if any(isinstance(m, nn.Linear) for m in model.modules()):
        lines.append(
            "Why: a Linear(n -> m) layer has one weight for every input-output pair "
            "(n x m) and one bias per output (m)."
        )
    return "\n".join(lines)


def _describe(module: nn.Module, own: list[tuple[str, nn.Parameter]]) -> str:
    """Where a module's own parameter count comes from."""
    if isinstance(module, nn.Linear):
        n, m = module.in_features, module.out_features
        biases = f" + {m:,} biases" if module.bias is not None else ", no bias"
        return f"Linear({n} -> {m}): {n:,} x {m:,} weights{biases}"
    parts = [f"{' x '.join(str(d) for d in p.shape) or 'scalar'} {name}" for name, p in own]
    return f"{type(module).__name__}: {' + '.join(parts)}"
