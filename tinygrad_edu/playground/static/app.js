// The playground page: controls <-> settings <-> address, and the views of each frame.
// The server trains; this page only sends settings and actions and draws what it gets.
"use strict";

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
// the data sets of each problem (TensorFlow Playground's two); the first opens the problem
const PROBLEMS = { classification: ["circles", "xor", "gaussian", "spiral", "moons"],
  regression: ["reg-plane", "reg-gauss", "function:sin", "function:cos", "function:abs",
    "function:step", "function:relu", "function:square", "function:cubic"] };
const POINTS = { classification: 500, regression: 1200 };  // TensorFlow Playground's numbers
const problemOf = (dataset) => (PROBLEMS.regression.includes(dataset) ? "regression" : "classification");
const ACTIVATIONS = ["relu", "tanh", "sigmoid", "leaky_relu", "gelu", "identity"];
const OWN_POINTS = "own-points";  // the data-set menu's entry for uploaded or clicked points
// the input features (the spec's features layer) and how the page writes them
const FEATURES = { x1: "x1", x2: "x2", x1_squared: "x1²", x2_squared: "x2²", x1_times_x2: "x1·x2",
  sin_x1: "sin(x1)", sin_x2: "sin(x2)" };
const featureId = (name) => `feature-${name.replaceAll("_", "-")}`;
// each setting and the control that edits it (for the address, errors and *_hide)
const FIELDS = { dataset: "dataset", n: "samples", noise: "noise", test: "test-ratio", seed: "seed",
  opt: "optimizer", lr: "learning-rate", momentum: "momentum", batch: "batch-size", l2: "l2", l1: "l1" };
const C0 = [245, 147, 34], C1 = [8, 119, 189], WHITE = [255, 255, 255];

const pg = window.playground = { settings: null, session: null, frame: null, frames: 0,
  shown: null, drawn: 0, opened: 0, history: [], playing: false, specYaml: null, hidden: new Set(), speed: 0 };
let socket = null, drawPending = false;

// --- address <-> settings ----------------------------------------------------------------
// The server reads the settings of a link (ours or TensorFlow Playground's, key by key);
// the page reads only what is its own: hidden controls, speed, and two display toggles.
// TensorFlow Playground's names of the controls its links hide (KEY_hide=true)
const TF_HIDE = { learningRate: "lr", batchSize: "batch", activation: "act", networkShape: "layers",
  percTrainData: "test", regularization: ["l1", "l2"], regularizationRate: ["l1", "l2"], problem: "dataset",
  regDataset: "dataset", x: "features", y: "features", xTimesY: "features", xSquared: "features",
  ySquared: "features", sinX: "features", sinY: "features",
  l2: ["l1", "l2"] };  // l2_hide, as links written before L1 say it: both regularization rates
let writtenAddress = null;  // the address this page wrote last (a change by hand differs)

function readPageOptions() {
  for (const [key, value] of new URLSearchParams(location.hash.slice(1))) {
    if (key.endsWith("_hide")) {
      const name = key.slice(0, -5);
      if (value === "true") [].concat(TF_HIDE[name] || name).forEach((setting) => pg.hidden.add(setting));
    }
    else if (key === "speed") pg.speed = Number(value) || 0;
    else if (key === "showTestData") $("show-test").checked = value === "true";
    else if (key === "discretize") $("discretize").checked = value === "true";
  }
}

function parseValue(text) {
  if (text === "") return text;
  const number = Number(text);
  return Number.isFinite(number) && /^[-+0-9.eE]+$/.test(text) ? number : text;
}

function writeAddress(settings) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(settings)) {
    if (key === "points") { if (value) params.set(key, value.map((row) => row.join(",")).join(";")); continue; }
    params.set(key, Array.isArray(value) ? value.join(",") : String(value));
  }
  if (pg.speed) params.set("speed", String(pg.speed));
  for (const key of pg.hidden) params.set(`${key}_hide`, "true");
  writtenAddress = params.toString();
  history.replaceState(null, "", `#${writtenAddress}`);
}

