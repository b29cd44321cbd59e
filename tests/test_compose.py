"""Specs that compose (issue 13): ``extends`` merges base specs under a spec, ``${path}``
refers to another value; errors name the file and line that wrote the offending value, and
``spec --resolved`` prints what the run folder's spec.yaml holds."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import docs_pages
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu.cli import main
from tinygrad_edu.spec import (
    SpecError,
    apply_overrides,
    find_spec,
    json_schema,
    load_spec,
    parse_spec,
    spec_names,
    spec_to_dict,
    validate_spec,
)
from tinygrad_edu.spec.compose import MAX_EXTENDS_DEPTH, MAX_REFERENCE_NESTING

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "extends"

BASE = """\
name: base
seed: 3
model:
  input: [2]
  layers: [{linear: 16}, relu, {linear: 2}]
data: {source: moons, n_samples: 100, noise: 0.1}
loss: cross_entropy
optimizer: {name: sgd, lr: 0.1, momentum: 0.9}
train: {epochs: 4, batch_size: 8}
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    return [str(p) for p in caught.value.problems]


def run_cli(*argv: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of the CLI run in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


# --- merging -------------------------------------------------------------------------------


def test_mappings_merge_key_by_key_while_lists_and_values_are_replaced(tmp_path):
    write(tmp_path, "base.yaml", BASE)
    child = write(
        tmp_path,
        "child.yaml",
        "extends: base.yaml\n"
        "name: child\n"
        "model: {layers: [{linear: 4}, tanh, {linear: 2}]}\n"
        "optimizer: {lr: 0.5}\n",
    )
    data = spec_to_dict(load_spec(child))
    assert data["name"] == "child"  # a value: replaced
    assert data["seed"] == 3  # a key the child does not write: the base's
    assert data["model"]["input"] == [2]  # a mapping: merged, the base's input kept
    assert [
        layer if isinstance(layer, str) else layer["linear"]["out_features"]
        for layer in data["model"]["layers"]
    ] == [4, "tanh", 2]  # a list: replaced whole
    assert (data["optimizer"]["name"], data["optimizer"]["lr"]) == ("sgd", 0.5)
    assert data["optimizer"]["momentum"] == 0.9  # merged, not replaced by {lr: 0.5}
    assert "extends" not in data


def test_a_shorter_list_replaces_a_longer_one_instead_of_merging_items(tmp_path):
    write(tmp_path, "base.yaml", BASE + "sweep: {path: seed, values: [1, 2, 3, 4]}\n")
    child = write(tmp_path, "child.yaml", "extends: base.yaml\nsweep: {values: [7]}\n")
    assert load_spec(child).sweep.values == [7]


def test_a_chain_of_bases_applies_from_the_farthest_to_the_spec(tmp_path):
    write(tmp_path, "a.yaml", BASE)
    write(tmp_path, "sub/b.yaml", "extends: ../a.yaml\nseed: 5\ntrain: {epochs: 2}\n")
    c = write(tmp_path, "c.yaml", "extends: sub/b.yaml\ntrain: {batch_size: 4}\n")
    spec = load_spec(c)
    assert (spec.name, spec.seed, spec.train.epochs, spec.train.batch_size) == ("base", 5, 2, 4)


def test_a_list_of_bases_later_wins_and_the_spec_over_all(tmp_path):
    write(tmp_path, "a.yaml", BASE)
    write(tmp_path, "b.yaml", "seed: 7\noptimizer: {lr: 0.2}\n")  # a fragment is fine
    child = write(tmp_path, "child.yaml", "extends: [a.yaml, b.yaml]\noptimizer: {momentum: 0}\n")
    spec = load_spec(child)
    assert (spec.seed, spec.optimizer.lr, spec.optimizer.momentum) == (7, 0.2, 0)


def test_a_base_named_twice_is_a_diamond_not_a_cycle(tmp_path):
    write(tmp_path, "root.yaml", BASE)
    write(tmp_path, "left.yaml", "extends: root.yaml\nseed: 1\n")
    write(tmp_path, "right.yaml", "extends: root.yaml\ntrain: {epochs: 9}\n")
    spec = load_spec(write(tmp_path, "both.yaml", "extends: [left.yaml, right.yaml]\n"))
    assert (spec.seed, spec.train.epochs) == (3, 9)  # right's copy of root overrides left's seed


def test_the_example_wide_spec_extends_its_base():
    base, wide = load_spec(EXAMPLES / "base.yaml"), load_spec(EXAMPLES / "wide.yaml")
    assert wide.name == "moons-wide" and wide.optimizer.name == base.optimizer.name == "adam"
    assert wide.model.layers[0].options.out_features == 64
    assert (wide.train.epochs, wide.scheduler.t_max) == (20, 20)
    assert (base.train.epochs, base.scheduler.t_max) == (30, 30)
    assert wide.data == base.data


# --- errors, in the file that wrote the value -------------------------------------------------


def test_errors_name_the_base_or_the_child_where_the_value_was_written(tmp_path):
    base = write(tmp_path, "base.yaml", BASE.replace("lr: 0.1", "lr: -1"))
    child = write(tmp_path, "child.yaml", "extends: base.yaml\ntrain: {epochz: 2}\n")
    assert problems_of(child) == [
        f"{child}:2:9: train.epochz: unknown key 'epochz'; did you mean 'epochs'?",
        f"{base}:8:28: optimizer.lr: expected a number > 0, found -1",
    ]


def test_a_value_the_child_overrides_is_blamed_on_the_child(tmp_path):
    write(tmp_path, "base.yaml", BASE)
    child = write(tmp_path, "child.yaml", "extends: base.yaml\ntrain:\n  epochs: 0\n")
    assert problems_of(child) == [
        f"{child}:3:11: train.epochs: expected a positive integer, found 0"
    ]


def test_a_problem_a_base_causes_in_the_merged_spec_points_at_the_base(tmp_path):
    base = write(tmp_path, "base.yaml", "model:\n  input: [3]\n")
    child = write(tmp_path, "child.yaml", "extends: base.yaml\n" + BASE.replace("input: [2]", ""))
    assert problems_of(child) == [
        f"{base}:2:10: model.input: data source 'moons' gives samples of shape [2], so "
        "model.input must be [2]; found [3]"
    ]


def test_validate_and_train_print_the_base_file_and_line(tmp_path):
    base = write(tmp_path, "base.yaml", BASE.replace("momentum: 0.9", "momentum: fast"))
    child = write(tmp_path, "child.yaml", "extends: base.yaml\n")
    for command in (["validate", str(child)], ["train", str(child), "--out", str(tmp_path / "r")]):
        code, _, err = run_cli(*command)
        assert (code, err) == (
            2,
            f"{base}:8:43: optimizer.momentum: expected a number, found 'fast'\n",
        )
    assert not (tmp_path / "r").exists()


def test_a_cycle_names_every_link_with_its_file_and_line(tmp_path):
    a = write(tmp_path, "a.yaml", "extends: b.yaml\n")
    b = write(tmp_path, "b.yaml", "seed: 1\nextends: [a.yaml]\n")
    assert problems_of(a) == [
        f"{b}:2:11: extends: a.yaml makes a cycle ({a}:1:10 extends b.yaml, {b}:2:11 extends "
        "a.yaml): a spec cannot be its own base; remove one of these extends"
    ]
    itself = write(tmp_path, "self.yaml", "extends: ./self.yaml\n")
    assert problems_of(itself) == [
        f"{itself}:1:10: extends: ./self.yaml makes a cycle ({itself}:1:10 extends ./self.yaml): "
        "a spec cannot be its own base; remove one of these extends"
    ]


def test_extends_deeper_than_the_bound_is_refused(tmp_path):
    for n in range(MAX_EXTENDS_DEPTH + 1):  # s0 extends s1 ... extends the full spec
        write(tmp_path, f"s{n}.yaml", f"extends: s{n + 1}.yaml\n")
    write(tmp_path, f"s{MAX_EXTENDS_DEPTH + 1}.yaml", BASE)
    [problem] = problems_of(tmp_path / "s0.yaml")
    assert problem.startswith(f"{tmp_path / f's{MAX_EXTENDS_DEPTH}.yaml'}:1:10: extends: more")
    assert f"more than {MAX_EXTENDS_DEPTH} levels of extends" in problem
    assert load_spec(tmp_path / "s1.yaml").name == "base"  # one level less is fine


def test_a_missing_non_regular_or_looping_base_is_reported_at_the_extends_line(tmp_path):
    child = write(tmp_path, "child.yaml", "seed: 1\nextends: nope.yaml\n")
    [problem] = problems_of(child)
    assert problem.startswith(f"{child}:2:10: extends: cannot read the base spec nope.yaml")
    assert "not found" in problem
    if hasattr(os, "mkfifo"):  # a FIFO would block a reader forever
        os.mkfifo(tmp_path / "pipe.yaml")
        child.write_text("extends: pipe.yaml\n")
        [problem] = problems_of(child)
        assert problem.startswith(f"{child}:1:10: extends: cannot read the base spec pipe.yaml")
        assert "not a regular file" in problem
    (tmp_path / "loop1.yaml").symlink_to("loop2.yaml")
    (tmp_path / "loop2.yaml").symlink_to("loop1.yaml")
    child.write_text("extends: loop1.yaml\n")
    [problem] = problems_of(child)
    assert problem.startswith(f"{child}:1:10: extends: cannot read the base spec loop1.yaml")
    assert "Too many levels of symbolic links" in problem


@pytest.mark.parametrize(
    "value, column",
    [("3", 10), ("[]", 10), ("[base.yaml, {a: 1}]", 22), ("''", 10)],
)
def test_extends_must_name_files(tmp_path, value, column):
    write(tmp_path, "base.yaml", BASE)
    child = write(tmp_path, "child.yaml", f"extends: {value}\n")
    [problem] = problems_of(child)
    assert problem.startswith(f"{child}:1:{column}: extends: expected the path of a base spec")


def test_the_bases_yaml_problems_name_the_base(tmp_path):
    base = write(tmp_path, "base.yaml", BASE + "seed: 4\nname: [unclosed\n")
    child = write(tmp_path, "child.yaml", "extends: base.yaml\n")
    [problem] = problems_of(child)
    assert problem.startswith(f"{base}:12:1: invalid YAML")
    base.write_text(BASE + "seed: 4\n")
    assert problems_of(child) == [
        f"{base}:10:1: duplicate key 'seed' (also on line 2); keep only one"
    ]


def test_extends_names_a_shipped_example_unless_a_file_of_that_name_is_there(tmp_path):
    child = write(tmp_path, "child.yaml", "extends: mlp\ntrain: {epochs: 1}\n")
    spec = load_spec(child)
    assert (spec.name, spec.train.epochs, spec.train.batch_size) == ("mnist-mlp", 1, 32)
    write(tmp_path, "mlp", BASE)  # a file of one's own wins, as for the commands' SPEC
    assert load_spec(child).name == "base"


def test_extends_in_plain_data_is_refused_with_the_reason():
    data = yaml.safe_load(BASE) | {"extends": "base.yaml"}
    with pytest.raises(SpecError, match="extends is read only from a spec file"):
        validate_spec(data)


def test_extends_in_a_text_is_relative_to_its_base_dir(tmp_path):
    write(tmp_path, "base.yaml", BASE)
    spec = parse_spec("extends: base.yaml\nseed: 8\n", file="text", base_dir=tmp_path)
    assert (spec.name, spec.seed) == ("base", 8)


# --- references ----------------------------------------------------------------------------


SCHEDULED = BASE + "scheduler:\n  name: cosine\n  t_max: ${train.epochs}\n"


def test_a_whole_value_reference_keeps_the_type_of_the_value(tmp_path):
    spec = load_spec(write(tmp_path, "s.yaml", SCHEDULED))
    assert spec.scheduler.t_max == 4 and type(spec.scheduler.t_max) is int
    spec = parse_spec(BASE.replace("lr: 0.1", "lr: '${optimizer.momentum}'"))
    assert spec.optimizer.lr == 0.9


def test_a_reference_inside_a_text_is_replaced_by_the_values_text():
    spec = parse_spec(BASE.replace("name: base", "name: moons-${train.epochs}e-${optimizer.name}"))
    assert spec.name == "moons-4e-sgd"


def test_a_reference_may_refer_to_a_reference_and_to_a_whole_section():
    text = BASE.replace("seed: 3", "seed: ${train.epochs}").replace(
        "train: {epochs: 4, batch_size: 8}", "train: {epochs: 4, batch_size: '${seed}'}"
    )
    spec = parse_spec(text + "sweep: {path: seed, values: '${model.input}'}\n")
    assert (spec.seed, spec.train.batch_size, spec.sweep.values) == (4, 4, [2])


def test_a_reference_in_a_base_sees_the_childs_value(tmp_path):
    write(tmp_path, "base.yaml", SCHEDULED)
    child = write(tmp_path, "child.yaml", "extends: base.yaml\ntrain: {epochs: 11}\n")
    spec = load_spec(child)
    assert (spec.train.epochs, spec.scheduler.t_max) == (11, 11)


def test_a_missing_reference_is_reported_at_its_column(tmp_path):
    path = write(tmp_path, "s.yaml", SCHEDULED.replace("${train.epochs}", "${train.epoch}"))
    assert problems_of(path) == [
        f"{path}:12:10: scheduler.t_max: ${{train.epoch}}: train.epoch is not written in the "
        "spec or its bases (a reference does not see defaults); did you mean train.epochs?"
    ]
    path.write_text(BASE.replace("name: base", "name: 'run-${seed}-${dtype}'"))
    assert problems_of(path) == [
        f"{path}:1:20: name: ${{dtype}}: dtype is not written in the spec or its bases (a "
        "reference does not see defaults); the spec has name, seed, model, data, loss, "
        "optimizer, train"
    ]


def test_a_missing_reference_in_a_base_is_reported_in_the_base(tmp_path):
    base = write(tmp_path, "base.yaml", SCHEDULED.replace("train.epochs", "train.steps"))
    child = write(tmp_path, "child.yaml", "extends: base.yaml\n")
    [problem] = problems_of(child)
    assert problem.startswith(f"{base}:12:10: scheduler.t_max: ${{train.steps}}: ")


def test_a_circular_reference_is_an_error_naming_the_chain(tmp_path):
    path = write(
        tmp_path,
        "s.yaml",
        BASE + "scheduler:\n  name: cosine\n  t_max: ${scheduler.eta_min}\n"
        "  eta_min: ${scheduler.t_max}\n",
    )
    assert problems_of(path) == [
        f"{path}:13:12: scheduler.eta_min: ${{scheduler.t_max}} is a circular reference "
        "(scheduler.t_max -> scheduler.eta_min -> scheduler.t_max): a value cannot be "
        "defined by itself; write one of them as a value"
    ]
    path.write_text(BASE + "sweep: {path: seed, values: ['${sweep}']}\n")
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:10:31: sweep.values[0]: ${{sweep}} is a circular")


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("name: 'x-${model}'", "${model} names a mapping, which cannot be part of a text"),
        ("name: '${not a path}'", "${not a path} is not a reference to a key path"),
        ("name: '${seed.x}'", "${seed.x}: seed is 3, it has no 'x'"),
        ("name: '${model.layers[7]}'", "model.layers is a list of 3 items, it has no 7"),
    ],
)
def test_references_that_cannot_be_resolved(text, fragment):
    with pytest.raises(SpecError) as caught:
        parse_spec(BASE.replace("name: base", text), file="t.yaml")
    [problem] = caught.value.problems
    assert str(problem).startswith("t.yaml:1:") and fragment in problem.message


