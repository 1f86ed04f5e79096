/**
 * LSTMVis' match view: "Match" runs the hypothesis' units at its threshold
 * over every step of the checkpoint (`/matches`); the top hits are listed in
 * rank order, each its tokens with a few steps of context (the hit marked), a
 * heat map of the query units across them (on = value >= θ; once that
 * sequence's states are read, `/states?sequence=`), the annotation tracks
 * under them (each row named at its left), its intersection/union/length and,
 * where true classes are logged, the sequence's label and prediction.
 * Clicking a hit focuses that sequence at that step. The
 * hits' steps are lit in the projection (the controller writes `lit`).
 *
 * Across checkpoints: "Run on this checkpoint" re-runs the query on the
 * shown one, "keep" re-runs it on every checkpoint shown, and a small chart
 * plots the query's match quality per checkpoint (filled in the background).
 * Results of another checkpoint say so ("matches of step 4 (step 6 shown)").
 *
 * For tests the root carries `data-status` (idle, loading, done, failed),
 * `data-step` (the result's checkpoint step), `data-stale` ("true" when it is
 * not the shown checkpoint's), `data-hits`; each hit `data-rank`,
 * `data-sequence`, `data-start`, `data-end`; the chart `data-quality` (JSON
 * [[step, quality], …]) and `data-total`.
 */
import type { MatchHit } from "../api/types";
import { hitWindow, qualitySeries, sameUnits, staleLabel, unitCount } from "../domain/lstmvis";
import type { CheckpointData } from "../domain/model";
import { stepsOf, type AppState } from "../state/app_state";
import { sequenceRows, withMatchRequested, withRerunRequested, type MatchRun } from "../state/lstmvis";
import { selectSequences } from "../state/selection";
import type { Store } from "../state/store";
import { ANNOTATION_CSS, annotationRows, annotationTracks } from "../ui/annotation_cells";
import { h, setChildren, sharpContext } from "../ui/dom";
import { addStyles, themeColor } from "../ui/styles";

/** Steps of context shown either side of a hit. */
export const CONTEXT = 4;
const CHART_HEIGHT = 90;
/** Width of the names at the left of a hit's rows (units, the annotation tracks), CSS px. */
const ROW_LABEL_WIDTH = 36;

const CSS = `
#matches-panel .matches-controls { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 10px; margin-bottom: 6px; }
#matches-status { margin: 0 0 6px; color: var(--rh-muted); }
#matches-status[data-stale="true"] { color: var(--rh-fg); background: var(--rh-selected); padding: 2px 6px; border-radius: 3px; }
#matches-status[data-kind="error"] { color: var(--rh-error-fg); }
#quality-chart { display: block; width: 100%; }
#quality-caption { color: var(--rh-muted); font-size: 12px; margin: 2px 0 8px; }
#matches-list { display: flex; flex-direction: column; gap: 6px; max-height: 520px; overflow: auto; }
#matches-list .hit { flex: 0 0 auto; border: 1px solid var(--rh-border); border-radius: 3px; padding: 4px 6px; cursor: pointer; overflow-x: auto; }
#matches-list .hit:hover, #matches-list .hit:focus { border-color: var(--rh-accent); outline: none; }
#matches-list .hit-head { color: var(--rh-muted); font-size: 12px; margin-bottom: 2px; }
#matches-list .hit-tokens { display: flex; padding-left: ${ROW_LABEL_WIDTH}px; }
#matches-list .hit-labelled { display: flex; align-items: center; margin-top: 2px; }
#matches-list .hit-row-label, #matches-list .annotation-name { flex: 0 0 auto; box-sizing: border-box; width: ${ROW_LABEL_WIDTH}px; padding-right: 4px; font-size: 10px; color: var(--rh-muted); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
#matches-list .hit-labelled canvas { margin-top: 0; }
#matches-list .hit-tokens span { flex: 0 0 auto; box-sizing: border-box; text-align: center; overflow: hidden; white-space: pre; text-overflow: ellipsis; font-size: 12px; }
#matches-list .hit-tokens .context { color: var(--rh-muted); }
#matches-list .hit-tokens .in-hit { background: var(--rh-selected); box-shadow: inset 0 -2px 0 var(--rh-accent); }
#matches-list canvas { display: block; margin-top: 2px; }
`;

