/**
 * The shapes every view agrees on: one checkpoint's decoded arrays, the state
 * of its projection, and the shared selection (what is selected, hovered,
 * brushed). Views read these from the one store and write selection changes
 * back to it; they never call each other.
 *
 * Points are indexed as the backend orders them: every valid step of every
 * sequence, sequence after sequence (`offsets[i] .. offsets[i + 1] - 1`).
 */
import type { LayoutInfo, SequencesResponse } from "../api/types";
import {
  METHOD_NAMES,
  PARAM_NAMES,
  PROJECTION_SCHEMA,
  paramDefinition,
  type Align,
  type Metric,
  type ParamDefinition,
  type ProjectionMethod,
  type ProjectionParams,
} from "./projection_schema";

export type { Align, Metric, ProjectionMethod, ProjectionParams } from "./projection_schema";

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
  // Flips are not a field: they depend on the table's threshold (`domain/flips.ts`).
  /** The record's annotation tracks, P values each ([] when none were logged). */
  readonly annotations: readonly AnnotationTrack[];
}

/**
 * One annotation track (LSTMVis' meta track) of a checkpoint, a value per
 * point: categorical as codes into `categories` (-1 where none), numeric as
 * values within [min, max] (NaN where none).
 */
export type AnnotationTrack =
  | { readonly name: string; readonly kind: "categorical"; readonly categories: readonly string[]; readonly codes: Int32Array }
  | { readonly name: string; readonly kind: "numeric"; readonly min: number; readonly max: number; readonly values: Float32Array };

/** Every method the tab knows, in menu order; `/info` says which this server offers. */
export const METHODS: readonly ProjectionMethod[] = PROJECTION_SCHEMA.methods.map((m) => m.name).filter(isMethod);
export const METHOD_LABELS: Readonly<Record<ProjectionMethod, string>> = Object.fromEntries(
  PROJECTION_SCHEMA.methods.map((m) => [m.name, m.label]),
) as Record<ProjectionMethod, string>;

export function isMethod(value: unknown): value is ProjectionMethod {
  return typeof value === "string" && (METHOD_NAMES as readonly string[]).includes(value);
}

/** The parameters besides `method`: each applies to some methods only. */
export type ParamName = Exclude<keyof ProjectionParams, "method">;

/**
 * One field of the projection form, its URL key (`p_<name>`) and its query
 * parameter: the JSON's definition, its name and methods narrowed to the
 * tab's types (`low`/`high` the range, `step` the form's input step). Ranges,
 * help and the methods it applies to are the server's (`/info`, merged in by
 * `withServerSpecs`) once known; before `/info` answers, the JSON's.
 */
export interface ParamField extends ParamDefinition {
  readonly name: ParamName;
  readonly methods: readonly ProjectionMethod[];
}

/** The form field of a parameter's JSON definition (methods the tab does not know are dropped). */
function fieldOf(p: ParamDefinition): ParamField {
  return { ...p, name: p.name as ParamName, methods: p.methods.filter(isMethod) };
}

/**
 * The one list of projection parameters on the TypeScript side: the form,
 * the URL state and the query all iterate it, in the JSON's order.
 */
export const PROJECTION_FIELDS: readonly ParamField[] = PROJECTION_SCHEMA.params
  .filter((p) => p.name !== "method" && (PARAM_NAMES as readonly string[]).includes(p.name))
  .map(fieldOf);

/** The defaults, the JSON's (the tab aligns to the neighbour by default, as the background projector does). */
export const DEFAULT_PROJECTION_PARAMS: ProjectionParams = Object.fromEntries(
  PARAM_NAMES.map((name) => [name, paramDefinition(name).default]),
) as unknown as ProjectionParams;

/** The choices of metric and alignment, the JSON's. */
export const METRICS = (paramDefinition("metric").choices ?? []) as readonly Metric[];
export const ALIGNS = (paramDefinition("align").choices ?? []) as readonly Align[];

/** Whether `field` is a parameter of `method` (the others are not sent, shown or kept in the URL). */
export function appliesTo(field: ParamField, method: ProjectionMethod): boolean {
  return field.methods.includes(method);
}

/** The fields of `method`, in form order. */
export function fieldsOf(method: ProjectionMethod, fields: readonly ParamField[] = PROJECTION_FIELDS): ParamField[] {
  return fields.filter((field) => appliesTo(field, method));
}

/**
 * `params` with every parameter that does not apply to its method at its
 * default, as the server resets them: requests that differ only there are one
 * request (one cache key, one layout). Returns `params` itself when unchanged.
 */
export function canonicalParams(params: ProjectionParams, fields: readonly ParamField[] = PROJECTION_FIELDS): ProjectionParams {
  let out = params;
  for (const field of fields) {
    if (appliesTo(field, params.method) || params[field.name] === DEFAULT_PROJECTION_PARAMS[field.name]) continue;
    out = { ...out, [field.name]: DEFAULT_PROJECTION_PARAMS[field.name] };
  }
  return out;
}

