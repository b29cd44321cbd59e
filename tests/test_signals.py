"""Ctrl-C at any moment of a command is exit code 130 and a line or two, never a traceback
(issue 21): right after the start, while the package is imported, while the arguments are
parsed and the command starts, during a training and during a sweep, each moment found by
watching the process, not by guessing a time. What a stopped command wrote is kept only if
it can be resumed: a run folder holds a checkpoint, or does not exist.

Python's own start-up (before cli.py runs, while ``site`` reads the installed packages) is
the interpreter's, not ours: a signal then ends the process as SIGINT's default does (the
shell shows 130) or, inside ``site``, with Python's own traceback. Only the very start is
sent a signal here, where the process has not reached ``site`` yet.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, str(ROOT / "cli.py")]
INTERRUPTED = -signal.SIGINT  # killed by SIGINT before Python handles it: the shell shows 130

SPEC = """\
name: moons-signals
seed: 0
model:
  input: [2]
  layers: [linear: 8, relu, linear: 2]
data: {{source: moons, n_samples: {n}, noise: 0.1}}
loss: cross_entropy
optimizer: {{name: adam, lr: 0.05}}
train: {{epochs: {epochs}, batch_size: 32}}
"""

needs_proc = pytest.mark.skipif(
    not Path(f"/proc/{os.getpid()}/maps").exists(),
    reason="the moment 'during the imports' is found in /proc/PID/maps (Linux)",
)


def write_spec(folder: Path, n: int = 4000, epochs: int = 200) -> Path:
    path = folder / "spec.yaml"
    path.write_text(SPEC.format(n=n, epochs=epochs))
    return path


def start(*args: object) -> subprocess.Popen:
    return subprocess.Popen(
        [*CLI, *map(str, args)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until(condition, process: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the moment never came"
        time.sleep(0.002)


def numpy_loaded(process: subprocess.Popen) -> bool:
    """Whether the process has mapped NumPy's C extension: it is importing the package."""
    try:
        return "numpy" in Path(f"/proc/{process.pid}/maps").read_text()
    except OSError:
        return False


def interrupt(process: subprocess.Popen) -> tuple[int, str]:
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    return process.returncode, err


# what Python prints when a signal cuts its own start-up, before cli.py runs
PYTHON_START_UP = ("<frozen site>", "Fatal Python error", "Failed checking if argv[0]")


def test_ctrl_c_right_after_the_start(tmp_path):
    """Sent before Python has started: the default action of SIGINT, no traceback. On a
    busy machine the signal may come later, inside Python's own start-up: that try is
    not ours to judge and is made again (at most 5 times)."""
    spec = write_spec(tmp_path)
    judged = 0
    for _ in range(5):
        code, err = interrupt(start("train", spec, "--out", tmp_path / "run"))
        if any(marker in err for marker in PYTHON_START_UP):
            continue
        assert "Traceback" not in err, err
        assert code in (INTERRUPTED, 130), err
        assert not (tmp_path / "run").exists()
        judged += 1
        if judged == 2:
            return
    pytest.fail(f"only {judged} of 5 signals came before or after Python's start-up")


@needs_proc
@pytest.mark.parametrize("command", ["validate", "train", "summary", "sweep"])
def test_ctrl_c_while_the_package_is_imported(tmp_path, command):
    spec = write_spec(tmp_path)
    extra = {
        "train": ["--out", tmp_path / "run"],
        "sweep": ["--path", "seed", "--values", "1", "2", "--out", tmp_path / "run"],
    }
    process = start(command, spec, *extra.get(command, []))
    wait_until(lambda: numpy_loaded(process), process)
    code, err = interrupt(process)
    assert (code, err) == (130, "interrupted\n")
    assert not (tmp_path / "run").exists()


# pip's console-script template (distlib's), for the entry point pyproject.toml declares
CONSOLE_SCRIPT = """\
import re
import sys
from {module} import {function}
if __name__ == "__main__":
    sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])
    sys.exit({function}())
"""

# imported by `site` at start-up: holds the package's first submodule import for a moment,
# after writing MARKER, so that the signal is known to come while the package is imported
SLOW_PACKAGE_IMPORT = """\
import sys
import time
from pathlib import Path


class SlowPackageImport:
    seen = False

    def find_spec(self, name, path=None, target=None):
        if name.startswith("tinygrad_edu.") and not self.seen:
            self.seen = True
            Path({marker!r}).touch()
            time.sleep(2.0)
        return None


sys.meta_path.insert(0, SlowPackageImport())
"""


