/**
 * The chart over training (`#training-chart`): across every checkpoint of the
 * selected run and layer (`/training`), the accuracy on the probe set (0..1),
 * the mean hidden-state change to the previous checkpoint and the number of
 * sequences with a flip (each over its largest, said in the legend), as
 * lines with a marker per checkpoint. Pointing at a checkpoint's column
 * shows its figures and the units whose mean moved most; clicking it (each
 * column an element with `data-step`) opens that checkpoint, as the slider
 * does. The shown checkpoint A is marked, and B's when compare mode is on
 * and B is of the same run and layer. An answer for another run or layer is
 * not drawn (it is about to be replaced).
 *
 * The root carries `data-run`, `data-tag` and `data-steps` (the steps drawn,
 * comma-separated) for tests to wait on.
 */
import type { TrainingResponse } from "../api/types";
import { formatFixed } from "../domain/format";
import { trainingChart, type ChartColumn, type ChartGeometry, type ChartSeries } from "../domain/training_chart";
import { withSelection, type AppState } from "../state/app_state";
import type { Store } from "../state/store";
import { CLASS_PALETTE } from "../ui/colors";
import { h, setChildren } from "../ui/dom";
import { addStyles } from "../ui/styles";
import { hideTooltip, showTooltip } from "../ui/tooltip";

/** The chart sits under the projection(s) and leaves them the height (its title is in the legend's line). */
const HEIGHT = 64;
const BOX = { height: HEIGHT, left: 26, right: 10, top: 8, bottom: 18 };

/** Okabe–Ito hues that read on the light and the dark theme alike. */
const SERIES_COLOR: Readonly<Record<ChartSeries["key"], string>> = {
  accuracy: CLASS_PALETTE[4] as string, // sky blue
  change: CLASS_PALETTE[1] as string, // orange
  flips: CLASS_PALETTE[3] as string, // reddish purple
  separation: CLASS_PALETTE[2] as string, // bluish green
};

const CSS = `
#training-chart { position: relative; min-width: 0; }
#training-chart svg { display: block; width: 100%; height: ${HEIGHT}px; overflow: visible; }
#training-chart .axis { stroke: var(--rh-border); stroke-width: 1; }
#training-chart text { fill: var(--rh-muted); font-size: 10px; font-variant-numeric: tabular-nums; }
#training-chart line, #training-chart text { pointer-events: none; }
#training-chart .hit { fill: transparent; cursor: pointer; }
#training-chart .hit:hover { fill: var(--rh-row-hover); }
#training-chart .mark-a { stroke: var(--rh-accent); stroke-width: 2; }
#training-chart .mark-b { stroke: var(--rh-highlight); stroke-width: 2; stroke-dasharray: 4 3; }
#training-chart .mark-label-a { fill: var(--rh-accent); font-weight: 500; }
#training-chart .mark-label-b { fill: var(--rh-highlight); font-weight: 500; }
#training-chart .point { stroke: var(--rh-card); stroke-width: 1; pointer-events: none; }
#training-chart polyline { fill: none; stroke-width: 1.5; pointer-events: none; }
#training-chart polyline[data-side="b"] { stroke-dasharray: 5 3; }
#training-chart .point[data-side="b"] { fill: var(--rh-card); stroke-width: 1.5; }
#training-legend .swatch[data-side="b"] { background: none !important; border-top: 2px dashed; height: 0; }
#training-legend { display: flex; flex-wrap: wrap; gap: 2px 12px; color: var(--rh-muted); font-size: 12px; margin-top: 2px; }
#training-legend .swatch { display: inline-block; width: 12px; height: 3px; margin-right: 4px; vertical-align: middle; }
#training-status { color: var(--rh-muted); margin: 0; }
/* The title shares the legend's line under the plot. */
.training-footer { display: flex; gap: 4px 12px; align-items: baseline; }
.training-footer > .training-title { margin: 0; font-size: 13px; flex: none; }
#training-legend { font-size: 11px; }
#training-status[data-kind="error"] { color: var(--rh-error-fg); }
`;

const SVG_NS = "http://www.w3.org/2000/svg";

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, ...children: (SVGElement | string)[]): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, String(value));
  for (const child of children) element.append(child);
  return element;
}

interface ChartView {
  readonly store: Store<AppState>;
  readonly root: HTMLElement;
  readonly status: HTMLElement;
  readonly plot: HTMLElement;
  readonly legend: HTMLElement;
  /** The answers drawn last (A's, and B's of another run or layer), for the tooltip. */
  answer: TrainingResponse | null;
  other: TrainingResponse | null;
}

