"""The playground without a browser: settings <-> specs, sessions trained by the project's
own Trainer (bit for bit), and the command's port, host and Ctrl-C behaviour."""

from __future__ import annotations

import base64
import contextlib
import gc
import json
import logging
import math
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

pytest.importorskip("starlette", reason="starlette not installed (the playground extra)")
pytest.importorskip("uvicorn", reason="uvicorn not installed (the playground extra)")

from tinygrad_edu.errors import UserError  # noqa: E402
from tinygrad_edu.objectives import evaluate_arrays  # noqa: E402
from tinygrad_edu.playground import probe, schema, server, state  # noqa: E402
from tinygrad_edu.playground.session import Session  # noqa: E402
from tinygrad_edu.spec import build_model, load_spec, parse_spec, validate_spec  # noqa: E402
from tinygrad_edu.summary import summary  # noqa: E402
from tinygrad_edu.training.loop import Trainer, prepare  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, str(ROOT / "cli.py")]


def wait_until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.01)


def trained(session: Session, steps: int) -> None:
    for _ in range(steps):
        session.control("step")
    wait_until(lambda: session.trainer.progress.global_step == steps)
    wait_until(lambda: not session._steps)


# --- settings <-> specs -------------------------------------------------------------------


def test_spec_file_opens_with_its_settings_and_gives_the_same_network():
    spec = load_spec(ROOT / "specs/activation_relu.yaml")
    settings, notes = state.spec_to_settings(spec)
    assert settings["dataset"] == "moons" and settings["layers"] == [16]
    assert settings["act"] == ["relu"] and settings["lr"] == 0.03 and settings["batch"] == 32
    assert notes == []
    again = state.validate(settings, epochs=spec.train.epochs)
    assert again.data == spec.data and again.optimizer == spec.optimizer
    assert again.model.layer_list() == spec.model.layer_list()


def test_figure6_spec_opens_and_names_what_the_page_leaves_out():
    settings, notes = state.spec_to_settings(load_spec(ROOT / "specs/universal_approximation.yaml"))
    assert settings["dataset"] == "function:sin" and settings["layers"] == [12]
    assert notes == ["the page has no learning-rate schedule: 'cosine' left out"]


def test_spec_the_page_cannot_show_is_refused_with_the_reason():
    with pytest.raises(UserError, match="2-D teaching sets and 1-D functions; .* 'mnist-5k'"):
        state.spec_to_settings(load_spec(ROOT / "specs/mlp.yaml"))


def test_mnist_spec_opens_the_images_view_and_downloads_itself():
    from tinygrad_edu.playground import open_spec

    settings, notes, spec = open_spec(str(ROOT / "specs/mlp.yaml"))
    assert settings is None and spec.name == "mnist-mlp" and notes
    session = Session(None, lambda t: None, spec=spec)
    try:
        trained(session, 3)
        text, epochs = session.spec_text()
        assert session.describe()["task"] == "images"
    finally:
        session.stop()
    again = parse_spec(text)
    assert epochs == 1 and again.train.epochs == 1 and again.model == spec.model


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"layers": [4] * 7, "act": ["relu"] * 7}, "at most 6 hidden layers, found 7"),
        ({"layers": [65]}, "hidden layer 1 has 65 units; give 1 to 64"),
        ({"dataset": "mnist"}, "unknown data set 'mnist'"),
        ({"path": "/etc/passwd"}, "unknown playground setting(s) ['path']"),
        ({"lr": -1}, "optimizer.lr: -1 is outside the playground's range: give 0.00001 to 10"),
        ({"lr": 1e9}, "1e+09 is outside the playground's range: give 0.00001 to 10 (Tensor"),
        ({"lr": "fast"}, "optimizer.lr: expected a number, found 'fast'"),
        ({"batch": 10**9}, "train.batch_size: 1e+09 is outside the playground's range"),
        ({"act": [{"linear": 300000}, "tanh"]}, "hidden layer 1's activation: expected one of"),
        ({"act": ["flatten", "tanh"]}, "expected one of relu, tanh, sigmoid"),
        ({"dropout": [{"p": 0.5}, 0]}, "hidden layer 1's dropout: expected a number from 0"),
        ({"layers": [4, True]}, "model.layers: expected a list of hidden widths"),
        ({"act": ["relu", "tanhh"]}, "did you mean 'tanh'?"),
        ({"points": [[0, 0, 2], [1, 1, 0]]}, "data.points[0]: expected [x1, x2, label] with label"),
        ({"points": [[0, 0, 1]]}, "data.points: expected 2 to 2000 points"),
        ({"points": [[0, float("nan"), 1], [1, 1, 0]]}, "data.points[0]: expected"),
    ],
)
def test_bad_settings_get_the_message_validate_gives(change, fragment):
    with pytest.raises(UserError) as caught:
        state.validate({**state.DEFAULTS, **change})
    assert fragment in str(caught.value)


