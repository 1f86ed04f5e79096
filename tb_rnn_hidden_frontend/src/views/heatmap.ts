/**
 * Time x class heat map of the focus sequence: rows classes, columns steps,
 * colour = probability. A column is a step: hovering it hovers that point
 * everywhere; the hovered step (from any view) is outlined.
 *
 * Columns are at least MIN_CELL px wide: a long sequence scrolls
 * horizontally under fixed class labels (the canvas is pinned with
 * `position: sticky` and draws the scrolled window), and a step hovered in
 * another view is scrolled into sight.
 *
 * For tests the root carries `data-hover-step`, the marked flip step as
 * `data-flip-step`, and the geometry `data-cell` (CSS px per step) and
 * `data-label-width`; the scroller's `scrollLeft` is the scroll offset.
 */
import { sequentialColor } from "../ui/colors";
import { h, sharpContext } from "../ui/dom";
import type { AppState } from "../state/app_state";
import type { Store } from "../state/store";
import { addStyles, themeColor } from "../ui/styles";
import { bindPointHover } from "../ui/hover";

const ROW_HEIGHT = 16;
const LABEL_WIDTH = 72;
/** Narrowest column: below this a step cannot be seen or hovered on its own. */
export const MIN_CELL = 3;

const CSS = `
#heatmap-root { position: relative; }
#heatmap-scroll { overflow-x: auto; overflow-y: hidden; }
#heatmap-content { position: relative; }
#heatmap-canvas { display: block; position: sticky; left: 0; cursor: crosshair; }
.heatmap-scale { display: flex; align-items: center; gap: 6px; color: var(--rh-muted); margin-top: 4px; }
.heatmap-scale .ramp { width: 120px; height: 8px; border-radius: 2px; background: linear-gradient(to right, ${[0, 0.25, 0.5, 0.75, 1].map(sequentialColor).join(", ")}); }
#heatmap-caption { color: var(--rh-muted); margin: 0 0 6px; }
`;

/** A tick spacing of 1, 2, 5, 10, 20, 50, … steps that puts labels at least `minPx` apart. */
function tickEvery(cell: number, minPx: number): number {
  for (let k = 1; ; k *= 10) {
    for (const m of [1, 2, 5]) if (m * k * cell >= minPx) return m * k;
  }
}

