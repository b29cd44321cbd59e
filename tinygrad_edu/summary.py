"""A torchinfo-compatible model summary, measured on a real forward pass.

`summary(model, input_size)` follows torchinfo 1.8 rule for rule (its options, its
numbers and its text), so the table is the one the lecture's ``torchinfo.summary`` prints:

1. Structure: a walk of the module tree (children in attribute order) gives each module
   its depth, its attribute name (``var_name``) and its parent; a module reachable twice
   keeps its last place, as torchinfo's hook registration does.
2. The pass: the model runs once on zeros of `input_size` (evaluation mode unless
   ``mode="train"``, no graph). Through the `nn.trace_calls` hook every call of a module
   of the tree becomes a row, in call order, with its input and output shapes, its
   parameters (its children's included) and its mult-adds. A container that never runs
   itself (a ModuleList) is inserted above its children. Rows are numbered per depth in
   table order: ``Linear: 1-2`` is the second row at depth 1 (torchinfo's depth-idx, also
   used by `explain` and the warnings).
3. Totals:
   - params: each leaf's parameters plus each container's leftover ones (those no child
     row holds); a module that runs again is "(recursive)" and not counted twice;
   - mult-adds: for each leaf call, the output's first (batch) dimension times the
     elements of its ``weight``/``bias`` (batch * (in * out + out) for Linear);
   - forward/backward pass size: twice (values and gradients) the output bytes of the
     leaf calls with parameters;
   - params size: the bytes of the leaf layers' parameters (a container's own
     parameters count in "Total params" but not here, as in torchinfo);
   - input size: ``sys.getsizeof`` of each input tensor's storage, i.e. its bytes plus a
     fixed 64-byte Python object (PyTorch 2.13): a 128 x 784 float32 input is 401,472 B;
   - decimal megabytes (1 MB = 1e6 bytes) with two decimals; mult-adds in (M), (G) or
     (T), written out deliberately (torchinfo 1.8.0 printed an enum repr, its #350).

It also explains the parameter count (`explain`) and warns about Linear layers that
follow each other without a non-linearity: their product is one linear map.
Rich is imported only when a summary is printed, to keep ``import tinygrad_edu`` fast.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import autograd, backend, nn, rng
from ._tensor import Tensor
from .errors import UserError

# torchinfo's column names and their headers; its default columns and row settings
COLUMNS = {
    "input_size": "Input Shape",
    "output_size": "Output Shape",
    "num_params": "Param #",
    "params_percent": "Param %",
    "kernel_size": "Kernel Shape",
    "mult_adds": "Mult-Adds",
    "trainable": "Trainable",
}
ROW_SETTINGS = ("depth", "var_names", "ascii_only", "hide_recursive_layers")
DEFAULT_COLUMNS = ("output_size", "num_params")
DEFAULT_ROW_SETTINGS = ("depth",)
MODES = ("train", "eval")
NAME_WIDTH = 40  # torchinfo's layer-name column, widened in steps of 5 when needed
COLUMN_WIDTH = 25  # torchinfo's other columns
STORAGE_OVERHEAD = 64  # bytes of sys.getsizeof(torch.UntypedStorage) beyond its data

# Between two Linear layers these do not make the composition non-linear.
_LINEAR_PASSTHROUGH = (nn.Identity, nn.Flatten, nn.Dropout)


class SummaryError(UserError):
    """Bad options, or the forward pass with the requested input size failed."""


@dataclass(eq=False)
class LayerRow:
    """One module call of the forward pass (or a container that never ran): one row."""

    module: nn.Module = field(repr=False)
    var_name: str  # attribute name in the parent (the model: its class name)
    name: str  # dotted path from the model ('' for the model itself)
    depth: int  # 0 for the model, 1 for its children, ...
    parent: LayerRow | None = field(default=None, repr=False)
    index: int | None = None  # running number among the rows of this depth ("1-2")
    children: list[LayerRow] = field(default_factory=list, repr=False)  # all rows below
    is_recursive: bool = False  # the module already has a row above
    executed: bool = False
    input_shape: list[int] = field(default_factory=list)
    output_shape: list[int] = field(default_factory=list)
    output_bytes: int = 0
    mult_adds: int = 0
    num_params: int = 0  # all parameters of the module, its children's included
    trainable_params: int = 0
    param_bytes: int = 0
    inner: list[tuple[str, list[int], int]] = field(default_factory=list)  # verbose=2 rows
    type: str = field(init=False)  # the class name
    is_leaf: bool = field(init=False)  # no child modules
    kernel_size: Any = field(init=False)  # the module's kernel_size attribute, if any

    def __post_init__(self) -> None:
        self.type = type(self.module).__name__
        self.is_leaf = next(self.module.children(), None) is None
        kernel = getattr(self.module, "kernel_size", None)
        self.kernel_size = list(kernel) if isinstance(kernel, (tuple, list)) else kernel
        for name, param in self.module.named_parameters():
            count = param.numel()
            self.num_params += count
            self.param_bytes += count * _itemsize(param.dtype)
            self.trainable_params += count if param.requires_grad else 0
            # the model's own row lists only its own parameters, as torchinfo
            if self.parent is not None or "." not in name:
                shape = list(param.shape)
                if name == "weight" and len(shape) > 1:  # torchinfo shows [in, out]
                    shape[0], shape[1] = shape[1], shape[0]
                self.inner.append((name, shape, count))

    def layer_name(self, var_names: bool = False, depth: bool = True) -> str:
        """'Linear (1): 1-2' with both settings, 'Linear: 1-2' by default."""
        text = self.type
        if var_names and self.var_name:
            text += f" ({self.var_name})"
        if depth and self.depth > 0:
            text += f": {self.depth}" + (f"-{self.index}" if self.index is not None else "")
        return text

    @property
    def depth_idx(self) -> str:
        """torchinfo's 'depth-idx', '1-2' ('' for the model): the one layer numbering."""
        return f"{self.depth}-{self.index}" if self.depth else ""

    @property
    def label(self) -> str:
        """'Linear: 1-2' (the model itself: its class name): the name used everywhere."""
        return self.layer_name()

    def measure(self, args: tuple[Any, ...], out: Any) -> None:
        """After the call: shapes, output bytes and mult-adds (torchinfo's forward hook)."""
        self.executed = True
        self.input_shape, _ = _size_of(args)
        self.output_shape, itemsize = _size_of(out)
        self.output_bytes = itemsize * math.prod(self.output_shape)
        if not self.output_shape:
            return
        for name, param in self.module.named_parameters():
            if name in ("weight", "bias"):  # one multiply-add per weight and batch row
                self.mult_adds += self.output_shape[0] * param.numel()
            elif "weight" in name or "bias" in name:  # torchinfo's rule for RNN-style names
                self.mult_adds += math.prod(self.output_shape[:2]) * param.numel()

    def leftover_params(self) -> int:
        """Parameters of this module that no row below holds (a container's own ones)."""
        return self.num_params - sum(
            c.num_params if c.is_leaf else c.leftover_params()
            for c in self.children
            if not c.is_recursive
        )

    def leftover_trainable_params(self) -> int:
        return self.trainable_params - sum(
            c.trainable_params if c.is_leaf else c.leftover_trainable_params()
            for c in self.children
            if not c.is_recursive
        )

    # --- the cells, by torchinfo's rules ---------------------------------------------------
    def params_text(self, at_max_depth: bool = False) -> str:
        if self.num_params == 0:
            return "--"
        if self.is_recursive:
            return "(recursive)"
        if at_max_depth or self.is_leaf:
            text = f"{self.num_params:,}"
            return text if self.trainable_params else f"({text})"  # frozen: in parentheses
        leftover = self.leftover_params()
        return f"{leftover:,}" if leftover > 0 else "--"

    def params_percent_text(self, total: int, at_max_depth: bool) -> str:
        none = "     --"
        if total == 0:
            return none
        if self.is_recursive:
            return "(recursive)"
        params = self.num_params if at_max_depth or self.is_leaf else self.leftover_params()
        return f"{params / total:>7.2%}" if params else none

    def mult_adds_text(self, at_max_depth: bool) -> str:
        if self.mult_adds <= 0:
            return "--"
        if self.is_leaf:
            return f"{self.mult_adds:,}"
        if at_max_depth:  # a collapsed container shows its leaves' sum
            return f"{sum(c.mult_adds for c in self.children if c.is_leaf):,}"
        return "--"

    @property
    def trainable(self) -> str:
        if self.num_params == 0:
            return "--"
        if self.trainable_params == 0:
            return "False"
        return "True" if self.trainable_params == self.num_params else "Partial"

    def cells(self, total_params: int, at_max_depth: bool) -> dict[str, str]:
        return {
            "input_size": str(self.input_shape) if self.input_shape else "--",
            "output_size": str(self.output_shape) if self.output_shape else "--",
            "num_params": self.params_text(at_max_depth),
            "params_percent": self.params_percent_text(total_params, at_max_depth),
            "kernel_size": str(self.kernel_size) if self.kernel_size else "--",
            "mult_adds": self.mult_adds_text(at_max_depth),
            "trainable": self.trainable,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "var_name": self.var_name,
            "type": self.type,
            "label": self.label,
            "depth": self.depth,
            "index": self.index,
            "input_shape": self.input_shape or None,
            "output_shape": self.output_shape or None,
            "num_params": self.num_params,
            "trainable_params": self.trainable_params,
            "mult_adds": self.mult_adds,
            "is_recursive": self.is_recursive,
        }


