"""Every writer goes through `checkpoint.atomic_write`, and it never replaces what is not a
regular file (issue 21, item 1): each destination kind is tried here, a regular file, a
missing one, a symlink (live and dangling), a FIFO with a reader, standard output, a
character device (as root, in a private mount namespace) and a folder."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu.errors import UserError
from tinygrad_edu.training import checkpoint, runs

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, str(ROOT / "cli.py")]
MOONS = """\
name: moons-destinations
seed: 2
model: {input: [2], layers: [linear: 4, relu, linear: 2]}
data: {source: moons, n_samples: 60, noise: 0.1}
loss: cross_entropy
optimizer: {name: adam, lr: 0.05}
train: {epochs: 1, batch_size: 32}
"""


def write(path: Path | str, data: bytes = b"new") -> None:
    with checkpoint.atomic_write(path) as handle:
        handle.write(data)


def test_a_regular_file_is_replaced_and_a_missing_one_created(tmp_path):
    old = tmp_path / "old.bin"
    old.write_bytes(b"old")
    write(old)
    write(tmp_path / "missing.bin")
    assert old.read_bytes() == (tmp_path / "missing.bin").read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["missing.bin", "old.bin"]  # no .tmp


def test_a_symlink_stays_a_link_and_its_target_gets_the_bytes(tmp_path):
    target, link = tmp_path / "target.bin", tmp_path / "link.bin"
    target.write_bytes(b"old")
    link.symlink_to(target)
    write(link)
    assert link.is_symlink() and target.read_bytes() == b"new"
    dangling = tmp_path / "dangling.bin"
    dangling.symlink_to(tmp_path / "later.bin")
    write(dangling)
    assert dangling.is_symlink() and (tmp_path / "later.bin").read_bytes() == b"new"


def read_fifo(path: Path, into: list[bytes]) -> threading.Thread:
    def reader() -> None:
        with open(path, "rb") as handle:
            into.append(handle.read())

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("writer", ["atomic_write", "atomic_path"])
def test_a_fifo_is_written_in_place_for_its_reader(tmp_path, writer):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    thread = read_fifo(fifo, received)
    if writer == "atomic_write":
        write(fifo, b"through the pipe")
    else:
        with checkpoint.atomic_path(fifo) as temporary:
            temporary.write_bytes(b"through the pipe")
    thread.join(timeout=10)
    assert received == [b"through the pipe"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)  # still a FIFO, not a regular file
    assert os.listdir(tmp_path) == ["pipe"]


def test_dash_is_standard_output(capfd):
    with checkpoint.atomic_write("-", "w") as handle:
        handle.write("a,b\n")
    write("-", b"raw\n")
    assert capfd.readouterr().out == "a,b\nraw\n"


def test_a_folder_is_refused_before_any_work(tmp_path):
    with pytest.raises(UserError, match="that is a folder: give a file name"):
        checkpoint.check_writable_file(tmp_path)
    with pytest.raises(UserError, match="does not exist"):
        checkpoint.check_writable_file(tmp_path / "no" / "file.csv")
    checkpoint.check_writable_file("-")  # standard output is always writable


def _can_make_devices() -> str:
    """Why the character-device test cannot run here, or '' when it can."""
    if os.geteuid() != 0:
        return "making a character device needs root (mknod in a private mount namespace)"
    if shutil.which("unshare") is None:
        return "unshare (util-linux) is not installed"
    return ""


@pytest.mark.skipif(bool(_can_make_devices()), reason=_can_make_devices() or "runs")
def test_a_character_device_is_never_replaced(tmp_path):
    """As root, /dev/null would become a regular file: a null device is made on a private
    tmpfs (only this test's namespace sees it) and every write kind is aimed at it."""
    mount = tmp_path / "mnt"
    mount.mkdir()
    script = textwrap.dedent(
        f"""
        import os, stat, sys
        sys.path.insert(0, {str(ROOT)!r})
        from tinygrad_edu.training import checkpoint
        device = {str(mount / "null")!r}
        with checkpoint.atomic_write(device) as handle:
            handle.write(b"x" * 1000)
        checkpoint.write_text_atomic(device, "text")
        with checkpoint.atomic_path(device) as temporary:
            temporary.write_bytes(b"picture")
        checkpoint.save_npz(device, {{"a": [1, 2]}})
        mode = os.stat(device).st_mode
        print("char" if stat.S_ISCHR(mode) else "replaced", sorted(os.listdir({str(mount)!r})))
        """
    )
    shell = f'mount -t tmpfs none {mount} && mknod {mount}/null c 1 3 && {sys.executable} -c "$0"'
    result = subprocess.run(
        ["unshare", "--mount", "sh", "-c", shell, script],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["char", "['null']"]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("finished")
    (folder / "spec.yaml").write_text(MOONS)
    runs.train(folder / "spec.yaml", {}, out=folder / "run", quiet=True)
    return folder / "run"


def test_predict_writes_to_stdout_and_into_a_fifo(tmp_path, finished_run):
    points = tmp_path / "points.npz"
    np.savez(points, X=np.array([[0.0, 1.0], [1.0, -0.5]]))
    result = subprocess.run(
        [*CLI, "predict", str(finished_run), "--input", str(points), "--output", "-"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "prediction,p_0,p_1"
    assert len(result.stdout.splitlines()) == 3
    assert "wrote 2 predictions to standard output" in result.stderr

    fifo = tmp_path / "predictions"
    os.mkfifo(fifo)
    received: list[bytes] = []
    thread = read_fifo(fifo, received)
    assert runs.predict(finished_run, points, fifo) == 2
    thread.join(timeout=10)
    assert received[0].decode().splitlines() == result.stdout.splitlines()  # CRLF lines, RFC 4180
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


# --- export's destinations (issue 21, items 2 and 9) ------------------------------------------


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_torch_export_never_overwrites_files_it_did_not_write(tmp_path, finished_run):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "model.py").write_text("# my own model\n")
    (folder / "notes.txt").write_text("mine\n")
    refused = cli("export", str(finished_run), "--format", "torch", "--out", str(folder))
    assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
    assert "holds files this export did not write (model.py, notes.txt)" in refused.stderr
    assert "--force" in refused.stderr
    assert snapshot(folder) == {"model.py": b"# my own model\n", "notes.txt": b"mine\n"}
    assert os.listdir(tmp_path) == ["project"]  # no temporary folder left beside it

    forced = cli("export", str(finished_run), "--format", "torch", "--out", str(folder), "--force")
    assert forced.returncode == 0, forced.stderr
    assert (folder / "notes.txt").read_text() == "mine\n"  # other files are left alone
    assert "nn.Sequential" in (folder / "model.py").read_text()


def test_torch_export_replaces_its_own_files_and_gives_the_same_bytes(tmp_path, finished_run):
    folder = tmp_path / "torch"
    assert (
        cli("export", str(finished_run), "--format", "torch", "--out", str(folder)).returncode == 0
    )
    first = snapshot(folder)
    assert {"model.py", "weights.safetensors", "data.npz", "train_torch.py"} <= set(first)
    (folder / "__pycache__").mkdir()  # what running model.py leaves: allowed
    again = cli("export", str(finished_run), "--format", "torch", "--out", str(folder))
    assert again.returncode == 0, again.stderr
    assert snapshot(folder) == first  # byte for byte (item 9)

    (folder / "model.py").write_text((folder / "model.py").read_text() + "# my edit\n")
    edited = cli("export", str(finished_run), "--format", "torch", "--out", str(folder))
    assert edited.returncode == 2 and "(model.py)" in edited.stderr, edited.stderr
    assert (folder / "model.py").read_text().endswith("# my edit\n")


def test_torch_export_into_a_file_is_refused(tmp_path, finished_run):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = cli("export", str(finished_run), "--format", "torch", "--out", str(blocker))
    assert result.returncode == 2 and "it is a file" in result.stderr, result.stderr
    assert blocker.read_text() == "x"


@pytest.mark.parametrize("fmt", ["safetensors", "onnx"])
def test_single_file_exports_give_the_same_bytes_each_time(tmp_path, finished_run, fmt):
    if fmt == "onnx":
        pytest.importorskip("onnx", reason="the onnx library is the export extra")
    digests = set()
    for name in ("a", "b"):
        out = tmp_path / f"{name}.{fmt}"
        assert cli("export", str(finished_run), "--format", fmt, "--out", str(out)).returncode == 0
        digests.add(out.read_bytes())
    assert len(digests) == 1


def test_a_refused_torch_export_leaves_no_folder(tmp_path):
    from tinygrad_edu import nn
    from tinygrad_edu.export import to_torch
    from tinygrad_edu.spec import parse_spec, registry

    class Halved(nn.Module):
        def forward(self, x):
            return x * 0.5

    registry.register_layer("halved_destinations")(Halved)
    try:
        spec = parse_spec(MOONS.replace("relu", "halved_destinations"))
        with pytest.raises(UserError, match="cannot write PyTorch code for layer 1"):
            to_torch(spec, tmp_path / "new" / "torch")
    finally:  # the other tests see only the built-in layer types
        registry.unregister_layer("halved_destinations")
    assert not (tmp_path / "new" / "torch").exists()
    assert [p.name for p in tmp_path.rglob("*") if p.name.endswith(".tmp")] == []


# the export is paused right after its first temporary file is flushed, for the test's SIGTERM
PAUSED_EXPORT = """\
import os, sys, time
flush = os.fsync
def paused(fd):
    flush(fd)
    print("paused", flush=True)
    time.sleep(60)
os.fsync = paused
sys.path.insert(0, sys.argv.pop(1))
from tinygrad_edu.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("fmt", ["safetensors", "torch"])
def test_sigterm_mid_export_leaves_nothing_behind(tmp_path, finished_run, fmt):
    out = tmp_path / "out" / ("model.safetensors" if fmt == "safetensors" else "torch")
    process = subprocess.Popen(
        [sys.executable, "-c", PAUSED_EXPORT, str(ROOT), "export", str(finished_run)]
        + ["--format", fmt, "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().strip() == "paused"
        assert [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]  # mid-write
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 143
    finally:
        process.kill()
        process.communicate()
    assert list(tmp_path.iterdir()) == []  # not even the folder export made for --out


def test_a_refused_export_takes_back_the_folders_it_made_for_out(tmp_path):
    """A torch export of a layer PyTorch lacks, into ``--out kept/new/deeper/torch``: the
    refusal removes new/ and deeper/, and keeps kept/, which existed before."""
    from tinygrad_edu import nn
    from tinygrad_edu.export import export_run
    from tinygrad_edu.spec import registry

    class Halved(nn.Module):
        def forward(self, x):
            return x * 0.5

    (tmp_path / "kept").mkdir()
    spec = tmp_path / "spec.yaml"
    spec.write_text(MOONS.replace("relu", "halved_nested"))
    registry.register_layer("halved_nested")(Halved)
    try:
        with pytest.raises(UserError, match="cannot write PyTorch code for layer 1"):
            export_run(spec, "torch", tmp_path / "kept" / "new" / "deeper" / "torch")
    finally:
        registry.unregister_layer("halved_nested")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["kept", "spec.yaml"]


# the export extra is missing: importing onnx fails as it does where it is not installed
WITHOUT_ONNX = """\
import sys
sys.modules["onnx"] = None
sys.path.insert(0, sys.argv.pop(1))
from tinygrad_edu.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_an_onnx_export_without_the_extra_leaves_no_folder(tmp_path, finished_run):
    out = tmp_path / "a" / "b" / "model.onnx"
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_ONNX, str(ROOT), "export", str(finished_run)]
        + ["--format", "onnx", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "needs onnx" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def start_paused_export(run: Path, fmt: str, out: Path) -> subprocess.Popen:
    """An export in a child process, paused right after its first temporary file is flushed."""
    process = subprocess.Popen(
        [sys.executable, "-c", PAUSED_EXPORT, str(ROOT), "export", str(run)]
        + ["--format", fmt, "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "paused", process.stderr.read()
    return process


def stages(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_a_killed_torch_exports_stage_is_removed_by_the_next_but_a_living_ones_is_not(
    tmp_path, finished_run
):
    """SIGKILL runs no ``finally``: the staging folder stays, and the next export into the
    same place removes it, never one whose export still runs, nor one it did not make."""
    out = tmp_path / "torch"
    alien = tmp_path / ".torch.abcd1234.tmp"  # named like a stage, but the user's own
    alien.mkdir()
    (alien / "notes.txt").write_text("mine\n")
    living = start_paused_export(finished_run, "torch", out)
    try:
        ours = [name for name in stages(tmp_path) if name != alien.name]
        assert len(ours) == 1 and (tmp_path / ours[0] / ".lock").is_file()
        beside = cli("export", str(finished_run), "--format", "torch", "--out", str(out))
        assert beside.returncode == 0, beside.stderr
        assert stages(tmp_path) == sorted([alien.name, *ours])  # the living export's stays
    finally:
        living.kill()  # SIGKILL, mid-write
        living.communicate()
    assert living.returncode == -signal.SIGKILL
    expected = snapshot(out)
    again = cli("export", str(finished_run), "--format", "torch", "--out", str(out))
    assert again.returncode == 0, again.stderr
    assert stages(tmp_path) == [alien.name]  # the killed export's stage is gone
    assert (alien / "notes.txt").read_text() == "mine\n"
    assert snapshot(out) == expected  # and the result is the export, whole


@pytest.mark.parametrize("fmt", ["safetensors", "onnx"])
def test_a_killed_one_file_export_leaves_a_stage_the_next_export_removes(
    tmp_path, finished_run, fmt
):
    if fmt == "onnx":
        pytest.importorskip("onnx", reason="the onnx library is the export extra")
    out = tmp_path / f"model.{fmt}"
    killed = start_paused_export(finished_run, fmt, out)
    killed.kill()
    killed.communicate()
    assert len(stages(tmp_path)) == 1 and not out.exists()  # what SIGKILL leaves
    again = cli("export", str(finished_run), "--format", fmt, "--out", str(out))
    assert again.returncode == 0, again.stderr
    assert stages(tmp_path) == []
    fresh = tmp_path / f"fresh.{fmt}"
    assert cli("export", str(finished_run), "--format", fmt, "--out", str(fresh)).returncode == 0
    assert out.read_bytes() == fresh.read_bytes()


def test_safetensors_export_to_stdout_is_the_file_alone(tmp_path, finished_run):
    """``export --out -`` pipes the file: its note goes to stderr, not into the bytes."""
    result = subprocess.run(
        [*CLI, "export", str(finished_run), "--format", "safetensors", "--out", "-"],
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    cli("export", str(finished_run), "--format", "safetensors", "--out", str(tmp_path / "f.st"))
    assert result.stdout == (tmp_path / "f.st").read_bytes()
    assert b"standard output" in result.stderr
