/** Run / layer selectors and the checkpoint slider. */
import type { TagsResponse } from "../api";
import { h, setChildren } from "../dom";
import { normalizeSelection, type Selection, type Store } from "../store";

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

function options(values: string[], labels: (value: string) => string, selected: string | null) {
  return values.map((value) => {
    const option = h("option", { value }, labels(value));
    option.selected = value === selected;
    return option;
  });
}

export function mountControls(
  parent: HTMLElement,
  store: Store<Selection>,
  tags: TagsResponse,
): void {
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

  const runs = Object.keys(tags).sort();
  const stepsOf = (s: Selection): number[] =>
    (s.run !== null && s.tag !== null ? tags[s.run]?.[s.tag]?.steps : undefined) ?? [];

  runSelect.addEventListener("change", () => {
    store.set(normalizeSelection(tags, { ...store.get(), run: runSelect.value }));
  });
  tagSelect.addEventListener("change", () => {
    store.set(normalizeSelection(tags, { ...store.get(), tag: tagSelect.value }));
  });
  // `input` fires while dragging; index.ts debounces the resulting fetches.
  slider.addEventListener("input", () => {
    const step = stepsOf(store.get())[slider.valueAsNumber];
    if (step !== undefined) store.set({ step });
  });

  const update = (state: Readonly<Selection>, previous: Readonly<Selection> | null) => {
    if (previous === null) setChildren(runSelect, ...options(runs, (r) => r, state.run));
    runSelect.value = state.run ?? "";

    const runTags = state.run !== null ? (tags[state.run] ?? {}) : {};
    if (previous === null || previous.run !== state.run) {
      const names = Object.keys(runTags).sort();
      setChildren(tagSelect, ...options(names, (t) => tagLabel(t, runTags[t]?.display_name), state.tag));
    }
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

  update(store.get(), null);
  store.subscribe(update);
}
