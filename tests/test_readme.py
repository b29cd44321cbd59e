"""The README's Python examples run as written (a README that lies is a bug)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_the_readme_has_python_examples():
    assert len(BLOCKS) >= 4


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_python_example_runs(code, capsys):
    from tinygrad_edu.spec import registry

    names = set(registry.layer_names())
    try:
        exec(compile(code, str(README), "exec"), {"__name__": "readme_example"})
    finally:
        for name in set(registry.layer_names()) - names:  # examples may register layers
            registry.unregister_layer(name)
    capsys.readouterr()
