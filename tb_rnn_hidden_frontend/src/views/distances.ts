/**
 * Step distances: for each transition t -> t+1 of the focus sequence, the
 * distance between the two hidden states in the original space, divided by
 * the largest of the checkpoint (bars); below, the distribution over all
 * transitions, where dragging selects a range that the projection highlights.
 * A bar is the step it arrives at: hovering it hovers point t+1 everywhere.
 * The histogram is also a keyboard control (arrow keys, see its aria
 * description). For tests, it carries its bin counts (`data-counts`) and the
 * range label the exact range (`data-range`, "lo,hi").
 */
import { h, setChildren, sharpContext } from "../ui/dom";
import { formatPrecision } from "../domain/format";
import { histogram, keyedRange } from "../domain/panel_model";
import { focusedSequence, setDistanceRange } from "../state/selection";
import type { AppState } from "../state/app_state";
import type { Store } from "../state/store";
import { addStyles, themeColor } from "../ui/styles";
import { bindStepHover } from "../ui/hover";
import { exportableCanvas } from "./export/canvas_tape";

const BINS = 40;
const BAR_AREA = 90;
const HIST_HEIGHT = 80;

const CSS = `
#distance-bars { display: flex; align-items: flex-end; gap: 1px; height: ${BAR_AREA}px; border-bottom: 1px solid var(--rh-border); }
#distance-bars .dist-bar { flex: 1 1 0; min-width: 1px; background: var(--rh-muted); opacity: 0.75; }
#distance-bars .dist-bar.hovered { background: var(--rh-highlight); opacity: 1; }
#distance-bars .dist-bar.in-range { background: var(--rh-accent); opacity: 1; }
#distance-hist { display: block; width: 100%; height: ${HIST_HEIGHT}px; cursor: col-resize; touch-action: none; border-radius: 2px; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
#distance-hist:focus-visible { outline: 2px solid var(--rh-accent); outline-offset: 2px; }
.distance-row { display: flex; align-items: center; gap: 8px; color: var(--rh-muted); margin: 4px 0; }
#distance-caption, #distance-hist-caption { color: var(--rh-muted); margin: 6px 0 4px; }
`;

interface DistanceElements {
  caption: HTMLParagraphElement;
  bars: HTMLDivElement;
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
  const histCaption = h(
    "p",
    { id: "distance-hist-caption" },
    "All transitions of this checkpoint (drag, or focus it and use the arrow keys, to highlight a range in the projection):",
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
  const keysHint = h(
    "span",
    { id: "distance-hist-keys", class: "visually-hidden" },
    `Arrow keys move the range by one of ${BINS} bins; shift with arrow keys moves its upper end; Escape clears it.`,
  );
  const range = h("span", { id: "distance-range", "data-testid": "distance-range", "aria-live": "polite" });
  const clear = h("button", { type: "button", id: "distance-clear" }, "Clear range");
  parent.append(h("h2", {}, "Step distances (hidden space)"), caption, bars, histCaption, hist, keysHint, h("div", { class: "distance-row" }, range, clear));
  return { caption, bars, hist, range, clear };
}

/** One bar per transition of the focus sequence. */
function renderBars(view: DistancesView, state: Readonly<AppState>): void {
  const { caption, bars } = view.el;
  view.barEls = [];
  view.barStart = -1;
  const focused = focusedSequence(state);
  if (focused === null) {
    caption.textContent = state.data === null ? "" : "Select a sequence to see the size of each step.";
    setChildren(bars);
    return;
  }
  const { data, sequence: i, start, end } = focused;
  const length = end - start;
  view.barStart = start;
  const first = start - i; // row of transition 0 -> 1 of sequence i
  caption.textContent = `Sequence ${i}: ${Math.max(0, length - 1)} transitions, height = distance / largest of the checkpoint (${formatPrecision(data.maxDistance, 3)}).`;
  for (let t = 0; t + 1 < length; t++) {
    const d = data.distances[first + t] ?? 0;
    view.barEls.push(h("div", { class: "dist-bar", "data-step": t + 1, "data-distance": d.toFixed(4), style: `height:${Math.max(1, d * BAR_AREA)}px` }));
  }
  setChildren(bars, ...view.barEls);
  markBars(view, state);
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

/** Draws the distribution of all transitions, the range shaded. */
function drawHist(view: DistancesView): void {
  const state = view.store.get();
  const hist = view.el.hist;
  const width = hist.clientWidth || 300;
  const ctx = sharpContext(hist, width, HIST_HEIGHT);
  if (!ctx) return;
  const r = state.distanceRange;
  publishRange(view, r);
  if (state.data === null) return;
  const counts = view.counts;
  const most = Math.max(1, ...counts);
  const bw = width / BINS;
  if (r !== null) {
    ctx.fillStyle = themeColor("--rh-selected");
    ctx.fillRect(r[0] * width, 0, (r[1] - r[0]) * width, HIST_HEIGHT - 12);
  }
  counts.forEach((c, b) => {
    const inRange = r !== null && (b + 1) / BINS > r[0] && b / BINS < r[1];
    ctx.fillStyle = themeColor(inRange ? "--rh-accent" : "--rh-muted");
    const hgt = (Math.sqrt(c) / Math.sqrt(most)) * (HIST_HEIGHT - 14);
    ctx.fillRect(b * bw + 0.5, HIST_HEIGHT - 12 - hgt, Math.max(1, bw - 1), hgt);
  });
  ctx.fillStyle = themeColor("--rh-muted");
  ctx.font = "10px Roboto, Arial, sans-serif";
  ctx.textBaseline = "bottom";
  ctx.fillText("0", 0, HIST_HEIGHT);
  ctx.fillText("1 (largest)", width - 56, HIST_HEIGHT);
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
  ]);
  bindRange(view);
  new ResizeObserver(() => drawHist(view)).observe(view.el.hist);
  exportableCanvas(view.el.hist, () => drawHist(view));
  new MutationObserver(() => drawHist(view)).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
  store.subscribe((state, previous) => {
    if (state.data !== previous.data) view.counts = state.data ? histogram(state.data.distances, BINS) : [];
    if (state.data !== previous.data || state.focus !== previous.focus) renderBars(view, state);
    else if (state.hover !== previous.hover || state.distanceRange !== previous.distanceRange) markBars(view, state);
    if (state.data !== previous.data || state.distanceRange !== previous.distanceRange) drawHist(view);
  });
  renderBars(view, store.get());
  drawHist(view);
}
