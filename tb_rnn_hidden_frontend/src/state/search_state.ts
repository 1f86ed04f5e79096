/**
 * The state of the token search, the nearest-neighbour query and the
 * annotation filter: what the user asked (views write it) and what the
 * server answered (their controllers write it). Each lights its points in
 * the projection through `AppState.lit`.
 */
import type { NeighborMethod, NeighborsResponse, SearchMode, SearchResponse } from "../api/types";
import type { AnnotationFilter } from "../domain/annotations";

/** Hits asked for, and lit, at most (the server counts them all: `total`). */
export const SEARCH_LIMIT = 5000;
/** Hits listed in the panel at most (the DOM stays small; the rest are lit). */
export const HITS_LISTED = 200;

export interface SearchState {
  /** The query as typed, and how it matches. */
  readonly text: string;
  readonly mode: SearchMode;
  /** The answer, and the `[checkpoint key, text, mode]` (JSON) it answers. */
  readonly result: SearchResponse | null;
  readonly resultFor: string;
  readonly busy: boolean;
  /** The route's message (an invalid regex), or why it failed. */
  readonly error: string | null;
}

export const INITIAL_SEARCH: SearchState = { text: "", mode: "exact", result: null, resultFor: "", busy: false, error: null };

/** Which query of which checkpoint a search answer is for. */
export function searchKey(checkpoint: string, text: string, mode: SearchMode): string {
  return JSON.stringify([checkpoint, text, mode]);
}

export const DEFAULT_NEIGHBORS_K = 10;
export const MAX_NEIGHBORS_K = 200;

export interface NeighborsState {
  /** Query the hovered step (debounced); else only the pinned one. */
  readonly follow: boolean;
  /** A point kept as the query whatever is hovered, or null. */
  readonly pinned: number | null;
  readonly k: number;
  readonly method: NeighborMethod;
  /** The point queried last (the answer's, once it arrives), or null. */
  readonly point: number | null;
  readonly result: NeighborsResponse | null;
  readonly busy: boolean;
  readonly error: string | null;
}

export const INITIAL_NEIGHBORS: NeighborsState = {
  follow: false,
  pinned: null,
  k: DEFAULT_NEIGHBORS_K,
  method: "exact",
  point: null,
  result: null,
  busy: false,
  error: null,
};

/** Point indices change with the checkpoint: the query point, pin and answer go. */
export function neighborsForNewData(state: NeighborsState): NeighborsState {
  if (state.point === null && state.pinned === null && state.result === null && state.error === null) return state;
  return { ...state, point: null, pinned: null, result: null, error: null, busy: false };
}

/** `k` as the route accepts it: an integer in [1, MAX_NEIGHBORS_K], else the default. */
export function clampK(k: number): number {
  return Number.isFinite(k) ? Math.min(MAX_NEIGHBORS_K, Math.max(1, Math.round(k))) : DEFAULT_NEIGHBORS_K;
}

/** The annotation filter the user applied (re-applied to each checkpoint), or null. */
export type FilterState = AnnotationFilter | null;