@dataclass(repr=False)
class ModelSummary:
    """What `summary` measured; ``str()`` is torchinfo's table, ``to_dict()`` its data."""

    model_name: str
    input_size: tuple[int, ...] | list[tuple[int, ...]]
    dtype: str
    rows: list[LayerRow]
    total_params: int
    trainable_params: int
    total_mult_adds: int
    input_size_bytes: int
    forward_backward_bytes: int
    params_bytes: int
    warnings: list[str]
    explanation: str
    col_names: tuple[str, ...] = DEFAULT_COLUMNS
    depth: int = 3
    verbose: int = 1
    row_settings: tuple[str, ...] = DEFAULT_ROW_SETTINGS
    col_width: int = COLUMN_WIDTH

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

    def _table(self) -> tuple[str, list[tuple[str, dict[str, str]]]]:
        """The header of the name column, and each row shown as (name, cells): what the
        text table and the notebook's HTML table both show."""
        settings = set(self.row_settings)
        var_names, show_depth = "var_names" in settings, "depth" in settings
        ascii_only = "ascii_only" in settings
        header = "Layer (type" + " (var_name)" * var_names + ":depth-idx" * show_depth + ")"
        rows = []
        for r in self.rows:
            if r.depth > self.depth or ("hide_recursive_layers" in settings and r.is_recursive):
                continue
            at_max_depth = r.depth == self.depth
            prefix = _tree_prefix(r.depth, ascii_only)
            rows.append(
                (
                    prefix + r.layer_name(var_names, show_depth),
                    r.cells(self.total_params, at_max_depth),
                )
            )
            if self.verbose == 2:  # one line per parameter tensor
                inner_prefix = _tree_prefix(r.depth + 1, ascii_only)
                for i, (name, shape, count) in enumerate(r.inner):
                    branch = "└─" if i == len(r.inner) - 1 else "├─"
                    cells = {"kernel_size": str(shape), "num_params": f"{branch}{count:,}"}
                    rows.append((inner_prefix + name, cells))
        return header, rows

    def _totals_lines(self) -> tuple[list[str], list[str]]:
        """The two blocks of lines under the table: the counts, then the sizes."""
        counts = [
            f"Total params: {self.total_params:,}",
            f"Trainable params: {self.trainable_params:,}",
            f"Non-trainable params: {self.non_trainable_params:,}",
            f"Total mult-adds {_mult_adds_text(self.total_mult_adds)}",
        ]
        sizes = [
            f"Input size (MB): {self.input_size_bytes / 1e6:0.2f}",
            f"Forward/backward pass size (MB): {self.forward_backward_bytes / 1e6:0.2f}",
            f"Params size (MB): {self.params_bytes / 1e6:0.2f}",
            f"Estimated Total Size (MB): {self.total_bytes / 1e6:0.2f}",
        ]
        return counts, sizes

    def __str__(self) -> str:
        settings = set(self.row_settings)
        var_names, show_depth = "var_names" in settings, "depth" in settings
        longest = max(
            (len(r.layer_name(var_names, show_depth)) + r.depth * 5 + 1 for r in self.rows),
            default=0,
        )
        name_width = math.ceil(longest / 5) * 5 if longest >= NAME_WIDTH else NAME_WIDTH
        rule = "=" * (name_width + len(self.col_names) * self.col_width)

        def row(name: str, cells: dict[str, str]) -> str:
            texts = [f"{cells.get(c, ''):<{self.col_width}}" for c in self.col_names]
            return " ".join([f"{name:<{name_width}}", *texts]).rstrip()

        header, rows = self._table()
        counts, sizes = self._totals_lines()
        return "\n".join(
            [rule, row(header, COLUMNS), rule]
            + [row(name, cells) for name, cells in rows]
            + [rule, *counts, rule, *sizes, rule]
        )

    def _repr_html_(self) -> str:
        """The same table for Jupyter, as HTML: the columns and numbers of ``str()``."""
        from html import escape

        header, rows = self._table()
        counts, sizes = self._totals_lines()
        cell = '<{tag} style="text-align:left;white-space:pre">{text}</{tag}>'
        names = [header, *(COLUMNS[c] for c in self.col_names)]
        head = "".join(cell.format(tag="th", text=escape(h)) for h in names)
        body = []
        for name, cells in rows:
            texts = [name, *(cells.get(c, "") for c in self.col_names)]
            tds = "".join(cell.format(tag="td", text=escape(t)) for t in texts)
            body.append(f"<tr>{tds}</tr>")
        footer = "<br>".join(escape(line) for line in counts + sizes)
        return (
            '<table style="font-family:monospace">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            f'<p style="font-family:monospace">{footer}</p>'
        )

    __repr__ = __str__  # a notebook shows the table, as torchinfo's ModelStatistics

    def to_dict(self) -> dict[str, Any]:
        """Plain numbers, strings and lists, ready for ``json.dumps``."""
        return {
            "model": self.model_name,
            "input_size": _plain(self.input_size),
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
    model: nn.Module,
    input_size: Sequence[int] | Sequence[Sequence[int]] = (32, 784),
    dtype: Any = None,
    *,
    col_names: Sequence[str] | None = None,
    depth: int = 3,
    verbose: int | None = None,
    row_settings: Sequence[str] | None = None,
    mode: str = "eval",
    dtypes: Sequence[Any] | None = None,
    batch_dim: int | None = None,
    col_width: int = COLUMN_WIDTH,
) -> ModelSummary:
    """Run `model` once on zeros of `input_size` and summarise it as torchinfo 1.8 does.

    The options are torchinfo's: ``col_names`` (any of `COLUMNS`, default output size and
    parameters), ``depth`` (deeper rows are folded into their container), ``verbose`` (0
    quiet, 1 print the table, 2 also one line per parameter tensor; default 1, or 0 in an
    interactive session), ``row_settings`` (`ROW_SETTINGS`, default ``("depth",)``),
    ``mode`` ("eval" or "train" during the pass), ``batch_dim`` (`input_size` has no batch
    dimension: a batch of 1 is inserted there), ``col_width``. Several inputs: a list of
    sizes, and ``dtypes`` one per input.

    One difference: the input's dtype defaults to the dtype of the model's first parameter
    (torchinfo always uses float32), so a float64 model is measured with float64 inputs.
    ``dtype`` sets it for every input. Each module's mode is restored afterwards and the
    global random generator is not touched.
    """
    columns = _choices(col_names, DEFAULT_COLUMNS, COLUMNS, "col_names")
    settings = _choices(row_settings, DEFAULT_ROW_SETTINGS, ROW_SETTINGS, "row_settings")
    if verbose is None:
        verbose = 0 if getattr(sys, "ps1", None) else 1  # torchinfo's rule
    if verbose not in (0, 1, 2):
        raise SummaryError(f"summary: verbose must be 0 (quiet), 1 or 2 (verbose), not {verbose!r}")
    if mode not in MODES:
        raise SummaryError(f"summary: mode must be 'train' or 'eval', not {mode!r}")
    if depth < 0:
        raise SummaryError(f"summary: depth must be 0 (the model only) or more, not {depth}")
    if col_width <= 0:
        raise SummaryError(f"summary: col_width must be a positive width, not {col_width}")
    sizes = _input_sizes(input_size)
    inputs = _inputs(model, sizes, dtype, dtypes, batch_dim)
    rows = _trace(model, inputs, mode)
    totals = _totals(rows)
    result = ModelSummary(
        model_name=type(model).__name__,
        input_size=sizes[0] if len(sizes) == 1 else sizes,
        dtype=backend._dtype_name(inputs[0].dtype),
        rows=rows,
        **totals,
        # torchinfo: sys.getsizeof(tensor.untyped_storage()) = bytes + a fixed overhead
        input_size_bytes=sum(x.numel() * _itemsize(x.dtype) + STORAGE_OVERHEAD for x in inputs),
        warnings=_collapse_warnings(rows),
        explanation=_explain(model, _labels(rows)),
        col_names=columns,
        depth=depth,
        verbose=verbose,
        row_settings=settings,
        col_width=col_width,
    )
    if verbose:
        result.render()
    return result


