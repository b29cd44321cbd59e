"""The command line, run as a user runs it (``python cli.py ...`` in a subprocess): exit
codes, output, and no tracebacks for user errors."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

import tinygrad_edu as tg
from tinygrad_edu import cli, nn
from tinygrad_edu.spec import build_model, json_schema, load_spec, registry
from tinygrad_edu.summary import summary

ROOT = Path(__file__).resolve().parents[1]

SMALL = """\
name: small
model:
  input: [6]
  layers: [linear: 5, {layer}, linear: 3]
data: {{source: npz, path: unused.npz}}
loss: cross_entropy
optimizer: {{name: sgd, lr: 0.1}}
train: {{epochs: 1, batch_size: 4}}
"""


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_validate_a_good_spec():
    result = run("validate", "specs/mlp.yaml")
    assert (result.returncode, result.stdout) == (0, "OK  specs/mlp.yaml\n")


def test_validate_reports_every_bad_file_and_exits_2(tmp_path):
    bad = write(tmp_path, "bad.yaml", SMALL.format(layer="relu").replace("lr: 0.1", "lr: fast"))
    result = run("validate", "specs/mlp.yaml", str(bad), str(tmp_path / "missing.yaml"))
    assert result.returncode == 2
    assert result.stdout == "OK  specs/mlp.yaml\n"
    assert result.stderr.splitlines() == [
        f"{bad}:7:28: optimizer.lr: expected a number, found 'fast'",
        f"error: spec file not found: {tmp_path / 'missing.yaml'}",
    ]


def test_schema_prints_the_json_schema_and_writes_it_atomically(tmp_path):
    result = run("schema")
    assert result.returncode == 0 and json.loads(result.stdout) == json_schema()
    out = tmp_path / "schema.json"
    assert run("schema", "--out", str(out)).returncode == 0
    assert out.read_text() == result.stdout
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left behind


def test_summary_of_the_default_spec_is_the_torchinfo_table_in_plain_text():
    result = run("summary")
    assert result.returncode == 0
    spec = load_spec(ROOT / "specs" / "mlp.yaml")
    assert result.stdout == str(summary(build_model(spec), (32, 784))) + "\n"
    assert "\x1b[" not in result.stdout  # not a terminal: no colours
    for line in (
        "Total params: 101,770",
        "Total mult-adds (M): 3.26",
        "Input size (MB): 0.10",
        "Forward/backward pass size (MB): 0.04",
        "Params size (MB): 0.41",
        "Estimated Total Size (MB): 0.54",
    ):
        assert line in result.stdout.splitlines()


def test_summary_as_json_with_the_explanation():
    result = run("summary", "specs/mlp.yaml", "--format", "json", "--batch-size", "8", "--explain")
    data = json.loads(result.stdout)
    assert data["total_params"] == 101_770 and data["input_size"] == [8, 784]
    assert "784 x 128 weights + 128 biases = 100,480" in data["explanation"]


def test_summary_explains_and_warns_after_the_table(tmp_path):
    collapsing = SMALL.format(layer="identity").replace("npz, path: unused.npz", "moons")
    spec = write(tmp_path, "collapse.yaml", collapsing.replace("[6]", "[2]").replace("3]", "2]"))
    result = run("summary", str(spec), "--explain")
    assert result.returncode == 0
    table_end = result.stdout.index("Estimated Total Size (MB)")
    warning = result.stdout.index("Warning: ")
    assert (
        table_end < warning < result.stdout.index("Linear(2 -> 5): 2 x 5 weights + 5 biases = 15")
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["summary", "nowhere.yaml"], "error: spec file not found: nowhere.yaml"),
        (["summary", "specs/mlp.yaml", "--batch-size", "0"], "expected a positive integer"),
        (["gradcheck"], "the following arguments are required: spec"),
    ],
)
def test_user_errors_exit_2_without_a_traceback(args, message):
    result = run(*args)
    assert result.returncode == 2
    assert message in result.stderr


def test_summary_of_the_default_spec_works_from_any_folder(tmp_path):
    result = run("summary", cwd=tmp_path)  # the lecture's MLP ships with the package
    assert result.returncode == 0, result.stderr
    assert result.stdout == run("summary", "specs/mlp.yaml").stdout


def example_of(command: str) -> str:
    """The example a command's parser holds (written next to the command in tinygrad_edu.cli)."""
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    epilog = commands.choices[command].epilog
    assert epilog.startswith("example:\n  "), epilog
    return epilog.removeprefix("example:\n  ")


@pytest.mark.parametrize("command", ["validate", "schema", "summary", "gradcheck"])
def test_every_command_shows_an_example_in_its_help(command):
    result = run(command, "--help")
    assert result.returncode == 0
    assert example_of(command).startswith(f"python cli.py {command} ")
    assert f"example:\n  {example_of(command)}" in result.stdout


