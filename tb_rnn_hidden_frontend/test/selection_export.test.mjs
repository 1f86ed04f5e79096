// The selection's files (src/domain/selection_export.ts): every cell against the checkpoint's
// arrays, RFC 4180 read back by a reference parser with hostile tokens, float32 text that reads
// back exactly, and the JSON's source.
import assert from "node:assert/strict";
import { test } from "node:test";

import { decodeCheckpoint } from "../build/domain/data.mjs";
import {
  csvField,
  float32Text,
  pointTable,
  selectedPoints,
  selectionJson,
  sequenceTable,
  toCsv,
  tokenJoiner,
} from "../build/domain/selection_export.mjs";

const HOSTILE = ["a,b", 'say "hi"', '"', "line\nbreak", "cr\rhere", "crlf\r\nhere", "=1+1", "NA", "", " lead", "ünï", "\u{1f9e0}", "<b>x</b>"];

/** A checkpoint of 4 sequences whose tokens are the hostile ones, 3 classes, probabilities from a seed. */
function checkpoint({ tokens = true, labels = true, probabilities = true, names = true } = {}) {
  const lengths = [5, 3, 4, 2];
  const total = 14;
  const C = 3;
  const probs = new Float32Array(total * C);
  for (let p = 0; p < total; p++) {
    const winner = (p * 7) % C;
    for (let k = 0; k < C; k++) probs[p * C + k] = k === winner ? 0.7 - p / 100 : (0.3 + p / 100) / 2;
  }
  const offsets = [0, 5, 8, 12, 14];
  const predictions = [];
  const confidences = [];
  for (let i = 0; i < 4; i++) {
    const row = [...probs.subarray((offsets[i + 1] - 1) * C, offsets[i + 1] * C)];
    const best = row.indexOf(Math.max(...row));
    predictions.push(best);
    confidences.push(row[best]);
  }
  const meta = {
    num_sequences: 4, max_length: 5, state_size: 2, num_classes: probabilities ? C : 0,
    class_names: probabilities && names ? ["pos,itive", 'neg "a"', "=neutral"] : null,
    states_dtype: "float32", has_tokens: tokens, has_labels: labels, has_probabilities: probabilities,
    lengths, labels: labels ? [0, 2, 1, 2] : null,
    predictions: probabilities ? predictions : null, confidences: probabilities ? confidences : null,
    accuracy: null, vocabulary: tokens ? HOSTILE : null,
  };
  return decodeCheckpoint({
    key: JSON.stringify(["run, a", "lstm", 7]), step: 7, meta,
    tokens: tokens ? Int32Array.from({ length: total }, (_, p) => p % HOSTILE.length) : null,
    probabilities: probabilities ? probs : null,
    distances: new Float32Array(total - 4), maxDistance: 1,
  });
}

const coords = Float32Array.from({ length: 28 }, (_, i) => Math.fround(Math.sin(i + 1) * 10 ** ((i % 7) - 3)));
const layout = { kind: "final", coords, params: { method: "tsne", perplexity: 4 }, layout: null };

/** A reference RFC 4180 reader: rows of fields. */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = "";
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue; }
      if (c === '"') { quoted = false; i++; continue; }
      field += c; i++; continue;
    }
    if (c === '"') { assert.equal(field, "", "a quote only opens a field"); quoted = true; i++; continue; }
    if (c === ",") { row.push(field); field = ""; i++; continue; }
    if (c === "\r" && text[i + 1] === "\n") { row.push(field); rows.push(row); row = []; field = ""; i += 2; continue; }
    assert.ok(c !== "\r" && c !== "\n", `a bare line break at ${i} outside quotes`);
    field += c; i++;
  }
  assert.equal(field, "");
  assert.deepEqual(row, [], "the last row ends with CRLF");
  return rows;
}

test("a field is quoted where it holds a comma, a quote or a line break, quotes doubled", () => {
  assert.equal(csvField("plain"), "plain");
  assert.equal(csvField("=1+1"), "=1+1"); // text as logged: GET /export's formulas=escape is the spreadsheet form
  assert.equal(csvField("a,b"), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField("x\ny"), '"x\ny"');
  assert.equal(csvField("x\ry"), '"x\ry"');
  assert.equal(csvField(3), "3");
  assert.equal(csvField(true), "true");
});

test("float32 text is the shortest that reads back as the same float32", () => {
  let seed = 7;
  for (let i = 0; i < 5000; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const value = Math.fround(((seed / 2 ** 31) - 0.5) * 10 ** ((i % 12) - 6));
    const text = float32Text(value);
    assert.equal(Math.fround(Number(text)), value, text);
    const digits = text.replace(/^-/, "").replace(/e.*$/, "").replace(".", "").replace(/^0+/, "");
    assert.ok(digits.length <= 9, text);
  }
  assert.equal(float32Text(Math.fround(0.1)), "0.1");
  assert.equal(float32Text(0), "0");
});

test("every token is joined without spaces only in a character vocabulary", () => {
  assert.equal(tokenJoiner(["a", "b", " ", "\u{1f9e0}"]), "");
  assert.equal(tokenJoiner(["a", "bc"]), " ");
  assert.equal(tokenJoiner([]), " ");
});

