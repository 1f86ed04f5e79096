// Unit tests of compare mode's plumbing: Procrustes (src/domain/procrustes.ts), B's view of the
// store (src/state/side_store.ts), the compare reducers and the URL keys.
import assert from "node:assert/strict";
import { test } from "node:test";

import { applySimilarity, fitSimilarity, rmsDistance } from "../build/domain/procrustes.mjs";
import { createStore } from "../build/state/store.mjs";
import { INITIAL_STATE } from "../build/state/app_state.mjs";
import { createSideStore, sideView } from "../build/state/side_store.mjs";
import { withCompareB, withCompareOn, withCompareOff } from "../build/state/compare_actions.mjs";
import { decodeUrlState, encodeUrlState } from "../build/state/url_state.mjs";

/** A deterministic cloud of `n` points with some structure. */
function cloud(n, seed = 1) {
  let s = seed;
  const rand = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const cls = i % 3;
    out[2 * i] = cls * 4 + rand();
    out[2 * i + 1] = (cls === 1 ? 3 : 0) + rand() * 2;
  }
  return out;
}

/** `points` rotated by `angle`, scaled, shifted, optionally mirrored first (x, y) -> (x, -y). */
function transform(points, angle, scale, dx, dy, mirror) {
  const out = new Float32Array(points.length);
  for (let i = 0; i < points.length; i += 2) {
    const x = points[i];
    const y = mirror ? -points[i + 1] : points[i + 1];
    out[i] = scale * (Math.cos(angle) * x - Math.sin(angle) * y) + dx;
    out[i + 1] = scale * (Math.sin(angle) * x + Math.cos(angle) * y) + dy;
  }
  return out;
}

test("Procrustes undoes a rotation, scale and shift", () => {
  const fixed = cloud(300);
  const moving = transform(fixed, 2.1, 0.37, -5, 12, false);
  const t = fitSimilarity(fixed, moving);
  assert.equal(t.reflected, false);
  assert.ok(rmsDistance(applySimilarity(moving, t), fixed) < 1e-4);
});

test("Procrustes undoes a mirror image (t-SNE fixes no handedness)", () => {
  const fixed = cloud(300, 7);
  const moving = transform(fixed, -0.8, 3, 1, 1, true);
  const t = fitSimilarity(fixed, moving);
  assert.equal(t.reflected, true);
  assert.ok(rmsDistance(applySimilarity(moving, t), fixed) < 1e-4);
});

test("Procrustes with noise beats doing nothing and every other rotation tried", () => {
  const fixed = cloud(400, 3);
  const noisy = transform(fixed, 1.0, 1, 0, 0, false).map((v, i) => v + ((i * 7919) % 13) / 40);
  const fitted = applySimilarity(noisy, fitSimilarity(fixed, noisy));
  const best = rmsDistance(fitted, fixed);
  assert.ok(best < rmsDistance(noisy, fixed));
  for (let k = 0; k < 24; k++) {
    const tried = transform(noisy, (k * Math.PI) / 12, 1, 0, 0, false);
    const t = fitSimilarity(fixed, tried);
    // Any start leads to the same fit (the optimum is global).
    assert.ok(Math.abs(rmsDistance(applySimilarity(tried, t), fixed) - best) < 1e-3);
  }
});

test("Procrustes refuses layouts of different points", () => {
  assert.throws(() => fitSimilarity(new Float32Array(4), new Float32Array(6)), /same points/);
});

const TAGS = {
  lstm_run: { lstm: { steps: [0, 1, 2, 3] } },
  gru_run: { gru: { steps: [0, 1, 2, 3] } },
};

function listed() {
  return { ...INITIAL_STATE, tags: TAGS, run: "lstm_run", tag: "lstm", step: 3, requests: { ...INITIAL_STATE.requests, tagsLoaded: true } };
}

test("turning compare on: B is the checkpoint shown and A the one before it", () => {
  const on = withCompareOn(listed());
  assert.equal(on.compare.on, true);
  assert.deepEqual([on.compare.b.run, on.compare.b.tag, on.compare.b.step], ["lstm_run", "lstm", 3]);
  assert.equal(on.step, 2);
  const off = withCompareOff(on);
  assert.equal(off.compare.on, false);
  // B is remembered: on again, A stays where it is.
  const again = withCompareOn({ ...off, step: 1 });
  assert.equal(again.step, 1);
  assert.equal(again.compare.b.step, 3);
});

