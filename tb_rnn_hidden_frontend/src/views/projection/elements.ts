/**
 * The projection view's elements: its display controls, the canvas area
 * (four stacked canvases and the status over them), the layout line, the
 * link notice and the legend; and the controls' bindings to `state.display`.
 * Ids and attributes are what the browser tests drive.
 */
import { annotationColorBy, annotationOfColorBy } from "../../domain/annotations";
import { DISPLAY_RANGES, LABEL_KINDS, type AnnotationTrack, type ColorBy, type DisplayOptions, type LabelKind } from "../../domain/model";
import { LABEL_AFTER_COLOR, LABEL_AFTER_COLOR_DARK, LABEL_BEFORE_COLOR, LABEL_BEFORE_COLOR_DARK } from "../../ui/colors";
import { h, options } from "../../ui/dom";
import { addStyles } from "../../ui/styles";
import { fit, type ProjectionView, type Tool } from "./context";

/** Height of the canvas area, CSS px, where the page scrolls (narrow or short frames). */
const CANVAS_HEIGHT = 440;
/** The least height of the canvas area where it fills the centre column. */
const MIN_CANVAS_HEIGHT = 160;

const CSS = `
.projection-view { display: flex; flex-direction: column; gap: 6px; }
.projection-view .projection-controls { display: flex; flex-wrap: wrap; gap: 4px 14px; align-items: center; font-size: 12px; }
.projection-view .projection-controls label { display: inline-flex; align-items: center; gap: 4px; color: var(--rh-muted); }
.projection-view .projection-controls select, .projection-view .projection-controls button { font: inherit; font-size: 12px; }
.projection-view .projection-area { position: relative; width: 100%; height: ${CANVAS_HEIGHT}px; border: 1px solid var(--rh-border); border-radius: 4px; background: var(--rh-card); overflow: hidden; touch-action: none; outline: none; }
.projection-view .projection-area:focus-visible { border-color: var(--rh-accent); }
.projection-view .projection-area canvas { position: absolute; left: 0; top: 0; }
.projection-view .projection-area[data-tool="pan"] { cursor: grab; }
.projection-view .projection-area[data-tool="box"], .projection-view .projection-area[data-tool="lasso"] { cursor: crosshair; }
.projection-view .projection-status { position: absolute; left: 50%; top: 50%; transform: translate(-50%, -50%); padding: 6px 12px; border-radius: 4px; background: var(--rh-bg); color: var(--rh-fg); border: 1px solid var(--rh-border); opacity: 0.92; pointer-events: none; max-width: 80%; text-align: center; }
.projection-view .projection-status[data-kind="error"] { color: #c62828; }
.projection-view .projection-layout { font-size: 12px; line-height: 16px; min-height: 36px; color: var(--rh-muted); overflow-wrap: anywhere; }
.projection-view .projection-layout .layout-box { padding: 1px 6px; border-radius: 3px; }
.projection-view .projection-layout[data-kind="provisional"] .layout-box, .projection-view .projection-layout[data-kind="stale"] .layout-box { color: var(--rh-fg); background: var(--rh-info-bg); }
.projection-view .projection-layout[data-failed="true"] .layout-box { background: var(--rh-error-bg); color: var(--rh-error-fg); }
.projection-view .projection-layout .layout-head { font-weight: 500; color: var(--rh-fg); }
.projection-view .projection-layout[data-failed="true"] .layout-head { color: inherit; }
.projection-view .projection-link-notice { font-size: 12px; padding: 2px 6px; border-radius: 3px; background: var(--rh-info-bg); }
.projection-view .projection-link-notice:empty { display: none; }
/* The panel drops over the plot, as wide as the column (positioned by the view, not the summary). */
.projection-view { position: relative; }
.projection-view .projection-settings { position: static; }
.projection-view .projection-settings > summary { cursor: pointer; color: var(--rh-fg); padding: 1px 6px; border: 1px solid var(--rh-border); border-radius: 3px; list-style: none; }
.projection-view .projection-settings > summary::-webkit-details-marker { display: none; }
.projection-view .projection-settings[open] > summary { border-color: var(--rh-accent); }
.projection-view .projection-settings-panel { position: absolute; left: 0; right: 0; margin-top: 4px; z-index: 30; box-sizing: border-box; display: grid; grid-template-columns: 1fr 1fr; gap: 4px 8px; padding: 8px; background: var(--rh-card); border: 1px solid var(--rh-border); border-radius: 4px; box-shadow: 0 2px 8px rgba(0, 0, 0, 0.25); }
.projection-view .projection-settings-panel fieldset { margin: 0; padding: 2px 6px 6px; border: 1px solid var(--rh-border); border-radius: 3px; display: flex; flex-direction: column; gap: 3px; min-width: 0; }
.projection-view .projection-settings-panel legend { font-weight: 500; color: var(--rh-fg); padding: 0 3px; }
.projection-view .projection-settings-panel input[type="range"] { width: 90px; }
.projection-view .projection-settings-panel output { min-width: 2.5em; font-variant-numeric: tabular-nums; color: var(--rh-fg); }
.projection-view .settings-labels { display: grid; grid-template-columns: auto auto auto; gap: 1px 8px; align-items: center; }
.projection-view .settings-labels label { justify-content: center; }
.projection-view .label-after { color: ${LABEL_AFTER_COLOR}; font-weight: 500; }
.projection-view .label-before { color: ${LABEL_BEFORE_COLOR}; font-weight: 500; }
:root[data-theme="dark"] .projection-view .label-after { color: ${LABEL_AFTER_COLOR_DARK}; }
:root[data-theme="dark"] .projection-view .label-before { color: ${LABEL_BEFORE_COLOR_DARK}; }
.projection-view .projection-brush { font-size: 12px; display: flex; flex-wrap: wrap; gap: 2px 6px; align-items: center; }
.projection-view .projection-brush button { font-size: 12px; padding: 1px 6px; }
.projection-view .projection-brush[hidden] { display: none; }
.projection-view .projection-legend { display: flex; flex-wrap: wrap; gap: 2px 12px; font-size: 12px; color: var(--rh-fg); align-items: center; min-height: 18px; }
.projection-view .legend-item { display: inline-flex; align-items: center; gap: 4px; }
.projection-view .legend-swatch { width: 10px; height: 10px; border-radius: 50%; display: inline-block; }
.projection-view .legend-ramp { width: 90px; height: 10px; display: inline-block; border-radius: 2px; }
.projection-view .legend-note { color: var(--rh-muted); }
/* Compare mode's two projections, A and B, side by side (B hidden otherwise). */
.projection-pair { display: flex; gap: 10px; min-width: 0; }
.projection-pair > .panel { flex: 1 1 0; min-width: 0; }
.projection-pair > .panel[hidden] { display: none; }
/* Three columns that scroll on their own: the plot takes the centre column's height that the
   controls and legend leave, so they stay in sight as LSTMVis' row opens and closes (down to
   the plot's least height: 1280x1024 with the row open fits). */
@media (min-width: 1101px) and (min-height: 561px) {
  .column-centre > .projection-pair { flex: 1 0 auto; }
  .projection-pair > .panel { display: flex; flex-direction: column; }
  .projection-view { flex: 1 1 auto; min-height: 0; }
  .projection-view .projection-area { flex: 1 1 0; height: auto; min-height: ${MIN_CANVAS_HEIGHT}px; }
}
`;