def test_references_nested_past_the_bound_are_one_clear_error():
    chain = "".join(f"  a{i}: ${{sweep.a{i + 1}}}\n" for i in range(2000)) + "  a2000: 1\n"
    with pytest.raises(SpecError) as caught:
        parse_spec(BASE + "sweep:\n" + chain, file="t.yaml")
    [problem] = caught.value.problems
    assert f"more than {MAX_REFERENCE_NESTING} levels deep" in problem.message


def test_references_that_expand_a_section_too_often_are_refused():
    values = "[" + ", ".join(["1"] * 5000) + "]"
    refs = "[" + ", ".join(["'${sweep.values}'"] * 100) + "]"
    with pytest.raises(SpecError, match="references make the spec hold more than 200,000"):
        parse_spec(BASE + f"sweep: {{path: seed, values: {values}, more: {refs}}}\n")


def test_references_that_double_a_text_level_after_level_are_refused():
    """A 1 kB spec whose texts double 40 times would reach a terabyte (issue 21, item 3):
    refused once the texts made pass the bound, as section expansions are."""
    chain = "  t0: ab\n" + "".join(
        f"  t{i + 1}: ${{sweep.t{i}}}${{sweep.t{i}}}\n" for i in range(40)
    )
    assert len(chain) < 1500
    with pytest.raises(SpecError, match="texts longer than 1,000,000 characters") as caught:
        parse_spec(BASE + "sweep:\n" + chain, file="t.yaml")
    [problem] = caught.value.problems
    assert problem.file == "t.yaml" and problem.line > 1
    with pytest.raises(SpecError) as short:  # 10 levels (1 kB of text) resolve; the keys are
        parse_spec(BASE + "sweep:\n" + chain[: chain.index("  t10:")])  # not sweep's: refused
    assert not any("texts longer" in p.message for p in short.value.problems)


