"""The one autodiff core, shared by the scalar `Value` and the array `Tensor` engines.

A node is any object with three attributes:

- ``_prev``: the tuple of nodes it was computed from (its parents),
- ``_backward``: a function that, once this node's gradient is complete, adds the
  node's contribution to its parents' gradients (``None`` for leaves),
- ``_op``: a short name of the operation that made it (for teaching and DOT output).

Optionally, ``_hooks``: functions called with the node's gradient once it is complete
(PyTorch's ``register_hook``); a node that has them also provides ``_swap_grad(new)``,
which returns its gradient (in the form hooks receive) and stores ``new`` in its place.

Backpropagation visits the nodes in reverse topological order, so every node's
gradient is complete (all its consumers have contributed) before it is pushed to its
parents. The order is computed iteratively, so graphs of millions of nodes work
without hitting Python's recursion limit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


class _GradMode(threading.local):
    """Whether new operations record the graph, per thread as in PyTorch: one thread's
    `no_grad` (an optimizer step) must not switch off the forward pass of a model that
    another thread trains."""

    enabled = True  # every thread starts recording


_grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    """Whether new operations in this thread record the graph (`torch.is_grad_enabled`)."""
    return _grad_mode.enabled


@contextmanager
def no_grad() -> Iterator[None]:
    """Run a block (or decorate a function) without recording the graph, as `torch.no_grad`.

    Use it for evaluation and for parameter updates: no parents are kept, so no memory
    is held for a backward pass that will never come. It holds for the calling thread.
    """
    previous, _grad_mode.enabled = _grad_mode.enabled, False
    try:
        yield
    finally:
        _grad_mode.enabled = previous


inference_mode = no_grad
"""PyTorch's ``torch.inference_mode``: here the same as `no_grad` (nothing is recorded)."""


def topological_order(root: Any) -> list[Any]:
    """All nodes reachable from `root`, each after all of its parents (iterative DFS).

    A node is pushed once to be expanded (its parents go on the stack above it) and met
    again once all those parents are placed; two sets tell the two visits apart. Nodes
    are hashed by identity (`Value` defines no ``__eq__``; `Tensor` keeps
    ``object.__hash__``, as PyTorch's), so the sets hold the nodes themselves, and the
    walk allocates no object per node (``(node, done)`` tuples would wake the garbage
    collector about once per 700 nodes: W4 in bench/ measures the walk).
    """
    order: list[Any] = []
    expanded: set[Any] = set()  # its parents have been pushed
    placed: set[Any] = set()  # it is in `order`
    stack = [root]
    while stack:
        node = stack.pop()
        if node in expanded:
            # Second visit: every parent is placed by now. (Other entries of this node, pushed
            # by its other children, come before its expansion or after it is placed.)
            if node not in placed:
                placed.add(node)
                order.append(node)
            continue
        expanded.add(node)
        stack.append(node)  # meet it again after its parents
        stack.extend(node._prev)  # those already met are skipped when popped: `placed`
    return order


def backpropagate(root: Any, after: Callable[[Any], None] | None = None) -> None:
    """Run every node's `_backward` from `root` down to the leaves.

    The caller seeds ``root``'s gradient first. ``after(node)`` runs once each interior
    node has passed its gradient on: the Tensor engine uses it to drop the node's
    gradient and (unless the graph is retained, as PyTorch's ``retain_graph``) its
    parents and closure, so a training loop's memory does not grow.
    """
    order = topological_order(root)
    earlier = _set_aside_leaf_gradients(root, order) if hooks_registered else None
    for node in reversed(order):
        if earlier is not None and getattr(node, "_hooks", ()):
            _run_hooks(node, earlier.get(id(node)))
        backward = node._backward
        if backward is None:
            continue
        backward()
        if after is not None:
            after(node)


hooks_registered = False
"""Whether any node ever got a hook: until then the walk skips looking for them (speed)."""


def add_hook(node: Any, hook: Callable[[Any], Any]) -> None:
    """Append `hook` to the node's ``_hooks`` (see the module docstring)."""
    global hooks_registered
    hooks_registered = True
    node._hooks = node._hooks + (hook,)


def _set_aside_leaf_gradients(root: Any, order: list) -> dict[int, Any]:
    """A hooked leaf's hooks see this pass's gradient only (as PyTorch): take what it
    holds from earlier passes out until its hooks have run."""
    return {
        id(node): node._swap_grad(None)
        for node in order
        if getattr(node, "_hooks", ()) and node._backward is None and node is not root
    }


def _run_hooks(node: Any, earlier: Any) -> None:
    """Pass the node's complete gradient through its hooks (a hook that returns something
    replaces the gradient), then add back what a leaf held before this pass."""
    grad = node._swap_grad(None)
    if grad is not None:
        for hook in node._hooks:
            result = hook(grad)
            if result is not None:
                grad = result
    if earlier is not None:
        grad = earlier if grad is None else earlier + grad
    node._swap_grad(grad)


# --- speed specialisation (skip on first reading) ---------------------------------------------


def backpropagate_scalars(root: Any) -> None:
    """`backpropagate` for `Value` graphs: the same order and the same sums, but each node's
    ``_grad_fn(node)`` is called directly. Going through ``node._backward`` would build a
    ``functools.partial`` per node (`Value` keeps one shared function per operation instead
    of a closure per node, see value.py); micrograd's demo (bench W3) spends most of its
    time here. The caller seeds ``root.grad`` first; `Value` nodes carry no hooks."""
    for node in reversed(topological_order(root)):
        grad_fn = node._grad_fn
        if grad_fn is not None:  # leaves have none
            grad_fn(node)
