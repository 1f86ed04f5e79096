/**
 * The trajectories layer: the drawn sequences' paths through the layout (the
 * focused one on top, wider, with a halo), their start and end markers, the
 * markers of every sequence (an option), and the paper's labels (after /
 * before distance jumps, confidence changes and class changes).
 *
 * `drawTrajectories(view, ctx)` draws into any 2-D context in CSS px (the
 * trails canvas, or an SVG-recording context for export) with paths of
 * beginPath/moveTo/lineTo/arc/rect only, and publishes on the canvas area
 * `data-trajectories` (the sequences, focused last), `data-focus-labels`
 * (the labelled steps of the focused trajectory), `data-labels` (JSON
 * [{step, kind, side}] of the focused trajectory: kind jump, confidence or
 * class; side after or before) and `data-markers-all` (sequences given
 * markers by "markers of all sequences").
 */
import { confidenceChanges } from "../../domain/confidence";
import type { CheckpointData, DisplayOptions } from "../../domain/model";
import { labelEvents, type LabelEvent, type LabelSide, type LabelSource } from "../../domain/trajectory_labels";
import {
  LABEL_AFTER_COLOR,
  LABEL_AFTER_COLOR_DARK,
  LABEL_BEFORE_COLOR,
  LABEL_BEFORE_COLOR_DARK,
  classColor,
  hexToRgb,
  mix,
  predictionLightness,
  rgbCss,
  type Rgb,
} from "../../ui/colors";
import type { CanvasTheme } from "../../ui/theme";
import { brushedSequences, trajectorySequences, type ProjectionView } from "./context";

/**
 * Above this many trajectories, the ones not focused are drawn as thin lines
 * (at most one device pixel wide, times the line-width option, no halo): the
 * canvas rasterises wide, self-overlapping strokes slowly (hundreds of ms
 * for 200 trajectories of 100 steps in software rendering), thin ones in a
 * few ms. A brush's trajectories are thin however few.
 */
export const THIN_TRAJECTORIES_ABOVE = 16;
/** Colour levels of the time gradient (batches share a level). */
const GRADIENT_LEVELS = 12;
/** Confidence levels of the prediction colouring (batches share a level). */
const CONFIDENCE_LEVELS = 20;
/** Labels drawn at most besides the focused trajectory's. */
const MAX_OTHER_LABELS = 60;

interface Marker { x0: number; y0: number; x1: number; y1: number; start: string; end: string; r: number }
interface Label { x: number; y: number; text: string; side: LabelSide }

/** One trajectory's points [a, b) of sequence s, and how it is drawn. */
interface Trajectory {
  s: number;
  a: number;
  b: number;
  isFocus: boolean;
  classIndex: number;
  base: Rgb;
  start: Rgb;
  end: Rgb;
}

/** Where a trajectory's points go on screen (CSS px). */
interface Screen {
  x(p: number): number;
  y(p: number): number;
}

/** The line width of the segment arriving at point p (`step` of the sequence), before rounding. */
function segmentWidth(display: DisplayOptions, t: Trajectory, thin: boolean, step: number, distance: number, dpr: number): number {
  const len = t.b - t.a;
  if (thin && !t.isFocus) {
    // Width still shows time or distance, within one device pixel (times the option).
    if (display.thickness === "time") return ((0.35 + 0.65 * (step / Math.max(1, len - 1))) / dpr) * display.lineWidth;
    if (display.thickness === "distance") return ((0.35 + 0.65 * Math.min(1, distance)) / dpr) * display.lineWidth;
    return display.lineWidth / dpr;
  }
  const extra = t.isFocus ? 1 : 0;
  if (display.thickness === "time") return (0.75 + 3.25 * (step / Math.max(1, len - 1))) * display.lineWidth + extra;
  if (display.thickness === "distance") return (0.75 + 5 * distance) * display.lineWidth + extra;
  return 1.75 * display.lineWidth + extra;
}

/**
 * Non-focused trajectories, batched: one path per (colour, width), so
 * hundreds of trajectories cost a few hundred strokes; and their common
 * halo. Segments are kept as coordinates and stroked with plain path calls,
 * which any 2-D context (an SVG recorder too) understands.
 */
class Batches {
  readonly halo: number[] = [];
  private readonly batches = new Map<string, { segments: number[]; color: string; width: number }>();
  private stroked = false;

  add(key: string, color: () => string, width: number, x0: number, y0: number, x1: number, y1: number): void {
    let batch = this.batches.get(key);
    if (batch === undefined) {
      batch = { segments: [], color: color(), width };
      this.batches.set(key, batch);
    }
    batch.segments.push(x0, y0, x1, y1);
  }

