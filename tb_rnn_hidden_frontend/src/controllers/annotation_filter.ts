/**
 * The annotation filter: lights the steps it keeps (`lit`, source "filter")
 * when the user applies it, and again on each checkpoint it was lit on
 * before (its points are recomputed from the new checkpoint's track);
 * clearing it puts its light out.
 */
import { filterLabel, filterPoints } from "../domain/annotations";
import type { AppState, LitPoints } from "../state/app_state";
import type { Store } from "../state/store";

function litOf(state: Readonly<AppState>): LitPoints | null {
  const filter = state.annotationFilter;
  if (filter === null || state.data === null) return null;
  const points = filterPoints(state.data.annotations, filter);
  return { points, source: "filter", label: `${filterLabel(filter)}: ${points.length} ${points.length === 1 ? "step" : "steps"}` };
}

export function startAnnotationFilter(store: Store<AppState>): void {
  store.subscribe((state, previous) => {
    const applied = state.annotationFilter !== previous.annotationFilter;
    const relight = state.data !== previous.data && previous.lit?.source === "filter";
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