/** The settings panel's inputs, by what they set (ids `projection-*`, for tests). */
export interface SettingsInputs {
  /** One checkbox per label kind (`projection-label-ja`, …). */
  labels: Record<LabelKind, HTMLInputElement>;
  jumpThreshold: HTMLInputElement;
  confidenceThreshold: HTMLInputElement;
  pointSize: HTMLInputElement;
  lineWidth: HTMLInputElement;
  /** The values beside the sliders. */
  outputs: Record<SliderName, HTMLOutputElement>;
  markers: HTMLInputElement;
  allMarkers: HTMLInputElement;
  gradient: HTMLInputElement;
  trajectoryColor: HTMLSelectElement;
  thickness: HTMLSelectElement;
  fade: HTMLSelectElement;
}

export interface ProjectionElements {
  colorBy: HTMLSelectElement;
  tool: HTMLSelectElement;
  settings: HTMLDetailsElement;
  inputs: SettingsInputs;
  resetButton: HTMLButtonElement;
  clearButton: HTMLButtonElement;
  area: HTMLDivElement;
  baseCanvas: HTMLCanvasElement;
  trailCanvas: HTMLCanvasElement;
  /** The lit points, above the trajectories so that a small lit cluster is never hidden under them. */
  litCanvas: HTMLCanvasElement;
  overlayCanvas: HTMLCanvasElement;
  status: HTMLDivElement;
  legend: HTMLDivElement;
  layoutLine: HTMLDivElement;
  linkNotice: HTMLDivElement;
}

