/**
 * Lit points (`state.lit`: a match's steps, search hits, neighbours, an
 * annotation filter) in the projection: drawn on top, ringed, with every
 * other point faded (points.ts reads `litMask`); a line above the plot says
 * what is lit, clears it, and toggles the trajectories of the lit points'
 * sequences (`litSequences`, drawn by trajectories.ts).
 *
 * For tests the canvas area carries `data-lit` (the lit points drawn) and
 * the line `data-source`.
 */
import type { AppState } from "../../state/app_state";
import type { Store } from "../../state/store";
import { h, setChildren } from "../../ui/dom";
import { interactive, type ProjectionView } from "./context";

/** At most this many lit sequences get trajectories (they are drawn thin above THIN_TRAJECTORIES_ABOVE). */
export const MAX_LIT_TRAJECTORIES = 100;

/** 1 for each lit point of the painted checkpoint, or null when nothing is lit (or another checkpoint's layout is shown). */
export function litMask(view: ProjectionView, n: number): Uint8Array | null {
  const lit = view.store.get().lit;
  if (lit === null || !interactive(view) || view.layout.paint !== view.store.get().data) return null;
  const mask = new Uint8Array(n);
  for (const p of lit.points) if (p >= 0 && p < n) mask[p] = 1;
  return mask;
}

/** The sequences of the lit points (ascending, at most MAX_LIT_TRAJECTORIES), when their trajectories are asked for. */
export function litSequences(state: Readonly<AppState>): number[] {
  const { lit, data } = state;
  if (!state.litTrajectories || lit === null || data === null) return [];
  const out: number[] = [];
  let last = -1;
  for (const p of lit.points) {
    const s = data.pointSequence[p];
    if (s === undefined || s === last) continue;
    last = s;
    out.push(s);
    if (out.length >= MAX_LIT_TRAJECTORIES) break;
  }
  return out;
}

/** The line above the plot: what is lit, "clear", and the trajectories toggle. */
export function createLitLine(store: Store<AppState>): { line: HTMLElement; update: () => void } {
  const line = h("div", { class: "projection-lit muted", id: "projection-lit", "data-testid": "projection-lit", role: "status", hidden: true });
  const update = () => {
    const { lit, litTrajectories } = store.get();
    line.hidden = lit === null;
    line.dataset["source"] = lit?.source ?? "";
    if (lit === null) return setChildren(line);
    const clear = h("button", { type: "button", id: "projection-lit-clear", title: "Stop lighting these points" }, "clear");
    clear.addEventListener("click", () => store.set({ lit: null }));
    const trails = h("button", { type: "button", id: "projection-lit-trajectories", "aria-pressed": String(litTrajectories), title: "Draw the trajectories of the lit points' sequences" }, "trajectories");
    trails.addEventListener("click", () => store.set({ litTrajectories: !store.get().litTrajectories }));
    setChildren(line, `${lit.label} · `, clear, " ", trails);
  };
  update();
  return { line, update };
}