  /**
   * The halo, then the batches (in source-over order: "destination-over"
   * compositing made the rasterising several times slower); once.
   */
  stroke(ctx: CanvasRenderingContext2D, halo: { color: string; width: number } | null, alpha: number): void {
    if (this.stroked) return;
    this.stroked = true;
    ctx.save();
    if (halo !== null && this.halo.length > 0) {
      ctx.lineCap = "round";
      strokeSegments(ctx, this.halo, halo.color, halo.width);
      ctx.lineCap = "butt";
    }
    ctx.globalAlpha = alpha;
    for (const batch of this.batches.values()) strokeSegments(ctx, batch.segments, batch.color, batch.width);
    ctx.restore();
  }
}

/** Strokes segments given as x0, y0, x1, y1 quadruples, as one path. */
function strokeSegments(ctx: CanvasRenderingContext2D, segments: readonly number[], color: string, width: number): void {
  ctx.beginPath();
  for (let i = 0; i + 3 < segments.length; i += 4) {
    ctx.moveTo(segments[i] as number, segments[i + 1] as number);
    ctx.lineTo(segments[i + 2] as number, segments[i + 3] as number);
  }
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  ctx.stroke();
}

function drawMarkers(ctx: CanvasRenderingContext2D, markers: readonly Marker[], theme: CanvasTheme): void {
  ctx.lineWidth = 1.5;
  for (const m of markers) {
    ctx.beginPath();
    ctx.arc(m.x0, m.y0, m.r, 0, 2 * Math.PI);
    ctx.fillStyle = theme.bgCss;
    ctx.fill();
    ctx.strokeStyle = m.start;
    ctx.stroke();
    ctx.beginPath();
    ctx.rect(m.x1 - m.r, m.y1 - m.r, 2 * m.r, 2 * m.r);
    ctx.fillStyle = m.end;
    ctx.fill();
    ctx.strokeStyle = theme.bgCss;
    ctx.stroke();
  }
}

/**
 * The start (ring) and end (square) of every sequence, in its class's colour
 * (true class, else final prediction), outlined in the foreground colour so
 * that they stand out from the points of the same class; one path per class
 * and kind. Returns how many sequences got them.
 */
function drawAllMarkers(ctx: CanvasRenderingContext2D, data: CheckpointData, at: Screen, display: DisplayOptions, theme: CanvasTheme): number {
  const n = data.meta.num_sequences;
  const r = 3 * display.pointSize;
  const byClass = new Map<number, number[]>();
  let count = 0;
  for (let s = 0; s < n; s++) {
    const a = data.offsets[s] as number;
    const b = data.offsets[s + 1] as number;
    if (b <= a) continue;
    const c = data.meta.labels?.[s] ?? data.meta.predictions?.[s] ?? -1;
    let list = byClass.get(c);
    if (list === undefined) byClass.set(c, (list = []));
    list.push(at.x(a), at.y(a), at.x(b - 1), at.y(b - 1));
    count++;
  }
  ctx.save();
  for (const [c, list] of byClass) {
    const color = classColor(c);
    ctx.beginPath();
    for (let i = 0; i < list.length; i += 4) {
      ctx.moveTo((list[i] as number) + r, list[i + 1] as number);
      ctx.arc(list[i] as number, list[i + 1] as number, r, 0, 2 * Math.PI);
    }
    ctx.lineWidth = 3;
    ctx.strokeStyle = theme.fg;
    ctx.stroke();
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = color;
    ctx.stroke();
    ctx.beginPath();
    for (let i = 0; i < list.length; i += 4) ctx.rect((list[i + 2] as number) - r, (list[i + 3] as number) - r, 2 * r, 2 * r);
    ctx.fillStyle = color;
    ctx.fill();
    ctx.lineWidth = 1;
    ctx.strokeStyle = theme.fg;
    ctx.stroke();
  }
  ctx.restore();
  return count;
}