def _choices(
    given: Sequence[str] | None, default: tuple[str, ...], known: Sequence[str], option: str
) -> tuple[str, ...]:
    if given is None:
        return default
    chosen = (given,) if isinstance(given, str) else tuple(given)
    unknown = [c for c in chosen if c not in known]
    if unknown:
        raise SummaryError(
            f"summary: unknown {option} {', '.join(map(repr, unknown))}; choose from: "
            f"{', '.join(known)}"
        )
    return chosen


def _input_sizes(input_size: Any) -> list[tuple[int, ...]]:
    """One size, or a list of sizes for several inputs (torchinfo's forms)."""
    if not isinstance(input_size, (list, tuple)) or not input_size:
        raise SummaryError(
            f"summary: input_size must be a shape such as (32, 784), or a list of shapes "
            f"for several inputs, not {input_size!r}"
        )
    many = isinstance(input_size[0], (list, tuple))
    sizes = [tuple(int(n) for n in s) for s in (input_size if many else [input_size])]
    if any(n <= 0 for s in sizes for n in s):
        raise SummaryError(f"summary: input_size {input_size!r} has a size <= 0")
    return sizes


def _inputs(
    model: nn.Module,
    sizes: list[tuple[int, ...]],
    dtype: Any,
    dtypes: Sequence[Any] | None,
    batch_dim: int | None,
) -> list[Tensor]:
    """Zeros of each size, with a batch of 1 inserted at `batch_dim` (torchinfo's unsqueeze)."""
    if dtypes is None:
        if dtype is None:
            first = next(model.parameters(), None)
            dtype = first.dtype if first is not None else None
        dtypes = [dtype] * len(sizes)
    if len(dtypes) != len(sizes):
        raise SummaryError(
            f"summary: {len(dtypes)} dtypes for {len(sizes)} inputs; give one dtype per input"
        )
    inputs = []
    for size, input_dtype in zip(sizes, dtypes):
        if batch_dim is not None:
            if not -len(size) - 1 <= batch_dim <= len(size):
                raise SummaryError(
                    f"summary: batch_dim {batch_dim} is out of range for input_size "
                    f"{list(size)} (a batch dimension goes at -{len(size) + 1}..{len(size)})"
                )
            at = batch_dim % (len(size) + 1)
            size = (*size[:at], 1, *size[at:])
        inputs.append(Tensor.zeros(size, dtype=input_dtype))
    return inputs