function readControls() {
  const s = structuredClone(pg.settings);
  for (const [key, id] of Object.entries(FIELDS)) {
    s[key] = key === "dataset" || key === "opt" ? $(id).value : parseValue($(id).value.trim());
  }
  if (s.dataset === OWN_POINTS) s.dataset = pg.settings.dataset;  // the menu's "your points"
  if (s.dataset !== pg.settings.dataset || s.n !== pg.settings.n || s.noise !== pg.settings.noise) {
    s.points = null;  // another generated set: the points clicked in go
  }
  const on = Object.keys(FEATURES).filter((name) => $(featureId(name)).checked);
  // the order stays the settings' (a spec's order: same columns, same weights), new ones last
  const before = s.features || [];
  s.features = before.filter((name) => on.includes(name)).concat(on.filter((name) => !before.includes(name)));
  document.querySelectorAll(".layer").forEach((el, i) => {
    s.layers[i] = parseValue(el.querySelector("input.units").value.trim());
    s.act[i] = el.querySelector("select").value;
    s.dropout[i] = parseValue(el.querySelector("input.dropout").value.trim());
  });
  return s;
}

function showSettings(s) {
  $("problem").value = problemOf(s.dataset);
  document.querySelectorAll(".thumb").forEach((el) => {
    el.hidden = problemOf(el.dataset.name) !== $("problem").value;
    el.classList.toggle("chosen", el.dataset.name === s.dataset);
  });
  const own = $("dataset").querySelector(`option[value="${OWN_POINTS}"]`);
  own.hidden = own.disabled = !s.points;
  for (const [key, id] of Object.entries(FIELDS)) $(id).value = String(s[key]);
  if (s.points) $("dataset").value = OWN_POINTS;  // an upload or clicked points: say so
  const limits = pg.session.limits;
  $("add-layer").disabled = s.layers.length >= limits.max_layers;
  $("remove-layer").disabled = s.layers.length === 0;
  $("layer-word").textContent = s.layers.length === 1 ? "hidden layer" : "hidden layers";
  for (const [key, [low, high]] of Object.entries(limits.ranges)) {
    if (FIELDS[key]) $(FIELDS[key]).title = `${low} to ${high}`;
  }
  $("speed").value = String(pg.speed);
  $("momentum").disabled = s.opt !== "sgd";
  $("layer-count").textContent = String(s.layers.length);
  for (const name of Object.keys(FEATURES)) $(featureId(name)).checked = s.features.includes(name);
  $("features").hidden = String(s.dataset).startsWith("function:");  // 1-D sets have just x
  const box = $("layer-controls");
  box.replaceChildren();
  s.layers.forEach((units, i) => {
    const el = document.createElement("div");
    el.className = "layer";
    el.innerHTML = `<span class="name">layer ${i + 1}</span><span><button data-testid="units-minus-${i}">&minus;</button>
      <input class="units" data-testid="layer-units-${i}" value="${units}">
      <button data-testid="units-plus-${i}">+</button></span>
      <select data-testid="layer-activation-${i}">${ACTIVATIONS.map((a) =>
        `<option ${a === s.act[i] ? "selected" : ""}>${a}</option>`).join("")}</select>
      <label>dropout <input class="dropout" data-testid="layer-dropout-${i}" value="${s.dropout[i]}"></label>`;
    box.append(el);
    el.querySelector(`[data-testid="units-minus-${i}"]`).disabled = units <= 1;
    el.querySelector(`[data-testid="units-plus-${i}"]`).disabled = units >= limits.max_units;
    el.querySelector(`[data-testid="units-minus-${i}"]`).onclick = () => changeUnits(i, -1);
    el.querySelector(`[data-testid="units-plus-${i}"]`).onclick = () => changeUnits(i, +1);
    el.querySelectorAll("input, select").forEach((c) => c.addEventListener("change", applyControls));
    el.querySelector(".units").parentElement.classList.add("control");
    el.querySelector(".units").parentElement.dataset.setting = "layers";
    el.querySelector("select").classList.add("control");
    el.querySelector("select").dataset.setting = "act";
    el.querySelector("label").classList.add("control");
    el.querySelector("label").dataset.setting = "dropout";
  });
  document.querySelectorAll("[data-setting]").forEach((el) => {
    el.style.display = pg.hidden.has(el.dataset.setting) ? "none" : "";
  });
}

function changeUnits(i, delta) {
  const s = readControls();
  s.layers[i] = Math.max(1, Math.min(pg.session.limits.max_units, Number(s.layers[i]) + delta));
  send({ type: "settings", settings: s });
}

