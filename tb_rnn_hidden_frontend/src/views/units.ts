/**
 * LSTMVis' select view: every hidden unit of the focused sequence as a line
 * over its steps (all faint, so 256-1024 units read as a density; the
 * hypothesis' units drawn strong on top), the tokens below as the axis, each
 * shaded by how many of the hypothesis' units are on there (LSTMVis' word
 * shading), and the checkpoint's annotation tracks under the tokens. Dragging along the steps brushes the range [b0, b1) (the off
 * extents before and after it are drawn grey); dragging the dashed line sets
 * the threshold θ; clicking a line adds or removes its unit; pointing at a
 * column hovers its step everywhere. The controller
 * asks `/units` for each new brush, threshold or off extent.
 *
 * For tests the root carries `data-sequence`, `data-units` (the hypothesis),
 * `data-brush` ("sequence:start:end"), `data-threshold`, `data-shading` (units
 * on per step), `data-lines` (units drawn), `data-hover-step` (the hovered
 * step, from any view, marked by a bar over its column), and the geometry: `data-cell` (px
 * per step), `data-label-width` (px before step 0), `data-plot-height` (px of
 * the lines; the token axis below), `data-range` ("low,high" of the value axis).
 */
import { brushRange, nearestUnit, unitCount, signatureRange, unitsOnPerStep, validBrush, valueRange } from "../domain/lstmvis";
import type { AppState } from "../state/app_state";
import { sequenceRows, withBrush, withOff, withThreshold, withUnitToggled, type LstmvisState } from "../state/lstmvis";
import { focusedSequence, type FocusedSequence } from "../state/selection";
import type { Store } from "../state/store";
import { h, setChildren, sharpContext } from "../ui/dom";
import { addStyles, themeColor } from "../ui/styles";
import { ANNOTATION_CSS, annotationRows, annotationTracks } from "../ui/annotation_cells";
import { exportableCanvas } from "./export/canvas_tape";
import { bindPointHover } from "../ui/hover";

const LABEL_WIDTH = 36;
const PLOT_HEIGHT = 170;
const PAD = 6;
const MIN_CELL = 14;

const CSS = `
#units-panel .units-controls { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 10px; margin-bottom: 6px; }
#units-panel .units-controls input[type="number"] { width: 3.8em; }
#units-scroll { overflow-x: auto; overflow-y: hidden; position: relative; }
#units-scroll.reading { opacity: 0.4; pointer-events: none; }
#units-hover { position: absolute; top: 0; width: 0; border-left: 2px solid var(--rh-highlight); pointer-events: none; }
#units-canvas { display: block; touch-action: none; cursor: crosshair; }
#units-list { display: flex; flex-wrap: wrap; align-items: center; gap: 3px; margin-top: 6px; }
#units-list .unit { padding: 0 5px; font-variant-numeric: tabular-nums; border-color: var(--rh-highlight); }
#units-status { color: var(--rh-muted); margin: 0 0 4px; }
#units-status[data-kind="error"] { color: var(--rh-error-fg); }
`;

/** What a frame draws: the focused sequence, its states and the hypothesis (with a drag's preview). */
interface Frame {
  focused: FocusedSequence;
  values: Float32Array;
  numUnits: number;
  s: Readonly<LstmvisState>;
  brush: { start: number; end: number } | null;
  threshold: number;
}

/** The drag in progress: the threshold line, a brush, or a press that is a click until it moves. */
type Drag = { kind: "theta"; value: number } | { kind: "brush"; from: number; to: number } | { kind: "press"; x: number; y: number; step: number };

interface UnitsElements {
  root: HTMLElement;
  status: HTMLElement;
  theta: HTMLInputElement;
  offBefore: HTMLInputElement;
  offAfter: HTMLInputElement;
  clear: HTMLButtonElement;
  /** The brush as numbers (first and last step): the keyboard's way to brush. */
  brushFrom: HTMLInputElement;
  brushTo: HTMLInputElement;
  scroll: HTMLElement;
  canvas: HTMLCanvasElement;
  /** The checkpoint's annotation tracks under the tokens, a cell per step. */
  tracks: HTMLElement;
  /** The hovered step (from any view), a bar over its column. */
  hover: HTMLElement;
  list: HTMLElement;
}