test("choosing B repairs it to the listing and drops the old pair's answer", () => {
  const on = { ...withCompareOn(listed()), compare: { ...withCompareOn(listed()).compare, answer: { fake: true } } };
  const other = withCompareB(on, { run: "gru_run" });
  // The run's only tag, its latest step.
  assert.deepEqual([other.compare.b.run, other.compare.b.tag, other.compare.b.step], ["gru_run", "gru", 3]);
  assert.equal(other.compare.answer, null);
});

test("B's store reads B's checkpoint and writes links to the shared store", () => {
  const store = createStore(withCompareOn(listed()));
  const side = createSideStore(store);
  assert.equal(side.get().step, 3);
  assert.equal(store.get().step, 2);
  const seen = [];
  side.subscribe((state, previous) => seen.push([previous.hover, state.hover]));
  side.set({ hover: 17 });
  assert.equal(store.get().hover, 17);
  assert.deepEqual(seen, [[null, 17]]);
  // B's own fields go to compare.b, never to A's.
  const data = { meta: { num_sequences: 2 } };
  store.set({ brushed: new Int32Array([1, 2]) });
  side.set({ ...side.get(), data, hover: null, brushed: null });
  assert.equal(store.get().compare.b.data, data);
  assert.equal(store.get().data, null);
  // The loader's whole-state write with B's data keeps A's links (same probe set).
  assert.deepEqual([...store.get().brushed], [1, 2]);
  assert.equal(store.get().hover, 17);
});

test("B's store while compare mode is off shows no checkpoint and keeps B's choice and A's selection", () => {
  const store = createStore({ ...withCompareOff(withCompareOn(listed())), selected: [0], focus: 0 });
  const side = createSideStore(store);
  assert.equal(side.get().run, null);
  // The loader's write for no checkpoint: no data, the links of its points cleared.
  side.set({ ...side.get(), data: null, selected: [], focus: null, hover: null });
  assert.equal(store.get().compare.b.run, "lstm_run");
  assert.deepEqual(store.get().selected, [0]);
  assert.equal(store.get().focus, 0);
});

test("B's layout is put onto A's for another run, not for another checkpoint of the layer", () => {
  const a = cloud(50, 5);
  const b = transform(a, 1.3, 2, 4, -1, true);
  const projection = (coords) => ({ ...INITIAL_STATE.projection, state: "done", coords });
  let state = withCompareOn(listed());
  state = { ...state, projection: projection(a), compare: { ...state.compare, b: { ...state.compare.b, projection: projection(b) } } };
  // Same run and layer, aligned layouts: drawn as computed.
  assert.equal(sideView(state).projection.coords, b);
  const other = withCompareB(state, { run: "gru_run" });
  const drawn = sideView(other).projection.coords;
  assert.ok(rmsDistance(drawn, a) < 1e-3);
  // Computed once per pair of layouts.
  assert.equal(sideView({ ...other, hover: 3 }).projection.coords, drawn);
  // Before A's layout is in, B's waits for it (its view then fits the aligned layout, not a first unaligned one)…
  const early = { ...other, data: { meta: {} }, projection: { ...INITIAL_STATE.projection, state: "running" } };
  assert.equal(sideView(early).projection.coords, null);
  assert.equal(sideView(early).projection.state, "done");
  // …unless A's cannot come.
  const failed = { ...early, projection: { ...early.projection, state: "failed" } };
  assert.equal(sideView(failed).projection.coords, b);
});

test("compare mode round-trips through the URL", () => {
  const compare = { on: true, run: "gru run", tag: "gru", step: 3, filter: "became_wrong", sortKey: "moved", descending: true };
  const back = decodeUrlState(encodeUrlState({ compare }));
  assert.deepEqual(back.compare, compare);
  assert.deepEqual(encodeUrlState({ compare: { on: false, run: "x" } }), []);
  // Malformed values are dropped.
  const bad = decodeUrlState([["rh_cmp", "1"], ["rh_chf", "<b>"], ["rh_chs", "-nope"], ["rh_bstep", "1.5"]]);
  assert.deepEqual(bad.compare, { on: true });
});
