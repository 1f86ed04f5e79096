// Flips at a threshold (src/domain/flips.ts), the first sort directions and the joined text of
// character tokens (src/domain/panel_model.ts), and the heat map's colour scales (src/ui/probability_scale.ts).
import assert from "node:assert/strict";
import { test } from "node:test";

import { decodeCheckpoint, offsetsOf } from "../build/domain/data.mjs";
import { flipCount, flipStepOf, flipSteps, lastFlipSteps, parseFlipThreshold } from "../build/domain/flips.mjs";
import { characterTokens, firstDescending, sequenceText, tableRows } from "../build/domain/panel_model.mjs";
import {
  deltaE, divergingScale, NEUTRAL, scaleHexList, scaleRgb, SCALE_SIZE, sequentialScale,
} from "../build/ui/probability_scale.mjs";
import { classColor, hexToRgb } from "../build/ui/colors.mjs";

/** A two-class checkpoint from per-sequence lists of p(class 1). */
function binary(sequences, { vocabulary = ["a", "b"], tokens = null } = {}) {
  const lengths = sequences.map((s) => s.length);
  const probabilities = new Float32Array(sequences.flat().flatMap((p) => [1 - p, p]));
  const total = lengths.reduce((a, b) => a + b, 0);
  const last = sequences.map((s) => s[s.length - 1]);
  const meta = {
    num_sequences: sequences.length, max_length: Math.max(...lengths), state_size: 2, num_classes: 2,
    class_names: ["neg", "pos"], states_dtype: "float32", has_tokens: true, has_probabilities: true, has_labels: true,
    lengths, labels: last.map(() => 1), predictions: last.map((p) => (p >= 0.5 ? 1 : 0)), confidences: last.map((p) => Math.max(p, 1 - p)),
    accuracy: null, vocabulary,
  };
  return decodeCheckpoint({
    key: '["r","t",0]', step: 0, meta, tokens: tokens ?? new Int32Array(total), probabilities,
    distances: new Float32Array(total - sequences.length).fill(1), maxDistance: 1,
  });
}

test("an untrained model's wandering argmax is no flip; a real change is", () => {
  // Sequence 0: noise around 0.5 (argmax changes, |Δp| ≤ 0.004); 1: 0.3 -> 0.7 at step 2; 2: constant.
  const data = binary([[0.499, 0.501, 0.498, 0.502], [0.3, 0.32, 0.7, 0.72], [0.9, 0.9]]);
  assert.deepEqual([...flipSteps(data, 0.1)], [0, 2, 0]);
  assert.equal(flipCount(data, 0.1), 1);
  // Lowering the threshold below the noise brings its flips back (the last at step 3).
  assert.deepEqual([...flipSteps(data, 0.001)], [3, 2, 0]);
  assert.deepEqual([...flipSteps(data, 0)], [3, 2, 0]);
  assert.equal(flipStepOf(data, 1, 0.37), 2); // |Δp| = 0.38
  assert.equal(flipStepOf(data, 1, 0.39), 0);
});

test("the flip is the last qualifying change, not the last change", () => {
  // 0.2 -> 0.8 at step 1 (|Δp| 0.6), then a wobble 0.8 -> 0.49 -> 0.51 (argmax changes with |Δp| ≤ 0.31).
  const data = binary([[0.2, 0.8, 0.49, 0.51]]);
  assert.deepEqual([...flipSteps(data, 0.35)], [1]);
  assert.deepEqual([...flipSteps(data, 0.3)], [2]);
  assert.deepEqual([...flipSteps(data, 0.01)], [3]);
});

test("lastFlipSteps reads the given changes; flipSteps memoises per checkpoint and threshold", () => {
  const offsets = offsetsOf([3, 2]);
  const predictions = new Int32Array([0, 1, 1, 0, 1]);
  assert.deepEqual([...lastFlipSteps(offsets, predictions, new Float32Array([0, 0.2, 0, 0, 0.05]), 0.1)], [1, 0]);
  assert.deepEqual([...lastFlipSteps(offsets, predictions, new Float32Array([0, 0.2, 0, 0, 0.05]), 0.05)], [1, 1]);
  const data = binary([[0.2, 0.8]]);
  assert.equal(flipSteps(data, 0.1), flipSteps(data, 0.1));
  assert.notEqual(flipSteps(data, 0.1), flipSteps(data, 0.2));
});

test("without probabilities nothing flips", () => {
  const data = binary([[0.2, 0.8]]);
  const bare = decodeCheckpoint({
    key: "k", step: 0, meta: { ...data.meta, num_classes: 0, class_names: null, has_probabilities: false },
    tokens: data.tokens, probabilities: null, distances: data.distances, maxDistance: 1,
  });
  assert.deepEqual([...flipSteps(bare, 0)], [0]);
});

