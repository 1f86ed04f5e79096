/**
 * The points layer: every point written as pixels into one ImageData (no
 * per-point canvas calls), coloured by `display.colorBy` (a class, time,
 * correctness or an annotation track), dimmed by the fade
 * option, the brush and the distance range, ringed when in that range.
 * The lit points go into a second image on the lit canvas, above the
 * trajectories. Owns `view.raster`.
 */
import { annotationOfColorBy, trackOfColorBy, trackPosition } from "../../domain/annotations";
import type { AnnotationTrack, CheckpointData, ColorBy, DisplayOptions } from "../../domain/model";
import { categoryRgb } from "../../ui/annotation_cells";
import { pointsInDistanceRange } from "../../domain/projection_geometry";
import {
  CLASS_PALETTE,
  CORRECT_COLOR,
  WRONG_COLOR,
  hexToRgb,
  mix,
  packRgb,
  parseColor,
  predictionLightness,
  sequentialColor,
  type Rgb,
} from "../../ui/colors";
import { interactive, pointCount, pointRadius, type ProjectionView } from "./context";
import { litMask } from "./lit";
import { publishLayout } from "./overlays";

/**
 * FNV-1a over 32-bit values (one round per point index, ascending), as
 * `data-highlighted-hash` publishes the ringed points.
 */
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

const GREY: Rgb = [158, 158, 158];

/** A class index to its palette colour (grey when unknown). */
function classPalette(): (c: number | null | undefined) => Rgb {
  const palette = CLASS_PALETTE.map(hexToRgb);
  return (c) => (c === undefined || c === null || c < 0 ? GREY : (palette[c % palette.length] ?? GREY));
}

/** Per-point colour of an annotation track: the category's hue, or the viridis ramp from its min to max. */
function trackColorFn(track: AnnotationTrack): (p: number) => Rgb {
  if (track.kind === "categorical") {
    const palette = track.categories.map((_, c) => categoryRgb(c));
    return (p) => palette[trackPosition(track, p)] ?? GREY;
  }
  const ramp = Array.from({ length: 256 }, (_, i) => parseColor(sequentialColor(i / 255), GREY));
  return (p) => {
    const t = trackPosition(track, p);
    return Number.isNaN(t) ? GREY : (ramp[Math.round(t * 255)] ?? GREY);
  };
}

/** Per-point base colour ([r,g,b]) for the colouring `colorBy` (an annotation the checkpoint lacks: by prediction). */
function pointColorFn(data: CheckpointData, colorBy: ColorBy, bg: Rgb): (p: number) => Rgb {
  const track = trackOfColorBy(colorBy, data.annotations);
  if (track !== null) return trackColorFn(track);
  const labels = data.meta.labels;
  if (colorBy === "prediction" || annotationOfColorBy(colorBy) !== null) {
    const color = classPalette();
    return (p) => color(data.pointPrediction[p] ?? -1);
  }
  if (colorBy === "confidence") {
    const classes = data.classNames.length;
    return (p) => predictionLightness(data.pointPrediction[p] ?? -1, data.pointConfidence[p] ?? 0, classes, bg);
  }
  if (colorBy === "label") {
    const color = classPalette();
    return (p) => color(labels?.[data.pointSequence[p] ?? 0]);
  }
  if (colorBy === "time") {
    const ramp = Array.from({ length: 256 }, (_, i) => parseColor(sequentialColor(i / 255), GREY));
    const last = Math.max(1, data.meta.max_length - 1);
    return (p) => ramp[Math.round(((data.pointStep[p] ?? 0) / last) * 255)] ?? GREY;
  }
  const right = hexToRgb(CORRECT_COLOR);
  const wrong = hexToRgb(WRONG_COLOR);
  return (p) => {
    const c = labels?.[data.pointSequence[p] ?? 0];
    const predicted = data.pointPrediction[p] ?? -1;
    if (c === undefined || c === null || predicted < 0) return GREY;
    return predicted === c ? right : wrong;
  };
}

/** Sequences dimmed by the `fade` option (1 = faded). */
function fadedSequences(data: CheckpointData, fade: DisplayOptions["fade"]): Uint8Array | null {
  const { labels, predictions } = data.meta;
  if (fade === "none" || !labels || !predictions) return null;
  const n = data.meta.num_sequences;
  const out = new Uint8Array(n);
  for (let s = 0; s < n; s++) {
    const correct = labels[s] === predictions[s];
    out[s] = (fade === "correct") === correct ? 1 : 0;
  }
  return out;
}

