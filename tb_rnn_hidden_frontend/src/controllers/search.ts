/**
 * The token search: runs `/search` for the query in `state.search` on the
 * shown checkpoint (debounced while typing; a newer query or checkpoint aborts
 * the older request), writes the answer or the route's message back, and
 * lights the hits (`lit`, source "search"). On another checkpoint the query
 * runs again, and its hits are lit again unless something else was lit since.
 */
import { describeError, isAbort } from "../api/http";
import { fetchSearch, type CheckpointQuery } from "../api/routes";
import type { CheckpointData } from "../domain/model";
import { checkpointQueryOf, hitPoints, searchUnavailable } from "../domain/search";
import type { AppState, LitPoints } from "../state/app_state";
import { SEARCH_LIMIT, searchKey, type SearchState } from "../state/search_state";
import type { Store } from "../state/store";

/** Delay after the last keystroke before the query is sent. */
const SEARCH_DEBOUNCE_MS = 250;


/** What the lit hits are called in the projection's legend. */
function litLabel(text: string, mode: string, listed: number, total: number): string {
  const shown = listed < total ? `${listed} of ${total}` : String(total);
  return `search ${mode} "${text}": ${shown} ${total === 1 ? "hit" : "hits"}`;
}

export function startSearch(store: Store<AppState>): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: AbortController | null = null;
  let requested = "";
  // Light the next answer: the user asked, and nothing else has been lit since on the same checkpoint
  // (a checkpoint change clears `lit` but not this: the hits light again on the next one with tokens).
  let lightOnAnswer = false;
  const patch = (next: Partial<SearchState>, lit?: LitPoints | null) =>
    store.set({ search: { ...store.get().search, ...next }, ...(lit !== undefined ? { lit } : {}) });
  const ownLitOff = () => (store.get().lit?.source === "search" ? null : undefined);

  const run = async (data: CheckpointData, query: CheckpointQuery, text: string, mode: SearchState["mode"], key: string) => {
    const controller = new AbortController();
    inFlight = controller;
    patch({ busy: true });
    try {
      const result = await fetchSearch({ ...query, q: text, mode, limit: SEARCH_LIMIT }, controller.signal);
      if (controller.signal.aborted) return;
      const lit = lightOnAnswer
        ? { points: hitPoints(data, result.hits), source: "search" as const, label: litLabel(text, mode, result.hits.length, result.total) }
        : undefined;
      patch({ result, resultFor: key, busy: false, error: null }, lit);
    } catch (err) {
      if (controller.signal.aborted || isAbort(err)) return;
      patch({ result: null, resultFor: key, busy: false, error: describeError(err) }, ownLitOff());
    } finally {
      if (inFlight === controller) inFlight = null;
    }
  };

  store.subscribe((state, previous) => {
    if (state.lit !== previous.lit && state.data === previous.data) lightOnAnswer = state.lit?.source === "search";
    const { data } = state;
    const text = state.search.text.trim();
    const { mode } = state.search;
    const key = data !== null ? searchKey(data.key, text, mode) : "";
    if (key === requested) return;
    requested = key;
    if (data === previous.data) lightOnAnswer = true; // the user changed the query
    clearTimeout(timer);
    inFlight?.abort();
    inFlight = null;
    const query = data !== null ? checkpointQueryOf(data) : null;
    if (data === null || query === null || text === "" || searchUnavailable(data) !== null) {
      // After this change has reached every listener (no nested set).
      queueMicrotask(() => patch({ result: null, resultFor: "", busy: false, error: null }, ownLitOff()));
      return;
    }
    timer = setTimeout(() => void run(data, query, text, mode, key), SEARCH_DEBOUNCE_MS);
  });
}
