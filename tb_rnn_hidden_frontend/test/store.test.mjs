// Unit tests of the store, the app state and the selection reducers. `npm test` first bundles
// src/state/*.ts to build/state/*.mjs with esbuild (no ts-node or @types/node needed).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  EMPTY_SELECTION,
  INITIAL_STATE,
  jsonEqual,
  normalizeSelection,
  sameSelection,
  stepsOf,
  withCheckpointData,
  withSelection,
  withTags,
} from "../build/state/app_state.mjs";
import { brushPoints, hoverPoint, pointsOf, selectSequences, setDistanceRange } from "../build/state/selection.mjs";
import { createStore } from "../build/state/store.mjs";

const info = (steps) => ({
  steps,
  wall_times: steps.map((s) => 1700000000 + s),
  description: "",
  display_name: "",
});
const TAGS = {
  train: { "lstm/1": info([0, 10, 20]), "lstm/2": info([5]) },
  eval: { "lstm/2": info([7, 9]) },
};

test("set notifies subscribers with the new and previous state", () => {
  const store = createStore({ run: null, tag: null, step: null });
  const calls = [];
  store.subscribe((state, previous) => calls.push([state, previous]));
  store.set({ run: "a", step: 3 });
  assert.deepEqual(store.get(), { run: "a", tag: null, step: 3 });
  assert.equal(calls.length, 1);
  assert.deepEqual(calls[0][1], { run: null, tag: null, step: null });
});

test("set without a real change does not notify", () => {
  const store = createStore({ run: "a", tag: null, step: 1 });
  let calls = 0;
  store.subscribe(() => calls++);
  store.set({ run: "a" });
  store.set({});
  assert.equal(calls, 0);
});

test("unsubscribe stops notifications", () => {
  const store = createStore({ step: 0 });
  let calls = 0;
  const unsubscribe = store.subscribe(() => calls++);
  store.set({ step: 1 });
  unsubscribe();
  store.set({ step: 2 });
  assert.equal(calls, 1);
});

test("state objects are replaced, not mutated", () => {
  const store = createStore({ step: 0 });
  const before = store.get();
  store.set({ step: 1 });
  assert.equal(before.step, 0);
});

test("normalizeSelection picks first run and tag and the latest step", () => {
  assert.deepEqual(normalizeSelection(TAGS, EMPTY_SELECTION), {
    run: "eval",
    tag: "lstm/2",
    step: 9,
  });
});

test("normalizeSelection keeps valid choices and repairs invalid ones", () => {
  assert.deepEqual(normalizeSelection(TAGS, { run: "train", tag: "lstm/1", step: 10 }), {
    run: "train",
    tag: "lstm/1",
    step: 10,
  });
  // Switching run keeps the tag if the new run has it, but not a missing step.
  assert.deepEqual(normalizeSelection(TAGS, { run: "eval", tag: "lstm/2", step: 5 }), {
    run: "eval",
    tag: "lstm/2",
    step: 9,
  });
  assert.deepEqual(normalizeSelection(TAGS, { run: "eval", tag: "lstm/1", step: 10 }), {
    run: "eval",
    tag: "lstm/2",
    step: 9,
  });
});

test("normalizeSelection ignores Object.prototype names and empty data", () => {
  assert.equal(normalizeSelection(TAGS, { run: "constructor", tag: null, step: null }).run, "eval");
  assert.deepEqual(normalizeSelection({}, { run: "x", tag: "y", step: 1 }), EMPTY_SELECTION);
  assert.deepEqual(normalizeSelection({ r: {} }, EMPTY_SELECTION), { run: "r", tag: null, step: null });
});

// --- The `tags` listing in the store (polled from the backend) ---

/** A fresh copy, as a new `tags` response would be: equal, but not the same objects. */
const copy = (value) => JSON.parse(JSON.stringify(value));

/** A store as index.ts builds it, after a first `tags` response and a user choice. */
function storeOn(tags, wanted = {}) {
  const store = createStore(INITIAL_STATE);
  store.set(withTags(store.get(), tags));
  store.set(withSelection(store.get(), wanted));
  return store;
}

