/**
 * Annotation tracks (LSTMVis' meta tracks): decoding the served values into
 * `AnnotationTrack`s, where a point falls on a track's colour scale, the
 * projection's "annotation: <name>" colourings, and filters ("pos = NN",
 * "depth in [2, 4]") as the points they light.
 */
import type { AnnotationHeader } from "../api/types";
import type { AnnotationTrack, ColorBy } from "./model";

const COLOR_BY_PREFIX = "annotation:";

/**
 * One track from its `/sequences` entry and its `/annotations` values: the
 * values must be P long (a mismatch would misalign every view); codes outside
 * the categories become -1 ("none") rather than indexing past them.
 */
export function decodeTrack(info: AnnotationHeader, values: Int32Array | Float32Array, points: number): AnnotationTrack {
  if (values.length !== points) {
    throw new Error(`Annotation "${info.name}" has ${values.length} values, expected ${points} (one per step).`);
  }
  if (info.kind === "categorical") {
    if (!(values instanceof Int32Array)) throw new Error(`Annotation "${info.name}" is categorical but its values are not int32 codes.`);
    const count = info.categories.length;
    const codes = values.slice();
    for (let p = 0; p < codes.length; p++) if (!((codes[p] as number) >= 0 && (codes[p] as number) < count)) codes[p] = -1;
    return { name: info.name, kind: "categorical", categories: info.categories.map(String), codes };
  }
  if (!(values instanceof Float32Array)) throw new Error(`Annotation "${info.name}" is numeric but its values are not float32.`);
  const [min, max] = finiteRange(values, info.min, info.max);
  return { name: info.name, kind: "numeric", min, max, values };
}

/** [min, max] of the header when finite, else of the values' finite entries ([0, 0] when none). */
function finiteRange(values: Float32Array, min: number, max: number): [number, number] {
  if (Number.isFinite(min) && Number.isFinite(max) && min <= max) return [min, max];
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : [0, 0];
}

/** The colouring by track `name`. */
export function annotationColorBy(name: string): ColorBy {
  return `${COLOR_BY_PREFIX}${name}`;
}

/** The track name of an "annotation: <name>" colouring, or null for the built-in ones. */
export function annotationOfColorBy(colorBy: string): string | null {
  return colorBy.startsWith(COLOR_BY_PREFIX) ? colorBy.slice(COLOR_BY_PREFIX.length) : null;
}

/** Whether `text` names a colouring: a built-in one or any "annotation:<name>" (with a name). */
export function isColorBy(text: string, builtIn: readonly string[]): text is ColorBy {
  return builtIn.includes(text) || (text.startsWith(COLOR_BY_PREFIX) && text.length > COLOR_BY_PREFIX.length);
}

/** The track a colouring names, when the checkpoint has it. */
export function trackOfColorBy(colorBy: string, tracks: readonly AnnotationTrack[]): AnnotationTrack | null {
  const name = annotationOfColorBy(colorBy);
  return name === null ? null : (tracks.find((t) => t.name === name) ?? null);
}

/**
 * Where point `p` falls on the track's scale: the category code (-1 for
 * none) of a categorical track, or the value's position in [0, 1] between
 * the track's min and max (NaN for none; 0 when min = max).
 */
export function trackPosition(track: AnnotationTrack, p: number): number {
  if (track.kind === "categorical") return track.codes[p] ?? -1;
  const value = track.values[p];
  if (value === undefined || !Number.isFinite(value)) return Number.NaN;
  const span = track.max - track.min;
  return span > 0 ? Math.min(1, Math.max(0, (value - track.min) / span)) : 0;
}

/** What a track says at point `p`, as text: the category, the number, or "—". */
export function trackText(track: AnnotationTrack, p: number): string {
  if (track.kind === "categorical") {
    const code = track.codes[p] ?? -1;
    return code >= 0 ? (track.categories[code] ?? "—") : "—";
  }
  const value = track.values[p];
  return value !== undefined && Number.isFinite(value) ? formatValue(value) : "—";
}

/** A track's number, short: integers as such, others to 4 significant digits. */
export function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
}

/** A filter on one track: the steps of some category, or with a value in [low, high]. */
export type AnnotationFilter =
  | { readonly track: string; readonly kind: "categorical"; readonly category: string }
  | { readonly track: string; readonly kind: "numeric"; readonly low: number; readonly high: number };

/** The points (ascending) a filter keeps; empty when its track or category is not in the checkpoint. */
export function filterPoints(tracks: readonly AnnotationTrack[], filter: AnnotationFilter): Int32Array {
  const track = tracks.find((t) => t.name === filter.track);
  if (track === undefined || track.kind !== filter.kind) return new Int32Array(0);
  const out: number[] = [];
  if (track.kind === "categorical" && filter.kind === "categorical") {
    const code = track.categories.indexOf(filter.category);
    if (code < 0) return new Int32Array(0);
    for (let p = 0; p < track.codes.length; p++) if (track.codes[p] === code) out.push(p);
  } else if (track.kind === "numeric" && filter.kind === "numeric") {
    const low = Math.min(filter.low, filter.high);
    const high = Math.max(filter.low, filter.high);
    for (let p = 0; p < track.values.length; p++) {
      const v = track.values[p] as number;
      if (v >= low && v <= high) out.push(p);
    }
  }
  return Int32Array.from(out);
}

/** The filter said plainly: `pos = NN`, `depth in [2, 4]`. */
export function filterLabel(filter: AnnotationFilter): string {
  if (filter.kind === "categorical") return `${filter.track} = ${filter.category}`;
  const low = Math.min(filter.low, filter.high);
  const high = Math.max(filter.low, filter.high);
  return `${filter.track} in [${formatValue(low)}, ${formatValue(high)}]`;
}