/** The answer for the selected run and layer, or null (none yet, or a stale one of another). */
function currentAnswer(state: Readonly<AppState>): TrainingResponse | null {
  const answer = state.training.answer;
  return answer !== null && answer.run === state.run && answer.tag === state.tag ? answer : null;
}

function seriesWords(series: ChartSeries, other: TrainingResponse | null): string {
  if (other !== null && series.side === "b") return `${series.key} of B (${other.run} / ${other.tag})`;
  if (series.key === "accuracy") return "accuracy";
  if (series.key === "separation") return "class separation";
  if (series.key === "change") return `change to previous (÷ ${formatFixed(series.scale, 3)})`;
  return `flips (÷ ${series.scale})`;
}

/** What the tooltip says about the checkpoint at `step` (A's figures, and B's of another run or layer). */
function tooltipLines(answer: TrainingResponse, step: number, other: TrainingResponse | null): string[] {
  const i = answer.steps.indexOf(step);
  const j = other?.steps.indexOf(step) ?? -1;
  const lines = i >= 0 ? figureLines(answer, i) : [`step ${step}`, `(no checkpoint of ${answer.run} / ${answer.tag})`];
  if (other !== null && j >= 0) {
    lines.push(`B: ${other.run} / ${other.tag}: accuracy ${formatFixed(other.accuracy[j], 3)} · separation ${formatFixed(other.separation?.[j], 3)}`);
  }
  return lines;
}

function figureLines(answer: TrainingResponse, i: number): string[] {
  const units = answer.top_units[i] ?? [];
  const moves = answer.top_unit_moves[i] ?? [];
  const lines = [
    `step ${answer.steps[i]}`,
    `accuracy ${formatFixed(answer.accuracy[i], 3)}`,
    `change to previous ${formatFixed(answer.change[i], 3)}`,
    `flips ${answer.flips[i] ?? "—"} (Δp ≥ ${answer.flip_threshold})`,
    ...(answer.separation !== undefined ? [`class separation ${formatFixed(answer.separation[i], 3)}`] : []),
  ];
  if (units.length > 0) lines.push(`units moved most: ${units.map((u, k) => `${u} (${formatFixed(moves[k], 3)})`).join(", ")}`);
  return lines;
}

/** A vertical mark at the checkpoint of `step` (if drawn), labelled. */
function mark(geometry: ChartGeometry, step: number | null, which: "a" | "b"): SVGElement[] {
  const column = geometry.columns.find((c) => c.step === step);
  if (column === undefined) return [];
  return [
    svg("line", { class: `mark-${which}`, x1: column.x, x2: column.x, y1: geometry.y1 - 2, y2: geometry.y0, "data-mark": which, "data-step": column.step }),
    svg("text", { class: `mark-label-${which}`, x: column.x + 3, y: geometry.y1 + 8 + (which === "b" ? 10 : 0) }, which.toUpperCase()),
  ];
}

function hitColumn(view: ChartView, column: ChartColumn, geometry: ChartGeometry): SVGRectElement {
  const rect = svg("rect", {
    class: "hit",
    x: column.x0,
    y: geometry.y1 - 4,
    width: Math.max(1, column.x1 - column.x0),
    height: geometry.y0 - geometry.y1 + 8,
    "data-step": column.step,
    "aria-label": `Open step ${column.step}`,
  });
  rect.addEventListener("pointermove", (event) => {
    if (view.answer !== null) showTooltip(event.clientX, event.clientY, tooltipLines(view.answer, column.step, view.other));
  });
  rect.addEventListener("pointerleave", () => hideTooltip());
  rect.addEventListener("click", () => view.store.set(withSelection(view.store.get(), { step: column.step })));
  return rect;
}

function drawSeries(series: ChartSeries): SVGElement[] {
  const color = SERIES_COLOR[series.key];
  const tags = { "data-series": series.key, "data-side": series.side };
  return [
    ...series.runs.filter((run) => run.length > 1).map((run) => svg("polyline", { points: run.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(" "), stroke: color, ...tags })),
    ...series.points.map((p) => svg("circle", { class: "point", cx: p.x.toFixed(1), cy: p.y.toFixed(1), r: 2.6, fill: color, stroke: series.side === "b" ? color : "", ...tags })),
  ];
}

