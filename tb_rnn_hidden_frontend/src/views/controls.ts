/** Run / layer selectors and the checkpoint slider. */
import { h, setChildren } from "../dom";
import { fittedParams, type ProjectionMethod, type ProjectionParams } from "../model";
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
  const play = h("button", { type: "button", id: "play-button", "data-testid": "play-button", "aria-pressed": "false" }, "▶ Play");

  parent.append(
    h("div", { class: "field" }, h("label", { for: "run-select" }, "Run"), runSelect),
    h("div", { class: "field" }, h("label", { for: "tag-select" }, "Layer"), tagSelect),
    h(
      "div",
      { class: "field field-wide" },
      h("label", { for: "step-slider" }, "Checkpoint"),
      play,
      slider,
      stepLabel,
      stepTime,
    ),
    description,
    mountProjectionControls(store, parent),
  );
  play.addEventListener("click", () => {
    const state = store.get();
    const steps = stepsOf(state);
    if (state.playing) {
      store.set({ playing: false });
      return;
    }
    // From the start when at the last checkpoint, else from here.
    const atEnd = state.step === steps[steps.length - 1];
    store.set({ playing: true, ...(atEnd && steps[0] !== undefined ? { step: steps[0] } : {}) });
  });

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
    play.disabled = steps.length <= 1;
    play.setAttribute("aria-pressed", state.playing ? "true" : "false");
    play.textContent = state.playing ? "❚❚ Pause" : "▶ Play";
  };

  update(store.get());
  store.subscribe(update);
}

const METHODS: { value: ProjectionMethod; label: string }[] = [
  { value: "tsne", label: "t-SNE" },
  { value: "pca", label: "PCA" },
  { value: "umap", label: "UMAP" },
];

/**
 * The projection's method and parameters (applied with "Project", so typing
 * does not start jobs) and its progress while the server computes it.
 */
function mountProjectionControls(store: Store<AppState>, events: HTMLElement): HTMLElement {
  const method = h("select", { id: "projection-method", "data-testid": "projection-method" }, ...METHODS.map((m) => h("option", { value: m.value }, m.label)));
  const perplexity = h("input", { id: "projection-perplexity", type: "number", min: 2, max: 200, step: 1 });
  const iterations = h("input", { id: "projection-iterations", type: "number", min: 50, max: 5000, step: 50 });
  const seed = h("input", { id: "projection-seed", type: "number", min: 0, step: 1 });
  const metric = h("select", { id: "projection-metric" }, h("option", { value: "euclidean" }, "euclidean"), h("option", { value: "cosine" }, "cosine"));
  const align = h("input", { id: "projection-align", type: "checkbox" });
  const apply = h("button", { type: "button", id: "projection-apply", "data-testid": "projection-apply" }, "Project");
  const progress = h("progress", { id: "projection-bar", max: 1, value: 0 });
  const status = h("span", { id: "projection-job-status", "data-testid": "projection-job-status", role: "status" });
  const cancel = h("button", { type: "button", id: "projection-cancel" }, "Cancel");
  const retry = h("button", { type: "button", id: "projection-retry" }, "Retry");
  const field = (label: string, control: HTMLElement) => h("label", { class: "field" }, h("span", { class: "label" }, label), control);
  const form = h(
    "div",
    { id: "projection-form" },
    field("Projection", method),
    field("perplexity", perplexity),
    field("iterations", iterations),
    field("seed", seed),
    field("metric", metric),
    h("label", { class: "field", title: "Start from the layout of the neighbouring checkpoint, so points keep their place across training" }, align, "align to neighbour"),
    apply,
    h("div", { id: "projection-progress" }, progress, status, cancel, retry),
  );

  const read = (): ProjectionParams => {
    const current = store.get().params;
    const number = (input: HTMLInputElement, fallback: number) => (Number.isFinite(input.valueAsNumber) ? input.valueAsNumber : fallback);
    return {
      method: method.value as ProjectionMethod,
      perplexity: number(perplexity, current.perplexity),
      seed: Math.round(number(seed, current.seed)),
      iterations: Math.round(number(iterations, current.iterations)),
      metric: metric.value === "cosine" ? "cosine" : "euclidean",
      align: align.checked ? "neighbor" : "none",
    };
  };
  const write = (params: ProjectionParams) => {
    method.value = params.method;
    perplexity.value = String(params.perplexity);
    iterations.value = String(params.iterations);
    seed.value = String(params.seed);
    metric.value = params.metric;
    align.checked = params.align === "neighbor";
    const tsneLike = params.method !== "pca";
    perplexity.disabled = !tsneLike;
    iterations.disabled = params.method !== "tsne";
  };
  method.addEventListener("change", () => write({ ...read() }));
  apply.addEventListener("click", () => {
    const next = read();
    const current = store.get().params;
    if (JSON.stringify(next) !== JSON.stringify(current)) store.set({ params: next });
    else events.dispatchEvent(new CustomEvent("rh-retry-projection"));
  });
  cancel.addEventListener("click", () => events.dispatchEvent(new CustomEvent("rh-cancel-projection")));
  retry.addEventListener("click", () => events.dispatchEvent(new CustomEvent("rh-retry-projection")));

  const update = (state: Readonly<AppState>, previous?: Readonly<AppState>) => {
    if (previous === undefined || state.params !== previous.params) write(state.params);
    const p = state.projection;
    const busy = p.state === "queued" || p.state === "running";
    progress.hidden = !busy;
    progress.value = p.progress;
    cancel.hidden = !busy;
    retry.hidden = p.state !== "failed" && p.state !== "cancelled";
    const elapsed = `${p.elapsed.toFixed(1)} s`;
    let text = "";
    if (p.state === "queued") text = `queued (${elapsed})`;
    else if (p.state === "running") text = `${Math.round(p.progress * 100)}% · ${p.phase} · ${elapsed}`;
    else if (p.state === "done") text = p.coords !== null ? `done${p.alignedTo !== null ? `, aligned to step ${p.alignedTo}` : ""} (${p.elapsed.toFixed(1)} s)` : "loading points…";
    else if (p.state === "failed") text = `failed: ${p.error ?? "unknown error"}`;
    else if (p.state === "cancelled") text = "cancelled";
    const points = state.data?.pointSequence.length ?? 0;
    const sent = fittedParams(state.params, points);
    if (state.data !== null && sent.perplexity !== state.params.perplexity) {
      text += ` · perplexity ${sent.perplexity}: the largest below ${points} points / 3`;
    }
    status.textContent = text;
    status.dataset["state"] = p.state;
  };
  update(store.get());
  store.subscribe(update);
  return form;
}