def test_a_bad_value_has_the_message_of_validate_on_a_file(tmp_path):
    bad = {**state.DEFAULTS, "lr": "fast"}
    with pytest.raises(UserError) as caught:
        state.validate(bad)
    [problem] = state.problems_for_page(caught.value)
    path = tmp_path / "bad.yaml"
    path.write_text(state.spec_yaml(state.settings_to_spec(bad), "a spec with lr: fast"))
    result = subprocess.run([*CLI, "validate", str(path)], capture_output=True, text=True)
    assert result.returncode == 2
    assert f"{problem['path']}: {problem['text'].split(': ', 2)[2]}" in result.stderr
    assert problem["control"] == "learning-rate"


# --- input features (the spec's features layer) --------------------------------------------


def test_feature_toggles_become_the_features_layer_and_come_back_from_the_spec():
    settings = {**state.DEFAULTS, "features": ["x2", "x1", "x1_squared", "sin_x2"]}
    spec = state.validate(settings)
    first, second = spec.model.layer_list()[:2]
    assert first.type == "features" and first.options.names == settings["features"]
    assert build_model(spec)[1].in_features == 4  # the first linear sees the four columns
    back, notes = state.spec_to_settings(spec)
    assert back["features"] == settings["features"] and notes == []
    assert state.settings_to_spec(back) == state.settings_to_spec(settings)


def test_the_features_example_spec_opens_with_its_toggles_and_no_hidden_layer():
    spec = load_spec(ROOT / "specs/features_circles.yaml")
    settings, notes = state.spec_to_settings(spec)
    assert settings["features"] == ["x1", "x2", "x1_squared", "x2_squared"]
    assert settings["layers"] == [] and settings["dataset"] == "circles" and notes == []
    assert state.validate(settings).model.layer_list() == spec.model.layer_list()


def test_x1_and_x2_alone_need_no_features_layer():
    for features in (["x1", "x2"], None):
        settings = (
            {**state.DEFAULTS} if features is None else {**state.DEFAULTS, "features": features}
        )
        layers = state.settings_to_spec(settings)["model"]["layers"]
        assert not any(isinstance(layer, dict) and "features" in layer for layer in layers)
    spec = parse_spec(
        (ROOT / "specs/activation_relu.yaml")
        .read_text()
        .replace("layers:", "layers:\n    - features: [x1, x2]", 1)
    )
    assert state.spec_to_settings(spec)[0]["features"] == ["x1", "x2"]


def test_a_function_set_has_no_features_layer_whatever_the_toggles():
    settings = {**state.DEFAULTS, "dataset": "function:sin", "features": ["x1_squared"]}
    assert state.validate(settings).model.layer_list()[0].type == "linear"


@pytest.mark.parametrize(
    ("features", "fragment"),
    [
        (["x1", "x1_sqared"], "unknown input feature 'x1_sqared'; did you mean 'x1_squared'?"),
        ([], "expected at least 1 item"),
        ("x1", "expected a list of feature names"),
    ],
)
def test_bad_features_get_the_spec_message_next_to_the_toggles(features, fragment):
    with pytest.raises(UserError) as caught:
        state.validate({**state.DEFAULTS, "features": features})
    [problem] = state.problems_for_page(caught.value)
    assert fragment in problem["text"] and problem["control"] == "features"


def test_the_drawing_names_the_features_and_shows_each_over_the_plane():
    settings = {**state.DEFAULTS, "features": ["x1", "x1_times_x2", "sin_x2"], "layers": []}
    session = Session(settings, lambda text: None)
    try:
        described = session.describe()
    finally:
        session.stop()
    assert described["inputs"] == ["x1", "x1·x2", "sin(x2)"]
    pictures = described["input_images"]
    assert len(pictures) == 3 and all(p["scale"] > 0 for p in pictures)
    assert described["total_params"] == 3 * 2 + 2  # a linear map of three features


# --- sessions -----------------------------------------------------------------------------


