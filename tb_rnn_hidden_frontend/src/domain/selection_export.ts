/**
 * The current selection as files: the selected sequences (one row each), the
 * brushed and lit steps (one row per point, with the coordinates of the
 * layout shown), as CSV; and all of it as JSON, with the checkpoint and the
 * projection parameters it came from. Pure (views/selection_export.ts
 * downloads what these build), so Node tests check every value.
 *
 * The CSV is RFC 4180 as `GET /export` writes it (server/export.py): a header
 * row, CRLF line ends, a field quoted where it holds a comma, a quote or a
 * line break, quotes doubled; text exactly as logged (a notebook must read
 * back what was logged); float32 values as the shortest text that reads back
 * as the same float32. Columns of data the checkpoint was logged without are
 * left out, as there.
 */
import type { LayoutInfo } from "../api/types";
import type { CheckpointData, ProjectionParams } from "./model";

/** The layout whose coordinates a point row carries: the one the projection draws. */
export interface ShownLayout {
  readonly kind: "final" | "provisional";
  /** P x 2 row-major, in point order. */
  readonly coords: Float32Array;
  /** The parameters of a final layout (null for the provisional PCA). */
  readonly params: ProjectionParams | null;
  readonly layout: LayoutInfo | null;
}

/** Which points are lit, and by what (`state.lit`). */
export interface LitSet {
  readonly points: Int32Array;
  readonly source: string;
  readonly label: string;
}

/** Everything a selection export is built from. */
export interface SelectionInput {
  readonly run: string;
  readonly tag: string;
  readonly data: CheckpointData;
  readonly selected: readonly number[];
  readonly brushed: Int32Array | null;
  readonly lit: LitSet | null;
  readonly layout: ShownLayout | null;
}

type Cell = string | number | boolean;
type Row = Record<string, Cell>;

/** A table: its column names in order and its rows. */
export interface Table {
  readonly columns: readonly string[];
  readonly rows: readonly Row[];
}

/** Columns holding float32 values (written as their shortest float32 text). */
const FLOAT32_COLUMNS: ReadonlySet<string> = new Set(["x", "y", "confidence"]);

/** How a sequence's tokens are joined into its text: "" where every token is one character (a character-level model), else " " (as the server's search joins them). */
export function tokenJoiner(vocabulary: readonly string[]): string {
  return vocabulary.length > 0 && vocabulary.every((token) => [...token].length === 1) ? "" : " ";
}

/** The tokens of sequence `i` (empty for numeric sequences). */
export function sequenceTokens(data: CheckpointData, i: number): string[] {
  if (data.tokens === null || data.vocabulary === null) return [];
  const out: string[] = [];
  for (let p = data.offsets[i] as number; p < (data.offsets[i + 1] as number); p++) out.push(data.vocabulary[data.tokens[p] as number] ?? "");
  return out;
}

function className(data: CheckpointData, k: number): string {
  return data.meta.class_names?.[k] ?? "";
}

/** One row per selected sequence: index, length, text, label, prediction at its last step, confidence, correct. */
export function sequenceTable(data: CheckpointData, selected: readonly number[]): Table {
  const meta = data.meta;
  const names = meta.class_names !== null && meta.class_names !== undefined;
  const hasLabels = meta.labels !== null && meta.labels !== undefined;
  const hasPredictions = meta.predictions !== null && meta.predictions !== undefined;
  const columns = ["sequence", "length"];
  if (data.tokens !== null) columns.push("text");
  if (hasLabels) columns.push("label", ...(names ? ["label_name"] : []));
  if (hasPredictions) columns.push("prediction", ...(names ? ["prediction_name"] : []), "confidence");
  if (hasLabels && hasPredictions) columns.push("correct");
  const joiner = tokenJoiner(data.vocabulary ?? []);
  const rows = selected.map((i) => {
    const row: Row = { sequence: i, length: meta.lengths[i] ?? 0 };
    if (data.tokens !== null) row.text = sequenceTokens(data, i).join(joiner);
    const label = meta.labels?.[i];
    const prediction = meta.predictions?.[i];
    if (hasLabels && label !== undefined) {
      row.label = label;
      if (names) row.label_name = className(data, label);
    }
    if (hasPredictions && prediction !== undefined) {
      row.prediction = prediction;
      if (names) row.prediction_name = className(data, prediction);
      row.confidence = meta.confidences?.[i] ?? 0;
    }
    if (hasLabels && hasPredictions) row.correct = label === prediction;
    return row;
  });
  return { columns, rows };
}

