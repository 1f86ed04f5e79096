/**
 * The change table of compare mode ("Changes A → B"): per sequence its text,
 * true class, prediction and confidence in A and in B, B's confidence minus
 * A's (`domain/change_table.ts` says why of each side's own prediction), what
 * changed, the step of the last flip in A and in B, and how far its final
 * hidden state moved (normalised). Sortable by its headers, filtered by kind
 * (`#change-filter`) and, while a transition-matrix cell is pressed
 * (`compare.changes.cell`), to that cell. Click (ctrl/shift to add) selects,
 * up/down keys step the focus, as in the sequence table; only the visible
 * rows are in the DOM (virtual scrolling), so 100k sequences stay fast.
 *
 * Mounted into the change panel, which it hides while compare mode is off.
 */
import type { CompareResponse } from "../api/types";
import { CHANGE_WORDS, changeRows, deltaConfidence, filterChoices, firstDescendingChange } from "../domain/change_table";
import { formatFixed } from "../domain/format";
import { sequenceText } from "../domain/panel_model";
import type { AppState } from "../state/app_state";
import type { ChangeFilter, ChangeSortKey, CompareState } from "../state/compare";
import { bindRowSelection, renderRowWindow, revealSequence } from "./row_selection";
import type { Store } from "../state/store";
import { h, replaceOptions, setChildren } from "../ui/dom";
import { classColumnWidth } from "../ui/class_width";
import { addStyles } from "../ui/styles";

const ROW_HEIGHT = 24;
const VIEW_ROWS = 12;
const OVERSCAN = 6;
const SIZES = { rowHeight: ROW_HEIGHT, overscan: OVERSCAN, minRows: VIEW_ROWS };

const CSS = `
#change-panel .change-filters { display: flex; flex-wrap: wrap; gap: 4px 12px; align-items: center; margin-bottom: 6px; }
#change-status { color: var(--rh-muted); margin: 0 0 4px; }
#change-status[data-kind="error"] { color: var(--rh-error-fg); background: var(--rh-error-bg); border-radius: 3px; padding: 2px 6px; }
#change-count { color: var(--rh-muted); }
#change-scroll { max-height: ${ROW_HEIGHT * VIEW_ROWS + 28}px; overflow: auto; border: 1px solid var(--rh-border); border-radius: 3px; outline: none; }
#change-scroll:focus-visible { outline: 2px solid var(--rh-highlight); }
#change-table { border-collapse: collapse; width: 100%; table-layout: fixed; font-variant-numeric: tabular-nums; }
#change-table th { position: sticky; top: 0; background: var(--rh-card); font-weight: 500; color: var(--rh-muted); text-align: left; padding: 0; border-bottom: 1px solid var(--rh-border); z-index: 1; }
#change-table th button, #change-table th span { border: none; background: none; padding: 4px 3px; width: 100%; display: block; text-align: left; font-weight: 500; color: inherit; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
#change-table td { height: ${ROW_HEIGHT - 1}px; padding: 0 4px; border-bottom: 1px solid var(--rh-border); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
#change-table td.num { text-align: right; }
#change-table tbody tr[data-sequence] { cursor: pointer; }
#change-table tbody tr[data-sequence]:hover { background: var(--rh-row-hover); }
#change-table tr[aria-selected="true"] { background: var(--rh-selected); }
#change-table tr.focus td:first-child { box-shadow: inset 3px 0 var(--rh-accent); }
#change-table tr.spacer td { border: none; padding: 0; }
#change-table .sort-arrow { font-size: 9px; margin-left: 2px; }
#change-table td.kind { font-weight: 500; }
#change-table td.kind[data-kind="became_correct"] { color: #009E73; }
#change-table td.kind[data-kind="became_wrong"] { color: #D55E00; }
#change-table td.kind[data-kind="still_wrong"], #change-table td.kind[data-kind="prediction_changed"] { color: #E69F00; }
#change-table td.kind[data-kind="still_correct"], #change-table td.kind[data-kind="prediction_kept"] { color: var(--rh-muted); font-weight: 400; }
#change-table td.delta.up { color: #009E73; }
#change-table td.delta.down { color: #D55E00; }
#change-table .moved { display: flex; align-items: center; gap: 4px; }
#change-table .moved-bar { flex: 1 1 auto; height: 8px; background: var(--rh-row-hover); border-radius: 2px; overflow: hidden; }
#change-table .moved-bar > span { display: block; height: 100%; background: var(--rh-highlight); }
#change-table .moved-value { flex: none; width: 2.6em; text-align: right; }
#change-cell { display: inline-flex; align-items: center; gap: 6px; padding: 1px 6px; border-radius: 3px; background: var(--rh-info-bg); }
#change-cell button { padding: 0 6px; }
`;