def _structure(model: nn.Module) -> list[LayerRow]:
    """torchinfo's hook registration walk: a row template per visit of a module, in
    depth-first order (a module reachable twice is visited twice; its last place wins)."""
    visits: list[LayerRow] = []
    stack: list[tuple[str, str, nn.Module, int, LayerRow | None]] = [
        (type(model).__name__, "", model, 0, None)
    ]
    while stack:
        var_name, name, module, depth, parent = stack.pop()
        place = LayerRow(module, var_name, name, depth, parent)
        visits.append(place)
        ancestors = {id(module)}
        while parent is not None:
            ancestors.add(id(parent.module))
            parent = parent.parent
        stack += [
            (key, f"{name}.{key}" if name else key, child, depth + 1, place)
            for key, child in reversed(list(module.named_children()))
            if id(child) not in ancestors  # a cycle would never end
        ]
    return visits


def _trace(model: nn.Module, inputs: list[Tensor], mode: str) -> list[LayerRow]:
    """Run the forward pass, one row per call of a module of the tree, in call order."""
    places = {id(place.module): place for place in _structure(model)}
    rows: list[LayerRow] = []
    seen: set[int] = set()
    failed: list[LayerRow] = []

    def record(module: nn.Module, run: Any) -> Any:
        place = places.get(id(module))
        if place is None:  # not part of the model's tree: torchinfo sees no hook
            return run()
        row = LayerRow(module, place.var_name, place.name, place.depth, place.parent)
        row.is_recursive = id(module) in seen
        seen.add(id(module))
        rows.append(row)
        try:
            out = run()
        except Exception:
            if not failed:  # the innermost layer is the first to see the exception
                failed.append(row)
            raise
        row.measure(run.args, out)
        return out

    modes = [(m, m.training) for m in model.modules()]
    state = rng.get_state()  # Dropout in mode="train" draws random numbers
    model.train(mode == "train")
    try:
        with autograd.no_grad(), nn.trace_calls(record):
            model(*inputs)
    except Exception as error:
        _number(rows)  # the failing layer's depth-idx, as the table would show it
        where = f" in {failed[0].label} ({failed[0].name!r})" if failed and failed[0].depth else ""
        shapes = ", ".join(str(list(x.shape)) for x in inputs)
        raise SummaryError(
            f"summary: the forward pass of {type(model).__name__} with input size "
            f"{shapes} failed{where}: {error}; check input_size against the "
            "model's first layer"
        ) from error
    finally:
        rng.set_state(state)
        for module, was_training in modes:
            module.training = was_training
    _insert_missing_containers(rows, seen)
    _number(rows)
    return rows


