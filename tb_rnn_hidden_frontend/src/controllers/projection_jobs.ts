/**
 * The projection of the shown checkpoint, from the backend into the store.
 *
 * `project()` starts its job (`POST /projection`; while the server's job queue
 * is full, a 429, it waits as told and asks again), polls it (`GET /projection`,
 * which never starts a job) until it is done, then fetches its points
 * (`/projection/points`) into `state.projection`. Along
 * with the first status it fetches the checkpoint's provisional layout
 * (`/projection/provisional`, its PCA, computed at once), which goes into
 * `state.provisional` unless the projection is already done, so that a layout
 * of the checkpoint's own states is on screen within a round trip. Finished
 * layouts are kept (`cached`), so that a checkpoint seen before, or one Play
 * fetched ahead (`prefetch`), is drawn with its data, without a stale frame.
 * Retry and cancel arrive as `state.projectionAction`, written by the controls.
 */
import { ApiError, describeError } from "../api/http";
import { cancelProjection, fetchProjectionPoints, fetchProjectionStatus, fetchProvisionalLayout, startProjection } from "../api/routes";
import type { ProjectionStatus } from "../api/types";
import { checkShape } from "../domain/data";
import { checkpointKey, projectionKey, requestKey, sentParams } from "../domain/layout_state";
import {
  DEFAULT_PROJECTION_PARAMS,
  IDLE_PROJECTION,
  projectionQuery,
  type CheckpointData,
  type ProjectionParams,
  type ProjectionState,
  type ProvisionalLayout,
} from "../domain/model";
import { selectionOf, type AppState, type Selection } from "../state/app_state";
import type { Store } from "../state/store";

/** How often a queued or running projection job is polled. */
const PROJECTION_POLL_MS = 400;
/** How often Play polls the layout of the checkpoint it shows next. */
const PREFETCH_POLL_MS = 1_000;
/** How long to wait before asking again when the server's job queue is full and it did not say. */
const BUSY_RETRY_MS = 5_000;
/** Finished layouts kept in the page (each P x 2 float32: 800 kB at 100k points). */
const CACHED_LAYOUTS = 12;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A request that failed in transit (unreachable, 5xx, a race with the job) may succeed again; a 4xx may not. */
function retryableError(err: unknown): boolean {
  if (!(err instanceof ApiError)) return true;
  return err.status === 0 || err.status === 409 || err.status === 429 || err.status >= 500;
}

/** The store's projection state from a status answer for request `key` (checkpoint `checkpoint`, its step, the parameters sent). */
function projectionFrom(status: ProjectionStatus, key: string, checkpoint: string, step: number, params: ProjectionParams): ProjectionState {
  return {
    key,
    checkpoint,
    step,
    params,
    state: status.state === "none" ? "idle" : status.state,
    progress: status.progress,
    phase: status.phase,
    elapsed: status.elapsed,
    error: status.error ?? null,
    retryable: status.retryable ?? false,
    background: status.background ?? false,
    coords: null,
    alignedTo: status.aligned_to,
    layout: status.layout ?? null,
  };
}

/** A small least-recently-used map of finished layouts by request key. */
class LayoutCache {
  private readonly entries = new Map<string, ProjectionState>();

  get(key: string, numPoints: number): ProjectionState | null {
    const found = this.entries.get(key);
    if (found === undefined || found.coords === null || found.coords.length !== 2 * numPoints) return null;
    this.entries.delete(key);
    this.entries.set(key, found);
    return found;
  }

  set(key: string, value: ProjectionState): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > CACHED_LAYOUTS) this.entries.delete(this.entries.keys().next().value as string);
  }
}

export interface ProjectionClient {
  /** Requests (or joins) the projection of the shown checkpoint and follows it into the store. */
  project(retry?: boolean): Promise<void>;
  /** The finished layout of `state`'s checkpoint and parameters, if this page has it. */
  cached(state: Readonly<AppState>): ProjectionState | null;
  /** Stops following the current projection (another checkpoint is on its way). */
  stop(): void;
  /** Asks for the layout of `selection` now and keeps it once done (while `keepGoing()`). */
  prefetch(selection: Selection, params: ProjectionParams, numPoints: number, keepGoing: () => boolean): Promise<void>;
}

