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

/** A layer whose figures over training are wanted: A's, or B's in compare mode. */
interface Layer {
  readonly run: string;
  readonly tag: string;
  readonly key: string;
}

/** A's run and tag, with its checkpoints (a new one asks again); null before the first listing. */
function layerOfA(state: Readonly<AppState>): Layer | null {
  if (state.run === null || state.tag === null || !state.requests.tagsLoaded) return null;
  return { run: state.run, tag: state.tag, key: JSON.stringify([state.run, state.tag, stepsOf(state), state.table.flipThreshold]) };
}

/** B's run and tag in compare mode when they are not A's (else A's answer serves both). */
function layerOfB(state: Readonly<AppState>): Layer | null {
  const { on, b } = state.compare;
  if (!on || b.run === null || b.tag === null || !state.requests.tagsLoaded || (b.run === state.run && b.tag === state.tag)) return null;
  const steps = stepsOf({ ...state, run: b.run, tag: b.tag } as AppState);
  return { run: b.run, tag: b.tag, key: JSON.stringify([b.run, b.tag, steps, state.table.flipThreshold]) };
}

/** Keeps `training[field]` the answer for `layerOf`'s layer: asked once per key, the older request aborted. */
function followLayer(store: Store<AppState>, layerOf: (state: Readonly<AppState>) => Layer | null, field: "answer" | "answerB"): void {
  let asked: string | null = null;
  let inFlight: AbortController | null = null;
  store.subscribe((state) => {
    const layer = layerOf(state);
    const key = layer?.key ?? null;
    if (key === asked) return;
    asked = key;
    inFlight?.abort();
    if (layer === null) {
      // B's series is dropped at once when B is A's layer again or compare mode is off.
      if (field === "answerB") queueMicrotask(() => store.get().training.answerB !== null && store.set({ training: { ...store.get().training, answerB: null } }));
      return;
    }
    const controller = new AbortController();
    inFlight = controller;
    // The chart keeps the last answer (it says which run and tag it is of) while the next one comes.
    queueMicrotask(() => {
      if (asked === key) store.set({ training: { ...store.get().training, error: null, busy: true } });
    });
    fetchTraining({ run: layer.run, tag: layer.tag }, state.table.flipThreshold, controller.signal).then(
      (answer) => {
        if (asked === key) store.set({ training: { ...store.get().training, [field]: answer, error: null, busy: false } });
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
  followLayer(store, layerOfA, "answer");
  followLayer(store, layerOfB, "answerB");
}
