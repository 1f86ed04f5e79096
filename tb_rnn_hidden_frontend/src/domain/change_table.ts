/**
 * The change table's and the transition matrix's pure model over `/compare`'s
 * answer: which sequences a filter and a pressed transition cell keep, in
 * which order a column sorts them, the count per kind for the filter's
 * choices, and the sequences of a transition cell. Kept apart from the DOM so
 * Node tests check it against direct loops.
 *
 * Δconfidence is B's confidence minus A's, each side's confidence in its own
 * final prediction (`confidence_*`: the answer carries no other class's
 * probability): positive when B is surer of what it predicts than A was of
 * what it predicted. With the change column beside it, a drop on a sequence
 * that "became wrong" reads as B confidently wrong or unsure.
 */
import type { ChangeKind, CompareResponse } from "../api/types";
import type { ChangeFilter, ChangeSortKey, ChangeTableState } from "../state/compare";

/** Every kind, in the order the change column sorts ascending: what triage wants first on top. */
export const CHANGE_KINDS: readonly ChangeKind[] = [
  "became_wrong",
  "became_correct",
  "still_wrong",
  "still_correct",
  "prediction_changed",
  "prediction_kept",
];

/** The change column's words. */
export const CHANGE_WORDS: Readonly<Record<ChangeKind, string>> = {
  became_correct: "became correct",
  became_wrong: "became wrong",
  still_correct: "still correct",
  still_wrong: "still wrong",
  prediction_changed: "prediction changed",
  prediction_kept: "prediction kept",
};

/** A change of correctness or of the predicted class (the "changed" filter). */
export function isChange(kind: ChangeKind | null | undefined): boolean {
  return kind === "became_correct" || kind === "became_wrong" || kind === "prediction_changed";
}

/** A column's first click: the most moved, the latest flips on top; the rest ascending (became wrong, least sure, largest drop first). */
export function firstDescendingChange(key: ChangeSortKey): boolean {
  return key === "moved" || key === "flip_a" || key === "flip_b";
}

/** Per sequence B's confidence minus A's (NaN where either is missing); null without confidences. */
export function deltaConfidence(answer: CompareResponse): Float64Array | null {
  const a = answer.confidence_a;
  const b = answer.confidence_b;
  if (a === null || b === null) return null;
  const delta = new Float64Array(answer.num_sequences);
  for (let i = 0; i < delta.length; i++) delta[i] = finite(b[i]) - finite(a[i]);
  return delta;
}

function finite(value: number | null | undefined): number {
  return typeof value === "number" && Number.isFinite(value) ? value : Number.NaN;
}

/** Whether sequence i is correct on side "a" or "b": 1, 0, or null without labels or predictions. */
export function correctness(answer: CompareResponse, side: "a" | "b", i: number): 0 | 1 | null {
  const predictions = side === "a" ? answer.prediction_a : answer.prediction_b;
  const label = answer.labels?.[i];
  const prediction = predictions?.[i];
  if (label === undefined || label === null || prediction === undefined || prediction === null) return null;
  return label === prediction ? 1 : 0;
}

/** The sequences of transition cell [a][b] (0 wrong, 1 correct in A and in B), ascending. */
export function transitionMembers(answer: CompareResponse, a: number, b: number): number[] {
  const members: number[] = [];
  for (let i = 0; i < answer.num_sequences; i++) {
    if (correctness(answer, "a", i) === a && correctness(answer, "b", i) === b) members.push(i);
  }
  return members;
}

/** The share of sequences correct on a side, or null without labels or predictions. */
export function sideAccuracy(answer: CompareResponse, side: "a" | "b"): number | null {
  if (answer.num_sequences === 0) return null;
  let correct = 0;
  for (let i = 0; i < answer.num_sequences; i++) {
    const c = correctness(answer, side, i);
    if (c === null) return null;
    correct += c;
  }
  return correct / answer.num_sequences;
}

/** Per kind the sequences of that kind, and how many changed: the filter's choices with counts. */
export function changeCounts(answer: CompareResponse): { byKind: Map<ChangeKind, number>; changed: number } {
  const byKind = new Map<ChangeKind, number>();
  let changed = 0;
  for (const kind of answer.change ?? []) {
    byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
    if (isChange(kind)) changed++;
  }
  return { byKind, changed };
}

/** Whether sequence i passes the filter. */
function passes(answer: CompareResponse, filter: ChangeFilter, i: number): boolean {
  if (filter === "all") return true;
  const kind = answer.change?.[i];
  return filter === "changed" ? isChange(kind) : kind === filter;
}

/** The values a column sorts by (NaN: missing, always last). */
export function sortValues(answer: CompareResponse, key: ChangeSortKey): Float64Array {
  const n = answer.num_sequences;
  const values = new Float64Array(n);
  const from = (array: readonly (number | null)[] | null) => {
    for (let i = 0; i < n; i++) values[i] = array === null ? Number.NaN : finite(array[i]);
  };
  switch (key) {
    case "index":
      for (let i = 0; i < n; i++) values[i] = i;
      break;
    case "change": {
      const rank = new Map(CHANGE_KINDS.map((kind, r) => [kind, r]));
      for (let i = 0; i < n; i++) values[i] = rank.get(answer.change?.[i] as ChangeKind) ?? Number.NaN;
      break;
    }
    case "confidence_a":
      from(answer.confidence_a);
      break;
    case "confidence_b":
      from(answer.confidence_b);
      break;
    case "delta":
      values.set(deltaConfidence(answer) ?? new Float64Array(n).fill(Number.NaN));
      break;
    case "flip_a":
      from(answer.last_flip_a);
      break;
    case "flip_b":
      from(answer.last_flip_b);
      break;
    case "moved":
      from(answer.moved);
      break;
  }
  return values;
}

/**
 * The table's rows: the sequences that pass the filter and, while a
 * transition cell is pressed, lie in it; sorted by the column (missing values
 * last either way), ties by index.
 */
export function changeRows(answer: CompareResponse, changes: ChangeTableState): number[] {
  const rows: number[] = [];
  const cell = changes.cell;
  for (let i = 0; i < answer.num_sequences; i++) {
    if (!passes(answer, changes.filter, i)) continue;
    if (cell !== null && (correctness(answer, "a", i) !== cell[0] || correctness(answer, "b", i) !== cell[1])) continue;
    rows.push(i);
  }
  const values = sortValues(answer, changes.sortKey);
  const sign = changes.descending ? -1 : 1;
  rows.sort((x, y) => {
    const vx = values[x] as number;
    const vy = values[y] as number;
    const missing = Number(Number.isNaN(vx)) - Number(Number.isNaN(vy));
    if (missing !== 0) return missing;
    return (Number.isNaN(vx) ? 0 : sign * (vx - vy)) || x - y;
  });
  return rows;
}

/** The filter's choices: all, changed, and each kind the answer has, with its count. */
export function filterChoices(answer: CompareResponse | null): [ChangeFilter, string][] {
  if (answer === null) return [["all", "all"]];
  const { byKind, changed } = changeCounts(answer);
  const choices: [ChangeFilter, string][] = [[`all`, `all (${answer.num_sequences})`]];
  if (answer.change !== null) choices.push(["changed", `changed (${changed})`]);
  for (const kind of CHANGE_KINDS) {
    const count = byKind.get(kind);
    if (count !== undefined) choices.push([kind, `${CHANGE_WORDS[kind]} (${count})`]);
  }
  return choices;
}
