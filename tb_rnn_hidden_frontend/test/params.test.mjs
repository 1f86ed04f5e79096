// Unit tests of the projection parameters (src/domain/model.ts): the one field list, fitting per method,
// validation, and the server's specs (/info) merged in.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  DEFAULT_PROJECTION_PARAMS,
  PROJECTION_FIELDS,
  canonicalParams,
  fieldsOf,
  fitNotes,
  fittedParams,
  invalidParams,
  withServerSpecs,
} from "../build/domain/model.mjs";

const TSNE = DEFAULT_PROJECTION_PARAMS;
const PCA = { ...TSNE, method: "pca" };
const UMAP = { ...TSNE, method: "umap" };
const names = (fields) => fields.map((f) => f.name);

test("the field list covers every parameter but the method, each with its default", () => {
  assert.deepEqual(names(PROJECTION_FIELDS).sort(), Object.keys(DEFAULT_PROJECTION_PARAMS).filter((k) => k !== "method").sort());
});

test("each method has only its own fields; t-SNE's iterations are labelled as a cap", () => {
  assert.deepEqual(names(fieldsOf("tsne")), ["perplexity", "iterations", "seed", "metric", "align"]);
  assert.deepEqual(names(fieldsOf("pca")), ["metric", "align"]);
  assert.deepEqual(names(fieldsOf("umap")), ["n_neighbors", "min_dist", "seed", "metric", "align"]);
  assert.equal(PROJECTION_FIELDS.find((f) => f.name === "iterations").label, "max iterations");
  assert.ok(!names(fieldsOf("umap")).includes("perplexity"));
});

test("t-SNE: perplexity fitted below P / 3; UMAP: n_neighbors below P; PCA untouched", () => {
  assert.equal(fittedParams(TSNE, 1000), TSNE); // unchanged: the same object
  assert.equal(fittedParams(TSNE, 40).perplexity, 13); // 13 < 40 / 3
  assert.equal(fittedParams(TSNE, 3).perplexity, 2);
  assert.equal(fittedParams(PCA, 40), PCA);
  assert.equal(fittedParams(UMAP, 1000), UMAP);
  assert.equal(fittedParams(UMAP, 10).n_neighbors, 9); // 9 < 10
  assert.equal(fittedParams(UMAP, 10).perplexity, 30); // not UMAP's: never fitted
  assert.equal(fittedParams({ ...UMAP, n_neighbors: 2 }, 2).n_neighbors, 2); // at least 2 (the server says why it fails)
});

test("fitting is said in words, per method", () => {
  assert.deepEqual(fitNotes(TSNE, 40), ["perplexity 13: the largest below 40 points / 3"]);
  assert.deepEqual(fitNotes(UMAP, 10), ["n_neighbors 9: the largest below 10 points"]);
  assert.deepEqual(fitNotes({ ...PCA, perplexity: 90 }, 10), []);
});

test("parameters that do not apply to the method go back to their defaults (one request, one key)", () => {
  const pca = { ...PCA, perplexity: 50, seed: 4, n_neighbors: 7, metric: "cosine" };
  assert.deepEqual(canonicalParams(pca), { ...PCA, metric: "cosine" });
  assert.equal(canonicalParams(PCA), PCA);
  const umap = { ...UMAP, perplexity: 50, iterations: 100, n_neighbors: 7 };
  assert.deepEqual(fittedParams(umap, 1000), { ...UMAP, n_neighbors: 7 });
});

test("invalid values are named with their range, for the method's fields only", () => {
  assert.deepEqual(invalidParams(TSNE), []);
  assert.deepEqual(invalidParams({ ...TSNE, perplexity: 1, iterations: 75.5 }), [
    "perplexity must be a number from 2 to 200",
    "max iterations must be an integer from 50 to 5000",
  ]);
  assert.deepEqual(invalidParams({ ...UMAP, min_dist: Number.NaN }), ["min_dist must be a number from 0 to 1"]);
  assert.deepEqual(invalidParams({ ...PCA, perplexity: -5 }), []); // not PCA's
});

test("the server's specs set ranges, help and methods; labels stay the tab's", () => {
  const fields = withServerSpecs(PROJECTION_FIELDS, [
    { name: "perplexity", kind: "number", default: 30, methods: ["tsne"], min: 5, max: 100, help: "server help" },
    { name: "seed", kind: "integer", default: 0, methods: ["tsne", "umap", "lle"], min: 0, max: 9 },
    { name: "unknown", kind: "number", default: 1, methods: ["tsne"] },
  ]);
  const perplexity = fields.find((f) => f.name === "perplexity");
  assert.deepEqual([perplexity.low, perplexity.high, perplexity.help, perplexity.label], [5, 100, "server help", "perplexity"]);
  assert.deepEqual(fields.find((f) => f.name === "seed").methods, ["tsne", "umap"]); // methods it does not know are dropped
  assert.deepEqual(invalidParams({ ...TSNE, perplexity: 150 }, fields), ["perplexity must be a number from 5 to 100"]);
  assert.equal(fields.length, PROJECTION_FIELDS.length);
});
