// Unit tests of annotation tracks (src/domain/annotations.ts): decoding, colour scale positions,
// the projection's "annotation:<name>" colourings and their URL state, and filters as lit points.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  annotationColorBy,
  annotationOfColorBy,
  decodeTrack,
  filterLabel,
  filterPoints,
  isColorBy,
  trackOfColorBy,
  trackPosition,
  trackText,
} from "../build/domain/annotations.mjs";
import { INITIAL_STATE, withCheckpointData } from "../build/state/app_state.mjs";
import { decodeUrlState, encodeUrlState, parseHash, replaceHashState } from "../build/state/url_state.mjs";

const HOSTILE = "<img src=x onerror=alert(1)>";
const POS = { name: "pos", kind: "categorical", categories: ["NN", "VB", HOSTILE] };
const DEPTH = { name: "depth", kind: "numeric", min: 0, max: 4 };
const pos = decodeTrack(POS, new Int32Array([0, 1, 2, 0, 7, -1]), 6);
const depth = decodeTrack(DEPTH, new Float32Array([0, 1, 2, 4, 3, Number.NaN]), 6);

test("decodeTrack keeps the served values; codes outside the categories become none (-1)", () => {
  assert.equal(pos.kind, "categorical");
  assert.deepEqual([...pos.codes], [0, 1, 2, 0, -1, -1]);
  assert.deepEqual(pos.categories, ["NN", "VB", HOSTILE]);
  assert.equal(depth.kind, "numeric");
  assert.deepEqual([depth.min, depth.max], [0, 4]);
});

test("decodeTrack refuses values that do not fit the checkpoint or the kind", () => {
  assert.throws(() => decodeTrack(POS, new Int32Array(5), 6), /"pos" has 5 values, expected 6/);
  assert.throws(() => decodeTrack(POS, new Float32Array(6), 6), /categorical/);
  assert.throws(() => decodeTrack(DEPTH, new Int32Array(6), 6), /numeric/);
});

test("a numeric track without a finite range in the header takes its values' range", () => {
  const t = decodeTrack({ name: "x", kind: "numeric", min: null, max: null }, new Float32Array([3, Number.NaN, -2, 5]), 4);
  assert.deepEqual([t.min, t.max], [-2, 5]);
  const none = decodeTrack({ name: "x", kind: "numeric", min: null, max: null }, new Float32Array([Number.NaN]), 1);
  assert.deepEqual([none.min, none.max], [0, 0]);
});

test("positions on the colour scale: category codes, numbers in [0, 1] between min and max", () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((p) => trackPosition(pos, p)), [0, 1, 2, 0, -1, -1]);
  assert.deepEqual([0, 1, 2, 3, 4].map((p) => trackPosition(depth, p)), [0, 0.25, 0.5, 1, 0.75]);
  assert.ok(Number.isNaN(trackPosition(depth, 5)));
  const flat = decodeTrack({ name: "f", kind: "numeric", min: 2, max: 2 }, new Float32Array([2]), 1);
  assert.equal(trackPosition(flat, 0), 0);
  const beyond = decodeTrack({ name: "b", kind: "numeric", min: 0, max: 1 }, new Float32Array([-1, 2]), 2);
  assert.deepEqual([trackPosition(beyond, 0), trackPosition(beyond, 1)], [0, 1]);
});

test("what a track says at a point, as text", () => {
  assert.deepEqual([0, 2, 4].map((p) => trackText(pos, p)), ["NN", HOSTILE, "—"]);
  assert.deepEqual([1, 5].map((p) => trackText(depth, p)), ["1", "—"]);
  const frac = decodeTrack({ name: "f", kind: "numeric", min: 0, max: 1 }, new Float32Array([1 / 3]), 1);
  assert.equal(trackText(frac, 0), "0.3333");
});

test("filters light the steps they keep, ascending", () => {
  const tracks = [pos, depth];
  assert.deepEqual([...filterPoints(tracks, { track: "pos", kind: "categorical", category: "NN" })], [0, 3]);
  assert.deepEqual([...filterPoints(tracks, { track: "pos", kind: "categorical", category: HOSTILE })], [2]);
  assert.deepEqual([...filterPoints(tracks, { track: "depth", kind: "numeric", low: 1, high: 3 })], [1, 2, 4]);
  // Bounds in either order; NaN never kept.
  assert.deepEqual([...filterPoints(tracks, { track: "depth", kind: "numeric", low: 4, high: 3 })], [3, 4]);
  // Unknown track, category or kind: nothing.
  assert.equal(filterPoints(tracks, { track: "nope", kind: "categorical", category: "NN" }).length, 0);
  assert.equal(filterPoints(tracks, { track: "pos", kind: "categorical", category: "JJ" }).length, 0);
  assert.equal(filterPoints(tracks, { track: "pos", kind: "numeric", low: 0, high: 9 }).length, 0);
  assert.equal(filterLabel({ track: "pos", kind: "categorical", category: "NN" }), "pos = NN");
  assert.equal(filterLabel({ track: "depth", kind: "numeric", low: 3, high: 1.5 }), "depth in [1.5, 3]");
});

