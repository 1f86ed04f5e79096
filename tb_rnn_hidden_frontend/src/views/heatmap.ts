/**
 * Time x class heat map of the focus sequence: rows classes, columns steps,
 * colour = probability on a scale whose neighbouring values differ visibly
 * (`ui/probability_scale.ts`), labelled under the map. For two classes, as
 * in the paper's tool, a summary row on top shows p(class 1) on a diverging
 * scale (class 0's hue, neutral at 0.5, class 1's hue), so a prediction
 * crossing 0.5 changes hue. The last flip (`domain/flips.ts`, at the table's
 * threshold) is a dashed line. A column is a step: hovering it hovers that
 * point everywhere; the hovered step (from any view) is outlined.
 *
 * Columns are at least MIN_CELL px wide: a long sequence scrolls
 * horizontally under fixed class labels (the canvas is pinned with
 * `position: sticky` and draws the scrolled window), and a step hovered in
 * another view is scrolled into sight.
 *
 * For tests the root carries `data-hover-step`, the marked flip step as
 * `data-flip-step`, and the geometry `data-cell` (CSS px per step),
 * `data-label-width`, `data-row-height`, `data-class-top` (y of the first
 * class row) and `data-summary-top` (y of the summary row, "" without one);
 * each scale's legend carries its colours as `data-lut` (257 entries, entry
 * round(p * 256)); the scroller's `scrollLeft` is the scroll offset.
 */
import { h, setChildren, sharpContext } from "../ui/dom";
import { flipStepOf } from "../domain/flips";
import type { CheckpointData } from "../domain/model";
import {
  divergingScale,
  scaleCss,
  scaleGradient,
  scaleHexList,
  sequentialScale,
  type ProbabilityScale,
} from "../ui/probability_scale";
import type { AppState } from "../state/app_state";
import { focusedSequence } from "../state/selection";
import type { Store } from "../state/store";
import { addStyles, themeColor } from "../ui/styles";
import { bindPointHover } from "../ui/hover";
import { exportableCanvas } from "./export/canvas_tape";

const ROW_HEIGHT = 16;
/** Between the summary row and the class rows. */
const SUMMARY_GAP = 5;
/** The class labels' band: as wide as the longest label, within these bounds. */
const MIN_LABEL_WIDTH = 48;
const MAX_LABEL_WIDTH = 150;
const FONT = "11px Roboto, Arial, sans-serif";
const TICKS = [0, 0.25, 0.5, 0.75, 1];
/** Narrowest column: below this a step cannot be seen or hovered on its own. */
export const MIN_CELL = 3;

const CSS = `
#heatmap-root { position: relative; }
#heatmap-scroll { overflow-x: auto; overflow-y: hidden; }
#heatmap-content { position: relative; }
#heatmap-canvas { display: block; position: sticky; left: 0; cursor: crosshair; }
.heatmap-scales { display: grid; grid-template-columns: repeat(4, max-content); align-items: start; gap: 2px 4px; color: var(--rh-muted); margin-top: 4px; font-size: 11px; }
.scale-legend { display: contents; }
.scale-legend .scale-title, .scale-legend .scale-end { line-height: 10px; white-space: nowrap; }
.scale-legend .scale-title { padding-right: 4px; }
.scale-legend .scale-end.low { text-align: right; }
.scale-legend .scale-end { max-width: 5.5em; overflow: hidden; text-overflow: ellipsis; }
.scale-ramp-box { position: relative; width: 128px; height: 24px; flex: none; margin: 0 6px; }
.scale-ramp-box .ramp { height: 10px; border-radius: 1px; }
.scale-ramp-box .tick { position: absolute; top: 10px; transform: translateX(-50%); font-size: 10px; line-height: 13px; padding-top: 1px; border-left: 1px solid transparent; }
.scale-ramp-box .tick::before { content: ""; position: absolute; left: 50%; top: -2px; height: 3px; border-left: 1px solid var(--rh-muted); }
#heatmap-caption { color: var(--rh-muted); margin: 0 0 6px; }
`;