def test_session_trains_bit_identical_to_the_train_command(tmp_path):
    settings = {**state.DEFAULTS, "opt": "sgd", "lr": 0.1, "dropout": [0.1, 0.0]}
    session = Session(settings, lambda text: None)
    try:
        trained(session, 2 * session.trainer.steps_per_epoch)
        text, epochs = session.spec_text()
        assert epochs == 2
        page_weights = {k: v.copy() for k, v in session.setup.model.state_dict().items()}
    finally:
        session.stop()
    spec = parse_spec(text)
    trainer = Trainer(prepare(spec), tmp_path)
    trainer.fit()
    for key, value in trainer.setup.model.state_dict().items():
        assert np.array_equal(value, page_weights[key]), key


def test_two_sessions_at_once_train_as_each_alone():
    def start(seed: int) -> Session:
        return Session({**state.DEFAULTS, "seed": seed, "dropout": [0.2, 0.2]}, lambda t: None)

    alone = []
    for seed in (1, 2):
        session = start(seed)
        trained(session, 200)
        alone.append(session.setup.model.state_dict())
        session.stop()
    both = [start(1), start(2)]
    try:
        for _ in range(200):  # both threads step at the same time, sharing the engine
            for session in both:
                session.control("step")
        for session in both:
            wait_until(lambda s=session: s.trainer.progress.global_step == 200)
        for session, expected in zip(both, alone):
            for key, value in session.setup.model.state_dict().items():
                assert np.array_equal(value, expected[key]), key
    finally:
        for session in both:
            session.stop()


def test_frames_only_at_the_pages_pace_and_steps_never_wait():
    sent: list[str] = []
    session = Session({**state.DEFAULTS}, sent.append)
    try:
        session.control("ready")
        wait_until(lambda: len(sent) == 1)
        session.control("play")
        wait_until(lambda: session.trainer.progress.global_step > 500)
        session.control("pause")
    finally:
        session.stop()
    assert len(sent) == 1  # the page never said ready again: no frame, yet 500 steps ran
    frame = json.loads(sent[0])
    assert frame["type"] == "frame" and frame["step"] == 0


def test_param_count_and_reason_come_from_summary():
    session = Session({**state.DEFAULTS, "layers": [8, 3], "act": ["relu", "identity"]}, print)
    try:
        described = session.describe()
    finally:
        session.stop()
    model = build_model(state.validate(session.settings))
    expected = summary(model, input_size=(1, 2))
    assert described["total_params"] == expected.total_params
    assert described["explain"] == expected.explain()
    assert "2 x 8 weights + 8 biases = 24" in described["explain"]
    assert any("collapse to a single linear model" in w for w in described["warnings"])


def test_sessions_leave_no_threads_behind():
    before = threading.active_count()
    for _ in range(50):
        session = Session(dict(state.DEFAULTS), lambda t: None)
        session.control("step")
        session.stop()
    assert threading.active_count() == before


def test_detached_sessions_are_reaped_after_their_linger_time():
    sessions = server.Sessions({}, [], linger=0.05)
    session = Session(dict(state.DEFAULTS), lambda t: None)
    sessions.by_id["a"] = session
    sessions.reap()
    assert "a" in sessions.by_id  # still attached
    session.detached_since = time.monotonic()
    time.sleep(0.1)
    sessions.reap()
    assert sessions.by_id == {} and session.finished


# --- the command --------------------------------------------------------------------------


def test_missing_web_stack_gives_the_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    with pytest.raises(UserError, match=re.escape(server.HINT)):
        server.create_app()


def test_busy_default_port_moves_on_to_the_next_free_one(monkeypatch, capsys):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    monkeypatch.setattr(server, "DEFAULT_PORT", port)
    try:
        sock = server.bind("127.0.0.1", None)
        assert sock.getsockname()[1] != port
        sock.close()
    finally:
        busy.close()
    assert f"port {port} is in use" in capsys.readouterr().err


