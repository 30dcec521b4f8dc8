// The page of `pipeline serve`: send chosen or dropped files to POST /ocr and draw each
// page's word polygons and text over the image. Plain JS, no build step, nothing fetched
// from elsewhere.
"use strict";

const drop = document.getElementById("drop");
const input = document.getElementById("files");
const statusLine = document.getElementById("status");
const results = document.getElementById("results");
const template = document.getElementById("result");

fetch("/health").then((r) => r.json()).then((h) => {
  const models = Object.entries(h.models).map(([k, v]) => `${k}: ${v}`).join("; ");
  document.getElementById("models").textContent = `preset ${h.preset} (${h.mode}) - ${models}`;
}).catch(() => {
  document.getElementById("models").textContent = "service not answering /health";
});

input.addEventListener("change", () => send([...input.files]));
["dragenter", "dragover"].forEach((type) => drop.addEventListener(type, (e) => {
  e.preventDefault();
  drop.classList.add("over");
}));
["dragleave", "drop"].forEach((type) => drop.addEventListener(type, (e) => {
  e.preventDefault();
  drop.classList.remove("over");
}));
drop.addEventListener("drop", (e) => send([...e.dataTransfer.files]));

async function send(files) {
  if (!files.length) return;
  const form = new FormData();
  files.forEach((f) => form.append("file", f, f.name));
  statusLine.textContent = `reading ${files.length} file(s)…`;
  results.replaceChildren();
  const started = performance.now();
  let answer;
  try {
    const response = await fetch("/ocr", { method: "POST", body: form });
    answer = await response.json();
    if (!response.ok) {
      statusLine.textContent = `error ${response.status}: ${answer.detail}`;
      return;
    }
  } catch (err) {
    statusLine.textContent = `request failed: ${err}`;
    return;
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  const failed = answer.images.filter((p) => p.error).length;
  statusLine.textContent = `${answer.images.length} page(s) in ${seconds} s` +
    (failed ? `, ${failed} failed` : "");
  // Entries come in upload order; a file's first entry has page null (one-page file) or 1.
  let index = -1;
  for (const page of answer.images) {
    if (page.page === null || page.page === 1) index += 1;
    results.append(await showPage(page, files[index]));
  }
}

async function showPage(page, file) {
  // Imported, not cloned: a canvas of the template's inert document cannot set its font.
  const node = document.importNode(template.content.firstElementChild, true);
  node.querySelector("h2").textContent =
    page.file + (page.page === null ? "" : ` (page ${page.page})`);
  node.querySelector(".error").textContent = page.error ? `error: ${page.error}` : "";
  node.querySelector(".text").textContent = page.text;
  const canvas = node.querySelector("canvas");
  if (page.error && !page.width) {
    canvas.remove();
    return node;
  }
  canvas.width = page.width;
  canvas.height = page.height;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const picture = await bitmap(file, page);
  if (picture) ctx.drawImage(picture, 0, 0, page.width, page.height);
  drawWords(ctx, page);
  return node;
}

// The picture of a one-page image file; PDFs and later TIFF pages are drawn as white
// pages with their words only (the browser cannot render them without a library).
async function bitmap(file, page) {
  if (!file || (page.page !== null && page.page !== 1) || /\.pdf$/i.test(file.name)) {
    return null;
  }
  try {
    return await createImageBitmap(file);
  } catch (err) {
    return null;
  }
}

function drawWords(ctx, page) {
  const scale = Math.max(1, Math.max(page.width, page.height) / 800);
  ctx.lineWidth = 2 * scale;
  ctx.font = `${Math.round(14 * scale)}px sans-serif`;
  ctx.textBaseline = "bottom";
  for (const line of page.lines) {
    for (const word of line.words) {
      const pts = word.polygon;
      if (!pts.length) continue;
      ctx.beginPath();
      ctx.moveTo(pts[0][0], pts[0][1]);
      for (const [x, y] of pts.slice(1)) ctx.lineTo(x, y);
      ctx.closePath();
      ctx.strokeStyle = "rgba(229, 57, 53, 0.9)";
      ctx.stroke();
      if (!word.text) continue;
      const [x, y] = [word.bbox[0], word.bbox[1]];
      const w = ctx.measureText(word.text).width;
      const h = 16 * scale;
      ctx.fillStyle = "rgba(255, 255, 255, 0.8)";
      ctx.fillRect(x, y - h, w + 4 * scale, h);
      ctx.fillStyle = "#b71c1c";
      ctx.fillText(word.text, x + 2 * scale, y);
    }
  }
}
