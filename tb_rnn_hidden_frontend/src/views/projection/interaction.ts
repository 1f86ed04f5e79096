/**
 * Pointer input on the canvas area: hover (with the tooltip), click to
 * select a sequence (ctrl/cmd: toggle), drag to pan or to brush (box,
 * lasso), wheel to zoom, Escape to clear the brush. Owns `view.pointer`, and
 * moves `view.camera` on pan and zoom.
 *
 * User Timing: `rh-projection-hover` (pointermove -> hover written to the
 * store, all views updated synchronously, and the highlight drawn) and
 * `rh-projection-brush` (pointerup -> brush written to the store and the
 * points and trajectories redrawn).
 */
import { nearestPoint, panBy, pointsInBox, pointsInPolygon, toData, zoomAt } from "../../domain/projection_geometry";
import { brushPoints, clickSequence } from "../../state/selection";
import { hideTooltip, pointTooltipLines, showTooltip } from "../../ui/tooltip";
import { interactive, pointRadius, publishTransform, type Drag, type ProjectionView, type Tool } from "./context";

/** The pointer in CSS px of the canvas area. */
function local(view: ProjectionView, event: MouseEvent): [number, number] {
  const rect = view.el.area.getBoundingClientRect();
  return [event.clientX - rect.left, event.clientY - rect.top];
}

/** The point under (x, y), or -1 (none while animating or showing another checkpoint's layout). */
function hitTest(view: ProjectionView, x: number, y: number): number {
  const { grid, animating } = view.layout;
  const { transform, dpr } = view.camera;
  if (!grid || !transform || animating || !interactive(view)) return -1;
  const [dx, dy] = toData(transform, x, y);
  const radiusPx = Math.max(6, pointRadius(view) / dpr + 3);
  return nearestPoint(grid, dx, dy, radiusPx / transform.k);
}

function hoverAt(view: ProjectionView, event: PointerEvent): void {
  const t0 = performance.now();
  const [x, y] = local(view, event);
  const p = hitTest(view, x, y);
  const next = p >= 0 ? p : null;
  if (next !== view.store.get().hover) {
    view.pointer.ownHover = next;
    view.store.set({ hover: next });
    view.flush();
    performance.measure("rh-projection-hover", { start: t0, end: performance.now() });
  }
  const paint = view.layout.paint;
  if (next !== null && paint) showTooltip(event.clientX, event.clientY, pointTooltipLines(paint, next));
  else hideTooltip();
}

function startDrag(view: ProjectionView, event: PointerEvent): void {
  const area = view.el.area;
  if (event.button !== 0 || !view.camera.transform) return;
  area.focus({ preventScroll: true });
  const [x, y] = local(view, event);
  // Another checkpoint's layout can be panned and zoomed, not brushed.
  const current = view.pointer.tool;
  const wanted: Tool = current === "pan" ? (event.shiftKey ? "box" : "pan") : current;
  const tool: Tool = interactive(view) ? wanted : "pan";
  view.pointer.drag =
    tool === "pan"
      ? { kind: "pan", x, y, startX: x, startY: y, moved: false, pointerId: event.pointerId }
      : { kind: tool, x0: x, y0: y, x1: x, y1: y, path: [x, y], pointerId: event.pointerId };
  area.setPointerCapture(event.pointerId);
  hideTooltip();
  event.preventDefault();
}

function moveDrag(view: ProjectionView, drag: Drag, x: number, y: number): void {
  if (drag.kind !== "pan") {
    drag.x1 = x;
    drag.y1 = y;
    if (drag.kind === "lasso") drag.path.push(x, y);
    view.invalidate(false, false, true);
    return;
  }
  if (!drag.moved && Math.hypot(x - drag.startX, y - drag.startY) < 3) return;
  drag.moved = true;
  const camera = view.camera;
  if (camera.transform) camera.transform = panBy(camera.transform, x - drag.x, y - drag.y);
  // The trajectories move with the pan as a bitmap until it ends (redrawing
  // hundreds of them every frame would halve the frame rate).
  const shift = view.pointer.trailShift;
  view.pointer.trailShift = [shift[0] + x - drag.x, shift[1] + y - drag.y];
  view.el.trailCanvas.style.transform = `translate(${view.pointer.trailShift[0]}px, ${view.pointer.trailShift[1]}px)`;
  drag.x = x;
  drag.y = y;
  publishTransform(view);
  view.invalidate(true, false, true);
}

