/**
 * Step distances: for each transition t -> t+1 of the focus sequence, the
 * distance between the two hidden states in the original space, divided by
 * the largest of the checkpoint (bars); below, the distribution over all
 * transitions, where dragging selects a range that the projection highlights.
 * A bar is the step it arrives at: hovering it hovers point t+1 everywhere.
 * The display's jump threshold (`display.jumpThreshold`, the paper's 0.40) is
 * a labelled line across the bars, which marks the bars at or above it, and a
 * marker on the histogram's axis. The bars and the histogram share the
 * panel's height (ui/styles.ts gives the panel what its column leaves).
 * The histogram is also a keyboard control (arrow keys, see its aria
 * description). For tests, it carries its bin counts (`data-counts`), the
 * range label the exact range (`data-range`, "lo,hi"), and the bars, the
 * threshold line and the histogram the threshold (`data-jump-threshold`;
 * the histogram's marker position in CSS px as `data-jump-x`).
 */
import { h, setChildren, sharpContext } from "../ui/dom";
import { formatPrecision } from "../domain/format";
import { distanceBars, thresholdText } from "../domain/distance_bars";
import { histogram, keyedRange } from "../domain/panel_model";
import { focusedSequence, setDistanceRange } from "../state/selection";
import type { AppState } from "../state/app_state";
import type { Store } from "../state/store";
import { addStyles, themeColor } from "../ui/styles";
import { bindStepHover } from "../ui/hover";
import { exportableCanvas } from "./export/canvas_tape";

const BINS = 40;
/** Heights where the page scrolls (narrow or short frames); in the columns the panel's height is shared. */
const BAR_AREA = 90;
const HIST_HEIGHT = 80;
/** Height of the histogram's axis labels under its bars, CSS px. */
const AXIS = 12;

const CSS = `
.distance-head { display: flex; align-items: center; gap: 4px 8px; flex-wrap: wrap; margin-bottom: 6px; }
.panel .distance-head h2 { flex: 0 1 auto; margin: 0; }
.distance-head .distance-row { margin-left: auto; }
#distance-bar-box { position: relative; height: ${BAR_AREA}px; border-bottom: 1px solid var(--rh-border); }
#distance-bars { display: flex; align-items: flex-end; gap: 1px; height: 100%; }
#distance-bars .dist-bar { flex: 1 1 0; min-width: 1px; min-height: 1px; background: var(--rh-muted); opacity: 0.75; }
#distance-bars .dist-bar[data-jump="true"] { background: var(--rh-fg); opacity: 0.8; }
#distance-bars .dist-bar.hovered { background: var(--rh-highlight); opacity: 1; }
#distance-bars .dist-bar.in-range { background: var(--rh-accent); opacity: 1; }
#distance-jump-line { position: absolute; left: 0; right: 0; border-top: 1px dashed var(--rh-error-fg); pointer-events: none; }
#distance-jump-line span { position: absolute; right: 0; bottom: 1px; font-size: 10px; line-height: 11px; padding: 0 3px; border-radius: 2px; color: var(--rh-error-fg); background: var(--rh-card); opacity: 0.9; }
#distance-hist-box { position: relative; height: ${HIST_HEIGHT}px; }
#distance-hist { position: absolute; inset: 0; display: block; width: 100%; height: 100%; cursor: col-resize; touch-action: none; border-radius: 2px; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
#distance-hist:focus-visible { outline: 2px solid var(--rh-accent); outline-offset: 2px; }
.distance-row { display: flex; align-items: center; gap: 8px; color: var(--rh-muted); font-size: 12px; }
.distance-row button { padding: 1px 8px; font-size: 12px; }
#distance-caption, #distance-hist-caption { color: var(--rh-muted); margin: 0 0 4px; font-size: 12px; }
#distance-hist-caption { margin-top: 6px; }
/* Where the right column fits its panels (ui/styles.ts, container right-column), the panel is a flex
   column: the bars and the histogram share what the text leaves. */
@container right-column (min-height: 500px) {
  #distance-panel #distance-bar-box, #distance-panel #distance-hist-box { flex: 1 1 0; height: auto; min-height: 32px; max-height: 150px; }
}
`;

