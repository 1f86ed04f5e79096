/**
 * The selected checkpoint's arrays: fetched and decoded into `state.data`
 * when the selection changes (debounced, so dragging the slider does not
 * flood the server), never on a mere `tags` poll; a newer selection aborts
 * the older load. A load that failed because the server was unreachable is
 * retried once the server answers again (`serverAnswered`, from the tags
 * poller). Once a checkpoint's data is in, its projection is requested.
 *
 * User Timing measures (read by bench/frontend_bench.py):
 * `rh-checkpoint-fetch` (the four routes and the annotation tracks, awaited, not main-thread time),
 * `rh-checkpoint-decode`, and `rh-checkpoint-views` (the new data in the
 * store: every view updated).
 */
import { ApiError, describeError, isAbort } from "../api/http";
import { fetchAnnotation, fetchDistances, fetchProbabilities, fetchSequences, fetchTokens, type CheckpointQuery } from "../api/routes";
import type { AnnotationHeader } from "../api/types";
import { decodeTrack } from "../domain/annotations";
import { asFloat32, checkShape, decodeCheckpoint } from "../domain/data";
import { checkpointErrorText } from "../domain/format";
import { checkpointKey } from "../domain/layout_state";
import type { AnnotationTrack, CheckpointData } from "../domain/model";
import { sameSelection, selectionOf, withCheckpointData, type AppState, type RequestStatus, type Selection } from "../state/app_state";
import type { Store } from "../state/store";
import type { ProjectionClient } from "./projection_jobs";

/** Delay before fetching a checkpoint, so dragging the slider does not flood the server. */
const FETCH_DEBOUNCE_MS = 120;

/** Annotation tracks read per checkpoint at most, and at once (each is one `/annotations` request). */
export const MAX_ANNOTATION_TRACKS = 32;
const ANNOTATION_REQUESTS_AT_ONCE = 4;

/** The checkpoint's annotation tracks (the first MAX_ANNOTATION_TRACKS of `/sequences`' list), a few requests at a time. */
async function loadAnnotations(query: CheckpointQuery, infos: readonly AnnotationHeader[], points: number, signal: AbortSignal): Promise<AnnotationTrack[]> {
  const wanted = infos.slice(0, MAX_ANNOTATION_TRACKS);
  const tracks: AnnotationTrack[] = [];
  for (let i = 0; i < wanted.length; i += ANNOTATION_REQUESTS_AT_ONCE) {
    const batch = wanted.slice(i, i + ANNOTATION_REQUESTS_AT_ONCE);
    const values = await Promise.all(batch.map((info) => fetchAnnotation(query, info.name, signal)));
    batch.forEach((info, j) => tracks.push(decodeTrack(info, (values[j] as { data: Int32Array | Float32Array }).data, points)));
  }
  return tracks;
}


/** Fetches all arrays of one checkpoint and decodes them. */
export async function loadCheckpoint(selection: Selection, signal: AbortSignal): Promise<CheckpointData> {
  const { run, tag, step } = selection as { run: string; tag: string; step: number };
  const params = { run, tag, step };
  const t0 = performance.now();
  const meta = await fetchSequences(params, signal);
  const points = meta.lengths.reduce((sum, length) => sum + length, 0);
  const [tokens, probabilities, distances, annotations] = await Promise.all([
    meta.has_tokens ? fetchTokens(params, signal) : Promise.resolve(null),
    meta.has_probabilities ? fetchProbabilities(params, signal) : Promise.resolve(null),
    fetchDistances(params, signal),
    loadAnnotations(params, meta.annotations ?? [], points, signal),
  ]);
  if (tokens) checkShape("tokens", tokens.shape, [points]);
  if (probabilities) checkShape("probabilities", probabilities.shape, [points, meta.num_classes]);
  checkShape("distances", distances.shape, [points - meta.lengths.length]);
  const t1 = performance.now();
  performance.measure("rh-checkpoint-fetch", { start: t0, end: t1 });
  const decoded = decodeCheckpoint({
    key: checkpointKey(run, tag, step),
    step,
    meta,
    tokens: tokens ? (tokens.data instanceof Int32Array ? tokens.data : Int32Array.from(tokens.data)) : null,
    probabilities: probabilities ? asFloat32(probabilities.data) : null,
    distances: asFloat32(distances.data),
    maxDistance: Number(distances.headers.get("X-Max-Distance") ?? "0"),
    annotations,
  });
  performance.measure("rh-checkpoint-decode", { start: t1, end: performance.now() });
  return decoded;
}

export interface CheckpointLoader {
  /** The server answered (a `tags` listing arrived): a load that failed as unreachable is retried. */
  serverAnswered(): void;
}

export function startCheckpointLoader(store: Store<AppState>, projections: ProjectionClient): CheckpointLoader {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: AbortController | null = null;
  // The last load failed because the server was unreachable: retry once `tags` answers again.
  let retryWhenReachable = false;
  const report = (patch: Partial<RequestStatus>) => store.set({ requests: { ...store.get().requests, ...patch } });

  /** The loaded checkpoint into the store, with its layout when this page has it (no stale frame). */
  const show = (data: CheckpointData) => {
    const t0 = performance.now();
    // Another checkpoint opened by the user (not by Play): the form's parameters apply again.
    const next = { ...withCheckpointData(store.get(), data), playAligned: store.get().playing };
    const cached = projections.cached(next);
    const requests = { ...next.requests, checkpointError: null };
    store.set(cached !== null ? { ...next, requests, projection: cached } : { ...next, requests }); // every view updates synchronously
    performance.measure("rh-checkpoint-views", { start: t0, end: performance.now() });
    void projections.project();
  };

  const load = async (selection: Readonly<Selection>) => {
    inFlight?.abort();
    retryWhenReachable = false;
    if (selection.run === null || selection.tag === null || selection.step === null) {
      store.set({ ...withCheckpointData(store.get(), null), requests: { ...store.get().requests, checkpointError: null } });
      return;
    }
    const controller = new AbortController();
    inFlight = controller;
    report({ checkpointBusy: true });
    try {
      const data = await loadCheckpoint(selection, controller.signal);
      if (controller.signal.aborted) return;
      show(data);
    } catch (err) {
      if (controller.signal.aborted || isAbort(err)) return; // superseded by a newer selection
      retryWhenReachable = err instanceof ApiError && err.status === 0;
      const { run, tag, step } = selection as { run: string; tag: string; step: number };
      const checkpointError = checkpointErrorText(run, tag, step, describeError(err));
      store.set({ ...withCheckpointData(store.get(), null), requests: { ...store.get().requests, checkpointError } });
    } finally {
      if (inFlight === controller) {
        inFlight = null;
        report({ checkpointBusy: false });
      }
    }
  };

  // The selection last scheduled for loading (the URL's may already be valid at the first `tags`).
  let requested: Selection | null = null;
  store.subscribe((state) => {
    if (requested !== null && sameSelection(state, requested)) return; // only `tags` or links changed
    if (!state.requests.tagsLoaded) return; // the URL's selection is checked against the first listing first
    requested = selectionOf(state);
    inFlight?.abort(); // its data is stale now, even before the debounced fetch starts
    projections.stop(); // and so is its projection
    retryWhenReachable = false;
    clearTimeout(timer);
    const selection = selectionOf(state);
    timer = setTimeout(() => void load(selection), FETCH_DEBOUNCE_MS);
  });

  return {
    serverAnswered() {
      if (retryWhenReachable) void load(store.get());
    },
  };
}
