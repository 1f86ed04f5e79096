// Unit tests of the selection store. `npm test` first bundles src/store.ts to
// build/store.mjs with esbuild (no ts-node or @types/node needed).
import assert from "node:assert/strict";
import { test } from "node:test";

import { createStore, EMPTY_SELECTION, normalizeSelection } from "../build/store.mjs";

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
