// Unit tests of checkpoint decoding (src/domain/data.ts) and the panels' pure model (src/domain/panel_model.ts).
import assert from "node:assert/strict";
import { test } from "node:test";

import { asFloat32, checkShape, decodeCheckpoint, offsetsOf } from "../build/domain/data.mjs";
import { classCounts, histogram, isCorrect, sequenceText, tableRows } from "../build/domain/panel_model.mjs";

// Two sequences of lengths 3 and 2, 2 classes.
const META = {
  num_sequences: 2, max_length: 3, state_size: 4, num_classes: 2, class_names: ["neg", "<b>pos</b>"],
  states_dtype: "float16", has_tokens: true, has_probabilities: true, has_labels: true,
  lengths: [3, 2], labels: [1, 0], predictions: [1, 1], confidences: [0.9, 0.6], accuracy: 0.5,
  vocabulary: ["a", "<img src=x onerror=alert(1)>", "c"],
};
const PROBS = new Float32Array([0.8, 0.2, 0.3, 0.7, 0.1, 0.9, 0.55, 0.45, 0.4, 0.6]);
const RAW = {
  key: '["r","t",5]', step: 5, meta: META, tokens: new Int32Array([0, 1, 2, 2, 0]),
  probabilities: PROBS, distances: new Float32Array([1, 2, 4]), maxDistance: 4,
};

test("offsets are exclusive prefix sums with the total last", () => {
  assert.deepEqual([...offsetsOf([3, 2, 0, 4])], [0, 3, 5, 5, 9]);
});

test("decodeCheckpoint gives per-point sequence, step, argmax and confidence", () => {
  const data = decodeCheckpoint(RAW);
  assert.deepEqual([...data.pointSequence], [0, 0, 0, 1, 1]);
  assert.deepEqual([...data.pointStep], [0, 1, 2, 0, 1]);
  assert.deepEqual([...data.pointPrediction], [0, 1, 1, 0, 1]);
  assert.deepEqual([...data.pointConfidence].map((v) => +v.toFixed(2)), [0.8, 0.7, 0.9, 0.55, 0.6]);
  assert.deepEqual([...data.distances], [0.25, 0.5, 1]);
  assert.deepEqual(data.classNames, ["neg", "<b>pos</b>"]);
  assert.equal(data.vocabulary[1], "<img src=x onerror=alert(1)>");
  // Flips depend on the table's threshold: no field holds an unthresholded one.
  assert.equal("flipStep" in data, false);
});

test("numeric sequences without tokens or probabilities decode too", () => {
  const data = decodeCheckpoint({
    ...RAW, meta: { ...META, has_tokens: false, has_probabilities: false, num_classes: 0, class_names: null, labels: null, predictions: null, confidences: null, accuracy: null },
    tokens: null, probabilities: null,
  });
  assert.equal(data.tokens, null);
  assert.equal(data.vocabulary, null);
  assert.deepEqual(data.classNames, []);
  assert.deepEqual([...data.pointPrediction], [-1, -1, -1, -1, -1]);
  assert.equal(sequenceText(data, 0), "numeric, 3 steps");
  assert.equal(classCounts(data), null);
  assert.equal(isCorrect(data, 0), null);
});

test("class counts and the confusion matrix with its members", () => {
  const counts = classCounts(decodeCheckpoint(RAW));
  assert.deepEqual(counts.total, [1, 1]);
  assert.deepEqual(counts.correct, [0, 1]);
  assert.deepEqual(counts.confusion, [[0, 1], [0, 1]]);
  assert.deepEqual(counts.members[0][1], [1]);
  assert.deepEqual(counts.members[1][1], [0]);
});

test("table rows filter and sort, ties by index", () => {
  const data = decodeCheckpoint(RAW);
  const table = { sortKey: "index", descending: false, wrongOnly: false, labelFilter: null, flipThreshold: 0.1 };
  assert.deepEqual(tableRows(data, table), [0, 1]);
  assert.deepEqual(tableRows(data, { ...table, wrongOnly: true }), [1]);
  assert.deepEqual(tableRows(data, { ...table, labelFilter: 1 }), [0]);
  assert.deepEqual(tableRows(data, { ...table, sortKey: "confidence" }), [1, 0]);
  assert.deepEqual(tableRows(data, { ...table, sortKey: "confidence", descending: true }), [0, 1]);
  assert.deepEqual(tableRows(data, { ...table, sortKey: "length" }), [1, 0]);
  assert.deepEqual(tableRows(data, { ...table, sortKey: "flip" }), [0, 1]);
  assert.equal(sequenceText(data, 0, 2), "a <img src=x onerror=alert(1)> …");
});

test("histogram bins values in [0, 1], the maximum in the last bin", () => {
  assert.deepEqual(histogram(new Float32Array([0, 0.1, 0.49, 0.5, 1, NaN]), 4), [2, 1, 1, 1]);
  assert.deepEqual(histogram(new Float32Array([0, 0.26, 0.74, 1]), 2), [2, 2]);
});

test("float routes pass float32 through; int32 converts", () => {
  const same = new Float32Array([0.25]);
  assert.equal(asFloat32(same), same);
  assert.deepEqual([...asFloat32(new Int32Array([1, -2]))], [1, -2]);
});

test("checkShape rejects arrays that would misalign the points", () => {
  checkShape("tokens", [5], [5]);
  assert.throws(() => checkShape("tokens", [4], [5]), /"tokens" sent shape \[4\], expected \[5\]/);
  assert.throws(() => checkShape("probabilities", [5], [5, 2]), /expected \[5, 2\]/);
});