function applyControls() {
  if (pg.session && pg.session.task === "images") {  // the images view: optimizer and rate
    const lr = parseValue($("learning-rate").value.trim());
    send({ type: "settings", settings: { spec: pg.settings.spec, opt: $("optimizer").value, lr } });
  } else send({ type: "settings", settings: readControls() });
}

// --- the connection -----------------------------------------------------------------------
function send(message) { if (socket && socket.readyState === 1) socket.send(JSON.stringify(message)); }

function connect() {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${proto}://${location.host}/ws`);
  socket.onopen = () => send({ type: "open", session: sessionStorage.getItem("playground-session"),
    address: location.hash.slice(1) });
  socket.onmessage = (event) => receive(JSON.parse(event.data));
  socket.onclose = () => { $("error").textContent = "disconnected from the playground server; reload the page once it runs again"; };
}

function receive(m) {
  if (m.type === "session") openSession(m);
  else if (m.type === "frame") { if (m.weights) unpackWeights(m); pg.frame = m; pg.frames += 1; scheduleDraw(); }
  if (m.divergence) showDivergence(m.divergence);
  else if (m.type === "problems") showProblems(m.problems);
  else if (m.type === "spec") saveSpec(m);
  else if (m.type === "stopped") { setPlaying(false); $("error").textContent = m.error; }
}

function openSession(m) {
  pg.opened += 1;
  pg.session = m;
  pg.settings = m.settings;
  pg.history = [];
  pg.frame = null;
  $("divergence").hidden = true;
  sessionStorage.setItem("playground-session", m.id);
  clearProblems();
  $("notes").textContent = (m.notes || []).join("; ");
  const refused = $("address-refused");  // a link's keys that did not open, and why
  refused.hidden = !(m.refused && m.refused.length);
  refused.textContent = refused.hidden ? "" : "Your link opened without these settings (the rest of it is used):\n" +
    m.refused.map((r) => `  ${r.text}`).join("\n");
  const images = m.task === "images";
  if (!images) showSettings(m.settings);
  else {
    $("optimizer").value = m.settings.opt;
    $("learning-rate").value = String(m.settings.lr);
    $("speed").value = String(pg.speed);
  }
  writeAddress(m.settings);
  setPlaying(false);
  if (pg.speed) send({ type: "speed", value: pg.speed });
  $("loss-name").textContent = m.loss;
  // regression on the plane: the loss alone, as TensorFlow Playground shows it
  $("metric").hidden = m.task === "regression" && m.view === "plane";
  $("param-count").textContent = `parameters: ${m.total_params.toLocaleString("en-US")}`;
  $("param-explain").textContent = m.explain;
  const collapse = $("collapse-notice");
  collapse.hidden = m.warnings.length === 0;
  collapse.textContent = m.warnings.length
    ? `These layers collapse to one linear map: ${m.warnings.join(" ")}` : "";
  $("point-count").textContent = String(m.train.length + m.test.length);
  document.body.classList.toggle("images", images);
  $("mnist-view").hidden = !images;
  if (images) document.querySelector("section.images").before(document.querySelector("section.output"));
  else buildNetwork(m);
  send({ type: "ready" });
}

