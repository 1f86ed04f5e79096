/**
 * What a trajectory labels and which brushed sequences get trajectories:
 * pure functions over a checkpoint's arrays, so the projection draws and
 * publishes exactly what the node tests check.
 *
 * Labels are the paper's six (Garcia et al. 2021's settings panel): at a
 * distance jump, a confidence change or a class change, "after" (the step
 * the change arrives at) or "before" (the step it leaves).
 */
import type { LabelKind } from "./model";

export type LabelCause = "jump" | "confidence" | "class";
export type LabelSide = "after" | "before";

/** One label of a trajectory: the step within its sequence, why, and on which side of the change. */
export interface LabelEvent {
  readonly step: number;
  readonly kind: LabelCause;
  readonly side: LabelSide;
}

/** The arrays labels are found in (a `CheckpointData` has them; `changes` is `confidenceChanges(data)`). */
export interface LabelSource {
  readonly offsets: Int32Array;
  readonly pointPrediction: Int32Array;
  /** P - N transition distances normalised to the checkpoint's largest; t -> t+1 of sequence s is offsets[s] - s + t. */
  readonly distances: Float32Array;
  /** P: max over classes |Δp_c| from the step before (0 at step 0). */
  readonly changes: Float32Array;
}

export interface LabelOptions {
  readonly labels: readonly LabelKind[];
  readonly jumpThreshold: number;
  readonly confidenceThreshold: number;
}

const CAUSES: readonly [LabelCause, "j" | "c" | "p"][] = [["jump", "j"], ["confidence", "c"], ["class", "p"]];

/**
 * The labels of sequence `s`, by step then cause ("jump", "confidence",
 * "class") then side ("before" first): each change between steps t-1 and t
 * (t >= 1) is labelled at t ("after") and at t-1 ("before") as asked.
 */
export function labelEvents(source: LabelSource, s: number, options: LabelOptions): LabelEvent[] {
  const a = source.offsets[s] as number;
  const b = source.offsets[s + 1] as number;
  const wanted = new Set(options.labels);
  const out: LabelEvent[] = [];
  for (const [kind, letter] of CAUSES) {
    const after = wanted.has(`${letter}a` as LabelKind);
    const before = wanted.has(`${letter}b` as LabelKind);
    if (!after && !before) continue;
    for (let p = a + 1; p < b; p++) {
      if (!changed(source, kind, s, p, options)) continue;
      if (before) out.push({ step: p - 1 - a, kind, side: "before" });
      if (after) out.push({ step: p - a, kind, side: "after" });
    }
  }
  const order = (e: LabelEvent) => CAUSES.findIndex(([k]) => k === e.kind) * 2 + (e.side === "before" ? 0 : 1);
  return out.sort((x, y) => x.step - y.step || order(x) - order(y));
}

/** Whether point p (not the first of sequence s) arrives by a change of `kind`. */
function changed(source: LabelSource, kind: LabelCause, s: number, p: number, options: LabelOptions): boolean {
  if (kind === "jump") return (source.distances[p - s - 1] ?? 0) >= options.jumpThreshold;
  if (kind === "confidence") return (source.changes[p] ?? 0) >= options.confidenceThreshold;
  return source.pointPrediction[p] !== source.pointPrediction[p - 1];
}

/**
 * The brushed sequences, those with the most brushed steps first (ties by
 * index): when only some of them get trajectories, the ones that pass most
 * through the brushed region are the ones that explain it.
 */
export function rankBrushedSequences(brushed: ArrayLike<number>, pointSequence: Int32Array): number[] {
  const counts = new Map<number, number>();
  for (let i = 0; i < brushed.length; i++) {
    const s = pointSequence[brushed[i] as number];
    if (s !== undefined) counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  return [...counts.entries()].sort((x, y) => y[1] - x[1] || x[0] - y[0]).map(([s]) => s);
}