interface Column {
  key: ChangeSortKey | null;
  label: string;
  width: string;
  title: string;
}

const COLUMNS: Column[] = [
  { key: "index", label: "#", width: "44px", title: "sequence index" },
  { key: "change", label: "change", width: "118px", title: "what changed from A to B" },
  { key: null, label: "sequence", width: "auto", title: "the sequence's first tokens" },
  { key: null, label: "true", width: "class", title: "true class" },
  { key: null, label: "pred. A", width: "class", title: "A's final prediction" },
  { key: null, label: "pred. B", width: "class", title: "B's final prediction" },
  { key: "confidence_a", label: "conf. A", width: "50px", title: "A's confidence in its prediction" },
  { key: "confidence_b", label: "conf. B", width: "50px", title: "B's confidence in its prediction" },
  { key: "delta", label: "Δconf.", width: "54px", title: "B's confidence in its prediction minus A's in its own" },
  { key: "moved", label: "moved", width: "96px", title: "how far the final hidden state moved from A to B, over the largest such move" },
  { key: "flip_a", label: "flip A", width: "46px", title: "the step of the last flip in A; blank: none" },
  { key: "flip_b", label: "flip B", width: "46px", title: "the step of the last flip in B; blank: none" },
];

interface ChangeElements {
  status: HTMLParagraphElement;
  filter: HTMLSelectElement;
  cell: HTMLSpanElement;
  count: HTMLSpanElement;
  table: HTMLTableElement;
  head: HTMLTableSectionElement;
  body: HTMLTableSectionElement;
  scroll: HTMLDivElement;
}

interface ChangeView {
  readonly parent: HTMLElement;
  readonly store: Store<AppState>;
  readonly el: ChangeElements;
  /** The sequences in table order, and the answer and table options they are of. */
  rows: number[];
  rowsFor: { answer: unknown; changes: unknown };
  /** Δconfidence of the answer `deltaFor`. */
  delta: Float64Array | null;
  deltaFor: unknown;
}

function createElements(parent: HTMLElement): ChangeElements {
  addStyles("change-table", CSS);
  const status = h("p", { id: "change-status", role: "status" });
  const filter = h("select", { id: "change-filter", "data-testid": "change-filter", "aria-label": "Show the sequences of this change" });
  const cell = h("span", { id: "change-cell", hidden: true });
  const count = h("span", { id: "change-count" });
  const head = h("thead");
  const body = h("tbody");
  const table = h("table", { id: "change-table", "data-testid": "change-table", "aria-multiselectable": "true" }, head, body);
  const scroll = h("div", { id: "change-scroll", tabindex: 0, role: "grid", "aria-label": "Changes from A to B; up and down keys move the focus" }, table);
  const filters = h("div", { class: "change-filters" }, h("label", { class: "field" }, "show ", filter), cell, count);
  parent.append(h("h2", {}, "Changes A → B"), status, filters, scroll);
  return { status, filter, cell, count, table, head, body, scroll };
}

function currentRows(view: ChangeView, compare: CompareState): number[] {
  if (view.rowsFor.answer !== compare.answer || view.rowsFor.changes !== compare.changes) {
    view.rows = compare.answer ? changeRows(compare.answer, compare.changes) : [];
    view.rowsFor = { answer: compare.answer, changes: compare.changes };
  }
  return view.rows;
}

function currentDelta(view: ChangeView, answer: CompareResponse): Float64Array | null {
  if (view.deltaFor !== answer) {
    view.delta = deltaConfidence(answer);
    view.deltaFor = answer;
  }
  return view.delta;
}

/** The sequence column's least width, px: the others are fixed, so the table scrolls sideways rather than squeeze it away. */
const MIN_TEXT_WIDTH = 160;

/** A column's width in px (null: the sequence column, which takes what is left): class columns as wide as the longest class name (capped; a longer one has a tooltip), the index as its largest. */
function columnWidth({ key, label, width }: Column, answer: CompareResponse | null): number | null {
  if (width === "auto") return null;
  if (key === "index") return Math.ceil(14 + 7.5 * String(Math.max(9, (answer?.num_sequences ?? 1) - 1)).length);
  if (width !== "class") return Number.parseInt(width, 10);
  return classColumnWidth([label, ...(label === "true" && answer?.labels === null ? [] : (answer?.class_names ?? []))]);
}