interface MatchElements {
  root: HTMLElement;
  match: HTMLButtonElement;
  rerun: HTMLButtonElement;
  keep: HTMLButtonElement;
  trajectories: HTMLButtonElement;
  status: HTMLElement;
  chart: HTMLCanvasElement;
  chartCaption: HTMLElement;
  list: HTMLElement;
}

function createElements(parent: HTMLElement): MatchElements {
  const button = (id: string, text: string, title: string) => h("button", { id, type: "button", title }, text);
  const match = button("matches-run", "Match", "Find where else these units are on together, over every step of the checkpoint");
  const rerun = button("matches-rerun", "Run on this checkpoint", "Run the same query on the checkpoint shown");
  const keep = button("matches-keep", "Keep across checkpoints", "Re-run the query whenever another checkpoint is shown");
  const trajectories = button("matches-trajectories", "Trajectories", "Draw the trajectories of the matched sequences in the projection");
  const status = h("p", { id: "matches-status", role: "status" });
  const chart = h("canvas", { id: "quality-chart", "aria-label": "Match quality of the query per checkpoint" });
  const chartCaption = h("p", { id: "quality-caption" });
  const list = h("div", { id: "matches-list", "data-testid": "matches-list" });
  const root = h("div", { id: "matches-root", "data-testid": "matches-root" });
  root.append(h("div", { class: "matches-controls" }, match, rerun, keep, trajectories), status, chart, chartCaption, list);
  parent.append(h("h2", {}, "Matches: where else these units are on together"), root);
  return { root, match, rerun, keep, trajectories, status, chart, chartCaption, list };
}

/** The status line of a match run, and whether it is another checkpoint's. */
function statusOf(run: MatchRun | null, shownStep: number | null): { text: string; stale: boolean; kind: "info" | "error" } {
  if (run === null) return { text: "Brush a range in the units view, then Match.", stale: false, kind: "info" };
  const stale = staleLabel(run.step, shownStep);
  const of = stale !== "" ? `${stale[0]?.toUpperCase()}${stale.slice(1)}: ` : `Step ${run.step}: `;
  const units = `${unitCount(run.query.units.length)} at θ ${run.query.threshold}`;
  if (run.status === "loading") return { text: `${of}matching ${units}…`, stale: stale !== "", kind: "info" };
  if (run.status === "failed") return { text: `${of}the match failed: ${run.error ?? ""}`, stale: stale !== "", kind: "error" };
  const r = run.response;
  const quality = r !== null ? `quality ${r.quality.toFixed(2)}, ` : "";
  return { text: `${of}${r?.matches.length ?? 0} hits of ${units} (${quality}${r?.candidates ?? 0} candidates over ${r?.steps ?? 0} steps).`, stale: stale !== "", kind: "info" };
}

