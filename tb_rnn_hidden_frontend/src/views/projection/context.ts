/**
 * The projection view's state, in one typed object shared by its modules
 * (elements, points, trajectories, overlays, interaction, animation). Each
 * group of fields has one owner that writes it; the others only read it:
 * - `layout` (animation.ts): which layout is drawn, and the coordinates on screen;
 * - `camera` (index.ts on resize, interaction.ts on pan/zoom): the view transform;
 * - `raster` (points.ts): per-point colours and layers, the ImageData;
 * - `pointer` (interaction.ts): the tool, the drag, the hover this view wrote;
 * - `frame` (animation.ts): the dirty layers and the pending frame;
 * - `published` (overlays.ts): what the status elements last showed.
 */
import type { LayoutChoice } from "../../domain/layout_state";
import type { CheckpointData } from "../../domain/model";
import { fitTransform, dataBounds, type PointGrid, type ViewTransform } from "../../domain/projection_geometry";
import type { AppState } from "../../state/app_state";
import type { Store } from "../../state/store";
import type { CanvasTheme } from "../../ui/theme";
import type { ProjectionElements } from "./elements";
import { rankBrushedSequences } from "../../domain/trajectory_labels";
import { litSequences } from "./lit";

/** At most this many trajectories are drawn (the focused one always). */
export const MAX_TRAJECTORIES = 200;

/**
 * At most this many trajectories of brushed sequences besides the focused
 * one: a box over a dense region brushes hundreds of sequences, whose
 * trajectories, even thin, cover the cloud they were brushed from; 40 thin
 * lines still show where the brushed steps come from and go to (the ones
 * with the most brushed steps, `rankBrushedSequences`), and leave the
 * points readable.
 */
export const MAX_BRUSH_TRAJECTORIES = 40;

export type Tool = "pan" | "box" | "lasso";

export type Drag =
  | { kind: "pan"; x: number; y: number; moved: boolean; startX: number; startY: number; pointerId: number }
  | { kind: "box" | "lasso"; x0: number; y0: number; x1: number; y1: number; path: number[]; pointerId: number };

export interface LayoutState {
  /** The store's checkpoint (the last data seen). */
  data: CheckpointData | null;
  /** What is drawn: the layout chosen for the store's checkpoint (layout_state.chooseLayout). */
  choice: LayoutChoice;
  /** The checkpoint whose layout `choice.source` is, as it was when that layout was adopted. */
  shownData: CheckpointData | null;
  /** The checkpoint the points are coloured, labelled and described by: the layout's own. */
  paint: CheckpointData | null;
  /** The layout being approached (`choice.source`'s coordinates). */
  target: Float32Array | null;
  /** What is drawn now (a copy; interpolated while animating). */
  drawn: Float32Array | null;
  from: Float32Array | null;
  animationStart: number;
  animating: boolean;
  grid: PointGrid | null;
}

export interface Camera {
  /** CSS px of the canvas area, and the device pixel ratio. */
  width: number;
  height: number;
  dpr: number;
  transform: ViewTransform | null;
  /** `transform.k` when the layout was last fitted (zoom is relative to it). */
  fitScale: number;
}

export interface Raster {
  colors: Uint32Array;
  /** Per point: 0 dimmed, 1 normal, 2 highlighted (distance range), 3 lit. */
  layer: Uint8Array;
  image: ImageData | null;
  pixels: Uint32Array;
  /** The lit points' own image (on the lit canvas), while any are drawn. */
  litImage: ImageData | null;
  litPixels: Uint32Array;
}

export interface PointerState {
  tool: Tool;
  drag: Drag | null;
  /** The hover this view wrote last (its tooltip is ours while it is the store's). */
  ownHover: number | null;
  /** How far the trails canvas is shifted by CSS while panning (it is redrawn when the pan ends). */
  trailShift: [number, number];
}

export interface FrameState {
  dirty: { base: boolean; trails: boolean; overlay: boolean };
  requested: boolean;
  /** The User Timing mark of coordinates not yet fully drawn (`rh-projection-first-render`). */
  pendingFirstRender: string | null;
}

export interface Published {
  /** The layout last published on the canvas area (`data-layout-*`), as JSON. */
  layout: string;
  /** The link notices shown. */
  notices: readonly string[];
}

export interface ProjectionView {
  readonly store: Store<AppState>;
  readonly el: ProjectionElements;
  readonly baseCtx: CanvasRenderingContext2D;
  readonly trailCtx: CanvasRenderingContext2D;
  readonly litCtx: CanvasRenderingContext2D;
  readonly overlayCtx: CanvasRenderingContext2D;
  theme: CanvasTheme;
  readonly layout: LayoutState;
  readonly camera: Camera;
  readonly raster: Raster;
  readonly pointer: PointerState;
  readonly frame: FrameState;
  readonly published: Published;
  /** Marks layers to redraw at the next frame (animation.ts). */
  invalidate(base: boolean, trails: boolean, overlay: boolean): void;
  /** Draws the dirty layers now (animation.ts). */
  flush(): void;
}