def test_busy_port_is_a_clear_error():
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    try:
        result = subprocess.run(
            [*CLI, "playground", "--no-browser", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        busy.close()
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "--port" in result.stderr
    assert "Traceback" not in result.stderr


def test_all_interfaces_warns_and_ctrl_c_exits_0():
    process = subprocess.Popen(
        [*CLI, "playground", "--no-browser", "--host", "0.0.0.0", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert re.match(r"playground: http://127\.0\.0\.1:\d+/", line), line
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "warning: listening on 0.0.0.0: anyone who can reach this machine" in err
    assert "Traceback" not in err


def test_validate_accepts_a_page_spec_of_every_data_set():
    for dataset in state.DATASETS:
        validate_spec(state.settings_to_spec({"dataset": dataset}))


def test_a_2d_regression_set_is_drawn_on_the_plane_by_value_and_trains_with_mse():
    """reg-gauss: one linear output, mse, the output heatmap's byte = (clipped value + 1) / 2
    on the colour scale (0 orange = -1, 255 blue = +1), unit pictures as for classification."""
    settings = {**state.DEFAULTS, "dataset": "reg-gauss", "n": 1200, "layers": [3]}
    settings["act"] = ["tanh"]
    session = Session(settings, lambda t: None)
    try:
        described = session.describe()
        trained(session, 3)
        frame = session.view.frame(session.trainer.progress, 1)
        outputs, _ = session.view._forward(session.view.grid)
    finally:
        session.stop()
    assert described["task"] == "regression" and described["view"] == "plane"
    assert described["loss"] == "mse" and described["outputs"] == 1
    assert len(described["train"]) + len(described["test"]) == 1200
    assert described["inputs"] == ["x1", "x2"] and "domain" in described
    assert all(-1 <= point[2] <= 1 for point in described["train"])  # [x1, x2, target]
    shown = np.frombuffer(base64.b64decode(frame["output"]), np.uint8)
    expected = np.round((np.clip(outputs[:, 0].astype(np.float64), -1, 1) + 1) / 2 * 255)
    np.testing.assert_array_equal(shown, expected)
    assert "accuracy" not in frame["train"] and len(frame["units"][0]) == 3
    spec = state.validate(settings)
    assert spec.model.input == [2] and spec.data.source == "reg-gauss"


def test_the_pages_own_points_of_a_2d_regression_set_keep_their_targets():
    points = [[0.1 * i, -0.05 * i, round(0.04 * i - 0.8, 2)] for i in range(40)]
    settings = {**state.DEFAULTS, "dataset": "reg-plane", "points": points, "test": 0.25}
    session = Session(settings, lambda t: None)
    try:
        ds = session.setup.dataset
        assert session.points.splitlines()[:2] == ["x1,x2,target", "0.0,-0.0,-0.8"]
        targets = np.sort(np.concatenate([ds.y_train, ds.y_test])[:, 0])
        expected = np.sort(np.array([p[2] for p in points], np.float32))  # not two classes
        np.testing.assert_array_equal(targets, expected)
        assert session.describe()["view"] == "plane"
    finally:
        session.stop()
    assert state.points_from_csv("x1,x2,y\n0,1,0.5\n1,0,-0.25\n", "mine.csv", settings) == [
        [0.0, 1.0, 0.5],
        [1.0, 0.0, -0.25],
    ]


def test_the_page_draws_signs_in_the_colours_of_the_plots():
    """app.js's orange and blue (heatmaps, points, edges, the images view's weight tiles) are
    viz/conventions.py's NEGATIVE and POSITIVE: one sign convention everywhere."""
    from tinygrad_edu.viz.conventions import NEGATIVE, POSITIVE

    static = ROOT / "tinygrad_edu/playground/static"
    app = (static / "app.js").read_text()
    found = re.search(r"const C0 = \[(\d+), (\d+), (\d+)\], C1 = \[(\d+), (\d+), (\d+)\]", app)
    as_hex = ["#" + "".join(f"{int(v):02x}" for v in found.groups()[i : i + 3]) for i in (0, 3)]
    assert as_hex == [NEGATIVE, POSITIVE]


def test_the_pages_own_points_are_a_csv_spec_read_by_the_csv_source():
    points = [[0.25 * i, (-1.0) ** i * 0.5, i % 2] for i in range(40)]
    session = Session({**state.DEFAULTS, "points": points, "test": 0.25}, lambda t: None)
    try:
        ds = session.setup.dataset
        assert len(ds.X_train) == 30 and len(ds.X_test) == 10
        shown = np.concatenate([ds.X_train, ds.X_test])
        assert sorted(map(tuple, shown.tolist())) == sorted((p[0], p[1]) for p in points)
        assert session.points.splitlines()[:2] == ["x1,x2,label", "0.0,0.5,0"]
        text, _ = session.spec_text()
    finally:
        session.stop()
    assert "path: playground.csv" in text


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="no /proc (not Linux)")
def test_fifty_tabs_opened_and_closed_leave_no_sessions_threads_or_memory():
    connect = pytest.importorskip("websockets.sync.client", reason="websockets not installed")
    running = server.ServerThread(linger=0.05)

    def cycle(url: str) -> None:
        with connect.connect(url.replace("http", "ws") + "ws") as tab:
            tab.send(json.dumps({"type": "open", "session": None, "settings": None}))
            assert json.loads(tab.recv(timeout=30))["type"] == "session"
            tab.send(json.dumps({"type": "step"}))
            tab.send(json.dumps({"type": "ready"}))
            assert json.loads(tab.recv(timeout=30))["type"] == "frame"

    def training_threads() -> int:
        return sum(t.name == "playground" for t in threading.enumerate())

    with running as url:
        for _ in range(10):
            cycle(url)
        wait_until(lambda: not running.app.state.sessions.by_id)
        before = _rss_mib()
        for _ in range(50):
            cycle(url)
        wait_until(lambda: not running.app.state.sessions.by_id)
        wait_until(lambda: training_threads() == 0)
        gc.collect()
        assert not [o for o in gc.get_objects() if isinstance(o, Session)]  # all freed
        assert _rss_mib() - before < 20  # MiB


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--port", "99999"], "--port 99999: a port is 0 to 65535"),
        (["--host", "no-such-host.invalid"], "cannot listen on no-such-host.invalid"),
        (["specs/missing.yaml"], "spec file not found"),
    ],
)
def test_bad_command_lines_are_one_paragraph_and_exit_2(args, fragment):
    result = subprocess.run(
        [*CLI, "playground", "--no-browser", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 2 and fragment in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "is in use" not in result.stderr


def test_other_sites_cannot_drive_a_session():
    client = pytest.importorskip("websockets.sync.client", reason="websockets not installed")
    import urllib.error
    import urllib.request

    with server.ServerThread() as url:
        ws = url.replace("http", "ws") + "ws"
        with pytest.raises(Exception, match="403"):  # a page of another site: refused
            with client.connect(ws, origin="http://evil.example") as tab:
                tab.send(json.dumps({"type": "open", "session": None, "settings": None}))
                tab.recv(timeout=10)
        request = urllib.request.Request(url, headers={"Host": "evil.example"})
        with pytest.raises(urllib.error.HTTPError, match="400"):  # DNS rebinding: refused
            urllib.request.urlopen(request, timeout=10)
        with client.connect(ws, origin=url.rstrip("/")) as tab:  # the page itself: fine
            tab.send(json.dumps({"type": "open", "session": None, "settings": None}))
            assert json.loads(tab.recv(timeout=30))["type"] == "session"


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid:RuntimeWarning")
def test_a_diverging_run_stops_and_tells_the_page():
    sent: list[str] = []
    diverging = {"dataset": "function:cubic", "layers": [4], "act": ["identity"], "lr": 10}
    session = Session({**state.DEFAULTS, **diverging, "opt": "sgd"}, sent.append)
    try:
        session.control("play")
        wait_until(lambda: session.finished)
    finally:
        session.stop()
    stopped = [json.loads(t) for t in sent if '"stopped"' in t]
    assert stopped and "the loss became" in stopped[0]["error"]
    assert "Try a learning rate of" in stopped[0]["divergence"]["text"]
    # the page's control, not the CLI's flag (issue 20: "--lr" meant nothing on the page)
    assert re.search(
        r"Try a learning rate of \S+ in the page's learning-rate box: a probe", stopped[0]["error"]
    )
    assert "--lr" not in stopped[0]["error"]


# --- the socket: every message checked by the page's limits (issue 21 items 4 and 7) -------

SETTING_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from([*schema.ACTIVATIONS, "flatten", "circles", "function:sin", "sgd"]),
    st.lists(
        st.one_of(
            st.integers(-3, 100),
            st.sampled_from(schema.ACTIVATIONS),
            st.floats(0, 1),
            st.fixed_dictionaries({"linear": st.integers(1, 300_000)}),
        ),
        max_size=14,
    ),
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(state.DEFAULTS)), SETTING_VALUES, max_size=5))
def test_settings_that_validate_stay_within_the_pages_limits(change):
    """Whatever a socket sends as settings, a spec that validates is one the controls could
    have made: at most 6 hidden linear layers of 1 to 64 units, each followed by one of the
    page's activations, and every number within its control's range."""
    try:
        spec = state.validate({**state.DEFAULTS, **change, "points": None})
    except UserError:
        return
    layers = spec.model.layer_list()
    kinds = [layer.type for layer in layers]
    body = kinds[1:] if kinds[0] == "features" else kinds
    hidden = [layer.options.out_features for layer in layers if layer.type == "linear"][:-1]
    assert len(hidden) <= schema.MAX_LAYERS and all(1 <= u <= schema.MAX_UNITS for u in hidden)
    assert set(body) <= {"linear", "dropout", *schema.ACTIVATIONS}, kinds
    assert all(body[i + 1] in schema.ACTIVATIONS for i, k in enumerate(body[:-1]) if k == "linear")
    assert 1e-5 <= spec.optimizer.lr <= 10 and 1 <= spec.train.batch_size <= state.MAX_SAMPLES


