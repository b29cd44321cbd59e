"""The optimizer base: parameter groups, state dicts, ``zero_grad`` (PyTorch's `Optimizer`).

An optimizer holds ``param_groups``, as PyTorch: a list of dicts, each with its
``params`` and its own hyperparameters (``lr``, ``momentum``, ...), filled from the
optimizer's defaults. Pass a list of parameters (one group) or a list of dicts::

    optim.SGD([{"params": body.parameters()}, {"params": head.parameters(), "lr": 0.01}],
              lr=0.1, momentum=0.9)

Schedules (`lr_scheduler`) change ``group["lr"]``; ``optimizer.lr`` reads the first
group's rate and sets every group's. ``step()`` reads each parameter's gradient array and
updates its values in place, under `no_grad`; parameters without a gradient are skipped.
With ``maximize=True`` the gradient is negated first (gradient ascent). All arithmetic
mixes the parameter's arrays with Python floats, so float32 stays float32.

``state_dict()`` is flat, name -> NumPy array, float, int or bool, so a checkpoint can
store it in an ``.npz`` file without pickling:

- each group's hyperparameters as ``param_groups.<g>.<name>`` (``betas`` an array of two
  floats) and its parameters' positions as ``param_groups.<g>.params``;
- per-parameter state as ``state.<i>.<name>``, with ``i`` the parameter's position over
  all groups: ``state.0.momentum_buffer`` (SGD, RMSprop), ``state.0.step``,
  ``state.0.exp_avg``, ``state.0.exp_avg_sq``, ``state.0.max_exp_avg_sq`` (Adam, AdamW),
  ``state.0.square_avg``, ``state.0.grad_avg`` (RMSprop), ``state.0.sum`` (Adagrad).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np

from .. import autograd, backend, recording
from .._tensor import Tensor
from ..errors import UserError
from ..nn.utils import clear_grad

StateValue = Any  # np.ndarray | float | int | bool
ParamGroup = dict[str, Any]


class OptimizerStateError(UserError, ValueError):
    """A saved optimizer or schedule state does not fit this optimizer or these parameters."""


class Optimizer:
    """Base class: the parameter groups, ``zero_grad``, ``step`` and the state dict.

    Subclasses pass their hyperparameters' defaults to ``__init__``, check a group in
    ``_check_group``, name the state a group's parameters keep in ``_state_names`` and
    implement ``_update(index, param, grad, group)`` for one parameter.
    """

    recordable_step: ClassVar[bool] = False
    """Whether `tg.compile` may record ``step`` into its tape: true where the update depends
    on Python numbers only through the hyperparameters (`SGD`); Adam's bias correction uses
    a step count that changes every step, so Adam runs for real on each replay. Read from
    the class's own namespace, not inherited: a subclass that changes ``step`` declares it
    again (what `jit` asks of an optimizer at its hook in `step`)."""

    def __init__(self, params: Iterable[Tensor] | Iterable[ParamGroup], defaults: ParamGroup):
        self.defaults = dict(defaults)
        self.param_groups: list[ParamGroup] = []
        self.state: dict[int, dict[str, Any]] = {}
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: ParamGroup) -> None:
        """Add a group of parameters; options it does not give come from the defaults."""
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError("a parameter group is a dict with a 'params' entry")
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        unique: list[Tensor] = []
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizers take Tensors (parameters), got {type(p).__name__}")
            if all(p is not q for q in unique):
                unique.append(p)
        if not unique:
            raise ValueError("optimizer got an empty parameter list")
        if any(p is q for p in unique for q in self.params):
            raise ValueError("some parameters appear in more than one parameter group")
        new: ParamGroup = {"params": unique}
        for name, default in self.defaults.items():
            value = group.get(name, default)
            if isinstance(default, tuple):
                value = tuple(float(v) for v in value)
            elif isinstance(default, (bool, str)):
                value = type(default)(value)
            elif isinstance(default, (int, float)):
                value = float(value)
            new[name] = value
        new.update({k: v for k, v in group.items() if k not in new})
        if new["lr"] < 0:
            raise ValueError(f"invalid learning rate {new['lr']}: it must be >= 0")
        self._check_group(new)
        self.param_groups.append(new)

    @property
    def params(self) -> list[Tensor]:
        """Every parameter, over all groups, in order (a parameter's index in ``state``)."""
        return [p for group in self.param_groups for p in group["params"]]

    @property
    def lr(self) -> float:
        """The first group's learning rate; setting it sets every group's."""
        return self.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value: float) -> None:
        for group in self.param_groups:
            group["lr"] = float(value)

    def _check_group(self, group: ParamGroup) -> None:
        """Raise ValueError for invalid hyperparameters of `group`."""

    def _state_names(self, group: ParamGroup) -> tuple[str, ...]:
        """The per-parameter state entries `_update` keeps for parameters of `group`."""
        return ()

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient: ``.grad`` becomes None (PyTorch's default),
        or zeros with ``set_to_none=False``."""
        for p in self.params:
            clear_grad(p, set_to_none)

    def step(self) -> None:
        """Update every parameter that has a gradient, once."""
        recorder = recording.active
        if recorder is None:
            self._step()
        else:  # tg.compile records here: the update itself, or "run it" (`recordable_step`)
            recorder.optimizer_step(self, self._step)

    def _step(self) -> None:
        """The update itself: what `step` runs, and what each replay of a tg.compile tape
        calls for an optimizer whose update it does not record."""
        with autograd.no_grad():
            index = 0
            for group in self.param_groups:
                for p in group["params"]:
                    if p._grad is not None:
                        grad = -p._grad if group.get("maximize") else p._grad
                        self._update(index, p, grad, group)
                    index += 1

    def _update(self, index: int, param: Tensor, grad: Any, group: ParamGroup) -> None:
        raise NotImplementedError

    # --- saving and loading --------------------------------------------------------------
    def state_dict(self) -> dict[str, StateValue]:
        """Groups' hyperparameters and per-parameter state, flat (see the module doc)."""
        out: dict[str, StateValue] = {}
        start = 0
        for g, group in enumerate(self.param_groups):
            for name in self.defaults:
                value = group[name]
                out[f"param_groups.{g}.{name}"] = (
                    np.array(value, dtype=np.float64) if isinstance(value, tuple) else value
                )
            count = len(group["params"])
            out[f"param_groups.{g}.params"] = np.arange(start, start + count, dtype=np.int64)
            start += count
        for index, state in sorted(self.state.items()):
            for key, value in state.items():
                if isinstance(value, int):
                    out[f"state.{index}.{key}"] = value
                else:
                    out[f"state.{index}.{key}"] = backend.active.to_numpy(value).copy()
        return out

    def load_state_dict(self, state_dict: dict[str, StateValue]) -> None:
        """Restore hyperparameters and state from `state_dict` (for example read from .npz).

        Every group's hyperparameters must be present, the groups must hold as many
        parameters as this optimizer's, and every state entry must belong to a parameter
        of the same shape; the error names the offending key.
        """
        name = type(self).__name__
        expected = {
            f"param_groups.{g}.{key}": (g, key)
            for g in range(len(self.param_groups))
            for key in (*self.defaults, "params")
        }
        missing = [key for key in expected if key not in state_dict]
        if missing:
            raise OptimizerStateError(
                f"cannot load the {name} state: missing key(s) {', '.join(missing)} (was it "
                "saved by another optimizer, or with other parameter groups?)"
            )
        loaded: list[ParamGroup] = []  # the saved hyperparameters, applied only when all fit
        owner: dict[int, ParamGroup] = {}  # parameter index -> its loaded group
        for g, group in enumerate(self.param_groups):
            found = len(np.asarray(state_dict[f"param_groups.{g}.params"]).reshape(-1))
            if found != len(group["params"]):
                raise OptimizerStateError(
                    f"cannot load the {name} state: parameter group {g} held {found} "
                    f"parameters, this one holds {len(group['params'])}"
                )
            values = {}
            for key, default in self.defaults.items():
                value = state_dict[f"param_groups.{g}.{key}"]
                if isinstance(default, tuple):
                    values[key] = tuple(float(v) for v in np.asarray(value))
                else:
                    values[key] = type(default)(value)
            loaded.append(values)
            for _ in range(found):
                owner[len(owner)] = values
        state: dict[int, dict[str, Any]] = {}
        params = self.params
        for key, value in state_dict.items():
            if key in expected:
                continue
            index, entry = self._parse_state_key(key, owner)
            if entry == "step":
                state.setdefault(index, {})[entry] = int(value)
                continue
            param = params[index]
            found = tuple(np.shape(value))
            if found != param.shape:
                raise OptimizerStateError(
                    f"cannot load the {name} state: {key} has shape {found} "
                    f"but parameter {index} has shape {param.shape}"
                )
            array = np.array(value, dtype=backend._dtype_name(param.dtype), copy=True)
            state.setdefault(index, {})[entry] = backend.active.asarray(array)
        for index, entries in state.items():
            absent = [n for n in self._state_names(owner[index]) if n not in entries]
            if absent:
                raise OptimizerStateError(
                    f"cannot load the {name} state: parameter {index} lacks "
                    f"{', '.join(f'state.{index}.{n}' for n in absent)}"
                )
        for group, values in zip(self.param_groups, loaded):
            group.update(values)
        self.state = state

    def _parse_state_key(self, key: str, owner: dict[int, ParamGroup]) -> tuple[int, str]:
        name = type(self).__name__
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "state" and parts[1].isdigit():
            index = int(parts[1])
            if index >= len(owner):
                raise OptimizerStateError(
                    f"cannot load the {name} state: {key} refers to parameter {index}, but "
                    f"this optimizer has {len(owner)} parameters"
                )
            if parts[2] in self._state_names(owner[index]):
                return index, parts[2]
        raise OptimizerStateError(
            f"cannot load the {name} state: unexpected key {key!r} (expected "
            f"param_groups.<g>.<{'|'.join(self.defaults)}|params> or state.<index>.<name>)"
        )

    def __repr__(self) -> str:
        """PyTorch's form: each group's options, sorted by name."""
        lines = [f"{type(self).__name__} ("]
        for g, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {g}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines) + "\n)"
