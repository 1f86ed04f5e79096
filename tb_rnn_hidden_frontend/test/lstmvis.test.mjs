// Unit tests of LSTMVis' hypothesis model (src/domain/lstmvis.ts), its state reducers
// (src/state/lstmvis.ts), the lit points' reset with the checkpoint, and the hypothesis in the URL.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  brushRange,
  clampOff,
  hitPoints,
  hitWindow,
  nearestUnit,
  qualitySeries,
  signatureRange,
  staleLabel,
  toggleUnit,
  unitCount,
  unitsOnPerStep,
  validBrush,
  valueRange,
} from "../build/domain/lstmvis.mjs";
import { decodeUrlState, encodeUrlState, parseHash, replaceHashState } from "../build/state/url_state.mjs";
import { INITIAL_STATE, withCheckpointData } from "../build/state/app_state.mjs";
import {
  INITIAL_LSTMVIS,
  selectionKey,
  sequenceRows,
  withBrush,
  withMatchRequested,
  withOff,
  withRerunRequested,
  withThreshold,
  withUnitToggled,
} from "../build/state/lstmvis.mjs";

/** [T, H] rows from per-step arrays. */
const rows = (...steps) => Float32Array.from(steps.flat());

test("word shading counts the given units on (value >= θ) at each step, other units ignored", () => {
  // 4 steps x 3 units: unit 0 on at steps 1-2, unit 2 on at 2-3, unit 1 always on but not asked.
  const values = rows([0.1, 0.9, -0.5], [0.3, 0.9, 0.0], [0.8, 0.9, 0.31], [0.29, 0.9, 0.9]);
  assert.deepEqual(Array.from(unitsOnPerStep(values, 3, [0, 2], 0.3)), [0, 1, 2, 1]);
  // Exactly θ is on (LSTMVis compares >=); units outside the state size are ignored.
  assert.deepEqual(Array.from(unitsOnPerStep(values, 3, [0, 7], 0.3)), [0, 1, 1, 0]);
  assert.deepEqual(Array.from(unitsOnPerStep(values, 3, [], 0.3)), [0, 0, 0, 0]);
  assert.equal(unitsOnPerStep(new Float32Array(0), 3, [0], 0.3).length, 0);
});

test("a brush covers both dragged steps in either order, end exclusive, clipped to the sequence", () => {
  assert.deepEqual(brushRange(2.2, 5.4, 10), [2, 6]);
  assert.deepEqual(brushRange(5.4, 2.2, 10), [2, 6]);
  assert.deepEqual(brushRange(-3, 40, 10), [0, 10]);
  assert.deepEqual(brushRange(4, 4, 10), [4, 5]); // a click brushes one step
  assert.equal(brushRange(1, 2, 0), null);
  assert.equal(brushRange(Number.NaN, 2, 5), null);
  const brush = { sequence: 3, start: 2, end: 6 };
  assert.equal(validBrush(brush, 6), brush);
  assert.equal(validBrush(brush, 5), null); // the sequence is shorter at another checkpoint
  assert.equal(validBrush({ sequence: 0, start: 3, end: 3 }, 9), null);
});

test("the signature's off extents are clipped at the sequence's ends; off values are whole numbers in [0, 10]", () => {
  const brush = { sequence: 0, start: 0, end: 4 };
  assert.deepEqual(signatureRange(brush, 1, 2, 5), [0, 5]);
  assert.deepEqual(signatureRange({ ...brush, start: 2 }, 1, 0, 9), [1, 4]);
  assert.equal(clampOff(-2), 0);
  assert.equal(clampOff(2.6), 3);
  assert.equal(clampOff(99), 10);
  assert.equal(clampOff(Number.NaN), 0);
});