interface DistanceElements {
  caption: HTMLParagraphElement;
  bars: HTMLDivElement;
  jumpLine: HTMLDivElement;
  jumpLabel: HTMLSpanElement;
  histBox: HTMLDivElement;
  hist: HTMLCanvasElement;
  range: HTMLSpanElement;
  clear: HTMLButtonElement;
}

/** The view's elements and what it last drew. */
interface DistancesView {
  readonly store: Store<AppState>;
  readonly el: DistanceElements;
  /** Point index of step 0 of the sequence whose bars are shown (-1: none). */
  barStart: number;
  barEls: HTMLElement[];
  /** The checkpoint's histogram (BINS counts). */
  counts: number[];
}

function createElements(parent: HTMLElement): DistanceElements {
  addStyles("distances", CSS);
  const caption = h("p", { id: "distance-caption" });
  const bars = h("div", { id: "distance-bars", "data-testid": "distance-bars" });
  const jumpLabel = h("span", {});
  const jumpLine = h("div", { id: "distance-jump-line", "data-testid": "distance-jump-line", "aria-hidden": "true" }, jumpLabel);
  const histCaption = h(
    "p",
    { id: "distance-hist-caption", title: "Drag, or focus it and use the arrow keys, to highlight a range of distances in the projection." },
    "All transitions of this checkpoint (drag to highlight a range):",
  );
  // Keyboard: arrows move the range one bin, shift+arrows move its upper end, Home/End jump, Escape clears.
  const hist = h("canvas", {
    id: "distance-hist",
    "data-testid": "distance-hist",
    tabindex: 0,
    role: "slider",
    "aria-label": "Distance range to highlight in the projection",
    "aria-describedby": "distance-hist-caption distance-hist-keys",
    "aria-valuemin": 0,
    "aria-valuemax": 1,
    "aria-keyshortcuts": "ArrowLeft ArrowRight Shift+ArrowLeft Shift+ArrowRight Home End Escape",
  });
  const histBox = h("div", { id: "distance-hist-box" }, hist);
  const keysHint = h(
    "span",
    { id: "distance-hist-keys", class: "visually-hidden" },
    `Arrow keys move the range by one of ${BINS} bins; shift with arrow keys moves its upper end; Escape clears it.`,
  );
  const range = h("span", { id: "distance-range", "data-testid": "distance-range", "aria-live": "polite" });
  const clear = h("button", { type: "button", id: "distance-clear", "aria-label": "Clear range" }, "Clear");
  // The range and its button sit beside the title, so that the histogram's caption is followed by the histogram in tab order.
  const head = h("div", { class: "distance-head" }, h("h2", {}, "Step distances (hidden space)"), h("div", { class: "distance-row" }, range, clear));
  parent.append(head, caption, h("div", { id: "distance-bar-box" }, bars, jumpLine), histCaption, histBox, keysHint);
  return { caption, bars, jumpLine, jumpLabel, histBox, hist, range, clear };
}

/** One bar per transition of the focus sequence. */
function renderBars(view: DistancesView, state: Readonly<AppState>): void {
  const { caption, bars } = view.el;
  view.barEls = [];
  view.barStart = -1;
  const threshold = state.display.jumpThreshold;
  publishThreshold(view, threshold);
  const focused = focusedSequence(state);
  if (focused === null) {
    caption.textContent = state.data === null ? "" : "Select a sequence to see the size of each step.";
    caption.removeAttribute("title");
    setChildren(bars);
    return;
  }
  const { data, sequence: i, start, end } = focused;
  view.barStart = start;
  const model = distanceBars(data.distances, i, start, end, threshold);
  caption.textContent = `Sequence ${i}: ${model.length} transitions; 1 = the largest (${formatPrecision(data.maxDistance, 3)}).`;
  caption.title = "Each bar is the distance of one step from the step before, divided by the largest of the checkpoint; the dashed line is the jump threshold.";
  for (const bar of model) {
    view.barEls.push(h("div", {
      class: "dist-bar", "data-step": bar.step, "data-distance": bar.distance.toFixed(4), "data-jump": String(bar.jump),
      style: `height:${(Math.min(1, bar.distance) * 100).toFixed(2)}%`,
    }));
  }
  setChildren(bars, ...view.barEls);
  markBars(view, state);
}