/** The part of the state these tests are about: the listing and the selection in it. */
const view = (state) => ({ tags: state.tags, run: state.run, tag: state.tag, step: state.step });

test("the first tags listing selects the first run and tag at the latest step", () => {
  const store = createStore(INITIAL_STATE);
  assert.deepEqual(view(store.get()), { tags: {}, run: null, tag: null, step: null });
  store.set(withTags(store.get(), TAGS));
  assert.deepEqual(view(store.get()), { tags: TAGS, run: "eval", tag: "lstm/2", step: 9 });
});

test("new checkpoints keep the selected step, also when it was the latest one", () => {
  for (const step of [10, 20]) {
    const store = storeOn(TAGS, { run: "train", tag: "lstm/1", step });
    const grown = copy(TAGS);
    grown.train["lstm/1"] = info([0, 10, 20, 30, 40]);
    store.set(withTags(store.get(), grown));
    assert.deepEqual(
      { ...view(store.get()), tags: undefined },
      { tags: undefined, run: "train", tag: "lstm/1", step },
      `selected step ${step} must stay`,
    );
    assert.deepEqual(stepsOf(store.get()), [0, 10, 20, 30, 40]);
    assert.equal(store.get().tags, grown);
  }
});

test("new runs and tags are listed, and the selection stays", () => {
  const store = storeOn(TAGS, { run: "train", tag: "lstm/1", step: 0 });
  const more = copy(TAGS);
  more.train["gru/1"] = info([3]);
  more.aaa = { x: info([1]) }; // sorts first, but must not steal the selection
  store.set(withTags(store.get(), more));
  assert.deepEqual(view(store.get()), { tags: more, run: "train", tag: "lstm/1", step: 0 });
});

test("an equal tags listing changes nothing and notifies nobody", () => {
  const store = storeOn(TAGS, { run: "train", tag: "lstm/1", step: 10 });
  const before = store.get();
  let calls = 0;
  store.subscribe(() => calls++);
  // Equal content, other objects, other key order: as a poll returns it.
  const same = { eval: copy(TAGS.eval), train: { "lstm/2": copy(TAGS.train["lstm/2"]), "lstm/1": copy(TAGS.train["lstm/1"]) } };
  store.set(withTags(store.get(), same));
  assert.equal(calls, 0);
  assert.equal(store.get(), before);
  assert.equal(store.get().tags, TAGS);
});

test("a tags-only change notifies with the selection unchanged", () => {
  const store = storeOn(TAGS, { run: "eval", tag: "lstm/2", step: 7 });
  const calls = [];
  store.subscribe((state, previous) => calls.push(sameSelection(state, previous)));
  const grown = copy(TAGS);
  grown.eval["lstm/2"] = info([7, 9, 11]);
  store.set(withTags(store.get(), grown));
  assert.deepEqual(calls, [true]);
});

test("a removed tag falls back to the run's first tag at its latest step", () => {
  const store = storeOn(TAGS, { run: "train", tag: "lstm/2", step: 5 });
  const fewer = copy(TAGS);
  delete fewer.train["lstm/2"];
  store.set(withTags(store.get(), fewer));
  assert.deepEqual(view(store.get()), { tags: fewer, run: "train", tag: "lstm/1", step: 20 });
});

test("a removed run falls back to the first run, keeping the tag if it has it", () => {
  const store = storeOn(TAGS, { run: "train", tag: "lstm/2", step: 5 });
  const fewer = copy(TAGS);
  delete fewer.train;
  store.set(withTags(store.get(), fewer));
  assert.deepEqual(view(store.get()), { tags: fewer, run: "eval", tag: "lstm/2", step: 9 });
});