type SliderName = keyof typeof DISPLAY_RANGES;

/** The display selects: what each is, and its options as [value, text]. */
const SELECTS = {
  colorBy: { id: "projection-color-by", label: "Colour", title: "What the colour of a point shows",
    options: [["prediction", "predicted class"], ["confidence", "prediction × confidence"], ["label", "true class"], ["time", "time step"], ["correct", "correct at step"]] },
  thickness: { id: "projection-thickness", label: "Width", title: "Trajectory line width",
    options: [["constant", "constant"], ["time", "by time"], ["distance", "by step distance"]] },
  trajectoryColor: { id: "projection-trajectory-color", label: "Colour", title: "A trajectory's colour: its sequence's class, or each segment the prediction at its step with confidence as lightness",
    options: [["class", "sequence's class"], ["prediction", "prediction × confidence"]] },
  fade: { id: "projection-fade", label: "Fade", title: "Dim the correctly or wrongly classified sequences",
    options: [["none", "none"], ["correct", "correct sequences"], ["wrong", "wrong sequences"]] },
  tool: { id: "projection-tool", label: "Drag", title: "What dragging in the plot does",
    options: [["pan", "pan (shift: box)"], ["box", "box brush"], ["lasso", "lasso brush"]] },
} as const;

type SelectSpec = (typeof SELECTS)[keyof typeof SELECTS];

/** A labelled `<select>` of `spec`. */
function select(spec: SelectSpec) {
  const el = h("select", { id: spec.id, "aria-label": spec.label, title: spec.title }, ...options(spec.options));
  return { el, wrap: h("label", {}, spec.label, el) };
}

/** A slider of `name`'s range with its value beside it. */
function slider(name: SliderName, id: string, label: string, title: string) {
  const [min, max, step] = DISPLAY_RANGES[name];
  const input = h("input", { type: "range", id, min, max, step, "aria-label": label, title });
  const output = h("output", { for: id, id: `${id}-value` });
  return { input, output, wrap: h("label", { title }, label, input, output) };
}

const checkbox = (id: string) => h("input", { type: "checkbox", id });

/** The paper's six labels: a row per cause, a column per side ("after" purple, "before" green). */
function labelGrid(): { grid: HTMLElement; labels: Record<LabelKind, HTMLInputElement> } {
  const labels = Object.fromEntries(LABEL_KINDS.map((k) => [k, checkbox(`projection-label-${k}`)])) as Record<LabelKind, HTMLInputElement>;
  const rows: [string, LabelKind, LabelKind][] = [
    ["distance jump", "ja", "jb"], ["confidence change", "ca", "cb"], ["class change", "pa", "pb"],
  ];
  const grid = h(
    "div",
    { class: "settings-labels" },
    h("span", {}, ""), h("span", { class: "label-after" }, "after"), h("span", { class: "label-before" }, "before"),
    ...rows.flatMap(([text, after, before]) => [
      h("span", {}, text),
      h("label", { title: `Label the step a ${text} arrives at` }, labels[after]),
      h("label", { title: `Label the step a ${text} leaves` }, labels[before]),
    ]),
  );
  return { grid, labels };
}

