// Unit tests of the tags poller (src/controllers/poll.ts, bundled to build/controllers/poll.mjs by `npm test`),
// with Node's mocked timers and a fake `document`.
import assert from "node:assert/strict";
import { afterEach, beforeEach, mock, test } from "node:test";

import { startPolling } from "../build/controllers/poll.mjs";

const INTERVAL = 5000;

class FakeDocument extends EventTarget {
  visibilityState = "visible";
  setVisibility(state) {
    this.visibilityState = state;
    this.dispatchEvent(new Event("visibilitychange"));
  }
}

/** A poll function whose calls stay pending until the test settles them. */
function controlledPoll() {
  const pending = [];
  const poll = () =>
    new Promise((resolve, reject) => {
      pending.push({ resolve, reject });
    });
  return { poll, pending };
}

/** Lets the poller's promise callbacks run (mocked timers do not). */
const flush = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

beforeEach(() => mock.timers.enable({ apis: ["setTimeout", "Date"], now: 1_000_000 }));
afterEach(() => mock.timers.reset());

test("polls at once, then every interval after the previous call settled", async () => {
  const doc = new FakeDocument();
  const { poll, pending } = controlledPoll();
  const poller = startPolling(poll, INTERVAL, doc);
  assert.equal(pending.length, 1);

  mock.timers.tick(3 * INTERVAL); // the first call is still pending: no overlap
  assert.equal(pending.length, 1);
  pending[0].resolve();
  await flush();
  mock.timers.tick(INTERVAL - 1);
  assert.equal(pending.length, 1);
  mock.timers.tick(1);
  assert.equal(pending.length, 2);
  pending[1].resolve();
  await flush();
  mock.timers.tick(INTERVAL);
  assert.equal(pending.length, 3);
  poller.stop();
});

test("a failing poll does not stop polling", async () => {
  const doc = new FakeDocument();
  const { poll, pending } = controlledPoll();
  startPolling(poll, INTERVAL, doc);
  pending[0].reject(new Error("server down"));
  await flush();
  mock.timers.tick(INTERVAL);
  assert.equal(pending.length, 2);
});

test("no polling while hidden; a due poll runs when the page is visible again", async () => {
  const doc = new FakeDocument();
  const { poll, pending } = controlledPoll();
  const poller = startPolling(poll, INTERVAL, doc);
  pending[0].resolve();
  await flush();

  mock.timers.tick(1000);
  doc.setVisibility("hidden");
  mock.timers.tick(10 * INTERVAL);
  assert.equal(pending.length, 1);

  doc.setVisibility("visible"); // overdue: polls now
  assert.equal(pending.length, 1); // through a 0 ms timer
  mock.timers.tick(0);
  assert.equal(pending.length, 2);
  pending[1].resolve();
  await flush();

  // Hidden and shown again within the interval: the poll keeps its due time.
  mock.timers.tick(2000);
  doc.setVisibility("hidden");
  doc.setVisibility("visible");
  mock.timers.tick(INTERVAL - 2000 - 1);
  assert.equal(pending.length, 2);
  mock.timers.tick(1);
  assert.equal(pending.length, 3);
  poller.stop();
});

test("calls never overlap; a page hidden while a call is pending schedules nothing after it", async () => {
  const doc = new FakeDocument();
  const { poll, pending } = controlledPoll();
  startPolling(poll, INTERVAL, doc);
  doc.setVisibility("hidden");
  doc.setVisibility("visible"); // while the call is still pending: no second call
  mock.timers.tick(2 * INTERVAL);
  assert.equal(pending.length, 1);
  doc.setVisibility("hidden");
  mock.timers.tick(0);
  assert.equal(pending.length, 1);
  pending[0].resolve();
  await flush();
  mock.timers.tick(10 * INTERVAL);
  assert.equal(pending.length, 1);
  doc.setVisibility("visible");
  mock.timers.tick(0);
  assert.equal(pending.length, 2);
});

test("stop cancels the next poll and ignores visibility changes", async () => {
  const doc = new FakeDocument();
  const { poll, pending } = controlledPoll();
  const poller = startPolling(poll, INTERVAL, doc);
  pending[0].resolve();
  await flush();
  poller.stop();
  doc.setVisibility("hidden");
  doc.setVisibility("visible");
  mock.timers.tick(10 * INTERVAL);
  assert.equal(pending.length, 1);
});
