// Unit tests of the tab's number and error wording (src/domain/format.ts).
import assert from "node:assert/strict";
import { test } from "node:test";

import { checkpointErrorText, formatFixed, formatPercent, formatPrecision } from "../build/domain/format.mjs";

test("finite numbers are formatted", () => {
  assert.equal(formatFixed(0.876, 2), "0.88");
  assert.equal(formatPercent(0.5), "50.0%");
  assert.equal(formatPrecision(1234.5, 3), "1.23e+3");
});

test("anything else is a dash, never a throw", () => {
  // "NaN" is what TensorBoard's JSON answers make of a NaN confidence.
  for (const bad of [null, undefined, NaN, Infinity, -Infinity, "NaN", "0.5", {}, [0.5]]) {
    assert.equal(formatFixed(bad, 2), "—");
    assert.equal(formatPercent(bad), "—");
    assert.equal(formatPrecision(bad, 3), "—");
  }
  assert.equal(formatFixed(NaN, 2, "n/a"), "n/a");
});

test("a checkpoint's error names its step, run and tag and keeps the server's reason", () => {
  const text = checkpointErrorText("train", "lstm", 7, "corrupt hidden-state record: record labels[0] is 99");
  assert.equal(
    text,
    'Step 7 of run "train", tag "lstm" cannot be shown: corrupt hidden-state record: record labels[0] is 99',
  );
});