/** Labels "after" a change above the point in purple, "before" one below it in green (the paper's colours). */
function drawLabels(ctx: CanvasRenderingContext2D, labels: readonly Label[], theme: CanvasTheme): void {
  if (labels.length === 0) return;
  ctx.save();
  ctx.font = "11px Roboto, 'Helvetica Neue', Arial, sans-serif";
  ctx.lineWidth = 3;
  ctx.strokeStyle = theme.bgCss;
  const dark = theme.fgRgb[0] + theme.fgRgb[1] + theme.fgRgb[2] > 3 * 128;
  const [afterColor, beforeColor] = dark ? [LABEL_AFTER_COLOR_DARK, LABEL_BEFORE_COLOR_DARK] : [LABEL_AFTER_COLOR, LABEL_BEFORE_COLOR];
  for (const job of labels) {
    const after = job.side === "after";
    ctx.textBaseline = after ? "bottom" : "top";
    ctx.fillStyle = after ? afterColor : beforeColor;
    const y = after ? job.y - 3 : job.y + 3;
    ctx.strokeText(job.text, job.x + 4, y);
    ctx.fillText(job.text, job.x + 4, y);
  }
  ctx.restore();
}

/** Clears the trails canvas (and any shift of it left by a pan). */
function clearTrails(view: ProjectionView): void {
  const { trailCtx: ctx, el, pointer } = view;
  if (pointer.trailShift[0] !== 0 || pointer.trailShift[1] !== 0) {
    pointer.trailShift = [0, 0];
    el.trailCanvas.style.transform = "";
  }
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, el.trailCanvas.width, el.trailCanvas.height);
}

/** Redraws the trails canvas. */
export function redrawTrails(view: ProjectionView): void {
  clearTrails(view);
  const dpr = view.camera.dpr;
  view.trailCtx.setTransform(dpr, 0, 0, dpr, 0, 0);
  drawTrajectories(view, view.trailCtx);
}

/** Publishes what the trajectories layer shows, for tests. */
function publish(view: ProjectionView, sequences: readonly number[], focusEvents: readonly LabelEvent[], allMarkers: number): void {
  const dataset = view.el.area.dataset;
  dataset["trajectories"] = sequences.join(",");
  dataset["focusLabels"] = [...new Set(focusEvents.map((e) => e.step))].join(",");
  dataset["labels"] = JSON.stringify(focusEvents);
  dataset["markersAll"] = String(allMarkers);
}

/**
 * Draws the trajectories, markers and labels of the view into `ctx`, in CSS
 * px of the canvas area (the caller sets any device-pixel scale).
 */
export function drawTrajectories(view: ProjectionView, ctx: CanvasRenderingContext2D): void {
  const data = view.layout.paint;
  const coords = view.layout.drawn;
  const t = view.camera.transform;
  if (!data || !coords || !t) {
    publish(view, [], [], 0);
    return;
  }
  const display = view.store.get().display;
  const at: Screen = {
    x: (p) => (coords[2 * p] as number) * t.k + t.tx,
    y: (p) => t.ty - (coords[2 * p + 1] as number) * t.k,
  };
  const allMarkers = display.allMarkers ? drawAllMarkers(ctx, data, at, display, view.theme) : 0;
  const sequences = trajectorySequences(view);
  const { markers, labels, focusEvents } = drawPaths(view, ctx, data, at, sequences);
  drawMarkers(ctx, markers, view.theme);
  drawLabels(ctx, labels, view.theme);
  publish(view, sequences, focusEvents, allMarkers);
}

