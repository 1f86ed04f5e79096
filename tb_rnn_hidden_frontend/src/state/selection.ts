/**
 * Reducers of the linked selection (sequences, focus, hover, brush, distance
 * range): each returns the patch a view writes to the store.
 */
import type { CheckpointData } from "../domain/model";
import type { AppState } from "./app_state";

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
 * A click on sequence `i`'s row of a table whose rows are `rows` (in their
 * order): with `toggle` (ctrl/cmd) adds or removes it, with `range` (shift)
 * adds the rows from the focus to it, else selects it alone; it is focused.
 */
export function clickRowOf(
  state: Readonly<AppState>,
  i: number,
  rows: () => readonly number[],
  how: { toggle: boolean; range: boolean },
): Pick<AppState, "selected" | "focus"> {
  if (how.toggle) {
    const next = state.selected.includes(i) ? state.selected.filter((s) => s !== i) : [...state.selected, i];
    return selectSequences(state, next, next.includes(i) ? i : null);
  }
  if (how.range && state.focus !== null) {
    const all = rows();
    const [a, b] = [all.indexOf(state.focus), all.indexOf(i)];
    const range = a >= 0 && b >= 0 ? all.slice(Math.min(a, b), Math.max(a, b) + 1) : [i];
    return selectSequences(state, [...state.selected, ...range], i);
  }
  return selectSequences(state, [i], i);
}

/** Up or down one row of `rows` from the focus: that sequence alone, selected and focused (null without rows). */
export function stepRowOf(state: Readonly<AppState>, rows: readonly number[], down: boolean): Pick<AppState, "selected" | "focus"> | null {
  if (rows.length === 0) return null;
  const at = state.focus !== null ? rows.indexOf(state.focus) : -1;
  const next = down ? Math.min(rows.length - 1, at + 1) : Math.max(0, at < 0 ? 0 : at - 1);
  const i = rows[next] as number;
  return selectSequences(state, [i], i);
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

/** The focused sequence of the shown checkpoint, with its points [start, end). */
export interface FocusedSequence {
  data: CheckpointData;
  sequence: number;
  start: number;
  end: number;
}

/** The focused sequence, or null without a checkpoint or a focus inside it. */
export function focusedSequence(state: Readonly<AppState>): FocusedSequence | null {
  const data = state.data;
  if (data === null || state.focus === null || state.focus >= data.meta.num_sequences) return null;
  const [start, end] = pointsOf(data, state.focus);
  return { data, sequence: state.focus, start, end };
}
