"""Hostile specs (issue 9): sizes checked before allocating, validate agreeing with train,
and a property test that mutates the example specs and feeds them to the CLI in-process:
the outcome is always exit 0, or exit 2 with a message at a file:line, never a traceback."""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu.cli import main
from tinygrad_edu.errors import UserError
from tinygrad_edu.io import reading
from tinygrad_edu.spec import SpecError, load_spec, parse_spec
from tinygrad_edu.spec.limits import check_memory, estimate
from tinygrad_edu.spec.loader import check_spec_file

ROOT = Path(__file__).resolve().parents[1]
GB = 10**9

MOONS = """\
name: t
model: {input: [2], layers: [{linear: 16}, relu, {linear: 2}]}
data: {source: moons, n_samples: 100}
loss: cross_entropy
optimizer: {name: sgd, lr: 0.1, momentum: 0.9}
train: {epochs: 1, batch_size: 8}
"""


def run_cli(*argv: str) -> tuple[int, str]:
    """(exit code, stderr) of the CLI run in this process."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(list(argv))
    return code, err.getvalue()


@pytest.fixture
def memory_of(monkeypatch):
    """Pretend the machine has this many bytes available (tests must not depend on it)."""

    def set_memory(available: int) -> None:
        monkeypatch.setattr(reading, "available_memory", lambda: available)

    return set_memory


# --- sizes, estimated before anything is allocated ----------------------------------------


def test_the_estimate_counts_weights_gradients_optimizer_state_activations_and_data():
    spec = parse_spec(MOONS)
    found = estimate(spec)
    assert found.parameters == 2 * 16 + 16 + 16 * 2 + 2
    assert found.parameter_bytes == found.parameters * 4 * 3  # weights, gradients, momentum
    # a training batch of 8 with gradients, or an evaluation batch of the 100 samples
    assert found.activation_bytes == 100 * (2 + 16 + 16 + 2) * 4
    assert found.data_bytes == 100 * 2 * 20
    double = estimate(parse_spec(MOONS + "dtype: float64\n"))
    assert double.parameter_bytes == 2 * found.parameter_bytes
    assert double.activation_bytes == 2 * found.activation_bytes
    assert double.data_bytes == found.data_bytes  # loaded as float64 in either case


@pytest.mark.parametrize(
    "edit, where",
    [
        (("{linear: 16}", "{linear: 1" + "0" * 100 + "}"), ":2:"),  # linear: 10**100
        (("[2]", "[784]"), None),  # placeholder replaced below
        (("n_samples: 100", "n_samples: 1e9"), ":3:"),
    ],
    ids=["linear 10**100", "100 GB model", "n_samples 1e9"],
)
def test_validate_and_train_refuse_a_spec_larger_than_memory(tmp_path, memory_of, edit, where):
    memory_of(16 * GB)
    text = MOONS.replace(*edit)
    if edit[1] == "[784]":  # the 100 GB model: 32e6 units on 784 inputs
        text = MOONS.replace("[2]", "[784]").replace("{linear: 16}", "{linear: 32000000}")
        text = text.replace("moons, n_samples: 100", "npz, path: nowhere.npz")
        where = ":2:"
    path = tmp_path / "big.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as caught:
        check_spec_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path}{where}")
    assert "but this machine has 16.0 GB of memory available" in message
    code, err = run_cli("train", str(path), "--out", str(tmp_path / "run"), "--quiet")
    assert code == 2 and "but this machine has 16.0 GB of memory available" in err


def test_a_huge_input_shape_is_refused_with_the_estimate(tmp_path, memory_of):
    memory_of(16 * GB)
    spec = parse_spec(
        MOONS.replace("[2]", "[100000, 100000]")
        .replace("layers: [", "layers: [flatten, ")
        .replace("moons, n_samples: 100", "npz, path: x.npz")
    )
    with pytest.raises(UserError, match=r"needs at least .* TB: 160,000,000,050 parameters"):
        check_memory(spec)


@pytest.mark.parametrize("command", ["summary", "graph"])
def test_summary_and_graph_refuse_a_batch_larger_than_memory(memory_of, command):
    memory_of(16 * GB)
    code, err = run_cli(command, str(ROOT / "specs/mlp.yaml"), "--batch-size", "100000000")
    assert code == 2
    assert "running the model on a batch of 100,000,000 needs at least" in err
    assert "use a smaller --batch-size" in err


# --- validate runs the checks that train runs ------------------------------------------


def csv_spec(tmp_path, target: str = "label", outputs: int = 2, features: int = 2) -> Path:
    rows = "".join(f"{i},{i * 2},{i % 2}\n" for i in range(20))
    (tmp_path / "t.csv").write_text("a,b,label\n" + rows)
    text = (
        MOONS.replace("moons, n_samples: 100", f"csv, path: t.csv, target: {target}")
        .replace("{linear: 2}", f"{{linear: {outputs}}}")
        .replace("[2]", f"[{features}]")
    )
    path = tmp_path / "csv.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "kwargs, position, fragment",
    [
        ({"target": "5"}, "3:42: data.target", "data.target 5 is out of range"),
        ({"outputs": 3}, "2:50: model.layers[2]", "the model has 3 outputs but the data has 2"),
        ({"features": 3}, "2:16: model.input", "model.input must be [2]; found [3]"),
    ],
    ids=["target column out of range", "3 outputs on 2 classes", "wrong input shape"],
)
def test_validate_reports_what_train_would_refuse(tmp_path, kwargs, position, fragment):
    path = csv_spec(tmp_path, **kwargs)
    code, err = run_cli("validate", str(path))
    assert code == 2 and err.startswith(f"{path}:{position}: ") and fragment in err
    code, err = run_cli("train", str(path), "--out", str(tmp_path / "run"), "--quiet")
    assert code == 2 and fragment.split(" but ")[0].split(" must")[0] in err


def test_validate_reports_generated_data_that_would_overflow(tmp_path):
    path = tmp_path / "noisy.yaml"
    path.write_text(MOONS.replace("n_samples: 100", "n_samples: 100, noise: 1e300"))
    code, err = run_cli("validate", str(path))
    assert code == 2 and err.startswith(f"{path}:3:7: data: data 'moons': the train features")


def test_validate_reports_missing_mnist_files_unless_they_may_be_downloaded(tmp_path):
    text = (
        MOONS.replace("moons, n_samples: 100", f"mnist, path: {tmp_path}")
        .replace("[2]", "[784]")
        .replace("{linear: 2}", "{linear: 10}")
    )
    path = tmp_path / "mnist.yaml"
    path.write_text(text)
    code, err = run_cli("validate", str(path))
    assert code == 2 and err.startswith(f"{path}:3:29: data.path: MNIST files missing in")
    path.write_text(text.replace(f"path: {tmp_path}", f"path: {tmp_path}, download: true"))
    assert run_cli("validate", str(path)) == (0, "")


def test_validate_accepts_a_csv_spec_that_trains(tmp_path):
    path = csv_spec(tmp_path)
    assert run_cli("validate", str(path)) == (0, "")
    assert (
        run_cli("train", str(path), "--out", str(tmp_path / "run"), "--quiet", "--no-plots")[0] == 0
    )


def test_the_nan_stop_blames_the_data_before_the_learning_rate(tmp_path):
    path = tmp_path / "d.npz"
    X = np.zeros((40, 2))
    np.savez(path, X=X, y=np.arange(40) % 2)
    spec = tmp_path / "nan.yaml"
    spec.write_text(MOONS.replace("moons, n_samples: 100", f"npz, path: {path}"))
    from tinygrad_edu.training.divergence import divergence_advice
    from tinygrad_edu.training.loop import prepare

    setup = prepare(load_spec(spec))
    assert "Try --lr 0.01: a probe of 8 steps" in divergence_advice(setup)
    setup.dataset.X_train[3, 1] = np.nan  # what a non-finite file would have given
    assert "training features hold nan or inf" in divergence_advice(setup)
    assert "learning rate" not in divergence_advice(setup).split("(")[0]


# --- init.from: the weights file ----------------------------------------------------------


def moons_weights(path: Path, poison: float | None = None) -> Path:
    """A safetensors state dict of MOONS's network; `poison` replaces one weight."""
    st = pytest.importorskip("safetensors.numpy", reason="init.from needs the export extra")
    rng = np.random.default_rng(0)
    shapes = {"0.weight": (16, 2), "0.bias": (16,), "2.weight": (2, 16), "2.bias": (2,)}
    arrays = {k: rng.normal(size=shape).astype(np.float32) for k, shape in shapes.items()}
    if poison is not None:
        arrays["2.weight"][1, 3] = poison
    st.save_file(arrays, str(path))
    return path