/** A tick spacing of 1, 2, 5, 10, 20, 50, … steps that puts labels at least `minPx` apart. */
function tickEvery(cell: number, minPx: number): number {
  for (let k = 1; ; k *= 10) {
    for (const m of [1, 2, 5]) if (m * k * cell >= minPx) return m * k;
  }
}

interface HeatmapElements {
  caption: HTMLParagraphElement;
  canvas: HTMLCanvasElement;
  content: HTMLDivElement;
  scroller: HTMLDivElement;
  root: HTMLDivElement;
  scale: HTMLDivElement;
}

interface HeatmapView {
  readonly store: Store<AppState>;
  readonly el: HeatmapElements;
  /** The last hover came from this view (no scrolling under the pointer). */
  ownHover: boolean;
  /** The class names the legends were built for. */
  legendFor: string;
}

/** Where the focus sequence's columns are: `cell` px per step, `full` px in all, `width` px visible. */
interface Geometry {
  data: CheckpointData;
  i: number;
  /** The band of class labels, px. */
  labelWidth: number;
  /** y of the summary row (two classes), else null; y of the first class row. */
  summaryTop: number | null;
  classTop: number;
  start: number;
  length: number;
  width: number;
  cell: number;
  full: number;
}

/** What one frame draws: the columns t0 .. t1 - 1 are (partly) in the window, `xOf(t)` a column's left edge. */
interface Frame {
  ctx: CanvasRenderingContext2D;
  g: Geometry;
  scrolls: boolean;
  t0: number;
  t1: number;
  xOf: (t: number) => number;
  height: number;
  classes: number;
  /** y below the last class row. */
  bottom: number;
  /** The last flip at the table's threshold, 0 when none. */
  flip: number;
}

function createElements(parent: HTMLElement): HeatmapElements {
  addStyles("heatmap", CSS);
  const caption = h("p", { id: "heatmap-caption" });
  const canvas = h("canvas", { id: "heatmap-canvas", "data-testid": "heatmap-canvas" });
  const content = h("div", { id: "heatmap-content" }, canvas);
  const scroller = h("div", { id: "heatmap-scroll" }, content);
  const root = h("div", { id: "heatmap-root" }, scroller);
  const scale = h("div", { class: "heatmap-scales", "data-testid": "heatmap-scales" });
  parent.append(h("h2", {}, "Prediction over time"), caption, root, scale);
  return { caption, canvas, content, scroller, root, scale };
}

let measurer: CanvasRenderingContext2D | null = null;

/** The width of the longest row label (class names, and the summary's "p(…)"), within bounds. */
function labelWidthOf(labels: readonly string[]): number {
  measurer ??= document.createElement("canvas").getContext("2d");
  if (measurer === null) return MAX_LABEL_WIDTH;
  measurer.font = FONT;
  const widest = Math.max(0, ...labels.map((text) => measurer?.measureText(text).width ?? 0));
  return Math.min(MAX_LABEL_WIDTH, Math.max(MIN_LABEL_WIDTH, Math.ceil(widest) + 10));
}

/** The row labels: the summary's (two classes) first, then the class names. */
function rowLabels(data: CheckpointData): string[] {
  const names = data.classNames;
  return names.length === 2 ? [`p(${names[1]})`, ...names] : [...names];
}

function geometry(view: HeatmapView): Geometry | null {
  const focused = focusedSequence(view.store.get());
  if (focused === null || focused.data.probabilities === null) return null;
  const { data, sequence: i, start, end } = focused;
  const length = end - start;
  const labelWidth = labelWidthOf(rowLabels(data));
  const summaryTop = data.classNames.length === 2 ? 0 : null;
  const classTop = summaryTop === null ? 0 : ROW_HEIGHT + SUMMARY_GAP;
  const width = Math.max(labelWidth + MIN_CELL, view.el.scroller.clientWidth || 300); // the visible window
  const cell = Math.max(MIN_CELL, (width - labelWidth) / Math.max(1, length));
  const full = labelWidth + cell * length; // scrolls when wider than the window
  return { data, i, labelWidth, summaryTop, classTop, start, length, width, cell, full };
}

function scrolls(g: Geometry): boolean {
  return g.full > g.width + 0.5;
}

