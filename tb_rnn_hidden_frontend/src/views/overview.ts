/** Overview of the checkpoint: accuracy, per-class bars, confusion matrix (click a cell to select). */
import { classColor, CORRECT_COLOR } from "../ui/colors";
import { h, setChildren } from "../ui/dom";
import { formatPercent } from "../domain/format";
import type { CheckpointData } from "../domain/model";
import { classCounts, type ClassCounts } from "../domain/panel_model";
import { selectSequences } from "../state/selection";
import type { AppState } from "../state/app_state";
import type { Store } from "../state/store";
import { addStyles } from "../ui/styles";

const CSS = `
#overview-facts { display: flex; flex-wrap: wrap; gap: 2px 16px; margin-bottom: 8px; }
#overview-facts .fact strong { font-size: 15px; font-weight: 500; }
.class-bars { display: grid; grid-template-columns: minmax(50px, max-content) 1fr max-content; gap: 3px 8px; align-items: center; margin-bottom: 10px; }
.class-bars .name, #confusion-matrix th { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; max-width: 9em; }
.bar-track { position: relative; height: 12px; background: var(--rh-row-hover); border-radius: 2px; }
.bar-total, .bar-correct { position: absolute; left: 0; top: 0; bottom: 0; border-radius: 2px; }
.bar-total { opacity: 0.35; }
.bar-correct { background: ${CORRECT_COLOR}; }
#confusion-matrix { border-collapse: collapse; font-variant-numeric: tabular-nums; }
#confusion-matrix th { font-weight: 500; color: var(--rh-muted); padding: 2px 6px; text-align: left; }
#confusion-matrix td { padding: 0; }
#confusion-matrix button { width: 100%; min-width: 38px; border: 1px solid var(--rh-border); border-radius: 0; padding: 4px 6px; text-align: right; }
#confusion-matrix button[aria-pressed="true"] { outline: 2px solid var(--rh-highlight); outline-offset: -2px; background: inherit; color: inherit; }
.overview-caption { color: var(--rh-muted); margin: 4px 0; }
`;

function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

interface OverviewView {
  readonly store: Store<AppState>;
  readonly facts: HTMLDivElement;
  readonly bars: HTMLDivElement;
  readonly matrix: HTMLTableElement;
  readonly note: HTMLParagraphElement;
  /** The confusion cell whose sequences are selected (pressed), as [true, predicted]. */
  cell: [number, number] | null;
}

/** The checkpoint's facts: accuracy, sequences, correct, steps, units. */
function renderFacts(view: OverviewView, data: CheckpointData, counts: ClassCounts | null): void {
  const meta = data.meta;
  const correct = counts ? counts.correct.reduce((a, b) => a + b, 0) : null;
  setChildren(
    view.facts,
    meta.accuracy !== null && h("span", { class: "fact", id: "overview-accuracy" }, "accuracy ", h("strong", {}, formatPercent(meta.accuracy))),
    h("span", { class: "fact", id: "overview-sequences" }, plural(meta.num_sequences, "sequence")),
    correct !== null && h("span", { class: "fact", id: "overview-correct" }, `${correct} correct`),
    h("span", { class: "fact" }, `${meta.num_steps ?? data.pointSequence.length} steps`),
    h("span", { class: "fact" }, plural(meta.state_size, "unit")),
  );
}

/** Per class: its sequences and how many of them are correct. */
function renderBars(view: OverviewView, data: CheckpointData, counts: ClassCounts): void {
  const most = Math.max(1, ...counts.total);
  setChildren(
    view.bars,
    ...data.classNames.flatMap((name, k) => [
      h("span", { class: "name", title: name }, name),
      h(
        "div",
        { class: "bar-track", "data-class": k },
        h("div", { class: "bar-total", style: `width:${(100 * (counts.total[k] ?? 0)) / most}%;background:${classColor(k)}` }),
        h("div", { class: "bar-correct", style: `width:${(100 * (counts.correct[k] ?? 0)) / most}%` }),
      ),
      h("span", { class: "muted bar-count", "data-class": k }, `${counts.correct[k]}/${counts.total[k]}`),
    ]),
  );
}