def init_spec(tmp_path: Path, weights: str) -> Path:
    path = tmp_path / "init.yaml"
    path.write_text(MOONS + f"init: {{from: {weights}}}\n")
    return path


@pytest.mark.parametrize("poison", [float("nan"), float("inf")])
def test_non_finite_init_weights_name_the_file_not_the_learning_rate(tmp_path, poison):
    weights = moons_weights(tmp_path / "w.safetensors", poison)
    spec = init_spec(tmp_path, str(weights))
    code, err = run_cli("validate", str(spec))
    assert code == 2 and err.startswith(f"{spec}:7:14: init.from: {weights}: '2.weight' holds 1 ")
    code, err = run_cli("train", str(tmp_path / "init.yaml"), "--out", str(tmp_path / "run"))
    assert code == 2 and f"{weights}: '2.weight' holds 1 of 32 values that are not finite" in err
    assert "learning rate" not in err and not (tmp_path / "run").exists()
    (tmp_path / "x.yaml").write_text(MOONS)
    code, err = run_cli("train", str(tmp_path / "x.yaml"), "--init-from", str(weights))
    assert code == 2 and "'2.weight' holds 1 of 32 values" in err


def _fifo(tmp_path: Path) -> str:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this system (os.mkfifo)")
    os.mkfifo(tmp_path / "pipe")
    return str(tmp_path / "pipe")


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda tmp_path: str(tmp_path), "is a folder"),
        (_fifo, "is a FIFO (named pipe)"),
        (
            lambda tmp_path: (
                "/dev/zero" if Path("/dev/zero").exists() else pytest.skip("no /dev/zero")
            ),
            "is a character device",
        ),
    ],
    ids=["folder", "fifo", "dev-zero"],
)
def test_init_from_what_is_not_a_regular_file_says_what_it_is(tmp_path, make, kind):
    target = make(tmp_path)
    spec = init_spec(tmp_path, target)
    code, err = run_cli("validate", str(spec))
    assert code == 2 and f"init.from: weights file {target} {kind}, not a regular file" in err
    (tmp_path / "x.yaml").write_text(MOONS)
    code, err = run_cli("train", str(tmp_path / "x.yaml"), "--init-from", target, "--out",
                        str(tmp_path / "run"))  # fmt: skip
    assert (
        code == 2
        and err
        == f"error: weights file {target} {kind}, not a regular file "
        "(only those are read); give the .safetensors file of the weights\n"
    )
    assert not (tmp_path / "run").exists()