def _insert_missing_containers(rows: list[LayerRow], seen: set[int]) -> None:
    """Show the containers that never ran themselves (a ModuleList) above their children.

    torchinfo's ``add_missing_container_layers``: each missing ancestor's template row
    is inserted once per run of its children; a second insertion is "(recursive)".
    """
    current: dict[int, LayerRow] = {}
    i = 0
    while i < len(rows):
        row = rows[i]
        ancestors: dict[int, LayerRow] = {}
        parent = row.parent
        while parent is not None and parent.depth > 0:
            ancestors[parent.depth] = parent
            parent = parent.parent
        for d in range(1, row.depth):
            missing = d not in current or current[d].module is not ancestors[d].module
            if missing and ancestors[d] is not rows[i - 1]:
                ancestors[d].is_recursive = id(ancestors[d].module) in seen
                seen.add(id(ancestors[d].module))
                rows.insert(i, ancestors[d])
                current[d] = ancestors[d]
                i += 1
        current[row.depth] = row
        for deeper in [d for d in current if d > row.depth]:
            del current[deeper]
        i += 1


def _number(rows: list[LayerRow]) -> None:
    """torchinfo's depth-idx (a running number per depth) and each row's rows below."""
    counters: dict[int, int] = {}
    for i, row in enumerate(rows):
        counters[row.depth] = counters.get(row.depth, 0) + 1
        row.index = counters[row.depth] if row.depth else None
        below = 0
        while i + 1 + below < len(rows) and rows[i + 1 + below].depth > row.depth:
            below += 1
        row.children = rows[i + 1 : i + 1 + below]