/** The quality chart: quality per checkpoint step, the shown step marked. */
function drawChart(el: MatchElements, state: Readonly<AppState>): void {
  const chart = state.lstmvis.quality;
  el.chart.hidden = chart === null;
  el.chartCaption.hidden = chart === null;
  if (chart === null) return;
  const steps = stepsOf(state);
  const series = qualitySeries(steps, chart.byStep);
  const answered = Object.keys(chart.byStep).length;
  el.root.dataset["quality"] = JSON.stringify(series);
  el.root.dataset["total"] = String(chart.total);
  el.chartCaption.textContent =
    `Match quality per checkpoint (share of the query units on in the top hits): ${answered} of ${chart.total} checkpoints` +
    (answered < chart.total ? "…" : "") + (state.step !== null ? `; step ${state.step} marked.` : "");
  const width = Math.max(120, el.chart.clientWidth || 300);
  el.chart.style.height = `${CHART_HEIGHT}px`;
  const ctx = sharpContext(el.chart, width, CHART_HEIGHT);
  if (!ctx || steps.length === 0) return;
  const first = steps[0] as number;
  const last = steps[steps.length - 1] as number;
  const xOf = (s: number) => 24 + ((s - first) / Math.max(1, last - first)) * (width - 32);
  const yOf = (q: number) => 6 + (1 - q) * (CHART_HEIGHT - 18);
  ctx.fillStyle = themeColor("--rh-muted");
  ctx.font = "10px Roboto, Arial, sans-serif";
  ctx.fillText("1", 8, yOf(1) + 3);
  ctx.fillText("0", 8, yOf(0) + 3);
  drawStepLabels(ctx, steps, xOf, state.step);
  if (state.step !== null) {
    ctx.fillStyle = themeColor("--rh-accent");
    ctx.globalAlpha = 0.35;
    ctx.fillRect(xOf(state.step) - 1.5, 2, 3, CHART_HEIGHT - 10);
    ctx.globalAlpha = 1;
  }
  ctx.strokeStyle = themeColor("--rh-highlight");
  ctx.fillStyle = themeColor("--rh-highlight");
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  series.forEach(([s, q], i) => (i === 0 ? ctx.moveTo(xOf(s), yOf(q)) : ctx.lineTo(xOf(s), yOf(q))));
  ctx.stroke();
  for (const [s, q] of series) {
    ctx.beginPath();
    ctx.arc(xOf(s), yOf(q), s === state.step ? 4 : 2.5, 0, 2 * Math.PI);
    ctx.fill();
  }
}

/**
 * The chart's x axis: which checkpoint each point is. Every step when they fit
 * (about 28 px each), else the first, the last and the shown one.
 */
function drawStepLabels(ctx: CanvasRenderingContext2D, steps: readonly number[], xOf: (s: number) => number, shown: number | null): void {
  if (steps.length === 0) return;
  const span = xOf(steps[steps.length - 1] as number) - xOf(steps[0] as number);
  const fit = steps.length === 1 || span / (steps.length - 1) >= 28;
  const labelled = fit ? steps : [...new Set([steps[0] as number, steps[steps.length - 1] as number, ...(shown !== null ? [shown] : [])])];
  ctx.textAlign = "center";
  for (const s of labelled) ctx.fillText(String(s), xOf(s), CHART_HEIGHT - 1);
  ctx.textAlign = "start";
}

/** Column width of the hit rows: wide enough for the longest token shown (capped). */
function cellWidthOf(data: CheckpointData | null): number {
  const vocabulary = data?.vocabulary ?? null;
  if (vocabulary === null) return 12;
  const longest = vocabulary.reduce((m, w) => Math.max(m, w.length), 1);
  return Math.max(14, Math.min(64, 7 * longest + 6));
}

/** The query units across the hit window (steps [from, to) of the sequence's `rows`): a row per unit, a column per step, on (>= θ) strong. */
function heatMap(rows: Float32Array, numUnits: number, from: number, to: number, run: MatchRun, cell: number): HTMLCanvasElement {
  const units = run.query.units.filter((u) => u < numUnits);
  const rowHeight = Math.max(2, Math.min(6, Math.floor(48 / Math.max(1, units.length))));
  const canvas = h("canvas", { class: "hit-heat", title: `units ${units.join(", ")} (on: value ≥ ${run.query.threshold})` });
  const width = (to - from) * cell;
  const height = rowHeight * units.length;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const ctx = sharpContext(canvas, width, height);
  if (!ctx) return canvas;
  const on = themeColor("--rh-highlight");
  const off = themeColor("--rh-border");
  units.forEach((u, r) => {
    for (let t = 0; t < to - from; t++) {
      const value = rows[(from + t) * numUnits + u] as number;
      ctx.fillStyle = value >= run.query.threshold ? on : off;
      ctx.fillRect(t * cell, r * rowHeight, cell - 1, rowHeight - (rowHeight > 2 ? 1 : 0));
    }
  });
  return canvas;
}

