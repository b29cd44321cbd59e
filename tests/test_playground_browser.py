"""The playground in a real headless Chromium, driven as a person would: through the
page's data-testid controls. Skipped (with the reason) only without Chromium or Playwright."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import docs_pages
import numpy as np
import pytest

pytest.importorskip("starlette", reason="starlette not installed (the playground extra)")
pytest.importorskip("uvicorn", reason="uvicorn not installed (the playground extra)")

from tinygrad_edu.errors import UserError  # noqa: E402
from tinygrad_edu.io.npz import load_npz  # noqa: E402
from tinygrad_edu.playground import server, state  # noqa: E402
from tinygrad_edu.spec import build_model, parse_spec, validate_spec  # noqa: E402
from tinygrad_edu.summary import summary  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, str(ROOT / "cli.py")]
TESTIDS = [
    "dataset", "learning-rate", "add-layer", "remove-layer", "play", "step", "reset", "epoch",
    "train-loss", "test-loss", "param-count", "download-spec", "error",
]  # fmt: skip


@pytest.fixture(scope="module")
def served():
    running = server.ServerThread()
    with running as url:
        yield url, running.app


@pytest.fixture
def page(browser, served):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    try:
        yield page
    finally:
        context.close()


def open_page(page, served, address: str = ""):
    url, _ = served
    page.goto(url + (f"#{address}" if address else ""))
    page.wait_for_function("window.playground.drawn > 0")
    return page


def by(page, testid: str):
    return page.locator(f"[data-testid='{testid}']")


def frame(page) -> dict:
    return page.evaluate("window.playground.shown")


def train_steps(page, steps: int) -> dict:
    """Press step `steps` times and wait for the frame of the last one."""
    for _ in range(steps):
        by(page, "step").click()
    page.wait_for_function(f"window.playground.shown && window.playground.shown.step === {steps}")
    return frame(page)


def play_until(page, condition: str, timeout: float = 20_000) -> dict:
    by(page, "play").click()
    page.wait_for_function(f"(f => f && ({condition}))(window.playground.shown)", timeout=timeout)
    by(page, "play").click()
    page.wait_for_function("window.playground.shown.paused")  # the state it paused at
    return frame(page)


def page_spec(page):
    return validate_spec(state.settings_to_spec(page.evaluate("window.playground.settings")))


def test_page_loads_with_every_control_and_no_console_errors(page, served):
    open_page(page, served)
    for testid in TESTIDS:
        assert by(page, testid).count() == 1, testid
    options = by(page, "dataset").locator("option").evaluate_all("els => els.map(e => e.value)")
    assert {"circles", "moons", "xor", "spiral", "gaussian", "function:sin"} <= set(options)
    assert by(page, "epoch").text_content() == "0"
    train_steps(page, 3)
    assert page.problems == []


def test_circles_with_two_hidden_layers_learns_within_bounded_steps(page, served):
    open_page(page, served)
    for dataset in ("moons", "circles"):  # choose another set, then circles
        opened = page.evaluate("window.playground.opened")
        by(page, "dataset").select_option(dataset)
        page.wait_for_function(f"window.playground.opened > {opened}")
    assert page.evaluate("window.playground.settings.dataset") == "circles"
    assert by(page, "layer-count").text_content() == "2"
    # at most 200 steps/s: frames every few steps, so the step a frame shows is close to the
    # step the loss crossed (at full speed a busy page takes frames hundreds of steps apart)
    by(page, "speed").select_option("200")
    reached = play_until(page, "f.test.loss < 0.1")
    assert reached["step"] <= 2500, reached["step"]  # 100 epochs of 25 batches
    page.wait_for_function("!window.playground.playing")
    assert float(by(page, "test-loss").text_content()) < 0.1
    assert page.problems == []


def test_param_count_equals_summary_as_layers_change(page, served):
    open_page(page, served)
    for action in ["add-layer", "units-plus-0", "add-layer", "remove-layer", "remove-layer"]:
        opened = page.evaluate("window.playground.opened")
        by(page, action).click()
        page.wait_for_function(f"window.playground.opened > {opened}")
        spec = page_spec(page)
        expected = summary(build_model(spec), input_size=(1, 2))
        assert f"{expected.total_params:,}" in by(page, "param-count").text_content(), action
        assert by(page, "param-explain").text_content() == expected.explain()


def test_download_spec_validates_and_trains_to_the_same_weights(page, served, tmp_path):
    open_page(page, served, "opt=sgd&lr=0.1&momentum=0.9&layers=6,3&act=relu,tanh&dropout=0.1,0")
    shown = train_steps(page, 50)  # two epochs of 25 batches
    assert by(page, "epoch").text_content() == "2"
    with page.expect_download() as download:
        by(page, "download-spec").click()
    path = tmp_path / "playground.yaml"
    download.value.save_as(path)
    assert_trains_to_the_weights_shown(path, shown, tmp_path / "run")


def assert_trains_to_the_weights_shown(path: Path, shown: dict, out: Path) -> None:
    """`validate` accepts the spec and `train` ends with exactly the page's weights."""
    checked = subprocess.run([*CLI, "validate", str(path)], capture_output=True, text=True)
    assert checked.returncode == 0 and checked.stdout.startswith("OK"), checked.stderr
    trained = subprocess.run(
        [*CLI, "train", str(path), "--out", str(out), "--quiet", "--no-plots"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert trained.returncode == 0, trained.stderr
    weights = load_npz(out / "model.npz")
    linears = [k[len("model/") : -len(".weight")] for k in weights if k.endswith(".weight")]
    assert len(linears) == len(shown["weights"])
    for name, layer in zip(linears, shown["weights"]):
        for key, values in (("weight", layer["W"]), ("bias", layer["b"])):
            trained_values = weights[f"model/{name}.{key}"]
            assert np.array_equal(np.asarray(values, np.float32), trained_values), (name, key)


def toggle(page, testid: str) -> None:
    """Click a feature toggle and wait for the session it opens."""
    opened = page.evaluate("window.playground.opened")
    by(page, testid).click()
    page.wait_for_function(f"window.playground.opened > {opened}")


def test_squared_features_let_a_network_without_hidden_layers_separate_circles(page, served):
    # 200 steps/s: frames come every few steps, so the step a bound is checked at is near
    # the step it was crossed at, however loaded the machine is (frames drop, steps never)
    open_page(page, served, "dataset=circles&layers=&act=&dropout=&speed=200")
    assert by(page, "layer-count").text_content() == "0"
    assert by(page, "feature-x1").is_checked() and by(page, "feature-x2").is_checked()
    stuck = play_until(page, "f.step >= 250")  # ten epochs: a line cannot cut out a disc
    assert stuck["test"]["loss"] > 0.6, stuck["test"]
    for testid in ("feature-x1-squared", "feature-x2-squared"):
        toggle(page, testid)
    settings = page.evaluate("window.playground.settings")
    assert settings["features"] == ["x1", "x2", "x1_squared", "x2_squared"]
    assert "features=x1%2Cx2%2Cx1_squared%2Cx2_squared" in page.url
    names = [by(page, f"unit-0-{j}").text_content() for j in range(4)]
    assert names == ["x1", "x2", "x1²", "x2²"]  # the drawing's input column
    expected = summary(build_model(page_spec(page)), input_size=(1, 2))
    assert expected.total_params == 4 * 2 + 2
    assert f"parameters: {expected.total_params}" in by(page, "param-count").text_content()
    reached = play_until(page, "f.test.loss < 0.1")
    assert reached["step"] <= 1000, reached["step"]  # 40 epochs of 25 batches
    assert page.problems == []


def test_download_spec_with_features_validates_and_trains_to_the_same_weights(
    page, served, tmp_path
):
    open_page(page, served, "dataset=xor&layers=3&act=tanh&dropout=0&features=sin_x1,x1_times_x2")
    assert not by(page, "feature-x1").is_checked()
    assert by(page, "feature-x1-times-x2").is_checked() and by(page, "feature-sin-x1").is_checked()
    toggle(page, "feature-x2")  # the link's order stays (same columns), a new feature comes last
    names = ["sin_x1", "x1_times_x2", "x2"]
    assert page.evaluate("window.playground.settings.features") == names
    shown = train_steps(page, 50)  # two whole epochs: the spec trains whole epochs
    with page.expect_download() as download:
        by(page, "download-spec").click()
    path = tmp_path / "playground.yaml"
    download.value.save_as(path)
    layers = parse_spec(path.read_text()).model.layer_list()
    assert layers[0].type == "features" and layers[0].options.names == names
    assert_trains_to_the_weights_shown(path, shown, tmp_path / "run")


def test_feature_toggles_can_be_hidden_and_unknown_names_get_the_spec_message(page, served):
    open_page(page, served, "features=x1,x2,x1_squared&features_hide=true")
    assert by(page, "feature-x1-squared").is_checked()
    assert not by(page, "feature-x1").is_visible() and not by(page, "features").is_visible()
    page.goto(page.url.split("#")[0] + "#features=x1,x1_sqared")
    page.wait_for_function("window.playground.opened > 0")
    refused = "document.querySelector(\"[data-testid='address-refused']\").textContent"
    page.wait_for_function(f"{refused}.includes('x1_squared')")  # the link's key, refused
    assert "features=x1,x1_sqared:" in by(page, "address-refused").text_content()
    assert "did you mean 'x1_squared'?" in by(page, "address-refused").text_content()


def test_the_kink_count_leaves_with_the_function_set(page, served):
    open_page(page, served, "dataset=function:sin&layers=4&act=relu&dropout=0")
    assert by(page, "kinks").is_visible()
    drawn = page.evaluate("window.playground.drawn")
    by(page, "dataset").select_option("circles")
    page.wait_for_function(
        f"window.playground.session.task === 'classification' && window.playground.drawn > {drawn}"
    )
    assert not by(page, "kinks").is_visible()  # Figure 6's count is no claim about circles
    assert by(page, "feature-x1").is_visible()  # and the plane's input features are back


ROUND_TRIP = {
    "dataset": "function:abs", "n": "300", "noise": "0.1", "test": "0.3", "seed": "7",
    "layers": "5,3,2", "act": "relu,gelu,sigmoid", "dropout": "0,0.1,0", "opt": "sgd",
    "lr": "0.1", "momentum": "0.5", "batch": "16", "l2": "0.001", "l1": "0.002",
    "features": "x2,sin_x1",
}  # fmt: skip


def test_url_round_trip_restores_every_control(page, served):
    address = "&".join(f"{k}={v}" for k, v in ROUND_TRIP.items()) + "&speed=20&lr_hide=true"
    open_page(page, served, address)
    controls = {"dataset": "dataset", "n": "samples", "noise": "noise", "test": "test-ratio",
                "seed": "seed", "opt": "optimizer", "lr": "learning-rate", "momentum": "momentum",
                "batch": "batch-size", "l2": "l2", "l1": "l1"}  # fmt: skip
    for key, testid in controls.items():
        assert by(page, testid).input_value() == ROUND_TRIP[key], key
    for i, (units, act, p) in enumerate(
        zip("532", ROUND_TRIP["act"].split(","), "0,0.1,0".split(","))
    ):
        assert by(page, f"layer-units-{i}").input_value() == units
        assert by(page, f"layer-activation-{i}").input_value() == act
        assert by(page, f"layer-dropout-{i}").input_value() == p
    assert by(page, "speed").input_value() == "20"
    checked = [name for name in ("x1", "x2", "sin-x1") if by(page, f"feature-{name}").is_checked()]
    assert checked == ["x2", "sin-x1"]
    assert not by(page, "learning-rate").is_visible()  # a teacher's link hides it
    written = dict(parse_qsl(urlsplit(page.url).fragment))
    assert {k: written[k] for k in ROUND_TRIP} == ROUND_TRIP
    assert written["speed"] == "20" and written["lr_hide"] == "true"
    by(page, "batch-size").fill("8")
    by(page, "batch-size").dispatch_event("change")
    page.wait_for_function("window.playground.settings.batch === 8")
    again = page.context.new_page()  # a new tab opened with the link of this one
    again.goto(page.url)
    again.wait_for_function("window.playground.drawn > 0")
    assert again.evaluate("window.playground.settings") == page.evaluate(
        "window.playground.settings"
    )
    assert again.evaluate("window.playground.session.id") != page.evaluate(
        "window.playground.session.id"
    )


def test_bad_learning_rate_shows_the_validation_message(page, served):
    open_page(page, served)
    for bad in ("fast", -1, 1e9):
        with pytest.raises(UserError) as caught:
            state.validate({"lr": bad})
        [problem] = state.problems_for_page(caught.value)
        expected = problem["text"]
        if bad != "fast":  # a number out of range: the page says which range makes sense
            assert "give 0.00001 to 10 (TensorFlow Playground's list); 0.001 to 0.1" in expected
        by(page, "learning-rate").fill(str(bad))
        by(page, "learning-rate").dispatch_event("change")
        page.wait_for_function(
            "t => document.querySelector(\"[data-testid='error']\").textContent.includes(t)",
            arg=expected,
        )
        beside = page.locator("[data-testid='learning-rate'] + .control-error")
        assert expected in beside.text_content()
    by(page, "learning-rate").fill("0.01")  # the server kept running: a good value works
    by(page, "learning-rate").dispatch_event("change")
    page.wait_for_function("window.playground.settings.lr === 0.01")
    assert by(page, "error").text_content() == ""


def test_reload_reconnects_to_the_running_session(page, served):
    open_page(page, served)
    train_steps(page, 5)
    session = page.evaluate("window.playground.session.id")
    page.reload()
    page.wait_for_function("window.playground.drawn > 0")
    assert page.evaluate("window.playground.session.id") == session
    assert by(page, "step-count").text_content() == "5"


FIGURE4 = "dataset=moons&noise=0.1&test=0.2&layers=16&opt=adam&lr=0.03&batch=32&act="


def test_figure4_without_activation_the_layers_collapse_to_a_line(page, served):
    open_page(page, served, FIGURE4 + "identity")
    notice = by(page, "collapse-notice")
    assert notice.is_visible() and "collapse to one linear map" in notice.text_content()
    f = play_until(page, "f.step >= 1500")
    # the two layers are one affine map: its boundary is a straight line on the heatmap
    (W1, b1), (W2, b2) = [(np.array(x["W"]), np.array(x["b"])) for x in f["weights"]]
    W, b = W2 @ W1, W2 @ b1 + b2
    s = page.evaluate("window.playground.session")
    x0, y0, x1, y1 = s["domain"]
    g1, g2 = np.meshgrid(np.linspace(x0, x1, s["grid"]), np.linspace(y1, y0, s["grid"]))
    logits = np.stack([g1.ravel(), g2.ravel()], 1) @ W.T + b
    line_side = logits[:, 1] > logits[:, 0]
    heat = np.frombuffer(__import__("base64").b64decode(f["output"]), np.uint8) > 127
    assert np.mean(line_side == heat) > 0.995
    assert 0.8 < f["test"]["accuracy"] < 0.92


def test_figure4_with_relu_the_boundary_bends_and_fits(page, served):
    open_page(page, served, FIGURE4 + "relu")
    assert not by(page, "collapse-notice").is_visible()
    f = play_until(page, "f.step >= 1500")
    assert f["test"]["accuracy"] >= 0.97


def test_figure6_kinks_counted_equal_the_live_relu_units(page, served):
    open_page(
        page, served, "dataset=function:sin&n=500&test=0.2&layers=12&act=relu&lr=0.02&batch=16"
    )
    f = play_until(page, "f.step >= 1500")
    s = page.evaluate("window.playground.session")
    x = np.array([p[0] for p in s["train"]], np.float32)
    W, b = np.array(f["weights"][0]["W"], np.float32), np.array(f["weights"][0]["b"], np.float32)
    on = (x[:, None] * W[:, 0] + b) > 0  # each unit on each training x
    switching = int(np.sum(on.any(axis=0) & ~on.all(axis=0)))
    dead = int(np.sum(~on.any(axis=0)))
    kinks = by(page, "kinks")
    assert int(kinks.get_attribute("data-count")) == switching
    assert f"{switching} kinks" in kinks.text_content() and f"{dead} dead" in kinks.text_content()
    assert int(by(page, "dead-count").get_attribute("data-count") or 0) == dead
    # the fitted curve is straight between the marked kinks, and bends at them
    xs, curve = np.array(s["xs"]), np.array(f["curve"])
    slopes = np.diff(curve) / np.diff(xs)
    marks = [k["x"] for k in f["kinks"]]
    for i in range(len(slopes) - 1):
        near = any(xs[i] - 1e-9 <= m <= xs[i + 2] + 1e-9 for m in marks)
        inside = x.min() < xs[i] and xs[i + 2] < x.max()
        if inside and not near:
            assert abs(slopes[i + 1] - slopes[i]) < 2e-3, (xs[i], slopes[i], slopes[i + 1])


def teacher_links() -> list[str]:
    page = docs_pages.page("docs/howto/classroom.md")
    section = page[page.index("`NAME_hide=true`") :]
    return re.findall(r"`http://127\.0\.0\.1:8765/#([^`]+)`", section)


@pytest.mark.parametrize(
    ("figure", "visible"),
    [
        (4, ["layer-activation-0"]),
        (6, ["layer-units-0", "units-plus-0", "units-minus-0"]),
        ("features", ["feature-x1", "feature-x1-squared"]),
    ],
)
def test_readme_teacher_links_leave_one_thing_to_change(page, served, figure, visible):
    address = teacher_links()[{4: 0, 6: 1, "features": 2}[figure]]
    open_page(page, served, address)
    controls = ["dataset", "samples", "noise", "test-ratio", "seed", "regenerate", "add-layer",
                "remove-layer", "layer-units-0", "layer-activation-0", "layer-dropout-0",
                "optimizer", "learning-rate", "momentum", "batch-size", "l2", "l1",
                "feature-x1", "feature-x1-squared"]  # fmt: skip
    shown = [c for c in controls if by(page, c).is_visible()]
    assert shown == [c for c in visible if c in controls]
    assert "_hide=true" in page.url  # the page's own address keeps the teacher's options
    assert not by(page, "upload-csv").is_visible()
    opened = page.evaluate("window.playground.opened")
    by(page, "output").click(position={"x": 20, "y": 20})  # points cannot be clicked in
    page.wait_for_timeout(200)
    assert page.evaluate("window.playground.opened") == opened
    if figure == 4:
        assert by(page, "collapse-notice").is_visible()
        opened = page.evaluate("window.playground.opened")
        by(page, "layer-activation-0").select_option("relu")
        page.wait_for_function(f"window.playground.opened > {opened}")
        assert not by(page, "collapse-notice").is_visible()
    elif figure == "features":
        for testid in ("feature-x1-squared", "feature-x2-squared"):
            toggle(page, testid)
        by(page, "speed").select_option("200")  # frames every few steps (see above)
        assert play_until(page, "f.test.loss < 0.1")["step"] <= 1000
    else:
        by(page, "units-plus-0").click()
        page.wait_for_function("window.playground.settings.layers[0] === 4")
        f = train_steps(page, 1)
        assert int(by(page, "kinks").get_attribute("data-count")) == len(f["kinks"])


def test_click_adds_a_point_and_right_click_removes_it(page, served, tmp_path):
    open_page(page, served, "dataset=circles&n=100&test=0.2")
    canvas = by(page, "output")
    box = canvas.bounding_box()
    s = page.evaluate("window.playground.session")
    x0, y0, x1, y1 = s["domain"]
    for shift, label in ((False, 1), (True, 0)):
        opened = page.evaluate("window.playground.opened")
        u, v = (0.1, 0.1) if label else (0.9, 0.9)
        canvas.click(position={"x": u * box["width"], "y": v * box["height"]},
                     modifiers=["Shift"] if shift else [])  # fmt: skip
        page.wait_for_function(f"window.playground.opened > {opened}")
        points = page.evaluate("window.playground.settings.points")
        added = points[-1]
        assert added[2] == label
        assert abs(added[0] - (x0 + u * (x1 - x0))) < 0.02 * (x1 - x0)
        assert abs(added[1] - (y1 - v * (y1 - y0))) < 0.02 * (y1 - y0)
    s = page.evaluate("window.playground.session")
    assert len(s["train"]) + len(s["test"]) == 102
    assert by(page, "point-count").text_content() == "102"
    assert "points=" in page.url
    shown = train_steps(page, 9)  # one epoch: 81 training points in batches of 10
    downloads = []
    page.on("download", lambda d: downloads.append(d))
    by(page, "download-spec").click()
    page.wait_for_function("window.playground.specYaml !== null")
    page.wait_for_timeout(300)
    assert sorted(d.suggested_filename for d in downloads) == ["playground.csv", "playground.yaml"]
    for d in downloads:
        d.save_as(tmp_path / d.suggested_filename)
    assert len((tmp_path / "playground.csv").read_text().splitlines()) == 1 + 102
    assert_trains_to_the_weights_shown(tmp_path / "playground.yaml", shown, tmp_path / "run")
    opened = page.evaluate("window.playground.opened")
    canvas.click(button="right", position={"x": 0.9 * box["width"], "y": 0.9 * box["height"]})
    page.wait_for_function(f"window.playground.opened > {opened}")
    assert [p[2] for p in page.evaluate("window.playground.settings.points")][-1] == 1
    assert by(page, "point-count").text_content() == "101"
    assert page.problems == []


def test_uploaded_csv_becomes_the_points_and_bad_cells_get_the_csv_message(page, served, tmp_path):
    open_page(page, served, "dataset=xor&test=0.5")
    good = tmp_path / "mine.csv"
    rows = [f"{i / 10},{(-1) ** i * 0.3},{'blue' if i % 2 else 'orange'}" for i in range(30)]
    good.write_text("x1,x2,colour\n" + "\n".join(rows) + "\n")
    opened = page.evaluate("window.playground.opened")
    by(page, "upload-csv").set_input_files(str(good))
    page.wait_for_function(f"window.playground.opened > {opened}")
    points = page.evaluate("window.playground.settings.points")
    assert points[:2] == [[0, 0.3, 1], [0.1, -0.3, 0]]  # classes by sorted name: blue 0, orange 1
    assert by(page, "point-count").text_content() == "30"
    menu = by(page, "dataset")  # the menu says whose points these are, not "xor"
    assert menu.evaluate("m => m.options[m.selectedIndex].textContent") == "your points"
    bad = tmp_path / "bad.csv"
    bad.write_text("x1,x2,label\n0,1,0\n1,zz,1\n")
    by(page, "upload-csv").set_input_files(str(bad))
    expected = "bad.csv, line 3, column 'x2': 'zz' is not a number"
    page.wait_for_function(
        "t => document.querySelector(\"[data-testid='error']\").textContent.includes(t)",
        arg=expected,
    )
    assert by(page, "point-count").text_content() == "30"  # the old session keeps running


def test_a_spec_the_plane_cannot_show_opens_the_images_view(browser, tmp_path):
    from tinygrad_edu.spec import load_spec

    spec = load_spec(ROOT / "specs/mlp.yaml")
    with server.ServerThread(spec=spec) as url:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.problems = []
        page.on("pageerror", lambda e: page.problems.append(str(e)))
        try:
            open_page(page, (url, None))
            assert by(page, "mnist-view").is_visible() and not by(page, "network").is_visible()
            expected = summary(build_model(spec), input_size=(1, 784)).total_params
            assert f"{expected:,}" in by(page, "param-count").text_content()
            f = play_until(page, "f.step >= 150", timeout=60_000)
            assert len(f["tiles"]) == 128  # one 28 x 28 tile per first-layer unit
            _assert_tiles_in_the_sign_convention(page, f["tiles"][37], 37)
            s = page.evaluate("window.playground.session")
            wrong = sum(p != t for p, t in zip(f["predictions"], s["labels"]))
            assert int(by(page, "misclassified-count").get_attribute("data-count")) == wrong
            assert f["test"]["accuracy"] > 0.8
            for testid in ("speed", "optimizer", "learning-rate"):  # its controls (issue 20)
                assert by(page, testid).is_visible(), testid
            assert (
                not by(page, "momentum").is_visible() and not by(page, "overfitting").is_visible()
            )
            by(page, "learning-rate").fill("0.05")
            by(page, "learning-rate").dispatch_event("change")
            page.wait_for_function("window.playground.settings.lr === 0.05")
            assert by(page, "mnist-view").is_visible() and "lr=0.05" in page.url
            page.set_viewport_size({"width": 390, "height": 844})
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            assert page.problems == []
        finally:
            context.close()


TILE_PIXEL = """([x, y]) => Array.from(document.querySelector("[data-testid='first-layer-weights']")
  .getContext("2d").getImageData(x, y, 1, 1).data.slice(0, 3))"""


def _assert_tiles_in_the_sign_convention(page, tile: str, index: int) -> None:
    """The unit's largest positive weight is drawn in conventions.POSITIVE's blue, its most
    negative one in NEGATIVE's orange (its own scale: one of them is exactly +-1 of it)."""
    from tinygrad_edu.viz.conventions import NEGATIVE, POSITIVE, SIGN_LEGEND

    weights = np.frombuffer(base64.b64decode(tile), np.uint8)
    side, cell = 28, 30  # images.js: 16 tiles a row, side + 2 apart
    left, top = (index % 16) * cell, (index // 16) * cell
    white = np.array([255, 255, 255])
    rgb = {name: np.array([int(c[i : i + 2], 16) for i in (1, 3, 5)]) for name, c in
           (("+", POSITIVE), ("-", NEGATIVE))}  # fmt: skip
    for k, sign in ((int(np.argmax(weights)), "+"), (int(np.argmin(weights)), "-")):
        t = weights[k] / 255  # app.js mix(): orange at 0, white at 0.5, blue at 1
        end, u = (rgb["+"], 2 * t - 1) if sign == "+" else (rgb["-"], 1 - 2 * t)
        assert u >= 0, (sign, weights[k])  # the unit has weights of both signs
        expected = np.round(white + (end - white) * u)
        drawn = page.evaluate(TILE_PIXEL, [left + k % side, top + k // side])
        np.testing.assert_allclose(drawn, expected, atol=1, err_msg=sign)
    assert SIGN_LEGEND in by(page, "weights-legend").text_content()  # "blue positive, ..."


def test_a_link_with_bad_values_keeps_the_rest_and_names_the_refused_keys(page, served):
    open_page(page, served, "dataset=xorr&lr=0.1&layers=3,3&act=relu,relu&batch=1000000")
    settings = page.evaluate("window.playground.settings")
    assert settings == {**state.DEFAULTS, "lr": 0.1, "layers": [3, 3], "act": ["relu", "relu"]}
    assert by(page, "dataset").input_value() == "circles"
    refused = by(page, "address-refused").text_content()
    assert "dataset=xorr: unknown data set 'xorr'; did you mean 'xor'?" in refused
    assert "batch=1000000: train.batch_size: 1e+06 is outside the playground's range" in refused
    assert by(page, "address-refused").is_visible()


TEACHER = (
    "activation=relu&batchSize=10&dataset=xor&learningRate=0.03&networkShape=4,2&noise=0&"
    "percTrainData=50&regularization=L2&regularizationRate=0.001&x=true&y=true&"
    "xSquared=false&problem=classification&seed=0.45796&showTestData=false&learningRate_hide=true"
)


def test_a_tensorflow_playground_link_opens_the_same_run(page, served):
    open_page(page, served, TEACHER)
    settings = page.evaluate("window.playground.settings")
    expected = {"dataset": "xor", "layers": [4, 2], "act": ["relu", "relu"], "opt": "sgd"}
    expected.update({"momentum": 0.0, "lr": 0.03, "batch": 10, "l2": 0.001, "noise": 0.0})
    expected.update({"test": 0.5, "features": ["x1", "x2"], "seed": 45796})
    assert {k: settings[k] for k in expected} == expected
    assert by(page, "layer-activation-0").input_value() == "relu"
    assert by(page, "optimizer").input_value() == "sgd"
    assert not by(page, "learning-rate").is_visible()  # their KEY_hide=true hides it here too
    assert not by(page, "show-test").is_checked()
    assert not by(page, "address-refused").is_visible()


def test_a_tensorflow_link_with_l1_regularization_opens_with_it(page, served):
    link = "regularization=L1&regularizationRate=0.003&networkShape=3&dataset=xor"
    open_page(page, served, link + "&problem=classification")
    assert not by(page, "address-refused").is_visible()
    assert by(page, "l1").input_value() == "0.003" and by(page, "l2").input_value() == "0"
    assert "l1=0.003" in page.url and page_spec(page).train.l1 == 0.003
    by(page, "l1").fill("0.01")
    by(page, "l1").dispatch_event("change")
    page.wait_for_function("window.playground.settings.l1 === 0.01")
    by(page, "l1").fill("-1")
    by(page, "l1").dispatch_event("change")
    beside = page.locator("[data-testid='l1'] + .control-error")  # its message beside it
    beside.wait_for(state="visible")
    assert "train.l1: -1 is outside the playground's range: give 0 to 10" in beside.text_content()
    assert page.problems == []


PIXEL = """([x, y]) => { const c = document.querySelector("[data-testid='output']");
  const [x0, y0, x1, y1] = window.playground.session.domain;
  const px = Math.round(((x - x0) / (x1 - x0)) * c.width);
  const py = Math.round(((y1 - y) / (y1 - y0)) * c.height);
  return Array.from(c.getContext("2d").getImageData(px, py, 1, 1).data.slice(0, 3)); }"""


def test_a_tensorflow_regression_link_opens_its_2d_set_and_draws_values(page, served):
    """problem=regression&regDataset=reg-gauss: the set, its 1,200 points, the loss alone,
    points coloured by their target (blue +1, orange -1); the thumbnails and the problem
    menu switch sets, with TensorFlow Playground's number of points for each problem."""
    open_page(page, served, "problem=regression&regDataset=reg-gauss&networkShape=4&noise=0")
    assert not by(page, "address-refused").is_visible()
    assert by(page, "problem").input_value() == "regression"
    assert by(page, "dataset").input_value() == "reg-gauss"
    assert by(page, "point-count").text_content() == "1200"
    assert by(page, "loss-name").text_content() == "mse"
    f = train_steps(page, 2)
    assert not by(page, "metric").is_visible() and by(page, "train-loss").text_content() != "-"
    assert "accuracy" not in f["train"]
    session = page.evaluate("window.playground.session")
    high = max(session["train"], key=lambda p: p[2])
    low = min(session["train"], key=lambda p: p[2])
    r, g, b = page.evaluate(PIXEL, high[:2])
    assert high[2] > 0.7 and b > r + 60  # blue: positive
    r, g, b = page.evaluate(PIXEL, low[:2])
    assert low[2] < -0.7 and r > b + 60  # orange: negative
    assert by(page, "thumb-reg-plane").is_visible() and not by(page, "thumb-circles").is_visible()
    opened = page.evaluate("window.playground.opened")
    by(page, "thumb-reg-plane").click()
    page.wait_for_function(f"window.playground.opened > {opened}")
    assert page.evaluate("window.playground.settings.dataset") == "reg-plane"
    assert "dataset=reg-plane" in page.url
    opened = page.evaluate("window.playground.opened")
    by(page, "problem").select_option("classification")
    page.wait_for_function(f"window.playground.opened > {opened}")
    settings = page.evaluate("window.playground.settings")
    assert (settings["dataset"], settings["n"]) == ("circles", 500)
    assert by(page, "metric").is_visible() and by(page, "thumb-circles").is_visible()
    assert page.problems == []


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid:RuntimeWarning")
def test_a_diverging_run_explains_itself_and_offers_a_rate_that_trained(page, served):
    open_page(page, served, "dataset=function:cubic&layers=4&act=identity&lr=1&opt=sgd")
    by(page, "play").click()
    by(page, "divergence").wait_for(state="visible", timeout=30_000)
    text = by(page, "divergence").text_content()
    assert "The training diverged" in text and "Try a learning rate of 0.01." in text
    assert by(page, "play").get_attribute("data-playing") == "false"
    by(page, "use-suggested-lr").click()
    page.wait_for_function("window.playground.settings.lr === 0.01")
    assert not by(page, "divergence").is_visible()
    assert page.problems == []


SIX_BY_EIGHT = "layers=8,8,8,8,8,8&act=relu,relu,relu,relu,relu,relu&dropout=0,0,0,0,0,0"
UNREACHABLE = """() => [...document.querySelectorAll("button, input, select, canvas")]
  .filter((el) => el.offsetParent !== null)
  .filter((el) => {
    el.scrollIntoView({ block: "center", inline: "center" });
    const r = el.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    const inside = r.left >= 0 && r.right <= window.innerWidth;
    return !inside || !(hit === el || el.contains(hit) || (hit && hit.contains(el)));
  })
  .map((el) => el.dataset.testid || el.outerHTML.slice(0, 60))"""


@pytest.mark.parametrize("address", ["", SIX_BY_EIGHT])
def test_a_phone_sized_window_needs_no_sideways_scrolling(browser, served, address):
    """At 390 x 844 the page is one column: nothing is wider than the screen, and every
    control lies inside it and is the element at its own centre (nothing covers it)."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        open_page(page, served, address)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert page.evaluate(UNREACHABLE) == []
    finally:
        context.close()


def test_polish_icons_labels_caps_and_the_hover_card(page, served):
    open_page(page, served, "layers=3&act=tanh&dropout=0")
    play = by(page, "play")
    assert play.text_content().strip() == "play" and play.locator("svg").count() == 1
    assert by(page, "layer-word").text_content() == "hidden layer"  # not "1 hidden layers"
    train_steps(page, 1)
    losses = " ".join(page.locator(".acc").last.text_content().split())
    assert re.fullmatch(r"accuracy: train \d\.\d{4} test \d\.\d{4}", losses), losses
    by(page, "unit-1-0").hover()
    card, unit = by(page, "hover-info").bounding_box(), by(page, "unit-1-0").bounding_box()
    assert 0 <= card["y"] - (unit["y"] + unit["height"]) <= 40, (card, unit)
    assert by(page, "hover-info").text_content().startswith("h1_1 = tanh(")
    opened = page.evaluate("window.playground.opened")
    page.goto(page.url.split("#")[0] + "#" + SIX_BY_EIGHT.replace("8,8,8,8,8,8", "64,8,8,8,8,8"))
    page.wait_for_function(f"window.playground.opened > {opened}")
    assert by(page, "add-layer").is_disabled() and not by(page, "remove-layer").is_disabled()
    assert by(page, "units-plus-0").is_disabled() and not by(page, "units-plus-1").is_disabled()
    assert page.problems == []


def test_a_big_network_draws_its_edges_and_tiles_on_canvases(page, served):
    """6 x 64 units: 20,736 edges on one canvas (redrawn when they change, at most once a
    second) and the units' 5 x 5 pictures on another, under the units' own borders."""
    wide = "layers=64,64,64,64,64,64&act=tanh,tanh,tanh,tanh,tanh,tanh&dropout=0,0,0,0,0,0"
    open_page(page, served, wide)
    shown = train_steps(page, 2)
    assert len(shown["weights"]) == 7 and len(shown["weights"][1]["W"]) == 64
    assert page.evaluate("window.playground.session.unit_grid") == 5
    assert by(page, "network").locator("svg path").count() == 0
    painted = """(id) => { const c = document.querySelector(`[data-testid='${id}']`);
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0; for (let i = 3; i < d.length; i += 4) n += d[i] > 0; return n; }"""
    assert page.evaluate(painted, "edge-canvas") > 10_000  # pixels the edges cover
    assert page.evaluate(painted, "tile-canvas") > 6 * 64 * 34 * 5  # each unit's tile row
    last = """() => { const c = document.querySelector("[data-testid='tile-canvas']");
      const u = document.querySelector("[data-testid='unit-1-63']").getBoundingClientRect();
      const r = c.getBoundingClientRect();  // the middle of the column's last tile
      const x = Math.round(u.left - r.left + 17), y = Math.round(u.top - r.top + 17);
      return c.getContext('2d').getImageData(x, y, 1, 1).data[3]; }"""
    assert page.evaluate(last) > 0  # drawn: the canvas reaches the column's last unit
    by(page, "unit-1-0").hover(position={"x": 17, "y": 2})  # its strip above the next tile
    assert by(page, "hover-info").text_content().startswith("h1_1 = tanh(")
    opened = page.evaluate("window.playground.opened")  # a function set: curves, not tiles
    page.goto(page.url.split("#")[0] + "#dataset=function:sin&" + wide)
    page.wait_for_function(f"window.playground.opened > {opened}")
    assert page.evaluate("!!window.playground.edgeCanvas")
    assert "on-canvas" not in by(page, "unit-1-0").get_attribute("class")  # its curve shows
    assert page.problems == []