def _totals(rows: list[LayerRow]) -> dict[str, int]:
    """torchinfo's ModelStatistics: what the summary's last lines add up."""
    params = trainable = mult_adds = output_bytes = param_bytes = 0
    for row in rows:
        if row.is_leaf:
            mult_adds += row.mult_adds
            if row.num_params:
                output_bytes += 2 * row.output_bytes  # x2: a gradient for each output
            if row.is_recursive:
                continue
            params += row.num_params
            param_bytes += row.param_bytes
            trainable += row.trainable_params
        elif not row.is_recursive:
            params += max(row.leftover_params(), 0)
            trainable += max(row.leftover_trainable_params(), 0)
    return {
        "total_params": params,
        "trainable_params": trainable,
        "total_mult_adds": mult_adds,
        "forward_backward_bytes": output_bytes,
        "params_bytes": param_bytes,
    }


def _mult_adds_text(count: int) -> str:
    """torchinfo's '(M): 3.26': millions, or (G)/(T) from 1e9/1e12; whole numbers bare."""
    unit, scale = ("T", 1e12) if count >= 1e12 else ("G", 1e9) if count >= 1e9 else ("M", 1e6)
    value = count / scale
    return f"({unit}): {int(value):,d}" if value.is_integer() else f"({unit}): {value:,.2f}"


