// Unit tests of which layout the projection draws and what the tab says about it (src/domain/layout_state.ts).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  alignmentText,
  canRetry,
  checkpointKey,
  chooseLayout,
  controlsStatusText,
  dataRequestKey,
  describeLayoutCode,
  finalSource,
  isLayoutCode,
  iterationsText,
  layoutCode,
  layoutDescription,
  layoutDetails,
  noticeText,
  paramsText,
  projectionKey,
  provisionalSource,
  qualityText,
  sameLengths,
  sentParams,
  sharedLayoutNotice,
  shownLayoutCode,
  unavailableMethodNotice,
} from "../build/domain/layout_state.mjs";
import { DEFAULT_PROJECTION_PARAMS, IDLE_PROJECTION } from "../build/domain/model.mjs";

const TSNE = DEFAULT_PROJECTION_PARAMS;
const STEP1 = checkpointKey("run", "lstm", 1);
const STEP6 = checkpointKey("run", "lstm", 6);
const coords = () => new Float32Array(8);

const WARM = {
  method: "tsne", mode: "warm", aligned_to: 3, seconds: 17.66, trustworthiness: 0.99663, reference_trustworthiness: 0.99679,
  early_exaggeration_iterations: 0, iterations: 400, converged: true, kl_divergence: 0.50129,
};
const COLD = {
  method: "tsne", mode: "cold", aligned_to: null, seconds: 31.26, trustworthiness: 0.99679, reference_trustworthiness: 0.99679,
  early_exaggeration_iterations: 250, iterations: 500, converged: true, kl_divergence: 0.47217,
};

function final(checkpoint, step, params = TSNE, layout = WARM) {
  return { kind: "final", checkpoint, step, request: JSON.stringify([checkpoint, params]), params, layout, coords: coords() };
}
function provisional(checkpoint, step) {
  return { kind: "provisional", checkpoint, step, request: "", params: null, layout: null, coords: coords() };
}
const running = (progress, phase) => ({ ...IDLE_PROJECTION, key: "k", step: 1, params: TSNE, state: "running", progress, phase });

test("the checkpoint's own final layout wins over everything", () => {
  const mine = final(STEP1, 1);
  const choice = chooseLayout({ checkpoint: STEP1, wanted: mine.request, final: mine, provisional: provisional(STEP1, 1), shown: final(STEP6, 6), sameProbe: true });
  assert.deepEqual([choice.kind, choice.source, choice.staleOf], ["final", mine, null]);
});

test("a final layout of another request (another checkpoint, other parameters) is never taken as this one's", () => {
  const other = final(STEP6, 6);
  const choice = chooseLayout({ checkpoint: STEP1, wanted: "wanted", final: other, provisional: null, shown: null, sameProbe: true });
  assert.equal(choice.kind, "none");
});

test("while the projection computes: the provisional layout, not the previous checkpoint's", () => {
  const prov = provisional(STEP1, 1);
  const choice = chooseLayout({ checkpoint: STEP1, wanted: "w", final: null, provisional: prov, shown: final(STEP6, 6), sameProbe: true });
  assert.deepEqual([choice.kind, choice.source], ["provisional", prov]);
  // A provisional layout of another checkpoint is not this one's.
  const stale = chooseLayout({ checkpoint: STEP1, wanted: "w", final: null, provisional: provisional(STEP6, 6), shown: null, sameProbe: true });
  assert.equal(stale.kind, "none");
});

test("before any layout of its own arrives, the layout on screen stays, marked stale", () => {
  const old = final(STEP6, 6);
  const choice = chooseLayout({ checkpoint: STEP1, wanted: "w", final: null, provisional: null, shown: old, sameProbe: true });
  assert.deepEqual([choice.kind, choice.source, choice.staleOf], ["stale", old, "checkpoint"]);
  // ... but only for the same points: another layer's layout is dropped.
  const other = chooseLayout({ checkpoint: STEP1, wanted: "w", final: null, provisional: null, shown: old, sameProbe: false });
  assert.equal(other.kind, "none");
});

test("new parameters: this checkpoint's layout with the old ones beats its PCA", () => {
  const old = final(STEP1, 1, { ...TSNE, perplexity: 30 });
  const choice = chooseLayout({ checkpoint: STEP1, wanted: "perplexity 50", final: null, provisional: provisional(STEP1, 1), shown: old, sameProbe: true });
  assert.deepEqual([choice.kind, choice.source, choice.staleOf], ["stale", old, "params"]);
});

test("no checkpoint: nothing", () => {
  assert.equal(chooseLayout({ checkpoint: null, wanted: null, final: null, provisional: null, shown: final(STEP6, 6), sameProbe: true }).kind, "none");
});