/** Scrolls so that step `t` is in the window (centred when it was outside). */
function reveal(view: HeatmapView, g: Geometry, t: number): void {
  const scroller = view.el.scroller;
  const visible = g.width - g.labelWidth;
  const x = t * g.cell;
  if (x >= scroller.scrollLeft && x + g.cell <= scroller.scrollLeft + visible) return;
  scroller.scrollLeft = Math.max(0, Math.min(g.full - g.width, x + g.cell / 2 - visible / 2));
}

/** The probability cells of the columns in the window; for two classes the summary row of p(class 1) too. */
function drawCells(f: Frame): void {
  const { ctx, g } = f;
  const probabilities = g.data.probabilities as Float32Array;
  const classScale = sequentialScale();
  const summary = g.summaryTop !== null ? divergingScale() : null;
  for (let t = f.t0; t < f.t1; t++) {
    const row = (g.start + t) * f.classes;
    for (let k = 0; k < f.classes; k++) {
      ctx.fillStyle = scaleCss(classScale, probabilities[row + k] ?? 0);
      ctx.fillRect(f.xOf(t), g.classTop + k * ROW_HEIGHT, Math.ceil(g.cell), ROW_HEIGHT - 1);
    }
    if (summary !== null && g.summaryTop !== null) {
      ctx.fillStyle = scaleCss(summary, probabilities[row + 1] ?? 0);
      ctx.fillRect(f.xOf(t), g.summaryTop, Math.ceil(g.cell), ROW_HEIGHT);
    }
  }
}

/** Step axis: first, flip and last step, and when scrolling, every few steps. */
function drawStepAxis(f: Frame): void {
  const { ctx, g } = f;
  const length = g.length;
  ctx.font = FONT;
  ctx.textBaseline = "middle";
  ctx.fillStyle = themeColor("--rh-muted");
  const flip = f.flip;
  const ticks = new Set([0, length - 1, ...(flip > 0 ? [flip] : [])]);
  if (f.scrolls) {
    const every = tickEvery(g.cell, 44);
    for (let t = Math.ceil(f.t0 / every) * every; t < f.t1; t += every) ticks.add(t);
  }
  // Where labels would overlap, the less important one is left out: flip, first, last, others.
  const rank = (t: number) => (t === flip && flip > 0 ? 0 : t === 0 ? 1 : t === length - 1 ? 2 : 3);
  const placed: [number, number][] = [];
  for (const t of [...ticks].sort((a, b) => rank(a) - rank(b) || a - b)) {
    if (t < f.t0 - 1 || t > f.t1) continue;
    // The last step's label ends at its column's right edge instead of running off it.
    const last = t === length - 1 && t > 0;
    const text = String(t);
    const textWidth = ctx.measureText(text).width;
    const left = last ? f.xOf(t + 1) - textWidth : f.xOf(t);
    if (placed.some(([a, b]) => left < b + 4 && left + textWidth + 4 > a)) continue;
    placed.push([left, left + textWidth]);
    ctx.fillText(text, left, f.bottom + 9);
  }
}

/** The flip step's dashed line and the hovered step's outline. */
function drawMarks(f: Frame, hovered: string | undefined): void {
  const { ctx, g } = f;
  const flip = f.flip;
  const bottom = f.bottom;
  if (flip > 0) {
    ctx.strokeStyle = themeColor("--rh-fg");
    ctx.setLineDash([3, 2]);
    ctx.beginPath();
    ctx.moveTo(f.xOf(flip), 0);
    ctx.lineTo(f.xOf(flip), bottom);
    ctx.stroke();
    ctx.setLineDash([]);
  }
  if (hovered) {
    // Highlight outside, white inside: visible on every colour of the ramp.
    const x = f.xOf(Number(hovered));
    ctx.strokeStyle = themeColor("--rh-highlight");
    ctx.lineWidth = 3;
    ctx.strokeRect(x - 0.5, -0.5, Math.max(2, g.cell) + 1, bottom + 1);
    ctx.strokeStyle = "#ffffff";
    ctx.lineWidth = 1;
    ctx.strokeRect(x + 1, 1, Math.max(1, g.cell - 2), bottom - 2);
  }
}

