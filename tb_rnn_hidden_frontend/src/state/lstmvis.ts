/**
 * The state of LSTMVis' select and match views: the hypothesis (brushed
 * range, threshold, off extents, the selected units), the match query run on
 * some checkpoint and its answer, and the match quality of that query per
 * checkpoint. With the reducers the views and the controller write it by.
 */
import type { MatchesResponse } from "../api/types";
import {
  DEFAULT_OFF_AFTER,
  DEFAULT_OFF_BEFORE,
  DEFAULT_THRESHOLD,
  clampOff,
  toggleUnit,
  type UnitBrush,
} from "../domain/lstmvis";

/**
 * Hidden states of some sequences of one checkpoint (`checkpoint` is its
 * `CheckpointData.key`): the focused one and those of the shown hits, each
 * [lengths[sequence], numUnits] row-major, read one sequence at a time.
 */
export interface SequenceStates {
  readonly checkpoint: string;
  readonly numUnits: number;
  readonly bySequence: ReadonlyMap<number, Float32Array>;
}

/** Sequence `sequence`'s rows of checkpoint `checkpoint`, or null when they are not read (yet). */
export function sequenceRows(states: SequenceStates | null, checkpoint: string, sequence: number): Float32Array | null {
  if (states === null || states.checkpoint !== checkpoint) return null;
  return states.bySequence.get(sequence) ?? null;
}

/** A `/units` request: the hypothesis it asked about (`key`), and how it fared. */
export interface UnitsRequest {
  readonly status: "idle" | "loading" | "done" | "failed";
  /** `selectionKey` of the hypothesis asked about. */
  readonly key: string;
  readonly error: string | null;
  /** The checkpoint step the units were selected at. */
  readonly step: number | null;
}

/**
 * What Match asks: these units at this threshold; a run's edge is
 * constrained (off just outside it) where the hypothesis has an off extent
 * on that side, as LSTMVis constrains its matches by the selection's.
 */
export interface MatchQuery {
  readonly units: readonly number[];
  readonly threshold: number;
  readonly offBefore: number;
  readonly offAfter: number;
}

/** The match query run on one checkpoint (`checkpoint` is its `CheckpointData.key`). */
export interface MatchRun {
  readonly status: "loading" | "done" | "failed";
  readonly checkpoint: string;
  readonly step: number;
  readonly query: MatchQuery;
  readonly response: MatchesResponse | null;
  readonly error: string | null;
}

/** The match quality of one query on every checkpoint of a run/tag, filled in the background. */
export interface QualityChart {
  /** JSON of run, tag and the query. */
  readonly key: string;
  /** Quality per step (as a string key); null where the request failed. */
  readonly byStep: Readonly<Record<string, number | null>>;
  readonly total: number;
}

export interface LstmvisState {
  /** The row of the select and match views is open (states are read only then). */
  readonly open: boolean;
  readonly brush: UnitBrush | null;
  readonly threshold: number;
  readonly offBefore: number;
  readonly offAfter: number;
  /** The hypothesis: the units `/units` selected, as the user then edited them. */
  readonly units: readonly number[];
  readonly unitsRequest: UnitsRequest;
  /** The shown checkpoint's states of the focused sequence (unit lines) and of the hits' sequences (heat maps), as read. */
  readonly states: SequenceStates | null;
  /** Why the focused sequence's states are not shown (a failed request), or null. */
  readonly statesError: string | null;
  /** The query Match last ran, or null. */
  readonly query: MatchQuery | null;
  /** Bumped by "Match" and "Run on this checkpoint": the controller runs `query` on the shown checkpoint. */
  readonly runRequest: number;
  readonly matches: MatchRun | null;
  /** Re-run the query as the checkpoint changes. */
  readonly keep: boolean;
  readonly quality: QualityChart | null;
}

export const IDLE_UNITS_REQUEST: UnitsRequest = { status: "idle", key: "", error: null, step: null };

export const INITIAL_LSTMVIS: LstmvisState = {
  open: false,
  brush: null,
  threshold: DEFAULT_THRESHOLD,
  offBefore: DEFAULT_OFF_BEFORE,
  offAfter: DEFAULT_OFF_AFTER,
  units: [],
  unitsRequest: IDLE_UNITS_REQUEST,
  states: null,
  statesError: null,
  query: null,
  runRequest: 0,
  matches: null,
  keep: false,
  quality: null,
};

/** The hypothesis `/units` answers for (brush, threshold, off extents) as a key; "" without a brush. */
export function selectionKey(s: Pick<LstmvisState, "brush" | "threshold" | "offBefore" | "offAfter">): string {
  if (s.brush === null) return "";
  return JSON.stringify([s.brush.sequence, s.brush.start, s.brush.end, s.threshold, s.offBefore, s.offAfter]);
}

/** A new brush (or none): the units are asked for again. */
export function withBrush(s: LstmvisState, brush: UnitBrush | null): LstmvisState {
  return { ...s, brush };
}

/** A new threshold (finite; ignored otherwise). */
export function withThreshold(s: LstmvisState, threshold: number): LstmvisState {
  return Number.isFinite(threshold) ? { ...s, threshold: Math.round(threshold * 1000) / 1000 } : s;
}

export function withOff(s: LstmvisState, offBefore: number, offAfter: number): LstmvisState {
  return { ...s, offBefore: clampOff(offBefore), offAfter: clampOff(offAfter) };
}

/** The user adds or removes a unit of the hypothesis. */
export function withUnitToggled(s: LstmvisState, unit: number): LstmvisState {
  return Number.isInteger(unit) && unit >= 0 ? { ...s, units: toggleUnit(s.units, unit) } : s;
}

/** Match: runs the hypothesis' units at its threshold on the shown checkpoint (and charts it across checkpoints). */
export function withMatchRequested(s: LstmvisState): LstmvisState {
  if (s.units.length === 0) return s;
  const query = { units: s.units, threshold: s.threshold, offBefore: s.offBefore, offAfter: s.offAfter };
  return { ...s, query, runRequest: s.runRequest + 1 };
}

/** "Run on this checkpoint": the same query again, on the shown checkpoint. */
export function withRerunRequested(s: LstmvisState): LstmvisState {
  return s.query === null ? s : { ...s, runRequest: s.runRequest + 1 };
}
