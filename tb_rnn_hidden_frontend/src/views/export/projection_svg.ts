/**
 * The projection as SVG and PNG.
 *
 * SVG: the plot as on screen, in vectors: one `<circle>` per point drawn, in
 * the colours and layers the points layer computed (`view.raster`) at the
 * coordinates it drew (`view.layout.drawn` through `view.camera.transform`),
 * in its drawing order; the trajectories, markers and labels drawn by the
 * view's own `drawTrajectories` into an `SvgContext`; the lit points above
 * them; axes whose ticks are the layout's coordinates; a caption (run, tag,
 * step, which layout) above and the legend below. The hover ring and the
 * brush outline (transient) are left out.
 *
 * PNG: the stacked canvases composed at device resolution, as drawn.
 */
import { toData } from "../../domain/projection_geometry";
import { packRgb } from "../../ui/colors";
import { themeColor } from "../../ui/styles";
import { pointCount, pointRadius, type ProjectionView } from "../projection/context";
import { drawTrajectories } from "../projection/trajectories";
import { niceTicks, tickLabel } from "./axis_ticks";
import { backgroundOf, elementToSvg } from "./dom_svg";
import { SvgContext, withRecordingPaths } from "./svg_context";
import { IdSource, attrs, escapeText, num, paintOf, svgDocument } from "./svg_writer";

/** Room around the plot for the axes (CSS px). */
const MARGIN = { left: 52, right: 12, top: 30, bottom: 34 };
const FONT = "Roboto, 'Helvetica Neue', Arial, sans-serif";

const hex = (packed: number) => `#${(packed & 0xffffff).toString(16).padStart(6, "0").replace(/(..)(..)(..)/, "$3$2$1")}`;

/** The points of one layer pass as `<circle>`s (runs of one colour share a group), and how many. */
function pointCircles(view: ProjectionView, pass: number, x0: number, y0: number): { svg: string; count: number } {
  const { drawn } = view.layout;
  const { transform, dpr, width, height } = view.camera;
  const { colors, layer } = view.raster;
  if (drawn === null || transform === null) return { svg: "", count: 0 };
  const r = pointRadius(view) / dpr;
  const rs = num(r);
  const ringColour = hex(packRgb(view.theme.highlightRgb));
  const litColour = hex(packRgb(view.theme.fgRgb));
  const parts: string[] = [];
  let runColour = -1;
  let count = 0;
  const n = pointCount(view);
  for (let p = 0; p < n; p++) {
    if (layer[p] !== pass) continue;
    // As the points layer does: the device pixel the disc is centred on.
    const cx = Math.round(((drawn[2 * p] as number) * transform.k + transform.tx) * dpr) / dpr;
    const cy = Math.round((transform.ty - (drawn[2 * p + 1] as number) * transform.k) * dpr) / dpr;
    if (!(cx >= -r && cy >= -r && cx < width + r && cy < height + r)) continue;
    const colour = colors[p] as number;
    if (pass >= 2) {
      parts.push(`<circle class="ring"${attrs({ cx: x0 + cx, cy: y0 + cy, r: r + 1 / dpr, fill: pass === 2 ? ringColour : litColour })}/>`);
    }
    if (colour !== runColour || pass >= 2) {
      if (runColour !== -1) parts.push("</g>");
      parts.push(`<g fill="${hex(colour)}">`);
      runColour = colour;
    }
    parts.push(`<circle cx="${num(x0 + cx)}" cy="${num(y0 + cy)}" r="${rs}"/>`);
    if (pass >= 2) {
      parts.push("</g>");
      runColour = -1;
    }
    count++;
  }
  if (runColour !== -1) parts.push("</g>");
  return { svg: parts.join(""), count };
}

/** The axes: the plot's frame, ticks and their labels in the layout's coordinates. */
function axes(view: ProjectionView, x0: number, y0: number, fg: string, muted: string, frame: string): string {
  const { transform, width, height } = view.camera;
  if (transform === null) return "";
  const [left, top] = toData(transform, 0, 0);
  const [right, bottom] = toData(transform, width, height);
  const xTicks = niceTicks(left, right, Math.max(2, Math.round(width / 90)));
  const yTicks = niceTicks(bottom, top, Math.max(2, Math.round(height / 60)));
  const step = (ticks: number[]) => (ticks.length > 1 ? (ticks[1] as number) - (ticks[0] as number) : 1);
  const parts: string[] = [`<g class="axes" font-family="${escapeText(FONT)}" font-size="10" fill="${muted}" stroke-width="1">`];
  parts.push(`<rect${attrs({ x: x0, y: y0, width, height, fill: "none", stroke: frame })}/>`);
  for (const v of xTicks) {
    const x = x0 + v * transform.k + transform.tx;
    parts.push(`<line${attrs({ x1: x, y1: y0 + height, x2: x, y2: y0 + height + 4, stroke: muted })}/>`);
    parts.push(`<text class="tick" data-axis="x"${attrs({ x, y: y0 + height + 14, "text-anchor": "middle" })}>${tickLabel(v, step(xTicks))}</text>`);
  }
  for (const v of yTicks) {
    const y = y0 + transform.ty - v * transform.k;
    parts.push(`<line${attrs({ x1: x0 - 4, y1: y, x2: x0, y2: y, stroke: muted })}/>`);
    parts.push(`<text class="tick" data-axis="y"${attrs({ x: x0 - 6, y, "text-anchor": "end", "dominant-baseline": "central" })}>${tickLabel(v, step(yTicks))}</text>`);
  }
  parts.push(`<text${attrs({ x: x0 + width / 2, y: y0 + height + 28, "text-anchor": "middle", fill: fg })}>layout x</text>`);
  parts.push(`<text${attrs({ x: 12, y: y0 + height / 2, "text-anchor": "middle", fill: fg, transform: `rotate(-90 12 ${num(y0 + height / 2)})` })}>layout y</text>`);
  parts.push("</g>");
  return parts.join("");
}

