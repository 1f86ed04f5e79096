// Unit tests of the URL state (src/url_state.ts).
import assert from "node:assert/strict";
import { test } from "node:test";

import { decodeUrlState, encodeUrlState, hasUrlState, parseHash, replaceHashState } from "../build/url_state.mjs";

test("state round-trips through the hash, other keys kept", () => {
  const state = {
    run: "train & <eval>", tag: "lstm/1", step: 30, selected: [4, 1, 9], focus: 4, colorBy: "label",
    params: { method: "pca", perplexity: 30, seed: 3, iterations: 750, metric: "cosine", align: "none" },
  };
  const hash = replaceHashState("#rnn_hidden&other=1", encodeUrlState(state));
  assert.ok(hash.startsWith("#rnn_hidden&other=1&rh_run="));
  const back = decodeUrlState(parseHash(hash).pairs);
  assert.deepEqual(back, {
    run: "train & <eval>", tag: "lstm/1", step: 30, selected: [1, 4, 9], focus: 4, colorBy: "label",
    params: { method: "pca", seed: 3, metric: "cosine", align: "none" },
  });
  assert.equal(parseHash(hash).head, "rnn_hidden");
  // Replacing again does not duplicate our keys.
  const again = replaceHashState(hash, encodeUrlState({ run: "x" }));
  assert.equal(again, "#rnn_hidden&other=1&rh_run=x");
});

test("defaults are left out of the URL", () => {
  assert.deepEqual(encodeUrlState({ colorBy: "prediction", params: { method: "tsne", perplexity: 30 } }), []);
});

test("malformed values are ignored, not trusted", () => {
  const state = decodeUrlState([
    ["rh_step", "3x"], ["rh_sel", "1,-2,a,1,5"], ["rh_focus", "-1"], ["rh_color", "<script>"],
    ["rh_p_method", "tsne;drop"], ["rh_p_perplexity", "abc"], ["rh_p_seed", "7"], ["unrelated", "1"],
  ]);
  assert.deepEqual(state, { selected: [1, 5], params: { seed: 7 } });
});

import { DEFAULT_PROJECTION_PARAMS, fittedParams } from "../build/model.mjs";

test("small probe sets get the largest perplexity below P / 3; PCA is untouched", () => {
  const tsne = DEFAULT_PROJECTION_PARAMS; // perplexity 30
  assert.equal(fittedParams(tsne, 1000), tsne);
  assert.equal(fittedParams(tsne, 40).perplexity, 13); // 13 < 40 / 3
  assert.equal(fittedParams(tsne, 3).perplexity, 2);
  const pca = { ...tsne, method: "pca" };
  assert.equal(fittedParams(pca, 40), pca);
});

test("hasUrlState tells a bare plugin hash (TensorBoard's router) from one carrying the view", () => {
  assert.equal(hasUrlState("#rnn_hidden"), false);
  assert.equal(hasUrlState("#rnn_hidden&other=1"), false);
  assert.equal(hasUrlState("#rnn_hidden&rh_step=3"), true);
  assert.equal(hasUrlState(""), false);
});
