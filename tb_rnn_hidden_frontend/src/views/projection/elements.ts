/**
 * The projection view's elements: its display controls, the canvas area
 * (four stacked canvases and the status over them), the layout line, the
 * link notice and the legend; and the controls' bindings to `state.display`.
 * Ids and attributes are what the browser tests drive.
 */
import { annotationColorBy, annotationOfColorBy } from "../../domain/annotations";
import type { AnnotationTrack, ColorBy, DisplayOptions } from "../../domain/model";
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
.projection-view .projection-legend { display: flex; flex-wrap: wrap; gap: 2px 12px; font-size: 12px; color: var(--rh-fg); align-items: center; min-height: 18px; }
.projection-view .legend-item { display: inline-flex; align-items: center; gap: 4px; }
.projection-view .legend-swatch { width: 10px; height: 10px; border-radius: 50%; display: inline-block; }
.projection-view .legend-ramp { width: 90px; height: 10px; display: inline-block; border-radius: 2px; }
.projection-view .legend-note { color: var(--rh-muted); }
/* Three columns that scroll on their own: the plot takes the centre column's height that the
   controls and legend leave, so they stay in sight as LSTMVis' row opens and closes (down to
   the plot's least height: 1280x1024 with the row open fits). */
@media (min-width: 1101px) and (min-height: 561px) {
  .column-centre > #projection-panel { flex: 1 0 auto; display: flex; flex-direction: column; }
  .projection-view { flex: 1 1 auto; min-height: 0; }
  .projection-view .projection-area { flex: 1 1 0; height: auto; min-height: ${MIN_CANVAS_HEIGHT}px; }
}
`;

export interface ProjectionElements {
  colorBy: HTMLSelectElement;
  thickness: HTMLSelectElement;
  labels: HTMLSelectElement;
  fade: HTMLSelectElement;
  tool: HTMLSelectElement;
  gradient: HTMLInputElement;
  markers: HTMLInputElement;
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

/** The display selects: what each is, and its options as [value, text]. */
const SELECTS = {
  colorBy: { id: "projection-color-by", label: "Colour", title: "What the colour of a point shows",
    options: [["prediction", "predicted class"], ["label", "true class"], ["time", "time step"], ["correct", "correct at step"]] },
  thickness: { id: "projection-thickness", label: "Width", title: "Trajectory line width",
    options: [["constant", "constant"], ["time", "by time"], ["distance", "by step distance"]] },
  labels: { id: "projection-labels", label: "Labels", title: "Token labels on trajectories",
    options: [["none", "none"], ["changes", "prediction changes"], ["jumps", "large jumps"]] },
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

/** The row of display controls above the plot. */
function createControls() {
  const colorBy = select(SELECTS.colorBy);
  const thickness = select(SELECTS.thickness);
  const labels = select(SELECTS.labels);
  const fade = select(SELECTS.fade);
  const tool = select(SELECTS.tool);
  const gradient = h("input", { type: "checkbox", id: "projection-gradient" });
  const markers = h("input", { type: "checkbox", id: "projection-markers" });
  const resetButton = h("button", { type: "button", id: "projection-reset", title: "Fit all points" }, "Reset zoom");
  const clearButton = h("button", { type: "button", id: "projection-clear-brush", title: "Clear the brush (Esc)" }, "Clear brush");
  const row = h(
    "div",
    { class: "projection-controls" },
    colorBy.wrap,
    fade.wrap,
    h("label", { title: "Trajectories from light (start) to dark (end)" }, gradient, "time gradient"),
    thickness.wrap,
    h("label", { title: "Start (circle) and end (square) of each trajectory" }, markers, "markers"),
    labels.wrap,
    tool.wrap,
    resetButton,
    clearButton,
  );
  return {
    row,
    elements: { colorBy: colorBy.el, thickness: thickness.el, labels: labels.el, fade: fade.el, tool: tool.el, gradient, markers, resetButton, clearButton },
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

/** The controls as the store's display options and the view's tool say. */
export function syncControls(view: ProjectionView): void {
  const d = view.store.get().display;
  const el = view.el;
  syncColorOptions(el.colorBy, view.store.get().data?.annotations ?? [], d.colorBy);
  el.colorBy.value = d.colorBy;
  el.thickness.value = d.thickness;
  el.labels.value = d.labels;
  el.fade.value = d.fade;
  el.gradient.checked = d.timeGradient;
  el.markers.checked = d.markers;
  el.tool.value = view.pointer.tool;
}

/** The controls write `state.display` (and the view's tool, zoom and brush). */
export function bindControls(view: ProjectionView): void {
  const { store, el } = view;
  const setDisplay = (patch: Partial<DisplayOptions>) => store.set({ display: { ...store.get().display, ...patch } });
  el.colorBy.addEventListener("change", () => setDisplay({ colorBy: el.colorBy.value as ColorBy }));
  el.thickness.addEventListener("change", () => setDisplay({ thickness: el.thickness.value as DisplayOptions["thickness"] }));
  el.labels.addEventListener("change", () => setDisplay({ labels: el.labels.value as DisplayOptions["labels"] }));
  el.fade.addEventListener("change", () => setDisplay({ fade: el.fade.value as DisplayOptions["fade"] }));
  el.gradient.addEventListener("change", () => setDisplay({ timeGradient: el.gradient.checked }));
  el.markers.addEventListener("change", () => setDisplay({ markers: el.markers.checked }));
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
