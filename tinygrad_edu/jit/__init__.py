"""Record once, replay every step: a small tracing JIT for whole training steps.

``step = tg.compile(step_fn)`` returns a function that gives the same results as
``step_fn`` (bit for bit on NumPy) but, after two calls, no longer runs its Python code.

How tracing JITs work
---------------------
A training step written with the Tensor engine spends much of its time in Python: each
op builds a `Tensor`, a closure for its gradient, and a fresh output array; backward walks
the graph again. Yet the *array work* of a step is the same every time: the same NumPy
calls, on arrays of the same shapes, wired the same way. Only the values change.
Tracing JITs exploit that:

- tinygrad's ``TinyJit`` runs a function twice eagerly, captures the kernels the second
  run launches, and from then on replays only those kernels on the same buffers;
- a CUDA graph (``torch.cuda.CUDAGraph``, ``cupy.cuda.Graph``) records a stream of GPU
  work once and relaunches it with one call, so the CPU no longer issues each kernel;
- ``torch.compile(mode="reduce-overhead")`` does both: it traces the Python code into a
  graph (with guards that say when the trace is still valid) and replays it as CUDA graphs.

Here the same idea runs on plain array calls. The engine computes only through
``backend.active.xp`` and array operators, and it declares where a recorder may listen
(`tinygrad_edu.recording`: one "active recorder" that ``Tensor.data``, the backend,
``Optimizer.step`` and the random numbers of `rng` consult; nothing is patched). During a
recording the backend computes through a *recording namespace*, and every array the step
creates or reads from a tensor is a `Traced` stand-in. Both compute exactly what the real
arrays would, and append each call to a tape: the function, which buffers it read (by
slot number), its constants, and the buffer it produced.

Replay walks that tape. It builds no Tensors, closures or graphs, and writes each result
into the array the recording produced (``out=``, on NumPy and CuPy), so a step allocates
almost nothing. Views (``W.T``) of fixed buffers are made once, and so are arrays made
from constants alone (``arange(C)``, ``1 / n``): loop-invariant code, hoisted. What a
replay still runs in Python is the optimizer's ``step()``: its numbers (``lr`` under a
schedule, Adam's step count) change between steps, so a tape would freeze them (TinyJit
asks you to make them tensors instead); the tape records "call this optimizer" and hands
it the gradients.

When a tape is trusted, and when it falls back
----------------------------------------------
The first call with given input shapes and dtypes is recorded, and so is the second; the
tape is used from the third call on only if both recordings are the same program (the same
calls, constants, and outside arrays, compared by identity); otherwise the third is
recorded and compared with the second (SGD's momentum buffers appear at the first step),
and a step whose recordings keep differing runs eagerly. That comparison catches what a
tracer cannot see:

- Python code whose decisions depend on state (a first step that creates buffers);
- arrays made outside the recorded calls, which differ every step: random numbers drawn
  from `tinygrad_edu.rng` (dropout), NumPy work on the batch before it reaches ``xp``;
- values read back into Python (``loss.item()``, ``float(x)``) that change between steps.

A value that is read into Python and equal in both recordings (the label check in
``cross_entropy``, a ``bool`` of "the loss is finite") becomes a *guard*: the replay reads
it again and, if it differs, stops before changing any state and runs the step eagerly
(which then takes the other branch, e.g. raises its error). Ops the recorder does not know
(array methods such as ``.copy()``, ``xp.nonzero`` whose result shape depends on the data)
make that input signature run eagerly for good, with the reason logged once.
A different shape or dtype (the last, smaller batch of an epoch) is recorded as its own tape.

What a replay does not repeat: Python side effects of the step other than array work and
the optimizer call (appending to a list, counters). Returned tensors are copies, detached
from any graph; arrays that the step stored elsewhere (``p.grad``) are the tape's buffers,
overwritten by the next replay, as the static outputs of a CUDA graph.

Backends: on NumPy replays are tested bit for bit against eager steps; CuPy uses the same
``out=`` calls through ``xp`` but is untested (no GPU here), and this package does not
capture CUDA graphs. Backends without ``out=`` (``array_api_strict``) replay every call
afresh, which is still correct.

Reading order
-------------
1. `calls`: the tape's instructions (`Entry`, slot references) and what the recorder knows
   about array calls (which replay into ``out=``, which give views);
2. `tracing`: the stand-ins, `Traced` for arrays and the recording namespace for ``xp``;
3. `tape`: `Tape`, the recorder the engine's hooks consult, and how two recordings compare;
4. `passes`: calls a replay can skip with the same bits (copies, products by one,
   constants);
5. `replay`: the program a trusted tape runs, and its checks before each replay;
6. `compiled_step`: `CompiledStep`, which picks a tape per input signature, records,
   replays or falls back; `compile` (below) makes one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .calls import Entry
from .compiled_step import CompiledStep
from .tape import Tape
from .tracing import Traced

__all__ = ["CompiledStep", "Entry", "Tape", "Traced", "compile"]


def compile(
    step_fn: Callable | None = None,
    *,
    guard: Callable[[], Any] | None = None,
    name: str | None = None,
) -> CompiledStep | Callable[[Callable], CompiledStep]:
    """Record ``step_fn``'s array work once per input signature and replay it afterwards.

    Use it as ``step = tg.compile(step)`` or as a decorator ``@tg.compile``. Inputs are
    the positional and keyword arguments: Tensors (not requiring grad) and arrays, whose
    shapes and dtypes (with the Python values of other arguments) select the tape.
    ``guard`` returns Python state the step's array work depends on (``model.training``):
    a new value records a new tape. ``name`` starts the one line logged when the step
    runs eagerly (default ``tg.compile(<the function's name>)``).
    """
    if step_fn is None:
        return lambda fn: CompiledStep(fn, guard, name)
    return CompiledStep(step_fn, guard, name)
