/**
 * The backend's answers, as tb_rnn_hidden/http_api.md documents them.
 */

/** One tag (RNN layer) of one run: the logged checkpoints. */
export interface TagInfo {
  steps: number[];
  wall_times: number[];
  description: string;
  display_name: string;
}

/** `GET tags`: `{run: {tag: TagInfo}}`. */
export type TagsResponse = Record<string, Record<string, TagInfo>>;

/**
 * A logged record's header, as `/sequences` serves it whole: the fields of
 * tb_rnn_hidden/schema/record_header.json (a test checks `RECORD_HEADER_KEYS`
 * against that file).
 */
export interface RecordHeader {
  version: number;
  num_sequences: number;
  max_length: number;
  state_size: number;
  num_steps: number;
  num_classes: number;
  class_names: string[] | null;
  states_dtype: "float32" | "float16";
  has_tokens: boolean;
  has_labels: boolean;
  has_probabilities: boolean;
  annotations: AnnotationHeader[];
}

/** One annotation track of a record header: its categories, or its range of values. */
export type AnnotationHeader =
  | { name: string; kind: "categorical"; categories: string[] }
  | { name: string; kind: "numeric"; min: number; max: number };

/** The fields of `RecordHeader`, in the schema's order. */
export const RECORD_HEADER_KEYS = [
  "version",
  "num_sequences",
  "max_length",
  "state_size",
  "num_steps",
  "num_classes",
  "class_names",
  "states_dtype",
  "has_tokens",
  "has_labels",
  "has_probabilities",
  "annotations",
] as const satisfies readonly (keyof RecordHeader)[];

/** Compiles only while `RECORD_HEADER_KEYS` lists every field of `RecordHeader`. */
export type RecordHeaderKeysComplete = Exclude<keyof RecordHeader, (typeof RECORD_HEADER_KEYS)[number]> extends never ? true : never;
export const RECORD_HEADER_KEYS_COMPLETE: RecordHeaderKeysComplete = true;

/** `GET sequences?run=&tag=&step=`: the record header and per-sequence metadata of one checkpoint. */
export interface SequencesResponse extends RecordHeader {
  lengths: number[];
  labels: number[] | null;
  predictions: number[] | null;
  confidences: number[] | null;
  accuracy: number | null;
  vocabulary: string[] | null;
}

/** How `/search` matches the query's tokens. */
export type SearchMode = "exact" | "prefix" | "regex";

/** One `/search` hit: steps [start, end) of `sequence`, its first point `point`. */
export interface SearchHit {
  sequence: number;
  start: number;
  end: number;
  point: number;
}

/** `GET search`: the hits in point order, how many there are in all, and whether `hits` stops short. */
export interface SearchResponse {
  hits: SearchHit[];
  total: number;
  truncated: boolean;
}

/** Exact (brute force) or approximate (an index) nearest neighbours. */
export type NeighborMethod = "exact" | "approximate";

/** One neighbour of `/neighbors`: a point, where it is, and its euclidean distance in the hidden space. */
export interface Neighbor {
  point: number;
  sequence: number;
  step: number;
  distance: number;
}

/** `GET neighbors`: the k nearest points of `point` (itself excluded), ascending distance. */
export interface NeighborsResponse {
  point: number;
  k: number;
  method: NeighborMethod;
  neighbors: Neighbor[];
}

/** One method of `GET info`: whether this server can compute it, and if not why. */
export interface MethodInfo {
  name: string;
  label: string;
  available: boolean;
  reason: string | null;
}

/** One projection parameter of `GET info`: its type, range or choices, default, and the methods it applies to. */
export interface ParamSpecInfo {
  name: string;
  kind: "number" | "integer" | "choice";
  default: number | string;
  methods: string[];
  help: string;
  min?: number;
  max?: number;
  choices?: string[];
}

/** `GET info`: what this server offers (methods, parameters) and what it lays out in the background. */
export interface InfoResponse {
  methods: MethodInfo[];
  params: ParamSpecInfo[];
  background: string | null;
}

/**
 * How a finished layout was made (`layout` of the status object): `mode` cold,
 * warm (started from the neighbour's layout and kept), relayout (the
 * neighbour's layout re-laid out with early exaggeration), rotated (PCA/UMAP
 * rotated onto the neighbour); t-SNE adds its iterations and KL divergence.
 */