def test_validate_accepts_finite_init_weights(tmp_path):
    spec = init_spec(tmp_path, str(moons_weights(tmp_path / "w.safetensors")))
    assert run_cli("validate", str(spec)) == (0, "")


# --- mutations of the example specs -------------------------------------------------------


@pytest.fixture(scope="module")
def bases(tmp_path_factory) -> dict[str, str]:
    """The example specs with tiny data: MNIST specs read 40 random 784-pixel samples."""
    folder = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    tiny = folder / "tiny.npz"
    np.savez(tiny, X=rng.integers(0, 256, (40, 784)).astype(np.uint8), y=np.arange(40) % 10)
    texts = {}
    for path in sorted((ROOT / "specs").glob("*.yaml")):
        text = path.read_text()
        text = text.replace("source: mnist-5k", f"source: npz\n  path: {tiny}")
        text = text.replace("n_samples: 1000", "n_samples: 40")
        text = text.replace("  noise: 0.1", "  noise: 0.1\n  n_samples: 40")
        texts[path.name] = text
    return texts


VALUES = [None, "", "x", -1, 0, 1, 2.5, True, [], {}, [1, 2], 10**30, float("inf"), float("nan")]
VALUES += [1e300, 1e-300, -1e300, 0.999999, 2**63, 2**64, -(2**63), "none", "auto", "relu", [0]]
VALUES += ["~nobody_at_all/x.csv", "a\0b", "/dev/zero", "."]
KEYS = ["seed", "n_samples", "noise", "validation_fraction", "test_fraction", "momentum", "bias"]
KEYS += ["normalize", "scheduler", "dtype", "batch_size", "label_smoothing", "header", "target"]


def _places(data, found=None):
    """(container, key) of every value in the tree, depth first."""
    found = [] if found is None else found
    items = data.items() if isinstance(data, dict) else enumerate(data)
    for key, value in list(items):
        found.append((data, key))
        if isinstance(value, (dict, list)):
            _places(value, found)
    return found


