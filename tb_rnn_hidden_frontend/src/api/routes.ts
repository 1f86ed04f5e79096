/**
 * One typed function per backend route (tb_rnn_hidden/http_api.md): every
 * request of the tab goes through these.
 */
import { ApiError, getArray, getBytes, getJson, postJson, type BinaryArray, type Params } from "./http";
import type {
  CompareResponse,
  InfoResponse,
  MatchesResponse,
  NeighborMethod,
  NeighborsResponse,
  ProjectionStatus,
  SearchMode,
  SearchResponse,
  SequencesResponse,
  TagsResponse,
  TrainingResponse,
  UnitsResponse,
} from "./types";

/** A checkpoint: the query of every per-checkpoint route. */
export interface CheckpointQuery {
  run: string;
  tag: string;
  step: number;
}

/** A projection route's query: the checkpoint, the method and its parameters. */
export type ProjectionQuery = Record<string, string | number>;

/** `GET info`: what this server offers. */
export function fetchInfo(signal?: AbortSignal): Promise<InfoResponse> {
  return getJson<InfoResponse>("info", undefined, signal);
}

/** `GET tags`: every run's tags and their checkpoints. */
export function fetchTags(signal?: AbortSignal): Promise<TagsResponse> {
  return getJson<TagsResponse>("tags", undefined, signal);
}

/** `GET sequences`: the record header and per-sequence metadata. */
export function fetchSequences(query: CheckpointQuery, signal?: AbortSignal): Promise<SequencesResponse> {
  return getJson<SequencesResponse>("sequences", { ...query }, signal);
}

/** `GET tokens`: int32 [P]. */
export function fetchTokens(query: CheckpointQuery, signal?: AbortSignal): Promise<BinaryArray> {
  return getArray("tokens", { ...query }, signal);
}

/** `GET probabilities`: float32 [P, C]. */
export function fetchProbabilities(query: CheckpointQuery, signal?: AbortSignal): Promise<BinaryArray> {
  return getArray("probabilities", { ...query }, signal);
}

/** `GET distances`: float32 [P - N], with `X-Max-Distance`. */
export function fetchDistances(query: CheckpointQuery, signal?: AbortSignal): Promise<BinaryArray> {
  return getArray("distances", { ...query }, signal);
}

/** One annotation track's values: int32 category codes or float32 numbers, P of them. */
export type AnnotationValues =
  | { readonly kind: "categorical"; readonly data: Int32Array }
  | { readonly kind: "numeric"; readonly data: Float32Array };

/** `GET annotations?name=`: one track's P values, typed by `X-Annotation-Kind`. */
export async function fetchAnnotation(query: CheckpointQuery, name: string, signal?: AbortSignal): Promise<AnnotationValues> {
  const { buffer, headers, status } = await getBytes("annotations", { ...query, name }, signal);
  const kind = headers.get("X-Annotation-Kind");
  if (buffer.byteLength % 4 !== 0) throw new ApiError(`"annotations" sent ${buffer.byteLength} bytes for track "${name}", not 4-byte values.`, status);
  if (kind === "categorical") return { kind, data: new Int32Array(buffer) };
  if (kind === "numeric") return { kind, data: new Float32Array(buffer) };
  throw new ApiError(`"annotations" sent kind ${JSON.stringify(kind)} for track "${name}", expected categorical or numeric.`, status);
}

/** `GET search`: runs of tokens matching `q` (exact, prefix or regex), at most `limit` listed; a 429 is asked again. */
export function fetchSearch(
  query: CheckpointQuery & { q: string; mode: SearchMode; limit: number },
  signal?: AbortSignal,
): Promise<SearchResponse> {
  return getJson<SearchResponse>("search", { ...query }, signal);
}

/** `GET neighbors`: the `k` nearest points of `point` in the hidden space; a 429 is asked again. */
export function fetchNeighbors(
  query: CheckpointQuery & { point: number; k: number; method: NeighborMethod },
  signal?: AbortSignal,
): Promise<NeighborsResponse> {
  return getJson<NeighborsResponse>("neighbors", { ...query }, signal);
}

/**
 * `POST projection` (JSON body): starts (or joins) the job and answers its status; `retry`
 * restarts a failed one. A 429 (the server's job queue is full) carries `retryAfter`.
 */