function headerCell(store: Store<AppState>, compare: CompareState, column: Column): HTMLTableCellElement {
  const { key, label, title } = column;
  const changes = compare.changes;
  const px = columnWidth(column, compare.answer);
  const width = px === null ? "auto" : `${px}px`;
  const sorted = key !== null && changes.sortKey === key;
  const th = h("th", { scope: "col", style: `width:${width}`, "aria-sort": sorted ? (changes.descending ? "descending" : "ascending") : "none" });
  if (key === null) {
    th.append(h("span", { title }, label));
    return th;
  }
  const arrow = sorted ? h("span", { class: "sort-arrow", "aria-hidden": "true", style: "display:inline;padding:0" }, changes.descending ? "▼" : "▲") : null;
  const button = h("button", { type: "button", "data-sort": key, title }, label, arrow);
  button.addEventListener("click", () => {
    const c = store.get().compare;
    const descending = c.changes.sortKey === key ? !c.changes.descending : firstDescendingChange(key);
    store.set({ compare: { ...c, changes: { ...c.changes, sortKey: key, descending } } });
  });
  th.append(button);
  return th;
}

function renderHead(view: ChangeView, compare: CompareState): void {
  const fixed = COLUMNS.reduce((sum, column) => sum + (columnWidth(column, compare.answer) ?? 0), 0);
  view.el.table.style.minWidth = `${fixed + MIN_TEXT_WIDTH}px`;
  setChildren(view.el.head, h("tr", {}, ...COLUMNS.map((column) => headerCell(view.store, compare, column))));
}

/** Sequence `i`'s row. */
function changeRow(view: ChangeView, answer: CompareResponse, i: number, state: Readonly<AppState>, selected: ReadonlySet<number>): HTMLTableRowElement {
  const name = (k: number | null | undefined) => (k === null || k === undefined ? "—" : (answer.class_names[k] ?? String(k)));
  // The tokens are A's (the same probe set on both sides, checked by the server).
  const data = state.data !== null && state.data.meta.num_sequences === answer.num_sequences ? state.data : null;
  const text = data !== null ? sequenceText(data, i) : "";
  const [label, predA, predB] = [name(answer.labels?.[i]), name(answer.prediction_a?.[i]), name(answer.prediction_b?.[i])];
  const delta = currentDelta(view, answer)?.[i];
  const kind = answer.change?.[i] ?? null;
  const flip = (steps: number[] | null) => (steps === null ? "—" : (steps[i] ?? 0) > 0 ? String(steps[i]) : "");
  const moved = answer.moved[i] ?? 0;
  const deltaClass = delta === undefined || !Number.isFinite(delta) || Math.abs(delta) < 0.005 ? "num delta" : delta > 0 ? "num delta up" : "num delta down";
  return h(
    "tr",
    { "data-sequence": i, "aria-selected": selected.has(i) ? "true" : "false", class: state.focus === i ? "focus" : undefined },
    h("td", { class: "num" }, i),
    h("td", { class: "kind", "data-kind": kind ?? "" }, kind === null ? "—" : CHANGE_WORDS[kind]),
    h("td", { title: text }, text),
    h("td", { title: label }, label),
    h("td", { title: predA }, predA),
    h("td", { title: predB }, predB),
    h("td", { class: "num" }, formatFixed(answer.confidence_a?.[i], 2)),
    h("td", { class: "num" }, formatFixed(answer.confidence_b?.[i], 2)),
    h("td", { class: deltaClass }, delta !== undefined && Number.isFinite(delta) ? `${delta > 0 ? "+" : ""}${delta.toFixed(2)}` : "—"),
    h(
      "td",
      { title: `moved ${formatFixed(moved * answer.moved_max, 3)} (${formatFixed(moved, 2)} of the largest move)` },
      h("span", { class: "moved" }, h("span", { class: "moved-bar" }, h("span", { style: `width:${(100 * Math.min(1, Math.max(0, moved))).toFixed(1)}%` })), h("span", { class: "moved-value" }, formatFixed(moved, 2))),
    ),
    h("td", { class: "num" }, flip(answer.last_flip_a)),
    h("td", { class: "num" }, flip(answer.last_flip_b))
  );
}

