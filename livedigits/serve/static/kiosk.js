// The kiosk page: the annotated video from /stream.mjpg, the numbers from the /events feed. With
// several sources, a tile per source (its own /stream/NAME.mjpg, name and numbers now) and the panel
// for them all. No framework and nothing from a CDN: kiosks are often offline.
"use strict";

const $ = (id) => document.getElementById(id);

// Shrinks the type of `el` from its stylesheet size until its content fits its box (no number wider
// than the panel, the numbers no taller than the space they have), down to a third of it. The glyphs
// of the last line may stick out of a tight line-height by a pixel or two: that is no overflow.
function fit(el) {
  el.style.fontSize = "";
  const base = parseFloat(getComputedStyle(el).fontSize);
  let size = base;
  const overflows = () => el.scrollWidth > el.clientWidth || el.scrollHeight > el.clientHeight + size * 0.1;
  while (size > base / 3 && overflows()) {
    size *= 0.9;
    el.style.fontSize = `${size}px`;
  }
}

function numberElement(tag, text) {
  const el = document.createElement(tag);
  el.className = "num";
  el.textContent = text;
  return el;
}

function showCurrent(texts) {
  const el = $("current");
  const key = texts.join(" ");
  if (el.dataset.items === key) return;
  el.dataset.items = key;
  if (!texts.length) { el.replaceChildren("\u2013"); fit(el); return; }
  // One element per number, so each is laid out whole; the spaces keep textContent readable.
  const parts = [];
  texts.forEach((t, i) => { if (i) parts.push(" "); parts.push(numberElement("span", t)); });
  el.replaceChildren(...parts);
  fit(el);
}

// The sums in view (the records' "expressions", absent when arithmetic is off), by source: each with its
// mark (a check, a cross, a ? when unsure, nothing when open) and a score over those with an answer.
const sumsBySource = {};
const MARKS = { right: "\u2713", wrong: "\u2717", unsure: "?", open: "" };

function showSums(source, expressions) {
  if (expressions === undefined) return;
  sumsBySource[source] = expressions;
  const all = Object.values(sumsBySource).flat();
  const key = all.map((e) => `${e.text} ${e.verdict}`).join("|");
  const list = $("sum-list");
  if (list.dataset.items === key) return;
  list.dataset.items = key;
  $("sums").hidden = all.length === 0;
  list.replaceChildren(...all.map((e) => {
    const li = document.createElement("li");
    li.className = e.verdict;
    const mark = document.createElement("span");
    mark.className = "mark";
    mark.textContent = MARKS[e.verdict] || "";
    li.append(e.text, mark);
    return li;
  }));
  const checked = all.filter((e) => e.verdict !== "open");
  const right = checked.filter((e) => e.verdict === "right").length;
  $("score").textContent = checked.length ? `${right} of ${checked.length} right` : "";
}

// Several sources: label (the records' "source") -> {img, now, banner, texts}.
let tiles = null;

function reloadOnError(img, url) {
  // A broken stream (server restart, network blip) is reopened; the query defeats caches.
  img.onerror = () => setTimeout(() => { img.src = `${url}?t=${Date.now()}`; }, 2000);
  img.src = url;
}

function startTiles(sources) {
  tiles = {};
  $("video").hidden = true;
  const grid = document.createElement("div");
  grid.id = "tiles";
  for (const s of sources) {
    const tile = document.createElement("figure");
    tile.className = "tile";
    const img = document.createElement("img");
    img.alt = `the view of ${s.source} with the digits read on it`;
    const caption = document.createElement("figcaption");
    const name = document.createElement("span");
    name.className = "tile-name";
    name.textContent = s.source;
    const now = document.createElement("span");
    now.className = "tile-now";
    caption.append(name, now);
    const banner = document.createElement("div");
    banner.className = "tile-banner";
    banner.hidden = true;
    tile.append(img, caption, banner);
    grid.append(tile);
    tiles[s.label] = { img, now, banner, texts: [] };
    reloadOnError(img, s.stream);
  }
  $("view").append(grid);
}

function showTileNumbers(label, texts) {
  const tile = tiles[label];
  if (!tile) return;
  tile.texts = texts;
  const key = texts.join(" ");
  if (tile.now.dataset.items !== key) {
    tile.now.dataset.items = key;
    tile.now.replaceChildren(...texts.map((t) => numberElement("span", t)));
  }
  // The panel's "now": every source's numbers, in the order of the tiles.
  showCurrent(Object.values(tiles).flatMap((t) => t.texts));
}