def socket_url(url: str) -> str:
    return url.replace("http", "ws") + "ws"


def opened(tab, session=None, settings=None) -> dict:
    tab.send(json.dumps({"type": "open", "session": session, "settings": settings}))
    return json.loads(tab.recv(timeout=60))


MESSAGE_VALUES = st.one_of(SETTING_VALUES, st.dictionaries(st.text(max_size=6), SETTING_VALUES))
MESSAGES = st.one_of(
    st.builds(
        lambda kind, extra: {"type": kind, **extra},
        st.sampled_from([*schema.MESSAGES, "linear", "open "]),
        st.dictionaries(
            st.sampled_from(["value", "settings", "name", "text", "x"]), MESSAGE_VALUES
        ),
    ),
    st.builds(
        lambda change: {"type": "settings", "settings": change},
        st.dictionaries(st.sampled_from(sorted(state.DEFAULTS)), SETTING_VALUES, max_size=4),
    ),
)


def test_every_socket_message_is_answered_and_no_session_passes_the_caps():
    """Hypothesis sends messages of every type, with right and wrong fields, down one
    socket: each gets an answer, the connection stays open, and no session the server
    runs has more layers or units than the page allows."""
    client = pytest.importorskip("websockets.sync.client", reason="websockets not installed")
    running = server.ServerThread()
    with running as url, client.connect(socket_url(url)) as tab:
        assert opened(tab)["type"] == "session"

        @settings(max_examples=60, deadline=None)
        @given(MESSAGES)
        @example({"type": "settings", "settings": {"act": [{"linear": 100}, "tanh"]}})
        def check(message):
            tab.send(json.dumps(message))
            tab.send(json.dumps({"type": "pause"}))
            tab.send(json.dumps({"type": "spec"}))  # its answer ends this message's answers
            while (answer := json.loads(tab.recv(timeout=60)))["type"] != "spec":
                assert answer["type"] in ("problems", "session", "frame"), answer
            for session in running.app.state.sessions.by_id.values():
                hidden = [u["units"] for u in session.view.static()["layers"]]
                assert len(hidden) <= schema.MAX_LAYERS, hidden
                assert all(1 <= u <= schema.MAX_UNITS for u in hidden), hidden

        check()


