"""Bad specs: every problem is reported at its line and column, with the key path, what
was expected, what was found, and a did-you-mean for misspelled names."""

from __future__ import annotations

import pytest

from tinygrad_edu.errors import UserError
from tinygrad_edu.spec import SpecError, load_spec

# A valid spec; the cases below change it. Line numbers for reference:
GOOD = """\
name: test
model:
  input: [784]
  layers:
    - flatten
    - linear: 128
    - relu
    - linear: 10
data: {source: mnist-5k}
loss: cross_entropy
optimizer: {name: sgd, lr: 0.1, momentum: 0.9}
train: {epochs: 10, batch_size: 32}
"""
#  1 name    2 model    3 input    4 layers    5 flatten    6 linear: 128    7 relu
#  8 linear: 10    9 data    10 loss    11 optimizer    12 train

MODEL_LINES = GOOD.splitlines()[3:8]  # "  layers:" and its four items


def edit(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


def with_model(model: str, data: str = "{source: mnist-5k}", loss: str = "cross_entropy") -> str:
    text = GOOD.replace("\n".join(MODEL_LINES) + "\n", model)
    return text.replace("{source: mnist-5k}", data).replace("loss: cross_entropy", f"loss: {loss}")


FUNCTION_MODEL = "  mlp: {hidden: [8], outputs: 1}\n"


def function_data(data: str, loss: str = "mse") -> str:
    return with_model(FUNCTION_MODEL, data, loss).replace("[784]", "[1]")


# fmt: off
CASES = [
    # (id, YAML text, line, column, message fragment)
    ("unknown layer", edit("- linear: 128", "- lenear: 128"), 6, 7,
     "model.layers[1]: unknown layer 'lenear'; did you mean 'linear'?"),
    ("unknown bare layer", edit("- relu", "- rleu"), 7, 7,
     "model.layers[2]: unknown layer 'rleu'; did you mean 'relu'?"),
    ("negative out_features", edit("- linear: 128", "- linear: -3"), 6, 15,
     "model.layers[1].linear.out_features: expected a positive integer, found -3"),
    ("linear with no size", edit("- linear: 128", "- linear"), 6, 7,
     "model.layers[1].linear.out_features: required, but missing"),
    ("misspelled layer option",
     edit("- linear: 128", "- linear: {out_features: 128, bais: false}"), 6, 35,
     "model.layers[1].linear.bais: unknown key 'bais'; did you mean 'bias'?"),
    ("options on a layer without any", edit("- relu", "- relu: 3"), 7, 13,
     "layer 'relu' takes no options, found 3"),
    ("layer is not a name", edit("- relu", "- 5"), 7, 7,
     "model.layers[2]: expected a layer: a name such as relu"),
    ("softmax dim out of range", edit("- relu", "- softmax: 2"), 7, 16,
     "model.layers[2].softmax: layer 'softmax': dim 2 is out of range"),
    ("unknown top-level key", GOOD + "epochs: 3\n", 13, 1,
     "epochs: unknown key 'epochs'"),
    ("misspelled top-level key", GOOD + "sead: 1\n", 13, 1,
     "sead: unknown key 'sead'; did you mean 'seed'?"),
    ("unknown optimizer", edit("name: sgd", "name: sdg"), 11, 19,
     "optimizer.name: unknown optimizer 'sdg'; did you mean 'sgd'?"),
    ("misspelled optimizer key", edit("momentum: 0.9", "momentun: 0.9"), 11, 33,
     "optimizer.momentun: unknown key 'momentun'; did you mean 'momentum'?"),
    ("wrong type for lr", edit("lr: 0.1", "lr: fast"), 11, 28,
     "optimizer.lr: expected a number, found 'fast'"),
    ("negative lr", edit("lr: 0.1", "lr: -0.1"), 11, 28,
     "optimizer.lr: expected a number > 0, found -0.1"),
    ("sgd without lr", edit("{name: sgd, lr: 0.1, momentum: 0.9}", "sgd"), 11, 12,
     "optimizer.lr: required, but missing"),
    ("nesterov without momentum", edit("momentum: 0.9", "nesterov: true"), 11, 43,
     "optimizer.nesterov: Nesterov momentum needs momentum > 0"),
    ("unknown loss", edit("loss: cross_entropy", "loss: cross_entropi"), 10, 7,
     "loss: unknown loss 'cross_entropi'; did you mean 'cross_entropy'?"),
    ("unknown loss option",
     edit("loss: cross_entropy", "loss: {name: cross_entropy, smoothing: 0.1}"), 10, 29,
     "loss.smoothing: unknown key 'smoothing'; did you mean 'label_smoothing'?"),
    ("zero epochs", edit("epochs: 10", "epochs: 0"), 12, 17,
     "train.epochs: expected a positive integer, found 0"),
    ("fractional batch size", edit("batch_size: 32", "batch_size: 2.5"), 12, 33,
     "train.batch_size: expected an integer, found 2.5"),
    ("missing model", GOOD.replace("\n".join(GOOD.splitlines()[1:8]) + "\n", ""), 1, 1,
     "model: required, but missing"),
    ("both layers and mlp",
     edit("  layers:", "  mlp: {hidden: [128], outputs: 10}\n  layers:"), 4, 8,
     "model.mlp: give either 'layers' or 'mlp', not both"),
    ("neither layers nor mlp", with_model(""), 3, 3,
     "model: missing the network: add 'layers' (a list) or 'mlp'"),
    ("bad dtype", GOOD + "dtype: float23\n", 13, 8,
     "dtype: expected one of float32, float64, found 'float23'; did you mean 'float32'?"),
    ("bad backend", GOOD + "backend: torch\n", 13, 10,
     "backend: expected one of numpy, cupy, found 'torch'"),
    ("bad run name", edit("name: test", "name: my run"), 1, 7,
     "name: expected a name of 1 to 200 letters, digits"),
    ("a spec named like a section", edit("name: test", "name: model").replace("[784]", "[0]"),
     3, 11, "model.input[0]: expected a positive integer, found 0"),
    ("input not a list", edit("input: [784]", "input: 784"), 3, 10,
     "model.input: expected a list, found 784"),
    ("input does not fit the data", edit("input: [784]", "input: [28, 28]"), 3, 10,
     "model.input: data source 'mnist-5k' gives samples of shape [784]"),
    ("too few outputs for the classes", edit("- linear: 10", "- linear: 2"), 8, 7,
     "model.layers[3]: 'mnist-5k' has 10 classes, so cross_entropy needs 10 outputs"),
    ("mlp outputs vs binary loss",
     with_model("  mlp: {hidden: [8], outputs: 2}\n", "{source: moons}",
                "binary_cross_entropy_with_logits").replace("[784]", "[2]"), 4, 31,
     "model.mlp.outputs: binary_cross_entropy_with_logits needs 1 output"),
    ("bad mlp activation",
     with_model("  mlp: {hidden: [128], outputs: 10, activation: rleu}\n"), 4, 49,
     "model.mlp.activation: expected one of relu, leaky_relu, tanh, sigmoid, gelu, identity, "
     "none, found 'rleu'; did you mean 'relu'?"),
    ("unknown data source", edit("source: mnist-5k", "source: mnst"), 9, 16,
     "data.source: unknown data source 'mnst'; did you mean 'mnist'?"),
    ("missing data source", edit("{source: mnist-5k}", "{test_fraction: 0.2}"), 9, 7,
     "data: missing 'source': the data source, one of mnist-5k, mnist, moons"),
    ("test_fraction out of range",
     edit("{source: mnist-5k}", "{source: mnist-5k, test_fraction: 1.5}"), 9, 41,
     "data.test_fraction: expected a number < 1, found 1.5"),
    ("option of another source",
     edit("{source: mnist-5k}", "{source: mnist-5k, n_samples: 100}"), 9, 26,
     "data.n_samples: unknown key 'n_samples'"),
    ("bad function name", function_data("{source: function, function: sine}"), 5, 36,
     "data.function: expected one of sin, cos, abs, step, relu, square, cubic, x^2, x^3, "
     "found 'sine'; did you mean 'sin'?"),
    ("interval lo >= hi", function_data("{source: function, interval: [3, -3]}"), 5, 36,
     "data.interval: expected [low, high] with low < high, found [3.0, -3.0]"),
    ("regression data with a classification loss",
     function_data("{source: function}", loss="cross_entropy"), 6, 7,
     "loss: data source 'function' is a regression task; use loss mse, l1 or huber"),
    ("unknown scheduler", GOOD + "scheduler: {name: steplr, step_size: 2}\n", 13, 19,
     "scheduler.name: unknown scheduler 'steplr'; did you mean 'step'?"),
    ("yaml syntax error",
     edit("train: {epochs: 10, batch_size: 32}", "train: {epochs: 10, batch_size: 32"), 13, 1,
     "invalid YAML: while parsing a flow mapping"),
    ("tab indentation", edit("  input", "\tinput"), 3, 1,
     "invalid YAML: while scanning for the next token, found character '\\t'"),
    ("two documents", GOOD + "---\nname: other\n", 13, 1,
     "invalid YAML: expected a single document in the stream"),
    ("empty file", "# nothing here yet\n", 1, 1, "the file is empty"),
    ("top level is a list", "- flatten\n- relu\n", 1, 1,
     "expected a mapping of name, seed, backend, dtype, model, data, loss, optimizer, "
     "scheduler, train, sweep, init at the top level, found [flatten, relu]"),
    ("duplicate key", GOOD + "seed: 1\nseed: 2\n", 14, 1,
     "duplicate key 'seed' (also on line 13); keep only one"),
    ("duplicate nested key", edit("lr: 0.1", "lr: 0.1, lr: 0.2"), 11, 33,
     "duplicate key 'lr' (also on line 11)"),
    ("python tag", GOOD + "seed: !!python/object/apply:os.system ['echo owned']\n", 13, 7,
     "tag '!!python/object/apply:os.system' is not allowed: a spec holds plain data"),
    ("custom tag", edit("lr: 0.1", "lr: !include lr.yaml"), 11, 28,
     "tag '!include' is not allowed"),
    # issue 9: hostile or damaged specs
    ("a path of an unknown user",
     edit("{source: mnist-5k}", "{source: npz, path: ~nobody_x/d.npz}"), 9, 27,
     "data.path: cannot expand '~nobody_x': there is no such user; write the path out"),
    ("a path with a NUL", edit("{source: mnist-5k}", '{source: npz, path: "d\\0.npz"}'), 9, 27,
     "data.path: the path holds a NUL character"),
    ("set tag", GOOD + "sweep: {path: seed, values: !!set {1, 2}}\n", 13, 29,
     "tag '!!set' is not allowed"),
    ("binary tag", edit("name: test", "name: !!binary dGVzdA=="), 1, 7,
     "tag '!!binary' is not allowed"),
    ("a key read as a boolean", GOOD + "true: 3\n", 13, 1,
     "key true is read as true/false, not as a name; keys are names: quote it ('true')"),
    ("an exponent too small for a float", edit("lr: 0.1", "lr: 1e-400"), 11, 28,
     "the number 1e-400 is too small for a float (it would read as 0)"),
    ("an integer of 5,000 digits", edit("- linear: 128", "- linear: 1" + "0" * 5000), 6, 15,
     "the number 10000000000000000000... has too many digits"),
    ("an exponent too large for a float", edit("lr: 0.1", "lr: 1e400"), 11, 28,
     "the number 1e400 is too large for a float (it would read as inf)"),
    ("infinite lr", edit("lr: 0.1", "lr: .inf"), 11, 28,
     "optimizer.lr: expected a finite number, found inf"),
    ("nan momentum", edit("momentum: 0.9", "momentum: .nan"), 11, 43,
     "optimizer.momentum: expected a finite number, found nan"),
    ("nan negative_slope", edit("- relu", "- leaky_relu: .nan"), 7, 19,
     "model.layers[2].leaky_relu.negative_slope: expected a finite number, found nan"),
    ("infinite noise",
     with_model("  mlp: {hidden: [8], outputs: 2}\n", "{source: moons, noise: .inf}")
     .replace("[784]", "[2]"), 5, 30, "data.noise: expected a finite number, found inf"),
    ("infinite interval", function_data("{source: function, interval: [0, .inf]}"), 5, 40,
     "data.interval[1]: expected a finite number, found inf"),
    ("unknown key of an optional section", GOOD + "sweep: {path: seed, values: [1], x: 2}\n",
     13, 34, "sweep.x: unknown key 'x'; choose one of: path, values"),
    ("a NUL byte", edit("name: test", "name: te\0st"), 1, 9,
     "NUL (U+0000) is not allowed in YAML"),
    ("another control byte", edit("lr: 0.1", "lr: 0.\x071"), 11, 30,
     "a control character (U+0007) is not allowed in YAML"),
    ("deep nesting", GOOD + "sweep: {path: seed, values: " + "[" * 20000 + "]" * 20000 + "}\n",
     13, 127, "nested more than 100 levels deep"),
    ("recursive alias", GOOD + "sweep: {path: seed, values: &v [1, *v]}\n", 13, 36,
     "alias *v refers to its own anchor &v (line 13): a recursive value has no end"),
]
# fmt: on


@pytest.mark.parametrize(
    "text, line, column, fragment", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_a_bad_spec_is_reported_at_its_line(tmp_path, text, line, column, fragment):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    problems = caught.value.problems
    assert len(problems) == 1, str(caught.value)
    assert str(problems[0]).startswith(f"{path}:{line}:{column}: "), str(caught.value)
    assert fragment in str(caught.value)


def test_there_are_at_least_25_cases():
    assert len(CASES) >= 25


def test_all_problems_of_a_file_are_reported_at_once(tmp_path):
    text = (
        edit("- linear: 128", "- lenear: 128")
        .replace("lr: 0.1", "lr: fast")
        .replace("epochs: 10", "epochs: 0")
        .replace("source: mnist-5k", "source: mnst")
        + "seed: 1\nseed: -1\ntrian: {epochs: 3}\n"
    )
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert str(caught.value).splitlines() == [
        f"{path}:6:7: model.layers[1]: unknown layer 'lenear'; did you mean 'linear'?",
        f"{path}:9:16: data.source: unknown data source 'mnst'; did you mean 'mnist'?",
        f"{path}:11:28: optimizer.lr: expected a number, found 'fast'",
        f"{path}:12:17: train.epochs: expected a positive integer, found 0",
        f"{path}:14:1: duplicate key 'seed' (also on line 13); keep only one",
        f"{path}:14:7: seed: expected an integer >= 0, found -1",
        f"{path}:15:1: trian: unknown key 'trian'; did you mean 'train'?",
    ]


def test_a_spec_error_is_a_user_error_with_exit_code_2(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(edit("epochs: 10", "epochs: 0"))
    with pytest.raises(UserError) as caught:
        load_spec(path)
    assert isinstance(caught.value, SpecError) and caught.value.exit_code == 2


@pytest.mark.parametrize("make", [lambda p: p / "missing.yaml", lambda p: p])
def test_a_missing_file_or_a_folder_is_a_clear_user_error(tmp_path, make):
    with pytest.raises(UserError, match="spec file not found|is a folder"):
        load_spec(make(tmp_path))


def billion_laughs(levels: int = 9) -> list[str]:
    """The classic alias bomb as anchored values: each lists the one before nine times."""
    values = ["&a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, levels + 1):
        values.append(f"&a{level} [{', '.join([f'*a{level - 1}'] * 9)}]")
    return values


def test_an_alias_bomb_is_refused_while_composing_before_anything_is_built(tmp_path, monkeypatch):
    from tinygrad_edu.spec import loader

    bomb = "".join(f"    - {value}\n" for value in billion_laughs())
    assert len(bomb.encode()) < 600  # the bomb had 582 bytes
    path = tmp_path / "bomb.yaml"
    path.write_text(GOOD + "sweep:\n  path: seed\n  values:\n" + bomb)
    counted = []
    original = loader.SpecLoader._count
    monkeypatch.setattr(
        loader.SpecLoader, "_count", lambda self, *a: (counted.append(1), original(self, *a))
    )
    monkeypatch.setattr(
        loader.SpecLoader, "construct_document", lambda self, node: pytest.fail("constructed")
    )
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert str(caught.value).startswith(f"{path}:21:")  # the alias that crossed the bound
    assert "more than 100,000 values once its aliases (*name) are expanded" in str(caught.value)
    # the work is bounded by the text, not by the expansion: one count per node written
    assert len(counted) < 200


def test_an_alias_that_expands_within_the_bound_is_fine(tmp_path):
    text = GOOD + "sweep: {path: seed, values: &v [1, 2, 3]}\nx: *v\n"
    path = tmp_path / "ok.yaml"
    path.write_text(text.replace("x: *v\n", ""))
    assert load_spec(path).sweep.values == [1, 2, 3]


@pytest.mark.parametrize("value", ["!!python/object/apply:os.system [ls]", "!!set {1}"])
def test_a_refused_tag_in_a_set_value_is_named_not_read_as_null(value):
    from tinygrad_edu.spec import apply_overrides, parse_spec

    with pytest.raises(SpecError, match="is not allowed: a spec holds plain data"):
        apply_overrides(parse_spec(GOOD), {"name": value})


def test_the_bounds_hold_for_set_values_too():
    from tinygrad_edu.spec import apply_overrides, parse_spec

    spec = parse_spec(GOOD)
    deep = "[" * 20000 + "]" * 20000
    with pytest.raises(SpecError, match=r"--set sweep:1:\d+: nested more than 100"):
        apply_overrides(spec, {"sweep": "{path: seed, values: " + deep + "}"})
    bomb = "[" + ", ".join(billion_laughs()) + "]"
    with pytest.raises(SpecError, match="--set sweep.values:1:.*YAML bomb"):
        apply_overrides(spec, {"sweep.values": bomb, "sweep.path": "seed"})
    with pytest.raises(SpecError, match="recursive value"):
        apply_overrides(spec, {"sweep.values": "&v [1, *v]", "sweep.path": "seed"})
    with pytest.raises(SpecError, match="too small for a float"):
        apply_overrides(spec, {"optimizer.lr": "1e-400"})


def test_a_control_byte_in_one_file_does_not_stop_validate_of_the_others(tmp_path, capsys):
    from tinygrad_edu.cli import main

    bad, good = tmp_path / "bad.yaml", tmp_path / "good.yaml"
    bad.write_bytes(GOOD.replace("name: test", "name: te\x00st").encode())
    good.write_text(GOOD)
    assert main(["validate", str(bad), str(good)]) == 2
    out, err = capsys.readouterr()
    assert f"{bad}:1:9: NUL (U+0000) is not allowed in YAML" in err
    assert out == f"OK  {good}\n"


def test_special_files_are_refused_before_reading(tmp_path):
    import os

    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)  # reading it would wait forever for a writer
    for path, kind in ((fifo, r"a FIFO \(named pipe\)"), ("/dev/zero", "a character device")):
        with pytest.raises(UserError, match=f"is {kind}, not a regular file"):
            load_spec(path)


def test_a_spec_larger_than_the_bound_is_refused_before_reading(tmp_path, monkeypatch):
    import builtins

    path = tmp_path / "big.yaml"
    path.write_text(GOOD + "#" * 1_000_001 + "\n")
    monkeypatch.setattr(builtins, "open", lambda *a, **k: pytest.fail("read"))
    with pytest.raises(UserError, match="more than the 1.0 MB such a file may have"):
        load_spec(path)


def test_an_unreadable_spec_is_a_user_error(tmp_path, monkeypatch):
    import os

    path = tmp_path / "secret.yaml"
    path.write_text(GOOD)
    real_open = os.open

    def refuse(file, *args, **kwargs):
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)  # tests run as root, who may read anything
    with pytest.raises(UserError, match="cannot be read: permission denied; make it readable"):
        load_spec(path)


def test_an_input_of_more_dimensions_than_arrays_have_is_a_spec_error():
    from tinygrad_edu.spec import parse_spec

    text = edit("input: [784]", "input: [" + ", ".join(["1"] * 70) + "]")
    with pytest.raises(SpecError, match="3:10: model.input: expected at most 32 items"):
        parse_spec(text, file="deep.yaml")
