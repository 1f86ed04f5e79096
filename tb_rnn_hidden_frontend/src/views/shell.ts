/**
 * The page around the views: `#message` (loading, nothing logged, the
 * listing's errors) above the selection controls, then either the three
 * columns of panels in `#views` (with LSTMVis' row under them, opened from
 * its bar: units, matches, and search, neighbours and the annotation filter),
 * which shows while a checkpoint's data is in
 * the store and is `aria-busy` while one loads, or `#checkpoint-error` in
 * their place: why the selected checkpoint cannot be drawn. The controls stay,
 * so another checkpoint can be opened.
 */
import type { AppState } from "../state/app_state";
import type { Store } from "../state/store";
import { h } from "../ui/dom";
import { addStyles } from "../ui/styles";

/**
 * LSTMVis' row under the three columns: the units view, the matches, and a
 * column of the other ways to find steps (token search, nearest neighbours,
 * the annotation filter), all lighting points in the projection above. A bar
 * opens it, then it takes at most 42% of the frame's height, each panel
 * scrolling. Closed, it is one line, so the columns keep their height.
 */
const LSTMVIS_ROW_CSS = `
.lstmvis-row { grid-column: 1 / -1; display: flex; flex-direction: column; gap: 6px; min-height: 0; }
.lstmvis-panels { display: grid; grid-template-columns: minmax(0, 5fr) minmax(0, 3fr) minmax(0, 3fr); gap: 10px; min-height: 0; flex: 1 1 auto; }
.lstmvis-panels > .panel { overflow: auto; scrollbar-width: thin; }
.lstmvis-find > .panel { flex: 0 0 auto; }
.lstmvis-find { display: flex; flex-direction: column; gap: 10px; min-height: 0; overflow: auto; scrollbar-width: thin; }
#lstmvis-toggle { align-self: flex-start; }
@media (min-width: 1101px) and (min-height: 561px) {
  #rnn-hidden-app > #views { grid-template-rows: minmax(0, 1fr) auto; }
  .lstmvis-row { max-height: 42vh; }
}
@media (max-width: 1100px) { .lstmvis-panels { grid-template-columns: 1fr; } .lstmvis-find { overflow: visible; } }
`;

/**
 * Compare mode: the centre takes the room of two projections, the right
 * column narrows, and the change table takes the sequence table's place
 * (the column's one scroll area).
 */
const COMPARE_CSS = `
#rnn-hidden-app > #views.comparing { grid-template-columns: minmax(340px, 33%) minmax(480px, 1fr) minmax(230px, 19%); }
#views.comparing #table-panel { display: none; }
/* A's class bars and confusion matrix give way to A → B's transitions (the overview's facts stay). */
#views.comparing #class-bars, #views.comparing #confusion-matrix, #views.comparing #overview-note { display: none; }
/* B's plot is drawn with A's colours, labels and settings: only its own zoom and drag tool are B's. */
#projection-panel-b label:has(> #projection-color-by-b), #projection-panel-b #projection-settings-b,
#projection-panel-b #projection-clear-brush-b { display: none; }
#views.comparing .projection-layout { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; min-height: 16px; }
/* The step distances give way to the comparison (A's input and predictions stay): the right column fits. */
#views.comparing #distance-panel { display: none; }
#views.comparing .scale-ramp-box { width: 64px; margin: 0 4px; }
#views.comparing .scale-legend .scale-end { max-width: 4em; }
#views.comparing .scale-ramp-box .tick:nth-child(even of .tick) { visibility: hidden; }
/* Two plots share the centre's height with the strip under them: each may shrink further than alone. */
#views.comparing .projection-view .projection-area { min-height: 80px; }
#views.comparing .projection-pair > .panel { overflow: hidden; }
#views.comparing .projection-pair .projection-legend { min-height: 0; }
/* Under the projection(s): the chart over training and, comparing, the drift per unit beside it (its own
   scroll). LSTMVis' row, open, takes their height: the plot keeps its own. */
.centre-strip { display: flex; gap: 10px; min-height: 0; }
.centre-strip > #training-panel { flex: 3 1 0; min-width: 0; }
.centre-strip > #unit-drift-panel { flex: 2 1 0; min-width: 0; max-height: 170px; overflow: auto; scrollbar-width: thin; }
.centre-strip > #unit-drift-panel[hidden] { display: none; }
/* Without units to list (B of another run or layer), only the reason: the chart takes the room. */
.centre-strip > #unit-drift-panel:not(:has(#unit-drift button)) { flex: 0 1 190px; }
#views:has(#lstmvis-panels:not([hidden])) .centre-strip { display: none; }
.side-title { font-size: 13px; margin: 0 0 4px; font-weight: 500; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.side-title .side-letter { display: inline-block; min-width: 1.4em; text-align: center; border-radius: 3px; margin-right: 6px; background: var(--rh-accent); color: var(--rh-bg); font-weight: 600; }
@media (min-width: 1101px) and (min-height: 561px) {
  .column-left > #change-panel { flex: 1 1 0; min-height: 190px; display: flex; flex-direction: column; }
  .column-left > #change-panel > * { flex: 0 0 auto; }
  .column-left #change-scroll { flex: 1 1 0; min-height: 0; max-height: none; }
  .column-centre > .projection-pair { flex: 1 1 auto; min-height: 0; }
}
@media (max-width: 1100px) { #rnn-hidden-app > #views.comparing { grid-template-columns: 1fr 1fr; } }
`;