function createElements(parent: HTMLElement): UnitsElements {
  const number = (id: string, label: string, attrs: Record<string, string | number>) => {
    const input = h("input", { id, type: "number", "aria-label": label, ...attrs });
    return { input, field: h("span", { class: "field" }, h("label", { for: id }, label), input) };
  };
  const theta = number("units-threshold", "threshold θ", { step: 0.05 });
  const before = number("units-off-before", "off before", { min: 0, max: 10, step: 1 });
  const after = number("units-off-after", "off after", { min: 0, max: 10, step: 1 });
  const clear = h("button", { id: "units-clear", type: "button" }, "Clear brush");
  const from = number("units-brush-from", "steps", { min: 0, step: 1 });
  const to = number("units-brush-to", "to", { min: 0, step: 1 });
  const status = h("p", { id: "units-status", role: "status" });
  const tracks = h("div", { id: "units-tracks", "data-testid": "units-tracks" });
  const canvas = h("canvas", { id: "units-canvas", "aria-label": "Hidden units over the steps: drag along the steps to brush a range, drag the dashed line to set the threshold, click a line to add or remove its unit" });
  const hover = h("div", { id: "units-hover", hidden: true });
  const scroll = h("div", { id: "units-scroll" }, canvas, tracks, hover);
  const list = h("div", { id: "units-list", "data-testid": "units-list" });
  const root = h("div", { id: "units-root", "data-testid": "units-root" });
  root.append(h("div", { class: "units-controls" }, from.field, to.field, theta.field, before.field, after.field, clear), status, scroll, list);
  parent.append(h("h2", {}, "Hidden units over time: brush a range to select the units on there"), root);
  return { root, status, theta: theta.input, offBefore: before.input, offAfter: after.input, clear, brushFrom: from.input, brushTo: to.input, scroll, canvas, tracks, hover, list };
}

/**
 * The frame of the store's state, or null when there is nothing to draw (and
 * why); `reading` while the focused sequence's states are on their way.
 */
function frameOf(state: Readonly<AppState>): { frame: Frame | null; why: string; reading?: boolean } {
  const focused = focusedSequence(state);
  const s = state.lstmvis;
  if (focused === null) return { frame: null, why: state.data === null ? "" : "Select a sequence to see its hidden units." };
  const values = sequenceRows(s.states, focused.data.key, focused.sequence);
  if (s.statesError !== null) return { frame: null, why: s.statesError };
  if (s.states === null || values === null) return { frame: null, why: `Reading the hidden states of sequence ${focused.sequence}…`, reading: true };
  const brush = s.brush !== null && s.brush.sequence === focused.sequence ? validBrush(s.brush, focused.end - focused.start) : null;
  return { frame: { focused, values, numUnits: s.states.numUnits, s, brush, threshold: s.threshold }, why: "" };
}

/** The value axis and step geometry of a frame drawn `width` px wide at most. */
function geometry(frame: Frame, width: number) {
  const length = frame.focused.end - frame.focused.start;
  const cell = Math.max(MIN_CELL, Math.floor((width - LABEL_WIDTH) / Math.max(1, length)));
  const [lo, hi] = valueRange(frame.values, frame.threshold);
  const yOf = (v: number) => PAD + ((hi - v) / (hi - lo)) * (PLOT_HEIGHT - 2 * PAD);
  const valueAt = (y: number) => hi - ((y - PAD) / (PLOT_HEIGHT - 2 * PAD)) * (hi - lo);
  const xOf = (t: number) => LABEL_WIDTH + (t + 0.5) * cell;
  const stepAt = (x: number) => (x - LABEL_WIDTH) / cell - 0.5;
  return { length, cell, lo, hi, yOf, valueAt, xOf, stepAt };
}

