/**
 * The shapes every view agrees on: one checkpoint's decoded arrays, the state
 * of its projection, and the shared selection (what is selected, hovered,
 * brushed). Views read these from the one store and write selection changes
 * back to it; they never call each other.
 *
 * Points are indexed as the backend orders them: every valid step of every
 * sequence, sequence after sequence (`offsets[i] .. offsets[i + 1] - 1`).
 */
import type { SequencesResponse } from "./api";

/** One checkpoint, decoded once when it arrives, with the per-point arrays views need. */
export interface CheckpointData {
  /** `run/tag/step` this data belongs to (JSON of the triple). */
  readonly key: string;
  readonly step: number;
  readonly meta: SequencesResponse;
  /** N + 1 prefix sums of `meta.lengths`: sequence i is points offsets[i] .. offsets[i+1]-1. */
  readonly offsets: Int32Array;
  /** P: the sequence of each point. */
  readonly pointSequence: Int32Array;
  /** P: the time step (0-based) of each point within its sequence. */
  readonly pointStep: Int32Array;
  /** P indices into `vocabulary`, or null for numeric sequences without tokens. */
  readonly tokens: Int32Array | null;
  readonly vocabulary: readonly string[] | null;
  /** C, from `class_names` or "class k"; empty without probabilities. */
  readonly classNames: readonly string[];
  /** P x C row-major per-step class probabilities, or null. */
  readonly probabilities: Float32Array | null;
  /** P: argmax class at each point (-1 without probabilities). */
  readonly pointPrediction: Int32Array;
  /** P: probability of that class (0 without probabilities). */
  readonly pointConfidence: Float32Array;
  /**
   * P - N transition distances in the original space, divided by the largest
   * of the checkpoint (so in [0, 1]); transition t -> t+1 of sequence i is
   * row offsets[i] - i + t.
   */
  readonly distances: Float32Array;
  readonly maxDistance: number;
  /**
   * N: the step at which the prediction last changed (the first step of the
   * final run of equal argmax values); 0 when it never changed.
   */
  readonly flipStep: Int32Array;
}

export type ProjectionMethod = "tsne" | "pca" | "umap";

/** The query parameters of `/projection` (see tb_rnn_hidden/http_api.md). */
export interface ProjectionParams {
  method: ProjectionMethod;
  perplexity: number;
  seed: number;
  iterations: number;
  metric: "euclidean" | "cosine";
  align: "none" | "neighbor";
}

export const DEFAULT_PROJECTION_PARAMS: ProjectionParams = {
  method: "tsne",
  perplexity: 30,
  seed: 0,
  iterations: 750,
  metric: "euclidean",
  align: "neighbor",
};

/**
 * The parameters sent for a checkpoint of `numPoints` points: t-SNE and UMAP
 * need perplexity < P / 3, so a small probe set gets the largest that fits
 * rather than a failed job (the form keeps the user's value).
 */
export function fittedParams(params: ProjectionParams, numPoints: number): ProjectionParams {
  if (params.method === "pca") return params;
  const largest = Math.max(2, Math.floor((numPoints - 1) / 3));
  return params.perplexity > largest ? { ...params, perplexity: largest } : params;
}

/** The projection of the shown checkpoint, as the backend reports it. */
export interface ProjectionState {
  /** JSON of run/tag/step + params: which request this state answers. */
  readonly key: string;
  readonly state: "idle" | "queued" | "running" | "done" | "failed" | "cancelled";
  readonly progress: number;
  readonly phase: string;
  readonly elapsed: number;
  readonly error: string | null;
  /** P x 2 row-major coordinates once `done`, in point order. */
  readonly coords: Float32Array | null;
  readonly alignedTo: number | null;
}

export const IDLE_PROJECTION: ProjectionState = {
  key: "",
  state: "idle",
  progress: 0,
  phase: "",
  elapsed: 0,
  error: null,
  coords: null,
  alignedTo: null,
};

export type ColorBy = "prediction" | "label" | "time" | "correct";

/** How trajectories and points are drawn (the research tool's options). */
export interface DisplayOptions {
  colorBy: ColorBy;
  /** Colour trajectories from light (start) to dark (end). */
  timeGradient: boolean;
  thickness: "constant" | "time" | "distance";
  markers: boolean;
  labels: "none" | "jumps" | "changes";
  /** Dim the sequences that are classified correctly / wrongly. */
  fade: "none" | "correct" | "wrong";
}

export const DEFAULT_DISPLAY: DisplayOptions = {
  colorBy: "prediction",
  timeGradient: true,
  thickness: "constant",
  markers: true,
  labels: "changes",
  fade: "none",
};

export type SortKey = "index" | "label" | "prediction" | "correct" | "confidence" | "flip" | "length";

export interface TableState {
  sortKey: SortKey;
  descending: boolean;
  wrongOnly: boolean;
  /** Only sequences of this true class (null: all). */
  labelFilter: number | null;
}

export const DEFAULT_TABLE: TableState = {
  sortKey: "index",
  descending: false,
  wrongOnly: false,
  labelFilter: null,
};

/**
 * The linked selection. Sequence indices are stable across checkpoints (the
 * same probe set is logged each time), so they survive a checkpoint change;
 * point indices (hover, brush) are cleared when the data changes.
 */
export interface LinkState {
  /** Selected sequences, ascending, unique: their trajectories are drawn. */
  selected: readonly number[];
  /** The sequence shown in the input view, heat map and distance bars. */
  focus: number | null;
  /** The hovered point (step of a sequence), from any view. */
  hover: number | null;
  /** Points inside the last box/lasso brush, ascending, or null. */
  brushed: Int32Array | null;
  /** A brushed range of normalised distances in the histogram, or null. */
  distanceRange: readonly [number, number] | null;
}

export const EMPTY_LINKS: LinkState = {
  selected: [],
  focus: null,
  hover: null,
  brushed: null,
  distanceRange: null,
};
