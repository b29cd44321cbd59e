// The playground page: the network drawing: units with their pictures, edges by weight,
// the hover card with each unit's formula, dead units.
"use strict";

const SVG_EDGES = 1500;  // more edges than this are drawn on one canvas (no hover per edge)
// ... and redrawn at most every EDGE_MS, when their looks changed: rasterizing 20,000 curves
// costs a software-rendered page more than everything else in a frame
const EDGE_MS = 1000;

// --- the network drawing ------------------------------------------------------------------
function unitName(layer, j, s) {
  if (layer === 0) return s.inputs[j];
  if (layer === s.layers.length + 1) return `out${j}`;
  return `h${layer}_${j + 1}`;
}

function buildNetwork(s) {
  const net = $("network"), svg = net.querySelector("svg");
  net.querySelectorAll(".unit, canvas.edges").forEach((el) => el.remove());
  svg.replaceChildren();
  const sizes = [s.inputs.length, ...s.layers.map((l) => l.units), s.outputs];
  const width = net.clientWidth || 600, colGap = (width - 80) / Math.max(1, sizes.length - 1);
  // the column's last tile (34 px) ends inside the drawing's 420 px, where the tile canvas ends
  const rowGap = Math.min(46, 400 / Math.max(...sizes), 366 / Math.max(1, Math.max(...sizes) - 1));
  net.classList.toggle("tight", rowGap < 46);  // no room for names below tiles: hover shows them
  document.querySelectorAll(".layer").forEach((el, i) => { el.style.left = `${30 + (i + 1) * colGap - 42}px`; });
  pg.nodes = sizes.map((n, layer) => Array.from({ length: n }, (_, j) => {
    const x = 30 + layer * colGap, y = 10 + j * rowGap;
    const el = document.createElement("div");
    el.className = "unit";
    el.style.left = `${x - 17}px`; el.style.top = `${y}px`;
    el.dataset.testid = `unit-${layer}-${j}`;
    el.setAttribute("data-testid", `unit-${layer}-${j}`);
    el.innerHTML = `<canvas></canvas><span class="name">${unitName(layer, j, s)}</span>`;
    el.onmouseenter = () => showHover(formula(layer, j), x + 24, y);
    net.append(el);
    if (layer === 0 && s.view === "plane") {
      paintImage(el.querySelector("canvas"), decode(s.input_images[j].image), s.unit_grid, false);
    }
    if (layer === 0 && s.view === "curve") drawUnitCurve(el.querySelector("canvas"), s.xs);
    return { x, y: y + 17, el };
  }));
  pg.edges = [];
  pg.edgeCanvas = null;
  const edges = sizes.slice(1).reduce((sum, n, i) => sum + n * sizes[i], 0);
  if (edges > SVG_EDGES) {  // one canvas: thousands of SVG paths cost the page its fluidity
    const layer = (testid) => {
      const canvas = document.createElement("canvas");
      canvas.className = "edges";
      canvas.dataset.testid = testid;
      canvas.width = width; canvas.height = net.clientHeight || 420;
      return canvas;
    };
    pg.edgeCanvas = layer("edge-canvas");
    pg.tileCanvas = layer("tile-canvas");
    pg.edgeLooks = null;
    pg.edgesDrawnAt = -Infinity;
    net.prepend(pg.edgeCanvas, pg.tileCanvas);
    if (s.view === "plane") {  // their pictures go on the tile canvas (curves stay)
      pg.nodes.slice(1, -1).flat().forEach((node) => node.el.classList.add("on-canvas"));
    }
    return;
  }
  for (let layer = 1; layer < sizes.length; layer++) {
    const rows = [];
    for (let j = 0; j < sizes[layer]; j++) {
      const row = [];
      for (let i = 0; i < sizes[layer - 1]; i++) {
        const a = pg.nodes[layer - 1][i], b = pg.nodes[layer][j];
        const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
        const mid = (a.x + b.x) / 2;
        path.setAttribute("d", `M${a.x + 17},${a.y} C${mid},${a.y} ${mid},${b.y} ${b.x - 17},${b.y}`);
        path.setAttribute("class", "edge");
        path.setAttribute("stroke-opacity", "0.7");
        path.onmouseenter = () => {
          const w = pg.frame ? pg.frame.weights[layer - 1].W[j][i] : NaN;
          showHover(`weight ${unitName(layer - 1, i, s)} → ${unitName(layer, j, s)} = ${w.toPrecision(4)}`, mid, (a.y + b.y) / 2);
        };
        svg.append(path);
        row.push(path);
      }
      rows.push(row);
    }
    pg.edges.push(rows);
  }
}

function showHover(text, x, y) {  // the card beside what the pointer is on
  const card = $("hover-info"), net = $("network");
  card.textContent = text;
  card.classList.add("floating");
  card.style.left = `${Math.max(0, Math.min(x, net.clientWidth - card.offsetWidth))}px`;
  card.style.top = `${y + 40}px`;
  card.style.bottom = "auto";
}

function formula(layer, j) {
  const s = pg.session, f = pg.frame;
  if (layer === 0 || !f) return `${unitName(layer, j, s)}: an input`;
  const { W, b } = f.weights[layer - 1];
  const terms = W[j].map((w, i) => `${w < 0 ? "- " : "+ "}${Math.abs(w).toFixed(2)} ${unitName(layer - 1, i, s)}`);
  const bias = b ? ` ${b[j] < 0 ? "-" : "+"} ${Math.abs(b[j]).toFixed(2)}` : "";
  const inner = `${terms.join(" ").replace(/^\+ /, "")}${bias}`;
  const act = layer <= s.layers.length ? s.layers[layer - 1].activation : null;
  return `${unitName(layer, j, s)} = ${act ? `${act}(${inner})` : inner}   (bias ${b ? b[j].toFixed(3) : "none"})`;
}