/** The jump threshold: the line across the bars (at its fraction of their height), its label, and the test attributes. */
function publishThreshold(view: DistancesView, threshold: number): void {
  const { bars, jumpLine, jumpLabel } = view.el;
  const text = thresholdText(threshold);
  jumpLine.style.bottom = `${(Math.min(1, Math.max(0, threshold)) * 100).toFixed(2)}%`;
  jumpLabel.textContent = `jump ≥ ${text}`;
  jumpLine.dataset["jumpThreshold"] = String(threshold);
  bars.dataset["jumpThreshold"] = String(threshold);
}

/** Marks the hovered bar and the bars in the distance range. */
function markBars(view: DistancesView, state: Readonly<AppState>): void {
  const data = state.data;
  const r = state.distanceRange;
  view.barEls.forEach((bar, t) => {
    bar.classList.toggle("hovered", state.hover === view.barStart + t + 1);
    const d = data ? (data.distances[view.barStart - (state.focus ?? 0) + t] ?? 0) : 0;
    bar.classList.toggle("in-range", r !== null && d >= r[0] && d <= r[1]);
  });
}

/** The range as text and attributes (label, slider values, test data), and the clear button. */
function publishRange(view: DistancesView, r: readonly [number, number] | null): void {
  const { hist, range, clear } = view.el;
  range.textContent = r === null ? "no range" : `range ${r[0].toFixed(2)}–${r[1].toFixed(2)}`;
  hist.setAttribute("aria-valuenow", String(r === null ? 0 : r[0]));
  hist.setAttribute("aria-valuetext", r === null ? "no range" : `from ${r[0].toFixed(3)} to ${r[1].toFixed(3)} of the largest distance`);
  range.dataset["range"] = r === null ? "" : `${r[0]},${r[1]}`;
  hist.dataset["counts"] = view.counts.join(",");
  clear.disabled = r === null;
}

/** Draws the distribution of all transitions, the range shaded, the jump threshold marked on the axis. */
function drawHist(view: DistancesView): void {
  const state = view.store.get();
  const { hist, histBox } = view.el;
  const width = histBox.clientWidth || 300;
  const height = Math.max(AXIS + 8, histBox.clientHeight || HIST_HEIGHT);
  const ctx = sharpContext(hist, width, height);
  if (!ctx) return;
  const r = state.distanceRange;
  publishRange(view, r);
  if (state.data === null) return;
  const plot = height - AXIS; // the bars' baseline
  const counts = view.counts;
  const most = Math.max(1, ...counts);
  const bw = width / BINS;
  if (r !== null) {
    ctx.fillStyle = themeColor("--rh-selected");
    ctx.fillRect(r[0] * width, 0, (r[1] - r[0]) * width, plot);
  }
  counts.forEach((c, b) => {
    const inRange = r !== null && (b + 1) / BINS > r[0] && b / BINS < r[1];
    ctx.fillStyle = themeColor(inRange ? "--rh-accent" : "--rh-muted");
    const hgt = (Math.sqrt(c) / Math.sqrt(most)) * (plot - 2);
    ctx.fillRect(b * bw + 0.5, plot - hgt, Math.max(1, bw - 1), hgt);
  });
  ctx.fillStyle = themeColor("--rh-muted");
  ctx.font = "10px Roboto, Arial, sans-serif";
  ctx.textBaseline = "bottom";
  ctx.fillText("0", 0, height);
  ctx.fillText("1 (largest)", width - 56, height);
  drawJumpMarker(view, ctx, width, plot, state.display.jumpThreshold);
}