function half(bits) {  // an IEEE float16 as a number (a big network's weights)
  const sign = bits & 0x8000 ? -1 : 1, exp = (bits >> 10) & 0x1f, frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const ARRAYS = { float32: Float32Array, float64: Float64Array, float16: Uint16Array };
const HALVES = Float64Array.from({ length: 65536 }, (_, bits) => half(bits));  // one lookup each
function numbers(b64, dtype) {
  const raw = new ARRAYS[dtype](decode(b64).buffer);
  return dtype === "float16" ? Array.from(raw, (bits) => HALVES[bits]) : Array.from(raw);
}

function unpackWeights(f) {  // raw little-endian bytes -> rows of exact numbers
  f.weights = f.weights.map(({ dtype, shape, W, b }) => {
    const flat = numbers(W, dtype), [rows, cols] = shape;
    return { W: Array.from({ length: rows }, (_, j) => flat.slice(j * cols, (j + 1) * cols)),
      b: b === null ? null : numbers(b, dtype) };
  });
}

function showDivergence(d) {  // why the loss ran away, and a rate seen to train
  setPlaying(false);
  const box = $("divergence");
  box.hidden = false;
  box.querySelector("span").textContent = d.text;
  const use = $("use-suggested-lr");
  use.hidden = d.suggested === null;
  use.textContent = `use learning rate ${d.suggested}`;
  use.onclick = () => { const s = readControls(); s.lr = d.suggested; send({ type: "settings", settings: s }); };
}

function showProblems(problems) {
  clearProblems();
  $("error").textContent = problems.map((p) => p.text).join("\n");
  for (const p of problems) {
    const control = p.control && $(p.control);
    if (!control) continue;
    control.classList.add("bad");
    const note = document.createElement("div");
    note.className = "control-error";
    note.textContent = p.text;
    control.insertAdjacentElement("afterend", note);
  }
}

function clearProblems() {
  $("error").textContent = "";
  document.querySelectorAll(".control-error").forEach((el) => el.remove());
  document.querySelectorAll(".bad").forEach((el) => el.classList.remove("bad"));
}

function saveSpec(m) {
  pg.specYaml = m.yaml;
  download("playground.yaml", m.yaml, "application/yaml");
  if (m.csv) download("playground.csv", m.csv, "text/csv");  // the spec's data: path
}

function download(name, text, type) {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([text], { type }));
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
}

// --- points by hand: click adds (shift-click: the other class), right-click removes -------
function toData(event) {
  const canvas = $("output"), box = canvas.getBoundingClientRect();
  const u = (event.clientX - box.left) / box.width, v = (event.clientY - box.top) / box.height;
  const r = (x) => Math.round(x * 1e5) / 1e5;
  if (pg.session.view === "curve") {
    const { x0, x1, lo, hi, plotHeight } = pg.view;
    return [r(x0 + u * (x1 - x0)), r(hi - ((v * canvas.height) / plotHeight) * (hi - lo))];
  }
  const [x0, y0, x1, y1] = pg.session.domain;
  return [r(x0 + u * (x1 - x0)), r(y1 - v * (y1 - y0))];
}

function currentPoints() {
  return pg.settings.points ? structuredClone(pg.settings.points)
    : pg.session.train.concat(pg.session.test).map((p) => p.slice());
}

function addPoint(event) {
  if (!pg.session || pg.hidden.has("points")) return;
  const point = toData(event);
  if (pg.session.view === "plane") {  // a class (0 orange, 1 blue) or a target (-1, +1)
    const regression = pg.session.task === "regression";
    point.push(event.shiftKey ? (regression ? -1 : 0) : 1);
  }
  const s = readControls();
  s.points = currentPoints().concat([point]);
  send({ type: "settings", settings: s });
}

function removePoint(event) {
  event.preventDefault();
  if (!pg.session || pg.hidden.has("points")) return;
  const [x, y] = toData(event), points = currentPoints();
  const scale = pg.session.view === "curve"
    ? [pg.view.x1 - pg.view.x0, pg.view.hi - pg.view.lo]
    : [pg.session.domain[2] - pg.session.domain[0], pg.session.domain[3] - pg.session.domain[1]];
  let best = -1, bestDistance = 0.03;  // within 3% of the plot
  points.forEach((p, i) => {
    const d = Math.hypot((p[0] - x) / scale[0], (p[1] - y) / scale[1]);
    if (d < bestDistance) { best = i; bestDistance = d; }
  });
  if (best < 0) return;
  points.splice(best, 1);
  const s = readControls();
  s.points = points;
  send({ type: "settings", settings: s });
}

function setPlaying(on) {
  pg.playing = on;
  const button = $("play");
  button.dataset.playing = String(on);
  // drawn shapes, not characters: a font without the glyph shows a box
  button.innerHTML = on ? `<svg class="icon" viewBox="0 0 10 10"><rect x="1" y="1" width="3" height="8"/><rect x="6" y="1" width="3" height="8"/></svg> pause`
    : `<svg class="icon" viewBox="0 0 10 10"><path d="M2 1 L9 5 L2 9 Z"/></svg> play`;
}

