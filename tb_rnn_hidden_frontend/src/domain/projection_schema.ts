/**
 * The projection parameters from their one definition,
 * tb_rnn_hidden/schema/projection_params.json, which the server reads too
 * (its checks, defaults and `/info`). The bundler inlines the file; the
 * TypeScript names below are checked against it by a test
 * (test/schema.test.mjs) and at load.
 */
import schema from "../../../tb_rnn_hidden/schema/projection_params.json";

export type ProjectionMethod = "tsne" | "pca" | "umap";
export type Metric = "euclidean" | "cosine";
export type Align = "none" | "neighbor";

/** The query parameters of `/projection` (see tb_rnn_hidden/http_api.md). */
export interface ProjectionParams {
  method: ProjectionMethod;
  perplexity: number;
  /** t-SNE: the most iterations after early exaggeration (a run stops earlier once converged). */
  iterations: number;
  n_neighbors: number;
  min_dist: number;
  seed: number;
  metric: Metric;
  align: Align;
}

/** The names of the TypeScript types above, for the test against the JSON. */
export const METHOD_NAMES = ["tsne", "pca", "umap"] as const satisfies readonly ProjectionMethod[];
export const METRIC_NAMES = ["euclidean", "cosine"] as const satisfies readonly Metric[];
export const ALIGN_NAMES = ["none", "neighbor"] as const satisfies readonly Align[];
export const PARAM_NAMES = [
  "method", "perplexity", "iterations", "n_neighbors", "min_dist", "seed", "metric", "align",
] as const satisfies readonly (keyof ProjectionParams)[];

/** Compiles only while `PARAM_NAMES` lists every field of `ProjectionParams`. */
export type ParamNamesComplete = Exclude<keyof ProjectionParams, (typeof PARAM_NAMES)[number]> extends never ? true : never;
export const PARAM_NAMES_COMPLETE: ParamNamesComplete = true;

/** One parameter as the JSON defines it. */
export interface ParamDefinition {
  readonly name: string;
  readonly label: string;
  readonly kind: "number" | "integer" | "choice";
  readonly default: number | string;
  readonly methods: readonly string[];
  readonly low?: number;
  readonly high?: number;
  readonly step?: number;
  readonly choices?: readonly string[];
  readonly help: string;
}

export interface ProjectionSchema {
  readonly methods: readonly { readonly name: string; readonly label: string }[];
  readonly params: readonly ParamDefinition[];
}

export const PROJECTION_SCHEMA: ProjectionSchema = schema as ProjectionSchema;

/** A parameter's definition; throws if the JSON lacks it (the bundle would be out of step with its types). */
export function paramDefinition(name: keyof ProjectionParams): ParamDefinition {
  const found = PROJECTION_SCHEMA.params.find((p) => p.name === name);
  if (found === undefined) throw new Error(`projection_params.json has no parameter "${name}"`);
  return found;
}
