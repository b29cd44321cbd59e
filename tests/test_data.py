"""The data layer: shipped MNIST-5k, IDX files, synthetic sets, CSV/npz, splits,
normalization and batching. Nothing here touches the network (see test_data_download)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from idx_files import write_fake_mnist, write_idx

from tinygrad_edu.data import SOURCES, Dataset, apply_normalization, iterate_batches, load_dataset
from tinygrad_edu.data.dataset import split_indices
from tinygrad_edu.data.mnist import read_idx
from tinygrad_edu.data.sources import _CHECKS
from tinygrad_edu.errors import UserError

PLANES = ["moons", "circles", "xor", "spiral", "gaussian"]


def assert_same(a: Dataset, b: Dataset) -> None:
    for field in ("X_train", "y_train", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


# --- MNIST-5k (shipped) ---------------------------------------------------------------


@pytest.fixture(scope="module")
def mnist5k() -> Dataset:
    return load_dataset({"source": "mnist-5k"}, seed=0)


def test_mnist5k_shapes_range_and_labels(mnist5k):
    d = mnist5k
    assert d.X_train.shape == (4000, 784) and d.X_test.shape == (1000, 784)
    assert d.X_train.dtype == np.float32 and d.y_train.dtype == np.int64
    assert d.X_val is None and d.y_val is None
    assert 0.0 <= d.X_train.min() and d.X_train.max() == 1.0
    assert (d.input_shape, d.num_classes, d.task) == ((784,), 10, "classification")
    assert d.class_names == [str(i) for i in range(10)] and d.name == "mnist-5k"
    assert d.normalization["method"] == "scale" and float(d.normalization["scale"]) == 255.0
    assert d.describe() == "mnist-5k: 4000 train / 1000 test, 784 features, 10 classes"


def test_mnist5k_split_is_stratified(mnist5k):
    assert np.bincount(mnist5k.y_test).tolist() == [100] * 10
    assert np.bincount(mnist5k.y_train).tolist() == [400] * 10


def test_mnist5k_same_seed_same_split_other_seed_other_split(mnist5k):
    assert_same(mnist5k, load_dataset({"source": "mnist-5k"}, seed=0))
    other = load_dataset({"source": "mnist-5k"}, seed=1)
    assert not np.array_equal(other.X_test, mnist5k.X_test)


def test_mnist5k_validation_fraction_is_taken_from_training_part():
    d = load_dataset({"source": "mnist-5k", "validation_fraction": 0.1}, seed=0)
    assert (len(d.X_train), len(d.X_val), len(d.X_test)) == (3600, 400, 1000)
    assert np.bincount(d.y_val).tolist() == [40] * 10
    assert np.bincount(d.y_train).tolist() == [360] * 10
    assert d.describe().startswith("mnist-5k: 3600 train / 400 validation / 1000 test")


@pytest.mark.parametrize("fraction", [0.0, 0.13, 0.5])
def test_split_indices_is_a_disjoint_cover_with_exact_total(fraction):
    labels = np.repeat([0, 1, 2], [7, 50, 13])  # uneven classes: shares are not whole
    kept, taken = split_indices(len(labels), fraction, np.random.default_rng(0), labels)
    assert sorted(np.concatenate([kept, taken]).tolist()) == list(range(len(labels)))
    assert len(taken) == round(len(labels) * fraction)
    expected = np.bincount(labels) * fraction
    assert np.all(np.abs(np.bincount(labels[taken], minlength=3) - expected) < 1)


# --- IDX files and the full MNIST from a folder ---------------------------------------


@pytest.mark.parametrize("name", ["images-idx3-ubyte", "images-idx3-ubyte.gz"])
def test_read_idx_raw_and_gzipped(tmp_path, name):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / name, array), 0x803), array)


def test_read_idx_rejects_bad_magic_wrong_kind_and_truncation(tmp_path):
    path = tmp_path / "x-idx3-ubyte"
    path.write_bytes(b"PK\x03\x04 not idx")
    with pytest.raises(UserError, match="not an IDX file"):
        read_idx(path)
    write_idx(path, np.zeros(5, np.uint8))
    with pytest.raises(UserError, match=r"magic number 2049 \(0x00000801\), expected 2051"):
        read_idx(path, 0x803)
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(UserError, match="truncated or corrupt"):
        read_idx(path)
    gz = tmp_path / "y-idx1-ubyte.gz"
    gz.write_bytes(b"\x1f\x8b garbage")
    with pytest.raises(UserError, match="cannot read it"):
        read_idx(gz)


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_from_folder_uses_official_split(tmp_path, gz):
    arrays = write_fake_mnist(tmp_path, gz=gz)
    d = load_dataset({"source": "mnist", "path": str(tmp_path)}, seed=0)
    assert (d.X_train.shape, d.X_test.shape, d.input_shape) == ((40, 16), (20, 16), (16,))
    np.testing.assert_array_equal(d.y_test, arrays["t10k-labels-idx1-ubyte"])
    expected = arrays["t10k-images-idx3-ubyte"].reshape(20, 16) / np.float32(255)
    np.testing.assert_allclose(d.X_test, expected)
    with_val = load_dataset(
        {"source": "mnist", "path": str(tmp_path), "validation_fraction": 0.25}, seed=0
    )
    assert (len(with_val.X_train), len(with_val.X_val), len(with_val.X_test)) == (30, 10, 20)
    assert np.bincount(with_val.y_val).tolist() == [1] * 10


def test_mnist_missing_files_without_download_says_how_to_fix(tmp_path):
    with pytest.raises(UserError, match="download: true") as error:
        load_dataset({"source": "mnist", "path": str(tmp_path)}, seed=0)
    assert str(tmp_path) in str(error.value) and "t10k-labels-idx1-ubyte" in str(error.value)


def test_mnist_files_that_do_not_belong_together(tmp_path):
    write_fake_mnist(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(3, np.uint8))
    with pytest.raises(UserError, match="holds 20 images but .* holds 3 labels"):
        load_dataset({"source": "mnist", "path": str(tmp_path)}, seed=0)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros((20, 4, 4), np.uint8))
    with pytest.raises(UserError, match="magic number 2051"):
        load_dataset({"source": "mnist", "path": str(tmp_path)}, seed=0)


# --- synthetic sets ---------------------------------------------------------------------


@pytest.mark.parametrize("source", PLANES)
def test_planes_shapes_balance_and_determinism(source):
    d = load_dataset({"source": source, "n_samples": 301}, seed=3)
    assert d.X_train.shape == (241, 2) and d.X_test.shape == (60, 2)
    labels = np.concatenate([d.y_train, d.y_test])
    assert set(labels.tolist()) == {0, 1} and 0.4 < labels.mean() < 0.6
    assert (d.num_classes, d.task, d.input_shape) == (2, "classification", (2,))
    assert_same(d, load_dataset({"source": source, "n_samples": 301}, seed=3))
    other = load_dataset({"source": source, "n_samples": 301}, seed=4)
    assert not np.array_equal(d.X_train, other.X_train)


@pytest.mark.parametrize("source", PLANES)
def test_planes_noise_moves_points(source):
    clean = load_dataset({"source": source, "noise": 0.0}, seed=0)
    noisy = load_dataset({"source": source, "noise": 0.3}, seed=0)
    np.testing.assert_array_equal(clean.y_train, noisy.y_train)
    moved = np.linalg.norm(clean.X_train - noisy.X_train, axis=1)
    assert 0.2 < moved.mean() < 0.6  # mean norm of 2-D Gaussian jitter: 0.3 * sqrt(pi / 2)


def _all_points(d: Dataset) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([d.X_train, d.X_test]), np.concatenate([d.y_train, d.y_test])


def test_noiseless_shapes_are_what_their_names_say():
    X, y = _all_points(load_dataset({"source": "moons", "noise": 0.0}, seed=0))
    np.testing.assert_allclose(np.linalg.norm(X[y == 0], axis=1), 1, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(X[y == 1] - [1, 0.5], axis=1), 1, atol=1e-6)
    X, y = _all_points(load_dataset({"source": "circles", "noise": 0.0, "factor": 0.3}, seed=0))
    np.testing.assert_allclose(np.linalg.norm(X[y == 0], axis=1), 1, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(X[y == 1], axis=1), 0.3, atol=1e-6)
    X, y = _all_points(load_dataset({"source": "xor", "noise": 0.0}, seed=0))
    assert np.all(np.abs(X) <= 1) and np.array_equal(y, (X[:, 0] * X[:, 1] > 0).astype(int))
    X, y = _all_points(load_dataset({"source": "spiral", "noise": 0.0}, seed=0))
    assert np.linalg.norm(X, axis=1).max() < 1
    X, y = _all_points(load_dataset({"source": "gaussian", "noise": 0.0}, seed=0))
    np.testing.assert_allclose(X[y == 0].mean(axis=0), [-1, -1], atol=0.1)
    np.testing.assert_allclose(X[y == 1].mean(axis=0), [1, 1], atol=0.1)


@pytest.mark.parametrize(
    ("name", "f"),
    [
        ("sin", np.sin),
        ("cos", np.cos),
        ("abs", np.abs),
        ("step", lambda x: (x > 0).astype(float)),
        ("relu", lambda x: np.maximum(x, 0)),
        ("square", np.square),
        ("x^2", np.square),
        ("cubic", lambda x: x**3),
        ("x^3", lambda x: x**3),
    ],
)
def test_function_targets_are_the_function(name, f):
    config = {"source": "function", "function": name, "interval": [-2, 1], "n_samples": 50}
    d = load_dataset(config, seed=0)
    assert d.task == "regression" and d.num_classes is None
    assert d.X_train.shape == (40, 1) and d.y_train.shape == (40, 1)
    assert d.y_train.dtype == np.float32 and d.input_shape == (1,)
    X, y = _all_points(d)
    assert X.min() >= -2 and X.max() <= 1
    np.testing.assert_allclose(y, f(X.astype(np.float64)), rtol=1e-5, atol=1e-5)


def test_function_noise_changes_targets_not_inputs():
    config = {"source": "function", "function": "sin", "n_samples": 100}
    clean, noisy = load_dataset(config, seed=0), load_dataset({**config, "noise": 0.1}, seed=0)
    np.testing.assert_array_equal(clean.X_train, noisy.X_train)
    assert 0.05 < np.std(noisy.y_train - clean.y_train) < 0.2


def _every_point(d: Dataset) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([d.X_train, d.X_test]), np.concatenate([d.y_train, d.y_test])[:, 0]


@pytest.mark.parametrize("source", ["reg-plane", "reg-gauss"])
def test_playground_regression_sets_as_tensorflow_playground_has_them(source):
    d = load_dataset({"source": source}, seed=3)
    X, y = _every_point(d)
    assert d.task == "regression" and X.shape == (1200, 2)  # its 1,200 points
    assert np.all(np.abs(X) <= 1) and np.all(np.abs(y) <= 1)
    assert y.min() < -0.6 and y.max() > 0.6  # both signs, a good part of the range
    assert_same(d, load_dataset({"source": source}, seed=3))
    assert not np.array_equal(_every_point(load_dataset({"source": source}, seed=4))[0], X)
    noisy_X, noisy_y = _every_point(load_dataset({"source": source, "noise": 0.2}, seed=3))
    np.testing.assert_array_equal(noisy_X, X)  # noise moves where a target is read, not points
    assert not np.array_equal(noisy_y, y) and np.all(np.abs(noisy_y) <= 1)


def test_noiseless_playground_regression_targets_are_their_formulas():
    X, y = _every_point(load_dataset({"source": "reg-plane"}, seed=0))
    # (x1 + x2) / 10 in the Playground's units (6 times ours), clipped to [-1, 1]
    np.testing.assert_allclose(y, np.clip(0.6 * (X[:, 0] + X[:, 1]), -1, 1), atol=1e-6)
    at = np.array([[-4, 2.5], [0, 2.5], [0, -2.5], [4, -2.5], [1, 0], [-2, 2.5], [-5.5, 2.5]]) / 6
    values = _reg_gauss_at(at)
    # centres +1/-1 by sign; (1, 0) lies 2.5 from every centre: 0; midway between two
    # opposite bumps (distance 2 from both): 0; (-5.5, 2.5) is 1.5 from (-4, 2.5): 1 - 0.75
    np.testing.assert_allclose(values, [1, -1, 1, -1, 0, 0, 0.25], atol=1e-12)


def _reg_gauss_at(points: np.ndarray) -> np.ndarray:
    """reg_gauss's targets read at given points (no jitter), through its own code."""
    from tinygrad_edu.data import synthetic

    class Fixed:
        def uniform(self, low, high, size):
            return points

        def normal(self, mean, std, size):
            return np.zeros(size)

    return synthetic.reg_gauss(len(points), 0.0, Fixed()).y


