/**
 * Annotation tracks (LSTMVis' meta tracks) as rows of small cells under a
 * run of tokens: a categorical track as one colour per category with the
 * category as the cell's title, a numeric one as a grey ramp from the
 * track's min to max. Shared by every view that shows tracks under steps.
 * Category names are logged strings: they enter as text (titles) only.
 */
import { classColor } from "./colors";
import { h } from "./dom";

/** One annotation track of a checkpoint, P values in point order (the CONTRACT's `AnnotationTrack`). */
export type AnnotationTrack =
  | { readonly name: string; readonly kind: "categorical"; readonly categories: readonly string[]; readonly codes: Int32Array }
  | { readonly name: string; readonly kind: "numeric"; readonly min: number; readonly max: number; readonly values: Float32Array };

/** The tracks of a checkpoint's data, [] while the data carries none (or no `annotations` field at all). */
export function annotationTracks(data: object | null): readonly AnnotationTrack[] {
  const tracks = (data as { annotations?: unknown } | null)?.annotations;
  return Array.isArray(tracks) ? (tracks as AnnotationTrack[]) : [];
}

/** A cell's colour and title for point `p` of `track`. */
export function annotationCell(track: AnnotationTrack, p: number): { color: string; title: string } {
  if (track.kind === "categorical") {
    const code = track.codes[p] ?? -1;
    const category = code >= 0 ? track.categories[code] : undefined;
    return category === undefined ? { color: "transparent", title: `${track.name}: —` } : { color: classColor(code), title: `${track.name}: ${category}` };
  }
  const value = track.values[p];
  if (value === undefined || !Number.isFinite(value)) return { color: "transparent", title: `${track.name}: —` };
  const span = track.max - track.min;
  const t = span > 0 ? Math.min(1, Math.max(0, (value - track.min) / span)) : 0.5;
  const grey = Math.round(235 - 200 * t);
  return { color: `rgb(${grey}, ${grey}, ${grey})`, title: `${track.name}: ${Number(value.toPrecision(4))}` };
}

/**
 * One row per track for points [from, to): `cellWidth` px per point, the
 * track's name first (as a label `labelWidth` px wide, 0 for none).
 */
export function annotationRows(
  tracks: readonly AnnotationTrack[],
  from: number,
  to: number,
  cellWidth: number,
  labelWidth = 0,
): HTMLElement[] {
  return tracks.map((track) => {
    const cells = [];
    for (let p = from; p < to; p++) {
      const { color, title } = annotationCell(track, p);
      cells.push(h("span", { class: "annotation-cell", title, style: `width:${cellWidth}px;background:${color}` }));
    }
    const label = labelWidth > 0 ? h("span", { class: "annotation-name", style: `width:${labelWidth}px` }, track.name) : null;
    return h("div", { class: "annotation-row", "data-track": track.name }, label, ...cells);
  });
}

/** The CSS of `annotationRows` (add once with `addStyles("annotation-cells", ANNOTATION_CSS)`). */
export const ANNOTATION_CSS = `
.annotation-row { display: flex; align-items: center; height: 8px; margin-top: 1px; }
.annotation-row .annotation-cell { flex: 0 0 auto; height: 8px; box-sizing: border-box; border-right: 1px solid var(--rh-card); }
.annotation-row .annotation-name { flex: 0 0 auto; font-size: 10px; color: var(--rh-muted); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
`;
