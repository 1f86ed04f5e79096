/**
 * A tiny observable store, plus the state shared by all views: the `tags`
 * listing from the backend and the user's selection in it.
 *
 * Data flows backend routes -> this store -> views. Views never talk to each
 * other: they write to the store and re-render from it, so new views
 * (heatmaps, projections, ...) only need to subscribe.
 */
import type { InfoResponse, TagsResponse } from "../api/types";
import {
  DEFAULT_DISPLAY,
  DEFAULT_PROJECTION_PARAMS,
  DEFAULT_TABLE,
  EMPTY_LINKS,
  IDLE_PROJECTION,
  type CheckpointData,
  type DisplayOptions,
  type LinkState,
  type ProjectionAction,
  type ProjectionParams,
  type ProjectionState,
  type ProvisionalLayout,
  type TableState,
} from "../domain/model";

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

/**
 * The state of the tab: the latest `tags` listing, a checkpoint that exists in
 * it, that checkpoint's data and projection, and the linked selection.
 */
export interface AppState extends Selection, LinkState {
  tags: TagsResponse;
  /** The decoded data of the selected checkpoint, or null while none is loaded. */
  data: CheckpointData | null;
  /** What the server offers (`/info`: methods, parameter specs), or null until it answers. */
  info: InfoResponse | null;
  /** The projection parameters of the form (sent fitted to the checkpoint: `fittedParams`). */
  params: ProjectionParams;
  projection: ProjectionState;
  /** The shown checkpoint's provisional layout, while its projection computes (or null). */
  provisional: ProvisionalLayout | null;
  /** The last retry or cancel asked for by the controls; index.ts carries it out. */
  projectionAction: ProjectionAction | null;
  /** What the opened link asked for that this server does not show as such (said in the projection panel). */
  linkNotices: readonly string[];
  display: DisplayOptions;
  table: TableState;
  /** Playing through checkpoints. */
  playing: boolean;
  /**
   * Layouts are requested aligned to the neighbour whatever the form says:
   * from Play's start until the user opens another checkpoint or applies
   * parameters, so that the layout Play ended on stays the one shown.
   */
  playAligned: boolean;
  /** How the backend requests behind the page fare (controllers write it; the page shell shows it). */
  requests: RequestStatus;
}

/** What the `tags` poller and the checkpoint loader report, for `#message` and `#views`. */
export interface RequestStatus {
  /** Some `tags` listing has arrived. */
  readonly tagsLoaded: boolean;
  /** Why the last `tags` request failed, or null. */
  readonly tagsError: string | null;
  /** Why the shown checkpoint failed to load, or null. */
  readonly checkpointError: string | null;
  /** A checkpoint's arrays are being fetched. */
  readonly checkpointBusy: boolean;
}

export const INITIAL_REQUESTS: RequestStatus = { tagsLoaded: false, tagsError: null, checkpointError: null, checkpointBusy: false };

/** Before the first `tags` response: nothing listed, nothing selected. */
export const INITIAL_STATE: AppState = {
  tags: {},
  ...EMPTY_SELECTION,
  ...EMPTY_LINKS,
  data: null,
  info: null,
  params: DEFAULT_PROJECTION_PARAMS,
  projection: IDLE_PROJECTION,
  provisional: null,
  projectionAction: null,
  linkNotices: [],
  display: DEFAULT_DISPLAY,
  table: DEFAULT_TABLE,
  playing: false,
  playAligned: false,
  requests: INITIAL_REQUESTS,
};

/** Structural equality of JSON values (object key order does not matter). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((value, i) => jsonEqual(value, b[i]));
  }
  const aKeys = Object.keys(a);
  const bKeys = Object.keys(b);
  return (
    aKeys.length === bKeys.length &&
    aKeys.every(
      (key) => has(b, key) && jsonEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
    )
  );
}

/**
 * The state after a new `tags` listing arrives: the selection is kept where it
 * still exists (a selected step stays selected even when newer checkpoints
 * arrive: the view never jumps on its own), otherwise repaired as in
 * `normalizeSelection`. A listing equal to the current one keeps the current
 * `tags` object, so `store.set` notifies nobody when nothing changed.
 */
export function withTags(state: Readonly<AppState>, tags: TagsResponse): AppState {
  const next = jsonEqual(state.tags, tags) ? state.tags : tags;
  return { ...state, tags: next, ...normalizeSelection(next, state) };
}

/** The state after the user asks for `wanted`, repaired to exist in the current tags. */
export function withSelection(state: Readonly<AppState>, wanted: Partial<Selection>): AppState {
  const selection = normalizeSelection(state.tags, { ...selectionOf(state), ...wanted });
  return { ...state, ...selection };
}

export function selectionOf(state: Readonly<Selection>): Selection {
  return { run: state.run, tag: state.tag, step: state.step };
}

export function sameSelection(a: Readonly<Selection>, b: Readonly<Selection>): boolean {
  return a.run === b.run && a.tag === b.tag && a.step === b.step;
}

