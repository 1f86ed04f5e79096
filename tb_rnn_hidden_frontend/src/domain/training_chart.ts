/**
 * The geometry of the chart over training: each checkpoint at x by its step
 * (so uneven logging intervals read as such) with a hit column reaching
 * halfway to its neighbours (every checkpoint is easy to click, however
 * close), and three series in [0, 1] drawn against one y axis: accuracy as
 * it is, the change to the previous checkpoint and the flips each divided by
 * their largest value (said in the legend), and how well the final hidden
 * states separate the classes (0..1). With another run's or layer's answer
 * (compare mode's B), its accuracy and separation are drawn on the same
 * steps, so that two runs read against each other. Missing values break a line.
 */
import type { TrainingResponse } from "../api/types";

export interface ChartBox {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** A checkpoint's column: its x, and the hit area [x0, x1). */
export interface ChartColumn {
  index: number;
  step: number;
  x: number;
  x0: number;
  x1: number;
}

export interface ChartPoint {
  /** The checkpoint's column. */
  index: number;
  x: number;
  y: number;
  /** The value before normalising. */
  value: number;
}

export interface ChartSeries {
  key: "accuracy" | "change" | "flips" | "separation";
  /** Whose figures: A's run and layer, or B's (compare mode, another run or layer). */
  side: "a" | "b";
  /** What the values were divided by (1 for accuracy; 0 when all are 0 or missing). */
  scale: number;
  points: ChartPoint[];
  /** Runs of consecutive points, for polylines (a missing value breaks the line). */
  runs: ChartPoint[][];
}

export interface ChartGeometry {
  columns: ChartColumn[];
  series: ChartSeries[];
  /** y of a value in [0, 1]. */
  y0: number;
  y1: number;
}

function finite(value: number | null | undefined): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

/** x per checkpoint by step, and hit columns halfway to the neighbours (the plot's edges at the ends). */
export function chartColumns(steps: readonly number[], box: ChartBox): ChartColumn[] {
  const plotLeft = box.left;
  const plotRight = box.width - box.right;
  const first = steps[0] ?? 0;
  const span = (steps[steps.length - 1] ?? 0) - first;
  const xs = steps.map((step) => (span > 0 ? plotLeft + ((step - first) / span) * (plotRight - plotLeft) : (plotLeft + plotRight) / 2));
  return steps.map((step, index) => {
    const x = xs[index] as number;
    const before = index > 0 ? (x + (xs[index - 1] as number)) / 2 : plotLeft - Math.min(box.left, 8);
    const after = index < steps.length - 1 ? (x + (xs[index + 1] as number)) / 2 : plotRight + Math.min(box.right, 8);
    return { index, step, x, x0: before, x1: after };
  });
}

/** The values of `answer` per column (by step; null where it has no such checkpoint). */
function byColumn(answer: TrainingResponse, columns: readonly ChartColumn[], values: readonly (number | null)[] | undefined): (number | null)[] {
  const at = new Map(answer.steps.map((step, i) => [step, i]));
  return columns.map((c) => {
    const i = at.get(c.step);
    return i === undefined ? null : (values?.[i] ?? null);
  });
}

function seriesOf(key: ChartSeries["key"], side: ChartSeries["side"], values: readonly (number | null)[], normalise: boolean, columns: ChartColumn[], y: (v: number) => number): ChartSeries {
  const scale = normalise ? Math.max(0, ...values.filter(finite)) : 1;
  const points: ChartPoint[] = [];
  const runs: ChartPoint[][] = [];
  let run: ChartPoint[] = [];
  values.forEach((value, index) => {
    const column = columns[index];
    if (!finite(value) || column === undefined) {
      if (run.length > 0) runs.push(run);
      run = [];
      return;
    }
    const point = { index, x: column.x, y: y(scale > 0 ? value / scale : 0), value };
    points.push(point);
    run.push(point);
  });
  if (run.length > 0) runs.push(run);
  return { key, side, scale, points, runs };
}

/** The steps of both answers, ascending, once each. */
export function unionSteps(answer: TrainingResponse, other: TrainingResponse | null): number[] {
  return [...new Set([...answer.steps, ...(other?.steps ?? [])])].sort((a, b) => a - b);
}

/**
 * The chart of `answer` (and of `other`, B's run or layer, if given) in
 * `box`: columns over both answers' steps and the series, each in [0, 1];
 * separation only where the answer has it.
 */
export function trainingChart(answer: TrainingResponse, box: ChartBox, other: TrainingResponse | null = null): ChartGeometry {
  const columns = chartColumns(unionSteps(answer, other), box);
  const y0 = box.height - box.bottom;
  const y1 = box.top;
  const y = (v: number) => y0 + Math.min(1, Math.max(0, v)) * (y1 - y0);
  const series = [
    seriesOf("accuracy", "a", byColumn(answer, columns, answer.accuracy), false, columns, y),
    seriesOf("change", "a", byColumn(answer, columns, answer.change), true, columns, y),
    seriesOf("flips", "a", byColumn(answer, columns, answer.flips), true, columns, y),
  ];
  if (answer.separation !== undefined) series.push(seriesOf("separation", "a", byColumn(answer, columns, answer.separation), false, columns, y));
  if (other !== null) {
    series.push(seriesOf("accuracy", "b", byColumn(other, columns, other.accuracy), false, columns, y));
    if (other.separation !== undefined) series.push(seriesOf("separation", "b", byColumn(other, columns, other.separation), false, columns, y));
  }
  return { columns, y0, y1, series };
}

/** The checkpoint column under x (null outside every column). */
export function columnAt(columns: readonly ChartColumn[], x: number): ChartColumn | null {
  return columns.find((c) => x >= c.x0 && x < c.x1) ?? null;
}
