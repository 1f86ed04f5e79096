/**
 * Compare mode's requests: `/compare` for the pair (A, B) on screen, and
 * `/training` for A's run and layer (the chart over training, shown with or
 * without compare mode). Each answer goes into the store with the pair or
 * layer it is of; a newer pair aborts the older request, and the old answer
 * is cleared at once (the change table never shows another pair's rows).
 */
import { describeError, isAbort } from "../api/http";
import { fetchCompare, fetchTraining } from "../api/routes";
import { stepsOf, type AppState } from "../state/app_state";
import { withCompareListed } from "../state/compare_actions";
import type { Store } from "../state/store";

/** What `/compare` is asked about, as a key: null when there is no whole pair. */
function pairKey(state: Readonly<AppState>): string | null {
  const { on, b } = state.compare;
  if (!on || state.run === null || state.tag === null || state.step === null || b.run === null || b.tag === null || b.step === null) return null;
  return JSON.stringify([state.run, state.tag, state.step, b.run, b.tag, b.step, state.table.flipThreshold]);
}

function followPair(store: Store<AppState>): void {
  let asked: string | null = null;
  let inFlight: AbortController | null = null;
  const ask = async (state: Readonly<AppState>, key: string) => {
    inFlight?.abort();
    await null; // not inside the listener round that asked (no nested set)
    if (asked !== key) return;
    const controller = new AbortController();
    inFlight = controller;
    store.set({ compare: { ...store.get().compare, answer: null, error: null, busy: true } });
    const b = state.compare.b as { run: string; tag: string; step: number };
    const a = { run: state.run as string, tag: state.tag as string, step: state.step as number };
    try {
      const answer = await fetchCompare(a, b, state.table.flipThreshold, controller.signal);
      if (asked !== key) return;
      store.set({ compare: { ...store.get().compare, answer, error: null, busy: false } });
    } catch (err) {
      if (controller.signal.aborted || isAbort(err) || asked !== key) return;
      store.set({ compare: { ...store.get().compare, answer: null, error: describeError(err), busy: false } });
    }
  };
  store.subscribe((state) => {
    const key = pairKey(state);
    if (key === asked) return;
    asked = key;
    if (key === null) {
      inFlight?.abort();
      return;
    }
    void ask(state, key);
  });
}

/** What `/training` is asked about: A's run and tag, with its checkpoints (a new one asks again). */
function layerKey(state: Readonly<AppState>): string | null {
  if (state.run === null || state.tag === null || !state.requests.tagsLoaded) return null;
  return JSON.stringify([state.run, state.tag, stepsOf(state), state.table.flipThreshold]);
}

function followLayer(store: Store<AppState>): void {
  let asked: string | null = null;
  let inFlight: AbortController | null = null;
  store.subscribe((state) => {
    const key = layerKey(state);
    if (key === asked) return;
    asked = key;
    inFlight?.abort();
    if (key === null) return;
    const controller = new AbortController();
    inFlight = controller;
    const query = { run: state.run as string, tag: state.tag as string };
    // The chart keeps the last answer (it says which run and tag it is of) while the next one comes.
    queueMicrotask(() => {
      if (asked === key) store.set({ training: { ...store.get().training, error: null, busy: true } });
    });
    fetchTraining(query, state.table.flipThreshold, controller.signal).then(
      (answer) => {
        if (asked === key) store.set({ training: { answer, error: null, busy: false } });
      },
      (err: unknown) => {
        if (controller.signal.aborted || isAbort(err) || asked !== key) return;
        store.set({ training: { ...store.get().training, error: describeError(err), busy: false } });
      },
    );
  });
}

/** B kept in the listing as new checkpoints arrive. */
function followListing(store: Store<AppState>): void {
  store.subscribe((state, previous) => {
    if (state.tags === previous.tags && state.compare.on === previous.compare.on) return;
    queueMicrotask(() => {
      const now = store.get();
      const next = withCompareListed(now);
      if (next !== now) store.set({ compare: next.compare });
    });
  });
}

export function startCompare(store: Store<AppState>): void {
  followListing(store);
  followPair(store);
  followLayer(store);
}
