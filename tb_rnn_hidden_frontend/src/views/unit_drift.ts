/**
 * Drift per unit between A and B (`#unit-drift`): the 12 units whose mean
 * activation moved most, each a button (`data-unit`) with a bar of its drift
 * and its mean in A → in B. A click adds the unit to LSTMVis' hypothesis and
 * opens LSTMVis' row, so the units view shows it among the selected units.
 * Only A and B of the same layer have corresponding units: otherwise one
 * line says so. Shown only while compare mode is on.
 */
import type { CompareResponse } from "../api/types";
import { formatFixed } from "../domain/format";
import { topDrift } from "../domain/unit_drift";
import type { AppState } from "../state/app_state";
import { withUnitToggled } from "../state/lstmvis";
import type { Store } from "../state/store";
import { h, setChildren } from "../ui/dom";
import { addStyles } from "../ui/styles";

const SHOWN = 12;

const CSS = `
#unit-drift-section h2 { margin-bottom: 4px; }
#unit-drift { display: grid; grid-template-columns: 1fr; gap: 2px; }
#unit-drift button { display: grid; grid-template-columns: 4.5em minmax(40px, 1fr) max-content; gap: 6px; align-items: center; text-align: left; padding: 1px 6px; font-variant-numeric: tabular-nums; }
#unit-drift .drift-bar { height: 8px; background: var(--rh-row-hover); border-radius: 2px; overflow: hidden; }
#unit-drift .drift-bar > span { display: block; height: 100%; background: var(--rh-highlight); }
#unit-drift .drift-means { color: var(--rh-muted); font-size: 12px; }
#unit-drift button.in-hypothesis { border-color: var(--rh-highlight); }
#unit-drift-note { color: var(--rh-muted); margin: 0 0 4px; }
`;

interface DriftView {
  readonly store: Store<AppState>;
  readonly root: HTMLElement;
  readonly note: HTMLElement;
  readonly list: HTMLElement;
}

/** Adds `unit` to the hypothesis (kept if there) and opens LSTMVis' row. */
function openUnit(store: Store<AppState>, unit: number): void {
  const s = store.get().lstmvis;
  const withUnit = s.units.includes(unit) ? s : withUnitToggled(s, unit);
  store.set({ lstmvis: { ...withUnit, open: true } });
}

function renderList(view: DriftView, answer: CompareResponse, hypothesis: readonly number[]): void {
  const drift = answer.unit_drift;
  if (drift === null) {
    view.note.textContent = "A and B have different units (other run or layer): per-unit drift needs the same layer.";
    setChildren(view.list);
    return;
  }
  const rows = topDrift(drift, SHOWN);
  view.note.textContent = `The ${rows.length} of ${drift.units.length} units whose mean activation moved most (|mean B − mean A|). Click one to open it in the units view.`;
  setChildren(
    view.list,
    ...rows.map((row) => {
      const text = `unit ${row.unit}: drift ${formatFixed(row.drift, 3)}, mean ${formatFixed(row.meanA, 3)} in A → ${formatFixed(row.meanB, 3)} in B`;
      const inHypothesis = hypothesis.includes(row.unit);
      const button = h(
        "button",
        {
          type: "button",
          "data-unit": row.unit,
          "data-drift": row.drift,
          class: inHypothesis ? "in-hypothesis" : undefined,
          title: `${text}. Click to open it in the units view${inHypothesis ? " (already selected there)" : ""}.`,
          "aria-label": text,
        },
        h("span", {}, `unit ${row.unit}`),
        h("span", { class: "drift-bar" }, h("span", { style: `width:${(100 * row.share).toFixed(1)}%` })),
        h("span", { class: "drift-means" }, `${formatFixed(row.meanA, 2)} → ${formatFixed(row.meanB, 2)}`),
      );
      button.addEventListener("click", () => openUnit(view.store, row.unit));
      return button;
    }),
  );
}

function render(view: DriftView, state: Readonly<AppState>): void {
  const compare = state.compare;
  view.root.hidden = !compare.on;
  if (!compare.on) return;
  if (compare.answer === null) {
    view.note.textContent = compare.error ?? (compare.busy ? "Comparing…" : "");
    setChildren(view.list);
    return;
  }
  renderList(view, compare.answer, state.lstmvis.units);
}

/** Mounts the drift list into `parent` (a panel, or part of one; about 12 lines tall), hidden while compare mode is off. */
export function mountUnitDrift(parent: HTMLElement, store: Store<AppState>): void {
  addStyles("unit-drift", CSS);
  const note = h("p", { id: "unit-drift-note", role: "status" });
  const list = h("div", { id: "unit-drift", "data-testid": "unit-drift" });
  const root = h("div", { id: "unit-drift-section", hidden: true }, h("h2", {}, "Drift per unit A → B"), note, list);
  parent.append(root);
  const view: DriftView = { store, root, note, list };
  store.subscribe((state, previous) => {
    const [c, p] = [state.compare, previous.compare];
    if (c.on !== p.on || c.answer !== p.answer || c.busy !== p.busy || c.error !== p.error || state.lstmvis.units !== previous.lstmvis.units) render(view, state);
  });
  render(view, store.get());
}