function showTiles(s) {
  for (const source of s.sources) {
    const tile = tiles[source.label];
    if (!tile) continue;
    const down = source.state !== "live";
    tile.banner.hidden = !down;
    if (down) {
      tile.banner.textContent = source.state === "starting" ? "Connecting\u2026" : "Unavailable, retrying";
      showTileNumbers(source.label, []);
    }
  }
}

function showStatus(s) {
  if (tiles) {
    showTiles(s);
    s = { ...s, state: s.sources.some((x) => x.state === "live") ? "live" : s.state,
          numbers_so_far: s.sources.flatMap((x) => x.numbers_so_far || []).sort((a, b) => b.last_seen - a.last_seen)
            .filter((n, i, all) => all.findIndex((m) => m.text === n.text) === i),
          fps: s.sources.reduce((sum, x) => sum + x.fps, 0) };
  }
  const state = $("state");
  state.textContent = s.state;
  state.className = s.state;
  $("fps").textContent = `${s.fps.toFixed(1)} fps`;
  const p50 = s.latency_ms && s.latency_ms.p50;
  $("latency").textContent = p50 == null ? "\u2013 ms" : `${p50.toFixed(1)} ms`;
  const down = s.state !== "live";
  $("banner").hidden = !down || tiles !== null;
  if (down) {
    $("banner-title").textContent = s.state === "starting" ? "Connecting to the camera\u2026"
      : s.state === "failed" ? "The live view stopped" : "Camera unavailable, retrying";
    $("banner-detail").textContent = s.detail || s.source || "";
    showCurrent([]);
    for (const source of Object.keys(sumsBySource)) showSums(source, []);
  }
  const list = $("history");
  const items = (s.numbers_so_far || []).map((n) => n.text);
  if (list.dataset.items !== items.join(",")) {
    list.dataset.items = items.join(",");
    list.replaceChildren(...items.map((t) => numberElement("li", t)));
    for (const li of list.children) fit(li);
  }
}

function startVideo() {
  reloadOnError($("video"), "/stream.mjpg");
}

function startFeed() {
  const feed = new EventSource("/events");  // reconnects by itself (retry: 2000 from the server)
  feed.addEventListener("frame", (e) => {
    const record = JSON.parse(e.data);
    const texts = record.numbers.map((n) => n.text);
    if (tiles) showTileNumbers(record.source, texts); else showCurrent(texts);
    showSums(record.source, record.expressions);
  });
  feed.addEventListener("status", (e) => showStatus(JSON.parse(e.data)));
  feed.onerror = () => { $("state").textContent = "reconnecting"; $("state").className = "unavailable"; };
}

// ---------------------------------------------------------------- the image API page (no SOURCE)

async function predict(blob) {
  $("answer").textContent = "\u2026";
  const form = new FormData();
  form.append("file", blob, "image.png");
  const response = await fetch("/api/predict", { method: "POST", body: form });
  const body = await response.json();
  $("answer-json").textContent = JSON.stringify(body, null, 1);
  if (!response.ok) { $("answer").textContent = "error"; return; }
  $("answer").textContent = body.numbers.length ? body.numbers.map((n) => n.text).join(" ") : "\u2013";
}

function startApiPage() {
  $("live").hidden = true;
  $("api").hidden = false;
  const pad = $("pad");
  const ctx = pad.getContext("2d");
  const clear = () => { ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, pad.width, pad.height); };
  clear();
  ctx.lineWidth = 18; ctx.lineCap = "round"; ctx.lineJoin = "round"; ctx.strokeStyle = "#000";
  let drawing = false;
  const at = (e) => { const r = pad.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; };
  pad.addEventListener("pointerdown", (e) => { drawing = true; ctx.beginPath(); ctx.moveTo(...at(e)); });
  pad.addEventListener("pointermove", (e) => { if (drawing) { ctx.lineTo(...at(e)); ctx.stroke(); } });
  window.addEventListener("pointerup", () => { drawing = false; });
  $("clear").onclick = clear;
  $("read-drawing").onclick = () => pad.toBlob((blob) => predict(blob), "image/png");
  $("file").onchange = (e) => { if (e.target.files[0]) predict(e.target.files[0]); };
}

async function main() {
  let status;
  try {
    status = await (await fetch("/api/status")).json();
  } catch (err) {
    setTimeout(main, 2000);  // the server is not up yet: try again
    return;
  }
  if (status.state === "none") { startApiPage(); return; }
  if (status.sources && status.sources.length > 1) startTiles(status.sources); else startVideo();
  showStatus(status);
  startFeed();
  window.addEventListener("resize", () => { fit($("current")); for (const li of $("history").children) fit(li); });
}

main();