def test_set_applies_before_references_are_resolved(tmp_path):
    spec = load_spec(write(tmp_path, "s.yaml", SCHEDULED))
    changed = apply_overrides(spec, {"train.epochs": "7"})
    assert (changed.train.epochs, changed.scheduler.t_max) == (7, 7)
    again = apply_overrides(changed, {"train.epochs": 2})  # the reference is kept through
    assert again.scheduler.t_max == 2
    fixed = apply_overrides(spec, {"train.epochs": 7, "scheduler.t_max": 3})
    assert fixed.scheduler.t_max == 3  # an override of the reference itself wins
    made = apply_overrides(spec, {"seed": "${train.epochs}"})
    assert made.seed == 4


def test_an_override_that_breaks_a_reference_names_where_it_was_written(tmp_path):
    path = write(tmp_path, "s.yaml", SCHEDULED)
    with pytest.raises(SpecError) as caught:
        apply_overrides(load_spec(path), {"train": "{batch_size: 8}"})
    [problem] = caught.value.problems
    assert str(problem).startswith(f"{path}:12:10: scheduler.t_max: ${{train.epochs}}: ")


def test_a_sweep_over_epochs_moves_the_schedule_with_it(tmp_path):
    path = write(tmp_path, "s.yaml", SCHEDULED)
    out = tmp_path / "sweep"
    code, _, err = run_cli(
        "sweep",
        str(path),
        "--path",
        "train.epochs",
        "--values",
        "1",
        "2",
        "--out",
        str(out),
        "--quiet",
        "--no-plots",
    )
    assert code == 0, err
    written = [yaml.safe_load(p.read_text()) for p in sorted(out.glob("*/spec.yaml"))]
    assert sorted((s["train"]["epochs"], s["scheduler"]["t_max"]) for s in written) == [
        (1, 1),
        (2, 2),
    ]


