/**
 * The sequence table: sortable, filterable, click (ctrl/shift to add) to
 * select, up/down keys to step the focus. Only the visible rows are in the
 * DOM (virtual scrolling), so thousands of sequences stay fast.
 *
 * The class columns are as wide as the longest class name (up to a cap; a
 * longer name has a tooltip). The flip column counts a flip only where the
 * predicted class changes with a confidence change of at least the
 * threshold set above the table (`domain/flips.ts`). A column's first click
 * sorts the way triage wants first (`firstDescending`).
 */
import { h, options, setChildren } from "../ui/dom";
import { formatFixed } from "../domain/format";
import { flipCount, flipSteps, parseFlipThreshold } from "../domain/flips";
import type { CheckpointData, SortKey } from "../domain/model";
import { firstDescending, isCorrect, sequenceText, tableRows } from "../domain/panel_model";
import { bindRowSelection, renderRowWindow, revealSequence } from "./row_selection";
import type { AppState } from "../state/app_state";
import type { Store } from "../state/store";
import { addStyles } from "../ui/styles";
import { classColumnWidth } from "../ui/class_width";

const ROW_HEIGHT = 24;
const VIEW_ROWS = 14;
const OVERSCAN = 6;
const SIZES = { rowHeight: ROW_HEIGHT, overscan: OVERSCAN, minRows: VIEW_ROWS };

const CSS = `
.table-filters { display: flex; flex-wrap: wrap; gap: 4px 12px; align-items: center; margin-bottom: 6px; }
#sequence-scroll { max-height: ${ROW_HEIGHT * VIEW_ROWS + 28}px; overflow: auto; border: 1px solid var(--rh-border); border-radius: 3px; outline: none; }
#sequence-scroll:focus-visible { outline: 2px solid var(--rh-highlight); }
#sequence-table { border-collapse: collapse; width: 100%; table-layout: fixed; font-variant-numeric: tabular-nums; }
#sequence-table th { position: sticky; top: 0; background: var(--rh-card); font-weight: 500; color: var(--rh-muted); text-align: left; padding: 0; border-bottom: 1px solid var(--rh-border); z-index: 1; }
#sequence-table th button { border: none; background: none; padding: 4px 3px; width: 100%; text-align: left; font-weight: 500; color: inherit; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
#sequence-table td { height: ${ROW_HEIGHT - 1}px; padding: 0 4px; border-bottom: 1px solid var(--rh-border); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
#sequence-table td.num { text-align: right; }
#sequence-table tbody tr[data-index] { cursor: pointer; }
#sequence-table tbody tr[data-index]:hover { background: var(--rh-row-hover); }
#sequence-table tr[aria-selected="true"] { background: var(--rh-selected); }
#sequence-table tr.focus td:first-child { box-shadow: inset 3px 0 var(--rh-accent); }
#sequence-table tr.wrong td.verdict { color: #D55E00; font-weight: 500; }
#sequence-table tr.spacer td { border: none; padding: 0; }
#table-count { color: var(--rh-muted); }
#sequence-table .sort-arrow { font-size: 9px; margin-left: 2px; }
#flip-threshold { width: 4.5em; }
#flip-threshold[aria-invalid="true"] { outline: 2px solid #D55E00; }
#flip-count { color: var(--rh-muted); }
`;

interface Column {
  key: SortKey | null;
  label: string;
  width: string;
}

const COLUMNS: Column[] = [
  { key: "index", label: "#", width: "34px" },
  { key: null, label: "sequence", width: "auto" },
  { key: "label", label: "true", width: "class" },
  { key: "prediction", label: "pred.", width: "class" },
  { key: "correct", label: "ok", width: "24px" },
  { key: "confidence", label: "conf.", width: "46px" },
  { key: "flip", label: "flip", width: "38px" },
  { key: "length", label: "len", width: "36px" },
];

interface TableElements {
  wrongOnly: HTMLInputElement;
  flipThreshold: HTMLInputElement;
  flipCount: HTMLSpanElement;
  labelFilter: HTMLSelectElement;
  count: HTMLSpanElement;
  head: HTMLTableSectionElement;
  body: HTMLTableSectionElement;
  scroll: HTMLDivElement;
}

interface TableView {
  readonly store: Store<AppState>;
  readonly el: TableElements;
  /** The sequences in table order (filtered, sorted), and the data and table options they are of. */
  rows: number[];
  rowsFor: { data: unknown; table: unknown };
}