const CSS = `${COMPARE_CSS}
#checkpoint-error { padding: 12px; background: var(--rh-error-bg); color: var(--rh-error-fg); overflow-wrap: anywhere; }
${LSTMVIS_ROW_CSS}`;

export const EMPTY_MESSAGE =
  "No hidden-state data was found. Log some with tb_rnn_hidden.summary.hidden_states(...)";

/** The page's panels, each for one view to mount into. */
export interface PageLayout {
  message: HTMLElement;
  controls: HTMLElement;
  checkpointError: HTMLElement;
  overview: HTMLElement;
  table: HTMLElement;
  projection: HTMLElement;
  input: HTMLElement;
  heatmap: HTMLElement;
  distances: HTMLElement;
  /** LSTMVis' select view and match view, in a row under the columns. */
  units: HTMLElement;
  matches: HTMLElement;
  /** Token search, nearest neighbours, the annotation filter (views/search.ts, neighbors.ts, annotation_filter.ts): the row's third column. */
  search: HTMLElement;
  neighbors: HTMLElement;
  annotationFilter: HTMLElement;
  /** Compare mode (views/compare_bar.ts, change_table.ts, unit_drift.ts): B's projection beside A's, the change table in the sequence table's place, the units that drifted. */
  projectionB: HTMLElement;
  changes: HTMLElement;
  unitDrift: HTMLElement;
  /** The chart over training (views/training_chart.ts), under the projection(s). */
  training: HTMLElement;
  /** Each side's title above its projection in compare mode. */
  sideTitles: readonly [HTMLElement, HTMLElement];
  checkpoint: HTMLElement;
}

export function createLayout(): PageLayout {
  const panel = (id: string, label: string) =>
    h("section", { id, class: "card panel", "aria-label": label, "data-testid": id });
  const panels = {
    message: h("div", { id: "message", "data-testid": "message", role: "status", hidden: true }),
    controls: h("section", { class: "card controls", "aria-label": "Selection", hidden: true }),
    checkpointError: h("div", {
      id: "checkpoint-error", class: "card", "data-testid": "checkpoint-error", "data-kind": "error", role: "alert", hidden: true,
    }),
    overview: panel("overview-panel", "Overview"),
    table: panel("table-panel", "Sequences"),
    projection: panel("projection-panel", "Projection"),
    input: panel("input-panel", "Input"),
    heatmap: panel("heatmap-panel", "Prediction over time"),
    distances: panel("distance-panel", "Step distances"),
    units: panel("units-panel", "Hidden units over time"),
    matches: panel("matches-panel", "Matches"),
    search: panel("search-panel", "Token search"),
    neighbors: panel("neighbors-panel", "Nearest neighbours"),
    annotationFilter: panel("annotation-filter-panel", "Annotation filter"),
    projectionB: panel("projection-panel-b", "Projection of B"),
    changes: panel("change-panel", "Changes from A to B"),
    unitDrift: panel("unit-drift-panel", "Units that drifted from A to B"),
    training: panel("training-panel", "Over training"),
  };
  const sideTitles = [
    h("h2", { class: "side-title", id: "side-title-a", hidden: true }),
    h("h2", { class: "side-title", id: "side-title-b" }),
  ] as const;
  panels.projection.append(sideTitles[0]);
  panels.projectionB.append(sideTitles[1]);
  panels.projectionB.hidden = true;
  panels.unitDrift.hidden = true;
  const checkpoint = h(
    "div",
    { id: "views", class: "checkpoint", hidden: true },
    h("div", { class: "column column-left" }, panels.overview, panels.table, panels.changes),
    h(
      "div", { class: "column column-centre" },
      h("div", { class: "projection-pair" }, panels.projection, panels.projectionB),
      h("div", { class: "centre-strip" }, panels.training, panels.unitDrift),
    ),
    h("div", { class: "column column-right" }, panels.input, panels.heatmap, panels.distances),
    lstmvisRow(panels.units, panels.matches, [panels.search, panels.neighbors, panels.annotationFilter]),
  );
  const app = h("main", { id: "rnn-hidden-app" }, panels.message, panels.controls, panels.checkpointError, checkpoint);
  document.body.appendChild(app);
  return { ...panels, sideTitles, checkpoint };
}

