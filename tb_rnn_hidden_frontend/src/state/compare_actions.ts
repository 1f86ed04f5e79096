/**
 * The reducers of compare mode: turning it on (with a B chosen as the user
 * most likely wants it), choosing B, keeping B in the listing.
 */
import { normalizeSelection, stepsOf, type AppState, type Selection } from "./app_state";
import { DEFAULT_CHANGES, INITIAL_SIDE, type CompareSideState, type CompareState } from "./compare";

function sideAt(b: Readonly<CompareSideState>, selection: Selection): CompareSideState {
  if (b.run === selection.run && b.tag === selection.tag && b.step === selection.step) return b;
  return { ...b, run: selection.run, tag: selection.tag, step: selection.step };
}

/** The pair's answer and table filter cleared: they were of another pair. */
function withB(state: Readonly<AppState>, b: CompareSideState): CompareState {
  if (b === state.compare.b) return state.compare;
  return { ...state.compare, b, answer: null, error: null, changes: { ...state.compare.changes, cell: null } };
}

/**
 * Compare mode on. Without a B chosen before: B is the checkpoint shown and
 * A the one before it, so that A → B reads as the last step of training
 * (with one checkpoint, B is it too).
 */
export function withCompareOn(state: Readonly<AppState>): AppState {
  if (state.compare.on) return state as AppState;
  if (state.compare.b.run !== null) {
    const b = sideAt(state.compare.b, normalizeSelection(state.tags, state.compare.b));
    return { ...state, compare: { ...withB(state, b), on: true } };
  }
  const steps = stepsOf(state);
  const index = state.step === null ? -1 : steps.indexOf(state.step);
  const before = index > 0 ? (steps[index - 1] as number) : state.step;
  const b = sideAt(INITIAL_SIDE, { run: state.run, tag: state.tag, step: state.step });
  return { ...state, step: before, compare: { ...withB(state, b), on: true, changes: DEFAULT_CHANGES } };
}

export function withCompareOff(state: Readonly<AppState>): AppState {
  if (!state.compare.on) return state as AppState;
  return { ...state, compare: { ...state.compare, on: false, answer: null, error: null, busy: false } };
}

/** B moved to `wanted` (repaired to exist in the listing like A's selection). */
export function withCompareB(state: Readonly<AppState>, wanted: Partial<Selection>): AppState {
  const b = state.compare.b;
  const selection = normalizeSelection(state.tags, { run: b.run, tag: b.tag, step: b.step, ...wanted });
  return { ...state, compare: withB(state, sideAt(b, selection)) };
}

/** After a new listing: B kept where it still exists, else repaired (only while compare mode is on). */
export function withCompareListed(state: Readonly<AppState>): AppState {
  if (!state.compare.on || state.run === null) return state as AppState;
  // A link that turned compare mode on without naming B: B as the toggle would choose it.
  if (state.compare.b.run === null) return withCompareOn({ ...state, compare: { ...state.compare, on: false } });
  const b = sideAt(state.compare.b, normalizeSelection(state.tags, state.compare.b));
  return b === state.compare.b ? (state as AppState) : { ...state, compare: withB(state, b) };
}

/** The steps of B's run and tag. */
export function stepsOfB(state: Readonly<AppState>): number[] {
  const { run, tag } = state.compare.b;
  return stepsOf({ ...state, run, tag } as AppState);
}
