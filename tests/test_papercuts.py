"""The small things a new user meets in the first hour (issue 15): each one as it is met,
through the command line: a graph file whose extension picks its format, the docs'
error example, grouped skip reasons, switching the optimizer with --set, a quiet sweep,
evaluating a sweep, layers from --import and from installed packages, and the shipped
example specs named from any folder."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import docs_pages
import pytest

from tinygrad_edu import cli
from tinygrad_edu.spec import SpecError, apply_overrides, load_spec, parse_spec, plugins, registry
from tinygrad_edu.training.sweep import read_sweep_csv
from tinygrad_edu.viz import graphs

ROOT = Path(__file__).resolve().parents[1]

TINY = """\
name: tiny
seed: 3
model:
  input: [2]
  layers: [linear: 3, relu, linear: 2]
data: {source: moons, n_samples: 60}
loss: cross_entropy
optimizer: {name: sgd, lr: 0.1, momentum: 0.9}
train: {epochs: 1, batch_size: 16}
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def run(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None):
    """``python cli.py ARGS`` as a user types it; a user error never shows a traceback."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


# --- 3. graph --out: the extension picks the format -----------------------------------------------

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None, reason="Graphviz's dot is not installed"
)

MAGIC = {"svg": b"<?xml", "png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-"}


def test_graph_dot_writes_the_text(tmp_path, capsys):
    spec = write(tmp_path, "tiny.yaml", TINY)
    assert cli.main(["graph", str(spec), "--out", str(tmp_path / "g.dot")]) == 0
    assert (tmp_path / "g.dot").read_text().startswith("digraph")
    assert capsys.readouterr().out == f"wrote {tmp_path / 'g.dot'}\n"


@needs_dot
@pytest.mark.parametrize("fmt", ["svg", "png", "pdf"])
def test_graph_pictures_are_rendered_by_dot_in_the_format_of_the_extension(tmp_path, fmt):
    spec = write(tmp_path, "tiny.yaml", TINY)
    out = tmp_path / f"graph.{fmt}"
    assert cli.main(["graph", str(spec), "--out", str(out)]) == 0
    assert out.read_bytes().startswith(MAGIC[fmt])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["tiny.yaml", out.name])


@pytest.mark.parametrize("name", ["graph.jpg", "graph", "graph.dot.txt"])
def test_graph_refuses_an_unknown_extension_before_any_work(tmp_path, name):
    result = run("graph", "no-such-spec.yaml", "--out", str(tmp_path / name))
    assert result.returncode == 2
    assert "cannot tell the graph's format" in result.stderr
    assert "end the file name with one of .dot, .svg, .png, .pdf" in result.stderr
    assert "spec file not found" not in result.stderr  # refused before the spec is read
    assert list(tmp_path.iterdir()) == []


def test_graph_without_dot_says_what_to_install_and_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(graphs.shutil, "which", lambda name: None)
    monkeypatch.setattr(graphs, "graph_dot", lambda *a, **k: pytest.fail("drew without dot"))
    spec = write(tmp_path, "tiny.yaml", TINY)
    assert cli.main(["graph", str(spec), "--out", str(tmp_path / "graph.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: --out {tmp_path / 'graph.png'} needs the Graphviz dot program")
    assert graphs.INSTALL_GRAPHVIZ in err and "--out graph.dot writes the DOT text" in err
    assert [p.name for p in tmp_path.iterdir()] == ["tiny.yaml"]


def test_graph_reports_a_bad_spec_before_a_missing_dot(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(graphs.shutil, "which", lambda name: None)
    spec = write(tmp_path, "bad.yaml", TINY.replace("epochs: 1", "epochs: -1"))
    assert cli.main(["graph", str(spec), "--out", str(tmp_path / "graph.png")]) == 2
    err = capsys.readouterr().err
    assert "epochs" in err and "Graphviz" not in err


# --- 5. the docs' example of errors is a real file, and prints what the docs say ------------

DOCS_TEXT = docs_pages.all_text()
SESSIONS = [(command, shown) for _, command, shown in docs_pages.sessions()]


def test_the_docs_error_example_is_a_shipped_file_outside_specs():
    commands = [command for command, _ in SESSIONS]
    assert "python cli.py validate examples/bad.yaml" in commands
    assert (ROOT / "examples" / "bad.yaml").is_file()
    assert run("validate", "examples/bad.yaml").returncode == 2


@pytest.mark.parametrize("command, shown", SESSIONS, ids=[c for c, _ in SESSIONS])
def test_a_docs_session_prints_what_the_docs_show(command, shown):
    result = run(*shlex.split(command)[2:])
    assert result.stdout + result.stderr == shown


# --- 8. skip reasons, grouped ---------------------------------------------------------------------

SKIPPING = """\
import pytest