test("sources from the store: the final one only with coordinates", () => {
  assert.equal(finalSource({ ...IDLE_PROJECTION, key: "k", checkpoint: STEP1, step: 1, params: TSNE, state: "running" }), null);
  const done = { ...IDLE_PROJECTION, key: "k", checkpoint: STEP1, step: 1, params: TSNE, state: "done", coords: coords(), layout: WARM };
  assert.deepEqual(finalSource(done), { kind: "final", checkpoint: STEP1, step: 1, request: "k", params: TSNE, layout: WARM, coords: done.coords });
  assert.equal(provisionalSource(null), null);
  assert.equal(provisionalSource({ key: STEP1, step: 1, coords: coords() }).kind, "provisional");
});

test("same points means the same sequence lengths", () => {
  assert.ok(sameLengths(Int32Array.of(0, 3, 5), Int32Array.of(0, 3, 5)));
  assert.ok(!sameLengths(Int32Array.of(0, 3, 5), Int32Array.of(0, 2, 5)));
  assert.ok(!sameLengths(Int32Array.of(0, 3), null));
});

test("the notice says which layout is shown and what is computing", () => {
  const job = running(0.4, "nearest neighbours");
  const prov = { kind: "provisional", source: provisional(STEP1, 1), staleOf: null };
  assert.equal(noticeText(prov, job, TSNE, 1), "Provisional layout: PCA of step 1 — t-SNE 40%, nearest neighbours");
  const stale = { kind: "stale", source: final(STEP6, 6), staleOf: "checkpoint" };
  assert.equal(noticeText(stale, { ...job, phase: "optimisation" }, TSNE, 1), "Layout of step 6 — step 1: t-SNE 40%, optimisation");
  const staleProvisional = { kind: "stale", source: provisional(STEP6, 6), staleOf: "checkpoint" };
  assert.equal(noticeText(staleProvisional, { ...job, state: "queued" }, TSNE, 1), "Provisional layout of step 6 — step 1: t-SNE queued");
  const params = { kind: "stale", source: final(STEP1, 1, { ...TSNE, perplexity: 30 }), staleOf: "params" };
  assert.equal(noticeText(params, job, { ...TSNE, perplexity: 50 }, 1),
    "Layout with perplexity 30 — perplexity 50: t-SNE 40%, nearest neighbours");
  const method = { kind: "stale", source: final(STEP1, 1, { ...TSNE, method: "pca" }), staleOf: "params" };
  assert.equal(noticeText(method, { ...job, state: "queued" }, TSNE, 1), "PCA layout of step 1 — t-SNE queued");
  const failed = { ...job, state: "failed", error: "perplexity is 90; expected < P/3" };
  assert.equal(noticeText(prov, failed, TSNE, 1), "Provisional layout: PCA of step 1 — t-SNE failed: perplexity is 90; expected < P/3");
  assert.equal(noticeText({ kind: "final", source: final(STEP1, 1), staleOf: null }, job, TSNE, 1), null);
});

test("a final layout is described: method, its parameters, alignment, iterations run, quality", () => {
  assert.equal(layoutDescription(final(STEP1, 3)),
    "t-SNE of step 3 (perplexity 30) · aligned to step 3 (warm start) · " +
    "400 iterations, converged · trustworthiness 0.997 · KL 0.501 · 17.7 s");
  assert.equal(layoutDescription(final(STEP1, 4, { ...TSNE, seed: 5, metric: "cosine" }, COLD)),
    "t-SNE of step 4 (perplexity 30, seed 5, cosine) · cold (no neighbour's layout to start from) · " +
    "250 + 500 iterations, converged · trustworthiness 0.997 · KL 0.472 · 31.3 s");
  const pca = { ...TSNE, method: "pca", align: "none" };
  assert.equal(layoutDescription(final(STEP1, 2, pca, { method: "pca", mode: "cold", aligned_to: null, trustworthiness: 0.9, seconds: 0.02 })),
    "PCA of step 2 · cold · trustworthiness 0.900 · 0.0 s");
  assert.equal(layoutDescription(final(STEP1, 2, { ...TSNE, method: "umap" }, { mode: "rotated", aligned_to: 1 })),
    "UMAP of step 2 (n_neighbors 15, min_dist 0.1) · aligned to step 1 (rotated onto it)");
  assert.equal(paramsText({ ...TSNE, method: "umap", metric: "cosine" }), "n_neighbors 15 · min_dist 0.1 · seed 0 · cosine");
  assert.match(layoutDetails(final(STEP1, 3)), /^t-SNE: perplexity 30 · max iterations 750 · seed 0 · euclidean, align neighbor\./);
});