/** The logged steps of the selected run and tag (empty when none is selected). */
export function stepsOf(state: Readonly<AppState>): number[] {
  if (state.run === null || state.tag === null) return [];
  const runTags = has(state.tags, state.run) ? state.tags[state.run] : undefined;
  const info = runTags && has(runTags, state.tag) ? runTags[state.tag] : undefined;
  return info?.steps ?? [];
}

/**
 * The state once a checkpoint's data arrives. Point-indexed links (hover,
 * brush, distance range) refer to the old points and are cleared; selected
 * sequences and the focus are kept when the new checkpoint has the same
 * sequences (the probe set logged at every checkpoint), else cleared.
 */
export function withCheckpointData(state: Readonly<AppState>, data: CheckpointData | null): AppState {
  const n = data?.meta.num_sequences ?? 0;
  const sameSequences = data !== null && state.data !== null && state.data.meta.num_sequences === n;
  const keep = sameSequences || (state.data === null && data !== null);
  const selected = keep ? state.selected.filter((i) => i < n) : [];
  const focus = keep && state.focus !== null && state.focus < n ? state.focus : null;
  return {
    ...state,
    data,
    hover: null,
    brushed: null,
    distanceRange: null,
    selected: selected.length === state.selected.length ? state.selected : selected,
    focus,
  };
}

/** Selects `indices` (sorted, unique); the focus is `focus`, else kept if selected, else the first. */
export function selectSequences(
  state: Readonly<AppState>,
  indices: readonly number[],
  focus?: number | null,
): Pick<AppState, "selected" | "focus"> {
  const selected = [...new Set(indices)].sort((a, b) => a - b);
  const next =
    focus !== undefined && focus !== null
      ? focus
      : state.focus !== null && selected.includes(state.focus)
        ? state.focus
        : (selected[0] ?? null);
  return { selected, focus: next };
}

/**
 * A click on a point of sequence `sequence`: selects that sequence alone
 * (kept as is when already selected) and focuses it; with `toggle`
 * (ctrl/cmd), adds or removes it, focusing it when added, else the first.
 */
export function clickSequence(state: Readonly<AppState>, sequence: number, toggle: boolean): Pick<AppState, "selected" | "focus"> {
  if (!toggle) return { selected: state.selected.includes(sequence) ? state.selected : [sequence], focus: sequence };
  const selected = state.selected.includes(sequence)
    ? state.selected.filter((x) => x !== sequence)
    : [...state.selected, sequence].sort((a, b) => a - b);
  return { selected, focus: selected.includes(sequence) ? sequence : (selected[0] ?? null) };
}

/**
 * Brushing points (box, lasso): `brushed` = the points (ascending, unique,
 * inside the checkpoint), `selected` = their sequences; the focus is kept if
 * among them, else the first. An empty brush clears `brushed` and keeps the
 * selection, so a stray click does not lose it.
 */
export function brushPoints(
  state: Readonly<AppState>,
  points: ArrayLike<number>,
): Pick<AppState, "brushed"> | Pick<AppState, "brushed" | "selected" | "focus"> {
  const data = state.data;
  const n = data?.pointSequence.length ?? 0;
  const valid = Int32Array.from(points).filter((p) => p >= 0 && p < n).sort();
  let count = 0;
  for (let i = 0; i < valid.length; i++) if (i === 0 || valid[i] !== valid[i - 1]) valid[count++] = valid[i] as number;
  if (data === null || count === 0) return { brushed: null };
  const brushed = valid.slice(0, count);
  const sequences: number[] = [];
  const seen = new Uint8Array(data.offsets.length - 1);
  for (const p of brushed) {
    const s = data.pointSequence[p] as number;
    if (!seen[s]) {
      seen[s] = 1;
      sequences.push(s);
    }
  }
  return { brushed, ...selectSequences(state, sequences) };
}

/** Hovering a point (a token, a heat-map column, a distance bar map to one), or nothing. */
export function hoverPoint(state: Readonly<AppState>, point: number | null): Pick<AppState, "hover"> {
  const n = state.data?.pointSequence.length ?? 0;
  return { hover: point !== null && Number.isInteger(point) && point >= 0 && point < n ? point : null };
}

/**
 * A brushed range of normalised distances, ordered and clamped to [0, 1];
 * a range too narrow to mean anything (or null) clears it.
 */
export function setDistanceRange(
  range: readonly [number, number] | null,
  minWidth = 0.005,
): Pick<AppState, "distanceRange"> {
  if (range === null || !Number.isFinite(range[0]) || !Number.isFinite(range[1])) return { distanceRange: null };
  const lo = Math.max(0, Math.min(range[0], range[1]));
  const hi = Math.min(1, Math.max(range[0], range[1]));
  return { distanceRange: hi - lo < minWidth ? null : [lo, hi] };
}

/** The steps of sequence `sequence` as point indices [start, end) of the checkpoint. */
export function pointsOf(data: CheckpointData, sequence: number): [number, number] {
  return [data.offsets[sequence] ?? 0, data.offsets[sequence + 1] ?? 0];
}
