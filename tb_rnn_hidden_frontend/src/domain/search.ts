/**
 * Token search hits and nearest neighbours as the tab shows them: a hit or
 * neighbour as its tokens with context (never crossing its sequence), and the
 * points they light in the projection.
 */
import type { NeighborsResponse, SearchHit } from "../api/types";
import type { CheckpointData } from "./model";

/** The tokens of steps [start, end) of a sequence with up to `context` tokens either side. */
export interface TokenWindow {
  readonly before: readonly string[];
  readonly inside: readonly string[];
  readonly after: readonly string[];
  /** Whether the sequence goes on before / after the window ("…"). */
  readonly clippedBefore: boolean;
  readonly clippedAfter: boolean;
}

/** The token of point `p` ("?" when unknown, "" without tokens). */
export function tokenText(data: CheckpointData, p: number): string {
  if (data.tokens === null) return "";
  return data.vocabulary?.[data.tokens[p] ?? -1] ?? "?";
}

/**
 * Steps [start, end) of `sequence` with `context` steps either side, clipped
 * at the sequence's ends (a window never shows another sequence's tokens);
 * null when the range is not inside the sequence.
 */
export function tokenWindow(data: CheckpointData, sequence: number, start: number, end: number, context: number): TokenWindow | null {
  const first = data.offsets[sequence];
  const next = data.offsets[sequence + 1];
  if (first === undefined || next === undefined) return null;
  const length = next - first;
  if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start < end && end <= length)) return null;
  const from = Math.max(0, start - context);
  const to = Math.min(length, end + context);
  const tokens = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => tokenText(data, first + a + i));
  return {
    before: tokens(from, start),
    inside: tokens(start, end),
    after: tokens(end, to),
    clippedBefore: from > 0,
    clippedAfter: to < length,
  };
}

/** Ascending, unique, inside [0, n). */
function sortedUnique(points: number[], n: number): Int32Array {
  const sorted = Int32Array.from(points.filter((p) => Number.isInteger(p) && p >= 0 && p < n)).sort();
  let count = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[count++] = sorted[i] as number;
  return sorted.slice(0, count);
}

/**
 * Every point the hits cover (steps [start, end) of each, as
 * `offsets[sequence] + step`), ascending and unique; hits outside their
 * sequence are left out.
 */
export function hitPoints(data: CheckpointData, hits: readonly SearchHit[]): Int32Array {
  const points: number[] = [];
  for (const hit of hits) {
    const first = data.offsets[hit.sequence];
    const next = data.offsets[hit.sequence + 1];
    if (first === undefined || next === undefined || hit.start < 0 || hit.end > next - first) continue;
    for (let t = hit.start; t < hit.end; t++) points.push(first + t);
  }
  return sortedUnique(points, data.pointSequence.length);
}

/** The neighbours' points and the query point itself, ascending and unique. */
export function neighborPoints(data: CheckpointData, result: NeighborsResponse): Int32Array {
  return sortedUnique([result.point, ...result.neighbors.map((n) => n.point)], data.pointSequence.length);
}

/** Why token search cannot run on this checkpoint, or null when it can. */
export function searchUnavailable(data: CheckpointData | null): string | null {
  if (data === null) return "No checkpoint is loaded.";
  if (data.tokens === null || data.vocabulary === null) return "This checkpoint was logged without tokens (numeric sequences): there is nothing to search.";
  return null;
}

/** "sequence 3, step 5" of point `p`. */
export function pointName(data: CheckpointData, p: number): string {
  return `sequence ${data.pointSequence[p] ?? "?"}, step ${data.pointStep[p] ?? "?"}`;
}

/** The run, tag and step a checkpoint's data belongs to (from its key), for the routes that query it. */
export function checkpointQueryOf(data: CheckpointData): { run: string; tag: string; step: number } | null {
  try {
    const [run, tag, step] = JSON.parse(data.key) as unknown[];
    return typeof run === "string" && typeof tag === "string" && typeof step === "number" ? { run, tag, step } : null;
  } catch {
    return null;
  }
}
