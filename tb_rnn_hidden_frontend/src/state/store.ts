/**
 * A tiny observable store. Data flows backend routes -> the store -> views.
 * Views never talk to each other: they write to the store and re-render from
 * it, so new views only need to subscribe.
 */
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
