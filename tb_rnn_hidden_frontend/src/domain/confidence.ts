/**
 * How much the prediction moves from one step to the next: per point, the
 * largest change of any class's probability since the step before (for two
 * classes, |Δp|), 0 at a sequence's first step. Both the paper's
 * confidence-change labels and the flip threshold read it, so a label and a
 * flip mean the same change.
 */
import type { CheckpointData } from "./model";

const cache = new WeakMap<CheckpointData, Float32Array>();

/** P values in [0, 1] (all 0 without probabilities); computed once per checkpoint. */
export function confidenceChanges(data: CheckpointData): Float32Array {
  const known = cache.get(data);
  if (known !== undefined) return known;
  const out = changesOf(data.offsets, data.probabilities, data.classNames.length);
  cache.set(data, out);
  return out;
}

/** `confidenceChanges` from the raw arrays: P x C probabilities, row-major. */
export function changesOf(offsets: Int32Array, probabilities: Float32Array | null, classes: number): Float32Array {
  const points = offsets[offsets.length - 1] ?? 0;
  const out = new Float32Array(points);
  if (probabilities === null || classes === 0) return out;
  for (let i = 0; i + 1 < offsets.length; i++) {
    const end = offsets[i + 1] as number;
    for (let p = (offsets[i] as number) + 1; p < end; p++) {
      let most = 0;
      for (let c = 0; c < classes; c++) {
        const d = Math.abs((probabilities[p * classes + c] as number) - (probabilities[(p - 1) * classes + c] as number));
        if (d > most) most = d;
      }
      out[p] = most;
    }
  }
  return out;
}