type Geometry = ReturnType<typeof geometry>;

function tokensOf(frame: Frame): string[] {
  const { data, start, end } = frame.focused;
  const out: string[] = [];
  for (let p = start; p < end; p++) out.push(data.tokens !== null ? (data.vocabulary?.[data.tokens[p] ?? -1] ?? "?") : String(p - start));
  return out;
}

/** Column backgrounds: word shading, the off extents and the brush. */
function drawColumns(ctx: CanvasRenderingContext2D, frame: Frame, g: Geometry, shading: Int32Array, axisHeight: number): void {
  const accent = themeColor("--rh-accent");
  const units = Math.max(1, frame.s.units.length);
  ctx.fillStyle = accent;
  for (let t = 0; t < g.length; t++) {
    const share = (shading[t] ?? 0) / units;
    if (share <= 0) continue;
    ctx.globalAlpha = 0.15 + 0.55 * share;
    ctx.fillRect(LABEL_WIDTH + t * g.cell, PLOT_HEIGHT, g.cell, axisHeight);
    ctx.globalAlpha = 0.06 * share;
    ctx.fillRect(LABEL_WIDTH + t * g.cell, 0, g.cell, PLOT_HEIGHT);
  }
  if (frame.brush !== null) {
    const [from, to] = signatureRange({ sequence: 0, ...frame.brush }, frame.s.offBefore, frame.s.offAfter, g.length);
    ctx.globalAlpha = 0.16;
    ctx.fillStyle = themeColor("--rh-muted");
    ctx.fillRect(LABEL_WIDTH + from * g.cell, 0, (frame.brush.start - from) * g.cell, PLOT_HEIGHT);
    ctx.fillRect(LABEL_WIDTH + frame.brush.end * g.cell, 0, (to - frame.brush.end) * g.cell, PLOT_HEIGHT);
    ctx.globalAlpha = 0.14;
    ctx.fillStyle = accent;
    ctx.fillRect(LABEL_WIDTH + frame.brush.start * g.cell, 0, (frame.brush.end - frame.brush.start) * g.cell, PLOT_HEIGHT);
    ctx.globalAlpha = 1;
    ctx.strokeStyle = accent;
    ctx.lineWidth = 1.5;
    ctx.strokeRect(LABEL_WIDTH + frame.brush.start * g.cell + 0.75, 0.75, (frame.brush.end - frame.brush.start) * g.cell - 1.5, PLOT_HEIGHT + axisHeight - 1.5);
  }
  ctx.globalAlpha = 1;
}

