/**
 * The projection view: every valid step of every sequence as a point of the
 * 2-D layout in `state.projection.coords`, trajectories of the selected
 * sequences, zoom/pan, box and lasso brushing, hover linking.
 *
 * Three stacked canvases so that frequent changes stay cheap at 100k points:
 * - base: the points, written as pixels into one ImageData (no per-point
 *   canvas calls); redrawn on data, colour, brush, zoom/pan and animation;
 * - trails: trajectories, markers and labels of the selected sequences;
 * - overlay: the hovered point and the brush outline, redrawn on pointer moves.
 * Hit-testing and brushing use a uniform grid (projection_geometry.ts).
 *
 * Timings are recorded with the User Timing API (`performance.measure`), read
 * by bench/frontend_bench.py:
 * - `rh-projection-first-render`: new coordinates seen in the store -> first
 *   full draw of them done;
 * - `rh-projection-draw`: one full redraw (points + trajectories);
 * - `rh-projection-hover`: pointermove -> hover written to the store (all
 *   views updated synchronously) and the highlight drawn;
 * - `rh-projection-brush`: pointerup -> brush written to the store and the
 *   points and trajectories redrawn.
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
 * `data-trajectories` (their sequences, the focused one last) and
 * `data-focus-labels` (the steps of the focused trajectory that carry a label),
 * and, as of the last frame drawn, `data-layout-kind` (final, provisional,
 * stale, none), `data-layout-step` (whose layout), `data-checkpoint-step`
 * (whose data is in the store) and `data-layout` (the final layout's
 * `rh_layout` code). Each change of those is marked `rh-layout-shown` (User
 * Timing, `detail` {kind, step, checkpoint, code}).
 */
import { CLASS_PALETTE, CORRECT_COLOR, WRONG_COLOR, classColor, sequentialColor } from "../ui/colors";
import { h, setChildren } from "../ui/dom";
import {
  chooseLayout,
  dataRequestKey,
  finalSource,
  layoutCode,
  layoutDescription,
  layoutDetails,
  methodLabel,
  noticeText,
  provisionalSource,
  sameLengths,
  sentParams,
  type LayoutChoice,
  type LayoutSource,
} from "../domain/layout_state";
import { IDLE_PROJECTION, type CheckpointData, type ColorBy, type DisplayOptions, type ProjectionParams } from "../domain/model";
import {
  buildGrid,
  dataBounds,
  easeInOut,
  fitTransform,
  lerpCoords,
  matchSpread,
  nearestPoint,
  panBy,
  pointsInBox,
  pointsInDistanceRange,
  pointsInPolygon,
  sequencesOf,
  toData,
  zoomAt,
  type PointGrid,
  type ViewTransform,
} from "../domain/projection_geometry";
import type { AppState, Store } from "../state/store";
import { addStyles } from "../ui/styles";
import { hideTooltip, pointTooltipLines, showTooltip } from "../ui/tooltip";

/** Duration of the move between two checkpoints' layouts. */
export const ANIMATION_MS = 600;
/** At most this many trajectories are drawn (the focused one always). */
export const MAX_TRAJECTORIES = 200;
/**
 * Above this many trajectories, the ones not focused are drawn as thin lines
 * (at most one device pixel wide, no halo): the canvas rasterises wide,
 * self-overlapping strokes slowly (hundreds of ms for 200 trajectories of 100
 * steps in software rendering), thin ones in a few ms.
 */
export const THIN_TRAJECTORIES_ABOVE = 16;
/** Height of the canvas area, CSS px. */
const CANVAS_HEIGHT = 440;

type Tool = "pan" | "box" | "lasso";

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
`;

interface Theme {
  bg: [number, number, number];
  fg: string;
  fgRgb: [number, number, number];
  muted: string;
  highlight: string;
  highlightRgb: [number, number, number];
  accent: string;
  bgCss: string;
}

let colorProbe: CanvasRenderingContext2D | null = null;

/** Any CSS colour -> [r, g, b] (via a canvas's colour parser); `fallback` when unparsable. */
function parseColor(css: string, fallback: [number, number, number]): [number, number, number] {
  const text = css.trim();
  if (!text) return fallback;
  colorProbe ??= document.createElement("canvas").getContext("2d");
  if (colorProbe === null) return fallback;
  colorProbe.fillStyle = "#010203";
  colorProbe.fillStyle = text;
  const value = String(colorProbe.fillStyle);
  if (value === "#010203" && text !== "#010203") return fallback;
  if (value.startsWith("#")) {
    const n = Number.parseInt(value.slice(1, 7), 16);
    return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  }
  const m = value.match(/rgba?\(([^)]+)\)/);
  if (!m) return fallback;
  const parts = (m[1] ?? "").split(",").map((s) => Number.parseFloat(s));
  return [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0];
}

function readTheme(): Theme {
  const style = getComputedStyle(document.documentElement);
  const v = (name: string) => style.getPropertyValue(name).trim();
  const dark = document.documentElement.dataset["theme"] === "dark";
  const bg = parseColor(v("--rh-card"), dark ? [48, 48, 48] : [255, 255, 255]);
  const fgRgb = parseColor(v("--rh-fg"), dark ? [230, 230, 230] : [33, 33, 33]);
  const highlightRgb = parseColor(v("--rh-highlight"), dark ? [255, 213, 79] : [255, 111, 0]);
  const rgb = (c: [number, number, number]) => `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
  return {
    bg,
    bgCss: rgb(bg),
    fg: rgb(fgRgb),
    fgRgb,
    muted: v("--rh-muted") || (dark ? "#9e9e9e" : "#757575"),
    highlight: rgb(highlightRgb),
    highlightRgb,
    accent: v("--rh-accent") || "#f57c00",
  };
}

/**
 * FNV-1a over 32-bit values (one round per point index, ascending), as
 * `data-highlighted-hash` publishes the ringed points.
 */
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** Little-endian RGBA packed for a Uint32Array view of ImageData. */
function pack(r: number, g: number, b: number): number {
  return ((255 << 24) | (Math.round(b) << 16) | (Math.round(g) << 8) | Math.round(r)) >>> 0;
}

