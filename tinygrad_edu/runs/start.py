"""Starting a run: ``train`` a spec in a new run folder, or continue one with ``--resume``.

A run folder (`training.layout`) holds everything needed to continue or use a run without
the original spec file. Starting and resuming check everything first and write only then,
so a refused command leaves the folder as it was, and a start that fails leaves no folder
at all. While a run trains, its folder is locked (`lock`) and its record (`record`) says
so. Using a finished run (load, evaluate, predict) is `finished`.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from ..errors import UserError
from ..io.atomic import remove_stale_temp_files, write_text_atomic
from ..objectives import evaluate_arrays
from ..spec import Spec, apply_overrides, compose, load_spec, spec_to_dict
from ..training.layout import CHECKPOINT, LOCK, RUN_FILES, SPEC, TENSORBOARD, new_run_dir
from ..training.loop import Setup, Trainer, TrainingDiverged, TrainingInterrupted, prepare
from ..training.progress import choose_reporter
from ..training.progress import format_metric as f
from ..training.scalar import describe
from ..training.tensorboard import Reporters, TensorBoardReporter, check_available, check_folder
from .init_from import load_initial_weights
from .lock import RunLock, check_new_folder, claim_new_folder
from .record import RunRecord


def _load(spec_path: str | Path | Spec, overrides: Mapping[str, Any]) -> Any:
    spec = spec_path if isinstance(spec_path, Spec) else load_spec(spec_path)
    return apply_overrides(spec, overrides) if overrides else spec


def run_spec_yaml(spec: Any, references: bool = False) -> str:
    """The resolved spec as YAML, with data paths made absolute so the run folder works
    from anywhere. ``references=True`` writes its ``${path}`` references back in place of
    the values they resolved to (a sweep's spec: each run resolves them for its own point)."""
    import yaml

    data = spec_to_dict(spec)
    if references:
        compose.restore_references(data, list(spec._references))
    if "path" in data.get("data", {}):
        data["data"]["path"] = str(Path(data["data"]["path"]).resolve())
    header = "# The resolved spec of this run: every default written out.\n"
    return header + yaml.safe_dump(data, sort_keys=False)


def resolved_spec(spec_path: str | Path, overrides: Mapping[str, Any]) -> str:
    """The spec.yaml that ``train`` would write for this spec and overrides: bases merged,
    overrides applied, references resolved, every default written out."""
    return run_spec_yaml(_load(spec_path, overrides))


def train(
    spec_path: str | Path | Spec | None,
    overrides: Mapping[str, Any],
    out: str | Path | None = None,
    resume: str | Path | None = None,
    quiet: bool = False,
    as_json: bool = False,
    stream: IO[str] | None = None,
    on_step: Any = None,
    sweep: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Train a spec in a new run folder, or continue the run in `resume`.

    `spec_path` is a spec file or an already validated `Spec` (a sweep's variants).
    Every check (spec, overrides, backend, data, shapes, and for a resume the checkpoint)
    passes before anything is written: a new folder is only created then, and a resumed
    run's folder is left exactly as it was when a check fails. The folder is locked for
    the run's life (see `lock`).

    `sweep` (the sweep's folder, the run's point by full key path, and its seed) is
    written into the run's record for a run of a sweep.

    Returns the final metrics (last epoch's row plus the test split's metrics).
    """

    stream = stream or (sys.stderr if as_json else sys.stdout)
    if resume is not None:
        return _resume(
            Path(resume), spec_path, overrides, out, quiet, as_json, stream, on_step, sweep
        )
    if spec_path is None:
        raise UserError("train needs a spec file, e.g. python cli.py train specs/mlp.yaml")
    spec = _load(spec_path, overrides)
    target = Path(out) if out else new_run_dir(spec.name)
    check_new_folder(target)  # before the data is loaded: refusals come first
    setup = prepare(spec)
    load_initial_weights(setup.model, spec)  # init.from: checked before the folder exists
    if getattr(setup.model, "engine", "tensor") == "value" and not quiet:
        print(describe(setup), file=stream)
    fresh = None if out else (lambda: new_run_dir(spec.name))
    with claim_new_folder(target, fresh) as run_dir:
        trainer = Trainer(setup, run_dir, _reporter(spec, quiet, stream), on_step=on_step)
        with _no_trace_without_a_checkpoint(run_dir):
            write_text_atomic(run_dir / SPEC, run_spec_yaml(spec))
            history = _fit_recorded(trainer, spec, resumed=False, sweep=sweep)
    return _finish(setup, history, run_dir, quiet, as_json, stream)


def _resume(
    run_dir: Path,
    spec_path: Any,
    overrides: Mapping[str, Any],
    out: Any,
    quiet: bool,
    as_json: bool,
    stream: IO[str],
    on_step: Any,
    sweep: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Continue the run in `run_dir`; nothing in it changes until every check has passed."""
    if spec_path is not None:
        raise UserError(
            f"--resume continues {run_dir} with its own spec ({run_dir / SPEC}), so the spec "
            f"file {spec_path} would be ignored: drop it from the command, or drop --resume to "
            "start a new run of it"
        )
    if out is not None:
        raise UserError(
            f"--resume continues the run in its own folder {run_dir}; --out {out} would be "
            "ignored: drop --out (to train a new run, drop --resume)"
        )
    if not (run_dir / CHECKPOINT).is_file():
        raise UserError(
            f"cannot resume {run_dir}: it holds no {CHECKPOINT}; give the folder of a run "
            "that was started with 'train' (runs/<name>/<timestamp>)"
        )
    with RunLock(run_dir):
        recorded = load_spec(run_dir / SPEC)
        spec = _load(recorded, overrides)
        _check_resume_overrides(run_dir, recorded, spec)
        setup = prepare(spec)
        trainer = Trainer(setup, run_dir, _reporter(spec, quiet, stream), on_step=on_step)
        trainer.load_checkpoint(run_dir / CHECKPOINT)
        _check_resume_point(run_dir, recorded, spec, trainer.progress)
        if spec.train.tensorboard:
            check_folder(run_dir)
        _apply_optimizer_overrides(run_dir, recorded, spec, setup)
        # every check passed: from here on the run folder may change
        remove_stale_temp_files(run_dir)
        write_text_atomic(run_dir / SPEC, run_spec_yaml(spec))
        history = _fit_recorded(trainer, spec, resumed=True, sweep=sweep)
    return _finish(setup, history, run_dir, quiet, as_json, stream)


def _check_resume_overrides(run_dir: Path, recorded: Any, spec: Any) -> None:
    """Refuse overrides that would make the resumed run something else: the seed and the
    data section decide the split, so changing them would mix test samples into training."""
    before, after = spec_to_dict(recorded), spec_to_dict(spec)
    changed = [key for key in ("seed", "data") if before.get(key) != after.get(key)]
    if changed:
        raise UserError(
            f"cannot resume {run_dir} with a different {' and '.join(changed)}: they decide "
            "the train/test split, so the test set would overlap the samples already trained "
            "on; resume without changing them, or start a new run with train SPEC"
        )


def _apply_optimizer_overrides(run_dir: Path, recorded: Any, spec: Any, setup: Setup) -> None:
    """Loading the checkpoint restored the optimizer's hyperparameters with its state (as
    PyTorch's ``load_state_dict``); the resumed spec's changes to them (``--lr``) are put
    back into every group, so the run trains as its spec.yaml says. A different optimizer,
    or a new learning rate under a schedule (whose state sets the rate), is refused."""
    before = recorded.optimizer.model_dump()
    after = spec.optimizer.model_dump()
    changed = {k: v for k, v in after.items() if before.get(k) != v}
    if not changed:
        return
    if "name" in changed:
        raise UserError(
            f"cannot resume {run_dir} with optimizer {after['name']}: its state belongs to "
            f"{before['name']}; resume with {before['name']}, or start a new run"
        )
    if "lr" in changed and setup.scheduler is not None:
        raise UserError(
            f"cannot change the learning rate of {run_dir} on resume: its schedule "
            f"({spec.scheduler.name}) sets the rate from its own state; resume without --lr"
        )
    for group in setup.optimizer.param_groups:
        group.update({k: v for k, v in changed.items() if k in group})


def _check_resume_point(run_dir: Path, recorded: Any, spec: Any, progress: Any) -> None:
    """Refuse a resume that has nothing to do, or a batch size changed inside an epoch."""
    done, epochs = progress.epoch, spec.train.epochs
    if done >= epochs:
        raise UserError(
            f"{run_dir} is finished: it has trained {done} epochs (train.epochs is {epochs}). "
            f"To train it longer, resume with a larger --epochs: python cli.py train --resume "
            f"{run_dir} --epochs {done + 10} (any number above {done})"
        )
    old, new = recorded.train.batch_size, spec.train.batch_size
    if progress.step > 0 and new != old:
        raise UserError(
            f"cannot change the batch size from {old} to {new} in the middle of an epoch: "
            f"{run_dir} stopped at epoch {done + 1}, step {progress.step}, and the rest of that "
            f"epoch's shuffled order is in batches of {old}; resume without --batch-size"
        )


@contextmanager
def _no_trace_without_a_checkpoint(run_dir: Path) -> Iterator[None]:
    """If the run fails before its first checkpoint, remove the spec.yaml and run.json it
    wrote, so the folder is empty again and `claim_new_folder` removes it: no empty run
    folder."""
    try:
        yield
    except BaseException:
        if not (run_dir / CHECKPOINT).exists():
            _remove_run_files(run_dir)
        raise


def _remove_run_files(run_dir: Path) -> None:
    """Delete what a run writes before its first checkpoint (and killed writes' leftovers)."""
    for name in RUN_FILES:
        (run_dir / name).unlink(missing_ok=True)
    if (run_dir / TENSORBOARD).is_dir():
        shutil.rmtree(run_dir / TENSORBOARD)
    remove_stale_temp_files(run_dir)


def restart_unstarted(run_dir: Path) -> None:
    """Empty the folder of a run that was killed (SIGKILL, power loss) before its first
    checkpoint, so that it can start again from scratch: there is nothing to resume, and
    what it wrote (its spec.yaml, record, the first rows of metrics) is rewritten by the
    new start. Only the run's own files go; a folder holding anything else is refused."""
    own = {*RUN_FILES, TENSORBOARD, LOCK}
    with RunLock(run_dir):  # a living owner is refused by the lock itself
        remove_stale_temp_files(run_dir)  # the killed writes' leftovers: never anyone's data
        others = sorted(p.name for p in run_dir.iterdir() if p.name not in own)
        if others:
            raise UserError(
                f"{run_dir} holds no checkpoint (its run stopped before the first epoch ended) "
                f"but also files a run does not write ({', '.join(others[:5])}); move them "
                "elsewhere and resume the sweep again, so that its run can start there anew"
            )
        _remove_run_files(run_dir)


def _finish(
    setup: Setup, history: list[dict], run_dir: Path, quiet: bool, as_json: bool, stream: IO[str]
) -> dict[str, Any]:
    """The final metrics: the last epoch's row and the test split's metrics."""
    ds = setup.dataset
    final: dict[str, Any] = dict(history[-1]) if history else {}
    if history:  # the last epoch's time, and the whole training's (all epochs, all sessions)
        final["epoch_seconds"] = final.pop("seconds")
        final["seconds"] = round(sum(row["seconds"] for row in history), 3)
    if len(ds.X_test):
        test = evaluate_arrays(setup.model, setup.objective, ds.X_test, ds.y_test)
        final.update({f"test_{k}": v for k, v in test.items()})
    final["run_dir"] = str(run_dir)
    if not quiet and not as_json:
        print(_final_line(final), file=stream)
    return final


def _reporter(spec: Any, quiet: bool, stream: IO[str]) -> Any:
    """What the run shows (see `progress`), and TensorBoard files when the spec asks."""
    reporter = choose_reporter(quiet, stream)
    if spec.train.tensorboard:
        check_available()
        reporter = Reporters(reporter, TensorBoardReporter(run_spec_yaml(spec)))
    return reporter


def _fit_recorded(
    trainer: Trainer, spec: Any, resumed: bool, sweep: Mapping[str, Any] | None = None
) -> list[dict]:
    """`trainer.fit()`, with how it ended written into the run's record (run.json)."""
    record = RunRecord(trainer.run_dir)
    record.start(spec, resumed=resumed, sweep=sweep)
    try:
        history = trainer.fit()
    except TrainingInterrupted as stop:
        record.finish("interrupted", stop.exit_code, str(stop))
        raise
    except TrainingDiverged as error:
        record.finish("diverged", 2, str(error))
        raise
    except BaseException as error:
        record.finish("failed", 2 if isinstance(error, UserError) else 1, str(error))
        raise
    record.finish("finished", 0)
    return history


def _final_line(final: Mapping[str, Any]) -> str:

    if "test_accuracy" in final:
        result = f"test accuracy {f(final['test_accuracy'])} (loss {f(final['test_loss'])})"
    elif "test_loss" in final:
        result = (
            f"test loss {f(final['test_loss'])}, MAE {f(final['test_mae'])}, "
            f"R^2 {f(final['test_r2'])}"
        )
    else:
        result = "done"
    return f"{result}; run folder: {final['run_dir']}"


def print_json(data: Mapping[str, Any]) -> None:
    print(json.dumps(data, indent=2, default=float))
