/**
 * The distance bars' model: one bar per transition t -> t+1 of a sequence,
 * the step it arrives at, its normalised distance, and whether it is a jump
 * (at least the display's jump threshold, as the paper draws it). Pure, so
 * the node tests check it against the served distances.
 */

export interface DistanceBar {
  /** The step the transition arrives at (1 .. length - 1). */
  step: number;
  /** Distance / the checkpoint's largest, in [0, 1]. */
  distance: number;
  /** Whether `distance >= threshold`. */
  jump: boolean;
}

/**
 * The bars of sequence `sequence`, whose points are `start .. end - 1`:
 * `distances` holds P - N transitions, sequence i's from row `start - i` on.
 */
export function distanceBars(
  distances: Float32Array,
  sequence: number,
  start: number,
  end: number,
  threshold: number,
): DistanceBar[] {
  const first = start - sequence;
  const bars: DistanceBar[] = [];
  for (let t = 0; t + 1 < end - start; t++) {
    const distance = distances[first + t] ?? 0;
    bars.push({ step: t + 1, distance, jump: distance >= threshold });
  }
  return bars;
}

/** A threshold as the tab shows and publishes it (two decimals, as the paper's slider). */
export function thresholdText(threshold: number): string {
  return threshold.toFixed(2);
}
