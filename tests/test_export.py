"""Export to ONNX and safetensors, each checked by the other side: onnxruntime runs the
ONNX files, the safetensors library reads the weights files, and predict runs from a
file alone. (PyTorch's side is in test_export_torch.py.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn, runs
from tinygrad_edu.errors import UserError
from tinygrad_edu.export import (
    EXPORT_HINT,
    load_safetensors,
    save_safetensors,
    to_onnx,
    to_torch,
)
from tinygrad_edu.export.bundle import from_spec
from tinygrad_edu.io import npz
from tinygrad_edu.objectives import predict_arrays
from tinygrad_edu.runs.exported import CLASS_NAMES_KEY, NORMALIZATION_KEY, SPEC_KEY, VERSION_KEY
from tinygrad_edu.spec import load_spec, parse_spec, registry

onnx = pytest.importorskip("onnx", reason="onnx not installed (pip install tinygrad-edu[export])")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime not installed (the test extra)")
safetensors_numpy = pytest.importorskip("safetensors.numpy", reason="safetensors not installed")

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, str(ROOT / "cli.py")]
SPECS = sorted((ROOT / "specs").glob("*.yaml"))

MOONS = """
name: export-moons
seed: 3
model:
  input: [2]
  layers: [linear: 8, relu, linear: 2]
