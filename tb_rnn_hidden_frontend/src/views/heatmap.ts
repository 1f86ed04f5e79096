/**
 * Time x class heat map of the focus sequence: rows classes, columns steps,
 * colour = probability. A column is a step: hovering it hovers that point
 * everywhere; the hovered step (from any view) is outlined. The root carries
 * `data-hover-step` (and the marked flip step as `data-flip-step`) so the
 * linking is testable.
 */
import { sequentialColor } from "../colors";
import { h, setChildren, sharpContext } from "../dom";
import { hoverPoint, type AppState, type Store } from "../store";
import { addStyles, themeColor } from "../styles";
import { hideTooltip, pointTooltipLines, showTooltip } from "../tooltip";

const ROW_HEIGHT = 16;
const LABEL_WIDTH = 72;

const CSS = `
#heatmap-root { position: relative; }
#heatmap-canvas { display: block; width: 100%; cursor: crosshair; }
.heatmap-scale { display: flex; align-items: center; gap: 6px; color: var(--rh-muted); margin-top: 4px; }
.heatmap-scale .ramp { width: 120px; height: 8px; border-radius: 2px; background: linear-gradient(to right, ${[0, 0.25, 0.5, 0.75, 1].map(sequentialColor).join(", ")}); }
#heatmap-caption { color: var(--rh-muted); margin: 0 0 6px; }
`;

export function mountHeatmap(parent: HTMLElement, store: Store<AppState>): void {
  addStyles("heatmap", CSS);
  const caption = h("p", { id: "heatmap-caption" });
  const canvas = h("canvas", { id: "heatmap-canvas", "data-testid": "heatmap-canvas" });
  const root = h("div", { id: "heatmap-root" }, canvas);
  const scale = h("div", { class: "heatmap-scale" }, "0", h("span", { class: "ramp" }), "1 (probability)");
  parent.append(h("h2", {}, "Prediction over time"), caption, root, scale);

  const geometry = () => {
    const state = store.get();
    const data = state.data;
    if (data === null || state.focus === null || data.probabilities === null) return null;
    const i = state.focus;
    const start = data.offsets[i] as number;
    const length = (data.offsets[i + 1] as number) - start;
    const width = canvas.clientWidth || 300;
    const cell = Math.max(1, (width - LABEL_WIDTH) / Math.max(1, length));
    return { data, i, start, length, width, cell };
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
      caption.textContent = state.data === null ? "" : state.data.probabilities === null ? "Logged without class probabilities." : "Select a sequence to see its predictions over time.";
      return;
    }
    canvas.hidden = false;
    scale.hidden = false;
    const { data, start, length, width, cell } = g;
    const classes = data.classNames.length;
    caption.textContent = `Sequence ${g.i}: probability of each class after each step (${length} steps).`;
    const height = classes * ROW_HEIGHT + 18;
    canvas.style.height = `${height}px`;
    const ctx = sharpContext(canvas, width, height);
    if (!ctx) return;
    ctx.font = "11px Roboto, Arial, sans-serif";
    ctx.textBaseline = "middle";
    ctx.fillStyle = themeColor("--rh-fg");
    data.classNames.forEach((name, k) => {
      const text = name.length > 10 ? `${name.slice(0, 9)}…` : name;
      ctx.fillText(text, 2, k * ROW_HEIGHT + ROW_HEIGHT / 2);
    });
    const probabilities = data.probabilities as Float32Array;
    for (let t = 0; t < length; t++) {
      for (let k = 0; k < classes; k++) {
        ctx.fillStyle = sequentialColor(probabilities[(start + t) * classes + k] ?? 0);
        ctx.fillRect(LABEL_WIDTH + t * cell, k * ROW_HEIGHT, Math.ceil(cell), ROW_HEIGHT - 1);
      }
    }
    // Step axis: first, flip and last step.
    ctx.fillStyle = themeColor("--rh-muted");
    const flip = data.flipStep[g.i] ?? 0;
    const ticks = new Set([0, length - 1, ...(flip > 0 ? [flip] : [])]);
    for (const t of ticks) {
      // The last step's label ends at the right edge instead of running off it.
      const last = t === length - 1 && t > 0;
      ctx.textAlign = last ? "right" : "left";
      ctx.fillText(String(t), LABEL_WIDTH + (last ? (t + 1) * cell : t * cell), classes * ROW_HEIGHT + 9);
    }
    ctx.textAlign = "left";
    if (flip > 0) {
      ctx.strokeStyle = themeColor("--rh-fg");
      ctx.setLineDash([3, 2]);
      ctx.beginPath();
      ctx.moveTo(LABEL_WIDTH + flip * cell, 0);
      ctx.lineTo(LABEL_WIDTH + flip * cell, classes * ROW_HEIGHT);
      ctx.stroke();
      ctx.setLineDash([]);
    }
    const hovered = root.dataset["hoverStep"];
    if (hovered) {
      // Highlight outside, white inside: visible on every colour of the ramp.
      const x = LABEL_WIDTH + Number(hovered) * cell;
      ctx.strokeStyle = themeColor("--rh-highlight");
      ctx.lineWidth = 3;
      ctx.strokeRect(x - 0.5, -0.5, Math.max(2, cell) + 1, classes * ROW_HEIGHT + 1);
      ctx.strokeStyle = "#ffffff";
      ctx.lineWidth = 1;
      ctx.strokeRect(x + 1, 1, Math.max(1, cell - 2), classes * ROW_HEIGHT - 2);
    }
  };

  canvas.addEventListener("pointermove", (event) => {
    const g = geometry();
    if (g === null) return;
    const x = event.offsetX - LABEL_WIDTH;
    const t = Math.floor(x / g.cell);
    if (x < 0 || t < 0 || t >= g.length) {
      hideTooltip();
      if (store.get().hover !== null) store.set({ hover: null });
      return;
    }
    const point = g.start + t;
    if (store.get().hover !== point) store.set(hoverPoint(store.get(), point));
    showTooltip(event.clientX, event.clientY, pointTooltipLines(g.data, point));
  });
  canvas.addEventListener("pointerleave", () => {
    hideTooltip();
    if (store.get().hover !== null) store.set({ hover: null });
  });
  new ResizeObserver(() => draw()).observe(root);
  new MutationObserver(() => draw()).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
  store.subscribe((state, previous) => {
    if (state.data !== previous.data || state.focus !== previous.focus || state.hover !== previous.hover) draw();
  });
  draw();
  setChildren(root, canvas);
}
