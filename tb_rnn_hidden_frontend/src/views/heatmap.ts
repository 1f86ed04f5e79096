/**
 * Time x class heat map of the focus sequence: rows classes, columns steps,
 * colour = probability. A column is a step: hovering it hovers that point
 * everywhere; the hovered step (from any view) is outlined.
 *
 * Columns are at least MIN_CELL px wide: a long sequence scrolls
 * horizontally under fixed class labels (the canvas is pinned with
 * `position: sticky` and draws the scrolled window), and a step hovered in
 * another view is scrolled into sight.
 *
 * For tests the root carries `data-hover-step`, the marked flip step as
 * `data-flip-step`, and the geometry `data-cell` (CSS px per step) and
 * `data-label-width`; the scroller's `scrollLeft` is the scroll offset.
 */
import { sequentialColor } from "../ui/colors";
import { h, sharpContext } from "../ui/dom";
import type { CheckpointData } from "../domain/model";
import type { AppState } from "../state/app_state";
import { focusedSequence } from "../state/selection";
import type { Store } from "../state/store";
import { addStyles, themeColor } from "../ui/styles";
import { bindPointHover } from "../ui/hover";
import { exportableCanvas } from "./export/canvas_tape";

const ROW_HEIGHT = 16;
const LABEL_WIDTH = 72;
/** Narrowest column: below this a step cannot be seen or hovered on its own. */
export const MIN_CELL = 3;

