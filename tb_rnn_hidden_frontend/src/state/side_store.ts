/**
 * B's view of the store in compare mode: the app state with B's checkpoint,
 * data, projection and request status (`compare.b`) in place of A's, and
 * everything else (links, display, parameters, tags) A's own. Through it,
 * B's checkpoint loader, projection jobs and projection view are the same
 * code as A's; what they write to B's fields goes to `compare.b`, what they
 * write to shared fields (hover, brush, selection) goes to the store itself,
 * so one hover, one brush and one selection serve both sides.
 *
 * B's layout is drawn on A's where the two are not aligned by construction
 * (another run or layer, or layouts made without alignment): moved onto A's
 * final layout by the similarity that fits them best (domain/procrustes.ts),
 * so the same class sits on the same side where it can.
 */
import { fitSimilarity, applySimilarity } from "../domain/procrustes";
import type { ProjectionState } from "../domain/model";
import type { AppState, RequestStatus } from "./app_state";
import type { CompareSideState } from "./compare";
import type { Listener, Store } from "./store";

/** The fields of AppState that B has its own of. */
const SIDE_KEYS = ["run", "tag", "step", "data", "projection", "provisional", "projectionAction", "requests", "playAligned"] as const;
type SideKey = (typeof SIDE_KEYS)[number];

/** Whether B's layout is put onto A's by Procrustes: unless both are checkpoints of one layer laid out aligned. */
export function needsProcrustes(state: Readonly<AppState>): boolean {
  const b = state.compare.b;
  return b.run !== state.run || b.tag !== state.tag || state.params.align === "none";
}

/** B's final layout moved onto A's, computed once per pair of layouts. */
const moved = new WeakMap<Float32Array, WeakMap<Float32Array, Float32Array>>();

function alignedCoords(fixed: Float32Array, coords: Float32Array): Float32Array {
  let byFixed = moved.get(coords);
  if (byFixed === undefined) {
    byFixed = new WeakMap();
    moved.set(coords, byFixed);
  }
  let out = byFixed.get(fixed);
  if (out === undefined) {
    out = applySimilarity(coords, fitSimilarity(fixed, coords));
    byFixed.set(fixed, out);
  }
  return out;
}

/** B's projection as drawn: its own coordinates, or moved onto A's final layout of the same points. */
const alignedProjections = new WeakMap<ProjectionState, WeakMap<Float32Array, ProjectionState>>();

/** B's final layout held back until A's is there to be put onto (so B's view fits the aligned one, not a first unaligned one). */
const heldBack = new WeakMap<ProjectionState, ProjectionState>();

function waitingForA(own: ProjectionState): ProjectionState {
  let out = heldBack.get(own);
  if (out === undefined) {
    out = { ...own, coords: null };
    heldBack.set(own, out);
  }
  return out;
}

export function projectionOfB(state: Readonly<AppState>): ProjectionState {
  const own = state.compare.b.projection;
  const fixed = state.projection.coords;
  if (own.coords === null || !needsProcrustes(state)) return own;
  if (fixed === null || fixed.length !== own.coords.length) {
    // A's layout is coming: B waits for it; A's failed or cancelled: B is drawn as it is.
    const aComing = state.data !== null && state.projection.state !== "failed" && state.projection.state !== "cancelled";
    return aComing && fixed === null ? waitingForA(own) : own;
  }
  let byFixed = alignedProjections.get(own);
  if (byFixed === undefined) {
    byFixed = new WeakMap();
    alignedProjections.set(own, byFixed);
  }
  let out = byFixed.get(fixed);
  if (out === undefined) {
    out = { ...own, coords: alignedCoords(fixed, own.coords) };
    byFixed.set(fixed, out);
  }
  return out;
}

/** B's request status with A's listing status (B's loader waits for the first listing like A's). */
const mergedRequests = new WeakMap<RequestStatus, WeakMap<CompareSideState["requests"], RequestStatus>>();

function requestsOfB(state: Readonly<AppState>): RequestStatus {
  const own = state.compare.b.requests;
  let byOwn = mergedRequests.get(state.requests);
  if (byOwn === undefined) {
    byOwn = new WeakMap();
    mergedRequests.set(state.requests, byOwn);
  }
  let out = byOwn.get(own);
  if (out === undefined) {
    out = { ...state.requests, ...own };
    byOwn.set(own, out);
  }
  return out;
}

/** The app state as B's code sees it: no checkpoint while compare mode is off. */
export function sideView(state: Readonly<AppState>): AppState {
  const b = state.compare.b;
  const on = state.compare.on;
  return {
    ...state,
    run: on ? b.run : null,
    tag: on ? b.tag : null,
    step: on ? b.step : null,
    data: b.data,
    projection: projectionOfB(state),
    provisional: b.provisional,
    projectionAction: b.projectionAction,
    requests: requestsOfB(state),
    playAligned: b.playAligned,
    playing: false,
  };
}

/** A patch written through B's store, as a patch of the store itself. */
export function sidePatch(state: Readonly<AppState>, patch: Partial<AppState>): Partial<AppState> {
  const b: Record<string, unknown> = {};
  const shared: Record<string, unknown> = {};
  const view = sideView(state) as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(patch)) {
    // Fields written back unchanged (the loader writes a whole state) change nothing: not B's
    // selection (null while compare mode is off), nor its projection as drawn, nor A's fields.
    if (Object.is(view[key], value)) continue;
    if ((SIDE_KEYS as readonly string[]).includes(key)) b[key] = value;
    else shared[key] = value;
  }
  // The loader writes B's data (or none) with the links cleared for new points: B has A's points, and a
  // B with no checkpoint (compare mode off) must not clear A's selection, so only B's own fields count.
  if ("data" in patch) return Object.keys(b).length > 0 ? withSide(state, b) : {};
  return Object.keys(b).length > 0 ? { ...shared, ...withSide(state, b) } : shared;
}

function withSide(state: Readonly<AppState>, b: Record<string, unknown>): Partial<AppState> {
  const requests = b["requests"] as RequestStatus | undefined;
  const side = { ...state.compare.b, ...(b as Partial<Record<SideKey, unknown>>) } as CompareSideState;
  const next = requests ? { ...side, requests: { checkpointError: requests.checkpointError, checkpointBusy: requests.checkpointBusy } } : side;
  return { compare: { ...state.compare, b: next } };
}

/** B's store: reads `sideView` of the store, writes through `sidePatch`. */
export function createSideStore(main: Store<AppState>): Store<AppState> {
  let source: Readonly<AppState> | null = null;
  let view: AppState = sideView(main.get());
  const get = (): AppState => {
    const state = main.get();
    if (state !== source) {
      source = state;
      view = sideView(state);
    }
    return view;
  };
  return {
    get,
    set(patch) {
      main.set(sidePatch(main.get(), patch));
    },
    subscribe(listener: Listener<AppState>) {
      let previous = get();
      return main.subscribe(() => {
        const next = get();
        if (next === previous) return;
        const before = previous;
        previous = next;
        listener(next, before);
      });
    },
  };
}