export function mountHeatmap(parent: HTMLElement, store: Store<AppState>): void {
  addStyles("heatmap", CSS);
  const caption = h("p", { id: "heatmap-caption" });
  const canvas = h("canvas", { id: "heatmap-canvas", "data-testid": "heatmap-canvas" });
  const content = h("div", { id: "heatmap-content" }, canvas);
  const scroller = h("div", { id: "heatmap-scroll" }, content);
  const root = h("div", { id: "heatmap-root" }, scroller);
  const scale = h("div", { class: "heatmap-scale" }, "0", h("span", { class: "ramp" }), "1 (probability)");
  parent.append(h("h2", {}, "Prediction over time"), caption, root, scale);

  const geometry = () => {
    const state = store.get();
    const data = state.data;
    if (data === null || state.focus === null || data.probabilities === null) return null;
    const i = state.focus;
    const start = data.offsets[i] as number;
    const length = (data.offsets[i + 1] as number) - start;
    const width = Math.max(LABEL_WIDTH + MIN_CELL, scroller.clientWidth || 300); // the visible window
    const cell = Math.max(MIN_CELL, (width - LABEL_WIDTH) / Math.max(1, length));
    const full = LABEL_WIDTH + cell * length; // scrolls when wider than the window
    return { data, i, start, length, width, cell, full };
  };

  /** Scrolls so that step `t` is in the window (centred when it was outside). */
  const reveal = (g: NonNullable<ReturnType<typeof geometry>>, t: number) => {
    const view = g.width - LABEL_WIDTH;
    const x = t * g.cell;
    if (x >= scroller.scrollLeft && x + g.cell <= scroller.scrollLeft + view) return;
    scroller.scrollLeft = Math.max(0, Math.min(g.full - g.width, x + g.cell / 2 - view / 2));
  };

  const draw = () => {
    const g = geometry();
    const state = store.get();
    root.dataset["hoverStep"] =
      g !== null && state.hover !== null && state.hover >= g.start && state.hover < g.start + g.length ? String(state.hover - g.start) : "";
    root.dataset["flipStep"] = g !== null && (g.data.flipStep[g.i] ?? 0) > 0 ? String(g.data.flipStep[g.i]) : "";
    if (g === null) {
      canvas.hidden = true;
      scale.hidden = true;
      content.style.width = "";
      root.dataset["cell"] = "";
      caption.textContent = state.data === null ? "" : state.data.probabilities === null ? "Logged without class probabilities." : "Select a sequence to see its predictions over time.";
      return;
    }
    canvas.hidden = false;
    scale.hidden = false;
    const { data, start, length, width, cell, full } = g;
    root.dataset["cell"] = String(cell);
    root.dataset["labelWidth"] = String(LABEL_WIDTH);
    const scrolls = full > width + 0.5;
    content.style.width = `${scrolls ? full : width}px`;
    canvas.style.width = `${width}px`;
    const classes = data.classNames.length;
    caption.textContent = `Sequence ${g.i}: probability of each class after each step (${length} steps${scrolls ? "; scroll sideways for more" : ""}).`;
    const height = classes * ROW_HEIGHT + 18;
    canvas.style.height = `${height}px`;
    const ctx = sharpContext(canvas, width, height);
    if (!ctx) return;
    const scroll = scrolls ? Math.min(scroller.scrollLeft, full - width) : 0;
    // Columns t0 .. t1 - 1 are (partly) in the window.
    const t0 = Math.max(0, Math.floor(scroll / cell));
    const t1 = Math.min(length, Math.ceil((scroll + width - LABEL_WIDTH) / cell));
    const xOf = (t: number) => LABEL_WIDTH + t * cell - scroll;
    ctx.save();
    ctx.beginPath();
    ctx.rect(LABEL_WIDTH, 0, width - LABEL_WIDTH, height);
    ctx.clip();
    const probabilities = data.probabilities as Float32Array;
    for (let t = t0; t < t1; t++) {
      for (let k = 0; k < classes; k++) {
        ctx.fillStyle = sequentialColor(probabilities[(start + t) * classes + k] ?? 0);
        ctx.fillRect(xOf(t), k * ROW_HEIGHT, Math.ceil(cell), ROW_HEIGHT - 1);
      }
    }
    // Step axis: first, flip and last step, and when scrolling, every few steps.
    ctx.font = "11px Roboto, Arial, sans-serif";
    ctx.textBaseline = "middle";
    ctx.fillStyle = themeColor("--rh-muted");
    const flip = data.flipStep[g.i] ?? 0;
    const ticks = new Set([0, length - 1, ...(flip > 0 ? [flip] : [])]);
    if (scrolls) {
      const every = tickEvery(cell, 44);
      for (let t = Math.ceil(t0 / every) * every; t < t1; t += every) ticks.add(t);
    }
    // Where labels would overlap, the less important one is left out: flip, first, last, others.
    const rank = (t: number) => (t === flip && flip > 0 ? 0 : t === 0 ? 1 : t === length - 1 ? 2 : 3);
    const placed: [number, number][] = [];
    for (const t of [...ticks].sort((a, b) => rank(a) - rank(b) || a - b)) {
      if (t < t0 - 1 || t > t1) continue;
      // The last step's label ends at its column's right edge instead of running off it.
      const last = t === length - 1 && t > 0;
      const text = String(t);
      const textWidth = ctx.measureText(text).width;
      const left = last ? xOf(t + 1) - textWidth : xOf(t);
      if (placed.some(([a, b]) => left < b + 4 && left + textWidth + 4 > a)) continue;
      placed.push([left, left + textWidth]);
      ctx.fillText(text, left, classes * ROW_HEIGHT + 9);
    }
    if (flip > 0) {
      ctx.strokeStyle = themeColor("--rh-fg");
      ctx.setLineDash([3, 2]);
      ctx.beginPath();
      ctx.moveTo(xOf(flip), 0);
      ctx.lineTo(xOf(flip), classes * ROW_HEIGHT);
      ctx.stroke();
      ctx.setLineDash([]);
    }
    const hovered = root.dataset["hoverStep"];
    if (hovered) {
      // Highlight outside, white inside: visible on every colour of the ramp.
      const x = xOf(Number(hovered));
      ctx.strokeStyle = themeColor("--rh-highlight");
      ctx.lineWidth = 3;
      ctx.strokeRect(x - 0.5, -0.5, Math.max(2, cell) + 1, classes * ROW_HEIGHT + 1);
      ctx.strokeStyle = "#ffffff";
      ctx.lineWidth = 1;
      ctx.strokeRect(x + 1, 1, Math.max(1, cell - 2), classes * ROW_HEIGHT - 2);
    }
    ctx.restore();
    // Class labels last, over a band that hides columns scrolled under them.
    ctx.fillStyle = themeColor("--rh-card");
    ctx.fillRect(0, 0, LABEL_WIDTH, height);
    ctx.fillStyle = themeColor("--rh-fg");
    data.classNames.forEach((name, k) => {
      const text = name.length > 10 ? `${name.slice(0, 9)}…` : name;
      ctx.fillText(text, 2, k * ROW_HEIGHT + ROW_HEIGHT / 2);
    });
    if (scrolls && t0 > 0) {
      ctx.fillStyle = themeColor("--rh-muted");
      ctx.fillText("‹", LABEL_WIDTH - 9, classes * ROW_HEIGHT + 9);
    }
  };

  /** The step under a pointer event, or -1. */
  const stepAt = (event: PointerEvent, g: NonNullable<ReturnType<typeof geometry>>): number => {
    const x = event.clientX - canvas.getBoundingClientRect().left - LABEL_WIDTH;
    if (x < 0) return -1;
    const scroll = g.full > g.width + 0.5 ? Math.min(scroller.scrollLeft, g.full - g.width) : 0;
    const t = Math.floor((x + scroll) / g.cell);
    return t >= 0 && t < g.length ? t : -1;
  };

  let ownHover = false; // the last hover came from this view (no scrolling under the pointer)
  bindPointHover(store, canvas, {
    on: "pointermove",
    clearOutside: true,
    hitAt: (event) => {
      const g = geometry();
      const t = g === null ? -1 : stepAt(event, g);
      return g === null || t < 0 ? null : { point: g.start + t, data: g.data };
    },
    hovered: () => {
      ownHover = true;
    },
    left: () => {
      ownHover = false;
    },
  });
  scroller.addEventListener("scroll", () => draw(), { passive: true });
  new ResizeObserver(() => draw()).observe(root);
  new MutationObserver(() => draw()).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
  store.subscribe((state, previous) => {
    if (state.data !== previous.data || state.focus !== previous.focus) {
      scroller.scrollLeft = 0;
      ownHover = false;
    }
    if (state.hover !== previous.hover && !ownHover) {
      const g = geometry();
      if (g !== null && state.hover !== null && state.hover >= g.start && state.hover < g.start + g.length) {
        content.style.width = `${g.full > g.width + 0.5 ? g.full : g.width}px`;
        reveal(g, state.hover - g.start); // fires "scroll", which redraws
      }
    }
    if (state.hover !== previous.hover && state.hover === null) ownHover = false;
    if (state.data !== previous.data || state.focus !== previous.focus || state.hover !== previous.hover) draw();
  });
  draw();
}