function draw(view: ChartView, state: Readonly<AppState>, answer: TrainingResponse, width: number): void {
  const other = view.other;
  const height = HEIGHT;
  const geometry = trainingChart(answer, { ...BOX, height, width }, other);
  const { y0, y1, columns } = geometry;
  const first = columns[0];
  const last = columns[columns.length - 1];
  const b = state.compare.b;
  const showB = state.compare.on && (other !== null || (b.run === state.run && b.tag === state.tag));
  const chart = svg(
    "svg",
    { width, height, style: `height:${height}px`, viewBox: `0 0 ${width} ${height}`, "aria-label": "Accuracy, change and flips per checkpoint; click a checkpoint to open it" },
    svg("line", { class: "axis", x1: BOX.left, x2: width - BOX.right, y1: y0, y2: y0 }),
    svg("line", { class: "axis", x1: BOX.left, x2: width - BOX.right, y1: y1, y2: y1 }),
    svg("text", { x: BOX.left - 4, y: y0 + 3, "text-anchor": "end" }, "0"),
    svg("text", { x: BOX.left - 4, y: y1 + 3, "text-anchor": "end" }, "1"),
    ...(first ? [svg("text", { x: first.x, y: height - 4, "text-anchor": "start" }, `step ${first.step}`)] : []),
    ...(last && last !== first ? [svg("text", { x: last.x, y: height - 4, "text-anchor": "end" }, String(last.step))] : []),
    ...columns.map((column) => hitColumn(view, column, geometry)),
    ...mark(geometry, state.step, "a"),
    ...(showB ? mark(geometry, b.step, "b") : []),
    ...geometry.series.flatMap(drawSeries),
  );
  setChildren(view.plot, chart);
  setChildren(
    view.legend,
    ...geometry.series
      .filter((s) => s.points.length > 0)
      .map((s) => h("span", { "data-series": s.key, "data-side": s.side }, h("span", { class: "swatch", "data-side": s.side, style: `background:${SERIES_COLOR[s.key]};border-color:${SERIES_COLOR[s.key]}` }), seriesWords(s, other))),
  );
}

function render(view: ChartView, state: Readonly<AppState>): void {
  const answer = currentAnswer(state);
  const training = state.training;
  view.answer = answer;
  const b = state.compare.b;
  const other = training.answerB;
  view.other = state.compare.on && other !== null && other.run === b.run && other.tag === b.tag ? other : null;
  view.root.dataset["run"] = answer?.run ?? "";
  view.root.dataset["tag"] = answer?.tag ?? "";
  view.root.dataset["steps"] = answer?.steps.join(",") ?? "";
  const unreadable = Object.entries(answer?.unreadable ?? {});
  const message =
    training.error !== null ? `The figures over training cannot be shown: ${training.error}`
    : answer === null ? (training.busy ? "Reading the figures over training…" : "")
    : answer.steps.length === 0 ? "No checkpoints logged yet."
    : unreadable.length > 0 ? `Not charted: ${unreadable.map(([step, reason]) => `step ${step} (${reason})`).join("; ")}`
    : "";
  view.status.textContent = message;
  view.status.hidden = message === "";
  view.status.dataset["kind"] = training.error !== null ? "error" : "";
  const width = view.plot.clientWidth;
  if (answer === null || answer.steps.length === 0 || width <= 0) {
    setChildren(view.plot);
    setChildren(view.legend);
    return;
  }
  draw(view, state, answer, width);
}

/** Mounts the chart into `parent` (any panel; it fits the parent's width, 120 px tall plus a legend line). */
export function mountTrainingChart(parent: HTMLElement, store: Store<AppState>): void {
  addStyles("training-chart", CSS);
  const status = h("p", { id: "training-status", role: "status", hidden: true });
  const plot = h("div", { class: "training-plot" });
  const legend = h("div", { id: "training-legend" });
  const footer = h("div", { class: "training-footer" }, h("h2", { class: "training-title" }, "Over training"), legend);
  const root = h("div", { id: "training-chart", "data-testid": "training-chart" }, status, plot, footer);
  parent.append(root);
  const view: ChartView = { store, root, status, plot, legend, answer: null, other: null };
  store.subscribe((state, previous) => {
    const [b, pb] = [state.compare.b, previous.compare.b];
    if (
      state.training !== previous.training || state.run !== previous.run || state.tag !== previous.tag || state.step !== previous.step ||
      state.compare.on !== previous.compare.on || b.run !== pb.run || b.tag !== pb.tag || b.step !== pb.step
    ) render(view, state);
  });
  let width = -1;
  new ResizeObserver(() => {
    if (plot.clientWidth === width) return;
    width = plot.clientWidth;
    render(view, store.get());
  }).observe(plot);
  render(view, store.get());
}
