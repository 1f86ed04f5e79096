// The panels' pure model (src/domain/panel_model.ts) on a generated checkpoint of 300 sequences, against
// straightforward reference computations: the two-sequence cases in data.test.mjs cannot catch
// an ordering or counting slip that only shows with ties, several classes and filters combined.
import assert from "node:assert/strict";
import { test } from "node:test";

import { decodeCheckpoint } from "../build/domain/data.mjs";
import { classCounts, histogram, isCorrect, sequenceText, tableRows } from "../build/domain/panel_model.mjs";
import { flipCount, flipSteps } from "../build/domain/flips.mjs";
import { random } from "./random.mjs";

const N = 300;
const C = 3;

function generated(seed = 1) {
  const rand = random(seed);
  const lengths = Array.from({ length: N }, () => 1 + Math.floor(rand() * 8));
  const total = lengths.reduce((a, b) => a + b, 0);
  const probabilities = new Float32Array(total * C);
  // Probabilities from a few levels only, so that confidences tie often.
  for (let p = 0; p < total; p++) {
    const winner = Math.floor(rand() * C);
    const top = [0.5, 0.6, 0.8][Math.floor(rand() * 3)];
    for (let k = 0; k < C; k++) probabilities[p * C + k] = k === winner ? top : (1 - top) / (C - 1);
  }
  const offsets = [0];
  for (const l of lengths) offsets.push(offsets[offsets.length - 1] + l);
  const predictions = [];
  const confidences = [];
  for (let i = 0; i < N; i++) {
    const row = (offsets[i + 1] - 1) * C;
    const values = [...probabilities.subarray(row, row + C)];
    const best = values.indexOf(Math.max(...values));
    predictions.push(best);
    confidences.push(values[best]);
  }
  const labels = Array.from({ length: N }, () => Math.floor(rand() * C));
  const meta = {
    num_sequences: N, max_length: 8, state_size: 4, num_classes: C, class_names: ["a", "b", "c"],
    states_dtype: "float16", has_tokens: true, has_probabilities: true, has_labels: true,
    lengths, labels, predictions, confidences,
    accuracy: labels.filter((l, i) => l === predictions[i]).length / N,
    vocabulary: ["w0", "w1", "w2", "w3"],
  };
  const tokens = Int32Array.from({ length: total }, (_, p) => p % 4);
  const distances = Float32Array.from({ length: total - N }, () => rand());
  return decodeCheckpoint({
    key: '["r","t",1]', step: 1, meta, tokens, probabilities, distances, maxDistance: 1,
  });
}

/**
 * The flip step by its definition: the last step whose argmax differs from the step before's
 * while some class's probability moved by at least `threshold`.
 */
function referenceFlip(data, i, threshold) {
  const start = data.offsets[i];
  const end = data.offsets[i + 1];
  const p_ = data.probabilities;
  for (let p = end - 1; p > start; p--) {
    const moved = Math.max(...Array.from({ length: C }, (_, k) => Math.abs(p_[p * C + k] - p_[(p - 1) * C + k])));
    if (data.pointPrediction[p] !== data.pointPrediction[p - 1] && moved >= threshold) return p - start;
  }
  return 0;
}

function referenceValue(data, i, key, threshold) {
  const m = data.meta;
  return {
    index: i, label: m.labels[i], prediction: m.predictions[i], correct: m.labels[i] === m.predictions[i] ? 1 : 0,
    confidence: m.confidences[i], flip: referenceFlip(data, i, threshold), length: m.lengths[i],
  }[key];
}

test("flip steps of every sequence match the definition at every threshold", () => {
  const data = generated();
  for (const threshold of [0, 0.3, 0.5, 0.65]) {
    const flips = flipSteps(data, threshold);
    for (let i = 0; i < N; i++) assert.equal(flips[i], referenceFlip(data, i, threshold), `sequence ${i} at ${threshold}`);
    if (threshold < 0.65) assert.ok([...flips].some((f) => f > 0) && [...flips].some((f) => f === 0), `${threshold}`);
  }
  // The levels 0.5 / 0.6 / 0.8 move at most 0.7 at a change of class: above that nothing flips.
  assert.equal(flipCount(data, 0.71), 0);
});

test("table rows: every sort key, both directions, every filter combination", () => {
  const data = generated();
  const m = data.meta;
  for (const sortKey of ["index", "label", "prediction", "correct", "confidence", "flip", "length"]) {
    for (const descending of [false, true]) {
      for (const wrongOnly of [false, true]) {
        for (const labelFilter of [null, 0, 2]) {
          for (const flipThreshold of [0.1, 0.5]) {
            const table = { sortKey, descending, wrongOnly, labelFilter, flipThreshold };
            const value = (i) => referenceValue(data, i, sortKey, flipThreshold);
            const expected = [...Array(N).keys()]
              .filter((i) => (!wrongOnly || m.labels[i] !== m.predictions[i]) && (labelFilter === null || m.labels[i] === labelFilter))
              .sort((a, b) => (descending ? -1 : 1) * (value(a) - value(b)) || a - b);
            assert.deepEqual(tableRows(data, table), expected, JSON.stringify(table));
          }
        }
      }
    }
  }
});

