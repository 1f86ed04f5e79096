/**
 * Compare mode: a second checkpoint B (of this run, another run or another
 * layer, over the same probe set) beside the selected one (A), with B's own
 * data, projection and request status, the server's comparison of the pair
 * (`/compare`), the change table's sort and filter; and the figures of the
 * chart over training of A's run and layer (`/training`).
 *
 * B's fields mirror A's in AppState, so B's checkpoint loader, projection
 * jobs and projection view are A's own, mounted on a store that reads and
 * writes `compare.b` in their place (state/side_store.ts). Links (selected,
 * focus, hover, brush, lit) are shared: A and B have the same probe set, so
 * a point index means the same step of the same sequence on both sides.
 */
import type { ChangeKind, CompareResponse, TrainingResponse } from "../api/types";
import {
  IDLE_PROJECTION,
  type CheckpointData,
  type ProjectionAction,
  type ProjectionState,
  type ProvisionalLayout,
} from "../domain/model";

/** B's request status, as A's `RequestStatus` (tags fields are A's, read through). */
export interface SideRequests {
  readonly checkpointError: string | null;
  readonly checkpointBusy: boolean;
}

/** B: the checkpoint and what was loaded and laid out for it. */
export interface CompareSideState {
  readonly run: string | null;
  readonly tag: string | null;
  readonly step: number | null;
  readonly data: CheckpointData | null;
  readonly projection: ProjectionState;
  readonly provisional: ProvisionalLayout | null;
  readonly projectionAction: ProjectionAction | null;
  readonly requests: SideRequests;
  readonly playAligned: boolean;
}

export type ChangeSortKey = "index" | "change" | "confidence_a" | "confidence_b" | "delta" | "flip_a" | "flip_b" | "moved";

/** Rows shown: all, one kind, or those whose correctness or prediction changed. */
export type ChangeFilter = "all" | "changed" | ChangeKind;

export interface ChangeTableState {
  readonly sortKey: ChangeSortKey;
  readonly descending: boolean;
  readonly filter: ChangeFilter;
  /** The pressed transition-matrix cell [a][b] (0 wrong, 1 correct), or null. */
  readonly cell: readonly [number, number] | null;
}

export interface CompareState {
  /** Compare mode is on: B is loaded and shown beside A. */
  readonly on: boolean;
  readonly b: CompareSideState;
  /** `/compare`'s answer for the pair (A, B) now selected, or null while none is in. */
  readonly answer: CompareResponse | null;
  /** Why the pair cannot be compared (e.g. the probe sets differ), or null. */
  readonly error: string | null;
  readonly busy: boolean;
  readonly changes: ChangeTableState;
}

export interface TrainingState {
  /** `/training`'s answer for A's run and tag (its `run`, `tag` say which), or null. */
  readonly answer: TrainingResponse | null;
  /** In compare mode with B of another run or layer: `/training`'s answer for B's, drawn beside A's. */
  readonly answerB: TrainingResponse | null;
  readonly error: string | null;
  readonly busy: boolean;
}

export const INITIAL_SIDE: CompareSideState = {
  run: null,
  tag: null,
  step: null,
  data: null,
  projection: IDLE_PROJECTION,
  provisional: null,
  projectionAction: null,
  requests: { checkpointError: null, checkpointBusy: false },
  playAligned: false,
};

export const DEFAULT_CHANGES: ChangeTableState = { sortKey: "change", descending: false, filter: "all", cell: null };

export const INITIAL_COMPARE: CompareState = {
  on: false,
  b: INITIAL_SIDE,
  answer: null,
  error: null,
  busy: false,
  changes: DEFAULT_CHANGES,
};

export const INITIAL_TRAINING: TrainingState = { answer: null, answerB: null, error: null, busy: false };
