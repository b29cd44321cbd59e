"""The passes over a trusted tape: calls a replay can skip, with the same bits.

`optimized` runs them in order over the recorded entries and returns those a replay
must run (`replay.prepare` turns them into its program):

1. `_without_private_copies`: the engine copies a leaf's first gradient; when nothing
   else reads the source, the replay writes it straight into the copy's buffer;
2. `_without_products_by_one`: SGD's ``(1 - dampening) * grad`` is ``grad`` bit for bit;
3. `_without_constants`: calls on constants alone (``arange(C)``, ``1 / n``) run once, in
   the recording, as a compiler hoists loop-invariant code out of a loop.

Each keeps an entry whenever the step changes one of its arrays in place or hands it
out (`_changed_and_bound`), so a replay computes exactly what the eager step computes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .calls import _COPIES, Entry, _mutated_slots, _Ref, _refs, _renamed

if TYPE_CHECKING:
    from .tape import Tape


def optimized(tape: Tape) -> list[Entry]:
    """The entries of `tape` that a replay runs, after every pass (in this order)."""
    entries = _without_products_by_one(tape, _without_private_copies(tape))
    return _without_constants(tape, entries)


def _without_private_copies(tape: Tape) -> list[Entry]:
    """The entries, less copies of buffers that nothing reads afterwards.

    The engine copies a leaf's first gradient (``asarray(g, copy=True)``) so that no
    two tensors share one array. When ``g`` is a buffer of this tape that nothing else
    uses, the replay writes ``g`` straight into the copy's buffer and skips the copy:
    the same values, one pass over the array fewer (a 400 KB ``dW`` per step on W1).
    """
    last_use: dict[int, float] = {}
    for i, e in enumerate(tape.entries):
        for s in _refs((e.args, e.kwargs)):
            last_use[s] = i
    for s in _refs(tape.outputs):
        last_use[s] = float("inf")
    made_into = {e.result for e in tape.entries if e.mode == "into"}
    viewed = set(tape.views.values())
    kept = []
    for i, e in enumerate(tape.entries):
        source = e.args[0] if e.args else None
        if (
            e.mode == "into"
            and e.name in _COPIES
            and type(source) is _Ref
            and source.slot in made_into
            and source.slot not in viewed
            and last_use.get(source.slot) == i
            and tape.slots[source.slot].dtype == tape.slots[e.result].dtype
        ):
            tape.slots[source.slot] = tape.slots[e.result]  # one buffer for both slots
            continue
        kept.append(e)
    return kept


def _without_products_by_one(tape: Tape, entries: list[Entry]) -> list[Entry]:
    """The entries, with ``1.0 * x`` replaced by ``x`` itself.

    SGD computes ``(1 - dampening) * grad`` even without dampening: a full pass over
    every gradient that gives back ``grad`` bit for bit (x * 1 is exact for every value
    arithmetic produces). When neither array is changed in place, later calls read
    ``x`` instead.
    """
    changed, bound = _changed_and_bound(tape, entries)
    changed |= set(tape.views.values())  # a renamed base would leave its views behind
    renamed: dict[int, int] = {}
    kept = []
    for e in entries:
        if renamed:
            e = Entry(
                e.name,
                e.fn,
                _renamed(e.args, renamed),
                _renamed(e.kwargs, renamed),
                e.result,
                e.mode,
                e.value,
            )
        factor, source = (e.args + (None, None))[:2]
        if type(factor) is _Ref:
            factor, source = source, factor
        if (
            e.name == "mul"
            and e.mode in ("into", "call")
            and len(e.args) == 2
            and type(factor) in (int, float)
            and factor == 1
            and type(source) is _Ref
            and not {source.slot, e.result} & changed
            and e.result not in bound
            and tape.slots[source.slot].dtype == tape.slots[e.result].dtype
            and tape.slots[source.slot].shape == tape.slots[e.result].shape
        ):
            renamed[e.result] = source.slot
            continue
        kept.append(e)
    return kept


def _without_constants(tape: Tape, entries: list[Entry]) -> list[Entry]:
    """The entries, less the calls that give the same array at every replay.

    A call that reads only constants and arrays made that way (``arange(C)`` for the
    one-hot labels, ``ones(())`` and ``1 / n`` that seed the loss's gradient) runs once,
    in the recording: the array it made there serves every replay, as a compiler hoists
    loop-invariant code out of a loop. Not when the step changes that array in place
    or hands it out.
    """
    changed, bound = _changed_and_bound(tape, entries)
    kept_as_is = changed | bound
    constant: set[int] = set()
    kept = []
    for e in entries:
        if (
            e.mode == "call"
            and e.result not in kept_as_is
            and all(s in constant for s in _refs((e.args, e.kwargs)))
        ):
            constant.add(e.result)
            tape.fixed[e.result] = True  # later calls take the array itself
            continue
        kept.append(e)
    return kept


def _changed_and_bound(tape: Tape, entries: list[Entry]) -> tuple[set[int], set[int]]:
    """The slots the step changes in place (directly, or through a view of the same
    memory), and those it hands out: its results and the parameters' gradients."""
    changed = {s for e in entries for s in _mutated_slots(e)}
    while True:
        linked = {s for pair in tape.views.items() if set(pair) & changed for s in pair}
        if linked <= changed:
            break
        changed |= linked
    bound = set(_refs(tape.outputs)) | {s for _, grad in tape.grads for s in _refs(grad)}
    return changed, bound
