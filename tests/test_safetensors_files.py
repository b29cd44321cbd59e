"""Hostile ``.safetensors`` files (issue 21, items 3, 5, 7 and 9): the header is checked
before any tensor is read, the metadata is validated like a spec, a dtype NumPy lacks is
one paragraph, and the same export gives the same bytes."""

from __future__ import annotations

import hashlib
import json
import struct
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from tinygrad_edu import nn
from tinygrad_edu.errors import UserError
from tinygrad_edu.export import load_safetensors, save_safetensors
from tinygrad_edu.export.bundle import from_spec
from tinygrad_edu.io.safetensors_format import encode, read_header, read_tensors
from tinygrad_edu.runs.exported import CLASS_NAMES_KEY, NORMALIZATION_KEY, SPEC_KEY, read_run_file
from tinygrad_edu.spec import parse_spec

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, str(ROOT / "cli.py")]
MOONS = """\
name: moons-files
seed: 3
model: {input: [2], layers: [linear: 4, relu, linear: 2]}
data: {source: moons, n_samples: 60, noise: 0.1}
loss: cross_entropy
optimizer: {name: adam, lr: 0.05}
train: {epochs: 1, batch_size: 32}
"""


def raw_file(path: Path, header: dict, data: bytes = b"") -> Path:
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)
    return path


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Path, dict[str, np.ndarray], dict[str, str]]:
    """A self-contained file of the moons spec's initial weights, and what it holds."""
    bundle = from_spec(parse_spec(MOONS))
    path = tmp_path_factory.mktemp("exported") / "model.safetensors"
    save_safetensors(bundle.model, path, bundle.metadata())
    arrays = {k: np.asarray(v) for k, v in bundle.model.state_dict().items()}
    return path, arrays, bundle.metadata()


def test_the_same_export_gives_the_same_bytes_with_sorted_metadata(tmp_path, exported):
    path, arrays, metadata = exported
    model = from_spec(parse_spec(MOONS)).model
    digests = set()
    for i in range(6):
        save_safetensors(model, tmp_path / f"{i}.safetensors", metadata)
        digests.add(hashlib.sha256((tmp_path / f"{i}.safetensors").read_bytes()).hexdigest())
    assert digests == {hashlib.sha256(path.read_bytes()).hexdigest()}
    length = struct.unpack("<Q", path.read_bytes()[:8])[0]
    header = json.loads(path.read_bytes()[8 : 8 + length])
    assert list(header["__metadata__"]) == sorted(metadata)
    assert (8 + length) % 8 == 0  # tensors aligned, as the library writes them


def test_the_library_reads_our_files_and_we_read_its_files(tmp_path, exported):
    safetensors_numpy = pytest.importorskip("safetensors.numpy", reason="safetensors not installed")
    path, arrays, _ = exported
    theirs = safetensors_numpy.load_file(str(path))
    assert theirs.keys() == arrays.keys()
    for name, array in arrays.items():
        np.testing.assert_array_equal(theirs[name], array)
    mixed = {"b": np.arange(6, dtype=">i4").reshape(2, 3), "a": np.array([True, False])}
    safetensors_numpy.save_file(mixed, str(tmp_path / "theirs.safetensors"), {"k": "v"})
    entries, metadata = read_header(tmp_path / "theirs.safetensors")
    assert metadata == {"k": "v"} and entries["b"].shape == (2, 3)