/** The largest perplexity a t-SNE of `numPoints` points accepts (< P / 3), at least 2. */
export function largestPerplexity(numPoints: number): number {
  return Math.max(2, Math.floor((numPoints - 1) / 3));
}

/** The largest n_neighbors a UMAP of `numPoints` points accepts (< P), at least 2. */
export function largestNeighbors(numPoints: number): number {
  return Math.max(2, numPoints - 1);
}

/**
 * The parameters sent for a checkpoint of `numPoints` points: canonical, and
 * fitted to small probe sets (t-SNE needs perplexity < P / 3, UMAP
 * n_neighbors < P), so that a small checkpoint gets the largest value that
 * fits rather than a failed job; the form keeps the user's value.
 */
export function fittedParams(params: ProjectionParams, numPoints: number): ProjectionParams {
  const canonical = canonicalParams(params);
  if (canonical.method === "tsne" && canonical.perplexity > largestPerplexity(numPoints)) {
    return { ...canonical, perplexity: largestPerplexity(numPoints) };
  }
  if (canonical.method === "umap" && canonical.n_neighbors > largestNeighbors(numPoints)) {
    return { ...canonical, n_neighbors: largestNeighbors(numPoints) };
  }
  return canonical;
}

/** The route parameters: the checkpoint, the method and the method's own parameters (the server resets the others). */
export function projectionQuery(selection: { readonly run: string | null; readonly tag: string | null; readonly step: number | null }, params: ProjectionParams): Record<string, string | number> {
  const query: Record<string, string | number> = {
    run: selection.run ?? "",
    tag: selection.tag ?? "",
    step: selection.step ?? 0,
    method: params.method,
  };
  for (const field of PROJECTION_FIELDS) if (appliesTo(field, params.method)) query[field.name] = params[field.name];
  return query;
}

/** What `fittedParams` changed, said plainly for the form's status ("perplexity 13: …"). */
export function fitNotes(params: ProjectionParams, numPoints: number): string[] {
  const sent = fittedParams(params, numPoints);
  const notes: string[] = [];
  if (sent.perplexity !== params.perplexity && params.method === "tsne") {
    notes.push(`perplexity ${sent.perplexity}: the largest below ${numPoints} points / 3`);
  }
  if (sent.n_neighbors !== params.n_neighbors && params.method === "umap") {
    notes.push(`n_neighbors ${sent.n_neighbors}: the largest below ${numPoints} points`);
  }
  return notes;
}

/**
 * Why `params` cannot be sent as they are (a value out of its field's range,
 * a fraction where an integer is expected), one message per field of the
 * method; empty when they can.
 */
export function invalidParams(params: ProjectionParams, fields: readonly ParamField[] = PROJECTION_FIELDS): string[] {
  const messages: string[] = [];
  for (const field of fieldsOf(params.method, fields)) {
    const value = params[field.name];
    if (field.kind === "choice") {
      if (!field.choices?.includes(String(value))) messages.push(`${field.label} must be one of ${field.choices?.join(", ")}`);
      continue;
    }
    const number = Number(value);
    const low = field.low ?? -Infinity;
    const high = field.high ?? Infinity;
    if (!Number.isFinite(number) || number < low || number > high || (field.kind === "integer" && !Number.isInteger(number))) {
      const what = field.kind === "integer" ? "an integer" : "a number";
      messages.push(`${field.label} must be ${what} from ${low} to ${high}`);
    }
  }
  return messages;
}

/**
 * The fields with the server's ranges, choices, help and methods from
 * `/info`'s specs where it gives them (labels and defaults stay the tab's).
 */
export function withServerSpecs(
  fields: readonly ParamField[],
  specs: readonly { name: string; methods?: readonly string[]; min?: number; max?: number; choices?: readonly string[]; help?: string }[],
): ParamField[] {
  return fields.map((field) => {
    const spec = specs.find((s) => s.name === field.name);
    if (spec === undefined) return field;
    const methods = spec.methods?.filter(isMethod);
    return {
      ...field,
      ...(methods !== undefined && methods.length > 0 ? { methods } : {}),
      ...(typeof spec.min === "number" ? { low: spec.min } : {}),
      ...(typeof spec.max === "number" ? { high: spec.max } : {}),
      ...(spec.choices !== undefined && spec.choices.length > 0 ? { choices: spec.choices } : {}),
      ...(spec.help ? { help: spec.help } : {}),
    };
  });
}

/** The projection of the shown checkpoint, as the backend reports it. */
export interface ProjectionState {
  /** JSON of run/tag/step + params: which request this state answers. */
  readonly key: string;
  /** The `CheckpointData.key`, step and parameters of that request ("", null, null when idle). */
  readonly checkpoint: string;
  readonly step: number | null;
  readonly params: ProjectionParams | null;
  readonly state: "idle" | "queued" | "running" | "done" | "failed" | "cancelled";
  readonly progress: number;
  readonly phase: string;
  readonly elapsed: number;
  readonly error: string | null;
  /** Once failed: whether a retry can succeed (a failure of the data or parameters cannot). */
  readonly retryable: boolean;
  /** The job was started by the server's background projector. */
  readonly background: boolean;
  /** P x 2 row-major coordinates once `done`, in point order. */
  readonly coords: Float32Array | null;
  readonly alignedTo: number | null;
  /** How the layout was made, once done. */
  readonly layout: LayoutInfo | null;
}

