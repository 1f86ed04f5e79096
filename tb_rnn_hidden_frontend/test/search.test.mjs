// Unit tests of token search and neighbour results as the tab shows them (src/domain/search.ts),
// the neighbour query point (controllers/neighbors.ts), and the requests of /search, /neighbors
// and /annotations (src/api/routes.ts; `fetch`, the network, answers as the server would).
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";

import { fetchAnnotation, fetchNeighbors, fetchSearch } from "../build/api/routes.mjs";
import { neighborTarget } from "../build/controllers/neighbors.mjs";
import { decodeCheckpoint } from "../build/domain/data.mjs";
import { checkpointQueryOf, hitPoints, neighborPoints, searchUnavailable, tokenWindow } from "../build/domain/search.mjs";
import { INITIAL_STATE } from "../build/state/app_state.mjs";
import { clampK, searchKey } from "../build/state/search_state.mjs";
import { singleCharacterVocabulary } from "../build/ui/token_window.mjs";

const HOSTILE = "<img src=x onerror=alert(1)>";
// Sequences of lengths 5, 3, 2: "a b ( c )", "( ( )", "b <img…>".
const VOCAB = ["a", "b", "(", ")", "c", HOSTILE];
const META = {
  num_sequences: 3, max_length: 5, state_size: 2, num_classes: 0, class_names: null, states_dtype: "float32",
  has_tokens: true, has_probabilities: false, has_labels: false, lengths: [5, 3, 2], labels: null,
  predictions: null, confidences: null, accuracy: null, vocabulary: VOCAB,
};
const data = decodeCheckpoint({
  key: JSON.stringify(["train", "lstm/1", 7]), step: 7, meta: META,
  tokens: new Int32Array([0, 1, 2, 4, 3, 2, 2, 3, 1, 5]), probabilities: null,
  distances: new Float32Array(7), maxDistance: 1,
});

test("a token window shows context either side, clipped at its sequence's ends", () => {
  assert.deepEqual(tokenWindow(data, 0, 2, 4, 1), {
    before: ["b"], inside: ["(", "c"], after: [")"], clippedBefore: true, clippedAfter: false,
  });
  // Never another sequence's tokens: sequence 1 is points 5..7.
  assert.deepEqual(tokenWindow(data, 1, 0, 1, 4), {
    before: [], inside: ["("], after: ["(", ")"], clippedBefore: false, clippedAfter: false,
  });
  assert.deepEqual(tokenWindow(data, 2, 1, 2, 3).inside, [HOSTILE]);
  // A range outside the sequence, or an unknown sequence: none.
  assert.equal(tokenWindow(data, 1, 2, 4, 1), null);
  assert.equal(tokenWindow(data, 1, 2, 2, 1), null);
  assert.equal(tokenWindow(data, 3, 0, 1, 1), null);
});

test("hits light every step they cover, ascending and unique; hits outside their sequence are dropped", () => {
  const hits = [
    { sequence: 1, start: 0, end: 2, point: 5 },
    { sequence: 0, start: 2, end: 5, point: 2 },
    { sequence: 1, start: 1, end: 3, point: 6 },
    { sequence: 2, start: 1, end: 3, point: 9 }, // past the end of sequence 2
  ];
  assert.deepEqual([...hitPoints(data, hits)], [2, 3, 4, 5, 6, 7]);
  assert.deepEqual([...hitPoints(data, [])], []);
});

test("neighbours light with their query point", () => {
  const result = { point: 3, k: 3, method: "exact", neighbors: [
    { point: 8, sequence: 2, step: 0, distance: 0.5 }, { point: 1, sequence: 0, step: 1, distance: 0.7 },
    { point: 42, sequence: 9, step: 0, distance: 0.9 },
  ] };
  assert.deepEqual([...neighborPoints(data, result)], [1, 3, 8]);
});

test("search is unavailable without tokens, and says why", () => {
  assert.equal(searchUnavailable(data), null);
  assert.match(searchUnavailable({ ...data, tokens: null, vocabulary: null }), /without tokens/);
  assert.match(searchUnavailable(null), /No checkpoint/);
});

test("the checkpoint query of the data, and search keys per checkpoint and query", () => {
  assert.deepEqual(checkpointQueryOf(data), { run: "train", tag: "lstm/1", step: 7 });
  assert.equal(checkpointQueryOf({ ...data, key: "not json" }), null);
  assert.notEqual(searchKey(data.key, "a", "exact"), searchKey(data.key, "a", "prefix"));
});

test("single-character vocabularies read as one string", () => {
  assert.ok(singleCharacterVocabulary(["a", "(", " "]));
  assert.ok(!singleCharacterVocabulary(VOCAB));
  assert.ok(!singleCharacterVocabulary(null));
});

test("the neighbour query: the pinned point, the hovered one when following, else the last", () => {
  const base = { ...INITIAL_STATE, hover: 4, neighbors: { ...INITIAL_STATE.neighbors, point: 2 } };
  assert.equal(neighborTarget(base), 2);
  assert.equal(neighborTarget({ ...base, neighbors: { ...base.neighbors, follow: true } }), 4);
  assert.equal(neighborTarget({ ...base, hover: null, neighbors: { ...base.neighbors, follow: true } }), 2);
  assert.equal(neighborTarget({ ...base, neighbors: { ...base.neighbors, follow: true, pinned: 9 } }), 9);
  assert.deepEqual([clampK(0), clampK(7.4), clampK(10_000), clampK(Number.NaN)], [1, 7, 200, 10]);
});

const realFetch = globalThis.fetch;
afterEach(() => {
  globalThis.fetch = realFetch;
});

function answer(body, status = 200, headers = {}) {
  const calls = [];
  globalThis.fetch = async (url, init) => {
    calls.push({ url, init });
    return new Response(body, { status, headers });
  };
  return calls;
}

