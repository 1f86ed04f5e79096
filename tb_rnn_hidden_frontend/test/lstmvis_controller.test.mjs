// The LSTMVis controller (src/controllers/lstmvis.ts) against a server that answers `/units`,
// `/matches` and `/states?sequence=` as the plugin does, per checkpoint step. `fetch` (the network) is replaced.
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";

import { startLstmvis } from "../build/controllers/lstmvis.mjs";
import { INITIAL_STATE, withCheckpointData } from "../build/state/app_state.mjs";
import { sequenceRows, withBrush, withMatchRequested } from "../build/state/lstmvis.mjs";
import { createStore } from "../build/state/store.mjs";

const realFetch = globalThis.fetch;
afterEach(() => {
  globalThis.fetch = realFetch;
});

const json = (body) => new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });
const until = async (check) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.ok(check(), "the condition never held");
};

/** Two steps; at step 1 the units' match is sequence 1, steps 0-2 (points 3, 4); at step 0 a worse one. */
function fakeServer() {
  const calls = [];
  globalThis.fetch = async (url) => {
    const params = new URLSearchParams(url.split("?")[1]);
    calls.push(`${url.split("?")[0]} ${params.get("step")}`);
    if (url.startsWith("units?")) return json({ units: [2, 5], threshold: 0.3, start: 1, end: 3, off_before: 1, off_after: 0 });
    if (url.startsWith("matches?")) {
      const step = Number(params.get("step"));
      const hit = { sequence: 1, start: 0, end: 2, point: 3, length: 2, intersection: step === 1 ? 2 : 1, union: 2, k: 2, constraint: 2 };
      return json({ matches: [hit], units: [2, 5], threshold: 0.3, steps: 6, candidates: 1, quality: step === 1 ? 1 : 0.5 });
    }
    return json({});
  };
  return calls;
}

const info = { steps: [0, 1], wall_times: [0, 1], description: "", display_name: "" };
const checkpoint = (step) => ({
  key: `train/lstm/${step}`,
  step,
  meta: { num_sequences: 2, lengths: [3, 3], num_steps: 6, state_size: 8 },
  offsets: Int32Array.from([0, 3, 6]),
  pointSequence: Int32Array.from([0, 0, 0, 1, 1, 1]),
});

test("a brush asks /units; Match lights the hits, charts every step, and a result of another step is never lit", async () => {
  const calls = fakeServer();
  const store = createStore({ ...INITIAL_STATE, tags: { train: { lstm: info } }, run: "train", tag: "lstm", step: 1, data: checkpoint(1) });
  startLstmvis(store);
  store.set({ lstmvis: withBrush(store.get().lstmvis, { sequence: 0, start: 1, end: 3 }) });
  await until(() => store.get().lstmvis.unitsRequest.status === "done");
  assert.deepEqual(store.get().lstmvis.units, [2, 5]);

  store.set({ lstmvis: withMatchRequested(store.get().lstmvis) });
  await until(() => store.get().lstmvis.matches?.status === "done" && Object.keys(store.get().lstmvis.quality?.byStep ?? {}).length === 2);
  const { lit, lstmvis } = store.get();
  assert.deepEqual([...lit.points], [3, 4]);
  assert.equal(lit.source, "matches");
  assert.equal(lstmvis.matches.step, 1);
  assert.deepEqual(lstmvis.quality.byStep, { 0: 0.5, 1: 1 });

  // Another checkpoint shown: the lit points go (their indices are the old checkpoint's), the result stays step 1's.
  store.set({ ...withCheckpointData(store.get(), checkpoint(0)), step: 0 });
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(store.get().lit, null);
  assert.equal(store.get().lstmvis.matches.step, 1);
  assert.equal(calls.filter((c) => c === "matches 0").length, 1, calls); // the chart's only: not re-run unless kept

  // Kept: the query follows the checkpoint, and its hits are lit again.
  store.set({ lstmvis: { ...store.get().lstmvis, keep: true } });
  store.set({ ...withCheckpointData(store.get(), checkpoint(1)), step: 1 });
  await until(() => store.get().lit !== null);
  assert.equal(store.get().lstmvis.matches.step, 1);
  assert.equal(store.get().lstmvis.matches.checkpoint, "train/lstm/1");
});

test("a brush that does not fit its sequence is said, not asked", async () => {
  const calls = fakeServer();
  const store = createStore({ ...INITIAL_STATE, tags: { train: { lstm: info } }, run: "train", tag: "lstm", step: 1, data: checkpoint(1) });
  startLstmvis(store);
  store.set({ lstmvis: withBrush(store.get().lstmvis, { sequence: 1, start: 2, end: 9 }) });
  await until(() => store.get().lstmvis.unitsRequest.status === "failed");
  assert.match(store.get().lstmvis.unitsRequest.error, /steps 2–8 of sequence 1 are not in this checkpoint \(3 steps\)/);
  assert.ok(!calls.some((c) => c.startsWith("units")), calls);
});

/** One sequence's rows, [3, 8]: step t, unit u of sequence s at checkpoint step k is 1000k + 100s + 10t + u. */
const sequenceRowsOf = (step, sequence) => Float32Array.from({ length: 24 }, (_, i) => 1000 * step + 100 * sequence + 10 * Math.floor(i / 8) + (i % 8));

