// The playground page: the images view (MNIST, the lecture's Figure 8): first-layer
// weights as tiles, test images with the predictions, and when the test loss turns.
"use strict";

// --- the images view (MNIST, the lecture's Figure 8) ------------------------------------
// weights in the project's one sign convention: app.js's LUT (orange -, white 0, blue +,
// the colours of tinygrad_edu/viz/conventions.py); the test images in grey
const LUT_GREY = new Uint32Array(256);
for (let v = 0; v < 256; v++) LUT_GREY[v] = ((255 << 24) | ((255 - v) * 0x10101)) >>> 0;

function tile(ctx, b64, side, x, y, lut, zoom) {
  const bytes = decode(b64), img = ctx.createImageData(side, side);
  const pixels = new Uint32Array(img.data.buffer);
  for (let i = 0; i < side * side; i++) pixels[i] = lut[bytes[i]];
  if (zoom === 1) { ctx.putImageData(img, x, y); return; }
  offscreen.width = side; offscreen.height = side;
  offscreen.getContext("2d").putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(offscreen, x, y, side * zoom, side * zoom);
}

function drawImages(f) {
  const s = pg.session, side = s.side;
  if (!side) return;
  const weights = $("first-layer-weights"), wctx = weights.getContext("2d");
  const tiles = f.tiles || [], cols = 16, cell = side + 2;
  weights.height = Math.ceil(tiles.length / cols) * cell;
  tiles.forEach((t, i) => tile(wctx, t, side, (i % cols) * cell, Math.floor(i / cols) * cell, LUT, 1));
  const grid = $("test-digits"), ctx = grid.getContext("2d"), perRow = 8, box = 60;
  ctx.clearRect(0, 0, grid.width, grid.height);
  let wrong = 0;
  s.digits.forEach((d, i) => {
    const x = (i % perRow) * box, y = Math.floor(i / perRow) * (box + 16);
    tile(ctx, d, side, x + 2, y + 2, LUT_GREY, 2);
    const predicted = f.predictions[i], ok = predicted === s.labels[i];
    if (!ok) { wrong += 1; ctx.strokeStyle = "#d00"; ctx.lineWidth = 3; ctx.strokeRect(x + 1, y + 1, side * 2 + 2, side * 2 + 2); }
    ctx.fillStyle = ok ? "#333" : "#d00"; ctx.font = "11px sans-serif";
    ctx.fillText(`${s.classes[predicted]}${ok ? "" : ` (${s.classes[s.labels[i]]})`}`, x + 4, y + side * 2 + 14);
  });
  const turned = $("overfitting"), o = f.overfitting;
  turned.hidden = !o;
  turned.textContent = o ? `The test loss has turned: its lowest was ${o.best.toFixed(4)} at step ${o.best_step}, ` +
    `now ${o.now.toFixed(4)}, while the training loss keeps falling. The network is learning its training ` +
    "images rather than digits (overfitting): stopping at the lowest test loss, more data, weight decay or " +
    "dropout would keep it general." : "";
  const counter = $("misclassified-count");
  counter.dataset.count = String(wrong);
  counter.textContent = `${wrong} of ${s.digits.length} misclassified (red: predicted, true class in brackets); ` +
    `losses on the first ${s.live_samples} images of each split`;
}
