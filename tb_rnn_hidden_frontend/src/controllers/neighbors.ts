/**
 * Nearest neighbours: runs `/neighbors` for the query point (the pinned one,
 * else the hovered step while "follow hover" is on; debounced, a newer query
 * aborts the older request), writes the answer back and lights the
 * neighbours with the query point (`lit`, source "neighbors"). Leaving the
 * views keeps the last answer (hover goes back to null, the query does not).
 */
import { describeError, isAbort } from "../api/http";
import { fetchNeighbors } from "../api/routes";
import type { CheckpointData } from "../domain/model";
import { checkpointQueryOf, neighborPoints, pointName } from "../domain/search";
import type { AppState, LitPoints } from "../state/app_state";
import { clampK, type NeighborsState } from "../state/search_state";
import type { Store } from "../state/store";

/** Delay after the pointer rests on a step before its neighbours are asked for. */
const NEIGHBORS_DEBOUNCE_MS = 150;


/** The point to query: the pinned one, the hovered one when following, else the last one queried. */
export function neighborTarget(state: Readonly<AppState>): number | null {
  const { pinned, follow, point } = state.neighbors;
  if (pinned !== null) return pinned;
  if (follow && state.hover !== null) return state.hover;
  return point;
}

export function startNeighbors(store: Store<AppState>): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: AbortController | null = null;
  let requested = "";
  const patch = (next: Partial<NeighborsState>, lit?: LitPoints | null) =>
    store.set({ neighbors: { ...store.get().neighbors, ...next }, ...(lit !== undefined ? { lit } : {}) });

  const run = async (data: CheckpointData, point: number, k: number, method: NeighborsState["method"]) => {
    const query = checkpointQueryOf(data);
    if (query === null) return;
    const controller = new AbortController();
    inFlight = controller;
    patch({ busy: true, point });
    try {
      const result = await fetchNeighbors({ ...query, point, k, method }, controller.signal);
      if (controller.signal.aborted) return;
      const label = `${result.neighbors.length} nearest neighbours (${result.method}) of ${pointName(data, point)}`;
      patch({ result, point, busy: false, error: null }, { points: neighborPoints(data, result), source: "neighbors", label });
    } catch (err) {
      if (controller.signal.aborted || isAbort(err)) return;
      patch({ result: null, busy: false, error: describeError(err) }, store.get().lit?.source === "neighbors" ? null : undefined);
    } finally {
      if (inFlight === controller) inFlight = null;
    }
  };

  store.subscribe((state) => {
    const { data } = state;
    const point = neighborTarget(state);
    const k = clampK(state.neighbors.k);
    const { method } = state.neighbors;
    const key = data !== null && point !== null ? JSON.stringify([data.key, point, k, method]) : "";
    if (key === requested) return;
    requested = key;
    clearTimeout(timer);
    inFlight?.abort();
    inFlight = null;
    if (data === null || point === null || point >= data.pointSequence.length) return;
    timer = setTimeout(() => void run(data, point, k, method), NEIGHBORS_DEBOUNCE_MS);
  });
}