/**
 * The hit's sequence's classes for its head line: its true class and the
 * shown checkpoint's prediction (not the hit's when the hit is another
 * checkpoint's), only where true classes are logged; without them (a
 * language model's per-step classes) the sequence's last prediction says
 * nothing about the hit.
 */
function classesOf(hit: MatchHit, run: MatchRun, data: CheckpointData): string {
  const labels = data.meta.labels;
  if (!labels) return "";
  const name = (k: number | null | undefined) => (k === null || k === undefined ? "—" : (data.classNames[k] ?? String(k)));
  const predicted = data.key === run.checkpoint ? `, predicted ${name(data.meta.predictions?.[hit.sequence])}` : "";
  return `; true ${name(labels[hit.sequence])}${predicted}`;
}

/** A row under a hit with its name at the left (the tokens row keeps the same gutter). */
function labelledRow(label: string, title: string, content: HTMLElement): HTMLElement {
  return h("div", { class: "hit-labelled" }, h("span", { class: "hit-row-label", title }, label), content);
}

/** One hit: its head line, tokens with context, heat map and annotation tracks. */
function hitRow(hit: MatchHit, rank: number, run: MatchRun, state: Readonly<AppState>, cell: number): HTMLElement {
  const data = state.data;
  const sameProbe = data !== null && data.meta.num_sequences > hit.sequence && (data.meta.lengths[hit.sequence] ?? 0) >= hit.end;
  const length = sameProbe ? (data.meta.lengths[hit.sequence] as number) : hit.end;
  const [from, to] = hitWindow(hit, length, CONTEXT);
  const head = h(
    "div",
    { class: "hit-head" },
    `#${rank + 1} · sequence ${hit.sequence}, steps ${hit.start}–${hit.end - 1} · ${hit.intersection} of ${unitCount(run.query.units.length)} on (union ${hit.union}) · length ${hit.length}${sameProbe ? classesOf(hit, run, data) : ""}`,
  );
  const row = h("div", { class: "hit", role: "button", tabindex: 0, "data-rank": rank, "data-sequence": hit.sequence, "data-start": hit.start, "data-end": hit.end }, head);
  if (sameProbe) {
    const base = data.offsets[hit.sequence] as number;
    const tokens = [];
    for (let t = from; t < to; t++) {
      const text = data.tokens !== null ? (data.vocabulary?.[data.tokens[base + t] ?? -1] ?? "?") : "";
      tokens.push(h("span", { class: t >= hit.start && t < hit.end ? "in-hit" : "context", style: `width:${cell}px`, title: `step ${t}` }, text));
    }
    row.append(h("div", { class: "hit-tokens" }, ...tokens));
    const states = state.lstmvis.states;
    const rows = sequenceRows(states, run.checkpoint, hit.sequence);
    if (states !== null && rows !== null) {
      row.append(labelledRow("units", `the query's units, a row each (on: value ≥ ${run.query.threshold})`, heatMap(rows, states.numUnits, from, to, run, cell)));
    }
    if (data.key === run.checkpoint) row.append(...annotationRows(annotationTracks(data), base + from, base + to, cell, ROW_LABEL_WIDTH));
  }
  return row;
}

/** The hit list, rendered when the result, the data or the states change. */
function renderHits(el: MatchElements, state: Readonly<AppState>): void {
  const run = state.lstmvis.matches;
  const hits = run?.status === "done" ? (run.response?.matches ?? []) : [];
  el.root.dataset["hits"] = String(hits.length);
  if (run === null || hits.length === 0) return setChildren(el.list);
  const cell = cellWidthOf(state.data);
  setChildren(el.list, ...hits.map((hit, rank) => hitRow(hit, rank, run, state, cell)));
}

