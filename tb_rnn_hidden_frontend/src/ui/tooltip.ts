/**
 * The one tooltip of the page, shown by whichever view the pointer is over.
 * Its lines are logged strings (tokens, class names), so they enter as text.
 * It is placed at the pointer, in the frame's coordinates, so it cannot follow
 * its anchor when anything moves: it hides instead, on any scroll in the page
 * (a column, the table, the input; caught in the capture phase, as scroll
 * events do not bubble), when the frame loses focus or is resized, and when
 * the pointer leaves the frame. The next hover shows it again.
 */
import { h, setChildren } from "./dom";
import { formatPercent } from "../domain/format";
import type { CheckpointData } from "../domain/model";

let element: HTMLDivElement | null = null;

function tooltipElement(): HTMLDivElement {
  if (element === null || !element.isConnected) {
    element = h("div", { id: "tooltip", "data-testid": "tooltip", role: "tooltip", hidden: true });
    document.body.appendChild(element);
    hideWhenTheAnchorMayMove();
  }
  return element;
}

let dismissing = false;

/** Hides the tooltip on what moves its anchor away from where it was shown (once per page). */
function hideWhenTheAnchorMayMove(): void {
  if (dismissing) return;
  dismissing = true;
  const hide = () => hideTooltip();
  document.addEventListener("scroll", hide, { capture: true, passive: true });
  window.addEventListener("blur", hide);
  window.addEventListener("resize", hide);
  document.documentElement.addEventListener("pointerleave", hide);
  document.addEventListener("visibilitychange", hide);
}

/** What the tooltip says about point `point`: token, step, predicted class and confidence. */
export function pointTooltipLines(data: CheckpointData, point: number): string[] {
  const sequence = data.pointSequence[point] ?? 0;
  const step = data.pointStep[point] ?? 0;
  const lines: string[] = [];
  const token = data.tokens !== null ? data.vocabulary?.[data.tokens[point] ?? -1] : undefined;
  if (token !== undefined) lines.push(`"${token}"`);
  lines.push(`sequence ${sequence}, step ${step}`);
  const predicted = data.pointPrediction[point] ?? -1;
  if (predicted >= 0) {
    const confidence = data.pointConfidence[point] ?? 0;
    lines.push(`${data.classNames[predicted] ?? predicted}: ${formatPercent(confidence)}`);
  }
  const label = data.meta.labels?.[sequence];
  if (label !== undefined && label !== null) lines.push(`true class: ${data.classNames[label] ?? label}`);
  return lines;
}

/** Shows `lines` next to the pointer position (client coordinates). */
export function showTooltip(clientX: number, clientY: number, lines: readonly string[]): void {
  const tip = tooltipElement();
  setChildren(tip, ...lines.map((line) => h("div", {}, line)));
  tip.hidden = false;
  const margin = 12;
  const { innerWidth, innerHeight } = window;
  const rect = tip.getBoundingClientRect();
  const left = clientX + margin + rect.width > innerWidth ? clientX - margin - rect.width : clientX + margin;
  const top = clientY + margin + rect.height > innerHeight ? clientY - margin - rect.height : clientY + margin;
  tip.style.left = `${Math.max(0, left)}px`;
  tip.style.top = `${Math.max(0, top)}px`;
}

export function hideTooltip(): void {
  if (element !== null) element.hidden = true;
}