/** The settings panel (the paper's settings): labels, samples, trajectory, scaling; it drops over the plot. */
function createSettings(): { details: HTMLDetailsElement; inputs: SettingsInputs } {
  const { grid, labels } = labelGrid();
  const jump = slider("jumpThreshold", "projection-jump-threshold", "jump ≥", "A distance jump: a step whose distance (normalised to the checkpoint's largest) is at least this");
  const conf = slider("confidenceThreshold", "projection-confidence-threshold", "Δp ≥", "A confidence change: max over classes of |Δp| from the step before at least this");
  const size = slider("pointSize", "projection-point-size", "point size ×", "Point radius, times the automatic one");
  const width = slider("lineWidth", "projection-line-width", "line width ×", "Trajectory line width, times the automatic one");
  const markers = checkbox("projection-markers");
  const allMarkers = checkbox("projection-markers-all");
  const gradient = checkbox("projection-gradient");
  const trajectoryColor = select(SELECTS.trajectoryColor);
  const thickness = select(SELECTS.thickness);
  const fade = select(SELECTS.fade);
  const section = (title: string, ...children: HTMLElement[]) =>
    h("fieldset", {}, h("legend", {}, title), ...children);
  const panel = h(
    "div",
    { class: "projection-settings-panel", id: "projection-settings-panel" },
    section("Labels", grid, jump.wrap, conf.wrap),
    section(
      "Samples",
      h("label", { title: "Start (circle) and end (square) of each drawn trajectory" }, markers, "markers of drawn trajectories"),
      h("label", { title: "Start (circle) and end (square) of every sequence" }, allMarkers, "markers of all sequences"),
      fade.wrap,
    ),
    section(
      "Trajectory",
      trajectoryColor.wrap,
      h("label", { title: "Trajectories from light (start) to dark (end), in their class's colour" }, gradient, "time gradient"),
      thickness.wrap,
    ),
    section("Scaling", size.wrap, width.wrap),
  );
  const summary = h("summary", { id: "projection-settings-toggle", title: "The paper's display options: labels, markers, colours, sizes" }, "Settings ▾");
  const details = h("details", { class: "projection-settings", id: "projection-settings" }, summary, panel);
  details.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !details.open) return;
    details.open = false;
    summary.focus();
  });
  // A press anywhere else closes it, as a menu does.
  document.addEventListener("pointerdown", (event) => {
    if (details.open && !details.contains(event.target as Node)) details.open = false;
  });
  const outputs = { jumpThreshold: jump.output, confidenceThreshold: conf.output, pointSize: size.output, lineWidth: width.output };
  return {
    details,
    inputs: {
      labels, jumpThreshold: jump.input, confidenceThreshold: conf.input, pointSize: size.input, lineWidth: width.input, outputs,
      markers, allMarkers, gradient, trajectoryColor: trajectoryColor.el, thickness: thickness.el, fade: fade.el,
    },
  };
}

/** The row of display controls above the plot: colour, drag tool, zoom and brush, and the settings panel. */
function createControls() {
  const colorBy = select(SELECTS.colorBy);
  const tool = select(SELECTS.tool);
  const settings = createSettings();
  const resetButton = h("button", { type: "button", id: "projection-reset", title: "Fit all points" }, "Reset zoom");
  const clearButton = h("button", { type: "button", id: "projection-clear-brush", title: "Clear the brush (Esc)" }, "Clear brush");
  const row = h("div", { class: "projection-controls" }, colorBy.wrap, tool.wrap, resetButton, clearButton, settings.details);
  return {
    row,
    elements: { colorBy: colorBy.el, tool: tool.el, settings: settings.details, inputs: settings.inputs, resetButton, clearButton },
  };
}

/** Builds the view's elements into `parent`. */
export function createElements(parent: HTMLElement): ProjectionElements {
  addStyles("projection", CSS);
  const controls = createControls();
  const baseCanvas = h("canvas", { id: "projection-canvas", "data-testid": "projection-canvas" });
  const trailCanvas = h("canvas", { id: "projection-trails" });
  const litCanvas = h("canvas", { id: "projection-lit-points" });
  const overlayCanvas = h("canvas", { id: "projection-overlay" });
  const status = h("div", { class: "projection-status", id: "projection-status", role: "status", hidden: true });
  const area = h(
    "div",
    {
      class: "projection-area",
      id: "projection-area",
      tabindex: 0,
      "aria-label": "Projection of the hidden states: drag to pan, wheel to zoom, shift+drag to brush",
      "data-tool": "pan",
      "data-state": "empty",
      "data-animating": "false",
      "data-points": 0,
    },
    baseCanvas,
    trailCanvas,
    litCanvas,
    overlayCanvas,
    status,
  );
  const legend = h("div", { class: "projection-legend", id: "projection-legend" });
  // Which layout is shown and how it was made, or what is shown while the checkpoint's own computes.
  const layoutLine = h("div", { class: "projection-layout", id: "projection-layout", "data-testid": "projection-layout", role: "status", "data-kind": "none" });
  const linkNotice = h("div", { class: "projection-link-notice", id: "projection-link-notice", role: "status" });
  parent.appendChild(h("div", { class: "projection-view" }, controls.row, linkNotice, layoutLine, area, legend));
  return { ...controls.elements, area, baseCanvas, trailCanvas, litCanvas, overlayCanvas, status, legend, layoutLine, linkNotice };
}

/**
 * The colour menu: the built-in colourings, then "annotation: <name>" for each
 * track of the checkpoint (and the chosen one, marked, when this checkpoint
 * lacks it). Rewritten only when the list changes, so an open menu stays.
 */