def test_a_binary_frame_is_closed_with_1003_and_no_traceback_in_the_log():
    client = pytest.importorskip("websockets.sync.client", reason="websockets not installed")
    from websockets.exceptions import ConnectionClosed

    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("uvicorn.error")
    logger.addHandler(handler)
    try:
        with server.ServerThread() as url, client.connect(socket_url(url)) as tab:
            assert opened(tab)["type"] == "session"
            tab.send(b"\x00\x01binary")
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    tab.recv(timeout=30)
    finally:
        logger.removeHandler(handler)
    assert closed.value.rcvd is not None, "closed without a close frame"
    assert closed.value.rcvd.code == 1003 and closed.value.rcvd.reason == server.BINARY
    assert not [r for r in records if r.exc_info or r.levelno >= logging.ERROR], records


def test_tabs_opening_at_once_never_exceed_the_cap():
    client = pytest.importorskip("websockets.sync.client", reason="websockets not installed")
    tabs = server.MAX_SESSIONS + 8
    running = server.ServerThread()
    start = threading.Barrier(tabs)
    answers: list[dict] = []
    with running as url, contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(client.connect(socket_url(url))) for _ in range(tabs)]

        def open_tab(tab) -> None:
            start.wait()
            answers.append(opened(tab))

        workers = [threading.Thread(target=open_tab, args=(tab,)) for tab in sockets]
        try:
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join(timeout=120)
            assert len(running.app.state.sessions.by_id) == server.MAX_SESSIONS
        finally:
            start.abort()
    kinds = sorted(answer["type"] for answer in answers)
    assert kinds == ["problems"] * 8 + ["session"] * server.MAX_SESSIONS
    refused = [a["problems"][0]["text"] for a in answers if a["type"] == "problems"]
    assert all(f"at most {server.MAX_SESSIONS} playground tabs" in text for text in refused)