/** 1 for each of `points` in [0, n), or null without points. */
function maskOf(points: Int32Array | null, n: number): Uint8Array | null {
  if (points === null) return null;
  const mask = new Uint8Array(n);
  for (const p of points) if (p >= 0 && p < n) mask[p] = 1;
  return mask;
}

/** Recomputes every point's colour and layer from the store's display options and links. */
export function recolor(view: ProjectionView): void {
  const state = view.store.get();
  const n = pointCount(view);
  const data = view.layout.paint;
  const raster = view.raster;
  if (!data || n === 0) {
    raster.colors = new Uint32Array(0);
    raster.layer = new Uint8Array(0);
    return;
  }
  const colorOf = pointColorFn(data, state.display.colorBy, view.theme.bg);
  const faded = fadedSequences(data, state.display.fade);
  // Another checkpoint's layout: its own colours, dimmed, and nothing of this checkpoint's links.
  const stale = !interactive(view);
  const brushMask = maskOf(stale ? null : state.brushed, n);
  const range = stale ? null : state.distanceRange;
  const rangeMask =
    range !== null ? pointsInDistanceRange(data.pointSequence, data.pointStep, data.distances, range[0], range[1]) : null;
  const lit = litMask(view, n);
  raster.colors = new Uint32Array(n);
  raster.layer = new Uint8Array(n);
  const bg = view.theme.bg;
  // "Only brushed steps": the others nearly gone, not just dimmed.
  const brushFade = brushMask !== null && state.display.brushOnly ? 0.94 : 0.82;
  for (let p = 0; p < n; p++) {
    const c = colorOf(p);
    if (lit !== null) {
      // Lit points on top, ringed; the others faded whatever else dims them.
      raster.colors[p] = packRgb(lit[p] === 1 ? c : mix(c, bg, 0.85));
      raster.layer[p] = lit[p] === 1 ? 3 : 0;
      continue;
    }
    const unbrushed = brushMask !== null && brushMask[p] === 0;
    const dim =
      (faded !== null && faded[data.pointSequence[p] ?? 0] === 1) ||
      unbrushed ||
      (rangeMask !== null && rangeMask[p] === 0);
    raster.colors[p] = packRgb(dim ? mix(c, bg, unbrushed ? brushFade : 0.82) : stale ? mix(c, bg, 0.6) : c);
    raster.layer[p] = dim ? 0 : rangeMask !== null ? 2 : 1;
  }
}

/** A disc of radius `rad` as pixel offsets from its centre, in an image `width` px wide. */
function stencil(rad: number, width: number): Int32Array {
  const offs: number[] = [];
  for (let dy = -rad; dy <= rad; dy++) {
    for (let dx = -rad; dx <= rad; dx++) if (dx * dx + dy * dy <= rad * rad + rad) offs.push(dy * width + dx);
  }
  return Int32Array.from(offs);
}

/** Writes a disc into `pixels` (W x H); discs that cross the edge are clipped. */
function plot(pixels: Uint32Array, W: number, H: number, cx: number, cy: number, rad: number, offs: Int32Array, color: number): void {
  if (cx >= rad && cy >= rad && cx < W - rad && cy < H - rad) {
    const centre = cy * W + cx;
    for (let j = 0; j < offs.length; j++) pixels[centre + (offs[j] as number)] = color;
    return;
  }
  const y0 = Math.max(0, cy - rad);
  const y1 = Math.min(H - 1, cy + rad);
  const x0 = Math.max(0, cx - rad);
  const x1 = Math.min(W - 1, cx + rad);
  const rad2 = rad * rad + rad;
  for (let y = y0; y <= y1; y++) {
    const dy = y - cy;
    for (let x = x0; x <= x1; x++) {
      const dx = x - cx;
      if (dx * dx + dy * dy <= rad2) pixels[y * W + x] = color;
    }
  }
}