/** The jump threshold on the histogram's axis: a tick through the bars and a labelled triangle under it. */
function drawJumpMarker(view: DistancesView, ctx: CanvasRenderingContext2D, width: number, plot: number, threshold: number): void {
  const x = Math.round(Math.min(1, Math.max(0, threshold)) * width) + 0.5;
  ctx.strokeStyle = themeColor("--rh-error-fg");
  ctx.fillStyle = ctx.strokeStyle;
  ctx.setLineDash([3, 2]);
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(x, 0);
  ctx.lineTo(x, plot);
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.beginPath();
  ctx.moveTo(x, plot);
  ctx.lineTo(x - 4, plot + 6);
  ctx.lineTo(x + 4, plot + 6);
  ctx.closePath();
  ctx.fill();
  const label = `jump ${thresholdText(threshold)}`;
  const labelWidth = ctx.measureText(label).width;
  // Beside the triangle, on the side with room, clear of the axis' end labels where it can be.
  const left = x + 6 + labelWidth < width - 60 ? x + 6 : x - 6 - labelWidth;
  ctx.fillText(label, Math.max(10, left), plot + AXIS);
  view.el.hist.dataset["jumpThreshold"] = String(threshold);
  view.el.hist.dataset["jumpX"] = (x - 0.5).toFixed(1);
}

/** The range brush on the distribution: drag, the keys, the clear button. */
function bindRange(view: DistancesView): void {
  const { store } = view;
  const { hist, clear } = view.el;
  let dragFrom: number | null = null;
  const at = (event: PointerEvent) => Math.min(1, Math.max(0, event.offsetX / (hist.clientWidth || 1)));
  hist.addEventListener("pointerdown", (event) => {
    dragFrom = at(event);
    hist.setPointerCapture(event.pointerId);
  });
  hist.addEventListener("pointermove", (event) => {
    if (dragFrom === null) return;
    store.set(setDistanceRange([dragFrom, at(event)], 0));
  });
  hist.addEventListener("pointerup", (event) => {
    if (dragFrom === null) return;
    const from = dragFrom;
    dragFrom = null;
    store.set(setDistanceRange([from, at(event)]));
  });
  clear.addEventListener("click", () => store.set(setDistanceRange(null)));
  hist.addEventListener("keydown", (event) => {
    const r = store.get().distanceRange;
    if (event.key === "Escape" || event.key === "Delete" || event.key === "Backspace") {
      if (r === null) return;
      store.set(setDistanceRange(null));
      event.preventDefault();
      return;
    }
    const next = keyedRange(r, event.key, event.shiftKey, BINS);
    if (next === null) return;
    event.preventDefault();
    store.set(setDistanceRange(next));
  });
}

export function mountDistances(parent: HTMLElement, store: Store<AppState>): void {
  const view: DistancesView = { store, el: createElements(parent), barStart: -1, barEls: [], counts: [] };
  // Hover linking from the bars.
  bindStepHover(store, view.el.bars, ".dist-bar", () => view.barStart, (bar, step) => [
    `distance from step ${step - 1}: ${bar.dataset["distance"]}`,
    ...(bar.dataset["jump"] === "true" ? [`a jump (≥ ${thresholdText(store.get().display.jumpThreshold)})`] : []),
  ]);
  bindRange(view);
  new ResizeObserver(() => drawHist(view)).observe(view.el.histBox);
  exportableCanvas(view.el.hist, () => drawHist(view));
  new MutationObserver(() => drawHist(view)).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
  store.subscribe((state, previous) => {
    if (state.data !== previous.data) view.counts = state.data ? histogram(state.data.distances, BINS) : [];
    const thresholdMoved = state.display.jumpThreshold !== previous.display.jumpThreshold;
    if (state.data !== previous.data || state.focus !== previous.focus || thresholdMoved) renderBars(view, state);
    else if (state.hover !== previous.hover || state.distanceRange !== previous.distanceRange) markBars(view, state);
    if (state.data !== previous.data || state.distanceRange !== previous.distanceRange || thresholdMoved) drawHist(view);
  });
  renderBars(view, store.get());
  drawHist(view);
}