def _mutate_tree(data, draw) -> None:
    for _ in range(draw(st.integers(0, 2))):
        places = _places(data)
        if not places:
            return
        container, key = draw(st.sampled_from(places))
        kind = draw(st.sampled_from(["delete", "retype", "misspell", "add"]))
        if kind == "delete":
            del container[key]
        elif kind == "add" and isinstance(container, dict):
            container[draw(st.sampled_from(KEYS))] = draw(st.sampled_from(VALUES))
        elif kind == "retype" or not isinstance(key, str):
            container[key] = draw(st.sampled_from(VALUES))
        else:
            position = draw(st.integers(0, len(key)))
            letter = draw(st.sampled_from("aez_"))
            container[key[:position] + letter + key[position + 1 :]] = container.pop(key)


def _mutate_text(text: str, draw) -> str:
    lines = text.splitlines()
    for _ in range(draw(st.integers(0, 1))):
        kind = draw(st.sampled_from(["duplicate", "control", "nest", "alias", "bomb"]))
        index = draw(st.integers(0, len(lines) - 1))
        values = [i for i, line in enumerate(lines) if re.match(r"\s*[\w-]+: \S", line)]
        if kind == "duplicate":
            lines.insert(index, lines[index])
        elif kind == "control":
            line = lines[index]
            at = draw(st.integers(0, len(line)))
            char = chr(draw(st.sampled_from([0, 1, 7, 8, 11, 12, 27, 127])))
            lines[index] = line[:at] + char + line[at:]
        elif kind == "nest" and values:
            i = draw(st.sampled_from(values))
            depth = draw(st.sampled_from([3, 150, 20000]))
            lines[i] = lines[i].split(": ")[0] + ": " + "[" * depth + "1" + "]" * depth
        elif kind == "alias" and len(values) >= 2:
            first, second = sorted(draw(st.permutations(values))[:2])
            key, value = lines[first].split(": ", 1)
            lines[first] = f"{key}: &a {value}"
            lines[second] = lines[second].split(": ")[0] + ": *a"
        elif kind == "bomb":
            laughs = ["&l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
            laughs += [f"&l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, 10)]
            lines.append("sweep: {path: seed, values: [" + ", ".join(laughs) + "]}")
    return "\n".join(lines) + "\n"


def test_mutated_specs_exit_0_or_2_with_file_and_line(bases):
    names = sorted(bases)

    @given(st.sampled_from(names), st.data())
    def check(name, data):
        tree = yaml.safe_load(bases[name])
        _mutate_tree(tree, data.draw)
        text = _mutate_text(yaml.safe_dump(tree, sort_keys=False), data.draw)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / name
            path.write_text(text)
            code, err = run_cli("validate", str(path))
            assert code in (0, 2), err
            if code == 2:
                for line in err.splitlines():
                    assert re.match(rf"{re.escape(str(path))}:\d+:\d+: ", line), err
            out = str(Path(folder) / "run")
            trained, err = run_cli(
                "train", str(path), "--epochs", "1", "--out", out, "--quiet", "--no-plots"
            )
            assert trained in (0, 2), err
            if trained == 2:  # the spec's problems at their lines, or one paragraph
                at_line = all(
                    re.match(rf"{re.escape(str(path))}:\d+:\d+: ", x) for x in err.splitlines()
                )
                assert at_line or (err.startswith("error: ") and err.count("\n") == 1), err
            if code == 0:  # what validate accepts, train runs (or stops at a NaN loss)
                assert trained == 0 or "the loss became" in err, err

    check()


def test_a_recursive_alias_in_sweep_values_is_a_clear_error(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text(MOONS + "sweep: {path: seed, values: &v [1, *v]}\n")
    code, err = run_cli("sweep", str(path), "--out", str(tmp_path / "s"), "--quiet")
    assert code == 2 and err.startswith(f"{path}:7:36: alias *v refers to its own anchor &v")
    path.write_text(MOONS)
    out = str(tmp_path / "s")
    code, err = run_cli(
        "sweep", str(path), "--path", "seed", "--values", "&v [1, *v]", "--out", out
    )
    assert code == 2 and "--values:1:8: alias *v refers to its own anchor" in err
    assert not (tmp_path / "s").exists()
