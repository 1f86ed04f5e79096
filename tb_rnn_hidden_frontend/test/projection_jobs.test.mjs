// The projection controller (src/controllers/projection_jobs.ts, bundled by `npm test`) against a
// server that answers as the plugin does: it starts the job with POST, waits while the job queue is
// full (429, Retry-After), polls with GET and fetches the points. `fetch` (the network) is replaced.
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";

import { createProjectionClient } from "../build/controllers/projection_jobs.mjs";
import { INITIAL_STATE } from "../build/state/app_state.mjs";
import { createStore } from "../build/state/store.mjs";

const realFetch = globalThis.fetch;
const realWarn = console.warn;
afterEach(() => {
  globalThis.fetch = realFetch;
  console.warn = realWarn;
});

const json = (status, body, headers = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
const status = (state) => ({ state, progress: state === "done" ? 1 : 0, phase: state, elapsed: 0, aligned_to: null, layout: null });

/** A server whose job queue is full for the first `busy` POSTs; the job is done at the first poll. */
function fakeServer(busy) {
  const calls = [];
  globalThis.fetch = async (url, init) => {
    const method = init?.method ?? "GET";
    calls.push(`${method} ${url.split("?")[0]}`);
    if (url === "projection" && method === "POST") {
      assert.equal(init.headers["Content-Type"], "application/json");
      assert.deepEqual(JSON.parse(init.body).step, 3);
      return busy-- > 0 ? json(429, { error: "16 projection jobs are queued or running" }, { "Retry-After": "0" }) : json(200, status("queued"));
    }
    if (url.startsWith("projection?")) return json(200, status("done"));
    if (url.startsWith("projection/points?")) {
      return new Response(new Float32Array([0, 1, 2, 3, 4, 5, 6, 7]).buffer, {
        status: 200,
        headers: { "X-Array-Shape": "4,2", "X-Array-Dtype": "float32" },
      });
    }
    return json(404, { error: "not here" }); // the provisional layout: the projection goes on
  };
  return calls;
}

function storeWithCheckpoint() {
  const data = { key: "train/lstm/3", step: 3, meta: { num_sequences: 1 }, pointSequence: new Int32Array(4) };
  return createStore({ ...INITIAL_STATE, run: "train", tag: "lstm", step: 3, data });
}

test("a full job queue is shown as waiting, asked again after Retry-After, then polled with GET", async () => {
  console.warn = () => {};
  const calls = fakeServer(2);
  const store = storeWithCheckpoint();
  const phases = [];
  store.subscribe((state) => phases.push(`${state.projection.state}: ${state.projection.phase}`));
  await createProjectionClient(store, Promise.resolve()).project();
  const projection = store.get().projection;
  assert.equal(projection.state, "done");
  assert.deepEqual([...projection.coords], [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.ok(phases.some((p) => p.startsWith("queued: waiting: 16 projection jobs")), phases);
  const jobCalls = calls.filter((c) => !c.includes("provisional"));
  assert.deepEqual(jobCalls, ["POST projection", "POST projection", "POST projection", "GET projection", "GET projection/points"]);
});