# --- spec --resolved, and the run folder's spec.yaml ----------------------------------------------


def test_spec_resolved_prints_what_the_run_folder_holds(tmp_path):
    wide = str(EXAMPLES / "wide.yaml")
    code, printed, err = run_cli("spec", wide, "--resolved", "--set", "train.epochs=1")
    assert code == 0, err
    resolved = yaml.safe_load(printed)
    assert resolved["scheduler"]["t_max"] == 1 and "extends" not in resolved
    out = tmp_path / "run"
    code, _, err = run_cli(
        "train", wide, "--set", "train.epochs=1", "--out", str(out), "--quiet", "--no-plots"
    )
    assert code == 0, err
    assert (out / "spec.yaml").read_text() == printed
    assert "${" not in printed
    assert load_spec(out / "spec.yaml").scheduler.t_max == 1


def test_spec_takes_import_for_layer_types_of_ones_own(tmp_path):
    spec = tmp_path / "child.yaml"
    spec.write_text(f"extends: {ROOT / 'examples' / 'scale.yaml'}\nseed: 2\n")
    command = [sys.executable, str(ROOT / "cli.py"), "spec", str(spec), "--resolved"]
    plain = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert plain.returncode == 2, plain.stderr  # reported in the base, where it is written
    assert plain.stderr.startswith(f"{ROOT / 'examples' / 'scale.yaml'}:10:7: model.layers[2]: ")
    assert "unknown layer 'scale'" in plain.stderr
    command += ["--import", "examples.scale_layer"]
    imported = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert imported.returncode == 0, imported.stderr
    assert {"scale": {"factor": 0.5}} in yaml.safe_load(imported.stdout)["model"]["layers"]


