/**
 * The trajectories layer: the selected sequences' paths through the layout
 * (the focused one on top, wider, with a halo), their start and end markers
 * and token labels. Publishes `data-trajectories` and `data-focus-labels`.
 */
import type { CheckpointData, DisplayOptions } from "../../domain/model";
import { classColor, hexToRgb, mix, rgbCss, type Rgb } from "../../ui/colors";
import type { CanvasTheme } from "../../ui/theme";
import { trajectorySequences, type ProjectionView } from "./context";

/**
 * Above this many trajectories, the ones not focused are drawn as thin lines
 * (at most one device pixel wide, no halo): the canvas rasterises wide,
 * self-overlapping strokes slowly (hundreds of ms for 200 trajectories of 100
 * steps in software rendering), thin ones in a few ms.
 */
export const THIN_TRAJECTORIES_ABOVE = 16;
/** Colour levels of the time gradient (batches share a level). */
const GRADIENT_LEVELS = 12;

interface Marker { x0: number; y0: number; x1: number; y1: number; start: string; end: string; r: number }
interface Label { x: number; y: number; text: string }

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

/** The line width of the segment arriving at point p (`step` of the sequence), before rounding. */
function segmentWidth(display: DisplayOptions, t: Trajectory, thin: boolean, step: number, distance: number, dpr: number): number {
  const len = t.b - t.a;
  if (thin && !t.isFocus) {
    // Width still shows time or distance, within one device pixel.
    if (display.thickness === "time") return (0.35 + 0.65 * (step / Math.max(1, len - 1))) / dpr;
    if (display.thickness === "distance") return (0.35 + 0.65 * Math.min(1, distance)) / dpr;
    return 1 / dpr;
  }
  const extra = t.isFocus ? 1 : 0;
  if (display.thickness === "time") return 0.75 + 3.25 * (step / Math.max(1, len - 1)) + extra;
  if (display.thickness === "distance") return 0.75 + 5 * distance + extra;
  return 1.75 + extra;
}

/** The points of a trajectory that carry a label: prediction changes (the last ones) or the largest jumps. */
function labelledPoints(data: CheckpointData, display: DisplayOptions, t: Trajectory): number[] {
  const steps: number[] = [];
  if (display.labels === "changes") {
    for (let p = t.a + 1; p < t.b; p++) if (data.pointPrediction[p] !== data.pointPrediction[p - 1]) steps.push(p);
  } else {
    const jumps: [number, number][] = [];
    for (let p = t.a + 1; p < t.b; p++) jumps.push([data.distances[p - t.s - 1] ?? 0, p]);
    jumps.sort((x, y) => y[0] - x[0]);
    for (const [, p] of jumps.slice(0, t.isFocus ? 4 : 2)) steps.push(p);
  }
  // At most 16 labels (4 when not focused): the last prediction changes, so that the
  // flip (the last change) is always labelled; the largest jumps.
  const most = t.isFocus ? 16 : 4;
  return display.labels === "changes" ? steps.slice(-most) : steps.slice(0, most);
}

/**
 * Non-focused trajectories, batched: one path per (class, gradient level,
 * width level), so hundreds of trajectories cost a few hundred strokes; and
 * their common halo.
 */
class Batches {
  readonly halo = new Path2D();
  private readonly batches = new Map<string, { path: Path2D; color: string; width: number }>();
  private stroked = false;

  add(key: string, color: () => string, width: number, x0: number, y0: number, x1: number, y1: number): void {
    let batch = this.batches.get(key);
    if (batch === undefined) {
      batch = { path: new Path2D(), color: color(), width };
      this.batches.set(key, batch);
    }
    batch.path.moveTo(x0, y0);
    batch.path.lineTo(x1, y1);
  }