test("a removed step (e.g. dropped by sampling) falls back to the latest step", () => {
  const store = storeOn(TAGS, { run: "train", tag: "lstm/1", step: 10 });
  const sampled = copy(TAGS);
  sampled.train["lstm/1"] = info([0, 20, 30]);
  store.set(withTags(store.get(), sampled));
  assert.equal(store.get().step, 30);
});

test("data arriving in an empty logdir selects it; data vanishing clears the selection", () => {
  const store = storeOn({});
  assert.deepEqual(store.get(), INITIAL_STATE);
  store.set(withTags(store.get(), copy(TAGS)));
  assert.deepEqual(normalizeSelection(TAGS, EMPTY_SELECTION), {
    run: store.get().run,
    tag: store.get().tag,
    step: store.get().step,
  });
  store.set(withTags(store.get(), {}));
  assert.deepEqual(view(store.get()), { tags: {}, ...EMPTY_SELECTION });
});

test("withSelection repairs a choice against the current tags", () => {
  const store = storeOn(TAGS, { run: "train", tag: "lstm/1", step: 0 });
  store.set(withSelection(store.get(), { run: "eval" })); // eval has no lstm/1
  assert.deepEqual(view(store.get()), { tags: TAGS, run: "eval", tag: "lstm/2", step: 9 });
  store.set(withSelection(store.get(), { step: 7 }));
  assert.equal(store.get().step, 7);
  store.set(withSelection(store.get(), { step: 8 })); // not logged
  assert.equal(store.get().step, 9);
});

test("stepsOf lists the selected tag's steps", () => {
  assert.deepEqual(stepsOf(storeOn(TAGS, { run: "train", tag: "lstm/1" }).get()), [0, 10, 20]);
  assert.deepEqual(stepsOf(INITIAL_STATE), []);
  assert.deepEqual(stepsOf({ tags: TAGS, run: "constructor", tag: "lstm/1", step: null }), []);
});

test("jsonEqual compares JSON values structurally", () => {
  assert.ok(jsonEqual({ a: [1, { b: "x" }], c: null }, { c: null, a: [1, { b: "x" }] }));
  assert.ok(!jsonEqual({ a: [1, 2] }, { a: [1, 2, 3] }));
  assert.ok(!jsonEqual({ a: 1 }, { a: 1, b: undefined }));
  assert.ok(!jsonEqual({ a: 1 }, { b: 1 }));
  assert.ok(!jsonEqual([], {}));
  assert.ok(!jsonEqual({ 0: "x" }, ["x"]));
  assert.ok(!jsonEqual(null, {}));
  assert.ok(!jsonEqual(1, "1"));
  assert.ok(!jsonEqual({ x: undefined }, { y: undefined })); // same size, other keys
  assert.ok(!jsonEqual({}, { constructor: 1 }) && !jsonEqual({ constructor: 1 }, {}));
});

const fakeData = (n) => ({ meta: { num_sequences: n } });

test("a new checkpoint of the same sequences keeps the selection and clears point links", () => {
  const state = {
    ...INITIAL_STATE, data: fakeData(5), selected: [1, 3], focus: 3, hover: 7,
    brushed: new Int32Array([7, 8]), distanceRange: [0.2, 0.4],
  };
  const next = withCheckpointData(state, fakeData(5));
  assert.deepEqual(next.selected, [1, 3]);
  assert.equal(next.selected, state.selected); // same array: no spurious notifications
  assert.equal(next.focus, 3);
  assert.equal(next.hover, null);
  assert.equal(next.brushed, null);
  assert.equal(next.distanceRange, null);
});

test("a checkpoint of other sequences clears the selection; the first data keeps the URL's", () => {
  const state = { ...INITIAL_STATE, data: fakeData(5), selected: [1, 3], focus: 3 };
  const other = withCheckpointData(state, fakeData(8));
  assert.deepEqual(other.selected, []);
  assert.equal(other.focus, null);
  const fromUrl = { ...INITIAL_STATE, selected: [2, 9], focus: 9 };
  const first = withCheckpointData(fromUrl, fakeData(5));
  assert.deepEqual(first.selected, [2]); // 9 does not exist
  assert.equal(first.focus, null);
});

