/**
 * Which layout the view draws, the move from one layout to the next, and the
 * frame loop that redraws the dirty layers. Owns `view.layout` and
 * `view.frame`.
 *
 * User Timing: `rh-projection-draw` (one full redraw, points and
 * trajectories; `-points` and `-trails` for each) and
 * `rh-projection-first-render` (new coordinates seen in the store -> first
 * full draw of them done).
 */
import {
  chooseLayout,
  dataRequestKey,
  finalSource,
  provisionalSource,
  sameLengths,
  type LayoutChoice,
  type LayoutSource,
} from "../../domain/layout_state";
import type { ProjectionParams } from "../../domain/model";
import { buildGrid, easeInOut, lerpCoords, matchSpread } from "../../domain/projection_geometry";
import type { AppState } from "../../state/app_state";
import { fit, type ProjectionView } from "./context";
import { drawOverlay } from "./overlays";
import { drawPoints } from "./points";
import { redrawTrails } from "./trajectories";

/** Duration of the move between two checkpoints' layouts. */
export const ANIMATION_MS = 600;

/** Draws the dirty layers now. */
export function flush(view: ProjectionView): void {
  const frame = view.frame;
  const t0 = performance.now();
  const full = frame.dirty.base && frame.dirty.trails;
  if (frame.dirty.base) {
    drawPoints(view);
    performance.measure("rh-projection-draw-points", { start: t0, end: performance.now() });
  }
  const t1 = performance.now();
  if (frame.dirty.trails) {
    redrawTrails(view);
    performance.measure("rh-projection-draw-trails", { start: t1, end: performance.now() });
  }
  if (frame.dirty.overlay) drawOverlay(view);
  frame.dirty = { base: false, trails: false, overlay: false };
  if (full) {
    performance.measure("rh-projection-draw", { start: t0, end: performance.now() });
    if (frame.pendingFirstRender !== null && view.layout.drawn !== null && !view.layout.animating) {
      performance.measure("rh-projection-first-render", frame.pendingFirstRender);
      frame.pendingFirstRender = null;
    }
  }
}

function onFrame(view: ProjectionView, now: number): void {
  view.frame.requested = false;
  const layout = view.layout;
  if (layout.animating && layout.from && layout.target && layout.drawn) {
    const f = Math.min(1, (now - layout.animationStart) / ANIMATION_MS);
    lerpCoords(layout.from, layout.target, easeInOut(f), layout.drawn);
    view.frame.dirty = { base: true, trails: true, overlay: true };
    if (f >= 1) {
      layout.animating = false;
      layout.from = null;
      view.el.area.dataset["animating"] = "false";
    } else {
      requestFrame(view);
    }
  }
  flush(view);
}

function requestFrame(view: ProjectionView): void {
  if (view.frame.requested) return;
  view.frame.requested = true;
  requestAnimationFrame((now) => onFrame(view, now));
}

/** Marks layers to redraw at the next frame. */
export function invalidate(view: ProjectionView, base: boolean, trails: boolean, overlay: boolean): void {
  const dirty = view.frame.dirty;
  view.frame.dirty = { base: dirty.base || base, trails: dirty.trails || trails, overlay: dirty.overlay || overlay };
  requestFrame(view);
}

/** The layout for the store's checkpoint (layout_state.ts), given what is drawn now. */
export function decide(view: ProjectionView, state: Readonly<AppState>): LayoutChoice {
  const current = state.data;
  if (current === null) return { kind: "none", source: null, staleOf: null };
  const shownData = view.layout.shownData;
  return chooseLayout({
    checkpoint: current.key,
    wanted: dataRequestKey(state),
    final: finalSource(state.projection),
    provisional: provisionalSource(state.provisional),
    shown: view.layout.choice.source,
    sameProbe: shownData !== null && sameLengths(shownData.offsets, current.offsets),
  });
}

/** Two layouts of the same method and parameters (alignment aside) share a scale: the zoom is kept between them. */
function sameScale(a: ProjectionParams | null, b: ProjectionParams | null): boolean {
  return a !== null && b !== null && JSON.stringify({ ...a, align: "" }) === JSON.stringify({ ...b, align: "" });
}

/**
 * Starts drawing `source` (a final or provisional layout of the store's
 * checkpoint). From a layout of the same points the points move there: with
 * the zoom kept between layouts of the same parameters (checkpoints of one
 * chain); otherwise the old positions are first brought to the new layout's
 * spread and the view refits (a PCA and a t-SNE have unrelated scales).
 */
export function adopt(view: ProjectionView, source: LayoutSource, before: LayoutSource | null): void {
  const layout = view.layout;
  view.frame.pendingFirstRender = `rh-projection-coords-${performance.now()}`;
  performance.mark(view.frame.pendingFirstRender);
  const target = source.coords;
  layout.target = target;
  layout.grid = buildGrid(target);
  layout.shownData = layout.data;
  const keepZoom = before !== null && before.kind === "final" && source.kind === "final" && sameScale(before.params, source.params);
  if (layout.drawn !== null && layout.drawn.length === target.length) {
    layout.from = keepZoom ? layout.drawn.slice() : matchSpread(layout.drawn, target);
    layout.animationStart = performance.now();
    layout.animating = true;
    view.el.area.dataset["animating"] = "true";
    if (!keepZoom) fit(view);
  } else {
    layout.drawn = target.slice();
    layout.animating = false;
    fit(view);
  }
}

/** Nothing of the old layout applies (no checkpoint, or other points and nothing of this one yet). */
export function dropLayout(view: ProjectionView): void {
  const layout = view.layout;
  layout.drawn = null;
  layout.from = null;
  layout.target = null;
  layout.grid = null;
  layout.shownData = null;
  layout.animating = false;
  view.camera.transform = null;
  view.el.area.dataset["animating"] = "false";
}
