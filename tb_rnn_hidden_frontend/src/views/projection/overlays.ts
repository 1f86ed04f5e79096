/**
 * What is drawn and written over and around the points: the hover ring and
 * the brush outline (overlay canvas), the status over the canvas, the layout
 * line (which layout is shown, how it was made, what is computing), the link
 * notices and the legend; and the canvas area's `data-layout-*` attributes
 * with their `rh-layout-shown` marks.
 */
import {
  dataRequestKey,
  layoutCode,
  layoutDescription,
  layoutDetails,
  methodLabel,
  noticeText,
  sentParams,
} from "../../domain/layout_state";
import { annotationOfColorBy, formatValue, trackOfColorBy } from "../../domain/annotations";
import { IDLE_PROJECTION, type AnnotationTrack } from "../../domain/model";
import { categoryColor } from "../../ui/annotation_cells";
import type { AppState } from "../../state/app_state";
import { CORRECT_COLOR, WRONG_COLOR, classColor, rgbCss, sequentialColor } from "../../ui/colors";
import { h, setChildren } from "../../ui/dom";
import { brushTrajectoryCount, interactive, pointCount, trajectorySequences, type Drag, type ProjectionView } from "./context";
import { THIN_TRAJECTORIES_ABOVE } from "./trajectories";

/** The ring around the hovered point. */
function drawHover(view: ProjectionView, ctx: CanvasRenderingContext2D, p: number): void {
  const { drawn } = view.layout;
  const { transform } = view.camera;
  if (drawn === null || transform === null) return;
  const { theme } = view;
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

/** The outline of a box or lasso being dragged. */
function drawBrush(view: ProjectionView, ctx: CanvasRenderingContext2D, drag: Exclude<Drag, { kind: "pan" }>): void {
  ctx.beginPath();
  if (drag.kind === "box") {
    ctx.rect(Math.min(drag.x0, drag.x1), Math.min(drag.y0, drag.y1), Math.abs(drag.x1 - drag.x0), Math.abs(drag.y1 - drag.y0));
  } else {
    const path = drag.path;
    ctx.moveTo(path[0] ?? 0, path[1] ?? 0);
    for (let i = 2; i + 1 < path.length; i += 2) ctx.lineTo(path[i] as number, path[i + 1] as number);
    ctx.closePath();
  }
  ctx.fillStyle = rgbCss(view.theme.highlightRgb, 0.12);
  ctx.fill();
  ctx.setLineDash([5, 4]);
  ctx.lineWidth = 1.5;
  ctx.strokeStyle = view.theme.fg;
  ctx.stroke();
  ctx.setLineDash([]);
}

/** Redraws the overlay canvas: the hovered point and the brush outline. */
export function drawOverlay(view: ProjectionView): void {
  const ctx = view.overlayCtx;
  const canvas = view.el.overlayCanvas;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.setTransform(view.camera.dpr, 0, 0, view.camera.dpr, 0, 0);
  const hover = view.store.get().hover;
  const ringed = interactive(view) && hover !== null && hover >= 0 && hover < pointCount(view);
  if (ringed) drawHover(view, ctx, hover);
  // For tests: the point ringed as hovered (by this view or, in compare mode, by the other side's).
  const shown = ringed ? String(hover) : "";
  if (view.el.area.dataset["hover"] !== shown) view.el.area.dataset["hover"] = shown;
  const drag = view.pointer.drag;
  if (drag !== null && drag.kind !== "pan") drawBrush(view, ctx, drag);
}

/** What the overlay says while no layout can be drawn for the checkpoint. */
function waitingText(state: Readonly<AppState>, wanted: string): string {
  const proj = state.projection;
  const method = methodLabel(sentParams(state).method);
  if (proj.key !== wanted) return "Waiting for the projection…";
  if (proj.state === "queued") return `${method} projection queued…`;
  if (proj.state === "running") return `Computing the ${method} projection: ${proj.phase || "working"} (${Math.round(proj.progress * 100)}%)`;
  if (proj.state === "cancelled") return "Projection cancelled.";
  if (proj.state === "done") return "Loading the layout…";
  return "Waiting for the projection…";
}

/** The layout line: the final layout described, or the notice over a provisional or stale one. */
function updateLayoutLine(view: ProjectionView, state: Readonly<AppState>, failed: boolean): void {
  const { choice } = view.layout;
  const line = view.el.layoutLine;
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
  if (line.textContent !== text || line.dataset["kind"] !== choice.kind) {
    setChildren(line, text ? h("div", { class: "layout-box" }, h("span", { class: "layout-head" }, text.slice(0, at)), text.slice(at)) : null);
  }
  line.title = title;
  line.dataset["kind"] = choice.kind;
  line.dataset["failed"] = String(failed && choice.kind !== "final");
}

/** The status over the canvas, `data-state`, the layout line and the link notices. */
export function updateStatus(view: ProjectionView): void {
  const state = view.store.get();
  const { choice } = view.layout;
  const { status, area, linkNotice } = view.el;
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
  updateLayoutLine(view, state, failed);
  if (state.linkNotices !== view.published.notices) {
    view.published.notices = state.linkNotices;
    setChildren(linkNotice, ...state.linkNotices.map((notice) => h("div", {}, notice)));
  }
}

/** Publishes what the last frame drew (kind and steps of the layout, the data's step), and marks each change. */
export function publishLayout(view: ProjectionView): void {
  const { drawn, choice, data } = view.layout;
  const kind = drawn === null ? "none" : choice.kind;
  const source = drawn === null ? null : choice.source;
  const layoutStep = source?.step ?? null;
  const checkpointStep = data?.step ?? null;
  const code = kind === "final" && source?.params ? layoutCode(source.layout, source.params.method) : "";
  const key = JSON.stringify([kind, layoutStep, checkpointStep, code]);
  if (key === view.published.layout) return;
  view.published.layout = key;
  const area = view.el.area;
  area.dataset["layoutKind"] = kind;
  area.dataset["layoutStep"] = layoutStep === null ? "" : String(layoutStep);
  area.dataset["checkpointStep"] = checkpointStep === null ? "" : String(checkpointStep);
  area.dataset["layout"] = code;
  performance.mark("rh-layout-shown", { detail: { kind, step: layoutStep, checkpoint: checkpointStep, code } });
}

const note = (text: string, attrs: Record<string, string> = {}) => h("span", { class: "legend-note", ...attrs }, text);

const swatch = (color: string, text: string) =>
  h("span", { class: "legend-item" }, h("span", { class: "legend-swatch", style: `background:${color}` }), text);

/** Categories listed in the legend at most (the rest are counted). */
const LEGEND_CATEGORIES = 24;

/** The key of an annotation track: its categories' swatches, or its ramp from min to max. */
function trackKey(track: AnnotationTrack): Node[] {
  if (track.kind === "categorical") {
    const shown = track.categories.slice(0, LEGEND_CATEGORIES).map((name, c) => swatch(categoryColor(c), name));
    const more = track.categories.length - shown.length;
    return [note(`${track.name}:`), ...shown, ...(more > 0 ? [note(`and ${more} more`)] : [])];
  }
  const stops = Array.from({ length: 9 }, (_, i) => sequentialColor(i / 8)).join(", ");
  const ramp = h("span", { class: "legend-ramp", style: `background:linear-gradient(to right, ${stops})` });
  return [h("span", { class: "legend-item", "data-track": track.name }, `${track.name} ${formatValue(track.min)}`, ramp, formatValue(track.max))];
}

/** The legend's colour key for `display.colorBy`. */
function colorKey(view: ProjectionView): Node[] {
  const data = view.layout.paint;
  if (data === null) return [];
  const by = view.store.get().display.colorBy;
  const track = trackOfColorBy(by, data.annotations);
  if (track !== null) return trackKey(track);
  const missing = annotationOfColorBy(by);
  if (missing !== null) return [note(`no annotation "${missing}" in this checkpoint: coloured by prediction`), ...data.classNames.map((name, c) => swatch(classColor(c), name))];
  if (by === "confidence" && data.classNames.length > 0) {
    return [...data.classNames.map((name, c) => swatch(classColor(c), name)), note("lighter: less confident")];
  }
  if (by === "prediction" || by === "label" || by === "confidence") {
    if (by === "label" && !data.meta.labels) return [note("no true classes logged")];
    if (data.classNames.length === 0) return [note("no predictions logged")];
    return data.classNames.map((name, c) => swatch(classColor(c), name));
  }
  if (by === "time") {
    const stops = Array.from({ length: 9 }, (_, i) => sequentialColor(i / 8)).join(", ");
    const ramp = h("span", { class: "legend-ramp", style: `background:linear-gradient(to right, ${stops})` });
    return [h("span", { class: "legend-item" }, "step 0", ramp, `step ${Math.max(0, data.meta.max_length - 1)}`)];
  }
  return [swatch(CORRECT_COLOR, "correct at this step"), swatch(WRONG_COLOR, "wrong at this step")];
}

/** The legend: the colour key, then notes on what is drawn. */
export function updateLegend(view: ProjectionView): void {
  const state = view.store.get();
  const { paint, choice } = view.layout;
  if (!paint) {
    setChildren(view.el.legend);
    return;
  }
  const items: Node[] = colorKey(view);
  const n = pointCount(view);
  items.push(note(`${n.toLocaleString("en-US")} ${n === 1 ? "point" : "points"}`));
  if (!interactive(view) && choice.source !== null) items.push(note(`dimmed: step ${choice.source.step}'s layout and predictions`));
  const shown = trajectorySequences(view).length;
  const brushed = brushTrajectoryCount(view);
  if (brushed === null && state.selected.length > shown) items.push(note(`trajectories of ${shown} of ${state.selected.length} selected sequences`));
  if (shown > THIN_TRAJECTORIES_ABOVE || (brushed !== null && shown > 1)) items.push(note("thin lines but the focused one"));
  if ((shown > 0 && state.display.markers) || state.display.allMarkers) items.push(note("○ start, ■ end"));
  if (shown > 0 && state.display.labels.length > 0) {
    items.push(h("span", { class: "legend-note", id: "projection-label-key" },
      "labels: ", h("span", { class: "label-after" }, "after"), " / ", h("span", { class: "label-before" }, "before"), " a change"));
  }
  if (state.distanceRange !== null && interactive(view)) {
    const [lo, hi] = state.distanceRange;
    items.push(note(`ringed: arriving step distance ${lo.toFixed(2)}–${hi.toFixed(2)}`));
  }
  setChildren(view.el.legend, ...items);
}
