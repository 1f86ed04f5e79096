/**
 * Hover linking with the tooltip, as the input, heat-map and distance views
 * do it: the point under the pointer goes into `state.hover` (every view
 * marks it) and the page's tooltip describes it; leaving clears both.
 */
import type { CheckpointData } from "../domain/model";
import { hoverPoint } from "../state/selection";
import type { AppState } from "../state/app_state";
import type { Store } from "../state/store";
import { hideTooltip, pointTooltipLines, showTooltip } from "./tooltip";

/** A point under the pointer, the checkpoint it belongs to, and lines the tooltip adds for this view. */
export interface HoverHit {
  point: number;
  data: CheckpointData;
  extra?: readonly string[];
}

export interface HoverOptions {
  /** `pointerover` for elements (tokens, bars), `pointermove` for a canvas. */
  on: "pointerover" | "pointermove";
  /** The point under the pointer, or null where there is none. */
  hitAt(event: PointerEvent): HoverHit | null;
  /** Whether pointing where there is no point clears the hover (a canvas) or leaves it (gaps between elements). */
  clearOutside?: boolean;
  /** Called on each hover of a point, and on leaving the target. */
  hovered?(): void;
  left?(): void;
}

export function bindPointHover(store: Store<AppState>, target: HTMLElement, options: HoverOptions): void {
  const clear = () => {
    hideTooltip();
    if (store.get().hover !== null) store.set({ hover: null });
  };
  target.addEventListener(options.on, (event) => {
    const hit = options.hitAt(event);
    if (hit === null) {
      if (options.clearOutside) clear();
      return;
    }
    options.hovered?.();
    store.set(hoverPoint(store.get(), hit.point));
    showTooltip(event.clientX, event.clientY, [...pointTooltipLines(hit.data, hit.point), ...(hit.extra ?? [])]);
  });
  target.addEventListener("pointerleave", () => {
    options.left?.();
    clear();
  });
}

/**
 * Hover linking for the steps of the shown sequence drawn as elements
 * (`selector`, each with `data-step`) inside `container`: the point is
 * `start() + step`, where `start()` is the sequence's first point (-1 while
 * none is shown); `extra` adds tooltip lines.
 */
export function bindStepHover(
  store: Store<AppState>,
  container: HTMLElement,
  selector: string,
  start: () => number,
  extra?: (element: HTMLElement, step: number) => string[],
): void {
  bindPointHover(store, container, {
    on: "pointerover",
    hitAt: (event) => {
      const element = (event.target as Element).closest(selector) as HTMLElement | null;
      const data = store.get().data;
      if (!element || data === null || start() < 0) return null;
      const step = Number(element.dataset["step"]);
      return { point: start() + step, data, ...(extra ? { extra: extra(element, step) } : {}) };
    },
  });
}