/** A click on a hit: its sequence selected and focused, its first step hovered. */
function bindHits(el: MatchElements, store: Store<AppState>): void {
  const open = (target: EventTarget | null) => {
    const row = (target as Element | null)?.closest(".hit") as HTMLElement | null;
    const state = store.get();
    if (!row || state.data === null) return;
    const sequence = Number(row.dataset["sequence"]);
    const start = Number(row.dataset["start"]);
    if (!(sequence < state.data.meta.num_sequences)) return;
    const selected = state.selected.includes(sequence) ? state.selected : [...state.selected, sequence];
    const point = (state.data.offsets[sequence] as number) + start;
    store.set({ ...selectSequences(state, selected, sequence), hover: point < (state.data.offsets[sequence + 1] as number) ? point : null });
  };
  el.list.addEventListener("click", (event) => open(event.target));
  el.list.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      open(event.target);
    }
  });
}

function bindControls(el: MatchElements, store: Store<AppState>): void {
  const s = () => store.get().lstmvis;
  el.match.addEventListener("click", () => store.set({ lstmvis: withMatchRequested(s()) }));
  el.rerun.addEventListener("click", () => store.set({ lstmvis: withRerunRequested(s()) }));
  el.keep.addEventListener("click", () => {
    const keep = !s().keep;
    store.set({ lstmvis: { ...withRerunRequested(s()), keep } });
  });
  el.trajectories.addEventListener("click", () => store.set({ litTrajectories: !store.get().litTrajectories }));
}

/** Buttons and the status line. */
function renderControls(el: MatchElements, state: Readonly<AppState>): void {
  const s = state.lstmvis;
  const run = s.matches;
  // While the shown step's data loads, the store still holds the previous checkpoint's: a run now would be that one's.
  const loading = state.data !== null && state.step !== null && state.data.step !== state.step;
  el.match.disabled = s.units.length === 0 || state.data === null || loading;
  el.match.textContent = s.units.length > 0 ? `Match ${unitCount(s.units.length)} at θ ${s.threshold}` : "Match";
  const stale = run !== null && run.step !== state.step;
  el.rerun.hidden = !(s.query !== null && (stale || (run !== null && run.checkpoint !== state.data?.key)));
  el.rerun.textContent = state.step !== null ? `Run on step ${state.step}` : "Run on this checkpoint";
  el.rerun.disabled = loading;
  el.rerun.title = loading ? `Step ${state.step} is loading` : "Run the same query on the checkpoint shown";
  el.keep.setAttribute("aria-pressed", String(s.keep));
  el.keep.disabled = s.query === null;
  el.trajectories.setAttribute("aria-pressed", String(state.litTrajectories));
  el.trajectories.disabled = state.lit === null;
  const status = statusOf(run, state.step);
  el.status.textContent = status.text;
  el.status.dataset["stale"] = String(status.stale);
  el.status.dataset["kind"] = status.kind;
  el.root.dataset["status"] = run?.status ?? "idle";
  el.root.dataset["step"] = run !== null ? String(run.step) : "";
  el.root.dataset["stale"] = String(status.stale);
  const edited = run !== null && !sameUnits(run.query.units, s.units);
  el.match.title = edited ? "The units changed since the last match: Match runs the new set" : "Find where else these units are on together";
}

export function mountMatches(parent: HTMLElement, store: Store<AppState>): void {
  addStyles("matches", CSS);
  addStyles("annotation-cells", ANNOTATION_CSS);
  const el = createElements(parent);
  bindControls(el, store);
  bindHits(el, store);
  store.subscribe((state, previous) => {
    const s = state.lstmvis;
    const p = previous.lstmvis;
    renderControls(el, state);
    if (s.quality !== p.quality || state.step !== previous.step || state.tags !== previous.tags) drawChart(el, state);
    if (s.matches !== p.matches || state.data !== previous.data || s.states !== p.states) renderHits(el, state);
  });
  new ResizeObserver(() => drawChart(el, store.get())).observe(el.chart);
  new MutationObserver(() => {
    drawChart(el, store.get());
    renderHits(el, store.get());
  }).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
  renderControls(el, store.get());
  drawChart(el, store.get());
}