function drawEdgeCanvas(f) {  // every edge, one stroke per colour and width
  const now = performance.now();
  if (now - pg.edgesDrawnAt < EDGE_MS) return;  // before looking at 20,000 weights
  const looks = Float32Array.from(f.weights.flatMap((layer) => layer.W.flat()), edgeLook);
  if (pg.edgeLooks && looks.every((v, k) => v === pg.edgeLooks[k])) return;
  pg.edgeLooks = looks;
  pg.edgesDrawnAt = now;
  const canvas = pg.edgeCanvas, ctx = canvas.getContext("2d"), paths = new Map();
  f.weights.forEach((layer, l) => layer.W.forEach((row, j) => row.forEach((w, i) => {
    const look = edgeLook(w), a = pg.nodes[l][i], b = pg.nodes[l + 1][j], mid = (a.x + b.x) / 2;
    if (!paths.has(look)) paths.set(look, new Path2D());
    const path = paths.get(look);
    path.moveTo(a.x + 17, a.y);
    path.bezierCurveTo(mid, a.y, mid, b.y, b.x - 17, b.y);
  })));
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.globalAlpha = 0.7;
  for (const [look, path] of paths) {
    ctx.strokeStyle = look >= 0 ? "#0877bd" : "#f59322";
    ctx.lineWidth = Math.abs(look);
    ctx.stroke(path);
  }
}

// an edge's width in steps of 0.25 px, negative for a negative weight
function edgeLook(w) {
  const width = Math.round(Math.min(6, 0.4 + Math.abs(w) * 1.5) * 4) / 4;
  return w >= 0 ? width : -width;
}

function updateNetwork(f) {
  const s = pg.session;
  if (pg.edgeCanvas) drawEdgeCanvas(f);
  else f.weights.forEach((layer, l) => layer.W.forEach((row, j) => row.forEach((w, i) => {
    const path = pg.edges[l][j][i], look = edgeLook(w);
    if (path.look === look) return;  // most edges look the same as a frame ago
    path.look = look;
    path.setAttribute("stroke", w >= 0 ? "#0877bd" : "#f59322");
    path.setAttribute("stroke-width", String(Math.abs(look)));
  })));
  let dead = 0;
  const shared = pg.edgeCanvas && s.view === "plane" ? pg.tileCanvas.getContext("2d") : null;
  const atlas = shared && paintAtlas(f.units.flat(), s.unit_grid);
  if (shared) { shared.clearRect(0, 0, pg.tileCanvas.width, pg.tileCanvas.height); shared.imageSmoothingEnabled = true; }
  let k = 0;  // the unit's place in the atlas
  f.units.forEach((units, l) => units.forEach((u, j) => {
    const node = pg.nodes[l + 1][j];
    const isDead = f.dead[l][j];
    dead += isDead ? 1 : 0;
    if (node.el.dataset.dead !== String(isDead)) {  // unchanged: no style work for the page
      node.el.classList.toggle("dead", isDead);
      node.el.dataset.dead = String(isDead);
    }
    if (shared) {  // a big network: every tile on the one canvas, under the units' borders
      const side = s.unit_grid;
      shared.drawImage(atlas, side * k++, 0, side, side, node.x - 17, node.y - 17, 34, 34);
      return;
    }
    const canvas = node.el.querySelector("canvas");
    if (s.view === "plane") paintImage(canvas, decode(u.image), s.unit_grid, false);
    else drawUnitCurve(canvas, u);
  }));
  const out = pg.nodes[pg.nodes.length - 1];
  if (s.view === "plane") {  // two classes: out0 shows p(class 0); regression: its one value
    const p1 = decode(f.output), p0 = p1.map((v) => 255 - v);
    out.forEach((node, j) => paintImage(node.el.querySelector("canvas"), j || s.outputs === 1 ? p1 : p0, s.grid, false));
  }
  else out.forEach((node) => drawUnitCurve(node.el.querySelector("canvas"), f.curve));
  const notice = $("dead-count");
  notice.hidden = dead === 0;
  notice.dataset.count = String(dead);
  notice.textContent = dead ? `${dead} dead ReLU unit${dead > 1 ? "s" : ""}: zero on every training point, so no gradient reaches ${dead > 1 ? "them" : "it"}` : "";
}

// every unit's picture side by side on one canvas, uploaded once (not once per unit)
function paintAtlas(units, side) {
  const canvas = pg.atlas || (pg.atlas = document.createElement("canvas")), width = side * units.length;
  if (canvas.width !== width || canvas.height !== side) { canvas.width = width; canvas.height = side; }
  const ctx = canvas.getContext("2d"), img = ctx.createImageData(width, side);
  const pixels = new Uint32Array(img.data.buffer);
  units.forEach((u, k) => {
    const bytes = decode(u.image);
    for (let i = 0; i < side * side; i++) pixels[Math.floor(i / side) * width + k * side + (i % side)] = LUT[bytes[i]];
  });
  ctx.putImageData(img, 0, 0);
  return canvas;
}

function drawUnitCurve(canvas, values) {
  canvas.width = 34; canvas.height = 34;
  const ctx = canvas.getContext("2d");
  const v = values.map((y) => y ?? 0), lo = Math.min(...v), hi = Math.max(...v);
  ctx.beginPath(); ctx.strokeStyle = "#0877bd"; ctx.lineWidth = 1.5;
  v.forEach((y, i) => (i ? ctx.lineTo : ctx.moveTo).call(ctx, (i / (v.length - 1)) * 34, 31 - ((y - lo) / (hi - lo || 1)) * 28));
  ctx.stroke();
}
