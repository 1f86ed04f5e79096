/**
 * HTTP client for the plugin backend.
 *
 * All URLs are relative: the plugin runs in TensorBoard's entry iframe whose
 * `<base href="plugin/rnn_hidden/">` resolves them to `/data/plugin/rnn_hidden/`,
 * which keeps the frontend independent of TensorBoard's path prefix.
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

/** `GET sequences?run=&tag=&step=`: per-sequence metadata of one checkpoint. */
export interface SequencesResponse {
  num_sequences: number;
  max_length: number;
  state_size: number;
  num_classes: number;
  class_names: string[] | null;
  states_dtype: string;
  has_tokens: boolean;
  has_probabilities: boolean;
  has_labels: boolean;
  lengths: number[];
  labels: number[] | null;
  predictions: number[] | null;
  confidences: number[] | null;
  accuracy: number | null;
  num_steps?: number;
  vocabulary?: string[] | null;
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

/** A failed request; `message` is the backend's `{"error": ...}` text when it sent one. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

type Params = Record<string, string | number>;

/** Builds a relative URL such as `sequences?run=a&tag=b&step=3` (values are URL-encoded). */
export function buildUrl(route: string, params?: Params): string {
  if (!params) return route;
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) query.set(key, String(value));
  return `${route}?${query.toString()}`;
}

function errorMessage(body: unknown): string | null {
  if (typeof body === "object" && body !== null && "error" in body) {
    const { error } = body as { error: unknown };
    if (typeof error === "string" && error) return error;
  }
  return null;
}

/** fetch(), with an unreachable server as an ApiError of status 0 (aborts pass through). */
async function request(route: string, params: Params | undefined, init: RequestInit, signal?: AbortSignal): Promise<Response> {
  if (signal) init.signal = signal;
  try {
    return await fetch(buildUrl(route, params), init);
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    throw new ApiError(`Could not reach the TensorBoard server (${String(err)}).`, 0);
  }
}

async function getJson<T>(route: string, params?: Params, signal?: AbortSignal): Promise<T> {
  return jsonRequest<T>("GET", route, params, signal);
}

/** A request that changes server state (cancelling a projection job): POST, as the route documents. */
export function postJson<T>(route: string, params?: Params, signal?: AbortSignal): Promise<T> {
  return jsonRequest<T>("POST", route, params, signal);
}

async function jsonRequest<T>(method: "GET" | "POST", route: string, params?: Params, signal?: AbortSignal): Promise<T> {
  const response = await request(route, params, { method, headers: { Accept: "application/json" } }, signal);
  let body: unknown = undefined;
  let parsed = true;
  try {
    body = await response.json();
  } catch {
    parsed = false;
  }
  if (!response.ok) {
    const detail = errorMessage(body) ?? (`${response.status} ${response.statusText}`.trim());
    throw new ApiError(detail, response.status);
  }
  if (!parsed) throw new ApiError(`Invalid JSON in the response to "${route}".`, response.status);
  return body as T;
}

export function fetchInfo(signal?: AbortSignal): Promise<InfoResponse> {
  return getJson<InfoResponse>("info", undefined, signal);
}

export function fetchTags(signal?: AbortSignal): Promise<TagsResponse> {
  return getJson<TagsResponse>("tags", undefined, signal);
}

export function fetchSequences(
  run: string,
  tag: string,
  step: number,
  signal?: AbortSignal,
): Promise<SequencesResponse> {
  return getJson<SequencesResponse>("sequences", { run, tag, step }, signal);
}

/** A binary array route's answer: the typed array and the headers that describe it. */
export interface BinaryArray {
  data: Float32Array | Int32Array | Uint16Array;
  dtype: string;
  shape: number[];
  headers: Headers;
}

/** `GET route?params` as raw little-endian array (`X-Array-Shape`, `X-Array-Dtype`). */
export async function getArray(route: string, params: Params, signal?: AbortSignal): Promise<BinaryArray> {
  const response = await request(route, params, {}, signal);
  if (!response.ok) {
    let body: unknown = undefined;
    try {
      body = await response.json();
    } catch {
      // not JSON: the status says enough
    }
    throw new ApiError(errorMessage(body) ?? `${response.status} ${response.statusText}`.trim(), response.status);
  }
  const buffer = await response.arrayBuffer();
  const dtype = response.headers.get("X-Array-Dtype") ?? "float32";
  const shape = (response.headers.get("X-Array-Shape") ?? "")
    .split(",")
    .filter((d) => d !== "")
    .map(Number);
  let data: Float32Array | Int32Array | Uint16Array;
  if (dtype === "float32") data = new Float32Array(buffer);
  else if (dtype === "int32") data = new Int32Array(buffer);
  else if (dtype === "float16") data = new Uint16Array(buffer);
  else throw new ApiError(`Unexpected array type ${dtype} from "${route}".`, response.status);
  return { data, dtype, shape, headers: response.headers };
}

export { getJson };
