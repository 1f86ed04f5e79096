/**
 * Overview of the checkpoint: accuracy; per true class a bar stacked as the
 * paper's tool draws it (its correct sequences in the class's colour, then
 * the misclassified ones split by the class they were predicted as, each in
 * that class's colour, hatched); the confusion matrix. A bar segment and a
 * matrix cell are the same set of sequences: clicking either selects them.
 * Each segment carries `data-true`, `data-predicted` and `data-count`; the
 * facts carry the checkpoint shown as `data-checkpoint` (its key). In
 * compare mode, the accuracy in A and B and the transition matrix follow
 * (views/overview_transitions.ts).
 */
import { classColor, hexToRgb } from "../ui/colors";
import { h, setChildren } from "../ui/dom";
import { formatPercent } from "../domain/format";
import type { CheckpointData } from "../domain/model";
import { classCounts, type ClassCounts } from "../domain/panel_model";
import { selectSequences } from "../state/selection";
import { mountOverviewTransitions } from "./overview_transitions";
import type { AppState } from "../state/app_state";
import type { Store } from "../state/store";
import { addStyles } from "../ui/styles";

const CSS = `
#overview-facts { display: flex; flex-wrap: wrap; gap: 2px 16px; margin-bottom: 8px; }
#overview-facts .fact strong { font-size: 15px; font-weight: 500; }
.class-bars { display: grid; grid-template-columns: minmax(50px, max-content) 1fr max-content; gap: 3px 8px; align-items: center; margin-bottom: 10px; }
.class-bars .name, #confusion-matrix th { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; max-width: 9em; }
.bar-track { display: flex; height: 14px; background: var(--rh-row-hover); border-radius: 2px; overflow: hidden; }
.bar-track .segment { flex: none; height: 100%; padding: 0; border: none; border-radius: 0; min-width: 0; cursor: pointer; }
.bar-track .segment + .segment { box-shadow: inset 1px 0 var(--rh-card); }
.bar-track .segment:hover, .bar-track .segment:focus-visible { outline: 2px solid var(--rh-highlight); outline-offset: -2px; }
.bar-track .segment[aria-pressed="true"] { outline: 2px solid var(--rh-fg); outline-offset: -2px; }
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
  /** `String(cell)` as last rendered. */
  shown: string;
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

/** Selects the sequences of true class t predicted as p, and filters the table to class t. */
function selectCell(view: OverviewView, counts: ClassCounts, t: number, p: number): void {
  const members = counts.members[t]?.[p] ?? [];
  view.cell = [t, p];
  const current = view.store.get();
  view.store.set({
    ...selectSequences(current, members, members[0] ?? null),
    table: { ...current.table, labelFilter: t, wrongOnly: t !== p ? current.table.wrongOnly : false },
  });
}

/** A wrong segment's fill: the predicted class's colour, hatched with white so it never reads as correct. */
function wrongFill(p: number): string {
  const [r, g, b] = hexToRgb(classColor(p));
  return `repeating-linear-gradient(135deg, rgb(${r}, ${g}, ${b}) 0 4px, rgba(${r}, ${g}, ${b}, 0.55) 4px 6px)`;
}

/** One segment of class t's bar: its sequences predicted as p (p = t: the correct ones). */
function segment(view: OverviewView, data: CheckpointData, counts: ClassCounts, t: number, p: number, most: number): HTMLButtonElement {
  const count = counts.confusion[t]?.[p] ?? 0;
  const [truth, predicted] = [data.classNames[t], data.classNames[p]];
  const text = t === p ? `${truth}: ${count} correct` : `${truth}: ${count} predicted as ${predicted}`;
  const cell = view.cell;
  const button = h("button", {
    type: "button",
    class: t === p ? "segment correct" : "segment wrong",
    "data-true": t,
    "data-predicted": p,
    "data-count": count,
    title: `${text} (click to select)`,
    "aria-label": text,
    "aria-pressed": cell !== null && cell[0] === t && cell[1] === p ? "true" : "false",
    style: `width:${(100 * count) / most}%;background:${t === p ? classColor(t) : wrongFill(p)}`,
  });
  button.addEventListener("click", () => selectCell(view, counts, t, p));
  return button;
}

/** Per true class: its correct sequences, then the wrong ones stacked by predicted class. */
function renderBars(view: OverviewView, data: CheckpointData, counts: ClassCounts): void {
  const most = Math.max(1, ...counts.total);
  const order = (t: number) => [t, ...data.classNames.map((_, p) => p).filter((p) => p !== t)];
  setChildren(
    view.bars,
    ...data.classNames.flatMap((name, t) => [
      h("span", { class: "name", title: name }, name),
      h(
        "div",
        { class: "bar-track", "data-class": t },
        ...order(t).filter((p) => (counts.confusion[t]?.[p] ?? 0) > 0).map((p) => segment(view, data, counts, t, p, most)),
      ),
      h("span", { class: "muted bar-count", "data-class": t }, `${counts.correct[t]}/${counts.total[t]}`),
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
  button.addEventListener("click", () => selectCell(view, counts, t, p));
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
  view.shown = String(view.cell);
  // Which checkpoint the panel shows (`checkpointKey`), for tests to wait on.
  view.facts.dataset["checkpoint"] = data?.key ?? "";
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
  view.note.textContent =
    "Bars: per true class, correct (solid) then wrong by predicted class (hatched, in its colour). Confusion: rows true, columns predicted. Click a segment or cell to select its sequences.";
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
  mountOverviewTransitions(parent, store);
  const view: OverviewView = { store, facts, bars, matrix, note, cell: null, shown: "null" };
  store.subscribe((state, previous) => {
    if (state.data !== previous.data) {
      view.cell = null;
      render(view, state);
    } else if (state.selected !== previous.selected) {
      // A selection made elsewhere releases the pressed cell; a click here shows it pressed.
      if (view.cell !== null) {
        const counts = state.data ? classCounts(state.data) : null;
        const members = counts ? (counts.members[view.cell[0]]?.[view.cell[1]] ?? []) : [];
        if (members.length !== state.selected.length || members.some((m, i) => state.selected[i] !== m)) view.cell = null;
      }
      if (String(view.cell) !== view.shown) render(view, state);
    }
  });
  render(view, store.get());
}
