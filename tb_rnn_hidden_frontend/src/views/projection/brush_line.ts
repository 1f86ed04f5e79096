/**
 * The line above the plot after a box or lasso brush: how many points and
 * sequences are brushed, how many of those sequences have trajectories
 * drawn (capped, `MAX_BRUSH_TRAJECTORIES`), the "only brushed steps" toggle
 * and "clear". It stays in view above the plot, as the lit line does. Ids:
 * `projection-brush` (the line), `projection-brush-count` ("N points
 * brushed"), `projection-brush-trajectories`, `projection-brush-only`
 * (aria-pressed) and `projection-brush-clear`.
 */
import { h, setChildren } from "../../ui/dom";
import { brushTrajectoryCount, type ProjectionView } from "./context";

/** What the trajectories part of the line says. */
function trajectoriesText(count: { drawn: number; sequences: number }, brushOnly: boolean): string {
  const of = count.sequences === 1 ? "the brushed sequence" : `${count.sequences} brushed sequences`;
  if (brushOnly) return count.sequences === 1 ? "no trajectory of the brushed sequence" : `no trajectories of the ${of}`;
  return count.drawn === count.sequences ? `trajectories of ${of}` : `trajectories of ${count.drawn} of ${of}`;
}

export function createBrushLine(view: ProjectionView): { line: HTMLElement; update: () => void } {
  const { store } = view;
  const line = h("div", { class: "projection-brush muted", id: "projection-brush", "data-testid": "projection-brush", role: "status", hidden: true });
  const count = h("span", { id: "projection-brush-count", class: "legend-note" });
  const trails = h("span", { id: "projection-brush-trajectories" });
  const only = h("button", { type: "button", id: "projection-brush-only", "aria-pressed": "false", title: "Show only the brushed steps: the others faded, no trajectories of the brush" }, "only brushed steps");
  only.addEventListener("click", () => {
    const display = store.get().display;
    store.set({ display: { ...display, brushOnly: !display.brushOnly } });
  });
  const clear = h("button", { type: "button", id: "projection-brush-clear", title: "Clear the brush (Esc)" }, "clear");
  clear.addEventListener("click", () => store.set({ brushed: null }));
  let shown = "";
  const update = () => {
    const state = store.get();
    const counted = brushTrajectoryCount(view);
    const key = counted === null || state.brushed === null ? "" : JSON.stringify([state.brushed.length, counted, state.display.brushOnly]);
    if (key === shown) return;
    shown = key;
    line.hidden = key === "";
    if (counted === null || state.brushed === null) return setChildren(line);
    count.textContent = `${state.brushed.length} points brushed`;
    trails.textContent = trajectoriesText(counted, state.display.brushOnly);
    line.dataset["drawn"] = String(state.display.brushOnly ? 0 : counted.drawn);
    line.dataset["sequences"] = String(counted.sequences);
    only.setAttribute("aria-pressed", String(state.display.brushOnly));
    setChildren(line, count, " · ", trails, " · ", only, " ", clear);
  };
  update();
  return { line, update };
}