function createElements(parent: HTMLElement): TableElements {
  addStyles("table", CSS);
  const wrongOnly = h("input", { type: "checkbox", id: "filter-wrong", "data-testid": "filter-wrong" });
  const labelFilter = h("select", { id: "filter-label", "data-testid": "filter-label" });
  const count = h("span", { id: "table-count" });
  const flipThreshold = h("input", {
    type: "number", id: "flip-threshold", "data-testid": "flip-threshold", min: 0, max: 1, step: 0.05,
    "aria-label": "Flip threshold: the confidence change a change of the predicted class needs to count as a flip",
  });
  const flipCount = h("span", { id: "flip-count", "data-testid": "flip-count" });
  const filters = h(
    "div",
    { class: "table-filters" },
    h("label", { class: "field" }, wrongOnly, "misclassified only"),
    h("label", { class: "field" }, "true class ", labelFilter),
    h("label", { class: "field", title: "A flip: the predicted class changes and some class's probability moves by at least this (Δp) at that step" }, "flip ≥ Δp ", flipThreshold),
    flipCount,
    count,
  );
  const head = h("thead");
  const body = h("tbody");
  const table = h("table", { id: "sequence-table", "data-testid": "sequence-table", "aria-multiselectable": "true" }, head, body);
  const scroll = h("div", { id: "sequence-scroll", tabindex: 0, role: "grid", "aria-label": "Sequences; up and down keys move the focus" }, table);
  parent.append(h("h2", {}, "Sequences"), filters, scroll);
  return { wrongOnly, flipThreshold, flipCount, labelFilter, count, head, body, scroll };
}

function currentRows(view: TableView, state: Readonly<AppState>): number[] {
  if (view.rowsFor.data !== state.data || view.rowsFor.table !== state.table) {
    view.rows = state.data ? tableRows(state.data, state.table) : [];
    view.rowsFor = { data: state.data, table: state.table };
  }
  return view.rows;
}

/** A column's header: its label, a sort button (sorted: its arrow) unless it does not sort. */
function headerCell(store: Store<AppState>, state: Readonly<AppState>, { key, label, width: fixed }: Column): HTMLTableCellElement {
  // The index column fits the largest index (tabular digits, ~7.5 px each at 13 px).
  const digits = String(Math.max(9, (state.data?.meta.num_sequences ?? 1) - 1)).length;
  // Without labels the true column only says "—": no room kept for names it never shows.
  const classes = key === "label" && state.data?.meta.labels === null ? [] : (state.data?.classNames ?? []);
  const width = key === "index" ? `${Math.ceil(14 + 7.5 * digits)}px` : fixed === "class" ? `${classColumnWidth([label, ...classes])}px` : fixed;
  const sorted = key !== null && state.table.sortKey === key;
  const th = h("th", {
    scope: "col",
    style: `width:${width}`,
    "aria-sort": sorted ? (state.table.descending ? "descending" : "ascending") : "none",
  });
  if (key === null) {
    th.append(h("span", { style: "padding:4px;display:block" }, label));
    return th;
  }
  const arrow = sorted ? h("span", { class: "sort-arrow", "aria-hidden": "true" }, state.table.descending ? "▼" : "▲") : null;
  const title = key === "flip" ? `the step of the last flip (Δp ≥ ${state.table.flipThreshold}); blank: none` : undefined;
  const button = h("button", { type: "button", "data-sort": key, title }, label, arrow);
  button.addEventListener("click", () => {
    const table = store.get().table;
    store.set({ table: { ...table, sortKey: key, descending: table.sortKey === key ? !table.descending : firstDescending(key) } });
  });
  th.append(button);
  return th;
}

function renderHead(view: TableView, state: Readonly<AppState>): void {
  setChildren(view.el.head, h("tr", {}, ...COLUMNS.map((column) => headerCell(view.store, state, column))));
}

/** Sequence `i`'s row. */
function sequenceRow(data: CheckpointData, i: number, state: Readonly<AppState>, selected: ReadonlySet<number>): HTMLTableRowElement {
  const name = (k: number | null | undefined) => (k === null || k === undefined ? "—" : (data.classNames[k] ?? String(k)));
  const correct = isCorrect(data, i);
  const confidence = data.meta.confidences?.[i];
  const classes = [correct === false ? "wrong" : "", state.focus === i ? "focus" : ""].filter(Boolean).join(" ");
  const text = sequenceText(data, i);
  const flip = data.classNames.length > 0 ? (flipSteps(data, state.table.flipThreshold)[i] ?? 0) : null;
  const label = name(data.meta.labels?.[i]);
  const prediction = name(data.meta.predictions?.[i]);
  return h(
    "tr",
    { "data-index": i, "aria-selected": selected.has(i) ? "true" : "false", class: classes || undefined },
    h("td", { class: "num" }, i),
    h("td", { title: text }, text),
    h("td", { title: label }, label),
    h("td", { title: prediction }, prediction),
    h("td", { class: "verdict" }, correct === null ? "—" : correct ? "✓" : "✗"),
    h("td", { class: "num" }, formatFixed(confidence, 2)),
    h("td", { class: "num", "data-flip": flip ?? "" }, flip === null ? "—" : flip > 0 ? flip : ""),
    h("td", { class: "num" }, data.meta.lengths[i] ?? 0),
  );
}

