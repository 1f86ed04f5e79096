/** Run / layer selectors and the checkpoint slider. */
import { h, options, replaceOptions } from "../ui/dom";
import { canRetry, controlsStatusText, projectionKey } from "../domain/layout_state";
import {
  IDLE_PROJECTION,
  DEFAULT_PROJECTION_PARAMS,
  METHODS,
  METRICS,
  METHOD_LABELS,
  PROJECTION_FIELDS,
  fitNotes,
  invalidParams,
  isMethod,
  withServerSpecs,
  type ParamField,
  type ProjectionMethod,
  type ProjectionParams,
} from "../domain/model";
import { applyParams, cancelProjection, retryProjection, togglePlay } from "../state/actions";
import { stepsOf, withSelection, type AppState } from "../state/app_state";
import type { Store } from "../state/store";

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

/** `replaceOptions` of `{value, label}` choices. */
function setOptions(select: HTMLSelectElement, choices: Choice[]): void {
  replaceOptions(select, choices.map(({ value, label }) => [value, label] as const));
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
    mountProjectionControls(store),
  );
  play.addEventListener("click", () => store.set(togglePlay(store.get())));

  runSelect.addEventListener("change", () => {
    store.set(withSelection(store.get(), { run: runSelect.value }));
  });
  tagSelect.addEventListener("change", () => {
    store.set(withSelection(store.get(), { tag: tagSelect.value }));
  });
  // `input` fires while dragging; the checkpoint loader debounces the resulting fetches.
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

/** The methods the server offers (all it lists as available); before `/info`, t-SNE and PCA and the current one. */
function offeredMethods(state: Readonly<AppState>): ProjectionMethod[] {
  const info = state.info;
  if (info === null) return METHODS.filter((m) => m !== "umap" || state.params.method === "umap");
  return METHODS.filter((m) => info.methods.some((offered) => offered.name === m && offered.available));
}

/** Why the methods the server lists as unavailable are not offered, for the method menu's tooltip. */
function unavailableReasons(state: Readonly<AppState>): string {
  const missing = state.info?.methods.filter((m) => !m.available) ?? [];
  return missing.map((m) => `${m.label} is not offered: ${m.reason ?? "unavailable on this server"}`).join("\n");
}

/** One input per projection parameter, each shown only for the methods it applies to. */
interface FieldControl {
  /** The field, with the server's ranges once `/info` answered. */
  field: ParamField;
  readonly wrap: HTMLElement;
  readonly input: HTMLInputElement | HTMLSelectElement;
}

function fieldControl(field: ParamField): FieldControl {
  const id = `projection-${field.name.replace("_", "-")}`;
  let input: HTMLInputElement | HTMLSelectElement;
  if (field.name === "align") {
    input = h("input", { id, type: "checkbox" });
    const wrap = h("label", { class: "field", title: field.help }, input, field.label);
    return { field, wrap, input };
  }
  if (field.kind === "choice") {
    input = h("select", { id }, ...options((field.choices ?? []).map((choice) => [choice, choice])));
  } else {
    input = h("input", { id, type: "number", step: field.step ?? (field.kind === "integer" ? 1 : "any") });
  }
  const wrap = h("label", { class: "field", title: field.help }, h("span", { class: "label" }, field.label), input);
  return { field, wrap, input };
}

/** Sets an input's range from its field (the server's, once `/info` answered). */
function applyRange(control: FieldControl): void {
  const { field, input } = control;
  control.wrap.title = field.help;
  if (!(input instanceof HTMLInputElement) || input.type !== "number") return;
  if (field.low !== undefined) input.min = String(field.low);
  if (field.high !== undefined) input.max = String(field.high);
}

/**
 * The projection's method and parameters (applied with "Project", so typing
 * does not start jobs), each method with only its own fields, and the job's
 * progress and result while the server computes it. Retry and cancel are
 * written to the store (`projectionAction`), which the projection jobs carry out.
 */