def test_spec_without_resolved_prints_the_merged_spec_as_written():
    code, printed, err = run_cli("spec", str(EXAMPLES / "wide.yaml"))
    assert code == 0, err
    merged = yaml.safe_load(printed)
    assert merged["scheduler"] == {"name": "cosine", "t_max": "${train.epochs}"}
    assert merged["optimizer"] == {"name": "adam", "lr": 0.01}
    assert "extends" not in merged and "betas" not in merged["optimizer"]  # no defaults
    code, _, err = run_cli("spec", str(EXAMPLES / "wide.yaml"), "--set", "seed=1")
    assert (code, err) == (2, "error: --set changes the resolved spec: add --resolved to see it\n")


def test_spec_reports_a_bad_spec_like_validate(tmp_path):
    base = write(tmp_path, "base.yaml", BASE.replace("lr: 0.1", "lr: -1"))
    child = write(tmp_path, "child.yaml", "extends: base.yaml\n")
    for extra in ([], ["--resolved"]):
        code, out, err = run_cli("spec", str(child), *extra)
        assert code == 2 and out == "" and err.startswith(f"{base}:8:28: optimizer.lr")


# --- the JSON schema ----------------------------------------------------------------------


def test_the_shipped_json_schema_is_current_and_accepts_extends():
    shipped = json.loads((ROOT / "specs" / "schema.json").read_text())
    assert shipped == json_schema()
    assert "extends" in shipped["properties"]
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema not installed")
    resolved = spec_to_dict(load_spec(EXAMPLES / "wide.yaml"))
    jsonschema.validate(resolved, shipped)
    jsonschema.validate(
        yaml.safe_load((EXAMPLES / "base.yaml").read_text())
        | {"scheduler": {"name": "cosine"}, "extends": ["a.yaml"]},
        shipped,
    )