test("selectSequences sorts, dedupes and keeps or picks the focus", () => {
  const state = { ...INITIAL_STATE, focus: 4 };
  assert.deepEqual(selectSequences(state, [5, 4, 5, 1]), { selected: [1, 4, 5], focus: 4 });
  assert.deepEqual(selectSequences(state, [7, 2]), { selected: [2, 7], focus: 2 });
  assert.deepEqual(selectSequences(state, [7, 2], 7), { selected: [2, 7], focus: 7 });
  assert.deepEqual(selectSequences(state, []), { selected: [], focus: null });
});

/** Checkpoint data with sequences of `lengths` (only what the link rules read). */
const pointData = (lengths) => {
  const offsets = new Int32Array(lengths.length + 1);
  lengths.forEach((len, i) => (offsets[i + 1] = offsets[i] + len));
  const pointSequence = new Int32Array(offsets[lengths.length]);
  lengths.forEach((_, i) => pointSequence.fill(i, offsets[i], offsets[i + 1]));
  return { meta: { num_sequences: lengths.length }, offsets, pointSequence };
};

test("brushPoints selects the brushed points' sequences and keeps the focus among them", () => {
  const data = pointData([3, 2, 4, 1]); // points 0-2 | 3-4 | 5-8 | 9
  const state = { ...INITIAL_STATE, data, selected: [0], focus: 2 };
  const next = brushPoints(state, [8, 3, 6, 3, 99, -1]);
  assert.deepEqual([...next.brushed], [3, 6, 8]);
  assert.ok(next.brushed instanceof Int32Array);
  assert.deepEqual(next.selected, [1, 2]);
  assert.equal(next.focus, 2); // kept: among the brushed sequences
  const away = brushPoints({ ...state, focus: 0 }, [9, 4]);
  assert.deepEqual(away.selected, [1, 3]);
  assert.equal(away.focus, 1); // the old focus is not brushed: the first is
});

test("an empty brush clears only the brush; without data nothing is brushed", () => {
  const data = pointData([2, 2]);
  const state = { ...INITIAL_STATE, data, selected: [1], focus: 1, brushed: new Int32Array([2]) };
  assert.deepEqual(brushPoints(state, []), { brushed: null });
  assert.deepEqual(brushPoints(state, [7]), { brushed: null });
  assert.deepEqual(brushPoints({ ...INITIAL_STATE }, [0]), { brushed: null });
});

test("hoverPoint accepts only points of the checkpoint", () => {
  const state = { ...INITIAL_STATE, data: pointData([3, 2]) };
  assert.deepEqual(hoverPoint(state, 4), { hover: 4 });
  assert.deepEqual(hoverPoint(state, 0), { hover: 0 });
  assert.deepEqual(hoverPoint(state, 5), { hover: null });
  assert.deepEqual(hoverPoint(state, -1), { hover: null });
  assert.deepEqual(hoverPoint(state, 1.5), { hover: null });
  assert.deepEqual(hoverPoint(state, null), { hover: null });
  assert.deepEqual(hoverPoint(INITIAL_STATE, 0), { hover: null });
});

test("setDistanceRange orders, clamps and drops empty ranges", () => {
  assert.deepEqual(setDistanceRange([0.6, 0.2]), { distanceRange: [0.2, 0.6] });
  assert.deepEqual(setDistanceRange([-0.5, 1.5]), { distanceRange: [0, 1] });
  assert.deepEqual(setDistanceRange([0.3, 0.301]), { distanceRange: null });
  assert.deepEqual(setDistanceRange([0.3, NaN]), { distanceRange: null });
  assert.deepEqual(setDistanceRange(null), { distanceRange: null });
});

test("pointsOf gives a sequence's point range", () => {
  const data = pointData([3, 2, 4]);
  assert.deepEqual(pointsOf(data, 0), [0, 3]);
  assert.deepEqual(pointsOf(data, 2), [5, 9]);
});