  /**
   * The halo, then the batches (in source-over order: "destination-over"
   * compositing made the rasterising several times slower); once.
   */
  stroke(ctx: CanvasRenderingContext2D, halo: { color: string; width: number } | null, alpha: number): void {
    if (this.stroked) return;
    this.stroked = true;
    ctx.save();
    if (halo !== null) {
      ctx.strokeStyle = halo.color;
      ctx.lineWidth = halo.width;
      ctx.stroke(this.halo);
    }
    ctx.globalAlpha = alpha;
    for (const batch of this.batches.values()) {
      ctx.strokeStyle = batch.color;
      ctx.lineWidth = batch.width;
      ctx.stroke(batch.path);
    }
    ctx.restore();
  }
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

function drawLabels(ctx: CanvasRenderingContext2D, labels: readonly Label[], theme: CanvasTheme): void {
  if (labels.length === 0) return;
  ctx.font = "11px Roboto, 'Helvetica Neue', Arial, sans-serif";
  ctx.textBaseline = "bottom";
  ctx.lineWidth = 3;
  ctx.strokeStyle = theme.bgCss;
  ctx.fillStyle = theme.fg;
  for (const job of labels.slice(0, 80)) {
    ctx.strokeText(job.text, job.x + 4, job.y - 3);
    ctx.fillText(job.text, job.x + 4, job.y - 3);
  }
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
  el.area.dataset["trajectories"] = "";
  el.area.dataset["focusLabels"] = "";
}

/** Redraws the trajectories layer. */
export function redrawTrails(view: ProjectionView): void {
  clearTrails(view);
  drawTrajectories(view, view.trailCtx);
}

/** Draws the trajectories, their markers and labels into `ctx` (the trails canvas, or an export's recorder), in CSS px. */
export function drawTrajectories(view: ProjectionView, ctx: CanvasRenderingContext2D): void {
  const data = view.layout.paint;
  const coords = view.layout.drawn;
  const t = view.camera.transform;
  if (!data || !coords || !t) return;
  const { theme } = view;
  const dpr = view.camera.dpr;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const state = view.store.get();
  const display = state.display;
  const sequences = trajectorySequences(view);
  const sx = (p: number) => (coords[2 * p] as number) * t.k + t.tx;
  const sy = (p: number) => t.ty - (coords[2 * p + 1] as number) * t.k;
  const darkTheme = theme.fgRgb[0] + theme.fgRgb[1] + theme.fgRgb[2] > 3 * 128;
  const labelAll = sequences.length <= 5;
  const thin = sequences.length > THIN_TRAJECTORIES_ABOVE;
  const haloWidth = (display.thickness === "constant" ? 1.75 : 4) + 2;
  const batches = new Batches();
  const strokeBatches = () =>
    batches.stroke(ctx, thin ? null : { color: rgbCss(theme.bg, 0.85), width: haloWidth }, sequences.length < 10 ? 1 : 0.75);
  const markers: Marker[] = [];
  const labels: Label[] = [];
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
    const level = (f: number) => (display.timeGradient ? Math.round(f * (GRADIENT_LEVELS - 1)) : -1);
    const colorOfLevel = (l: number) => (l < 0 ? base : mix(traj.start, traj.end, l / (GRADIENT_LEVELS - 1)));
    if (traj.isFocus) {
      strokeBatches(); // the others (before it in `sequences`) go under it
      ctx.beginPath();
      ctx.moveTo(sx(a), sy(a));
      for (let p = a + 1; p < b; p++) ctx.lineTo(sx(p), sy(p));
      ctx.strokeStyle = rgbCss(theme.bg, 0.9);
      ctx.lineWidth = haloWidth + 2;
      ctx.stroke();
    } else if (!thin) {
      batches.halo.moveTo(sx(a), sy(a));
      for (let p = a + 1; p < b; p++) batches.halo.lineTo(sx(p), sy(p));
    }
    for (let p = a + 1; p < b; p++) {
      const step = p - a;
      const l = level(step / Math.max(1, b - a - 1));
      const raw = segmentWidth(display, traj, thin, step, data.distances[p - s - 1] ?? 0, dpr);
      const w = thin && !traj.isFocus ? Math.round(raw * dpr * 10) / (10 * dpr) : Math.round(raw * 2) / 2;
      if (!traj.isFocus) {
        batches.add(`${classIndex}|${l}|${w}`, () => rgbCss(colorOfLevel(l)), w, sx(p - 1), sy(p - 1), sx(p), sy(p));
        continue;
      }
      ctx.beginPath();
      ctx.moveTo(sx(p - 1), sy(p - 1));
      ctx.lineTo(sx(p), sy(p));
      ctx.strokeStyle = rgbCss(colorOfLevel(l));
      ctx.lineWidth = w;
      ctx.stroke();
    }
    if (display.markers) {
      const r = traj.isFocus ? 5 : 3.5;
      const start = rgbCss(display.timeGradient ? mix(traj.start, traj.end, 0.5) : base);
      markers.push({ x0: sx(a), y0: sy(a), x1: sx(b - 1), y1: sy(b - 1), start, end: rgbCss(display.timeGradient ? traj.end : base), r });
    }
    if (display.labels !== "none" && (traj.isFocus || labelAll)) {
      const kept = labelledPoints(data, display, traj);
      if (traj.isFocus) view.el.area.dataset["focusLabels"] = kept.map((p) => p - a).join(",");
      for (const p of kept) labels.push({ x: sx(p), y: sy(p), text: labelText(data, p, a) });
    }
  }
  strokeBatches();
  view.el.area.dataset["trajectories"] = sequences.join(",");
  drawMarkers(ctx, markers, theme);
  drawLabels(ctx, labels, theme);
}

/** A point's token (or `t=step`), cut to 18 characters. */
function labelText(data: CheckpointData, p: number, start: number): string {
  const token = data.tokens !== null ? data.vocabulary?.[data.tokens[p] ?? -1] : undefined;
  const raw = token ?? `t=${p - start}`;
  return raw.length > 18 ? `${raw.slice(0, 17)}…` : raw;
}