// --- drawing ------------------------------------------------------------------------------
function scheduleDraw() {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => {
    drawPending = false;
    draw(pg.frame);
    pg.shown = pg.frame;  // the frame on screen now
    pg.drawn += 1;
    send({ type: "ready" });  // only now the server makes the next frame: a slow page drops frames
  });
}

function fmt(v) { return v === null || v === undefined ? "-" : v.toFixed(4); }

function draw(f) {
  if (!f || !pg.session) return;
  $("epoch").textContent = String(f.epoch);
  $("step-count").textContent = String(f.step);
  $("train-loss").textContent = fmt(f.train.loss);
  $("test-loss").textContent = fmt(f.test.loss);
  const acc = (split) => (split.accuracy ?? split.r2);
  $("train-accuracy").textContent = fmt(acc(f.train));
  $("test-accuracy").textContent = fmt(acc(f.test));
  $("metric-name").textContent = pg.session.task === "regression" ? "R²" : "accuracy";
  const last = pg.history[pg.history.length - 1];
  if (!last || last.step !== f.step) {
    pg.history.push({ step: f.step, train: f.train.loss, test: f.test.loss,
      trainAcc: f.train.accuracy, testAcc: f.test.accuracy });
  }
  if (pg.history.length > 2000) pg.history = pg.history.filter((_, i) => i % 2 === 0);
  if (pg.session.task === "images") { drawImages(f); drawLosses(); return; }
  if (pg.session.view === "curve") drawRegression(f); else drawPlane(f);
  updateNetwork(f);
  drawLosses();
}

function mix(t) {  // 0 -> orange (class 0), 0.5 -> white, 1 -> blue (class 1)
  const [a, b, u] = t < 0.5 ? [C0, WHITE, t * 2] : [WHITE, C1, t * 2 - 1];
  return a.map((v, i) => Math.round(v + (b[i] - v) * u));
}