test("alignment, iterations and quality texts", () => {
  assert.equal(alignmentText({ mode: "relayout", aligned_to: 2, warm_trustworthiness: 0.9123 }, "neighbor"),
    "aligned to step 2 (re-laid out: a warm start reached trustworthiness 0.912 only)");
  assert.equal(alignmentText({ mode: "rotated", aligned_to: 0 }, "neighbor"), "aligned to step 0 (rotated onto it)");
  assert.equal(alignmentText(null, "none"), "cold");
  assert.equal(iterationsText({ iterations: 750, early_exaggeration_iterations: 250, converged: false }),
    "250 + 750 iterations, not converged (the maximum)");
  assert.equal(iterationsText({ mode: "rotated" }), null);
  assert.equal(qualityText({ trustworthiness: null }), null);
});

test("the controls' status says what the job did; Retry only where it can succeed", () => {
  const done = { ...IDLE_PROJECTION, key: "k", step: 3, params: TSNE, state: "done", coords: coords(), layout: WARM, elapsed: 17.7 };
  assert.equal(controlsStatusText(done), "done · aligned to step 3 (warm start) · 400 iterations, converged · trustworthiness 0.997 · KL 0.501 · 17.7 s");
  assert.equal(controlsStatusText({ ...done, coords: null }), "loading points…");
  assert.equal(controlsStatusText({ ...running(0.42, "optimisation"), elapsed: 3.21 }), "42% · optimisation · 3.2 s");
  const failed = { ...done, state: "failed", error: "boom", coords: null };
  assert.equal(controlsStatusText(failed), "failed: boom");
  assert.equal(canRetry({ ...failed, retryable: false }), false);
  assert.equal(canRetry({ ...failed, retryable: true }), true);
  assert.equal(canRetry({ ...failed, state: "cancelled" }), true);
  assert.equal(canRetry(done), false);
});

test("rh_layout codes: written from the layout, read back in words, compared with this server's", () => {
  assert.equal(layoutCode(WARM, "tsne"), "tsne:warm:3:400:0.997");
  assert.equal(layoutCode(COLD, "tsne"), "tsne:cold:-:500:0.997");
  assert.equal(layoutCode({ mode: "rotated", aligned_to: 0, trustworthiness: 0.95 }, "pca"), "pca:rotated:0:-:0.950");
  assert.equal(layoutCode(null, "pca"), "pca:-:-:-:-");
  for (const code of ["tsne:warm:3:400:0.997", "tsne:cold:-:500:0.997", "pca:-:-:-:-"]) assert.ok(isLayoutCode(code));
  assert.equal(describeLayoutCode("tsne:warm:3:400:0.997"), "t-SNE, warm start from step 3, 400 iterations, trustworthiness 0.997");
  assert.equal(describeLayoutCode("tsne:relayout:3:600:0.99"), "t-SNE, re-laid out from step 3, 600 iterations, trustworthiness 0.99");
  assert.equal(sharedLayoutNotice(0, "tsne:warm:1:400:0.997", "tsne:warm:1:400:0.997"), null);
  assert.equal(sharedLayoutNotice(0, "tsne:warm:1:50:0.810", "tsne:relayout:1:600:0.991"),
    "The link was shared with another layout of step 0 (t-SNE, warm start from step 1, 50 iterations, trustworthiness 0.810); " +
    "this server shows t-SNE, re-laid out from step 1, 600 iterations, trustworthiness 0.991.");
});

test("the wanted request: fitted parameters, aligned while playing; the code only for the final layout shown", () => {
  const data = { key: STEP1, step: 1, pointSequence: new Int32Array(40) };
  const state = { run: "run", tag: "lstm", step: 1, playing: false, playAligned: false, params: { ...TSNE, align: "none" }, data, projection: IDLE_PROJECTION };
  assert.deepEqual(sentParams(state), { ...TSNE, align: "none", perplexity: 13 });
  assert.equal(sentParams({ ...state, playing: true }).align, "neighbor");
  assert.equal(sentParams({ ...state, playAligned: true }).align, "neighbor"); // the layout Play ended on
  const key = projectionKey(state);
  assert.equal(key, JSON.stringify(["run", "lstm", 1, { ...TSNE, align: "none", perplexity: 13 }]));
  assert.equal(shownLayoutCode(state), undefined);
  const projection = { ...IDLE_PROJECTION, key, step: 1, params: sentParams(state), state: "done", coords: coords(), layout: COLD };
  assert.equal(shownLayoutCode({ ...state, projection }), "tsne:cold:-:500:0.997");
  assert.equal(shownLayoutCode({ ...state, projection: { ...projection, key: "other" } }), undefined);
  // While the next checkpoint loads, the data's own request is still the one that belongs with it.
  assert.equal(dataRequestKey({ ...state, step: 2 }), key);
  assert.equal(dataRequestKey({ ...state, data: null }), null);
});

test("a method the server lacks is said, with its reason and what is shown instead", () => {
  assert.equal(unavailableMethodNotice("umap", "UMAP is not installed on this TensorBoard server", "tsne"),
    "This link asks for a UMAP layout, which this TensorBoard server does not offer (UMAP is not installed on this TensorBoard server). Showing t-SNE instead.");
});
