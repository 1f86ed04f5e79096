// The distance bars' model (src/domain/distance_bars.ts): which transitions belong to a sequence,
// the step each arrives at, and which are jumps at a threshold (the paper's 0.40 and others).
import assert from "node:assert/strict";
import { test } from "node:test";

import { distanceBars, thresholdText } from "../build/domain/distance_bars.mjs";

// Three sequences of 3, 1 and 4 points: P - N = 5 transitions, sequence i's from row start - i on.
const lengths = [3, 1, 4];
const starts = [0, 3, 4];
const distances = new Float32Array([0.1, 0.4, 0.9, 0.39999, 1.0]);

test("each sequence's bars are its own transitions, by the step they arrive at", () => {
  const bars = lengths.map((length, i) => distanceBars(distances, i, starts[i], starts[i] + length, 0.4));
  assert.deepEqual(bars[0].map((b) => b.step), [1, 2]);
  assert.deepEqual(bars[0].map((b) => b.distance), [distances[0], distances[1]]);
  assert.deepEqual(bars[1], []); // one point: no transition
  assert.deepEqual(bars[2].map((b) => b.distance), [distances[2], distances[3], distances[4]]);
});

test("a jump is a distance at or above the threshold, and moves with it", () => {
  const jumps = (threshold) => distanceBars(distances, 2, 4, 8, threshold).filter((b) => b.jump).map((b) => b.step);
  assert.deepEqual(jumps(0.4), [1, 3]); // 0.39999 is below 0.40
  assert.deepEqual(jumps(Math.fround(0.39999)), [1, 2, 3]);
  assert.deepEqual(jumps(0.95), [3]);
  assert.deepEqual(jumps(0), [1, 2, 3]);
  assert.deepEqual(distanceBars(distances, 0, 0, 3, 0.4).map((b) => b.jump), [false, true]); // 0.4 itself is a jump
});

test("the threshold reads with two decimals, as the paper's slider", () => {
  assert.equal(thresholdText(0.4), "0.40");
  assert.equal(thresholdText(0.125), "0.13");
});