test("selected sequences: one row each with the served per-sequence values", () => {
  const data = checkpoint();
  const table = sequenceTable(data, [1, 3]);
  assert.deepEqual(table.columns, ["sequence", "length", "text", "label", "label_name", "prediction", "prediction_name", "confidence", "correct"]);
  for (const row of table.rows) {
    const i = row.sequence;
    const tokens = [];
    for (let p = data.offsets[i]; p < data.offsets[i + 1]; p++) tokens.push(HOSTILE[data.tokens[p]]);
    assert.equal(row.text, tokens.join(" "));
    assert.equal(row.length, data.meta.lengths[i]);
    assert.equal(row.label, data.meta.labels[i]);
    assert.equal(row.label_name, data.meta.class_names[data.meta.labels[i]]);
    assert.equal(row.prediction, data.meta.predictions[i]);
    assert.equal(row.confidence, data.meta.confidences[i]);
    assert.equal(row.correct, data.meta.labels[i] === data.meta.predictions[i]);
  }
  const rows = parseCsv(toCsv(table));
  assert.deepEqual(rows[0], table.columns);
  assert.equal(rows.length, 3);
  assert.equal(rows[1][2], table.rows[0].text);
});

test("brushed and lit points: their union, ascending, once each, flagged", () => {
  const brushed = Int32Array.from([2, 5, 9]);
  const lit = { points: Int32Array.from([0, 5, 13]), source: "search", label: "“the”" };
  assert.deepEqual(selectedPoints(brushed, lit), [
    { point: 0, brushed: false, lit: true }, { point: 2, brushed: true, lit: false },
    { point: 5, brushed: true, lit: true }, { point: 9, brushed: true, lit: false },
    { point: 13, brushed: false, lit: true },
  ]);
  assert.deepEqual(selectedPoints(null, null), []);
});

test("point rows carry what was logged at the point and its place in the layout shown; the CSV reads back as built", () => {
  const data = checkpoint();
  const all = Int32Array.from({ length: 14 }, (_, p) => p);
  const input = { run: "run, a", tag: "lstm", data, selected: [], brushed: all, lit: null, layout };
  const table = pointTable(input);
  assert.deepEqual(table.columns, ["point", "sequence", "step", "token", "label", "label_name", "prediction", "prediction_name", "confidence", "x", "y", "brushed", "lit"]);
  const rows = parseCsv(toCsv(table));
  assert.equal(rows.length, 15);
  for (let p = 0; p < 14; p++) {
    const cells = Object.fromEntries(table.columns.map((c, k) => [c, rows[p + 1][k]]));
    const sequence = data.pointSequence[p];
    assert.equal(Number(cells.point), p);
    assert.equal(Number(cells.sequence), sequence);
    assert.equal(Number(cells.step), p - data.offsets[sequence]);
    assert.equal(cells.token, HOSTILE[data.tokens[p]]);
    assert.equal(Number(cells.label), data.meta.labels[sequence]);
    assert.equal(cells.label_name, data.meta.class_names[data.meta.labels[sequence]]);
    assert.equal(Number(cells.prediction), data.pointPrediction[p]);
    assert.equal(cells.prediction_name, data.meta.class_names[data.pointPrediction[p]]);
    assert.equal(Math.fround(Number(cells.confidence)), data.pointConfidence[p]);
    assert.equal(Math.fround(Number(cells.x)), coords[2 * p]);
    assert.equal(Math.fround(Number(cells.y)), coords[2 * p + 1]);
    assert.equal(cells.brushed, "true");
    assert.equal(cells.lit, "false");
  }
  assert.ok(HOSTILE.every((token) => rows.some((row) => row[3] === token)));
});

test("columns of data the checkpoint was logged without are left out", () => {
  const data = checkpoint({ tokens: false, probabilities: false });
  const input = { run: "r", tag: "t", data, selected: [0], brushed: Int32Array.from([1]), lit: null, layout: null };
  assert.deepEqual(pointTable(input).columns, ["point", "sequence", "step", "label", "brushed", "lit"]);
  assert.deepEqual(sequenceTable(data, [0]).columns, ["sequence", "length", "label"]);
});

test("the JSON holds the source, the selection and the point rows", () => {
  const data = checkpoint();
  const lit = { points: Int32Array.from([4, 6]), source: "matches", label: "units 1, 2" };
  const input = { run: "run, a", tag: "lstm", data, selected: [0, 2], brushed: Int32Array.from([1, 4]), lit, layout };
  const doc = JSON.parse(selectionJson(input));
  assert.deepEqual(doc.source, { run: "run, a", tag: "lstm", step: 7, layout: { kind: "final", method: "tsne", params: layout.params, info: null } });
  assert.deepEqual(doc.selected_sequences.map((s) => s.sequence), [0, 2]);
  assert.deepEqual(doc.selected_sequences[0].tokens, [0, 1, 2, 3, 4].map((p) => HOSTILE[p]));
  assert.deepEqual(doc.brushed_points, [1, 4]);
  assert.deepEqual(doc.lit, { source: "matches", label: "units 1, 2", points: [4, 6] });
  assert.deepEqual(doc.points.map((r) => [r.point, r.brushed, r.lit]), [[1, true, false], [4, true, true], [6, false, true]]);
  assert.equal(doc.points[0].x, coords[2]);
  const provisional = JSON.parse(selectionJson({ ...input, layout: { kind: "provisional", coords, params: null, layout: null } }));
  assert.equal(provisional.source.layout.method, "pca");
  assert.equal(JSON.parse(selectionJson({ ...input, layout: null })).points[0].x, undefined);
});
