/**
 * Decoding of one checkpoint's arrays into the per-point shapes every view
 * reads (`CheckpointData`). Done once per checkpoint, with typed arrays only,
 * so 100k points decode in milliseconds.
 */
import type { SequencesResponse } from "../api/types";
import type { AnnotationTrack, CheckpointData } from "./model";

/**
 * A float route's array as float32. The routes the tab reads send float32
 * (only `/states`, which the tab does not read, may send float16).
 */
export function asFloat32(data: Float32Array | Int32Array): Float32Array {
  if (data instanceof Float32Array) return data;
  return Float32Array.from(data);
}

/** Throws unless `actual` (an `X-Array-Shape`) equals `expected`: a mismatch would misalign every view. */
export function checkShape(route: string, actual: readonly number[], expected: readonly number[]): void {
  if (actual.length !== expected.length || actual.some((d, i) => d !== expected[i])) {
    throw new Error(`"${route}" sent shape [${actual.join(", ")}], expected [${expected.join(", ")}].`);
  }
}

/** Exclusive prefix sums of `lengths`, with the total last (N + 1 entries). */
export function offsetsOf(lengths: readonly number[]): Int32Array {
  const offsets = new Int32Array(lengths.length + 1);
  for (let i = 0; i < lengths.length; i++) offsets[i + 1] = (offsets[i] as number) + (lengths[i] as number);
  return offsets;
}

export interface RawCheckpoint {
  key: string;
  step: number;
  meta: SequencesResponse;
  /** `/tokens`, or null for numeric sequences (the route answers 404). */
  tokens: Int32Array | null;
  /** `/probabilities` P x C, or null when logged without. */
  probabilities: Float32Array | null;
  /** `/distances` P - N, raw (not normalised). */
  distances: Float32Array;
  /** `X-Max-Distance` of `/distances`. */
  maxDistance: number;
  /** The annotation tracks, decoded (`domain/annotations.ts`); none when left out. */
  annotations?: readonly AnnotationTrack[];
}

export function decodeCheckpoint(raw: RawCheckpoint): CheckpointData {
  const { meta } = raw;
  const offsets = offsetsOf(meta.lengths);
  const total = offsets[offsets.length - 1] as number;
  const pointSequence = new Int32Array(total);
  const pointStep = new Int32Array(total);
  for (let i = 0; i < meta.lengths.length; i++) {
    const start = offsets[i] as number;
    const end = offsets[i + 1] as number;
    pointSequence.fill(i, start, end);
    for (let p = start; p < end; p++) pointStep[p] = p - start;
  }
  const numClasses = raw.probabilities !== null ? meta.num_classes : 0;
  const classNames =
    numClasses > 0
      ? Array.from({ length: numClasses }, (_, k) => meta.class_names?.[k] ?? `class ${k}`)
      : [];
  const pointPrediction = new Int32Array(total).fill(-1);
  const pointConfidence = new Float32Array(total);
  const probabilities = raw.probabilities;
  if (probabilities !== null && numClasses > 0) {
    for (let p = 0; p < total; p++) {
      let best = 0;
      let bestValue = -Infinity;
      const row = p * numClasses;
      for (let k = 0; k < numClasses; k++) {
        const value = probabilities[row + k] as number;
        if (value > bestValue) {
          bestValue = value;
          best = k;
        }
      }
      pointPrediction[p] = best;
      pointConfidence[p] = bestValue;
    }
  }
  const distances = new Float32Array(raw.distances.length);
  const scale = raw.maxDistance > 0 && Number.isFinite(raw.maxDistance) ? 1 / raw.maxDistance : 0;
  for (let i = 0; i < distances.length; i++) distances[i] = (raw.distances[i] as number) * scale;
  return {
    key: raw.key,
    step: raw.step,
    meta,
    offsets,
    pointSequence,
    pointStep,
    tokens: raw.tokens,
    vocabulary: raw.tokens !== null ? (meta.vocabulary ?? null) : null,
    classNames,
    probabilities: numClasses > 0 ? probabilities : null,
    pointPrediction,
    pointConfidence,
    distances,
    maxDistance: raw.maxDistance,
    annotations: raw.annotations ?? [],
  };
}
