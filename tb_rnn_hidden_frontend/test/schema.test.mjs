// The tab's names against the one definitions in tb_rnn_hidden/schema/ (read by the server too):
// the projection parameters (src/domain/projection_schema.ts) and the record header that
// /sequences serves (src/api/types.ts).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { RECORD_HEADER_KEYS } from "../build/api/types.mjs";
import { ALIGNS, DEFAULT_PROJECTION_PARAMS, METHOD_LABELS, METHODS, METRICS, PROJECTION_FIELDS } from "../build/domain/model.mjs";
import { ALIGN_NAMES, METHOD_NAMES, METRIC_NAMES, PARAM_NAMES } from "../build/domain/projection_schema.mjs";

const schema = (name) => JSON.parse(readFileSync(new URL(`../../tb_rnn_hidden/schema/${name}`, import.meta.url), "utf8"));
const PARAMS = schema("projection_params.json");
const HEADER = schema("record_header.json");
const param = (name) => PARAMS.params.find((p) => p.name === name);

test("the TypeScript parameter names are the JSON's, method included", () => {
  assert.deepEqual([...PARAM_NAMES].sort(), PARAMS.params.map((p) => p.name).sort());
});

test("the method, metric and align unions are the JSON's choices", () => {
  assert.deepEqual([...METHOD_NAMES], PARAMS.methods.map((m) => m.name));
  assert.deepEqual([...METHOD_NAMES], param("method").choices);
  assert.deepEqual([...METRIC_NAMES], param("metric").choices);
  assert.deepEqual([...ALIGN_NAMES], param("align").choices);
});

test("methods, labels, fields, defaults and choices come from the JSON", () => {
  assert.deepEqual(METHODS, PARAMS.methods.map((m) => m.name));
  assert.deepEqual(METHOD_LABELS, Object.fromEntries(PARAMS.methods.map((m) => [m.name, m.label])));
  assert.deepEqual(DEFAULT_PROJECTION_PARAMS, Object.fromEntries(PARAMS.params.map((p) => [p.name, p.default])));
  assert.equal(DEFAULT_PROJECTION_PARAMS.align, "neighbor");
  assert.deepEqual(METRICS, param("metric").choices);
  assert.deepEqual(ALIGNS, param("align").choices);
  const fields = PARAMS.params.filter((p) => p.name !== "method");
  assert.deepEqual(PROJECTION_FIELDS.map((f) => f.name), fields.map((p) => p.name));
  for (const field of PROJECTION_FIELDS) {
    const p = param(field.name);
    assert.deepEqual(
      [field.label, field.kind, field.methods, field.low, field.high, field.step, field.choices, field.help],
      [p.label, p.kind, p.methods, p.low, p.high, p.step, p.choices, p.help],
      field.name,
    );
  }
});

test("the type of the /sequences answer covers exactly the record header's fields", () => {
  assert.deepEqual([...RECORD_HEADER_KEYS], HEADER.fields.map((f) => f.name));
});
