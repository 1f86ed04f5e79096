// The projection routes' requests (src/api/routes.ts, bundled to build/api/routes.mjs by `npm test`):
// jobs are started and cancelled only by POST with a JSON body, polled by GET. `fetch` (the
// network) is replaced by a recorder that answers as the server would.
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";

import { ARRAY_RETRIES } from "../build/api/http.mjs";
import { cancelProjection, fetchDistances, fetchMatches, fetchProjectionStatus, startProjection } from "../build/api/routes.mjs";

const realFetch = globalThis.fetch;
afterEach(() => {
  globalThis.fetch = realFetch;
});

/** Records every request; answers `status` with the JSON `body` and `headers`. */
function recordFetch(status, body, headers = {}) {
  const calls = [];
  globalThis.fetch = async (url, init) => {
    calls.push({ url, init });
    return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
  };
  return calls;
}

const query = { run: "train", tag: "lstm", step: 3, method: "tsne", perplexity: 30 };
const running = { state: "running", progress: 0.5, phase: "optimisation", elapsed: 1, aligned_to: null };

test("startProjection POSTs the query as a JSON body, retry as true", async () => {
  const calls = recordFetch(200, running);
  assert.deepEqual(await startProjection(query), running);
  await startProjection(query, true);
  for (const [i, call] of calls.entries()) {
    assert.equal(call.url, "projection");
    assert.equal(call.init.method, "POST");
    assert.equal(call.init.headers["Content-Type"], "application/json");
    assert.deepEqual(JSON.parse(call.init.body), i === 0 ? query : { ...query, retry: true });
  }
});

test("fetchProjectionStatus GETs with the query in the URL and no body", async () => {
  const calls = recordFetch(200, running);
  await fetchProjectionStatus(query);
  assert.equal(calls.length, 1);
  assert.equal(calls[0].init.method, "GET");
  assert.equal(calls[0].init.body, undefined);
  assert.equal(calls[0].url, "projection?run=train&tag=lstm&step=3&method=tsne&perplexity=30");
});

test("cancelProjection POSTs a JSON body", async () => {
  const calls = recordFetch(200, { ...running, state: "cancelled" });
  assert.equal((await cancelProjection(query)).state, "cancelled");
  assert.equal(calls[0].url, "projection/cancel");
  assert.equal(calls[0].init.method, "POST");
  assert.deepEqual(JSON.parse(calls[0].init.body), query);
});

test("a full job queue (429) is an ApiError with the server's Retry-After and message", async () => {
  recordFetch(429, { error: "16 projection jobs are queued or running" }, { "Retry-After": "7" });
  await assert.rejects(startProjection(query), (err) => {
    assert.equal(err.name, "ApiError"); // each bundle has its own copy of the class
    assert.equal(err.status, 429);
    assert.equal(err.retryAfter, 7);
    assert.match(err.message, /16 projection jobs/);
    return true;
  });
});

test("another error carries no Retry-After", async () => {
  recordFetch(413, { error: "this checkpoint has 4194304 points" }, { "Retry-After": "7" });
  await assert.rejects(startProjection(query), (err) => err.name === "ApiError" && err.status === 413 && err.retryAfter === null);
});

/** Answers each request with the next of `answers` ([status, body bytes or JSON, headers]). */
function scriptFetch(answers) {
  const calls = [];
  globalThis.fetch = async (url, init) => {
    calls.push({ url, init });
    const [status, body, headers] = answers[Math.min(calls.length - 1, answers.length - 1)];
    const payload = body instanceof Uint8Array ? body : JSON.stringify(body);
    return new Response(payload, { status, headers });
  };
  return calls;
}

const checkpoint = { run: "train", tag: "lstm", step: 3 };
const busy = [429, { error: "6 array answers are being sent" }, { "Content-Type": "application/json", "Retry-After": "0" }];
const distances = [200, new Uint8Array(new Float32Array([0.5, 1.5]).buffer),
  { "Content-Type": "application/octet-stream", "X-Array-Shape": "2", "X-Array-Dtype": "float32" }];

test("an array route answered 429 is asked again after Retry-After, then served", async () => {
  const calls = scriptFetch([busy, busy, distances]);
  const array = await fetchDistances(checkpoint);
  assert.equal(calls.length, 3);
  assert.deepEqual(Array.from(array.data), [0.5, 1.5]);
});

test("an array route still busy after ARRAY_RETRIES more tries is an ApiError 429 with the message", async () => {
  const calls = scriptFetch([busy]);
  await assert.rejects(fetchDistances(checkpoint), (err) => {
    assert.equal(err.status, 429);
    assert.match(err.message, /array answers are being sent/);
    return true;
  });
  assert.equal(calls.length, 1 + ARRAY_RETRIES);
});

test("/matches answered 429 (it runs in the server's answer slots) is asked again like every GET", async () => {
  const matches = { matches: [], units: [1], threshold: 0.3, steps: 10, candidates: 0, quality: 0 };
  const calls = scriptFetch([busy, [200, matches, { "Content-Type": "application/json" }]]);
  const answer = await fetchMatches(checkpoint, { units: [1], threshold: 0.3, offBefore: 1, offAfter: 0, limit: 50 });
  assert.deepEqual(answer, matches);
  assert.equal(calls.length, 2);
});

test("a POST answered 429 is not asked again: the job queue's 429 is the caller's", async () => {
  const calls = recordFetch(429, { error: "16 projection jobs are queued or running" }, { "Retry-After": "0" });
  await assert.rejects(startProjection(query), (err) => err.status === 429);
  assert.equal(calls.length, 1);
});
