/**
 * The overview's part for compare mode: accuracy in A and in B, and the
 * transition matrix (rows wrong/correct in A, columns wrong/correct in B) of
 * `/compare`'s answer. A cell is a set of sequences, as a confusion cell is:
 * clicking it selects exactly them (the first focused) and presses it
 * (`compare.changes.cell`), which narrows the change table to them; clicking
 * the pressed cell again releases it. Shown only while compare mode is on
 * and the answer has transitions (labels and probabilities on both sides).
 */
import type { CompareResponse } from "../api/types";
import { sideAccuracy, transitionMembers } from "../domain/change_table";
import { formatFixed } from "../domain/format";
import type { AppState } from "../state/app_state";
import type { CompareState } from "../state/compare";
import { selectSequences } from "../state/selection";
import type { Store } from "../state/store";
import { h, setChildren } from "../ui/dom";
import { addStyles } from "../ui/styles";

const CSS = `
#overview-compare { margin-top: 10px; border-top: 1px solid var(--rh-border); padding-top: 8px; }
#overview-compare h3 { font-size: 12px; font-weight: 500; margin: 0 0 4px; color: var(--rh-muted); }
#transition-facts { margin-bottom: 6px; font-variant-numeric: tabular-nums; }
#transition-facts strong { font-weight: 500; }
#transition-matrix { border-collapse: collapse; font-variant-numeric: tabular-nums; }
#transition-matrix th { font-weight: 500; color: var(--rh-muted); padding: 2px 6px; text-align: left; white-space: nowrap; }
#transition-matrix td { padding: 0; }
#transition-matrix button { width: 100%; min-width: 52px; border: 1px solid var(--rh-border); border-radius: 0; padding: 4px 8px; text-align: right; }
#transition-matrix button[aria-pressed="true"] { outline: 2px solid var(--rh-highlight); outline-offset: -2px; background: inherit; color: inherit; }
#transition-note { color: var(--rh-muted); margin: 4px 0 0; }
`;

const WORD = ["wrong", "correct"] as const;

interface TransitionsView {
  readonly store: Store<AppState>;
  readonly root: HTMLElement;
  readonly facts: HTMLElement;
  readonly matrix: HTMLTableElement;
  readonly note: HTMLElement;
}

/** Selects cell [a][b]'s sequences and presses it; the pressed cell again releases it. */
function clickCell(store: Store<AppState>, a: number, b: number): void {
  const state = store.get();
  const compare = state.compare;
  const answer = compare.answer;
  if (answer === null) return;
  const pressed = compare.changes.cell;
  if (pressed !== null && pressed[0] === a && pressed[1] === b) {
    store.set({ compare: { ...compare, changes: { ...compare.changes, cell: null } } });
    return;
  }
  const members = transitionMembers(answer, a, b);
  store.set({
    ...selectSequences(state, members, members[0] ?? null),
    // The filter back to all, so the table shows the whole cell.
    compare: { ...compare, changes: { ...compare.changes, cell: [a, b], filter: "all" } },
  });
}

function cellButton(store: Store<AppState>, compare: CompareState, a: number, b: number, count: number, largest: number): HTMLButtonElement {
  const pressed = compare.changes.cell;
  const colour = b === 1 ? "0, 158, 115" : "213, 94, 0";
  const text = `${WORD[a]} in A, ${WORD[b]} in B: ${count} sequence${count === 1 ? "" : "s"}`;
  const button = h(
    "button",
    {
      type: "button",
      "data-a": a,
      "data-b": b,
      "data-count": count,
      title: `${text} (click to select)`,
      "aria-label": text,
      "aria-pressed": pressed !== null && pressed[0] === a && pressed[1] === b ? "true" : "false",
      style: `background: rgba(${colour}, ${(0.08 + (a !== b ? 0.6 : 0.3) * (count / largest)).toFixed(3)})`,
    },
    String(count),
  );
  button.addEventListener("click", () => clickCell(store, a, b));
  return button;
}

function renderFacts(view: TransitionsView, answer: CompareResponse): void {
  const [accA, accB] = [sideAccuracy(answer, "a"), sideAccuracy(answer, "b")];
  setChildren(view.facts, "accuracy A ", h("strong", {}, formatFixed(accA, 2)), " → B ", h("strong", {}, formatFixed(accB, 2)));
}

function renderMatrix(view: TransitionsView, compare: CompareState, transitions: NonNullable<CompareResponse["transitions"]>): void {
  const largest = Math.max(1, ...transitions.flat());
  const header = h("tr", {}, h("th", {}, "A ╲ B"), h("th", { scope: "col" }, "wrong in B"), h("th", { scope: "col" }, "correct in B"));
  const rows = [0, 1].map((a) =>
    h(
      "tr",
      {},
      h("th", { scope: "row" }, `${WORD[a]} in A`),
      ...[0, 1].map((b) => h("td", {}, cellButton(view.store, compare, a, b, transitions[a]?.[b] ?? 0, largest))),
    ),
  );
  setChildren(view.matrix, h("thead", {}, header), h("tbody", {}, ...rows));
}

function render(view: TransitionsView, compare: CompareState): void {
  const answer = compare.answer;
  view.root.hidden = !compare.on || answer === null;
  if (!compare.on || answer === null) return;
  renderFacts(view, answer);
  const transitions = answer.transitions;
  view.matrix.hidden = transitions === null;
  if (transitions === null) {
    setChildren(view.matrix);
    view.note.textContent = "No transitions: they need true labels and probabilities in A and in B.";
    return;
  }
  renderMatrix(view, compare, transitions);
  view.note.textContent = "Rows: A, columns: B. Click a cell to select its sequences (and show only them in the change table).";
}

/** Appends the compare part to the overview panel `parent`; it renders itself from the store. */
export function mountOverviewTransitions(parent: HTMLElement, store: Store<AppState>): void {
  addStyles("overview-transitions", CSS);
  const facts = h("div", { id: "transition-facts", "data-testid": "transition-facts" });
  const matrix = h("table", { id: "transition-matrix", "data-testid": "transition-matrix" });
  const note = h("p", { id: "transition-note" });
  const root = h("div", { id: "overview-compare", hidden: true }, h("h3", {}, "A → B"), facts, matrix, note);
  parent.append(root);
  const view: TransitionsView = { store, root, facts, matrix, note };
  store.subscribe((state, previous) => {
    const [c, p] = [state.compare, previous.compare];
    if (c.on !== p.on || c.answer !== p.answer || c.changes.cell !== p.changes.cell) render(view, c);
  });
  render(view, store.get().compare);
}