def test_a_class_reloading_together_keeps_its_slots():
    """Every tab closes and reconnects with its session id (its address changed meanwhile):
    each gets its own slot back, and a new tab still finds room by taking the slot of the
    tab that left longest ago."""
    client = pytest.importorskip("websockets.sync.client", reason="websockets not installed")
    running = server.ServerThread(linger=30.0)
    with running as url:
        ids = []
        for _ in range(server.MAX_SESSIONS):
            with client.connect(socket_url(url)) as tab:
                ids.append(opened(tab)["id"])
        by_id = running.app.state.sessions.by_id
        wait_until(lambda: all(s.detached_since for s in by_id.values()))
        for seed, key in enumerate(ids):
            with client.connect(socket_url(url)) as tab:
                answer = opened(tab, key, {**state.DEFAULTS, "seed": seed + 1})
                assert answer["type"] == "session" and answer["id"] == key, answer
        assert sorted(by_id) == sorted(ids)
        with client.connect(socket_url(url)) as tab:
            answer = opened(tab)
        assert answer["type"] == "session" and ids[0] not in by_id
        assert len(by_id) == server.MAX_SESSIONS


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid:RuntimeWarning")
def test_a_loss_running_away_is_explained_with_a_rate_that_was_seen_to_train():
    """A loss of 5e4 from 106 (finite: no NaN yet) pauses the run with the sentence on
    divergence and the rates tried; the suggested one really lowers the loss."""
    sent: list[str] = []
    diverging = {"dataset": "function:cubic", "layers": [4], "act": ["identity"], "lr": 1.0}
    session = Session({**state.DEFAULTS, **diverging, "opt": "sgd"}, sent.append)
    try:
        session.control("ready")
        wait_until(lambda: len(sent) == 1)
        for step in range(1, 4):  # one frame a step: the page takes each
            session.control("step")
            wait_until(lambda s=step: session.trainer.progress.global_step == s)
            session.control("ready")
            wait_until(lambda s=step: len(sent) == s + 1)
    finally:
        session.stop()
    frames = [json.loads(text) for text in sent]
    [warned] = [f for f in frames if "divergence" in f]
    assert math.isfinite(warned["train"]["loss"]) and warned["paused"]
    assert warned["train"]["loss"] > probe.GROWTH * frames[0]["train"]["loss"]
    divergence = warned["divergence"]
    assert "overshoots the minimum" in divergence["text"]
    assert divergence["tried"][0].startswith("0.1: ") and divergence["suggested"] == 0.01
    assert "Try a learning rate of 0.01." in divergence["text"]
    check = Session({**state.DEFAULTS, **diverging, "opt": "sgd", "lr": 0.01}, lambda t: None)
    try:
        before = check.view.frame(check.trainer.progress, 1)["train"]["loss"]
        trained(check, probe.STEPS)
        after = check.view.frame(check.trainer.progress, 1)["train"]["loss"]
    finally:
        check.stop()
    assert after < before and f"{before:.3g} to {after:.3g}, fell" in divergence["tried"][-1]


def test_runs_away_only_on_a_hundredfold_loss_or_not_a_number():
    assert probe.runs_away(1.0, None) and probe.runs_away(1.0, math.inf)
    assert probe.runs_away(0.5, 50.1) and not probe.runs_away(0.5, 49.9)
    assert not probe.runs_away(None, 1e9)  # no first loss yet: nothing to compare


# --- big networks stay fluid: nothing computed finer than it is seen ----------------------


