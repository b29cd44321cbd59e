"""The optimizer and the learning-rate schedule a spec names, built from its sections.

`loop.prepare` builds a run's optimizer and schedule from the spec's ``optimizer:`` and
``scheduler:``; the divergence probe (`divergence`) builds fresh optimizers of the same kind
at other learning rates. Both need only this module, not each other.
"""

from __future__ import annotations

from typing import Any

from .. import optim


def make_optimizer(config: Any, params: Any) -> Any:
    """The optimizer a spec's ``optimizer:`` section names, with its options."""
    options = config.model_dump(exclude_none=True)
    name = options.pop("name")
    classes = {"sgd": optim.SGD, "adam": optim.Adam, "adamw": optim.AdamW}
    classes.update({"rmsprop": optim.RMSprop, "adagrad": optim.Adagrad})
    if "betas" in options:
        options["betas"] = tuple(options["betas"])
    return classes[name](params, **options)


def make_scheduler(config: Any, optimizer: Any, epochs: int) -> Any:
    """The schedule of a spec's ``scheduler:`` section (stepped once per epoch), or None."""
    if config is None:
        return None
    options = config.model_dump(exclude_none=True)
    name = options.pop("name")
    if name == "step":
        return optim.StepLR(optimizer, **options)
    schedules = optim.lr_scheduler
    if name == "one_cycle":
        options.setdefault("total_steps", epochs)
    others = {
        "linear": schedules.LinearLR,
        "exponential": schedules.ExponentialLR,
        "one_cycle": schedules.OneCycleLR,
        "reduce_on_plateau": schedules.ReduceLROnPlateau,
    }
    if name in others:
        return others[name](optimizer, **options)
    options.setdefault("t_max", epochs)
    return optim.CosineAnnealingLR(
        optimizer, T_max=options.pop("t_max"), eta_min=options.pop("eta_min", 0.0)
    )