/** One unit's line over the steps. */
function traceUnit(ctx: CanvasRenderingContext2D, frame: Frame, g: Geometry, u: number): void {
  ctx.beginPath();
  for (let t = 0; t < g.length; t++) {
    const x = g.xOf(t);
    const y = g.yOf(frame.values[t * frame.numUnits + u] as number);
    if (t === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  }
  ctx.stroke();
}

/** Every unit faint (a density at hundreds of units), the hypothesis' units strong on top. */
function drawLines(ctx: CanvasRenderingContext2D, frame: Frame, g: Geometry): number {
  const selected = new Set(frame.s.units);
  ctx.lineWidth = 1;
  ctx.strokeStyle = themeColor("--rh-fg");
  ctx.globalAlpha = Math.min(0.6, Math.max(0.03, 6 / frame.numUnits));
  if (g.length === 1) ctx.lineCap = "round";
  for (let u = 0; u < frame.numUnits; u++) if (!selected.has(u)) traceUnit(ctx, frame, g, u);
  // Strong, but a few dozen selected lines must not hide each other entirely.
  ctx.globalAlpha = Math.min(0.95, Math.max(0.4, 2 / Math.sqrt(Math.max(1, frame.s.units.length))));
  ctx.lineWidth = 1.8;
  ctx.strokeStyle = themeColor("--rh-highlight");
  let drawn = 0;
  for (const u of frame.s.units) {
    if (u >= frame.numUnits) continue;
    traceUnit(ctx, frame, g, u);
    drawn++;
  }
  ctx.globalAlpha = 1;
  return drawn;
}

/** The value axis labels and the threshold line with its value. */
function drawAxes(ctx: CanvasRenderingContext2D, frame: Frame, g: Geometry, width: number): void {
  ctx.fillStyle = themeColor("--rh-muted");
  ctx.font = "10px Roboto, Arial, sans-serif";
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const v of [g.hi, 0, g.lo]) if (v <= g.hi && v >= g.lo) ctx.fillText(String(Number(v.toFixed(2))), LABEL_WIDTH - 4, g.yOf(v));
  const y = g.yOf(frame.threshold);
  ctx.strokeStyle = themeColor("--rh-accent");
  ctx.lineWidth = 1.5;
  ctx.setLineDash([5, 3]);
  ctx.beginPath();
  ctx.moveTo(LABEL_WIDTH, y);
  ctx.lineTo(width, y);
  ctx.stroke();
  ctx.setLineDash([]);
  const label = `θ ${frame.threshold.toFixed(2)}`;
  ctx.textAlign = "left";
  ctx.fillStyle = themeColor("--rh-card");
  ctx.fillRect(LABEL_WIDTH + 1, y - 14, ctx.measureText(label).width + 4, 12);
  ctx.fillStyle = themeColor("--rh-accent");
  ctx.fillText(label, LABEL_WIDTH + 3, y - 7);
}

/** The tokens under their steps: horizontal when they fit a column, else rotated (a taller axis). */
function drawTokens(ctx: CanvasRenderingContext2D, g: Geometry, tokens: string[], axisHeight: number): void {
  ctx.fillStyle = themeColor("--rh-fg");
  ctx.font = "11px Roboto, Arial, sans-serif";
  const rotated = axisHeight > 24;
  for (let t = 0; t < tokens.length; t++) {
    const text = (tokens[t] ?? "").slice(0, 12);
    ctx.save();
    ctx.translate(g.xOf(t), PLOT_HEIGHT + 4);
    if (rotated) {
      ctx.rotate(Math.PI / 2);
      ctx.textAlign = "left";
      ctx.textBaseline = "middle";
      ctx.fillText(text, 0, 0);
    } else {
      ctx.textAlign = "center";
      ctx.textBaseline = "top";
      ctx.fillText(text, 0, 2);
    }
    ctx.restore();
  }
}

/** The token axis' height: one line when every token fits its column, else room for rotated tokens. */
function axisHeightOf(ctx: CanvasRenderingContext2D, tokens: string[], cell: number): number {
  ctx.font = "11px Roboto, Arial, sans-serif";
  const fits = tokens.every((t) => ctx.measureText(t).width <= cell - 2);
  return fits ? 22 : 64;
}

/** Draws a frame; publishes what it drew on the root. User Timing: `rh-units-draw`. */
function draw(el: UnitsElements, frame: Frame): Geometry {
  const t0 = performance.now();
  const width = Math.max(200, el.scroll.clientWidth || 600);
  const g = geometry(frame, width);
  const tokens = tokensOf(frame);
  const probe = el.canvas.getContext("2d");
  const axisHeight = probe ? axisHeightOf(probe, tokens, g.cell) : 22;
  const full = LABEL_WIDTH + g.cell * g.length;
  const ctx = sharpContext(el.canvas, full, PLOT_HEIGHT + axisHeight);
  el.canvas.style.width = `${full}px`;
  el.canvas.style.height = `${PLOT_HEIGHT + axisHeight}px`;
  const shading = unitsOnPerStep(frame.values, frame.numUnits, frame.s.units, frame.threshold);
  let lines = 0;
  if (ctx) {
    drawColumns(ctx, frame, g, shading, axisHeight);
    lines = drawLines(ctx, frame, g);
    drawAxes(ctx, frame, g, full);
    drawTokens(ctx, g, tokens, axisHeight);
  }
  const d = el.root.dataset;
  d["sequence"] = String(frame.focused.sequence);
  d["shading"] = Array.from(shading).join(",");
  d["lines"] = String(lines);
  d["cell"] = String(g.cell);
  d["labelWidth"] = String(LABEL_WIDTH);
  d["plotHeight"] = String(PLOT_HEIGHT);
  d["range"] = `${g.lo},${g.hi}`;
  performance.measure("rh-units-draw", { start: t0, end: performance.now() });
  return g;
}