def test_unit_pictures_have_the_resolution_of_their_tiles_and_big_nets_send_less():
    from tinygrad_edu.playground import frames

    # the page stands a column of n units 400 / n pixels apart: 4 units, 100 px; 64, 6 px
    assert [frames.unit_side(n) for n in (2, 4, 16, 20, 32, 40, 64)] == [25, 25, 25, 20, 10, 10, 5]
    assert frames.output_grid([2, 4, 2]) == 100 and frames.output_grid([2, 64, 64]) == 100
    assert frames.output_grid([2, 64, 64, 64]) == 50
    assert frames.output_grid([2, *[64] * 6]) == 34  # the 6 x 64: 10 px a cell
    small, big = {**state.DEFAULTS}, {**state.DEFAULTS, "layers": [64] * 6, "act": ["tanh"] * 6}
    sizes = {}
    for name, chosen in (("small", small), ("big", big)):
        session = Session({**chosen, "dropout": [0.0] * len(chosen["layers"])}, print)
        try:
            static = session.describe()
            frame = session.view.frame(session.trainer.progress, 1)
            setup, ds = session.setup, session.setup.dataset
            for split, X, y in (("train", ds.X_train, ds.y_train), ("test", ds.X_test, ds.y_test)):
                alone = evaluate_arrays(setup.model, setup.objective, X, y)  # one pass for all
                assert frame[split] == pytest.approx(alone, rel=1e-6), split
        finally:
            session.stop()
        side = static["unit_grid"]
        assert all(len(base64.b64decode(u["image"])) == side * side for u in frame["units"][0])
        assert len(base64.b64decode(frame["output"])) == static["grid"] ** 2
        sizes[name] = (side, static["grid"], frame["weights"][0]["dtype"], len(json.dumps(frame)))
    assert sizes["small"][:3] == (25, 100, "float32")  # exact weights: tests compare them
    assert sizes["big"][:3] == (5, 34, "float16") and sizes["big"][3] < 100_000  # was 813 KB


# --- the images view (MNIST): its controls and when the test loss turns --------------------


def test_the_test_loss_turning_is_said_only_while_training_still_improves():
    from tinygrad_edu.playground.frames import TestLossWatch

    watch = TestLossWatch()
    seen = [
        watch.update(s, tr, te) for s, tr, te in [(0, 2.0, 2.0), (10, 1.0, 1.0), (20, 0.5, 0.9)]
    ]
    assert seen == [None, None, None]  # both still falling
    assert watch.update(30, 0.4, 0.92) is None  # within 5% of the lowest: noise
    assert watch.update(40, 0.3, 0.97) == {"best": 0.9, "best_step": 20, "now": 0.97}
    assert watch.update(50, 0.95, 1.2) is None  # training got worse too: not overfitting
    assert watch.update(60, None, 1.0) is None


def test_the_images_view_takes_an_optimizer_and_a_rate_within_the_pages_limits():
    client = pytest.importorskip("websockets.sync.client", reason="websockets not installed")
    spec = load_spec(ROOT / "specs/mlp.yaml")
    running = server.ServerThread(spec=spec)
    with running as url, client.connect(socket_url(url)) as tab:
        first = opened(tab)
        assert first["settings"] == {"spec": spec.name, "opt": "sgd", "lr": 0.1}  # the spec's own
        change = {"spec": spec.name, "opt": "adam", "lr": 0.002}
        tab.send(json.dumps({"type": "settings", "settings": change}))
        answer = json.loads(tab.recv(timeout=60))
        assert answer["type"] == "session" and answer["settings"] == change
        [session] = running.app.state.sessions.by_id.values()
        assert session.spec.optimizer.name == "adam" and session.spec.optimizer.lr == 0.002
        for bad, fragment in (({"lr": 50}, "give 0.00001 to 10"), ({"layers": [3]}, "only opt")):
            tab.send(json.dumps({"type": "settings", "settings": {"spec": spec.name, **bad}}))
            answer = json.loads(tab.recv(timeout=60))
            assert answer["type"] == "problems" and fragment in answer["problems"][0]["text"]
    with server.ServerThread(spec=spec) as url:  # a reload: its link keeps the images view
        with client.connect(socket_url(url)) as tab:
            key = opened(tab)["id"]
        with client.connect(socket_url(url)) as tab:
            tab.send(json.dumps({"type": "open", "session": key, "address": "spec=mnist-mlp"}))
            again = json.loads(tab.recv(timeout=60))
        assert again["id"] == key and again["task"] == "images"


def test_opening_again_on_one_socket_cannot_hold_more_than_one_slot():
    """A page (or a script) that sends "open" again and again on its socket: each new
    session lets the previous one go, so one socket never fills the tab cap."""
    client = pytest.importorskip("websockets.sync.client", reason="websockets not installed")
    running = server.ServerThread(linger=30.0)
    with running as url, client.connect(socket_url(url)) as tab:
        answers = [opened(tab, None, {**state.DEFAULTS, "seed": i}) for i in range(40)]
        assert [a["type"] for a in answers] == ["session"] * 40
        by_id = running.app.state.sessions.by_id
        attached = [k for k, s in by_id.items() if s.detached_since is None]
        assert attached == [answers[-1]["id"]] and len(by_id) <= server.MAX_SESSIONS