export function startProjection(query: ProjectionQuery, retry = false): Promise<ProjectionStatus> {
  return postJson<ProjectionStatus>("projection", retry ? { ...query, retry: true } : { ...query });
}

/** `GET projection`: the job's status, a stored result's, or `none`; never starts a job. */
export function fetchProjectionStatus(query: ProjectionQuery): Promise<ProjectionStatus> {
  return getJson<ProjectionStatus>("projection", query);
}

/** A float32 array route's data, checked to be float32. */
async function floatArray(route: string, params: Params): Promise<BinaryArray & { data: Float32Array }> {
  const array = await getArray(route, params);
  if (!(array.data instanceof Float32Array)) throw new ApiError(`"${route}" sent ${array.dtype}, expected float32.`, 200);
  return { ...array, data: array.data };
}

/** `GET projection/points`: float32 [P, 2] of a finished job. */
export function fetchProjectionPoints(query: ProjectionQuery): Promise<BinaryArray & { data: Float32Array }> {
  return floatArray("projection/points", query);
}

/** `GET projection/provisional`: float32 [P, 2], the checkpoint's PCA, computed at once. */
export function fetchProvisionalLayout(query: ProjectionQuery): Promise<BinaryArray & { data: Float32Array }> {
  return floatArray("projection/provisional", query);
}

/** `POST projection/cancel` (JSON body): cancels a queued or running job (404 when none is left). */
export function cancelProjection(query: ProjectionQuery): Promise<ProjectionStatus> {
  return postJson<ProjectionStatus>("projection/cancel", { ...query });
}

/** `GET states?sequence=`: one sequence's hidden states, [lengths[sequence], H] as float32. */
export function fetchSequenceStates(query: CheckpointQuery, sequence: number, signal?: AbortSignal): Promise<BinaryArray> {
  return getArray("states", { ...query, dtype: "float32", sequence }, signal);
}

/** The brushed range and threshold of a `/units` request (steps within the sequence, end exclusive). */
export interface UnitsQuery {
  sequence: number;
  start: number;
  end: number;
  threshold: number;
  off_before: number;
  off_after: number;
}

/** `GET units`: the units on exactly inside the brushed range (and off in its off extents). */
export function fetchUnits(checkpoint: CheckpointQuery, query: UnitsQuery, signal?: AbortSignal): Promise<UnitsResponse> {
  return getJson<UnitsResponse>("units", { ...checkpoint, ...query }, signal);
}

/** `GET matches`: where else the units are on together, in LSTMVis' rank order. */
export function fetchMatches(
  checkpoint: CheckpointQuery,
  query: { units: readonly number[]; threshold: number; offBefore: number; offAfter: number; limit: number },
  signal?: AbortSignal,
): Promise<MatchesResponse> {
  const { units, threshold, offBefore, offAfter, limit } = query;
  return getJson<MatchesResponse>("matches", { ...checkpoint, units: units.join(","), threshold, off_before: offBefore, off_after: offAfter, limit }, signal);
}

/** `GET export`: a checkpoint's whole layout with its point metadata as a CSV or NPZ file (a 429 is asked again). */
export async function fetchLayoutExport(query: ProjectionQuery, format: "csv" | "npz"): Promise<Blob> {
  const { buffer, headers } = await getBytes("export", { ...query, format });
  return new Blob([buffer], { type: headers.get("Content-Type") ?? "application/octet-stream" });
}

/** `GET compare`: checkpoint A (`query`) against B (`b`), of the same probe set (409 when they differ). */
export function fetchCompare(query: CheckpointQuery, b: CheckpointQuery, flipThreshold: number, signal?: AbortSignal): Promise<CompareResponse> {
  return getJson<CompareResponse>("compare", { ...query, run_b: b.run, tag_b: b.tag, step_b: b.step, flip_threshold: flipThreshold }, signal);
}

/** `GET training`: the figures of every checkpoint of a run's layer, for the chart over training. */
export function fetchTraining(query: { run: string; tag: string }, flipThreshold: number, signal?: AbortSignal): Promise<TrainingResponse> {
  return getJson<TrainingResponse>("training", { ...query, flip_threshold: flipThreshold }, signal);
}
