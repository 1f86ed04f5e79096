// Unit tests of the URL state (src/state/url_state.ts).
import assert from "node:assert/strict";
import { test } from "node:test";

import { decodeUrlState, encodeUrlState, hasUrlState, parseHash, replaceHashState } from "../build/state/url_state.mjs";

test("state round-trips through the hash, other keys kept", () => {
  const state = {
    run: "train & <eval>", tag: "lstm/1", step: 30, selected: [4, 1, 9], focus: 4, colorBy: "label",
    params: { method: "pca", perplexity: 30, seed: 3, iterations: 750, metric: "cosine", align: "none" },
    layout: "pca:rotated:20:-:0.934",
  };
  const hash = replaceHashState("#rnn_hidden&other=1", encodeUrlState(state));
  assert.ok(hash.startsWith("#rnn_hidden&other=1&rh_run="));
  const back = decodeUrlState(parseHash(hash).pairs);
  // The seed is not PCA's: it is left out of the link.
  assert.deepEqual(back, {
    run: "train & <eval>", tag: "lstm/1", step: 30, selected: [1, 4, 9], focus: 4, colorBy: "label",
    params: { method: "pca", metric: "cosine", align: "none" },
    layout: "pca:rotated:20:-:0.934",
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

test("hasUrlState tells a bare plugin hash (TensorBoard's router) from one carrying the view", () => {
  assert.equal(hasUrlState("#rnn_hidden"), false);
  assert.equal(hasUrlState("#rnn_hidden&other=1"), false);
  assert.equal(hasUrlState("#rnn_hidden&rh_step=3"), true);
  assert.equal(hasUrlState(""), false);
});

test("UMAP's own parameters round-trip; t-SNE's are not written for it", () => {
  const params = { method: "umap", perplexity: 50, iterations: 300, n_neighbors: 40, min_dist: 0.25, seed: 2, metric: "euclidean", align: "neighbor" };
  const pairs = encodeUrlState({ params });
  assert.deepEqual(pairs, [["rh_p_method", "umap"], ["rh_p_n_neighbors", "40"], ["rh_p_min_dist", "0.25"], ["rh_p_seed", "2"]]);
  assert.deepEqual(decodeUrlState(pairs), { params: { method: "umap", n_neighbors: 40, min_dist: 0.25, seed: 2 } });
  // t-SNE's iterations are written for t-SNE only.
  assert.deepEqual(encodeUrlState({ params: { ...params, method: "tsne" } }), [
    ["rh_p_perplexity", "50"], ["rh_p_iterations", "300"], ["rh_p_seed", "2"],
  ]);
});

test("parameter values outside their field's range or type are ignored", () => {
  const state = decodeUrlState([
    ["rh_p_perplexity", "1000"], ["rh_p_n_neighbors", "2.5"], ["rh_p_min_dist", "1.5"], ["rh_p_iterations", "0x10"],
    ["rh_p_seed", "-1"], ["rh_p_metric", "manhattan"], ["rh_p_align", "yes"], ["rh_p_min_dist", "0.5"],
  ]);
  assert.deepEqual(state, { params: { min_dist: 0.5 } });
});

test("a method the tab does not know is ignored; one it knows is kept for the server to check", () => {
  assert.deepEqual(decodeUrlState([["rh_p_method", "lle"]]), {});
  assert.deepEqual(decodeUrlState([["rh_p_method", "umap"]]), { params: { method: "umap" } });
});

test("rh_layout is kept only when well formed", () => {
  for (const good of ["tsne:warm:3:400:0.997", "tsne:cold:-:500:0.996", "pca:-:-:-:-", "umap:rotated:0:-:0.91"]) {
    assert.equal(decodeUrlState([["rh_layout", good]]).layout, good);
  }
  for (const bad of ["tsne:warm:3:400", "svd:cold:-:-:-", "tsne:hot:-:1:0.9", "tsne:warm:x:400:0.9", "<b>"]) {
    assert.equal(decodeUrlState([["rh_layout", bad]]).layout, undefined);
  }
});

test("display options and the flip threshold round-trip; defaults are left out", () => {
  const display = {
    labels: ["ja", "cb", "pa"], jumpThreshold: 0.25, confidenceThreshold: 0.5, pointSize: 2, lineWidth: 0.5,
    trajectoryColor: "prediction", markers: false, allMarkers: true, fade: "wrong", timeGradient: false,
    thickness: "distance", brushOnly: true,
  };
  const pairs = encodeUrlState({ display, flipThreshold: 0.2 });
  assert.deepEqual(Object.fromEntries(pairs), {
    rh_lab: "ja,cb,pa", rh_jump: "0.25", rh_conf: "0.5", rh_ps: "2", rh_lw: "0.5", rh_tc: "prediction",
    rh_mk: "0", rh_mka: "1", rh_fade: "wrong", rh_grad: "0", rh_thick: "distance", rh_bonly: "1", rh_flip: "0.2",
  });
  assert.deepEqual(decodeUrlState(pairs), { display, flipThreshold: 0.2 });
  // No label at all is said as "none", not left out (left out is the default, class changes after).
  assert.deepEqual(encodeUrlState({ display: { labels: [] } }), [["rh_lab", "none"]]);
  assert.deepEqual(decodeUrlState([["rh_lab", "none"]]), { display: { labels: [] } });
  const defaults = {
    labels: ["pa"], jumpThreshold: 0.4, confidenceThreshold: 0.3, pointSize: 1, lineWidth: 1, trajectoryColor: "class",
    markers: true, allMarkers: false, fade: "none", timeGradient: true, thickness: "constant", brushOnly: false,
  };
  assert.deepEqual(encodeUrlState({ display: defaults, flipThreshold: 0.1, colorBy: "prediction" }), []);
  assert.deepEqual(decodeUrlState(encodeUrlState({ colorBy: "confidence" })), { colorBy: "confidence" });
});

test("malformed display values are ignored", () => {
  const state = decodeUrlState([
    ["rh_lab", "ja,zz"], ["rh_jump", "1.5"], ["rh_conf", "-0.1"], ["rh_ps", "9"], ["rh_lw", "abc"], ["rh_tc", "rainbow"],
    ["rh_mk", "yes"], ["rh_mka", "2"], ["rh_fade", "<b>"], ["rh_grad", ""], ["rh_thick", "huge"], ["rh_bonly", "true"],
    ["rh_flip", "0x1"],
  ]);
  assert.deepEqual(state, {});
  // Label kinds come back in their canonical order, once each.
  assert.deepEqual(decodeUrlState([["rh_lab", "pb,ja,pb"]]), { display: { labels: ["ja", "pb"] } });
});