def console_script(folder: Path) -> Path:
    """The ``tinygrad-edu`` script pip would write for this checkout's pyproject.toml."""
    declared = re.search(
        r'^tinygrad-edu = "([\w.]+):(\w+)"$', (ROOT / "pyproject.toml").read_text(), re.M
    )
    assert declared, "pyproject.toml declares no tinygrad-edu script"
    script = folder / "tinygrad-edu"
    script.write_text(CONSOLE_SCRIPT.format(module=declared[1], function=declared[2]))
    return script


@pytest.mark.parametrize(
    "entry",
    [
        "console script",
        "cli.py",
        "python -m tinygrad_edu",
    ],
)
def test_ctrl_c_during_the_package_import_of_every_entry_point(tmp_path, entry):
    """Issue 21: the installed ``tinygrad-edu`` script imported the package before it could
    handle a Ctrl-C, and printed a traceback. The signal is sent while a start-up hook holds
    the package's import (`SLOW_PACKAGE_IMPORT`), a moment found by its marker file."""
    marker = tmp_path / "importing"
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(SLOW_PACKAGE_IMPORT.format(marker=str(marker)))
    commands = {
        "console script": [sys.executable, str(console_script(tmp_path))],
        "cli.py": CLI,
        "python -m tinygrad_edu": [sys.executable, "-m", "tinygrad_edu"],
    }
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(hooks), str(ROOT)])}
    process = subprocess.Popen(
        [*commands[entry], "validate", str(write_spec(tmp_path))],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_until(marker.exists, process)
    code, err = interrupt(process)
    assert (code, err) == (130, "interrupted\n")


@needs_proc
@pytest.mark.parametrize("delay", [0.02, 0.05, 0.1, 0.2, 0.4, 0.8])
def test_ctrl_c_while_a_training_parses_and_starts(tmp_path, delay):
    """The moments after the imports: parsing, reading the spec, the data, the first steps."""
    out = tmp_path / "run"
    process = start("train", write_spec(tmp_path), "--out", out)
    wait_until(lambda: numpy_loaded(process), process)
    time.sleep(delay)
    code, err = interrupt(process)
    assert code == 130 and "Traceback" not in err, err
    assert err == "interrupted\n" or err.startswith("interrupted (SIGINT) at epoch"), err
    assert not out.exists() or (out / "checkpoint.npz").is_file()  # nothing half-made


def test_ctrl_c_during_training_saves_a_checkpoint_and_says_how_to_resume(tmp_path):
    out = tmp_path / "run"
    process = start("train", write_spec(tmp_path), "--out", out)
    wait_until(lambda: (out / "metrics.csv").exists(), process)
    code, err = interrupt(process)
    assert code == 130 and "Traceback" not in err, err
    assert err.startswith("interrupted (SIGINT) at epoch") and f"train --resume {out}" in err
    assert (out / "checkpoint.npz").is_file() and not (out / ".lock").exists()


@needs_proc
@pytest.mark.parametrize("moment", ["starting", "first run", "second run"])
def test_ctrl_c_during_a_sweep_leaves_a_sweep_that_resumes(tmp_path, moment):
    out = tmp_path / "sweep"
    spec = write_spec(tmp_path, n=2000, epochs=3)
    process = start("sweep", spec, "--path", "seed", "--values", "1", "2", "--out", out,
                    "--no-plots", "--quiet")  # fmt: skip
    if moment == "starting":
        wait_until(lambda: numpy_loaded(process), process)
        time.sleep(0.3)
    else:
        run = out / ("seed=1" if moment == "first run" else "seed=2")
        wait_until(lambda: (run / "metrics.csv").exists(), process)
    code, err = interrupt(process)
    assert code == 130 and "Traceback" not in err, err
    if not (out / "sweep.yaml").exists():
        assert not out.exists(), sorted(out.rglob("*"))  # stopped before the sweep began
        return
    assert f"sweep --resume {out}" in err, err
    resumed = subprocess.run(
        [*CLI, "sweep", "--resume", str(out), "--no-plots", "--quiet"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert (out / "seed=1" / "model.npz").is_file() and (out / "seed=2" / "model.npz").is_file()