/** What the client's functions share: the store, the cache, and which `project()` call is current. */
interface Jobs {
  readonly store: Store<AppState>;
  readonly infoReady: Promise<void>;
  readonly layouts: LayoutCache;
  /** The current `project()` call; older ones stop at their next await. */
  run: number;
}

/** One `project()` call's request: the checkpoint, its key, the parameters sent and the route query. */
interface Request {
  readonly current: number;
  readonly data: CheckpointData;
  readonly key: string;
  readonly params: ProjectionParams;
  readonly query: Record<string, string | number>;
}

async function points(query: Record<string, string | number>, numPoints: number): Promise<Float32Array> {
  const array = await fetchProjectionPoints(query);
  checkShape("projection/points", array.shape, [numPoints, 2]);
  return array.data;
}

/** The checkpoint's provisional layout, or null if the server could not give one (the projection goes on). */
async function provisional(data: CheckpointData, query: Record<string, string | number>): Promise<ProvisionalLayout | null> {
  try {
    const array = await fetchProvisionalLayout({ run: query["run"] ?? "", tag: query["tag"] ?? "", step: data.step, metric: query["metric"] ?? DEFAULT_PROJECTION_PARAMS.metric });
    checkShape("projection/provisional", array.shape, [data.pointSequence.length, 2]);
    return { key: data.key, step: data.step, coords: array.data };
  } catch (err) {
    console.warn("rnn_hidden: no provisional layout:", describeError(err));
    return null;
  }
}

/** Stores the provisional layout once it arrives, unless the checkpoint changed or its projection is done by then. */
async function showProvisional(jobs: Jobs, pending: Promise<ProvisionalLayout | null>, key: string): Promise<void> {
  const layout = await pending;
  const state = jobs.store.get();
  if (layout === null || state.data?.key !== layout.key) return;
  if (state.projection.key === key && state.projection.state === "done") return;
  jobs.store.set({ provisional: layout });
}

/** A 429's status while waiting for room in the server's job queue. */
function busyStatus(err: ApiError): ProjectionStatus {
  return { state: "queued", progress: 0, phase: `waiting: ${err.message}`, elapsed: 0, aligned_to: null };
}

/**
 * Starts (or joins) the job of `request`: its first status, or null once superseded. While the
 * server's job queue is full (429), shows that and asks again after its `Retry-After`.
 */
async function start(jobs: Jobs, request: Request, retry: boolean): Promise<ProjectionStatus | null> {
  const { current, data, key, params, query } = request;
  for (;;) {
    try {
      return await startProjection(query, retry);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 429) || current !== jobs.run) throw err;
      jobs.store.set({ projection: projectionFrom(busyStatus(err), key, data.key, data.step, params) });
      await sleep(err.retryAfter !== null ? err.retryAfter * 1000 : BUSY_RETRY_MS);
      if (current !== jobs.run) return null;
    }
  }
}

/** Starts the job of `request`, then polls it into the store until it is done (then fetches its points), fails or is superseded. */
async function follow(jobs: Jobs, request: Request, retry: boolean, pending: Promise<ProvisionalLayout | null> | null): Promise<void> {
  const { current, data, key, params, query } = request;
  const numPoints = data.pointSequence.length;
  let status = await start(jobs, request, retry);
  if (status === null || current !== jobs.run) return;
  if (pending !== null && status.state !== "done") void showProvisional(jobs, pending, key);
  for (;;) {
    const next = projectionFrom(status, key, data.key, data.step, params);
    if (status.state === "done") {
      const done: ProjectionState = { ...next, coords: await points(query, numPoints) };
      if (current !== jobs.run) return;
      jobs.layouts.set(key, done);
      jobs.store.set({ projection: done });
      return;
    }
    jobs.store.set({ projection: next });
    if (status.state !== "queued" && status.state !== "running") return;
    await sleep(PROJECTION_POLL_MS);
    if (current !== jobs.run) return;
    status = await fetchProjectionStatus(query);
    // `none`: the job is gone without a result (a restarted server): start it again.
    if (status.state === "none") status = await start(jobs, request, false);
    if (status === null || current !== jobs.run) return;
  }
}

/** The store's projection state of a request that failed with `err`. */
function failedProjection(request: Request, err: unknown): ProjectionState {
  const { data, key, params } = request;
  return {
    ...IDLE_PROJECTION,
    key,
    checkpoint: data.key,
    step: data.step,
    params,
    state: "failed",
    error: describeError(err),
    retryable: retryableError(err),
    coords: null,
  };
}