const query = { run: "train", tag: "lstm/1", step: 7 };

test("fetchSearch and fetchNeighbors send the contract's query", async () => {
  let calls = answer(JSON.stringify({ hits: [], total: 0, truncated: false }), 200, { "Content-Type": "application/json" });
  await fetchSearch({ ...query, q: "( [", mode: "regex", limit: 200 });
  assert.equal(calls[0].url, "search?run=train&tag=lstm%2F1&step=7&q=%28+%5B&mode=regex&limit=200");
  calls = answer(JSON.stringify({ point: 3, k: 5, method: "exact", neighbors: [] }), 200, { "Content-Type": "application/json" });
  await fetchNeighbors({ ...query, point: 3, k: 5, method: "approximate" });
  assert.equal(calls[0].url, "neighbors?run=train&tag=lstm%2F1&step=7&point=3&k=5&method=approximate");
});

test("an invalid regex is an error carrying the route's message", async () => {
  answer(JSON.stringify({ error: "q is not a valid regular expression: missing )" }), 400, { "Content-Type": "application/json" });
  await assert.rejects(fetchSearch({ ...query, q: "(", mode: "regex", limit: 10 }), /q is not a valid regular expression/);
});

test("fetchAnnotation types the values by X-Annotation-Kind", async () => {
  const calls = answer(new Int32Array([2, 0, -1]).buffer, 200, { "X-Annotation-Kind": "categorical" });
  const codes = await fetchAnnotation(query, "p o s");
  assert.equal(calls[0].url, "annotations?run=train&tag=lstm%2F1&step=7&name=p+o+s");
  assert.equal(codes.kind, "categorical");
  assert.deepEqual([...codes.data], [2, 0, -1]);
  answer(new Float32Array([0.5, 2]).buffer, 200, { "X-Annotation-Kind": "numeric" });
  const values = await fetchAnnotation(query, "depth");
  assert.ok(values.data instanceof Float32Array);
  assert.deepEqual([...values.data], [0.5, 2]);
  answer(new Float32Array([1]).buffer, 200, {});
  await assert.rejects(fetchAnnotation(query, "depth"), /expected categorical or numeric/);
  answer(JSON.stringify({ error: "no annotation named x; the names are: depth" }), 404, { "Content-Type": "application/json" });
  await assert.rejects(fetchAnnotation(query, "x"), /no annotation named x/);
});

test("the search controller debounces typing, drops stale answers, lights hits and says the route's message", async () => {
  const { createStore } = await import("../build/state/store.mjs");
  const { startSearch } = await import("../build/controllers/search.mjs");
  const { withCheckpointData } = await import("../build/state/app_state.mjs");
  const calls = [];
  globalThis.fetch = async (url, init) => {
    calls.push({ url, signal: init.signal });
    const q = new URL(url, "http://x/").searchParams.get("q");
    if (q === "(") return new Response(JSON.stringify({ error: "q is not a valid regular expression" }), { status: 400 });
    const hits = q === "( c" ? [{ sequence: 0, start: 2, end: 4, point: 2 }] : [{ sequence: 1, start: 0, end: 1, point: 5 }];
    return new Response(JSON.stringify({ hits, total: hits.length, truncated: false }), { status: 200 });
  };
  const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const store = createStore({ ...INITIAL_STATE, data });
  startSearch(store);
  const type = (text, mode = "exact") => store.set({ search: { ...store.get().search, text, mode } });
  type("(");
  type("( ");
  type("( c");
  await wait(400);
  assert.equal(calls.length, 1, "one request for the keystrokes of one pause");
  assert.match(calls[0].url, /q=%28\+c&mode=exact/);
  assert.deepEqual([...store.get().lit.points], [2, 3]);
  assert.equal(store.get().lit.source, "search");
  assert.equal(store.get().search.result.total, 1);
  // A newer query aborts the older request; only the newer answer counts.
  type("(", "regex");
  await wait(400);
  assert.equal(store.get().search.error, "q is not a valid regular expression");
  assert.equal(store.get().lit, null);
  type("b", "exact");
  await wait(300);
  assert.deepEqual([...store.get().lit.points], [5]);
  // Another checkpoint: the query runs again and lights again.
  store.set(withCheckpointData(store.get(), { ...data, key: JSON.stringify(["train", "lstm/1", 8]), step: 8 }));
  assert.equal(store.get().lit, null);
  await wait(400);
  assert.match(calls.at(-1).url, /step=8/);
  assert.deepEqual([...store.get().lit.points], [5]);
  // Clearing the query puts its light out.
  type("");
  await wait(20);
  assert.equal(store.get().lit, null);
  assert.equal(store.get().search.result, null);
});

test("/search and /neighbors answered 429 (the server's slots busy) are asked again after Retry-After", async () => {
  const statuses = [429, 429, 200];
  const calls = [];
  globalThis.fetch = async (url) => {
    calls.push(url);
    const status = statuses.shift() ?? 200;
    const body = status === 200 ? { hits: [], total: 0, truncated: false } : { error: "busy" };
    return new Response(JSON.stringify(body), { status, headers: { "Retry-After": "0" } });
  };
  assert.deepEqual(await fetchSearch({ ...query, q: "a", mode: "exact", limit: 5 }), { hits: [], total: 0, truncated: false });
  assert.equal(calls.length, 3);
  // Past the retries, the 429 is the error.
  globalThis.fetch = async () => new Response(JSON.stringify({ error: "every slot busy" }), { status: 429, headers: { "Retry-After": "0" } });
  await assert.rejects(fetchNeighbors({ ...query, point: 1, k: 2, method: "exact" }), /every slot busy/);
});