# --- property: a spec split into bases merges back into itself ------------------------------


def _split(draw, tree: dict) -> tuple[dict, dict]:
    """(base, child) such that the child merged over the base is `tree`: each key goes to
    one of them, or to both (a mapping split again; anything else a decoy in the base)."""
    base, child = {}, {}
    for key, value in tree.items():
        where = draw(st.sampled_from(["base", "child", "both"]))
        if where == "both" and isinstance(value, dict):
            base[key], child[key] = _split(draw, value)
        elif where == "both":
            base[key], child[key] = draw(st.sampled_from([[9, 9, 9, 9], "decoy", 7])), value
        else:
            (base if where == "base" else child)[key] = value
    return base, child


@given(st.sampled_from(spec_names()), st.sampled_from(["chain", "list"]), st.data())
@settings(max_examples=20)
def test_a_shipped_spec_split_into_bases_merges_back_into_itself(name, shape, data):
    tree = yaml.safe_load(find_spec(name).read_text())
    base, child = _split(data.draw, tree)
    grand, base = _split(data.draw, base)
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        dump = lambda d: yaml.safe_dump(d, sort_keys=False)  # noqa: E731
        (folder / "grand.yaml").write_text(dump(grand))
        if shape == "chain":  # child extends base extends grand
            (folder / "base.yaml").write_text(dump({"extends": "grand.yaml", **base}))
            extends: object = "base.yaml"
        else:  # child extends [grand, base]
            (folder / "base.yaml").write_text(dump(base))
            extends = ["grand.yaml", "base.yaml"]
        (folder / "child.yaml").write_text(dump({"extends": extends, **child}))
        merged = spec_to_dict(load_spec(folder / "child.yaml"))
    assert merged == spec_to_dict(load_spec(name))


_TOKENS = ["${train.epochs}", "${seed}", "${nope.x}", "${model}", "${model.input[0]}", "${ }",
           "x-${train.batch_size}", "${sweep.values}", "${data.source}-${seed}"]  # fmt: skip


@given(st.sampled_from(spec_names()), st.data())
@settings(max_examples=25)
def test_hostile_references_and_extends_exit_0_or_2_at_a_file_and_line(name, data):
    tree = yaml.safe_load(find_spec(name).read_text())
    tree.pop("sweep", None)
    for _ in range(data.draw(st.integers(1, 4))):  # references in random places
        section = data.draw(st.sampled_from(sorted(k for k in tree if isinstance(tree[k], dict))))
        key = data.draw(st.sampled_from(sorted(tree[section]) + ["t_max"]))
        tree[section][key] = data.draw(st.sampled_from(_TOKENS))
    extends = data.draw(
        st.sampled_from(["base.yaml", "child.yaml", "nope.yaml", ".", ["base.yaml"]])
    )
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder) / "base.yaml"
        child = Path(folder) / "child.yaml"
        base.write_text(yaml.safe_dump({"seed": "${train.epochs}"}))
        child.write_text(yaml.safe_dump({"extends": extends, **tree}, sort_keys=False))
        code, out, err = run_cli("validate", str(child))
        assert code in (0, 2), err
        if code == 2:
            for line in err.splitlines():
                assert re.match(
                    rf"({re.escape(str(child))}|{re.escape(str(base))}):\d+:\d+: ", line
                ), err
        resolved, out, err = run_cli("spec", str(child), "--resolved")
        assert resolved in (0, 2) and "Traceback" not in err, err
        assert resolved == 0 or code == 2  # what validate accepts, spec --resolved prints


def test_the_docs_show_the_example_as_it_is():
    shown = docs_pages.page("docs/howto/compose_specs.md").split("```yaml\n", 1)[1].split("```")[0]
    assert shown == (EXAMPLES / "wide.yaml").read_text()