test("the value axis is the tanh range when the data fit it, else the data's own with the threshold inside", () => {
  assert.deepEqual(valueRange(Float32Array.from([-0.5, 0.9]), 0.3), [-1, 1]);
  const [lo, hi] = valueRange(Float32Array.from([0, 4]), 5);
  assert.ok(lo < 0 && hi > 5, `${lo}, ${hi}`);
  assert.deepEqual(valueRange(new Float32Array(0), 0.3), [-1, 1]);
});

test("a click picks the unit whose line passes nearest, interpolating between steps, within the tolerance", () => {
  const values = rows([0.0, 1.0], [1.0, 0.0]); // unit 0 rises, unit 1 falls
  assert.equal(nearestUnit(values, 2, 0, 0.05, 0.1), 0);
  assert.equal(nearestUnit(values, 2, 0, 0.95, 0.1), 1);
  assert.equal(nearestUnit(values, 2, 0.25, 0.25, 0.05), 0); // unit 0 is at 0.25 a quarter of the way
  assert.equal(nearestUnit(values, 2, 0.25, 0.5, 0.1), -1); // nothing that close
});

test("units toggle in and out, kept ascending", () => {
  assert.deepEqual(toggleUnit([3, 9], 5), [3, 5, 9]);
  assert.deepEqual(toggleUnit([3, 5, 9], 5), [3, 9]);
});

test("hits become their points, ascending and unique, inside the checkpoint", () => {
  const hits = [
    { point: 10, start: 2, end: 5 }, // points 10, 11, 12
    { point: 0, start: 0, end: 2 }, // 0, 1
    { point: 11, start: 3, end: 5 }, // 11, 12 again
    { point: 19, start: 1, end: 4 }, // 19 and two past the end
  ];
  assert.deepEqual(Array.from(hitPoints(hits, 20)), [0, 1, 10, 11, 12, 19]);
  assert.deepEqual(Array.from(hitPoints([], 20)), []);
});

test("a hit is shown with its context, inside its sequence", () => {
  assert.deepEqual(hitWindow({ start: 2, end: 5 }, 20, 4), [0, 9]);
  assert.deepEqual(hitWindow({ start: 10, end: 18 }, 20, 4), [6, 20]);
});

test("a result of another checkpoint is labelled with its step; the shown one's is not", () => {
  assert.equal(staleLabel(6, 6), "");
  assert.equal(staleLabel(4, 6), "matches of step 4 (step 6 shown)");
  assert.equal(staleLabel(4, null), "matches of step 4");
  assert.equal(staleLabel(null, 6), "");
});

test("the quality series lists answered steps in step order, failed ones left out", () => {
  assert.deepEqual(qualitySeries([0, 5, 10, 15], { 10: 0.5, 0: 0.25, 5: null }), [[0, 0.25], [10, 0.5]]);
});

test("reducers: a new brush, θ or off extent is a new /units question; Match and re-run bump the request", () => {
  let s = withBrush(INITIAL_LSTMVIS, { sequence: 1, start: 2, end: 5 });
  const key = selectionKey(s);
  assert.notEqual(key, "");
  assert.equal(selectionKey(INITIAL_LSTMVIS), "");
  assert.notEqual(selectionKey(withThreshold(s, 0.5)), key);
  assert.notEqual(selectionKey(withOff(s, 0, 1)), key);
  assert.equal(withThreshold(s, Number.NaN), s);
  assert.equal(withThreshold(s, 0.12345).threshold, 0.123);
  // Match needs units.
  assert.equal(withMatchRequested(s), s);
  s = withUnitToggled(withUnitToggled(s, 7), 3);
  assert.deepEqual(s.units, [3, 7]);
  const matched = withMatchRequested(s);
  assert.deepEqual(matched.query, { units: [3, 7], threshold: 0.3, offBefore: 1, offAfter: 0 });
  assert.equal(matched.runRequest, s.runRequest + 1);
  assert.equal(withRerunRequested(matched).runRequest, matched.runRequest + 1);
  assert.equal(withRerunRequested(s), s); // nothing to re-run before a first Match
  assert.equal(withUnitToggled(s, -1), s);
});

