/**
 * Flips: where a sequence's predicted class changes AND the prediction moves
 * by at least a threshold there (`confidenceChanges`, the largest |Δp_c| from
 * the step before). On an untrained model the argmax wanders among classes
 * at ~1/C with changes of a few thousandths; counting those as flips would
 * underline and sort noise as if it were an event. Every view that shows a
 * flip (table, input, heat map) reads it from here, so they agree.
 */
import { confidenceChanges } from "./confidence";
import type { CheckpointData } from "./model";

/** Per sequence: the step of its last flip (0: none), and the flips per checkpoint and threshold. */
const cache = new WeakMap<CheckpointData, Map<number, Int32Array>>();

/**
 * N values: the step (within its sequence) of each sequence's last flip at
 * `threshold`, 0 when it has none (step 0 has no step before it, so it is
 * never a flip).
 */
export function lastFlipSteps(offsets: Int32Array, pointPrediction: Int32Array, changes: Float32Array, threshold: number): Int32Array {
  const n = offsets.length - 1;
  const flips = new Int32Array(Math.max(0, n));
  for (let i = 0; i < n; i++) {
    const start = offsets[i] as number;
    for (let p = (offsets[i + 1] as number) - 1; p > start; p--) {
      if (pointPrediction[p] !== pointPrediction[p - 1] && (changes[p] as number) >= threshold) {
        flips[i] = p - start;
        break;
      }
    }
  }
  return flips;
}

/** `lastFlipSteps` of a checkpoint, computed once per checkpoint and threshold (all 0 without probabilities). */
export function flipSteps(data: CheckpointData, threshold: number): Int32Array {
  let byThreshold = cache.get(data);
  if (byThreshold === undefined) {
    byThreshold = new Map();
    cache.set(data, byThreshold);
  }
  const known = byThreshold.get(threshold);
  if (known !== undefined) return known;
  const flips =
    data.probabilities === null
      ? new Int32Array(data.offsets.length - 1)
      : lastFlipSteps(data.offsets, data.pointPrediction, confidenceChanges(data), threshold);
  if (byThreshold.size >= 8) byThreshold.clear(); // a threshold typed digit by digit leaves a few behind
  byThreshold.set(threshold, flips);
  return flips;
}

/** Sequence i's last flip step at `threshold`, or 0 when it has none. */
export function flipStepOf(data: CheckpointData, i: number, threshold: number): number {
  return flipSteps(data, threshold)[i] ?? 0;
}

/** How many sequences have a flip at `threshold`. */
export function flipCount(data: CheckpointData, threshold: number): number {
  let count = 0;
  for (const f of flipSteps(data, threshold)) if (f > 0) count++;
  return count;
}

/** The thresholds the table accepts: a finite number in [0, 1], else null (the input is ignored). */
export function parseFlipThreshold(text: string): number | null {
  if (text.trim() === "") return null;
  const value = Number(text);
  return Number.isFinite(value) && value >= 0 && value <= 1 ? value : null;
}