function syncColorOptions(select: HTMLSelectElement, tracks: readonly AnnotationTrack[], colorBy: ColorBy): void {
  const choices: [string, string][] = SELECTS.colorBy.options.map(([value, text]) => [value, text]);
  for (const track of tracks) choices.push([annotationColorBy(track.name), `annotation: ${track.name}`]);
  const missing = annotationOfColorBy(colorBy);
  if (missing !== null && !tracks.some((t) => t.name === missing)) choices.push([colorBy, `annotation: ${missing} (not in this checkpoint)`]);
  const current = [...select.options];
  if (current.length === choices.length && current.every((o, i) => o.value === choices[i]?.[0] && o.text === choices[i]?.[1])) return;
  select.replaceChildren(...options(choices));
}

/** Shows a slider's value beside it (two decimals for thresholds, a multiplier's as ×). */
function showValue(output: HTMLOutputElement, name: SliderName, value: number): void {
  output.textContent = name === "pointSize" || name === "lineWidth" ? `${value}` : value.toFixed(2);
}

/** The controls as the store's display options and the view's tool say. */
export function syncControls(view: ProjectionView): void {
  const d = view.store.get().display;
  const el = view.el;
  const inputs = el.inputs;
  syncColorOptions(el.colorBy, view.store.get().data?.annotations ?? [], d.colorBy);
  el.colorBy.value = d.colorBy;
  for (const kind of LABEL_KINDS) inputs.labels[kind].checked = d.labels.includes(kind);
  for (const name of Object.keys(DISPLAY_RANGES) as SliderName[]) {
    // Not while the user drags it: the store has the value already.
    if (document.activeElement !== inputs[name]) inputs[name].value = String(d[name]);
    showValue(inputs.outputs[name], name, d[name]);
  }
  inputs.markers.checked = d.markers;
  inputs.allMarkers.checked = d.allMarkers;
  inputs.gradient.checked = d.timeGradient;
  inputs.gradient.disabled = d.trajectoryColor !== "class";
  inputs.trajectoryColor.value = d.trajectoryColor;
  inputs.thickness.value = d.thickness;
  inputs.fade.value = d.fade;
  el.tool.value = view.pointer.tool;
}

/** The controls write `state.display` (and the view's tool, zoom and brush). */
export function bindControls(view: ProjectionView): void {
  const { store, el } = view;
  const inputs = el.inputs;
  const setDisplay = (patch: Partial<DisplayOptions>) => store.set({ display: { ...store.get().display, ...patch } });
  el.colorBy.addEventListener("change", () => setDisplay({ colorBy: el.colorBy.value as ColorBy }));
  for (const kind of LABEL_KINDS) {
    inputs.labels[kind].addEventListener("change", () =>
      setDisplay({ labels: LABEL_KINDS.filter((k) => inputs.labels[k].checked) }));
  }
  for (const name of Object.keys(DISPLAY_RANGES) as SliderName[]) {
    // `input` fires while dragging: the view follows the slider.
    inputs[name].addEventListener("input", () => {
      const value = inputs[name].valueAsNumber;
      if (Number.isFinite(value)) setDisplay({ [name]: value });
    });
  }
  inputs.markers.addEventListener("change", () => setDisplay({ markers: inputs.markers.checked }));
  inputs.allMarkers.addEventListener("change", () => setDisplay({ allMarkers: inputs.allMarkers.checked }));
  inputs.gradient.addEventListener("change", () => setDisplay({ timeGradient: inputs.gradient.checked }));
  inputs.trajectoryColor.addEventListener("change", () =>
    setDisplay({ trajectoryColor: inputs.trajectoryColor.value as DisplayOptions["trajectoryColor"] }));
  inputs.thickness.addEventListener("change", () => setDisplay({ thickness: inputs.thickness.value as DisplayOptions["thickness"] }));
  inputs.fade.addEventListener("change", () => setDisplay({ fade: inputs.fade.value as DisplayOptions["fade"] }));
  el.tool.addEventListener("change", () => {
    view.pointer.tool = el.tool.value as Tool;
    el.area.dataset["tool"] = view.pointer.tool;
  });
  el.resetButton.addEventListener("click", () => {
    fit(view);
    view.invalidate(true, true, true);
  });
  el.clearButton.addEventListener("click", () => store.set({ brushed: null }));
}
