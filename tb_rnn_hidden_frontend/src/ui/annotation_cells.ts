/**
 * Annotation cells: one point of a track as a small coloured cell (under
 * each of the input's tokens), and tracks over a range of points as rows of
 * them (under a match hit). Categorical: the category's hue, faint, with its text;
 * numeric: the viridis ramp between the track's min and max, the value in the
 * title. Category strings are logged text: they enter as text nodes only.
 */
import { formatValue, trackPosition, trackText } from "../domain/annotations";
import type { AnnotationTrack } from "../domain/model";
import { CLASS_PALETTE, hexToRgb, rgbCss, sequentialColor, type Rgb } from "./colors";
import { h } from "./dom";
import { addStyles } from "./styles";

export type { AnnotationTrack } from "../domain/model";

/** The cells' CSS (added once by the functions below; exported for views that add it themselves). */
export const ANNOTATION_CSS = `
.annotation-cell { display: block; box-sizing: border-box; min-width: 6px; height: 15px; padding: 0 2px; font-size: 10px; line-height: 15px;
  text-align: center; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; max-width: 7em; border-radius: 2px; color: var(--rh-fg); }
.annotation-row { display: flex; align-items: center; height: 8px; margin-top: 1px; }
.annotation-row .annotation-cell { flex: 0 0 auto; height: 8px; min-width: 0; max-width: none; padding: 0; border-radius: 0; border-right: 1px solid var(--rh-card); }
.annotation-scale { display: inline-flex; align-items: center; gap: 3px; font-size: 11px; color: var(--rh-muted); font-variant-numeric: tabular-nums; }
.annotation-scale .annotation-ramp { width: 48px; height: 8px; border-radius: 2px; display: inline-block; }
.annotation-row .annotation-name { flex: 0 0 auto; font-size: 10px; color: var(--rh-muted); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
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

/** A cell's colour and title for point `p` of `track` (transparent where the track says nothing). */
export function annotationCell(track: AnnotationTrack, p: number): { color: string; title: string } {
  const text = trackText(track, p);
  const none = track.kind === "categorical" ? trackPosition(track, p) < 0 : Number.isNaN(trackPosition(track, p));
  return { color: none ? "transparent" : trackColor(track, p), title: `${track.name}: ${text}` };
}

/** One cell of `track` at point `p` as an element (`data-step` = `step`, `data-value` = the text shown or titled). */
export function annotationCellElement(track: AnnotationTrack, p: number, step: number): HTMLElement {
  addStyles("annotation-cells", ANNOTATION_CSS);
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

/** A numeric track's scale: its min, the ramp its cells are coloured on, its max (`data-track` = the name). */
export function numericScale(track: AnnotationTrack & { kind: "numeric" }): HTMLElement {
  addStyles("annotation-cells", ANNOTATION_CSS);
  const stops = Array.from({ length: 9 }, (_, i) => sequentialColor(i / 8)).join(", ");
  return h(
    "span",
    { class: "annotation-scale", "data-track": track.name, title: `${track.name}: ${formatValue(track.min)} to ${formatValue(track.max)}` },
    formatValue(track.min),
    h("span", { class: "annotation-ramp", style: `background:linear-gradient(to right, ${stops})` }),
    formatValue(track.max),
  );
}

/** The tracks of a checkpoint's data ([] without data). */
export function annotationTracks(data: { readonly annotations?: readonly AnnotationTrack[] } | null): readonly AnnotationTrack[] {
  return data?.annotations ?? [];
}

/**
 * One row per track for points [from, to) (under a match hit): `cellWidth` px
 * per point, coloured, the value in each cell's title; the track's name first
 * when `labelWidth` > 0.
 */
export function annotationRows(tracks: readonly AnnotationTrack[], from: number, to: number, cellWidth: number, labelWidth = 0): HTMLElement[] {
  addStyles("annotation-cells", ANNOTATION_CSS);
  return tracks.map((track) => {
    const row = h("div", { class: "annotation-row", "data-track": track.name });
    if (labelWidth > 0) row.appendChild(h("span", { class: "annotation-name", style: `width:${labelWidth}px` }, track.name));
    for (let p = from; p < to; p++) {
      const { color, title } = annotationCell(track, p);
      row.appendChild(h("span", {
        class: "annotation-cell", "data-step": p - from, "data-value": trackText(track, p), title,
        style: `width:${cellWidth}px;background:${color}`,
      }));
    }
    return row;
  });
}
