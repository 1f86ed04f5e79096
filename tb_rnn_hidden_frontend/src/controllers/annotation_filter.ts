/**
 * The annotation filter: lights the steps it keeps (`lit`, source "filter")
 * when the user applies it, and again on each next checkpoint while nothing
 * else was lit since (its points recomputed from that checkpoint's track);
 * clearing it puts its light out.
 */
import { filterLabel, filterPoints } from "../domain/annotations";
import type { AppState, LitPoints } from "../state/app_state";
import type { Store } from "../state/store";

function litOf(state: Readonly<AppState>): LitPoints | null {
  const filter = state.annotationFilter;
  if (filter === null || state.data === null || !state.data.annotations.some((t) => t.name === filter.track)) return null;
  const points = filterPoints(state.data.annotations, filter);
  return { points, source: "filter", label: `${filterLabel(filter)}: ${points.length} ${points.length === 1 ? "step" : "steps"}` };
}

export function startAnnotationFilter(store: Store<AppState>): void {
  // The filter's steps are what is lit (a checkpoint change clears `lit` but not this).
  let shown = false;
  store.subscribe((state, previous) => {
    if (state.lit !== previous.lit && state.data === previous.data) shown = state.lit?.source === "filter";
    const applied = state.annotationFilter !== previous.annotationFilter;
    const relight = state.data !== previous.data && shown;
    if (!applied && !relight) return;
    // After this change has reached every listener (no nested set).
    queueMicrotask(() => {
      const now = store.get();
      const lit = litOf(now);
      if (lit !== null) store.set({ lit });
      else if (now.lit?.source === "filter") store.set({ lit: null });
    });
  });
}
