"""`import tinygrad_edu` loads the engine only; the tools above it load on first use, and the
package's names stay what they were (``tg.compile`` the function, ``tg.optim`` the module)."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import tinygrad_edu as tg

LOADED = "import sys, json, tinygrad_edu; print(json.dumps(sorted(sys.modules)))"


def modules_after(code: str) -> set[str]:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.splitlines()[-1]))


def test_importing_the_package_loads_the_engine_and_not_the_tools_above_it():
    everything = modules_after(LOADED)
    assert "numpy.random" not in everything  # rng.generator is made on first use
    # graph_text runs Graphviz's dot on first drawing: its subprocess and shutil load then
    assert "subprocess" not in everything and "shutil" not in everything
    loaded = {m for m in everything if m.startswith("tinygrad_edu.")}
    assert {f"tinygrad_edu.{m}" for m in tg.ENGINE} <= loaded
    for tool in ("optim", "lr_scheduler", "jit", "io", "training", "runs", "viz", "spec",
                 "data", "export", "playground", "explain"):  # fmt: skip
        assert f"tinygrad_edu.{tool}" not in loaded, tool


def test_lazy_names_load_on_first_use_as_what_they_were():
    code = LOADED.replace("print(", "tinygrad_edu.compile; print(")
    assert "tinygrad_edu.jit" in modules_after(code)
    assert callable(tg.compile) and tg.compile.__module__ == "tinygrad_edu.jit"
    assert tg.optim.SGD and tg.nn.Linear and callable(tg.save) and callable(tg.load)
    assert callable(tg.draw) and callable(tg.draw_dot) and callable(tg.to_dot)
    assert callable(tg.summary) and hasattr(tg.runs, "load_model")
    assert {"compile", "optim", "runs"} <= set(dir(tg))


def test_importing_a_tools_module_first_does_not_replace_the_package_function():
    """The import system sets ``tinygrad_edu.<module>`` when a submodule loads: no module is
    named like a package-level function any more (``compile`` -> `jit`)."""
    code = (
        "import tinygrad_edu.training.loop, tinygrad_edu as tg, json, sys; "
        "assert callable(tg.compile) and callable(tg.summary); print(json.dumps([]))"
    )
    modules_after(code)


def runtime_imports(path: Path) -> set[str]:
    """The package modules `path` imports at run time (inside functions too, not under
    ``if TYPE_CHECKING:``), as top-level names under tinygrad_edu."""
    tree = ast.parse(path.read_text())
    typing_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and getattr(block.test, "id", "") == "TYPE_CHECKING"
        for statement in block.body
        for node in ast.walk(statement)
    }
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and id(node) not in typing_only:
            names = [node.module] if node.module else [a.name for a in node.names]
            found.update(name.split(".")[0] for name in names)
    return found


def test_the_engines_modules_import_only_the_modules_before_them():
    """The order `tinygrad_edu.ENGINE` (and the package docstring) gives is true."""
    root = Path(tg.__file__).parent
    for position, module in enumerate(tg.ENGINE):
        allowed = set(tg.ENGINE[:position])
        for imported in runtime_imports(root / f"{module}.py") - allowed:
            raise AssertionError(f"{module} imports {imported}, which is not before it")


def reading_order(text: str) -> list[str]:
    """The engine modules `text` names (``value``, ``value.py``, ``tensor_*``), in the order
    it first names them; ``tensor_*`` stands for the mixins, which come together."""
    found = re.findall(r"`(?:tinygrad_edu/)?(\w+\*?)(?:\.py)?`", text)
    modules = [m if m != "tensor_*" else "tensor_base" for m in found]
    return list(dict.fromkeys(m for m in modules if m in tg.ENGINE))


MIXINS = {m for m in tg.ENGINE if m.startswith("tensor_")} - {"tensor_base"}  # "tensor_*"


def test_the_package_docstring_lists_the_engine_in_its_true_order():
    named = reading_order(tg.__doc__)
    assert set(named) == set(tg.ENGINE) - MIXINS
    assert sorted(named, key=tg.ENGINE.index) == named


def test_the_readmes_reading_order_is_the_engines_order():
    readme = (Path(tg.__file__).parents[1] / "README.md").read_text()
    section = readme.split("## Reading the engine", 1)[1].split("\n## ", 1)[0]
    items = re.split(r"\n\d+\. ", section)[1:]
    last, seen = -1, set()
    for item in items:  # within one item any order; each item only after the ones before
        named = reading_order(item)
        assert min(tg.ENGINE.index(m) for m in named) > last, item.splitlines()[0]
        last = max(tg.ENGINE.index(m) for m in named)
        seen.update(named)
        if "gradcheck" in named:  # the engine's end; the items after it name tools
            break
    assert seen == set(tg.ENGINE) - {"errors", "extras"}