export function initialLayout(): LayoutState {
  return {
    data: null,
    choice: { kind: "none", source: null, staleOf: null },
    shownData: null,
    paint: null,
    target: null,
    drawn: null,
    from: null,
    animationStart: 0,
    animating: false,
    grid: null,
  };
}

/** The number of points of the checkpoint being painted. */
export function pointCount(view: ProjectionView): number {
  return view.layout.paint ? view.layout.paint.pointSequence.length : 0;
}

/**
 * Whether pointing at the plot may describe or select points: not while it
 * shows another checkpoint's layout (its positions are not this one's).
 */
export function interactive(view: ProjectionView): boolean {
  const { choice } = view.layout;
  return choice.kind !== "none" && !(choice.kind === "stale" && choice.staleOf === "checkpoint");
}

/** A point's radius in device px: smaller for many points, larger when zoomed in. */
export function pointRadius(view: ProjectionView): number {
  const n = pointCount(view);
  const base = n < 2_000 ? 3 : n < 20_000 ? 2 : 1.3;
  const { transform, fitScale, dpr } = view.camera;
  const zoom = transform ? Math.min(3, Math.max(1, Math.pow(transform.k / fitScale, 0.35))) : 1;
  return Math.max(1, Math.round(base * zoom * dpr * view.store.get().display.pointSize));
}

/** The brushed sequences, most brushed steps first, of the brush the ranking was made for. */
const brushRanks = new WeakMap<Int32Array, number[]>();

/** The brushed sequences of the store's brush (most brushed steps first), or null without a brush on this checkpoint. */
export function brushedSequences(view: ProjectionView): number[] | null {
  const state = view.store.get();
  const data = view.layout.paint;
  if (state.brushed === null || data === null || data !== state.data || !interactive(view)) return null;
  let ranked = brushRanks.get(state.brushed);
  if (ranked === undefined) {
    ranked = rankBrushedSequences(state.brushed, data.pointSequence);
    brushRanks.set(state.brushed, ranked);
  }
  return ranked;
}

/**
 * The sequences whose trajectories are drawn, the focused one last (on top):
 * the selected and lit ones; after a brush, of the brushed sequences the
 * MAX_BRUSH_TRAJECTORIES with the most brushed steps (and none with "only
 * brushed steps").
 */
export function trajectorySequences(view: ProjectionView): number[] {
  const state = view.store.get();
  const data = view.layout.paint;
  if (!data) return [];
  const n = data.meta.num_sequences;
  const brushed = brushedSequences(view);
  if (brushed !== null && state.display.brushOnly) return [];
  let selected: readonly number[] = state.selected;
  if (brushed !== null) {
    const chosen = new Set(state.selected);
    const inBrush = new Set(brushed);
    const kept = brushed.filter((s) => chosen.has(s) && s !== state.focus).slice(0, MAX_BRUSH_TRAJECTORIES);
    selected = [...state.selected.filter((s) => !inBrush.has(s)), ...kept.sort((a, b) => a - b)];
  }
  const wanted = [...new Set([...selected, ...litSequences(state)])];
  const chosen = wanted.filter((s) => s >= 0 && s < n && s !== state.focus).slice(0, MAX_TRAJECTORIES - 1);
  if (state.focus !== null && state.focus >= 0 && state.focus < n) chosen.push(state.focus);
  return chosen;
}

/** After a brush: how many of the brushed sequences have trajectories drawn, of how many; null without a brush. */
export function brushTrajectoryCount(view: ProjectionView): { drawn: number; sequences: number } | null {
  const brushed = brushedSequences(view);
  if (brushed === null) return null;
  const inBrush = new Set(brushed);
  return { drawn: trajectorySequences(view).filter((s) => inBrush.has(s)).length, sequences: brushed.length };
}

/** `data-transform` on the canvas area, for tests. */
export function publishTransform(view: ProjectionView): void {
  view.el.area.dataset["transform"] = view.camera.transform ? JSON.stringify(view.camera.transform) : "";
}

/** Fits the layout being approached (or drawn) into the canvas area. */
export function fit(view: ProjectionView): void {
  const { drawn, target } = view.layout;
  const camera = view.camera;
  if (!drawn || camera.width <= 1) return;
  camera.transform = fitTransform(dataBounds(target ?? drawn), camera.width, camera.height, 20);
  camera.fitScale = camera.transform.k;
  publishTransform(view);
}
