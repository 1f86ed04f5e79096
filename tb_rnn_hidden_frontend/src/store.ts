/**
 * A tiny observable store, plus the selection state shared by all views.
 *
 * Views never talk to each other: they write to the store and re-render from
 * it, so new views (heatmaps, projections, ...) only need to subscribe.
 */
import type { TagsResponse } from "./api";

export type Listener<S> = (state: Readonly<S>, previous: Readonly<S>) => void;

export interface Store<S extends object> {
  get(): Readonly<S>;
  /** Shallow-merges `patch`; listeners run only if some field actually changed. */
  set(patch: Partial<S>): void;
  /** Returns an unsubscribe function. */
  subscribe(listener: Listener<S>): () => void;
}

export function createStore<S extends object>(initial: S): Store<S> {
  let state: Readonly<S> = { ...initial };
  const listeners = new Set<Listener<S>>();
  return {
    get: () => state,
    set(patch) {
      const changed = (Object.keys(patch) as (keyof S)[]).some(
        (key) => !Object.is(state[key], patch[key]),
      );
      if (!changed) return;
      const previous = state;
      state = { ...state, ...patch };
      // Copy so a listener that (un)subscribes does not disturb this round.
      for (const listener of [...listeners]) listener(state, previous);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}

/** What the user is looking at: one checkpoint (`step`) of one layer (`tag`) of one run. */
export interface Selection {
  run: string | null;
  tag: string | null;
  step: number | null;
}

export const EMPTY_SELECTION: Selection = { run: null, tag: null, step: null };

function has(obj: object, key: string): boolean {
  // Not `key in obj`: a run named e.g. "constructor" must not match Object.prototype.
  return Object.prototype.hasOwnProperty.call(obj, key);
}

/**
 * Returns a selection that exists in `tags`, keeping as much of `wanted` as
 * possible: unknown runs/tags fall back to the first one (sorted) and an
 * unknown step to the latest checkpoint.
 */
export function normalizeSelection(tags: TagsResponse, wanted: Selection): Selection {
  const runs = Object.keys(tags).sort();
  const run = wanted.run !== null && has(tags, wanted.run) ? wanted.run : (runs[0] ?? null);
  if (run === null) return EMPTY_SELECTION;
  const runTags = tags[run] ?? {};
  const tagNames = Object.keys(runTags).sort();
  const tag = wanted.tag !== null && has(runTags, wanted.tag) ? wanted.tag : (tagNames[0] ?? null);
  if (tag === null) return { run, tag: null, step: null };
  const steps = runTags[tag]?.steps ?? [];
  const step =
    wanted.step !== null && steps.includes(wanted.step)
      ? wanted.step
      : (steps[steps.length - 1] ?? null);
  return { run, tag, step };
}
