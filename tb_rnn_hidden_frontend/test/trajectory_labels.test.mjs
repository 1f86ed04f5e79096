// Unit tests of the paper's trajectory labels and the brush's trajectory ranking (src/domain/trajectory_labels.ts),
// and of the per-step prediction colour (src/ui/colors.ts).
import assert from "node:assert/strict";
import { test } from "node:test";

import { changesOf } from "../build/domain/confidence.mjs";
import { labelEvents, rankBrushedSequences } from "../build/domain/trajectory_labels.mjs";
import { predictionLightness } from "../build/ui/colors.mjs";

// Two sequences: 4 steps and 3 steps, two classes.
const OFFSETS = new Int32Array([0, 4, 7]);
const PROBS = new Float32Array([
  0.9, 0.1, 0.8, 0.2, 0.3, 0.7, 0.25, 0.75, // sequence 0: class change and confidence change at step 2
  0.5, 0.5, 0.45, 0.55, 0.1, 0.9, // sequence 1: class change at step 1 (small), confidence change at step 2
]);
const PREDICTION = new Int32Array([0, 0, 1, 1, 0, 1, 1]);
// P - N = 5 transitions: sequence 0 has 3 (rows 0..2), sequence 1 has 2 (rows 3..4).
const DISTANCES = new Float32Array([0.1, 1.0, 0.4, 0.39, 0.8]);
const SOURCE = { offsets: OFFSETS, pointPrediction: PREDICTION, distances: DISTANCES, changes: changesOf(OFFSETS, PROBS, 2) };
const ALL = ["ja", "jb", "ca", "cb", "pa", "pb"];

test("after labels the step a change arrives at, before the step it leaves", () => {
  const options = { labels: ["ja"], jumpThreshold: 0.4, confidenceThreshold: 0.3 };
  // Jumps >= 0.4 arrive at steps 2 (1.0) and 3 (0.4, the threshold itself counts).
  assert.deepEqual(labelEvents(SOURCE, 0, options).map((e) => e.step), [2, 3]);
  assert.deepEqual(labelEvents(SOURCE, 0, { ...options, labels: ["jb"] }).map((e) => e.step), [1, 2]);
  // Sequence 1's rows are 3 and 4: 0.39 is below, 0.8 arrives at step 2.
  assert.deepEqual(labelEvents(SOURCE, 1, options), [{ step: 2, kind: "jump", side: "after" }]);
});

test("confidence changes use max over classes of |dp| against the threshold", () => {
  const options = { labels: ["ca", "cb"], jumpThreshold: 0.4, confidenceThreshold: 0.3 };
  // Sequence 0: |dp| 0.1, 0.5, 0.05; sequence 1: 0.05, 0.35.
  assert.deepEqual(labelEvents(SOURCE, 0, options), [
    { step: 1, kind: "confidence", side: "before" }, { step: 2, kind: "confidence", side: "after" },
  ]);
  assert.deepEqual(labelEvents(SOURCE, 1, { ...options, confidenceThreshold: 0.36 }), []);
});

test("class changes, every kind together, ordered by step then cause then side", () => {
  const events = labelEvents(SOURCE, 1, { labels: ALL, jumpThreshold: 0.4, confidenceThreshold: 0.3 });
  assert.deepEqual(events, [
    { step: 0, kind: "class", side: "before" },
    { step: 1, kind: "jump", side: "before" },
    { step: 1, kind: "confidence", side: "before" },
    { step: 1, kind: "class", side: "after" },
    { step: 2, kind: "jump", side: "after" },
    { step: 2, kind: "confidence", side: "after" },
  ]);
  assert.deepEqual(labelEvents(SOURCE, 0, { labels: [], jumpThreshold: 0, confidenceThreshold: 0 }), []);
});

test("brushed sequences rank by brushed steps, ties by index", () => {
  const pointSequence = new Int32Array([0, 0, 0, 1, 1, 2, 2, 2]);
  assert.deepEqual(rankBrushedSequences([0, 3, 4, 5, 6, 7], pointSequence), [2, 1, 0]);
  assert.deepEqual(rankBrushedSequences([0, 3, 5], pointSequence), [0, 1, 2]);
  assert.deepEqual(rankBrushedSequences([], pointSequence), []);
});

test("prediction colour: the class hue when certain, near the background at chance level", () => {
  const bg = [255, 255, 255];
  assert.deepEqual(predictionLightness(0, 1, 2, bg), [0, 0x72, 0xb2]);
  const undecided = predictionLightness(0, 0.5, 2, bg);
  const mid = predictionLightness(0, 0.75, 2, bg);
  // Lighter (closer to white) as confidence falls.
  const sum = (c) => c[0] + c[1] + c[2];
  assert.ok(sum(undecided) > sum(mid) && sum(mid) > 0x72 + 0xb2);
});