/** `text`, cut with "…" to fit `width` px. */
function fitted(ctx: CanvasRenderingContext2D, text: string, width: number): string {
  if (ctx.measureText(text).width <= width) return text;
  let cut = text;
  while (cut.length > 1 && ctx.measureText(`${cut}…`).width > width) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/** Row labels (the summary's, then the classes'), over a band that hides columns scrolled under them. */
function drawClassLabels(f: Frame): void {
  const { ctx, g } = f;
  ctx.fillStyle = themeColor("--rh-card");
  ctx.fillRect(0, 0, g.labelWidth, f.height);
  const room = g.labelWidth - 8;
  if (g.summaryTop !== null) {
    ctx.fillStyle = themeColor("--rh-muted");
    ctx.fillText(fitted(ctx, rowLabels(g.data)[0] as string, room), 2, g.summaryTop + ROW_HEIGHT / 2);
  }
  ctx.fillStyle = themeColor("--rh-fg");
  g.data.classNames.forEach((name, k) => {
    ctx.fillText(fitted(ctx, name, room), 2, g.classTop + k * ROW_HEIGHT + ROW_HEIGHT / 2);
  });
  if (f.scrolls && f.t0 > 0) {
    ctx.fillStyle = themeColor("--rh-muted");
    ctx.fillText("‹", g.labelWidth - 9, f.bottom + 9);
  }
}

/** One scale's legend: title, the ramp with ticks at 0, 0.25, 0.5, 0.75 and 1, and its colours for tests. */
function legendElement(scale: ProbabilityScale, title: string, low: string | null, high: string | null): HTMLElement {
  const ticks = TICKS.map((p) => h("span", { class: "tick", style: `left:${100 * p}%` }, String(p)));
  return h(
    "div",
    { class: "scale-legend", "data-scale": scale.kind, "data-lut": scaleHexList(scale) },
    h("span", { class: "scale-title", title }, title),
    h("span", { class: "scale-end low", title: low ?? "" }, low ?? ""),
    h("div", { class: "scale-ramp-box" }, h("div", { class: "ramp", style: `background:${scaleGradient(scale)}` }), ...ticks),
    h("span", { class: "scale-end", title: high ?? "" }, high ?? ""),
  );
}

/** The legends under the map, rebuilt only when the class names change. */
function renderLegends(view: HeatmapView, data: CheckpointData): void {
  const key = JSON.stringify(data.classNames);
  if (view.legendFor === key) return;
  view.legendFor = key;
  const names = data.classNames;
  setChildren(
    view.el.scale,
    names.length === 2 && legendElement(divergingScale(), `p(${names[1]})`, names[0] ?? null, names[1] ?? null),
    legendElement(sequentialScale(), names.length === 2 ? "class rows" : "probability", null, null),
  );
}

/** The root's test attributes, and the caption and hidden parts when there is nothing to draw. */
function publish(view: HeatmapView, g: Geometry | null): void {
  const { root, canvas, scale, content, caption } = view.el;
  const state = view.store.get();
  root.dataset["hoverStep"] =
    g !== null && state.hover !== null && state.hover >= g.start && state.hover < g.start + g.length ? String(state.hover - g.start) : "";
  const flip = g !== null ? flipStepOf(g.data, g.i, state.table.flipThreshold) : 0;
  root.dataset["flipStep"] = flip > 0 ? String(flip) : "";
  canvas.hidden = g === null;
  scale.hidden = g === null;
  if (g !== null) return;
  content.style.width = "";
  root.dataset["cell"] = "";
  caption.textContent = state.data === null ? "" : state.data.probabilities === null ? "Logged without class probabilities." : "Select a sequence to see its predictions over time.";
}

function draw(view: HeatmapView): void {
  const g = geometry(view);
  publish(view, g);
  if (g === null) return;
  const { root, content, canvas, caption, scroller } = view.el;
  const { length, width, cell, full } = g;
  root.dataset["cell"] = String(cell);
  root.dataset["labelWidth"] = String(g.labelWidth);
  root.dataset["rowHeight"] = String(ROW_HEIGHT);
  root.dataset["classTop"] = String(g.classTop);
  root.dataset["summaryTop"] = g.summaryTop === null ? "" : String(g.summaryTop);
  renderLegends(view, g.data);
  const wide = scrolls(g);
  content.style.width = `${wide ? full : width}px`;
  canvas.style.width = `${width}px`;
  const classes = g.data.classNames.length;
  caption.textContent = `Sequence ${g.i}: probability of each class after each step (${length} steps${wide ? "; scroll sideways for more" : ""}).`;
  const bottom = g.classTop + classes * ROW_HEIGHT;
  const height = bottom + 18;
  canvas.style.height = `${height}px`;
  const ctx = sharpContext(canvas, width, height);
  if (!ctx) return;
  const scroll = wide ? Math.min(scroller.scrollLeft, full - width) : 0;
  const frame: Frame = {
    ctx,
    g,
    scrolls: wide,
    t0: Math.max(0, Math.floor(scroll / cell)),
    t1: Math.min(length, Math.ceil((scroll + width - g.labelWidth) / cell)),
    xOf: (t) => g.labelWidth + t * cell - scroll,
    height,
    classes,
    bottom,
    flip: flipStepOf(g.data, g.i, view.store.get().table.flipThreshold),
  };
  ctx.save();
  ctx.beginPath();
  ctx.rect(g.labelWidth, 0, width - g.labelWidth, height);
  ctx.clip();
  drawCells(frame);
  drawStepAxis(frame);
  drawMarks(frame, root.dataset["hoverStep"]);
  ctx.restore();
  drawClassLabels(frame);
}

/** The step under a pointer event, or -1. */
function stepAt(view: HeatmapView, event: PointerEvent, g: Geometry): number {
  const x = event.clientX - view.el.canvas.getBoundingClientRect().left - g.labelWidth;
  if (x < 0) return -1;
  const scroll = scrolls(g) ? Math.min(view.el.scroller.scrollLeft, g.full - g.width) : 0;
  const t = Math.floor((x + scroll) / g.cell);
  return t >= 0 && t < g.length ? t : -1;
}

function bindHover(view: HeatmapView): void {
  bindPointHover(view.store, view.el.canvas, {
    on: "pointermove",
    clearOutside: true,
    hitAt: (event) => {
      const g = geometry(view);
      const t = g === null ? -1 : stepAt(view, event, g);
      return g === null || t < 0 ? null : { point: g.start + t, data: g.data };
    },
    hovered: () => {
      view.ownHover = true;
    },
    left: () => {
      view.ownHover = false;
    },
  });
}

/** Follows the store: a new sequence scrolls back, a hover from another view is scrolled into sight. */
function update(view: HeatmapView, state: Readonly<AppState>, previous: Readonly<AppState>): void {
  const { scroller, content } = view.el;
  if (state.data !== previous.data || state.focus !== previous.focus) {
    scroller.scrollLeft = 0;
    view.ownHover = false;
  }
  if (state.hover !== previous.hover && !view.ownHover) {
    const g = geometry(view);
    if (g !== null && state.hover !== null && state.hover >= g.start && state.hover < g.start + g.length) {
      content.style.width = `${scrolls(g) ? g.full : g.width}px`;
      reveal(view, g, state.hover - g.start); // fires "scroll", which redraws
    }
  }
  if (state.hover !== previous.hover && state.hover === null) view.ownHover = false;
  const threshold = state.table.flipThreshold !== previous.table.flipThreshold;
  if (state.data !== previous.data || state.focus !== previous.focus || state.hover !== previous.hover || threshold) draw(view);
}

export function mountHeatmap(parent: HTMLElement, store: Store<AppState>): void {
  const view: HeatmapView = { store, el: createElements(parent), ownHover: false, legendFor: "" };
  bindHover(view);
  view.el.scroller.addEventListener("scroll", () => draw(view), { passive: true });
  new ResizeObserver(() => draw(view)).observe(view.el.root);
  new MutationObserver(() => draw(view)).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
  store.subscribe((state, previous) => update(view, state, previous));
  exportableCanvas(view.el.canvas, () => draw(view));
  draw(view);
}