/** The status line: what `/units` answered, or why nothing is drawn. */
function statusOf(state: Readonly<AppState>, why: string): { text: string; kind: "info" | "error" } {
  if (why) return { text: why, kind: state.lstmvis.statesError !== null ? "error" : "info" };
  const s = state.lstmvis;
  const request = s.unitsRequest;
  if (request.status === "loading") return { text: "Selecting units…", kind: "info" };
  if (request.status === "failed") return { text: `Could not select units: ${request.error ?? ""}`, kind: "error" };
  if (s.brush !== null && s.brush.sequence !== state.focus) {
    return { text: `The brushed range is on sequence ${s.brush.sequence} (steps ${s.brush.start}–${s.brush.end - 1}).`, kind: "info" };
  }
  if (s.brush === null) return { text: "Drag along the steps to brush a range.", kind: "info" };
  const at = request.step !== null ? ` at step ${request.step}` : "";
  return { text: `Steps ${s.brush.start}–${s.brush.end - 1} brushed; ${unitCount(s.units.length)} selected${at}.`, kind: "info" };
}

/** The hypothesis' units as buttons (a click removes one). */
function renderList(el: UnitsElements, store: Store<AppState>): void {
  const units = store.get().lstmvis.units;
  const buttons = units.map((u) => {
    const button = h("button", { type: "button", class: "unit", title: `Remove unit ${u}`, "data-unit": u }, String(u));
    button.addEventListener("click", () => store.set({ lstmvis: withUnitToggled(store.get().lstmvis, u) }));
    return button;
  });
  setChildren(el.list, h("span", { class: "muted" }, units.length === 0 ? "No units selected." : `${unitCount(units.length)}:`), ...buttons);
}

/** Pointer input: the threshold drag, the brush, a click on a line. */
function bindPointer(el: UnitsElements, store: Store<AppState>, view: { frame: Frame | null; g: Geometry | null; drag: Drag | null; redraw: () => void }): void {
  const local = (event: PointerEvent) => {
    const rect = el.canvas.getBoundingClientRect();
    return { x: event.clientX - rect.left, y: event.clientY - rect.top };
  };
  el.canvas.addEventListener("pointerdown", (event) => {
    const { frame, g } = view;
    if (frame === null || g === null || event.button !== 0) return;
    const { x, y } = local(event);
    el.canvas.setPointerCapture(event.pointerId);
    const nearTheta = Math.abs(y - g.yOf(frame.threshold)) <= 5 && y < PLOT_HEIGHT;
    view.drag = nearTheta ? { kind: "theta", value: frame.threshold } : { kind: "press", x, y, step: g.stepAt(x) };
  });
  el.canvas.addEventListener("pointermove", (event) => {
    const { frame, g, drag } = view;
    if (frame === null || g === null) return;
    const { x, y } = local(event);
    if (drag === null) {
      el.canvas.style.cursor = Math.abs(y - g.yOf(frame.threshold)) <= 5 && y < PLOT_HEIGHT ? "ns-resize" : "crosshair";
      return;
    }
    if (drag.kind === "theta") view.drag = { kind: "theta", value: g.valueAt(y) };
    else if (drag.kind === "press" && Math.abs(x - drag.x) < 4) return;
    else view.drag = { kind: "brush", from: drag.kind === "press" ? drag.step : drag.from, to: g.stepAt(x) };
    view.redraw();
  });
  el.canvas.addEventListener("pointerup", (event) => {
    const { frame, g, drag } = view;
    view.drag = null;
    if (frame === null || g === null || drag === null) return;
    const s = store.get().lstmvis;
    if (drag.kind === "theta") return store.set({ lstmvis: withThreshold(s, drag.value) });
    if (drag.kind === "brush" || drag.y >= PLOT_HEIGHT) {
      const range = drag.kind === "brush" ? brushRange(drag.from, drag.to, g.length) : brushRange(drag.step, drag.step, g.length);
      if (range === null) return;
      return store.set({ lstmvis: withBrush(s, { sequence: frame.focused.sequence, start: range[0], end: range[1] }) });
    }
    const { y } = local(event);
    const tolerance = ((g.hi - g.lo) / PLOT_HEIGHT) * 4;
    const unit = nearestUnit(frame.values, frame.numUnits, drag.step, g.valueAt(y), tolerance);
    if (unit >= 0) store.set({ lstmvis: withUnitToggled(s, unit) });
  });
  el.canvas.addEventListener("pointercancel", () => {
    view.drag = null;
    view.redraw();
  });
}