@pytest.mark.parametrize("n", range(3))
@pytest.mark.skipif(True, reason="no CUDA device")
def test_gpu(n):
    pass

def test_torch():
    pytest.skip("PyTorch not installed")

def test_runs():
    assert True
"""


@pytest.mark.parametrize("flags", [[], ["-ra"]], ids=["default", "-ra"])
def test_skips_are_listed_once_per_reason_with_a_count(tmp_path, flags):
    test_file = write(tmp_path, "test_skipping.py", SKIPPING)
    command = [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml")]
    command += ["--rootdir", str(tmp_path), "-p", "conftest", "-p", "no:cacheprovider"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)])}
    result = subprocess.run(
        [*command, *flags, str(test_file)], cwd=tmp_path, capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "   3 skipped: no CUDA device" in lines
    assert "   1 skipped: PyTorch not installed" in lines
    assert lines.index("   3 skipped: no CUDA device") < lines.index(
        "   1 skipped: PyTorch not installed"
    )
    assert not [line for line in lines if line.startswith("SKIPPED")]  # not one per test
    assert "1 passed, 4 skipped" in lines[-1]


# --- 1. switching the optimizer, loss or scheduler with --set -------------------------------------


def test_set_optimizer_name_switches_to_adams_defaults_and_keeps_lr(tmp_path, capsys):
    spec = write(tmp_path, "tiny.yaml", TINY)  # sgd with momentum 0.9
    argv = ["train", str(spec), "--set", "optimizer.name=adam", "--out", str(tmp_path / "run")]
    assert cli.main([*argv, "--quiet", "--no-plots"]) == 0
    resolved = load_spec(tmp_path / "run" / "spec.yaml").optimizer
    assert resolved.model_dump() == {
        "name": "adam",
        "lr": 0.1,  # kept: adam has an lr too
        "betas": (0.9, 0.999),
        "eps": 1e-8,
        "weight_decay": 0.0,
        "amsgrad": False,
        "maximize": False,
    }
    assert capsys.readouterr().err.splitlines() == [
        "optimizer sgd -> adam: dropped momentum (not options of adam); kept lr"
    ]


def test_switching_kind_keeps_given_options_the_new_kind_has_and_takes_its_defaults():
    spec = parse_spec(TINY.replace("momentum: 0.9", "momentum: 0.9, weight_decay: 0.001"))
    notes: list[str] = []
    adamw = apply_overrides(spec, {"optimizer.name": "adamw"}, notify=notes.append).optimizer
    assert (adamw.name, adamw.lr, adamw.weight_decay) == ("adamw", 0.1, 0.001)
    assert notes == [
        "optimizer sgd -> adamw: dropped momentum (not options of adamw); kept lr, weight_decay"
    ]
    # sgd's weight_decay default (0) is not "given": adamw's own default (0.01) applies
    plain = apply_overrides(parse_spec(TINY), {"optimizer.name": "adamw"}, notify=notes.append)
    assert plain.optimizer.weight_decay == 0.01


def test_an_option_set_before_the_switch_counts_as_given():
    notes: list[str] = []
    overrides = {"optimizer.weight_decay": "0.5", "optimizer.name": "adamw"}
    adamw = apply_overrides(parse_spec(TINY), overrides, notify=notes.append).optimizer
    assert adamw.weight_decay == 0.5
    back = apply_overrides(
        parse_spec(TINY), {"optimizer.name": "adam", "optimizer.betas": "[0.5, 0.6]"}
    )
    assert back.optimizer.betas == (0.5, 0.6)


def test_loss_and_scheduler_names_switch_too():
    notes: list[str] = []
    smoothing = TINY.replace(
        "loss: cross_entropy", "loss: {name: cross_entropy, label_smoothing: 0.1}"
    )
    hinge = apply_overrides(parse_spec(smoothing), {"loss.name": "hinge"}, notify=notes.append)
    assert hinge.loss.model_dump() == {"name": "hinge", "margin": 1.0}
    stepped = TINY + "scheduler: {name: step, step_size: 2, gamma: 0.5}\n"
    cosine = apply_overrides(parse_spec(stepped), {"scheduler.name": "cosine"}, notify=notes.append)
    assert cosine.scheduler.model_dump() == {"name": "cosine", "t_max": None, "eta_min": 0.0}
    assert notes == [
        "loss cross_entropy -> hinge: dropped label_smoothing (not options of hinge)",
        "scheduler step -> cosine: dropped step_size, gamma (not options of cosine)",
    ]
    added = apply_overrides(parse_spec(TINY), {"scheduler.name": "cosine"}, notify=notes.append)
    assert added.scheduler.name == "cosine" and len(notes) == 2  # nothing dropped, nothing said


def test_a_switch_that_drops_nothing_says_nothing_and_a_misspelled_kind_is_suggested():
    notes: list[str] = []
    plain = TINY.replace(", momentum: 0.9", "")
    assert apply_overrides(parse_spec(plain), {"optimizer.name": "adam"}, notify=notes.append)
    assert notes == []
    with pytest.raises(SpecError, match="unknown optimizer 'adma'; did you mean 'adam'"):
        apply_overrides(parse_spec(TINY), {"optimizer.name": "adma"}, notify=notes.append)
    assert notes == []


# --- 7. a sweep prints one line per run; --verbose the full logs ----------------------------------

SWEPT = TINY + "sweep: {path: 'model.layers[0].linear.out_features', values: [2, 4]}\n"


def sweep_output(tmp_path: Path, *flags: str) -> list[str]:
    spec = write(tmp_path, "swept.yaml", SWEPT)
    result = run("sweep", str(spec), "--out", str(tmp_path / "sweep"), "--no-plots", *flags)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_a_sweep_prints_one_line_per_finished_run_then_the_table(tmp_path):
    lines = sweep_output(tmp_path)
    assert [line.split("  ")[0] for line in lines[:2]] == [
        "[1/2] out_features=2,seed=3",
        "[2/2] out_features=4,seed=3",
    ]
    for line in lines[:2]:
        assert re.fullmatch(r".*  test_loss \S+  test_accuracy \S+  \(\d+\.\ds\)", line), line
    assert "sweep of hidden width (model.layers[0].linear.out_features)" in lines[2]
    assert not [line for line in lines if line.startswith(("epoch ", "run folder:", "data:"))]


def test_sweep_verbose_prints_every_runs_full_log(tmp_path):
    lines = sweep_output(tmp_path, "--verbose")
    assert sum(line.startswith("run folder:") for line in lines) == 2
    assert sum(line.startswith("epoch 1/1") for line in lines) == 2
    assert "[2/2] out_features=4,seed=3" in lines


def test_sweep_quiet_prints_only_the_table(tmp_path):
    lines = sweep_output(tmp_path, "--quiet")
    assert "sweep of hidden width (model.layers[0].linear.out_features)" in lines[0]
    assert not [line for line in lines if line.startswith("[")]


# --- 6. evaluate on a sweep folder evaluates every run --------------------------------------------


def test_evaluate_on_a_sweep_folder_evaluates_every_run_in_a_table(tmp_path):
    sweep_output(tmp_path, "--quiet")
    folder = tmp_path / "sweep"
    _, recorded = read_sweep_csv(folder)
    result = run("evaluate", str(folder), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["sweep"], data["path"]) == (str(folder), "model.layers[0].linear.out_features")
    assert [row["model.layers[0].linear.out_features"] for row in data["runs"]] == [2, 4]
    for measured, row in zip(data["runs"], recorded):  # the saved models give the same numbers
        assert measured["run_dir"] == row["run_dir"]
        assert measured["test_accuracy"] == row["test_accuracy"]
        assert measured["test_loss"] == pytest.approx(row["test_loss"], rel=1e-6)
    table = run("evaluate", str(folder))
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert "sweep of hidden width (model.layers[0].linear.out_features)" in lines[0]
    assert "test_accuracy" in lines[2]
    cells = [line.split("│")[1].strip() for line in lines if line.startswith("│")]
    assert cells == ["2", "4"]


# --- 2. layer types of your own: --import MODULE and installed packages' entry points -------------

LAYER_MODULE = """\
from tinygrad_edu import nn
from tinygrad_edu.spec import register_layer


