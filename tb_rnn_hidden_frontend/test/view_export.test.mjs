// Unit tests of the view export's pure parts (src/views/export/): axis ticks, SVG numbers and
// escaping, colours, and the SVG-recording canvas context's paths, paint, clipping and refusals.
import assert from "node:assert/strict";
import { test } from "node:test";

import { niceTicks, tickLabel } from "../build/views/export/axis_ticks.mjs";
import { RecordingPath2D, SvgContext, UnsupportedDrawing, withRecordingPaths } from "../build/views/export/svg_context.mjs";
import { attrs, escapeAttr, escapeText, num, paintOf } from "../build/views/export/svg_writer.mjs";

test("ticks are round multiples of 1, 2 or 5 times a power of ten, inside the range", () => {
  assert.deepEqual(niceTicks(-7.3, 8.1, 3), [-5, 0, 5]);
  assert.deepEqual(niceTicks(0.05, 0.61, 5), [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
  assert.deepEqual(niceTicks(-2.5, 2.5, 5), [-2, -1, 0, 1, 2]);
  assert.deepEqual(niceTicks(3, 3, 4), []);
  assert.deepEqual(niceTicks(Number.NaN, 1, 4), []);
  for (const [lo, hi, n] of [[-123.4, 987.6, 7], [1e-4, 3e-4, 4], [-1, 1, 2]]) {
    const ticks = niceTicks(lo, hi, n);
    assert.ok(ticks.length >= 2 && ticks.every((v) => v >= lo && v <= hi), `${lo}..${hi}: ${ticks}`);
  }
});

test("tick labels carry the decimals their step needs", () => {
  assert.equal(tickLabel(5, 5), "5");
  assert.equal(tickLabel(0.30000000000000004, 0.1), "0.3");
  assert.equal(tickLabel(-0.25, 0.05), "-0.25");
  assert.equal(tickLabel(200, 100), "200");
});

test("numbers are short and markup is escaped", () => {
  assert.equal(num(12.3456), "12.35");
  assert.equal(num(-0.001), "0");
  assert.equal(num(3), "3");
  assert.equal(num(Number.NaN), "0");
  assert.equal(escapeText("<img src=x onerror=alert(1)> & co"), "&lt;img src=x onerror=alert(1)&gt; &amp; co");
  assert.equal(escapeAttr('say "hi"'), "say &quot;hi&quot;");
  assert.equal(attrs({ x: 1.005, fill: "#fff", skip: undefined, empty: "" }), ' x="1" fill="#fff"');
});

test("colours split into an opaque colour and an opacity", () => {
  assert.deepEqual(paintOf("#1F77B4"), { color: "#1f77b4", opacity: 1 });
  assert.deepEqual(paintOf("rgba(255, 0, 16, 0.5)"), { color: "#ff0010", opacity: 0.5 });
  assert.deepEqual(paintOf("rgb(1 2 3)"), { color: "#010203", opacity: 1 });
  assert.deepEqual(paintOf("transparent"), { color: "none", opacity: 0 });
});

test("paths are recorded in the SVG's px: the base undoes the device ratio the drawing sets", () => {
  const ctx = new SvgContext([0.5, 0, 0, 0.5, 10, 20]);
  ctx.setTransform(2, 0, 0, 2, 0, 0);
  ctx.beginPath();
  ctx.moveTo(1, 2);
  ctx.lineTo(3.5, 4);
  ctx.strokeStyle = "rgba(0, 0, 255, 0.5)";
  ctx.lineWidth = 2;
  ctx.globalAlpha = 0.5;
  ctx.setLineDash([3, 2]);
  ctx.stroke();
  assert.equal(ctx.svg(), '<path d="M11 22L13.5 24" fill="none" stroke="#0000ff" stroke-opacity="0.25" stroke-width="2" stroke-dasharray="3 2"/>');
  assert.equal(ctx.elements, 1);
});

test("rectangles, arcs and a Path2D built while recording", () => {
  const ctx = new SvgContext();
  ctx.fillStyle = "#102030";
  ctx.fillRect(1, 2, 3, 4);
  ctx.beginPath();
  ctx.arc(10, 10, 5, 0, 2 * Math.PI);
  ctx.fill();
  const path = withRecordingPaths(() => {
    const p = new Path2D();
    p.moveTo(0, 0);
    p.lineTo(5, 5);
    return p;
  });
  assert.ok(path instanceof RecordingPath2D);
  ctx.translate(1, 1);
  ctx.stroke(path);
  const svg = ctx.svg();
  assert.match(svg, /<path d="M1 2L4 2L4 6L1 6Z" fill="#102030"\/>/);
  assert.match(svg, /<path d="M15 10A5 5 0 0 1 5 10A5 5 0 0 1 15 10" fill="#102030"\/>/);
  assert.match(svg, /<path d="M1 1L6 6" fill="none" stroke="#000000" stroke-width="1"\/>/);
});

test("a clip opens a group that restore closes", () => {
  const ctx = new SvgContext();
  ctx.save();
  ctx.beginPath();
  ctx.rect(0, 0, 10, 10);
  ctx.clip();
  ctx.fillRect(0, 0, 20, 20);
  ctx.restore();
  ctx.fillRect(0, 0, 1, 1);
  const svg = ctx.svg();
  assert.match(svg, /^<clipPath id="c-clip1"><path d="M0 0L10 0L10 10L0 10Z"\/><\/clipPath><g clip-path="url\(#c-clip1\)"><path [^>]*\/><\/g><path /);
});

test("what it cannot write is refused, for the caller to fall back to pixels", () => {
  const ctx = new SvgContext();
  assert.throws(() => ctx.drawImage(), UnsupportedDrawing);
  assert.throws(() => ctx.putImageData(), UnsupportedDrawing);
  assert.throws(() => { ctx.globalCompositeOperation = "multiply"; }, UnsupportedDrawing);
  assert.throws(() => ctx.stroke({}), UnsupportedDrawing);
});