/** The hovered point, when it is a step of the drawn sequence: a bar over its column (`data-hover-step`). */
function markHover(el: UnitsElements, state: Readonly<AppState>, view: { frame: Frame | null; g: Geometry | null }): void {
  const { frame, g } = view;
  const p = state.hover;
  const inside = frame !== null && g !== null && p !== null && p >= frame.focused.start && p < frame.focused.end;
  el.hover.hidden = !inside;
  el.root.dataset["hoverStep"] = inside ? String(p - frame.focused.start) : "";
  if (!inside) return;
  el.hover.style.left = `${g.xOf(p - frame.focused.start) - 1}px`;
  el.hover.style.height = `${el.canvas.clientHeight}px`;
}

/** Pointing at a column hovers its step everywhere (with the page's tooltip), except while dragging. */
function bindHover(el: UnitsElements, store: Store<AppState>, view: { frame: Frame | null; g: Geometry | null; drag: Drag | null }): void {
  bindPointHover(store, el.canvas, {
    on: "pointermove",
    clearOutside: true,
    hitAt: (event) => {
      const { frame, g } = view;
      if (frame === null || g === null || view.drag !== null) return null;
      const t = Math.round(g.stepAt(event.clientX - el.canvas.getBoundingClientRect().left));
      if (t < 0 || t >= g.length) return null;
      return { point: frame.focused.start + t, data: frame.focused.data };
    },
  });
}

/** The inputs: threshold, off extents, clearing the brush. */
function bindInputs(el: UnitsElements, store: Store<AppState>): void {
  const s = () => store.get().lstmvis;
  el.theta.addEventListener("change", () => store.set({ lstmvis: withThreshold(s(), Number(el.theta.value)) }));
  const off = () => store.set({ lstmvis: withOff(s(), Number(el.offBefore.value), Number(el.offAfter.value)) });
  el.offBefore.addEventListener("change", off);
  el.offAfter.addEventListener("change", off);
  el.clear.addEventListener("click", () => store.set({ lstmvis: withBrush(s(), null) }));
  const typed = () => {
    const focused = focusedSequence(store.get());
    if (focused === null || el.brushFrom.value === "" || el.brushTo.value === "") return;
    const range = brushRange(Number(el.brushFrom.value), Number(el.brushTo.value), focused.end - focused.start);
    if (range !== null) store.set({ lstmvis: withBrush(s(), { sequence: focused.sequence, start: range[0], end: range[1] }) });
  };
  el.brushFrom.addEventListener("change", typed);
  el.brushTo.addEventListener("change", typed);
}

/** The focused sequence's rows, if read: other sequences' rows arriving (the hits') change nothing here. */
function focusedRows(state: Readonly<AppState>): Float32Array | null {
  return state.data === null || state.focus === null ? null : sequenceRows(state.lstmvis.states, state.data.key, state.focus);
}