@register_layer("{name}")
class Doubled(nn.Module):
    def forward(self, x):
        return x * 2.0
"""


def own_spec(layers: str) -> str:
    """TINY with the layer types `layers` ("doubled, tripled") before its last Linear."""
    spec = TINY.replace("relu, linear: 2]", f"relu, {layers}, linear: 2]")
    return spec.replace("sgd", "adam").replace(", momentum: 0.9", "")


def own_layers(tmp_path: Path, *names: str) -> Path:
    """A spec naming the layer types `names`, and one module `<name>_layers.py` per name."""
    for name in names:
        write(tmp_path, f"{name}_layers.py", LAYER_MODULE.format(name=name))
    return write(tmp_path, "own.yaml", own_spec(", ".join(names)))


@pytest.fixture
def own_code(tmp_path, monkeypatch):
    """tmp_path as the current folder; afterwards the modules imported from it and the
    layer types registered meanwhile are forgotten, and the entry points may load again."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(plugins, "_entry_points_loaded", False)
    layers = set(registry.layer_names())
    yield tmp_path
    for name in set(registry.layer_names()) - layers:
        registry.unregister_layer(name)
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(str(tmp_path)):
            del sys.modules[name]


def test_without_import_the_layer_is_unknown(own_code, capsys):
    assert cli.main(["validate", str(own_layers(own_code, "doubled"))]) == 2
    assert "unknown layer 'doubled'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "command, extra",
    [
        ("validate", []),
        ("summary", ["--batch-size", "4"]),
        ("gradcheck", []),
        ("graph", ["--out", "g.dot"]),
        ("train", ["--out", "run", "--no-plots", "--quiet"]),
        ("sweep", ["--path", "train.epochs", "--values", "1", "--out", "sw", "--no-plots"]),
    ],
)
def test_import_registers_the_modules_layers_before_the_spec_is_read(own_code, command, extra):
    spec = own_layers(own_code, "doubled", "tripled")  # --import is repeatable
    imports = ["--import", "doubled_layers", "--import", "tripled_layers"]
    assert cli.main([command, spec.name, *imports, *extra]) == 0  # found in the current folder