test("class counts, confusion cells and their members add up", () => {
  const data = generated();
  const m = data.meta;
  const counts = classCounts(data);
  let members = 0;
  for (let t = 0; t < C; t++) {
    assert.equal(counts.total[t], m.labels.filter((l) => l === t).length);
    assert.equal(counts.correct[t], counts.confusion[t][t]);
    for (let p = 0; p < C; p++) {
      const expected = [...Array(N).keys()].filter((i) => m.labels[i] === t && m.predictions[i] === p);
      assert.deepEqual(counts.members[t][p], expected);
      assert.equal(counts.confusion[t][p], expected.length);
      members += expected.length;
    }
  }
  assert.equal(members, N);
  const correct = counts.correct.reduce((a, b) => a + b, 0);
  assert.equal(correct / N, m.accuracy);
  assert.equal([...Array(N).keys()].filter((i) => isCorrect(data, i)).length, correct);
});

test("histogram counts every finite value once, in the bin of its value", () => {
  const data = generated();
  const bins = 40;
  const counts = histogram(data.distances, bins);
  assert.equal(counts.reduce((a, b) => a + b, 0), data.distances.length);
  for (let b = 0; b < bins; b++) {
    const expected = [...data.distances].filter((v) => v >= b / bins && (v < (b + 1) / bins || (b === bins - 1 && v <= 1))).length;
    assert.equal(counts[b], expected, `bin ${b}`);
  }
});

test("sequence text: the first tokens, an ellipsis only when cut", () => {
  const data = generated();
  const i = data.meta.lengths.findIndex((l) => l >= 5);
  const start = data.offsets[i];
  const words = Array.from({ length: 3 }, (_, t) => `w${(start + t) % 4}`);
  assert.equal(sequenceText(data, i, 3), `${words.join(" ")} …`);
  const short = data.meta.lengths.findIndex((l) => l === 1);
  assert.equal(sequenceText(data, short, 3), `w${data.offsets[short] % 4}`);
});

test("keyedRange: the histogram's range by keyboard, in whole bins", async () => {
  const { keyedRange } = await import("../build/domain/panel_model.mjs");
  const B = 40;
  const bins = (r) => (r === null ? null : r.map((v) => Math.round(v * B)));
  // Without a range: arrows and Home show the first bin, End the last.
  for (const key of ["ArrowRight", "ArrowLeft", "ArrowUp", "ArrowDown", "Home"]) {
    assert.deepEqual(bins(keyedRange(null, key, false, B)), [0, 1], key);
    assert.deepEqual(bins(keyedRange(null, key, true, B)), [0, 1], `shift+${key}`);
  }
  assert.deepEqual(bins(keyedRange(null, "End", false, B)), [39, 40]);
  // Other keys change nothing.
  assert.equal(keyedRange([0.2, 0.3], "a", false, B), null);
  assert.equal(keyedRange(null, "Enter", false, B), null);
  // Arrows move, keeping the width, and stop at either end.
  assert.deepEqual(bins(keyedRange([10 / B, 14 / B], "ArrowRight", false, B)), [11, 15]);
  assert.deepEqual(bins(keyedRange([10 / B, 14 / B], "ArrowLeft", false, B)), [9, 13]);
  assert.deepEqual(bins(keyedRange([36 / B, 1], "ArrowRight", false, B)), [36, 40]);
  assert.deepEqual(bins(keyedRange([0, 4 / B], "ArrowLeft", false, B)), [0, 4]);
  // Shift+arrows move the upper end; the range stays at least one bin wide and inside [0, 1].
  assert.deepEqual(bins(keyedRange([10 / B, 14 / B], "ArrowRight", true, B)), [10, 15]);
  assert.deepEqual(bins(keyedRange([10 / B, 14 / B], "ArrowLeft", true, B)), [10, 13]);
  assert.deepEqual(bins(keyedRange([10 / B, 11 / B], "ArrowLeft", true, B)), [10, 11]);
  assert.deepEqual(bins(keyedRange([10 / B, 1], "ArrowRight", true, B)), [10, 40]);
  // Home/End keep the width.
  assert.deepEqual(bins(keyedRange([10 / B, 14 / B], "Home", false, B)), [0, 4]);
  assert.deepEqual(bins(keyedRange([10 / B, 14 / B], "End", false, B)), [36, 40]);
  // A dragged range snaps to the nearest bin edges; exact values are k / bins.
  assert.deepEqual(keyedRange([0.3012, 0.6987], "ArrowRight", false, B), [13 / B, 29 / B]);
  // A range narrower than a bin, or at the top, still gives a valid bin.
  assert.deepEqual(bins(keyedRange([0.999, 1], "ArrowLeft", false, B)), [38, 39]);
  for (let i = 0; i < 200; i++) {
    const lo = Math.random();
    const hi = lo + Math.random() * (1 - lo);
    for (const key of ["ArrowRight", "ArrowLeft", "Home", "End"]) {
      for (const shift of [false, true]) {
        const [a, b] = keyedRange([lo, hi], key, shift, B);
        assert.ok(0 <= a && a < b && b <= 1 && Number.isInteger(Math.round(a * B)), `${lo},${hi} ${key} ${shift}: ${a},${b}`);
        assert.ok(Math.abs(a * B - Math.round(a * B)) < 1e-9 && Math.abs(b * B - Math.round(b * B)) < 1e-9);
      }
    }
  }
});
