/**
 * The projection view: every valid step of every sequence as a point of the
 * 2-D layout in `state.projection.coords`, trajectories of the selected
 * sequences, zoom/pan, box and lasso brushing, hover linking.
 *
 * Four stacked canvases so that frequent changes stay cheap at 100k points:
 * - base (points.ts): the points, written as pixels into one ImageData;
 *   redrawn on data, colour, brush, zoom/pan and animation;
 * - trails (trajectories.ts): trajectories, markers and labels of the
 *   selected sequences (a brush's capped, brush_line.ts says how many);
 * - lit (points.ts, with the base): the lit points (`state.lit`), ringed,
 *   above the trajectories, so that a few lit steps are never hidden;
 * - overlay (overlays.ts): the hovered point and the brush outline, redrawn
 *   on pointer moves.
 * Hit-testing and brushing use a uniform grid (projection_geometry.ts);
 * pointer input is interaction.ts, the move between layouts and the frame
 * loop animation.ts, the state they share context.ts.
 *
 * Which layout is drawn (layout_state.ts decides): the checkpoint's final
 * layout; its provisional one (its PCA) while the projection computes, then
 * the move to the final one; or, until either arrives, the layout already on
 * screen, of another checkpoint ("stale": drawn dimmed in that checkpoint's
 * own colours, with no hover, tooltip or brushing, so nothing mixes two
 * checkpoints) or of other parameters. A status line above the canvas says
 * which layout is shown, how it was made, and what is computing.
 *
 * For tests, the canvas area carries `data-transform` (JSON {k, tx, ty}: data
 * -> CSS px of the canvas, `sx = x*k + tx`, `sy = ty - y*k`), `data-points`
 * (points drawn), `data-highlighted` and `data-highlighted-hash` (the points
 * drawn ringed for the distance range: their number and the FNV-1a hash of
 * their indices in ascending order), `data-state` (empty, loading,
 * provisional, ready, failed) and `data-animating`, the trajectories drawn:
 * `data-trajectories` (their sequences, the focused one last),
 * `data-focus-labels` (the steps of the focused trajectory that carry a label),
 * `data-labels` (JSON [{step, kind, side}] of those labels: kind jump,
 * confidence or class, side after or before) and `data-markers-all` (the
 * sequences given markers by "markers of all sequences"),
 * and, as of the last frame drawn, `data-layout-kind` (final, provisional,
 * stale, none), `data-layout-step` (whose layout), `data-checkpoint-step`
 * (whose data is in the store) and `data-layout` (the final layout's
 * `rh_layout` code), `data-hover` (the point ringed as hovered, from any
 * view: in compare mode A's and B's ring the same point). Each change of those is marked `rh-layout-shown` (User
 * Timing, `detail` {kind, step, checkpoint, code}).
 */
import { panBy, zoomAt } from "../../domain/projection_geometry";
import type { AppState } from "../../state/app_state";
import type { Store } from "../../state/store";
import { readCanvasTheme } from "../../ui/theme";
import { hideTooltip } from "../../ui/tooltip";
import { adopt, decide, dropLayout, flush, invalidate } from "./animation";
import { fit, initialLayout, interactive, publishTransform, type ProjectionView } from "./context";
import { bindControls, createElements, syncControls } from "./elements";
import { bindPointer } from "./interaction";
import { createBrushLine } from "./brush_line";
import { createLitLine } from "./lit";
import { updateLegend, updateStatus } from "./overlays";
import { recolor } from "./points";
import { mountProjectionExport } from "../export/index";