/** A row standing for `rows` rows not in the DOM. */
function spacer(rows: number): HTMLTableRowElement {
  return h("tr", { class: "spacer", style: `height:${rows * ROW_HEIGHT}px` }, h("td", { colspan: COLUMNS.length }));
}

/** The rows in (and near) the scrolled window, spacers for the others. */
function renderBody(view: TableView): void {
  const { count, body } = view.el;
  const state = view.store.get();
  const data = state.data;
  const all = currentRows(view, state);
  count.textContent = data ? `${all.length} of ${data.meta.num_sequences}` : "";
  if (data === null) {
    setChildren(body);
    return;
  }
  const selected = new Set(state.selected);
  renderRowWindow(view.el, all, SIZES, (i) => sequenceRow(data, i, state, selected), spacer);
}

function renderFilters(view: TableView, state: Readonly<AppState>): void {
  const { wrongOnly, labelFilter, flipThreshold, flipCount: flips } = view.el;
  // Left alone while typed in: "0." would become "0".
  if (document.activeElement !== flipThreshold || parseFlipThreshold(flipThreshold.value) !== state.table.flipThreshold) {
    flipThreshold.value = String(state.table.flipThreshold);
  }
  const probabilities = state.data !== null && state.data.classNames.length > 0;
  flipThreshold.disabled = !probabilities;
  flips.textContent = probabilities && state.data !== null ? `${flipCount(state.data, state.table.flipThreshold)} with a flip` : "";
  wrongOnly.checked = state.table.wrongOnly;
  const names = state.data?.classNames ?? [];
  const choices = options([["", "all"], ...names.map((n, k): [number, string] => [k, n])]);
  if (labelFilter.options.length !== choices.length || [...labelFilter.options].some((o, k) => o.text !== choices[k]?.textContent)) {
    setChildren(labelFilter, ...choices);
  }
  labelFilter.value = state.table.labelFilter === null ? "" : String(state.table.labelFilter);
  labelFilter.disabled = names.length === 0 || state.data?.meta.labels === null;
  wrongOnly.disabled = state.data?.meta.labels === null || names.length === 0;
}

/** Sequence `i`'s row scrolled into sight (if it is a row). */
function reveal(view: TableView, i: number): void {
  revealSequence(view.el, currentRows(view, view.store.get()), i, ROW_HEIGHT);
}

function bindInput(view: TableView): void {
  const { store } = view;
  const { scroll, wrongOnly, labelFilter } = view.el;
  bindRowSelection(store, view.el, "data-index", () => currentRows(view, store.get()));
  scroll.addEventListener("scroll", () => renderBody(view), { passive: true });
  new ResizeObserver(() => renderBody(view)).observe(scroll);
  wrongOnly.addEventListener("change", () => store.set({ table: { ...store.get().table, wrongOnly: wrongOnly.checked } }));
  const threshold = view.el.flipThreshold;
  threshold.addEventListener("input", () => {
    const value = parseFlipThreshold(threshold.value);
    threshold.setAttribute("aria-invalid", value === null ? "true" : "false");
    const table = store.get().table;
    if (value !== null && value !== table.flipThreshold) store.set({ table: { ...table, flipThreshold: value } });
  });
  // Left with a value that is not a threshold: back to the one in use.
  threshold.addEventListener("change", () => {
    if (parseFlipThreshold(threshold.value) !== null) return;
    threshold.value = String(store.get().table.flipThreshold);
    threshold.setAttribute("aria-invalid", "false");
  });
  labelFilter.addEventListener("change", () =>
    store.set({ table: { ...store.get().table, labelFilter: labelFilter.value === "" ? null : Number(labelFilter.value) } }),
  );
}

function update(view: TableView, state: Readonly<AppState>, previous: Readonly<AppState>): void {
  if (state.table !== previous.table || state.data !== previous.data) {
    renderHead(view, state);
    renderFilters(view, state);
  }
  if (state.table !== previous.table || state.data !== previous.data || state.selected !== previous.selected || state.focus !== previous.focus) {
    renderBody(view);
    if (state.focus !== null && state.focus !== previous.focus) {
      reveal(view, state.focus);
      renderBody(view);
    }
  }
}

export function mountSequenceTable(parent: HTMLElement, store: Store<AppState>): void {
  const view: TableView = { store, el: createElements(parent), rows: [], rowsFor: { data: null, table: null } };
  bindInput(view);
  store.subscribe((state, previous) => update(view, state, previous));
  renderHead(view, store.get());
  renderFilters(view, store.get());
  renderBody(view);
}