/**
 * A server answering `/states?sequence=` with those rows (float32, as asked), and `/matches`
 * with one hit in sequence 2; sequences in `slow` answer only when their request is aborted
 * (never, unless the controller aborts it). Records every states request.
 */
function statesServer({ slow = new Set(), failing = new Set() } = {}) {
  const asked = [];
  const aborted = [];
  globalThis.fetch = async (url, init) => {
    const params = new URLSearchParams(url.split("?")[1]);
    if (url.startsWith("matches?")) {
      const hit = { sequence: 2, start: 0, end: 2, point: 6, length: 2, intersection: 2, union: 2, k: 2, constraint: 2 };
      return json({ matches: [hit], units: [2, 5], threshold: 0.3, steps: 9, candidates: 1, quality: 1 });
    }
    if (!url.startsWith("states?")) return json({});
    const sequence = Number(params.get("sequence"));
    asked.push({ step: Number(params.get("step")), sequence: params.get("sequence"), dtype: params.get("dtype") });
    if (slow.has(sequence)) {
      return new Promise((_, reject) => init.signal.addEventListener("abort", () => {
        aborted.push(sequence);
        reject(new DOMException("aborted", "AbortError"));
      }));
    }
    if (failing.has(sequence)) return new Response(JSON.stringify({ error: "corrupt hidden-state record: states" }), { status: 500 });
    const body = sequenceRowsOf(Number(params.get("step")), sequence);
    return new Response(body.buffer, { status: 200, headers: { "X-Array-Shape": "3,8", "X-Array-Dtype": "float32" } });
  };
  return { asked, aborted };
}

const threeSequences = (step) => ({
  ...checkpoint(step),
  meta: { num_sequences: 3, lengths: [3, 3, 3], num_steps: 9, state_size: 8 },
  offsets: Int32Array.from([0, 3, 6, 9]),
  pointSequence: Int32Array.from([0, 0, 0, 1, 1, 1, 2, 2, 2]),
});
const openStore = (focus) => createStore({
  ...INITIAL_STATE, tags: { train: { lstm: info } }, run: "train", tag: "lstm", step: 1, data: threeSequences(1), focus,
  lstmvis: { ...INITIAL_STATE.lstmvis, open: true },
});
const rowsOf = (store, sequence) => sequenceRows(store.get().lstmvis.states, store.get().data.key, sequence);

test("the focused sequence's states are read alone (never the whole checkpoint), kept, and read again for a new checkpoint", async () => {
  const { asked } = statesServer();
  const store = openStore(1);
  startLstmvis(store);
  await until(() => rowsOf(store, 1) !== null);
  assert.deepEqual([...rowsOf(store, 1)], [...sequenceRowsOf(1, 1)]);
  assert.equal(store.get().lstmvis.states.numUnits, 8);

  store.set({ focus: 0 });
  await until(() => rowsOf(store, 0) !== null);
  assert.deepEqual([...rowsOf(store, 0)], [...sequenceRowsOf(1, 0)]);
  store.set({ focus: 1 }); // kept: not asked again
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(asked, [{ step: 1, sequence: "1", dtype: "float32" }, { step: 1, sequence: "0", dtype: "float32" }]);

  store.set({ ...withCheckpointData(store.get(), threeSequences(0)), step: 0 });
  await until(() => rowsOf(store, 1) !== null);
  assert.deepEqual([...rowsOf(store, 1)], [...sequenceRowsOf(0, 1)]);
  assert.equal(rowsOf(store, 0), null); // the other checkpoint's rows are gone
  assert.ok(asked.every((a) => a.sequence !== null), "a request without a sequence (the whole checkpoint)");
});

test("a request for a sequence no longer focused is aborted and its rows never shown", async () => {
  const { asked, aborted } = statesServer({ slow: new Set([2]) });
  const store = openStore(2);
  startLstmvis(store);
  await until(() => asked.length === 1);
  store.set({ focus: 0 });
  await until(() => rowsOf(store, 0) !== null);
  assert.deepEqual(aborted, [2]);
  assert.equal(rowsOf(store, 2), null);
  assert.equal(store.get().lstmvis.statesError, null);
});

test("closed, nothing is read; the hits' sequences are read after the focused one; a failure is said for its sequence", async () => {
  const { asked } = statesServer({ failing: new Set([1]) });
  const store = openStore(0);
  store.set({ lstmvis: { ...store.get().lstmvis, open: false } });
  startLstmvis(store);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(asked, []);

  store.set({ lstmvis: { ...store.get().lstmvis, open: true, units: [2, 5] } });
  await until(() => rowsOf(store, 0) !== null);
  store.set({ lstmvis: withMatchRequested(store.get().lstmvis) });
  await until(() => rowsOf(store, 2) !== null); // the hit's sequence, for its heat map
  assert.deepEqual(asked.map((a) => a.sequence), ["0", "2"]);

  store.set({ focus: 1 });
  await until(() => store.get().lstmvis.statesError !== null);
  assert.match(store.get().lstmvis.statesError, /sequence 1: corrupt hidden-state record: states/);
  store.set({ focus: 0 });
  await until(() => store.get().lstmvis.statesError === null);
  assert.notEqual(rowsOf(store, 0), null);
});