/** The row of LSTMVis' panels behind a bar that opens and closes it (`lstmvis.open`: closed at first). */
function lstmvisRow(units: HTMLElement, matches: HTMLElement, find: readonly HTMLElement[]): HTMLElement {
  const toggle = h("button", { id: "lstmvis-toggle", type: "button", "aria-expanded": "false", "aria-controls": "lstmvis-panels" });
  const panels = h(
    "div", { id: "lstmvis-panels", class: "lstmvis-panels", hidden: true },
    units, matches, h("div", { class: "lstmvis-find" }, ...find),
  );
  return h("div", { class: "lstmvis-row", id: "lstmvis-row" }, toggle, panels);
}

/** The bar writes `lstmvis.open`; the row shows as the store says. */
function bindLstmvisRow(store: Store<AppState>): void {
  const toggle = document.getElementById("lstmvis-toggle");
  const panels = document.getElementById("lstmvis-panels");
  if (!toggle || !panels) return;
  toggle.addEventListener("click", () => {
    const s = store.get().lstmvis;
    store.set({ lstmvis: { ...s, open: !s.open } });
  });
  const update = (open: boolean) => {
    panels.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    toggle.textContent = `${open ? "▾" : "▸"} Hidden units, matches, search and neighbours (LSTMVis)`;
  };
  store.subscribe((state, previous) => {
    if (state.lstmvis.open !== previous.lstmvis.open) update(state.lstmvis.open);
  });
  update(store.get().lstmvis.open);
}

/** What `#message` says: the first that applies of the listing's error, loading, and nothing logged. */
export function messageOf(state: Readonly<AppState>): { text: string | null; kind: "info" | "error" } {
  const { tagsError, tagsLoaded } = state.requests;
  if (tagsError !== null) return { text: tagsError, kind: "error" };
  if (!tagsLoaded) return { text: "Loading…", kind: "info" };
  if (Object.keys(state.tags).length === 0) return { text: EMPTY_MESSAGE, kind: "info" };
  return { text: null, kind: "info" };
}

/** Keeps `#message` and `#views` as the store says. */
export function mountShell(layout: PageLayout, store: Store<AppState>): void {
  addStyles("shell", CSS);
  const { message, checkpoint, checkpointError } = layout;
  const update = (state: Readonly<AppState>) => {
    checkpoint.hidden = state.data === null;
    const reason = state.requests.checkpointError;
    if (checkpointError.textContent !== (reason ?? "")) checkpointError.textContent = reason ?? "";
    checkpointError.hidden = reason === null;
    if (state.requests.checkpointBusy) checkpoint.setAttribute("aria-busy", "true");
    else checkpoint.removeAttribute("aria-busy");
    const { text, kind } = messageOf(state);
    // Unchanged text is not rewritten: a live region would announce it again.
    if (text === (message.hidden ? null : message.textContent) && message.dataset["kind"] === kind) return;
    message.textContent = text ?? "";
    message.dataset["kind"] = kind;
    message.setAttribute("role", kind === "error" ? "alert" : "status");
    message.hidden = text === null;
  };
  store.subscribe((state) => update(state));
  update(store.get());
  bindLstmvisRow(store);
  showCompareMode(layout, store);
}

/** "A · run / tag · step s", for a side's title. */
function sideTitle(title: HTMLElement, letter: string, run: string | null, tag: string | null, step: number | null): void {
  const text = run === null ? "" : `${run} / ${tag ?? "?"} · step ${step ?? "?"}`;
  if (title.dataset["text"] === letter + text) return;
  title.dataset["text"] = letter + text;
  title.replaceChildren(h("span", { class: "side-letter" }, letter), text);
  title.title = `${letter}: run ${run ?? "?"}, layer ${tag ?? "?"}, checkpoint ${step ?? "?"}`;
}

/** The panels of compare mode shown while it is on, with each side's title. */
function showCompareMode(layout: PageLayout, store: Store<AppState>): void {
  const update = (state: Readonly<AppState>) => {
    const on = state.compare.on;
    layout.checkpoint.classList.toggle("comparing", on);
    layout.projectionB.hidden = !on;
    layout.unitDrift.hidden = !on;
    layout.sideTitles[0].hidden = !on;
    const b = state.compare.b;
    sideTitle(layout.sideTitles[0], "A", state.run, state.tag, state.step);
    sideTitle(layout.sideTitles[1], "B", b.run, b.tag, b.step);
  };
  store.subscribe((state, previous) => {
    if (state.compare !== previous.compare || state.step !== previous.step || state.run !== previous.run || state.tag !== previous.tag) update(state);
  });
  update(store.get());
}
