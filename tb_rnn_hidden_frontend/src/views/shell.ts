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

const CSS = `#checkpoint-error { padding: 12px; background: var(--rh-error-bg); color: var(--rh-error-fg); overflow-wrap: anywhere; }
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
  };
  const checkpoint = h(
    "div",
    { id: "views", class: "checkpoint", hidden: true },
    h("div", { class: "column column-left" }, panels.overview, panels.table),
    h("div", { class: "column column-centre" }, panels.projection),
    h("div", { class: "column column-right" }, panels.input, panels.heatmap, panels.distances),
    lstmvisRow(panels.units, panels.matches, [panels.search, panels.neighbors, panels.annotationFilter]),
  );
  const app = h("main", { id: "rnn-hidden-app" }, panels.message, panels.controls, panels.checkpointError, checkpoint);
  document.body.appendChild(app);
  return { ...panels, checkpoint };
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
}