def test_gradcheck_passes_for_a_small_spec(tmp_path):
    spec = write(tmp_path, "small.yaml", SMALL.format(layer="relu"))
    result = run("gradcheck", str(spec), "--max-elements", "0")
    assert result.returncode == 0, result.stdout
    assert "all parameters within the tolerance 1e-06" in result.stdout
    for name in ("0.weight", "0.bias", "2.weight", "2.bias"):
        assert name in result.stdout


def test_gradcheck_fails_with_exit_1_for_a_broken_layer(tmp_path, capsys):
    class DetachedScale(nn.Module):
        """Broken on purpose: the weight is cut from the graph, so backward never reaches it."""

        def __init__(self, in_features: int):
            self.weight = nn.Parameter(tg.Tensor.ones(in_features) * 2.0)

        def forward(self, x):
            return x * self.weight.detach()

    registry.register_layer("detached_scale")(DetachedScale)
    try:
        spec = write(tmp_path, "broken.yaml", SMALL.format(layer="detached_scale"))
        assert cli.main(["gradcheck", str(spec)]) == 1
    finally:
        registry.unregister_layer("detached_scale")
    out = capsys.readouterr().out
    assert "1 of 5 parameters exceed the tolerance" in out
    assert "FAIL" in out


def test_the_cli_module_imports_no_heavy_module():
    code = (
        "import sys, tinygrad_edu.cli; "
        "print(sorted(m for m in ('pydantic', 'yaml', 'rich') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]"


def _main(capsys, *args: object) -> tuple[int, str]:
    """`python cli.py ARGS` in this process: (exit code, stderr); argparse's exit included."""
    try:
        code = cli.main([str(a) for a in args])
    except SystemExit as exit:
        code = exit.code
    return code, capsys.readouterr().err


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1e-6"])
def test_gradcheck_refuses_a_tolerance_that_is_not_a_finite_non_negative_number(capsys, value):
    code, err = _main(capsys, "gradcheck", "specs/mlp.yaml", f"--tol={value}")
    assert code == 2 and "Traceback" not in err
    assert (
        f"argument --tol: expected a finite number of 0 or more (e.g. 1e-6), found {value}" in err
    )


def test_gradcheck_refuses_a_negative_seed_before_any_work(capsys):
    code, err = _main(capsys, "gradcheck", "specs/mlp.yaml", "--seed", "-1")
    assert code == 2 and "argument --seed: expected a seed of 0 or more" in err


def test_backprop_frames_into_an_existing_file_is_refused_before_any_work(tmp_path, capsys):
    existing = tmp_path / "notes.txt"
    existing.write_text("the user's notes")
    for target in (existing, existing / "frames"):
        code, err = _main(
            capsys, "backprop", "c = a * b", "--set", "a=1", "b=2", "--frames", target
        )
        assert code == 2, err
        assert err.startswith(f"error: --frames {target}: {existing} is a file, not a folder"), err
        assert err.count("\n") == 1
    assert existing.read_text() == "the user's notes"


@pytest.mark.parametrize(
    ("expression", "values", "warning"),
    [
        ("c = a * b; L = c * c", ["a=1e200", "b=1e200"],
         "c = a * b is inf although its inputs are finite (a = 1e+200, b = 1e+200): the result "
         "overflowed: its size exceeds the largest float64, about 1.8e+308"),
        ("L = a ** b", ["a=10", "b=400"], "L = a^b is inf although its inputs are finite"),
        ("L = a / b", ["a=1", "b=0"], "n1 = b^-1 is inf although its inputs are finite (b = 0): "
         "the exact result is infinite (a division by zero"),
        ("L = log(a)", ["a=-1"], "L = log(a) is nan although its inputs are finite (a = -1): "
         "the operation is undefined there"),
        ("L = a ** 0.5", ["a=0"], "the local derivative dL/da = 0.5 * a^(0.5 - 1) is inf here"),
        ("L = a * b", ["a=inf", "b=1"], "the input a is inf, so every value computed from it"),
    ],
)  # fmt: skip
def test_backprop_names_the_first_value_that_is_not_finite_and_why(
    capsys, expression, values, warning
):
    code = cli.main(["backprop", expression, "--set", *values])
    out, err = capsys.readouterr()
    assert code == 0 and ("inf" in out or "nan" in out)  # the explanation stands
    assert err.startswith(f"warning: {warning}") and err.count("\n") == 1, err


def test_backprop_of_finite_numbers_warns_about_nothing(capsys):
    assert cli.main(["backprop", "c = a * b; L = c * c", "--set", "a=1e50", "b=1e50"]) == 0
    assert capsys.readouterr().err == ""