/** A click without a drag: selects the sequence of the point under the pointer (ctrl/cmd toggles it). */
function click(view: ProjectionView, x: number, y: number, toggle: boolean): void {
  const p = hitTest(view, x, y);
  const data = view.layout.paint;
  if (p < 0 || !data) return;
  view.store.set(clickSequence(view.store.get(), data.pointSequence[p] ?? 0, toggle));
}

/** The points inside a finished box or lasso (none for a drag under 3 px). */
function brushed(view: ProjectionView, d: Exclude<Drag, { kind: "pan" }>): Int32Array | null {
  const { grid } = view.layout;
  const { transform } = view.camera;
  if (!grid || !transform) return null;
  let extent = Math.hypot(d.x1 - d.x0, d.y1 - d.y0);
  if (d.kind === "lasso") {
    // A lasso ends where it started: its size is that of the path's bounding box.
    const xs = d.path.filter((_, i) => i % 2 === 0);
    const ys = d.path.filter((_, i) => i % 2 === 1);
    extent = Math.hypot(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys));
  }
  if (extent < 3) return new Int32Array(0);
  if (d.kind === "box") {
    const [ax, ay] = toData(transform, d.x0, d.y0);
    const [bx, by] = toData(transform, d.x1, d.y1);
    return pointsInBox(grid, ax, ay, bx, by);
  }
  const polygon: number[] = [];
  for (let i = 0; i + 1 < d.path.length; i += 2) {
    const [px, py] = toData(transform, d.path[i] as number, d.path[i + 1] as number);
    polygon.push(px, py);
  }
  return pointsInPolygon(grid, polygon);
}

function endDrag(view: ProjectionView, event: PointerEvent, cancelled: boolean): void {
  const d = view.pointer.drag;
  const area = view.el.area;
  if (d === null || event.pointerId !== d.pointerId) return;
  view.pointer.drag = null;
  if (area.hasPointerCapture(event.pointerId)) area.releasePointerCapture(event.pointerId);
  if (cancelled) {
    view.invalidate(false, false, true);
    return;
  }
  if (d.kind === "pan") {
    if (!d.moved) click(view, d.startX, d.startY, event.ctrlKey || event.metaKey);
    view.invalidate(false, d.moved, true);
    return;
  }
  const t0 = performance.now();
  const points = brushed(view, d);
  if (points === null) return;
  if (view.layout.paint && interactive(view)) view.store.set(brushPoints(view.store.get(), points));
  view.frame.dirty.overlay = true;
  view.flush();
  performance.measure("rh-projection-brush", { start: t0, end: performance.now() });
}

function zoom(view: ProjectionView, event: WheelEvent): void {
  const camera = view.camera;
  if (!camera.transform) return;
  event.preventDefault();
  const [x, y] = local(view, event);
  const delta = event.deltaMode === 1 ? event.deltaY * 16 : event.deltaY;
  const factor = Math.exp(-Math.max(-300, Math.min(300, delta)) * 0.0015);
  camera.transform = zoomAt(camera.transform, x, y, factor);
  publishTransform(view);
  view.invalidate(true, true, true);
}

/** Binds the pointer, wheel and key handlers of the canvas area. */
export function bindPointer(view: ProjectionView): void {
  const { area } = view.el;
  const { store } = view;
  area.addEventListener("pointerdown", (event) => startDrag(view, event));
  area.addEventListener("pointermove", (event) => {
    const drag = view.pointer.drag;
    if (drag === null) hoverAt(view, event);
    else if (event.pointerId === drag.pointerId) moveDrag(view, drag, ...local(view, event));
  });
  area.addEventListener("pointerup", (event) => endDrag(view, event, false));
  area.addEventListener("pointercancel", (event) => endDrag(view, event, true));
  area.addEventListener("pointerleave", () => {
    if (view.pointer.drag !== null) return;
    hideTooltip();
    if (view.pointer.ownHover !== null && store.get().hover === view.pointer.ownHover) {
      view.pointer.ownHover = null;
      store.set({ hover: null });
    }
  });
  area.addEventListener("wheel", (event) => zoom(view, event), { passive: false });
  area.addEventListener("keydown", (event) => {
    if (event.key === "Escape") store.set({ brushed: null });
  });
}