function mountProjectionControls(store: Store<AppState>): HTMLElement {
  const method = h("select", { id: "projection-method", "data-testid": "projection-method" });
  const controls = PROJECTION_FIELDS.map(fieldControl);
  const apply = h("button", { type: "button", id: "projection-apply", "data-testid": "projection-apply" }, "Project");
  const invalid = h("span", { id: "projection-form-error", class: "form-error", role: "alert", hidden: true });
  const progress = h("progress", { id: "projection-bar", max: 1, value: 0 });
  const status = h("span", { id: "projection-job-status", "data-testid": "projection-job-status", role: "status" });
  const cancel = h("button", { type: "button", id: "projection-cancel" }, "Cancel");
  const retry = h("button", { type: "button", id: "projection-retry" }, "Retry");
  const form = h(
    "div",
    { id: "projection-form" },
    h("label", { class: "field" }, h("span", { class: "label" }, "Projection"), method),
    ...controls.map((c) => c.wrap),
    apply,
    invalid,
    h("div", { id: "projection-progress" }, progress, status, cancel, retry),
  );
  let fields: readonly ParamField[] = PROJECTION_FIELDS;

  const shownMethod = (): ProjectionMethod => (isMethod(method.value) ? method.value : store.get().params.method);
  /** Shows the fields of the method chosen in the menu (before it is applied, so the user sets them first). */
  const showFields = () => {
    const chosen = shownMethod();
    for (const control of controls) control.wrap.hidden = !control.field.methods.includes(chosen);
  };
  const read = (): ProjectionParams => {
    const params: ProjectionParams = { ...store.get().params, method: shownMethod() };
    for (const { field, input } of controls) {
      if (field.name === "align") params.align = (input as HTMLInputElement).checked ? "neighbor" : "none";
      else if (field.name === "metric") params.metric = METRICS.find((m) => m === input.value) ?? DEFAULT_PROJECTION_PARAMS.metric;
      else {
        const value = (input as HTMLInputElement).valueAsNumber;
        params[field.name] = Number.isFinite(value) ? value : Number.NaN;
      }
    }
    return params;
  };
  const write = (params: ProjectionParams) => {
    method.value = params.method;
    for (const { field, input } of controls) {
      if (field.name === "align") (input as HTMLInputElement).checked = params.align === "neighbor";
      else input.value = String(params[field.name]);
    }
    showFields();
  };
  method.addEventListener("change", showFields);
  apply.addEventListener("click", () => {
    const next = read();
    const problems = invalidParams(next, fields);
    invalid.hidden = problems.length === 0;
    invalid.textContent = problems.join("; ");
    if (problems.length > 0) return;
    store.set(applyParams(store.get(), next));
  });
  cancel.addEventListener("click", () => store.set(cancelProjection()));
  retry.addEventListener("click", () => store.set(retryProjection()));

  const update = (state: Readonly<AppState>, previous?: Readonly<AppState>) => {
    if (previous === undefined || state.info !== previous.info || state.params !== previous.params) {
      fields = withServerSpecs(PROJECTION_FIELDS, state.info?.params ?? []);
      controls.forEach((control, i) => {
        control.field = fields[i] as ParamField;
        applyRange(control);
      });
      setOptions(method, offeredMethods(state).map((m) => ({ value: m, label: METHOD_LABELS[m] })));
      method.title = unavailableReasons(state);
      write(state.params);
      invalid.hidden = true;
    }
    // The job of the selected checkpoint: right after a change the store still holds the last one's.
    const p = state.data !== null && state.projection.key === projectionKey(state) ? state.projection : IDLE_PROJECTION;
    const busy = p.state === "queued" || p.state === "running";
    progress.hidden = !busy;
    progress.value = p.progress;
    cancel.hidden = !busy;
    retry.hidden = !canRetry(p);
    const notes = state.data !== null ? fitNotes(state.params, state.data.pointSequence.length) : [];
    status.textContent = [controlsStatusText(p), ...notes].filter((t) => t !== "").join(" · ");
    status.dataset["state"] = p.state;
  };
  update(store.get());
  store.subscribe(update);
  return form;
}