def test_labels_become_float_targets_for_regression_and_not_the_reverse():
    d = load_dataset({"source": "moons"}, seed=0, task="regression")
    assert d.y_train.shape == (400, 1) and d.y_train.dtype == np.float32
    assert d.num_classes is None and set(np.unique(d.y_train)) == {0.0, 1.0}
    with pytest.raises(UserError, match="use a regression loss"):
        load_dataset({"source": "function", "noise": 0.1}, seed=0, task="classification")


# --- CSV and npz ------------------------------------------------------------------------


def write(tmp_path, text: str, name: str = "data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_csv_with_header_and_text_labels(tmp_path):
    rows = "".join(f"{i},{i * 2},{['dog', 'cat', 'emu'][i % 3]}\n" for i in range(30))
    path = write(tmp_path, "a,b,animal\n" + rows)
    d = load_dataset({"source": "csv", "path": path, "target": "animal"}, seed=0)
    assert d.class_names == ["cat", "dog", "emu"] and d.num_classes == 3
    assert d.task == "classification" and d.input_shape == (2,) and d.name == "data.csv"
    raw = load_dataset(
        {"source": "csv", "path": path, "target": "animal", "normalize": "none"}, seed=0
    )
    animals = np.array(["dog", "cat", "emu"])[raw.X_train[:, 0].astype(int) % 3]
    assert np.array_equal(np.array(raw.class_names)[raw.y_train], animals)


def test_csv_without_header_even_with_text_labels(tmp_path):
    rows = "".join(f"{i}.5,{i % 4},{'yes' if i % 2 else 'no'}\n" for i in range(20))
    d = load_dataset({"source": "csv", "path": write(tmp_path, rows), "target": -1}, seed=0)
    assert len(d.X_train) + len(d.X_test) == 20 and d.class_names == ["no", "yes"]
    numeric = "".join(f"{i},{i % 3}\n" for i in range(20))
    d = load_dataset({"source": "csv", "path": write(tmp_path, numeric), "target": 1}, seed=0)
    assert len(d.X_train) + len(d.X_test) == 20 and d.num_classes == 3 and d.class_names is None


def test_csv_float_targets_are_regression_negative_labels_are_remapped(tmp_path):
    path = write(tmp_path, "x,y\n" + "".join(f"{i},{i / 3}\n" for i in range(12)))
    d = load_dataset({"source": "csv", "path": path, "target": "y"}, seed=0)
    assert d.task == "regression" and d.y_train.shape == (10, 1)
    with pytest.raises(UserError, match="whole-number or text class labels"):
        load_dataset({"source": "csv", "path": path, "target": "y"}, 0, task="classification")
    path = write(tmp_path, "x,y\n" + "".join(f"{i},{(-1) ** i}\n" for i in range(12)))
    d = load_dataset({"source": "csv", "path": path, "target": "y"}, seed=0)
    assert d.class_names == ["-1", "1"] and set(d.y_train.tolist()) == {0, 1}


def test_csv_bad_cell_names_first_line_column_and_value(tmp_path):
    text = "a,b,label\n1,2,0\n3,oops,1\n4,5,0\n,6,1\n"
    path = write(tmp_path, text)
    with pytest.raises(UserError) as error:
        load_dataset({"source": "csv", "path": path, "target": "label"}, seed=0)
    message = str(error.value)
    assert "line 3" in message and "column 'b'" in message and "'oops'" in message
    assert path in message


def test_csv_missing_target_lists_columns(tmp_path):
    path = write(tmp_path, "a,b,label\n1,2,0\n3,4,1\n")
    with pytest.raises(UserError, match="no column named 'class'.*'a', 'b', 'label'"):
        load_dataset({"source": "csv", "path": path, "target": "class"}, seed=0)
    with pytest.raises(UserError, match="out of range"):
        load_dataset({"source": "csv", "path": path, "target": 3}, seed=0)


def test_csv_ragged_row_and_empty_target(tmp_path):
    path = write(tmp_path, "a,b,label\n1,2,0\n3,4\n")
    with pytest.raises(UserError, match="line 3: 2 cells, but the header has 3"):
        load_dataset({"source": "csv", "path": path, "target": "label"}, seed=0)
    path = write(tmp_path, "a,b,label\n1,2,0\n3,4, \n")
    with pytest.raises(UserError, match="line 3, column 'label': the target is empty"):
        load_dataset({"source": "csv", "path": path, "target": "label"}, seed=0)


@pytest.mark.parametrize("source", ["csv", "npz"])
def test_missing_file_names_path_and_fix(tmp_path, source):
    config = {"source": source, "path": str(tmp_path / "nope"), "target": 0}
    if source == "npz":
        del config["target"]
    with pytest.raises(UserError, match="nope does not exist; set data.path"):
        load_dataset(config, seed=0)


def test_npz_good_file(tmp_path):
    path = tmp_path / "d.npz"
    X = np.arange(60, dtype=np.float64).reshape(10, 2, 3)
    np.savez(path, X=X, y=np.arange(10) % 2)
    d = load_dataset({"source": "npz", "path": str(path), "normalize": "none"}, seed=0)
    assert d.input_shape == (6,) and d.num_classes == 2 and d.task == "classification"
    rows = np.concatenate([d.X_train, d.X_test])
    assert sorted(rows[:, 0].tolist()) == X.reshape(10, 6)[:, 0].tolist()


def test_npz_missing_array_and_pickled_content(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, features=np.zeros((3, 2)), y=np.zeros(3))
    with pytest.raises(UserError, match="no array named X; the file holds features, y"):
        load_dataset({"source": "npz", "path": str(path)}, seed=0)
    np.savez(path, X=np.array([{"a": 1}] * 3, dtype=object), y=np.zeros(3))
    with pytest.raises(UserError, match="cannot read it as an npz file of plain arrays"):
        load_dataset({"source": "npz", "path": str(path)}, seed=0)


# --- normalization ----------------------------------------------------------------------


def _tabular(tmp_path) -> str:
    rng = np.random.default_rng(0)
    X = rng.normal([5.0, -100.0, 0.0], [2.0, 30.0, 1.0], size=(200, 3))
    X[:, 2] = 7.0  # a constant feature must not divide by zero
    path = tmp_path / "t.npz"
    np.savez(path, X=X, y=np.arange(200) % 2)
    return str(path)


def test_standardize_uses_training_statistics_only(tmp_path):
    config = {"source": "npz", "path": _tabular(tmp_path), "validation_fraction": 0.2}
    raw = load_dataset({**config, "normalize": "none"}, seed=0)
    d = load_dataset(config, seed=0)  # npz defaults to standardize
    assert d.normalization["method"] == "standardize"
    np.testing.assert_allclose(d.normalization["shift"], raw.X_train.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(d.X_train[:, :2].mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(d.X_train[:, :2].std(axis=0), 1, atol=1e-5)
    np.testing.assert_array_equal(d.X_train[:, 2], 0)
    for split in ("X_val", "X_test"):
        np.testing.assert_allclose(getattr(d, split), d.transform(getattr(raw, split)), atol=1e-6)
    assert abs(d.X_test[:, 0].mean()) > 1e-4  # test statistics were not used


def test_scale_is_min_max_of_training_split_for_tables(tmp_path):
    config = {"source": "npz", "path": _tabular(tmp_path), "normalize": "scale"}
    raw = load_dataset({**config, "normalize": "none"}, seed=0)
    d = load_dataset(config, seed=0)
    np.testing.assert_allclose(d.X_train[:, :2].min(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(d.X_train[:, :2].max(axis=0), 1, atol=1e-6)
    np.testing.assert_allclose(d.X_test, apply_normalization(d.normalization, raw.X_test))


def test_images_are_normalized_as_a_whole():
    d = load_dataset({"source": "mnist-5k", "normalize": "standardize"}, seed=0)
    assert d.normalization["shift"].shape == () and d.normalization["scale"].shape == ()
    assert abs(d.X_train.mean()) < 1e-4 and abs(d.X_train.std() - 1) < 1e-3
    none = load_dataset({"source": "mnist-5k", "normalize": "none"}, seed=0)
    assert none.X_train.max() == 255.0


# --- batching ---------------------------------------------------------------------------


def test_iterate_batches_covers_every_sample_once_last_batch_partial():
    X, y = np.arange(23)[:, None] * 10, np.arange(23)
    batches = list(iterate_batches(X, y, 5, True, np.random.default_rng(0)))
    assert [len(b[1]) for b in batches] == [5, 5, 5, 5, 3]
    seen = np.concatenate([b[1] for b in batches])
    assert sorted(seen.tolist()) == list(range(23)) and seen.tolist() != list(range(23))
    assert all(np.array_equal(xb[:, 0], yb * 10) for xb, yb in batches)
    ordered = np.concatenate([b[1] for b in iterate_batches(X, y, 4, False, None)])
    assert ordered.tolist() == list(range(23))


def test_iterate_batches_is_deterministic_given_generator_state():
    X = y = np.arange(50)
    generator = np.random.default_rng(7)
    state = generator.bit_generator.state
    first = [yb.tolist() for _, yb in iterate_batches(X, y, 8, True, generator)]
    second_epoch = [yb.tolist() for _, yb in iterate_batches(X, y, 8, True, generator)]
    generator.bit_generator.state = state
    assert [yb.tolist() for _, yb in iterate_batches(X, y, 8, True, generator)] == first
    assert second_epoch != first


def test_iterate_batches_draws_the_order_when_called():
    generator = np.random.default_rng(0)
    before = generator.bit_generator.state
    batches = iterate_batches(np.arange(10), np.arange(10), 3, True, generator)
    assert generator.bit_generator.state != before
    assert len(list(batches)) == 4
    with pytest.raises(UserError, match="batch_size must be a positive integer"):
        iterate_batches(np.arange(3), np.arange(3), 0, True, generator)


# --- options ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"source": "moons", "nosie": 0.1}, "unknown option 'nosie'.*its options are: n_samples"),
        ({"source": "mnist", "test_fraction": 0.2}, "unknown option 'test_fraction'"),
        ({"source": "faces"}, "unknown data.source 'faces'; choose one of: mnist-5k, mnist"),
        ({"noise": 0.1}, "data.source is missing"),
        ({"source": "csv", "path": "x.csv"}, "source 'csv' needs target"),
        ({"source": "moons", "noise": -1}, "data.noise must be a number >= 0"),
        ({"source": "moons", "n_samples": 2.5}, "data.n_samples must be a whole number"),
        ({"source": "moons", "test_fraction": 1}, "data.test_fraction must be a number from 0"),
        ({"source": "function", "function": "tan"}, "data.function must be one of sin, cos"),
        ({"source": "function", "interval": [3, -3]}, "data.interval must be two numbers"),
        ({"source": "moons", "normalize": "minmax"}, "one of none, scale, standardize"),
        ({"source": "mnist", "sha256": {"a.gz": "0" * 64}}, "data.sha256: unknown file 'a.gz'"),
        ({"source": "moons", "n_samples": 2, "test_fraction": 0.9}, "training split is empty"),
    ],
)
def test_bad_options_are_user_errors(config, message):
    with pytest.raises(UserError, match=message):
        load_dataset(config, seed=0)


def test_bad_seed_and_task():
    with pytest.raises(UserError, match="seed must be a non-negative integer"):
        load_dataset({"source": "moons"}, seed=-1)
    with pytest.raises(UserError, match="task must be 'classification' or 'regression'"):
        load_dataset({"source": "moons"}, seed=0, task="ranking")


def test_every_default_is_valid_and_every_option_is_checked():
    assert all(key in _CHECKS for options in SOURCES.values() for key in options)
    for source in [*PLANES, "function", "mnist-5k"]:
        assert load_dataset({"source": source, **SOURCES[source]}, seed=0).task


def test_importing_the_package_stays_light():
    code = (
        "import sys, tinygrad_edu; assert 'tinygrad_edu.data' not in sys.modules; "
        "before = set(sys.modules); import tinygrad_edu.data; "
        "assert not {m.split('.')[0] for m in set(sys.modules) - before} & {'rich'}"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- hostile and damaged data files (issue 9) -------------------------------------------


@pytest.mark.parametrize("special", ["fifo", "/dev/zero", "/dev/urandom"])
@pytest.mark.parametrize("source", ["csv", "npz"])
def test_a_special_file_as_data_is_refused_before_reading(tmp_path, source, special):
    import os

    if special == "fifo":
        special = str(tmp_path / "fifo")
        os.mkfifo(special)  # reading it would wait for a writer forever
    config = {"source": source, "path": special, **({"target": 0} if source == "csv" else {})}
    with pytest.raises(UserError, match="not a regular file") as caught:
        load_dataset(config, seed=0)
    assert "does not exist" not in str(caught.value)


def test_a_missing_data_file_names_the_setting_and_no_wrong_folder(tmp_path):
    with pytest.raises(UserError) as caught:
        load_dataset({"source": "csv", "path": str(tmp_path / "nope.csv"), "target": 0}, seed=0)
    message = str(caught.value)
    assert "nope.csv does not exist; set data.path to your CSV file" in message
    assert "current directory" not in message  # the path was resolved from the spec's folder


def test_predict_input_errors_name_the_input_not_data_path(tmp_path):
    from tinygrad_edu.data.files import load_features

    with pytest.raises(UserError, match="does not exist; give predict --input a CSV") as caught:
        load_features(tmp_path / "missing.csv")
    assert "data.path" not in str(caught.value)
    with pytest.raises(UserError, match="is a character device, not a regular file"):
        load_features("/dev/zero")


def test_a_csv_over_the_size_bound_is_refused_before_reading(tmp_path, monkeypatch):
    from tinygrad_edu.data import files

    path = write(tmp_path, "a,b\n" + "1,0\n" * 100)
    monkeypatch.setattr(files, "MAX_CSV_BYTES", 100)
    with pytest.raises(UserError, match="more than the 100 bytes such a file may have"):
        load_dataset({"source": "csv", "path": path, "target": 1}, seed=0)


def test_a_one_column_csv_or_a_wrong_delimiter_says_so(tmp_path):
    path = write(tmp_path, "label\n0\n1\n0\n1\n")
    with pytest.raises(
        UserError, match="one column only \\('label'\\); a table needs feature columns"
    ) as caught:
        load_dataset({"source": "csv", "path": path, "target": 0}, seed=0)
    assert "model.input" not in str(caught.value)
    path = write(tmp_path, "a;b;label\n1;2;0\n3;4;1\n")
    for target in (-1, "label"):
        with pytest.raises(UserError, match="separated by ';': set data.delimiter: ';'"):
            load_dataset({"source": "csv", "path": path, "target": target}, seed=0)


def test_a_header_only_csv_says_it_has_no_rows(tmp_path):
    path = write(tmp_path, "a,b,label\n")
    with pytest.raises(UserError, match="has a header but no data rows"):
        load_dataset({"source": "csv", "path": path, "target": "label"}, seed=0)
    with pytest.raises(UserError, match="has a header but no data rows"):
        load_dataset({"source": "csv", "path": path, "target": -1}, seed=0)


def _npz_with_lying_header(path, shape: tuple[int, ...]) -> None:
    """An npz whose X.npy header declares `shape` (float64) over a few real bytes."""
    import io
    import zipfile

    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": shape}
    )
    y = io.BytesIO()
    np.save(y, np.zeros(2))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("X.npy", header.getvalue() + b"\0" * 64)
        archive.writestr("y.npy", y.getvalue())


def test_an_npz_whose_header_claims_800_gb_is_refused_before_allocating(tmp_path, monkeypatch):
    path = tmp_path / "liar.npz"
    _npz_with_lying_header(path, (100_000_000_000,))  # 800 GB of float64
    monkeypatch.setattr(np, "load", lambda *a, **k: pytest.fail("np.load was called"))
    with pytest.raises(UserError, match=r"claims shape \(100000000000,\) of float64 \(800.0 GB\)"):
        load_dataset({"source": "npz", "path": str(path)}, seed=0)


def test_an_npz_larger_than_memory_is_refused_before_loading(tmp_path, monkeypatch):
    from tinygrad_edu.io import reading

    path = tmp_path / "d.npz"
    np.savez(path, X=np.zeros((1000, 10)), y=np.zeros(1000))
    monkeypatch.setattr(reading, "available_memory", lambda: 100_000)
    monkeypatch.setattr(np, "load", lambda *a, **k: pytest.fail("np.load was called"))
    with pytest.raises(UserError, match="need about 264.0 kB of memory, but this machine has"):
        load_dataset({"source": "npz", "path": str(path)}, seed=0)


def test_a_gzip_bomb_as_mnist_is_read_no_further_than_its_header_says(tmp_path):
    import gzip

    header = bytes([0, 0, 0x08, 3]) + b"".join(n.to_bytes(4, "big") for n in (10, 28, 28))
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(header + b"\0" * 50_000_000, mtime=0))  # 49 kB of gzip
    assert path.stat().st_size < 100_000
    with pytest.raises(
        UserError,
        match=r"claims shape \(10, 28, 28\) \(7,856 bytes\), but the file holds "
        r"50,000,016 bytes, its gzip trailer says",
    ):
        read_idx(path, 0x00000803)  # refused from the trailer, before decompressing anything


def test_idx_headers_are_compared_before_any_data_is_read(tmp_path):
    """5,000,000 images claimed beside 0 labels (issue 21, item 3): refused from the
    headers and sizes alone; the old code decompressed the images until memory ran out."""
    import gzip

    from tinygrad_edu.data.mnist import idx_shape, load_mnist

    header = bytes([0, 0, 0x08, 3]) + b"".join(n.to_bytes(4, "big") for n in (5_000_000, 28, 28))
    forged = tmp_path / "forged-idx3-ubyte.gz"
    forged.write_bytes(gzip.compress(header + b"\0" * 1000, mtime=0))
    with pytest.raises(UserError, match=r"at most [\d,]+ bytes once decompressed"):
        idx_shape(forged, 0x803)
    write_fake_mnist(tmp_path / "mnist")
    (tmp_path / "mnist" / "train-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 0]), mtime=0)
    )
    with pytest.raises(UserError, match="holds 40 images but .* holds 0 labels"):
        load_mnist(tmp_path / "mnist", False, "", {})
    raw = tmp_path / "raw-idx3-ubyte"
    raw.write_bytes(header + b"\0" * 1000)
    with pytest.raises(UserError, match=r"\(3,920,000,016 bytes\), but the file holds 1,016 bytes"):
        read_idx(raw, 0x803)


def test_an_idx_header_larger_than_memory_is_refused(tmp_path, monkeypatch):
    from tinygrad_edu.io import reading

    header = bytes([0, 0, 0x08, 3]) + b"".join(n.to_bytes(4, "big") for n in (1000, 28, 28))
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(header + bytes(1000 * 28 * 28))  # as large as the header says
    monkeypatch.setattr(reading, "available_memory", lambda: 10**6)
    with pytest.raises(UserError, match="need about 3.9 MB of memory"):
        read_idx(path, 0x00000803)


def test_generated_data_that_overflows_float32_is_refused_before_training():
    config = {"source": "function", "function": "cubic", "interval": [-1e200, 1e200]}
    with pytest.raises(UserError, match="the train features hold non-finite values"):
        load_dataset(config, seed=0)
    with pytest.raises(UserError, match="the train targets hold non-finite values"):
        load_dataset({"source": "function", "noise": 1e300}, seed=0)


def test_non_finite_npz_targets_are_refused(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.zeros((10, 2)), y=np.array([0.5, np.nan] * 5))
    with pytest.raises(UserError, match="targets hold non-finite values"):
        load_dataset({"source": "npz", "path": str(path)}, seed=0, task="regression")


csv_cells = st.sampled_from(["0", "1.5", "-2e3", "nan", "inf", "", " ", "x", '"', "1e999", "0x1"])
csv_rows = st.lists(st.lists(csv_cells, min_size=0, max_size=4), max_size=5)


@given(
    rows=csv_rows,
    delimiter=st.sampled_from([",", ";"]),
    trailer=st.sampled_from(["", "\n", "\r\n"]),
)
def test_any_predict_csv_is_read_or_refused_in_one_paragraph(
    tmp_path_factory, rows, delimiter, trailer
):
    """Structured hostile CSVs for predict's --input (issue 21's corpus): ragged rows, text,
    quotes, non-finite and overflowing numbers, empty files. Either a finite 2-D float
    matrix or one `UserError` paragraph naming the file, never another exception."""
    from tinygrad_edu.data.files import load_features

    path = tmp_path_factory.mktemp("csv") / "input.csv"
    path.write_text("\n".join(delimiter.join(row) for row in rows) + trailer)
    try:
        X = load_features(path)
    except UserError as error:
        assert str(path) in str(error) and "\n" not in str(error)
        return
    assert X.ndim == 2 and X.dtype == np.float64 and np.all(np.isfinite(X))
