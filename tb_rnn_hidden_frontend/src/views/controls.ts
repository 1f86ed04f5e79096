/** Run / layer selectors and the checkpoint slider. */
import { h, setChildren } from "../dom";
import { stepsOf, withSelection, type AppState, type Store } from "../store";

function formatWallTime(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return "";
  return new Date(seconds * 1000).toLocaleString();
}

/**
 * A tag description as plain text. The backend serves it as logged: the user's
 * Markdown source, not sanitized HTML. It is shown as text like every other
 * logged string, and never parsed as HTML: even parsing into an inert document
 * (DOMParser, <template>) makes Chromium check inline handlers such as
 * `onerror=` against TensorBoard's CSP and log a violation as a console error.
 */
function descriptionText(description: string | undefined): string {
  return (description ?? "").trim();
}

function tagLabel(tag: string, displayName: string | undefined): string {
  return displayName && displayName !== tag ? `${displayName} (${tag})` : tag;
}

interface Choice {
  value: string;
  label: string;
}

/** Replaces the options of `select` only if they differ, so an open list is not disturbed. */
function setOptions(select: HTMLSelectElement, choices: Choice[]): void {
  const current = [...select.options];
  const same =
    current.length === choices.length &&
    current.every((option, i) => option.value === choices[i]?.value && option.text === choices[i]?.label);
  if (same) return;
  setChildren(select, ...choices.map(({ value, label }) => h("option", { value }, label)));
}

/**
 * Renders the selection from the store: the run and tag lists and the slider
 * range follow the store's `tags` as they change (the backend is polled), and
 * the selected values follow the store's selection.
 */
export function mountControls(parent: HTMLElement, store: Store<AppState>): void {
  const runSelect = h("select", { id: "run-select", "data-testid": "run-select" });
  const tagSelect = h("select", { id: "tag-select", "data-testid": "tag-select" });
  const slider = h("input", {
    id: "step-slider",
    "data-testid": "step-slider",
    type: "range",
    min: 0,
    step: 1,
  });
  const stepLabel = h("span", { id: "step-label", "data-testid": "step-label" });
  const stepTime = h("span", { id: "step-time", "data-testid": "step-time", class: "muted" });
  const description = h("p", { id: "tag-description", class: "muted" });

  parent.append(
    h("div", { class: "field" }, h("label", { for: "run-select" }, "Run"), runSelect),
    h("div", { class: "field" }, h("label", { for: "tag-select" }, "Layer"), tagSelect),
    h(
      "div",
      { class: "field field-wide" },
      h("label", { for: "step-slider" }, "Checkpoint"),
      slider,
      stepLabel,
      stepTime,
    ),
    description,
  );

  runSelect.addEventListener("change", () => {
    store.set(withSelection(store.get(), { run: runSelect.value }));
  });
  tagSelect.addEventListener("change", () => {
    store.set(withSelection(store.get(), { tag: tagSelect.value }));
  });
  // `input` fires while dragging; index.ts debounces the resulting fetches.
  slider.addEventListener("input", () => {
    const step = stepsOf(store.get())[slider.valueAsNumber];
    if (step !== undefined) store.set({ step });
  });

  const update = (state: Readonly<AppState>) => {
    const { tags } = state;
    const runs = Object.keys(tags).sort();
    parent.hidden = runs.length === 0;
    setOptions(runSelect, runs.map((run) => ({ value: run, label: run })));
    runSelect.value = state.run ?? "";

    const runTags = state.run !== null ? (tags[state.run] ?? {}) : {};
    const names = Object.keys(runTags).sort();
    setOptions(
      tagSelect,
      names.map((tag) => ({ value: tag, label: tagLabel(tag, runTags[tag]?.display_name) })),
    );
    tagSelect.value = state.tag ?? "";

    const info = state.tag !== null ? runTags[state.tag] : undefined;
    description.textContent = descriptionText(info?.description);
    const steps = info?.steps ?? [];
    const index = state.step !== null ? steps.indexOf(state.step) : -1;
    slider.max = String(Math.max(steps.length - 1, 0));
    slider.value = String(Math.max(index, 0));
    slider.disabled = steps.length <= 1;
    stepLabel.textContent =
      index >= 0 ? `step ${state.step} (${index + 1} of ${steps.length})` : "no checkpoints";
    stepTime.textContent = index >= 0 ? formatWallTime(info?.wall_times[index]) : "";
  };

  update(store.get());
  store.subscribe(update);
}