/** The button of confusion cell (t, p): a click selects its sequences and filters the table to class t. */
function cellButton(view: OverviewView, data: CheckpointData, counts: ClassCounts, t: number, p: number, largest: number): HTMLButtonElement {
  const count = counts.confusion[t]?.[p] ?? 0;
  const strength = count / largest;
  const colour = t === p ? "0, 158, 115" : "213, 94, 0";
  const cell = view.cell;
  const button = h(
    "button",
    {
      type: "button",
      "data-true": t,
      "data-predicted": p,
      "aria-pressed": cell !== null && cell[0] === t && cell[1] === p ? "true" : "false",
      "aria-label": `${count} sequences of class ${data.classNames[t]} predicted as ${data.classNames[p]}`,
      style: `background: rgba(${colour}, ${(0.08 + 0.6 * strength).toFixed(3)})`,
    },
    String(count),
  );
  button.addEventListener("click", () => {
    const members = counts.members[t]?.[p] ?? [];
    view.cell = [t, p];
    const current = view.store.get();
    view.store.set({
      ...selectSequences(current, members, members[0] ?? null),
      table: { ...current.table, labelFilter: t, wrongOnly: t !== p ? current.table.wrongOnly : false },
    });
  });
  return button;
}

function renderMatrix(view: OverviewView, data: CheckpointData, counts: ClassCounts): void {
  const largest = Math.max(1, ...counts.confusion.flat());
  const header = h("tr", {}, h("th", {}, ""), ...data.classNames.map((name) => h("th", { scope: "col", title: name }, name)));
  const rows = counts.confusion.map((row, t) =>
    h(
      "tr",
      {},
      h("th", { scope: "row", title: data.classNames[t] }, data.classNames[t]),
      ...row.map((_, p) => h("td", {}, cellButton(view, data, counts, t, p, largest))),
    ),
  );
  setChildren(view.matrix, h("thead", {}, header), h("tbody", {}, ...rows));
}

function render(view: OverviewView, state: Readonly<AppState>): void {
  const data = state.data;
  if (data === null) {
    setChildren(view.facts);
    setChildren(view.bars);
    setChildren(view.matrix);
    return;
  }
  const counts = classCounts(data);
  renderFacts(view, data, counts);
  if (counts === null) {
    setChildren(view.bars);
    setChildren(view.matrix);
    view.note.textContent =
      data.classNames.length === 0
        ? "Logged without class probabilities: no predictions to summarise."
        : "Logged without true labels: accuracy and confusion need them.";
    return;
  }
  view.note.textContent = "Confusion (rows: true class, columns: predicted). Click a cell to select its sequences.";
  renderBars(view, data, counts);
  renderMatrix(view, data, counts);
}

export function mountOverview(parent: HTMLElement, store: Store<AppState>): void {
  addStyles("overview", CSS);
  const facts = h("div", { id: "overview-facts", "data-testid": "overview-facts" });
  const bars = h("div", { class: "class-bars", id: "class-bars" });
  const matrix = h("table", { id: "confusion-matrix", "data-testid": "confusion-matrix" });
  const note = h("p", { class: "overview-caption", id: "overview-note" });
  parent.append(h("h2", {}, "Overview"), facts, bars, note, matrix);
  const view: OverviewView = { store, facts, bars, matrix, note, cell: null };
  store.subscribe((state, previous) => {
    if (state.data !== previous.data) {
      view.cell = null;
      render(view, state);
    } else if (state.selected !== previous.selected && view.cell !== null) {
      // A selection made elsewhere releases the pressed cell.
      const counts = state.data ? classCounts(state.data) : null;
      const members = counts ? (counts.members[view.cell[0]]?.[view.cell[1]] ?? []) : [];
      if (members.length !== state.selected.length || members.some((m, i) => state.selected[i] !== m)) {
        view.cell = null;
        render(view, state);
      }
    }
  });
  render(view, store.get());
}
