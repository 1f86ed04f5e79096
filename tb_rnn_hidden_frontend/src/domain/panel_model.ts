/**
 * Pure computations behind the overview, table and histogram panels, kept
 * apart from the DOM so they are unit-tested under Node.
 */
import { flipSteps } from "./flips";
import type { CheckpointData, SortKey, TableState } from "./model";

export interface ClassCounts {
  /** Per true class: number of sequences and of correctly classified ones. */
  total: number[];
  correct: number[];
  /** confusion[t][p]: sequences of true class t predicted as p. */
  confusion: number[][];
  /** Sequences in each confusion cell, for selection by click. */
  members: number[][][];
}

export function classCounts(data: CheckpointData): ClassCounts | null {
  const labels = data.meta.labels;
  const predictions = data.meta.predictions;
  const c = data.classNames.length;
  if (labels === null || predictions === null || c === 0) return null;
  const total = new Array<number>(c).fill(0);
  const correct = new Array<number>(c).fill(0);
  const confusion = Array.from({ length: c }, () => new Array<number>(c).fill(0));
  const members = Array.from({ length: c }, () => Array.from({ length: c }, () => [] as number[]));
  for (let i = 0; i < labels.length; i++) {
    const t = labels[i] as number;
    const p = predictions[i] as number;
    if (t < 0 || t >= c || p < 0 || p >= c) continue;
    total[t] = (total[t] as number) + 1;
    if (t === p) correct[t] = (correct[t] as number) + 1;
    (confusion[t] as number[])[p] = ((confusion[t] as number[])[p] as number) + 1;
    ((members[t] as number[][])[p] as number[]).push(i);
  }
  return { total, correct, confusion, members };
}

/** Whether sequence i is classified correctly (null without labels or predictions). */
export function isCorrect(data: CheckpointData, i: number): boolean | null {
  const label = data.meta.labels?.[i];
  const prediction = data.meta.predictions?.[i];
  if (label === undefined || label === null || prediction === undefined || prediction === null) return null;
  return label === prediction;
}

/**
 * The direction of a column's first click, the one triage wants first: the
 * least confident, the wrong, the latest flips and the longest sequences on
 * top; index and classes in their natural order.
 */
export function firstDescending(key: SortKey): boolean {
  return key === "flip" || key === "length";
}

function sortValue(data: CheckpointData, i: number, key: SortKey, flips: Int32Array): number {
  switch (key) {
    case "index":
      return i;
    case "label":
      return data.meta.labels?.[i] ?? -1;
    case "prediction":
      return data.meta.predictions?.[i] ?? -1;
    case "correct": {
      const correct = isCorrect(data, i);
      return correct === null ? -1 : correct ? 1 : 0;
    }
    case "confidence":
    {
      const confidence = data.meta.confidences?.[i];
      return typeof confidence === "number" && Number.isFinite(confidence) ? confidence : -1;
    }
    case "flip":
      return flips[i] ?? 0;
    case "length":
      return data.meta.lengths[i] ?? 0;
  }
}

/** The table's rows: sequence indices filtered and sorted as `table` says (ties by index). */
export function tableRows(data: CheckpointData, table: TableState): number[] {
  const rows: number[] = [];
  for (let i = 0; i < data.meta.num_sequences; i++) {
    if (table.wrongOnly && isCorrect(data, i) !== false) continue;
    if (table.labelFilter !== null && data.meta.labels?.[i] !== table.labelFilter) continue;
    rows.push(i);
  }
  const sign = table.descending ? -1 : 1;
  const values = new Float64Array(data.meta.num_sequences);
  const flips = table.sortKey === "flip" ? flipSteps(data, table.flipThreshold) : new Int32Array(0);
  for (const i of rows) values[i] = sortValue(data, i, table.sortKey, flips);
  rows.sort((a, b) => sign * ((values[a] as number) - (values[b] as number)) || a - b);
  return rows;
}

/**
 * The first tokens of sequence i, as text: words joined by spaces, but
 * single characters (a character-level model) joined as they are, so a word
 * reads "indefatigable" and not "i n d e f …"; `count` words or `4 * count`
 * characters.
 */
export function sequenceText(data: CheckpointData, i: number, count = 12): string {
  const length = data.meta.lengths[i] ?? 0;
  if (data.tokens === null || data.vocabulary === null) return `numeric, ${length} steps`;
  const start = data.offsets[i] as number;
  const token = (t: number) => data.vocabulary?.[data.tokens?.[start + t] as number] ?? "?";
  const chars = characterTokens(data, i);
  const shown = Math.min(chars ? 4 * count : count, length);
  const words: string[] = [];
  for (let t = 0; t < shown; t++) words.push(token(t));
  return words.join(chars ? "" : " ") + (length > shown ? " …" : "");
}

/** Whether every token of sequence i is one character (one code point), so its text is joined without spaces. */
export function characterTokens(data: CheckpointData, i: number): boolean {
  if (data.tokens === null || data.vocabulary === null) return false;
  const end = data.offsets[i + 1] as number;
  for (let p = data.offsets[i] as number; p < end; p++) {
    const word = data.vocabulary[data.tokens[p] as number];
    if (word === undefined || [...word].length !== 1) return false;
  }
  return end > (data.offsets[i] as number);
}

/** Counts of `values` (in [0, 1]) in `bins` equal bins; 1.0 falls in the last. */
export function histogram(values: Float32Array, bins: number): number[] {
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isFinite(v)) continue;
    const b = Math.min(bins - 1, Math.max(0, Math.floor(v * bins)));
    counts[b] = (counts[b] as number) + 1;
  }
  return counts;
}

/**
 * The distance range after a key press on the histogram, in whole bins of
 * `bins` (a dragged range snaps to the nearest bin edges): arrows move it one
 * bin, shift+arrows move its upper end (at least one bin wide), Home/End move
 * it to either end. Without a range, any of these shows the first bin (Home,
 * arrows) or the last (End). Null for other keys: the range does not change.
 */
export function keyedRange(
  range: readonly [number, number] | null,
  key: string,
  shift: boolean,
  bins: number,
): [number, number] | null {
  let lo = range === null ? 0 : Math.min(bins - 1, Math.max(0, Math.round(range[0] * bins)));
  let hi = range === null ? 1 : Math.min(bins, Math.max(lo + 1, Math.round(range[1] * bins)));
  const width = hi - lo;
  const up = key === "ArrowRight" || key === "ArrowUp";
  const down = key === "ArrowLeft" || key === "ArrowDown";
  if (!up && !down && key !== "Home" && key !== "End") return null;
  if (key === "Home") [lo, hi] = [0, width];
  else if (key === "End") [lo, hi] = [bins - width, bins];
  else if (range !== null && shift) hi = up ? Math.min(bins, hi + 1) : Math.max(lo + 1, hi - 1);
  else if (range !== null && up && hi < bins) [lo, hi] = [lo + 1, hi + 1];
  else if (range !== null && down && lo > 0) [lo, hi] = [lo - 1, hi - 1];
  return [lo / bins, hi / bins];
}