/** The brushed and lit points, ascending, each once, with whether it is brushed and whether lit. */
export function selectedPoints(brushed: Int32Array | null, lit: LitSet | null): { point: number; brushed: boolean; lit: boolean }[] {
  const inBrush = new Set(brushed ?? []);
  const inLit = new Set(lit?.points ?? []);
  return [...new Set([...inBrush, ...inLit])].sort((a, b) => a - b).map((point) => ({ point, brushed: inBrush.has(point), lit: inLit.has(point) }));
}

/** One row per brushed or lit point: where it is, what was logged there, the model's prediction there, and its place in the layout shown. */
export function pointTable(input: SelectionInput): Table {
  const { data, layout } = input;
  const names = data.meta.class_names !== null && data.meta.class_names !== undefined;
  const labels = data.meta.labels ?? null;
  const columns = ["point", "sequence", "step"];
  if (data.tokens !== null) columns.push("token");
  if (labels !== null) columns.push("label", ...(names ? ["label_name"] : []));
  if (data.probabilities !== null) columns.push("prediction", ...(names ? ["prediction_name"] : []), "confidence");
  if (layout !== null) columns.push("x", "y");
  columns.push("brushed", "lit");
  const rows = selectedPoints(input.brushed, input.lit).map(({ point, brushed, lit }) => {
    const sequence = data.pointSequence[point] as number;
    const row: Row = { point, sequence, step: data.pointStep[point] as number };
    if (data.tokens !== null) row.token = data.vocabulary?.[data.tokens[point] as number] ?? "";
    if (labels !== null) {
      row.label = labels[sequence] as number;
      if (names) row.label_name = className(data, row.label);
    }
    if (data.probabilities !== null) {
      row.prediction = data.pointPrediction[point] as number;
      if (names) row.prediction_name = className(data, row.prediction);
      row.confidence = data.pointConfidence[point] as number;
    }
    if (layout !== null) {
      row.x = layout.coords[2 * point] as number;
      row.y = layout.coords[2 * point + 1] as number;
    }
    row.brushed = brushed;
    row.lit = lit;
    return row;
  });
  return { columns, rows };
}

/** The shortest decimal text that reads back (as float32) as `value`, a float32 value. */
export function float32Text(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  for (let digits = 1; digits <= 9; digits++) {
    const text = String(Number(value.toPrecision(digits)));
    if (Math.fround(Number(text)) === value) return text;
  }
  return String(value);
}

/** One CSV field: quoted where it holds a comma, a quote or a line break, quotes doubled (RFC 4180). */
export function csvField(value: Cell | undefined): string {
  if (value === undefined) return "";
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** `table` as RFC 4180 CSV: a header row and CRLF after every row. */
export function toCsv(table: Table): string {
  const cell = (row: Row, column: string) => {
    const value = row[column];
    return FLOAT32_COLUMNS.has(column) && typeof value === "number" ? float32Text(value) : csvField(value);
  };
  const lines = [table.columns.map(csvField).join(",")];
  for (const row of table.rows) lines.push(table.columns.map((column) => cell(row, column)).join(","));
  return lines.join("\r\n") + "\r\n";
}

/** The checkpoint and layout a selection came from (the JSON's `source`). */
export function sourceOf(input: SelectionInput): Record<string, unknown> {
  const { layout } = input;
  return {
    run: input.run,
    tag: input.tag,
    step: input.data.step,
    layout:
      layout === null
        ? null
        : { kind: layout.kind, method: layout.kind === "provisional" ? "pca" : (layout.params?.method ?? null), params: layout.params, info: layout.layout },
  };
}

/** Everything as one JSON document: the source, the selected sequences (with their tokens), the brushed points, the lit points and where they came from, and the point rows. */
export function selectionJson(input: SelectionInput): string {
  const sequences = sequenceTable(input.data, input.selected).rows.map((row) => ({
    ...row,
    ...(input.data.tokens !== null ? { tokens: sequenceTokens(input.data, row.sequence as number) } : {}),
  }));
  const document = {
    source: sourceOf(input),
    selected_sequences: sequences,
    brushed_points: [...(input.brushed ?? [])],
    lit: input.lit === null ? null : { source: input.lit.source, label: input.lit.label, points: [...input.lit.points] },
    points: pointTable(input).rows,
  };
  return JSON.stringify(document, null, 1) + "\n";
}