export interface LayoutInfo {
  method?: string;
  mode?: "cold" | "warm" | "relayout" | "rotated";
  aligned_to?: number | null;
  seconds?: number | null;
  trustworthiness?: number | null;
  reference_trustworthiness?: number | null;
  early_exaggeration_iterations?: number;
  iterations?: number;
  converged?: boolean;
  kl_divergence?: number | null;
  warm_iterations?: number;
  warm_trustworthiness?: number | null;
}

/** `GET projection` / `POST projection/cancel`: the status object of one projection job. */
export interface ProjectionStatus {
  state: "queued" | "running" | "done" | "failed" | "cancelled" | "none";
  progress: number;
  phase: string;
  elapsed: number;
  aligned_to: number | null;
  background?: boolean;
  layout?: LayoutInfo | null;
  error?: string;
  retryable?: boolean;
}

/** `GET units`: the units whose on/off pattern over the brushed range (with its off extents, as clipped) matches. */
export interface UnitsResponse {
  units: number[];
  threshold: number;
  start: number;
  end: number;
  off_before: number;
  off_after: number;
}

/** One hit of `GET matches`: steps [start, end) of `sequence`, `point` = its first point. */
export interface MatchHit {
  sequence: number;
  start: number;
  end: number;
  point: number;
  length: number;
  intersection: number;
  union: number;
  k: number;
  constraint: number;
}

/** `GET matches`: the hits in LSTMVis' rank order, and the mean share of the query units they have on. */
export interface MatchesResponse {
  matches: MatchHit[];
  units: number[];
  threshold: number;
  steps: number;
  candidates: number;
  quality: number;
}

/** One side of a comparison: a checkpoint of a layer of a run. */
export interface CompareSide {
  run: string;
  tag: string;
  step: number;
}

/**
 * What happened to a sequence from A to B: with true labels, whether it
 * became correct or wrong or stayed so; without them, whether its predicted
 * class changed.
 */
export type ChangeKind = "became_correct" | "became_wrong" | "still_correct" | "still_wrong" | "prediction_changed" | "prediction_kept";

/** How the hidden spaces of A and B were put side by side for `moved`. */
export type UnitCorrespondence = "same" | "procrustes";

/** Per unit, how its mean activation over all steps moved from A to B (same units only), most moved first. */
export interface UnitDrift {
  units: number[];
  drift: number[];
  mean_a: number[];
  mean_b: number[];
}

/** `GET compare`: checkpoint A against checkpoint B of the same probe set (http_api.md). */
export interface CompareResponse {
  a: CompareSide;
  b: CompareSide;
  num_sequences: number;
  num_classes: number;
  class_names: string[];
  /** True labels, or null when either side was logged without them. */
  labels: number[] | null;
  /** Final prediction (argmax at the last step) and its probability; null without probabilities. */
  prediction_a: number[] | null;
  prediction_b: number[] | null;
  confidence_a: number[] | null;
  confidence_b: number[] | null;
  change: ChangeKind[] | null;
  /** Step (within the sequence) of the last flip at `flip_threshold`, 0 when none (as domain/flips.ts). */
  last_flip_a: number[] | null;
  last_flip_b: number[] | null;
  /** How far each sequence's final hidden state moved, divided by the largest such move (`moved_max`). */
  moved: number[];
  moved_max: number;
  units: UnitCorrespondence;
  /** `transitions[a][b]`: sequences wrong (0) or correct (1) in A and in B; null without labels. */
  transitions: [[number, number], [number, number]] | null;
  /** Null when A and B have different units (other runs' or layers'). */
  unit_drift: UnitDrift | null;
  flip_threshold: number;
}

/** `GET training`: per checkpoint of a run's layer, the figures of the chart over training. */
export interface TrainingResponse {
  run: string;
  tag: string;
  steps: number[];
  /** Accuracy on the probe set (null without labels or probabilities). */
  accuracy: (number | null)[];
  /** Sequences with a flip at `flip_threshold` (null without probabilities). */
  flips: (number | null)[];
  /** Mean distance of each point's hidden state from the previous checkpoint's, over that one's RMS norm (null for the first). */
  change: (number | null)[];
  /**
   * How well the final hidden states separate the true classes: the share of
   * their variance that the class means explain (0: not at all, 1: each class
   * one point); null without labels.
   */
  separation?: (number | null)[];
  /** The 5 units whose mean activation moved most since the previous checkpoint, and by how much ([] for the first). */
  top_units: number[][];
  top_unit_moves: number[][];
  flip_threshold: number;
  /** Steps (as strings) that cannot be read, with the reason: charted as gaps. */
  unreadable?: Record<string, string>;
}
