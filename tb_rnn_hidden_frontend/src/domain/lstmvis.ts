/**
 * LSTMVis' hypothesis model, as pure functions: a brushed token range with
 * its off extents and a threshold (the select view), which units of a
 * sequence are on where (the word shading), and a match's steps as points of
 * the checkpoint (what the projection lights). The selection and the match
 * themselves are the server's (`/units`, `/matches`); these only draw and
 * link them.
 */

/** LSTMVis' defaults: a unit is on at value >= 0.3; the signature is off one step before the brush. */
export const DEFAULT_THRESHOLD = 0.3;
export const DEFAULT_OFF_BEFORE = 1;
export const DEFAULT_OFF_AFTER = 0;
/** The most off steps the view offers on either side (LSTMVis' zero brush is a few tokens wide). */
export const MAX_OFF = 10;

/** "1 unit", "3 units": how the views count a hypothesis' units. */
export function unitCount(n: number): string {
  return `${n} ${n === 1 ? "unit" : "units"}`;
}

/** A brushed range [start, end) of steps of one sequence. */
export interface UnitBrush {
  readonly sequence: number;
  readonly start: number;
  readonly end: number;
}

/**
 * The range [start, end) covering steps `a` and `b` (either order, both
 * inclusive) of a sequence of `length` steps, clipped to it; null when the
 * sequence is empty.
 */
export function brushRange(a: number, b: number, length: number): [number, number] | null {
  if (length <= 0 || !Number.isFinite(a) || !Number.isFinite(b)) return null;
  const clip = (x: number) => Math.min(length - 1, Math.max(0, Math.round(x)));
  const lo = clip(Math.min(a, b));
  const hi = clip(Math.max(a, b));
  return [lo, hi + 1];
}

/** A brush that fits a sequence of `length` steps, or null when it does not. */
export function validBrush(brush: UnitBrush | null, length: number): UnitBrush | null {
  if (brush === null) return null;
  const { start, end } = brush;
  return Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start < end && end <= length ? brush : null;
}

/** An off extent as the server applies it: a whole number in [0, MAX_OFF]. */
export function clampOff(off: number): number {
  if (!Number.isFinite(off)) return 0;
  return Math.min(MAX_OFF, Math.max(0, Math.round(off)));
}

/** The off steps actually inside the sequence: [start - before, end + after) clipped at its ends. */
export function signatureRange(brush: UnitBrush, offBefore: number, offAfter: number, length: number): [number, number] {
  return [Math.max(0, brush.start - offBefore), Math.min(length, brush.end + offAfter)];
}

/**
 * Per step of a sequence (`values`: its [length, numUnits] rows), how many of
 * `units` are on (value >= threshold): LSTMVis' word shading.
 */
export function unitsOnPerStep(values: Float32Array, numUnits: number, units: readonly number[], threshold: number): Int32Array {
  const length = numUnits > 0 ? Math.floor(values.length / numUnits) : 0;
  const counts = new Int32Array(length);
  const valid = units.filter((u) => Number.isInteger(u) && u >= 0 && u < numUnits);
  for (let t = 0; t < length; t++) {
    const row = t * numUnits;
    let count = 0;
    for (const u of valid) if ((values[row + u] as number) >= threshold) count++;
    counts[t] = count;
  }
  return counts;
}

/** The value range the lines are drawn in: the tanh range [-1, 1] when the data fit it, else the data's own. */
export function valueRange(values: Float32Array, threshold: number): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!Number.isFinite(lo)) return [-1, 1];
  lo = Math.min(lo, threshold);
  hi = Math.max(hi, threshold);
  if (lo >= -1 && hi <= 1) return [-1, 1];
  const pad = (hi - lo) * 0.04 || 1;
  return [lo - pad, hi + pad];
}

/** The unit `units` plus or minus `unit` (ascending, unique). */
export function toggleUnit(units: readonly number[], unit: number): number[] {
  return units.includes(unit) ? units.filter((u) => u !== unit) : [...units, unit].sort((a, b) => a - b);
}

/** Whether two unit lists hold the same units (both ascending). */
export function sameUnits(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((u, i) => u === b[i]);
}

/**
 * The unit whose line passes nearest to (`step`, `value`) at that step
 * (fractional steps interpolate between neighbours), within `tolerance` in
 * value units; -1 when none is that close.
 */
export function nearestUnit(values: Float32Array, numUnits: number, step: number, value: number, tolerance: number): number {
  const length = numUnits > 0 ? Math.floor(values.length / numUnits) : 0;
  if (length === 0) return -1;
  const t = Math.min(length - 1, Math.max(0, step));
  const t0 = Math.floor(t);
  const t1 = Math.min(length - 1, t0 + 1);
  const w = t - t0;
  let best = -1;
  let bestDistance = tolerance;
  for (let u = 0; u < numUnits; u++) {
    const v = (values[t0 * numUnits + u] as number) * (1 - w) + (values[t1 * numUnits + u] as number) * w;
    const d = Math.abs(v - value);
    if (d <= bestDistance) {
      bestDistance = d;
      best = u;
    }
  }
  return best;
}

/** A match's steps within its sequence (what `/matches` answers for each hit). */
export interface HitSpan {
  readonly point: number;
  readonly start: number;
  readonly end: number;
}

/** The points of `hits` (each `point .. point + end - start - 1`), ascending and unique, inside [0, numPoints). */
export function hitPoints(hits: readonly HitSpan[], numPoints: number): Int32Array {
  const mark = new Uint8Array(Math.max(0, numPoints));
  let count = 0;
  for (const hit of hits) {
    const last = Math.min(numPoints, hit.point + Math.max(0, hit.end - hit.start));
    for (let p = Math.max(0, hit.point); p < last; p++) {
      if (mark[p] === 0) count++;
      mark[p] = 1;
    }
  }
  const points = new Int32Array(count);
  let k = 0;
  for (let p = 0; p < mark.length; p++) if (mark[p] === 1) points[k++] = p;
  return points;
}

/** The steps a hit is shown with: the hit and up to `context` steps either side, inside its sequence. */
export function hitWindow(hit: { start: number; end: number }, length: number, context: number): [number, number] {
  return [Math.max(0, hit.start - context), Math.min(length, hit.end + context)];
}

/**
 * Whose matches the view shows, said plainly: "" when they are the shown
 * checkpoint's, else "matches of step 4 (step 6 shown)", so a stale result
 * is never read as current.
 */
export function staleLabel(resultStep: number | null, shownStep: number | null): string {
  if (resultStep === null || resultStep === shownStep) return "";
  return shownStep === null ? `matches of step ${resultStep}` : `matches of step ${resultStep} (step ${shownStep} shown)`;
}

/**
 * The quality chart's series: one [step, quality] per step that has an
 * answer, in step order (failed steps, null, are left out).
 */
export function qualitySeries(steps: readonly number[], byStep: Readonly<Record<string, number | null>>): [number, number][] {
  const series: [number, number][] = [];
  for (const step of steps) {
    const q = byStep[String(step)];
    if (typeof q === "number" && Number.isFinite(q)) series.push([step, q]);
  }
  return series;
}