test("annotation colourings name their track, and find it in the checkpoint", () => {
  assert.equal(annotationColorBy("pos"), "annotation:pos");
  assert.equal(annotationOfColorBy("annotation:a:b"), "a:b");
  assert.equal(annotationOfColorBy("prediction"), null);
  assert.equal(trackOfColorBy("annotation:depth", [pos, depth]), depth);
  assert.equal(trackOfColorBy("annotation:gone", [pos, depth]), null);
  assert.equal(trackOfColorBy("label", [pos, depth]), null);
  assert.ok(isColorBy("annotation:pos", ["prediction"]));
  assert.ok(!isColorBy("annotation:", ["prediction"]));
  assert.ok(!isColorBy("bogus", ["prediction"]));
});

test("an annotation colouring round-trips through the URL; a malformed one is ignored", () => {
  const hash = replaceHashState("#rnn_hidden", encodeUrlState({ colorBy: "annotation:pos tag & <x>" }));
  assert.equal(decodeUrlState(parseHash(hash).pairs).colorBy, "annotation:pos tag & <x>");
  assert.equal(decodeUrlState([["rh_color", "annotation:"]]).colorBy, undefined);
  assert.equal(decodeUrlState([["rh_color", "annotations"]]).colorBy, undefined);
});

test("lit points are cleared with the checkpoint (their indices change)", () => {
  const lit = { points: new Int32Array([1, 2]), source: "filter", label: "pos = NN" };
  const state = { ...INITIAL_STATE, lit, neighbors: { ...INITIAL_STATE.neighbors, pinned: 3, point: 3 } };
  const data = { meta: { num_sequences: 2 }, annotations: [] };
  const next = withCheckpointData(state, data);
  assert.equal(next.lit, null);
  assert.equal(next.neighbors.pinned, null);
  assert.equal(next.neighbors.point, null);
  assert.equal(INITIAL_STATE.lit, null);
});

test("the filter lights its steps, again on the next checkpoint, unless something else was lit since", async () => {
  const { createStore } = await import("../build/state/store.mjs");
  const { startAnnotationFilter } = await import("../build/controllers/annotation_filter.mjs");
  const checkpoint = (key, codes) => ({
    key, meta: { num_sequences: 1 }, annotations: [decodeTrack(POS, Int32Array.from(codes), codes.length)],
  });
  const settle = () => new Promise((resolve) => queueMicrotask(resolve));
  const store = createStore({ ...INITIAL_STATE, data: checkpoint("a", [0, 1, 0, 2]) });
  startAnnotationFilter(store);
  store.set({ annotationFilter: { track: "pos", kind: "categorical", category: "NN" } });
  await settle();
  assert.deepEqual([...store.get().lit.points], [0, 2]);
  assert.equal(store.get().lit.label, "pos = NN: 2 steps");
  store.set(withCheckpointData(store.get(), checkpoint("b", [1, 0, 0, 0, 1])));
  await settle();
  assert.deepEqual([...store.get().lit.points], [1, 2, 3]);
  // A checkpoint without the track lights nothing, the one after it lights again.
  store.set(withCheckpointData(store.get(), { key: "c", meta: { num_sequences: 1 }, annotations: [] }));
  await settle();
  assert.equal(store.get().lit, null);
  store.set(withCheckpointData(store.get(), checkpoint("d", [0])));
  await settle();
  assert.deepEqual([...store.get().lit.points], [0]);
  // Something else lit: the next checkpoint does not bring the filter back.
  store.set({ lit: { points: new Int32Array([0]), source: "search", label: "x" } });
  store.set(withCheckpointData(store.get(), checkpoint("e", [0, 0])));
  await settle();
  assert.equal(store.get().lit, null);
  // Clearing the filter puts its light out.
  store.set({ annotationFilter: { track: "pos", kind: "categorical", category: "NN" } });
  await settle();
  assert.equal(store.get().lit.source, "filter");
  store.set({ annotationFilter: null });
  await settle();
  assert.equal(store.get().lit, null);
});

test("annotation cells: a category in its hue with its name, a number on the ramp, nothing transparent", async () => {
  const { annotationCell, annotationTracks, categoryColor } = await import("../build/ui/annotation_cells.mjs");
  assert.deepEqual(annotationCell(pos, 2), { color: categoryColor(2), title: `pos: ${HOSTILE}` });
  assert.notEqual(annotationCell(pos, 0).color, annotationCell(pos, 1).color);
  assert.deepEqual(annotationCell(pos, 4), { color: "transparent", title: "pos: —" });
  // Viridis ends, as the projection's time and annotation ramps.
  assert.deepEqual(annotationCell(depth, 0), { color: "rgb(68, 1, 84)", title: "depth: 0" });
  assert.deepEqual(annotationCell(depth, 3), { color: "rgb(253, 231, 37)", title: "depth: 4" });
  assert.equal(annotationCell(depth, 5).color, "transparent");
  assert.deepEqual(annotationTracks({ annotations: [pos] }), [pos]);
  assert.deepEqual(annotationTracks({}), []);
  assert.deepEqual(annotationTracks(null), []);
});