def _size_of(value: Any) -> tuple[list[int], int]:
    """torchinfo's size of an input or output: a tensor's shape and item size; for a
    tuple or list its first element's, for a dict its last value's; else nothing."""
    if isinstance(value, Tensor):
        return list(value.shape), _itemsize(value.dtype)
    if isinstance(value, dict) and value:
        return _size_of(list(value.values())[-1])
    if isinstance(value, (tuple, list)) and value:
        return _size_of(value[0])
    return [], 0


def _plain(size: Any) -> Any:
    return [list(s) for s in size] if isinstance(size[0], tuple) else list(size)


def _itemsize(dtype: Any) -> int:
    return np.dtype(backend._dtype_name(dtype)).itemsize


def _tree_prefix(depth: int, ascii_only: bool = False) -> str:
    """torchinfo's tree drawing: '├─' at depth 1, '│    ' per extra level, then '└─'."""
    if depth == 0:
        return ""
    branch, bar = ("+ ", "|    ") if ascii_only else ("├─", "│    ")
    return branch if depth == 1 else bar * (depth - 1) + ("+ " if ascii_only else "└─")


def _labels(rows: list[LayerRow]) -> dict[int, str]:
    """Module id -> its first row's depth-idx ('1-2'), the number `explain` shows."""
    labels: dict[int, str] = {}
    for row in rows:
        if row.depth:
            labels.setdefault(id(row.module), row.depth_idx)
    return labels


def _collapse_warnings(rows: list[LayerRow]) -> list[str]:
    """Linear layers that run one after another with no non-linearity in between.

    W2 (W1 x + b1) + b2 = (W2 W1) x + (W2 b1 + b2): two such layers compute one linear
    map, so the second adds parameters but no expressive power.
    """
    warnings = []
    previous: LayerRow | None = None
    for row in rows:
        if not row.is_leaf or not row.executed:
            continue
        if isinstance(row.module, nn.Linear):
            if previous is not None:
                warnings.append(
                    f"Linear layers {previous.depth_idx} and {row.depth_idx} follow each other "
                    "without an activation: together they collapse to a single linear model "
                    "(W2 (W1 x + b1) + b2 = W x + b); put a non-linearity such as ReLU "
                    "between them"
                )
            previous = row
        elif not isinstance(row.module, _LINEAR_PASSTHROUGH):
            previous = None
    return warnings


def explain(model: nn.Module) -> str:
    """Answer "how many parameters does this network have, and why?" in a few lines.

    One line per layer with parameters, numbered with torchinfo's depth-idx and showing
    where its count comes from, e.g. ``(1-2) Linear(784 -> 128): 784 x 128 weights + 128
    biases = 100,480``, then the sum. Without a forward pass, the layers are numbered in
    the order of the module tree, as torchinfo numbers a summary without input.
    """
    visits = _structure(model)
    _number(visits)
    return _explain(model, _labels(visits))


def _explain(model: nn.Module, labels: dict[int, str]) -> str:
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
        prefix = f"({labels.get(id(module), name + ', not called')}) " if name else ""
        lines.append(f"  {prefix}{_describe(module, own)} = {count:,}")
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