/** Sizes the canvases to the area (keeping the view centred, and scaled with the area so what was in sight stays) and redraws. */
function resize(view: ProjectionView): void {
  const { area, baseCanvas, trailCanvas, litCanvas, overlayCanvas } = view.el;
  const camera = view.camera;
  const rect = area.getBoundingClientRect();
  const w = Math.max(1, Math.floor(rect.width));
  const hgt = Math.max(1, Math.floor(rect.height));
  const ratio = window.devicePixelRatio || 1;
  if (w === camera.width && hgt === camera.height && ratio === camera.dpr) return;
  if (camera.transform && camera.width > 0 && camera.height > 0) {
    // The plot's height follows its column (LSTMVis' row opening shrinks it).
    const factor = Math.min(w / camera.width, hgt / camera.height);
    camera.transform = zoomAt(panBy(camera.transform, (w - camera.width) / 2, (hgt - camera.height) / 2), w / 2, hgt / 2, factor);
    camera.fitScale *= factor;
    publishTransform(view);
  }
  camera.width = w;
  camera.height = hgt;
  camera.dpr = ratio;
  for (const canvas of [baseCanvas, trailCanvas, litCanvas, overlayCanvas]) {
    canvas.width = Math.round(w * ratio);
    canvas.height = Math.round(hgt * ratio);
    canvas.style.width = `${w}px`;
    canvas.style.height = `${hgt}px`;
  }
  view.raster.image = null;
  view.raster.litImage = null;
  if (camera.transform === null) fit(view);
  view.invalidate(true, true, true);
}

/** Which layers a store change dirties: [points, trajectories, overlay]. */
function changedLayers(state: Readonly<AppState>, previous: Readonly<AppState> | null): [boolean, boolean, boolean] {
  if (previous === null) return [false, false, true];
  let base = false;
  let trails = false;
  if (state.display !== previous.display || state.brushed !== previous.brushed || state.distanceRange !== previous.distanceRange) {
    base =
      state.display.colorBy !== previous.display.colorBy ||
      state.display.fade !== previous.display.fade ||
      state.display.brushOnly !== previous.display.brushOnly ||
      state.display.pointSize !== previous.display.pointSize ||
      state.brushed !== previous.brushed ||
      state.distanceRange !== previous.distanceRange;
    trails = true;
  }
  if (state.selected !== previous.selected || state.focus !== previous.focus) trails = true;
  if (state.lit !== previous.lit) base = trails = true;
  if (state.litTrajectories !== previous.litTrajectories) trails = true;
  return [base, trails, state.hover !== previous.hover];
}

/** Brings the view up to the store: the layout to draw, colours, status, legend, dirty layers. */
function render(view: ProjectionView, state: Readonly<AppState>, previous: Readonly<AppState> | null): void {
  const layout = view.layout;
  const dataChanged = state.data !== layout.data;
  layout.data = state.data;
  const before = layout.choice;
  const next = decide(view, state);
  if (next.source === null && before.source !== null) dropLayout(view);
  else if (next.source !== null && next.source.coords !== before.source?.coords) adopt(view, next.source, before.source);
  layout.choice = next;
  const nextPaint = next.kind === "stale" && next.staleOf === "checkpoint" ? layout.shownData : layout.data;
  let [base, trails, overlay] = changedLayers(state, previous);
  const repaint =
    dataChanged || nextPaint !== layout.paint || next.kind !== before.kind || next.staleOf !== before.staleOf || next.source?.coords !== before.source?.coords;
  if (repaint) {
    layout.paint = nextPaint;
    base = trails = overlay = true;
  }
  if (base) recolor(view);
  if (previous === null || state.display !== previous.display || dataChanged) syncControls(view);
  updateStatus(view);
  if (base || trails) updateLegend(view);
  if (state.hover !== view.pointer.ownHover && view.pointer.ownHover !== null) view.pointer.ownHover = null;
  if (!interactive(view) && view.pointer.ownHover !== null) hideTooltip();
  // Another checkpoint's trajectories, like its points, are drawn dimmed.
  view.el.trailCanvas.style.opacity = interactive(view) || next.kind === "none" ? "" : "0.45";
  if (base || trails || overlay) view.invalidate(base, trails, overlay);
}