const CSS = `
#heatmap-root { position: relative; }
#heatmap-scroll { overflow-x: auto; overflow-y: hidden; }
#heatmap-content { position: relative; }
#heatmap-canvas { display: block; position: sticky; left: 0; cursor: crosshair; }
.heatmap-scale { display: flex; align-items: center; gap: 6px; color: var(--rh-muted); margin-top: 4px; }
.heatmap-scale .ramp { width: 120px; height: 8px; border-radius: 2px; background: linear-gradient(to right, ${[0, 0.25, 0.5, 0.75, 1].map(sequentialColor).join(", ")}); }
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
}

/** Where the focus sequence's columns are: `cell` px per step, `full` px in all, `width` px visible. */
interface Geometry {
  data: CheckpointData;
  i: number;
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
}

function createElements(parent: HTMLElement): HeatmapElements {
  addStyles("heatmap", CSS);
  const caption = h("p", { id: "heatmap-caption" });
  const canvas = h("canvas", { id: "heatmap-canvas", "data-testid": "heatmap-canvas" });
  const content = h("div", { id: "heatmap-content" }, canvas);
  const scroller = h("div", { id: "heatmap-scroll" }, content);
  const root = h("div", { id: "heatmap-root" }, scroller);
  const scale = h("div", { class: "heatmap-scale" }, "0", h("span", { class: "ramp" }), "1 (probability)");
  parent.append(h("h2", {}, "Prediction over time"), caption, root, scale);
  return { caption, canvas, content, scroller, root, scale };
}

function geometry(view: HeatmapView): Geometry | null {
  const focused = focusedSequence(view.store.get());
  if (focused === null || focused.data.probabilities === null) return null;
  const { data, sequence: i, start, end } = focused;
  const length = end - start;
  const width = Math.max(LABEL_WIDTH + MIN_CELL, view.el.scroller.clientWidth || 300); // the visible window
  const cell = Math.max(MIN_CELL, (width - LABEL_WIDTH) / Math.max(1, length));
  const full = LABEL_WIDTH + cell * length; // scrolls when wider than the window
  return { data, i, start, length, width, cell, full };
}

function scrolls(g: Geometry): boolean {
  return g.full > g.width + 0.5;
}

/** Scrolls so that step `t` is in the window (centred when it was outside). */
function reveal(view: HeatmapView, g: Geometry, t: number): void {
  const scroller = view.el.scroller;
  const visible = g.width - LABEL_WIDTH;
  const x = t * g.cell;
  if (x >= scroller.scrollLeft && x + g.cell <= scroller.scrollLeft + visible) return;
  scroller.scrollLeft = Math.max(0, Math.min(g.full - g.width, x + g.cell / 2 - visible / 2));
}

/** The probability cells of the columns in the window. */
function drawCells(f: Frame): void {
  const { ctx, g } = f;
  const probabilities = g.data.probabilities as Float32Array;
  for (let t = f.t0; t < f.t1; t++) {
    for (let k = 0; k < f.classes; k++) {
      ctx.fillStyle = sequentialColor(probabilities[(g.start + t) * f.classes + k] ?? 0);
      ctx.fillRect(f.xOf(t), k * ROW_HEIGHT, Math.ceil(g.cell), ROW_HEIGHT - 1);
    }
  }
}

/** Step axis: first, flip and last step, and when scrolling, every few steps. */
function drawStepAxis(f: Frame): void {
  const { ctx, g } = f;
  const length = g.length;
  ctx.font = "11px Roboto, Arial, sans-serif";
  ctx.textBaseline = "middle";
  ctx.fillStyle = themeColor("--rh-muted");
  const flip = g.data.flipStep[g.i] ?? 0;
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
    ctx.fillText(text, left, f.classes * ROW_HEIGHT + 9);
  }
}

/** The flip step's dashed line and the hovered step's outline. */
function drawMarks(f: Frame, hovered: string | undefined): void {
  const { ctx, g } = f;
  const flip = g.data.flipStep[g.i] ?? 0;
  const bottom = f.classes * ROW_HEIGHT;
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

/** Class labels, over a band that hides columns scrolled under them. */
function drawClassLabels(f: Frame): void {
  const { ctx, g } = f;
  ctx.fillStyle = themeColor("--rh-card");
  ctx.fillRect(0, 0, LABEL_WIDTH, f.height);
  ctx.fillStyle = themeColor("--rh-fg");
  g.data.classNames.forEach((name, k) => {
    const text = name.length > 10 ? `${name.slice(0, 9)}…` : name;
    ctx.fillText(text, 2, k * ROW_HEIGHT + ROW_HEIGHT / 2);
  });
  if (f.scrolls && f.t0 > 0) {
    ctx.fillStyle = themeColor("--rh-muted");
    ctx.fillText("‹", LABEL_WIDTH - 9, f.classes * ROW_HEIGHT + 9);
  }
}

/** The root's test attributes, and the caption and hidden parts when there is nothing to draw. */
function publish(view: HeatmapView, g: Geometry | null): void {
  const { root, canvas, scale, content, caption } = view.el;
  const state = view.store.get();
  root.dataset["hoverStep"] =
    g !== null && state.hover !== null && state.hover >= g.start && state.hover < g.start + g.length ? String(state.hover - g.start) : "";
  root.dataset["flipStep"] = g !== null && (g.data.flipStep[g.i] ?? 0) > 0 ? String(g.data.flipStep[g.i]) : "";
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
  root.dataset["labelWidth"] = String(LABEL_WIDTH);
  const wide = scrolls(g);
  content.style.width = `${wide ? full : width}px`;
  canvas.style.width = `${width}px`;
  const classes = g.data.classNames.length;
  caption.textContent = `Sequence ${g.i}: probability of each class after each step (${length} steps${wide ? "; scroll sideways for more" : ""}).`;
  const height = classes * ROW_HEIGHT + 18;
  canvas.style.height = `${height}px`;
  const ctx = sharpContext(canvas, width, height);
  if (!ctx) return;
  const scroll = wide ? Math.min(scroller.scrollLeft, full - width) : 0;
  const frame: Frame = {
    ctx,
    g,
    scrolls: wide,
    t0: Math.max(0, Math.floor(scroll / cell)),
    t1: Math.min(length, Math.ceil((scroll + width - LABEL_WIDTH) / cell)),
    xOf: (t) => LABEL_WIDTH + t * cell - scroll,
    height,
    classes,
  };
  ctx.save();
  ctx.beginPath();
  ctx.rect(LABEL_WIDTH, 0, width - LABEL_WIDTH, height);
  ctx.clip();
  drawCells(frame);
  drawStepAxis(frame);
  drawMarks(frame, root.dataset["hoverStep"]);
  ctx.restore();
  drawClassLabels(frame);
}

/** The step under a pointer event, or -1. */
function stepAt(view: HeatmapView, event: PointerEvent, g: Geometry): number {
  const x = event.clientX - view.el.canvas.getBoundingClientRect().left - LABEL_WIDTH;
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
  if (state.data !== previous.data || state.focus !== previous.focus || state.hover !== previous.hover) draw(view);
}

export function mountHeatmap(parent: HTMLElement, store: Store<AppState>): void {
  const view: HeatmapView = { store, el: createElements(parent), ownHover: false };
  bindHover(view);
  view.el.scroller.addEventListener("scroll", () => draw(view), { passive: true });
  new ResizeObserver(() => draw(view)).observe(view.el.root);
  new MutationObserver(() => draw(view)).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
  store.subscribe((state, previous) => update(view, state, previous));
  exportableCanvas(view.el.canvas, () => draw(view));
  draw(view);
}