/** Whether what this view draws of the LSTMVis state changed (not the matches or the quality chart). */
function drawnChanged(state: Readonly<AppState>, previous: Readonly<AppState>): boolean {
  const a = state.lstmvis;
  const b = previous.lstmvis;
  return focusedRows(state) !== focusedRows(previous) || a.statesError !== b.statesError || a.brush !== b.brush || a.threshold !== b.threshold ||
    a.offBefore !== b.offBefore || a.offAfter !== b.offAfter || a.units !== b.units || a.unitsRequest !== b.unitsRequest;
}

export function mountUnits(parent: HTMLElement, store: Store<AppState>): void {
  addStyles("units", CSS);
  addStyles("annotation-cells", ANNOTATION_CSS);
  const el = createElements(parent);
  const view = { frame: null as Frame | null, g: null as Geometry | null, drag: null as Drag | null, redraw: () => {}, tracksKey: "" };
  const render = () => {
    const state = store.get();
    const { frame, why, reading } = frameOf(state);
    const s = state.lstmvis;
    const status = statusOf(state, why);
    el.status.textContent = status.text;
    el.status.dataset["kind"] = status.kind;
    if (document.activeElement !== el.theta) el.theta.value = String(s.threshold);
    el.offBefore.value = String(s.offBefore);
    el.offAfter.value = String(s.offAfter);
    el.clear.disabled = s.brush === null;
    const shownBrush = frame?.brush ?? null;
    if (document.activeElement !== el.brushFrom) el.brushFrom.value = shownBrush !== null ? String(shownBrush.start) : "";
    if (document.activeElement !== el.brushTo) el.brushTo.value = shownBrush !== null ? String(shownBrush.end - 1) : "";
    const last = frame !== null ? String(frame.focused.end - frame.focused.start - 1) : "";
    el.brushFrom.max = last;
    el.brushTo.max = last;
    el.root.dataset["units"] = s.units.join(",");
    el.root.dataset["brush"] = s.brush !== null ? `${s.brush.sequence}:${s.brush.start}:${s.brush.end}` : "";
    el.root.dataset["threshold"] = String(s.threshold);
    // While the next sequence is read, the last drawing stays (faded): the row keeps its height.
    const keep = frame === null && reading === true && view.frame !== null;
    el.scroll.classList.toggle("reading", keep);
    if (keep) return;
    el.scroll.hidden = frame === null;
    if (frame === null) {
      view.tracksKey = "";
      setChildren(el.tracks);
    }
    view.frame = frame;
    view.g = null;
    if (frame === null) return;
    const drag = view.drag;
    const shown: Frame = drag?.kind === "theta" ? { ...frame, threshold: drag.value } : frame;
    const g0 = geometry(frame, Math.max(200, el.scroll.clientWidth || 600));
    const preview = drag?.kind === "brush" ? brushRange(drag.from, drag.to, g0.length) : null;
    view.g = draw(el, preview !== null ? { ...shown, brush: { start: preview[0], end: preview[1] } } : shown);
    const tracksKey = `${frame.focused.data.key}#${frame.focused.sequence}#${view.g.cell}`;
    if (tracksKey !== view.tracksKey) {
      view.tracksKey = tracksKey;
      const { data, start, end } = frame.focused;
      setChildren(el.tracks, ...annotationRows(annotationTracks(data), start, end, view.g.cell, LABEL_WIDTH));
    }
  };
  view.redraw = render;
  exportableCanvas(el.canvas, render);
  bindPointer(el, store, view);
  bindHover(el, store, view);
  bindInputs(el, store);
  store.subscribe((state, previous) => {
    if (state.data !== previous.data || state.focus !== previous.focus || drawnChanged(state, previous)) render();
    if (state.lstmvis.units !== previous.lstmvis.units) renderList(el, store);
    markHover(el, state, view);
  });
  new ResizeObserver(() => render()).observe(el.scroll);
  // Canvas colours are read from the theme when drawn: redraw when it changes.
  new MutationObserver(() => render()).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
  render();
  renderList(el, store);
}