function mix(a: [number, number, number], b: [number, number, number], t: number): [number, number, number] {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

function hexRgb(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1, 7), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function rgbCss(c: [number, number, number], alpha = 1): string {
  return `rgba(${Math.round(c[0])}, ${Math.round(c[1])}, ${Math.round(c[2])}, ${alpha})`;
}

/** Per-point base colour ([r,g,b]) for the colouring `colorBy`. */
function pointColorFn(data: CheckpointData, colorBy: ColorBy): (p: number) => [number, number, number] {
  const grey: [number, number, number] = [158, 158, 158];
  const labels = data.meta.labels;
  if (colorBy === "prediction") {
    const palette = CLASS_PALETTE.map(hexRgb);
    return (p) => {
      const c = data.pointPrediction[p] ?? -1;
      return c < 0 ? grey : (palette[c % palette.length] ?? grey);
    };
  }
  if (colorBy === "label") {
    const palette = CLASS_PALETTE.map(hexRgb);
    return (p) => {
      const c = labels?.[data.pointSequence[p] ?? 0];
      return c === undefined || c === null || c < 0 ? grey : (palette[c % palette.length] ?? grey);
    };
  }
  if (colorBy === "time") {
    const ramp = Array.from({ length: 256 }, (_, i) => parseColor(sequentialColor(i / 255), grey));
    const last = Math.max(1, data.meta.max_length - 1);
    return (p) => ramp[Math.round(((data.pointStep[p] ?? 0) / last) * 255)] ?? grey;
  }
  const right = hexRgb(CORRECT_COLOR);
  const wrong = hexRgb(WRONG_COLOR);
  return (p) => {
    const c = labels?.[data.pointSequence[p] ?? 0];
    const predicted = data.pointPrediction[p] ?? -1;
    if (c === undefined || c === null || predicted < 0) return grey;
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

export function mountProjection(parent: HTMLElement, store: Store<AppState>): void {
  addStyles("projection", CSS);

  // ---- DOM ---------------------------------------------------------------
  const select = (id: string, label: string, options: [string, string][], title: string) => {
    const el = h("select", { id, "aria-label": label, title });
    for (const [value, text] of options) el.appendChild(h("option", { value }, text));
    return { el, wrap: h("label", {}, label, el) };
  };
  const colorBy = select(
    "projection-color-by",
    "Colour",
    [
      ["prediction", "predicted class"],
      ["label", "true class"],
      ["time", "time step"],
      ["correct", "correct at step"],
    ],
    "What the colour of a point shows",
  );
  const thickness = select(
    "projection-thickness",
    "Width",
    [
      ["constant", "constant"],
      ["time", "by time"],
      ["distance", "by step distance"],
    ],
    "Trajectory line width",
  );
  const labels = select(
    "projection-labels",
    "Labels",
    [
      ["none", "none"],
      ["changes", "prediction changes"],
      ["jumps", "large jumps"],
    ],
    "Token labels on trajectories",
  );
  const fade = select(
    "projection-fade",
    "Fade",
    [
      ["none", "none"],
      ["correct", "correct sequences"],
      ["wrong", "wrong sequences"],
    ],
    "Dim the correctly or wrongly classified sequences",
  );
  const tool = select(
    "projection-tool",
    "Drag",
    [
      ["pan", "pan (shift: box)"],
      ["box", "box brush"],
      ["lasso", "lasso brush"],
    ],
    "What dragging in the plot does",
  );
  const gradient = h("input", { type: "checkbox", id: "projection-gradient" });
  const markers = h("input", { type: "checkbox", id: "projection-markers" });
  const resetButton = h("button", { type: "button", id: "projection-reset", title: "Fit all points" }, "Reset zoom");
  const clearButton = h(
    "button",
    { type: "button", id: "projection-clear-brush", title: "Clear the brush (Esc)" },
    "Clear brush",
  );
  const controls = h(
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
  const baseCanvas = h("canvas", { id: "projection-canvas", "data-testid": "projection-canvas" });
  const trailCanvas = h("canvas", { id: "projection-trails" });
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
    overlayCanvas,
    status,
  );
  const legend = h("div", { class: "projection-legend", id: "projection-legend" });
  // Which layout is shown and how it was made, or what is shown while the checkpoint's own computes.
  const layoutLine = h("div", { class: "projection-layout", id: "projection-layout", "data-testid": "projection-layout", role: "status", "data-kind": "none" });
  const linkNotice = h("div", { class: "projection-link-notice", id: "projection-link-notice", role: "status" });
  const root = h("div", { class: "projection-view" }, controls, linkNotice, layoutLine, area, legend);
  parent.appendChild(root);

  const baseCtx = baseCanvas.getContext("2d");
  const trailCtx = trailCanvas.getContext("2d");
  const overlayCtx = overlayCanvas.getContext("2d");
  if (!baseCtx || !trailCtx || !overlayCtx) {
    status.textContent = "This browser cannot draw on a canvas.";
    status.hidden = false;
    return;
  }

  // ---- View state ----------------------------------------------------------
  let theme = readTheme();
  let width = 0; // CSS px
  let height = 0;
  let dpr = 1;
  let data: CheckpointData | null = null;
  /** What is drawn: the layout chosen for the store's checkpoint (layout_state.chooseLayout). */
  let choice: LayoutChoice = { kind: "none", source: null, staleOf: null };
  /** The checkpoint whose layout `choice.source` is, as it was when that layout was adopted. */
  let shownData: CheckpointData | null = null;
  /** The checkpoint the points are coloured, labelled and described by: the layout's own. */
  let paint: CheckpointData | null = null;
  /** The layout being approached (`choice.source`'s coordinates). */
  let target: Float32Array | null = null;
  /** What is drawn now (a copy; interpolated while animating). */
  let drawn: Float32Array | null = null;
  let from: Float32Array | null = null;
  let animationStart = 0;
  let animating = false;
  let grid: PointGrid | null = null;
  let transform: ViewTransform | null = null;
  let fitScale = 1;
  let colors = new Uint32Array(0);
  let layer = new Uint8Array(0); // 0 dimmed, 1 normal, 2 highlighted (distance range)
  let image: ImageData | null = null;
  let pixels = new Uint32Array(0);
  let currentTool: Tool = "pan";
  let pendingFirstRender: string | null = null;
  let dirty = { base: false, trails: false, overlay: false };
  let frameRequested = false;
  /** The hover this view wrote last (its tooltip is ours while it is the store's). */
  let ownHover: number | null = null;
  let drag:
    | { kind: "pan"; x: number; y: number; moved: boolean; startX: number; startY: number; pointerId: number }
    | { kind: "box" | "lasso"; x0: number; y0: number; x1: number; y1: number; path: number[]; pointerId: number }
    | null = null;

  const pointCount = () => (paint ? paint.pointSequence.length : 0);
  /**
   * Whether pointing at the plot may describe or select points: not while it
   * shows another checkpoint's layout (its positions are not this one's).
   */
  const interactive = () => choice.kind !== "none" && !(choice.kind === "stale" && choice.staleOf === "checkpoint");

  // ---- Sizing --------------------------------------------------------------
  const resize = () => {
    const rect = area.getBoundingClientRect();
    const w = Math.max(1, Math.floor(rect.width));
    const hgt = Math.max(1, Math.floor(rect.height));
    const ratio = window.devicePixelRatio || 1;
    if (w === width && hgt === height && ratio === dpr) return;
    if (transform && width > 0) transform = panBy(transform, (w - width) / 2, (hgt - height) / 2);
    width = w;
    height = hgt;
    dpr = ratio;
    for (const canvas of [baseCanvas, trailCanvas, overlayCanvas]) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(hgt * dpr);
      canvas.style.width = `${w}px`;
      canvas.style.height = `${hgt}px`;
    }
    image = null;
    if (transform === null) fit();
    invalidate(true, true, true);
  };

  const fit = () => {
    if (!drawn || width <= 1) return;
    transform = fitTransform(dataBounds(target ?? drawn), width, height, 20);
    fitScale = transform.k;
    publishTransform();
  };

  const publishTransform = () => {
    area.dataset["transform"] = transform ? JSON.stringify(transform) : "";
  };

  // ---- Colours and layers ----------------------------------------------------
  const recolor = () => {
    const state = store.get();
    const n = pointCount();
    const data = paint;
    if (!data || n === 0) {
      colors = new Uint32Array(0);
      layer = new Uint8Array(0);
      return;
    }
    const colorOf = pointColorFn(data, state.display.colorBy);
    const faded = fadedSequences(data, state.display.fade);
    // Another checkpoint's layout: its own colours, dimmed, and nothing of this checkpoint's links.
    const stale = !interactive();
    const brushed = stale ? null : state.brushed;
    let brushMask: Uint8Array | null = null;
    if (brushed !== null) {
      brushMask = new Uint8Array(n);
      for (const p of brushed) if (p >= 0 && p < n) brushMask[p] = 1;
    }
    const range = stale ? null : state.distanceRange;
    const rangeMask =
      range !== null
        ? pointsInDistanceRange(data.pointSequence, data.pointStep, data.distances, range[0], range[1])
        : null;
    colors = new Uint32Array(n);
    layer = new Uint8Array(n);
    const bg = theme.bg;
    for (let p = 0; p < n; p++) {
      const c = colorOf(p);
      const dim =
        (faded !== null && faded[data.pointSequence[p] ?? 0] === 1) ||
        (brushMask !== null && brushMask[p] === 0) ||
        (rangeMask !== null && rangeMask[p] === 0);
      const shown = dim ? mix(c, bg, 0.82) : stale ? mix(c, bg, 0.6) : c;
      colors[p] = pack(shown[0], shown[1], shown[2]);
      layer[p] = dim ? 0 : rangeMask !== null ? 2 : 1;
    }
  };

  // ---- Drawing -------------------------------------------------------------------
  const pointRadius = (): number => {
    const n = pointCount();
    const base = n < 2_000 ? 3 : n < 20_000 ? 2 : 1.3;
    const zoom = transform ? Math.min(3, Math.max(1, Math.pow(transform.k / fitScale, 0.35))) : 1;
    return Math.max(1, Math.round(base * zoom * dpr));
  };

  const drawBase = () => {
    const W = baseCanvas.width;
    const H = baseCanvas.height;
    if (image === null || image.width !== W || image.height !== H) {
      image = baseCtx.createImageData(W, H);
      pixels = new Uint32Array(image.data.buffer);
    } else {
      pixels.fill(0);
    }
    let count = 0;
    let ringed = 0;
    let ringedHash = FNV_OFFSET;
    if (drawn && transform && paint && colors.length === pointCount()) {
      const k = transform.k * dpr;
      const tx = transform.tx * dpr;
      const ty = transform.ty * dpr;
      const r = pointRadius();
      const ring = pack(theme.highlightRgb[0], theme.highlightRgb[1], theme.highlightRgb[2]);
      const n = pointCount();
      const coords = drawn;
      // A disc as pixel offsets from its centre; discs that cross the edge are clipped.
      const stencil = (rad: number): Int32Array => {
        const offs: number[] = [];
        for (let dy = -rad; dy <= rad; dy++) {
          for (let dx = -rad; dx <= rad; dx++) if (dx * dx + dy * dy <= rad * rad + rad) offs.push(dy * W + dx);
        }
        return Int32Array.from(offs);
      };
      const disc = stencil(r);
      const ringDisc = stencil(r + 1);
      const plot = (cx: number, cy: number, rad: number, offs: Int32Array, color: number) => {
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
      };
      // Dimmed points first, then the others, then the ringed ones on top.
      let passes = 0;
      for (let p = 0; p < n; p++) passes |= 1 << (layer[p] as number);
      for (let pass = 0; pass <= 2; pass++) {
        if ((passes & (1 << pass)) === 0) continue;
        for (let p = 0; p < n; p++) {
          if (layer[p] !== pass) continue;
          const cx = Math.round((coords[2 * p] as number) * k + tx);
          const cy = Math.round(ty - (coords[2 * p + 1] as number) * k);
          if (!(cx >= -r && cy >= -r && cx < W + r && cy < H + r)) continue;
          if (pass === 2) {
            plot(cx, cy, r + 1, ringDisc, ring);
            ringed++;
            ringedHash = Math.imul(ringedHash ^ p, FNV_PRIME) >>> 0;
          }
          plot(cx, cy, r, disc, colors[p] as number);
          count++;
        }
      }
    }
    baseCtx.putImageData(image, 0, 0);
    publishLayout();
    area.dataset["points"] = String(count);
    // What is ringed (the distance range), for tests: how many, and a hash of their indices.
    area.dataset["highlighted"] = String(ringed);
    area.dataset["highlightedHash"] = ringed > 0 ? ringedHash.toString(16) : "";
  };

  /** The sequences whose trajectories are drawn: the focused one last (on top). */
  const trajectorySequences = (): number[] => {
    const state = store.get();
    const data = paint;
    if (!data) return [];
    const n = data.meta.num_sequences;
    const chosen = state.selected.filter((s) => s >= 0 && s < n && s !== state.focus).slice(0, MAX_TRAJECTORIES - 1);
    if (state.focus !== null && state.focus >= 0 && state.focus < n) chosen.push(state.focus);
    return chosen;
  };

  /** How far the trails canvas is shifted by CSS while panning (it is redrawn when the pan ends). */
  let trailShift: [number, number] = [0, 0];
  const drawTrails = () => {
    const ctx = trailCtx;
    if (trailShift[0] !== 0 || trailShift[1] !== 0) {
      trailShift = [0, 0];
      trailCanvas.style.transform = "";
    }
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, trailCanvas.width, trailCanvas.height);
    area.dataset["trajectories"] = "";
    area.dataset["focusLabels"] = "";
    const data = paint;
    if (!data || !drawn || !transform) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const state = store.get();
    const display = state.display;
    const t = transform;
    const coords = drawn;
    const sequences = trajectorySequences();
    const offsets = data.offsets;
    const labelsOf = data.meta.labels;
    const bgColor = theme.bg;
    const darkTheme = theme.fgRgb[0] + theme.fgRgb[1] + theme.fgRgb[2] > 3 * 128;
    const sx = (p: number) => (coords[2 * p] as number) * t.k + t.tx;
    const sy = (p: number) => t.ty - (coords[2 * p + 1] as number) * t.k;
    const labelJobs: { x: number; y: number; text: string }[] = [];
    const distances = data.distances;
    const markerJobs: { x0: number; y0: number; x1: number; y1: number; start: string; end: string; r: number }[] = [];
    // Non-focused trajectories are batched: one path per (class, gradient level,
    // width level), so hundreds of trajectories cost a few hundred strokes.
    const GRADIENT_LEVELS = 12;
    const batches = new Map<string, { path: Path2D; color: string; width: number }>();
    const halo = new Path2D();
    let stroked = false;
    // The halo, then the batches of the trajectories not focused (in source-over order:
    // "destination-over" compositing made the rasterising several times slower).
    const strokeBatches = () => {
      if (stroked) return;
      stroked = true;
      ctx.save();
      if (!thin) {
        ctx.strokeStyle = rgbCss(bgColor, 0.85);
        ctx.lineWidth = (display.thickness === "constant" ? 1.75 : 4) + 2;
        ctx.stroke(halo);
      }
      ctx.globalAlpha = sequences.length < 10 ? 1 : 0.75;
      for (const batch of batches.values()) {
        ctx.strokeStyle = batch.color;
        ctx.lineWidth = batch.width;
        ctx.stroke(batch.path);
      }
      ctx.restore();
    };
    const labelAll = sequences.length <= 5;
    const thin = sequences.length > THIN_TRAJECTORIES_ABOVE;
    for (const s of sequences) {
      const a = offsets[s] as number;
      const b = offsets[s + 1] as number;
      const len = b - a;
      if (len <= 0) continue;
      const isFocus = s === state.focus;
      const classIndex = labelsOf?.[s] ?? data.meta.predictions?.[s] ?? -1;
      const base = hexRgb(classColor(classIndex));
      const end = darkTheme ? mix(base, [255, 255, 255], 0.35) : mix(base, [0, 0, 0], 0.35);
      const start = mix(base, bgColor, 0.7);
      const level = (f: number) => (display.timeGradient ? Math.round(f * (GRADIENT_LEVELS - 1)) : -1);
      const colorOfLevel = (l: number) => (l < 0 ? base : mix(start, end, l / (GRADIENT_LEVELS - 1)));
      const widthOf = (step: number, p: number) => {
        if (thin && !isFocus) {
          // Width still shows time or distance, within one device pixel.
          if (display.thickness === "time") return (0.35 + 0.65 * (step / Math.max(1, len - 1))) / dpr;
          if (display.thickness === "distance") return (0.35 + 0.65 * Math.min(1, distances[p - s - 1] ?? 0)) / dpr;
          return 1 / dpr;
        }
        const extra = isFocus ? 1 : 0;
        if (display.thickness === "time") return 0.75 + 3.25 * (step / Math.max(1, len - 1)) + extra;
        if (display.thickness === "distance") return 0.75 + 5 * (distances[p - s - 1] ?? 0) + extra;
        return 1.75 + extra;
      };
      const haloWidth = (display.thickness === "constant" ? 1.75 : 4) + 2;
      if (isFocus) {
        strokeBatches(); // the others (last in `sequences`) go under it
        ctx.beginPath();
        ctx.moveTo(sx(a), sy(a));
        for (let p = a + 1; p < b; p++) ctx.lineTo(sx(p), sy(p));
        ctx.strokeStyle = rgbCss(bgColor, 0.9);
        ctx.lineWidth = haloWidth + 2;
        ctx.stroke();
      } else if (!thin) {
        halo.moveTo(sx(a), sy(a));
        for (let p = a + 1; p < b; p++) halo.lineTo(sx(p), sy(p));
      }
      for (let p = a + 1; p < b; p++) {
        const step = p - a;
        const l = level(step / Math.max(1, len - 1));
        const w = thin && !isFocus ? Math.round(widthOf(step, p) * dpr * 10) / (10 * dpr) : Math.round(widthOf(step, p) * 2) / 2;
        if (isFocus) {
          ctx.beginPath();
          ctx.moveTo(sx(p - 1), sy(p - 1));
          ctx.lineTo(sx(p), sy(p));
          ctx.strokeStyle = rgbCss(colorOfLevel(l));
          ctx.lineWidth = w;
          ctx.stroke();
          continue;
        }
        const key = `${classIndex}|${l}|${w}`;
        let batch = batches.get(key);
        if (batch === undefined) {
          batch = { path: new Path2D(), color: rgbCss(colorOfLevel(l)), width: w };
          batches.set(key, batch);
        }
        batch.path.moveTo(sx(p - 1), sy(p - 1));
        batch.path.lineTo(sx(p), sy(p));
      }
      if (display.markers) {
        markerJobs.push({
          x0: sx(a),
          y0: sy(a),
          x1: sx(b - 1),
          y1: sy(b - 1),
          start: rgbCss(display.timeGradient ? mix(start, end, 0.5) : base),
          end: rgbCss(display.timeGradient ? end : base),
          r: isFocus ? 5 : 3.5,
        });
      }
      if (display.labels !== "none" && (isFocus || labelAll)) {
        const steps: number[] = [];
        if (display.labels === "changes") {
          for (let p = a + 1; p < b; p++) {
            if (data.pointPrediction[p] !== data.pointPrediction[p - 1]) steps.push(p);
          }
        } else {
          const jumps: [number, number][] = [];
          for (let p = a + 1; p < b; p++) jumps.push([data.distances[p - s - 1] ?? 0, p]);
          jumps.sort((x, y) => y[0] - x[0]);
          for (const [, p] of jumps.slice(0, isFocus ? 4 : 2)) steps.push(p);
        }
        // At most 16 labels (4 when not focused): the last prediction changes, so that the
        // flip (the last change) is always labelled; the largest jumps.
        const most = isFocus ? 16 : 4;
        const kept = display.labels === "changes" ? steps.slice(-most) : steps.slice(0, most);
        if (isFocus) area.dataset["focusLabels"] = kept.map((p) => p - a).join(",");
        for (const p of kept) {
          const token = data.tokens !== null ? data.vocabulary?.[data.tokens[p] ?? -1] : undefined;
          const raw = token ?? `t=${p - a}`;
          const text = raw.length > 18 ? `${raw.slice(0, 17)}…` : raw;
          labelJobs.push({ x: sx(p), y: sy(p), text });
        }
      }
    }
    strokeBatches();
    area.dataset["trajectories"] = sequences.join(",");
    ctx.lineWidth = 1.5;
    for (const m of markerJobs) {
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
    if (labelJobs.length > 0) {
      ctx.font = "11px Roboto, 'Helvetica Neue', Arial, sans-serif";
      ctx.textBaseline = "bottom";
      ctx.lineWidth = 3;
      ctx.strokeStyle = theme.bgCss;
      ctx.fillStyle = theme.fg;
      for (const job of labelJobs.slice(0, 80)) {
        ctx.strokeText(job.text, job.x + 4, job.y - 3);
        ctx.fillText(job.text, job.x + 4, job.y - 3);
      }
    }
  };

  const drawOverlay = () => {
    const ctx = overlayCtx;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, overlayCanvas.width, overlayCanvas.height);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const state = store.get();
    if (interactive() && drawn && transform && state.hover !== null && state.hover >= 0 && state.hover < pointCount()) {
      const p = state.hover;
      const x = (drawn[2 * p] as number) * transform.k + transform.tx;
      const y = transform.ty - (drawn[2 * p + 1] as number) * transform.k;
      ctx.beginPath();
      ctx.arc(x, y, 7, 0, 2 * Math.PI);
      ctx.lineWidth = 4;
      ctx.strokeStyle = theme.bgCss;
      ctx.stroke();
      ctx.lineWidth = 2.5;
      ctx.strokeStyle = theme.highlight;
      ctx.stroke();
      ctx.beginPath();
      ctx.arc(x, y, 2.5, 0, 2 * Math.PI);
      ctx.fillStyle = theme.fg;
      ctx.fill();
    }
    if (drag && drag.kind !== "pan") {
      ctx.beginPath();
      if (drag.kind === "box") {
        ctx.rect(
          Math.min(drag.x0, drag.x1),
          Math.min(drag.y0, drag.y1),
          Math.abs(drag.x1 - drag.x0),
          Math.abs(drag.y1 - drag.y0),
        );
      } else {
        const path = drag.path;
        ctx.moveTo(path[0] ?? 0, path[1] ?? 0);
        for (let i = 2; i + 1 < path.length; i += 2) ctx.lineTo(path[i] as number, path[i + 1] as number);
        ctx.closePath();
      }
      ctx.fillStyle = rgbCss(theme.highlightRgb, 0.12);
      ctx.fill();
      ctx.setLineDash([5, 4]);
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = theme.fg;
      ctx.stroke();
      ctx.setLineDash([]);
    }
  };

  /** Draws the dirty layers now. */
  const flush = () => {
    const t0 = performance.now();
    const full = dirty.base && dirty.trails;
    if (dirty.base) {
      drawBase();
      performance.measure("rh-projection-draw-points", { start: t0, end: performance.now() });
    }
    const t1 = performance.now();
    if (dirty.trails) {
      drawTrails();
      performance.measure("rh-projection-draw-trails", { start: t1, end: performance.now() });
    }
    if (dirty.overlay) drawOverlay();
    dirty = { base: false, trails: false, overlay: false };
    if (full) {
      performance.measure("rh-projection-draw", { start: t0, end: performance.now() });
      if (pendingFirstRender !== null && drawn !== null && !animating) {
        performance.measure("rh-projection-first-render", pendingFirstRender);
        pendingFirstRender = null;
      }
    }
  };

  const onFrame = (now: number) => {
    frameRequested = false;
    if (animating && from && target && drawn) {
      const f = Math.min(1, (now - animationStart) / ANIMATION_MS);
      lerpCoords(from, target, easeInOut(f), drawn);
      dirty = { base: true, trails: true, overlay: true };
      if (f >= 1) {
        animating = false;
        from = null;
        area.dataset["animating"] = "false";
      } else {
        requestFrame();
      }
    }
    flush();
  };

  const requestFrame = () => {
    if (frameRequested) return;
    frameRequested = true;
    requestAnimationFrame(onFrame);
  };

  const invalidate = (base: boolean, trails: boolean, overlay: boolean) => {
    dirty = { base: dirty.base || base, trails: dirty.trails || trails, overlay: dirty.overlay || overlay };
    requestFrame();
  };

  // ---- Status, legend, controls ----------------------------------------------
  /** What the overlay says while no layout can be drawn for the checkpoint. */
  const waitingText = (state: Readonly<AppState>, wanted: string): string => {
    const proj = state.projection;
    const method = methodLabel(sentParams(state).method);
    if (proj.key !== wanted) return "Waiting for the projection…";
    if (proj.state === "queued") return `${method} projection queued…`;
    if (proj.state === "running") return `Computing the ${method} projection: ${proj.phase || "working"} (${Math.round(proj.progress * 100)}%)`;
    if (proj.state === "cancelled") return "Projection cancelled.";
    if (proj.state === "done") return "Loading the layout…";
    return "Waiting for the projection…";
  };

  /** The status line: the final layout described, or the notice over a provisional or stale one. */
  const updateLayoutLine = (state: Readonly<AppState>, failed: boolean) => {
    const source = choice.source;
    let text = "";
    let title = "";
    if (source !== null && choice.kind === "final") {
      text = layoutDescription(source);
      title = layoutDetails(source);
    } else if (source !== null) {
      // The job of this checkpoint, once the store has it (just after the data it still holds the last one's).
      const wanted = dataRequestKey(state);
      const job = state.projection.key === wanted ? state.projection : { ...IDLE_PROJECTION, params: sentParams(state) };
      text = noticeText(choice, job, sentParams(state), state.data?.step ?? state.step) ?? "";
      title = layoutDetails(source);
    }
    // Bold up to the first " · " (what the layout is) or " — " (what is shown), the rest plain.
    const cut = [text.indexOf(" · "), text.indexOf(" — ")].filter((i) => i >= 0);
    const at = cut.length > 0 ? Math.min(...cut) : text.length;
    if (layoutLine.textContent !== text || layoutLine.dataset["kind"] !== choice.kind) {
      setChildren(layoutLine, text ? h("div", { class: "layout-box" }, h("span", { class: "layout-head" }, text.slice(0, at)), text.slice(at)) : null);
    }
    layoutLine.title = title;
    layoutLine.dataset["kind"] = choice.kind;
    layoutLine.dataset["failed"] = String(failed && choice.kind !== "final");
  };

  let notices: readonly string[] = [];
  const updateStatus = () => {
    const state = store.get();
    const proj = state.projection;
    const wanted = dataRequestKey(state) ?? "";
    const failed = state.data !== null && proj.key === wanted && proj.state === "failed";
    let text: string | null = null;
    let kind = "info";
    let stateName = "ready";
    if (state.data === null) {
      text = state.step === null ? null : "Loading the checkpoint…";
      stateName = "empty";
    } else if (choice.kind === "final") {
      stateName = "ready";
    } else if (failed) {
      stateName = "failed";
      if (choice.kind === "none") {
        text = `Projection failed: ${proj.error ?? "unknown error"}`;
        kind = "error";
      }
    } else {
      stateName = choice.kind === "provisional" ? "provisional" : "loading";
      if (choice.kind === "none") text = waitingText(state, wanted);
    }
    status.hidden = text === null;
    status.textContent = text ?? "";
    status.dataset["kind"] = kind;
    area.dataset["state"] = stateName;
    updateLayoutLine(state, failed);
    if (state.linkNotices !== notices) {
      notices = state.linkNotices;
      setChildren(linkNotice, ...notices.map((notice) => h("div", {}, notice)));
    }
  };

  /** Publishes what the last frame drew (kind and steps of the layout, the data's step), and marks each change. */
  let published = "";
  const publishLayout = () => {
    const kind = drawn === null ? "none" : choice.kind;
    const source = drawn === null ? null : choice.source;
    const layoutStep = source?.step ?? null;
    const checkpointStep = data?.step ?? null;
    const code = kind === "final" && source?.params ? layoutCode(source.layout, source.params.method) : "";
    const key = JSON.stringify([kind, layoutStep, checkpointStep, code]);
    if (key === published) return;
    published = key;
    area.dataset["layoutKind"] = kind;
    area.dataset["layoutStep"] = layoutStep === null ? "" : String(layoutStep);
    area.dataset["checkpointStep"] = checkpointStep === null ? "" : String(checkpointStep);
    area.dataset["layout"] = code;
    performance.mark("rh-layout-shown", { detail: { kind, step: layoutStep, checkpoint: checkpointStep, code } });
  };

  const updateLegend = () => {
    const state = store.get();
    const data = paint;
    if (!data) {
      setChildren(legend);
      return;
    }
    const items: (Node | string)[] = [];
    const swatch = (color: string, text: string) =>
      h("span", { class: "legend-item" }, h("span", { class: "legend-swatch", style: `background:${color}` }), text);
    const by = state.display.colorBy;
    if (by === "prediction" || by === "label") {
      if (by === "label" && !data.meta.labels) items.push(h("span", { class: "legend-note" }, "no true classes logged"));
      else if (data.classNames.length === 0) items.push(h("span", { class: "legend-note" }, "no predictions logged"));
      else data.classNames.forEach((name, c) => items.push(swatch(classColor(c), name)));
    } else if (by === "time") {
      const stops = Array.from({ length: 9 }, (_, i) => sequentialColor(i / 8)).join(", ");
      items.push(
        h(
          "span",
          { class: "legend-item" },
          "step 0",
          h("span", { class: "legend-ramp", style: `background:linear-gradient(to right, ${stops})` }),
          `step ${Math.max(0, data.meta.max_length - 1)}`,
        ),
      );
    } else {
      items.push(swatch(CORRECT_COLOR, "correct at this step"), swatch(WRONG_COLOR, "wrong at this step"));
    }
    const n = pointCount();
    items.push(h("span", { class: "legend-note" }, `${n.toLocaleString("en-US")} ${n === 1 ? "point" : "points"}`));
    if (!interactive() && choice.source !== null) {
      items.push(h("span", { class: "legend-note" }, `dimmed: step ${choice.source.step}'s layout and predictions`));
    }
    const shown = trajectorySequences().length;
    if (state.selected.length > shown) {
      items.push(h("span", { class: "legend-note" }, `trajectories of ${shown} of ${state.selected.length} selected sequences`));
    }
    if (shown > THIN_TRAJECTORIES_ABOVE) {
      items.push(h("span", { class: "legend-note" }, `over ${THIN_TRAJECTORIES_ABOVE} trajectories: thin lines but the focused one`));
    }
    if (shown > 0 && state.display.markers) {
      items.push(h("span", { class: "legend-note" }, "trajectory: ○ start, ■ end"));
    }
    if (state.brushed !== null && interactive()) {
      items.push(h("span", { class: "legend-note", id: "projection-brush-count" }, `${state.brushed.length} points brushed`));
    }
    if (state.distanceRange !== null && interactive()) {
      const [lo, hi] = state.distanceRange;
      items.push(h("span", { class: "legend-note" }, `ringed: arriving step distance ${lo.toFixed(2)}–${hi.toFixed(2)}`));
    }
    setChildren(legend, ...items);
  };

  const syncControls = () => {
    const d = store.get().display;
    colorBy.el.value = d.colorBy;
    thickness.el.value = d.thickness;
    labels.el.value = d.labels;
    fade.el.value = d.fade;
    gradient.checked = d.timeGradient;
    markers.checked = d.markers;
    tool.el.value = currentTool;
  };

  const setDisplay = (patch: Partial<DisplayOptions>) => {
    store.set({ display: { ...store.get().display, ...patch } });
  };
  colorBy.el.addEventListener("change", () => setDisplay({ colorBy: colorBy.el.value as ColorBy }));
  thickness.el.addEventListener("change", () =>
    setDisplay({ thickness: thickness.el.value as DisplayOptions["thickness"] }),
  );
  labels.el.addEventListener("change", () => setDisplay({ labels: labels.el.value as DisplayOptions["labels"] }));
  fade.el.addEventListener("change", () => setDisplay({ fade: fade.el.value as DisplayOptions["fade"] }));
  gradient.addEventListener("change", () => setDisplay({ timeGradient: gradient.checked }));
  markers.addEventListener("change", () => setDisplay({ markers: markers.checked }));
  tool.el.addEventListener("change", () => {
    currentTool = tool.el.value as Tool;
    area.dataset["tool"] = currentTool;
  });
  resetButton.addEventListener("click", () => {
    fit();
    invalidate(true, true, true);
  });
  clearButton.addEventListener("click", () => store.set({ brushed: null }));

  // ---- Store -> view -------------------------------------------------------------
  /** The layout for the store's checkpoint (layout_state.ts), given what is drawn now. */
  const decide = (state: Readonly<AppState>): LayoutChoice => {
    const current = state.data;
    if (current === null) return { kind: "none", source: null, staleOf: null };
    return chooseLayout({
      checkpoint: current.key,
      wanted: dataRequestKey(state),
      final: finalSource(state.projection),
      provisional: provisionalSource(state.provisional),
      shown: choice.source,
      sameProbe: shownData !== null && sameLengths(shownData.offsets, current.offsets),
    });
  };

  /** Two layouts of the same method and parameters (alignment aside) share a scale: the zoom is kept between them. */
  const sameScale = (a: ProjectionParams | null, b: ProjectionParams | null) =>
    a !== null && b !== null && JSON.stringify({ ...a, align: "" }) === JSON.stringify({ ...b, align: "" });

  /**
   * Starts drawing `source` (a final or provisional layout of the store's
   * checkpoint). From a layout of the same points the points move there: with
   * the zoom kept between layouts of the same parameters (checkpoints of one
   * chain); otherwise the old positions are first brought to the new layout's
   * spread and the view refits (a PCA and a t-SNE have unrelated scales).
   */
  const adopt = (source: LayoutSource, before: LayoutSource | null) => {
    pendingFirstRender = `rh-projection-coords-${performance.now()}`;
    performance.mark(pendingFirstRender);
    target = source.coords;
    grid = buildGrid(target);
    shownData = data;
    const keepZoom = before !== null && before.kind === "final" && source.kind === "final" && sameScale(before.params, source.params);
    if (drawn !== null && drawn.length === target.length) {
      from = keepZoom ? drawn.slice() : matchSpread(drawn, target);
      animationStart = performance.now();
      animating = true;
      area.dataset["animating"] = "true";
      if (!keepZoom) fit();
    } else {
      drawn = target.slice();
      animating = false;
      fit();
    }
  };

  /** Nothing of the old layout applies (no checkpoint, or other points and nothing of this one yet). */
  const dropLayout = () => {
    drawn = null;
    from = null;
    target = null;
    grid = null;
    shownData = null;
    animating = false;
    transform = null;
    area.dataset["animating"] = "false";
  };

  let lastData: CheckpointData | null = null;
  const render = (state: Readonly<AppState>, previous: Readonly<AppState> | null) => {
    let base = false;
    let trails = false;
    let overlay = false;
    const dataChanged = state.data !== lastData;
    if (dataChanged) {
      lastData = state.data;
      data = state.data;
    }
    const before = choice;
    const next = decide(state);
    if (next.source === null && before.source !== null) dropLayout();
    else if (next.source !== null && next.source.coords !== before.source?.coords) adopt(next.source, before.source);
    choice = next;
    const nextPaint = choice.kind === "stale" && choice.staleOf === "checkpoint" ? shownData : data;
    if (dataChanged || nextPaint !== paint || choice.kind !== before.kind || choice.staleOf !== before.staleOf || next.source?.coords !== before.source?.coords) {
      paint = nextPaint;
      recolor();
      base = trails = overlay = true;
    }
    if (
      previous !== null &&
      (state.display !== previous.display ||
        state.brushed !== previous.brushed ||
        state.distanceRange !== previous.distanceRange)
    ) {
      if (
        state.display.colorBy !== previous.display.colorBy ||
        state.display.fade !== previous.display.fade ||
        state.brushed !== previous.brushed ||
        state.distanceRange !== previous.distanceRange
      ) {
        recolor();
        base = true;
      }
      trails = true;
    }
    if (previous !== null && (state.selected !== previous.selected || state.focus !== previous.focus)) trails = true;
    if (previous === null || state.hover !== previous.hover) overlay = true;
    if (previous === null || state.display !== previous.display) syncControls();
    updateStatus();
    if (base || trails) updateLegend();
    if (state.hover !== ownHover && ownHover !== null) ownHover = null;
    if (!interactive() && ownHover !== null) hideTooltip();
    // Another checkpoint's trajectories, like its points, are drawn dimmed.
    trailCanvas.style.opacity = interactive() || choice.kind === "none" ? "" : "0.45";
    if (base || trails || overlay) invalidate(base, trails, overlay);
  };

  store.subscribe((state, previous) => render(state, previous));

  // ---- Pointer input -------------------------------------------------------------
  const local = (event: MouseEvent): [number, number] => {
    const rect = area.getBoundingClientRect();
    return [event.clientX - rect.left, event.clientY - rect.top];
  };

  const hitTest = (x: number, y: number): number => {
    if (!grid || !transform || animating || !interactive()) return -1;
    const [dx, dy] = toData(transform, x, y);
    const radiusPx = Math.max(6, pointRadius() / dpr + 3);
    return nearestPoint(grid, dx, dy, radiusPx / transform.k);
  };

  const hoverAt = (event: PointerEvent) => {
    const t0 = performance.now();
    const [x, y] = local(event);
    const p = hitTest(x, y);
    const state = store.get();
    const next = p >= 0 ? p : null;
    if (next !== state.hover) {
      ownHover = next;
      store.set({ hover: next });
      flush();
      performance.measure("rh-projection-hover", { start: t0, end: performance.now() });
    }
    if (next !== null && paint) showTooltip(event.clientX, event.clientY, pointTooltipLines(paint, next));
    else hideTooltip();
  };

  const applyBrush = (points: Int32Array) => {
    const data = paint;
    if (!data || !interactive()) return;
    if (points.length === 0) {
      store.set({ brushed: null });
      return;
    }
    const selected = sequencesOf(points, data.pointSequence);
    const focus = store.get().focus;
    store.set({
      brushed: points,
      selected,
      focus: focus !== null && selected.includes(focus) ? focus : (selected[0] ?? null),
    });
  };

  area.addEventListener("pointerdown", (event) => {
    if (event.button !== 0 || !transform) return;
    area.focus({ preventScroll: true });
    const [x, y] = local(event);
    // Another checkpoint's layout can be panned and zoomed, not brushed.
    const wanted: Tool = currentTool === "pan" ? (event.shiftKey ? "box" : "pan") : currentTool;
    const brushTool: Tool = interactive() ? wanted : "pan";
    if (brushTool === "pan") {
      drag = { kind: "pan", x, y, startX: x, startY: y, moved: false, pointerId: event.pointerId };
    } else {
      drag = { kind: brushTool, x0: x, y0: y, x1: x, y1: y, path: [x, y], pointerId: event.pointerId };
    }
    area.setPointerCapture(event.pointerId);
    hideTooltip();
    event.preventDefault();
  });

  area.addEventListener("pointermove", (event) => {
    if (drag === null) {
      hoverAt(event);
      return;
    }
    if (event.pointerId !== drag.pointerId) return;
    const [x, y] = local(event);
    if (drag.kind === "pan") {
      if (!drag.moved && Math.hypot(x - drag.startX, y - drag.startY) < 3) return;
      drag.moved = true;
      if (transform) transform = panBy(transform, x - drag.x, y - drag.y);
      // The trajectories move with the pan as a bitmap until it ends (redrawing
      // hundreds of them every frame would halve the frame rate).
      trailShift = [trailShift[0] + x - drag.x, trailShift[1] + y - drag.y];
      trailCanvas.style.transform = `translate(${trailShift[0]}px, ${trailShift[1]}px)`;
      drag.x = x;
      drag.y = y;
      publishTransform();
      invalidate(true, false, true);
    } else {
      drag.x1 = x;
      drag.y1 = y;
      if (drag.kind === "lasso") drag.path.push(x, y);
      invalidate(false, false, true);
    }
  });

  const endDrag = (event: PointerEvent, cancelled: boolean) => {
    if (drag === null || event.pointerId !== drag.pointerId) return;
    const d = drag;
    drag = null;
    if (area.hasPointerCapture(event.pointerId)) area.releasePointerCapture(event.pointerId);
    if (cancelled) {
      invalidate(false, false, true);
      return;
    }
    if (d.kind === "pan") {
      if (!d.moved) {
        // A click: select the sequence of the point under the pointer.
        const p = hitTest(d.startX, d.startY);
        const data = paint;
        if (p >= 0 && data) {
          const s = data.pointSequence[p] ?? 0;
          const state = store.get();
          if (event.ctrlKey || event.metaKey) {
            const selected = state.selected.includes(s)
              ? state.selected.filter((x) => x !== s)
              : [...state.selected, s].sort((a, b) => a - b);
            store.set({ selected, focus: selected.includes(s) ? s : (selected[0] ?? null) });
          } else {
            store.set({ selected: state.selected.includes(s) ? state.selected : [s], focus: s });
          }
        }
      }
      invalidate(false, d.moved, true);
      return;
    }
    const t0 = performance.now();
    if (!grid || !transform) return;
    let extent = Math.hypot(d.x1 - d.x0, d.y1 - d.y0);
    if (d.kind === "lasso") {
      // A lasso ends where it started: its size is that of the path's bounding box.
      const xs = d.path.filter((_, i) => i % 2 === 0);
      const ys = d.path.filter((_, i) => i % 2 === 1);
      extent = Math.hypot(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys));
    }
    const small = extent < 3;
    let points: Int32Array;
    if (small) {
      points = new Int32Array(0);
    } else if (d.kind === "box") {
      const [ax, ay] = toData(transform, d.x0, d.y0);
      const [bx, by] = toData(transform, d.x1, d.y1);
      points = pointsInBox(grid, ax, ay, bx, by);
    } else {
      const polygon: number[] = [];
      for (let i = 0; i + 1 < d.path.length; i += 2) {
        const [px, py] = toData(transform, d.path[i] as number, d.path[i + 1] as number);
        polygon.push(px, py);
      }
      points = pointsInPolygon(grid, polygon);
    }
    applyBrush(points);
    dirty.overlay = true;
    flush();
    performance.measure("rh-projection-brush", { start: t0, end: performance.now() });
  };
  area.addEventListener("pointerup", (event) => endDrag(event, false));
  area.addEventListener("pointercancel", (event) => endDrag(event, true));

  area.addEventListener("pointerleave", () => {
    if (drag !== null) return;
    hideTooltip();
    if (ownHover !== null && store.get().hover === ownHover) {
      ownHover = null;
      store.set({ hover: null });
    }
  });

  area.addEventListener(
    "wheel",
    (event) => {
      if (!transform) return;
      event.preventDefault();
      const [x, y] = local(event);
      const delta = event.deltaMode === 1 ? event.deltaY * 16 : event.deltaY;
      const factor = Math.exp(-Math.max(-300, Math.min(300, delta)) * 0.0015);
      transform = zoomAt(transform, x, y, factor);
      publishTransform();
      invalidate(true, true, true);
    },
    { passive: false },
  );

  area.addEventListener("keydown", (event) => {
    if (event.key === "Escape") store.set({ brushed: null });
  });

  // ---- Theme and size ------------------------------------------------------------------
  new MutationObserver(() => {
    theme = readTheme();
    recolor();
    invalidate(true, true, true);
  }).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme", "style", "class"] });
  new ResizeObserver(() => resize()).observe(area);
  resize();
  render(store.get(), null);
}