function decode(b64) {
  const raw = atob(b64), out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

// 256 colours, one per byte value, as little-endian RGBA words: one store per pixel
const LUT = new Uint32Array(256), LUT_DISCRETE = new Uint32Array(256);
for (let v = 0; v < 256; v++) {
  const word = ([r, g, b]) => ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;
  LUT[v] = word(mix(v / 255));
  LUT_DISCRETE[v] = word(mix(v > 127 ? 1 : 0));
}

function paintImage(canvas, bytes, size, discrete) {
  if (canvas.width !== size) { canvas.width = size; canvas.height = size; }
  const ctx = canvas.getContext("2d"), img = ctx.createImageData(size, size);
  const pixels = new Uint32Array(img.data.buffer), lut = discrete ? LUT_DISCRETE : LUT;
  for (let i = 0; i < size * size; i++) pixels[i] = lut[bytes[i]];
  ctx.putImageData(img, 0, 0);
}

const offscreen = document.createElement("canvas");
function drawPlane(f) {
  const canvas = $("output"), ctx = canvas.getContext("2d"), s = pg.session;
  paintImage(offscreen, decode(f.output), s.grid, $("discretize").checked);
  ctx.imageSmoothingEnabled = true;
  ctx.globalAlpha = 0.85;
  ctx.drawImage(offscreen, 0, 0, canvas.width, canvas.height);
  ctx.globalAlpha = 1;
  const [x0, y0, x1, y1] = s.domain;
  const px = (x) => ((x - x0) / (x1 - x0)) * canvas.width;
  const py = (y) => ((y1 - y) / (y1 - y0)) * canvas.height;
  const dot = (p, test) => {
    ctx.beginPath();
    ctx.arc(px(p[0]), py(p[1]), 3, 0, 2 * Math.PI);
    // a class, or a target from -1 to 1 on the heatmap's scale (orange -1, blue +1)
    const t = s.task === "regression" ? (Math.max(-1, Math.min(1, p[2])) + 1) / 2 : p[2];
    ctx.fillStyle = `rgb(${mix(t).join(",")})`;
    ctx.fill();
    ctx.strokeStyle = test ? "#000" : "#fff";
    ctx.lineWidth = test ? 1.2 : 1;
    ctx.stroke();
  };
  s.train.forEach((p) => dot(p, false));
  if ($("show-test").checked) s.test.forEach((p) => dot(p, true));
  $("kinks").hidden = true;  // Figure 6's count belongs to a function set (one opened before)
}

function drawRegression(f) {
  const canvas = $("output"), ctx = canvas.getContext("2d"), s = pg.session;
  const W = canvas.width, H = canvas.height;
  ctx.clearRect(0, 0, W, H);
  const ys = s.target.concat(s.train.map((p) => p[1]));
  let lo = Math.min(...ys), hi = Math.max(...ys);
  const pad = 0.15 * (hi - lo || 1); lo -= pad; hi += pad;
  const x0 = s.xs[0], x1 = s.xs[s.xs.length - 1];
  pg.view = { x0, x1, lo, hi, plotHeight: H - 20 };
  const px = (x) => ((x - x0) / (x1 - x0)) * W, py = (y) => ((hi - y) / (hi - lo)) * (H - 20);
  const line = (values, style, dash) => {
    ctx.beginPath(); ctx.setLineDash(dash); ctx.strokeStyle = style; ctx.lineWidth = 2;
    values.forEach((y, i) => (i ? ctx.lineTo : ctx.moveTo).call(ctx, px(s.xs[i]), py(y ?? 0)));
    ctx.stroke(); ctx.setLineDash([]);
  };
  s.train.forEach((p) => { ctx.fillStyle = "rgba(8,119,189,0.5)"; ctx.fillRect(px(p[0]) - 1.5, py(p[1]) - 1.5, 3, 3); });
  if ($("show-test").checked) s.test.forEach((p) => { ctx.strokeStyle = "rgba(0,0,0,0.35)"; ctx.strokeRect(px(p[0]) - 1.5, py(p[1]) - 1.5, 3, 3); });
  line(s.target, "#999", [5, 4]);
  line(f.curve, "#d33", []);
  ctx.fillStyle = "#333"; ctx.font = "10px sans-serif";
  ctx.fillText("target (dashed), fit (red)", 6, 12);
  const kinks = $("kinks");
  if (f.kink_units) {
    ctx.fillStyle = "#b00020";
    for (const k of f.kinks) {
      const x = px(k.x);
      ctx.beginPath(); ctx.moveTo(x, H - 2); ctx.lineTo(x - 5, H - 12); ctx.lineTo(x + 5, H - 12); ctx.fill();
      ctx.strokeStyle = "rgba(176,0,32,0.25)"; ctx.beginPath(); ctx.moveTo(x, 0); ctx.lineTo(x, H - 12); ctx.stroke();
    }
    const u = f.kink_units;
    kinks.hidden = false;
    kinks.dataset.count = String(f.kinks.length);
    kinks.textContent = `${f.kinks.length} kinks (▲) = ${f.kinks.length} live ReLU units of the first layer that switch inside the data ` +
      `(${u.total} units: ${u.dead} dead, ${u.always_on} never off)`;
  } else { kinks.hidden = true; kinks.textContent = ""; }
}

function drawLosses() {
  const canvas = $("loss-chart"), ctx = canvas.getContext("2d"), h = pg.history;
  const W = canvas.width, H = canvas.height;
  ctx.clearRect(0, 0, W, H);
  if (h.length < 2) return;
  const top = Math.max(...h.map((r) => Math.max(r.train ?? 0, r.test ?? 0))) || 1;
  const s0 = h[0].step, s1 = h[h.length - 1].step || 1;
  const curve = (key, style, scale, dash) => {
    ctx.beginPath(); ctx.strokeStyle = style; ctx.lineWidth = 1.5; ctx.setLineDash(dash);
    h.forEach((r, i) => (i ? ctx.lineTo : ctx.moveTo).call(ctx,
      ((r.step - s0) / (s1 - s0 || 1)) * W, H - ((r[key] ?? 0) / scale) * (H - 14) - 2));
    ctx.stroke(); ctx.setLineDash([]);
  };
  curve("test", "#999", top, []); curve("train", "#222", top, []);
  const accuracy = h[0].trainAcc !== undefined && h[0].trainAcc !== null;
  if (accuracy) { curve("testAcc", "#8ab", 1, [3, 3]); curve("trainAcc", "#0877bd", 1, [3, 3]); }
  ctx.fillStyle = "#555"; ctx.font = "10px sans-serif";
  ctx.fillText(`loss: train (black), test (grey), max ${top.toPrecision(3)}` +
    (accuracy ? "; accuracy 0-1 (dashed blue)" : ""), 4, 10);
}

// --- controls -----------------------------------------------------------------------------
function chooseDataset(name) {  // a thumbnail or the problem menu: another generated set
  const s = readControls();
  if (problemOf(name) !== problemOf(s.dataset)) s.n = POINTS[problemOf(name)];
  s.dataset = name;
  s.points = null;
  send({ type: "settings", settings: s });
}

async function drawThumbnails() {  // each data set's look, from the server's own generators
  const looks = await (await fetch("/thumbnails.json")).json(), box = $("dataset-thumbnails");
  for (const [name, points] of Object.entries(looks)) {
    const canvas = document.createElement("canvas"), ctx = canvas.getContext("2d");
    canvas.width = canvas.height = 40;
    canvas.className = "thumb";
    canvas.dataset.name = name;
    canvas.dataset.testid = `thumb-${name.replace(":", "-")}`;
    canvas.setAttribute("data-testid", canvas.dataset.testid);
    canvas.title = name;
    for (const [u, v, t] of points) {
      ctx.fillStyle = `rgb(${(t === null ? C1 : mix(t)).join(",")})`;
      ctx.fillRect(u * 37, (1 - v) * 37, 3, 3);
    }
    canvas.onclick = () => chooseDataset(name);
    box.append(canvas);
  }
  if (pg.settings && pg.session.task !== "images") showSettings(pg.settings);
}

function wire() {
  const option = (d) => `<option value="${d}">${d}</option>`;
  $("dataset").innerHTML = Object.entries(PROBLEMS).map(([problem, names]) =>
    `<optgroup label="${problem}">${names.map(option).join("")}</optgroup>`).join("") +
    `<option value="${OWN_POINTS}" hidden disabled>your points</option>`;
  $("problem").onchange = () => chooseDataset(PROBLEMS[$("problem").value][0]);
  drawThumbnails();
  $("features").insertAdjacentHTML("beforeend", Object.entries(FEATURES).map(([name, label]) =>
    `<label><input type="checkbox" data-testid="${featureId(name)}" value="${name}"> ${label}</label>`).join(""));
  $("features").querySelectorAll("input").forEach((box) => box.addEventListener("change", applyControls));
  for (const id of Object.values(FIELDS)) $(id).addEventListener("change", applyControls);
  $("play").onclick = () => { setPlaying(!pg.playing); send({ type: pg.playing ? "play" : "pause" }); };
  $("step").onclick = () => { setPlaying(false); send({ type: "step" }); };
  $("reset").onclick = () => send({ type: "reset" });
  $("regenerate").onclick = () => { $("seed").value = String((Number($("seed").value) || 0) + 1); applyControls(); };
  $("add-layer").onclick = () => {
    const s = readControls();
    s.layers.push(4); s.act.push(s.act[s.act.length - 1] || "tanh"); s.dropout.push(0);
    send({ type: "settings", settings: s });
  };
  $("remove-layer").onclick = () => {
    const s = readControls();
    s.layers.pop(); s.act.pop(); s.dropout.pop();
    send({ type: "settings", settings: s });
  };
  $("speed").onchange = () => { pg.speed = Number($("speed").value); send({ type: "speed", value: pg.speed }); writeAddress(pg.settings); };
  $("download-spec").onclick = () => send({ type: "spec" });
  $("upload-csv").onchange = async () => {
    const file = $("upload-csv").files[0];
    $("upload-csv").value = "";
    if (!file) return;
    if (file.size > 60000) { showProblems([{ text: `${file.name}: at most 60,000 bytes of CSV`, control: "upload-csv" }]); return; }
    send({ type: "upload", name: file.name, text: await file.text() });
  };
  $("output").addEventListener("click", addPoint);
  $("output").addEventListener("contextmenu", removePoint);
  $("discretize").onchange = () => draw(pg.frame);
  $("show-test").onchange = () => draw(pg.frame);
  window.addEventListener("hashchange", () => {  // an address edited by hand: open it
    const address = location.hash.slice(1);
    if (pg.session && address !== writtenAddress) {
      readPageOptions();
      send({ type: "open", session: pg.session.id, address });
    }
  });
}

wire();
readPageOptions();
connect();