function spacer(rows: number): HTMLTableRowElement {
  return h("tr", { class: "spacer", style: `height:${rows * ROW_HEIGHT}px` }, h("td", { colspan: COLUMNS.length }));
}

/** The rows in (and near) the scrolled window, spacers for the others. */
function renderBody(view: ChangeView): void {
  const { count, body } = view.el;
  const state = view.store.get();
  const answer = state.compare.answer;
  const all = currentRows(view, state.compare);
  count.textContent = answer ? `${all.length} of ${answer.num_sequences}` : "";
  if (answer === null || !state.compare.on) {
    setChildren(body);
    return;
  }
  const selected = new Set(state.selected);
  renderRowWindow(view.el, all, SIZES, (i) => changeRow(view, answer, i, state, selected), spacer);
}

/** The status line, the filter's choices (with counts) and the pressed transition cell. */
function renderControls(view: ChangeView, compare: CompareState): void {
  const { status, filter, cell } = view.el;
  const message = compare.answer !== null ? "" : compare.error !== null ? compare.error : compare.busy ? "Comparing…" : "Pick a checkpoint B to compare with.";
  status.textContent = message;
  status.hidden = message === "";
  status.dataset["kind"] = compare.answer === null && compare.error !== null ? "error" : "";
  const choices = filterChoices(compare.answer);
  if (!choices.some(([value]) => value === compare.changes.filter)) choices.push([compare.changes.filter, `${compare.changes.filter} (0)`]);
  replaceOptions(filter, choices);
  filter.value = compare.changes.filter;
  filter.disabled = compare.answer === null;
  const pressed = compare.changes.cell;
  cell.hidden = pressed === null;
  if (pressed !== null) {
    const word = (c: number) => (c === 1 ? "correct" : "wrong");
    const clear = h("button", { type: "button", id: "change-cell-clear", title: "Show the rows of every transition again" }, "× show all");
    clear.addEventListener("click", () => {
      const c = view.store.get().compare;
      view.store.set({ compare: { ...c, changes: { ...c.changes, cell: null } } });
    });
    setChildren(cell, `only ${word(pressed[0])} in A, ${word(pressed[1])} in B`, clear);
  }
}

/** Sequence `i`'s row scrolled into sight (if it is a row). */
function reveal(view: ChangeView, i: number): void {
  revealSequence(view.el, currentRows(view, view.store.get().compare), i, ROW_HEIGHT);
}

function bindInput(view: ChangeView): void {
  const { store } = view;
  const { scroll, filter } = view.el;
  bindRowSelection(store, view.el, "data-sequence", () => currentRows(view, store.get().compare));
  scroll.addEventListener("scroll", () => renderBody(view), { passive: true });
  new ResizeObserver(() => renderBody(view)).observe(scroll);
  filter.addEventListener("change", () => {
    const c = store.get().compare;
    store.set({ compare: { ...c, changes: { ...c.changes, filter: filter.value as ChangeFilter } } });
  });
}

function update(view: ChangeView, state: Readonly<AppState>, previous: Readonly<AppState>): void {
  const [c, p] = [state.compare, previous.compare];
  if (c.on !== p.on) view.parent.hidden = !c.on;
  if (!c.on) return;
  const compareChanged = c.on !== p.on || c.answer !== p.answer || c.changes !== p.changes || c.busy !== p.busy || c.error !== p.error;
  if (compareChanged) {
    renderHead(view, c);
    renderControls(view, c);
  }
  if (compareChanged || state.data !== previous.data || state.selected !== previous.selected || state.focus !== previous.focus) {
    if (c.answer !== p.answer || c.changes !== p.changes) view.el.scroll.scrollTop = 0;
    renderBody(view);
    if (state.focus !== null && state.focus !== previous.focus) {
      reveal(view, state.focus);
      renderBody(view);
    }
  }
}

/** Mounts the change table into `parent` (the change panel, `#change-panel`), hidden while compare mode is off. */
export function mountChangeTable(parent: HTMLElement, store: Store<AppState>): void {
  if (parent.id === "") parent.id = "change-panel";
  const view: ChangeView = { parent, store, el: createElements(parent), rows: [], rowsFor: { answer: null, changes: null }, delta: null, deltaFor: null };
  bindInput(view);
  store.subscribe((state, previous) => update(view, state, previous));
  const state = store.get();
  parent.hidden = !state.compare.on;
  renderHead(view, state.compare);
  renderControls(view, state.compare);
  renderBody(view);
}