/** The trajectories' strokes; returns their markers and labels (drawn above all of them) and the focused one's label events. */
function drawPaths(
  view: ProjectionView, ctx: CanvasRenderingContext2D, data: CheckpointData, at: Screen, sequences: readonly number[],
): { markers: Marker[]; labels: Label[]; focusEvents: LabelEvent[] } {
  const { theme } = view;
  const state = view.store.get();
  const display = state.display;
  const dpr = view.camera.dpr;
  const darkTheme = theme.fgRgb[0] + theme.fgRgb[1] + theme.fgRgb[2] > 3 * 128;
  const labelAll = sequences.length <= 5;
  const thin = sequences.length > THIN_TRAJECTORIES_ABOVE || brushedSequences(view) !== null;
  const haloWidth = (display.thickness === "constant" ? 1.75 : 4) * display.lineWidth + 2;
  const batches = new Batches();
  const strokeBatches = () =>
    batches.stroke(ctx, thin ? null : { color: rgbCss(theme.bg, 0.85), width: haloWidth }, sequences.length < 10 ? 1 : 0.75);
  const byPrediction = display.trajectoryColor === "prediction";
  const classes = data.classNames.length;
  const source: LabelSource = { ...data, changes: confidenceChanges(data) };
  const markers: Marker[] = [];
  const labels: Label[] = [];
  const focusLabels: Label[] = [];
  let focusEvents: LabelEvent[] = [];
  for (const s of sequences) {
    const a = data.offsets[s] as number;
    const b = data.offsets[s + 1] as number;
    if (b - a <= 0) continue;
    const classIndex = data.meta.labels?.[s] ?? data.meta.predictions?.[s] ?? -1;
    const base = hexToRgb(classColor(classIndex));
    const traj: Trajectory = {
      s, a, b, classIndex, base,
      isFocus: s === state.focus,
      end: darkTheme ? mix(base, [255, 255, 255], 0.35) : mix(base, [0, 0, 0], 0.35),
      start: mix(base, theme.bg, 0.7),
    };
    /** The colour of the segment arriving at p, and its batch key. */
    const segmentColor = (p: number, step: number): [string, () => Rgb] => {
      if (byPrediction) {
        const c = data.pointPrediction[p] ?? -1;
        const level = Math.round((data.pointConfidence[p] ?? 0) * CONFIDENCE_LEVELS) / CONFIDENCE_LEVELS;
        return [`p${c}|${level}`, () => predictionLightness(c, level, classes, theme.bg)];
      }
      const l = display.timeGradient ? Math.round((step / Math.max(1, b - a - 1)) * (GRADIENT_LEVELS - 1)) : -1;
      return [`${classIndex}|${l}`, () => (l < 0 ? base : mix(traj.start, traj.end, l / (GRADIENT_LEVELS - 1)))];
    };
    if (traj.isFocus) {
      strokeBatches(); // the others (before it in `sequences`) go under it
      ctx.beginPath();
      ctx.moveTo(at.x(a), at.y(a));
      for (let p = a + 1; p < b; p++) ctx.lineTo(at.x(p), at.y(p));
      ctx.strokeStyle = rgbCss(theme.bg, 0.9);
      ctx.lineWidth = haloWidth + 2;
      ctx.stroke();
    } else if (!thin) {
      for (let p = a + 1; p < b; p++) batches.halo.push(at.x(p - 1), at.y(p - 1), at.x(p), at.y(p));
    }
    for (let p = a + 1; p < b; p++) {
      const step = p - a;
      const [key, color] = segmentColor(p, step);
      const raw = segmentWidth(display, traj, thin, step, data.distances[p - s - 1] ?? 0, dpr);
      const w = thin && !traj.isFocus ? Math.round(raw * dpr * 10) / (10 * dpr) : Math.round(raw * 2) / 2;
      if (!traj.isFocus) {
        batches.add(`${key}|${w}`, () => rgbCss(color()), w, at.x(p - 1), at.y(p - 1), at.x(p), at.y(p));
        continue;
      }
      ctx.beginPath();
      ctx.moveTo(at.x(p - 1), at.y(p - 1));
      ctx.lineTo(at.x(p), at.y(p));
      ctx.strokeStyle = rgbCss(color());
      ctx.lineWidth = w;
      ctx.stroke();
    }
    if (display.markers) {
      const r = (traj.isFocus ? 5 : 3.5) * Math.min(2, Math.max(0.75, display.pointSize));
      const gradient = display.timeGradient && !byPrediction;
      const start = rgbCss(gradient ? mix(traj.start, traj.end, 0.5) : base);
      markers.push({ x0: at.x(a), y0: at.y(a), x1: at.x(b - 1), y1: at.y(b - 1), start, end: rgbCss(gradient ? traj.end : base), r });
    }
    if (display.labels.length > 0 && (traj.isFocus || labelAll)) {
      const events = labelEvents(source, s, display);
      if (traj.isFocus) focusEvents = events;
      const into = traj.isFocus ? focusLabels : labels;
      for (const e of uniqueLabels(events)) {
        const p = a + e.step;
        into.push({ x: at.x(p), y: at.y(p), text: labelText(data, p, a), side: e.side });
      }
    }
  }
  strokeBatches();
  return { markers, labels: [...labels.slice(0, MAX_OTHER_LABELS), ...focusLabels], focusEvents };
}

/** One label per step and side (a step can be "after" a jump and a class change at once). */
function uniqueLabels(events: readonly LabelEvent[]): LabelEvent[] {
  const seen = new Set<string>();
  return events.filter((e) => {
    const key = `${e.step}|${e.side}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** A point's token (or `t=step`), cut to 18 characters. */
function labelText(data: CheckpointData, p: number, start: number): string {
  const token = data.tokens !== null ? data.vocabulary?.[data.tokens[p] ?? -1] : undefined;
  const raw = token ?? `t=${p - start}`;
  return raw.length > 18 ? `${raw.slice(0, 17)}…` : raw;
}