const ID_ATTRIBUTES = ["id", "for", "aria-controls", "data-testid", "data-export-menu"] as const;

function suffixNode(node: Element, suffix: string): void {
  for (const attribute of ID_ATTRIBUTES) {
    const value = node.getAttribute(attribute);
    if (!value) continue;
    const ids = value.split(" ").map((id) => (id.endsWith(suffix) ? id : id + suffix)).join(" ");
    if (ids !== value) node.setAttribute(attribute, ids);
  }
}

/**
 * Every id in `root` (and the references to ids: `for`, `aria-controls`;
 * the names tests find it by: `data-testid`, `data-export-menu`) given `suffix`, now and as elements are added: compare
 * mode's B is this view mounted a second time (`-b`), so that ids stay
 * unique and tests can tell the sides.
 */
function keepIdsSuffixed(root: Element, suffix: string): void {
  const suffixTree = (node: Element) => {
    suffixNode(node, suffix);
    for (const child of node.querySelectorAll(ID_ATTRIBUTES.map((a) => `[${a}]`).join(", "))) suffixNode(child, suffix);
  };
  suffixTree(root);
  new MutationObserver((records) => {
    for (const record of records) for (const node of record.addedNodes) if (node instanceof Element) suffixTree(node);
  }).observe(root, { childList: true, subtree: true });
}

/** Mounts the view; `idSuffix` for a second one (compare mode's B, on B's store: state/side_store.ts). */
export function mountProjection(parent: HTMLElement, store: Store<AppState>, idSuffix = ""): void {
  const el = createElements(parent);
  const baseCtx = el.baseCanvas.getContext("2d");
  const trailCtx = el.trailCanvas.getContext("2d");
  const litCtx = el.litCanvas.getContext("2d");
  const overlayCtx = el.overlayCanvas.getContext("2d");
  if (!baseCtx || !trailCtx || !litCtx || !overlayCtx) {
    el.status.textContent = "This browser cannot draw on a canvas.";
    el.status.hidden = false;
    return;
  }
  const view: ProjectionView = {
    store,
    el,
    baseCtx,
    trailCtx,
    litCtx,
    overlayCtx,
    theme: readCanvasTheme(),
    layout: initialLayout(),
    camera: { width: 0, height: 0, dpr: 1, transform: null, fitScale: 1 },
    raster: { colors: new Uint32Array(0), layer: new Uint8Array(0), image: null, pixels: new Uint32Array(0), litImage: null, litPixels: new Uint32Array(0) },
    pointer: { tool: "pan", drag: null, ownHover: null, trailShift: [0, 0] },
    frame: { dirty: { base: false, trails: false, overlay: false }, requested: false, pendingFirstRender: null },
    published: { layout: "", notices: [] },
    invalidate: (base, trails, overlay) => invalidate(view, base, trails, overlay),
    flush: () => flush(view),
  };
  bindControls(view);
  const litLine = createLitLine(store);
  const brushLine = createBrushLine(view);
  // Above the plot, by the layout line: what is lit or brushed stays in sight even where the column must scroll.
  el.area.before(litLine.line, brushLine.line);
  store.subscribe((state, previous) => {
    render(view, state, previous);
    if (state.lit !== previous.lit || state.litTrajectories !== previous.litTrajectories) litLine.update();
    brushLine.update();
  });
  bindPointer(view);
  mountProjectionExport(view);
  // Last: the view's elements are in place (the lit and brush lines, the export menu); later ones follow.
  const root = parent.querySelector(":scope > .projection-view");
  if (idSuffix && root) keepIdsSuffixed(root, idSuffix);
  new MutationObserver(() => {
    view.theme = readCanvasTheme();
    recolor(view);
    view.invalidate(true, true, true);
  }).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme", "style", "class"] });
  new ResizeObserver(() => resize(view)).observe(el.area);
  resize(view);
  render(view, store.get(), null);
}