export const IDLE_PROJECTION: ProjectionState = {
  key: "",
  checkpoint: "",
  step: null,
  params: null,
  state: "idle",
  progress: 0,
  phase: "",
  elapsed: 0,
  error: null,
  retryable: false,
  background: false,
  coords: null,
  alignedTo: null,
  layout: null,
};

/**
 * A checkpoint's provisional layout (`/projection/provisional`: its own PCA,
 * computed at once), drawn while its real projection computes.
 */
export interface ProvisionalLayout {
  /** The `CheckpointData.key` of the checkpoint it lays out. */
  readonly key: string;
  readonly step: number;
  readonly coords: Float32Array;
}

/** A request from the controls to the projection job (a new object per click). */
export interface ProjectionAction {
  readonly kind: "retry" | "cancel";
}

/**
 * How points are coloured: a built-in colouring, or an annotation track by
 * name (`annotation:<name>`). "confidence" is the paper's: the predicted
 * class's hue, lighter where the prediction is less confident.
 */
export type ColorBy = "prediction" | "confidence" | "label" | "time" | "correct" | `annotation:${string}`;

/**
 * A kind of trajectory label (the paper's six): a distance jump ("j"), a
 * confidence change ("c") or a class change ("p"), labelled "after" ("a",
 * the step the change arrives at) or "before" ("b", the step it leaves).
 */
export type LabelKind = "ja" | "jb" | "ca" | "cb" | "pa" | "pb";
export const LABEL_KINDS: readonly LabelKind[] = ["ja", "jb", "ca", "cb", "pa", "pb"];

export function isLabelKind(value: unknown): value is LabelKind {
  return typeof value === "string" && (LABEL_KINDS as readonly string[]).includes(value);
}

/** How trajectories and points are drawn (the paper's settings panel, and ours). */
export interface DisplayOptions {
  colorBy: ColorBy;
  /** Colour trajectories from light (start) to dark (end). */
  timeGradient: boolean;
  /**
   * A trajectory's colour: its sequence's class (with the time gradient), or
   * per segment the prediction at the step it arrives at with confidence as
   * lightness (the paper's `getLineColor`).
   */
  trajectoryColor: "class" | "prediction";
  thickness: "constant" | "time" | "distance";
  /** Start and end markers on the drawn trajectories. */
  markers: boolean;
  /** Start and end markers of every sequence, drawn or not (the paper's "start/end markers"). */
  allMarkers: boolean;
  /** The labels shown on trajectories, in `LABEL_KINDS` order. */
  labels: readonly LabelKind[];
  /** Dim the sequences that are classified correctly / wrongly. */
  fade: "none" | "correct" | "wrong";
  /** A distance jump: a step whose arriving distance (normalised to the checkpoint's largest) is at least this (the paper's 0.40). */
  jumpThreshold: number;
  /** A confidence change: a step where max over classes of |Δp_c| from the step before is at least this (the paper's 0.30; |Δp| for two classes). */
  confidenceThreshold: number;
  /** Point radius, times the automatic one (the paper's point-size slider). */
  pointSize: number;
  /** Trajectory line width, times the automatic one (the paper's line-width slider). */
  lineWidth: number;
  /** After a brush: only the brushed steps, the others faded and no trajectories of the brush. */
  brushOnly: boolean;
}

export const DEFAULT_DISPLAY: DisplayOptions = {
  colorBy: "prediction",
  timeGradient: true,
  trajectoryColor: "class",
  thickness: "constant",
  markers: true,
  allMarkers: false,
  labels: ["pa"],
  fade: "none",
  jumpThreshold: 0.4,
  confidenceThreshold: 0.3,
  pointSize: 1,
  lineWidth: 1,
  brushOnly: false,
};

/** The slider ranges of the display options that are numbers: [low, high, step]. */
export const DISPLAY_RANGES = {
  jumpThreshold: [0, 1, 0.01],
  confidenceThreshold: [0, 1, 0.01],
  pointSize: [0.25, 4, 0.25],
  lineWidth: [0.25, 4, 0.25],
} as const satisfies Partial<Record<keyof DisplayOptions, readonly [number, number, number]>>;

export type SortKey = "index" | "label" | "prediction" | "correct" | "confidence" | "flip" | "length";

export interface TableState {
  sortKey: SortKey;
  descending: boolean;
  wrongOnly: boolean;
  /** Only sequences of this true class (null: all). */
  labelFilter: number | null;
  /**
   * A change of the predicted class counts as a flip only where the
   * confidence change there (`domain/confidence.ts`) is at least this, so
   * noise on an untrained model is not a flip.
   */
  flipThreshold: number;
}

export const DEFAULT_TABLE: TableState = {
  sortKey: "index",
  descending: false,
  wrongOnly: false,
  labelFilter: null,
  flipThreshold: 0.1,
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