test("the threshold input: numbers in [0, 1] only", () => {
  assert.equal(parseFlipThreshold("0.25"), 0.25);
  assert.equal(parseFlipThreshold("0"), 0);
  assert.equal(parseFlipThreshold("1"), 1);
  for (const bad of ["", " ", "-0.1", "1.5", "abc", "NaN", "Infinity"]) assert.equal(parseFlipThreshold(bad), null, bad);
});

test("first sort directions: latest flip and longest first; least confident and wrong first (ascending)", () => {
  assert.equal(firstDescending("flip"), true);
  assert.equal(firstDescending("length"), true);
  for (const key of ["index", "label", "prediction", "correct", "confidence"]) assert.equal(firstDescending(key), false, key);
  // Ascending "correct" puts the wrong ones first; ascending confidence the least confident.
  const data = binary([[0.9], [0.2], [0.6]]); // labels all 1: sequence 1 is wrong
  const table = { sortKey: "correct", descending: false, wrongOnly: false, labelFilter: null, flipThreshold: 0.1 };
  assert.equal(tableRows(data, table)[0], 1);
  assert.deepEqual(tableRows(data, { ...table, sortKey: "confidence" }), [2, 1, 0]);
});

test("single-character tokens join without spaces; words keep theirs", () => {
  const chars = ["i", "n", "d", "e", "f", "a", "t", "g", "b", "l", " ", "é"];
  const word = [..."indefatigable"].map((c) => chars.indexOf(c));
  const data = binary([Array(13).fill(0.5), Array(3).fill(0.5)], {
    vocabulary: chars, tokens: new Int32Array([...word, 0, 10, 11]),
  });
  assert.equal(characterTokens(data, 0), true);
  assert.equal(sequenceText(data, 0), "indefatigable");
  assert.equal(sequenceText(data, 0, 2), "indefati …"); // 4 x 2 characters
  assert.equal(sequenceText(data, 1), "i é");
  const words = binary([[0.5, 0.5]], { vocabulary: ["the", "a"], tokens: new Int32Array([0, 1]) });
  assert.equal(characterTokens(words, 0), false);
  assert.equal(sequenceText(words, 0), "the a");
});

/** Smallest ΔE between p and p + step over [0, 1]. */
function smallestStep(scale, step) {
  let least = Infinity;
  for (let j = 0; j + step <= 1 + 1e-9; j += step) least = Math.min(least, deltaE(scaleRgb(scale, j), scaleRgb(scale, j + step)));
  return least;
}

test("sequential scale: light to dark, neighbouring tenths and twentieths differ visibly", () => {
  const scale = sequentialScale();
  assert.equal(scale.lut.length, SCALE_SIZE);
  assert.ok(smallestStep(scale, 0.1) >= 11, `${smallestStep(scale, 0.1)}`);
  assert.ok(smallestStep(scale, 0.05) >= 5, `${smallestStep(scale, 0.05)}`); // a just noticeable difference is ~2.3
  // Monotone lightness: darker with probability.
  const lightness = (c) => 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  for (let j = 1; j < SCALE_SIZE; j += 8) assert.ok(lightness(scale.lut[j]) <= lightness(scale.lut[j - 1]) + 1, `entry ${j}`);
  assert.equal(scaleHexList(scale).split(",").length, SCALE_SIZE);
});

test("diverging scale: class 0's colour, neutral at 0.5, class 1's colour; 0.4, 0.5, 0.6 far apart", () => {
  const scale = divergingScale();
  assert.deepEqual(scaleRgb(scale, 0), hexToRgb(classColor(0)));
  assert.deepEqual(scaleRgb(scale, 1), hexToRgb(classColor(1)));
  assert.deepEqual(scaleRgb(scale, 0.5), hexToRgb(NEUTRAL));
  assert.ok(deltaE(scaleRgb(scale, 0.4), scaleRgb(scale, 0.5)) > 20);
  assert.ok(deltaE(scaleRgb(scale, 0.5), scaleRgb(scale, 0.6)) > 20);
  assert.ok(deltaE(scaleRgb(scale, 0.45), scaleRgb(scale, 0.55)) > 35);
  assert.ok(smallestStep(scale, 0.05) >= 3, `${smallestStep(scale, 0.05)}`);
  // Either side of 0.5 leans to its own class: nearer class 0's colour below, class 1's above.
  for (const p of [0.48, 0.4, 0.2]) {
    const c = scaleRgb(scale, p);
    assert.ok(deltaE(c, hexToRgb(classColor(0))) < deltaE(c, hexToRgb(classColor(1))), `${p}`);
    const d = scaleRgb(scale, 1 - p);
    assert.ok(deltaE(d, hexToRgb(classColor(1))) < deltaE(d, hexToRgb(classColor(0))), `${1 - p}`);
  }
});
