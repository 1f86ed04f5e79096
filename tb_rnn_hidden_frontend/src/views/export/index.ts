/**
 * "Export ▾" in the corner of each view: the view as PNG (device resolution)
 * and as SVG (vectors). The projection has its own writer
 * (projection_svg.ts, mounted by the projection view with
 * `mountProjectionExport`); every other panel (overview, input, heat map,
 * step distances, LSTMVis' units) is written from its layout by dom_svg.ts,
 * its canvases drawn once more by their own code into the recorder
 * (canvas_tape.ts), and its PNG
 * is that SVG rasterised at the screen's pixel density, so the two agree.
 *
 * For tests each menu is `data-export-menu=<view>` with entries
 * `data-export=png|svg`; after an export it carries `data-exported` (the
 * file's name) and, for an SVG, `data-svg-points` (projection) or
 * `data-svg-canvases` / `data-svg-pixels` (canvases written as vectors or
 * as pixels). Each export is measured as `rh-view-export` (User Timing,
 * `detail` {file, bytes}): from the choice to the file's bytes.
 */
import type { AppState } from "../../state/app_state";
import type { Store } from "../../state/store";
import { downloadBlob, fileName } from "../../ui/download";
import { exportMenu } from "../../ui/export_menu";
import { addStyles } from "../../ui/styles";
import type { ProjectionView } from "../projection/context";
import type { PageLayout } from "../shell";
import { backgroundOf, elementToSvg } from "./dom_svg";
import { canvasBlob, projectionPng, projectionSvg } from "./projection_svg";
import { IdSource, attrs, num, paintOf, svgDocument } from "./svg_writer";

const CSS = `
.view-export-host { position: relative; }
.view-export-host > h2, .view-export-host > .distance-head { padding-right: 76px; }
.export-menu.view-export { position: absolute; top: 6px; right: 8px; z-index: 6; background: var(--rh-card); }
.projection-area > .export-menu.view-export { top: 6px; right: 6px; opacity: 0.9; }
`;

/** The panels exported from their layout, by name (the name is the menu's and the file's). */
const PANELS = ["overview", "input", "heatmap", "distances", "units"] as const;
type PanelName = (typeof PANELS)[number];

const SVG_TYPE = "image/svg+xml";

function name(store: Store<AppState>, view: string, extension: string): string {
  const s = store.get();
  return fileName([s.run ?? "", s.tag ?? "", s.data ? `step${s.data.step}` : "", view], extension);
}

/** The panel as an SVG document of its size (CSS px, rounded up), on its background. */
export function panelSvg(panel: HTMLElement, title: string): { svg: string; width: number; height: number; counts: ReturnType<typeof elementToSvg>["counts"] } {
  const rect = panel.getBoundingClientRect();
  const width = Math.ceil(rect.width);
  const height = Math.ceil(rect.height);
  const { svg, counts } = elementToSvg(panel, 0, 0, new IdSource("v"));
  const bg = paintOf(backgroundOf(panel)).color;
  const body = `<rect${attrs({ width: num(width), height: num(height), fill: bg })}/>\n${svg}\n`;
  return { svg: svgDocument(width, height, body, title), width, height, counts };
}

/** An SVG document drawn into a canvas of `width` x `height` CSS px at the screen's density, as PNG. */
export async function rasterise(svg: string, width: number, height: number): Promise<Blob> {
  const ratio = window.devicePixelRatio || 1;
  const url = URL.createObjectURL(new Blob([svg], { type: SVG_TYPE }));
  try {
    const image = new Image();
    image.src = url;
    await image.decode();
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    const ctx = canvas.getContext("2d");
    if (ctx === null) throw new Error("This browser cannot draw on a canvas.");
    ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
    return await canvasBlob(canvas);
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** Runs an export, marking the menu with the file written (or the error). */
async function exporting(menu: HTMLElement, file: string, make: () => Promise<Blob> | Blob): Promise<void> {
  menu.dataset["exporting"] = "true";
  const start = performance.now();
  try {
    const blob = await make();
    performance.measure("rh-view-export", { start, end: performance.now(), detail: { file, bytes: blob.size } });
    downloadBlob(file, blob);
    menu.dataset["exported"] = file;
    delete menu.dataset["exportError"];
  } catch (error) {
    menu.dataset["exportError"] = error instanceof Error ? error.message : String(error);
  } finally {
    delete menu.dataset["exporting"];
  }
}

const nothingShown = (panel: HTMLElement, store: Store<AppState>) => () =>
  store.get().data === null || panel.getBoundingClientRect().width === 0 ? "Nothing is shown in this view." : null;

/** The menu of one panel exported from its layout. */
function mountPanelExport(view: PanelName, panel: HTMLElement, store: Store<AppState>): void {
  const title = () => `${panel.getAttribute("aria-label") ?? view} — ${name(store, view, "svg").replace(/\.svg$/, "")}`;
  const disabled = nothingShown(panel, store);
  const menu: HTMLElement = exportMenu(view, [
    {
      label: "PNG",
      id: "png",
      disabled,
      run: () =>
        exporting(menu, name(store, view, "png"), () => {
          const doc = panelSvg(panel, title());
          return rasterise(doc.svg, doc.width, doc.height);
        }),
    },
    {
      label: "SVG",
      id: "svg",
      disabled,
      run: () =>
        exporting(menu, name(store, view, "svg"), () => {
          const doc = panelSvg(panel, title());
          menu.dataset["svgCanvases"] = String(doc.counts.canvas);
          menu.dataset["svgPixels"] = String(doc.counts.pixels);
          return new Blob([doc.svg], { type: SVG_TYPE });
        }),
    },
  ]);
  menu.classList.add("view-export");
  panel.classList.add("view-export-host");
  panel.append(menu);
}

/** The export menus of the panels exported from their layout (the projection mounts its own). */
export function mountViewExports(layout: PageLayout, store: Store<AppState>): void {
  addStyles("view-export", CSS);
  for (const view of PANELS) mountPanelExport(view, layout[view], store);
}

/** The projection's menu, in the plot's top-right corner (pointer and keys on it do not reach the plot). */
export function mountProjectionExport(view: ProjectionView): void {
  addStyles("view-export", CSS);
  const disabled = () => (view.layout.drawn === null || view.camera.transform === null ? "No layout is drawn yet." : null);
  const menu: HTMLElement = exportMenu("projection", [
    { label: "PNG", id: "png", disabled, run: () => exporting(menu, name(view.store, "projection", "png"), () => projectionPng(view)) },
    {
      label: "SVG",
      id: "svg",
      disabled,
      run: () =>
        exporting(menu, name(view.store, "projection", "svg"), () => {
          const doc = projectionSvg(view);
          menu.dataset["svgPoints"] = String(doc.points);
          return new Blob([doc.svg], { type: SVG_TYPE });
        }),
    },
  ]);
  menu.classList.add("view-export");
  for (const kind of ["pointerdown", "pointermove", "pointerup", "wheel", "keydown", "dblclick"]) {
    menu.addEventListener(kind, (event) => event.stopPropagation());
  }
  view.el.area.append(menu);
}