def test_a_wrong_shape_is_refused_from_the_header_before_reading(tmp_path):
    """A 64 MiB tensor of the wrong shape (a sparse file): refused with both shapes, and
    the check allocates almost nothing (the old code read the tensor first)."""
    big = 64 * 2**20
    path = raw_file(
        tmp_path / "big.safetensors",
        {
            "0.weight": {"dtype": "F32", "shape": [4096, 4096], "data_offsets": [0, big]},
            "0.bias": {"dtype": "F32", "shape": [3], "data_offsets": [big, big + 12]},
        },
    )
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size + big + 12)
    tracemalloc.start()
    try:
        with pytest.raises(UserError, match=r"shape \(4096, 4096\) in the file.*expects \(3, 2\)"):
            load_safetensors(nn.Sequential(nn.Linear(2, 3)), path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20


def test_bfloat16_is_one_paragraph_with_exit_code_2(tmp_path, exported):
    _, arrays, metadata = exported
    path = tmp_path / "bf16.safetensors"
    header = {"__metadata__": metadata}
    offset, data = 0, b""
    for name, array in arrays.items():
        size = array.size * 2
        header[name] = {
            "dtype": "BF16",
            "shape": list(array.shape),
            "data_offsets": [offset, offset + size],
        }
        offset, data = offset + size, data + b"\0" * size
    raw_file(path, header, data)
    points = tmp_path / "points.csv"
    points.write_text("0.5,0.5\n")
    result = subprocess.run(
        [*CLI, "predict", str(path), "--input", str(points), "--output", str(tmp_path / "p.csv")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "stored as BF16" in result.stderr and ".float()" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "p.csv").exists()


# --- dtypes: decided from the header (issue 21, item 3) --------------------------------------


def typed_file(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    path.write_bytes(encode(arrays, {}))
    return path


def lecture_net() -> nn.Sequential:
    return nn.Sequential(nn.Linear(2, 3))  # float32 parameters, as the specs default


def test_a_float64_file_loads_into_a_float32_model_by_a_cast_as_in_pytorch(tmp_path):
    """PyTorch 2.13: ``torch.nn.Linear(2, 3).load_state_dict({"weight": float64, ...})``
    keeps the parameters float32, the values rounded to float32."""
    weight = np.array([[0.1, -0.2], [1 / 3, 2.0], [-1e-8, 1e30]])
    path = typed_file(tmp_path / "f64.safetensors", {"0.weight": weight, "0.bias": np.ones(3)})
    model = lecture_net()
    load_safetensors(model, path)
    loaded = model.state_dict()["0.weight"]
    assert str(loaded.dtype) == "float32"
    np.testing.assert_array_equal(np.asarray(loaded), weight.astype(np.float32))


@pytest.mark.parametrize("dtype, words", [(np.int64, "I64 (int64)"), (np.bool_, "BOOL (bool)")])
def test_an_integer_or_boolean_weight_is_refused_from_the_header(
    tmp_path, monkeypatch, dtype, words
):
    from tinygrad_edu.io import safetensors

    path = typed_file(
        tmp_path / "ints.safetensors",
        {"0.weight": np.ones((3, 2), dtype=dtype), "0.bias": np.zeros(3, dtype=np.float32)},
    )

    def never(*args):  # the refusal comes from the header, before any tensor is read
        raise AssertionError("tensor data was read")

    monkeypatch.setattr(safetensors, "read_tensors", never)
    with pytest.raises(UserError) as refused:
        load_safetensors(lecture_net(), path)
    message = str(refused.value)
    assert f"'0.weight' is stored as {words}" in message and "float32" in message
    assert str(path) in message and ".float()" in message


def test_a_narrowing_cast_that_would_overflow_is_refused_naming_the_value(tmp_path):
    weight = np.array([[1.0, 2.0], [3.0, 1e300], [0.0, 0.0]])
    path = typed_file(tmp_path / "huge.safetensors", {"0.weight": weight, "0.bias": np.ones(3)})
    with pytest.raises(UserError, match=r"'0.weight' holds 1e\+300, stored as F64.*float32"):
        load_safetensors(lecture_net(), path)


def test_init_from_an_integer_file_is_exit_code_2_in_one_paragraph(tmp_path, exported):
    _, arrays, _ = exported
    path = typed_file(
        tmp_path / "ints.safetensors", {k: v.astype(np.int32) for k, v in arrays.items()}
    )
    spec = tmp_path / "spec.yaml"
    spec.write_text(MOONS)
    result = subprocess.run(
        [*CLI, "train", str(spec), "--init-from", str(path), "--out", str(tmp_path / "run")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "is stored as I32 (int32)" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "run").exists()


SPEC_1E12 = MOONS.replace("linear: 4", "linear: 1000000000000")
HOSTILE_METADATA = {
    "class names not JSON": ({CLASS_NAMES_KEY: "[0, 1"}, "is not JSON"),
    "one class name of two": ({CLASS_NAMES_KEY: '["a"]'}, "must list 2 class names"),
    "class names a mapping": ({CLASS_NAMES_KEY: '{"a": 1}'}, "must list 2 class names"),
    "class name a list": ({CLASS_NAMES_KEY: '[["a"], "b"]'}, "must list 2 class names"),
    "normalization without scale": (
        {NORMALIZATION_KEY: '{"method": "standard", "shift": [0, 0]}'},
        "its scale must be a list of 1 or 2 finite numbers",
    ),
    "normalization of 3 features": (
        {NORMALIZATION_KEY: '{"method": "standard", "shift": [0, 0, 0], "scale": [1, 1]}'},
        "its shift must be a list of 1 or 2",
    ),
    "normalization of text": (
        {NORMALIZATION_KEY: '{"method": "standard", "shift": ["a", 1], "scale": [1, 1]}'},
        "its shift must be",
    ),
    "normalization missing": ({NORMALIZATION_KEY: None}, "is missing"),
    "spec of 1e12 features": ({SPEC_KEY: SPEC_1E12}, "memory"),
    "spec not a spec": ({SPEC_KEY: "model: 3"}, "model"),
}


@pytest.mark.parametrize("case", list(HOSTILE_METADATA))
def test_malformed_metadata_is_one_paragraph_before_any_work(tmp_path, exported, case):
    changes, fragment = HOSTILE_METADATA[case]
    _, arrays, metadata = exported
    changed = {**metadata, **changes}
    path = tmp_path / "changed.safetensors"
    path.write_bytes(encode(arrays, {k: v for k, v in changed.items() if v is not None}))
    with pytest.raises(UserError, match=fragment) as raised:
        read_run_file(path)
    assert str(path) in str(raised.value)


def test_malformed_metadata_through_predict_is_exit_code_2(tmp_path, exported):
    _, arrays, metadata = exported
    path = tmp_path / "bad.safetensors"
    path.write_bytes(encode(arrays, {**metadata, CLASS_NAMES_KEY: '["only one"]'}))
    points = tmp_path / "points.csv"
    points.write_text("0.5,0.5\n")
    result = subprocess.run(
        [*CLI, "predict", str(path), "--input", str(points), "--output", str(tmp_path / "p.csv")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "must list 2 class names" in result.stderr


def test_a_good_file_reads_back_what_was_written(exported):
    path, arrays, metadata = exported
    spec, flat = read_run_file(path)
    assert spec.name == "moons-files" and flat["meta/class_names"] == json.loads(
        metadata[CLASS_NAMES_KEY]
    )
    for name, array in arrays.items():
        np.testing.assert_array_equal(flat[f"model/{name}"], array)


header_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
ITEMSIZE = {"F32": 4, "F64": 8, "I8": 1, "U8": 1, "BOOL": 1, "BF16": 2}


@st.composite
def headers(draw) -> tuple[dict, int]:
    """(a header, the bytes of data it describes): well-formed tensors, then maybe one
    hostile change (a field of the wrong type or size, a range outside the data)."""
    header: dict = {}
    offset = 0
    for i in range(draw(st.integers(0, 3))):
        dtype = draw(st.sampled_from(sorted(ITEMSIZE)))
        shape = draw(st.lists(st.integers(0, 4), max_size=3))
        nbytes = int(np.prod(shape)) * ITEMSIZE[dtype]
        header[f"t{i}"] = {
            "dtype": dtype,
            "shape": shape,
            "data_offsets": [offset, offset + nbytes],
        }
        offset += nbytes
    if draw(st.booleans()):
        header["__metadata__"] = draw(
            st.dictionaries(st.text(max_size=3), st.text(max_size=3) | header_values, max_size=2)
        )
    if header and draw(st.booleans()):
        name = draw(st.sampled_from(sorted(header)))
        field = draw(st.sampled_from(["dtype", "shape", "data_offsets", None]))
        hostile = draw(header_values | st.lists(st.integers(-4, 300), max_size=3))
        if field is None or not isinstance(header[name], dict):
            header[name] = hostile
        else:
            header[name] = {**header[name], field: hostile}
    return header, offset


@given(
    described=headers(),
    extra=st.integers(-3, 3),
    length_change=st.just(0) | st.integers(-10, 10) | st.just(2**63),
)
def test_any_header_is_read_or_refused_in_one_paragraph(
    tmp_path_factory, described, extra, length_change
):
    """Structured hostile headers (wrong types, negative sizes, ranges outside the file,
    lengths that lie): a `UserError` or entries that lie inside the file, nothing else."""
    header, nbytes = described
    path = tmp_path_factory.mktemp("fuzz") / "f.safetensors"
    text = json.dumps(header).encode()
    length = max(0, len(text) + length_change) % 2**64
    path.write_bytes(struct.pack("<Q", length) + text + bytes(max(0, nbytes + extra)))
    size = path.stat().st_size
    try:
        entries, metadata = read_header(path)
    except UserError as error:
        event("refused")
        assert "\n" not in str(error)
        return
    event("read")
    assert all(isinstance(v, str) for v in metadata.values())
    for entry in entries.values():
        assert entry.start + entry.nbytes <= size
        assert entry.nbytes == int(np.prod(entry.shape)) * entry.dtype.itemsize
    arrays = read_tensors(path, entries)  # what the header allows is read without error
    assert {name: a.shape for name, a in arrays.items()} == {
        name: e.shape for name, e in entries.items()
    }
