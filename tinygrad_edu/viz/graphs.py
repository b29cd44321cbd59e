"""The computation graph of one training step of a spec's model, drawn op by op.

`graph_dot(spec)` runs the spec's model and loss once, forward and backward, on a small
random batch and returns the graph as Graphviz DOT text (`graph_text.to_dot`): every
tensor with its shape and dtype, every op between its inputs and its output, the
parameters under their names ('1.weight') with the shape of the gradient the backward
pass gave them. The backward pass keeps the graph (PyTorch's ``retain_graph``), so the
picture shows exactly the graph that backpropagation walked, in reverse.

`write_graph` saves the text under a name whose extension says the format: ``.dot`` is the
text itself; ``.svg``, ``.png`` and ``.pdf`` are rendered with the Graphviz ``dot`` program
(`render`), which is not a Python package: without it, save the DOT text and render it
elsewhere. Any other extension is refused, so ``graph.png`` never holds DOT text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .. import nn, rng
from ..errors import UserError
from ..graph_text import (  # RENDERED_FORMATS and require_dot: the graph command's checks
    RENDERED_FORMATS,
    dot_output,
    require_dot,  # noqa: F401 (re-exported for the graph command)
    to_dot,
)
from ..io.atomic import atomic_write, write_text_atomic
from ..spec import build_model, default_dtype, example_batch


def graph_format(path: str | Path) -> str:
    """The output format a file name asks for (``dot``, ``svg``, ``png``, ``pdf``).

    Checked before any work starts: an unknown extension is a `UserError` naming the
    choices, instead of DOT text in a file that claims to be a picture.
    """
    if Path(path).is_dir():
        raise UserError(
            f"{path} is a folder; give the graph a file name in it, e.g. {Path(path) / 'graph.svg'}"
        )
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix == "dot" or suffix in RENDERED_FORMATS:
        return suffix
    found = f"'.{suffix}'" if suffix else "no extension"
    choices = ", ".join(f".{name}" for name in ("dot", *RENDERED_FORMATS))
    raise UserError(
        f"{path}: cannot tell the graph's format from {found}; end the file name with one "
        f"of {choices} (.dot is DOT text, the others are rendered by Graphviz's dot)"
    )


def write_graph(dot_text: str, path: str | Path) -> Path:
    """Write DOT text to `path` in the format its extension names (see `graph_format`)."""

    fmt = graph_format(path)
    if fmt == "dot":
        write_text_atomic(path, dot_text)
        return Path(path)
    return render(dot_text, path, fmt)


def graph_dot(spec: Any, batch_size: int = 2, seed: int = 0) -> str:
    """DOT text of one forward and backward pass of the spec's model and loss.

    The model is built with the spec's seed and dtype; the batch is random (`seed`), with
    valid targets for the spec's loss. A small batch keeps the shapes easy to read: the
    graph's structure does not depend on it. The global random generator is restored.
    """

    state = rng.get_state()
    try:
        with default_dtype(spec.dtype):
            rng.manual_seed(spec.seed)
            model = build_model(spec)
            x, targets, objective = example_batch(spec, batch_size, np.random.default_rng(seed))
            x = x.to(spec.dtype)
            names = {id(p): name for name, p in model.named_parameters()}
            names[id(x)] = "input"
            names[id(targets)] = "targets"
            module_names = {id(m): n for n, m in model.named_modules() if not any(m.children())}
            outputs = []  # held, so no named tensor is freed and its id reused

            def name_outputs(module: nn.Module, run: Any) -> Any:
                out = run()
                outputs.append(out)
                if id(module) in module_names:  # Identity returns its input: keep its name
                    label = f"{module_names[id(module)]} ({type(module).__name__})"
                    names.setdefault(id(out), label)
                return out

            with nn.trace_calls(name_outputs):
                loss = objective(model(x), targets)
            names[id(loss)] = f"loss ({objective.loss})"
            loss.backward(retain_graph=True)
            return to_dot(loss, names=names)
    finally:
        rng.set_state(state)


def render_svg(dot_text: str, path: str | Path) -> Path:
    """Render DOT text to an SVG file with Graphviz's ``dot`` (written atomically)."""
    return render(dot_text, path, "svg")


def render(dot_text: str, path: str | Path, fmt: str) -> Path:
    """Render DOT text to a `fmt` file (one of `RENDERED_FORMATS`) with Graphviz's ``dot``,
    written atomically: a failed rendering leaves no file behind."""

    picture = dot_output(dot_text, fmt)
    path = Path(path)
    with atomic_write(path) as handle:
        handle.write(picture)
    return path