data: {source: moons, n_samples: 200, noise: 0.1}
loss: cross_entropy
optimizer: {name: adam, lr: 0.02}
train: {epochs: 1, batch_size: 16}
"""


def cli(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, **kwargs)


def onnx_outputs(path: Path, X: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": X})[0]


@pytest.fixture(autouse=True)
def forget_new_layer_types():
    before = set(registry.layer_names())
    yield
    for name in set(registry.layer_names()) - before:
        registry.unregister_layer(name)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> Path:
    """specs/mlp.yaml trained for one epoch (about a second)."""
    out = tmp_path_factory.mktemp("export") / "run"
    runs.train(ROOT / "specs" / "mlp.yaml", {"train.epochs": 1}, out=out, quiet=True)
    return out


# --- ONNX ---------------------------------------------------------------------------------


@pytest.mark.parametrize("spec_path", SPECS, ids=[p.stem for p in SPECS])
def test_onnx_matches_predict_on_the_test_split_for_every_spec(tmp_path, spec_path):
    bundle = from_spec(load_spec(spec_path))  # the seed's weights: the graph is what is tested
    path = tmp_path / "model.onnx"
    to_onnx(bundle.model, bundle.input_shape, path, metadata=bundle.metadata())
    onnx.checker.check_model(str(path), full_check=True)
    X = bundle.dataset.X_test
    np.testing.assert_allclose(
        onnx_outputs(path, X), predict_arrays(bundle.model, X), rtol=1e-5, atol=1e-5
    )


def _gelu_exact() -> nn.Module:
    try:
        return nn.GELU(approximate="none")
    except ValueError:
        pytest.skip("nn.GELU(approximate='none') is not implemented in this version")


LAYERS = {
    "linear": lambda: nn.Linear(5, 3),
    "linear_no_bias": lambda: nn.Linear(5, 3, bias=False),
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU,
    "gelu_tanh": lambda: nn.GELU(approximate="tanh"),
    "gelu_exact": _gelu_exact,
    "identity": nn.Identity,
    "softmax": lambda: nn.Softmax(dim=-1),
    "dropout": lambda: nn.Dropout(0.5),
    "flatten": nn.Flatten,
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_onnx_matches_every_layer_type(tmp_path, name):
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 5), LAYERS[name]())
    X = np.random.default_rng(0).normal(0, 3, (64, 4)).astype(np.float32)
    to_onnx(model, (4,), tmp_path / "m.onnx")
    np.testing.assert_allclose(
        onnx_outputs(tmp_path / "m.onnx", X), predict_arrays(model, X), rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize(
    ("input_shape", "layers"),
    [
        ((3, 4), lambda: [nn.Linear(4, 5), nn.Flatten(), nn.Linear(15, 2)]),  # MatMul + Add
        ((2, 3, 4), lambda: [nn.Flatten(start_dim=2), nn.Linear(12, 3, bias=False)]),
        ((3, 4), lambda: [nn.Tanh(), nn.Softmax(dim=1)]),
    ],
    ids=["linear_on_3d", "partial_flatten", "softmax_dim1"],
)
def test_onnx_handles_inputs_with_more_dimensions(tmp_path, input_shape, layers):
    tg.manual_seed(1)
    model = nn.Sequential(*layers())
    X = np.random.default_rng(1).normal(size=(7, *input_shape)).astype(np.float32)
    to_onnx(model, input_shape, tmp_path / "m.onnx")
    np.testing.assert_allclose(
        onnx_outputs(tmp_path / "m.onnx", X), predict_arrays(model, X), rtol=1e-5, atol=1e-5
    )


def test_onnx_float64_model_and_dynamic_batch(tmp_path):
    tg.set_default_dtype("float64")
    tg.manual_seed(2)
    model = nn.MLP(3, [6], 2, activation="tanh")
    proto = to_onnx(model, (3,), tmp_path / "m.onnx")
    batch = proto.graph.input[0].type.tensor_type.shape.dim[0]
    assert batch.dim_param == "batch"
    for n in (1, 5):
        X = np.random.default_rng(n).normal(size=(n, 3))
        out = onnx_outputs(tmp_path / "m.onnx", X)
        assert out.dtype == np.float64
        np.testing.assert_allclose(out, predict_arrays(model, X), rtol=1e-12, atol=1e-12)


def test_onnx_preprocessing_and_probabilities_take_raw_inputs(tmp_path, trained_run):
    path = tmp_path / "raw.onnx"
    result = cli(
        "export", str(trained_run), "--format", "onnx", "--out", str(path),
        "--include-preprocessing", "--probabilities",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    setup = runs.restore(trained_run)
    raw = np.rint(setup.dataset.X_test[:200] * 255.0).astype(np.float32)  # pixels 0..255
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["probabilities"]
    probs = session.run(None, {"input": raw})[0]
    logits = predict_arrays(setup.model, raw / np.float32(255.0))
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(probs, expected, rtol=1e-5, atol=1e-6)
    model = onnx.load(str(path))
    props = {p.key: p.value for p in model.metadata_props}
    assert parse_spec(props[SPEC_KEY]).name == "mnist-mlp"
    assert '"method": "scale"' in props[NORMALIZATION_KEY]
    assert [n.op_type for n in model.graph.node][:2] == ["Sub", "Div"]
    assert model.opset_import[0].version >= 17


def test_onnx_preprocessing_per_feature(tmp_path):
    bundle = from_spec(
        parse_spec(MOONS.replace("noise: 0.1", "noise: 0.1, normalize: standardize"))
    )
    shift, scale = bundle.normalization["shift"], bundle.normalization["scale"]
    assert shift.shape == (2,)
    raw = (bundle.dataset.X_test * scale + shift).astype(np.float32)
    path = tmp_path / "m.onnx"
    to_onnx(
        bundle.model, (2,), path, normalization=bundle.normalization, include_preprocessing=True
    )
    expected = predict_arrays(bundle.model, bundle.dataset.X_test)
    np.testing.assert_allclose(onnx_outputs(path, raw), expected, rtol=1e-5, atol=1e-5)


def test_torch_export_refuses_a_layer_it_cannot_write(tmp_path):
    class Twice(nn.Module):
        def forward(self, x):
            return x * 2.0

    registry.register_layer("twice")(Twice)
    spec = parse_spec(
        MOONS.replace("[linear: 8, relu, linear: 2]", "[linear: 8, twice, linear: 2]")
    )
    with pytest.raises(UserError, match=r"cannot write PyTorch code for layer 1 \(Twice\)"):
        to_torch(spec, tmp_path / "torch")


def test_evaluate_and_predict_need_trained_weights_from_a_spec(tmp_path):
    (tmp_path / "moons.yaml").write_text(MOONS)
    with pytest.raises(UserError, match="spec without init.from"):
        runs.evaluate(tmp_path / "moons.yaml")


def test_onnx_unsupported_layer_names_it_and_the_fix(tmp_path):
    class Scale(nn.Module):
        def __init__(self, factor: float = 2.0):
            self.factor = factor

        def forward(self, x):
            return x * self.factor

    registry.register_layer("scale_by")(Scale)
    model = nn.Sequential(nn.Linear(2, 3), Scale(3.0))
    with pytest.raises(UserError) as error:
        to_onnx(model, (2,), tmp_path / "m.onnx")
    message = str(error.value)
    assert "layer 1 'scale_by' (Scale)" in message
    assert "register_layer('scale_by', onnx=rule)" in message
    assert not (tmp_path / "m.onnx").exists()

    def rule(module, graph, x):
        return graph.add("Mul", [x, graph.constant(module.factor, "factor")])

    registry.register_layer("scale_by", replace=True, onnx=rule)(Scale)
    to_onnx(model, (2,), tmp_path / "m.onnx")
    X = np.random.default_rng(0).normal(size=(9, 2)).astype(np.float32)
    np.testing.assert_allclose(
        onnx_outputs(tmp_path / "m.onnx", X), predict_arrays(model, X), rtol=1e-6, atol=1e-6
    )


# --- safetensors ----------------------------------------------------------------------------


def test_safetensors_round_trip_with_pytorch_names_and_metadata(tmp_path, trained_run):
    result = cli("export", str(trained_run), "--format", "safetensors")
    assert result.returncode == 0, result.stderr
    path = trained_run / "model.safetensors"  # the default: next to the run
    arrays = safetensors_numpy.load_file(str(path))
    assert {k: v.shape for k, v in arrays.items()} == {
        "1.weight": (128, 784),
        "1.bias": (128,),
        "3.weight": (10, 128),
        "3.bias": (10,),
    }
    setup = runs.restore(trained_run)
    for key, value in setup.model.state_dict().items():
        np.testing.assert_array_equal(arrays[key], value)

    tg.manual_seed(99)  # other weights, then the file's
    fresh = nn.MLP(784, [128], 10)
    metadata = load_safetensors(fresh, path)
    for key, value in setup.model.state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[key], value)
    spec = parse_spec(metadata[SPEC_KEY])
    assert spec.name == "mnist-mlp" and spec.train.epochs == 1
    assert json.loads(metadata[CLASS_NAMES_KEY]) == [str(d) for d in range(10)]
    assert metadata[NORMALIZATION_KEY] == '{"method": "scale", "shift": 0.0, "scale": 255.0}'
    assert metadata[VERSION_KEY] == tg.__version__


def test_safetensors_mismatch_names_the_key_and_both_shapes(tmp_path):
    tg.manual_seed(0)
    save_safetensors(nn.MLP(4, [8], 3), tmp_path / "w.safetensors", {"note": {"a": 1}})
    with pytest.raises(
        UserError,
        match=r"'1\.weight' has shape \(8, 4\) in the file, but the model expects \(6, 4\)",
    ):  # noqa: E501
        load_safetensors(nn.MLP(4, [6], 3), tmp_path / "w.safetensors")
    longer = nn.Sequential(*nn.MLP(4, [8], 3), nn.ReLU(), nn.Linear(3, 2))
    with pytest.raises(UserError, match=r"the model has '5\.weight' of shape \(2, 3\)"):
        load_safetensors(longer, tmp_path / "w.safetensors")
    with pytest.raises(UserError, match=r"the file has '3\.bias' of shape \(3,\)"):
        load_safetensors(nn.Sequential(nn.Flatten(), nn.Linear(4, 8)), tmp_path / "w.safetensors")
    no_bias = nn.Sequential(nn.Flatten(), nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3, bias=False))
    with pytest.raises(UserError, match="'3.bias'"):
        load_safetensors(no_bias, tmp_path / "w.safetensors")


def test_pickled_pytorch_files_are_refused_with_the_conversion(tmp_path):
    path = tmp_path / "model.pt"
    path.write_bytes(b"not read")
    with pytest.raises(UserError) as error:
        load_safetensors(nn.MLP(4, [8], 3), path)
    assert "never unpickles" in str(error.value)
    assert "st.save_file(torch.load(" in str(error.value)


def test_predict_and_evaluate_run_from_the_safetensors_file_alone(tmp_path, trained_run):
    weights = tmp_path / "model.safetensors"  # elsewhere than the run folder
    assert (
        cli("export", str(trained_run), "--format", "safetensors", "--out", str(weights)).returncode
        == 0
    )  # noqa: E501
    digits = tmp_path / "digits.npz"
    X = np.rint(runs.restore(trained_run).dataset.X_test[:50] * 255).astype(np.float32)
    np.savez(digits, X=X)
    from_file = cli(
        "predict", str(weights), "--input", str(digits), "--output", str(tmp_path / "a.csv")
    )  # noqa: E501
    from_run = cli(
        "predict", str(trained_run), "--input", str(digits), "--output", str(tmp_path / "b.csv")
    )  # noqa: E501
    assert from_file.returncode == 0, from_file.stderr
    assert from_run.returncode == 0, from_run.stderr
    lines = (tmp_path / "a.csv").read_text().splitlines()
    assert len(lines) == 51 and lines[0].startswith("prediction,p_0,")
    assert lines == (tmp_path / "b.csv").read_text().splitlines()
    evaluated = cli("evaluate", str(weights), "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    from_file_metrics = json.loads(evaluated.stdout)
    from_run_metrics = json.loads(cli("evaluate", str(trained_run), "--json").stdout)
    for key in ("test_samples", "accuracy", "loss"):
        assert from_file_metrics[key] == from_run_metrics[key]


def test_a_file_without_metadata_cannot_predict_alone(tmp_path):
    tg.manual_seed(0)
    save_safetensors(nn.MLP(2, [4], 2), tmp_path / "w.safetensors")
    np.savez(tmp_path / "x.npz", X=np.zeros((2, 2), dtype=np.float32))
    result = cli(
        "predict",
        str(tmp_path / "w.safetensors"),
        "--input",
        str(tmp_path / "x.npz"),
        "--output",
        str(tmp_path / "p.csv"),
    )  # noqa: E501
    assert result.returncode == 2 and "no tinygrad_edu metadata" in result.stderr
    assert "Traceback" not in result.stderr


# --- weights in: init.from --------------------------------------------------------------


def test_init_from_loads_weights_before_training(tmp_path):
    tg.manual_seed(5)
    source = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    save_safetensors(source, tmp_path / "start.safetensors")
    (tmp_path / "moons.yaml").write_text(MOONS + "init: {from: start.safetensors}\n")
    spec = load_spec(tmp_path / "moons.yaml")
    assert getattr(spec.init, "from") == str(tmp_path / "start.safetensors")  # relative to the spec
    model = from_spec(spec).model
    for key, value in source.state_dict().items():
        np.testing.assert_array_equal(model.state_dict()[key], value)

    (tmp_path / "plain.yaml").write_text(MOONS)
    out = tmp_path / "run"
    result = cli(
        "train",
        str(tmp_path / "plain.yaml"),
        "--init-from",
        str(tmp_path / "start.safetensors"),
        "--out",
        str(out),
        "--quiet",
        "--no-plots",
    )  # noqa: E501
    assert result.returncode == 0, result.stderr
    assert f"from: {tmp_path / 'start.safetensors'}" in (out / "spec.yaml").read_text()


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ("init: {from: weights.pt}", "never unpickles"),
        ("init: {from: missing.safetensors}", "weights file not found"),
        ("init: {form: x.safetensors}", "did you mean 'from'?"),
    ],
)
def test_init_from_errors(tmp_path, extra, fragment):
    (tmp_path / "weights.pt").write_bytes(b"pickle")
    (tmp_path / "moons.yaml").write_text(MOONS + extra + "\n")
    result = cli("train", str(tmp_path / "moons.yaml"), "--out", str(tmp_path / "run"))
    assert result.returncode == 2 and fragment in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_schema_json_knows_init():
    import json

    schema = json.loads((ROOT / "specs" / "schema.json").read_text())
    assert "from" in json.dumps(schema["$defs"]["Init"])


# --- the command --------------------------------------------------------------------------


def test_export_without_the_libraries_prints_the_install_hint(tmp_path, trained_run):
    """ONNX needs the onnx library; safetensors files (and the torch folder) need none."""
    blocked = (
        "import sys; sys.modules['safetensors'] = None; sys.modules['onnx'] = None; "
        "from tinygrad_edu.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    for fmt in ("safetensors", "onnx", "torch"):
        result = subprocess.run(
            [sys.executable, "-c", blocked, "export", str(trained_run), "--format", fmt,
             "--out", str(tmp_path / f"out-{fmt}")],
            capture_output=True, text=True, cwd=ROOT, timeout=120,
        )  # fmt: skip
        if fmt == "onnx":
            assert result.returncode == 2, result.stderr
            assert result.stderr.strip() == f"error: {EXPORT_HINT}"
            assert not (tmp_path / "out-onnx").exists()
        else:
            assert result.returncode == 0, result.stderr
    written = safetensors_numpy.load_file(str(tmp_path / "out-safetensors"))  # the library reads it
    trained = npz.keys_under(npz.load_npz(trained_run / "model.npz"), "model")
    assert written.keys() == trained.keys() and len(written) >= 2
    for name, array in trained.items():
        np.testing.assert_array_equal(written[name], array)


def test_export_needs_the_run_data_only_for_the_torch_folder(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", X=rng.normal(size=(60, 3)), y=rng.integers(0, 2, 60))
    spec = MOONS.replace("input: [2]", "input: [3]").replace(
        "{source: moons, n_samples: 200, noise: 0.1}", "{source: npz, path: d.npz}"
    )
    (tmp_path / "s.yaml").write_text(spec)
    runs.train(tmp_path / "s.yaml", {}, out=tmp_path / "run", quiet=True)
    (tmp_path / "d.npz").unlink()  # the run moved to a machine without its data
    for fmt in ("safetensors", "onnx"):
        result = cli("export", str(tmp_path / "run"), "--format", fmt)
        assert result.returncode == 0, result.stderr
    result = cli("export", str(tmp_path / "run"), "--format", "torch")
    assert result.returncode == 2 and "d.npz" in result.stderr, result.stderr


def test_export_options_belong_to_onnx(trained_run):
    result = cli("export", str(trained_run), "--format", "safetensors", "--probabilities")
    assert result.returncode == 2 and "options of --format onnx" in result.stderr


def test_export_into_a_new_folder_or_an_unwritable_place(tmp_path, trained_run):
    target = tmp_path / "new" / "folder" / "m.onnx"
    assert cli("export", str(trained_run), "--format", "onnx", "--out", str(target)).returncode == 0
    assert target.is_file()
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = cli("export", str(trained_run), "--format", "onnx", "--out", str(blocker / "m.onnx"))
    assert result.returncode == 2 and "cannot write" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
