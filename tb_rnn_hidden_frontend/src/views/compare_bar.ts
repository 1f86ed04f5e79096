/**
 * The compare bar in the controls: turns compare mode on and off, chooses B
 * (run, layer, checkpoint: the same probe set as A's), swaps A and B, and
 * says how the pair compares or why it cannot be compared. B's projection
 * panel shows the same message in place of the plot when the pair cannot be
 * compared: its points would not be A's points, so nothing could be linked.
 */
import { h, replaceOptions } from "../ui/dom";
import { addStyles } from "../ui/styles";
import { selectionOf, withSelection, type AppState } from "../state/app_state";
import { stepsOfB, withCompareB, withCompareOff, withCompareOn } from "../state/compare_actions";
import type { Store } from "../state/store";
import type { CompareResponse } from "../api/types";

const CSS = `
.compare-bar { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 10px; flex-basis: 100%; }
.compare-bar select { max-width: 14em; }
.compare-bar [hidden] { display: none; }
#compare-message { font-size: 12px; }
#compare-message[data-kind="error"] { color: var(--rh-error-fg); background: var(--rh-error-bg); border-radius: 3px; padding: 1px 6px; }
#projection-panel-b > [hidden] { display: none !important; }
.compare-blocked { padding: 12px; color: var(--rh-error-fg); background: var(--rh-error-bg); border-radius: 4px; overflow-wrap: anywhere; }
`;

/** `replaceOptions`, then the value shown. */
function setChoices(select: HTMLSelectElement, choices: readonly (readonly [string, string])[], value: string): void {
  replaceOptions(select, choices);
  select.value = value;
}

/** One line on the pair: accuracy A → B and the sequences that changed; or what is pending. */
export function pairSummary(answer: CompareResponse): string {
  const n = answer.num_sequences;
  if (answer.transitions !== null) {
    const [[ww, wc], [cw, cc]] = answer.transitions;
    const accuracy = (correct: number) => (n > 0 ? (correct / n).toFixed(3) : "–");
    return `accuracy ${accuracy(cw + cc)} → ${accuracy(wc + cc)} · ${wc} became correct · ${cw} became wrong · ${ww + cc} unchanged`;
  }
  if (answer.change !== null) {
    const changed = answer.change.filter((c) => c === "prediction_changed").length;
    return `${changed} of ${n} sequences changed their prediction`;
  }
  return `${n} sequences (logged without probabilities: hidden states only)`;
}

function messageOf(state: Readonly<AppState>): { text: string; kind: "info" | "error" } {
  const { compare } = state;
  if (compare.error !== null) return { text: compare.error, kind: "error" };
  if (compare.answer !== null) return { text: pairSummary(compare.answer), kind: "info" };
  if (compare.busy) return { text: "Comparing A and B…", kind: "info" };
  return { text: "", kind: "info" };
}

export function mountCompareBar(parent: HTMLElement, projectionB: HTMLElement, store: Store<AppState>): void {
  addStyles("compare-bar", CSS);
  const toggle = h("button", { type: "button", id: "compare-toggle", "aria-pressed": "false", title: "Compare this checkpoint (A) with another checkpoint, run or layer (B) on the same probe set" }, "Compare…");
  const runB = h("select", { id: "compare-run-b", "aria-label": "Run of B" });
  const tagB = h("select", { id: "compare-tag-b", "aria-label": "Layer of B" });
  const stepB = h("select", { id: "compare-step-b", "aria-label": "Checkpoint of B" });
  const swap = h("button", { type: "button", id: "compare-swap", title: "Swap A and B" }, "A ⇄ B");
  const message = h("span", { id: "compare-message", role: "status", "data-kind": "info" });
  const pickers = h("span", { class: "field", id: "compare-pickers" }, h("span", { class: "label" }, "B"), runB, tagB, stepB, swap);
  const bar = h("div", { class: "compare-bar", id: "compare-bar", hidden: true }, pickers, message);
  // The toggle sits by the checkpoint slider (no row of its own while compare mode is off).
  const slider = parent.querySelector(".field-wide");
  if (slider) slider.after(toggle);
  else parent.append(toggle);
  parent.append(bar);
  const blocked = h("div", { class: "compare-blocked", id: "compare-blocked", role: "alert", hidden: true });
  projectionB.append(blocked);

  toggle.addEventListener("click", () => {
    const state = store.get();
    store.set(state.compare.on ? withCompareOff(state) : withCompareOn(state));
  });
  runB.addEventListener("change", () => store.set(withCompareB(store.get(), { run: runB.value })));
  tagB.addEventListener("change", () => store.set(withCompareB(store.get(), { tag: tagB.value })));
  stepB.addEventListener("change", () => store.set(withCompareB(store.get(), { step: Number(stepB.value) })));
  swap.addEventListener("click", () => {
    const state = store.get();
    const a = selectionOf(state);
    const next = withSelection(state, { run: state.compare.b.run, tag: state.compare.b.tag, step: state.compare.b.step });
    store.set(withCompareB(next, a));
  });

  const update = (state: Readonly<AppState>) => {
    const { on, b } = state.compare;
    toggle.setAttribute("aria-pressed", String(on));
    toggle.textContent = on ? "Stop comparing" : "Compare…";
    bar.hidden = !on;
    const runs = Object.keys(state.tags).sort();
    setChoices(runB, runs.map((r) => [r, r]), b.run ?? "");
    const tags = b.run !== null ? Object.keys(state.tags[b.run] ?? {}).sort() : [];
    setChoices(tagB, tags.map((t) => [t, t]), b.tag ?? "");
    setChoices(stepB, stepsOfB(state).map((s) => [String(s), `step ${s}`]), String(b.step ?? ""));
    const { text, kind } = on ? messageOf(state) : { text: "", kind: "info" as const };
    if (message.textContent !== text) message.textContent = text;
    message.dataset["kind"] = kind;
    message.setAttribute("role", kind === "error" ? "alert" : "status");
    // B's plot is not shown for a pair that cannot be compared.
    const error = on ? state.compare.error : null;
    blocked.hidden = error === null;
    blocked.textContent = error === null ? "" : `B cannot be shown beside A: ${error}`;
    for (const child of projectionB.children) {
      if (child !== blocked && !child.classList.contains("side-title")) (child as HTMLElement).hidden = error !== null;
    }
  };
  store.subscribe((state, previous) => {
    if (state.compare !== previous.compare || state.tags !== previous.tags || state.run !== previous.run) update(state);
  });
  update(store.get());
}