/**
 * The trajectories, markers and labels as the view draws them, recorded; if
 * the drawing uses what the recorder cannot write, the trails canvas' pixels.
 */
function trajectoriesSvg(view: ProjectionView, x0: number, y0: number, ids: IdSource): string {
  const { dpr, width, height } = view.camera;
  const trails = new SvgContext([1 / dpr, 0, 0, 1 / dpr, x0, y0], ids);
  trails.setTransform(dpr, 0, 0, dpr, 0, 0);
  try {
    withRecordingPaths(() => drawTrajectories(view, trails as unknown as CanvasRenderingContext2D));
    return trails.svg();
  } catch {
    const href = view.el.trailCanvas.toDataURL("image/png");
    return `<image${attrs({ x: x0, y: y0, width, height, "xlink:href": href, preserveAspectRatio: "none" })}/>`;
  }
}

/** The caption above the plot: run, tag, step, and what the layout is (the head of the layout line). */
export function projectionCaption(view: ProjectionView): string {
  const state = view.store.get();
  const where = [state.run, state.tag, state.data ? `step ${state.data.step}` : null].filter((v) => v !== null).join(" · ");
  const head = (view.el.layoutLine.querySelector(".layout-head")?.textContent ?? "").trim();
  return head ? `${where} — ${head}` : where;
}

/** The projection as an SVG document, with what it holds (points, trajectories' elements). */
export function projectionSvg(view: ProjectionView): { svg: string; points: number } {
  const ids = new IdSource("p");
  const { width, height } = view.camera;
  const x0 = MARGIN.left;
  const y0 = MARGIN.top;
  const style = getComputedStyle(view.el.area);
  const pageBg = backgroundOf(view.el.area.parentElement ?? view.el.area);
  const plotBg = paintOf(backgroundOf(view.el.area)).color;
  const fg = paintOf(getComputedStyle(view.el.legend).color).color;
  const frame = paintOf(style.borderTopColor).color === "none" ? "#bdbdbd" : paintOf(style.borderTopColor).color;
  const muted = paintOf(themeColor("--rh-muted") || "#757575").color;
  const clip = ids.take("plot");
  const parts: string[] = [];
  parts.push(`<text${attrs({ x: x0, y: 18, "font-family": FONT, "font-size": 12, fill: fg })}>${escapeText(projectionCaption(view))}</text>`);
  parts.push(`<clipPath id="${clip}"><rect${attrs({ x: x0, y: y0, width, height })}/></clipPath>`);
  parts.push(`<rect class="plot-area"${attrs({ x: x0, y: y0, width, height, fill: plotBg })}/>`);
  parts.push(`<g clip-path="url(#${clip})">`);
  let points = 0;
  const base: string[] = [];
  for (const pass of [0, 1, 2]) {
    const layer = pointCircles(view, pass, x0, y0);
    base.push(layer.svg);
    points += layer.count;
  }
  parts.push(`<g class="points">${base.join("")}</g>`);
  const trailOpacity = Number(view.el.trailCanvas.style.opacity || 1);
  parts.push(`<g class="trajectories"${attrs({ "data-trajectories": view.el.area.dataset["trajectories"] ?? "", opacity: trailOpacity < 1 ? trailOpacity : undefined })}>${trajectoriesSvg(view, x0, y0, ids)}</g>`);
  const lit = pointCircles(view, 3, x0, y0);
  parts.push(`<g class="points lit">${lit.svg}</g>`);
  points += lit.count;
  parts.push("</g>");
  parts.push(axes(view, x0, y0, fg, muted, frame));
  const legendTop = y0 + height + MARGIN.bottom + 6;
  const legend = elementToSvg(view.el.legend, x0, legendTop, ids);
  parts.push(`<g class="legend">${legend.svg}</g>`);
  const total = { width: x0 + width + MARGIN.right, height: legendTop + view.el.legend.getBoundingClientRect().height + 8 };
  const body = `<rect${attrs({ width: total.width, height: total.height, fill: paintOf(pageBg).color })}/>\n${parts.join("\n")}\n`;
  const title = `${projectionCaption(view)}. ${(view.el.layoutLine.textContent ?? "").trim()}`;
  return { svg: svgDocument(total.width, total.height, body, title), points };
}

/** The plot's canvases composed into one PNG at device resolution, on the plot's background. */
export async function projectionPng(view: ProjectionView): Promise<Blob> {
  const { baseCanvas, trailCanvas, litCanvas } = view.el;
  const out = document.createElement("canvas");
  out.width = baseCanvas.width;
  out.height = baseCanvas.height;
  const ctx = out.getContext("2d");
  if (ctx === null) throw new Error("This browser cannot draw on a canvas.");
  ctx.fillStyle = backgroundOf(view.el.area);
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(baseCanvas, 0, 0);
  ctx.globalAlpha = Number(trailCanvas.style.opacity || 1);
  const [dx, dy] = view.pointer.trailShift;
  ctx.drawImage(trailCanvas, dx * view.camera.dpr, dy * view.camera.dpr);
  ctx.globalAlpha = 1;
  ctx.drawImage(litCanvas, 0, 0);
  return canvasBlob(out);
}

export function canvasBlob(canvas: HTMLCanvasElement): Promise<Blob> {
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("The image could not be encoded."))), "image/png");
  });
}
