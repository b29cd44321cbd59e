"""Put one function of a student's workspace into the reference engine, and nothing else.

This is what makes the exercises independent: to grade ``Value.tanh_backward`` the grader
runs the reference `Value` with only that method replaced by the student's, so an
unfinished ``Value.backward`` (another exercise) cannot cost this one. The student's
function keeps its own code and its own module's helpers, but the names it shares with
the reference module (``Value``, ``unbroadcast``, ``np``) resolve to the reference's.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

from .catalogue import PACKAGE, Exercise
from .compare import Context

REFERENCE = f"{__package__}.solution"
MODULES = ("value", "tensor_ops", "nn", "optim", "train")


def reference_modules() -> SimpleNamespace:
    return SimpleNamespace(**{m: importlib.import_module(f"{REFERENCE}.{m}") for m in MODULES})


def import_student(workspace: str | Path, exercise: Exercise) -> Callable:
    """The student's function of `exercise`, imported from the workspace's package (only
    that module and what it imports itself)."""
    sys.path.insert(0, str(Path(workspace).resolve()))
    for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
        del sys.modules[name]
    module = importlib.import_module(f"{PACKAGE}.{exercise.module}")
    return _lookup(module, exercise.function)


def _lookup(module: types.ModuleType, qualname: str) -> Callable:
    *owners, name = qualname.split(".")
    holder = module
    for owner in owners:
        holder = getattr(holder, owner)
    raw = vars(holder)[name]
    return raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else raw


def rebind(fn: Callable, module: types.ModuleType) -> Callable:
    """`fn` with the names it shares with the reference `module` taken from there."""
    names = dict(fn.__globals__)
    names.update({k: v for k, v in vars(module).items() if not k.startswith("__")})
    copy = types.FunctionType(fn.__code__, names, fn.__name__, fn.__defaults__, fn.__closure__)
    copy.__kwdefaults__ = fn.__kwdefaults__
    return copy


@contextmanager
def grafted(exercise: Exercise, fn: Callable, own_engine: bool = False) -> Iterator[Context]:
    """The reference engine with `fn` in the place of `exercise`'s function, restored after.

    With `own_engine` (the exercise that puts everything together) `fn` runs as written,
    on the student's own modules."""
    ref = reference_modules()
    module = getattr(ref, exercise.module)
    *owners, name = exercise.function.split(".")
    holder = module
    for owner in owners:
        holder = getattr(holder, owner)
    raw = vars(holder)[name]
    original = raw.__func__ if isinstance(raw, staticmethod) else raw
    student = fn if own_engine else rebind(fn, module)
    setattr(holder, name, staticmethod(student) if isinstance(raw, staticmethod) else student)
    try:
        yield Context(fn=student, ref=ref, original=original)
    finally:
        setattr(holder, name, raw)