async function project(jobs: Jobs, retry = false): Promise<void> {
  const current = ++jobs.run;
  await jobs.infoReady;
  if (current !== jobs.run) return;
  const state = jobs.store.get();
  const data = state.data;
  if (data === null || state.step === null) return;
  const params = sentParams(state);
  const key = projectionKey(state);
  const cached = retry ? null : jobs.layouts.get(key, data.pointSequence.length);
  if (cached !== null) {
    jobs.store.set({ projection: cached });
    return;
  }
  const request: Request = { current, data, key, params, query: projectionQuery(selectionOf(state), params) };
  // PCA is computed in milliseconds: its provisional layout would only flash before it.
  const wantProvisional = params.method !== "pca" && state.provisional?.key !== data.key;
  const pending = wantProvisional ? provisional(data, request.query) : null;
  try {
    await follow(jobs, request, retry, pending);
  } catch (err) {
    if (current !== jobs.run) return;
    jobs.store.set({ projection: failedProjection(request, err) });
  }
}

/** Stops polling, then cancels the job; a job that has just finished is shown instead. */
async function cancel(jobs: Jobs): Promise<void> {
  const state = jobs.store.get();
  if (state.data === null) return;
  // Polling stops first: a poll answered `none` after the cancel would start the job again.
  const current = ++jobs.run;
  const key = projectionKey(state);
  try {
    const status = await cancelProjection(projectionQuery(selectionOf(state), sentParams(state)));
    if (current !== jobs.run) return;
    jobs.store.set({ projection: { ...projectionFrom(status, key, state.data.key, state.data.step, sentParams(state)), state: "cancelled" } });
  } catch (err) {
    // 404: no job left to cancel (it has just finished): show its result.
    if (current === jobs.run) void project(jobs);
    if (!(err instanceof ApiError && err.status === 404)) console.warn("rnn_hidden: cancel failed:", describeError(err));
  }
}

async function prefetch(jobs: Jobs, selection: Selection, params: ProjectionParams, numPoints: number, keepGoing: () => boolean): Promise<void> {
  const key = requestKey(selection.run, selection.tag, selection.step, params);
  if (jobs.layouts.get(key, numPoints) !== null) return;
  const query = projectionQuery(selection, params);
  let started = false;
  while (keepGoing()) {
    try {
      // Started once (a full queue, 429, ends the prefetch: it is only ahead of time), then polled.
      const status = started ? await fetchProjectionStatus(query) : await startProjection(query);
      started = true;
      if (status.state === "done") {
        const coords = await points(query, numPoints);
        const checkpoint = checkpointKey(selection.run, selection.tag, selection.step);
        jobs.layouts.set(key, { ...projectionFrom(status, key, checkpoint, selection.step ?? 0, params), coords });
        return;
      }
      if (status.state !== "queued" && status.state !== "running") return;
    } catch {
      return; // the checkpoint's own request reports errors when it is shown
    }
    await sleep(PREFETCH_POLL_MS);
  }
}

/** `info` gates requests: a method the server does not offer is replaced first (server_info.ts). */
export function createProjectionClient(store: Store<AppState>, infoReady: Promise<void>): ProjectionClient {
  const jobs: Jobs = { store, infoReady, layouts: new LayoutCache(), run: 0 };
  store.subscribe((state, previous) => {
    const action = state.projectionAction;
    if (action === previous.projectionAction || action === null) return;
    if (action.kind === "retry") void project(jobs, true);
    else void cancel(jobs);
  });
  return {
    project: (retry) => project(jobs, retry),
    cached: (state) => (state.data === null ? null : jobs.layouts.get(projectionKey(state), state.data.pointSequence.length)),
    prefetch: (selection, params, numPoints, keepGoing) => prefetch(jobs, selection, params, numPoints, keepGoing),
    stop: () => void jobs.run++,
  };
}

/**
 * Re-projection with the form's new parameters (or the form's alignment
 * again after Play), for the checkpoint shown.
 */
export function followParams(store: Store<AppState>, client: ProjectionClient): void {
  store.subscribe((state, previous) => {
    const changed = state.params !== previous.params || (previous.playAligned && !state.playAligned && state.data === previous.data);
    if (changed && state.data !== null) void client.project();
  });
}