test("a sequence's state rows are those read for it on that checkpoint, else none", () => {
  const rows = Float32Array.from([2, 3, 4, 5]);
  const states = { checkpoint: "k", numUnits: 2, bySequence: new Map([[1, rows]]) };
  assert.equal(sequenceRows(states, "k", 1), rows);
  assert.equal(sequenceRows(states, "k", 0), null);
  assert.equal(sequenceRows(states, "other", 1), null);
  assert.equal(sequenceRows(null, "k", 1), null);
});

test("lit points are cleared when a checkpoint's data arrives (point indices change)", () => {
  const lit = { points: Int32Array.from([1, 2]), source: "matches", label: "2 match steps lit" };
  const data = { meta: { num_sequences: 2 } };
  const state = { ...INITIAL_STATE, data, lit };
  assert.equal(INITIAL_STATE.lit, null);
  assert.equal(withCheckpointData(state, { meta: { num_sequences: 2 } }).lit, null);
  assert.equal(withCheckpointData(state, null).lit, null);
});

test("the hypothesis round-trips through the URL; defaults are left out, malformed parts ignored", () => {
  const lstmvis = { theta: 0.45, units: [11, 3, 7], brush: { sequence: 4, start: 2, end: 9 }, off: [2, 1] };
  const hash = replaceHashState("#rnn_hidden", encodeUrlState({ run: "r", lstmvis }));
  const back = decodeUrlState(parseHash(hash).pairs);
  assert.deepEqual(back, { run: "r", lstmvis: { theta: 0.45, units: [3, 7, 11], brush: { sequence: 4, start: 2, end: 9 }, off: [2, 1] } });
  assert.deepEqual(encodeUrlState({ lstmvis: { theta: 0.3, units: [], off: [1, 0] } }), []);
  const bad = decodeUrlState([
    ["rh_theta", "x"], ["rh_units", "a,-1"], ["rh_brush", "1:5:5"], ["rh_off", "1,99"],
  ]);
  assert.deepEqual(bad, {});
  assert.deepEqual(decodeUrlState([["rh_brush", "1:2"], ["rh_units", "4,4,2"]]), { lstmvis: { units: [2, 4] } });
});

test("annotation cells: a category as its colour and name, a number on the sequential ramp from min to max", async () => {
  const { annotationCell, annotationTracks } = await import("../build/ui/annotation_cells.mjs");
  const { sequentialColor } = await import("../build/ui/colors.mjs");
  const pos = { name: "pos", kind: "categorical", categories: ["NN", "<b>VB</b>"], codes: Int32Array.from([1, 0, -1]) };
  assert.deepEqual(annotationCell(pos, 0).title, "pos: <b>VB</b>");
  assert.notEqual(annotationCell(pos, 0).color, annotationCell(pos, 1).color);
  assert.deepEqual(annotationCell(pos, 2), { color: "transparent", title: "pos: —" });
  const depth = { name: "depth", kind: "numeric", min: 0, max: 4, values: Float32Array.from([0, 4, 2, Number.NaN]) };
  assert.deepEqual(annotationCell(depth, 0), { color: sequentialColor(0), title: "depth: 0" });
  assert.deepEqual(annotationCell(depth, 1), { color: sequentialColor(1), title: "depth: 4" });
  assert.equal(annotationCell(depth, 2).color, sequentialColor(0.5));
  assert.notEqual(sequentialColor(0), sequentialColor(1));
  assert.equal(annotationCell(depth, 3).color, "transparent");
  assert.deepEqual(annotationTracks({ annotations: [pos] }), [pos]);
  assert.deepEqual(annotationTracks({}), []);
  assert.deepEqual(annotationTracks(null), []);
});

test("unitCount: one unit, otherwise units", () => {
  assert.equal(unitCount(1), "1 unit");
  assert.equal(unitCount(0), "0 units");
  assert.equal(unitCount(3), "3 units");
});
