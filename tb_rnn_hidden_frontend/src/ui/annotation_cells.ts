/**
 * Annotation cells: one point of a track as a small coloured cell, and a
 * track over a range of points as a row of them (under the input's tokens,
 * under a match hit). Categorical: the category's hue, faint, with its text;
 * numeric: the viridis ramp between the track's min and max, the value in the
 * title. Category strings are logged text: they enter as text nodes only.
 */
import { trackPosition, trackText } from "../domain/annotations";
import type { AnnotationTrack } from "../domain/model";
import { CLASS_PALETTE, hexToRgb, rgbCss, sequentialColor, type Rgb } from "./colors";
import { h } from "./dom";
import { addStyles } from "./styles";

const CSS = `
.annotation-row { display: flex; gap: 1px; }
.annotation-cell { display: block; box-sizing: border-box; min-width: 6px; height: 15px; padding: 0 2px; font-size: 10px; line-height: 15px;
  text-align: center; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; max-width: 7em; border-radius: 2px; color: var(--rh-fg); }
.annotation-row .annotation-cell { flex: 1 1 0; }
`;

/** Category `code`'s colour (grey for none): the classes' palette shifted, so a category and a class do not read as one. */
export function categoryRgb(code: number): Rgb {
  if (code < 0) return [158, 158, 158];
  return hexToRgb(CLASS_PALETTE[(code + 3) % CLASS_PALETTE.length] as string);
}

/** `categoryRgb` as CSS, at `alpha`. */
export function categoryColor(code: number, alpha = 1): string {
  return rgbCss(categoryRgb(code), alpha);
}

/** Point `p`'s colour on the track's scale: the category's hue, or the ramp (transparent where none). */
export function trackColor(track: AnnotationTrack, p: number, categoryAlpha = 1): string {
  const position = trackPosition(track, p);
  if (track.kind === "categorical") return categoryColor(position, categoryAlpha);
  return Number.isNaN(position) ? "transparent" : sequentialColor(position);
}

/** One cell of `track` at point `p` (`data-step` = `step`, `data-value` = the text shown or titled). */
export function annotationCell(track: AnnotationTrack, p: number, step: number): HTMLElement {
  addStyles("annotation-cells", CSS);
  const text = trackText(track, p);
  const categorical = track.kind === "categorical";
  return h(
    "span",
    {
      class: "annotation-cell",
      "data-track": track.name,
      "data-step": step,
      "data-value": text,
      title: `${track.name}: ${text}`,
      style: `background:${trackColor(track, p, 0.35)}`,
    },
    categorical ? text : "",
  );
}

/** `track` over points [start, end) as a row of cells, steps numbered from 0 at `start`. */
export function annotationRow(track: AnnotationTrack, start: number, end: number): HTMLElement {
  const row = h("div", { class: "annotation-row", "data-track": track.name });
  for (let p = start; p < end; p++) row.appendChild(annotationCell(track, p, p - start));
  return row;
}