/** Plots the points into the raster's pixels; returns how many were drawn, how many ringed and their hash. */
function plotPoints(view: ProjectionView, coords: Float32Array, W: number, H: number): { count: number; ringed: number; hash: number; lit: number } {
  const { transform, dpr } = view.camera;
  const { colors, layer, pixels, litPixels } = view.raster;
  const result = { count: 0, ringed: 0, hash: FNV_OFFSET, lit: 0 };
  if (transform === null) return result;
  const k = transform.k * dpr;
  const tx = transform.tx * dpr;
  const ty = transform.ty * dpr;
  const r = pointRadius(view);
  const ring = packRgb(view.theme.highlightRgb);
  const litRing = packRgb(view.theme.fgRgb);
  const n = pointCount(view);
  const disc = stencil(r, W);
  const ringDisc = stencil(r + 1, W);
  // Dimmed points first, then the others, then the ringed ones; the lit ones into their own image.
  let passes = 0;
  for (let p = 0; p < n; p++) passes |= 1 << (layer[p] as number);
  for (let pass = 0; pass <= 3; pass++) {
    if ((passes & (1 << pass)) === 0) continue;
    const target = pass === 3 ? litPixels : pixels;
    for (let p = 0; p < n; p++) {
      if (layer[p] !== pass) continue;
      const cx = Math.round((coords[2 * p] as number) * k + tx);
      const cy = Math.round(ty - (coords[2 * p + 1] as number) * k);
      if (!(cx >= -r && cy >= -r && cx < W + r && cy < H + r)) continue;
      if (pass === 2) {
        plot(pixels, W, H, cx, cy, r + 1, ringDisc, ring);
        result.ringed++;
        result.hash = Math.imul(result.hash ^ p, FNV_PRIME) >>> 0;
      }
      if (pass === 3) {
        plot(target, W, H, cx, cy, r + 1, ringDisc, litRing);
        result.lit++;
      }
      plot(target, W, H, cx, cy, r, disc, colors[p] as number);
      result.count++;
    }
  }
  return result;
}

/** `image` cleared, or a new W x H one when it is not that size; with its pixels as 32-bit words. */
function clearedImage(
  ctx: CanvasRenderingContext2D, image: ImageData | null, pixels: Uint32Array, W: number, H: number,
): [ImageData, Uint32Array] {
  if (image === null || image.width !== W || image.height !== H) {
    const fresh = ctx.createImageData(W, H);
    return [fresh, new Uint32Array(fresh.data.buffer)];
  }
  pixels.fill(0);
  return [image, pixels];
}

/** The lit canvas' image, cleared (allocated at the canvas' size when it is not). */
function prepareLitImage(view: ProjectionView, W: number, H: number): ImageData {
  const raster = view.raster;
  const [image, pixels] = clearedImage(view.litCtx, raster.litImage, raster.litPixels, W, H);
  raster.litImage = image;
  raster.litPixels = pixels;
  return image;
}

/** Redraws the points layer, and publishes what it drew (`data-points`, `data-highlighted*`). */
export function drawPoints(view: ProjectionView): void {
  const canvas = view.el.baseCanvas;
  const W = canvas.width;
  const H = canvas.height;
  const raster = view.raster;
  const [image, pixels] = clearedImage(view.baseCtx, raster.image, raster.pixels, W, H);
  raster.image = image;
  raster.pixels = pixels;
  const { drawn, paint } = view.layout;
  const drawable = drawn !== null && view.camera.transform !== null && paint !== null && raster.colors.length === pointCount(view);
  const litImage = drawable && raster.layer.includes(3) ? prepareLitImage(view, W, H) : null;
  const { count, ringed, hash, lit } = drawable ? plotPoints(view, drawn, W, H) : { count: 0, ringed: 0, hash: FNV_OFFSET, lit: 0 };
  view.baseCtx.putImageData(raster.image, 0, 0);
  if (litImage !== null) view.litCtx.putImageData(litImage, 0, 0);
  else view.litCtx.clearRect(0, 0, W, H);
  publishLayout(view);
  const area = view.el.area;
  area.dataset["points"] = String(count);
  // What is ringed (the distance range), for tests: how many, and a hash of their indices.
  area.dataset["highlighted"] = String(ringed);
  area.dataset["highlightedHash"] = ringed > 0 ? hash.toString(16) : "";
  area.dataset["lit"] = String(lit);
}
