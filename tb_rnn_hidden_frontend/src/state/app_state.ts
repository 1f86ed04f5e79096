/**
 * The state shared by all views: the `tags` listing from the backend and the
 * user's selection in it, the checkpoint's data and projection, the linked
 * selection, and how the backend requests fare; with the reducers that keep
 * the selection valid as listings and checkpoints arrive.
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
import { INITIAL_COMPARE, INITIAL_TRAINING, type CompareState, type TrainingState } from "./compare";
import { INITIAL_LSTMVIS, type LstmvisState } from "./lstmvis";
import {
  INITIAL_NEIGHBORS,
  INITIAL_SEARCH,
  neighborsForNewData,
  type FilterState,
  type NeighborsState,
  type SearchState,
} from "./search_state";

/** What the user is looking at: one checkpoint (`step`) of one layer (`tag`) of one run. */
export interface Selection {
  run: string | null;
  tag: string | null;
  step: number | null;
}

/** Points lit in the projection (and listed where they came from): matches, search hits, neighbours, an annotation filter. */
export interface LitPoints {
  /** Ascending point indices. */
  readonly points: Int32Array;
  readonly source: "matches" | "search" | "neighbors" | "filter";
  readonly label: string;
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
  /** The last retry or cancel asked for by the controls (state/actions.ts); the projection jobs carry it out. */
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
  /** Points lit in the projection, others faded (cleared with the checkpoint's data: point indices change). */
  lit: LitPoints | null;
  /** Draw the trajectories of the lit points' sequences. */
  litTrajectories: boolean;
  /** LSTMVis' select and match views (state/lstmvis.ts). */
  lstmvis: LstmvisState;
  /** The token search: query and answer (views/search.ts, controllers/search.ts). */
  search: SearchState;
  /** The nearest-neighbour query and answer (views/neighbors.ts, controllers/neighbors.ts). */
  neighbors: NeighborsState;
  /** The annotation filter applied, lit as source "filter" (controllers/annotation_filter.ts). */
  annotationFilter: FilterState;
  /** Compare mode: checkpoint B beside A, `/compare`'s answer, the change table (state/compare.ts). */
  compare: CompareState;
  /** The chart over training of the selected run and layer (`/training`). */
  training: TrainingState;
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
  lit: null,
  litTrajectories: false,
  lstmvis: INITIAL_LSTMVIS,
  search: INITIAL_SEARCH,
  neighbors: INITIAL_NEIGHBORS,
  annotationFilter: null,
  compare: INITIAL_COMPARE,
  training: INITIAL_TRAINING,
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
    lit: null,
    neighbors: neighborsForNewData(state.neighbors),
    selected: selected.length === state.selected.length ? state.selected : selected,
    focus,
  };
}