def test_a_run_with_an_imported_layer_is_evaluated_with_the_same_import(own_code, capsys):
    spec = own_layers(own_code, "doubled")
    train = ["train", spec.name, "--import", "doubled_layers", "--out", "run", "--quiet"]
    assert run(*train, "--no-plots", cwd=own_code).returncode == 0
    assert cli.main(["evaluate", "run"]) == 2  # the layer is unknown to a process without it
    assert cli.main(["evaluate", "run", "--import", "doubled_layers"]) == 0
    assert "accuracy" in capsys.readouterr().out


@pytest.mark.parametrize(
    "module, message",
    [
        ("missing_module", "--import missing_module: no module named 'missing_module' in the "),
        (
            "sub/my_layers.py",
            "--import sub/my_layers.py: not a module name; give it as Python's import does, "
            "e.g. --import sub.my_layers for sub/my_layers.py in the current folder",
        ),
        ("needs_dep", "--import needs_dep: it imports 'not_installed_anywhere', which is not"),
        ("broken_syntax", "--import broken_syntax: SyntaxError: "),
        ("raises", "--import raises: importing it failed: RuntimeError: no GPU here ("),
    ],
)
def test_import_errors_are_one_paragraph_with_exit_2(own_code, capsys, module, message):
    write(own_code, "needs_dep.py", "import not_installed_anywhere\n")
    write(own_code, "broken_syntax.py", "def f(:\n")
    write(own_code, "raises.py", "raise RuntimeError('no GPU here')\n")
    spec = write(own_code, "tiny.yaml", TINY)
    assert cli.main(["validate", spec.name, "--import", module]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {message}")
    assert err.count("\n") == 1  # one paragraph
    if module == "raises":
        assert f"{own_code / 'raises.py'}, line 1)" in err


def test_the_import_option_is_one_helper_any_command_can_add():
    parser = argparse.ArgumentParser()
    cli.add_import_option(parser)
    args = parser.parse_args(["--import", "a", "--import", "b.c"])
    assert args.imports == ["a", "b.c"]


def test_the_docs_own_layer_example_is_the_shipped_module_and_its_cli_lines_work(tmp_path):
    block = next(b for _, b in docs_pages.python_blocks() if 'register_layer("scale")' in b)
    assert block in (ROOT / "examples" / "scale_layer.py").read_text()
    lines = re.findall(r"^python cli\.py (.*--import examples\.scale_layer)$", DOCS_TEXT, re.M)
    assert {line.split()[0] for line in lines} == {"train", "gradcheck"}
    for line in lines:
        extra = ["--out", str(tmp_path / "run"), "--epochs", "1", "--no-plots"]
        args = shlex.split(line) + (extra if line.startswith("train") else [])
        result = run(*args)
        assert result.returncode == 0, result.stderr


DIST_INFO = {
    "METADATA": "Metadata-Version: 2.1\nName: fancy-layers\nVersion: 0.1\n",
    "entry_points.txt": "[tinygrad_edu.layers]\nfancy = fancy_layers\n",
}


def installed_package(folder: Path, module_text: str) -> Path:
    """A package 'fancy-layers' installed into folder/site: a dist-info with an entry point
    in the group tinygrad_edu.layers, and the module it names. Returns folder/site."""
    info = folder / "site" / "fancy_layers-0.1.dist-info"
    info.mkdir(parents=True)
    for name, text in DIST_INFO.items():
        write(info, name, text)
    write(folder / "site", "fancy_layers.py", module_text)
    return folder / "site"


def test_an_installed_package_registers_its_layers_through_the_entry_point(own_code, capsys):
    sys.path.insert(0, str(installed_package(own_code, LAYER_MODULE.format(name="fancy"))))
    spec = write(own_code, "fancy.yaml", own_spec("fancy"))
    assert cli.main(["validate", spec.name]) == 0
    assert capsys.readouterr().out == "OK  fancy.yaml\n"
    assert cli.main(["train", spec.name, "--out", "run", "--quiet", "--no-plots"]) == 0


def test_entry_points_are_loaded_once_and_only_when_a_spec_is_read(tmp_path):
    counting = "import builtins\nbuiltins.loads = getattr(builtins, 'loads', 0) + 1\n"
    site = installed_package(tmp_path, counting + LAYER_MODULE.format(name="fancy"))
    code = f"""
import builtins, sys
import tinygrad_edu, tinygrad_edu.spec as spec
from importlib import metadata
scans = []
scan = metadata.entry_points
metadata.entry_points = lambda **kw: scans.append(kw) or scan(**kw)
print("fancy_layers" in sys.modules)
text = {own_spec("fancy")!r}
spec.parse_spec(text)
spec.parse_spec(text)
print("fancy_layers" in sys.modules, builtins.loads, len(scans))
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert result.stdout.split() == ["False", "True", "1", "1"], result.stderr


def test_a_broken_installed_package_is_named_in_one_paragraph(own_code, capsys):
    sys.path.insert(0, str(installed_package(own_code, "raise ImportError('needs numpy 3')\n")))
    assert cli.main(["validate", str(write(own_code, "tiny.yaml", TINY))]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "error: the installed package fancy-layers registers layer types through the entry "
        "point 'fancy = fancy_layers' (group tinygrad_edu.layers), but loading it failed: "
        "importing it failed: ImportError: needs numpy 3 ("
    )
    assert "pip uninstall fancy-layers" in err and err.count("\n") == 1


# --- 4. the example specs ship with the package and are named from any folder -------------------

SHIPPED = ROOT / "tinygrad_edu" / "specs"


def test_the_installed_module_summarizes_the_default_spec_from_any_folder(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "tinygrad_edu.cli", "summary"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert "Total params: 101,770" in result.stdout.splitlines()


def test_examples_are_named_from_any_folder(own_code, capsys):
    out = ["--out", "run", "--epochs", "1", "--quiet", "--no-plots"]
    assert cli.main(["train", "mlp", *out]) == 0
    assert load_spec("run/spec.yaml").name == "mnist-mlp"
    assert cli.main(["validate", "activation_relu", "universal_approximation.yaml"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "run folder: run",  # what train --quiet prints
        "OK  activation_relu",
        "OK  universal_approximation.yaml",
    ]
    assert load_spec("activation_relu").file == SHIPPED / "activation_relu.yaml"  # playground's


def test_a_file_in_the_current_folder_wins_over_an_example_of_that_name(own_code, capsys):
    write(own_code, "mlp.yaml", TINY)
    assert load_spec("mlp.yaml").name == "tiny"
    assert load_spec("mlp").name == "mnist-mlp"  # no file named 'mlp' here
    write(own_code, "mlp", TINY)
    assert load_spec("mlp").name == "tiny"


@pytest.mark.parametrize(
    "spec, message",
    [
        (
            "mlpp",
            "error: spec file not found: mlpp (relative to {cwd}), and no example spec is "
            "named so; did you mean 'mlp'? The examples: activation_none, ",
        ),
        (
            "specs/mlp.yaml",
            "error: spec file not found: specs/mlp.yaml (relative to {cwd}); the "
            "example 'mlp' ships with the package: give its name (mlp), or copy it here to edit "
            "with: python cli.py examples --copy mlp .",
        ),
        ("nowhere.yaml", "error: spec file not found: nowhere.yaml (relative to {cwd})"),
    ],
)
def test_a_spec_that_is_neither_a_file_nor_an_example(own_code, capsys, spec, message):
    assert cli.main(["summary", spec]) == 2
    assert capsys.readouterr().err.startswith(message.format(cwd=own_code))


def test_examples_lists_every_example_with_its_description(capsys):
    assert cli.main(["examples"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = sorted(path.stem for path in SHIPPED.glob("*.yaml"))
    assert [line.split()[0] for line in lines] == names and len(names) >= 5
    mlp = next(line for line in lines if line.startswith("mlp "))
    first_comment = (SHIPPED / "mlp.yaml").read_text().splitlines()[1].lstrip("# ")
    assert mlp.split(None, 1)[1] == first_comment
    assert all(len(line.split(None, 1)[1]) <= 100 for line in lines)  # one line each


def test_specs_the_old_name_of_examples_still_works_unlisted_and_names_the_new_one(capsys):
    """Issue 20: 'spec' and 'specs' were two commands one letter apart."""
    assert cli.main(["examples"]) == 0
    listed = capsys.readouterr()
    assert cli.main(["specs"]) == 0
    renamed = capsys.readouterr()
    assert renamed.out == listed.out and listed.err == ""
    assert renamed.err == "note: 'specs' is now called 'examples': python cli.py examples\n"
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    commands = [
        line.split()[0] for line in capsys.readouterr().out.splitlines() if line[:4] == " " * 4
    ]
    assert "examples" in commands and "spec" in commands and "specs" not in commands


def test_examples_copy_writes_an_editable_copy_and_never_overwrites(tmp_path, capsys):
    folder = tmp_path / "mine"
    assert cli.main(["examples", "--copy", "mlp", str(folder)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"wrote {folder / 'mlp.yaml'}",
        f"wrote {folder / 'schema.json'}",  # the file its first line names for editors
    ]
    assert (folder / "mlp.yaml").read_text() == (SHIPPED / "mlp.yaml").read_text()
    assert load_spec(folder / "mlp.yaml").name == "mnist-mlp"
    (folder / "mlp.yaml").write_text("# my edits\n")
    assert cli.main(["examples", "--copy", "mlp", str(folder)]) == 2
    assert "exists already and is not overwritten" in capsys.readouterr().err
    assert (folder / "mlp.yaml").read_text() == "# my edits\n"
    assert cli.main(["examples", "--copy", "deep_mlp", str(folder)]) == 0  # schema.json is kept
    assert capsys.readouterr().out == f"wrote {folder / 'deep_mlp.yaml'}\n"
    assert cli.main(["examples", "--copy", "mpl", str(folder)]) == 2
    assert "no example spec is named 'mpl'; did you mean 'mlp'?" in capsys.readouterr().err


def test_the_repositorys_specs_folder_is_a_link_to_the_shipped_one():
    assert (ROOT / "specs").is_symlink()
    assert (ROOT / "specs").resolve() == SHIPPED.resolve()
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: cannot check what git tracks")
    tracked = subprocess.run(
        ["git", "ls-files", "-s", "specs", "tinygrad_edu/specs"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    modes = {line.split("\t")[1]: line.split()[0] for line in tracked}
    assert modes["specs"] == "120000"  # a link: one copy of each spec in git
    assert "tinygrad_edu/specs/mlp.yaml" in modes


def _can_build_wheels() -> bool:
    """setuptools, with its own bdist_wheel (>= 70.1) or the wheel package's."""
    if importlib.util.find_spec("setuptools") is None:
        return False
    own = importlib.util.find_spec("setuptools.command.bdist_wheel") is not None
    return own or importlib.util.find_spec("wheel") is not None


@pytest.mark.skipif(not os.environ.get("CI"), reason="builds a wheel (slow): runs when CI is set")
def test_the_wheel_ships_the_example_specs(tmp_path):
    if not _can_build_wheels():
        pytest.skip("setuptools or wheel missing: cannot build a wheel")
    source = tmp_path / "source"  # a copy, so the build leaves nothing in the checkout
    shutil.copytree(
        ROOT / "tinygrad_edu", source / "tinygrad_edu", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in ("pyproject.toml", "README.md", "tinygrad_edu_entry.py"):
        shutil.copy(ROOT / name, source / name)
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    result = subprocess.run(
        [*command, "-w", str(tmp_path / "dist"), str(source)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = (tmp_path / "dist").glob("tinygrad_edu-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in SHIPPED.iterdir():
        assert f"tinygrad_edu/specs/{path.name}" in names
    # the console script's entry module, outside the package (light to import: issue 21)
    assert "tinygrad_edu_entry.py" in names
    (entry_points,) = (n for n in names if n.endswith(".dist-info/entry_points.txt"))
    scripts = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "tinygrad-edu = tinygrad_edu_entry:run" in scripts
