""".ci/run installs the two programs some tests exercise, Graphviz's dot and chromium, where
they are missing, so that CI runs those tests instead of skipping them (issue 20)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BASH = shutil.which("bash")
pytestmark = pytest.mark.skipif(BASH is None, reason=".ci/run is a bash script; no bash here")


def install_block() -> str:
    """The part of .ci/run that installs the programs: from ``missing=()`` to its ``fi``."""
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    start = lines.index("missing=()")
    end = lines.index("fi", start)
    return "\n".join(lines[start : end + 1])


def run_block(bin_dir: Path, programs: list[str]) -> list[str]:
    """Run the install block with only `programs` (stand-ins) and a fake apt-get on the PATH;
    returns the apt-get calls it made."""
    bin_dir.mkdir()
    calls = bin_dir / "calls.txt"
    for name in programs:
        (bin_dir / name).write_text("#!/bin/sh\n")
        (bin_dir / name).chmod(0o755)
    apt = bin_dir / "apt-get"
    apt.write_text(f'#!/bin/sh\necho "$*" >> "{calls}"\n')
    apt.chmod(0o755)
    result = subprocess.run(
        [BASH, "-c", install_block()],
        env={"PATH": str(bin_dir)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return calls.read_text().splitlines() if calls.exists() else []


def test_ci_installs_graphviz_and_chromium_in_one_apt_get_when_both_are_missing(tmp_path):
    assert run_block(tmp_path / "bin", []) == ["update", "install -y chromium graphviz"]


def test_ci_installs_only_what_is_missing(tmp_path):
    assert run_block(tmp_path / "a", ["chromium"]) == ["update", "install -y graphviz"]
    assert run_block(tmp_path / "b", ["dot"]) == ["update", "install -y chromium"]
    assert run_block(tmp_path / "c", ["dot", "chromium"]) == []  # nothing to install
